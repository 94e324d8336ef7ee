// Unit tests of the MIDI Tools' pure logic (max_for_live/src/midi_llm_tool_core.js) and of their
// script's answers to Live, no daemon, no network: live.miditool.in's dictionaries, spans, grid,
// scale snap, keep rhythm, keep pitches, accompaniment range, the request, the output; and that
// the sources are ES5 (Max's classic [js]).
//
//   node --expose-internals tests/m4l/miditool_unit.js
"use strict";

const assert = require("assert");
const fs = require("fs");
const vm = require("vm");
const {FakeLive} = require("./fake_live");
const {FakeMidiTool, collapse} = require("./fake_miditool");
const {TOOL_SOURCES} = require("./harness");
const {es5Test, runTests, same} = require("./testkit");

function load() {
    const context = vm.createContext({});
    for (const file of TOOL_SOURCES.filter((f) => /midi_llm_(core|tool_core)\.js$|midi-llm-tool\.js$/.test(f))) {
        vm.runInContext(fs.readFileSync(file, "utf8"), context, {filename: file});
    }
    return {core: context.MidiLLM, tool: context.MidiLLMTool};
}

const {core, tool} = load();

function note(pitch, start_time, duration = 0.5, extra = {}) {
    return tool.cleanNote({pitch, start_time, duration, velocity: 100, ...extra});
}

function context(overrides = {}) {
    return tool.readContext({
        clip: {time_selection_start: 4, time_selection_end: 8},
        scale: {scale_mode: 0, root_note: 0, scale_intervals: [0, 2, 4, 5, 7, 9, 11], scale_name: "Major"},
        grid: {interval: 0.25, enabled: 1},
        ...overrides,
    });
}

const SETTINGS = {prompt: "a line", mode: "keep rhythm", instrument: -1, grid: "editor", scale: "editor", low: 0,
    high: 127, seed: 0, temperature: 1, topP: 0.98};

function header(messages) {
    const pairs = {};
    const h = messages[0];
    for (let i = 3; i < h.length; i += 2) {
        pairs[h[i]] = pairs[h[i]] === undefined ? h[i + 1] : [].concat(pairs[h[i]], h[i + 1]);
    }
    return {address: h[0], pairs};
}

const tests = {};

tests["sources are ES5 (Max's classic js)"] = es5Test(TOOL_SOURCES);

tests["live.miditool.in's dictionaries, also as Max collapses one-element arrays"] = () => {
    const notes = collapse({notes: [{note_id: 7, pitch: 60.0, start_time: 1, duration: 0.5, velocity: 99.5, mute: true,
        probability: 0.5}]});
    same(tool.readNotes(notes), [{pitch: 60, start_time: 1, duration: 0.5, velocity: 99.5, mute: 1, probability: 0.5,
        velocity_deviation: 0, release_velocity: 64, note_id: 7}]);
    same(tool.readNotes({}), []);
    same(tool.readNotes(null), []);
    const ctx = tool.readContext(collapse({clip: {time_selection_start: 0.5, time_selection_end: 2},
        scale: {scale_mode: 1, root_note: 14, scale_intervals: [0], scale_name: "Root"}, grid: {interval: 0.5, enabled: 0}}));
    same(ctx.selection, {start: 0.5, end: 2});
    same(ctx.scale, {on: true, root: 2, intervals: [0], name: "Root"});
    same(ctx.grid, {interval: 0.5, enabled: false});
    assert.strictEqual(tool.readContext({clip: {time_selection_start: 3, time_selection_end: 3}}).selection, null,
        "an empty time selection is none");
    same(tool.readContext(null).scale.on, false);
};

tests["grid: the editor's (off when it is off), or a fixed one"] = () => {
    assert.strictEqual(tool.gridOption("editor", context()), 0.25);
    assert.strictEqual(tool.gridOption("editor", context({grid: {interval: 1 / 3, enabled: 1}})), 0.333333);
    assert.strictEqual(tool.gridOption("editor", context({grid: {interval: 0.25, enabled: 0}})), "off");
    assert.strictEqual(tool.gridOption("1/8T", context()), "1/8T");
    assert.strictEqual(tool.gridOption("off", context()), "off");
};

tests["scale: the nearest pitch of the scale, a tie goes down, inside Low..High when it can"] = () => {
    const major = tool.scaleOf("editor", context({scale: {scale_mode: 1, root_note: 0, scale_intervals: [0, 2, 4, 5, 7, 9, 11]}}));
    assert.strictEqual(tool.snapPitch(60, major), 60);
    assert.strictEqual(tool.snapPitch(66, major), 65, "F# between F and G: down");
    assert.strictEqual(tool.snapPitch(61, major), 60);
    assert.strictEqual(tool.snapPitch(61, major, 62, 127), 62, "C is under Low: D");
    assert.strictEqual(tool.snapPitch(0, tool.scaleOf("editor", context({scale: {scale_mode: 1, root_note: 2,
        scale_intervals: [0, 3, 7]}})), 0, 127), 2);
    assert.strictEqual(tool.scaleOf("off", context({scale: {scale_mode: 1, root_note: 0, scale_intervals: [0]}})), null);
    assert.strictEqual(tool.scaleOf("editor", context({scale: {scale_mode: 0, root_note: 0, scale_intervals: [0]}})), null,
        "Scale Mode off");
    assert.strictEqual(tool.scaleOf("editor", context({scale: {scale_mode: 1, root_note: 0,
        scale_intervals: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}})), null, "chromatic: no constraint");
    const snapped = tool.snapNotes([
        {pitch: 61, start_time: 0, duration: 1, instrument: 0}, {pitch: 60, start_time: 0, duration: 1, instrument: 0},
        {pitch: 37, start_time: 0, duration: 1, instrument: 128}, {pitch: 66, start_time: 1, duration: 1, instrument: 0},
    ], major, 0, 127);
    same(snapped.notes.map((n) => [n.pitch, n.start_time]), [[37, 0], [60, 0], [65, 1]],
        "C# landed on C at the same onset: one note; drums keep their pitch");
    assert.strictEqual(snapped.moved, 2);
};

tests["spans: the time selection, the loop without one; a Transformation's notes"] = () => {
    same(tool.generatorSpan(context(), null), {start: 4, end: 8});
    same(tool.generatorSpan(context({clip: {}}), {start: 0, end: 16}), {start: 0, end: 16});
    assert.throws(() => tool.generatorSpan(context({clip: {}}), null),
        (e) => e instanceof core.UserError && /select a time range/.test(e.message));
    same(tool.transformSpan(context(), [note(4, 4), note(60, 7.5, 2)]), {start: 4, end: 8});
    same(tool.transformSpan(context(), [note(60, 3.5), note(62, 6.25, 0.25)]), {start: 3, end: 7},
        "a note before the time selection: the notes' range in whole beats");
    same(tool.transformSpan(context({clip: {}}), [note(60, 2.25, 0.25)]), {start: 2, end: 3});
};

tests["keep rhythm: the original onsets and durations, the model's pitch classes near the original pitches"] = () => {
    const originals = [note(60, 0, 1), note(64, 0, 1), note(67, 1, 0.5, {velocity: 80}), note(72, 3, 1)];
    const model = [
        {pitch: 50, start_time: 0, duration: 1.5, instrument: 0},   // D, sounds at 0 and 1
        {pitch: 53, start_time: 0, duration: 0.5, instrument: 0},   // F, sounds at 0 only
        {pitch: 57, start_time: 2, duration: 0.5, instrument: 0},   // A, nearest onset to 3 (none sounds there)
    ];
    const out = tool.keepRhythm(originals, model, 0, 127);
    same(out.map((n) => [n.start_time, n.duration, n.velocity]), originals.map((n) => [n.start_time, n.duration, n.velocity]));
    same(out.map((n) => n.pitch), [62, 65, 62, 69], "D, F at 0 (near 60 and 64); D at 1 (near 67); A at 3 (near 72)");
    assert.ok(out.every((n) => n.note_id === undefined));
    const chord = tool.keepRhythm([note(60, 0), note(61, 0), note(62, 0)], [{pitch: 62, start_time: 0, duration: 1}], 0, 127);
    same(chord.map((n) => n.pitch), [62, 50, 74], "one class for three notes: octaves, each distinct");
    same(tool.keepRhythm([note(60, 0)], [{pitch: 62, start_time: 0, duration: 1}], 70, 80).map((n) => n.pitch), [74],
        "inside Low..High");
    assert.strictEqual(tool.keepRhythm(originals, [], 0, 127), null);
};

tests["keep pitches: the original pitch groups in order, on the model's rhythm"] = () => {
    const originals = [note(60, 0), note(64, 0), note(62, 1), note(65, 2), note(67, 3)];
    const model = [0, 0.5, 0.75, 1.5, 2, 2.5, 3, 3.5].map((t, i) => ({pitch: 40 + i, start_time: t, duration: 0.25 + i / 100}));
    const out = tool.keepPitches(originals, model);
    same(out.map((n) => [n.pitch, n.start_time]), [[60, 0], [64, 0], [62, 0.75], [65, 2], [67, 3]],
        "4 groups on slots 0, 2, 4, 6 of 8");
    same(out[0].duration, 0.25);
    same(out.map((n) => n.velocity), [100, 100, 100, 100, 100]);
    const few = tool.keepPitches(originals, [{pitch: 40, start_time: 0, duration: 2}, {pitch: 41, start_time: 2, duration: 1}]);
    same(few.map((n) => [n.pitch, n.start_time, n.duration]), [[60, 0, 0.5], [64, 0, 0.5], [62, 0.5, 0.5], [65, 1, 1],
        [67, 2, 1]], "two slots for four groups: the longest is halved, then the earliest longest");
    same(tool.fitSlots([{start: 0, duration: 1}], 3).map((s) => s.start), [0, 0.25, 0.5]);
    assert.strictEqual(tool.keepPitches(originals, []), null);
};

tests["accompaniment: its own range, under the selection or over a low one"] = () => {
    same(tool.accompanyRange([note(60, 0), note(67, 0)], 0, 127), {low: 36, high: 59, below: true, auto: true});
    same(tool.accompanyRange([note(30, 0), note(50, 0)], 0, 127), {low: 51, high: 74, below: false, auto: true});
    same(tool.accompanyRange([note(60, 0)], 40, 50), {low: 40, high: 50, below: false, auto: false});
};

tests["the Generator's request: infill over the time selection, every clip note as context"] = () => {
    const clipNotes = [note(40, -1), note(41, 2), note(42, 5, 0.5, {mute: 1}), note(127, 12)];
    const planned = tool.plan({
        kind: "generator", settings: {...SETTINGS, seed: 5, instrument: 81, low: 48}, context: context(),
        input: [note(41, 5)], clipNotes, clipRegion: {start: 0, end: 16}, trackInstrument: 33, tempo: 96, numerator: 4,
        denominator: 4, id: "g1-2", replyPort: 9200, perChunk: 32,
    });
    same(planned.span, {start: 4, end: 8});
    assert.strictEqual(planned.origin, -4, "a note before beat 0 shifts the origin by a bar");
    const messages = core.buildRequest(planned.request);
    const {address, pairs} = header(messages);
    assert.strictEqual(address, "/midi-llm/infill");
    same(pairs, {prompt: "a line", notes: 4, units: "beats", tempo: 96, time_sig: "4/4", start: 8, end: 12,
        variations: 1, seed: 5, grid: 0.25, temperature: 1, top_p: 0.98, instrument: 81, lowest_pitch: 48, whole: 0,
        stream: 0});
    same(messages[1].slice(4, 11), [40, 3, 0.5, 100, 0, 33, -1], "the clip's notes carry the track's instrument");
    const rerolled = tool.again(planned, "g1-3", 99);
    assert.strictEqual(rerolled.request.seed, 99);
    assert.strictEqual(rerolled.request.id, "g1-3");
    assert.strictEqual(planned.request.seed, 5, "the original stays");
    assert.strictEqual(rerolled.request.notes, planned.request.notes);

    const done = tool.finish(planned, {variations: [[
        {pitch: 50, start: 8.25, duration: 0.5, velocity: 72, mute: 0, instrument: 81},
        {pitch: 51, start: 13, duration: 0.5, velocity: 72, mute: 0, instrument: 81},  // past the span: dropped
    ]]});
    same(done.notes.map((n) => [n.pitch, n.start_time]), [[50, 4.25]]);
    const input = [note(60, 3), note(61, 4), note(62, 5, 1, {mute: 1}), note(63, 7.5), note(64, 8)];
    same(tool.output(planned, done, input).map((n) => n.pitch), [60, 50, 62, 64],
        "the input without its audible notes in the span, plus the new ones");
};

tests["the Transformation's requests: keep rhythm and pitches infill, accompany gives the selection"] = () => {
    const selected = [note(60, 0, 1, {note_id: 1}), note(64, 1, 1, {note_id: 2})];
    const base = {kind: "transformation", context: context({clip: {time_selection_start: 0, time_selection_end: 4}}),
        input: selected, clipNotes: selected.concat([note(30, 6)]), clipRegion: null, trackInstrument: 0, tempo: 120,
        numerator: 3, denominator: 4, id: "t1-1", replyPort: 9201, perChunk: 32};
    const keep = tool.plan({...base, settings: SETTINGS});
    same(keep.span, {start: 0, end: 4});
    same(header(core.buildRequest(keep.request)).pairs.notes, 3);
    assert.strictEqual(header(core.buildRequest(keep.request)).address, "/midi-llm/infill");

    const acc = tool.plan({...base, settings: {...SETTINGS, mode: "accompany"}});
    const {address, pairs} = header(core.buildRequest(acc.request));
    assert.strictEqual(address, "/midi-llm/accompany");
    same([pairs.notes, pairs.given, pairs.instrument, pairs.lowest_pitch, pairs.highest_pitch, pairs.time_sig],
        [2, 0, 33, 36, 59, "3/4"]);
    const done = tool.finish(acc, {variations: [[{pitch: 40, start: 0, duration: 1, velocity: 72, mute: 0, instrument: 33}]]});
    same(tool.output(acc, done, selected).map((n) => [n.pitch, n.note_id]), [[60, 1], [64, 2], [40, undefined]]);
    assert.match(tool.TEXT.done(acc, done, {seconds: 0.5, seed: 3, warnings: []}),
        /^done: 1 notes in 0.5 s, seed 3; Electric Bass \(finger\) in 36-59$/);

    assert.throws(() => tool.plan({...base, settings: {...SETTINGS, mode: "accompany", instrument: 0}}),
        /choose an Instrument other than the clip's own \(Acoustic Grand Piano\)/);
    assert.throws(() => tool.plan({...base, input: [], settings: SETTINGS}), /select the notes to re-imagine first/);
    const empty = tool.finish(keep, {variations: [[]]});
    assert.ok(empty.empty);
};

tests["live.miditool.out gets Live's note fields, note_id only on notes sent back"] = () => {
    same(tool.outputDict([note(60, 1, 0.5, {note_id: 3}), {pitch: 61.4, start_time: 2.0000001, duration: 0, velocity: 72,
        instrument: 0}]), {notes: [
        {pitch: 60, start_time: 1, duration: 0.5, velocity: 100, mute: 0, probability: 1, velocity_deviation: 0,
            release_velocity: 64, note_id: 3},
        {pitch: 61, start_time: 2, duration: 0.0078125, velocity: 72, mute: 0, probability: 1, velocity_deviation: 0,
            release_velocity: 64},
    ]});
};

function toolOn(kind) {
    const live = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [{length: 8,
        notes: [{pitch: 60, start_time: 0, duration: 1}, {pitch: 62, start_time: 1, duration: 1}], selected: [0]}]}],
    detail: {track: 0, scene: 0}});
    const fake = new FakeMidiTool({live, kind, selection: {start: 0, end: 4}});
    return {fake, device: fake.makeDevice()};
}

tests["every apply cycle gets its answer at once, also before live.thisdevice"] = () => {
    const {fake, device} = toolOn("generator");
    try {
        fake.apply();
        same(fake.violations, []);
        assert.strictEqual(device.status, "the tool is still loading");
        same(fake.cycles[0].output.map((n) => n.pitch), [60, 62], "the notes unchanged");
        same(device.errors, []);
    } finally {
        device.close();
    }
};

tests["the panel's messages set what the tool sends"] = () => {
    const {device} = toolOn("transformation");
    try {
        device.message("prompt", "dark", "pads");
        device.message("mode", 2);
        device.message("instrument", 0);
        device.message("grid", 5);
        device.message("scale", 1);
        device.message("low", 200);
        device.message("high", 60);
        device.message("seed", 12.4);
        const s = device.context.settings;
        same([s.prompt, s.mode, s.instrument, s.grid, s.scale, s.low, s.high, s.seed],
            ["dark pads", "accompany", -1, "1/16", "off", 127, 60, 12]);
        assert.strictEqual(device.context.KIND, "transformation");
        device.message("go");
        assert.strictEqual(device.status, "the tool is still loading");
        same(device.errors, []);
    } finally {
        device.close();
    }
};

tests["the tab shows one page of the panel"] = () => {
    const {device} = toolOn("generator");
    try {
        const boxes = {};
        device.context.patcher = {getnamed: (name) => (boxes[name] = boxes[name] || {hidden: 0, getvalueof: () => 0})};
        device.message("page", 1);
        assert.strictEqual(boxes.Prompt.hidden, 1);
        assert.strictEqual(boxes["Daemon port"].hidden, 0);
        device.message("page", 0);
        assert.strictEqual(boxes.Prompt.hidden, 0);
        assert.strictEqual(boxes.Temperature.hidden, 1);
        same(device.errors, []);
    } finally {
        device.close();
    }
};

process.exitCode = runTests(tests);
