// End-to-end scenarios of the MIDI Tools: their JavaScript (under node, tests/m4l/harness.js)
// inside a scripted live.miditool.in/out (tests/m4l/fake_miditool.js) around a fake Live set
// (tests/m4l/fake_live.js), against a real daemon on loopback.
//
//   node tests/m4l/miditool_scenarios.js <scenario> [--daemon-port PORT]
//
// Prints "ok <scenario>" and a JSON summary, or the failure, and exits non-zero on failure.
// Every wait is bounded.
"use strict";

const assert = require("assert");
const {FakeLive} = require("./fake_live");
const {FakeMidiTool} = require("./fake_miditool");
const {freePort} = require("./harness");
const {byId, futureDaemon, notesEvery, option, options, scenarioMain, sleep} = require("./testkit");

const MODE = {"keep rhythm": 0, "keep pitches": 1, accompany: 2};
const INSTRUMENT = (program) => program + 1; // menu index: 0 = auto
const DONE = ["done", "error", "daemon", "cancelled", "nothing", "select", "Live did not"];
const SETTLE_MS = 200; // longer than the script's SETTLE: the trigger is a request, not a re-apply

function clone(value) {
    return JSON.parse(JSON.stringify(value));
}

function header(device, mode) {
    return device.sent.filter((m) => m[0] === `/midi-llm/${mode}`).pop();
}

// The notes by id: the order in the clip's list does not matter.
function sorted(notes) {
    return clone(notes).sort((a, b) => a.note_id - b.note_id);
}

function inSpan(note, start, end) {
    return note.start_time >= start - 1e-6 && note.start_time < end - 1e-6;
}

function shape(notes) {
    return notes.map((n) => [n.pitch, n.start_time, n.duration]).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

function checkClean(tool, device) {
    assert.deepStrictEqual(tool.violations, [], "the MIDI Tool contract");
    assert.deepStrictEqual(tool.live.violations, [], "LiveAPI misuse");
    assert.deepStrictEqual(tool.live.writes(), [], "a MIDI Tool writes through live.miditool.out, never LiveAPI");
    assert.deepStrictEqual(device.errors, [], "script errors");
    for (const cycle of tool.cycles) {
        assert.ok(cycle.output, `the ${cycle.by} cycle got an answer`);
    }
}

// A tool on the clip in the editor, connected to the daemon, settings sent.
async function setUp(spec, settings, daemonPort) {
    const live = new FakeLive({tempo: spec.tempo ?? 120, tracks: [{name: spec.track ?? "Bass", devices: [],
        slots: [spec.clip]}], detail: {track: 0, scene: 0}});
    const tool = new FakeMidiTool({live, ...spec.tool});
    const device = tool.makeDevice();
    await device.init({daemon_port: daemonPort, reply_port: await freePort(), ...settings});
    await device.waitForStatus(["ready", "daemon"], 5000);
    await sleep(SETTLE_MS);
    return {live, tool, device, clip: live.detail};
}

// The user presses Apply; the tool answers at once, then writes the result in a second cycle.
async function applyAndWait(tool, device, timeout = 40000) {
    const cycles = tool.cycles.length;
    const before = shape(tool.clip.notes);
    tool.apply();
    assert.strictEqual(tool.cycles.length, cycles + 1, "Apply ran one cycle");
    assert.deepStrictEqual(shape(tool.clip.notes), before, "the first answer changes nothing");
    return device.waitForStatus(DONE, timeout);
}

async function pressAndWait(device, message, timeout = 40000) {
    const count = device.statuses.length;
    device.message(message);
    await device.waitFor(() => device.statuses.length > count, 3000, `a status after ${message}`);
    return device.waitForStatus(DONE, timeout);
}

// The notes of the daemon's /midi-llm/result messages: [pitch, start, duration, velocity, mute,
// instrument, channel] each.
function rawResult(device) {
    const notes = [];
    for (const m of device.received.filter((r) => r[0] === "/midi-llm/result")) {
        for (let i = 6; i + 7 <= m.length; i += 7) {
            notes.push(m.slice(i, i + 7));
        }
    }
    return notes;
}

function seedOf(status) {
    return Number(/seed (\d+)/.exec(status)[1]);
}

const BASS_CLIP = () => ({
    length: 16,
    notes: [
        ...notesEvery(0.5, 0, 16),
        {pitch: 60, start_time: 5, duration: 1, velocity: 80, mute: 1},   // muted, inside the selection
        {pitch: 127, start_time: 12, duration: 1, velocity: 64},          // pitch 127, after it
        {pitch: 62, start_time: 3.5, duration: 2, velocity: 82},          // starts before, ends inside
    ],
});


// ----- the invariant, checked on every outcome ---------------------------------------------------

// A seeded random source (mulberry32), so that a failing case can be run again from its seed.
function randomSource(seed) {
    let state = seed >>> 0;
    const next = () => {
        state = (state + 0x6D2B79F5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
        next,
        int: (low, high) => low + Math.floor(next() * (high - low + 1)),
        pick: (list) => list[Math.floor(next() * list.length)],
    };
}

// A clip as producers have them: triplets, quintuplets, positions that are no short decimal,
// fractional velocities, chance and the Live 11 fields set.
function randomClip(r, length) {
    const positions = [() => r.int(0, 3 * length - 1) / 3, () => r.int(0, 5 * length - 1) / 5,
        () => r.int(0, 4 * length - 1) / 4 + (0.1 + 0.2) - 0.3, () => r.next() * length];
    const durations = [() => 1 / 3, () => 1 / 6, () => 2 / 3, () => 0.7, () => 0.01 + r.next() * 1.5];
    const notes = [];
    const taken = new Set();
    const count = r.int(10, 24);
    while (notes.length < count) {
        const pitch = r.int(36, 84);
        const start_time = r.pick(positions)();
        if (taken.has(`${pitch} ${start_time}`)) {
            continue;
        }
        taken.add(`${pitch} ${start_time}`);
        notes.push({pitch, start_time, duration: r.pick(durations)(), velocity: r.next() < 0.3 ? r.int(1, 126) + 0.5 : r.int(1, 127),
            mute: r.next() < 0.15 ? 1 : 0, probability: r.pick([1, 1, 0.5, 0.73]), velocity_deviation: r.int(-20, 20),
            release_velocity: r.int(0, 127)});
    }
    return notes;
}

const NOTE_FIELDS = ["pitch", "start_time", "duration", "velocity", "mute", "probability", "velocity_deviation",
    "release_velocity"];

// Every note of `before` (a FakeMidiTool snapshot) is in `after` bit-identical (every field, its
// note_id and its extras), except those in `may`: note_id -> "removed" (may be gone) or a list of
// the fields that may differ. Notes new in `after` are returned.
function checkKept(before, after, may, label) {
    const now = byId(after);
    for (const note of before) {
        const rule = may.get(note.note_id);
        const found = now.get(note.note_id);
        if (rule === "removed" && !found) {
            continue;
        }
        assert.ok(found, `${label}: note ${note.note_id} (${note.pitch} at ${note.start_time}) was removed`);
        for (const key of [...NOTE_FIELDS, "extras"]) {
            if (!(Array.isArray(rule) && rule.includes(key))) {
                assert.deepStrictEqual(found[key], note[key], `${label}: note ${note.note_id}'s ${key} changed`);
            }
        }
    }
    const old = new Set(before.map((n) => n.note_id));
    return after.filter((n) => !old.has(n.note_id));
}

// One random case: a tool on a random clip, a random request for `mode` ("generate" is the
// Generator), the given outcome.
async function invariantCase(r, outcome, mode, daemonPort, index) {
    const length = outcome === "cancel" ? 400 : 16;
    const notes = randomClip(r, 16);
    const kind = mode === "generate" ? "generator" : "transformation";
    let start = r.pick([0, 4 / 3, 2, 3.5, 19 / 3, 7.2]);
    let end = Math.min(16, start + r.pick([2, 8 / 3, 4, 5.5]));
    if (outcome === "cancel") {
        [start, end] = [0, 400];
    } else if (outcome === "tiny") {
        end = start + 0.021; // one 10 ms step at 120 bpm: room for one onset only
    }
    const inSelection = (n) => n.start_time >= start - 1e-9 && n.start_time < end - 1e-9;
    let selected = notes.map((n, i) => (inSelection(n) && r.next() < 0.8 ? i : -1)).filter((i) => i >= 0);
    if (!selected.some((i) => !notes[i].mute)) {
        notes.push({pitch: r.int(40, 80), start_time: start, duration: 1 / 3, velocity: 90, mute: 0, probability: 1,
            velocity_deviation: 0, release_velocity: 64});
        selected = selected.concat([notes.length - 1]);
    }
    const scaleError = outcome === "error";
    const settings = {seed: 1 + index, mode: MODE[mode === "generate" ? "keep rhythm" : mode],
        low: scaleError ? 61 : 0, high: scaleError ? 61 : 127};
    const toolSpec = {kind, selection: {start, end}, generatorInput: r.pick(["selection", "clip", "empty"]),
        grid: {interval: r.pick([0.25, 1 / 3, 0.5]), enabled: r.pick([0, 1])},
        scale: scaleError ? {scale_mode: 1, root_note: 2, scale_intervals: [0, 2, 3, 5, 7, 8, 10], scale_name: "Minor"} : null};
    const port = outcome === "down" ? await freePort() : daemonPort;
    // (accompany on a bass track would need another Instrument: a refusal, not the case drawn)
    const track = r.pick(mode === "accompany" ? ["Piano", "Lead [81]"] : ["Piano", "Bass", "Lead [81]"]);
    const {tool, device} = await setUp({track, clip: {length, notes, selected},
        tool: toolSpec}, settings, port);
    const label = `case ${index} (${outcome}, ${kind}${kind === "generator" ? ` given ${toolSpec.generatorInput}` : `, ${
        Object.keys(MODE)[settings.mode]}`}, selection ${start}..${end})`;
    try {
        const before = tool.snapshot();
        tool.apply();
        checkKept(before, tool.snapshot(), new Map(), `${label}, the first answer`);
        let status;
        if (outcome === "cancel") {
            await device.waitFor(() => device.status.startsWith("writing"), 20000, "the job to start");
            device.message("go"); // the button says Cancel now
            status = await device.waitForStatus(["cancelled", "done", "error"], 8000);
            assert.strictEqual(status, "cancelled", label);
            await sleep(200);
        } else {
            status = await device.waitForStatus([...DONE, "accompany:", "keep "], 40000);
        }
        const after = tool.snapshot();
        const may = new Map();
        const wrote = /^done: \d+ notes in/.test(status);
        assert.ok(wrote || outcome !== "done" || /nothing changed|nothing was written/.test(status), `${label}: ${status}`);
        assert.ok(!wrote || outcome === "done" || outcome === "tiny", `${label}: ${status}`);
        if (outcome === "tiny") {
            // the tool asks for the track's instrument, and the grammar lets no such row end
            // before its first note: even one 10 ms step gets a note (the empty-result path is
            // in miditool_unit.js, with a daemon that answers no notes)
            assert.match(status, /^done: [1-9]\d* notes? in/, label);
        }
        if (wrote) {
            const chosen = new Set(selected.map((i) => before.find((n) => n.start_time === notes[i].start_time &&
                n.pitch === notes[i].pitch).note_id));
            for (const note of before) {
                if (kind === "generator" && !note.mute && inSelection(note)) {
                    may.set(note.note_id, "removed");
                } else if (mode === "keep rhythm" && chosen.has(note.note_id) && !note.mute) {
                    may.set(note.note_id, ["pitch"]);
                } else if (mode === "keep pitches" && chosen.has(note.note_id) && !note.mute) {
                    may.set(note.note_id, ["start_time", "duration"]);
                }
            }
        }
        const added = checkKept(before, after, may, `${label}: ${status}`);
        if (kind === "transformation" && mode !== "accompany" || !wrote) {
            assert.deepStrictEqual(added, [], `${label}: no note added`);
        }
        for (const note of added) {
            assert.strictEqual(note.extras, null, `${label}: a new note has no per-note data`);
            assert.ok(kind !== "generator" || inSelection(note), `${label}: a new note in the time selection`);
        }
        const was = byId(before), now = byId(after);
        const changed = after.filter((n) => was.has(n.note_id) && JSON.stringify(n) !== JSON.stringify(was.get(n.note_id)))
            .length + added.length + before.filter((n) => !now.has(n.note_id)).length;
        checkClean(tool, device);
        return {label, status, changed};
    } finally {
        device.close();
    }
}

const scenarios = {
    // Generate into bars 2 (beats 4..8) of a clip: the notes around are the context (infill).
    async generator_infill({daemonPort}) {
        const {tool, device, clip} = await setUp({clip: BASS_CLIP(), tool: {kind: "generator",
            generatorInput: "clip", selection: {start: 4, end: 8}, grid: {interval: 0.25, enabled: 1}}},
        {seed: 7, prompt: ["walking", "bass"]}, daemonPort);
        try {
            const before = byId(clone(clip.notes));
            const status = await applyAndWait(tool, device);
            assert.match(status, /^done: \d+ notes in [\d.]+ s, seed 7/);
            const request = header(device, "infill");
            assert.strictEqual(option(request, "prompt"), "walking bass");
            assert.strictEqual(option(request, "start"), 4);
            assert.strictEqual(option(request, "end"), 8);
            assert.strictEqual(option(request, "grid"), 0.25, "the editor's grid");
            assert.strictEqual(option(request, "seed"), 7);
            assert.deepStrictEqual(options(request, "instrument"), [33], "the track's name says bass");
            assert.strictEqual(option(request, "notes"), before.size, "every note of the clip is context");
            assert.strictEqual(option(request, "lowest_pitch"), undefined);
            assert.strictEqual(tool.cycles.length, 2);
            assert.strictEqual(tool.cycles[1].by, "bang", "the result came in a cycle the tool asked for");

            const after = byId(clip.notes);
            for (const [id, note] of before) {
                if (!note.mute && inSpan(note, 4, 8)) {
                    assert.ok(!after.has(id), `note ${id} in the selection is replaced`);
                } else {
                    assert.deepStrictEqual(after.get(id), note, `note ${id} (outside, or muted) is untouched`);
                }
            }
            const fresh = clip.notes.filter((n) => !before.has(n.note_id));
            assert.ok(fresh.length > 0, "new notes");
            assert.strictEqual(fresh.length, Number(/done: (\d+) notes/.exec(status)[1]));
            for (const note of fresh) {
                assert.ok(inSpan(note, 4, 8), "only inside the selection");
                assert.ok(Math.abs(note.start_time * 4 - Math.round(note.start_time * 4)) < 1e-6, "on the 1/16 grid");
            }
            checkClean(tool, device);
            return {status, kept: clip.notes.length - fresh.length, added: fresh.length};
        } finally {
            device.close();
        }
    },

    // Live hands a Generator no notes: the tool answers with the selection's notes (read through
    // LiveAPI) so that waiting changes nothing, then replaces them.
    async generator_given_no_notes({daemonPort}) {
        const {tool, device, clip} = await setUp({clip: BASS_CLIP(), tool: {kind: "generator",
            generatorInput: "empty", selection: {start: 8, end: 12}, grid: {interval: 0.5, enabled: 1}}},
        {seed: 3}, daemonPort);
        try {
            const before = byId(clone(clip.notes));
            const status = await applyAndWait(tool, device);
            assert.match(status, /^done: \d+ notes/);
            assert.strictEqual(option(header(device, "infill"), "grid"), 0.5);
            const after = byId(clip.notes);
            for (const [id, note] of before) {
                if (!inSpan(note, 8, 12)) {
                    assert.deepStrictEqual(after.get(id), note, `note ${id} outside the selection is untouched`);
                } else if (!note.mute) {
                    assert.ok(!after.has(id), `note ${id} in the selection is replaced`);
                }
            }
            const fresh = clip.notes.filter((n) => !before.has(n.note_id));
            assert.ok(fresh.length > 0 && fresh.every((n) => inSpan(n, 8, 12)));
            assert.ok(fresh.every((n) => Math.abs(n.start_time * 2 - Math.round(n.start_time * 2)) < 1e-6), "1/8 grid");
            checkClean(tool, device);
            return {status, added: fresh.length};
        } finally {
            device.close();
        }
    },

    // Scale Mode on in the editor (D minor): the request carries the scale's pitch classes, the
    // daemon samples only from them: every new pitch is in the scale as the daemon wrote it (no
    // client-side snap, no "moved").
    async generator_scale({daemonPort}) {
        const minor = [0, 2, 3, 5, 7, 8, 10];
        const inMinor = (p) => minor.includes(((p - 2) % 12 + 12) % 12);
        const {tool, device, clip} = await setUp({clip: BASS_CLIP(), track: "Synth Bass", tool: {kind: "generator",
            selection: {start: 0, end: 8}, grid: {interval: 0.25, enabled: 0},
            scale: {scale_mode: 1, root_note: 2, scale_intervals: minor, scale_name: "Minor"}}},
        {seed: 11, low: 48, high: 72}, daemonPort);
        try {
            const before = byId(clone(clip.notes));
            const status = await applyAndWait(tool, device);
            assert.match(status, /^done: \d+ notes/);
            assert.doesNotMatch(status, /moved/, "nothing moved client-side");
            const request = header(device, "infill");
            assert.strictEqual(option(request, "grid"), "off", "the editor's grid is off");
            assert.strictEqual(option(request, "lowest_pitch"), 48);
            assert.strictEqual(option(request, "highest_pitch"), 72);
            assert.deepStrictEqual(options(request, "instrument"), [33]);
            assert.deepStrictEqual(options(request, "pitch_class"), [0, 2, 4, 5, 7, 9, 10], "D minor's pitch classes");
            assert.strictEqual(option(request, "scale"), undefined);
            const fresh = clip.notes.filter((n) => !before.has(n.note_id));
            assert.ok(fresh.length > 0);
            for (const note of fresh) {
                assert.ok(inMinor(note.pitch), `pitch ${note.pitch} is in D minor`);
                assert.ok(note.pitch >= 48 && note.pitch <= 72, `pitch ${note.pitch} in 48..72`);
            }
            const raw = rawResult(device).filter((n) => n[5] !== 128);
            assert.strictEqual(raw.length, fresh.length, "the daemon's notes are the new notes");
            assert.ok(raw.every((n) => inMinor(n[0])), "the daemon sampled in the scale");
            assert.deepStrictEqual(raw.map((n) => n[0]).sort((a, b) => a - b), fresh.map((n) => n.pitch).sort((a, b) => a - b),
                "written as the daemon wrote them");
            checkClean(tool, device);
            return {status, added: fresh.length};
        } finally {
            device.close();
        }
    },

    // The clip's scale has no pitch in Low..High: the daemon refuses, the status line says why and
    // the clip stays as it was.
    async generator_scale_out_of_range({daemonPort}) {
        const {tool, device, clip} = await setUp({clip: BASS_CLIP(), tool: {kind: "generator",
            selection: {start: 0, end: 4}, scale: {scale_mode: 1, root_note: 2, scale_intervals: [0, 2, 3, 5, 7, 8, 10],
                scale_name: "Minor"}}}, {seed: 2, low: 61, high: 61}, daemonPort);
        try {
            const before = clone(clip.notes);
            const status = await applyAndWait(tool, device, 10000);
            assert.match(status, /^error \(bad_request\): no pitch of the scale lies between lowest_pitch 61 and highest_pitch 61/);
            assert.deepStrictEqual(options(header(device, "infill"), "pitch_class"), [0, 2, 4, 5, 7, 9, 10]);
            assert.deepStrictEqual(sorted(clip.notes), sorted(before), "nothing was written");
            assert.strictEqual(device.button, "Generate");
            checkClean(tool, device);
            return {status};
        } finally {
            device.close();
        }
    },

    // Same seed, same notes; Re-roll: the same request with a new seed, different notes. Live
    // continues the apply cycle the tool started (Auto on).
    async generator_reroll({daemonPort}) {
        const {tool, device, clip} = await setUp({clip: BASS_CLIP(), tool: {kind: "generator",
            selection: {start: 4, end: 8}, continueCycles: true}}, {seed: 7}, daemonPort);
        try {
            const original = clone(clip.notes);
            const fresh = () => shape(clip.notes.filter((n) => inSpan(n, 4, 8) && !n.mute));
            const first = await applyAndWait(tool, device);
            assert.match(first, /seed 7/);
            const a = fresh();
            clip.notes = clone(original); // undo
            tool.open = null;
            const second = await pressAndWait(device, "go");
            assert.match(second, /seed 7/);
            assert.deepStrictEqual(fresh(), a, "the same seed gives the same notes");
            const requests = device.sent.filter((m) => m[0] === "/midi-llm/infill");
            const third = await pressAndWait(device, "reroll");
            assert.match(third, /^done: \d+ notes/);
            const seed = seedOf(third);
            assert.notStrictEqual(seed, 7, "a new seed");
            const reroll = header(device, "infill");
            assert.strictEqual(option(reroll, "seed"), seed);
            for (const name of ["start", "end", "notes", "grid", "instrument", "tempo"]) {
                assert.deepStrictEqual(options(reroll, name), options(requests[1], name), `the same ${name}`);
            }
            const c = fresh();
            assert.notDeepStrictEqual(c, a, "another seed, other notes");
            assert.strictEqual(clip.notes.filter((n) => inSpan(n, 4, 8) && !n.mute).length, c.length,
                "the re-roll replaced the last result");
            for (const note of original.filter((n) => !inSpan(n, 4, 8))) {
                assert.ok(clip.notes.some((n) => n.note_id === note.note_id), "outside kept");
            }
            checkClean(tool, device);
            return {seeds: [7, 7, seed], notes: [a.length, c.length]};
        } finally {
            device.close();
        }
    },

    // The result waits when Live does not run the tool's cycle (Auto off): the next Apply writes it.
    async generator_waits_for_apply({daemonPort}) {
        const {tool, device, clip} = await setUp({clip: BASS_CLIP(), tool: {kind: "generator",
            selection: {start: 0, end: 4}, ignoreBangs: true}}, {seed: 5}, daemonPort);
        try {
            const before = clone(clip.notes);
            tool.apply();
            const status = await device.waitForStatus(["ready: press Apply", "error", "daemon"], 40000);
            assert.match(status, /^done: \d+ notes are ready: press Apply/);
            assert.deepStrictEqual(sorted(clip.notes), sorted(before), "nothing written yet");
            tool.apply();
            assert.match(device.status, /^done: \d+ notes in/);
            assert.notDeepStrictEqual(shape(clip.notes), shape(before));
            checkClean(tool, device);
            return {status: device.status};
        } finally {
            device.close();
        }
    },

    // Transformation, keep rhythm: the daemon (keep_rhythm 1) writes one pitch on each selected
    // note; every selected note keeps its onset, duration and velocity exactly. A note in the span
    // that is not selected is sent muted (not replaced by the daemon) and stays as it was.
    async transform_keep_rhythm({daemonPort}) {
        const melody = [[60, 0, 1, 100], [64, 0, 1, 90], [62, 1, 0.5, 85], [65, 1.5, 0.5, 70], [67, 2, 1.5, 101],
            [69, 4, 0.25, 64], [71, 4.5, 0.75, 77], [72, 6, 2, 120]].map(([pitch, start_time, duration, velocity]) => (
            {pitch, start_time, duration, velocity}));
        const other = {pitch: 36, start_time: 8, duration: 1, velocity: 70};
        const inside = {pitch: 40, start_time: 3, duration: 1, velocity: 60};  // in the span, not selected
        const {tool, device, clip} = await setUp({track: "Piano", clip: {length: 16, notes: [...melody, other, inside],
            selected: melody.map((_, i) => i)}, tool: {kind: "transformation", selection: {start: 0, end: 8}}},
        {mode: MODE["keep rhythm"], seed: 21}, daemonPort);
        try {
            const before = clone(clip.notes);
            const snapshot = tool.snapshot();
            const status = await applyAndWait(tool, device);
            assert.match(status, /^done: 8 notes in [\d.]+ s, seed 21$/, "no note fitted by the tool, no mismatch");
            const request = header(device, "infill");
            assert.strictEqual(option(request, "keep_rhythm"), 1, "the daemon keeps the rhythm");
            assert.strictEqual(option(request, "start"), 0);
            assert.strictEqual(option(request, "end"), 8);
            assert.strictEqual(option(request, "notes"), 10, "the clip's notes are the context");
            assert.deepStrictEqual(options(request, "instrument"), [0]);
            const sent = device.sent.filter((m) => m[0] === "/midi-llm/notes" && m[1] === request[1])
                .flatMap((m) => { const out = []; for (let i = 4; i + 7 <= m.length; i += 7) { out.push(m.slice(i, i + 7)); } return out; });
            assert.deepStrictEqual(sent.filter((n) => n[4] === 1).map((n) => n[0]), [40], "the unselected note in the span goes muted");
            const done = device.received.filter((m) => m[0] === "/midi-llm/done").pop();
            assert.strictEqual(done[5], melody.length, "the daemon replaced exactly the selected notes");
            const raw = rawResult(device);
            const rhythm = (notes) => notes.map((n) => [n.start_time, n.duration, n.velocity]).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
            assert.deepStrictEqual(rhythm(raw.map((n) => ({start_time: n[1], duration: n[2], velocity: n[3]}))), rhythm(melody),
                "the daemon wrote on the selected notes' rhythm");
            const written = clip.notes.filter((n) => clip.selected.has(n.note_id));
            assert.deepStrictEqual(written.map((n) => n.note_id).sort((a, b) => a - b),
                before.slice(0, melody.length).map((n) => n.note_id), "in place: every selected note keeps its note_id");
            checkKept(snapshot, tool.snapshot(), new Map(written.map((n) => [n.note_id, ["pitch"]])),
                "only the pitch of the selected notes changes; their MPE stays");
            assert.strictEqual(written.length, melody.length);
            assert.deepStrictEqual(rhythm(written), rhythm(melody), "onsets, durations and velocities kept exactly");
            assert.deepStrictEqual(written.map((n) => n.pitch).sort((a, b) => a - b), raw.map((n) => n[0]).sort((a, b) => a - b),
                "the pitches are the daemon's");
            const chord = written.filter((n) => n.start_time === 0).map((n) => n.pitch);
            assert.strictEqual(new Set(chord).size, 2, "the chord keeps two different pitches");
            for (const kept of [other, inside]) {
                assert.deepStrictEqual(clip.notes.find((n) => n.pitch === kept.pitch && n.start_time === kept.start_time),
                    before.find((n) => n.pitch === kept.pitch && n.start_time === kept.start_time),
                    `the note that was not selected (${kept.pitch}) is untouched`);
            }
            checkClean(tool, device);
            return {status, pitches: written.map((n) => n.pitch)};
        } finally {
            device.close();
        }
    },

    // Transformation, keep pitches: the daemon (keep_pitches 1) writes the selected pitches in order,
    // chords on one onset, on the model's rhythm; every selected note keeps its pitch and velocity.
    // A note in the span that is not selected is sent muted (not replaced) and stays as it was.
    // (The daemon may start a chord on the previous chord's onset, which merges them: seed 7 does not.)
    async transform_keep_pitches({daemonPort}) {
        const melody = [[60, 0], [64, 0], [67, 0], [62, 0.75], [64, 1.5], [65, 2.25], [67, 3], [65, 3.75], [64, 4.5],
            [60, 5.25], [55, 5.25], [59, 6]].map(([pitch, start_time], i) => ({pitch, start_time, duration: 0.5, velocity: 80 + i}));
        const inside = {pitch: 40, start_time: 3, duration: 1, velocity: 60};  // in the span, not selected
        const {tool, device, clip} = await setUp({track: "Lead [81]", clip: {length: 8, notes: [...melody, inside],
            selected: melody.map((_, i) => i)}, tool: {kind: "transformation", selection: {start: 0, end: 8}}},
        {mode: MODE["keep pitches"], seed: 7}, daemonPort);
        try {
            const before = clone(clip.notes);
            const snapshot = tool.snapshot();
            const status = await applyAndWait(tool, device);
            assert.match(status, /^done: 12 notes in [\d.]+ s, seed 7$/, "no note placed by the tool, no mismatch");
            const request = header(device, "infill");
            assert.strictEqual(option(request, "keep_pitches"), 1, "the daemon keeps the pitches");
            assert.strictEqual(option(request, "keep_rhythm"), undefined);
            assert.deepStrictEqual(options(request, "instrument"), [81]);
            assert.deepStrictEqual(options(request, "pitch_class"), []);
            const done = device.received.filter((m) => m[0] === "/midi-llm/done").pop();
            assert.strictEqual(done[5], melody.length, "the daemon replaced exactly the selected notes");
            const byOnset = (notes) => notes.slice().sort((a, b) => a.start_time - b.start_time || a.pitch - b.pitch);
            const written = byOnset(clip.notes.filter((n) => clip.selected.has(n.note_id)));
            assert.deepStrictEqual(written.map((n) => n.note_id).sort((a, b) => a - b),
                before.slice(0, melody.length).map((n) => n.note_id), "in place: every selected note keeps its note_id");
            checkKept(snapshot, tool.snapshot(), new Map(written.map((n) => [n.note_id, ["start_time", "duration"]])),
                "only the onset and duration of the selected notes changes; their MPE stays");
            assert.strictEqual(written.length, melody.length);
            assert.deepStrictEqual(written.map((n) => n.pitch), byOnset(melody).map((n) => n.pitch),
                "the pitch sequence (by onset, low to high)");
            assert.deepStrictEqual(written.map((n) => n.velocity), byOnset(melody).map((n) => n.velocity), "and the dynamics");
            const onsets = [...new Set(written.map((n) => n.start_time))];
            assert.strictEqual(onsets.length, new Set(melody.map((n) => n.start_time)).size, "one onset per chord");
            assert.strictEqual(written.filter((n) => n.start_time === written[0].start_time).length, 3,
                "the first chord stays together");
            assert.ok(written.every((n) => inSpan(n, 0, 8)), "new onsets inside the span");
            assert.deepStrictEqual(clip.notes.find((n) => n.pitch === inside.pitch),
                before.find((n) => n.pitch === inside.pitch), "the note that was not selected is untouched");
            checkClean(tool, device);
            return {status, rhythm: onsets};
        } finally {
            device.close();
        }
    },

    // Keep rhythm, then Re-roll (Live starts a new cycle, whose input is the first result): both
    // results edit the same selected notes in place; only their pitches ever change.
    async transform_reroll_in_place({daemonPort}) {
        const melody = [0, 1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2, 19 / 3].map((start_time, i) => (
            {pitch: 60 + i * 2, start_time, duration: 1 / 3, velocity: 70 + i * 5, probability: 0.9}));
        const {tool, device} = await setUp({track: "Piano", clip: {length: 8, notes: melody,
            selected: melody.map((_, i) => i)}, tool: {kind: "transformation", selection: {start: 0, end: 8}}},
        {mode: MODE["keep rhythm"], seed: 4}, daemonPort);
        try {
            const before = tool.snapshot();
            const may = new Map(before.map((n) => [n.note_id, ["pitch"]]));
            const first = await applyAndWait(tool, device);
            assert.match(first, /^done: 8 notes/);
            const once = tool.snapshot();
            assert.strictEqual(checkKept(before, once, may, first).length, 0, "no note added");
            const second = await pressAndWait(device, "reroll");
            assert.match(second, /^done: 8 notes/);
            const twice = tool.snapshot();
            assert.strictEqual(checkKept(before, twice, may, second).length, 0, "no note added");
            assert.notDeepStrictEqual(twice.map((n) => n.pitch), once.map((n) => n.pitch), "another seed, other pitches");
            checkClean(tool, device);
            return {statuses: [first, second]};
        } finally {
            device.close();
        }
    },

    // Keep pitches with no room: 23 selected notes on 23 onsets inside 0.1 beat (5 of the model's
    // 10 ms steps at 120 bpm). The model places every note (each moved in place), or the status
    // line says how many it placed and why, and nothing changes: the tool never places a note
    // itself.
    async transform_keep_pitches_no_room({daemonPort}) {
        const melody = [];
        for (let i = 0; i < 23; i++) {
            melody.push({pitch: 48 + (i * 7) % 24, start_time: 2 + i * 0.1 / 23, duration: 1 / 3, velocity: 70 + i});
        }
        const {tool, device, clip} = await setUp({track: "Piano", clip: {length: 8, notes: melody,
            selected: melody.map((_, i) => i)}, tool: {kind: "transformation", selection: {start: 2, end: 2.1}}},
        {mode: MODE["keep pitches"], seed: 5}, daemonPort);
        try {
            const before = tool.snapshot();
            const status = await applyAndWait(tool, device);
            const after = tool.snapshot();
            if (/^done:/.test(status)) {
                assert.match(status, /^done: 23 notes/, "every note placed by the model");
                checkKept(before, after, new Map(before.map((n) => [n.note_id, ["start_time", "duration"]])), status);
                assert.strictEqual(after.length, 23);
            } else {
                assert.match(status, /^keep pitches: the model placed \d+ of the 23 selected notes.*: nothing changed; press Re-roll/);
                assert.deepStrictEqual(after, before, "nothing changed");
            }
            checkClean(tool, device);
            return {status};
        } finally {
            device.close();
        }
    },

    // Transformation, accompany: the selection is the given part and stays; a bass part is added
    // under it, in its own range.
    async transform_accompany({daemonPort}) {
        const chords = [];
        for (let bar = 0; bar < 2; bar++) {
            for (const pitch of [60, 64, 67]) {
                chords.push({pitch: pitch + bar * 5, start_time: bar * 4, duration: 4, velocity: 90});
            }
        }
        const {tool, device, clip} = await setUp({track: "Piano", clip: {length: 8, notes: chords,
            selected: chords.map((_, i) => i)}, tool: {kind: "transformation", selection: {start: 0, end: 8}}},
        {mode: MODE.accompany, seed: 9}, daemonPort);
        try {
            const before = clone(clip.notes);
            const status = await applyAndWait(tool, device);
            assert.match(status, /^done: \d+ notes .*Electric Bass \(finger\) in 36-59/);
            const request = header(device, "accompany");
            assert.deepStrictEqual(options(request, "given"), [0], "the selection is the given part");
            assert.deepStrictEqual(options(request, "instrument"), [33]);
            assert.strictEqual(option(request, "lowest_pitch"), 36);
            assert.strictEqual(option(request, "highest_pitch"), 59);
            assert.strictEqual(option(request, "notes"), chords.length);
            for (const note of before) {
                assert.deepStrictEqual(clip.notes.find((n) => n.note_id === note.note_id), note, "the given part is untouched");
            }
            const added = clip.notes.filter((n) => !before.some((b) => b.note_id === n.note_id));
            assert.ok(added.length > 0, "an accompaniment");
            assert.strictEqual(added.length, Number(/done: (\d+) notes/.exec(status)[1]));
            assert.ok(added.every((n) => n.pitch >= 36 && n.pitch <= 59 && inSpan(n, 0, 8)), "in its own range, in the span");
            checkClean(tool, device);
            return {status, added: added.length};
        } finally {
            device.close();
        }
    },

    // Cancel while the model writes: nothing is written, the clip is as it was.
    async cancel_running({daemonPort}) {
        const {tool, device, clip} = await setUp({tempo: 60, clip: {length: 400, notes: notesEvery(1, 0, 8)},
            tool: {kind: "generator", selection: {start: 0, end: 400}}}, {seed: 1}, daemonPort);
        try {
            const before = clone(clip.notes);
            tool.apply();
            await device.waitFor(() => device.button === "Cancel", 2000, "the button to become Cancel");
            await device.waitFor(() => device.status.startsWith("writing"), 20000, "the job to start");
            const started = Date.now();
            device.message("go"); // the button says Cancel now
            const status = await device.waitForStatus(["cancelled", "done", "error"], 8000);
            assert.strictEqual(status, "cancelled");
            const cancel = device.sent.find((m) => m[0] === "/midi-llm/cancel");
            assert.strictEqual(cancel[3], header(device, "infill")[1], "for the running request");
            await sleep(300);
            assert.strictEqual(tool.cycles.length, 1, "no cycle after the first answer");
            assert.deepStrictEqual(sorted(clip.notes), sorted(before), "nothing was written");
            checkClean(tool, device);
            return {status, seconds: (Date.now() - started) / 1000};
        } finally {
            device.close();
        }
    },

    // Random clips (triplet and odd positions, fractional velocities, per-note data Live keeps
    // outside the dictionaries), random requests of both tools and every mode, and every outcome:
    // done, error, cancel, daemon down, a one-step selection. On each, every note the request did not
    // replace is bit-identical (fields, doubles, note_id, extras); keep rhythm changes only the
    // selected notes' pitch, keep pitches only their onset and duration, in place.
    // MIDI_LLM_PROPERTY_SEED=N repeats a run.
    async invariant_property({daemonPort}) {
        const seed = Number(process.env.MIDI_LLM_PROPERTY_SEED || 20261201);
        const r = randomSource(seed);
        const modes = ["generate", "keep rhythm", "keep pitches", "accompany"];
        const cases = [];
        for (const mode of modes) {
            cases.push(["done", mode], ["done", mode]);
        }
        cases.push(["down", r.pick(modes)], ["error", "generate"], ["error", r.pick(["keep rhythm", "accompany"])],
            ["cancel", "generate"], ["tiny", "generate"]);
        const results = [];
        for (let i = 0; i < cases.length; i++) {
            results.push(await invariantCase(r, cases[i][0], cases[i][1], daemonPort, i));
        }
        for (const mode of modes) {
            assert.ok(results.some((c) => c.label.includes(mode === "generate" ? "generator" : mode) && c.changed > 0),
                `${mode} wrote something at least once: ${JSON.stringify(results)}`);
        }
        return {seed, results};
    },

    async daemon_down() {
        const port = await freePort();
        const live = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [BASS_CLIP()]}], detail: {track: 0, scene: 0}});
        const tool = new FakeMidiTool({live, kind: "generator", selection: {start: 0, end: 4}});
        const device = tool.makeDevice();
        try {
            await device.init({daemon_port: port});
            const expected = `daemon not running on port ${port}: start it with \`make run\``;
            await device.waitForStatus([expected], 4000);
            await sleep(SETTLE_MS);
            const before = clone(live.detail.notes);
            tool.apply();
            await device.waitFor(() => device.button === "Cancel", 1000, "the button to become Cancel");
            const status = await device.waitForStatus([expected], 4000);
            assert.ok(status.includes(`midi-llm-bridge serve --port ${port}`), status);
            assert.deepStrictEqual(sorted(live.detail.notes), sorted(before), "the clip is as it was");
            checkClean(tool, device);
            return {status};
        } finally {
            device.close();
        }
    },

    async protocol_mismatch() {
        const fake = await futureDaemon(); // its pong says protocol 2
        const live = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [BASS_CLIP()]}], detail: {track: 0, scene: 0}});
        const tool = new FakeMidiTool({live, kind: "transformation", selection: {start: 0, end: 4}});
        const device = tool.makeDevice();
        try {
            await device.init({daemon_port: fake.port});
            const expected = "daemon speaks protocol 2, this device 1: update";
            await device.waitForStatus([expected], 4000);
            await sleep(SETTLE_MS);
            tool.apply();
            await device.waitFor(() => device.buttons.length >= 3, 2000, "the button to flip");
            const status = await device.waitForStatus([expected], 4000);
            assert.ok(!fake.heard.includes("/midi-llm/infill"), "no request to a daemon of another protocol");
            checkClean(tool, device);
            return {status};
        } finally {
            device.close();
            fake.close();
        }
    },
};

scenarioMain(scenarios);
