-- @noindex
--[[
MIDI-LLM for REAPER: time: REAPER's tempo map, quarter notes, ticks and measures. Every position
goes through REAPER's own conversions, so what is sent is what REAPER plays.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.PPQ_ROUND = 0.5

function M.qn_to_time(qn) return r.TimeMap2_QNToTime(0, qn) end
function M.time_to_qn(t) return r.TimeMap2_timeToQN(0, t) end

function M.round(x) return math.floor(x + M.PPQ_ROUND) end

-- Beats (quarter notes) from the origin for a tick of this take.
function M.beats_of_ppq(take, ppq, origin_qn)
  return r.MIDI_GetProjQNFromPPQPos(take, ppq) - origin_qn
end

-- The tick of this take for beats from the origin (a whole tick).
function M.ppq_of_beats(take, beats, origin_qn)
  return M.round(r.MIDI_GetPPQPosFromProjQN(take, origin_qn + beats))
end

function M.time_signature_at(time)
  local num, den = r.TimeMap_GetTimeSigAtTime(0, time)
  num, den = math.floor(num or 4), math.floor(den or 4)
  if num < 1 or den < 1 then num, den = 4, 4 end
  return num, den
end

-- The quarter note `bars` bars after qn, counted with REAPER's own measures, so
-- that N bars are right across time signature changes and partial measures
-- (a 4/4 bar then a 3/4 bar is 7 quarter notes, not 8). TimeMap_QNToMeasures
-- numbers measures from 1, TimeMap_GetMeasureInfo from 0. From inside a bar,
-- the end keeps the same distance into the target bar (at most its length).
function M.qn_after_bars(qn, bars)
  local measure, bar_start, bar_end = r.TimeMap_QNToMeasures(0, qn)
  if bar_end and bar_end - qn < 1e-7 then  -- on the bar line (float noise below it)
    measure, bar_start = measure + 1, bar_end
  end
  local offset = math.max(0, qn - bar_start)
  local _, target_start, target_end = r.TimeMap_GetMeasureInfo(0, measure - 1 + bars)
  return math.min(target_start + offset, target_end)
end

-- The tempo map from origin_qn on, as the client's JSON wants it: the bpm at
-- the origin and {beat, bpm} changes (beats from the origin), up to end_qn.
-- Computed from REAPER's own QN <-> time conversion, so it matches whatever
-- REAPER plays; linear ramps are sent as a few steps of equal duration.
function M.tempo_map(origin_qn, end_qn)
  local T = M.qn_to_time
  local function bpm_over(a, b) return 60 * (b - a) / (T(b) - T(a)) end
  local marks = {}
  for i = 0, r.CountTempoTimeSigMarkers(0) - 1 do
    local ok, timepos, _, _, _, _, _, linear = r.GetTempoTimeSigMarker(0, i)
    if ok then marks[#marks + 1] = { qn = M.time_to_qn(timepos), linear = linear } end
  end
  table.sort(marks, function(x, y) return x.qn < y.qn end)
  local eps = 1e-9
  local points = { origin_qn }
  for _, mark in ipairs(marks) do
    if mark.qn > origin_qn + eps and mark.qn < end_qn - eps then points[#points + 1] = mark.qn end
  end
  local steps = {}
  for i = 1, #points do
    local a = points[i]
    local b = points[i + 1] or end_qn
    local current, next_qn = nil, math.huge
    for j, mark in ipairs(marks) do
      if mark.qn <= a + eps then current = j elseif mark.qn < next_qn then next_qn = mark.qn end
    end
    if current and marks[current].linear and marks[current + 1] and b > a + eps then
      local count = math.max(1, math.min(8, math.floor(b - a + 0.5)))
      for k = 0, count - 1 do
        local x, y = a + (b - a) * k / count, a + (b - a) * (k + 1) / count
        steps[#steps + 1] = { x, bpm_over(x, y) }
      end
    else
      steps[#steps + 1] = { a, bpm_over(a, math.min(next_qn, a + 1)) }
    end
  end
  -- Float noise off (90.00000000000009 -> 90): far below anything audible.
  local function clean(x, digits) return math.floor(x * 10 ^ digits + 0.5) / 10 ^ digits end
  local bpm0 = clean(steps[1][2], 6)
  local changes = M.array({})
  local last = bpm0
  for k = 2, #steps do
    local bpm = clean(steps[k][2], 6)
    if math.abs(bpm - last) > 1e-6 * last then
      changes[#changes + 1] = M.array({ clean(steps[k][1] - origin_qn, 9), bpm })
      last = bpm
    end
  end
  return bpm0, changes
end

-- The song part of a request: tempo, tempo changes and meter from the origin.
function M.song(origin_qn, end_qn)
  local bpm, changes = M.tempo_map(origin_qn, end_qn)
  local num, den = M.time_signature_at(M.qn_to_time(origin_qn))
  return { tempo = bpm, tempo_changes = changes, time_sig = string.format("%d/%d", num, den) }
end
