"""Write one benchmark's section of docs/benchmarks.md, leaving the other sections as they are.

Each benchmark owns the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``;
a section that is not there yet is appended. docs/benchmarks.md is tracked, so a benchmark
only prints its results unless asked with ``--write`` (a run on a busy laptop should not turn
into a diff); and since a benchmark runs for minutes, it says what it is doing as it goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Each section is written by the script it names; rerun the script to refresh it. Speed is compared "
    "against a baseline measured in the same run, so the ratios carry over better than the absolute numbers "
    "(tiny models on a shared 2-core machine here).\n"
)


def write_section(name: str, markdown: str, path: Path = DOCS) -> Path:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def add_write_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", action="store_true",
                        help="write the results into --output (default: print them only)")
    parser.add_argument("--output", default=str(DOCS), help="the Markdown file --write updates (default %(default)s)")


def publish(options: argparse.Namespace, name: str, markdown: str) -> Path | None:
    """The section written with ``--write``; otherwise a line that says how to write it."""
    if not options.write:
        print(f"not written (add --write to update {options.output})", file=sys.stderr, flush=True)
        return None
    path = write_section(name, markdown, Path(options.output))
    print(f"written to {path}", file=sys.stderr, flush=True)
    return path


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """One line on standard error, at once: what the benchmark is measuring now, and since when it runs."""
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)
