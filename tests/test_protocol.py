"""The OSC protocol without a network: codec, notes as atoms, chunks, options, limits."""

from __future__ import annotations

import math
import struct
import subprocess
import sys

import pytest

from bridge import protocol as P
from bridge.amt.notes import Note
from bridge.config import defaults
from bridge.protocol.assembly import PendingRequest, ResultAssembly, describe_chunks
from bridge.protocol.errors import BAD_REQUEST, MISSING_CHUNK, TOO_LARGE, ProtocolError
from bridge.protocol.notes import NOTE_ATOMS, encode_chunks, note_to_atoms, parse_note_atoms, raw_to_note
from bridge.protocol.osc import (
    Double,
    OscDecodeError,
    decode_datagram,
    encode_bundle,
    encode_fitting,
    encode_message,
)
from bridge.protocol.request_encoding import encode_options, encode_request
from bridge.protocol.requests import build_job_spec, expected_notes, parse_options, parse_request_id


def config(**limits):
    c = defaults()
    c["limits"].update(limits)
    return c


def note(pitch=60, start=0.0, duration=0.5, **kw):
    return Note(pitch, start, duration, **kw)


# ----- OSC codec ------------------------------------------------------------------------------


def test_encode_decode_keeps_every_type():
    data = encode_message("/midi-llm/x", [1, -2**40, 0.5, Double(1 / 3), "héllo", True, False, None])
    assert len(data) % 4 == 0
    address, args = decode_datagram(data)[0]
    assert address == "/midi-llm/x"
    assert args[0] == 1 and args[1] == -2**40
    assert args[2] == 0.5 and args[3] == 1 / 3
    assert args[4:] == ["héllo", True, False, None]
    tags = data[12:24]
    assert tags.startswith(b",ihfdsTFN")


def test_python_float_is_32_bit_and_double_is_64_bit():
    f = encode_message("/a", [0.1])
    d = encode_message("/a", [Double(0.1)])
    assert decode_datagram(f)[0][1][0] == struct.unpack(">f", struct.pack(">f", 0.1))[0]
    assert decode_datagram(d)[0][1][0] == 0.1


def test_bundles_are_unpacked_in_order():
    bundle = encode_bundle([encode_message("/a", [1]), encode_message("/b", ["x"])])
    assert decode_datagram(bundle) == [("/a", [1]), ("/b", ["x"])]


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01\x02", b"hello world", b"/abc", b"/a\0\0,i\0\0\0",
                                     b"#bundle\0" + b"\xff" * 20, bytes(range(256))])
def test_garbage_is_one_clear_error(garbage):
    with pytest.raises(OscDecodeError):
        decode_datagram(garbage)


def test_strings_with_nul_are_refused():
    with pytest.raises(ValueError):
        encode_message("/a", ["x\0y"])


def test_long_texts_are_shortened_to_fit_small_datagrams():
    data = encode_fitting(P.ERROR, [1, "bad_request", "é" * 2000, 5], 512)
    assert len(data) <= 512
    args = decode_datagram(data)[0][1]
    assert args[0] == 1 and args[1] == "bad_request" and args[2].endswith("...") and args[3] == 5
    assert encode_fitting(P.PONG, [1, "short"], 512) == encode_message(P.PONG, [1, "short"])


# ----- notes as atoms -------------------------------------------------------------------------


def test_note_atoms_round_trip_in_beats_and_seconds():
    from bridge.amt.tempo import TempoMap

    tempo = TempoMap.from_pairs([(0, 120), (8, 60)])
    original = Note(64, 9.0, 1.5, 99.5, 33, True, 4)
    atoms = note_to_atoms(original, doubles=True)
    assert len(atoms) == NOTE_ATOMS
    raw = parse_note_atoms(atoms, "test")[0]
    assert raw_to_note(raw, tempo=tempo, seconds=False, program=0) == original
    seconds = note_to_atoms(original, tempo=tempo, seconds=True, doubles=True)
    assert seconds[1] == pytest.approx(4.0 + 1.0) and seconds[2] == pytest.approx(1.5)
    back = raw_to_note(parse_note_atoms(seconds, "t")[0], tempo=tempo, seconds=True, program=0)
    assert back.start == pytest.approx(9.0) and back.duration == pytest.approx(1.5)


def test_instrument_minus_one_comes_from_the_channel():
    from bridge.amt.tempo import TempoMap

    tempo = TempoMap.constant(120)
    drums = parse_note_atoms([36, 0.0, 0.25, 100, 0, -1, 9], "t")[0]
    bass = parse_note_atoms([36, 0.0, 0.25, 100, 0, -1, 1], "t")[0]
    assert raw_to_note(drums, tempo=tempo, seconds=False, program=33).instrument == 128
    assert raw_to_note(bass, tempo=tempo, seconds=False, program=33).instrument == 33


@pytest.mark.parametrize("atoms, words", [
    ([200, 0.0, 1.0, 100, 0, 0, 0], "pitch 200 must be 0..127"),
    ([60, math.nan, 1.0, 100, 0, 0, 0], "start nan is not a finite number"),
    ([60, 0.0, math.inf, 100, 0, 0, 0], "duration inf"),
    ([60, -1.0, 1.0, 100, 0, 0, 0], "start -1.0 must be"),
    ([60, 0.0, 1.0, 300, 0, 0, 0], "velocity 300.0 must be"),
    ([60, 0.0, 1.0, 100, 2, 0, 0], "mute 2 must be 0..1"),
    ([60, 0.0, 1.0, 100, 0, 129, 0], "instrument 129"),
    ([60, 0.0, 1.0, 100, 0, 0, 16], "channel 16"),
    ([60.5, 0.0, 1.0, 100, 0, 0, 0], "pitch 60.5 is not a whole number"),
    (["C4", 0.0, 1.0, 100, 0, 0, 0], "pitch 'C4' is not a whole number"),
    ([60, 0.0, 1.0, 100, 0, 0], "not a whole number of notes"),
])
def test_bad_note_atoms_name_the_problem(atoms, words):
    with pytest.raises(ProtocolError) as caught:
        parse_note_atoms(atoms, "chunk 0")
    assert caught.value.code == BAD_REQUEST
    assert words in caught.value.message


def test_integral_floats_are_accepted_as_integers():
    raw = parse_note_atoms([60.0, 0, 1, 100, 0.0, 0.0, -1.0], "t")[0]
    assert raw[0] == 60 and raw[5] == 0 and raw[6] == -1


@pytest.mark.parametrize("max_bytes", [512, 1024, 8192])
@pytest.mark.parametrize("doubles", [False, True])
def test_chunks_fit_the_datagram_and_max_lists(max_bytes, doubles):
    notes = [note(36 + i % 48, i * 0.25, 0.25, velocity=80 + i % 40, instrument=i % 129) for i in range(1000)]
    atoms = [note_to_atoms(n, doubles=doubles) for n in notes]
    messages = encode_chunks(P.RESULT, ["a-long-request-id-" * 3, 3], atoms, max_bytes=max_bytes,
                             total_in_header=True)
    assert len(messages) > 1
    collected = []
    for index, data in enumerate(messages):
        assert len(data) <= max_bytes
        address, args = decode_datagram(data)[0]
        assert len(args) <= P.MAX_ATOMS
        assert args[2:5] == [index, len(messages), 1000]
        collected += [args[5 + i : 12 + i] for i in range(0, len(args) - 5, 7)]
    assert len(collected) == 1000
    assert [a[0] for a in collected] == [n.pitch for n in notes]


def test_an_empty_clip_is_one_chunk():
    messages = encode_chunks(P.RESULT, [1, 0], [], max_bytes=8192, total_in_header=True)
    assert len(messages) == 1
    assert decode_datagram(messages[0])[0][1] == [1, 0, 0, 1, 0]


# ----- chunk assembly -------------------------------------------------------------------------


def _chunks(notes, max_bytes=600):
    atoms = [note_to_atoms(n) for n in notes]
    return [decode_datagram(m)[0][1][1:] for m in encode_chunks(P.NOTES, [7], atoms, max_bytes=max_bytes)]


def test_request_is_complete_only_with_every_chunk_in_any_order():
    notes = [note(60 + i % 12, i * 0.5) for i in range(50)]
    chunks = _chunks(notes)
    assert len(chunks) >= 3
    pending = PendingRequest(7)
    pending.set_header("continue", {}, ("127.0.0.1", 1), 50)
    for args in reversed(chunks[1:]):
        pending.add_chunk(args, 4096)
        assert not pending.complete()
    assert pending.missing() == [0]
    pending.add_chunk(chunks[0], 4096)
    assert pending.complete()
    assert [n[0] for n in pending.raw_notes()] == [n.pitch for n in notes]


def test_chunks_before_the_header_wait_for_it():
    chunks = _chunks([note(), note(62, 1.0)])
    pending = PendingRequest(7)
    for args in chunks:
        pending.add_chunk(args, 4096)
    assert not pending.complete()
    pending.set_header("continue", {}, ("127.0.0.1", 1), 2)
    assert pending.complete()


def test_a_lost_chunk_is_named():
    chunks = _chunks([note(60, i * 0.5) for i in range(60)], max_bytes=512)
    pending = PendingRequest(7)
    pending.set_header("continue", {}, ("127.0.0.1", 1), 60)
    for i, args in enumerate(chunks):
        if i != 1:
            pending.add_chunk(args, 4096)
    error = pending.timeout_error()
    assert error.code == MISSING_CHUNK
    assert error.details == (1,)
    assert f"chunk 1 of {len(chunks)} never arrived" in error.message


def test_no_chunk_at_all_is_named_too():
    pending = PendingRequest(7)
    pending.set_header("continue", {}, ("127.0.0.1", 1), 5)
    assert "none of the 5 notes arrived" in pending.timeout_error().message


def test_announced_count_must_match():
    pending = PendingRequest(7)
    pending.set_header("continue", {}, ("127.0.0.1", 1), 3)
    pending.add_chunk(_chunks([note()])[0], 4096)
    assert pending.complete()
    with pytest.raises(ProtocolError, match="announced 3 notes but its chunks hold 1"):
        pending.raw_notes()


def test_inconsistent_chunk_counts_and_bad_notes_become_the_reply():
    pending = PendingRequest(7)
    pending.add_chunk([0, 2, *note_to_atoms(note())], 4096)
    pending.add_chunk([1, 3, *note_to_atoms(note())], 4096)
    pending.set_header("continue", {}, ("127.0.0.1", 1), 2)
    assert pending.complete()
    with pytest.raises(ProtocolError, match="says 3 chunks"):
        pending.raw_notes()
    pending = PendingRequest(8)
    pending.add_chunk([0, 1, 60, 0.0, math.nan, 100, 0, 0, 0], 4096)
    pending.set_header("continue", {}, ("127.0.0.1", 1), 1)
    with pytest.raises(ProtocolError, match="duration nan"):
        pending.raw_notes()


def test_too_many_notes_in_chunks_is_too_large():
    pending = PendingRequest(7)
    pending.add_chunk([0, 1, *[a for n in range(5) for a in note_to_atoms(note(60, n))]], 4)
    assert pending.error is not None and pending.error.code == TOO_LARGE


def test_describe_chunks():
    assert describe_chunks([3]) == "chunk 3"
    assert describe_chunks([7, 1, 2, 3]) == "chunks 1-3, 7"


def test_result_assembly_reports_what_is_missing():
    atoms = [note_to_atoms(note(60 + i % 10, i * 0.25)) for i in range(70)]
    messages = encode_chunks(P.RESULT, [9, 0], atoms, max_bytes=1024, total_in_header=True)
    assembly = ResultAssembly()
    for data in messages[:-1]:
        assembly.add(decode_datagram(data)[0][1][1:])
    assembly.variation_count = 2
    assert not assembly.complete()
    assert assembly.missing() == [(0, len(messages) - 1), (1, -1)]
    assembly.add(decode_datagram(messages[-1])[0][1][1:])
    assembly.add([1, 0, 1, 0])
    assert assembly.complete()
    assert len(assembly.notes(0)) == 70 and assembly.notes(1) == []


# ----- options and job specs ------------------------------------------------------------------


def test_options_are_typed_and_repeatable():
    options = parse_options(["prompt", "jazz", "bars", 4.0, "tempo", 90, "instrument", 0, "instrument", 33,
                             "tempo_change", 8, 60.0, "stream", 1, "grid", "1/8T"])
    assert options == {"prompt": "jazz", "bars": 4, "tempo": 90.0, "instrument": [0, 33],
                       "tempo_change": [(8.0, 60.0)], "stream": True, "grid": "1/8T"}


@pytest.mark.parametrize("args, words", [
    (["bogus", 1], "unknown option 'bogus'"),
    ([4, "bars"], "expected an option name"),
    (["bars"], "needs 1 value"),
    (["bars", "four"], "bars 'four' is not a whole number"),
    (["tempo", math.nan], "tempo nan is not a finite number"),
    (["prompt", 5], "must be text"),
    (["tempo_change", 8], "needs 2 value"),
])
def test_bad_options_name_the_problem(args, words):
    with pytest.raises(ProtocolError) as caught:
        parse_options(args)
    assert caught.value.code == BAD_REQUEST and words in caught.value.message


def test_request_ids_are_ints_or_words():
    assert parse_request_id(7) == (7, "7")
    assert parse_request_id(7.0) == (7, "7")
    assert parse_request_id("take-3") == ("take-3", "take-3")
    for bad in (1.5, "", "x" * 65, None, True):
        with pytest.raises(ProtocolError):
            parse_request_id(bad)


def _spec(mode, options, notes=(), **limits):
    raws = parse_note_atoms([a for n in notes for a in note_to_atoms(n)], "t") if notes else []
    return build_job_spec(mode, options, raws, config(**limits))


def test_span_defaults_per_mode():
    clip = [note(60, 0.0, 1.0), note(64, 5.0, 1.5)]  # ends at beat 6.5: inside bar 2
    g = _spec("generate", {})
    assert (g.request.start, g.request.end) == (0.0, 16.0)
    c = _spec("continue", {"bars": 2}, clip)
    assert (c.request.start, c.request.end) == (8.0, 16.0)
    a = _spec("accompany", {}, clip)
    assert (a.request.start, a.request.end) == (0.0, 8.0)
    i = _spec("infill", {"start_bar": 2, "end_bar": 3}, clip)
    assert (i.request.start, i.request.end) == (4.0, 12.0)
    w = _spec("generate", {"time_sig": "6/8", "start_bar": 3, "bars": 1})
    assert (w.request.start, w.request.end) == (6.0, 9.0)
    s = _spec("generate", {"units": "seconds", "tempo": 60.0, "start": 2.0, "end": 4.0})
    assert (s.request.start, s.request.end) == (2.0, 4.0) and s.seconds
    s = _spec("generate", {"units": "seconds", "tempo": 120.0, "start": 2.0, "end": 4.0})
    assert (s.request.start, s.request.end) == (4.0, 8.0) and s.to_units(s.request.end) == 4.0


@pytest.mark.parametrize("mode, options, words", [
    ("infill", {}, "infill needs the span"),
    ("generate", {"start_bar": 3, "end_bar": 2}, "ends (beat 8) before it starts"),
    ("generate", {"start": 1.0, "start_bar": 1}, "not both"),
    ("generate", {"end": 4.0, "bars": 1}, "only one of end"),
    ("generate", {"units": "ticks"}, "units 'ticks'"),
    ("generate", {"time_sig": "4-4"}, "time signature"),
    ("generate", {"tempo": 0.5}, "tempo 0.5 must be 1..1000"),
    ("generate", {"tempo_change": [(4.0, 5000.0)]}, "tempo_change bpm 5000.0 must be"),
    ("generate", {"grid": "1/7"}, "division"),
    ("generate", {"variations": 0}, "at least 1"),
    ("generate", {"lowest_pitch": 80, "highest_pitch": 40}, "above highest_pitch"),
    ("generate", {"temperature": 0.0}, "temperature 0.0 must be"),
    ("generate", {"seed": -1}, "seed -1 must be"),
    ("accompany", {}, "at least one part"),
])
def test_bad_requests(mode, options, words):
    with pytest.raises(ProtocolError) as caught:
        _spec(mode, options)
    assert caught.value.code == BAD_REQUEST and words in caught.value.message


@pytest.mark.parametrize("options, limits, words", [
    ({"bars": 200}, {}, "at most 128 bars"),
    ({"variations": 9}, {}, "at most 8"),
    ({"max_notes": 5000}, {}, "limits.max_notes_out"),
    ({"bars": 100, "tempo": 30.0}, {}, "limits.max_seconds"),
    ({"max_tokens": 10**6}, {}, "sampling.max_new_tokens"),
    ({"prompt": "x" * 2001}, {}, "characters"),
])
def test_over_a_limit_is_too_large(options, limits, words):
    with pytest.raises(ProtocolError) as caught:
        _spec("generate", options, **limits)
    assert caught.value.code == TOO_LARGE and words in caught.value.message


def test_announced_notes_over_the_limit_are_refused_before_they_arrive():
    with pytest.raises(ProtocolError) as caught:
        expected_notes({"notes": 5000}, config()["limits"])
    assert caught.value.code == TOO_LARGE and "limits.max_notes_in" in caught.value.message


def test_defaults_come_from_the_config():
    c = config()
    c["sampling"].update(temperature=0.8, grid="1/16", default_velocity=90)
    spec = build_job_spec("generate", {}, [], c)
    request = spec.request
    assert request.sampling.temperature == 0.8 and request.grid == 0.25 and request.default_velocity == 90
    assert request.constraints.max_notes == c["limits"]["max_notes_out"]
    assert request.max_new_tokens == c["sampling"]["max_new_tokens"]


def test_client_encoding_is_what_the_daemon_parses():
    notes = [note(30 + i % 60, i * 0.5, velocity=90, instrument=33) for i in range(100)]
    options = {"prompt": "bass", "bars": 2, "tempo": 96.5, "tempo_change": [(8, 100)], "instrument": [33],
               "grid": "1/16", "whole": True, "seed": 5}
    messages = encode_request("continue", "r1", notes, options, max_bytes=1024)
    address, args = decode_datagram(messages[0])[0]
    assert address == P.CONTINUE and args[:2] == ["r1", 0]
    parsed = parse_options(args[2:])
    assert parsed["notes"] == 100 and parsed["tempo"] == 96.5 and parsed["tempo_change"] == [(8.0, 100.0)]
    pending = PendingRequest("r1")
    pending.set_header("continue", parsed, ("127.0.0.1", 1), parsed["notes"])
    for data in messages[1:]:
        assert len(data) <= 1024
        address, chunk = decode_datagram(data)[0]
        assert address == P.NOTES and chunk[0] == "r1"
        pending.add_chunk(chunk[1:], 4096)
    assert pending.complete()
    spec = build_job_spec("continue", parsed, pending.raw_notes(), config())
    assert spec.request.notes == tuple(notes) and spec.whole and spec.request.constraints.instruments == frozenset({33})


def test_encode_options_refuses_unknown_keys():
    with pytest.raises(ValueError, match="unknown option"):
        encode_options({"barz": 4})


def test_client_and_protocol_do_not_import_torch():
    code = ("import sys, bridge.client, bridge.protocol.requests, bridge.cli; bridge.cli.build_parser(); "
            "bad = [m for m in ('torch', 'transformers', 'numpy') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
