// A scripted fake of Live 12's MIDI Tool objects, live.miditool.in and live.miditool.out, around a
// clip of tests/m4l/fake_live.js, plus Max's Dict for the script.
//
// What it holds to (from the Max and Live documentation):
// - an apply cycle: live.miditool.in sends its context dictionary (middle outlet) and then its
//   notes dictionary (left outlet); live.miditool.out must get one dictionary {notes: [...]}
//   before that call returns ("Did not receive a Note dictionary in time"), never outside a
//   cycle ("Received a Note dictionary asynchronously"); each note needs pitch, start_time and
//   duration ("The key ... is missing");
// - the output is an edit of the input: a note handed back with its note_id is modified in
//   place (the fields the dictionary carries are set; the note keeps its id and everything the
//   dictionary does not carry: MPE and the other per-note data, modelled here as `extras`), a
//   note without note_id is added (a new id, no extras), and a note of the input that is not
//   handed back is removed. A note_id that was not handed over, or one handed back twice, is
//   recorded as a violation. A Transformation gets the selected notes (or, with none selected,
//   those starting in the time selection) and its output is selected afterwards; a Generator
//   gets, depending on `generatorInput`, the notes starting in the time selection
//   ("selection"), every note of the clip ("clip") or none ("empty": its output then edits the
//   notes starting in the time selection);
// - Max's Dict holds numbers as doubles: a note at 1/3 beat arrives as the double Live has and
//   whatever the script hands back is what Live writes, to the last bit;
// - pressing Apply starts and ends a cycle; a bang from the device starts a new cycle, or with
//   `continueCycles` continues the open one, which hands over the notes and context of its start
//   again, and whose output replaces what the cycle wrote before (the clip is as it was when the
//   cycle began, then the new output goes in); with `ignoreBangs` (Auto off) bangs do nothing;
// - the context: {clip: {time_selection_start, time_selection_end, first_note_start,
//   last_note_end, lowest_pitch, highest_pitch}, scale: {scale_mode, root_note, scale_intervals,
//   scale_name}, grid: {interval, enabled}}, in beats;
// - Max's dictionaries turn a one-element array into its element (stringify does it here too).
"use strict";

const {MaxDevice, TOOL_SOURCES} = require("./harness");

// The fields of Live's note dictionaries that a note handed back with its note_id may set.
const NOTE_FIELDS = ["pitch", "start_time", "duration", "velocity", "mute", "probability", "velocity_deviation",
    "release_velocity"];

function clone(value) {
    return JSON.parse(JSON.stringify(value));
}

// What Max's dict does to arrays of one element.
function collapse(value) {
    if (Array.isArray(value)) {
        const items = value.map(collapse);
        return items.length === 1 ? items[0] : items;
    }
    if (value && typeof value === "object") {
        const out = {};
        for (const [key, item] of Object.entries(value)) {
            out[key] = collapse(item);
        }
        return out;
    }
    return value;
}

class DictStore {
    constructor() {
        this.dicts = new Map();
        this.counter = 0;
    }

    add(value) {
        const name = `u${100000 + ++this.counter}`;
        this.dicts.set(name, clone(value));
        return name;
    }

    get(name) {
        return this.dicts.get(String(name));
    }

    // Max's Dict, as the script sees it.
    constructorFor() {
        const store = this;
        function Dict(name) {
            if (name === undefined) {
                this.name = `u${100000 + ++store.counter}`;
            } else {
                this.name = String(name);
            }
            if (!store.dicts.has(this.name)) {
                store.dicts.set(this.name, {});
            }
        }
        Dict.prototype.stringify = function () {
            return JSON.stringify(collapse(store.dicts.get(this.name)));
        };
        Dict.prototype.parse = function (text) {
            store.dicts.set(this.name, JSON.parse(text));
        };
        Dict.prototype.clear = function () {
            store.dicts.set(this.name, {});
        };
        return Dict;
    }
}

class FakeMidiTool {
    /**
     * options: {live: FakeLive (its detail clip is the clip in the editor), kind: "generator" |
     *   "transformation", generatorInput: "selection" | "clip" | "empty", selection: {start, end}
     *   (the time selection, or null), grid: {interval, enabled}, scale: {scale_mode, root_note,
     *   scale_intervals, scale_name} | null, continueCycles, ignoreBangs}
     */
    constructor(options) {
        this.live = options.live;
        this.kind = options.kind;
        this.generatorInput = options.generatorInput || "selection";
        this.selection = options.selection === undefined ? null : options.selection;
        this.grid = options.grid || {interval: 0.25, enabled: 1};
        this.scale = options.scale || null;
        this.continueCycles = options.continueCycles || false;
        this.ignoreBangs = options.ignoreBangs || false;
        this.store = new DictStore();
        this.device = null;
        this.open = null;          // the open cycle: {input, context}
        this.inCycle = false;
        this.answer = null;
        this.cycles = [];          // every cycle: {by, input, output (notes) | null}
        this.violations = [];
        // Per-note data Live keeps with a note but the dictionaries do not carry (MPE, ...), by
        // note_id: it survives an in-place modification and is lost with the note.
        this.extras = new Map();
        for (const note of this.clip ? this.clip.notes : []) {
            this.extras.set(note.note_id, {mpe: [[0, note.note_id % 7], [note.duration / 2, -(note.note_id % 5)]]});
        }
    }

    // The clip's notes with their extras, for comparing before and after.
    snapshot() {
        return clone(this.clip.notes.map((n) => ({...n, extras: this.extras.get(n.note_id) ?? null})));
    }

    get clip() {
        return this.live.detail;
    }

    // The script of the MIDI Tool, in a MaxDevice whose outlets 2 and 3 go to this fake.
    makeDevice(options = {}) {
        this.device = new MaxDevice({
            live: this.live,
            name: this.kind,
            sources: TOOL_SOURCES,
            jsarguments: ["midi-llm-tool.js", this.kind],
            globals: {Dict: this.store.constructorFor()},
            onOutlet: (index, values) => this.onOutlet(index, values),
            launcherOutlet: 4,
            ...options,
        });
        return this.device;
    }

    onOutlet(index, values) {
        if (index === 2) {
            if (values[0] !== "dictionary" || values.length !== 2) {
                this.violations.push(`live.miditool.out got ${values.join(" ")}, not a dictionary`);
            } else if (!this.inCycle) {
                this.violations.push("Received a Note dictionary asynchronously. Make sure that the dictionary is " +
                    "synchronous.");
            } else if (this.answer !== null) {
                this.violations.push("two dictionaries in one apply cycle");
            } else {
                this.answer = clone(this.store.get(values[1]));
            }
            return true;
        }
        if (index === 3) {
            if (values.length !== 1 || values[0] !== "bang") {
                this.violations.push(`live.miditool.in got ${values.join(" ")}, not a bang`);
            } else if (!this.ignoreBangs) {
                setImmediate(() => this.cycle("bang")); // through [deferlow]
            }
            return true;
        }
        return false;
    }

    startsIn(note) {
        return this.selection && note.start_time >= this.selection.start - 1e-9 &&
            note.start_time < this.selection.end - 1e-9;
    }

    inputNotes() {
        const notes = this.clip.notes;
        if (this.kind === "transformation") {
            const selected = notes.filter((n) => this.clip.selected.has(n.note_id));
            return selected.length ? selected : notes.filter((n) => this.startsIn(n));
        }
        if (this.generatorInput === "clip") {
            return notes.slice();
        }
        if (this.generatorInput === "empty") {
            return [];
        }
        return notes.filter((n) => this.startsIn(n));
    }

    contextDict(input) {
        const clip = {};
        if (this.selection) {
            clip.time_selection_start = this.selection.start;
            clip.time_selection_end = this.selection.end;
        }
        if (input.length) {
            clip.first_note_start = Math.min(...input.map((n) => n.start_time));
            clip.last_note_end = Math.max(...input.map((n) => n.start_time + n.duration));
            clip.lowest_pitch = Math.min(...input.map((n) => n.pitch));
            clip.highest_pitch = Math.max(...input.map((n) => n.pitch));
        }
        const scale = this.scale || {scale_mode: 0, root_note: 0, scale_intervals: [0, 2, 4, 5, 7, 9, 11],
            scale_name: "Major"};
        return {clip, scale, grid: this.grid};
    }

    // The user pressed Apply: a cycle starts and ends.
    apply() {
        this.open = null;
        this.cycle("apply");
        this.open = null;
    }

    cycle(by) {
        if (!this.device || this.device.closed) {
            return;
        }
        let input, context;
        if (by === "bang" && this.continueCycles && this.open) {
            ({input, context} = this.open);
            this.clip.notes = clone(this.open.notes);
            this.clip.selected = new Set(this.open.selected);
        } else {
            input = clone(this.inputNotes());
            context = this.contextDict(input);
            if (by === "bang" && this.continueCycles) {
                this.open = {input, context, notes: clone(this.clip.notes), selected: [...this.clip.selected]};
            }
        }
        this.inCycle = true;
        this.answer = null;
        try {
            this.device.messageTo(2, "dictionary", this.store.add(context));
            this.device.messageTo(1, "dictionary", this.store.add({notes: input}));
        } finally {
            this.inCycle = false;
        }
        const entry = {by, input: clone(input), output: null};
        this.cycles.push(entry);
        if (this.answer === null) {
            this.violations.push("Did not receive a Note dictionary in time. Make sure that the dictionary is " +
                "synchronous.");
            return;
        }
        entry.output = this.write(input, this.answer);
    }

    // The output edits the notes handed over (a Generator given no notes: those starting in the
    // time selection): modified in place by note_id, added without one, removed when left out.
    write(input, answer) {
        const notes = answer.notes === undefined ? undefined : (Array.isArray(answer.notes) ? answer.notes : [answer.notes]);
        if (!notes) {
            this.violations.push("The Note dictionary received from Max was malformed: The key `notes` is missing.");
            return null;
        }
        for (const note of notes) {
            for (const key of ["pitch", "start_time", "duration"]) {
                if (typeof note[key] !== "number") {
                    this.violations.push(`The Note dictionary received from Max was malformed: The key \`${key}\` is missing.`);
                    return null;
                }
            }
        }
        const clip = this.clip;
        const editable = this.kind === "generator" && this.generatorInput === "empty"
            ? clip.notes.filter((n) => this.startsIn(n))
            : clip.notes.filter((n) => input.some((i) => i.note_id === n.note_id));
        const byId = new Map(editable.map((n) => [n.note_id, n]));
        const handedBack = new Set();
        const written = [];
        const added = [];
        for (const note of notes) {
            if (note.note_id !== undefined) {
                const target = byId.get(note.note_id);
                if (!target) {
                    this.violations.push(`note_id ${note.note_id} was not handed to the tool`);
                } else if (handedBack.has(note.note_id)) {
                    this.violations.push(`note_id ${note.note_id} was handed back twice`);
                } else {
                    const changed = {...target};
                    for (const key of NOTE_FIELDS) {
                        if (note[key] !== undefined) {
                            changed[key] = note[key];
                        }
                    }
                    const checked = this.live.makeNote(changed); // Live's checks and forms of a note
                    Object.assign(target, checked, {note_id: target.note_id});
                    handedBack.add(note.note_id);
                    written.push(target);
                    continue;
                }
            }
            const made = this.live.makeNote(note);
            added.push(made);
            written.push(made);
        }
        clip.notes = clip.notes.filter((n) => !byId.has(n.note_id) || handedBack.has(n.note_id)).concat(added);
        if (this.kind === "transformation") {
            clip.selected = new Set(written.map((n) => n.note_id));
        }
        return clone(written);
    }

    // The last cycle that wrote something other than its input (the result), or null.
    get writes() {
        return this.cycles.filter((c) => c.output && JSON.stringify(signature(c.output)) !== JSON.stringify(signature(c.input)));
    }
}

function signature(notes) {
    return notes.map((n) => [n.pitch, n.start_time, n.duration, n.velocity, n.mute]).sort();
}

module.exports = {FakeMidiTool, DictStore, collapse, signature};
