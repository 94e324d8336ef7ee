// MIDI-LLM as a Live 12 MIDI Tool: the base of the tools' pure logic (no Max, no Live): the
// constants, small helpers, reading live.miditool.in's dictionaries (notes and context: time
// selection, grid, scale), the grid and the scale as the daemon's options, and the spans.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). Uses the device's pure modules
// (MidiLLM: requests, replies, instruments). It defines the MidiLLMTool namespace; the other tool
// modules add to it: midi_llm_tool_answer.js (THE INVARIANT: what goes back to live.miditool.out),
// midi_llm_tool_fitting.js (the daemon's notes onto the selected ones), midi_llm_tool_request.js
// (the request and its result) and midi_llm_tool_status_text.js.
//
// The output contract (Live 12's MIDI Tools): the notes sent to live.miditool.out are an edit of
// the notes live.miditool.in gave the tool (by note_id: modified in place, added, removed). A
// Generator's output goes into the time selection (the clip's loop without one); when Live gives
// a Generator no notes, its output edits the notes that start in the time selection.

var MidiLLMTool = (function (core) {
    "use strict";

    var EPS = core.EPS;
    var DRUMS = core.DRUMS;
    var ONSET = 1e-3;            // notes starting closer than this (beats) share an onset
    var KINDS = ["generator", "transformation"];
    var MODES = ["keep rhythm", "keep pitches", "accompany"];
    var GRIDS = ["editor", "off", "1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"];
    var SCALES = ["editor", "off"];
    var ACCOMPANY_BELOW = 33;    // Electric Bass (finger), under the selection
    var ACCOMPANY_ABOVE = 48;    // String Ensemble 1, over a low selection
    var ACCOMPANY_RANGE = 24;    // semitones of the automatic accompaniment range
    var LOW_SELECTION = 36;      // a selection reaching below C1 gets its accompaniment above

    var UserError = core.UserError;

    // ----- small helpers ----------------------------------------------------------------

    function isArray(value) {
        return Object.prototype.toString.call(value) === "[object Array]";
    }

    // Max's dictionaries turn a one-element array into the element: undo that.
    function asArray(value) {
        if (value === undefined || value === null || value === "") {
            return [];
        }
        return isArray(value) ? value : [value];
    }

    function number(value, fallback) {
        if (value === undefined || value === null || value === "" || typeof value === "boolean") {
            return typeof value === "boolean" ? (value ? 1 : 0) : fallback;
        }
        var n = Number(value);
        return isFinite(n) ? n : fallback;
    }

    function mod12(value) {
        return ((Math.round(value) % 12) + 12) % 12;
    }

    function byStartThenPitch(a, b) {
        return a.start_time - b.start_time || a.pitch - b.pitch;
    }

    function sortNotes(notes) {
        return notes.slice().sort(byStartThenPitch);
    }

    function copyNote(note) {
        var out = {};
        for (var key in note) {
            if (Object.prototype.hasOwnProperty.call(note, key)) {
                out[key] = note[key];
            }
        }
        return out;
    }

    // ----- live.miditool.in's dictionaries ----------------------------------------------------

    // A note as live.miditool.in (or get_all_notes_extended) gives it, with every field there.
    function cleanNote(note) {
        var out = {
            pitch: core.clamp(Math.round(number(note.pitch, 60)), 0, 127),
            start_time: number(note.start_time, 0),
            duration: Math.max(number(note.duration, 0.25), 0),
            velocity: core.clamp(number(note.velocity, 100), 0, 127),
            mute: number(note.mute, 0) ? 1 : 0,
            probability: core.clamp(number(note.probability, 1), 0, 1),
            velocity_deviation: core.clamp(number(note.velocity_deviation, 0), -127, 127),
            release_velocity: core.clamp(number(note.release_velocity, 64), 0, 127)
        };
        if (note.note_id !== undefined && note.note_id !== null) {
            out.note_id = note.note_id;
        }
        return out;
    }

    // {notes: [...]} (the left outlet), or a plain list: the notes sorted by start, then pitch.
    function readNotes(value) {
        var list = value && !isArray(value) && typeof value === "object" ? asArray(value.notes) : asArray(value);
        var notes = [];
        for (var i = 0; i < list.length; i++) {
            if (list[i] && typeof list[i] === "object") {
                notes.push(cleanNote(list[i]));
            }
        }
        return sortNotes(notes);
    }

    // The middle outlet: {clip: {time_selection_start, time_selection_end, insert_marker_time,
    // first_note_start, last_note_end, lowest_pitch, highest_pitch}, scale: {scale_mode, root_note,
    // scale_intervals, scale_name}, grid: {interval, enabled}}; times in beats of the clip.
    function readContext(value) {
        var v = value && typeof value === "object" ? value : {};
        var clip = v.clip && typeof v.clip === "object" ? v.clip : {};
        var grid = v.grid && typeof v.grid === "object" ? v.grid : {};
        var scale = v.scale && typeof v.scale === "object" ? v.scale : {};
        var start = number(clip.time_selection_start, null);
        var end = number(clip.time_selection_end, null);
        var intervals = [];
        var listed = asArray(scale.scale_intervals);
        for (var i = 0; i < listed.length; i++) {
            if (number(listed[i], null) !== null) {
                intervals.push(Math.round(number(listed[i], 0)));
            }
        }
        return {
            selection: start !== null && end !== null && end > start + EPS ? {start: start, end: end} : null,
            insertMarker: number(clip.insert_marker_time, null),
            lowest: number(clip.lowest_pitch, null),
            highest: number(clip.highest_pitch, null),
            grid: {interval: number(grid.interval, 0), enabled: number(grid.enabled, 1) ? true : false},
            scale: {
                on: number(scale.scale_mode, 0) ? true : false,
                root: mod12(number(scale.root_note, 0)),
                intervals: intervals,
                name: String(scale.scale_name === undefined || scale.scale_name === null ? "" : scale.scale_name)
            }
        };
    }

    function sameSelection(a, b) {
        if (!a || !b) {
            return !a && !b;
        }
        return Math.abs(a.start - b.start) < EPS && Math.abs(a.end - b.end) < EPS;
    }

    // A note list's fingerprint (pitch, start, duration of the audible and muted notes), for
    // "are these still the notes the request was made from?".
    function signature(notes) {
        var keys = [];
        for (var i = 0; i < notes.length; i++) {
            keys.push(notes[i].pitch + "@" + core.round6(notes[i].start_time) + "+" + core.round6(notes[i].duration));
        }
        return keys.sort().join(" ");
    }

    // ----- grid and scale --------------------------------------------------------------------------

    // The request's grid: "editor" follows the clip editor's grid (off when the editor's grid is
    // off), the others are the daemon's names.
    function gridOption(setting, context) {
        if (setting !== "editor") {
            return setting || "off";
        }
        if (context.grid.enabled && context.grid.interval > EPS) {
            return core.round6(context.grid.interval);
        }
        return "off";
    }

    // The clip's scale when the editor's Scale Mode is on (and the Scale setting follows it), as a
    // table of 12 pitch classes; null = every pitch.
    function scaleOf(setting, context) {
        if (setting === "off" || !context.scale.on || !context.scale.intervals.length) {
            return null;
        }
        var classes = [];
        var count = 0;
        var c;
        for (c = 0; c < 12; c++) {
            classes.push(false);
        }
        for (var i = 0; i < context.scale.intervals.length; i++) {
            c = mod12(context.scale.root + context.scale.intervals[i]);
            if (!classes[c]) {
                classes[c] = true;
                count += 1;
            }
        }
        if (count === 12) {
            return null;
        }
        return {root: context.scale.root, classes: classes, name: context.scale.name};
    }

    function inScale(pitch, scale) {
        return !scale || scale.classes[mod12(pitch)];
    }

    // The scale as the daemon's pitch_class options (0-11, ascending); [] = every pitch. The daemon
    // samples new pitched notes only from these classes (drums are exempt) and refuses the request
    // (bad_request) when no pitch of the scale lies within lowest_pitch..highest_pitch.
    function scaleClasses(scale) {
        var out = [];
        for (var c = 0; scale && c < 12; c++) {
            if (scale.classes[c]) {
                out.push(c);
            }
        }
        return out;
    }

    // ----- spans ------------------------------------------------------------------------------------

    // Generator: the time selection; without one the clip's loop (read through LiveAPI).
    function generatorSpan(context, clipRegion) {
        if (context.selection) {
            return {start: core.round6(context.selection.start), end: core.round6(context.selection.end)};
        }
        if (clipRegion && clipRegion.end > clipRegion.start + EPS) {
            return {start: core.round6(clipRegion.start), end: core.round6(clipRegion.end)};
        }
        throw new UserError("select a time range in the clip (drag over the bars in the editor), then press Apply");
    }

    // Transformation: the time selection when every selected note starts inside it, else the
    // notes' range widened to whole beats.
    function transformSpan(context, notes) {
        var first = Infinity, last = -Infinity, end = -Infinity;
        for (var i = 0; i < notes.length; i++) {
            first = Math.min(first, notes[i].start_time);
            last = Math.max(last, notes[i].start_time);
            end = Math.max(end, notes[i].start_time + notes[i].duration);
        }
        var s = context.selection;
        if (s && first >= s.start - EPS && last < s.end - EPS) {
            return {start: core.round6(s.start), end: core.round6(s.end)};
        }
        var start = core.floorTo(first, 1);
        return {start: core.round6(start), end: core.round6(Math.max(core.ceilTo(end, 1), core.ceilTo(last + EPS, 1),
            start + 1))};
    }

    function startsIn(note, span) {
        return note.start_time >= span.start - EPS && note.start_time < span.end - EPS;
    }

    return {
        EPS: EPS,
        DRUMS: DRUMS,
        ONSET: ONSET,
        KINDS: KINDS,
        MODES: MODES,
        GRIDS: GRIDS,
        SCALES: SCALES,
        ACCOMPANY_BELOW: ACCOMPANY_BELOW,
        ACCOMPANY_ABOVE: ACCOMPANY_ABOVE,
        ACCOMPANY_RANGE: ACCOMPANY_RANGE,
        LOW_SELECTION: LOW_SELECTION,
        UserError: UserError,
        isArray: isArray,
        asArray: asArray,
        number: number,
        mod12: mod12,
        byStartThenPitch: byStartThenPitch,
        sortNotes: sortNotes,
        copyNote: copyNote,
        cleanNote: cleanNote,
        readNotes: readNotes,
        readContext: readContext,
        sameSelection: sameSelection,
        signature: signature,
        gridOption: gridOption,
        scaleOf: scaleOf,
        inScale: inScale,
        scaleClasses: scaleClasses,
        generatorSpan: generatorSpan,
        transformSpan: transformSpan,
        startsIn: startsIn
    };
}(MidiLLM));
