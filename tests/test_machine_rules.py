"""The grammar's state machine on its own: random requests, random choices, the rules checked on every outcome.

No model here: at every position a random id is drawn from what the machine
allows (biased to short gaps so pieces get long), the window is rebuilt when
it asks, and snapshots are restored midway, as a vLLM request over a rebuilt
window does. Whatever is drawn, the rules of AMT and of each mode must hold.
"""

from __future__ import annotations

import random

import pytest
import torch

from bridge.amt import sequence, vocab
from bridge.engine import keep_modes
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.keep_modes import RhythmSlot
from bridge.engine.machine import SKIP, Finished, Force, Rebuild, RowMachine, Sample, request_rules
from bridge.engine.machine.masks import note_mask
from bridge.engine.machine.row import capped
from bridge.engine.machine.rules import base_note_rule
from bridge.engine.window import WindowPolicy

E = vocab.Event
CASES = 160


def random_constraints(rng: random.Random) -> MusicianConstraints:
    low = rng.randrange(0, 100)
    high = rng.randrange(low, 128)
    classes = frozenset(rng.sample(range(12), rng.randrange(1, 12))) if rng.random() < 0.4 else None
    if classes is not None and not any(p % 12 in classes for p in range(low, high + 1)):
        classes = None
    instruments = frozenset(rng.sample([0, 1, 33, 40, 81, 128], rng.randrange(1, 4))) if rng.random() < 0.4 else None
    max_notes = rng.randrange(1, 40) if rng.random() < 0.2 else None
    return MusicianConstraints(instruments, low, high, max_notes, classes)


def random_events(rng: random.Random, count: int, until: int, instruments: list[int]) -> list[vocab.Event]:
    events = [E(rng.randrange(until), rng.randrange(0, 300), rng.choice(instruments), rng.randrange(20, 100))
              for _ in range(count)]
    return sorted(events, key=lambda e: e.time)


def random_request(rng: random.Random):
    """A plan and the keyword arguments of request_rules, over every mode."""
    instruments = rng.sample(range(129), rng.choice([2, 4, 16, 20]))
    events = random_events(rng, rng.randrange(0, 60), 3000, instruments)
    start = rng.randrange(0, 2500)
    end = start + rng.choice([3, 50, 400, 1500, 6000])
    mode = rng.choice(["generate", "continue", "infill", "accompany", "rhythm", "pitches"])
    extra: dict = {}
    if mode == "generate":
        plan = sequence.plan_generate_from(start, end) if rng.random() < 0.5 else sequence.plan_generate(end)
    elif mode == "continue":
        plan = sequence.plan_continue(events, start, end)
    elif mode == "accompany" and events:
        plan = sequence.plan_accompany(events, {events[0].instrument}, start, end)
    else:
        plan = sequence.plan_infill(events, start, end)
        inside = [e for e in events if start <= e.time < end]
        if mode == "rhythm" and inside:
            extra["rhythm"] = [RhythmSlot(e.time, e.duration, rng.choice([None, e.instrument])) for e in inside]
        elif mode == "pitches" and inside:
            chords: dict[int, list[int]] = {}
            for e in inside:
                chords.setdefault(e.time, []).append(e.instrument * 128 + e.pitch)
            extra["pitches"] = list(chords.values())
    context = rng.choice([1024, 2048, 120])
    prefix = rng.choice([1, 1, 40])
    capacity = (context - prefix - 6) // 3 * 3
    policy = WindowPolicy(capacity, rng.choice([0, 0, 30]) if capacity > 60 else 0)
    return plan, policy, extra


def draw(rng: random.Random, expected: Sample) -> int:
    """A random allowed id, short gaps preferred for onsets."""
    if expected.slot == "time":
        span = expected.end - expected.first
        return expected.first + min(span - 1, int(rng.expovariate(1 / 15)) if rng.random() < 0.97 else rng.randrange(span))
    if expected.notes is None:
        return rng.randrange(expected.first, expected.end)
    allowed = [n for first, end in expected.notes.runs() for n in range(first, end) if expected.notes.allows(n)]
    if rng.random() < 0.1 and expected.notes.rest:
        return vocab.REST
    return vocab.NOTE_OFFSET + rng.choice(allowed)


def walk(rng: random.Random, machine: RowMachine, plan, check) -> RowMachine:
    """Drive ``machine`` to its end with random choices; every so often swap in a restored snapshot."""
    steps = 0
    while True:
        expected = machine.expect()
        check(machine, expected)
        if isinstance(expected, Finished):
            return machine
        if isinstance(expected, Rebuild):
            machine.rebuild()
            ids = machine.window_ids()
            assert len(ids) <= machine.rules.capacity and len(ids) % 3 == 0
            assert all(0 <= ids[i] < vocab.MAX_TIME or 0 <= ids[i] - vocab.CONTROL_OFFSET < vocab.MAX_TIME
                       for i in range(0, len(ids), 3))
            if rng.random() < 0.5:
                twin = RowMachine.restore(machine.snapshot())
                assert twin.expect() == machine.expect()
                assert twin.window_ids() == ids
            continue
        token = expected.id if isinstance(expected, Force) else draw(rng, expected)
        machine.push(token)
        steps += 1
        assert steps < 20_000


@pytest.mark.parametrize("seed", range(CASES))
def test_random_walks_keep_every_rule(seed):
    rng = random.Random(seed)
    plan, policy, extra = random_request(rng)
    constraints = random_constraints(rng)
    rules = request_rules(plan, policy, constraints, rng.choice([2046, 60, 3000]), **extra)
    machine = RowMachine(rules, plan.new_state())
    given_instruments = set(machine.instruments)
    seen_news: list = []

    def check(m: RowMachine, expected) -> None:
        seen_news.extend(m.take_news())
        if isinstance(expected, Sample):
            block = {"time": (0, vocab.MAX_TIME), "duration": (vocab.DURATION_OFFSET, vocab.NOTE_OFFSET),
                     "note": (vocab.NOTE_OFFSET, vocab.REST + 1)}[expected.slot]
            assert block[0] <= expected.first < expected.end <= block[1]
            if expected.notes is not None:
                assert not expected.notes.is_empty()
        if isinstance(expected, (Sample, Force)) and expected.slot == "time":
            # every control due by now is already placed
            assert not m.sequence.pending or m.sequence.current_time < vocab.triplet_time(m.sequence.pending[0]) - 500
            assert m.seen == len(m.sequence.tokens)

    machine = walk(rng, machine, plan, check)
    events = machine.events
    assert [e for e in seen_news if e != SKIP] == events
    assert machine.finish_reason in {"end", "max_notes", "max_new_tokens"}
    assert all(plan.start <= e.time < plan.end and 0 <= e.duration < vocab.MAX_DURATION for e in events)
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len(given_instruments | {e.instrument for e in events}) <= max(16, len(given_instruments))
    if len(given_instruments) >= 15:
        assert {e.instrument for e in events} <= given_instruments
    if constraints.max_notes is not None:
        assert len(events) <= constraints.max_notes
    assert machine.sampled <= rules.max_new_tokens
    skips = seen_news.count(SKIP)
    if "rhythm" in extra:
        slots = extra["rhythm"]
        assert sum(machine.unplaced.values()) + len(events) == len(slots)
        placed = iter(slots)
        for event in events:  # the events are the slots in order, some passed over
            slot = next(s for s in placed if (s.onset, min(s.duration, 999)) == (event.time, event.duration))
            assert slot.instrument in (None, event.instrument)
        assert len({(e.time, e.note) for e in events}) == len(events)
    elif "pitches" in extra:
        flat = [n for chord in extra["pitches"] for n in chord]
        assert sum(machine.unplaced.values()) + len(events) == len(flat)
        remaining = iter(flat)
        assert all(any(n == e.note for n in remaining) for e in events)  # in order
    else:
        assert skips == 0 and not machine.unplaced
        pitched = [e for e in events if e.instrument != vocab.DRUMS]
        assert all(constraints.lowest_pitch <= e.pitch <= constraints.highest_pitch for e in pitched)
        if constraints.pitch_classes is not None:
            assert all(e.pitch % 12 in constraints.pitch_classes for e in pitched)
        if constraints.instruments is not None:
            assert {e.instrument for e in events} <= constraints.instruments
    unplaced = machine.unplaced
    assert skips == unplaced.get(keep_modes.CAP, 0) + unplaced.get(keep_modes.NO_PITCH, 0)


def silence_first(expected: Sample) -> int:
    """A model that would rather say nothing: the latest onset allowed (past the end if it may), then REST."""
    if expected.slot == "time":
        return expected.end - 1
    if expected.slot == "note" and expected.notes is not None and expected.notes.rest:
        return vocab.REST
    if expected.notes is None:
        return expected.first
    first, _ = next(iter(expected.notes.runs()))
    return vocab.NOTE_OFFSET + next(n for n in range(first, vocab.MAX_NOTE) if expected.notes.allows(n))


@pytest.mark.parametrize("seed", range(60))
def test_chosen_instruments_never_come_back_empty_because_the_model_preferred_silence(seed):
    """With instruments chosen, the row may neither end nor write REST before its first note."""
    rng = random.Random(1000 + seed)
    plan, policy, extra = random_request(rng)
    extra.pop("rhythm", None)
    extra.pop("pitches", None)
    chosen = frozenset(rng.sample([0, 1, 33, 40, 81, 128], rng.randrange(1, 4)))
    rules = request_rules(plan, policy, MusicianConstraints(instruments=chosen), 2046, **extra)
    machine = RowMachine(rules, plan.new_state())
    blocked = len(machine.instruments) >= 15 and not chosen & machine.instruments
    while not isinstance(expected := machine.expect(), Finished):
        if isinstance(expected, Rebuild):
            machine.rebuild()
            continue
        if isinstance(expected, Sample) and expected.slot == "note" and not machine.events and not blocked:
            assert not expected.notes.rest
        machine.push(expected.id if isinstance(expected, Force) else silence_first(expected))
    if blocked:
        assert not machine.events  # the cap leaves none of them: the row may end at once, as before
    else:
        assert machine.events and machine.events[0].instrument in chosen
        assert plan.start <= machine.events[0].time < plan.end
    free = RowMachine(request_rules(plan, policy, MusicianConstraints(), 2046, **extra), plan.new_state())
    while not isinstance(expected := free.expect(), Finished):  # without chosen instruments: silence is allowed
        if isinstance(expected, Rebuild):
            free.rebuild()
            continue
        free.push(expected.id if isinstance(expected, Force) else silence_first(expected))
    assert not free.events


def allowed_by_hand(note: int, constraints: MusicianConstraints, present: set[int], *, rest: bool = True,
                    only: int | None = None, taken: frozenset[int] = frozenset()) -> bool:
    """The note slot's rule written out note by note, from the AMT facts and the musician's constraints."""
    if note == vocab.MAX_NOTE:
        return rest
    instrument, pitch = divmod(note, 128)
    if constraints.instruments is not None and instrument not in constraints.instruments:
        return False
    if only is not None and instrument != only:
        return False
    if len(present) >= 15 and instrument not in present:  # the 16-instrument cap
        return False
    if note in taken:
        return False
    if instrument == vocab.DRUMS:
        return True
    in_scale = constraints.pitch_classes is None or pitch % 12 in constraints.pitch_classes
    return constraints.lowest_pitch <= pitch <= constraints.highest_pitch and in_scale


@pytest.mark.parametrize("seed", range(40))
def test_note_rules_and_their_masks_are_the_grammar(seed):
    rng = random.Random(seed)
    constraints = random_constraints(rng)
    present = set(rng.sample(range(129), rng.choice([0, 5, 14, 15, 16])))
    rule = capped(base_note_rule(constraints), present)
    mask = note_mask(rule)
    expected = torch.tensor([allowed_by_hand(n, constraints, present) for n in range(vocab.MAX_NOTE + 1)])
    assert torch.equal(mask, expected)
    assert all(rule.allows(n) == bool(expected[n]) for n in rng.sample(range(vocab.MAX_NOTE + 1), 500))
    # a keep-rhythm slot: never REST, the slot's instrument, never a note already on its onset
    only = rng.choice([None, *sorted(present or {0})])
    taken = frozenset(rng.sample(range(vocab.MAX_NOTE), 5))
    base = rule.instruments if only is None else rule.instruments & {only}
    slot_rule = capped(type(rule)(base, rule.pitched, False, taken), present)
    expected = torch.tensor([allowed_by_hand(n, constraints, present, rest=False, only=only, taken=taken)
                             for n in range(vocab.MAX_NOTE + 1)])
    assert torch.equal(note_mask(slot_rule), expected)
    assert slot_rule.is_empty() == (not bool(expected.any()))


def test_the_machine_module_needs_no_tensors():
    """The machine runs where no torch is wanted (a vLLM logits processor's rules, a client): no torch import."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None\n"
            "from bridge.engine.machine import RowMachine, request_rules\n"
            "from bridge.amt import sequence\n"
            "from bridge.engine.grammar import MusicianConstraints\n"
            "from bridge.engine.window import WindowPolicy\n"
            "plan = sequence.plan_generate_from(0, 300)\n"
            "m = RowMachine(request_rules(plan, WindowPolicy(1017), MusicianConstraints(), 2046), plan.new_state())\n"
            "print(type(m.expect()).__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Rebuild"
