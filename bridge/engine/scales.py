"""Scales as pitch classes, so that new notes can be kept in the song's key while they are sampled."""

from __future__ import annotations

NOTE_NAMES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}

SCALE_STEPS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
    "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "chromatic": tuple(range(12)),
}


def parse_root(text: str) -> int:
    """``"C#"``, ``"Bb"``, ``"f"`` -> pitch class 0-11."""
    name = text.strip().lower()
    if not name or name[0] not in NOTE_NAMES:
        raise ValueError(f"{text!r} is not a note name (C, C#, Db, ... B)")
    value = NOTE_NAMES[name[0]]
    for accidental in name[1:]:
        if accidental in ("#", "♯"):
            value += 1
        elif accidental in ("b", "♭"):
            value -= 1
        else:
            raise ValueError(f"{text!r} is not a note name (C, C#, Db, ... B)")
    return value % 12


def parse_scale(text: str) -> frozenset[int]:
    """Pitch classes of ``"D minor"``, ``"F# dorian"``, ``"Bb major pentatonic"``, or ``"0,2,4,5,7,9,11"``."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("the scale is empty")
    if cleaned[0].isdigit():
        try:
            classes = frozenset(int(part) for part in cleaned.split(","))
        except ValueError:
            raise ValueError(f"scale {text!r}: pitch classes must be numbers 0-11, e.g. 0,2,4,5,7,9,11") from None
        if not classes or any(not 0 <= c <= 11 for c in classes):
            raise ValueError(f"scale {text!r}: pitch classes must be numbers 0-11")
        return classes
    root, _, mode = cleaned.partition(" ")
    mode = " ".join(mode.lower().split()) or "major"
    if mode not in SCALE_STEPS:
        raise ValueError(f"scale {text!r}: the mode must be one of {', '.join(SCALE_STEPS)}")
    base = parse_root(root)
    return frozenset((base + step) % 12 for step in SCALE_STEPS[mode])
