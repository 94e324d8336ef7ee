"""Turn the ways a terminal command is asked to end into one exception, for clean-up.

By default SIGTERM and SIGHUP (sent when the terminal window closes) kill
Python at once: no ``finally`` runs, so a live player's sounding notes would
never get their note-offs. Inside :func:`stop_on_signals` SIGINT, SIGTERM and
SIGHUP all raise :class:`StopRequested` in the main thread, so the command's
own clean-up runs and it exits with the shell's status for that signal (128 +
the signal's number; 130 for Ctrl-C). Further signals are ignored during the
clean-up: they must not cut the note-offs short.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class StopRequested(KeyboardInterrupt):
    """The process was asked to end by a signal (Ctrl-C, kill, the terminal closing)."""

    def __init__(self, signal_number: int):
        super().__init__(signal_number)
        self.signal_number = signal_number


@dataclass
class StopState:
    """Which signal asked the command to end, once one has (None before).

    The exception alone is not enough: a signal that lands while Python runs a
    finalizer or a callback from C has its exception swallowed ("Exception
    ignored in ..."). ``event`` is set as well, so loops that poll it (the
    engine's cancel, the wait for the last notes) stop anyway.
    """

    received: int | None = None
    event: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        """Raise StopRequested if a stop signal came (in case its own exception was swallowed)."""
        if self.received is not None:
            raise StopRequested(self.received)

    @property
    def exit_status(self) -> int:
        return 128 + (self.received or signal.SIGINT)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.received or signal.SIGINT).name


def _signals() -> list[signal.Signals]:
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


@contextmanager
def stop_on_signals() -> Iterator[StopState]:
    """Within the block, the signals that end a command raise StopRequested (once)."""
    state = StopState()
    if threading.current_thread() is not threading.main_thread():
        yield state  # only the main thread can own signal handlers
        return

    def on_signal(number: int, _frame: object) -> None:
        if state.received is not None:
            return
        state.received = number
        state.event.set()
        # Ignored, not handled: a handled signal interrupts the system calls of the clean-up (JACK's
        # client library then hangs in closing its port), an ignored one never reaches the process.
        for other in handled:
            signal.signal(other, signal.SIG_IGN)
        raise StopRequested(number)

    handled = _signals()
    previous = {number: signal.signal(number, on_signal) for number in handled}
    try:
        yield state
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def say(text: str) -> None:
    """Print a line to stderr; a terminal that is gone (its window closed) is not an error."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
