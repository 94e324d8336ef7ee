"""vLLM inside the daemon: one AsyncLLM engine, its event loop on a thread of its own.

The engine runs with our logits processor, prefix caching (a rebuilt window
shares its text prompt with the previous request) and no tokenizer of its own
(the daemon sends ids and reads ids). Row threads call :meth:`stream`, which
hands each request to the loop and yields its new ids as they arrive;
closing the stream aborts the request in vLLM.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator

from bridge.engine.backends.vllm_requests import ARGUMENT, SegmentRequest

_END = object()


class LocalVllm:
    """An AsyncLLM engine serving one checkpoint; see the module docstring."""

    def __init__(self, source: str, *, context_tokens: int, dtype: str = "auto", gpu_memory: float = 0.85,
                 revision: str | None = None, cache_dir: str | None = None, max_sequences: int = 256,
                 quantization: str | None = None):
        from vllm.engine.arg_utils import AsyncEngineArgs

        from bridge.engine.backends.vllm_processor import MidiLlmLogitsProcessor

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vllm-loop", daemon=True)
        self._thread.start()
        arguments = AsyncEngineArgs(
            model=source, revision=revision, download_dir=cache_dir, dtype=dtype, max_model_len=context_tokens,
            skip_tokenizer_init=True, enable_prefix_caching=True, gpu_memory_utilization=gpu_memory,
            max_num_seqs=max_sequences, logits_processors=[MidiLlmLogitsProcessor], quantization=quantization,
        )
        self.engine = self._call(self._create(arguments))
        self.description = f"vllm in-process ({source})"

    @staticmethod
    async def _create(arguments):
        from vllm.v1.engine.async_llm import AsyncLLM

        return AsyncLLM.from_engine_args(arguments)

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def stream(self, request_id: str, request: SegmentRequest) -> Iterator[list[int]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import RequestOutputKind

        params = SamplingParams(
            temperature=request.temperature, top_p=request.top_p, top_k=request.top_k or -1, seed=request.seed,
            max_tokens=request.max_tokens, stop_token_ids=[request.stop_id], ignore_eos=True, detokenize=False,
            output_kind=RequestOutputKind.DELTA, extra_args={ARGUMENT: request.argument},
        )
        arrived: queue.Queue = queue.Queue()

        async def run() -> None:
            try:
                async for output in self.engine.generate(TokensPrompt(prompt_token_ids=request.prompt_ids), params,
                                                         request_id):
                    arrived.put(list(output.outputs[0].token_ids))
                    if output.finished:
                        break
            except BaseException as error:  # noqa: BLE001 - handed to the row thread
                arrived.put(error)
            finally:
                arrived.put(_END)

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        finished = False
        try:
            while True:
                item = arrived.get()
                if item is _END:
                    finished = True
                    return
                if isinstance(item, BaseException):
                    finished = True
                    raise item
                yield item
        finally:
            if not finished:
                future.cancel()
                asyncio.run_coroutine_threadsafe(self.engine.abort(request_id), self._loop).result(timeout=30)

    def close(self) -> None:
        """Stop the engine (its core process too) and the loop."""

        async def shutdown() -> None:
            self.engine.shutdown()

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
