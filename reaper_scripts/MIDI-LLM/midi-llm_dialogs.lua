-- @noindex
--[[
MIDI-LLM for REAPER: dialogs and messages: message boxes, the console, GetUserInputs forms, and the
checks an action makes before it asks anything.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...
local r = reaper

M.TITLE = "MIDI-LLM"

-- A message box; returns the button pressed (1 OK, 2 Cancel, 4 Retry... as ShowMessageBox).
function M.message(text, kind)
  return r.ShowMessageBox(text, M.TITLE, kind or 0)
end

function M.console(text)
  r.ShowConsoleMsg("MIDI-LLM: " .. text .. "\n")
end

-- Ask for values; fields = {{caption, default}...}. Returns a list of strings, or nil when cancelled.
-- The fields are separated by "|"; a "|" typed in the first field (the prompt) is kept.
function M.ask(title, fields)
  local captions, defaults = {}, {}
  for i, field in ipairs(fields) do
    captions[i] = field[1]:gsub(",", ";")
    defaults[i] = tostring(field[2] or ""):gsub("|", "/")
  end
  local ok, answer = r.GetUserInputs(title, #fields,
    table.concat(captions, ",") .. ",separator=|,extrawidth=260", table.concat(defaults, "|"))
  if not ok then return nil end
  local parts = {}
  for part in (answer .. "|"):gmatch("(.-)|") do parts[#parts + 1] = part end
  while #parts > #fields do  -- the prompt held a "|": put it back together
    parts[1] = parts[1] .. "|" .. table.remove(parts, 2)
  end
  for i = 1, #fields do parts[i] = (parts[i] or ""):gsub("^%s+", ""):gsub("%s+$", "") end
  return parts
end

function M.not_allowed_message(track)
  return "MIDI-LLM may not write on the track \"" .. M.track_name(track) .. "\": its \"" .. M.JSFX_NAME ..
    "\" effect says so (Allowed: No)."
end

-- The selected MIDI item and its track's options, for an action that writes into the item;
-- nil after telling the user why not (no MIDI item selected, or the track's JSFX says Allowed: No).
function M.item_for_action()
  local info, problem = M.midi_item(M.selected_item())
  if not info then M.message(problem) return nil end
  local options = M.track_options(info.track)
  if not options.allowed then M.message(M.not_allowed_message(info.track)) return nil end
  return info, options
end

-- Ask for an optional prompt and a whole number of at least 1, and remember both. Returns the
-- prompt and the number, or nil when the user cancelled or the number is not usable (told).
function M.ask_prompt_and_count(title, prompt_key, count_label, count_key, count_name)
  local answers = M.ask(title, {
    { "Prompt (optional)", M.get(prompt_key) },
    { count_label, M.get(count_key) },
  })
  if not answers then return nil end
  local count = tonumber(answers[2])
  if not count or count < 1 or count ~= math.floor(count) then
    M.message(count_name .. " must be a whole number of at least 1 (got \"" .. answers[2] .. "\").")
    return nil
  end
  M.set(prompt_key, answers[1])
  M.set(count_key, count)
  return answers[1], count
end
