"""Loading a checkpoint through the real ``from_pretrained`` path.

The tiny checkpoints have exactly MIDI-LLM's and AMT's id layouts, so the
profile the loader picks from them is the one the real checkpoints get. Every
failure must be a :class:`ModelLoadError` with a message a user can act on.
"""

from __future__ import annotations

import pytest
import torch

from bridge.engine.loading import ModelLoadError, load_model, pick_device, pick_dtype
from bridge.engine.profiles import AMT, MIDI_LLM, UnknownCheckpoint, detect_profile

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def _assert_actionable(error: ModelLoadError) -> str:
    """One message, no traceback, no chained exception shown to the user."""
    message = str(error)
    assert message
    assert "Traceback" not in message
    assert 'File "' not in message
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return message


# ---------------------------------------------------------------- profile detection


def test_midi_llm_layout_is_detected(tiny_midi_llm_dir):
    loaded = load_model(str(tiny_midi_llm_dir), device="cpu")
    assert loaded.model.config.vocab_size == 183_286
    assert loaded.profile.name == "midi-llm"
    assert loaded.profile.midi_offset == 128_256
    assert loaded.profile.context_tokens == 2048
    assert loaded.profile.uses_text
    assert loaded.tokenizer is not None
    assert loaded.tokenizer.pad_token == "<|eot_id|>"
    assert loaded.source == str(tiny_midi_llm_dir)
    assert not loaded.model.training
    assert loaded.load_seconds >= 0


def test_gpt2_amt_layout_is_detected(tiny_amt_dir):
    loaded = load_model(str(tiny_amt_dir), device="cpu")
    assert loaded.model.config.vocab_size == 55_028
    assert loaded.model.config.model_type == "gpt2"
    assert loaded.profile.name == "amt"
    assert loaded.profile.midi_offset == 0
    assert loaded.profile.context_tokens == 1024
    assert not loaded.profile.uses_text
    assert loaded.tokenizer is None
    assert not loaded.model.training


def test_midi_llm_ids_are_amt_ids_plus_the_text_vocabulary():
    assert MIDI_LLM.model_id(55_026) == 183_282  # AUTOREGRESS
    assert MIDI_LLM.model_id(55_027) == 183_283  # ANTICIPATE
    assert MIDI_LLM.model_id(0) == 128_256
    assert AMT.model_id(55_027) == 55_027


def test_midi_llm_prompt_text_is_the_trained_one():
    assert MIDI_LLM.prompt_text("a calm piano piece") == (
        "You are a world-class composer. Please compose some music according to the following description: "
        "a calm piano piece "
    )


@pytest.mark.parametrize(
    ("vocab_size", "model_type", "positions", "name", "offset", "context"),
    [
        (183_286, "llama", 131_072, "midi-llm", 128_256, 2048),
        (183_286, "llama", 2048, "midi-llm", 128_256, 2048),
        (55_028, "gpt2", 1024, "amt", 0, 1024),
        (55_030, "gpt2", 1024, "amt", 0, 1024),
        (55_028, "gpt2", 512, "amt", 0, 512),  # a smaller model's context is respected
    ],
)
def test_detect_profile(vocab_size, model_type, positions, name, offset, context):
    profile = detect_profile(vocab_size, model_type, positions)
    assert (profile.name, profile.midi_offset, profile.context_tokens) == (name, offset, context)


@pytest.mark.parametrize("vocab_size", [32_000, 50_257, 128_256, 55_027])
def test_detect_profile_rejects_other_vocabularies(vocab_size):
    with pytest.raises(UnknownCheckpoint, match=str(vocab_size)):
        detect_profile(vocab_size, "llama", 2048)


def test_configured_profile_is_honored(tiny_midi_llm_dir):
    loaded = load_model(str(tiny_midi_llm_dir), device="cpu", profile="amt")
    assert loaded.profile.name == "amt"
    assert loaded.profile.midi_offset == 0
    assert loaded.profile.context_tokens == 1024
    assert loaded.tokenizer is None
    explicit = load_model(str(tiny_midi_llm_dir), device="cpu", profile="midi-llm")
    assert explicit.profile.name == "midi-llm"
    assert explicit.profile.midi_offset == 128_256


def test_configured_profile_that_does_not_fit_is_a_load_error(tiny_amt_dir):
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(tiny_amt_dir), device="cpu", profile="midi-llm")
    message = _assert_actionable(caught.value)
    assert "55028" in message


def test_checkpoint_without_the_amt_vocabulary_is_a_load_error(tmp_path):
    from transformers import GPT2Config

    GPT2Config(vocab_size=50_257, n_embd=8, n_layer=1, n_head=1).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(tmp_path), device="cpu")
    message = _assert_actionable(caught.value)
    assert "50257" in message and "AMT" in message


# ---------------------------------------------------------------- missing models


def test_missing_model_offline_says_how_to_download(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_id = "nobody-here/no-such-midi-model"
    with pytest.raises(ModelLoadError) as caught:
        load_model(model_id, cache_dir=str(tmp_path / "hf-cache"), device="cpu")
    message = _assert_actionable(caught.value)
    assert model_id in message
    assert f"hf download {model_id}" in message
    assert "offline" in message
    assert str(tmp_path / "hf-cache") in message


def test_missing_model_with_offline_config_says_how_to_download(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    model_id = "nobody-here/another-missing-model"
    with pytest.raises(ModelLoadError) as caught:
        load_model(model_id, cache_dir=str(tmp_path), offline=True, device="cpu")
    message = _assert_actionable(caught.value)
    assert f"hf download {model_id}" in message


@pytest.mark.parametrize("relative", ["no/such/dir", "missing-checkpoint-dir"])
def test_nonexistent_local_directory_is_a_load_error(tmp_path, monkeypatch, relative):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = str(tmp_path / relative)
    with pytest.raises(ModelLoadError) as caught:
        load_model(path, device="cpu")
    message = _assert_actionable(caught.value)
    assert path in message


@pytest.mark.parametrize("offline", ["1", "0"])
def test_a_folder_that_is_no_checkpoint_says_so_not_that_it_is_offline(tmp_path, monkeypatch, offline):
    """An existing folder is the user's own path: what it lacks, never "not in the Hugging Face cache"."""
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(empty), device="cpu")
    message = _assert_actionable(caught.value)
    assert "no config.json" in message and str(empty) in message
    assert "cache" not in message and "offline" not in message and "hf download" not in message
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(half), device="cpu")
    message = _assert_actionable(caught.value)
    assert "config.json" in message and "model_type" in message and "cache" not in message


def test_a_checkpoint_folder_without_weights_says_the_download_is_incomplete(tmp_path, monkeypatch,
                                                                             tiny_midi_llm_dir):
    import shutil

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "partial"
    shutil.copytree(tiny_midi_llm_dir, folder)
    for weights in [*folder.glob("*.safetensors"), *folder.glob("*.bin"), *folder.glob("*.index.json")]:
        weights.unlink()
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(folder), device="cpu")
    message = _assert_actionable(caught.value)
    assert "no weights" in message and "incomplete" in message and "cache" not in message


# ---------------------------------------------------------------- device and dtype


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_auto_device_is_cpu_in_float32_without_accelerator(tiny_amt_dir):
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("Apple MPS available")
    assert pick_device("auto") == torch.device("cpu")
    assert pick_dtype(torch.device("cpu")) == torch.float32
    loaded = load_model(str(tiny_amt_dir))
    assert loaded.device == torch.device("cpu")
    assert loaded.dtype == torch.float32
    assert {p.device.type for p in loaded.model.parameters()} == {"cpu"}
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}


def test_explicit_dtype_is_used(tiny_amt_dir):
    loaded = load_model(str(tiny_amt_dir), device="cpu", dtype="bfloat16")
    assert loaded.dtype == torch.bfloat16
    assert {p.dtype for p in loaded.model.parameters()} == {torch.bfloat16}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_explicit_cuda_without_gpu_is_a_load_error(tiny_amt_dir):
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(tiny_amt_dir), device="cuda")
    message = _assert_actionable(caught.value)
    assert "cuda" in message.lower()
    assert "auto" in message or "cpu" in message


def test_explicit_mps_without_mps_is_a_load_error():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("Apple MPS available")
    with pytest.raises(ModelLoadError, match="mps"):
        pick_device("mps")


def test_threads_setting_is_applied(tiny_amt_dir):
    before = torch.get_num_threads()
    try:
        load_model(str(tiny_amt_dir), device="cpu", threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
