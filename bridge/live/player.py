"""Play notes at their times on a monotonic clock while the model is still writing them.

Notes arrive from the engine's stream (any thread) and are played by one
scheduler thread, ``buffer_seconds`` after the start so that generation stays
ahead of playback. Every note-on gets exactly one note-off: when a note starts
on a pitch that is still sounding on its channel, the older note is ended first
(MIDI cannot hold one pitch twice on a channel); on stop, cancel, error or
shutdown every sounding note is ended and All Notes Off goes to each channel used.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bridge.amt import vocab
from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap

log = logging.getLogger(__name__)

NOTE_ON, NOTE_OFF, CONTROL_CHANGE, PROGRAM_CHANGE = 0x90, 0x80, 0xB0, 0xC0
ALL_NOTES_OFF = 123
_MELODIC_CHANNELS = tuple(c for c in range(16) if c != vocab.DRUM_CHANNEL)

# At one instant: note-offs first, then program changes, then note-ons.
_OFF, _PROGRAM, _ON = 0, 1, 2


class MidiSink(Protocol):
    def send(self, message: list[int]) -> None: ...


@dataclass
class PlaybackStats:
    """What happened to the notes: counts and the timing error of each note-on (seconds)."""

    notes_played: int = 0
    notes_late: int = 0
    notes_dropped: int = 0
    notes_skipped_before_start: int = 0
    retriggers: int = 0
    onset_errors: list[float] = field(default_factory=list)

    def error_percentiles(self) -> tuple[float, float]:
        """(median, 99th percentile) of |actual - scheduled| onset in seconds."""
        if not self.onset_errors:
            return 0.0, 0.0
        values = sorted(abs(e) for e in self.onset_errors)
        p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
        return statistics.median(values), p99


class LivePlayer:
    """Schedules notes (beats on ``tempo``) to a MIDI sink in real time."""

    def __init__(
        self,
        sink: MidiSink,
        tempo: TempoMap,
        *,
        origin_beat: float = 0.0,
        buffer_seconds: float = 1.0,
        late_tolerance_seconds: float = 0.02,
        late_policy: str = "play",
        clock: Callable[[], float] = time.monotonic,
    ):
        if late_policy not in ("play", "drop"):
            raise ValueError(f"late policy {late_policy!r} must be play or drop")
        self.sink = sink
        self.tempo = tempo
        self.origin_beat = origin_beat
        self.buffer_seconds = buffer_seconds
        self.late_tolerance = late_tolerance_seconds
        self.late_policy = late_policy
        self.clock = clock
        self.stats = PlaybackStats()
        self._origin_seconds = tempo.beats_to_seconds(origin_beat)
        self._start: float | None = None
        # (song seconds, kind, serial, channel, note, program): times are absolute so that the
        # origin may still change when a player waiting for the transport starts.
        self._heap: list[tuple[float, int, int, int, Note | None, int]] = []
        self._serial = itertools.count()
        self._channels: dict[int, int] = {}
        self._programs_sent: set[int] = set()
        self._sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> serial of the note holding it
        self._dropped: set[int] = set()
        self._closed = False
        self._stopping = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="live-midi", daemon=True)
        self.error: BaseException | None = None

    # ----- public --------------------------------------------------------------------------

    def start(self, at: float | None = None, *, origin_beat: float | None = None) -> None:
        """Start the clock: ``origin_beat`` sounds at monotonic time ``at`` (default: now + buffer).

        Notes may be added before the start (a player that waits for the DAW's
        transport); ``origin_beat`` given here (the song position where the user
        pressed play) replaces the one given at construction, and notes that
        start before it are not played.
        """
        with self._condition:
            if origin_beat is not None:
                self.origin_beat = origin_beat
                self._origin_seconds = self.tempo.beats_to_seconds(origin_beat)
            self._start = at if at is not None else self.clock() + self.buffer_seconds
        self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def add(self, note: Note) -> None:
        """Queue one note (thread-safe). Muted notes and notes before the origin are not played."""
        if note.mute:
            return
        channel = self._channel_for(note.instrument)
        serial = next(self._serial)
        on_at = self.tempo.beats_to_seconds(note.start)
        off_at = max(on_at, self.tempo.beats_to_seconds(note.end))
        with self._condition:
            if self._closed or self._stopping:
                return
            if note.start < self.origin_beat - 1e-9 and self.started:
                self.stats.notes_skipped_before_start += 1
                return
            if note.instrument != vocab.DRUMS and note.instrument not in self._programs_sent:
                self._programs_sent.add(note.instrument)
                heapq.heappush(self._heap, (on_at, _PROGRAM, serial, channel, None, note.instrument))
            heapq.heappush(self._heap, (on_at, _ON, serial, channel, note, 0))
            heapq.heappush(self._heap, (off_at, _OFF, serial, channel, note, 0))
            self._condition.notify()

    def finish(self, timeout: float | None = None) -> bool:
        """No more notes will come: play out what is queued; True when done within ``timeout``."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """Silence now (cancel, error, shutdown): end every sounding note, All Notes Off on used channels."""
        with self._condition:
            self._stopping = True
            self._heap.clear()
            self._condition.notify()
        if self._thread.ident is None:
            self._silence()  # never started: nothing can be sounding, but be explicit on the channels
        elif threading.current_thread() is not self._thread:
            self._thread.join(5.0)  # the thread silences on its way out

    @property
    def channels_used(self) -> list[int]:
        return sorted(set(self._channels.values()))

    # ----- internals -----------------------------------------------------------------------

    def _channel_for(self, instrument: int) -> int:
        if instrument not in self._channels:
            if instrument == vocab.DRUMS:
                self._channels[instrument] = vocab.DRUM_CHANNEL
            else:
                melodic = sum(1 for i in self._channels if i != vocab.DRUMS)
                if melodic >= len(_MELODIC_CHANNELS):
                    log.warning("more than 15 pitched instruments: instrument %d shares a channel", instrument)
                self._channels[instrument] = _MELODIC_CHANNELS[melodic % len(_MELODIC_CHANNELS)]
        return self._channels[instrument]

    def _silence(self) -> None:
        sounding, self._sounding = list(self._sounding), {}
        for channel, pitch in sounding:
            self._send([NOTE_OFF | channel, pitch, 0])
        for channel in self.channels_used:
            self._send([CONTROL_CHANGE | channel, ALL_NOTES_OFF, 0])

    def _send(self, message: list[int]) -> None:
        try:
            self.sink.send(message)
        except Exception as error:  # a vanished port must not leave the thread dead with notes on
            log.error("MIDI send failed: %s", error)
            self.error = error

    def _run(self) -> None:
        try:
            while True:
                with self._condition:
                    while True:
                        if self._stopping:
                            return
                        if not self._heap:
                            if self._closed:
                                return
                            self._condition.wait(0.5)
                            continue
                        due = self._start + self._heap[0][0] - self._origin_seconds
                        wait = due - self.clock()
                        if wait <= 0:
                            item = heapq.heappop(self._heap)
                            break
                        self._condition.wait(min(wait, 0.5))
                self._play(item, due)
        except BaseException as error:  # pragma: no cover - last line of defence against stuck notes
            self.error = error
            log.exception("live player failed")
        finally:
            self._silence()

    def _play(self, item: tuple, due: float) -> None:
        _, kind, serial, channel, note, program = item
        if kind == _PROGRAM:
            self._send([PROGRAM_CHANGE | channel, program])
            return
        if kind == _ON:
            if note.start < self.origin_beat - 1e-9:  # queued before a start at a later song position
                self.stats.notes_skipped_before_start += 1
                self._dropped.add(serial)
                return
            late = self.clock() - due
            if late > self.late_tolerance:
                self.stats.notes_late += 1
                if self.late_policy == "drop":
                    self.stats.notes_dropped += 1
                    self._dropped.add(serial)
                    return
            key = (channel, note.pitch)
            if key in self._sounding:
                self.stats.retriggers += 1
                self._send([NOTE_OFF | channel, note.pitch, 0])
            velocity = min(127, max(1, int(round(note.velocity))))
            self._send([NOTE_ON | channel, note.pitch, velocity])
            self.stats.onset_errors.append(self.clock() - due)
            self.stats.notes_played += 1
            self._sounding[key] = serial
            return
        if serial in self._dropped:
            self._dropped.discard(serial)
            return
        key = (channel, note.pitch)
        if self._sounding.get(key) == serial:
            del self._sounding[key]
            self._send([NOTE_OFF | channel, note.pitch, 0])
