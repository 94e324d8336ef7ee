-- Unit checks of the scripts' library under the fake REAPER API (no daemon):
--   lua5.4 tests/reaper/unit.lua reaper_scripts/MIDI-LLM/midi-llm_lib.lua
-- Prints one line per failed check and exits 1 if any failed.
local here = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or "./"
local F = dofile(here .. "fake_reaper.lua")
F.install()

local failures = 0
local function check(condition, what)
  if not condition then
    failures = failures + 1
    print("FAIL: " .. what)
  end
end
local function close(a, b, tolerance) return math.abs(a - b) <= (tolerance or 1e-9) end

F.load({ tempo = { { qn = 0, bpm = 120, num = 4, den = 4 } }, tracks = {} })
local L = dofile(arg[1])

-- Track names
local cases = {
  { "Bass [33]", 33 }, { "[128]", 128 }, { "Drums", 128 }, { "My Kit", 128 }, { "Lead Synth", 81 },
  { "Vocals", nil }, { "Piano [drums]", 128 }, { "Strings [48] [55-79]", 48 }, { "Keys", 4 },
}
for _, case in ipairs(cases) do
  check(L.parse_track_name(case[1]).instrument == case[2], "track name " .. case[1])
end
local ranged = L.parse_track_name("Strings [48] [55-79]")
check(ranged.low == 55 and ranged.high == 79, "pitch range from the track name")

-- JSON
local text = '{"a": [1, 2.5, -3e2, true, false, null], "s": "caf\\u00e9 \\"q\\" \\n\\ud83c\\udfb9", "o": {}, "e": []}'
local value = L.json_decode(text)
check(value and value.a[1] == 1 and value.a[2] == 2.5 and value.a[3] == -300 and value.a[4] == true, "JSON numbers")
check(value and value.s == 'café "q" \n🎹', "JSON strings with escapes and surrogate pairs")
local again = L.json_decode(L.json_encode({ x = 0.1, y = 1 / 3, z = "a\tb", list = L.array({}) }))
check(again and again.x == 0.1 and again.y == 1 / 3 and again.z == "a\tb" and #again.list == 0,
      "JSON round trip keeps full precision")
check(L.json_decode("{bad") == nil, "bad JSON is refused, not raised")
check(L.num(8.0) == "8" and L.num(0.5) == "0.5", "numbers for flags")

-- Dialog answers: a "|" typed in the prompt is kept
F.inputs = { { ok = true, values = "a | b|4" } }
local answers = L.ask("t", { { "Prompt", "" }, { "Bars", "4" } })
check(answers and answers[1] == "a | b" and answers[2] == "4", "a | in the prompt")
F.inputs = { { ok = false } }
check(L.ask("t", { { "Prompt", "" } }) == nil, "a cancelled dialog")

-- Settings never store newlines
L.set("prompt_generate", "two\nlines")
check(L.get("prompt_generate") == "two lines", "ExtState without newlines")
check(L.get("port") == "9123", "default port")

-- Tempo map: constant segments, from an origin inside a segment
F.set_tempo({ { qn = 0, bpm = 120 }, { qn = 24, bpm = 90 }, { qn = 40, bpm = 140, num = 3, den = 4 } })
local bpm, changes = L.tempo_map(16, 48)
check(bpm == 120 and #changes == 2 and changes[1][1] == 8 and changes[1][2] == 90 and changes[2][1] == 24 and
      changes[2][2] == 140, "tempo changes relative to the origin")
bpm, changes = L.tempo_map(30, 36)
check(bpm == 90 and #changes == 0, "origin after a change")
local song = L.song(44, 60)
check(song.time_sig == "3/4" and song.tempo == 140, "meter and tempo at the origin")

-- Bars are REAPER's measures: a meter change and a partial measure count as they are
F.set_tempo({ { qn = 0, bpm = 120, num = 4, den = 4 }, { qn = 36, num = 3, den = 4 }, { qn = 46, num = 6, den = 8 } })
check(close(L.qn_after_bars(32, 2), 39), "a 4/4 bar then a 3/4 bar")
check(close(L.qn_after_bars(32 - 1e-9, 2), 39), "on the bar line, float noise below it")
check(close(L.qn_after_bars(34, 1), 38), "from inside a bar, the same distance into the next")
check(close(L.qn_after_bars(35.5, 2), 42), "clamped to the shorter bar's end")
check(close(L.qn_after_bars(45, 1), 46), "a partial 3/4 measure before the 6/8 marker")
check(close(L.qn_after_bars(46, 2), 52), "6/8 bars are 3 quarter notes")

-- A linear ramp: the steps sent keep REAPER's time at every step boundary
F.set_tempo({ { qn = 0, bpm = 100, linear = true }, { qn = 8, bpm = 140 }, { qn = 16, bpm = 140 } })
bpm, changes = L.tempo_map(2, 16)
local function seconds_at(beats)  -- what the daemon computes from the steps
  local points = { { 0, bpm } }
  for _, c in ipairs(changes) do points[#points + 1] = { c[1], c[2] } end
  local t = 0
  for i, p in ipairs(points) do
    local stop = points[i + 1] and points[i + 1][1] or math.huge
    if beats <= stop then return t + (beats - p[1]) * 60 / p[2] end
    t = t + (stop - p[1]) * 60 / p[2]
  end
end
check(#changes >= 4, "a ramp becomes several steps")
for _, c in ipairs(changes) do
  local expected = L.qn_to_time(2 + c[1]) - L.qn_to_time(2)
  check(close(seconds_at(c[1]), expected, 1e-6), "ramp step at beat " .. c[1])
end
check(close(seconds_at(12), L.qn_to_time(14) - L.qn_to_time(2), 1e-6), "after the ramp")

-- Channels: instruments keep theirs; new ones get a free channel and a program change
local plan = L.channel_plan({ { chan = 3, instrument = 0 }, { chan = 9, instrument = 128 } }, nil, {})
check(plan.channel({ instrument = 0, channel = 0 }) == 3, "an instrument keeps its channel")
check(plan.channel({ instrument = 128, channel = 9 }) == 9, "drums on channel 10")
local c33 = plan.channel({ instrument = 33, channel = 3 })
check(c33 ~= 3 and c33 ~= 9 and plan.new_programs[c33] == 33, "a new instrument gets a free channel")
local fixed = L.channel_plan({ { chan = 5, instrument = 33 }, { chan = 5, instrument = 33 }, { chan = 2, instrument = 33 } },
                            33, {})
check(fixed.channel({ instrument = 0, channel = 0 }) == 5, "a fixed instrument writes on the usual channel")

-- Overlaps with the notes that stay
F.load({ tempo = { { qn = 0, bpm = 120 } }, tracks = { { name = "t", items = { { qn = 0, length_qn = 8, takes = { {} } } } } } })
local item = reaper.GetMediaItem(0, 0)
local take = reaper.GetActiveTake(item)
local kept = { { startppq = 0, endppq = 1920, chan = 0, pitch = 60 }, { startppq = 2880, endppq = 3000, chan = 0, pitch = 62 } }
local one = L.channel_plan({}, 0, {})
local placed = L.place_notes(take, {
  { pitch = 60, start = 1, duration = 1 },     -- starts while the kept 60 sounds: dropped
  { pitch = 62, start = 2, duration = 2 },     -- runs into the kept 62 at beat 3: shortened
  { pitch = 64, start = 4, duration = 1 },
  { pitch = 64, start = 4.5, duration = 1 },   -- the previous 64 is cut here
}, 0, one, kept)
check(#placed == 3, "overlapping new note dropped")
check(placed[1].pitch == 62 and placed[1].endppq == 2880, "new note shortened before a kept one")
check(placed[2].endppq == 4320 and placed[3].startppq == 4320, "new notes of one pitch do not overlap")

-- The client: a folder setting finds its .venv; a folder is never taken for the executable
local repo = L.script_dir .. "../../"
F.extstate = { ["MIDI-LLM"] = { client = repo } }
local found = L.find_client()
local venv = io.open(repo .. ".venv/bin/midi-llm-bridge", "rb")
if venv then
  venv:close()
  check(found and found:match("%.venv/bin/midi%-llm%-bridge$"), "client path set to the repository folder")
end
check(not L.is_file(L.script_dir), "a folder is not a file")
F.extstate = { ["MIDI-LLM"] = { client = "/nonexistent/x" } }
local missing, candidates, explicit = L.find_client()
check(missing == nil and explicit and candidates[1] == "/nonexistent/x", "an explicit path that does not exist")

-- Where the client is looked for without a setting: pipx's folder, and Homebrew's on macOS
F.extstate = {}
F.os_name = "macOS-arm64"
local looked = table.concat((L.client_candidates()), "\n")
check(looked:find((os.getenv("HOME") or "?") .. "/.local/bin/midi-llm-bridge", 1, true) ~= nil, "pipx's folder")
check(looked:find("/opt/homebrew/bin/midi-llm-bridge", 1, true) ~= nil, "Homebrew on macOS")
F.os_name = "Other"
check(not table.concat((L.client_candidates()), "\n"):find("/opt/homebrew", 1, true), "no Homebrew on Linux")

-- Request ids never repeat within a script (each names files and a request in the daemon)
local ids = {}
for _ = 1, 50 do ids[L.new_id()] = true end
local distinct = 0
for _ in pairs(ids) do distinct = distinct + 1 end
check(distinct == 50, "request ids are unique")

-- Daemon options: words, quotes keep spaces, an open quote is refused
local words = L.split_options([[--model "/a b/c" --set 'x=1 2'  --set y=""]])
check(words and #words == 6 and words[2] == "/a b/c" and words[4] == "x=1 2" and words[6] == "y=", "daemon options")
check(L.split_options('--model "/a') == nil, "an open quote")
check(#L.split_options("   ") == 0, "no options")

-- What the status line says of a daemon state, and how far a download is
check(L.daemon_state_text("loading", "") == "Loading the model...", "loading")
check(L.daemon_state_text("downloading", "downloading m: 1.2 of 2.5 GB") == "Downloading m: 1.2 of 2.5 GB",
      "the daemon's message, capitalized")
check(L.daemon_state_text("someday", "") == "The daemon says: someday", "an unknown state as it is")
check(close(L.download_fraction({ message = "downloading m: 1.2 of 2.5 GB" }), 0.48), "download from the message")
check(close(L.download_fraction({ bytes_done = 1, bytes_total = 4, message = "" }), 0.25), "download from bytes")
check(L.download_fraction({ bytes_done = 0, bytes_total = 0, message = "downloading" }) == nil, "unknown size")
check(L.is_local_host("127.0.0.1") and L.is_local_host("::1") and not L.is_local_host("10.0.0.2"), "local hosts")

if failures > 0 then os.exit(1) end
print("ok")
