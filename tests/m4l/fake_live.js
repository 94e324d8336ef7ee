// A scripted fake of Live's Object Model as Max's classic [js] LiveAPI exposes it (Live 11/12).
//
// It holds a small Live set (song, tracks, clip slots, session and arrangement clips with
// notes) and answers LiveAPI's get/set/call/getcount/path/id the way Live does: canonical
// paths in quotes, values as lists, get_*_notes_extended as a JSON string, note ids that stay
// with their notes. It is strict where Live is strict (creating a clip in a full slot,
// removing an unknown note id, a note without pitch/start_time/duration), refuses the Live 10
// note protocol, and records every call so tests can count them and check that writes happen
// inside one deferred Task and never while the script loads.
//
// Live's documented semantics that it models (Live Object Model, Clip):
// - start_marker / end_marker are independent of the loop state; loop_start / loop_end are the
//   loop brace of a looped clip and, for an unlooped clip, the clip's start and end (the
//   markers); length is the loop length of a looped clip, else end_marker - start_marker. A
//   marker or loop end cannot be set at or before its start (and the reverse).
// - arrangement clips live in a track's arrangement_clips, have no clip slot and no scene,
//   is_arrangement_clip 1, start_time / end_time in song beats (the arrangement length may
//   exceed a looped clip's loop: it plays the loop again); playback starts at start_marker.
// - notes carry note_id, pitch, start_time, duration, velocity, mute, probability,
//   velocity_deviation, release_velocity; add_new_notes gives new ids (and returns them),
//   remove_notes_by_id removes exactly those ids, apply_note_modifications changes existing
//   notes in place (same ids) and knows no other ids; a duplicated clip's notes are new notes.
// - the dictionaries Max hands to and from Live hold numbers as 64-bit doubles: a position of
//   1/3 beat comes back as the very double that went in, never rounded.
"use strict";

const LIVE10_NOTE_API = new Set([
    "select_all_notes", "deselect_all_notes", "replace_selected_notes", "get_selected_notes", "get_notes",
    "set_notes", "notes", "note", "done", "remove_notes",
]);

// The note fields of get_*_notes_extended, and those apply_note_modifications may change.
const NOTE_FIELDS = ["note_id", "pitch", "start_time", "duration", "velocity", "mute", "probability",
    "velocity_deviation", "release_velocity"];
const MODIFIABLE = new Set(NOTE_FIELDS.slice(1));

const WRITE_CALLS = new Set([
    "create_clip", "delete_clip", "duplicate_clip_to", "add_new_notes", "remove_notes_by_id",
    "remove_notes_extended", "apply_note_modifications", "create_scene", "create_midi_track",
]);

let nextObjectId = 1;

function clone(value) {
    return JSON.parse(JSON.stringify(value));
}

class FakeLive {
    /**
     * spec: {tempo, numerator, denominator, view: "Session"|"Arranger", selectedScene,
     *        scenes, deviceTrack, detail: null | {track, scene} | {track, arrangement},
     *        loopStart, loopLength, songTime,
     *        tracks: [{name, midi, devices: [class names], slots: [clip spec | null],
     *                  arrangement: [clip spec]}]}
     * clip spec: {name, length, looping, loopStart, loopEnd, startMarker, endMarker,
     *             startTime, arrangementLength (arrangement; default: the clip's length),
     *             notes: [{pitch, start_time, duration, velocity, mute, probability,
     *                      velocity_deviation, release_velocity}],
     *             selected: [indexes of selected notes]}
     */
    constructor(spec) {
        this.tempo = spec.tempo ?? 120;
        this.numerator = spec.numerator ?? 4;
        this.denominator = spec.denominator ?? 4;
        this.view = spec.view ?? "Session";
        this.selectedScene = spec.selectedScene ?? 0;
        this.loopStart = spec.loopStart ?? 0;
        this.loopLength = spec.loopLength ?? 16;
        this.songTime = spec.songTime ?? 0;
        this.deviceTrack = spec.deviceTrack ?? 0;
        this.nextNoteId = 1;
        this.calls = [];
        this.violations = [];
        this.currentTask = null; // set by the harness while a Task runs
        this.loading = false;    // set by the harness while the script's global code runs
        const scenes = spec.scenes ?? Math.max(1, ...spec.tracks.map((t) => (t.slots || []).length));
        this.scenes = [];
        for (let s = 0; s < scenes; s++) {
            this.scenes.push({kind: "scene", oid: nextObjectId++});
        }
        this.tracks = spec.tracks.map((t, index) => this.makeTrack(t, index, scenes));
        this.detail = null;
        if (spec.detail) {
            const track = this.tracks[spec.detail.track];
            this.detail = spec.detail.arrangement !== undefined
                ? track.arrangement[spec.detail.arrangement]
                : track.slots[spec.detail.scene].clip;
        }
        this.song = {kind: "song", oid: nextObjectId++};
        this.appView = {kind: "appview", oid: nextObjectId++};
        this.songView = {kind: "songview", oid: nextObjectId++};
        this.device = this.tracks[this.deviceTrack].devices.find((d) => d.className.startsWith("MxDevice"));
    }

    makeTrack(spec, index, scenes) {
        const track = {
            kind: "track", oid: nextObjectId++, name: spec.name ?? `${index + 1}-MIDI`, midi: spec.midi ?? true,
            devices: [], slots: [], arrangement: [],
        };
        const classes = spec.devices ?? (index === this.deviceTrack ? ["MxDeviceMidiEffect"] : []);
        track.devices = classes.map((className) => ({kind: "device", oid: nextObjectId++, className, track}));
        for (let s = 0; s < scenes; s++) {
            const clipSpec = (spec.slots || [])[s];
            const slot = {kind: "slot", oid: nextObjectId++, track, clip: null};
            if (clipSpec) {
                slot.clip = this.makeClip(clipSpec, slot);
            }
            track.slots.push(slot);
        }
        track.arrangement = (spec.arrangement || []).map((c) => this.makeClip(c, null, track));
        return track;
    }

    makeClip(spec, slot, arrangementTrack) {
        const length = spec.length ?? 16;
        const clip = {
            kind: "clip", oid: nextObjectId++, slot, arrangementTrack: arrangementTrack || null,
            name: spec.name ?? "clip", looping: spec.looping ?? true,
            loop_start: spec.loopStart ?? 0, loop_end: spec.loopEnd ?? length,
            start_marker: spec.startMarker ?? 0, end_marker: spec.endMarker ?? length,
            start_time: spec.startTime ?? 0, arrangement_length: spec.arrangementLength ?? null,
            notes: [], selected: new Set(),
        };
        if (!(clip.loop_end > clip.loop_start) || !(clip.end_marker > clip.start_marker)) {
            throw new Error(`clip spec with an empty loop or markers: ${JSON.stringify(spec)}`);
        }
        for (const note of spec.notes || []) {
            clip.notes.push(this.makeNote(note));
        }
        for (const i of spec.selected || []) {
            clip.selected.add(clip.notes[i].note_id);
        }
        return clip;
    }

    makeNote(note) {
        for (const key of ["pitch", "start_time", "duration"]) {
            if (typeof note[key] !== "number" || !Number.isFinite(note[key])) {
                throw new Error(`add_new_notes: note without a valid ${key}: ${JSON.stringify(note)}`);
            }
        }
        if (note.pitch < 0 || note.pitch > 127 || note.duration <= 0) {
            throw new Error(`add_new_notes: invalid note ${JSON.stringify(note)}`);
        }
        const made = {
            note_id: this.nextNoteId++, pitch: note.pitch, start_time: note.start_time, duration: note.duration,
            velocity: note.velocity ?? 100, mute: note.mute ? 1 : 0, probability: note.probability ?? 1,
            velocity_deviation: note.velocity_deviation ?? 0, release_velocity: note.release_velocity ?? 64,
        };
        this.checkNoteValues(made, "add_new_notes");
        return made;
    }

    checkNoteValues(note, where) {
        const ranges = {velocity: [0, 127], probability: [0, 1], velocity_deviation: [-127, 127],
            release_velocity: [0, 127], pitch: [0, 127]};
        for (const [key, [low, high]] of Object.entries(ranges)) {
            if (typeof note[key] !== "number" || !(note[key] >= low && note[key] <= high)) {
                throw new Error(`${where}: ${key} ${note[key]} out of ${low}..${high}`);
            }
        }
        if (!(note.duration > 0) || !Number.isFinite(note.start_time)) {
            throw new Error(`${where}: invalid note ${JSON.stringify(note)}`);
        }
    }

    // ----- what the user does in Live while the device waits (not LiveAPI calls) --------------

    userAddNote(clip, note) {
        const made = this.makeNote(note);
        clip.notes.push(made);
        return made;
    }

    userEditNote(clip, noteId, changes) {
        const note = clip.notes.find((n) => n.note_id === noteId);
        if (!note) {
            throw new Error(`userEditNote: no note ${noteId}`);
        }
        Object.assign(note, changes);
        return note;
    }

    userDeleteNote(clip, noteId) {
        clip.notes = clip.notes.filter((n) => n.note_id !== noteId);
    }

    // Every clip of the set: session clips and arrangement clips, with where they are.
    allClips() {
        const found = [];
        for (const track of this.tracks) {
            for (const slot of track.slots) {
                if (slot.clip) {
                    found.push(slot.clip);
                }
            }
            found.push(...track.arrangement);
        }
        return found;
    }

    clipLength(clip) {
        return clip.looping ? clip.loop_end - clip.loop_start : clip.end_marker - clip.start_marker;
    }

    // How long an arrangement clip lasts in the arrangement (a looped clip may play its loop again).
    arrangementLength(clip) {
        return clip.arrangement_length ?? this.clipLength(clip);
    }

    // ----- paths --------------------------------------------------------------------------

    pathOf(obj) {
        switch (obj.kind) {
        case "song": return "live_set";
        case "songview": return "live_set view";
        case "appview": return "live_app view";
        case "scene": return `live_set scenes ${this.scenes.indexOf(obj)}`;
        case "track": return `live_set tracks ${this.tracks.indexOf(obj)}`;
        case "device": return `live_set tracks ${this.tracks.indexOf(obj.track)} devices ${obj.track.devices.indexOf(obj)}`;
        case "slot": return `live_set tracks ${this.tracks.indexOf(obj.track)} clip_slots ${obj.track.slots.indexOf(obj)}`;
        case "clip":
            if (obj.slot) {
                return `${this.pathOf(obj.slot)} clip`;
            }
            return `live_set tracks ${this.tracks.indexOf(obj.arrangementTrack)} arrangement_clips ${obj.arrangementTrack.arrangement.indexOf(obj)}`;
        default: throw new Error(`no path for ${obj.kind}`);
        }
    }

    all() {
        const found = [this.song, this.songView, this.appView, ...this.scenes];
        for (const track of this.tracks) {
            found.push(track, ...track.devices, ...track.slots, ...track.arrangement);
            for (const slot of track.slots) {
                if (slot.clip) {
                    found.push(slot.clip);
                }
            }
        }
        return found;
    }

    resolve(path) {
        const words = String(path).replace(/"/g, "").trim().split(/\s+/);
        if (words[0] === "id") {
            return this.all().find((o) => o.oid === Number(words[1])) || null;
        }
        if (words[0] === "this_device") {
            return this.device;
        }
        if (words[0] === "live_app") {
            return words[1] === "view" && words.length === 2 ? this.appView : null;
        }
        if (words[0] !== "live_set") {
            return null;
        }
        let obj = this.song;
        for (let i = 1; i < words.length; i++) {
            const word = words[i];
            const index = Number(words[i + 1]);
            if (obj.kind === "song" && word === "view") {
                obj = this.songView;
            } else if (obj.kind === "songview" && word === "detail_clip") {
                obj = this.detail;
            } else if (obj.kind === "songview" && word === "selected_scene") {
                obj = this.scenes[this.selectedScene];
            } else if (obj.kind === "songview" && word === "selected_track") {
                obj = this.tracks[this.deviceTrack];
            } else if (obj.kind === "songview" && word === "highlighted_clip_slot") {
                obj = this.tracks[this.deviceTrack].slots[this.selectedScene];
            } else if (obj.kind === "song" && word === "tracks") {
                obj = this.tracks[index]; i++;
            } else if (obj.kind === "song" && word === "scenes") {
                obj = this.scenes[index]; i++;
            } else if (obj.kind === "track" && word === "clip_slots") {
                obj = obj.slots[index]; i++;
            } else if (obj.kind === "track" && word === "devices") {
                obj = obj.devices[index]; i++;
            } else if (obj.kind === "track" && word === "arrangement_clips") {
                obj = obj.arrangement[index]; i++;
            } else if (obj.kind === "slot" && word === "clip") {
                obj = obj.clip;
            } else {
                return null;
            }
            if (!obj) {
                return null;
            }
        }
        return obj;
    }

    // ----- recording ------------------------------------------------------------------------

    record(obj, kind, name, args) {
        const entry = {path: obj ? this.pathOf(obj) : null, kind, name, args, task: this.currentTask};
        this.calls.push(entry);
        const writes = kind === "set" || (kind === "call" && WRITE_CALLS.has(name));
        if (writes && this.currentTask === null) {
            this.violations.push(`${name} on ${entry.path} outside a deferred Task`);
        }
        return entry;
    }

    writes() {
        return this.calls.filter((c) => c.kind === "set" || (c.kind === "call" && WRITE_CALLS.has(c.name)));
    }

    // ----- the LiveAPI constructor ----------------------------------------------------------

    liveAPI() {
        const live = this;
        function LiveAPI(first, second) {
            if (live.loading) {
                live.violations.push("LiveAPI created while the script was loading (wait for live.thisdevice)");
                throw new Error("LiveAPI cannot be created in global code");
            }
            const path = typeof first === "function" ? second : first;
            this._obj = path === undefined ? null : live.resolve(path);
            live.calls.push({path: String(path), kind: "new", name: "LiveAPI", args: [], task: live.currentTask});
        }
        Object.defineProperty(LiveAPI.prototype, "id", {
            get() { return this._obj ? String(this._obj.oid) : "0"; },
        });
        Object.defineProperty(LiveAPI.prototype, "path", {
            get() { return this._obj ? `"${live.pathOf(this._obj)}"` : ""; },
        });
        Object.defineProperty(LiveAPI.prototype, "unquotedpath", {
            get() { return this._obj ? live.pathOf(this._obj) : ""; },
        });
        LiveAPI.prototype.goto = function (path) {
            this._obj = live.resolve(path);
        };
        LiveAPI.prototype.get = function (property) {
            live.record(this._obj, "get", property, []);
            return live.get(this._obj, property);
        };
        LiveAPI.prototype.set = function (property, ...values) {
            live.record(this._obj, "set", property, values);
            live.set(this._obj, property, values);
        };
        LiveAPI.prototype.getcount = function (child) {
            live.record(this._obj, "getcount", child, []);
            return live.getcount(this._obj, child);
        };
        LiveAPI.prototype.call = function (name, ...args) {
            live.record(this._obj, "call", name, args);
            return live.call(this._obj, name, args);
        };
        return LiveAPI;
    }

    // ----- get / set / getcount / call --------------------------------------------------------

    get(obj, property) {
        if (!obj) {
            throw new Error(`get ${property}: no object`);
        }
        const value = this.property(obj, property);
        if (value === undefined) {
            throw new Error(`get: ${obj.kind} has no property ${property}`);
        }
        return [value];
    }

    property(obj, property) {
        switch (obj.kind) {
        case "song":
            return {
                tempo: this.tempo, signature_numerator: this.numerator, signature_denominator: this.denominator,
                loop_start: this.loopStart, loop_length: this.loopLength, current_song_time: this.songTime,
            }[property];
        case "appview":
            return {focused_document_view: this.view}[property];
        case "track":
            return {name: obj.name, has_midi_input: obj.midi ? 1 : 0, has_audio_input: obj.midi ? 0 : 1}[property];
        case "device":
            return {class_name: obj.className, name: obj.className}[property];
        case "slot":
            return {has_clip: obj.clip ? 1 : 0}[property];
        case "clip": {
            // Unlooped, loop_start and loop_end are the clip's start and end: its markers.
            const values = {
                name: obj.name, length: this.clipLength(obj), looping: obj.looping ? 1 : 0,
                loop_start: obj.looping ? obj.loop_start : obj.start_marker,
                loop_end: obj.looping ? obj.loop_end : obj.end_marker, start_marker: obj.start_marker,
                end_marker: obj.end_marker, is_midi_clip: 1, is_audio_clip: 0,
                is_arrangement_clip: obj.arrangementTrack ? 1 : 0,
            };
            if (obj.arrangementTrack) {
                values.start_time = obj.start_time;
                values.end_time = obj.start_time + this.arrangementLength(obj);
            }
            return values[property];
        }
        default:
            return undefined;
        }
    }

    set(obj, property, values) {
        if (!obj) {
            throw new Error(`set ${property}: no object`);
        }
        const value = values[0];
        if (obj.kind === "track" && property === "name") {
            obj.name = String(value);
        } else if (obj.kind === "clip" && ["loop_start", "loop_end", "start_marker", "end_marker"].includes(property)) {
            if (typeof value !== "number" || !Number.isFinite(value)) {
                throw new Error(`set ${property}: ${value} is not a number`);
            }
            // Unlooped, the loop brace is the clip's start and end: setting it moves the markers.
            const key = obj.looping ? property : {loop_start: "start_marker", loop_end: "end_marker"}[property] ?? property;
            const previous = obj[key];
            obj[key] = value;
            if (obj.loop_end <= obj.loop_start || obj.end_marker <= obj.start_marker) {
                obj[key] = previous;
                throw new Error(`set ${property} ${value}: cannot be set at or behind its other end`);
            }
        } else if (obj.kind === "clip" && property === "looping") {
            obj.looping = value ? true : false;
        } else if (obj.kind === "clip" && property === "name") {
            obj.name = String(value);
        } else {
            throw new Error(`set: ${obj.kind} property ${property} cannot be set`);
        }
    }

    getcount(obj, child) {
        if (!obj) {
            throw new Error(`getcount ${child}: no object`);
        }
        if (obj.kind === "song" && child === "tracks") {
            return this.tracks.length;
        }
        if (obj.kind === "song" && child === "scenes") {
            return this.scenes.length;
        }
        if (obj.kind === "track" && child === "clip_slots") {
            return obj.slots.length;
        }
        if (obj.kind === "track" && child === "devices") {
            return obj.devices.length;
        }
        if (obj.kind === "track" && child === "arrangement_clips") {
            return obj.arrangement.length;
        }
        throw new Error(`getcount: ${obj.kind} has no list ${child}`);
    }

    notesJson(notes) {
        return JSON.stringify({notes: notes.map(clone)});
    }

    call(obj, name, args) {
        if (LIVE10_NOTE_API.has(name)) {
            this.violations.push(`the Live 10 note API (${name}) was used: on Live 12 it opens a modal dialog`);
            throw new Error(`${name}: Live 10 note API`);
        }
        if (!obj) {
            throw new Error(`call ${name}: no object`);
        }
        const key = `${obj.kind}.${name}`;
        switch (key) {
        case "song.create_scene": {
            const scene = {kind: "scene", oid: nextObjectId++};
            this.scenes.push(scene);
            for (const track of this.tracks) {
                track.slots.push({kind: "slot", oid: nextObjectId++, track, clip: null});
            }
            return [];
        }
        case "song.create_midi_track": {
            const index = args[0] === -1 || args[0] === undefined ? this.tracks.length : args[0];
            const track = this.makeTrack({name: `${this.tracks.length + 1}-MIDI`, devices: []}, index, this.scenes.length);
            this.tracks.splice(index, 0, track);
            return [];
        }
        case "slot.create_clip": {
            const length = args[0];
            if (obj.clip) {
                throw new Error("create_clip: the clip slot already has a clip");
            }
            if (!obj.track.midi) {
                throw new Error("create_clip: not a MIDI track");
            }
            if (!(length > 0)) {
                throw new Error(`create_clip: length ${length} must be positive`);
            }
            obj.clip = this.makeClip({length, name: ""}, obj);
            return [];
        }
        case "slot.duplicate_clip_to": {
            const target = args[0] === "id" ? this.resolve(`id ${args[1]}`) : null;
            if (!target || target.kind !== "slot") {
                throw new Error(`duplicate_clip_to: ${args.join(" ")} is not a clip slot`);
            }
            if (!obj.clip) {
                throw new Error("duplicate_clip_to: the source slot is empty");
            }
            const copy = clone({...obj.clip, slot: null, arrangementTrack: null, selected: []});
            target.clip = {
                ...copy, oid: nextObjectId++, slot: target, arrangementTrack: null, selected: new Set(),
                notes: obj.clip.notes.map((n) => ({...clone(n), note_id: this.nextNoteId++})),
            };
            return [];
        }
        case "clip.get_all_notes_extended":
            return this.notesJson(obj.notes);
        case "clip.get_notes_extended": {
            const [fromPitch, pitchSpan, fromTime, timeSpan] = args;
            return this.notesJson(obj.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan &&
                n.start_time >= fromTime && n.start_time < fromTime + timeSpan));
        }
        case "clip.get_selected_notes_extended":
            return this.notesJson(obj.notes.filter((n) => obj.selected.has(n.note_id)));
        case "clip.add_new_notes": {
            const dict = args[0];
            if (args.length !== 1 || !dict || !Array.isArray(dict.notes)) {
                throw new Error("add_new_notes takes one dictionary {notes: [...]}");
            }
            for (const note of dict.notes) {
                if (note.note_id !== undefined) {
                    throw new Error("add_new_notes: new notes get their ids from Live (no note_id)");
                }
            }
            const made = dict.notes.map((n) => this.makeNote(maxDict(n)));
            obj.notes.push(...made);
            return made.map((n) => n.note_id);
        }
        case "clip.remove_notes_by_id": {
            const ids = args.flat();
            for (const id of ids) {
                if (!obj.notes.some((n) => n.note_id === id)) {
                    throw new Error(`remove_notes_by_id: no note with id ${id}`);
                }
            }
            obj.notes = obj.notes.filter((n) => !ids.includes(n.note_id));
            return [];
        }
        case "clip.apply_note_modifications": {
            // Existing notes change in place and keep their ids; an unknown id is refused.
            const dict = args[0];
            if (args.length !== 1 || !dict || !Array.isArray(dict.notes)) {
                throw new Error("apply_note_modifications takes one dictionary {notes: [...]}");
            }
            const changed = dict.notes.map((change) => {
                const note = obj.notes.find((n) => n.note_id === change.note_id);
                if (!note) {
                    throw new Error(`apply_note_modifications: no note with id ${change.note_id} in this clip`);
                }
                for (const key of Object.keys(change)) {
                    if (key !== "note_id" && !MODIFIABLE.has(key)) {
                        throw new Error(`apply_note_modifications: unknown note field ${key}`);
                    }
                }
                const next = {...note, ...maxDict(change), note_id: note.note_id, mute: (change.mute ?? note.mute) ? 1 : 0};
                this.checkNoteValues(next, "apply_note_modifications");
                return [note, next];
            });
            for (const [note, next] of changed) {
                Object.assign(note, next);
            }
            return [];
        }
        default:
            throw new Error(`call: ${obj.kind} has no function ${name}`);
        }
    }
}

// A JavaScript object as a Max Dict holds it: numbers stay 64-bit doubles, true/false become
// 1/0, nothing is rounded.
function maxDict(value) {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
        out[key] = typeof item === "boolean" ? (item ? 1 : 0) : item;
    }
    return out;
}

module.exports = {FakeLive, NOTE_FIELDS};
