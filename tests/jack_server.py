"""A private JACK server with the dummy driver, for tests that need real MIDI ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid


def _end_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies (killed by a timeout, a closed pipe).

    An orphaned jackd keeps its slot in JACK's shared server registry, which
    holds only a few servers for the whole machine: enough orphans and no test
    anywhere can start one.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


class JackServer:
    """Starts ``jackd -d dummy`` under a unique server name and stops it again."""

    def __init__(self) -> None:
        self.name = f"mlb-test-{uuid.uuid4().hex[:8]}"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str | None:
        """None when JACK can be used here, else the reason to skip."""
        for tool in ("jackd", "jack_lsp", "jack_connect"):
            if shutil.which(tool) is None:
                return f"{tool} not installed (Debian package jackd2; `make system-deps`)"
        try:
            import rtmidi
        except ImportError:
            return "python-rtmidi is not installed"
        if rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api():
            return "this python-rtmidi build has no JACK support"
        return None

    def env(self) -> dict[str, str]:
        return dict(os.environ, JACK_DEFAULT_SERVER=self.name, JACK_NO_AUDIO_RESERVATION="1")

    def start(self, timeout: float = 10.0) -> None:
        # --sync: the server waits for every client each cycle. In JACK2's default
        # asynchronous mode a client that misses a cycle on these loaded cores can
        # have a message dropped between ports, which a test would blame on the player.
        self.process = subprocess.Popen(
            ["jackd", "--no-realtime", "--sync", "-n", self.name, "-d", "dummy", "-r", "48000", "-p", "256"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env(), preexec_fn=_end_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jackd exited: {self.process.stderr.read().decode(errors='replace')[-500:]}")
            if self.run("jack_lsp").returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("jackd did not come up in time")

    def run(self, *command: str, timeout: float = 5.0) -> subprocess.CompletedProcess:
        return subprocess.run(list(command), env=self.env(), capture_output=True, text=True, timeout=timeout)

    def ports(self) -> list[str]:
        return self.run("jack_lsp").stdout.split("\n")

    def wait_for_port(self, name: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if name in self.ports():
                return
            time.sleep(0.05)
        raise RuntimeError(f"JACK port {name} did not appear (have {self.ports()})")

    def find_port(self, suffix: str, timeout: float = 5.0) -> str:
        """The full name of the port whose name ends with ``suffix`` (JACK may rename clashing clients)."""
        deadline = time.monotonic() + timeout
        while True:
            matches = [p for p in self.ports() if p and p.endswith(suffix)]
            if len(matches) == 1:
                return matches[0]
            if time.monotonic() >= deadline:
                raise RuntimeError(f"not exactly one JACK port ending with {suffix!r} (have {self.ports()})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)  # a killed jackd leaves its slot in JACK's machine-wide registry
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
