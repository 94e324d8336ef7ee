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
  if not infill then
    if info.loop then
      return L.message("This item loops its source, so a new version of the whole item would not fit in it. " ..
                       "Make a time selection inside one repetition (each take then rewrites that part of the " ..
                       "source), or " .. L.LOOP_HINT)
    end
    -- The whole item: the span is the ticks the item plays.
    from_ppq = r.MIDI_GetPPQPosFromProjTime(info.take, info.pos)
    to_ppq = r.MIDI_GetPPQPosFromProjTime(info.take, info.pos + info.len)
  end
  local view, problem = L.view_for_span(info, from_ppq, to_ppq)
  if not view then return L.message(problem) end

  local prompt, count = L.ask_prompt_and_count("MIDI-LLM: Variations as takes", "prompt_variations",
    "How many variations", "variations", "The number of variations")
  if not prompt then return end

  local item, source, origin_qn = view.item, view.take, view.origin_qn
  local notes, programs = L.view_notes(view, options.instrument)
  local replaced = L.notes_starting_in(notes, view.from_ppq, view.to_ppq)
  local input = L.song(origin_qn, view.end_qn)
  local flags = { "--variations", tostring(count) }
  local action
  if infill then
    action = "infill"
    input.notes = L.notes_json(notes, view.length)
    flags[#flags + 1] = "--start-beat"
    flags[#flags + 1] = L.num(L.beats_of_ppq(source, view.from_ppq + view.shift, origin_qn))
    flags[#flags + 1] = "--end-beat"
    flags[#flags + 1] = L.num(L.beats_of_ppq(source, view.to_ppq + view.shift, origin_qn))
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
    local variations = {}
    for _, variation in ipairs(document.variations or {}) do
      if #(variation.notes or {}) > 0 then variations[#variations + 1] = variation end
    end
    if #variations == 0 then
      return L.message("Variations: the model wrote no notes, so no take was added. Try again, or another prompt.")
    end
    -- Each variation is a new take, a copy of the item's take with the replaced notes rewritten: the original
    -- take stays as it is.
    L.with_undo("Variations as takes", function()
      local first
      for i, variation in ipairs(variations) do
        local take = L.duplicate_take(item, source)
        if not take then error("could not add a take to the item") end
        L.write_result({ take = take, origin_qn = origin_qn, shift = view.shift, max_ppq = view.max_ppq,
                         replaced = replaced, notes = variation.notes,
                         plan = L.channel_plan(notes, options.instrument, programs), program_at_zero = not infill })
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
