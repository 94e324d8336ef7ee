-- @description MIDI-LLM - Accompany selected item
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   The selected MIDI item's notes are the given part: MIDI-LLM writes the
--   other instruments around them, each into a new item on a new track named
--   after the instrument, under the item's track. The item itself is not touched.
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")
local r = reaper

local function main()
  local info, problem = L.midi_item(L.selected_item())
  if not info then return L.message(problem) end
  local options = L.track_options(info.track)
  local notes = L.heard_notes(info, options.instrument)  -- a looped item: every repetition it plays
  local given = L.notes_json(notes, info.length)
  if #given == 0 then return L.message("The selected item has no notes to accompany.") end

  local answers = L.ask("MIDI-LLM: Accompany selected item", {
    { "Prompt (optional)", L.get("prompt_accompany") },
    { "Instruments to add (e.g. bass;drums or 33;128; empty: any)", L.get("accompany_instruments") },
  })
  if not answers then return end
  local prompt, instruments = answers[1], answers[2]:gsub("[;%s]+", ","):gsub("^,+", ""):gsub(",+$", "")
  L.set("prompt_accompany", prompt)
  L.set("accompany_instruments", instruments)

  local input = L.song(info.origin_qn, info.end_qn)
  input.notes = given
  local flags = { "--start-beat", "0", "--end-beat", L.num(info.length) }
  if prompt ~= "" then flags[#flags + 1] = "--prompt" flags[#flags + 1] = prompt end
  if instruments ~= "" then flags[#flags + 1] = "--instruments" flags[#flags + 1] = instruments end
  L.model_flags(flags)

  local source_track, origin_qn, pos, len = info.track, info.origin_qn, info.pos, info.len
  L.request({ action = "accompany", title = "Accompany", input = input, flags = flags, on_done = function(document)
    if not L.valid(source_track, "MediaTrack*") then
      return L.message("The track was deleted while MIDI-LLM was writing.")
    end
    local groups, order = {}, {}
    for _, note in ipairs(L.result_notes(document)) do
      local instrument = note.instrument or 0
      if not groups[instrument] then groups[instrument] = {} order[#order + 1] = instrument end
      table.insert(groups[instrument], note)
    end
    if #order == 0 then return L.message("Accompany: the model wrote no notes. Try again, or another prompt.") end
    table.sort(order)
    L.with_undo("Accompany", function()
      local index = math.floor(r.GetMediaTrackInfo_Value(source_track, "IP_TRACKNUMBER"))
      local created = {}
      for k, instrument in ipairs(order) do
        r.InsertTrackAtIndex(index + k - 1, true)
        local track = r.GetTrack(0, index + k - 1)
        r.GetSetMediaTrackInfo_String(track, "P_NAME", L.track_label(instrument), true)
        local item = r.CreateNewMIDIItemInProj(track, pos, pos + len)
        local take = r.GetActiveTake(item)
        L.set_take_name(take, "MIDI-LLM: " .. L.instrument_name(instrument))
        L.write_result({ take = take, origin_qn = origin_qn, replaced = {}, notes = groups[instrument],
                         plan = L.channel_plan({}, instrument, {}), program_at_zero = true })
        created[#created + 1] = item
      end
      r.SelectAllMediaItems(0, false)
      for _, item in ipairs(created) do r.SetMediaItemSelected(item, true) end
    end)
  end })
end

main()
