#!/usr/bin/env python3
"""Create the project's virtual environment and install midi-llm-bridge into it, on any OS.

This is the one place the installation steps live: ``make run``/``make test`` call it on macOS
and Linux, and Windows users (no ``make`` there) run it directly::

    py scripts\\setup.py            # Windows
    python3 scripts/setup.py        # anywhere

Steps: ``.venv`` with this Python (3.10+), pip upgraded, torch pinned to a CPU-friendly
release first (``TORCH_VERSION`` picks another; an already installed torch, e.g. a CUDA build
you chose, is kept) so pip never pulls a multi-GB CUDA build by accident, then the project
(editable, with the test tools). A stamp file records a finished install, so a second run
only checks. Standard library only: it runs before anything is installed.

Last, it records the installation where the Max for Live launcher looks for it
(``max-for-live.json`` in the launcher's folder, see ``max_for_live/src/midi_llm_launcher_paths.js``),
so that a device or a MIDI Tool copied into Live's User Library, far from this checkout, still
finds ``midi-llm-bridge`` without a typed *Daemon path*. A path recorded before (typed into
*Daemon path*) is kept while it still leads to the program.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TORCH = "2.13.0"
MIN_PYTHON = (3, 10)
PROGRAM = "midi-llm-bridge"
LAUNCHER_SETTINGS = "max-for-live.json"


def venv_bin(folder: Path, platform: str = sys.platform) -> Path:
    """Where a virtual environment keeps its programs: ``Scripts`` on Windows, ``bin`` elsewhere."""
    return folder / ("Scripts" if platform.startswith("win") else "bin")


def executable(folder: Path, name: str, platform: str = sys.platform) -> Path:
    suffix = ".exe" if platform.startswith("win") else ""
    return venv_bin(folder, platform) / f"{name}{suffix}"


def install_commands(folder: Path, extras: str, torch_version: str, platform: str = sys.platform) -> list[list[str]]:
    """The pip commands, in order; torch's is skipped at run time when torch already imports."""
    python = str(executable(folder, "python", platform))
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    return [
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [python, "-m", "pip", "install", "--quiet", f"torch=={torch_version}"],
        [python, "-m", "pip", "install", "--quiet", "-e", target],
    ]


def stamp_path(folder: Path) -> Path:
    return folder / ".installed"


def is_current(folder: Path) -> bool:
    """Installed, and not older than pyproject.toml (whose dependencies may have changed)."""
    stamp = stamp_path(folder)
    return stamp.is_file() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime


def launcher_state_dir(platform: str = sys.platform, env: dict[str, str] | None = None,
                       home: str | None = None) -> Path:
    """The Max for Live launcher's folder, as LauncherPaths.stateDir finds it (a test keeps the two equal)."""
    env = dict(os.environ) if env is None else env
    home = str(Path.home()) if home is None else home
    if env.get("MIDI_LLM_BRIDGE_STATE_DIR"):
        return Path(env["MIDI_LLM_BRIDGE_STATE_DIR"])
    if platform == "darwin":
        return Path(home, "Library", "Application Support", PROGRAM)
    if platform.startswith("win"):
        return Path(env.get("LOCALAPPDATA") or Path(home, "AppData", "Local"), PROGRAM)
    return Path(env.get("XDG_STATE_HOME") or Path(home, ".local", "state"), PROGRAM)


def _leads_to_program(configured: str, platform: str) -> bool:
    """Whether a recorded installation (the program, a venv or a checkout) still holds the program."""
    path = Path(configured)
    return any(candidate.is_file() for candidate in
               (path, executable(path, PROGRAM, platform), executable(path / ".venv", PROGRAM, platform)))


def record_installation(folder: Path, state_dir: Path, platform: str = sys.platform) -> str:
    """Record ``folder``'s midi-llm-bridge in the launcher's max-for-live.json; the sentence that says what was done.

    Other entries (the secret) stay; an installation recorded before is kept while it still leads to the
    program. The file may hold the daemon's secret, so only its owner may read it.
    """
    program = executable(folder, PROGRAM, platform)
    settings_file = state_dir / LAUNCHER_SETTINGS
    try:
        stored = json.loads(settings_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    before = str(stored.get("installation") or "")
    if before and before != str(program) and _leads_to_program(before, platform):
        return (f"Max for Live: the devices start the daemon from {before} (their Daemon path); clear Daemon path "
                f"in a device to use {program}")
    stored["installation"] = str(program)
    state_dir.mkdir(parents=True, exist_ok=True)
    fresh = settings_file.with_name(settings_file.name + ".new")
    fresh.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    os.chmod(fresh, 0o600)
    os.replace(fresh, settings_file)
    return f"Max for Live: the devices and MIDI Tools start the daemon from {program} (recorded in {settings_file})"


def setup(folder: Path, extras: str, torch_version: str) -> None:
    if sys.version_info[:2] < MIN_PYTHON:
        raise SystemExit(f"midi-llm-bridge needs Python 3.10 or newer; this is {sys.version.split()[0]}. "
                         "Install a newer Python and run this script with it.")
    if is_current(folder):
        stamp_path(folder).touch()  # newer than this script too, so make stops asking
        print(f"{folder} is set up; nothing to do")
        return
    if not executable(folder, "python").exists():
        print(f"creating {folder}")
        venv.EnvBuilder(with_pip=True).create(folder)
    pip_upgrade, torch_install, project_install = install_commands(folder, extras, torch_version)
    subprocess.run(pip_upgrade, check=True)
    has_torch = subprocess.run([str(executable(folder, "python")), "-c", "import torch"],
                               capture_output=True).returncode == 0
    if not has_torch:
        print(f"installing torch {torch_version}")
        subprocess.run(torch_install, check=True)
    print("installing midi-llm-bridge")
    subprocess.run(project_install, check=True)
    stamp_path(folder).touch()
    print(f"done: start the daemon with {executable(folder, 'midi-llm-bridge')} serve")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create .venv and install midi-llm-bridge into it.")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="where (default: .venv in the project)")
    parser.add_argument("--extras", default="dev", help="pip extras to install (default: dev; '' for none)")
    parser.add_argument("--check", action="store_true", help="only say whether the environment is set up")
    args = parser.parse_args(argv)
    if args.check:
        current = is_current(args.venv)
        print(f"{args.venv} is {'set up' if current else 'not set up (run this script without --check)'}")
        return 0 if current else 1
    try:
        setup(args.venv, args.extras, os.environ.get("TORCH_VERSION", DEFAULT_TORCH))
    except subprocess.CalledProcessError as error:
        print(f"setup failed: {' '.join(error.cmd)} exited with {error.returncode}; see pip's message above",
              file=sys.stderr)
        return 1
    try:
        print(record_installation(args.venv.resolve(), launcher_state_dir()))
    except OSError as error:  # the install itself worked: say what to do instead of failing
        print(f"Max for Live: could not record the installation ({error}); type {args.venv.resolve()} into a "
              "device's Daemon path instead")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
