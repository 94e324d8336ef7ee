-- @noindex
--[[
MIDI-LLM for REAPER: instruments: the GM names, what a track name says ("Bass [33]", "Drums"),
and the MIDI-LLM track options JSFX.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.DRUMS = 128

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

-- "Electric Bass (finger) [33]", "Drums": a track name the scripts read back.
function M.track_label(instrument)
  if instrument == M.DRUMS then return "Drums" end
  return string.format("%s [%d]", M.instrument_name(instrument), instrument)
end
