"""Error codes of the protocol, each with what it means to a musician."""

from __future__ import annotations

BAD_REQUEST = "bad_request"
UNKNOWN_ADDRESS = "unknown_address"
TOO_LARGE = "too_large"
QUEUE_FULL = "queue_full"
MISSING_CHUNK = "missing_chunk"
CANCELLED = "cancelled"
NOT_FOUND = "not_found"
UNAUTHORIZED = "unauthorized"
SHUTTING_DOWN = "shutting_down"
MODEL_ERROR = "model_error"
INTERNAL = "internal"
MIDI_UNAVAILABLE = "midi_unavailable"

CODES: dict[str, str] = {
    BAD_REQUEST: "a value in the request is missing, of the wrong type or out of range",
    UNKNOWN_ADDRESS: "the daemon does not know this OSC address",
    TOO_LARGE: "the request is over one of the daemon's limits (notes, bars, variations, datagram size)",
    QUEUE_FULL: "too many requests are already waiting",
    MISSING_CHUNK: "some chunks of the notes never arrived; nothing was generated",
    CANCELLED: "the request was cancelled",
    NOT_FOUND: "no such request (finished long ago, or never sent)",
    UNAUTHORIZED: "the request did not carry the daemon's secret",
    SHUTTING_DOWN: "the daemon is stopping",
    MODEL_ERROR: "the model failed while writing; the daemon keeps serving",
    INTERNAL: "a bug in the daemon; the daemon keeps serving",
    MIDI_UNAVAILABLE: "live output was asked for but no MIDI output port could be opened",
}


class ProtocolError(Exception):
    """A request the daemon refuses: a code from :data:`CODES` and a sentence for the musician."""

    def __init__(self, code: str, message: str, details: tuple = ()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = tuple(details)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
