"""Model inputs: REST padding, anticipated controls, windows and decoding plans.

Each rule is checked with small id lists written out by hand from the facts
(so the numbers themselves are checked), plus properties over random input.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.amt import sequence as seq
from bridge.amt import vocab
from bridge.amt.validate import find_problems

E = vocab.Event
AR, AN, REST = 55_026, 55_027, 27_512
C = 27_513  # control shift


def ev(time: int, duration: int, note: int) -> list[int]:
    """An event triplet from a raw note value (instrument * 128 + pitch)."""
    return [time, 10_000 + duration, 11_000 + note]


def rest(time: int) -> list[int]:
    return [time, 10_000, REST]


def ctl(time: int, duration: int, note: int) -> list[int]:
    return [27_513 + time, 37_513 + duration, 38_513 + note]


# ---------------------------------------------------------------- padding


def test_pad_inserts_rest_every_100_ticks():
    tokens = ev(0, 50, 60) + ev(350, 10, 62)
    assert seq.pad_with_rests(tokens, 0) == ev(0, 50, 60) + rest(100) + rest(200) + rest(300) + ev(350, 10, 62)


def test_gap_of_exactly_100_needs_no_rest():
    tokens = ev(0, 5, 60) + ev(100, 5, 60) + ev(201, 5, 60)
    assert seq.pad_with_rests(tokens, 0) == ev(0, 5, 60) + ev(100, 5, 60) + rest(200) + ev(201, 5, 60)


def test_pad_from_zero_to_first_event():
    assert seq.pad_with_rests(ev(250, 5, 60), 0) == rest(100) + rest(200) + ev(250, 5, 60)
    assert seq.pad_with_rests(ev(100, 5, 60), 0) == ev(100, 5, 60)
    assert seq.pad_with_rests(ev(101, 5, 60), 0) == rest(100) + ev(101, 5, 60)


def test_pad_to_until():
    tokens = ev(30, 5, 60)
    assert seq.pad_with_rests(tokens, 130) == tokens  # gap of exactly 100
    assert seq.pad_with_rests(tokens, 131) == tokens + rest(130)
    assert seq.pad_with_rests(tokens, 345) == tokens + rest(130) + rest(230) + rest(330)
    assert seq.pad_with_rests([], 250) == rest(100) + rest(200)
    assert seq.pad_with_rests([], 0) == []


def test_pad_refuses_controls():
    with pytest.raises(ValueError):
        seq.pad_with_rests(ctl(0, 5, 60), 0)


@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 999), st.integers(0, 16_511)), max_size=30),
       st.integers(0, 4000))
def test_pad_properties(raw, until):
    """No gap over 100 after padding, events unchanged, RESTs have duration 0, valid sequence."""
    tokens = seq.flatten(ev(t, d, n) for t, d, n in sorted(raw))
    padded = seq.pad_with_rests(tokens, until)
    assert seq.strip_rests(padded) == tokens
    previous = 0
    for time, duration, note in seq.triplets(padded):
        assert time - previous <= 100
        if note == REST:
            assert duration == 10_000 and time == previous + 100
        previous = time
    assert until - previous <= 100
    assert find_problems(padded) == []


# ---------------------------------------------------------------- controls


def test_controls_up_to_500_come_first():
    """The current time starts at 0, so a control at t <= 500 is due before the first event."""
    events = ev(0, 10, 60) + ev(0, 10, 62) + ev(100, 10, 60) + ev(200, 10, 60)
    controls = ctl(0, 20, 63) + ctl(500, 20, 64) + ctl(501, 20, 65) + ctl(700, 20, 66)
    out, pending = seq.interleave_controls(events, controls)
    # 501 is due once an event at time >= 1 was placed: the event at 100, so before the event at 200;
    # 700 is due at 200, but no event follows the one at 200, so it stays pending
    assert out == (ctl(0, 20, 63) + ctl(500, 20, 64) + ev(0, 10, 60) + ev(0, 10, 62) + ev(100, 10, 60)
                   + ctl(501, 20, 65) + ev(200, 10, 60))
    assert pending == ctl(700, 20, 66)


def test_control_placement_hand_computed():
    """900 is due at current >= 400: before 700 the current is 300 (not due); before 800 it is 700 (due).
    1200 (due at 700) also goes before 800; 1300 (due at 800) is not placed: no event follows 800."""
    events = ev(0, 10, 60) + ev(300, 10, 60) + ev(700, 10, 60) + ev(800, 10, 60)
    controls = ctl(900, 5, 1) + ctl(1200, 5, 2) + ctl(1300, 5, 3) + ctl(5000, 5, 4)
    out, pending = seq.interleave_controls(events, controls)
    assert out == (ev(0, 10, 60) + ev(300, 10, 60) + ev(700, 10, 60)
                   + ctl(900, 5, 1) + ctl(1200, 5, 2) + ev(800, 10, 60))
    assert pending == ctl(1300, 5, 3) + ctl(5000, 5, 4)


def test_interleave_custom_delta_and_no_controls():
    events = ev(0, 10, 60) + ev(100, 10, 60)
    assert seq.interleave_controls(events, []) == (events, [])
    out, pending = seq.interleave_controls(events, ctl(100, 1, 1), delta=0)
    assert out == ev(0, 10, 60) + ev(100, 10, 60) and pending == ctl(100, 1, 1)
    out, pending = seq.interleave_controls(events, ctl(100, 1, 1), delta=100)
    assert out == ctl(100, 1, 1) + events and pending == []


def test_interleave_refuses_controls_among_events():
    with pytest.raises(ValueError):
        seq.interleave_controls(ctl(0, 1, 1) + ev(0, 1, 1), [])


@given(
    st.lists(st.integers(0, 3000), max_size=25).map(sorted),
    st.lists(st.integers(0, 4000), max_size=15).map(sorted),
)
def test_interleave_properties(event_times, control_times):
    """Order is kept within events and within controls; every placed control was due."""
    events = seq.flatten(ev(t, 1, 60) for t in event_times)
    controls = seq.flatten(ctl(t, 1, 61) for t in control_times)
    out, pending = seq.interleave_controls(events, controls)
    assert [t for t in seq.triplets(out) if t[2] < C] == seq.triplets(events)
    placed = [t for t in seq.triplets(out) if t[2] >= C]
    assert placed + seq.triplets(pending) == seq.triplets(controls)
    current = 0
    for triplet in seq.triplets(out):
        if triplet[2] >= C:
            assert current >= triplet[0] - C - 500
        else:
            current = triplet[0]


# ---------------------------------------------------------------- windows


def test_relativize_includes_controls():
    tokens = ctl(320, 5, 1) + ev(400, 5, 2) + rest(450)
    shifted, offset = seq.relativize(tokens)
    assert offset == 320
    assert shifted == ctl(0, 5, 1) + ev(80, 5, 2) + rest(130)
    tokens = ctl(900, 5, 1) + ev(400, 5, 2)
    assert seq.relativize(tokens) == (ctl(500, 5, 1) + ev(0, 5, 2), 400)
    assert seq.relativize([]) == ([], 0)


def test_min_and_max_time():
    tokens = ev(40, 5, 1) + ctl(900, 5, 1) + rest(300)
    assert seq.min_time(tokens) == 40 and seq.max_time(tokens) == 900
    assert seq.min_time([]) == 0 and seq.max_time([]) == 0


def test_window_keeps_last_whole_triplets_and_shifts():
    tokens = ev(100, 5, 1) + ev(250, 5, 2) + ctl(800, 7, 3) + ev(400, 5, 4)
    assert seq.window(tokens, 9) == (ev(0, 5, 2) + ctl(550, 7, 3) + ev(150, 5, 4), 250)
    # a size that is not a multiple of 3 keeps fewer ids, never a partial triplet
    assert seq.window(tokens, 8) == (ctl(400, 7, 3) + ev(0, 5, 4), 400)
    assert seq.window(tokens, 100) == (ev(0, 5, 1) + ev(150, 5, 2) + ctl(700, 7, 3) + ev(300, 5, 4), 100)
    assert seq.window(tokens, 2) == ([], 0)


@given(st.lists(st.integers(0, 20_000), max_size=60).map(sorted), st.integers(3, 200))
def test_window_properties(times, size):
    tokens = seq.flatten(ev(t, 1, 60) for t in times)
    window, offset = seq.window(tokens, size)
    assert len(window) % 3 == 0
    assert len(window) == min(len(tokens), size - size % 3)
    assert offset == (tokens[-len(window)] if window else 0)
    assert window == [x - offset if i % 3 == 0 else x for i, x in enumerate(tokens[len(tokens) - len(window):])]
    if window:
        assert seq.min_time(window) == 0


def test_sort_by_time_is_stable():
    tokens = ev(5, 1, 1) + ev(3, 1, 2) + ev(5, 1, 3) + ev(3, 1, 4)
    assert seq.sort_by_time(tokens) == ev(3, 1, 2) + ev(3, 1, 4) + ev(5, 1, 1) + ev(5, 1, 3)


def test_triplets_refuses_partial():
    with pytest.raises(ValueError):
        seq.triplets([1, 2])


# ---------------------------------------------------------------- plans

PIANO, BASS = 0, 33
SONG = [
    E(0, 50, PIANO, 60, 90),
    E(250, 50, PIANO, 62, 91),
    E(400, 100, BASS, 40, 92),
    E(700, 30, PIANO, 64, 93),
    E(1200, 20, PIANO, 65, 94),
]
BASS_40 = BASS * 128 + 40  # 4264


def test_plan_infill_hand_computed():
    """Infill [500, 800): 700 removed, 0/250/400 the prompt padded to 500, 1200 a control."""
    plan = seq.plan_infill(SONG, 500, 800)
    prompt = ev(0, 50, 60) + rest(100) + rest(200) + ev(250, 50, 62) + rest(350) + ev(400, 100, BASS_40)
    assert plan.mode_token == AN
    assert plan.prompt == prompt
    assert plan.controls == ctl(1200, 20, 65)
    assert (plan.start, plan.end, plan.current_time) == (500, 800, 400)
    assert plan.removed == [SONG[3]]
    assert plan.kept == [SONG[0], SONG[1], SONG[2], SONG[4]]
    # 1200 is due at 700; the current time is 400: nothing due yet
    assert plan.first_step_tokens() == [AN, *prompt]
    assert plan.first_step_tokens() == [
        55_027, 0, 10_050, 11_060, 100, 10_000, 27_512, 200, 10_000, 27_512, 250, 10_050, 11_062,
        350, 10_000, 27_512, 400, 10_100, 15_264,
    ]


def test_plan_infill_control_interleaved_in_prompt():
    """Infill [500, 600): the control at 700 is due at 200, so it goes before the event at 250."""
    plan = seq.plan_infill(SONG, 500, 600)
    assert plan.prompt == (ev(0, 50, 60) + rest(100) + rest(200) + ctl(700, 30, 64) + ev(250, 50, 62)
                           + rest(350) + ev(400, 100, BASS_40))
    assert plan.controls == ctl(1200, 20, 65)
    assert plan.removed == []
    assert plan.first_step_tokens() == [
        55_027, 0, 10_050, 11_060, 100, 10_000, 27_512, 200, 10_000, 27_512,
        28_213, 37_543, 38_577,
        250, 10_050, 11_062, 350, 10_000, 27_512, 400, 10_100, 15_264,
    ]


def test_first_step_includes_controls_due_at_current_time():
    """Infill [620, 700): padding to 620 adds RESTs at 500 and 600, so the current time is 600
    and the control at 1100 (due at 600) joins the first step; 1200 (due at 700) does not."""
    plan = seq.plan_infill(SONG, 620, 700)
    assert plan.current_time == 600
    assert plan.removed == []
    # 700 is due at 200 (placed before the event at 250), 1200 at 700 (pending)
    assert plan.prompt == (ev(0, 50, 60) + rest(100) + rest(200) + ctl(700, 30, 64) + ev(250, 50, 62)
                           + rest(350) + ev(400, 100, BASS_40) + rest(500) + rest(600))
    assert plan.controls == ctl(1200, 20, 65)
    assert plan.first_step_tokens() == [AN, *plan.prompt]
    song = [*SONG, E(1100, 10, PIANO, 70)]
    plan = seq.plan_infill(song, 620, 700)
    assert plan.controls == ctl(1100, 10, 70) + ctl(1200, 20, 65)
    first = plan.first_step_tokens()
    assert first[-3:] == ctl(1100, 10, 70)
    assert first[-6:-3] == rest(600)
    state = plan.new_state()
    assert list(state.pending) == [tuple(ctl(1200, 20, 65))]
    assert state.tokens == [*plan.prompt, *ctl(1100, 10, 70)]


def test_first_step_window_relativizes():
    plan = seq.plan_infill(SONG, 500, 800)
    assert plan.first_step_tokens(window_size=9) == [AN, *ev(0, 50, 62), *rest(100), *ev(150, 100, BASS_40)]


def test_plan_infill_at_zero_has_no_prompt():
    plan = seq.plan_infill(SONG, 0, 300)
    assert plan.prompt == []
    assert plan.removed == SONG[:2]
    assert plan.current_time == 0
    # due at 0: controls up to 500 (the bass at 400); relativized so that 400 becomes 0
    assert plan.first_step_tokens() == [AN, *ctl(0, 100, BASS_40)]
    # with no prompt event to interleave against, every control is pending in the plan and the
    # due ones are placed when the decoding state starts
    assert plan.controls == ctl(400, 100, BASS_40) + ctl(700, 30, 64) + ctl(1200, 20, 65)
    assert list(plan.new_state().pending) == [tuple(ctl(700, 30, 64)), tuple(ctl(1200, 20, 65))]


def test_plan_infill_without_later_notes_is_autoregressive():
    plan = seq.plan_infill(SONG, 1000, 1500)
    assert plan.mode_token == AR
    assert plan.controls == []
    assert plan.removed == [SONG[4]]
    assert plan.first_step_tokens()[0] == 55_026
    assert plan.prompt[-3:] == rest(900)  # 700 + 100 + 100 = 900; 1000 - 900 = 100 needs none


def test_plan_continue_keeps_notes_inside_as_controls():
    plan = seq.plan_continue(SONG, 500, 800)
    assert plan.removed == []
    assert plan.mode_token == AN
    assert plan.prompt == (ev(0, 50, 60) + rest(100) + rest(200) + ctl(700, 30, 64) + ev(250, 50, 62)
                           + rest(350) + ev(400, 100, BASS_40))
    assert plan.controls == ctl(1200, 20, 65)


def test_plan_accompany_hand_computed():
    """Bass given over [0, 1000): its notes are controls; piano notes inside are removed."""
    plan = seq.plan_accompany(SONG, [BASS], 0, 1000)
    assert plan.mode_token == AN
    assert plan.prompt == []
    assert plan.removed == [SONG[0], SONG[1], SONG[3]]
    assert plan.kept == [SONG[2]]
    assert plan.first_step_tokens() == [55_027, 27_513, 37_613, 38_513 + BASS_40]


def test_plan_accompany_with_prompt_and_end():
    """Start 300: piano 0 and 250 are the prompt; the bass at 400 is due at 0 and comes first;
    notes at or after the end (1200) are left out entirely."""
    plan = seq.plan_accompany(SONG, [BASS, PIANO + 1], 300, 1000)
    assert plan.prompt == ctl(400, 100, BASS_40) + ev(0, 50, 60) + rest(100) + rest(200) + ev(250, 50, 62)
    assert plan.removed == [SONG[3]]
    assert SONG[4] not in plan.kept and SONG[4] not in plan.removed
    assert plan.controls == []


def test_plan_generate():
    plan = seq.plan_generate(1000)
    assert plan.mode_token == AR
    assert plan.prompt == [] and plan.controls == []
    assert (plan.start, plan.end, plan.current_time) == (0, 1000, 0)
    assert plan.first_step_tokens() == [55_026]


@pytest.mark.parametrize(
    "call",
    [
        lambda: seq.plan_generate(0),
        lambda: seq.plan_infill(SONG, 500, 500),
        lambda: seq.plan_infill(SONG, -1, 10),
        lambda: seq.plan_accompany(SONG, [], 0, 100),
    ],
)
def test_bad_plans_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_sequence_state_refuses_going_back():
    state = seq.plan_generate(1000).new_state()
    state.append_event(ev(100, 5, 60))
    assert state.current_time == 100
    with pytest.raises(ValueError):
        state.append_event(ev(99, 5, 60))


def test_sequence_state_emits_due_controls_as_time_advances():
    plan = seq.plan_infill(SONG, 500, 800)
    state = plan.new_state()
    assert state.due_controls() == []
    state.append_event(ev(699, 5, 60))
    assert state.due_controls() == []
    state.append_event(ev(700, 5, 60))
    assert state.due_controls() == ctl(1200, 20, 65)
    assert not state.pending


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 999), st.sampled_from([0, 33, 128]),
                       st.integers(30, 90)), max_size=30),
    st.integers(0, 3000),
    st.integers(1, 1000),
)
def test_plans_are_always_valid_sequences(raw, start, length):
    events = sorted((E(*r) for r in raw), key=lambda e: e.time)
    plan = seq.plan_infill(events, start, start + length)
    first = plan.first_step_tokens()
    assert first[0] == (AN if any(e.time >= start + length for e in events) else AR)
    assert find_problems(first) == []
    assert sorted(plan.kept + plan.removed) == sorted(events)
    state = plan.new_state()
    # all controls are either placed or pending, in time order
    placed = [t for t in seq.triplets(state.tokens) if t[2] >= C]
    assert [vocab.triplet_time(t) for t in placed] + [vocab.triplet_time(t) for t in state.pending] == sorted(
        e.time for e in events if e.time >= start + length
    )
    # no event gap over 100 ticks in the prompt, up to the start
    times = [0] + [t[0] for t in seq.triplets(state.tokens) if t[2] < C]
    assert all(b - a <= 100 for a, b in zip(times, times[1:]))
    assert start - times[-1] <= 100
