"""The daemon's replies, field by field: described once, built and read through this table.

Replies are positional OSC lists (Max reads them by index), so the order of the
fields is the contract. The daemon builds every reply with :func:`build_reply`
(which refuses a missing or unknown field), the Python client reads them with
:func:`read_reply`, and the tests check docs/protocol.md and the Max client's
indexes against :data:`REPLIES`. Within protocol version 1, fields are only
ever added at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge import protocol as P


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # OSC type(s): i, s, f, "f|d", "i|s"
    meaning: str = ""


@dataclass(frozen=True)
class Reply:
    fields: tuple[Field, ...]
    tail: str | None = None
    """The name of a variable-length list after the fields (notes, details), if any."""

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def wire_names(self) -> list[str]:
        """The fields as docs/protocol.md lists them: ``id code message details...``."""
        return self.names() + ([f"{self.tail}..."] if self.tail else [])


ID = Field("id", "i|s", "the request's id, as the client sent it")
LOADING_STATES = ("downloading", "loading", "warming_up")
"""The daemon's states before ``ready``, in the order a first start goes through them."""
STATE_MEANING = ("downloading (bytes_done of bytes_total), loading, warming_up, ready, error (the model could not "
                 "be loaded: message says why and what to do) or shutting_down")

REPLIES: dict[str, Reply] = {
    P.PONG: Reply((
        ID, Field("protocol", "i"), Field("version", "s"), Field("state", "s", STATE_MEANING),
        Field("model", "s"), Field("device", "s"), Field("waiting", "i", "jobs in the queue"),
        Field("running", "i", "1 while a job runs"),
        Field("message", "s", "the state in words: with state error, the sentence the daemon logged (what "
                              "failed, what to do); while downloading, e.g. \"downloading MODEL: 1.2 of 2.5 GB\"; "
                              "empty when ready"),
        Field("bytes_done", "f", "while downloading: bytes in the cache so far, as a float (2.5 GB does not fit "
                                     "an OSC int); otherwise 0"),
        Field("bytes_total", "f", "while downloading: bytes to fetch, as a float (0 while unknown); otherwise 0"),
    )),
    P.INFO: Reply((
        ID, Field("protocol", "i"), Field("version", "s"), Field("state", "s", STATE_MEANING),
        Field("model", "s"), Field("device", "s"), Field("dtype", "s"), Field("profile", "s"),
        Field("waiting", "i"), Field("running_id", "s", 'the running job\'s id as text, "" when idle'),
        Field("max_notes_in", "i"), Field("max_notes_out", "i"), Field("max_bars", "i"),
        Field("max_variations", "i"), Field("queue_length", "i"), Field("max_datagram_bytes", "i"),
        Field("load_seconds", "f"), Field("message", "s", "as in pong"), Field("bytes_done", "f", "as in pong"),
        Field("bytes_total", "f", "as in pong"),
    )),
    P.ACCEPTED: Reply((ID, Field("position", "i", "jobs ahead of it, the running one included: 0 when the model "
                                                  "starts on it at once, 1 when it runs right after the running "
                                                  "job"))),
    P.STARTED: Reply((ID,)),
    P.PROGRESS: Reply((ID, Field("fraction", "f"), Field("notes", "i"))),
    P.NOTE: Reply((ID, Field("variation", "i"), Field("seq", "i")), tail="note"),
    P.RESULT: Reply((ID, Field("variation", "i"), Field("chunk", "i"), Field("chunks", "i"),
                     Field("count", "i", "notes in the whole variation")), tail="notes"),
    P.WARNING: Reply((ID, Field("text", "s"))),
    P.DONE: Reply((ID, Field("variations", "i"), Field("seed", "i"), Field("seconds", "f"), Field("removed", "i"),
                   Field("start", "f|d"), Field("end", "f|d"))),
    P.ERROR: Reply((ID, Field("code", "s"), Field("message", "s")), tail="details"),
    P.CANCELLED: Reply((ID, Field("target", "i|s"), Field("was", "s"))),
    P.TRANSPORT_OK: Reply((ID, Field("state", "s", "play or stop"), Field("players", "i"))),
}


def _reply(address: str) -> Reply:
    try:
        return REPLIES[address]
    except KeyError:
        raise ValueError(f"{address} is not a reply of the protocol") from None


def build_reply(address: str, *, tail: Sequence[Any] = (), **values: Any) -> list[Any]:
    """The arguments of reply ``address`` in the table's order; every field must be given, no other."""
    reply = _reply(address)
    names = reply.names()
    missing = [n for n in names if n not in values]
    unknown = [n for n in values if n not in names]
    if missing or unknown:
        raise ValueError(f"{address}: missing fields {missing}, unknown fields {unknown}")
    if tail and not reply.tail:
        raise ValueError(f"{address} has no list after its fields")
    return [values[n] for n in names] + list(tail)


def read_reply(address: str, args: Sequence[Any]) -> dict[str, Any]:
    """The fields of reply ``address`` by name (those present; later additions are ignored)."""
    reply = _reply(address)
    found = dict(zip(reply.names(), args))
    if reply.tail:
        found[reply.tail] = list(args[len(reply.fields):])
    return found


def field_index(address: str, name: str) -> int:
    """Where field ``name`` sits in reply ``address``."""
    return _reply(address).names().index(name)


def field_meaning(address: str, name: str) -> str:
    return _reply(address).fields[field_index(address, name)].meaning
