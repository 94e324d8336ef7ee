// MIDI-LLM for Max for Live: the write plan: the LiveAPI operations that put a result into the set
// (new clips and scenes, copies for variations, accompaniment onto other tracks), pure; the Live
// adapter (midi_llm_live.js) runs them and takes every removal from removalPlan.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLM namespace
// of midi_llm_core.js, which is loaded first.

(function (core) {
    "use strict";

    var round6 = core.round6;
    var clamp = core.clamp;
    var trackNameFor = core.trackNameFor;

    // ----- writing back -------------------------------------------------------------------------

    // A result note as Live's add_new_notes wants it (clip beats).
    function toLiveNote(note, origin) {
        return {
            pitch: clamp(Math.round(note.pitch), 0, 127),
            start_time: round6(note.start + origin),
            duration: Math.max(round6(note.duration), 1 / 128),
            velocity: clamp(note.velocity, 1, 127),
            mute: note.mute ? 1 : 0
        };
    }

    function toLiveNotes(notes, origin) {
        var out = [];
        for (var i = 0; i < notes.length; i++) {
            out.push(toLiveNote(notes[i], origin));
        }
        return out;
    }

    // The LiveAPI operations that put a result into the set, in order. Pure: the adapter
    // (midi_llm_live.js) executes them in one deferred task.
    // ctx: {mode, view ("session"|"arrangement"), track, scene, target ({exists, ref}),
    //       span, origin, slots (has_clip per scene of this track), sceneCount, trackCount,
    //       clipEnd (end of the target clip's region), accompanyTarget ("clip"|"tracks"),
    //       trackInstrument, otherTracks ([{index, instrument, slots}]), notes (every note of the
    //       clip when the request was sent), replaced (replacedNotes of them)}
    // Returns {ops, notes (new notes in all), clips, note (for the status line), empty (the
    // model wrote nothing: no op at all), skipped (empty variations left out)}.
    // Ops: create_scene, create_track {index, name}, create_clip {track, scene, length},
    //      duplicate_clip {track, from, to}, write_notes {clip, notes, replaced, before, span,
    //      copyOf (the ref of the clip this one is a fresh copy of, or null), target},
    //      extend_clip {clip, end}.
    function planWrite(ctx, result) {
        var ops = [];
        var span = ctx.span;
        var variations = result.variations;
        var plan = {ops: ops, notes: 0, clips: 0, note: "", empty: false, skipped: 0};
        // infill and generate rewrite the span of an existing clip; continue only adds, unless
        // the daemon says it replaced given notes (hidden ones after the clip's end). Accompany
        // only adds.
        var replace = ctx.mode === "infill" || ctx.mode === "generate" ||
            (ctx.mode === "continue" && result.removed > 0);
        var replaced = replace ? (ctx.replaced || []) : [];
        var before = ctx.notes || [];

        function writeOp(ref, liveNotes, copyOf) {
            plan.notes += liveNotes.length;
            plan.clips += 1;
            return {op: "write_notes", clip: ref, notes: liveNotes, replaced: copyOf || !ref.fresh ? replaced : [],
                before: before, span: span, copyOf: copyOf || null, target: !copyOf};
        }

        var nonEmpty = 0;
        for (var e = 0; e < variations.length; e++) {
            nonEmpty += variations[e].length ? 1 : 0;
        }
        if (!nonEmpty) {
            plan.empty = true;
            return plan;
        }
        plan.skipped = variations.length - nonEmpty;

        if (ctx.mode === "accompany" && ctx.accompanyTarget === "tracks" && ctx.view === "session") {
            planAccompanyTracks(ctx, variations[0], ops, plan);
            if (variations.length > 1) {
                plan.note = "only the first variation goes to other tracks";
            }
            return plan;
        }

        var targetLength = Math.max(span.end, ctx.clipEnd || 0);
        var first = toLiveNotes(variations[0], ctx.origin);
        var targetOps = [];
        if (first.length) {
            if (!ctx.target.exists) {
                targetOps.push({op: "create_clip", track: ctx.target.ref.track, scene: ctx.target.ref.scene,
                    length: targetLength});
                targetOps.push(writeOp({track: ctx.target.ref.track, scene: ctx.target.ref.scene, fresh: true}, first,
                    null));
            } else {
                targetOps.push(writeOp(ctx.target.ref, first, null));
            }
            if (ctx.mode === "continue") {
                targetOps.push({op: "extend_clip", clip: ctx.target.ref, end: span.end});
            }
        }
        if (variations.length > 1 && ctx.view !== "session") {
            plan.note = "variations 2-" + variations.length + " need Session View; only the first was written";
            plan.ops.push.apply(plan.ops, targetOps);
            return plan;
        }
        // Variations 2, 3... go into the next empty slots below the target on this track: copies
        // of the clip as it is before the target is written (so each copy holds the kept notes).
        var free = [];
        for (var s = ctx.scene + 1; s < ctx.sceneCount; s++) {
            if (!ctx.slots[s]) {
                free.push(s);
            }
        }
        var scenes = ctx.sceneCount;
        for (var v = 1; v < variations.length; v++) {
            var liveNotes = toLiveNotes(variations[v], ctx.origin);
            if (!liveNotes.length) {
                continue;
            }
            var scene;
            if (free.length) {
                scene = free.shift();
            } else {
                ops.push({op: "create_scene"});
                scene = scenes;
                scenes += 1;
            }
            if (ctx.target.exists) {
                ops.push({op: "duplicate_clip", track: ctx.track, from: ctx.scene, to: scene});
                ops.push(writeOp({track: ctx.track, scene: scene}, liveNotes, ctx.target.ref));
            } else {
                ops.push({op: "create_clip", track: ctx.track, scene: scene, length: targetLength});
                ops.push(writeOp({track: ctx.track, scene: scene, fresh: true}, liveNotes, null));
                ops[ops.length - 1].target = false;
            }
            if (ctx.mode === "continue") {
                ops.push({op: "extend_clip", clip: {track: ctx.track, scene: scene}, end: span.end});
            }
        }
        plan.ops.push.apply(plan.ops, targetOps);
        if (plan.skipped) {
            plan.note = plan.skipped + " of " + variations.length + " variations had no notes and were left out";
        }
        return plan;
    }

    // Accompaniment into clips on other tracks, one track per instrument: a MIDI track whose
    // name says the instrument, or a new one named "Electric Bass (finger) [33]". A clip already
    // on that track in this scene gets the new notes added: its own notes are never removed.
    function planAccompanyTracks(ctx, resultNotes, ops, plan) {
        var byInstrument = {};
        var order = [];
        for (var i = 0; i < resultNotes.length; i++) {
            var instrument = resultNotes[i].instrument;
            if (!byInstrument[instrument]) {
                byInstrument[instrument] = [];
                order.push(instrument);
            }
            byInstrument[instrument].push(resultNotes[i]);
        }
        order.sort(function (a, b) { return a - b; });
        var created = 0;
        var length = Math.max(ctx.span.end, ctx.clipEnd || 0);
        for (var k = 0; k < order.length; k++) {
            var found = null;
            for (var t = 0; t < ctx.otherTracks.length; t++) {
                if (ctx.otherTracks[t].instrument === order[k] && ctx.otherTracks[t].index !== ctx.track) {
                    found = ctx.otherTracks[t];
                    break;
                }
            }
            var liveNotes = toLiveNotes(byInstrument[order[k]], ctx.origin);
            var ref;
            if (found) {
                ref = {track: found.index, scene: ctx.scene};
            } else {
                ref = {track: ctx.trackCount + created, scene: ctx.scene};
                ops.push({op: "create_track", index: ref.track, name: trackNameFor(order[k])});
                created += 1;
            }
            if (!found || !found.slots[ctx.scene]) {
                ops.push({op: "create_clip", track: ref.track, scene: ref.scene, length: length});
            }
            ops.push({op: "write_notes", clip: ref, notes: liveNotes, replaced: [], before: [], span: ctx.span,
                copyOf: null, target: false});
            plan.notes += liveNotes.length;
            plan.clips += 1;
        }
    }

    core.toLiveNote = toLiveNote;
    core.toLiveNotes = toLiveNotes;
    core.planWrite = planWrite;
}(MidiLLM));
