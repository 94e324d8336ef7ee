"""`midi-llm-bridge request` with a .mid in and a .mid out keeps the input file, through a real daemon."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import mido
import pytest

from bridge.amt.midi_file import read_midi
from tests.daemon_process import ENV, DaemonProcess
from tests.midi_kept import assert_kept, build_file, off, on, random_file, replaced_pairs
from tests.test_file_kept import chorale, piano_song

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(dense_midi_llm_dir):
    running = DaemonProcess(dense_midi_llm_dir)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def request(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge", "request", *args, "--port", str(server.port)],
                          capture_output=True, text=True, env=ENV, timeout=120)


def test_request_infill_writes_the_input_file_with_the_span_rewritten(server, tmp_path):
    source, out, document = tmp_path / "song.mid", tmp_path / "out.mid", tmp_path / "out.json"
    piano_song(source)
    done = request(server, "infill", "--in", str(source), "--start-bar", "2", "--end-bar", "2", "--seed", "1",
                   "-o", str(out), "--json", str(document))
    assert done.returncode == 0, done.stderr
    assert_kept(source, out, replaced_pairs(source, "infill", 4, 8), span=(4, 8))
    assert mido.MidiFile(str(out)).tracks[1].name == "My Piano"
    assert json.loads(document.read_text())["files"] == [str(out)]


def test_request_continue_keeps_voices_apart_and_whole_json_has_every_note(server, tmp_path):
    source, out, document = tmp_path / "chorale.mid", tmp_path / "out.mid", tmp_path / "out.json"
    chorale(source)
    done = request(server, "continue", "--in", str(source), "--bars", "1", "--seed", "2", "--whole",
                   "-o", str(out), "--json", str(document))
    assert done.returncode == 0, done.stderr
    start = math.ceil(max(n.end for n in read_midi(source).notes) / 4 - 1e-9) * 4
    added = assert_kept(source, out, [], span=(start, start + 4))
    whole = json.loads(document.read_text())["variations"][0]["notes"]
    assert len(whole) == len(read_midi(source).notes) + len(added)


def test_request_accompany_a_part_the_file_lacks_is_refused(server, tmp_path):
    source, out = tmp_path / "melody.mid", tmp_path / "out.mid"
    build_file(source, [[(b * 240, on(60 + b % 7, 90, 0)) for b in range(48)] +
                        [(b * 240 + 200, off(60 + b % 7, 0)) for b in range(48)]])
    done = request(server, "accompany", "--in", str(source), "--given", "5", "-o", str(out))
    assert done.returncode == 2 and "Acoustic Grand Piano" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_request_random_files_keep_everything_not_replaced(server, tmp_path):
    rng = random.Random(23)
    for example in range(4):
        source, out = tmp_path / f"in{example}.mid", tmp_path / f"out{example}.mid"
        bar = random_file(source, rng)["beats_per_bar"]
        first = rng.randrange(1, 4)
        last = rng.randrange(first, 5)
        units = ("beats", "seconds")[example % 2]
        done = request(server, "infill", "--in", str(source), "--start-bar", str(first), "--end-bar", str(last),
                       "--seed", str(example), "--units", units, "-o", str(out))
        assert done.returncode == 0, (example, done.stderr)
        span = ((first - 1) * bar, last * bar)
        assert_kept(source, out, replaced_pairs(source, "infill", *span), span=span)
