"""Requests as the daemon reads them: a header with key/value options, then the notes in chunks.

The encoder side of bridge/protocol/requests.py (which parses them): the Python
client and the tests build requests here, so the option table in requests.py is
the one place that says how each option goes on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bridge import protocol as P
from bridge.amt.notes import Note
from bridge.protocol.notes import encode_chunks, note_to_atoms
from bridge.protocol.osc import Double, encode_message
from bridge.protocol.requests import MODES, OPTIONS


def _wire_value(key: str, value: Any) -> list[Any]:
    kind = OPTIONS[key][0]
    if kind == "flag":
        return [int(bool(value))]
    if kind == "float":
        return [Double(value)]
    if kind == "grid":
        return [value if isinstance(value, str) else Double(value)]
    if kind == "int":
        return [int(value)]
    return [str(value)]


def encode_options(options: Mapping[str, Any]) -> list[Any]:
    """``{"bars": 4, "instrument": [0, 33], "tempo_change": [(8, 90)]}`` as key/value atoms."""
    atoms: list[Any] = []
    for key, value in options.items():
        if value is None:
            continue
        if key not in OPTIONS:
            raise ValueError(f"unknown option {key!r}; known: {', '.join(OPTIONS)}")
        _, arity, repeatable = OPTIONS[key]
        values = list(value) if repeatable else [value]
        for item in values:
            atoms.append(key)
            if arity == 1:
                atoms += _wire_value(key, item)
            else:
                for part in item:
                    atoms += _wire_value(key, part)
    return atoms


def _raw_note_atoms(note: Sequence[Any]) -> list[Any]:
    """A raw 7-atom note with its positions as 64-bit doubles, like the span it is compared with."""
    atoms = list(note)
    for index in (1, 2):  # start, duration
        if index < len(atoms) and isinstance(atoms[index], float) and not isinstance(atoms[index], Double):
            atoms[index] = Double(atoms[index])
    return atoms


def encode_request(mode: str, request_id: int | str, notes: Sequence[Note] | Sequence[Sequence[Any]],
                   options: Mapping[str, Any], *, max_bytes: int = 8192, reply_port: int = 0) -> list[bytes]:
    """The datagrams of one request: the header, then the notes in chunks (none when there are no notes)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    options = dict(options)
    options["notes"] = len(notes)
    header = encode_message(f"{P.PREFIX}/{mode}", [request_id, reply_port, *encode_options(options)])
    if len(header) > max_bytes:
        raise ValueError(f"the request header is {len(header)} bytes, over {max_bytes}; shorten the prompt")
    if not notes:
        return [header]
    atoms = [note_to_atoms(n, doubles=True) if isinstance(n, Note) else _raw_note_atoms(n) for n in notes]
    return [header, *encode_chunks(P.NOTES, [request_id], atoms, max_bytes=max_bytes)]
