"""Test helpers: MIDI files shaped like real ones, and a check that a merged file kept what it must.

Written from the Standard MIDI File rules and the AMT reading rules, apart from
the code under test: the note pairing here is its own FIFO matcher.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict, deque
from dataclasses import dataclass

import mido

from bridge.amt.midi_file import read_midi
from bridge.amt.notes import seconds_to_ticks

DRUM_CHANNEL = 9


def wire(message: mido.Message | mido.MetaMessage) -> bytes:
    """The bytes a message is saved as (without its delta time)."""
    return bytes(message.bytes())


def absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message | mido.MetaMessage]]:
    tick, out = 0, []
    for message in track:
        tick += message.time
        out.append((tick, message))
    return out


def non_note_events(midi: mido.MidiFile) -> list[list[tuple[int, bytes]]]:
    """Per track, in order: (tick, bytes) of every message that is not a note-on/off or end_of_track."""
    return [[(tick, wire(m)) for tick, m in absolute(track) if m.type not in ("note_on", "note_off", "end_of_track")]
            for track in midi.tracks]


@dataclass(frozen=True)
class Pair:
    """A note as the file holds it: where and what its note-on and note-off are."""

    track: int
    on_tick: int
    on: bytes
    off_track: int | None
    off_tick: int | None
    off: bytes | None


def note_pairs(midi: mido.MidiFile) -> list[Pair]:
    """Notes in note-on order, note-offs matched FIFO per (program-or-drums, pitch, channel) over all tracks."""
    merged = []
    for number, track in enumerate(midi.tracks):
        for index, (tick, message) in enumerate(absolute(track)):
            merged.append((tick, number, index, message))
    merged.sort(key=lambda item: item[:3])
    programs: dict[int, int] = defaultdict(int)
    waiting: dict[tuple, deque] = defaultdict(deque)
    found: list[list] = []
    for tick, number, _, message in merged:
        if message.type == "program_change":
            programs[message.channel] = message.program
        if message.type not in ("note_on", "note_off"):
            continue
        key = (128 if message.channel == DRUM_CHANNEL else programs[message.channel], message.note, message.channel)
        if message.type == "note_on" and message.velocity > 0:
            waiting[key].append(len(found))
            found.append([number, tick, wire(message), None, None, None])
        elif waiting[key]:
            found[waiting[key].popleft()][3:] = [number, tick, wire(message)]
    return [Pair(*item) for item in found]


def span_ticks(content, start_beat: float, end_beat: float) -> tuple[int, int]:
    """The span in the model's 10 ms ticks, as the engine decides what is inside."""
    tempo = content.tempo
    return (seconds_to_ticks(tempo.beats_to_seconds(start_beat)), seconds_to_ticks(tempo.beats_to_seconds(end_beat)))


def replaced_pairs(path, mode: str, start_beat: float, end_beat: float, given: set[int] | None = None) -> list[Pair]:
    """The notes a request replaces: infill, the notes starting in the span; accompany, those of other parts there."""
    if mode == "continue":
        return []
    content = read_midi(path)
    pairs = note_pairs(mido.MidiFile(str(path)))
    assert len(pairs) == len(content.events)
    low, high = span_ticks(content, start_beat, end_beat)
    chosen = []
    for pair, event in zip(pairs, content.events):
        if not low <= event.time < high:
            continue
        if mode == "accompany" and event.instrument in (given if given is not None else
                                                         {e.instrument for e in content.events}):
            continue
        chosen.append(pair)
    return chosen


def assert_kept(before_path, after_path, replaced: list[Pair], span: tuple[float, float] | None = None) -> list[Pair]:
    """The invariant: every kept event is identical (same track, tick and bytes), only replaced notes are gone.

    Returns the new notes of the output (those that are not the input's).
    """
    before, after = mido.MidiFile(str(before_path)), mido.MidiFile(str(after_path))
    assert after.ticks_per_beat == before.ticks_per_beat
    assert after.type == before.type
    assert len(after.tracks) >= len(before.tracks)
    old_events, new_events = non_note_events(before), non_note_events(after)
    used = {b[0] & 0x0F for track in old_events for _, b in track if b[0] < 0xF0}
    used |= {p.on[0] & 0x0F for p in note_pairs(before)}
    for number, events in enumerate(old_events):
        extra = Counter(new_events[number]) - Counter(events)
        # The only event the merge may add to a track of the file: the program of a new part on a free
        # channel (type 0 files have no other track to put it in).
        assert all(b[0] & 0xF0 == 0xC0 and b[0] & 0x0F not in used for _, b in extra.elements()), extra
        assert [e for e in new_events[number] if e in Counter(events)] == events, f"track {number} changed"
    for track in after.tracks[len(before.tracks):]:  # tracks the merge added: a name, a program, notes
        assert {m.type for m in track} <= {"track_name", "program_change", "note_on", "note_off", "end_of_track"}
    old_pairs, new_pairs = Counter(note_pairs(before)), Counter(note_pairs(after))
    kept = old_pairs - Counter(replaced)
    missing = kept - new_pairs
    assert not missing, f"kept notes lost or changed: {list(missing)[:5]}"
    removed = old_pairs - new_pairs
    assert not removed - Counter(replaced), "a note that was not replaced was removed"
    added = list((new_pairs - kept).elements())
    tpb = before.ticks_per_beat
    for pair in added:
        assert pair.off is not None, "a new note without a note-off"
        if span is not None:
            assert span[0] - 1e-6 <= pair.on_tick / tpb < span[1] + 1e-6, (pair, span)
    # Read as the model reads: the kept notes' events are exactly the same.
    old_content, new_content = read_midi(before_path), read_midi(after_path)
    kept_events = Counter(e for p, e in zip(note_pairs(before), old_content.events) if kept[p] > 0)
    assert not kept_events - Counter(new_content.events), "a kept note reads back differently"
    assert len(new_content.events) == sum(kept.values()) + len(added)
    return added


# ----------------------------------------------------------------- files shaped like real ones


def build_file(path, tracks: list[list[tuple[int, mido.Message | mido.MetaMessage]]], *, tpb: int = 480,
               kind: int = 1) -> None:
    """Tracks of (absolute tick, message), kept in the given order within a tick."""
    midi = mido.MidiFile(type=kind, ticks_per_beat=tpb)
    for items in tracks:
        track, last = mido.MidiTrack(), 0
        for tick, message in sorted(items, key=lambda item: item[0]):
            track.append(message.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(str(path))


def on(pitch: int, velocity: int, channel: int) -> mido.Message:
    return mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)


def off(pitch: int, channel: int, style: int = 0) -> mido.Message:
    if style:
        return mido.Message("note_on", note=pitch, velocity=0, channel=channel)
    return mido.Message("note_off", note=pitch, velocity=64, channel=channel)


NAMES = ("Soprano", "Alto", "Tenor", "Bass", "My Piano", "Flute", "Strings")


def random_file(path, rng: random.Random, *, bars: int = 4) -> dict:
    """A type 1 file with a conductor track and 1-4 parts: shared channels and programs, same-pitch
    overlaps, pedal, bends, aftertouch, sysex, text, key signature, meter and tempo changes."""
    tpb = rng.choice((96, 384, 480, 960))
    numerator, denominator = rng.choice(((4, 4), (3, 4), (7, 8), (6, 8)))
    bar_ticks = tpb * 4 * numerator // denominator
    conductor = [(0, mido.MetaMessage("track_name", name="Conductor")),
                 (0, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)),
                 (0, mido.MetaMessage("key_signature", key=rng.choice(("C", "Eb", "F#m", "Bb")))),
                 (0, mido.MetaMessage("set_tempo", tempo=rng.randrange(350_000, 900_000))),
                 (rng.randrange(bar_ticks * bars), mido.MetaMessage("marker", text="B section"))]
    for _ in range(rng.randrange(3)):
        conductor.append((rng.randrange(1, bar_ticks * bars), mido.MetaMessage("set_tempo",
                                                                                tempo=rng.randrange(350_000, 900_000))))
    tracks = [conductor]
    parts = []
    for number in range(rng.randrange(1, 5)):
        channel = rng.choice((0, 0, 1, 2, 3, DRUM_CHANNEL))
        program = rng.choice((0, 0, 4, 33, 73))
        items: list = [(0, mido.MetaMessage("track_name", name=rng.choice(NAMES) + f" {number}"))]
        if channel != DRUM_CHANNEL:
            items.append((0, mido.Message("program_change", channel=channel, program=program)))
        for _ in range(rng.randrange(4, 18)):
            pitch = rng.randrange(55, 60)  # few pitches: same-pitch overlaps happen
            start = rng.randrange(bar_ticks * bars)
            length = rng.choice((0, 1, rng.randrange(1, tpb), rng.randrange(tpb, 4 * tpb)))
            items.append((start, on(pitch, rng.randrange(1, 128), channel)))
            if rng.random() < 0.97:
                items.append((start + length, off(pitch, channel, rng.randrange(2))))
        for _ in range(rng.randrange(4)):
            tick = rng.randrange(bar_ticks * bars)
            items.append((tick, mido.Message("control_change", channel=channel, control=64, value=127)))
            items.append((tick + rng.randrange(1, tpb), mido.Message("control_change", channel=channel, control=64,
                                                                      value=0)))
            items.append((rng.randrange(bar_ticks * bars), mido.Message("pitchwheel", channel=channel,
                                                                        pitch=rng.randrange(-8192, 8192))))
        if rng.random() < 0.5:
            items.append((rng.randrange(bar_ticks * bars), mido.Message("sysex", data=(0x7E, 0x7F, 0x09, 0x01))))
            items.append((rng.randrange(bar_ticks * bars), mido.MetaMessage("text", text="take 3")))
            items.append((rng.randrange(bar_ticks * bars), mido.Message("aftertouch", channel=channel, value=50)))
        tracks.append(items)
        parts.append((channel, program))
    build_file(path, tracks, tpb=tpb)
    return {"tpb": tpb, "beats_per_bar": 4 * numerator / denominator, "parts": parts}
