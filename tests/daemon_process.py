"""``python -m bridge serve`` as a real process, for tests that talk to it from outside Python."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bridge.client import Client, DaemonError

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", PYTHONUNBUFFERED="1")


def free_port() -> int:
    """A UDP port on 127.0.0.1 nobody uses right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaemonProcess:
    """The daemon with a checkpoint directory on a free port; its log lines are kept in ``log``."""

    def __init__(self, model_dir: Path | str, *extra: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--port", str(self.port), "--model", str(model_dir),
             "--set", "model.warmup=false", "--set", "model.device=cpu", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env or ENV, cwd=ROOT)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, words: str, timeout: float = 90.0) -> str:
        """The first new log line containing ``words``; fails with the log after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.log.append(line)
            if words in line:
                return line
        raise AssertionError(f"the daemon never logged {words!r}; its log: {self.log}")

    def wait_ready(self, timeout: float = 90.0) -> str:
        return self.wait_for("ready:", timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def watch_states(port: int, timeout: float = 120.0) -> list[dict]:
    """Every distinct (state, message) that ping reports until the daemon is ready or failed."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    with Client(port) as client:
        while time.monotonic() < deadline:
            try:
                answer = client.ping(timeout=0.5)
            except DaemonError:
                time.sleep(0.02)
                continue
            if not seen or (seen[-1]["state"], seen[-1]["message"]) != (answer["state"], answer["message"]):
                seen.append(answer)
            if answer["state"] in ("ready", "error"):
                return seen
            time.sleep(0.02)
    raise AssertionError(f"the daemon never got ready; states seen: {seen}")
    raise AssertionError(f"the daemon on port {port} never settled: {seen}")
