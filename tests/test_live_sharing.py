"""Two live jobs on one port never step on each other; a second port of one name gets its own.

Through the daemon's live service (``LiveOutput``) on a private JACK server,
heard by a python-rtmidi JACK input. Random streams of the same instruments and
pitches, with the first job ended at a random moment by cancel or by playing
out, are checked on what the receiver got: no note-on on a key already
sounding, no note-off on a silent key, nothing left sounding, and no All Notes
Off that cuts a note still sounding (the first job's end never silences the
second's notes). Judged on the receiver's order alone, never on timing.
"""

from __future__ import annotations

import random
import time

import pytest

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.config import defaults
from bridge.live.service import LiveOutput
from tests.live_support import (
    Receiver,
    cut_by_all_notes_off,
    key_violations,
    open_jack_output,
    pair_notes,
    private_jack,
    wait_until,
)

jack = pytest.fixture(scope="module", name="jack")(private_jack)


def random_stream(rng: random.Random, count: int) -> list[Note]:
    """Overlapping notes of a few instruments on a few pitches: many same-key collisions."""
    notes = []
    for _ in range(count):
        instrument = rng.choice([0, 0, 33, 128])
        notes.append(Note(rng.choice([36, 38, 60, 62, 64]), rng.uniform(0, 6), rng.choice([0.0, 0.3, 1.0, 2.5]),
                          rng.randrange(40, 120), instrument=instrument))
    return sorted(notes, key=lambda n: n.start)


def live_config(port_name: str) -> dict:
    midi = dict(defaults()["midi"])
    midi.update(port_name=port_name, api="jack", buffer_seconds=0.1, late_tolerance_ms=50.0)
    return midi


def test_two_live_jobs_at_once_keep_to_their_own_notes(jack):
    rng = random.Random(2024)
    tempo = TempoMap.constant(480)  # 8 beats per second: a 6-beat stream lasts under a second
    for trial in range(4):
        live = LiveOutput(live_config(f"share{trial}"))
        first = live.player(tempo, 0.0)
        receiver = Receiver(jack, jack.find_port(f":share{trial}"))
        second = live.player(tempo, 0.0)
        try:
            for note in random_stream(rng, 25):
                first.add(note)
            for note in random_stream(rng, 25):
                second.add(note)
            time.sleep(rng.uniform(0.1, 0.7))
            if trial % 2:
                live.abort(first)  # cancel while both sound
            else:
                live.finish(first)
            first_done = len(receiver.plain()) if trial % 2 else None
            assert second.finish(timeout=15)
            assert first.finish(timeout=15)
            second_done = len(receiver.plain())
        finally:
            live.close()
            receiver.close()
        messages = receiver.plain()
        assert not key_violations(messages), key_violations(messages)
        _, unclosed = pair_notes(messages)
        assert not unclosed, f"trial {trial}: stuck notes {unclosed}"
        pitched_first = set(first.channels_used) - {9}
        pitched_second = set(second.channels_used) - {9}
        assert not pitched_first & pitched_second, "two running jobs share a pitched channel"
        assert not cut_by_all_notes_off(messages), f"trial {trial}: {cut_by_all_notes_off(messages)}"
        if first_done is not None:
            assert second.stats.notes_played > 0 and first_done < second_done


def test_daemon_two_live_requests_overlap_without_conflicts(jack, dense_engine):
    """The second request plays while the first is still playing out: the receiver hears no clash."""
    from bridge.client import Client
    from bridge.daemon.server import DaemonThread

    config = defaults()
    config["osc"]["port"] = 0
    config["model"]["id"] = "dense tiny checkpoint"
    config["midi"].update(port_name="daemon-two", api="jack", buffer_seconds=0.5)
    with DaemonThread(config, engine=dense_engine) as daemon, Client(daemon.port) as client:
        first = client.request("generate", prompt="x", bars=2, tempo=60.0, seed=3, live=True, follow=True)
        receiver = Receiver(jack, jack.find_port(":daemon-two"))
        try:
            second = client.request("generate", prompt="x", bars=2, tempo=60.0, seed=3, live=True, follow=True)
            assert client.transport("play", 0.0) == 2  # both start together: the same notes at the same times
            expected = len(first.variations[0]) + len(second.variations[0])
            wait_until(lambda: receiver.count(0x80) >= expected, timeout=30)
        finally:
            receiver.close()
    messages = receiver.plain()
    assert not key_violations(messages), key_violations(messages)
    played, unclosed = pair_notes(messages)
    assert not unclosed and len(played) == expected


def test_a_port_name_in_use_gets_a_distinct_name(jack):
    first = open_jack_output(jack, "taken")
    try:
        second = open_jack_output(jack, "taken")
        try:
            assert first.name == "taken" and not first.renamed
            assert second.renamed and second.name == "taken-2" and second.requested_name == "taken"
            names = [p.split(":", 1)[1] for p in jack.ports() if p.startswith("bridge-taken")]
            assert sorted(names) == ["taken", "taken-2"], jack.ports()
        finally:
            second.close()
    finally:
        first.close()
