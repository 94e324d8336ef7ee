"""New notes never have zero length in any output: the engine applies the one minimum (notes.with_min_length)."""

from __future__ import annotations

from bridge.amt.notes import MIN_SOUNDING_SECONDS, Note
from bridge.amt.tempo import TempoMap
from bridge.engine.requests import GenerationRequest


def test_keep_rhythm_over_zero_length_notes_writes_audible_lengths(dense_engine):
    tempo = TempoMap.constant(120)
    given = [Note(start=1.0 + 0.5 * i, duration=0.0, pitch=60 + i, velocity=90, instrument=0) for i in range(6)]
    request = GenerationRequest("infill", 0.0, 8.0, tempo, notes=given, seed=5, variations=2, keep_rhythm=True)
    result = dense_engine.run(request)
    written = [note for variation in result.variations for note in variation.new_notes]
    assert written, "the model wrote nothing on the fixed rhythm"
    for note in written:
        seconds = tempo.beats_to_seconds(note.end) - tempo.beats_to_seconds(note.start)
        assert seconds >= MIN_SOUNDING_SECONDS - 1e-9, note
