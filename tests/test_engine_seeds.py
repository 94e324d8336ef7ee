"""A seed gives the same notes for a variation whatever the number of variations.

Each row of the batch draws from its own generator over its own choices only,
and sees its own window, so variation k of a request with a seed is the same
whether 1 or 4 variations were asked for.
"""

from __future__ import annotations

import random

import pytest

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.engine.requests import GenerationRequest

pytestmark = pytest.mark.slow


def clip(beats: int = 16) -> tuple[Note, ...]:
    return tuple(Note(48 + (i * 5) % 24, i * 0.5, 0.4, 80, instrument=(0, 33)[i % 2]) for i in range(beats * 2))


def requests(seed: int) -> dict[str, dict]:
    tempo = TempoMap.constant(110)
    return {
        "generate": dict(mode="generate", start=0.0, end=8.0, tempo=tempo, prompt="a trio", seed=seed),
        "generate later": dict(mode="generate", start=6.0, end=12.0, tempo=tempo, seed=seed),
        "infill": dict(mode="infill", start=4.0, end=10.0, tempo=tempo, notes=clip(), seed=seed),
        "keep pitches": dict(mode="infill", start=4.0, end=10.0, tempo=tempo, notes=clip(), seed=seed,
                             keep_pitches=True),
    }


@pytest.mark.parametrize("engine_name", ["dense_engine", "dense_amt_engine"])
@pytest.mark.parametrize("kind", list(requests(0)))
def test_variation_one_is_the_same_with_one_or_four_variations(request, engine_name, kind):
    engine = request.getfixturevalue(engine_name)
    for seed in random.Random(kind).sample(range(10_000), 2):
        options = requests(seed)[kind]
        alone = engine.run(GenerationRequest(**options, variations=1))
        batch = engine.run(GenerationRequest(**options, variations=4))
        assert alone.variations[0].new_notes, f"{kind}: nothing was written"
        assert batch.variations[0].new_notes == alone.variations[0].new_notes, f"{kind}, seed {seed}"
        assert len({tuple(v.new_notes) for v in batch.variations}) > 1, "the variations must differ"
