-- @description MIDI-LLM - Generate
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   Writes a new MIDI item on the selected track over the time selection (or
--   N bars at the edit cursor) from a text prompt, with the MIDI-LLM daemon.
--   Needs the midi-llm-bridge daemon running (`make run`); see "MIDI-LLM - Settings".
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")
local r = reaper

local function main()
  local track = L.target_track()
  if not track then return L.message("Select a track first: the new item goes on the selected track.") end
  local options = L.track_options(track)
  if not options.allowed then return L.message(L.not_allowed_message(track)) end

  local ts, te = r.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  local has_selection = te > ts
  local answers = L.ask("MIDI-LLM: Generate", {
    { "Prompt (describe the music)", L.get("prompt_generate") },
    { has_selection and "Bars (unused: time selection)" or "Bars at the edit cursor", L.get("bars") },
  })
  if not answers then return end
  local prompt = answers[1]
  L.set("prompt_generate", prompt)

  local start_time, end_time
  if has_selection then
    start_time, end_time = ts, te
  else
    local bars = tonumber(answers[2])
    if not bars or bars < 1 or bars ~= math.floor(bars) then
      return L.message("Bars must be a whole number of at least 1 (got \"" .. answers[2] .. "\").")
    end
    L.set("bars", bars)
    start_time = r.GetCursorPosition()
    end_time = L.qn_to_time(L.qn_after_bars(L.time_to_qn(start_time), bars))  -- REAPER's measures
  end

  local origin_qn = L.time_to_qn(start_time)
  local span = L.time_to_qn(end_time) - origin_qn
  local input = L.song(origin_qn, origin_qn + span)
  input.notes = L.array({})
  local flags = { "--start-beat", "0", "--end-beat", L.num(span) }
  if prompt ~= "" then flags[#flags + 1] = "--prompt" flags[#flags + 1] = prompt end
  L.instrument_flags(flags, options, nil)
  L.model_flags(flags)

  L.request({ action = "generate", title = "Generate", input = input, flags = flags, on_done = function(document)
    if not L.valid(track, "MediaTrack*") then return L.message("The track was deleted while MIDI-LLM was writing.") end
    local notes = L.result_notes(document)
    if #notes == 0 then
      return L.message("Generate: the model wrote no notes, so no item was added. Try again, or another prompt.")
    end
    L.with_undo("Generate", function()
      local item = r.CreateNewMIDIItemInProj(track, start_time, end_time)
      local take = r.GetActiveTake(item)
      L.set_take_name(take, "MIDI-LLM: " .. (prompt ~= "" and prompt or "generated"))
      L.write_result({ take = take, origin_qn = origin_qn, replaced = {}, notes = notes,
                       plan = L.channel_plan({}, options.instrument, {}), program_at_zero = true })
      L.select_only(item)
    end)
  end })
end

main()
