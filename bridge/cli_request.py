"""``midi-llm-bridge request``: talk to a running daemon from a script (REAPER's Lua has no sockets).

    midi-llm-bridge request ping
    midi-llm-bridge request generate --prompt "funky bass" --bars 4 --tempo 96 -o bass.mid --json bass.json
    midi-llm-bridge request infill --in clip.json --start-bar 5 --end-bar 8 --json out.json --progress-file p.txt

Never imports torch: it starts in a fraction of a second. Output files are
written whole (a temporary file, then renamed), so a polling script never reads
half a file. Exit status: 0 done, 1 the daemon answered with an error,
2 bad arguments or input, 3 no daemon answering, 4 timed out.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

from bridge.cli_engine import GRID_HELP, OUTPUT_HELP
from bridge.cli_files import check_writable, variation_paths
from bridge.cli_request_io import ProgressFile, notes_json, number, read_input, write_json
from bridge.cli_settings import add_config_arguments, config_from_args

ACTIONS = ("ping", "status", "reload", "generate", "continue", "infill", "accompany", "cancel", "transport")
EXIT_DAEMON_ERROR, EXIT_BAD_INPUT, EXIT_NOT_RUNNING, EXIT_TIMEOUT = 1, 2, 3, 4


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "request",
        help="send one request to a running daemon and write a .mid file or JSON",
        description="Talk to a running daemon (`midi-llm-bridge serve`) over OSC and write the result as a "
                    ".mid file and/or JSON. For scripts that cannot speak OSC themselves (REAPER's Lua).",
        epilog="Exit status: 0 done, 1 the daemon answered with an error, 2 bad arguments or input, "
               "3 no daemon answering, 4 timed out. The JSON layout is in docs/protocol.md.",
    )
    parser.add_argument("action", choices=ACTIONS)
    where = parser.add_argument_group("daemon (defaults: the same settings the daemon reads)")
    add_config_arguments(where)
    where.add_argument("--port", type=int, default=None, help="daemon's UDP port (default: osc.port, 9123)")
    where.add_argument("--host", default=None, help="daemon's host (default: osc.host, 127.0.0.1; a daemon "
                                                    "listening on all interfaces is reached on loopback)")
    where.add_argument("--secret", default=None, help="the daemon's osc.secret (default: osc.secret, e.g. "
                                                      "MIDI_LLM_BRIDGE__OSC__SECRET)")
    where.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the result "
                                                                    "(default %(default)s)")
    where.add_argument("--id", dest="request_id", help="this request's id (default: a random number); "
                                                       "another `request cancel --target ID` can cancel it")
    where.add_argument("--target", help="cancel: the id of the request to cancel, or * for all from this computer")
    music = parser.add_argument_group("music")
    music.add_argument("--prompt", help="text description of the music")
    music.add_argument("--in", dest="input", help="notes to start from: a .mid file or a JSON file "
                                                  "(see docs/protocol.md)")
    music.add_argument("--tempo", type=float, help="beats per minute (default: from --in, else 120)")
    music.add_argument("--time-sig", help="time signature like 4/4 or 6/8 (default: from --in, else 4/4)")
    music.add_argument("--units", choices=("beats", "seconds"), default="beats",
                       help="unit of --start-beat/--end-beat and of the notes in JSON in and out (default beats)")
    music.add_argument("--bars", type=int, help="bars to write (default 4; continue: after the last note's bar)")
    music.add_argument("--start-beat", type=float, help="span start (beats from the start of the song or clip)")
    music.add_argument("--end-beat", type=float, help="span end")
    music.add_argument("--start-bar", type=int, help="first bar to write (bars count from 1)")
    music.add_argument("--end-bar", type=int, help="last bar to write, included")
    music.add_argument("--variations", type=int, help="how many candidates (decoded as one batch)")
    music.add_argument("--seed", type=int, help="make the result reproducible (0..2147483647)")
    music.add_argument("--grid", help=GRID_HELP)
    music.add_argument("--temperature", type=float)
    music.add_argument("--top-p", type=float)
    music.add_argument("--top-k", type=int)
    music.add_argument("--instruments", help="only these instruments for new notes (0-127 GM programs, 128 drums, "
                                             "or names such as bass,drums)")
    music.add_argument("--given", help="accompany: the instruments to accompany (default: all in the notes)")
    music.add_argument("--pitch-range", help="lowest-highest pitch for pitched instruments, e.g. 36-84")
    music.add_argument("--keep-rhythm", action="store_true", help="infill: keep the onsets, lengths and "
                       "velocities of the span's notes; the model writes new pitches only")
    music.add_argument("--keep-pitches", action="store_true", help="infill: keep the pitches, chords and "
                       "velocities of the span's notes in order; the model writes a new rhythm only")
    music.add_argument("--scale", help="keep new pitched notes in a scale: 'D minor', 'F# dorian' or '0,2,4,5,7,9,11'")
    music.add_argument("--max-notes", type=int, help="at most this many new notes per variation")
    music.add_argument("--max-new-tokens", type=int, help="stop each variation after this many ids")
    music.add_argument("--velocity", type=float, help="velocity of new notes (default: sampling.default_velocity)")
    music.add_argument("--program", type=int, help="GM program of --in notes that have no instrument (default 0)")
    music.add_argument("--whole", action="store_true", help="return the whole clip (the notes kept + the new "
                                                           "ones) instead of only the new notes")
    live = parser.add_argument_group("live MIDI output")
    live.add_argument("--live", action="store_true", help="also play the new notes to the daemon's MIDI port "
                      "while they are written")
    live.add_argument("--live-variation", type=int, help="which variation plays live (default 0, the first)")
    live.add_argument("--follow", action="store_true", help="with --live: wait for the DAW's transport "
                      "(request transport --state play --beat B) and play from that song position")
    live.add_argument("--state", choices=("play", "stop"), help="transport: the DAW started or stopped")
    live.add_argument("--beat", type=float, default=0.0, help="transport play: the song position in beats")
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--output", help=OUTPUT_HELP)
    out.add_argument("--json", dest="json_out", help="write the result as JSON to this file (- = standard output)")
    out.add_argument("--progress-file", help="append one line per event (accepted N, started, progress F N, "
                                             "done, error CODE MESSAGE) for a polling script")
    parser.set_defaults(handler=run_request)


# ----- the request's options ---------------------------------------------------------------


def build_options(args: argparse.Namespace, song: dict[str, Any]) -> dict[str, Any]:
    from bridge.cli_engine import parse_instruments, parse_pitch_range

    options: dict[str, Any] = {
        "prompt": args.prompt,
        "units": args.units,
        "tempo": args.tempo if args.tempo is not None else song.get("tempo"),
        "tempo_change": None if args.tempo is not None else song.get("tempo_change") or None,
        "time_sig": args.time_sig or song.get("time_sig"),
        "bars": args.bars,
        "start": args.start_beat,
        "end": args.end_beat,
        "start_bar": args.start_bar,
        "end_bar": args.end_bar,
        "variations": args.variations,
        "seed": args.seed,
        "grid": args.grid,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "max_notes": args.max_notes,
        "max_tokens": args.max_new_tokens,
        "velocity": args.velocity,
        "program": args.program,
        "whole": args.whole or None,
        "scale": args.scale,
        "keep_rhythm": args.keep_rhythm or None,
        "keep_pitches": args.keep_pitches or None,
        "live": args.live or None,
        "live_variation": args.live_variation,
        "follow": args.follow or None,
    }
    instruments = parse_instruments(args.instruments)
    if instruments is not None:
        options["instrument"] = sorted(instruments)
    given = parse_instruments(args.given)
    if given is not None:
        options["given"] = sorted(given)
    if args.pitch_range:
        options["lowest_pitch"], options["highest_pitch"] = parse_pitch_range(args.pitch_range)
    for key in ("tempo", "start", "end", "temperature", "top_p", "velocity"):
        value = options[key]
        if value is not None and not math.isfinite(value):
            raise ValueError(f"--{key.replace('_', '-')} {value} is not a number")
    return {k: v for k, v in options.items() if v is not None}


def _song(options: dict[str, Any]):
    from bridge.amt.tempo import TempoChange, TempoMap, TimeSignature

    tempo = TempoMap((TempoChange(0.0, float(options.get("tempo", 120.0))),
                      *(TempoChange(float(b), float(t)) for b, t in options.get("tempo_change", []))))
    return tempo, TimeSignature.parse(options.get("time_sig", "4/4"))


# ----- the command -------------------------------------------------------------------------

WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def daemon_address(args: argparse.Namespace) -> tuple[int, str, str | None]:
    """Port, host and secret of the daemon: the flags, else the settings the daemon itself reads."""
    config = config_from_args(args, {"osc.port": args.port}, {"osc.port": "--port"})
    osc = config["osc"]
    host = args.host if args.host is not None else osc["host"]
    host = WILDCARD_HOSTS.get(host.strip(), host)
    return osc["port"], host, args.secret if args.secret is not None else osc["secret"]



def run_request(args: argparse.Namespace) -> int:
    from bridge.client import Client, DaemonError, DaemonUnreachable, RequestTimeout

    progress = ProgressFile(args.progress_file)
    document: dict[str, Any] = {}
    try:
        port, host, secret = daemon_address(args)
        with Client(port, host, secret=secret) as client:
            if args.action in ("ping", "status", "reload"):
                # reload: a daemon whose model could not be loaded loads it again (its pong says loading).
                info = {"ping": client.ping, "status": client.status, "reload": client.reload}[args.action]()
                info.pop("id", None)
                document = {"status": "ok", **info}
                if args.json_out:
                    write_json(args.json_out, document)
                else:
                    if args.action in ("ping", "reload"):
                        print(f"daemon on {client.where}: {info['state']}, protocol {info['protocol']}, model "
                              f"{info['model']} on {info['device']}, {info['waiting']} waiting"
                              f"{', one running' if info['running'] else ''}")
                    else:
                        for key, value in info.items():
                            print(f"{key}: {value}")
                progress.line("done")
                return 0
            if args.action == "transport":
                if not args.state:
                    raise ValueError("transport needs --state play or --state stop")
                affected = client.transport(args.state, args.beat)
                document = {"status": "ok", "transport": args.state, "players": affected}
                if args.json_out:
                    write_json(args.json_out, document)
                else:
                    print(f"transport {args.state}: {affected} live player(s)")
                progress.line("done")
                return 0
            if args.action == "cancel":
                if not args.target:
                    raise ValueError("cancel needs --target ID (the id given with --id), or --target '*'")
                target: int | str = int(args.target) if args.target.lstrip("-").isdigit() else args.target
                states = client.cancel(target)
                document = {"status": "ok", "cancelled": args.target, "states": states}
                if args.json_out:
                    write_json(args.json_out, document)
                else:
                    print(f"cancelled {args.target} ({', '.join(states)})")
                progress.line("done")
                return 0
            return _generate(args, client, progress)
    except DaemonUnreachable as error:
        code, status = "not_running", EXIT_NOT_RUNNING
        message = error.message
    except RequestTimeout as error:
        code, status, message = "timeout", EXIT_TIMEOUT, error.message
    except DaemonError as error:
        code, status, message = error.code, EXIT_DAEMON_ERROR, error.message
    except (ValueError, OSError) as error:
        code, status, message = "bad_input", EXIT_BAD_INPUT, str(error)
    finally:
        progress.close()
    print(f"midi-llm-bridge: {message}" if code in ("not_running", "bad_input") else
          f"midi-llm-bridge: error ({code}): {message}", file=sys.stderr)
    write_json(args.json_out, {"status": "error", "code": code, "message": message})
    if args.progress_file:
        with open(args.progress_file, "a", encoding="utf-8") as handle:
            handle.write(" ".join(f"error {code} {message}".split()) + "\n")
    return status


def _generate(args: argparse.Namespace, client, progress: ProgressFile) -> int:
    from bridge.amt.midi_file import write_midi
    from bridge.amt.notes import in_beats
    from bridge.cli_request_files import MidiFileRequest
    from bridge.protocol import PROTOCOL_VERSION

    notes: list[Any] = []
    song: dict[str, Any] = {}
    check_writable(args.output)
    if args.input:
        notes, song = read_input(args.input)
    content = song.pop("content", None)
    options = build_options(args, song)
    file_out = None
    if content is not None:
        file_out = MidiFileRequest(args, content, options)
        notes = file_out.notes_to_send()
    request_id: int | str | None = None
    if args.request_id is not None:
        request_id = int(args.request_id) if args.request_id.lstrip("-").isdigit() else args.request_id
    tempo, meter = _song(options)
    request_id = client.submit(args.action, notes, request_id=request_id, **options)
    progress.line(f"sent {request_id}")
    result = client.wait(request_id, timeout=args.timeout, on_event=progress.event)
    for warning in result.warnings:
        print(f"note: {warning}", file=sys.stderr)
    seconds = args.units == "seconds"
    files: list[str] = []
    if file_out is not None and args.output:
        files = file_out.write(variation_paths(args.output, len(result.variations)), result)
        if args.whole:
            result.variations = [file_out.whole(variation) for variation in result.variations]
    elif args.output:
        paths = variation_paths(args.output, len(result.variations))
        for path, variation in zip(paths, result.variations):
            beats = [in_beats(n, tempo) for n in variation] if seconds else variation
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            write_midi(temporary, beats, tempo, meter)
            os.replace(temporary, path)
            files.append(str(path))
    document = {
        "status": "done",
        "protocol": PROTOCOL_VERSION,
        "id": result.request_id,
        "mode": args.action,
        "units": args.units,
        "tempo": tempo.initial_bpm,
        "time_sig": str(meter),
        "start": number(result.start),
        "end": number(result.end),
        "whole": int(bool(args.whole)),
        "seed": result.seed,
        "seconds": round(result.seconds, 3),
        "removed": result.removed,
        "warnings": result.warnings,
        "files": files,
        "variations": [{"index": i, "count": len(v), "notes": notes_json(v)} for i, v in
                       enumerate(result.variations)],
    }
    if args.json_out:
        write_json(args.json_out, document)
    elif not args.output:
        write_json("-", document)
    for path in files:
        print(f"{path}", file=sys.stderr)
    progress.line("done")
    return 0
