"""Snap new notes to the song's grid: the model thinks in 10 ms steps, songs in beats."""

from __future__ import annotations

import re
from fractions import Fraction

_GRID = re.compile(r"^\s*1\s*/\s*(\d+)\s*([tTdD]?)\s*$")


def parse_grid(text: str | None) -> float | None:
    """Grid step in beats (quarter notes) for "1/16", "1/8T" (triplet), "1/8D" (dotted), or None for "off"."""
    if text is None or str(text).strip().lower() in ("", "off", "none", "0"):
        return None
    match = _GRID.match(str(text))
    if not match:
        raise ValueError(f"grid {text!r} is not like 1/16, 1/8T or 1/4D (or off)")
    division = int(match.group(1))
    if division not in (1, 2, 4, 8, 16, 32, 64):
        raise ValueError(f"grid {text!r}: the division must be 1, 2, 4, 8, 16, 32 or 64")
    step = Fraction(4, division)
    kind = match.group(2).lower()
    if kind == "t":
        step *= Fraction(2, 3)
    elif kind == "d":
        step *= Fraction(3, 2)
    return float(step)


def snap(value: float, step: float, origin: float = 0.0) -> float:
    """Nearest grid line to ``value`` (grid lines at origin + k * step)."""
    return origin + round((value - origin) / step) * step
