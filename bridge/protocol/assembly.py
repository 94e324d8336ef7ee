"""Putting chunked clips back together, in both directions.

A request (or a result) is complete only when every numbered chunk has
arrived and the notes add up to the announced count. What is missing can be
named, so a lost datagram becomes an error that says which chunk, never a
silently shorter clip.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.amt.notes import Note
from bridge.protocol import RESULT
from bridge.protocol.errors import BAD_REQUEST, MISSING_CHUNK, TOO_LARGE, ProtocolError
from bridge.protocol.notes import RawNote, as_int, atoms_to_note, parse_note_atoms
from bridge.protocol.replies import read_reply


def describe_chunks(indexes: Sequence[int]) -> str:
    """``[1]`` -> "chunk 1"; ``[1, 2, 3, 7]`` -> "chunks 1-3, 7"."""
    indexes = sorted(indexes)
    runs: list[str] = []
    i = 0
    while i < len(indexes):
        j = i
        while j + 1 < len(indexes) and indexes[j + 1] == indexes[j] + 1:
            j += 1
        runs.append(str(indexes[i]) if i == j else f"{indexes[i]}-{indexes[j]}")
        i = j + 1
    return ("chunk " if len(indexes) == 1 else "chunks ") + ", ".join(runs)


def describe_missing(missing: Iterable[tuple[int, int]]) -> str:
    """Missing (variation, chunk) pairs in words; chunk -1 means the whole variation."""
    by_variation: dict[int, list[int]] = {}
    for variation, chunk in missing:
        by_variation.setdefault(variation, []).append(chunk)
    parts = []
    for variation, chunks in sorted(by_variation.items()):
        if -1 in chunks:
            parts.append(f"variation {variation} (all chunks)")
        else:
            parts.append(f"variation {variation} {describe_chunks(chunks)}")
    return "; ".join(parts)


@dataclass
class PendingRequest:
    """A request whose notes are still arriving (daemon side)."""

    request_id: int | str
    mode: str | None = None
    options: dict[str, Any] | None = None
    reply_to: tuple[str, int] | None = None
    expected: int | None = None
    chunk_count: int | None = None
    chunks: dict[int, list[RawNote]] = field(default_factory=dict)
    error: ProtocolError | None = None
    last_seen: float = field(default_factory=time.monotonic)

    @property
    def has_header(self) -> bool:
        return self.options is not None

    def set_header(self, mode: str, options: dict[str, Any], reply_to: tuple[str, int], expected: int) -> None:
        self.mode, self.options, self.reply_to, self.expected = mode, options, reply_to, expected
        self.last_seen = time.monotonic()

    def add_chunk(self, args: Sequence[Any], max_notes: int) -> None:
        """``chunk chunks notes...`` (after the id); errors are kept for the reply."""
        self.last_seen = time.monotonic()
        if self.error is not None:
            return
        try:
            if len(args) < 2:
                raise ProtocolError(BAD_REQUEST, "a /notes message needs: id chunk chunks notes...")
            count = as_int(args[1], "notes message", "chunks", 1, max(1, max_notes))
            index = as_int(args[0], "notes message", "chunk", 0, count - 1)
            if self.chunk_count is not None and count != self.chunk_count:
                raise ProtocolError(BAD_REQUEST, f"chunk {index} says {count} chunks, an earlier one said "
                                                 f"{self.chunk_count}")
            self.chunk_count = count
            notes = parse_note_atoms(args[2:], f"chunk {index}")
            self.chunks[index] = notes
            if sum(len(c) for c in self.chunks.values()) > max_notes:
                raise ProtocolError(TOO_LARGE, f"the clip has more than {max_notes} notes; this daemon takes at "
                                               f"most {max_notes} (limits.max_notes_in)")
        except ProtocolError as error:
            self.fail(error)

    def fail(self, error: ProtocolError) -> None:
        """End the request with ``error``: it is answered with it as soon as its header is here."""
        if self.error is None:
            self.error = error
        self.chunks.clear()
        self.last_seen = time.monotonic()

    def complete(self) -> bool:
        if not self.has_header or self.error is not None:
            return self.has_header
        if self.expected == 0:
            return True
        return self.chunk_count is not None and len(self.chunks) == self.chunk_count

    def missing(self) -> list[int]:
        if self.chunk_count is None:
            return []
        return [i for i in range(self.chunk_count) if i not in self.chunks]

    def raw_notes(self) -> list[RawNote]:
        """The notes in chunk order; raises if the count differs from the announced one."""
        if self.error is not None:
            raise self.error
        notes = [n for i in sorted(self.chunks) for n in self.chunks[i]]
        if self.expected is not None and len(notes) != self.expected:
            raise ProtocolError(BAD_REQUEST, f"the request announced {self.expected} notes but its chunks hold "
                                             f"{len(notes)}")
        return notes

    def timeout_error(self) -> ProtocolError:
        """The error for a request that stopped arriving before it was complete."""
        if self.chunk_count is None:
            return ProtocolError(MISSING_CHUNK, f"none of the {self.expected} notes arrived (no /notes chunk came); "
                                                "nothing was generated. Send the request again.", ())
        missing = self.missing()
        return ProtocolError(
            MISSING_CHUNK,
            f"{describe_chunks(missing)} of {self.chunk_count} never arrived, so the clip is incomplete; "
            "nothing was generated. Send the request again.",
            tuple(missing),
        )


@dataclass
class VariationChunks:
    chunk_count: int
    total: int
    chunks: dict[int, list[Note]] = field(default_factory=dict)


class ResultAssembly:
    """The /result chunks of one job (client side)."""

    def __init__(self) -> None:
        self.variations: dict[int, VariationChunks] = {}
        self.variation_count: int | None = None

    def add(self, args: Sequence[Any]) -> None:
        """``variation chunk chunks count notes...`` (after the id; see bridge/protocol/replies.py)."""
        fields = read_reply(RESULT, ["", *args])
        variation, index, count, total = (int(fields[k]) for k in ("variation", "chunk", "chunks", "count"))
        atoms = fields["notes"]
        entry = self.variations.get(variation)
        if entry is None or entry.chunk_count != count:
            entry = self.variations[variation] = VariationChunks(count, total)
        entry.chunks[index] = [atoms_to_note(atoms[i : i + 7]) for i in range(0, len(atoms) - 6, 7)]

    def missing(self) -> list[tuple[int, int]]:
        """(variation, chunk) pairs not yet here; chunk -1 = nothing of that variation arrived."""
        if self.variation_count is None:
            return []
        found: list[tuple[int, int]] = []
        for v in range(self.variation_count):
            entry = self.variations.get(v)
            if entry is None:
                found.append((v, -1))
            else:
                found.extend((v, i) for i in range(entry.chunk_count) if i not in entry.chunks)
        return found

    def complete(self) -> bool:
        return self.variation_count is not None and not self.missing()

    def notes(self, variation: int) -> list[Note]:
        entry = self.variations[variation]
        notes = [n for i in range(entry.chunk_count) for n in entry.chunks[i]]
        if len(notes) != entry.total:
            raise ProtocolError(MISSING_CHUNK, f"variation {variation} has {len(notes)} notes, {entry.total} "
                                               "were announced")
        return notes
