"""A missing peer is a skip with the install hint on a user's machine and a failure in CI (CI=true).

Runs pytest itself on a small generated test module, once per environment, and reads its
verdicts: the rule lives in tests/peers.py and every peer test goes through it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.daemon_process import ROOT

HINT = "frobnicator not installed: `make system-deps`"

MODULE = f'''
from tests.peers import missing_peer, needs_peer

@needs_peer({HINT!r})
def test_marked_missing():
    pass

@needs_peer(None)
def test_marked_present():
    pass

def test_called_missing():
    missing_peer({HINT!r})
'''

CONFTEST = "from tests.peers import pytest_runtest_setup  # noqa: F401\n"


def run_module(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_generated.py").write_text(MODULE)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-rA", "-q", "-p", "no:cacheprovider", "-W",
                           "ignore::pytest.PytestUnknownMarkWarning", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_on_a_users_machine_a_missing_peer_is_a_skip_that_says_how_to_install_it(tmp_path, ci):
    done = run_module(tmp_path, ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 2 skipped" in done.stdout, done.stdout
    assert "SKIPPED [2]" in done.stdout and HINT in done.stdout, done.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_peer_fails_the_run(tmp_path, ci):
    done = run_module(tmp_path, ci)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PASSED test_generated.py::test_marked_present" in done.stdout, done.stdout
    for name in ("test_marked_missing", "test_called_missing"):
        assert f"test_generated.py::{name} - Failed: CI=true and a peer is missing: {HINT}" in done.stdout, done.stdout


def test_ci_run_sets_ci():
    script = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    assert "export CI=true" in lines
    assert lines.index("export CI=true") < next(i for i, line in enumerate(lines) if line.startswith("make test"))
