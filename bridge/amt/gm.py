"""General MIDI program names, so people see "Fretless Bass", not "35".

Instrument numbers follow the model: 0-127 are GM programs, 128 is drums.
"""

from __future__ import annotations

import re

from bridge.amt.vocab import DRUMS

GM_PROGRAM_NAMES: tuple[str, ...] = (
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
    "Telephone Ring", "Helicopter", "Applause", "Gunshot",
)
assert len(GM_PROGRAM_NAMES) == 128

# Words a producer puts in a track name, mapped to a typical GM program.
_NAME_HINTS: tuple[tuple[str, int], ...] = (
    ("drum", DRUMS), ("kit", DRUMS), ("perc", DRUMS), ("beat", DRUMS), ("808", DRUMS),
    ("bass", 33), ("piano", 0), ("keys", 4), ("rhodes", 4), ("organ", 16), ("guitar", 25),
    ("gtr", 25), ("string", 48), ("violin", 40), ("cello", 42), ("choir", 52), ("vox", 52),
    ("trumpet", 56), ("brass", 61), ("horn", 60), ("sax", 65), ("flute", 73), ("clarinet", 71),
    ("pad", 89), ("lead", 81), ("synth", 81), ("bell", 14), ("harp", 46), ("marimba", 12),
)


def instrument_name(instrument: int) -> str:
    """Display name of a model instrument (0-127 GM programs, 128 drums)."""
    if instrument == DRUMS:
        return "Drums"
    if 0 <= instrument < 128:
        return GM_PROGRAM_NAMES[instrument]
    raise ValueError(f"instrument {instrument} must be 0..128")


def instrument_from_track_name(name: str) -> int | None:
    """Guess the instrument a track plays from its name.

    A GM program number in brackets wins ("Lead [81]", "[128]" for drums); else
    a word such as "Bass" or "Drums"; else ``None``.
    """
    bracket = re.search(r"\[(\d{1,3})\]", name)
    if bracket and 0 <= int(bracket.group(1)) <= DRUMS:
        return int(bracket.group(1))
    lowered = name.lower()
    for word, program in _NAME_HINTS:
        if word in lowered:
            return program
    return None
