"""Tiny checkpoints with the real vocabulary layouts, for tests and benchmarks.

No weights can be downloaded where the tests run, yet the loading path must be
the real one (``from_pretrained`` of a directory). These builders save small,
randomly initialised models with exactly MIDI-LLM's and AMT's id layouts: a
Llama with 183,286 ids plus a Llama-3-style tokenizer, and a GPT-2 with 55,028
ids. Whatever their weights, everything the engine promises must hold.
"""

from __future__ import annotations

from pathlib import Path

MIDI_LLM_VOCAB_SIZE = 183_286
AMT_VOCAB_SIZE = 55_028
TEXT_VOCAB_SIZE = 128_256

_TRAINING_TEXT = [
    "You are a world-class composer. Please compose some music according to the following description: ",
    "A cheerful pop song with piano, bass and drums in C major at a fast tempo.",
    "A melancholic jazz ballad featuring saxophone and upright bass, slow and smooth.",
    "Epic orchestral music with strings, brass, choir and timpani for a film trailer.",
    "Lo-fi hip hop beat with electric piano chords and a laid back groove.",
]


def build_llama_tokenizer(directory: Path):
    """A byte-level BPE tokenizer with Llama 3's special tokens, saved with save_pretrained."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(_TRAINING_TEXT, trainer=trainer)
    bos_id = tokenizer.token_to_id("<|begin_of_text|>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B", special_tokens=[("<|begin_of_text|>", bos_id)]
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|eot_id|>",
    )
    wrapped.save_pretrained(directory)
    return wrapped


def _shape_for_dense_music(model, head, final_norm_is_layernorm: bool, embeddings, offset: int) -> None:
    """Make a random model write dense music instead of one note per minute.

    A randomly initialised model samples onsets almost uniformly over the next
    100 s, so a test span ends after a note or two. Here the layers are silenced
    (their output projections zeroed) so the head always sees one fixed
    direction, and the head rows give onsets an exponential preference
    (memoryless: about one onset every 0.3 s wherever the window starts),
    durations around 0.3 s, and notes of a few instruments. Small random noise
    keeps sampling random. Every rule the engine enforces still has to hold:
    nothing here helps the grammar.
    """
    import torch

    from bridge.amt import vocab

    hidden = head.weight.shape[1]
    generator = torch.Generator().manual_seed(1234)
    direction = torch.randn(hidden, generator=generator)
    direction /= direction.norm()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight", "c_proj.bias", "wpe.weight")):
                parameter.zero_()
        embeddings.weight.copy_(direction.expand_as(embeddings.weight)
                                + 0.01 * torch.randn(embeddings.weight.shape, generator=generator))
        scale = 1.0 / hidden**0.5  # a normalised hidden state along `direction` has length sqrt(hidden)
        rows = torch.zeros(head.weight.shape[0])
        rows[:] = -30.0
        times = torch.arange(vocab.MAX_TIME, dtype=torch.float32)
        rows[offset + vocab.TIME_OFFSET: offset + vocab.TIME_OFFSET + vocab.MAX_TIME] = -times / 30.0
        durations = torch.arange(vocab.MAX_DURATION, dtype=torch.float32)
        rows[offset + vocab.DURATION_OFFSET: offset + vocab.NOTE_OFFSET] = -(durations - 30).abs() / 10.0
        notes = torch.full((vocab.MAX_INSTRUMENT, vocab.MAX_PITCH), -12.0)
        for instrument in (0, 33, 81, vocab.DRUMS):
            notes[instrument, 36:84] = 0.0
        rows[offset + vocab.NOTE_OFFSET: offset + vocab.REST] = notes.reshape(-1)
        rows[offset + vocab.REST] = -3.0
        head.weight.copy_(rows[:, None] * scale * direction[None, :]
                          + 0.02 * torch.randn(head.weight.shape, generator=generator))
        if final_norm_is_layernorm:
            norm = model.transformer.ln_f
            norm.weight.zero_()
            norm.bias.copy_(direction * hidden**0.5)


def build_tiny_midi_llm(directory: str | Path, *, hidden_size: int = 32, layers: int = 2, seed: int = 0,
                        dense_music: bool = False, heads: int = 4, positions: int = 2048) -> Path:
    """Save a tiny LlamaForCausalLM with MIDI-LLM's 183,286-id vocabulary and a tokenizer.

    ``dense_music`` shapes the weights so that it writes many short notes (see
    :func:`_shape_for_dense_music`); otherwise the weights are random. vLLM's CPU
    attention needs ``hidden_size / heads`` of 64 or more; ``positions`` below
    2,048 gives a shorter context (windows fill sooner).
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_llama_tokenizer(directory)
    config = LlamaConfig(
        vocab_size=MIDI_LLM_VOCAB_SIZE,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=positions,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if dense_music:
        _shape_for_dense_music(model, model.lm_head, False, model.model.embed_tokens, TEXT_VOCAB_SIZE)
    model.save_pretrained(directory)
    return directory


def build_tiny_amt(directory: str | Path, *, hidden_size: int = 32, layers: int = 2, seed: int = 0,
                   dense_music: bool = False) -> Path:
    """Save a tiny GPT2LMHeadModel with the AMT vocabulary (55,028 ids, 1,024 positions)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = GPT2Config(vocab_size=AMT_VOCAB_SIZE, n_positions=1024, n_embd=hidden_size, n_layer=layers, n_head=4,
                        tie_word_embeddings=not dense_music)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    if dense_music:
        _shape_for_dense_music(model, model.lm_head, True, model.transformer.wte, 0)
    model.save_pretrained(directory)
    return directory
