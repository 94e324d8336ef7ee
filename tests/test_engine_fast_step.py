"""The static-cache step (model.decode_step static / compiled) writes what the eager decoder writes.

Pinned against the same notes as the eager path (tests/data/machine_golden.json,
every mode), with the sampled ids read back per slot and kept on the device
until one read-back per note; random requests decoded both ways give equal
outcomes; the lean Llama forward over its padded static cache equals a plain
forward of each row's ids; the cache's blocks keep their addresses through a
request (and grow when padding fills them); the device draws are the host's;
and the compiled step gives the same notes, or falls back to the uncompiled
step when the compiler cannot run.
"""

from __future__ import annotations

import json
import random

import pytest
import torch

from bridge.amt import sequence, vocab
from bridge.engine.decoder import Decoder
from bridge.engine.engine import Engine
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.loading import load_model
from bridge.engine.sampling import SamplingOptions, draw, draw_each, sample, sample_each
from bridge.engine.steppers import EagerStepper, StaticStepper, chunk_inputs
from bridge.engine.tiny_checkpoints import build_tiny_midi_llm
from tests import machine_cases

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

GOLDEN = json.loads(machine_cases.GOLDEN.read_text())


@pytest.fixture(scope="module")
def models(dense_midi_llm_dir, dense_amt_dir):
    return machine_cases.load_case_models(dense_midi_llm_dir, dense_amt_dir)


@pytest.fixture(scope="module")
def short_context_llama(tmp_path_factory):
    """A random tiny Llama with a 96-position context and 4 layers: caches fill (and grow) within a short test."""
    directory = build_tiny_midi_llm(tmp_path_factory.mktemp("short-llama"), layers=4, positions=96, seed=5)
    return load_model(str(directory), device="cpu")


@pytest.mark.parametrize("on_device", [False, True], ids=["read-per-slot", "one-read-per-note"])
@pytest.mark.parametrize("name", sorted(machine_cases.cases()))
def test_static_step_writes_the_pinned_notes(models, name, on_device):
    model, arguments = machine_cases.cases()[name]
    decoder = Decoder(models[model], decode_step="static", ids_on_device=on_device)
    expected_stepper = StaticStepper if "midi_llm" in model else EagerStepper  # GPT-2 keeps the eager step
    assert isinstance(decoder.stepper, expected_stepper)
    assert machine_cases.run_case(decoder, models[model], arguments) == GOLDEN[name]


def _random_request(rng: random.Random) -> dict:
    given = machine_cases.random_events(rng.randrange(1000), rng.randrange(0, 40), 1500,
                                        instruments=tuple(rng.sample([0, 25, 33, 40, 81, 128], 3)))
    start = rng.randrange(0, 900)
    end = start + rng.randrange(60, 700)
    kind = rng.choice(["generate", "continue", "infill", "accompany"])
    if kind == "generate":
        plan = sequence.plan_generate_from(start, end)
    elif kind == "continue":
        plan = sequence.plan_continue(given, 1500, 1500 + rng.randrange(60, 600))
    elif kind == "infill":
        plan = sequence.plan_infill(given, start, end)
    else:
        plan = sequence.plan_accompany(given, [given[0].instrument] if given else [0], 0, end)
    constraints = MusicianConstraints(
        instruments=frozenset(rng.sample([0, 33, 81, 128], rng.randrange(1, 4))) if rng.random() < 0.5 else None,
        max_notes=rng.choice([None, rng.randrange(1, 30)]))
    sampling = SamplingOptions(temperature=rng.choice([0.7, 1.0, 1.3]), top_p=rng.choice([0.9, 0.98, 1.0]),
                               top_k=rng.choice([0, 0, 40]))
    return {"plan": plan, "variations": rng.randrange(1, 4), "seed": rng.randrange(2**31), "sampling": sampling,
            "constraints": constraints, "max_new_tokens": rng.randrange(30, 400)}


@pytest.mark.parametrize("trial", range(6))
def test_random_requests_decode_the_same_with_every_step(models, trial):
    """Property: whatever the mode, batch and sampling options, static and eager give equal outcomes."""
    rng = random.Random(4000 + trial)
    loaded = models[rng.choice(["dense_midi_llm", "mixing_midi_llm"])]
    arguments = _random_request(rng)
    eager = machine_cases.run_case(Decoder(loaded, decode_step="eager"), loaded, dict(arguments))
    for on_device in (False, True):
        fast = Decoder(loaded, decode_step="static", ids_on_device=on_device)
        assert machine_cases.run_case(fast, loaded, dict(arguments)) == eager


def _plain_last_hidden(loaded, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return loaded.model.base_model(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]


@pytest.mark.parametrize("trial", range(4))
def test_lean_step_over_a_padded_static_cache_equals_a_plain_forward(short_context_llama, trial):
    """Property: random chunk widths per row (pads between real ids, rows idle for a while, padding that
    makes the cache grow); each row's state equals a cache-free forward of that row's ids alone, and the
    blocks keep their addresses except when they grow."""
    loaded = short_context_llama
    rng = random.Random(trial)
    batch = rng.randrange(1, 4)
    stepper = StaticStepper(loaded, pad_id=0)
    stepper.reset(batch)
    addresses = [block.data_ptr() for block in stepper.cache.keys]
    capacity = stepper.cache.capacity
    fed: list[list[int]] = [[rng.randrange(128_256, 183_286)] for _ in range(batch)]
    hidden = stepper.feed([list(f) for f in fed], [0] * batch)
    largest = 0.0
    for _ in range(rng.randrange(8, 20)):
        chunks = [[rng.randrange(128_256, 183_286) for _ in range(rng.choice([0, 1, 1, 2, 5]))]
                  for _ in range(batch)]
        if not any(chunks):
            chunks[0] = [rng.randrange(128_256, 183_286)]
        if max(len(f) + len(c) for f, c in zip(fed, chunks)) > loaded.profile.context_tokens:
            break
        hidden = stepper.feed(chunks, [len(f) for f in fed])
        for row, chunk in enumerate(chunks):
            fed[row] += chunk
            if chunk:
                reference = _plain_last_hidden(loaded, fed[row])
                largest = max(largest, float((hidden[row] - reference).abs().max()))
        if stepper.cache.capacity == capacity:
            assert [block.data_ptr() for block in stepper.cache.keys] == addresses
        else:
            capacity = stepper.cache.capacity
            addresses = [block.data_ptr() for block in stepper.cache.keys]
    assert largest < 1e-4


def _in_memory_llama(bias: bool):
    """A small random Llama built in memory (no download): 4:1 grouped heads, with or without the biases."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from bridge.engine.loading import LoadedModel
    from bridge.engine.profiles import detect_profile
    from bridge.engine.tiny_checkpoints import MIDI_LLM_VOCAB_SIZE

    config = LlamaConfig(vocab_size=MIDI_LLM_VOCAB_SIZE, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                         num_attention_heads=8, num_key_value_heads=2, head_dim=16, max_position_embeddings=96,
                         attention_bias=bias, mlp_bias=bias, rope_theta=500000.0)
    torch.manual_seed(3)
    model = LlamaForCausalLM(config).eval()
    if bias:
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if name.endswith(".bias"):
                    parameter.normal_()
    profile = detect_profile(MIDI_LLM_VOCAB_SIZE, "llama", 96, "auto")
    return LoadedModel(model, None, profile, torch.device("cpu"), torch.float32, "in-memory llama", 0.0)


@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "biases"])
@pytest.mark.parametrize("trial", range(3))
def test_one_id_step_equals_a_plain_forward(trial, bias):
    """Property: the one-id step (feed_ids: rows that feed and rows that pad, one column each) gives each
    feeding row the state of a cache-free forward of its ids alone, with and without a checkpoint's biases."""
    loaded = _in_memory_llama(bias)
    rng = random.Random(100 + trial)
    batch = rng.randrange(1, 4)
    stepper = StaticStepper(loaded, pad_id=0)
    stepper.reset(batch)
    fed = [[rng.randrange(128_256, 183_286) for _ in range(rng.randrange(1, 6))] for _ in range(batch)]
    stepper.feed([list(f) for f in fed], [0] * batch)
    largest = 0.0
    for _ in range(20):
        real = [rng.random() < 0.7 for _ in range(batch)]
        ids = [rng.randrange(128_256, 183_286) for _ in range(batch)]
        hidden = stepper.feed_ids(torch.tensor(ids), real, [len(f) for f in fed])
        for row in range(batch):
            if real[row]:
                fed[row].append(ids[row])
                largest = max(largest, float((hidden[row] - _plain_last_hidden(loaded, fed[row])).abs().max()))
    assert largest < 1e-4


@pytest.mark.parametrize("batch", [1, 3])
def test_traced_step_is_the_python_step_bit_for_bit(batch):
    """The TorchScript replay of the one-id step (the CPU's static step) gives exactly the Python step's states,
    through cache columns that change every step and rows that pad."""
    loaded = _in_memory_llama(bias=True)
    traced, python = StaticStepper(loaded, pad_id=0), StaticStepper(loaded, pad_id=0)
    python.traced = None
    assert traced.traced is not None
    rng = random.Random(batch)
    prompt = [[rng.randrange(128_256, 183_286) for _ in range(4)] for _ in range(batch)]
    cached = [4] * batch
    for stepper in (traced, python):
        stepper.reset(batch)
        stepper.feed(prompt, [0] * batch)
    for _ in range(12):
        real = [rng.random() < 0.8 for _ in range(batch)]
        ids = torch.tensor([rng.randrange(128_256, 183_286) for _ in range(batch)])
        assert torch.equal(traced.feed_ids(ids, real, cached), python.feed_ids(ids, real, cached))
        cached = [c + r for c, r in zip(cached, real)]
    assert not traced.traced.failed and batch in traced.traced._traces


def test_cache_grows_when_padding_fills_it(short_context_llama):
    loaded = short_context_llama
    stepper = StaticStepper(loaded, pad_id=0)
    stepper.reset(2)
    first = stepper.cache.capacity
    fed = [[128_300], [128_301]]
    stepper.feed(fed, [0, 0])
    for step in range(first):  # the rows take turns: each forward pads one row, so columns outrun both
        chunks = [[128_400 + step], []] if step % 2 else [[], [128_500 + step]]
        if max(len(f) + len(c) for f, c in zip(fed, chunks)) > loaded.profile.context_tokens:
            break
        hidden = stepper.feed(chunks, [len(f) for f in fed])
        row = 0 if step % 2 else 1
        fed[row] += chunks[row]
        assert float((hidden[row] - _plain_last_hidden(loaded, fed[row])).abs().max()) < 1e-4
    assert stepper.cache.capacity > first


def test_pads_are_masked_and_positions_are_per_row():
    ids, real, positions, last = chunk_inputs([[5, 6, 7], [], [8]], [10, 4, 0], pad_id=1)
    assert ids.tolist() == [[5, 6, 7], [1, 1, 1], [8, 1, 1]]
    assert real.tolist() == [[True] * 3, [False] * 3, [True, False, False]]
    assert positions.tolist() == [[10, 11, 12], [3, 3, 3], [0, 0, 0]]
    assert last.tolist() == [2, 0, 0]


@pytest.mark.parametrize("trial", range(20))
def test_device_draws_are_the_host_draws(trial):
    """Property: on the CPU, draw / draw_each (no read-back) give sample / sample_each's choices for a seed."""
    rng = random.Random(trial)
    options = SamplingOptions(temperature=rng.choice([0.5, 1.0, 2.0]), top_p=rng.choice([0.5, 0.98, 1.0]),
                              top_k=rng.choice([0, 1, 30]))
    rows = rng.randrange(1, 5)
    logits = torch.randn((rows, rng.randrange(2, 3000)), generator=torch.Generator().manual_seed(trial)) * 4
    logits[:, rng.randrange(logits.shape[1])] = float("-inf")

    def generators():
        return [torch.Generator().manual_seed(trial * 10 + r) for r in range(rows)]

    assert draw(logits, options, generators()).tolist() == sample(logits, options, generators())
    ragged = [logits[r, : rng.randrange(1, logits.shape[1] + 1)] for r in range(rows)]
    assert draw_each(ragged, options, generators()).tolist() == sample_each(ragged, options, generators())


def test_engine_steps_as_configured(dense_midi_llm_dir, dense_amt_dir):
    loaded = load_model(str(dense_midi_llm_dir), device="cpu")
    assert Engine(loaded, decode_step="static").decoder.stepper.mode == "static"
    assert Engine(loaded, decode_step="eager").decoder.stepper.mode == "eager"
    assert Engine(loaded).decoder.stepper.mode == "static"  # auto on the CPU
    amt = load_model(str(dense_amt_dir), device="cpu")
    assert Engine(amt, decode_step="compiled").decoder.stepper.mode == "eager"  # the step covers Llama only
    with pytest.raises(ValueError, match="must be auto, eager, static or compiled"):
        Decoder(loaded, decode_step="fast")


def test_compiled_step_writes_the_pinned_notes(models):
    """torch.compile of the one-id step (tens of seconds on this CPU): same notes as the eager path."""
    model, arguments = machine_cases.cases()["generate"]
    decoder = Decoder(models[model], decode_step="compiled", ids_on_device=True)
    assert machine_cases.run_case(decoder, models[model], arguments) == GOLDEN["generate"]
    assert decoder.stepper.mode == "compiled" and decoder.stepper.compile_seconds is not None


def test_compiled_step_falls_back_when_the_compiler_cannot_run(models, monkeypatch, tmp_path):
    """A C++ compiler that is not there (a real failure of inductor, not a stand-in): the same notes, uncompiled."""
    inductor_config = pytest.importorskip("torch._inductor.config")
    torch._dynamo.reset()
    monkeypatch.setattr(inductor_config.cpp, "cxx", (str(tmp_path / "no-such-c++"),))
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor-cache"))
    monkeypatch.setattr(inductor_config, "fx_graph_cache", False)
    model, arguments = machine_cases.cases()["generate"]
    decoder = Decoder(models[model], decode_step="compiled", ids_on_device=True)
    assert machine_cases.run_case(decoder, models[model], arguments) == GOLDEN["generate"]
    assert decoder.stepper.mode == "static"
    torch._dynamo.reset()


def test_first_notes_of_a_request_are_valid_triplets_on_every_step(models):
    """The one-read-per-note path pushes each triplet through the machine, which refuses anything invalid."""
    loaded = models["mixing_midi_llm"]
    rows, _ = Decoder(loaded, decode_step="static", ids_on_device=True).decode(
        sequence.plan_generate_from(0, 800), variations=3, seed=21)
    for row in rows:
        assert row.events and all(0 <= e.time < 800 and 0 <= e.pitch < vocab.MAX_PITCH for e in row.events)
        assert [e.time for e in row.events] == sorted(e.time for e in row.events)
