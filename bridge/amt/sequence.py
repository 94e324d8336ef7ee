"""What the model reads: REST padding, anticipated controls and the time window.

These are the AMT facts about model inputs, as functions on flat id lists:
- prompt events are padded with RESTs so that no silence exceeds one second;
- controls (given notes ahead of the current time) are interleaved into the
  sequence as soon as the current time reaches ``control time - 500``;
- the model sees a window of the most recent ids with times shifted so that
  the window's earliest onset is 0.

:class:`DecodingPlan` gathers what a mode (generate, continue, infill,
accompany) needs to start decoding, and :class:`SequenceState` is the running
sequence every decoding loop extends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bridge.amt import vocab
from bridge.amt.notes import events_to_raw_tokens

AMT_WINDOW_TOKENS = 1017
"""Ids of history the reference sampler keeps for 1,024-token models."""

Triplet = tuple[int, int, int]


def triplets(tokens: Sequence[int]) -> list[Triplet]:
    if len(tokens) % 3:
        raise ValueError(f"{len(tokens)} ids is not a whole number of triplets")
    return [(tokens[i], tokens[i + 1], tokens[i + 2]) for i in range(0, len(tokens), 3)]


def flatten(items: Iterable[Sequence[int]]) -> list[int]:
    out: list[int] = []
    for item in items:
        out.extend(item)
    return out


def max_time(tokens: Sequence[int]) -> int:
    """Latest onset (ticks) of the events and controls in ``tokens``; 0 when empty."""
    latest = 0
    for triplet in triplets(tokens):
        if triplet[2] != vocab.SEPARATOR:
            latest = max(latest, vocab.triplet_time(triplet))
    return latest


def min_time(tokens: Sequence[int]) -> int:
    """Earliest onset (ticks) of the events and controls in ``tokens``; 0 when empty."""
    earliest: int | None = None
    for triplet in triplets(tokens):
        if triplet[2] == vocab.SEPARATOR:
            break
        time = vocab.triplet_time(triplet)
        earliest = time if earliest is None else min(earliest, time)
    return earliest or 0


def pad_with_rests(tokens: Sequence[int], until: int) -> list[int]:
    """Insert RESTs so that no gap exceeds 100 ticks, up to ``until``.

    A REST goes every 100 ticks of silence (time = previous + 100, duration 0),
    between consecutive events, from time 0 to the first event, and from the
    last event to ``until`` (a gap of exactly 100 ticks needs no REST).
    """
    padded: list[int] = []
    previous = vocab.TIME_OFFSET
    for time, duration, note in triplets(tokens):
        if note >= vocab.CONTROL_OFFSET:
            raise ValueError("pad the events before interleaving controls")
        while time > previous + vocab.REST_INTERVAL:
            previous += vocab.REST_INTERVAL
            padded.extend((previous, vocab.DURATION_OFFSET, vocab.REST))
        padded.extend((time, duration, note))
        previous = time
    end = vocab.TIME_OFFSET + until
    while end > previous + vocab.REST_INTERVAL:
        previous += vocab.REST_INTERVAL
        padded.extend((previous, vocab.DURATION_OFFSET, vocab.REST))
    return padded


def strip_rests(tokens: Sequence[int]) -> list[int]:
    return flatten(t for t in triplets(tokens) if t[2] != vocab.REST)


def interleave_controls(
    events: Sequence[int], controls: Sequence[int], delta: int = vocab.ANTICIPATION_DELTA
) -> tuple[list[int], list[int]]:
    """Place each control before the first event it is due at.

    A control at time t is due once the time of the last event placed (0 before
    any) is >= t - delta. Returns the interleaved ids and the controls that are
    not due yet, in order.
    """
    pending = deque(triplets(controls))
    out: list[int] = []
    current = 0
    for triplet in triplets(events):
        while pending and current >= vocab.triplet_time(pending[0]) - delta:
            out.extend(pending.popleft())
        if triplet[2] >= vocab.CONTROL_OFFSET:
            raise ValueError("events to interleave must not contain controls")
        current = triplet[0] - vocab.TIME_OFFSET
        out.extend(triplet)
    return out, flatten(pending)


def relativize(tokens: Sequence[int]) -> tuple[list[int], int]:
    """Shift every onset so that the earliest onset is 0; returns (ids, offset)."""
    offset = min_time(tokens)
    shifted = list(tokens)
    for i in range(0, len(shifted), 3):
        shifted[i] -= offset
    return shifted, offset


def window(tokens: Sequence[int], size: int) -> tuple[list[int], int]:
    """The last ``size`` ids (whole triplets), relativized: what the model sees."""
    size -= size % 3
    start = max(len(tokens) - size, 0)
    start += (3 - start % 3) % 3
    return relativize(tokens[start:])


def sort_by_time(tokens: Sequence[int]) -> list[int]:
    """Stable sort of triplets by onset (events or controls, not both)."""
    return flatten(sorted(triplets(tokens), key=vocab.triplet_time))


@dataclass
class SequenceState:
    """The running sequence during decoding, in absolute ticks.

    ``tokens`` holds events, RESTs and controls as placed so far. ``pending``
    holds the controls not yet due. ``current_time`` is the onset of the last
    event placed (0 before any): controls become due against it, and no new
    onset may come before it.
    """

    tokens: list[int]
    pending: deque[Triplet]
    current_time: int
    delta: int = vocab.ANTICIPATION_DELTA

    def due_controls(self) -> list[int]:
        """Pop and append every pending control that is due now; returns them."""
        placed: list[int] = []
        while self.pending and self.current_time >= vocab.triplet_time(self.pending[0]) - self.delta:
            triplet = self.pending.popleft()
            placed.extend(triplet)
        self.tokens.extend(placed)
        return placed

    def append_event(self, triplet: Sequence[int]) -> None:
        time = triplet[0] - vocab.TIME_OFFSET
        if time < self.current_time:
            raise ValueError(f"event at {time} ticks before the current time {self.current_time}")
        self.tokens.extend(triplet)
        self.current_time = time


@dataclass
class DecodingPlan:
    """Everything a decoding loop needs to start one request, in ticks.

    ``prompt`` is the padded, interleaved prompt; ``controls`` the anticipated
    notes not placed yet; new events are sampled from ``start`` (floor) until an
    onset reaches ``end``. ``kept`` are the given events that come back as they
    are (prompt notes and controls); ``removed`` those the model replaces.
    """

    mode_token: int
    prompt: list[int]
    controls: list[int]
    start: int
    end: int
    current_time: int
    kept: list[vocab.Event] = field(default_factory=list)
    removed: list[vocab.Event] = field(default_factory=list)

    def new_state(self) -> SequenceState:
        state = SequenceState(list(self.prompt), deque(triplets(self.controls)), self.current_time)
        state.due_controls()
        return state

    def first_step_tokens(self, window_size: int = AMT_WINDOW_TOKENS) -> list[int]:
        """The exact ids the model receives at the first decoding step (mode token first)."""
        state = self.new_state()
        history, _ = window(state.tokens, window_size)
        return [self.mode_token, *history]


def _span(start: int, end: int) -> None:
    if start < 0:
        raise ValueError(f"span start {start} ticks is before the beginning")
    if end <= start:
        raise ValueError(f"span [{start}, {end}) ticks is empty: the end must come after the start")


def _build(prompt_events: list[vocab.Event], control_events: list[vocab.Event], start: int, end: int,
           removed: list[vocab.Event]) -> DecodingPlan:
    prompt = pad_with_rests(events_to_raw_tokens(prompt_events), start)
    controls = sort_by_time(flatten(vocab.to_control(t) for t in triplets(events_to_raw_tokens(control_events))))
    mode = vocab.ANTICIPATE if controls else vocab.AUTOREGRESS
    current = max_time(prompt)
    interleaved, pending = interleave_controls(prompt, controls)
    return DecodingPlan(
        mode_token=mode,
        prompt=interleaved,
        controls=pending,
        start=start,
        end=end,
        current_time=current,
        kept=prompt_events + control_events,
        removed=removed,
    )


def plan_generate(end: int) -> DecodingPlan:
    """Plain generation of [0, end) with nothing given."""
    _span(0, end)
    return _build([], [], 0, end, [])


def plan_continue(events: Sequence[vocab.Event], start: int, end: int) -> DecodingPlan:
    """Continue after the given notes: events before ``start`` are the prompt.

    Given notes at or after ``start`` are kept as controls, so a continuation
    never writes over notes that are already there.
    """
    return plan_infill(events, start, end, keep_inside=True)


def plan_infill(events: Sequence[vocab.Event], start: int, end: int, *, keep_inside: bool = False) -> DecodingPlan:
    """Infill [start, end): notes with onset in the span are removed (unless
    ``keep_inside``), earlier notes are the prompt, later ones become controls."""
    _span(start, end)
    prompt = [e for e in events if e.time < start]
    if keep_inside:
        controls = [e for e in events if e.time >= start]
        removed: list[vocab.Event] = []
    else:
        controls = [e for e in events if e.time >= end]
        removed = [e for e in events if start <= e.time < end]
    return _build(prompt, controls, start, end, removed)


def plan_accompany(
    events: Sequence[vocab.Event], instruments: Iterable[int], start: int, end: int
) -> DecodingPlan:
    """Accompany: the chosen instruments' notes in [start, end) become controls.

    Notes before ``start`` (all instruments) are the prompt; the other
    instruments' notes inside the span are what the model writes anew; notes at
    or after ``end`` are outside the request and left out.
    """
    _span(start, end)
    given = set(instruments)
    if not given:
        raise ValueError("accompaniment needs at least one given instrument")
    prompt = [e for e in events if e.time < start]
    controls = [e for e in events if start <= e.time < end and e.instrument in given]
    removed = [e for e in events if start <= e.time < end and e.instrument not in given]
    return _build(prompt, controls, start, end, removed)


def plan_generate_from(start: int, end: int) -> DecodingPlan:
    """Plain generation of [start, end) with nothing given.

    Deliberately unlike the reference (which pads the silence before ``start``
    with RESTs and counts times from 0): with nothing given, the span start is
    the beginning of the piece the model hears, so no REST comes before it and
    a clip comes out the same wherever it sits in the song (docs/amt-format.md).
    """
    _span(start, end)
    return DecodingPlan(mode_token=vocab.AUTOREGRESS, prompt=[], controls=[], start=start, end=end,
                        current_time=start)
