"""Configuration dataclasses of the trainer service (STYLE.md §12: one docstring per field, unknown keys rejected).

`PolicyConfig` is the body of `PUT /v1/policies/{id}` (reference/trainer-protocol.md §4); `ServerConfig`
is the command line of `python -m trainer serve`. No torch import.
"""

from __future__ import annotations

import math

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from .backend import AdapterConfig


ALGORITHMS = ("reinforce_pp", "reinforce_pp_baseline", "grpo")
KL_ESTIMATORS = ("k1", "k2", "k3")


def _check_keys(cls: type, data: Any, where: str) -> Dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(data).__name__}")
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in allowed:
            raise ValueError(f"{where}.{key} is not a known field; allowed: {', '.join(allowed)}")
    return data


def _pair(value: Any, where: str) -> Tuple[float, float]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_num(v) for v in value)):
        raise ValueError(f"{where} must be a pair of numbers [low, high], got {value!r}")
    return (float(value[0]), float(value[1]))


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def adapter_from_dict(data: Any, where: str = "adapter") -> AdapterConfig:
    """An `AdapterConfig` from JSON; `target_modules` becomes a tuple."""
    data = dict(_check_keys(AdapterConfig, data, where))
    if "target_modules" in data:
        tm = data["target_modules"]
        if not (isinstance(tm, list) and all(isinstance(t, str) for t in tm)):
            raise ValueError(f"{where}.target_modules must be a list of module names, got {tm!r}")
        data["target_modules"] = tuple(tm)
    cfg = AdapterConfig(**data)
    if not (isinstance(cfg.r, int) and not isinstance(cfg.r, bool) and cfg.r >= 1):
        raise ValueError(f"{where}.r must be an integer >= 1, got {cfg.r!r}")
    if not (_is_num(cfg.alpha) and cfg.alpha > 0):
        raise ValueError(f"{where}.alpha must be a positive number, got {cfg.alpha!r}")
    if cfg.init_from is not None and not isinstance(cfg.init_from, str):
        raise ValueError(f"{where}.init_from must be a PEFT adapter directory path, got {cfg.init_from!r}")
    return cfg


@dataclass(frozen=True)
class OptimizerConfig:
    """AdamW settings; one optimizer per policy."""

    lr: float = 1e-4
    """Learning rate of the LoRA parameters."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay."""
    grad_clip: float = 1.0
    """Max global grad norm per update; 0 disables clipping."""
    betas: Tuple[float, float] = (0.9, 0.999)
    """AdamW betas."""
    schedule: str = "constant"
    """Learning rate over the run's training steps (one /train call each, indexed by the request's `step`, else
    by the policy version): "constant" or "cosine" (decays from lr to min_lr_ratio * lr at step total_steps - 1,
    as transformers' cosine_with_min_lr but reaching the floor on the last step)."""
    warmup_steps: int = 0
    """Updates over which the learning rate ramps up linearly to lr first."""
    total_steps: int = 0
    """Updates the cosine schedule spans (required for "cosine"): the run's training steps."""
    min_lr_ratio: float = 0.0
    """Floor of the cosine schedule, as a fraction of lr (MAPPA: 0.1)."""

    def __post_init__(self) -> None:
        if not (_is_num(self.lr) and self.lr > 0):
            raise ValueError(f"optimizer.lr must be a positive number, got {self.lr!r}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"optimizer.schedule must be \"constant\" or \"cosine\", got {self.schedule!r}")
        for name in ("warmup_steps", "total_steps"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                raise ValueError(f"optimizer.{name} must be a whole number >= 0, got {v!r}")
        if self.schedule == "cosine" and self.total_steps < 1:
            raise ValueError("optimizer.schedule \"cosine\" needs optimizer.total_steps >= 1 (the updates it spans)")
        if not (_is_num(self.min_lr_ratio) and 0 <= self.min_lr_ratio <= 1):
            raise ValueError(f"optimizer.min_lr_ratio must lie in [0, 1], got {self.min_lr_ratio!r}")
        if not (_is_num(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"optimizer.weight_decay must be >= 0, got {self.weight_decay!r}")
        if not (_is_num(self.grad_clip) and self.grad_clip >= 0):
            raise ValueError(f"optimizer.grad_clip must be >= 0 (0 disables), got {self.grad_clip!r}")
        b = _pair(self.betas, "optimizer.betas")
        if not (0 <= b[0] < 1 and 0 <= b[1] < 1):
            raise ValueError(f"optimizer.betas must lie in [0, 1), got {list(b)}")
        object.__setattr__(self, "betas", b)

    @classmethod
    def from_dict(cls, data: Any, where: str = "optimizer") -> "OptimizerConfig":
        return cls(**_check_keys(cls, data, where))

    def lr_at(self, update: int, total_steps: Optional[int] = None) -> float:
        """The learning rate of update `update`: the run's training step from 0 (the /train request's `step`),
        or the policy version where the client sends none. Cosine reaches min_lr_ratio * lr at the last
        update, `total_steps - 1` (`total_steps` overrides the configured span)."""
        total = self.total_steps if total_steps is None else total_steps
        if update < self.warmup_steps:
            return self.lr * (update + 1) / self.warmup_steps
        if self.schedule == "constant":
            return self.lr
        span = max(1, total - 1 - self.warmup_steps)
        progress = min(1.0, max(0.0, (update - self.warmup_steps) / span))
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.lr * (self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cosine)


@dataclass(frozen=True)
class AlgoConfig:
    """Per-action REINFORCE++ settings (reference/trainer-protocol.md §5)."""

    name: str = "reinforce_pp"
    """"reinforce_pp", "reinforce_pp_baseline" (subtract the group mean reward) or "grpo" ((R - mean) / (std + 1e-9) per group)."""
    kl_coef: float = 0.01
    """beta: weight of the per-token KL to the base model in the reward."""
    kl_estimator: str = "k1"
    """"k1" (log ratio), "k2" (x^2/2) or "k3" (exp(-x) - 1 + x)."""
    clip_eps: Tuple[float, float] = (0.2, 0.2)
    """[eps_low, eps_high] of the PPO ratio clip."""
    reward_clip: Tuple[float, float] = (-10.0, 10.0)
    """[low, high] clip of the scalar reward R."""
    gamma: float = 1.0
    """Discount of the per-token cumulative return."""
    ppo_epochs: int = 1
    """Passes over the batch per /train call."""
    minibatch_size: Optional[int] = None
    """Samples per update; None means the whole batch (one update per epoch)."""
    no_std_norm: bool = False
    """Skip the division by the global std (keep the mean subtraction)."""
    mask_truncated: bool = False
    """Drop samples whose completion does not end in EOS from the loss."""
    strict_on_policy: bool = True
    """Reject samples whose policy_version differs from expected_version (422 stale_samples)."""
    seed: Optional[int] = None
    """Seed of the minibatch shuffle (combined with the version); None uses the version alone."""
    micro_batch_tokens: int = 4096
    """Padded tokens per forward/backward chunk; gradients accumulate over chunks, so the math is unchanged."""

    def __post_init__(self) -> None:
        if self.name not in ALGORITHMS:
            raise ValueError(f"algo.name is {self.name!r}; use one of {', '.join(ALGORITHMS)}")
        if self.kl_estimator not in KL_ESTIMATORS:
            raise ValueError(f"algo.kl_estimator is {self.kl_estimator!r}; use one of {', '.join(KL_ESTIMATORS)}")
        if not (_is_num(self.kl_coef) and self.kl_coef >= 0):
            raise ValueError(f"algo.kl_coef must be >= 0, got {self.kl_coef!r}")
        ce = _pair(self.clip_eps, "algo.clip_eps")
        if not (0 <= ce[0] < 1 and ce[1] >= 0):
            raise ValueError(f"algo.clip_eps must be [low in [0,1), high >= 0], got {list(ce)}")
        rc = _pair(self.reward_clip, "algo.reward_clip")
        if rc[0] > rc[1]:
            raise ValueError(f"algo.reward_clip low {rc[0]} exceeds high {rc[1]}; pass [low, high]")
        object.__setattr__(self, "clip_eps", ce)
        object.__setattr__(self, "reward_clip", rc)
        if not (_is_num(self.gamma) and 0 <= self.gamma <= 1):
            raise ValueError(f"algo.gamma must lie in [0, 1], got {self.gamma!r}")
        if not (isinstance(self.ppo_epochs, int) and not isinstance(self.ppo_epochs, bool) and self.ppo_epochs >= 1):
            raise ValueError(f"algo.ppo_epochs must be an integer >= 1, got {self.ppo_epochs!r}")
        mb = self.minibatch_size
        if mb is not None and not (isinstance(mb, int) and not isinstance(mb, bool) and mb >= 1):
            raise ValueError(f"algo.minibatch_size must be an integer >= 1 or null (whole batch), got {mb!r}")
        if self.seed is not None and not (isinstance(self.seed, int) and not isinstance(self.seed, bool)):
            raise ValueError(f"algo.seed must be an integer or null, got {self.seed!r}")
        mbt = self.micro_batch_tokens
        if not (isinstance(mbt, int) and not isinstance(mbt, bool) and mbt >= 1):
            raise ValueError(f"algo.micro_batch_tokens must be an integer >= 1, got {mbt!r}")
        for name in ("no_std_norm", "mask_truncated", "strict_on_policy"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"algo.{name} must be true or false, got {getattr(self, name)!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str = "algo") -> "AlgoConfig":
        return cls(**_check_keys(cls, data, where))


@dataclass(frozen=True)
class PolicyConfig:
    """Everything `PUT /v1/policies/{id}` sets; missing fields take the defaults above."""

    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    """LoRA rank, alpha, target modules and optional initial adapter."""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    """AdamW settings."""
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    """The RL algorithm and its knobs."""

    @classmethod
    def from_dict(cls, data: Any) -> "PolicyConfig":
        data = _check_keys(cls, {} if data is None else data, "body")
        return cls(
            adapter=adapter_from_dict(data.get("adapter") or {}),
            optimizer=OptimizerConfig.from_dict(data.get("optimizer") or {}),
            algo=AlgoConfig.from_dict(data.get("algo") or {}),
        )

    @classmethod
    def from_json(cls, path: str) -> "PolicyConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> Dict[str, Any]:
        """Plain JSON (tuples become lists), so equal configs compare equal after a round trip."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass(frozen=True)
class ServerConfig:
    """The command line of `python -m trainer serve`."""

    host: str = "127.0.0.1"
    """Interface to bind; loopback by default."""
    port: int = 0
    """TCP port; 0 picks a free one (written to port_file)."""
    port_file: Optional[str] = None
    """Where the bound port is written (temp file + rename) once the server listens."""
    backend: str = "tiny"
    """"tiny" (pure torch, CPU) or "hf" (transformers + peft, GPU)."""
    base_model: str = "tiny"
    """Base model name: "tiny", "tiny:d=64,layers=2,heads=4,context=1024,seed=0", or an HF id for the hf backend."""
    out: str = "runs/trainer"
    """Output directory: policies/<id>/v<k>/ checkpoints and metrics.jsonl."""
    seed: int = 0
    """Seeds random, numpy and torch once at start; LoRA A init derives from it and the policy id."""
    device: str = "cpu"
    """Torch device of the backend."""
    max_policies: int = 16
    """Most policies (adapters) held at once."""
    max_lora_rank: int = 64
    """Largest adapter rank a PUT may ask for."""
    retry_after_s: int = 1
    """Retry-After seconds sent with 503 policy_training."""
    threads: int = 0
    """torch.set_num_threads; 0 keeps torch's default."""
    max_batch_rows: int = 64
    """Most sequences one policy's generation batch holds at once (trainer/batching.py); more requests queue."""
    dist_timeout_s: float = 600.0
    """Under torchrun / accelerate launch: seconds a collective waits for the other ranks before the update fails
    (a rank that dies is noticed at once; this bounds one that hangs). Longer than one minibatch's forward/backward."""
    rank_state_dir: Optional[str] = None
    """Debugging aid under torchrun: after each command, rank k >= 1 writes its policies' state to <dir>/rank<k>.pt."""

    def __post_init__(self) -> None:
        if self.backend not in ("tiny", "hf"):
            raise ValueError(f"backend is {self.backend!r}; use 'tiny' or 'hf'")
        if not (_is_num(self.dist_timeout_s) and self.dist_timeout_s > 0):
            raise ValueError(f"dist_timeout_s must be a positive number of seconds, got {self.dist_timeout_s!r}")
        if not (isinstance(self.port, int) and 0 <= self.port < 65536):
            raise ValueError(f"port must be 0..65535, got {self.port!r}")
        if not (isinstance(self.max_batch_rows, int) and self.max_batch_rows >= 1):
            raise ValueError(f"max_batch_rows must be an integer >= 1, got {self.max_batch_rows!r}")
        if self.max_policies < 1 or self.max_lora_rank < 1:
            raise ValueError(f"max_policies and max_lora_rank must be >= 1, got {self.max_policies}, {self.max_lora_rank}")

    @classmethod
    def from_dict(cls, data: Any) -> "ServerConfig":
        return cls(**_check_keys(cls, data, "server config"))

    @classmethod
    def from_json(cls, path: str) -> "ServerConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))
