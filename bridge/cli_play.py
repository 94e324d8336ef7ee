"""``midi-llm-bridge play``: generate and hear it live on a MIDI port while it is written.

The MIDI port is opened first, before torch and the model load (seconds to
minutes), so that a missing MIDI server is reported at once. However the
command ends (it finishes, Ctrl-C, SIGTERM, SIGHUP when the terminal closes, an
error), what it started is silenced: note-offs and All Notes Off.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Any

from bridge.cli_engine import _build_request, _common
from bridge.cli_settings import config_from_args
from bridge.cli_signals import StopState, say, stop_on_signals


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
    with stop_on_signals() as stop:
        return _play(args, stop)


@dataclass
class _Playing:
    """What this command has started, for the clean-up however it ends."""

    port: Any = None
    player: Any = None

    def silence(self) -> None:
        if self.player is not None:
            self.player.stop()
        if self.port is not None:
            self.port.close()


def _play(args: argparse.Namespace, stop: StopState) -> int:
    from bridge.live.ports import MidiPortError, open_output

    config = config_from_args(args, {"model.id": args.model}, {"model.id": "--model"})
    midi = config["midi"]
    playing = _Playing()
    try:
        try:
            playing.port = open_output(args.port_name or midi["port_name"],
                                       connect_to=args.connect_to or midi["connect_to"], api=args.api or midi["api"])
        except MidiPortError as error:
            say(f"midi-llm-bridge: error: {error}")
            return 4
        port = playing.port
        if port.renamed:
            say(f"the MIDI port name {port.requested_name} is in use by another program; using {port.name}")
        say(f"playing to {port.name} ({port.api})")
        request, result = _generate_and_play(args, config, playing, stop)
    except BaseException as error:
        if stop.received is None and not isinstance(error, KeyboardInterrupt):
            from bridge.engine.loading import ModelLoadError

            if isinstance(error, ModelLoadError):
                say(f"midi-llm-bridge: error: {error}")
                return 3
            raise
        # Any failure after a stop signal is that signal's doing (an import it cut, a wrapped interrupt).
        sounding = playing.player is not None
        playing.silence()
        say(f"stopped by {stop.signal_name}" + ("; all notes off" if sounding else ""))
        logging.disable(logging.CRITICAL)  # that line is the last word: no exit-time log chatter of a cut import
        return stop.exit_status
    finally:
        playing.silence()
    return _report(args, playing.player, request, result)


def _generate_and_play(args: argparse.Namespace, config: dict, playing: _Playing, stop: StopState):
    """Load the model, then generate while the player plays the stream; the caller silences it."""
    from bridge.cli_model_loading import load_in_stages, quiet_library_logging, terminal_stages
    from bridge.live.player import LivePlayer

    midi = config["midi"]
    request = _build_request(args, config)
    quiet_library_logging()
    engine = load_in_stages(dict(config["model"], warmup=False), terminal_stages())
    stop.check()
    buffer = args.buffer if args.buffer is not None else midi["buffer_seconds"]
    player = LivePlayer(playing.port, request.tempo, origin_beat=request.start, buffer_seconds=buffer,
                        late_tolerance_seconds=midi["late_tolerance_ms"] / 1000, late_policy=midi["late_policy"])
    playing.player = player
    player.start()
    result = engine.run(request, on_note=lambda row, note: row == 0 and player.add(note), cancel=stop.event)
    while not player.finish(timeout=0.2):
        stop.check()
    stop.check()
    return request, result


def _report(args: argparse.Namespace, player, request, result) -> int:
    from bridge.amt.midi_file import write_midi

    stats = player.stats
    median, p99 = stats.error_percentiles()
    say(f"{stats.notes_played} notes played, {stats.notes_late} late, {stats.notes_dropped} dropped; "
        f"onset error median {median * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    if args.output:
        write_midi(args.output, result.variations[0].notes, request.tempo, request.time_signature)
        print(f"{args.output}: {len(result.variations[0].notes)} notes")
    return 0
