// MIDI-LLM for Max for Live: reading Live through LiveAPI (Live 11+): the Bridge, the clip, its
// notes, the context of a request (song, track, clip, span sources) and whether it is still there.
//
// ES5 only (Max's classic [js] object). Everything that touches the Live Object Model is in this
// module and the two that add to its Bridge: midi_llm_live_arrangement.js (which Arrangement
// clip, the loop brace in it) and midi_llm_live_write.js (the writes). The tests run them against
// a scripted fake of LiveAPI (tests/m4l/fake_live.js).
//
// Reading uses the extended note API (get_all_notes_extended, or get_notes_extended over the
// whole clip on Live 11.0): every note with its id, velocity and mute, including the notes
// outside the loop and pitch 127; never the Live 10 note protocol (which opens a modal dialog on
// Live 12).

var MidiLLMLive = (function (core) {
    "use strict";

    var UserError = core.UserError;

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

    return {
        Bridge: Bridge,
        cleanPath: cleanPath,
        parseNotesReply: parseNotesReply,
        // for the modules that add to the Bridge
        num: num,
        str: str,
        flag: flag,
        exists: exists
    };
}(MidiLLM));
