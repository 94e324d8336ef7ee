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
"""

from __future__ import annotations

import torch


class StaticKVCache:
    """Keys and values [layers] of shape [batch, kv_heads, capacity, head_dim], and which columns are real."""

    def __init__(self, layers: int, kv_heads: int, head_dim: int, capacity: int, *, dtype: torch.dtype,
                 device: torch.device | str):
        self.layers, self.kv_heads, self.head_dim = layers, kv_heads, head_dim
        self.capacity = capacity
        self.growth = max(64, capacity // 2)
        self.dtype, self.device = dtype, torch.device(device)
        self.batch = 0
        self.columns = 0
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.real = torch.zeros((0, capacity), dtype=torch.bool, device=self.device)

    def reset(self, batch: int) -> None:
        """Empty the cache for ``batch`` rows; the blocks are reused when the batch size is the same."""
        if batch != self.batch or not self.keys:
            shape = (batch, self.kv_heads, self.capacity, self.head_dim)
            self.keys = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in range(self.layers)]
            self.values = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in range(self.layers)]
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

        self.keys = [grown(block) for block in self.keys]
        self.values = [grown(block) for block in self.values]
        self.real = torch.cat([self.real, torch.zeros((self.batch, extra), dtype=torch.bool, device=self.device)], 1)
        self.capacity = capacity
        return True

    def advance(self, real_columns: torch.Tensor) -> tuple[int, int]:
        """Mark the next columns' real ids ([batch, width] bool); returns the [start, end) columns they take."""
        start = self.columns
        end = start + real_columns.shape[1]
        self.real[:, start:end] = real_columns
        self.columns = end
        return start, end
