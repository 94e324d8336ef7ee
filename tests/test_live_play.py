"""``midi-llm-bridge play`` as a real process: every way it can be asked to end silences it.

The process plays to a private JACK server (dummy driver); an independent
python-rtmidi JACK input (and ``jack_midi_dump`` for the terminal case) hears
it. Signals are sent while notes sound; after the exit nothing may be left
sounding, All Notes Off must have arrived, and the exit status must be the
shell's for that signal. Ctrl-C at random moments of the start-up and model
load must end in one line and status 130; without a MIDI server the command
says so before it loads torch.
"""

from __future__ import annotations

import fcntl
import os
import pty
import random
import select
import signal
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from tests.live_support import (
    ALL_NOTES_OFF,
    CONTROL_CHANGE,
    NOTE_ON,
    MidiDump,
    Receiver,
    open_jack_output,
    pair_notes,
    private_jack,
    wait_until,
)

# A JACK server per test: these tests kill play processes in the middle of JACK calls, after which a
# server can stall its next client's open; a fresh server keeps each test independent of the last.
jack = pytest.fixture(scope="function", name="jack")(private_jack)
ROOT = Path(__file__).resolve().parent.parent


def play_command(model_dir: Path, port_name: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bridge", "play", "test", "--api", "jack", "--port-name", port_name,
            "--bars", "16", "--tempo", "60", "--buffer", "0.3", "--seed", "7", "--model", str(model_dir),
            "--set", "model.threads=1", "--set", "model.device=cpu", *extra]


def play_env(jack) -> dict[str, str]:
    return dict(jack.env(), HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", JACK_NO_START_SERVER="1")


class PlayProcess:
    """``play`` in a subprocess, its stderr lines collected as they come."""

    def __init__(self, command: list[str], env: dict[str, str], **popen):
        self.lines: list[str] = []
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, text=True, **popen)
        stream = self.process.stderr
        if stream is not None:
            threading.Thread(target=self._collect, args=(stream,), daemon=True).start()

    def _collect(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, start: str, timeout: float = 60.0) -> str:
        assert wait_until(lambda: any(line.startswith(start) for line in self.lines) or self.process.poll() is not None,
                          timeout), f"no line {start!r} from play: {self.lines}"
        line = next((line for line in self.lines if line.startswith(start)), None)
        assert line is not None, f"play ended without {start!r}: {self.lines}"
        return line

    def finish(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            wait_until(lambda: not self.process.stderr or self.process.stderr.closed, 2)


def wait_for_sounding_notes(receiver: Receiver, process: subprocess.Popen) -> None:
    """Until a few notes were played and one sounds now (or the process ended)."""
    assert wait_until(lambda: (receiver.count(NOTE_ON) >= 3 and receiver.sounding() > 0)
                      or process.poll() is not None, timeout=120), "play never sounded a note"
    assert process.poll() is None, "play ended before it could be stopped"


def assert_silenced(messages: list[list[int]], *, joined_late: bool = False) -> None:
    """Nothing sounding, All Notes Off on every channel played; ``joined_late``: may miss the first note-ons."""
    played, unclosed = pair_notes(messages, strict=not joined_late)
    assert played, "nothing was played"
    assert not unclosed, f"stuck notes: {unclosed}"
    channels = {m[0] & 0x0F for m in messages if m[0] & 0xF0 == NOTE_ON}
    all_off = {m[0] & 0x0F for m in messages if m[0] & 0xF0 == CONTROL_CHANGE and m[1] == ALL_NOTES_OFF}
    assert channels <= all_off, f"no All Notes Off on channels {sorted(channels - all_off)}"


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_play_stopped_by_a_signal_leaves_nothing_sounding(jack, dense_midi_llm_dir, signal_number):
    name = f"sig{int(signal_number)}"
    play = PlayProcess(play_command(dense_midi_llm_dir, name), play_env(jack), stderr=subprocess.PIPE)
    try:
        play.wait_for_line("playing to")
        receiver = Receiver(jack, jack.find_port(f":{name}"))
        try:
            wait_for_sounding_notes(receiver, play.process)
            play.process.send_signal(signal_number)
            status = play.finish()
            wait_until(lambda: receiver.sounding() == 0, timeout=5)
        finally:
            receiver.close()
    finally:
        play.finish()
    assert status == 128 + signal_number, (status, play.lines)
    assert not any("Traceback" in line for line in play.lines), play.lines
    assert play.lines[-1].startswith(f"stopped by {signal.Signals(signal_number).name}"), play.lines
    assert_silenced(receiver.plain())


def test_play_whose_terminal_closes_leaves_nothing_sounding(jack, dense_midi_llm_dir):
    """The terminal window closes: the kernel hangs up the tty and sends SIGHUP; writes to it fail."""
    name = "tty"
    master, slave = pty.openpty()

    def become_terminal_owner() -> None:  # runs in the child after setsid: the pty is its controlling tty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    play = PlayProcess(play_command(dense_midi_llm_dir, name), play_env(jack), stdin=slave, stdout=slave,
                       stderr=slave, start_new_session=True, preexec_fn=become_terminal_owner)
    os.close(slave)
    output: list[bytes] = []
    closing = threading.Event()

    def read_terminal() -> None:
        # Never blocked in read() when the master is closed: a read in progress keeps the terminal open.
        while not closing.is_set():
            if select.select([master], [], [], 0.05)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                output.append(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        assert wait_until(lambda: b"playing to" in b"".join(output) or play.process.poll() is not None, 60), output
        port = jack.find_port(f":{name}")
        receiver = Receiver(jack, port)
        dump = MidiDump(jack, port)
        try:
            wait_for_sounding_notes(receiver, play.process)
            closing.set()
            reader.join()
            os.close(master)  # the window closes
            status = play.finish()
            wait_until(lambda: receiver.sounding() == 0, timeout=5)
        finally:
            receiver.close()
            dumped = dump.stop()
    finally:
        play.finish()
    assert status == 128 + signal.SIGHUP, (status, b"".join(output)[-2000:])
    assert_silenced(receiver.plain())
    assert_silenced(dumped, joined_late=True)


def test_ctrl_c_while_starting_or_loading_the_model_prints_one_line_and_exits_130(jack, dense_midi_llm_dir):
    """Ctrl-C at random moments from the first imports through the model load and the first notes."""
    rng = random.Random(130)
    for trial in range(4):
        delay = rng.uniform(0.8, 4.0)
        name = f"int{trial}"
        play = PlayProcess(play_command(dense_midi_llm_dir, name), play_env(jack), stderr=subprocess.PIPE)
        try:
            play.process.wait(delay)
        except subprocess.TimeoutExpired:
            play.process.send_signal(signal.SIGINT)
        status = play.finish()
        lines = play.lines
        assert status == 130, f"trial {trial} (Ctrl-C after {delay:.2f} s): status {status}, {lines}"
        assert not any("Traceback" in line for line in lines), lines
        assert lines and lines[-1].startswith(("stopped by SIGINT", "interrupted")), lines
        assert sum(line.startswith(("stopped by", "interrupted")) for line in lines) == 1, lines


def test_play_without_a_midi_server_says_so_before_loading_the_model(tmp_path):
    """No JACK server: the error comes first, torch is never imported (that takes seconds to minutes)."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=f"no-such-server-{os.getpid()}", JACK_NO_START_SERVER="1",
               HF_HUB_OFFLINE="1")
    probe = ("import sys\nfrom bridge.cli import main\nstatus = main(sys.argv[1:])\n"
             "print('torch imported' if 'torch' in sys.modules else 'torch not imported')\nsys.exit(status)\n")
    result = subprocess.run([sys.executable, "-c", probe, "play", "test", "--api", "jack", "--model",
                             str(tmp_path / "no-model-here")], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "cannot open a MIDI output" in result.stderr and "JACK" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip().endswith("torch not imported"), result.stdout


def test_a_second_play_with_a_port_name_in_use_says_so_and_uses_another(jack, dense_midi_llm_dir):
    holder = open_jack_output(jack, "busy")  # another program already has the name
    try:
        play = PlayProcess(play_command(dense_midi_llm_dir, "busy"), play_env(jack), stderr=subprocess.PIPE)
        try:
            line = play.wait_for_line("playing to")
            assert line.startswith("playing to busy-2"), play.lines
            assert any("busy is in use" in line for line in play.lines), play.lines
            jack.find_port(":busy-2")
            play.process.send_signal(signal.SIGTERM)
        finally:
            play.finish()
    finally:
        holder.close()


def test_play_without_any_midi_backend_prints_the_sentence_and_no_library_noise(tmp_path):
    """ALSA and JACK print their own lines when they are missing; the user sees only the one sentence."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=f"no-such-server-{os.getpid()}", JACK_NO_START_SERVER="1",
               HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "bridge", "play", "test", "--api", "auto", "--model",
                             str(tmp_path / "no-model-here")], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    if result.returncode == 0 or "playing to" in result.stderr:
        pytest.skip("this machine has a working MIDI backend (ALSA sequencer or a JACK server)")
    assert result.returncode == 4, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("midi-llm-bridge: error: cannot open a MIDI output"), lines
