"""``request`` with a .mid in and a .mid out: the daemon writes the notes, the output is the user's file.

The daemon is asked for the new notes only; which given notes they replace
follows the protocol's rule (:mod:`bridge.amt.replacement`) and is checked
against the count the daemon reports, so the file never loses a note the
daemon kept. With ``--whole`` the JSON's notes (kept + new) are put together
here from the file.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bridge.amt.midi_file import MidiContent
from bridge.amt.notes import Note, in_beats, in_seconds
from bridge.amt.replacement import replaced_notes
from bridge.cli_files import check_given, write_merged


class MidiFileRequest:
    """One request whose input is a .mid file (see the module docstring)."""

    def __init__(self, args: argparse.Namespace, content: MidiContent, options: dict[str, Any]):
        self.args = args
        self.content = content
        self.tempo = content.tempo
        self.seconds = args.units == "seconds"
        self.given = frozenset(options.get("given", ())) or None
        if args.action == "accompany":
            check_given(self.given, content.notes, args.input)
        self.replaced: list[Note] = []
        if args.output:
            options.pop("whole", None)  # the file needs the new notes alone; --whole JSON is built here

    def _in_units(self, note: Note) -> Note:
        if not self.seconds:
            return note
        return in_seconds(note, self.tempo)

    def _in_beats(self, note: Note) -> Note:
        if not self.seconds:
            return note
        return in_beats(note, self.tempo)

    def notes_to_send(self) -> list[Note]:
        """The file's notes in the request's units (a .mid holds beats; ``--units seconds`` sends seconds)."""
        return [self._in_units(n) for n in self.content.notes]

    def _replaced_by(self, result) -> list[Note]:
        start, end = result.start, result.end
        if self.seconds:
            start, end = self.tempo.seconds_to_beats(start), self.tempo.seconds_to_beats(end)
        replaced = replaced_notes(self.args.action, self.content.notes, self.tempo, start, end, self.given)
        if len(replaced) != result.removed:
            raise ValueError(f"the daemon replaced {result.removed} notes of {self.args.input} but by the protocol's "
                             f"rule {len(replaced)} start inside the span; the output file was not written. Give "
                             "the span in bars (--start-bar/--end-bar) or use --json to see the notes")
        return replaced

    def write(self, paths: list[Path], result) -> list[str]:
        """Each variation as the input file with the replaced notes swapped for its new ones."""
        self.replaced = self._replaced_by(result)
        written = []
        for path, variation in zip(paths, result.variations):
            write_merged(path, self.content, self.replaced, [self._in_beats(n) for n in variation],
                         keep_rhythm=self.args.keep_rhythm, keep_pitches=self.args.keep_pitches, report=sys.stderr)
            written.append(str(path))
        return written

    def whole(self, new_notes: list[Note]) -> list[Note]:
        """Kept notes of the file (in the request's units) and the new ones, ordered as the daemon orders them."""
        gone = Counter(self.replaced)
        kept = []
        for note in self.content.notes:
            if gone[note] > 0:
                gone[note] -= 1
            else:
                kept.append(self._in_units(note))
        return sorted(kept + list(new_notes), key=lambda n: (n.start, n.pitch))
