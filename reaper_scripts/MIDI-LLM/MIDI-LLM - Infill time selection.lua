-- @description MIDI-LLM - Infill time selection
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   Rewrites the time selection inside the selected MIDI item around the notes
--   before and after it: only the notes starting inside the selection are
--   replaced (muted ones stay); every other note stays exactly as it was.
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")
local r = reaper

local function main()
  local info, options = L.item_for_action()
  if not info then return end
  local from_ppq, to_ppq = L.selection_in_item(info)
  if not from_ppq then
    return L.message("Make a time selection over the part of the selected item to rewrite.")
  end

  local answers = L.ask("MIDI-LLM: Infill time selection", { { "Prompt (optional)", L.get("prompt_infill") } })
  if not answers then return end
  local prompt = answers[1]
  L.set("prompt_infill", prompt)

  -- A looped item is rewritten in its source, where the selection falls in the loop: every repetition plays it.
  local view, problem = L.view_for_span(info, from_ppq, to_ppq)
  if not view then return L.message(problem) end
  local take, item, origin_qn = view.take, view.item, view.origin_qn
  -- The span in the same terms as the notes (ticks -> beats), so "starts inside" means the same here and there.
  local start_beat = L.beats_of_ppq(take, view.from_ppq + view.shift, origin_qn)
  local end_beat = L.beats_of_ppq(take, view.to_ppq + view.shift, origin_qn)
  local notes, programs = L.view_notes(view, options.instrument)
  local replaced = L.notes_starting_in(notes, view.from_ppq, view.to_ppq)
  local input = L.song(origin_qn, view.end_qn)
  input.notes = L.notes_json(notes, view.length)
  local flags = { "--start-beat", L.num(start_beat), "--end-beat", L.num(end_beat) }
  if prompt ~= "" then flags[#flags + 1] = "--prompt" flags[#flags + 1] = prompt end
  L.instrument_flags(flags, options, notes)
  L.model_flags(flags)

  L.request({ action = "infill", title = "Infill", input = input, flags = flags, on_done = function(document)
    if not (L.valid(item, "MediaItem*") and L.valid(take, "MediaItem_Take*")) then
      return L.message("The item was deleted while MIDI-LLM was writing.")
    end
    local report
    L.with_undo("Infill", function()
      report = L.write_result({ take = take, origin_qn = origin_qn, shift = view.shift, max_ppq = view.max_ppq,
                                replaced = replaced, notes = L.result_notes(document),
                                plan = L.channel_plan(notes, options.instrument, programs) })
    end)
    if report.empty then
      return L.message("Infill: the model wrote no notes, so nothing was replaced: the item is as it was. " ..
                       "Try again, or another prompt.")
    end
    L.report_write("Infill", report)
    if document.removed and report.removed + report.missing ~= document.removed then
      L.console(string.format("Infill: %d notes replaced here, the daemon counted %d.", report.removed,
                              document.removed))
    end
  end })
end

main()
