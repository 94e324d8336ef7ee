"""The engine: a resident model that turns requests into notes.

It converts the DAW's beats into the model's ticks through the tempo map,
builds the plan for the mode (generate, continue, infill, accompany), runs the
shared decoding loop for all variations at once, and converts back, keeping
every given note exactly as it came.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bridge.amt import sequence, vocab
from bridge.amt.notes import Note, note_to_event, seconds_to_ticks
from bridge.amt.replacement import replaced_notes
from bridge.engine.decoder import Cancelled, Decoder, RowResult
from bridge.engine.keep_modes import RhythmSlot
from bridge.engine.loading import LoadedModel, load_model
from bridge.engine.requests import GenerationRequest, GenerationResult, Variation
from bridge.engine.shaping import NoteShaper
from bridge.protocol.limits import MAX_PROMPT_CHARACTERS

log = logging.getLogger(__name__)

NoteCallback = Callable[[int, Note], None]
ProgressCallback = Callable[[float, int], None]

__all__ = ["Cancelled", "Engine"]


def chord_groups(notes: list[Note]) -> list[list[Note]]:
    """Audible notes grouped by onset (chords), in time order, each chord from low to high."""
    groups: dict[float, list[Note]] = {}
    for note in sorted(notes, key=lambda n: (n.start, n.pitch)):
        groups.setdefault(round(note.start, 6), []).append(note)
    return list(groups.values())


def _unkept_sentence(index: int, row: RowResult, given: int, doubled: int, verb: str) -> str:
    """The warning for keep rhythm / keep pitches when some given notes did not make it, or ''."""
    reasons = dict(row.unplaced)
    if doubled > 0:
        reasons["they fell on the same grid step as the previous chord (use a finer grid or none)"] = doubled
    missing = sum(reasons.values())
    if not missing:
        return ""
    why = "; ".join(f"{count} because {reason}" for reason, count in reasons.items())
    return f"variation {index + 1}: {given - missing} of the {given} given notes {verb}, {missing} did not: {why}"


class Engine:
    """Owns one loaded model; runs one request at a time (variations are batched), or several at once when
    its decoder batches requests itself (``concurrent``: the vLLM backend, bridge/engine/backends/)."""

    def __init__(self, loaded: LoadedModel, *, window_margin: int = 0, decode_step: str = "auto",
                 decoder: Any = None):
        self.loaded = loaded
        self.decoder = decoder if decoder is not None else Decoder(loaded, window_margin=window_margin,
                                                                   decode_step=decode_step)
        self.concurrent = bool(getattr(self.decoder, "concurrent", False))
        self._lock = contextlib.nullcontext() if self.concurrent else threading.Lock()

    @classmethod
    def from_config(cls, model_config: dict) -> Engine:
        from bridge.engine.backends import resolve_backend, vllm_engine

        if resolve_backend(model_config) == "vllm":
            engine = vllm_engine(cls, model_config)
            if model_config.get("warmup", True):
                engine.warm_up()
            return engine
        loaded = load_model(
            model_config["id"],
            profile=model_config.get("profile", "auto"),
            device=model_config.get("device", "auto"),
            dtype=model_config.get("dtype", "auto"),
            cache_dir=model_config.get("cache_dir"),
            offline=model_config.get("offline", False),
            revision=model_config.get("revision"),
            threads=model_config.get("threads", 0),
        )
        engine = cls(loaded, window_margin=model_config.get("window_margin", 0),
                     decode_step=model_config.get("decode_step", "auto"))
        if model_config.get("warmup", True):
            engine.warm_up()
        return engine

    @property
    def description(self) -> dict[str, str]:
        return {
            "model": self.loaded.source,
            "profile": self.loaded.profile.name,
            "device": str(self.loaded.device),
            "dtype": str(self.loaded.dtype).replace("torch.", ""),
        }

    def warm_up(self) -> float:
        """One tiny generation so that kernels and caches are ready for the first user."""
        from bridge.amt.tempo import TempoMap

        started = time.perf_counter()
        self.run(GenerationRequest("generate", 0.0, 2.0, TempoMap.constant(120), prompt="warm up", seed=0,
                                   max_new_tokens=6))
        return time.perf_counter() - started

    def _text_prefix(self, prompt: str) -> list[int]:
        profile = self.loaded.profile
        if not profile.uses_text:
            return []
        if len(prompt) > MAX_PROMPT_CHARACTERS:
            raise ValueError(f"the prompt has {len(prompt)} characters; keep it under {MAX_PROMPT_CHARACTERS}")
        encoded = self.loaded.tokenizer(profile.prompt_text(prompt))
        return list(encoded["input_ids"])

    def _ticks(self, request: GenerationRequest, beats: float) -> int:
        return seconds_to_ticks(request.tempo.beats_to_seconds(beats))

    def _plan(self, request: GenerationRequest) -> tuple[sequence.DecodingPlan, list[Note], list[Note]]:
        """The decoding plan, the given notes kept as they are, and those the new notes replace."""
        start, end = self._ticks(request, request.start), self._ticks(request, request.end)
        if end <= start:
            raise ValueError("the span is shorter than the model's 10 ms time step")
        audible = [n for n in request.notes if not n.mute]
        muted = [n for n in request.notes if n.mute]
        events = [note_to_event(n, request.tempo) for n in audible]
        order = sorted(range(len(audible)), key=lambda i: events[i].time)
        audible = [audible[i] for i in order]
        events = [events[i] for i in order]
        if request.mode == "generate":
            return sequence.plan_generate_from(start, end), [], []
        if request.mode == "continue":
            return sequence.plan_continue(events, start, end), list(request.notes), []
        given = request.given_instruments or frozenset(n.instrument for n in audible)
        if request.mode == "accompany" and not given:
            raise ValueError("accompaniment needs the notes of at least one part to accompany")
        # which notes are replaced: the one rule clients use too (bridge/amt/replacement.py)
        removed = replaced_notes(request.mode, audible, request.tempo, request.start, request.end, given)
        taken = {id(n) for n in removed}
        kept = [n for n in audible if id(n) not in taken] + muted
        if request.mode == "infill":
            return sequence.plan_infill(events, start, end), kept, removed
        return sequence.plan_accompany(events, given, start, end), kept, removed

    def run(
        self,
        request: GenerationRequest,
        *,
        on_note: NoteCallback | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> GenerationResult:
        """Decode ``request``; ``on_note`` sees each note (variation, note) as soon as it exists.

        Raises :class:`Cancelled` when ``cancel`` is set, within one step.
        """
        warnings: list[str] = []
        plan, kept, removed = self._plan(request)
        prefix = self._text_prefix(request.prompt)
        if request.prompt and not self.loaded.profile.uses_text:
            warnings.append("this model has no text input; the prompt was not used")
        constraints = request.constraints
        if request.mode == "accompany" and constraints.instruments is None:
            given = request.given_instruments or frozenset(n.instrument for n in request.notes if not n.mute)
            others = frozenset(range(vocab.MAX_INSTRUMENT)) - given
            constraints = replace(constraints, instruments=others)
        shapers = [
            NoteShaper(request.tempo, request.start, request.end, grid=request.grid,
                       default_velocity=request.default_velocity, occupied=kept)
            for _ in range(request.variations)
        ]
        notes_so_far = [0]
        slots = sorted(removed, key=lambda n: n.start) if request.keep_rhythm else None
        rhythm = None
        if slots is not None:
            if not slots:
                raise ValueError("keep rhythm needs notes inside the span to take the rhythm from")
            # each slot keeps its note's instrument unless the musician chose the instruments
            rhythm = [RhythmSlot(e.time, e.duration, n.instrument if constraints.instruments is None else None)
                      for n, e in ((n, note_to_event(n, request.tempo)) for n in slots)]
        given_index = [0] * request.variations  # per row: the given note (slot or fixed pitch) that comes next
        delivered = [0] * request.variations
        chords = chord_groups(removed) if request.keep_pitches else None
        if chords is not None and not chords:
            raise ValueError("keep pitches needs notes inside the span to take the pitches from")
        sequence_notes = [n for chord in chords for n in chord] if chords else []
        chord_of = [c for c, chord in enumerate(chords or []) for _ in chord]
        pitches = [[n.instrument * vocab.MAX_PITCH + n.pitch for n in chord] for chord in chords] if chords else None
        last_chord: list[tuple[int, float | None]] = [(-1, None)] * request.variations

        def skip(row: int) -> None:
            given_index[row] += 1

        def deliver(row: int, event: vocab.Event) -> None:
            index = given_index[row]
            given_index[row] += 1
            delivered[row] += 1
            if slots is not None:
                note = shapers[row].shape_on_slot(event, slots[index])
            elif chords is not None:
                event = event._replace(velocity=int(round(sequence_notes[index].velocity)))
                chord, chord_start = last_chord[row]
                if chord_of[index] != chord:  # a chord's first note: after the previous chord, on the grid too
                    note = shapers[row].shape(event, after=chord_start)
                    last_chord[row] = (chord_of[index], note.start if note is not None else chord_start)
                else:  # the chord's other notes share its onset
                    note = shapers[row].shape(event, at=chord_start)
            else:
                note = shapers[row].shape(event)
            if note is not None:
                notes_so_far[0] += 1
                if on_note is not None:
                    on_note(row, note)

        def progress(fraction: float) -> None:
            if on_progress is not None:
                on_progress(fraction, notes_so_far[0])

        seed = request.seed
        if seed is None:
            import secrets

            seed = secrets.randbits(31)
        with self._lock:
            rows, stats = self.decoder.decode(
                plan,
                prefix_ids=prefix,
                variations=request.variations,
                sampling=request.sampling,
                constraints=constraints,
                seed=seed,
                max_new_tokens=request.max_new_tokens,
                on_event=deliver,
                on_progress=progress,
                on_skip=skip,
                cancel=cancel,
                rhythm=rhythm,
                pitches=pitches,
            )
        variations = []
        for index, (row, shaper) in enumerate(zip(rows, shapers)):
            new = list(shaper.notes)
            whole = sorted(kept + new, key=lambda n: (n.start, n.pitch))
            variations.append(Variation(index, new, whole, row.finish_reason))
            if row.finish_reason == "max_new_tokens":
                warnings.append(f"variation {index + 1} stopped at the token limit before the end of the span")
            if not new and request.constraints.instruments and slots is None and chords is None:
                warnings.append(_no_notes_sentence(index, request.constraints.instruments))
            if slots is not None or chords is not None:
                sentence = _unkept_sentence(index, row, len(removed), delivered[index] - len(shaper.notes),
                                            "kept their onset" if slots is not None else "were placed")
                if sentence:
                    warnings.append(sentence)
        for warning in warnings:
            log.warning("%s", warning)
        return GenerationResult(variations, seed, removed, stats.seconds, stats.sampled_tokens, stats.rebuilds,
                                warnings)


def _no_notes_sentence(index: int, instruments: frozenset[int]) -> str:
    """Why a variation limited to chosen instruments came back empty, and what to try (DAWs and the CLI show it).

    Rare since the grammar makes such a row write a note before it may end (RowRules.first_note)."""
    from bridge.amt.gm import instrument_name

    named = ", ".join(f"{i} ({instrument_name(i)})" for i in sorted(instruments))
    return (f"variation {index + 1} has no new notes: with the instruments chosen the model may write only {named}; "
            "the row must write one of them before it may end, so either the piece already holds 16 instruments "
            "(none of them yours), the token limit came first, or what it wrote was already in the clip. Try "
            "allowing an instrument the piece has, another seed, or a longer span")
