// Property-style runs of the device against random Live sets and a real daemon: random clips
// (start markers and loops off the bar lines, odd meters, notes at thirds of a beat and at raw
// doubles, before the start marker, outside the loop, muted, with chance and release velocity),
// Session and Arrangement View, random modes, spans and outcomes (done, error, cancel, daemon
// down, and the user editing the clip while the model writes). After every outcome the
// invariant (live_invariant.js) is checked, with the span rules and the Max window's counts.
//
// Used by scenarios.js (scenario property_invariant); the seed is printed so that a failure can
// be run again: M4L_PROPERTY_SEED=<seed> M4L_PROPERTY_CASES=<n>.
"use strict";

const assert = require("assert");
const {FakeLive} = require("./fake_live");
const {MaxDevice, freePort} = require("./harness");
const {option} = require("./testkit");
const {assertKept, assertUntouched, newNotes, snapshotSet} = require("./live_invariant");

const MODE = {generate: 0, continue: 1, infill: 2, accompany: 3};
const SPAN = {bars: 0, loop: 1, selection: 2};
const METERS = [[4, 4], [3, 4], [7, 8], [5, 4], [6, 8], [5, 8], [12, 8], [7, 4]];
const FINAL = ["done", "error", "daemon", "cancelled", "needs", "no ", "nothing", "the span", "select", "put "];
const TOLERANCE = 1e-4; // the wire's 32-bit floats

// A small seeded generator (mulberry32), so that a failing case can be replayed.
function generator(seed) {
    let state = seed >>> 0;
    const next = () => {
        state = (state + 0x6D2B79F5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    next.pick = (list) => list[Math.floor(next() * list.length)];
    next.int = (low, high) => low + Math.floor(next() * (high - low + 1));
    return next;
}

function randomNote(rng, from, to) {
    const grid = rng.pick([1 / 3, 1 / 4, 1 / 6, 0]);
    let start = from + rng() * (to - from);
    if (grid) {
        start = Math.round(start / grid) * grid;
    }
    return {
        pitch: rng() < 0.05 ? 127 : rng.int(0, 126), start_time: start,
        duration: rng.pick([1 / 3, 0.25, 0.5, 0.01 + rng() * 2]), velocity: 1 + rng() * 126,
        mute: rng() < 0.15 ? 1 : 0, probability: rng() < 0.3 ? rng() : 1,
        velocity_deviation: rng() < 0.3 ? rng() * 40 - 20 : 0, release_velocity: rng() < 0.3 ? rng() * 127 : 64,
    };
}

function randomClip(rng, bar, empty) {
    const startMarker = rng.pick([0, 0.5, 1, 2, 4, 1 / 3, 2.75, bar]);
    const looping = rng() < 0.7;
    const loopStart = looping ? Math.max(0, startMarker + rng.pick([0, 0, 2, -1, 0.5, 1 / 3])) : startMarker;
    const loopEnd = loopStart + bar * rng.int(1, 3) + rng.pick([0, 0, 1 / 3, 0.5]);
    const endMarker = Math.max(loopEnd, startMarker + 1) + rng.pick([0, 1, 2.5]);
    const notes = [];
    const count = empty ? 0 : rng.int(1, 40);
    const lowest = rng() < 0.1 ? -2 : 0;
    for (let i = 0; i < count; i++) {
        notes.push(randomNote(rng, lowest, endMarker + 3));
    }
    return {length: endMarker, looping, loopStart, loopEnd, startMarker, endMarker, notes};
}

function randomCase(rng) {
    const [numerator, denominator] = rng.pick(METERS);
    const bar = numerator * 4 / denominator;
    const view = rng() < 0.3 ? "Arranger" : "Session";
    const mode = rng.pick(["infill", "infill", "generate", "continue", "accompany"]);
    const spanKind = rng.pick(["bars", "bars", "loop", "selection"]);
    const outcome = rng.pick(["done", "done", "done", "done", "edits", "edits", "error", "cancel", "down"]);
    const emptySlot = view === "Session" && mode === "generate" && rng() < 0.4;
    const clip = emptySlot ? null : randomClip(rng, bar, rng() < 0.05);
    const toTracks = view === "Session" && mode === "accompany" && rng() < 0.7;
    const scenes = rng.int(1, 3);
    const scene = rng.int(0, scenes - 1);
    const slots = [];
    for (let s = 0; s < scenes; s++) {
        slots.push(s === scene ? (view === "Session" ? clip : null) :
            (rng() < 0.3 ? randomClip(rng, bar, false) : null));
    }
    const others = [];
    if (toTracks || rng() < 0.3) {
        for (const name of ["Bass", "Drums", "Lead [81]"]) {
            if (rng() < 0.6) {
                const otherSlots = [];
                for (let s = 0; s < scenes; s++) {
                    otherSlots.push(rng() < 0.6 ? randomClip(rng, bar, false) : null);
                }
                others.push({name, devices: [], slots: otherSlots});
            }
        }
    }
    const spec = {
        tempo: rng.int(70, 160), numerator, denominator, view, scenes, selectedScene: scene,
        loopStart: 0, loopLength: 16, tracks: [{name: rng.pick(["Synth Bass", "Bass", "Lead", "Piano"]), slots}, ...others],
    };
    if (view === "Arranger") {
        const startTime = bar * rng.int(0, 4);
        spec.tracks[0].arrangement = [{...clip, startTime, arrangementLength: rng() < 0.3 ? clip.endMarker * 2 : undefined}];
        spec.loopStart = startTime + rng.pick([0, 1, bar, -2, 0.5]);
        spec.loopLength = rng.pick([bar, 2 * bar, 4, 7.5]);
    }
    const selecting = spanKind === "selection" || rng() < 0.3;
    if (clip && selecting) {
        const chosen = [];
        clip.notes.forEach((_, i) => {
            if (rng() < 0.3) {
                chosen.push(i);
            }
        });
        clip.selected = chosen;
        spec.detail = view === "Arranger" ? {track: 0, arrangement: 0} : {track: 0, scene};
    }
    const settings = {
        mode: MODE[mode], span: SPAN[spanKind], bars: rng.int(1, 3), seed: rng.int(1, 99999),
        variations: view === "Session" && (mode === "infill" || mode === "generate") && rng() < 0.3 ? rng.int(2, 3) : 1,
        target: toTracks ? 1 : 0,
    };
    if (outcome === "error") {
        settings.span = SPAN.bars;
        settings.bars = 200; // over the daemon's limits.max_bars
    }
    if (outcome === "cancel") {
        settings.span = SPAN.bars;
        settings.bars = 64; // a long job, cancelled while it runs
        settings.variations = 1;
    }
    return {spec, mode, spanKind: Object.keys(SPAN)[settings.span], outcome, settings, bar, view};
}

function targetClip(live, c) {
    if (c.view === "Arranger") {
        return live.tracks[0].arrangement[0];
    }
    return live.tracks[0].slots[c.spec.selectedScene].clip;
}

// The span the request went out with, in the clip's beats: the header's start and end, shifted
// back by the device's origin (a whole number of bars, found from the first note it sent).
function sentSpan(device, mode, clipNotes, bar) {
    const header = device.sent.find((m) => m[0] === `/midi-llm/${mode}`);
    if (!header) {
        return null;
    }
    let origin = 0;
    const chunk = device.sent.find((m) => m[0] === "/midi-llm/notes" && m[2] === 0);
    if (chunk && clipNotes.length) {
        origin = Math.round((clipNotes[0].start_time - chunk[5]) / bar) * bar;
    }
    return {start: option(header, "start") + origin, end: option(header, "end") + origin, origin};
}

// The lowest start the span may have, in the clip's beats (the span rules).
// clip: the fake clip's markers and loop when the request was sent (Live's property names).
function lowestStart(c, clip, selection) {
    const region = clip.looping ? {start: clip.loop_start, end: clip.loop_end} :
        {start: clip.start_marker, end: clip.end_marker};
    if (c.mode === "continue") {
        return region.end;
    }
    if (c.spanKind === "selection") {
        return Math.min(selection.start, clip.start_marker);
    }
    if (c.spanKind === "loop") {
        return c.view === "Arranger" ? Math.min(region.start, clip.start_marker) : region.start;
    }
    return Math.max(region.start, clip.start_marker);
}

async function runCase(c, daemonPort, label) {
    const live = new FakeLive(c.spec);
    const clip = c.spec.tracks[0].slots[c.spec.selectedScene] || c.view === "Arranger" ? targetClip(live, c) : null;
    const clipNotesAtRequest = clip ? clip.notes.map((n) => ({...n})) : [];
    const clipAtRequest = clip ? {looping: clip.looping, loop_start: clip.loop_start, loop_end: clip.loop_end,
        start_marker: clip.start_marker, end_marker: clip.end_marker} : null;
    let snapshot = snapshotSet(live);
    const edits = {added: null, edited: null, deleted: null};
    const device = new MaxDevice({
        live, name: label,
        onIncoming: (address) => {
            if (c.outcome !== "edits" || address !== "/midi-llm/started" || !clip || edits.added) {
                return;
            }
            const span = sentSpan(device, c.mode, clipNotesAtRequest, c.bar);
            const inSpan = clip.notes.filter((n) => !n.mute && n.start_time >= span.start + TOLERANCE &&
                n.start_time < span.end - TOLERANCE);
            edits.added = live.userAddNote(clip, {pitch: 3, start_time: span.start + (span.end - span.start) / 3,
                duration: 1 / 3, velocity: 33.25});
            if (inSpan.length) {
                edits.edited = live.userEditNote(clip, inSpan[0].note_id, {velocity: inSpan[0].velocity === 5 ? 6 : 5});
            }
            if (inSpan.length > 1) {
                edits.deleted = inSpan[1];
                live.userDeleteNote(clip, inSpan[1].note_id);
            }
            snapshot = snapshotSet(live); // what the user left in the clip is what must be kept
        },
    });
    const what = `${label} ${JSON.stringify({mode: c.mode, span: c.spanKind, outcome: c.outcome, view: c.view})}`;
    try {
        const daemon = c.outcome === "down" ? await freePort() : daemonPort;
        await device.init({reply_port: await freePort(), daemon_port: daemon, ...c.settings});
        await device.waitForStatus(["ready", "daemon"], 5000);
        device.message("go");
        if (c.outcome === "cancel") {
            await device.waitFor(() => device.status.startsWith("writing") || device.button === "Generate", 30000,
                "the job to start");
            if (device.button === "Cancel") {
                device.message("go"); // the button says Cancel
            }
        }
        const status = await device.waitForStatus(FINAL, 60000);
        assert.deepStrictEqual(live.violations, [], `${what}: LiveAPI misuse`);
        assert.deepStrictEqual(device.errors, [], `${what}: script errors`);
        const sent = device.sent.some((m) => m[0] === `/midi-llm/${c.mode}`);
        const expected = {down: /^daemon not running/, error: /^error \(too_large\)/, cancel: /^(cancelled|done)/}[c.outcome];
        if (expected && (sent || c.outcome === "down")) {
            assert.match(status, expected, what);
        }
        if (!status.startsWith("done:")) {
            assertUntouched(live, snapshot, `${what} -> ${status}`);
            return {outcome: status.replace(/ on port \d+/, "").split(":")[0].slice(0, 40), edits: edits.added ? 1 : 0};
        }
        checkDone(c, live, device, {clip, clipAtRequest, clipNotesAtRequest, snapshot, edits, status, what});
        return {outcome: "done", edits: edits.added ? 1 : 0};
    } finally {
        device.close();
    }
}

function checkDone(c, live, device, {clip, clipAtRequest, clipNotesAtRequest, snapshot, edits, status, what}) {
    const tasks = new Set(live.writes().map((w) => w.task));
    assert.strictEqual(tasks.size, 1, `${what}: the writes happen in one deferred task`);
    const span = sentSpan(device, c.mode, c.mode === "generate" ? [] : clipNotesAtRequest, c.bar);
    const done = device.received.filter((m) => m[0] === "/midi-llm/done").pop();
    const daemonRemoved = done[5];
    if (clip) {
        const selected = clipNotesAtRequest.filter((n) => clip.selected.has(n.note_id));
        const selection = selected.length ? {start: Math.min(...selected.map((n) => n.start_time))} : null;
        const lowest = lowestStart(c, clipAtRequest, selection);
        assert.ok(span.start >= lowest - TOLERANCE, `${what}: the span [${span.start}, ${span.end}) starts before ${lowest}`);
    }
    // What the request may replace: the audible notes starting in the span when it was sent
    // (a hair wider for the wire's floats), less those the user changed meanwhile.
    const removable = new Set();
    const replaces = c.mode === "infill" || c.mode === "generate" || (c.mode === "continue" && daemonRemoved > 0);
    if (clip && replaces) {
        for (const n of clipNotesAtRequest) {
            if (!n.mute && n.start_time >= span.start - TOLERANCE && n.start_time < span.end + TOLERANCE &&
                    !(edits.edited && n.note_id === edits.edited.note_id)) {
                removable.add(n.note_id);
            }
        }
    }
    const removed = assertKept(live, snapshot, new Map(clip ? [[clip, removable]] : []), what);
    for (const [other] of removed) {
        assert.strictEqual(other, clip, `${what}: notes were removed from another clip than the target`);
    }
    const removedCount = removed.length ? removed[0][1].length : 0;
    if (edits.added) {
        assert.ok(clip.notes.includes(edits.added), `${what}: the note the user added is kept`);
    }
    if (edits.edited) {
        assert.ok(clip.notes.includes(edits.edited), `${what}: the note the user edited is kept`);
    }
    // The Max window says what was done, with the true counts.
    const line = device.posts.find((p) => p.startsWith(`MIDI-LLM: ${c.mode}: `));
    assert.ok(line, `${what}: a Max window line with the counts; posts ${JSON.stringify(device.posts)}`);
    const isTargetWrite = /: removed (\d+) notes and added (\d+) in /.exec(line);
    if (isTargetWrite && clip) {
        assert.strictEqual(Number(isTargetWrite[1]), removedCount, `${what}: ${line}`);
        assert.strictEqual(Number(isTargetWrite[2]), newNotes(snapshot, clip).length, `${what}: ${line}`);
    } else if (!isTargetWrite) {
        const fresh = live.allClips().filter((k) => k !== clip)
            .reduce((sum, k) => sum + newNotes(snapshot, k).length, 0);
        assert.ok(new RegExp(`added ${fresh} notes`).test(line), `${what}: ${line} (${fresh} new notes)`);
    }
    if (clip && (c.mode === "infill" || c.mode === "generate") && c.settings.variations === 1) {
        for (const n of newNotes(snapshot, clip)) {
            assert.ok(n.start_time >= span.start - TOLERANCE && n.start_time < span.end + TOLERANCE,
                `${what}: a new note at ${n.start_time} outside the span [${span.start}, ${span.end})`);
        }
    }
    const changedByUser = (edits.added ? 1 : 0) + (edits.edited ? 1 : 0);
    if (changedByUser && removable.size && isTargetWrite && (c.mode === "infill" || c.mode === "generate")) {
        assert.ok(status.includes(`kept ${changedByUser} note`), `${what}: the status says the user's notes were kept: ${status}`);
    }
}

async function propertyInvariant({daemonPort}) {
    const seed = Number(process.env.M4L_PROPERTY_SEED || Math.floor(Math.random() * 2 ** 31));
    const cases = Number(process.env.M4L_PROPERTY_CASES || 12);
    const rng = generator(seed);
    const outcomes = {};
    for (let i = 0; i < cases; i++) {
        const c = randomCase(rng);
        let summary;
        try {
            summary = await runCase(c, daemonPort, `case ${i + 1}/${cases}`);
        } catch (error) {
            throw new Error(`run again with M4L_PROPERTY_SEED=${seed} M4L_PROPERTY_CASES=${i + 1}: ${error.stack}\n` +
                `case: ${JSON.stringify({settings: c.settings, spec: c.spec})}`);
        }
        outcomes[summary.outcome] = (outcomes[summary.outcome] || 0) + 1;
    }
    return {seed, cases, outcomes};
}

module.exports = {propertyInvariant, generator, randomCase};
