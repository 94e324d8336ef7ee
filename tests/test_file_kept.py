"""A file in, a file out: `infill`, `continue` and `accompany` keep everything the request did not replace.

Each test runs the real command line with a tiny checkpoint on files shaped
like a producer's (named tracks on their own channels, pedal, bends, key
signature, voices that share a program, odd ticks per beat) and checks the
invariant of tests/midi_kept.py on the output.
"""

from __future__ import annotations

import math
import random
import re

import mido
import pytest

from bridge.amt.midi_file import read_midi
from bridge.cli import main
from tests.midi_kept import assert_kept, build_file, off, on, random_file, replaced_pairs

pytestmark = pytest.mark.slow


@pytest.fixture()
def run(dense_midi_llm_dir, capsys):
    """``run("infill", "in.mid", ...)`` -> (exit status, stdout, stderr) of the real command line."""

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main([*args, "--model", str(dense_midi_llm_dir), "--set", "model.device=cpu"])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


def piano_song(path) -> None:
    """Three bars of piano on channel 4 in a track named "My Piano", pedal, bends, key signature, text."""
    conductor = [(0, mido.MetaMessage("track_name", name="Song")),
                 (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
                 (0, mido.MetaMessage("key_signature", key="Eb")),
                 (0, mido.MetaMessage("set_tempo", tempo=500_000)),
                 (1920, mido.MetaMessage("marker", text="Verse"))]
    piano = [(0, mido.MetaMessage("track_name", name="My Piano")),
             (0, mido.Message("program_change", channel=3, program=0)),
             (0, mido.Message("sysex", data=(0x7E, 0x7F, 0x09, 0x01)))]
    for beat in range(12):
        tick = beat * 480
        piano += [(tick, on(60 + beat % 5, 70 + beat, 3)), (tick + 400, off(60 + beat % 5, 3))]
        piano.append((tick + 10, mido.Message("pitchwheel", channel=3, pitch=beat * 300 - 1800)))
    piano += [(0, mido.Message("control_change", channel=3, control=64, value=127)),
              (1900, mido.Message("control_change", channel=3, control=64, value=0)),
              (3840, mido.Message("control_change", channel=3, control=64, value=127)),
              (5700, mido.Message("control_change", channel=3, control=64, value=0))]
    build_file(path, [conductor, piano])


def test_infill_keeps_the_piano_track_its_channel_pedal_bends_and_key(run, tmp_path):
    source, out = tmp_path / "song.mid", tmp_path / "out.mid"
    piano_song(source)
    status, _, err = run("infill", str(source), "--start-bar", "2", "--end-bar", "2", "--instruments", "0",
                         "--seed", "1", "-o", str(out))
    assert status == 0, err
    added = assert_kept(source, out, replaced_pairs(source, "infill", 4, 8), span=(4, 8))
    result = mido.MidiFile(str(out))
    assert len(result.tracks) == 2 and result.tracks[1].name == "My Piano"
    assert added and all(pair.track == 1 and pair.on[0] & 0x0F == 3 for pair in added)


def test_infill_keeps_the_channels_of_three_parts(run, tmp_path):
    source, out = tmp_path / "trio.mid", tmp_path / "out.mid"
    parts = [("Flute", 0, 73, 72), ("Piano", 1, 0, 60), ("Bass", 2, 33, 40)]
    tracks = [[(0, mido.MetaMessage("set_tempo", tempo=600_000))]]
    for name, channel, program, pitch in parts:
        items = [(0, mido.MetaMessage("track_name", name=name)),
                 (0, mido.Message("program_change", channel=channel, program=program))]
        for beat in range(16):
            items += [(beat * 480, on(pitch + beat % 3, 90, channel)), (beat * 480 + 240, off(pitch + beat % 3, channel))]
        tracks.append(items)
    build_file(source, tracks)
    status, _, err = run("infill", str(source), "--start-bar", "2", "--end-bar", "3", "--seed", "3", "-o", str(out))
    assert status == 0, err
    assert_kept(source, out, replaced_pairs(source, "infill", 4, 12), span=(4, 12))
    result = mido.MidiFile(str(out))
    assert [t.name for t in result.tracks[1:4]] == ["Flute", "Piano", "Bass"]
    for (_, channel, _, _), track in zip(parts, result.tracks[1:4]):
        assert {m.channel for m in track if hasattr(m, "channel")} == {channel}


def chorale(path) -> list[int]:
    """Four voices, all program 0 on channels 0-3, at 960 ticks per beat with odd ticks; the tenor holds
    a note the bass repeats on the same pitch (what one shared channel could not tell apart)."""
    voices = [("Soprano", 0, [67, 69, 71, 72]), ("Alto", 1, [62, 64, 62, 64]), ("Tenor", 2, [55, 55, 57, 55]),
              ("Bass", 3, [48, 55, 50, 55])]
    tracks = [[(0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
               (0, mido.MetaMessage("set_tempo", tempo=625_000))]]
    for name, channel, pitches in voices:
        items = [(0, mido.MetaMessage("track_name", name=name)), (0, mido.Message("program_change", channel=channel))]
        for bar in range(4):
            for beat, pitch in enumerate(pitches):
                start = (bar * 4 + beat) * 960 + (7 if beat % 2 else 0)
                length = 1921 if name == "Tenor" and beat == 0 else 955
                items += [(start, on(pitch, 64 + beat, channel)), (start + length, off(pitch, channel))]
        tracks.append(items)
    build_file(path, tracks, tpb=960)
    return [channel for _, channel, _ in voices]


def test_continue_keeps_four_voices_that_share_a_program(run, tmp_path):
    source, out = tmp_path / "chorale.mid", tmp_path / "out.mid"
    chorale(source)
    status, _, err = run("continue", str(source), "--bars", "1", "--seed", "2", "-o", str(out))
    assert status == 0, err
    start = math.ceil(max(n.end for n in read_midi(source).notes) / 4 - 1e-9) * 4
    assert_kept(source, out, [], span=(start, start + 4))
    result = mido.MidiFile(str(out))
    assert [t.name for t in result.tracks[1:5]] == ["Soprano", "Alto", "Tenor", "Bass"]
    before = read_midi(source)
    after = read_midi(out)
    assert set(before.events) <= set(after.events)


def test_accompany_an_instrument_the_file_does_not_have_is_an_error(run, tmp_path):
    source, out = tmp_path / "melody.mid", tmp_path / "out.mid"
    build_file(source, [[(0, mido.MetaMessage("track_name", name="Melody"))] +
                        [(b * 240, on(60 + b % 7, 90, 0)) for b in range(48)] +
                        [(b * 240 + 200, off(60 + b % 7, 0)) for b in range(48)]])
    status, _, err = run("accompany", str(source), "--given", "5", "-o", str(out))
    assert status == 2
    assert "5" in err and "Acoustic Grand Piano" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("keep", ["rhythm", "pitches"])
def test_keep_modes_say_how_many_notes_were_given_and_written(run, tmp_path, keep):
    source, out = tmp_path / "riff.mid", tmp_path / "out.mid"
    items = [(0, mido.MetaMessage("track_name", name="Riff"))]
    for i in range(36):
        items += [(480 * 4 + i * 120, on(50 + i % 9, 100, 0)), (480 * 4 + i * 120 + 100, off(50 + i % 9, 0))]
    build_file(source, [items])
    status, out_text, err = run("infill", str(source), "--start-bar", "2", "--end-bar", "4", f"--keep-{keep}",
                                "--seed", "4", "-o", str(out))
    assert status == 0, err
    given = len(replaced_pairs(source, "infill", 4, 16))
    added = assert_kept(source, out, replaced_pairs(source, "infill", 4, 16), span=(4, 16))
    said = re.search(rf"keep {keep}: (\d+) notes given, (\d+) written", out_text + err)
    assert said, out_text + err
    assert (int(said[1]), int(said[2])) == (given, len(added)) == (36, len(added))


def test_random_files_and_requests_keep_everything_not_replaced(run, tmp_path):
    """Property: random multi-part files, random infill / continue / accompany requests (seeded)."""
    rng = random.Random(11)
    for example in range(10):
        source, out = tmp_path / f"in{example}.mid", tmp_path / f"out{example}.mid"
        shape = random_file(source, rng)
        bar = shape["beats_per_bar"]
        mode = rng.choice(("infill", "continue", "accompany"))
        args = [mode, str(source), "--seed", str(example), "-o", str(out), "--max-notes", "24"]
        if mode == "continue":
            content = read_midi(source)
            last = max(n.end for n in content.notes)
            start = math.ceil(last / bar - 1e-9) * bar
            span, replaced = (start, start + bar), []
            args += ["--bars", "1"]
        else:
            first = rng.randrange(1, 4)
            last_bar = rng.randrange(first, 5)
            span = ((first - 1) * bar, last_bar * bar)
            args += ["--start-bar", str(first), "--end-bar", str(last_bar)]
            given = None
            if mode == "accompany":
                present = sorted({e.instrument for e in read_midi(source).events})
                given = {rng.choice(present)}
                args += ["--given", ",".join(map(str, given))]
            replaced = replaced_pairs(source, mode, *span, given)
        status, _, err = run(*args)
        assert status == 0, (example, args, err)
        assert_kept(source, out, replaced, span=span)
