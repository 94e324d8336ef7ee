"""``midi-llm-bridge serve`` as a process: a model that cannot be loaded, IPv6 hosts from the command line.

A daemon whose model failed to load stays up and says why (the log's sentence) in ping and
status, refuses jobs with that sentence, and loads again when a client asks (after the user
fixed the cause) without a restart.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from bridge import protocol as P
from bridge.client import Client, DaemonError
from bridge.protocol.replies import read_reply
from tests.daemon_peers import Dump, Raw, needs_liblo, oscsend
from tests.daemon_process import ENV, ROOT, DaemonProcess

pytestmark = pytest.mark.slow


def wait_for_state(port: int, state: str, timeout: float = 120.0) -> dict:
    """Ping until the daemon reports ``state`` (a bounded poll: the reload takes as long as it takes)."""
    deadline = time.monotonic() + timeout
    with Client(port) as client:
        while True:
            pong = client.ping()
            if pong["state"] == state or time.monotonic() > deadline:
                return pong
            time.sleep(0.2)


@needs_liblo
def test_a_model_that_cannot_be_loaded_leaves_the_daemon_up_and_a_reload_fixes_it(tmp_path, dense_midi_llm_dir):
    later = tmp_path / "checkpoint-copied-later"
    daemon = DaemonProcess(later)
    dump = Dump()
    try:
        logged = daemon.wait_for("the model could not be loaded")
        oscsend(daemon.port, "/midi-llm/ping", "ii", 1, dump.port)
        pong = dump.wait_for("/midi-llm/pong")[-1]
        assert '"error"' in pong and str(later) in pong
        with Client(daemon.port) as client:
            status = client.ping()
            assert status["state"] == "error" and status["message"] and status["message"] in logged
            assert "/midi-llm/reload" in status["message"] or "reload" in status["message"]
            info = client.status()
            assert info["state"] == "error" and info["message"] == status["message"]
            with pytest.raises(DaemonError) as caught:
                client.generate(bars=1, tempo=200.0, seed=1, timeout=10)
            assert caught.value.code == "model_error" and caught.value.message == status["message"]
            later.symlink_to(dense_midi_llm_dir)  # the user fixes the cause
            again = client.reload()
            assert again["state"] in ("loading", "ready")
        daemon.wait_ready()
        assert wait_for_state(daemon.port, "ready")["message"] == ""
        with Client(daemon.port) as client:
            assert client.generate(bars=1, tempo=200.0, seed=1).variations is not None
            assert client.reload()["state"] == "ready"  # nothing to retry: a no-op
        assert daemon.process.poll() is None
    finally:
        dump.close()
        daemon.stop()
    assert daemon.process.returncode == 0


def test_jobs_waiting_while_the_load_fails_get_its_sentence(tmp_path):
    daemon = DaemonProcess(tmp_path / "nowhere")
    raw = Raw(daemon.port)
    try:
        daemon.wait_for("listening on udp")
        raw.send(P.GENERATE, "early", 0, "bars", 1)
        finals = []
        deadline = time.monotonic() + 90
        while not finals and time.monotonic() < deadline:
            seen = raw.until_pong(f"sync-{len(finals)}")
            finals = [args for a, args in seen if a in (P.DONE, P.ERROR) and args[0] == "early"]
            time.sleep(0.1)
        assert len(finals) == 1 and finals[0][1] == "model_error" and "nowhere" in finals[0][2]
        pong = read_reply(P.PONG, _ping(raw))
        assert pong["state"] == "error"
    finally:
        raw.close()
        daemon.stop()


def _ping(raw: Raw) -> list:
    raw.send(P.PING, "state", 0)
    return raw.expect(P.PONG)


def test_serve_on_all_ipv6_interfaces_without_a_secret_is_refused_by_the_rule():
    for how in (["--host", "::"], []):
        env = dict(ENV, MIDI_LLM_BRIDGE__OSC__HOST="::") if not how else ENV
        done = subprocess.run([sys.executable, "-m", "bridge", "serve", *how], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=60)
        assert done.returncode == 2, done.stderr
        assert "'::'" in done.stderr and "loopback" in done.stderr and "osc.secret" in done.stderr
        assert "Traceback" not in done.stderr and "{':': None}" not in done.stderr


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_serve_with_host_double_colon_and_a_secret_answers_on_ipv6(dense_midi_llm_dir):
    daemon = DaemonProcess(dense_midi_llm_dir, "--host", "::", "--set", "osc.secret=123")
    try:
        daemon.wait_ready()
        with Client(daemon.port, host="::1", secret="123") as client:
            assert client.ping()["state"] == "ready"
        with Client(daemon.port, host="::1") as anonymous:
            with pytest.raises(DaemonError, match="unauthorized"):
                anonymous.ping()
    finally:
        daemon.stop()
