// Unit tests of the MIDI Tools' pure logic (max_for_live/src/midi_llm_tool_core.js) and of their
// script's answers to Live, no daemon, no network: live.miditool.in's dictionaries, spans, grid,
// scale as pitch classes, keep rhythm and keep pitches (matched to the selected notes, changed in
// place, nothing invented), the accompaniment range, the request, THE INVARIANT of the answer (every
// note an edit does not name goes back bit-identical); and that the sources are ES5 (Max's classic
// [js]).
//
//   node --expose-internals tests/m4l/miditool_unit.js
"use strict";

const assert = require("assert");
const fs = require("fs");
const vm = require("vm");
const {FakeLive} = require("./fake_live");
const {FakeMidiTool, collapse} = require("./fake_miditool");
const {TOOL_PURE_SOURCES, TOOL_SOURCES} = require("./harness");
const {es5Test, runTests, same} = require("./testkit");

function load() {
    const context = vm.createContext({});
    for (const file of TOOL_PURE_SOURCES) {
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
    same(done.add.map((n) => n.pitch), [61], "the result is the daemon's: no client-side snap");
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

tests["keep rhythm: the daemon's notes on the selected notes' slots; a slot without one keeps its pitch"] = () => {
    const slots = [note(60, 0, 1, {note_id: 1, probability: 0.5}), note(64, 0, 1, {note_id: 2, velocity: 90}),
        note(67, 1, 0.5, {note_id: 3, velocity: 80}), note(72, 3, 1, {note_id: 4, velocity: 0})];
    // The daemon's notes (float32 on the wire), in its order: the slot's timing and velocity.
    const model = [
        {pitch: 65, start_time: 0.0000001, duration: 1, velocity: 90.0000002, instrument: 0},
        {pitch: 62, start_time: 0, duration: 1, velocity: 100, instrument: 0},
        {pitch: 69, start_time: 1, duration: 0.5, velocity: 80, instrument: 0},
        {pitch: 74, start_time: 3, duration: 1, velocity: 1, instrument: 0},   // velocity 0 clamped to 1
    ];
    const fit = tool.keepRhythm(slots, model);
    same(fit, {changes: {"id 1": {pitch: 62}, "id 2": {pitch: 65}, "id 3": {pitch: 69}, "id 4": {pitch: 74}}, changed: 4,
        unplaced: 0}, "each slot takes the pitch the model wrote on it (by velocity), nothing else");

    // The daemon left out a note on a slot: that slot keeps its own pitch; the tool invents none.
    const left = tool.keepRhythm([note(60, 0, 0.5, {note_id: 1}), note(61, 0, 0.5, {note_id: 2}),
        note(62, 0, 0.5, {note_id: 3}), note(67, 2, 0.5, {note_id: 4})],
    [{pitch: 62, start_time: 0, duration: 0.5, velocity: 100}, {pitch: 55, start_time: 0, duration: 0.5, velocity: 100},
        {pitch: 57, start_time: 2, duration: 0.5, velocity: 100}]);
    same(left, {changes: {"id 1": {pitch: 55}, "id 2": {pitch: 62}, "id 4": {pitch: 57}}, changed: 3, unplaced: 1});
    same(tool.keepRhythm(slots, []), {changes: {}, changed: 0, unplaced: 4});
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

    // The result: the selected notes re-pitched in place (same note_id, only the pitch changes); the
    // muted selected note comes back as it was.
    const done = tool.finish(planned, {removed: 2, variations: [[
        {pitch: 62, start: 4, duration: 1, velocity: 100, mute: 0, instrument: 0},
        {pitch: 65, start: 5, duration: 1, velocity: 100, mute: 0, instrument: 0}]]});
    const written = tool.answer(selected, tool.edit(planned, done, selected));
    assert.ok(written.written);
    same(written.notes, [{...selected[0], pitch: 62}, {...selected[1], pitch: 65}, selected[2]]);
    assert.strictEqual(done.count, 2);
    assert.strictEqual(done.unplaced, 0);
    assert.strictEqual(done.mismatch, undefined);
    assert.match(tool.TEXT.done(planned, done, {seconds: 1, seed: 2, warnings: []}), /^done: 2 notes in 1 s, seed 2$/);
    const short = tool.finish(planned, {removed: 3, variations: [[
        {pitch: 62, start: 4, duration: 1, velocity: 100, mute: 0, instrument: 0}]]});
    same(tool.answer(selected, tool.edit(planned, short, selected)).notes, [{...selected[0], pitch: 62}, selected[1],
        selected[2]], "the slot the model left out keeps its pitch");
    assert.match(tool.TEXT.done(planned, short, {seconds: 1, seed: 2, warnings: []}),
        /^done: 1 notes .*; 1 kept their pitch \(the model wrote no note on them\); the daemon took the rhythm of 3 notes, 2 were selected/);
    assert.throws(() => tool.plan({kind: "transformation", settings: SETTINGS, context: context(), input: [selected[2]],
        clipNotes, clipRegion: null, trackInstrument: 0, tempo: 120, numerator: 4, denominator: 4, id: "t1-3",
        replyPort: 9201, perChunk: 32}), /keep rhythm: the selected notes are all muted/);
};

tests["keep pitches: the daemon's notes on the selected pitches, in order; the tool places none itself"] = () => {
    const slots = [note(64, 0, 1, {note_id: 1, probability: 0.5}), note(60, 0, 1, {note_id: 2, velocity: 90}),
        note(62, 1, 0.5, {note_id: 3, velocity: 80}), note(65, 2, 0.5, {note_id: 4}), note(62, 3, 1, {note_id: 5, velocity: 70})];
    // The daemon's notes (float32 on the wire): the slots' pitches in order, the model's onsets and durations.
    const model = [
        {pitch: 60, start_time: 0.5, duration: 0.25, velocity: 90.0000002},
        {pitch: 64, start_time: 0.5000001, duration: 0.5, velocity: 100},
        {pitch: 62, start_time: 1.5, duration: 0.75, velocity: 80},
        {pitch: 65, start_time: 1.5, duration: 1, velocity: 100},     // a chord onset shared by two slots
        {pitch: 62, start_time: 3.25, duration: 0.5, velocity: 70},
    ];
    same(tool.keepPitches(slots, model), {changes: {
        "id 2": {start_time: 0.5, duration: 0.25}, "id 1": {start_time: 0.5000001, duration: 0.5},
        "id 3": {start_time: 1.5, duration: 0.75}, "id 4": {start_time: 1.5, duration: 1},
        "id 5": {start_time: 3.25, duration: 0.5}}, changed: 5, unplaced: 0},
    "each slot (by onset, low to high) on the daemon's note with its pitch: only its onset and duration");

    // The model stopped early: the notes it left out are not placed by the tool.
    const short = tool.keepPitches(slots, [{pitch: 60, start_time: 1, duration: 0.5}, {pitch: 62, start_time: 2, duration: 1}]);
    same(short, {changes: {"id 2": {start_time: 1, duration: 0.5}, "id 3": {start_time: 2, duration: 1}}, changed: 2,
        unplaced: 3});
    same(tool.keepPitches(slots, []), {changes: {}, changed: 0, unplaced: 5});
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
    const written = tool.answer(selected, tool.edit(planned, done, selected));
    same(written.notes, [{...selected[0], start_time: 1, duration: 0.5}, {...selected[1], start_time: 1, duration: 0.5},
        {...selected[2], start_time: 3, duration: 1}, selected[3]],
    "in place: same note_id, pitch and velocity, the model's onset and duration; the muted note as it was");
    assert.strictEqual(done.count, 3);
    assert.strictEqual(done.incomplete, undefined);
    assert.match(tool.TEXT.done(planned, done, {seconds: 1, seed: 2, warnings: []}), /^done: 3 notes in 1 s, seed 2$/);
    const short = tool.finish(planned, {removed: 4, warnings: ["keep pitches: 2 of 3 notes did not fit before the span's end"],
        variations: [[{pitch: 60, start: 1, duration: 0.5, velocity: 100, mute: 0, instrument: 0}]]});
    assert.strictEqual(short.incomplete, "keep pitches: the model placed 1 of the 3 selected notes (keep pitches: 2 of 3 " +
        "notes did not fit before the span's end): nothing changed; press Re-roll", "the tool says why, and places none");
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
    same(done.add.map((n) => [n.pitch, n.start_time]), [[50, 4.25]]);
    const input = [note(60, 3), note(61, 4), note(62, 5, 1, {mute: 1}), note(63, 7.5), note(64, 8)];
    same(tool.answer(input, tool.edit(planned, done, input)).notes.map((n) => n.pitch), [60, 62, 64, 50],
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
    same(tool.answer(selected, tool.edit(acc, done, selected)).notes.map((n) => [n.pitch, n.note_id]),
        [[60, 1], [64, 2], [40, undefined]]);
    assert.match(tool.TEXT.done(acc, done, {seconds: 0.5, seed: 3, warnings: []}),
        /^done: 1 notes in 0.5 s, seed 3; Electric Bass \(finger\) in 36-59$/);

    assert.throws(() => tool.plan({...base, settings: {...SETTINGS, mode: "accompany", instrument: 0}}),
        /choose an Instrument other than the clip's own \(Acoustic Grand Piano\)/);
    assert.throws(() => tool.plan({...base, input: [], settings: SETTINGS}), /select the notes to re-imagine first/);
    const empty = tool.finish(keep, {variations: [[]]});
    assert.ok(empty.empty);
};

tests["THE INVARIANT: every note an edit does not name goes back bit-identical; changes only the edit's fields"] = () => {
    // As live.miditool.in hands them over: doubles (triplets), every field, note_ids.
    const input = [
        {note_id: 11, pitch: 60, start_time: 19 / 3, duration: 1 / 3, velocity: 99.5, mute: 0, probability: 0.7,
            velocity_deviation: -3, release_velocity: 12},
        {note_id: 12, pitch: 62, start_time: 0.1 + 0.2, duration: 1 / 6, velocity: 100, mute: 1, probability: 1,
            velocity_deviation: 0, release_velocity: 64},
        {note_id: 13, pitch: 64, start_time: 7.123456789, duration: 0.2 / 3, velocity: 1, mute: 0, probability: 0.25,
            velocity_deviation: 127, release_velocity: 0},
    ];
    const before = JSON.parse(JSON.stringify(input));
    const none = tool.answer(input, null);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(none.notes)), before, "no edit: the input, to the last bit");
    assert.strictEqual(none.written, false);
    const edit = {remove: {"id 12": true}, change: {"id 13": {pitch: 65}}, fields: ["pitch"],
        add: [{pitch: 70, start_time: 2.5, duration: 0.5, velocity: 80, mute: 0, instrument: 0}]};
    const done = tool.answer(input, edit);
    same(done.notes, [before[0], {...before[2], pitch: 65}, {pitch: 70, start_time: 2.5, duration: 0.5, velocity: 80, mute: 0,
        probability: 1, velocity_deviation: 0, release_velocity: 64}], "kept as given, changed in place, added without id");
    assert.deepStrictEqual(JSON.parse(JSON.stringify(input)), before, "the input itself is not touched");
    assert.throws(() => tool.answer(input, {...edit, fields: ["start_time"]}), /may not set pitch/,
        "a change outside the edit's fields is refused");
    const stale = tool.answer(input, {...edit, change: {"id 99": {pitch: 1}}});
    assert.strictEqual(stale.written, false, "an edit for notes the input lacks writes nothing");
    assert.strictEqual(stale.missing, 1);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(stale.notes)), before);
    assert.strictEqual(tool.noteKey({pitch: 60, start_time: 1 / 3, duration: 0.25}), "at 60 " + 1 / 3 + " 0.25",
        "a note without note_id: its exact position");
};

tests["what goes back to Live before the tool has loaded is the input, bit-identical (triplets, MPE)"] = () => {
    const live = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [{length: 8, notes: [
        {pitch: 60, start_time: 19 / 3, duration: 1 / 3, velocity: 99.5, probability: 0.7},
        {pitch: 62, start_time: 0.1 + 0.2, duration: 2 / 3, velocity: 64, velocity_deviation: -4, release_velocity: 3},
    ], selected: [0, 1]}]}], detail: {track: 0, scene: 0}});
    for (const kind of ["generator", "transformation"]) {
        const fake = new FakeMidiTool({live, kind, selection: {start: 0, end: 8}});
        const device = fake.makeDevice();
        try {
            const before = fake.snapshot();
            fake.apply();
            same(fake.violations, []);
            same(fake.cycles[0].output, fake.cycles[0].input, `${kind}: handed back as given`);
            same(fake.snapshot(), before, `${kind}: every note as it was, with its note_id and MPE`);
        } finally {
            device.close();
        }
    }
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
