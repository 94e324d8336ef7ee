"""A client that gives up cancels its job: `request --timeout` and Ctrl-C leave no job running in the daemon.

A real daemon process and the real command-line client; what the daemon did with the
request is read from its own log line for that request (cancelled or done).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.daemon_process import ENV, ROOT, DaemonProcess

pytestmark = pytest.mark.slow

LONG_JOB = ["--prompt", "x", "--bars", "128", "--tempo", "60", "--variations", "8", "--max-new-tokens", "6000"]


@pytest.fixture(scope="module")
def daemon(dense_midi_llm_dir):
    running = DaemonProcess(dense_midi_llm_dir, "--set", "sampling.max_new_tokens=6000")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def outcome(daemon: DaemonProcess, request_id: str) -> str:
    """The daemon's last word on ``request_id``: its "cancelled ..." or "done ..." log line."""
    while True:
        line = daemon.wait_for(f"request {request_id}", timeout=120)
        if "cancelled" in line or " done:" in line or "failed" in line:
            return line


def request(daemon: DaemonProcess, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bridge", "request", "generate", "--port", str(daemon.port),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)


def test_a_request_that_times_out_is_cancelled_in_the_daemon(daemon):
    process = request(daemon, "--id", "4401", "--timeout", "0.5", *LONG_JOB)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 4, err
    assert "did not finish within 0.5 s" in err
    assert "cancelled" in outcome(daemon, "4401")


def test_ctrl_c_cancels_the_request_in_the_daemon(daemon, tmp_path):
    progress = tmp_path / "progress.txt"
    process = request(daemon, "--id", "4402", "--progress-file", str(progress), *LONG_JOB)
    while not (progress.exists() and "started" in progress.read_text()):
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "cancelled while running" in outcome(daemon, "4402")
