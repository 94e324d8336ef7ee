"""The one header parser: ``<address> id reply_port ... [secret S]``, the secret checked first.

Every request but ``/notes`` starts with the client's id and the reply port,
and carries the daemon's secret (when one is configured) as the pair
``secret <token>`` among its arguments. :func:`authorized` looks only for that
pair, before anything else of the message is read, so that a sender without
the secret learns nothing but ``unauthorized`` (not which option was wrong,
not the list of options). :func:`parse_header` then reads the id and the
reply port and hands the handler the rest with the secret taken out.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.protocol.errors import BAD_REQUEST, UNAUTHORIZED, ProtocolError
from bridge.protocol.requests import parse_reply_port, parse_request_id

Address = tuple[str, int]

UNAUTHORIZED_MESSAGE = "this daemon needs its secret in every request (osc.secret): add secret <token>"
"""Short on purpose: the whole answer an unauthorized sender gets."""


@dataclass(frozen=True)
class Header:
    request_id: int | str
    key: str
    """The id as text: requests are filed under (client host, key)."""
    reply_to: Address
    body: list[Any]
    """The arguments after ``id reply_port``, without the secret."""


def _secret_at(args: Sequence[Any], secret: str) -> int | None:
    """Where the pair ``secret <token>`` with the right token starts (after id and reply port), if anywhere."""
    wanted = secret.encode("utf-8")
    for i in range(2, len(args) - 1):
        token = args[i + 1]
        if args[i] == "secret" and isinstance(token, str) and hmac.compare_digest(token.encode("utf-8"), wanted):
            return i
    return None


def authorized(args: Sequence[Any], secret: str | None) -> bool:
    """True when no secret is configured or the message carries it. Reads nothing else."""
    return not secret or _secret_at(args, secret) is not None


def _without_secret(args: Sequence[Any], secret: str | None) -> list[Any]:
    body = list(args[2:])
    if secret:
        at = _secret_at(args, secret)
        if at is not None:
            del body[at - 2 : at]
    elif len(body) >= 2 and body[-2] == "secret" and isinstance(body[-1], str):
        del body[-2:]  # a client that always sends one, talking to a daemon without a secret
    return body


def parse_header(args: Sequence[Any], sender: Address, secret: str | None, *, optional: bool = False) -> Header:
    """The header of an authorized request. With ``optional`` (ping), a missing id is 0 and a missing port 0."""
    if len(args) < 2 and not optional:
        raise ProtocolError(BAD_REQUEST, "a request needs at least: id reply_port (0 = reply to the sender)")
    padded = list(args) + [0, 0][len(args):]
    request_id, key = parse_request_id(padded[0])
    port = parse_reply_port(padded[1])
    return Header(request_id, key, (sender[0], port or sender[1]), _without_secret(padded, secret))


def reply_target(args: Sequence[Any], sender: Address) -> tuple[Any, Address]:
    """Best effort (id, reply address) for an error about a message that may be malformed. Never raises."""
    request_id: Any = ""
    if args:
        try:
            request_id = parse_request_id(args[0])[0]
        except ProtocolError:
            request_id = ""
    port = 0
    if len(args) > 1:
        try:
            port = parse_reply_port(args[1])
        except ProtocolError:
            port = 0
    return request_id, (sender[0], port or sender[1])


def unauthorized() -> ProtocolError:
    return ProtocolError(UNAUTHORIZED, UNAUTHORIZED_MESSAGE)
