"""The Max for Live device: its built .amxd, and its JavaScript under node against a fake Live and a real daemon.

The device's ES5 sources (max_for_live/src) run under node (tests/m4l/harness.js) as Max's
classic [js] object would run them, with a scripted fake of LiveAPI (tests/m4l/fake_live.js)
and real UDP to a real daemon serving the dense tiny checkpoint. Tests that need node skip
when it is missing (`make system-deps` installs it).
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest

from bridge import protocol as P
from bridge.amt.gm import GM_PROGRAM_NAMES, instrument_from_track_name
from bridge.protocol import limits
from tests.m4l_support import ENV, M4L, builder, embedded_script, needs_node, node, run_scenario, serve

# ----- the built device -------------------------------------------------------------------------


def test_the_committed_device_is_a_well_formed_frozen_midi_effect():
    device = builder.parse_amxd((M4L / "MIDI-LLM.amxd").read_bytes())
    assert device["type"] == "mmmm" and device["frozen"] and device["meta"] == 7
    assert list(device["files"]) == ["MIDI-LLM.amxd", "midi-llm.js", "midi-llm-launcher.js"]
    assert device["files"]["MIDI-LLM.amxd"][:2] == ("JSON", 0x11)
    assert device["files"]["midi-llm.js"][:2] == ("TEXT", 0)
    assert device["files"]["midi-llm-launcher.js"][:2] == ("TEXT", 0)
    patcher = device["patcher"]["patcher"]
    assert patcher["amxdtype"] == int.from_bytes(b"mmmm", "big") and patcher["openinpresentation"] == 1
    texts = [b["box"].get("text", "") for b in patcher["boxes"]]
    for needed in ("js midi-llm.js", "udpsend 127.0.0.1 9123", "udpreceive 9124", "live.thisdevice", "midiin",
                   "midiout", "node.script midi-llm-launcher.js @autostart 1"):
        assert needed in texts, needed
    assert patcher["dependency_cache"] == [
        {"name": name, "patcherrelativepath": ".", "type": "TEXT", "implicit": 1}
        for name in ("midi-llm.js", "midi-llm-launcher.js")]


def test_the_committed_files_hold_the_current_sources():
    built = builder.build()
    for name, data in built.items():
        assert (M4L / name).read_bytes() == data, f"{name} is stale: run `python max_for_live/build_amxd.py`"
    device = builder.parse_amxd((M4L / "MIDI-LLM.amxd").read_bytes())
    bundle = device["files"]["midi-llm.js"][2]
    assert bundle == builder.build_js()
    for source in builder.JS_SOURCES:
        assert (M4L / "src" / source).read_text(encoding="utf-8") in bundle.decode("utf-8"), source
    launcher = device["files"]["midi-llm-launcher.js"][2].decode("utf-8")
    for source in builder.LAUNCHER_SOURCES:
        assert (M4L / "src" / source).read_text(encoding="utf-8") in launcher, source
    source = json.loads((M4L / "src" / "MIDI-LLM.maxpat").read_text(encoding="utf-8"))
    assert device["patcher"]["patcher"]["boxes"] == source["patcher"]["boxes"]
    assert device["patcher"]["patcher"]["lines"] == source["patcher"]["lines"]
    assert not (M4L / "midi-llm.js").exists(), "the script lives inside the .amxd (--unfrozen writes it elsewhere)"
    assert not (M4L / "midi-llm-launcher.js").exists()


def test_the_build_is_reproducible_and_has_an_unfrozen_form(tmp_path):
    first, second, loose = tmp_path / "a", tmp_path / "b", tmp_path / "loose"
    assert builder.main(["--out", str(first)]) == 0
    assert builder.main(["--out", str(second)]) == 0
    assert (first / "MIDI-LLM.amxd").read_bytes() == (second / "MIDI-LLM.amxd").read_bytes()
    assert not (first / "midi-llm.js").exists(), "frozen, the script is inside the device"
    assert builder.main(["--check", "--out", str(first)]) == 0
    (first / "MIDI-LLM.amxd").write_bytes(b"edited by hand")
    assert builder.main(["--check", "--out", str(first)]) == 1
    assert builder.main(["--unfrozen", "--out", str(loose)]) == 0
    unfrozen = builder.parse_amxd((loose / "MIDI-LLM.amxd").read_bytes())
    frozen = builder.parse_amxd((second / "MIDI-LLM.amxd").read_bytes())
    assert not unfrozen["frozen"] and unfrozen["meta"] == 0 and unfrozen["files"] == {}
    assert unfrozen["patcher"] == frozen["patcher"]
    assert (loose / "midi-llm.js").read_bytes() == frozen["files"]["midi-llm.js"][2], "the script next to the device"
    assert (loose / "midi-llm-launcher.js").read_bytes() == frozen["files"]["midi-llm-launcher.js"][2]
    assert builder.main(["--unfrozen", "--check", "--out", str(loose)]) == 0


def test_a_damaged_device_is_refused():
    data = (M4L / "MIDI-LLM.amxd").read_bytes()
    with pytest.raises(ValueError, match="says"):
        builder.parse_amxd(data[:-10])
    with pytest.raises(ValueError, match="ampf, meta, ptch"):
        builder.parse_amxd(data[:12] + b"xxxx" + data[16:])


def test_every_message_the_patcher_sends_to_js_has_a_handler():
    patcher = json.loads((M4L / "src" / "MIDI-LLM.maxpat").read_text(encoding="utf-8"))["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    js_id = next(i for i, b in boxes.items() if b.get("text") == "js midi-llm.js")
    device_js = (M4L / "src" / "midi_llm_device.js").read_text(encoding="utf-8")
    handlers = set(re.findall(r"^function (\w+)\(", device_js, re.M))
    into_js = [boxes[line["patchline"]["source"][0]] for line in patcher["lines"]
               if line["patchline"]["destination"][0] == js_id]
    selectors = set()
    for box in into_js:
        words = box.get("text", "").split()
        if box["maxclass"] == "message":
            selectors.add(words[0])
        elif words[:1] == ["prepend"]:
            selectors.add(words[1])
        elif words[:1] != ["deferlow"]:
            raise AssertionError(f"unexpected input to js: {box.get('text')}")
    assert selectors >= {"init", "go", "check", "prompt", "mode", "span", "bars", "variations", "temperature",
                         "top_p", "instrument", "grid", "target", "seed", "daemon_port", "reply_port", "launch",
                         "autostart", "installation", "secret"}
    assert selectors <= handlers, selectors - handlers
    route = next(b for b in boxes.values() if b.get("text", "").startswith("route status"))
    script = builder.build_js().decode("utf-8")  # the device's whole script: its glue and its Device
    for selector in route["text"].split()[1:]:
        assert f'outlet(1, "{selector}"' in script, f"the js never sends {selector} to the UI"


def test_the_script_reads_back_each_parameter_through_its_own_message():
    patcher = json.loads((M4L / "src" / "MIDI-LLM.maxpat").read_text(encoding="utf-8"))["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    sends = {}
    for line in patcher["lines"]:
        source, destination = boxes[line["patchline"]["source"][0]], boxes[line["patchline"]["destination"][0]]
        if source.get("parameter_enable") and destination.get("text", "").startswith("prepend "):
            sends[source["varname"]] = destination["text"].split()[1]
    device_js = (M4L / "src" / "midi_llm_device.js").read_text(encoding="utf-8")
    table = re.search(r"var INTERFACE = \[(.*?)\];", device_js, re.S).group(1)
    assert dict(re.findall(r'\["([^"]+)", "(\w+)"\]', table)) == sends


def test_the_menus_list_what_the_device_understands():
    patcher = json.loads((M4L / "src" / "MIDI-LLM.maxpat").read_text(encoding="utf-8"))["patcher"]
    menus = {b["box"]["varname"]: b["box"]["saved_attribute_attributes"]["valueof"]["parameter_enum"]
             for b in patcher["boxes"] if b["box"]["maxclass"] == "live.menu"}
    assert menus["Mode"] == ["generate", "continue", "infill", "accompany"]
    assert menus["Grid"] == ["off", "1/4", "1/8", "1/8T", "1/16", "1/16T", "1/32"]
    assert menus["Span"] == ["bars", "clip loop", "selected notes"]
    assert menus["Instrument"] == ["this track"] + [f"{i} {n}" for i, n in enumerate(GM_PROGRAM_NAMES)] + ["128 Drums"]
    names = [b["box"]["varname"] for b in patcher["boxes"] if b["box"].get("parameter_enable")]
    assert len(names) == len(set(names)), "Live needs unique parameter names"


def test_the_device_view_fits_and_nothing_overlaps():
    patcher = json.loads((M4L / "src" / "MIDI-LLM.maxpat").read_text(encoding="utf-8"))["patcher"]
    shown = [(b["box"].get("varname") or b["box"].get("text"), b["box"]["presentation_rect"])
             for b in patcher["boxes"] if b["box"].get("presentation")]
    for name, (x, y, w, h) in shown:
        assert x >= 0 and y >= 0 and x + w <= patcher["devicewidth"] and y + h <= 169, f"{name} is outside the device"
    for i, (a, (ax, ay, aw, ah)) in enumerate(shown):
        for b, (bx, by, bw, bh) in shown[i + 1:]:
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{a} overlaps {b}"
    ElementTree.fromstring((M4L / "MIDI-LLM.svg").read_bytes())  # the README's drawing is well-formed


# ----- the JavaScript under node, no daemon -----------------------------------------------------


@needs_node
def test_core_logic_unit_tests():
    done = node("--expose-internals", "unit.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout


@needs_node
def test_the_javascript_agrees_with_the_python_side(tmp_path):
    out = tmp_path / "dump.json"
    done = node("unit.js", "--dump", str(out))
    assert done.returncode == 0, done.stderr
    dump = json.loads(out.read_text())
    assert dump["gm"] == list(GM_PROGRAM_NAMES)
    assert dump["protocol"] == P.PROTOCOL_VERSION and dump["notesPerChunk"] == P.NOTES_PER_CHUNK
    for name, guess in dump["guesses"].items():
        assert guess == instrument_from_track_name(name), name


@needs_node
def test_the_javascript_takes_its_limits_from_one_table_equal_to_the_python_one(tmp_path):
    """midi_llm_limits.js is the JS side's one place for the bridge's fixed limits: each value is the one
    bridge/protocol/limits.py gives, and the device and the tools read them from it (the prompt cut, the
    sampling ranges, the seed)."""
    out = tmp_path / "dump.json"
    done = node("unit.js", "--dump", str(out))
    assert done.returncode == 0, done.stderr
    table = json.loads(out.read_text())["limits"]
    assert {"MAX_PROMPT_CHARACTERS", "MAX_SEED", "MIN_TEMPERATURE", "MAX_TEMPERATURE", "MIN_TOP_P",
            "MAX_TOP_P"} <= set(table)
    assert table == {name: getattr(limits, name) for name in table}
    for source in (M4L / "src").glob("*.js"):
        if source.name != "midi_llm_limits.js":
            text = source.read_text(encoding="utf-8")
            assert not re.search(r"MAX_PROMPT\w* = |\b214748364[67]\b", text), f"{source.name} writes a limit again"


def scenario(name: str, daemon_port: int | None = None, env: dict | None = None) -> str:
    return run_scenario("scenarios.js", name, daemon_port, env=env)


@needs_node
def test_daemon_down_says_how_to_start_it():
    assert "daemon not running on port" in scenario("daemon_down")


@needs_node
def test_a_daemon_of_another_protocol_is_named():
    assert "daemon speaks protocol 2, this device 1" in scenario("protocol_mismatch")


# ----- the JavaScript under node, with a real daemon ---------------------------------------------


@pytest.fixture(scope="module")
def daemon(dense_midi_llm_dir):
    yield from serve(dense_midi_llm_dir)


SCENARIOS = [
    "generate_empty_slot",       # a new clip of the requested length in the highlighted empty slot, one batch
    "infill_span",               # notes outside the span untouched with their ids, inside replaced; chunked request
    "continue_clip",             # appended after the clip's end, the loop extended
    "variations_into_slots",     # one clip per variation in the next empty slots
    "cancel_running",            # Generate becomes Cancel; cancelling a running job writes nothing
    "lost_result_chunk",         # a lost /result datagram is asked for again with /resend
    "two_devices",               # two devices, two reply ports, one daemon
    "accompany_to_tracks",       # accompaniment into clips on the track of each instrument
    "arrangement_infill",        # Arrangement View: the clip under the loop brace; the Max window's true counts
    "bars_span_in_clip_coordinates",  # 7/8, start marker 4, loop start 6: one bar from the loop start, nothing before
    "accompany_keeps_other_tracks",   # the instruments' tracks already hold clips: parts added, nothing removed
    "user_edits_while_writing",  # notes the user adds or edits in the span meanwhile are kept, the status says so
]


@pytest.mark.slow
@needs_node
@pytest.mark.parametrize("name", SCENARIOS)
def test_device_against_a_real_daemon(daemon, name):
    output = scenario(name, daemon.port)
    assert output.startswith(f"ok {name}"), output


@pytest.mark.slow
@needs_node
def test_no_note_is_lost_on_random_sets_requests_and_outcomes(daemon):
    """Random clips (markers and loops off the bar lines, odd meters), requests and outcomes (done, error,
    cancel, daemon down, the user editing meanwhile): every note not sent as replaced stays bit-identical."""
    env = dict(ENV, M4L_PROPERTY_CASES="12")
    output = run_scenario("scenarios.js", "property_invariant", daemon.port, timeout=300, env=env)
    assert output.startswith("ok property_invariant"), output


@pytest.mark.slow
@needs_node
def test_the_script_inside_the_built_device_runs_too(daemon, tmp_path):
    script = embedded_script(M4L / "MIDI-LLM.amxd", "midi-llm.js", tmp_path)
    output = scenario("generate_empty_slot", daemon.port, env=dict(ENV, MIDI_LLM_JS=str(script)))
    assert output.startswith("ok generate_empty_slot"), output
