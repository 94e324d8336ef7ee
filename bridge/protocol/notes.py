"""Notes as flat OSC atoms, and clips split into numbered chunks that fit a datagram.

One note is seven atoms, in the DAW's terms::

    pitch(i) start(f) duration(f) velocity(f) mute(i) instrument(i) channel(i)

``start`` and ``duration`` are in beats (quarter notes) or, when the request
says ``units seconds``, in seconds. ``instrument`` is a General MIDI program
0-127 or 128 for drums; -1 means "take it from the channel" (channel 9, MIDI
channel 10, is drums; any other channel uses the request's ``program``).
``channel`` is 0-15, or -1 when the DAW has none (Live clips).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.protocol import MAX_ATOMS, NOTES_PER_CHUNK
from bridge.protocol.errors import BAD_REQUEST, ProtocolError
from bridge.protocol.osc import Double, encode_message

NOTE_ATOMS = 7
FIELDS = ("pitch", "start", "duration", "velocity", "mute", "instrument", "channel")
DRUMS = 128
DRUM_CHANNEL = 9

RawNote = tuple[int, float, float, float, bool, int, int]
"""A validated note as it came off the wire (units not yet converted)."""


def _bad(where: str, field: str, value: Any, rule: str) -> ProtocolError:
    return ProtocolError(BAD_REQUEST, f"{where}: {field} {value!r} {rule}")


def as_int(value: Any, where: str, field: str, low: int, high: int) -> int:
    """An integer in [low, high]; integral floats (Max sends 60. for 60) are accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, field, value, "is not a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise _bad(where, field, value, "is not a whole number")
        value = int(value)
    if not low <= value <= high:
        raise _bad(where, field, value, f"must be {low}..{high}")
    return value


def as_float(value: Any, where: str, field: str, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite number in [low, high] (NaN and infinities are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, field, value, "is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise _bad(where, field, value, "is not a finite number")
    if not low <= value <= high:
        raise _bad(where, field, value, f"must be {low:g}..{high:g}")
    return value


def as_flag(value: Any, where: str, field: str) -> bool:
    if isinstance(value, bool):
        return value
    return bool(as_int(value, where, field, 0, 1))


def parse_note_atoms(atoms: Sequence[Any], where: str) -> list[RawNote]:
    """Validate a flat list of note atoms (a multiple of seven)."""
    if len(atoms) % NOTE_ATOMS:
        raise ProtocolError(
            BAD_REQUEST,
            f"{where}: {len(atoms)} values is not a whole number of notes (each note is {NOTE_ATOMS} values: "
            + ", ".join(FIELDS) + ")",
        )
    notes: list[RawNote] = []
    for first in range(0, len(atoms), NOTE_ATOMS):
        pitch, start, duration, velocity, mute, instrument, channel = atoms[first : first + NOTE_ATOMS]
        at = f"{where}, note {first // NOTE_ATOMS + 1}"
        notes.append((
            as_int(pitch, at, "pitch", 0, 127),
            as_float(start, at, "start", 0.0),
            as_float(duration, at, "duration", 0.0),
            as_float(velocity, at, "velocity", 0.0, 127.0),
            as_flag(mute, at, "mute"),
            as_int(instrument, at, "instrument", -1, DRUMS),
            as_int(channel, at, "channel", -1, 15),
        ))
    return notes


def raw_to_note(raw: RawNote, *, tempo: TempoMap, seconds: bool, program: int) -> Note:
    """The engine's note (beats) for a wire note."""
    pitch, start, duration, velocity, mute, instrument, channel = raw
    if instrument < 0:
        instrument = DRUMS if channel == DRUM_CHANNEL else program
    if seconds:
        begin = tempo.seconds_to_beats(start)
        duration = max(0.0, tempo.seconds_to_beats(start + duration) - begin)
        start = begin
    return Note(pitch, start, duration, velocity, instrument, mute, None if channel < 0 else channel)


def note_to_atoms(note: Note, *, tempo: TempoMap | None = None, seconds: bool = False,
                  doubles: bool = False) -> list[Any]:
    """Seven atoms for one note (beats, or seconds through ``tempo``)."""
    start, duration = note.start, note.duration
    if seconds:
        if tempo is None:
            raise ValueError("seconds need a tempo map")
        begin = tempo.beats_to_seconds(note.start)
        duration = tempo.beats_to_seconds(note.end) - begin
        start = begin
    number = Double if doubles else float
    channel = -1 if note.channel is None else note.channel
    return [note.pitch, number(start), number(duration), float(note.velocity), int(bool(note.mute)),
            note.instrument, channel]


def raw_to_atoms(raw: RawNote) -> list[Any]:
    pitch, start, duration, velocity, mute, instrument, channel = raw
    return [pitch, float(start), float(duration), float(velocity), int(mute), instrument, channel]


def atoms_to_note(atoms: Sequence[Any]) -> Note:
    """A note from seven atoms of a reply (client side; beats or seconds as the request asked)."""
    pitch, start, duration, velocity, mute, instrument, channel = atoms
    return Note(int(pitch), float(start), max(0.0, float(duration)), float(velocity), int(instrument),
                bool(mute), None if int(channel) < 0 else int(channel))


def encode_chunks(address: str, header: Sequence[Any], notes_atoms: Sequence[Sequence[Any]], *,
                  max_bytes: int, per_chunk: int = NOTES_PER_CHUNK, total_in_header: bool = False) -> list[bytes]:
    """Messages ``address header... chunk chunks [count] notes...``, each under ``max_bytes`` and 256 atoms.

    With ``total_in_header`` the note count of the whole clip follows ``chunks``
    (the daemon's /result layout). At least one message is produced, even for
    no notes, so the receiver learns that the clip is empty.
    """
    fixed = len(header) + 2 + (1 if total_in_header else 0)
    per_chunk = max(1, min(per_chunk, (MAX_ATOMS - fixed) // NOTE_ATOMS))
    while True:
        groups = [notes_atoms[i : i + per_chunk] for i in range(0, len(notes_atoms), per_chunk)] or [[]]
        messages = []
        for index, group in enumerate(groups):
            args: list[Any] = [*header, index, len(groups)]
            if total_in_header:
                args.append(len(notes_atoms))
            for atoms in group:
                args.extend(atoms)
            messages.append(encode_message(address, args))
        if max(len(m) for m in messages) <= max_bytes:
            return messages
        if per_chunk == 1:
            raise ValueError(f"one note does not fit a {max_bytes}-byte datagram with this header")
        per_chunk = max(1, per_chunk * max_bytes // max(len(m) for m in messages) - 1)


def sorted_notes(notes: Sequence[Note]) -> list[Note]:
    return sorted(notes, key=lambda n: (n.start, n.pitch, n.instrument))

