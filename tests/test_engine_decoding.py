"""The shared decoding loop: what holds for any weights.

Every test loads its checkpoint through the real ``from_pretrained`` path. The
random checkpoints stand for "any weights"; the dense ones (weights shaped to
write many short notes, see ``bridge.engine.tiny_checkpoints``) make the loop
run long enough to reach the interesting cases (windows, rebuilds, caps). No
test depends on what the weights prefer: each asserts a rule the decoder must
enforce whatever the model samples.
"""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest
import torch

from bridge.amt import sequence, vocab
from bridge.engine.decoder import Cancelled, Decoder
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.loading import load_model
from bridge.engine.sampling_options import SamplingOptions
from tests.amt_checks import assert_triplets

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

E = vocab.Event
SYSTEM = "You are a world-class composer. Please compose some music according to the following description: "


class RecordingDecoder(Decoder):
    """A decoder that records every chunk of model ids it feeds, and the cache length after it."""

    def __init__(self, loaded):
        super().__init__(loaded)
        self.calls: list[dict] = []

    def _rebuild(self, *args, **kwargs):
        self.calls.append({"rebuild": True})
        return super()._rebuild(*args, **kwargs)

    def _forward(self, rows, chunks, state):
        hidden = super()._forward(rows, chunks, state)
        record = {"chunks": [list(c) for c in chunks], "cached": [r.cached for r in rows], "batch": len(rows)}
        if self.calls and self.calls[-1] == {"rebuild": True}:
            self.calls[-1] = {"rebuild": True, **record}
        else:
            self.calls.append({"rebuild": False, **record})
        return hidden

    def segments(self, row: int) -> list[list[int]]:
        """Per rebuild, every id fed to ``row`` from the rebuild on, in order."""
        out: list[list[int]] = []
        for call in self.calls:
            if call["rebuild"]:
                out.append([])
            out[-1].extend(call["chunks"][row])
        return out


@pytest.fixture(scope="module")
def random_midi_llm(tiny_midi_llm_dir):
    return load_model(str(tiny_midi_llm_dir), device="cpu")


@pytest.fixture(scope="module")
def random_amt(tiny_amt_dir):
    return load_model(str(tiny_amt_dir), device="cpu")


@pytest.fixture(scope="module")
def dense_midi_llm(dense_midi_llm_dir):
    return load_model(str(dense_midi_llm_dir), device="cpu")


@pytest.fixture(scope="module")
def dense_amt(dense_amt_dir):
    return load_model(str(dense_amt_dir), device="cpu")


def _with_mixing_layers(loaded, scale: float):
    """Undo the dense weights' silencing a little: attention and positions now change the hidden state,
    while the head still makes the model write many notes."""
    generator = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for name, parameter in loaded.model.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight", "wpe.weight", "ln_f.weight")):
                parameter.add_(scale * torch.randn(parameter.shape, generator=generator))
    return loaded


@pytest.fixture(scope="module")
def mixing_midi_llm(dense_midi_llm_dir):
    return _with_mixing_layers(load_model(str(dense_midi_llm_dir), device="cpu"), 0.05)


@pytest.fixture(scope="module")
def mixing_amt(dense_amt_dir):
    return _with_mixing_layers(load_model(str(dense_amt_dir), device="cpu"), 0.05)


@pytest.fixture(params=["random_midi_llm", "random_amt", "dense_midi_llm", "dense_amt"])
def any_model(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["dense_midi_llm", "dense_amt"])
def dense_model(request):
    return request.getfixturevalue(request.param)


def text_prefix(loaded, prompt: str = "") -> list[int]:
    if not loaded.profile.uses_text:
        return []
    return list(loaded.tokenizer(SYSTEM + prompt + " ")["input_ids"])


def assert_valid(events: list[E], plan: sequence.DecodingPlan) -> None:
    """Grammar of the output: in the span, never back in time, every field in range."""
    previous = max(plan.start, plan.current_time)
    for event in events:
        assert isinstance(event, E)
        assert plan.start <= event.time < plan.end, event
        assert event.time >= previous, f"{event} goes back before {previous}"
        previous = event.time
        assert 0 <= event.duration <= 999, event
        assert 0 <= event.instrument <= 128, event
        assert 0 <= event.pitch <= 127, event


def assert_fed_grammar(decoder: RecordingDecoder, rows: int, prefix_length: int) -> None:
    """Every id fed after the prefix is an AMT id of the profile, in whole, well-formed triplets.

    Event onsets (window-relative) never go back within one cache, controls
    stay in the control block, and the cache never outgrows the context.
    """
    offset = decoder.profile.midi_offset
    context = decoder.profile.context_tokens
    for call in decoder.calls:
        assert call["batch"] == rows
        assert max(call["cached"]) <= context
    for row in range(rows):
        for segment in decoder.segments(row):
            body = [t - offset for t in segment[prefix_length:]]
            assert body[0] in (vocab.AUTOREGRESS, vocab.ANTICIPATE)
            body = body[1:]
            assert_triplets(body)


def infill_piece(notes: int = 60, step: int = 25, instruments=(0, 33)) -> list[E]:
    """A dense piece: ``notes`` notes every ``step`` ticks, alternating instruments."""
    return [E(i * step, 40, instruments[i % len(instruments)], 48 + (i * 5) % 30) for i in range(notes)]


def plans() -> dict[str, sequence.DecodingPlan]:
    piece = infill_piece()
    return {
        "generate": sequence.plan_generate(600),
        "generate_from": sequence.plan_generate_from(250, 700),
        "continue": sequence.plan_continue(piece, 800, 1300),
        "infill": sequence.plan_infill(piece, 400, 900),
        "accompany": sequence.plan_accompany(piece, [33], 300, 900),
    }


# ---------------------------------------------------------------- validity and streaming


@pytest.mark.parametrize("plan_name", list(plans()))
def test_every_event_is_valid_and_streamed_in_order(any_model, plan_name):
    plan = plans()[plan_name]
    decoder = RecordingDecoder(any_model)
    streamed: dict[int, list[E]] = defaultdict(list)
    results, stats = decoder.decode(
        plan,
        prefix_ids=text_prefix(any_model, "a test"),
        variations=2,
        seed=7,
        on_event=lambda row, event: streamed[row].append(event),
    )
    assert len(results) == 2
    for row, result in enumerate(results):
        assert_valid(result.events, plan)
        assert streamed[row] == result.events
        assert result.finish_reason in ("end", "max_new_tokens")
    assert stats.sampled_tokens > 0
    assert stats.forward_calls == len([c for c in decoder.calls if "chunks" in c])
    assert_fed_grammar(decoder, 2, len(text_prefix(any_model, "a test")))


def test_progress_is_monotonic_and_reaches_one(dense_midi_llm):
    seen: list[float] = []
    Decoder(dense_midi_llm).decode(sequence.plan_generate(500), seed=1, on_progress=seen.append)
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= p <= 1.0 for p in seen)
    assert seen == sorted(seen)


def test_continuation_starts_at_the_span_start_after_the_prompt(dense_model):
    piece = [E(0, 50, 0, 60), E(150, 50, 0, 62), E(280, 30, 33, 40), E(900, 30, 33, 45)]
    plan = sequence.plan_continue(piece, 300, 800)
    assert plan.current_time == 280
    results, _ = Decoder(dense_model).decode(plan, variations=3, seed=3)
    for result in results:
        assert result.events
        assert result.events[0].time >= 300
        assert_valid(result.events, plan)


# ---------------------------------------------------------------- seeds and batches


def test_same_seed_reproduces_and_different_seeds_differ(dense_model):
    plan = sequence.plan_generate(400)
    decoder = Decoder(dense_model)
    first, _ = decoder.decode(plan, variations=2, seed=1234)
    again, _ = decoder.decode(plan, variations=2, seed=1234)
    other, _ = decoder.decode(plan, variations=2, seed=4321)
    assert [r.events for r in first] == [r.events for r in again]
    assert [r.events for r in first] != [r.events for r in other]
    assert first[0].events != first[1].events, "variations of one request must differ"


def test_variations_run_as_one_batch(dense_model):
    plan = sequence.plan_infill(infill_piece(), 300, 800)
    decoder = RecordingDecoder(dense_model)
    results, stats = decoder.decode(plan, variations=4, seed=5)
    assert len(results) == 4
    assert all(call["batch"] == 4 for call in decoder.calls)
    # one forward per slot for the whole batch: about a quarter of the calls four separate runs would need
    assert stats.forward_calls * 2 < stats.sampled_tokens
    for result in results:
        assert_valid(result.events, plan)
    assert len({tuple(r.events) for r in results}) > 1


# ---------------------------------------------------------------- musician constraints


def test_allowed_instruments_and_pitch_range(any_model):
    constraints = MusicianConstraints(instruments=frozenset({33, 81}), lowest_pitch=50, highest_pitch=60)
    plan = sequence.plan_infill(infill_piece(), 200, 800)
    results, _ = Decoder(any_model).decode(plan, variations=2, seed=11, constraints=constraints)
    for result in results:
        assert_valid(result.events, plan)
        for event in result.events:
            assert event.instrument in (33, 81)
            assert 50 <= event.pitch <= 60


def test_pitch_range_applies_to_pitched_instruments_not_drums(dense_model):
    constraints = MusicianConstraints(instruments=frozenset({0, vocab.DRUMS}), lowest_pitch=60, highest_pitch=62)
    plan = sequence.plan_generate(1500)
    results, _ = Decoder(dense_model).decode(plan, variations=2, seed=2, constraints=constraints)
    events = [e for r in results for e in r.events]
    for event in events:
        assert event.instrument in (0, vocab.DRUMS)
        if event.instrument != vocab.DRUMS:
            assert 60 <= event.pitch <= 62
    drums = [e for e in events if e.instrument == vocab.DRUMS]
    assert any(not 60 <= e.pitch <= 62 for e in drums), "drum sounds outside the pitch range stay allowed"


@pytest.mark.parametrize("max_notes", [1, 5])
def test_max_notes(dense_model, max_notes):
    plan = sequence.plan_generate(3000)
    results, _ = Decoder(dense_model).decode(
        plan, variations=2, seed=3, constraints=MusicianConstraints(max_notes=max_notes)
    )
    for result in results:
        assert len(result.events) == max_notes
        assert result.finish_reason == "max_notes"


def test_max_notes_holds_for_any_weights(any_model):
    plan = sequence.plan_generate(2000)
    results, _ = Decoder(any_model).decode(plan, seed=3, constraints=MusicianConstraints(max_notes=2))
    assert len(results[0].events) <= 2


def test_max_new_tokens(dense_model):
    plan = sequence.plan_generate(5000)
    results, stats = Decoder(dense_model).decode(plan, variations=2, seed=3, max_new_tokens=30)
    for result in results:
        assert len(result.events) <= 10
        assert result.finish_reason == "max_new_tokens"
    assert stats.sampled_tokens <= 2 * 30


def fifteen_instruments() -> list[int]:
    """Fifteen programs the dense weights do not prefer (they like 0, 33, 81 and drums)."""
    return list(range(40, 55))


@pytest.mark.parametrize("mode", ["accompany", "infill"])
def test_no_new_instrument_once_fifteen_are_present(dense_model, mode):
    given = [E(200 + 40 * i, 30, instrument, 60) for i, instrument in enumerate(fifteen_instruments())]
    if mode == "accompany":
        plan = sequence.plan_accompany(given, fifteen_instruments(), 0, 1500)
    else:  # the given notes come after the span: all of them are controls
        plan = sequence.plan_infill([E(10, 30, 40, 60), *(g._replace(time=g.time + 1500) for g in given)], 150, 1500)
        assert plan.removed == []
    assert len({e.instrument for e in given}) == 15
    results, _ = Decoder(dense_model).decode(plan, variations=3, seed=9)
    for result in results:
        assert_valid(result.events, plan)
        assert {e.instrument for e in result.events} <= set(fifteen_instruments())


def test_at_most_fifteen_instruments_with_fourteen_given(dense_model):
    """With 14 present, one new instrument may enter, then no other."""
    programs = fifteen_instruments()[:14]
    given = [E(100 + 40 * i, 30, instrument, 60) for i, instrument in enumerate(programs)]
    plan = sequence.plan_accompany(given, programs, 0, 2000)
    results, _ = Decoder(dense_model).decode(plan, variations=3, seed=4)
    for result in results:
        new = {e.instrument for e in result.events} - set(programs)
        assert len(new) <= 1
        assert len(set(programs) | new) <= 15


# ---------------------------------------------------------------- cancel


def test_cancel_from_the_callback_stops_after_the_first_note(dense_model):
    cancel = threading.Event()
    delivered: list[E] = []

    def on_event(row: int, event: E) -> None:
        delivered.append(event)
        cancel.set()

    with pytest.raises(Cancelled):
        Decoder(dense_model).decode(sequence.plan_generate(3000), seed=1, on_event=on_event, cancel=cancel)
    assert len(delivered) == 1


def test_cancel_with_variations_stops_within_one_step(dense_model):
    cancel = threading.Event()
    delivered: list[tuple[int, E]] = []

    def on_event(row: int, event: E) -> None:
        delivered.append((row, event))
        cancel.set()

    with pytest.raises(Cancelled):
        Decoder(dense_model).decode(sequence.plan_generate(3000), variations=3, seed=1, on_event=on_event, cancel=cancel)
    # the step that delivered the first note may finish its other rows, and nothing after that
    assert 1 <= len(delivered) <= 3
    assert len({row for row, _ in delivered}) == len(delivered)


def test_cancel_before_start_delivers_nothing(dense_model):
    cancel = threading.Event()
    cancel.set()
    delivered: list[E] = []
    with pytest.raises(Cancelled):
        Decoder(dense_model).decode(
            sequence.plan_generate(3000), seed=1, on_event=lambda r, e: delivered.append(e), cancel=cancel
        )
    assert delivered == []


def test_cancel_from_another_thread(dense_midi_llm):
    cancel = threading.Event()
    delivered: list[E] = []
    after_cancel: list[E] = []

    def on_event(row: int, event: E) -> None:
        if cancel.is_set():
            after_cancel.append(event)
        delivered.append(event)
        if len(delivered) == 3:
            threading.Thread(target=cancel.set).start()

    with pytest.raises(Cancelled):
        Decoder(dense_midi_llm).decode(sequence.plan_generate(9000), seed=2, on_event=on_event, cancel=cancel)
    assert len(after_cancel) <= 1


# ---------------------------------------------------------------- long requests and windows


def test_long_generation_slides_the_window(dense_midi_llm):
    plan = sequence.plan_generate(25_000)  # 250 s: more than the 100 s time block and the context
    decoder = RecordingDecoder(dense_midi_llm)
    prefix = text_prefix(dense_midi_llm, "a long piece")
    results, stats = decoder.decode(plan, prefix_ids=prefix, seed=21, max_new_tokens=100_000)
    events = results[0].events
    assert results[0].finish_reason == "end"
    assert stats.rebuilds > 1
    assert events[-1].time > 10_000
    assert events[-1].time > 20_000
    assert_valid(events, plan)
    assert_fed_grammar(decoder, 1, len(prefix))
    # every rebuild re-feeds the text prompt and the mode token first
    for segment in decoder.segments(0):
        assert segment[: len(prefix) + 1] == [*prefix, 183_282]


def test_long_prompt_overflows_the_amt_context_and_still_decodes(dense_amt):
    prompt_notes = [E(7 * i, 30, 0, 60 + i % 12) for i in range(600)]  # 1,800 ids before the span
    later = [E(7500 + 50 * i, 30, 33, 40) for i in range(30)]
    plan = sequence.plan_infill(prompt_notes + later, 4200, 7500)
    assert len(plan.prompt) > 1024
    decoder = RecordingDecoder(dense_amt)
    results, stats = decoder.decode(plan, variations=2, seed=1)
    assert stats.rebuilds > 1
    for result in results:
        assert result.finish_reason == "end"
        assert result.events
        assert_valid(result.events, plan)
    assert_fed_grammar(decoder, 2, 0)
    first = decoder.calls[0]["chunks"][0]
    assert len(first) < 1024
    # the window keeps the most recent history, not the beginning of the piece
    assert first[0] == vocab.ANTICIPATE
    recent, offset = sequence.window(plan.new_state().tokens, len(first) - 1)
    assert first[1:] == recent
    assert offset > 0


# ---------------------------------------------------------------- what the model is fed


@pytest.mark.parametrize("loaded_name", ["random_midi_llm", "dense_midi_llm"])
def test_midi_llm_first_ids_for_generation(request, loaded_name):
    loaded = request.getfixturevalue(loaded_name)
    tokenizer = loaded.tokenizer
    expected_text = list(tokenizer(SYSTEM + "upbeat funk with slap bass" + " ")["input_ids"])
    assert expected_text[0] == tokenizer.bos_token_id
    decoder = RecordingDecoder(loaded)
    decoder.decode(sequence.plan_generate(300), prefix_ids=expected_text, seed=0, max_new_tokens=6)
    first = decoder.calls[0]["chunks"][0]
    assert first == [*expected_text, 183_282]


def test_midi_llm_first_ids_for_infill_with_controls(random_midi_llm):
    loaded = random_midi_llm
    text = list(loaded.tokenizer(SYSTEM + "jazz" + " ")["input_ids"])
    piece = [E(0, 50, 0, 60), E(100, 50, 0, 64), E(600, 50, 33, 40), E(900, 50, 0, 67)]
    plan = sequence.plan_infill(piece, 200, 500)
    decoder = RecordingDecoder(loaded)
    decoder.decode(plan, prefix_ids=text, seed=0, max_new_tokens=6)
    first = decoder.calls[0]["chunks"][0]
    assert first[: len(text)] == text
    assert first[len(text)] == 183_283
    expected = [t + 128_256 for t in plan.first_step_tokens()]
    assert first[len(text) :] == expected
    # the prompt notes, then the control that is due once the current time is 100 (600 - 500);
    # the note at 900 is not due yet
    music = [t - 128_256 for t in first[len(text) + 1 :]]
    assert music == [
        0, 10_050, 11_060,
        100, 10_050, 11_064,
        vocab.CONTROL_TIME_OFFSET + 600, vocab.CONTROL_DURATION_OFFSET + 50, vocab.CONTROL_NOTE_OFFSET + 33 * 128 + 40,
    ]  # fmt: skip


@pytest.mark.parametrize("loaded_name", ["random_amt", "dense_amt"])
def test_amt_first_ids_are_mode_and_relativized_window(request, loaded_name):
    loaded = request.getfixturevalue(loaded_name)
    piece = [E(3000 + 40 * i, 30, 0, 60 + i % 7) for i in range(20)] + [E(4500, 30, 33, 40)]
    plan = sequence.plan_infill(piece, 3600, 4000)
    decoder = RecordingDecoder(loaded)
    decoder.decode(plan, seed=0, max_new_tokens=6)
    first = decoder.calls[0]["chunks"][0]
    assert first == plan.first_step_tokens()
    assert first[0] == vocab.ANTICIPATE == 55_027
    # relativized: the earliest onset the model sees is 0, not 30 s
    assert first[1] == 0
    assert min(vocab.triplet_time(first[i : i + 3]) for i in range(1, len(first), 3)) == 0


def test_amt_generation_starts_with_autoregress_only(random_amt):
    decoder = RecordingDecoder(random_amt)
    decoder.decode(sequence.plan_generate(300), seed=0, max_new_tokens=6)
    assert decoder.calls[0]["chunks"][0] == [vocab.AUTOREGRESS]


def test_sampling_options_reach_the_sampler(dense_model):
    """A near-greedy sampler gives (almost) one answer whatever the seed; the default does not."""
    plan = sequence.plan_generate(400)
    decoder = Decoder(dense_model)
    sharp = SamplingOptions(temperature=0.05, top_p=0.5, top_k=1)
    one, _ = decoder.decode(plan, seed=1, sampling=sharp, max_new_tokens=60)
    two, _ = decoder.decode(plan, seed=2, sampling=sharp, max_new_tokens=60)
    assert one[0].events == two[0].events
    loose, _ = decoder.decode(plan, seed=1, max_new_tokens=60)
    assert loose[0].events != one[0].events


class CheckingDecoder(RecordingDecoder):
    """After every cached, padded, batched forward, compare each row's hidden state with a plain
    forward of that row's ids alone (no cache, no padding): the cache and the pad masking must be exact."""

    def __init__(self, loaded):
        super().__init__(loaded)
        self.compared = 0
        self.largest_difference = 0.0

    def _forward(self, rows, chunks, state):
        hidden = super()._forward(rows, chunks, state)
        for b in range(len(rows)):
            if not chunks[b]:
                continue
            ids = self.segments(b)[-1]
            reference = self.base(input_ids=torch.tensor([ids], device=self.device)).last_hidden_state[0, -1]
            difference = float((hidden[b].float() - reference.float()).abs().max())
            self.largest_difference = max(self.largest_difference, difference)
            self.compared += 1
        return hidden


@pytest.mark.parametrize("loaded_name", ["mixing_midi_llm", "mixing_amt"])
def test_cached_padded_batch_sees_what_a_plain_forward_sees(request, loaded_name):
    loaded = request.getfixturevalue(loaded_name)
    decoder = CheckingDecoder(loaded)
    # a bass line every 50 ticks to accompany: rows that moved on by different amounts get
    # different numbers of due controls, so chunks of different lengths share one padded batch
    bass = [E(50 * i, 40, 33, 36 + i % 12) for i in range(120)]
    plan = sequence.plan_accompany([*infill_piece(30), *(b._replace(time=b.time + 300) for b in bass)], [33], 300, 6000)
    decoder.decode(plan, prefix_ids=text_prefix(loaded, "x"), variations=3, seed=5, max_new_tokens=150)
    widths = [sorted(len(c) for c in call["chunks"]) for call in decoder.calls[1:]]
    assert any(w[0] != w[-1] and w[-1] > 3 for w in widths), "rows should be fed chunks of different lengths"
    assert decoder.compared > 20
    assert decoder.largest_difference < 1e-4
