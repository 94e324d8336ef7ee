"""One forward of a Llama-family model over a :class:`StaticKVCache`, in few kernels.

Hugging Face's forward is general (every cache type, attention backend and
output option), and at one id per step its Python overhead is most of a step
once the layers are small or the device is fast: about 600 kernels and
16-17 ms of host time per token at MIDI-LLM's 16 layers on a CPU core. This
module runs the same arithmetic over the model's own weights, with what a
decoding step needs only:

- the query, key and value projections as one matmul, gate and up as one
  (their weights concatenated once; the model's modules are then views of the
  concatenated blocks, so no weight is held twice);
- rotary embeddings read from a table computed once by the model's own
  rotary module (so Llama 3's frequency scaling is the model's);
- keys and values written in place into the static cache; one attention
  mask per forward, shared by the layers; one query per key/value head group
  when a single id is fed, so grouped keys are never copied.

:meth:`LlamaStep.forward_one` is the decoding step proper (one id per row)
in about 30 ops per layer, each of which costs a CPU host a few
microseconds whatever its size: keys and values rotated and written as one
slab, residuals added inside the matmuls, one additive mask per step. It is
what bridge/engine/traced_step.py traces and what the compiled mode compiles.

The result is the final-normed hidden state of every fed position, as the
base model's ``last_hidden_state``. It is equal to Hugging Face's up to float
rounding (tests/test_engine_fast_step.py checks it and the notes it gives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bridge.engine.static_cache import StaticKVCache

SUPPORTED_MODEL_TYPES = ("llama",)


def supports(model) -> bool:
    """Whether this step can run ``model`` (a Llama-family causal LM with Hugging Face's module layout)."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) not in SUPPORTED_MODEL_TYPES or getattr(config, "hidden_act", "") != "silu":
        return False
    base = getattr(model, "base_model", None)
    return all(hasattr(base, name) for name in ("embed_tokens", "layers", "norm", "rotary_emb"))


@dataclass
class _Layer:
    input_norm: torch.Tensor
    qkv: torch.Tensor
    qkv_bias: torch.Tensor | None
    output: torch.nn.Linear
    post_norm: torch.Tensor
    gate_up: torch.Tensor
    gate_up_bias: torch.Tensor | None
    down: torch.nn.Linear
    qkv_t: torch.Tensor  # the weights transposed (views): torch.mm / addmm (with the residual) take them as they are
    output_t: torch.Tensor
    gate_up_t: torch.Tensor
    down_t: torch.Tensor
    output_bias: torch.Tensor | None
    down_bias: torch.Tensor | None


def _fuse(linears: list[torch.nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One weight (and bias) for several linears of the same input; the linears become views of it."""
    weight = torch.cat([linear.weight.data for linear in linears], dim=0)
    first = 0
    for linear in linears:
        rows = linear.weight.shape[0]
        linear.weight.data = weight[first:first + rows]
        first += rows
    if all(linear.bias is None for linear in linears):
        return weight, None
    bias = torch.cat([linear.bias.data for linear in linears])
    first = 0
    for linear in linears:
        rows = linear.weight.shape[0]
        linear.bias.data = bias[first:first + rows]
        first += rows
    return weight, bias


def _detached(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return None if tensor is None else tensor.detach()


def _add_bias(out: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return out if bias is None else out.add_(bias)


class LlamaStep:
    """The decoding forward of one loaded Llama model; see the module docstring."""

    def __init__(self, model, positions: int):
        config = model.config
        base = model.base_model
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.groups = self.heads // self.kv_heads
        self.scale = self.head_dim ** -0.5
        self.eps = float(config.rms_norm_eps)
        # Weights are read through detached aliases (the same memory, no autograd): what a trace may hold.
        self.embeddings = base.embed_tokens.weight.detach()
        self.final_norm = base.norm.weight.detach()
        weight = self.embeddings
        self.dtype, self.device = weight.dtype, weight.device
        self.layers = []
        for layer in base.layers:
            attention, mlp = layer.self_attn, layer.mlp
            qkv, qkv_bias = _fuse([attention.q_proj, attention.k_proj, attention.v_proj])
            gate_up, gate_up_bias = _fuse([mlp.gate_proj, mlp.up_proj])
            self.layers.append(_Layer(
                layer.input_layernorm.weight.detach(), qkv, qkv_bias, attention.o_proj,
                layer.post_attention_layernorm.weight.detach(), gate_up, gate_up_bias, mlp.down_proj, qkv.t(),
                attention.o_proj.weight.detach().t(), gate_up.t(), mlp.down_proj.weight.detach().t(),
                _detached(attention.o_proj.bias), _detached(mlp.down_proj.bias)))
        self.intermediate = self.layers[0].gate_up.shape[0] // 2 if self.layers else 0
        with torch.inference_mode():
            table = torch.arange(positions, device=self.device)[None]
            probe = torch.zeros((1, 1, self.head_dim), dtype=self.dtype, device=self.device)
            cos, sin = base.rotary_emb(probe, position_ids=table)
        self.cos, self.sin = cos[0], sin[0]  # [positions, head_dim]
        # rotate_half(x) * sin == roll(x, half) * signed_sin exactly (a sign flip), in one op fewer.
        half = self.head_dim // 2
        self.signed_sin = torch.cat([-self.sin[:, :half], self.sin[:, half:]], dim=-1)
        # Value heads ride through the rotation unchanged (cos 1, sin 0: exact), so keys and values leave
        # it as one slab that one in-place copy writes into the cache.
        self.value_cos = torch.ones((self.kv_heads, 1, self.head_dim), dtype=self.dtype, device=self.device)
        self.value_sin = torch.zeros((self.kv_heads, 1, self.head_dim), dtype=self.dtype, device=self.device)
        self.float32 = self.dtype == torch.float32
        self.inverse_width = 1.0 / config.hidden_size
        self.eps_tensor = torch.tensor(self.eps, dtype=self.dtype, device=self.device)

    def new_cache(self, capacity: int) -> StaticKVCache:
        return StaticKVCache(len(self.layers), self.kv_heads, self.head_dim, capacity, dtype=self.dtype,
                             device=self.device)

    def _norm(self, hidden: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """RMSNorm as Llama computes it (in float32, scaled after the cast back)."""
        as_float = hidden.float()
        variance = as_float.pow(2).mean(-1, keepdim=True)
        return weight * (as_float * torch.rsqrt(variance + self.eps)).to(hidden.dtype)

    def _norm_one(self, hidden: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """:meth:`_norm` in fewer ops when the model is float32 (no casts, no scalar made a tensor per call).

        mean() is sum() then a division on the CPU; here the sum is scaled by
        1 / width inside the add of epsilon: the same values when the width is
        a power of two (every Llama here), a rounding apart otherwise.
        """
        if not self.float32:
            return self._norm(hidden, weight)
        squares = hidden.pow(2).sum(-1, keepdim=True)
        return torch.mul(hidden, torch.add(self.eps_tensor, squares, alpha=self.inverse_width).rsqrt_()).mul_(weight)

    def forward_one(self, ids: torch.Tensor, positions: torch.Tensor, column: torch.Tensor, cache: StaticKVCache,
                    attend: int) -> torch.Tensor:
        """One id per row: ``ids`` and ``positions`` [batch], written at cache ``column`` ([1]); hidden [batch, hidden].

        The same arithmetic as :meth:`forward` at width 1 in about half the
        ops (every op costs the host a few microseconds on a CPU, whatever its
        size): matmuls against pre-transposed weights, keys and values rotated
        and written as one slab, residuals added by the matmuls, one additive
        mask (the cache's real columns: later columns are never real yet, so no
        causal cut is needed) shared by the layers. ``attend`` is how many
        leading columns attention reads.
        """
        batch = ids.shape[0]
        heads, kv_heads, head_dim, half = self.heads, self.kv_heads, self.head_dim, self.head_dim // 2
        slab = heads + 2 * kv_heads
        hidden = F.embedding(ids, self.embeddings)
        cos = torch.cat([self.cos[positions][:, None, None].expand(batch, heads + kv_heads, 1, head_dim),
                         self.value_cos.expand(batch, kv_heads, 1, head_dim)], dim=1).view(batch, slab, 1, 2, half)
        sin = torch.cat([self.signed_sin[positions][:, None, None].expand(batch, heads + kv_heads, 1, head_dim),
                         self.value_sin.expand(batch, kv_heads, 1, head_dim)], dim=1).view(batch, slab, 1, 2, half)
        mask = torch.where(cache.real.narrow(1, 0, attend).view(batch, 1, 1, attend), 0.0, -math.inf).to(self.dtype)
        intermediate = self.intermediate
        # narrow() rather than indexing: x[:, :n] is one op per dimension (a trace records each).
        for index, layer in enumerate(self.layers):
            qkv = _add_bias(torch.mm(self._norm_one(hidden, layer.input_norm), layer.qkv_t), layer.qkv_bias)
            qkv = qkv.view(batch, slab, 1, 2, half)  # the halves swapped by a flip: rotate_half without a cat
            rotated = torch.addcmul(qkv * cos, qkv.flip(-2), sin).view(batch, slab, 1, head_dim)
            cache.blocks[index].index_copy_(2, column, rotated.narrow(1, heads, 2 * kv_heads))
            query = rotated.narrow(1, 0, heads).view(batch, kv_heads, self.groups, head_dim)
            attended = F.scaled_dot_product_attention(query, cache.keys[index].narrow(2, 0, attend),
                                                      cache.values[index].narrow(2, 0, attend), attn_mask=mask,
                                                      scale=self.scale)
            hidden = _add_bias(torch.addmm(hidden, attended.view(batch, heads * head_dim), layer.output_t),
                               layer.output_bias)
            gate_up = _add_bias(torch.mm(self._norm_one(hidden, layer.post_norm), layer.gate_up_t),
                                layer.gate_up_bias)
            hidden = _add_bias(torch.addmm(hidden, F.silu(gate_up.narrow(1, 0, intermediate)).mul_(
                gate_up.narrow(1, intermediate, intermediate)), layer.down_t), layer.down_bias)
        return self._norm(hidden, self.final_norm)

    def _rotate(self, heads: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = heads.shape[-1] // 2
        rotated = torch.cat((-heads[..., half:], heads[..., :half]), dim=-1)
        return heads * cos + rotated * sin

    def forward(self, ids: torch.Tensor, positions: torch.Tensor, columns: torch.Tensor, cache: StaticKVCache,
                attend: int) -> torch.Tensor:
        """Feed ``ids`` [batch, width] at ``positions`` into cache ``columns`` [width]; hidden states [batch, width, hidden].

        Each fed id attends to the real columns of its row up to its own
        column; ``attend`` is how many leading columns the attention reads
        (the filled ones in eager mode, the whole capacity in a compiled step,
        whose shapes must not change).
        """
        batch, width = ids.shape
        hidden = F.embedding(ids, self.embeddings)
        cos = self.cos[positions][:, None]  # [batch, 1, width, head_dim]
        sin = self.sin[positions][:, None]
        keys_seen = torch.arange(attend, device=ids.device)
        mask = cache.real[:, None, None, :attend] & (keys_seen[None, None, None, :] <= columns[None, None, :, None])
        q_size = self.heads * self.head_dim
        for index, layer in enumerate(self.layers):
            residual = hidden
            qkv = F.linear(self._norm(hidden, layer.input_norm), layer.qkv, layer.qkv_bias)
            qkv = qkv.view(batch, width, self.heads + 2 * self.kv_heads, self.head_dim).transpose(1, 2)
            rotated = self._rotate(qkv[:, : self.heads + self.kv_heads], cos, sin)
            query, key = rotated[:, : self.heads], rotated[:, self.heads:]
            value = qkv[:, self.heads + self.kv_heads:]
            cache.keys[index].index_copy_(2, columns, key)
            cache.values[index].index_copy_(2, columns, value)
            keys = cache.keys[index][:, :, :attend]
            values = cache.values[index][:, :, :attend]
            if width == 1:  # one query per group of heads that share a key/value head: keys are read in place
                grouped = query.reshape(batch, self.kv_heads, self.groups, self.head_dim)
                attended = F.scaled_dot_product_attention(grouped, keys, values, attn_mask=mask, scale=self.scale)
                attended = attended.reshape(batch, q_size)[:, None]
            else:
                if self.groups > 1:
                    keys = keys.repeat_interleave(self.groups, dim=1)
                    values = values.repeat_interleave(self.groups, dim=1)
                attended = F.scaled_dot_product_attention(query, keys, values, attn_mask=mask, scale=self.scale)
                attended = attended.transpose(1, 2).reshape(batch, width, q_size)
            hidden = residual + layer.output(attended)
            residual = hidden
            gate, up = F.linear(self._norm(hidden, layer.post_norm), layer.gate_up,
                                layer.gate_up_bias).split(self.intermediate, dim=-1)
            hidden = residual + layer.down(F.silu(gate) * up)
        return self._norm(hidden, self.final_norm)
