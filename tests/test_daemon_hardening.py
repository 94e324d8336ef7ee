"""The daemon's contract under abuse (issue 15), each rule checked with a real peer on loopback.

The secret comes first for every address; every request ends with exactly one final reply;
one client host cannot starve the others; malformed input of any shape gets an error in
words; a model that cannot be loaded leaves the daemon up and says why.
"""

from __future__ import annotations

import math
import random
import socket
import time

import pytest

from bridge import protocol as P
from bridge.client import Client
from bridge.daemon.server import DaemonThread
from bridge.protocol.osc import encode_bundle, encode_message
from bridge.protocol.replies import field_meaning
from tests.daemon_peers import Dump, Raw, daemon_config, needs_liblo, oscsend
from tests.daemon_process import ROOT

pytestmark = pytest.mark.slow

SECRET = "s3cret-token"
FINAL = (P.DONE, P.ERROR)


@pytest.fixture(scope="module")
def open_daemon(dense_engine):
    with DaemonThread(daemon_config(), engine=dense_engine) as running:
        yield running


@pytest.fixture(scope="module")
def guarded(dense_engine):
    config = daemon_config(osc__secret=SECRET)
    config["osc"]["max_datagram_bytes"] = 8192
    with DaemonThread(config, engine=dense_engine) as running:
        yield running


@pytest.fixture
def dump():
    d = Dump()
    yield d
    d.close()


def finals_for(messages, request_id):
    return [(a, args) for a, args in messages if a in FINAL and args and args[0] == request_id]


# ----- 1. the secret comes first, for every address -------------------------------------------


@needs_liblo
def test_without_the_secret_a_bad_value_is_unauthorized_not_validated(guarded, dump):
    oscsend(guarded.port, "/midi-llm/generate", "iisf", 20, dump.port, "tempo", "nan")
    line = dump.wait_for("/midi-llm/error")[-1]
    assert "unauthorized" in line and "tempo" not in line and "bad_request" not in line


REQUEST_ADDRESSES = [P.PING, P.STATUS, P.GENERATE, P.CONTINUE, P.INFILL, P.ACCOMPANY, P.CANCEL, P.RESEND,
                     P.TRANSPORT, P.PREFIX + "/reload", P.PREFIX + "/bogus", "/other/thing"]
JUNK = [0, 1, -7, 2.5, math.nan, math.inf, "tempo", "colour", "secret", "bars", "", "x" * 90, 10**12]


def test_every_unauthorized_message_gets_unauthorized_and_nothing_else(guarded):
    """Random addresses and arguments, without the secret or with a wrong one: one small reply each."""
    rng = random.Random(15)
    raw = Raw(guarded.port)
    try:
        for round_number in range(60):
            address = rng.choice(REQUEST_ADDRESSES)
            args = [round_number + 1000, 0] + [rng.choice(JUNK) for _ in range(rng.randrange(0, 8))]
            if rng.random() < 0.5:
                args += ["secret", rng.choice(["wrong", SECRET + "x", "", "S"])]
            raw.send(address, *args)
            replies = raw.until_pong(f"sync-{round_number}", secret=SECRET)
            assert len(replies) == 1, (address, args, replies)
            reply_address, reply = replies[0]
            assert reply_address == P.ERROR and reply[1] == "unauthorized", (address, args, reply)
            assert reply[0] == round_number + 1000
            assert len(encode_message(reply_address, reply)) <= 256
            assert "known:" not in reply[2]
    finally:
        raw.close()


def test_an_unauthorized_bundle_draws_one_small_reply(guarded):
    raw = Raw(guarded.port)
    try:
        messages = [encode_message(P.GENERATE, [i, 0, "colour", "blue", "tempo", math.nan]) for i in range(100)]
        bundle = encode_bundle(messages)
        assert 4000 < len(bundle) < 8192
        raw.send_bytes(bundle)
        replies = raw.until_pong("sync", secret=SECRET)
        assert len(replies) == 1 and replies[0][1][1] == "unauthorized"
        assert raw.received_bytes <= 512  # the one reply and the pong
    finally:
        raw.close()


def test_the_right_secret_anywhere_among_the_options_is_accepted(guarded):
    raw = Raw(guarded.port)
    try:
        raw.send(P.GENERATE, 31, 0, "bars", 1, "secret", SECRET, "tempo", 200.0, "seed", 1)
        assert raw.expect(P.DONE, timeout=30)[0] == 31
        raw.send(P.GENERATE, 32, 0, "secret", SECRET, "tempo", math.nan)
        reply = raw.expect(P.ERROR)
        assert reply[:2] == [32, "bad_request"] and "tempo nan" in reply[2]
    finally:
        raw.close()


# ----- 2. resend with bad numbers --------------------------------------------------------------


@needs_liblo
def test_resend_with_bad_numbers_is_a_bad_request(open_daemon, dump):
    with Client(open_daemon.port) as client:
        client.request("generate", request_id=7, bars=1, tempo=200.0, seed=1)
    oscsend(open_daemon.port, "/midi-llm/resend", "iifi", 7, dump.port, "inf", 0)
    line = dump.wait_for("/midi-llm/error")[-1]
    assert "bad_request" in line and "variation" in line
    raw = Raw(open_daemon.port)
    try:
        for variation, chunk in ((math.nan, 0), ("one", 0), (0, math.inf), (0, "all"), (0.5, 0)):
            raw.send(P.RESEND, 7, 0, variation, chunk)
            replies = raw.until_pong("sync")
            assert len(replies) == 1 and replies[0][0] == P.ERROR, replies
            assert replies[0][1][1] == "bad_request", replies
    finally:
        raw.close()


# ----- 3. an oversize /notes chunk ends its request --------------------------------------------


@pytest.mark.parametrize("then_send_the_right_chunk", [False, True])
def test_an_oversize_chunk_ends_its_request_with_one_reply(open_daemon, then_send_the_right_chunk):
    raw = Raw(open_daemon.port)
    try:
        request_id = 40 + int(then_send_the_right_chunk)
        raw.send(P.CONTINUE, request_id, 0, "notes", 1, "bars", 1, "tempo", 200.0)
        raw.send(P.NOTES, request_id, 0, 1, 60, 0.0, 1.0, 100, 0, 0, -1, *([0] * 300))  # over 1,024 bytes
        if then_send_the_right_chunk:
            raw.send(P.NOTES, request_id, 0, 1, 60, 0.0, 1.0, 100, 0, 0, -1)
        seen = raw.until_pong("first")
        time.sleep(1.5)  # three chunk timeouts: a request left alive would now get missing_chunk
        seen += raw.until_pong("second")
        mine = [(a, args) for a, args in seen if args and args[0] == request_id]
        assert finals_for(mine, request_id) == mine, mine
        assert len(mine) == 1 and mine[0][1][1] == "too_large", mine
    finally:
        raw.close()


# ----- 5. incomplete requests are limited per client host --------------------------------------


def test_one_host_with_many_incomplete_requests_leaves_room_for_the_others(dense_engine):
    config = daemon_config()
    config["limits"]["chunk_timeout_seconds"] = 60.0
    try:
        flooder = Raw(0, bind="127.0.0.2")
    except OSError:
        pytest.skip("this machine has no 127.0.0.2 on its loopback interface")
    with DaemonThread(config, engine=dense_engine) as daemon:
        flooder.port = daemon.port
        try:
            answers = []
            for i in range(300):
                flooder.send(P.CONTINUE, i, 0, "notes", 3)  # the chunks never come
                if i % 50 == 49:  # in rounds, so that no buffer on the way overflows
                    answers += flooder.until_pong(f"sync-{i}")
            refused = [args for a, args in answers if a == P.ERROR]
            assert refused and all(args[1] == "too_large" and "127.0.0.2" not in args[2] and
                                   "incomplete" in args[2] for args in refused)
            with Client(daemon.port, max_datagram_bytes=1024) as other:
                assert other.generate(bars=1, tempo=200.0, seed=1).variations is not None
                given = [(60, 0.0, 1.0, 100.0, 0, 0, -1)] * 2
                assert other.request("continue", given, bars=1, tempo=200.0, seed=1).variations is not None
        finally:
            flooder.close()


def test_a_request_without_notes_never_waits_for_room(dense_engine):
    config = daemon_config()
    config["limits"]["chunk_timeout_seconds"] = 60.0
    with DaemonThread(config, engine=dense_engine) as daemon:
        raw = Raw(daemon.port)
        try:
            for i in range(300):
                raw.send(P.CONTINUE, f"stuck-{i}", 0, "notes", 3)
                if i % 50 == 49:
                    raw.until_pong(f"sync-{i}")
            raw.send(P.GENERATE, "free", 0, "bars", 1, "tempo", 200.0, "seed", 2)
            assert raw.expect(P.ACCEPTED)[0] == "free"
        finally:
            raw.close()


# ----- 6. bundles nested too deep --------------------------------------------------------------


def nested(message: bytes, depth: int) -> bytes:
    data = message
    for _ in range(depth):
        data = encode_bundle([data])
    return data


def test_bundles_beyond_the_nesting_limit_get_an_error(open_daemon):
    raw = Raw(open_daemon.port)
    try:
        raw.send_bytes(nested(encode_message(P.PING, [60, 0]), P.MAX_BUNDLE_DEPTH))
        assert raw.expect(P.PONG)[0] == 60
        for depth in (P.MAX_BUNDLE_DEPTH + 1, 10, 40, 2000):
            raw.send_bytes(nested(encode_message(P.PING, [61, 0]), depth))
            replies = raw.until_pong(f"sync-{depth}")
            assert [a for a, _ in replies] == [P.ERROR], (depth, replies)
            code, message = replies[0][1][1:3]
            assert code == "bad_request" and f"at most {P.MAX_BUNDLE_DEPTH}" in message
    finally:
        raw.close()


# ----- 8. the queue position -------------------------------------------------------------------


def test_queue_position_counts_the_running_job(open_daemon):
    with Client(open_daemon.port) as client:
        idle = client.submit("generate", bars=1, tempo=200.0, seed=1)
        assert client.next_reply(idle, [P.ACCEPTED])[1][1] == 0
        client.wait(idle, timeout=30)
        running = client.submit("generate", seed=1, bars=100, tempo=60.0)
        assert client.next_reply(running, [P.STARTED], timeout=10) is not None
        behind = [client.submit("generate", seed=s, bars=1) for s in range(2)]
        positions = [client.next_reply(r, [P.ACCEPTED])[1][1] for r in behind]
        assert positions == [1, 2]
        client.cancel("*")
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert field_meaning(P.ACCEPTED, "position") in doc
    assert "it runs next or now" not in doc


# ----- 4. IPv6 listening, with the same secret rule --------------------------------------------


def have_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not have_ipv6_loopback(), reason="no IPv6 loopback on this machine")
@pytest.mark.parametrize("host, secret", [("::1", None), ("::", SECRET)])
def test_the_daemon_listens_on_ipv6(dense_engine, host, secret):
    config = daemon_config(osc__host=host, osc__secret=secret)
    with DaemonThread(config, engine=dense_engine) as daemon:
        raw = Raw(daemon.port, bind="::1", daemon_host="::1")
        try:
            raw.send(P.PING, 70, 0, *(["secret", secret] if secret else []))
            assert raw.expect(P.PONG)[0] == 70
            if secret:
                raw.send(P.PING, 71, 0)
                assert raw.expect(P.ERROR)[1] == "unauthorized"
        finally:
            raw.close()
        with Client(daemon.port, host="::1", secret=secret) as client:
            assert client.generate(bars=1, tempo=200.0, seed=1).variations is not None

