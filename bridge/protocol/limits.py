"""Every fixed limit of the bridge, in one place.

The protocol, the engine, the configuration schema and the daemon import these
instead of writing the numbers again, so that a value the protocol accepts is
never refused by the engine (or the other way round). Limits a user may change
live in the configuration (``limits.*``); these are the ones that are part of
the contract. Nothing here imports anything.
"""

from __future__ import annotations

MAX_SEED = 2**31 - 1
"""Seeds are 0..2^31-1: they travel as a 32-bit OSC ``i`` and are exact in JavaScript and Lua."""

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 5.0
MIN_TOP_P, MAX_TOP_P = 0.01, 1.0
MAX_TOP_K = 16512

MAX_PROMPT_CHARACTERS = 2000
"""MIDI-LLM's text prompt; longer ones leave too little of the context for the music."""

MAX_ID_CHARACTERS = 64
MIN_BPM, MAX_BPM = 1.0, 1000.0

MAX_BUNDLE_DEPTH = 8
"""OSC bundles may nest this many levels (a bundle in a bundle is 2); deeper ones get an error."""

PENDING_PER_HOST = 32
"""Incomplete requests (notes still arriving) one client host may have at once."""
PENDING_TOTAL = 256
"""Incomplete requests over all hosts: one host can take at most PENDING_PER_HOST of them."""

RESULT_CACHE_JOBS = 32
RESULT_CACHE_SECONDS = 120.0
"""Results kept for /midi-llm/resend: the last this many jobs, for this long."""
