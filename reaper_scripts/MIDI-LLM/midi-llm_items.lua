-- @noindex
--[[
MIDI-LLM for REAPER: items, takes and notes: which item an action works on (a looped item's
repetition included), its notes as the client's JSON, the time selection in it.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

-- The first selected item (CountMediaItems/IsMediaItemSelected, as the API docs advise).
function M.selected_item()
  for i = 0, r.CountMediaItems(0) - 1 do
    local item = r.GetMediaItem(0, i)
    if r.IsMediaItemSelected(item) then return item end
  end
  return nil
end

function M.selected_items()
  local items = {}
  for i = 0, r.CountMediaItems(0) - 1 do
    local item = r.GetMediaItem(0, i)
    if r.IsMediaItemSelected(item) then items[#items + 1] = item end
  end
  return items
end

-- Ticks per source quarter note (REAPER's conversions include the take's playrate).
local function take_ticks_per_source_qn(take, at_qn)
  local rate = r.GetMediaItemTakeInfo_Value and r.GetMediaItemTakeInfo_Value(take, "D_PLAYRATE") or 1
  if not rate or rate <= 0 then rate = 1 end
  return (r.MIDI_GetPPQPosFromProjQN(take, at_qn + 1) - r.MIDI_GetPPQPosFromProjQN(take, at_qn)) / rate
end

-- The length of the take's source in ticks, or nil when REAPER does not say.
function M.source_length_ppq(take, at_qn)
  if not (r.GetMediaItemTake_Source and r.GetMediaSourceLength) then return nil end
  local length, is_qn = r.GetMediaSourceLength(r.GetMediaItemTake_Source(take))
  if not length or length <= 0 then return nil end
  if is_qn then return length * take_ticks_per_source_qn(take, at_qn) end
  local zero = r.MIDI_GetProjTimeFromPPQPos(take, 0)
  return r.MIDI_GetPPQPosFromProjTime(take, zero + length)
end

-- How the item plays its source. REAPER's tick conversions are linear: in a
-- looped item (B_LOOPSRC) the source's tick p also sounds at p + k * length
-- for each repetition k, and a tick at or past the source's length is never
-- heard. nil when the item plays its source once (no repetition inside it).
function M.item_loop(item, take, pos, len)
  if r.GetMediaItemInfo_Value(item, "B_LOOPSRC") < 0.5 then return nil end
  local start_qn = M.time_to_qn(pos)
  local length = M.source_length_ppq(take, start_qn)
  if not length then return nil end
  local first = r.MIDI_GetPPQPosFromProjTime(take, pos)
  local last = r.MIDI_GetPPQPosFromProjTime(take, pos + len)
  if first > -0.5 and last < length + 0.5 then return nil end
  return { length = length, first_ppq = first, last_ppq = last }
end

-- {item, take, track, pos, len, origin_qn, end_qn, length (beats), loop} of a MIDI item, or nil and a message.
function M.midi_item(item)
  if not item then return nil, "Select a MIDI item first." end
  local take = r.GetActiveTake(item)
  if not take or not r.TakeIsMIDI(take) then return nil, "The selected item's active take is not MIDI." end
  local pos = r.GetMediaItemInfo_Value(item, "D_POSITION")
  local len = r.GetMediaItemInfo_Value(item, "D_LENGTH")
  local origin_qn = M.time_to_qn(pos)
  local end_qn = M.time_to_qn(pos + len)
  return { item = item, take = take, track = r.GetMediaItem_Track(item), pos = pos, len = len,
           origin_qn = origin_qn, end_qn = end_qn, length = end_qn - origin_qn,
           loop = M.item_loop(item, take, pos, len), shift = 0 }
end

M.LOOP_HINT = "turn off \"Loop source\" in the item's properties to work on the item as one long part."

-- The item as one repetition of its looped source, the one holding ticks
-- [from_ppq, to_ppq) of the take: writing there changes every repetition,
-- which is what the user hears. nil and a message when the range crosses the
-- loop point (it would fall in two places of the source).
function M.loop_view(info, from_ppq, to_ppq)
  local length = info.loop.length
  local k = math.floor(from_ppq / length + 1e-9)
  if to_ppq > (k + 1) * length + 0.5 then
    return nil, "The time selection crosses the loop point of the looped item: its source repeats every " ..
      string.format("%.4g", (r.MIDI_GetProjQNFromPPQPos(info.take, length) - r.MIDI_GetProjQNFromPPQPos(info.take, 0))) ..
      " quarter notes, and a rewrite there would land in two places of the source.\n\n" ..
      "Select a range inside one repetition, or " .. M.LOOP_HINT
  end
  local view = {}
  for key, value in pairs(info) do view[key] = value end
  view.shift = k * length
  view.origin_qn = r.MIDI_GetProjQNFromPPQPos(info.take, view.shift)
  view.end_qn = r.MIDI_GetProjQNFromPPQPos(info.take, view.shift + length)
  view.length = view.end_qn - view.origin_qn
  view.max_ppq = length
  view.from_ppq, view.to_ppq = from_ppq - view.shift, to_ppq - view.shift
  return view
end

-- The view of the item an action that rewrites ticks [from_ppq, to_ppq) works in:
-- the item itself, or (looped) the repetition that holds the range.
function M.view_for_span(info, from_ppq, to_ppq)
  if info.loop then return M.loop_view(info, from_ppq, to_ppq) end
  local view = {}
  for key, value in pairs(info) do view[key] = value end
  view.from_ppq, view.to_ppq = from_ppq, to_ppq
  return view
end

-- First program change per channel in the take.
function M.take_programs(take)
  local programs = {}
  local _, _, cc_count = r.MIDI_CountEvts(take)
  for i = 0, (cc_count or 0) - 1 do
    local ok, _, _, _, chanmsg, chan, msg2 = r.MIDI_GetCC(take, i)
    if ok and chanmsg == 0xC0 and programs[chan] == nil then programs[chan] = msg2 end
  end
  return programs
end

-- Every note of the take with its ticks and its position in beats from the origin.
-- instrument: the track's, else drums on channel 10, else the channel's program change, else 0.
-- shifts: the tick offsets at which the source sounds (default {0}; a looped
-- item's repetitions); a looped source's notes at or past its end never sound.
function M.read_notes(take, origin_qn, track_instrument, shifts, source_length)
  local programs = M.take_programs(take)
  local notes = {}
  local _, count = r.MIDI_CountEvts(take)
  for i = 0, (count or 0) - 1 do
    local ok, selected, muted, startppq, endppq, chan, pitch, vel = r.MIDI_GetNote(take, i)
    if ok and not (source_length and startppq >= source_length) then
      local instrument = track_instrument
      if instrument == nil then instrument = (chan == 9) and M.DRUMS or programs[chan] or 0 end
      for _, shift in ipairs(shifts or { 0 }) do
        local stop_ppq = source_length and math.min(endppq, source_length) or endppq
        local start = M.beats_of_ppq(take, startppq + shift, origin_qn)
        local stop = M.beats_of_ppq(take, stop_ppq + shift, origin_qn)
        notes[#notes + 1] = { index = i, selected = selected, muted = muted, startppq = startppq, endppq = endppq,
                              chan = chan, pitch = pitch, vel = vel, start = start,
                              duration = math.max(0, stop - start), instrument = instrument }
      end
    end
  end
  return notes, programs
end

-- The notes of a view (M.midi_item, M.view_for_span): a looped item's view
-- holds its source once, at the repetition the view is; M.heard_notes holds
-- every repetition the item plays.
function M.view_notes(view, track_instrument)
  local length = view.loop and view.loop.length
  return M.read_notes(view.take, view.origin_qn, track_instrument, { view.shift or 0 }, length)
end

function M.heard_notes(info, track_instrument)
  if not info.loop then return M.view_notes(info, track_instrument) end
  local shifts, length = {}, info.loop.length
  for k = math.floor(info.loop.first_ppq / length), math.floor((info.loop.last_ppq - 1) / length) do
    shifts[#shifts + 1] = k * length
  end
  return M.read_notes(info.take, info.origin_qn, track_instrument, shifts, length)
end

-- The notes the item plays (starting inside it), as the client's JSON notes.
function M.notes_json(notes, length)
  local out = M.array({})
  for _, n in ipairs(notes) do
    if n.start > -1e-9 and n.start < length - 1e-9 then
      out[#out + 1] = { pitch = n.pitch, start = math.max(0, n.start), duration = n.duration, velocity = n.vel,
                        instrument = n.instrument, channel = n.chan, mute = n.muted and 1 or 0 }
    end
  end
  return out
end

function M.instruments_of(notes)
  local seen, list = {}, {}
  for _, n in ipairs(notes) do
    if not seen[n.instrument] and not n.muted then seen[n.instrument] = true list[#list + 1] = n.instrument end
  end
  table.sort(list)
  return list
end

-- A new take of the item, a copy of source_take (Take: Duplicate active take).
function M.duplicate_take(item, source_take)
  local selection = M.selected_items()
  r.SelectAllMediaItems(0, false)
  r.SetMediaItemSelected(item, true)
  r.SetActiveTake(source_take)
  r.Main_OnCommand(40639, 0)  -- Take: Duplicate active take
  local take = r.GetActiveTake(item)
  r.SelectAllMediaItems(0, false)
  for _, other in ipairs(selection) do r.SetMediaItemSelected(other, true) end
  if take == source_take then return nil end
  return take
end

function M.set_take_name(take, name)
  r.GetSetMediaItemTakeInfo_String(take, "P_NAME", name, true)
end


-- Only this item selected (so the next action applies to it).
function M.select_only(item)
  r.SelectAllMediaItems(0, false)
  r.SetMediaItemSelected(item, true)
end

-- The selected track (or the track of the selected item).
function M.target_track()
  local track = r.GetSelectedTrack(0, 0)
  if not track then
    local item = M.selected_item()
    track = item and r.GetMediaItem_Track(item)
  end
  return track or (r.GetLastTouchedTrack and r.GetLastTouchedTrack())
end

-- The part of the time selection inside the item, in ticks of its take: from, to (nil when none).
function M.selection_in_item(info)
  local ts, te = r.GetSet_LoopTimeRange2(0, false, false, 0, 0, false)
  if not ts or te <= ts then return nil end
  local s, e = math.max(ts, info.pos), math.min(te, info.pos + info.len)
  if e <= s then return nil end
  local from_ppq = M.round(r.MIDI_GetPPQPosFromProjTime(info.take, s))
  local to_ppq = M.round(r.MIDI_GetPPQPosFromProjTime(info.take, e))
  if to_ppq <= from_ppq then return nil end
  return from_ppq, to_ppq
end

function M.result_notes(document, index)
  local variation = document.variations and document.variations[index or 1]
  return variation and variation.notes or {}
end

function M.valid(pointer, kind)
  if not pointer then return false end
  if r.ValidatePtr2 then return r.ValidatePtr2(0, pointer, kind) end
  return true
end
