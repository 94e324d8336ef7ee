--[[
A scripted fake of the REAPER API, enough to run the MIDI-LLM ReaScripts under
a plain lua5.4: a project (tempo map with changes, tracks, items, takes, MIDI
notes at 960 PPQ, time selection, edit cursor), ExtState, dialogs answered from
a script, message boxes answered from a script (the button REAPER returns,
optionally after a shell command: the user fixing something before Retry) and
recorded with the console, reaper.defer callbacks run in a loop with real
sleeps, ExecProcess really running its command (in the background for -1/-2,
as REAPER does: in the script's own process group and session), undo blocks
recorded, and the MIDI_* and TimeMap functions computed with the real tempo
math. REAPER may stop a script at any moment: after N rounds of deferred calls
(stop_after_rounds) or right after its Nth process started (stop_after_exec).

Usage (see run.lua): FAKE = dofile("fake_reaper.lua"); FAKE.load(scenario);
dofile(script); FAKE.run_deferred(); FAKE.dump().
]]

local here = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or "./"
local json = dofile(here .. "json.lua")

local F = {
  ppq = 960,
  tempo = {},
  tracks = {},
  time_selection = { 0, 0 },
  cursor = 0,
  extstate = {},
  inputs = {},
  inputs_asked = {},
  messages = {},
  console = {},
  undo = {},
  undo_depth = 0,
  exec = {},
  errors = {},
  violations = {},
  deferred = {},
  atexit_fns = {},
  rounds = 0,
  getchar_script = {},
  gfx_log = { inits = 0, quits = 0, strings = {}, seen = {}, getchar_calls = 0 },
  message_answers = {},
  commands = {},
  os_name = "Other",
  resource_path = os.getenv("TMPDIR") or "/tmp",
  timed_out = false,
}

local function violation(text)
  F.violations[#F.violations + 1] = text
end

local function writing(what)
  if F.undo_depth <= 0 then violation(what .. " outside an undo block") end
end

---------------------------------------------------------------------------
-- Tempo map: markers at QN positions; constant tempo after a marker, or a
-- linear ramp (in quarter notes) to the next marker's tempo when "linear"
---------------------------------------------------------------------------

-- Seconds from marker m to qn (qn at or after m, before the next marker).
local function segment_seconds(m, qn)
  local nxt = m.next
  if m.linear and nxt and nxt.bpm ~= m.bpm then
    local k = (nxt.bpm - m.bpm) / (nxt.qn - m.qn)
    return 60 / k * math.log((m.bpm + k * (qn - m.qn)) / m.bpm)
  end
  return (qn - m.qn) * 60 / m.bpm
end

-- Quarter notes from marker m after seconds dt (inverse of segment_seconds).
local function segment_qn(m, dt)
  local nxt = m.next
  if m.linear and nxt and nxt.bpm ~= m.bpm then
    local k = (nxt.bpm - m.bpm) / (nxt.qn - m.qn)
    return (m.bpm * math.exp(k * dt / 60) - m.bpm) / k
  end
  return dt * m.bpm / 60
end

-- Markers as a scenario gives them: {qn, bpm, num, den, linear}. A marker with
-- num/den changes the time signature and (as in REAPER) starts a new measure
-- there; the measure before it is cut short when the marker falls inside it
-- (a partial measure). A marker without them changes only the tempo, and
-- GetTempoTimeSigMarker reports -1/-1 for its time signature.
function F.set_tempo(markers)
  table.sort(markers, function(a, b) return a.qn < b.qn end)
  local num, den, bpm = 4, 4, 120
  for i, m in ipairs(markers) do
    m.bpm = m.bpm or bpm
    bpm = m.bpm
    m.sets_sig = (i == 1) or m.num ~= nil
    m.num = m.num or num
    m.den = m.den or den
    num, den = m.num, m.den
    m.linear = m.linear or false
    m.next = markers[i + 1]
  end
  for i, m in ipairs(markers) do
    if i == 1 then
      m.time = 0
    else
      local prev = markers[i - 1]
      m.time = prev.time + segment_seconds(prev, m.qn)
    end
  end
  F.tempo = markers
  -- Measure segments: from each time signature marker to the next one.
  local segments = {}
  for _, m in ipairs(markers) do
    if m.sets_sig then segments[#segments + 1] = { qn = m.qn, num = m.num, den = m.den, bar = m.num * 4 / m.den } end
  end
  segments[1].qn = math.min(segments[1].qn, 0)
  local first = 0
  for i, seg in ipairs(segments) do
    seg.first = first
    local nxt = segments[i + 1]
    if nxt then
      seg.count = math.max(1, math.ceil((nxt.qn - seg.qn) / seg.bar - 1e-9))
      seg.stop = nxt.qn
      first = first + seg.count
    else
      seg.count, seg.stop = math.huge, math.huge
    end
  end
  F.measures = segments
end

local function marker_by_qn(qn)
  local found = F.tempo[1]
  for _, m in ipairs(F.tempo) do if m.qn <= qn then found = m end end
  return found
end

local function marker_by_time(t)
  local found = F.tempo[1]
  for _, m in ipairs(F.tempo) do if m.time <= t then found = m end end
  return found
end

local function qn_to_time(qn)
  local m = marker_by_qn(qn)
  if qn < m.qn then return m.time + (qn - m.qn) * 60 / m.bpm end
  return m.time + segment_seconds(m, qn)
end

local function time_to_qn(t)
  local m = marker_by_time(t)
  if t < m.time then return m.qn + (t - m.time) * m.bpm / 60 end
  return m.qn + segment_qn(m, t - m.time)
end

-- The measure holding qn: its 0-based index, start and end QN, and its segment.
local function measure_at_qn(qn)
  local seg = F.measures[1]
  for _, s in ipairs(F.measures) do if s.qn <= qn + 1e-9 then seg = s end end
  local k = math.floor((qn - seg.qn) / seg.bar + 1e-9)
  if k >= seg.count then k = seg.count - 1 end
  local start = seg.qn + k * seg.bar
  return seg.first + k, start, math.min(start + seg.bar, seg.stop), seg
end

-- The measure with this 0-based index: start and end QN, and its segment.
local function measure_by_index(index)
  local seg = F.measures[1]
  for _, s in ipairs(F.measures) do if s.first <= index then seg = s end end
  local start = seg.qn + (index - seg.first) * seg.bar
  return start, math.min(start + seg.bar, seg.stop), seg
end

-- The tempo in effect at qn (a ramp's current value).
local function bpm_at_qn(qn)
  local m = marker_by_qn(qn)
  local nxt = m.next
  if m.linear and nxt and qn >= m.qn then return m.bpm + (nxt.bpm - m.bpm) * (qn - m.qn) / (nxt.qn - m.qn) end
  return m.bpm
end

F.qn_to_time, F.time_to_qn = qn_to_time, time_to_qn

---------------------------------------------------------------------------
-- Project objects
---------------------------------------------------------------------------

-- A MIDI take: its source (notes, CCs, text/sysex in ticks from the source's
-- start, and its length in quarter notes), where the item starts in it
-- (startoffs_qn, source quarter notes; D_STARTOFFS reports it in seconds) and
-- its playrate (source quarter notes per project quarter note).
local function new_take(item, name)
  return { kind = "MediaItem_Take*", item = item, name = name or "", notes = {}, ccs = {}, texts = {}, midi = true,
           unsorted = false, valid = true, startoffs_qn = 0, playrate = 1, source_qn = nil }
end

local function new_item(track, position, length)
  local item = { kind = "MediaItem*", track = track, position = position, length = length, selected = false,
                 takes = {}, active = 1, valid = true, loop = false }
  return item
end

local function all_items()
  local list = {}
  for _, track in ipairs(F.tracks) do
    for _, item in ipairs(track.items) do list[#list + 1] = item end
  end
  return list
end

local function item_qn(item) return time_to_qn(item.position) end

local function note_from_spec(n)
  return { startppq = n.startppq, endppq = n.endppq, chan = n.chan or 0, pitch = n.pitch, vel = n.vel or 100,
           muted = n.muted or false, selected = n.selected or false }
end

local function cc_from_spec(c)
  return { ppqpos = c.ppqpos, chanmsg = c.chanmsg, chan = c.chan or 0, msg2 = c.msg2 or 0, msg3 = c.msg3 or 0,
           selected = c.selected or false, muted = c.muted or false, shape = c.shape or 0,
           beztension = c.beztension or 0 }
end

-- type: -1 sysex, 1-14 text meta events, 15 REAPER notation.
local function text_from_spec(t)
  return { ppqpos = t.ppqpos, type = t.type, msg = t.msg, selected = t.selected or false, muted = t.muted or false }
end

local function copy_events(list, from_spec)
  local out = {}
  for i, e in ipairs(list) do out[i] = from_spec(e) end
  return out
end

-- Source ticks per project quarter note, and the tick at the item's start.
local function take_scale(take) return F.ppq * take.playrate end
local function take_ppq_of_qn(take, qn) return (qn - item_qn(take.item)) * take_scale(take) + take.startoffs_qn * F.ppq end
local function take_qn_of_ppq(take, ppq) return item_qn(take.item) + (ppq - take.startoffs_qn * F.ppq) / take_scale(take) end

-- Source length in quarter notes. A source that does not loop grows with its item (REAPER extends the MIDI
-- source when the item is lengthened); a looped one keeps its length and repeats.
local function source_qn(take)
  local item = take.item
  local covered = take_ppq_of_qn(take, time_to_qn(item.position + item.length)) / F.ppq
  if take.source_qn == nil then return covered end
  if item.loop then return take.source_qn end
  return math.max(take.source_qn, covered)
end

function F.load(scenario)
  F.set_tempo(scenario.tempo or { { qn = 0, bpm = 120, num = 4, den = 4 } })
  F.tracks = {}
  for _, t in ipairs(scenario.tracks or {}) do
    local track = { kind = "MediaTrack*", name = t.name or "", selected = t.selected or false, fx = t.fx or {},
                    items = {}, valid = true }
    for _, it in ipairs(t.items or {}) do
      local start = qn_to_time(it.qn)
      local item = new_item(track, start, qn_to_time(it.qn + it.length_qn) - start)
      item.selected = it.selected or false
      item.loop = it.loop or false
      for _, tk in ipairs(it.takes or { {} }) do
        local take = new_take(item, tk.name)
        take.notes = copy_events(tk.notes or {}, note_from_spec)
        take.ccs = copy_events(tk.ccs or {}, cc_from_spec)
        take.texts = copy_events(tk.texts or {}, text_from_spec)
        take.startoffs_qn = tk.startoffs_qn or 0
        take.playrate = tk.playrate or 1
        take.source_qn = tk.source_qn
        item.takes[#item.takes + 1] = take
      end
      track.items[#track.items + 1] = item
    end
    F.tracks[#F.tracks + 1] = track
  end
  if scenario.time_selection_qn then
    F.time_selection = { qn_to_time(scenario.time_selection_qn[1]), qn_to_time(scenario.time_selection_qn[2]) }
  end
  F.cursor = qn_to_time(scenario.cursor_qn or 0)
  F.extstate = scenario.extstate or {}
  F.inputs = scenario.inputs or {}
  F.getchar_script = scenario.getchar or {}
  F.message_answers = scenario.message_answers or {}
  F.max_seconds = scenario.max_seconds or 60
  F.stop_after_rounds = scenario.stop_after_rounds
  F.stop_after_exec = scenario.stop_after_exec
end

---------------------------------------------------------------------------
-- Real time and sleeping
---------------------------------------------------------------------------

local clock_origin = os.time()
local virtual = 0

local function now()
  local handle = io.open("/proc/uptime", "r")
  if handle then
    local uptime = handle:read("n")
    handle:close()
    if uptime then return uptime end
  end
  return clock_origin + virtual
end

local function sleep(seconds)
  os.execute(string.format("sleep %.3f", seconds))
  virtual = virtual + seconds
end

---------------------------------------------------------------------------
-- The reaper table
---------------------------------------------------------------------------

local R = {}

function R.GetOS() return F.os_name end
function R.GetResourcePath() return F.resource_path end
function R.time_precise() return now() end
function R.file_exists(path)
  local h = io.open(path, "rb")
  if h then h:close() return true end
  return false
end
function R.APIExists(name) return R[name] ~= nil end

-- Messages, console, dialogs
-- The buttons of each message box type, as ShowMessageBox returns them (1 OK, 2 Cancel, 3 Abort, 4 Retry,
-- 5 Ignore, 6 Yes, 7 No); the last one is what an unscripted dialog answers (the safe choice).
local MESSAGE_BUTTONS = { [0] = { 1 }, [1] = { 1, 2 }, [2] = { 3, 4, 5 }, [3] = { 6, 7, 2 }, [4] = { 6, 7 },
                          [5] = { 4, 2 } }
function R.ShowMessageBox(msg, title, kind)
  kind = kind or 0
  local buttons = MESSAGE_BUTTONS[kind]
  if not buttons then violation("ShowMessageBox of unknown type " .. tostring(kind)) buttons = { 1 } end
  local answer = buttons[#buttons]
  if kind ~= 0 and #F.message_answers > 0 then
    local scripted = table.remove(F.message_answers, 1)
    if scripted.run then os.execute(scripted.run) end
    answer = scripted.answer
    local valid = false
    for _, b in ipairs(buttons) do valid = valid or b == answer end
    if not valid then violation("message box type " .. kind .. " has no button " .. tostring(answer)) end
  end
  local _, console_lines = table.concat(F.console):gsub("\n", "")
  F.messages[#F.messages + 1] = { msg = msg, title = title, type = kind, answer = answer, console_at = console_lines }
  return answer
end
function R.ShowConsoleMsg(msg) F.console[#F.console + 1] = msg end
function R.ClearConsole() end

function R.GetUserInputs(title, count, captions, defaults)
  F.inputs_asked[#F.inputs_asked + 1] = { title = title, count = count, captions = captions, defaults = defaults }
  local answer = table.remove(F.inputs, 1)
  if answer == nil or answer.defaults then return true, defaults end
  if answer.ok == false then return false, "" end
  return true, answer.values
end

-- ExtState
function R.GetExtState(section, key)
  local s = F.extstate[section]
  return s and s[key] or ""
end
function R.SetExtState(section, key, value, persist)
  if tostring(value):find("[\r\n]") then violation("ExtState value with a newline: " .. key) end
  F.extstate[section] = F.extstate[section] or {}
  F.extstate[section][key] = tostring(value)
end
function R.HasExtState(section, key) return R.GetExtState(section, key) ~= "" end
function R.DeleteExtState(section, key)
  if F.extstate[section] then F.extstate[section][key] = nil end
end

-- Deferred callbacks
-- After REAPER has stopped the script (the user's "terminate", or closing the
-- project), deferred functions never run again; its atexit functions run once.
function R.defer(fn)
  if F.terminated then return false end
  F.deferred[#F.deferred + 1] = fn
  return true
end
function R.runloop(fn) return R.defer(fn) end
function R.atexit(fn) F.atexit_fns[#F.atexit_fns + 1] = fn end

-- Processes: REAPER runs the command; with -1/-2 it does not wait.
function R.ExecProcess(cmd, timeout)
  F.exec[#F.exec + 1] = { cmd = cmd, timeout = timeout }
  if timeout < 0 then
    os.execute(cmd .. " >/dev/null 2>&1 &")
    return ""
  end
  local handle = io.popen(cmd .. " 2>&1")
  local out = handle:read("a")
  local _, _, code = handle:close()
  return tostring(code or 0) .. "\n" .. out
end

-- Undo and UI refresh
function R.Undo_BeginBlock() R.Undo_BeginBlock2(0) end
-- REAPER's undo is a snapshot of the project state: the state at the outermost
-- Undo_BeginBlock is what Undo_DoUndo2 brings back (here: the events of every
-- take, the items' extents and loop flags, the tracks and their items).
local function project_state()
  local state = { tracks = {} }
  for i, track in ipairs(F.tracks) do
    local items = {}
    for j, item in ipairs(track.items) do
      local takes = {}
      for k, take in ipairs(item.takes) do
        takes[k] = { take = take, notes = copy_events(take.notes, note_from_spec), ccs = copy_events(take.ccs, cc_from_spec),
                     texts = copy_events(take.texts, text_from_spec), source_qn = take.source_qn, name = take.name }
      end
      items[j] = { item = item, position = item.position, length = item.length, loop = item.loop, takes = takes,
                   active = item.active }
    end
    state.tracks[i] = { track = track, items = items, name = track.name }
  end
  return state
end

local function restore_state(state)
  F.tracks = {}
  for i, t in ipairs(state.tracks) do
    local track = t.track
    track.name, track.items, track.valid = t.name, {}, true
    for j, it in ipairs(t.items) do
      local item = it.item
      item.position, item.length, item.loop, item.active, item.takes, item.valid = it.position, it.length, it.loop,
        it.active, {}, true
      for k, tk in ipairs(it.takes) do
        local take = tk.take
        take.notes, take.ccs, take.texts = copy_events(tk.notes, note_from_spec), copy_events(tk.ccs, cc_from_spec),
          copy_events(tk.texts, text_from_spec)
        take.source_qn, take.name, take.valid, take.unsorted = tk.source_qn, tk.name, true, false
        item.takes[k] = take
      end
      track.items[j] = item
    end
    F.tracks[i] = track
  end
end

function R.Undo_BeginBlock2(proj)
  if F.undo_depth == 0 then F.undo_state = project_state() end
  F.undo_depth = F.undo_depth + 1
  F.undo[#F.undo + 1] = { begin = true }
end
function R.Undo_DoUndo2(proj)
  if F.undo_depth ~= 0 then violation("Undo_DoUndo2 inside an undo block") return 0 end
  if not F.undo_state then return 0 end
  restore_state(F.undo_state)
  F.undo_state = nil
  F.undo[#F.undo + 1] = { undone = true }
  return 1
end
function R.Undo_EndBlock(name, flags) R.Undo_EndBlock2(0, name, flags) end
function R.Undo_EndBlock2(proj, name, flags)
  F.undo_depth = F.undo_depth - 1
  F.undo[#F.undo + 1] = { ["end"] = name, flags = flags }
  if F.undo_depth == 0 then F.undo_name = name end
end
function R.Undo_CanUndo2(proj) return F.undo_state and F.undo_name or nil end
function R.PreventUIRefresh() end
function R.UpdateArrange() end
function R.UpdateTimeline() end
function R.UpdateItemInProject() end
function R.MIDI_RefreshEditors() end

function R.ValidatePtr2(proj, ptr, kind)
  return type(ptr) == "table" and ptr.kind == kind and ptr.valid == true
end
function R.ValidatePtr(ptr, kind) return R.ValidatePtr2(0, ptr, kind) end

-- Time map
function R.TimeMap2_QNToTime(proj, qn) return qn_to_time(qn) end
function R.TimeMap2_timeToQN(proj, t) return time_to_qn(t) end
function R.TimeMap_QNToTime(qn) return qn_to_time(qn) end
function R.TimeMap_timeToQN(t) return time_to_qn(t) end
function R.TimeMap_GetTimeSigAtTime(proj, t)
  local _, _, _, seg = measure_at_qn(time_to_qn(t))
  return seg.num, seg.den, bpm_at_qn(time_to_qn(t))
end
-- REAPER numbers measures from 1 here (as the ruler shows them)...
function R.TimeMap_QNToMeasures(proj, qn)
  local index, start, stop = measure_at_qn(qn)
  return index + 1, start, stop
end
-- ...and from 0 here: time of the measure start, its QN range, meter, tempo.
function R.TimeMap_GetMeasureInfo(proj, measure)
  local start, stop, seg = measure_by_index(measure)
  return qn_to_time(start), start, stop, seg.num, seg.den, bpm_at_qn(start)
end
-- Beats are of the time signature's denominator, counted from the measure's start
-- (measures 0-based), or from the project start when no measure is given.
function R.TimeMap2_beatsToTime(proj, tpos, measures)
  if measures == nil then return qn_to_time(tpos) end
  local start, _, seg = measure_by_index(measures)
  return qn_to_time(start + tpos * 4 / seg.den)
end
function R.TimeMap2_timeToBeats(proj, t)
  local qn = time_to_qn(t)
  local index, start, _, seg = measure_at_qn(qn)
  local beats = (qn - start) * seg.den / 4
  return beats, index, seg.num, qn * seg.den / 4, seg.den
end
function R.CountTempoTimeSigMarkers(proj) return #F.tempo end
function R.GetTempoTimeSigMarker(proj, index)
  local m = F.tempo[index + 1]
  if not m then return false, -1, -1, -1, -1, -1, -1, false end
  local measure, start, _, seg = measure_at_qn(m.qn)
  local num, den = -1, -1
  if m.sets_sig then num, den = m.num, m.den end
  return true, m.time, measure, (m.qn - start) * seg.den / 4, m.bpm, num, den, m.linear
end
function R.GetSet_LoopTimeRange2(proj, isSet, isLoop, start, stop, allowautoseek)
  if isSet then F.time_selection = { start, stop } end
  return F.time_selection[1], F.time_selection[2]
end
function R.GetSet_LoopTimeRange(isSet, isLoop, start, stop, allowautoseek)
  return R.GetSet_LoopTimeRange2(0, isSet, isLoop, start, stop, allowautoseek)
end
function R.GetCursorPosition() return F.cursor end
function R.GetCursorPositionEx() return F.cursor end

-- Tracks
function R.CountTracks(proj) return #F.tracks end
function R.GetTrack(proj, index) return F.tracks[index + 1] end
function R.CountSelectedTracks(proj)
  local n = 0
  for _, t in ipairs(F.tracks) do if t.selected then n = n + 1 end end
  return n
end
function R.GetSelectedTrack(proj, index)
  local n = -1
  for _, t in ipairs(F.tracks) do
    if t.selected then
      n = n + 1
      if n == index then return t end
    end
  end
  return nil
end
function R.GetLastTouchedTrack() return R.GetSelectedTrack(0, 0) end
function R.InsertTrackAtIndex(index, defaults)
  writing("InsertTrackAtIndex")
  local track = { kind = "MediaTrack*", name = "", selected = false, fx = {}, items = {}, valid = true }
  table.insert(F.tracks, math.min(index, #F.tracks) + 1, track)
end
function R.GetMediaTrackInfo_Value(track, key)
  if key == "IP_TRACKNUMBER" then
    for i, t in ipairs(F.tracks) do if t == track then return i end end
    return 0
  end
  if key == "I_SELECTED" then return track.selected and 1 or 0 end
  return 0
end
function R.GetSetMediaTrackInfo_String(track, key, value, set)
  if key ~= "P_NAME" then return false, "" end
  if set then
    writing("set track name")
    track.name = value
  end
  return true, track.name
end
function R.GetTrackName(track)
  if track.name ~= "" then return true, track.name end
  return true, "Track " .. tostring(R.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER"))
end
function R.SetTrackSelected(track, selected) track.selected = selected end

-- Track FX (the MIDI-LLM track options JSFX)
function R.TrackFX_GetCount(track) return #track.fx end
function R.TrackFX_GetFXName(track, fx, buf)
  local f = track.fx[fx + 1]
  if not f then return false, "" end
  return true, f.name
end
function R.TrackFX_GetParam(track, fx, param)
  local f = track.fx[fx + 1]
  local value = f and f.params and f.params[param + 1]
  if value == nil then return 0, 0, 0 end
  return value, 0, 129
end
function R.TrackFX_GetParamEx(track, fx, param)
  local value, min, max = R.TrackFX_GetParam(track, fx, param)
  return value, min, max, (min + max) / 2
end
function R.TrackFX_GetEnabled(track, fx) return true end

-- Items
function R.CountMediaItems(proj) return #all_items() end
function R.GetMediaItem(proj, index) return all_items()[index + 1] end
function R.IsMediaItemSelected(item) return item.selected end
function R.SetMediaItemSelected(item, selected) item.selected = selected end
function R.SelectAllMediaItems(proj, selected)
  for _, item in ipairs(all_items()) do item.selected = selected end
end
function R.CountSelectedMediaItems(proj)
  local n = 0
  for _, item in ipairs(all_items()) do if item.selected then n = n + 1 end end
  return n
end
function R.GetSelectedMediaItem(proj, index)
  local n = -1
  for _, item in ipairs(all_items()) do
    if item.selected then
      n = n + 1
      if n == index then return item end
    end
  end
  return nil
end
function R.GetMediaItem_Track(item) return item.track end
function R.GetMediaItemInfo_Value(item, key)
  if key == "D_POSITION" then return item.position end
  if key == "D_LENGTH" then return item.length end
  if key == "B_UISEL" then return item.selected and 1 or 0 end
  if key == "I_CURTAKE" then return item.active - 1 end
  if key == "B_LOOPSRC" then return item.loop and 1 or 0 end
  return 0
end
function R.SetMediaItemInfo_Value(item, key, value)
  writing("SetMediaItemInfo_Value " .. key)
  if key == "D_POSITION" then item.position = value
  elseif key == "D_LENGTH" then item.length = value
  elseif key == "B_UISEL" then item.selected = value ~= 0
  elseif key == "B_LOOPSRC" then
    if value ~= 0 and not item.loop then  -- the source keeps the length it has now
      for _, take in ipairs(item.takes) do take.source_qn = source_qn(take) end
    end
    item.loop = value ~= 0
  end
  return true
end
function R.CountTakes(item) return #item.takes end
function R.GetTake(item, index) return item.takes[index + 1] end
function R.GetActiveTake(item) return item.takes[item.active] end
function R.SetActiveTake(take)
  for i, t in ipairs(take.item.takes) do if t == take then take.item.active = i end end
end
function R.GetMediaItemTake_Item(take) return take.item end
function R.TakeIsMIDI(take) return take.midi end
function R.GetSetMediaItemTakeInfo_String(take, key, value, set)
  if key ~= "P_NAME" then return false, "" end
  if set then
    writing("set take name")
    take.name = value
  end
  return true, take.name
end
function R.GetTakeName(take) return take.name end
-- D_STARTOFFS is seconds of source; for a MIDI source in beats it is its start offset at the item's tempo.
function R.GetMediaItemTakeInfo_Value(take, key)
  if key == "D_STARTOFFS" then return take.startoffs_qn * 60 / bpm_at_qn(item_qn(take.item)) end
  if key == "D_PLAYRATE" then return take.playrate end
  return 0
end
function R.GetMediaItemTake_Source(take)
  return { kind = "PCM_source*", take = take }
end
-- A MIDI source in beats reports its length in quarter notes (lengthIsQN true).
function R.GetMediaSourceLength(source) return source_qn(source.take), true end
function R.GetMediaSourceType(source) return "MIDI" end

function R.CreateNewMIDIItemInProj(track, start, stop, qn)
  writing("CreateNewMIDIItemInProj")
  if qn then start, stop = qn_to_time(start), qn_to_time(stop) end
  local item = new_item(track, start, stop - start)
  item.takes[1] = new_take(item, "")
  track.items[#track.items + 1] = item
  return item
end

function R.MIDI_SetItemExtents(item, start_qn, end_qn)
  writing("MIDI_SetItemExtents")
  for _, take in ipairs(item.takes) do take.source_qn = source_qn(take) end
  local start = qn_to_time(start_qn)
  item.position = start
  item.length = qn_to_time(end_qn) - start
  return true
end

-- Actions
function R.Main_OnCommand(command, flag)
  F.commands[#F.commands + 1] = command
  if command == 40639 then  -- Take: Duplicate active take
    writing("Take: Duplicate active take")
    for _, item in ipairs(all_items()) do
      if item.selected then
        local source = item.takes[item.active]
        local copy = new_take(item, source.name)
        copy.notes = copy_events(source.notes, note_from_spec)
        copy.ccs = copy_events(source.ccs, cc_from_spec)
        copy.texts = copy_events(source.texts, text_from_spec)
        copy.startoffs_qn, copy.playrate, copy.source_qn = source.startoffs_qn, source.playrate, source.source_qn
        -- REAPER puts the duplicate at the bottom of the take list and makes it active.
        item.takes[#item.takes + 1] = copy
        item.active = #item.takes
      end
    end
  else
    violation("unknown action " .. tostring(command))
  end
end
function R.NamedCommandLookup(name) return 0 end

-- MIDI: ticks of the source, 960 per source quarter note, through the take's
-- start offset and playrate. The conversion is linear: it does not fold a
-- looped item's repetitions back into the source (a tick past the source's
-- length is simply never played).
function R.MIDI_GetProjQNFromPPQPos(take, ppq) return take_qn_of_ppq(take, ppq) end
function R.MIDI_GetPPQPosFromProjQN(take, qn) return take_ppq_of_qn(take, qn) end
function R.MIDI_GetPPQPosFromProjTime(take, t) return take_ppq_of_qn(take, time_to_qn(t)) end
function R.MIDI_GetProjTimeFromPPQPos(take, ppq) return qn_to_time(take_qn_of_ppq(take, ppq)) end

function R.MIDI_CountEvts(take)
  return #take.notes, #take.notes, #take.ccs, #take.texts
end
function R.MIDI_GetTextSysexEvt(take, index)
  local t = take.texts[index + 1]
  if not t then return false, false, false, 0, 0, "" end
  return true, t.selected, t.muted, t.ppqpos, t.type, t.msg
end
function R.MIDI_GetCCShape(take, index)
  local c = take.ccs[index + 1]
  if not c then return false, 0, 0 end
  return true, c.shape, c.beztension
end
function R.MIDI_GetNote(take, index)
  local n = take.notes[index + 1]
  if not n then return false, false, false, 0, 0, 0, 0, 0 end
  return true, n.selected, n.muted, n.startppq, n.endppq, n.chan, n.pitch, n.vel
end
local function round(x) return math.floor(x + 0.5) end
local function stable_sort(list, field)
  for i, e in ipairs(list) do e._order = i end
  table.sort(list, function(a, b)
    if a[field] ~= b[field] then return a[field] < b[field] end
    return a._order < b._order
  end)
  for _, e in ipairs(list) do e._order = nil end
end
function R.MIDI_InsertNote(take, selected, muted, startppq, endppq, chan, pitch, vel, noSort)
  writing("MIDI_InsertNote")
  if math.type(pitch) ~= "integer" or pitch < 0 or pitch > 127 then violation("bad pitch " .. tostring(pitch)) end
  if chan < 0 or chan > 15 then violation("bad channel " .. tostring(chan)) end
  if vel < 1 or vel > 127 then violation("bad velocity " .. tostring(vel)) end
  take.notes[#take.notes + 1] = { startppq = round(startppq), endppq = round(endppq), chan = chan, pitch = pitch,
                                  vel = vel, muted = muted and true or false, selected = selected and true or false }
  if noSort then take.unsorted = true else R.MIDI_Sort(take) end
  return true
end
function R.MIDI_DeleteNote(take, index)
  writing("MIDI_DeleteNote")
  if not take.notes[index + 1] then violation("MIDI_DeleteNote of a missing note " .. index) return false end
  table.remove(take.notes, index + 1)
  return true
end
function R.MIDI_GetCC(take, index)
  local c = take.ccs[index + 1]
  if not c then return false, false, false, 0, 0, 0, 0, 0 end
  return true, c.selected, c.muted, c.ppqpos, c.chanmsg, c.chan, c.msg2, c.msg3
end
function R.MIDI_InsertCC(take, selected, muted, ppqpos, chanmsg, chan, msg2, msg3)
  writing("MIDI_InsertCC")
  take.ccs[#take.ccs + 1] = { ppqpos = round(ppqpos), chanmsg = chanmsg, chan = chan, msg2 = msg2, msg3 = msg3,
                              selected = selected and true or false, muted = muted and true or false, shape = 0,
                              beztension = 0 }
  stable_sort(take.ccs, "ppqpos")
  return true
end
function R.MIDI_Sort(take)
  F.sorts = (F.sorts or 0) + 1
  stable_sort(take.notes, "startppq")
  stable_sort(take.ccs, "ppqpos")
  stable_sort(take.texts, "ppqpos")
  take.unsorted = false
end

---------------------------------------------------------------------------
-- gfx: a window that draws nothing; getchar answers from the scenario
---------------------------------------------------------------------------

local G = { w = 420, h = 130, x = 0, y = 0, mouse_x = 0, mouse_y = 0, mouse_cap = 0 }
function G.init(title, w, h)
  F.gfx_log.inits = F.gfx_log.inits + 1
  F.gfx_log.title = title
  G.open = true
  return 1
end
function G.quit() F.gfx_log.quits = F.gfx_log.quits + 1 G.open = false end
function G.setfont() end
function G.set() end
function G.rect() end
function G.update() end
function G.measurestr(s) return #s * 7, 14 end
-- strings: the last 400 drawn; seen: every string ever drawn, once, in the order it first appeared.
local seen_set = {}
function G.drawstr(s)
  local log = F.gfx_log.strings
  if log[#log] ~= s then log[#log + 1] = s end
  if #log > 400 then table.remove(log, 1) end
  if not seen_set[s] then
    seen_set[s] = true
    F.gfx_log.seen[#F.gfx_log.seen + 1] = s
  end
end
-- A step {after = N, value = V, from_exec = E}: the Nth call (counted from the moment the script's Eth
-- process started, default from the start) answers V (27 = Esc, -1 = window closed).
function G.getchar()
  if not G.open then return -1 end
  F.gfx_log.getchar_calls = F.gfx_log.getchar_calls + 1
  for _, step in ipairs(F.getchar_script) do
    if #F.exec >= (step.from_exec or 0) then
      step.calls = (step.calls or 0) + 1
      if step.calls == step.after then
        F.gfx_log.answered = (F.gfx_log.answered or 0) + 1
        return step.value
      end
    end
  end
  return 0
end

---------------------------------------------------------------------------
-- Running and dumping
---------------------------------------------------------------------------

function F.install()
  _G.reaper = R
  _G.gfx = G
end

function F.run_script(path)
  local ok, err = xpcall(dofile, debug.traceback, path)
  if not ok then F.errors[#F.errors + 1] = tostring(err) end
end

-- Run deferred callbacks in rounds, sleeping between rounds, until none is pending.
-- With stop_after_rounds = N in the scenario, REAPER stops the script after N
-- rounds of deferred calls (0: right after its main chunk ran): the pending
-- deferred functions are dropped, its gfx window closes, then atexit runs.
function F.run_deferred(max_seconds)
  local deadline = now() + (max_seconds or F.max_seconds or 60)
  while #F.deferred > 0 do
    if (F.stop_after_rounds and F.rounds >= F.stop_after_rounds) or
       (F.stop_after_exec and #F.exec >= F.stop_after_exec) then
      F.terminated, F.deferred, G.open = true, {}, false
      break
    end
    if now() > deadline or F.rounds > 100000 then
      F.timed_out = true
      break
    end
    local batch = F.deferred
    F.deferred = {}
    F.rounds = F.rounds + 1
    for _, fn in ipairs(batch) do
      local ok, err = xpcall(fn, debug.traceback)
      if not ok then F.errors[#F.errors + 1] = tostring(err) end
    end
    if #F.deferred > 0 then sleep(0.03) end
  end
  F.terminated = true
  for _, fn in ipairs(F.atexit_fns) do
    local ok, err = xpcall(fn, debug.traceback)
    if not ok then F.errors[#F.errors + 1] = tostring(err) end
  end
  if F.undo_depth ~= 0 then violation("undo blocks not balanced: depth " .. F.undo_depth) end
end

function F.dump()
  local tracks = json.array({})
  for _, track in ipairs(F.tracks) do
    local items = json.array({})
    for _, item in ipairs(track.items) do
      local takes = json.array({})
      for _, take in ipairs(item.takes) do
        local notes = json.array({})
        for _, n in ipairs(take.notes) do
          notes[#notes + 1] = { startppq = n.startppq, endppq = n.endppq, chan = n.chan, pitch = n.pitch, vel = n.vel,
                                muted = n.muted, selected = n.selected }
        end
        local ccs = json.array({})
        for _, c in ipairs(take.ccs) do
          ccs[#ccs + 1] = { ppqpos = c.ppqpos, chanmsg = c.chanmsg, chan = c.chan, msg2 = c.msg2, msg3 = c.msg3,
                            selected = c.selected, muted = c.muted, shape = c.shape, beztension = c.beztension }
        end
        local texts = json.array({})
        for _, t in ipairs(take.texts) do
          texts[#texts + 1] = { ppqpos = t.ppqpos, type = t.type, msg = t.msg, selected = t.selected, muted = t.muted }
        end
        if take.unsorted then violation("notes inserted with noSort and never sorted") end
        takes[#takes + 1] = { name = take.name, notes = notes, ccs = ccs, texts = texts, source_qn = source_qn(take),
                              startoffs_qn = take.startoffs_qn, playrate = take.playrate,
                              start_ppq = take_ppq_of_qn(take, item_qn(item)),
                              end_ppq = take_ppq_of_qn(take, time_to_qn(item.position + item.length)) }
      end
      items[#items + 1] = { position = item.position, length = item.length, position_qn = time_to_qn(item.position),
                            end_qn = time_to_qn(item.position + item.length), selected = item.selected,
                            active_take = item.active - 1, takes = takes, loop = item.loop }
    end
    tracks[#tracks + 1] = { name = track.name, items = items }
  end
  local messages = json.array({})
  for i, m in ipairs(F.messages) do messages[i] = m end
  return {
    tracks = tracks, messages = messages, console = table.concat(F.console), undo = json.array(F.undo),
    exec = json.array(F.exec), errors = json.array(F.errors), violations = json.array(F.violations),
    extstate = F.extstate, inputs_asked = json.array(F.inputs_asked), gfx = F.gfx_log, rounds = F.rounds,
    timed_out = F.timed_out, commands = json.array(F.commands), sorts = F.sorts or 0,
  }
end

F.json = json
return F
