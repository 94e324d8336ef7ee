"""A real daemon on loopback with the dense tiny checkpoint: every request type, queue, cancel, chunks, abuse."""

from __future__ import annotations

import math
import socket
import threading
import time

import pytest

from bridge import protocol as P
from bridge.amt.notes import Note
from bridge.client import Client, DaemonError
from bridge.daemon.server import DaemonThread
from bridge.protocol.notes import note_to_atoms
from bridge.protocol.osc import decode_datagram, encode_message
from tests.daemon_peers import daemon_config

pytestmark = pytest.mark.slow

LONG = {"bars": 100, "tempo": 60.0}  # 400 s of music: runs until the token limit unless cancelled


@pytest.fixture(scope="module")
def daemon(dense_engine):
    with DaemonThread(daemon_config(), engine=dense_engine) as running:
        yield running


@pytest.fixture
def client(daemon):
    with Client(daemon.port, max_datagram_bytes=1024) as c:
        yield c


class Raw:
    """A bare UDP socket speaking OSC, for what the client would never send."""

    def __init__(self, port: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = port

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def send(self, address: str, *args) -> None:
        self.send_bytes(encode_message(address, args))

    def expect(self, address: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            for found, args in decode_datagram(data):
                if found == address:
                    return args
        raise AssertionError(f"no {address} within {timeout} s")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(daemon):
    r = Raw(daemon.port)
    yield r
    r.close()


def clip(count: int, instrument: int = 0, spacing: float = 0.5) -> list[Note]:
    return [Note(48 + (i * 5) % 36, i * spacing, spacing, 90 + i % 20, instrument) for i in range(count)]


# ----- each request type ----------------------------------------------------------------------


def test_ping_and_status(client, daemon):
    pong = client.ping()
    assert pong["protocol"] == P.PROTOCOL_VERSION and pong["state"] == "ready"
    assert pong["device"] == "cpu" and pong["waiting"] == 0
    info = client.status()
    assert info["max_datagram_bytes"] == 1024 and info["queue_length"] == 4 and info["dtype"] == "float32"


def test_generate_is_reproducible_and_inside_the_span(client):
    first = client.generate("a walking bass", bars=1, tempo=150.0, seed=11, variations=2)
    again = client.generate("a walking bass", bars=1, tempo=150.0, seed=11, variations=2)
    assert len(first.variations) == 2 and first.seed == 11
    assert first.variations == again.variations
    assert (first.start, first.end) == (0.0, 4.0)
    notes = [n for v in first.variations for n in v]
    assert notes and all(0.0 <= n.start < 4.0 and n.end <= 4.0 + 1e-9 for n in notes)


def test_continue_starts_after_the_clip(client):
    given = clip(6)  # ends at beat 3: continue from bar 2
    result = client.request("continue", given, bars=1, tempo=150.0, seed=2, whole=True)
    assert (result.start, result.end) == (4.0, 8.0)
    whole = result.variations[0]
    assert all(n in whole for n in given)
    new = [n for n in whole if n not in given]
    assert new and all(4.0 <= n.start < 8.0 for n in new)


def test_infill_keeps_what_lies_outside_the_span(client):
    given = clip(24)  # beats 0..12
    result = client.request("infill", given, start_bar=2, end_bar=2, tempo=150.0, seed=3, whole=True)
    assert (result.start, result.end) == (4.0, 8.0)
    outside = [n for n in given if not 4.0 <= n.start < 8.0]
    whole = result.variations[0]
    assert all(n in whole for n in outside)
    assert result.removed == len(given) - len(outside)
    new = [n for n in whole if n not in given]
    assert new and all(4.0 <= n.start < 8.0 for n in new)


def test_accompany_writes_other_parts(client):
    piano = clip(8, instrument=0)
    result = client.request("accompany", piano, tempo=150.0, seed=4, given=[0], max_tokens=60)
    assert (result.start, result.end) == (0.0, 4.0)
    assert result.variations[0] and all(n.instrument != 0 for n in result.variations[0])


def test_streamed_notes_are_the_result(client):
    streamed: list[tuple[int, Note]] = []
    progress: list[float] = []
    result = client.request("generate", bars=1, tempo=120.0, seed=5, variations=2,
                            on_note=lambda v, n: streamed.append((v, n)),
                            on_progress=lambda f, count: progress.append(f))
    for v, notes in enumerate(result.variations):
        assert sorted((n for w, n in streamed if w == v), key=lambda n: (n.start, n.pitch)) == \
            sorted(notes, key=lambda n: (n.start, n.pitch))
    assert progress and progress[-1] == pytest.approx(1.0)


def test_seconds_and_grid(client):
    result = client.generate(units="seconds", tempo=120.0, start=1.0, end=3.0, grid="1/8", seed=6)
    assert (result.start, result.end) == (1.0, 3.0)
    for n in result.variations[0]:
        assert 1.0 <= n.start < 3.0
        # 1/8 at 120 bpm is a quarter of a second, counted from the span start
        assert (n.start - 1.0) / 0.25 == pytest.approx(round((n.start - 1.0) / 0.25), abs=1e-6)


def test_reply_port_sends_replies_elsewhere(daemon):
    """Max's udpsend cannot receive: replies go to the port named in the request."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5.0)
    sender = Raw(daemon.port)
    try:
        sender.send(P.PING, 42, listener.getsockname()[1])
        address, args = decode_datagram(listener.recv(65536))[0]
        assert address == P.PONG and args[0] == 42
        sender.send(P.GENERATE, "take-1", listener.getsockname()[1], "bars", 1, "tempo", 200.0, "seed", 1)
        seen = []
        while not seen or seen[-1] != P.DONE:
            address, args = decode_datagram(listener.recv(65536))[0]
            assert args[0] == "take-1"
            seen.append(address)
        assert seen[0] == P.ACCEPTED and P.STARTED in seen and P.RESULT in seen
    finally:
        listener.close()
        sender.close()


# ----- several clients, the queue, cancel -----------------------------------------------------


def test_several_clients_at_once(daemon):
    results: dict[int, object] = {}

    def one(i: int) -> None:
        with Client(daemon.port) as c:
            try:
                results[i] = c.generate(f"piece {i}", bars=1, tempo=180.0, seed=i)
            except Exception as error:  # noqa: BLE001 - checked below
                results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 1, 2, 3]
    for i, result in results.items():
        assert not isinstance(result, Exception), result
        assert result.seed == i


def test_cancel_waiting_and_running(client):
    running = client.submit("generate", seed=1, **LONG)
    assert client.next_reply(running, [P.STARTED], timeout=10) is not None
    waiting = client.submit("generate", seed=2, bars=1)
    accepted = client.next_reply(waiting, [P.ACCEPTED])
    assert accepted is not None and accepted[1][1] == 1  # one job ahead
    assert client.status()["running_id"] == str(running)
    assert client.cancel(waiting) == ["queued"]
    with pytest.raises(DaemonError) as caught:
        client.wait(waiting, timeout=5)
    assert caught.value.code == "cancelled" and "before it started" in caught.value.message
    assert client.cancel(running) == ["running"]
    with pytest.raises(DaemonError) as caught:
        client.wait(running, timeout=10)  # the bound: a cancelled job answers, it does not run to the end
    assert caught.value.code == "cancelled"
    with pytest.raises(DaemonError) as caught:
        client.cancel(running)
    assert caught.value.code == "not_found"
    assert client.ping()["state"] == "ready"


def test_queue_full_then_cancel_all(client):
    ids = [client.submit("generate", seed=1, **LONG)]
    assert client.next_reply(ids[0], [P.STARTED], timeout=10) is not None
    ids += [client.submit("generate", seed=s, bars=1) for s in range(4)]
    for request_id in ids[1:]:
        assert client.next_reply(request_id, [P.ACCEPTED]) is not None
    extra = client.submit("generate", bars=1)
    with pytest.raises(DaemonError) as caught:
        client.wait(extra, timeout=5)
    assert caught.value.code == "queue_full" and "limits.queue_length" in caught.value.message
    states = client.cancel("*")
    assert sorted(states) == ["queued"] * 4 + ["running"]
    for request_id in ids:
        with pytest.raises(DaemonError, match="cancelled"):
            client.wait(request_id, timeout=10)


def test_a_repeated_id_is_refused_while_the_first_runs(client):
    client.submit("generate", request_id="same", seed=1, **LONG)
    assert client.next_reply("same", [P.STARTED], timeout=10) is not None
    client.submit("generate", request_id="same", bars=1)
    reply = client.next_reply("same", [P.ERROR])
    assert reply is not None and reply[1][1] == "bad_request" and "already waiting or running" in reply[1][2]
    client.cancel("same")
    with pytest.raises(DaemonError, match="cancelled"):
        client.wait("same", timeout=10)


# ----- chunks ---------------------------------------------------------------------------------


def test_request_and_result_larger_than_a_datagram(client):
    given = clip(300, spacing=0.125)  # 300 notes: about 15 request chunks of 1,024 bytes
    result = client.request("continue", given, bars=1, tempo=180.0, seed=7, whole=True)
    whole = result.variations[0]
    assert len(whole) > 300
    assert all(n in whole for n in given)


def test_a_lost_request_chunk_is_named(raw):
    given = clip(60)
    atoms = [note_to_atoms(n) for n in given]
    raw.send(P.CONTINUE, 77, 0, "notes", 60, "bars", 1)
    for index, start in enumerate(range(0, 60, 20)):
        if index != 1:
            raw.send(P.NOTES, 77, index, 3, *[a for note_atoms in atoms[start:start + 20] for a in note_atoms])
    args = raw.expect(P.ERROR, timeout=5)  # chunk_timeout_seconds is 0.5 here
    assert args[:2] == [77, "missing_chunk"]
    assert "chunk 1 of 3 never arrived" in args[2] and args[3:] == [1]


def test_a_lost_result_chunk_is_asked_for_again(daemon):
    class Lossy(Client):
        dropped = 0

        def _receive(self, timeout):
            message = super()._receive(timeout)
            if message and message[0] == P.RESULT and message[1][2] == 1 and not self.dropped:
                Lossy.dropped += 1
                return ("", [])
            return message

    with Client(daemon.port) as plain, Lossy(daemon.port) as lossy:
        given = clip(120, spacing=0.125)
        expected = plain.request("continue", given, bars=1, tempo=180.0, seed=8, whole=True)
        got = lossy.request("continue", given, bars=1, tempo=180.0, seed=8, whole=True)
    assert Lossy.dropped == 1
    assert got.variations == expected.variations


# ----- abuse: the daemon answers or drops, and keeps serving -----------------------------------


@pytest.mark.parametrize("data", [b"\x00garbage", b"hello", bytes(range(256)) * 3, b"/midi-llm/ping\0\0,ii\0"])
def test_garbage_then_a_good_ping(raw, data):
    raw.send_bytes(data)
    raw.send(P.PING, 5, 0)
    assert raw.expect(P.PONG)[0] == 5


@pytest.mark.parametrize("address, args, code, words", [
    ("/midi-llm/bogus", [1, 0], "unknown_address", "does not know '/midi-llm/bogus'"),
    ("/other/thing", [1, 0], "unknown_address", "protocol 1"),
    (P.GENERATE, [1, 0, "bars", "four"], "bad_request", "bars 'four'"),
    (P.GENERATE, [1, 0, "tempo", math.nan], "bad_request", "tempo nan"),
    (P.GENERATE, [1, 0, "tempo", math.inf], "bad_request", "tempo inf"),
    (P.GENERATE, [1, 0, "bars", 500], "too_large", "limits.max_bars"),
    (P.GENERATE, [1, 0, "variations", 99], "too_large", "limits.max_variations"),
    (P.GENERATE, [1, 0, "notes", 10**6], "too_large", "limits.max_notes_in"),
    (P.GENERATE, [1, 0, "seed", -5], "bad_request", "seed -5"),
    (P.GENERATE, [1, 0, "colour", "blue"], "bad_request", "unknown option 'colour'"),
    (P.GENERATE, [1.5, 0], "bad_request", "request id 1.5"),
    (P.GENERATE, [1], "bad_request", "at least: id reply_port"),
    (P.INFILL, [1, 0, "bars", 2], "bad_request", "infill needs the span"),
    (P.CANCEL, [1, 0, 123456], "not_found", "no request 123456"),
    (P.RESEND, [1, 0, 0, 0], "not_found", "no longer kept"),
])
def test_bad_requests_get_an_error_reply(raw, address, args, code, words):
    raw.send(address, *args)
    reply = raw.expect(P.ERROR)
    assert reply[1] == code and words in reply[2], reply
    raw.send(P.PING, 6, 0)
    assert raw.expect(P.PONG)[0] == 6


def test_a_bad_note_in_a_chunk_is_answered(raw):
    raw.send(P.CONTINUE, 9, 0, "notes", 2)
    raw.send(P.NOTES, 9, 0, 1, 60, 0.0, 1.0, 100, 0, 0, 0, 200, 1.0, 1.0, 100, 0, 0, 0)
    reply = raw.expect(P.ERROR)
    assert reply[:2] == [9, "bad_request"] and "note 2: pitch 200 must be 0..127" in reply[2]


def test_a_datagram_over_the_limit_is_too_large(raw):
    raw.send(P.GENERATE, 3, 0, "prompt", "x" * 1100)
    reply = raw.expect(P.ERROR)
    assert reply[:2] == [3, "too_large"] and "1024-byte limit" in reply[2]


def test_replies_sent_to_the_daemon_are_ignored(raw):
    raw.send(P.PONG, 1, 1, "0.1.0")
    raw.send(P.ERROR, 1, "bad_request", "loop")
    raw.send(P.PING, 8, 0)
    assert raw.expect(P.PONG)[0] == 8


# ----- secret and shutdown --------------------------------------------------------------------


def test_a_configured_secret_is_required(dense_engine):
    with DaemonThread(daemon_config(osc__secret="s3cret"), engine=dense_engine) as guarded:
        with Client(guarded.port) as anonymous:
            with pytest.raises(DaemonError) as caught:
                anonymous.ping()
            assert caught.value.code == "unauthorized"
            with pytest.raises(DaemonError, match="unauthorized"):
                anonymous.generate(bars=1)
        with Client(guarded.port, secret="wrong") as wrong:
            with pytest.raises(DaemonError, match="unauthorized"):
                wrong.status()
        with Client(guarded.port, secret="s3cret") as friend:
            assert friend.ping()["state"] == "ready"
            assert friend.generate(bars=1, tempo=200.0, seed=1).variations


def test_shutdown_tells_running_and_waiting_clients(dense_engine):
    running_daemon = DaemonThread(daemon_config(), engine=dense_engine).start()
    with Client(running_daemon.port) as c:
        first = c.submit("generate", seed=1, **LONG)
        assert c.next_reply(first, [P.STARTED], timeout=10) is not None
        second = c.submit("generate", seed=2, bars=1)
        assert c.next_reply(second, [P.ACCEPTED]) is not None
        running_daemon.stop()
        assert running_daemon.exit_code == 0
        for request_id in (first, second):
            with pytest.raises(DaemonError) as caught:
                c.wait(request_id, timeout=5)
            assert caught.value.code == "shutting_down"
        with pytest.raises(DaemonError) as caught:
            c.ping(timeout=1.0)
        assert caught.value.code == "not_running"
