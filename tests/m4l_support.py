"""Shared by the Max for Live tests (tests/test_max_for_live.py, tests/test_miditools.py): the build
script, node, the scenarios under node (tests/m4l) and a real daemon for them."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

from tests.daemon_process import ENV, ROOT, DaemonProcess
from tests.peers import missing_peer, needs_peer

M4L = ROOT / "max_for_live"
HARNESS = ROOT / "tests" / "m4l"


def _node() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    major = re.match(r"v(\d+)", version.strip())
    return node if major and int(major.group(1)) >= 16 else None


NODE = _node()
needs_node = needs_peer(None if NODE else "node 16+ not installed (`make system-deps`): the device's "
                                          "JavaScript is tested under node")


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_amxd", M4L / "build_amxd.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def node(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """node in tests/m4l with ``args``."""
    assert NODE is not None
    return subprocess.run([NODE, *args], cwd=HARNESS, capture_output=True, text=True, timeout=timeout,
                          env=env or ENV)


def run_scenario(script: str, name: str, daemon_port: int | None = None, timeout: float = 75,
                 env: dict | None = None) -> str:
    """``node <script> <name> [--daemon-port N]``'s output; fails with its output when it fails."""
    args = [script, name] + (["--daemon-port", str(daemon_port)] if daemon_port else [])
    done = node(*args, timeout=timeout, env=env)
    assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def embedded_script(device: Path, name: str, into: Path) -> Path:
    """The script ``name`` that the frozen ``device`` holds, written to ``into``/``name``: what Live runs."""
    _, _, data = builder.parse_amxd(device.read_bytes())["files"][name]
    into.mkdir(parents=True, exist_ok=True)
    (into / name).write_bytes(data)
    return into / name


def serve(model_dir: Path):
    """For a module fixture (``yield from serve(...)``): a ready daemon, stopped afterwards; skips without node."""
    if NODE is None:
        missing_peer("node 16+ not installed (`make system-deps`)")
    running = DaemonProcess(model_dir)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
