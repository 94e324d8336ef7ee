// Unit tests of the MIDI Tools' pure logic (max_for_live/src/midi_llm_tool_core.js) and of their
// script's answers to Live, no daemon, no network: live.miditool.in's dictionaries, spans, grid,
// scale as pitch classes, keep rhythm (keep_rhythm and its safety net), keep pitches, accompaniment range, the request, the output; and that
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

tests["scale: the clip's scale as the daemon's pitch classes, none when off or chromatic"] = () => {
    const major = tool.scaleOf("editor", context({scale: {scale_mode: 1, root_note: 0, scale_intervals: [0, 2, 4, 5, 7, 9, 11]}}));
    same(tool.scaleClasses(major), [0, 2, 4, 5, 7, 9, 11]);
    assert.ok(tool.inScale(64, major) && !tool.inScale(66, major));
    const dMinor = tool.scaleOf("editor", context({scale: {scale_mode: 1, root_note: 2, scale_intervals: [0, 2, 3, 5, 7, 8, 10]}}));
    same(tool.scaleClasses(dMinor), [0, 2, 4, 5, 7, 9, 10], "root + intervals, mod 12, ascending");
    same(tool.scaleClasses(null), []);
    assert.strictEqual(tool.scaleOf("off", context({scale: {scale_mode: 1, root_note: 0, scale_intervals: [0]}})), null);
    assert.strictEqual(tool.scaleOf("editor", context({scale: {scale_mode: 0, root_note: 0, scale_intervals: [0]}})), null,
        "Scale Mode off");
    assert.strictEqual(tool.scaleOf("editor", context({scale: {scale_mode: 1, root_note: 0,
        scale_intervals: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}})), null, "chromatic: no constraint");
    assert.strictEqual(tool.snapPitch, undefined, "no client-side snap: the daemon samples in the scale");
};

tests["scale: sent as pitch_class (Generator, keep rhythm, accompany), not for keep pitches"] = () => {
    const minor = {scale_mode: 1, root_note: 2, scale_intervals: [0, 2, 3, 5, 7, 8, 10], scale_name: "Minor"};
    const selected = [note(60, 0, 1, {note_id: 1}), note(64, 1, 1, {note_id: 2})];
    const base = {context: context({clip: {time_selection_start: 0, time_selection_end: 4}, scale: minor}), input: selected,
        clipNotes: selected, clipRegion: null, trackInstrument: 0, tempo: 120, numerator: 4, denominator: 4, id: "t1-1",
        replyPort: 9201, perChunk: 32};
    const classes = (planned) => header(core.buildRequest(planned.request)).pairs.pitch_class;
    same(classes(tool.plan({...base, kind: "generator", settings: SETTINGS})), [0, 2, 4, 5, 7, 9, 10]);
    same(classes(tool.plan({...base, kind: "transformation", settings: SETTINGS})), [0, 2, 4, 5, 7, 9, 10]);
    same(classes(tool.plan({...base, kind: "transformation", settings: {...SETTINGS, mode: "accompany"}})),
        [0, 2, 4, 5, 7, 9, 10]);
    assert.strictEqual(classes(tool.plan({...base, kind: "transformation", settings: {...SETTINGS, mode: "keep pitches"}})),
        undefined, "keep pitches keeps the selected pitches");
    assert.strictEqual(classes(tool.plan({...base, kind: "generator", settings: {...SETTINGS, scale: "off"}})), undefined);
    const scaled = tool.plan({...base, kind: "generator", settings: SETTINGS});
    const done = tool.finish(scaled, {variations: [[{pitch: 61, start: 0, duration: 1, velocity: 72, mute: 0, instrument: 0}]]});
    same(done.notes.map((n) => n.pitch), [61], "the result is the daemon's: no client-side snap");
    assert.doesNotMatch(tool.TEXT.done(scaled, done, {seconds: 1, seed: 2, warnings: []}), /moved/);
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

tests["keep rhythm: the daemon's notes on the selected notes' slots, exactly their rhythm"] = () => {
    const slots = [note(60, 0, 1, {note_id: 1, probability: 0.5}), note(64, 0, 1, {note_id: 2, velocity: 90}),
        note(67, 1, 0.5, {velocity: 80}), note(72, 3, 1, {velocity: 0})];
    // The daemon's notes (float32 on the wire), in its order: the slot's timing and velocity.
    const model = [
        {pitch: 65, start_time: 0.0000001, duration: 1, velocity: 90.0000002, instrument: 0},
        {pitch: 62, start_time: 0, duration: 1, velocity: 100, instrument: 0},
        {pitch: 69, start_time: 1, duration: 0.5, velocity: 80, instrument: 0},
        {pitch: 74, start_time: 3, duration: 1, velocity: 1, instrument: 0},   // velocity 0 clamped to 1
    ];
    const {notes, fitted} = tool.keepRhythm(slots, model, 0, 127);
    assert.strictEqual(fitted, 0);
    same(notes.map((n) => [n.start_time, n.duration, n.velocity, n.probability]),
        slots.map((n) => [n.start_time, n.duration, n.velocity, n.probability]), "the slots' fields, exactly");
    same(notes.map((n) => n.pitch), [62, 65, 69, 74], "each slot takes the pitch the model wrote on it (by velocity)");
    assert.ok(notes.every((n) => n.note_id === undefined));

    // The daemon left out a note that doubled another at its onset: the tool fits that slot.
    const left = tool.keepRhythm([note(60, 0), note(61, 0), note(62, 0), note(67, 2)],
        [{pitch: 62, start_time: 0, duration: 0.5, velocity: 100}, {pitch: 55, start_time: 0, duration: 0.5, velocity: 100},
            {pitch: 57, start_time: 2, duration: 0.5, velocity: 100}], 0, 127);
    assert.strictEqual(left.fitted, 1);
    same(left.notes.map((n) => [n.start_time, n.pitch]), [[0, 55], [0, 62], [0, 67], [2, 57]],
        "the two lowest slots got the model's notes (lowest to lowest); the third: D or G (sounding there), " +
        "nearest to 62 and not taken");
    same(tool.keepRhythm([note(60, 0), note(64, 0)], [{pitch: 62, start_time: 0, duration: 0.5, velocity: 100}], 70, 80)
        .notes.map((n) => n.pitch), [62, 74], "a fitted slot: inside Low..High");
    assert.strictEqual(tool.keepRhythm(slots, [], 0, 127), null);
};

tests["keep rhythm: the request carries keep_rhythm 1, unselected notes in the span go muted"] = () => {
    const selected = [note(60, 0, 1, {note_id: 1}), note(64, 1, 1, {note_id: 2}), note(67, 2, 1, {note_id: 3, mute: 1})];
    const clipNotes = selected.concat([note(40, 1, 1, {note_id: 4}), note(41, 3.5, 2, {note_id: 5}),
        note(42, 4, 1, {note_id: 6}), note(43, -0.5, 1, {note_id: 7})]);
    const planned = tool.plan({kind: "transformation", settings: SETTINGS,
        context: context({clip: {time_selection_start: 0, time_selection_end: 4}}), input: selected, clipNotes,
        clipRegion: null, trackInstrument: 0, tempo: 120, numerator: 4, denominator: 4, id: "t1-1", replyPort: 9201,
        perChunk: 32});
    const messages = core.buildRequest(planned.request);
    const {address, pairs} = header(messages);
    assert.strictEqual(address, "/midi-llm/infill");
    assert.strictEqual(pairs.keep_rhythm, 1);
    assert.strictEqual(pairs.notes, 7, "every note of the clip");
    const sent = planned.request.notes.map((n) => [n.pitch, n.mute]).sort((a, b) => a[0] - b[0]);
    same(sent, [[40, 1], [41, 1], [42, 0], [43, 0], [60, 0], [64, 0], [67, 1]],
        "the unselected notes starting in the span are muted (not replaced); the others as they are");
    same(planned.slots.map((n) => n.note_id), [1, 2], "the slots: the audible selected notes");
    assert.strictEqual(planned.origin, -4);
    const noIds = tool.keepRhythmContext([note(60, 0), note(62, 0)], [note(60, 0)], {start: 0, end: 4});
    same(noIds.map((n) => n.mute), [0, 1], "without note ids: by pitch, start and duration");
    // Another mode sends no keep_rhythm.
    assert.strictEqual(header(core.buildRequest(tool.plan({kind: "transformation", settings: {...SETTINGS,
        mode: "keep pitches"}, context: context(), input: selected, clipNotes, clipRegion: null, trackInstrument: 0,
    tempo: 120, numerator: 4, denominator: 4, id: "t1-2", replyPort: 9201, perChunk: 32}).request)).pairs.keep_rhythm,
    undefined);

    // The result: the muted selected note comes back as it was, the others re-pitched on their slots.
    const done = tool.finish(planned, {removed: 2, variations: [[
        {pitch: 62, start: 4, duration: 1, velocity: 100, mute: 0, instrument: 0},
        {pitch: 65, start: 5, duration: 1, velocity: 100, mute: 0, instrument: 0}]]});
    same(done.notes.map((n) => [n.pitch, n.start_time, n.mute, n.note_id]),
        [[62, 0, 0, undefined], [65, 1, 0, undefined], [67, 2, 1, 3]]);
    assert.strictEqual(done.count, 2);
    assert.strictEqual(done.fitted, 0);
    assert.strictEqual(done.mismatch, undefined);
    assert.match(tool.TEXT.done(planned, done, {seconds: 1, seed: 2, warnings: []}), /^done: 2 notes in 1 s, seed 2$/);
    const short = tool.finish(planned, {removed: 3, variations: [[
        {pitch: 62, start: 4, duration: 1, velocity: 100, mute: 0, instrument: 0}]]});
    assert.match(tool.TEXT.done(planned, short, {seconds: 1, seed: 2, warnings: []}),
        /1 fitted by the tool \(the model left them out\); the daemon took the rhythm of 3 notes, 2 were selected/);
    assert.throws(() => tool.plan({kind: "transformation", settings: SETTINGS, context: context(), input: [selected[2]],
        clipNotes, clipRegion: null, trackInstrument: 0, tempo: 120, numerator: 4, denominator: 4, id: "t1-3",
        replyPort: 9201, perChunk: 32}), /keep rhythm: the selected notes are all muted/);
};

tests["keep pitches: the daemon's notes on the selected pitches, in order, chords on one onset"] = () => {
    const slots = [note(64, 0, 1, {note_id: 1, probability: 0.5}), note(60, 0, 1, {note_id: 2, velocity: 90}),
        note(62, 1, 0.5, {velocity: 80}), note(65, 2), note(62, 3, 1, {velocity: 70})];
    // The daemon's notes (float32 on the wire): the slots' pitches in order, the model's onsets and durations.
    const model = [
        {pitch: 60, start_time: 0.5, duration: 0.25, velocity: 90.0000002},
        {pitch: 64, start_time: 0.5000001, duration: 0.5, velocity: 100},
        {pitch: 62, start_time: 1.5, duration: 0.75, velocity: 80},
        {pitch: 65, start_time: 1.5, duration: 1, velocity: 100},     // a chord onset shared by two slots
        {pitch: 62, start_time: 3.25, duration: 0.5, velocity: 70},
    ];
    const {notes, fitted} = tool.keepPitches(slots, model, {start: 0, end: 4});
    assert.strictEqual(fitted, 0);
    same(notes.map((n) => [n.pitch, n.start_time, n.duration, n.velocity, n.probability]),
        [[60, 0.5, 0.25, 90, 1], [64, 0.5, 0.5, 100, 0.5], [62, 1.5, 0.75, 80, 1], [65, 1.5, 1, 100, 1],
            [62, 3.25, 0.5, 70, 1]], "each slot (by onset, low to high) on the daemon's note with its pitch");
    assert.ok(notes.every((n) => n.note_id === undefined));

    // The model stopped early: the chords left out share the rest of the span; a chord's missing
    // note joins its chord.
    const short = tool.keepPitches(slots, [{pitch: 60, start_time: 1, duration: 0.5}, {pitch: 62, start_time: 2, duration: 1}],
        {start: 0, end: 4});
    assert.strictEqual(short.fitted, 3);
    same(short.notes.map((n) => [n.pitch, n.start_time, n.duration]),
        [[60, 1, 0.5], [64, 1, 0.5], [62, 2, 1], [65, 2.666667, 0.666667], [62, 3.333333, 0.666667]]);
    assert.strictEqual(tool.keepPitches(slots, [], {start: 0, end: 4}), null);
};

tests["keep pitches: the request carries keep_pitches 1, unselected notes in the span go muted"] = () => {
    const selected = [note(60, 0, 1, {note_id: 1}), note(64, 0, 1, {note_id: 2}), note(62, 1, 1, {note_id: 3}),
        note(67, 2, 1, {note_id: 4, mute: 1})];
    const clipNotes = selected.concat([note(40, 1, 1, {note_id: 5}), note(42, 4, 1, {note_id: 6})]);
    const planned = tool.plan({kind: "transformation", settings: {...SETTINGS, mode: "keep pitches", low: 50},
        context: context({clip: {time_selection_start: 0, time_selection_end: 4}}), input: selected, clipNotes,
        clipRegion: null, trackInstrument: 0, tempo: 120, numerator: 4, denominator: 4, id: "t1-4", replyPort: 9201,
        perChunk: 32});
    const {address, pairs} = header(core.buildRequest(planned.request));
    assert.strictEqual(address, "/midi-llm/infill");
    assert.strictEqual(pairs.keep_pitches, 1);
    assert.strictEqual(pairs.keep_rhythm, undefined);
    assert.strictEqual(pairs.lowest_pitch, undefined, "the pitches are kept: no pitch range");
    assert.strictEqual(pairs.pitch_class, undefined);
    same(planned.request.notes.map((n) => [n.pitch, n.mute]).sort((a, b) => a[0] - b[0]),
        [[40, 1], [42, 0], [60, 0], [62, 0], [64, 0], [67, 1]], "the unselected note in the span goes muted");
    same(planned.slots.map((n) => n.note_id), [1, 2, 3]);
    assert.strictEqual(planned.origin, 0);

    const done = tool.finish(planned, {removed: 3, variations: [[
        {pitch: 60, start: 1, duration: 0.5, velocity: 100, mute: 0, instrument: 0},
        {pitch: 64, start: 1, duration: 0.5, velocity: 100, mute: 0, instrument: 0},
        {pitch: 62, start: 3, duration: 1, velocity: 100, mute: 0, instrument: 0}]]});
    same(done.notes.map((n) => [n.pitch, n.start_time, n.mute, n.note_id]),
        [[60, 1, 0, undefined], [64, 1, 0, undefined], [67, 2, 1, 4], [62, 3, 0, undefined]],
        "the muted selected note comes back as it was");
    assert.strictEqual(done.count, 3);
    assert.match(tool.TEXT.done(planned, done, {seconds: 1, seed: 2, warnings: []}), /^done: 3 notes in 1 s, seed 2$/);
    const short = tool.finish(planned, {removed: 4, variations: [[
        {pitch: 60, start: 1, duration: 0.5, velocity: 100, mute: 0, instrument: 0}]]});
    assert.match(tool.TEXT.done(planned, short, {seconds: 1, seed: 2, warnings: []}),
        /2 placed by the tool \(the model left them out\); the daemon took the pitches of 4 notes, 3 were selected/);
    assert.throws(() => tool.plan({kind: "transformation", settings: {...SETTINGS, mode: "keep pitches"},
        context: context(), input: [selected[3]], clipNotes, clipRegion: null, trackInstrument: 0, tempo: 120,
        numerator: 4, denominator: 4, id: "t1-5", replyPort: 9201, perChunk: 32}),
    /keep pitches: the selected notes are all muted/);
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
