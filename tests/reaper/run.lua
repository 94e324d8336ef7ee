-- Run one ReaScript (and those of the scenario's also_run) against the fake REAPER API and dump the
-- project as JSON.
--   lua5.4 tests/reaper/run.lua SCENARIO.json SCRIPT.lua OUT.json
local here = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or "./"
local F = dofile(here .. "fake_reaper.lua")
local json = F.json

local scenario_path, script_path, out_path = arg[1], arg[2], arg[3]
if not (scenario_path and script_path and out_path) then
  io.stderr:write("usage: lua5.4 run.lua SCENARIO.json SCRIPT.lua OUT.json\n")
  os.exit(2)
end

local handle = assert(io.open(scenario_path, "rb"))
local scenario = json.decode(handle:read("a"))
handle:close()

F.load(scenario)
F.install()
F.run_script(script_path)
-- More actions started at the same moment in the same REAPER (their deferred calls interleave).
for _, also in ipairs(scenario.also_run or {}) do F.run_script(also) end
F.run_deferred(scenario.max_seconds)

local out = assert(io.open(out_path, "wb"))
out:write(json.encode(F.dump()))
out:close()
