"""``midi-llm-bridge tokens``: show the AMT ids a MIDI file becomes.

Without options it prints the file's events; with ``--infill`` or
``--accompany`` it prints the exact ids the model receives at the first
decoding step (mode token first, no text offset, the 1,024-token window of the
original AMT models), which is the quickest way to check that the model hears
what it was trained on.
"""

from __future__ import annotations

import argparse
import math
import sys

from bridge.amt import sequence, vocab
from bridge.amt.midi_file import read_midi
from bridge.amt.notes import events_to_raw_tokens
from bridge.cli_settings import add_config_arguments, config_from_args


def seconds_to_span_ticks(seconds: float) -> int:
    """A span boundary in ticks: truncated like the reference, robust to float noise (0.29 s -> 29)."""
    if not math.isfinite(seconds):
        raise ValueError(f"{seconds} is not a time in seconds")
    return math.floor(vocab.TICKS_PER_SECOND * seconds + 1e-6)


def add_tokens_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "tokens",
        help="print a MIDI file's AMT ids (or what the model sees to infill/accompany it)",
        description="Print the AMT event ids of a MIDI file on one line, space separated.",
    )
    parser.add_argument("file", help="a standard MIDI file")
    parser.add_argument("--infill", nargs=2, type=float, metavar=("START", "END"),
                        help="print the first-step model input for infilling [START, END) seconds")
    parser.add_argument("--accompany", type=int, metavar="INSTR",
                        help="print the first-step model input for accompanying instrument INSTR "
                             "(0-127 GM program, 128 drums) over [0, END)")
    parser.add_argument("--end", type=float, metavar="END", help="end of the accompaniment span in seconds")
    parser.add_argument("--window", type=int, default=sequence.AMT_WINDOW_TOKENS,
                        help="ids of history the model sees (default %(default)s, the 1,024-token AMT models)")
    add_config_arguments(parser)
    parser.set_defaults(handler=run_tokens)


def run_tokens(args: argparse.Namespace) -> int:
    # tokens uses no setting, but reads them like every command: a bad config.yaml is refused here too,
    # not only when the daemon or a generating command meets it later
    config_from_args(args)
    if args.infill is not None and args.accompany is not None:
        raise ValueError("use either --infill or --accompany, not both")
    if args.accompany is not None and args.end is None:
        raise ValueError("--accompany needs --end END (seconds)")
    if args.end is not None and args.accompany is None:
        raise ValueError("--end only goes with --accompany")
    if args.window < 3:
        raise ValueError("--window must be at least 3 ids")
    content = read_midi(args.file)
    for warning in content.warnings:
        print(f"note: {warning}", file=sys.stderr)
    if args.infill is not None:
        start, end = (seconds_to_span_ticks(s) for s in args.infill)
        plan = sequence.plan_infill(content.events, start, end)
        ids = plan.first_step_tokens(args.window)
    elif args.accompany is not None:
        if not 0 <= args.accompany <= vocab.DRUMS:
            raise ValueError(f"instrument {args.accompany} must be 0..127 (GM program) or 128 (drums)")
        plan = sequence.plan_accompany(content.events, [args.accompany], 0, seconds_to_span_ticks(args.end))
        ids = plan.first_step_tokens(args.window)
    else:
        ids = events_to_raw_tokens(content.events)
        if any(e.time >= vocab.MAX_TIME for e in content.events):
            print("note: the piece is longer than 100 s; onsets past 99.99 s lie outside the time block "
                  "until a window relativizes them", file=sys.stderr)
    print(" ".join(str(i) for i in ids))
    return 0
