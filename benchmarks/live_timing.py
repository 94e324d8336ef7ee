"""Timing error of live MIDI output: actual vs scheduled onsets, through a real JACK server.

Plays the same 16th-note stream with (a) a naive baseline that sleeps until
each onset and sends, and (b) the LivePlayer, to a python-rtmidi JACK input
that timestamps what arrives. Prints a table (median and 99th percentile of
|arrival - scheduled|). Then counts stuck and clipped notes over many random
stops of two live jobs sharing the port (benchmarks/live_stops.py). With
``--write`` the tables go into docs/benchmarks.md between markers.

    .venv/bin/python benchmarks/live_timing.py [--notes 200] [--stops 40] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.live_stops import CLIP_TOLERANCE, run_stop_trials  # noqa: E402
from benchmarks.report import add_write_arguments, progress, publish  # noqa: E402
from bridge.amt.notes import Note  # noqa: E402
from bridge.amt.tempo import TempoMap  # noqa: E402
from bridge.live.player import LivePlayer  # noqa: E402
from tests.jack_server import JackServer  # noqa: E402


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(abs(v) for v in values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def receiver(jack: JackServer, source: str, name: str):
    import rtmidi

    arrivals: list[float] = []
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name)
    midi_in.set_callback(lambda event, data=None: event[0][0] & 0xF0 == 0x90 and arrivals.append(time.monotonic()))
    midi_in.open_virtual_port("in")
    jack.wait_for_port(f"{name}:in")
    jack.run("jack_connect", source, f"{name}:in")
    return midi_in, arrivals


def run_baseline(port, notes: list[Note], tempo: TempoMap, start: float) -> list[float]:
    scheduled = []
    for note in notes:
        due = start + tempo.beats_to_seconds(note.start)
        while (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        port.send([0x90, note.pitch, 90])
        port.send([0x80, note.pitch, 0])
        scheduled.append(due)
    return scheduled


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--stops", type=int, default=40, help="random stops to count stuck and clipped notes over")
    add_write_arguments(parser)
    args = parser.parse_args()
    reason = JackServer.available()
    if reason:
        print(f"cannot run: {reason}")
        return 1
    from bridge.live.ports import open_output

    jack = JackServer()
    jack.start()
    os.environ["JACK_DEFAULT_SERVER"] = jack.name
    tempo = TempoMap.constant(120)
    notes = [Note(48 + i % 24, i * 0.25, 0.2, 90) for i in range(args.notes)]
    rows = []
    try:
        for method in ("baseline: sleep-until loop", "LivePlayer (scheduler thread)"):
            progress(f"{method}: {args.notes} notes")
            tag = "base" if method.startswith("baseline") else "player"
            port = open_output(tag, api="jack", client_name=f"bench-{tag}")
            jack.wait_for_port(f"bench-{tag}:{tag}")
            midi_in, arrivals = receiver(jack, f"bench-{tag}:{tag}", f"recv-{tag}")
            start = time.monotonic() + 0.5
            if tag == "base":
                scheduled = run_baseline(port, notes, tempo, start)
                send_errors = None
            else:
                player = LivePlayer(port, tempo, buffer_seconds=0.5)
                player.start(at=start)
                feeder = threading.Thread(target=lambda p=player: [p.add(n) for n in notes])
                feeder.start()
                feeder.join()
                player.finish()
                scheduled = [start + tempo.beats_to_seconds(n.start) for n in notes]
                send_errors = player.stats.onset_errors
            time.sleep(0.3)
            midi_in.close_port()
            port.close()
            errors = [a - s for a, s in zip(arrivals, scheduled)]
            median, p99 = percentiles(errors)
            rows.append((method, len(arrivals), median * 1000, p99 * 1000,
                         percentiles(send_errors)[1] * 1000 if send_errors else float("nan")))
        progress(f"stuck and clipped notes: {args.stops} random stops of two jobs sharing a port")
        stops = run_stop_trials(jack, args.stops)
    finally:
        jack.stop()
    base = rows[0]
    lines = [
        "| method | notes received | median error (ms) | p99 error (ms) | p99 send error (ms) | p99 vs baseline |",
        "|---|---|---|---|---|---|",
    ]
    for method, count, median, p99, send in rows:
        ratio = p99 / base[3] if base[3] else float("nan")
        lines.append(f"| {method} | {count} | {median:.3f} | {p99:.3f} | {send:.3f} | {ratio:.2f}x |")
    table = "\n".join(lines)
    print(table)
    stop_table = (
        "| random stops | notes played | sounding at the stop | stuck | clipped |\n|---|---|---|---|---|\n"
        f"| {stops.trials} | {stops.notes_played} | {stops.notes_sounding_at_stop} | {stops.stuck} | {stops.clipped} |"
    )
    print(stop_table)
    for line in stops.details[:20]:
        print("  clipped:", line)
    section = (
        "## Live MIDI timing\n\n"
        f"`.venv/bin/python benchmarks/live_timing.py --notes {args.notes} --write`: {args.notes} sixteenth notes "
        "at 120 bpm "
        "through a JACK server with the dummy driver (48 kHz, 256-frame periods, so arrival times are quantised "
        "to about 5.3 ms by the driver), received by a python-rtmidi JACK input that timestamps each note-on. "
        f"Error = arrival - scheduled onset. Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}.\n\n{table}\n\n"
        f"Stops: `--stops {args.stops}` trials of two jobs sharing the port (random notes, zero-length ones and a "
        "late batch among them); the first job is cancelled at a random moment (in a quarter of the trials both "
        "are). Stuck: a note-on without its note-off. Clipped: a note that ended more than "
        f"{CLIP_TOLERANCE * 1000:.0f} ms before its written length (at least 10 ms) other than by its own job's "
        f"stop.\n\n{stop_table}\n"
    )
    publish(args, "live-timing", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
