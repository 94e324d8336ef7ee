#!/usr/bin/env python3
"""Build the Max for Live device MIDI-LLM.amxd and the two MIDI Tools from their text sources, reproducibly.

Sources (in git, text): ``src/MIDI-LLM.maxpat`` (the patcher JSON) and the ES5 JavaScript modules that
``src/sources.json`` lists for ``midi-llm.js`` (the pure modules, then the LiveAPI modules, the client
shared with the tools, and the device's own); for the Live 12 MIDI Tools ``src/MIDI-LLM-Tool.maxpat`` (one
patcher for both) with the scripts listed for ``midi-llm-tool.js``. Outputs, committed so that users need
neither Max nor Python to install them:

* ``MIDI-LLM.amxd``: a frozen MIDI-effect device holding the patcher and ``midi-llm.js`` (the device's
  scripts concatenated, for Max's classic ``js`` object), one file to drag into Live;
* ``MIDI-LLM.svg``: a drawing of the device's presentation view, for the README;
* laid out as in Live's User Library, ``MIDI Tools/Max Generators/MIDI-LLM.amxd`` (a MIDI Tool
  Generator, ``nagg``) and ``MIDI Tools/Max Transformations/MIDI-LLM.amxd`` (a Transformation,
  ``natt``), frozen the same way with ``midi-llm-tool.js``; the build keeps the boxes of the other
  kind out of each (``TOOL_ONLY``) and names the kind in ``[js midi-llm-tool.js <kind>]``;
  ``MIDI-LLM-Generator.svg`` and ``MIDI-LLM-Transformation.svg`` draw their first page.

With ``--unfrozen`` (into ``--out DIR``, not committed): devices holding the patcher only, with
``midi-llm.js`` next to ``MIDI-LLM.amxd`` and ``midi-llm-tool.js`` next to each tool, where Max
finds them.

Same sources, same bytes: no time stamps (frozen entries carry a fixed date) and no
absolute paths. Standard library only.

The container, as Ableton's own reader (github.com/Ableton/maxdevtools, maxdiff) parses it:
chunks of a 4-byte tag and a little-endian 32-bit size: ``ampf`` (device type ``mmmm`` =
MIDI effect, ``nagg`` = MIDI Tool Generator, ``natt`` = MIDI Tool Transformation; the patcher
repeats it as ``amxdtype``, big-endian, and a MIDI Tool's ``project`` too), ``meta`` (4 bytes:
0 unfrozen, 7 frozen), ``ptch``. Unfrozen, ``ptch`` is the
patcher JSON ending in a NUL. Frozen, it is an ``mx@c`` block (big-endian): ``mx@c``, header
size 16, 64-bit offset of the footer, the files back to back (the device's JSON first), then
the footer ``dlst`` of ``dire`` entries (``type``, ``fnam``, ``sz32``, ``of32``, ``vers``,
``flag``, ``mdat``), one per file.

    python max_for_live/build_amxd.py            # write the devices and the drawings
    python max_for_live/build_amxd.py --check    # exit 1 if the committed files are stale
    python max_for_live/build_amxd.py --unfrozen --out DIR   # unfrozen devices and their scripts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
PATCHER_SOURCE = SRC / "MIDI-LLM.maxpat"
JS_NAME = "midi-llm.js"
DEVICE_NAME = "MIDI-LLM.amxd"
SKETCH_NAME = "MIDI-LLM.svg"

DEVICE_TYPE = b"mmmm"  # MIDI effect

TOOL_PATCHER_SOURCE = SRC / "MIDI-LLM-Tool.maxpat"
TOOL_JS_NAME = "midi-llm-tool.js"
TOOLS_DIR = "MIDI Tools"  # as in Live's User Library, where Live looks for Max MIDI Tools
# kind: (folder under MIDI Tools/, device type, description)
TOOLS = {
    "generator": ("Max Generators", b"nagg",
                  "MIDI-LLM (Live 12 MIDI Tool Generator): writes into the clip editor's time selection from a prompt, "
                  "around the clip's other notes, with a local midi-llm-bridge daemon."),
    "transformation": ("Max Transformations", b"natt",
                       "MIDI-LLM (Live 12 MIDI Tool Transformation): re-imagines the selected notes (keep their rhythm or "
                       "their pitches) or accompanies them, with a local midi-llm-bridge daemon."),
}
# Boxes (by varname) that only one kind of tool has.
TOOL_ONLY = {"Mode": "transformation", "Mode prepend": "transformation", "About": "generator"}
TOOL_HEIGHT = 146  # the clip editor's Generate/Transform panel
META_UNFROZEN, META_FROZEN = 0, 7
DEVICE_ENTRY_FLAG = 0x11
HFS_EPOCH_OFFSET = 2082844800  # seconds from 1904-01-01 (HFS+) to 1970-01-01
FIXED_MDAT = 1704067200 + HFS_EPOCH_OFFSET  # 2024-01-01 UTC, so that builds are reproducible
AMXD_TYPE_MIDI = int.from_bytes(DEVICE_TYPE, "big")  # the patcher's "amxdtype"


def source_lists(src: Path = SRC) -> dict[str, tuple[str, ...]]:
    """Each built script's sources in load order, from ``src/sources.json`` (the harness reads it too).

    An entry ``@group`` stands for the files of that group (``pure``: the modules without Max or Live).
    """
    table = json.loads((src / "sources.json").read_text(encoding="utf-8"))
    lists: dict[str, tuple[str, ...]] = {}
    for name, entries in table.items():
        if name == "about":
            continue
        files: list[str] = []
        for entry in entries:
            files.extend(table[entry[1:]] if entry.startswith("@") else [entry])
        lists[name] = tuple(files)
    return lists


SOURCES = source_lists()
JS_SOURCES = SOURCES[JS_NAME]
TOOL_JS_SOURCES = SOURCES[TOOL_JS_NAME]
LAUNCHER_NAME = "midi-llm-launcher.js"  # Node for Max: [node.script midi-llm-launcher.js @autostart 1]
LAUNCHER_SOURCES = SOURCES[LAUNCHER_NAME]


def tool_path(kind: str) -> str:
    """Where a MIDI Tool's .amxd goes, relative to the output folder."""
    return f"{TOOLS_DIR}/{TOOLS[kind][0]}/{DEVICE_NAME}"


def build_js(src: Path = SRC, sources: tuple[str, ...] = JS_SOURCES, name: str = JS_NAME) -> bytes:
    """The sources concatenated (in dependency order) under a header naming their digest.

    The launcher is Node (node.script runs it from a file of its own); the others are ES5 for [js].
    """
    js_name, js_sources = name, sources
    parts = []
    digest = hashlib.sha256()
    for name in js_sources:
        text = (src / name).read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text += "\n"
        digest.update(name.encode() + b"\0" + text.encode("utf-8"))
        parts.append(f"// ----- src/{name} " + "-" * max(4, 80 - len(name) - 14) + "\n" + text)
    header = (
        f"// {js_name}: built by max_for_live/build_amxd.py from max_for_live/src/; do not edit it here.\n"
        f"// Sources: {', '.join(js_sources)} (sha256 {digest.hexdigest()[:16]}).\n"
        + ("// Node for Max: run by [node.script] in a Node process of its own (Max 8.5+ as bundled with Live 11 "
           "and 12).\n\n" if js_name == LAUNCHER_NAME else
           "// ES5 for Max's classic [js] object (Max 8.5+ as bundled with Live 11 and 12).\n\n")
    )
    return (header + "\n".join(parts)).encode("utf-8")


def dependencies(js_name: str) -> list[dict]:
    """What a frozen device holds besides its patcher, as Max lists it: the [js] script and the launcher."""
    return [{"name": name, "patcherrelativepath": ".", "type": "TEXT", "implicit": 1}
            for name in (js_name, LAUNCHER_NAME)]


def check_launcher(inner: dict, source: str) -> None:
    """The patcher must hold exactly one [node.script midi-llm-launcher.js ...] box."""
    boxes = [b["box"] for b in inner["boxes"] if b["box"].get("text", "").split()[:1] == ["node.script"]]
    if [b["text"].split()[1] for b in boxes] != [LAUNCHER_NAME]:
        raise SystemExit(f"{source} must hold exactly one [node.script {LAUNCHER_NAME}] box")


def build_patcher(src: Path = SRC) -> dict:
    """The patcher JSON, checked: a MIDI effect whose [js] loads midi-llm.js, with the launcher's node.script."""
    patcher = json.loads((src / PATCHER_SOURCE.name).read_text(encoding="utf-8"))
    inner = patcher["patcher"]
    scripts = [b["box"] for b in inner["boxes"] if b["box"].get("text", "").split()[:1] == ["js"]]
    if [s["text"].split()[1] for s in scripts] != [JS_NAME]:
        raise SystemExit(f"{PATCHER_SOURCE.name} must hold exactly one [js {JS_NAME}] box")
    check_launcher(inner, PATCHER_SOURCE.name)
    inner["amxdtype"] = AMXD_TYPE_MIDI
    inner["dependency_cache"] = dependencies(JS_NAME)
    return patcher


def build_tool_patcher(kind: str, src: Path = SRC) -> dict:
    """The MIDI Tool's patcher: the shared source without the other kind's boxes, typed as ``kind``."""
    patcher = json.loads((src / TOOL_PATCHER_SOURCE.name).read_text(encoding="utf-8"))
    inner = patcher["patcher"]
    dropped = {b["box"]["id"] for b in inner["boxes"] if TOOL_ONLY.get(b["box"].get("varname"), kind) != kind}
    inner["boxes"] = [b for b in inner["boxes"] if b["box"]["id"] not in dropped]
    inner["lines"] = [line for line in inner["lines"]
                      if not {line["patchline"]["source"][0], line["patchline"]["destination"][0]} & dropped]
    inner["parameters"] = {k: v for k, v in inner["parameters"].items() if k not in dropped}
    scripts = [b["box"] for b in inner["boxes"] if b["box"].get("text", "").split()[:1] == ["js"]]
    if [s["text"].split()[1:] for s in scripts] != [[TOOL_JS_NAME]]:
        raise SystemExit(f"{TOOL_PATCHER_SOURCE.name} must hold exactly one [js {TOOL_JS_NAME}] box")
    scripts[0]["text"] = f"js {TOOL_JS_NAME} {kind}"
    folder, device_type, description = TOOLS[kind]
    amxdtype = int.from_bytes(device_type, "big")
    inner["amxdtype"] = amxdtype
    inner["project"]["amxdtype"] = amxdtype  # what Live's MIDI Tool browser goes by
    inner["description"] = description
    check_launcher(inner, TOOL_PATCHER_SOURCE.name)
    inner["dependency_cache"] = dependencies(TOOL_JS_NAME)
    return patcher


def patcher_bytes(patcher: dict) -> bytes:
    return (json.dumps(patcher, indent="\t", ensure_ascii=False) + "\n").encode("utf-8") + b"\0"


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("<I", len(payload)) + payload


def _field(tag: str, payload: bytes) -> bytes:
    return tag.encode("ascii") + struct.pack(">I", 8 + len(payload)) + payload


def _dire(kind: str, name: str, size: int, offset: int, flag: int) -> bytes:
    raw = name.encode("ascii")
    fname = raw + b"\0" * ((len(raw) // 4 + 1) * 4 - len(raw))  # NUL-terminated, padded to 4
    fields = (_field("type", kind.encode("ascii")) + _field("fnam", fname)
              + _field("sz32", struct.pack(">I", size)) + _field("of32", struct.pack(">I", offset))
              + _field("vers", struct.pack(">I", 0)) + _field("flag", struct.pack(">I", flag))
              + _field("mdat", struct.pack(">I", FIXED_MDAT)))
    return b"dire" + struct.pack(">I", 8 + len(fields)) + fields


def frozen_ptch(device_json: bytes, files: list[tuple[str, str, bytes]]) -> bytes:
    """The mx@c block: the device's JSON, then each (name, type, bytes), then the dlst footer."""
    region = bytearray(device_json)
    dires = [_dire("JSON", DEVICE_NAME, len(device_json), 16, DEVICE_ENTRY_FLAG)]
    for name, kind, data in files:
        dires.append(_dire(kind, name, len(data), 16 + len(region), 0))
        region += data
    footer_body = b"".join(dires)
    footer = b"dlst" + struct.pack(">I", 8 + len(footer_body)) + footer_body
    return b"mx@c" + struct.pack(">I", 16) + struct.pack(">Q", 16 + len(region)) + bytes(region) + footer


def build_amxd(patcher: dict, js: bytes, launcher: bytes, *, frozen: bool = True, device_type: bytes = DEVICE_TYPE,
               js_name: str = JS_NAME) -> bytes:
    """The .amxd; frozen, it holds the [js] script and the launcher (which Max gives node.script as a file)."""
    device_json = patcher_bytes(patcher)
    if frozen:
        ptch, meta = frozen_ptch(device_json, [(js_name, "TEXT", js), (LAUNCHER_NAME, "TEXT", launcher)]), META_FROZEN
    else:
        ptch, meta = device_json, META_UNFROZEN
    return _chunk(b"ampf", device_type) + _chunk(b"meta", struct.pack("<I", meta)) + _chunk(b"ptch", ptch)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _wrap(text: str, width: float, size: float) -> list[str]:
    """A comment's lines as Max wraps them, roughly (an average glyph is about half the font size)."""
    most = max(1, int(width / (size * 0.52)))
    rows: list[str] = []
    for word in text.split():
        if rows and len(rows[-1]) + 1 + len(word) <= most:
            rows[-1] += " " + word
        else:
            rows.append(word)
    return rows or [""]


def render_presentation(patcher: dict, height: int = 169,
                        placeholder: str = "prompt: e.g. funky slap bass line, 16ths, minor key") -> bytes:
    """An SVG drawing of the device as Live shows it (its presentation view), from the patcher JSON.

    A sketch for the README, drawn from the boxes' presentation rectangles and initial values
    (hidden boxes, such as a tool's other page, left out); it is not a screenshot of Live.
    """
    inner = patcher["patcher"]
    width = int(inner["devicewidth"])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * 2}" height="{height * 2}" '
           f'viewBox="0 0 {width} {height}" font-family="Arial, Helvetica, sans-serif">',
           f'<rect width="{width}" height="{height}" fill="#2f2f2f"/>']
    for entry in inner["boxes"]:
        box = entry["box"]
        if not box.get("presentation") or box.get("hidden"):
            continue
        x, y, w, h = box["presentation_rect"]
        kind = box["maxclass"]
        value = box.get("saved_attribute_attributes", {}).get("valueof", {})
        initial = (value.get("parameter_initial") or [0])[0]
        if kind == "comment":
            size = box.get("fontsize", 10.0)
            weight = "bold" if box.get("fontface") == 1 else "normal"
            fill = "#f0c850" if weight == "bold" else "#bdbdbd"
            for row, text in enumerate(_wrap(box["text"], w, size)):
                baseline = y + size if row == 0 else round(y + size * (1 + 1.2 * row), 2)
                out.append(f'<text x="{x + 1}" y="{baseline}" font-size="{size}" font-weight="{weight}" '
                           f'fill="{fill}">{_escape(text)}</text>')
        elif kind == "textedit":
            out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2" fill="#1e1e1e" stroke="#6a6a6a"/>')
            if box.get("varname") == "Prompt":  # the other fields (Daemon path, Secret) start empty
                out.append(f'<text x="{x + 5}" y="{y + 15}" font-size="11" fill="#7d7d7d">{_escape(placeholder)}</text>')
        elif kind == "live.text":
            out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2" fill="#f0c850" stroke="#1e1e1e"/>')
            out.append(f'<text x="{x + w / 2}" y="{y + h / 2 + 4}" font-size="{min(12, h - 6)}" text-anchor="middle" '
                       f'fill="#1e1e1e" font-weight="bold">{_escape(box["text"])}</text>')
        elif kind == "live.tab":
            items = value["parameter_enum"]
            for i, item in enumerate(items):
                left = x + i * w / len(items)
                fill, ink = ("#f0c850", "#1e1e1e") if i == int(initial) else ("#474747", "#e6e6e6")
                out.append(f'<rect x="{left:g}" y="{y}" width="{w / len(items):g}" height="{h}" fill="{fill}" '
                           'stroke="#1e1e1e"/>')
                out.append(f'<text x="{left + w / len(items) / 2:g}" y="{y + h - 4}" font-size="9" text-anchor="middle" '
                           f'fill="{ink}">{_escape(item)}</text>')
        elif kind in ("live.menu", "live.numbox"):
            if kind == "live.menu":
                label = value["parameter_enum"][int(initial)]
            elif value.get("parameter_unitstyle") == 9:
                label = value["parameter_units"].replace("%d", str(int(initial)))
            else:
                label = f"{initial:g}" if value.get("parameter_unitstyle") == 1 else str(int(initial))
            out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#474747" stroke="#1e1e1e"/>')
            out.append(f'<text x="{x + 4}" y="{y + h - 5}" font-size="10" fill="#e6e6e6">{_escape(label)}</text>')
            if kind == "live.menu":
                out.append(f'<path d="M{x + w - 10} {y + 7} l6 0 l-3 4 z" fill="#e6e6e6"/>')
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")


def build(src: Path = SRC, *, frozen: bool = True) -> dict[str, bytes]:
    """Every output file by its path relative to the output folder.

    Frozen devices hold their script; unfrozen ones find it in their own folder, so the unfrozen build
    writes ``midi-llm.js`` next to ``MIDI-LLM.amxd`` and ``midi-llm-tool.js`` next to each tool, each with
    ``midi-llm-launcher.js``.
    """
    js = build_js(src)
    launcher = build_js(src, LAUNCHER_SOURCES, LAUNCHER_NAME)
    patcher = build_patcher(src)
    outputs = {DEVICE_NAME: build_amxd(patcher, js, launcher, frozen=frozen), SKETCH_NAME: render_presentation(patcher)}
    if not frozen:
        outputs[JS_NAME] = js
        outputs[LAUNCHER_NAME] = launcher
    tool_js = build_js(src, TOOL_JS_SOURCES, TOOL_JS_NAME)
    for kind, (folder, device_type, _) in TOOLS.items():
        tool = build_tool_patcher(kind, src)
        outputs[tool_path(kind)] = build_amxd(tool, tool_js, launcher, frozen=frozen, device_type=device_type,
                                              js_name=TOOL_JS_NAME)
        outputs[f"MIDI-LLM-{kind.capitalize()}.svg"] = render_presentation(tool, TOOL_HEIGHT, "prompt: e.g. walking bass")
        if not frozen:
            outputs[f"{TOOLS_DIR}/{folder}/{TOOL_JS_NAME}"] = tool_js
            outputs[f"{TOOLS_DIR}/{folder}/{LAUNCHER_NAME}"] = launcher
    return outputs


# ----- reading (for --check, the tests and curious people) ---------------------------------------


def parse_amxd(data: bytes) -> dict:
    """{"type": "mmmm" (or nagg, natt), "meta": int, "frozen": bool, "patcher": dict, "files": {name: (type, flag, bytes)}}.

    Raises ValueError when the bytes are not a well-formed device.
    """
    chunks: list[tuple[bytes, bytes]] = []
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise ValueError(f"a truncated chunk header at byte {offset}")
        tag = data[offset:offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4:offset + 8])
        payload = data[offset + 8:offset + 8 + size]
        if len(payload) != size:
            raise ValueError(f"chunk {tag!r} says {size} bytes, {len(payload)} are there")
        chunks.append((tag, payload))
        offset += 8 + size
    if [t for t, _ in chunks] != [b"ampf", b"meta", b"ptch"]:
        raise ValueError(f"chunks {[t for t, _ in chunks]} are not ampf, meta, ptch")
    kind, meta, ptch = (p for _, p in chunks)
    if len(meta) != 4:
        raise ValueError("the meta chunk must hold 4 bytes")
    result: dict = {"type": kind.decode("ascii"), "meta": struct.unpack("<I", meta)[0], "files": {}}
    if ptch[:4] != b"mx@c":
        result["frozen"] = False
        result["patcher"] = json.loads(ptch.rstrip(b"\0").decode("utf-8"))
        return result
    result["frozen"] = True
    (header_size,) = struct.unpack(">I", ptch[4:8])
    (footer_at,) = struct.unpack(">Q", ptch[8:16])
    if header_size != 16 or ptch[footer_at:footer_at + 4] != b"dlst":
        raise ValueError("the mx@c block has no dlst footer where its header says")
    (footer_size,) = struct.unpack(">I", ptch[footer_at + 4:footer_at + 8])
    if footer_at + footer_size != len(ptch):
        raise ValueError("the dlst footer's size does not reach the end of the ptch chunk")
    entries = ptch[footer_at + 8:]
    while entries:
        if entries[:4] != b"dire":
            raise ValueError(f"footer entry {entries[:4]!r} is not dire")
        (entry_size,) = struct.unpack(">I", entries[4:8])
        fields, body = {}, entries[8:entry_size]
        while body:
            (field_size,) = struct.unpack(">I", body[4:8])
            fields[body[:4].decode("ascii")] = body[8:field_size]
            body = body[field_size:]
        name = fields["fnam"].rstrip(b"\0").decode("ascii")
        (size,) = struct.unpack(">I", fields["sz32"])
        (at,) = struct.unpack(">I", fields["of32"])
        if at + size > footer_at:
            raise ValueError(f"{name} lies past the start of the footer")
        result["files"][name] = (fields["type"].decode("ascii"), struct.unpack(">I", fields["flag"])[0],
                                 ptch[at:at + size])
        entries = entries[entry_size:]
    device = result["files"].get(DEVICE_NAME)
    if device is None or device[0] != "JSON":
        raise ValueError(f"the frozen device has no {DEVICE_NAME} JSON entry")
    result["patcher"] = json.loads(device[2].rstrip(b"\0").decode("utf-8"))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: max_for_live/)")
    parser.add_argument("--unfrozen", action="store_true",
                        help="write unfrozen devices that load their script (midi-llm.js, midi-llm-tool.js) from "
                             "their own folder")
    parser.add_argument("--check", action="store_true",
                        help="do not write: exit 1 if the files in --out differ from a fresh build")
    args = parser.parse_args(argv)
    outputs = build(frozen=not args.unfrozen)
    if args.check:
        stale = [name for name, data in outputs.items()
                 if not (args.out / name).is_file() or (args.out / name).read_bytes() != data]
        if stale:
            print(f"stale: {', '.join(stale)}; run: python max_for_live/build_amxd.py", file=sys.stderr)
            return 1
        print("up to date: " + ", ".join(outputs))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        (args.out / name).parent.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
