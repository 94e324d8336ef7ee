"""What the model hears: the reference sampler's window at every step, and where generation starts counting.

The reference (AMT) feeds at every step the mode token and the last 1,017 ids
of the sequence (1,024-position models), every onset shifted so that the
window's earliest is 0. These tests record the model's real input (a hook on
the transformer, not the decoder's bookkeeping) and replay the reference's
layout on the same sampled notes, id by id, at every step.
"""

from __future__ import annotations

import random

import pytest
import torch

from bridge.amt import sequence, vocab
from bridge.engine.decoder import Decoder
from bridge.engine.loading import load_model
from bridge.engine.window import history_capacity
from tests.engine_inputs import ModelInputRecorder

pytestmark = pytest.mark.slow

E = vocab.Event
SYSTEM = "You are a world-class composer. Please compose some music according to the following description: "


@pytest.fixture(scope="module")
def dense_amt(dense_amt_dir):
    return load_model(str(dense_amt_dir), device="cpu")


@pytest.fixture(scope="module")
def dense_midi_llm(dense_midi_llm_dir):
    return load_model(str(dense_midi_llm_dir), device="cpu")


def _mixing(directory):
    """The dense weights with a little of the layers switched back on: the input now changes the output."""
    loaded = load_model(str(directory), device="cpu")
    generator = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for name, parameter in loaded.model.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight", "wpe.weight", "ln_f.weight")):
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    return loaded


@pytest.fixture(scope="module")
def mixing_amt(dense_amt_dir):
    return _mixing(dense_amt_dir)


@pytest.fixture(scope="module")
def mixing_midi_llm(dense_midi_llm_dir):
    return _mixing(dense_midi_llm_dir)


def text_prefix(loaded, prompt: str = "") -> list[int]:
    if not loaded.profile.uses_text:
        return []
    return list(loaded.tokenizer(SYSTEM + prompt + " ")["input_ids"])


def replay_reference(inputs: list[list[int]], plan: sequence.DecodingPlan, prefix: list[int], history: int,
                     midi_offset: int) -> int:
    """Check every recorded time-slot input against the reference layout; returns how many were full.

    The row's inputs come in threes per note (time, duration, note slot). The
    reference's sequence is rebuilt from the plan and the ids the row sampled:
    its time and duration from the inputs that follow, its note from the next
    time-slot input (note ids are not shifted by the window).
    """
    state = plan.new_state()
    head = len(prefix)
    full = 0
    i = 0
    while i < len(inputs):
        amt = inputs[i][:head] + [t - midi_offset for t in inputs[i][head:]]
        window, offset = sequence.window(state.tokens, history)
        assert amt == [*prefix, plan.mode_token, *window], f"step {i // 3}: not the reference's layout"
        full += len(window) == history
        if i + 1 == len(inputs) or inputs[i + 1][: len(inputs[i])] != inputs[i]:
            break  # the row's last onset reached the span's end (after that, other rows' rebuilds only)
        time_id = inputs[i + 1][-1] - midi_offset
        duration_id = inputs[i + 2][-1] - midi_offset
        assert len(inputs[i + 1]) == len(inputs[i]) + 1 and len(inputs[i + 2]) == len(inputs[i]) + 2
        state.append_event((time_id + offset, duration_id, -1))
        placed = state.due_controls()
        note_id = inputs[i + 3][len(inputs[i + 3]) - len(placed) - 1] - midi_offset
        state.tokens[len(state.tokens) - len(placed) - 1] = note_id
        i += 3
    return full


def dense_history_piece(notes: int, step: int) -> list[E]:
    return [E(i * step, 30, (0, 33)[i % 2], 50 + (i * 7) % 30) for i in range(notes)]


def test_a_window_that_fills_during_a_long_infill_is_the_reference_layout_at_every_step(dense_amt):
    """1,024-position model: the last 1,017 ids relativized to their earliest onset, at every step."""
    assert history_capacity(dense_amt.profile.context_tokens, 1) == sequence.AMT_WINDOW_TOKENS == 1017
    piece = dense_history_piece(320, 6)  # 960 ids of history before the span: the window fills while writing
    later = [E(4000 + 40 * i, 30, 33, 40 + i) for i in range(10)]
    plan = sequence.plan_infill(piece + later, 1920, 3400)
    assert len(plan.new_state().tokens) < 1017
    with ModelInputRecorder(dense_amt) as recorder:
        results, stats = Decoder(dense_amt).decode(plan, variations=2, seed=4)
    for row, result in enumerate(results):
        assert result.finish_reason == "end"
        full = replay_reference(recorder.inputs[row], plan, [], 1017, 0)
        assert full >= 20, "the window should have been full for many steps"
    assert stats.rebuilds > 20  # the reference's layout once full: a new window every step


def test_midi_llm_window_is_the_context_minus_the_text_prompt(dense_midi_llm):
    prefix = text_prefix(dense_midi_llm, "a long piece")
    history = history_capacity(2048, len(prefix) + 1)
    assert history == (2048 - len(prefix) - 1 - 6) // 3 * 3
    piece = dense_history_piece(640, 3)
    plan = sequence.plan_infill(piece + [E(4000, 30, 33, 40)], 1920, 3600)
    assert len(plan.new_state().tokens) < history
    with ModelInputRecorder(dense_midi_llm) as recorder:
        results, _ = Decoder(dense_midi_llm).decode(plan, prefix_ids=prefix, seed=8)
    assert results[0].finish_reason == "end"
    assert replay_reference(recorder.inputs[0], plan, prefix, history, dense_midi_llm.profile.midi_offset) >= 10


def test_a_window_margin_rebuilds_less_and_keeps_all_but_the_margin(dense_amt):
    piece = dense_history_piece(290, 6)
    plan = sequence.plan_infill(piece, 1800, 3400)
    margin = 60
    with ModelInputRecorder(dense_amt) as recorder:
        results, stats = Decoder(dense_amt, window_margin=margin).decode(plan, seed=4)
    notes = len(results[0].events)
    time_inputs = recorder.inputs[0][::3]
    lengths = [len(x) - 1 for x in time_inputs]
    assert max(lengths) == 1017
    assert min(lengths[lengths.index(1017):]) >= 1017 - margin  # once full, never less than all but the margin
    assert stats.rebuilds <= 2 + notes * 3 // margin + 1
    with pytest.raises(ValueError, match="window margin"):
        Decoder(dense_amt, window_margin=1000).decode(plan, seed=4)


# ---------------------------------------------------------------- generation with nothing given


@pytest.mark.parametrize("loaded_name", ["mixing_amt", "mixing_midi_llm"])
def test_generation_starting_after_zero_hears_the_beginning_of_a_piece(request, loaded_name):
    """Nothing given: the span start is time 0 of the window (no REST padding before it), and once the
    first note exists the window counts from it. So a clip is the same wherever it starts."""
    loaded = request.getfixturevalue(loaded_name)
    prefix = text_prefix(loaded, "x")
    mode = loaded.profile.model_id(vocab.AUTOREGRESS)
    generator = random.Random(5)
    starts = [0, 50, 100, 250, *(generator.randrange(1, 6000) for _ in range(3))]
    reference = None
    for start in starts:
        plan = sequence.plan_generate_from(start, start + 400)
        with ModelInputRecorder(loaded) as recorder:
            results, _ = Decoder(loaded).decode(plan, prefix_ids=prefix, variations=2, seed=11)
        for row, result in enumerate(results):
            inputs = recorder.inputs[row]
            assert inputs[0] == [*prefix, mode], f"start {start}: the model hears nothing before the span"
            assert result.events and result.events[0].time >= start
            first = result.events[0]
            # from the second onset on, the window counts from the first note (the reference's relativizing)
            assert inputs[3][len(prefix) + 1] == loaded.profile.model_id(0), f"start {start}"
            assert first.time - start == inputs[1][-1] - loaded.profile.model_id(0)
        shifted = [[e._replace(time=e.time - start) for e in r.events] for r in results]
        if reference is None:
            reference = shifted
        assert shifted == reference, f"a clip starting at {start} ticks differs from the same clip at 0"


def test_the_window_margin_comes_from_the_config(dense_amt_dir):
    from bridge.config import defaults
    from bridge.engine.engine import Engine

    assert defaults()["model"]["window_margin"] == 0  # the reference's behaviour by default
    engine = Engine.from_config({"id": str(dense_amt_dir), "device": "cpu", "warmup": False, "window_margin": 30})
    assert engine.decoder.window_margin == 30
