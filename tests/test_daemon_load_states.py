"""A first start as the user sees it: the download's bytes, then loading, warming up, ready.

The model comes from a fake hub on loopback (``HF_ENDPOINT``) into an empty cache, so the real
download path runs; the states are read with ping, as the DAW clients read them.
"""

from __future__ import annotations

from tests.daemon_process import ENV, DaemonProcess, watch_states
from tests.fake_hub import FakeHub

REPO = "someone/tiny-amt"


def test_first_start_reports_download_bytes_then_loading_warming_up_ready(tmp_path, tiny_amt_dir):
    with FakeHub(REPO, tiny_amt_dir, piece_bytes=128 * 1024, pause=0.03) as hub:
        env = {key: value for key, value in ENV.items() if key != "HF_HUB_OFFLINE"}
        env.update(HF_ENDPOINT=hub.url, HF_HUB_CACHE=str(tmp_path / "cache"), HF_HOME=str(tmp_path / "home"))
        daemon = DaemonProcess(REPO, "--set", "model.warmup=true", env=env)
        try:
            states = watch_states(daemon.port)
            daemon.wait_for("ready:")
        finally:
            daemon.stop()
    # ping sees the long stages; the log has every stage in order (warming up a tiny model is too quick to poll)
    assert [answer["state"] for answer in states][-1] == "ready", states
    assert "downloading" in [answer["state"] for answer in states], states
    stages = [f": downloading {REPO} into", f": loading {REPO}", f": warming up {REPO}", ": ready:"]
    where = [next(i for i, line in enumerate(daemon.log) if stage in line and "listening" not in line)
             for stage in stages]
    assert where == sorted(where), daemon.log
    downloading = [answer for answer in states if answer["state"] == "downloading" and answer["bytes_total"]]
    assert downloading, states
    last = downloading[-1]
    assert 0 < last["bytes_done"] <= last["bytes_total"]
    assert last["message"].startswith(f"downloading {REPO}: ") and last["message"].endswith(" MB")
    assert states[-1]["message"] == "" and states[-1]["bytes_done"] == 0
    logged = [line for line in daemon.log if "downloading" in line and "%)" in line]
    assert logged and logged[-1].endswith("(100%)"), daemon.log
    assert any(request.startswith("GET /" + REPO + "/resolve/") for request in hub.requests)


def test_a_local_model_never_reports_downloading(tiny_amt_dir):
    daemon = DaemonProcess(tiny_amt_dir)
    try:
        states = watch_states(daemon.port)
    finally:
        daemon.stop()
    assert "downloading" not in [answer["state"] for answer in states]
    assert states[-1]["state"] == "ready"
