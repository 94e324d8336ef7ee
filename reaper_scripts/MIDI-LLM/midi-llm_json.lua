-- @noindex
--[[
MIDI-LLM for REAPER: JSON, enough for the command-line client's files: numbers keep full precision
(a beat position must come back to the same tick), arrays stay arrays when empty.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...

local ARRAY = {}  -- metatable marking a table as a JSON array (also when empty)

function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
                  ["\b"] = "\\b", ["\f"] = "\\f" }

local function encode_string(s)
  return '"' .. (s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end)) .. '"'
end

local function encode_number(x)
  if x ~= x or x == math.huge or x == -math.huge then error("JSON cannot hold " .. tostring(x)) end
  if math.type(x) == "integer" then return tostring(x) end
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return string.format("%d", x) end
  return string.format("%.17g", x)
end

-- A number as text for a command-line flag (integers without ".0", else full precision).
function M.num(x) return encode_number(x) end

function M.json_encode(value)
  local kind = type(value)
  if kind == "nil" then return "null"
  elseif kind == "boolean" then return value and "true" or "false"
  elseif kind == "number" then return encode_number(value)
  elseif kind == "string" then return encode_string(value)
  elseif kind == "table" then
    if getmetatable(value) == ARRAY or value[1] ~= nil then
      local parts = {}
      for i = 1, #value do parts[i] = M.json_encode(value[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for key in pairs(value) do keys[#keys + 1] = tostring(key) end
    table.sort(keys)
    local parts = {}
    for _, key in ipairs(keys) do
      parts[#parts + 1] = encode_string(key) .. ":" .. M.json_encode(value[key])
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  error("JSON cannot hold a " .. kind)
end

local function utf8_char(code)
  return utf8 and utf8.char(code) or string.char(code % 256)
end

function M.json_decode(text)
  local pos = 1
  local function fail(what)
    error(string.format("bad JSON at character %d: %s", pos, what), 0)
  end
  local function skip()
    pos = text:find("[^ \t\r\n]", pos) or (#text + 1)
  end
  local value
  local function parse_string()
    pos = pos + 1
    local out = {}
    while true do
      local c = text:sub(pos, pos)
      if c == "" then fail("unfinished string") end
      if c == '"' then pos = pos + 1 break end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if simple[e] then
          out[#out + 1] = simple[e]
          pos = pos + 2
        elseif e == "u" then
          local code = tonumber(text:sub(pos + 2, pos + 5), 16) or fail("bad \\u escape")
          pos = pos + 6
          if code >= 0xD800 and code <= 0xDBFF and text:sub(pos, pos + 1) == "\\u" then
            local low = tonumber(text:sub(pos + 2, pos + 5), 16)
            if low and low >= 0xDC00 and low <= 0xDFFF then
              code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
              pos = pos + 6
            end
          end
          out[#out + 1] = utf8_char(code)
        else
          fail("bad escape")
        end
      else
        local stop = text:find('["\\]', pos) or (#text + 1)
        out[#out + 1] = text:sub(pos, stop - 1)
        pos = stop
      end
    end
    return table.concat(out)
  end
  function value()
    skip()
    local c = text:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local object = {}
      skip()
      if text:sub(pos, pos) == "}" then pos = pos + 1 return object end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local key = parse_string()
        skip()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        object[key] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return object end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      pos = pos + 1
      local list = M.array({})
      skip()
      if text:sub(pos, pos) == "]" then pos = pos + 1 return list end
      while true do
        list[#list + 1] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return list end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return parse_string()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4 return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5 return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4 return nil
    else
      local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not number or number == "" then fail("unexpected character") end
      pos = pos + #number
      return tonumber(number) or fail("bad number")
    end
  end
  local ok, result = pcall(function()
    local v = value()
    skip()
    if pos <= #text then fail("text after the value") end
    return v
  end)
  if not ok then return nil, result end
  return result
end
