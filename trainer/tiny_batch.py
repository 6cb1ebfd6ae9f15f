"""Continuous batching state of the tiny backend: one KV cache for the rows of one policy, left-padded.

Rows join at any decoding step (`add` prefills them together and aligns their caches with the running
ones by left padding), leave at any step (`keep`), and every row keeps its own positions, so each row
computes what it would alone, up to float rounding: padding keys get exactly zero attention weight.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .model import TinyLM


def _left_pad(t: torch.Tensor, width: int, value: float = 0.0) -> torch.Tensor:
    """Pads dim 2 (KV [B, H, S, hd]) or dim 1 (masks [B, S]) on the left by `width`."""
    if width <= 0:
        return t
    dim = 2 if t.dim() == 4 else 1
    shape = list(t.shape)
    shape[dim] = width
    return torch.cat([torch.full(shape, value, dtype=t.dtype, device=t.device), t], dim=dim)


class TinyBatch:
    """The rows being generated for one policy; `add`, `step` and `keep` return or take rows in order."""

    can_join = True
    """New rows may join a running batch (continuous batching)."""

    def __init__(self, model: TinyLM, policy_id: Optional[str], pad_id: int, device: str) -> None:
        self.model, self.policy_id, self.pad_id, self.device = model, policy_id, pad_id, device
        self.caches: List[Dict[str, torch.Tensor]] = []
        self.valid = torch.zeros(0, 0, dtype=torch.bool, device=device)  # [B, S]: real (not padding) keys
        self.next_pos = torch.zeros(0, dtype=torch.long, device=device)  # [B]: position of each row's next token

    @property
    def rows(self) -> int:
        return int(self.next_pos.numel())

    def add(self, items: Sequence[Tuple[Sequence[int], int]]) -> torch.Tensor:
        """Prefills each (prompt, copies) once, joins `copies` rows of it; returns their next-token logits [k, V]."""
        longest = max(len(p) for p, _ in items)
        ids = torch.full((len(items), longest), self.pad_id, dtype=torch.long, device=self.device)
        valid = torch.zeros(len(items), longest, dtype=torch.bool, device=self.device)
        for i, (p, _) in enumerate(items):
            ids[i, longest - len(p):] = torch.tensor(list(p), dtype=torch.long, device=self.device)
            valid[i, longest - len(p):] = True
        positions = (valid.long().cumsum(1) - 1).clamp(min=0)
        caches: List[Dict[str, torch.Tensor]] = [{} for _ in range(self.model.cfg.layers)]
        logits = self.model(ids, self.policy_id, caches, positions=positions, key_mask=valid)[:, -1].float()
        copies = torch.tensor([c for _, c in items], device=self.device)
        logits = logits.repeat_interleave(copies, dim=0)
        valid = valid.repeat_interleave(copies, dim=0)
        lengths = torch.tensor([len(p) for p, _ in items], dtype=torch.long, device=self.device).repeat_interleave(copies)
        for c in caches:
            c["k"], c["v"] = c["k"].repeat_interleave(copies, dim=0), c["v"].repeat_interleave(copies, dim=0)
        if self.rows == 0:
            self.caches, self.valid, self.next_pos = caches, valid, lengths
            return logits
        old, new = self.valid.shape[1], valid.shape[1]
        for mine, theirs in zip(self.caches, caches):
            for key in ("k", "v"):
                mine[key] = torch.cat([_left_pad(mine[key], new - old), _left_pad(theirs[key], old - new)], dim=0)
        self.valid = torch.cat([_left_pad(self.valid, new - old, False), _left_pad(valid, old - new, False)], dim=0)
        self.next_pos = torch.cat([self.next_pos, lengths])
        return logits

    def step(self, tokens: Sequence[int]) -> torch.Tensor:
        """Feeds one token per row; returns the next-token logits [B, V]."""
        ids = torch.tensor(list(tokens), dtype=torch.long, device=self.device)[:, None]
        self.valid = torch.cat([self.valid, torch.ones(self.rows, 1, dtype=torch.bool, device=self.device)], dim=1)
        logits = self.model(ids, self.policy_id, self.caches, positions=self.next_pos[:, None], key_mask=self.valid)
        self.next_pos = self.next_pos + 1
        return logits[:, -1].float()

    def keep(self, rows: Sequence[int]) -> None:
        """Keeps only these rows (in this order), then drops padding columns no row needs any more."""
        idx = torch.tensor(list(rows), dtype=torch.long, device=self.device)
        self.valid, self.next_pos = self.valid.index_select(0, idx), self.next_pos.index_select(0, idx)
        if not rows:
            self.caches = []
            self.valid = torch.zeros(0, 0, dtype=torch.bool, device=self.device)
            return
        used = self.valid.any(0).nonzero()
        start = int(used[0]) if used.numel() else self.valid.shape[1]
        self.valid = self.valid[:, start:]
        for c in self.caches:
            c["k"], c["v"] = c["k"].index_select(0, idx)[:, :, start:], c["v"].index_select(0, idx)[:, :, start:]
