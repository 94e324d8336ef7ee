-- @description MIDI-LLM - Continue selected item
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   Extends the selected MIDI item by N bars and lets MIDI-LLM write them,
--   following the item's notes. The item's own notes stay as they are.
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")
local r = reaper

local function main()
  local info, options = L.item_for_action()
  if not info then return end

  local prompt, bars = L.ask_prompt_and_count("MIDI-LLM: Continue selected item", "prompt_continue",
    "Bars to add", "bars", "Bars")
  if not prompt then return end

  local start_beat = info.length
  local end_beat = start_beat + bars * L.bar_qn_at(info.pos + info.len)
  local notes, programs = L.read_notes(info.take, info.origin_qn, options.instrument)
  local given = L.notes_json(notes, info.length)
  local input = L.song(info.origin_qn, info.origin_qn + end_beat)
  input.notes = given
  local flags = { "--start-beat", L.num(start_beat), "--end-beat", L.num(end_beat) }
  if prompt ~= "" then flags[#flags + 1] = "--prompt" flags[#flags + 1] = prompt end
  L.instrument_flags(flags, options, notes)
  L.model_flags(flags)

  local item, take, origin_qn = info.item, info.take, info.origin_qn
  L.request({ action = "continue", title = "Continue", input = input, flags = flags, on_done = function(document)
    if not (L.valid(item, "MediaItem*") and L.valid(take, "MediaItem_Take*")) then
      return L.message("The item was deleted while MIDI-LLM was writing.")
    end
    local new_notes = L.result_notes(document)
    local last = math.max(end_beat, tonumber(document["end"]) or end_beat)
    L.with_undo("Continue", function()
      r.MIDI_SetItemExtents(item, origin_qn, origin_qn + last)
      local kept = L.read_notes(take, origin_qn, 0)
      local plan = L.channel_plan(notes, options.instrument, programs)
      L.insert_notes(take, L.place_notes(take, new_notes, origin_qn, plan, kept), plan, false)
      r.MIDI_Sort(take)
      r.UpdateItemInProject(item)
    end)
    if #new_notes == 0 then L.console("Continue: the model wrote no notes (the item was extended).") end
  end })
end

main()
