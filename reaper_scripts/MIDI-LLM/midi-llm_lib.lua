-- @noindex
--[[
MIDI-LLM for REAPER: the library shared by the "MIDI-LLM - *.lua" actions.

Plain ReaScript Lua: no extension, no socket. REAPER's Lua cannot open a
socket, so every request goes through the project's command-line client
(`midi-llm-bridge request ...`, which never imports torch and starts in a
fraction of a second). The client is started in the background with
reaper.ExecProcess(cmd, -2) ("no wait": it returns at once), writes a
progress file line by line and the result as JSON (written whole: a temporary
file, then renamed), and the script polls those files with reaper.defer, so
REAPER's UI never blocks. Cancel = `request cancel --target ID`.

Positions: notes are read with the MIDI_* API in ticks (PPQ) and converted to
quarter notes (beats) relative to an origin (the item start, or the time
selection start) through REAPER's own tempo map (MIDI_GetProjQNFromPPQPos /
MIDI_GetPPQPosFromProjQN); the tempo map from the origin on (tempo changes and
ramps included) travels with the request, so the model hears the right
real-time rhythm. Results are written back with MIDI_InsertNote (noSort) and
one MIDI_Sort per take, inside one undo block.
]]

local M = {}
M.VERSION = "1.0.0"
M.SECTION = "MIDI-LLM"        -- ExtState section
M.TITLE = "MIDI-LLM"
M.PPQ_ROUND = 0.5
M.STARTUP_SECONDS = 30        -- no line from the client after this long: it did not start
M.CANCEL_GRACE_SECONDS = 10   -- after a cancel, stop waiting for the daemon's answer after this long
M.DRUMS = 128

local r = reaper

-- The folder of this file (the actions live next to it).
M.script_dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""

---------------------------------------------------------------------------
-- Platform
---------------------------------------------------------------------------

function M.is_windows()
  return (r.GetOS and r.GetOS() or ""):match("Win") ~= nil
end

function M.file_exists(path)
  if not path or path == "" then return false end
  local handle = io.open(path, "rb")
  if handle then handle:close() return true end
  return false
end

function M.read_file(path)
  local handle = io.open(path, "rb")
  if not handle then return nil end
  local text = handle:read("a")
  handle:close()
  return text
end

function M.write_file(path, text)
  local handle, err = io.open(path, "wb")
  if not handle then return false, err end
  handle:write(text)
  handle:close()
  return true
end

function M.temp_dir()
  local dir
  if M.is_windows() then
    dir = os.getenv("TEMP") or os.getenv("TMP") or r.GetResourcePath()
  else
    dir = os.getenv("TMPDIR") or "/tmp"
  end
  return (dir:gsub("[/\\]+$", ""))
end

function M.path_join(a, b)
  local sep = M.is_windows() and "\\" or "/"
  if a == "" then return b end
  if a:sub(-1) == "/" or a:sub(-1) == "\\" then return a .. b end
  return a .. sep .. b
end

-- One argument, quoted for the shell that runs the generated script.
function M.quote(arg)
  arg = tostring(arg):gsub("[\r\n]+", " ")
  if M.is_windows() then
    -- cmd.exe: inside double quotes only " and % are special (delayed expansion is off).
    return '"' .. arg:gsub('"', "'"):gsub("%%", "%%%%") .. '"'
  end
  return "'" .. arg:gsub("'", "'\\''") .. "'"
end

---------------------------------------------------------------------------
-- Settings (ExtState, persisted; values never hold newlines)
---------------------------------------------------------------------------

M.DEFAULTS = {
  port = "9123",
  host = "127.0.0.1",
  secret = "",
  client = "",                 -- path of midi-llm-bridge (empty: found automatically)
  bars = "4",                  -- Generate without a time selection, Continue
  variations = "3",            -- Variations as takes
  temperature = "",            -- empty: the daemon's default (config.yaml)
  top_p = "",
  top_k = "",
  grid = "",                   -- e.g. 1/16, 1/8T, off; empty: the daemon's default
  seed = "",                   -- empty: random
  max_notes = "",
  velocity = "",
  timeout = "600",             -- seconds the client waits for a result
  accompany_instruments = "",  -- e.g. "bass,drums" or "33,128"; empty: any
  keep_instruments = "1",      -- 1: on tracks without an instrument, new notes use the item's instruments
  window = "1",                -- 1: progress window with Cancel; 0: console messages only
  keep_files = "0",            -- 1: leave the request/result files in the temp folder
}

function M.get(key)
  local value = r.GetExtState(M.SECTION, key)
  if value == nil or value == "" then return M.DEFAULTS[key] or "" end
  return value
end

function M.set(key, value)
  value = tostring(value == nil and "" or value):gsub("[\r\n]+", " ")
  r.SetExtState(M.SECTION, key, value, true)
end

function M.get_number(key)
  local text = M.get(key):gsub("^%s+", ""):gsub("%s+$", "")
  return tonumber(text)
end

---------------------------------------------------------------------------
-- JSON (enough for the client's files)
---------------------------------------------------------------------------

local ARRAY = {}  -- metatable marking a table as a JSON array (also when empty)

function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
                  ["\b"] = "\\b", ["\f"] = "\\f" }

local function encode_string(s)
  return '"' .. (s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end)) .. '"'
end

local function encode_number(x)
  if x ~= x or x == math.huge or x == -math.huge then error("JSON cannot hold " .. tostring(x)) end
  if math.type(x) == "integer" then return tostring(x) end
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return string.format("%d", x) end
  return string.format("%.17g", x)
end

-- A number as text for a command-line flag (integers without ".0", else full precision).
function M.num(x) return encode_number(x) end

function M.json_encode(value)
  local kind = type(value)
  if kind == "nil" then return "null"
  elseif kind == "boolean" then return value and "true" or "false"
  elseif kind == "number" then return encode_number(value)
  elseif kind == "string" then return encode_string(value)
  elseif kind == "table" then
    if getmetatable(value) == ARRAY or value[1] ~= nil then
      local parts = {}
      for i = 1, #value do parts[i] = M.json_encode(value[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for key in pairs(value) do keys[#keys + 1] = tostring(key) end
    table.sort(keys)
    local parts = {}
    for _, key in ipairs(keys) do
      parts[#parts + 1] = encode_string(key) .. ":" .. M.json_encode(value[key])
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  error("JSON cannot hold a " .. kind)
end

local function utf8_char(code)
  return utf8 and utf8.char(code) or string.char(code % 256)
end

function M.json_decode(text)
  local pos = 1
  local function fail(what)
    error(string.format("bad JSON at character %d: %s", pos, what), 0)
  end
  local function skip()
    pos = text:find("[^ \t\r\n]", pos) or (#text + 1)
  end
  local value
  local function parse_string()
    pos = pos + 1
    local out = {}
    while true do
      local c = text:sub(pos, pos)
      if c == "" then fail("unfinished string") end
      if c == '"' then pos = pos + 1 break end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if simple[e] then
          out[#out + 1] = simple[e]
          pos = pos + 2
        elseif e == "u" then
          local code = tonumber(text:sub(pos + 2, pos + 5), 16) or fail("bad \\u escape")
          pos = pos + 6
          if code >= 0xD800 and code <= 0xDBFF and text:sub(pos, pos + 1) == "\\u" then
            local low = tonumber(text:sub(pos + 2, pos + 5), 16)
            if low and low >= 0xDC00 and low <= 0xDFFF then
              code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
              pos = pos + 6
            end
          end
          out[#out + 1] = utf8_char(code)
        else
          fail("bad escape")
        end
      else
        local stop = text:find('["\\]', pos) or (#text + 1)
        out[#out + 1] = text:sub(pos, stop - 1)
        pos = stop
      end
    end
    return table.concat(out)
  end
  function value()
    skip()
    local c = text:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local object = {}
      skip()
      if text:sub(pos, pos) == "}" then pos = pos + 1 return object end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local key = parse_string()
        skip()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        object[key] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return object end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      pos = pos + 1
      local list = M.array({})
      skip()
      if text:sub(pos, pos) == "]" then pos = pos + 1 return list end
      while true do
        list[#list + 1] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return list end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return parse_string()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4 return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5 return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4 return nil
    else
      local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not number or number == "" then fail("unexpected character") end
      pos = pos + #number
      return tonumber(number) or fail("bad number")
    end
  end
  local ok, result = pcall(function()
    local v = value()
    skip()
    if pos <= #text then fail("text after the value") end
    return v
  end)
  if not ok then return nil, result end
  return result
end

---------------------------------------------------------------------------
-- Instruments: GM names, track names, the track options JSFX
---------------------------------------------------------------------------

M.GM_NAMES = {
  "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
  "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
  "Celesta", "Glockenspiel", "Music Box", "Vibraphone",
  "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
  "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
  "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
  "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
  "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
  "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
  "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
  "Violin", "Viola", "Cello", "Contrabass",
  "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
  "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
  "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
  "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
  "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
  "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax",
  "Oboe", "English Horn", "Bassoon", "Clarinet",
  "Piccolo", "Flute", "Recorder", "Pan Flute",
  "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
  "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
  "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
  "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
  "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
  "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
  "FX 5 (brightness)", "FX 6 (goblin)", "FX 7 (echoes)", "FX 8 (sci-fi)",
  "Sitar", "Banjo", "Shamisen", "Koto",
  "Kalimba", "Bagpipe", "Fiddle", "Shanai",
  "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock",
  "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
  "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
  "Telephone Ring", "Helicopter", "Applause", "Gunshot"

}

function M.instrument_name(instrument)
  if instrument == M.DRUMS then return "Drums" end
  return M.GM_NAMES[(instrument or 0) + 1] or ("Program " .. tostring(instrument))
end

-- Words a producer puts in a track name (the same list as bridge/amt/gm.py).
M.NAME_HINTS = {
  { "drum", 128 }, { "kit", 128 }, { "perc", 128 }, { "beat", 128 }, { "808", 128 },
  { "bass", 33 }, { "piano", 0 }, { "keys", 4 }, { "rhodes", 4 }, { "organ", 16 }, { "guitar", 25 },
  { "gtr", 25 }, { "string", 48 }, { "violin", 40 }, { "cello", 42 }, { "choir", 52 }, { "vox", 52 },
  { "trumpet", 56 }, { "brass", 61 }, { "horn", 60 }, { "sax", 65 }, { "flute", 73 }, { "clarinet", 71 },
  { "pad", 89 }, { "lead", 81 }, { "synth", 81 }, { "bell", 14 }, { "harp", 46 }, { "marimba", 12 },
}

-- "Bass [33]" -> 33, "[drums]" -> 128, "Lead Synth" -> 81, "Vocals" -> nil.
-- A pitch range in brackets ("Bass [33] [28-60]") is read too.
function M.parse_track_name(name)
  name = name or ""
  local result = {}
  for inside in name:gmatch("%[([^%]]*)%]") do
    local low, high = inside:match("^%s*(%d+)%s*%-%s*(%d+)%s*$")
    local program = inside:match("^%s*(%d+)%s*$")
    if low then
      result.low, result.high = tonumber(low), tonumber(high)
    elseif program and tonumber(program) <= 128 and result.instrument == nil then
      result.instrument = tonumber(program)
    elseif inside:lower():match("^%s*drums?%s*$") and result.instrument == nil then
      result.instrument = M.DRUMS
    end
  end
  if result.instrument == nil then
    local lowered = name:gsub("%b[]", ""):lower()
    for _, hint in ipairs(M.NAME_HINTS) do
      if lowered:find(hint[1], 1, true) then result.instrument = hint[2] break end
    end
  end
  return result
end

M.JSFX_NAME = "MIDI-LLM track options"

-- The MIDI-LLM track options JSFX on this track: its index, or nil.
function M.find_options_fx(track)
  local count = r.TrackFX_GetCount(track)
  for fx = 0, count - 1 do
    local _, name = r.TrackFX_GetFXName(track, fx, "")
    if name and name:find(M.JSFX_NAME, 1, true) then return fx end
    if r.TrackFX_GetNamedConfigParm then  -- a renamed instance: its file (REAPER 6.37+)
      local ok, ident = r.TrackFX_GetNamedConfigParm(track, fx, "fx_ident")
      if ok and ident and ident:find(M.JSFX_NAME, 1, true) then return fx end
    end
  end
  return nil
end

function M.track_name(track)
  local _, name = r.GetSetMediaTrackInfo_String(track, "P_NAME", "", false)
  return name or ""
end

-- Per-track options: {instrument = 0-128 or nil (any), low, high, allowed, source}.
-- The JSFX wins; else the track name; else no constraint.
function M.track_options(track)
  local options = { low = 0, high = 127, allowed = true, source = "none" }
  local from_name = M.parse_track_name(M.track_name(track))
  if from_name.instrument ~= nil then options.instrument, options.source = from_name.instrument, "name" end
  if from_name.low then options.low, options.high = from_name.low, from_name.high end
  local fx = M.find_options_fx(track)
  if fx then
    local instrument = math.floor(r.TrackFX_GetParam(track, fx, 0) + 0.5)  -- 0 any, 1..128 program+1, 129 drums
    local low = math.floor(r.TrackFX_GetParam(track, fx, 1) + 0.5)
    local high = math.floor(r.TrackFX_GetParam(track, fx, 2) + 0.5)
    local allowed = r.TrackFX_GetParam(track, fx, 3)
    if instrument >= 1 and instrument <= 129 then
      options.instrument, options.source = instrument - 1, "jsfx"
    end
    if low ~= 0 or high ~= 127 then options.low, options.high = low, high end
    options.allowed = allowed >= 0.5
  end
  if options.low > options.high then options.low, options.high = options.high, options.low end
  return options
end

---------------------------------------------------------------------------
-- Time: REAPER's tempo map, quarter notes, ticks
---------------------------------------------------------------------------

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

---------------------------------------------------------------------------
-- Items, takes, notes
---------------------------------------------------------------------------

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

-- "Electric Bass (finger) [33]", "Drums": a track name the scripts read back.
function M.track_label(instrument)
  if instrument == M.DRUMS then return "Drums" end
  return string.format("%s [%d]", M.instrument_name(instrument), instrument)
end

-- Only this item selected (so the next action applies to it).
function M.select_only(item)
  r.SelectAllMediaItems(0, false)
  r.SetMediaItemSelected(item, true)
end

function M.not_allowed_message(track)
  return "MIDI-LLM may not write on the track \"" .. M.track_name(track) .. "\": its \"" .. M.JSFX_NAME ..
    "\" effect says so (Allowed: No)."
end

-- The selected MIDI item and its track's options, for an action that writes into the item;
-- nil after telling the user why not (no MIDI item selected, or the track's JSFX says Allowed: No).
function M.item_for_action()
  local info, problem = M.midi_item(M.selected_item())
  if not info then M.message(problem) return nil end
  local options = M.track_options(info.track)
  if not options.allowed then M.message(M.not_allowed_message(info.track)) return nil end
  return info, options
end

-- Ask for an optional prompt and a whole number of at least 1, and remember both. Returns the
-- prompt and the number, or nil when the user cancelled or the number is not usable (told).
function M.ask_prompt_and_count(title, prompt_key, count_label, count_key, count_name)
  local answers = M.ask(title, {
    { "Prompt (optional)", M.get(prompt_key) },
    { count_label, M.get(count_key) },
  })
  if not answers then return nil end
  local count = tonumber(answers[2])
  if not count or count < 1 or count ~= math.floor(count) then
    M.message(count_name .. " must be a whole number of at least 1 (got \"" .. answers[2] .. "\").")
    return nil
  end
  M.set(prompt_key, answers[1])
  M.set(count_key, count)
  return answers[1], count
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

---------------------------------------------------------------------------
-- Dialogs and messages
---------------------------------------------------------------------------

function M.message(text, kind)
  r.ShowMessageBox(text, M.TITLE, kind or 0)
end

function M.console(text)
  r.ShowConsoleMsg("MIDI-LLM: " .. text .. "\n")
end

-- Ask for values; fields = {{caption, default}...}. Returns a list of strings, or nil when cancelled.
-- The fields are separated by "|"; a "|" typed in the first field (the prompt) is kept.
function M.ask(title, fields)
  local captions, defaults = {}, {}
  for i, field in ipairs(fields) do
    captions[i] = field[1]:gsub(",", ";")
    defaults[i] = tostring(field[2] or ""):gsub("|", "/")
  end
  local ok, answer = r.GetUserInputs(title, #fields,
    table.concat(captions, ",") .. ",separator=|,extrawidth=260", table.concat(defaults, "|"))
  if not ok then return nil end
  local parts = {}
  for part in (answer .. "|"):gmatch("(.-)|") do parts[#parts + 1] = part end
  while #parts > #fields do  -- the prompt held a "|": put it back together
    parts[1] = parts[1] .. "|" .. table.remove(parts, 2)
  end
  for i = 1, #fields do parts[i] = (parts[i] or ""):gsub("^%s+", ""):gsub("%s+$", "") end
  return parts
end

---------------------------------------------------------------------------
-- The command-line client
---------------------------------------------------------------------------

function M.client_file_name()
  return M.is_windows() and "midi-llm-bridge.exe" or "midi-llm-bridge"
end

function M.venv_client(folder)
  if M.is_windows() then return M.path_join(folder, ".venv\\Scripts\\midi-llm-bridge.exe") end
  return M.path_join(folder, ".venv/bin/midi-llm-bridge")
end

-- Where the client may be, in order. An explicit setting is the only candidate.
function M.client_candidates()
  local setting = M.get("client")
  if setting ~= "" then
    -- The executable itself, or the midi-llm-bridge folder (its .venv), or a folder holding it.
    setting = setting:gsub("^~", os.getenv("HOME") or os.getenv("USERPROFILE") or "~")
    return { setting, M.venv_client(setting), M.path_join(setting, M.client_file_name()) }, true
  end
  local list = {}
  local env = os.getenv("MIDI_LLM_BRIDGE_CLIENT")
  if env and env ~= "" then list[#list + 1] = env end
  -- Installed by hand from the repository: reaper_scripts/MIDI-LLM/ -> ../../.venv
  local sep = M.is_windows() and "\\" or "/"
  local repo = M.script_dir .. ".." .. sep .. ".." .. sep
  list[#list + 1] = M.venv_client(repo)
  local path = os.getenv("PATH") or ""
  for folder in path:gmatch(M.is_windows() and "[^;]+" or "[^:]+") do
    list[#list + 1] = M.path_join(folder, M.client_file_name())
  end
  local home = os.getenv("HOME") or os.getenv("USERPROFILE")
  if home then list[#list + 1] = M.venv_client(M.path_join(home, "midi-llm-bridge")) end
  return list, false
end

-- A readable regular file (a folder opens on some systems but cannot be read).
function M.is_file(path)
  if not path or path == "" then return false end
  local handle = io.open(path, "rb")
  if not handle then return false end
  local ok = handle:read(0)
  handle:close()
  return ok ~= nil
end

function M.find_client()
  local candidates, explicit = M.client_candidates()
  for _, path in ipairs(candidates) do
    if M.is_file(path) then return path end
  end
  return nil, candidates, explicit
end

function M.client_not_found_message(candidates, explicit)
  local shown = {}
  for i = 1, math.min(#candidates, 6) do shown[#shown + 1] = "  " .. candidates[i] end
  if #candidates > 6 then shown[#shown + 1] = "  ..." end
  local head = explicit and "The MIDI-LLM client was not found at the path set in \"MIDI-LLM - Settings\":"
    or "The MIDI-LLM command-line client (midi-llm-bridge) was not found. Looked for:"
  return head .. "\n" .. table.concat(shown, "\n") .. "\n\n" ..
    "Install midi-llm-bridge (in its folder, `make run` creates .venv and starts the daemon), then run " ..
    "\"MIDI-LLM - Settings\" and set \"Client path\" to its .venv" ..
    (M.is_windows() and "\\Scripts\\midi-llm-bridge.exe" or "/bin/midi-llm-bridge") .. " (or to the folder)."
end

-- Command-line flags of the shared settings (model options).
function M.model_flags(flags)
  flags = flags or {}
  local function add(flag, key)
    local value = M.get(key)
    if value ~= "" then flags[#flags + 1] = flag flags[#flags + 1] = value end
  end
  add("--temperature", "temperature")
  add("--top-p", "top_p")
  add("--top-k", "top_k")
  add("--grid", "grid")
  add("--seed", "seed")
  add("--max-notes", "max_notes")
  add("--velocity", "velocity")
  return flags
end

-- --instruments / --pitch-range for a track's options and an item's notes.
function M.instrument_flags(flags, options, notes)
  if options.instrument ~= nil then
    flags[#flags + 1] = "--instruments"
    flags[#flags + 1] = tostring(options.instrument)
  elseif notes and M.get("keep_instruments") == "1" then
    local list = M.instruments_of(notes)
    if #list > 0 then
      local names = {}
      for i, v in ipairs(list) do names[i] = tostring(v) end
      flags[#flags + 1] = "--instruments"
      flags[#flags + 1] = table.concat(names, ",")
    end
  end
  if options.low ~= 0 or options.high ~= 127 then
    flags[#flags + 1] = "--pitch-range"
    flags[#flags + 1] = string.format("%d-%d", options.low, options.high)
  end
  return flags
end

function M.new_id()
  local fraction = math.floor(((r.time_precise and r.time_precise() or os.clock()) % 1) * 1e6)
  math.randomseed(os.time() + fraction)
  return string.format("reaper-%d-%06d", os.time(), math.random(0, 999999))
end

-- Write the script that runs the client with redirections and leaves its exit
-- code in a file (the sentinel that the process has ended), and start it in
-- the background: ExecProcess with -1/-2 does not wait (-2 also minimizes the
-- console window on Windows). Going through a script file keeps every
-- argument's quoting under our control whatever ExecProcess does with its
-- command line.
--
-- files.wait_for (optional): a file to wait for before the command runs (up to
-- M.STARTUP_SECONDS, or until files.wait_done exists): a cancel waits until the
-- request it cancels has been sent, also when REAPER stopped the script first.
function M.launch(args, files, secret)
  local lines = {}
  local quoted = {}
  for i, arg in ipairs(args) do quoted[i] = M.quote(arg) end
  local command = table.concat(quoted, " ")
  local launcher
  if M.is_windows() then
    lines[#lines + 1] = "@echo off"
    lines[#lines + 1] = "chcp 65001 >NUL"
    if secret and secret ~= "" then
      lines[#lines + 1] = 'set "MIDI_LLM_BRIDGE__OSC__SECRET=' .. secret:gsub('"', ""):gsub("%%", "%%%%") .. '"'
    end
    if files.wait_for then
      lines[#lines + 1] = "set /a waited=0"
      lines[#lines + 1] = ":wait"
      lines[#lines + 1] = "if exist " .. M.quote(files.wait_for) .. " goto go"
      lines[#lines + 1] = "if exist " .. M.quote(files.wait_done) .. " goto go"
      lines[#lines + 1] = "if %waited% GEQ " .. M.STARTUP_SECONDS .. " goto go"
      lines[#lines + 1] = "set /a waited+=1"
      lines[#lines + 1] = "ping -n 2 127.0.0.1 >NUL"
      lines[#lines + 1] = "goto wait"
      lines[#lines + 1] = ":go"
    end
    lines[#lines + 1] = command .. " >" .. M.quote(files.stdout) .. " 2>" .. M.quote(files.stderr) .. " <NUL"
    -- Parentheses: "echo 1>file" would redirect handle 1 instead of writing "1".
    lines[#lines + 1] = "(echo %ERRORLEVEL%)>" .. M.quote(files.exit .. ".tmp")
    lines[#lines + 1] = "move /Y " .. M.quote(files.exit .. ".tmp") .. " " .. M.quote(files.exit) .. " >NUL"
    M.write_file(files.script, table.concat(lines, "\r\n") .. "\r\n")
    launcher = 'cmd.exe /C ""' .. files.script .. '""'
  else
    lines[#lines + 1] = "#!/bin/sh"
    if secret and secret ~= "" then
      lines[#lines + 1] = "MIDI_LLM_BRIDGE__OSC__SECRET=" .. M.quote(secret) .. "; export MIDI_LLM_BRIDGE__OSC__SECRET"
    end
    if files.wait_for then
      lines[#lines + 1] = "waited=0"
      lines[#lines + 1] = "while [ ! -s " .. M.quote(files.wait_for) .. " ] && [ ! -f " .. M.quote(files.wait_done) ..
        " ] && [ $waited -lt " .. (M.STARTUP_SECONDS * 10) .. " ]; do sleep 0.1; waited=$((waited + 1)); done"
    end
    lines[#lines + 1] = command .. " >" .. M.quote(files.stdout) .. " 2>" .. M.quote(files.stderr) .. " </dev/null"
    lines[#lines + 1] = "echo $? >" .. M.quote(files.exit .. ".tmp")
    lines[#lines + 1] = "mv -f " .. M.quote(files.exit .. ".tmp") .. " " .. M.quote(files.exit)
    M.write_file(files.script, table.concat(lines, "\n") .. "\n")
    launcher = '/bin/sh "' .. files.script:gsub('(["\\$`])', "\\%1") .. '"'
  end
  r.ExecProcess(launcher, -2)
  return launcher
end

---------------------------------------------------------------------------
-- A request: start the client, poll its files with defer, show progress, cancel
---------------------------------------------------------------------------

local function read_lines(path)
  local text = M.read_file(path)
  local lines = {}
  if text then
    for line in text:gmatch("[^\r\n]+") do lines[#lines + 1] = line end
  end
  return lines
end

local function job_files(id)
  local base = M.path_join(M.temp_dir(), "midi-llm-" .. id)
  return {
    input = base .. "-in.json", output = base .. "-out.json", progress = base .. "-progress.txt",
    stdout = base .. "-stdout.txt", stderr = base .. "-stderr.txt", exit = base .. "-exit.txt",
    script = base .. (M.is_windows() and "-run.cmd" or "-run.sh"),
    cancel_output = base .. "-cancel.json", cancel_progress = base .. "-cancel-progress.txt",
    cancel_stdout = base .. "-cancel-stdout.txt", cancel_stderr = base .. "-cancel-stderr.txt",
    cancel_exit = base .. "-cancel-exit.txt",
    cancel_script = base .. (M.is_windows() and "-cancel.cmd" or "-cancel.sh"),
  }
end

local function remove_files(files)
  if M.get("keep_files") == "1" then return end
  for _, path in pairs(files) do
    os.remove(path)
    os.remove(path .. ".tmp")
  end
end

local function daemon_flags(args)
  local port = M.get("port")
  args[#args + 1] = "--port"
  args[#args + 1] = port
  local host = M.get("host")
  if host ~= "" and host ~= "127.0.0.1" then
    args[#args + 1] = "--host"
    args[#args + 1] = host
  end
  return args
end

function M.not_running_message(detail)
  local port = M.get("port")
  return "The MIDI-LLM daemon is not running (daemon not running on " .. M.get("host") .. ":" .. port .. ").\n\n" ..
    (detail and detail ~= "" and ("The client said: " .. detail .. "\n\n") or "") ..
    "Start it in a terminal, in the midi-llm-bridge folder:\n    make run\n" ..
    "(or: midi-llm-bridge serve --port " .. port .. "), wait for its \"ready\" line, then run the action again.\n" ..
    "The port the scripts use is set in \"MIDI-LLM - Settings\"."
end

-- UI ----------------------------------------------------------------------

local function ui_open(job)
  if M.get("window") ~= "1" or not gfx then
    M.console(job.title .. ": started (run the action \"MIDI-LLM - Settings\" to show a window instead)")
    return
  end
  gfx.init(M.TITLE .. ": " .. job.title, 420, 130)
  gfx.setfont(1, "Arial", 15)
  job.window = true
end

local function ui_close(job)
  if job.window then
    gfx.quit()
    job.window = false
  end
end

local BUTTON = { w = 90, h = 26 }

-- Draw the window; true when the user asked to cancel (button, Esc, or closing it).
local function ui_step(job)
  if not job.window then return false end
  local w, h = gfx.w > 0 and gfx.w or 420, gfx.h > 0 and gfx.h or 130
  gfx.set(0.16, 0.16, 0.18, 1)
  gfx.rect(0, 0, w, h, 1)
  gfx.set(0.95, 0.95, 0.95, 1)
  gfx.x, gfx.y = 14, 12
  gfx.drawstr(job.title)
  gfx.set(0.75, 0.75, 0.78, 1)
  gfx.x, gfx.y = 14, 36
  gfx.drawstr(job.status)
  local bar_w = w - 28
  gfx.set(0.3, 0.3, 0.33, 1)
  gfx.rect(14, 60, bar_w, 10, 1)
  gfx.set(0.35, 0.65, 1.0, 1)
  gfx.rect(14, 60, math.floor(bar_w * math.max(0, math.min(1, job.fraction))), 10, 1)
  local bx, by = w - BUTTON.w - 14, h - BUTTON.h - 12
  gfx.set(0.3, 0.3, 0.33, 1)
  gfx.rect(bx, by, BUTTON.w, BUTTON.h, 1)
  gfx.set(0.95, 0.95, 0.95, 1)
  local label = job.cancelling and "Cancelling" or "Cancel"
  local tw, th = gfx.measurestr(label)
  gfx.x, gfx.y = bx + (BUTTON.w - tw) / 2, by + (BUTTON.h - th) / 2
  gfx.drawstr(label)
  gfx.update()
  local char = gfx.getchar()
  local clicked = false
  local down = (gfx.mouse_cap or 0) & 1 == 1
  if job.mouse_down and not down then
    local mx, my = gfx.mouse_x or -1, gfx.mouse_y or -1
    clicked = mx >= bx and mx <= bx + BUTTON.w and my >= by and my <= by + BUTTON.h
  end
  job.mouse_down = down
  if char == -1 then job.window = false end
  return char == 27 or char == -1 or clicked
end

-- The request --------------------------------------------------------------

local function finish(job)
  job.finished = true
  ui_close(job)
  remove_files(job.files)
end

local function describe_progress(job, lines)
  for _, line in ipairs(lines) do
    local word, rest = line:match("^(%S+)%s*(.*)$")
    if word == "sent" then
      job.sent = true
      job.status = "Request sent, waiting for the daemon..."
    elseif word == "accepted" then
      job.sent = true
      local ahead = tonumber(rest) or 0
      job.status = ahead > 0 and string.format("Queued: %d request(s) ahead", ahead) or "Accepted"
    elseif word == "started" then
      job.status = "Writing..."
    elseif word == "progress" then
      local fraction, count = rest:match("^(%S+)%s+(%S+)")
      job.fraction = tonumber(fraction) or job.fraction
      job.status = string.format("Writing... %d%%, %d notes", math.floor(job.fraction * 100 + 0.5),
                                 tonumber(count) or 0)
    elseif word == "warning" then
      job.warnings[rest] = true
    end
  end
end

local function send_cancel(job)
  local args = { job.client, "request", "cancel", "--target", job.id, "--json", job.files.cancel_output,
                 "--progress-file", job.files.cancel_progress, "--timeout", "10" }
  daemon_flags(args)
  -- The cancel waits (in its own script) for the request's first progress line ("sent"), so it also works
  -- before this script has seen that line, and after REAPER has stopped this script.
  local files = { stdout = job.files.cancel_stdout, stderr = job.files.cancel_stderr, exit = job.files.cancel_exit,
                  script = job.files.cancel_script, wait_for = job.files.progress, wait_done = job.files.exit }
  M.launch(args, files, M.get("secret"))
  job.cancel_sent = true
end

function M.cancel(job)
  if job.finished or job.cancelling then return end
  job.cancelling = true
  job.cancel_time = r.time_precise()
  job.status = "Cancelling..."
  send_cancel(job)
end

local function on_error(job, code, message)
  if code == "cancelled" or job.cancelling then
    M.console(job.title .. ": cancelled.")
    return
  end
  if code == "not_running" then
    M.message(M.not_running_message(message))
  elseif code == "timeout" then
    M.message(job.title .. ": no result in time.\n\n" .. (message or "") ..
              "\n\nThe daemon may be busy; the timeout is set in \"MIDI-LLM - Settings\".")
  elseif code == "bad_input" then
    M.message(job.title .. ": the client refused the request.\n\n" .. (message or ""))
  else
    M.message(job.title .. ": the daemon answered with an error (" .. tostring(code) .. ").\n\n" .. (message or ""))
  end
end

local function stderr_tail(job)
  local text = M.read_file(job.files.stderr) or ""
  if #text > 1500 then text = "..." .. text:sub(-1500) end
  return text
end

local function poll(job)
  if job.finished then return end
  local now = r.time_precise()
  if ui_step(job) then M.cancel(job) end
  if now >= job.next_check then
    job.next_check = now + 0.1
    local lines = read_lines(job.files.progress)
    describe_progress(job, lines)
    local last = lines[#lines] or ""
    if last == "done" then
      local text = M.read_file(job.files.output)
      local document, err = nil, "no result file"
      if text then document, err = M.json_decode(text) end
      finish(job)
      if job.cancelling then
        M.console(job.title .. ": cancelled (the result that came anyway was not used).")
      elseif not document then
        M.message(job.title .. ": could not read the client's result (" .. tostring(err) .. ").")
      else
        for warning in pairs(job.warnings) do M.console(job.title .. ": " .. warning) end
        local ok, problem = xpcall(job.on_done, debug.traceback, document, job)
        if not ok then M.message(job.title .. ": could not write the result into the project.\n\n" .. tostring(problem)) end
      end
      return
    end
    local code, message = last:match("^error%s+(%S+)%s*(.*)$")
    if code then
      local text = M.read_file(job.files.output)
      local document = text and M.json_decode(text)
      if type(document) == "table" and document.message then message = document.message end
      finish(job)
      on_error(job, code, message)
      return
    end
    local exit_code = M.read_file(job.files.exit)
    if exit_code then
      exit_code = tonumber(exit_code:match("%-?%d+")) or -1
      local detail = stderr_tail(job)
      finish(job)
      if job.cancelling then
        M.console(job.title .. ": cancelled.")
      elseif exit_code == 126 or exit_code == 127 or (M.is_windows() and exit_code == 9009) then
        M.message("The MIDI-LLM client could not be started (exit status " .. exit_code .. "):\n  " .. job.client ..
                  "\n\n" .. detail .. "\n\nCheck \"Client path\" in \"MIDI-LLM - Settings\".")
      else
        M.message(job.title .. ": the client stopped without a result (exit status " .. exit_code .. ").\n\n" .. detail)
      end
      return
    end
    if job.cancelling and now - job.cancel_time > M.CANCEL_GRACE_SECONDS then
      finish(job)
      M.console(job.title .. ": cancelled (the daemon did not confirm).")
      return
    end
    if #lines == 0 and now - job.started > M.STARTUP_SECONDS then
      finish(job)
      M.message("The MIDI-LLM client did not start within " .. M.STARTUP_SECONDS .. " seconds.\n\nCommand: " ..
                job.launcher .. "\nClient: " .. job.client .. "\n\nCheck \"Client path\" in \"MIDI-LLM - Settings\".")
      return
    end
    if now - job.started > job.timeout + 30 then
      finish(job)
      M.message(job.title .. ": the client gave no result after " .. math.floor(job.timeout) .. " seconds.")
      return
    end
  end
  r.defer(function() poll(job) end)
end

M.current = nil

-- Run one request in the background. spec = {action, title, flags = {...},
-- input = table (written as --in JSON) or nil, on_done = function(document, job)}.
-- Returns the job, or nil when it could not start (a message was shown).
function M.request(spec)
  local client, candidates, explicit = M.find_client()
  if not client then
    M.message(M.client_not_found_message(candidates, explicit))
    return nil
  end
  local id = M.new_id()
  local files = job_files(id)
  local timeout = M.get_number("timeout") or 600
  local args = { client, "request", spec.action, "--id", id, "--json", files.output,
                 "--progress-file", files.progress, "--timeout", tostring(timeout) }
  daemon_flags(args)
  if spec.input then
    local ok, err = M.write_file(files.input, M.json_encode(spec.input))
    if not ok then
      M.message("Could not write the request file " .. files.input .. ": " .. tostring(err))
      return nil
    end
    args[#args + 1] = "--in"
    args[#args + 1] = files.input
  end
  for _, flag in ipairs(spec.flags or {}) do args[#args + 1] = tostring(flag) end
  local job = { id = id, files = files, client = client, title = spec.title or spec.action, on_done = spec.on_done,
                status = "Starting the client...", fraction = 0, warnings = {}, started = r.time_precise(),
                next_check = 0, timeout = timeout, args = args }
  job.launcher = M.launch(args, files, M.get("secret"))
  M.current = job
  ui_open(job)
  -- REAPER may stop the script at any moment (the user's "terminate", closing the project), even before the
  -- first poll: a job that has not finished is cancelled in the daemon whatever this script has seen of it.
  r.atexit(function()
    if not job.finished then
      M.cancel(job)
      ui_close(job)
    end
  end)
  r.defer(function() poll(job) end)
  return job
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

return M
