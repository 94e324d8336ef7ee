"""Shared fixtures: tiny checkpoints saved once per test session and loaded through the real path."""

from __future__ import annotations

import os

import pytest

from tests.peers import pytest_runtest_setup  # noqa: F401 - the needs_peer rule (skip here, fail in CI)

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the hub
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def pytest_configure(config):
    """One torch thread: on a shared 2-core machine more threads make tiny models slower, not faster."""
    config.addinivalue_line("markers", "needs_peer(reason): needs a third-party peer; reason is why it is "
                                       "missing (None: present). Skipped, or failed in CI (tests/peers.py)")
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_midi_llm_dir(tmp_path_factory):
    """Random-weight Llama with MIDI-LLM's 183,286-id layout and a Llama-3-style tokenizer."""
    from bridge.engine.tiny_checkpoints import build_tiny_midi_llm

    return build_tiny_midi_llm(tmp_path_factory.mktemp("tiny-midi-llm"))


@pytest.fixture(scope="session")
def tiny_amt_dir(tmp_path_factory):
    """Random-weight GPT-2 with the AMT 55,028-id layout."""
    from bridge.engine.tiny_checkpoints import build_tiny_amt

    return build_tiny_amt(tmp_path_factory.mktemp("tiny-amt"))


@pytest.fixture(scope="session")
def dense_midi_llm_dir(tmp_path_factory):
    """MIDI-LLM layout with weights shaped to write many short notes (see tiny_checkpoints)."""
    from bridge.engine.tiny_checkpoints import build_tiny_midi_llm

    return build_tiny_midi_llm(tmp_path_factory.mktemp("dense-midi-llm"), dense_music=True)


@pytest.fixture(scope="session")
def dense_amt_dir(tmp_path_factory):
    from bridge.engine.tiny_checkpoints import build_tiny_amt

    return build_tiny_amt(tmp_path_factory.mktemp("dense-amt"), dense_music=True)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on a shared machine: one torch thread avoids OpenMP spinning against other processes."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def dense_engine(dense_midi_llm_dir):
    """An engine with the dense MIDI-LLM-layout checkpoint, loaded once."""
    from bridge.engine.engine import Engine

    return Engine.from_config({"id": str(dense_midi_llm_dir), "device": "cpu", "warmup": True})


@pytest.fixture(scope="session")
def dense_amt_engine(dense_amt_dir):
    from bridge.engine.engine import Engine

    return Engine.from_config({"id": str(dense_amt_dir), "device": "cpu", "warmup": True})
