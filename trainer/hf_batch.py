"""Dynamic batching state of the hf backend: the rows of one policy prefilled together, left-padded.

transformers' cache objects change shape and API across versions, so rows are not cut in or out of a
running cache: a batch is filled once (`can_join` False; later requests wait for the next batch of their
policy), and a finished row stays in the cache, fed padding, until the batch ends. Positions are passed
explicitly (`position_ids`), so a left-padded row sees the positions it would see alone.
"""

from __future__ import annotations

import contextlib
from typing import Any, List, Optional, Sequence, Tuple

import torch


class HFBatch:
    can_join = False

    def __init__(self, backend: Any, policy_id: Optional[str]) -> None:
        self.backend, self.policy_id = backend, policy_id
        self.past: Any = None
        self.mask: Optional[torch.Tensor] = None
        self.next_pos: Optional[torch.Tensor] = None
        self.alive: List[int] = []  # physical rows still generating, in the scheduler's order

    @property
    def rows(self) -> int:
        return len(self.alive)

    def _forward(self, **kw: Any) -> torch.Tensor:
        be = self.backend
        if self.policy_id is None:
            ctx: Any = be._reference()  # noqa: SLF001 - the backend's own batch
        else:
            be._activate(self.policy_id)  # noqa: SLF001
            ctx = contextlib.nullcontext()
        net = be._net()  # noqa: SLF001
        net.eval()
        with ctx:
            out = net(use_cache=True, **kw)
        self.past = out.past_key_values
        return out.logits[:, -1, :].float()

    def add(self, items: Sequence[Tuple[Sequence[int], int]]) -> torch.Tensor:
        if self.mask is not None:
            raise RuntimeError("an hf batch is filled once; new rows wait for the next batch")
        dev = self.backend._dev  # noqa: SLF001
        prompts = [list(p) for p, copies in items for _ in range(copies)]
        longest = max(len(p) for p in prompts)
        pad = self.backend.tokenizer.pad_token_id
        ids = torch.full((len(prompts), longest), pad, dtype=torch.long, device=dev)
        mask = torch.zeros_like(ids)
        for i, p in enumerate(prompts):
            ids[i, longest - len(p):] = torch.tensor(p, dtype=torch.long, device=dev)
            mask[i, longest - len(p):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        keep = self.backend._keep_kw  # noqa: SLF001
        logits = self._forward(input_ids=ids, attention_mask=mask, position_ids=positions, **({keep: 1} if keep else {}))
        self.mask, self.next_pos = mask, mask.sum(-1)
        self.alive = list(range(len(prompts)))
        return logits

    def step(self, tokens: Sequence[int]) -> torch.Tensor:
        assert self.mask is not None and self.next_pos is not None
        dev = self.mask.device
        full = torch.full((self.mask.size(0),), self.backend.tokenizer.pad_token_id, dtype=torch.long, device=dev)
        full[torch.tensor(self.alive, device=dev)] = torch.tensor(list(tokens), dtype=torch.long, device=dev)
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.size(0), 1))], dim=1)
        logits = self._forward(input_ids=full[:, None], attention_mask=self.mask, position_ids=self.next_pos[:, None],
                               past_key_values=self.past)
        # Only live rows advance: a finished row's position stays put, so it never runs past the context
        # (absolute position embeddings) nor raises the batch's max position (dynamic RoPE scaling).
        alive = torch.zeros_like(self.next_pos)
        alive[torch.tensor(self.alive, device=dev)] = 1
        self.next_pos = self.next_pos + alive
        return logits.index_select(0, torch.tensor(self.alive, device=dev))

    def keep(self, rows: Sequence[int]) -> None:
        self.alive = [self.alive[i] for i in rows]
        if not self.alive:
            self.past = None
