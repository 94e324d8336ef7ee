// MIDI-LLM as a Live 12 MIDI Tool (Generator or Transformation): the glue for Max's classic [js].
//
// ES5 only. The patcher loads this as [js midi-llm-tool.js generator] or [js midi-llm-tool.js
// transformation]. Inlet 0 takes the UI's messages and the daemon's replies ([udpreceive] ->
// [deferlow]); inlet 1 the notes dictionary of [live.miditool.in] (its left outlet), inlet 2 its
// context dictionary (middle outlet; Max sends it first, right to left). Outlet 0 feeds
// [udpsend]; outlet 1 the UI ("status <text>", "button <label>", "replyport <n>",
// "daemonport <n>"); outlet 2 [live.miditool.out] ("dictionary <name>"); outlet 3 bangs
// [live.miditool.in] through [deferlow].
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
outlets = 4;
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
    replyPort: 0           // 0: chosen from the device's id
};

var OUT_OSC = 0, OUT_UI = 1, OUT_NOTES = 2, OUT_TRIGGER = 3;
var IN_NOTES = 1, IN_CONTEXT = 2;

var ACCEPT_TIMEOUT = 3000;
var PONG_TIMEOUT = 1500;
var CANCEL_TIMEOUT = 3000;
var RESEND_INTERVAL = 1000;
var RESEND_ATTEMPTS = 3;
var SILENCE_PING = 10000;
var SEND_BURST = 16;
var APPLY_WAIT = 2000;     // after the bang, how long Live may take to run the apply cycle
var SETTLE = 150;          // a trigger this soon after a settings change is Live re-applying them

var BUSY = {connecting: true, sending: true, waiting: true, queued: true, running: true, cancelling: true};

var tool = null;
var pendingContext = null; // the context dictionary of the trigger under way
var settingsChangedAt = 0;
var outDict = null;

function say(text) {
    outlet(OUT_UI, "status", String(text));
}

function log(text) {
    post("MIDI-LLM " + KIND + ": " + text + "\n");
}

function timer(callback) {
    var task = new Task(callback, jsthis);
    return {
        schedule: function (delay) {
            task.cancel();
            task.schedule(delay);
        },
        cancel: function () {
            task.cancel();
        }
    };
}

function readDict(name) {
    try {
        return JSON.parse(new Dict(name).stringify());
    } catch (error) {
        log("cannot read the dictionary " + name + ": " + error.message);
        return null;
    }
}

// The answer to this apply cycle, synchronously, into live.miditool.out.
function emitNotes(notes) {
    if (!outDict) {
        outDict = new Dict();
    }
    outDict.clear();
    outDict.parse(JSON.stringify(toolCore.outputDict(notes)));
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
    var deviceId = 0;
    try {
        deviceId = parseInt(new Api("this_device").id, 10) || 0;
    } catch (error) {
        deviceId = 0;
    }
    // A MIDI Tool may have no device id: then any of 9124..9999 (set Reply port when two clash).
    this.deviceId = deviceId || 1 + Math.floor(Math.random() * 875);
    this.counter = 1 + Math.floor(Math.random() * 50000);
    this.state = "idle";
    this.job = null;
    this.snapshot = null;   // what the trigger handed over: input notes, context, re-roll?
    this.planned = null;    // the request under way (toolCore.plan)
    this.last = null;       // the last request sent, for Re-roll
    this.done = null;       // toolCore.finish of a complete result, waiting for an apply cycle
    this.result = null;
    this.written = null;    // signature of the last output (a Transformation's next input)
    this.shown = null;      // the last answer with a result: {input (signature), output}
    this.rerollNext = false;
    this.armed = false;     // Generate was pressed: the next apply cycle is a request
    this.pong = null;
    this.pongWaiter = null;
    this.lastHeard = 0;
    this.retried = false;
    this.outbox = [];
    this.maxDatagramBytes = 0;
    this.replyPort = 0;
    var self = this;
    this.pongTimer = timer(function () { self.onPongTimeout(); });
    this.acceptTimer = timer(function () { self.onAcceptTimeout(); });
    this.cancelTimer = timer(function () { self.finish("cancelled"); });
    this.resendTimer = timer(function () { self.onResendTimer(); });
    this.watchdog = timer(function () { self.onWatchdog(); });
    this.sender = timer(function () { self.flush(); });
    this.starter = timer(function () { self.start(); });
    this.trigger = timer(function () { outlet(OUT_TRIGGER, "bang"); });
    this.applyTimer = timer(function () { self.onApplyTimeout(); });
}

Tool.prototype.nextId = function () {
    this.counter = (this.counter + 1) % 100000;
    return (KIND === "generator" ? "g" : "t") + this.deviceId + "-" + this.counter;
};

Tool.prototype.send = function (message) {
    outlet(OUT_OSC, message);
};

Tool.prototype.applyPorts = function () {
    var port = settings.replyPort;
    if (!port) {
        port = 9124 + (this.deviceId % 876);
        if (port === settings.daemonPort) {
            port += 1;
        }
    }
    this.replyPort = port;
    outlet(OUT_UI, "daemonport", settings.daemonPort);
    outlet(OUT_UI, "replyport", port);
};

Tool.prototype.busy = function () {
    return BUSY[this.state] === true;
};

Tool.prototype.setButton = function () {
    outlet(OUT_UI, "button", this.busy() ? "Cancel" : "Generate");
};

Tool.prototype.finish = function (text) {
    this.state = "idle";
    this.job = null;
    this.done = null;
    this.outbox = [];
    this.acceptTimer.cancel();
    this.cancelTimer.cancel();
    this.resendTimer.cancel();
    this.watchdog.cancel();
    this.sender.cancel();
    this.starter.cancel();
    this.applyTimer.cancel();
    this.setButton();
    if (text) {
        say(text);
    }
};

// ----- Live's apply cycles ------------------------------------------------------------------------

// live.miditool.in handed over its notes (the context came just before): answer now.
Tool.prototype.onTrigger = function (notesValue, contextValue) {
    var input = toolCore.readNotes(notesValue);
    var context = toolCore.readContext(contextValue);
    var answer = input;
    try {
        answer = this.answer(input, context);
    } catch (error) {
        log(error.stack || error.message);
        answer = input; // Live gets its answer whatever happened
        if (this.state === "ready") {
            this.finish("error while writing the result: " + error.message);
        }
    }
    emitNotes(answer);
};

Tool.prototype.answer = function (input, context) {
    if (this.state === "ready") {
        return this.applyResult(input, context);
    }
    if (this.busy()) {
        return this.unchanged(input, context);
    }
    this.applyTimer.cancel();
    if (!this.rerollNext && !this.armed && Date.now() - settingsChangedAt < SETTLE) {
        say(toolCore.TEXT.settled);
        return this.unchanged(input, context);
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
    return this.unchanged(input, context);
};

// The answer that changes nothing the user sees. When Live continues the apply cycle of the last
// result, it hands over the notes from before that result: the answer is the result again. A
// Generator that got no notes answers with the notes that start in the time selection (read
// through LiveAPI), which its answer replaces.
Tool.prototype.unchanged = function (input, context) {
    if (this.shown && input.length && toolCore.signature(input) === this.shown.input) {
        return this.shown.output;
    }
    if (KIND !== "generator" || input.length || !context.selection) {
        return input;
    }
    return this.notesIn(context.selection);
};

Tool.prototype.notesIn = function (span) {
    var clip = this.readClip();
    var found = [];
    for (var i = 0; clip && i < clip.notes.length; i++) {
        if (toolCore.startsIn(clip.notes[i], span)) {
            found.push(clip.notes[i]);
        }
    }
    return found;
};

// A result is waiting and Live runs an apply cycle: write it, if this is still the clip (and
// selection) it was made for.
Tool.prototype.applyResult = function (input, context) {
    var planned = this.planned, done = this.done, result = this.result;
    var clipId = this.detailClipId();
    if (planned.clipId !== null && clipId !== null && clipId !== planned.clipId) {
        this.finish(toolCore.TEXT.clipChanged);
        return this.unchanged(input, context);
    }
    if (KIND === "generator" && planned.selection && !toolCore.sameSelection(context.selection, planned.selection)) {
        this.finish(toolCore.TEXT.selectionChanged);
        return this.unchanged(input, context);
    }
    if (KIND === "transformation") {
        var now = toolCore.signature(input);
        if (now !== toolCore.signature(planned.originals) && now !== this.written) {
            this.finish(toolCore.TEXT.selectionChanged);
            return input;
        }
    }
    var base = KIND === "generator" && !input.length ? this.notesIn(planned.span) : input;
    var notes = toolCore.output(planned, done, base);
    this.written = toolCore.signature(done.notes);
    this.shown = {input: toolCore.signature(input), output: notes};
    this.finish(toolCore.TEXT.done(planned, done, result));
    return notes;
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
        var notes = toolCore.readNotes(this.bridge.readNotes(path));
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
        return {id: String(detail.id), notes: notes, region: core.clipRegion(info), trackInstrument: instrument};
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

// ----- talking to the daemon -----------------------------------------------------------------------

Tool.prototype.ping = function (then) {
    var id = this.nextId();
    this.pongWaiter = {id: id, then: then};
    this.send(core.pingMessage(id, this.replyPort));
    this.pongTimer.schedule(PONG_TIMEOUT);
};

Tool.prototype.onPong = function (args) {
    var pong = core.parsePong(args);
    if (!this.pongWaiter || String(pong.id) !== String(this.pongWaiter.id)) {
        return;
    }
    var then = this.pongWaiter.then;
    this.pongWaiter = null;
    this.pongTimer.cancel();
    this.pong = pong;
    if (pong.protocol !== core.PROTOCOL_VERSION) {
        log(core.TEXT.protocolMismatch(pong.protocol));
        this.finish(core.TEXT.protocolMismatch(pong.protocol));
        return;
    }
    if (then) {
        then.call(this, pong);
    }
};

Tool.prototype.onPongTimeout = function () {
    if (!this.pongWaiter) {
        return;
    }
    this.pongWaiter = null;
    this.finish(this.job ? core.TEXT.stoppedAnswering(settings.daemonPort) : core.TEXT.notRunning(settings.daemonPort));
};

Tool.prototype.check = function () {
    if (this.busy() || this.state === "ready") {
        return;
    }
    this.state = "checking";
    this.ping(function (pong) {
        this.send(core.statusMessage(this.nextId(), this.replyPort));
        this.state = "idle";
        say(core.TEXT.ready(pong));
    });
};

Tool.prototype.queue = function (messages) {
    this.outbox = this.outbox.concat(messages);
    this.flush();
};

Tool.prototype.flush = function () {
    var count = Math.min(SEND_BURST, this.outbox.length);
    for (var i = 0; i < count; i++) {
        this.send(this.outbox.shift());
    }
    if (this.outbox.length) {
        this.sender.schedule(2);
    } else if (this.state === "sending") {
        this.state = "waiting";
        this.acceptTimer.schedule(ACCEPT_TIMEOUT);
    }
};

// ----- a request -------------------------------------------------------------------------------------

Tool.prototype.start = function () {
    if (this.state !== "connecting") {
        return;
    }
    this.ping(function () {
        if (this.state === "connecting") {
            this.sendRequest();
        }
    });
};

Tool.prototype.sendRequest = function () {
    var planned, messages;
    try {
        planned = this.prepare(this.snapshot);
        messages = core.buildRequest(planned.request);
    } catch (error) {
        this.finish(error instanceof core.UserError ? error.message : "error: " + error.message);
        if (!(error instanceof core.UserError)) {
            log(error.stack || error.message);
        }
        return;
    }
    this.planned = planned;
    this.last = planned;
    this.job = new core.Job(planned.request.id, planned.request.mode);
    this.state = "sending";
    this.lastHeard = Date.now();
    say("sending " + planned.request.notes.length + " notes...");
    this.queue(messages);
};

// Read Live and plan the request. Re-roll sends the last request again with a new seed while the
// same clip is in the editor.
Tool.prototype.prepare = function (snapshot) {
    var clip = this.readClip();
    var clipId = clip ? clip.id : null;
    var seed;
    if (snapshot.reroll) {
        seed = 1 + Math.floor(Math.random() * 2147483646);
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

Tool.prototype.onAcceptTimeout = function () {
    if (this.state === "waiting") {
        this.finish("no answer from the daemon on port " + settings.daemonPort + " (the request may have been " +
            "lost): try again");
    }
};

Tool.prototype.cancel = function () {
    if (this.state === "connecting") {
        this.pongWaiter = null;
        this.pongTimer.cancel();
        this.finish("cancelled");
        return;
    }
    if (!this.job || !this.busy() || this.state === "cancelling") {
        return;
    }
    this.outbox = [];
    this.state = "cancelling";
    say("cancelling...");
    this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    this.cancelTimer.schedule(CANCEL_TIMEOUT);
};

// Generate (the panel's button): a new request from what live.miditool.in hands over next.
Tool.prototype.go = function () {
    if (this.busy()) {
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

Tool.prototype.onReply = function (address, args) {
    if (address === core.PREFIX + "/pong") {
        this.lastHeard = Date.now();
        this.onPong(args);
        return;
    }
    if (address === core.PREFIX + "/info") {
        var info = core.parseInfo(args);
        if (info.protocol === core.PROTOCOL_VERSION) {
            this.maxDatagramBytes = info.maxDatagramBytes;
        }
        return;
    }
    if (!this.job) {
        return;
    }
    var event = this.job.handle(address, args);
    if (!event) {
        return;
    }
    this.lastHeard = Date.now();
    switch (event.type) {
    case "accepted":
        this.acceptTimer.cancel();
        if (this.state !== "cancelling") {
            this.state = "queued";
            say(core.TEXT.queued(event.position));
        }
        this.watchdog.schedule(1000);
        break;
    case "started":
        if (this.state !== "cancelling") {
            this.state = "running";
            say(core.TEXT.progress(0, 0));
        }
        break;
    case "progress":
        if (this.state !== "cancelling") {
            say(core.TEXT.progress(event.fraction, event.notes));
        }
        break;
    case "warning":
        log("warning: " + event.text);
        break;
    case "error":
        if (event.code === "missing_chunk" && !this.retried && this.state !== "cancelling") {
            this.retried = true;
            log("the daemon missed part of the clip; sending it again");
            this.planned.request.id = this.nextId();
            this.job = new core.Job(this.planned.request.id, this.planned.request.mode);
            this.state = "sending";
            this.queue(core.buildRequest(this.planned.request));
            return;
        }
        this.finish(core.TEXT.error(event.code, event.message));
        break;
    case "incomplete":
        this.askResend(event.missing);
        break;
    case "complete":
        this.resendTimer.cancel();
        if (this.state === "cancelling") {
            this.finish("cancelled");
            return;
        }
        this.complete(event.result);
        break;
    }
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

Tool.prototype.askResend = function (missing) {
    if (this.job.resends >= RESEND_ATTEMPTS) {
        this.finish(core.TEXT.lostChunks(missing));
        return;
    }
    this.job.resends += 1;
    log("asking again for " + core.describeMissing(missing));
    var messages = core.resendMessages(this.job.id, this.replyPort, missing);
    for (var i = 0; i < messages.length; i++) {
        this.send(messages[i]);
    }
    this.resendTimer.schedule(RESEND_INTERVAL);
};

Tool.prototype.onResendTimer = function () {
    if (!this.job || !this.busy()) {
        return;
    }
    var missing = this.job.missing();
    if (missing.length) {
        this.askResend(missing);
    }
};

Tool.prototype.onWatchdog = function () {
    if (!this.job || !this.busy()) {
        return;
    }
    if (Date.now() - this.lastHeard > SILENCE_PING && !this.pongWaiter) {
        this.ping(function () {
            if (this.job && this.job.done === null && this.job.variations[0] !== undefined) {
                this.finish("error: the daemon's last reply never arrived; try again");
            }
        });
    }
    this.watchdog.schedule(1000);
};

Tool.prototype.close = function () {
    if (this.job && this.busy()) {
        this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    }
    this.pongTimer.cancel();
    this.trigger.cancel();
    this.finish(null);
};

// ----- Max's entry points ----------------------------------------------------------------------------

// The UI's parameters (their varnames) and the message each sends into the js inlet.
var INTERFACE = [
    ["Mode", "mode"], ["Instrument", "instrument"], ["Grid", "grid"], ["Scale", "scale"], ["Low", "low"],
    ["High", "high"], ["Seed", "seed"], ["Temperature", "temperature"], ["Top-p", "top_p"],
    ["Daemon port", "daemon_port"], ["Reply port", "reply_port"], ["Page", "page"]
];

// The panel's two pages (the tab "Page"): the boxes shown on each, by varname. The tab and the
// status line are on both.
var PAGES = [
    ["Prompt", "Instrument", "Grid", "Mode", "About", "Seed", "Generate", "Re-roll"],
    ["Scale label", "Scale", "Low label", "Low", "High label", "High", "Temperature label", "Temperature",
        "Top-p label", "Top-p", "Daemon label", "Daemon port", "Reply label", "Reply port", "Check"]
];

function readInterface() {
    var patcher = jsthis && jsthis.patcher;
    if (!patcher || !patcher.getnamed) {
        return;
    }
    var handlers = {
        mode: mode, instrument: instrument, grid: grid, scale: scale, low: low, high: high, seed: seed,
        temperature: temperature, top_p: top_p, daemon_port: daemon_port, reply_port: reply_port, page: page
    };
    for (var i = 0; i < INTERFACE.length; i++) {
        try {
            var box = patcher.getnamed(INTERFACE[i][0]);
            if (box) {
                handlers[INTERFACE[i][1]](box.getvalueof());
            }
        } catch (error) {
            log("cannot read " + INTERFACE[i][0] + ": " + error.message);
        }
    }
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
        emitNotes(toolCore.readNotes(value));
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

function anything() {
    var args = Array.prototype.slice.call(arguments);
    var address = messagename;
    if (address.charAt(0) === "/") {
        if (tool) {
            tool.onReply(address, args);
        }
        return;
    }
    log("unknown message " + address);
}

function pick(list, index) {
    var i = Math.round(Number(index));
    return i >= 0 && i < list.length ? list[i] : list[0];
}

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
    settings.seed = Math.max(0, Math.round(Number(value)));
    changed();
}

function temperature(value) {
    settings.temperature = Math.max(0.01, Math.min(5, Number(value)));
    changed();
}

function top_p(value) {
    settings.topP = Math.max(0.01, Math.min(1, Number(value)));
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
