// Unit tests of the device's pure logic (max_for_live/src/midi_llm_core.js), no daemon, no
// network: request and chunk building, reply parsing and result assembly (with lost chunks),
// spans, origins, the write-back plan, and that the sources are ES5 (Max's classic [js]).
//
//   node --expose-internals tests/m4l/unit.js            run every test
//   node tests/m4l/unit.js --dump FILE.json              write GM names and name guesses (for pytest)
"use strict";

const assert = require("assert");
const fs = require("fs");
const vm = require("vm");
const {FakeLive} = require("./fake_live");
const {MaxDevice, PURE_SOURCES, SOURCES} = require("./harness");
const {es5Test, runTests, same} = require("./testkit");

function loadCore() {
    const context = vm.createContext({});
    for (const file of PURE_SOURCES) {
        vm.runInContext(fs.readFileSync(file, "utf8"), context, {filename: file});
    }
    return context.MidiLLM;
}

const core = loadCore();

const tests = {};

function notes(count, step = 0.5, extra = {}) {
    const found = [];
    for (let i = 0; i < count; i++) {
        found.push({note_id: i + 1, pitch: 40 + (i % 60), start_time: i * step, duration: step, velocity: 100, mute: 0,
            ...extra});
    }
    return found;
}

function request(overrides = {}) {
    return {
        id: 4200001, replyPort: 9130, mode: "infill", prompt: "  dreamy pads ", tempo: 96.5, numerator: 6,
        denominator: 8, span: {start: 6, end: 12}, origin: 0, variations: 2, seed: 77, grid: "1/8T",
        temperature: 0.9, topP: 0.95, instruments: [33], given: [], notes: notes(70), instrument: 33, ...overrides,
    };
}

tests["sources are ES5 (Max's classic js)"] = es5Test(SOURCES);

tests["a request header carries every option"] = () => {
    const messages = core.buildRequest(request());
    const header = messages[0];
    same(header.slice(0, 3), ["/midi-llm/infill", 4200001, 9130]);
    const pairs = {};
    for (let i = 3; i < header.length; i += 2) {
        pairs[header[i]] = header[i + 1];
    }
    same(pairs, {
        prompt: "dreamy pads", notes: 70, units: "beats", tempo: 96.5, time_sig: "6/8", start: 6, end: 12,
        variations: 2, seed: 77, grid: "1/8T", temperature: 0.9, top_p: 0.95, instrument: 33, whole: 0, stream: 0,
    });
    assert.ok(header.length <= 256);
};

tests["notes travel in chunks of at most 32 notes, 7 atoms each, under 256 atoms"] = () => {
    const messages = core.buildRequest(request());
    const chunks = messages.slice(1);
    assert.strictEqual(chunks.length, 3);
    same(chunks.map((c) => (c.length - 4) / 7), [32, 32, 6]);
    chunks.forEach((chunk, index) => {
        same(chunk.slice(0, 4), ["/midi-llm/notes", 4200001, index, 3]);
        assert.ok(chunk.length - 1 <= core.MAX_ATOMS);
    });
    same(chunks[0].slice(4, 11), [40, 0, 0.5, 100, 0, 33, -1]);
    same(core.buildRequest(request({notes: []})).length, 1, "no notes, no chunks");
    assert.strictEqual(core.notesPerChunk(8192), 32);
    assert.strictEqual(core.notesPerChunk(512), 11, "a small osc.max_datagram_bytes gets smaller chunks");
    assert.strictEqual(core.notesPerChunk(0), 32);
};

tests["notes before beat 0 shift the origin by whole bars"] = () => {
    const clip = [{pitch: 60, start_time: -1.5, duration: 1, velocity: 90}, {pitch: 127, start_time: 3, duration: 1, velocity: 90}];
    const origin = core.computeOrigin(clip, {start: 0, end: 8}, 4);
    assert.strictEqual(origin, -4);
    const messages = core.buildRequest(request({notes: clip, origin, span: {start: 0, end: 8}}));
    assert.strictEqual(messages[0][messages[0].indexOf("start") + 1], 4);
    assert.strictEqual(messages[0][messages[0].indexOf("end") + 1], 12);
    same(messages[1].slice(4), [60, 2.5, 1, 90, 0, 33, -1, 127, 7, 1, 90, 0, 33, -1]);
    same(core.toLiveNote({pitch: 61, start: 2.5, duration: 0.25, velocity: 72, mute: 0}, origin),
        {pitch: 61, start_time: -1.5, duration: 0.25, velocity: 72, mute: 0});
    assert.strictEqual(core.computeOrigin(clip.slice(1), {start: 0, end: 8}, 4), 0);
};

tests["spans: bars, the clip's loop, the selected notes, continue after the end"] = () => {
    const clip = {looping: true, loopStart: 4, loopEnd: 12, startMarker: 0, endMarker: 16};
    same(core.computeSpan({mode: "generate", kind: "bars", bars: 2, bar: 4, clip: null}), {start: 0, end: 8});
    same(core.computeSpan({mode: "generate", kind: "loop", bars: 2, bar: 4, clip: null}), {start: 0, end: 8});
    same(core.computeSpan({mode: "generate", kind: "selection", bars: 2, bar: 4, clip: null, selection: null}),
        {start: 0, end: 8}, "an empty slot: bars");
    same(core.computeSpan({mode: "infill", kind: "loop", bars: 2, bar: 4, clip}), {start: 4, end: 12});
    same(core.computeSpan({mode: "infill", kind: "bars", bars: 1, bar: 4, clip}), {start: 4, end: 8});
    same(core.computeSpan({mode: "infill", kind: "selection", bars: 1, bar: 4, clip,
        selection: {start: 5.25, end: 7.5}}), {start: 5, end: 8});
    same(core.computeSpan({mode: "continue", kind: "bars", bars: 2, bar: 4, clip}), {start: 12, end: 20});
    same(core.computeSpan({mode: "continue", kind: "loop", bars: 2, bar: 4, clip}), {start: 12, end: 20});
    const odd = {looping: false, loopStart: 0, loopEnd: 4, startMarker: 0, endMarker: 7};
    same(core.computeSpan({mode: "continue", kind: "bars", bars: 1, bar: 3, clip: odd}), {start: 9, end: 12},
        "6/8: bars of 3 beats, from the bar line after the end");
    same(core.computeSpan({mode: "infill", kind: "loop", bars: 1, bar: 4, clip, loop: {start: 6, end: 10}}),
        {start: 6, end: 10}, "the arrangement's loop brace");
    assert.throws(() => core.computeSpan({mode: "infill", kind: "bars", bars: 1, bar: 4, clip: null}),
        (e) => e instanceof core.UserError && /infill needs a clip/.test(e.message));
    assert.throws(() => core.computeSpan({mode: "infill", kind: "selection", bars: 1, bar: 4, clip, selection: null}),
        /no notes are selected/);
    same(core.selectionRange([{start_time: 2, duration: 1}, {start_time: 1, duration: 0.5}]), {start: 1, end: 3});
};

tests["replies: accepted, started, progress, results, done"] = () => {
    const job = new core.Job(17, "generate");
    assert.strictEqual(job.handle("/midi-llm/accepted", [99, 0]), null, "another request's reply");
    same(job.handle("/midi-llm/accepted", [17, 2]), {type: "accepted", position: 2});
    same(job.handle("/midi-llm/started", [17]), {type: "started"});
    same(job.handle("/midi-llm/progress", [17, 0.5, 12]), {type: "progress", fraction: 0.5, notes: 12});
    const note = [60, 0.5, 0.25, 72, 0, 33, -1];
    assert.strictEqual(job.handle("/midi-llm/result", [17, 0, 0, 2, 3, ...note, ...note]), null, "not done yet");
    assert.strictEqual(job.handle("/midi-llm/result", [17, 1, 0, 1, 0]), null, "an empty variation is one chunk");
    let event = job.handle("/midi-llm/done", [17, 2, 1234, 0.8, 0, 0, 8]);
    same(event, {type: "incomplete", missing: [[0, 1]]}, "chunk 1 of variation 1 is missing");
    event = job.handle("/midi-llm/result", [17, 0, 1, 2, 3, ...note]);
    assert.strictEqual(event.type, "complete");
    assert.strictEqual(event.result.variations[0].length, 3);
    same(event.result.variations[1], []);
    assert.strictEqual(event.result.seed, 1234);
    same(event.result.variations[0][0],
        {pitch: 60, start: 0.5, duration: 0.25, velocity: 72, mute: 0, instrument: 33, channel: -1});
};

tests["a variation of which nothing came is asked for whole; a short count is refused"] = () => {
    const job = new core.Job("x", "generate");
    job.handle("/midi-llm/result", ["x", 0, 0, 1, 1, 60, 0, 1, 72, 0, 0, -1]);
    same(job.handle("/midi-llm/done", ["x", 2, 1, 0.1, 0, 0, 4]), {type: "incomplete", missing: [[1, -1]]});
    job.handle("/midi-llm/result", ["x", 1, 0, 1, 2, 60, 0, 1, 72, 0, 0, -1]);
    same(job.check(), {type: "incomplete", missing: [[1, -1]]}, "2 notes announced, 1 came");
    assert.match(core.TEXT.lostChunks([[1, -1], [0, 3]]), /variation 2, variation 1 chunk 3/);
    const messages = core.resendMessages("x", 9130, Array.from({length: 300}, (_, i) => [0, i]));
    assert.strictEqual(messages.length, 3);
    same(messages[0].slice(0, 5), ["/midi-llm/resend", "x", 9130, 0, 0]);
    for (const message of messages) {
        assert.ok(message.length - 1 <= 256);
    }
};

// A small seeded generator, so that a failing case can be run again.
function random(seed) {
    let state = seed >>> 0;
    return () => {
        state = (state * 1664525 + 1013904223) >>> 0;
        return state / 4294967296;
    };
}

tests["with a secret every message but a notes chunk ends with it; without one none carries it"] = () => {
    const rand = random(20261201);
    const words = ["S", "123", "s3cr3t-token", "two words", "secret", "ünïcode"];
    for (let run = 0; run < 200; run++) {
        const secret = rand() < 0.25 ? "" : words[Math.floor(rand() * words.length)];
        const id = `m7-${run}`;
        const pairs = Array.from({length: Math.floor(rand() * 400)}, (_, i) => [i % 3, Math.floor(rand() * 9) - 1]);
        const messages = [
            core.pingMessage(id, 9130, secret), core.statusMessage(id, 9130, secret),
            core.reloadMessage(id, 9130, secret), core.cancelMessage(id, 9130, "m7-1", secret),
            ...core.resendMessages(id, 9130, pairs, secret),
            ...core.buildRequest(request({id, secret, prompt: rand() < 0.2 ? "secret" : "pads",
                notes: notes(Math.floor(rand() * 90)), perChunk: 1 + Math.floor(rand() * 32)})),
        ];
        let resent = 0;
        for (const message of messages) {
            assert.ok(message.length - 1 <= core.MAX_ATOMS, `${message[0]}: ${message.length - 1} atoms`);
            if (message[0] === "/midi-llm/notes") {
                assert.ok(!message.slice(4).includes(secret || "secret"), "a notes chunk carries no secret");
                continue;
            }
            same(message.slice(1, 2), [id], message[0]);
            if (secret) {
                same(message.slice(-2), ["secret", secret], `${message[0]} ends with its secret`);
            } else {
                // A request's options are name-value pairs (a prompt may be the word "secret").
                const names = message[0] === "/midi-llm/infill" ? message.slice(3).filter((_, i) => i % 2 === 0)
                    : message.slice(3);
                assert.ok(!names.includes("secret"), `${message[0]} carries no secret`);
            }
            if (message[0] === "/midi-llm/resend") {
                resent += (message.length - 3 - (secret ? 2 : 0)) / 2;
            }
        }
        assert.strictEqual(resent, pairs.length, "every pair asked for, none cut off by the secret");
    }
    const s = request({secret: "S"});
    assert.strictEqual(core.buildRequest(s)[0].filter((atom) => atom === "S").length, 1, "the secret goes once");
};

tests["the prompt is cut at the bridge's limit, from the one table"] = () => {
    const limit = core.LIMITS.MAX_PROMPT_CHARACTERS;
    const header = core.buildRequest(request({prompt: "x".repeat(limit + 50)}))[0];
    assert.strictEqual(header[header.indexOf("prompt") + 1].length, limit);
};

tests["errors and status texts say what to do"] = () => {
    const job = new core.Job(5, "infill");
    same(job.handle("/midi-llm/error", [5, "too_large", "the span is 300 bars", 1]),
        {type: "error", code: "too_large", message: "the span is 300 bars", details: [1]});
    assert.strictEqual(core.TEXT.notRunning(9123),
        "daemon not running on port 9123: start it with `make run` (or `midi-llm-bridge serve --port 9123`)");
    assert.match(core.TEXT.protocolMismatch(2), /^daemon speaks protocol 2, this device 1: update/);
    assert.strictEqual(core.TEXT.error("cancelled", "cancelled while the model was writing"), "cancelled");
    assert.strictEqual(core.TEXT.progress(0.456, 12), "writing 46% (12 notes)");
    assert.strictEqual(core.TEXT.ready({model: "/x/y/MIDI-LLM", device: "cuda", state: "ready"}), "ready: MIDI-LLM on cuda");
};

tests["instruments from track names, Drum Racks and brackets"] = () => {
    assert.strictEqual(core.trackInstrument("Bass", []), 33);
    assert.strictEqual(core.trackInstrument("Lead [81]", []), 81);
    assert.strictEqual(core.trackInstrument("Bass [0]", []), 0, "the bracket wins");
    assert.strictEqual(core.trackInstrument("3-MIDI", ["MxDeviceMidiEffect", "DrumGroupDevice"]), 128);
    assert.strictEqual(core.trackInstrument("3-MIDI", []), null);
    assert.strictEqual(core.trackNameFor(128), "Drums [128]");
    assert.strictEqual(core.trackNameFor(33), "Electric Bass (finger) [33]");
};

tests["the plan: variations into the next empty slots, new scenes when none are left"] = () => {
    const n = (pitch, start) => ({pitch, start, duration: 1, velocity: 72, mute: 0, instrument: 0});
    const result = {variations: [[n(60, 0)], [n(62, 1)], [n(64, 2)]], removed: 0};
    const ctx = {mode: "generate", view: "session", track: 2, scene: 1, target: {ref: {track: 2, scene: 1}, exists: false},
        span: {start: 0, end: 4}, origin: 0, slots: [true, false, true, false], sceneCount: 4, trackCount: 3, clipEnd: 0,
        notes: [], replaced: []};
    const plan = core.planWrite(ctx, result);
    same(plan.ops.map((o) => [o.op, o.scene === undefined ? (o.clip || {}).scene : o.scene]), [
        ["create_clip", 3], ["write_notes", 3], ["create_scene", undefined], ["create_clip", 4], ["write_notes", 4],
        ["create_clip", 1], ["write_notes", 1]]);
    assert.strictEqual(plan.notes, 3);
    assert.ok(plan.ops.filter((o) => o.op === "write_notes").every((o) => o.replaced.length === 0), "new clips replace nothing");

    const withEmpty = core.planWrite(ctx, {variations: [[n(60, 0)], [], [n(64, 2)]], removed: 0});
    same(withEmpty.ops.filter((o) => o.op === "create_clip").map((o) => o.scene), [3, 1], "an empty variation gets no clip");
    assert.match(withEmpty.note, /1 of 3 variations had no notes/);

    const old = [{note_id: 7, pitch: 50, start_time: 1, duration: 1, velocity: 90, mute: 0}];
    const infillCtx = {...ctx, mode: "infill", target: {ref: {track: 2, scene: 1}, exists: true}, clipEnd: 8, notes: old,
        replaced: old};
    const infill = core.planWrite(infillCtx, {variations: result.variations.slice(0, 2), removed: 1});
    same(infill.ops.map((o) => o.op), ["duplicate_clip", "write_notes", "write_notes"], "copies before the target changes");
    same(infill.ops[0], {op: "duplicate_clip", track: 2, from: 1, to: 3});
    same(infill.ops[1].copyOf, {track: 2, scene: 1});
    assert.ok(infill.ops[2].target && infill.ops[2].copyOf === null);
    same(infill.ops[2].replaced, old);

    const cont = core.planWrite({...infillCtx, mode: "continue", span: {start: 8, end: 12}},
        {variations: [result.variations[0]], removed: 0});
    same(cont.ops.map((o) => o.op), ["write_notes", "extend_clip"]);
    same(cont.ops[0].replaced, [], "continue replaces nothing unless the daemon says it did");
    assert.strictEqual(cont.ops[1].end, 12);

    const arrangement = core.planWrite({...infillCtx, view: "arrangement", target: {ref: {track: 2, arrangement: 0}, exists: true}},
        {variations: result.variations, removed: 0});
    same(arrangement.ops.map((o) => o.op), ["write_notes"]);
    assert.match(arrangement.note, /need Session View/);

    for (const mode of ["generate", "infill", "continue", "accompany"]) {
        const empty = core.planWrite({...infillCtx, mode}, {variations: [[], []], removed: 1});
        assert.ok(empty.empty, `${mode}: an empty result`);
        same(empty.ops, [], `${mode}: an empty result writes nothing`);
    }
};

tests["the plan: accompaniment to the track of each instrument, or new named tracks, adding only"] = () => {
    const n = (instrument, start) => ({pitch: 40, start, duration: 1, velocity: 72, mute: 0, instrument});
    const ctx = {mode: "accompany", view: "session", accompanyTarget: "tracks", track: 0, scene: 0,
        target: {ref: {track: 0, scene: 0}, exists: true}, span: {start: 0, end: 8}, origin: 0, clipEnd: 8,
        trackCount: 3, otherTracks: [{index: 1, instrument: 33, slots: {0: false}}, {index: 2, instrument: 128, slots: {0: true}}],
        notes: [], replaced: []};
    const plan = core.planWrite(ctx, {variations: [[n(128, 0), n(33, 1), n(81, 2), n(33, 3)]], removed: 0});
    same(plan.ops.map((o) => [o.op, o.op === "create_track" ? o.index : (o.track === undefined ? o.clip.track : o.track)]), [
        ["create_clip", 1], ["write_notes", 1], ["create_track", 3], ["create_clip", 3], ["write_notes", 3],
        ["write_notes", 2]]);
    assert.strictEqual(plan.ops[2].name, "Lead 2 (sawtooth) [81]");
    assert.ok(plan.ops.filter((o) => o.op === "write_notes").every((o) => o.replaced.length === 0),
        "a track's clip that is there gets notes added, never removed");
    assert.strictEqual(plan.notes, 4);
};

tests["removal: only notes sent as replaced, by id, still as they were; the user's notes stay"] = () => {
    const note = (id, start, extra = {}) => ({note_id: id, pitch: 60, start_time: start, duration: 1 / 3, velocity: 99.5,
        mute: 0, probability: 0.75, velocity_deviation: -3, release_velocity: 41, ...extra});
    const before = [note(1, 0), note(2, 1 / 3), note(3, 2), note(4, 2.5, {mute: 1}), note(5, 9)];
    const span = {start: 0, end: 4};
    const replaced = core.replacedNotes(before, span);
    same(replaced.map((n) => n.note_id), [1, 2, 3], "audible notes starting in the span; muted and later ones are kept");
    same(core.removalPlan(replaced, before, before, span), {ids: [1, 2, 3], notes: before.slice(0, 3), kept: 0, gone: 0});
    // Meanwhile the user nudged note 2 by a hair, deleted note 3 and added note 6 in the span.
    const current = [note(1, 0), note(2, 1 / 3 + 1e-12), note(4, 2.5, {mute: 1}), note(5, 9), note(6, 1)];
    same(core.removalPlan(replaced, before, current, span), {ids: [1], notes: [current[0]], kept: 2, gone: 1});
    same(core.removalPlan(replaced, before, [note(1, 0, {probability: 0.5})], span).ids, [], "any field counts");
    same(core.removalPlan([], before, before, span).ids, [], "nothing sent as replaced: nothing goes");
    same(core.checkKept(before, before.slice(0, 4), [5]), []);
    same(core.checkKept(before, [...before.slice(0, 3), note(4, 2.5), before[4]], []), [4], "an unmuted note is a change");
    const copies = before.map((n, i) => ({...n, note_id: 100 + i}));
    same(core.matchCopies(before.slice(0, 2), copies), [100, 101], "a fresh copy's notes by content");
};

tests["bars are counted from the clip's region, never before its start marker"] = () => {
    const clip = (extra) => ({looping: true, loopStart: 6, loopEnd: 13, startMarker: 4, endMarker: 14, ...extra});
    same(core.computeSpan({mode: "infill", kind: "bars", bars: 1, bar: 3.5, clip: clip()}), {start: 6, end: 9.5},
        "7/8, start marker 4, loop start 6: one bar from the loop start (not [3.5, 7))");
    same(core.computeSpan({mode: "infill", kind: "bars", bars: 2, bar: 3.5, clip: clip({loopStart: 2})}), {start: 4, end: 11},
        "a loop starting before the start marker: from the start marker");
    same(core.computeSpan({mode: "infill", kind: "bars", bars: 1, bar: 5, clip: clip({looping: false, startMarker: 1.25})}),
        {start: 1.25, end: 6.25}, "5/4, unlooped: from the start marker");
    same(core.computeSpan({mode: "infill", kind: "selection", bars: 1, bar: 4, clip: clip({startMarker: 4.5}),
        selection: {start: 4.75, end: 5.5}}), {start: 4.5, end: 6}, "selected notes widened, not past the start marker");
    same(core.computeSpan({mode: "infill", kind: "selection", bars: 1, bar: 4, clip: clip(),
        selection: {start: 3.25, end: 3.75}}), {start: 3.25, end: 4.25}, "a selection before the start marker: not widened");
    for (let i = 0; i < 500; i++) {
        const bar = [2, 3, 3.5, 4, 5, 6][i % 6];
        const startMarker = Math.round(Math.random() * 40) / 8;
        const looping = i % 2 === 0;
        const loopStart = Math.max(0, startMarker + Math.round((Math.random() - 0.4) * 24) / 4);
        const c = {looping, loopStart, loopEnd: loopStart + 0.25 + Math.random() * 12, startMarker,
            endMarker: startMarker + 0.25 + Math.random() * 12};
        const span = core.computeSpan({mode: "infill", kind: "bars", bars: 1 + (i % 3), bar, clip: c});
        const region = core.clipRegion(c);
        assert.ok(span.start >= Math.max(region.start, startMarker) - 1e-6, JSON.stringify({c, span}));
        assert.ok(Math.abs(span.end - span.start - bar * (1 + (i % 3))) < 1e-5);
    }
};

tests["the loop brace in an arrangement clip's beats: from its start marker, around its loop"] = () => {
    const live = new FakeLive({view: "Arranger", tracks: [{name: "Piano", slots: [null]}]});
    const device = new MaxDevice({live});
    try {
        device.message("init");
        const bridge = device.context.device.bridge;
        const brace = (clip, loopStart, loopLength) => bridge.loopBraceInClip(clip, {
            get: (property) => [{loop_start: loopStart, loop_length: loopLength}[property]],
        });
        const unlooped = {looping: false, startMarker: 4, endMarker: 20, loopStart: 4, loopEnd: 20, startTime: 8, endTime: 24};
        same(brace(unlooped, 12, 8), {start: 8, end: 16}, "song beat 12 is clip beat 4 + 4");
        same(brace(unlooped, 0, 10), {start: 4, end: 6}, "cut to the clip's start");
        const looped = {looping: true, startMarker: 2, endMarker: 8, loopStart: 4, loopEnd: 8, startTime: 16, endTime: 32};
        same(brace(looped, 16, 4), {start: 2, end: 6}, "the first pass starts at the start marker");
        same(brace(looped, 24, 2), {start: 6, end: 8}, "the second pass: song 24 = clip 2 + 8 = 6 after the loop");
        same(brace(looped, 22, 6), {start: 4, end: 8}, "a whole pass of the loop is the loop");
        assert.strictEqual(brace(looped, 40, 4), null, "after the clip");
        same(device.errors, []);
    } finally {
        device.close();
    }
};

tests["an empty result leaves the clip as it was and says so"] = () => {
    const clipNotes = [];
    for (let i = 0; i < 12; i++) {
        clipNotes.push({pitch: 60 + i, start_time: i / 3, duration: 1 / 3, velocity: 90.25});
    }
    const live = new FakeLive({tracks: [{name: "Piano", slots: [{length: 8, notes: clipNotes}]}]});
    const clip = live.tracks[0].slots[0].clip;
    const before = JSON.parse(JSON.stringify(clip.notes));
    const device = new MaxDevice({live});
    try {
        device.message("mode", 2);
        device.message("span", 0);
        device.message("bars", 1);
        device.message("init");
        const dev = device.context.device;
        dev.ctx = dev.prepare();
        dev.result = {variations: [[]], removed: 12, seed: 77, seconds: 0.1, warnings: []};
        device.runTask(() => dev.write());
        assert.strictEqual(device.status, "the model wrote no notes in the span: nothing changed; press Generate again (seed 77)");
        same(live.writes(), [], "nothing is written");
        assert.deepStrictEqual(clip.notes, before, "every note as it was");
        same(device.errors, []);
    } finally {
        device.close();
    }
};

tests["the device refuses to touch Live before live.thisdevice, and reads every note"] = () => {
    const live = new FakeLive({tracks: [{name: "Piano", slots: [{length: 8, loopStart: 0, loopEnd: 4,
        notes: [{pitch: 127, start_time: 6, duration: 1, velocity: 80}, {pitch: 0, start_time: -2, duration: 1, velocity: 80},
            {pitch: 64, start_time: 1, duration: 1, velocity: 80, mute: 1}]}]}]});
    const device = new MaxDevice({live});
    try {
        same(live.violations, []);
        assert.strictEqual(live.calls.length, 0, "no LiveAPI object while loading");
        device.message("mode", 2);
        device.message("span", 1);
        device.message("init");
        const ctx = device.context.device.prepare();
        assert.strictEqual(ctx.notes.length, 3, "outside the loop, before 0, pitch 127, muted: all read");
        same(ctx.span, {start: 0, end: 4});
        assert.strictEqual(ctx.origin, -4);
        same(live.writes(), [], "reading writes nothing");
        same(device.errors, []);
    } finally {
        device.close();
    }
};

tests["a message into the js inlet sets what the UI shows"] = () => {
    const live = new FakeLive({tracks: [{name: "Piano", slots: [null]}]});
    const device = new MaxDevice({live});
    try {
        device.message("prompt", "warm", "jazz", 7, "piano");
        device.message("mode", 3);
        device.message("instrument", 129);
        device.message("grid", 4);
        device.message("variations", 20);
        device.message("target", 1);
        device.message("temperature", 0.7);
        device.message("top_p", 0.9);
        const s = device.context.settings;
        assert.strictEqual(s.prompt, "warm jazz 7 piano");
        assert.strictEqual(s.mode, "accompany");
        assert.strictEqual(s.instrument, 128);
        assert.strictEqual(s.grid, "1/16");
        assert.strictEqual(s.variations, 8);
        assert.strictEqual(s.target, "tracks");
        assert.strictEqual(s.temperature, 0.7);
        assert.strictEqual(s.topP, 0.9);
        device.message("go");
        assert.strictEqual(device.status, "the device is still loading");
        same(device.errors, []);
    } finally {
        device.close();
    }
};

tests["nothing is written when the target moved while the model was writing"] = () => {
    const live = new FakeLive({tracks: [{name: "Piano", slots: [{length: 4, notes: [{pitch: 60, start_time: 0, duration: 1}]}]}]});
    const device = new MaxDevice({live});
    try {
        device.message("mode", 2);
        device.message("span", 1);
        device.message("init");
        const dev = device.context.device;
        dev.ctx = dev.prepare();
        dev.result = {variations: [[{pitch: 62, start: 1, duration: 1, velocity: 72, mute: 0, instrument: 0}]], removed: 1,
            seed: 1, seconds: 0.1, warnings: []};
        live.tracks.unshift(live.makeTrack({name: "New", devices: []}, 0, 1)); // the device's track is now track 1
        device.runTask(() => dev.write());
        assert.match(device.status, /changed while the model was writing: nothing was written/);
        same(live.writes(), []);
        assert.strictEqual(live.tracks[1].slots[0].clip.notes.length, 1);
        assert.deepStrictEqual(device.errors, []);
    } finally {
        device.close();
    }
};

function dump(file) {
    const names = ["Bass", "Lead [81]", "[128]", "DRUM BUS", "Rhodes", "3-MIDI", "Synth Pad", "Strings [200]", "808",
        "Violin", "Gtr 2", "Vox", "Brass [61]", "Sax solo", "Horns", "Harp", "Bells", "Keys", "", "Cello [42] bass"];
    const guesses = {};
    for (const name of names) {
        guesses[name] = core.instrumentFromTrackName(name);
    }
    fs.writeFileSync(file, JSON.stringify({gm: core.GM_NAMES, guesses, protocol: core.PROTOCOL_VERSION,
        notesPerChunk: core.NOTES_PER_CHUNK, limits: core.LIMITS}));
}

function main() {
    const args = process.argv.slice(2);
    if (args[0] === "--dump") {
        dump(args[1]);
        return 0;
    }
    return runTests(tests);
}

process.exitCode = main();
