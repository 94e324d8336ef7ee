"""The OSC protocol between the daemon and DAW clients (see docs/protocol.md).

Nothing here imports torch: the client and the command line stay fast to start.
"""

from __future__ import annotations

from bridge.protocol.limits import MAX_BUNDLE_DEPTH  # noqa: F401 - part of the protocol's names

PROTOCOL_VERSION = 1
PREFIX = "/midi-llm"

# Requests (client -> daemon).
PING = PREFIX + "/ping"
STATUS = PREFIX + "/status"
GENERATE = PREFIX + "/generate"
CONTINUE = PREFIX + "/continue"
INFILL = PREFIX + "/infill"
ACCOMPANY = PREFIX + "/accompany"
NOTES = PREFIX + "/notes"
CANCEL = PREFIX + "/cancel"
RESEND = PREFIX + "/resend"
TRANSPORT = PREFIX + "/transport"
RELOAD = PREFIX + "/reload"

MODE_ADDRESSES = {GENERATE: "generate", CONTINUE: "continue", INFILL: "infill", ACCOMPANY: "accompany"}
REQUEST_ADDRESSES = frozenset({PING, STATUS, NOTES, CANCEL, RESEND, TRANSPORT, RELOAD, *MODE_ADDRESSES})

# Replies (daemon -> client).
PONG = PREFIX + "/pong"
INFO = PREFIX + "/info"
ACCEPTED = PREFIX + "/accepted"
STARTED = PREFIX + "/started"
PROGRESS = PREFIX + "/progress"
NOTE = PREFIX + "/note"
RESULT = PREFIX + "/result"
WARNING = PREFIX + "/warning"
DONE = PREFIX + "/done"
ERROR = PREFIX + "/error"
CANCELLED = PREFIX + "/cancelled"
TRANSPORT_OK = PREFIX + "/transport_ok"

REPLY_ADDRESSES = frozenset({PONG, INFO, ACCEPTED, STARTED, PROGRESS, NOTE, RESULT, WARNING, DONE, ERROR, CANCELLED,
                             TRANSPORT_OK})

MAX_ATOMS = 256
"""Max for Live's lists are cut at 256 atoms: no message from the daemon has more arguments."""

NOTES_PER_CHUNK = 32
"""Notes per /notes or /result message: 3 or 5 header atoms + 7 x 32 = 229 atoms at most."""
