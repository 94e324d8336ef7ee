"""Keep rhythm keeps every onset; keep pitches places every pitch; otherwise the result says why.

Random clips (chords, several instruments, odd onsets), random spans: every
outcome is checked against the promise. Where the grammar forbids a given
note (the instrument cap, no pitch left on an onset, more chords than 10 ms
steps) the result carries a sentence saying how many notes and why.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.engine.engine import chord_groups
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.requests import GenerationRequest

pytestmark = pytest.mark.slow

TEMPO = TempoMap.constant(120)


def random_clip(rng: random.Random, beats: int = 16) -> tuple[Note, ...]:
    """Onsets on a random mix of grids, some of them chords, of instruments the test weights do not prefer."""
    notes = []
    position = 0.0
    while position < beats:
        instrument = rng.choice([0, 40, 73, 128])
        size = rng.choice([1, 1, 1, 2, 3])
        for pitch in rng.sample(range(40, 80), size):
            notes.append(Note(pitch, round(position, 4), rng.choice([0.125, 0.25, 0.5, 1.5]), rng.randint(30, 120),
                              instrument=instrument))
        position += rng.choice([0.25, 0.5, 1 / 3, 0.75, 0.0625])
    return tuple(notes)


def not_kept(warnings: list[str], variation: int) -> int:
    for warning in warnings:
        found = re.match(rf"variation {variation}: \d+ of the \d+ given notes .*, (\d+) did not: ", warning)
        if found:
            return int(found.group(1))
    return 0


def timing(note: Note) -> tuple:
    return (note.start, note.duration, note.velocity, note.instrument)


@pytest.mark.parametrize("engine_name", ["dense_engine", "dense_amt_engine"])
def test_keep_rhythm_keeps_every_onset_duration_and_instrument(request, engine_name):
    engine = request.getfixturevalue(engine_name)
    rng = random.Random(engine_name)
    for _ in range(4):
        given = random_clip(rng)
        start = float(rng.randrange(0, 8))
        end = start + rng.choice([2.0, 4.0, 6.0])
        result = engine.run(GenerationRequest("infill", start, end, TEMPO, notes=given, keep_rhythm=True,
                                              variations=2, seed=rng.randrange(1000)))
        span = [n for n in given if start <= n.start < end]
        assert Counter(map(timing, result.removed_notes)) == Counter(map(timing, span))
        for variation in result.variations:
            assert Counter(map(timing, variation.new_notes)) == Counter(map(timing, span))
            onsets = Counter((n.start, n.instrument, n.pitch) for n in variation.notes)
            assert max(onsets.values()) == 1, "no note doubles another on its onset"
        assert result.warnings == []


def test_keep_rhythm_says_how_many_onsets_it_could_not_keep(dense_engine):
    chord = tuple(Note(60 + i, 4.0, 0.5, 90) for i in range(3))  # three notes on one onset
    melody = tuple(Note(62, 5.0 + i * 0.5, 0.5, 80) for i in range(4))
    narrow = MusicianConstraints(lowest_pitch=60, highest_pitch=61)  # two pitches for a three-note chord
    result = dense_engine.run(GenerationRequest("infill", 4.0, 8.0, TEMPO, notes=chord + melody, keep_rhythm=True,
                                                variations=2, seed=3, constraints=narrow))
    for variation in result.variations:
        assert len(variation.new_notes) == 6
        assert not_kept(result.warnings, variation.index + 1) == 1
    assert any("no allowed pitch was left on their onset" in w for w in result.warnings)


def fifteen_others() -> tuple[Note, ...]:
    return tuple(Note(60, 10.0 + i * 0.25, 0.25, 80, instrument=program) for i, program in enumerate(range(40, 55)))


def test_keep_rhythm_and_keep_pitches_say_when_the_instrument_cap_forbids_the_part(dense_engine):
    span = tuple(Note(60 + i % 5, 1.0 + i * 0.5, 0.25, 80, instrument=0) for i in range(6))
    for option in ("keep_rhythm", "keep_pitches"):
        result = dense_engine.run(GenerationRequest("infill", 1.0, 4.0, TEMPO, notes=span + fifteen_others(),
                                                    seed=1, **{option: True}))
        assert result.variations[0].new_notes == []
        assert not_kept(result.warnings, 1) == 6, (option, result.warnings)
        assert "as many instruments as the model takes" in result.warnings[0]


@pytest.mark.parametrize("engine_name", ["dense_engine", "dense_amt_engine"])
def test_keep_pitches_places_every_pitch_even_in_a_short_span(request, engine_name):
    """The test weights write about one onset every 0.3 s; a span with many chords still gets them all."""
    engine = request.getfixturevalue(engine_name)
    rng = random.Random(engine_name)
    for _ in range(4):
        given = random_clip(rng, 8)
        start = float(rng.randrange(0, 4))
        end = start + rng.choice([1.0, 2.0, 3.0])
        result = engine.run(GenerationRequest("infill", start, end, TEMPO, notes=given, keep_pitches=True,
                                              variations=2, seed=rng.randrange(1000)))
        groups = chord_groups(result.removed_notes)
        expected = [(n.instrument, n.pitch, n.velocity) for g in groups for n in g]
        for variation in result.variations:
            written = variation.new_notes
            assert [(n.instrument, n.pitch, n.velocity) for n in written] == expected
            assert all(start <= n.start < end for n in written)
            assert len({n.start for n in written}) == len(groups), "one onset per chord, chords never merge"
        assert result.warnings == []


def test_keep_pitches_says_how_many_pitches_did_not_fit(dense_engine):
    """150 onsets 5 ms apart in a 1 s span: the model's 10 ms steps hold 100 of them at most."""
    crowded = tuple(Note(50 + i % 20, i * 0.01, 0.01, 80) for i in range(150))
    result = dense_engine.run(GenerationRequest("infill", 0.0, 2.0, TEMPO, notes=crowded, keep_pitches=True, seed=2))
    placed = len(result.variations[0].new_notes)
    assert 0 < placed <= 100
    assert not_kept(result.warnings, 1) == 150 - placed
    assert "the span ended before them" in result.warnings[0]
