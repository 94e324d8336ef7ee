// MIDI-LLM for Max for Live: THE INVARIANT, what a write may remove: the snapshot of the notes a
// request replaces, the removal plan that decides which note ids go, the copies of notes in a
// duplicated clip, and the check of a clip after a write.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLM namespace
// of midi_llm_core.js, which is loaded first.

(function (core) {
    "use strict";

    var EPS = core.EPS;
    var sameId = core.sameId;

    // ----- the invariant: what a write may remove ---------------------------------------------
    //
    // After any outcome of a request (done, error, cancel, daemon down, an empty result) every
    // note the request did not ask to replace is exactly as Live reported it: the same note_id,
    // start_time and duration as Live's own doubles, pitch, velocity, mute, probability,
    // velocity_deviation, release_velocity. Only the notes read as "replaced" when the request
    // was sent (the audible notes starting inside the span) may be removed, only by note_id,
    // only when they are still exactly as they were read, and only while a result with notes
    // that replaces them is written. removalPlan is the one place that decides it; the Live
    // adapter removes nothing else and checks the outcome with checkKept.

    var NOTE_FIELDS = ["note_id", "pitch", "start_time", "duration", "velocity", "mute", "probability",
        "velocity_deviation", "release_velocity"];

    // A copy of a note as Live reported it (every field it has, untouched).
    function snapshotNote(note) {
        var copy = {};
        for (var i = 0; i < NOTE_FIELDS.length; i++) {
            if (note[NOTE_FIELDS[i]] !== undefined) {
                copy[NOTE_FIELDS[i]] = note[NOTE_FIELDS[i]];
            }
        }
        return copy;
    }

    function fieldEqual(a, b, field) {
        if (field === "note_id") {
            return sameId(a.note_id, b.note_id);
        }
        if (field === "mute") {
            return (a.mute ? 1 : 0) === (b.mute ? 1 : 0);
        }
        return a[field] === b[field];
    }

    // Bit-identical in every field, the id included (skipId: the content only, for a copy).
    function sameNote(a, b, skipId) {
        for (var i = skipId ? 1 : 0; i < NOTE_FIELDS.length; i++) {
            if (!fieldEqual(a, b, NOTE_FIELDS[i])) {
                return false;
            }
        }
        return true;
    }

    function startsIn(note, start, end) {
        return note.start_time >= start - EPS && note.start_time < end - EPS;
    }

    // Ids of the audible notes that start inside [start, end): what infill replaces.
    function audibleIdsInSpan(notes, start, end) {
        var ids = [];
        for (var i = 0; i < notes.length; i++) {
            if (!notes[i].mute && startsIn(notes[i], start, end)) {
                ids.push(notes[i].note_id);
            }
        }
        return ids;
    }

    // The notes a request replaces, as read when it is sent: the audible notes starting inside
    // the span (the daemon replaces exactly those; muted notes are kept).
    function replacedNotes(notes, span) {
        var found = [];
        for (var i = 0; i < notes.length; i++) {
            if (!notes[i].mute && startsIn(notes[i], span.start, span.end)) {
                found.push(snapshotNote(notes[i]));
            }
        }
        return found;
    }

    function byNoteId(notes) {
        var map = {};
        for (var i = 0; i < notes.length; i++) {
            map[String(notes[i].note_id)] = notes[i];
        }
        return map;
    }

    // Which notes of the clip, read now (current), go. replaced: the snapshot of the notes sent as
    // replaced; before: every note of the clip when the request was sent; span: {start, end}.
    // Returns {ids: the note_ids to remove, notes: those notes, kept: the user's notes added or
    // changed in the span (or replaced notes changed anywhere) since then, kept as they are now,
    // gone: replaced notes the user deleted meanwhile}.
    function removalPlan(replaced, before, current, span) {
        var sent = byNoteId(replaced);
        var read = byNoteId(before);
        var present = {};
        var plan = {ids: [], notes: [], kept: 0, gone: 0};
        for (var i = 0; i < current.length; i++) {
            var note = current[i];
            var id = String(note.note_id);
            present[id] = true;
            if (sent[id] && sameNote(note, sent[id])) {
                plan.ids.push(note.note_id);
                plan.notes.push(note);
            } else if (sent[id] || (startsIn(note, span.start, span.end) && !(read[id] && sameNote(note, read[id])))) {
                plan.kept += 1;
            }
        }
        for (var r = 0; r < replaced.length; r++) {
            if (!present[String(replaced[r].note_id)]) {
                plan.gone += 1;
            }
        }
        return plan;
    }

    // The notes of a fresh copy of a clip (duplicate_clip_to gives its notes their own ids) that
    // are the copies of `notes` (same content, one to one): what goes in the copy.
    function matchCopies(notes, copyNotes) {
        var used = {};
        var ids = [];
        for (var i = 0; i < notes.length; i++) {
            for (var c = 0; c < copyNotes.length; c++) {
                if (!used[c] && sameNote(notes[i], copyNotes[c], true)) {
                    used[c] = true;
                    ids.push(copyNotes[c].note_id);
                    break;
                }
            }
        }
        return ids;
    }

    // The notes read before a write that are not where and as they were after it, except the
    // removed ids: empty when the write kept the invariant.
    function checkKept(beforeWrite, afterWrite, removedIds) {
        var removed = {};
        for (var r = 0; r < removedIds.length; r++) {
            removed[String(removedIds[r])] = true;
        }
        var after = byNoteId(afterWrite);
        var broken = [];
        for (var i = 0; i < beforeWrite.length; i++) {
            var id = String(beforeWrite[i].note_id);
            if (!removed[id] && !(after[id] && sameNote(after[id], beforeWrite[i]))) {
                broken.push(beforeWrite[i].note_id);
            }
        }
        return broken;
    }

    core.NOTE_FIELDS = NOTE_FIELDS;
    core.snapshotNote = snapshotNote;
    core.sameNote = sameNote;
    core.startsIn = startsIn;
    core.audibleIdsInSpan = audibleIdsInSpan;
    core.replacedNotes = replacedNotes;
    core.removalPlan = removalPlan;
    core.matchCopies = matchCopies;
    core.checkKept = checkKept;
}(MidiLLM));
