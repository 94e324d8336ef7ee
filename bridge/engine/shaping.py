"""Turn the model's events into notes a producer accepts: on the grid, inside the span, no doubles.

The same shaper runs on each note as it is streamed and builds the final
result, so what was streamed is exactly what comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bridge.amt import vocab
from bridge.amt.notes import Note, event_to_note, with_min_length
from bridge.amt.tempo import TempoMap
from bridge.engine.grid import snap

_SAME_START = 1e-6  # beats: two onsets closer than this are the same onset


class NoteShaper:
    """Converts one variation's events to notes, in order, deciding each note once."""

    def __init__(self, tempo: TempoMap, start: float, end: float, *, grid: float | None,
                 default_velocity: float, occupied: Iterable[Note] = ()):
        self.tempo = tempo
        self.start = start
        self.end = end
        self.grid = grid
        self.default_velocity = default_velocity
        self._taken: set[tuple[int, int, int]] = {self._key(n) for n in occupied if not n.mute}
        self.notes: list[Note] = []

    @staticmethod
    def _key(note: Note) -> tuple[int, int, int]:
        return (note.instrument, note.pitch, round(note.start / _SAME_START))

    def shape(self, event: vocab.Event, *, after: float | None = None, at: float | None = None) -> Note | None:
        """The note for ``event``, or None when it would double a note already there.

        ``after``: the note must start later than this (a new chord after the previous one,
        even once both are snapped to the grid). ``at``: the note starts exactly there (the
        other notes of a chord whose first note was placed already).
        """
        note = event_to_note(event, self.tempo, default_velocity=self.default_velocity)
        start, end = note.start, note.end
        if self.grid:
            start = snap(start, self.grid, self.start)
            if start >= self.end - 1e-9:
                start -= self.grid
            start = max(start, self.start)
            if after is not None and start <= after + 1e-9 and after + self.grid < self.end - 1e-9:
                start = after + self.grid
            if at is not None:
                start = at
            end = max(snap(end, self.grid, self.start), start + self.grid)
        elif at is not None:
            end, start = at + (end - start), at
        start = min(max(start, self.start), self.end)
        end = min(end, self.end)
        if end <= start:
            end = min(self.end, start + (self.grid or 0.01))
        note = replace(note, start=start, duration=max(0.0, end - start))
        return self._keep(note)

    def shape_on_slot(self, event: vocab.Event, slot: Note) -> Note | None:
        """The model's note on a fixed rhythm slot: the slot's timing and velocity, the model's pitch."""
        return self._keep(replace(slot, pitch=event.pitch, instrument=event.instrument, mute=False,
                                  channel=vocab.DRUM_CHANNEL if event.instrument == vocab.DRUMS else None,
                                  note_id=None))

    def _keep(self, note: Note) -> Note | None:
        # every output (clip, file, live) gets the one minimum length: a zero-length note would hang
        note = with_min_length(note, self.tempo)
        key = self._key(note)
        if key in self._taken:
            return None
        self._taken.add(key)
        self.notes.append(note)
        return note
