"""Every command README.md shows is run here, so README and code cannot drift apart.

The commands are read from README.md itself: the lines of its shell blocks and every inline
code span that starts a command. ``midi-llm-bridge`` commands are run as written, their
placeholders (PROMPT, in.mid, N, ...) filled in and each optional ``[...]`` part both left out
and put in (each alternative of ``a \\| b`` once), on tiny checkpoints: the local commands in
this process, ``serve`` as a daemon process and ``request`` against one. ``make`` targets are
expanded with ``make -n`` (running them would reinstall .venv when pyproject.toml is newer, or
run this suite inside itself). What needs the network, a GPU, Windows or a DAW is listed in
:data:`NOT_RUN` with the reason; a command the README gains that is in none of these lists
fails :func:`test_every_readme_command_is_run_or_listed`.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.cli import main
from tests.daemon_process import ENV, ROOT, DaemonProcess, free_port

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
COMMAND_START = re.compile(r"^(\.venv/bin/\S+|\.venv\\Scripts\\\S+|midi-llm-bridge|make|python3?|py|vllm|"
                           r"[A-Z_]+=\S+ make) ")

NOT_RUN = {
    ".venv/bin/hf download slseanwu/MIDI-LLM_Llama-3.2-1B": "network: downloads 2.5 GB from the hub",
    '.venv/bin/pip install -e ".[vllm]"': "network, and vLLM wants a CUDA GPU (tests/test_vllm_backend.py runs its "
                                          "CPU build from a venv of its own)",
    "vllm serve slseanwu/MIDI-LLM_Llama-3.2-1B --max-model-len 2048 --enable-prefix-caching --logits-processors "
    "bridge.engine.backends.vllm_processor:MidiLlmLogitsProcessor --host 0.0.0.0 --port 8000 "
    '--api-key "$MIDI_LLM_KEY"': "a GPU server with vLLM and the real weights",
    r"py scripts\setup.py": "Windows (`make` runs the same script here: tests/test_setup_script.py)",
    r".venv\Scripts\midi-llm-bridge serve": "Windows path of the serve command run here",
    r".venv\Scripts\python -m pytest": "Windows path of this test suite",
    r".venv\Scripts\midi-llm-bridge doctor": "Windows path of the doctor command run here",
    "python3 reaper_scripts/make_index.py": "a release step that rewrites reaper_scripts/index.xml from the git "
                                            "remote; tests/test_reaper_scripts.py checks the index",
    'midi-llm-bridge play "PROMPT" --bars 8 --tempo 110 [--port-name NAME \\| --connect-to PORT] [-o out.mid]':
        "needs a MIDI output port for a DAW; played into a real JACK server in tests/test_live_play.py",
    "midi-llm-bridge request ...": "not a command: points to the request commands, which are run here",
    "midi-llm-bridge request": "the name of the command-line client in prose; its commands are run here",
}

OTHER_RUN = {
    "python3 scripts/setup.py --check": "run: says whether .venv is set up (exit 0 or 1)",
    "python max_for_live/build_amxd.py --unfrozen --out DIR": "run: builds the unfrozen devices into DIR",
}


def readme_commands(text: str) -> list[str]:
    """Shell-block lines and command-like inline code spans, whitespace normalised, in order, once each."""
    found: list[str] = []
    for block in re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = re.split(r"\s+#\s", line)[0].strip()
            if line:
                found.append(" ".join(line.split()))
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+(?:\n[^`\n]+)?)`", prose):
        words = " ".join(span.split())
        if COMMAND_START.match(words + " ") and len(words.split()) > 1:
            found.append(words)
    return list(dict.fromkeys(found))


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
BRIDGE = [c for c in COMMANDS if c not in NOT_RUN and re.match(r"^(\.venv/bin/)?midi-llm-bridge ", c)]
MAKE = [c for c in COMMANDS if re.match(r"^([A-Z_]+=\S+ )?make ", c)]


def variants(command: str) -> list[str]:
    """The command without its optional parts, then with all of them (each alternative of ``a \\| b`` once)."""
    command = command.replace("<Daemon port>", "PORT").replace("[daemon options]", "")
    groups = re.findall(r"\[([^\[\]]+)\]", command)
    options = [[part.strip() for part in re.split(r"\s*\\?\|\s*", group)] for group in groups]
    bare = re.sub(r"\s*\[[^\[\]]+\]", "", command)
    result = [bare]
    for k in range(max((len(o) for o in options), default=0)):
        chosen = iter(o[min(k, len(o) - 1)] for o in options)
        result.append(re.sub(r"\[[^\[\]]+\]", lambda _, parts=chosen: next(parts), command))
    return list(dict.fromkeys(" ".join(v.split()) for v in result))


def fill(command: str, values: dict[str, str]) -> list[str]:
    """The argument list of ``command`` (program dropped) with each placeholder replaced."""
    words = shlex.split(command)[1:]
    filled = [values.get(word, word) for word in words]
    unknown = [w for w in filled if re.fullmatch(r"[A-Z][A-Z_]*(\.mid)?", w)]
    assert not unknown, f"README placeholder(s) {unknown} in {command!r} have no value in this test"
    return filled


CASES = list({variant: command for command in BRIDGE for variant in variants(command)}.items())


@pytest.fixture(scope="module")
def place(tmp_path_factory, tiny_midi_llm_dir):
    """A folder with the README's file names (in.mid, clip.mid, FILE.mid, a config FILE) and the values."""
    from bridge.amt.midi_file import write_midi
    from bridge.amt.notes import Note
    from bridge.amt.tempo import TempoMap, TimeSignature

    folder = tmp_path_factory.mktemp("readme")
    notes = [Note(60 + (i * 5) % 12, i * 1.0, 0.9, 90, instrument=0) for i in range(32)]
    notes += [Note(36 + i % 5, i * 2.0, 1.5, 100, instrument=33) for i in range(16)]
    for name in ("in.mid", "clip.mid", "FILE.mid"):
        write_midi(folder / name, notes, TempoMap.constant(120), TimeSignature(4, 4))
    (folder / "settings.yaml").write_text(f"model:\n  id: {tiny_midi_llm_dir}\n  device: cpu\n  warmup: false\n")
    values = {"PROMPT": "a calm waltz", "TEXT": "a walking bass", "N": "2", "S": "7", "A": "1", "B": "2",
              "START": "0", "END": "2", "INSTR": "0", "FILE": str(folder / "settings.yaml"),
              "FILE.mid": str(folder / "FILE.mid"), "ID": str(tiny_midi_llm_dir), "ID_OR_DIR": str(tiny_midi_llm_dir),
              "section.key=value": "limits.queue_length=4", "DIR": str(folder / "devices")}
    return folder, values


def settings_env(model: Path, port: int) -> dict[str, str]:
    return {"MIDI_LLM_BRIDGE__MODEL__ID": str(model), "MIDI_LLM_BRIDGE__MODEL__DEVICE": "cpu",
            "MIDI_LLM_BRIDGE__MODEL__WARMUP": "false", "MIDI_LLM_BRIDGE__OSC__PORT": str(port)}


@pytest.fixture(scope="module")
def daemon(dense_midi_llm_dir):
    """The daemon the README's ``request`` commands talk to (found through MIDI_LLM_BRIDGE__OSC__PORT)."""
    running = DaemonProcess(dense_midi_llm_dir)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def test_every_readme_command_is_run_or_listed():
    assert len(COMMANDS) > 20, COMMANDS
    unaccounted = [c for c in COMMANDS if c not in NOT_RUN and c not in OTHER_RUN and c not in BRIDGE
                   and c not in MAKE]
    assert not unaccounted, f"README commands this test neither runs nor lists in NOT_RUN: {unaccounted}"
    gone = [c for c in [*NOT_RUN, *OTHER_RUN] if c not in COMMANDS]
    assert not gone, f"listed here but no longer in README.md (remove them): {gone}"


def run_local(argv: list[str], folder: Path, env: dict[str, str], monkeypatch, capsys) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(folder)
    capsys.readouterr()
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def request(argv: list[str], folder: Path, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "midi-llm-bridge"), *argv], cwd=folder, env={**ENV, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def check_serve(argv: list[str], folder: Path, values: dict[str, str]) -> None:
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else free_port()
    env = {**ENV, **settings_env(Path(values["ID"]), port)}
    process = subprocess.Popen([str(BIN / "midi-llm-bridge"), *argv], cwd=folder, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = []
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "ready:" in line:
                break
        assert any("ready:" in line for line in lines), "".join(lines)
        ping = subprocess.run([str(BIN / "midi-llm-bridge"), "request", "ping", "--port", str(port)], cwd=folder,
                              env=ENV, capture_output=True, text=True, timeout=60)
        assert ping.returncode == 0 and "ready" in ping.stdout, ping.stdout + ping.stderr
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def check_request(argv: list[str], folder: Path, daemon: DaemonProcess, values: dict[str, str]) -> None:
    env = settings_env(Path(values["ID"]), daemon.port)
    background = None
    if argv[:1] == ["cancel"]:  # something to cancel: a long request with the README's id
        progress = folder / "cancel-progress.txt"
        background = request(["request", "generate", "--id", argv[argv.index("--target") + 1], "--bars", "128",
                              "--variations", "8", "--max-new-tokens", "2046", "--progress-file", str(progress),
                              "--json", str(folder / "cancelled.json")], folder, env)
        while not (progress.exists() and "accepted" in progress.read_text()):
            assert background.poll() is None, background.communicate()
            time.sleep(0.02)
    done = request(["request", *argv], folder, env)
    output, _ = done.communicate(timeout=300)
    assert done.returncode == 0, output
    if background is not None:
        background.communicate(timeout=120)
        assert background.returncode == 1  # its request was cancelled: the daemon answered with an error


@pytest.mark.parametrize(("variant", "command"), CASES, ids=[v for v, _ in CASES])
def test_readme_command_runs(variant, command, place, daemon, monkeypatch, capsys):
    folder, values = place
    subcommand = shlex.split(variant)[1]
    local = dict(values)
    if subcommand == "request":
        local["ID"] = "4711"  # a request id there, not a model
    if subcommand == "serve":  # the README's port (9123 too) is a free one here: the machine is shared
        local.update(dict.fromkeys(("P", "PORT", "9123"), str(free_port())))
    argv = fill(variant, local)
    for name in ("out.mid", "result.json", "p.txt"):
        (folder / name).unlink(missing_ok=True)
    if subcommand == "serve":
        check_serve(argv, folder, values)
        return
    if subcommand == "request":
        check_request(argv[1:], folder, daemon, values)
    elif subcommand == "doctor":
        done = subprocess.run([str(BIN / "midi-llm-bridge"), *argv], cwd=folder, capture_output=True, text=True,
                              env={**ENV, **settings_env(Path(values["ID"]), free_port())}, timeout=300)
        assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a problem found, each with its fix
        assert "doctor" in done.stdout.splitlines()[0] and "Traceback" not in done.stderr
    else:
        status, output = run_local(argv, folder, settings_env(Path(values["ID"]), free_port()), monkeypatch, capsys)
        assert status == 0, output
    for flag in ("-o", "--json", "--progress-file"):
        if flag in argv:
            assert (folder / argv[argv.index(flag) + 1]).exists(), (variant, flag)


def test_the_other_readme_commands_run(place):
    folder, values = place
    done = subprocess.run([sys.executable, "scripts/setup.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, env=ENV, timeout=120)
    assert done.returncode in (0, 1) and "set up" in done.stdout + done.stderr, done.stdout + done.stderr
    done = subprocess.run([sys.executable, "max_for_live/build_amxd.py", "--unfrozen", "--out", values["DIR"]],
                          cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(Path(values["DIR"]).rglob("*.amxd"))


@pytest.mark.parametrize("command", MAKE)
def test_readme_make_commands_expand(command):
    """``make -n`` (nothing run; the .venv stamp taken as up to date): each target exists and says what it runs."""
    env = dict(os.environ)
    words = shlex.split(command)
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = "2.13.0" if value == "..." else value
    done = subprocess.run(["make", "-n", "-o", ".venv/.installed", *words[1:]], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    arguments = [w.split("=", 1)[1] for w in words[1:] if w.startswith("ARGS=")]
    for argument in arguments:
        assert argument in done.stdout, done.stdout
