"""What the reference's window costs: rebuilds per 100 notes by window margin, and the cost of one rebuild.

Run from the repository root:

    .venv/bin/python benchmarks/window.py          # add --write to update docs/benchmarks.md

Once a piece's history fills the context, the reference sampler's layout
(the last ids, relativized) changes at every note, so a KV cache has to be
rebuilt at every note; ``model.window_margin`` trades history for fewer
rebuilds. Two measurements:

- rebuilds per 100 notes and the fewest history ids the model saw, per
  margin, with the real MIDI-LLM layout (183,286 ids, 2,048 positions, a text
  prompt) on a tiny dense-music checkpoint (the counts do not depend on the
  model's size), decoding an infill whose history fills the window;
- the cost of one rebuild (one forward over the whole window) and of one
  cached step (one id), with a model of Llama 3.2 1B's shape (16 layers,
  hidden 2,048, 32 heads, 8 key-value heads, MLP 8,192, 183,286 ids) and
  random weights, built here in memory, never downloaded.

From both: the decoding time per 100 notes that rebuilds add, per margin.
``--layers`` and ``--rebuild-ids`` shrink the 1B model for a quick check on a
small machine; the section of docs/benchmarks.md is written only at the end
of a full run with the real shape and only with ``--write``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.report import add_write_arguments, progress, publish  # noqa: E402
from bridge.amt import sequence, vocab  # noqa: E402
from bridge.engine.decoder import Decoder  # noqa: E402
from bridge.engine.loading import load_model  # noqa: E402
from bridge.engine.tiny_checkpoints import MIDI_LLM_VOCAB_SIZE, build_tiny_midi_llm  # noqa: E402
from bridge.engine.window import history_capacity  # noqa: E402

PROMPT = "A cheerful pop song with piano, bass and drums."
LLAMA_1B = dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                num_key_value_heads=8, max_position_embeddings=2048, vocab_size=MIDI_LLM_VOCAB_SIZE,
                tie_word_embeddings=True, rope_theta=500_000.0)


def rebuild_counts(margins: list[int], span_seconds: int) -> tuple[list[dict], int]:
    """Per margin: notes written, rebuilds, and the fewest history ids at a step once the window was full."""
    with tempfile.TemporaryDirectory() as temporary:
        loaded = load_model(str(build_tiny_midi_llm(Path(temporary), dense_music=True)), device="cpu")
        prefix = list(loaded.tokenizer(loaded.profile.prompt_text(PROMPT))["input_ids"])
        capacity = history_capacity(loaded.profile.context_tokens, len(prefix) + 1)
        history = [vocab.Event(3 * i, 30, (0, 33)[i % 2], 50 + (i * 7) % 30) for i in range(capacity // 3)]
        start = history[-1].time + 3
        plan = sequence.plan_infill(history, start, start + span_seconds * vocab.TICKS_PER_SECOND)
        rows = []
        for margin in margins:
            results, stats = Decoder(loaded, window_margin=margin).decode(plan, prefix_ids=prefix, seed=1,
                                                                         max_new_tokens=10**6)
            notes = len(results[0].events)
            rows.append({"margin": margin, "notes": notes, "rebuilds": stats.rebuilds - 1,
                         "per_100": 100 * (stats.rebuilds - 1) / max(notes, 1),
                         "fewest_history": capacity - margin})
        return rows, capacity


def llama_1b(layers: int) -> torch.nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**dict(LLAMA_1B, num_hidden_layers=layers))
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = LlamaForCausalLM(config)
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return model.to(dtype).eval()


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@torch.inference_mode()
def rebuild_cost(layers: int, rebuild_ids: int, steps: int, repeats: int) -> tuple[float, float]:
    """(seconds per rebuild over ``rebuild_ids`` ids, seconds per cached one-id step after it)."""
    import inspect

    from transformers import DynamicCache

    model = llama_1b(layers)
    base = model.model
    # transformers 5 renamed past_key_values to cache (as the decoder does, by the signature)
    cache_argument = "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
    device = next(model.parameters()).device
    ids = torch.randint(128_256, MIDI_LLM_VOCAB_SIZE, (1, rebuild_ids), device=device)
    rebuilds, step_times = [], []
    for _ in range(repeats):
        cache = DynamicCache()
        _sync()
        started = time.perf_counter()
        base(input_ids=ids, use_cache=True, **{cache_argument: cache})
        _sync()
        rebuilds.append(time.perf_counter() - started)
        started = time.perf_counter()
        for step in range(steps):
            base(input_ids=ids[:, step : step + 1], use_cache=True, **{cache_argument: cache},
                 position_ids=torch.tensor([[rebuild_ids + step]], device=device))
        _sync()
        step_times.append((time.perf_counter() - started) / steps)
    return statistics.median(rebuilds), statistics.median(step_times)


def table(rows: list[dict], rebuild_seconds: float, step_seconds: float) -> str:
    lines = ["| margin (ids) | fewest history ids | notes | rebuilds | rebuilds per 100 notes | "
             "rebuild time per 100 notes | vs the 300 cached steps of 100 notes |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    steps = 300 * step_seconds
    for row in rows:
        added = row["per_100"] * rebuild_seconds
        lines.append(f"| {row['margin']} | {row['fewest_history']} | {row['notes']} | {row['rebuilds']} | "
                     f"{row['per_100']:.1f} | {added:.2f} s | {added / steps:.2f}x |")
    return "\n".join(lines)


def markdown(rows: list[dict], capacity: int, rebuild_seconds: float, step_seconds: float,
             options: argparse.Namespace, total: float) -> str:
    import transformers

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or "CPU"
    return "\n".join([
        "## Window rebuilds",
        "",
        "What keeping the reference sampler's window costs (`model.window_margin`). Reproduce with",
        "`.venv/bin/python benchmarks/window.py --write`.",
        "",
        f"- Rebuild counts: the MIDI-LLM layout (text prompt, {capacity} ids of history), a tiny dense-music",
        f"  checkpoint, an infill of {options.span} s after a history that fills the window.",
        f"- Cost: a model of Llama 3.2 1B's shape ({options.layers} layers), random weights, on {device};",
        f"  a rebuild feeds {options.rebuild_ids} ids, a cached step one id "
        f"(median of {options.repeats}).",
        f"- torch {torch.__version__}, transformers {transformers.__version__}, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, whole run {total:.0f} s.",
        "",
        f"One rebuild: {rebuild_seconds * 1000:.1f} ms; one cached step: {step_seconds * 1000:.2f} ms.",
        "",
        table(rows, rebuild_seconds, step_seconds),
        "",
        "Margin 0 is the default (the reference's layout at every step). A margin M rebuilds about",
        "every M/3 notes once the window is full, and the model then sees between all and M fewer",
        "ids of history.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--margins", default="0,30,90,300", help="window margins to count, in ids")
    parser.add_argument("--span", type=int, default=30, help="seconds of infill after the full history")
    parser.add_argument("--layers", type=int, default=16, help="layers of the 1B-shaped model (16 = real)")
    parser.add_argument("--rebuild-ids", type=int, default=2000, help="ids one rebuild feeds")
    parser.add_argument("--steps", type=int, default=10, help="cached steps timed after each rebuild")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    add_write_arguments(parser)
    options = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if options.threads:
        torch.set_num_threads(options.threads)
    started = time.perf_counter()
    margins = [int(m) for m in options.margins.split(",")]
    progress(f"counting rebuilds for margins {options.margins} over a {options.span} s infill")
    rows, capacity = rebuild_counts(margins, options.span)
    for row in rows:
        print(f"margin {row['margin']:4}: {row['notes']} notes, {row['rebuilds']} rebuilds, "
              f"{row['per_100']:.1f} per 100 notes", flush=True)
    progress(f"timing one rebuild of {options.rebuild_ids} ids and cached steps ({options.layers} layers)")
    rebuild_seconds, step_seconds = rebuild_cost(options.layers, options.rebuild_ids, options.steps, options.repeats)
    print(f"rebuild {rebuild_seconds:.3f} s, cached step {step_seconds:.4f} s", flush=True)
    print(table(rows, rebuild_seconds, step_seconds))
    real_shape = options.layers == LLAMA_1B["num_hidden_layers"] and options.rebuild_ids >= 2000
    if options.write and not real_shape:
        print("not written: a reduced model (--layers / --rebuild-ids) is a quick check, not the measurement")
    else:
        total = time.perf_counter() - started
        publish(options, "window", markdown(rows, capacity, rebuild_seconds, step_seconds, options, total))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
