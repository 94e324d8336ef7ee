"""How the decoder feeds ids to the model: Hugging Face's forward (eager) or the static-cache step.

The decoder (bridge/engine/decoder.py) decides what to feed; a stepper owns
the KV cache and runs the model. Both take right-padded chunks, one per row
(pads are masked out and never attended to), at each row's own positions, and
return the hidden state of each row's last real id. Both keep the same column
layout, so they attend over the same keys and give the same notes.

- :class:`EagerStepper`: the model's own forward with a DynamicCache; works
  for every checkpoint (the AMT GPT-2 models too) and samples on the host.
- :class:`StaticStepper`: :class:`bridge.engine.llama_step.LlamaStep` over a
  pre-allocated cache, sampling on the model's device. One-id feeds (two of
  every note's three forwards, and the note fed before the next onset) take
  the lean one-id step, which on the CPU is replayed by a TorchScript trace
  (bridge/engine/traced_step.py: the same results, a fraction of the host
  cost). Optionally that step is compiled (``torch.compile``; CUDA graphs on
  CUDA), with a clean fall back to the same step uncompiled when compiling
  fails.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence

import torch

from bridge.engine.llama_step import LlamaStep
from bridge.engine.traced_step import TracedOneIdStep

log = logging.getLogger(__name__)


def device_tensor(values, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A small host-built tensor on ``device`` without making the host wait for the device's queue."""
    tensor = torch.as_tensor(values, dtype=dtype)
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def chunk_inputs(chunks: Sequence[Sequence[int]], cached: Sequence[int], pad_id: int):
    """Host tensors for right-padded chunks: ids, real-id mask, positions [batch, width], last real index [batch].

    A row's ids go at positions ``cached[row]`` onwards; its pads repeat the
    position of its last real id (they are masked, so any position would do).
    """
    width = max(1, max(len(chunk) for chunk in chunks))
    batch = len(chunks)
    ids = torch.full((batch, width), pad_id, dtype=torch.long)
    real = torch.zeros((batch, width), dtype=torch.bool)
    positions = torch.zeros((batch, width), dtype=torch.long)
    last = torch.zeros(batch, dtype=torch.long)
    for b, (chunk, start) in enumerate(zip(chunks, cached)):
        n = len(chunk)
        if n:
            ids[b, :n] = torch.tensor(chunk, dtype=torch.long)
            real[b, :n] = True
            positions[b, :n] = torch.arange(start, start + n)
        positions[b, n:] = max(start + n - 1, 0)
        last[b] = max(n - 1, 0)
    return ids, real, positions, last


def one_id_positions(real: Sequence[bool], cached: Sequence[int]) -> list[int]:
    """Positions of a width-1 feed: a row's next position where it feeds an id, its last one where it pads."""
    return [start if fed else max(start - 1, 0) for fed, start in zip(real, cached)]


class EagerStepper:
    """The model's own forward over a DynamicCache (the reference path; every architecture)."""

    samples_on_device = False
    mode = "eager"

    def __init__(self, loaded, pad_id: int):
        self.base = loaded.model.base_model
        self.device = loaded.device
        self.pad_id = pad_id
        # transformers 5 renamed past_key_values to cache; the cache object is updated in place.
        parameters = inspect.signature(self.base.forward).parameters
        self.cache_argument = "cache" if "cache" in parameters else "past_key_values"
        self.cache = None
        self.mask = torch.zeros((0, 0), dtype=torch.long)

    def reset(self, batch: int) -> None:
        from transformers import DynamicCache

        self.cache = DynamicCache()
        self.mask = torch.zeros((batch, 0), dtype=torch.long, device=self.device)

    def _run(self, ids: torch.Tensor, real: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        self.mask = torch.cat([self.mask, real.to(self.device, torch.long)], dim=1)
        output = self.base(input_ids=ids.to(self.device), attention_mask=self.mask,
                           position_ids=positions.to(self.device), use_cache=True,
                           **{self.cache_argument: self.cache})
        return output.last_hidden_state

    def feed(self, chunks: Sequence[Sequence[int]], cached: Sequence[int]) -> torch.Tensor:
        ids, real, positions, last = chunk_inputs(chunks, cached, self.pad_id)
        hidden = self._run(ids, real, positions)
        return hidden[torch.arange(len(chunks), device=hidden.device), last.to(hidden.device)]

    def feed_ids(self, ids: torch.Tensor, real: Sequence[bool], cached: Sequence[int]) -> torch.Tensor:
        """One id per row (``ids`` [batch], already model ids; rows with ``real`` False pad)."""
        pads = torch.full_like(ids, self.pad_id)
        fed = torch.as_tensor(list(real), dtype=torch.bool)
        ids = torch.where(fed.to(ids.device), ids, pads)
        positions = torch.as_tensor(one_id_positions(real, cached), dtype=torch.long)
        return self._run(ids[:, None], fed[:, None], positions[:, None])[:, 0]


class StaticStepper:
    """The static-cache Llama step; ``compile`` compiles the one-id step (see the module docstring)."""

    samples_on_device = True

    def __init__(self, loaded, pad_id: int, *, compile: bool = False):
        self.device = loaded.device
        self.pad_id = pad_id
        context = loaded.profile.context_tokens
        self.step = LlamaStep(loaded.model, positions=2 * context)
        self.cache = self.step.new_cache(context)
        self.mode = "compiled" if compile else "static"
        self.compile_seconds: float | None = None
        self._compiled = None
        self._compile_wanted = compile
        # On the CPU the uncompiled one-id step is replayed by TorchScript (bridge/engine/traced_step.py).
        self.traced = TracedOneIdStep(self.step) if self.device.type == "cpu" else None

    def reset(self, batch: int) -> None:
        self.cache.reset(batch)

    def _reserve(self, width: int) -> None:
        if self.cache.reserve(width):
            log.info("decode cache grew to %d columns (rows fed very different numbers of ids)", self.cache.capacity)
            self._compiled = None  # new block addresses: compile (and mark them static) again

    @torch.no_grad()  # the decoder runs in inference mode; other callers get no autograd either
    def feed(self, chunks: Sequence[Sequence[int]], cached: Sequence[int]) -> torch.Tensor:
        if max(len(chunk) for chunk in chunks) == 1:  # a note fed before the next onset: the one-id step
            ids = device_tensor([chunk[0] if chunk else self.pad_id for chunk in chunks], torch.long, self.device)
            return self.feed_ids(ids, [len(chunk) == 1 for chunk in chunks], cached)
        ids, real, positions, last = chunk_inputs(chunks, cached, self.pad_id)
        self._reserve(real.shape[1])
        start, end = self.cache.advance(real.to(self.device))
        columns = self.cache.column_ids[start:end]
        hidden = self.step.forward(ids.to(self.device), positions.to(self.device), columns, self.cache, end)
        return hidden[torch.arange(len(chunks), device=self.device), last.to(self.device)]

    @torch.no_grad()
    def feed_ids(self, ids: torch.Tensor, real: Sequence[bool], cached: Sequence[int]) -> torch.Tensor:
        """One id per row (``ids`` [batch] on the device, model ids; rows with ``real`` False pad).

        The common case (every row feeds) builds one small tensor per step, the positions.
        """
        fed = None
        if not all(real):
            fed = device_tensor(list(real), torch.bool, self.device)
            ids = torch.where(fed, ids, torch.full_like(ids, self.pad_id))
        positions = device_tensor(one_id_positions(real, cached), torch.long, self.device)
        self._reserve(1)
        column = self.cache.advance_one(fed)
        columns = self.cache.column_ids[column:column + 1]
        if self._compile_wanted and (self.device.type == "cuda" or 0 < column < self.cache.capacity - 1):
            # (off CUDA, reading 1 or all columns would be special cases for the compiler: those steps run uncompiled)
            hidden = self._compiled_forward(ids, positions, columns, column + 1)
            if hidden is not None:
                return hidden
        if self.traced is not None:
            hidden = self.traced(ids, positions, columns, self.cache, column + 1)
            if hidden is not None:
                return hidden
        return self.step.forward_one(ids, positions, columns, self.cache, column + 1)

    def _over(self, ids, positions, columns, cache, seen: torch.Tensor) -> torch.Tensor:
        """The one-id step attending to ``seen``'s length of columns (a size the compiler keeps symbolic)."""
        return self.step.forward_one(ids, positions, columns, cache, seen.shape[0])

    def _compiled_forward(self, ids, positions, columns, filled: int) -> torch.Tensor | None:
        """The compiled one-id step, or None (and uncompiled from now on) when compiling fails.

        On CUDA every shape is fixed (attention reads the whole cache) so that
        CUDA graphs can replay the step; elsewhere the number of columns read
        is one symbolic size, compiled once: reading the whole cache costs a CPU
        more than the graph saves (docs/benchmarks.md).
        """
        whole = self.device.type == "cuda"
        if self._compiled is None:
            target = self.step.forward_one if whole else self._over
            self._compiled = torch.compile(target, fullgraph=True, dynamic=False if whole else None,
                                           mode="reduce-overhead" if whole else None)
            for block in (*self.cache.blocks, self.cache.real):
                torch._dynamo.mark_static_address(block)
        started = time.perf_counter()
        try:
            if whole:
                hidden = self._compiled(ids, positions, columns, self.cache, self.cache.capacity)
            else:
                seen = self.cache.column_ids[:filled]
                torch._dynamo.mark_dynamic(seen, 0, min=2, max=self.cache.capacity - 1)
                hidden = self._compiled(ids, positions, columns, self.cache, seen)
        except Exception as error:  # noqa: BLE001 - any compiler failure falls back to the same step, uncompiled
            log.warning("model.decode_step compiled: compiling the decode step failed (%s); decoding uncompiled "
                        "(set model.decode_step to static to skip the attempt)", str(error).splitlines()[0][:200])
            self._compile_wanted = False
            self.mode = "static"
            return None
        seconds = time.perf_counter() - started
        if self.compile_seconds is None:
            self.compile_seconds = seconds
            log.info("decode step compiled in %.1f s", seconds)
        return hidden


def make_stepper(loaded, pad_id: int, mode: str):
    """The stepper for ``mode`` (eager | static | compiled | auto) and this model.

    auto: compiled on CUDA (CUDA graphs), static on CPU and Apple MPS (on the
    CPU the traced static step beats the compiled one and starts in a tenth of
    a second instead of tens of seconds, see docs/benchmarks.md), eager for
    models the static step does not cover (the AMT GPT-2 checkpoints).
    """
    from bridge.engine.llama_step import supports

    if mode not in ("auto", "eager", "static", "compiled"):
        raise ValueError(f"model.decode_step {mode!r} must be auto, eager, static or compiled")
    if mode == "eager" or not supports(loaded.model):
        if mode in ("static", "compiled"):
            log.info("model.decode_step %s covers Llama checkpoints only; decoding %s eagerly", mode,
                     getattr(loaded.model.config, "model_type", "this model"))
        return EagerStepper(loaded, pad_id)
    if mode == "auto":
        mode = "compiled" if loaded.device.type == "cuda" else "static"
    return StaticStepper(loaded, pad_id, compile=mode == "compiled")
