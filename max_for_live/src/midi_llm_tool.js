// MIDI-LLM as a Live 12 MIDI Tool (Generator or Transformation): the glue for Max's classic [js].
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

// ----- the tool ------------------------------------------------------------------------------------

function Tool(Api) {
    this.Api = Api;
    this.bridge = new MidiLLMLive.Bridge(Api);
    // A MIDI Tool may have no device id: then any of 9124..9999 (set Reply port when two clash).
    var deviceId = 0;
    try {
        deviceId = parseInt(new Api("this_device").id, 10) || 0;
    } catch (error) {
        deviceId = 0;
    }
    MidiLLMClient.Client.call(this, {
        settings: settings, deviceId: deviceId || 1 + Math.floor(Math.random() * 875),
        idPrefix: KIND === "generator" ? "g" : "t", say: say, log: log,
        send: function (message) { outlet(OUT_OSC, message); },
        ports: function (daemonPort, replyPort) {
            outlet(OUT_UI, "daemonport", daemonPort);
            outlet(OUT_UI, "replyport", replyPort);
        },
        timer: timer,
        cancelStates: {connecting: true, starting: true},
        toLauncher: function (message) { outlet(OUT_LAUNCHER, message); },
        daemonButton: function (label) { outlet(OUT_UI, "daemon", label); },
        showInstallation: function (path) { outlet(OUT_UI, "installation", path); },
        showSecret: function (text) { outlet(OUT_UI, "secret", text); },
        deviceFile: deviceFile
    });
    this.snapshot = null;   // what the trigger handed over: input notes, context, re-roll?
    this.planned = null;    // the request under way (toolCore.plan)
    this.last = null;       // the last request sent, for Re-roll
    this.done = null;       // toolCore.finish of a complete result, waiting for an apply cycle
    this.result = null;
    this.written = null;    // signature of the last output (a Transformation's next input)
    this.shown = null;      // the last answer with a result: {input (signature), output}
    this.rerollNext = false;
    this.armed = false;     // Generate was pressed: the next apply cycle is a request
    var self = this;
    this.starter = timer(function () { self.start(); });
    this.trigger = timer(function () { outlet(OUT_TRIGGER, "bang"); });
    this.applyTimer = timer(function () { self.onApplyTimeout(); });
}

Tool.prototype = Object.create(MidiLLMClient.Client.prototype);
Tool.prototype.constructor = Tool;

Tool.prototype.busy = function () {
    return BUSY[this.state] === true;
};

Tool.prototype.setButton = function () {
    outlet(OUT_UI, "button", this.busy() ? "Cancel" : "Generate");
};

// Check (ping the daemon) only when no request or result is under way.
Tool.prototype.canCheck = function () {
    return !this.busy() && this.state !== "ready";
};

// What finish() resets besides the client's state.
Tool.prototype.finished = function () {
    this.done = null;
    this.starter.cancel();
    this.applyTimer.cancel();
};

// ----- Live's apply cycles ------------------------------------------------------------------------

// live.miditool.in handed over its notes (the context came just before): answer now. `raw` is
// the notes exactly as Live gave them, `input` the same notes cleaned and sorted for the logic.
// Every answer is {base (the notes it edits), edit (or null)}, turned into notes by toolCore.answer.
Tool.prototype.onTrigger = function (notesValue, contextValue) {
    var raw = toolCore.inputNotes(notesValue);
    var input = toolCore.readNotes(raw);
    var context = toolCore.readContext(contextValue);
    var notes;
    try {
        var reply = this.answer(raw, input, context);
        notes = toolCore.answer(reply.base, reply.edit).notes;
    } catch (error) {
        log(error.stack || error.message);
        notes = toolCore.answer(raw, null).notes; // Live gets its answer whatever happened: the input as it was
        if (this.state === "ready") {
            this.finish("error while writing the result: " + error.message);
        }
    }
    emitNotes(notes);
};

Tool.prototype.answer = function (raw, input, context) {
    if (this.state === "ready") {
        return this.applyResult(raw, input, context);
    }
    if (this.busy() && !this.waitingAlone()) {
        return this.unchanged(raw, input, context);
    }
    this.applyTimer.cancel();
    if (!this.rerollNext && !this.armed && Date.now() - settingsChangedAt < SETTLE) {
        say(toolCore.TEXT.settled);
        return this.unchanged(raw, input, context);
    }
    if (this.state === "checking") {
        this.pongWaiter = null;
        this.pongTimer.cancel();
    }
    this.snapshot = {input: input, context: context, reroll: this.rerollNext};
    this.rerollNext = false;
    this.armed = false;
    this.state = "connecting";
    this.retried = false;
    this.setButton();
    say("connecting to the daemon on port " + settings.daemonPort + "...");
    this.starter.schedule(0);
    return this.unchanged(raw, input, context);
};

// The answer that changes nothing the user sees. When Live continues the apply cycle of the last
// result, it hands over the notes from before that result: the answer is that result's edit
// again. A Generator that got no notes answers with the notes that start in the time selection
// (read through LiveAPI, as Live gave them there), which its answer edits.
Tool.prototype.unchanged = function (raw, input, context) {
    if (this.shown && input.length && toolCore.signature(input) === this.shown.input) {
        return {base: raw, edit: this.shown.edit};
    }
    if (KIND !== "generator" || input.length || !context.selection) {
        return {base: raw, edit: null};
    }
    return {base: this.notesIn(context.selection), edit: null};
};

// The clip's notes that start in `span`, as LiveAPI gave them.
Tool.prototype.notesIn = function (span) {
    var clip = this.readClip();
    var found = [];
    for (var i = 0; clip && i < clip.raw.length; i++) {
        if (toolCore.startsIn(toolCore.cleanNote(clip.raw[i]), span)) {
            found.push(clip.raw[i]);
        }
    }
    return found;
};

// A result is waiting and Live runs an apply cycle: write it, if this is still the clip (and
// selection) it was made for.
Tool.prototype.applyResult = function (raw, input, context) {
    var planned = this.planned, done = this.done, result = this.result;
    var clipId = this.detailClipId();
    if (planned.clipId !== null && clipId !== null && clipId !== planned.clipId) {
        this.finish(toolCore.TEXT.clipChanged);
        return this.unchanged(raw, input, context);
    }
    if (KIND === "generator" && planned.selection && !toolCore.sameSelection(context.selection, planned.selection)) {
        this.finish(toolCore.TEXT.selectionChanged);
        return this.unchanged(raw, input, context);
    }
    if (KIND === "transformation") {
        var now = toolCore.signature(input);
        if (now !== toolCore.signature(planned.originals) && now !== this.written) {
            this.finish(toolCore.TEXT.selectionChanged);
            return {base: raw, edit: null};
        }
    }
    var base = KIND === "generator" && !input.length ? this.notesIn(planned.span) : raw;
    var edit = toolCore.edit(planned, done, toolCore.readNotes(base));
    var written = toolCore.answer(base, edit);
    if (!written.written) {
        this.finish(toolCore.TEXT.selectionChanged);
        return {base: base, edit: null};
    }
    this.written = toolCore.signature(toolCore.readNotes(written.notes));
    this.shown = {input: toolCore.signature(input), edit: edit};
    this.finish(toolCore.TEXT.done(planned, done, result));
    return {base: base, edit: edit};
};

// The bang brought no apply cycle: Live did not run the tool (Auto off, or the tool's panel is
// closed).
Tool.prototype.onApplyTimeout = function () {
    if (this.state === "ready") {
        say(toolCore.TEXT.waitingForLive(this.done.count));
    } else if (!this.busy() && (this.armed || this.rerollNext)) {
        this.armed = false;
        this.rerollNext = false;
        say(toolCore.TEXT.noCycle);
    }
};

// ----- reading Live ----------------------------------------------------------------------------------

Tool.prototype.detailClipId = function () {
    try {
        var clip = new this.Api("live_set view detail_clip");
        return exists(clip) ? String(clip.id) : null;
    } catch (error) {
        return null;
    }
};

// The clip in the editor: {id, notes, region, trackInstrument}, or null when LiveAPI cannot say.
Tool.prototype.readClip = function () {
    try {
        var detail = new this.Api("live_set view detail_clip");
        if (!exists(detail)) {
            return null;
        }
        var path = MidiLLMLive.cleanPath(detail.path);
        var info = this.bridge.readClip(path);
        var raw = toolCore.inputNotes(this.bridge.readNotes(path));
        var instrument = null;
        var track = /^live_set tracks (\d+)/.exec(path);
        if (track) {
            var trackPath = "live_set tracks " + track[1];
            var api = new this.Api(trackPath);
            var classes = [];
            var count = api.getcount("devices");
            for (var d = 0; d < count; d++) {
                classes.push(str(new this.Api(trackPath + " devices " + d), "class_name"));
            }
            instrument = core.trackInstrument(str(api, "name"), classes);
        }
        return {id: String(detail.id), notes: toolCore.readNotes(raw), raw: raw, region: core.clipRegion(info),
            trackInstrument: instrument};
    } catch (error) {
        log("cannot read the clip through LiveAPI: " + error.message);
        return null;
    }
};

Tool.prototype.readSong = function () {
    try {
        var song = new this.Api("live_set");
        return {
            tempo: Number(str(song, "tempo")) || 120,
            numerator: Number(str(song, "signature_numerator")) || 4,
            denominator: Number(str(song, "signature_denominator")) || 4
        };
    } catch (error) {
        return {tempo: 120, numerator: 4, denominator: 4};
    }
};

// ----- a request -------------------------------------------------------------------------------------

Tool.prototype.start = function () {
    if (this.state !== "connecting") {
        return;
    }
    this.connect(this.sendRequest);
};

Tool.prototype.sendRequest = function () {
    var built = this.build(function () { return this.prepare(this.snapshot); });
    if (built) {
        this.planned = built.prepared;
        this.last = built.prepared;
        this.submit(this.planned.request, built.messages, this.planned.request.notes.length);
    }
};

Tool.prototype.request = function () {
    return this.planned.request;
};

// Read Live and plan the request. Re-roll sends the last request again with a new seed while the
// same clip is in the editor.
Tool.prototype.prepare = function (snapshot) {
    var clip = this.readClip();
    var clipId = clip ? clip.id : null;
    var seed;
    if (snapshot.reroll) {
        seed = 1 + Math.floor(Math.random() * (core.LIMITS.MAX_SEED - 1));
        if (this.last && this.last.clipId === clipId) {
            return toolCore.again(this.last, this.nextId(), seed);
        }
    }
    var song = this.readSong();
    var planned = toolCore.plan({
        kind: KIND, settings: settings, context: snapshot.context, input: snapshot.input,
        clipNotes: clip ? clip.notes : null, clipRegion: clip ? clip.region : null,
        trackInstrument: clip ? clip.trackInstrument : null, tempo: song.tempo, numerator: song.numerator,
        denominator: song.denominator, id: this.nextId(), replyPort: this.replyPort,
        perChunk: core.notesPerChunk(this.maxDatagramBytes), seed: seed
    });
    planned.clipId = clipId;
    return planned;
};

// Generate (the panel's button): a new request from what live.miditool.in hands over next.
Tool.prototype.go = function () {
    if (this.busy() && !this.waitingAlone()) {
        this.cancel();
        return;
    }
    if (this.state !== "ready") {
        this.armed = true;
        this.applyTimer.schedule(APPLY_WAIT);
    }
    this.trigger.schedule(0);
};

// Re-roll: the last request again with a new seed (a new request when there was none).
Tool.prototype.reroll = function () {
    if (this.busy()) {
        return;
    }
    if (this.state === "ready") {
        this.finish(null);
    }
    this.rerollNext = true;
    this.applyTimer.schedule(APPLY_WAIT);
    this.trigger.schedule(0);
};

// The whole result is here: work out the notes, then ask Live for an apply cycle to write them.
Tool.prototype.complete = function (result) {
    var done;
    try {
        done = toolCore.finish(this.planned, result);
    } catch (error) {
        log(error.stack || error.message);
        this.finish("error: " + error.message);
        return;
    }
    if (done.incomplete) {
        this.finish(done.incomplete + " (seed " + result.seed + ")");
        return;
    }
    if (done.empty) {
        this.finish(toolCore.TEXT.empty + " (seed " + result.seed + ")");
        return;
    }
    for (var w = 0; w < result.warnings.length; w++) {
        log("warning: " + result.warnings[w]);
    }
    this.job = null;
    this.result = result;
    this.done = done;
    this.state = "ready";
    this.watchdog.cancel();
    this.setButton();
    say("writing " + done.count + " notes into the clip...");
    this.trigger.schedule(0);
    this.applyTimer.schedule(APPLY_WAIT);
};

Tool.prototype.close = function () {
    this.trigger.cancel();
    MidiLLMClient.Client.prototype.close.call(this);
};

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
