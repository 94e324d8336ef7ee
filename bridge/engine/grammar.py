"""The token grammar as index ranges: what each triplet slot may hold.

Built once per request as small tensors over the slice of the head a slot
needs (10,000 time rows, 1,000 duration rows, 16,513 note+REST rows), never as
Python loops over the vocabulary. Restricting the head to those rows is both
the constraint and the speed-up: the other 170,000 rows are never computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

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


def note_slot_mask(constraints: MusicianConstraints) -> torch.Tensor:
    """Bool [16,513]: which note ids (and REST, always) the musician allows.

    The pitch range and the scale (pitch classes) apply to pitched
    instruments; for drums a pitch picks the drum sound, so drums keep every pitch.
    """
    grid = torch.zeros(vocab.MAX_INSTRUMENT, vocab.MAX_PITCH, dtype=torch.bool)
    allowed_instruments = (
        sorted(constraints.instruments) if constraints.instruments is not None else range(vocab.MAX_INSTRUMENT)
    )
    pitched = torch.zeros(vocab.MAX_PITCH, dtype=torch.bool)
    pitched[constraints.lowest_pitch : constraints.highest_pitch + 1] = True
    if constraints.pitch_classes is not None:
        in_scale = torch.tensor([p % 12 in constraints.pitch_classes for p in range(vocab.MAX_PITCH)])
        pitched &= in_scale
    for instrument in allowed_instruments:
        grid[instrument, :] = True if instrument == vocab.DRUMS else pitched
    return torch.cat([grid.reshape(-1), torch.ones(1, dtype=torch.bool)])


def instrument_cap_mask(present: set[int]) -> torch.Tensor | None:
    """Bool [16,513] limiting notes to ``present`` instruments once the cap is reached; None below it."""
    if len(present) < MAX_INSTRUMENTS_BESIDES_NEW:
        return None
    grid = torch.zeros(vocab.MAX_INSTRUMENT, vocab.MAX_PITCH, dtype=torch.bool)
    grid[sorted(present)] = True
    return torch.cat([grid.reshape(-1), torch.ones(1, dtype=torch.bool)])


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
