"""The one decoding loop every mode uses: KV-cached, batched, constrained.

Each variation is a row of one batch. A step samples one triplet per row:
time, duration, note. Before a time is sampled, the controls that became due
are fed to the model; new ids are fed in right-padded chunks (pads masked out),
so rows may grow by different amounts while sharing one cache. Logits are
computed only for the rows of the output head the slot allows, which is both
the grammar and most of the speed.

What the model sees is each row's window (``bridge.engine.window``): the
reference sampler's layout, rebuilt (with the cache) whenever the cached one
is no longer it. Each row's window and random draws depend on that row alone,
so a variation is the same whatever the number of variations.
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
from bridge.amt.sequence import DecodingPlan, SequenceState
from bridge.engine import keep_modes
from bridge.engine.grammar import (
    NOTE_SLOT_SIZE,
    MusicianConstraints,
    instrument_cap_mask,
    instruments_in,
    note_slot_mask,
)
from bridge.engine.keep_modes import KeepProgress, RhythmSlot
from bridge.engine.loading import LoadedModel
from bridge.engine.sampling import SamplingOptions, sample, sample_each
from bridge.engine.window import (
    LOOKBACK_TICKS,
    Window,
    WindowPolicy,
    choose_window,
    history_capacity,
    relative_ids,
)

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
    sequence: SequenceState
    generator: torch.Generator
    instruments: set[int]
    window: Window | None = None
    cached: int = 0  # real (unpadded) ids in the cache, prefix included
    fed: int = 0  # ids of sequence.tokens in the cache (the rest is still to feed)
    events: list[vocab.Event] = field(default_factory=list)
    sampled: int = 0
    keep: KeepProgress = field(default_factory=KeepProgress)
    done: bool = False
    finish_reason: str = ""


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

    def _model_ids(self, tokens: Sequence[int], offset: int) -> list[int]:
        """Window-relative model ids of whole triplets."""
        return [self.profile.model_id(t) for t in relative_ids(tokens, offset)]

    def _pending(self, row: _Row) -> list[int]:
        """Model ids of the row's sequence that the cache does not hold yet; marks them fed."""
        tokens = row.sequence.tokens
        aligned = row.fed - (row.fed - row.window.begin) % 3  # times are shifted per whole triplet
        pending = self._model_ids(tokens[aligned:], row.window.offset)[row.fed - aligned :]
        row.fed = len(tokens)
        return pending

    def _rebuild(self, rows: list[_Row], prefix: list[int], policy: WindowPolicy, state: dict) -> torch.Tensor:
        """A fresh cache: each row's prefix and window, a new window only for rows whose layout went stale."""
        state["cache"] = self._new_cache()
        state["mask"] = torch.zeros((len(rows), 0), dtype=torch.long, device=self.device)
        state["stats"].rebuilds += 1
        chunks = []
        for row in rows:
            if row.done:  # its cache is never read again: one real id keeps its attention well defined
                row.cached = 0
                chunks.append(prefix[:1])
                continue
            tokens = row.sequence.tokens
            floor = state["floor_of"](row)
            if row.window is None or row.window.is_stale(tokens, floor, policy.capacity):
                row.window = choose_window(tokens, floor, policy.kept_at_rebuild)
            row.cached = 0
            row.fed = len(tokens)
            chunks.append(prefix + self._model_ids(tokens[row.window.begin :], row.window.offset))
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
        notes are used up.
        """
        if rhythm is not None and pitches is not None:
            raise ValueError("keep rhythm or keep pitches, not both")
        sampling = sampling or SamplingOptions()
        constraints = constraints or MusicianConstraints()
        started = time.perf_counter()
        stats = DecodeStats()
        prefix = [*prefix_ids, self.profile.model_id(plan.mode_token)]
        policy = WindowPolicy(history_capacity(self.profile.context_tokens, len(prefix)), self.window_margin)
        if seed is None:
            seed = secrets.randbits(31)
        rows = []
        for i in range(variations):
            sequence = plan.new_state()
            generator = torch.Generator().manual_seed((seed + 1_000_003 * i) % (2**63))
            rows.append(_Row(i, sequence, generator, instruments_in(sequence.tokens + plan.controls)))
        base_note_mask = note_slot_mask(constraints).to(self.device)
        span = max(1, plan.end - plan.start)

        def check_cancel() -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()

        if rhythm is not None:
            rhythm = [RhythmSlot(*slot) for slot in rhythm]
            if any(b.onset < a.onset for a, b in zip(rhythm, rhythm[1:])):
                raise ValueError("the rhythm's onsets must be in order")
            onsets = [plan.current_time, *(s.onset for s in rhythm)]
            if any(b - a > LOOKBACK_TICKS for a, b in zip(onsets, onsets[1:])):
                raise ValueError("the rhythm has a silence longer than 50 s, which the model cannot bridge")

        def floor_of(row: _Row) -> int:
            floor = max(plan.start, row.sequence.current_time)
            if rhythm is not None and row.keep.slot_index < len(rhythm):
                floor = max(floor, rhythm[row.keep.slot_index].onset)
            return floor

        def finish(row: _Row, reason: str) -> None:
            row.done = True
            row.finish_reason = reason
            left = row.keep.remaining_given(rhythm, pitches)
            if left:
                row.keep.unplaced[keep_modes.FINISH_REASONS[reason]] += left

        def skip(row: _Row, reason: str, count: int = 1) -> None:
            row.keep.unplaced[reason] += count
            for _ in range(count):
                if on_skip is not None:
                    on_skip(row.index)

        state: dict = {"stats": stats, "floor_of": floor_of, "finish": finish, "skip": skip}
        check_cancel()
        hidden = self._rebuild(rows, prefix, policy, state)
        while True:
            active = [r for r in rows if not r.done]
            for row in active:
                if row.sampled + 3 > max_new_tokens:
                    finish(row, "max_new_tokens")
                elif constraints.max_notes is not None and len(row.events) >= constraints.max_notes:
                    finish(row, "max_notes")
            active = [r for r in rows if not r.done]
            if not active:
                break
            check_cancel()
            # Controls that became due enter the sequence before the next onset is sampled.
            for row in active:
                row.instruments |= instruments_in(row.sequence.due_controls())
            if any(r.window.is_stale(r.sequence.tokens, floor_of(r), policy.capacity) for r in active):
                hidden = self._rebuild(rows, prefix, policy, state)
            elif rhythm is None and any(r.fed < len(r.sequence.tokens) for r in active):
                hidden = self._forward(rows, [self._pending(r) if not r.done else [] for r in rows], state)
            if pitches is not None:
                for row in active:
                    self._next_chord(row, pitches, state)
                active = [r for r in active if not r.done]
                if not active:
                    break
            if rhythm is not None:
                writing, durations, masks = self._forced_slots(rows, active, rhythm, base_note_mask, plan, state)
                if not writing:
                    continue
                hidden = state.pop("hidden")
                index = torch.tensor([r.index for r, _ in writing], device=hidden.device)
            else:
                writing, durations, hidden, index = self._sampled_slots(
                    rows, active, hidden, plan, sampling, state, check_cancel, pitches)
                if not writing:
                    continue
            # Slot 2: note or REST, within the musician's and the 16-instrument limits.
            check_cancel()
            if pitches is not None:  # the notes are given: nothing to compute
                notes = [self._next_forced_note(row, relative + row.window.offset) for row, relative in writing]
            else:
                logits = self._head(hidden[index], vocab.NOTE_OFFSET, vocab.NOTE_OFFSET + NOTE_SLOT_SIZE)
                if rhythm is None:
                    masks = []
                    for row, _ in writing:
                        cap = instrument_cap_mask(row.instruments)
                        masks.append(base_note_mask if cap is None else base_note_mask & cap.to(self.device))
                logits = logits.masked_fill(~torch.stack(masks), -math.inf)
                notes = sample(logits, sampling, [r.generator for r, _ in writing])
            for (row, relative), duration, note in zip(writing, durations, notes):
                row.sampled += 2
                stats.sampled_tokens += 2
                absolute = relative + row.window.offset
                note_id = vocab.NOTE_OFFSET + note
                # What was fed is what later windows are rebuilt from (a REST keeps its sampled duration).
                row.sequence.append_event(
                    (vocab.TIME_OFFSET + absolute, vocab.DURATION_OFFSET + duration, note_id))
                row.fed = len(row.sequence.tokens) - 1  # time and duration are in the cache, the note is not
                if note_id != vocab.REST:
                    instrument, pitch = divmod(note, vocab.MAX_PITCH)
                    row.instruments.add(instrument)
                    if rhythm is not None:
                        row.keep.took(absolute, note)
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
        return [RowResult(r.events, r.finish_reason, dict(r.keep.unplaced)) for r in rows], stats

    def _sampled_slots(self, rows, active, hidden, plan, sampling, state, check_cancel, pitches):
        """Sample onset and duration for each active row; returns (writing, durations, hidden, index).

        Each row's onset is drawn over its own allowed times only. With
        ``pitches`` the onset of a chord's later notes is the chord's, and a
        chord's onset leaves one step per later chord before the span's end.
        """
        stats = state["stats"]
        # Slot 0: onset time, never before the current time; reaching the end stops the row.
        index = torch.tensor([r.index for r in active], device=hidden.device)
        chosen: dict[int, int] = {}
        bounds: dict[int, tuple[int, int]] = {}  # absolute [low, high) of each row's onset
        for row in active:
            low = max(plan.start, row.sequence.current_time)
            high = plan.end + vocab.MAX_TIME  # past the end: the row stops
            if pitches is not None:
                keep = row.keep
                if keep.member_index > 0:
                    chosen[row.index] = keep.chord_time - row.window.offset
                    continue
                if keep.chords_started > 0:
                    low = max(low, keep.chord_time + 1)  # a new chord never lands on the previous one
                later = len(pitches) - keep.chord_index - 1
                high = max(plan.end - later, low + 1)
                if low >= plan.end:
                    chosen[row.index] = plan.end - row.window.offset  # no room left: the row ends
                    continue
                high = min(high, plan.end)
            bounds[row.index] = (low - row.window.offset, min(high - row.window.offset, vocab.MAX_TIME))
        sampling_rows = [r for r in active if r.index not in chosen]
        if sampling_rows:
            rows_index = torch.tensor([r.index for r in sampling_rows], device=hidden.device)
            first = min(bounds[r.index][0] for r in sampling_rows)
            logits = self._head(hidden[rows_index], vocab.TIME_OFFSET + first, vocab.TIME_OFFSET + vocab.MAX_TIME)
            own = [logits[b, bounds[r.index][0] - first : bounds[r.index][1] - first]
                   for b, r in enumerate(sampling_rows)]
            for row, choice in zip(sampling_rows, sample_each(own, sampling, [r.generator for r in sampling_rows])):
                chosen[row.index] = bounds[row.index][0] + choice
        writing = []
        for row in active:
            relative = chosen[row.index]
            row.sampled += 1
            stats.sampled_tokens += 1
            if relative + row.window.offset >= plan.end:
                state["finish"](row, "end")
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
    def _next_chord(row: _Row, pitches: Sequence[Sequence[int]], state: dict) -> None:
        """Keep pitches: make the row's next chord current (its notes the cap lets in); ends the row after the last."""
        keep = row.keep
        while keep.chord is None:
            if keep.chord_index >= len(pitches):
                state["finish"](row, "end")
                return
            playable, blocked = keep_modes.playable_chord(pitches[keep.chord_index], row.instruments)
            if blocked:
                state["skip"](row, keep_modes.CAP, blocked)
            if playable:
                keep.chord = playable
                keep.member_index = 0
            else:
                keep.chord_index += 1

    @staticmethod
    def _next_forced_note(row: _Row, onset: int) -> int:
        """The next note of the fixed pitch sequence (relative to NOTE_OFFSET) at ``onset``; advances the row."""
        keep = row.keep
        note = keep.chord[keep.member_index]
        if keep.member_index == 0:
            keep.chord_time = onset
            keep.chords_started += 1
        keep.member_index += 1
        if keep.member_index >= len(keep.chord):
            keep.chord_index += 1
            keep.chord = None
            keep.member_index = 0
        return note

    def _forced_slots(self, rows, active, rhythm, base_note_mask, plan, state):
        """Feed the next fixed (onset, duration) of each active row with its pending ids, in one forward.

        Returns the rows writing, their durations and each one's note mask; a
        slot that can get no note is passed over before anything is fed.
        """
        stats = state["stats"]
        writing: list[tuple[_Row, int]] = []
        durations: list[int] = []
        masks: list[torch.Tensor] = []
        for row in active:
            keep = row.keep
            while keep.slot_index < len(rhythm):
                slot = rhythm[keep.slot_index]
                mask = keep_modes.slot_note_mask(base_note_mask, slot, row.instruments, keep.taken_at(slot.onset))
                if not isinstance(mask, str):
                    break
                keep.slot_index += 1
                state["skip"](row, mask)
            if keep.slot_index >= len(rhythm) or rhythm[keep.slot_index].onset >= plan.end:
                state["finish"](row, "end")
                continue
            slot = rhythm[keep.slot_index]
            keep.slot_index += 1
            writing.append((row, slot.onset - row.window.offset))
            durations.append(min(max(slot.duration, 0), vocab.MAX_DURATION - 1))
            masks.append(mask)
        if writing:
            chunks: list[list[int]] = [[] for _ in rows]
            for (row, relative), duration in zip(writing, durations):
                chunks[row.index] = self._pending(row) + [self.profile.model_id(vocab.TIME_OFFSET + relative),
                                                          self.profile.model_id(vocab.DURATION_OFFSET + duration)]
                row.sampled += 1  # the note's ids count like sampled ones (the loop adds 2)
                stats.sampled_tokens += 1
            state["hidden"] = self._forward(rows, chunks, state)
        return writing, durations, masks
