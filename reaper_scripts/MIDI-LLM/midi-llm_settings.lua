-- @noindex
--[[
MIDI-LLM for REAPER: the actions' settings, kept in REAPER's ExtState (persisted; a value never
holds a newline, which ExtState cannot store).

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.SECTION = "MIDI-LLM"        -- ExtState section

M.DEFAULTS = {
  port = "9123",
  host = "127.0.0.1",
  secret = "",
  client = "",                 -- path of midi-llm-bridge (empty: found automatically)
  bars = "4",                  -- Generate without a time selection, Continue
  variations = "3",            -- Variations as takes
  temperature = "",            -- empty: the daemon's default (config.yaml)
  top_p = "",
  top_k = "",
  grid = "",                   -- e.g. 1/16, 1/8T, off; empty: the daemon's default
  seed = "",                   -- empty: random
  max_notes = "",
  velocity = "",
  timeout = "600",             -- seconds the client waits for a result
  accompany_instruments = "",  -- e.g. "bass,drums" or "33,128"; empty: any
  keep_instruments = "1",      -- 1: on tracks without an instrument, new notes use the item's instruments
  window = "1",                -- 1: progress window with Cancel; 0: console messages only
  keep_files = "0",            -- 1: leave the request/result files in the temp folder
  autostart = "1",             -- 1: start the daemon when none answers on the port
  daemon_options = "",         -- more arguments for `midi-llm-bridge serve`, e.g. --model DIR
}

function M.get(key)
  local value = r.GetExtState(M.SECTION, key)
  if value == nil or value == "" then return M.DEFAULTS[key] or "" end
  return value
end

function M.set(key, value)
  value = tostring(value == nil and "" or value):gsub("[\r\n]+", " ")
  r.SetExtState(M.SECTION, key, value, true)
end

function M.get_number(key)
  local text = M.get(key):gsub("^%s+", ""):gsub("%s+$", "")
  return tonumber(text)
end
