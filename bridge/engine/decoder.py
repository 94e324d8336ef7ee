"""The one decoding loop every mode uses: KV-cached, batched, constrained.

Each variation is a row of one batch. A step samples one triplet per row:
time, duration, note. Before a time is sampled, the controls that became due
are fed to the model; new ids are fed in right-padded chunks (pads masked out),
so rows may grow by different amounts while sharing one cache. Logits are
computed only for the rows of the output head the slot allows, which is both
the grammar and most of the speed.

The model sees window-relative times. The window (and with it the cache) is
rebuilt when the context is nearly full or when the current time has moved
too far from the window's offset, so requests of any length work.
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
from bridge.amt.sequence import DecodingPlan, SequenceState, min_time
from bridge.engine.grammar import (
    NOTE_SLOT_SIZE,
    MusicianConstraints,
    instrument_cap_mask,
    instruments_in,
    note_slot_mask,
)
from bridge.engine.loading import LoadedModel
from bridge.engine.sampling import SamplingOptions, sample

log = logging.getLogger(__name__)

LOOKBACK_TICKS = 50 * vocab.TICKS_PER_SECOND
"""At a rebuild, history older than this before the current time is left out."""

REBASE_AT_TICKS = vocab.MAX_TIME - 10 * vocab.TICKS_PER_SECOND
"""Rebuild once the current time is this far past the window's offset (90 s)."""

EventCallback = Callable[[int, vocab.Event], None]
ProgressCallback = Callable[[float], None]


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
    """What one variation produced: new events in absolute ticks, in order."""

    events: list[vocab.Event]
    finish_reason: str


@dataclass
class _Row:
    index: int
    sequence: SequenceState
    generator: torch.Generator
    instruments: set[int]
    offset: int = 0
    cached: int = 0  # real (unpadded) ids in the cache, prefix included
    feed: list[int] = field(default_factory=list)
    events: list[vocab.Event] = field(default_factory=list)
    sampled: int = 0
    rhythm_index: int = 0
    group_index: int = 0  # keep-pitches: the chord (group of forced notes) being written
    member_index: int = 0  # and the note of it
    group_time: int = 0  # onset of the chord, shared by its notes
    done: bool = False
    finish_reason: str = ""


class Decoder:
    """Decodes plans with a loaded model; one instance per resident model."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded
        self.profile = loaded.profile
        self.device = loaded.device
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

    def _model_ids(self, tokens: Sequence[int], offset: int) -> list[int]:
        """Window-relative model ids of whole triplets."""
        out = list(tokens)
        for i in range(0, len(out), 3):
            out[i] -= offset
        return [self.profile.model_id(t) for t in out]

    def _window(self, row: _Row, floor: int, budget: int) -> tuple[list[int], int]:
        tokens = row.sequence.tokens
        begin = max(0, len(tokens) - budget)
        begin += (3 - begin % 3) % 3
        cutoff = floor - LOOKBACK_TICKS
        while begin < len(tokens) and vocab.triplet_time(tokens[begin : begin + 3]) < cutoff:
            begin += 3
        window = tokens[begin:]
        offset = min_time(window) if window else floor
        offset = min(offset, floor)
        return self._model_ids(window, offset), offset

    def _rebuild(self, rows: list[_Row], prefix: list[int], plan: DecodingPlan, budget: int, state: dict) -> torch.Tensor:
        state["cache"] = self._new_cache()
        state["mask"] = torch.zeros((len(rows), 0), dtype=torch.long, device=self.device)
        state["stats"].rebuilds += 1
        chunks = []
        for row in rows:
            row.cached = 0
            window, row.offset = self._window(row, self._floor_of(row), budget)
            chunks.append(prefix + window)
            row.feed = []
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
        cancel: threading.Event | None = None,
        rhythm: Sequence[tuple[int, int]] | None = None,
        pitches: Sequence[Sequence[int]] | None = None,
    ) -> tuple[list[RowResult], DecodeStats]:
        """Sample ``variations`` continuations of ``plan`` together.

        ``prefix_ids`` are model ids before the mode token (MIDI-LLM's text).
        Returns per variation the new note events (RESTs dropped) in absolute
        ticks, and statistics. Raises :class:`Cancelled` when ``cancel`` is set.

        ``rhythm`` (absolute (onset, duration) ticks, sorted) fixes the time and
        duration of every new event: they are fed as if sampled and the model
        chooses only the notes (no RESTs), one per slot; a row ends when the
        slots are used up.

        ``pitches`` (groups of note values, instrument * 128 + pitch: one group
        per chord, in order) fixes the notes instead: the model chooses when
        each chord starts (before the span's end) and how long each note lasts;
        the notes of a chord share its onset. A row ends when the groups are used up.
        """
        if rhythm is not None and pitches is not None:
            raise ValueError("keep rhythm or keep pitches, not both")
        sampling = sampling or SamplingOptions()
        constraints = constraints or MusicianConstraints()
        started = time.perf_counter()
        stats = DecodeStats()
        prefix = [*prefix_ids, self.profile.model_id(plan.mode_token)]
        context = self.profile.context_tokens
        budget = ((context - len(prefix)) * 3 // 4) // 3 * 3
        if budget < 30:
            raise ValueError(f"the text prompt ({len(prefix_ids)} tokens) leaves no room for music in the context")
        if seed is None:
            seed = secrets.randbits(31)
        rows = []
        for i in range(variations):
            sequence = plan.new_state()
            generator = torch.Generator().manual_seed((seed + 1_000_003 * i) % (2**63))
            rows.append(_Row(i, sequence, generator, instruments_in(sequence.tokens + plan.controls)))
        base_note_mask = note_slot_mask(constraints).to(self.device)
        state: dict = {"stats": stats}
        span = max(1, plan.end - plan.start)

        def check_cancel() -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()

        if rhythm is not None:
            rhythm = list(rhythm)
            if any(b < a for (a, _), (b, _) in zip(rhythm, rhythm[1:])):
                raise ValueError("the rhythm's onsets must be in order")
            gaps = [b - a for (a, _), (b, _) in zip([(plan.current_time, 0), *rhythm], rhythm)]
            if any(g > LOOKBACK_TICKS for g in gaps):
                raise ValueError("the rhythm has a silence longer than 50 s, which the model cannot bridge")

        def floor_of(row: _Row) -> int:
            floor = max(plan.start, row.sequence.current_time)
            if rhythm is not None and row.rhythm_index < len(rhythm):
                floor = max(floor, rhythm[row.rhythm_index][0])
            return floor

        self._floor_of = floor_of
        check_cancel()
        hidden = self._rebuild(rows, prefix, plan, budget, state)
        while True:
            active = [r for r in rows if not r.done]
            for row in active:
                if row.sampled + 3 > max_new_tokens:
                    self._finish(row, "max_new_tokens")
                elif constraints.max_notes is not None and len(row.events) >= constraints.max_notes:
                    self._finish(row, "max_notes")
            active = [r for r in rows if not r.done]
            if not active:
                break
            check_cancel()
            # Controls that became due enter the sequence before the next onset is sampled.
            needs_rebuild = False
            for row in active:
                placed = row.sequence.due_controls()
                if placed:
                    row.instruments |= instruments_in(placed)
                    row.feed += self._model_ids(placed, row.offset)
                too_far = floor_of(row) - row.offset > REBASE_AT_TICKS
                too_long = row.cached + len(row.feed) + 2 > context
                late_control = any(
                    vocab.triplet_time(placed[i : i + 3]) - row.offset >= vocab.MAX_TIME for i in range(0, len(placed), 3)
                )
                needs_rebuild |= too_far or too_long or late_control
            if needs_rebuild:
                hidden = self._rebuild(rows, prefix, plan, budget, state)
            elif rhythm is None and any(r.feed for r in rows):
                hidden = self._forward(rows, [r.feed if not r.done else [] for r in rows], state)
                for r in rows:
                    r.feed = []
            if pitches is not None:
                for row in active:
                    if row.group_index >= len(pitches):
                        self._finish(row, "end")
                active = [r for r in active if not r.done]
                if not active:
                    break
            if rhythm is not None:
                writing, durations = self._forced_slots(rows, active, rhythm, plan, state)
                if not writing:
                    continue
                hidden = state.pop("hidden")
                index = torch.tensor([r.index for r, _ in writing], device=hidden.device)
            else:
                writing, durations, hidden, index = self._sampled_slots(
                    rows, active, hidden, plan, sampling, state, check_cancel, forced_pitches=pitches is not None)
                if not writing:
                    continue
            # Slot 2: note or REST, within the musician's and the 16-instrument limits.
            check_cancel()
            if pitches is not None:  # the notes are given: nothing to compute
                notes = [self._next_forced_note(row, relative + row.offset, pitches) for row, relative in writing]
            else:
                logits = self._head(hidden[index], vocab.NOTE_OFFSET, vocab.NOTE_OFFSET + NOTE_SLOT_SIZE)
                masks = []
                for row, _ in writing:
                    cap = instrument_cap_mask(row.instruments)
                    masks.append(base_note_mask if cap is None else base_note_mask & cap.to(self.device))
                allowed = torch.stack(masks)
                if rhythm is not None:
                    allowed[:, -1] = False  # every slot of a fixed rhythm gets a note, never a REST
                logits = logits.masked_fill(~allowed, -math.inf)
                notes = sample(logits, sampling, [r.generator for r, _ in writing])
            for (row, relative), duration, note in zip(writing, durations, notes):
                row.sampled += 2
                stats.sampled_tokens += 2
                absolute = relative + row.offset
                note_id = vocab.NOTE_OFFSET + note
                # A REST carries no duration: keep it as the facts write it (0) in the sequence that
                # later windows are rebuilt from (the cache keeps the id that was fed until then).
                stored_duration = 0 if note_id == vocab.REST else duration
                row.sequence.append_event(
                    (vocab.TIME_OFFSET + absolute, vocab.DURATION_OFFSET + stored_duration, note_id))
                row.feed = [self.profile.model_id(note_id)]
                if note_id != vocab.REST:
                    instrument, pitch = divmod(note, vocab.MAX_PITCH)
                    row.instruments.add(instrument)
                    event = vocab.Event(absolute, duration, instrument, pitch)
                    row.events.append(event)
                    if on_event is not None:
                        on_event(row.index, event)
            if on_progress is not None:
                done_ticks = min(max(max(plan.start, r.sequence.current_time) - plan.start, 0) if not r.done
                                 else span for r in rows)
                on_progress(min(1.0, done_ticks / span))
        stats.seconds = time.perf_counter() - started
        if on_progress is not None:
            on_progress(1.0)
        return [RowResult(r.events, r.finish_reason) for r in rows], stats

    def _sampled_slots(self, rows, active, hidden, plan, sampling, state, check_cancel, *, forced_pitches=False):
        """Sample onset and duration for each active row; returns (writing, durations, hidden, index).

        With ``forced_pitches`` the onset of a chord's later notes is the chord's,
        and sampled onsets stay before the span's end while notes remain to place.
        """
        stats = state["stats"]
        # Slot 0: onset time, never before the current time; reaching the end stops the row.
        index = torch.tensor([r.index for r in active], device=hidden.device)
        chosen: dict[int, int] = {}

        def earliest(row: _Row) -> int:
            floor = max(plan.start, row.sequence.current_time)
            if forced_pitches and row.group_index > 0:
                floor = max(floor, row.group_time + 1)  # a new chord never lands on the previous one
            return floor

        if forced_pitches:
            for row in active:
                if row.member_index > 0:
                    chosen[row.index] = row.group_time - row.offset
                elif earliest(row) >= plan.end:
                    chosen[row.index] = plan.end - row.offset  # no room left: the row ends
        sampling_rows = [r for r in active if r.index not in chosen]
        if sampling_rows:
            rows_index = torch.tensor([r.index for r in sampling_rows], device=hidden.device)
            floors = [earliest(r) - r.offset for r in sampling_rows]
            low = min(floors)
            logits = self._head(hidden[rows_index], vocab.TIME_OFFSET + low, vocab.TIME_OFFSET + vocab.MAX_TIME)
            columns = torch.arange(low, vocab.MAX_TIME, device=logits.device)
            logits = logits.masked_fill(columns[None, :] < torch.tensor(floors, device=logits.device)[:, None],
                                        -math.inf)
            if forced_pitches:
                ends = torch.tensor([plan.end - r.offset for r in sampling_rows], device=logits.device)
                logits = logits.masked_fill(columns[None, :] >= ends[:, None], -math.inf)
            for row, choice in zip(sampling_rows, sample(logits, sampling, [r.generator for r in sampling_rows])):
                chosen[row.index] = low + choice
        times = [chosen[r.index] for r in active]
        writing = []
        for row, relative in zip(active, times):
            row.sampled += 1
            stats.sampled_tokens += 1
            if relative + row.offset >= plan.end:
                self._finish(row, "end")
            else:
                writing.append((row, relative))
        if not writing:
            return [], [], hidden, index
        # Slot 1: duration.
        check_cancel()
        chunks = [[] for _ in rows]
        for row, relative in writing:
            chunks[row.index] = [self.profile.model_id(vocab.TIME_OFFSET + relative)]
        hidden = self._forward(rows, chunks, state)
        index = torch.tensor([r.index for r, _ in writing], device=hidden.device)
        logits = self._head(hidden[index], vocab.DURATION_OFFSET, vocab.NOTE_OFFSET)
        durations = sample(logits, sampling, [r.generator for r, _ in writing])
        check_cancel()
        chunks = [[] for _ in rows]
        for (row, _), duration in zip(writing, durations):
            chunks[row.index] = [self.profile.model_id(vocab.DURATION_OFFSET + duration)]
        hidden = self._forward(rows, chunks, state)  # its last state predicts the note
        return writing, durations, hidden, index

    @staticmethod
    def _next_forced_note(row: _Row, onset: int, pitches: Sequence[Sequence[int]]) -> int:
        """The next note of the fixed pitch sequence (relative to NOTE_OFFSET); advances the row."""
        group = pitches[row.group_index]
        note = group[row.member_index]
        if row.member_index == 0:
            row.group_time = onset
        row.member_index += 1
        if row.member_index >= len(group):
            row.group_index += 1
            row.member_index = 0
        return note

    def _forced_slots(self, rows, active, rhythm, plan, state):
        """Feed the next fixed (onset, duration) of each active row with its pending ids, in one forward."""
        stats = state["stats"]
        writing: list[tuple[_Row, int]] = []
        durations: list[int] = []
        for row in active:
            if row.rhythm_index >= len(rhythm) or rhythm[row.rhythm_index][0] >= plan.end:
                self._finish(row, "end")
                continue
            onset, duration = rhythm[row.rhythm_index]
            row.rhythm_index += 1
            writing.append((row, onset - row.offset))
            durations.append(min(max(duration, 0), vocab.MAX_DURATION - 1))
        if writing:
            chunks: list[list[int]] = [[] for _ in rows]
            for (row, relative), duration in zip(writing, durations):
                chunks[row.index] = row.feed + [self.profile.model_id(vocab.TIME_OFFSET + relative),
                                                self.profile.model_id(vocab.DURATION_OFFSET + duration)]
                row.sampled += 1  # the note's ids count like sampled ones (the loop adds 2)
                stats.sampled_tokens += 1
            state["hidden"] = self._forward(rows, chunks, state)
        for row in rows:
            row.feed = []
        return writing, durations

    @staticmethod
    def _finish(row: _Row, reason: str) -> None:
        row.done = True
        row.finish_reason = reason
