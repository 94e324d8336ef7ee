"""`make bench` shows progress as it goes and leaves the tracked docs/benchmarks.md alone unless given --write."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.daemon_process import ENV, ROOT

pytestmark = pytest.mark.slow

QUICK = ["--tokens", "3", "--repeats", "1", "--hidden", "16", "--layers", "1"]
DOCS = ROOT / "docs" / "benchmarks.md"


def decode_benchmark(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "decode.py"), *QUICK, *args],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)


def test_without_write_it_prints_progress_and_writes_nothing(tmp_path):
    before = DOCS.read_bytes() if DOCS.exists() else None
    done = decode_benchmark()
    assert done.returncode == 0, done.stderr
    assert (DOCS.read_bytes() if DOCS.exists() else None) == before
    progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert progress[0].endswith("building the tiny checkpoints (hidden 16, 1 layers)"), done.stderr
    assert any("ours (Decoder.decode): 3 tokens x 1" in line for line in progress), done.stderr
    assert f"not written (add --write to update {DOCS})" in done.stderr
    assert "| ours (Decoder.decode) |" in done.stdout


def test_with_write_it_writes_its_section(tmp_path):
    output = tmp_path / "bench.md"
    done = decode_benchmark("--write", "--output", str(output))
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert "<!-- decode:begin -->" in text and "<!-- decode:end -->" in text
    assert f"written to {output}" in done.stderr


def test_make_bench_passes_its_arguments():
    makefile = (ROOT / "Makefile").read_text()
    assert "\t$(BIN)/python benchmarks/decode.py $(ARGS)\n" in makefile
