-- @noindex
--[[
MIDI-LLM for REAPER: where new notes go: their channel (and program changes) and their ticks,
with overlaps against the notes that stay resolved without touching those.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...

-- Which channel new notes get. A track with an instrument: its notes' usual
-- channel. Otherwise each instrument keeps the channel it already has in the
-- take; a new one gets the client's channel if it is free, else a free one
-- (drums always on channel 10). new_programs lists the channels that need a
-- program change.
function M.channel_plan(given, fixed_instrument, programs)
  local plan = { new_programs = {} }
  local by_instrument, used, count = {}, {}, {}
  for _, n in ipairs(given) do
    used[n.chan] = true
    count[n.chan] = (count[n.chan] or 0) + 1
    if by_instrument[n.instrument] == nil then by_instrument[n.instrument] = n.chan end
  end
  if fixed_instrument ~= nil then
    local best, best_count = nil, -1
    for chan, k in pairs(count) do
      if k > best_count or (k == best_count and chan < best) then best, best_count = chan, k end
    end
    local chan = best or ((fixed_instrument == M.DRUMS) and 9 or 0)
    if best == nil and fixed_instrument ~= M.DRUMS and not (programs and programs[chan]) then
      plan.new_programs[chan] = fixed_instrument
    end
    function plan.channel() return chan end
    return plan
  end
  function plan.channel(note)
    local instrument = note.instrument or 0
    local chan = by_instrument[instrument]
    if chan then return chan end
    if instrument == M.DRUMS then
      chan = 9
    else
      chan = note.channel
      if type(chan) ~= "number" or chan < 0 or chan > 15 or chan == 9 or used[chan] then
        chan = nil
        for k = 0, 15 do
          if k ~= 9 and not used[k] then chan = k break end
        end
        chan = chan or 0
      end
      if not (programs and programs[chan]) then plan.new_programs[chan] = instrument end
    end
    by_instrument[instrument], used[chan] = chan, true
    return chan
  end
  return plan
end

-- Ticks for the new notes, with overlaps of the same pitch and channel
-- resolved against the notes that stay (those are never touched: a new note
-- that would start while one sounds is dropped, one that would run into the
-- next is shortened) and among themselves.
-- shift: ticks to take off (a looped item's repetition); max_ppq: the source's
-- length in a looped item (a note cannot sound past it).
function M.place_notes(take, notes, origin_qn, plan, kept, shift, max_ppq)
  local placed = {}
  shift = shift or 0
  for _, n in ipairs(notes) do
    local s = M.ppq_of_beats(take, n.start, origin_qn) - shift
    local e = M.ppq_of_beats(take, n.start + (n.duration or 0), origin_qn) - shift
    if max_ppq then e = math.min(e, math.floor(max_ppq)) end
    if e <= s then e = s + 1 end
    local vel = math.max(1, math.min(127, math.floor((n.velocity or 100) + 0.5)))
    placed[#placed + 1] = { startppq = s, endppq = e, chan = plan.channel(n), pitch = n.pitch, vel = vel,
                            muted = (n.mute or 0) ~= 0 }
  end
  table.sort(placed, function(a, b)
    if a.startppq ~= b.startppq then return a.startppq < b.startppq end
    return a.pitch < b.pitch
  end)
  local out, last = {}, {}
  for _, p in ipairs(placed) do
    local keep = not (max_ppq and (p.startppq < 0 or p.startppq >= max_ppq))
    for _, k in ipairs(kept or {}) do
      if k.chan == p.chan and k.pitch == p.pitch then
        if k.startppq <= p.startppq and p.startppq < k.endppq then keep = false break end
        if p.startppq < k.startppq and k.startppq < p.endppq then p.endppq = k.startppq end
      end
    end
    local key = p.chan * 128 + p.pitch
    local previous = last[key]
    if keep and previous and previous.endppq > p.startppq then
      if previous.startppq == p.startppq then keep = false else previous.endppq = p.startppq end
    end
    if keep then
      out[#out + 1] = p
      last[key] = p
    end
  end
  return out
end
