"""A one-line terminal progress bar (stderr), quiet when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def update(self, fraction: float, notes: int) -> None:
        self.show(fraction, f"{notes} notes")

    def show(self, fraction: float, detail: str) -> None:
        """The bar at ``fraction`` with ``detail`` (notes so far, bytes so far) after it."""
        now = time.monotonic()
        if not self.interactive or (now - self._last < 0.05 and fraction < 1.0):
            return
        self._last = now
        filled = int(self.width * max(0.0, min(1.0, fraction)))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = now - self._started
        self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}%  {detail}  {elapsed:5.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
