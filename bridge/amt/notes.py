"""DAW notes (beats, velocity, mute) to AMT events (10 ms ticks) and back.

A :class:`Note` is what a DAW clip holds. An :class:`~bridge.amt.vocab.Event`
is what one triplet of model ids carries. The conversion goes through a
:class:`~bridge.amt.tempo.TempoMap` because the model counts real time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bridge.amt import vocab
from bridge.amt.tempo import TempoMap

DEFAULT_VELOCITY = 72
"""Velocity of new notes when nothing better is known (the reference's choice)."""


@dataclass(frozen=True)
class Note:
    """A note as a DAW holds it.

    ``start`` and ``duration`` are in beats (quarter notes) from the clip's or
    song's origin. ``instrument`` is a General MIDI program 0-127 or 128 for
    drums. ``channel`` (0-15) is kept when the DAW told us; ``note_id`` is an
    opaque id a DAW uses (Live's note ids) and is passed back untouched.
    """

    pitch: int
    start: float
    duration: float
    velocity: float = 100
    instrument: int = 0
    mute: bool = False
    channel: int | None = None
    note_id: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.pitch, int) and 0 <= self.pitch <= 127):
            raise ValueError(f"pitch {self.pitch!r} must be an integer 0..127")
        for name in ("start", "duration", "velocity"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"note {name} {value!r} is not a finite number")
        if self.start < 0:
            raise ValueError(f"note start {self.start} beats is before the beginning of the song")
        if self.duration < 0:
            raise ValueError(f"note duration {self.duration} beats is negative")
        if not 0 <= self.velocity <= 127:
            raise ValueError(f"velocity {self.velocity} must be 0..127")
        if not (isinstance(self.instrument, int) and 0 <= self.instrument <= vocab.DRUMS):
            raise ValueError(f"instrument {self.instrument!r} must be 0..127 (GM program) or 128 (drums)")
        if self.channel is not None and not (isinstance(self.channel, int) and 0 <= self.channel <= 15):
            raise ValueError(f"channel {self.channel!r} must be 0..15")

    @property
    def end(self) -> float:
        return self.start + self.duration

    def shifted(self, beats: float) -> Note:
        return replace(self, start=self.start + beats)


MIN_SOUNDING_SECONDS = 0.01
"""The shortest length any output gives a note: one model tick (10 ms).

A zero-length note (the model's duration 0, or a given note of length 0) has
its note-off at the same instant as its note-on, which receivers may order
either way: it then sounds until something else silences it. Every output
(live MIDI, clips, files) lengthens such notes to this minimum with
:func:`with_min_length`.
"""


def with_min_length(note: Note, tempo: TempoMap) -> Note:
    """``note``, lengthened to :data:`MIN_SOUNDING_SECONDS` at its place in ``tempo`` if shorter."""
    onset = tempo.beats_to_seconds(note.start)
    if tempo.beats_to_seconds(note.end) - onset >= MIN_SOUNDING_SECONDS:
        return note
    return replace(note, duration=tempo.seconds_to_beats(onset + MIN_SOUNDING_SECONDS) - note.start)


def in_seconds(note: Note, tempo: TempoMap) -> Note:
    """``note`` with its start and duration in seconds through ``tempo`` (clients that count seconds)."""
    start = tempo.beats_to_seconds(note.start)
    return replace(note, start=start, duration=max(0.0, tempo.beats_to_seconds(note.end) - start))


def in_beats(note: Note, tempo: TempoMap) -> Note:
    """The inverse of :func:`in_seconds`: a note counted in seconds back to beats."""
    start = tempo.seconds_to_beats(note.start)
    return replace(note, start=start, duration=max(0.0, tempo.seconds_to_beats(note.start + note.duration) - start))


def seconds_to_ticks(seconds: float) -> int:
    """Round real time to the model's 10 ms grid (Python's round, as the reference)."""
    return round(vocab.TICKS_PER_SECOND * seconds)


def ticks_to_seconds(ticks: int) -> float:
    return ticks / vocab.TICKS_PER_SECOND


def note_to_event(note: Note, tempo: TempoMap) -> vocab.Event:
    """The event the model hears for one DAW note (duration capped at 9.99 s)."""
    onset = tempo.beats_to_seconds(note.start)
    offset = tempo.beats_to_seconds(note.end)
    duration = min(seconds_to_ticks(offset - onset), vocab.MAX_DURATION - 1)
    return vocab.Event(
        seconds_to_ticks(onset), duration, note.instrument, note.pitch, int(round(note.velocity))
    )


def notes_to_events(notes: Iterable[Note], tempo: TempoMap, *, include_muted: bool = False) -> list[vocab.Event]:
    """Events ordered by onset (ties keep the input order), as the model was trained.

    Muted notes do not sound, so by default the model does not hear them either;
    they still come back untouched wherever given notes are returned.
    """
    events = [note_to_event(n, tempo) for n in notes if include_muted or not n.mute]
    events.sort(key=lambda e: e.time)
    return events


def event_to_note(
    event: vocab.Event, tempo: TempoMap, *, default_velocity: float = DEFAULT_VELOCITY, channel: int | None = None
) -> Note:
    """The DAW note for a model event, on the song's beat grid."""
    onset = ticks_to_seconds(event.time)
    start = tempo.seconds_to_beats(onset)
    end = tempo.seconds_to_beats(onset + ticks_to_seconds(event.duration))
    velocity = event.velocity if event.velocity is not None else default_velocity
    if event.instrument == vocab.DRUMS:
        channel = vocab.DRUM_CHANNEL
    return Note(
        pitch=event.pitch,
        start=start,
        duration=max(0.0, end - start),
        velocity=velocity,
        instrument=event.instrument,
        channel=channel,
    )


def events_to_notes(
    events: Sequence[vocab.Event], tempo: TempoMap, *, default_velocity: float = DEFAULT_VELOCITY
) -> list[Note]:
    return [event_to_note(e, tempo, default_velocity=default_velocity) for e in events]


def events_to_tokens(events: Iterable[vocab.Event]) -> list[int]:
    """Flatten events into ids, three per event."""
    tokens: list[int] = []
    for e in events:
        tokens.extend(vocab.event_tokens(e.time, e.duration, e.instrument, e.pitch))
    return tokens


def events_to_raw_tokens(events: Iterable[vocab.Event]) -> list[int]:
    """Like :func:`events_to_tokens` but without the 100 s range check.

    Whole files longer than 100 s have onsets past the time block; the
    reference tokenizer writes them as they are and windowing relativizes
    them before the model sees them. This keeps that behaviour for display.
    """
    tokens: list[int] = []
    for e in events:
        tokens.extend(
            (vocab.TIME_OFFSET + e.time, vocab.DURATION_OFFSET + e.duration, vocab.NOTE_OFFSET + e.note)
        )
    return tokens


def tokens_to_events(tokens: Sequence[int]) -> list[vocab.Event]:
    """Decode event triplets, dropping RESTs; controls and specials are an error."""
    if len(tokens) % 3:
        raise ValueError(f"{len(tokens)} ids is not a whole number of triplets")
    events = []
    for i in range(0, len(tokens), 3):
        event = vocab.decode_event(tokens[i : i + 3])
        if event is not None:
            events.append(event)
    return events
