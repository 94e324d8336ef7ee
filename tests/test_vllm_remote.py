"""The remote vLLM backend against a real ``vllm serve`` on loopback, as a studio runs it (README: Running on vLLM).

One server for the whole module (about a minute to start on two cores):
vLLM's own CLI from the vLLM venv, our logits processor, an API key, a
tiny checkpoint in MIDI-LLM's layout (head_dim 64). The daemon's side runs
here, in the project's venv, without vLLM: an in-process engine whose
streams are recorded (every id the server wrote is checked), and the daemon
as a process, started before the server is up (the sentence that says so),
reloaded once it is, then generate, variations, seeds and cancel through
the DAW's protocol. A second daemon with a wrong key shows the key sentence;
refusals by the server are sentences; the last test kills the server in the
middle of a stream. Skipped without a vLLM venv (failed in CI, tests/peers.py).
"""

from __future__ import annotations

import json
import shutil

import pytest

from bridge.amt import vocab
from bridge.amt.notes import Note
from bridge.amt.tempo import TempoMap
from bridge.client import Client, DaemonError
from bridge.engine.backends.vllm_remote import RemoteVllm, RemoteVllmError
from bridge.engine.backends.vllm_requests import SegmentRequest
from bridge.engine.engine import Engine
from bridge.engine.loading import ModelLoadError
from bridge.engine.requests import GenerationRequest
from tests.daemon_process import DaemonProcess, watch_states
from tests.peers import missing_peer
from tests.test_vllm_backend import vllm_python
from tests.vllm.recorded import RecordedStreams, assert_valid_ids
from tests.vllm.remote_server import VllmServer, free_tcp_port

pytestmark = pytest.mark.slow

KEY = "studio-key-1"
CONTEXT = 256  # the tiny checkpoint's positions and the server's --max-model-len: windows rebuild soon
TEMPO = TempoMap.constant(120)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from bridge.engine.tiny_checkpoints import build_tiny_midi_llm

    return build_tiny_midi_llm(tmp_path_factory.mktemp("remote-vllm") / "tiny", hidden_size=128, heads=2,
                               layers=2, positions=CONTEXT, dense_music=True)


def daemon_for(checkpoint, url: str, key: str) -> DaemonProcess:
    return DaemonProcess(checkpoint, "--set", "model.backend=vllm", "--set", f"model.vllm_url={url}",
                         "--set", f"model.vllm_api_key={key}")


def settled_state(port: int, timeout: float = 120.0) -> dict:
    """The state the daemon settles in: ready or error (bounded)."""
    return watch_states(port, timeout)[-1]


@pytest.fixture(scope="module")
def studio(checkpoint):
    """The server, and a daemon started before it was up: {'server', 'daemon', 'before'} (the state then)."""
    python = vllm_python()
    if python is None:
        missing_peer("no vLLM venv: run scripts/setup-vllm.sh (Linux x86-64) or set MIDI_LLM_BRIDGE_VLLM_PYTHON")
    port = free_tcp_port()
    daemon = daemon_for(checkpoint, f"http://127.0.0.1:{port}", KEY)
    server = None
    try:
        before = settled_state(daemon.port)  # nothing listens on the server's port yet
        server = VllmServer(python, checkpoint, api_key=KEY, max_model_len=CONTEXT, port=port)
        server.wait_ready()
        with Client(daemon.port) as client:
            client.reload()
        after = settled_state(daemon.port)
        assert after["state"] == "ready", after
        yield {"server": server, "daemon": daemon, "before": before}
    finally:
        daemon.stop()
        if server is not None:
            server.stop()


@pytest.fixture(scope="module")
def engine(studio, checkpoint):
    server = studio["server"]
    engine = Engine.from_config({"id": str(checkpoint), "backend": "vllm", "vllm_url": server.url,
                                 "vllm_api_key": KEY, "warmup": False})
    engine.decoder.streams = RecordedStreams(engine.decoder.streams)
    return engine


@pytest.fixture
def client(studio):
    with Client(studio["daemon"].port) as c:
        yield c


def request(mode: str, start: float, end: float, **options) -> GenerationRequest:
    return GenerationRequest(mode, start, end, TEMPO, prompt=options.pop("prompt", "funk"), **options)


def given_notes() -> tuple[Note, ...]:
    return tuple(Note(pitch=48 + (i * 5) % 24, start=i * 0.5, duration=0.4, velocity=90, instrument=33)
                 for i in range(16))


def key(note: Note) -> tuple:
    return (round(note.start, 6), round(note.duration, 6), note.pitch, note.instrument, note.velocity)


# ----- the daemon, as the DAW sees it ----------------------------------------------------------------------


def test_a_daemon_started_before_the_server_says_so_and_reloads(studio):
    before = studio["before"]
    assert before["state"] == "error"
    assert f"the vLLM server at {studio['server'].url} does not answer" in before["message"]
    assert "start it (README: Running on vLLM) or fix model.vllm_url" in before["message"]
    assert not any("Traceback" in line for line in studio["daemon"].log)


def test_generate_variations_and_a_seed_repeats_its_notes(client):
    first = client.generate("funk", bars=1, tempo=120.0, seed=11, variations=2)
    again = client.generate("funk", bars=1, tempo=120.0, seed=11, variations=2)
    assert len(first.variations) == 2 and first.seed == 11
    assert first.variations == again.variations
    notes = [n for v in first.variations for n in v]
    assert notes and all(0.0 <= n.start < 4.0 for n in notes)
    assert first.variations[0] != first.variations[1]


def test_cancel_aborts_the_servers_request_and_the_server_serves_on(studio, client):
    server = studio["server"]
    server.wait_idle()
    added, ended = server.added_requests("cmpl-midi-llm-"), server.ended_requests()
    notes: list[Note] = []
    job = client.submit("generate", seed=5, bars=100, tempo=60.0, stream=True)

    def on_note(variation: int, note: Note) -> None:
        notes.append(note)
        if len(notes) == 2:  # a row's first request ends after its first note (the window's offset moves):
            client.cancel(job)  # cancel while the second one runs on the server

    with pytest.raises(DaemonError) as caught:
        client.wait(job, timeout=120, on_note=on_note)
    assert caught.value.code == "cancelled", caught.value
    assert len(notes) >= 2
    server.wait_idle()  # a request that was not aborted would run to its stop (a full window) first
    added, ended = server.added_requests("cmpl-midi-llm-") - added, server.ended_requests() - ended
    assert added >= 2 and ended < added, f"{added} requests sent, {ended} ended by themselves: none aborted"
    after = client.generate("funk", bars=1, tempo=120.0, seed=3)
    assert after.variations[0]


def test_a_wrong_api_key_is_one_sentence(studio, checkpoint):
    daemon = daemon_for(checkpoint, studio["server"].url, "not-the-key")
    try:
        answer = settled_state(daemon.port)
    finally:
        daemon.stop()
    assert answer["state"] == "error"
    assert f"the vLLM server at {studio['server'].url} refused the API key" in answer["message"]
    assert "set model.vllm_api_key to the key it was started with (--api-key)" in answer["message"]
    assert not any("Traceback" in line for line in daemon.log), daemon.log


# ----- the engine over the server: every id the server wrote ----------------------------------------------


def test_generate_writes_valid_triplets_inside_the_span_and_a_seed_repeats(engine):
    streams = engine.decoder.streams
    streams.calls.clear()
    first = engine.run(request("generate", 1.0, 9.0, seed=3))
    assert_valid_ids(streams.calls, engine.loaded.profile.midi_offset)
    again = engine.run(request("generate", 1.0, 9.0, seed=3))
    notes = first.variations[0].new_notes
    assert notes and all(1.0 - 1e-9 <= n.start < 9.0 for n in notes)
    assert [key(n) for n in notes] == [key(n) for n in again.variations[0].new_notes]


def test_infill_keeps_the_given_notes_and_its_span(engine):
    streams = engine.decoder.streams
    streams.calls.clear()
    given = given_notes()
    result = engine.run(request("infill", 2.0, 5.0, notes=given, seed=7, variations=2))
    assert_valid_ids(streams.calls, engine.loaded.profile.midi_offset)
    removed = {key(n) for n in result.removed_notes}
    assert removed == {key(n) for n in given if 2.0 <= n.start < 5.0}
    for variation in result.variations:
        kept = {key(n) for n in variation.notes}
        assert all(key(n) in kept for n in given if key(n) not in removed)
        assert all(2.0 - 1e-9 <= n.start < 5.0 for n in variation.new_notes)
    assert any(variation.new_notes for variation in result.variations)


def test_a_server_that_is_not_up_is_one_sentence(checkpoint):
    url = f"http://127.0.0.1:{free_tcp_port()}"
    with pytest.raises(ModelLoadError) as caught:
        Engine.from_config({"id": str(checkpoint), "backend": "vllm", "vllm_url": url, "warmup": False})
    assert str(caught.value).startswith(f"the vLLM server at {url} does not answer")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__



# ----- what the server refuses, in sentences ------------------------------------------------------------


def small_request(engine: Engine, argument: str) -> SegmentRequest:
    profile = engine.loaded.profile
    return SegmentRequest([profile.model_id(vocab.AUTOREGRESS)], 1.0, 1.0, 0, 1, 6,
                          profile.model_id(vocab.SEPARATOR), argument)


def test_a_key_that_changed_since_the_load_is_the_key_sentence(studio, engine):
    streams = RemoteVllm(studio["server"].url, api_key=KEY)
    streams.api_key = "rotated"  # the server was restarted with another --api-key while the daemon ran
    with pytest.raises(RemoteVllmError) as caught:
        list(streams.stream("midi-llm-key", small_request(engine, "{}")))
    assert str(caught.value) == (f"the vLLM server at {studio['server'].url} refused the API key; set "
                                 "model.vllm_api_key to the key it was started with (--api-key)")


def test_another_bridge_version_on_the_server_is_its_sentence(studio, engine):
    streams = RemoteVllm(studio["server"].url, api_key=KEY)
    with pytest.raises(RemoteVllmError) as caught:
        list(streams.stream("midi-llm-version", small_request(engine, '{"format": 99}')))
    assert str(caught.value) == (f"the vLLM server at {studio['server'].url} refused the request: "
                                 "extra_args['midi_llm'] has format 99; this server's midi-llm-bridge speaks 1: "
                                 "install the same version on both sides")


def test_a_server_started_with_a_shorter_context_says_how_to_start_it(studio, checkpoint, tmp_path):
    """The daemon's checkpoint says 512 ids, the server was started with --max-model-len 256."""
    config = json.loads((checkpoint / "config.json").read_text())
    config["max_position_embeddings"] = 2 * CONTEXT
    (tmp_path / "config.json").write_text(json.dumps(config))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(checkpoint / name, tmp_path / name)
    engine = Engine.from_config({"id": str(tmp_path), "backend": "vllm", "vllm_url": studio["server"].url,
                                 "vllm_api_key": KEY, "warmup": False})
    with pytest.raises(RemoteVllmError) as caught:
        engine.run(request("generate", 0.0, 8.0, seed=1))
    assert str(caught.value) == (f"the vLLM server at {studio['server'].url} was started with --max-model-len "
                                 f"{CONTEXT}, under the model's context of {2 * CONTEXT} ids: start it with "
                                 f"--max-model-len {2 * CONTEXT} (README: Running on vLLM)")


# ----- last: it kills the module's server ------------------------------------------------------------------


def test_a_server_that_dies_during_a_request_is_one_sentence(studio, engine):
    """The GPU server crashes in the middle of a stream: the stream just ends, the row asks again over its
    window (another replica behind the URL would carry on), and with no server left the job fails with a
    sentence, not the HTTP library's error."""
    server = studio["server"]
    notes: list[Note] = []

    def on_note(variation: int, note: Note) -> None:
        notes.append(note)
        if len(notes) == 2:  # the row's second request is streaming (see the cancel test)
            server.kill()

    with pytest.raises(RemoteVllmError) as caught:
        engine.run(request("generate", 0.0, 400.0, seed=5), on_note=on_note)
    assert str(caught.value).startswith(f"the vLLM server at {server.url} stopped answering (")


def test_with_the_server_gone_a_daemon_job_ends_with_that_sentence_and_no_traceback(studio, client):
    """Runs after the server was killed: the DAW gets one error with the sentence, the log no traceback."""
    with pytest.raises(DaemonError) as caught:
        client.generate("funk", bars=1, tempo=120.0, seed=3)
    assert caught.value.code == "model_error"
    assert f"the vLLM server at {studio['server'].url}" in caught.value.message
    assert not any("Traceback" in line for line in studio["daemon"].log), studio["daemon"].log[-20:]
    assert client.ping()["state"] == "ready"  # the daemon keeps serving (another replica may come back)


def test_a_server_started_without_our_logits_processor_is_refused_at_load(checkpoint):
    """A studio that forgot --logits-processors: the daemon says so at load, before any note breaks the grammar."""
    python = vllm_python()
    if python is None:
        missing_peer("no vLLM venv: run scripts/setup-vllm.sh (Linux x86-64) or set MIDI_LLM_BRIDGE_VLLM_PYTHON")
    server = VllmServer(python, checkpoint, api_key=KEY, max_model_len=CONTEXT, processor=False)
    try:
        server.wait_ready()
        with pytest.raises(ModelLoadError) as caught:  # the engine's load error, as a daemon reports it
            Engine.from_config({"id": str(checkpoint), "backend": "vllm", "vllm_url": server.url,
                                "vllm_api_key": KEY, "warmup": False})
    finally:
        server.stop()
    assert str(caught.value) == (f"the vLLM server at {server.url} runs without midi-llm-bridge's logits processor, "
                                 "so its notes would break the grammar: start it with --logits-processors "
                                 "bridge.engine.backends.vllm_processor:MidiLlmLogitsProcessor (README: Running on "
                                 "vLLM)")
