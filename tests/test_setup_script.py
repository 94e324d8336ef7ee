"""scripts/setup.py, the one place the install steps live (make calls it; Windows users run it)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path, PureWindowsPath

from tests.m4l_support import NODE, needs_node

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("setup_script", ROOT / "scripts" / "setup.py")
setup_script = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(setup_script)


def test_windows_programs_live_in_scripts_with_exe():
    folder = Path("C:/project/.venv")
    assert setup_script.executable(folder, "midi-llm-bridge", "win32") == folder / "Scripts" / "midi-llm-bridge.exe"
    assert setup_script.executable(folder, "python", "darwin") == folder / "bin" / "python"


def test_torch_is_pinned_before_the_project_is_installed(tmp_path):
    commands = setup_script.install_commands(tmp_path, "dev", "2.13.0", "linux")
    flat = [" ".join(command) for command in commands]
    assert "torch==2.13.0" in flat[1]
    assert flat[2].endswith(f"-e {ROOT}[dev]")


def test_check_reports_an_environment_that_is_not_set_up(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "setup.py"), "--check", "--venv",
                             str(tmp_path / "venv")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "not set up" in result.stdout


def test_stamp_older_than_pyproject_means_reinstall(tmp_path):
    import os

    stamp = setup_script.stamp_path(tmp_path)
    stamp.touch()
    assert setup_script.is_current(tmp_path)
    old = (ROOT / "pyproject.toml").stat().st_mtime - 60
    os.utime(stamp, (old, old))
    assert not setup_script.is_current(tmp_path)


def test_the_makefile_installs_through_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/setup.py --venv $(VENV)" in makefile


def fake_venv(folder: Path) -> Path:
    """A virtual environment holding an executable midi-llm-bridge (what the launcher runs)."""
    program = setup_script.executable(folder, "midi-llm-bridge", "linux")
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return program


def test_the_installation_is_recorded_where_the_launcher_looks_and_the_secret_stays(tmp_path):
    state = tmp_path / "state"
    program = fake_venv(tmp_path / "venv")
    state.mkdir()
    (state / "max-for-live.json").write_text(json.dumps({"secret": "S"}))
    said = setup_script.record_installation(tmp_path / "venv", state, "linux")
    assert str(program) in said
    assert json.loads((state / "max-for-live.json").read_text()) == {"secret": "S", "installation": str(program)}
    assert (state / "max-for-live.json").stat().st_mode & 0o077 == 0, "it may hold the secret: the owner's only"


def test_a_daemon_path_typed_before_is_kept_while_it_leads_to_the_program(tmp_path):
    state = tmp_path / "state"
    typed = fake_venv(tmp_path / "typed")
    program = fake_venv(tmp_path / "venv")
    state.mkdir()
    (state / "max-for-live.json").write_text(json.dumps({"installation": str(tmp_path / "typed")}))
    said = setup_script.record_installation(tmp_path / "venv", state, "linux")
    assert "Daemon path" in said and str(tmp_path / "typed") in said
    assert json.loads((state / "max-for-live.json").read_text())["installation"] == str(tmp_path / "typed")
    typed.unlink()  # that checkout is gone: the new one is recorded
    setup_script.record_installation(tmp_path / "venv", state, "linux")
    assert json.loads((state / "max-for-live.json").read_text())["installation"] == str(program)
    (state / "max-for-live.json").write_text("{not json")  # a damaged file is replaced, not a traceback
    setup_script.record_installation(tmp_path / "venv", state, "linux")
    assert json.loads((state / "max-for-live.json").read_text()) == {"installation": str(program)}


LAUNCHER_PATHS = ROOT / "max_for_live" / "src" / "midi_llm_launcher_paths.js"


def launcher(expression: str) -> object:
    """``expression`` evaluated by the real launcher's path module under node (LauncherPaths in scope)."""
    script = LAUNCHER_PATHS.read_text(encoding="utf-8") + f"\nprocess.stdout.write(JSON.stringify({expression}));\n"
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_node
def test_the_script_and_the_launcher_agree_on_its_folder_on_every_os():
    cases = [("darwin", {}, "/Users/me"), ("win32", {"LOCALAPPDATA": "C:\\Users\\me\\AppData\\Local"}, "C:\\Users\\me"),
             ("win32", {}, "C:\\Users\\me"), ("linux", {}, "/home/me"), ("linux", {"XDG_STATE_HOME": "/x/state"}, "/h"),
             ("linux", {"MIDI_LLM_BRIDGE_STATE_DIR": "/custom"}, "/home/me")]
    for platform, env, home in cases:
        theirs = launcher(f"LauncherPaths.stateDir({json.dumps(platform)}, {json.dumps(env)}, {json.dumps(home)})")
        ours = setup_script.launcher_state_dir(platform, env, home)
        if platform == "win32":
            assert PureWindowsPath(theirs) == PureWindowsPath(ours), (env, theirs, ours)
        else:
            assert theirs == str(ours), (platform, env)


@needs_node
def test_the_launcher_finds_the_recorded_program_far_from_any_checkout(tmp_path):
    """A device copied into the User Library: its file is nowhere near the checkout and PATH has no
    midi-llm-bridge; the launcher starts what the script recorded."""
    state = tmp_path / "state"
    program = fake_venv(tmp_path / "checkout" / ".venv")
    setup_script.record_installation(tmp_path / "checkout" / ".venv", state, "linux")
    configured = json.loads((state / "max-for-live.json").read_text())["installation"]
    where = {"platform": "linux", "env": {"PATH": "/nonexistent"}, "home": str(tmp_path / "home"),
             "configured": configured, "deviceFile": str(tmp_path / "User Library" / "MIDI-LLM.amxd")}
    found = launcher(f"LauncherPaths.findProgram({json.dumps(where)})")
    assert found["program"] == str(program)
