"""The device and the MIDI Tools talk to a daemon that has a secret (osc.secret, docs/protocol.md section 2).

A real daemon on loopback started with ``--set osc.secret=...``; the device's and the tools' JavaScript
under node (tests/m4l/secret_scenarios.js). With the daemon's secret typed into Secret, ping, status, a
request, cancel and resend all work, every message but a /notes chunk ending with ``secret <token>``;
without it, or with another one, the daemon answers ``unauthorized`` and the status line says what to
type where, and no second daemon is started.
"""

from __future__ import annotations

import pytest

from tests.daemon_process import ENV, DaemonProcess
from tests.m4l_support import NODE, needs_node, run_scenario
from tests.peers import missing_peer

SECRET = "s3cr3t token"


@pytest.fixture(scope="module")
def secret_daemon(dense_midi_llm_dir):
    if NODE is None:
        missing_peer("node 16+ not installed (`make system-deps`)")
    running = DaemonProcess(dense_midi_llm_dir, "--set", f"osc.secret={SECRET}", "--set", "osc.host=127.0.0.1")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def scenario(name: str, port: int) -> str:
    return run_scenario("secret_scenarios.js", name, port, env=dict(ENV, M4L_SECRET=SECRET))


@needs_node
@pytest.mark.parametrize("name", ["device_without_the_secret", "device_with_another_secret"])
def test_without_the_daemons_secret_the_status_line_says_what_to_type(secret_daemon, name):
    assert scenario(name, secret_daemon.port).startswith(f"ok {name}")


@pytest.mark.slow
@needs_node
@pytest.mark.parametrize("name", ["device_with_the_secret", "tool_with_the_secret"])
def test_with_the_secret_ping_status_request_cancel_and_resend_work(secret_daemon, name):
    assert scenario(name, secret_daemon.port).startswith(f"ok {name}")
