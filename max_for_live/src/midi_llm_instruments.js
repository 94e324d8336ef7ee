// MIDI-LLM for Max for Live: instruments: the 128 GM programs and drums, their names, and what a
// track plays (a program in brackets in its name, a Drum Rack, a word such as Bass).
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLM namespace
// of midi_llm_core.js, which is loaded first.

(function (core) {
    "use strict";

    var DRUMS = core.DRUMS;

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

    core.GM_NAMES = GM_NAMES;
    core.instrumentName = instrumentName;
    core.instrumentFromTrackName = instrumentFromTrackName;
    core.trackInstrument = trackInstrument;
    core.trackNameFor = trackNameFor;
}(MidiLLM));
