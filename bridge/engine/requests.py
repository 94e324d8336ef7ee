"""What a request asks of the engine and what it gets back, in the DAW's terms (beats)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bridge.amt.notes import DEFAULT_VELOCITY, Note
from bridge.amt.tempo import TempoMap, TimeSignature
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.sampling_options import SamplingOptions
from bridge.protocol.limits import MAX_SEED

MODES = ("generate", "continue", "infill", "accompany")


@dataclass(frozen=True)
class GenerationRequest:
    """One job for the model.

    ``start`` and ``end`` (beats, same origin as the notes and the tempo map)
    bound the span the model writes. ``notes`` are the notes already there; they
    come back unchanged except, in infill, the audible ones starting inside the
    span, which the new notes replace. With ``keep_rhythm`` (infill only) the
    new notes take exactly those notes' onsets, durations and velocities and the
    model chooses only their pitches and instruments. With ``keep_pitches`` the
    new notes are those notes' pitches, chords and velocities in order, and the
    model chooses when they start (before the span's end) and how long they last. For ``accompany``, ``given_instruments``
    are the parts the model accompanies (default: every instrument in ``notes``).
    """

    mode: str
    start: float
    end: float
    tempo: TempoMap
    time_signature: TimeSignature = field(default_factory=TimeSignature)
    prompt: str = ""
    notes: tuple[Note, ...] = ()
    given_instruments: frozenset[int] = frozenset()
    constraints: MusicianConstraints = field(default_factory=MusicianConstraints)
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    variations: int = 1
    seed: int | None = None
    max_new_tokens: int = 2046
    grid: float | None = None
    default_velocity: float = DEFAULT_VELOCITY
    keep_rhythm: bool = False
    keep_pitches: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"span {name} {value!r} is not a number of beats")
        if self.start < 0:
            raise ValueError(f"the span starts at beat {self.start}, before the song")
        if self.end <= self.start:
            raise ValueError(f"the span [{self.start}, {self.end}) beats is empty: its end must come after its start")
        if not 1 <= self.variations <= 64:
            raise ValueError(f"variations {self.variations} must be 1..64")
        if self.max_new_tokens < 3:
            raise ValueError("max_new_tokens must be at least 3 (one note)")
        if self.grid is not None and not (math.isfinite(self.grid) and self.grid > 0):
            raise ValueError(f"grid step {self.grid!r} beats must be positive")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed {self.seed} must be 0..{MAX_SEED}")
        if self.keep_rhythm and self.mode != "infill":
            raise ValueError("keep rhythm re-pitches the notes of an infill span; use it with infill")
        if self.keep_pitches and self.mode != "infill":
            raise ValueError("keep pitches gives the notes of an infill span a new rhythm; use it with infill")
        if self.keep_rhythm and self.keep_pitches:
            raise ValueError("keep rhythm or keep pitches, not both (keeping both changes nothing)")
        if not 1 <= self.default_velocity <= 127:
            raise ValueError(f"default velocity {self.default_velocity} must be 1..127")


@dataclass
class Variation:
    """One candidate: the new notes, and the whole clip (given notes kept + new)."""

    index: int
    new_notes: list[Note]
    notes: list[Note]
    finish_reason: str


@dataclass
class GenerationResult:
    variations: list[Variation]
    seed: int
    removed_notes: list[Note]
    seconds: float
    sampled_tokens: int
    rebuilds: int
    warnings: list[str] = field(default_factory=list)
