// MIDI-LLM as a Live 12 MIDI Tool (Generator or Transformation): Max's entry points, the functions
// the patcher's messages call ([js midi-llm-tool.js <kind>]: see midi_llm_tool_host.js for the
// inlets, outlets and the whole of the tool's script).
//
// ES5 only (Max's classic [js] object).

// ----- Max's entry points ----------------------------------------------------------------------------

// The UI's parameters (their varnames) and the message each sends into the js inlet.
var INTERFACE = [
    ["Mode", "mode"], ["Instrument", "instrument"], ["Grid", "grid"], ["Scale", "scale"], ["Low", "low"],
    ["High", "high"], ["Seed", "seed"], ["Temperature", "temperature"], ["Top-p", "top_p"],
    ["Daemon port", "daemon_port"], ["Reply port", "reply_port"], ["Page", "page"], ["Auto-start", "autostart"]
];

// The panel's two pages (the tab "Page"): the boxes shown on each, by varname. The tab and the
// status line are on both.
var PAGES = [
    ["Prompt", "Instrument", "Grid", "Mode", "About", "Seed", "Generate", "Re-roll"],
    ["Scale label", "Scale", "Low label", "Low", "High label", "High", "Temperature label", "Temperature",
        "Top-p label", "Top-p", "Daemon label", "Daemon port", "Reply label", "Reply port", "Check"],
    ["Path label", "Daemon path", "Start daemon", "Auto-start", "Secret label", "Secret"]
];

function readInterface() {
    var handlers = {
        mode: mode, instrument: instrument, grid: grid, scale: scale, low: low, high: high, seed: seed,
        temperature: temperature, top_p: top_p, daemon_port: daemon_port, reply_port: reply_port, page: page,
        autostart: autostart
    };
    MidiLLMClient.readInterface(jsthis && jsthis.patcher, INTERFACE, handlers, log);
}

// live.thisdevice banged: LiveAPI may be used from now on.
function init() {
    if (tool) {
        return;
    }
    readInterface();
    tool = new Tool(LiveAPI);
    tool.applyPorts();
    tool.setButton();
    tool.check();
    for (var i = 0; i < launcherEarly.length; i++) {
        tool.onLauncher(launcherEarly[i][0], launcherEarly[i].slice(1));
    }
    launcherEarly = [];
}

// The .amxd this tool was loaded from (the launcher looks for the checkout around it).
function deviceFile() {
    var patcher = jsthis && jsthis.patcher;
    return patcher && patcher.filepath ? String(patcher.filepath) : "";
}

// live.miditool.in: the context (inlet 2), then the notes (inlet 1), within one apply cycle.
function dictionary(name) {
    var value = readDict(name);
    if (inlet === IN_CONTEXT) {
        pendingContext = value;
        return;
    }
    if (inlet !== IN_NOTES) {
        return;
    }
    var context = pendingContext;
    pendingContext = null;
    if (!tool) {
        emitNotes(toolCore.answer(toolCore.inputNotes(value), null).notes);
        say("the tool is still loading");
        return;
    }
    tool.onTrigger(value, context);
}

function go() {
    if (!tool) {
        say("the tool is still loading");
        return;
    }
    tool.go();
}

function reroll() {
    if (tool) {
        tool.reroll();
    }
}

function cancel() {
    if (tool) {
        tool.cancel();
    }
}

function check() {
    if (tool) {
        tool.check();
    }
}

// Start daemon (Reload model when the daemon could not load it).
function launch() {
    if (tool) {
        tool.startOrReload();
    }
}

function autostart(value) {
    settings.autostart = Number(value) ? 1 : 0;
}

// The Daemon path field: [textedit] -> [route text] -> [prepend installation]; the launcher checks
// and remembers it (for every MIDI-LLM device and tool of this user).
function installation() {
    var words = Array.prototype.slice.call(arguments);
    outlet(OUT_LAUNCHER, ["installation"].concat(words.length === 1 && words[0] === "bang" ? [] : words));
}

// The Secret field: [textedit] -> [route text] -> [prepend secret]. The daemon's osc.secret, sent with
// every message from now on; the launcher remembers it (for every MIDI-LLM device and tool of this
// user) and gives it to a daemon it starts.
function secret() {
    var words = Array.prototype.slice.call(arguments);
    var typed = words.length === 1 && words[0] === "bang" ? [] : words;
    settings.secret = typed.join(" ");
    outlet(OUT_LAUNCHER, ["secret"].concat(typed));
    if (tool && !tool.busy()) {
        tool.check();
    }
}

// The launcher's answers ("launcher hello", "launcher started ...": see midi_llm_launcher.js).
function launcher() {
    var args = Array.prototype.slice.call(arguments);
    if (!tool) {
        launcherEarly.push(args);
        return;
    }
    tool.onLauncher(String(args[0]), args.slice(1));
}

function anything() {
    MidiLLMClient.dispatch(messagename, Array.prototype.slice.call(arguments), tool, log);
}

var pick = MidiLLMClient.pick;

function changed() {
    settingsChangedAt = Date.now();
}

// [textedit] -> [route text] -> [prepend prompt]; an empty textedit sends a bare bang. Each
// keystroke bangs the textedit (through [deferlow]), so the prompt is what is typed, also for
// Live's Apply, without Return.
function prompt() {
    var words = Array.prototype.slice.call(arguments);
    settings.prompt = words.length === 1 && words[0] === "bang" ? "" : words.join(" ");
}

function text() {
    prompt.apply(this, arguments);
}

function mode(index) {
    settings.mode = pick(toolCore.MODES, index);
    changed();
}

// Menu index 0 = auto; 1..129 = GM programs 0..127 and drums (128).
function instrument(index) {
    settings.instrument = Math.round(Number(index)) - 1;
    changed();
}

function grid(index) {
    settings.grid = pick(toolCore.GRIDS, index);
    changed();
}

function scale(index) {
    settings.scale = pick(toolCore.SCALES, index);
    changed();
}

function low(value) {
    settings.low = Math.max(0, Math.min(127, Math.round(Number(value))));
    changed();
}

function high(value) {
    settings.high = Math.max(0, Math.min(127, Math.round(Number(value))));
    changed();
}

function seed(value) {
    settings.seed = core.clamp(Math.round(Number(value)), 0, core.LIMITS.MAX_SEED);
    changed();
}

function temperature(value) {
    settings.temperature = core.clamp(Number(value), core.LIMITS.MIN_TEMPERATURE, core.LIMITS.MAX_TEMPERATURE);
    changed();
}

function top_p(value) {
    settings.topP = core.clamp(Number(value), core.LIMITS.MIN_TOP_P, core.LIMITS.MAX_TOP_P);
    changed();
}

function daemon_port(value) {
    settings.daemonPort = Math.round(Number(value));
    if (tool && !tool.busy()) {
        tool.applyPorts();
        tool.check();
    }
}

function reply_port(value) {
    settings.replyPort = Math.round(Number(value));
    if (tool && !tool.busy()) {
        tool.applyPorts();
    }
}

// The tab: show one page of the panel, hide the other.
function page(index) {
    var shown = Math.round(Number(index));
    changed();
    var patcher = jsthis && jsthis.patcher;
    if (!patcher || !patcher.getnamed) {
        return;
    }
    for (var p = 0; p < PAGES.length; p++) {
        for (var i = 0; i < PAGES[p].length; i++) {
            var box = patcher.getnamed(PAGES[p][i]);
            if (box) {
                box.hidden = p === shown ? 0 : 1;
            }
        }
    }
}

function notifydeleted() {
    if (tool) {
        tool.close();
    }
}
