// MIDI-LLM for Max for Live: the glue for Max's classic [js] object.
//
// ES5 only. Inlet 0 takes the UI's messages (mode 2, bars 8, go...) and the daemon's
// replies, which [udpreceive] -> [deferlow] turns into messages such as
// "/midi-llm/progress 123 0.5 40" (handled by anything()). Outlet 0 feeds [udpsend] with OSC
// messages; outlet 1 drives the UI: "status <text>", "button <label>", "replyport <n>"
// (to [udpreceive]), "daemonport <n>" (to [udpsend]), "daemon <label>" (the Start daemon button)
// and "installation <path>" (the Daemon path field); outlet 2 feeds [node.script
// midi-llm-launcher.js], whose answers come back into inlet 0 as "launcher ..." messages.
//
// LiveAPI objects are only made after live.thisdevice has banged (init), and every write
// into Live happens in one deferred Task, never in a notification callback.
//
// This module holds what the device's script shares (the settings, the outlets, say, log) and
// Max's entry points; the Device itself is midi_llm_device_client.js, loaded before it.

inlets = 1;
outlets = 3;
autowatch = 0;

var core = MidiLLM;
var jsthis = this;

var settings = {
    prompt: "",
    mode: "generate",
    span: "bars",
    bars: 4,
    variations: 1,
    temperature: 1.0,
    topP: 0.98,
    instrument: -1,      // -1: what this track plays
    grid: "off",
    target: "clip",      // accompany: "clip" or "tracks"
    seed: 0,             // 0: a new seed each time
    daemonPort: 9123,
    replyPort: 0,        // 0: chosen from the device's id
    autostart: 1,        // start the daemon when none answers
    secret: ""           // the daemon's osc.secret: every message carries it (the Secret field)
};

var device = null;
var launcherEarly = []; // the launcher's messages that came before init
var timer = MidiLLMClient.timer(jsthis); // a Task that a later schedule() reschedules

function say(text) {
    outlet(1, "status", String(text));
}

function log(text) {
    post("MIDI-LLM: " + text + "\n");
}

// ----- Max's entry points -------------------------------------------------------------------------

// The UI's parameters (their varnames) and the message each sends into the js inlet: at init
// the stored values are read back, in case they were output before the script listened.
var INTERFACE = [
    ["Mode", "mode"], ["Span", "span"], ["Bars", "bars"], ["Variations", "variations"],
    ["Temperature", "temperature"], ["Top-p", "top_p"], ["Instrument", "instrument"], ["Grid", "grid"],
    ["Accompany", "target"], ["Seed", "seed"], ["Daemon port", "daemon_port"], ["Reply port", "reply_port"],
    ["Auto-start", "autostart"]
];

function readInterface() {
    var handlers = {
        mode: mode, span: span, bars: bars, variations: variations, temperature: temperature, top_p: top_p,
        instrument: instrument, grid: grid, target: target, seed: seed, daemon_port: daemon_port,
        reply_port: reply_port, autostart: autostart
    };
    MidiLLMClient.readInterface(jsthis && jsthis.patcher, INTERFACE, handlers, log);
}

// live.thisdevice banged: LiveAPI may be used from now on.
function init() {
    if (device) {
        return;
    }
    readInterface();
    device = new Device(LiveAPI);
    device.applyPorts();
    device.setButton(false);
    device.check();
    for (var i = 0; i < launcherEarly.length; i++) {
        device.onLauncher(launcherEarly[i][0], launcherEarly[i].slice(1));
    }
    launcherEarly = [];
}

// The .amxd this device was loaded from (the launcher looks for the checkout around it).
function deviceFile() {
    var patcher = jsthis && jsthis.patcher;
    return patcher && patcher.filepath ? String(patcher.filepath) : "";
}

function go() {
    if (!device) {
        say("the device is still loading");
        return;
    }
    device.go();
}

function cancel() {
    if (device) {
        device.cancel();
    }
}

function anything() {
    MidiLLMClient.dispatch(messagename, Array.prototype.slice.call(arguments), device, log);
}

var pick = MidiLLMClient.pick;

// The prompt comes from [textedit] -> [route text] -> [prepend prompt]; an empty textedit
// sends a bare bang through [route].
function prompt() {
    var words = Array.prototype.slice.call(arguments);
    settings.prompt = words.length === 1 && words[0] === "bang" ? "" : words.join(" ");
}

function text() {
    prompt.apply(this, arguments);
}

function mode(index) {
    settings.mode = pick(core.MODES, index);
}

function span(index) {
    settings.span = pick(core.SPANS, index);
}

function bars(value) {
    settings.bars = Math.max(1, Math.round(Number(value)));
}

function variations(value) {
    settings.variations = Math.max(1, Math.min(8, Math.round(Number(value))));
}

function temperature(value) {
    settings.temperature = core.clamp(Number(value), core.LIMITS.MIN_TEMPERATURE, core.LIMITS.MAX_TEMPERATURE);
}

function top_p(value) {
    settings.topP = core.clamp(Number(value), core.LIMITS.MIN_TOP_P, core.LIMITS.MAX_TOP_P);
}

// Menu index 0 = what this track plays; 1..129 = GM programs 0..127 and drums (128).
function instrument(index) {
    settings.instrument = Math.round(Number(index)) - 1;
}

function grid(index) {
    settings.grid = pick(core.GRIDS, index);
}

function target(index) {
    settings.target = pick(core.TARGETS, index);
}

function seed(value) {
    settings.seed = core.clamp(Math.round(Number(value)), 0, core.LIMITS.MAX_SEED);
}

function daemon_port(value) {
    settings.daemonPort = Math.round(Number(value));
    if (device && !device.busy()) {
        device.applyPorts();
        device.check();
    }
}

function reply_port(value) {
    settings.replyPort = Math.round(Number(value));
    if (device && !device.busy()) {
        device.applyPorts();
    }
}

function check() {
    if (device) {
        device.check();
    }
}

// Start daemon (Reload model when the daemon could not load it).
function launch() {
    if (device) {
        device.startOrReload();
    }
}

function autostart(value) {
    settings.autostart = Number(value) ? 1 : 0;
}

// The Daemon path field: [textedit] -> [route text] -> [prepend installation]; the launcher checks
// and remembers it (for every MIDI-LLM device and tool of this user).
function installation() {
    var words = Array.prototype.slice.call(arguments);
    outlet(2, ["installation"].concat(words.length === 1 && words[0] === "bang" ? [] : words));
}

// The Secret field: [textedit] -> [route text] -> [prepend secret]. The daemon's osc.secret, sent with
// every message from now on; the launcher remembers it (for every MIDI-LLM device and tool of this
// user) and gives it to a daemon it starts.
function secret() {
    var words = Array.prototype.slice.call(arguments);
    var typed = words.length === 1 && words[0] === "bang" ? [] : words;
    settings.secret = typed.join(" ");
    outlet(2, ["secret"].concat(typed));
    if (device && !device.busy()) {
        device.check();
    }
}

// The launcher's answers ("launcher hello", "launcher started ...": see midi_llm_launcher.js).
function launcher() {
    var args = Array.prototype.slice.call(arguments);
    if (!device) {
        launcherEarly.push(args);
        return;
    }
    device.onLauncher(String(args[0]), args.slice(1));
}

function notifydeleted() {
    if (device) {
        device.close();
    }
}
