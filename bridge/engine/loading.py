"""Load a checkpoint once, on the best device, with one clear message when it can't be.

The real path is always ``from_pretrained`` (hub id or local directory), so the
Hugging Face cache, ``HF_HUB_OFFLINE`` and a configured cache directory work as
users know them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.engine.profiles import ModelProfile, detect_profile
from bridge.hub import download_command, is_offline

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what to do."""


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any | None
    profile: ModelProfile
    device: Any
    dtype: Any
    source: str
    load_seconds: float


def pick_device(requested: str = "auto"):
    """CUDA, then Apple MPS, then CPU; a requested device that is missing is an error."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if has_mps:
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("model.device is cuda but no CUDA GPU is available to torch; use auto or cpu")
    if requested == "mps" and not has_mps:
        raise ModelLoadError("model.device is mps but Apple MPS is not available; use auto or cpu")
    return torch.device(requested)


def pick_dtype(device, requested: str = "auto"):
    """bf16 on CUDA (fp16 where the GPU lacks bf16), fp16 on MPS, fp32 on CPU."""
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


def _missing_message(model_id: str, offline: bool, cache_dir: str | None, detail: str) -> str:
    where = f" in {cache_dir}" if cache_dir else " in the Hugging Face cache"
    how = (
        f"download it once on a machine with internet: `{download_command(model_id)}`, "
        "or set model.id in config.yaml to a local directory"
    )
    state = "offline mode is on and the model is not" if offline else "the model could not be found or fetched"
    return f"cannot load model {model_id!r}: {state}{where}. To fix: {how}. ({detail})"


WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")


def _local_folder_problem(folder: Path) -> str | None:
    """Why ``folder`` (the user's own path) is no checkpoint folder, in words; None when it has a config."""
    fix = ("point model.id (or --model) at the folder that holds config.json and the weights "
           "(model.safetensors), or give the hub id")
    if not (folder / "config.json").is_file():
        return f"the folder {folder} has no config.json, so it holds no checkpoint: {fix}"
    return None


def _local_weights_problem(folder: Path) -> str | None:
    """A checkpoint folder whose config is there but whose weights are not (an interrupted copy)."""
    if not any(any(folder.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        return (f"the folder {folder} has config.json but no weights (model.safetensors or pytorch_model.bin): "
                "the download or copy is incomplete; copy or download the checkpoint again")
    return None


def _local_load_message(folder: Path, detail: str) -> str:
    return (f"cannot load the checkpoint in {folder}: {detail}. To fix: check that the folder holds a whole "
            "MIDI-LLM (or AMT) checkpoint as saved by save_pretrained: config.json with its model_type, the "
            "weights and, for MIDI-LLM, the tokenizer files")


def load_model(
    model_id: str,
    *,
    profile: str = "auto",
    device: str = "auto",
    dtype: str = "auto",
    cache_dir: str | None = None,
    offline: bool = False,
    revision: str | None = None,
    threads: int = 0,
) -> LoadedModel:
    """Load model (and tokenizer for text profiles) and move it to the device in eval mode."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # one ready line is what a daemon log needs
    started = time.perf_counter()
    if threads:
        torch.set_num_threads(threads)
    if Path(model_id).expanduser().is_file():
        raise ModelLoadError(f"model {model_id!r} is a file; give a hub id (owner/name) or the folder that holds "
                             "the checkpoint (config.json and the weights)")
    is_local = Path(model_id).expanduser().is_dir()
    source = str(Path(model_id).expanduser()) if is_local else model_id
    if not is_local and (model_id.startswith((".", "/", "~")) or os.sep in model_id.strip("/").replace("/", "", 1)):
        raise ModelLoadError(f"model directory {model_id!r} does not exist")
    if is_local and (problem := _local_folder_problem(Path(source))) is not None:
        raise ModelLoadError(f"cannot load model {model_id!r}: {problem}")
    offline = is_offline(offline)
    options: dict[str, Any] = {"cache_dir": cache_dir, "local_files_only": offline}

    def failed(error: Exception) -> ModelLoadError:
        detail = str(error).splitlines()[0]
        if is_local:
            return ModelLoadError(_local_load_message(Path(source), detail))
        return ModelLoadError(_missing_message(model_id, offline, cache_dir, detail))

    if revision:
        options["revision"] = revision
    try:
        config = AutoConfig.from_pretrained(source, **options)
    except (OSError, ValueError) as error:
        raise failed(error) from None
    model_type = getattr(config, "model_type", "?")
    vocab_size = getattr(config, "vocab_size", 0)
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    try:
        chosen = detect_profile(vocab_size, model_type, positions, profile)
    except ValueError as error:
        raise ModelLoadError(f"cannot use {model_id!r}: {error}") from None
    if is_local and (problem := _local_weights_problem(Path(source))) is not None:
        raise ModelLoadError(f"cannot load model {model_id!r}: {problem}")
    torch_device = pick_device(device)
    torch_dtype = pick_dtype(torch_device, dtype)
    tokenizer = None
    try:
        if chosen.uses_text:
            tokenizer = AutoTokenizer.from_pretrained(source, **options)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, **options)
    except (OSError, ValueError) as error:
        raise failed(error) from None
    model.to(torch_device)
    model.eval()
    seconds = time.perf_counter() - started
    return LoadedModel(model, tokenizer, chosen, torch_device, torch_dtype, source, seconds)
