// MIDI-LLM for Max for Live: the pure logic (no Max, no Live).
//
// ES5 only: this file runs inside Max's classic [js] object (Max 8.5+, the
// one that can use LiveAPI) and, in the tests, inside node's vm. No let/const,
// arrow functions, classes, template strings or ES2015 library calls.
//
// Everything here follows docs/protocol.md (protocol version 1): building the
// request and its /midi-llm/notes chunks, reading the replies, assembling the
// /midi-llm/result chunks (and naming the missing ones for /midi-llm/resend),
// computing the span, and planning the writes back into Live.

var MidiLLM = (function () {
    "use strict";

    var PROTOCOL_VERSION = 1;
    var PREFIX = "/midi-llm";
    var NOTE_ATOMS = 7;
    var NOTES_PER_CHUNK = 32; // 3 + 7 x 32 = 227 atoms: under Max's 256
    var MAX_ATOMS = 256;
    var MAX_PROMPT = 2000;
    var DRUMS = 128;
    var EPS = 1e-6;

    var MODES = ["generate", "continue", "infill", "accompany"];
    var SPANS = ["bars", "loop", "selection"];
    var GRIDS = ["off", "1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"];
    var TARGETS = ["clip", "tracks"];

    var GM_NAMES = [
        "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
        "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
        "Celesta", "Glockenspiel", "Music Box", "Vibraphone",
        "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
        "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
        "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
        "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
        "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
        "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
        "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
        "Violin", "Viola", "Cello", "Contrabass",
        "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
        "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
        "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
        "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
        "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
        "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax",
        "Oboe", "English Horn", "Bassoon", "Clarinet",
        "Piccolo", "Flute", "Recorder", "Pan Flute",
        "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
        "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
        "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
        "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
        "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
        "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
        "FX 5 (brightness)", "FX 6 (goblin)", "FX 7 (echoes)", "FX 8 (sci-fi)",
        "Sitar", "Banjo", "Shamisen", "Koto",
        "Kalimba", "Bagpipe", "Fiddle", "Shanai",
        "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock",
        "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
        "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
        "Telephone Ring", "Helicopter", "Applause", "Gunshot"
    ];

    // Words a producer puts in a track name (same table as bridge/amt/gm.py).
    var NAME_HINTS = [
        ["drum", DRUMS], ["kit", DRUMS], ["perc", DRUMS], ["beat", DRUMS], ["808", DRUMS],
        ["bass", 33], ["piano", 0], ["keys", 4], ["rhodes", 4], ["organ", 16], ["guitar", 25],
        ["gtr", 25], ["string", 48], ["violin", 40], ["cello", 42], ["choir", 52], ["vox", 52],
        ["trumpet", 56], ["brass", 61], ["horn", 60], ["sax", 65], ["flute", 73], ["clarinet", 71],
        ["pad", 89], ["lead", 81], ["synth", 81], ["bell", 14], ["harp", 46], ["marimba", 12]
    ];

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

    // ----- instruments --------------------------------------------------------------------

    function instrumentName(instrument) {
        if (instrument === DRUMS) {
            return "Drums";
        }
        if (instrument >= 0 && instrument < 128) {
            return GM_NAMES[instrument];
        }
        return "instrument " + instrument;
    }

    // A GM program in brackets wins ("Lead [81]", "[128]" = drums); else a word such as
    // "Bass" or "Drums"; else null. Same rules as bridge.amt.gm.instrument_from_track_name.
    function instrumentFromTrackName(name) {
        var text = String(name === undefined || name === null ? "" : name);
        var bracket = /\[(\d{1,3})\]/.exec(text);
        if (bracket) {
            var number = parseInt(bracket[1], 10);
            if (number >= 0 && number <= DRUMS) {
                return number;
            }
        }
        var lowered = text.toLowerCase();
        for (var i = 0; i < NAME_HINTS.length; i++) {
            if (lowered.indexOf(NAME_HINTS[i][0]) >= 0) {
                return NAME_HINTS[i][1];
            }
        }
        return null;
    }

    // What the track plays: the name's bracket, a Drum Rack on the track, a word in the name.
    function trackInstrument(name, deviceClasses) {
        var text = String(name === undefined || name === null ? "" : name);
        var bracket = /\[(\d{1,3})\]/.exec(text);
        if (bracket && parseInt(bracket[1], 10) <= DRUMS) {
            return parseInt(bracket[1], 10);
        }
        var classes = deviceClasses || [];
        for (var i = 0; i < classes.length; i++) {
            if (classes[i] === "DrumGroupDevice") {
                return DRUMS;
            }
        }
        return instrumentFromTrackName(text);
    }

    function trackNameFor(instrument) {
        return instrumentName(instrument) + " [" + instrument + "]";
    }

    // ----- spans ---------------------------------------------------------------------------

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

    // ----- requests -------------------------------------------------------------------------

    function noteAtoms(note, instrument, origin) {
        return [
            clamp(Math.round(note.pitch), 0, 127),
            Math.max(0, round6(note.start_time - origin)),
            Math.max(0, round6(note.duration)),
            clamp(note.velocity === undefined ? 100 : note.velocity, 0, 127),
            note.mute ? 1 : 0,
            instrument,
            -1
        ];
    }

    function notesPerChunk(maxDatagramBytes) {
        // One note costs 7 type tags + 7 x 4 bytes; keep 96 bytes for the address and header.
        var fit = NOTES_PER_CHUNK;
        if (maxDatagramBytes) {
            fit = Math.floor((maxDatagramBytes - 96) / (NOTE_ATOMS * 5));
        }
        return clamp(Math.min(fit, NOTES_PER_CHUNK, Math.floor((MAX_ATOMS - 3) / NOTE_ATOMS)), 1, NOTES_PER_CHUNK);
    }

    // /midi-llm/notes messages: id chunk chunks note... (at most perChunk notes each).
    function chunkNotes(id, atomsList, perChunk) {
        var per = perChunk || NOTES_PER_CHUNK;
        var count = Math.ceil(atomsList.length / per);
        var messages = [];
        for (var c = 0; c < count; c++) {
            var message = [PREFIX + "/notes", id, c, count];
            var group = atomsList.slice(c * per, (c + 1) * per);
            for (var n = 0; n < group.length; n++) {
                message.push.apply(message, group[n]);
            }
            messages.push(message);
        }
        return messages;
    }

    // Every message of a request: the header, then the note chunks.
    // p: {id, replyPort, mode, prompt, tempo, numerator, denominator, span, origin, variations,
    //     seed, grid (text such as "1/16", or a step in beats), temperature, topP, instruments, given,
    //     lowestPitch, highestPitch, keepRhythm, keepPitches, pitchClasses, notes, instrument (of the notes), perChunk,
    //     secret}
    function buildRequest(p) {
        if (MODES.indexOf(p.mode) < 0) {
            throw new UserError("unknown mode " + p.mode);
        }
        var notes = p.notes || [];
        var origin = p.origin || 0;
        var header = [PREFIX + "/" + p.mode, p.id, p.replyPort];
        var prompt = String(p.prompt || "").replace(/^\s+|\s+$/g, "");
        if (prompt) {
            header.push("prompt", prompt.slice(0, MAX_PROMPT));
        }
        if (notes.length) {
            header.push("notes", notes.length);
        }
        header.push("units", "beats", "tempo", p.tempo, "time_sig", p.numerator + "/" + p.denominator);
        header.push("start", round6(p.span.start - origin), "end", round6(p.span.end - origin));
        header.push("variations", p.variations || 1);
        if (p.seed) {
            header.push("seed", p.seed);
        }
        header.push("grid", p.grid || "off");
        if (p.temperature !== undefined && p.temperature !== null) {
            header.push("temperature", p.temperature);
        }
        if (p.topP !== undefined && p.topP !== null) {
            header.push("top_p", p.topP);
        }
        var i;
        for (i = 0; p.instruments && i < p.instruments.length; i++) {
            header.push("instrument", p.instruments[i]);
        }
        for (i = 0; p.given && i < p.given.length; i++) {
            header.push("given", p.given[i]);
        }
        // The pitch range of new notes, only when it is narrower than 0..127.
        if (p.lowestPitch !== undefined && p.lowestPitch !== null && p.lowestPitch > 0) {
            header.push("lowest_pitch", clamp(Math.round(p.lowestPitch), 0, 127));
        }
        if (p.highestPitch !== undefined && p.highestPitch !== null && p.highestPitch < 127) {
            header.push("highest_pitch", clamp(Math.round(p.highestPitch), 0, 127));
        }
        // Infill on the rhythm of the replaced notes: the model writes only pitches (and instruments).
        if (p.keepRhythm) {
            header.push("keep_rhythm", 1);
        }
        // Infill on the pitches of the replaced notes (chords kept): the model writes only the rhythm.
        if (p.keepPitches) {
            header.push("keep_pitches", 1);
        }
        // The scale new pitched notes are sampled from, as pitch classes 0-11 (drums are exempt).
        for (i = 0; p.pitchClasses && i < p.pitchClasses.length; i++) {
            header.push("pitch_class", ((Math.round(p.pitchClasses[i]) % 12) + 12) % 12);
        }
        header.push("whole", 0, "stream", 0);
        if (p.secret) {
            header.push("secret", p.secret);
        }
        var atoms = [];
        for (i = 0; i < notes.length; i++) {
            atoms.push(noteAtoms(notes[i], p.instrument, origin));
        }
        return [header].concat(chunkNotes(p.id, atoms, p.perChunk));
    }

    function pingMessage(id, replyPort) {
        return [PREFIX + "/ping", id, replyPort];
    }

    function statusMessage(id, replyPort) {
        return [PREFIX + "/status", id, replyPort];
    }

    function cancelMessage(id, replyPort, target) {
        return [PREFIX + "/cancel", id, replyPort, target];
    }

    // /midi-llm/resend messages for (variation, chunk) pairs, each under 256 atoms.
    function resendMessages(id, replyPort, pairs) {
        var messages = [];
        var per = Math.floor((MAX_ATOMS - 3) / 2);
        for (var i = 0; i < pairs.length; i += per) {
            var message = [PREFIX + "/resend", id, replyPort];
            var group = pairs.slice(i, i + per);
            for (var j = 0; j < group.length; j++) {
                message.push(group[j][0], group[j][1]);
            }
            messages.push(message);
        }
        return messages;
    }

    // ----- replies --------------------------------------------------------------------------

    function parsePong(args) {
        return {
            id: args[0], protocol: args[1], version: args[2], state: args[3], model: args[4],
            device: args[5], waiting: args[6], running: args[7]
        };
    }

    function parseInfo(args) {
        return {
            id: args[0], protocol: args[1], version: args[2], state: args[3], model: args[4],
            device: args[5], dtype: args[6], profile: args[7], waiting: args[8], runningId: args[9],
            maxNotesIn: args[10], maxNotesOut: args[11], maxBars: args[12], maxVariations: args[13],
            queueLength: args[14], maxDatagramBytes: args[15]
        };
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

    // ----- what the status line says ----------------------------------------------------------

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

    // ----- the invariant: what a write may remove ---------------------------------------------
    //
    // After any outcome of a request (done, error, cancel, daemon down, an empty result) every
    // note the request did not ask to replace is exactly as Live reported it: the same note_id,
    // start_time and duration as Live's own doubles, pitch, velocity, mute, probability,
    // velocity_deviation, release_velocity. Only the notes read as "replaced" when the request
    // was sent (the audible notes starting inside the span) may be removed, only by note_id,
    // only when they are still exactly as they were read, and only while a result with notes
    // that replaces them is written. removalPlan is the one place that decides it; the Live
    // adapter removes nothing else and checks the outcome with checkKept.

    var NOTE_FIELDS = ["note_id", "pitch", "start_time", "duration", "velocity", "mute", "probability",
        "velocity_deviation", "release_velocity"];

    // A copy of a note as Live reported it (every field it has, untouched).
    function snapshotNote(note) {
        var copy = {};
        for (var i = 0; i < NOTE_FIELDS.length; i++) {
            if (note[NOTE_FIELDS[i]] !== undefined) {
                copy[NOTE_FIELDS[i]] = note[NOTE_FIELDS[i]];
            }
        }
        return copy;
    }

    function fieldEqual(a, b, field) {
        if (field === "note_id") {
            return sameId(a.note_id, b.note_id);
        }
        if (field === "mute") {
            return (a.mute ? 1 : 0) === (b.mute ? 1 : 0);
        }
        return a[field] === b[field];
    }

    // Bit-identical in every field, the id included (skipId: the content only, for a copy).
    function sameNote(a, b, skipId) {
        for (var i = skipId ? 1 : 0; i < NOTE_FIELDS.length; i++) {
            if (!fieldEqual(a, b, NOTE_FIELDS[i])) {
                return false;
            }
        }
        return true;
    }

    function startsIn(note, start, end) {
        return note.start_time >= start - EPS && note.start_time < end - EPS;
    }

    // Ids of the audible notes that start inside [start, end): what infill replaces.
    function audibleIdsInSpan(notes, start, end) {
        var ids = [];
        for (var i = 0; i < notes.length; i++) {
            if (!notes[i].mute && startsIn(notes[i], start, end)) {
                ids.push(notes[i].note_id);
            }
        }
        return ids;
    }

    // The notes a request replaces, as read when it is sent: the audible notes starting inside
    // the span (the daemon replaces exactly those; muted notes are kept).
    function replacedNotes(notes, span) {
        var found = [];
        for (var i = 0; i < notes.length; i++) {
            if (!notes[i].mute && startsIn(notes[i], span.start, span.end)) {
                found.push(snapshotNote(notes[i]));
            }
        }
        return found;
    }

    function byNoteId(notes) {
        var map = {};
        for (var i = 0; i < notes.length; i++) {
            map[String(notes[i].note_id)] = notes[i];
        }
        return map;
    }

    // Which notes of the clip, read now (current), go. replaced: the snapshot of the notes sent as
    // replaced; before: every note of the clip when the request was sent; span: {start, end}.
    // Returns {ids: the note_ids to remove, notes: those notes, kept: the user's notes added or
    // changed in the span (or replaced notes changed anywhere) since then, kept as they are now,
    // gone: replaced notes the user deleted meanwhile}.
    function removalPlan(replaced, before, current, span) {
        var sent = byNoteId(replaced);
        var read = byNoteId(before);
        var present = {};
        var plan = {ids: [], notes: [], kept: 0, gone: 0};
        for (var i = 0; i < current.length; i++) {
            var note = current[i];
            var id = String(note.note_id);
            present[id] = true;
            if (sent[id] && sameNote(note, sent[id])) {
                plan.ids.push(note.note_id);
                plan.notes.push(note);
            } else if (sent[id] || (startsIn(note, span.start, span.end) && !(read[id] && sameNote(note, read[id])))) {
                plan.kept += 1;
            }
        }
        for (var r = 0; r < replaced.length; r++) {
            if (!present[String(replaced[r].note_id)]) {
                plan.gone += 1;
            }
        }
        return plan;
    }

    // The notes of a fresh copy of a clip (duplicate_clip_to gives its notes their own ids) that
    // are the copies of `notes` (same content, one to one): what goes in the copy.
    function matchCopies(notes, copyNotes) {
        var used = {};
        var ids = [];
        for (var i = 0; i < notes.length; i++) {
            for (var c = 0; c < copyNotes.length; c++) {
                if (!used[c] && sameNote(notes[i], copyNotes[c], true)) {
                    used[c] = true;
                    ids.push(copyNotes[c].note_id);
                    break;
                }
            }
        }
        return ids;
    }

    // The notes read before a write that are not where and as they were after it, except the
    // removed ids: empty when the write kept the invariant.
    function checkKept(beforeWrite, afterWrite, removedIds) {
        var removed = {};
        for (var r = 0; r < removedIds.length; r++) {
            removed[String(removedIds[r])] = true;
        }
        var after = byNoteId(afterWrite);
        var broken = [];
        for (var i = 0; i < beforeWrite.length; i++) {
            var id = String(beforeWrite[i].note_id);
            if (!removed[id] && !(after[id] && sameNote(after[id], beforeWrite[i]))) {
                broken.push(beforeWrite[i].note_id);
            }
        }
        return broken;
    }

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
        GM_NAMES: GM_NAMES,
        UserError: UserError,
        floorTo: floorTo,
        ceilTo: ceilTo,
        round6: round6,
        clamp: clamp,
        barBeats: barBeats,
        formatNumber: formatNumber,
        instrumentName: instrumentName,
        instrumentFromTrackName: instrumentFromTrackName,
        trackInstrument: trackInstrument,
        trackNameFor: trackNameFor,
        clipRegion: clipRegion,
        barsStart: barsStart,
        computeSpan: computeSpan,
        selectionRange: selectionRange,
        computeOrigin: computeOrigin,
        noteAtoms: noteAtoms,
        notesPerChunk: notesPerChunk,
        chunkNotes: chunkNotes,
        buildRequest: buildRequest,
        pingMessage: pingMessage,
        statusMessage: statusMessage,
        cancelMessage: cancelMessage,
        resendMessages: resendMessages,
        parsePong: parsePong,
        parseInfo: parseInfo,
        atomsToNotes: atomsToNotes,
        Job: Job,
        describeMissing: describeMissing,
        TEXT: TEXT,
        NOTE_FIELDS: NOTE_FIELDS,
        snapshotNote: snapshotNote,
        sameNote: sameNote,
        audibleIdsInSpan: audibleIdsInSpan,
        replacedNotes: replacedNotes,
        removalPlan: removalPlan,
        matchCopies: matchCopies,
        checkKept: checkKept,
        toLiveNote: toLiveNote,
        toLiveNotes: toLiveNotes,
        planWrite: planWrite
    };
}());
