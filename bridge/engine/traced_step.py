"""The one-id decode step replayed by TorchScript on the CPU: the same ops, without Python between them.

At MIDI-LLM's 16 layers the one-id step (:meth:`LlamaStep.forward_one`) is
about 500 small ops; on a CPU each costs the host a few microseconds of Python
and dispatch whatever its size, which is most of a step once the layers are
small. ``torch.compile`` does not remove that cost on a CPU (its generated
wrapper launches as many kernels, and compiling takes tens of seconds:
docs/benchmarks.md). A TorchScript trace records the step's ops once (a tenth
of a second, no compiler) and replays them from C++: the same aten ops in the
same order, so the same numbers bit for bit, at a fraction of the host cost.

One trace per batch size. The weights are held by reference (no copy); the
cache's blocks, its real-column flags and the number of columns read are
inputs, so a cache that grows or fills needs no new trace. A trace that fails
(a TorchScript without tracing, an op it cannot record) is logged once and the
step runs in Python from then on.
"""

from __future__ import annotations

import logging
import time
import warnings

import torch

from bridge.engine.llama_step import LlamaStep
from bridge.engine.static_cache import StaticKVCache

log = logging.getLogger(__name__)


class _CacheInputs:
    """What :meth:`LlamaStep.forward_one` reads from a cache, built from the traced function's inputs."""

    def __init__(self, real: torch.Tensor, blocks: tuple[torch.Tensor, ...], kv_heads: int):
        self.real = real
        self.blocks = list(blocks)
        self.keys = [block.narrow(1, 0, kv_heads) for block in blocks]
        self.values = [block.narrow(1, kv_heads, kv_heads) for block in blocks]


class TracedOneIdStep:
    """:meth:`LlamaStep.forward_one` through a TorchScript trace per batch size; see the module docstring."""

    def __init__(self, step: LlamaStep):
        self.step = step
        self.failed = False
        self.trace_seconds = 0.0
        self._traces: dict[int, torch.jit.ScriptFunction] = {}

    def _function(self, ids, positions, column, seen, real, *blocks):
        cache = _CacheInputs(real, blocks, self.step.kv_heads)
        return self.step.forward_one(ids, positions, column, cache, seen.shape[0])  # type: ignore[arg-type]

    def __call__(self, ids: torch.Tensor, positions: torch.Tensor, column: torch.Tensor, cache: StaticKVCache,
                 attend: int) -> torch.Tensor | None:
        """The step's hidden states, or None when tracing failed (the caller runs the step itself)."""
        if self.failed:
            return None
        inputs = (ids, positions, column, cache.column_ids[:attend], cache.real, *cache.blocks)
        traced = self._traces.get(ids.shape[0])
        if traced is None:
            started = time.perf_counter()
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    # Deprecated in favour of torch.compile / torch.export, neither of which removes this cost on
                    # a CPU; if a later torch drops tracing, the except below keeps the Python step.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    traced = torch.jit.trace(self._function, inputs, check_trace=False)
            except Exception as error:  # noqa: BLE001 - any tracing failure: the same step, in Python
                log.warning("the one-id decode step could not be traced (%s); it runs in Python (slower on a CPU)",
                            str(error).splitlines()[0][:200] if str(error) else type(error).__name__)
                self.failed = True
                return None
            self.trace_seconds += time.perf_counter() - started
            self._traces[ids.shape[0]] = traced
        return traced(*inputs)
