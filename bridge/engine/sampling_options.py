"""How freely the model samples: temperature, nucleus (top-p) and top-k, checked against the protocol's limits.

Torch-free, so the protocol can build an engine request without loading torch
(bridge/engine/sampling.py applies these to logits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bridge.protocol.limits import MAX_TEMPERATURE, MAX_TOP_P, MIN_TEMPERATURE, MIN_TOP_P


@dataclass(frozen=True)
class SamplingOptions:
    temperature: float = 1.0
    top_p: float = 0.98
    top_k: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.temperature) and MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE):
            raise ValueError(f"temperature {self.temperature} must be {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}")
        if not (math.isfinite(self.top_p) and MIN_TOP_P <= self.top_p <= MAX_TOP_P):
            raise ValueError(f"top_p {self.top_p} must be {MIN_TOP_P:g} to {MAX_TOP_P:g}")
        if self.top_k < 0:
            raise ValueError(f"top_k {self.top_k} must be 0 (off) or positive")
