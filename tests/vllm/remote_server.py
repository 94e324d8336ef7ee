"""A real ``vllm serve`` on loopback, as a studio starts it (README: Running on vLLM), for the remote backend's tests.

It runs from the vLLM venv (``.vllm-venv`` from scripts/setup-vllm.sh, or
``MIDI_LLM_BRIDGE_VLLM_PYTHON``) through tests/vllm/serve.py, which is
vLLM's own CLI (see there why a launcher): our logits processor, an API key,
a bounded context, prefix caching, 127.0.0.1 and a free port, no downloads.
``--enable-log-requests`` makes the server log "Added request <id>" for each
request; vLLM's ``vllm:request_success_total`` counts the requests that ended
by themselves (stop, length), not the aborted ones, so requests added minus
requests ended tells a test how many a closed stream aborted (vLLM's own
"Request <id> aborted." line does not show for these). The process (and the engine core processes it
spawns) runs in a session of its own and is stopped as one group.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from bridge.engine.backends.vllm_requests import PROCESSOR  # what the README tells a studio to pass

ROOT = Path(__file__).resolve().parents[2]


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment() -> dict[str, str]:
    """The vLLM venv's environment: none of this venv's Python settings, our project importable, offline."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    environment.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                       VLLM_CPU_KVCACHE_SPACE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1",
                       VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")
    return environment


class VllmServer:
    """``vllm serve CHECKPOINT`` started now; :meth:`wait_ready` waits (bounded) until it answers."""

    def __init__(self, python: Path, checkpoint: Path, *, api_key: str, max_model_len: int, port: int | None = None,
                 processor: bool = True):
        self.port = port or free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        command = [str(python), str(ROOT / "tests" / "vllm" / "serve.py"), "serve", str(checkpoint),
                   "--host", "127.0.0.1", "--port", str(self.port), "--api-key", api_key,
                   "--max-model-len", str(max_model_len), "--enable-prefix-caching", "--enable-log-requests"]
        if processor:  # without it: a studio that forgot the flag
            command += ["--logits-processors", PROCESSOR]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=server_environment(), cwd=ROOT, start_new_session=True)
        self.log: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip("\n"))

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(line[:300] for line in self.log[-lines:])

    def _get(self, path: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def wait_ready(self, timeout: float = 240.0) -> float:
        """Seconds until ``/health`` answers 200; fails with the server's log if it dies or takes too long."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"vllm serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self._get("/health")[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"vllm serve did not answer within {timeout:g} s:\n{self.log_tail()}")

    def metric(self, name: str) -> float:
        """One gauge or counter of ``/metrics`` (summed over its labels)."""
        status, text = self._get("/metrics")
        assert status == 200, text[:400]
        values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith(name + "{") or line.startswith(name + " ")]
        assert values, f"no metric {name}"
        return sum(values)

    def added_requests(self, id_prefix: str = "") -> int:
        """How many requests (with ids starting ``id_prefix``) the server has taken so far (its log)."""
        return sum(f"Added request {id_prefix}" in line for line in list(self.log))

    def ended_requests(self) -> int:
        """How many requests ended by themselves (stop or length), not counting aborted ones."""
        return round(self.metric("vllm:request_success_total"))

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until no request runs or waits on the server (bounded wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metric("vllm:num_requests_running") == 0 and self.metric("vllm:num_requests_waiting") == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"the server still runs requests after {timeout:g} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """Kill the server and its engine processes at once, as a crash would (no graceful end of the streams)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Stop the server and the processes it started (its own session), bounded."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # engine core children that outlived their parent
        except ProcessLookupError:
            pass
