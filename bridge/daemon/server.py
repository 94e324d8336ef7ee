"""The daemon's transport and life cycle: the UDP socket in an asyncio loop, sending, sweeping, shutdown.

The loop only parses, validates, queues and sends; it never waits on the
model, so pings are answered while a job runs or the model loads. The parts:
bridge/daemon/routes.py (a datagram to its handlers, the secret first),
handlers.py (one per address), header.py (the one header parser),
arrivals.py (requests whose notes are arriving), jobs.py (the FIFO),
worker.py (the model's thread) and results.py (kept for resend).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bridge import protocol as P
from bridge.daemon.arrivals import Arrivals
from bridge.daemon.jobs import JobQueue
from bridge.daemon.results import ResultCache
from bridge.daemon.routes import handle_datagram
from bridge.daemon.worker import EngineFactory, Worker
from bridge.live.service import LiveOutput
from bridge.protocol.errors import MODEL_ERROR, SHUTTING_DOWN
from bridge.protocol.osc import encode_fitting
from bridge.protocol.replies import LOADING_STATES, build_reply

log = logging.getLogger("bridge.daemon")

Address = tuple[str, int]


class Daemon:
    """Serves one engine over OSC. Use :meth:`serve` (async) or :class:`DaemonThread`.

    ``state`` is one of :data:`LOADING_STATES` (``downloading`` with ``bytes_done`` of
    ``bytes_total``, ``loading``, ``warming_up``; ``load_message`` says it in words), ``ready``,
    ``error`` (the model could not be loaded; ``load_message`` says why and what to do;
    ``/reload`` tries again) or ``shutting_down``. It changes in the loop thread only.
    """

    def __init__(self, config: Mapping[str, Mapping[str, Any]], *, engine: Any = None,
                 engine_factory: EngineFactory | None = None):
        if engine is None and engine_factory is None:
            raise ValueError("give an engine or an engine factory")
        self.config = config
        self.host: str = config["osc"]["host"]
        self.port: int = config["osc"]["port"]
        self.secret: str | None = config["osc"]["secret"]
        self.max_bytes: int = config["osc"]["max_datagram_bytes"]
        self.limits = config["limits"]
        self.chunk_timeout = float(self.limits["chunk_timeout_seconds"])
        self.state = "loading"
        self.load_message = ""
        self.bytes_done = self.bytes_total = 0
        self.load_seconds = 0.0
        self.description = {"model": config["model"]["id"], "device": config["model"]["device"],
                            "dtype": config["model"]["dtype"], "profile": config["model"]["profile"]}
        self.queue = JobQueue(self.limits["queue_length"])
        self.arrivals = Arrivals(self.limits["max_notes_in"], self.chunk_timeout, self._drop_from_host)
        self.results = ResultCache()
        self.live = LiveOutput(config["midi"])
        self.worker = Worker(self, engine, engine_factory)
        self.counters = {"datagrams": 0, "dropped": 0, "errors": 0, "jobs": 0}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self._stop: asyncio.Event | None = None
        self.bound = threading.Event()
        self.ready = threading.Event()
        self.settled = threading.Event()
        """Set once the first load has ended, loaded or failed."""
        self._drops = 0
        self._last_drop_log = 0.0

    @property
    def engine(self) -> Any:
        return self.worker.engine

    # ----- life cycle -------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        """Bind the socket and start the worker; returns the bound (host, port)."""
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        transport, _ = await self.loop.create_datagram_endpoint(lambda: _Protocol(self),
                                                                local_addr=(self.host, self.port))
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        self.bound.set()
        log.info("listening on udp %s:%d%s", self.host, self.port,
                 f"; loading {self.config['model']['id']}" if self.engine is None else "")
        self.worker.start()
        self.loop.create_task(self._sweep())
        return self.host, self.port

    async def serve(self) -> int:
        """Run until :meth:`shutdown`; returns the exit status (0)."""
        await self.start()
        assert self._stop is not None
        await self._stop.wait()
        await asyncio.to_thread(self.worker.join, 10.0)
        await asyncio.sleep(0.05)  # let the last replies leave
        if self.transport is not None:
            self.transport.close()
        return 0

    def call_in_loop(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` in the loop thread (from the worker)."""
        if self.loop is None:
            return
        try:
            self.loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # the loop is closed
            pass

    def load_progress(self, state: str, message: str, done: int, total: int) -> None:
        """A loading stage reported by the worker's engine factory (loop thread)."""
        if self.state in LOADING_STATES:
            self.state, self.load_message, self.bytes_done, self.bytes_total = state, message, done, total

    def model_ready(self, description: dict[str, Any], seconds: float) -> None:
        self.description, self.load_seconds = description, seconds
        if self.state in LOADING_STATES:
            self.state, self.load_message = "ready", ""
            self.bytes_done = self.bytes_total = 0
        self.ready.set()
        self.settled.set()

    def model_failed(self, sentence: str) -> None:
        """The load failed: stay up in state error; the jobs that waited for the model get the sentence."""
        if self.state != "shutting_down":
            self.state, self.load_message = "error", sentence
            self.bytes_done = self.bytes_total = 0
        for job in self.queue.drain():
            self.send_error(job.reply_to, job.request_id, MODEL_ERROR, sentence)
        self.settled.set()

    def retry_load(self) -> None:
        """``/reload`` in state error: load again (the user fixed the cause). Otherwise nothing to do."""
        if self.state == "error":
            log.info("loading the model again, as a client asked")
            self.state, self.load_message = "loading", ""
            self.worker.retry_load()

    def shutdown(self, reason: str = "asked to stop") -> None:
        """Stop accepting, cancel every job (telling its client), then stop the loop. Loop thread only."""
        if self.state == "shutting_down":
            return
        log.info("shutting down: %s", reason)
        self.state = "shutting_down"
        message = f"the daemon is shutting down ({reason}); this request was not finished. Start the daemon " \
                  "again and resend it."
        for pending in self.arrivals.drain():
            if pending.reply_to is not None:
                self.send_error(pending.reply_to, pending.request_id, SHUTTING_DOWN, message)
        for job in self.queue.close():
            self.send_error(job.reply_to, job.request_id, SHUTTING_DOWN, message)
        for running in self.queue.running_jobs():
            running.cancel.set()  # the worker replies shutting_down when the engine stops
        self.worker.stop()
        self.live.close()  # every sounding note ends; All Notes Off on the channels used
        if self._stop is not None:
            self._stop.set()

    async def _sweep(self) -> None:
        """Answer requests whose chunks stopped arriving; forget old results."""
        interval = max(0.02, min(0.25, self.chunk_timeout / 4))
        while self._stop is not None and not self._stop.is_set():
            await asyncio.sleep(interval)
            for pending in self.arrivals.expired():
                if pending.reply_to is not None:
                    error = pending.timeout_error()
                    self.send_error(pending.reply_to, pending.request_id, error.code, error.message, error.details)
            self.results.forget_old()

    # ----- sending ----------------------------------------------------------------------

    def send_bytes(self, data: bytes, address: Address) -> None:
        """Send one datagram from the loop thread (a client that has gone is not an error)."""
        if self.transport is None or self.transport.is_closing():
            return
        try:
            self.transport.sendto(data, address)
        except OSError as error:
            log.debug("cannot send to %s:%s: %s", address[0], address[1], error)

    def encode(self, osc_address: str, args: Sequence[Any]) -> bytes:
        """A reply that fits osc.max_datagram_bytes (long texts are shortened)."""
        return encode_fitting(osc_address, args, self.max_bytes)

    def send(self, address: Address, osc_address: str, args: Sequence[Any]) -> None:
        try:
            data = self.encode(osc_address, args)
        except ValueError as error:
            log.error("reply not sent: %s", error)
            return
        self.send_bytes(data, address)

    def send_threadsafe(self, address: Address, data: bytes) -> None:
        self.call_in_loop(self.send_bytes, data, address)

    def send_error(self, address: Address, request_id: Any, code: str, message: str,
                   details: Sequence[Any] = ()) -> None:
        self.counters["errors"] += 1
        log.info("request %s from %s:%s: %s: %s", request_id, address[0], address[1], code, message)
        self.send(address, P.ERROR, build_reply(P.ERROR, id=request_id, code=code, message=message, tail=details))

    # ----- receiving --------------------------------------------------------------------

    def datagram_received(self, data: bytes, sender: tuple[Any, ...]) -> None:
        handle_datagram(self, data, (sender[0], sender[1]))

    def drop(self, sender: Address, what: str) -> None:
        """A message that gets no reply: one log line a second at most, with the count of the others."""
        self.counters["dropped"] += 1
        self._drops += 1
        now = time.monotonic()
        if now - self._last_drop_log >= 1.0:
            more = f" (and {self._drops - 1} more dropped since the last report)" if self._drops > 1 else ""
            log.warning("dropped from %s:%s: %s%s", sender[0], sender[1], what, more)
            self._last_drop_log = now
            self._drops = 0

    def _drop_from_host(self, host: str, what: str) -> None:
        self.drop((host, 0), what)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:  # type: ignore[override]
        self.daemon.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" after a reply to a client that has gone: nothing to do.
        log.debug("socket error: %s", exc)


class DaemonThread:
    """A daemon in a background thread with its own loop (tests, benchmarks, embedding)."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]], *, engine: Any = None,
                 engine_factory: EngineFactory | None = None):
        self.daemon = Daemon(config, engine=engine, engine_factory=engine_factory)
        self._thread = threading.Thread(target=self._run, name="midi-llm-daemon", daemon=True)
        self._error: BaseException | None = None
        self.exit_code: int | None = None

    def _run(self) -> None:
        try:
            self.exit_code = asyncio.run(self.daemon.serve())
        except BaseException as error:  # noqa: BLE001 - reported by start()
            self._error = error
            self.daemon.bound.set()

    def start(self, timeout: float = 30.0) -> DaemonThread:
        """Start and wait until the first load has ended (ready, or state error: the daemon is up either way)."""
        self._thread.start()
        if not self.daemon.bound.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the daemon did not start: {self._error}")
        if not self.daemon.settled.wait(timeout):
            raise RuntimeError("the model did not finish loading")
        return self

    @property
    def port(self) -> int:
        return self.daemon.port

    def stop(self, timeout: float = 15.0) -> None:
        loop = self.daemon.loop
        if loop is not None and self._thread.is_alive():
            try:
                loop.call_soon_threadsafe(self.daemon.shutdown)
            except RuntimeError:
                pass
        self._thread.join(timeout)

    def __enter__(self) -> DaemonThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
