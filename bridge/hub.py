"""Facts about the Hugging Face hub that several commands state: offline mode and how to download.

Torch-free, so ``doctor`` and the engine's load error give the same command, one that works as
printed: the ``hf`` program installed next to this Python (``huggingface_hub``'s CLI), or, if it
is missing, the same download through this Python.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def is_offline(config_offline: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """``model.offline`` or ``HF_HUB_OFFLINE`` set to a true value."""
    return config_offline or environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def download_command(model_id: str) -> str:
    hf = Path(sys.executable).with_name("hf.exe" if os.name == "nt" else "hf")
    if hf.exists():
        return f"{hf} download {model_id}"
    return f"{sys.executable} -c \"import huggingface_hub; huggingface_hub.snapshot_download('{model_id}')\""
