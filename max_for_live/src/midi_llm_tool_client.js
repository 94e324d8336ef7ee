// MIDI-LLM as a Live 12 MIDI Tool: the Tool, a MidiLLMClient.Client (midi_llm_client.js) that reads
// the clip in the editor and the song through LiveAPI, plans the request (toolCore.plan), sends it,
// Re-rolls it and takes the complete result; midi_llm_tool_cycle.js writes that result in an apply
// cycle.
//
// ES5 only (Max's classic [js] object). Uses what midi_llm_tool_host.js defines (KIND, settings,
// the outlets, say, log, timer, APPLY_WAIT, BUSY) and deviceFile() of midi_llm_tool.js.

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
