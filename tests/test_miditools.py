"""The Live 12 MIDI Tools (Generator and Transformation): their built .amxd files, their patcher, and
their JavaScript under node inside a scripted live.miditool.in/out against a real daemon.

The tools' ES5 sources (max_for_live/src/midi_llm_tool*.js with the device's core) run under node
(tests/m4l/harness.js) in a fake of the MIDI Tool objects (tests/m4l/fake_miditool.js: notes and
context dictionaries with a time selection, grid and scale; the synchronous answer Live demands)
around a fake Live set, with real UDP to a daemon serving the dense tiny checkpoint.
"""

from __future__ import annotations

import json
import re

import pytest

from bridge.amt.gm import GM_PROGRAM_NAMES
from tests.m4l_support import ENV, M4L, builder, embedded_script, needs_node, node, run_scenario, serve

KINDS = {"generator": "nagg", "transformation": "natt"}
TOOL_JS = M4L / "src" / "midi_llm_tool.js"
TOOL_CORE_JS = M4L / "src" / "midi_llm_tool_core.js"


def tool_file(kind: str):
    return M4L / builder.tool_path(kind)


def source_patcher() -> dict:
    return json.loads(builder.TOOL_PATCHER_SOURCE.read_text(encoding="utf-8"))["patcher"]


def js_list(path, name: str) -> list[str]:
    """A `var NAME = [...]` of strings in a script."""
    body = re.search(rf"var {name} = \[(.*?)\];", path.read_text(encoding="utf-8"), re.S).group(1)
    return re.findall(r'"([^"]*)"', body)


# ----- the built tools ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_committed_tools_are_well_formed_frozen_midi_tools(kind):
    device = builder.parse_amxd(tool_file(kind).read_bytes())
    code = KINDS[kind]
    assert device["type"] == code and device["frozen"] and device["meta"] == 7
    assert list(device["files"]) == ["MIDI-LLM.amxd", "midi-llm-tool.js", "midi-llm-launcher.js"]
    assert device["files"]["midi-llm-tool.js"][:2] == ("TEXT", 0)
    assert device["files"]["midi-llm-launcher.js"][:2] == ("TEXT", 0)
    patcher = device["patcher"]["patcher"]
    assert patcher["amxdtype"] == patcher["project"]["amxdtype"] == int.from_bytes(code.encode(), "big")
    assert patcher["openinpresentation"] == 1 and patcher["devicewidth"] == 152
    texts = [b["box"].get("text", "") for b in patcher["boxes"]]
    for needed in (f"js midi-llm-tool.js {kind}", "live.miditool.in", "live.miditool.out", "live.thisdevice",
                   "udpsend 127.0.0.1 9123", "udpreceive 9124", "node.script midi-llm-launcher.js @autostart 1"):
        assert needed in texts, needed
    names = {b["box"].get("varname") for b in patcher["boxes"]}
    assert ("Mode" in names) == (kind == "transformation"), "only the Transformation has a Mode"
    assert ("About" in names) == (kind == "generator")
    ids = {b["box"]["id"] for b in patcher["boxes"]}
    assert set(patcher["parameters"]) - {"inherited_shortname"} <= ids
    for line in patcher["lines"]:
        assert {line["patchline"]["source"][0], line["patchline"]["destination"][0]} <= ids
    assert patcher["dependency_cache"] == [
        {"name": name, "patcherrelativepath": ".", "type": "TEXT", "implicit": 1}
        for name in ("midi-llm-tool.js", "midi-llm-launcher.js")]


def test_the_committed_tools_hold_the_current_sources():
    bundle = builder.build_js(builder.SRC, builder.TOOL_JS_SOURCES, builder.TOOL_JS_NAME)
    for source in builder.TOOL_JS_SOURCES:
        assert (M4L / "src" / source).read_text(encoding="utf-8") in bundle.decode("utf-8"), source
    source = source_patcher()
    for kind in KINDS:
        device = builder.parse_amxd(tool_file(kind).read_bytes())
        assert device["files"]["midi-llm-tool.js"][2] == bundle
        assert device["patcher"] == builder.build_tool_patcher(kind)
        shared = [b for b in source["boxes"] if builder.TOOL_ONLY.get(b["box"].get("varname"), kind) == kind]
        assert len(device["patcher"]["patcher"]["boxes"]) == len(shared)
    assert not (M4L / "midi-llm-tool.js").exists(), "the script lives inside the tools (--unfrozen writes it elsewhere)"


def test_the_tools_build_reproducibly_and_unfrozen(tmp_path):
    first, second, loose = tmp_path / "a", tmp_path / "b", tmp_path / "loose"
    assert builder.main(["--out", str(first)]) == 0
    assert builder.main(["--out", str(second)]) == 0
    for kind in KINDS:
        assert (first / builder.tool_path(kind)).read_bytes() == (second / builder.tool_path(kind)).read_bytes()
    (first / builder.tool_path("generator")).write_bytes(b"stale")
    assert builder.main(["--check", "--out", str(first)]) == 1
    assert builder.main(["--unfrozen", "--out", str(loose)]) == 0
    for kind in KINDS:
        unfrozen = builder.parse_amxd((loose / builder.tool_path(kind)).read_bytes())
        frozen = builder.parse_amxd((second / builder.tool_path(kind)).read_bytes())
        assert unfrozen["type"] == KINDS[kind] and not unfrozen["frozen"] and unfrozen["meta"] == 0
        assert unfrozen["patcher"] == frozen["patcher"]
        assert not ((second / builder.tool_path(kind)).parent / "midi-llm-tool.js").exists()
        beside = (loose / builder.tool_path(kind)).parent / "midi-llm-tool.js"
        assert beside.read_bytes() == frozen["files"]["midi-llm-tool.js"][2], "the script next to the device"
        launcher = (loose / builder.tool_path(kind)).parent / "midi-llm-launcher.js"
        assert launcher.read_bytes() == frozen["files"]["midi-llm-launcher.js"][2], "node.script finds it there"


# ----- the patcher -------------------------------------------------------------------------------


def wiring(kind: str):
    patcher = builder.build_tool_patcher(kind)["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    by_text = {b.get("text", ""): i for i, b in boxes.items()}
    edges = {(line["patchline"]["source"][0], line["patchline"]["source"][1], line["patchline"]["destination"][0],
              line["patchline"]["destination"][1]) for line in patcher["lines"]}
    return patcher, boxes, by_text, edges


@pytest.mark.parametrize("kind", KINDS)
def test_the_tool_objects_are_wired_to_the_script(kind):
    _, boxes, by_text, edges = wiring(kind)
    js, tool_in, tool_out = by_text[f"js midi-llm-tool.js {kind}"], by_text["live.miditool.in"], by_text["live.miditool.out"]
    assert (tool_in, 0, js, 1) in edges, "notes into inlet 1"
    assert (tool_in, 1, js, 2) in edges, "context into inlet 2"
    assert (js, 2, tool_out, 0) in edges
    assert (js, 0, by_text["udpsend 127.0.0.1 9123"], 0) in edges
    assert (js, 1, by_text["route status button replyport daemonport daemon installation secret"], 0) in edges
    [(defer, _)] = [(d, i) for (s, o, d, i) in edges if s == js and o == 3]
    assert boxes[defer]["text"] == "deferlow" and (defer, 0, tool_in, 0) in edges, "the bang goes through deferlow"
    [into_udp] = [d for (s, o, d, i) in edges if s == by_text["udpreceive 9124"]]
    assert boxes[into_udp]["text"] == "deferlow" and (into_udp, 0, js, 0) in edges
    prompt = next(i for i, b in boxes.items() if b.get("varname") == "Prompt")
    [(key, _)] = [(d, i) for (s, o, d, i) in edges if s == prompt and o == 1]
    [(again, _)] = [(d, i) for (s, o, d, i) in edges if s == key]
    assert boxes[key]["text"] == "t b" and boxes[again]["text"] == "deferlow" and (again, 0, prompt, 0) in edges, \
        "each keystroke re-reads the prompt, so Apply sends what is typed"


@pytest.mark.parametrize("kind", KINDS)
def test_every_message_the_tool_patcher_sends_to_js_has_a_handler(kind):
    _, boxes, by_text, edges = wiring(kind)
    js = by_text[f"js midi-llm-tool.js {kind}"]
    handlers = set(re.findall(r"^function (\w+)\(", TOOL_JS.read_text(encoding="utf-8"), re.M))
    selectors = set()
    for source, _, destination, inlet in edges:
        if destination != js or inlet != 0:
            continue
        words = boxes[source].get("text", "").split()
        if boxes[source]["maxclass"] == "message":
            selectors.add(words[0])
        elif words[:1] == ["prepend"]:
            selectors.add(words[1])
        elif words[:1] != ["deferlow"]:
            raise AssertionError(f"unexpected input to js: {boxes[source].get('text')}")
    expected = {"init", "go", "reroll", "check", "prompt", "instrument", "grid", "scale", "low", "high", "seed",
                "temperature", "top_p", "daemon_port", "reply_port", "page", "launch", "autostart", "installation", "secret"}
    assert selectors == expected | ({"mode"} if kind == "transformation" else set())
    assert selectors | {"dictionary", "anything"} <= handlers
    script = builder.build_js(builder.SRC, builder.TOOL_JS_SOURCES, builder.TOOL_JS_NAME).decode("utf-8")
    route = by_text["route status button replyport daemonport daemon installation secret"]
    for selector in boxes[route]["text"].split()[1:]:
        assert f'outlet(OUT_UI, "{selector}"' in script, f"the js never sends {selector} to the UI"


def test_the_tool_script_reads_back_each_parameter_through_its_own_message():
    patcher = source_patcher()
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    sends = {}
    for line in patcher["lines"]:
        source, destination = boxes[line["patchline"]["source"][0]], boxes[line["patchline"]["destination"][0]]
        if source.get("parameter_enable") and destination.get("text", "").startswith("prepend "):
            sends[source["varname"]] = destination["text"].split()[1]
    table = re.search(r"var INTERFACE = \[(.*?)\];", TOOL_JS.read_text(encoding="utf-8"), re.S).group(1)
    assert dict(re.findall(r'\["([^"]+)", "(\w+)"\]', table)) == sends


def test_the_tool_menus_list_what_the_script_understands():
    patcher = source_patcher()
    menus = {b["box"]["varname"]: b["box"]["saved_attribute_attributes"]["valueof"]["parameter_enum"]
             for b in patcher["boxes"] if b["box"]["maxclass"] in ("live.menu", "live.tab")}
    assert menus["Mode"] == js_list(TOOL_CORE_JS, "MODES") == ["keep rhythm", "keep pitches", "accompany"]
    assert menus["Grid"] == js_list(TOOL_CORE_JS, "GRIDS")
    assert menus["Scale"] == js_list(TOOL_CORE_JS, "SCALES") == ["editor", "off"]
    assert menus["Instrument"] == ["auto"] + [f"{i} {n}" for i, n in enumerate(GM_PROGRAM_NAMES)] + ["128 Drums"]
    assert menus["Page"] == ["Main", "Options", "Daemon"]
    names = [b["box"]["varname"] for b in patcher["boxes"] if b["box"].get("parameter_enable")]
    assert len(names) == len(set(names)), "Live needs unique parameter names"


@pytest.mark.parametrize("kind", KINDS)
def test_each_page_of_the_tool_panel_fits_and_nothing_overlaps(kind):
    patcher = builder.build_tool_patcher(kind)["patcher"]
    table = re.search(r"var PAGES = \[(.*?)\];", TOOL_JS.read_text(encoding="utf-8"), re.S).group(1)
    pages = [re.findall(r'"([^"]*)"', page) for page in re.findall(r"\[([^\[\]]*)\]", table)]
    assert len(pages) == 3
    shown = {b["box"].get("varname") or b["box"].get("text"): b["box"]
             for b in patcher["boxes"] if b["box"].get("presentation")}
    always = {"Page", "Status"}
    for name, box in shown.items():
        if name in always:
            assert not box.get("hidden")
            continue
        page = next((i for i, names in enumerate(pages) if name in names), None)
        assert page is not None, f"{name} is on no page of the script's PAGES"
        assert bool(box.get("hidden")) == (page > 0), f"{name}: only the first page shows when the tool opens"
    for page in pages:
        boxes = [(name, box["presentation_rect"]) for name, box in shown.items() if name in always or name in page]
        for name, (x, y, w, h) in boxes:
            assert x >= 0 and y >= 0 and x + w <= patcher["devicewidth"] and y + h <= builder.TOOL_HEIGHT, name
        for i, (a, (ax, ay, aw, ah)) in enumerate(boxes):
            for b, (bx, by, bw, bh) in boxes[i + 1:]:
                assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), f"{a} overlaps {b}"


# ----- the JavaScript under node ------------------------------------------------------------------


@needs_node
def test_tool_logic_unit_tests():
    done = node("--expose-internals", "miditool_unit.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout


def scenario(name: str, daemon_port: int | None = None, env: dict | None = None, timeout: float = 75) -> str:
    return run_scenario("miditool_scenarios.js", name, daemon_port, env=env, timeout=timeout)


@needs_node
def test_the_tool_says_how_to_start_a_daemon_that_is_down():
    assert "daemon not running on port" in scenario("daemon_down")


@needs_node
def test_the_tool_names_a_daemon_of_another_protocol():
    assert "daemon speaks protocol 2, this device 1" in scenario("protocol_mismatch")


@pytest.fixture(scope="module")
def tool_daemon(dense_midi_llm_dir):
    yield from serve(dense_midi_llm_dir)


SCENARIOS = [
    "generator_infill",           # new notes only in the time selection, the rest untouched (ids too), editor's grid
    "generator_given_no_notes",   # Live hands the Generator nothing: the selection's notes come back, then get replaced
    "generator_scale",            # Scale Mode on: pitch_class sent, the daemon samples in the scale; Low/High sent
    "generator_scale_out_of_range",  # no pitch of the scale in Low..High: the daemon's refusal in the status line
    "generator_reroll",           # same seed, same notes; Re-roll: same request, new seed, other notes (cycle continued)
    "generator_waits_for_apply",  # Auto off: the result waits for the next Apply
    "transform_keep_rhythm",      # keep_rhythm 1 sent; in place: same note_ids and MPE, only the pitches are the daemon's
    "transform_keep_pitches",     # keep_pitches 1 sent; in place: pitches and chords kept, only the rhythm is the model's
    "transform_keep_pitches_no_room",  # the model cannot place every note: it says so, nothing changes, none placed
    "transform_reroll_in_place",  # keep rhythm, then Re-roll: both edit the same notes in place, only pitches change
    "transform_accompany",        # the selection stays, a part is added in its own range
    "cancel_running",             # Cancel while the model writes: nothing written
]


@pytest.mark.slow
@needs_node
@pytest.mark.parametrize("name", SCENARIOS)
def test_tool_against_a_real_daemon(tool_daemon, name):
    output = scenario(name, tool_daemon.port)
    assert output.startswith(f"ok {name}"), output


@pytest.mark.slow
@needs_node
def test_every_kept_note_goes_back_bit_identical_on_every_outcome(tool_daemon):
    """Property: random clips (triplets, odd positions, per-note data), random requests of every
    mode, every outcome (done, error, cancel, daemon down, empty result); on each, every note the
    request did not replace is bit-identical, and keep rhythm / keep pitches change notes in place."""
    output = scenario("invariant_property", tool_daemon.port, timeout=240)
    assert output.startswith("ok invariant_property"), output


@pytest.mark.slow
@needs_node
def test_the_script_inside_the_built_tools_runs_too(tool_daemon, tmp_path):
    script = embedded_script(tool_file("generator"), "midi-llm-tool.js", tmp_path)
    assert script.read_bytes() == builder.parse_amxd(tool_file("transformation").read_bytes())["files"][
        "midi-llm-tool.js"][2], "both tools hold the same script"
    env = dict(ENV, MIDI_LLM_TOOL_JS=str(script))
    for name in ("generator_infill", "transform_keep_rhythm"):
        assert scenario(name, tool_daemon.port, env=env).startswith(f"ok {name}")
