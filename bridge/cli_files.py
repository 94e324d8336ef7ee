"""The .mid side of the command line: an input file read once, and results written back into it.

Both the local commands (``infill``/``continue``/``accompany``) and ``request``
through the daemon turn an input .mid into an output .mid the same way: the
output is the input file with the replaced notes swapped for the new ones
(:mod:`bridge.amt.file_merge`), and what could not be written as the model
wrote it is said on the terminal. Never imports torch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from bridge.amt.midi_file import MidiContent
from bridge.amt.notes import Note

MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


def is_midi_path(path: str | None) -> bool:
    return bool(path) and Path(path).suffix.lower() in MIDI_SUFFIXES


def variation_paths(output: str, count: int) -> list[Path]:
    """Where the variations go: ``out.mid`` itself, then ``out-2.mid``, ``out-3.mid``...

    The one naming for every command (local and ``request``): the file the user named is
    always written, so a script that asked for one file finds it whatever the count.
    A name without a MIDI suffix gets ``.mid``.
    """
    path = Path(output)
    if path.suffix.lower() not in MIDI_SUFFIXES:
        path = path.with_name(path.name + ".mid")
    return [path] + [path.with_name(f"{path.stem}-{i}{path.suffix}") for i in range(2, count + 1)]


def check_writable(output: str | None, flag: str = "-o") -> None:
    """Refuse an output nobody can write before the model runs, not after minutes of decoding."""
    import os

    if not output:
        return
    path = Path(output)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ValueError(f"{flag} {output}: is a folder; give a file name such as {path / 'out.mid'}")
    if not folder.is_dir():
        raise ValueError(f"{flag} {output}: the folder {folder} does not exist; create it or write elsewhere")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{flag} {output}: cannot write there (permission denied); choose another place")


def read_input_file(path: str) -> MidiContent:
    """The input .mid, read once: its notes go to the model and the file itself is the base of the output."""
    from bridge.amt.midi_file import read_midi

    content = read_midi(path)
    for warning in content.warnings:
        print(f"note: {warning}", file=sys.stderr)
    return content


def check_given(asked: Iterable[int] | None, notes: Sequence[Note], source: str) -> None:
    """Accompanying a part the notes do not have would replace every other part: refuse it, saying what is there."""
    from bridge.amt.gm import instrument_name

    if not asked:
        return
    present = sorted({n.instrument for n in notes if not n.mute})
    missing = sorted(set(asked) - set(present))
    if not missing:
        return
    named = ", ".join(f"{i} ({instrument_name(i)})" for i in missing)
    there = ", ".join(f"{i} ({instrument_name(i)})" for i in present) or "no notes at all"
    raise ValueError(f"--given {named}: {source} has no such part; its instruments are {there}. "
                     "Choose --given from those, or leave --given out to accompany every part")


def keep_mode_line(keep_rhythm: bool, keep_pitches: bool, given: int, written: int) -> str | None:
    """``keep rhythm: 36 notes given, 33 written``: a keep mode should write one note per given note."""
    if not (keep_rhythm or keep_pitches):
        return None
    return f"keep {'rhythm' if keep_rhythm else 'pitches'}: {given} notes given, {written} written"


def write_merged(path: Path, content: MidiContent, replaced: Sequence[Note], new_notes: Sequence[Note], *,
                 keep_rhythm: bool = False, keep_pitches: bool = False, report: TextIO | None = None) -> None:
    """Write the input file with ``replaced`` swapped for ``new_notes`` and tell the user what was written.

    ``report`` gets the summary lines (default standard output; ``request`` keeps
    standard output for its JSON and passes standard error). Warnings go to standard error.
    """
    report = report or sys.stdout
    from bridge.amt.file_merge import merge_into_file
    from bridge.amt.midi_file import save_midi_file

    merged, summary = merge_into_file(content, replaced, new_notes)
    save_midi_file(merged, path)
    tracks = f"; new tracks: {', '.join(summary.new_tracks)}" if summary.new_tracks else ""
    print(f"{path}: {len(summary.written)} new notes, {summary.replaced} replaced, {summary.kept} kept{tracks}",
          file=report)
    line = keep_mode_line(keep_rhythm, keep_pitches, len(replaced), len(summary.written))
    if line and len(replaced) != len(summary.written):
        print(f"note: {line}: the model could not place every one", file=sys.stderr)
    elif line:
        print(line, file=report)
    for sentence in summary.sentences():
        print(f"note: {path}: {sentence}", file=sys.stderr)
