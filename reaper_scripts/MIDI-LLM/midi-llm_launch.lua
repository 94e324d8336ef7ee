-- @noindex
--[[
MIDI-LLM for REAPER: starting a command in the background: a script file with its redirections and
an exit-code file (the sentinel that it ended), run by ExecProcess without waiting;
the files of one job.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.STARTUP_SECONDS = 30        -- no line from the client after this long: it did not start

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
--
-- files.pid and files.detach (optional, for the daemon; macOS and Linux): the
-- command's process id goes to files.pid, and files.detach is a second script
-- that starts the first one outside REAPER: in a subshell that exits at once
-- (so the process is adopted by init and never waits as a zombie of REAPER),
-- under nohup (no hangup when a terminal or REAPER goes), in a session of its
-- own where setsid exists (Linux; macOS has none). On Windows a process started
-- by ExecProcess already outlives REAPER and no zombie exists.
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
    local redirections = " >" .. M.quote(files.stdout) .. " 2>" .. M.quote(files.stderr) .. " </dev/null"
    if files.pid then
      lines[#lines + 1] = command .. redirections .. " &"
      lines[#lines + 1] = "echo $! >" .. M.quote(files.pid)
      lines[#lines + 1] = "wait $!"
    else
      lines[#lines + 1] = command .. redirections
    end
    lines[#lines + 1] = "echo $? >" .. M.quote(files.exit .. ".tmp")
    lines[#lines + 1] = "mv -f " .. M.quote(files.exit .. ".tmp") .. " " .. M.quote(files.exit)
    M.write_file(files.script, table.concat(lines, "\n") .. "\n")
    local started = files.script
    if files.detach then
      local run = "/bin/sh " .. M.quote(files.script) .. " >/dev/null 2>&1 </dev/null &"
      M.write_file(files.detach, table.concat({
        "#!/bin/sh",
        "if command -v setsid >/dev/null 2>&1; then",
        "  (nohup setsid " .. run .. ")",
        "else",
        "  (nohup " .. run .. ")",
        "fi",
      }, "\n") .. "\n")
      started = files.detach
    end
    launcher = '/bin/sh "' .. started:gsub('(["\\$`])', "\\%1") .. '"'
  end
  r.ExecProcess(launcher, -2)
  return launcher
end

-- The lines of a file (none when it is not there yet).
function M.read_lines(path)
  local text = M.read_file(path)
  local lines = {}
  if text then
    for line in text:gmatch("[^\r\n]+") do lines[#lines + 1] = line end
  end
  return lines
end

-- The files of one request: its input, result, progress, the launch scripts and their sentinels.
function M.job_files(id)
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

-- Remove a job's files (unless "Keep temporary files" is on).
function M.remove_files(files)
  if M.get("keep_files") == "1" then return end
  for _, path in pairs(files) do
    os.remove(path)
    os.remove(path .. ".tmp")
  end
end
