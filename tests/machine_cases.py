"""Decoding cases that cover every mode of the grammar, and the notes the decoder gave for them.

The cases run on the tiny dense checkpoints (and a "mixing" copy whose layers
are partly switched back on, so that what the model sees changes what it
writes). ``tests/data/machine_golden.json`` holds what the decoder wrote for
each case before it became a stepper over the state machine
(bridge/engine/machine/); tests/test_machine_decoder.py pins that the stepper
writes exactly the same notes for the same seed.

Regenerate (only when a change of the outputs is intended):
``.venv/bin/python -m tests.machine_cases --write``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from bridge.amt import sequence, vocab
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.keep_modes import RhythmSlot

GOLDEN = Path(__file__).parent / "data" / "machine_golden.json"
SYSTEM = "You are a world-class composer. Please compose some music according to the following description: "

E = vocab.Event


def random_events(seed: int, count: int, until: int, instruments=(0, 33, 81)) -> list[vocab.Event]:
    rng = random.Random(seed)
    events = [E(rng.randrange(until), rng.randrange(5, 200), rng.choice(instruments), rng.randrange(36, 84))
              for _ in range(count)]
    return sorted(events, key=lambda e: e.time)


def cases() -> dict[str, tuple[str, dict]]:
    """name -> (model name, decode keyword arguments); the plan is in ``plan``, the text in ``prompt``."""
    given = random_events(1, 40, 1200)
    many = [E(20 * i, 50, i, 60) for i in range(15)]
    inside = [e for e in given if 300 <= e.time < 700]
    chords: dict[int, list[int]] = {}
    for e in inside:
        chords.setdefault(e.time, []).append(e.instrument * vocab.MAX_PITCH + e.pitch)
    long_piece = random_events(7, 400, 5000)
    crowded = many + [E(400, 30, 0, 60), E(400, 30, 0, 62), E(410, 30, 20, 64), E(420, 30, 1, 65)]
    crowded_chords = [[0 * 128 + 60, 0 * 128 + 62], [20 * 128 + 64], [1 * 128 + 65], [3 * 128 + 40], [2 * 128 + 41]]
    return {
        "generate": ("dense_midi_llm", {"plan": sequence.plan_generate_from(150, 900), "prompt": "funk", "seed": 3}),
        "generate_variations": ("mixing_midi_llm", {"plan": sequence.plan_generate_from(0, 600), "variations": 3,
                                                    "seed": 5}),
        "continue": ("mixing_amt", {"plan": sequence.plan_continue(given, 1200, 1800), "seed": 8}),
        "infill": ("mixing_midi_llm", {"plan": sequence.plan_infill(given, 300, 700), "variations": 2, "seed": 2}),
        "accompany": ("mixing_amt", {"plan": sequence.plan_accompany(given, [33], 0, 1200), "seed": 4,
                                     "constraints": MusicianConstraints(instruments=frozenset({0, 81, 128}))}),
        "scale_range": ("dense_amt", {"plan": sequence.plan_generate_from(0, 700), "seed": 6, "constraints":
                                      MusicianConstraints(lowest_pitch=48, highest_pitch=72,
                                                          pitch_classes=frozenset({0, 2, 4, 5, 7, 9, 11}))}),
        "cap": ("dense_amt", {"plan": sequence.plan_continue(many, 400, 900), "variations": 2, "seed": 9}),
        "limits": ("dense_midi_llm", {"plan": sequence.plan_generate_from(0, 3000), "variations": 2, "seed": 1,
                                      "max_new_tokens": 40, "constraints": MusicianConstraints(max_notes=9)}),
        "token_limit": ("mixing_midi_llm", {"plan": sequence.plan_generate_from(0, 3000), "seed": 15,
                                            "max_new_tokens": 31}),
        "keep_rhythm": ("mixing_midi_llm", {"plan": sequence.plan_infill(given, 300, 700), "variations": 2, "seed": 7,
                                            "rhythm": [RhythmSlot(e.time, e.duration, None) for e in inside]}),
        "keep_rhythm_instruments": ("mixing_amt", {"plan": sequence.plan_infill(given, 300, 700), "seed": 11,
                                                   "rhythm": [RhythmSlot(e.time, e.duration, e.instrument)
                                                              for e in inside],
                                                   "constraints": MusicianConstraints(pitch_classes=frozenset({0, 7}))}),
        "keep_rhythm_skips": ("dense_amt", {"plan": sequence.plan_infill(crowded, 390, 500), "seed": 16,
                                             "constraints": MusicianConstraints(lowest_pitch=60, highest_pitch=60),
                                             "rhythm": [RhythmSlot(400, 30, 0), RhythmSlot(400, 30, 0),
                                                        RhythmSlot(410, 30, 20), RhythmSlot(420, 30, 1)]}),
        "keep_pitches_skips": ("dense_amt", {"plan": sequence.plan_infill(crowded, 390, 393), "seed": 17,
                                             "pitches": crowded_chords}),
        "keep_pitches": ("mixing_midi_llm", {"plan": sequence.plan_infill(given, 300, 700), "variations": 2,
                                             "seed": 12, "pitches": list(chords.values())}),
        "long_window": ("mixing_amt", {"plan": sequence.plan_infill(long_piece, 3800, 4100), "seed": 13}),
        "long_generation": ("mixing_amt", {"plan": sequence.plan_generate_from(0, 4500), "seed": 14,
                                           "max_new_tokens": 2400}),
    }


def text_prefix(loaded, prompt: str) -> list[int]:
    if not loaded.profile.uses_text:
        return []
    return list(loaded.tokenizer(SYSTEM + prompt + " ")["input_ids"])


def run_case(decoder, loaded, arguments: dict) -> dict:
    """Decode one case; the outcome as JSON-able data (every row's events, finish reason, unplaced notes)."""
    arguments = dict(arguments)
    plan = arguments.pop("plan")
    prompt = arguments.pop("prompt", "")
    skips: list[int] = []
    rows, stats = decoder.decode(plan, prefix_ids=text_prefix(loaded, prompt), on_skip=skips.append, **arguments)
    return {
        "rows": [{"events": [list(e) for e in row.events], "finish": row.finish_reason,
                  "unplaced": dict(sorted(row.unplaced.items()))} for row in rows],
        "skips": skips,
        "rebuilds": stats.rebuilds,
    }


def load_models() -> dict:
    """The checkpoints the cases name, built in a temporary folder and loaded like the tests do."""
    import tempfile

    import torch

    from bridge.engine.loading import load_model
    from bridge.engine.tiny_checkpoints import build_tiny_amt, build_tiny_midi_llm

    root = Path(tempfile.mkdtemp(prefix="machine-cases-"))
    midi_llm = build_tiny_midi_llm(root / "midi-llm", dense_music=True)
    amt = build_tiny_amt(root / "amt", dense_music=True)
    models = {"dense_midi_llm": load_model(str(midi_llm), device="cpu"), "dense_amt": load_model(str(amt), device="cpu")}
    for name, directory in (("mixing_midi_llm", midi_llm), ("mixing_amt", amt)):
        loaded = load_model(str(directory), device="cpu")
        mix_layers(loaded)
        models[name] = loaded
    torch.set_num_threads(1)
    return models


def load_case_models(dense_midi_llm_dir: Path, dense_amt_dir: Path) -> dict:
    """The four checkpoints the pinned cases run on, by the names the cases use (loaded the real way)."""
    from bridge.engine.loading import load_model

    loaded = {"dense_midi_llm": load_model(str(dense_midi_llm_dir), device="cpu"),
              "dense_amt": load_model(str(dense_amt_dir), device="cpu")}
    for name, directory in (("mixing_midi_llm", dense_midi_llm_dir), ("mixing_amt", dense_amt_dir)):
        model = load_model(str(directory), device="cpu")
        mix_layers(model)
        loaded[name] = model
    return loaded


def mix_layers(loaded) -> None:
    """Switch the dense weights' silenced layers a little back on: the input now changes the output."""
    import torch

    generator = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for name, parameter in loaded.model.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight", "wpe.weight", "ln_f.weight")):
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))


def main(argv: list[str]) -> int:
    from bridge.engine.decoder import Decoder

    if argv != ["--write"]:
        print("usage: python -m tests.machine_cases --write   (rewrites tests/data/machine_golden.json)")
        return 2
    models = load_models()
    out = {}
    for name, (model, arguments) in cases().items():
        out[name] = run_case(Decoder(models[model]), models[model], arguments)
        print(name, [(len(r["events"]), r["finish"], r["unplaced"]) for r in out[name]["rows"]], out[name]["rebuilds"])
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
