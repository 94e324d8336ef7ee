-- @noindex
--[[
MIDI-LLM for REAPER: waiting for the daemon before a request. Every action
asks the daemon first (`midi-llm-bridge request ping`, in the background, polled
with defer so REAPER's UI never blocks) and shows what it says until it is
ready: starting, downloading the model (with the daemon's "1.2 of 2.5 GB"),
loading, warming up. Nothing answers: the daemon is started (midi-llm_daemon.lua)
when "Start the daemon automatically" is on. The model could not be loaded
(state error): the daemon's own sentence, and Retry asks it to load again
(`request reload`) once the user has fixed the cause. Then the request is sent.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.PROTOCOL = 1                  -- the protocol these scripts speak (docs/protocol.md)
M.DAEMON_POLL_SECONDS = 0.5     -- between two pings while the daemon starts or loads
M.ASK_SECONDS = 30              -- a ping client that has not ended after this long is stuck
M.RETRY, M.RETRY_CANCEL = 4, 5  -- ShowMessageBox: the Retry answer, the Retry/Cancel box

local STATE_TEXT = {
  checking = "Checking the daemon...",
  starting = "Starting the daemon...",
  waiting_start = "Waiting for the daemon that another action started...",
  loading = "Loading the model...",
  downloading = "Downloading the model...",
  warming_up = "Warming up the model...",
  shutting_down = "The daemon is stopping; it is started again when it has...",
  ready = "The daemon is ready.",
}

-- The status line for a daemon state: the daemon's own message when it has one
-- ("downloading slseanwu/MIDI-LLM_Llama-3.2-1B: 1.2 of 2.5 GB"), else a phrase.
function M.daemon_state_text(state, message)
  if message and message ~= "" and state ~= "error" then return (message:gsub("^%l", string.upper)) end
  return STATE_TEXT[state] or ("The daemon says: " .. tostring(state))
end

-- The part done of a download: from the daemon's byte counts, else from its message ("... 1.2 of 2.5 GB");
-- nil while unknown.
function M.download_fraction(document)
  local done, total = tonumber(document.bytes_done), tonumber(document.bytes_total)
  if not (done and total and total > 0) then
    local a, b = tostring(document.message or ""):match("(%d+%.?%d*) of (%d+%.?%d*)")
    done, total = tonumber(a), tonumber(b)
  end
  if done and total and total > 0 then return math.max(0, math.min(1, done / total)) end
  return nil
end

local function set_status(waiter, text, fraction)
  if fraction then waiter.fraction = fraction end
  if text == waiter.status then return end
  waiter.status = text
  if not waiter.window then M.console(waiter.title .. ": " .. text) end
end

local function ask_files(waiter, action)
  waiter.asks = waiter.asks + 1
  local base = M.path_join(M.temp_dir(), "midi-llm-" .. waiter.id .. "-" .. action .. waiter.asks)
  return { output = base .. "-out.json", stdout = base .. "-stdout.txt", stderr = base .. "-stderr.txt",
           exit = base .. "-exit.txt", script = base .. (M.is_windows() and ".cmd" or ".sh") }
end

-- Start `request ping` (or `reload`) in the background; poll() reads its answer.
local function ask(waiter, action)
  local files = ask_files(waiter, action)
  local args = { waiter.client, "request", action, "--json", files.output, "--timeout", "5" }
  M.daemon_flags(args)
  M.launch(args, files, M.get("secret"))
  waiter.asking = { action = action, files = files, sent = r.time_precise() }
end

local function finish(waiter, keep_window)
  waiter.finished = true
  if waiter.asking then M.remove_files(waiter.asking.files) end
  if not keep_window then M.window_close(waiter) end
end

local function fail(waiter, text)
  finish(waiter)
  M.message(text)
end

-- Nothing answers on the port: start the daemon, wait for one that is starting, or say why not.
local function on_not_running(waiter, detail)
  local now = r.time_precise()
  if waiter.start then
    local code, port_taken = M.daemon_exit(waiter.start)
    if code and not port_taken then
      return fail(waiter, "The MIDI-LLM daemon stopped right after it started (exit status " .. code .. "):\n\n" ..
        M.daemon_log_tail(waiter.start) .. "\n\nCommand: " .. table.concat(waiter.start.args, " ") ..
        "\n\nCheck \"Client path\" and \"Daemon options\" in \"MIDI-LLM - Settings\".")
    end
    if now - waiter.start.started > M.DAEMON_START_SECONDS then
      return fail(waiter, "The MIDI-LLM daemon did not answer on " .. M.get("host") .. ":" .. M.get("port") ..
        " within " .. M.DAEMON_START_SECONDS .. " seconds of its start" ..
        (port_taken and ", and another program holds that port: choose another one in \"MIDI-LLM - Settings\"." or
         ". Its log:\n\n" .. M.daemon_log_tail(waiter.start)))
    end
    return set_status(waiter, STATE_TEXT.starting)
  end
  if not M.is_local_host(M.get("host")) then
    return fail(waiter, M.not_running_message(detail))
  end
  if M.get("autostart") ~= "1" and not waiter.spec.start_always then
    return fail(waiter, M.not_running_message(detail))
  end
  if M.recent_daemon_start(M.get("port")) then  -- another action started one a moment ago
    return set_status(waiter, STATE_TEXT.waiting_start)
  end
  local start, problem = M.start_daemon(waiter.client)
  if not start then return fail(waiter, problem) end
  waiter.start = start
  set_status(waiter, STATE_TEXT.starting)
end

-- The daemon could not load its model: its sentence, and a retry once the cause is fixed.
local function on_load_error(waiter, message)
  local answer = M.message(waiter.title .. ": the MIDI-LLM daemon could not load its model.\n\n" ..
    (message ~= "" and message or "(the daemon gave no reason)") ..
    "\n\nFix the cause, then press Retry: the daemon loads the model again. Cancel stops here; the daemon stays " ..
    "up, and the next action asks it again.", M.RETRY_CANCEL)
  if answer ~= M.RETRY then
    finish(waiter)
    return M.console(waiter.title .. ": cancelled (the daemon could not load its model).")
  end
  set_status(waiter, STATE_TEXT.loading, 0)
  ask(waiter, "reload")
end

local function on_answer(waiter, asking, exit_text)
  local text = M.read_file(asking.files.output)
  local document = text and M.json_decode(text)
  local stderr = M.read_file(asking.files.stderr) or ""
  M.remove_files(asking.files)
  if type(document) ~= "table" then
    local code = tonumber(exit_text:match("%-?%d+")) or -1
    return fail(waiter, "The MIDI-LLM client could not be started (exit status " .. code .. "):\n  " .. waiter.client ..
      "\n\n" .. stderr:sub(-1500) .. "\n\nCheck \"Client path\" in \"MIDI-LLM - Settings\".")
  end
  if document.status == "error" then
    if document.code == "not_running" then return on_not_running(waiter, document.message) end
    return fail(waiter, waiter.title .. ": the daemon could not be asked (" .. tostring(document.code) .. ").\n\n" ..
      tostring(document.message or ""))
  end
  if tonumber(document.protocol) ~= M.PROTOCOL then
    return fail(waiter, string.format("The daemon on %s:%s speaks protocol %s, these scripts %d: use the scripts " ..
      "from the same midi-llm-bridge as the daemon (reinstall them, or update the daemon).", M.get("host"),
      M.get("port"), tostring(document.protocol), M.PROTOCOL))
  end
  local state, message = tostring(document.state), tostring(document.message or "")
  if state == "ready" then
    set_status(waiter, STATE_TEXT.ready, 1)
    finish(waiter, waiter.spec.keep_window)
    return waiter.spec.on_ready(document, waiter)
  end
  if state == "error" then return on_load_error(waiter, message) end
  set_status(waiter, M.daemon_state_text(state, message), state == "downloading" and M.download_fraction(document) or nil)
end

local function poll(waiter)
  if waiter.finished then return end
  if M.window_step(waiter) then
    finish(waiter)
    return M.console(waiter.title .. ": cancelled.")
  end
  local now = r.time_precise()
  local asking = waiter.asking
  if asking then
    local exit_text = M.read_file(asking.files.exit)
    if exit_text then
      waiter.asking = nil
      waiter.next_ask = now + M.DAEMON_POLL_SECONDS
      on_answer(waiter, asking, exit_text)
    elseif now - asking.sent > M.ASK_SECONDS then
      return fail(waiter, "The MIDI-LLM client gave no answer within " .. M.ASK_SECONDS .. " seconds:\n  " ..
        waiter.client .. "\n\nCheck \"Client path\" in \"MIDI-LLM - Settings\".")
    end
  elseif now >= waiter.next_ask then
    ask(waiter, "ping")
  end
  if not waiter.finished then r.defer(function() poll(waiter) end) end
end

-- Wait, in the background, until the daemon is ready, then call spec.on_ready(ping document, waiter).
-- spec = {title, client, on_ready, start_always (the "Start daemon" action: start it whatever the setting),
-- keep_window (the request that follows takes over the waiter's progress window: see M.request)}.
function M.when_daemon_ready(spec)
  local waiter = { title = spec.title, client = spec.client, spec = spec, status = STATE_TEXT.checking,
                   fraction = 0, id = M.new_id(), asks = 0, next_ask = 0 }
  M.window_open(waiter)
  r.atexit(function()  -- REAPER stopped the script: nothing was sent yet, nothing to cancel
    if not waiter.finished then finish(waiter) end
  end)
  ask(waiter, "ping")
  r.defer(function() poll(waiter) end)
  return waiter
end
