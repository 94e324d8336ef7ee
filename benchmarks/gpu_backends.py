"""GPU benchmark: the transformers backend against the vLLM backend, bf16 and FP8, on a machine with a CUDA GPU.

Not run where there is no GPU. For each backend and precision it reports
- single-stream decode speed (ids per second of one long generation),
- time to first note (from the request to the first streamed note),
- 1 vs 4 variations (ids per second over all rows),
- 1, 8 and 32 concurrent requests (total ids per second; the transformers
  backend runs one job at a time, so its figure shows the queue).
Targets (issue 13): single stream >= 60% of the bandwidth bound (H100: >= 700
ids/s), first note < 100 ms, 32 concurrent >= 10x the throughput of one.

    python benchmarks/gpu_backends.py --model slseanwu/MIDI-LLM_Llama-3.2-1B [--backends transformers,vllm]
        [--precisions bf16,fp8] [--seconds 30] [--json out.json]

FP8 is vLLM's (``quantization="fp8"``: weights cast at load); the
transformers backend runs bf16 only. Results go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.amt.tempo import TempoMap  # noqa: E402
from bridge.engine.engine import Engine  # noqa: E402
from bridge.engine.requests import GenerationRequest  # noqa: E402

TEMPO = TempoMap.constant(120)
PROMPT = "An energetic funk groove with slap bass, drums, electric piano and brass stabs"


def build_engine(model: str, backend: str, precision: str) -> Engine:
    if backend == "transformers":
        if precision != "bf16":
            raise ValueError("the transformers backend runs bf16 only here")
        return Engine.from_config({"id": model, "backend": "transformers", "device": "cuda", "dtype": "bfloat16",
                                   "warmup": True})
    from bridge.engine.backends.checkpoint_info import load_checkpoint_info
    from bridge.engine.backends.vllm_decoder import VllmDecoder
    from bridge.engine.backends.vllm_local import LocalVllm

    info = load_checkpoint_info({"id": model})
    streams = LocalVllm(info.source, context_tokens=info.profile.context_tokens, dtype="bfloat16",
                        quantization="fp8" if precision == "fp8" else None)
    engine = Engine(info, decoder=VllmDecoder(info.profile, streams))
    engine.warm_up()
    return engine


def one_run(engine: Engine, seconds: float, *, variations: int = 1, seed: int = 1) -> dict:
    first_note: list[float] = []
    started = time.perf_counter()

    def on_note(_variation, _note) -> None:
        if not first_note:
            first_note.append(time.perf_counter() - started)

    beats = seconds * 2
    result = engine.run(GenerationRequest("generate", 0.0, beats, TEMPO, prompt=PROMPT, seed=seed,
                                          variations=variations, max_new_tokens=100_000), on_note=on_note)
    wall = time.perf_counter() - started
    return {"ids": result.sampled_tokens, "seconds": wall, "ids_per_second": result.sampled_tokens / wall,
            "first_note_ms": 1000 * first_note[0] if first_note else None,
            "notes": sum(len(v.new_notes) for v in result.variations)}


def concurrent_runs(engine: Engine, seconds: float, jobs: int) -> dict:
    results: list[dict] = []
    lock = threading.Lock()

    def job(seed: int) -> None:
        outcome = one_run(engine, seconds, seed=seed)
        with lock:
            results.append(outcome)

    started = time.perf_counter()
    threads = [threading.Thread(target=job, args=(100 + i,)) for i in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ids = sum(r["ids"] for r in results)
    firsts = sorted(r["first_note_ms"] for r in results if r["first_note_ms"] is not None)
    return {"jobs": jobs, "ids": ids, "seconds": wall, "ids_per_second": ids / wall,
            "first_note_ms_median": firsts[len(firsts) // 2] if firsts else None}


def measure(model: str, backend: str, precision: str, seconds: float) -> dict:
    engine = build_engine(model, backend, precision)
    single = one_run(engine, seconds)
    four = one_run(engine, seconds, variations=4)
    concurrency = {str(n): concurrent_runs(engine, seconds, n) for n in (1, 8, 32)}
    scaling = concurrency["32"]["ids_per_second"] / concurrency["1"]["ids_per_second"]
    description = engine.description
    release(engine)
    return {"backend": backend, "precision": precision, "single": single, "four_variations": four,
            "concurrent": concurrency, "scaling_32_over_1": scaling, "engine": description}


def release(engine: Engine) -> None:
    """Give the GPU back before the next backend loads."""
    import gc

    import torch

    streams = getattr(engine.decoder, "streams", None)
    if streams is not None:
        streams.close()
    del engine
    gc.collect()
    torch.cuda.empty_cache()


def table(rows: list[dict]) -> str:
    lines = ["| backend | precision | single ids/s | first note ms | 4 variations ids/s | 1 / 8 / 32 concurrent ids/s |"
             " 32 vs 1 |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["concurrent"]
        lines.append(f"| {r['backend']} | {r['precision']} | {r['single']['ids_per_second']:.0f} | "
                     f"{r['single']['first_note_ms'] or float('nan'):.0f} | {r['four_variations']['ids_per_second']:.0f} | "
                     f"{c['1']['ids_per_second']:.0f} / {c['8']['ids_per_second']:.0f} / {c['32']['ids_per_second']:.0f} | "
                     f"{r['scaling_32_over_1']:.1f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="slseanwu/MIDI-LLM_Llama-3.2-1B")
    parser.add_argument("--backends", default="transformers,vllm")
    parser.add_argument("--precisions", default="bf16,fp8")
    parser.add_argument("--seconds", type=float, default=30.0, help="music per request (seconds)")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU here: this benchmark is for a machine with one", file=sys.stderr)
        return 2
    rows = []
    for backend in options.backends.split(","):
        for precision in options.precisions.split(","):
            if backend == "transformers" and precision != "bf16":
                continue
            print(f"measuring {backend} {precision} ...", file=sys.stderr, flush=True)
            rows.append(measure(options.model, backend, precision, options.seconds))
    print(table(rows))
    if options.json:
        options.json.write_text(json.dumps({"gpu": torch.cuda.get_device_name(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
