"""Check a sequence of AMT ids and say exactly what is wrong and where.

A model that hears a malformed sequence produces garbage without complaint, so
every sequence we build or decode can be checked here first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.amt import vocab


@dataclass(frozen=True)
class TokenProblem:
    """One thing wrong with a sequence: the index, what was expected, what was found."""

    position: int
    expected: str
    found: int

    def __str__(self) -> str:
        return (
            f"position {self.position}: expected {self.expected}, "
            f"found id {self.found} ({vocab.block_name(self.found)})"
        )


class InvalidTokens(ValueError):
    """Raised by :func:`check_tokens`; carries every problem found."""

    def __init__(self, problems: list[TokenProblem]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"invalid AMT sequence: {shown}{more}")


_SLOT_NAMES = ("time", "duration", "note or REST")
_CONTROL_SLOT_NAMES = ("control time", "control duration", "control note")


def find_problems(
    tokens: Sequence[int],
    *,
    allow_mode_token: bool = True,
    allow_controls: bool = True,
    monotonic: bool = True,
) -> list[TokenProblem]:
    """Every problem in ``tokens``; an empty list means the sequence is valid.

    The sequence may start with one mode token (AUTOREGRESS or ANTICIPATE); the
    rest must be whole triplets, each a note event (time, duration, note|REST)
    or a control (control time, control duration, control note). With
    ``monotonic`` the onsets of events never go back in time (controls keep
    their own order).
    """
    problems: list[TokenProblem] = []
    start = 0
    if tokens and tokens[0] in (vocab.AUTOREGRESS, vocab.ANTICIPATE):
        if not allow_mode_token:
            problems.append(TokenProblem(0, "a time id (no mode token here)", tokens[0]))
        start = 1
    body = len(tokens) - start
    whole = body - body % 3
    last_event_time = -1
    last_control_time = -1
    for base in range(start, start + whole, 3):
        t, d, n = tokens[base], tokens[base + 1], tokens[base + 2]
        if vocab.is_control_time(t):
            if not allow_controls:
                problems.append(TokenProblem(base, "a time id (controls not allowed)", t))
                continue
            checks = (vocab.is_control_time, vocab.is_control_duration, vocab.is_control_note)
            names = _CONTROL_SLOT_NAMES
        else:
            checks = (vocab.is_time, vocab.is_duration, lambda x: vocab.is_event_note(x) or x == vocab.REST)
            names = _SLOT_NAMES
        triplet_ok = True
        for slot, (token, check, name) in enumerate(zip((t, d, n), checks, names)):
            if not check(token):
                problems.append(TokenProblem(base + slot, f"a {name} id", token))
                triplet_ok = False
        if not triplet_ok:
            continue
        if n == vocab.REST and d != vocab.DURATION_OFFSET:
            problems.append(TokenProblem(base + 1, "duration 0 (id 10000) in a REST event", d))
        if monotonic:
            if vocab.is_control_time(t):
                time = t - vocab.CONTROL_TIME_OFFSET
                if time < last_control_time:
                    problems.append(
                        TokenProblem(base, f"a control time >= {last_control_time} (controls out of order)", t)
                    )
                last_control_time = max(last_control_time, time)
            else:
                if t < last_event_time:
                    problems.append(TokenProblem(base, f"a time >= {last_event_time} (time went backwards)", t))
                last_event_time = max(last_event_time, t)
    if body % 3:
        position = start + whole
        problems.append(
            TokenProblem(position, f"a whole triplet ({body % 3} dangling id(s) at the end)", tokens[position])
        )
    return problems


def check_tokens(tokens: Sequence[int], **options: bool) -> None:
    """Raise :class:`InvalidTokens` when :func:`find_problems` finds anything."""
    problems = find_problems(tokens, **options)
    if problems:
        raise InvalidTokens(problems)
