"""The vLLM backend through vLLM's CPU engine: every mode, variations, cancel, concurrent jobs.

Run with the Python of the vLLM venv (scripts/setup-vllm.sh makes it; the
main suite runs this from tests/test_vllm_backend.py):
``/path/to/vllm-venv/bin/python tests/vllm/check_vllm_backend.py``.

One engine for the whole run (vLLM takes about a minute to start on a small
CPU): a tiny Llama in MIDI-LLM's layout (183,286 ids, head_dim 64, a 256-id
context so windows fill quickly), weights shaped to write dense music. Every
check asserts what the transformers backend promises, whatever the weights:
notes inside the span, given notes unchanged, constraints held, keep rhythm
and keep pitches, seeds reproducible and independent of the number of
variations and of other jobs running, cancel stopping the request. Prints
one line per check; exits 1 when any failed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bridge.amt.notes import Note  # noqa: E402
from bridge.amt.tempo import TempoMap  # noqa: E402
from bridge.engine.engine import Cancelled, Engine  # noqa: E402
from bridge.engine.grammar import MusicianConstraints  # noqa: E402
from bridge.engine.requests import GenerationRequest  # noqa: E402
from bridge.engine.tiny_checkpoints import build_tiny_midi_llm  # noqa: E402

TEMPO = TempoMap.constant(120)  # 2 beats per second
CHECKS: list = []


def check(function):
    CHECKS.append(function)
    return function


def request(mode: str, start: float, end: float, **options) -> GenerationRequest:
    return GenerationRequest(mode, start, end, TEMPO, prompt=options.pop("prompt", "funk"), **options)


def given_notes() -> tuple[Note, ...]:
    notes = []
    for i in range(24):
        notes.append(Note(pitch=48 + (i * 5) % 24, start=i * 0.5, duration=0.4, velocity=90, instrument=33))
        if i % 3 == 0:
            notes.append(Note(pitch=64 + i % 7, start=i * 0.5, duration=0.3, velocity=70, instrument=0))
    return tuple(notes)


def key(note: Note) -> tuple:
    return (round(note.start, 6), round(note.duration, 6), note.pitch, note.instrument, note.velocity)


def assert_inside(result, start: float, end: float) -> None:
    for variation in result.variations:
        for note in variation.new_notes:
            assert start - 1e-9 <= note.start < end + 1e-9, f"note at beat {note.start} outside [{start}, {end})"


def assert_given_kept(result, given, removed=()) -> None:
    removed_keys = {key(n) for n in removed}
    for variation in result.variations:
        kept = {key(n) for n in variation.notes}
        for note in given:
            if key(note) not in removed_keys:
                assert key(note) in kept, f"given note {note} is missing from the result"


@check
def generate_is_valid_and_reproducible(engine: Engine) -> None:
    first = engine.run(request("generate", 1.0, 9.0, seed=3))
    again = engine.run(request("generate", 1.0, 9.0, seed=3))
    other = engine.run(request("generate", 1.0, 9.0, seed=4))
    assert first.variations[0].new_notes, "the model wrote nothing"
    assert_inside(first, 1.0, 9.0)
    assert [key(n) for n in first.variations[0].new_notes] == [key(n) for n in again.variations[0].new_notes]
    assert [key(n) for n in first.variations[0].new_notes] != [key(n) for n in other.variations[0].new_notes]


@check
def a_variation_is_the_same_whatever_the_number_of_variations(engine: Engine) -> None:
    alone = engine.run(request("generate", 0.0, 6.0, seed=21))
    four = engine.run(request("generate", 0.0, 6.0, seed=21, variations=4))
    assert len(four.variations) == 4
    assert [key(n) for n in alone.variations[0].new_notes] == [key(n) for n in four.variations[0].new_notes]
    assert len({tuple(key(n) for n in v.new_notes) for v in four.variations}) > 1
    assert_inside(four, 0.0, 6.0)


@check
def long_requests_continue_over_rebuilt_windows(engine: Engine) -> None:
    result = engine.run(request("generate", 0.0, 60.0, seed=5, max_new_tokens=900))
    assert result.rebuilds >= 3, f"only {result.rebuilds} requests for a piece longer than the window"
    notes = result.variations[0].new_notes
    assert len(notes) > 80, len(notes)
    assert [n.start for n in notes] == sorted(n.start for n in notes)
    assert_inside(result, 0.0, 60.0)


@check
def continue_infill_accompany_keep_the_given_notes(engine: Engine) -> None:
    given = given_notes()
    continued = engine.run(request("continue", 12.0, 16.0, notes=given, seed=6))
    assert_inside(continued, 12.0, 16.0)
    assert_given_kept(continued, given)
    infilled = engine.run(request("infill", 4.0, 8.0, notes=given, seed=7, variations=2))
    assert_inside(infilled, 4.0, 8.0)
    assert_given_kept(infilled, given, infilled.removed_notes)
    accompanied = engine.run(request("accompany", 0.0, 12.0, notes=given, seed=8,
                                     given_instruments=frozenset({33})))
    assert_given_kept(accompanied, given, accompanied.removed_notes)
    assert all(n.instrument != 33 for v in accompanied.variations for n in v.new_notes)


@check
def constraints_hold(engine: Engine) -> None:
    constraints = MusicianConstraints(instruments=frozenset({0, 81}), lowest_pitch=50, highest_pitch=70,
                                      pitch_classes=frozenset({0, 2, 4, 5, 7, 9, 11}), max_notes=12)
    result = engine.run(request("generate", 0.0, 16.0, seed=9, constraints=constraints, variations=2))
    for variation in result.variations:
        assert len(variation.new_notes) <= 12
        for note in variation.new_notes:
            assert note.instrument in (0, 81) and 50 <= note.pitch <= 70 and note.pitch % 12 in constraints.pitch_classes


@check
def keep_rhythm_and_keep_pitches(engine: Engine) -> None:
    given = given_notes()
    span = [n for n in given if 4.0 <= n.start < 8.0]
    rhythm = engine.run(request("infill", 4.0, 8.0, notes=given, seed=10, keep_rhythm=True))
    new = rhythm.variations[0].new_notes
    assert sorted((round(n.start, 6), round(n.duration, 6)) for n in new) == sorted(
        (round(n.start, 6), round(n.duration, 6)) for n in span), "keep rhythm changed the rhythm"
    pitches = engine.run(request("infill", 4.0, 8.0, notes=given, seed=11, keep_pitches=True))
    written = sorted(pitches.variations[0].new_notes, key=lambda n: (n.start, n.pitch))
    expected = sorted(span, key=lambda n: (n.start, n.pitch))
    assert [(n.pitch, n.instrument) for n in written] == [(n.pitch, n.instrument) for n in expected]
    assert_inside(pitches, 4.0, 8.0)


@check
def cancel_stops_the_request_and_the_engine_serves_on(engine: Engine) -> None:
    cancel = threading.Event()
    seen = []

    def on_note(variation, note):
        seen.append(note)
        if len(seen) == 3:
            cancel.set()

    try:
        engine.run(request("generate", 0.0, 400.0, seed=12, variations=2, max_new_tokens=100_000),
                   on_note=on_note, cancel=cancel)
    except Cancelled:
        pass
    else:
        raise AssertionError("the request was not cancelled")
    assert len(seen) < 40, f"{len(seen)} notes came after the cancel"
    after = engine.run(request("generate", 0.0, 4.0, seed=13))
    assert after.variations[0].new_notes


@check
def concurrent_jobs_give_what_they_give_alone(engine: Engine) -> None:
    seeds = [31, 32, 33]
    alone = {s: [key(n) for n in engine.run(request("generate", 0.0, 8.0, seed=s)).variations[0].new_notes]
             for s in seeds}
    together: dict = {}
    errors = []

    def job(seed: int) -> None:
        try:
            result = engine.run(request("generate", 0.0, 8.0, seed=seed))
            together[seed] = [key(n) for n in result.variations[0].new_notes]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=job, args=(s,)) for s in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors
    assert together == alone


@check
def the_processor_name_the_daemon_gives_is_the_class(engine: Engine) -> None:
    from bridge.engine.backends.vllm_processor import describe
    from bridge.engine.backends.vllm_requests import PROCESSOR

    assert describe() == PROCESSOR  # README and the daemon's "start it with --logits-processors ..." sentence


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="vllm-check-"))
    directory = build_tiny_midi_llm(root / "tiny", hidden_size=128, heads=2, layers=2, positions=256,
                                    dense_music=True)
    started = time.perf_counter()
    engine = Engine.from_config({"id": str(directory), "backend": "vllm", "device": "cpu", "warmup": False,
                                 "dtype": "float32"})
    print(f"engine up in {time.perf_counter() - started:.0f} s: {engine.description}", flush=True)
    failed = 0
    for function in CHECKS:
        started = time.perf_counter()
        try:
            function(engine)
            print(f"PASS {function.__name__} ({time.perf_counter() - started:.1f} s)", flush=True)
        except BaseException:  # noqa: BLE001 - every check reports
            failed += 1
            print(f"FAIL {function.__name__}\n{traceback.format_exc()}", flush=True)
    engine.decoder.streams.close()
    print(f"{len(CHECKS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
