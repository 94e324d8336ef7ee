"""Issue 11 for REAPER: the user's material is never lost, on projects shaped like real ones.

The fake REAPER (tests/reaper/fake_reaper.lua) models what makes these cases hard,
from the ReaScript documentation: time signature markers that start measures
(TimeMap_QNToMeasures numbers them from 1, TimeMap_GetMeasureInfo from 0), takes
with a start offset and a playrate, looped sources (B_LOOPSRC, a source length;
ticks past it never play), CCs with shapes, pitch bend, pedal, text and sysex
events, undo as a snapshot, and REAPER stopping a deferred script (atexit).
Every request goes through the real client and a real daemon.

The invariant checked on every outcome (done, error, cancel, daemon down, empty
result, script stopped): every event of a take that was there before and was
not sent as replaced is bit-identical afterwards; notes are removed only when
new ones were written.

MIDI_LLM_REAPER_SCRIPTS=DIR runs the same tests against another copy of the
scripts (how they were shown to fail on the code before the fix).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.daemon_process import free_port
from tests.test_reaper_scripts import (
    ACCOMPANY,
    CLIENT,
    CONTINUE,
    GENERATE,
    INFILL,
    PPQ,
    VARIATIONS,
    daemon,
    flag,
    request_files,
    slow,
)
from tests.test_reaper_scripts import run as run_in

__all__ = ["daemon"]  # the module-scoped daemon fixture, shared with test_reaper_scripts

SCRIPTS = Path(os.environ.get("MIDI_LLM_REAPER_SCRIPTS") or Path(__file__).resolve().parents[1] /
               "reaper_scripts" / "MIDI-LLM")


def run(tmp_path: Path, script: str, scenario: dict) -> dict:
    """The script from SCRIPTS in the fake REAPER (see tests/test_reaper_scripts.run)."""
    import tests.test_reaper_scripts as base

    saved = base.SCRIPTS
    base.SCRIPTS = SCRIPTS
    try:
        return run_in(tmp_path, script, scenario)
    finally:
        base.SCRIPTS = saved


def settings(port: int, **extra: str) -> dict:
    values = {"port": str(port), "client": str(CLIENT), "seed": "7", "max_notes": "12", "keep_files": "1",
              "autostart": "0"}
    values.update(extra)
    return {"MIDI-LLM": values}


def note(startppq: int, endppq: int, pitch: int, vel: int = 90, chan: int = 0, muted: bool = False,
         selected: bool = False) -> dict:
    return {"startppq": startppq, "endppq": endppq, "chan": chan, "pitch": pitch, "vel": vel, "muted": muted,
            "selected": selected}


def one_item_project(port: int, *, tempo: list, item: dict, inputs: list, selection=None, cursor_qn=0,
                     extstate: dict | None = None, **extra) -> dict:
    scenario = {"tempo": tempo, "tracks": [{"name": "Piano", "selected": True, "items": [item]}],
                "cursor_qn": cursor_qn, "extstate": extstate or settings(port), "inputs": inputs, "max_seconds": 60}
    if selection:
        scenario["time_selection_qn"] = list(selection)
    scenario.update(extra)
    return scenario


FOUR_THEN_THREE = [{"qn": 0, "bpm": 120, "num": 4, "den": 4}, {"qn": 36, "num": 3, "den": 4}]


# ----- bars are REAPER's measures ------------------------------------------------------------


@slow
def test_continue_counts_bars_across_a_meter_change(daemon, tmp_path):
    """Item QN 16-32 in 4/4, 3/4 from QN 36: two more bars end at QN 39 (a 4/4 bar, then a 3/4 bar)."""
    notes = [note(q * PPQ, q * PPQ + 400, 60 + q % 5) for q in range(16)]
    item = {"qn": 16, "length_qn": 16, "selected": True, "takes": [{"name": "Take 1", "notes": notes}]}
    result = run(tmp_path, CONTINUE, one_item_project(daemon.port, tempo=FOUR_THEN_THREE, item=item,
                                                      inputs=[{"ok": True, "values": "|2"}]))
    written = result["tracks"][0]["items"][0]
    assert written["end_qn"] == pytest.approx(39), (result["messages"], result["console"])
    _, _, args = request_files(tmp_path)
    assert (flag(args, "--start-beat"), flag(args, "--end-beat")) == ("16", "23")


@slow
def test_generate_at_the_cursor_counts_bars_across_a_meter_change(daemon, tmp_path):
    item = {"qn": 0, "length_qn": 4, "takes": [{"name": "Take 1", "notes": [note(0, 100, 60)]}]}
    scenario = one_item_project(daemon.port, tempo=FOUR_THEN_THREE, item=item, cursor_qn=32,
                                inputs=[{"ok": True, "values": "a waltz|2"}])
    result = run(tmp_path, GENERATE, scenario)
    new = result["tracks"][0]["items"][1]
    assert (new["position_qn"], new["end_qn"]) == (pytest.approx(32), pytest.approx(39))
    assert result["tracks"][0]["items"][0]["takes"][0]["notes"] == [note(0, 100, 60)]


# ----- looped items ---------------------------------------------------------------------------


def looped_item() -> dict:
    """Item QN 0-16 playing an 8-QN source twice; one note per quarter note of the source."""
    notes = [note(q * PPQ, q * PPQ + 300, 60 + q, 80 + q) for q in range(8)]
    return {"qn": 0, "length_qn": 16, "selected": True, "loop": True,
            "takes": [{"name": "Take 1", "notes": notes, "source_qn": 8,
                       "ccs": [{"ppqpos": 0, "chanmsg": 0xB0, "chan": 0, "msg2": 64, "msg3": 127}]}]}


@slow
def test_infill_on_a_looped_item_rewrites_the_source_where_the_selection_falls(daemon, tmp_path):
    """Selection QN 10-14 is source QN 2-6 of the second repetition: that is where the notes change."""
    scenario = one_item_project(daemon.port, tempo=[{"qn": 0, "bpm": 120, "num": 4, "den": 4}], item=looped_item(),
                                selection=(10, 14), inputs=[{"ok": True, "values": ""}])
    result = run(tmp_path, INFILL, scenario)
    assert result["messages"] == [], result["messages"]
    take = result["tracks"][0]["items"][0]["takes"][0]
    before = looped_item()["takes"][0]["notes"]
    after = take["notes"]
    source_end = 8 * PPQ
    assert all(0 <= n["startppq"] < source_end and n["endppq"] <= source_end for n in after), after
    outside = [n for n in before if not 2 * PPQ <= n["startppq"] < 6 * PPQ]
    assert note_keys(outside) <= note_keys(after)
    heard_before = [n for n in before if 2 * PPQ <= n["startppq"] < 6 * PPQ]
    new = [n for n in after if n not in before]
    assert new, "the model wrote no notes"
    assert all(2 * PPQ <= n["startppq"] < 6 * PPQ for n in new)
    assert not any(n in after for n in heard_before)  # the heard notes of the span were replaced
    assert take["ccs"][0] == {"ppqpos": 0, "chanmsg": 0xB0, "chan": 0, "msg2": 64, "msg3": 127, "selected": False,
                              "muted": False, "shape": 0, "beztension": 0}
    document_in, _, args = request_files(tmp_path)
    assert (flag(args, "--start-beat"), flag(args, "--end-beat")) == ("2", "6")  # beats from the repetition's start
    assert len(document_in["notes"]) == 8


def test_a_selection_across_the_loop_point_is_refused_with_a_message(tmp_path):
    scenario = one_item_project(free_port(), tempo=[{"qn": 0, "bpm": 120}], item=looped_item(), selection=(6, 10),
                                inputs=[{"ok": True, "values": ""}])
    result = run(tmp_path, INFILL, scenario)
    (message,) = result["messages"]
    assert "loop point" in message["msg"] and "Loop source" in message["msg"]
    assert result["exec"] == [] and result["undo"] == []
    assert result["tracks"][0]["items"][0]["takes"][0]["notes"] == looped_item()["takes"][0]["notes"]


def test_continue_on_a_looped_item_is_refused_with_a_message(tmp_path):
    scenario = one_item_project(free_port(), tempo=[{"qn": 0, "bpm": 120}], item=looped_item(),
                                inputs=[{"ok": True, "values": "|2"}])
    result = run(tmp_path, CONTINUE, scenario)
    (message,) = result["messages"]
    assert "never play" in message["msg"] and "Loop source" in message["msg"]
    assert result["exec"] == [] and result["undo"] == []


# ----- REAPER stops the script ----------------------------------------------------------------


def wait_for_result(tmp_path: Path, timeout: float = 120.0) -> dict:
    """The client's result file once it exists (the client keeps running after the script stopped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in tmp_path.glob("midi-llm-*-out.json"):
            if not any(word in path.name for word in ("cancel", "-ping", "-reload")):  # the request's own
                try:
                    return json.loads(path.read_text())
                except ValueError:
                    pass
        time.sleep(0.2)
    raise AssertionError("the client never wrote its result")


@slow
def test_stopping_the_script_before_the_first_poll_cancels_the_request(daemon, tmp_path):
    """REAPER stops the script right after it started the request's client (after the ping), before any poll."""
    item = {"qn": 0, "length_qn": 4, "takes": [{"name": "Take 1", "notes": [note(0, 100, 60)]}]}
    scenario = one_item_project(daemon.port, tempo=[{"qn": 0, "bpm": 120}], item=item,
                                extstate=settings(daemon.port, max_notes=""), stop_after_exec=2,
                                inputs=[{"ok": True, "values": "a long piece|64"}])
    result = run(tmp_path, GENERATE, scenario)
    assert result["undo"] == [] and len(result["tracks"][0]["items"]) == 1
    document = wait_for_result(tmp_path)
    assert (document["status"], document.get("code")) == ("error", "cancelled"), document


# ----- the invariant, on random projects and every outcome ------------------------------------


def random_project(rng: random.Random) -> tuple[list, dict]:
    """A tempo map with meter and tempo changes, and an item with notes, CCs, pitch bend, pedal, text, sysex."""
    tempo = [{"qn": 0, "bpm": rng.choice([90, 120, 133]), "num": rng.choice([4, 3, 7]), "den": rng.choice([4, 8])}]
    qn = 0.0
    for _ in range(rng.randint(0, 3)):
        qn += rng.choice([3, 4, 6, 7, 8])
        marker: dict = {"qn": qn, "bpm": rng.choice([80, 100, 140]), "linear": rng.random() < 0.2}
        if rng.random() < 0.6:
            marker.update(num=rng.choice([2, 3, 4, 5, 6]), den=rng.choice([4, 8]))
        tempo.append(marker)
    length = rng.choice([8, 12, 16])
    offset = rng.choice([0, 0, 2, 3.5])
    playrate = rng.choice([1, 1, 1, 2, 0.5])
    span = int((offset + length * playrate) * PPQ)
    notes = []
    for _ in range(rng.randint(4, 30)):
        start = rng.randint(-PPQ, span + PPQ)
        notes.append(note(start, start + rng.randint(1, 3 * PPQ), rng.randint(30, 90), rng.randint(1, 127),
                          rng.choice([0, 0, 3, 9]), rng.random() < 0.15, rng.random() < 0.3))
    ccs = [{"ppqpos": rng.randint(0, span), "chanmsg": 0xB0, "chan": 0, "msg2": 64, "msg3": rng.choice([0, 127]),
            "shape": rng.choice([0, 1, 5]), "beztension": rng.choice([0, 0.25])} for _ in range(rng.randint(0, 4))]
    ccs += [{"ppqpos": rng.randint(0, span), "chanmsg": 0xE0, "chan": 0, "msg2": rng.randint(0, 127),
             "msg3": rng.randint(0, 127), "selected": rng.random() < 0.5} for _ in range(rng.randint(0, 4))]
    texts = [{"ppqpos": rng.randint(0, span), "type": rng.choice([1, 5, 6]), "msg": f"marker {i}"} for i in
             range(rng.randint(0, 2))]
    texts += [{"ppqpos": rng.randint(0, span), "type": -1, "msg": "\x7e\x7f\x09\x01"} for _ in range(rng.randint(0, 1))]
    take = {"name": "Take 1", "notes": notes, "ccs": sorted(ccs, key=lambda c: c["ppqpos"]),
            "texts": sorted(texts, key=lambda t: t["ppqpos"]), "startoffs_qn": offset, "playrate": playrate}
    looped = rng.random() < 0.3
    if looped:
        take["source_qn"] = offset + rng.choice([4, 6]) * playrate
    item = {"qn": rng.choice([0, 4, 10, 16]), "length_qn": length, "selected": True, "loop": looped, "takes": [take]}
    return tempo, item


def crowd_the_item(item: dict) -> None:
    """Fifteen parts, one program per channel besides drums: AMT's 16-instrument cap lets no new one in.

    An empty result from the real daemon: a row whose chosen instruments are all blocked by the cap
    may end without a note (otherwise the grammar makes it write one before it may end).
    """
    take = item["takes"][0]
    channels = [c for c in range(16) if c != 9]
    programs = {chan: 56 + i for i, chan in enumerate(channels)}  # brass and reeds: never 33
    take["ccs"] = sorted(take["ccs"] + [{"ppqpos": 0, "chanmsg": 0xC0, "chan": chan, "msg2": program, "msg3": 0}
                                        for chan, program in programs.items()], key=lambda c: c["ppqpos"])
    start = int(take.get("startoffs_qn", 0) * PPQ)
    take["notes"] = take["notes"] + [note(start + 10 * i, start + 10 * i + PPQ, 60 + i, 80, chan)
                                     for i, chan in enumerate(channels)]


def event_keys(take: dict) -> Counter:
    keys: Counter = Counter()
    for kind in ("ccs", "texts"):
        keys.update(kind + json.dumps(e, sort_keys=True) for e in take[kind])
    return keys


def note_keys(notes: list[dict]) -> Counter:
    return Counter(json.dumps(n, sort_keys=True) for n in notes)


OUTCOMES = ("done", "empty", "daemon down", "cancel", "bad input", "stopped")
ACTIONS = (INFILL, CONTINUE, VARIATIONS, ACCOMPANY, GENERATE)


def scenario_for(rng: random.Random, port: int, outcome: str) -> tuple[str, dict]:
    tempo, item = random_project(rng)
    action = rng.choice(ACTIONS)
    if outcome == "empty":
        action = ACCOMPANY
        crowd_the_item(item)
    extra: dict = {}
    values: dict = {}
    if outcome == "bad input":
        values["grid"] = "1/7Q"  # the client refuses it: exit 2, a message
    if outcome == "cancel":  # while the daemon is asked, or once the request runs
        extra["getchar"] = [{"after": 1, "value": 27, "from_exec": rng.choice([0, 2])}]
    if outcome == "stopped":
        if rng.random() < 0.5:
            extra["stop_after_rounds"] = rng.choice([0, 1, 3])
        else:
            extra["stop_after_exec"] = 2  # right after the request's client started
    start = item["qn"] + rng.choice([0, 1, 2.5, 4])
    selection = (start, start + rng.choice([1, 2, 4]))
    answers = {INFILL: "", CONTINUE: "|1", VARIATIONS: "|2", ACCOMPANY: "|", GENERATE: "|1"}[action]
    if outcome == "empty":
        answers = "|33"  # a bass part, which the 16-instrument cap leaves no room for
    use_selection = action in (INFILL, GENERATE) or rng.random() < 0.5
    scenario = one_item_project(port if outcome != "daemon down" else free_port(), tempo=tempo, item=item,
                                selection=selection if use_selection else None, cursor_qn=item["qn"],
                                extstate=settings(port, **values), inputs=[{"ok": True, "values": answers}], **extra)
    if outcome == "empty":
        scenario["tracks"][0]["name"] = "Ensemble"  # no instrument in the name: each channel's program counts
    if outcome == "daemon down":
        scenario["extstate"]["MIDI-LLM"]["port"] = str(free_port())
    return action, scenario


def replaced_range(before: dict, selection: tuple[float, float] | None) -> tuple[float, float]:
    """The source ticks whose notes a request may replace: the selection's, else the item's (the fake's linear
    tick map; a looped item's repetition folded back into its source)."""
    take = before["takes"][0]
    rate, offset = take.get("playrate", 1), take.get("startoffs_qn", 0)

    def tick(qn: float) -> float:
        return ((qn - before["qn"]) * rate + offset) * PPQ

    start, end = (tick(selection[0]), tick(selection[1])) if selection else (tick(before["qn"]),
                                                                                 tick(before["qn"] + before["length_qn"]))
    if before.get("loop"):
        length = take["source_qn"] * PPQ
        shift = (start // length) * length
        start, end = start - shift, end - shift
    return start, end


def check_invariant(before: dict, result: dict, action: str, outcome: str,
                    selection: tuple[float, float] | None = None) -> None:
    """Every event of the original take that was not replaced is there, bit-identical, after any outcome."""
    (track, *_) = result["tracks"]
    item = track["items"][0]
    original, *new_takes = item["takes"]
    old_notes = before["takes"][0]["notes"]
    cc_defaults = {"shape": 0, "beztension": 0, "selected": False, "muted": False, "msg3": 0}
    text_defaults = {"selected": False, "muted": False}
    expected = {"ccs": [cc_defaults | c for c in before["takes"][0]["ccs"]],
                "texts": [text_defaults | t for t in before["takes"][0]["texts"]]}
    assert event_keys(original) == event_keys(expected), action
    wrote = outcome == "done" and result["undo"] != [] and not result["messages"]
    if action == VARIATIONS:
        assert note_keys(original["notes"]) == note_keys(old_notes)  # the original take is untouched
        for take in new_takes:  # each variation is a copy with only the replaced notes rewritten
            assert wrote
            assert event_keys(take) == event_keys(original)
            gone = note_keys(old_notes) - note_keys(take["notes"])
            low, high = replaced_range(before, selection)
            for key in gone:  # only notes that were sent as replaced
                gone_note = json.loads(key)
                assert not gone_note["muted"] and low - 0.5 <= gone_note["startppq"] < high + 0.5, gone_note
    else:
        assert not new_takes
        gone = note_keys(old_notes) - note_keys(original["notes"])
        added = note_keys(original["notes"]) - note_keys(old_notes)
        if action in (ACCOMPANY, GENERATE, CONTINUE):
            assert not gone, (action, gone)  # writing adds, it never deletes
        if not wrote:
            assert not gone and not added, (action, outcome, gone, added)
        low, high = replaced_range(before, selection)
        for key in gone:  # only notes that were sent as replaced
            gone_note = json.loads(key)
            assert not gone_note["muted"] and low - 0.5 <= gone_note["startppq"] < high + 0.5, gone_note
        if gone:
            assert added, "notes were removed without new ones written"
    if item.get("loop") and wrote:
        source_end = round(item["takes"][0]["source_qn"] * PPQ)
        for take in item["takes"]:
            new = note_keys(take["notes"]) - note_keys(old_notes)
            assert all(json.loads(k)["startppq"] < source_end for k in new), "a note past the loop never plays"
    if outcome != "done":
        assert len(result["tracks"]) == 1 and len(track["items"]) == 1  # nothing added either


@slow
@pytest.mark.parametrize("seed", range(18))
def test_the_users_material_is_kept_on_every_outcome(daemon, tmp_path, seed):
    rng = random.Random(seed)
    outcome = OUTCOMES[seed % len(OUTCOMES)]
    action, scenario = scenario_for(rng, daemon.port, outcome)
    before = json.loads(json.dumps(scenario["tracks"][0]["items"][0]))
    result = run(tmp_path, action, scenario)
    selection = scenario.get("time_selection_qn")
    check_invariant(before, result, action, outcome, tuple(selection) if selection else None)
    if outcome == "empty" and result["exec"]:
        _, document_out, _ = request_files(tmp_path)
        assert all(not v["notes"] for v in document_out.get("variations", [])), "the result was not empty"
        assert result["messages"], f"an empty result must say so: {result['console']}"
