"""One handler per request address, each given an authorized, parsed :class:`Header`.

The route table at the end maps each address to its handler; the router
(bridge/daemon/routes.py) has already checked the secret and parsed the header,
so a handler reads only its own arguments (``header.body``). Handlers run in
the network loop thread and never wait on the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from bridge import __version__
from bridge import protocol as P
from bridge.daemon.header import Header
from bridge.daemon.jobs import Job
from bridge.protocol.assembly import PendingRequest
from bridge.protocol.errors import BAD_REQUEST, CANCELLED, MODEL_ERROR, NOT_FOUND, SHUTTING_DOWN, ProtocolError
from bridge.protocol.limits import RESULT_CACHE_SECONDS
from bridge.protocol.notes import as_float, as_int
from bridge.protocol.replies import build_reply
from bridge.protocol.requests import build_job_spec, expected_notes, parse_options, parse_request_id

if TYPE_CHECKING:
    from bridge.daemon.server import Daemon

log = logging.getLogger("bridge.daemon")

Handler = Callable[["Daemon", Header], None]


# ----- the daemon's state ---------------------------------------------------------------------


def pong(daemon: Daemon, request_id: Any) -> list[Any]:
    d = daemon.description
    return build_reply(P.PONG, id=request_id, protocol=P.PROTOCOL_VERSION, version=__version__, state=daemon.state,
                       model=d["model"][-200:], device=d["device"], waiting=len(daemon.queue),
                       running=len(daemon.queue.running_jobs()), message=daemon.load_message,
                       bytes_done=float(daemon.bytes_done), bytes_total=float(daemon.bytes_total))


def on_ping(daemon: Daemon, header: Header) -> None:
    daemon.send(header.reply_to, P.PONG, pong(daemon, header.request_id))


def on_status(daemon: Daemon, header: Header) -> None:
    running, d, limits = daemon.queue.running, daemon.description, daemon.limits
    daemon.send(header.reply_to, P.INFO, build_reply(
        P.INFO, id=header.request_id, protocol=P.PROTOCOL_VERSION, version=__version__, state=daemon.state,
        model=d["model"][-200:], device=d["device"], dtype=d["dtype"], profile=d["profile"],
        waiting=len(daemon.queue), running_id="" if running is None else str(running.request_id),
        max_notes_in=limits["max_notes_in"], max_notes_out=limits["max_notes_out"], max_bars=limits["max_bars"],
        max_variations=limits["max_variations"], queue_length=limits["queue_length"],
        max_datagram_bytes=daemon.max_bytes, load_seconds=float(daemon.load_seconds), message=daemon.load_message,
        bytes_done=float(daemon.bytes_done), bytes_total=float(daemon.bytes_total)))


def on_reload(daemon: Daemon, header: Header) -> None:
    """``/reload id reply_port``: after a failed load, try again (the user fixed the cause); else a no-op."""
    daemon.retry_load()
    daemon.send(header.reply_to, P.PONG, pong(daemon, header.request_id))


# ----- generation requests --------------------------------------------------------------------


def on_job(mode: str, daemon: Daemon, header: Header) -> None:
    """``/generate`` (and continue, infill, accompany): the header of a request whose notes may follow."""
    if daemon.state == "shutting_down":
        raise ProtocolError(SHUTTING_DOWN, "the daemon is shutting down and takes no new requests")
    if daemon.state == "error":
        raise ProtocolError(MODEL_ERROR, daemon.load_message)
    key = (header.reply_to[0], header.key)
    if daemon.queue.find(key) is not None:
        raise ProtocolError(BAD_REQUEST, f"request id {header.request_id} is already waiting or running; "
                                         "use a new id for each request")
    options = parse_options(header.body)
    count = expected_notes(options, daemon.limits)
    complete = daemon.arrivals.header(key, header.request_id, mode, options, header.reply_to, count)
    if complete is not None:
        queue_request(daemon, key, complete)


def on_notes(daemon: Daemon, args: list[Any], sender: tuple[str, int]) -> None:
    """``/notes id chunk chunks notes...``: no header, no secret; joined to its request by (host, id)."""
    if not args:
        raise ProtocolError(BAD_REQUEST, "a /notes message needs: id chunk chunks notes...")
    if daemon.state == "shutting_down":
        return
    request_id, key = parse_request_id(args[0])
    complete = daemon.arrivals.chunk((sender[0], key), request_id, args[1:])
    if complete is not None:
        queue_request(daemon, (sender[0], key), complete)


def queue_request(daemon: Daemon, key: tuple[str, str], pending: PendingRequest) -> None:
    """A complete request: validate it, queue it and say ``accepted`` (or answer its error). Its one final
    reply, when it is an error, is sent here."""
    assert pending.reply_to is not None and pending.mode is not None and pending.options is not None
    try:
        spec = build_job_spec(pending.mode, pending.options, pending.raw_notes(), daemon.config)
        if daemon.state == "error":
            raise ProtocolError(MODEL_ERROR, daemon.load_message)
        job = Job(key, pending.request_id, pending.reply_to, spec)
        ahead = daemon.queue.put(job)
    except ProtocolError as error:
        daemon.send_error(pending.reply_to, pending.request_id, error.code, error.message, error.details)
        return
    daemon.counters["jobs"] += 1
    log.info("request %s from %s:%s: %s of %g beats with %d notes, %d variation(s), queued behind %d",
             job.request_id, key[0], job.reply_to[1], spec.request.mode, spec.request.end - spec.request.start,
             len(spec.request.notes), spec.request.variations, ahead)
    daemon.send(job.reply_to, P.ACCEPTED, build_reply(P.ACCEPTED, id=job.request_id, position=ahead))


# ----- cancel, resend, transport --------------------------------------------------------------


def on_cancel(daemon: Daemon, header: Header) -> None:
    """``/cancel id reply_port target``: a request of the same host, or ``*`` for all of them."""
    if len(header.body) != 1:
        raise ProtocolError(BAD_REQUEST, "cancel needs: id reply_port target (the id of the request to cancel, "
                                         "or * for all of yours)")
    host, target = header.reply_to[0], header.body[0]
    if target == "*":
        keys = [j.key for j in daemon.queue.waiting() if j.key[0] == host]
        keys += [job.key for job in daemon.queue.running_jobs() if job.key[0] == host]
        keys += daemon.arrivals.keys_of(host)
    else:
        target, target_key = parse_request_id(target)
        keys = [(host, target_key)]
    cancelled = 0
    for key in keys:
        state = cancel(daemon, key)
        if state is not None:
            cancelled += 1
            daemon.send(header.reply_to, P.CANCELLED, build_reply(
                P.CANCELLED, id=header.request_id, target=key[1] if target == "*" else target, was=state))
    if not cancelled and target != "*":
        raise ProtocolError(NOT_FOUND, f"no request {target} is waiting or running (it may have finished)")
    if target == "*" and not cancelled:
        daemon.send(header.reply_to, P.CANCELLED, build_reply(P.CANCELLED, id=header.request_id, target="*",
                                                              was="none"))


def cancel(daemon: Daemon, key: tuple[str, str]) -> str | None:
    """Cancel one request; returns what it was doing (queued, running, arriving) or None when unknown."""
    job = daemon.queue.remove(key)
    if job is not None:
        log.info("request %s cancelled while waiting", job.request_id)
        daemon.send_error(job.reply_to, job.request_id, CANCELLED, "cancelled before it started")
        return "queued"
    job = daemon.queue.find(key)
    if job is not None:
        log.info("request %s cancelled while running", job.request_id)
        job.cancel.set()  # the worker answers cancelled when the engine stops
        return "running"
    pending = daemon.arrivals.cancel(key)
    if pending is not None and pending.reply_to is not None:
        daemon.send_error(pending.reply_to, pending.request_id, CANCELLED, "cancelled while its notes arrived")
        return "arriving"
    return None


def on_resend(daemon: Daemon, header: Header) -> None:
    """``/resend id reply_port variation chunk [variation chunk ...]``: result chunks again, as they were sent."""
    body = header.body
    if not body or len(body) % 2:
        raise ProtocolError(BAD_REQUEST, "resend needs: id reply_port variation chunk [variation chunk ...]")
    pairs = [(as_int(body[i], "resend", "variation", 0, 10_000), as_int(body[i + 1], "resend", "chunk", -1, 1_000_000))
             for i in range(0, len(body), 2)]
    chunks = daemon.results.get((header.reply_to[0], header.key))
    if chunks is None:
        raise ProtocolError(NOT_FOUND, f"the results of request {header.request_id} are no longer kept "
                                       f"(kept {RESULT_CACHE_SECONDS:g} s); send the request again")
    wanted: list[tuple[int, int]] = []
    for variation, chunk in pairs:
        found = [k for k in chunks if k[0] == variation and (chunk < 0 or k[1] == chunk)]
        if not found:
            raise ProtocolError(NOT_FOUND, f"request {header.request_id} has no variation {variation} chunk {chunk}")
        wanted += sorted(found)
    for k in wanted:
        daemon.send_bytes(chunks[k], header.reply_to)


def on_transport(daemon: Daemon, header: Header) -> None:
    """``/transport id reply_port play|stop [song_beat]``: the DAW's transport, for live output."""
    body = list(header.body)
    if not body or body[0] not in ("play", "stop") or len(body) > 2:
        raise ProtocolError(BAD_REQUEST, "transport needs: id reply_port play|stop [song position in beats]")
    state = body[0]
    beat = as_float(body[1], "transport", "song position", 0.0, 1e7) if len(body) > 1 else 0.0
    affected = daemon.live.transport(state == "play", beat)
    log.info("transport %s at beat %g: %d live player(s)", state, beat, affected)
    daemon.send(header.reply_to, P.TRANSPORT_OK, build_reply(P.TRANSPORT_OK, id=header.request_id, state=state,
                                                             players=affected))


ROUTES: dict[str, Handler] = {
    P.PING: on_ping,
    P.STATUS: on_status,
    P.RELOAD: on_reload,
    P.CANCEL: on_cancel,
    P.RESEND: on_resend,
    P.TRANSPORT: on_transport,
    **{address: partial(on_job, mode) for address, mode in P.MODE_ADDRESSES.items()},
}
"""Address -> handler, for every request but /notes (which has no header)."""

OPTIONAL_HEADER = frozenset({P.PING})
"""A bare ``/midi-llm/ping`` is answered to the sender with id 0."""
