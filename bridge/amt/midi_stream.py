"""One timeline for all tracks of a MIDI file, and the note-off matching the model's tokenizer uses.

Reading a file for the model and merging new notes into that same file must
agree on which note-off ends which note-on, or a kept note would read back
with another length. Both use :func:`match_notes` here: the oldest open note
with the same (instrument, pitch, channel) is closed first (FIFO), the
instrument being the program of the channel at that moment (channel 10 is
drums), exactly as the AMT reference reads files.
"""

from __future__ import annotations

import bisect
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

import mido

from bridge.amt import vocab


@dataclass(frozen=True)
class Placed:
    """A message of the file with its absolute tick and where it sits (track, position in the track)."""

    tick: int
    track: int
    index: int
    message: mido.Message | mido.MetaMessage


def timeline(tracks: Sequence[mido.MidiTrack]) -> list[Placed]:
    """Every message but end_of_track, in mido's playback order: by tick, then track, then position.

    This is the order of ``mido.merge_tracks`` (a stable sort by absolute tick
    of the tracks laid end to end), so times computed along it are the ones
    mido's own iteration gives.
    """
    placed: list[Placed] = []
    for track_number, track in enumerate(tracks):
        tick = 0
        for index, message in enumerate(track):
            tick += message.time
            if message.type != "end_of_track":
                placed.append(Placed(tick, track_number, index, message))
    placed.sort(key=lambda item: (item.tick, item.track, item.index))
    return placed


def seconds_along(messages: Sequence[Placed], ticks_per_beat: int,
                  initial_tempo: int = 500_000) -> list[float]:
    """Real time of each message, accumulated delta by delta exactly as mido's iteration does it."""
    seconds: list[float] = []
    tempo = initial_tempo
    now = 0.0
    previous_tick = 0
    for item in messages:
        delta = item.tick - previous_tick
        if delta > 0:
            now += mido.tick2second(delta, ticks_per_beat, tempo)
        previous_tick = item.tick
        seconds.append(now)
        if item.message.type == "set_tempo":
            tempo = item.message.tempo
    return seconds


def is_note_on(message: mido.Message | mido.MetaMessage) -> bool:
    return message.type == "note_on" and message.velocity > 0


def is_note_off(message: mido.Message | mido.MetaMessage) -> bool:
    return message.type == "note_off" or (message.type == "note_on" and message.velocity == 0)


@dataclass(frozen=True)
class MatchedNote:
    """A note of the file: positions (in the matched sequence) of its note-on and note-off (None: never closed)."""

    on: int
    off: int | None
    instrument: int
    channel: int
    pitch: int
    velocity: int


@dataclass
class Matching:
    notes: list[MatchedNote]
    """In the order of their note-ons."""
    unmatched_offs: list[int]
    """Positions of note-offs that found no open note (they are ignored, as the reference does)."""

    @property
    def unclosed(self) -> int:
        return sum(1 for note in self.notes if note.off is None)


def match_notes(messages: Sequence[mido.Message | mido.MetaMessage]) -> Matching:
    """Pair note-ons with note-offs the way the AMT reference does (see the module docstring)."""
    programs: dict[int, int] = defaultdict(int)
    open_notes: dict[tuple[int, int, int], deque[int]] = defaultdict(deque)
    found: list[list] = []  # [on, off, instrument, channel, pitch, velocity], off filled in later
    slot_of_position: dict[int, int] = {}
    unmatched: list[int] = []
    for position, message in enumerate(messages):
        kind = message.type
        if kind == "program_change":
            programs[message.channel] = message.program
        elif kind in ("note_on", "note_off"):
            channel = message.channel
            instrument = vocab.DRUMS if channel == vocab.DRUM_CHANNEL else programs[channel]
            key = (instrument, message.note, channel)
            if is_note_on(message):
                slot_of_position[position] = len(found)
                open_notes[key].append(position)
                found.append([position, None, instrument, channel, message.note, message.velocity])
            elif open_notes[key]:
                found[slot_of_position[open_notes[key].popleft()]][1] = position
            else:
                unmatched.append(position)
    return Matching([MatchedNote(*item) for item in found], unmatched)


class Lane:
    """The messages that decide how notes of one pitch on one channel are read: their note-ons and
    note-offs and the channel's program changes, in playback order, each tagged with what it is.

    ``expected`` holds the (note-on tag, note-off tag) pairs the lane must read as; a
    writer adds a message only when :meth:`reads_as_expected` stays true.
    """

    def __init__(self) -> None:
        self.keys: list[tuple] = []
        self.messages: list[mido.Message] = []
        self.tags: list[tuple] = []
        self.expected: set[tuple] = set()

    def add(self, key: tuple, message: mido.Message, tag: tuple) -> None:
        at = bisect.bisect(self.keys, key)
        self.keys.insert(at, key)
        self.messages.insert(at, message)
        self.tags.insert(at, tag)

    def remove(self, key: tuple) -> None:
        at = bisect.bisect_left(self.keys, key)
        del self.keys[at], self.messages[at], self.tags[at]

    def reads_as_expected(self, extra: tuple | None = None, instrument: int | None = None) -> bool:
        """True when FIFO matching pairs every note-on with the note-off it is meant to have."""
        matching = match_notes(self.messages)
        pairs = {(self.tags[n.on], None if n.off is None else self.tags[n.off]) for n in matching.notes}
        wanted = self.expected if extra is None else self.expected | {extra}
        if pairs != wanted:
            return False
        if instrument is not None and extra is not None:
            return any(self.tags[n.on] == extra[0] and n.instrument == instrument for n in matching.notes)
        return True

    def next_tick_after(self, tick: int) -> int | None:
        """The first tick after ``tick`` at which something of this lane happens."""
        at = bisect.bisect(self.keys, (tick, float("inf")))
        return self.keys[at][0] if at < len(self.keys) else None
