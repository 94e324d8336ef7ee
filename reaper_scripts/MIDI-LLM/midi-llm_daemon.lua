-- @noindex
--[[
MIDI-LLM for REAPER: starting the daemon (`midi-llm-bridge serve`) when none
answers, from the same installation as the client, in the background and
detached from REAPER (closing REAPER leaves it running, and no zombie).

One daemon per port, for every action and every DAW on this computer: an
action pings first and starts one only when nothing answers; a start is noted
in a file in the temp folder (per port), so another action in this REAPER (or
another REAPER) that finds no daemon in the next M.DAEMON_MARK_SECONDS waits
for that one instead of starting its own. Whatever slips through (two DAWs at
the very same moment, Live's device and REAPER), the port decides: the second
daemon cannot listen on it and exits, and everyone talks to the first.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.DAEMON_MARK_SECONDS = 60     -- a start this recent (any action, any REAPER): wait for that daemon
M.DAEMON_START_SECONDS = 180   -- no answer this long after our start: it did not come up

-- Only a daemon on this computer can be started from here.
function M.is_local_host(host)
  return host == "" or host == "127.0.0.1" or host == "::1" or host == "localhost"
end

-- The words of the "Daemon options" setting (arguments for `serve`): separated by
-- spaces; "double" or 'single' quotes keep spaces inside one word. nil and a
-- message when a quote is not closed.
function M.split_options(text)
  local words, word, quote, has_word = {}, {}, nil, false
  for char in (text or ""):gmatch(".") do
    if quote then
      if char == quote then quote = nil else word[#word + 1] = char end
    elseif char == '"' or char == "'" then
      quote, has_word = char, true
    elseif char:match("%s") then
      if has_word then words[#words + 1] = table.concat(word) end
      word, has_word = {}, false
    else
      word[#word + 1], has_word = char, true
    end
  end
  if quote then
    return nil, "Daemon options: a " .. quote .. " is not closed in \"" .. text .. "\"."
  end
  if has_word then words[#words + 1] = table.concat(word) end
  return words
end

local function mark_path(port)
  return M.path_join(M.temp_dir(), "midi-llm-daemon-" .. port .. ".txt")
end

-- True when a daemon was started for this port in the last M.DAEMON_MARK_SECONDS
-- (by any action of any REAPER on this computer: the mark is a file).
function M.recent_daemon_start(port)
  local text = M.read_file(mark_path(port))
  local when = text and tonumber(text:match("^(%d+)"))
  return when ~= nil and os.time() - when < M.DAEMON_MARK_SECONDS
end

-- The files of one daemon start: the scripts, the log (stdout and stderr),
-- its process id and its exit status (written when it stops).
function M.daemon_files(port, id)
  local base = M.path_join(M.temp_dir(), "midi-llm-daemon-" .. port .. "-" .. id)
  return {
    script = base .. (M.is_windows() and "-serve.cmd" or "-serve.sh"),
    detach = (not M.is_windows()) and (base .. "-detach.sh") or nil,
    stdout = base .. "-out.txt", stderr = base .. "-log.txt", pid = base .. "-pid.txt", exit = base .. "-exit.txt",
  }
end

-- `client serve --port P [--host H] [daemon options...]`, or nil and a message.
function M.serve_args(client)
  local options, problem = M.split_options(M.get("daemon_options"))
  if not options then return nil, problem end
  local args = { client, "serve", "--port", M.get("port") }
  local host = M.get("host")
  if host ~= "" and host ~= "127.0.0.1" then
    args[#args + 1] = "--host"
    args[#args + 1] = host
  end
  for _, word in ipairs(options) do args[#args + 1] = word end
  return args
end

-- Start the daemon in the background. Returns {files, launcher, started (time)},
-- or nil and a message (bad daemon options).
function M.start_daemon(client)
  local args, problem = M.serve_args(client)
  if not args then return nil, problem end
  local port = M.get("port")
  local id = M.new_id()
  M.write_file(mark_path(port), tostring(os.time()) .. " " .. id .. "\n")
  local files = M.daemon_files(port, id)
  local launcher = M.launch(args, files, M.get("secret"))
  return { files = files, launcher = launcher, started = r.time_precise(), args = args }
end

-- The end of the daemon's log, for a message.
function M.daemon_log_tail(start)
  local text = (M.read_file(start.files.stderr) or "") .. (M.read_file(start.files.stdout) or "")
  text = text:gsub("%s+$", "")
  if #text > 1200 then text = "..." .. text:sub(-1200) end
  return text
end

-- Whether a start of ours has ended: nil while it runs, else its exit status and
-- whether it ended because another daemon already listens on the port.
function M.daemon_exit(start)
  local text = M.read_file(start.files.exit)
  if not text then return nil end
  local log = M.daemon_log_tail(start)
  local port_taken = log:find("cannot listen on", 1, true) ~= nil
  return tonumber(text:match("%-?%d+")) or -1, port_taken
end
