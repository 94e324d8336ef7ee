// MIDI-LLM for Max for Live: the Device, a MidiLLMClient.Client (midi_llm_client.js) that reads Live
// for its request (the clip, the span, the instrument, what it may replace) and writes the complete
// result into Live in one deferred task (core.planWrite, run by MidiLLMLive.Bridge).
//
// ES5 only (Max's classic [js] object). Uses what midi_llm_device.js defines (settings, say, log,
// timer, deviceFile), the device's glue, loaded after it.

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
