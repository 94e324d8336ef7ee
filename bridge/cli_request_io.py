"""What ``midi-llm-bridge request`` reads and writes: notes from JSON or .mid, results as JSON, progress lines.

A REAPER script polls these files, so every output is written whole (a
temporary file, then renamed) and every progress event is one flushed line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def _note_from_json(item: Any, index: int):
    from bridge.amt.notes import Note

    if not isinstance(item, dict):
        raise ValueError(f"note {index + 1} in the JSON is not an object with pitch, start, duration")
    try:
        instrument = int(item.get("instrument", -1))
        channel = item.get("channel", -1)
        channel = -1 if channel is None else int(channel)
        velocity = float(item.get("velocity", 100))
        mute = bool(item.get("mute", 0))
        pitch, start, duration = int(item["pitch"]), float(item["start"]), float(item["duration"])
        if instrument < 0:
            # The daemon decides the instrument from the channel (drums on 9) and --program.
            return [pitch, start, duration, velocity, int(mute), -1, channel]
        return Note(pitch, start, duration, velocity, instrument, mute, None if channel < 0 else channel)
    except KeyError as error:
        raise ValueError(f"note {index + 1} in the JSON has no {error.args[0]!r}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"note {index + 1} in the JSON: {error}") from None


def read_input(path: str) -> tuple[list[Any], dict[str, Any]]:
    """Notes (Note, or raw atoms when the instrument comes from the channel) and what the file says of the song."""
    from bridge.cli_files import is_midi_path, read_input_file

    song: dict[str, Any] = {}
    if is_midi_path(path):
        content = read_input_file(path)
        changes = content.tempo.changes
        song["tempo"] = changes[0].bpm
        song["tempo_change"] = [(c.beat, c.bpm) for c in changes[1:]]
        song["time_sig"] = str(content.time_signature)
        song["content"] = content  # the base of a .mid output (see bridge.cli_files)
        return list(content.notes), song
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); give a .mid file or a JSON file") from None
    if isinstance(data, dict):
        if "tempo" in data:
            song["tempo"] = float(data["tempo"])
        if "tempo_changes" in data:
            song["tempo_change"] = [(float(b), float(t)) for b, t in data["tempo_changes"]]
        if "time_sig" in data:
            song["time_sig"] = str(data["time_sig"])
        items = data.get("notes")
        if items is None and data.get("variations"):
            items = data["variations"][0].get("notes", [])
        if items is None:
            raise ValueError(f"{path} has no \"notes\" list")
    elif isinstance(data, list):
        items = data
    else:
        raise ValueError(f"{path} must hold a list of notes or an object with \"notes\"")
    return [_note_from_json(item, i) for i, item in enumerate(items)], song


class ProgressFile:
    """One line per event, appended and flushed (a Lua script polls the last line)."""

    def __init__(self, path: str | None):
        self.handle = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115

    def line(self, text: str) -> None:
        if self.handle is not None:
            self.handle.write(" ".join(text.split()) + "\n")
            self.handle.flush()

    def event(self, name: str, values: list[Any]) -> None:
        if name == "progress":
            self.line(f"progress {float(values[0]):.3f} {int(values[1])}")
        elif name == "accepted":
            self.line(f"accepted {int(values[0])}")
        elif name == "started":
            self.line("started")
        elif name == "warning":
            self.line(f"warning {values[0]}")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_json(target: str | None, document: dict[str, Any]) -> None:
    if not target:
        return
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_atomically(Path(target), text.encode("utf-8"))


def number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 6)


def notes_json(notes: list[Any]) -> list[dict[str, Any]]:
    """Flat note objects; a note without a channel gets the one the .mid writer gives its instrument."""
    from bridge.amt.midi_file import assign_channels

    channels = assign_channels(sorted({n.instrument for n in notes}, key=lambda i: (i == 128, i)))
    return [{"pitch": n.pitch, "start": number(n.start), "duration": number(n.duration),
             "velocity": number(n.velocity), "instrument": n.instrument,
             "channel": n.channel if n.channel is not None else channels[n.instrument], "mute": int(n.mute)}
            for n in notes]
