"""Live output through a real JACK server (dummy driver): notes in time, no stuck notes."""

from __future__ import annotations

import subprocess
import time

import pytest

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.live.player import LivePlayer
from tests.jack_server import JackServer
from tests.live_support import Receiver, open_jack_output, pair_notes, private_jack, wait_until
from tests.peers import needs_peer

reason = JackServer.available()
pytestmark = needs_peer(reason and f"no MIDI backend for live tests: {reason}")
jack = pytest.fixture(scope="module", name="jack")(private_jack)


def sample_notes() -> list[Note]:
    notes = [Note(60 + i % 5, i * 0.25, 0.2, 80 + i, instrument=0) for i in range(12)]
    notes += [Note(36, i * 0.5, 0.1, 100, instrument=128) for i in range(6)]
    notes += [Note(40, 0.0, 1.0, 70, instrument=33), Note(40, 0.5, 1.0, 71, instrument=33)]  # overlap, same pitch
    return notes


def test_every_note_on_gets_its_note_off_and_channels_follow_instruments(jack):
    port = open_jack_output(jack, "out1")
    receiver = Receiver(jack, "bridge-out1:out1")
    try:
        notes = sample_notes()
        player = LivePlayer(port, TempoMap.constant(240), buffer_seconds=0.2)
        player.start()
        for note in notes:
            player.add(note)
        assert player.finish(timeout=15)
        wait_until(lambda: sum(1 for _, m in receiver.messages if m[0] & 0xF0 in (0x80, 0x90)) >= 2 * len(notes))
    finally:
        receiver.close()
        port.close()
    messages = [m for _, m in receiver.messages]
    played, unclosed = pair_notes(messages)
    assert not unclosed
    assert len(played) == len(notes) == player.stats.notes_played
    drums = [p for p in played if p[1] == 36]
    assert drums and all(channel == 9 for channel, _, _ in drums)
    piano_channel = next(c for c, pitch, _ in played if pitch == 60)
    bass_channel = next(c for c, pitch, _ in played if pitch == 40)
    assert piano_channel != bass_channel and 9 not in (piano_channel, bass_channel)
    programs = [m for m in messages if m[0] & 0xF0 == 0xC0]
    assert [0xC0 | piano_channel, 0] in programs and [0xC0 | bass_channel, 33] in programs
    first_bass_on = next(i for i, m in enumerate(messages) if m[0] == 0x90 | bass_channel)
    assert messages.index([0xC0 | bass_channel, 33]) < first_bass_on
    assert sorted(v for _, _, v in played if v not in (100,)) == sorted(
        int(n.velocity) for n in notes if n.instrument != 128)


def test_cancel_mid_stream_leaves_nothing_sounding(jack):
    port = open_jack_output(jack, "out2")
    receiver = Receiver(jack, "bridge-out2:out2")
    try:
        player = LivePlayer(port, TempoMap.constant(60), buffer_seconds=0.1)
        player.start()
        for i in range(20):
            player.add(Note(50 + i, i * 0.1, 3.0, 90))  # long notes, many sounding at once
        time.sleep(0.8)
        player.stop()
        time.sleep(0.3)
    finally:
        receiver.close()
        port.close()
    messages = [m for _, m in receiver.messages]
    played, unclosed = pair_notes(messages)
    assert not unclosed, f"stuck notes after cancel: {unclosed}"
    assert 0 < len(played) < 20
    assert [0xB0 | player.channels_used[0], 123, 0] in messages


def test_jack_midi_dump_sees_the_stream(jack):
    port = open_jack_output(jack, "out3")
    dump = subprocess.Popen(["jack_midi_dump", "-a"], env=jack.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        jack.wait_for_port("midi-monitor:input")
        assert jack.run("jack_connect", "bridge-out3:out3", "midi-monitor:input").returncode == 0
        player = LivePlayer(port, TempoMap.constant(300), buffer_seconds=0.2)
        player.start()
        notes = [Note(60 + i, i * 0.25, 0.2, 90) for i in range(8)]
        for note in notes:
            player.add(note)
        assert player.finish(timeout=10)
        time.sleep(0.3)
    finally:
        dump.terminate()
        output, _ = dump.communicate(timeout=5)
        port.close()
    ons = [line for line in output.splitlines() if " 90 " in f" {line.lower()} "]
    offs = [line for line in output.splitlines() if " 80 " in f" {line.lower()} "]
    assert len(ons) == len(notes) and len(offs) == len(notes), output


def test_late_notes_are_counted_and_dropped_by_policy(jack):
    port = open_jack_output(jack, "out4")
    receiver = Receiver(jack, "bridge-out4:out4")
    try:
        # A generous tolerance, so that a busy machine's scheduling jitter never counts as late.
        player = LivePlayer(port, TempoMap.constant(120), buffer_seconds=0.05, late_tolerance_seconds=0.3,
                            late_policy="drop")
        player.start()
        time.sleep(0.8)
        player.add(Note(70, 0.0, 0.1, 90))  # due 0.75 s ago: late
        player.add(Note(72, 4.0, 0.1, 90))  # due in 1.25 s: on time
        assert player.finish(timeout=10)
        time.sleep(0.2)
    finally:
        receiver.close()
        port.close()
    played, unclosed = pair_notes([m for _, m in receiver.messages])
    assert not unclosed
    assert [p[1] for p in played] == [72]
    assert player.stats.notes_late == 1 and player.stats.notes_dropped == 1


def test_engine_stream_plays_exactly_the_result(jack, dense_engine):
    from bridge.engine.requests import GenerationRequest

    port = open_jack_output(jack, "out5")
    receiver = Receiver(jack, "bridge-out5:out5")
    tempo = TempoMap.constant(240)
    try:
        player = LivePlayer(port, tempo, buffer_seconds=0.5)
        player.start()
        request = GenerationRequest("generate", 0.0, 8.0, tempo, prompt="test", seed=11)
        result = dense_engine.run(request, on_note=lambda row, note: player.add(note))
        assert player.finish(timeout=20)
        wait_until(lambda: len(receiver.messages) >= 2 * len(result.variations[0].new_notes))
        time.sleep(0.2)
    finally:
        receiver.close()
        port.close()
    played, unclosed = pair_notes([m for _, m in receiver.messages])
    assert not unclosed
    expected = sorted(n.pitch for n in result.variations[0].new_notes)
    assert sorted(p for _, p, _ in played) == expected
    assert player.stats.notes_played == len(expected)


def test_missing_port_gives_a_clear_message(jack):
    from bridge.live.ports import MidiPortError, open_output

    with pytest.raises(MidiPortError, match="no output port matching"):
        open_output("x", connect_to="definitely-not-a-port", api="jack")


def live_daemon_config(port_name: str):
    from bridge.config import defaults

    config = defaults()
    config["osc"]["port"] = 0
    config["model"]["id"] = "dense tiny checkpoint"
    config["midi"].update(port_name=port_name, api="jack", buffer_seconds=0.3)
    return config


def test_daemon_plays_a_request_live_following_the_transport(jack, dense_engine):
    """A request with live+follow waits for transport play, then plays exactly its result; stop silences."""
    from bridge.client import Client
    from bridge.daemon.server import DaemonThread

    with DaemonThread(live_daemon_config("daemon-live"), engine=dense_engine) as daemon, Client(daemon.port) as client:
        result = client.request("generate", prompt="x", bars=4, tempo=240.0, seed=5, live=True, follow=True)
        # The MIDI port exists now (it opened for the job); nothing plays before the transport starts.
        port_name = next(p for p in jack.ports() if p.endswith(":daemon-live"))
        receiver = Receiver(jack, port_name)
        try:
            time.sleep(0.3)
            assert receiver.messages == []
            assert client.transport("play", 0.0) == 1
            expected = result.variations[0]
            wait_until(lambda: len([m for _, m in receiver.messages if m[0] & 0xF0 == 0x80]) >= len(expected))
            time.sleep(0.2)
        finally:
            receiver.close()
    played, unclosed = pair_notes([m for _, m in receiver.messages])
    assert not unclosed
    assert sorted(p for _, p, _ in played) == sorted(n.pitch for n in expected)


def test_daemon_transport_stop_and_shutdown_leave_no_note_sounding(jack, dense_engine):
    from bridge.client import Client
    from bridge.daemon.server import DaemonThread

    daemon = DaemonThread(live_daemon_config("daemon-stop"), engine=dense_engine).start()
    try:
        with Client(daemon.port) as client:
            # 60 bpm, long notes: the stream is still playing when the transport stops.
            client.request("generate", prompt="x", bars=2, tempo=60.0, seed=9, live=True, follow=True)
            port_name = next(p for p in jack.ports() if p.endswith(":daemon-stop"))
            receiver = Receiver(jack, port_name)
            client.transport("play", 0.0)
            time.sleep(1.5)
            assert client.transport("stop") >= 1
            time.sleep(0.3)
            stopped_at = len(receiver.messages)
            # A second job plays and the daemon shuts down in the middle of it.
            client.request("generate", prompt="x", bars=4, tempo=60.0, seed=10, live=True)
            time.sleep(1.6)
    finally:
        daemon.stop()
    time.sleep(0.3)
    receiver.close()
    messages = [m for _, m in receiver.messages]
    for part in (messages[:stopped_at], messages):
        _, unclosed = pair_notes(part)
        assert not unclosed, f"stuck notes: {unclosed}"
    assert any(m[0] & 0xF0 == 0xB0 and m[1] == 123 for m in messages[:stopped_at])


def test_daemon_without_a_midi_backend_answers_with_an_error(dense_engine):
    """Live output asked for, no port to open: an error reply in words, the daemon keeps serving."""
    from bridge.client import Client, DaemonError
    from bridge.daemon.server import DaemonThread

    config = live_daemon_config("nowhere")
    config["midi"]["connect_to"] = "a port that does not exist"
    with DaemonThread(config, engine=dense_engine) as daemon, Client(daemon.port) as client:
        with pytest.raises(DaemonError) as caught:
            client.request("generate", prompt="x", bars=1, live=True)
        assert caught.value.code == "midi_unavailable"
        assert "no output port matching" in caught.value.message
        assert client.request("generate", prompt="x", bars=1, seed=1).variations is not None
