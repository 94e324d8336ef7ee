"""liblo's oscsend/oscdump (Debian liblo-tools) as a third-party client: the protocol is plain OSC."""

from __future__ import annotations

import pytest

from bridge.config import defaults
from bridge.daemon.server import DaemonThread
from tests.daemon_peers import Dump, needs_liblo, oscsend

pytestmark = [pytest.mark.slow, needs_liblo]


@pytest.fixture(scope="module")
def daemon(dense_engine):
    config = defaults()
    config["osc"]["port"] = 0
    config["model"]["id"] = "dense tiny checkpoint"
    with DaemonThread(config, engine=dense_engine) as running:
        yield running


@pytest.fixture
def dump():
    d = Dump()
    yield d
    d.close()


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
