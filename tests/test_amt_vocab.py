"""The AMT vocabulary: every id block exactly where shared/amt-facts.md puts it.

A model only hears music when each block starts where it was trained to start,
so the numbers below are written out literally from the facts, not derived
from the module under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.amt import vocab
from bridge.amt.validate import InvalidTokens, TokenProblem, check_tokens, find_problems

times = st.integers(0, 9999)
durations = st.integers(0, 999)
instruments = st.integers(0, 128)
pitches = st.integers(0, 127)


# ---------------------------------------------------------------- constants


def test_block_boundaries_match_the_facts():
    """Each block's first and last id as the facts' table lists them."""
    assert vocab.TIME_OFFSET == 0
    assert vocab.MAX_TIME == 10_000
    assert vocab.DURATION_OFFSET == 10_000
    assert vocab.MAX_DURATION == 1_000
    assert vocab.NOTE_OFFSET == 11_000
    assert vocab.MAX_NOTE == 129 * 128 == 16_512
    assert vocab.NOTE_OFFSET + vocab.MAX_NOTE - 1 == 27_511
    assert vocab.REST == 27_512
    assert vocab.CONTROL_OFFSET == 27_513
    assert vocab.CONTROL_TIME_OFFSET == 27_513
    assert vocab.CONTROL_DURATION_OFFSET == 37_513
    assert vocab.CONTROL_NOTE_OFFSET == 38_513
    assert vocab.CONTROL_NOTE_OFFSET + vocab.MAX_NOTE - 1 == 55_024
    assert vocab.SEPARATOR == 55_025
    assert vocab.AUTOREGRESS == 55_026
    assert vocab.ANTICIPATE == 55_027
    assert vocab.VOCAB_SIZE == 55_028


def test_time_and_music_constants_match_the_facts():
    assert vocab.TICKS_PER_SECOND == 100
    assert vocab.MAX_PITCH == 128
    assert vocab.MAX_INSTRUMENT == 129
    assert vocab.DRUMS == 128
    assert vocab.DRUM_CHANNEL == 9
    assert vocab.DEFAULT_UNCLOSED_DURATION == 25
    assert vocab.ANTICIPATION_DELTA == 500
    assert vocab.REST_INTERVAL == 100
    assert vocab.EVENT_SIZE == 3


@pytest.mark.parametrize(
    ("token", "name"),
    [
        (0, "time"),
        (9_999, "time"),
        (10_000, "duration"),
        (10_999, "duration"),
        (11_000, "note"),
        (27_511, "note"),
        (27_512, "REST"),
        (27_513, "control time"),
        (37_512, "control time"),
        (37_513, "control duration"),
        (38_512, "control duration"),
        (38_513, "control note"),
        (55_024, "control note"),
        (55_025, "SEPARATOR"),
        (55_026, "AUTOREGRESS"),
        (55_027, "ANTICIPATE"),
        (55_028, "outside the vocabulary"),
        (-1, "outside the vocabulary"),
    ],
)
def test_block_name_at_every_boundary(token: int, name: str):
    """Off-by-one errors at block edges are the classic way to break a vocabulary."""
    assert vocab.block_name(token) == name


def test_predicates_partition_the_vocabulary():
    """Every id in 0..55,027 belongs to exactly one block."""
    predicates = (
        vocab.is_time,
        vocab.is_duration,
        vocab.is_event_note,
        lambda t: t == vocab.REST,
        vocab.is_control_time,
        vocab.is_control_duration,
        vocab.is_control_note,
        lambda t: t in (55_025, 55_026, 55_027),
    )
    for token in range(vocab.VOCAB_SIZE):
        assert sum(bool(p(token)) for p in predicates) == 1, token
    assert vocab.is_control(27_513) and vocab.is_control(55_024)
    assert not vocab.is_control(27_512) and not vocab.is_control(55_025)


# ---------------------------------------------------------------- encoding


def test_event_tokens_literal_examples():
    """Hand-computed ids: piano middle C, a drum hit, the last note id."""
    assert vocab.event_tokens(0, 0, 0, 60) == (0, 10_000, 11_060)
    assert vocab.event_tokens(150, 25, 128, 36) == (150, 10_025, 11_000 + 128 * 128 + 36)
    assert vocab.event_tokens(9_999, 999, 128, 127) == (9_999, 10_999, 27_511)
    assert vocab.event_tokens(12, 34, 33, 40) == (12, 10_034, 11_000 + 33 * 128 + 40)
    assert vocab.rest_tokens(300) == (300, 10_000, 27_512)
    assert vocab.note_value(33, 40) == 4_264
    assert vocab.split_note_value(4_264) == (33, 40)


@given(times, durations, instruments, pitches)
def test_event_round_trip(time: int, duration: int, instrument: int, pitch: int):
    tokens = vocab.event_tokens(time, duration, instrument, pitch)
    assert tokens == (time, 10_000 + duration, 11_000 + instrument * 128 + pitch)
    assert vocab.decode_event(tokens) == vocab.Event(time, duration, instrument, pitch)
    assert vocab.triplet_time(tokens) == time
    assert not vocab.is_control_triplet(tokens)


@given(times, durations, instruments, pitches)
def test_control_triplet_is_event_plus_27513(time: int, duration: int, instrument: int, pitch: int):
    """The facts: a control is the same three values shifted by 27,513 each."""
    event = vocab.event_tokens(time, duration, instrument, pitch)
    control = vocab.control_tokens(time, duration, instrument, pitch)
    assert control == tuple(t + 27_513 for t in event)
    assert vocab.to_control(event) == control
    assert vocab.is_control_triplet(control)
    assert vocab.is_control_time(control[0]) and vocab.is_control_duration(control[1])
    assert vocab.is_control_note(control[2])
    assert vocab.triplet_time(control) == time
    assert vocab.decode_control(control) == vocab.Event(time, duration, instrument, pitch)


@given(st.integers(0, 128 * 129 - 1))
def test_note_value_round_trip(value: int):
    instrument, pitch = vocab.split_note_value(value)
    assert vocab.note_value(instrument, pitch) == value


def test_decode_rest_gives_none():
    assert vocab.decode_event((40, 10_000, 27_512)) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: vocab.event_tokens(10_000, 0, 0, 60),
        lambda: vocab.event_tokens(-1, 0, 0, 60),
        lambda: vocab.event_tokens(0, 1_000, 0, 60),
        lambda: vocab.event_tokens(0, -1, 0, 60),
        lambda: vocab.event_tokens(0, 0, 129, 60),
        lambda: vocab.event_tokens(0, 0, 0, 128),
        lambda: vocab.rest_tokens(10_000),
        lambda: vocab.split_note_value(16_512),
        lambda: vocab.to_control((0, 10_000, 27_512)),
        lambda: vocab.decode_event((10_000, 10_000, 11_000)),
        lambda: vocab.decode_event((0, 11_000, 11_000)),
        lambda: vocab.decode_event((0, 10_000, 27_513)),
        lambda: vocab.decode_control((0, 10_000, 11_000)),
    ],
)
def test_out_of_range_values_are_refused(call):
    """Out-of-block values would silently become other tokens; they must raise."""
    with pytest.raises(ValueError):
        call()


def test_event_note_property():
    assert vocab.Event(0, 10, 128, 36).note == 128 * 128 + 36


# ---------------------------------------------------------------- validator


def _only(problems: list[TokenProblem]) -> TokenProblem:
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_sequences_have_no_problems():
    seq = [55_026, 0, 10_050, 11_060, 100, 10_000, 27_512, 100, 10_025, 11_064]
    assert find_problems(seq) == []
    seq = [55_027, 27_513 + 700, 37_513 + 30, 38_513 + 64, 0, 10_050, 11_060]
    assert find_problems(seq) == []
    assert find_problems([]) == []
    check_tokens(seq)


def test_wrong_id_in_a_slot_reports_position_and_expected_block():
    problem = _only(find_problems([55_026, 10_000, 10_000, 11_060]))
    assert problem.position == 1
    assert problem.expected == "a time id"
    assert problem.found == 10_000
    assert "position 1" in str(problem) and "duration" in str(problem)

    problem = _only(find_problems([0, 11_060, 11_060]))
    assert (problem.position, problem.expected) == (1, "a duration id")

    problem = _only(find_problems([0, 10_000, 10_000]))
    assert (problem.position, problem.expected) == (2, "a note or REST id")


def test_control_in_event_note_slot_is_reported():
    problem = _only(find_problems([0, 10_000, 38_513 + 60]))
    assert problem.position == 2
    assert "control note" in str(problem)


def test_mixed_control_triplet_is_reported():
    problem = _only(find_problems([27_513, 10_000, 38_573]))
    assert (problem.position, problem.expected) == (1, "a control duration id")


def test_dangling_ids_at_the_end():
    problem = _only(find_problems([0, 10_000, 11_060, 5, 10_000]))
    assert problem.position == 3
    assert "2 dangling" in problem.expected
    problem = _only(find_problems([55_026, 0, 10_000, 11_060, 5]))
    assert problem.position == 4
    assert "1 dangling" in problem.expected


def test_time_going_backwards():
    problem = _only(find_problems([100, 10_000, 11_060, 50, 10_000, 11_062]))
    assert problem.position == 3
    assert "backwards" in problem.expected
    assert find_problems([100, 10_000, 11_060, 50, 10_000, 11_062], monotonic=False) == []
    # equal times are fine
    assert find_problems([100, 10_000, 11_060, 100, 10_000, 11_062]) == []


def test_controls_out_of_order_but_events_independent():
    """Controls keep their own order; an event earlier than a control is fine."""
    seq = [27_513 + 900, 37_513, 38_573, 0, 10_000, 11_060, 27_513 + 800, 37_513, 38_573]
    problem = _only(find_problems(seq))
    assert problem.position == 6 and "control" in problem.expected


def test_rest_with_nonzero_duration():
    problem = _only(find_problems([0, 10_005, 27_512]))
    assert problem.position == 1
    assert "REST" in problem.expected


@pytest.mark.parametrize("special", [55_025, 55_026, 55_027])
def test_specials_in_the_middle(special: int):
    problem = _only(find_problems([0, 10_000, 11_060, special, 10_000, 11_060]))
    assert problem.position == 3
    assert problem.expected == "a time id"
    assert vocab.block_name(special) in str(problem)
    problem = _only(find_problems([0, 10_000, special]))
    assert problem.position == 2


def test_mode_token_and_controls_can_be_forbidden():
    problem = _only(find_problems([55_026, 0, 10_000, 11_060], allow_mode_token=False))
    assert problem.position == 0
    problem = _only(find_problems([27_513, 37_513, 38_573], allow_controls=False))
    assert problem.position == 0 and "controls not allowed" in problem.expected


def test_check_tokens_raises_with_all_problems():
    bad = [10_000] * 3 * 4  # four triplets, each with a wrong time and note
    with pytest.raises(InvalidTokens) as info:
        check_tokens(bad)
    assert len(info.value.problems) == 8
    assert "position 0" in str(info.value)
    assert "(and 3 more)" in str(info.value)
    assert isinstance(info.value, ValueError)


@given(st.lists(st.tuples(times, durations, instruments, pitches), max_size=20))
def test_sorted_event_sequences_are_always_valid(raw):
    tokens = [55_026]
    for t, d, i, p in sorted(raw):
        tokens.extend(vocab.event_tokens(t, d, i, p))
    assert find_problems(tokens) == []
