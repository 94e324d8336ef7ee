"""A note rule as a boolean mask over the note slot (16,513 ids: notes then REST), for torch backends.

Masks are cached per rule (the instruments, pitches and REST flag of a
request change rarely: the 16-instrument cap, a rhythm slot's instrument),
and the few excluded notes of a keep-rhythm onset are cleared on a copy.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from bridge.engine.grammar import NOTE_SLOT_SIZE
from bridge.engine.machine.choices import NoteRule


@lru_cache(maxsize=256)
def _base_mask(instruments: frozenset[int], pitched: frozenset[int], rest: bool, device: str) -> torch.Tensor:
    mask = torch.zeros(NOTE_SLOT_SIZE, dtype=torch.bool)
    for first, end in NoteRule(instruments, pitched, rest).runs():
        mask[first:end] = True
    return mask.to(device)


def note_mask(rule: NoteRule, device: torch.device | str = "cpu") -> torch.Tensor:
    """Bool [16,513]: True where ``rule`` allows the note (the last entry is REST). Do not modify it."""
    mask = _base_mask(*rule.base_key(), str(device))
    if rule.excluded:
        mask = mask.clone()
        mask[sorted(rule.excluded)] = False
    return mask
