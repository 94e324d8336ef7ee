"""Top-k / nucleus filtering: the CPU's head-first nucleus is the nucleus of the whole sorted row.

The reference keeps the smallest prefix of the row sorted by probability whose mass
reaches top_p. bridge.engine.sampling sorts only the head of a row on the CPU (growing
it until its mass reaches top_p); on random rows of every shape a model gives (flat,
peaked, masked to a slot, with ties) the kept set must be the reference's.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
import torch

from bridge.engine.sampling import filter_logits
from bridge.engine.sampling_options import SamplingOptions


def nucleus_by_whole_sort(logits: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference rule, written out in float64: sort the whole row, keep the prefix that reaches top_p.

    Also which choices sit at the cut (the mass before them within what float32 sums of up to 16,513
    probabilities may be off by):
    float32 sums may put those on either side.
    """
    ordered, order = torch.sort(logits, dim=-1, descending=True, stable=True)
    probabilities = torch.softmax(ordered.double(), dim=-1)
    before = torch.cumsum(probabilities, dim=-1) - probabilities
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order, before < top_p)
    at_cut = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order, (before - top_p).abs() < 2e-3)
    return keep, at_cut


def random_row(rng: random.Random) -> torch.Tensor:
    width = rng.choice([3, 64, 65, 300, 1000, 10_000, 16_513])
    scale = rng.choice([0.1, 1.0, 3.0, 10.0, 30.0])
    generator = torch.Generator().manual_seed(rng.randrange(2**31))
    row = torch.randn(rng.choice([1, 3]), width, generator=generator) * scale
    if rng.random() < 0.3:  # a slot: only some choices allowed
        row[:, torch.rand(width, generator=generator) < 0.7] = -math.inf
        row[:, 0] = 1.0
    if rng.random() < 0.3:  # ties, as repeated rows of a head give
        row = torch.round(row)
    return row


@pytest.mark.parametrize("seed", range(120))
def test_the_nucleus_is_the_whole_rows_nucleus(seed):
    rng = random.Random(seed)
    row = random_row(rng)
    top_p = rng.choice([0.5, 0.9, 0.95, 0.98, 0.999])
    kept = torch.isfinite(filter_logits(row, SamplingOptions(1.0, top_p, 0)))
    expected, at_cut = nucleus_by_whole_sort(row, top_p)
    for k, e, cut, values in zip(kept, expected, at_cut, row):
        # Ties: which of equal choices comes first is arbitrary, so compare the kept values, not
        # positions; they may differ only by choices at the cut.
        got, want = Counter(values[k].tolist()), Counter(values[e].tolist())
        allowed = Counter(values[cut].tolist())
        assert not (got - want) - allowed and not (want - got) - allowed, (got - want, want - got)


def test_top_k_and_temperature_still_apply_before_the_nucleus():
    row = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0]])
    kept = torch.isfinite(filter_logits(row, SamplingOptions(1.0, 1.0, 2)))
    assert kept.tolist() == [[True, True, False, False, False]]
    cold = torch.isfinite(filter_logits(row, SamplingOptions(0.1, 0.9, 0)))
    assert cold.tolist() == [[True, False, False, False, False]]
