"""A Python client for the daemon: plain UDP sockets, no torch, starts in a blink.

    from bridge.client import Client
    with Client(port=9123) as client:
        print(client.ping())
        result = client.request("generate", prompt="a calm piano waltz", bars=4, time_sig="3/4", seed=1)
        for note in result.variations[0]:
            print(note.pitch, note.start, note.duration)

The client sends notes in numbered chunks, collects the replies of its own
request (ignoring others'), asks the daemon to resend a result chunk that got
lost, and raises :class:`DaemonError` (code and sentence from the daemon) or
:class:`DaemonUnreachable` (nothing listening, or no answer).
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge import protocol as P
from bridge.amt.notes import Note
from bridge.protocol.assembly import ResultAssembly, describe_missing
from bridge.protocol.notes import atoms_to_note
from bridge.protocol.osc import Double, OscDecodeError, decode_datagram, encode_message
from bridge.protocol.replies import read_reply
from bridge.protocol.request_encoding import encode_request

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9123
START_HINT = "start it with `make run` (or `midi-llm-bridge serve`)"
PROBE_AFTER = 2.0
"""Seconds of silence after which the client checks with a ping that the daemon is still there."""


class DaemonError(Exception):
    """The daemon refused or failed a request: ``code`` (see docs/protocol.md) and a sentence."""

    def __init__(self, code: str, message: str, details: Sequence[Any] = ()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = tuple(details)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class DaemonUnreachable(DaemonError):
    """Nothing answers on the daemon's port."""

    def __init__(self, message: str):
        super().__init__("not_running", message)


class RequestTimeout(DaemonError):
    def __init__(self, message: str):
        super().__init__("timeout", message)


@dataclass
class Result:
    """What a generation request brought back (positions in the request's units)."""

    request_id: int | str
    variations: list[list[Note]]
    seed: int
    seconds: float
    removed: int
    start: float
    end: float
    warnings: list[str] = field(default_factory=list)


ProgressCallback = Callable[[float, int], None]
NoteCallback = Callable[[int, Note], None]
EventCallback = Callable[[str, list[Any]], None]


class Client:
    """One UDP socket talking to one daemon. Not thread safe: use one client per thread."""

    def __init__(self, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, *, secret: str | None = None,
                 max_datagram_bytes: int | None = None):
        self.host = host
        self.port = port
        self.secret = secret
        self.max_datagram_bytes = max_datagram_bytes  # None: ask the daemon before the first chunked request
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            # "localhost" may list ::1 first; the daemon listens on 127.0.0.1 by default.
            info = sorted(found, key=lambda entry: entry[0] != socket.AF_INET)[0]
        except socket.gaierror as error:
            raise DaemonUnreachable(f"cannot resolve the daemon's host {host!r}: {error}") from None
        self.sock = socket.socket(info[0], socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        except OSError:
            pass
        # Connected: replies come back on this socket, and "port unreachable" surfaces as an error.
        self.sock.connect(info[4])
        self._backlog: list[tuple[str, list[Any]]] = []

    # ----- plumbing ---------------------------------------------------------------------

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _not_running(self) -> DaemonUnreachable:
        return DaemonUnreachable(f"daemon not running on {self.where}: {START_HINT}")

    def _secret_atoms(self) -> list[Any]:
        return ["secret", self.secret] if self.secret else []

    @staticmethod
    def new_id() -> int:
        return random.randrange(1, 2**31 - 1)

    def send_raw(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except (ConnectionRefusedError, ConnectionResetError):  # Windows reports a closed UDP port as a reset
            raise self._not_running() from None

    def send(self, address: str, args: Sequence[Any]) -> None:
        self.send_raw(encode_message(address, args))

    def _receive(self, timeout: float) -> tuple[str, list[Any]] | None:
        self.sock.settimeout(max(0.001, timeout))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        except (ConnectionRefusedError, ConnectionResetError):
            raise self._not_running() from None
        try:
            messages = decode_datagram(data)
        except OscDecodeError:
            return ("", [])
        self._backlog.extend(messages[1:])
        return messages[0]

    def _next(self, wanted: Callable[[str, list[Any]], bool], deadline: float, *,
              probe: bool = False) -> tuple[str, list[Any]] | None:
        """The next message ``wanted`` accepts (earlier unwanted ones are kept); None at the deadline.

        With ``probe``, silence of :data:`PROBE_AFTER` seconds sends a ping, so a daemon
        that died is noticed (as :class:`DaemonUnreachable`) instead of waited for.
        """
        for i, (address, args) in enumerate(self._backlog):
            if wanted(address, args):
                del self._backlog[i]
                return address, args
        quiet_since = time.monotonic()
        probe_id: int | None = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                return None
            wait = deadline - now
            if probe:
                wait = min(wait, max(0.01, quiet_since + PROBE_AFTER - now))
            message = self._receive(wait)
            if message is None:
                if probe and time.monotonic() - quiet_since >= PROBE_AFTER:
                    if probe_id is not None:
                        raise DaemonUnreachable(f"the daemon on {self.where} stopped answering")
                    probe_id = self.new_id()
                    self.send(P.PING, [probe_id, 0, *self._secret_atoms()])
                    quiet_since = time.monotonic()
                continue
            quiet_since = time.monotonic()
            address, args = message
            if address == P.PONG and probe_id is not None and args and args[0] == probe_id:
                probe_id = None
                continue
            if wanted(address, args):
                return address, args
            if address and len(self._backlog) < 10_000:
                self._backlog.append((address, args))

    @staticmethod
    def _for(request_id: Any, *addresses: str) -> Callable[[str, list[Any]], bool]:
        return lambda address, args: address in addresses and bool(args) and args[0] == request_id

    def next_reply(self, request_id: Any, addresses: Iterable[str], timeout: float = 5.0
                   ) -> tuple[str, list[Any]] | None:
        """Low level: the next reply to ``request_id`` at one of ``addresses`` (others are kept for later)."""
        return self._next(self._for(request_id, *addresses), time.monotonic() + timeout)

    # ----- requests ---------------------------------------------------------------------

    def _ask(self, address: str, answer: str, timeout: float) -> dict[str, Any]:
        """Send ``address id 0 [secret S]`` and read the ``answer`` by the reply table."""
        request_id = self.new_id()
        self.send(address, [request_id, 0, *self._secret_atoms()])
        reply = self._next(self._for(request_id, answer, P.ERROR), time.monotonic() + timeout)
        if reply is None:
            raise DaemonUnreachable(f"no answer from a daemon on {self.where} within {timeout:g} s: is it "
                                    f"running? {START_HINT}")
        self._raise_if_error(*reply)
        return read_reply(answer, reply[1])

    def ping(self, timeout: float = 2.0) -> dict[str, Any]:
        """Protocol version, daemon version, state (loading/ready/error/shutting_down), model, device, queue;
        ``message`` says why the model could not be loaded (state error)."""
        return self._ask(P.PING, P.PONG, timeout)

    def status(self, timeout: float = 2.0) -> dict[str, Any]:
        """Everything ping says, plus dtype, profile, the running job and the limits (see docs/protocol.md)."""
        return self._ask(P.STATUS, P.INFO, timeout)

    def reload(self, timeout: float = 2.0) -> dict[str, Any]:
        """Ask a daemon whose model could not be loaded to load it again; returns its pong (state loading)."""
        return self._ask(P.RELOAD, P.PONG, timeout)

    @staticmethod
    def _raise_if_error(address: str, args: list[Any]) -> None:
        if address == P.ERROR:
            error = read_reply(P.ERROR, args)
            raise DaemonError(str(error.get("code", "error")),
                              str(error.get("message", "the daemon refused the request")), error["details"])

    def submit(self, mode: str, notes: Sequence[Note] = (), *, request_id: int | str | None = None,
               **options: Any) -> int | str:
        """Send a request without waiting; returns its id (then call :meth:`wait`)."""
        request_id = self.new_id() if request_id is None else request_id
        options.setdefault("doubles", True)
        if self.secret:
            options.setdefault("secret", self.secret)
        if notes and self.max_datagram_bytes is None:
            self.max_datagram_bytes = int(self.status()["max_datagram_bytes"])
        messages = encode_request(mode, request_id, notes, options, max_bytes=self.max_datagram_bytes or 8192)
        for i, data in enumerate(messages):
            self.send_raw(data)
            if i % 16 == 15:
                time.sleep(0.0005)
        return request_id

    def wait(self, request_id: int | str, *, timeout: float = 600.0, accept_timeout: float = 30.0,
             on_progress: ProgressCallback | None = None, on_note: NoteCallback | None = None,
             on_event: EventCallback | None = None) -> Result:
        """Collect the replies of ``request_id`` until its result is complete (or an error).

        A client that gives up (the timeout, or Ctrl-C) cancels the request, so the daemon
        does not spend minutes on a result nobody will read while others wait in its queue.
        """
        try:
            return self._collect(request_id, timeout=timeout, accept_timeout=accept_timeout,
                                 on_progress=on_progress, on_note=on_note, on_event=on_event)
        except (RequestTimeout, KeyboardInterrupt):
            self.abandon(request_id)
            raise

    def abandon(self, request_id: int | str, timeout: float = 0.5) -> None:
        """Cancel ``request_id`` on the way out: best effort, never raising (the daemon may be gone)."""
        try:
            self.cancel(request_id, timeout=timeout)
        except (DaemonError, OSError):
            pass

    def _collect(self, request_id: int | str, *, timeout: float, accept_timeout: float,
                 on_progress: ProgressCallback | None, on_note: NoteCallback | None,
                 on_event: EventCallback | None) -> Result:
        deadline = time.monotonic() + timeout
        job_messages = (P.ACCEPTED, P.STARTED, P.PROGRESS, P.NOTE, P.RESULT, P.WARNING, P.DONE, P.ERROR)
        wanted = self._for(request_id, *job_messages)
        assembly = ResultAssembly()
        warnings: list[str] = []
        done: list[Any] | None = None
        accepted = False
        resend_rounds = 0
        while True:
            if done is not None and assembly.complete():
                break
            if done is not None:
                limit = min(deadline, time.monotonic() + 0.3)
            elif not accepted:
                limit = min(deadline, time.monotonic() + accept_timeout)
            else:
                limit = deadline
            message = self._next(wanted, limit, probe=done is None)
            if message is None:
                if done is not None:
                    missing = assembly.missing()
                    if resend_rounds >= 3:
                        raise DaemonError("missing_chunk", f"result {describe_missing(missing)} never "
                                                           "arrived, even when asked again", missing)
                    resend_rounds += 1
                    flat = [x for pair in missing for x in pair]
                    self.send(P.RESEND, [request_id, 0, *flat, *self._secret_atoms()])
                    continue
                if not accepted and time.monotonic() < deadline:
                    raise RequestTimeout(f"the daemon on {self.where} did not accept request {request_id} within "
                                         f"{accept_timeout:g} s")
                raise RequestTimeout(f"request {request_id} did not finish within {timeout:g} s")
            address, args = message
            if address == P.ERROR:
                self._raise_if_error(address, args)
            accepted = True
            if address == P.RESULT:
                assembly.add(args[1:])
            elif address == P.PROGRESS:
                progress = read_reply(P.PROGRESS, args)
                if on_progress is not None:
                    on_progress(float(progress["fraction"]), int(progress["notes"]))
                if on_event is not None:
                    on_event("progress", args[1:])
            elif address == P.NOTE:
                streamed = read_reply(P.NOTE, args)
                if on_note is not None:
                    on_note(int(streamed["variation"]), atoms_to_note(streamed["note"][:7]))
            elif address == P.WARNING:
                warnings.append(str(read_reply(P.WARNING, args)["text"]))
                if on_event is not None:
                    on_event("warning", args[1:])
            elif address == P.DONE:
                done = read_reply(P.DONE, args)
                assembly.variation_count = int(done["variations"])
            elif on_event is not None:
                on_event(address.rsplit("/", 1)[-1], args[1:])
        assert done is not None
        variations = [assembly.notes(v) for v in range(int(done["variations"]))]
        return Result(request_id, variations, int(done["seed"]), float(done["seconds"]), int(done["removed"]),
                      float(done["start"]), float(done["end"]), warnings)

    def request(self, mode: str, notes: Sequence[Note] = (), *, timeout: float = 600.0,
                on_progress: ProgressCallback | None = None, on_note: NoteCallback | None = None,
                on_event: EventCallback | None = None, request_id: int | str | None = None,
                **options: Any) -> Result:
        """Send a generate/continue/infill/accompany request and wait for its complete result."""
        if on_note is not None:
            options.setdefault("stream", True)
        request_id = self.submit(mode, notes, request_id=request_id, **options)
        return self.wait(request_id, timeout=timeout, on_progress=on_progress, on_note=on_note, on_event=on_event)

    def generate(self, prompt: str = "", **options: Any) -> Result:
        return self.request("generate", prompt=prompt, **options)

    def transport(self, state: str, song_beat: float = 0.0, timeout: float = 2.0) -> int:
        """Tell the daemon the DAW's transport started (at ``song_beat``) or stopped; returns players affected."""
        request_id = self.new_id()
        self.send(P.TRANSPORT, [request_id, 0, state, Double(song_beat), *self._secret_atoms()])
        reply = self._next(self._for(request_id, P.TRANSPORT_OK, P.ERROR), time.monotonic() + timeout)
        if reply is None:
            raise DaemonUnreachable(f"no answer from a daemon on {self.where} within {timeout:g} s")
        self._raise_if_error(*reply)
        return int(read_reply(P.TRANSPORT_OK, reply[1])["players"])

    def cancel(self, target: int | str, timeout: float = 2.0) -> list[str]:
        """Cancel one of this host's requests (or ``"*"``: all of them); returns the states they were in."""
        request_id = self.new_id()
        self.send(P.CANCEL, [request_id, 0, target, *self._secret_atoms()])
        wanted = self._for(request_id, P.CANCELLED, P.ERROR)
        reply = self._next(wanted, time.monotonic() + timeout)
        if reply is None:
            raise DaemonUnreachable(f"no answer from a daemon on {self.where} within {timeout:g} s")
        self._raise_if_error(*reply)
        states = [str(read_reply(P.CANCELLED, reply[1])["was"])]
        if target == "*":
            while (more := self._next(wanted, time.monotonic() + 0.2)) is not None:
                states.append(str(read_reply(P.CANCELLED, more[1])["was"]))
        return states
