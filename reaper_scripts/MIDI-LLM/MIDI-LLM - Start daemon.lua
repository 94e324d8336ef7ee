-- @description MIDI-LLM - Start daemon
-- @version 1.0.0
-- @author midi-llm-bridge
-- @about
--   Starts the MIDI-LLM daemon (midi-llm-bridge serve) in the background when
--   none answers on the port set in "MIDI-LLM - Settings", from the same
--   installation as the client, and shows its state (downloading the model,
--   loading, warming up) until it is ready. With "Start the daemon
--   automatically" on (the default) every action does this by itself.
local dir = (debug.getinfo(1, "S").source:match("^@?(.*[/\\])")) or ""
local L = dofile(dir .. "midi-llm_lib.lua")

local function main()
  local client, candidates, explicit = L.find_client()
  if not client then return L.message(L.client_not_found_message(candidates, explicit)) end
  if not L.is_local_host(L.get("host")) then
    return L.message("The daemon the scripts use runs on another computer (" .. L.get("host") .. "): start it " ..
                     "there. The address is set in \"MIDI-LLM - Settings\".")
  end
  L.when_daemon_ready({ title = "Start daemon", client = client, start_always = true, on_ready = function(document)
    L.message(string.format("The MIDI-LLM daemon is ready on %s:%s: model %s on %s.", L.get("host"), L.get("port"),
                            tostring(document.model), tostring(document.device)))
  end })
end

main()
