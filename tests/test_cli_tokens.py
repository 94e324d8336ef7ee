"""`python -m bridge tokens FILE`: the ids a MIDI file becomes, end to end.

The expected ids come from a small tokenizer written in this file straight
from shared/amt-facts.md (mido iteration in seconds, FIFO note-offs, channel
10 drums, 25 ticks for unclosed notes, 999 cap), so the command is checked
against an independent reading of the contract, not against its own code.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import mido
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_tokens(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "tokens", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def ids_of(result: subprocess.CompletedProcess[str]) -> list[int]:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    return [int(x) for x in lines[0].split()]


def reference_tokens(path: Path) -> list[int]:
    """The facts' tokenizer: real seconds from mido, round(100 * s), FIFO per (instrument, pitch, channel)."""
    seconds = 0.0
    programs: dict[int, int] = defaultdict(int)
    open_notes: dict[tuple[int, int, int], list[list]] = defaultdict(list)
    events: list[list] = []  # [onset seconds, offset seconds or None, instrument, pitch]
    for message in mido.MidiFile(path):
        seconds += message.time
        if message.type == "program_change":
            programs[message.channel] = message.program
        elif message.type in ("note_on", "note_off"):
            instrument = 128 if message.channel == 9 else programs[message.channel]
            key = (instrument, message.note, message.channel)
            if message.type == "note_on" and message.velocity > 0:
                event = [seconds, None, instrument, message.note]
                events.append(event)
                open_notes[key].append(event)
            elif open_notes[key]:
                open_notes[key].pop(0)[1] = seconds
    ids: list[int] = []
    for onset, offset, instrument, pitch in sorted(events, key=lambda e: round(100 * e[0])):
        duration = 25 if offset is None else min(round(100 * (offset - onset)), 999)
        ids += [round(100 * onset), 10_000 + duration, 11_000 + instrument * 128 + pitch]
    return ids


def save(path: Path, tracks: list[list[tuple[int, mido.Message | mido.MetaMessage]]], tpb: int = 480) -> Path:
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for items in tracks:
        track = mido.MidiTrack()
        last = 0
        for tick, message in sorted(items, key=lambda item: item[0]):
            track.append(message.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def random_song(path: Path, seed: int) -> Path:
    """Messy but legal MIDI: odd resolution, tempo changes, program changes mid-track,
    drums, overlapping same-pitch notes, velocity-0 note-offs, notes never closed."""
    rng = random.Random(seed)
    tpb = rng.choice([96, 97, 120, 384, 480, 1000])
    conductor = [(0, mido.MetaMessage("set_tempo", tempo=rng.randrange(300_000, 1_200_000)))]
    for _ in range(rng.randrange(4)):
        conductor.append((rng.randrange(1, 40 * tpb), mido.MetaMessage("set_tempo",
                                                                       tempo=rng.randrange(250_000, 1_500_000))))
    tracks = [conductor]
    for channel in rng.sample(range(16), 4):
        items: list[tuple[int, mido.Message]] = [(0, mido.Message("program_change", program=rng.randrange(128),
                                                                  channel=channel))]
        for _ in range(rng.randrange(5, 30)):
            start = rng.randrange(0, 40 * tpb)
            pitch = rng.randrange(50, 56)
            items.append((start, mido.Message("note_on", note=pitch, velocity=rng.randrange(1, 128),
                                              channel=channel)))
            if rng.random() < 0.9:
                end = start + rng.randrange(0, 12 * tpb)
                if rng.random() < 0.5:
                    message = mido.Message("note_on", note=pitch, velocity=0, channel=channel)
                else:
                    message = mido.Message("note_off", note=pitch, channel=channel)
                items.append((end, message))
            if rng.random() < 0.1:
                items.append((rng.randrange(0, 40 * tpb), mido.Message("program_change", program=rng.randrange(128),
                                                                       channel=channel)))
        tracks.append(items)
    return save(path, tracks, tpb)


@pytest.mark.parametrize("seed", range(6))
def test_tokens_match_reference_tokenizer(tmp_path, seed: int):
    path = random_song(tmp_path / f"song{seed}.mid", seed)
    expected = reference_tokens(path)
    assert len(expected) > 0
    assert ids_of(run_tokens(path)) == expected


# The piece of tests/test_amt_sequence.py, as a file: 120 bpm, 480 ticks per beat (1 s = 960 ticks).
PIECE = [
    [(0, mido.Message("program_change", program=0, channel=0)),
     (0, mido.Message("note_on", note=60, velocity=90)), (480, mido.Message("note_off", note=60)),
     (2400, mido.Message("note_on", note=62, velocity=91)), (2880, mido.Message("note_off", note=62)),
     (6720, mido.Message("note_on", note=64, velocity=93)), (7008, mido.Message("note_off", note=64)),
     (11520, mido.Message("note_on", note=65, velocity=94)), (11712, mido.Message("note_off", note=65))],
    [(0, mido.Message("program_change", program=33, channel=1)),
     (3840, mido.Message("note_on", note=40, velocity=92, channel=1)),
     (4800, mido.Message("note_off", note=40, channel=1))],
]
# piano 60 at 0 s, 62 at 2.5 s, bass 40 at 4 s (33 * 128 + 40 = 4264), piano 64 at 7 s, 65 at 12 s
PIECE_IDS = [0, 10_050, 11_060, 250, 10_050, 11_062, 400, 10_100, 15_264, 700, 10_030, 11_064,
             1200, 10_020, 11_065]


@pytest.fixture
def piece(tmp_path) -> Path:
    return save(tmp_path / "piece.mid", PIECE)


def test_plain_tokens_hand_computed(piece):
    assert ids_of(run_tokens(piece)) == PIECE_IDS == reference_tokens(piece)


def test_infill_first_step(piece):
    """Infill [5 s, 8 s): the note at 7 s is removed, 0/2.5/4 s are the prompt padded with RESTs
    to 5 s, the note at 12 s is a control not yet due (due at 7 s; the current time is 4 s)."""
    assert ids_of(run_tokens(piece, "--infill", "5", "8")) == [
        55_027,
        0, 10_050, 11_060,
        100, 10_000, 27_512,
        200, 10_000, 27_512,
        250, 10_050, 11_062,
        350, 10_000, 27_512,
        400, 10_100, 15_264,
    ]


def test_infill_with_control_interleaved(piece):
    """Infill [5 s, 6 s): the note at 7 s becomes a control, due at 2 s: before the event at 2.5 s."""
    assert ids_of(run_tokens(piece, "--infill", "5", "6")) == [
        55_027,
        0, 10_050, 11_060,
        100, 10_000, 27_512,
        200, 10_000, 27_512,
        27_513 + 700, 37_513 + 30, 38_513 + 64,
        250, 10_050, 11_062,
        350, 10_000, 27_512,
        400, 10_100, 15_264,
    ]


def test_infill_window(piece):
    """A 9-id window keeps the last three triplets, shifted so that 2.5 s becomes 0."""
    assert ids_of(run_tokens(piece, "--infill", "5", "8", "--window", "9")) == [
        55_027, 0, 10_050, 11_062, 100, 10_000, 27_512, 150, 10_100, 15_264,
    ]


def test_accompany_first_step(piece):
    """Accompany the bass over [0, 10 s): the bass note is the only control; due at once
    (4 s - 5 s < 0) and shifted to 0 by the window."""
    assert ids_of(run_tokens(piece, "--accompany", "33", "--end", "10")) == [55_027, 27_513, 37_613, 38_513 + 4_264]


def test_accompany_without_given_notes_is_autoregressive(piece):
    assert ids_of(run_tokens(piece, "--accompany", "128", "--end", "10")) == [55_026]


def test_long_piece_keeps_raw_ticks_and_says_so(tmp_path):
    path = save(tmp_path / "long.mid", [[
        (0, mido.Message("note_on", note=60, velocity=80)), (480, mido.Message("note_off", note=60)),
        (115_200, mido.Message("note_on", note=62, velocity=80)), (115_680, mido.Message("note_off", note=62)),
    ]])
    result = run_tokens(path)
    assert ids_of(result) == [0, 10_050, 11_060, 12_000, 10_050, 11_062] == reference_tokens(path)
    assert "longer than 100 s" in result.stderr


def test_warnings_go_to_stderr(tmp_path):
    path = save(tmp_path / "open.mid", [[(0, mido.Message("note_on", note=60, velocity=80))]])
    result = run_tokens(path)
    assert ids_of(result) == [0, 10_025, 11_060]
    assert "250 ms" in result.stderr


def _assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "error:" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content",
    [
        bytes(random.Random(3).randrange(256) for _ in range(200)),
        b"MThd\x00\x00\x00\x06\x00\x01",
        # a valid header and track with a key signature of 9 sharps (mido's KeySignatureError)
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x08\x00\xff\x59\x02\x09\x00\x00\xff",
    ],
    ids=["random-bytes", "truncated-header", "bad-key-signature"],
)
def test_corrupt_file_is_one_line_error(tmp_path, content: bytes):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    _assert_one_line_error(run_tokens(path))


def test_missing_file_and_folder_are_one_line_errors(tmp_path):
    _assert_one_line_error(run_tokens(tmp_path / "missing.mid"))
    _assert_one_line_error(run_tokens(tmp_path))


@pytest.mark.parametrize(
    "extra",
    [
        ["--end", "5"],
        ["--accompany", "33"],
        ["--accompany", "129", "--end", "5"],
        ["--infill", "5", "5"],
        ["--infill", "1", "2", "--accompany", "0", "--end", "3"],
        ["--window", "2"],
    ],
)
def test_bad_options_are_one_line_errors(piece, extra: list[str]):
    _assert_one_line_error(run_tokens(piece, *extra))
