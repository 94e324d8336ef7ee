"""Write a request's result into the user's own MIDI file, leaving everything else as it was.

A file in, a file out: the parsed input file is the base. Exactly the note-on
and note-off of each replaced note are removed and the new notes are added;
every other message (tracks and their order and names, channels, programs,
CCs such as the sustain pedal, pitch bend, sysex, text, key signature, tempo
map, ticks per beat, and every kept note) keeps its track, its tick and its
bytes. Kept material is never re-synthesized.

A new note goes to the track and channel of its instrument when the file has
one (of several, the one whose notes are closest in pitch), otherwise to a new
track on a channel the file does not use. A note is only written where it
cannot change how the file's notes are read: note-offs close the oldest open
note of the same pitch on a channel (see :mod:`bridge.amt.midi_stream`), so a
new note that would overlap a note of the same pitch there is shortened to
end where that note begins, or left out when it would start while that
pitch still sounds. The summary counts both.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import mido

from bridge.amt import vocab
from bridge.amt.gm import instrument_name
from bridge.amt.midi_file import MidiContent
from bridge.amt.midi_stream import Lane
from bridge.amt.notes import Note

_NEW_OFF, _KEPT, _NEW_ON = 0, 1, 2
"""Order inside one tick of one track: new note-offs, then the file's own messages, then new note-ons."""
_NEW_TRACK_HEADER = -1


@dataclass
class MergeSummary:
    """What the merge did, in counts a user can check."""

    replaced: int
    kept: int
    written: list[Note] = field(default_factory=list)
    shortened: int = 0
    left_out: int = 0
    no_channel: dict[int, int] = field(default_factory=dict)
    new_tracks: list[str] = field(default_factory=list)

    def sentences(self) -> list[str]:
        """Notes for the user about new notes that could not be written as the model wrote them."""
        said = []
        if self.shortened:
            said.append(f"{self.shortened} new note(s) were shortened to end where a note of the same pitch "
                        "on the same channel begins")
        if self.left_out:
            said.append(f"{self.left_out} new note(s) were left out: the same pitch was still sounding on "
                        "their channel")
        for instrument, count in sorted(self.no_channel.items()):
            said.append(f"{count} new note(s) of {instrument_name(instrument)} were left out: the file uses all "
                        "15 melodic MIDI channels, so there is none free for a new instrument")
        return said


@dataclass(frozen=True)
class _Destination:
    track: int
    channel: int


def _note_key(note: Note) -> tuple:
    return (note.pitch, note.start, note.duration, note.velocity, note.instrument)


@dataclass(frozen=True)
class _NewPart:
    """An instrument the file lacks: its own new track (type 0 files: the one track) and a free channel."""

    destination: _Destination
    instrument: int
    number: int


class _Merger:
    def __init__(self, content: MidiContent):
        if content.midi is None or content.matching is None:
            raise ValueError("merging needs the content of a MIDI file read with read_midi")
        self.content = content
        self.midi = content.midi
        self.tpb = content.ticks_per_beat
        self.lanes: dict[tuple[int, int], Lane] = {}
        self.removed: set[int] = set()
        self.added: dict[int, list[tuple[tuple, mido.Message]]] = defaultdict(list)
        self.new_parts: list[_NewPart] = []
        self.serial = 0
        self.programs: dict[int, list[int]] = defaultdict(list)
        for position, item in enumerate(content.placed):
            if item.message.type == "program_change":
                self.programs[item.message.channel].append(position)
        used = {item.message.channel for item in content.placed if hasattr(item.message, "channel")}
        self.free_channels = deque(c for c in range(16) if c != vocab.DRUM_CHANNEL and c not in used)
        homes: dict[tuple[int, _Destination], list[int]] = defaultdict(list)
        for matched in content.matching.notes:
            destination = _Destination(content.placed[matched.on].track, matched.channel)
            homes[(matched.instrument, destination)].append(matched.pitch)
        self.homes = homes

    # ----- the file's own notes

    def remove_replaced(self, replaced: Sequence[Note]) -> None:
        """Mark the note-on and note-off of each replaced note (equal notes are taken in file order)."""
        available: dict[tuple, deque[int]] = defaultdict(deque)
        for index, note in enumerate(self.content.notes):
            available[_note_key(note)].append(index)
        for note in replaced:
            found = available.get(_note_key(note))
            if not found:
                raise ValueError(f"the result replaces a note (pitch {note.pitch} at beat {note.start:g}) "
                                 "that is not in the file; nothing was written")
            matched = self.content.matching.notes[found.popleft()]
            self.removed.add(matched.on)
            if matched.off is not None:
                self.removed.add(matched.off)

    def build_lanes(self) -> None:
        """One lane per (channel, pitch) with the kept notes and how they are paired today."""
        placed = self.content.placed
        note_of_position: dict[int, int] = {}
        for number, matched in enumerate(self.content.matching.notes):
            note_of_position[matched.on] = number
            if matched.off is not None:
                note_of_position[matched.off] = number
        for position, item in enumerate(placed):
            message = item.message
            if message.type in ("note_on", "note_off") and position not in self.removed:
                number = note_of_position.get(position)
                tag = ("unmatched", position) if number is None else ("kept", number, position)
                self._lane(message.channel, message.note).add(self._kept_key(position), message, tag)
        for number, matched in enumerate(self.content.matching.notes):
            if matched.on not in self.removed:
                off_tag = None if matched.off is None else ("kept", number, matched.off)
                self._lane(matched.channel, matched.pitch).expected.add((("kept", number, matched.on), off_tag))

    def _lane(self, channel: int, pitch: int) -> Lane:
        lane = self.lanes.get((channel, pitch))
        if lane is None:
            lane = self.lanes[(channel, pitch)] = Lane()
            for position in self.programs.get(channel, ()):
                lane.add(self._kept_key(position), self.content.placed[position].message, ("program", position))
            for part in self.new_parts:
                if part.destination.channel == channel and part.instrument != vocab.DRUMS:
                    lane.add(self._header_key(part), self._program_change(part), ("new program", part.number))
        return lane

    def _kept_key(self, position: int) -> tuple:
        item = self.content.placed[position]
        return (item.tick, item.track, _KEPT, item.index)

    @staticmethod
    def _header_key(part: _NewPart) -> tuple:
        return (0, part.destination.track, _NEW_TRACK_HEADER, part.number)

    @staticmethod
    def _program_change(part: _NewPart) -> mido.Message:
        return mido.Message("program_change", channel=part.destination.channel, program=part.instrument)

    # ----- where new notes go

    def _program_at(self, channel: int, tick: int) -> int:
        program = 0
        for position in self.programs.get(channel, ()):
            item = self.content.placed[position]
            if item.tick > tick:
                break
            program = item.message.program
        return vocab.DRUMS if channel == vocab.DRUM_CHANNEL else program

    def candidates(self, instrument: int, pitch: int, tick: int) -> list[_Destination]:
        """The tracks and channels that hold this instrument's notes and play it at ``tick``, closest in pitch first."""
        found = [(d, pitches) for (i, d), pitches in self.homes.items()
                 if i == instrument and self._program_at(d.channel, tick) == instrument]
        found.sort(key=lambda item: (abs(statistics.median(item[1]) - pitch), -len(item[1]), item[0].track))
        return [destination for destination, _ in found]

    def new_destination(self, instrument: int) -> _Destination | None:
        """Where an instrument the file lacks goes: a track of its own on a free channel (drums: channel 10)."""
        for part in self.new_parts:
            if part.instrument == instrument:
                return part.destination
        if instrument == vocab.DRUMS:
            channel = vocab.DRUM_CHANNEL
        elif self.free_channels:
            channel = self.free_channels.popleft()
        else:
            return None
        track = 0 if self.midi.type == 0 else len(self.midi.tracks) + len(self.new_parts)
        part = _NewPart(_Destination(track, channel), instrument, len(self.new_parts))
        self.new_parts.append(part)
        if instrument != vocab.DRUMS:
            self.added[track].append(((_NEW_TRACK_HEADER, part.number), self._program_change(part).copy(time=0)))
        return part.destination

    # ----- placing one note

    def try_place(self, destination: _Destination, note: Note, on_tick: int, off_tick: int) -> bool:
        """Write the note there if every note of its lane, and the note itself, still read as meant."""
        lane = self._lane(destination.channel, note.pitch)
        serial = self.serial
        velocity = min(127, max(1, int(round(note.velocity))))  # a note-on of velocity 0 would be a note-off
        on_key = (on_tick, destination.track, _NEW_ON, serial)
        off_key = (off_tick, destination.track, _NEW_OFF, serial)
        on = mido.Message("note_on", channel=destination.channel, note=note.pitch, velocity=velocity)
        off = mido.Message("note_off", channel=destination.channel, note=note.pitch, velocity=0)
        pair = (("new", serial, "on"), ("new", serial, "off"))
        lane.add(on_key, on, pair[0])
        lane.add(off_key, off, pair[1])
        if lane.reads_as_expected(pair, note.instrument):
            lane.expected.add(pair)
            self.added[destination.track] += [((_NEW_ON, serial), on.copy(time=on_tick)),
                                              ((_NEW_OFF, serial), off.copy(time=off_tick))]
            self.serial += 1
            return True
        lane.remove(on_key)
        lane.remove(off_key)
        return False

    def place(self, note: Note, summary: MergeSummary) -> None:
        on_tick = max(0, round(note.start * self.tpb))
        off_tick = max(on_tick + 1, round(note.end * self.tpb))
        destinations = self.candidates(note.instrument, note.pitch, on_tick)
        if not destinations:
            destination = self.new_destination(note.instrument)
            if destination is None:
                summary.no_channel[note.instrument] = summary.no_channel.get(note.instrument, 0) + 1
                return
            destinations = [destination]
        for destination in destinations:
            following = self._lane(destination.channel, note.pitch).next_tick_after(on_tick)
            if (following is None or following >= off_tick) and self.try_place(destination, note, on_tick, off_tick):
                summary.written.append(note)
                return
        for destination in destinations:
            following = self._lane(destination.channel, note.pitch).next_tick_after(on_tick)
            if following is None or following >= off_tick:
                continue
            for end in (following, following - 1):
                if end > on_tick and self.try_place(destination, note, on_tick, end):
                    summary.written.append(replace(note, duration=end / self.tpb - note.start))
                    summary.shortened += 1
                    return
        summary.left_out += 1

    # ----- the merged file

    def write(self) -> mido.MidiFile:
        merged = mido.MidiFile(type=self.midi.type, ticks_per_beat=self.tpb, charset=self.midi.charset)
        by_track: dict[int, list[tuple[tuple, mido.Message]]] = defaultdict(list)
        for position, item in enumerate(self.content.placed):
            if position not in self.removed:
                by_track[item.track].append(((item.tick, _KEPT, item.index), item.message))
        for track, items in self.added.items():
            for order, message in items:
                by_track[track].append(((message.time, *order), message))
        new_tracks = [part for part in self.new_parts if self.midi.type == 1]
        for number in range(len(self.midi.tracks) + len(new_tracks)):
            track = mido.MidiTrack()
            if number < len(self.midi.tracks):
                original = self.midi.tracks[number]
                end_tick = sum(m.time for m in original)
                closing = next((m for m in original if m.type == "end_of_track"), mido.MetaMessage("end_of_track"))
            else:
                part = new_tracks[number - len(self.midi.tracks)]
                track.append(mido.MetaMessage("track_name", name=instrument_name(part.instrument)))
                end_tick, closing = 0, mido.MetaMessage("end_of_track")
            last = 0
            for (tick, _, _), message in sorted(by_track.get(number, []), key=lambda item: item[0]):
                track.append(message.copy(time=tick - last))
                last = tick
            track.append(closing.copy(time=max(end_tick, last) - last))
            merged.tracks.append(track)
        return merged


def merge_into_file(content: MidiContent, replaced: Sequence[Note], new_notes: Sequence[Note]
                    ) -> tuple[mido.MidiFile, MergeSummary]:
    """The input file minus the replaced notes plus the new ones, and what was done.

    ``content`` is what :func:`~bridge.amt.midi_file.read_midi` read; ``replaced``
    are notes of ``content.notes`` (equal values are interchangeable: they are
    replaced or kept together); ``new_notes`` are in beats, as the engine writes them.
    """
    merger = _Merger(content)
    merger.remove_replaced(replaced)
    merger.build_lanes()
    summary = MergeSummary(replaced=len(replaced), kept=len(content.notes) - len(replaced))
    for note in sorted((n for n in new_notes if not n.mute), key=lambda n: (n.start, n.pitch)):
        merger.place(note, summary)
    summary.new_tracks = [instrument_name(part.instrument) for part in merger.new_parts]
    return merger.write(), summary
