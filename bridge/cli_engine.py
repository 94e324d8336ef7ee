"""Offline commands that run the model in this process: generate, continue, infill, accompany.

No daemon needed: these load the model, write a .mid file and exit. Bars are
counted from 1 as in every DAW; an infill of bars 5 to 8 rewrites four bars.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from bridge.cli_files import check_given, check_writable, read_input_file, variation_paths, write_merged
from bridge.cli_settings import add_config_arguments, config_from_args

log = logging.getLogger(__name__)

GRID_HELP = "snap new notes: 1/4, 1/8, 1/16, 1/32, with T for triplets (1/8T) or D for dotted (1/8D), or off"
OUTPUT_HELP = "the .mid file to write; with --variations N it holds the first, the others go to out-2.mid, out-3.mid..."


def parse_instruments(text: str | None) -> frozenset[int] | None:
    """``"0,33,128"`` -> {0, 33, 128}; names such as "drums" or "bass" are accepted too."""
    if text is None or not text.strip():
        return None
    from bridge.amt.gm import instrument_from_track_name

    found = set()
    for part in text.split(","):
        part = part.strip()
        if part.isdigit():
            value = int(part)
        else:
            guess = instrument_from_track_name(part)
            if guess is None:
                raise ValueError(f"instrument {part!r} is not a number 0-128 or a known name (bass, drums, piano...)")
            value = guess
        if not 0 <= value <= 128:
            raise ValueError(f"instrument {value} must be 0..127 (GM program) or 128 (drums)")
        found.add(value)
    return frozenset(found)


def parse_pitch_range(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 127
    try:
        low, high = (int(x) for x in text.split("-", 1))
    except ValueError:
        raise ValueError(f"pitch range {text!r} must look like 36-84") from None
    return low, high


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, help=OUTPUT_HELP)
    parser.add_argument("--prompt", help="text description of the music")
    parser.add_argument("--variations", type=int, default=1, help="how many candidates (decoded as one batch)")
    parser.add_argument("--seed", type=int, help="make the result reproducible")
    parser.add_argument("--model", help="hub id or local directory (default: model.id in the config)")
    add_config_arguments(parser)
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--top-p", type=float)
    parser.add_argument("--top-k", type=int)
    parser.add_argument("--instruments", help="only these instruments (GM programs 0-127, 128 drums, or names)")
    parser.add_argument("--pitch-range", help="lowest-highest pitch for pitched instruments, e.g. 36-84")
    parser.add_argument("--scale", help="keep new pitched notes in a scale: 'D minor', 'F# dorian', "
                        "'A minor pentatonic' or pitch classes '0,2,4,5,7,9,11'")
    parser.add_argument("--max-notes", type=int, help="stop each variation after this many notes")
    parser.add_argument("--max-new-tokens", type=int, help="stop each variation after this many ids")
    parser.add_argument("--grid", help=GRID_HELP)


def register(commands: argparse._SubParsersAction) -> None:
    generate = commands.add_parser("generate", help="write new music from a text prompt into a .mid file")
    generate.add_argument("text", nargs="?", help="text description of the music (or --prompt TEXT)")
    generate.add_argument("--bars", type=int, default=8)
    generate.add_argument("--tempo", type=float, default=120.0, help="beats per minute")
    generate.add_argument("--time-sig", default="4/4")
    _common(generate)
    generate.set_defaults(handler=run_offline, mode="generate")

    for mode, text in (
        ("continue", "continue a MIDI file by some bars"),
        ("infill", "rewrite bars of a MIDI file around the notes that are there"),
        ("accompany", "write the other parts around some instruments of a MIDI file"),
    ):
        sub = commands.add_parser(mode, help=text)
        sub.add_argument("input", help="a standard MIDI file (tempo and meter are read from it)")
        if mode == "continue":
            sub.add_argument("--bars", type=int, default=4, help="bars to add after the last note's bar")
        else:
            sub.add_argument("--start-bar", type=int, required=(mode == "infill"), help="first bar (from 1)")
            sub.add_argument("--end-bar", type=int, required=(mode == "infill"), help="last bar, included")
        if mode == "accompany":
            sub.add_argument("--given", help="instruments to accompany (default: all in the file)")
        if mode == "infill":
            sub.add_argument("--keep-rhythm", action="store_true",
                             help="keep the onsets, lengths and velocities of the span's notes; new pitches only")
            sub.add_argument("--keep-pitches", action="store_true",
                             help="keep the span's pitches, chords and velocities in order; a new rhythm only")
        _common(sub)
        sub.set_defaults(handler=run_offline, mode=mode)


def prompt_of(args: argparse.Namespace) -> str:
    """The prompt, given once: as generate's first argument or with --prompt, never two different ones."""
    text, flag = getattr(args, "text", None), args.prompt
    if text is not None and flag is not None and text != flag:
        raise ValueError(f"two prompts given ({text!r} and --prompt {flag!r}): give the text once, either as "
                         "the first argument or with --prompt")
    return text if text is not None else (flag or "")


def _build_request(args: argparse.Namespace, config: dict, content=None):
    from bridge.amt.tempo import TempoMap, TimeSignature
    from bridge.engine.grammar import MusicianConstraints
    from bridge.engine.grid import parse_grid
    from bridge.engine.requests import GenerationRequest
    from bridge.engine.sampling_options import SamplingOptions

    sampling_defaults = config["sampling"]
    sampling = SamplingOptions(
        temperature=args.temperature if args.temperature is not None else sampling_defaults["temperature"],
        top_p=args.top_p if args.top_p is not None else sampling_defaults["top_p"],
        top_k=args.top_k if args.top_k is not None else sampling_defaults["top_k"],
    )
    low, high = parse_pitch_range(args.pitch_range)
    from bridge.engine.scales import parse_scale

    scale = parse_scale(args.scale) if args.scale else None
    constraints = MusicianConstraints(parse_instruments(args.instruments), low, high, args.max_notes, scale)
    limits = config["limits"]
    if not 1 <= args.variations <= limits["max_variations"]:
        raise ValueError(f"--variations must be 1..{limits['max_variations']} (limits.max_variations)")
    grid = parse_grid(args.grid if args.grid is not None else sampling_defaults["grid"])
    notes: tuple = ()
    given = frozenset()
    if args.mode == "generate":
        if not 1 <= args.tempo <= 1000:
            raise ValueError(f"--tempo {args.tempo} must be 1..1000 bpm")
        tempo = TempoMap.constant(args.tempo)
        meter = TimeSignature.parse(args.time_sig)
        if not 1 <= args.bars <= limits["max_bars"]:
            raise ValueError(f"--bars must be 1..{limits['max_bars']}")
        start, end = 0.0, args.bars * meter.beats_per_bar
        prompt = prompt_of(args)
    else:
        if content is None:
            content = read_input_file(args.input)
        tempo, meter, notes = content.tempo, content.time_signature, tuple(content.notes)
        bar = meter.beats_per_bar
        prompt = prompt_of(args)
        last = max((n.end for n in notes), default=0.0)
        if args.mode == "continue":
            if not 1 <= args.bars <= limits["max_bars"]:
                raise ValueError(f"--bars must be 1..{limits['max_bars']}")
            start = math.ceil(last / bar - 1e-9) * bar
            end = start + args.bars * bar
        else:
            first_bar = args.start_bar if args.start_bar is not None else 1
            last_bar = args.end_bar if args.end_bar is not None else max(1, math.ceil(last / bar - 1e-9))
            if first_bar < 1 or last_bar < first_bar:
                raise ValueError(f"bars {first_bar} to {last_bar}: bars count from 1 and the end bar is included")
            start, end = (first_bar - 1) * bar, last_bar * bar
            if args.mode == "accompany":
                asked = parse_instruments(args.given)
                check_given(asked, notes, args.input)
                given = asked or frozenset(n.instrument for n in notes)
    if tempo.beats_to_seconds(end) - tempo.beats_to_seconds(start) > limits["max_seconds"]:
        raise ValueError(f"the span is longer than limits.max_seconds ({limits['max_seconds']} s)")
    return GenerationRequest(
        mode=args.mode, start=start, end=end, tempo=tempo, time_signature=meter, prompt=prompt, notes=notes,
        given_instruments=given, constraints=constraints, sampling=sampling, variations=args.variations,
        seed=args.seed, max_new_tokens=args.max_new_tokens or sampling_defaults["max_new_tokens"], grid=grid,
        default_velocity=sampling_defaults["default_velocity"], keep_rhythm=getattr(args, "keep_rhythm", False),
        keep_pitches=getattr(args, "keep_pitches", False),
    )


def _write_result(path: Path, request, content, result, variation) -> None:
    """One variation as a file: the input file with the replaced notes swapped for the new ones."""
    if content is None:
        from bridge.amt.midi_file import write_midi

        write_midi(path, variation.notes, request.tempo, request.time_signature)
        print(f"{path}: {len(variation.new_notes)} new notes, {len(variation.notes)} in all")
        return
    write_merged(path, content, result.removed_notes, variation.new_notes, keep_rhythm=request.keep_rhythm,
                 keep_pitches=request.keep_pitches)


def run_offline(args: argparse.Namespace) -> int:
    """Check everything the user typed (config, input, output) before the slow part: loading the model."""
    from bridge.cli_model_loading import load_in_stages, quiet_library_logging, terminal_stages
    from bridge.engine.loading import ModelLoadError
    from bridge.progress import ProgressBar

    config = config_from_args(args, {"model.id": args.model}, {"model.id": "--model"})
    content = read_input_file(args.input) if args.mode != "generate" else None
    request = _build_request(args, config, content)
    for path in [args.output, *variation_paths(args.output, request.variations)]:
        check_writable(str(path))
    quiet_library_logging()
    try:
        engine = load_in_stages(dict(config["model"], warmup=False), terminal_stages())
    except ModelLoadError as error:
        print(f"midi-llm-bridge: error: {error}", file=sys.stderr)
        return 3
    bar = ProgressBar(args.mode)
    try:
        result = engine.run(request, on_progress=bar.update)
    finally:
        bar.close()
    for warning in result.warnings:
        print(f"note: {warning}", file=sys.stderr)
    paths = variation_paths(args.output, len(result.variations))
    for path, variation in zip(paths, result.variations):
        _write_result(path, request, content, result, variation)
    print(f"seed {result.seed}, {result.sampled_tokens} ids in {result.seconds:.2f} s", file=sys.stderr)
    return 0
