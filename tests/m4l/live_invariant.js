// The device's promise, checked on a fake Live set after any outcome of a request: every note the
// request did not ask to replace is bit-identical (note_id, start_time and duration as the doubles
// Live holds, pitch, velocity, mute, probability, velocity_deviation, release_velocity), and only
// notes sent as replaced are gone. Shared by the scenarios (scenarios.js, property.js).
"use strict";

const assert = require("assert");
const {NOTE_FIELDS} = require("./fake_live");

function copyNote(note) {
    const copy = {};
    for (const field of NOTE_FIELDS) {
        copy[field] = note[field];
    }
    return copy;
}

// Every clip of the set and a copy of its notes, by note_id: what the set holds now.
function snapshotSet(live) {
    const clips = new Map();
    for (const clip of live.allClips()) {
        clips.set(clip, new Map(clip.notes.map((n) => [n.note_id, copyNote(n)])));
    }
    return clips;
}

// The note ids of `clip` that `snapshot` does not know: the notes written since.
function newNotes(snapshot, clip) {
    const known = snapshot.get(clip) || new Map();
    return clip.notes.filter((n) => !known.has(n.note_id));
}

// Asserts the promise: every note of every clip in `snapshot` is still there, bit-identical,
// unless its id is in `removable` (a Set of ids of that clip, or a Map clip -> Set). Returns the
// removed notes, per clip: [clip, [note...]] pairs.
function assertKept(live, snapshot, removable, what) {
    const removed = [];
    for (const [clip, notes] of snapshot) {
        const allowed = removable instanceof Map ? removable.get(clip) || new Set() : removable;
        const now = new Map(clip.notes.map((n) => [n.note_id, n]));
        const gone = [];
        for (const [id, note] of notes) {
            if (!now.has(id)) {
                assert.ok(allowed.has(id), `${what}: note ${JSON.stringify(note)} of ${live.pathOf(clip)} was removed, ` +
                    "but it was not sent as replaced");
                gone.push(note);
                continue;
            }
            assert.deepStrictEqual(copyNote(now.get(id)), note, `${what}: note ${id} of ${live.pathOf(clip)} changed`);
        }
        if (gone.length) {
            removed.push([clip, gone]);
        }
    }
    for (const clip of live.allClips()) {
        if (snapshot.has(clip)) {
            continue;
        }
        // A clip the device made: a new clip or a copy for a variation; its notes are all Live's own ids.
        const ids = new Set(clip.notes.map((n) => n.note_id));
        assert.strictEqual(ids.size, clip.notes.length, `${what}: duplicate note ids in ${live.pathOf(clip)}`);
    }
    return removed;
}

// Nothing at all changed: same clips, same notes, and no write call reached Live.
function assertUntouched(live, snapshot, what) {
    assert.deepStrictEqual(live.writes().map((c) => `${c.name} ${c.path}`), [], `${what}: no write into Live`);
    assert.strictEqual(live.allClips().length, snapshot.size, `${what}: no new clip`);
    assertKept(live, snapshot, new Set(), what);
}

module.exports = {copyNote, snapshotSet, newNotes, assertKept, assertUntouched};
