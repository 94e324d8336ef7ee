"""Fetch a hub model into the Hugging Face cache before loading it, reporting bytes as they arrive.

``from_pretrained`` would download by itself, but silently (its progress bars are off for a
clean daemon log), and a producer waiting on a 2.5 GB first start deserves to see it move. So
the daemon first calls :func:`fetch_model`: ``snapshot_download`` into the same cache that
``from_pretrained`` reads, with a quiet tqdm stand-in that turns the hub's byte counter into
``on_bytes(done, total)`` calls. Local directories, offline mode and complete caches skip it.
Torch-free.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tqdm.std import tqdm as _tqdm

from bridge.hub import is_offline

log = logging.getLogger(__name__)

ByteReport = Callable[[int, int], None]
# What from_pretrained never reads: other frameworks' weights and the original Meta checkpoint.
SKIPPED_FILES = ["*.msgpack", "*.h5", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "original/*", "*.pth"]


def _byte_counter(on_bytes: ByteReport) -> type[_tqdm]:
    """A tqdm class that draws nothing and reports the bytes written to the cache."""

    class ByteCounter(_tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            # The hub's aggregate byte bar is the one whose description starts "Reconstructing"
            # (bytes on disk); the others count files or network transfer.
            description = str(kwargs.get("desc") or "")
            self._counts_bytes = kwargs.get("unit") == "B" and description.startswith("Reconstructing")
            self._done = int(kwargs.get("initial") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            if self._counts_bytes:
                self._done += int(n or 0)
                on_bytes(self._done, int(self.total or 0))
            return super().update(n)

    return ByteCounter


def needs_download(model: Mapping[str, Any]) -> bool:
    """A hub id, online, whose files are not all in the cache yet."""
    model_id = str(model["id"])
    if Path(model_id).expanduser().is_dir() or is_offline(bool(model.get("offline"))):
        return False
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, "config.json", cache_dir=model.get("cache_dir"),
                                   revision=model.get("revision"))
    if not isinstance(found, str):
        return True
    snapshot = Path(found).parent
    return not any(snapshot.glob("*.safetensors")) and not any(snapshot.glob("*.bin"))


def fetch_model(model: Mapping[str, Any], on_bytes: ByteReport) -> None:
    """Download the model's files into the cache, reporting bytes; errors are left to the loader's message."""
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(str(model["id"]), cache_dir=model.get("cache_dir"), revision=model.get("revision"),
                          ignore_patterns=SKIPPED_FILES, tqdm_class=_byte_counter(on_bytes))
    except Exception as error:  # noqa: BLE001 - from_pretrained runs next and words the failure for the user
        log.warning("download of %s did not finish (%s); trying the load anyway", model["id"],
                    str(error).splitlines()[0] if str(error) else type(error).__name__)


class DownloadReporter:
    """Turns byte counts into the daemon's state message, a terminal bar and one log line per 10%."""

    def __init__(self, model_id: str, publish: Callable[[str, int, int], None],
                 bar: Callable[[float, str], None] | None = None):
        self.model_id = model_id
        self.publish = publish
        self.bar = bar
        self._logged_tenths = -1

    def __call__(self, done: int, total: int) -> None:
        message = f"downloading {self.model_id}: {describe_bytes(done, total)}"
        self.publish(message, done, total)
        if self.bar is not None and total:
            self.bar(done / total, describe_bytes(done, total))
        tenths = int(10 * done / total) if total else 0
        if tenths > self._logged_tenths and total:
            self._logged_tenths = tenths
            log.info("%s (%d%%)", message, 10 * tenths)


def describe_bytes(done: int, total: int) -> str:
    """``1.2 of 2.5 GB``: what a status line can show; MB below a gigabyte."""
    if total >= 10**9:
        return f"{done / 1e9:.1f} of {total / 1e9:.1f} GB"
    if total:
        return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
    return f"{done / 1e6:.1f} MB"
