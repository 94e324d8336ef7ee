-- @noindex
--[[
MIDI-LLM for REAPER: files, the temp folder, paths and shell quoting: what differs between Windows,
macOS and Linux, in one place.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

function M.is_windows()
  return (r.GetOS and r.GetOS() or ""):match("Win") ~= nil
end

-- GetOS says "OSX64", "macOS-arm64"...
function M.is_macos()
  local name = r.GetOS and r.GetOS() or ""
  return name:match("OSX") ~= nil or name:match("macOS") ~= nil
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

-- A readable regular file (a folder opens on some systems but cannot be read).
function M.is_file(path)
  if not path or path == "" then return false end
  local handle = io.open(path, "rb")
  if not handle then return false end
  local ok = handle:read(0)
  handle:close()
  return ok ~= nil
end
