"""The transformers backend, now a stepper over the grammar's state machine, writes what the decoder wrote.

``tests/data/machine_golden.json`` was written by the decoder before it was
rebuilt on bridge/engine/machine/ (commit f4df897's loop), for every mode:
generate, variations, continue, infill, accompany, scale and pitch range, the
16-instrument cap, note and token limits, keep rhythm (with and without
instruments, with slots passed over), keep pitches (with chords passed over),
windows that fill and slide. Same seed, same notes, same passed-over notes,
same rebuilds.
"""

from __future__ import annotations

import json

import pytest

from bridge.engine.decoder import Decoder
from tests import machine_cases

pytestmark = pytest.mark.slow

GOLDEN = json.loads(machine_cases.GOLDEN.read_text())


@pytest.fixture(scope="module")
def models(dense_midi_llm_dir, dense_amt_dir):
    return machine_cases.load_case_models(dense_midi_llm_dir, dense_amt_dir)


def test_every_case_has_a_pinned_outcome():
    assert set(GOLDEN) == set(machine_cases.cases())


@pytest.mark.parametrize("name", sorted(machine_cases.cases()))
def test_same_seed_same_notes_as_the_decoder_before_the_machine(models, name):
    model, arguments = machine_cases.cases()[name]
    outcome = machine_cases.run_case(Decoder(models[model]), models[model], arguments)
    assert outcome == GOLDEN[name]
