// MIDI-LLM as a Live 12 MIDI Tool: the request of the Generator and of the Transformation (keep
// rhythm, keep pitches, accompany), Re-roll's copy of it, and what a complete result becomes.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLMTool
// namespace of midi_llm_tool_core.js, which is loaded first (after the device's pure modules).

(function (core, tool) {
    "use strict";

    var ACCOMPANY_BELOW = tool.ACCOMPANY_BELOW;
    var ACCOMPANY_ABOVE = tool.ACCOMPANY_ABOVE;
    var UserError = tool.UserError;
    var sortNotes = tool.sortNotes;
    var copyNote = tool.copyNote;
    var signature = tool.signature;
    var gridOption = tool.gridOption;
    var scaleOf = tool.scaleOf;
    var scaleClasses = tool.scaleClasses;
    var generatorSpan = tool.generatorSpan;
    var transformSpan = tool.transformSpan;
    var startsIn = tool.startsIn;
    var CHANGEABLE = tool.CHANGEABLE;
    var fromResult = tool.fromResult;
    var keepRhythm = tool.keepRhythm;
    var keepPitches = tool.keepPitches;
    var accompanyRange = tool.accompanyRange;

    // ----- the request -------------------------------------------------------------------------------

    // KEEP RHYTHM's and KEEP PITCHES' context: the clip's notes, with every audible note that starts
    // in the span but is not selected sent muted. The daemon's keep_rhythm (keep_pitches) replaces
    // exactly the audible notes starting in the span (they are its rhythm (pitch) slots); muted notes
    // are kept and not heard, so the slots are exactly the audible selected notes. (Without them an
    // infill does not hear the notes it
    // replaces either: the model hears what it heard before.) A note is selected when its note_id
    // is among the selected ones, or, for notes without ids, its pitch, start and duration are.
    function keepRhythmContext(clipNotes, selected, span) {
        var ids = {}, keys = {}, withIds = false;
        var i;
        for (i = 0; i < selected.length; i++) {
            if (selected[i].note_id !== undefined) {
                ids[selected[i].note_id] = true;
                withIds = true;
            }
            keys[signature([selected[i]])] = true;
        }
        var out = [];
        for (i = 0; i < clipNotes.length; i++) {
            var n = clipNotes[i];
            var isSelected = withIds && n.note_id !== undefined ? ids[n.note_id] === true : keys[signature([n])] === true;
            if (!n.mute && !isSelected && startsIn(n, span)) {
                n = copyNote(n);
                n.mute = 1;
            }
            out.push(n);
        }
        return out;
    }

    // Everything one request needs, and what finish()/output() need afterwards.
    // p: {kind, settings ({prompt, mode, instrument (-1 auto), grid, scale, low, high, seed,
    //     temperature, topP}), context (readContext), input (readNotes of the left outlet),
    //     clipNotes (every note of the clip through LiveAPI, or null), clipRegion ({start, end}
    //     of its loop, or null), trackInstrument (or null), tempo, numerator, denominator, id,
    //     replyPort, perChunk, seed (overrides settings.seed)}
    function plan(p) {
        var s = p.settings;
        var own = p.trackInstrument === null || p.trackInstrument === undefined ? 0 : p.trackInstrument;
        var chosen = s.instrument >= 0 ? s.instrument : own;
        var low = core.clamp(Math.round(s.low), 0, 127);
        var high = core.clamp(Math.round(s.high), low, 127);
        var planned = {
            kind: p.kind, mode: p.kind === "generator" ? "generate" : s.mode, selection: p.context.selection,
            scale: scaleOf(s.scale, p.context), low: low, high: high, originals: [], slots: [], instrument: chosen,
            given: own
        };
        var notes, instruments, given = [], mode = "infill", keep = "";
        if (p.kind === "generator") {
            planned.span = generatorSpan(p.context, p.clipRegion);
            notes = p.clipNotes || p.input;
            instruments = [chosen];
        } else {
            planned.originals = sortNotes(p.input);
            if (!planned.originals.length) {
                throw new UserError("select the notes to re-imagine first (or drag over them), then press Apply");
            }
            planned.span = transformSpan(p.context, planned.originals);
            if (planned.mode === "accompany") {
                var range = accompanyRange(planned.originals, low, high);
                var part = s.instrument >= 0 ? s.instrument : (range.below ? ACCOMPANY_BELOW : ACCOMPANY_ABOVE);
                if (part === own) {
                    throw new UserError("accompany: choose an Instrument other than the clip's own (" +
                        core.instrumentName(own) + ")");
                }
                mode = "accompany";
                notes = planned.originals;
                instruments = [part];
                given = [own];
                planned.low = range.low;
                planned.high = range.high;
                planned.instrument = part;
            } else {
                // keep rhythm / keep pitches: the daemon replaces the audible notes starting in the
                // span, the slots (see keepRhythmContext).
                for (var i = 0; i < planned.originals.length; i++) {
                    if (!planned.originals[i].mute) {
                        planned.slots.push(planned.originals[i]);
                    }
                }
                if (!planned.slots.length) {
                    throw new UserError(planned.mode + ": the selected notes are all muted; select audible notes");
                }
                keep = planned.mode;
                notes = keepRhythmContext(p.clipNotes || planned.originals, planned.originals, planned.span);
                instruments = [chosen];
            }
        }
        // keep pitches keeps the selected pitches: the scale and Low..High would only constrain
        // pitches it does not write.
        var pitched = keep === "keep pitches";
        var classes = pitched ? [] : scaleClasses(planned.scale);
        var bar = core.barBeats(p.numerator, p.denominator);
        planned.origin = core.computeOrigin(notes, planned.span, bar);
        planned.request = {
            id: p.id, replyPort: p.replyPort, mode: mode, prompt: s.prompt, tempo: p.tempo, numerator: p.numerator,
            denominator: p.denominator, span: planned.span, origin: planned.origin, variations: 1,
            seed: p.seed === undefined ? s.seed : p.seed, grid: gridOption(s.grid, p.context),
            temperature: s.temperature, topP: s.topP, instruments: instruments, given: given,
            lowestPitch: pitched ? 0 : planned.low, highestPitch: pitched ? 127 : planned.high,
            keepRhythm: keep === "keep rhythm", keepPitches: pitched, pitchClasses: classes, notes: notes,
            instrument: own, perChunk: p.perChunk
        };
        return planned;
    }

    // The same request under a new id and seed (Re-roll).
    function again(planned, id, seed) {
        var copy = copyNote(planned);
        copy.request = copyNote(planned.request);
        copy.request.id = id;
        copy.request.seed = seed;
        return copy;
    }

    // What a complete result becomes: {add (new notes: a Generator's, an accompaniment), changes
    // and fields (keep rhythm/pitches: the selected notes' new pitch, or new onset and duration, by
    // key), count (new or changed notes), unplaced (keep rhythm/pitches: selected notes the model
    // wrote no note for), incomplete (keep pitches: why nothing can be written), mismatch (keep
    // rhythm/pitches: the daemon replaced another number of notes than the selected audible ones),
    // empty}. The daemon already kept new pitched notes in the scale (pitch_class) and left out
    // doubles.
    function finish(planned, result) {
        var fresh = fromResult(result.variations[0] || [], planned.origin);
        var inside = [];
        for (var i = 0; i < fresh.length; i++) {
            if (startsIn(fresh[i], planned.span)) {
                inside.push(fresh[i]);
            }
        }
        var done = {add: inside, changes: {}, fields: [], count: inside.length, unplaced: 0, empty: !inside.length};
        if (done.empty || (planned.mode !== "keep rhythm" && planned.mode !== "keep pitches")) {
            return done;
        }
        var pitches = planned.mode === "keep pitches";
        var fit = pitches ? keepPitches(planned.slots, inside) : keepRhythm(planned.slots, inside);
        done.add = [];
        done.changes = fit.changes;
        done.fields = pitches ? CHANGEABLE.rhythm : CHANGEABLE.pitch;
        done.count = fit.changed;
        done.unplaced = fit.unplaced;
        done.empty = !fit.changed;
        // The daemon says how many notes it replaced: its slots, which should be the selected ones.
        if (typeof result.removed === "number" && result.removed !== planned.slots.length) {
            done.mismatch = "the daemon took the " + (pitches ? "pitches" : "rhythm") + " of " +
                result.removed + " notes, " + planned.slots.length + " were selected";
        }
        if (pitches && fit.unplaced) {
            var why = result.warnings && result.warnings.length ? " (" + result.warnings[0] + ")" : "";
            done.incomplete = "keep pitches: the model placed " + fit.changed + " of the " + planned.slots.length +
                " selected notes" + why + ": nothing changed; press Re-roll";
        }
        return done;
    }

    tool.keepRhythmContext = keepRhythmContext;
    tool.plan = plan;
    tool.again = again;
    tool.finish = finish;
}(MidiLLM, MidiLLMTool));
