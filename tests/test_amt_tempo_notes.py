"""Beats <-> seconds and DAW notes <-> AMT events.

The model counts 10 ms ticks of real time; a DAW counts beats under a tempo
that may change. These conversions decide where every note lands.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.amt import vocab
from bridge.amt.notes import (
    DEFAULT_VELOCITY,
    Note,
    event_to_note,
    events_to_notes,
    events_to_tokens,
    in_beats,
    in_seconds,
    note_to_event,
    notes_to_events,
    seconds_to_ticks,
    ticks_to_seconds,
    tokens_to_events,
)
from bridge.amt.tempo import TempoChange, TempoMap, TimeSignature

# ---------------------------------------------------------------- tempo


def test_constant_tempo():
    tempo = TempoMap.constant(120)
    assert tempo.beats_to_seconds(0) == 0
    assert tempo.beats_to_seconds(1) == 0.5
    assert tempo.beats_to_seconds(7) == 3.5
    assert tempo.seconds_to_beats(3.5) == 7
    assert tempo.initial_bpm == 120
    assert TempoMap.constant(90).beats_to_seconds(3) == 2.0


def test_tempo_changes_hand_computed():
    """120 bpm for 2 beats (1 s), 60 bpm for 2 beats (2 s), then 240 bpm."""
    tempo = TempoMap.from_pairs([(0, 120), (2, 60), (4, 240)])
    assert [tempo.beats_to_seconds(b) for b in (0, 1, 2, 3, 4, 5, 8)] == [0, 0.5, 1, 2, 3, 3.25, 4]
    assert [tempo.seconds_to_beats(s) for s in (0, 0.5, 1, 2, 3, 3.25, 4)] == [0, 1, 2, 3, 4, 5, 8]
    assert [tempo.bpm_at(b) for b in (0, 1.99, 2, 3.5, 4, 100)] == [120, 120, 60, 60, 240, 240]


def test_negative_positions_extrapolate_first_tempo():
    tempo = TempoMap.from_pairs([(0, 60), (1, 120)])
    assert tempo.beats_to_seconds(-2) == -2
    assert tempo.seconds_to_beats(-1) == -1


def test_tempo_map_normalises_changes():
    """Unordered input is sorted, a map not starting at 0 gets the first tempo from 0,
    and of two changes at one beat the later wins."""
    tempo = TempoMap((TempoChange(4, 90), TempoChange(2, 100), TempoChange(4, 140)))
    assert [(c.beat, c.bpm) for c in tempo.changes] == [(0, 100), (2, 100), (4, 140)]
    assert tempo.beats_to_seconds(4) == pytest.approx(2.4)


@pytest.mark.parametrize("bpm", [0, 60_000_001, math.nan, math.inf, -120])
def test_unusable_tempos_are_refused(bpm):
    with pytest.raises(ValueError, match="tempo"):
        TempoMap.constant(bpm)


def test_bad_change_position_and_empty_map():
    with pytest.raises(ValueError):
        TempoMap(())
    with pytest.raises(ValueError, match="position"):
        TempoMap((TempoChange(0, 120), TempoChange(math.nan, 100)))
    with pytest.raises(ValueError, match="position"):
        TempoMap((TempoChange(-1, 120), TempoChange(0, 100)))


tempo_maps = st.lists(
    st.tuples(st.floats(0.25, 200, allow_nan=False), st.floats(40, 240, allow_nan=False)), max_size=6
).flatmap(
    lambda later: st.floats(40, 240, allow_nan=False).map(lambda first: TempoMap.from_pairs([(0, first), *later]))
)


@given(tempo_maps, st.floats(0, 500, allow_nan=False))
def test_beats_seconds_round_trip(tempo: TempoMap, beats: float):
    seconds = tempo.beats_to_seconds(beats)
    assert tempo.seconds_to_beats(seconds) == pytest.approx(beats, rel=1e-9, abs=1e-9)


@given(tempo_maps, st.floats(0, 500, allow_nan=False), st.floats(0, 50, allow_nan=False))
def test_a_note_in_seconds_and_back_is_the_same_note(tempo: TempoMap, start: float, duration: float):
    note = Note(60, start, duration, 90, instrument=33, channel=2)
    timed = in_seconds(note, tempo)
    assert timed.start == tempo.beats_to_seconds(start)
    assert timed.start + timed.duration == pytest.approx(tempo.beats_to_seconds(note.end), rel=1e-12, abs=1e-9)
    back = in_beats(timed, tempo)
    assert (back.pitch, back.velocity, back.instrument, back.channel) == (60, 90, 33, 2)
    assert back.start == pytest.approx(start, rel=1e-9, abs=1e-9)
    assert back.duration == pytest.approx(duration, rel=1e-9, abs=1e-8)


@given(tempo_maps, st.floats(0, 500, allow_nan=False), st.floats(0, 500, allow_nan=False))
def test_beats_to_seconds_is_monotonic(tempo: TempoMap, a: float, b: float):
    low, high = sorted((a, b))
    assert tempo.beats_to_seconds(low) <= tempo.beats_to_seconds(high)
    # seconds per beat never goes outside the slowest and fastest tempo
    span = tempo.beats_to_seconds(high) - tempo.beats_to_seconds(low)
    bpms = [c.bpm for c in tempo.changes]
    assert (high - low) * 60 / max(bpms) - 1e-9 <= span <= (high - low) * 60 / min(bpms) + 1e-9


# ---------------------------------------------------------------- time signature


def test_time_signature_parse():
    assert TimeSignature.parse("7/8") == TimeSignature(7, 8)
    assert TimeSignature.parse(" 3/4 ") == TimeSignature(3, 4)
    assert TimeSignature.parse("6/8").beats_per_bar == 3.0
    assert TimeSignature().beats_per_bar == 4.0
    assert str(TimeSignature(5, 4)) == "5/4"


@pytest.mark.parametrize("text", ["4", "4/4/4", "a/4", "4/3", "0/4", "65/4", "", "4/0", "3.5/4"])
def test_time_signature_parse_errors(text: str):
    with pytest.raises(ValueError, match="time signature") as info:
        TimeSignature.parse(text)
    assert repr(text) in str(info.value)


def test_time_signature_constructor_errors():
    with pytest.raises(ValueError, match="numerator"):
        TimeSignature(0, 4)
    with pytest.raises(ValueError, match="denominator"):
        TimeSignature(4, 6)


# ---------------------------------------------------------------- notes


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"pitch": 128}, "pitch"),
        ({"pitch": -1}, "pitch"),
        ({"pitch": 60.0}, "pitch"),
        ({"start": math.nan}, "start"),
        ({"start": math.inf}, "start"),
        ({"start": -0.5}, "start"),
        ({"duration": -1}, "duration"),
        ({"duration": math.nan}, "duration"),
        ({"velocity": 128}, "velocity"),
        ({"velocity": -1}, "velocity"),
        ({"velocity": math.nan}, "velocity"),
        ({"instrument": 129}, "instrument"),
        ({"instrument": -1}, "instrument"),
        ({"channel": 16}, "channel"),
    ],
)
def test_note_validation(kwargs: dict, word: str):
    values = {"pitch": 60, "start": 0.0, "duration": 1.0, **kwargs}
    with pytest.raises(ValueError, match=word):
        Note(**values)


def test_note_helpers():
    note = Note(60, 1.5, 2.0)
    assert note.end == 3.5
    assert note.shifted(2).start == 3.5 and note.shifted(2).duration == 2.0


def test_seconds_to_ticks_uses_python_round():
    assert [seconds_to_ticks(s) for s in (0.005, 0.015, 0.125, 0.375, 1.0)] == [0, 2, 12, 38, 100]
    assert ticks_to_seconds(150) == 1.5


def test_note_to_event_hand_computed():
    tempo = TempoMap.constant(120)
    assert note_to_event(Note(60, 1.0, 0.5, 88.6, instrument=33), tempo) == vocab.Event(50, 25, 33, 60, 89)
    # 30 beats at 120 bpm = 15 s: capped at 999
    assert note_to_event(Note(60, 0.0, 30.0), tempo).duration == 999
    # duration is the rounded difference of unrounded times: 0.0085 s -> 1 (not 1 - 1)
    assert note_to_event(Note(60, 0.012, 0.017), tempo)[:2] == (1, 1)


def test_notes_to_events_orders_by_onset_with_stable_ties():
    tempo = TempoMap.constant(120)
    notes = [
        Note(64, 1.0, 1.0, instrument=0),
        Note(48, 0.0, 1.0, instrument=33),
        Note(60, 1.001, 1.0, instrument=0),  # 0.5005 s -> tick 50: ties with the first note
        Note(36, 0.0, 0.25, instrument=128),
    ]
    events = notes_to_events(notes, tempo)
    assert [(e.time, e.instrument, e.pitch) for e in events] == [(0, 33, 48), (0, 128, 36), (50, 0, 64), (50, 0, 60)]


def test_muted_notes_excluded_by_default():
    tempo = TempoMap.constant(120)
    notes = [Note(60, 0.0, 1.0), Note(62, 0.5, 1.0, mute=True)]
    assert [e.pitch for e in notes_to_events(notes, tempo)] == [60]
    assert [e.pitch for e in notes_to_events(notes, tempo, include_muted=True)] == [60, 62]


def test_event_to_note_on_the_song_grid():
    tempo = TempoMap.from_pairs([(0, 120), (2, 60)])
    note = event_to_note(vocab.Event(150, 100, 40, 70), tempo)
    # 1.5 s is beat 2.5 (1 s for two beats, then one beat per second); 2.5 s is beat 3.5
    assert (note.start, note.duration) == (2.5, 1.0)
    assert note.velocity == DEFAULT_VELOCITY and note.instrument == 40 and note.channel is None
    drum = event_to_note(vocab.Event(0, 10, 128, 36, 120), tempo)
    assert drum.channel == 9 and drum.velocity == 120
    assert event_to_note(vocab.Event(0, 10, 0, 60), tempo, default_velocity=99).velocity == 99
    assert [n.pitch for n in events_to_notes([vocab.Event(0, 1, 0, 1), vocab.Event(1, 1, 0, 2)], tempo)] == [1, 2]


@given(
    st.floats(40, 240, allow_nan=False),
    st.integers(0, 9_999),
    st.integers(0, 999),
    st.integers(0, 128),
    st.integers(0, 127),
)
def test_event_note_event_round_trip(bpm: float, time: int, duration: int, instrument: int, pitch: int):
    """An event turned into a DAW note and back lands on the same ticks."""
    tempo = TempoMap.from_pairs([(0, bpm), (8, bpm / 2 + 20)])
    event = vocab.Event(time, duration, instrument, pitch, 64)
    assert note_to_event(event_to_note(event, tempo), tempo) == event


def test_tokens_events_round_trip():
    events = [vocab.Event(0, 50, 0, 60), vocab.Event(100, 0, 128, 36)]
    tokens = events_to_tokens(events)
    assert tokens == [0, 10_050, 11_060, 100, 10_000, 11_000 + 128 * 128 + 36]
    assert tokens_to_events(tokens + [200, 10_000, 27_512]) == events
    with pytest.raises(ValueError):
        tokens_to_events([0, 10_000])
    with pytest.raises(ValueError):
        tokens_to_events([27_513, 37_513, 38_573])
