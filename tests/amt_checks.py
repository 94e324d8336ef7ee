"""One check of what a model was given or wrote, in AMT ids, shared by the backends' tests."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.amt import vocab


def assert_triplets(body: Sequence[int]) -> None:
    """AMT ids after the mode token: triplets of one block each (controls in the control block, events'
    notes or REST), event onsets never going back; the last triplet may be cut short (a row that
    stops has written the time and duration of a last event, not its note)."""
    last_time = -1
    for i in range(0, len(body), 3):
        triplet = body[i:i + 3]
        if vocab.is_control_time(triplet[0]):
            checks = (vocab.is_control_time, vocab.is_control_duration, vocab.is_control_note)
        else:
            checks = (vocab.is_time, vocab.is_duration, lambda n: vocab.is_event_note(n) or n == vocab.REST)
            assert triplet[0] >= last_time, f"onsets went back in time at {triplet}"
            last_time = triplet[0]
        for token, check in zip(triplet, checks):
            assert check(token), f"id {token} ({vocab.block_name(token)}) in {triplet}"
