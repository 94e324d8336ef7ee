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

  if info.loop then
    return L.message("Continue writes after the item's end, but this item loops its source: notes written there " ..
                     "would never play. To continue it, " .. L.LOOP_HINT)
  end

  local prompt, bars = L.ask_prompt_and_count("MIDI-LLM: Continue selected item", "prompt_continue",
    "Bars to add", "bars", "Bars")
  if not prompt then return end

  local start_beat = info.length
  local end_beat = L.qn_after_bars(info.end_qn, bars) - info.origin_qn  -- REAPER's measures: meter changes count
  local notes, programs = L.view_notes(info, options.instrument)
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
    local last = math.max(end_beat, tonumber(document["end"]) or end_beat)
    local report
    L.with_undo("Continue", function()
      report = L.write_result({ take = take, origin_qn = origin_qn, replaced = {}, notes = L.result_notes(document),
                                plan = L.channel_plan(notes, options.instrument, programs),
                                prepare = function() r.MIDI_SetItemExtents(item, origin_qn, origin_qn + last) end })
      r.UpdateItemInProject(item)
    end)
    if report.empty then
      L.message("Continue: the model wrote no notes, so the item was left as it was. Try again, or another prompt.")
    end
  end })
end

main()
