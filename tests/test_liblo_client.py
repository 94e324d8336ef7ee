"""liblo's oscsend/oscdump (Debian liblo-tools) as a third-party client: the protocol is plain OSC."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest

from bridge.config import defaults
from bridge.daemon.server import DaemonThread

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("oscsend") and shutil.which("oscdump")),
                       reason="liblo-tools (oscsend, oscdump) not installed: `make system-deps`"),
]


@pytest.fixture(scope="module")
def daemon(dense_engine):
    config = defaults()
    config["osc"]["port"] = 0
    config["model"]["id"] = "dense tiny checkpoint"
    with DaemonThread(config, engine=dense_engine) as running:
        yield running


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dump:
    """oscdump listening on a port, its lines collected by a thread."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(["oscdump", "-L", str(self.port)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self._wait_until_bound()

    def _wait_until_bound(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", self.port))
                except OSError:  # oscdump holds the port: it is listening
                    return
            time.sleep(0.02)
        raise AssertionError("oscdump did not start listening")

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, address: str, timeout: float = 10.0) -> list[str]:
        """Lines up to and including the first one for ``address`` (the time tag cut off)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            line = line.split(" ", 1)[1] if line and not line.startswith("/") else line
            seen.append(line)
            if line.startswith(address + " "):
                return seen
        raise AssertionError(f"oscdump saw no {address} within {timeout} s; it saw {seen}")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(5)


@pytest.fixture
def dump():
    d = Dump()
    yield d
    d.close()


def oscsend(port: int, address: str, types: str, *values) -> None:
    subprocess.run(["oscsend", "127.0.0.1", str(port), address, types, *map(str, values)], check=True, timeout=10)


def test_ping_with_oscsend(daemon, dump):
    oscsend(daemon.port, "/midi-llm/ping", "ii", 7, dump.port)
    line = dump.wait_for("/midi-llm/pong")[-1]
    parts = line.split()
    assert parts[0] == "/midi-llm/pong" and parts[1].startswith("ii")
    assert parts[2] == "7" and parts[3] == "1" and '"ready"' in line


def test_generate_with_oscsend(daemon, dump):
    oscsend(daemon.port, "/midi-llm/generate", "iisssisisf", 8, dump.port, "prompt", "jazz", "bars", 1,
            "seed", 3, "tempo", 200.0)
    lines = dump.wait_for("/midi-llm/done")
    assert lines[0].startswith("/midi-llm/accepted ii 8 0")
    results = [line.split() for line in lines if line.startswith("/midi-llm/result ")]
    assert results
    for parts in results:
        values = parts[2:]
        assert values[0] == "8"
        count = (len(values) - 5) // 7
        assert len(values) == 5 + 7 * count and int(values[4]) == count  # one chunk holds every note


def test_continue_with_a_notes_chunk_from_oscsend(daemon, dump):
    oscsend(daemon.port, "/midi-llm/continue", "iisisisisf", 9, dump.port, "notes", 2, "bars", 1, "seed", 4,
            "tempo", 200.0)
    oscsend(daemon.port, "/midi-llm/notes", "iiiiffiiiiiffiiii", 9, 0, 1,
            60, 0.0, 1.0, 100, 0, 0, -1, 64, 1.0, 1.0, 100, 0, 0, -1)
    lines = dump.wait_for("/midi-llm/done")
    done = lines[-1].split()
    assert done[2] == "9" and float(done[-2]) == 4.0 and float(done[-1]) == 8.0


def test_a_bad_value_from_oscsend_gets_an_error(daemon, dump):
    oscsend(daemon.port, "/midi-llm/generate", "iissf", 10, dump.port, "bars", "tempo", 120.0)
    line = dump.wait_for("/midi-llm/error")[-1]
    assert "bad_request" in line and "bars 'tempo'" in line
