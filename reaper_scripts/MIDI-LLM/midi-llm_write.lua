-- @noindex
--[[
MIDI-LLM for REAPER: THE INVARIANT's home: the only code that writes notes into a take, and the
undo step that takes a failed write back.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

---------------------------------------------------------------------------
-- THE INVARIANT: the user's material is never lost.
--
-- After any outcome of a request (done, error, cancel, daemon down, empty
-- result) every MIDI event of a take that the request did not replace is
-- bit-identical: each note (start and end tick, pitch, velocity, channel,
-- muted and selected flags), each CC, pitch bend, pedal and program change
-- (tick, message, flags, shape), each text and sysex event. Only the notes
-- that were sent as "replaced" may be removed, and only when a result that
-- replaces them is written. Writing where material already exists adds notes
-- (or makes a new take or item), it never deletes.
--
-- M.write_result is the only function that writes notes into a take, and it
-- enforces this: nothing is removed for an empty result; the replaced notes
-- are found again by value, so a note the user changed while the model wrote
-- is no longer one of them and stays; afterwards the take is read back and
-- compared with what it held, and any difference in a kept event raises an
-- error, which M.with_undo answers by undoing the whole step.
---------------------------------------------------------------------------

local function number_key(x) return string.format("%.17g", x) end

local function note_key(selected, muted, startppq, endppq, chan, pitch, vel)
  return table.concat({ "note", number_key(startppq), number_key(endppq), chan, pitch, vel,
                        tostring(muted and true or false), tostring(selected and true or false) }, "|")
end

-- Every event of the take as a count per exact value.
function M.take_events(take)
  local events = {}
  local function add(key) events[key] = (events[key] or 0) + 1 end
  local _, notes, ccs, texts = r.MIDI_CountEvts(take)
  for i = 0, (notes or 0) - 1 do
    local ok, selected, muted, startppq, endppq, chan, pitch, vel = r.MIDI_GetNote(take, i)
    if ok then add(note_key(selected, muted, startppq, endppq, chan, pitch, vel)) end
  end
  for i = 0, (ccs or 0) - 1 do
    local ok, selected, muted, ppqpos, chanmsg, chan, msg2, msg3 = r.MIDI_GetCC(take, i)
    local shape, tension = 0, 0
    if r.MIDI_GetCCShape then
      local _, s, t = r.MIDI_GetCCShape(take, i)
      shape, tension = s or 0, t or 0
    end
    if ok then
      add(table.concat({ "cc", number_key(ppqpos), chanmsg, chan, msg2, msg3, tostring(muted), tostring(selected),
                         shape, number_key(tension) }, "|"))
    end
  end
  for i = 0, (texts or 0) - 1 do
    local ok, selected, muted, ppqpos, kind, msg = r.MIDI_GetTextSysexEvt(take, i, false, false, 0, 0, "")
    if ok then
      add(table.concat({ "text", number_key(ppqpos), kind, tostring(muted), tostring(selected), msg }, "|"))
    end
  end
  return events
end

-- The kept events that are no longer there exactly as they were (text for a message), or nil.
local function lost_events(before, removed, after)
  local lost = {}
  for key, count in pairs(before) do
    local kept = count - (removed[key] or 0)
    if (after[key] or 0) < kept then lost[#lost + 1] = key:gsub("|", " ") end
  end
  if #lost == 0 then return nil end
  table.sort(lost)
  return table.concat(lost, "\n", 1, math.min(#lost, 5)) .. (#lost > 5 and "\n..." or "")
end

M.INVARIANT_ERROR = "MIDI-LLM stopped before changing your material"

-- Write a result into a take. spec = {take, origin_qn, shift (ticks of a looped
-- item's repetition), max_ppq (its source length), replaced = the note records
-- (M.read_notes) sent as replaced, notes = the result's notes, plan
-- (M.channel_plan), program_at_zero, prepare = optional function run before the
-- first change (inside the same check)}. Returns {added, removed, missing
-- (replaced notes the user changed meanwhile, kept), empty}.
function M.write_result(spec)
  local take = spec.take
  if #(spec.notes or {}) == 0 then return { added = 0, removed = 0, missing = 0, empty = true } end
  local before = M.take_events(take)
  M.changed = true
  if spec.prepare then spec.prepare() end
  local wanted, missing = {}, 0
  for _, n in ipairs(spec.replaced or {}) do
    local key = note_key(n.selected, n.muted, n.startppq, n.endppq, n.chan, n.pitch, n.vel)
    wanted[key] = (wanted[key] or 0) + 1
    missing = missing + 1
  end
  local removed, removed_count = {}, 0
  local _, count = r.MIDI_CountEvts(take)
  for i = (count or 0) - 1, 0, -1 do  -- from the highest index down: the lower ones keep their index
    local ok, selected, muted, startppq, endppq, chan, pitch, vel = r.MIDI_GetNote(take, i)
    local key = ok and note_key(selected, muted, startppq, endppq, chan, pitch, vel)
    if key and (wanted[key] or 0) > 0 then
      r.MIDI_DeleteNote(take, i)
      wanted[key] = wanted[key] - 1
      removed[key] = (removed[key] or 0) + 1
      removed_count, missing = removed_count + 1, missing - 1
    end
  end
  local kept = M.read_notes(take, spec.origin_qn, 0)
  local placed = M.place_notes(take, spec.notes, spec.origin_qn, spec.plan, kept, spec.shift, spec.max_ppq)
  local first = {}
  for _, p in ipairs(placed) do
    r.MIDI_InsertNote(take, false, p.muted, p.startppq, p.endppq, p.chan, p.pitch, p.vel, true)
    if first[p.chan] == nil or p.startppq < first[p.chan] then first[p.chan] = p.startppq end
  end
  for chan, program in pairs(spec.plan.new_programs) do
    if program ~= M.DRUMS and (first[chan] or spec.program_at_zero) then
      r.MIDI_InsertCC(take, false, false, spec.program_at_zero and 0 or first[chan], 0xC0, chan, program, 0)
    end
  end
  r.MIDI_Sort(take)
  local lost = lost_events(before, removed, M.take_events(take))
  if lost then
    error(M.INVARIANT_ERROR .. ": these events would have changed:\n" .. lost, 0)
  end
  return { added = #placed, removed = removed_count, missing = missing, empty = #placed == 0 }
end

-- The replaced notes of a span: those starting in [from_ppq, to_ppq) that are not muted (the daemon keeps
-- muted notes as they are).
function M.notes_starting_in(notes, from_ppq, to_ppq)
  local out, seen = {}, {}
  for _, n in ipairs(notes) do
    if not n.muted and not seen[n.index] and n.startppq >= from_ppq and n.startppq < to_ppq then
      out[#out + 1] = n
      seen[n.index] = true
    end
  end
  return out
end

-- What a write did, for the console: the notes the user changed meanwhile are kept and said so.
function M.report_write(title, report)
  if report.missing > 0 then
    M.console(string.format("%s: %d note(s) you changed while MIDI-LLM was writing were kept as you left them.",
                            title, report.missing))
  end
end

---------------------------------------------------------------------------
-- Undo
---------------------------------------------------------------------------

-- One undo step. When fn fails after it changed something (M.changed, set by
-- M.write_result), the step is undone at once, so an error never leaves the
-- project half written (see THE INVARIANT).
function M.with_undo(name, fn)
  M.changed = false
  r.Undo_BeginBlock2(0)
  r.PreventUIRefresh(1)
  local ok, err = xpcall(fn, function(e)
    if type(e) == "string" and e:find(M.INVARIANT_ERROR, 1, true) then return e end
    return debug.traceback(e)
  end)
  r.PreventUIRefresh(-1)
  r.Undo_EndBlock2(0, "MIDI-LLM: " .. name, -1)
  if not ok and M.changed and r.Undo_CanUndo2 and r.Undo_CanUndo2(0) == "MIDI-LLM: " .. name then
    r.Undo_DoUndo2(0)
    err = tostring(err) .. "\n\nThe step was undone: the project is as it was."
  end
  r.UpdateArrange()
  if not ok then error(err, 0) end
end
