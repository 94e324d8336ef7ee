"""Each reply's fields are described once (bridge/protocol/replies.py); the doc, the daemon, the Python
reader and the JavaScript reader (max_for_live/src/midi_llm_core.js, under node) all agree with it."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from bridge import protocol as P
from bridge.client import Client
from bridge.config import defaults
from bridge.daemon.server import DaemonThread
from bridge.protocol.replies import REPLIES, build_reply, field_index, read_reply
from tests.daemon_peers import Raw
from tests.daemon_process import ROOT
from tests.m4l_support import NODE, needs_node

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")


def doc_rows() -> dict[str, str]:
    """``| `/midi-llm/x` | `fields...` ... |`` rows of the doc's reply tables: address -> the field list."""
    rows = {}
    for address, fields in re.findall(r"^\| `(/midi-llm/\w+)` \| `([^`]*)`", DOC, flags=re.M):
        if address in REPLIES:
            rows[address] = fields
    return rows


def test_the_doc_lists_each_reply_with_the_tables_fields_in_order():
    rows = doc_rows()
    for address, reply in REPLIES.items():
        if address == P.RESULT:
            assert "/midi-llm/result <id> <variation> <chunk> <chunks> <count> <note>..." in DOC
            continue
        assert address in rows, f"{address} has no row in docs/protocol.md"
        assert rows[address].split() == reply.wire_names(), address


def test_build_and_read_are_inverse_and_refuse_wrong_fields():
    for address, reply in REPLIES.items():
        values = {f.name: f"v-{f.name}" for f in reply.fields}
        tail = ["t1", "t2"] if reply.tail else []
        args = build_reply(address, tail=tail, **values)
        assert len(args) == len(reply.fields) + len(tail)
        read = read_reply(address, args)
        assert {k: read[k] for k in values} == values
        if reply.tail:
            assert read[reply.tail] == tail
        with pytest.raises(ValueError):
            build_reply(address, **{k: v for k, v in list(values.items())[1:]})
        with pytest.raises(ValueError):
            build_reply(address, not_a_field=1, **values)
    # a newer daemon may add fields at the end: the reader keeps what it knows
    longer = [*build_reply(P.ACCEPTED, id=1, position=0), "later field"]
    assert read_reply(P.ACCEPTED, longer) == {"id": 1, "position": 0}
    assert field_index(P.DONE, "seed") == 2


@pytest.fixture(scope="module")
def daemon(dense_engine):
    config = defaults()
    config["osc"]["port"] = 0
    config["model"]["id"] = "dense tiny checkpoint"
    with DaemonThread(config, engine=dense_engine) as running:
        yield running


def test_the_python_reader_reads_the_daemons_replies_by_the_table(daemon):
    raw = Raw(daemon.port)
    try:
        raw.send(P.PING, 5, 0)
        pong = raw.expect(P.PONG)
        raw.send(P.STATUS, 6, 0)
        info = raw.expect(P.INFO)
    finally:
        raw.close()
    assert len(pong) == len(REPLIES[P.PONG].fields) and len(info) == len(REPLIES[P.INFO].fields)
    with Client(daemon.port) as client:
        ping = client.ping()
        status = client.status()
        assert set(ping) == {f.name for f in REPLIES[P.PONG].fields}
        assert set(status) == {f.name for f in REPLIES[P.INFO].fields}
        assert ping["state"] == "ready" and ping["message"] == "" and ping["protocol"] == P.PROTOCOL_VERSION
        assert status["max_datagram_bytes"] == info[field_index(P.INFO, "max_datagram_bytes")]
        events = []
        result = client.request("generate", bars=1, tempo=200.0, seed=3,
                                on_event=lambda name, args: events.append(name))
        assert result.seed == 3 and (result.start, result.end) == (0.0, 4.0)


NODE_READER = r"""
const fs = require("fs"), vm = require("vm");
const [file, input] = [process.argv[1], JSON.parse(fs.readFileSync(0, "utf8"))];
const context = vm.createContext({});
vm.runInContext(fs.readFileSync(file, "utf8") + "\nthis.MidiLLM = MidiLLM;", context);
const M = context.MidiLLM, out = {};
out.pong = M.parsePong(input.pong);
out.info = M.parseInfo(input.info);
const job = new M.Job("j", "generate");
out.accepted = job.handle("/midi-llm/accepted", input.accepted);
out.progress = job.handle("/midi-llm/progress", input.progress);
out.warning = job.handle("/midi-llm/warning", input.warning);
job.handle("/midi-llm/done", input.done);
out.done = job.done;
out.error = new M.Job("j", "generate").handle("/midi-llm/error", input.error);
process.stdout.write(JSON.stringify(out));
"""


def snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)


@needs_node
def test_the_javascript_reader_takes_each_field_from_the_tables_index():
    addresses = {"pong": P.PONG, "info": P.INFO, "accepted": P.ACCEPTED, "progress": P.PROGRESS,
                 "warning": P.WARNING, "done": P.DONE, "error": P.ERROR}
    given = {}
    for key, address in addresses.items():
        reply = REPLIES[address]
        values = {f.name: f"{key}:{f.name}" for f in reply.fields}
        values["id"] = "j"
        given[key] = build_reply(address, tail=["d1"] if reply.tail else [], **values)
    done = subprocess.run([NODE, "-e", NODE_READER, str(ROOT / "max_for_live" / "src" / "midi_llm_core.js")],
                          input=json.dumps(given), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    checked = 0
    for key, address in addresses.items():
        for js_name, value in parsed[key].items():
            name = snake(js_name)
            if name in ("type",) or (name == "id" and value == "j"):
                continue
            if name == "text":  # warning's text is the table's text field
                name = "text"
            if name == REPLIES[address].tail:
                assert value == ["d1"], (address, js_name)
                continue
            assert value == given[key][field_index(address, name)], (address, js_name, value)
            checked += 1
    assert checked >= 30
