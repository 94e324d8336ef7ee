// MIDI-LLM for Max for Live: what the status line says, in one place: the daemon found or not,
// its state while it starts and loads, the queue, the progress, errors and the summary of a write.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLM namespace
// of midi_llm_core.js, which is loaded first.

(function (core) {
    "use strict";

    var PROTOCOL_VERSION = core.PROTOCOL_VERSION;
    var clamp = core.clamp;
    var formatNumber = core.formatNumber;
    var describeMissing = core.describeMissing;

    var TEXT = {
        notRunning: function (port) {
            return "daemon not running on port " + port + ": start it with `make run` " +
                "(or `midi-llm-bridge serve --port " + port + "`)";
        },
        protocolMismatch: function (theirs) {
            return "daemon speaks protocol " + theirs + ", this device " + PROTOCOL_VERSION +
                ": update the device or the daemon so that both speak the same protocol";
        },
        stoppedAnswering: function (port) {
            return "the daemon on port " + port + " stopped answering; is it still running?";
        },
        ready: function (pong) {
            var model = String(pong.model || "").split("/").pop();
            if (pong.state === "loading") {
                return "daemon found, still loading the model " + model + "...";
            }
            return "ready: " + model + " on " + pong.device;
        },
        queued: function (position) {
            return position > 0 ? "queued: " + position + " request(s) ahead" : "queued: next";
        },
        progress: function (fraction, notes) {
            return "writing " + Math.round(clamp(fraction, 0, 1) * 100) + "% (" + notes + " notes)";
        },
        error: function (code, message) {
            if (code === "cancelled") {
                return "cancelled";
            }
            return "error (" + code + "): " + message;
        },
        lostChunks: function (pairs) {
            return "error: parts of the result never arrived (" + describeMissing(pairs) + "); try again";
        },
        empty: function (seed) {
            return "the model wrote no notes in the span: nothing changed; press Generate again (seed " + seed + ")";
        },
        keptUser: function (count) {
            return "kept " + count + (count === 1 ? " note" : " notes") + " you added or changed in the span while the " +
                "model wrote";
        },
        done: function (summary) {
            var text = "done: " + summary.notes + " notes";
            if (summary.variations > 1) {
                text += " in " + summary.variations + " variations";
            }
            var seconds = summary.seconds || 0;
            text += " in " + formatNumber(seconds, seconds < 10 ? 2 : 1) + " s, seed " + summary.seed;
            if (summary.note) {
                text += "; " + summary.note;
            }
            return text;
        }
    };

    core.TEXT = TEXT;
}(MidiLLM));
