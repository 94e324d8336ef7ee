"""scripts/setup.py, the one place the install steps live (make calls it; Windows users run it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

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
