-- @noindex
--[[
MIDI-LLM for REAPER: A request: start the client, poll its files with defer, show the progress,
cancel (also when REAPER stops the script), and hand the result to the action.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.CANCEL_GRACE_SECONDS = 10   -- after a cancel, stop waiting for the daemon's answer after this long

-- The request --------------------------------------------------------------

local function finish(job)
  job.finished = true
  M.window_close(job)
  M.remove_files(job.files)
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
  M.daemon_flags(args)
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
  if M.window_step(job) then M.cancel(job) end
  if now >= job.next_check then
    job.next_check = now + 0.1
    local lines = M.read_lines(job.files.progress)
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

-- Send the request now (the daemon is ready), in the waiter's window when it has one.
local function send(spec, client, waiter)
  local id = M.new_id()
  local files = M.job_files(id)
  local timeout = M.get_number("timeout") or 600
  local args = { client, "request", spec.action, "--id", id, "--json", files.output,
                 "--progress-file", files.progress, "--timeout", tostring(timeout) }
  M.daemon_flags(args)
  if spec.input then
    local ok, err = M.write_file(files.input, M.json_encode(spec.input))
    if not ok then
      M.window_close(waiter)
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
  job.window, waiter.window = waiter.window, false  -- the same window goes on
  -- REAPER may stop the script at any moment (the user's "terminate", closing the project), even before the
  -- first poll: a job that has not finished is cancelled in the daemon whatever this script has seen of it.
  r.atexit(function()
    if not job.finished then
      M.cancel(job)
      M.window_close(job)
    end
  end)
  r.defer(function() poll(job) end)
  return job
end

-- Run one request in the background, once the daemon is ready (started if need be: see
-- M.when_daemon_ready). spec = {action, title, flags = {...}, input = table (written as --in JSON)
-- or nil, on_done = function(document, job)}. Returns the waiter, or nil when the client was
-- not found (a message was shown).
function M.request(spec)
  local client, candidates, explicit = M.find_client()
  if not client then
    M.message(M.client_not_found_message(candidates, explicit))
    return nil
  end
  return M.when_daemon_ready({ title = spec.title or spec.action, client = client, keep_window = true,
                               on_ready = function(_, waiter) send(spec, client, waiter) end })
end
