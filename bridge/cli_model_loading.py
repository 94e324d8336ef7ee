"""Getting the model ready for a command: download, load, warm up, each stage said once.

``serve`` reports the stages to ping/status (the DAWs show them); the local commands
(``generate``, ``continue``, ``infill``, ``accompany``) print the same stages on the terminal,
since a first start spends most of its time here. Both also keep the hub's client quiet:
without this a missing network shows every retry twice (the hub's own handler and ours) and
the sentence that matters only after half a minute of retries.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

log = logging.getLogger("bridge.daemon")

StageReport = Callable[..., None]
"""``report(state, message, done=0, total=0)``: downloading (with bytes), loading, warming_up."""

HUB_CHECK_SECONDS = 3.0


def quiet_library_logging() -> None:
    """One line per event from the libraries that load the model, in our log format.

    huggingface_hub adds a handler of its own and also passes its records on to ours, so each
    of its warnings would be printed twice; with no handler of its own they are printed once,
    by the root handler (and reach a configured log file).
    """
    hub_logger = logging.getLogger("huggingface_hub")
    try:
        import huggingface_hub.utils.logging  # noqa: F401 - installs its handler on import: removed below
    except ImportError:
        pass
    for handler in list(hub_logger.handlers):
        hub_logger.removeHandler(handler)
    hub_logger.propagate = True
    for noisy in ("httpx", "httpcore", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def hub_endpoint() -> str:
    import os

    return os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"


def hub_unreachable(endpoint: str, timeout: float = HUB_CHECK_SECONDS) -> str | None:
    """Why the hub cannot be reached (no network, no DNS, refused), or None when it answers a connection."""
    url = urlparse(endpoint)
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as error:
        return f"{host} cannot be resolved ({error.strerror or error})"
    except OSError as error:
        return f"{host}:{port} does not answer ({error.strerror or error})"


def unreachable_sentence(model_id: str, reason: str) -> str:
    from bridge.hub import download_command

    return (f"cannot download model {model_id!r}: {reason}, and it is not in the Hugging Face cache. To fix: "
            f"connect to the internet and try again, or download it on a machine with internet "
            f"(`{download_command(model_id)}`) and copy the cache here, or set model.id (config.yaml or --model) "
            "to a local directory")


def load_in_stages(model: Mapping[str, Any], report: StageReport) -> Any:
    """Download (with bytes), load, warm up: each stage reported so ping/status and the DAWs can show it.

    A hub model that must be downloaded while the hub cannot be reached fails at once with
    what to do, instead of after the hub client's retries.
    """
    from bridge.engine.download import DownloadReporter, fetch_model, needs_download
    from bridge.engine.loading import ModelLoadError
    from bridge.progress import ProgressBar

    model_id = model["id"]
    if needs_download(model):
        reason = hub_unreachable(hub_endpoint())
        if reason is not None:
            raise ModelLoadError(unreachable_sentence(model_id, reason))
        log.info("downloading %s into the Hugging Face cache", model_id)
        report("downloading", f"downloading {model_id}")
        bar = ProgressBar(f"downloading {model_id}")
        fetch_model(model, DownloadReporter(model_id, lambda message, done, total: report(
            "downloading", message, done, total), bar.show))
        bar.close()
    report("loading", f"loading {model_id}")
    from bridge.engine.engine import Engine

    engine = Engine.from_config({**model, "warmup": False})
    if model.get("warmup", True):
        report("warming_up", f"warming up {model_id}")
        engine.warm_up()
    return engine


def terminal_stages(stream=None) -> StageReport:
    """A stage report for the terminal: one line when a stage begins (the download has its own bar)."""
    out = stream or sys.stderr
    shown: set[str] = set()

    def report(state: str, message: str, done: int = 0, total: int = 0) -> None:
        if state in shown:
            return
        shown.add(state)
        print(f"{message} ...", file=out, flush=True)

    return report
