"""Where the DAW clients get installed on each OS, and whether the copies there are this version.

The places are the hosts' own defaults: Live's User Library (``~/Music/Ableton/User Library`` on
macOS, ``~/Documents/Ableton/User Library`` on Windows) and REAPER's resource folder
(``~/Library/Application Support/REAPER``, ``%APPDATA%\\REAPER``, ``~/.config/REAPER``), whose
``Scripts`` folder holds the ReaScripts, by hand or through ReaPack. A copy "matches" when its
bytes equal this checkout's: a stale client may speak an older protocol.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from bridge.doctor.checks import NOTE, OK, PROBLEM, Finding

REPO = Path(__file__).resolve().parents[2]
LIVE_DEVICE = REPO / "max_for_live" / "MIDI-LLM.amxd"
LIVE_TOOLS = {
    "generator": REPO / "max_for_live" / "MIDI Tools" / "Max Generators" / "MIDI-LLM.amxd",
    "transformation": REPO / "max_for_live" / "MIDI Tools" / "Max Transformations" / "MIDI-LLM.amxd",
}
REAPER_LIBRARY = REPO / "reaper_scripts" / "MIDI-LLM" / "midi-llm_lib.lua"
MAX_SEARCH_DEPTH = 6


def live_user_libraries(platform: str = sys.platform, home: Path | None = None) -> list[Path]:
    """Live's default User Library folders for this OS (Live does not run on Linux)."""
    home = home or Path.home()
    if platform == "darwin":
        return [home / "Music" / "Ableton" / "User Library"]
    if platform.startswith("win"):
        return [home / "Documents" / "Ableton" / "User Library"]
    return []


def reaper_resource_folders(platform: str = sys.platform, home: Path | None = None,
                            environ: Mapping[str, str] = os.environ) -> list[Path]:
    """REAPER's default resource folders for this OS (its Scripts folder is inside)."""
    home = home or Path.home()
    if platform == "darwin":
        return [home / "Library" / "Application Support" / "REAPER"]
    if platform.startswith("win"):
        appdata = environ.get("APPDATA")
        return [Path(appdata) / "REAPER"] if appdata else [home / "AppData" / "Roaming" / "REAPER"]
    return [home / ".config" / "REAPER"]


def _find(folder: Path, name: str, depth: int = MAX_SEARCH_DEPTH) -> Iterator[Path]:
    """Files called ``name`` under ``folder``, not deeper than ``depth`` (a library can be huge)."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_file() and entry.name == name:
            yield entry
        elif entry.is_dir() and depth > 0:
            yield from _find(entry, name, depth - 1)


def _compare(topic: str, what: str, copies: list[Path], reference: Path, how_to_update: str) -> Finding:
    wanted = reference.read_bytes()
    stale = [copy for copy in copies if copy.read_bytes() != wanted]
    if stale:
        shown = ", ".join(str(path) for path in stale)
        return Finding(topic, PROBLEM, f"{what} at {shown} is not this version of midi-llm-bridge.", how_to_update)
    shown = ", ".join(str(path) for path in copies)
    return Finding(topic, OK, f"{what} installed and up to date: {shown}")


def check_live(libraries: list[Path] | None = None) -> list[Finding]:
    """The Max for Live device and the two MIDI Tools in Live's User Library."""
    libraries = live_user_libraries() if libraries is None else libraries
    present = [folder for folder in libraries if folder.is_dir()]
    if not present:
        where = ", ".join(str(folder) for folder in libraries) or "none on this OS (Live runs on macOS and Windows)"
        return [Finding("ableton", NOTE, f"no Ableton Live User Library found (looked in: {where})",
                        "only needed for Ableton Live; see the README, Ableton Live")]
    findings: list[Finding] = []
    copies = [path for folder in present for path in _find(folder, LIVE_DEVICE.name)]
    tools = {kind: [p for p in copies if p.parent.name == reference.parent.name and p.parent.parent.name == "MIDI Tools"]
             for kind, reference in LIVE_TOOLS.items()}
    devices = [p for p in copies if not any(p in found for found in tools.values())]
    update = "drag the new max_for_live/MIDI-LLM.amxd into Live again (replace the old one)"
    if devices:
        findings.append(_compare("ableton", "the MIDI-LLM device", devices, LIVE_DEVICE, update))
    else:
        findings.append(Finding("ableton", NOTE, "the MIDI-LLM device is not in the User Library (it may be "
                                                 "saved in your sets only)", update))
    for kind, reference in LIVE_TOOLS.items():
        found = tools[kind]
        update = f"copy max_for_live/MIDI Tools into {present[0]} again (replace the old files)"
        if found:
            findings.append(_compare("ableton", f"the MIDI Tool ({kind})", found, reference, update))
        else:
            findings.append(Finding("ableton", NOTE, f"the MIDI Tool ({kind}) is not installed", update))
    return findings


def _stale_reaper_files(installed: Path) -> list[str]:
    """The scripts of this version that are missing or different in an installed MIDI-LLM folder."""
    stale = []
    for reference in sorted(REAPER_LIBRARY.parent.iterdir()):
        if reference.suffix not in (".lua", ".jsfx"):
            continue
        copy = installed / reference.name
        if not copy.is_file() or copy.read_bytes() != reference.read_bytes():
            stale.append(reference.name)
    return stale


def check_reaper(resources: list[Path] | None = None) -> list[Finding]:
    """The ReaScripts in REAPER's Scripts folder (copied by hand or installed by ReaPack): every file matches."""
    resources = reaper_resource_folders() if resources is None else resources
    present = [folder for folder in resources if folder.is_dir()]
    if not present:
        where = ", ".join(str(folder) for folder in resources)
        return [Finding("reaper", NOTE, f"no REAPER resource folder found (looked in: {where})",
                        "only needed for REAPER; see the README, REAPER")]
    copies = [path for folder in present for path in _find(folder / "Scripts", REAPER_LIBRARY.name)]
    update = "install the scripts again from reaper_scripts/MIDI-LLM (or update them in ReaPack)"
    if not copies:
        return [Finding("reaper", NOTE, f"the MIDI-LLM scripts are not in {present[0] / 'Scripts'}", update)]
    findings = []
    for library in copies:
        stale = _stale_reaper_files(library.parent)
        if stale:
            shown = ", ".join(stale[:4]) + (f" and {len(stale) - 4} more" if len(stale) > 4 else "")
            findings.append(Finding("reaper", PROBLEM, f"the MIDI-LLM ReaScripts at {library.parent} are not this "
                                                       f"version of midi-llm-bridge ({shown} missing or different).",
                                    update))
        else:
            findings.append(Finding("reaper", OK, f"the MIDI-LLM ReaScripts installed and up to date: {library.parent}"))
    return findings
