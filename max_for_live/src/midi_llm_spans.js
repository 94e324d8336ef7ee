// MIDI-LLM for Max for Live: spans and coordinates: the clip's audible region, where a span starts
// and ends in clip beats (never before the start marker), the selected notes' range, and the
// origin that shifts a clip starting before beat 0 onto the protocol's positions.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLM namespace
// of midi_llm_core.js, which is loaded first.

(function (core) {
    "use strict";

    var EPS = core.EPS;
    var UserError = core.UserError;
    var floorTo = core.floorTo;
    var ceilTo = core.ceilTo;
    var round6 = core.round6;
    var formatNumber = core.formatNumber;

    // The clip's audible region in clip beats: the loop when it loops, else the markers.
    function clipRegion(clip) {
        if (!clip) {
            return null;
        }
        if (clip.looping) {
            return {start: clip.loopStart, end: clip.loopEnd};
        }
        return {start: clip.startMarker, end: clip.endMarker};
    }

    // Where a "Bars" span starts: the clip's region (its loop, or its markers), never before the
    // start marker. Bars are counted from there, in the clip's own beats: a span is never floored
    // to a bar line of the clip's ruler that lies before the clip's start.
    function barsStart(clip) {
        var region = clipRegion(clip);
        return Math.max(region.start, clip.startMarker);
    }

    // The span to write, in clip beats. p: {mode, kind, bars, bar, clip (null for an empty
    // slot), selection ({start, end} of the selected notes, or null), loop (the arrangement
    // loop brace in clip beats, or null)}. A span never starts before the region it was chosen
    // from: the clip's start marker (bars), the loop (clip loop), the selected notes widened to
    // whole beats but not past the start marker (selected notes).
    function computeSpan(p) {
        var bar = p.bar;
        var bars = Math.max(1, Math.round(p.bars || 4));
        var region = clipRegion(p.clip);
        var kind = p.kind || "bars";
        var start, end, length;
        if (p.mode !== "generate" && !p.clip) {
            throw new UserError(p.mode + " needs a clip: select a MIDI clip on this track");
        }
        if (kind === "selection" && !p.selection) {
            if (p.mode !== "generate" || p.clip) {
                throw new UserError("no notes are selected in the clip: select some notes, or choose the loop or bars " +
                    "as the span");
            }
            kind = "bars"; // an empty slot has nothing to select: a new clip of Bars bars
        }
        if (p.mode === "continue") {
            start = ceilTo(region.end, bar);
            if (kind === "loop") {
                length = region.end - region.start;
            } else if (kind === "selection") {
                length = ceilTo(p.selection.end, 1) - floorTo(p.selection.start, 1);
            } else {
                length = bars * bar;
            }
            end = start + Math.max(length, 1);
        } else if (kind === "selection") {
            var lowest = p.clip ? Math.min(p.selection.start, p.clip.startMarker) : p.selection.start;
            start = Math.max(floorTo(p.selection.start, 1), lowest);
            end = Math.max(ceilTo(p.selection.end, 1), start + 1);
        } else if (kind === "loop" && p.loop) {
            start = p.loop.start;
            end = p.loop.end;
        } else if (kind === "loop" && region) {
            start = region.start;
            end = region.end;
        } else {
            start = p.clip ? barsStart(p.clip) : 0;
            end = start + bars * bar;
        }
        if (!(end > start + EPS)) {
            throw new UserError("the span is empty (beat " + formatNumber(start) + " to " + formatNumber(end) + ")");
        }
        return {start: round6(start), end: round6(end)};
    }

    // Range of the selected notes, or null.
    function selectionRange(notes) {
        if (!notes || !notes.length) {
            return null;
        }
        var start = Infinity, end = -Infinity;
        for (var i = 0; i < notes.length; i++) {
            start = Math.min(start, notes[i].start_time);
            end = Math.max(end, notes[i].start_time + notes[i].duration);
        }
        return {start: start, end: end};
    }

    // Protocol positions start at 0: a clip whose notes (or span) start before beat 0 is
    // shifted by a whole number of bars, and shifted back on the way in.
    function computeOrigin(notes, span, bar) {
        var lowest = Math.min(0, span.start);
        for (var i = 0; i < notes.length; i++) {
            lowest = Math.min(lowest, notes[i].start_time);
        }
        return lowest < 0 ? floorTo(lowest, bar) : 0;
    }

    core.clipRegion = clipRegion;
    core.barsStart = barsStart;
    core.computeSpan = computeSpan;
    core.selectionRange = selectionRange;
    core.computeOrigin = computeOrigin;
}(MidiLLM));
