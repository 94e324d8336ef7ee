-- @description MIDI-LLM - Variations as takes
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   Adds N MIDI-LLM variations of the selected MIDI item as new takes (flip
--   takes to compare; the original take is kept). With a time selection over
--   the item, each take rewrites only that part (as Infill); without one, each
--   take is a new version of the whole item with the same instruments.
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")
local r = reaper

local function main()
  local info, options = L.item_for_action()
  if not info then return end
  local from_ppq, to_ppq = L.selection_in_item(info)
  local infill = from_ppq ~= nil

  local prompt, count = L.ask_prompt_and_count("MIDI-LLM: Variations as takes", "prompt_variations",
    "How many variations", "variations", "The number of variations")
  if not prompt then return end

  local item, source, origin_qn = info.item, info.take, info.origin_qn
  local notes, programs = L.read_notes(source, origin_qn, options.instrument)
  local input = L.song(origin_qn, info.end_qn)
  local flags = { "--variations", tostring(count) }
  local action
  if infill then
    action = "infill"
    input.notes = L.notes_json(notes, info.length)
    flags[#flags + 1] = "--start-beat"
    flags[#flags + 1] = L.num(L.beats_of_ppq(source, from_ppq, origin_qn))
    flags[#flags + 1] = "--end-beat"
    flags[#flags + 1] = L.num(L.beats_of_ppq(source, to_ppq, origin_qn))
  else
    action = "generate"
    input.notes = L.array({})
    flags[#flags + 1] = "--start-beat"
    flags[#flags + 1] = "0"
    flags[#flags + 1] = "--end-beat"
    flags[#flags + 1] = L.num(info.length)
  end
  if prompt ~= "" then flags[#flags + 1] = "--prompt" flags[#flags + 1] = prompt end
  L.instrument_flags(flags, options, notes)
  L.model_flags(flags)

  L.request({ action = action, title = "Variations", input = input, flags = flags, on_done = function(document)
    if not (L.valid(item, "MediaItem*") and L.valid(source, "MediaItem_Take*")) then
      return L.message("The item was deleted while MIDI-LLM was writing.")
    end
    local variations = document.variations or {}
    L.with_undo("Variations as takes", function()
      local first
      for i, variation in ipairs(variations) do
        local take = L.duplicate_take(item, source)
        if not take then error("could not add a take to the item") end
        if infill then L.delete_notes_in(take, from_ppq, to_ppq) else L.delete_all_notes(take) end
        local kept = L.read_notes(take, origin_qn, 0)
        local plan = L.channel_plan(notes, options.instrument, programs)
        L.insert_notes(take, L.place_notes(take, variation.notes or {}, origin_qn, plan, kept), plan, not infill)
        r.MIDI_Sort(take)
        L.set_take_name(take, string.format("MIDI-LLM %d/%d%s", i, #variations,
                                            prompt ~= "" and (": " .. prompt) or ""))
        first = first or take
      end
      if first then r.SetActiveTake(first) end
      r.UpdateItemInProject(item)
    end)
    L.console(string.format("Variations: %d takes added (seed %s); flip takes to compare.", #variations,
                            tostring(document.seed)))
  end })
end

main()
