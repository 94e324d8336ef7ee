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

    var GB = 1e9;

    // A model's short name for the status line: the last part of its id or folder, up to the first
    // "_" ("slseanwu/MIDI-LLM_Llama-3.2-1B" is "MIDI-LLM").
    function shortModel(model) {
        var name = String(model || "").replace(/[\\\/]+$/, "").split(/[\\\/]/).pop();
        return name.split("_")[0] || name || "the model";
    }

    function gigabytes(bytes) {
        return formatNumber(Number(bytes) / GB, 1);
    }

    // What the daemon is doing, from its pong (or info): ready, or why not yet.
    function daemonState(pong) {
        var model = shortModel(pong.model);
        var message = pong.message ? String(pong.message) : "";
        switch (pong.state) {
        case "ready":
            return "ready: " + String(pong.model || "").split("/").pop() + " on " + pong.device;
        case "downloading":
            if (Number(pong.bytesTotal) > 0) {
                return "downloading " + model + ": " + gigabytes(pong.bytesDone) + " of " + gigabytes(pong.bytesTotal) +
                    " GB";
            }
            return message || "downloading " + model + "...";
        case "loading":
            return "loading the model " + model + "...";
        case "warming_up":
            return "warming up the model " + model + "...";
        case "error":
            return "error: " + (message || "the daemon could not load the model (see its log)") +
                "; press Reload model to try again";
        case "shutting_down":
            return "the daemon is shutting down; press Start daemon to start it again";
        default:
            return "daemon state " + pong.state + (message ? ": " + message : "");
        }
    }

    var TEXT = {
        // canStart: a launcher runs, so Start daemon (or start automatically) can start it.
        notRunning: function (port, canStart) {
            return "daemon not running on port " + port + ": " + (canStart ? "press Start daemon, or " : "") +
                "start it with `make run` (or `midi-llm-bridge serve --port " + port + "`)";
        },
        protocolMismatch: function (theirs) {
            return "daemon speaks protocol " + theirs + ", this device " + PROTOCOL_VERSION +
                ": update the device or the daemon so that both speak the same protocol";
        },
        // The daemon has a secret (osc.secret) and refused this client's (none, or another one).
        unauthorized: function (port, sent) {
            return "the daemon on port " + port + (sent ? " refused the secret in Secret" : " needs its secret") +
                ": type the daemon's osc.secret into Secret (next to Daemon path), then press Check";
        },
        stoppedAnswering: function (port) {
            return "the daemon on port " + port + " stopped answering; is it still running?";
        },
        ready: daemonState,
        daemonState: daemonState,
        // Generate was pressed while the daemon starts or loads: the request goes when it is ready.
        waiting: function (what) {
            return "waiting for the daemon: " + what + " (the request goes when it is ready; Cancel stops waiting)";
        },
        starting: function (port) {
            return "starting the daemon on port " + port + "...";
        },
        startedElsewhere: function (port) {
            return "the daemon on port " + port + " is starting (another MIDI-LLM device or tool started it)...";
        },
        neverAnswered: function (port, log) {
            return "the daemon started on port " + port + " does not answer: see its log " + log +
                " (or start it yourself with `make run`)";
        },
        exited: function (code, line, log) {
            return "the daemon stopped as it started (exit " + code + ")" + (line ? ": " + line : "") + "; its log: " +
                log;
        },
        reloading: "reloading the model...",
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

    core.shortModel = shortModel;
    core.TEXT = TEXT;
}(MidiLLM));
