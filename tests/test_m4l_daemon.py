"""The Max for Live device and the MIDI Tools bring the daemon up themselves and show its state.

Under node (tests/m4l/daemon_scenarios.js): the real launcher, run in its own process as Live's
node.script runs it, starts the real ``midi-llm-bridge serve`` of this checkout's .venv on the
dense tiny checkpoint (daemon down -> started, detached, the request then succeeds; two clients at
once start one daemon; closing Live leaves it running, no zombie), and a scripted daemon on UDP
walks through the states of a first start (downloading, loading, warming_up, ready; error, then
/reload) for the status line. The JavaScript reads the replies' fields by the daemon's one table.
"""

from __future__ import annotations

import json
import sys

import pytest

from bridge import protocol as P
from bridge.protocol.replies import REPLIES
from tests.daemon_process import ROOT
from tests.m4l_support import ENV, M4L, NODE, needs_node, run_scenario

VENV_PROGRAM = ROOT / ".venv" / "bin" / "midi-llm-bridge"
needs_posix_venv = pytest.mark.skipif(
    sys.platform.startswith("win") or not VENV_PROGRAM.is_file(),
    reason="needs this checkout's .venv/bin/midi-llm-bridge (make run creates it) and /proc")


def scenario(name: str, tmp_path, env: dict | None = None, timeout: float = 90) -> str:
    full = dict(ENV, MIDI_LLM_BRIDGE_STATE_DIR=str(tmp_path / "state"), **(env or {}))
    return run_scenario("daemon_scenarios.js", name, env=full, timeout=timeout)


@needs_node
def test_the_javascript_reads_each_reply_field_at_the_tables_index():
    """Every field the client reads by name sits where bridge/protocol/replies.py puts it; names the
    table does not have yet may only follow at the end (fields are only ever appended)."""
    import subprocess

    load = "".join(f"vm.runInContext(fs.readFileSync({json.dumps(str(M4L / 'src' / name))}, 'utf8'), c); "
                   for name in ("midi_llm_core.js", "midi_llm_limits.js"))
    reader = ("const vm = require('vm'), fs = require('fs'); const c = vm.createContext({}); " + load +
              "process.stdout.write(JSON.stringify(c.MidiLLM.REPLY_FIELDS));")
    done = subprocess.run([NODE, "-e", reader], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    for key, address in (("pong", P.PONG), ("info", P.INFO)):
        table = REPLIES[address].names()
        js = fields[key]
        known = [name for name in js if name in table]
        assert known == js[:len(known)], f"{key}: names the table lacks must come last: {js}"
        assert known == table[:len(known)], f"{key}: {js} against the table {table}"
        assert "state" in known and "message" in known


@needs_node
def test_where_the_launcher_looks_on_each_os(tmp_path):
    assert scenario("launcher_paths", tmp_path).startswith("ok launcher_paths")


@needs_node
def test_with_nothing_to_start_the_status_says_where_it_looked_and_what_to_do(tmp_path):
    assert scenario("nothing_to_start", tmp_path).startswith("ok nothing_to_start")


@needs_node
@pytest.mark.parametrize("name", ["device_shows_the_load", "tool_shows_the_load", "error_then_reload"])
def test_the_states_of_a_load_appear_in_order_in_the_status_line(tmp_path, name):
    assert scenario(name, tmp_path).startswith(f"ok {name}")


def daemon_env(model_dir) -> dict:
    """What the started daemon reads: the tiny checkpoint, on the CPU, without warm-up, offline."""
    return {"MIDI_LLM_BRIDGE__MODEL__ID": str(model_dir), "MIDI_LLM_BRIDGE__MODEL__DEVICE": "cpu",
            "MIDI_LLM_BRIDGE__MODEL__WARMUP": "false", "HF_HUB_OFFLINE": "1"}


@pytest.mark.slow
@needs_node
@needs_posix_venv
def test_daemon_down_the_device_starts_it_detached_and_the_request_succeeds(tmp_path, dense_midi_llm_dir):
    output = scenario("start_then_generate", tmp_path, daemon_env(dense_midi_llm_dir), timeout=240)
    assert output.startswith("ok start_then_generate"), output


@pytest.mark.slow
@needs_node
@needs_posix_venv
def test_the_launcher_remembers_the_secret_and_starts_the_daemon_with_it(tmp_path, dense_midi_llm_dir):
    output = scenario("start_with_the_secret_then_generate", tmp_path, daemon_env(dense_midi_llm_dir), timeout=240)
    assert output.startswith("ok start_with_the_secret_then_generate"), output


@pytest.mark.slow
@needs_node
@needs_posix_venv
def test_two_clients_at_once_start_one_daemon(tmp_path, dense_midi_llm_dir):
    output = scenario("two_clients_one_daemon", tmp_path, daemon_env(dense_midi_llm_dir), timeout=240)
    assert output.startswith("ok two_clients_one_daemon"), output
