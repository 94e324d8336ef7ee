// MIDI-LLM for Max for Live: building a request per docs/protocol.md: its header, its notes in
// numbered /midi-llm/notes chunks under Max's 256 atoms, and the small messages (ping, status,
// reload, cancel, resend). Every message but the /notes chunks goes through signed(): with a secret
// (the daemon's osc.secret), each carries it as its last pair, "secret <token>" (docs/protocol.md,
// section 2: a daemon with a secret answers any request without it with unauthorized only).
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLM namespace
// of midi_llm_core.js, which is loaded first.

(function (core) {
    "use strict";

    var PREFIX = core.PREFIX;
    var NOTE_ATOMS = core.NOTE_ATOMS;
    var NOTES_PER_CHUNK = core.NOTES_PER_CHUNK;
    var MAX_ATOMS = core.MAX_ATOMS;
    var MODES = core.MODES;
    var UserError = core.UserError;
    var round6 = core.round6;
    var clamp = core.clamp;

    var LIMITS = core.LIMITS;

    var SECRET_ATOMS = 2; // "secret" <token>

    // The one place the secret is added: at the end, where the daemon looks for it in every request
    // (and where a daemon without a secret ignores it).
    function signed(message, secret) {
        var token = secret === undefined || secret === null ? "" : String(secret);
        return token ? message.concat(["secret", token]) : message;
    }

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
            header.push("prompt", prompt.slice(0, LIMITS.MAX_PROMPT_CHARACTERS));
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
        var atoms = [];
        for (i = 0; i < notes.length; i++) {
            atoms.push(noteAtoms(notes[i], p.instrument, origin));
        }
        return [signed(header, p.secret)].concat(chunkNotes(p.id, atoms, p.perChunk));
    }

    // The small messages all take (id, replyPort, ..., secret): a client passes its secret to each.
    function pingMessage(id, replyPort, secret) {
        return signed([PREFIX + "/ping", id, replyPort], secret);
    }

    function statusMessage(id, replyPort, secret) {
        return signed([PREFIX + "/status", id, replyPort], secret);
    }

    // Load the model again after the daemon could not load it (state error).
    function reloadMessage(id, replyPort, secret) {
        return signed([PREFIX + "/reload", id, replyPort], secret);
    }

    function cancelMessage(id, replyPort, target, secret) {
        return signed([PREFIX + "/cancel", id, replyPort, target], secret);
    }

    // /midi-llm/resend messages for (variation, chunk) pairs, each under 256 atoms with the secret.
    function resendMessages(id, replyPort, pairs, secret) {
        var messages = [];
        var per = Math.floor((MAX_ATOMS - 3 - SECRET_ATOMS) / 2);
        for (var i = 0; i < pairs.length; i += per) {
            var message = [PREFIX + "/resend", id, replyPort];
            var group = pairs.slice(i, i + per);
            for (var j = 0; j < group.length; j++) {
                message.push(group[j][0], group[j][1]);
            }
            messages.push(signed(message, secret));
        }
        return messages;
    }

    core.signed = signed;
    core.noteAtoms = noteAtoms;
    core.notesPerChunk = notesPerChunk;
    core.chunkNotes = chunkNotes;
    core.buildRequest = buildRequest;
    core.pingMessage = pingMessage;
    core.statusMessage = statusMessage;
    core.reloadMessage = reloadMessage;
    core.cancelMessage = cancelMessage;
    core.resendMessages = resendMessages;
}(MidiLLM));
