"""What the remote backend's tests check on the ids: every request the engine sent and what the server wrote back.

:class:`RecordedStreams` wraps the engine's real :class:`RemoteVllm` (the
requests still go to the server); :func:`assert_valid_ids` checks each
request's window plus the server's output as AMT triplets, independently of
the grammar machine that produced them.
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.amt import vocab
from bridge.engine.backends.vllm_remote import RemoteVllm
from bridge.engine.backends.vllm_requests import SegmentRequest
from tests.amt_checks import assert_triplets


class RecordedStreams:
    """The engine's real RemoteVllm, with every request and the ids the server streamed back kept."""

    def __init__(self, inner: RemoteVllm):
        self.inner = inner
        self.description = inner.description
        self.calls: list[tuple[SegmentRequest, list[int]]] = []

    def stream(self, request_id: str, request: SegmentRequest) -> Iterator[list[int]]:
        written: list[int] = []
        self.calls.append((request, written))
        for ids in self.inner.stream(request_id, request):
            written.extend(ids)
            yield ids

    def close(self) -> None:
        self.inner.close()


def assert_valid_ids(calls: list[tuple[SegmentRequest, list[int]]], midi_offset: int) -> None:
    """Each request's window and what the server wrote after it: whole AMT triplets, onsets never going back,
    controls in the control block, then the stop (a row that stops may leave the time, duration of a last event)."""
    assert calls
    mode_tokens = {midi_offset + vocab.AUTOREGRESS, midi_offset + vocab.ANTICIPATE}
    for request, written in calls:
        assert written, "the server wrote nothing"
        assert written[-1] == request.stop_id, f"the request did not end with the stop id: {written[-6:]}"
        start = next(i for i, token in enumerate(request.prompt_ids) if token in mode_tokens) + 1
        body = [t - midi_offset for t in request.prompt_ids[start:] + written[:-1]]
        assert_triplets(body)
