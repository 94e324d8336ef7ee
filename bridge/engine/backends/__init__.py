"""Which inference backend runs the model: transformers (everywhere) or vLLM (CUDA GPUs, or a vllm serve).

``model.backend`` is ``auto``, ``transformers`` or ``vllm``. ``auto`` picks
vLLM when ``model.vllm_url`` names a server, or when vLLM is installed and a
CUDA GPU is present; otherwise transformers (CPU, Apple MPS).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from bridge.engine.loading import ModelLoadError


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def resolve_backend(model_config: dict) -> str:
    """``transformers`` or ``vllm`` for these settings (a ModelLoadError when vllm is asked for and missing)."""
    backend = model_config.get("backend", "auto")
    remote = bool(model_config.get("vllm_url"))
    if backend == "auto":
        if remote:
            return "vllm"
        if not vllm_installed() or model_config.get("device", "auto") not in ("auto", "cuda"):
            return "transformers"
        import torch

        return "vllm" if torch.cuda.is_available() else "transformers"
    if backend == "vllm" and not remote and not vllm_installed():
        raise ModelLoadError("model.backend is vllm but vLLM is not installed here: install it with "
                             "`pip install -e \".[vllm]\"` (Linux with a CUDA GPU), set model.vllm_url to a "
                             "vllm serve, or use model.backend transformers")
    return backend


def vllm_engine(engine_class: Any, model_config: dict) -> Any:
    """An engine whose decoder is vLLM: in-process, or the server at ``model.vllm_url``."""
    from bridge.engine.backends.checkpoint_info import load_checkpoint_info
    from bridge.engine.backends.vllm_decoder import VllmDecoder

    info = load_checkpoint_info(model_config)
    url = model_config.get("vllm_url")
    if url:
        from bridge.engine.backends.vllm_remote import RemoteVllm, RemoteVllmError

        try:
            streams = RemoteVllm(url, api_key=model_config.get("vllm_api_key"))
        except RemoteVllmError as error:
            raise ModelLoadError(str(error)) from None
        info.device = f"remote vllm {url}"
    else:
        from bridge.engine.backends.vllm_local import LocalVllm

        dtype = model_config.get("dtype", "auto")
        streams = LocalVllm(info.source, context_tokens=info.profile.context_tokens, dtype=dtype,
                            gpu_memory=model_config.get("vllm_gpu_memory", 0.85),
                            revision=model_config.get("revision"), cache_dir=model_config.get("cache_dir"))
        info.device = "vllm"
    info.dtype = model_config.get("dtype", "auto")
    decoder = VllmDecoder(info.profile, streams, window_margin=model_config.get("window_margin", 0))
    return engine_class(info, decoder=decoder)
