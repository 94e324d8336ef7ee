"""The encoded /result chunks of recent jobs, kept for /midi-llm/resend."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from bridge.protocol.limits import RESULT_CACHE_JOBS, RESULT_CACHE_SECONDS

Key = tuple[str, str]  # (client host, request id as text)
Chunks = dict[tuple[int, int], bytes]  # (variation, chunk) -> the datagram as it was sent


class ResultCache:
    """The last :data:`RESULT_CACHE_JOBS` jobs' chunks for :data:`RESULT_CACHE_SECONDS`; thread safe.

    The worker fills it, the network loop reads it: a client that lost a chunk
    gets the very bytes it missed, without the model running again.
    """

    def __init__(self, jobs: int = RESULT_CACHE_JOBS, seconds: float = RESULT_CACHE_SECONDS):
        self.jobs = jobs
        self.seconds = seconds
        self._entries: OrderedDict[Key, tuple[float, Chunks]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: Key, chunks: Chunks) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (time.monotonic(), chunks)
            while len(self._entries) > self.jobs:
                self._entries.popitem(last=False)

    def get(self, key: Key) -> Chunks | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.seconds:
            return None
        return entry[1]

    def forget_old(self) -> None:
        now = time.monotonic()
        with self._lock:
            for key in [k for k, (t, _) in self._entries.items() if now - t > self.seconds]:
                del self._entries[key]
