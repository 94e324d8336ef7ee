"""Open the MIDI output the live player writes to, or explain why it cannot be opened.

Virtual ports exist with CoreMIDI (macOS), ALSA and JACK (Linux). Windows has
none: users create one with loopMIDI and name it in ``midi.connect_to``. In a
container without ``/dev/snd/seq`` ALSA fails; JACK (with any driver) works.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class MidiPortError(RuntimeError):
    """No MIDI output could be opened; the message says what to do."""


JACK_DRAIN_SECONDS = 0.25
CLOSE_WAIT_SECONDS = 5.0
"""How long closing a port may take before the caller goes on (a stalled JACK server)."""
"""Longer than a few JACK periods (1,024 frames at 44.1 kHz is 23 ms), so that the ring buffer is empty."""

_API_NAMES = {"alsa": "API_LINUX_ALSA", "jack": "API_UNIX_JACK", "coremidi": "API_MACOSX_CORE",
              "windows_mm": "API_WINDOWS_MM"}


@dataclass
class OpenPort:
    midi_out: Any
    api: str
    name: str
    virtual: bool
    requested_name: str | None = None  # the name asked for, when another port already had it

    @property
    def renamed(self) -> bool:
        return self.requested_name is not None and self.requested_name != self.name

    def send(self, message: list[int]) -> None:
        if self.midi_out is None:
            raise MidiPortError(f"the MIDI port {self.name} is closed")
        self.midi_out.send_message(message)

    def close(self) -> None:
        """Close the port, after the messages already sent (the last note-offs) have left it.

        JACK hands messages to the server from a ring buffer once per period;
        closing the port (or exiting) right after a send drops what is still in
        it, so the final note-offs would never arrive. ALSA and CoreMIDI deliver
        on send.
        """
        if self.midi_out is None:
            return
        if self.api == "jack":
            time.sleep(JACK_DRAIN_SECONDS)
        midi_out, self.midi_out = self.midi_out, None
        # Closing asks the MIDI server, and a JACK server can stall on it (for its client timeout, after
        # another client died under it): close in the background and wait a bounded time, so that no
        # stop, shutdown or test hangs on it; the port goes at the latest when this process ends.
        closer = threading.Thread(target=_close_quietly, args=(midi_out,), name="midi-port-close", daemon=True)
        closer.start()
        closer.join(CLOSE_WAIT_SECONDS)
        if closer.is_alive():
            log.warning("the MIDI server did not confirm closing port %s within %.0f s; going on", self.name,
                        CLOSE_WAIT_SECONDS)


def _close_quietly(midi_out: Any) -> None:
    try:
        midi_out.close_port()
    except Exception as error:  # noqa: BLE001 - a port that cannot close is gone with the process anyway
        log.debug("closing the MIDI port failed: %s", error)
    finally:
        del midi_out  # a virtual port disappears only when its object is deleted


def _candidate_apis(requested: str) -> list[tuple[str, int]]:
    import rtmidi

    compiled = rtmidi.get_compiled_api()
    if requested != "auto":
        constant = getattr(rtmidi, _API_NAMES[requested])
        if constant not in compiled:
            raise MidiPortError(f"MIDI api {requested} is not available in this python-rtmidi build")
        return [(requested, constant)]
    names = {getattr(rtmidi, v): k for k, v in _API_NAMES.items() if hasattr(rtmidi, v)}
    order = [rtmidi.API_MACOSX_CORE, rtmidi.API_LINUX_ALSA, rtmidi.API_UNIX_JACK, rtmidi.API_WINDOWS_MM]
    return [(names[a], a) for a in order if a in compiled]


def _short_port_name(full_name: str) -> str:
    """The port's own name in a backend's listing: JACK "client:port", ALSA "client:port 128:0"."""
    name = re.sub(r" \d+:\d+$", "", full_name)
    return name.split(":", 1)[1] if ":" in name else name


def _free_port_name(port_name: str, api_constant: int, client_name: str) -> str:
    """``port_name``, or ``port_name-2``, ``-3``... when an output of that name exists already.

    Two virtual ports of one name (a second ``play``, a daemon next to it) are
    indistinguishable in a DAW's input list, so the second one gets its own.
    """
    import rtmidi

    try:
        probe = rtmidi.MidiIn(api_constant, name=f"{client_name}-probe")
    except Exception:  # noqa: BLE001 - no listing: opening the port reports the real problem
        return port_name
    try:
        taken = {_short_port_name(p) for p in probe.get_ports()}
    finally:
        del probe
    if port_name not in taken:
        return port_name
    suffix = 2
    while f"{port_name}-{suffix}" in taken:
        suffix += 1
    return f"{port_name}-{suffix}"


@contextlib.contextmanager
def _native_chatter_held() -> Iterator[dict[str, bool]]:
    """Hold what the C MIDI libraries print on file descriptor 2 while a port is being opened.

    ALSA and JACK print their own lines when a backend is missing ("ALSA lib ...", "Cannot
    connect to server socket"), before the one sentence that matters. What they printed is
    dropped when opening failed (the MidiPortError says it in words) and passed on otherwise,
    so nothing another thread logged meanwhile is lost.
    """
    outcome = {"failed": False}
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (an embedding host): nothing to hold
        yield outcome
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield outcome
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if not outcome["failed"]:
                held.seek(0)
                text = held.read()
                if text:
                    os.write(2, text)


def open_output(port_name: str = "MIDI-LLM", *, connect_to: str | None = None, api: str = "auto",
                client_name: str = "midi-llm-bridge") -> OpenPort:
    """A virtual output named ``port_name``, or the existing port whose name contains ``connect_to``.

    When another output already has ``port_name``, the virtual port gets a
    distinct name; ``OpenPort.renamed`` says so and ``name`` is the one used.
    The MIDI libraries' own chatter about missing backends is kept off the terminal.
    """
    with _native_chatter_held() as outcome:
        try:
            return _open_output(port_name, connect_to, api, client_name)
        except MidiPortError:
            outcome["failed"] = True
            raise


def _open_output(port_name: str, connect_to: str | None, api: str, client_name: str) -> OpenPort:
    try:
        import rtmidi
    except ImportError as error:  # pragma: no cover - a dependency
        raise MidiPortError(f"python-rtmidi is not installed ({error})") from None
    failures: list[str] = []
    for api_name, constant in _candidate_apis(api):
        try:
            midi_out = rtmidi.MidiOut(constant, name=client_name)
        except Exception as error:  # rtmidi raises SystemError/RuntimeError variants per backend
            failures.append(f"{api_name}: {error}")
            continue
        try:
            if connect_to:
                ports = midi_out.get_ports()
                matches = [i for i, p in enumerate(ports) if connect_to.lower() in p.lower()]
                if not matches:
                    failures.append(f"{api_name}: no output port matching {connect_to!r} (have: {ports or 'none'})")
                    del midi_out
                    continue
                midi_out.open_port(matches[0])
                return OpenPort(midi_out, api_name, ports[matches[0]], virtual=False)
            name = _free_port_name(port_name, constant, client_name)
            midi_out.open_virtual_port(name)
            return OpenPort(midi_out, api_name, name, virtual=True, requested_name=port_name)
        except NotImplementedError:
            failures.append(f"{api_name}: virtual ports are not supported")
            del midi_out
        except Exception as error:
            failures.append(f"{api_name}: {error}")
            del midi_out
    hint = ""
    if sys.platform.startswith("win") and not connect_to:
        hint = (" Windows has no virtual MIDI ports: install loopMIDI, create a port, and set midi.connect_to"
                " to its name.")
    elif sys.platform.startswith("linux"):
        hint = (" On Linux, ALSA needs /dev/snd/seq (load snd-seq) and JACK needs a running server"
                " (e.g. `jackd -d dummy` or your audio setup).")
    raise MidiPortError("cannot open a MIDI output (" + "; ".join(failures or ["no MIDI backend"]) + ")." + hint)
