"""The FIFO of jobs waiting for the model, and the job itself."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from bridge.protocol.errors import QUEUE_FULL, ProtocolError
from bridge.protocol.requests import JobSpec


@dataclass
class Job:
    key: tuple[str, str]  # (client host, request id as text)
    request_id: int | str
    reply_to: tuple[str, int]
    spec: JobSpec
    cancel: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"  # queued, running, finished
    submitted: float = field(default_factory=time.monotonic)


class JobQueue:
    """Jobs waiting behind the running one, first in first out; thread safe."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._waiting: deque[Job] = deque()
        self._condition = threading.Condition()
        self._closed = False
        self.running: Job | None = None

    def put(self, job: Job) -> int:
        """Queue ``job``; returns how many jobs are ahead of it, the running one included.

        0: the model is free and starts on it at once; 1: it runs right after the
        running job (see bridge/protocol/replies.py, ``accepted``).
        """
        with self._condition:
            if len(self._waiting) >= self.capacity:
                raise ProtocolError(QUEUE_FULL, f"{len(self._waiting)} requests are already waiting (the most this "
                                                f"daemon queues, limits.queue_length); try again when one is done")
            self._waiting.append(job)
            ahead = len(self._waiting) - 1 + (1 if self.running is not None else 0)
            self._condition.notify()
            return ahead

    def get(self) -> Job | None:
        """The next job, marked running (blocks); None once the queue is closed."""
        with self._condition:
            while not self._waiting and not self._closed:
                self._condition.wait()
            if self._closed:
                return None
            job = self._waiting.popleft()
            job.state = "running"
            self.running = job
            return job

    def finished(self, job: Job) -> None:
        with self._condition:
            job.state = "finished"
            if self.running is job:
                self.running = None

    def remove(self, key: tuple[str, str]) -> Job | None:
        """Take a waiting job out of the queue (None when no waiting job has that key)."""
        with self._condition:
            for job in self._waiting:
                if job.key == key:
                    self._waiting.remove(job)
                    job.state = "finished"
                    return job
            return None

    def find(self, key: tuple[str, str]) -> Job | None:
        with self._condition:
            if self.running is not None and self.running.key == key:
                return self.running
            return next((j for j in self._waiting if j.key == key), None)

    def waiting(self) -> list[Job]:
        with self._condition:
            return list(self._waiting)

    def __len__(self) -> int:
        with self._condition:
            return len(self._waiting)

    def drain(self) -> list[Job]:
        """Take every waiting job out (the model could not be loaded); the queue stays open."""
        with self._condition:
            left = list(self._waiting)
            self._waiting.clear()
            for job in left:
                job.state = "finished"
            return left

    def close(self) -> list[Job]:
        """Refuse further jobs and wake the worker; returns the jobs that were waiting."""
        with self._condition:
            self._closed = True
            left = list(self._waiting)
            self._waiting.clear()
            for job in left:
                job.state = "finished"
            self._condition.notify_all()
            return left
