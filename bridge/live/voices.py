"""One MIDI port shared by several live jobs: who holds which channel and which sounding key.

Two jobs that play at once (Generate pressed twice, two devices on one daemon)
must never step on each other. Each job takes a :class:`ChannelLease`: its
pitched instruments get channels no other running job holds, so its program
changes and its All Notes Off reach only its own notes. Drums stay on channel
10 (General MIDI), which two jobs may then share; for that case (and for more
than 15 pitched instruments at once) every sounding key has one owner on the
whole port: a note-on on a key someone holds ends that note first, and a
note-off is sent only by the note that still holds the key. All state changes
and the messages they cause happen under one lock, so two player threads can
never interleave a check and a send.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Protocol

from bridge.amt import vocab

log = logging.getLogger(__name__)

NOTE_ON, NOTE_OFF, CONTROL_CHANGE, PROGRAM_CHANGE = 0x90, 0x80, 0xB0, 0xC0
ALL_NOTES_OFF = 123
MELODIC_CHANNELS = tuple(c for c in range(16) if c != vocab.DRUM_CHANNEL)


class MidiSink(Protocol):
    def send(self, message: list[int]) -> None: ...


class SharedPort:
    """The channels and sounding keys of one MIDI output, for every lease on it (thread-safe)."""

    def __init__(self, sink: MidiSink):
        self.sink = sink
        self._lock = threading.RLock()
        self._holders: dict[int, set[int]] = {}  # channel -> ids of the leases holding it
        self._keys: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (lease id, note token)
        self._ids = itertools.count(1)

    def lease(self) -> ChannelLease:
        """Channels and keys for one job; release it when the job's playback ends."""
        return ChannelLease(self, next(self._ids))

    def held_channels(self) -> dict[int, int]:
        """How many leases hold each channel (for tests and logs)."""
        with self._lock:
            return {channel: len(ids) for channel, ids in self._holders.items() if ids}

    # ----- used by leases, under the lock ----------------------------------------------------

    def _claim(self, lease_id: int, drums: bool) -> int:
        if drums:
            channel = vocab.DRUM_CHANNEL
        else:
            free = [c for c in MELODIC_CHANNELS if not self._holders.get(c)]
            if free:
                channel = free[0]
            else:
                channel = min(MELODIC_CHANNELS, key=lambda c: len(self._holders.get(c, ())))
                log.warning("more than 15 pitched instruments play at once: channel %d is shared", channel + 1)
        self._holders.setdefault(channel, set()).add(lease_id)
        return channel

    def _send(self, message: list[int]) -> BaseException | None:
        try:
            self.sink.send(message)
        except Exception as error:  # a vanished port must not leave a player thread dead with notes on
            log.error("MIDI send failed: %s", error)
            return error
        return None


class ChannelLease:
    """One job's channels and sounding keys on a :class:`SharedPort`."""

    def __init__(self, port: SharedPort, lease_id: int):
        self._port = port
        self._id = lease_id
        self._channels: dict[int, int] = {}  # instrument -> channel
        self._released = False
        self.error: BaseException | None = None

    @property
    def channels(self) -> list[int]:
        return sorted(set(self._channels.values()))

    @property
    def channel_by_instrument(self) -> dict[int, int]:
        with self._port._lock:
            return dict(self._channels)

    def channel_for(self, instrument: int) -> int:
        """The channel this job plays ``instrument`` on (claimed on first use)."""
        with self._port._lock:
            if instrument not in self._channels:
                pitched_here = sum(1 for i in self._channels if i != vocab.DRUMS)
                if instrument != vocab.DRUMS and pitched_here >= len(MELODIC_CHANNELS):
                    # This job alone has more than 15 pitched instruments: reuse one of its own channels.
                    mine = [c for i, c in self._channels.items() if i != vocab.DRUMS]
                    self._channels[instrument] = mine[pitched_here % len(mine)]
                    log.warning("more than 15 pitched instruments: instrument %d shares a channel", instrument)
                else:
                    self._channels[instrument] = self._port._claim(self._id, instrument == vocab.DRUMS)
            return self._channels[instrument]

    def program_change(self, channel: int, program: int) -> None:
        with self._port._lock:
            if not self._released:
                self._record(self._port._send([PROGRAM_CHANGE | channel, program]))

    def note_on(self, channel: int, pitch: int, velocity: int, token: int) -> bool:
        """Start a note; True when the key was sounding and had to be ended first (a retrigger)."""
        port = self._port
        with port._lock:
            if self._released:
                return False
            key = (channel, pitch)
            retrigger = key in port._keys
            if retrigger:
                self._record(port._send([NOTE_OFF | channel, pitch, 0]))
            self._record(port._send([NOTE_ON | channel, pitch, velocity]))
            port._keys[key] = (self._id, token)
            return retrigger

    def note_off(self, channel: int, pitch: int, token: int) -> None:
        """End the note ``token`` if it still holds its key (a later note-on may have taken it)."""
        port = self._port
        with port._lock:
            key = (channel, pitch)
            if port._keys.get(key) == (self._id, token):
                del port._keys[key]
                self._record(port._send([NOTE_OFF | channel, pitch, 0]))

    def release(self) -> None:
        """End every note of this job, All Notes Off on the channels no other job holds, free them."""
        port = self._port
        with port._lock:
            if self._released:
                return
            self._released = True
            for key, (owner, _) in list(port._keys.items()):
                if owner == self._id:
                    del port._keys[key]
                    self._record(port._send([NOTE_OFF | key[0], key[1], 0]))
            for channel in self.channels:
                holders = port._holders.get(channel, set())
                holders.discard(self._id)
                if not holders:
                    self._record(port._send([CONTROL_CHANGE | channel, ALL_NOTES_OFF, 0]))

    def _record(self, error: BaseException | None) -> None:
        if error is not None:
            self.error = error
