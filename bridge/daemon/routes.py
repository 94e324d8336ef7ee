"""From a datagram to its handlers: decode, drop replies, check the secret first, route, answer errors.

The order is the contract (docs/protocol.md, section 2): a message sent to a
reply address gets nothing (two daemons can never ping-pong); then, when a
secret is configured, a message without it gets ``unauthorized`` and nothing
else, whatever its address, and at most one such reply per datagram, so a big
bundle cannot be turned into a bigger answer; only then is anything else read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bridge import protocol as P
from bridge.daemon.handlers import OPTIONAL_HEADER, ROUTES, on_notes, queue_request
from bridge.daemon.header import authorized, parse_header, reply_target, unauthorized
from bridge.protocol.errors import BAD_REQUEST, INTERNAL, TOO_LARGE, UNKNOWN_ADDRESS, ProtocolError
from bridge.protocol.osc import BundleTooDeep, OscDecodeError, decode_datagram
from bridge.protocol.requests import parse_request_id

if TYPE_CHECKING:
    from bridge.daemon.server import Daemon

log = logging.getLogger("bridge.daemon")

Address = tuple[str, int]


def handle_datagram(daemon: Daemon, data: bytes, sender: Address) -> None:
    """Everything one datagram asks for. Never raises: a malformed message never stops the daemon."""
    daemon.counters["datagrams"] += 1
    try:
        messages = decode_datagram(data)
    except BundleTooDeep as error:
        refusal = unauthorized() if daemon.secret else ProtocolError(BAD_REQUEST, str(error))
        daemon.send_error(sender, "", refusal.code, refusal.message)
        return
    except OscDecodeError as error:
        daemon.drop(sender, f"{len(data)} bytes that are not OSC ({error})")
        return
    oversize = len(data) > daemon.max_bytes
    told_unauthorized = False
    for address, args in messages:
        if address in P.REPLY_ADDRESSES:
            daemon.drop(sender, f"{address} is a reply, not a request")
        elif address != P.NOTES and not authorized(args, daemon.secret):
            if told_unauthorized:
                daemon.drop(sender, f"{address} without the secret")
                continue
            told_unauthorized = True
            request_id, reply_to = reply_target(args, sender)
            refusal = unauthorized()
            daemon.send_error(reply_to, request_id, refusal.code, refusal.message)
        elif oversize:
            _refuse_oversize(daemon, address, args, sender, len(data))
        else:
            _handle_message(daemon, address, args, sender)


def _refuse_oversize(daemon: Daemon, address: str, args: list[Any], sender: Address, size: int) -> None:
    error = ProtocolError(TOO_LARGE, f"a message of {size} bytes is over this daemon's {daemon.max_bytes}-byte "
                                     "limit (osc.max_datagram_bytes); send the notes in smaller chunks")
    if address != P.NOTES:
        request_id, reply_to = reply_target(args, sender)
        daemon.send_error(reply_to, request_id, error.code, error.message)
        return
    try:
        request_id, key = parse_request_id(args[0] if args else None)
    except ProtocolError:
        daemon.drop(sender, f"a {size}-byte /notes chunk without a usable id")
        return
    ended = daemon.arrivals.fail((sender[0], key), error)  # the request ends here, with this one reply
    if ended is not None:
        queue_request(daemon, (sender[0], key), ended)
    else:
        daemon.drop(sender, f"a {size}-byte /notes chunk of request {request_id} before its header (the header "
                            "will be answered with too_large)")


def _handle_message(daemon: Daemon, address: str, args: list[Any], sender: Address) -> None:
    try:
        if address == P.NOTES:
            on_notes(daemon, args, sender)
            return
        handler = ROUTES.get(address)
        if handler is None:
            raise ProtocolError(UNKNOWN_ADDRESS, f"this daemon does not know {address!r}; it speaks protocol "
                                                 f"{P.PROTOCOL_VERSION}: /midi-llm/ping, status, reload, generate, "
                                                 "continue, infill, accompany, notes, cancel, resend, transport")
        handler(daemon, parse_header(args, sender, daemon.secret, optional=address in OPTIONAL_HEADER))
    except ProtocolError as error:
        target = _error_target(daemon, address, args, sender)
        if target is None:
            daemon.drop(sender, f"{address}: {error.message}")
        else:
            daemon.send_error(target[1], target[0], error.code, error.message, error.details)
    except Exception as error:  # noqa: BLE001 - never let one message stop the daemon
        log.exception("while handling %s from %s:%s", address, sender[0], sender[1])
        target = _error_target(daemon, address, args, sender)
        if target is not None:
            daemon.send_error(target[1], target[0], INTERNAL, f"the daemon hit a bug ({type(error).__name__}); it "
                                                              "keeps serving. Please report it with the daemon's log.")


def _error_target(daemon: Daemon, address: str, args: list[Any], sender: Address) -> tuple[Any, Address] | None:
    """(id, reply address) for an error; a /notes chunk is answered only through its request's header."""
    if address != P.NOTES:
        return reply_target(args, sender)
    request_id, _ = reply_target(args[:1], sender)
    pending = daemon.arrivals.pending.get((sender[0], str(request_id)))
    if pending is None or pending.reply_to is None:
        return None
    return request_id, pending.reply_to
