"""What the daemon needs of a checkpoint when vLLM holds the weights: its profile and its tokenizer.

The weights are vLLM's to load (in-process, or on the server); the daemon
reads only the checkpoint's config (for the AMT id layout) and, for MIDI-LLM,
its tokenizer (the text prompt is tokenized here). Both come through
``from_pretrained``, so the cache and offline mode work as for the
transformers backend.
"""

from __future__ import annotations

import time
from pathlib import Path

from bridge.engine.loading import LoadedModel, ModelLoadError
from bridge.engine.profiles import detect_profile
from bridge.hub import download_command, is_offline


def load_checkpoint_info(model_config: dict) -> LoadedModel:
    """A :class:`LoadedModel` with no model: profile, tokenizer, source."""
    from transformers import AutoConfig, AutoTokenizer

    started = time.perf_counter()
    model_id = model_config["id"]
    local = Path(model_id).expanduser()
    source = str(local) if local.is_dir() else model_id
    offline = is_offline(bool(model_config.get("offline", False)))
    options = {"cache_dir": model_config.get("cache_dir"), "local_files_only": offline}
    if model_config.get("revision"):
        options["revision"] = model_config["revision"]
    try:
        config = AutoConfig.from_pretrained(source, **options)
        positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        profile = detect_profile(getattr(config, "vocab_size", 0), getattr(config, "model_type", "?"), positions,
                                 model_config.get("profile", "auto"))
        tokenizer = AutoTokenizer.from_pretrained(source, **options) if profile.uses_text else None
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"cannot read the config and tokenizer of {model_id!r} ({str(error).splitlines()[0]}); "
                             f"download them with `{download_command(model_id)}` or set model.id to a local "
                             "directory") from None
    return LoadedModel(None, tokenizer, profile, "vllm", "auto", source, time.perf_counter() - started)
