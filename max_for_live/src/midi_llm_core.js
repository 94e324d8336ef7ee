// MIDI-LLM for Max for Live: the base of the pure logic (no Max, no Live): the protocol's constants,
// the musician's error, small numeric helpers, and reading the daemon's replies (pong and info by
// field name, a job's replies, result assembly with the missing chunks for /midi-llm/resend).
//
// ES5 only: this file runs inside Max's classic [js] object (Max 8.5+, the
// one that can use LiveAPI) and, in the tests, inside node's vm. No let/const,
// arrow functions, classes, template strings or ES2015 library calls.
//
// It defines the MidiLLM namespace; the other pure modules add to it (instruments, spans, request,
// status text, kept notes, write plan), all per docs/protocol.md (protocol version 1).

var MidiLLM = (function () {
    "use strict";

    var PROTOCOL_VERSION = 1;
    var PREFIX = "/midi-llm";
    var NOTE_ATOMS = 7;
    var NOTES_PER_CHUNK = 32; // 3 + 7 x 32 = 227 atoms: under Max's 256
    var MAX_ATOMS = 256;
    var DRUMS = 128;
    var EPS = 1e-6;

    var MODES = ["generate", "continue", "infill", "accompany"];
    var SPANS = ["bars", "loop", "selection"];
    var GRIDS = ["off", "1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"];
    var TARGETS = ["clip", "tracks"];

    // ----- errors a musician reads ------------------------------------------------------

    function UserError(message) {
        this.name = "UserError";
        this.message = message;
    }
    UserError.prototype = Object.create(Error.prototype);
    UserError.prototype.constructor = UserError;

    // ----- small helpers ------------------------------------------------------------------

    function floorTo(value, step) {
        return Math.floor(value / step + 1e-9) * step;
    }

    function ceilTo(value, step) {
        return Math.ceil(value / step - 1e-9) * step;
    }

    function round6(value) {
        return Math.round(value * 1e6) / 1e6;
    }

    function clamp(value, low, high) {
        return value < low ? low : (value > high ? high : value);
    }

    function barBeats(numerator, denominator) {
        return numerator * 4 / denominator;
    }

    function formatNumber(value, digits) {
        var text = value.toFixed(digits === undefined ? 2 : digits);
        if (text.indexOf(".") >= 0) {
            text = text.replace(/0+$/, "").replace(/\.$/, "");
        }
        return text;
    }

    function sameId(a, b) {
        return String(a) === String(b);
    }

    // ----- replies --------------------------------------------------------------------------

    // The fields of the replies read by name, in the order of the daemon's one table
    // (bridge/protocol/replies.py; a test checks these lists against it). Within protocol 1 fields
    // are only added at the end, so an older daemon's reply lacks the last ones: they read as
    // undefined. bytes_done and bytes_total (a download's progress) are the newest.
    var REPLY_FIELDS = {
        pong: ["id", "protocol", "version", "state", "model", "device", "waiting", "running", "message",
            "bytes_done", "bytes_total"],
        info: ["id", "protocol", "version", "state", "model", "device", "dtype", "profile", "waiting", "running_id",
            "max_notes_in", "max_notes_out", "max_bars", "max_variations", "queue_length", "max_datagram_bytes",
            "load_seconds", "message", "bytes_done", "bytes_total"]
    };

    function camelCase(name) {
        return name.replace(/_([a-z])/g, function (whole, letter) { return letter.toUpperCase(); });
    }

    // A reply's fields by (camelCase) name: {id, protocol, ...}.
    function readFields(names, args) {
        var found = {};
        for (var i = 0; i < names.length; i++) {
            found[camelCase(names[i])] = args[i];
        }
        return found;
    }

    function parsePong(args) {
        return readFields(REPLY_FIELDS.pong, args);
    }

    function parseInfo(args) {
        return readFields(REPLY_FIELDS.info, args);
    }

    function atomsToNotes(atoms) {
        var notes = [];
        for (var i = 0; i + NOTE_ATOMS <= atoms.length; i += NOTE_ATOMS) {
            notes.push({
                pitch: atoms[i], start: atoms[i + 1], duration: atoms[i + 2], velocity: atoms[i + 3],
                mute: atoms[i + 4], instrument: atoms[i + 5], channel: atoms[i + 6]
            });
        }
        return notes;
    }

    // One request's replies, in: accepted, started, progress, result, warning, done, error.
    function Job(id, mode) {
        this.id = id;
        this.mode = mode;
        this.state = "sent";
        this.variations = {};
        this.done = null;
        this.warnings = [];
        this.error = null;
        this.resends = 0;
    }

    // Returns an event ({type: ...}) or null for a reply that changes nothing.
    Job.prototype.handle = function (address, args) {
        if (!args || !args.length || !sameId(args[0], this.id)) {
            return null;
        }
        switch (address) {
        case PREFIX + "/accepted":
            this.state = "queued";
            return {type: "accepted", position: args[1]};
        case PREFIX + "/started":
            this.state = "running";
            return {type: "started"};
        case PREFIX + "/progress":
            return {type: "progress", fraction: args[1], notes: args[2]};
        case PREFIX + "/note":
            return null; // only with stream 1, which this device does not ask for
        case PREFIX + "/result":
            this.addResult(args.slice(1));
            return this.done ? this.check() : null;
        case PREFIX + "/warning":
            this.warnings.push(String(args[1]));
            return {type: "warning", text: String(args[1])};
        case PREFIX + "/done":
            this.done = {
                variations: args[1], seed: args[2], seconds: args[3], removed: args[4],
                start: args[5], end: args[6]
            };
            return this.check();
        case PREFIX + "/error":
            this.state = "error";
            this.error = {code: String(args[1]), message: String(args[2]), details: args.slice(3)};
            return {type: "error", code: this.error.code, message: this.error.message, details: this.error.details};
        default:
            return null;
        }
    };

    // variation chunk chunks count note...
    Job.prototype.addResult = function (args) {
        var variation = args[0], chunk = args[1], chunks = args[2], count = args[3];
        var entry = this.variations[variation];
        if (!entry || entry.chunks !== chunks) {
            entry = this.variations[variation] = {chunks: chunks, count: count, got: {}};
        }
        entry.got[chunk] = atomsToNotes(args.slice(4));
    };

    // (variation, chunk) pairs still missing; chunk -1 = nothing of that variation came.
    Job.prototype.missing = function () {
        var found = [];
        if (!this.done) {
            return found;
        }
        for (var v = 0; v < this.done.variations; v++) {
            var entry = this.variations[v];
            if (!entry) {
                found.push([v, -1]);
                continue;
            }
            for (var c = 0; c < entry.chunks; c++) {
                if (!entry.got[c]) {
                    found.push([v, c]);
                }
            }
        }
        return found;
    };

    Job.prototype.notesOf = function (variation) {
        var entry = this.variations[variation];
        var notes = [];
        for (var c = 0; c < entry.chunks; c++) {
            notes = notes.concat(entry.got[c]);
        }
        return notes;
    };

    Job.prototype.check = function () {
        var missing = this.missing();
        if (missing.length) {
            return {type: "incomplete", missing: missing};
        }
        var variations = [];
        for (var v = 0; v < this.done.variations; v++) {
            var notes = this.notesOf(v);
            if (notes.length !== this.variations[v].count) {
                delete this.variations[v];
                return {type: "incomplete", missing: [[v, -1]]};
            }
            variations.push(notes);
        }
        this.state = "complete";
        return {
            type: "complete",
            result: {
                variations: variations, seed: this.done.seed, seconds: this.done.seconds,
                removed: this.done.removed, start: this.done.start, end: this.done.end,
                warnings: this.warnings.slice()
            }
        };
    };

    function describeMissing(pairs) {
        var parts = [];
        for (var i = 0; i < pairs.length && i < 6; i++) {
            parts.push(pairs[i][1] < 0 ? "variation " + (pairs[i][0] + 1) :
                "variation " + (pairs[i][0] + 1) + " chunk " + pairs[i][1]);
        }
        if (pairs.length > 6) {
            parts.push("and " + (pairs.length - 6) + " more");
        }
        return parts.join(", ");
    }

    return {
        PROTOCOL_VERSION: PROTOCOL_VERSION,
        PREFIX: PREFIX,
        NOTE_ATOMS: NOTE_ATOMS,
        NOTES_PER_CHUNK: NOTES_PER_CHUNK,
        MAX_ATOMS: MAX_ATOMS,
        DRUMS: DRUMS,
        EPS: EPS,
        MODES: MODES,
        SPANS: SPANS,
        GRIDS: GRIDS,
        TARGETS: TARGETS,
        UserError: UserError,
        floorTo: floorTo,
        ceilTo: ceilTo,
        round6: round6,
        clamp: clamp,
        barBeats: barBeats,
        formatNumber: formatNumber,
        sameId: sameId,
        REPLY_FIELDS: REPLY_FIELDS,
        readFields: readFields,
        parsePong: parsePong,
        parseInfo: parseInfo,
        atomsToNotes: atomsToNotes,
        Job: Job,
        describeMissing: describeMissing
    };
}());
