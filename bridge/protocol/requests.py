"""Requests on the wire: ``/midi-llm/<verb> id reply_port key value key value ...``.

The daemon turns a request's options (and its notes, once every chunk has
arrived) into a :class:`JobSpec`: everything validated, every position in
beats, every default filled in from the configuration, the engine's own
request built once. Nothing here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoChange, TempoMap, TimeSignature
from bridge.engine.grammar import MusicianConstraints
from bridge.engine.requests import GenerationRequest
from bridge.engine.sampling_options import SamplingOptions
from bridge.protocol import MODE_ADDRESSES
from bridge.protocol.errors import BAD_REQUEST, TOO_LARGE, ProtocolError
from bridge.protocol.limits import (
    MAX_BPM,
    MAX_ID_CHARACTERS,
    MAX_PROMPT_CHARACTERS,
    MAX_SEED,
    MAX_TEMPERATURE,
    MAX_TOP_K,
    MAX_TOP_P,
    MIN_BPM,
    MIN_TEMPERATURE,
    MIN_TOP_P,
)
from bridge.protocol.notes import RawNote, as_flag, as_float, as_int, raw_to_note

MODES = tuple(MODE_ADDRESSES.values())
DEFAULT_BARS = 4

# key: (kind, arity, repeatable). Kinds: str, float, int, flag, grid (text like 1/16, or a step in beats).
OPTIONS: dict[str, tuple[str, int, bool]] = {
    "secret": ("str", 1, False),
    "prompt": ("str", 1, False),
    "notes": ("int", 1, False),
    "units": ("str", 1, False),
    "tempo": ("float", 1, False),
    "tempo_change": ("float", 2, True),
    "time_sig": ("str", 1, False),
    "start": ("float", 1, False),
    "end": ("float", 1, False),
    "bars": ("int", 1, False),
    "start_bar": ("int", 1, False),
    "end_bar": ("int", 1, False),
    "variations": ("int", 1, False),
    "seed": ("int", 1, False),
    "grid": ("grid", 1, False),
    "temperature": ("float", 1, False),
    "top_p": ("float", 1, False),
    "top_k": ("int", 1, False),
    "max_notes": ("int", 1, False),
    "max_tokens": ("int", 1, False),
    "lowest_pitch": ("int", 1, False),
    "highest_pitch": ("int", 1, False),
    "instrument": ("int", 1, True),
    "given": ("int", 1, True),
    "program": ("int", 1, False),
    "velocity": ("float", 1, False),
    "stream": ("flag", 1, False),
    "whole": ("flag", 1, False),
    "doubles": ("flag", 1, False),
    "keep_rhythm": ("flag", 1, False),
    "keep_pitches": ("flag", 1, False),
    "pitch_class": ("int", 1, True),
    "scale": ("str", 1, False),
    "live": ("flag", 1, False),
    "live_variation": ("int", 1, False),
    "follow": ("flag", 1, False),
}


def parse_request_id(value: Any) -> tuple[int | str, str]:
    """The client's id (int or text) and the key the daemon files it under."""
    if isinstance(value, bool) or value is None:
        raise ProtocolError(BAD_REQUEST, f"request id {value!r} must be a whole number or a word")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ProtocolError(BAD_REQUEST, f"request id {value!r} must be a whole number or a word")
        value = int(value)
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ProtocolError(BAD_REQUEST, f"request id {value} does not fit in 64 bits")
        return value, str(value)
    if isinstance(value, str):
        if not value or len(value) > MAX_ID_CHARACTERS:
            raise ProtocolError(BAD_REQUEST, f"request id must have 1 to {MAX_ID_CHARACTERS} characters")
        return value, value
    raise ProtocolError(BAD_REQUEST, f"request id of type {type(value).__name__} must be a whole number or a word")


def parse_reply_port(value: Any) -> int:
    return as_int(value, "request", "reply port", 0, 65535)


def parse_options(args: Sequence[Any]) -> dict[str, Any]:
    """Key/value pairs after ``id reply_port``: values typed, repeatable keys collected in lists."""
    options: dict[str, Any] = {}
    i = 0
    while i < len(args):
        key = args[i]
        if not isinstance(key, str):
            raise ProtocolError(BAD_REQUEST, f"expected an option name at position {i + 3}, got {key!r}")
        if key not in OPTIONS:
            raise ProtocolError(BAD_REQUEST, f"unknown option {key!r}; known: {', '.join(OPTIONS)}")
        kind, arity, repeatable = OPTIONS[key]
        values = list(args[i + 1 : i + 1 + arity])
        if len(values) < arity:
            raise ProtocolError(BAD_REQUEST, f"option {key!r} needs {arity} value(s)")
        typed = [_typed(key, kind, v) for v in values]
        value = typed[0] if arity == 1 else tuple(typed)
        if repeatable:
            options.setdefault(key, []).append(value)
        else:
            options[key] = value
        i += 1 + arity
    return options


def _typed(key: str, kind: str, value: Any) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise ProtocolError(BAD_REQUEST, f"option {key!r}: {value!r} must be text")
        return value
    if kind == "int":
        return as_int(value, "option", key, -(2**63), 2**63 - 1)
    if kind == "float":
        return as_float(value, "option", key)
    if kind == "flag":
        return as_flag(value, "option", key)
    if kind == "grid":
        if isinstance(value, str):
            return value
        return as_float(value, "option", key, 0.0)
    raise AssertionError(kind)


@dataclass(frozen=True)
class JobSpec:
    """A validated request: what the engine is asked, and how its answer travels back.

    ``request`` is the engine's own :class:`GenerationRequest` (positions in
    beats), built here once: the protocol and the engine share one request type.
    The other fields only say how the daemon delivers: units, streaming, the
    whole clip or the new notes, doubles, live playback.
    """

    request: GenerationRequest
    seconds: bool = False
    stream: bool = False
    whole: bool = False
    doubles: bool = False
    live: bool = False
    live_variation: int = 0
    follow: bool = False

    def to_units(self, beats: float) -> float:
        """A position in the request's units."""
        return self.request.tempo.beats_to_seconds(beats) if self.seconds else beats


def _tempo(options: Mapping[str, Any]) -> TempoMap:
    bpm = as_float(options.get("tempo", 120.0), "option", "tempo", MIN_BPM, MAX_BPM)
    changes = [TempoChange(0.0, bpm)]
    for beat, value in options.get("tempo_change", []):
        changes.append(TempoChange(as_float(beat, "option", "tempo_change beat", 0.0, 1e7),
                                   as_float(value, "option", "tempo_change bpm", MIN_BPM, MAX_BPM)))
    try:
        return TempoMap(tuple(changes))
    except ValueError as error:
        raise ProtocolError(BAD_REQUEST, str(error)) from None


def _grid(value: Any) -> float | None:
    from bridge.engine.grid import parse_grid  # pure Python (no torch)

    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_grid(value)
        except ValueError as error:
            raise ProtocolError(BAD_REQUEST, str(error)) from None
    return float(value) if value > 0 else None


def expected_notes(options: Mapping[str, Any], limits: Mapping[str, Any]) -> int:
    """The note count a request announces, checked against limits.max_notes_in."""
    count = options.get("notes", 0)
    if count < 0:
        raise ProtocolError(BAD_REQUEST, f"notes {count} must be 0 or more")
    if count > limits["max_notes_in"]:
        raise ProtocolError(
            TOO_LARGE,
            f"the clip has {count} notes; this daemon takes at most {limits['max_notes_in']} (limits.max_notes_in)",
        )
    return count


def build_job_spec(mode: str, options: Mapping[str, Any], raw_notes: Sequence[RawNote],
                   config: Mapping[str, Mapping[str, Any]]) -> JobSpec:
    """Validate everything and fill in defaults; raises :class:`ProtocolError` with a sentence."""
    if mode not in MODES:
        raise ProtocolError(BAD_REQUEST, f"mode {mode!r} is not one of {', '.join(MODES)}")
    limits, sampling = config["limits"], config["sampling"]
    units = options.get("units", "beats")
    if units not in ("beats", "seconds"):
        raise ProtocolError(BAD_REQUEST, f"units {units!r} must be beats or seconds")
    seconds = units == "seconds"
    tempo = _tempo(options)
    try:
        meter = TimeSignature.parse(options.get("time_sig", "4/4"))
    except ValueError as error:
        raise ProtocolError(BAD_REQUEST, str(error)) from None
    prompt = options.get("prompt", "")
    if len(prompt) > MAX_PROMPT_CHARACTERS:
        raise ProtocolError(TOO_LARGE, f"the prompt has {len(prompt)} characters; keep it under "
                                       f"{MAX_PROMPT_CHARACTERS}")
    program = as_int(options.get("program", 0), "option", "program", 0, 127)
    try:
        notes = tuple(raw_to_note(r, tempo=tempo, seconds=seconds, program=program) for r in raw_notes)
    except ValueError as error:
        raise ProtocolError(BAD_REQUEST, f"a note cannot be used: {error}") from None
    if len(notes) > limits["max_notes_in"]:
        raise ProtocolError(TOO_LARGE, f"the clip has {len(notes)} notes; this daemon takes at most "
                                       f"{limits['max_notes_in']} (limits.max_notes_in)")
    start, end = _span(mode, options, notes, tempo, meter, seconds)
    bar = meter.beats_per_bar
    if (end - start) / bar > limits["max_bars"] + 1e-9:
        raise ProtocolError(TOO_LARGE, f"the span is {(end - start) / bar:g} bars; this daemon writes at most "
                                       f"{limits['max_bars']} bars at once (limits.max_bars)")
    span_seconds = tempo.beats_to_seconds(end) - tempo.beats_to_seconds(start)
    if span_seconds > limits["max_seconds"] + 1e-9:
        raise ProtocolError(TOO_LARGE, f"the span lasts {span_seconds:.1f} s; this daemon writes at most "
                                       f"{limits['max_seconds']:g} s at once (limits.max_seconds)")
    variations = options.get("variations", 1)
    if variations < 1:
        raise ProtocolError(BAD_REQUEST, f"variations {variations} must be at least 1")
    if variations > limits["max_variations"]:
        raise ProtocolError(TOO_LARGE, f"{variations} variations asked; this daemon writes at most "
                                       f"{limits['max_variations']} at once (limits.max_variations)")
    seed = options.get("seed")
    if seed is not None:
        seed = as_int(seed, "option", "seed", 0, MAX_SEED)
    max_notes = options.get("max_notes")
    if max_notes is not None:
        if max_notes < 1:
            raise ProtocolError(BAD_REQUEST, f"max_notes {max_notes} must be at least 1")
        if max_notes > limits["max_notes_out"]:
            raise ProtocolError(TOO_LARGE, f"max_notes {max_notes} is over this daemon's "
                                           f"{limits['max_notes_out']} notes per variation (limits.max_notes_out)")
    else:
        max_notes = limits["max_notes_out"]
    max_tokens = options.get("max_tokens", sampling["max_new_tokens"])
    if not 3 <= max_tokens <= sampling["max_new_tokens"]:
        raise ProtocolError(BAD_REQUEST if max_tokens < 3 else TOO_LARGE,
                            f"max_tokens {max_tokens} must be 3..{sampling['max_new_tokens']} "
                            "(sampling.max_new_tokens)")
    temperature = as_float(options.get("temperature", sampling["temperature"]), "option", "temperature",
                           MIN_TEMPERATURE, MAX_TEMPERATURE)
    top_p = as_float(options.get("top_p", sampling["top_p"]), "option", "top_p", MIN_TOP_P, MAX_TOP_P)
    top_k = as_int(options.get("top_k", sampling["top_k"]), "option", "top_k", 0, MAX_TOP_K)
    low = as_int(options.get("lowest_pitch", 0), "option", "lowest_pitch", 0, 127)
    high = as_int(options.get("highest_pitch", 127), "option", "highest_pitch", 0, 127)
    if low > high:
        raise ProtocolError(BAD_REQUEST, f"lowest_pitch {low} is above highest_pitch {high}")
    instruments = None
    if "instrument" in options:
        instruments = frozenset(as_int(v, "option", "instrument", 0, 128) for v in options["instrument"])
    given = frozenset(as_int(v, "option", "given", 0, 128) for v in options.get("given", []))
    if mode == "accompany":
        audible = {n.instrument for n in notes if not n.mute}
        if not audible:
            raise ProtocolError(BAD_REQUEST, "accompany needs the notes of at least one part to accompany")
        if given and not given & audible:
            raise ProtocolError(BAD_REQUEST, "none of the given instruments has notes in the clip")
    velocity = as_float(options.get("velocity", sampling["default_velocity"]), "option", "velocity", 1.0, 127.0)
    live_variation = as_int(options.get("live_variation", 0), "option", "live_variation", 0, variations - 1)
    pitch_classes = _pitch_classes(options, low, high)
    keep_rhythm = options.get("keep_rhythm", False)
    keep_pitches = options.get("keep_pitches", False)
    for flag, value in (("keep_rhythm", keep_rhythm), ("keep_pitches", keep_pitches)):
        if value and mode != "infill":
            raise ProtocolError(BAD_REQUEST, f"{flag} rewrites the notes of an infill span: use it with infill")
    if keep_rhythm and keep_pitches:
        raise ProtocolError(BAD_REQUEST, "give keep_rhythm or keep_pitches, not both")
    try:
        request = GenerationRequest(
            mode=mode, start=start, end=end, tempo=tempo, time_signature=meter, prompt=prompt, notes=notes,
            given_instruments=given, constraints=MusicianConstraints(instruments, low, high, max_notes, pitch_classes),
            sampling=SamplingOptions(temperature, top_p, top_k), variations=variations, seed=seed,
            max_new_tokens=max_tokens, grid=_grid(options.get("grid", sampling["grid"])), default_velocity=velocity,
            keep_rhythm=keep_rhythm, keep_pitches=keep_pitches,
        )
    except ValueError as error:  # what only the engine's types check
        raise ProtocolError(BAD_REQUEST, str(error)) from None
    return JobSpec(
        request, seconds=seconds, stream=options.get("stream", False), whole=options.get("whole", False),
        doubles=options.get("doubles", False), live=options.get("live", False), live_variation=live_variation,
        follow=options.get("follow", False),
    )


def _pitch_classes(options: Mapping[str, Any], low: int, high: int) -> frozenset[int] | None:
    """The scale new pitched notes must keep to: ``scale "D minor"`` or ``pitch_class`` repeated."""
    from bridge.engine.scales import parse_scale  # pure Python (no torch)

    if "scale" in options and "pitch_class" in options:
        raise ProtocolError(BAD_REQUEST, "give scale or pitch_class, not both")
    if "scale" in options:
        try:
            classes = parse_scale(options["scale"])
        except ValueError as error:
            raise ProtocolError(BAD_REQUEST, str(error)) from None
    elif "pitch_class" in options:
        classes = frozenset(as_int(v, "option", "pitch_class", 0, 11) for v in options["pitch_class"])
    else:
        return None
    if not any(p % 12 in classes for p in range(low, high + 1)):
        raise ProtocolError(BAD_REQUEST, f"no pitch of the scale lies between lowest_pitch {low} and "
                                         f"highest_pitch {high}")
    return classes


def _span(mode: str, options: Mapping[str, Any], notes: Sequence[Note], tempo: TempoMap, meter: TimeSignature,
          seconds: bool) -> tuple[float, float]:
    """Start and end of the span to write, in beats (see docs/protocol.md, "The span")."""
    bar = meter.beats_per_bar

    def beats(key: str) -> float:
        value = as_float(options[key], "option", key, 0.0, 1e7)
        return tempo.seconds_to_beats(value) if seconds else value

    if "start" in options and "start_bar" in options:
        raise ProtocolError(BAD_REQUEST, "give start or start_bar, not both")
    given_ends = [k for k in ("end", "end_bar", "bars") if k in options]
    if len(given_ends) > 1:
        raise ProtocolError(BAD_REQUEST, f"give only one of end, end_bar and bars (got {', '.join(given_ends)})")
    last = max((n.end for n in notes), default=0.0)
    last_bar_line = math.ceil(last / bar - 1e-9) * bar
    if "start" in options:
        start = beats("start")
    elif "start_bar" in options:
        start = (as_int(options["start_bar"], "option", "start_bar", 1, 100_000) - 1) * bar
    elif mode == "infill":
        raise ProtocolError(BAD_REQUEST, "infill needs the span to rewrite: start_bar and end_bar (or start and end)")
    elif mode == "continue":
        start = last_bar_line
    else:
        start = 0.0
    if "end" in options:
        end = beats("end")
    elif "end_bar" in options:
        end = as_int(options["end_bar"], "option", "end_bar", 1, 100_000) * bar
    elif "bars" in options:
        end = start + as_int(options["bars"], "option", "bars", 1, 100_000) * bar
    elif mode == "accompany" and last_bar_line > start:
        end = last_bar_line
    else:
        end = start + DEFAULT_BARS * bar
    if end <= start:
        raise ProtocolError(BAD_REQUEST, f"the span ends (beat {end:g}) before it starts (beat {start:g}); "
                                         "with bars, the end bar is included: bars 5 to 8 is start_bar 5 end_bar 8")
    return start, end
