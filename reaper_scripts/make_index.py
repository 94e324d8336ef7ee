"""Write reaper_scripts/index.xml, the ReaPack index of the MIDI-LLM ReaScripts and JSFX (a release step).

    python3 reaper_scripts/make_index.py            # from this checkout's GitHub remote "origin" and branch
    python3 reaper_scripts/make_index.py --url https://raw.githubusercontent.com/USER/REPO/BRANCH/reaper_scripts
    python3 reaper_scripts/make_index.py --check    # CI: the committed index (if any) is right

ReaPack downloads every file from the URLs in the index, so the index names
the repository it is published from: by default the raw GitHub URL of the
remote ``origin`` at the current branch (``--branch`` to choose another);
``--url`` for any other host. The publisher runs this, commits index.xml and
pushes; REAPER users then add ``<url>/index.xml`` in Extensions > ReaPack >
Import repositories. A checkout that publishes nothing carries no index.xml
(never one with a placeholder owner, which cannot download). Versions come
from the ``@version`` line of each script; bump it there, run this, commit
both. Standard library (and git) only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
INDEX = HERE / "index.xml"
FOLDER = "MIDI-LLM"  # the package category: REAPER installs into Scripts/MIDI-LLM/MIDI-LLM/
PLACEHOLDER_OWNERS = ("OWNER", "USER", "YOUR_NAME", "example")
RELEASE_TIME = "2026-11-25T00:00:00Z"
LIBRARY = "midi-llm_lib.lua"  # loads the modules below from its own folder (see its M.MODULES)
MODULES = (
    "midi-llm_platform.lua",
    "midi-llm_settings.lua",
    "midi-llm_json.lua",
    "midi-llm_dialogs.lua",
    "midi-llm_instruments.lua",
    "midi-llm_time.lua",
    "midi-llm_items.lua",
    "midi-llm_placement.lua",
    "midi-llm_write.lua",
    "midi-llm_client.lua",
    "midi-llm_launch.lua",
    "midi-llm_window.lua",
    "midi-llm_request.lua",
    "midi-llm_daemon.lua",
    "midi-llm_daemon_wait.lua",
)

ACTIONS = (
    "MIDI-LLM - Generate.lua",
    "MIDI-LLM - Continue selected item.lua",
    "MIDI-LLM - Infill time selection.lua",
    "MIDI-LLM - Accompany selected item.lua",
    "MIDI-LLM - Variations as takes.lua",
    "MIDI-LLM - Settings.lua",
    "MIDI-LLM - Start daemon.lua",
)
EFFECT = "MIDI-LLM track options.jsfx"


def header_version(path: Path) -> str:
    match = re.search(r"@version\s+(\S+)", path.read_text(encoding="utf-8"))
    if not match:
        raise SystemExit(f"{path} has no @version line")
    return match.group(1)


def source_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{quote(FOLDER)}/{quote(name)}"


def website(base: str) -> list[str]:
    """A link to the repository's page when the base is GitHub's raw URL."""
    match = re.match(r"https://raw\.githubusercontent\.com/([^/]+)/([^/]+)/", base)
    if not match:
        return []
    page = f"https://github.com/{match.group(1)}/{match.group(2)}"
    return ["      <metadata>", f'        <link rel="website">{escape(page)}</link>', "      </metadata>"]


def build(base: str) -> str:
    folder = HERE / FOLDER
    missing = [name for name in (*ACTIONS, LIBRARY, *MODULES, EFFECT) if not (folder / name).is_file()]
    if missing:
        raise SystemExit(f"missing in {folder}: {', '.join(missing)}")
    versions = {header_version(folder / name) for name in ACTIONS}
    if len(versions) != 1:
        raise SystemExit(f"the actions' @version lines differ: {sorted(versions)}")
    scripts_version = versions.pop()
    effect_version = header_version(folder / EFFECT)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<index version="1" name="MIDI-LLM">',
        f'  <category name="{FOLDER}">',
        '    <reapack name="MIDI-LLM.lua" type="script" desc="MIDI-LLM: generate, continue, infill, accompany and '
        'variations from text (midi-llm-bridge)">',
        *website(base),
        f'      <version name="{scripts_version}" author="midi-llm-bridge" time="{RELEASE_TIME}">',
        "        <changelog><![CDATA[Generate, Continue, Infill, Accompany, Variations as takes, Settings, Start daemon.]]>"
        "</changelog>",
    ]
    for name in ACTIONS:
        lines.append(f'        <source main="main" file="{escape(name)}">{escape(source_url(base, name))}</source>')
    for name in (LIBRARY, *MODULES):
        lines.append(f'        <source file="{escape(name)}">{escape(source_url(base, name))}</source>')
    lines += [
        "      </version>",
        "    </reapack>",
        f'    <reapack name="{escape(EFFECT)}" type="effect" desc="MIDI-LLM track options: instrument, pitch range, '
        'allowed">',
        f'      <version name="{effect_version}" author="midi-llm-bridge" time="{RELEASE_TIME}">',
        f'        <source file="{escape(EFFECT)}">{escape(source_url(base, EFFECT))}</source>',
        "      </version>",
        "    </reapack>",
        "  </category>",
        "</index>",
    ]
    return "\n".join(lines) + "\n"


def git(*args: str) -> str | None:
    """A git command's output in this folder's repository, or None (no git, no repository, no such remote)."""
    try:
        done = subprocess.run(["git", "-C", str(HERE), *args], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def github_repository(remote: str) -> tuple[str, str] | None:
    """(owner, name) of a GitHub remote URL in any of git's forms (https, ssh, scp-like), else None."""
    match = re.match(r"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
                     r"([^/]+)/([^/]+?)(?:\.git)?/?$", remote.strip())
    return (match.group(1), match.group(2)) if match else None


def remote_base(branch: str | None = None) -> str | None:
    """The raw URL of reaper_scripts/ at this checkout's GitHub remote "origin" and branch, or None."""
    remote = git("remote", "get-url", "origin")
    repository = github_repository(remote) if remote else None
    if not repository:
        return None
    branch = branch or git("symbolic-ref", "--short", "-q", "HEAD")  # also before the first commit
    if not branch or branch == "HEAD":
        branch = "main"
    return f"https://raw.githubusercontent.com/{repository[0]}/{repository[1]}/{quote(branch)}/reaper_scripts"


def placeholder_in(base: str) -> bool:
    repository = re.match(r"https://raw\.githubusercontent\.com/([^/]+)/", base)
    return bool(repository and repository.group(1) in PLACEHOLDER_OWNERS)


def check(url: str | None, branch: str | None) -> int:
    """0 when there is no index, or the committed one is complete, current and points at this repository."""
    if not INDEX.is_file():
        print(f"no {INDEX.name}: nothing is published (run python3 {Path(__file__).name} to publish)")
        return 0
    base = current_base()
    if not base or placeholder_in(base):
        print(f"{INDEX} points at a placeholder ({base}): ReaPack cannot download from it. Run python3 "
              f"{Path(__file__).name} in a clone whose remote 'origin' is the published repository (or pass --url), "
              "or delete the index.", file=sys.stderr)
        return 1
    expected = url or remote_base(branch)
    if expected and expected.rstrip("/") != base.rstrip("/"):
        print(f"{INDEX} points at {base}, but this repository is published at {expected}: run python3 "
              f"{Path(__file__).name}", file=sys.stderr)
        return 1
    if INDEX.read_text(encoding="utf-8") != build(base):
        print(f"{INDEX} is out of date: run python3 {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


def current_base() -> str | None:
    """The base URL the committed index.xml was written with (from the library's source)."""
    if not INDEX.is_file():
        return None
    for source in ET.parse(INDEX).getroot().iter("source"):
        if source.get("file") == LIBRARY and source.text:
            return source.text.strip().rsplit("/", 2)[0]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="raw URL of the reaper_scripts folder (default: from the GitHub remote "
                                      "'origin' and the branch, else MIDI_LLM_REAPACK_URL)")
    parser.add_argument("--branch", help="the branch users download from (default: the current one)")
    parser.add_argument("--check", action="store_true", help="only check the committed index.xml (if any)")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.url, args.branch)
    base = args.url or remote_base(args.branch) or os.environ.get("MIDI_LLM_REAPACK_URL")
    if not base:
        print("this checkout has no GitHub remote 'origin' to publish from: pass --url with the raw URL of its "
              "reaper_scripts folder (or set MIDI_LLM_REAPACK_URL)", file=sys.stderr)
        return 2
    if placeholder_in(base):
        print(f"{base} is a placeholder, not a repository: pass the real one", file=sys.stderr)
        return 2
    INDEX.write_text(build(base), encoding="utf-8")
    print(f"wrote {INDEX} ({base})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
