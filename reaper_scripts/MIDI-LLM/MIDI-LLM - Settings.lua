-- @description MIDI-LLM - Settings
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   Daemon port, client path, model options and defaults of the MIDI-LLM
--   actions (kept in REAPER's ExtState), whether the actions start the daemon
--   when none answers (and with which options), then checks that the client
--   and the daemon answer (starting it when that is on). Per-track options live
--   in the "MIDI-LLM track options" JSFX, or in the track name ("Bass [33]").
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")

local FIELDS = {
  { "Daemon port (or host:port)", "address" },
  { "*Secret (remote daemon only)", "secret" },
  { "Client path (empty: automatic)", "client" },
  { "Bars (Generate at cursor; Continue)", "bars", "count" },
  { "Variations (takes)", "variations", "count" },
  { "Temperature (empty: daemon default)", "temperature", "number" },
  { "Top-p (empty: daemon default)", "top_p", "number" },
  { "Top-k (empty: daemon default)", "top_k", "integer" },
  { "Grid: 1/16 1/8T off... (empty: default)", "grid" },
  { "Seed (empty: random)", "seed", "integer" },
  { "Max new notes (empty: default)", "max_notes", "count" },
  { "Timeout in seconds", "timeout", "count" },
  { "Accompany: instruments (e.g. bass;drums)", "accompany_instruments" },
  { "Keep the item's instruments (1/0)", "keep_instruments", "flag" },
  { "Progress window (1/0)", "window", "flag" },
  { "Keep temporary files (1/0)", "keep_files", "flag" },
}

-- A second form (GetUserInputs forms are kept to 16 fields): the daemon the actions start.
local DAEMON_FIELDS = {
  { "Start the daemon automatically (1/0)", "autostart", "flag" },
  { "Daemon options (e.g. --model DIR)", "daemon_options", "options" },
}

local function current(key)
  if key == "address" then
    local host = L.get("host")
    return (host ~= "127.0.0.1" and host ~= "") and (host .. ":" .. L.get("port")) or L.get("port")
  end
  return L.get(key)
end

local function check(kind, value)
  if value == "" or kind == nil then return true end
  local n = tonumber(value)
  if kind == "number" then return n ~= nil end
  if kind == "integer" then return n ~= nil and n == math.floor(n) and n >= 0 end
  if kind == "count" then return n ~= nil and n == math.floor(n) and n >= 1 end
  if kind == "flag" then return value == "0" or value == "1" end
  if kind == "options" then return L.split_options(value) ~= nil end
  return true
end

local function main()
  local fields = {}
  for i, field in ipairs(FIELDS) do fields[i] = { field[1], current(field[2]) } end
  local answers = L.ask("MIDI-LLM: Settings", fields)
  if not answers then return end
  local daemon_fields = {}
  for i, field in ipairs(DAEMON_FIELDS) do daemon_fields[i] = { field[1], current(field[2]) } end
  local daemon_answers = L.ask("MIDI-LLM: Settings (daemon)", daemon_fields)
  if not daemon_answers then return end
  local problems = {}
  local address = answers[1]
  local host, port = address:match("^%[?([^%]]-)%]?:(%d+)$")
  if not host then host, port = "127.0.0.1", address:match("^(%d+)$") end
  if not port or tonumber(port) < 1 or tonumber(port) > 65535 then
    problems[#problems + 1] = "Daemon port: \"" .. address .. "\" is not a port number (1-65535) or host:port."
  end
  for i = 2, #FIELDS do
    local field = FIELDS[i]
    if not check(field[3], answers[i]) then
      problems[#problems + 1] = field[1]:gsub("^%*", "") .. ": \"" .. answers[i] .. "\" is not valid."
    end
  end
  for i, field in ipairs(DAEMON_FIELDS) do
    if not check(field[3], daemon_answers[i]) then
      problems[#problems + 1] = field[1] .. ": \"" .. daemon_answers[i] .. "\" is not valid" ..
        (field[3] == "options" and " (a quote is not closed)." or ".")
    end
  end
  if #problems > 0 then
    return L.message("Nothing was saved:\n\n" .. table.concat(problems, "\n"))
  end
  L.set("host", host)
  L.set("port", port)
  for i = 2, #FIELDS do
    local value = answers[i]
    if FIELDS[i][2] == "accompany_instruments" then
      value = value:gsub("[;%s]+", ","):gsub("^,+", ""):gsub(",+$", "")
    end
    L.set(FIELDS[i][2], value)
  end
  for i, field in ipairs(DAEMON_FIELDS) do L.set(field[2], daemon_answers[i]) end

  local client, candidates, explicit = L.find_client()
  if not client then
    return L.message("Settings saved.\n\n" .. L.client_not_found_message(candidates, explicit))
  end
  L.when_daemon_ready({ title = "Settings", client = client, on_ready = function(document)
    L.message(string.format("Settings saved.\n\nClient: %s\nDaemon on %s:%s: %s, model %s on %s, protocol %s.",
                            client, L.get("host"), L.get("port"), tostring(document.state), tostring(document.model),
                            tostring(document.device), tostring(document.protocol)))
  end })
end

main()
