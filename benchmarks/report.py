"""Write one benchmark's section of docs/benchmarks.md, leaving the other sections as they are.

Each benchmark owns the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``;
a section that is not there yet is appended.
"""

from __future__ import annotations

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
