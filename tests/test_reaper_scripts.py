"""The REAPER scripts (reaper_scripts/MIDI-LLM) run by lua5.4 against a scripted fake of the REAPER API.

tests/reaper/fake_reaper.lua models a project (tempo map with a change inside the
item, 960 PPQ, tracks, items, takes, notes, time selection, ExtState, dialogs,
defer, ExecProcess that really starts the command in the background), and
tests/reaper/run.lua runs one script file in it and dumps the project as JSON.
Every action goes end to end through the real command-line client
(`midi-llm-bridge request`) and a real daemon with a tiny checkpoint on loopback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.daemon_process import DaemonProcess, free_port
from tests.peers import missing_peer

ROOT = Path(__file__).resolve().parents[1]
# MIDI_LLM_REAPER_SCRIPTS=DIR: the same tests against another copy of the scripts (how a test was shown to
# fail on the code before a fix).
SCRIPTS = Path(os.environ.get("MIDI_LLM_REAPER_SCRIPTS") or ROOT / "reaper_scripts" / "MIDI-LLM")
DRIVER = ROOT / "tests" / "reaper" / "run.lua"
UNIT = ROOT / "tests" / "reaper" / "unit.lua"
LUA = shutil.which("lua5.4")
CLIENT = Path(sys.executable).parent / "midi-llm-bridge"
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", PYTHONUNBUFFERED="1")

GENERATE = "MIDI-LLM - Generate.lua"
CONTINUE = "MIDI-LLM - Continue selected item.lua"
INFILL = "MIDI-LLM - Infill time selection.lua"
ACCOMPANY = "MIDI-LLM - Accompany selected item.lua"
VARIATIONS = "MIDI-LLM - Variations as takes.lua"
SETTINGS = "MIDI-LLM - Settings.lua"

PPQ = 960
ITEM_QN, ITEM_LEN = 16, 16          # the item: bars 5-8 (quarter notes 16-32)
CHANGE_QN = 24                      # 120 bpm, then 90 bpm from here: inside the item
SELECTION = (20, 28)                # time selection in project quarter notes: beats 4-12 of the item
SEL_PPQ = ((SELECTION[0] - ITEM_QN) * PPQ, (SELECTION[1] - ITEM_QN) * PPQ)


def seconds(qn: float) -> float:
    """The project's tempo map: 120 bpm, 90 bpm from quarter note 24."""
    return qn * 0.5 if qn <= CHANGE_QN else CHANGE_QN * 0.5 + (qn - CHANGE_QN) * 60 / 90


slow = pytest.mark.slow  # starts a daemon


def need_lua() -> str:
    if LUA is None:
        missing_peer("lua5.4 is not installed (Debian: apt-get install lua5.4, or make system-deps)")
    return LUA




@pytest.fixture(scope="module")
def daemon(request):
    need_lua()  # before building the checkpoint
    if not CLIENT.exists():
        pytest.skip(f"the command-line client is not installed next to {sys.executable} (pip install -e .)")
    running = DaemonProcess(request.getfixturevalue("dense_midi_llm_dir"))
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


# ----- the project -------------------------------------------------------------------------


def note(startppq: int, endppq: int, pitch: int, vel: int = 90, chan: int = 0, muted: bool = False,
         selected: bool = False) -> dict:
    return {"startppq": startppq, "endppq": endppq, "chan": chan, "pitch": pitch, "vel": vel, "muted": muted,
            "selected": selected}


def item_notes() -> list[dict]:
    notes = [note(q * PPQ, q * PPQ + 480, 60 + q % 7, 70 + q, selected=q % 3 == 0) for q in range(ITEM_LEN)]
    notes[6]["muted"] = True                                   # muted, inside the selection: stays
    notes.append(note(3 * PPQ + 240, 5 * PPQ, 72, 99))          # starts before the selection, sounds into it
    notes.append(note(11 * PPQ + 900, 13 * PPQ, 48, 64))        # starts inside, ends after it
    notes.append(note(12 * PPQ, 12 * PPQ + 10, 49, 65, selected=True))  # starts exactly at the selection's end
    notes.append(note(4 * PPQ, 4 * PPQ + 100, 50, 66))          # starts exactly at the selection's start
    return notes


def starts_while_kept_sounds(new: dict, kept: list[dict]) -> bool:
    """A new note REAPER's writer drops: it would start while a kept note of its pitch sounds (the kept
    note is never touched; midi-llm_placement.lua)."""
    tick = round(new["start"] * PPQ)
    return any(k["pitch"] == new["pitch"] and k["startppq"] <= tick < k["endppq"] for k in kept)


def kept_by_infill(notes: list[dict], start: int, end: int) -> list[dict]:
    """The notes an infill of [start, end) ticks keeps: those starting outside it, and muted ones."""
    return [n for n in notes if n["muted"] or not start <= n["startppq"] < end]


def project(port: int, *, inputs: list | None = None, selection: tuple[float, float] | None = SELECTION,
            track_name: str = "Piano", fx: list | None = None, settings: dict | None = None, **extra) -> dict:
    extstate = {"port": str(port), "client": str(CLIENT), "seed": "7", "max_notes": "12", "keep_files": "1",
                "autostart": "0"}  # tests that start a daemon say so (tests/test_reaper_daemon.py)
    extstate.update(settings or {})
    scenario = {
        "tempo": [{"qn": 0, "bpm": 120, "num": 4, "den": 4}, {"qn": CHANGE_QN, "bpm": 90}],
        "tracks": [
            {"name": track_name, "selected": True, "fx": fx or [],
             "items": [{"qn": ITEM_QN, "length_qn": ITEM_LEN, "selected": True,
                        "takes": [{"name": "Take 1", "notes": item_notes()}]}]},
            {"name": "Other", "items": []},
        ],
        "cursor_qn": 0,
        "extstate": {"MIDI-LLM": extstate},
        "inputs": inputs or [],
        "max_seconds": 60,
    }
    if selection:
        scenario["time_selection_qn"] = list(selection)
    scenario.update(extra)
    return scenario


def run(tmp_path: Path, script: str, scenario: dict, timeout: float = 90, env: dict | None = None) -> dict:
    """Run one script in the fake REAPER (in REAPER's environment ``env``, default ENV); the dumped project,
    checked for Lua errors and API misuse."""
    lua = need_lua()
    scenario_path, out = tmp_path / "scenario.json", tmp_path / "project.json"
    scenario_path.write_text(json.dumps(scenario))
    env = dict(env or ENV, TMPDIR=str(tmp_path))  # the scripts' request and result files land here
    done = subprocess.run([lua, str(DRIVER), str(scenario_path), str(SCRIPTS / script), str(out)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["errors"] == [], result["errors"]
    assert result["violations"] == [], result["violations"]
    assert not result["timed_out"], result
    return result


def key(n: dict) -> tuple:
    return (n["startppq"], n["endppq"], n["chan"], n["pitch"], n["vel"], n["muted"], n["selected"])


def request_files(tmp_path: Path) -> tuple[dict, dict, list[str]]:
    """The request's --in JSON, the client's --json result, and the command line (the scripts keep them)."""
    scripts = sorted(p for p in tmp_path.glob("midi-llm-*-run.sh"))
    assert len(scripts) == 1, scripts
    base = str(scripts[0])[: -len("-run.sh")]
    document_in = json.loads(Path(base + "-in.json").read_text()) if Path(base + "-in.json").exists() else {}
    document_out = json.loads(Path(base + "-out.json").read_text())
    command = scripts[0].read_text().splitlines()[1]
    return document_in, document_out, re.findall(r"'((?:[^']|'\\'')*)'", command)


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def only_undo(result: dict, name: str) -> None:
    assert result["undo"] == [{"begin": True}, {"end": f"MIDI-LLM: {name}", "flags": -1}]


# ----- the actions -------------------------------------------------------------------------


@slow
def test_generate_writes_an_item_over_the_time_selection(daemon, tmp_path):
    result = run(tmp_path, GENERATE, project(daemon.port, inputs=[{"ok": True, "values": "a calm piano|4"}]))
    items = result["tracks"][0]["items"]
    assert len(items) == 2
    new = items[1]
    assert new["position"] == pytest.approx(seconds(SELECTION[0]))
    assert new["position"] + new["length"] == pytest.approx(seconds(SELECTION[1]))
    notes = new["takes"][0]["notes"]
    assert notes, "the model wrote no notes"
    span = (SELECTION[1] - SELECTION[0]) * PPQ
    assert all(0 <= n["startppq"] < span for n in notes)
    assert all(n["chan"] == 0 for n in notes)  # "Piano": one instrument, on channel 1
    assert new["selected"] and not items[0]["selected"]
    assert items[0]["takes"][0]["notes"] == [dict(n) for n in item_notes()]  # the other item is untouched
    only_undo(result, "Generate")
    assert result["extstate"]["MIDI-LLM"]["prompt_generate"] == "a calm piano"
    assert result["exec"][0]["timeout"] == -2  # ExecProcess without waiting
    assert result["gfx"]["inits"] == 1 and result["gfx"]["quits"] == 1

    document_in, document_out, args = request_files(tmp_path)
    # The tempo map from the selection's start: 120 bpm, 90 bpm four beats later.
    assert (document_in["tempo"], document_in["tempo_changes"], document_in["time_sig"]) == (120, [[4, 90]], "4/4")
    assert args[1:3] == ["request", "generate"]
    assert (flag(args, "--start-beat"), flag(args, "--end-beat"), flag(args, "--instruments")) == ("0", "8", "0")
    assert flag(args, "--prompt") == "a calm piano" and flag(args, "--seed") == "7"
    expected = sorted(round(n["start"] * PPQ) for n in document_out["variations"][0]["notes"])
    assert sorted(n["startppq"] for n in notes) == expected


@slow
def test_generate_without_time_selection_writes_bars_at_the_edit_cursor(daemon, tmp_path):
    scenario = project(daemon.port, selection=None, cursor_qn=32, track_name="Bass [33]",
                       inputs=[{"ok": True, "values": "walking bass|2"}])
    result = run(tmp_path, GENERATE, scenario)
    new = result["tracks"][0]["items"][1]
    assert (new["position_qn"], new["end_qn"]) == (pytest.approx(32), pytest.approx(40))
    assert new["position"] == pytest.approx(seconds(32)) and new["length"] == pytest.approx(8 * 60 / 90)
    assert result["extstate"]["MIDI-LLM"]["bars"] == "2"
    document_in, _, args = request_files(tmp_path)
    assert document_in["tempo"] == 90 and document_in["tempo_changes"] == []
    assert flag(args, "--instruments") == "33"
    ccs = new["takes"][0]["ccs"]
    assert ccs == [{"ppqpos": 0, "chanmsg": 0xC0, "chan": 0, "msg2": 33, "msg3": 0, "selected": False, "muted": False,
                    "shape": 0, "beztension": 0}]  # the bass program


@slow
def test_continue_extends_the_item_and_keeps_its_notes(daemon, tmp_path):
    result = run(tmp_path, CONTINUE, project(daemon.port, inputs=[{"ok": True, "values": "|2"}]))
    item = result["tracks"][0]["items"][0]
    assert (item["position_qn"], item["end_qn"]) == (pytest.approx(ITEM_QN), pytest.approx(ITEM_QN + ITEM_LEN + 8))
    assert item["position"] + item["length"] == pytest.approx(seconds(ITEM_QN + ITEM_LEN + 8))
    notes = item["takes"][0]["notes"]
    before = sorted(key(n) for n in item_notes())
    old = sorted(key(n) for n in notes if n["startppq"] < ITEM_LEN * PPQ)
    assert old == before
    new = [n for n in notes if n["startppq"] >= ITEM_LEN * PPQ]
    assert new, "the model wrote no notes"
    assert all(n["startppq"] < (ITEM_LEN + 8) * PPQ for n in new)
    only_undo(result, "Continue")
    document_in, document_out, args = request_files(tmp_path)
    assert (flag(args, "--start-beat"), flag(args, "--end-beat")) == ("16", "24")
    assert document_in["tempo_changes"] == [[CHANGE_QN - ITEM_QN, 90]]
    assert len(document_in["notes"]) == len(item_notes())
    assert sorted(round(n["start"] * PPQ) for n in document_out["variations"][0]["notes"]) == sorted(
        n["startppq"] for n in new)


@slow
def test_infill_replaces_only_the_notes_starting_in_the_selection(daemon, tmp_path):
    result = run(tmp_path, INFILL, project(daemon.port, inputs=[{"ok": True, "values": "busier"}]))
    item = result["tracks"][0]["items"][0]
    notes = item["takes"][0]["notes"]
    start, end = SEL_PPQ

    def outside(n: dict) -> bool:
        return not start <= n["startppq"] < end

    # Every note starting outside the selection is exactly as it was, to the tick, selection and mute included.
    assert sorted(key(n) for n in notes if outside(n)) == sorted(key(n) for n in item_notes() if outside(n))
    # Inside: the muted note stays; every other old note is gone; the new notes start inside.
    old_inside = [n for n in item_notes() if not outside(n)]
    kept_inside = [n for n in notes if not outside(n) and key(n) in {key(o) for o in old_inside}]
    assert [key(n) for n in kept_inside] == [key(n) for n in old_inside if n["muted"]]
    new = [n for n in notes if key(n) not in {key(o) for o in item_notes()}]
    assert new, "the model wrote no notes"
    assert all(start <= n["startppq"] < end for n in new)
    assert notes == sorted(notes, key=lambda n: n["startppq"])  # sorted once
    assert (item["position_qn"], item["end_qn"]) == (pytest.approx(ITEM_QN), pytest.approx(ITEM_QN + ITEM_LEN))
    only_undo(result, "Infill")

    document_in, document_out, args = request_files(tmp_path)
    assert (flag(args, "--start-beat"), flag(args, "--end-beat")) == ("4", "12")
    assert document_out["removed"] == len([n for n in old_inside if not n["muted"]])
    assert "busier" in args


@slow
def test_tempo_change_inside_the_item_puts_notes_at_the_right_ticks(daemon, tmp_path):
    run(tmp_path, INFILL, project(daemon.port))
    document_in, document_out, _ = request_files(tmp_path)
    # Notes go out in beats from the item start (ticks / 960, whatever the tempo)...
    sent = sorted((n["start"], n["duration"], n["pitch"]) for n in document_in["notes"])
    expected = sorted((n["startppq"] / PPQ, (n["endppq"] - n["startppq"]) / PPQ, n["pitch"]) for n in item_notes())
    assert [(s, p) for s, _, p in sent] == [(s, p) for s, _, p in expected]
    assert [d for _, d, _ in sent] == pytest.approx([d for _, d, _ in expected], abs=1e-9)
    # ...with the tempo map relative to that origin, so the model hears 120 bpm, then 90 bpm after 8 beats.
    assert (document_in["tempo"], document_in["tempo_changes"]) == (120, [[8, 90]])
    project_json = json.loads((tmp_path / "project.json").read_text())
    notes = project_json["tracks"][0]["items"][0]["takes"][0]["notes"]
    ticks = {n["startppq"] for n in notes}
    kept = kept_by_infill(item_notes(), *SEL_PPQ)
    written = [n for n in document_out["variations"][0]["notes"] if not starts_while_kept_sounds(n, kept)]
    assert written
    for n in written:
        assert round(n["start"] * PPQ) in ticks  # beats back to ticks through REAPER's QN, not through seconds


@slow
def test_accompany_writes_new_named_tracks(daemon, tmp_path):
    result = run(tmp_path, ACCOMPANY, project(daemon.port, inputs=[{"ok": True, "values": "|bass;drums"}]))
    tracks = result["tracks"]
    assert tracks[0]["name"] == "Piano" and tracks[-1]["name"] == "Other"
    assert tracks[0]["items"][0]["takes"][0]["notes"] == [dict(n) for n in item_notes()]
    new_tracks = tracks[1:-1]
    assert new_tracks, "the model wrote no other part"
    names = [t["name"] for t in new_tracks]
    assert set(names) <= {"Electric Bass (finger) [33]", "Drums"}, names
    for track in new_tracks:
        (item,) = track["items"]
        assert item["position_qn"] == pytest.approx(ITEM_QN) and item["end_qn"] == pytest.approx(ITEM_QN + ITEM_LEN)
        notes = item["takes"][0]["notes"]
        assert notes
        assert {n["chan"] for n in notes} == ({9} if track["name"] == "Drums" else {0})
    only_undo(result, "Accompany")
    _, _, args = request_files(tmp_path)
    assert flag(args, "--instruments") == "bass,drums"
    assert result["extstate"]["MIDI-LLM"]["accompany_instruments"] == "bass,drums"


@slow
def test_variations_become_takes_of_the_item(daemon, tmp_path):
    result = run(tmp_path, VARIATIONS, project(daemon.port, inputs=[{"ok": True, "values": "|3"}]))
    item = result["tracks"][0]["items"][0]
    takes = item["takes"]
    assert [t["name"] for t in takes] == ["Take 1", "MIDI-LLM 1/3", "MIDI-LLM 2/3", "MIDI-LLM 3/3"]
    assert takes[0]["notes"] == [dict(n) for n in item_notes()]  # the original take is untouched
    assert item["active_take"] == 1
    start, end = SEL_PPQ
    original_outside = sorted(key(n) for n in item_notes() if not start <= n["startppq"] < end)
    for take in takes[1:]:
        assert sorted(key(n) for n in take["notes"] if not start <= n["startppq"] < end) == original_outside
    _, document_out, args = request_files(tmp_path)
    assert flag(args, "--variations") == "3" and args[2] == "infill"
    kept = kept_by_infill(item_notes(), start, end)
    for take, variation in zip(takes[1:], document_out["variations"]):
        new = sorted(n["startppq"] for n in take["notes"] if key(n) not in {key(o) for o in item_notes()})
        assert new == sorted(round(n["start"] * PPQ) for n in variation["notes"]
                             if not starts_while_kept_sounds(n, kept))
    only_undo(result, "Variations as takes")
    assert result["commands"] == [40639, 40639, 40639]  # Take: Duplicate active take


@slow
def test_variations_of_the_whole_item_without_time_selection(daemon, tmp_path):
    result = run(tmp_path, VARIATIONS, project(daemon.port, selection=None, inputs=[{"ok": True, "values": "|2"}]))
    takes = result["tracks"][0]["items"][0]["takes"]
    assert len(takes) == 3 and takes[0]["notes"] == [dict(n) for n in item_notes()]
    for take in takes[1:]:
        assert take["notes"] and all(0 <= n["startppq"] < ITEM_LEN * PPQ for n in take["notes"])
    _, _, args = request_files(tmp_path)
    assert args[2] == "generate" and (flag(args, "--start-beat"), flag(args, "--end-beat")) == ("0", "16")


@slow
def test_track_options_from_the_jsfx(daemon, tmp_path):
    fx = [{"name": "JS: MIDI-LLM track options", "params": [34, 28, 55, 1]}]  # Electric Bass (finger), 28-55
    result = run(tmp_path, CONTINUE, project(daemon.port, fx=fx, inputs=[{"ok": True, "values": "|1"}]))
    _, _, args = request_files(tmp_path)
    assert (flag(args, "--instruments"), flag(args, "--pitch-range")) == ("33", "28-55")
    new = [n for n in result["tracks"][0]["items"][0]["takes"][0]["notes"] if n["startppq"] >= ITEM_LEN * PPQ]
    assert all(28 <= n["pitch"] <= 55 for n in new)


def test_a_track_that_does_not_allow_midi_llm_is_left_alone(tmp_path):
    fx = [{"name": "JS: MIDI-LLM track options", "params": [0, 0, 127, 0]}]
    result = run(tmp_path, INFILL, project(free_port(), fx=fx))
    assert len(result["messages"]) == 1 and "may not write" in result["messages"][0]["msg"]
    assert result["exec"] == [] and result["undo"] == []


def test_daemon_down_gives_the_message_not_a_lua_error(tmp_path):
    if not CLIENT.exists():
        pytest.skip("the command-line client is not installed")
    port = free_port()  # nothing listens there
    result = run(tmp_path, INFILL, project(port, inputs=[{"ok": True, "values": ""}]))
    (message,) = result["messages"]
    assert "daemon not running" in message["msg"] and str(port) in message["msg"]
    assert "make run" in message["msg"]
    assert result["undo"] == []
    assert result["tracks"][0]["items"][0]["takes"][0]["notes"] == [dict(n) for n in item_notes()]
    assert result["gfx"]["quits"] == result["gfx"]["inits"] == 1


def test_client_not_found_gives_a_clear_message(tmp_path):
    scenario = project(free_port(), settings={"client": str(tmp_path / "nowhere" / "midi-llm-bridge")})
    result = run(tmp_path, GENERATE, scenario)
    (message,) = result["messages"]
    assert "client was not found" in message["msg"] and str(tmp_path / "nowhere") in message["msg"]
    assert "MIDI-LLM - Settings" in message["msg"]
    assert result["exec"] == [] and result["undo"] == []


@slow
def test_the_client_is_found_next_to_the_scripts_by_default(daemon, tmp_path):
    if not (ROOT / ".venv" / "bin" / "midi-llm-bridge").exists():
        pytest.skip("no .venv in the repository")
    result = run(tmp_path, GENERATE, project(daemon.port, settings={"client": ""}))
    assert result["messages"] == [] and len(result["tracks"][0]["items"]) == 2
    _, _, args = request_files(tmp_path)
    assert Path(args[0]).resolve() == (ROOT / ".venv" / "bin" / "midi-llm-bridge").resolve()


@slow
def test_cancel_from_the_progress_window(daemon, tmp_path):
    scenario = project(daemon.port, selection=None, inputs=[{"ok": True, "values": "a long piece|8"}],
                       settings={"max_notes": ""},
                       getchar=[{"after": 4, "value": 27, "from_exec": 2}])  # Esc, once the request (after the ping) runs
    result = run(tmp_path, GENERATE, scenario)
    assert result["messages"] == []
    assert "cancelled" in result["console"]
    assert result["undo"] == [] and len(result["tracks"][0]["items"]) == 1
    assert any("cancel" in e["cmd"] for e in result["exec"][1:])
    cancel_script = next(tmp_path.glob("midi-llm-*-cancel.sh")).read_text()
    assert "'request' 'cancel' '--target'" in cancel_script


@slow
def test_settings_are_saved_and_the_daemon_checked(daemon, tmp_path):
    values = [str(daemon.port), "", str(CLIENT), "2", "4", "0.9", "0.95", "", "1/16", "", "", "120", "bass drums",
              "1", "1", "1"]
    result = run(tmp_path, SETTINGS, project(0, settings={"port": "1"}, inputs=[{"ok": True, "values": "|".join(values)}]))
    saved = result["extstate"]["MIDI-LLM"]
    assert (saved["port"], saved["host"], saved["bars"], saved["variations"]) == (str(daemon.port), "127.0.0.1", "2", "4")
    assert (saved["temperature"], saved["top_p"], saved["grid"], saved["timeout"]) == ("0.9", "0.95", "1/16", "120")
    assert saved["accompany_instruments"] == "bass,drums"
    (message,) = result["messages"]
    assert "Settings saved" in message["msg"] and "ready" in message["msg"]


def test_settings_refuse_bad_values(tmp_path):
    values = ["port", "", "", "two", "4", "", "", "", "", "", "", "600", "", "1", "1", "0"]
    result = run(tmp_path, SETTINGS, project(1234, inputs=[{"ok": True, "values": "|".join(values)}]))
    (message,) = result["messages"]
    assert "Nothing was saved" in message["msg"] and "Bars" in message["msg"]
    assert result["extstate"]["MIDI-LLM"]["port"] == "1234"


def test_library_units_under_lua(tmp_path):
    lua = need_lua()
    done = subprocess.run([lua, str(UNIT), str(SCRIPTS / "midi-llm_lib.lua")], capture_output=True, text=True,
                          timeout=30, env=dict(ENV, TMPDIR=str(tmp_path)))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


# ----- ReaPack -----------------------------------------------------------------------------


def check_index(index: Path, scripts: Path, base: str) -> None:
    """Every script and the JSFX listed once, each at its download URL under base, versions from the headers."""
    root = ET.parse(index).getroot()
    assert root.tag == "index" and root.get("version") == "1"
    files = {p.name for p in scripts.iterdir() if p.suffix in (".lua", ".jsfx")}
    listed: dict[str, ET.Element] = {}
    for package in root.iter("reapack"):
        assert package.get("type") in ("script", "effect") and package.get("name")
        (version,) = package.findall("version")
        assert re.fullmatch(r"\d+\.\d+\.\d+", version.get("name") or "")
        for source in version.findall("source"):
            name = source.get("file")
            assert name not in listed, f"{name} is listed twice"
            listed[name] = source
            assert unquote((source.text or "").strip()) == f"{base}/MIDI-LLM/{name}"
            text = (scripts / name).read_text()
            header = re.search(r"@version\s+(\S+)", text)
            if name.startswith("midi-llm_"):  # the library and its modules: installed with the actions
                assert "@noindex" in text and source.get("main") is None, name
            else:
                assert header and header.group(1) == version.get("name"), name
    assert set(listed) == files
    actions = {name for name, source in listed.items() if source.get("main") == "main"}
    assert actions == {name for name in files if name.startswith("MIDI-LLM - ")}
    assert listed["MIDI-LLM track options.jsfx"].get("main") is None
    assert listed["midi-llm_lib.lua"].get("main") is None


def make_index(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(folder / "make_index.py"), *args], capture_output=True, text=True,
                          timeout=60)


def test_the_committed_reapack_index_is_right_or_absent():
    """CI's check: a committed index.xml must point at this repository (never a placeholder owner) and be current."""
    done = make_index(ROOT / "reaper_scripts", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_reapack_index_is_generated_from_the_repositorys_remote(tmp_path):
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "fork"
    shutil.copytree(ROOT / "reaper_scripts", repo / "reaper_scripts", ignore=shutil.ignore_patterns("index.xml"))
    folder = repo / "reaper_scripts"

    def sh(*args: str) -> None:
        subprocess.run([git, "-C", str(repo), *args], check=True, capture_output=True, timeout=30)

    sh("init", "-q")
    sh("checkout", "-q", "-b", "release")
    done = make_index(folder)  # no remote: nothing to publish from, and no placeholder written instead
    assert done.returncode == 2 and "--url" in done.stderr and not (folder / "index.xml").exists()
    assert make_index(folder, "--check").returncode == 0  # no index: nothing published
    sh("remote", "add", "origin", "git@github.com:someone/midi-llm-bridge.git")
    done = make_index(folder)
    assert done.returncode == 0, done.stderr
    base = "https://raw.githubusercontent.com/someone/midi-llm-bridge/release/reaper_scripts"
    check_index(folder / "index.xml", folder / "MIDI-LLM", base)
    assert make_index(folder, "--check").returncode == 0
    sh("remote", "set-url", "origin", "https://github.com/other/midi-llm-bridge.git")
    done = make_index(folder, "--check")  # published elsewhere now: the index must be regenerated
    assert done.returncode == 1 and "other/midi-llm-bridge" in done.stderr
    text = (folder / "index.xml").read_text().replace("someone", "OWNER")
    (folder / "index.xml").write_text(text)
    done = make_index(folder, "--check")
    assert done.returncode == 1 and "placeholder" in done.stderr
    done = make_index(folder, "--url", "https://raw.githubusercontent.com/OWNER/midi-llm-bridge/main/reaper_scripts")
    assert done.returncode == 2 and "placeholder" in done.stderr


def test_the_jsfx_declares_the_four_options():
    text = (SCRIPTS / "MIDI-LLM track options.jsfx").read_text()
    assert text.startswith("desc:MIDI-LLM track options")
    sliders = re.findall(r"^slider(\d):(\w+)=(\d+)<(\d+),(\d+),1(?:\{([^}]*)\})?>", text, re.M)
    assert [s[:5] for s in sliders] == [("1", "instrument", "0", "0", "129"), ("2", "lowest", "0", "0", "127"),
                                        ("3", "highest", "127", "0", "127"), ("4", "allowed", "1", "0", "1")]
    names = sliders[0][5].split(",")
    assert len(names) == 130 and names[0] == "Any instrument" and names[34] == "33 Electric Bass (finger)"
    assert names[129] == "Drums"


def test_the_lua_gm_table_matches_the_python_one(tmp_path):
    """The instrument names exist in Python, JS and Lua; the Lua copy must not drift (the JS one is checked too)."""
    from bridge.amt.gm import instrument_name

    lua = need_lua()
    script = tmp_path / "names.lua"
    script.write_text(
        f'local F = dofile({json.dumps(str(ROOT / "tests" / "reaper" / "fake_reaper.lua"))})\n'
        "F.install()\n"
        "F.load({ tempo = { { qn = 0, bpm = 120, num = 4, den = 4 } }, tracks = {} })\n"
        f'local L = dofile({json.dumps(str(SCRIPTS / "midi-llm_lib.lua"))})\n'
        "for i = 0, 128 do print(L.instrument_name(i)) end\n"
    )
    done = subprocess.run([lua, str(script)], capture_output=True, text=True, timeout=30,
                          env=dict(ENV, TMPDIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [instrument_name(i) for i in range(129)]
