"""Stuck and clipped notes over many random stops of live jobs, heard through a real JACK port.

Each trial plays two jobs at once on one shared port (as the daemon does when
Generate is pressed twice): random notes of a few instruments on a few pitches,
zero-length notes among them, and a batch that arrives late (so ``late_policy:
play`` starts it late). At a random moment the first job is cancelled (or the
transport stops both). A python-rtmidi JACK input timestamps what arrives.

- stuck: a note-on whose note-off never arrived;
- clipped: a note that ended more than ``CLIP_TOLERANCE`` before its written
  length (at least the note model's minimum) from when it actually started,
  other than by its own job's stop. Same-pitch notes of one job never overlap
  here, so no retrigger shortens a note legitimately.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from bridge.amt import vocab
from bridge.amt.notes import Note, with_min_length
from bridge.amt.tempo import TempoMap
from bridge.live.player import LivePlayer
from bridge.live.voices import SharedPort

CLIP_TOLERANCE = 0.03  # seconds: JACK's dummy driver delivers per 5.3 ms period; scheduling jitter on a busy machine


@dataclass
class StopCounts:
    trials: int = 0
    notes_played: int = 0
    notes_sounding_at_stop: int = 0
    stuck: int = 0
    clipped: int = 0
    details: list[str] = field(default_factory=list)


LATE_BEFORE, ON_TIME_FROM = 2.0, 8.0  # beats: the late batch, then the notes that arrive in time


def _stream(rng: random.Random, count: int) -> list[Note]:
    """A late batch (distinct keys: all of it starts at once) and later notes whose same keys never overlap."""
    notes: list[Note] = []
    free_at: dict[tuple[int, int], float] = defaultdict(float)
    while len(notes) < count:
        instrument = rng.choice([0, 33, vocab.DRUMS])
        pitch = rng.choice([36, 38, 42, 60, 62, 64, 67])
        late = len(notes) < 6
        start = rng.uniform(0, LATE_BEFORE) if late else rng.uniform(ON_TIME_FROM, ON_TIME_FROM + 8)
        duration = rng.choice([0.0, 0.1, 0.5, 1.0, 2.0])
        key = (instrument, pitch)
        if (late and key in free_at) or start < free_at[key] + 0.05:
            continue
        free_at[key] = max(free_at[key], start + max(duration, 0.05))
        notes.append(Note(pitch, start, duration, rng.randrange(30, 127), instrument=instrument))
    return sorted(notes, key=lambda n: n.start)


def _held_notes(messages: list[tuple[float, list[int]]]) -> tuple[list[tuple[int, int, float, float]], int]:
    """(channel, pitch, on time, off time) for each closed note, and how many never closed."""
    open_notes: dict[tuple[int, int], list[float]] = defaultdict(list)
    closed = []
    for at, message in messages:
        status, key = message[0] & 0xF0, (message[0] & 0x0F, message[1] if len(message) > 1 else 0)
        if status == 0x90 and message[2] > 0:
            open_notes[key].append(at)
        elif status == 0x80 or (status == 0x90 and message[2] == 0):
            if open_notes[key]:
                closed.append((key[0], key[1], open_notes[key].pop(0), at))
    return closed, sum(len(v) for v in open_notes.values())


def _record(event, arrivals: list[tuple[float, list[int]]]) -> None:
    arrivals.append((time.monotonic(), list(event[0])))


def run_stop_trials(jack, trials: int, seed: int = 1) -> StopCounts:
    """``trials`` random stops; ``jack`` is a started tests.jack_server.JackServer."""
    import rtmidi

    from bridge.live.ports import open_output

    rng = random.Random(seed)
    counts = StopCounts()
    tempo = TempoMap.constant(240)  # a 16-beat stream lasts 4 s
    for trial in range(trials):
        port = open_output(f"stops{trial}", api="jack", client_name=f"bench-stops{trial}")
        source = jack.find_port(f":{port.name}")
        arrivals: list[tuple[float, list[int]]] = []
        midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=f"recv-stops{trial}")
        midi_in.set_callback(_record, arrivals)
        midi_in.open_virtual_port("in")
        jack.wait_for_port(f"recv-stops{trial}:in")
        jack.run("jack_connect", source, f"recv-stops{trial}:in")
        shared = SharedPort(port)
        jobs = [LivePlayer(port, tempo, buffer_seconds=0.2, late_tolerance_seconds=0.02, port=shared)
                for _ in range(2)]
        streams = [_stream(rng, 30), _stream(rng, 30)]
        start = time.monotonic() + 0.2
        for job in jobs:
            job.start(at=start)
        for job, notes in zip(jobs, streams):
            for note in notes:
                if note.start >= LATE_BEFORE:
                    job.add(note)
        time.sleep(rng.uniform(0.3, 0.9))
        for job, notes in zip(jobs, streams):
            for note in notes:  # the early notes arrive late: they start late and keep their length
                if note.start < LATE_BEFORE:
                    job.add(note)
        time.sleep(rng.uniform(0.0, 3.0))
        stop_both = rng.random() < 0.25
        stopped_at = time.monotonic()
        jobs[0].stop()
        if stop_both:
            jobs[1].stop()
        jobs[1].finish(timeout=30)
        port.close()
        time.sleep(0.1)
        midi_in.close_port()
        del midi_in
        _tally(counts, arrivals, jobs, streams, tempo, stopped_at, stop_both, trial)
    return counts


def _tally(counts: StopCounts, arrivals, jobs, streams, tempo: TempoMap, stopped_at: float, stop_both: bool,
           trial: int) -> None:
    closed, unclosed = _held_notes(arrivals)
    counts.trials += 1
    counts.stuck += unclosed
    counts.notes_played += sum(job.stats.notes_played for job in jobs)
    counts.notes_sounding_at_stop += sum(1 for _, _, on, off in closed if on < stopped_at <= off)
    # Written lengths per key in onset order: a job's pitched channels are its own, so the k-th note
    # heard on a key is that key's k-th written note. Drums share channel 10: compared with the shortest.
    written: dict[tuple[int, int], list[float]] = defaultdict(list)
    for job, notes in zip(jobs, streams):
        channels = job.channel_by_instrument
        for note in notes:
            if note.instrument in channels:
                sounding = with_min_length(note, tempo)
                length = tempo.beats_to_seconds(sounding.end) - tempo.beats_to_seconds(note.start)
                written[(channels[note.instrument], note.pitch)].append(length)
    stopped_channels = set(jobs[0].channels_used) | (set(jobs[1].channels_used) if stop_both else set())
    heard: dict[tuple[int, int], int] = defaultdict(int)
    for channel, pitch, on, off in sorted(closed, key=lambda n: n[2]):
        key = (channel, pitch)
        index = heard[key]
        heard[key] += 1
        if off >= stopped_at - 0.01 and channel in stopped_channels:
            continue  # ended by its own job's stop
        lengths = written.get(key) or [0.0]
        expected = min(lengths) if channel == vocab.DRUM_CHANNEL else lengths[min(index, len(lengths) - 1)]
        if off - on < expected - CLIP_TOLERANCE:
            counts.clipped += 1
            counts.details.append(f"trial {trial}: channel {channel + 1} pitch {pitch} held {off - on:.3f} s "
                                  f"of {expected:.3f} s")
