"""Issue 14 for REAPER: the actions start the daemon themselves and show its state until it is ready.

Each action pings first. Nothing answers: the action starts `midi-llm-bridge serve` from the
client's installation (the real one, on a tiny checkpoint passed as "Daemon options"), in
the background and detached (its own session, still up after the script ended), shows the
state in its window (or the console) and sends the request once the daemon is ready. Two
actions at once start one daemon (a mark in the temp folder); two REAPERs that miss each
other's mark share one anyway (the second daemon cannot listen on the port and exits). A
model that cannot be loaded shows the daemon's sentence and Retry loads it again
(`request reload`). Every daemon a test starts is stopped by its process id at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.client import Client
from tests.daemon_process import ENV, DaemonProcess, free_port
from tests.fake_hub import FakeHub
from tests.test_reaper_scripts import (
    CLIENT,
    DRIVER,
    GENERATE,
    ROOT,
    SCRIPTS,
    SETTINGS,
    need_lua,
    project,
    run,
    slow,
)

START_DAEMON = "MIDI-LLM - Start daemon.lua"
HUB_REPO = "someone/tiny-midi-llm"
# How each daemon state begins in the status line (the daemon's own message, or the scripts' phrase), in order.
STATES = ("Checking the daemon", "Starting the daemon", "Downloading", "Loading", "Warming up", "The daemon is ready")


def daemon_pids(folder: Path) -> list[int]:
    """The process ids of every daemon the scripts started with their temp folder under ``folder``."""
    return [int(p.read_text().split()[0]) for p in sorted(folder.rglob("midi-llm-daemon-*-pid.txt"))
            if p.read_text().strip()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return not (state.exists() and state.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@pytest.fixture
def started(tmp_path):
    """Stops (by their ids) the daemons the scripts started under tmp_path, whatever the test did."""
    yield tmp_path
    pids = [pid for pid in daemon_pids(tmp_path) if alive(pid)]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def start_settings(model_dir: Path, **extra: str) -> dict:
    options = f'--model "{model_dir}" --set model.warmup=false --set model.device=cpu'
    return {"autostart": "1", "daemon_options": options, "max_notes": "8", **extra}


def in_order(seen: list[str]) -> list[str]:
    """The daemon states among the strings, each once, in the order they first appeared."""
    states = []
    for text in seen:
        for state in STATES:
            if text.startswith(state) and state not in states:
                states.append(state)
    return states


def assert_forward(states: list[str]) -> None:
    """States only go forward: starting, downloading, loading, warming up, ready."""
    ranks = [STATES.index(s) for s in states]
    assert ranks == sorted(ranks), states


# ----- the command-line client ---------------------------------------------------------------


@slow
def test_request_reload_loads_the_model_again_once_the_cause_is_fixed(tmp_path, dense_midi_llm_dir):
    later = tmp_path / "checkpoint-copied-later"
    daemon = DaemonProcess(later)
    try:
        daemon.wait_for("the model could not be loaded")
        later.symlink_to(dense_midi_llm_dir)
        out = tmp_path / "reload.json"
        done = subprocess.run([str(CLIENT), "request", "reload", "--port", str(daemon.port), "--json", str(out)],
                              capture_output=True, text=True, timeout=60, env=ENV)
        assert done.returncode == 0, done.stdout + done.stderr
        document = json.loads(out.read_text())
        assert (document["status"], document["state"]) == ("ok", "loading"), document
        daemon.wait_ready()
    finally:
        daemon.stop()


# ----- the actions start the daemon ----------------------------------------------------------


@slow
def test_daemon_down_the_action_starts_it_and_the_request_succeeds(started, dense_midi_llm_dir):
    port = free_port()
    scenario = project(port, inputs=[{"ok": True, "values": "a calm piano|4"}], max_seconds=240,
                       settings=start_settings(dense_midi_llm_dir))
    result = run(started, GENERATE, scenario, timeout=300)
    assert result["messages"] == [], result["messages"]
    assert len(result["tracks"][0]["items"]) == 2 and result["tracks"][0]["items"][1]["takes"][0]["notes"]
    assert len([e for e in result["exec"] if "-detach.sh" in e["cmd"]]) == 1
    assert result["gfx"]["inits"] == result["gfx"]["quits"] == 1  # one window from the first ping to the result
    seen = result["gfx"]["seen"]
    states = in_order(seen)
    assert states[:2] == ["Checking the daemon", "Starting the daemon"], seen
    assert_forward(states)
    last_state = max(i for i, text in enumerate(seen) if text.startswith(STATES))
    assert seen.index("Starting the client...") > last_state  # the request went out once the daemon was ready
    (pid,) = daemon_pids(started)
    assert alive(pid), "the daemon stopped with the script"
    if sys.platform.startswith("linux"):
        assert os.getsid(pid) != os.getsid(0), "the daemon is in REAPER's session"
    with Client(port) as client:
        assert client.ping()["state"] == "ready"  # the next action (or another DAW) finds it


@slow
def test_two_actions_at_once_start_one_daemon(started, dense_midi_llm_dir):
    port = free_port()
    scenario = project(port, inputs=[{"ok": True, "values": "one|2"}, {"ok": True, "values": "two|2"}],
                       also_run=[str(SCRIPTS / GENERATE)], max_seconds=240,
                       settings=start_settings(dense_midi_llm_dir, window="0"))
    result = run(started, GENERATE, scenario, timeout=300)
    assert result["messages"] == [], result["messages"]
    assert len([e for e in result["exec"] if "-detach.sh" in e["cmd"]]) == 1
    assert len(daemon_pids(started)) == 1
    items = result["tracks"][0]["items"]
    assert len(items) == 3 and all(item["takes"][0]["notes"] for item in items[1:])


@slow
def test_two_reapers_share_one_daemon(started, dense_midi_llm_dir):
    """Two REAPERs with their own temp folders (they do not see each other's mark): the port decides."""
    lua = need_lua()
    port = free_port()
    runs = []
    for name in ("first", "second"):
        folder = started / name
        folder.mkdir()
        scenario = project(port, inputs=[{"ok": True, "values": f"{name}|2"}], max_seconds=240,
                           settings=start_settings(dense_midi_llm_dir, window="0"))
        (folder / "scenario.json").write_text(json.dumps(scenario))
        process = subprocess.Popen([lua, str(DRIVER), str(folder / "scenario.json"), str(SCRIPTS / GENERATE),
                                    str(folder / "project.json")], env=dict(ENV, TMPDIR=str(folder)),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        runs.append((folder, process))
    for folder, process in runs:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
        result = json.loads((folder / "project.json").read_text())
        assert result["errors"] == [] and result["violations"] == [] and not result["timed_out"], result
        assert result["messages"] == [], result["messages"]
        assert len(result["tracks"][0]["items"]) == 2
    assert len([pid for pid in daemon_pids(started) if alive(pid)]) == 1


@slow
def test_a_model_that_cannot_be_loaded_shows_the_daemons_sentence_and_retry_loads_it(started, dense_midi_llm_dir):
    later = started / "checkpoint-copied-later"
    port = free_port()
    fix = {"run": f"ln -s '{dense_midi_llm_dir}' '{later}'", "answer": 4}  # the user fixes it, then Retry
    scenario = project(port, inputs=[{"ok": True, "values": "|2"}], max_seconds=240, message_answers=[fix],
                       settings=start_settings(later, window="0"))
    result = run(started, GENERATE, scenario, timeout=300)
    (box,) = result["messages"]
    assert box["type"] == 5 and box["answer"] == 4  # Retry / Cancel
    assert "could not load its model" in box["msg"] and str(later) in box["msg"] and "Retry" in box["msg"]
    lines = result["console"].splitlines()
    cut = box["console_at"]  # the console lines written before the box

    def states_of(part: list[str]) -> list[str]:
        return in_order([line.split(": ", 2)[-1] for line in part if line.startswith("MIDI-LLM: Generate: ")])

    before, after = states_of(lines[:cut]), states_of(lines[cut:])
    assert before[0] == "Starting the daemon" and set(before) <= {"Starting the daemon", "Loading"}, lines
    assert after[0] == "Loading" and after[-1] == "The daemon is ready", lines
    assert_forward(after)
    assert any("'request' 'reload'" in p.read_text() for p in started.glob("midi-llm-*-reload*.sh"))
    assert len(result["tracks"][0]["items"]) == 2  # then the request went through


@slow
def test_a_first_start_shows_the_download_then_the_load(started, dense_midi_llm_dir):
    """The model comes from a hub on loopback into an empty cache: the window says how far the download is."""
    port = free_port()
    with FakeHub(HUB_REPO, dense_midi_llm_dir, piece_bytes=512 * 1024, pause=0.1) as hub:
        env = {key: value for key, value in ENV.items() if key != "HF_HUB_OFFLINE"}
        env.update(HF_ENDPOINT=hub.url, HF_HUB_CACHE=str(started / "cache"), HF_HOME=str(started / "home"))
        options = f"--model {HUB_REPO} --set model.warmup=true --set model.device=cpu"
        scenario = project(port, inputs=[{"ok": True, "values": "|2"}], max_seconds=240,
                           settings={"autostart": "1", "daemon_options": options, "window": "0"})
        result = run(started, GENERATE, scenario, timeout=300, env=env)
    assert result["messages"] == [], result["messages"]
    lines = [line.split(": ", 2)[-1] for line in result["console"].splitlines()
             if line.startswith("MIDI-LLM: Generate: ")]
    states = in_order(lines)
    assert states[0] == "Starting the daemon" and "Downloading" in states and states[-1] == "The daemon is ready", lines
    assert_forward(states)
    downloads = [line for line in lines if line.startswith("Downloading")]
    assert any(f"Downloading {HUB_REPO}: " in line and " of " in line for line in downloads), downloads
    assert len(result["tracks"][0]["items"]) == 2


def test_bad_daemon_options_give_a_clear_message(started):
    if not CLIENT.exists():
        pytest.skip("the command-line client is not installed")
    scenario = project(free_port(), settings={"autostart": "1", "daemon_options": "--no-such-option"})
    result = run(started, GENERATE, scenario)
    (message,) = result["messages"]
    assert "stopped right after it started" in message["msg"] and "--no-such-option" in message["msg"]
    assert "Daemon options" in message["msg"]
    assert result["undo"] == [] and len(result["tracks"][0]["items"]) == 1


def test_autostart_off_says_how_to_start_it(tmp_path):
    if not CLIENT.exists():
        pytest.skip("the command-line client is not installed")
    result = run(tmp_path, GENERATE, project(free_port()))
    (message,) = result["messages"]
    assert "MIDI-LLM - Start daemon" in message["msg"] and "Start the daemon automatically" in message["msg"]
    assert not [e for e in result["exec"] if "-detach.sh" in e["cmd"]]


@slow
def test_the_start_daemon_action_starts_it_whatever_the_setting(started, dense_midi_llm_dir):
    port = free_port()
    scenario = project(port, max_seconds=240, settings=start_settings(dense_midi_llm_dir, autostart="0"))
    result = run(started, START_DAEMON, scenario, timeout=300)
    (message,) = result["messages"]
    assert "ready" in message["msg"] and str(port) in message["msg"]
    assert len([pid for pid in daemon_pids(started) if alive(pid)]) == 1


def test_settings_keep_the_daemon_options_and_refuse_an_open_quote(tmp_path):
    first = "|".join(["1234", "", "", "4", "3", "", "", "", "", "", "", "600", "", "1", "1", "0"])
    scenario = project(1234, inputs=[{"ok": True, "values": first}, {"ok": True, "values": '0|--model "/a b'}])
    result = run(tmp_path, SETTINGS, scenario)
    (message,) = result["messages"]
    assert "Nothing was saved" in message["msg"] and "Daemon options" in message["msg"]
    scenario = project(1234, inputs=[{"ok": True, "values": first}, {"ok": True, "values": '0|--model "/a b"'}])
    result = run(tmp_path, SETTINGS, scenario)
    saved = result["extstate"]["MIDI-LLM"]
    assert (saved["autostart"], saved["daemon_options"]) == ("0", '--model "/a b"')


def test_the_library_knows_its_modules():
    """Every midi-llm_*.lua file next to the actions is one the library loads (and ships in the ReaPack index)."""
    text = (SCRIPTS / "midi-llm_lib.lua").read_text()
    listed = set(text.split("M.MODULES = {", 1)[1].split("}", 1)[0].replace('"', "").replace(",", " ").split())
    on_disk = {p.name[len("midi-llm_"):-len(".lua")] for p in SCRIPTS.glob("midi-llm_*.lua")} - {"lib"}
    assert listed == on_disk
    assert (ROOT / "reaper_scripts" / "make_index.py").read_text().count("midi-llm_") >= len(on_disk)
