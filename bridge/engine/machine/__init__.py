"""The grammar as one backend-neutral, per-row state machine (no tensors; see row.py)."""

from bridge.engine.machine.choices import (
    CONTROL,
    DURATION,
    NOTE,
    TIME,
    Expectation,
    Finished,
    Force,
    NoteRule,
    Rebuild,
    Sample,
)
from bridge.engine.machine.row import SKIP, GrammarError, RowMachine
from bridge.engine.machine.rules import RowRules, base_note_rule, request_rules

__all__ = [
    "CONTROL", "DURATION", "NOTE", "TIME", "SKIP", "Expectation", "Finished", "Force", "GrammarError",
    "NoteRule", "Rebuild", "RowMachine", "RowRules", "Sample", "base_note_rule", "request_rules",
]
