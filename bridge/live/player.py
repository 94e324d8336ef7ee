"""Play notes at their times on a monotonic clock while the model is still writing them.

Notes arrive from the engine's stream (any thread) and are played by one
scheduler thread, ``buffer_seconds`` after the start so that generation stays
ahead of playback. Every note-on gets exactly one note-off, scheduled when the
note-on is actually sent: a note that starts late (``late_policy: play``) still
sounds for its written length, and a zero-length note sounds for the note
model's minimum (:func:`bridge.amt.notes.with_min_length`) instead of having a
note-off at the same instant as its note-on. Channels and sounding keys belong
to a :class:`~bridge.live.voices.ChannelLease`, so players sharing a port never
end each other's notes; on stop, cancel, error or shutdown the player ends its
own sounding notes and sends All Notes Off on the channels only it holds.
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

from bridge.amt import vocab
from bridge.amt.notes import Note, with_min_length
from bridge.amt.tempo import TempoMap
from bridge.live.voices import MidiSink, SharedPort

log = logging.getLogger(__name__)

# At one instant: note-offs first, then program changes, then note-ons.
_OFF, _PROGRAM, _ON = 0, 1, 2


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


@dataclass(order=True)
class _Item:
    """One scheduled message: song seconds, then kind (offs before ons at one instant), then arrival."""

    at: float
    kind: int
    serial: int
    channel: int = field(compare=False)
    note: Note | None = field(compare=False, default=None)
    length: float = field(compare=False, default=0.0)  # seconds the note sounds, from its actual start
    program: int = field(compare=False, default=0)


class LivePlayer:
    """Schedules notes (beats on ``tempo``) to a MIDI sink in real time.

    ``port`` is the :class:`SharedPort` when several players share one output
    (the daemon's); without it the player has the sink to itself.
    """

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
        port: SharedPort | None = None,
    ):
        if late_policy not in ("play", "drop"):
            raise ValueError(f"late policy {late_policy!r} must be play or drop")
        self.tempo = tempo
        self.origin_beat = origin_beat
        self.buffer_seconds = buffer_seconds
        self.late_tolerance = late_tolerance_seconds
        self.late_policy = late_policy
        self.clock = clock
        self.stats = PlaybackStats()
        self._lease = (port or SharedPort(sink)).lease()
        self._origin_seconds = tempo.beats_to_seconds(origin_beat)
        self._start: float | None = None
        # Times are absolute song seconds so that the origin may still change when a player
        # waiting for the transport starts.
        self._heap: list[_Item] = []
        self._serial = itertools.count()
        self._programs_sent: set[int] = set()
        self._closed = False
        self._stopping = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="live-midi", daemon=True)
        self._error: BaseException | None = None

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

    @property
    def error(self) -> BaseException | None:
        """The first failure (a send that failed, the thread itself), or None."""
        return self._error or self._lease.error

    def add(self, note: Note) -> None:
        """Queue one note (thread-safe). Muted notes and notes before the origin are not played."""
        if note.mute:
            return
        with self._condition:
            if self._closed or self._stopping:
                return
            if note.start < self.origin_beat - 1e-9 and self.started:
                self.stats.notes_skipped_before_start += 1
                return
            channel = self._lease.channel_for(note.instrument)
            serial = next(self._serial)
            on_at = self.tempo.beats_to_seconds(note.start)
            sounding = with_min_length(note, self.tempo)
            length = self.tempo.beats_to_seconds(sounding.end) - on_at
            if note.instrument != vocab.DRUMS and note.instrument not in self._programs_sent:
                self._programs_sent.add(note.instrument)
                heapq.heappush(self._heap, _Item(on_at, _PROGRAM, serial, channel, program=note.instrument))
            heapq.heappush(self._heap, _Item(on_at, _ON, serial, channel, note, length))
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
        """Silence now (cancel, error, shutdown): end this player's notes, All Notes Off on its channels."""
        with self._condition:
            self._stopping = True
            self._heap.clear()
            self._condition.notify()
        if self._thread.ident is None:
            self._lease.release()  # never started: nothing sounds, but the channels go back
        elif threading.current_thread() is not self._thread:
            self._thread.join(5.0)  # the thread silences on its way out
            if self._thread.is_alive():  # a send blocked: release from here, the lease is thread-safe
                self._lease.release()

    @property
    def channels_used(self) -> list[int]:
        return self._lease.channels

    @property
    def channel_by_instrument(self) -> dict[int, int]:
        """Which channel each instrument of this job plays on."""
        return self._lease.channel_by_instrument

    # ----- internals -----------------------------------------------------------------------

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
                        due = self._start + self._heap[0].at - self._origin_seconds
                        wait = due - self.clock()
                        if wait <= 0:
                            item = heapq.heappop(self._heap)
                            break
                        self._condition.wait(min(wait, 0.5))
                self._play(item, due)
        except BaseException as error:  # pragma: no cover - last line of defence against stuck notes
            self._error = error
            log.exception("live player failed")
        finally:
            self._lease.release()

    def _play(self, item: _Item, due: float) -> None:
        if item.kind == _PROGRAM:
            self._lease.program_change(item.channel, item.program)
        elif item.kind == _OFF:
            self._lease.note_off(item.channel, item.note.pitch, item.serial)
        else:
            self._note_on(item, due)

    def _note_on(self, item: _Item, due: float) -> None:
        note = item.note
        if note.start < self.origin_beat - 1e-9:  # queued before a start at a later song position
            self.stats.notes_skipped_before_start += 1
            return
        late = self.clock() - due
        if late > self.late_tolerance:
            self.stats.notes_late += 1
            if self.late_policy == "drop":
                self.stats.notes_dropped += 1
                return
        velocity = min(127, max(1, int(round(note.velocity))))
        if self._lease.note_on(item.channel, note.pitch, velocity, item.serial):
            self.stats.retriggers += 1
        sent = self.clock()
        self.stats.onset_errors.append(sent - due)
        self.stats.notes_played += 1
        # The note-off follows the note-on it ends by the written length, however late the start.
        off_at = item.at + max(0.0, sent - due) + item.length
        with self._condition:
            heapq.heappush(self._heap, _Item(off_at, _OFF, item.serial, item.channel, note))
