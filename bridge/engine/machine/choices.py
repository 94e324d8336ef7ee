"""What the grammar allows at one position, in a form every backend can apply cheaply.

The state machine (:mod:`bridge.engine.machine.row`) answers "what comes
next" with one of these. They are plain data with no tensors, so the same
answer drives the transformers loop (which computes only the allowed rows of
the output head) and vLLM's logits processor (which masks a full row of
logits). Ids are AMT ids with onsets relative to the row's window, which is
what the model reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bridge.amt import vocab

ALL_PITCHES = frozenset(range(vocab.MAX_PITCH))
ALL_INSTRUMENTS = frozenset(range(vocab.MAX_INSTRUMENT))

CONTROL = "control"
TIME = "time"
DURATION = "duration"
NOTE = "note"


@dataclass(frozen=True)
class NoteRule:
    """Which note ids (and whether REST) a note slot may hold.

    ``pitched`` applies to pitched instruments; drums keep every pitch (a drum
    pitch picks a sound, not a note of a scale). ``excluded`` note values
    (instrument * 128 + pitch) are never allowed: keep rhythm uses it so one
    onset never gets the same note twice.
    """

    instruments: frozenset[int]
    pitched: frozenset[int]
    rest: bool
    excluded: frozenset[int] = frozenset()

    def pitches_of(self, instrument: int) -> frozenset[int]:
        return ALL_PITCHES if instrument == vocab.DRUMS else self.pitched

    def allows(self, note: int) -> bool:
        """Whether ``note`` (relative to NOTE_OFFSET; MAX_NOTE is REST) is allowed."""
        if note == vocab.MAX_NOTE:
            return self.rest
        instrument, pitch = divmod(note, vocab.MAX_PITCH)
        return instrument in self.instruments and pitch in self.pitches_of(instrument) and note not in self.excluded

    def is_empty(self) -> bool:
        """No note and no REST allowed."""
        if self.rest:
            return False
        for instrument in self.instruments:
            pitches = self.pitches_of(instrument)
            taken = sum(1 for p in pitches if instrument * vocab.MAX_PITCH + p in self.excluded) if self.excluded else 0
            if len(pitches) > taken:
                return False
        return True

    def base_key(self) -> tuple[frozenset[int], frozenset[int], bool]:
        """What a cached mask depends on (``excluded`` is applied on top)."""
        return self.instruments, self.pitched, self.rest

    def runs(self) -> Iterator[tuple[int, int]]:
        """Allowed note values (relative to NOTE_OFFSET, REST = MAX_NOTE) as [first, end) runs, ``excluded`` ignored."""
        pitched_runs = _runs(sorted(self.pitched))
        for instrument in sorted(self.instruments):
            base = instrument * vocab.MAX_PITCH
            for first, end in ([(0, vocab.MAX_PITCH)] if instrument == vocab.DRUMS else pitched_runs):
                yield base + first, base + end
        if self.rest:
            yield vocab.MAX_NOTE, vocab.MAX_NOTE + 1


def _runs(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for value in values:
        if out and out[-1][1] == value:
            out[-1] = (out[-1][0], value + 1)
        else:
            out.append((value, value + 1))
    return out


@dataclass(frozen=True)
class Sample:
    """Sample the next id from ``[first, end)`` (AMT ids); for a note slot only what ``notes`` allows."""

    slot: str
    first: int
    end: int
    notes: NoteRule | None = None


@dataclass(frozen=True)
class Force:
    """The next id is ``id`` (AMT id): a due control, a fixed onset or duration, a fixed note."""

    slot: str
    id: int


@dataclass(frozen=True)
class Rebuild:
    """The model must now see a new window (``RowMachine.rebuild`` then ``window_ids``); nothing is sampled first."""


@dataclass(frozen=True)
class Finished:
    """The row is done: ``reason`` is ``end``, ``max_notes`` or ``max_new_tokens``."""

    reason: str


Expectation = Sample | Force | Rebuild | Finished
