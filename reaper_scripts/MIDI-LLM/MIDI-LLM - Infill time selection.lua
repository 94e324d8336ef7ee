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

  local take, item, origin_qn = info.take, info.item, info.origin_qn
  -- The span in the same terms as the notes (ticks -> beats), so "starts inside" means the same here and there.
  local start_beat = L.beats_of_ppq(take, from_ppq, origin_qn)
  local end_beat = L.beats_of_ppq(take, to_ppq, origin_qn)
  local notes, programs = L.read_notes(take, origin_qn, options.instrument)
  local input = L.song(origin_qn, info.end_qn)
  input.notes = L.notes_json(notes, info.length)
  local flags = { "--start-beat", L.num(start_beat), "--end-beat", L.num(end_beat) }
  if prompt ~= "" then flags[#flags + 1] = "--prompt" flags[#flags + 1] = prompt end
  L.instrument_flags(flags, options, notes)
  L.model_flags(flags)

  L.request({ action = "infill", title = "Infill", input = input, flags = flags, on_done = function(document)
    if not (L.valid(item, "MediaItem*") and L.valid(take, "MediaItem_Take*")) then
      return L.message("The item was deleted while MIDI-LLM was writing.")
    end
    local new_notes = L.result_notes(document)
    local deleted
    L.with_undo("Infill", function()
      deleted = L.delete_notes_in(take, from_ppq, to_ppq)
      local kept = L.read_notes(take, origin_qn, 0)
      local plan = L.channel_plan(notes, options.instrument, programs)
      L.insert_notes(take, L.place_notes(take, new_notes, origin_qn, plan, kept), plan, false)
      r.MIDI_Sort(take)
    end)
    if document.removed and deleted ~= document.removed then
      L.console(string.format("Infill: %d notes replaced here, the daemon counted %d (the item changed meanwhile?).",
                              deleted, document.removed))
    end
  end })
end

main()
