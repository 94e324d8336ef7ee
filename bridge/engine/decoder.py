"""The transformers backend: a thin stepper over the grammar's state machine, KV-cached and batched.

Each variation is a row of one batch with its own :class:`RowMachine`
(bridge/engine/machine/), which says for every position what is allowed or
forced; this module only steps the model. A step writes one triplet per row:
time, duration, note. Ids the machine forces (due controls, keep rhythm's
onsets and durations) are fed in right-padded chunks (pads masked out), so
rows may grow by different amounts while sharing one cache. Logits are
computed only for the rows of the output head a slot allows, which is both
the grammar and most of the speed.

What the model sees is each row's window (``bridge.engine.window``, kept by
the machine): the reference sampler's layout, rebuilt (with the cache)
whenever the cached one is no longer it. Each row's window and random draws
depend on that row alone, so a variation is the same whatever the number of
variations.
"""

from __future__ import annotations

import inspect
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from bridge.amt import vocab
from bridge.amt.sequence import DecodingPlan
from bridge.engine.grammar import NOTE_SLOT_SIZE, MusicianConstraints
from bridge.engine.keep_modes import RhythmSlot
from bridge.engine.loading import LoadedModel
from bridge.engine.machine import SKIP, Finished, Force, Rebuild, RowMachine, Sample, request_rules
from bridge.engine.machine.masks import note_mask
from bridge.engine.sampling import SamplingOptions, sample, sample_each
from bridge.engine.window import WindowPolicy, history_capacity

log = logging.getLogger(__name__)

EventCallback = Callable[[int, vocab.Event], None]
ProgressCallback = Callable[[float], None]
SkipCallback = Callable[[int], None]


class Cancelled(Exception):
    """The request was cancelled; raised within one decoding step."""


@dataclass
class DecodeStats:
    forward_calls: int = 0
    rebuilds: int = 0
    sampled_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.sampled_tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RowResult:
    """What one variation produced: new events in absolute ticks, in order.

    ``unplaced`` counts, by reason, the given notes of keep rhythm / keep
    pitches that this row could not keep.
    """

    events: list[vocab.Event]
    finish_reason: str
    unplaced: dict[str, int] = field(default_factory=dict)


@dataclass
class _Row:
    index: int
    machine: RowMachine
    generator: torch.Generator
    cached: int = 0  # real (unpadded) ids in the cache, prefix included
    fed: int = 0  # ids of the machine's sequence in the cache (the rest is still to feed)
    done: bool = False


class Decoder:
    """Decodes plans with a loaded model; one instance per resident model.

    ``window_margin`` (ids) is room a window rebuild leaves free (see
    :class:`bridge.engine.window.WindowPolicy`); 0 is the reference's layout.
    """

    def __init__(self, loaded: LoadedModel, *, window_margin: int = 0):
        self.loaded = loaded
        self.profile = loaded.profile
        self.device = loaded.device
        self.window_margin = window_margin
        self.base = loaded.model.base_model
        head = loaded.model.get_output_embeddings()
        self.head_weight: torch.Tensor = head.weight
        self.head_bias: torch.Tensor | None = getattr(head, "bias", None)
        tokenizer = loaded.tokenizer
        pad = getattr(tokenizer, "pad_token_id", None) if tokenizer is not None else None
        self.pad_id = int(pad) if pad is not None else self.profile.model_id(vocab.SEPARATOR)
        # transformers 5 renamed past_key_values to cache; the cache object is updated in place.
        parameters = inspect.signature(self.base.forward).parameters
        self.cache_argument = "cache" if "cache" in parameters else "past_key_values"

    # ----- model calls -------------------------------------------------------------------

    def _head(self, hidden: torch.Tensor, first_amt_id: int, end_amt_id: int) -> torch.Tensor:
        """Logits of AMT ids [first, end) only, as float32 [rows, end - first]."""
        lo = self.profile.model_id(first_amt_id)
        hi = self.profile.model_id(end_amt_id)
        logits = hidden @ self.head_weight[lo:hi].T
        if self.head_bias is not None:
            logits = logits + self.head_bias[lo:hi]
        return logits.float()

    def _forward(self, rows: list[_Row], chunks: list[list[int]], state: dict) -> torch.Tensor:
        """Feed one right-padded chunk per row; returns the hidden state of each row's last real id."""
        width = max(1, max(len(c) for c in chunks))
        batch = len(rows)
        ids = torch.full((batch, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((batch, width), dtype=torch.long)
        positions = torch.zeros((batch, width), dtype=torch.long)
        last = torch.zeros(batch, dtype=torch.long)
        for b, (row, chunk) in enumerate(zip(rows, chunks)):
            n = len(chunk)
            if n:
                ids[b, :n] = torch.tensor(chunk, dtype=torch.long)
                mask[b, :n] = 1
                positions[b, :n] = torch.arange(row.cached, row.cached + n)
            positions[b, n:] = max(row.cached + n - 1, 0)
            last[b] = max(n - 1, 0)
            row.cached += n
        state["mask"] = torch.cat([state["mask"], mask.to(self.device)], dim=1)
        output = self.base(
            input_ids=ids.to(self.device),
            attention_mask=state["mask"],
            position_ids=positions.to(self.device),
            use_cache=True,
            **{self.cache_argument: state["cache"]},
        )
        state["stats"].forward_calls += 1
        hidden = output.last_hidden_state
        return hidden[torch.arange(batch, device=hidden.device), last.to(hidden.device)]

    # ----- windows -----------------------------------------------------------------------

    def _pending(self, row: _Row) -> list[int]:
        """Model ids of the row's sequence that the cache does not hold yet; marks them fed."""
        machine = row.machine
        end = len(machine.sequence.tokens)
        pending = [self.profile.model_id(machine.relative(i)) for i in range(row.fed, end)]
        row.fed = end
        return pending

    def _rebuild(self, rows: list[_Row], prefix: list[int], state: dict) -> torch.Tensor:
        """A fresh cache: each row's prefix and window (the machine picks a new window where it went stale)."""
        state["cache"] = self._new_cache()
        state["mask"] = torch.zeros((len(rows), 0), dtype=torch.long, device=self.device)
        state["stats"].rebuilds += 1
        chunks = []
        for row in rows:
            row.cached = 0
            if row.done:  # its cache is never read again: one real id keeps its attention well defined
                chunks.append(prefix[:1])
                continue
            row.machine.rebuild()
            row.fed = len(row.machine.sequence.tokens)
            chunks.append(prefix + [self.profile.model_id(t) for t in row.machine.window_ids()])
        return self._forward(rows, chunks, state)

    @staticmethod
    def _new_cache():
        from transformers import DynamicCache

        return DynamicCache()

    # ----- the loop ----------------------------------------------------------------------

    @torch.inference_mode()
    def decode(
        self,
        plan: DecodingPlan,
        *,
        prefix_ids: Sequence[int] = (),
        variations: int = 1,
        sampling: SamplingOptions | None = None,
        constraints: MusicianConstraints | None = None,
        seed: int | None = None,
        max_new_tokens: int = 2046,
        on_event: EventCallback | None = None,
        on_progress: ProgressCallback | None = None,
        on_skip: SkipCallback | None = None,
        cancel: threading.Event | None = None,
        rhythm: Sequence[RhythmSlot | tuple[int, int]] | None = None,
        pitches: Sequence[Sequence[int]] | None = None,
    ) -> tuple[list[RowResult], DecodeStats]:
        """Sample ``variations`` continuations of ``plan`` together.

        ``prefix_ids`` are model ids before the mode token (MIDI-LLM's text).
        Returns per variation the new note events (RESTs dropped) in absolute
        ticks, and statistics. Raises :class:`Cancelled` when ``cancel`` is set.

        ``rhythm`` (absolute :class:`RhythmSlot` onsets and durations, sorted)
        fixes the time and duration of every new event: they are fed as if
        sampled and the model chooses only the notes (no RESTs, never a note
        twice on one onset, of the slot's instrument when it has one), one per slot.

        ``pitches`` (groups of note values, instrument * 128 + pitch: one group
        per chord, in order) fixes the notes instead: the model chooses when
        each chord starts and how long each note lasts; the notes of a chord
        share its onset, and each chord leaves one 10 ms step per later chord
        before the span's end, so that every chord fits.

        A given note a row cannot keep (see :mod:`bridge.engine.keep_modes`)
        is passed over: ``on_skip(row)`` is called in its place, in order, and
        the row's ``unplaced`` counts it by reason. A row ends when its given
        notes are used up. The rules are the machine's (bridge/engine/machine/).
        """
        sampling = sampling or SamplingOptions()
        constraints = constraints or MusicianConstraints()
        started = time.perf_counter()
        stats = DecodeStats()
        prefix = [*prefix_ids, self.profile.model_id(plan.mode_token)]
        policy = WindowPolicy(history_capacity(self.profile.context_tokens, len(prefix)), self.window_margin)
        rules = request_rules(plan, policy, constraints, max_new_tokens, rhythm, pitches)
        if seed is None:
            seed = secrets.randbits(31)
        rows = [_Row(i, RowMachine(rules, plan.new_state()), torch.Generator().manual_seed(row_seed(seed, i)))
                for i in range(variations)]
        span = max(1, plan.end - plan.start)

        def check_cancel() -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()

        def report(row: _Row) -> None:
            """Pass the machine's news (new notes, given notes passed over) to the callbacks, in order."""
            for item in row.machine.take_news():
                if item == SKIP:
                    if on_skip is not None:
                        on_skip(row.index)
                elif on_event is not None:
                    on_event(row.index, item)

        state: dict = {"stats": stats}
        check_cancel()
        hidden = self._rebuild(rows, prefix, state)
        while True:
            # The limits, then the controls that became due, then whether the window is stale.
            stale = False
            for row in rows:
                if row.done:
                    continue
                expected = row.machine.expect()
                while isinstance(expected, Force) and expected.slot == "control":
                    row.machine.push(expected.id)
                    expected = row.machine.expect()
                if isinstance(expected, Finished):
                    row.done = True
                stale |= isinstance(expected, Rebuild)
                report(row)
            active = [r for r in rows if not r.done]
            if not active:
                break
            check_cancel()
            if stale:
                hidden = self._rebuild(rows, prefix, state)
            elif rules.rhythm is None and any(r.fed < len(r.machine.sequence.tokens) for r in active):
                hidden = self._forward(rows, [self._pending(r) if not r.done else [] for r in rows], state)
            if rules.rhythm is not None:
                writing, hidden = self._fixed_onsets(rows, active, state, report)
            else:
                writing, hidden = self._sampled_onsets(rows, active, hidden, sampling, state, check_cancel, report)
            if not writing:
                continue
            # Slot 2: the note (or REST), as the machine allows or forces it.
            check_cancel()
            index = torch.tensor([r.index for r in writing], device=hidden.device)
            sampled_rows = [r for r in writing if isinstance(r.machine.expect(), Sample)]
            if sampled_rows:
                chosen = index if len(sampled_rows) == len(writing) else torch.tensor(
                    [r.index for r in sampled_rows], device=hidden.device)
                first = vocab.NOTE_OFFSET
                logits = self._head(hidden[chosen], first, first + NOTE_SLOT_SIZE)
                masks = torch.stack([note_mask(r.machine.expect().notes, self.device) for r in sampled_rows])
                notes = sample(logits.masked_fill(~masks, -math.inf), sampling, [r.generator for r in sampled_rows])
                for row, note in zip(sampled_rows, notes):
                    row.machine.push(first + note)
            for row in writing:
                if row not in sampled_rows:
                    row.machine.push(row.machine.expect().id)
                row.fed = len(row.machine.sequence.tokens) - 1  # time and duration are in the cache, the note is not
                report(row)
            if on_progress is not None:
                done_ticks = min(max(max(plan.start, r.machine.current_time) - plan.start, 0) if not r.done
                                 else span for r in rows)
                on_progress(min(1.0, done_ticks / span))
        stats.seconds = time.perf_counter() - started
        stats.sampled_tokens = sum(r.machine.sampled for r in rows)
        if on_progress is not None:
            on_progress(1.0)
        return [RowResult(r.machine.events, r.machine.finish_reason, r.machine.unplaced) for r in rows], stats

    def _sampled_onsets(self, rows, active, hidden, sampling, state, check_cancel, report):
        """Onset and duration of each active row, sampled where the machine allows a choice; returns (writing, hidden).

        Each row's onset is drawn over its own allowed times only.
        """
        # Slot 0: the onset (keep pitches: a chord's later notes have it forced).
        sampled_rows, expected, onsets = [], {}, {}
        for row in active:
            expected[row.index] = row.machine.expect()
            if isinstance(expected[row.index], Finished):
                row.done = True
                report(row)
            elif isinstance(expected[row.index], Sample):
                sampled_rows.append(row)
        if sampled_rows:
            rows_index = torch.tensor([r.index for r in sampled_rows], device=hidden.device)
            first = min(expected[r.index].first for r in sampled_rows)
            logits = self._head(hidden[rows_index], first, vocab.TIME_OFFSET + vocab.MAX_TIME)
            own = [logits[b, expected[r.index].first - first: expected[r.index].end - first]
                   for b, r in enumerate(sampled_rows)]
            for row, choice in zip(sampled_rows, sample_each(own, sampling, [r.generator for r in sampled_rows])):
                onsets[row.index] = expected[row.index].first + choice
        writing = []
        for row in active:
            if row.done:
                continue
            if isinstance(expected[row.index], Force):
                onsets[row.index] = expected[row.index].id
            row.machine.push(onsets[row.index])
            if row.machine.done:  # the onset reached the end
                row.done = True
                report(row)
            else:
                writing.append(row)
        if not writing:
            return [], hidden
        # Slot 1: the duration.
        check_cancel()
        chunks = [[] for _ in rows]
        for row in writing:
            chunks[row.index] = [self.profile.model_id(onsets[row.index])]
        hidden = self._forward(rows, chunks, state)
        index = torch.tensor([r.index for r in writing], device=hidden.device)
        logits = self._head(hidden[index], vocab.DURATION_OFFSET, vocab.NOTE_OFFSET)
        check_cancel()
        chunks = [[] for _ in rows]
        for row, duration in zip(writing, sample(logits, sampling, [r.generator for r in writing])):
            row.machine.push(vocab.DURATION_OFFSET + duration)
            chunks[row.index] = [self.profile.model_id(vocab.DURATION_OFFSET + duration)]
        hidden = self._forward(rows, chunks, state)  # its last state predicts the note
        return writing, hidden

    def _fixed_onsets(self, rows, active, state, report):
        """Keep rhythm: feed each active row's pending ids and its fixed onset and duration in one forward.

        Returns the rows writing and the hidden state that predicts their notes;
        the machine passes over slots that can get no note before anything is fed.
        """
        writing = []
        chunks: list[list[int]] = [[] for _ in rows]
        for row in active:
            expected = row.machine.expect()
            report(row)
            if isinstance(expected, Finished):
                row.done = True
                continue
            chunk = self._pending(row)
            for _ in range(2):  # the onset, then the duration: both forced
                expected = row.machine.expect()
                row.machine.push(expected.id)
                chunk.append(self.profile.model_id(expected.id))
            chunks[row.index] = chunk
            writing.append(row)
        if not writing:
            return [], None
        return writing, self._forward(rows, chunks, state)


def row_seed(seed: int, row: int) -> int:
    """The seed of one variation's generator: a function of the request's seed and the row alone."""
    return (seed + 1_000_003 * row) % (2**63)
