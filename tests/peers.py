"""The one rule for a test whose third-party peer (JACK, lua5.4, liblo-tools, node) is missing.

On a user's machine the test is skipped with the sentence that says how to install the
peer. In CI (``CI=true``, set by ``.ci/run``) the peers were meant to be installed, so a
missing one fails the run: a green CI where an install failed and the DAW, OSC and MIDI
tests quietly skipped would prove nothing.

Use :func:`needs_peer` as a mark (``pytestmark = needs_peer(reason_or_None)``) or call
:func:`missing_peer` inside a test or fixture. The mark is read by
:func:`pytest_runtest_setup`, which ``tests/conftest.py`` takes in as its own hook.
"""

from __future__ import annotations

import os

import pytest

CI_VALUES = ("1", "true", "yes", "on")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


def missing_peer(reason: str) -> None:
    """Skip with ``reason`` (how to install the peer), or fail in CI; never returns."""
    if in_ci():
        pytest.fail(f"CI=true and a peer is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def needs_peer(reason: str | None) -> pytest.MarkDecorator:
    """A mark for tests that need a peer; ``reason`` is why it is missing here, None when it is there."""
    return pytest.mark.needs_peer(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_peer"):
        if mark.args and mark.args[0]:
            missing_peer(str(mark.args[0]))
