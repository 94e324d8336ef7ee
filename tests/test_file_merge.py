"""The merge of new notes into the user's own file (bridge.amt.file_merge), without a model.

Property: random multi-track files (shared channels and programs, same-pitch
overlaps, pedal, bends, sysex, meta events, odd ticks per beat), any subset of
their notes replaced, random new notes of instruments the file has and has
not: every kept event is identical (track, tick, bytes), only the replaced
notes are gone, the new notes are added and read back as they were written.
"""

from __future__ import annotations

import random

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.amt.file_merge import merge_into_file
from bridge.amt.midi_file import read_midi
from bridge.amt.notes import Note
from tests.midi_kept import assert_kept, build_file, note_pairs, off, on, random_file


def merged(tmp_path, source, replaced, new, name="out.mid"):
    content = read_midi(source)
    midi, summary = merge_into_file(content, replaced, new)
    out = tmp_path / name
    midi.save(str(out))
    return out, summary


def pairs_of(source, content, notes):
    """The file's note pairs of some of ``content``'s notes (by position in read_midi's list)."""
    chosen = {id(n) for n in notes}
    return [p for p, n in zip(note_pairs(mido.MidiFile(str(source))), content.notes) if id(n) in chosen]


def assert_written_read_back(out, summary, tpb):
    """Every note the merge says it wrote reads back with its instrument, pitch and ticks."""
    seen = [(n.instrument, n.pitch, round(n.start * tpb), round(n.end * tpb)) for n in read_midi(out).notes]
    for note in summary.written:
        on_tick = round(note.start * tpb)
        wanted = (note.instrument, note.pitch, on_tick, max(on_tick + 1, round(note.end * tpb)))
        assert wanted in seen, (wanted, note)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1))
def test_any_replacement_and_new_notes_keep_everything_else(tmp_path, seed):
    rng = random.Random(seed)
    source = tmp_path / "in.mid"
    shape = random_file(source, rng)
    content = read_midi(source)
    replaced = [n for n in content.notes if rng.random() < 0.3]
    new = [Note(rng.randrange(55, 61), rng.randrange(0, 80) / rng.choice((4, 3, 7)), rng.randrange(0, 12) / 4,
                rng.uniform(0, 127), rng.choice((0, 4, 33, 73, 128, 81, 40))) for _ in range(rng.randrange(25))]
    out, summary = merged(tmp_path, source, replaced, new)
    added = assert_kept(source, out, pairs_of(source, content, replaced))
    assert len(added) == len(summary.written)
    assert len(summary.written) + summary.left_out + sum(summary.no_channel.values()) == len(new)
    assert summary.replaced == len(replaced) and summary.kept == len(content.notes) - len(replaced)
    assert_written_read_back(out, summary, shape["tpb"])


def two_part_file(path, kind: int = 1):
    """Piano on channel 5 (program 0) and bass on channel 2 (program 33), with a pedal and a bend."""
    piano = [(0, mido.MetaMessage("track_name", name="Keys")), (0, mido.Message("program_change", channel=5)),
             (0, mido.Message("control_change", channel=5, control=64, value=127)),
             (0, on(60, 90, 5)), (960, off(60, 5)), (960, on(64, 80, 5)), (1920, off(64, 5)),
             (1000, mido.Message("pitchwheel", channel=5, pitch=1000))]
    bass = [(0, mido.MetaMessage("track_name", name="Low")),
            (0, mido.Message("program_change", channel=2, program=33)), (0, on(40, 100, 2)), (1900, off(40, 2))]
    if kind == 0:
        build_file(path, [piano + bass], kind=0)
    else:
        build_file(path, [[(0, mido.MetaMessage("set_tempo", tempo=400_000))], piano, bass])


def test_new_notes_go_to_the_track_and_channel_of_their_instrument(tmp_path):
    source = tmp_path / "in.mid"
    two_part_file(source)
    new = [Note(67, 2.0, 1.0, 70, 0), Note(43, 2.0, 1.0, 70, 33)]
    out, summary = merged(tmp_path, source, [], new)
    added = assert_kept(source, out, [])
    assert sorted((p.track, p.on[0]) for p in added) == [(1, 0x95), (2, 0x92)]
    assert summary.new_tracks == [] and len(summary.written) == 2


def test_an_instrument_the_file_lacks_gets_a_named_track_on_a_free_channel(tmp_path):
    source = tmp_path / "in.mid"
    two_part_file(source)
    out, summary = merged(tmp_path, source, [], [Note(70, 1.0, 0.5, 80, 73), Note(36, 1.0, 0.5, 80, 128)])
    added = assert_kept(source, out, [])
    result = mido.MidiFile(str(out))
    assert sorted(t.name for t in result.tracks[3:]) == ["Drums", "Flute"]
    flute = [m for t in result.tracks[3:] for m in t if m.type == "program_change"]
    assert [(m.channel, m.program) for m in flute] == [(0, 73)]  # channel 0 is the first the file does not use
    assert sorted(p.on[0] for p in added) == [0x90, 0x99]
    assert sorted(summary.new_tracks) == ["Drums", "Flute"]


def test_type_0_files_stay_one_track(tmp_path):
    source = tmp_path / "in.mid"
    two_part_file(source, kind=0)
    out, summary = merged(tmp_path, source, [], [Note(70, 1.0, 0.5, 80, 73), Note(62, 3.0, 0.5, 80, 0)])
    assert_kept(source, out, [])
    assert len(mido.MidiFile(str(out)).tracks) == 1 and len(summary.written) == 2


def test_replacing_removes_exactly_that_note_on_and_its_note_off(tmp_path):
    source = tmp_path / "in.mid"
    two_part_file(source)
    content = read_midi(source)
    second = next(n for n in content.notes if n.pitch == 64)
    out, summary = merged(tmp_path, source, [second], [])
    assert_kept(source, out, pairs_of(source, content, [second]))
    assert sorted(n.pitch for n in read_midi(out).notes) == [40, 60]


def test_a_new_note_over_a_kept_one_of_the_same_pitch_is_shortened_or_left_out(tmp_path):
    """A held kept note and a new note of its pitch on its channel: FIFO matching would swap their ends."""
    source = tmp_path / "in.mid"
    build_file(source, [[(0, mido.Message("program_change", channel=0)), (960, on(60, 90, 0)),
                         (2880, off(60, 0))]])
    inside = Note(60, 2.5, 0.5, 70, 0)      # starts while the kept note sounds: left out
    across = Note(60, 1.0, 2.0, 70, 0)      # would end inside it: ends where it begins
    after = Note(60, 6.0, 1.0, 70, 0)       # free: written as it is
    out, summary = merged(tmp_path, source, [], [inside, across, after])
    assert_kept(source, out, [])
    assert summary.left_out == 1 and summary.shortened == 1 and len(summary.written) == 2
    assert sorted((n.start, n.end) for n in read_midi(out).notes) == [(1.0, 2.0), (2.0, 6.0), (6.0, 7.0)]
    assert summary.sentences() and all(s.endswith("channel") or "shortened" in s for s in summary.sentences())


def test_no_free_channel_for_a_new_instrument_is_said(tmp_path):
    source = tmp_path / "in.mid"
    tracks = [[(0, mido.Message("program_change", channel=c, program=c)), (0, on(60, 90, c)), (480, off(60, c))]
              for c in range(16) if c != 9]
    build_file(source, tracks)
    out, summary = merged(tmp_path, source, [], [Note(70, 1.0, 0.5, 80, 73), Note(71, 1.0, 0.5, 80, 3)])
    assert_kept(source, out, [])
    assert summary.no_channel == {73: 1} and len(summary.written) == 1
    assert any("Flute" in s and "channel" in s for s in summary.sentences())


def test_a_note_the_file_does_not_have_cannot_be_replaced(tmp_path):
    source = tmp_path / "in.mid"
    two_part_file(source)
    with pytest.raises(ValueError, match="not in the file"):
        merge_into_file(read_midi(source), [Note(99, 0.0, 1.0)], [])
