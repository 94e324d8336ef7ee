"""The token grammar's fixed facts: the note slot, the 16-instrument cap and the musician's constraints.

What each position may hold is decided by the state machine
(bridge/engine/machine/) from these; backends turn its answers into index
ranges of the head (10,000 time rows, 1,000 duration rows, 16,513 note+REST
rows) or masks. Restricting the head to those rows is both the constraint and
the speed-up: the other 170,000 rows are never computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.amt import vocab

MAX_INSTRUMENTS_BESIDES_NEW = 15
"""Once 15 distinct instruments are present, no new instrument may enter (16 with drums)."""

NOTE_SLOT_SIZE = vocab.MAX_NOTE + 1  # notes then REST, contiguous ids 11,000 .. 27,512


@dataclass(frozen=True)
class MusicianConstraints:
    """What the musician asked for on top of the grammar."""

    instruments: frozenset[int] | None = None  # None: any instrument the model likes
    lowest_pitch: int = 0
    highest_pitch: int = 127
    max_notes: int | None = None
    pitch_classes: frozenset[int] | None = None  # None: every pitch class (no scale)

    def __post_init__(self) -> None:
        if not 0 <= self.lowest_pitch <= self.highest_pitch <= 127:
            raise ValueError(f"pitch range {self.lowest_pitch}..{self.highest_pitch} must lie within 0..127, low first")
        if self.instruments is not None:
            if not self.instruments:
                raise ValueError("the list of allowed instruments is empty")
            bad = [i for i in self.instruments if not 0 <= i <= vocab.DRUMS]
            if bad:
                raise ValueError(f"instrument(s) {bad} must be 0..127 (GM program) or 128 (drums)")
        if self.max_notes is not None and self.max_notes < 1:
            raise ValueError("max notes must be at least 1")
        if self.pitch_classes is not None:
            if not self.pitch_classes or any(not 0 <= c <= 11 for c in self.pitch_classes):
                raise ValueError("pitch classes (the scale) must be a non-empty set of numbers 0..11")
            in_range = range(self.lowest_pitch, self.highest_pitch + 1)
            if not any(p % 12 in self.pitch_classes for p in in_range):
                raise ValueError(f"no pitch of the scale lies in {self.lowest_pitch}..{self.highest_pitch}")


def instruments_in(tokens: list[int]) -> set[int]:
    """Instruments of the events and controls in ``tokens`` (RESTs are not instruments)."""
    found: set[int] = set()
    for i in range(2, len(tokens), 3):
        token = tokens[i]
        if vocab.is_event_note(token):
            found.add((token - vocab.NOTE_OFFSET) // vocab.MAX_PITCH)
        elif vocab.is_control_note(token):
            found.add((token - vocab.CONTROL_NOTE_OFFSET) // vocab.MAX_PITCH)
    return found
