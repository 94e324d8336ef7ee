"""MIDI files in and out, checked against the AMT facts with files built here.

Reading must give exactly the reference tokenizer's events (real time, FIFO
note-off matching, channel 10 drums, 250 ms for unclosed notes, 999 cap);
writing must give files that read back to the same events and that another
library (pretty_midi) understands the same way.
"""

from __future__ import annotations

import io
import random
import warnings
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.amt import vocab
from bridge.amt.midi_file import MidiFileError, assign_channels, build_midi, midi_bytes, read_midi, write_midi
from bridge.amt.notes import Note, events_to_raw_tokens, events_to_tokens, notes_to_events
from bridge.amt.tempo import TempoMap, TimeSignature

E = vocab.Event


def make_midi(
    path: Path,
    tracks: list[list[tuple[int, mido.Message | mido.MetaMessage]]],
    *,
    tpb: int = 480,
    kind: int = 1,
) -> Path:
    """Write a file from tracks of (absolute tick, message); messages are sorted stably by tick."""
    midi = mido.MidiFile(type=kind, ticks_per_beat=tpb)
    for items in tracks:
        track = mido.MidiTrack()
        last = 0
        for tick, message in sorted(items, key=lambda item: item[0]):
            track.append(message.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def on(note: int, velocity: int = 80, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=velocity, channel=channel)


def off(note: int, channel: int = 0, *, zero_velocity_on: bool = False) -> mido.Message:
    if zero_velocity_on:
        return mido.Message("note_on", note=note, velocity=0, channel=channel)
    return mido.Message("note_off", note=note, velocity=64, channel=channel)


def program(number: int, channel: int = 0) -> mido.Message:
    return mido.Message("program_change", program=number, channel=channel)


def tempo(us_per_beat: int) -> mido.MetaMessage:
    return mido.MetaMessage("set_tempo", tempo=us_per_beat)


def stripped(events: list[vocab.Event]) -> list[tuple[int, int, int, int]]:
    """Events without velocity, for comparing with hand-written expectations."""
    return [(e.time, e.duration, e.instrument, e.pitch) for e in events]


# ---------------------------------------------------------------- reading


def test_simple_file_at_120_bpm(tmp_path):
    """120 bpm, 480 tpb: one MIDI tick is 1/960 s, so 480 ticks = 50 model ticks."""
    path = make_midi(tmp_path / "a.mid", [[
        (0, program(0)),
        (0, on(60, 90)), (480, off(60)),
        (480, on(64, 70)), (1440, off(64)),
    ]])
    content = read_midi(path)
    assert content.events == [E(0, 50, 0, 60, 90), E(50, 100, 0, 64, 70)]
    assert content.ticks_per_beat == 480
    assert content.tempo.initial_bpm == 120
    assert content.unclosed_notes == 0 and content.unmatched_note_offs == 0
    assert content.warnings == []
    assert [(n.start, n.duration, n.velocity) for n in content.notes] == [(0.0, 1.0, 90), (1.0, 2.0, 70)]


def test_read_from_bytes_equals_read_from_path(tmp_path):
    path = make_midi(tmp_path / "a.mid", [[(0, on(60)), (480, off(60))]])
    assert read_midi(path.read_bytes()).events == read_midi(path).events == read_midi(str(path)).events


def test_fifo_matching_of_overlapping_same_pitch_notes(tmp_path):
    """The first note-off closes the OLDEST open note of that pitch (not the newest)."""
    path = make_midi(tmp_path / "fifo.mid", [[
        (0, on(60, 100)),     # A: 0 s
        (480, on(60, 50)),    # B: 0.5 s
        (960, off(60)),       # closes A -> 1.0 s
        (1920, off(60)),      # closes B -> 2.0 s
    ]])
    # LIFO would give A = 200 and B = 50; FIFO gives A = 100, B = 150.
    assert stripped(read_midi(path).events) == [(0, 100, 0, 60), (50, 150, 0, 60)]


def test_fifo_key_includes_channel(tmp_path):
    """Same pitch and program on two channels: a note-off only closes its own channel's note."""
    path = make_midi(tmp_path / "ch.mid", [[
        (0, on(60, channel=0)),
        (0, on(60, channel=1)),
        (480, off(60, channel=1)),
        (960, off(60, channel=0)),
    ]])
    assert stripped(read_midi(path).events) == [(0, 100, 0, 60), (0, 50, 0, 60)]


def test_note_on_velocity_zero_is_note_off(tmp_path):
    path = make_midi(tmp_path / "v0.mid", [[
        (0, on(62, 100)), (240, off(62, zero_velocity_on=True)),
        (240, on(62, 100)), (720, off(62, zero_velocity_on=True)),
    ]])
    content = read_midi(path)
    assert stripped(content.events) == [(0, 25, 0, 62), (25, 50, 0, 62)]
    assert content.unclosed_notes == 0


def test_note_off_then_note_on_same_tick(tmp_path):
    """At one tick an off before an on must end the earlier note, not the new one."""
    path = make_midi(tmp_path / "re.mid", [[
        (0, on(60)), (480, off(60)), (480, on(60)), (960, off(60)),
    ]])
    assert stripped(read_midi(path).events) == [(0, 50, 0, 60), (50, 50, 0, 60)]


def test_unclosed_note_lasts_25_ticks(tmp_path):
    path = make_midi(tmp_path / "open.mid", [[(0, on(60)), (480, on(67)), (960, off(67))]])
    content = read_midi(path)
    assert stripped(content.events) == [(0, 25, 0, 60), (50, 50, 0, 67)]
    assert content.unclosed_notes == 1
    assert any("250 ms" in w for w in content.warnings)
    # the DAW note also lasts 250 ms: half a beat at 120 bpm
    assert content.notes[0].duration == pytest.approx(0.5)


def test_unmatched_note_off_is_counted(tmp_path):
    path = make_midi(tmp_path / "stray.mid", [[(0, off(50)), (0, on(60)), (480, off(60))]])
    content = read_midi(path)
    assert stripped(content.events) == [(0, 50, 0, 60)]
    assert content.unmatched_note_offs == 1
    assert any("without a matching" in w for w in content.warnings)


def test_long_notes_capped_at_999(tmp_path):
    """A 10 s note would be 1000 ticks; the duration block ends at 999."""
    path = make_midi(tmp_path / "long.mid", [[
        (0, on(60)), (9600, off(60)),       # exactly 10 s -> 1000 -> 999
        (0, on(61)), (9590, off(61)),       # 9.989583 s -> 998.96 -> 999
        (0, on(62)), (9580, off(62)),       # 9.979167 s -> 997.9 -> 998
        (0, on(63)), (48000, off(63)),      # 50 s -> 999
    ]])
    content = read_midi(path)
    assert sorted(e.duration for e in content.events) == [998, 999, 999, 999]
    # the DAW note keeps its full length
    assert max(n.duration for n in content.notes) == 100.0


def test_tempo_changes_give_real_time(tmp_path):
    """120 bpm for two beats (1 s), then 60 bpm (1 s per beat), then 240 bpm from beat 4.

    Beat b maps to: b <= 2: b/2 s; 2..4: 1 + (b-2) s; b >= 4: 3 + (b-4)/4 s.
    """
    path = make_midi(tmp_path / "tempo.mid", [
        [(0, tempo(500_000)), (960, tempo(1_000_000)), (1920, tempo(250_000))],
        [
            (0, on(60)), (480, off(60)),            # 0..0.5 s
            (480, on(62)), (1440, off(62)),         # beat 1..3: 0.5 .. 2.0 s
            (1440, on(64)), (2400, off(64)),        # beat 3..5: 2.0 .. 3.25 s
            (2040, on(65)), (2100, off(65)),        # beat 4.25..4.375: 3.0625 .. 3.09375 s
        ],
    ])
    content = read_midi(path)
    # onsets: 0, 50, 200, round(306.25) = 306; durations: 50, 150, 125, round(3.125) = 3
    assert stripped(content.events) == [(0, 50, 0, 60), (50, 150, 0, 62), (200, 125, 0, 64), (306, 3, 0, 65)]
    assert [(c.beat, c.bpm) for c in content.tempo.changes] == [(0.0, 120.0), (2.0, 60.0), (4.0, 240.0)]
    assert content.notes[2].start == 3.0 and content.notes[2].duration == 2.0


def test_tempo_change_in_the_same_track_as_notes(tmp_path):
    """A type 0 file: tempo meta events mixed with the notes."""
    path = make_midi(tmp_path / "t0.mid", [[
        (0, tempo(600_000)),                  # 100 bpm: 0.6 s per beat
        (0, on(60)), (480, off(60)),          # 0 .. 0.6 s
        (480, tempo(400_000)),                # 150 bpm from beat 1
        (720, on(62)), (1200, off(62)),       # beat 1.5 .. 2.5: 0.8 .. 1.2 s
    ]], kind=0)
    assert stripped(read_midi(path).events) == [(0, 60, 0, 60), (80, 40, 0, 62)]


@pytest.mark.parametrize(
    ("tpb", "ticks", "expected"),
    [
        # 120 bpm: one tick = 0.5/tpb s, so model ticks = 50 * ticks / tpb.
        (96, [(0, 96), (48, 144), (7, 15)], [(0, 50), (25, 50), (4, 4)]),        # 3.65 -> 4, 4.17 -> 4
        (97, [(0, 97), (50, 150), (3, 200)], [(0, 50), (26, 52), (2, 102)]),     # 25.77, 51.55, 1.55, 101.55
        (1000, [(0, 1000), (10, 30), (250, 750)], [(0, 50), (0, 1), (12, 25)]),  # 0.5 -> 0, 1.0, 12.5 -> 12
    ],
)
def test_odd_ticks_per_beat(tmp_path, tpb: int, ticks: list[tuple[int, int]], expected: list[tuple[int, int]]):
    """Ticks per beat that do not divide 10 ms evenly still round per note like the reference."""
    items = []
    for pitch, (start, end) in enumerate(ticks, start=60):
        items += [(start, on(pitch)), (end, off(pitch))]
    content = read_midi(make_midi(tmp_path / f"tpb{tpb}.mid", [items], tpb=tpb))
    got = sorted((e.time, e.duration) for e in content.events)
    assert got == sorted(expected)
    assert content.ticks_per_beat == tpb


def test_round_half_to_even_like_the_reference(tmp_path):
    """Python's round(): 12.5 -> 12, 37.5 -> 38, 0.5 -> 0, 1.5 -> 2 (banker's rounding).

    tpb 1000 at 120 bpm: one MIDI tick = 0.5 ms, so these onsets land on exact halves.
    """
    onsets_ticks = [10, 30, 250, 750, 1250, 1750]  # 0.005, 0.015, 0.125, 0.375, 0.625, 0.875 s
    items = []
    for pitch, start in enumerate(onsets_ticks, start=40):
        items += [(start, on(pitch)), (start + 2000, off(pitch))]
    path = make_midi(tmp_path / "half.mid", [items], tpb=1000)
    content = read_midi(path)
    assert [e.time for e in content.events] == [0, 2, 12, 38, 62, 88]
    # the same as round(100 * seconds) with seconds summed from mido's iteration
    seconds, reference = 0.0, []
    for message in mido.MidiFile(path):
        seconds += message.time
        if message.type == "note_on" and message.velocity > 0:
            reference.append(round(100 * seconds))
    assert [e.time for e in content.events] == reference
    # and not what round-half-up would give
    half_up = [int(100 * (tick / 2000) + 0.5) for tick in onsets_ticks]  # tick / 2000 = seconds
    assert half_up == [1, 2, 13, 38, 63, 88]
    assert [e.time for e in content.events] != half_up


def test_duration_is_rounded_difference_of_unrounded_times(tmp_path):
    """0.006 s .. 0.0145 s: both ends round to tick 1 (difference 0), but the real duration
    0.0085 s rounds to 1: the facts say round(off - on), not round(off) - round(on)."""
    path = make_midi(tmp_path / "d.mid", [[
        (12, on(60)), (29, off(60)),   # 0.006 s .. 0.0145 s
    ]], tpb=1000)
    (event,) = read_midi(path).events
    assert event.time == 1  # round(0.6)
    assert event.duration == 1  # round(0.85), not round(1.45) - round(0.6) = 0


def test_drums_on_channel_9_whatever_the_program(tmp_path):
    path = make_midi(tmp_path / "drums.mid", [[
        (0, program(40, channel=9)),
        (0, on(36, channel=9)), (240, off(36, channel=9)),
        (0, program(40, channel=3)),
        (0, on(36, channel=3)), (240, off(36, channel=3)),
    ]])
    assert sorted(stripped(read_midi(path).events)) == [(0, 25, 40, 36), (0, 25, 128, 36)]
    notes = read_midi(path).notes
    assert {(n.instrument, n.channel) for n in notes} == {(128, 9), (40, None)}


def test_program_change_mid_track(tmp_path):
    """Later notes get the new program; a note-off after the change does not close the
    earlier note (its key (instrument, pitch, channel) changed), so it stays unclosed -> 25."""
    path = make_midi(tmp_path / "pc.mid", [[
        (0, program(5)),
        (0, on(60)),
        (240, program(40)),
        (480, on(62)), (960, off(62)),
        (1440, off(60)),                      # key (40, 60, 0): nothing open
    ]])
    content = read_midi(path)
    assert stripped(content.events) == [(0, 25, 5, 60), (50, 50, 40, 62)]
    assert content.unclosed_notes == 1
    assert content.unmatched_note_offs == 1


def test_default_program_is_zero(tmp_path):
    path = make_midi(tmp_path / "p0.mid", [[(0, on(60, channel=4)), (480, off(60, channel=4))]])
    assert stripped(read_midi(path).events) == [(0, 50, 0, 60)]


def test_more_than_16_instruments(tmp_path):
    """Reading is not limited to 16 instruments (only generation is)."""
    items = []
    for i in range(24):
        channel = [c for c in range(16) if c != 9][i % 15]
        start = i * 240
        items += [(start, program(i * 5, channel)), (start, on(60 + i % 12, channel=channel)),
                  (start + 240, off(60 + i % 12, channel=channel))]
    content = read_midi(make_midi(tmp_path / "many.mid", [items]))
    assert [e.instrument for e in content.events] == [i * 5 for i in range(24)]
    assert [e.time for e in content.events] == [i * 25 for i in range(24)]
    assert all(e.duration == 25 for e in content.events)
    assert len({e.instrument for e in content.events}) == 24


def test_piece_longer_than_100_seconds(tmp_path):
    """Onsets past 99.99 s are kept as raw ticks (no range check) by events_to_raw_tokens."""
    path = make_midi(tmp_path / "long.mid", [[
        (0, on(60)), (480, off(60)),
        (115_200, on(62)), (115_680, off(62)),    # 120 s
    ]])
    events = read_midi(path).events
    assert stripped(events) == [(0, 50, 0, 60), (12_000, 50, 0, 62)]
    assert events_to_raw_tokens(events) == [0, 10_050, 11_060, 12_000, 10_050, 11_062]
    with pytest.raises(ValueError):
        events_to_tokens(events)


def test_empty_file_has_no_events(tmp_path):
    path = make_midi(tmp_path / "empty.mid", [[(0, mido.MetaMessage("track_name", name="nothing"))]])
    content = read_midi(path)
    assert content.events == [] and content.notes == []
    assert content.end_seconds == 0.0
    assert content.time_signature == TimeSignature(4, 4)


def test_time_signature_is_read(tmp_path):
    path = make_midi(tmp_path / "ts.mid", [[
        (0, mido.MetaMessage("time_signature", numerator=6, denominator=8)),
        (0, on(60)), (480, off(60)),
    ]])
    assert read_midi(path).time_signature == TimeSignature(6, 8)


def test_events_are_ordered_by_onset_across_tracks(tmp_path):
    path = make_midi(tmp_path / "order.mid", [
        [(960, on(70)), (1000, off(70))],
        [(0, program(33, 1)), (480, on(40, channel=1)), (960, off(40, channel=1))],
        [(0, on(60, channel=2)), (960, off(60, channel=2))],
    ])
    times = [e.time for e in read_midi(path).events]
    assert times == sorted(times) == [0, 50, 100]


# ---------------------------------------------------------------- corrupt files


def _midi_header(kind: int = 1, tracks: int = 1, division: int = 480) -> bytes:
    return b"MThd" + (6).to_bytes(4, "big") + kind.to_bytes(2, "big") + tracks.to_bytes(2, "big") + \
        division.to_bytes(2, "big")


def _valid_bytes() -> bytes:
    buffer = io.BytesIO()
    midi = mido.MidiFile(type=1)
    track = mido.MidiTrack([
        mido.MetaMessage("key_signature", key="D", time=0),
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, velocity=0, time=480),
    ])
    midi.tracks.append(track)
    midi.save(file=buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("random.mid", bytes(random.Random(7).randrange(256) for _ in range(300))),
        ("empty.mid", b""),
        ("short-header.mid", b"MThd\x00\x00"),
        ("truncated.mid", _valid_bytes()[:30]),
        ("text.mid", b"hello, this is not MIDI\n" * 10),
        ("smpte.mid", _midi_header(division=0xE728) + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"),
        # key signature with 9 sharps: mido raises its own KeySignatureError
        ("badkey.mid", _valid_bytes().replace(b"\xff\x59\x02\x02\x00", b"\xff\x59\x02\x09\x00")),
        ("tempo0.mid", _midi_header(kind=0) + b"MTrk\x00\x00\x00\x0b\x00\xff\x51\x03\x00\x00\x00\x00\xff\x2f\x00"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_corrupt_files_raise_midi_file_error(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MidiFileError) as info:
        read_midi(path)
    message = str(info.value)
    assert message and "\n" not in message
    with pytest.raises(MidiFileError):
        read_midi(data)


def test_badkey_fixture_really_changes_the_file():
    """Guard for the parametrized case above: the replacement must hit the key signature bytes."""
    assert b"\xff\x59\x02\x02\x00" in _valid_bytes()


def test_directory_missing_and_type_2(tmp_path):
    with pytest.raises(MidiFileError, match="folder"):
        read_midi(tmp_path)
    with pytest.raises(MidiFileError, match="no such file"):
        read_midi(tmp_path / "missing.mid")
    path = make_midi(tmp_path / "t2.mid", [[(0, on(60)), (480, off(60))], [(0, on(62)), (480, off(62))]], kind=2)
    with pytest.raises(MidiFileError, match="type 2"):
        read_midi(path)


def test_fast_tempo_reads_like_any_other(tmp_path):
    """1,200 bpm is legal MIDI: the file reads, in real time (480 ticks = 50 ms = 5 model ticks)."""
    path = make_midi(tmp_path / "fast.mid", [[(0, tempo(50_000)), (0, on(60)), (480, off(60))]])
    content = read_midi(path)
    assert [(e.time, e.duration) for e in content.events] == [(0, 5)]
    assert content.tempo.initial_bpm == 1200


def test_fuzzed_files_never_escape_midi_file_error():
    """Mutating a valid file must give events or a MidiFileError, never another exception."""
    base = _valid_bytes()
    rng = random.Random(1234)
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        try:
            read_midi(bytes(data))
        except MidiFileError:
            pass


# ---------------------------------------------------------------- another library's files


def test_reading_a_file_written_by_pretty_midi(tmp_path):
    pretty_midi = pytest.importorskip("pretty_midi")
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)  # resolution 220: one tick = 1/440 s
    bass = pretty_midi.Instrument(program=33)
    bass.notes += [pretty_midi.Note(velocity=90, pitch=40, start=0.5, end=1.0),
                   pretty_midi.Note(velocity=91, pitch=43, start=1.25, end=3.0)]
    drums = pretty_midi.Instrument(program=5, is_drum=True)
    drums.notes += [pretty_midi.Note(velocity=100, pitch=36, start=0.0, end=0.25),
                    pretty_midi.Note(velocity=101, pitch=38, start=1.0, end=1.125)]
    pm.instruments += [bass, drums]
    path = tmp_path / "pm.mid"
    pm.write(str(path))
    events = read_midi(path).events
    # ordered by onset; at 1.0 s nothing ties. 1.125 - 1.0 = 0.125 s -> 12.5 -> 12 (half to even)
    assert [tuple(e) for e in events] == [
        (0, 25, 128, 36, 100),
        (50, 50, 33, 40, 90),
        (100, 12, 128, 38, 101),
        (125, 175, 33, 43, 91),
    ]


# ---------------------------------------------------------------- writing


def _messages(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    tick, out = 0, []
    for message in track:
        tick += message.time
        out.append((tick, message))
    return out


def test_build_midi_layout():
    """Conductor track first, then one track per instrument (drums last) on its own channel."""
    notes = [
        Note(36, 0.0, 0.5, 110, instrument=128),
        Note(60, 0.0, 1.0, 90, instrument=0),
        Note(40, 1.0, 1.0, 64, instrument=33),
        Note(64, 2.0, 0.5, 30, instrument=0),
        Note(70, 0.0, 1.0, 100, instrument=0, mute=True),
    ]
    tempo_map = TempoMap.from_pairs([(0, 100), (4, 150)])
    midi = build_midi(notes, tempo_map, TimeSignature(3, 4), ticks_per_beat=480)
    assert midi.type == 1 and midi.ticks_per_beat == 480
    assert len(midi.tracks) == 4

    conductor = _messages(midi.tracks[0])
    tempos = [(tick, m.tempo) for tick, m in conductor if m.type == "set_tempo"]
    assert tempos == [(0, 600_000), (1920, 400_000)]
    (signature,) = [m for _, m in conductor if m.type == "time_signature"]
    assert (signature.numerator, signature.denominator) == (3, 4)
    assert not any(m.type.startswith("note") for _, m in conductor)

    piano, bass, drums = (_messages(t) for t in midi.tracks[1:])
    for track, channel, program_number in ((piano, 0, 0), (bass, 1, 33)):
        kinds = [m.type for _, m in track if not m.is_meta]
        assert kinds[0] == "program_change"
        program_message = next(m for _, m in track if m.type == "program_change")
        assert (program_message.program, program_message.channel) == (program_number, channel)
        assert {m.channel for _, m in track if not m.is_meta} == {channel}
    assert not any(m.type == "program_change" for _, m in drums)
    assert {m.channel for _, m in drums if not m.is_meta} == {9}

    # velocities kept, muted note left out
    assert [(t, m.note, m.velocity) for t, m in piano if m.type == "note_on"] == [(0, 60, 90), (960, 64, 30)]
    assert [(t, m.note, m.velocity) for t, m in drums if m.type == "note_on"] == [(0, 36, 110)]
    assert [(t, m.type) for t, m in bass if m.type.startswith("note")] == [(480, "note_on"), (960, "note_off")]
    for track in (piano, bass, drums):
        assert track[-1][1].type == "end_of_track"


def test_write_read_events_with_tempo_change(tmp_path):
    notes = [Note(60, 0.0, 1.0, 90), Note(62, 3.0, 2.0, 80, instrument=33), Note(38, 5.0, 0.25, 127, instrument=128)]
    tempo_map = TempoMap.from_pairs([(0, 120), (2, 60), (4, 240)])
    path = write_midi(tmp_path / "w.mid", notes, tempo_map)
    content = read_midi(path)
    # beats 0..1 -> 0..0.5 s; 3..5 -> 2.0..3.25 s; 5..5.25 -> 3.25..3.3125 s (6.25 -> 6)
    assert [tuple(e) for e in content.events] == [
        (0, 50, 0, 60, 90), (200, 125, 33, 62, 80), (325, 6, 128, 38, 127),
    ]
    assert [(c.beat, c.bpm) for c in content.tempo.changes] == [(0, 120), (2, 60), (4, 240)]


def test_same_pitch_repeated_note_off_comes_first():
    """Back-to-back notes of one pitch: the note-off precedes the note-on at the shared tick."""
    notes = [Note(60, 0.0, 1.0), Note(60, 1.0, 1.0), Note(60, 2.0, 0.5)]
    (track,) = build_midi(notes, TempoMap.constant(120)).tracks[1:]
    timeline = [(t, m.type) for t, m in _messages(track) if m.type.startswith("note")]
    assert timeline == [(0, "note_on"), (480, "note_off"), (480, "note_on"), (960, "note_off"),
                        (960, "note_on"), (1200, "note_off")]


def test_zero_length_notes_are_closed(tmp_path):
    notes = [Note(60, 1.0, 0.0, 70), Note(60, 1.0, 1.0, 80), Note(64, 0.0, 0.0)]
    midi = build_midi(notes, TempoMap.constant(120))
    (track,) = midi.tracks[1:]
    timeline = [(t, m.type, m.note) for t, m in _messages(track) if m.type.startswith("note")]
    # every note_on is followed by a note_off; the zero-length C at beat 1 closes right after both ons
    assert timeline == [(0, "note_on", 64), (0, "note_off", 64), (480, "note_on", 60), (480, "note_on", 60),
                        (480, "note_off", 60), (960, "note_off", 60)]
    path = tmp_path / "z.mid"
    midi.save(str(path))
    content = read_midi(path)
    assert [tuple(e) for e in content.events] == [(0, 0, 0, 64, 100), (50, 0, 0, 60, 70), (50, 50, 0, 60, 80)]
    assert content.unclosed_notes == 0


def test_velocities_are_clamped_to_valid_note_ons():
    """A velocity-0 note-on would be a note-off; written velocities stay 1..127."""
    midi = build_midi([Note(60, 0.0, 1.0, 0), Note(62, 0.0, 1.0, 126.6)], TempoMap.constant(120))
    velocities = [m.velocity for m in midi.tracks[1] if m.type == "note_on"]
    assert velocities == [1, 127]


def test_assign_channels_skips_drum_channel():
    channels = assign_channels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 128])
    assert channels[128] == 9
    assert channels[9] == 10
    assert 9 not in [channels[i] for i in range(11)]


def test_midi_bytes_reads_back():
    data = midi_bytes([Note(60, 0.0, 1.0, 99)], TempoMap.constant(90))
    assert data.startswith(b"MThd")
    assert [tuple(e) for e in read_midi(data).events] == [(0, 67, 0, 60, 99)]


def test_write_to_bad_path_is_a_midi_file_error(tmp_path):
    with pytest.raises(MidiFileError, match="cannot write"):
        write_midi(tmp_path / "no" / "such" / "dir.mid", [Note(60, 0.0, 1.0)], TempoMap.constant(120))


# ---------------------------------------------------------------- write -> read property

TPB = 480
MELODIC = (0, 5, 33, 40, 73)


def _exact_seconds(tick: int, changes: list[tuple[int, int]], tpb: int) -> Fraction:
    """Exact real time of a MIDI tick under (tick, microseconds per beat) changes."""
    total, position, current = Fraction(0), 0, changes[0][1]
    for at, us in changes[1:]:
        if at >= tick:
            break
        total += Fraction((at - position) * current, tpb * 1_000_000)
        position, current = at, us
    return total + Fraction((tick - position) * current, tpb * 1_000_000)


def _near_half(value: Fraction) -> bool:
    """True when 100 * seconds is (almost) exactly k + 0.5, where float noise decides the rounding."""
    return abs(value * 100 - (value * 100).__floor__() - Fraction(1, 2)) < Fraction(1, 10**6)


@st.composite
def songs(draw):
    """Notes on the MIDI tick grid, tempo 40-240 bpm as whole microseconds per beat, 0-3 changes."""
    tpb = draw(st.sampled_from([96, 480, 960]))
    first = draw(st.integers(250_000, 1_500_000))
    later = draw(st.lists(st.tuples(st.integers(1, 40 * tpb), st.integers(250_000, 1_500_000)), max_size=3))
    changes = [(0, first)] + sorted(dict(later).items())
    raw = draw(st.lists(
        st.tuples(
            st.sampled_from((*MELODIC, 128)),
            st.integers(36, 48),                       # few pitches, so same-pitch overlaps happen
            st.integers(0, 40 * tpb),                  # start tick
            st.one_of(st.integers(0, 4 * tpb), st.integers(4 * tpb, 30 * tpb)),  # length in ticks
            st.integers(1, 127),
            st.integers(0, 9).map(lambda x: x == 0),  # rarely muted
        ),
        min_size=1, max_size=25,
    ))
    return tpb, changes, raw


def _playable(tpb: int, changes: list[tuple[int, int]], raw):
    """Drop what MIDI cannot carry unambiguously: notes nested inside a same-pitch note of the same
    instrument (FIFO matching closes the outer one first) and notes whose onset, offset or
    duration sits exactly on a half 10 ms tick (two float computations may round either way)."""
    keep: list[tuple] = []
    last_end: dict[tuple[int, int], int] = {}
    for item in sorted(raw, key=lambda r: r[2]):  # build_midi orders notes by start, stably
        instrument, pitch, start, length, _, muted = item
        on_s = _exact_seconds(start, changes, tpb)
        off_s = _exact_seconds(start + length, changes, tpb)
        if any(_near_half(x) for x in (on_s, off_s, off_s - on_s)):
            continue
        if muted:
            keep.append(item)
            continue
        key = (instrument, pitch)
        if start + length < last_end.get(key, -1):
            continue
        last_end[key] = start + length
        keep.append(item)
    return keep


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_write_then_read_gives_the_same_events(tmp_path_factory, song):
    """Notes -> file -> events equals notes_to_events of the notes; velocities and beats survive."""
    tpb, changes, raw = song
    items = _playable(tpb, changes, raw)
    notes = [Note(pitch, start / tpb, length / tpb, velocity, instrument=instrument, mute=muted)
             for instrument, pitch, start, length, velocity, muted in items]
    tempo_map = TempoMap.from_pairs([(tick / tpb, 60_000_000 / us) for tick, us in changes])
    path = write_midi(tmp_path_factory.mktemp("rt") / "song.mid", notes, tempo_map, ticks_per_beat=tpb)
    content = read_midi(path)

    expected = notes_to_events(notes, tempo_map)
    assert sorted(content.events) == sorted(expected)
    assert [e.time for e in content.events] == sorted(e.time for e in content.events)
    assert content.unclosed_notes == 0 and content.unmatched_note_offs == 0

    audible = sorted((n.start, n.duration, n.instrument, n.pitch, n.velocity) for n in notes if not n.mute)
    got = sorted((n.start, n.duration, n.instrument, n.pitch, n.velocity) for n in content.notes)
    assert len(got) == len(audible)
    for a, b in zip(got, audible):
        assert a[2:] == b[2:]
        assert a[0] == pytest.approx(b[0], abs=1e-9) and a[1] == pytest.approx(b[1], abs=1e-9)
    assert [(c.beat, round(60_000_000 / c.bpm)) for c in content.tempo.changes] == \
        [(tick / tpb, us) for tick, us in changes]


def test_pretty_midi_reads_our_files_the_same(tmp_path):
    """Another library sees the same notes (instrument, pitch, velocity, times within 1 ms)."""
    pretty_midi = pytest.importorskip("pretty_midi")
    rng = random.Random(5)
    tempo_map = TempoMap.from_pairs([(0, 97), (8, 133), (17.5, 61)])
    notes = []
    for instrument in (0, 33, 128, 81):
        for pitch in range(50, 58):  # one note per pitch and instrument: no same-pitch overlaps
            start = rng.randrange(0, 96) / 4
            notes.append(Note(pitch, start, rng.randrange(1, 16) / 4, rng.randrange(1, 128), instrument=instrument))
    path = write_midi(tmp_path / "ours.mid", notes, tempo_map)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(str(path))
    seen = defaultdict(list)
    for instrument in pm.instruments:
        key = 128 if instrument.is_drum else instrument.program
        for note in instrument.notes:
            seen[(key, note.pitch)].append((note.start, note.end, note.velocity))
    assert sum(len(v) for v in seen.values()) == len(notes)
    for note in notes:
        ((start, end, velocity),) = seen[(note.instrument, note.pitch)]
        assert velocity == note.velocity
        assert start == pytest.approx(tempo_map.beats_to_seconds(note.start), abs=1e-3)
        assert end == pytest.approx(tempo_map.beats_to_seconds(note.end), abs=1e-3)
