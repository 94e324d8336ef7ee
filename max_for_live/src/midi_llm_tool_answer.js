// MIDI-LLM as a Live 12 MIDI Tool: THE INVARIANT, what goes back to live.miditool.out: every note
// the request did not replace goes back bit-identical; answer() is the one maker of answers and
// edit() the one maker of the edits it applies.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLMTool
// namespace of midi_llm_tool_core.js, which is loaded first (after the device's pure modules).

(function (core, tool) {
    "use strict";

    var isArray = tool.isArray;
    var asArray = tool.asArray;
    var copyNote = tool.copyNote;
    var startsIn = tool.startsIn;

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

    tool.CHANGEABLE = CHANGEABLE;
    tool.noteKey = noteKey;
    tool.inputNotes = inputNotes;
    tool.newNote = newNote;
    tool.answer = answer;
    tool.edit = edit;
}(MidiLLM, MidiLLMTool));
