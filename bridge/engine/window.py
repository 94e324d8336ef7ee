"""Which ids of a row's sequence the model sees, and from which time they count.

The AMT reference sampler feeds, at every step, the mode token and the last
1,017 ids of the sequence (1,024-position models), with every onset shifted
so that the earliest one in the window is 0. That is the layout the model
was trained on, so it is the layout kept here, for both profiles: the history
is the whole context minus the prefix (MIDI-LLM's text prompt and the mode
token) and the same 6 spare positions the reference leaves (the two ids of
the triplet being sampled among them).

A KV cache holds one layout; once the window is full, sliding it by one
triplet shifts every time, so the cache is rebuilt. With ``margin_ids`` = 0
(the default) the window is rebuilt as soon as it is full, which once full is
every step, exactly the reference's input. A margin keeps that many ids free
at a rebuild so the next rebuilds come every ``margin / 3`` notes instead
(the model then sees up to ``margin`` fewer ids of history; measured in
benchmarks/window.py).

Deliberate differences from the reference (docs/amt-format.md):
- with nothing heard yet, times count from the earliest onset the model may
  write (the span start), not from 0;
- the offset is never later than that floor, so the model may write before
  an anticipated note that comes first in the window;
- a window spanning more than 90 s (sparse music: the time block ends at
  100 s) is cut to the last 50 s at a rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.amt import vocab

REFERENCE_SPARE_POSITIONS = 6
"""Positions the reference leaves beyond the mode token and its 1,017 ids of history (1,024 - 1 - 1,017)."""

MIN_HISTORY_IDS = 30
"""Below this much room for music (ten notes) a request cannot be decoded sensibly."""

LOOKBACK_TICKS = 50 * vocab.TICKS_PER_SECOND
"""A window cut for spanning too long keeps the history of this much time before the floor."""

REBASE_AT_TICKS = vocab.MAX_TIME - 10 * vocab.TICKS_PER_SECOND
"""Rebuild once the floor is this far (90 s) past the window's offset: the time block ends at 100 s."""


def history_capacity(context_tokens: int, prefix_length: int) -> int:
    """The most ids of history the model sees after a prefix of ``prefix_length`` ids (mode token included).

    1,017 for the 1,024-position AMT models, as the reference; for MIDI-LLM the
    2,048 positions minus the text prompt, by the same rule.
    """
    capacity = (context_tokens - prefix_length - REFERENCE_SPARE_POSITIONS) // 3 * 3
    if capacity < MIN_HISTORY_IDS:
        raise ValueError(f"the text prompt ({prefix_length - 1} tokens) leaves no room for music in the "
                         f"model's {context_tokens}-token context; shorten the prompt")
    return capacity


@dataclass(frozen=True)
class WindowPolicy:
    """How much history the model sees and how much room a rebuild leaves (ids, whole triplets)."""

    capacity: int
    margin_ids: int = 0

    def __post_init__(self) -> None:
        if self.margin_ids < 0:
            raise ValueError(f"the window margin ({self.margin_ids} ids) must be 0 or more")
        if self.capacity - self.margin_ids < MIN_HISTORY_IDS:
            raise ValueError(f"a window margin of {self.margin_ids} ids leaves less than {MIN_HISTORY_IDS} ids of "
                             f"the {self.capacity} the model can see; use a smaller model.window_margin")

    @property
    def kept_at_rebuild(self) -> int:
        """Ids of history a rebuild keeps: the capacity less the margin, in whole triplets."""
        return (self.capacity - self.margin_ids) // 3 * 3


def window_offset(earliest: int | None, floor: int) -> int:
    """The time the window's onsets count from: its earliest onset, never later than ``floor``.

    ``floor`` is the earliest onset the model may write next; with nothing in
    the window (no history at all) the window starts there.
    """
    return floor if earliest is None else min(earliest, floor)


@dataclass
class Window:
    """One row's window: ``tokens[begin:]`` of its sequence, onsets counted from ``offset``.

    ``earliest`` and ``latest`` follow the onsets of the window as ids are
    appended (call :meth:`observe`), so the checks cost nothing per step.
    """

    begin: int
    offset: int
    earliest: int | None = None
    latest: int | None = None
    seen: int = 0

    def observe(self, tokens: Sequence[int]) -> None:
        """Account for the ids appended to ``tokens`` since the last call."""
        start = max(self.seen, self.begin)
        for i in range(start, len(tokens) - 2, 3):
            time = vocab.triplet_time(tokens[i : i + 3])
            self.earliest = time if self.earliest is None else min(self.earliest, time)
            self.latest = time if self.latest is None else max(self.latest, time)
        self.seen = len(tokens) - (len(tokens) - start) % 3

    def is_stale(self, tokens: Sequence[int], floor: int, capacity: int) -> bool:
        """Whether the cached layout is no longer what the model must see for the next onset.

        Stale when the history outgrew the capacity, when the offset rule now
        gives another offset (the earliest onset moved, e.g. after the first
        note of an empty window), or when times would leave the time block.
        """
        self.observe(tokens)
        if len(tokens) - self.begin > capacity:
            return True
        if window_offset(self.earliest, floor) != self.offset:
            return True
        if floor - self.offset > REBASE_AT_TICKS:
            return True
        return self.latest is not None and self.latest - self.offset >= vocab.MAX_TIME


def choose_window(tokens: Sequence[int], floor: int, keep: int) -> Window:
    """The window a rebuild gives: the last ``keep`` ids, cut to 50 s if it spans over 90 s."""
    begin = max(0, len(tokens) - keep)
    begin += (3 - begin % 3) % 3
    times = [vocab.triplet_time(tokens[i : i + 3]) for i in range(begin, len(tokens) - 2, 3)]
    suffix_earliest = times[:]
    for i in range(len(times) - 2, -1, -1):
        suffix_earliest[i] = min(times[i], suffix_earliest[i + 1])
    first = 0
    if times and floor - suffix_earliest[0] > REBASE_AT_TICKS:
        while first < len(times) and floor - suffix_earliest[first] > LOOKBACK_TICKS:
            first += 1
    begin += 3 * first
    earliest = suffix_earliest[first] if first < len(times) else None
    window = Window(begin, window_offset(earliest, floor))
    window.observe(tokens)
    return window


def relative_ids(tokens: Sequence[int], offset: int) -> list[int]:
    """``tokens`` (whole triplets, AMT ids) with every onset counted from ``offset``."""
    out = list(tokens)
    for i in range(0, len(out), 3):
        out[i] -= offset
    return out
