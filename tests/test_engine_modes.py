"""The four modes through :meth:`Engine.run`, in the DAW's terms (beats, notes).

Given notes must come back exactly as they were given (the same objects),
new notes must land inside the span, on the grid when asked, never doubling a
note that is there, and at the beats the tempo map says. The engines use the
dense tiny checkpoints, loaded through the real path; nothing here depends on
which notes the weights prefer.
"""

from __future__ import annotations

import math
import threading

import pytest

from bridge.amt import vocab
from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.engine.decoder import Cancelled, Decoder
from bridge.engine.engine import Engine
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.requests import GenerationRequest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

T120 = TempoMap.constant(120)
EPS = 1e-6


@pytest.fixture(params=["dense_engine", "dense_amt_engine"])
def engine(request) -> Engine:
    return request.getfixturevalue(request.param)


class TappingDecoder(Decoder):
    """Records each plan and pairs every model event with the note the engine made of it (or None)."""

    def __init__(self, loaded):
        super().__init__(loaded)
        self.plans = []
        self.pairs: list[tuple[int, vocab.Event, Note | None]] = []
        self.last_note: list[Note | None] = [None]

    def decode(self, plan, **options):
        self.plans.append(plan)
        deliver = options["on_event"]

        def tap(row, event):
            self.last_note[0] = None
            deliver(row, event)
            self.pairs.append((row, event, self.last_note[0]))

        options["on_event"] = tap
        return super().decode(plan, **options)


def tapped(engine: Engine) -> tuple[Engine, TappingDecoder]:
    """A second engine on the same loaded model whose decoder records what happens."""
    twin = Engine(engine.loaded)
    twin.decoder = TappingDecoder(engine.loaded)
    return twin, twin.decoder


def run_tapped(twin: Engine, decoder: TappingDecoder, request: GenerationRequest):
    """Run on a tapped engine so that each event is paired with the note streamed for it."""
    return twin.run(request, on_note=lambda row, note: decoder.last_note.__setitem__(0, note))


def run(engine: Engine, request: GenerationRequest, **options):
    """Run and collect the streamed notes per variation."""
    streamed: dict[int, list[Note]] = {i: [] for i in range(request.variations)}
    result = engine.run(request, on_note=lambda row, note: streamed[row].append(note), **options)
    assert len(result.variations) == request.variations
    for variation in result.variations:
        assert variation.new_notes == streamed[variation.index], "streamed notes differ from the result"
    return result


def assert_new_notes_in_span(notes: list[Note], start: float, end: float) -> None:
    for note in notes:
        assert start - EPS <= note.start < end, note
        assert note.end <= end + EPS, note
        assert note.duration >= 0
        assert 0 <= note.pitch <= 127
        assert 0 <= note.instrument <= 128
        if note.instrument == vocab.DRUMS:
            assert note.channel == vocab.DRUM_CHANNEL


def assert_no_duplicates(notes: list[Note]) -> None:
    keys = [(n.instrument, n.pitch, round(n.start / EPS)) for n in notes if not n.mute]
    assert len(keys) == len(set(keys)), "two notes of one instrument and pitch start together"


def contains_object(notes: list[Note], note: Note) -> bool:
    return any(n is note for n in notes)


def clip(start: float = 0.0, beats: float = 8.0, step: float = 0.5, instrument: int = 0, pitch: int = 60) -> list[Note]:
    """A simple clip: one note every ``step`` beats, with note ids and varied velocities."""
    count = int(beats / step)
    return [
        Note(pitch=pitch + (i * 3) % 12, start=start + i * step, duration=step / 2, velocity=40 + i % 60,
             instrument=instrument, note_id=1000 + i)
        for i in range(count)
    ]


# ---------------------------------------------------------------- generate


def test_generate_writes_new_notes_inside_the_span(engine):
    request = GenerationRequest("generate", 2.0, 6.0, T120, prompt="upbeat piano", variations=2, seed=1,
                                default_velocity=90)
    result = run(engine, request)
    assert result.seed == 1
    assert result.removed_notes == []
    for variation in result.variations:
        assert variation.new_notes, "the dense model writes notes in a 2 s span"
        assert_new_notes_in_span(variation.new_notes, 2.0, 6.0)
        assert sorted(variation.notes, key=lambda n: (n.start, n.pitch)) == variation.notes
        assert sorted(variation.new_notes, key=lambda n: (n.start, n.pitch)) == variation.notes
        assert all(n.velocity == 90 for n in variation.new_notes)
        assert variation.finish_reason == "end"
        assert_no_duplicates(variation.notes)
    assert result.sampled_tokens > 0
    assert result.rebuilds >= 1


def test_same_seed_same_notes_and_the_seed_is_reported(dense_engine):
    request = GenerationRequest("generate", 0.0, 4.0, T120, prompt="drums", variations=2, seed=77)
    one = run(dense_engine, request)
    two = run(dense_engine, request)
    other = run(dense_engine, GenerationRequest("generate", 0.0, 4.0, T120, prompt="drums", variations=2, seed=78))
    assert [v.new_notes for v in one.variations] == [v.new_notes for v in two.variations]
    assert [v.new_notes for v in one.variations] != [v.new_notes for v in other.variations]
    unseeded = run(dense_engine, GenerationRequest("generate", 0.0, 4.0, T120, prompt="drums"))
    assert isinstance(unseeded.seed, int)
    replay = run(dense_engine, GenerationRequest("generate", 0.0, 4.0, T120, prompt="drums", seed=unseeded.seed))
    assert replay.variations[0].new_notes == unseeded.variations[0].new_notes


def test_prompt_on_a_model_without_text_is_a_warning(dense_amt_engine, dense_engine):
    request = GenerationRequest("generate", 0.0, 2.0, T120, prompt="jazz", seed=1)
    assert any("text" in w for w in dense_amt_engine.run(request).warnings)
    assert not any("text" in w for w in dense_engine.run(request).warnings)


def test_midi_llm_engine_feeds_the_prompt_text_first(dense_engine):
    twin, _ = tapped(dense_engine)
    recorded: list[list[int]] = []
    original = twin.decoder._forward

    def forward(rows, chunks, state):
        recorded.append(list(chunks[0]))
        return original(rows, chunks, state)

    twin.decoder._forward = forward
    twin.run(GenerationRequest("generate", 0.0, 2.0, T120, prompt="a sad waltz", seed=1))
    tokenizer = dense_engine.loaded.tokenizer
    text = tokenizer(
        "You are a world-class composer. Please compose some music according to the following description: "
        "a sad waltz "
    )["input_ids"]
    assert recorded[0] == [*text, 183_282]
    assert recorded[0][0] == tokenizer.bos_token_id


# ---------------------------------------------------------------- continue


def test_continue_keeps_every_given_note_and_writes_after_start(engine):
    given = clip(0.0, 4.0) + [Note(pitch=50, start=5.0, duration=1.0, instrument=33, note_id=7),
                              Note(pitch=52, start=1.0, duration=1.0, mute=True, note_id=8)]
    request = GenerationRequest("continue", 4.0, 8.0, T120, notes=tuple(given), variations=2, seed=3)
    result = run(engine, request)
    assert result.removed_notes == []
    for variation in result.variations:
        assert variation.new_notes
        assert all(contains_object(variation.notes, g) for g in given)
        assert len(variation.notes) == len(given) + len(variation.new_notes)
        assert all(n.start >= 4.0 - EPS for n in variation.new_notes)
        assert_new_notes_in_span(variation.new_notes, 4.0, 8.0)
        assert_no_duplicates(variation.notes)
    assert [n.note_id for n in given] == [1000 + i for i in range(8)] + [7, 8]


# ---------------------------------------------------------------- infill


def test_infill_replaces_only_the_notes_starting_inside_the_span(engine):
    given = clip(0.0, 8.0, instrument=0) + clip(0.25, 8.0, step=1.0, instrument=33, pitch=40)
    muted_inside = Note(pitch=70, start=3.0, duration=0.5, mute=True, note_id=99)
    ending_inside = Note(pitch=72, start=1.0, duration=2.0, note_id=98)  # starts before, sounds into the span
    notes = (*given, muted_inside, ending_inside)
    start, end = 2.0, 5.0
    request = GenerationRequest("infill", start, end, T120, notes=notes, variations=2, seed=5)
    result = run(engine, request)
    inside = [n for n in notes if not n.mute and start <= n.start < end]
    outside = [n for n in notes if n not in inside]
    assert inside and outside
    assert len(result.removed_notes) == len(inside)
    assert all(contains_object(result.removed_notes, n) for n in inside)
    for variation in result.variations:
        assert variation.new_notes
        for note in outside:
            assert contains_object(variation.notes, note), note
        for note in inside:
            assert not contains_object(variation.notes, note)
        assert contains_object(variation.notes, muted_inside)
        assert len(variation.notes) == len(outside) + len(variation.new_notes)
        kept_ids = sorted(n.note_id for n in variation.notes if n.note_id is not None)
        assert kept_ids == sorted(n.note_id for n in outside)
        assert_new_notes_in_span(variation.new_notes, start, end)
        assert_no_duplicates(variation.notes)


def test_infill_sends_the_right_prompt_and_controls(dense_engine):
    twin, decoder = tapped(dense_engine)
    notes = (Note(60, 0.0, 0.5), Note(62, 1.0, 0.5), Note(64, 3.0, 0.5), Note(65, 6.0, 0.5, instrument=33))
    twin.run(GenerationRequest("infill", 2.0, 4.0, T120, notes=notes, seed=1))
    plan = decoder.plans[0]
    assert (plan.start, plan.end) == (100, 200)
    assert plan.mode_token == vocab.ANTICIPATE
    assert [e.time for e in plan.kept] == [0, 50, 300]
    assert [e.time for e in plan.removed] == [150]
    assert [(e.time, e.instrument) for e in plan.kept][-1] == (300, 33)


# ---------------------------------------------------------------- accompany


def test_accompany_keeps_the_given_part_and_never_writes_it(engine):
    bass = clip(0.0, 8.0, step=1.0, instrument=33, pitch=40)
    piano = clip(0.0, 8.0, step=1.0, instrument=0, pitch=64)
    notes = (*bass, *piano)
    start, end = 2.0, 6.0
    request = GenerationRequest("accompany", start, end, T120, notes=notes, given_instruments=frozenset({33}),
                                variations=2, seed=8)
    result = run(engine, request)
    replaced = [n for n in piano if start <= n.start < end]
    assert len(result.removed_notes) == len(replaced)
    for variation in result.variations:
        assert variation.new_notes
        assert all(n.instrument != 33 for n in variation.new_notes)
        assert all(contains_object(variation.notes, n) for n in bass)
        assert all(contains_object(variation.notes, n) for n in piano if n not in replaced)
        assert_new_notes_in_span(variation.new_notes, start, end)
        assert_no_duplicates(variation.notes)


def test_accompany_by_default_accompanies_every_given_instrument(dense_engine):
    notes = (*clip(0.0, 4.0, instrument=33, pitch=40), *clip(0.0, 4.0, step=1.0, instrument=vocab.DRUMS, pitch=36))
    request = GenerationRequest("accompany", 0.0, 4.0, T120, notes=notes, variations=2, seed=2)
    result = run(dense_engine, request)
    assert result.removed_notes == []
    for variation in result.variations:
        assert all(n.instrument not in (33, vocab.DRUMS) for n in variation.new_notes)
        assert all(contains_object(variation.notes, n) for n in notes)


def test_accompany_respects_allowed_instruments_and_pitch_range(dense_engine):
    constraints = MusicianConstraints(instruments=frozenset({81}), lowest_pitch=60, highest_pitch=72)
    notes = tuple(clip(0.0, 4.0, instrument=33, pitch=40))
    request = GenerationRequest("accompany", 0.0, 4.0, T120, notes=notes, constraints=constraints, seed=2,
                                variations=2)
    result = run(dense_engine, request)
    for variation in result.variations:
        assert all(n.instrument == 81 and 60 <= n.pitch <= 72 for n in variation.new_notes)


# ---------------------------------------------------------------- tempo, grid, limits


def seconds_of(beats: float) -> float:
    """Independent conversion for the map [(0, 120), (4, 60), (6, 180)] bpm."""
    if beats <= 4:
        return beats * 0.5
    if beats <= 6:
        return 2.0 + (beats - 4) * 1.0
    return 4.0 + (beats - 6) / 3.0


def beats_of(seconds: float) -> float:
    if seconds <= 2.0:
        return seconds * 2.0
    if seconds <= 4.0:
        return 4.0 + (seconds - 2.0)
    return 6.0 + (seconds - 4.0) * 3.0


TEMPO_CHANGES = TempoMap.from_pairs([(0, 120), (4, 60), (6, 180)])


def test_tempo_changes_put_notes_at_the_right_beats(dense_engine):
    twin, decoder = tapped(dense_engine)
    given = (Note(60, 1.0, 1.0), Note(62, 5.0, 0.5), Note(64, 9.0, 1.5, instrument=33))
    start, end = 3.0, 8.0
    result = run_tapped(twin, decoder, GenerationRequest("infill", start, end, TEMPO_CHANGES, notes=given, seed=4,
                                                         variations=2))
    plan = decoder.plans[0]
    assert plan.start == round(100 * seconds_of(start)) == 150
    assert plan.end == round(100 * seconds_of(end)) == 467
    # the given notes, in ticks: beat 1 = 0.5 s, beat 5 = 3 s (removed), beat 9 = 5 s
    assert [(e.time, e.duration) for e in plan.kept] == [(50, 50), (500, 50)]
    assert [(e.time, e.duration) for e in plan.removed] == [(300, 50)]
    produced = [(row, event, note) for row, event, note in decoder.pairs if note is not None]
    assert produced
    for row, event, note in produced:
        onset = event.time / 100
        assert note.start == pytest.approx(max(beats_of(onset), start), abs=1e-9)
        expected_end = min(beats_of(onset + event.duration / 100), end)
        if expected_end > note.start:
            assert note.end == pytest.approx(expected_end, abs=1e-9)
        assert (note.instrument, note.pitch) == (event.instrument, event.pitch)
        assert contains_object(result.variations[row].new_notes, note)
    assert sum(len(v.new_notes) for v in result.variations) == len(produced)


def test_notes_come_back_at_the_beats_they_were_written_at(dense_engine):
    """Ticks computed from the written notes match the events the model produced."""
    twin, decoder = tapped(dense_engine)
    run_tapped(twin, decoder, GenerationRequest("generate", 2.0, 10.0, TEMPO_CHANGES, seed=9, variations=2))
    produced = [(event, note) for _, event, note in decoder.pairs if note is not None]
    assert len(produced) > 5
    for event, note in produced:
        assert round(100 * seconds_of(note.start)) == event.time
    # an event that gives no note doubles one already written
    for row, event, note in decoder.pairs:
        if note is None:
            assert any(e.time == event.time and (e.instrument, e.pitch) == (event.instrument, event.pitch)
                       for r, e, n in decoder.pairs if r == row and n is not None)


@pytest.mark.parametrize(("grid", "start", "end"), [(0.25, 1.0, 5.0), (1 / 3, 1.5, 5.5), (0.75, 0.1, 3.1)])
def test_grid_snaps_every_new_note_to_the_span_grid(engine, grid, start, end):
    notes = tuple(clip(0.0, 6.0, instrument=33, pitch=40))
    request = GenerationRequest("infill", start, end, T120, notes=notes, grid=grid, variations=2, seed=6)
    result = run(engine, request)
    for variation in result.variations:
        assert variation.new_notes
        for note in variation.new_notes:
            steps = (note.start - start) / grid
            assert abs(steps - round(steps)) < 1e-6, note
            assert note.duration > 0
        assert_new_notes_in_span(variation.new_notes, start, end)
        assert_no_duplicates(variation.notes)


def test_no_duplicate_with_given_notes_on_a_coarse_grid(dense_engine):
    """A coarse grid folds many onsets together; the kept and new notes still never double."""
    given = tuple(Note(p, b * 1.0, 0.5, instrument=i) for b in range(8) for p in range(48, 60)
                  for i in (0, 33) if b < 2 or b >= 6)
    request = GenerationRequest("infill", 2.0, 6.0, T120, notes=given, grid=1.0, variations=3, seed=12)
    result = run(dense_engine, request)
    for variation in result.variations:
        assert_no_duplicates(variation.notes)


def test_max_notes_through_the_engine(engine):
    request = GenerationRequest("generate", 0.0, 16.0, T120, constraints=MusicianConstraints(max_notes=4),
                                variations=2, seed=1)
    result = run(engine, request)
    for variation in result.variations:
        assert 1 <= len(variation.new_notes) <= 4
        assert variation.finish_reason == "max_notes"


def test_token_limit_is_reported(dense_engine):
    request = GenerationRequest("generate", 0.0, 32.0, T120, max_new_tokens=12, seed=1)
    result = run(dense_engine, request)
    assert result.variations[0].finish_reason == "max_new_tokens"
    assert any("token limit" in w for w in result.warnings)


def test_cancel_through_the_engine(dense_engine):
    cancel = threading.Event()
    seen: list[Note] = []

    def on_note(row: int, note: Note) -> None:
        seen.append(note)
        cancel.set()

    request = GenerationRequest("generate", 0.0, 64.0, T120, seed=1)
    with pytest.raises(Cancelled):
        dense_engine.run(request, on_note=on_note, cancel=cancel)
    assert len(seen) == 1
    # the engine is free again afterwards
    assert dense_engine.run(GenerationRequest("generate", 0.0, 1.0, T120, seed=1)).variations


def test_progress_through_the_engine(dense_engine):
    seen: list[tuple[float, int]] = []
    result = dense_engine.run(GenerationRequest("generate", 0.0, 4.0, T120, seed=1),
                              on_progress=lambda f, n: seen.append((f, n)))
    assert seen[-1][0] == 1.0
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert seen[-1][1] == len(result.variations[0].new_notes)


def test_span_shorter_than_a_tick_is_refused(dense_engine):
    with pytest.raises(ValueError, match="10 ms"):
        dense_engine.run(GenerationRequest("generate", 1.0, 1.001, T120))


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "remix"},
        {"start": 4.0, "end": 4.0},
        {"start": -1.0},
        {"end": math.inf},
        {"variations": 0},
        {"grid": 0.0},
        {"max_new_tokens": 2},
    ],
)
def test_bad_requests_are_refused(options):
    fields = {"mode": "generate", "start": 0.0, "end": 4.0, "tempo": T120, **options}
    with pytest.raises(ValueError):
        GenerationRequest(**fields)
