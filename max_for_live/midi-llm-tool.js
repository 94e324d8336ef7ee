// midi-llm-tool.js: built by max_for_live/build_amxd.py from max_for_live/src/; do not edit it here.
// Sources: midi_llm_core.js, midi_llm_live.js, midi_llm_tool_core.js, midi_llm_tool.js (sha256 ed4f91ab65b004cb).
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

// ----- src/midi_llm_tool_core.js ---------------------------------------------
// MIDI-LLM as a Live 12 MIDI Tool: the pure logic (no Max, no Live).
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). Uses midi_llm_core.js
// (MidiLLM) for requests, replies and instruments; this file adds what a MIDI Tool needs:
// reading live.miditool.in's dictionaries (notes and context: time selection, grid, scale),
// the request of the Generator and of the Transformation, the scale snap, the "keep rhythm" and
// "keep pitches" algorithms, and the note list for live.miditool.out.
//
// The output contract (Live 12's MIDI Tools): the notes sent to live.miditool.out replace the
// notes live.miditool.in gave the tool. A Generator's output goes into the time selection (the
// clip's loop without one); when Live gives a Generator no notes, its output replaces the notes
// that start in the time selection. So every output here is "the input, changed": notes the tool
// does not rewrite are sent back as they came (with their note_id).

var MidiLLMTool = (function (core) {
    "use strict";

    var EPS = core.EPS;
    var DRUMS = core.DRUMS;
    var ONSET = 1e-3;            // notes starting closer than this (beats) share an onset
    var KINDS = ["generator", "transformation"];
    var MODES = ["keep rhythm", "keep pitches", "accompany"];
    var GRIDS = ["editor", "off", "1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"];
    var SCALES = ["editor", "off"];
    var ACCOMPANY_BELOW = 33;    // Electric Bass (finger), under the selection
    var ACCOMPANY_ABOVE = 48;    // String Ensemble 1, over a low selection
    var ACCOMPANY_RANGE = 24;    // semitones of the automatic accompaniment range
    var LOW_SELECTION = 36;      // a selection reaching below C1 gets its accompaniment above

    var UserError = core.UserError;

    // ----- small helpers ----------------------------------------------------------------

    function isArray(value) {
        return Object.prototype.toString.call(value) === "[object Array]";
    }

    // Max's dictionaries turn a one-element array into the element: undo that.
    function asArray(value) {
        if (value === undefined || value === null || value === "") {
            return [];
        }
        return isArray(value) ? value : [value];
    }

    function number(value, fallback) {
        if (value === undefined || value === null || value === "" || typeof value === "boolean") {
            return typeof value === "boolean" ? (value ? 1 : 0) : fallback;
        }
        var n = Number(value);
        return isFinite(n) ? n : fallback;
    }

    function mod12(value) {
        return ((Math.round(value) % 12) + 12) % 12;
    }

    function byStartThenPitch(a, b) {
        return a.start_time - b.start_time || a.pitch - b.pitch;
    }

    function sortNotes(notes) {
        return notes.slice().sort(byStartThenPitch);
    }

    function copyNote(note) {
        var out = {};
        for (var key in note) {
            if (Object.prototype.hasOwnProperty.call(note, key)) {
                out[key] = note[key];
            }
        }
        return out;
    }

    // ----- live.miditool.in's dictionaries ----------------------------------------------------

    // A note as live.miditool.in (or get_all_notes_extended) gives it, with every field there.
    function cleanNote(note) {
        var out = {
            pitch: core.clamp(Math.round(number(note.pitch, 60)), 0, 127),
            start_time: number(note.start_time, 0),
            duration: Math.max(number(note.duration, 0.25), 0),
            velocity: core.clamp(number(note.velocity, 100), 0, 127),
            mute: number(note.mute, 0) ? 1 : 0,
            probability: core.clamp(number(note.probability, 1), 0, 1),
            velocity_deviation: core.clamp(number(note.velocity_deviation, 0), -127, 127),
            release_velocity: core.clamp(number(note.release_velocity, 64), 0, 127)
        };
        if (note.note_id !== undefined && note.note_id !== null) {
            out.note_id = note.note_id;
        }
        return out;
    }

    // {notes: [...]} (the left outlet), or a plain list: the notes sorted by start, then pitch.
    function readNotes(value) {
        var list = value && !isArray(value) && typeof value === "object" ? asArray(value.notes) : asArray(value);
        var notes = [];
        for (var i = 0; i < list.length; i++) {
            if (list[i] && typeof list[i] === "object") {
                notes.push(cleanNote(list[i]));
            }
        }
        return sortNotes(notes);
    }

    // The middle outlet: {clip: {time_selection_start, time_selection_end, insert_marker_time,
    // first_note_start, last_note_end, lowest_pitch, highest_pitch}, scale: {scale_mode, root_note,
    // scale_intervals, scale_name}, grid: {interval, enabled}}; times in beats of the clip.
    function readContext(value) {
        var v = value && typeof value === "object" ? value : {};
        var clip = v.clip && typeof v.clip === "object" ? v.clip : {};
        var grid = v.grid && typeof v.grid === "object" ? v.grid : {};
        var scale = v.scale && typeof v.scale === "object" ? v.scale : {};
        var start = number(clip.time_selection_start, null);
        var end = number(clip.time_selection_end, null);
        var intervals = [];
        var listed = asArray(scale.scale_intervals);
        for (var i = 0; i < listed.length; i++) {
            if (number(listed[i], null) !== null) {
                intervals.push(Math.round(number(listed[i], 0)));
            }
        }
        return {
            selection: start !== null && end !== null && end > start + EPS ? {start: start, end: end} : null,
            insertMarker: number(clip.insert_marker_time, null),
            lowest: number(clip.lowest_pitch, null),
            highest: number(clip.highest_pitch, null),
            grid: {interval: number(grid.interval, 0), enabled: number(grid.enabled, 1) ? true : false},
            scale: {
                on: number(scale.scale_mode, 0) ? true : false,
                root: mod12(number(scale.root_note, 0)),
                intervals: intervals,
                name: String(scale.scale_name === undefined || scale.scale_name === null ? "" : scale.scale_name)
            }
        };
    }

    function sameSelection(a, b) {
        if (!a || !b) {
            return !a && !b;
        }
        return Math.abs(a.start - b.start) < EPS && Math.abs(a.end - b.end) < EPS;
    }

    // A note list's fingerprint (pitch, start, duration of the audible and muted notes), for
    // "are these still the notes the request was made from?".
    function signature(notes) {
        var keys = [];
        for (var i = 0; i < notes.length; i++) {
            keys.push(notes[i].pitch + "@" + core.round6(notes[i].start_time) + "+" + core.round6(notes[i].duration));
        }
        return keys.sort().join(" ");
    }

    // ----- grid and scale --------------------------------------------------------------------------

    // The request's grid: "editor" follows the clip editor's grid (off when the editor's grid is
    // off), the others are the daemon's names.
    function gridOption(setting, context) {
        if (setting !== "editor") {
            return setting || "off";
        }
        if (context.grid.enabled && context.grid.interval > EPS) {
            return core.round6(context.grid.interval);
        }
        return "off";
    }

    // The clip's scale when the editor's Scale Mode is on (and the Scale setting follows it), as a
    // table of 12 pitch classes; null = every pitch.
    function scaleOf(setting, context) {
        if (setting === "off" || !context.scale.on || !context.scale.intervals.length) {
            return null;
        }
        var classes = [];
        var count = 0;
        var c;
        for (c = 0; c < 12; c++) {
            classes.push(false);
        }
        for (var i = 0; i < context.scale.intervals.length; i++) {
            c = mod12(context.scale.root + context.scale.intervals[i]);
            if (!classes[c]) {
                classes[c] = true;
                count += 1;
            }
        }
        if (count === 12) {
            return null;
        }
        return {root: context.scale.root, classes: classes, name: context.scale.name};
    }

    function inScale(pitch, scale) {
        return !scale || scale.classes[mod12(pitch)];
    }

    // The nearest pitch of the scale (a tie goes down), inside low..high when one is there.
    function snapPitch(pitch, scale, low, high) {
        if (inScale(pitch, scale)) {
            return pitch;
        }
        for (var pass = 0; pass < 2; pass++) {
            // First inside low..high, then (when the range holds no pitch of the scale near it) 0..127.
            var lo = pass || low === undefined || low === null ? 0 : Math.max(0, low);
            var hi = pass || high === undefined || high === null ? 127 : Math.min(127, high);
            for (var d = 1; d < 12; d++) {
                if (pitch - d >= lo && pitch - d <= hi && inScale(pitch - d, scale)) {
                    return pitch - d;
                }
                if (pitch + d >= lo && pitch + d <= hi && inScale(pitch + d, scale)) {
                    return pitch + d;
                }
            }
        }
        return pitch;
    }

    // New notes onto the scale (drums keep their pitches: they name drums). Two notes that land
    // on the same pitch at the same onset become one (the first, in start-then-pitch order).
    function snapNotes(notes, scale, low, high) {
        var out = [];
        var seen = {};
        var moved = 0;
        var sorted = sortNotes(notes);
        for (var i = 0; i < sorted.length; i++) {
            var note = copyNote(sorted[i]);
            if (note.instrument !== DRUMS) {
                var pitch = snapPitch(note.pitch, scale, low, high);
                if (pitch !== note.pitch) {
                    moved += 1;
                    note.pitch = pitch;
                }
            }
            var key = note.pitch + "@" + Math.round(note.start_time / ONSET);
            if (seen[key]) {
                continue;
            }
            seen[key] = true;
            out.push(note);
        }
        return {notes: out, moved: moved};
    }

    // ----- spans ------------------------------------------------------------------------------------

    // Generator: the time selection; without one the clip's loop (read through LiveAPI).
    function generatorSpan(context, clipRegion) {
        if (context.selection) {
            return {start: core.round6(context.selection.start), end: core.round6(context.selection.end)};
        }
        if (clipRegion && clipRegion.end > clipRegion.start + EPS) {
            return {start: core.round6(clipRegion.start), end: core.round6(clipRegion.end)};
        }
        throw new UserError("select a time range in the clip (drag over the bars in the editor), then press Apply");
    }

    // Transformation: the time selection when every selected note starts inside it, else the
    // notes' range widened to whole beats.
    function transformSpan(context, notes) {
        var first = Infinity, last = -Infinity, end = -Infinity;
        for (var i = 0; i < notes.length; i++) {
            first = Math.min(first, notes[i].start_time);
            last = Math.max(last, notes[i].start_time);
            end = Math.max(end, notes[i].start_time + notes[i].duration);
        }
        var s = context.selection;
        if (s && first >= s.start - EPS && last < s.end - EPS) {
            return {start: core.round6(s.start), end: core.round6(s.end)};
        }
        var start = core.floorTo(first, 1);
        return {start: core.round6(start), end: core.round6(Math.max(core.ceilTo(end, 1), core.ceilTo(last + EPS, 1),
            start + 1))};
    }

    function startsIn(note, span) {
        return note.start_time >= span.start - EPS && note.start_time < span.end - EPS;
    }

    // ----- results -------------------------------------------------------------------------------------

    // A result note (protocol beats from the request's origin) as a note of the clip.
    function fromResult(notes, origin) {
        var out = [];
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            out.push({
                pitch: core.clamp(Math.round(n.pitch), 0, 127),
                start_time: core.round6(n.start + origin),
                duration: Math.max(core.round6(n.duration), 1 / 128),
                velocity: core.clamp(n.velocity, 1, 127),
                mute: n.mute ? 1 : 0,
                probability: 1,
                velocity_deviation: 0,
                release_velocity: 64,
                instrument: n.instrument
            });
        }
        return sortNotes(out);
    }

    // Notes grouped by onset: [{start, notes (by pitch)}], in time order.
    function onsetGroups(notes) {
        var sorted = sortNotes(notes);
        var groups = [];
        for (var i = 0; i < sorted.length; i++) {
            var last = groups[groups.length - 1];
            if (last && sorted[i].start_time - last.start < ONSET) {
                last.notes.push(sorted[i]);
            } else {
                groups.push({start: sorted[i].start_time, notes: [sorted[i]]});
            }
        }
        return groups;
    }

    // The pitch of class in `classes` nearest to `target` (a tie goes down), not in `used`, inside
    // low..high when one is there.
    function nearestOfClasses(target, classes, used, low, high) {
        for (var pass = 0; pass < 2; pass++) {
            var lo = pass ? 0 : low, hi = pass ? 127 : high;
            for (var d = 0; d < 128; d++) {
                var candidates = d === 0 ? [target] : [target - d, target + d];
                for (var k = 0; k < candidates.length; k++) {
                    var p = candidates[k];
                    if (p >= lo && p <= hi && p >= 0 && p <= 127 && classes[mod12(p)] && !used[p]) {
                        return p;
                    }
                }
            }
        }
        return target;
    }

    // KEEP RHYTHM. Every original note keeps its start, duration, velocity and the rest; only its
    // pitch is rewritten. At each original onset, the pitch classes come from the model's notes
    // sounding there (started at or before it and not yet ended), or, when none sounds, from the
    // model's onset nearest to it (the earlier one on a tie). Each original note (lowest first)
    // takes the pitch of one of those classes nearest to its own pitch (a tie goes down) that no
    // other note of its onset took yet, inside Low..High when possible: the model's harmony in the
    // original register and rhythm.
    function keepRhythm(originals, generated, low, high) {
        var model = sortNotes(generated);
        if (!model.length) {
            return null;
        }
        var modelGroups = onsetGroups(model);
        var groups = onsetGroups(originals);
        var out = [];
        for (var g = 0; g < groups.length; g++) {
            var t = groups[g].start;
            var classes = [];
            var found = 0;
            var c, i;
            for (c = 0; c < 12; c++) {
                classes.push(false);
            }
            for (i = 0; i < model.length; i++) {
                if (model[i].start_time <= t + ONSET && model[i].start_time + model[i].duration > t + ONSET) {
                    classes[mod12(model[i].pitch)] = true;
                    found += 1;
                }
            }
            if (!found) {
                var nearest = modelGroups[0];
                for (i = 1; i < modelGroups.length; i++) {
                    if (Math.abs(modelGroups[i].start - t) < Math.abs(nearest.start - t) - EPS) {
                        nearest = modelGroups[i];
                    }
                }
                for (i = 0; i < nearest.notes.length; i++) {
                    classes[mod12(nearest.notes[i].pitch)] = true;
                }
            }
            var used = {};
            for (var n = 0; n < groups[g].notes.length; n++) {
                var note = copyNote(groups[g].notes[n]);
                delete note.note_id;
                note.pitch = nearestOfClasses(note.pitch, classes, used, low, high);
                used[note.pitch] = true;
                out.push(note);
            }
        }
        return out;
    }

    // The model's rhythm: one slot per onset, as long as the longest note starting there.
    function modelRhythm(notes) {
        var groups = onsetGroups(notes);
        var slots = [];
        for (var g = 0; g < groups.length; g++) {
            var longest = 0;
            for (var i = 0; i < groups[g].notes.length; i++) {
                longest = Math.max(longest, groups[g].notes[i].duration);
            }
            slots.push({start: groups[g].start, duration: longest});
        }
        return slots;
    }

    // Exactly `count` slots: with more, the ones at floor(i * slots / count) (spread over the whole
    // span); with fewer, the longest slot (the earliest on a tie) is halved until there are enough.
    function fitSlots(slots, count) {
        var out = [];
        var i;
        if (slots.length >= count) {
            for (i = 0; i < count; i++) {
                out.push(slots[Math.floor(i * slots.length / count)]);
            }
            return out;
        }
        out = slots.slice();
        while (out.length < count) {
            var longest = 0;
            for (i = 1; i < out.length; i++) {
                if (out[i].duration > out[longest].duration + EPS) {
                    longest = i;
                }
            }
            var half = out[longest].duration / 2;
            out.splice(longest, 1, {start: out[longest].start, duration: half},
                {start: core.round6(out[longest].start + half), duration: half});
        }
        return out;
    }

    // KEEP PITCHES. The original notes, grouped by onset (a chord stays a chord), keep their
    // pitches, velocities and order; the onsets and durations come from the model: its rhythm
    // (one slot per onset, the longest note's duration), cut or split to as many slots as there
    // are original onsets (see fitSlots). Read in time order, the pitches are the original ones.
    function keepPitches(originals, generated) {
        var slots = modelRhythm(generated);
        if (!slots.length) {
            return null;
        }
        var groups = onsetGroups(originals);
        slots = fitSlots(slots, groups.length);
        var out = [];
        for (var g = 0; g < groups.length; g++) {
            for (var n = 0; n < groups[g].notes.length; n++) {
                var note = copyNote(groups[g].notes[n]);
                delete note.note_id;
                note.start_time = core.round6(slots[g].start);
                note.duration = Math.max(core.round6(slots[g].duration), 1 / 128);
                out.push(note);
            }
        }
        return out;
    }

    // ACCOMPANY into the same clip: a pitch range apart from the selection, so the parts can be
    // told apart (and selected by pitch): Low..High when set, else the two octaves under the
    // selection's lowest note, or, for a selection reaching below C1 (36), the two octaves over
    // its highest note.
    function accompanyRange(notes, low, high) {
        if (low > 0 || high < 127) {
            return {low: low, high: high, below: false, auto: false};
        }
        var lowest = 127, highest = 0;
        for (var i = 0; i < notes.length; i++) {
            lowest = Math.min(lowest, notes[i].pitch);
            highest = Math.max(highest, notes[i].pitch);
        }
        if (lowest >= LOW_SELECTION) {
            return {low: Math.max(0, lowest - ACCOMPANY_RANGE), high: lowest - 1, below: true, auto: true};
        }
        if (highest < 127) {
            return {low: highest + 1, high: Math.min(127, highest + ACCOMPANY_RANGE), below: false, auto: true};
        }
        return {low: 0, high: 127, below: false, auto: true};
    }

    // ----- the request -------------------------------------------------------------------------------

    // Everything one request needs, and what finish()/output() need afterwards.
    // p: {kind, settings ({prompt, mode, instrument (-1 auto), grid, scale, low, high, seed,
    //     temperature, topP}), context (readContext), input (readNotes of the left outlet),
    //     clipNotes (every note of the clip through LiveAPI, or null), clipRegion ({start, end}
    //     of its loop, or null), trackInstrument (or null), tempo, numerator, denominator, id,
    //     replyPort, perChunk, seed (overrides settings.seed)}
    function plan(p) {
        var s = p.settings;
        var own = p.trackInstrument === null || p.trackInstrument === undefined ? 0 : p.trackInstrument;
        var chosen = s.instrument >= 0 ? s.instrument : own;
        var low = core.clamp(Math.round(s.low), 0, 127);
        var high = core.clamp(Math.round(s.high), low, 127);
        var planned = {
            kind: p.kind, mode: p.kind === "generator" ? "generate" : s.mode, selection: p.context.selection,
            scale: scaleOf(s.scale, p.context), low: low, high: high, originals: [], instrument: chosen, given: own
        };
        var notes, instruments, given = [], mode = "infill";
        if (p.kind === "generator") {
            planned.span = generatorSpan(p.context, p.clipRegion);
            notes = p.clipNotes || p.input;
            instruments = [chosen];
        } else {
            planned.originals = sortNotes(p.input);
            if (!planned.originals.length) {
                throw new UserError("select the notes to re-imagine first (or drag over them), then press Apply");
            }
            planned.span = transformSpan(p.context, planned.originals);
            if (planned.mode === "accompany") {
                var range = accompanyRange(planned.originals, low, high);
                var part = s.instrument >= 0 ? s.instrument : (range.below ? ACCOMPANY_BELOW : ACCOMPANY_ABOVE);
                if (part === own) {
                    throw new UserError("accompany: choose an Instrument other than the clip's own (" +
                        core.instrumentName(own) + ")");
                }
                mode = "accompany";
                notes = planned.originals;
                instruments = [part];
                given = [own];
                planned.low = range.low;
                planned.high = range.high;
                planned.instrument = part;
            } else {
                notes = p.clipNotes || planned.originals;
                instruments = [chosen];
            }
        }
        var bar = core.barBeats(p.numerator, p.denominator);
        planned.origin = core.computeOrigin(notes, planned.span, bar);
        planned.request = {
            id: p.id, replyPort: p.replyPort, mode: mode, prompt: s.prompt, tempo: p.tempo, numerator: p.numerator,
            denominator: p.denominator, span: planned.span, origin: planned.origin, variations: 1,
            seed: p.seed === undefined ? s.seed : p.seed, grid: gridOption(s.grid, p.context),
            temperature: s.temperature, topP: s.topP, instruments: instruments, given: given,
            lowestPitch: planned.low, highestPitch: planned.high, notes: notes, instrument: own, perChunk: p.perChunk
        };
        return planned;
    }

    // The same request under a new id and seed (Re-roll).
    function again(planned, id, seed) {
        var copy = copyNote(planned);
        copy.request = copyNote(planned.request);
        copy.request.id = id;
        copy.request.seed = seed;
        return copy;
    }

    // What a complete result becomes: {notes (the new notes of a Generator, or the whole output of
    // a Transformation), count (new or rewritten notes), moved (snapped to the scale), empty}.
    function finish(planned, result) {
        var fresh = fromResult(result.variations[0] || [], planned.origin);
        var inside = [];
        for (var i = 0; i < fresh.length; i++) {
            if (startsIn(fresh[i], planned.span)) {
                inside.push(fresh[i]);
            }
        }
        var snapped = snapNotes(inside, planned.scale, planned.low, planned.high);
        var done = {notes: snapped.notes, count: snapped.notes.length, moved: snapped.moved, empty: !inside.length};
        if (planned.kind === "generator" || done.empty) {
            return done;
        }
        if (planned.mode === "keep rhythm") {
            done.notes = keepRhythm(planned.originals, snapped.notes, planned.low, planned.high);
            done.count = done.notes.length;
        } else if (planned.mode === "keep pitches") {
            done.notes = keepPitches(planned.originals, inside);
            done.moved = 0;
            done.count = done.notes.length;
        } else {
            done.notes = planned.originals.concat(snapped.notes);
        }
        return done;
    }

    // The notes for live.miditool.out, given what live.miditool.in handed over this time. A
    // Generator sends the input back without the audible notes that start in the span (muted
    // ones stay, as the daemon's infill keeps them), plus the new notes; a Transformation sends
    // its output, which replaces the input.
    function output(planned, done, input) {
        if (planned.kind !== "generator") {
            return done.notes;
        }
        var out = [];
        for (var i = 0; i < input.length; i++) {
            if (input[i].mute || !startsIn(input[i], planned.span)) {
                out.push(input[i]);
            }
        }
        return sortNotes(out.concat(done.notes));
    }

    // {notes: [...]} as live.miditool.out wants it: the fields of Live's note dictionaries; note_id
    // only on notes sent back unchanged.
    function outputDict(notes) {
        var list = [];
        for (var i = 0; i < notes.length; i++) {
            var n = notes[i];
            var note = {
                pitch: core.clamp(Math.round(n.pitch), 0, 127),
                start_time: core.round6(n.start_time),
                duration: Math.max(core.round6(n.duration), 1 / 128),
                velocity: core.clamp(n.velocity === undefined ? 100 : n.velocity, 0, 127),
                mute: n.mute ? 1 : 0,
                probability: n.probability === undefined ? 1 : n.probability,
                velocity_deviation: n.velocity_deviation === undefined ? 0 : n.velocity_deviation,
                release_velocity: n.release_velocity === undefined ? 64 : n.release_velocity
            };
            if (n.note_id !== undefined && n.note_id !== null) {
                note.note_id = n.note_id;
            }
            list.push(note);
        }
        return {notes: list};
    }

    // ----- what the status line says -------------------------------------------------------------

    var TEXT = {
        done: function (planned, done, result) {
            var notes = [];
            if (done.moved) {
                notes.push(done.moved + " moved onto the scale");
            }
            if (planned.mode === "accompany") {
                notes.push(core.instrumentName(planned.instrument) + " in " + planned.low + "-" + planned.high);
            }
            if (result.warnings && result.warnings.length) {
                notes.push(result.warnings[0]);
            }
            return core.TEXT.done({
                notes: done.count, variations: 1, seconds: result.seconds, seed: result.seed, note: notes.join("; ")
            });
        },
        empty: "the model wrote no notes in the span: nothing changed; press Re-roll",
        waitingForLive: function (count) {
            return "done: " + count + " notes are ready: press Apply (or Generate) to write them";
        },
        clipChanged: "another clip is selected now: nothing was written; press Generate again",
        selectionChanged: "the selection changed while the model was writing: nothing was written; press Generate again",
        noCycle: "Live did not run the tool: press Apply (the tool must be open in the clip's Generate or " +
            "Transform panel)",
        settled: "settings changed: press Generate (or Apply) to write with them"
    };

    return {
        KINDS: KINDS,
        MODES: MODES,
        GRIDS: GRIDS,
        SCALES: SCALES,
        ONSET: ONSET,
        asArray: asArray,
        cleanNote: cleanNote,
        readNotes: readNotes,
        readContext: readContext,
        sameSelection: sameSelection,
        signature: signature,
        gridOption: gridOption,
        scaleOf: scaleOf,
        inScale: inScale,
        snapPitch: snapPitch,
        snapNotes: snapNotes,
        generatorSpan: generatorSpan,
        transformSpan: transformSpan,
        startsIn: startsIn,
        fromResult: fromResult,
        onsetGroups: onsetGroups,
        keepRhythm: keepRhythm,
        modelRhythm: modelRhythm,
        fitSlots: fitSlots,
        keepPitches: keepPitches,
        accompanyRange: accompanyRange,
        plan: plan,
        again: again,
        finish: finish,
        output: output,
        outputDict: outputDict,
        TEXT: TEXT
    };
}(MidiLLM));

// ----- src/midi_llm_tool.js --------------------------------------------------
// MIDI-LLM as a Live 12 MIDI Tool (Generator or Transformation): the glue for Max's classic [js].
//
// ES5 only. The patcher loads this as [js midi-llm-tool.js generator] or [js midi-llm-tool.js
// transformation]. Inlet 0 takes the UI's messages and the daemon's replies ([udpreceive] ->
// [deferlow]); inlet 1 the notes dictionary of [live.miditool.in] (its left outlet), inlet 2 its
// context dictionary (middle outlet; Max sends it first, right to left). Outlet 0 feeds
// [udpsend]; outlet 1 the UI ("status <text>", "button <label>", "replyport <n>",
// "daemonport <n>"); outlet 2 [live.miditool.out] ("dictionary <name>"); outlet 3 bangs
// [live.miditool.in] through [deferlow].
//
// A MIDI Tool must answer each apply cycle at once: live.miditool.out has to get a dictionary
// before the call that brought live.miditool.in's notes returns. The model takes seconds, so:
//   1. a trigger (Apply, Generate, Re-roll) starts the request and answers Live with the notes
//      unchanged;
//   2. the daemon writes; the status line shows the queue and the progress; Cancel stops it;
//   3. when the result is complete the script bangs live.miditool.in: Live starts (or continues)
//      an apply cycle, and this time the answer is the result. If Live does not run that cycle
//      (Auto off), the result waits and the next Apply writes it.
// The script never sends to the daemon while it answers Live; that happens in a Task.

inlets = 3;
outlets = 4;
autowatch = 0;

var core = MidiLLM;
var toolCore = MidiLLMTool;
var jsthis = this;

var KIND = typeof jsarguments !== "undefined" && jsarguments.length > 1 &&
    String(jsarguments[1]) === "transformation" ? "transformation" : "generator";

var settings = {
    prompt: "",
    mode: "keep rhythm",   // Transformation: keep rhythm, keep pitches, accompany
    instrument: -1,        // -1: auto (the clip's track; accompany: bass or strings)
    grid: "editor",        // editor: the clip editor's grid
    scale: "editor",       // editor: the clip's scale when Scale Mode is on
    low: 0,
    high: 127,
    seed: 0,               // 0: a new seed each time
    temperature: 1.0,
    topP: 0.98,
    daemonPort: 9123,
    replyPort: 0           // 0: chosen from the device's id
};

var OUT_OSC = 0, OUT_UI = 1, OUT_NOTES = 2, OUT_TRIGGER = 3;
var IN_NOTES = 1, IN_CONTEXT = 2;

var ACCEPT_TIMEOUT = 3000;
var PONG_TIMEOUT = 1500;
var CANCEL_TIMEOUT = 3000;
var RESEND_INTERVAL = 1000;
var RESEND_ATTEMPTS = 3;
var SILENCE_PING = 10000;
var SEND_BURST = 16;
var APPLY_WAIT = 2000;     // after the bang, how long Live may take to run the apply cycle
var SETTLE = 150;          // a trigger this soon after a settings change is Live re-applying them

var BUSY = {connecting: true, sending: true, waiting: true, queued: true, running: true, cancelling: true};

var tool = null;
var pendingContext = null; // the context dictionary of the trigger under way
var settingsChangedAt = 0;
var outDict = null;

function say(text) {
    outlet(OUT_UI, "status", String(text));
}

function log(text) {
    post("MIDI-LLM " + KIND + ": " + text + "\n");
}

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

function readDict(name) {
    try {
        return JSON.parse(new Dict(name).stringify());
    } catch (error) {
        log("cannot read the dictionary " + name + ": " + error.message);
        return null;
    }
}

// The answer to this apply cycle, synchronously, into live.miditool.out.
function emitNotes(notes) {
    if (!outDict) {
        outDict = new Dict();
    }
    outDict.clear();
    outDict.parse(JSON.stringify(toolCore.outputDict(notes)));
    outlet(OUT_NOTES, "dictionary", outDict.name);
}

function exists(api) {
    return api && api.id !== undefined && String(api.id) !== "0";
}

function str(api, property) {
    var value = api.get(property);
    return value && typeof value === "object" && typeof value.length === "number" ? value.join(" ") : String(value);
}

// ----- the tool ------------------------------------------------------------------------------------

function Tool(Api) {
    this.Api = Api;
    this.bridge = new MidiLLMLive.Bridge(Api);
    var deviceId = 0;
    try {
        deviceId = parseInt(new Api("this_device").id, 10) || 0;
    } catch (error) {
        deviceId = 0;
    }
    // A MIDI Tool may have no device id: then any of 9124..9999 (set Reply port when two clash).
    this.deviceId = deviceId || 1 + Math.floor(Math.random() * 875);
    this.counter = 1 + Math.floor(Math.random() * 50000);
    this.state = "idle";
    this.job = null;
    this.snapshot = null;   // what the trigger handed over: input notes, context, re-roll?
    this.planned = null;    // the request under way (toolCore.plan)
    this.last = null;       // the last request sent, for Re-roll
    this.done = null;       // toolCore.finish of a complete result, waiting for an apply cycle
    this.result = null;
    this.written = null;    // signature of the last output (a Transformation's next input)
    this.shown = null;      // the last answer with a result: {input (signature), output}
    this.rerollNext = false;
    this.armed = false;     // Generate was pressed: the next apply cycle is a request
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
    this.starter = timer(function () { self.start(); });
    this.trigger = timer(function () { outlet(OUT_TRIGGER, "bang"); });
    this.applyTimer = timer(function () { self.onApplyTimeout(); });
}

Tool.prototype.nextId = function () {
    this.counter = (this.counter + 1) % 100000;
    return (KIND === "generator" ? "g" : "t") + this.deviceId + "-" + this.counter;
};

Tool.prototype.send = function (message) {
    outlet(OUT_OSC, message);
};

Tool.prototype.applyPorts = function () {
    var port = settings.replyPort;
    if (!port) {
        port = 9124 + (this.deviceId % 876);
        if (port === settings.daemonPort) {
            port += 1;
        }
    }
    this.replyPort = port;
    outlet(OUT_UI, "daemonport", settings.daemonPort);
    outlet(OUT_UI, "replyport", port);
};

Tool.prototype.busy = function () {
    return BUSY[this.state] === true;
};

Tool.prototype.setButton = function () {
    outlet(OUT_UI, "button", this.busy() ? "Cancel" : "Generate");
};

Tool.prototype.finish = function (text) {
    this.state = "idle";
    this.job = null;
    this.done = null;
    this.outbox = [];
    this.acceptTimer.cancel();
    this.cancelTimer.cancel();
    this.resendTimer.cancel();
    this.watchdog.cancel();
    this.sender.cancel();
    this.starter.cancel();
    this.applyTimer.cancel();
    this.setButton();
    if (text) {
        say(text);
    }
};

// ----- Live's apply cycles ------------------------------------------------------------------------

// live.miditool.in handed over its notes (the context came just before): answer now.
Tool.prototype.onTrigger = function (notesValue, contextValue) {
    var input = toolCore.readNotes(notesValue);
    var context = toolCore.readContext(contextValue);
    var answer = input;
    try {
        answer = this.answer(input, context);
    } catch (error) {
        log(error.stack || error.message);
        answer = input; // Live gets its answer whatever happened
        if (this.state === "ready") {
            this.finish("error while writing the result: " + error.message);
        }
    }
    emitNotes(answer);
};

Tool.prototype.answer = function (input, context) {
    if (this.state === "ready") {
        return this.applyResult(input, context);
    }
    if (this.busy()) {
        return this.unchanged(input, context);
    }
    this.applyTimer.cancel();
    if (!this.rerollNext && !this.armed && Date.now() - settingsChangedAt < SETTLE) {
        say(toolCore.TEXT.settled);
        return this.unchanged(input, context);
    }
    if (this.state === "checking") {
        this.pongWaiter = null;
        this.pongTimer.cancel();
    }
    this.snapshot = {input: input, context: context, reroll: this.rerollNext};
    this.rerollNext = false;
    this.armed = false;
    this.state = "connecting";
    this.retried = false;
    this.setButton();
    say("connecting to the daemon on port " + settings.daemonPort + "...");
    this.starter.schedule(0);
    return this.unchanged(input, context);
};

// The answer that changes nothing the user sees. When Live continues the apply cycle of the last
// result, it hands over the notes from before that result: the answer is the result again. A
// Generator that got no notes answers with the notes that start in the time selection (read
// through LiveAPI), which its answer replaces.
Tool.prototype.unchanged = function (input, context) {
    if (this.shown && input.length && toolCore.signature(input) === this.shown.input) {
        return this.shown.output;
    }
    if (KIND !== "generator" || input.length || !context.selection) {
        return input;
    }
    return this.notesIn(context.selection);
};

Tool.prototype.notesIn = function (span) {
    var clip = this.readClip();
    var found = [];
    for (var i = 0; clip && i < clip.notes.length; i++) {
        if (toolCore.startsIn(clip.notes[i], span)) {
            found.push(clip.notes[i]);
        }
    }
    return found;
};

// A result is waiting and Live runs an apply cycle: write it, if this is still the clip (and
// selection) it was made for.
Tool.prototype.applyResult = function (input, context) {
    var planned = this.planned, done = this.done, result = this.result;
    var clipId = this.detailClipId();
    if (planned.clipId !== null && clipId !== null && clipId !== planned.clipId) {
        this.finish(toolCore.TEXT.clipChanged);
        return this.unchanged(input, context);
    }
    if (KIND === "generator" && planned.selection && !toolCore.sameSelection(context.selection, planned.selection)) {
        this.finish(toolCore.TEXT.selectionChanged);
        return this.unchanged(input, context);
    }
    if (KIND === "transformation") {
        var now = toolCore.signature(input);
        if (now !== toolCore.signature(planned.originals) && now !== this.written) {
            this.finish(toolCore.TEXT.selectionChanged);
            return input;
        }
    }
    var base = KIND === "generator" && !input.length ? this.notesIn(planned.span) : input;
    var notes = toolCore.output(planned, done, base);
    this.written = toolCore.signature(done.notes);
    this.shown = {input: toolCore.signature(input), output: notes};
    this.finish(toolCore.TEXT.done(planned, done, result));
    return notes;
};

// The bang brought no apply cycle: Live did not run the tool (Auto off, or the tool's panel is
// closed).
Tool.prototype.onApplyTimeout = function () {
    if (this.state === "ready") {
        say(toolCore.TEXT.waitingForLive(this.done.count));
    } else if (!this.busy() && (this.armed || this.rerollNext)) {
        this.armed = false;
        this.rerollNext = false;
        say(toolCore.TEXT.noCycle);
    }
};

// ----- reading Live ----------------------------------------------------------------------------------

Tool.prototype.detailClipId = function () {
    try {
        var clip = new this.Api("live_set view detail_clip");
        return exists(clip) ? String(clip.id) : null;
    } catch (error) {
        return null;
    }
};

// The clip in the editor: {id, notes, region, trackInstrument}, or null when LiveAPI cannot say.
Tool.prototype.readClip = function () {
    try {
        var detail = new this.Api("live_set view detail_clip");
        if (!exists(detail)) {
            return null;
        }
        var path = MidiLLMLive.cleanPath(detail.path);
        var info = this.bridge.readClip(path);
        var notes = toolCore.readNotes(this.bridge.readNotes(path));
        var instrument = null;
        var track = /^live_set tracks (\d+)/.exec(path);
        if (track) {
            var trackPath = "live_set tracks " + track[1];
            var api = new this.Api(trackPath);
            var classes = [];
            var count = api.getcount("devices");
            for (var d = 0; d < count; d++) {
                classes.push(str(new this.Api(trackPath + " devices " + d), "class_name"));
            }
            instrument = core.trackInstrument(str(api, "name"), classes);
        }
        return {id: String(detail.id), notes: notes, region: core.clipRegion(info), trackInstrument: instrument};
    } catch (error) {
        log("cannot read the clip through LiveAPI: " + error.message);
        return null;
    }
};

Tool.prototype.readSong = function () {
    try {
        var song = new this.Api("live_set");
        return {
            tempo: Number(str(song, "tempo")) || 120,
            numerator: Number(str(song, "signature_numerator")) || 4,
            denominator: Number(str(song, "signature_denominator")) || 4
        };
    } catch (error) {
        return {tempo: 120, numerator: 4, denominator: 4};
    }
};

// ----- talking to the daemon -----------------------------------------------------------------------

Tool.prototype.ping = function (then) {
    var id = this.nextId();
    this.pongWaiter = {id: id, then: then};
    this.send(core.pingMessage(id, this.replyPort));
    this.pongTimer.schedule(PONG_TIMEOUT);
};

Tool.prototype.onPong = function (args) {
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

Tool.prototype.onPongTimeout = function () {
    if (!this.pongWaiter) {
        return;
    }
    this.pongWaiter = null;
    this.finish(this.job ? core.TEXT.stoppedAnswering(settings.daemonPort) : core.TEXT.notRunning(settings.daemonPort));
};

Tool.prototype.check = function () {
    if (this.busy() || this.state === "ready") {
        return;
    }
    this.state = "checking";
    this.ping(function (pong) {
        this.send(core.statusMessage(this.nextId(), this.replyPort));
        this.state = "idle";
        say(core.TEXT.ready(pong));
    });
};

Tool.prototype.queue = function (messages) {
    this.outbox = this.outbox.concat(messages);
    this.flush();
};

Tool.prototype.flush = function () {
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

// ----- a request -------------------------------------------------------------------------------------

Tool.prototype.start = function () {
    if (this.state !== "connecting") {
        return;
    }
    this.ping(function () {
        if (this.state === "connecting") {
            this.sendRequest();
        }
    });
};

Tool.prototype.sendRequest = function () {
    var planned, messages;
    try {
        planned = this.prepare(this.snapshot);
        messages = core.buildRequest(planned.request);
    } catch (error) {
        this.finish(error instanceof core.UserError ? error.message : "error: " + error.message);
        if (!(error instanceof core.UserError)) {
            log(error.stack || error.message);
        }
        return;
    }
    this.planned = planned;
    this.last = planned;
    this.job = new core.Job(planned.request.id, planned.request.mode);
    this.state = "sending";
    this.lastHeard = Date.now();
    say("sending " + planned.request.notes.length + " notes...");
    this.queue(messages);
};

// Read Live and plan the request. Re-roll sends the last request again with a new seed while the
// same clip is in the editor.
Tool.prototype.prepare = function (snapshot) {
    var clip = this.readClip();
    var clipId = clip ? clip.id : null;
    var seed;
    if (snapshot.reroll) {
        seed = 1 + Math.floor(Math.random() * 2147483646);
        if (this.last && this.last.clipId === clipId) {
            return toolCore.again(this.last, this.nextId(), seed);
        }
    }
    var song = this.readSong();
    var planned = toolCore.plan({
        kind: KIND, settings: settings, context: snapshot.context, input: snapshot.input,
        clipNotes: clip ? clip.notes : null, clipRegion: clip ? clip.region : null,
        trackInstrument: clip ? clip.trackInstrument : null, tempo: song.tempo, numerator: song.numerator,
        denominator: song.denominator, id: this.nextId(), replyPort: this.replyPort,
        perChunk: core.notesPerChunk(this.maxDatagramBytes), seed: seed
    });
    planned.clipId = clipId;
    return planned;
};

Tool.prototype.onAcceptTimeout = function () {
    if (this.state === "waiting") {
        this.finish("no answer from the daemon on port " + settings.daemonPort + " (the request may have been " +
            "lost): try again");
    }
};

Tool.prototype.cancel = function () {
    if (this.state === "connecting") {
        this.pongWaiter = null;
        this.pongTimer.cancel();
        this.finish("cancelled");
        return;
    }
    if (!this.job || !this.busy() || this.state === "cancelling") {
        return;
    }
    this.outbox = [];
    this.state = "cancelling";
    say("cancelling...");
    this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    this.cancelTimer.schedule(CANCEL_TIMEOUT);
};

// Generate (the panel's button): a new request from what live.miditool.in hands over next.
Tool.prototype.go = function () {
    if (this.busy()) {
        this.cancel();
        return;
    }
    if (this.state !== "ready") {
        this.armed = true;
        this.applyTimer.schedule(APPLY_WAIT);
    }
    this.trigger.schedule(0);
};

// Re-roll: the last request again with a new seed (a new request when there was none).
Tool.prototype.reroll = function () {
    if (this.busy()) {
        return;
    }
    if (this.state === "ready") {
        this.finish(null);
    }
    this.rerollNext = true;
    this.applyTimer.schedule(APPLY_WAIT);
    this.trigger.schedule(0);
};

Tool.prototype.onReply = function (address, args) {
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
            this.retried = true;
            log("the daemon missed part of the clip; sending it again");
            this.planned.request.id = this.nextId();
            this.job = new core.Job(this.planned.request.id, this.planned.request.mode);
            this.state = "sending";
            this.queue(core.buildRequest(this.planned.request));
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
            this.finish("cancelled");
            return;
        }
        this.complete(event.result);
        break;
    }
};

// The whole result is here: work out the notes, then ask Live for an apply cycle to write them.
Tool.prototype.complete = function (result) {
    var done;
    try {
        done = toolCore.finish(this.planned, result);
    } catch (error) {
        log(error.stack || error.message);
        this.finish("error: " + error.message);
        return;
    }
    if (done.empty) {
        this.finish(toolCore.TEXT.empty + " (seed " + result.seed + ")");
        return;
    }
    for (var w = 0; w < result.warnings.length; w++) {
        log("warning: " + result.warnings[w]);
    }
    this.job = null;
    this.result = result;
    this.done = done;
    this.state = "ready";
    this.watchdog.cancel();
    this.setButton();
    say("writing " + done.count + " notes into the clip...");
    this.trigger.schedule(0);
    this.applyTimer.schedule(APPLY_WAIT);
};

Tool.prototype.askResend = function (missing) {
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

Tool.prototype.onResendTimer = function () {
    if (!this.job || !this.busy()) {
        return;
    }
    var missing = this.job.missing();
    if (missing.length) {
        this.askResend(missing);
    }
};

Tool.prototype.onWatchdog = function () {
    if (!this.job || !this.busy()) {
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

Tool.prototype.close = function () {
    if (this.job && this.busy()) {
        this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id));
    }
    this.pongTimer.cancel();
    this.trigger.cancel();
    this.finish(null);
};

// ----- Max's entry points ----------------------------------------------------------------------------

// The UI's parameters (their varnames) and the message each sends into the js inlet.
var INTERFACE = [
    ["Mode", "mode"], ["Instrument", "instrument"], ["Grid", "grid"], ["Scale", "scale"], ["Low", "low"],
    ["High", "high"], ["Seed", "seed"], ["Temperature", "temperature"], ["Top-p", "top_p"],
    ["Daemon port", "daemon_port"], ["Reply port", "reply_port"], ["Page", "page"]
];

// The panel's two pages (the tab "Page"): the boxes shown on each, by varname. The tab and the
// status line are on both.
var PAGES = [
    ["Prompt", "Instrument", "Grid", "Mode", "About", "Seed", "Generate", "Re-roll"],
    ["Scale label", "Scale", "Low label", "Low", "High label", "High", "Temperature label", "Temperature",
        "Top-p label", "Top-p", "Daemon label", "Daemon port", "Reply label", "Reply port", "Check"]
];

function readInterface() {
    var patcher = jsthis && jsthis.patcher;
    if (!patcher || !patcher.getnamed) {
        return;
    }
    var handlers = {
        mode: mode, instrument: instrument, grid: grid, scale: scale, low: low, high: high, seed: seed,
        temperature: temperature, top_p: top_p, daemon_port: daemon_port, reply_port: reply_port, page: page
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
    if (tool) {
        return;
    }
    readInterface();
    tool = new Tool(LiveAPI);
    tool.applyPorts();
    tool.setButton();
    tool.check();
}

// live.miditool.in: the context (inlet 2), then the notes (inlet 1), within one apply cycle.
function dictionary(name) {
    var value = readDict(name);
    if (inlet === IN_CONTEXT) {
        pendingContext = value;
        return;
    }
    if (inlet !== IN_NOTES) {
        return;
    }
    var context = pendingContext;
    pendingContext = null;
    if (!tool) {
        emitNotes(toolCore.readNotes(value));
        say("the tool is still loading");
        return;
    }
    tool.onTrigger(value, context);
}

function go() {
    if (!tool) {
        say("the tool is still loading");
        return;
    }
    tool.go();
}

function reroll() {
    if (tool) {
        tool.reroll();
    }
}

function cancel() {
    if (tool) {
        tool.cancel();
    }
}

function check() {
    if (tool) {
        tool.check();
    }
}

function anything() {
    var args = Array.prototype.slice.call(arguments);
    var address = messagename;
    if (address.charAt(0) === "/") {
        if (tool) {
            tool.onReply(address, args);
        }
        return;
    }
    log("unknown message " + address);
}

function pick(list, index) {
    var i = Math.round(Number(index));
    return i >= 0 && i < list.length ? list[i] : list[0];
}

function changed() {
    settingsChangedAt = Date.now();
}

// [textedit] -> [route text] -> [prepend prompt]; an empty textedit sends a bare bang. Each
// keystroke bangs the textedit (through [deferlow]), so the prompt is what is typed, also for
// Live's Apply, without Return.
function prompt() {
    var words = Array.prototype.slice.call(arguments);
    settings.prompt = words.length === 1 && words[0] === "bang" ? "" : words.join(" ");
}

function text() {
    prompt.apply(this, arguments);
}

function mode(index) {
    settings.mode = pick(toolCore.MODES, index);
    changed();
}

// Menu index 0 = auto; 1..129 = GM programs 0..127 and drums (128).
function instrument(index) {
    settings.instrument = Math.round(Number(index)) - 1;
    changed();
}

function grid(index) {
    settings.grid = pick(toolCore.GRIDS, index);
    changed();
}

function scale(index) {
    settings.scale = pick(toolCore.SCALES, index);
    changed();
}

function low(value) {
    settings.low = Math.max(0, Math.min(127, Math.round(Number(value))));
    changed();
}

function high(value) {
    settings.high = Math.max(0, Math.min(127, Math.round(Number(value))));
    changed();
}

function seed(value) {
    settings.seed = Math.max(0, Math.round(Number(value)));
    changed();
}

function temperature(value) {
    settings.temperature = Math.max(0.01, Math.min(5, Number(value)));
    changed();
}

function top_p(value) {
    settings.topP = Math.max(0.01, Math.min(1, Number(value)));
    changed();
}

function daemon_port(value) {
    settings.daemonPort = Math.round(Number(value));
    if (tool && !tool.busy()) {
        tool.applyPorts();
        tool.check();
    }
}

function reply_port(value) {
    settings.replyPort = Math.round(Number(value));
    if (tool && !tool.busy()) {
        tool.applyPorts();
    }
}

// The tab: show one page of the panel, hide the other.
function page(index) {
    var shown = Math.round(Number(index));
    changed();
    var patcher = jsthis && jsthis.patcher;
    if (!patcher || !patcher.getnamed) {
        return;
    }
    for (var p = 0; p < PAGES.length; p++) {
        for (var i = 0; i < PAGES[p].length; i++) {
            var box = patcher.getnamed(PAGES[p][i]);
            if (box) {
                box.hidden = p === shown ? 0 : 1;
            }
        }
    }
}

function notifydeleted() {
    if (tool) {
        tool.close();
    }
}
