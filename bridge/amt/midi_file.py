"""Standard MIDI files in and out, the way the model was trained to read them.

Reading follows the AMT facts to the letter (real time honouring tempo changes,
program changes per channel, channel 10 as drums, FIFO note-off matching,
250 ms for notes never closed, durations capped at 9.99 s), so that the events
of a file are exactly the ones the reference tokenizer produces. Writing makes
a type 1 file any DAW opens: a conductor track with tempo and meter, then one
track per instrument.
"""

from __future__ import annotations

import io
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mido

from bridge.amt import vocab
from bridge.amt.gm import instrument_name
from bridge.amt.midi_stream import Matching, Placed, match_notes, seconds_along, timeline
from bridge.amt.notes import DEFAULT_VELOCITY, Note, seconds_to_ticks
from bridge.amt.tempo import TempoChange, TempoMap, TimeSignature

DEFAULT_TICKS_PER_BEAT = 480
DEFAULT_MIDI_TEMPO = 500_000  # microseconds per beat (120 bpm), the MIDI default


class MidiFileError(ValueError):
    """A file that cannot be read as MIDI, with a sentence that says why."""


@dataclass
class MidiContent:
    """What a MIDI file holds, in both the model's and the DAW's terms.

    ``events`` are exactly the reference tokenizer's events (ticks of 10 ms,
    velocities kept alongside). ``notes`` are the same notes in beats with
    their full durations, for writing back unchanged.
    """

    events: list[vocab.Event]
    notes: list[Note]
    tempo: TempoMap
    time_signature: TimeSignature
    ticks_per_beat: int
    unclosed_notes: int = 0
    unmatched_note_offs: int = 0
    warnings: list[str] = field(default_factory=list)
    midi: mido.MidiFile | None = field(default=None, repr=False, compare=False)
    """The parsed file itself (None for content that did not come from a file)."""
    placed: list[Placed] = field(default_factory=list, repr=False, compare=False)
    """Every message of the file in playback order; ``matching`` indexes into it."""
    matching: Matching | None = field(default=None, repr=False, compare=False)
    """Where each note's note-on and note-off are: ``matching.notes[i]`` is ``notes[i]``."""

    @property
    def end_seconds(self) -> float:
        if not self.notes:
            return 0.0
        return max(self.tempo.beats_to_seconds(n.end) for n in self.notes)


def _open(source: str | os.PathLike[str] | bytes) -> mido.MidiFile:
    try:
        if isinstance(source, (bytes, bytearray)):
            return mido.MidiFile(file=io.BytesIO(source))
        return mido.MidiFile(os.fspath(source))
    except FileNotFoundError:
        raise MidiFileError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise MidiFileError(f"{source}: is a folder, not a MIDI file") from None
    except PermissionError:
        raise MidiFileError(f"{source}: permission denied") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, mido.KeySignatureError) as error:
        name = "data" if isinstance(source, (bytes, bytearray)) else str(source)
        reason = str(error) or ("it is empty or ends too early" if isinstance(error, EOFError) else
                                type(error).__name__)
        raise MidiFileError(f"{name}: not a readable standard MIDI file ({reason}); export it again from your DAW "
                            "as a standard MIDI file (.mid, type 0 or 1)") from None


def read_midi(source: str | os.PathLike[str] | bytes) -> MidiContent:
    """Read a standard MIDI file (path or bytes) into events and notes.

    The parsed file and where each note's note-on and note-off sit are kept in
    the result, so that a merged file can be written from the file itself.
    """
    midi = _open(source)
    if midi.type == 2:
        raise MidiFileError("type 2 MIDI files (independent patterns) have no single timeline; save as type 0 or 1")
    if midi.ticks_per_beat <= 0:
        raise MidiFileError(f"ticks per beat {midi.ticks_per_beat} is not usable (SMPTE timing is not supported)")
    tpb = midi.ticks_per_beat
    if any(message.time < 0 for track in midi.tracks for message in track):
        raise MidiFileError("not a readable standard MIDI file (negative delta time)")

    placed = timeline(midi.tracks)
    tempo_changes: list[TempoChange] = [TempoChange(0.0, 60_000_000 / DEFAULT_MIDI_TEMPO)]
    signature: TimeSignature | None = None
    for item in placed:
        message = item.message
        if message.type == "set_tempo":
            if message.tempo <= 0:
                raise MidiFileError("set_tempo of 0 microseconds per beat is not a tempo")
            tempo_changes.append(TempoChange(item.tick / tpb, 60_000_000 / message.tempo))
        elif message.type == "time_signature" and signature is None:
            try:
                signature = TimeSignature(message.numerator, message.denominator)
            except ValueError:
                signature = None
    seconds = seconds_along(placed, tpb, DEFAULT_MIDI_TEMPO)
    matching = match_notes([item.message for item in placed])

    try:
        tempo = TempoMap(tuple(tempo_changes))
    except ValueError as error:
        raise MidiFileError(f"unsupported tempo in file ({error})") from None
    events: list[vocab.Event] = []
    notes: list[Note] = []
    for matched in matching.notes:
        on_seconds = seconds[matched.on]
        if matched.off is None:
            duration = vocab.DEFAULT_UNCLOSED_DURATION
            end = tempo.seconds_to_beats(on_seconds + vocab.DEFAULT_UNCLOSED_DURATION / vocab.TICKS_PER_SECOND)
        else:
            duration = seconds_to_ticks(seconds[matched.off] - on_seconds)
            end = placed[matched.off].tick / tpb
        events.append(vocab.Event(seconds_to_ticks(on_seconds), min(duration, vocab.MAX_DURATION - 1),
                                  matched.instrument, matched.pitch, matched.velocity))
        start = placed[matched.on].tick / tpb
        channel = vocab.DRUM_CHANNEL if matched.instrument == vocab.DRUMS else None
        notes.append(
            Note(
                pitch=matched.pitch,
                start=start,
                duration=max(0.0, end - start),
                velocity=matched.velocity or DEFAULT_VELOCITY,
                instrument=matched.instrument,
                channel=channel,
            )
        )
    unclosed, unmatched = matching.unclosed, len(matching.unmatched_offs)
    warnings = []
    if unclosed:
        warnings.append(f"{unclosed} note(s) never ended; they last 250 ms")
    if unmatched:
        warnings.append(f"{unmatched} note-off(s) without a matching note-on were ignored")
    return MidiContent(
        events=events,
        notes=notes,
        tempo=tempo,
        time_signature=signature or TimeSignature(),
        ticks_per_beat=tpb,
        unclosed_notes=unclosed,
        unmatched_note_offs=unmatched,
        warnings=warnings,
        midi=midi,
        placed=placed,
        matching=matching,
    )


_MELODIC_CHANNELS = tuple(c for c in range(16) if c != vocab.DRUM_CHANNEL)


def assign_channels(instruments: Sequence[int]) -> dict[int, int]:
    """One MIDI channel per instrument: drums on channel 10, the others in order.

    More than 15 melodic instruments cannot each have a channel; the extra ones
    share channels (their tracks still carry the right program change).
    """
    channels: dict[int, int] = {}
    melodic = 0
    for instrument in instruments:
        if instrument in channels:
            continue
        if instrument == vocab.DRUMS:
            channels[instrument] = vocab.DRUM_CHANNEL
        else:
            channels[instrument] = _MELODIC_CHANNELS[melodic % len(_MELODIC_CHANNELS)]
            melodic += 1
    return channels


def _tempo_track(tempo: TempoMap, signature: TimeSignature, tpb: int, name: str) -> mido.MidiTrack:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    track.append(
        mido.MetaMessage(
            "time_signature", numerator=signature.numerator, denominator=signature.denominator, time=0
        )
    )
    last = 0
    for change in tempo.changes:
        at = round(change.beat * tpb)
        track.append(mido.MetaMessage("set_tempo", tempo=round(60_000_000 / change.bpm), time=at - last))
        last = at
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _velocity(value: float) -> int:
    # A note-on with velocity 0 is a note-off: never write one for a real note.
    return min(127, max(1, int(round(value))))


def _instrument_track(notes: Sequence[Note], instrument: int, channel: int, tpb: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=instrument_name(instrument), time=0))
    if instrument != vocab.DRUMS:
        track.append(mido.Message("program_change", channel=channel, program=instrument, time=0))
    # (tick, order, message): at one tick, note-offs of earlier notes come first,
    # then note-ons, then the note-offs of zero-length notes that start there.
    timeline: list[tuple[int, int, int, mido.Message]] = []
    for serial, note in enumerate(notes):
        on = round(note.start * tpb)
        off = max(on, round(note.end * tpb))
        timeline.append((on, 1, serial, mido.Message("note_on", channel=channel, note=note.pitch,
                                                      velocity=_velocity(note.velocity))))
        timeline.append((off, 2 if off == on else 0, serial,
                         mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
    timeline.sort(key=lambda item: (item[0], item[1], item[2]))
    last = 0
    for at, _, _, message in timeline:
        track.append(message.copy(time=at - last))
        last = at
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def build_midi(
    notes: Sequence[Note],
    tempo: TempoMap,
    time_signature: TimeSignature | None = None,
    *,
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
    title: str = "midi-llm-bridge",
) -> mido.MidiFile:
    """A type 1 MIDI file: conductor track, then one track per instrument.

    Muted notes are left out (a MIDI file has no mute); velocities are kept.
    """
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(_tempo_track(tempo, time_signature or TimeSignature(), ticks_per_beat, title))
    audible = [n for n in notes if not n.mute]
    by_instrument: dict[int, list[Note]] = defaultdict(list)
    for note in sorted(audible, key=lambda n: n.start):
        by_instrument[note.instrument].append(note)
    order = sorted(by_instrument, key=lambda i: (i == vocab.DRUMS, i))
    channels = assign_channels(order)
    for instrument in order:
        midi.tracks.append(_instrument_track(by_instrument[instrument], instrument, channels[instrument], ticks_per_beat))
    return midi


def save_midi_file(midi: mido.MidiFile, path: str | os.PathLike[str]) -> Path:
    """Save a file whole: written to a temporary name next to it, then renamed, so nobody reads half a file."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        midi.save(os.fspath(temporary))
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise MidiFileError(f"cannot write {target}: {error.strerror or error}") from None
    return target


def write_midi(path: str | os.PathLike[str], notes: Sequence[Note], tempo: TempoMap,
               time_signature: TimeSignature | None = None, **options: object) -> Path:
    """Write :func:`build_midi`'s file to ``path`` and return the path."""
    return save_midi_file(build_midi(notes, tempo, time_signature, **options), path)  # type: ignore[arg-type]


def midi_bytes(notes: Sequence[Note], tempo: TempoMap, time_signature: TimeSignature | None = None) -> bytes:
    """The same file as bytes (for sending over the wire)."""
    buffer = io.BytesIO()
    build_midi(notes, tempo, time_signature).save(file=buffer)
    return buffer.getvalue()
