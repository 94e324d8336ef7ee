"""The daemon's queue as admission control when the backend batches jobs itself (vLLM): several run at once."""

from __future__ import annotations

import threading

from bridge.daemon.jobs import Job, JobQueue
from bridge.protocol.requests import JobSpec


def job(name: str) -> Job:
    return Job(("127.0.0.1", name), name, ("127.0.0.1", 9), JobSpec.__new__(JobSpec))


def test_with_slots_jobs_start_at_once_and_the_rest_wait_in_order():
    queue = JobQueue(capacity=10)
    queue.slots = 3
    ahead = [queue.put(job(str(i))) for i in range(5)]
    assert ahead == [0, 0, 0, 1, 2]  # three start at once; the fourth waits for one job to end
    started = [queue.get() for _ in range(3)]  # three workers take three jobs at once
    assert [j.request_id for j in started] == ["0", "1", "2"]
    assert {j.state for j in started} == {"running"}
    assert queue.put(job("5")) == 3  # three run, two wait before it: three jobs must end before it starts
    assert [j.request_id for j in queue.running_jobs()] == ["0", "1", "2"]
    assert queue.find(("127.0.0.1", "1")) is started[1]  # cancel finds every running job
    queue.finished(started[1])
    assert queue.find(("127.0.0.1", "1")) is None
    assert [queue.get().request_id for _ in range(3)] == ["3", "4", "5"]


def test_one_slot_is_the_fifo_of_one_job_at_a_time():
    queue = JobQueue(capacity=10)
    assert queue.put(job("a")) == 0
    running = queue.get()
    assert queue.put(job("b")) == 1  # right after the running job
    assert queue.running is running
    got: list[Job] = []
    waiter = threading.Thread(target=lambda: got.append(queue.get()))
    waiter.start()
    waiter.join(5)
    assert got and got[0].request_id == "b"
