"""The grammar of one row as a state machine: given the ids so far, what may come next.

One :class:`RowMachine` per variation. It holds the row's sequence (absolute
ticks), its window (what the model sees, onsets relative to the window's
offset) and the progress through keep rhythm / keep pitches. A backend asks
:meth:`RowMachine.expect` for the next position and answers with
:meth:`RowMachine.push` (the id it sampled or the forced one), or with
:meth:`RowMachine.rebuild` when the window must be rebuilt. The machine knows
nothing of tensors or of how the model is stepped, so the transformers loop
and vLLM's logits processor run the very same rules.

The order of decisions before each event is the reference decoder's: the
limits (token and note budget), then the controls that became due (forced
ids), then whether the window is stale (rebuild), then the onset. The row's
random draws are never the machine's business: it only says which ids are
allowed, so a row's outcome depends on its own ids alone.
"""

from __future__ import annotations

from collections import Counter, deque

from bridge.amt import vocab
from bridge.amt.sequence import SequenceState
from bridge.engine import keep_modes
from bridge.engine.grammar import MAX_INSTRUMENTS_BESIDES_NEW, NOTE_SLOT_SIZE, instruments_in
from bridge.engine.keep_modes import KeepProgress
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
from bridge.engine.machine.rules import RowRules
from bridge.engine.window import Window, choose_window

SKIP = "skip"
"""A news item: a given note (keep rhythm / keep pitches) was passed over."""

_EVENT, _DURATION, _NOTE, _DONE = "event", "duration", "note", "done"


class GrammarError(ValueError):
    """An id the machine did not allow was pushed (a backend bug, never a user error)."""


def capped(rule: NoteRule, present: set[int]) -> NoteRule:
    """``rule`` limited to the ``present`` instruments once the 16-instrument cap is reached."""
    if len(present) < MAX_INSTRUMENTS_BESIDES_NEW:
        return rule
    return NoteRule(rule.instruments & frozenset(present), rule.pitched, rule.rest, rule.excluded)


class RowMachine:
    """One row's grammar; see the module docstring."""

    def __init__(self, rules: RowRules, sequence: SequenceState, instruments: set[int] | None = None):
        self.rules = rules
        self.sequence = sequence
        self.instruments = instruments if instruments is not None else instruments_in(
            sequence.tokens + [t for triplet in sequence.pending for t in triplet])
        self.window: Window | None = None
        self.seen = 0  # ids of the sequence the model has in its input
        self.sampled = 0  # ids sampled (the token budget), three per event and one for the onset that ends
        self.notes_written = 0
        self.events: list[vocab.Event] = []
        self.keep = KeepProgress()
        self.finish_reason = ""
        self._phase = _EVENT
        self._prepared = False  # limits checked and due controls placed for the coming event
        self._checked = False  # window checked for the coming event
        self._time = 0  # absolute onset of the event being written
        self._duration = 0
        self._slot_rule: NoteRule | None = None  # keep rhythm: the note rule of the slot being written
        self._news: list[vocab.Event | str] = []

    # ----- what the model sees ----------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._phase == _DONE

    @property
    def offset(self) -> int:
        assert self.window is not None, "rebuild() first"
        return self.window.offset

    @property
    def current_time(self) -> int:
        return self.sequence.current_time

    @property
    def owes_first_note(self) -> bool:
        """The musician chose instruments, the row has no note yet, and one is possible (see
        :attr:`RowRules.first_note`; the 16-instrument cap may leave none of the chosen instruments)."""
        if not self.rules.first_note or self.notes_written:
            return False
        rule = capped(self.rules.notes, self.instruments)
        return not NoteRule(rule.instruments, rule.pitched, False, rule.excluded).is_empty()

    def floor(self) -> int:
        """The earliest onset the row may write next (keep rhythm: its next slot's)."""
        floor = max(self.rules.start, self.sequence.current_time)
        rhythm = self.rules.rhythm
        if rhythm is not None and self.keep.slot_index < len(rhythm):
            floor = max(floor, rhythm[self.keep.slot_index].onset)
        return floor

    def relative(self, index: int) -> int:
        """The id at ``index`` of the sequence as the model sees it (onsets relative to the window)."""
        token = self.sequence.tokens[index]
        return token - self.offset if index % 3 == 0 else token

    def window_ids(self) -> list[int]:
        """The window as the model reads it after the prefix: whole triplets, onsets relative."""
        assert self.window is not None, "rebuild() first"
        return [self.relative(i) for i in range(self.window.begin, len(self.sequence.tokens))]

    def rebuild(self) -> None:
        """The model gets a fresh input: a new window if the current one went stale (or there is none)."""
        tokens = self.sequence.tokens
        floor = self.floor()
        if self.window is None or self.window.is_stale(tokens, floor, self.rules.capacity):
            self.window = choose_window(tokens, floor, self.rules.kept_at_rebuild)
        self.seen = len(tokens)
        self._checked = True

    def take_news(self) -> list[vocab.Event | str]:
        """New events and :data:`SKIP` marks since the last call, in order."""
        news, self._news = self._news, []
        return news

    @property
    def unplaced(self) -> dict[str, int]:
        return dict(self.keep.unplaced)

    # ----- the next position ------------------------------------------------------------------

    def expect(self) -> Expectation:
        """What the next position must be. Calling it again without a push gives the same answer."""
        if self._phase == _DONE:
            return Finished(self.finish_reason)
        if self._phase == _DURATION:
            if self.rules.rhythm is not None:
                duration = min(max(self._duration, 0), vocab.MAX_DURATION - 1)
                return Force(DURATION, vocab.DURATION_OFFSET + duration)
            return Sample(DURATION, vocab.DURATION_OFFSET, vocab.NOTE_OFFSET)
        if self._phase == _NOTE:
            return self.note_expectation()
        return self._before_event()

    def note_expectation(self) -> Sample | Force:
        """What the note slot of the event being written will be, once its onset and duration are pushed.

        Valid as soon as :meth:`expect` has answered the onset: it does not
        depend on the onset and duration values, so a backend may sample a
        whole triplet on its device and push the three ids after one sync.
        """
        if self.rules.pitches is not None:
            return Force(NOTE, vocab.NOTE_OFFSET + self.keep.chord[self.keep.member_index])
        if self.rules.rhythm is not None:
            rule = self._slot_rule
        else:
            rule = capped(self.rules.notes, self.instruments)
            if self.owes_first_note:
                rule = NoteRule(rule.instruments, rule.pitched, False, rule.excluded)
        return Sample(NOTE, vocab.NOTE_OFFSET, vocab.NOTE_OFFSET + NOTE_SLOT_SIZE, rule)

    def _before_event(self) -> Expectation:
        rules = self.rules
        if not self._prepared:
            if self.sampled + 3 > rules.max_new_tokens:
                return self._finish("max_new_tokens")
            if rules.max_notes is not None and self.notes_written >= rules.max_notes:
                return self._finish("max_notes")
            self.instruments |= instruments_in(self.sequence.due_controls())
            self._prepared = True
        if not self._checked:
            if self.window is None or self.window.is_stale(self.sequence.tokens, self.floor(), rules.capacity):
                return Rebuild()
            self._checked = True
        if self.seen < len(self.sequence.tokens):
            return Force(CONTROL, self.relative(self.seen))
        if rules.pitches is not None:
            return self._chord_onset()
        if rules.rhythm is not None:
            return self._rhythm_onset()
        low = max(rules.start, self.sequence.current_time)
        high = rules.end + vocab.MAX_TIME  # an onset at or past the end stops the row
        if self.owes_first_note:
            if low >= rules.end:
                return self._finish("end")
            high = rules.end  # no ending before the first note
        return Sample(TIME, vocab.TIME_OFFSET + low - self.offset,
                      vocab.TIME_OFFSET + min(high - self.offset, vocab.MAX_TIME))

    def _rhythm_onset(self) -> Expectation:
        """Keep rhythm: the next slot that can get a note, its onset forced; slots that can get none are skipped."""
        rhythm, keep = self.rules.rhythm, self.keep
        while keep.slot_index < len(rhythm):
            slot = rhythm[keep.slot_index]
            rule = self._slot_note_rule(slot)
            if not isinstance(rule, str):
                self._slot_rule = rule
                break
            keep.slot_index += 1
            self._skip(rule)
        if keep.slot_index >= len(rhythm) or rhythm[keep.slot_index].onset >= self.rules.end:
            return self._finish("end")
        return Force(TIME, vocab.TIME_OFFSET + rhythm[keep.slot_index].onset - self.offset)

    def _slot_note_rule(self, slot: keep_modes.RhythmSlot) -> NoteRule | str:
        """The notes a rhythm slot may get (never REST, never a note already on its onset) or why it gets none."""
        if slot.instrument is not None and keep_modes.blocked_by_cap(slot.instrument, self.instruments):
            return keep_modes.CAP
        base = self.rules.notes
        instruments = base.instruments if slot.instrument is None else base.instruments & {slot.instrument}
        rule = capped(NoteRule(instruments, base.pitched, False, frozenset(self.keep.taken_at(slot.onset))),
                      self.instruments)
        return keep_modes.NO_PITCH if rule.is_empty() else rule

    def _chord_onset(self) -> Expectation:
        """Keep pitches: the onset of the next fixed note (a chord's later notes share its onset)."""
        rules, keep = self.rules, self.keep
        while keep.chord is None:
            if keep.chord_index >= len(rules.pitches):
                return self._finish("end")
            playable, blocked = keep_modes.playable_chord(rules.pitches[keep.chord_index], self.instruments)
            if blocked:
                self._skip(keep_modes.CAP, blocked)
            if playable:
                keep.chord = playable
                keep.member_index = 0
            else:
                keep.chord_index += 1
        if keep.member_index > 0:
            return Force(TIME, vocab.TIME_OFFSET + keep.chord_time - self.offset)
        low = max(rules.start, self.sequence.current_time)
        if keep.chords_started > 0:
            low = max(low, keep.chord_time + 1)  # a new chord never lands on the previous one
        if low >= rules.end:
            return self._finish("end")  # no room left for the remaining chords
        later = len(rules.pitches) - keep.chord_index - 1
        high = min(max(rules.end - later, low + 1), rules.end)  # one step left for each later chord
        return Sample(TIME, vocab.TIME_OFFSET + low - self.offset,
                      vocab.TIME_OFFSET + min(high - self.offset, vocab.MAX_TIME))

    # ----- answers ----------------------------------------------------------------------------

    def push(self, token: int) -> None:
        """The id at the position :meth:`expect` described (window-relative AMT id)."""
        expected = self.expect()
        if isinstance(expected, Force):
            if token != expected.id:
                raise GrammarError(f"id {token} pushed where {expected.id} is forced ({expected.slot})")
        elif isinstance(expected, Sample):
            if not expected.first <= token < expected.end or (
                    expected.notes is not None and not expected.notes.allows(token - vocab.NOTE_OFFSET)):
                raise GrammarError(f"id {token} is not allowed in the {expected.slot} slot")
        else:
            raise GrammarError(f"id {token} pushed while the row expects {type(expected).__name__}")
        slot = expected.slot
        if slot == CONTROL:
            self.seen += 1
        elif slot == TIME:
            self._onset(token - vocab.TIME_OFFSET + self.offset)
        elif slot == DURATION:
            self._duration = token - vocab.DURATION_OFFSET
            self._phase = _NOTE
        else:
            self._note(token)

    def _onset(self, absolute: int) -> None:
        self.sampled += 1
        if absolute >= self.rules.end:
            self._finish("end")
            return
        self._time = absolute
        if self.rules.rhythm is not None:
            self._duration = self.rules.rhythm[self.keep.slot_index].duration
            self.keep.slot_index += 1
        self._phase = _DURATION

    def _note(self, token: int) -> None:
        keep = self.keep
        note = token - vocab.NOTE_OFFSET
        if self.rules.pitches is not None:
            if keep.member_index == 0:
                keep.chord_time = self._time
                keep.chords_started += 1
            keep.member_index += 1
            if keep.member_index >= len(keep.chord):
                keep.chord_index += 1
                keep.chord = None
                keep.member_index = 0
        self.sampled += 2
        self.sequence.append_event((vocab.TIME_OFFSET + self._time, vocab.DURATION_OFFSET + self._duration, token))
        self.seen = len(self.sequence.tokens)
        self._phase = _EVENT
        self._prepared = self._checked = False
        if token == vocab.REST:
            return
        instrument, pitch = divmod(note, vocab.MAX_PITCH)
        self.instruments.add(instrument)
        if self.rules.rhythm is not None:
            keep.took(self._time, note)
        event = vocab.Event(self._time, self._duration, instrument, pitch)
        self.events.append(event)
        self.notes_written += 1
        self._news.append(event)

    def _finish(self, reason: str) -> Finished:
        self._phase = _DONE
        self.finish_reason = reason
        left = self.keep.remaining_given(self.rules.rhythm, self.rules.pitches)
        if left:
            self.keep.unplaced[keep_modes.FINISH_REASONS[reason]] += left
        return Finished(reason)

    def _skip(self, reason: str, count: int = 1) -> None:
        self.keep.unplaced[reason] += count
        self._news.extend([SKIP] * count)

    # ----- snapshots (a vLLM request carries one) ---------------------------------------------

    def snapshot(self) -> dict:
        """The whole state as JSON-able data, the window's ids only (what a new request over it needs)."""
        assert self.window is not None, "rebuild() first"
        begin = self.window.begin
        keep = self.keep
        return {
            "rules": self.rules.to_dict(),
            "tokens": self.sequence.tokens[begin:],
            "pending": [list(t) for t in self.sequence.pending],
            "current_time": self.sequence.current_time,
            "instruments": sorted(self.instruments),
            "window": [self.window.offset, self.window.earliest, self.window.latest, max(self.window.seen - begin, 0)],
            "seen": self.seen - begin,
            "sampled": self.sampled,
            "notes_written": self.notes_written,
            "keep": [keep.slot_index, keep.chord_index, keep.chord, keep.member_index, keep.chord_time,
                     keep.chords_started, [keep.onset_notes[0], sorted(keep.onset_notes[1])]],
            "state": [self._phase, self._prepared, self._checked, self._time, self._duration, self.finish_reason],
        }

    @classmethod
    def restore(cls, data: dict) -> RowMachine:
        """The machine :meth:`snapshot` described (its window starting at the first id)."""
        rules = RowRules.from_dict(data["rules"])
        sequence = SequenceState(list(data["tokens"]), deque(tuple(t) for t in data["pending"]),
                                 int(data["current_time"]))
        machine = cls(rules, sequence, set(data["instruments"]))
        offset, earliest, latest, observed = data["window"]
        machine.window = Window(0, offset, earliest, latest, observed)
        machine.seen = data["seen"]
        machine.sampled = data["sampled"]
        machine.notes_written = data["notes_written"]
        keep = machine.keep
        (keep.slot_index, keep.chord_index, chord, keep.member_index, keep.chord_time, keep.chords_started,
         (onset, notes)) = data["keep"]
        keep.chord = None if chord is None else list(chord)
        keep.onset_notes = (onset, set(notes))
        keep.unplaced = Counter()
        (machine._phase, machine._prepared, machine._checked, machine._time, machine._duration,
         machine.finish_reason) = data["state"]
        if rules.rhythm is not None and machine._phase == _NOTE:
            slot = rules.rhythm[keep.slot_index - 1]
            machine._slot_rule = machine._slot_note_rule(slot)
        return machine
