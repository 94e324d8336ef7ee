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
    """Jobs waiting behind the running ones, first in first out; thread safe.

    ``slots`` jobs run at once: 1 for the transformers backend; with a backend
    that batches jobs itself (vLLM) the worker raises it and the queue is the
    admission control in front of the engine.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.slots = 1
        self._waiting: deque[Job] = deque()
        self._condition = threading.Condition()
        self._closed = False
        self._running: list[Job] = []

    @property
    def running(self) -> Job | None:
        """The running job that started first (None when none runs)."""
        with self._condition:
            return self._running[0] if self._running else None

    def running_jobs(self) -> list[Job]:
        with self._condition:
            return list(self._running)

    def put(self, job: Job) -> int:
        """Queue ``job``; returns how many jobs are ahead of it, the running one included.

        0: the model is free and starts on it at once; 1: it runs right after the
        running job, or the next job to end (see bridge/protocol/replies.py, ``accepted``).
        """
        with self._condition:
            if len(self._waiting) >= self.capacity:
                raise ProtocolError(QUEUE_FULL, f"{len(self._waiting)} requests are already waiting (the most this "
                                                f"daemon queues, limits.queue_length); try again when one is done")
            self._waiting.append(job)
            ahead = max(0, len(self._waiting) - 1 + len(self._running) - (self.slots - 1))
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
            self._running.append(job)
            return job

    def finished(self, job: Job) -> None:
        with self._condition:
            job.state = "finished"
            if job in self._running:
                self._running.remove(job)

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
            for job in self._running:
                if job.key == key:
                    return job
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
