"""Sampling of next tokens for a batch of rows, each with its own sampling parameters and seed.

Shared by both backends' batched generation (batching.py). Each returned logprob is the log-probability
of the sampled id under the *processed* distribution actually sampled from (temperature, top-k, top-p),
reference/trainer-protocol.md §5 "Sampling contract". Rows with equal parameters and no seed are sampled
in one vectorized call; a seeded row draws from its own generator, so its tokens depend only on its seed
(and on float rounding of the batched forward pass, as in vLLM).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .backend import Sampling

GREEDY_BELOW = 1e-5
"""Temperatures below this sample greedily (vLLM's _SAMPLING_EPS): dividing by them overflows the logits."""


class RowError(ValueError):
    """Sampling failed for these rows only; the other rows of the batch are unaffected."""

    def __init__(self, rows: List[int], message: str) -> None:
        super().__init__(message)
        self.rows = rows


def in_vocab(x: torch.Tensor, limit: int) -> torch.Tensor:
    """Models pad their embedding past the tokenizer (Qwen: 151,665 tokens, 151,936 rows): those ids are
    never sampled and never scored, so /v1/train never sees an id the tokenizer cannot decode."""
    return x if limit >= x.size(-1) else x.masked_fill(torch.arange(x.size(-1), device=x.device) >= limit, float("-inf"))


def processed_logprobs(logits: torch.Tensor, s: Sampling, limit: int) -> torch.Tensor:
    """log-softmax of [B, V] logits after temperature, top-k and top-p (temperature > 0)."""
    x = in_vocab(logits.float(), limit)
    if s.temperature != 1.0:
        x = x / s.temperature
    if s.top_k is not None and 0 < s.top_k < x.size(-1):
        kth = torch.topk(x, s.top_k, dim=-1).values[:, -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    if s.top_p < 1.0:
        sorted_x, idx = torch.sort(x, dim=-1, descending=True)
        probs = torch.softmax(sorted_x, dim=-1)
        before = probs.cumsum(dim=-1) - probs  # mass strictly before each token; the first is always kept
        sorted_x = sorted_x.masked_fill(before >= s.top_p, float("-inf"))
        x = torch.full_like(x, float("-inf")).scatter(-1, idx, sorted_x)
    return torch.log_softmax(x, dim=-1)


def sample_rows(logits: torch.Tensor, params: Sequence[Sampling], gens: Sequence[Optional[torch.Generator]],
                shared: Optional[torch.Generator], limit: int) -> Tuple[List[int], List[float]]:
    """One token per row of [B, V] logits: row b uses params[b] and gens[b] (its seed) or `shared`.
    Raises RowError naming the rows whose logits are not finite (a broken model or adapter)."""
    bad = (~torch.isfinite(logits[:, :limit]).all(dim=-1)).nonzero().flatten().tolist()
    if bad:
        raise RowError(bad, "the model's logits hold NaN or infinity")
    n = logits.size(0)
    toks: List[int] = [0] * n
    lps: List[float] = [0.0] * n
    groups: Dict[Tuple[float, float, int], List[int]] = {}
    for b in range(n):
        s = params[b]
        if s.temperature < GREEDY_BELOW:  # greedy: the sampled distribution is a point mass, logprob 0
            toks[b] = int(in_vocab(logits[b : b + 1].float(), limit).argmax(dim=-1))
        elif gens[b] is not None:
            lp = processed_logprobs(logits[b : b + 1], s, limit)
            t = int(torch.multinomial(lp.exp(), 1, generator=gens[b]))
            toks[b], lps[b] = t, float(lp[0, t])
        else:
            groups.setdefault((s.temperature, s.top_p, s.top_k), []).append(b)
    for rows in groups.values():
        idx = torch.tensor(rows, device=logits.device)
        lp = processed_logprobs(logits.index_select(0, idx), params[rows[0]], limit)
        t = torch.multinomial(lp.exp(), 1, generator=shared).squeeze(-1)
        chosen = lp.gather(-1, t[:, None]).squeeze(-1)
        for b, ti, li in zip(rows, t.tolist(), chosen.tolist()):
            toks[b], lps[b] = int(ti), float(li)
    return toks, lps


def row_generator(seed: Optional[int], index: int, device: str = "cpu") -> Optional[torch.Generator]:
    """The generator of sample `index` of a request with `seed`: sample 0 uses the seed itself."""
    if seed is None:
        return None
    g = torch.Generator(device=device)
    g.manual_seed((int(seed) + 1_000_003 * index) % (2**63))
    return g
