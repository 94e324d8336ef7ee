// MIDI-LLM for Max for Live: the Arrangement View's clip of a request and the loop brace in it.
//
// ES5 only (Max's classic [js] object). Adds to MidiLLMLive.Bridge (midi_llm_live.js, loaded
// first): which of the track's arrangement clips a request is about, and the song's loop brace in
// that clip's own beats (an arrangement clip plays from its start marker and, looped, goes back to
// its loop start at its loop end).

(function (core, live) {
    "use strict";

    var Bridge = live.Bridge;
    var UserError = core.UserError;
    var num = live.num;
    var flag = live.flag;

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
}(MidiLLM, MidiLLMLive));
