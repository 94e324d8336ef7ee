"""``midi-llm-bridge doctor`` on a machine with and without each piece, run as the user runs it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

from bridge.doctor import checks, clients
from tests.daemon_process import ENV, ROOT, DaemonProcess, free_port


def doctor(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(ENV, HOME=str(home), **env)
    environment.pop("APPDATA", None)
    return subprocess.run([sys.executable, "-m", "bridge", "doctor", *args], capture_output=True, text=True,
                          env=environment, cwd=ROOT, timeout=120)


def lines_about(output: str, topic: str) -> list[str]:
    return [line for line in output.splitlines() if f" {topic}: " in line]


def test_all_well_with_a_local_model_and_a_free_port(tmp_path, tiny_midi_llm_dir):
    result = doctor(tmp_path, "--model", str(tiny_midi_llm_dir), "--port", str(free_port()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all is well" in result.stdout
    assert lines_about(result.stdout, "model")[0].startswith("ok")
    assert "port" in lines_about(result.stdout, "daemon")[0] and "free" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_model_directory_is_a_problem_with_a_fix(tmp_path):
    result = doctor(tmp_path, "--model", str(tmp_path / "no-such-model"), "--port", str(free_port()))
    assert result.returncode == 1
    problem = lines_about(result.stdout, "model")[0]
    assert problem.startswith("PROBLEM") and "does not exist" in problem
    assert "1 problem(s) found" in result.stdout


def test_offline_hub_model_not_cached_names_a_download_command_that_exists(tmp_path):
    cache = tmp_path / "hub"
    cache.mkdir()
    result = doctor(tmp_path, "--port", str(free_port()), HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1")
    assert result.returncode == 1
    index = result.stdout.splitlines().index(lines_about(result.stdout, "model")[0])
    fix = result.stdout.splitlines()[index + 1]
    assert "offline" in result.stdout and "fix:" in fix
    program = fix.split("run: ", 1)[1].split()[0]
    assert Path(program).exists(), f"the printed command {program} does not exist"


def _cache_with(cache: Path, model_id: str, source: Path) -> None:
    """The Hugging Face hub cache layout: refs/main names a snapshot holding the files."""
    repo = cache / ("models--" + model_id.replace("/", "--"))
    snapshot = repo / "snapshots" / ("a" * 40)
    shutil.copytree(source, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("a" * 40)
    (repo / "blobs").mkdir()


def test_hub_model_in_the_cache_is_found_with_its_size(tmp_path, tiny_amt_dir):
    cache = tmp_path / "hub"
    _cache_with(cache, "someone/tiny-amt", tiny_amt_dir)
    found = checks.check_model({"id": "someone/tiny-amt", "cache_dir": str(cache), "offline": True}, {})
    assert found.status == checks.OK and "in the Hugging Face cache" in found.message


def test_port_held_by_a_silent_program_is_a_problem(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        finding = checks.check_port({"host": "127.0.0.1", "port": squatter.getsockname()[1], "secret": None})
    assert finding.status == checks.PROBLEM and "does not answer" in finding.message


def test_a_running_daemon_is_reported(tiny_amt_dir):
    daemon = DaemonProcess(tiny_amt_dir)
    try:
        daemon.wait_ready()
        finding = checks.check_port({"host": "127.0.0.1", "port": daemon.port, "secret": None})
    finally:
        daemon.stop()
    assert finding.status == checks.OK and "a daemon answers" in finding.message


def test_old_python_is_a_problem():
    assert checks.check_python((3, 9, 18)).status == checks.PROBLEM
    assert checks.check_python((3, 12, 1)).status == checks.OK


def test_reaper_scripts_current_stale_and_absent(tmp_path):
    resource = tmp_path / ".config" / "REAPER"
    assert clients.check_reaper([resource])[0].status == checks.NOTE
    installed = resource / "Scripts" / "MIDI-LLM"
    installed.mkdir(parents=True)
    assert clients.check_reaper([resource])[0].status == checks.NOTE  # folder, no scripts
    shutil.copytree(clients.REAPER_LIBRARY.parent, installed, dirs_exist_ok=True)
    assert clients.check_reaper([resource])[0].status == checks.OK
    modules = sorted(installed.glob("midi-llm_*.lua"))
    module = next(path for path in modules if path.name != clients.REAPER_LIBRARY.name)
    module.write_text("-- an older version\n")
    stale = clients.check_reaper([resource])[0]
    assert stale.status == checks.PROBLEM and "not this version" in stale.message and module.name in stale.message
    shutil.copy(clients.REAPER_LIBRARY.parent / module.name, module)
    (installed / "MIDI-LLM - Generate.lua").unlink()
    assert "MIDI-LLM - Generate.lua" in clients.check_reaper([resource])[0].message


def test_reaper_scripts_through_the_command(tmp_path):
    installed = tmp_path / ".config" / "REAPER" / "Scripts" / "ReaPack" / "MIDI-LLM"
    installed.mkdir(parents=True)
    (installed / clients.REAPER_LIBRARY.name).write_text("-- an older version\n")
    result = doctor(tmp_path, "--model", str(tmp_path), "--port", str(free_port()))
    line = lines_about(result.stdout, "reaper")[0]
    assert line.startswith("PROBLEM") and str(installed) in line


def test_live_device_and_tools_in_the_user_library(tmp_path):
    library = clients.live_user_libraries("darwin", tmp_path)[0]
    assert library == tmp_path / "Music" / "Ableton" / "User Library"
    assert clients.live_user_libraries("win32", tmp_path)[0] == tmp_path / "Documents" / "Ableton" / "User Library"
    assert clients.check_live([library])[0].status == checks.NOTE
    shutil.copytree(ROOT / "max_for_live" / "MIDI Tools", library / "MIDI Tools")
    device_folder = library / "Presets" / "MIDI Effects" / "Max MIDI Effect"
    device_folder.mkdir(parents=True)
    shutil.copy(clients.LIVE_DEVICE, device_folder)
    assert [finding.status for finding in clients.check_live([library])] == [checks.OK] * 3
    (library / "MIDI Tools" / "Max Generators" / "MIDI-LLM.amxd").write_bytes(b"old")
    statuses = [finding.status for finding in clients.check_live([library])]
    assert statuses == [checks.OK, checks.PROBLEM, checks.OK]


def test_windows_reaper_folder_follows_appdata(tmp_path):
    folders = clients.reaper_resource_folders("win32", tmp_path, {"APPDATA": str(tmp_path / "Roaming")})
    assert folders == [tmp_path / "Roaming" / "REAPER"]


def test_midi_output_check_keeps_library_noise_out_of_the_report(tmp_path):
    result = doctor(tmp_path, "--model", str(tmp_path), "--port", str(free_port()))
    assert lines_about(result.stdout, "midi"), result.stdout
    assert "MidiOutAlsa" not in result.stderr and "Cannot connect to server" not in result.stderr
