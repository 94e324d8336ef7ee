-- @noindex
--[[
MIDI-LLM for REAPER: the progress window (gfx): a title, a status line, a bar and a Cancel button,
drawn once per deferred step; Esc or closing it cancels too.

Loaded by midi-llm_lib.lua, which passes the library's table M.
]]
local M = ...

function M.window_open(job)
  if M.get("window") ~= "1" or not gfx then
    M.console(job.title .. ": started (run the action \"MIDI-LLM - Settings\" to show a window instead)")
    return
  end
  gfx.init(M.TITLE .. ": " .. job.title, 420, 130)
  gfx.setfont(1, "Arial", 15)
  job.window = true
end

function M.window_close(job)
  if job.window then
    gfx.quit()
    job.window = false
  end
end

local BUTTON = { w = 90, h = 26 }

-- Draw the window; true when the user asked to cancel (button, Esc, or closing it).
function M.window_step(job)
  if not job.window then return false end
  local w, h = gfx.w > 0 and gfx.w or 420, gfx.h > 0 and gfx.h or 130
  gfx.set(0.16, 0.16, 0.18, 1)
  gfx.rect(0, 0, w, h, 1)
  gfx.set(0.95, 0.95, 0.95, 1)
  gfx.x, gfx.y = 14, 12
  gfx.drawstr(job.title)
  gfx.set(0.75, 0.75, 0.78, 1)
  gfx.x, gfx.y = 14, 36
  gfx.drawstr(job.status)
  local bar_w = w - 28
  gfx.set(0.3, 0.3, 0.33, 1)
  gfx.rect(14, 60, bar_w, 10, 1)
  gfx.set(0.35, 0.65, 1.0, 1)
  gfx.rect(14, 60, math.floor(bar_w * math.max(0, math.min(1, job.fraction))), 10, 1)
  local bx, by = w - BUTTON.w - 14, h - BUTTON.h - 12
  gfx.set(0.3, 0.3, 0.33, 1)
  gfx.rect(bx, by, BUTTON.w, BUTTON.h, 1)
  gfx.set(0.95, 0.95, 0.95, 1)
  local label = job.cancelling and "Cancelling" or "Cancel"
  local tw, th = gfx.measurestr(label)
  gfx.x, gfx.y = bx + (BUTTON.w - tw) / 2, by + (BUTTON.h - th) / 2
  gfx.drawstr(label)
  gfx.update()
  local char = gfx.getchar()
  local clicked = false
  local down = (gfx.mouse_cap or 0) & 1 == 1
  if job.mouse_down and not down then
    local mx, my = gfx.mouse_x or -1, gfx.mouse_y or -1
    clicked = mx >= bx and mx <= bx + BUTTON.w and my >= by and my <= by + BUTTON.h
  end
  job.mouse_down = down
  if char == -1 then job.window = false end
  return char == 27 or char == -1 or clicked
end
