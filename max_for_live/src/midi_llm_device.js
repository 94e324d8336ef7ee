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

// The device: a MidiLLMClient.Client (the request/reply state machine, midi_llm_client.js) that
// reads Live for its requests and writes the results into Live.
function Device(Api) {
    this.bridge = new MidiLLMLive.Bridge(Api);
    var me = new Api("this_device");
    MidiLLMClient.Client.call(this, {
        settings: settings, deviceId: parseInt(me.id, 10) || 1, idPrefix: "m", say: say, log: log,
        send: function (message) { outlet(0, message); },
        ports: function (daemonPort, replyPort) {
            outlet(1, "daemonport", daemonPort);
            outlet(1, "replyport", replyPort);
        },
        timer: timer,
        cancelStates: {connecting: true, checking: true, starting: true},
        toLauncher: function (message) { outlet(2, message); },
        daemonButton: function (label) { outlet(1, "daemon", label); },
        showInstallation: function (path) { outlet(1, "installation", path); },
        showSecret: function (text) { outlet(1, "secret", text); },
        deviceFile: deviceFile
    });
    this.ctx = null;
    this.result = null;
    var self = this;
    this.writer = timer(function () { self.write(); });
}

Device.prototype = Object.create(MidiLLMClient.Client.prototype);
Device.prototype.constructor = Device;

Device.prototype.setButton = function (busy) {
    outlet(1, "button", busy ? "Cancel" : "Generate");
};

Device.prototype.busy = function () {
    return this.state !== "idle";
};

// ----- a request --------------------------------------------------------------------------------

Device.prototype.go = function () {
    if (this.state === "writing") {
        return;
    }
    if (this.busy() && this.state !== "checking" && !this.waitingAlone()) {
        this.cancel();
        return;
    }
    this.state = "connecting";
    this.retried = false;
    this.setButton(true);
    say("connecting to the daemon on port " + settings.daemonPort + "...");
    this.connect(this.start);
};

Device.prototype.start = function () {
    var built = this.build(this.prepare);
    if (built) {
        this.ctx = built.prepared;
        this.submit(this.ctx.request, built.messages, this.ctx.notes.length);
    }
};

Device.prototype.request = function () {
    return this.ctx.request;
};

// Read Live, compute the span and everything the request and the write-back need.
Device.prototype.prepare = function () {
    var mode = settings.mode;
    var toTracks = mode === "accompany" && settings.target === "tracks";
    var live = this.bridge.readContext({needsOtherTracks: toTracks});
    var bar = core.barBeats(live.numerator, live.denominator);
    var span = core.computeSpan({
        mode: mode, kind: settings.span, bars: settings.bars, bar: bar,
        clip: live.clip, selection: live.selection, loop: live.loop
    });
    var notes = mode === "generate" ? [] : live.notes;
    if ((mode === "accompany" || mode === "continue") && !notes.length) {
        throw new core.UserError(mode + " needs notes in the clip: this one is empty");
    }
    var origin = core.computeOrigin(notes, span, bar);
    var own = live.trackInstrument === null ? 0 : live.trackInstrument;
    var chosen = settings.instrument >= 0 ? settings.instrument : own;
    var variations = settings.variations;
    if (live.view !== "session" || (toTracks && live.view === "session")) {
        variations = 1;
    }
    live.mode = mode;
    live.span = span;
    live.origin = origin;
    live.accompanyTarget = settings.target;
    live.clipEnd = live.clip ? core.clipRegion(live.clip).end : 0;
    live.notesSent = notes.length;
    // What this request may replace, as read now: the one list the write removes notes from.
    live.replaced = live.clip && mode !== "accompany" ? core.replacedNotes(live.notes, span) : [];
    live.request = {
        id: this.nextId(), replyPort: this.replyPort, mode: mode, prompt: settings.prompt,
        tempo: live.tempo, numerator: live.numerator, denominator: live.denominator,
        span: span, origin: origin, variations: variations, seed: settings.seed, grid: settings.grid,
        temperature: settings.temperature, topP: settings.topP,
        instruments: mode === "accompany" ? (settings.instrument >= 0 ? [settings.instrument] : []) : [chosen],
        given: mode === "accompany" ? [own] : [],
        notes: notes, instrument: own, perChunk: core.notesPerChunk(this.maxDatagramBytes)
    };
    if (live.trackInstrument === null) {
        log("the track's name says no instrument (e.g. 'Bass' or '[33]'); using " + core.instrumentName(own));
    }
    return live;
};

// The result is complete: write it in a deferred task.
Device.prototype.complete = function (result) {
    this.result = result;
    this.state = "writing";
    say("writing into Live...");
    this.writer.schedule(0);
};

// The result is complete: write it into Live, all in this one deferred task. What may be removed
// is decided in one place (core.removalPlan, run by the bridge); an empty result writes nothing.
Device.prototype.write = function () {
    var ctx = this.ctx, result = this.result;
    try {
        if (!this.bridge.unchanged(ctx)) {
            this.finish("the clip, its slot or its track changed while the model was writing: nothing was " +
                "written; press Generate again");
            return;
        }
        var plan = core.planWrite(ctx, result);
        if (plan.empty) {
            log(ctx.mode + ": the model wrote no notes in the span (the daemon would have replaced " +
                (result.removed || 0) + "); nothing was changed");
            this.finish(core.TEXT.empty(result.seed));
            return;
        }
        var summary = this.bridge.execute(plan.ops);
        log(this.describeWrite(summary, result));
        for (var b = 0; b < summary.broken.length; b++) {
            log("error: the notes of " + summary.broken[b] + " after the write; check the clip (Undo restores it)");
        }
        for (var w = 0; w < result.warnings.length; w++) {
            log("warning: " + result.warnings[w]);
        }
        var notes = [];
        if (summary.kept) {
            notes.push(core.TEXT.keptUser(summary.kept));
        }
        if (plan.note) {
            notes.push(plan.note);
        }
        if (result.warnings.length) {
            notes.push(result.warnings[0]);
        }
        if (summary.broken.length) {
            notes.push("Live changed other notes too: see the Max window");
        }
        this.finish(core.TEXT.done({
            notes: plan.notes, variations: result.variations.length, seconds: result.seconds,
            seed: result.seed, note: notes.join("; ")
        }));
    } catch (error) {
        log(error.stack || error.message);
        this.finish("error while writing into Live: " + error.message);
    }
};

// The Max window line of a write: the true counts, read from what was done (Session and
// Arrangement alike), next to what the daemon says it replaced.
Device.prototype.describeWrite = function (summary, result) {
    var ctx = this.ctx;
    var text = ctx.mode + ": ";
    if (summary.target) {
        text += "removed " + summary.target.removed + " notes and added " + summary.target.added + " in " +
            summary.target.path;
    } else {
        text += "added " + summary.added + " notes in " + summary.clips + " new clip(s) and other tracks' clips";
    }
    if (ctx.mode !== "accompany") {
        text += " (the daemon replaced " + (result.removed || 0) + " of the " + ctx.replaced.length +
            " notes sent as replaced)";
    }
    if (summary.kept) {
        text += "; kept " + summary.kept + " notes added or changed meanwhile";
    }
    if (summary.gone) {
        text += "; " + summary.gone + " notes to replace were deleted meanwhile";
    }
    return text;
};

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
