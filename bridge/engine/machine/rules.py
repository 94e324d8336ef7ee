"""The policy of one request: everything the state machine needs to know that does not change while it runs.

Every mode is a choice of these fields: generate / continue / infill /
accompany differ only in their plan (prompt, controls, span); the musician's
constraints become one :class:`NoteRule`; keep rhythm fixes ``rhythm``, keep
pitches fixes ``pitches``; the model's context sets the window capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.amt import vocab
from bridge.amt.sequence import DecodingPlan
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.keep_modes import RhythmSlot
from bridge.engine.machine.choices import ALL_INSTRUMENTS, NoteRule
from bridge.engine.window import LOOKBACK_TICKS, WindowPolicy


def base_note_rule(constraints: MusicianConstraints) -> NoteRule:
    """The notes the musician allows (instruments, pitch range, scale); REST always."""
    pitched = range(constraints.lowest_pitch, constraints.highest_pitch + 1)
    if constraints.pitch_classes is not None:
        pitched = [p for p in pitched if p % 12 in constraints.pitch_classes]
    instruments = constraints.instruments if constraints.instruments is not None else ALL_INSTRUMENTS
    return NoteRule(frozenset(instruments), frozenset(pitched), True)


@dataclass(frozen=True)
class RowRules:
    """One request's fixed policy, in absolute ticks (see the module docstring)."""

    start: int
    end: int
    capacity: int
    kept_at_rebuild: int
    notes: NoteRule
    max_new_tokens: int
    max_notes: int | None = None
    rhythm: tuple[RhythmSlot, ...] | None = None
    pitches: tuple[tuple[int, ...], ...] | None = None
    first_note: bool = False
    """The musician chose the instruments: until the row has written one note it may neither
    write REST nor end (an onset at or past the end), so asking for a bass part never comes
    back empty because the model preferred silence."""

    def to_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "capacity": self.capacity, "kept": self.kept_at_rebuild,
            "instruments": sorted(self.notes.instruments), "pitched": sorted(self.notes.pitched),
            "max_new_tokens": self.max_new_tokens, "max_notes": self.max_notes,
            "rhythm": None if self.rhythm is None else [list(s) for s in self.rhythm],
            "pitches": None if self.pitches is None else [list(c) for c in self.pitches],
            "first_note": self.first_note,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RowRules:
        rhythm = data["rhythm"]
        pitches = data["pitches"]
        return cls(
            start=int(data["start"]), end=int(data["end"]), capacity=int(data["capacity"]),
            kept_at_rebuild=int(data["kept"]),
            notes=NoteRule(frozenset(data["instruments"]), frozenset(data["pitched"]), True),
            max_new_tokens=int(data["max_new_tokens"]), max_notes=data["max_notes"],
            rhythm=None if rhythm is None else tuple(RhythmSlot(*s) for s in rhythm),
            pitches=None if pitches is None else tuple(tuple(c) for c in pitches),
            first_note=bool(data.get("first_note", False)),
        )


def request_rules(
    plan: DecodingPlan,
    policy: WindowPolicy,
    constraints: MusicianConstraints,
    max_new_tokens: int,
    rhythm: Sequence[RhythmSlot | tuple[int, int]] | None = None,
    pitches: Sequence[Sequence[int]] | None = None,
) -> RowRules:
    """The rules of one request; a bad keep-rhythm or keep-pitches input is a ValueError that says why."""
    if rhythm is not None and pitches is not None:
        raise ValueError("keep rhythm or keep pitches, not both")
    slots = None
    if rhythm is not None:
        slots = tuple(RhythmSlot(*slot) for slot in rhythm)
        if any(b.onset < a.onset for a, b in zip(slots, slots[1:])):
            raise ValueError("the rhythm's onsets must be in order")
        onsets = [plan.current_time, *(s.onset for s in slots)]
        if any(b - a > LOOKBACK_TICKS for a, b in zip(onsets, onsets[1:])):
            raise ValueError("the rhythm has a silence longer than 50 s, which the model cannot bridge")
    chords = None
    if pitches is not None:
        chords = tuple(tuple(int(n) for n in chord) for chord in pitches)
        if any(not 0 <= n < vocab.MAX_NOTE for chord in chords for n in chord):
            raise ValueError("a fixed note is outside the note range (instrument 0..128, pitch 0..127)")
    return RowRules(
        start=plan.start,
        end=plan.end,
        capacity=policy.capacity,
        kept_at_rebuild=policy.kept_at_rebuild,
        notes=base_note_rule(constraints),
        max_new_tokens=max_new_tokens,
        max_notes=constraints.max_notes,
        rhythm=slots,
        pitches=chords,
        first_note=constraints.instruments is not None and slots is None and chords is None,
    )
