// MIDI-LLM for Max for Live: the glue for Max's classic [js] object.
//
// ES5 only. Inlet 0 takes the UI's messages (mode 2, bars 8, go...) and the daemon's
// replies, which [udpreceive] -> [deferlow] turns into messages such as
// "/midi-llm/progress 123 0.5 40" (handled by anything()). Outlet 0 feeds [udpsend] with OSC
// messages; outlet 1 drives the UI: "status <text>", "button <label>", "replyport <n>"
// (to [udpreceive]) and "daemonport <n>" (to [udpsend]).
//
// LiveAPI objects are only made after live.thisdevice has banged (init), and every write
// into Live happens in one deferred Task, never in a notification callback.

inlets = 1;
outlets = 2;
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
    replyPort: 0         // 0: chosen from the device's id
};

var ACCEPT_TIMEOUT = 3000;
var PONG_TIMEOUT = 1500;
var CANCEL_TIMEOUT = 3000;
var RESEND_INTERVAL = 1000;
var RESEND_ATTEMPTS = 3;
var SILENCE_PING = 10000;
var SEND_BURST = 16;

var device = null;

function say(text) {
    outlet(1, "status", String(text));
}

function log(text) {
    post("MIDI-LLM: " + text + "\n");
}

// A Task that can be rescheduled: a later schedule() replaces a pending one.
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

function Device(Api) {
    this.bridge = new MidiLLMLive.Bridge(Api);
    var me = new Api("this_device");
    this.deviceId = parseInt(me.id, 10) || 1;
    this.counter = 1 + Math.floor(Math.random() * 50000);
    this.state = "idle";
    this.job = null;
    this.ctx = null;
    this.result = null;
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
    this.writer = timer(function () { self.write(); });
}

// Request ids are text ("m<device id>-<n>"): unique per device, echoed back as text, so no
// float conversion on the way through Max can change them.
Device.prototype.nextId = function () {
    this.counter = (this.counter + 1) % 100000;
    return "m" + this.deviceId + "-" + this.counter;
};

Device.prototype.send = function (message) {
    outlet(0, message);
};

// Auto reply port: 9124 + the device's id folded into 9124..9999, never the daemon's port.
Device.prototype.applyPorts = function () {
    var port = settings.replyPort;
    if (!port) {
        port = 9124 + (this.deviceId % 876);
        if (port === settings.daemonPort) {
            port += 1;
        }
    }
    this.replyPort = port;
    outlet(1, "daemonport", settings.daemonPort);
    outlet(1, "replyport", port);
};

Device.prototype.setButton = function (busy) {
    outlet(1, "button", busy ? "Cancel" : "Generate");
};

Device.prototype.busy = function () {
    return this.state !== "idle";
};

// ----- talking to the daemon ----------------------------------------------------------------

Device.prototype.ping = function (then) {
    var id = this.nextId();
    this.pongWaiter = {id: id, then: then};
    this.send(core.pingMessage(id, this.replyPort));
    this.pongTimer.schedule(PONG_TIMEOUT);
};

Device.prototype.onPong = function (args) {
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

Device.prototype.onPongTimeout = function () {
    if (!this.pongWaiter) {
        return;
    }
    this.pongWaiter = null;
    if (this.job) {
        this.finish(core.TEXT.stoppedAnswering(settings.daemonPort));
    } else {
        this.finish(core.TEXT.notRunning(settings.daemonPort));
    }
};

Device.prototype.check = function () {
    if (this.busy()) {
        return;
    }
    this.state = "checking";
    this.ping(function (pong) {
        this.send(core.statusMessage(this.nextId(), this.replyPort));
        this.state = "idle";
        say(core.TEXT.ready(pong));
    });
};

// Messages go out in bursts of SEND_BURST per scheduler tick, so that a large clip's
// chunks do not overflow a socket buffer.
Device.prototype.queue = function (messages) {
    this.outbox = this.outbox.concat(messages);
    this.flush();
};

Device.prototype.flush = function () {
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

// ----- a request --------------------------------------------------------------------------------

Device.prototype.go = function () {
    if (this.state === "writing") {
        return;
    }
    if (this.busy() && this.state !== "checking") {
        this.cancel();
        return;
    }
    this.state = "connecting";
    this.retried = false;
    this.setButton(true);
    say("connecting to the daemon on port " + settings.daemonPort + "...");
    this.ping(function () {
        if (this.state === "connecting") {
            this.start();
        }
    });
};

Device.prototype.start = function () {
    var ctx, messages;
    try {
        ctx = this.prepare();
        messages = core.buildRequest(ctx.request);
    } catch (error) {
        this.finish(error instanceof core.UserError ? error.message : "error: " + error.message);
        if (!(error instanceof core.UserError)) {
            log(error.stack || error.message);
        }
        return;
    }
    this.ctx = ctx;
    this.job = new core.Job(ctx.request.id, ctx.mode);
    this.state = "sending";
    this.lastHeard = Date.now();
    say("sending " + ctx.notes.length + " notes...");
    this.queue(messages);
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

Device.prototype.onAcceptTimeout = function () {
    if (this.state === "waiting") {
        this.finish("no answer from the daemon on port " + settings.daemonPort + " (the request may have been " +
            "lost): try again");
    }
};

Device.prototype.cancel = function () {
    if (this.state === "connecting" || this.state === "checking") {
        this.pongWaiter = null;
        this.pongTimer.cancel();
        this.finish("cancelled");
        return;
    }
    if (!this.job || this.state === "cancelling" || this.state === "writing") {
        return;
    }
    this.outbox = [];
    this.state = "cancelling";
    say("cancelling...");
    this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    this.cancelTimer.schedule(CANCEL_TIMEOUT);
};

Device.prototype.onReply = function (address, args) {
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
            // Chunks of the clip were lost on the way: send the whole request again, new id.
            this.retried = true;
            log("the daemon missed part of the clip; sending it again");
            this.ctx.request.id = this.nextId();
            this.job = new core.Job(this.ctx.request.id, this.ctx.mode);
            this.state = "sending";
            this.queue(core.buildRequest(this.ctx.request));
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
            // The result overtook the cancel: the musician asked for nothing, so nothing is written.
            this.finish("cancelled");
            return;
        }
        this.result = event.result;
        this.state = "writing";
        say("writing into Live...");
        this.writer.schedule(0);
        break;
    }
};

// Lost /result chunks: ask again, up to RESEND_ATTEMPTS times, then say which never came.
Device.prototype.askResend = function (missing) {
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

Device.prototype.onResendTimer = function () {
    if (!this.job || this.state === "writing" || this.state === "idle") {
        return;
    }
    var missing = this.job.missing();
    if (missing.length) {
        this.askResend(missing);
    }
};

// While a job is queued or running, the daemon may stay silent (a long queue): after
// SILENCE_PING of silence, ping it; no pong means it is gone.
Device.prototype.onWatchdog = function () {
    if (!this.job || this.state === "idle" || this.state === "writing") {
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

// The result is complete: write it into Live, all in this one deferred task.
Device.prototype.write = function () {
    var ctx = this.ctx, result = this.result;
    try {
        if (!this.bridge.unchanged(ctx)) {
            this.finish("the clip, its slot or its track changed while the model was writing: nothing was " +
                "written; press Generate again");
            return;
        }
        var plan = core.planWrite(ctx, result);
        this.bridge.execute(plan.ops);
        var expected = ctx.mode === "infill" ? result.removed : null;
        if (expected !== null && expected !== undefined) {
            var removed = 0;
            for (var i = 0; i < plan.ops.length; i++) {
                if (plan.ops[i].op === "replace_span" && plan.ops[i].clip.track === ctx.track &&
                        plan.ops[i].clip.scene === ctx.scene) {
                    removed = core.audibleIdsInSpan(ctx.notes, ctx.span.start, ctx.span.end).length;
                }
            }
            if (removed !== expected) {
                log("the daemon replaced " + expected + " notes, the device removed " + removed);
            }
        }
        for (var w = 0; w < result.warnings.length; w++) {
            log("warning: " + result.warnings[w]);
        }
        var note = plan.note;
        if (result.warnings.length) {
            note = (note ? note + "; " : "") + result.warnings[0];
        }
        this.finish(core.TEXT.done({
            notes: plan.notes, variations: result.variations.length, seconds: result.seconds,
            seed: result.seed, note: note
        }));
    } catch (error) {
        log(error.stack || error.message);
        this.finish("error while writing into Live: " + error.message);
    }
};

Device.prototype.finish = function (text) {
    this.state = "idle";
    this.job = null;
    this.outbox = [];
    this.acceptTimer.cancel();
    this.cancelTimer.cancel();
    this.resendTimer.cancel();
    this.watchdog.cancel();
    this.sender.cancel();
    this.setButton(false);
    if (text) {
        say(text);
    }
};

Device.prototype.close = function () {
    if (this.job && this.state !== "idle" && this.state !== "writing") {
        this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    }
    this.pongTimer.cancel();
    this.finish(null);
};

// ----- Max's entry points -------------------------------------------------------------------------

// The UI's parameters (their varnames) and the message each sends into the js inlet: at init
// the stored values are read back, in case they were output before the script listened.
var INTERFACE = [
    ["Mode", "mode"], ["Span", "span"], ["Bars", "bars"], ["Variations", "variations"],
    ["Temperature", "temperature"], ["Top-p", "top_p"], ["Instrument", "instrument"], ["Grid", "grid"],
    ["Accompany", "target"], ["Seed", "seed"], ["Daemon port", "daemon_port"], ["Reply port", "reply_port"]
];

function readInterface() {
    var patcher = jsthis && jsthis.patcher;
    if (!patcher || !patcher.getnamed) {
        return;
    }
    var handlers = {
        mode: mode, span: span, bars: bars, variations: variations, temperature: temperature, top_p: top_p,
        instrument: instrument, grid: grid, target: target, seed: seed, daemon_port: daemon_port,
        reply_port: reply_port
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
    if (device) {
        return;
    }
    readInterface();
    device = new Device(LiveAPI);
    device.applyPorts();
    device.setButton(false);
    device.check();
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
    var args = Array.prototype.slice.call(arguments);
    var address = messagename;
    if (address.charAt(0) === "/") {
        if (device) {
            device.onReply(address, args);
        }
        return;
    }
    log("unknown message " + address);
}

function pick(list, index) {
    var i = Math.round(Number(index));
    return i >= 0 && i < list.length ? list[i] : list[0];
}

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
    settings.temperature = Math.max(0.01, Math.min(5, Number(value)));
}

function top_p(value) {
    settings.topP = Math.max(0.01, Math.min(1, Number(value)));
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
    settings.seed = Math.max(0, Math.round(Number(value)));
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

function notifydeleted() {
    if (device) {
        device.close();
    }
}
