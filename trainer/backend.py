"""The seam between the trainer service and a model implementation (reference/trainer-protocol.md §6).

A backend holds one frozen base model and, per policy, one LoRA adapter on it. Everything the
service, the algorithm and the checkpoints need goes through this protocol, so the `tiny` backend
(pure torch, CPU) and the `hf` backend (transformers + peft, GPU) are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple


@dataclass(frozen=True)
class AdapterConfig:
    """LoRA settings of one policy; the names follow PEFT's `LoraConfig`."""

    r: int = 16
    """Rank of the LoRA matrices."""
    alpha: float = 32.0
    """Scaling numerator: the delta is (alpha / r) * B(A(x))."""
    target_modules: Tuple[str, ...] = ()
    """Module names to adapt; empty means the backend's default set."""
    init_from: Optional[str] = None
    """A PEFT adapter directory to start from instead of B = 0."""


@dataclass(frozen=True)
class Sampling:
    """How one generation samples; the training contract is temperature 1, top_p 1, top_k -1."""

    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    stop_token_ids: Tuple[int, ...] = ()
    seed: Optional[int] = None


@dataclass
class Generation:
    """One sampled completion: its ids, the logprob of each id under the sampling distribution, why it ended."""

    token_ids: List[int]
    logprobs: List[float]
    finish_reason: str  # "stop" | "length"
    text: str = ""


class Tokenizer(Protocol):
    """Owns the vocabulary and the chat template (principle 1: the trainer renders, the runtime never tokenizes)."""

    vocab_size: int
    eos_token_ids: List[int]
    pad_token_id: int
    chat_template_sha256: str

    def encode(self, text: str) -> List[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def render(
        self,
        messages: Sequence[Dict[str, Any]],
        tools: Optional[Sequence[Dict[str, Any]]] = None,
        add_generation_prompt: bool = True,
    ) -> List[int]: ...


class Backend(Protocol):
    """One base model with named LoRA adapters; `policy_id=None` means the base with every adapter off."""

    name: str
    """Reported by /v1/info as `backend`: "local-torch" or "hf-peft"."""
    base_model: str
    tokenizer: Tokenizer
    max_context: int
    device: str

    def create_policy(self, policy_id: str, adapter: AdapterConfig) -> None:
        """Adds an adapter whose B is zero, so the new policy equals the base exactly."""

    def has_policy(self, policy_id: str) -> bool: ...

    def trainable_parameters(self, policy_id: str) -> List[Any]:
        """The torch parameters of this policy's adapter, and nothing else."""

    def token_logprobs(
        self, policy_id: Optional[str], input_ids: Any, attention_mask: Any
    ) -> Any:
        """log p(input_ids[:, t] | input_ids[:, :t]) for t >= 1, shape [B, L-1], float32, with grad when training.

        `input_ids` is a right-padded LongTensor [B, L]; `attention_mask` its 0/1 mask.
        """

    def generate(
        self, policy_id: str, prompt_ids: Sequence[int], sampling: Sampling, n: int = 1
    ) -> List[Generation]:
        """Samples n completions; each logprob is of the sampled id under the (temperature-scaled,
        truncated) distribution actually sampled from."""

    def adapter_state(self, policy_id: str) -> Dict[str, Any]:
        """The adapter's tensors under PEFT key names (`base_model.model.<path>.lora_A.weight`), on CPU."""

    def load_adapter_state(self, policy_id: str, state: Dict[str, Any]) -> None: ...

    def prepare_optimizer(self, optimizer: Any) -> Any:
        """Returns the optimizer to step (the hf backend wraps it with `accelerate.Accelerator.prepare`)."""

    def backward(self, loss: Any) -> None:
        """`loss.backward()`, or `accelerator.backward(loss)` under accelerate."""

    def peft_config(self, policy_id: str) -> Dict[str, Any]:
        """The `adapter_config.json` content: r, lora_alpha, target_modules, bias "none", peft_type "LORA", …"""


@dataclass
class BackendInfo:
    """What /v1/info reports of a backend."""

    name: str
    base_model: str
    extra: Dict[str, Any] = field(default_factory=dict)
