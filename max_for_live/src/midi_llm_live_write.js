// MIDI-LLM for Max for Live: writing a result into Live through LiveAPI (Live 11+).
//
// ES5 only (Max's classic [js] object). Adds to MidiLLMLive.Bridge (midi_llm_live.js, loaded
// first) the running of a write plan (core.planWrite): scenes, tracks and clips created, notes
// removed only by the ids core.removalPlan allows, new notes added, and every clip read back to
// check that no other note changed. remove_notes_by_id and add_new_notes go in batches, never one
// call per note, and never through the Live 10 note protocol (which opens a modal dialog on Live 12).

(function (core, live) {
    "use strict";

    var Bridge = live.Bridge;
    var num = live.num;
    var flag = live.flag;
    var REMOVE_BATCH = 256;
    var ADD_BATCH = 512;

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
}(MidiLLM, MidiLLMLive));
