"""Write reaper_scripts/index.xml, the ReaPack index of the MIDI-LLM ReaScripts and JSFX.

    python3 reaper_scripts/make_index.py --url https://raw.githubusercontent.com/OWNER/REPO/main/reaper_scripts

``--url`` is where the folder ``reaper_scripts/`` can be downloaded file by file
(GitHub's raw URL of the branch; default: the URL already in index.xml, else
MIDI_LLM_REAPACK_URL). REAPER users then add ``<url>/index.xml`` in
Extensions > ReaPack > Import repositories. Versions come from the ``@version``
line of each script; bump it there, run this, commit both. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
INDEX = HERE / "index.xml"
FOLDER = "MIDI-LLM"  # the package category: REAPER installs into Scripts/MIDI-LLM/MIDI-LLM/
PLACEHOLDER_URL = "https://raw.githubusercontent.com/OWNER/midi-llm-bridge/main/reaper_scripts"
RELEASE_TIME = "2026-11-25T00:00:00Z"
LIBRARY = "midi-llm_lib.lua"

ACTIONS = (
    "MIDI-LLM - Generate.lua",
    "MIDI-LLM - Continue selected item.lua",
    "MIDI-LLM - Infill time selection.lua",
    "MIDI-LLM - Accompany selected item.lua",
    "MIDI-LLM - Variations as takes.lua",
    "MIDI-LLM - Settings.lua",
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
    missing = [name for name in (*ACTIONS, LIBRARY, EFFECT) if not (folder / name).is_file()]
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
        "        <changelog><![CDATA[Generate, Continue, Infill, Accompany, Variations as takes, Settings.]]>"
        "</changelog>",
    ]
    for name in ACTIONS:
        lines.append(f'        <source main="main" file="{escape(name)}">{escape(source_url(base, name))}</source>')
    lines.append(f'        <source file="{LIBRARY}">{escape(source_url(base, LIBRARY))}</source>')
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
    parser.add_argument("--url", help="raw URL of the reaper_scripts folder (default: the one in index.xml, else "
                                      "MIDI_LLM_REAPACK_URL, else a placeholder)")
    parser.add_argument("--check", action="store_true", help="only check that index.xml is up to date")
    args = parser.parse_args(argv)
    base = args.url or current_base() or os.environ.get("MIDI_LLM_REAPACK_URL") or PLACEHOLDER_URL
    text = build(base)
    if args.check:
        if not INDEX.is_file() or INDEX.read_text(encoding="utf-8") != text:
            print(f"{INDEX} is out of date: run python3 {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    INDEX.write_text(text, encoding="utf-8")
    print(f"wrote {INDEX} ({base})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
