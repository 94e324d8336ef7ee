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
from bridge.engine.sampling import SamplingOptions, draw, draw_each
from bridge.engine.steppers import device_tensor, make_stepper
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
    ``decode_step`` is how the model is stepped (bridge/engine/steppers.py):
    ``eager`` (the model's own forward, sampling on the host), ``static`` (a
    pre-allocated cache and a lean step, sampling on the device), ``compiled``
    (static with the one-id step compiled) or ``auto`` (the engine's default,
    from ``model.decode_step``); eager, the reference path that every
    checkpoint and the model's forward hooks see, is this class's default. On
    the CPU every mode gives the same notes for a seed. ``ids_on_device`` keeps sampled ids on the
    device and syncs once per note (default: on CUDA and MPS with a static step).
    """

    def __init__(self, loaded: LoadedModel, *, window_margin: int = 0, decode_step: str = "eager",
                 ids_on_device: bool | None = None):
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
        self.stepper = make_stepper(loaded, self.pad_id, decode_step)
        on_device = self.stepper.samples_on_device
        self.generator_device = self.device if on_device else torch.device("cpu")
        self.ids_on_device = (on_device and self.device.type != "cpu") if ids_on_device is None else (
            ids_on_device and on_device)

    # ----- model calls -------------------------------------------------------------------

    def _head(self, hidden: torch.Tensor, first_amt_id: int, end_amt_id: int) -> torch.Tensor:
        """Logits of AMT ids [first, end) only, as float32 [rows, end - first]."""
        lo = self.profile.model_id(first_amt_id)
        hi = self.profile.model_id(end_amt_id)
        logits = hidden @ self.head_weight[lo:hi].T
        if self.head_bias is not None:
            logits = logits + self.head_bias[lo:hi]
        return logits.float()

    def _draw(self, logits: torch.Tensor, sampling: SamplingOptions, rows: list[_Row]) -> torch.Tensor:
        """One choice per row of ``logits``, where the rows' generators live (the host for the eager step)."""
        return draw(logits.to(self.generator_device), sampling, [r.generator for r in rows])

    def _forward(self, rows: list[_Row], chunks: list[list[int]], state: dict) -> torch.Tensor:
        """Feed one right-padded chunk per row; returns the hidden state of each row's last real id."""
        hidden = self.stepper.feed(chunks, [r.cached for r in rows])
        for row, chunk in zip(rows, chunks):
            row.cached += len(chunk)
        state["stats"].forward_calls += 1
        return hidden

    def _feed_one(self, rows: list[_Row], ids: torch.Tensor, feeding: list[_Row], state: dict) -> torch.Tensor:
        """Feed one model id to each row of ``feeding`` (``ids`` [batch], by row index); the others pad."""
        real = [False] * len(rows)
        for row in feeding:
            real[row.index] = True
        if not self.ids_on_device:
            values = ids.tolist()
            return self._forward(rows, [[values[b]] if real[b] else [] for b in range(len(rows))], state)
        hidden = self.stepper.feed_ids(ids.to(self.device), real, [r.cached for r in rows])
        for row in feeding:
            row.cached += 1
        state["stats"].forward_calls += 1
        return hidden

    def _index(self, rows: list[_Row], device: torch.device | None = None) -> torch.Tensor:
        """The rows' batch indices as a tensor on ``device`` (the model's by default)."""
        return self._ids([r.index for r in rows], device or self.device)

    @staticmethod
    def _ids(values: list[int], device: torch.device) -> torch.Tensor:
        return device_tensor(values, torch.long, device)

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
        self.stepper.reset(len(rows))
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
        rows = [_Row(i, RowMachine(rules, plan.new_state()),
                     torch.Generator(device=self.generator_device).manual_seed(row_seed(seed, i)))
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

        state: dict = {"stats": stats, "sampling": sampling, "check_cancel": check_cancel, "report": report}
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
                self._fixed_onsets(rows, active, state)
            else:
                self._sampled_triplets(rows, active, hidden, state)
            if on_progress is not None:
                done_ticks = min(max(max(plan.start, r.machine.current_time) - plan.start, 0) if not r.done
                                 else span for r in rows)
                on_progress(min(1.0, done_ticks / span))
        stats.seconds = time.perf_counter() - started
        stats.sampled_tokens = sum(r.machine.sampled for r in rows)
        if on_progress is not None:
            on_progress(1.0)
        return [RowResult(r.machine.events, r.machine.finish_reason, r.machine.unplaced) for r in rows], stats

    def _notes(self, writing: list[_Row], hidden: torch.Tensor, sampling: SamplingOptions) -> torch.Tensor:
        """The note id (AMT) of each writing row, as the machine allows or forces it; a tensor, no sync.

        ``hidden`` is [batch, hidden], the states that predict the notes.
        """
        notes = torch.zeros(len(writing), dtype=torch.long, device=self.generator_device)
        expected = [r.machine.note_expectation() for r in writing]
        sampled = [b for b, e in enumerate(expected) if isinstance(e, Sample)]
        if sampled:
            first = vocab.NOTE_OFFSET
            logits = self._head(hidden[self._index([writing[b] for b in sampled])], first, first + NOTE_SLOT_SIZE)
            masks = torch.stack([note_mask(expected[b].notes, self.device) for b in sampled])
            chosen = self._draw(logits.masked_fill(~masks, -math.inf), sampling, [writing[b] for b in sampled])
            notes[self._ids(sampled, notes.device)] = chosen + first
        forced = [b for b, e in enumerate(expected) if isinstance(e, Force)]
        if forced:
            notes[self._ids(forced, notes.device)] = self._ids([expected[b].id for b in forced], notes.device)
        return notes

    def _sampled_triplets(self, rows: list[_Row], active: list[_Row], hidden: torch.Tensor, state: dict) -> None:
        """One event per active row: onset, duration and note, sampled where the machine allows a choice.

        Each row's onset is drawn over its own allowed times only. With
        ``ids_on_device`` the three ids stay on the device until one sync per
        note; otherwise each is read back as drawn, so a row whose onset ends
        it feeds nothing more.
        """
        sampling, check_cancel, report = state["sampling"], state["check_cancel"], state["report"]
        deferred = self.ids_on_device
        # Slot 0: the onset (keep pitches: a chord's later notes have it forced).
        expected, writing = {}, []
        for row in active:
            expected[row.index] = row.machine.expect()
            if isinstance(expected[row.index], Finished):
                row.done = True
                report(row)
            else:
                writing.append(row)
        if not writing:
            return
        onsets = torch.zeros(len(rows), dtype=torch.long, device=self.generator_device)
        sampled = [r for r in writing if isinstance(expected[r.index], Sample)]
        if sampled:
            first = min(expected[r.index].first for r in sampled)
            logits = self._head(hidden[self._index(sampled)], first, vocab.TIME_OFFSET + vocab.MAX_TIME)
            own = [logits[b, expected[r.index].first - first: expected[r.index].end - first].to(self.generator_device)
                   for b, r in enumerate(sampled)]
            choices = draw_each(own, sampling, [r.generator for r in sampled])
            firsts = self._ids([expected[r.index].first for r in sampled], onsets.device)
            onsets[self._index(sampled, onsets.device)] = choices + firsts
        forced = [r for r in writing if isinstance(expected[r.index], Force)]
        if forced:
            onsets[self._index(forced, onsets.device)] = self._ids([expected[r.index].id for r in forced], onsets.device)
        if not deferred:
            values = onsets.tolist()
            for row in writing:
                row.machine.push(values[row.index])
                if row.machine.done:  # the onset reached the end
                    row.done = True
                    report(row)
            writing = [r for r in writing if not r.done]
            if not writing:
                return
        # Slot 1: the duration.
        check_cancel()
        hidden = self._feed_one(rows, onsets + self.profile.midi_offset, writing, state)
        logits = self._head(hidden[self._index(writing)], vocab.DURATION_OFFSET, vocab.NOTE_OFFSET)
        durations = torch.zeros(len(rows), dtype=torch.long, device=self.generator_device)
        durations[self._index(writing, durations.device)] = self._draw(logits, sampling, writing) + vocab.DURATION_OFFSET
        if not deferred:
            values = durations.tolist()
            for row in writing:
                row.machine.push(values[row.index])
        check_cancel()
        hidden = self._feed_one(rows, durations + self.profile.midi_offset, writing, state)
        # Slot 2: the note (or REST), as the machine allows or forces it; then the one read back per note.
        check_cancel()
        notes = self._notes(writing, hidden, sampling)
        index = self._index(writing, notes.device)
        triplets = torch.stack([onsets[index], durations[index], notes]).T.tolist()
        for row, (onset, duration, note) in zip(writing, triplets):
            if deferred:
                row.machine.push(onset)
                if row.machine.done:  # the onset reached the end: its duration and note are dropped
                    row.done = True
                    report(row)
                    continue
                row.machine.push(duration)
            row.machine.push(note)
            row.fed = len(row.machine.sequence.tokens) - 1  # time and duration are in the cache, the note is not
            report(row)

    def _fixed_onsets(self, rows: list[_Row], active: list[_Row], state: dict) -> None:
        """Keep rhythm: feed each active row's pending ids and its fixed onset and duration in one forward, then
        sample its note; the machine passes over slots that can get no note before anything is fed."""
        writing = []
        chunks: list[list[int]] = [[] for _ in rows]
        for row in active:
            expected = row.machine.expect()
            state["report"](row)
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
            return
        hidden = self._forward(rows, chunks, state)
        state["check_cancel"]()
        for row, note in zip(writing, self._notes(writing, hidden, state["sampling"]).tolist()):
            row.machine.push(note)
            row.fed = len(row.machine.sequence.tokens) - 1
            state["report"](row)


def row_seed(seed: int, row: int) -> int:
    """The seed of one variation's generator: a function of the request's seed and the row alone."""
    return (seed + 1_000_003 * row) % (2**63)
