"""Temperature, top-k and nucleus (top-p) sampling over a slice of the vocabulary.

Each variation has its own seeded generator: on the CPU for the eager path
(logits copied to the host), on the model's device for the static-cache step
(:func:`draw`, no host sync; on the CPU the two are the same draws). Each row
is filtered and drawn from over its own choices only (its own slice of the
vocabulary, never a slice shared with the other rows), so a row's draws depend
on its own state alone: a seed gives the same notes for a variation whatever
the number of variations asked for.
"""

from __future__ import annotations

import math

import torch

from bridge.engine.sampling_options import SamplingOptions


def filter_logits(logits: torch.Tensor, options: SamplingOptions) -> torch.Tensor:
    """Scaled logits with everything outside top-k / the nucleus set to -inf.

    ``logits`` is [rows, choices] in float32 with -inf for forbidden choices;
    at least one choice per row must be allowed.
    """
    scaled = logits / options.temperature
    if options.top_k and options.top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, options.top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, -math.inf)
    if options.top_p < 1.0:
        scaled = scaled.masked_fill(_outside_nucleus(scaled, options.top_p), -math.inf)
    return scaled


NUCLEUS_HEAD = 64
"""How many of a row's best choices are sorted first; most nuclei of a music model lie within them."""


def _outside_nucleus(scaled: torch.Tensor, top_p: float) -> torch.Tensor:
    """True for the choices outside the smallest prefix of the sorted row whose mass reaches ``top_p``.

    On the CPU only the head of each row is sorted (torch.topk), growing until its
    mass reaches top_p: the choices after it are outside the nucleus anyway, and the
    16,513-id note slot is not sorted whole at every note. Elsewhere the whole row is
    sorted (a loop that checks the mass would cost a device sync per draw).
    """
    width = scaled.shape[-1]
    head = width if scaled.device.type != "cpu" else min(width, NUCLEUS_HEAD)
    peak = scaled.max(dim=-1, keepdim=True).values
    total = torch.exp(scaled - peak).sum(dim=-1, keepdim=True)
    while True:
        ordered, order = torch.topk(scaled, head, dim=-1) if head < width else torch.sort(scaled, dim=-1,
                                                                                          descending=True)
        probabilities = torch.exp(ordered - peak) / total
        reached = torch.cumsum(probabilities, dim=-1)
        if head == width or bool((reached[..., -1] >= top_p).all()):
            break
        head = min(width, head * 4)
    drop_sorted = reached - probabilities >= top_p  # keep the smallest prefix reaching top_p (the first always)
    return torch.ones_like(scaled, dtype=torch.bool).scatter(-1, order, drop_sorted)


def draw(logits: torch.Tensor, options: SamplingOptions, generators: list[torch.Generator]) -> torch.Tensor:
    """One index per row of ``logits`` [rows, choices], as a tensor on the logits' device (no host sync).

    Each row is drawn with its own generator, which must live on the same
    device: on the CPU this is exactly :func:`sample`'s draw.
    """
    probabilities = torch.softmax(filter_logits(logits.float(), options), dim=-1)
    return torch.cat([torch.multinomial(row, 1, generator=generator)
                      for row, generator in zip(probabilities, generators)])


def draw_each(rows: list[torch.Tensor], options: SamplingOptions, generators: list[torch.Generator]) -> torch.Tensor:
    """One index per 1-D tensor of ``rows``, each over its own choices (lengths may differ); a tensor, no host sync."""
    return torch.cat([torch.multinomial(torch.softmax(filter_logits(logits.float(), options), dim=-1), 1,
                                        generator=generator)
                      for logits, generator in zip(rows, generators)])


def sample(logits: torch.Tensor, options: SamplingOptions, generators: list[torch.Generator]) -> list[int]:
    """One index per row of ``logits`` [rows, choices], drawn on the CPU (rows sampled with their own generator)."""
    return draw(logits.cpu(), options, generators).tolist()


def sample_each(rows: list[torch.Tensor], options: SamplingOptions, generators: list[torch.Generator]) -> list[int]:
    """One index per 1-D tensor of ``rows``, each over its own choices, drawn on the CPU."""
    return draw_each([logits.cpu() for logits in rows], options, generators).tolist()
