"""One vLLM request of one row: its prompt (the rebuilt window), its sampling parameters and the machine it carries.

A row is decoded as a chain of requests: each one's prompt is the prefix
(MIDI-LLM's text, the mode token) and the row's window as the model sees it;
its logits processor argument is the row's machine at that point. A request
ends with the stop id when the row is finished or its window must be rebuilt
(past the context, or the 100 s time block); the next request starts over the
rebuilt window, which prefix caching makes cheap. Plain data only: the
in-process engine and the remote server get the same request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bridge.amt import vocab
from bridge.engine.machine import RowMachine
from bridge.engine.profiles import ModelProfile
from bridge.engine.sampling_options import SamplingOptions

ARGUMENT = "midi_llm"
"""The key of our argument in ``SamplingParams.extra_args`` (``vllm_xargs`` over HTTP)."""

PROCESSOR = "bridge.engine.backends.vllm_processor:MidiLlmLogitsProcessor"
"""What ``vllm serve --logits-processors`` names (vllm_processor.describe() says the same; it needs torch)."""

FORMAT = 1
SEGMENT_SEED_STEP = 1_000_033
"""A row's later requests draw from seeds this far apart, so a rebuilt window never repeats its draws."""


def encode_argument(machine: RowMachine, profile: ModelProfile) -> str:
    """The logits processor's argument: a JSON string (``vllm_xargs`` values must be text or numbers)."""
    return json.dumps({"format": FORMAT, "midi_offset": profile.midi_offset,
                       "stop_id": profile.model_id(vocab.SEPARATOR), "machine": machine.snapshot()},
                      separators=(",", ":"))


def decode_argument(text: object) -> dict:
    """The argument back as data; a ValueError that says what is wrong when it is not ours."""
    if not isinstance(text, str):
        raise ValueError(f"extra_args[{ARGUMENT!r}] must be the JSON text the midi-llm-bridge daemon sends")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"extra_args[{ARGUMENT!r}] is not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"extra_args[{ARGUMENT!r}] has format {data.get('format') if isinstance(data, dict) else '?'}"
                         f"; this server's midi-llm-bridge speaks {FORMAT}: install the same version on both sides")
    return data


@dataclass(frozen=True)
class SegmentRequest:
    """What one request asks of vLLM (model ids)."""

    prompt_ids: list[int]
    temperature: float
    top_p: float
    top_k: int  # 0: no top-k cut (vLLM's -1)
    seed: int
    max_tokens: int
    stop_id: int
    argument: str


def segment_request(machine: RowMachine, prefix: list[int], profile: ModelProfile, sampling: SamplingOptions,
                    row_seed: int, segment: int) -> SegmentRequest:
    """The next request of a row whose window was just (re)built."""
    prompt = prefix + [profile.model_id(t) for t in machine.window_ids()]
    room = profile.context_tokens - len(prompt)
    if room < 4:
        raise ValueError(f"the prompt ({len(prompt)} ids) leaves no room in the model's {profile.context_tokens}-id "
                         "context; shorten the text prompt")
    return SegmentRequest(prompt, sampling.temperature, sampling.top_p, sampling.top_k,
                          (row_seed + SEGMENT_SEED_STEP * segment) % (2**63), room,
                          profile.model_id(vocab.SEPARATOR), encode_argument(machine, profile))
