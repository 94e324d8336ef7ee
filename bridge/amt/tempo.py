"""Beats (what a DAW counts) to seconds (what the model counts) and back.

The model thinks in 10 ms ticks of real time; a song is laid out in beats under
a tempo that may change. A :class:`TempoMap` is the bridge between the two.
Beats here are quarter notes, as in Live, REAPER and MIDI files.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TempoChange:
    """From ``beat`` on, the song runs at ``bpm`` quarter notes per minute."""

    beat: float
    bpm: float


MAX_BPM = 60_000_000.0
"""The fastest tempo a MIDI file can state (1 microsecond per beat)."""


def _check_bpm(bpm: float) -> None:
    # Any tempo a MIDI file can state is accepted here; what a musician may ask
    # for (a sane range) is checked where requests come in.
    if not (isinstance(bpm, (int, float)) and math.isfinite(bpm) and 0.0 < bpm <= MAX_BPM):
        raise ValueError(f"tempo {bpm!r} bpm is not a usable tempo (above 0, at most {MAX_BPM:g} bpm)")


@dataclass(frozen=True)
class TempoMap:
    """Piecewise-constant tempo: a list of changes, the first at beat 0."""

    changes: tuple[TempoChange, ...]
    _change_beats: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _change_seconds: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.changes:
            raise ValueError("a tempo map needs at least one tempo")
        ordered = sorted(self.changes, key=lambda c: c.beat)
        if ordered[0].beat != 0:
            ordered.insert(0, TempoChange(0.0, ordered[0].bpm))
        cleaned: list[TempoChange] = []
        for change in ordered:
            _check_bpm(change.bpm)
            if not math.isfinite(change.beat) or change.beat < 0:
                raise ValueError(f"tempo change at beat {change.beat!r} is not a position in the song")
            if cleaned and cleaned[-1].beat == change.beat:
                cleaned[-1] = change  # the later of two changes at one position wins
            else:
                cleaned.append(change)
        seconds = [0.0]
        for previous, current in zip(cleaned, cleaned[1:]):
            seconds.append(seconds[-1] + (current.beat - previous.beat) * 60.0 / previous.bpm)
        object.__setattr__(self, "changes", tuple(cleaned))
        object.__setattr__(self, "_change_beats", tuple(c.beat for c in cleaned))
        object.__setattr__(self, "_change_seconds", tuple(seconds))

    @classmethod
    def constant(cls, bpm: float) -> TempoMap:
        return cls((TempoChange(0.0, float(bpm)),))

    @classmethod
    def from_pairs(cls, pairs: list[tuple[float, float]] | list[list[float]]) -> TempoMap:
        """Build from ``[(beat, bpm), ...]`` as clients send it."""
        return cls(tuple(TempoChange(float(b), float(t)) for b, t in pairs))

    @property
    def initial_bpm(self) -> float:
        return self.changes[0].bpm

    def beats_to_seconds(self, beats: float) -> float:
        """Position in seconds of a position in beats (negative beats extrapolate the first tempo)."""
        if beats <= 0:
            return beats * 60.0 / self.changes[0].bpm
        i = bisect.bisect_right(self._change_beats, beats) - 1
        change = self.changes[i]
        return self._change_seconds[i] + (beats - change.beat) * 60.0 / change.bpm

    def seconds_to_beats(self, seconds: float) -> float:
        """Inverse of :meth:`beats_to_seconds`."""
        if seconds <= 0:
            return seconds * self.changes[0].bpm / 60.0
        i = bisect.bisect_right(self._change_seconds, seconds) - 1
        change = self.changes[i]
        return change.beat + (seconds - self._change_seconds[i]) * change.bpm / 60.0

    def bpm_at(self, beats: float) -> float:
        i = max(0, bisect.bisect_right(self._change_beats, beats) - 1)
        return self.changes[i].bpm


@dataclass(frozen=True)
class TimeSignature:
    """A meter such as 4/4 or 6/8; bars are counted in quarter-note beats."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if not (isinstance(self.numerator, int) and 1 <= self.numerator <= 64):
            raise ValueError(f"time signature numerator {self.numerator!r} must be 1..64")
        if self.denominator not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"time signature denominator {self.denominator!r} must be 1, 2, 4, 8, 16 or 32")

    @classmethod
    def parse(cls, text: str) -> TimeSignature:
        """Parse ``"7/8"``; a clear error for anything else."""
        try:
            top, bottom = text.strip().split("/")
            return cls(int(top), int(bottom))
        except ValueError as error:
            raise ValueError(f"time signature {text!r} is not like 4/4 or 6/8: {error}") from None

    @property
    def beats_per_bar(self) -> float:
        return self.numerator * 4.0 / self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"
