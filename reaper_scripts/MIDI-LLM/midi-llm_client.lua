-- @noindex
--[[
MIDI-LLM for REAPER: the command-line client (midi-llm-bridge): where it is found, and the flags
that every request gets from the settings.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

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
  -- REAPER started from the Finder, the Start menu or a desktop menu does not see the shell's PATH: the
  -- usual places of a clone in the home folder, of pipx (and `pip install --user`), of Homebrew.
  local home = os.getenv("HOME") or os.getenv("USERPROFILE")
  if home then
    list[#list + 1] = M.venv_client(M.path_join(home, "midi-llm-bridge"))
    list[#list + 1] = M.path_join(M.path_join(home, M.is_windows() and ".local\\bin" or ".local/bin"),
                                  M.client_file_name())
  end
  if M.is_macos() then
    list[#list + 1] = "/opt/homebrew/bin/midi-llm-bridge"
    list[#list + 1] = "/usr/local/bin/midi-llm-bridge"
  end
  return list, false
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

-- A request id no other request has: seeded once per script with the time and this Lua state's own
-- memory address (two REAPERs started in the same second differ there), and counted within the script.
local ids_made = 0
function M.new_id()
  if ids_made == 0 then
    local fraction = math.floor(((r.time_precise and r.time_precise() or os.clock()) % 1) * 1e6)
    local address = tonumber(tostring({}):match("0x(%x+)") or tostring({}):match("(%x+)$") or "0", 16) or 0
    math.randomseed(os.time(), (fraction + address) % 2147483647)
  end
  ids_made = ids_made + 1
  return string.format("reaper-%d-%06d-%d", os.time(), math.random(0, 999999), ids_made)
end

-- --port (and --host when not the default) of the daemon the settings name.
function M.daemon_flags(args)
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

-- Why nothing was sent: no daemon answers, and the scripts do not start one (it is off in the settings, or
-- the daemon is on another computer).
function M.not_running_message(detail)
  local port, host = M.get("port"), M.get("host")
  local head = "The MIDI-LLM daemon is not running (daemon not running on " .. host .. ":" .. port .. ").\n\n" ..
    (detail and detail ~= "" and ("The client said: " .. detail .. "\n\n") or "")
  if not M.is_local_host(host) then
    return head .. "It runs on another computer (" .. host .. "): start it there (make run, or midi-llm-bridge " ..
      "serve --host ... --port " .. port .. "), then run the action again. The address is set in \"MIDI-LLM - Settings\"."
  end
  return head .. "Start it with the action \"MIDI-LLM - Start daemon\", or turn on \"Start the daemon " ..
    "automatically\" in \"MIDI-LLM - Settings\"; or in a terminal, in the midi-llm-bridge folder:\n    make run\n" ..
    "(or: midi-llm-bridge serve --port " .. port .. "), wait for its \"ready\" line, then run the action again.\n" ..
    "The port the scripts use is set in \"MIDI-LLM - Settings\"."
end
