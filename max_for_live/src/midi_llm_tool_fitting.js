// MIDI-LLM as a Live 12 MIDI Tool: fitting the daemon's notes onto the selected ones: result notes
// in clip beats, keep rhythm's pitches and keep pitches' onsets given to the selected notes in
// place, and the accompaniment's own pitch range.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLMTool
// namespace of midi_llm_tool_core.js, which is loaded first (after the device's pure modules).

(function (core, tool) {
    "use strict";

    var ONSET = tool.ONSET;
    var ACCOMPANY_RANGE = tool.ACCOMPANY_RANGE;
    var LOW_SELECTION = tool.LOW_SELECTION;
    var sortNotes = tool.sortNotes;
    var noteKey = tool.noteKey;

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

    tool.fromResult = fromResult;
    tool.onsetGroups = onsetGroups;
    tool.keepRhythm = keepRhythm;
    tool.keepPitches = keepPitches;
    tool.accompanyRange = accompanyRange;
}(MidiLLM, MidiLLMTool));
