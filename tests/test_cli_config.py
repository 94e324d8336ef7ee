"""Every command reads the same configuration the same way: the checkout's config.yaml, the
environment, ``--set``, its own flags, and refuses the same bad keys.

The tests run the real command line in a copy of the package next to a config.yaml of
their own (the project's config.yaml is shared and stays untouched), so "the project's
config.yaml" is exercised exactly as a user's checkout has it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon_process import ENV, ROOT, DaemonProcess

pytestmark = pytest.mark.slow


@pytest.fixture()
def checkout(tmp_path):
    """A copy of the package whose config.yaml the test writes; ``run(*args)`` runs the command line there."""
    shutil.copytree(ROOT / "bridge", tmp_path / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in ENV.items() if not k.startswith("MIDI_LLM_BRIDGE__")}

    class Checkout:
        root = tmp_path

        @staticmethod
        def config(text: str) -> None:
            (tmp_path / "config.yaml").write_text(text)

        @staticmethod
        def run(*args: str, timeout: float = 120, extra_env: dict | None = None) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "bridge", *args], capture_output=True, text=True,
                                  cwd=tmp_path, env={**env, **(extra_env or {})}, timeout=timeout)

    return Checkout()


def a_midi_file(path: Path) -> Path:
    from bridge.amt.midi_file import write_midi
    from bridge.amt.notes import Note
    from bridge.amt.tempo import TempoMap, TimeSignature

    notes = [Note(60 + i, i * 1.0, 0.5, 90, instrument=0) for i in range(8)]
    write_midi(path, notes, TempoMap.constant(120), TimeSignature(4, 4))
    return path


def test_generate_loads_the_model_that_config_yaml_names(checkout, tiny_midi_llm_dir):
    checkout.config(f"model:\n  id: {tiny_midi_llm_dir}\n  device: cpu\n")
    done = checkout.run("generate", "x", "--bars", "1", "--seed", "1", "-o", "cfg.mid")
    assert done.returncode == 0, done.stderr
    assert (checkout.root / "cfg.mid").is_file()


def test_every_command_refuses_an_unknown_key_in_config_yaml(checkout, tmp_path):
    checkout.config("model:\n  idd: typo\n")
    song = str(a_midi_file(tmp_path / "song.mid"))
    commands = [
        ["serve"],
        ["generate", "x", "-o", "a.mid"],
        ["continue", song, "-o", "b.mid"],
        ["infill", song, "--start-bar", "1", "--end-bar", "1", "-o", "c.mid"],
        ["accompany", song, "-o", "d.mid"],
        ["request", "ping"],
        ["tokens", song],
        ["doctor"],
    ]
    for command in commands:
        done = checkout.run(*command, timeout=60)
        assert done.returncode == 2, (command, done.returncode, done.stdout, done.stderr)
        assert "unknown setting model.idd" in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr, (command, done.stderr)


def test_request_finds_the_daemon_on_the_port_config_yaml_names(checkout, tiny_amt_dir):
    daemon = DaemonProcess(tiny_amt_dir)
    try:
        daemon.wait_ready()
        checkout.config(f"osc:\n  port: {daemon.port}\n")
        done = checkout.run("request", "ping", timeout=60)
        assert done.returncode == 0, done.stderr
        assert f"daemon on 127.0.0.1:{daemon.port}: ready" in done.stdout
        # the environment and --set still come after the file, as for the daemon
        wrong = str(daemon.port + 1 if daemon.port < 65535 else daemon.port - 1)
        done = checkout.run("request", "ping", extra_env={"MIDI_LLM_BRIDGE__OSC__PORT": wrong}, timeout=60)
        assert done.returncode == 3 and f"127.0.0.1:{wrong}" in done.stderr, done.stderr
        done = checkout.run("request", "ping", "--set", f"osc.port={daemon.port}",
                            extra_env={"MIDI_LLM_BRIDGE__OSC__PORT": wrong}, timeout=60)
        assert done.returncode == 0, done.stderr
    finally:
        daemon.stop()


@pytest.mark.parametrize("port", ["70000", "0", "-5"])
def test_a_port_out_of_range_is_a_bad_argument_naming_the_flag(checkout, port):
    done = checkout.run("request", "ping", "--port", port)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"--port {port} is not accepted; use a number from 1 to 65535" in done.stderr
    assert "daemon not running" not in done.stderr


def test_the_copy_is_what_runs(checkout):
    """The fixture's premise: ``python -m bridge`` in the copy imports the copy, not the checkout."""
    done = subprocess.run([sys.executable, "-c", "import bridge; print(bridge.__file__)"], capture_output=True,
                          text=True, cwd=checkout.root, env=dict(os.environ), timeout=60)
    assert done.stdout.strip().startswith(str(checkout.root))
