"""A pre-allocated key/value cache: one block of memory per layer, written in place.

Hugging Face's DynamicCache concatenates every step (a new tensor per layer
and per step, the whole history copied); this cache allocates its blocks once
per request and writes each step's keys and values into the next columns.
Columns are shared by the rows of a batch (right-padded chunks leave masked
pad columns), exactly the layout the eager decoder's cache has, so the two
paths attend over the same keys. ``real`` marks the columns that hold a real
id of each row; only those are attended to.

The blocks stay at their addresses between steps, which is what a compiled
step or a CUDA graph needs: only the contents change. When a batch's padding
uses up the columns (rows that feed different numbers of ids), the blocks grow
once by half the context; with one row that never happens.

Each layer's keys and values share one block, [batch, 2 * kv_heads,
capacity, head_dim] (keys first): the one-id step writes both with a single
in-place copy (bridge/engine/llama_step.py); ``keys`` and ``values`` are views
of the blocks' two halves for the chunk path.
"""

from __future__ import annotations

import torch


class StaticKVCache:
    """Keys and values [layers] of shape [batch, kv_heads, capacity, head_dim] (views of one block per layer),
    and which columns are real."""

    def __init__(self, layers: int, kv_heads: int, head_dim: int, capacity: int, *, dtype: torch.dtype,
                 device: torch.device | str):
        self.layers, self.kv_heads, self.head_dim = layers, kv_heads, head_dim
        self.capacity = capacity
        self.growth = max(64, capacity // 2)
        self.dtype, self.device = dtype, torch.device(device)
        self.batch = 0
        self.columns = 0
        self.blocks: list[torch.Tensor] = []
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.real = torch.zeros((0, capacity), dtype=torch.bool, device=self.device)
        self.column_ids = torch.arange(capacity, device=self.device)  # sliced per step: no tensor built per step

    def reset(self, batch: int) -> None:
        """Empty the cache for ``batch`` rows; the blocks are reused when the batch size is the same."""
        if batch != self.batch or not self.blocks:
            shape = (batch, 2 * self.kv_heads, self.capacity, self.head_dim)
            self._use([torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in range(self.layers)])
            self.real = torch.zeros((batch, self.capacity), dtype=torch.bool, device=self.device)
            self.batch = batch
        else:
            self.real.zero_()
        self.columns = 0

    def reserve(self, width: int) -> bool:
        """Make room for ``width`` more columns; True when the blocks had to grow (new addresses)."""
        needed = self.columns + width
        if needed <= self.capacity:
            return False
        capacity = max(needed, self.capacity + self.growth)
        extra = capacity - self.capacity

        def grown(block: torch.Tensor) -> torch.Tensor:
            pad = torch.zeros((*block.shape[:2], extra, block.shape[3]), dtype=block.dtype, device=block.device)
            return torch.cat([block, pad], dim=2)

        self._use([grown(block) for block in self.blocks])
        self.real = torch.cat([self.real, torch.zeros((self.batch, extra), dtype=torch.bool, device=self.device)], 1)
        self.capacity = capacity
        self.column_ids = torch.arange(capacity, device=self.device)
        return True

    def _use(self, blocks: list[torch.Tensor]) -> None:
        self.blocks = blocks
        self.keys = [block[:, : self.kv_heads] for block in blocks]
        self.values = [block[:, self.kv_heads:] for block in blocks]

    def advance(self, real_columns: torch.Tensor) -> tuple[int, int]:
        """Mark the next columns' real ids ([batch, width] bool); returns the [start, end) columns they take."""
        start = self.columns
        end = start + real_columns.shape[1]
        self.real[:, start:end] = real_columns
        self.columns = end
        return start, end

    def advance_one(self, real: torch.Tensor | None) -> int:
        """Take the next column for a one-id step (``real`` [batch] bool, None: every row feeds); returns it."""
        column = self.columns
        if real is None:
            self.real[:, column] = True
        else:
            self.real[:, column] = real
        self.columns = column + 1
        return column
