"""The daemon's live output: one MIDI port, a player per job, the DAW's transport.

The port opens on the first job that asks for live output and stays open (a
virtual port that comes and goes would make the DAW forget its routing).
Players that follow the transport wait for ``play`` with the song position;
``stop`` silences every player. Shutting down ends every note first. Jobs that
play at once share the port through one :class:`~bridge.live.voices.SharedPort`:
each gets its own channels, and one job's end silences only its own notes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bridge.amt.tempo import TempoMap
from bridge.live.player import LivePlayer
from bridge.live.ports import OpenPort, open_output
from bridge.live.voices import SharedPort

log = logging.getLogger(__name__)


class LiveOutput:
    """Owns the MIDI port and the players of running and playing jobs (thread-safe)."""

    def __init__(self, midi_config: Mapping[str, Any], opener: Callable[..., OpenPort] = open_output):
        self.config = midi_config
        self._opener = opener
        self._port: OpenPort | None = None
        self._shared: SharedPort | None = None
        self._players: list[LivePlayer] = []
        self._waiting: list[LivePlayer] = []
        self._finish_on_start: list[LivePlayer] = []  # done jobs whose players still wait for the transport
        self._lock = threading.Lock()
        self._closed = False

    @property
    def port_name(self) -> str | None:
        return self._port.name if self._port else None

    def _ensure_port(self) -> OpenPort:
        """Open the port once; raises MidiPortError with advice when it cannot be opened."""
        if self._port is None:
            self._port = self._opener(self.config["port_name"], connect_to=self.config.get("connect_to"),
                                      api=self.config.get("api", "auto"))
            self._shared = SharedPort(self._port)
            if self._port.renamed:
                log.warning("MIDI port name %s is in use by another program: live output on %s instead",
                            self._port.requested_name, self._port.name)
            log.info("live MIDI output on %s (%s)", self._port.name, self._port.api)
        return self._port

    def player(self, tempo: TempoMap, origin_beat: float, *, follow_transport: bool = False) -> LivePlayer:
        """A started player (or one waiting for the transport) for one job."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the live output is closed")
            port = self._ensure_port()
            player = LivePlayer(
                port, tempo, origin_beat=origin_beat, buffer_seconds=float(self.config["buffer_seconds"]),
                late_tolerance_seconds=float(self.config["late_tolerance_ms"]) / 1000.0,
                late_policy=self.config["late_policy"], port=self._shared,
            )
            self._players.append(player)
            if follow_transport:
                self._waiting.append(player)
            else:
                player.start()
            return player

    def finish(self, player: LivePlayer) -> None:
        """The job is done: let the player play out in the background, then forget it."""
        with self._lock:
            if player in self._waiting:
                self._finish_on_start.append(player)  # it plays out once the transport starts it
                return
        self._play_out(player)

    def _play_out(self, player: LivePlayer) -> None:
        def play_out() -> None:
            player.finish()
            with self._lock:
                if player in self._players:
                    self._players.remove(player)
        threading.Thread(target=play_out, name="live-play-out", daemon=True).start()

    def abort(self, player: LivePlayer) -> None:
        """Cancel or error: silence the player now."""
        with self._lock:
            if player in self._waiting:
                self._waiting.remove(player)
            if player in self._finish_on_start:
                self._finish_on_start.remove(player)
        player.stop()
        with self._lock:
            if player in self._players:
                self._players.remove(player)

    def transport(self, playing: bool, song_beat: float = 0.0) -> int:
        """The DAW started (at ``song_beat``) or stopped; returns how many players it affected."""
        with self._lock:
            if playing:
                waiting, self._waiting = self._waiting, []
                done = [p for p in waiting if p in self._finish_on_start]
                self._finish_on_start = [p for p in self._finish_on_start if p not in done]
                for player in waiting:
                    player.start(at=time.monotonic(), origin_beat=song_beat)  # the DAW plays that beat now
            else:
                players = list(self._players)
                self._waiting, self._finish_on_start = [], []
        if playing:
            for player in done:
                self._play_out(player)
            return len(waiting)
        for player in players:
            player.stop()
        with self._lock:
            self._players = [p for p in self._players if p not in players]
        return len(players)

    def close(self) -> None:
        """Shutdown: every sounding note ends, then the port closes."""
        with self._lock:
            self._closed = True
            players, self._players, self._waiting, self._finish_on_start = list(self._players), [], [], []
        for player in players:
            player.stop()
        if self._port is not None:
            self._port.close()
            self._port = None
            self._shared = None
