"""A validated protocol job as the engine's request (this module imports torch)."""

from __future__ import annotations

from bridge.engine.grammar import MusicianConstraints
from bridge.engine.requests import GenerationRequest
from bridge.engine.sampling import SamplingOptions
from bridge.protocol.requests import JobSpec


def to_generation_request(spec: JobSpec) -> GenerationRequest:
    """Raises ValueError (with a sentence) for what only the engine's types check."""
    return GenerationRequest(
        mode=spec.mode,
        start=spec.start,
        end=spec.end,
        tempo=spec.tempo,
        time_signature=spec.time_signature,
        prompt=spec.prompt,
        notes=spec.notes,
        given_instruments=spec.given,
        constraints=MusicianConstraints(spec.instruments, spec.lowest_pitch, spec.highest_pitch, spec.max_notes,
                                        spec.pitch_classes),
        sampling=SamplingOptions(spec.temperature, spec.top_p, spec.top_k),
        variations=spec.variations,
        seed=spec.seed,
        max_new_tokens=spec.max_tokens,
        grid=spec.grid,
        default_velocity=spec.velocity,
        keep_rhythm=spec.keep_rhythm,
        keep_pitches=spec.keep_pitches,
    )
