"""`midi-llm-bridge serve` as a real process, and `midi-llm-bridge request` as scripts call it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from bridge.amt.midi_file import read_midi
from tests.daemon_process import DaemonProcess, free_port

pytestmark = pytest.mark.slow

ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", PYTHONUNBUFFERED="1")




def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge", *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout)


@pytest.fixture(scope="module")
def server(dense_midi_llm_dir):
    running = DaemonProcess(dense_midi_llm_dir)
    try:
        running.wait_for("ready:")
        yield running
    finally:
        running.stop()


def test_the_ready_line_says_what_was_loaded(server, dense_midi_llm_dir):
    ready = next(line for line in server.log if "ready:" in line)
    assert str(dense_midi_llm_dir) in ready
    for words in ("on cpu float32", f"127.0.0.1:{server.port}", "loaded in"):
        assert words in ready


def test_request_ping_never_loads_torch(server):
    """The client's start-up time is measured in benchmarks/roundtrip.py; here: it never imports torch."""
    done = cli("request", "ping", "--port", str(server.port))
    assert done.returncode == 0, done.stderr
    assert f"daemon on 127.0.0.1:{server.port}: ready, protocol 1" in done.stdout
    code = (f"import sys; from bridge.cli import main; rc = main(['request', 'ping', '--port', '{server.port}']); "
            "loaded = [m for m in ('torch', 'transformers') if m in sys.modules]; "
            "assert rc == 0 and not loaded, (rc, loaded)")
    subprocess.run([sys.executable, "-c", code], check=True, env=ENV, timeout=60, capture_output=True)


def test_status_as_json(server, tmp_path):
    out = tmp_path / "status.json"
    done = cli("request", "status", "--port", str(server.port), "--json", str(out))
    assert done.returncode == 0, done.stderr
    status = json.loads(out.read_text())
    assert status["status"] == "ok" and status["state"] == "ready" and status["max_notes_in"] == 4096


def test_generate_writes_mid_json_and_progress(server, tmp_path):
    mid, js, progress = tmp_path / "out.mid", tmp_path / "out.json", tmp_path / "progress.txt"
    done = cli("request", "generate", "--port", str(server.port), "--prompt", "a calm waltz", "--bars", "2",
               "--tempo", "180", "--time-sig", "3/4", "--seed", "5", "--variations", "2", "--grid", "1/8",
               "-o", str(mid), "--json", str(js), "--progress-file", str(progress))
    assert done.returncode == 0, done.stderr
    document = json.loads(js.read_text())
    assert document["status"] == "done" and document["mode"] == "generate"
    assert document["time_sig"] == "3/4" and document["tempo"] == 180
    assert (document["start"], document["end"]) == (0, 6)
    assert document["files"] == [str(mid), str(tmp_path / "out-2.mid")]
    assert len(document["variations"]) == 2
    for variation, path in zip(document["variations"], document["files"]):
        notes = variation["notes"]
        assert variation["count"] == len(notes) > 0
        for n in notes:
            assert set(n) == {"pitch", "start", "duration", "velocity", "instrument", "channel", "mute"}
            assert 0 <= n["start"] < 6 and 0 <= n["channel"] <= 15 and n["mute"] == 0
            assert (n["start"] * 2) == pytest.approx(round(n["start"] * 2))  # on the 1/8 grid
        content = read_midi(path)
        assert len(content.notes) == len(notes)
        assert str(content.time_signature) == "3/4"
        assert sorted(n.pitch for n in content.notes) == sorted(n["pitch"] for n in notes)
    lines = progress.read_text().splitlines()
    assert lines[0].startswith("sent ") and lines[1] == "accepted 0" and "started" in lines
    assert any(line.startswith("progress ") for line in lines) and lines[-1] == "done"


def test_infill_from_json_in_seconds(server, tmp_path):
    notes = [{"pitch": 60 + i % 12, "start": i * 0.25, "duration": 0.25, "velocity": 100, "channel": 0}
             for i in range(32)]  # 8 s at 120 bpm = 4 bars
    source = tmp_path / "clip.json"
    source.write_text(json.dumps({"tempo": 120, "time_sig": "4/4", "notes": notes}))
    done = cli("request", "infill", "--port", str(server.port), "--in", str(source), "--units", "seconds",
               "--start-beat", "2", "--end-beat", "4", "--whole", "--seed", "1", "--json", "-")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["units"] == "seconds" and (document["start"], document["end"]) == (2, 4)
    whole = document["variations"][0]["notes"]
    kept = [n for n in notes if not 2 <= n["start"] < 4]
    for n in kept:
        assert any(w["pitch"] == n["pitch"] and w["start"] == pytest.approx(n["start"]) for w in whole)
    assert document["removed"] == len(notes) - len(kept)


def test_continue_from_a_mid_file(server, tmp_path):
    first = tmp_path / "first.mid"
    assert cli("request", "generate", "--port", str(server.port), "--bars", "1", "--seed", "2", "-o",
               str(first)).returncode == 0
    done = cli("request", "continue", "--port", str(server.port), "--in", str(first), "--bars", "1", "--seed", "3",
               "--json", "-")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["start"], document["end"]) == (4, 8)
    assert all(4 <= n["start"] < 8 for n in document["variations"][0]["notes"])


def test_a_refused_request_exits_1_with_the_reason(server, tmp_path):
    out, progress = tmp_path / "e.json", tmp_path / "p.txt"
    done = cli("request", "generate", "--port", str(server.port), "--bars", "500", "--json", str(out),
               "--progress-file", str(progress))
    assert done.returncode == 1
    assert "too_large" in done.stderr and "limits.max_bars" in done.stderr
    assert json.loads(out.read_text())["code"] == "too_large"
    assert progress.read_text().splitlines()[-1].startswith("error too_large ")
    done = cli("request", "cancel", "--port", str(server.port), "--target", "424242")
    assert done.returncode == 1 and "not_found" in done.stderr


def test_bad_input_exits_2(server, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = cli("request", "continue", "--port", str(server.port), "--in", str(bad))
    assert done.returncode == 2 and "not valid JSON" in done.stderr


def test_daemon_not_running_says_how_to_start_it(tmp_path):
    port = free_port()
    out = tmp_path / "e.json"
    done = cli("request", "generate", "--port", str(port), "--json", str(out))
    assert done.returncode == 3
    assert f"daemon not running on 127.0.0.1:{port}: start it with `make run`" in done.stderr
    assert json.loads(out.read_text()) == {"status": "error", "code": "not_running",
                                           "message": json.loads(out.read_text())["message"]}


def test_serve_refuses_a_busy_port(server, dense_midi_llm_dir):
    done = cli("serve", "--port", str(server.port), "--model", str(dense_midi_llm_dir), timeout=60)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{server.port}" in done.stderr and "request ping" in done.stderr


def test_serve_refuses_a_public_interface_without_a_secret():
    done = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 2 and "osc.secret" in done.stderr


def test_sigterm_cancels_the_running_job_and_exits_0(server):
    from bridge import protocol as P
    from bridge.client import Client, DaemonError

    with Client(server.port) as client:
        running = client.submit("generate", seed=1, bars=100, tempo=60.0)
        assert client.next_reply(running, [P.STARTED], timeout=30) is not None
        server.process.send_signal(signal.SIGTERM)
        with pytest.raises(DaemonError) as caught:
            client.wait(running, timeout=15)
        assert caught.value.code == "shutting_down"
    assert server.process.wait(15) == 0
    server.wait_for("shutting down: received SIGTERM", timeout=5)
