// MIDI-LLM for Max for Live: reading and writing Live through LiveAPI (Live 11+).
//
// ES5 only (Max's classic [js] object). Everything that touches the Live Object Model is
// here; the tests run it against a scripted fake of LiveAPI (tests/m4l/fake_live.js).
//
// Reading uses the extended note API (get_all_notes_extended, or get_notes_extended over the
// whole clip on Live 11.0): every note with its id, velocity and mute, including the notes
// outside the loop and pitch 127. Writing uses remove_notes_by_id and add_new_notes in
// batches, never one call per note, and never the Live 10 note protocol (which opens a modal
// dialog on Live 12).

var MidiLLMLive = (function (core) {
    "use strict";

    var UserError = core.UserError;
    var REMOVE_BATCH = 256;
    var ADD_BATCH = 512;

    function cleanPath(path) {
        return String(path === undefined || path === null ? "" : path).replace(/"/g, "").replace(/^\s+|\s+$/g, "");
    }

    function asList(value) {
        if (value === undefined || value === null) {
            return [];
        }
        if (typeof value === "string" || typeof value === "number") {
            return [value];
        }
        return value;
    }

    function num(api, property) {
        return Number(asList(api.get(property))[0]);
    }

    function str(api, property) {
        return asList(api.get(property)).join(" ");
    }

    function flag(api, property) {
        return num(api, property) ? true : false;
    }

    function exists(api) {
        return api && api.id !== undefined && String(api.id) !== "0";
    }

    // get_*_notes_extended answer a JSON string in JS ({"notes": [...]}).
    function parseNotesReply(raw) {
        var value = raw;
        if (value === undefined || value === null) {
            return null;
        }
        if (typeof value === "object" && typeof value.length === "number") {
            if (!value.length) {
                return null;
            }
            value = value.length === 1 ? value[0] : value.join(" ");
        }
        if (typeof value === "string") {
            try {
                value = JSON.parse(value);
            } catch (error) {
                return null;
            }
        }
        if (value && value.notes && typeof value.notes.length === "number") {
            return value.notes;
        }
        return null;
    }

    function Bridge(Api) {
        this.Api = Api;
    }

    Bridge.prototype.obj = function (path) {
        return new this.Api(path);
    };

    Bridge.prototype.call = function (api, args) {
        try {
            return api.call.apply(api, args);
        } catch (error) {
            return null;
        }
    };

    Bridge.prototype.clipPath = function (ref) {
        if (ref.arrangement !== undefined) {
            return "live_set tracks " + ref.track + " arrangement_clips " + ref.arrangement;
        }
        return "live_set tracks " + ref.track + " clip_slots " + ref.scene + " clip";
    };

    Bridge.prototype.slotPath = function (track, scene) {
        return "live_set tracks " + track + " clip_slots " + scene;
    };

    Bridge.prototype.readClip = function (path) {
        var clip = this.obj(path);
        if (!exists(clip)) {
            throw new UserError("the clip is gone (" + path + ")");
        }
        if (!flag(clip, "is_midi_clip")) {
            throw new UserError("the selected clip is an audio clip: select a MIDI clip");
        }
        var info = {
            path: path,
            name: str(clip, "name"),
            length: num(clip, "length"),
            looping: flag(clip, "looping"),
            loopStart: num(clip, "loop_start"),
            loopEnd: num(clip, "loop_end"),
            startMarker: num(clip, "start_marker"),
            endMarker: num(clip, "end_marker")
        };
        if (path.indexOf("arrangement_clips") >= 0) {
            info.startTime = num(clip, "start_time");
            info.endTime = num(clip, "end_time");
        }
        return info;
    };

    // Every note of the clip, wherever it lies (outside the loop and markers too).
    Bridge.prototype.readNotes = function (path) {
        var clip = this.obj(path);
        var notes = parseNotesReply(this.call(clip, ["get_all_notes_extended"]));
        if (notes) {
            return notes;
        }
        // Live 11.0 has no get_all_notes_extended: ask for the region plus a clip length on
        // each side, every pitch (0 + 128 includes 127).
        var length = num(clip, "length");
        var from = Math.min(num(clip, "start_marker"), num(clip, "loop_start"), 0) - length;
        var to = Math.max(num(clip, "end_marker"), num(clip, "loop_end")) + length;
        notes = parseNotesReply(this.call(clip, ["get_notes_extended", 0, 128, from, to - from]));
        if (!notes) {
            throw new UserError("cannot read the clip's notes: this device needs Live 11 or later");
        }
        return notes;
    };

    Bridge.prototype.readSelectedNotes = function (path) {
        return parseNotesReply(this.call(this.obj(path), ["get_selected_notes_extended"])) || [];
    };

    Bridge.prototype.sceneCount = function () {
        return this.obj("live_set").getcount("scenes");
    };

    // Where the device sits and what it should read: the Live state for one request.
    Bridge.prototype.readContext = function (options) {
        var device = this.obj("this_device");
        var found = /^live_set tracks (\d+)/.exec(cleanPath(device.path));
        if (!found) {
            throw new UserError("put MIDI-LLM on a MIDI track (not on a return or the main track)");
        }
        var track = parseInt(found[1], 10);
        var song = this.obj("live_set");
        var trackApi = this.obj("live_set tracks " + track);
        var ctx = {
            track: track,
            trackName: str(trackApi, "name"),
            tempo: num(song, "tempo"),
            numerator: num(song, "signature_numerator"),
            denominator: num(song, "signature_denominator"),
            trackCount: song.getcount("tracks"),
            sceneCount: song.getcount("scenes"),
            clip: null,
            notes: [],
            selection: null,
            loop: null
        };
        var classes = [];
        var deviceCount = trackApi.getcount("devices");
        for (var d = 0; d < deviceCount; d++) {
            classes.push(str(this.obj("live_set tracks " + track + " devices " + d), "class_name"));
        }
        ctx.trackInstrument = core.trackInstrument(ctx.trackName, classes);
        var focused = str(this.obj("live_app view"), "focused_document_view");
        ctx.view = focused === "Arranger" ? "arrangement" : "session";

        var detail = this.obj("live_set view detail_clip");
        var detailPath = exists(detail) ? cleanPath(detail.path) : "";
        var path;
        if (ctx.view === "session") {
            var scene = -1;
            var inSlot = /^live_set tracks (\d+) clip_slots (\d+) clip$/.exec(detailPath);
            if (inSlot && parseInt(inSlot[1], 10) === track) {
                scene = parseInt(inSlot[2], 10);
            } else {
                var selected = /scenes (\d+)/.exec(cleanPath(this.obj("live_set view selected_scene").path));
                scene = selected ? parseInt(selected[1], 10) : 0;
            }
            ctx.scene = scene;
            ctx.slots = [];
            for (var s = 0; s < ctx.sceneCount; s++) {
                ctx.slots.push(flag(this.obj(this.slotPath(track, s)), "has_clip"));
            }
            ctx.target = {ref: {track: track, scene: scene}, exists: ctx.slots[scene] ? true : false};
            path = this.clipPath(ctx.target.ref);
            if (options && options.needsOtherTracks) {
                ctx.otherTracks = this.readOtherTracks(track, scene, ctx.trackCount);
            }
        } else {
            var arrangement = this.findArrangementClip(track, detailPath, song);
            ctx.scene = 0;
            ctx.slots = [];
            ctx.target = {ref: {track: track, arrangement: arrangement}, exists: true};
            path = this.clipPath(ctx.target.ref);
        }
        ctx.ids = {track: String(trackApi.id), clip: null, slot: null};
        if (ctx.view === "session") {
            ctx.ids.slot = String(this.obj(this.slotPath(track, ctx.scene)).id);
        }
        if (ctx.target.exists) {
            ctx.ids.clip = String(this.obj(path).id);
            ctx.clip = this.readClip(path);
            ctx.notes = this.readNotes(path);
            if (path === detailPath) {
                ctx.selection = core.selectionRange(this.readSelectedNotes(path));
            }
            if (ctx.view === "arrangement") {
                ctx.loop = this.loopBraceInClip(ctx.clip, song);
            }
        }
        return ctx;
    };

    // Arrangement: the detail clip if it is one of this track's arrangement clips, else the
    // track's clip under the loop brace, else the one under the play position.
    Bridge.prototype.findArrangementClip = function (track, detailPath, song) {
        var own = /^live_set tracks (\d+) arrangement_clips (\d+)$/.exec(detailPath);
        if (own && parseInt(own[1], 10) === track) {
            return parseInt(own[2], 10);
        }
        var trackApi = this.obj("live_set tracks " + track);
        var count = trackApi.getcount("arrangement_clips");
        var marks = [num(song, "loop_start"), num(song, "current_song_time")];
        for (var m = 0; m < marks.length; m++) {
            for (var k = 0; k < count; k++) {
                var clip = this.obj("live_set tracks " + track + " arrangement_clips " + k);
                if (num(clip, "start_time") <= marks[m] && marks[m] < num(clip, "end_time") &&
                        flag(clip, "is_midi_clip")) {
                    return k;
                }
            }
        }
        throw new UserError("no MIDI clip of this track under the loop brace: select a clip in the Arrangement " +
            "(or switch to Session View)");
    };

    // The song's loop brace in the clip's beats, cut to the clip, or null. An arrangement clip
    // plays from its start marker; a looped one goes back to its loop start at its loop end.
    // A brace over more than one pass of the loop is the whole loop; one that crosses the loop
    // end is cut there.
    Bridge.prototype.loopBraceInClip = function (clip, song) {
        var from = Math.max(num(song, "loop_start"), clip.startTime);
        var to = Math.min(num(song, "loop_start") + num(song, "loop_length"), clip.endTime);
        if (!(to > from + core.EPS)) {
            return null;
        }
        var at = clip.startMarker + (from - clip.startTime);
        var length = to - from;
        if (!clip.looping) {
            var end = Math.min(at + length, clip.endMarker);
            return end > at + core.EPS ? {start: at, end: end} : null;
        }
        var loop = clip.loopEnd - clip.loopStart;
        if (at >= clip.loopEnd - core.EPS) {
            at = clip.loopStart + ((at - clip.loopEnd) % loop);
        }
        if (length >= loop - core.EPS && at >= clip.loopStart - core.EPS) {
            return {start: clip.loopStart, end: clip.loopEnd};
        }
        var stop = Math.min(at + length, clip.loopEnd);
        return stop > at + core.EPS ? {start: at, end: stop} : null;
    };

    // Other MIDI tracks, with the instrument their name says, for accompaniment.
    Bridge.prototype.readOtherTracks = function (track, scene, trackCount) {
        var others = [];
        for (var t = 0; t < trackCount; t++) {
            if (t === track) {
                continue;
            }
            var api = this.obj("live_set tracks " + t);
            if (!flag(api, "has_midi_input")) {
                continue;
            }
            var slots = {};
            slots[scene] = flag(this.obj(this.slotPath(t, scene)), "has_clip");
            others.push({index: t, instrument: core.instrumentFromTrackName(str(api, "name")), slots: slots});
        }
        return others;
    };

    // Is the target where it was when the request was sent? Tracks and scenes may have been
    // moved, added or deleted while the model was writing; then nothing is written.
    Bridge.prototype.unchanged = function (ctx) {
        if (String(this.obj("live_set tracks " + ctx.track).id) !== ctx.ids.track) {
            return false;
        }
        if (ctx.ids.slot !== null && String(this.obj(this.slotPath(ctx.track, ctx.scene)).id) !== ctx.ids.slot) {
            return false;
        }
        var clip = this.obj(this.clipPath(ctx.target.ref));
        return ctx.ids.clip === null ? !exists(clip) : String(clip.id) === ctx.ids.clip;
    };

    // The only place that removes notes: ids from core.removalPlan (or their copies), by id.
    Bridge.prototype.removeIds = function (clip, ids) {
        for (var i = 0; i < ids.length; i += REMOVE_BATCH) {
            clip.call.apply(clip, ["remove_notes_by_id"].concat(ids.slice(i, i + REMOVE_BATCH)));
        }
    };

    Bridge.prototype.addNotes = function (clip, notes) {
        for (var i = 0; i < notes.length; i += ADD_BATCH) {
            clip.call("add_new_notes", {notes: notes.slice(i, i + ADD_BATCH)});
        }
    };

    // One write_notes op (core.planWrite): remove what core.removalPlan allows, add the new notes,
    // then read the clip again and check that every other note is exactly as it was.
    Bridge.prototype.writeNotes = function (op, summary) {
        var path = this.clipPath(op.clip);
        var clip = this.obj(path);
        var current = this.readNotes(path);
        var ids = [];
        if (op.replaced.length && op.copyOf) {
            // A fresh copy of the target (not written yet): its copies of the target's removable notes.
            var source = core.removalPlan(op.replaced, op.before, this.readNotes(this.clipPath(op.copyOf)), op.span);
            ids = core.matchCopies(source.notes, current);
        } else if (op.replaced.length) {
            var plan = core.removalPlan(op.replaced, op.before, current, op.span);
            ids = plan.ids;
            summary.kept += plan.kept;
            summary.gone += plan.gone;
        }
        this.removeIds(clip, ids);
        this.addNotes(clip, op.notes);
        var after = this.readNotes(path);
        var broken = core.checkKept(current, after, ids);
        var expected = current.length - ids.length + op.notes.length;
        if (broken.length || after.length !== expected) {
            summary.broken.push(path + ": " + broken.length + " kept notes changed, " + after.length + " notes where " +
                expected + " were expected");
        }
        summary.removed += ids.length;
        summary.added += op.notes.length;
        if (op.target) {
            summary.target = {path: path, removed: ids.length, added: op.notes.length};
        }
    };

    // Run a plan from core.planWrite. Call it from one deferred task (never from an observer
    // callback): Live then records the whole write together.
    // Returns {added, removed, clips, tracks, kept (the user's notes in the span kept), gone,
    // target ({path, removed, added} of the clip the request was about, or null), broken
    // (descriptions of clips whose kept notes changed: empty unless Live misbehaved)}.
    Bridge.prototype.execute = function (ops) {
        var summary = {added: 0, removed: 0, clips: 0, tracks: 0, kept: 0, gone: 0, target: null, broken: []};
        for (var i = 0; i < ops.length; i++) {
            var op = ops[i];
            var clip;
            switch (op.op) {
            case "create_scene":
                this.obj("live_set").call("create_scene", -1);
                break;
            case "create_track":
                this.obj("live_set").call("create_midi_track", -1);
                this.obj("live_set tracks " + op.index).set("name", op.name);
                summary.tracks += 1;
                break;
            case "create_clip":
                this.obj(this.slotPath(op.track, op.scene)).call("create_clip", op.length);
                summary.clips += 1;
                break;
            case "duplicate_clip":
                var target = this.obj(this.slotPath(op.track, op.to));
                this.obj(this.slotPath(op.track, op.from)).call("duplicate_clip_to", "id", parseInt(target.id, 10));
                summary.clips += 1;
                break;
            case "write_notes":
                this.writeNotes(op, summary);
                break;
            case "extend_clip":
                clip = this.obj(this.clipPath(op.clip));
                if (flag(clip, "looping") && num(clip, "loop_end") < op.end) {
                    clip.set("loop_end", op.end);
                }
                if (num(clip, "end_marker") < op.end) {
                    clip.set("end_marker", op.end);
                }
                break;
            default:
                throw new Error("unknown operation " + op.op);
            }
        }
        return summary;
    };

    return {
        Bridge: Bridge,
        cleanPath: cleanPath,
        parseNotesReply: parseNotesReply
    };
}(MidiLLM));
