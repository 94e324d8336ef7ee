"""``midi-llm-bridge play``: generate and hear it live on a MIDI port while it is written."""

from __future__ import annotations

import argparse
import sys
import threading

from bridge.cli_engine import _build_request, _common
from bridge.config import load_config, parse_set_options


def register(commands: argparse._SubParsersAction) -> None:
    play = commands.add_parser("play", help="generate from text and play it live to a MIDI port")
    play.add_argument("text", help="text description of the music")
    play.add_argument("--bars", type=int, default=8)
    play.add_argument("--tempo", type=float, default=120.0)
    play.add_argument("--time-sig", default="4/4")
    play.add_argument("--port-name", help="virtual output port name (default midi.port_name)")
    play.add_argument("--connect-to", help="play to this existing port instead (e.g. a loopMIDI port)")
    play.add_argument("--api", choices=["auto", "alsa", "jack", "coremidi", "windows_mm"])
    play.add_argument("--buffer", type=float, help="seconds between start and the first beat (default midi.buffer_seconds)")
    _common(play)
    for action in play._actions:
        if action.dest == "output":
            action.required = False
            action.help = "also write the result to this .mid file"
    play.set_defaults(handler=run_play, mode="generate")


def run_play(args: argparse.Namespace) -> int:
    from bridge.amt.midi_file import write_midi
    from bridge.engine.engine import Cancelled, Engine
    from bridge.engine.loading import ModelLoadError
    from bridge.live.player import LivePlayer
    from bridge.live.ports import MidiPortError, open_output

    overrides = parse_set_options(args.set)
    if args.model:
        overrides["model.id"] = args.model
    config = load_config(args.config, overrides=overrides)
    midi = config["midi"]
    request = _build_request(args, config)
    try:
        port = open_output(args.port_name or midi["port_name"], connect_to=args.connect_to or midi["connect_to"],
                           api=args.api or midi["api"])
    except MidiPortError as error:
        print(f"midi-llm-bridge: error: {error}", file=sys.stderr)
        return 4
    print(f"playing to {port.name} ({port.api})", file=sys.stderr)
    try:
        engine = Engine.from_config(dict(config["model"], warmup=False))
    except ModelLoadError as error:
        port.close()
        print(f"midi-llm-bridge: error: {error}", file=sys.stderr)
        return 3
    buffer = args.buffer if args.buffer is not None else midi["buffer_seconds"]
    player = LivePlayer(port, request.tempo, origin_beat=request.start, buffer_seconds=buffer,
                        late_tolerance_seconds=midi["late_tolerance_ms"] / 1000, late_policy=midi["late_policy"])
    cancel = threading.Event()
    player.start()
    try:
        result = engine.run(request, on_note=lambda row, note: row == 0 and player.add(note), cancel=cancel)
        player.finish()
    except (KeyboardInterrupt, Cancelled):
        cancel.set()
        player.stop()
        print("stopped; all notes off", file=sys.stderr)
        return 130
    finally:
        player.stop()
        port.close()
    stats = player.stats
    median, p99 = stats.error_percentiles()
    print(f"{stats.notes_played} notes played, {stats.notes_late} late, {stats.notes_dropped} dropped; "
          f"onset error median {median * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms", file=sys.stderr)
    if args.output:
        write_midi(args.output, result.variations[0].notes, request.tempo, request.time_signature)
        print(f"{args.output}: {len(result.variations[0].notes)} notes")
    return 0
