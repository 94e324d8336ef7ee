"""The checks of ``midi-llm-bridge doctor``: each finds one thing that can be wrong and says how to fix it.

Every check returns a :class:`Finding` in plain sentences, never a traceback: the person reading
it is a producer who wants to know what to do next, not where the code broke. Checks import
heavy packages (torch, rtmidi) inside themselves, so one missing package is one finding.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.hub import download_command, is_offline

OK, NOTE, PROBLEM = "ok", "note", "problem"
MIN_PYTHON = (3, 10)
PINNED_TORCH = "2.13.0"


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``status`` is ok, note (fine, worth knowing) or problem (exit 1)."""

    topic: str
    status: str
    message: str
    fix: str = ""


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Finding:
    shown = ".".join(str(part) for part in version)
    if tuple(version[:2]) < MIN_PYTHON:
        return Finding("python", PROBLEM, f"Python {shown} is too old; midi-llm-bridge needs 3.10 or newer.",
                       "install Python 3.10+ and create the environment again (make venv, or "
                       "python3 scripts/setup.py)")
    return Finding("python", OK, f"Python {shown} ({sys.executable})")


def check_torch() -> Finding:
    try:
        import torch
    except ImportError:
        return Finding("torch", PROBLEM, "torch is not installed in this environment.",
                       f'pip install "torch=={PINNED_TORCH}" (or run make venv / python3 scripts/setup.py)')
    return Finding("torch", OK, f"torch {torch.__version__}")


def check_device(requested: str = "auto") -> Finding:
    """Which device the model would run on, with its memory: a CPU is fine, only slower."""
    try:
        import torch
    except ImportError:
        return Finding("device", PROBLEM, "cannot check the device without torch.", "install torch first")
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        detail = f"CUDA GPU {props.name}, {props.total_memory / 2**30:.1f} GiB"
        if requested in ("auto", "cuda"):
            return Finding("device", OK, detail)
        return Finding("device", NOTE, f"{detail} is present but model.device is {requested}",
                       "set model.device to auto to use the GPU")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        if requested in ("auto", "mps"):
            return Finding("device", OK, "Apple GPU (MPS)")
        return Finding("device", NOTE, f"Apple GPU (MPS) is present but model.device is {requested}",
                       "set model.device to auto to use it")
    if requested in ("cuda", "mps"):
        return Finding("device", PROBLEM, f"model.device is {requested} but torch sees no such device.",
                       "set model.device to auto (or cpu), or install the torch build for your GPU")
    memory = _memory_gib()
    shown = f", {memory:.0f} GiB of memory" if memory else ""
    return Finding("device", NOTE, f"no GPU that torch can use: the model runs on the CPU{shown} "
                                   "(it works, only slower than on a GPU)",
                   "for speed on an NVIDIA GPU, install the CUDA build of torch into the environment")


def _memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (AttributeError, ValueError, OSError):
        return None


def check_model(model: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> Finding:
    """Is the configured model there (a local directory, or the hub id in the cache), and how big."""
    model_id = str(model["id"])
    local = Path(model_id).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            return Finding("model", PROBLEM, f"model directory {local} has no config.json.",
                           "point model.id at a directory saved with save_pretrained (config.json + weights)")
        weights = [*local.glob("*.safetensors"), *local.glob("*.bin")]
        if not weights:
            return Finding("model", PROBLEM, f"model directory {local} has no weights (*.safetensors or *.bin).",
                           "copy the checkpoint's weight files into it")
        size = sum(path.stat().st_size for path in weights)
        return Finding("model", OK, f"model directory {local} ({_size(size)} of weights)")
    if model_id.startswith((".", "/", "~")) or model_id.count("/") > 1:
        return Finding("model", PROBLEM, f"model.id {model_id!r} looks like a directory, and it does not exist.",
                       "fix the path in config.yaml (model.id), or set it to a hub id")
    cached = _cached_size(model_id, model.get("cache_dir"))
    if cached:
        return Finding("model", OK, f"{model_id} is in the Hugging Face cache ({_size(cached)})")
    if is_offline(bool(model.get("offline")), environ):
        return Finding("model", PROBLEM, f"{model_id} is not in the cache and offline mode is on.",
                       f"on a machine with internet run: {download_command(model_id)}")
    return Finding("model", NOTE, f"{model_id} is not in the cache yet: the daemon downloads it on its first "
                                  "start (about 2.5 GB for MIDI-LLM)",
                   f"to fetch it now: {download_command(model_id)}")


def _cached_size(model_id: str, cache_dir: str | None) -> int:
    """Bytes of the model's snapshot in the cache, 0 when absent or without a config."""
    try:
        from huggingface_hub import scan_cache_dir, try_to_load_from_cache
    except ImportError:
        return 0
    found = try_to_load_from_cache(model_id, "config.json", cache_dir=cache_dir)
    if not isinstance(found, str):
        return 0
    try:
        info = scan_cache_dir(cache_dir)
    except Exception:  # noqa: BLE001 - an unreadable cache is reported as absent, not as a crash
        return 0
    return sum(repo.size_on_disk for repo in info.repos if repo.repo_id == model_id)


def _size(count: int) -> str:
    if count >= 2**30:
        return f"{count / 2**30:.1f} GiB"
    return f"{count / 2**20:.1f} MiB"


def check_port(osc: Mapping[str, Any]) -> Finding:
    """The daemon's port: free, or a daemon answers there, or another program holds it."""
    host, port = str(osc["host"]), int(osc["port"])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.bind((host, port))
    except OSError as error:
        probe.close()
        return _who_holds(host, port, osc.get("secret"), error)
    probe.close()
    return Finding("daemon", NOTE, f"no daemon is running; port {host}:{port} is free for one",
                   "start it with make run (or midi-llm-bridge serve)")


def _who_holds(host: str, port: int, secret: str | None, error: OSError) -> Finding:
    from bridge.client import Client, DaemonError

    target = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    try:
        with Client(port, target, secret=secret) as client:
            answer = client.ping(timeout=1.5)
    except DaemonError:
        reason = error.strerror or str(error)
        return Finding("daemon", PROBLEM, f"port {host}:{port} is taken ({reason}) by a program that does not "
                                          "answer as a midi-llm-bridge daemon.",
                       "stop that program, or pick another port: osc.port in config.yaml (and the same port in "
                       "the DAW clients' settings)")
    version = answer.get("version", "?")
    return Finding("daemon", OK, f"a daemon answers on {host}:{port} (version {version})")


def check_midi_output(midi: Mapping[str, Any]) -> Finding:
    """Can a virtual MIDI output port be opened for live playback (optional: clips and files need none)."""
    from bridge.live.ports import MidiPortError, open_output

    try:
        port = open_output(f"{midi['port_name']}-doctor", api=str(midi["api"]))
        port.close()
    except MidiPortError as error:
        return Finding("midi", NOTE, f"live MIDI output is not available here: {error}",
                       "only live playback needs it; see the README, Live MIDI output")
    except ImportError:
        return Finding("midi", NOTE, "python-rtmidi is not installed: live MIDI output is not available",
                       "pip install python-rtmidi (only live playback needs it)")
    return Finding("midi", OK, f"a virtual MIDI output port can be opened ({port.api})")
