"""Limits live in one place (bridge/protocol/limits.py): what the protocol accepts, the engine accepts.

Random values around each limit go through both the protocol's validation and the
engine's request types; for every value both say yes or both say no.
"""

from __future__ import annotations

import random

from bridge.amt.tempo import TempoMap
from bridge.config import SCHEMA, defaults
from bridge.protocol import limits
from bridge.protocol.errors import ProtocolError
from bridge.protocol.requests import build_job_spec
from tests.daemon_process import ROOT


def protocol_accepts(**options) -> bool:
    try:
        build_job_spec("generate", options, [], defaults())
    except ProtocolError:
        return False
    return True


def engine_accepts(**fields) -> bool:
    from bridge.engine.requests import GenerationRequest
    from bridge.engine.sampling_options import SamplingOptions

    sampling = {k: fields.pop(k) for k in ("temperature", "top_p", "top_k") if k in fields}
    try:
        GenerationRequest("generate", 0.0, 4.0, TempoMap.constant(120), sampling=SamplingOptions(**sampling),
                          **fields)
    except ValueError:
        return False
    return True


def test_seed_temperature_and_top_p_limits_agree_between_protocol_and_engine():
    rng = random.Random(15)
    for _ in range(200):
        seed = rng.choice([0, limits.MAX_SEED, limits.MAX_SEED + 1, 2**62, rng.randrange(0, 2**40)])
        assert protocol_accepts(seed=seed) == engine_accepts(seed=seed), seed
        temperature = rng.choice([limits.MIN_TEMPERATURE, limits.MIN_TEMPERATURE / 2, 0.001, limits.MAX_TEMPERATURE,
                                  limits.MAX_TEMPERATURE + 0.1, rng.uniform(0.0001, 6.0)])
        assert protocol_accepts(temperature=temperature) == engine_accepts(temperature=temperature), temperature
        top_p = rng.choice([limits.MIN_TOP_P, limits.MIN_TOP_P / 2, 1.0, rng.uniform(0.0001, 1.0)])
        assert protocol_accepts(top_p=top_p) == engine_accepts(top_p=top_p), top_p


def test_the_engine_and_the_config_take_their_limits_from_the_one_module():
    from bridge.engine import engine

    assert engine.MAX_PROMPT_CHARACTERS is limits.MAX_PROMPT_CHARACTERS
    temperature = SCHEMA["sampling"]["temperature"]
    assert temperature.check(limits.MIN_TEMPERATURE) and not temperature.check(limits.MIN_TEMPERATURE / 2)
    assert temperature.check(limits.MAX_TEMPERATURE) and not temperature.check(limits.MAX_TEMPERATURE * 1.01)
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert f"at most {limits.MAX_PROMPT_CHARACTERS:,} characters" in doc and f"{limits.MAX_SEED}" in doc
