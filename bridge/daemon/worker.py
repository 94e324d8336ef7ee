"""The worker thread: loads the model (again, when asked after a failure), then runs jobs one at a time
(several at once, each on a thread of its own, when the engine batches jobs itself: the vLLM backend).

Only this thread touches the engine. It never sends on the socket itself: each
datagram is handed to the network loop (``send_threadsafe``), and whatever
changes the daemon's state (the model loaded, the load failed) runs in the
loop thread too, so the loop's handlers never race with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bridge import protocol as P
from bridge.daemon.jobs import Job
from bridge.engine.backends.vllm_remote import RemoteVllmError
from bridge.live.ports import MidiPortError
from bridge.protocol.errors import (
    BAD_REQUEST,
    CANCELLED,
    INTERNAL,
    MIDI_UNAVAILABLE,
    MODEL_ERROR,
    SHUTTING_DOWN,
    ProtocolError,
)
from bridge.protocol.notes import encode_chunks, note_to_atoms, sorted_notes
from bridge.protocol.osc import Double
from bridge.protocol.replies import build_reply
from bridge.protocol.requests import JobSpec

if TYPE_CHECKING:
    from bridge.daemon.server import Daemon
    from bridge.live.player import LivePlayer
    from bridge.live.service import LiveOutput

log = logging.getLogger("bridge.daemon")

StageReport = Callable[..., None]
"""``report(state, message, done=0, total=0)``: a loading stage (``downloading`` with bytes, ``loading``,
``warming_up``) for ping/status."""
EngineFactory = Callable[[StageReport], Any]

PROGRESS_INTERVAL = 0.1
SEND_BURST = 16
"""Datagrams sent back to back before the worker pauses a millisecond (so a client's buffer keeps up)."""
MAX_REASON_CHARACTERS = 600


def load_failure_sentence(error: BaseException) -> str:
    """What the log and ping/status say when the model cannot be loaded: what failed and what to do."""
    reason = " ".join(str(error).split()) or type(error).__name__
    if type(error).__name__ != "ModelLoadError":
        reason = f"{type(error).__name__}: {reason}"
    if len(reason) > MAX_REASON_CHARACTERS:
        reason = reason[: MAX_REASON_CHARACTERS - 3] + "..."
    return (f"the model could not be loaded: {reason}. Fix that, then retry the load (/midi-llm/reload, the "
            "Retry button of the DAW client) or restart the daemon")


class LivePlayback:
    """``with LivePlayback(live, spec) as player:`` the job's live player, or None when it plays nothing.

    A job that ends normally lets its player play out; one that ends by an
    exception (cancel, error, shutdown) silences it at once. Opening the MIDI
    port can fail: that is a ``midi_unavailable`` error for the client.
    """

    def __init__(self, live: LiveOutput, spec: JobSpec):
        self.live = live
        self.spec = spec
        self.player: LivePlayer | None = None

    def __enter__(self) -> LivePlayer | None:
        if not self.spec.live:
            return None
        try:
            self.player = self.live.player(self.spec.request.tempo, self.spec.request.start,
                                           follow_transport=self.spec.follow)
        except (MidiPortError, RuntimeError) as error:
            raise ProtocolError(MIDI_UNAVAILABLE, f"live output is not available: {error}") from None
        return self.player

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> bool:
        if self.player is not None:
            if exc_type is None:
                self.live.finish(self.player)
            else:
                self.live.abort(self.player)
        return False


class Worker:
    """The model's thread; see the module docstring."""

    def __init__(self, daemon: Daemon, engine: Any, engine_factory: EngineFactory | None):
        self.daemon = daemon
        self.engine = engine
        self._factory = engine_factory
        self._last_stage = ""
        self._retry = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="midi-llm-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        """No more loads or jobs (the queue is closed by the daemon, which wakes the job loop)."""
        self._stopping = True
        self._retry.set()

    def retry_load(self) -> None:
        """Load again after a failure (the daemon calls this for /midi-llm/reload in state error)."""
        self._retry.set()

    # ----- loading ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._load():
            self._retry.wait()
            self._retry.clear()
            if self._stopping:
                return
        if getattr(self.engine, "concurrent", False):  # the backend batches jobs itself (vLLM): run several
            slots = int(self.daemon.config["model"].get("max_concurrent_jobs", 1))
            self.daemon.queue.slots = slots
            for i in range(1, slots):
                threading.Thread(target=self._serve, name=f"midi-llm-worker-{i}", daemon=True).start()
        self._serve()

    def _load(self) -> bool:
        daemon = self.daemon
        started = time.perf_counter()
        try:
            if self.engine is None:
                assert self._factory is not None
                self.engine = self._factory(self._report_stage)
                seconds = time.perf_counter() - started
            else:
                seconds = float(getattr(getattr(self.engine, "loaded", None), "load_seconds", 0.0))
            description = dict(self.engine.description)
        except Exception as error:  # noqa: BLE001 - any failure is reported; the daemon stays up
            self.engine = None
            sentence = load_failure_sentence(error)
            log.error("%s", sentence)
            log.debug("the load failed", exc_info=True)
            daemon.call_in_loop(daemon.model_failed, sentence)
            return False
        daemon.call_in_loop(daemon.model_ready, description, seconds)
        log.info("ready: model %s (%s) on %s %s, OSC on udp %s:%d, loaded in %.1f s", description["model"],
                 description["profile"], description["device"], description["dtype"], daemon.host, daemon.port,
                 seconds)
        return True

    def _report_stage(self, state: str, message: str, done: int = 0, total: int = 0) -> None:
        """The factory's progress (downloading with bytes, loading, warming_up), shown by ping/status and logged
        once per stage (the download's own lines come every 10%)."""
        if state != self._last_stage:
            self._last_stage = state
            log.info("%s", message)
        self.daemon.call_in_loop(self.daemon.load_progress, state, message, done, total)

    # ----- jobs -------------------------------------------------------------------------

    def _serve(self) -> None:
        daemon = self.daemon
        while True:
            job = daemon.queue.get()
            if job is None:
                return
            try:
                outgoing = self._run_job(job)
            except Exception:  # noqa: BLE001 - the worker must survive anything
                log.exception("request %s failed", job.request_id)
                outgoing = [self._error(job.request_id, INTERNAL,
                                        "the daemon hit a bug while writing; it keeps serving")]
            # The job leaves the queue before its last replies go out: a client that reacts to
            # "done" at once (a new request with the same id, a cancel) sees the daemon as it is.
            daemon.queue.finished(job)
            for i, data in enumerate(outgoing):
                daemon.send_threadsafe(job.reply_to, data)
                if i % SEND_BURST == SEND_BURST - 1:
                    time.sleep(0.001)

    def _error(self, request_id: Any, code: str, message: str) -> bytes:
        return self.daemon.encode(P.ERROR, build_reply(P.ERROR, id=request_id, code=code, message=message))

    def _run_job(self, job: Job) -> list[bytes]:
        """Run ``job`` on the engine (streaming progress and notes); returns the final replies to send."""
        from bridge.engine.engine import Cancelled

        daemon, spec, rid = self.daemon, job.spec, job.request_id
        send = daemon.send_threadsafe
        send(job.reply_to, daemon.encode(P.STARTED, build_reply(P.STARTED, id=rid)))
        last_progress = [0.0]
        sequence = [0]

        def on_progress(fraction: float, notes: int) -> None:
            now = time.monotonic()
            if now - last_progress[0] >= PROGRESS_INTERVAL or fraction >= 1.0:
                last_progress[0] = now
                args = build_reply(P.PROGRESS, id=rid, fraction=float(fraction), notes=int(notes))
                send(job.reply_to, daemon.encode(P.PROGRESS, args))

        try:
            with LivePlayback(daemon.live, spec) as player:
                def deliver(variation: int, note: Any) -> None:
                    if player is not None and variation == spec.live_variation:
                        player.add(note)
                    if spec.stream:
                        atoms = note_to_atoms(note, tempo=spec.request.tempo, seconds=spec.seconds, doubles=spec.doubles)
                        args = build_reply(P.NOTE, id=rid, variation=variation, seq=sequence[0], tail=atoms)
                        send(job.reply_to, daemon.encode(P.NOTE, args))
                        sequence[0] += 1

                result = self.engine.run(spec.request,
                                         on_note=deliver if (spec.stream or player is not None) else None,
                                         on_progress=on_progress, cancel=job.cancel)
        except ProtocolError as error:
            log.warning("request %s: %s", rid, error.message)
            return [self._error(rid, error.code, error.message)]
        except Cancelled:
            if daemon.state == "shutting_down":
                code, message = SHUTTING_DOWN, "the daemon is shutting down; this request was stopped"
            else:
                code, message = CANCELLED, "cancelled while the model was writing"
            log.info("request %s: %s", rid, message)
            return [self._error(rid, code, message)]
        except ValueError as error:
            log.info("request %s refused by the engine: %s", rid, error)
            return [self._error(rid, BAD_REQUEST, str(error))]
        except RemoteVllmError as error:  # the GPU server's trouble, in a sentence that says what to do
            log.error("request %s: %s", rid, error)
            return [self._error(rid, MODEL_ERROR, str(error))]
        except Exception as error:  # noqa: BLE001 - the model failed; the daemon keeps serving
            log.exception("request %s: the model failed", rid)
            return [self._error(rid, MODEL_ERROR, f"the model failed while writing ({type(error).__name__}: "
                                                  f"{error}); the daemon keeps serving, try again")]
        return self._result_replies(job, result)

    def _result_replies(self, job: Job, result: Any) -> list[bytes]:
        """The /result chunks of every variation, the warnings and done; the chunks are kept for resend."""
        daemon, spec, rid = self.daemon, job.spec, job.request_id
        chunks: dict[tuple[int, int], bytes] = {}
        outgoing: list[bytes] = []
        total = 0
        for variation in result.variations:
            notes = sorted_notes(variation.notes if spec.whole else variation.new_notes)
            total += len(notes)
            atoms = [note_to_atoms(n, tempo=spec.request.tempo, seconds=spec.seconds, doubles=spec.doubles) for n in notes]
            messages = encode_chunks(P.RESULT, [rid, variation.index], atoms, max_bytes=daemon.max_bytes,
                                     total_in_header=True)
            for index, data in enumerate(messages):
                chunks[(variation.index, index)] = data
            outgoing.extend(messages)
        for warning in result.warnings:
            outgoing.append(daemon.encode(P.WARNING, build_reply(P.WARNING, id=rid, text=warning)))
        number = Double if spec.doubles else float
        outgoing.append(daemon.encode(P.DONE, build_reply(
            P.DONE, id=rid, variations=len(result.variations), seed=int(result.seed), seconds=float(result.seconds),
            removed=len(result.removed_notes), start=number(spec.to_units(spec.request.start)),
            end=number(spec.to_units(spec.request.end)))))
        daemon.results.put(job.key, chunks)
        log.info("request %s done: %d variation(s), %d notes, %d ids in %.2f s", rid, len(result.variations),
                 total, result.sampled_tokens, result.seconds)
        return outgoing
