"""Protocol records → validated Python values → tensors (STYLE.md §12 `data.py`).

`parse_train_request` checks the shape of a /v1/train body (400 bad_request naming the field path);
`check_tokens` the vocabulary and lengths (422 invalid_tokens); `collate` builds the padded batch.
torch is imported only by `collate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from .errors import ApiError, bad_request


@dataclass
class Sample:
    """One LLM action = one training sample (reference/trainer-protocol.md §3 principle 2)."""

    sample_id: str
    trajectory_id: str
    action_index: int
    policy_version: int
    prompt_token_ids: List[int]
    completion_token_ids: List[int]
    reward: float
    group_id: Optional[str] = None
    behavior_logprobs: Optional[List[float]] = None
    loss_mask: Optional[List[int]] = None
    advantage: Optional[float] = None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def require(body: Dict[str, Any], key: str, kind: str, where: str = "") -> Any:
    """body[key] checked against kind ("str", "int", "num", "bool", "list", "dict"); 400 names the path."""
    path = f"{where}{key}"
    if key not in body or body[key] is None:
        raise bad_request(f"{path} is required")
    return check(body[key], kind, path)


def check(v: Any, kind: str, path: str) -> Any:
    ok = {"str": lambda: isinstance(v, str), "int": lambda: _is_int(v), "num": lambda: _is_num(v),
          "bool": lambda: isinstance(v, bool), "list": lambda: isinstance(v, list), "dict": lambda: isinstance(v, dict)}[kind]()
    if not ok:
        what = {"num": "a finite number", "int": "an integer", "str": "a string", "bool": "true or false",
                "list": "a list", "dict": "an object"}[kind]
        raise bad_request(f"{path} must be {what}, got {type(v).__name__} {str(v)[:40]!r}")
    return v


def int_list(v: Any, path: str) -> List[int]:
    if not (isinstance(v, list) and all(_is_int(x) for x in v)):
        raise bad_request(f"{path} must be a list of integer token ids")
    return v


def parse_train_request(body: Any) -> Dict[str, Any]:
    """{policy_id, expected_version, idempotency_key, step?, total_steps?, samples} with every sample shape-checked."""
    check(body, "dict", "body")
    req = {
        "policy_id": require(body, "policy_id", "str"),
        "expected_version": require(body, "expected_version", "int"),
        "idempotency_key": require(body, "idempotency_key", "str"),
        # The learning-rate schedule's index of this update (the run's training step, from 0) and the
        # steps it spans; without them the policy version and optimizer.total_steps are used.
        "step": None if body.get("step") is None else check(body["step"], "int", "step"),
        "total_steps": None if body.get("total_steps") is None else check(body["total_steps"], "int", "total_steps"),
    }
    for k in ("step", "total_steps"):
        if req[k] is not None and req[k] < 0:
            raise bad_request(f"{k} is {req[k]}; it must be a whole number >= 0")
    raw = require(body, "samples", "list")
    if not raw:
        raise bad_request("samples is empty; send at least one sample")
    samples, seen = [], set()
    allowed = set(Sample.__dataclass_fields__)
    for i, s in enumerate(raw):
        w = f"samples[{i}]."
        check(s, "dict", f"samples[{i}]")
        extra = sorted(set(s) - allowed)
        if extra:
            raise bad_request(f"{w}{extra[0]} is not a sample field; allowed: {', '.join(sorted(allowed))}")
        sample = Sample(
            sample_id=require(s, "sample_id", "str", w),
            trajectory_id=require(s, "trajectory_id", "str", w),
            action_index=require(s, "action_index", "int", w),
            policy_version=require(s, "policy_version", "int", w),
            prompt_token_ids=int_list(require(s, "prompt_token_ids", "list", w), w + "prompt_token_ids"),
            completion_token_ids=int_list(require(s, "completion_token_ids", "list", w), w + "completion_token_ids"),
            reward=float(require(s, "reward", "num", w)),
            group_id=None if s.get("group_id") is None else str(check(s["group_id"], "str", w + "group_id")),
        )
        if sample.sample_id in seen:
            raise bad_request(f"{w}sample_id {sample.sample_id!r} repeats; sample ids must be unique in a batch")
        seen.add(sample.sample_id)
        n = len(sample.completion_token_ids)
        if s.get("behavior_logprobs") is not None:
            b = check(s["behavior_logprobs"], "list", w + "behavior_logprobs")
            if not all(_is_num(x) for x in b) or len(b) != n:
                raise bad_request(f"{w}behavior_logprobs must be {n} numbers, one per completion token; got {len(b)}")
            sample.behavior_logprobs = [float(x) for x in b]
        if s.get("loss_mask") is not None:
            m = check(s["loss_mask"], "list", w + "loss_mask")
            if not all(x in (0, 1) and not isinstance(x, bool) for x in m) or len(m) != n:
                raise bad_request(f"{w}loss_mask must be {n} zeros or ones, one per completion token; got {len(m)} entries")
            sample.loss_mask = list(m)
        if s.get("advantage") is not None:
            sample.advantage = float(check(s["advantage"], "num", w + "advantage"))
        samples.append(sample)
    req["samples"] = samples
    return req


def check_tokens(samples: Sequence[Sample], vocab_size: int, max_context: int) -> None:
    """422 invalid_tokens listing every sample with an id outside [0, vocab), an empty part, or too many tokens."""
    bad: List[str] = []
    reasons: List[str] = []
    for s in samples:
        ids = s.prompt_token_ids + s.completion_token_ids
        why = None
        if not s.prompt_token_ids or not s.completion_token_ids:
            why = "empty prompt or completion"
        elif any(t < 0 or t >= vocab_size for t in ids):
            why = f"token id outside [0, {vocab_size})"
        elif len(ids) > max_context:
            why = f"{len(ids)} tokens exceed the context {max_context}"
        if why:
            bad.append(s.sample_id)
            reasons.append(f"{s.sample_id}: {why}")
    if bad:
        raise ApiError(422, "invalid_tokens", "invalid token ids in samples (" + "; ".join(reasons[:5])
                       + "); send ids from /v1/render or /v1/generate, within the model context", sample_ids=bad)


def collate(samples: Sequence[Sample], pad_id: int, eos_ids: Sequence[int], mask_truncated: bool = False) -> Dict[str, Any]:
    """Right-padded prompt ⊕ completion ids [B, L] and completion-aligned index/mask [B, T].

    `index[i, t]` is the position in `token_logprobs` output ([B, L-1]) of completion token t of sample i.
    """
    import torch

    B = len(samples)
    L = max(len(s.prompt_token_ids) + len(s.completion_token_ids) for s in samples)
    T = max(len(s.completion_token_ids) for s in samples)
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    attn = torch.zeros((B, L), dtype=torch.long)
    index = torch.zeros((B, T), dtype=torch.long)
    mask = torch.zeros((B, T))
    behavior = torch.zeros((B, T))
    has_behavior = torch.zeros(B, dtype=torch.bool)
    truncated = torch.zeros(B, dtype=torch.bool)
    for i, s in enumerate(samples):
        p, c = s.prompt_token_ids, s.completion_token_ids
        ids[i, : len(p) + len(c)] = torch.tensor(p + c)
        attn[i, : len(p) + len(c)] = 1
        index[i, : len(c)] = torch.arange(len(p) - 1, len(p) - 1 + len(c))
        mask[i, : len(c)] = torch.tensor(s.loss_mask, dtype=torch.float) if s.loss_mask is not None else 1.0
        truncated[i] = c[-1] not in eos_ids
        if mask_truncated and truncated[i]:
            mask[i] = 0.0
        if s.behavior_logprobs is not None:
            behavior[i, : len(c)] = torch.tensor(s.behavior_logprobs)
            has_behavior[i] = True
    return {"input_ids": ids, "attention_mask": attn, "index": index, "mask": mask, "behavior": behavior,
            "has_behavior": has_behavior, "truncated": truncated,
            "rewards": torch.tensor([s.reward for s in samples], dtype=torch.float),
            "group_ids": [s.group_id for s in samples], "advantages": [s.advantage for s in samples]}
