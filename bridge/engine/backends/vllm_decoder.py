"""The vLLM backend's decoder: every variation a chain of vLLM requests, the grammar inside vLLM.

It offers the transformers decoder's ``decode`` (same arguments, same
results), so the engine, the CLI and the daemon use either. Each row runs in
its own thread: it sends a request over its window (bridge/engine/backends/
vllm_requests.py), pushes the ids vLLM streams back into its own copy of the
row's machine (the one inside vLLM's logits processor follows the same ids,
so both agree), reports notes as they come, and when vLLM stops it (the
window must be rebuilt) continues with a new request over the rebuilt window.
vLLM batches the rows of all jobs together, so several jobs run at once
(``concurrent``). Cancel closes the streams, which aborts the requests.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Protocol

from bridge.amt import vocab
from bridge.amt.sequence import DecodingPlan
from bridge.engine.backends.vllm_requests import SegmentRequest, segment_request
from bridge.engine.decoder import Cancelled, DecodeStats, RowResult, row_seed
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.keep_modes import RhythmSlot
from bridge.engine.machine import SKIP, Finished, Rebuild, RowMachine, request_rules
from bridge.engine.profiles import ModelProfile
from bridge.engine.sampling_options import SamplingOptions
from bridge.engine.window import WindowPolicy, history_capacity


class TokenStreams(Protocol):
    """Where requests go: vLLM in this process or a remote ``vllm serve``."""

    description: str

    def stream(self, request_id: str, request: SegmentRequest) -> Iterator[list[int]]:
        """The request's new output ids as they come; closing the iterator aborts the request."""
        ...

    def close(self) -> None:
        ...


class VllmDecoder:
    """Decodes plans through vLLM; see the module docstring."""

    concurrent = True

    def __init__(self, profile: ModelProfile, streams: TokenStreams, *, window_margin: int = 0):
        self.profile = profile
        self.streams = streams
        self.window_margin = window_margin
        self._jobs = 0
        self._jobs_lock = threading.Lock()

    def decode(
        self,
        plan: DecodingPlan,
        *,
        prefix_ids: Sequence[int] = (),
        variations: int = 1,
        sampling: SamplingOptions | None = None,
        constraints: MusicianConstraints | None = None,
        seed: int | None = None,
        max_new_tokens: int = 2046,
        on_event: Callable[[int, vocab.Event], None] | None = None,
        on_progress: Callable[[float], None] | None = None,
        on_skip: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
        rhythm: Sequence[RhythmSlot | tuple[int, int]] | None = None,
        pitches: Sequence[Sequence[int]] | None = None,
    ) -> tuple[list[RowResult], DecodeStats]:
        """As :meth:`bridge.engine.decoder.Decoder.decode`; the draws are vLLM's (same seed, same notes on vLLM)."""
        sampling = sampling or SamplingOptions()
        constraints = constraints or MusicianConstraints()
        started = time.perf_counter()
        prefix = [*prefix_ids, self.profile.model_id(plan.mode_token)]
        policy = WindowPolicy(history_capacity(self.profile.context_tokens, len(prefix)), self.window_margin)
        rules = request_rules(plan, policy, constraints, max_new_tokens, rhythm, pitches)
        if seed is None:
            seed = secrets.randbits(31)
        with self._jobs_lock:
            self._jobs += 1
            job = f"midi-llm-{self._jobs}-{secrets.token_hex(4)}"
        machines = [RowMachine(rules, plan.new_state()) for _ in range(variations)]
        stop = threading.Event()
        lock = threading.Lock()  # callbacks see one row at a time
        stats = DecodeStats()
        span = max(1, plan.end - plan.start)
        if cancel is not None and cancel.is_set():
            raise Cancelled()

        def stopped() -> bool:
            return stop.is_set() or (cancel is not None and cancel.is_set())

        def report(index: int) -> None:
            machine = machines[index]
            with lock:
                for item in machine.take_news():
                    if item == SKIP:
                        if on_skip is not None:
                            on_skip(index)
                    elif on_event is not None:
                        on_event(index, item)
                if on_progress is not None:
                    ticks = min(span if m.done else max(max(plan.start, m.current_time) - plan.start, 0)
                                for m in machines)
                    on_progress(min(1.0, ticks / span))

        def run_row(index: int) -> None:
            machine = machines[index]
            segment = 0
            machine.rebuild()
            while True:
                expected = machine.expect()
                report(index)
                if isinstance(expected, Finished):
                    return
                if isinstance(expected, Rebuild):
                    machine.rebuild()
                    continue
                if stopped():
                    raise Cancelled()
                request = segment_request(machine, prefix, self.profile, sampling, row_seed(seed, index), segment)
                before = machine.sampled
                stream = self.streams.stream(f"{job}-{index}-{segment}", request)
                try:
                    for ids in stream:
                        for token in ids:
                            if token == request.stop_id:
                                break
                            machine.push(token - self.profile.midi_offset)
                        with lock:
                            stats.forward_calls += len(ids)
                        report(index)
                        if stopped():
                            raise Cancelled()
                finally:
                    stream.close()
                with lock:
                    stats.rebuilds += 1
                segment += 1
                if machine.sampled == before and not isinstance(machine.expect(), (Finished, Rebuild)):
                    raise RuntimeError("vLLM ended a request before it wrote anything; see the vLLM log")

        with ThreadPoolExecutor(max_workers=variations, thread_name_prefix="midi-llm-row") as pool:
            futures = [pool.submit(run_row, i) for i in range(variations)]
            wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.done() and f.exception() is not None for f in futures):
                stop.set()  # the first failure stops the other rows
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
        stats.seconds = time.perf_counter() - started
        stats.sampled_tokens = sum(m.sampled for m in machines)
        if on_progress is not None:
            on_progress(1.0)
        return [RowResult(m.events, m.finish_reason, m.unplaced) for m in machines], stats
