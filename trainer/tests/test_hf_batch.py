"""hf_batch.py on CPU: the hf backend's batch driven by the scheduler, with the model behind transformers'
calling convention (input_ids, 2-D attention_mask over past + new tokens, explicit position_ids,
past_key_values, logits_to_keep) emulated on the tiny model, so padding, positions and rows that finish
early are checked without transformers. The real model runs only on a GPU (gpu_check, gpu_scale_check)."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import torch

from trainer.backend import AdapterConfig, Sampling
from trainer.batching import Scheduler
from trainer.hf_batch import HFBatch
from trainer.sampling import processed_logprobs
from trainer.tiny_backend import TinyBackend


class _HFLikeModel:
    """transformers' causal-LM call on TinyLM: the KV cache is the returned `past_key_values` object."""

    def __init__(self, tiny: TinyBackend, calls: List[Dict[str, Any]]) -> None:
        self.tiny, self.calls = tiny, calls
        self.policy: Optional[str] = None

    def eval(self) -> None:
        pass

    def __call__(self, input_ids, attention_mask, position_ids, use_cache, past_key_values=None, logits_to_keep=0):
        assert use_cache and attention_mask.shape[1] == input_ids.shape[1] + (
            0 if past_key_values is None else past_key_values[0]["k"].shape[2])
        self.calls.append({"rows": input_ids.shape[0], "keep": logits_to_keep})
        caches = past_key_values if past_key_values is not None else [{} for _ in range(self.tiny.cfg.layers)]
        logits = self.tiny.model(input_ids, self.policy, caches, positions=position_ids, key_mask=attention_mask.bool())
        if logits_to_keep:
            logits = logits[:, -logits_to_keep:]
        return SimpleNamespace(logits=logits, past_key_values=caches)


class _HFLikeBackend:
    """The members of HFBackend that hf_batch.py uses, around the emulated model."""

    def __init__(self) -> None:
        self.tiny = TinyBackend("tiny", seed=0)
        self.tiny.create_policy("p", AdapterConfig(r=4))
        with torch.no_grad():
            for prm in self.tiny.trainable_parameters("p"):
                prm.add_(torch.randn(prm.shape, generator=torch.Generator().manual_seed(3)) * 0.05)
        self.calls: List[Dict[str, Any]] = []
        self.net = _HFLikeModel(self.tiny, self.calls)
        self.tokenizer, self.device, self.max_context = self.tiny.tokenizer, "cpu", self.tiny.max_context
        self._dev, self._keep_kw = torch.device("cpu"), "logits_to_keep"

    def _activate(self, policy_id: str) -> None:
        self.net.policy = policy_id

    @contextlib.contextmanager
    def _reference(self):
        self.net.policy = None
        yield

    def _net(self) -> Any:
        return self.net

    def open_batch(self, policy_id: Optional[str]) -> HFBatch:
        return HFBatch(self, policy_id)


def test_hf_batches_rows_of_different_lengths_exactly_and_new_requests_wait_for_the_next_batch():
    be = _HFLikeBackend()
    sched = Scheduler(be, seed=0)
    prompts = [be.tokenizer.encode("y" * k) for k in (1, 7, 30, 3)]
    params = [Sampling(max_tokens=m, seed=i) for i, m in enumerate((5, 40, 12, 25))]
    try:
        tickets = [sched.submit("p" if i < 3 else None, p, s, n=1 + (i == 1)) for i, (p, s) in enumerate(zip(prompts, params))]
        outs = [t.wait(60) for t in tickets]
    finally:
        sched.close()
    for i, (prompt, s, gens) in enumerate(zip(prompts, params, outs)):
        assert gens is not None and len(gens) == 1 + (i == 1)
        policy = "p" if i < 3 else None
        for g in gens:
            x = torch.tensor([prompt + g.token_ids])
            with torch.no_grad():
                logits = be.tiny.model(x, policy)[0, len(prompt) - 1: -1]
            want = processed_logprobs(logits, s, be.tokenizer.vocab_size).gather(-1, torch.tensor(g.token_ids)[:, None])
            assert max(abs(a - b) for a, b in zip(g.logprobs, want.squeeze(-1).tolist())) < 1e-5
    prefills = [c for c in be.calls if c["keep"] == 1]
    assert prefills and all(c["keep"] == 1 for c in prefills), "a prefill asks for the last position's logits only"
    # Batches never grow after their prefill: every decode call has as many rows as its batch's prefill.
    assert {c["rows"] for c in be.calls if c["keep"] == 0} <= {c["rows"] for c in prefills}
