// MIDI-LLM as a Live 12 MIDI Tool (Generator or Transformation): its place in Max's classic [js]:
// the inlets and outlets, the settings, the status line, the Max window and the answer to Live.
//
// ES5 only. The patcher loads this as [js midi-llm-tool.js generator] or [js midi-llm-tool.js
// transformation]. Inlet 0 takes the UI's messages and the daemon's replies ([udpreceive] ->
// [deferlow]); inlet 1 the notes dictionary of [live.miditool.in] (its left outlet), inlet 2 its
// context dictionary (middle outlet; Max sends it first, right to left). Outlet 0 feeds
// [udpsend]; outlet 1 the UI ("status <text>", "button <label>", "replyport <n>",
// "daemonport <n>", "daemon <label>", "installation <path>"); outlet 2 [live.miditool.out]
// ("dictionary <name>"); outlet 3 bangs [live.miditool.in] through [deferlow]; outlet 4 feeds
// [node.script midi-llm-launcher.js] (its answers come into inlet 0 as "launcher ...").
//
// A MIDI Tool must answer each apply cycle at once: live.miditool.out has to get a dictionary
// before the call that brought live.miditool.in's notes returns. The model takes seconds, so:
//   1. a trigger (Apply, Generate, Re-roll) starts the request and answers Live with the notes
//      unchanged;
//   2. the daemon writes; the status line shows the queue and the progress; Cancel stops it;
//   3. when the result is complete the script bangs live.miditool.in: Live starts (or continues)
//      an apply cycle, and this time the answer is the result. If Live does not run that cycle
//      (Auto off), the result waits and the next Apply writes it.
// The script never sends to the daemon while it answers Live; that happens in a Task.

//
// The tool's script is these modules, in this order (src/sources.json): this one (what the others
// share: KIND, settings, the outlets and timings, say, log, emitNotes), midi_llm_tool_client.js
// (the Tool: a MidiLLMClient.Client that reads Live and sends the request), midi_llm_tool_cycle.js
// (its answers to Live's apply cycles), midi_llm_tool.js (Max's entry points).

inlets = 3;
outlets = 5;
autowatch = 0;

var core = MidiLLM;
var toolCore = MidiLLMTool;
var jsthis = this;

var KIND = typeof jsarguments !== "undefined" && jsarguments.length > 1 &&
    String(jsarguments[1]) === "transformation" ? "transformation" : "generator";

var settings = {
    prompt: "",
    mode: "keep rhythm",   // Transformation: keep rhythm, keep pitches, accompany
    instrument: -1,        // -1: auto (the clip's track; accompany: bass or strings)
    grid: "editor",        // editor: the clip editor's grid
    scale: "editor",       // editor: the clip's scale when Scale Mode is on
    low: 0,
    high: 127,
    seed: 0,               // 0: a new seed each time
    temperature: 1.0,
    topP: 0.98,
    daemonPort: 9123,
    replyPort: 0,          // 0: chosen from the device's id
    autostart: 1,          // start the daemon when none answers
    secret: ""             // the daemon's osc.secret: every message carries it (the Secret field)
};

var OUT_OSC = 0, OUT_UI = 1, OUT_NOTES = 2, OUT_TRIGGER = 3, OUT_LAUNCHER = 4;
var IN_NOTES = 1, IN_CONTEXT = 2;

var APPLY_WAIT = 2000;     // after the bang, how long Live may take to run the apply cycle
var SETTLE = 150;          // a trigger this soon after a settings change is Live re-applying them

var BUSY = {connecting: true, starting: true, sending: true, waiting: true, queued: true, running: true,
    cancelling: true};

var tool = null;
var timer = MidiLLMClient.timer(jsthis); // a Task that a later schedule() reschedules
var pendingContext = null; // the context dictionary of the trigger under way
var settingsChangedAt = 0;
var outDict = null;
var launcherEarly = []; // the launcher's messages that came before init

function say(text) {
    outlet(OUT_UI, "status", String(text));
}

function log(text) {
    post("MIDI-LLM " + KIND + ": " + text + "\n");
}

function readDict(name) {
    try {
        return JSON.parse(new Dict(name).stringify());
    } catch (error) {
        log("cannot read the dictionary " + name + ": " + error.message);
        return null;
    }
}

// The answer to this apply cycle, synchronously, into live.miditool.out: `notes` from
// toolCore.answer (the only maker of answers: see THE INVARIANT in midi_llm_tool_core.js).
// JSON carries each double exactly (the shortest text that reads back as the same double).
function emitNotes(notes) {
    if (!outDict) {
        outDict = new Dict();
    }
    outDict.clear();
    outDict.parse(JSON.stringify({notes: notes}));
    outlet(OUT_NOTES, "dictionary", outDict.name);
}

function exists(api) {
    return api && api.id !== undefined && String(api.id) !== "0";
}

function str(api, property) {
    var value = api.get(property);
    return value && typeof value === "object" && typeof value.length === "number" ? value.join(" ") : String(value);
}
