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
REAPER's UI never blocks. Cancel = `request cancel --target ID`. When no
daemon answers, the actions start one (midi-llm_daemon.lua) and show its state
until it is ready (midi-llm_daemon_wait.lua).

Positions: notes are read with the MIDI_* API in ticks (PPQ) and converted to
quarter notes (beats) relative to an origin (the item start, or the time
selection start) through REAPER's own tempo map (MIDI_GetProjQNFromPPQPos /
MIDI_GetPPQPosFromProjQN); the tempo map from the origin on (tempo changes and
ramps included) travels with the request, so the model hears the right
real-time rhythm. Results are written back with MIDI_InsertNote (noSort) and
one MIDI_Sort per take, inside one undo block.

This file only loads the modules, each with one job, from its own folder (the
actions' folder, also in ReaPack's layout): every module adds its functions to
the one table M that the actions use as L.
]]

local M = {}
M.VERSION = "1.0.0"

-- The folder of this file (the actions and the modules live next to it).
M.script_dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""

M.MODULES = {
  "platform", "settings", "json", "dialogs", "instruments", "time", "items", "placement", "write",
  "client", "launch", "window", "request", "daemon", "daemon_wait",
}

for _, name in ipairs(M.MODULES) do
  local path = M.script_dir .. "midi-llm_" .. name .. ".lua"
  local chunk, problem = loadfile(path)
  if not chunk then
    error("MIDI-LLM: a file of the scripts is missing or damaged (" .. tostring(problem) .. "). Install all the " ..
          "midi-llm_*.lua files next to the actions again (ReaPack: reinstall the package).", 0)
  end
  chunk(M)
end

return M
