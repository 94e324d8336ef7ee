"""The AMT "arrival-time" vocabulary: every id and size the model was trained on.

The numbers come from ``shared/amt-facts.md`` and must match it exactly: a model
only hears music when each block starts where it was trained to start.
"""

from __future__ import annotations

from typing import NamedTuple

TICKS_PER_SECOND = 100
"""Time resolution: one tick is 10 ms of real time."""

MAX_TIME = 100 * TICKS_PER_SECOND
"""Number of onset-time ids (0 .. 9,999 ticks, i.e. up to 100 s)."""

MAX_DURATION = 10 * TICKS_PER_SECOND
"""Number of duration ids (0 .. 999 ticks, i.e. under 10 s)."""

MAX_PITCH = 128
MAX_INSTRUMENT = 129
DRUMS = 128
"""Instrument number of drums (any note on 0-based MIDI channel 9)."""
DRUM_CHANNEL = 9
MAX_NOTE = MAX_PITCH * MAX_INSTRUMENT

TIME_OFFSET = 0
DURATION_OFFSET = TIME_OFFSET + MAX_TIME  # 10,000
NOTE_OFFSET = DURATION_OFFSET + MAX_DURATION  # 11,000
REST = NOTE_OFFSET + MAX_NOTE  # 27,512

CONTROL_OFFSET = REST + 1  # 27,513
CONTROL_TIME_OFFSET = CONTROL_OFFSET  # 27,513
CONTROL_DURATION_OFFSET = CONTROL_TIME_OFFSET + MAX_TIME  # 37,513
CONTROL_NOTE_OFFSET = CONTROL_DURATION_OFFSET + MAX_DURATION  # 38,513

SPECIAL_OFFSET = CONTROL_NOTE_OFFSET + MAX_NOTE  # 55,025
SEPARATOR = SPECIAL_OFFSET
AUTOREGRESS = SPECIAL_OFFSET + 1  # 55,026
ANTICIPATE = SPECIAL_OFFSET + 2  # 55,027
VOCAB_SIZE = SPECIAL_OFFSET + 3  # 55,028

DEFAULT_UNCLOSED_DURATION = TICKS_PER_SECOND // 4
"""A note that is never closed lasts 250 ms."""

ANTICIPATION_DELTA = 5 * TICKS_PER_SECOND
"""A control at time t enters the sequence once the current time reaches t - 500."""

REST_INTERVAL = TICKS_PER_SECOND
"""Silences longer than this carry a REST event every 100 ticks."""

EVENT_SIZE = 3

assert (DURATION_OFFSET, NOTE_OFFSET, REST) == (10_000, 11_000, 27_512)
assert (CONTROL_DURATION_OFFSET, CONTROL_NOTE_OFFSET) == (37_513, 38_513)
assert (SEPARATOR, AUTOREGRESS, ANTICIPATE, VOCAB_SIZE) == (55_025, 55_026, 55_027, 55_028)


class Event(NamedTuple):
    """One AMT note event in ticks: what a single triplet of ids carries.

    ``velocity`` is not part of the token format; it rides along so that notes a
    user gave keep their dynamics when they come back out of the model.
    """

    time: int
    duration: int
    instrument: int
    pitch: int
    velocity: int | None = None

    @property
    def note(self) -> int:
        return note_value(self.instrument, self.pitch)


def note_value(instrument: int, pitch: int) -> int:
    """Combine instrument and pitch the way the vocabulary does."""
    if not 0 <= instrument < MAX_INSTRUMENT:
        raise ValueError(f"instrument {instrument} outside 0..128 (128 = drums)")
    if not 0 <= pitch < MAX_PITCH:
        raise ValueError(f"pitch {pitch} outside 0..127")
    return instrument * MAX_PITCH + pitch


def split_note_value(value: int) -> tuple[int, int]:
    """Inverse of :func:`note_value`: (instrument, pitch)."""
    if not 0 <= value < MAX_NOTE:
        raise ValueError(f"note value {value} outside 0..{MAX_NOTE - 1}")
    return divmod(value, MAX_PITCH)


def event_tokens(time: int, duration: int, instrument: int, pitch: int) -> tuple[int, int, int]:
    """The three ids of a note event (time, duration, note)."""
    if not 0 <= time < MAX_TIME:
        raise ValueError(f"time {time} ticks outside 0..{MAX_TIME - 1}")
    if not 0 <= duration < MAX_DURATION:
        raise ValueError(f"duration {duration} ticks outside 0..{MAX_DURATION - 1}")
    return (
        TIME_OFFSET + time,
        DURATION_OFFSET + duration,
        NOTE_OFFSET + note_value(instrument, pitch),
    )


def control_tokens(time: int, duration: int, instrument: int, pitch: int) -> tuple[int, int, int]:
    """The three ids of a control (an anticipated note the model must respect)."""
    t, d, n = event_tokens(time, duration, instrument, pitch)
    return (t + CONTROL_OFFSET, d + CONTROL_OFFSET, n + CONTROL_OFFSET)


def rest_tokens(time: int) -> tuple[int, int, int]:
    """A REST event: a note slot that carries no note (duration 0)."""
    if not 0 <= time < MAX_TIME:
        raise ValueError(f"time {time} ticks outside 0..{MAX_TIME - 1}")
    return (TIME_OFFSET + time, DURATION_OFFSET, REST)


def to_control(triplet: tuple[int, int, int] | list[int]) -> tuple[int, int, int]:
    """Shift an event triplet into the control block."""
    t, d, n = triplet
    if n == REST or not is_event_note(n):
        raise ValueError(f"only note events become controls, not id {n}")
    return (t + CONTROL_OFFSET, d + CONTROL_OFFSET, n + CONTROL_OFFSET)


def is_time(token: int) -> bool:
    return TIME_OFFSET <= token < DURATION_OFFSET


def is_duration(token: int) -> bool:
    return DURATION_OFFSET <= token < NOTE_OFFSET


def is_event_note(token: int) -> bool:
    return NOTE_OFFSET <= token < REST


def is_control(token: int) -> bool:
    return CONTROL_OFFSET <= token < SPECIAL_OFFSET


def is_control_time(token: int) -> bool:
    return CONTROL_TIME_OFFSET <= token < CONTROL_DURATION_OFFSET


def is_control_duration(token: int) -> bool:
    return CONTROL_DURATION_OFFSET <= token < CONTROL_NOTE_OFFSET


def is_control_note(token: int) -> bool:
    return CONTROL_NOTE_OFFSET <= token < SPECIAL_OFFSET


def is_control_triplet(triplet: tuple[int, int, int] | list[int]) -> bool:
    """A triplet is a control when its note id lies in the control block."""
    return triplet[2] >= CONTROL_OFFSET


def triplet_time(triplet: tuple[int, int, int] | list[int]) -> int:
    """Onset in ticks of an event, REST or control triplet."""
    return triplet[0] - (CONTROL_TIME_OFFSET if is_control_triplet(triplet) else TIME_OFFSET)


def decode_event(triplet: tuple[int, int, int] | list[int]) -> Event | None:
    """Decode a note-event triplet; ``None`` for a REST. Raises on anything else."""
    t, d, n = triplet
    if not is_time(t):
        raise ValueError(f"{t} is not a time id")
    if not is_duration(d):
        raise ValueError(f"{d} is not a duration id")
    if n == REST:
        return None
    if not is_event_note(n):
        raise ValueError(f"{n} is not a note id")
    instrument, pitch = split_note_value(n - NOTE_OFFSET)
    return Event(t - TIME_OFFSET, d - DURATION_OFFSET, instrument, pitch)


def decode_control(triplet: tuple[int, int, int] | list[int]) -> Event:
    """Decode a control triplet back into the note it stands for."""
    t, d, n = triplet
    if not (is_control_time(t) and is_control_duration(d) and is_control_note(n)):
        raise ValueError(f"{tuple(triplet)} is not a control triplet")
    return decode_event((t - CONTROL_OFFSET, d - CONTROL_OFFSET, n - CONTROL_OFFSET))  # type: ignore[return-value]


def block_name(token: int) -> str:
    """Human name of the block an id belongs to, for error messages."""
    if is_time(token):
        return "time"
    if is_duration(token):
        return "duration"
    if is_event_note(token):
        return "note"
    if token == REST:
        return "REST"
    if is_control_time(token):
        return "control time"
    if is_control_duration(token):
        return "control duration"
    if is_control_note(token):
        return "control note"
    return {SEPARATOR: "SEPARATOR", AUTOREGRESS: "AUTOREGRESS", ANTICIPATE: "ANTICIPATE"}.get(
        token, "outside the vocabulary"
    )
