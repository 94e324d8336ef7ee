"""Requests whose notes are still arriving: reassembly, room per client host, timeouts, early ends.

A generation request with notes is complete only when its header and every
``/notes`` chunk are here. Until then it holds memory, so the room is bounded
twice: :data:`PENDING_PER_HOST` per client host (one busy or hostile computer
cannot take the room of the others) and :data:`PENDING_TOTAL` over all. A
request without notes needs no room at all. A request that fails while
arriving (a bad or oversize chunk) ends at once with one error reply; its
late chunks are dropped instead of starting an orphan that would end it a
second time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from bridge.daemon.header import Address
from bridge.protocol.assembly import PendingRequest
from bridge.protocol.errors import BAD_REQUEST, TOO_LARGE, ProtocolError
from bridge.protocol.limits import PENDING_PER_HOST, PENDING_TOTAL

Key = tuple[str, str]  # (client host, request id as text)


class Arrivals:
    """The incomplete requests of every client (network loop thread only)."""

    def __init__(self, max_notes_in: int, chunk_timeout: float, on_drop: Callable[[str, str], None], *,
                 per_host: int = PENDING_PER_HOST, total: int = PENDING_TOTAL):
        self.max_notes_in = max_notes_in
        self.chunk_timeout = chunk_timeout
        self.per_host = per_host
        self.total = total
        self._drop = on_drop  # (host, what) -> a line in the log
        self.pending: dict[Key, PendingRequest] = {}
        self._ended: dict[Key, float] = {}  # requests that ended early -> when; their late chunks are dropped

    def header(self, key: Key, request_id: int | str, mode: str, options: dict[str, Any], reply_to: Address,
               count: int) -> PendingRequest | None:
        """A request's header; returns the request when it is complete (None while its notes arrive)."""
        self._ended.pop(key, None)
        pending = self.pending.get(key)
        if pending is not None and pending.has_header:
            raise ProtocolError(BAD_REQUEST, f"request id {request_id} is already arriving; use a new id")
        if pending is None:
            pending = PendingRequest(request_id)
            if count > 0:
                self._make_room(key[0])
                self.pending[key] = pending
        pending.request_id = request_id
        pending.set_header(mode, options, reply_to, count)
        return self._take_if_complete(key, pending)

    def chunk(self, key: Key, request_id: int | str, args: Sequence[Any]) -> PendingRequest | None:
        """A ``/notes`` chunk (``args`` after the id); returns the request when it is complete."""
        if key in self._ended:
            self._drop(key[0], f"a /notes chunk of request {request_id}, which already ended")
            return None
        pending = self.pending.get(key)
        if pending is None:
            try:
                self._make_room(key[0])
            except ProtocolError:
                self._drop(key[0], f"a /notes chunk of request {request_id} (too many requests arriving)")
                return None
            pending = self.pending[key] = PendingRequest(request_id)
        pending.add_chunk(args, self.max_notes_in)
        return self._take_if_complete(key, pending)

    def fail(self, key: Key, error: ProtocolError) -> PendingRequest | None:
        """End the request ``key`` with ``error`` (an oversize chunk); returns it when it can be answered now."""
        pending = self.pending.get(key)
        if pending is None:
            try:
                self._make_room(key[0])
            except ProtocolError:
                return None
            pending = self.pending[key] = PendingRequest(key[1])  # the header, when it comes, gets the error
        pending.fail(error)
        return self._take_if_complete(key, pending)

    def _take_if_complete(self, key: Key, pending: PendingRequest) -> PendingRequest | None:
        if not pending.complete():
            return None
        self.pending.pop(key, None)
        if pending.error is not None:
            self._ended[key] = time.monotonic()
        return pending

    def _make_room(self, host: str) -> None:
        """Room for one more request of ``host``, forgetting orphan chunks if need be; raises too_large."""
        mine = [k for k in self.pending if k[0] == host]
        if len(mine) >= self.per_host and not self._forget_orphan(mine, host):
            raise ProtocolError(TOO_LARGE, f"{len(mine)} of this computer's requests are still incomplete (their "
                                           "notes have not all arrived), the most one computer may have at once; "
                                           "send their /notes chunks, cancel them, or wait "
                                           f"{self.chunk_timeout:g} s until they time out")
        if len(self.pending) >= self.total and not self._forget_orphan(list(self.pending), host):
            raise ProtocolError(TOO_LARGE, f"the daemon already has {len(self.pending)} incomplete requests from "
                                           "several computers; try again in a moment")

    def _forget_orphan(self, keys: list[Key], host: str) -> bool:
        orphans = [k for k in keys if not self.pending[k].has_header]
        if not orphans:
            return False
        oldest = min(orphans, key=lambda k: self.pending[k].last_seen)
        del self.pending[oldest]
        self._drop(host, "chunks of a request whose header never came (too many requests arriving)")
        return True

    def cancel(self, key: Key) -> PendingRequest | None:
        """Forget a request still arriving; returns it when it had a header (so it can be told)."""
        pending = self.pending.pop(key, None)
        if pending is not None and pending.has_header:
            self._ended[key] = time.monotonic()
            return pending
        return None

    def keys_of(self, host: str) -> list[Key]:
        return [k for k, p in self.pending.items() if k[0] == host and p.has_header]

    def expired(self) -> list[PendingRequest]:
        """Requests silent for ``chunk_timeout``: those with a header, to be answered; orphans are dropped."""
        now = time.monotonic()
        answered = []
        for key, pending in list(self.pending.items()):
            if now - pending.last_seen < self.chunk_timeout:
                continue
            del self.pending[key]
            if pending.has_header:
                answered.append(pending)
            else:
                self._drop(key[0], f"chunks of request {pending.request_id} whose header never came")
        for key in [k for k, t in self._ended.items() if now - t > self.chunk_timeout]:
            del self._ended[key]
        return answered

    def drain(self) -> list[PendingRequest]:
        """Shutdown: every request with a header (to be told), all forgotten."""
        told = [p for p in self.pending.values() if p.has_header]
        self.pending.clear()
        self._ended.clear()
        return told
