"""Keep rhythm and keep pitches: which given notes a row can still take, and why not when it cannot.

Keep rhythm gives every new note a fixed onset and duration (a slot); the
model chooses the note. Keep pitches gives every new note a fixed note value,
chord by chord; the model chooses when each chord starts and how long its
notes last. Both promise every given note back. The few cases where the
grammar forbids one (the 16-instrument cap, a slot with no allowed pitch
left, more chords than 10 ms steps in the span) are counted per reason, so the
engine can say how many notes were not kept and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from bridge.amt import vocab
from bridge.engine.grammar import MAX_INSTRUMENTS_BESIDES_NEW

CAP = "the piece already has as many instruments as the model takes (16) and theirs is not one of them"
NO_PITCH = ("no allowed pitch was left on their onset (pitch range, scale, or more notes on one onset "
            "than allowed pitches)")
SPAN_END = "the span ended before them (more chords than 10 ms steps in the span)"
TOKEN_LIMIT = "the token limit was reached first (raise max_new_tokens)"
MAX_NOTES = "the note limit was reached first (raise max notes)"

FINISH_REASONS = {"end": SPAN_END, "max_new_tokens": TOKEN_LIMIT, "max_notes": MAX_NOTES}


class RhythmSlot(NamedTuple):
    """One fixed onset and duration (absolute ticks); ``instrument`` None lets the model choose it."""

    onset: int
    duration: int
    instrument: int | None = None


def blocked_by_cap(instrument: int, present: set[int]) -> bool:
    """A new instrument once 15 are present (the same rule as the note mask's cap)."""
    return instrument not in present and len(present) >= MAX_INSTRUMENTS_BESIDES_NEW


def playable_chord(chord: Sequence[int], present: set[int]) -> tuple[list[int], int]:
    """The notes of a fixed chord the cap lets in, in order, and how many it keeps out."""
    instruments = set(present)
    kept = []
    for note in chord:
        instrument = note // vocab.MAX_PITCH
        if blocked_by_cap(instrument, instruments):
            continue
        instruments.add(instrument)
        kept.append(note)
    return kept, len(chord) - len(kept)


class KeepProgress:
    """Per row: which given note comes next, and the given notes passed over, by reason."""

    def __init__(self) -> None:
        self.slot_index = 0  # keep rhythm: the next slot
        self.chord_index = 0  # keep pitches: the chord being written
        self.chord: list[int] | None = None  # its notes the cap lets in
        self.member_index = 0
        self.chord_time = 0  # onset of the chord, shared by its notes
        self.chords_started = 0
        self.onset_notes: tuple[int, set[int]] = (-1, set())  # keep rhythm: notes written on the last onset
        self.unplaced: Counter[str] = Counter()

    def taken_at(self, onset: int) -> set[int]:
        time, notes = self.onset_notes
        return notes if time == onset else set()

    def took(self, onset: int, note: int) -> None:
        time, notes = self.onset_notes
        if time != onset:
            self.onset_notes = (onset, notes := set())
        notes.add(note)

    def remaining_given(self, rhythm: Sequence[RhythmSlot] | None, pitches: Sequence[Sequence[int]] | None) -> int:
        if rhythm is not None:
            return len(rhythm) - self.slot_index
        if pitches is not None:
            left = sum(len(c) for c in pitches[self.chord_index + (self.chord is not None):])
            if self.chord is not None:
                left += len(self.chord) - self.member_index
            return left
        return 0
