// MIDI-LLM as a Live 12 MIDI Tool: the answers to Live's apply cycles.
//
// ES5 only (Max's classic [js] object). Adds to the Tool (midi_llm_tool_client.js): a cycle is
// answered at once, through toolCore.answer (the only maker of answers: see THE INVARIANT in
// midi_llm_tool_core.js): unchanged while a request is under way, the result in the cycle the tool
// asked for, and nothing written when the clip or the selection changed meanwhile.

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
