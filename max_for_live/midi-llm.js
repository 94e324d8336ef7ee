// midi-llm.js: built by max_for_live/build_amxd.py from max_for_live/src/; do not edit it here.
// Sources: midi_llm_core.js, midi_llm_live.js, midi_llm_device.js (sha256 5f03b511d1d64a7c).
// ES5 for Max's classic [js] object (Max 8.5+ as bundled with Live 11 and 12).

// ----- src/midi_llm_core.js --------------------------------------------------
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

    // The span to write, in clip beats. p: {mode, kind, bars, bar, clip (null for an empty
    // slot), selection ({start, end} of the selected notes, or null), loop (the arrangement
    // loop brace in clip beats, or null)}.
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
            start = floorTo(p.selection.start, 1);
            end = Math.max(ceilTo(p.selection.end, 1), start + 1);
        } else if (kind === "loop" && p.loop) {
            start = p.loop.start;
            end = p.loop.end;
        } else if (kind === "loop" && region) {
            start = region.start;
            end = region.end;
        } else {
            start = region ? floorTo(region.start, bar) : 0;
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
    //     lowestPitch, highestPitch, notes, instrument (of the notes), perChunk, secret}
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

    // ----- writing back -------------------------------------------------------------------------

    // Ids of the audible notes that start inside [start, end): what infill replaces.
    function audibleIdsInSpan(notes, start, end) {
        var ids = [];
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            if (!n.mute && n.start_time >= start - EPS && n.start_time < end - EPS) {
                ids.push(n.note_id);
            }
        }
        return ids;
    }

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
    //       trackInstrument, otherTracks ([{index, instrument, slots}])}
    function planWrite(ctx, result) {
        var ops = [];
        var notes = 0;
        var note = "";
        var span = ctx.span;
        var variations = result.variations;
        // infill and generate rewrite the span of an existing clip; continue only adds, unless
        // the daemon says it replaced given notes (hidden ones after the clip's end).
        var replace = ctx.mode === "infill" || ctx.mode === "generate" ||
            (ctx.mode === "continue" && result.removed > 0);
        var written = 0;

        function writeInto(ref, liveNotes, exists, length) {
            if (!exists) {
                ops.push({op: "create_clip", track: ref.track, scene: ref.scene, length: length});
                ops.push({op: "add_notes", clip: ref, notes: liveNotes});
            } else if (replace) {
                ops.push({op: "replace_span", clip: ref, start: span.start, end: span.end, notes: liveNotes});
            } else {
                ops.push({op: "add_notes", clip: ref, notes: liveNotes});
            }
            if (ctx.mode === "continue") {
                ops.push({op: "extend_clip", clip: ref, end: span.end});
            }
            notes += liveNotes.length;
            written += 1;
        }

        if (ctx.mode === "accompany" && ctx.accompanyTarget === "tracks" && ctx.view === "session") {
            planAccompanyTracks(ctx, variations[0], ops);
            for (var op = 0; op < ops.length; op++) {
                if (ops[op].notes) {
                    notes += ops[op].notes.length;
                    written += 1;
                }
            }
            if (variations.length > 1) {
                note = "only the first variation goes to other tracks";
            }
            return {ops: ops, notes: notes, clips: written, note: note};
        }

        var targetLength = Math.max(span.end, ctx.clipEnd || 0);
        writeInto(ctx.target.ref, toLiveNotes(variations[0], ctx.origin), ctx.target.exists, targetLength);
        if (variations.length > 1 && ctx.view !== "session") {
            note = "variations 2-" + variations.length + " need Session View; only the first was written";
            return {ops: ops, notes: notes, clips: written, note: note};
        }
        // Variations 2, 3... go into the next empty slots below the target on this track.
        var free = [];
        var s;
        for (s = ctx.scene + 1; s < ctx.sceneCount; s++) {
            if (!ctx.slots[s]) {
                free.push(s);
            }
        }
        var scenes = ctx.sceneCount;
        for (var v = 1; v < variations.length; v++) {
            var scene;
            if (free.length) {
                scene = free.shift();
            } else {
                ops.push({op: "create_scene"});
                scene = scenes;
                scenes += 1;
            }
            var ref = {track: ctx.track, scene: scene};
            if (ctx.target.exists) {
                ops.push({op: "duplicate_clip", track: ctx.track, from: ctx.scene, to: scene});
                writeInto(ref, toLiveNotes(variations[v], ctx.origin), true, targetLength);
            } else {
                writeInto(ref, toLiveNotes(variations[v], ctx.origin), false, targetLength);
            }
        }
        return {ops: ops, notes: notes, clips: written, note: note};
    }

    // Accompaniment into clips on other tracks, one track per instrument: a MIDI track whose
    // name says the instrument, or a new one named "Electric Bass (finger) [33]".
    function planAccompanyTracks(ctx, resultNotes, ops) {
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
                if (found.slots[ctx.scene]) {
                    ops.push({op: "replace_span", clip: ref, start: ctx.span.start, end: ctx.span.end, notes: liveNotes});
                    continue;
                }
            } else {
                ref = {track: ctx.trackCount + created, scene: ctx.scene};
                ops.push({op: "create_track", index: ref.track, name: trackNameFor(order[k])});
                created += 1;
            }
            ops.push({op: "create_clip", track: ref.track, scene: ref.scene, length: length});
            ops.push({op: "add_notes", clip: ref, notes: liveNotes});
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
        audibleIdsInSpan: audibleIdsInSpan,
        toLiveNote: toLiveNote,
        toLiveNotes: toLiveNotes,
        planWrite: planWrite
    };
}());

// ----- src/midi_llm_live.js --------------------------------------------------
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

    // The song's loop brace in the clip's beats, cut to the clip, or null.
    Bridge.prototype.loopBraceInClip = function (clip, song) {
        var start = num(song, "loop_start");
        var end = start + num(song, "loop_length");
        var offset = clip.startMarker - clip.startTime;
        var region = core.clipRegion(clip);
        var from = Math.max(start + offset, region.start);
        var to = Math.min(end + offset, region.end);
        return to > from ? {start: from, end: to} : null;
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

    // Run a plan from core.planWrite. Call it from one deferred task (never from an observer
    // callback): Live then records the whole write together.
    Bridge.prototype.execute = function (ops) {
        var summary = {added: 0, removed: 0, clips: 0, tracks: 0};
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
            case "replace_span":
                clip = this.obj(this.clipPath(op.clip));
                var ids = core.audibleIdsInSpan(this.readNotes(this.clipPath(op.clip)), op.start, op.end);
                this.removeIds(clip, ids);
                this.addNotes(clip, op.notes);
                summary.removed += ids.length;
                summary.added += op.notes.length;
                break;
            case "add_notes":
                this.addNotes(this.obj(this.clipPath(op.clip)), op.notes);
                summary.added += op.notes.length;
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

// ----- src/midi_llm_device.js ------------------------------------------------
// MIDI-LLM for Max for Live: the glue for Max's classic [js] object.
//
// ES5 only. Inlet 0 takes the UI's messages (mode 2, bars 8, go...) and the daemon's
// replies, which [udpreceive] -> [deferlow] turns into messages such as
// "/midi-llm/progress 123 0.5 40" (handled by anything()). Outlet 0 feeds [udpsend] with OSC
// messages; outlet 1 drives the UI: "status <text>", "button <label>", "replyport <n>"
// (to [udpreceive]) and "daemonport <n>" (to [udpsend]).
//
// LiveAPI objects are only made after live.thisdevice has banged (init), and every write
// into Live happens in one deferred Task, never in a notification callback.

inlets = 1;
outlets = 2;
autowatch = 0;

var core = MidiLLM;
var jsthis = this;

var settings = {
    prompt: "",
    mode: "generate",
    span: "bars",
    bars: 4,
    variations: 1,
    temperature: 1.0,
    topP: 0.98,
    instrument: -1,      // -1: what this track plays
    grid: "off",
    target: "clip",      // accompany: "clip" or "tracks"
    seed: 0,             // 0: a new seed each time
    daemonPort: 9123,
    replyPort: 0         // 0: chosen from the device's id
};

var ACCEPT_TIMEOUT = 3000;
var PONG_TIMEOUT = 1500;
var CANCEL_TIMEOUT = 3000;
var RESEND_INTERVAL = 1000;
var RESEND_ATTEMPTS = 3;
var SILENCE_PING = 10000;
var SEND_BURST = 16;

var device = null;

function say(text) {
    outlet(1, "status", String(text));
}

function log(text) {
    post("MIDI-LLM: " + text + "\n");
}

// A Task that can be rescheduled: a later schedule() replaces a pending one.
function timer(callback) {
    var task = new Task(callback, jsthis);
    return {
        schedule: function (delay) {
            task.cancel();
            task.schedule(delay);
        },
        cancel: function () {
            task.cancel();
        }
    };
}

function Device(Api) {
    this.bridge = new MidiLLMLive.Bridge(Api);
    var me = new Api("this_device");
    this.deviceId = parseInt(me.id, 10) || 1;
    this.counter = 1 + Math.floor(Math.random() * 50000);
    this.state = "idle";
    this.job = null;
    this.ctx = null;
    this.result = null;
    this.pong = null;
    this.pongWaiter = null;
    this.lastHeard = 0;
    this.retried = false;
    this.outbox = [];
    this.maxDatagramBytes = 0;
    this.replyPort = 0;
    var self = this;
    this.pongTimer = timer(function () { self.onPongTimeout(); });
    this.acceptTimer = timer(function () { self.onAcceptTimeout(); });
    this.cancelTimer = timer(function () { self.finish("cancelled"); });
    this.resendTimer = timer(function () { self.onResendTimer(); });
    this.watchdog = timer(function () { self.onWatchdog(); });
    this.sender = timer(function () { self.flush(); });
    this.writer = timer(function () { self.write(); });
}

// Request ids are text ("m<device id>-<n>"): unique per device, echoed back as text, so no
// float conversion on the way through Max can change them.
Device.prototype.nextId = function () {
    this.counter = (this.counter + 1) % 100000;
    return "m" + this.deviceId + "-" + this.counter;
};

Device.prototype.send = function (message) {
    outlet(0, message);
};

// Auto reply port: 9124 + the device's id folded into 9124..9999, never the daemon's port.
Device.prototype.applyPorts = function () {
    var port = settings.replyPort;
    if (!port) {
        port = 9124 + (this.deviceId % 876);
        if (port === settings.daemonPort) {
            port += 1;
        }
    }
    this.replyPort = port;
    outlet(1, "daemonport", settings.daemonPort);
    outlet(1, "replyport", port);
};

Device.prototype.setButton = function (busy) {
    outlet(1, "button", busy ? "Cancel" : "Generate");
};

Device.prototype.busy = function () {
    return this.state !== "idle";
};

// ----- talking to the daemon ----------------------------------------------------------------

Device.prototype.ping = function (then) {
    var id = this.nextId();
    this.pongWaiter = {id: id, then: then};
    this.send(core.pingMessage(id, this.replyPort));
    this.pongTimer.schedule(PONG_TIMEOUT);
};

Device.prototype.onPong = function (args) {
    var pong = core.parsePong(args);
    if (!this.pongWaiter || String(pong.id) !== String(this.pongWaiter.id)) {
        return;
    }
    var then = this.pongWaiter.then;
    this.pongWaiter = null;
    this.pongTimer.cancel();
    this.pong = pong;
    if (pong.protocol !== core.PROTOCOL_VERSION) {
        log(core.TEXT.protocolMismatch(pong.protocol));
        this.finish(core.TEXT.protocolMismatch(pong.protocol));
        return;
    }
    if (then) {
        then.call(this, pong);
    }
};

Device.prototype.onPongTimeout = function () {
    if (!this.pongWaiter) {
        return;
    }
    this.pongWaiter = null;
    if (this.job) {
        this.finish(core.TEXT.stoppedAnswering(settings.daemonPort));
    } else {
        this.finish(core.TEXT.notRunning(settings.daemonPort));
    }
};

Device.prototype.check = function () {
    if (this.busy()) {
        return;
    }
    this.state = "checking";
    this.ping(function (pong) {
        this.send(core.statusMessage(this.nextId(), this.replyPort));
        this.state = "idle";
        say(core.TEXT.ready(pong));
    });
};

// Messages go out in bursts of SEND_BURST per scheduler tick, so that a large clip's
// chunks do not overflow a socket buffer.
Device.prototype.queue = function (messages) {
    this.outbox = this.outbox.concat(messages);
    this.flush();
};

Device.prototype.flush = function () {
    var count = Math.min(SEND_BURST, this.outbox.length);
    for (var i = 0; i < count; i++) {
        this.send(this.outbox.shift());
    }
    if (this.outbox.length) {
        this.sender.schedule(2);
    } else if (this.state === "sending") {
        this.state = "waiting";
        this.acceptTimer.schedule(ACCEPT_TIMEOUT);
    }
};

// ----- a request --------------------------------------------------------------------------------

Device.prototype.go = function () {
    if (this.state === "writing") {
        return;
    }
    if (this.busy() && this.state !== "checking") {
        this.cancel();
        return;
    }
    this.state = "connecting";
    this.retried = false;
    this.setButton(true);
    say("connecting to the daemon on port " + settings.daemonPort + "...");
    this.ping(function () {
        if (this.state === "connecting") {
            this.start();
        }
    });
};

Device.prototype.start = function () {
    var ctx, messages;
    try {
        ctx = this.prepare();
        messages = core.buildRequest(ctx.request);
    } catch (error) {
        this.finish(error instanceof core.UserError ? error.message : "error: " + error.message);
        if (!(error instanceof core.UserError)) {
            log(error.stack || error.message);
        }
        return;
    }
    this.ctx = ctx;
    this.job = new core.Job(ctx.request.id, ctx.mode);
    this.state = "sending";
    this.lastHeard = Date.now();
    say("sending " + ctx.notes.length + " notes...");
    this.queue(messages);
};

// Read Live, compute the span and everything the request and the write-back need.
Device.prototype.prepare = function () {
    var mode = settings.mode;
    var toTracks = mode === "accompany" && settings.target === "tracks";
    var live = this.bridge.readContext({needsOtherTracks: toTracks});
    var bar = core.barBeats(live.numerator, live.denominator);
    var span = core.computeSpan({
        mode: mode, kind: settings.span, bars: settings.bars, bar: bar,
        clip: live.clip, selection: live.selection, loop: live.loop
    });
    var notes = mode === "generate" ? [] : live.notes;
    if ((mode === "accompany" || mode === "continue") && !notes.length) {
        throw new core.UserError(mode + " needs notes in the clip: this one is empty");
    }
    var origin = core.computeOrigin(notes, span, bar);
    var own = live.trackInstrument === null ? 0 : live.trackInstrument;
    var chosen = settings.instrument >= 0 ? settings.instrument : own;
    var variations = settings.variations;
    if (live.view !== "session" || (toTracks && live.view === "session")) {
        variations = 1;
    }
    live.mode = mode;
    live.span = span;
    live.origin = origin;
    live.accompanyTarget = settings.target;
    live.clipEnd = live.clip ? core.clipRegion(live.clip).end : 0;
    live.notesSent = notes.length;
    live.request = {
        id: this.nextId(), replyPort: this.replyPort, mode: mode, prompt: settings.prompt,
        tempo: live.tempo, numerator: live.numerator, denominator: live.denominator,
        span: span, origin: origin, variations: variations, seed: settings.seed, grid: settings.grid,
        temperature: settings.temperature, topP: settings.topP,
        instruments: mode === "accompany" ? (settings.instrument >= 0 ? [settings.instrument] : []) : [chosen],
        given: mode === "accompany" ? [own] : [],
        notes: notes, instrument: own, perChunk: core.notesPerChunk(this.maxDatagramBytes)
    };
    if (live.trackInstrument === null) {
        log("the track's name says no instrument (e.g. 'Bass' or '[33]'); using " + core.instrumentName(own));
    }
    return live;
};

Device.prototype.onAcceptTimeout = function () {
    if (this.state === "waiting") {
        this.finish("no answer from the daemon on port " + settings.daemonPort + " (the request may have been " +
            "lost): try again");
    }
};

Device.prototype.cancel = function () {
    if (this.state === "connecting" || this.state === "checking") {
        this.pongWaiter = null;
        this.pongTimer.cancel();
        this.finish("cancelled");
        return;
    }
    if (!this.job || this.state === "cancelling" || this.state === "writing") {
        return;
    }
    this.outbox = [];
    this.state = "cancelling";
    say("cancelling...");
    this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    this.cancelTimer.schedule(CANCEL_TIMEOUT);
};

Device.prototype.onReply = function (address, args) {
    if (address === core.PREFIX + "/pong") {
        this.lastHeard = Date.now();
        this.onPong(args);
        return;
    }
    if (address === core.PREFIX + "/info") {
        var info = core.parseInfo(args);
        if (info.protocol === core.PROTOCOL_VERSION) {
            this.maxDatagramBytes = info.maxDatagramBytes;
        }
        return;
    }
    if (!this.job) {
        return;
    }
    var event = this.job.handle(address, args);
    if (!event) {
        return;
    }
    this.lastHeard = Date.now();
    switch (event.type) {
    case "accepted":
        this.acceptTimer.cancel();
        if (this.state !== "cancelling") {
            this.state = "queued";
            say(core.TEXT.queued(event.position));
        }
        this.watchdog.schedule(1000);
        break;
    case "started":
        if (this.state !== "cancelling") {
            this.state = "running";
            say(core.TEXT.progress(0, 0));
        }
        break;
    case "progress":
        if (this.state !== "cancelling") {
            say(core.TEXT.progress(event.fraction, event.notes));
        }
        break;
    case "warning":
        log("warning: " + event.text);
        break;
    case "error":
        if (event.code === "missing_chunk" && !this.retried && this.state !== "cancelling") {
            // Chunks of the clip were lost on the way: send the whole request again, new id.
            this.retried = true;
            log("the daemon missed part of the clip; sending it again");
            this.ctx.request.id = this.nextId();
            this.job = new core.Job(this.ctx.request.id, this.ctx.mode);
            this.state = "sending";
            this.queue(core.buildRequest(this.ctx.request));
            return;
        }
        this.finish(core.TEXT.error(event.code, event.message));
        break;
    case "incomplete":
        this.askResend(event.missing);
        break;
    case "complete":
        this.resendTimer.cancel();
        if (this.state === "cancelling") {
            // The result overtook the cancel: the musician asked for nothing, so nothing is written.
            this.finish("cancelled");
            return;
        }
        this.result = event.result;
        this.state = "writing";
        say("writing into Live...");
        this.writer.schedule(0);
        break;
    }
};

// Lost /result chunks: ask again, up to RESEND_ATTEMPTS times, then say which never came.
Device.prototype.askResend = function (missing) {
    if (this.job.resends >= RESEND_ATTEMPTS) {
        this.finish(core.TEXT.lostChunks(missing));
        return;
    }
    this.job.resends += 1;
    log("asking again for " + core.describeMissing(missing));
    var messages = core.resendMessages(this.job.id, this.replyPort, missing);
    for (var i = 0; i < messages.length; i++) {
        this.send(messages[i]);
    }
    this.resendTimer.schedule(RESEND_INTERVAL);
};

Device.prototype.onResendTimer = function () {
    if (!this.job || this.state === "writing" || this.state === "idle") {
        return;
    }
    var missing = this.job.missing();
    if (missing.length) {
        this.askResend(missing);
    }
};

// While a job is queued or running, the daemon may stay silent (a long queue): after
// SILENCE_PING of silence, ping it; no pong means it is gone.
Device.prototype.onWatchdog = function () {
    if (!this.job || this.state === "idle" || this.state === "writing") {
        return;
    }
    if (Date.now() - this.lastHeard > SILENCE_PING && !this.pongWaiter) {
        this.ping(function () {
            if (this.job && this.job.done === null && this.job.variations[0] !== undefined) {
                this.finish("error: the daemon's last reply never arrived; try again");
            }
        });
    }
    this.watchdog.schedule(1000);
};

// The result is complete: write it into Live, all in this one deferred task.
Device.prototype.write = function () {
    var ctx = this.ctx, result = this.result;
    try {
        if (!this.bridge.unchanged(ctx)) {
            this.finish("the clip, its slot or its track changed while the model was writing: nothing was " +
                "written; press Generate again");
            return;
        }
        var plan = core.planWrite(ctx, result);
        this.bridge.execute(plan.ops);
        var expected = ctx.mode === "infill" ? result.removed : null;
        if (expected !== null && expected !== undefined) {
            var removed = 0;
            for (var i = 0; i < plan.ops.length; i++) {
                if (plan.ops[i].op === "replace_span" && plan.ops[i].clip.track === ctx.track &&
                        plan.ops[i].clip.scene === ctx.scene) {
                    removed = core.audibleIdsInSpan(ctx.notes, ctx.span.start, ctx.span.end).length;
                }
            }
            if (removed !== expected) {
                log("the daemon replaced " + expected + " notes, the device removed " + removed);
            }
        }
        for (var w = 0; w < result.warnings.length; w++) {
            log("warning: " + result.warnings[w]);
        }
        var note = plan.note;
        if (result.warnings.length) {
            note = (note ? note + "; " : "") + result.warnings[0];
        }
        this.finish(core.TEXT.done({
            notes: plan.notes, variations: result.variations.length, seconds: result.seconds,
            seed: result.seed, note: note
        }));
    } catch (error) {
        log(error.stack || error.message);
        this.finish("error while writing into Live: " + error.message);
    }
};

Device.prototype.finish = function (text) {
    this.state = "idle";
    this.job = null;
    this.outbox = [];
    this.acceptTimer.cancel();
    this.cancelTimer.cancel();
    this.resendTimer.cancel();
    this.watchdog.cancel();
    this.sender.cancel();
    this.setButton(false);
    if (text) {
        say(text);
    }
};

Device.prototype.close = function () {
    if (this.job && this.state !== "idle" && this.state !== "writing") {
        this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    }
    this.pongTimer.cancel();
    this.finish(null);
};

// ----- Max's entry points -------------------------------------------------------------------------

// The UI's parameters (their varnames) and the message each sends into the js inlet: at init
// the stored values are read back, in case they were output before the script listened.
var INTERFACE = [
    ["Mode", "mode"], ["Span", "span"], ["Bars", "bars"], ["Variations", "variations"],
    ["Temperature", "temperature"], ["Top-p", "top_p"], ["Instrument", "instrument"], ["Grid", "grid"],
    ["Accompany", "target"], ["Seed", "seed"], ["Daemon port", "daemon_port"], ["Reply port", "reply_port"]
];

function readInterface() {
    var patcher = jsthis && jsthis.patcher;
    if (!patcher || !patcher.getnamed) {
        return;
    }
    var handlers = {
        mode: mode, span: span, bars: bars, variations: variations, temperature: temperature, top_p: top_p,
        instrument: instrument, grid: grid, target: target, seed: seed, daemon_port: daemon_port,
        reply_port: reply_port
    };
    for (var i = 0; i < INTERFACE.length; i++) {
        try {
            var box = patcher.getnamed(INTERFACE[i][0]);
            if (box) {
                handlers[INTERFACE[i][1]](box.getvalueof());
            }
        } catch (error) {
            log("cannot read " + INTERFACE[i][0] + ": " + error.message);
        }
    }
}

// live.thisdevice banged: LiveAPI may be used from now on.
function init() {
    if (device) {
        return;
    }
    readInterface();
    device = new Device(LiveAPI);
    device.applyPorts();
    device.setButton(false);
    device.check();
}

function go() {
    if (!device) {
        say("the device is still loading");
        return;
    }
    device.go();
}

function cancel() {
    if (device) {
        device.cancel();
    }
}

function anything() {
    var args = Array.prototype.slice.call(arguments);
    var address = messagename;
    if (address.charAt(0) === "/") {
        if (device) {
            device.onReply(address, args);
        }
        return;
    }
    log("unknown message " + address);
}

function pick(list, index) {
    var i = Math.round(Number(index));
    return i >= 0 && i < list.length ? list[i] : list[0];
}

// The prompt comes from [textedit] -> [route text] -> [prepend prompt]; an empty textedit
// sends a bare bang through [route].
function prompt() {
    var words = Array.prototype.slice.call(arguments);
    settings.prompt = words.length === 1 && words[0] === "bang" ? "" : words.join(" ");
}

function text() {
    prompt.apply(this, arguments);
}

function mode(index) {
    settings.mode = pick(core.MODES, index);
}

function span(index) {
    settings.span = pick(core.SPANS, index);
}

function bars(value) {
    settings.bars = Math.max(1, Math.round(Number(value)));
}

function variations(value) {
    settings.variations = Math.max(1, Math.min(8, Math.round(Number(value))));
}

function temperature(value) {
    settings.temperature = Math.max(0.01, Math.min(5, Number(value)));
}

function top_p(value) {
    settings.topP = Math.max(0.01, Math.min(1, Number(value)));
}

// Menu index 0 = what this track plays; 1..129 = GM programs 0..127 and drums (128).
function instrument(index) {
    settings.instrument = Math.round(Number(index)) - 1;
}

function grid(index) {
    settings.grid = pick(core.GRIDS, index);
}

function target(index) {
    settings.target = pick(core.TARGETS, index);
}

function seed(value) {
    settings.seed = Math.max(0, Math.round(Number(value)));
}

function daemon_port(value) {
    settings.daemonPort = Math.round(Number(value));
    if (device && !device.busy()) {
        device.applyPorts();
        device.check();
    }
}

function reply_port(value) {
    settings.replyPort = Math.round(Number(value));
    if (device && !device.busy()) {
        device.applyPorts();
    }
}

function check() {
    if (device) {
        device.check();
    }
}

function notifydeleted() {
    if (device) {
        device.close();
    }
}
