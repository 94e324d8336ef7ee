"""MIDI-LLM at its real size on this CPU: our decoder vs ``model.generate`` vs the memory-bandwidth bound.

Run from the repository root (about 4 GB of memory in bfloat16, a few minutes):

    .venv/bin/python benchmarks/real_size.py [--dtype bfloat16] [--steps eager,static] [--write]

A LlamaForCausalLM with Llama 3.2 1B's shape (16 layers, hidden 2048, MLP
8192, 32 query / 8 key-value heads of 64) and MIDI-LLM's 183,286 ids is built
in memory with random weights (nothing is downloaded), its head and layers
shaped as in bridge/engine/tiny_checkpoints.py so that it writes dense music
(the window then slides as with real music instead of rebuilding every
step). Each method decodes the same number of tokens from the same first ids:

- ours, for each ``model.decode_step``: ``Decoder.decode`` (grammar, head
  slices, KV cache);
- ``model.generate(do_sample=True, top_p=0.98)``: no grammar, full head;
- the bound: bytes a token must read (the layers' weights, the head rows our
  slots use, the KV cache) over this machine's memory bandwidth, measured in
  the same run by streaming a 512 MB buffer.

At one id per step a decoder on a CPU is bound by memory bandwidth, so the
share of the bound is the figure that carries over. The load average is in
the output: the machine is shared. ``--write`` fills docs/benchmarks.md's
section real-size from a finished run.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.report import write_section  # noqa: E402
from bridge.amt import sequence, vocab  # noqa: E402
from bridge.engine.decoder import Decoder  # noqa: E402
from bridge.engine.loading import LoadedModel  # noqa: E402
from bridge.engine.profiles import detect_profile  # noqa: E402
from bridge.engine.tiny_checkpoints import MIDI_LLM_VOCAB_SIZE, TEXT_VOCAB_SIZE, _shape_for_dense_music  # noqa: E402

NO_END = 10**7
TOP_P = 0.98
PREFIX = [1]  # one text id: the prefill stays a few ids, so per-token times are decode steps


def llama_3_2_1b(dtype: torch.dtype) -> LoadedModel:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=MIDI_LLM_VOCAB_SIZE, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
        num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=2048,
        tie_word_embeddings=False, rms_norm_eps=1e-5, rope_theta=500000.0,
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                      "original_max_position_embeddings": 8192},
    )
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = LlamaForCausalLM(config).eval()
    finally:
        torch.set_default_dtype(previous)
    _shape_for_dense_music(model, model.lm_head, False, model.model.embed_tokens, TEXT_VOCAB_SIZE)
    profile = detect_profile(MIDI_LLM_VOCAB_SIZE, "llama", 2048, "auto")
    return LoadedModel(model, None, profile, torch.device("cpu"), dtype, "random Llama 3.2 1B shape", 0.0)


def bandwidth_bytes_per_second(repeats: int = 5) -> float:
    """Read bandwidth of this machine for one thread: a 512 MB float32 buffer summed, median of runs."""
    buffer = torch.ones(128 * 1024 * 1024, dtype=torch.float32)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        float(buffer.sum())
        times.append(time.perf_counter() - started)
    return buffer.numel() * 4 / statistics.median(times)


def bytes_per_token(loaded: LoadedModel, context: int) -> tuple[float, float]:
    """(ours, generate): bytes one token reads: layers, the head rows used, and ``context`` ids of KV cache."""
    model = loaded.model
    size = loaded.dtype.itemsize if hasattr(loaded.dtype, "itemsize") else torch.finfo(loaded.dtype).bits // 8
    layers = sum(p.numel() for p in model.base_model.layers.parameters()) * size
    config = model.config
    kv = 2 * config.num_hidden_layers * config.num_key_value_heads * 64 * context * size
    rows = (vocab.MAX_TIME + vocab.MAX_DURATION + vocab.REST + 1 - vocab.NOTE_OFFSET) / 3
    hidden = config.hidden_size
    return layers + kv + rows * hidden * size, layers + kv + config.vocab_size * hidden * size


def first_ids(loaded: LoadedModel, plan) -> list[int]:
    profile = loaded.profile
    return [*PREFIX, *(profile.model_id(t) for t in plan.first_step_tokens(0))]


def time_ours(loaded: LoadedModel, step: str, tokens: int) -> tuple[float, float, str]:
    """(seconds per token, first-run seconds, the mode that ran)."""
    decoder = Decoder(loaded, decode_step=step, ids_on_device=step != "eager")
    plan = sequence.plan_generate_from(0, NO_END)
    started = time.perf_counter()
    decoder.decode(plan, prefix_ids=PREFIX, seed=0, max_new_tokens=6)  # warm-up (and compile)
    first = time.perf_counter() - started
    started = time.perf_counter()
    _, stats = decoder.decode(plan, prefix_ids=PREFIX, seed=1, max_new_tokens=tokens)
    seconds = time.perf_counter() - started
    if stats.sampled_tokens != tokens:
        raise RuntimeError(f"decoded {stats.sampled_tokens} tokens, not {tokens}")
    return seconds / tokens, first, decoder.stepper.mode


def time_generate(loaded: LoadedModel, tokens: int) -> float:
    plan = sequence.plan_generate_from(0, NO_END)
    ids = torch.tensor([first_ids(loaded, plan)])
    options = dict(attention_mask=torch.ones_like(ids), do_sample=True, top_p=TOP_P, top_k=0, temperature=1.0,
                   pad_token_id=0)
    with torch.inference_mode():
        loaded.model.generate(input_ids=ids, max_new_tokens=3, **options)
        started = time.perf_counter()
        output = loaded.model.generate(input_ids=ids, max_new_tokens=tokens, min_new_tokens=tokens, **options)
        seconds = time.perf_counter() - started
    return seconds / (output.shape[1] - ids.shape[1])


def markdown(rows: list[dict], bandwidth: float, bound: dict, options, total: float, before: float) -> str:
    baseline = next(r for r in rows if r["method"] == "transformers generate")
    lines = ["| method | ms/token | tokens/s | vs generate | of the bandwidth bound | first run (s) | load |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['method']} | {1000 * r['seconds']:.0f} | {1 / r['seconds']:.2f} | "
                     f"{baseline['seconds'] / r['seconds']:.2f}x | {100 * bound[r['bound']] / r['seconds']:.0f}% | "
                     f"{r['first']:.1f} | {r['load']:.2f} |")
    return "\n".join([
        "## At the real size (CPU)",
        "",
        "A LlamaForCausalLM with Llama 3.2 1B's shape and MIDI-LLM's 183,286 ids, random weights built in",
        f"memory (shaped to write dense music), {options.dtype}, {options.threads} torch thread(s),",
        f"{options.tokens} tokens per method after a warm-up. Reproduce:",
        "",
        "```",
        f".venv/bin/python benchmarks/real_size.py --dtype {options.dtype} --steps {options.steps} --write",
        "```",
        "",
        f"- {platform.machine()}, {os.cpu_count()} CPUs visible, torch {torch.__version__}; "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; whole run {total:.0f} s; load average",
        f"  {before:.2f} before the run (per row in the table; the machine is shared, so ratios carry over",
        "  better than the numbers).",
        f"- Measured read bandwidth (one thread): {bandwidth / 1e9:.1f} GB/s. Bound = bytes a token reads /",
        f"  bandwidth: ours {1 / bound['ours']:.2f} tokens/s (layers, the head rows a slot uses, the KV cache),",
        f"  generate {1 / bound['generate']:.2f} tokens/s (its full 183,286-row head).",
        "",
        *lines,
        "",
        "At this size the layers' weights are most of every token's bytes, so the steps differ by their",
        "host cost (benchmarks/host_cost.py) only; the gain from the static step shows where the device",
        "is faster than the host: CUDA and Apple MPS.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--tokens", type=int, default=30, help="tokens per method (multiple of 3)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", default="eager,static", help="model.decode_step values to measure")
    parser.add_argument("--write", action="store_true", help="write the finished run into docs/benchmarks.md")
    options = parser.parse_args(argv)
    if options.tokens % 3 or options.tokens < 3:
        parser.error("--tokens must be a positive multiple of 3 (whole note events)")
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(options.threads)
    before = os.getloadavg()[0]
    print(f"load average {before:.2f} on {os.cpu_count()} CPUs; building the model", flush=True)
    started = time.perf_counter()
    loaded = llama_3_2_1b(getattr(torch, options.dtype))
    bandwidth = bandwidth_bytes_per_second()
    ours_bytes, generate_bytes = bytes_per_token(loaded, context=options.tokens + 3)
    bound = {"ours": ours_bytes / bandwidth, "generate": generate_bytes / bandwidth}
    print(f"bandwidth {bandwidth / 1e9:.1f} GB/s; bound ours {1 / bound['ours']:.2f} tokens/s", flush=True)
    rows = []
    for step in options.steps.split(","):
        seconds, first, ran = time_ours(loaded, step, options.tokens)
        rows.append({"method": f"ours, decode_step {step}" + ("" if ran == step else f" (ran {ran})"),
                     "seconds": seconds, "first": first, "bound": "ours", "load": os.getloadavg()[0]})
        print(rows[-1], flush=True)
    rows.append({"method": "transformers generate", "seconds": time_generate(loaded, options.tokens), "first": 0.0,
                 "bound": "generate", "load": os.getloadavg()[0]})
    print(rows[-1], flush=True)
    total = time.perf_counter() - started
    text = markdown(rows, bandwidth, bound, options, total, before)
    print("\n" + text)
    if options.write:
        print(f"\nwritten to {write_section('real-size', text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
