"""OSC 1.0 messages as bytes, with explicit argument types and size checks.

Encoding is done here (a few lines of ``struct``) so that every argument's
type is decided on purpose: a Python ``float`` becomes a 32-bit ``f`` (what
Max handles everywhere), a :class:`Double` becomes a 64-bit ``d``, an ``int``
a 32-bit ``i`` (``h`` only when it does not fit), a ``str`` an ``s``.
Decoding uses python-osc's parser, wrapped so that any failure becomes one
:class:`OscDecodeError` instead of an exception type the caller has to guess.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

from bridge.protocol.limits import MAX_BUNDLE_DEPTH

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class Double(float):
    """A float that must travel as a 64-bit OSC double (``d``)."""


class OscDecodeError(ValueError):
    """The bytes are not an OSC message or bundle."""


def _pad_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    if b"\0" in raw:
        raise ValueError("OSC strings cannot contain a NUL character")
    return raw + b"\0" * (4 - len(raw) % 4)


def encode_message(address: str, args: Iterable[Any] = ()) -> bytes:
    """One OSC message: ``address`` (starting with ``/``) and typed arguments."""
    if not address.startswith("/"):
        raise ValueError(f"OSC address {address!r} must start with '/'")
    tags = [","]
    data: list[bytes] = []
    for value in args:
        if value is True:
            tags.append("T")
        elif value is False:
            tags.append("F")
        elif value is None:
            tags.append("N")
        elif isinstance(value, int):
            if INT32_MIN <= value <= INT32_MAX:
                tags.append("i")
                data.append(struct.pack(">i", value))
            elif INT64_MIN <= value <= INT64_MAX:
                tags.append("h")
                data.append(struct.pack(">q", value))
            else:
                raise ValueError(f"integer {value} does not fit in 64 bits")
        elif isinstance(value, Double):
            tags.append("d")
            data.append(struct.pack(">d", value))
        elif isinstance(value, float):
            tags.append("f")
            data.append(struct.pack(">f", value))
        elif isinstance(value, str):
            tags.append("s")
            data.append(_pad_string(value))
        elif isinstance(value, (bytes, bytearray)):
            tags.append("b")
            blob = bytes(value)
            data.append(struct.pack(">i", len(blob)) + blob + b"\0" * (-len(blob) % 4))
        else:
            raise TypeError(f"cannot send {type(value).__name__} {value!r} over OSC")
    return _pad_string(address) + _pad_string("".join(tags)) + b"".join(data)


def encode_bundle(messages: Sequence[bytes], timetag: int = 1) -> bytes:
    """An OSC bundle of already encoded messages (time tag 1 = immediately)."""
    parts = [b"#bundle\0", struct.pack(">Q", timetag)]
    for message in messages:
        parts.append(struct.pack(">i", len(message)))
        parts.append(message)
    return b"".join(parts)


class BundleTooDeep(OscDecodeError):
    """A bundle nested deeper than the protocol allows (:data:`MAX_BUNDLE_DEPTH`): answered, not dropped."""


def _deepest(data: bytes, start: int, end: int, level: int, limit: int) -> int:
    """The nesting depth of the bundle in ``data[start:end]`` (at ``level``), looked at only up to ``limit + 1``.

    Only the elements' sizes are read: the recursion stops one level past the
    limit, so even a datagram of nothing but nested bundle headers cannot take
    the parser deep. Malformed sizes end the walk; the parser then says so.
    """
    if level > limit:
        return level
    deepest = level
    position = start + 16  # "#bundle\0" and the time tag
    while position + 4 <= end:
        size = int.from_bytes(data[position : position + 4], "big", signed=True)
        position += 4
        if size < 0 or position + size > end:
            break
        if data[position : position + 8] == b"#bundle\0":
            deepest = max(deepest, _deepest(data, position, position + size, level + 1, limit))
            if deepest > limit:
                return deepest
        position += size
    return deepest


def decode_datagram(data: bytes) -> list[tuple[str, list[Any]]]:
    """The messages in one datagram (a bundle's messages in order, time tags ignored)."""
    from pythonosc.osc_bundle import OscBundle
    from pythonosc.osc_message import OscMessage

    if not data:
        raise OscDecodeError("empty datagram")
    try:
        if data.startswith(b"#bundle\0"):
            if _deepest(data, 0, len(data), 1, MAX_BUNDLE_DEPTH) > MAX_BUNDLE_DEPTH:
                raise BundleTooDeep(f"this bundle nests more than {MAX_BUNDLE_DEPTH} levels; the protocol allows "
                                    f"at most {MAX_BUNDLE_DEPTH} (a bundle in a bundle is 2): send flatter bundles")
            found: list[tuple[str, list[Any]]] = []

            def walk(bundle: OscBundle) -> None:
                for content in bundle:
                    if isinstance(content, OscBundle):
                        walk(content)
                    else:
                        found.append((content.address, list(content.params)))

            walk(OscBundle(data))
            return found
        if data[:1] != b"/":
            raise OscDecodeError("not an OSC message (it does not start with '/')")
        message = OscMessage(data)
        return [(message.address, list(message.params))]
    except OscDecodeError:
        raise
    except Exception as error:  # python-osc raises several types (and UnicodeDecodeError)
        raise OscDecodeError(f"malformed OSC packet ({type(error).__name__}: {error})") from None


def encode_fitting(address: str, args: Sequence[Any], max_bytes: int) -> bytes:
    """Like :func:`encode_message`, shortening the longest text argument until the datagram fits.

    For replies that carry sentences (errors, warnings, model names) under a small
    ``osc.max_datagram_bytes``. Raises ValueError when even empty texts do not fit.
    """
    args = list(args)
    data = encode_message(address, args)
    while len(data) > max_bytes:
        texts = [i for i, a in enumerate(args) if isinstance(a, str) and a]
        if not texts:
            raise ValueError(f"{address} needs {len(data)} bytes, over {max_bytes}")
        longest = max(texts, key=lambda i: len(args[i].encode("utf-8")))
        raw = args[longest].encode("utf-8")
        keep = len(raw) - (len(data) - max_bytes) - 8
        args[longest] = raw[:keep].decode("utf-8", errors="ignore") + "..." if keep > 0 else ""
        data = encode_message(address, args)
    return data
