// MIDI-LLM as a Live 12 MIDI Tool: the pure logic (no Max, no Live).
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). Uses midi_llm_core.js
// (MidiLLM) for requests, replies and instruments; this file adds what a MIDI Tool needs:
// reading live.miditool.in's dictionaries (notes and context: time selection, grid, scale),
// the request of the Generator and of the Transformation (the clip's scale as the daemon's
// pitch_class options, keep_rhythm for "keep rhythm", keep_pitches for "keep pitches"), the
// matching of the daemon's "keep rhythm" and "keep pitches" results to the selected notes, and
// the answer for live.miditool.out.
//
// The output contract (Live 12's MIDI Tools): the notes sent to live.miditool.out are an edit of
// the notes live.miditool.in gave the tool (by note_id: modified in place, added, removed). A
// Generator's output goes into the time selection (the clip's loop without one); when Live gives
// a Generator no notes, its output edits the notes that start in the time selection. The one
// rule for what goes back, and the one function that builds it: see THE INVARIANT below.

var MidiLLMTool = (function (core) {
    "use strict";

    var EPS = core.EPS;
    var DRUMS = core.DRUMS;
    var ONSET = 1e-3;            // notes starting closer than this (beats) share an onset
    var KINDS = ["generator", "transformation"];
    var MODES = ["keep rhythm", "keep pitches", "accompany"];
    var GRIDS = ["editor", "off", "1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"];
    var SCALES = ["editor", "off"];
    var ACCOMPANY_BELOW = 33;    // Electric Bass (finger), under the selection
    var ACCOMPANY_ABOVE = 48;    // String Ensemble 1, over a low selection
    var ACCOMPANY_RANGE = 24;    // semitones of the automatic accompaniment range
    var LOW_SELECTION = 36;      // a selection reaching below C1 gets its accompaniment above

    var UserError = core.UserError;

    // ----- small helpers ----------------------------------------------------------------

    function isArray(value) {
        return Object.prototype.toString.call(value) === "[object Array]";
    }

    // Max's dictionaries turn a one-element array into the element: undo that.
    function asArray(value) {
        if (value === undefined || value === null || value === "") {
            return [];
        }
        return isArray(value) ? value : [value];
    }

    function number(value, fallback) {
        if (value === undefined || value === null || value === "" || typeof value === "boolean") {
            return typeof value === "boolean" ? (value ? 1 : 0) : fallback;
        }
        var n = Number(value);
        return isFinite(n) ? n : fallback;
    }

    function mod12(value) {
        return ((Math.round(value) % 12) + 12) % 12;
    }

    function byStartThenPitch(a, b) {
        return a.start_time - b.start_time || a.pitch - b.pitch;
    }

    function sortNotes(notes) {
        return notes.slice().sort(byStartThenPitch);
    }

    function copyNote(note) {
        var out = {};
        for (var key in note) {
            if (Object.prototype.hasOwnProperty.call(note, key)) {
                out[key] = note[key];
            }
        }
        return out;
    }

    // ----- live.miditool.in's dictionaries ----------------------------------------------------

    // A note as live.miditool.in (or get_all_notes_extended) gives it, with every field there.
    function cleanNote(note) {
        var out = {
            pitch: core.clamp(Math.round(number(note.pitch, 60)), 0, 127),
            start_time: number(note.start_time, 0),
            duration: Math.max(number(note.duration, 0.25), 0),
            velocity: core.clamp(number(note.velocity, 100), 0, 127),
            mute: number(note.mute, 0) ? 1 : 0,
            probability: core.clamp(number(note.probability, 1), 0, 1),
            velocity_deviation: core.clamp(number(note.velocity_deviation, 0), -127, 127),
            release_velocity: core.clamp(number(note.release_velocity, 64), 0, 127)
        };
        if (note.note_id !== undefined && note.note_id !== null) {
            out.note_id = note.note_id;
        }
        return out;
    }

    // {notes: [...]} (the left outlet), or a plain list: the notes sorted by start, then pitch.
    function readNotes(value) {
        var list = value && !isArray(value) && typeof value === "object" ? asArray(value.notes) : asArray(value);
        var notes = [];
        for (var i = 0; i < list.length; i++) {
            if (list[i] && typeof list[i] === "object") {
                notes.push(cleanNote(list[i]));
            }
        }
        return sortNotes(notes);
    }

    // The middle outlet: {clip: {time_selection_start, time_selection_end, insert_marker_time,
    // first_note_start, last_note_end, lowest_pitch, highest_pitch}, scale: {scale_mode, root_note,
    // scale_intervals, scale_name}, grid: {interval, enabled}}; times in beats of the clip.
    function readContext(value) {
        var v = value && typeof value === "object" ? value : {};
        var clip = v.clip && typeof v.clip === "object" ? v.clip : {};
        var grid = v.grid && typeof v.grid === "object" ? v.grid : {};
        var scale = v.scale && typeof v.scale === "object" ? v.scale : {};
        var start = number(clip.time_selection_start, null);
        var end = number(clip.time_selection_end, null);
        var intervals = [];
        var listed = asArray(scale.scale_intervals);
        for (var i = 0; i < listed.length; i++) {
            if (number(listed[i], null) !== null) {
                intervals.push(Math.round(number(listed[i], 0)));
            }
        }
        return {
            selection: start !== null && end !== null && end > start + EPS ? {start: start, end: end} : null,
            insertMarker: number(clip.insert_marker_time, null),
            lowest: number(clip.lowest_pitch, null),
            highest: number(clip.highest_pitch, null),
            grid: {interval: number(grid.interval, 0), enabled: number(grid.enabled, 1) ? true : false},
            scale: {
                on: number(scale.scale_mode, 0) ? true : false,
                root: mod12(number(scale.root_note, 0)),
                intervals: intervals,
                name: String(scale.scale_name === undefined || scale.scale_name === null ? "" : scale.scale_name)
            }
        };
    }

    function sameSelection(a, b) {
        if (!a || !b) {
            return !a && !b;
        }
        return Math.abs(a.start - b.start) < EPS && Math.abs(a.end - b.end) < EPS;
    }

    // A note list's fingerprint (pitch, start, duration of the audible and muted notes), for
    // "are these still the notes the request was made from?".
    function signature(notes) {
        var keys = [];
        for (var i = 0; i < notes.length; i++) {
            keys.push(notes[i].pitch + "@" + core.round6(notes[i].start_time) + "+" + core.round6(notes[i].duration));
        }
        return keys.sort().join(" ");
    }

    // ----- grid and scale --------------------------------------------------------------------------

    // The request's grid: "editor" follows the clip editor's grid (off when the editor's grid is
    // off), the others are the daemon's names.
    function gridOption(setting, context) {
        if (setting !== "editor") {
            return setting || "off";
        }
        if (context.grid.enabled && context.grid.interval > EPS) {
            return core.round6(context.grid.interval);
        }
        return "off";
    }

    // The clip's scale when the editor's Scale Mode is on (and the Scale setting follows it), as a
    // table of 12 pitch classes; null = every pitch.
    function scaleOf(setting, context) {
        if (setting === "off" || !context.scale.on || !context.scale.intervals.length) {
            return null;
        }
        var classes = [];
        var count = 0;
        var c;
        for (c = 0; c < 12; c++) {
            classes.push(false);
        }
        for (var i = 0; i < context.scale.intervals.length; i++) {
            c = mod12(context.scale.root + context.scale.intervals[i]);
            if (!classes[c]) {
                classes[c] = true;
                count += 1;
            }
        }
        if (count === 12) {
            return null;
        }
        return {root: context.scale.root, classes: classes, name: context.scale.name};
    }

    function inScale(pitch, scale) {
        return !scale || scale.classes[mod12(pitch)];
    }

    // The scale as the daemon's pitch_class options (0-11, ascending); [] = every pitch. The daemon
    // samples new pitched notes only from these classes (drums are exempt) and refuses the request
    // (bad_request) when no pitch of the scale lies within lowest_pitch..highest_pitch.
    function scaleClasses(scale) {
        var out = [];
        for (var c = 0; scale && c < 12; c++) {
            if (scale.classes[c]) {
                out.push(c);
            }
        }
        return out;
    }

    // ----- spans ------------------------------------------------------------------------------------

    // Generator: the time selection; without one the clip's loop (read through LiveAPI).
    function generatorSpan(context, clipRegion) {
        if (context.selection) {
            return {start: core.round6(context.selection.start), end: core.round6(context.selection.end)};
        }
        if (clipRegion && clipRegion.end > clipRegion.start + EPS) {
            return {start: core.round6(clipRegion.start), end: core.round6(clipRegion.end)};
        }
        throw new UserError("select a time range in the clip (drag over the bars in the editor), then press Apply");
    }

    // Transformation: the time selection when every selected note starts inside it, else the
    // notes' range widened to whole beats.
    function transformSpan(context, notes) {
        var first = Infinity, last = -Infinity, end = -Infinity;
        for (var i = 0; i < notes.length; i++) {
            first = Math.min(first, notes[i].start_time);
            last = Math.max(last, notes[i].start_time);
            end = Math.max(end, notes[i].start_time + notes[i].duration);
        }
        var s = context.selection;
        if (s && first >= s.start - EPS && last < s.end - EPS) {
            return {start: core.round6(s.start), end: core.round6(s.end)};
        }
        var start = core.floorTo(first, 1);
        return {start: core.round6(start), end: core.round6(Math.max(core.ceilTo(end, 1), core.ceilTo(last + EPS, 1),
            start + 1))};
    }

    function startsIn(note, span) {
        return note.start_time >= span.start - EPS && note.start_time < span.end - EPS;
    }

    // ----- what goes back to Live: THE INVARIANT ---------------------------------------------------
    //
    // Live 12 reads live.miditool.out's notes as an edit of the notes live.miditool.in handed over:
    // a note with its note_id is modified in place (and keeps what the dictionary does not carry:
    // MPE, and the rest of Live's per-note data), a note without note_id is added, a note of the
    // input that is not handed back is removed. Max's Dict holds the numbers as doubles.
    //
    //   Every note the request did not replace goes back bit-identical, on every outcome (a result,
    //   an error, a cancel, the daemon down, an empty result, a result for other notes): the very
    //   note object Live handed over, every field and the same doubles, with its note_id.
    //
    // answer() is the one place that builds what goes to live.miditool.out, and so the one place
    // that enforces it: from the input as Live gave it and an edit {remove: {key: true}, change:
    // {key: {field: value}}, fields (the fields a change may set), add: [new notes]}, or no edit.
    // A note the edit does not name is copied field by field, untouched; a changed note keeps its
    // note_id and every field but the edit's (keep rhythm: pitch; keep pitches: start_time and
    // duration); only new notes are made here. An edit that names a note the input lacks writes
    // nothing at all.

    var CHANGEABLE = {pitch: ["pitch"], rhythm: ["start_time", "duration"]};

    // A note's identity across cycles: its note_id, or (a note without one) its exact position.
    function noteKey(note) {
        if (note.note_id !== undefined && note.note_id !== null) {
            return "id " + note.note_id;
        }
        return "at " + Number(note.pitch) + " " + Number(note.start_time) + " " + Number(note.duration);
    }

    // The notes of the left outlet's dictionary exactly as Live gave them (objects, in its order).
    function inputNotes(value) {
        var list = value && !isArray(value) && typeof value === "object" ? asArray(value.notes) : asArray(value);
        var out = [];
        for (var i = 0; i < list.length; i++) {
            if (list[i] && typeof list[i] === "object") {
                out.push(list[i]);
            }
        }
        return out;
    }

    // A note the tool makes (a result note of the daemon): Live's fields, no note_id.
    function newNote(n) {
        return {
            pitch: core.clamp(Math.round(n.pitch), 0, 127),
            start_time: n.start_time,
            duration: Math.max(n.duration, 1 / 128),
            velocity: core.clamp(n.velocity === undefined ? 100 : n.velocity, 0, 127),
            mute: n.mute ? 1 : 0,
            probability: n.probability === undefined ? 1 : n.probability,
            velocity_deviation: n.velocity_deviation === undefined ? 0 : n.velocity_deviation,
            release_velocity: n.release_velocity === undefined ? 64 : n.release_velocity
        };
    }

    // {notes (for live.miditool.out), written (false: the input unchanged, because there was no
    // edit or the edit named notes the input does not have), missing (how many)}.
    function answer(input, edit) {
        var out = [], seen = {}, i, key, field;
        var allowed = {};
        for (i = 0; edit && i < edit.fields.length; i++) {
            allowed[edit.fields[i]] = true;
        }
        for (i = 0; i < input.length; i++) {
            key = noteKey(input[i]);
            seen[key] = true;
            if (edit && edit.remove[key]) {
                continue;
            }
            var note = copyNote(input[i]);
            var change = edit ? edit.change[key] : undefined;
            for (field in change) {
                if (Object.prototype.hasOwnProperty.call(change, field)) {
                    if (!allowed[field]) {
                        throw new Error("an edit of the notes may not set " + field);
                    }
                    note[field] = change[field];
                }
            }
            out.push(note);
        }
        var missing = 0;
        var named = edit ? [edit.remove, edit.change] : [];
        for (i = 0; i < named.length; i++) {
            for (key in named[i]) {
                if (Object.prototype.hasOwnProperty.call(named[i], key) && !seen[key]) {
                    missing += 1;
                }
            }
        }
        if (!edit || missing) {
            return {notes: unchanged(input), written: false, missing: missing};
        }
        for (i = 0; i < edit.add.length; i++) {
            out.push(newNote(edit.add[i]));
        }
        return {notes: out, written: true, missing: 0};
    }

    function unchanged(input) {
        var out = [];
        for (var i = 0; i < input.length; i++) {
            out.push(copyNote(input[i]));
        }
        return out;
    }

    // ----- results -------------------------------------------------------------------------------------

    // A result note (protocol beats from the request's origin) as a note of the clip.
    function fromResult(notes, origin) {
        var out = [];
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            out.push({
                pitch: core.clamp(Math.round(n.pitch), 0, 127),
                start_time: core.round6(n.start + origin),
                duration: Math.max(core.round6(n.duration), 1 / 128),
                velocity: core.clamp(n.velocity, 1, 127),
                mute: n.mute ? 1 : 0,
                instrument: n.instrument
            });
        }
        return sortNotes(out);
    }

    // Notes grouped by onset: [{start, notes (by pitch)}], in time order.
    function onsetGroups(notes) {
        var sorted = sortNotes(notes);
        var groups = [];
        for (var i = 0; i < sorted.length; i++) {
            var last = groups[groups.length - 1];
            if (last && sorted[i].start_time - last.start < ONSET) {
                last.notes.push(sorted[i]);
            } else {
                groups.push({start: sorted[i].start_time, notes: [sorted[i]]});
            }
        }
        return groups;
    }

    // Does the daemon's note `made` sit on the rhythm slot `slot` (a selected note)? With keep_rhythm
    // it took the slot's onset, duration and velocity (float32 on the wire: a small tolerance).
    function onSlot(made, slot, velocityToo) {
        return Math.abs(made.start_time - slot.start_time) < ONSET && Math.abs(made.duration - slot.duration) < ONSET &&
            (!velocityToo || Math.abs(made.velocity - slot.velocity) < 0.01);
    }

    // KEEP RHYTHM. The daemon (keep_rhythm 1) wrote one note on each slot, the audible selected
    // notes: their onsets, durations and velocities, the model's pitches. Each note of the model
    // (lowest first at an onset) is matched to the first free slot (lowest first) with the same
    // onset, duration and velocity (then, for a note whose velocity was clamped, the same onset and
    // duration); the slot takes the model's pitch, in place (its note_id, timing and every other
    // field stay). A slot the model wrote no note on keeps its pitch: the tool invents none; the
    // status line says how many. Returns {changes ({key: {pitch}}), changed, unplaced}.
    function keepRhythm(slots, generated) {
        var model = sortNotes(generated);
        var ordered = sortNotes(slots);
        var pitches = [];
        var i, k, pass;
        for (i = 0; i < ordered.length; i++) {
            pitches.push(null);
        }
        var matched = [];
        for (pass = 0; pass < 2; pass++) {
            for (k = 0; k < model.length; k++) {
                for (i = 0; !matched[k] && i < ordered.length; i++) {
                    if (pitches[i] === null && onSlot(model[k], ordered[i], pass === 0)) {
                        pitches[i] = model[k].pitch;
                        matched[k] = true;
                    }
                }
            }
        }
        var changes = {}, changed = 0;
        for (i = 0; i < ordered.length; i++) {
            if (pitches[i] !== null) {
                changes[noteKey(ordered[i])] = {pitch: pitches[i]};
                changed += 1;
            }
        }
        return {changes: changes, changed: changed, unplaced: ordered.length - changed};
    }

    // KEEP PITCHES. The daemon (keep_pitches 1) wrote the slots, the audible selected notes grouped
    // by onset (a chord stays a chord, low to high), in that order: their pitches, the model's
    // onsets and durations. Each slot (in that order) is matched to the first free note of the
    // daemon's (in time order) with its pitch that starts no earlier than the slot matched before
    // it, and the slot takes that note's onset and duration, in place (its note_id, pitch,
    // velocity and every other field stay). The model places every note, or nothing is written: a
    // slot without a note of the model is not placed by the tool; {unplaced} says how many.
    // Returns {changes ({key: {start_time, duration}}), changed, unplaced}.
    function keepPitches(slots, generated) {
        var model = sortNotes(generated);
        var groups = onsetGroups(slots);
        var taken = [], floor = -Infinity, changes = {}, changed = 0, unplaced = 0;
        for (var g = 0; g < groups.length; g++) {
            for (var n = 0; n < groups[g].notes.length; n++) {
                var slot = groups[g].notes[n];
                var match = null;
                for (var k = 0; k < model.length && match === null; k++) {
                    if (!taken[k] && model[k].pitch === slot.pitch && model[k].start_time > floor - ONSET) {
                        match = k;
                    }
                }
                if (match === null) {
                    unplaced += 1;
                    continue;
                }
                taken[match] = true;
                floor = model[match].start_time;
                changes[noteKey(slot)] = {start_time: model[match].start_time, duration: model[match].duration};
                changed += 1;
            }
        }
        return {changes: changes, changed: changed, unplaced: unplaced};
    }

    // ACCOMPANY into the same clip: a pitch range apart from the selection, so the parts can be
    // told apart (and selected by pitch): Low..High when set, else the two octaves under the
    // selection's lowest note, or, for a selection reaching below C1 (36), the two octaves over
    // its highest note.
    function accompanyRange(notes, low, high) {
        if (low > 0 || high < 127) {
            return {low: low, high: high, below: false, auto: false};
        }
        var lowest = 127, highest = 0;
        for (var i = 0; i < notes.length; i++) {
            lowest = Math.min(lowest, notes[i].pitch);
            highest = Math.max(highest, notes[i].pitch);
        }
        if (lowest >= LOW_SELECTION) {
            return {low: Math.max(0, lowest - ACCOMPANY_RANGE), high: lowest - 1, below: true, auto: true};
        }
        if (highest < 127) {
            return {low: highest + 1, high: Math.min(127, highest + ACCOMPANY_RANGE), below: false, auto: true};
        }
        return {low: 0, high: 127, below: false, auto: true};
    }

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

    // The edit (see answer()) that writes `done` over what live.miditool.in handed over this time
    // (cleaned notes, readNotes). A Generator removes the input's audible notes that start in the
    // span (muted ones stay, as the daemon's infill keeps them) and adds the new notes; accompany
    // adds its part; keep rhythm and keep pitches change the selected notes in place.
    function edit(planned, done, input) {
        var remove = {};
        if (planned.kind === "generator") {
            for (var i = 0; i < input.length; i++) {
                if (!input[i].mute && startsIn(input[i], planned.span)) {
                    remove[noteKey(input[i])] = true;
                }
            }
        }
        return {remove: remove, change: done.changes, fields: done.fields, add: done.add};
    }

    // ----- what the status line says -------------------------------------------------------------

    var TEXT = {
        done: function (planned, done, result) {
            var notes = [];
            if (done.unplaced) {
                notes.push(done.unplaced + " kept their pitch (the model wrote no note on them)");
            }
            if (done.mismatch) {
                notes.push(done.mismatch);
            }
            if (planned.mode === "accompany") {
                notes.push(core.instrumentName(planned.instrument) + " in " + planned.low + "-" + planned.high);
            }
            if (result.warnings && result.warnings.length) {
                notes.push(result.warnings[0]);
            }
            return core.TEXT.done({
                notes: done.count, variations: 1, seconds: result.seconds, seed: result.seed, note: notes.join("; ")
            });
        },
        empty: "the model wrote no notes in the span: nothing changed; press Re-roll",
        waitingForLive: function (count) {
            return "done: " + count + " notes are ready: press Apply (or Generate) to write them";
        },
        clipChanged: "another clip is selected now: nothing was written; press Generate again",
        selectionChanged: "the selection changed while the model was writing: nothing was written; press Generate again",
        noCycle: "Live did not run the tool: press Apply (the tool must be open in the clip's Generate or " +
            "Transform panel)",
        settled: "settings changed: press Generate (or Apply) to write with them"
    };

    return {
        KINDS: KINDS,
        MODES: MODES,
        GRIDS: GRIDS,
        SCALES: SCALES,
        ONSET: ONSET,
        asArray: asArray,
        cleanNote: cleanNote,
        readNotes: readNotes,
        inputNotes: inputNotes,
        readContext: readContext,
        sameSelection: sameSelection,
        signature: signature,
        gridOption: gridOption,
        scaleOf: scaleOf,
        inScale: inScale,
        scaleClasses: scaleClasses,
        keepRhythmContext: keepRhythmContext,
        generatorSpan: generatorSpan,
        transformSpan: transformSpan,
        startsIn: startsIn,
        noteKey: noteKey,
        answer: answer,
        fromResult: fromResult,
        onsetGroups: onsetGroups,
        keepRhythm: keepRhythm,
        keepPitches: keepPitches,
        accompanyRange: accompanyRange,
        plan: plan,
        again: again,
        finish: finish,
        edit: edit,
        TEXT: TEXT
    };
}(MidiLLM));
