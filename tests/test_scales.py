"""Scales: parsing, and new pitched notes kept in the scale while they are sampled (drums exempt)."""

from __future__ import annotations

import pytest

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.requests import GenerationRequest
from bridge.engine.scales import parse_root, parse_scale
from bridge.protocol.errors import ProtocolError
from bridge.protocol.requests import build_job_spec


@pytest.mark.parametrize("text, expected", [
    ("C major", {0, 2, 4, 5, 7, 9, 11}),
    ("D minor", {2, 4, 5, 7, 9, 10, 0}),
    ("F# dorian", {6, 8, 9, 11, 1, 3, 4}),
    ("Bb major pentatonic", {10, 0, 2, 5, 7}),
    ("a", {9, 11, 1, 2, 4, 6, 8}),  # a bare root is its major scale
    ("0,3,7", {0, 3, 7}),
])
def test_scales_parse_to_pitch_classes(text, expected):
    assert parse_scale(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["", "H major", "C bebop", "0,12", "1,x"])
def test_unknown_scales_are_refused_in_words(text):
    with pytest.raises(ValueError):
        parse_scale(text)


def test_roots_with_accidentals():
    assert [parse_root(n) for n in ("C", "C#", "Db", "B#", "Cb", "E♭")] == [0, 1, 1, 0, 11, 3]


def test_a_scale_with_no_pitch_in_the_range_is_refused():
    with pytest.raises(ValueError, match="no pitch of the scale"):
        MusicianConstraints(lowest_pitch=61, highest_pitch=61, pitch_classes=frozenset({0}))


def test_protocol_scale_option(tmp_path):
    from bridge.config import defaults

    config = defaults()
    spec = build_job_spec("generate", {"scale": "E minor"}, [], config)
    assert spec.request.constraints.pitch_classes == parse_scale("E minor")
    spec = build_job_spec("generate", {"pitch_class": [0, 7]}, [], config)
    assert spec.request.constraints.pitch_classes == frozenset({0, 7})
    with pytest.raises(ProtocolError, match="scale or pitch_class"):
        build_job_spec("generate", {"scale": "C major", "pitch_class": [0]}, [], config)
    with pytest.raises(ProtocolError, match="mode must be one of"):
        build_job_spec("generate", {"scale": "C bebop"}, [], config)


@pytest.mark.slow
def test_new_pitched_notes_stay_in_the_scale(dense_engine):
    scale = parse_scale("D minor pentatonic")
    given = tuple(Note(61 + i % 3, float(i), 0.5, 90) for i in range(8))  # outside the scale: kept as given
    for mode, start, end in (("generate", 0.0, 16.0), ("infill", 2.0, 6.0), ("continue", 8.0, 16.0)):
        request = GenerationRequest(mode, start, end, TempoMap.constant(120), notes=given, seed=3, variations=2,
                                    constraints=MusicianConstraints(pitch_classes=scale))
        result = dense_engine.run(request)
        new = [n for v in result.variations for n in v.new_notes]
        assert new, mode
        assert all(n.pitch % 12 in scale for n in new if n.instrument != 128), mode
        for variation in result.variations:
            kept = [n for n in variation.notes if n not in variation.new_notes]
            assert all(n in given for n in kept)


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", ["dense_engine", "dense_amt_engine"])
def test_keep_rhythm_keeps_onsets_durations_and_velocities(engine_name, request):
    """An infill with keep_rhythm: one new note per replaced note, on its exact timing, new pitches only."""
    engine = request.getfixturevalue(engine_name)
    tempo = TempoMap.constant(100)
    given = tuple(Note(60 + (i * 5) % 12, i * 0.5, 0.25 + (i % 3) * 0.125, 40 + i, instrument=0) for i in range(24))
    given += (Note(64, 2.0, 0.5, 90, instrument=0),)  # a chord note at the same onset as another
    request_ = GenerationRequest("infill", 4.0, 8.0, tempo, notes=given, seed=21, variations=2, keep_rhythm=True,
                                 constraints=MusicianConstraints(instruments=frozenset({33})))
    result = engine.run(request_)
    span = sorted(result.removed_notes, key=lambda n: (n.start, n.pitch))
    assert span and all(4.0 <= n.start < 8.0 for n in span)
    for variation in result.variations:
        new = sorted(variation.new_notes, key=lambda n: n.start)
        assert len(new) == len(span)
        for made, slot in zip(new, sorted(span, key=lambda n: n.start)):
            assert (made.start, made.duration, made.velocity) == (slot.start, slot.duration, slot.velocity)
            assert made.instrument == 33
        outside = [n for n in given if not 4.0 <= n.start < 8.0]
        assert all(n in variation.notes for n in outside)


def test_keep_rhythm_is_for_infill_only():
    with pytest.raises(ValueError, match="infill"):
        GenerationRequest("generate", 0.0, 4.0, TempoMap.constant(120), keep_rhythm=True)


def test_protocol_keep_rhythm_option():
    from bridge.config import defaults

    config = defaults()
    with pytest.raises(ProtocolError, match="infill"):
        build_job_spec("generate", {"keep_rhythm": True}, [], config)
    spec = build_job_spec("infill", {"keep_rhythm": True, "start_bar": 1, "end_bar": 1}, [], config)
    assert spec.request.keep_rhythm


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", ["dense_engine", "dense_amt_engine"])
def test_keep_pitches_keeps_the_pitch_sequence_and_chords(engine_name, request):
    """An infill with keep_pitches: the span's pitches in order, chords on one onset, new onsets inside the span."""
    from bridge.engine.engine import chord_groups

    engine = request.getfixturevalue(engine_name)
    melody = [Note(60 + (i * 7) % 12, i * 0.5, 0.25, 50 + i, instrument=0) for i in range(24)]
    chord = [Note(48, 5.0, 1.0, 90, instrument=0), Note(52, 5.0, 1.0, 91, instrument=0)]
    given = tuple(sorted(melody + chord, key=lambda n: (n.start, n.pitch)))
    request_ = GenerationRequest("infill", 4.0, 8.0, TempoMap.constant(100), notes=given, seed=5, variations=2,
                                 keep_pitches=True)
    result = engine.run(request_)
    groups = chord_groups(result.removed_notes)
    assert any(len(g) >= 2 for g in groups)
    expected = [n.pitch for g in groups for n in g]
    for variation in result.variations:
        written = variation.new_notes  # in the order the model wrote them
        assert [n.pitch for n in written] == expected
        assert [n.velocity for n in written] == [n.velocity for g in groups for n in g]
        assert all(4.0 <= n.start < 8.0 for n in written)
        assert all(a.start <= b.start for a, b in zip(written, written[1:]))
        assert len({n.start for n in written if n.pitch in (48, 52)}) == 1  # the chord stays a chord
        # ... and chords never merge: the onsets (in 10 ms ticks) are as many as the span's chords
        onsets = sorted({round(request_.tempo.beats_to_seconds(n.start), 2) for n in written})
        assert len(onsets) == len(groups)


def test_keep_pitches_is_for_infill_only():
    with pytest.raises(ValueError, match="infill"):
        GenerationRequest("continue", 0.0, 4.0, TempoMap.constant(120), keep_pitches=True)
    with pytest.raises(ValueError, match="not both"):
        GenerationRequest("infill", 0.0, 4.0, TempoMap.constant(120), keep_pitches=True, keep_rhythm=True)


def test_protocol_keep_pitches_option():
    from bridge.config import defaults

    config = defaults()
    spec = build_job_spec("infill", {"keep_pitches": True, "start_bar": 1, "end_bar": 1}, [], config)
    assert spec.request.keep_pitches and not spec.request.keep_rhythm
    with pytest.raises(ProtocolError, match="not both"):
        build_job_spec("infill", {"keep_pitches": True, "keep_rhythm": True, "start_bar": 1}, [], config)
    with pytest.raises(ProtocolError, match="infill"):
        build_job_spec("continue", {"keep_pitches": True}, [], config)
