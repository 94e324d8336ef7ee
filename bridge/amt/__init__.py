"""The Anticipatory Music Transformer token format, implemented from its facts."""

from bridge.amt.notes import Note, events_to_notes, events_to_tokens, notes_to_events, tokens_to_events
from bridge.amt.tempo import TempoChange, TempoMap, TimeSignature
from bridge.amt.vocab import Event

__all__ = [
    "Event",
    "Note",
    "TempoChange",
    "TempoMap",
    "TimeSignature",
    "events_to_notes",
    "events_to_tokens",
    "notes_to_events",
    "tokens_to_events",
]
