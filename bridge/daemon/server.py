"""The daemon: OSC over UDP in an asyncio loop, one worker thread on the model.

The loop only parses, validates, queues and sends; it never waits on the
model, so pings are answered while a job runs. The worker thread loads the
engine (so the port answers "loading" at once), then takes jobs from the FIFO
one at a time and runs them (variations batched inside the engine); what it
produces is handed back to the loop to send.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bridge import __version__
from bridge import protocol as P
from bridge.daemon.jobs import Job, JobQueue
from bridge.live.ports import MidiPortError
from bridge.live.service import LiveOutput
from bridge.protocol.assembly import PendingRequest
from bridge.protocol.errors import (
    BAD_REQUEST,
    CANCELLED,
    INTERNAL,
    MIDI_UNAVAILABLE,
    MODEL_ERROR,
    NOT_FOUND,
    SHUTTING_DOWN,
    TOO_LARGE,
    UNAUTHORIZED,
    UNKNOWN_ADDRESS,
    ProtocolError,
)
from bridge.protocol.notes import as_float, encode_chunks, note_to_atoms, sorted_notes
from bridge.protocol.osc import Double, OscDecodeError, decode_datagram, encode_fitting, encode_message
from bridge.protocol.requests import (
    build_job_spec,
    expected_notes,
    parse_options,
    parse_reply_port,
    parse_request_id,
)

log = logging.getLogger("bridge.daemon")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_PENDING = 256
"""Requests whose notes are still arriving, over all clients; more are dropped (logged)."""
RESULT_CACHE_JOBS = 32
RESULT_CACHE_SECONDS = 120.0
PROGRESS_INTERVAL = 0.1
SEND_BURST = 16
"""Datagrams sent back to back before the worker pauses a millisecond (so a client's buffer keeps up)."""


class Daemon:
    """Serves one engine over OSC. Use :meth:`serve` (async) or :class:`DaemonThread`."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]], *, engine: Any = None,
                 engine_factory: Callable[[], Any] | None = None):
        if engine is None and engine_factory is None:
            raise ValueError("give an engine or an engine factory")
        self.config = config
        self.host: str = config["osc"]["host"]
        self.port: int = config["osc"]["port"]
        self.secret: str | None = config["osc"]["secret"]
        self.max_bytes: int = config["osc"]["max_datagram_bytes"]
        self.limits = config["limits"]
        self.chunk_timeout: float = float(self.limits["chunk_timeout_seconds"])
        self.queue = JobQueue(self.limits["queue_length"])
        self.state = "loading"
        self.engine = engine
        self._engine_factory = engine_factory
        self.description = {"model": config["model"]["id"], "device": config["model"]["device"],
                            "dtype": config["model"]["dtype"], "profile": config["model"]["profile"]}
        self.load_seconds = 0.0
        self.load_error: BaseException | None = None
        self.pending: dict[tuple[str, str], PendingRequest] = {}
        self._results: OrderedDict[tuple[str, str], tuple[float, tuple[str, int], dict]] = OrderedDict()
        self._results_lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self._stop: asyncio.Event | None = None
        self._worker: threading.Thread | None = None
        self.ready = threading.Event()
        self.bound = threading.Event()
        self._drops = 0
        self._last_drop_log = 0.0
        self.counters = {"datagrams": 0, "dropped": 0, "errors": 0, "jobs": 0}
        self.live = LiveOutput(config["midi"])

    # ----- life cycle -------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        """Bind the socket and start the worker; returns the bound (host, port)."""
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        transport, _ = await self.loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self.host, self.port)
        )
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        self.bound.set()
        log.info("listening on udp %s:%d%s", self.host, self.port,
                 f"; loading {self.config['model']['id']}" if self.engine is None else "")
        self._worker = threading.Thread(target=self._work, name="midi-llm-worker", daemon=True)
        self._worker.start()
        self.loop.create_task(self._sweep())
        return self.host, self.port

    async def serve(self) -> int:
        """Run until :meth:`shutdown`; returns the exit status (0, or 1 if the model never loaded)."""
        await self.start()
        assert self._stop is not None
        await self._stop.wait()
        if self._worker is not None:
            await asyncio.to_thread(self._worker.join, 10.0)
        await asyncio.sleep(0.05)  # let the last replies leave
        if self.transport is not None:
            self.transport.close()
        return 1 if self.load_error is not None else 0

    def shutdown(self, reason: str = "asked to stop") -> None:
        """Stop accepting, cancel every job (telling its client), then stop the loop. Loop thread only."""
        if self.state == "shutting_down":
            return
        log.info("shutting down: %s", reason)
        self.state = "shutting_down"
        message = f"the daemon is shutting down ({reason}); this request was not finished. Start the daemon " \
                  "again and resend it."
        for key, pending in list(self.pending.items()):
            if pending.has_header and pending.reply_to is not None:
                self.send_error(pending.reply_to, pending.request_id, SHUTTING_DOWN, message)
            del self.pending[key]
        for job in self.queue.close():
            self.send_error(job.reply_to, job.request_id, SHUTTING_DOWN, message)
        running = self.queue.running
        if running is not None:
            running.cancel.set()  # the worker replies shutting_down when the engine stops
        self.live.close()  # every sounding note ends; All Notes Off on the channels used
        if self._stop is not None:
            self._stop.set()

    # ----- sending ----------------------------------------------------------------------

    def _sendto(self, data: bytes, address: tuple[str, int]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            self.transport.sendto(data, address)
        except OSError as error:
            log.debug("cannot send to %s:%s: %s", address[0], address[1], error)

    def encode(self, osc_address: str, args: Sequence[Any]) -> bytes:
        """A reply that fits osc.max_datagram_bytes (long texts are shortened)."""
        return encode_fitting(osc_address, args, self.max_bytes)

    def send(self, address: tuple[str, int], osc_address: str, args: Sequence[Any]) -> None:
        """Send one message from the loop thread."""
        try:
            data = self.encode(osc_address, args)
        except ValueError as error:
            log.error("reply not sent: %s", error)
            return
        self._sendto(data, address)

    def send_threadsafe(self, address: tuple[str, int], data: bytes) -> None:
        if self.loop is None:
            return
        try:
            self.loop.call_soon_threadsafe(self._sendto, data, address)
        except RuntimeError:  # the loop is closed
            pass

    def send_error(self, address: tuple[str, int], request_id: Any, code: str, message: str,
                   details: Sequence[Any] = ()) -> None:
        self.counters["errors"] += 1
        log.info("request %s from %s:%s: %s: %s", request_id, address[0], address[1], code, message)
        self.send(address, P.ERROR, [request_id, code, message, *details])

    def _error_bytes(self, request_id: Any, code: str, message: str) -> bytes:
        return self.encode(P.ERROR, [request_id, code, message])

    # ----- receiving --------------------------------------------------------------------

    def datagram_received(self, data: bytes, sender: tuple[str, int]) -> None:
        self.counters["datagrams"] += 1
        sender = (sender[0], sender[1])
        try:
            messages = decode_datagram(data)
        except OscDecodeError as error:
            self._drop(sender, f"{len(data)} bytes that are not OSC ({error})")
            return
        if len(data) > self.max_bytes:
            address, args = messages[0]
            request_id, reply_to = self._reply_target(address, args, sender)
            if reply_to is None:
                self._drop(sender, f"a {len(data)}-byte datagram over osc.max_datagram_bytes")
                return
            self.send_error(reply_to, request_id, TOO_LARGE,
                            f"a message of {len(data)} bytes is over this daemon's {self.max_bytes}-byte limit "
                            "(osc.max_datagram_bytes); send the notes in smaller chunks")
            return
        for address, args in messages:
            try:
                self._handle(address, args, sender)
            except ProtocolError as error:
                request_id, reply_to = self._reply_target(address, args, sender)
                if reply_to is None:
                    self._drop(sender, f"{address}: {error.message}")
                else:
                    self.send_error(reply_to, request_id, error.code, error.message, error.details)
            except Exception as error:  # never let one message stop the daemon
                log.exception("while handling %s from %s:%s", address, sender[0], sender[1])
                request_id, reply_to = self._reply_target(address, args, sender)
                if reply_to is not None:
                    self.send_error(reply_to, request_id, INTERNAL,
                                    f"the daemon hit a bug ({type(error).__name__}); it keeps serving. "
                                    "Please report it with the daemon's log.")

    def _drop(self, sender: tuple[str, int], what: str) -> None:
        self.counters["dropped"] += 1
        self._drops += 1
        now = time.monotonic()
        if now - self._last_drop_log >= 1.0:
            more = f" (and {self._drops - 1} more dropped since the last report)" if self._drops > 1 else ""
            log.warning("dropped from %s:%s: %s%s", sender[0], sender[1], what, more)
            self._last_drop_log = now
            self._drops = 0

    def _reply_target(self, address: str, args: Sequence[Any], sender: tuple[str, int]
                      ) -> tuple[Any, tuple[str, int] | None]:
        """Best effort (id, reply address) for an error about a message that may be malformed."""
        request_id: Any = ""
        if args:
            try:
                request_id, _ = parse_request_id(args[0])
            except ProtocolError:
                request_id = ""
        if address == P.NOTES:
            pending = self.pending.get((sender[0], str(request_id)))
            return request_id, pending.reply_to if pending is not None else None
        port = 0
        if len(args) > 1:
            try:
                port = parse_reply_port(args[1])
            except ProtocolError:
                port = 0
        return request_id, (sender[0], port or sender[1])

    def _authorize(self, options: Mapping[str, Any]) -> None:
        if not self.secret:
            return
        given = options.get("secret")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise ProtocolError(UNAUTHORIZED, "this daemon needs its secret in every request (osc.secret): add "
                                              "the option secret followed by the token")

    def _header(self, args: Sequence[Any], sender: tuple[str, int], *, options_from: int = 2
                ) -> tuple[Any, str, tuple[str, int], dict[str, Any]]:
        if len(args) < 2:
            raise ProtocolError(BAD_REQUEST, "a request needs at least: id reply_port (0 = reply to the sender)")
        request_id, key = parse_request_id(args[0])
        port = parse_reply_port(args[1])
        reply_to = (sender[0], port or sender[1])
        options = parse_options(args[options_from:])
        return request_id, key, reply_to, options

    def _handle(self, address: str, args: list[Any], sender: tuple[str, int]) -> None:
        if address == P.NOTES:
            self._on_notes(args, sender)
        elif address == P.PING:
            self._on_ping(args, sender)
        elif address in P.MODE_ADDRESSES:
            self._on_job(P.MODE_ADDRESSES[address], args, sender)
        elif address == P.STATUS:
            request_id, _, reply_to, options = self._header(args, sender)
            self._authorize(options)
            self.send(reply_to, P.INFO, self._info(request_id))
        elif address == P.CANCEL:
            self._on_cancel(args, sender)
        elif address == P.RESEND:
            self._on_resend(args, sender)
        elif address == P.TRANSPORT:
            self._on_transport(args, sender)
        elif address in P.REPLY_ADDRESSES:
            self._drop(sender, f"{address} is a reply, not a request")
        else:
            raise ProtocolError(UNKNOWN_ADDRESS, f"this daemon does not know {address!r}; it speaks protocol "
                                                 f"{P.PROTOCOL_VERSION}: /midi-llm/ping, status, generate, continue, "
                                                 "infill, accompany, notes, cancel, resend, transport")

    # ----- requests ---------------------------------------------------------------------

    def _on_transport(self, args: list[Any], sender: tuple[str, int]) -> None:
        """``/transport id reply_port play|stop [song_beat]``: the DAW's transport, for live output."""
        if len(args) < 3:
            raise ProtocolError(BAD_REQUEST, "transport needs: id reply_port play|stop [song position in beats]")
        request_id = parse_request_id(args[0])[0]
        reply_to = (sender[0], parse_reply_port(args[1]) or sender[1])
        state = args[2]
        if state not in ("play", "stop"):
            raise ProtocolError(BAD_REQUEST, f"transport state {state!r} must be play or stop")
        rest = list(args[3:])
        beat = 0.0
        if rest and not isinstance(rest[0], str):
            beat = as_float(rest.pop(0), "transport", "song position", 0.0, 1e7)
        self._authorize(parse_options(rest))
        affected = self.live.transport(state == "play", beat)
        log.info("transport %s at beat %g: %d live player(s)", state, beat, affected)
        self.send(reply_to, P.TRANSPORT_OK, [request_id, state, affected])

    def _on_ping(self, args: list[Any], sender: tuple[str, int]) -> None:
        padded = list(args) + [0, 0][len(args):]
        request_id, _, reply_to, options = self._header(padded, sender)
        self._authorize(options)
        running = self.queue.running
        self.send(reply_to, P.PONG, [request_id, P.PROTOCOL_VERSION, __version__, self.state,
                                     self.description["model"][-200:], self.description["device"],
                                     len(self.queue), 1 if running is not None else 0])

    def _info(self, request_id: Any) -> list[Any]:
        running = self.queue.running
        d = self.description
        return [request_id, P.PROTOCOL_VERSION, __version__, self.state, d["model"][-200:], d["device"],
                d["dtype"], d["profile"], len(self.queue), "" if running is None else str(running.request_id),
                self.limits["max_notes_in"], self.limits["max_notes_out"], self.limits["max_bars"],
                self.limits["max_variations"], self.limits["queue_length"], self.max_bytes,
                float(self.load_seconds)]

    def _on_job(self, mode: str, args: list[Any], sender: tuple[str, int]) -> None:
        request_id, key, reply_to, options = self._header(args, sender)
        self._authorize(options)
        if self.state == "shutting_down":
            raise ProtocolError(SHUTTING_DOWN, "the daemon is shutting down and takes no new requests")
        full_key = (sender[0], key)
        if self.queue.find(full_key) is not None:
            raise ProtocolError(BAD_REQUEST, f"request id {request_id} is already waiting or running; "
                                             "use a new id for each request")
        count = expected_notes(options, self.limits)
        pending = self.pending.get(full_key)
        if pending is not None and pending.has_header:
            raise ProtocolError(BAD_REQUEST, f"request id {request_id} is already arriving; use a new id")
        if pending is None:
            if not self._room_for_pending(sender):
                raise ProtocolError(TOO_LARGE, "too many requests are arriving at once; try again in a moment")
            pending = self.pending[full_key] = PendingRequest(request_id)
        pending.request_id = request_id
        pending.set_header(mode, options, reply_to, count)
        if pending.complete():
            self._finish_pending(full_key)

    def _room_for_pending(self, sender: tuple[str, int]) -> bool:
        if len(self.pending) < MAX_PENDING:
            return True
        # Make room by forgetting chunks that no header claimed (the oldest first).
        orphans = [k for k, p in self.pending.items() if not p.has_header]
        if not orphans:
            return False
        oldest = min(orphans, key=lambda k: self.pending[k].last_seen)
        del self.pending[oldest]
        self._drop(sender, "chunks of a request whose header never came (too many requests arriving)")
        return True

    def _on_notes(self, args: list[Any], sender: tuple[str, int]) -> None:
        if not args:
            raise ProtocolError(BAD_REQUEST, "a /notes message needs: id chunk chunks notes...")
        request_id, key = parse_request_id(args[0])
        full_key = (sender[0], key)
        pending = self.pending.get(full_key)
        if pending is None:
            if self.state == "shutting_down":
                return
            if not self._room_for_pending(sender):
                self._drop(sender, "a /notes chunk (too many requests arriving)")
                return
            pending = self.pending[full_key] = PendingRequest(request_id)
        pending.add_chunk(args[1:], self.limits["max_notes_in"])
        if pending.complete():
            self._finish_pending(full_key)

    def _finish_pending(self, key: tuple[str, str]) -> None:
        pending = self.pending.pop(key)
        assert pending.reply_to is not None and pending.mode is not None and pending.options is not None
        try:
            raw = pending.raw_notes()
            spec = build_job_spec(pending.mode, pending.options, raw, self.config)
        except ProtocolError as error:
            self.send_error(pending.reply_to, pending.request_id, error.code, error.message, error.details)
            return
        job = Job(key, pending.request_id, pending.reply_to, spec)
        try:
            ahead = self.queue.put(job)
        except ProtocolError as error:
            self.send_error(job.reply_to, job.request_id, error.code, error.message)
            return
        self.counters["jobs"] += 1
        log.info("request %s from %s:%s: %s of %g beats with %d notes, %d variation(s), queued behind %d",
                 job.request_id, key[0], job.reply_to[1], spec.mode, spec.end - spec.start, len(spec.notes),
                 spec.variations, ahead)
        self.send(job.reply_to, P.ACCEPTED, [job.request_id, ahead])

    def _on_cancel(self, args: list[Any], sender: tuple[str, int]) -> None:
        if len(args) < 3:
            raise ProtocolError(BAD_REQUEST, "cancel needs: id reply_port target (the id of the request to "
                                             "cancel, or * for all of yours)")
        request_id, _, reply_to, options = self._header(args, sender, options_from=3)
        self._authorize(options)
        target = args[2]
        if target == "*":
            keys = [j.key for j in self.queue.waiting() if j.key[0] == sender[0]]
            running = self.queue.running
            if running is not None and running.key[0] == sender[0]:
                keys.append(running.key)
            keys += [k for k, p in self.pending.items() if k[0] == sender[0] and p.has_header]
        else:
            target, target_key = parse_request_id(target)
            keys = [(sender[0], target_key)]
        cancelled = 0
        for key in keys:
            state = self._cancel(key)
            if state is not None:
                cancelled += 1
                self.send(reply_to, P.CANCELLED, [request_id, key[1] if target == "*" else target, state])
        if not cancelled and target != "*":
            raise ProtocolError(NOT_FOUND, f"no request {target} is waiting or running (it may have finished)")
        if target == "*" and not cancelled:
            self.send(reply_to, P.CANCELLED, [request_id, "*", "none"])

    def _cancel(self, key: tuple[str, str]) -> str | None:
        job = self.queue.remove(key)
        if job is not None:
            log.info("request %s cancelled while waiting", job.request_id)
            self.send_error(job.reply_to, job.request_id, CANCELLED, "cancelled before it started")
            return "queued"
        job = self.queue.find(key)
        if job is not None:
            log.info("request %s cancelled while running", job.request_id)
            job.cancel.set()
            return "running"
        pending = self.pending.pop(key, None)
        if pending is not None and pending.has_header and pending.reply_to is not None:
            self.send_error(pending.reply_to, pending.request_id, CANCELLED, "cancelled while its notes arrived")
            return "arriving"
        return None

    def _on_resend(self, args: list[Any], sender: tuple[str, int]) -> None:
        body = list(args)
        options: dict[str, Any] = {}
        if len(body) >= 4 and body[-2] == "secret":
            options = {"secret": body[-1]}
            body = body[:-2]
        if len(body) < 2 or (len(body) - 2) % 2:
            raise ProtocolError(BAD_REQUEST, "resend needs: id reply_port variation chunk [variation chunk ...]")
        request_id, key = parse_request_id(body[0])
        reply_to = (sender[0], parse_reply_port(body[1]) or sender[1])
        self._authorize(options)
        with self._results_lock:
            entry = self._results.get((sender[0], key))
        if entry is None:
            raise ProtocolError(NOT_FOUND, f"the results of request {request_id} are no longer kept "
                                           f"(kept {RESULT_CACHE_SECONDS:g} s); send the request again")
        _, _, chunks = entry
        for i in range(2, len(body), 2):
            variation = int(body[i])
            chunk = int(body[i + 1])
            wanted = [k for k in chunks if k[0] == variation and (chunk < 0 or k[1] == chunk)]
            if not wanted:
                raise ProtocolError(NOT_FOUND, f"request {request_id} has no variation {variation} chunk {chunk}")
            for k in sorted(wanted):
                self._sendto(chunks[k], reply_to)

    async def _sweep(self) -> None:
        """Answer requests whose chunks stopped arriving; forget old results."""
        interval = max(0.02, min(0.25, self.chunk_timeout / 4))
        while self._stop is not None and not self._stop.is_set():
            await asyncio.sleep(interval)
            now = time.monotonic()
            for key, pending in list(self.pending.items()):
                if now - pending.last_seen < self.chunk_timeout:
                    continue
                del self.pending[key]
                if pending.has_header and pending.reply_to is not None:
                    error = pending.timeout_error()
                    self.send_error(pending.reply_to, pending.request_id, error.code, error.message, error.details)
                else:
                    self._drop((key[0], 0), f"chunks of request {pending.request_id} whose header never came")
            with self._results_lock:
                for key in [k for k, (t, _, _) in self._results.items() if now - t > RESULT_CACHE_SECONDS]:
                    del self._results[key]

    # ----- the worker -------------------------------------------------------------------

    def _work(self) -> None:
        started = time.perf_counter()
        try:
            if self.engine is None:
                assert self._engine_factory is not None
                self.engine = self._engine_factory()
                self.load_seconds = time.perf_counter() - started
            else:
                self.load_seconds = float(getattr(getattr(self.engine, "loaded", None), "load_seconds", 0.0))
            self.description = dict(self.engine.description)
        except BaseException as error:  # noqa: BLE001 - reported, then the daemon stops
            self.load_error = error
            log.error("the model could not be loaded: %s", error)
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.shutdown, f"the model could not be loaded ({error})")
            return
        if self.state == "loading":
            self.state = "ready"
        self.ready.set()
        d = self.description
        log.info("ready: model %s (%s) on %s %s, OSC on udp %s:%d, loaded in %.1f s", d["model"], d["profile"],
                 d["device"], d["dtype"], self.host, self.port, self.load_seconds)
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                outgoing = self._run_job(job)
            except Exception:  # noqa: BLE001 - the worker must survive anything
                log.exception("request %s failed", job.request_id)
                outgoing = [self._error_bytes(job.request_id, INTERNAL,
                                              "the daemon hit a bug while writing; it keeps serving")]
            # The job leaves the queue before its last replies go out: a client that reacts to
            # "done" at once (a new request with the same id, a cancel) sees the daemon as it is.
            self.queue.finished(job)
            for i, data in enumerate(outgoing):
                self.send_threadsafe(job.reply_to, data)
                if i % SEND_BURST == SEND_BURST - 1:
                    time.sleep(0.001)

    def _run_job(self, job: Job) -> list[bytes]:
        """Run ``job`` on the engine (streaming progress); returns the final replies to send."""
        from bridge.daemon.convert import to_generation_request
        from bridge.engine.engine import Cancelled

        spec = job.spec
        reply = job.reply_to
        rid = job.request_id
        self.send_threadsafe(reply, encode_message(P.STARTED, [rid]))
        last_progress = [0.0]
        sequence = [0]

        def on_progress(fraction: float, notes: int) -> None:
            now = time.monotonic()
            if now - last_progress[0] >= PROGRESS_INTERVAL or fraction >= 1.0:
                last_progress[0] = now
                self.send_threadsafe(reply, encode_message(P.PROGRESS, [rid, float(fraction), int(notes)]))

        def on_note(variation: int, note: Any) -> None:
            atoms = note_to_atoms(note, tempo=spec.tempo, seconds=spec.seconds, doubles=spec.doubles)
            self.send_threadsafe(reply, encode_message(P.NOTE, [rid, variation, sequence[0], *atoms]))
            sequence[0] += 1

        player = None
        if spec.live:
            try:
                player = self.live.player(spec.tempo, spec.start, follow_transport=spec.follow)
            except (MidiPortError, RuntimeError) as error:
                log.warning("request %s: live output unavailable: %s", rid, error)
                return [self._error_bytes(rid, MIDI_UNAVAILABLE, f"live output is not available: {error}")]

        def deliver(variation: int, note: Any) -> None:
            if player is not None and variation == spec.live_variation:
                player.add(note)
            if spec.stream:
                on_note(variation, note)

        try:
            request = to_generation_request(spec)
            result = self.engine.run(request, on_note=deliver if (spec.stream or player) else None,
                                     on_progress=on_progress, cancel=job.cancel)
            if player is not None:
                self.live.finish(player)
        except Cancelled:
            if player is not None:
                self.live.abort(player)
            if self.state == "shutting_down":
                code, message = SHUTTING_DOWN, "the daemon is shutting down; this request was stopped"
            else:
                code, message = CANCELLED, "cancelled while the model was writing"
            log.info("request %s: %s", rid, message)
            return [self._error_bytes(rid, code, message)]
        except ValueError as error:
            if player is not None:
                self.live.abort(player)
            log.info("request %s refused by the engine: %s", rid, error)
            return [self._error_bytes(rid, BAD_REQUEST, str(error))]
        except Exception as error:  # noqa: BLE001 - the model failed; the daemon keeps serving
            if player is not None:
                self.live.abort(player)
            log.exception("request %s: the model failed", rid)
            return [self._error_bytes(rid, MODEL_ERROR, f"the model failed while writing ({type(error).__name__}: "
                                                        f"{error}); the daemon keeps serving, try again")]
        chunks: dict[tuple[int, int], bytes] = {}
        outgoing: list[bytes] = []
        total = 0
        for variation in result.variations:
            notes = sorted_notes(variation.notes if spec.whole else variation.new_notes)
            total += len(notes)
            atoms = [note_to_atoms(n, tempo=spec.tempo, seconds=spec.seconds, doubles=spec.doubles) for n in notes]
            messages = encode_chunks(P.RESULT, [rid, variation.index], atoms, max_bytes=self.max_bytes,
                                     total_in_header=True)
            for index, data in enumerate(messages):
                chunks[(variation.index, index)] = data
            outgoing.extend(messages)
        for warning in result.warnings:
            outgoing.append(self.encode(P.WARNING, [rid, warning]))
        number = Double if spec.doubles else float
        outgoing.append(encode_message(P.DONE, [
            rid, len(result.variations), int(result.seed), float(result.seconds), len(result.removed_notes),
            number(spec.to_units(spec.start)), number(spec.to_units(spec.end)),
        ]))
        with self._results_lock:
            self._results[job.key] = (time.monotonic(), reply, chunks)
            while len(self._results) > RESULT_CACHE_JOBS:
                self._results.popitem(last=False)
        log.info("request %s done: %d variation(s), %d notes, %d ids in %.2f s", rid, len(result.variations),
                 total, result.sampled_tokens, result.seconds)
        return outgoing


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self.daemon.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" after a reply to a client that has gone: nothing to do.
        log.debug("socket error: %s", exc)


class DaemonThread:
    """A daemon in a background thread with its own loop (tests, benchmarks, embedding)."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]], *, engine: Any = None,
                 engine_factory: Callable[[], Any] | None = None):
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
        self._thread.start()
        if not self.daemon.bound.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the daemon did not start: {self._error}")
        if not self.daemon.ready.wait(timeout):
            raise RuntimeError("the model did not become ready")
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
