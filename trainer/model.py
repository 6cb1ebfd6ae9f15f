"""The tiny decoder-only LM and the LoRA layer of the `tiny` backend (reference/trainer-protocol.md §7).

Pre-LayerNorm GPT: token + learned position embeddings, `layers` blocks of hand-written causal
attention (torch 1.13 has no scaled_dot_product_attention) and a GELU MLP, final LayerNorm, untied
lm_head; fp32, no dropout, weights drawn from a generator seeded by the base-model name, so every
process builds the same base. Each linear layer is a `LoRALinear` holding one adapter per policy;
`policy_id=None` (or a policy without an adapter on that layer) runs the base weights only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj")
LINEAR_NAMES = DEFAULT_TARGETS + ("lm_head",)


@dataclass(frozen=True)
class TinyConfig:
    """Architecture of the tiny model; the base-model name "tiny:d=64,layers=2" overrides fields."""

    d: int = 32
    """Residual width."""
    layers: int = 2
    """Transformer blocks."""
    heads: int = 4
    """Attention heads; d must be divisible by heads."""
    context: int = 1024
    """Max sequence length (learned positions)."""
    seed: int = 0
    """Seed of the base weights."""
    vocab: int = 264
    """Vocabulary size (the byte tokenizer's)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, int) and (v >= 1 or (f.name == "seed" and v >= 0))):
                raise ValueError(f"tiny model {f.name} must be a positive integer, got {v!r}")
        if self.d % self.heads:
            raise ValueError(f"tiny model d={self.d} is not divisible by heads={self.heads}; pick heads dividing d")


def parse_base_model(name: str, vocab: int = 264) -> TinyConfig:
    """"tiny" or "tiny:d=64,layers=2,heads=4,context=1024,seed=0" → TinyConfig; unknown keys raise."""
    if name == "tiny":
        return TinyConfig(vocab=vocab)
    if not name.startswith("tiny:"):
        raise ValueError(f"base model {name!r} is not a tiny model; use 'tiny' or 'tiny:d=64,layers=2,heads=4,context=1024,seed=0'")
    allowed = [f.name for f in fields(TinyConfig) if f.name != "vocab"]
    kw: Dict[str, int] = {}
    for part in filter(None, name[5:].split(",")):
        key, eq, value = part.partition("=")
        key = key.strip()
        if key not in allowed:
            raise ValueError(f"base model {name!r}: unknown key {key!r}; allowed: {', '.join(allowed)}")
        try:
            kw[key] = int(value)
        except ValueError:
            raise ValueError(f"base model {name!r}: {key} must be an integer, got {value!r}") from None
    return TinyConfig(vocab=vocab, **kw)


class LoRALinear(nn.Module):
    """y = W x + b + (alpha / r) · B(A(x)) for the selected policy (PEFT's LoRA math).

    Adapters live in a plain dict (policy id → (A [r, in], B [out, r], scale)), not as registered
    parameters, so `model.parameters()` is the frozen base only and each policy's optimizer sees
    only its own A and B. A is Kaiming-uniform(a=√5) as PEFT, B is zero: a new adapter is the base.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.base = nn.Linear(in_features, out_features, bias=bias)
        self.adapters: Dict[str, Tuple[nn.Parameter, nn.Parameter, float]] = {}

    def add_adapter(self, policy_id: str, r: int, alpha: float, generator: torch.Generator) -> None:
        in_f, out_f = self.base.in_features, self.base.out_features
        # kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + 5)), bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)
        bound = 1.0 / math.sqrt(in_f)
        a = torch.empty(r, in_f).uniform_(-bound, bound, generator=generator)
        dev = self.base.weight.device
        self.adapters[policy_id] = (
            nn.Parameter(a.to(dev)),
            nn.Parameter(torch.zeros(out_f, r, device=dev)),
            float(alpha) / r,
        )

    def forward(self, x: torch.Tensor, policy_id: Optional[str] = None) -> torch.Tensor:
        y = self.base(x)
        ad = self.adapters.get(policy_id) if policy_id is not None else None
        if ad is not None:
            a, b, scale = ad
            y = y + scale * F.linear(F.linear(x, a), b)
        return y


class Attention(nn.Module):
    def __init__(self, cfg: TinyConfig) -> None:
        super().__init__()
        self.heads, self.hd = cfg.heads, cfg.d // cfg.heads
        self.q_proj = LoRALinear(cfg.d, cfg.d)
        self.k_proj = LoRALinear(cfg.d, cfg.d)
        self.v_proj = LoRALinear(cfg.d, cfg.d)
        self.o_proj = LoRALinear(cfg.d, cfg.d)

    def forward(self, x: torch.Tensor, policy_id: Optional[str], cache: Optional[Dict[str, torch.Tensor]],
                key_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        bsz, t, d = x.shape
        q, k, v = (p(x, policy_id).view(bsz, t, self.heads, self.hd).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        past = 0
        if cache is not None:
            if "k" in cache:
                past = cache["k"].shape[2]
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        s = k.shape[2]
        q = (q * (1.0 / math.sqrt(self.hd))).reshape(bsz * self.heads, t, self.hd)
        kt = k.reshape(bsz * self.heads, s, self.hd).transpose(1, 2)
        if key_mask is not None:  # batched generation: left-padded rows, key_mask [B, s] marks real keys
            allowed = key_mask[:, None, :].expand(bsz, t, s)
            if t > 1:
                allowed = allowed & torch.ones(t, s, dtype=torch.bool, device=x.device).tril_(past)
            # Finite, not -inf: a query on a padding position sees no real key and must not turn into NaN.
            bias = torch.zeros(bsz, t, s, device=x.device).masked_fill_(~allowed, -1e30)
            att = torch.baddbmm(bias.repeat_interleave(self.heads, dim=0), q, kt)
        elif t > 1:  # causal: query i (absolute position past + i) sees keys 0..past + i; bias added inside baddbmm
            bias = torch.full((t, s), float("-inf"), device=x.device).triu_(past + 1)
            att = torch.baddbmm(bias, q, kt)
        else:
            att = torch.bmm(q, kt)
        y = torch.bmm(torch.softmax(att, dim=-1), v.reshape(bsz * self.heads, s, self.hd)).view(bsz, self.heads, t, self.hd)
        return self.o_proj(y.transpose(1, 2).reshape(bsz, t, d), policy_id)


class Block(nn.Module):
    def __init__(self, cfg: TinyConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d)
        self.up_proj = LoRALinear(cfg.d, 4 * cfg.d)
        self.down_proj = LoRALinear(4 * cfg.d, cfg.d)

    def forward(self, x: torch.Tensor, policy_id: Optional[str], cache: Optional[Dict[str, torch.Tensor]],
                key_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), policy_id, cache, key_mask)
        return x + self.down_proj(F.gelu(self.up_proj(self.ln2(x), policy_id)), policy_id)


class TinyLM(nn.Module):
    """Decoder-only LM; `forward(ids, policy_id, caches)` → logits [B, T, vocab]."""

    def __init__(self, cfg: TinyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab, cfg.d)
        self.pos_emb = nn.Embedding(cfg.context, cfg.d)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.ln_f = nn.LayerNorm(cfg.d)
        self.lm_head = LoRALinear(cfg.d, cfg.vocab, bias=False)
        g = torch.Generator().manual_seed(cfg.seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias") and "ln" not in name:
                    p.zero_()
                elif "ln" not in name:
                    std = 0.02 / math.sqrt(2 * cfg.layers) if name.endswith(("o_proj.base.weight", "down_proj.base.weight")) else 0.02
                    if name.startswith("lm_head"):
                        std = 1.0 / math.sqrt(cfg.d)  # unit-scale logits: a peaked, LM-like next-token distribution
                    p.copy_(torch.randn(p.shape, generator=g) * std)
        self.requires_grad_(False)

    def lora_layers(self) -> List[Tuple[str, LoRALinear]]:
        """(module path, layer) of every adaptable linear layer, e.g. ("layers.0.attn.q_proj", …)."""
        return [(n, m) for n, m in self.named_modules() if isinstance(m, LoRALinear)]

    def forward(
        self,
        ids: torch.Tensor,
        policy_id: Optional[str] = None,
        caches: Optional[List[Dict[str, torch.Tensor]]] = None,
        positions: Optional[torch.Tensor] = None,
        key_mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """`positions` [B, T] and `key_mask` [B, past + T] serve batched generation over left-padded rows."""
        past = caches[0]["k"].shape[2] if caches and "k" in caches[0] else 0
        t = ids.shape[1]
        if positions is None:
            if past + t > self.cfg.context:
                raise ValueError(f"sequence of {past + t} tokens exceeds the model context {self.cfg.context}; shorten it or raise context")
            pos = self.pos_emb(torch.arange(past, past + t, device=ids.device))[None]
        else:
            if int(positions.max()) >= self.cfg.context:
                raise ValueError(f"position {int(positions.max())} exceeds the model context {self.cfg.context}; shorten the sequence")
            pos = self.pos_emb(positions)
        x = self.tok_emb(ids) + pos
        for i, block in enumerate(self.layers):
            x = block(x, policy_id, caches[i] if caches is not None else None, key_mask)
        return self.lm_head(self.ln_f(x), policy_id)
