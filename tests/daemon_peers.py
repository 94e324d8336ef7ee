"""Real peers for the daemon tests: liblo's oscsend/oscdump, and a bare UDP socket speaking OSC.

The bare socket sends what no well-behaved client would (wrong secrets, bad numbers, deep
bundles) and can bind another loopback address (127.0.0.2), so that one machine can play
two client hosts.
"""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

from bridge.config import Config, defaults
from bridge.protocol.osc import decode_datagram, encode_message
from tests.peers import needs_peer

HAVE_LIBLO = bool(shutil.which("oscsend") and shutil.which("oscdump"))
needs_liblo = needs_peer(None if HAVE_LIBLO else "liblo-tools (oscsend, oscdump) not installed: `make system-deps`")


def daemon_config(**changes: Any) -> Config:
    """A daemon's configuration for in-process tests: any free port, small datagrams (so chunking happens
    with few notes), short chunk timeout and queue; ``section__key=value`` changes more."""
    config = defaults()
    config["osc"]["port"] = 0
    config["osc"]["max_datagram_bytes"] = 1024
    config["model"]["id"] = "dense tiny checkpoint"
    config["limits"].update(chunk_timeout_seconds=0.5, queue_length=4)
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        config[section][key] = value
    return config


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Dump:
    """oscdump listening on a port, its lines collected by a thread."""

    def __init__(self) -> None:
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
            line = line.rstrip("\n")
            self.lines.put(line.split(" ", 1)[1] if line and not line.startswith("/") else line)

    def wait_for(self, address: str, timeout: float = 10.0) -> list[str]:
        """Lines up to and including the first one for ``address`` (the time tag cut off)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if line.startswith(address + " "):
                return seen
        raise AssertionError(f"oscdump saw no {address} within {timeout} s; it saw {seen}")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(5)


def oscsend(port: int, address: str, types: str, *values: Any, host: str = "127.0.0.1") -> None:
    subprocess.run(["oscsend", host, str(port), address, types, *map(str, values)], check=True, timeout=10)


class Raw:
    """A bare UDP socket speaking OSC to the daemon on ``port``."""

    def __init__(self, port: int, *, bind: str = "127.0.0.1", daemon_host: str = "127.0.0.1"):
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)  # floods get many replies
        self.sock.bind((bind, 0))
        self.port = port
        self.daemon_host = daemon_host
        self.received_bytes = 0

    @property
    def own_port(self) -> int:
        return self.sock.getsockname()[1]

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendto(data, (self.daemon_host, self.port))

    def send(self, address: str, *args: Any) -> None:
        self.send_bytes(encode_message(address, args))

    def _receive(self, deadline: float) -> list[tuple[str, list[Any]]] | None:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        self.received_bytes += len(data)
        return decode_datagram(data)

    def expect(self, address: str, timeout: float = 5.0) -> list[Any]:
        """The arguments of the next message at ``address`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self._receive(deadline)
            if messages is None:
                break
            for found, args in messages:
                if found == address:
                    return args
        raise AssertionError(f"no {address} within {timeout} s")

    def until_pong(self, ping_id: Any, timeout: float = 5.0, secret: str | None = None
                   ) -> list[tuple[str, list[Any]]]:
        """Every message before the pong to a ping sent now: what the daemon answered so far, in order.

        The daemon handles datagrams in order, so the pong marks the end of the replies to
        everything sent before it (a barrier, not a wait).
        """
        self.send("/midi-llm/ping", ping_id, 0, *(["secret", secret] if secret else []))
        seen: list[tuple[str, list[Any]]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self._receive(deadline)
            if messages is None:
                break
            for found, args in messages:
                if found == "/midi-llm/pong" and args and args[0] == ping_id:
                    return seen
                seen.append((found, args))
        raise AssertionError(f"no pong within {timeout} s; seen {len(seen)} messages, the last: {seen[-3:]}")

    def close(self) -> None:
        self.sock.close()
