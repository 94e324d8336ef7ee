"""Shared pieces of the live-output tests: a private JACK server and independent receivers.

The receivers are third-party peers: a python-rtmidi JACK input and
``jack_midi_dump``; what they collect is judged by :func:`pair_notes` and
:func:`key_violations`, which know nothing of the player's internals.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter, defaultdict

from tests.jack_server import JackServer
from tests.peers import missing_peer

NOTE_ON, NOTE_OFF, CONTROL_CHANGE = 0x90, 0x80, 0xB0
ALL_NOTES_OFF = 123


def private_jack():
    """A module's JACK server (use as ``jack = pytest.fixture(scope="module", name="jack")(private_jack)``)."""
    reason = JackServer.available()
    if reason is not None:
        missing_peer(f"no MIDI backend for live tests: {reason}")
    server = JackServer()
    server.start()
    previous = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = server.name  # rtmidi's JACK clients in this process join it
    yield server
    if previous is None:
        os.environ.pop("JACK_DEFAULT_SERVER", None)
    else:
        os.environ["JACK_DEFAULT_SERVER"] = previous
    server.stop()


class Receiver:
    """A python-rtmidi JACK input connected to an output port, collecting (time, message)."""

    _count = 0

    def __init__(self, jack: JackServer, source: str | None = None):
        import rtmidi

        Receiver._count += 1
        self.jack = jack
        self.messages: list[tuple[float, list[int]]] = []
        self.lock = threading.Lock()
        self.client = f"receiver-{os.getpid()}-{Receiver._count}"  # unique: JACK renames clashing clients
        self.midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=self.client)
        self.midi_in.ignore_types(sysex=False, timing=True, active_sense=True)
        self.midi_in.set_callback(self._on_message)
        self.midi_in.open_virtual_port("in")
        jack.wait_for_port(f"{self.client}:in")
        if source is not None:
            self.connect(source)

    def connect(self, source: str) -> None:
        result = self.jack.run("jack_connect", source, f"{self.client}:in")
        assert result.returncode == 0, result.stderr

    def _on_message(self, event, data=None) -> None:
        message, _ = event
        with self.lock:
            self.messages.append((time.monotonic(), list(message)))

    def plain(self) -> list[list[int]]:
        with self.lock:
            return [m for _, m in self.messages]

    def sounding(self) -> int:
        """How many notes are sounding now, as this receiver heard it."""
        return sum(pair_notes(self.plain(), strict=False)[1].values())

    def count(self, status: int) -> int:
        return sum(1 for m in self.plain() if m[0] & 0xF0 == status and (status != NOTE_ON or m[2] > 0))

    def close(self) -> None:
        """Close the input; what it heard stays in ``messages``.

        Closing is a request to the JACK server, which can stall for a while after
        a client process died under it (its timeout): the test does not wait on it.
        """
        self.midi_in.cancel_callback()
        closer = threading.Thread(target=self.midi_in.close_port, daemon=True)
        closer.start()
        closer.join(5.0)


class MidiDump:
    """``jack_midi_dump`` connected to an output port: a second, independent receiver."""

    def __init__(self, jack: JackServer, source: str):
        self.process = subprocess.Popen(["jack_midi_dump", "-a"], env=jack.env(), stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        jack.wait_for_port("midi-monitor:input")
        assert jack.run("jack_connect", source, "midi-monitor:input").returncode == 0

    def stop(self) -> list[list[int]]:
        """The messages it printed ("time: 90 3c 64" lines), in order."""
        self.process.terminate()
        output, _ = self.process.communicate(timeout=5)
        messages = []
        for line in output.splitlines():
            if ":" not in line:
                continue
            message = []
            for field in line.split(":", 1)[1].split():
                if len(field) != 2 or any(c not in "0123456789abcdef" for c in field.lower()):
                    break  # the hex bytes come first, then jack_midi_dump's description
                message.append(int(field, 16))
            if message and message[0] >= 0x80:
                messages.append(message)
        return messages


def open_jack_output(jack: JackServer, name: str):
    from bridge.live.ports import open_output

    port = open_output(name, api="jack", client_name=f"bridge-{name}")
    jack.find_port(f":{port.name}")  # wait until JACK lists it
    return port


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def is_note_on(message: list[int]) -> bool:
    return message[0] & 0xF0 == NOTE_ON and message[2] > 0


def is_note_off(message: list[int]) -> bool:
    return message[0] & 0xF0 == NOTE_OFF or (message[0] & 0xF0 == NOTE_ON and message[2] == 0)


def pair_notes(messages: list[list[int]], *, strict: bool = True) -> tuple[list[tuple[int, int, int]], Counter]:
    """Pair note-ons with note-offs FIFO per (channel, pitch); returns played notes and unclosed counts.

    ``strict``: a note-off for a key that is not sounding fails the test.
    """
    open_notes: dict[tuple[int, int], list[int]] = defaultdict(list)
    played = []
    for message in messages:
        key = (message[0] & 0x0F, message[1]) if len(message) > 1 else None
        if is_note_on(message):
            open_notes[key].append(message[2])
        elif is_note_off(message):
            if not open_notes[key]:
                assert not strict, f"note-off without note-on: {message}"
                continue
            velocity = open_notes[key].pop(0)
            played.append((key[0], key[1], velocity))
    return played, Counter({k: len(v) for k, v in open_notes.items() if v})


def key_violations(messages: list[list[int]]) -> list[str]:
    """What a receiver cannot play cleanly: a note-on on a sounding key, a note-off on a silent one."""
    sounding: set[tuple[int, int]] = set()
    problems = []
    for index, message in enumerate(messages):
        if is_note_on(message):
            key = (message[0] & 0x0F, message[1])
            if key in sounding:
                problems.append(f"#{index}: note-on {message} on a key already sounding")
            sounding.add(key)
        elif is_note_off(message):
            key = (message[0] & 0x0F, message[1])
            if key not in sounding:
                problems.append(f"#{index}: note-off {message} for a key that is silent")
            sounding.discard(key)
        elif message[0] & 0xF0 == CONTROL_CHANGE and message[1] == ALL_NOTES_OFF:
            sounding = {k for k in sounding if k[0] != message[0] & 0x0F}
    return problems


def cut_by_all_notes_off(messages: list[list[int]]) -> list[str]:
    """All Notes Off that silenced a key still sounding on its channel (someone's note cut short).

    A job ends its own notes one by one before its All Notes Off, so a clean end
    never finds a key sounding; judged on the receiver's order alone, no timing.
    """
    sounding: set[tuple[int, int]] = set()
    problems = []
    for index, message in enumerate(messages):
        key = (message[0] & 0x0F, message[1])
        if is_note_on(message):
            sounding.add(key)
        elif is_note_off(message):
            sounding.discard(key)
        elif message[0] & 0xF0 == CONTROL_CHANGE and message[1] == ALL_NOTES_OFF:
            cut = sorted(k for k in sounding if k[0] == key[0])
            if cut:
                problems.append(f"#{index}: All Notes Off on channel {key[0] + 1} cut {cut}")
            sounding.difference_update(cut)
    return problems
