"""Which given notes a request replaces: the rule of docs/protocol.md, in the model's 10 ms ticks.

A client that asked the daemon for the new notes only must delete exactly the
notes the daemon replaced. The rule: infill replaces the audible notes whose
onset falls inside the span; accompany replaces, inside the span, the audible
notes of the instruments that are not given; generate and continue replace
nothing. "Inside" is decided on the model's time grid (onset and span ends
rounded to 10 ms), as the engine decides it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bridge.amt.notes import Note, seconds_to_ticks
from bridge.amt.tempo import TempoMap


def replaced_notes(mode: str, notes: Sequence[Note], tempo: TempoMap, start: float, end: float,
                   given: Iterable[int] | None = None) -> list[Note]:
    """The notes of ``notes`` (beats) that a ``mode`` request over [start, end) beats replaces, in their order."""
    if mode not in ("infill", "accompany"):
        return []
    audible = [n for n in notes if not n.mute]
    low = seconds_to_ticks(tempo.beats_to_seconds(start))
    high = seconds_to_ticks(tempo.beats_to_seconds(end))
    inside = [n for n in audible if low <= seconds_to_ticks(tempo.beats_to_seconds(n.start)) < high]
    if mode == "infill":
        return inside
    parts = frozenset(given) if given else frozenset(n.instrument for n in audible)
    return [n for n in inside if n.instrument not in parts]
