"""How long live notes sound: late notes keep their length, zero-length notes get the minimum.

Through a private JACK server with a python-rtmidi JACK input as the
receiver. The checks are about the order in which an independent receiver
hears the messages (a note-off before or after a later note's note-on), never
about how many milliseconds passed: the order is fixed by the schedule however
busy the machine is.
"""

from __future__ import annotations

import random
import time

import pytest

from bridge.amt.notes import MIN_SOUNDING_SECONDS, Note, with_min_length
from bridge.amt.tempo import TempoMap
from bridge.live.player import LivePlayer
from tests.live_support import Receiver, is_note_off, is_note_on, open_jack_output, pair_notes, private_jack

jack = pytest.fixture(scope="module", name="jack")(private_jack)


def test_with_min_length_lengthens_only_notes_shorter_than_the_minimum():
    rng = random.Random(17)
    for _ in range(300):
        tempo = TempoMap.constant(rng.uniform(20, 400))
        note = Note(60, rng.uniform(0, 64), rng.choice([0.0, rng.uniform(0, 0.05), rng.uniform(0, 4)]), 90)
        result = with_min_length(note, tempo)
        seconds = tempo.beats_to_seconds(result.end) - tempo.beats_to_seconds(result.start)
        assert result.start == note.start and result.pitch == note.pitch
        assert seconds >= MIN_SOUNDING_SECONDS - 1e-9
        if tempo.beats_to_seconds(note.end) - tempo.beats_to_seconds(note.start) >= MIN_SOUNDING_SECONDS:
            assert result == note


def _position(messages: list[list[int]], predicate) -> int:
    return next(i for i, m in enumerate(messages) if predicate(m))


def test_a_late_note_played_late_keeps_its_written_length(jack):
    """late_policy play: the note-off of a late note follows its late start by the written length.

    At 60 bpm the late note L lasts 1 s from when it starts (now); a marker note M
    is written to start 0.4 s from now. L's note-off must come after M's note-on.
    Cut to 0 ms (the defect), it would come right after its own note-on.
    """
    port = open_jack_output(jack, "late")
    receiver = Receiver(jack, jack.find_port(f":{port.name}"))
    tempo = TempoMap.constant(60)
    try:
        player = LivePlayer(port, tempo, buffer_seconds=0.05, late_tolerance_seconds=0.05, late_policy="play")
        start = time.monotonic() + 0.05
        player.start(at=start)
        time.sleep(0.8)
        player.add(Note(70, 0.0, 1.0, 90))  # due 0.75 s ago: late
        now_beats = tempo.seconds_to_beats(time.monotonic() - start)
        player.add(Note(72, now_beats + 0.4, 0.2, 90))
        assert player.finish(timeout=10)
    finally:
        port.close()
        receiver.close()
    messages = receiver.plain()
    played, unclosed = pair_notes(messages)
    assert not unclosed and len(played) == 2
    late_on = _position(messages, lambda m: is_note_on(m) and m[1] == 70)
    late_off = _position(messages, lambda m: is_note_off(m) and m[1] == 70)
    marker_on = _position(messages, lambda m: is_note_on(m) and m[1] == 72)
    assert late_on < marker_on < late_off, f"the late note was cut short: {messages}"
    assert player.stats.notes_late >= 1 and player.stats.notes_played == 2 and player.stats.notes_dropped == 0


def test_zero_length_notes_end_before_the_next_note_starts(jack):
    """Random streams with many zero-length notes: each ends before the next onset (0.25 s later)."""
    rng = random.Random(5)
    tempo = TempoMap.constant(240)  # one beat = 0.25 s
    for trial in range(3):
        port = open_jack_output(jack, f"zero{trial}")
        receiver = Receiver(jack, jack.find_port(f":{port.name}"))
        notes = [Note(rng.randrange(40, 80), float(i), rng.choice([0.0, 0.0, 0.2]), 90,
                      instrument=rng.choice([0, 33, 128])) for i in range(10)]
        try:
            player = LivePlayer(port, tempo, buffer_seconds=0.2)
            player.start()
            for note in notes:
                player.add(note)
            assert player.finish(timeout=15)
        finally:
            port.close()
            receiver.close()
        messages = receiver.plain()
        played, unclosed = pair_notes(messages)
        assert not unclosed and len(played) == len(notes)
        ons = [i for i, m in enumerate(messages) if is_note_on(m)]
        assert len(ons) == len(notes)
        for number, (note, on_index) in enumerate(zip(notes, ons)):
            next_on = ons[number + 1] if number + 1 < len(ons) else len(messages)
            between = messages[on_index + 1:next_on]
            assert any(is_note_off(m) and m[1] == note.pitch for m in between), (
                f"trial {trial}: note {note} still sounded when the next one started: {messages}")
