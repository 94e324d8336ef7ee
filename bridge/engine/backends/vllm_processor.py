"""The grammar inside vLLM: a v1 logits processor that runs one :class:`RowMachine` per request.

vLLM samples every id itself; before it does, this processor masks each
request's row of logits to what the request's machine allows: the allowed
range (and note mask) of a sampled slot, a single id for a forced one (a due
control, keep rhythm's onset and duration, keep pitches' note), and the stop
id once the row is finished or its window must be rebuilt (the daemon then
continues it as a new request over the rebuilt window). The machine comes in
the request's ``SamplingParams.extra_args`` (:data:`ARGUMENT`, a snapshot) and
follows the request's own output ids, so it needs no other state and no
connection to the daemon: the same class serves an in-process engine and a
``vllm serve`` started with ``--logits-processors`` naming it.

Requests without the argument are left alone.
"""

from __future__ import annotations

import logging
import math

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates

from bridge.engine.backends.vllm_requests import ARGUMENT, decode_argument
from bridge.engine.machine import Finished, Force, GrammarError, RowMachine, Sample
from bridge.engine.machine.masks import note_mask

log = logging.getLogger(__name__)


class _Request:
    """One request's machine and how many of its output ids the machine has taken."""

    def __init__(self, machine: RowMachine, midi_offset: int, stop_id: int, output_ids: list[int]):
        self.machine = machine
        self.midi_offset = midi_offset
        self.stop_id = stop_id
        self.output_ids = output_ids  # vLLM's live list of this request's output ids
        self.taken = 0
        self.broken = False

    def catch_up(self) -> None:
        """Push the output ids sampled since the last step (async scheduling leaves -1 for ids not known yet)."""
        ids = self.output_ids
        while self.taken < len(ids) and ids[self.taken] >= 0 and not self.broken:
            token = ids[self.taken]
            self.taken += 1
            if token == self.stop_id:
                self.broken = True
                break
            try:
                self.machine.push(token - self.midi_offset)
            except GrammarError as error:  # never expected: stop the request rather than write nonsense
                log.error("midi-llm request left its grammar (%s); stopping it", error)
                self.broken = True


class MidiLlmLogitsProcessor(LogitsProcessor):
    """See the module docstring; vLLM constructs it once per engine."""

    @classmethod
    def validate_params(cls, sampling_params) -> None:
        extra = sampling_params.extra_args or {}
        if ARGUMENT in extra:
            decode_argument(extra[ARGUMENT])  # raises ValueError with a sentence when it is not ours

    def __init__(self, vllm_config, device: torch.device, is_pin_memory: bool):
        self.device = device
        self.requests: dict[int, _Request] = {}

    def is_argmax_invariant(self) -> bool:
        return False  # it decides which ids exist at all

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        process_dict_updates(self.requests, batch_update, self._new_request)

    @staticmethod
    def _new_request(params, _prompt_ids, output_ids) -> _Request | None:
        extra = params.extra_args or {}
        if ARGUMENT not in extra:
            return None
        argument = decode_argument(extra[ARGUMENT])
        machine = RowMachine.restore(argument["machine"])
        return _Request(machine, argument["midi_offset"], argument["stop_id"], output_ids)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        for index, request in self.requests.items():
            request.catch_up()
            row = logits[index]
            expected = request.machine.expect() if not request.broken else Finished("end")
            offset = request.midi_offset
            if isinstance(expected, Sample):
                first, end = offset + expected.first, offset + expected.end
                kept = row[first:end].clone()
                if expected.notes is not None:
                    kept.masked_fill_(~note_mask(expected.notes, row.device), -math.inf)
                row.fill_(-math.inf)
                row[first:end] = kept
            else:
                forced = offset + expected.id if isinstance(expected, Force) else request.stop_id
                row.fill_(-math.inf)
                row[forced] = 0.0
        return logits


def describe() -> str:
    """The ``--logits-processors`` value that names this class (for ``vllm serve``)."""
    return f"{__name__}:{MidiLlmLogitsProcessor.__name__}"


__all__ = ["MidiLlmLogitsProcessor", "describe"]
