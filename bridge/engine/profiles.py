"""How a checkpoint lays out the AMT vocabulary and what it expects before the music.

MIDI-LLM puts Llama 3's 128,256 text ids first and the AMT ids after them, and
reads a text prompt before the mode token; the original AMT models use the bare
AMT ids with no text. Everything else (the grammar, the plans) is shared.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.amt import vocab

MIDI_LLM_SYSTEM_PROMPT = (
    "You are a world-class composer. Please compose some music according to the following description: "
)
MIDI_LLM_TEXT_IDS = 128_256
MIDI_LLM_VOCAB_SIZE = MIDI_LLM_TEXT_IDS + 55_030


@dataclass(frozen=True)
class ModelProfile:
    """The facts a decoding loop needs about one family of checkpoints."""

    name: str
    midi_offset: int
    context_tokens: int
    uses_text: bool

    def model_id(self, amt_id: int) -> int:
        return amt_id + self.midi_offset

    def prompt_text(self, description: str) -> str:
        """MIDI-LLM's prompt: the fixed system sentence, the description, a trailing space."""
        return MIDI_LLM_SYSTEM_PROMPT + description + " "


MIDI_LLM = ModelProfile("midi-llm", MIDI_LLM_TEXT_IDS, 2048, True)
AMT = ModelProfile("amt", 0, 1024, False)
PROFILES = {p.name: p for p in (MIDI_LLM, AMT)}


class UnknownCheckpoint(ValueError):
    """The checkpoint's vocabulary is not one of the AMT layouts."""


def detect_profile(vocab_size: int, model_type: str, max_positions: int | None, requested: str = "auto") -> ModelProfile:
    """Pick the profile from the checkpoint's config, or check the configured one fits."""
    if requested != "auto":
        profile = PROFILES[requested]
    elif vocab_size >= MIDI_LLM_TEXT_IDS + vocab.VOCAB_SIZE:
        profile = MIDI_LLM
    elif vocab.VOCAB_SIZE <= vocab_size < MIDI_LLM_TEXT_IDS:
        profile = AMT
    else:
        raise UnknownCheckpoint(
            f"a {model_type} checkpoint with {vocab_size} ids does not hold the AMT vocabulary "
            f"({vocab.VOCAB_SIZE} ids, or {MIDI_LLM_VOCAB_SIZE} for MIDI-LLM)"
        )
    if profile.midi_offset + vocab.VOCAB_SIZE > vocab_size:
        raise UnknownCheckpoint(
            f"profile {profile.name} needs {profile.midi_offset + vocab.VOCAB_SIZE} ids; the checkpoint has {vocab_size}"
        )
    if max_positions and max_positions < profile.context_tokens:
        profile = ModelProfile(profile.name, profile.midi_offset, max_positions, profile.uses_text)
    return profile
