"""The `tiny` backend ("local-torch"): the Backend protocol of backend.py on model.TinyLM + the byte tokenizer.

Generation and training share one fp32 module in eval mode (there is no dropout), so the logprob of a
sampled token equals `token_logprobs` recomputed on prompt ⊕ completion within float error
(reference/trainer-protocol.md §5, "Sampling contract"). Generation is batched (batching.py, tiny_batch.py)
over a left-padded KV cache.
"""

from __future__ import annotations

import zlib
from typing import Any, Dict, List, Optional, Sequence

import torch

from .backend import AdapterConfig, Generation, Sampling
from .batching import generate_once
from .model import DEFAULT_TARGETS, LINEAR_NAMES, TinyLM, parse_base_model
from .tiny_batch import TinyBatch
from .tokenizer import ByteTokenizer


class TinyBackend:
    """One TinyLM base with a LoRA adapter per policy."""

    name = "local-torch"
    batch_can_join = True
    """Generation batches admit new rows at any decoding step (tiny_batch.py)."""
    thread_safe = True
    """Policies may run concurrently: adapters are separate tensors and forward passes keep no state."""

    def __init__(self, base_model: str = "tiny", device: str = "cpu", seed: int = 0) -> None:
        self.tokenizer = ByteTokenizer()
        self.cfg = parse_base_model(base_model, vocab=self.tokenizer.vocab_size)
        self.base_model = base_model
        self.device = device
        self.seed = seed
        self.max_context = self.cfg.context
        self.model = TinyLM(self.cfg).to(device).eval()
        self._configs: Dict[str, AdapterConfig] = {}

    # -- policies ---------------------------------------------------------------------------------

    def create_policy(self, policy_id: str, adapter: AdapterConfig) -> None:
        targets = tuple(adapter.target_modules) or DEFAULT_TARGETS
        unknown = [t for t in targets if t not in LINEAR_NAMES]
        if unknown:
            raise ValueError(f"adapter.target_modules {unknown} are not modules of the tiny model; use some of {list(LINEAR_NAMES)}")
        if policy_id in self._configs:
            raise ValueError(f"policy {policy_id!r} already has an adapter; delete it first")
        # The A init depends only on (server seed, policy id), so a restarted server rebuilds the same adapter.
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + zlib.crc32(policy_id.encode())) % (2**63))
        for path, layer in self.model.lora_layers():
            if path.rsplit(".", 1)[-1] in targets:
                layer.add_adapter(policy_id, adapter.r, adapter.alpha, g)
        self._configs[policy_id] = AdapterConfig(adapter.r, adapter.alpha, targets, adapter.init_from)

    def delete_policy(self, policy_id: str) -> None:
        for _, layer in self.model.lora_layers():
            layer.adapters.pop(policy_id, None)
        self._configs.pop(policy_id, None)

    def has_policy(self, policy_id: str) -> bool:
        return policy_id in self._configs

    def named_trainable_parameters(self, policy_id: str) -> List[tuple]:
        """(PEFT key, parameter) of this policy's adapter, in a fixed order."""
        self._require(policy_id)
        out = []
        for path, layer in self.model.lora_layers():
            ad = layer.adapters.get(policy_id)
            if ad is not None:
                out.append((f"base_model.model.{path}.lora_A.weight", ad[0]))
                out.append((f"base_model.model.{path}.lora_B.weight", ad[1]))
        return out

    def trainable_parameters(self, policy_id: str) -> List[Any]:
        return [p for _, p in self.named_trainable_parameters(policy_id)]

    def adapter_state(self, policy_id: str) -> Dict[str, Any]:
        return {k: p.detach().cpu().clone() for k, p in self.named_trainable_parameters(policy_id)}

    def load_adapter_state(self, policy_id: str, state: Dict[str, Any]) -> None:
        params = dict(self.named_trainable_parameters(policy_id))
        missing, unexpected = sorted(set(params) - set(state)), sorted(set(state) - set(params))
        if missing or unexpected:
            raise ValueError(f"adapter state for {policy_id!r} does not match its config: missing {missing[:4]}, unexpected {unexpected[:4]}; "
                             "create the policy with the checkpoint's adapter config")
        with torch.no_grad():
            for k, p in params.items():
                if tuple(state[k].shape) != tuple(p.shape):
                    raise ValueError(f"adapter tensor {k} has shape {tuple(state[k].shape)}, the policy expects {tuple(p.shape)}; check adapter.r")
                p.copy_(state[k].to(p.device, torch.float32))

    def peft_config(self, policy_id: str) -> Dict[str, Any]:
        cfg = self._require(policy_id)
        return {
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "r": cfg.r,
            "lora_alpha": cfg.alpha,
            "lora_dropout": 0.0,
            "target_modules": list(cfg.target_modules),
            "bias": "none",
            "fan_in_fan_out": False,
            "inference_mode": True,
            "base_model_name_or_path": self.base_model,
        }

    def prepare_optimizer(self, optimizer: Any) -> Any:
        return optimizer

    def backward(self, loss: Any) -> None:
        loss.backward()

    def _require(self, policy_id: str) -> AdapterConfig:
        if policy_id not in self._configs:
            raise KeyError(f"unknown policy {policy_id!r}")
        return self._configs[policy_id]

    # -- compute ----------------------------------------------------------------------------------

    def token_logprobs(self, policy_id: Optional[str], input_ids: Any, attention_mask: Any) -> Any:
        ids = input_ids.to(self.device)
        logits = self.model(ids, policy_id)[:, :-1].float()
        logp = torch.log_softmax(logits, dim=-1)
        return logp.gather(-1, ids[:, 1:, None]).squeeze(-1)

    def token_logprobs_entropy(self, policy_id: Optional[str], input_ids: Any, attention_mask: Any) -> Any:
        """(`token_logprobs`, the entropy of each position's next-token distribution), both [B, L-1]."""
        ids = input_ids.to(self.device)
        logp = torch.log_softmax(self.model(ids, policy_id)[:, :-1].float(), dim=-1)
        return logp.gather(-1, ids[:, 1:, None]).squeeze(-1), -(logp.exp() * logp).sum(-1)

    def open_batch(self, policy_id: Optional[str]) -> TinyBatch:
        """A continuous batch of rows generated by `policy_id` (batching.py drives it)."""
        if policy_id is not None:
            self._require(policy_id)
        return TinyBatch(self.model, policy_id, self.tokenizer.pad_token_id, self.device)

    def generate(self, policy_id: Optional[str], prompt_ids: Sequence[int], sampling: Sampling, n: int = 1) -> List[Generation]:
        prompt = list(prompt_ids)
        if not prompt or len(prompt) >= self.max_context:
            raise ValueError(f"prompt has {len(prompt)} tokens; it must have 1..{self.max_context - 1} (the model context is {self.max_context})")
        if policy_id is not None:
            self._require(policy_id)
        return generate_once(self, policy_id, prompt, sampling, n)
