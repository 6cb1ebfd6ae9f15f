"""One /v1/train call for one policy, top to bottom (STYLE.md §12; reference/trainer-protocol.md §5).

config → (seed: once per process, `seed_everything`) → data (`data.collate`) → model (the backend, the
policy's adapter) → optimizer (one AdamW per policy, `make_optimizer`) → loop (`train_step`:
ppo_epochs × minibatches) → checkpoint (policies.py publishes v+1). `train_step` is a generator: it
yields progress dicts, then one {"type": "metrics"} dict; the caller streams them as NDJSON.

Data parallel (distributed.py): with a process group, every rank runs `train_step` on the whole batch but
computes forward/backward only on its token-balanced shard of the rows; losses are weighted by the whole
minibatch's token count and the gradients summed over the ranks before clipping, so the update is the
one-process update. With one process (`SINGLE`) the sharding and the sums do nothing.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch

from .algorithm import compute_advantages, masked_stats, policy_loss, shape_rewards
from .config import PolicyConfig
from .data import Sample, collate
from .distributed import SINGLE, Single
from .errors import ApiError, bad_request


def seed_everything(seed: int) -> None:
    """The one seeding block (cleanrl `ppo.py`): random, numpy, torch, cudnn determinism."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def make_optimizer(backend: Any, policy_id: str, cfg: PolicyConfig) -> torch.optim.Optimizer:
    """AdamW over this policy's adapter only (prepared by the backend, e.g. accelerate on GPU)."""
    o = cfg.optimizer
    opt = torch.optim.AdamW(backend.trainable_parameters(policy_id), lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)
    return backend.prepare_optimizer(opt)


def check_signal(samples: Sequence[Sample], cfg: PolicyConfig, eos_ids: Sequence[int]) -> None:
    """422 no_signal when nothing could move the policy: every sample is masked out (truncated under
    algo.mask_truncated, or loss_mask all 0). Raises 400 for group errors (a group with < 2 samples).

    A batch whose rewards are all equal is trained, as OpenRLHF does: once centred its reward term is
    zero, but the KL penalty in the per-token reward still pulls the policy toward the reference, so a
    role that fails every sample drifts back toward the base model instead of freezing where it failed.
    """
    a = cfg.algo
    live = [s for s in samples if not (a.mask_truncated and s.completion_token_ids[-1] not in eos_ids)
            and (s.loss_mask is None or any(s.loss_mask))]
    if not live:
        raise ApiError(422, "no_signal", "every sample is masked out (all truncated with algo.mask_truncated, or loss_mask all 0); "
                       "send samples with trainable tokens")
    try:
        shape_rewards(torch.tensor([s.reward for s in samples]), a.name, [s.group_id for s in samples])
    except ValueError as e:
        raise bad_request(f"samples: {e}") from None


def rewards_differ(samples: Sequence[Sample], cfg: PolicyConfig, mask: torch.Tensor) -> bool:
    """Whether the trainable samples carry a reward signal (shaped, clipped rewards that differ, or a
    non-zero advantage override); False means only the KL term acts (metric `kl_only`)."""
    a = cfg.algo
    shaped = shape_rewards(torch.tensor([s.reward for s in samples]), a.name, [s.group_id for s in samples])
    shaped = shaped.clamp(a.reward_clip[0], a.reward_clip[1])
    live = [i for i in range(len(samples)) if float(mask[i].sum()) > 0]
    rewards = {float(shaped[i]) for i in live if samples[i].advantage is None}
    return any(samples[i].advantage not in (None, 0.0) for i in live) or len(rewards) > 1


def train_step(backend: Any, policy_id: str, cfg: PolicyConfig, optimizer: Any, samples: List[Sample],
               version: int, group: Single = SINGLE, step: Optional[int] = None,
               total_steps: Optional[int] = None) -> Iterator[Dict[str, Any]]:
    """ppo_epochs × minibatches of REINFORCE++ updates on this policy's adapter; yields progress, then metrics.
    Every rank of `group` runs it on the same samples, in step (each collective is met by all ranks).
    The learning rate is the schedule's at `step` (the run's training step from 0) over `total_steps`;
    without them, at the policy version over optimizer.total_steps."""
    t0 = time.time()
    a = cfg.algo
    tok = backend.tokenizer
    dev = backend.device
    batch = collate(samples, tok.pad_token_id, tok.eos_token_ids, a.mask_truncated)
    ids, attn, index = batch["input_ids"].to(dev), batch["attention_mask"].to(dev), batch["index"].to(dev)
    mask = batch["mask"].to(dev)

    lengths = attn.sum(1)
    per_chunk = max(1, a.micro_batch_tokens // int(lengths.max()))

    def completion_logprobs(policy: Any, rows: torch.Tensor) -> torch.Tensor:
        """logp of each completion token of `rows`, on ids cut to the rows' longest sequence."""
        n = int(lengths[rows].max())
        full = backend.token_logprobs(policy, ids[rows, :n], attn[rows, :n])
        return full.gather(1, index[rows])

    with_entropy = getattr(backend, "token_logprobs_entropy", None)

    def completion_logprobs_entropy(policy: Any, rows: torch.Tensor) -> Any:
        """(logp, entropy of the whole next-token distribution) at each completion token of `rows`."""
        n = int(lengths[rows].max())
        lp, ent = with_entropy(policy, ids[rows, :n], attn[rows, :n])
        return lp.gather(1, index[rows]), ent.gather(1, index[rows])

    def chunks(rows: torch.Tensor) -> List[torch.Tensor]:
        """Micro-batches of at most `micro_batch_tokens` padded tokens, similar lengths together."""
        return list(rows[torch.argsort(lengths[rows], stable=True)].split(per_chunk)) if len(rows) else []

    # logp_old at the current version on exactly prompt ⊕ completion; logp_ref with the adapter off.
    # Each rank fills in its shard of the rows; the sum over ranks gives every rank all of them.
    everyone = torch.arange(len(samples), device=dev)
    # The entropy of the policy's next-token distribution at each completion token comes with logp_old
    # (a backend without `token_logprobs_entropy` reports none).
    logp_old, logp_ref, entropy = torch.zeros_like(mask), torch.zeros_like(mask), torch.zeros_like(mask)
    with torch.no_grad():
        for rows in chunks(group.shard(everyone, lengths)):
            if with_entropy is not None:
                lp, ent = completion_logprobs_entropy(policy_id, rows)
                logp_old[rows], entropy[rows] = lp.float(), ent.float()
            else:
                logp_old[rows] = completion_logprobs(policy_id, rows).float()
            logp_ref[rows] = completion_logprobs(None, rows).float()
    logp_old, logp_ref, entropy = group.sum_(torch.stack([logp_old, logp_ref, entropy])).unbind(0)
    adv, info = compute_advantages(
        logp_old.cpu(), logp_ref.cpu(), mask.cpu(), batch["rewards"], algo=a.name, kl_coef=a.kl_coef,
        kl_estimator=a.kl_estimator, reward_clip=a.reward_clip, gamma=a.gamma, no_std_norm=a.no_std_norm,
        group_ids=batch["group_ids"], advantage_override=batch["advantages"])
    adv, kl_tok = adv.to(dev), info["kl"].to(dev)

    # Diagnostic only (§5): how far the sampler's logprobs are from the recomputed ones.
    hb = batch["has_behavior"].to(dev)
    if bool(hb.any()):
        valid = torch.zeros_like(mask)
        for i, s in enumerate(samples):
            valid[i, : len(s.completion_token_ids)] = 1.0
        valid = valid * hb[:, None].float()
        mismatch_kl = float(((batch["behavior"].to(dev) - logp_old) * valid).sum() / valid.sum().clamp(min=1.0))
    else:
        mismatch_kl = None

    params = backend.trainable_parameters(policy_id)
    lr = cfg.optimizer.lr_at(version if step is None else step, total_steps)
    for pg in optimizer.param_groups:
        pg["lr"] = lr
    mb = a.minibatch_size or len(samples)
    g = torch.Generator().manual_seed((a.seed or 0) * 1_000_003 + version)
    steps: List[Dict[str, Any]] = []
    step = 0
    for epoch in range(a.ppo_epochs):
        order = torch.randperm(len(samples), generator=g) if a.ppo_epochs > 1 or mb < len(samples) else torch.arange(len(samples))
        for rows in order.to(dev).split(mb):
            if float(mask[rows].sum()) == 0:
                continue
            # token mean over the minibatch = Σ_ranks Σ_chunks (chunk token mean · chunk tokens / minibatch tokens)
            n_tok = mask[rows].sum()
            optimizer.zero_grad(set_to_none=True)
            st = torch.zeros(4, dtype=torch.float64, device=dev)  # loss, clipfrac, ratio_mean (token-weighted); non-finite
            for part in chunks(group.shard(rows, lengths)):
                w = mask[part].sum() / n_tok
                if float(w) == 0.0:
                    continue
                logp = completion_logprobs(policy_id, part)
                loss, part_st = policy_loss(logp, logp_old[part], adv[part], mask[part], a.clip_eps)
                if not torch.isfinite(loss):
                    st[3] += 1
                    continue
                backend.backward(loss * w)
                st[:3] += torch.tensor([float(loss), part_st["clipfrac"], part_st["ratio_mean"]], dtype=torch.float64,
                                       device=dev) * float(w)
            loss_sum, clipfrac, ratio_mean, non_finite = group.sum_(st).tolist()
            if non_finite:  # every rank raises here, so the ranks stay in step
                raise ApiError(500, "train_failed", f"the loss is not finite at step {step}; lower optimizer.lr or check rewards")
            group.sum_grads(params)
            clip = cfg.optimizer.grad_clip if cfg.optimizer.grad_clip > 0 else math.inf
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
            optimizer.step()
            step += 1
            mk = mask[rows]
            rec = {"type": "progress", "step": step, "epoch": epoch, "loss": loss_sum,
                   "kl": float((kl_tok[rows] * mk).sum() / mk.sum().clamp(min=1.0)),
                   "clipfrac": clipfrac, "ratio_mean": ratio_mean, "grad_norm": grad_norm,
                   "mismatch_kl": mismatch_kl}
            steps.append(rec)
            yield rec
    if not steps:
        raise ApiError(422, "no_signal", "no minibatch had a trainable token; send samples with loss_mask ones")
    opt_state = optimizer.state_dict()["state"]
    group.check_same(params + [t for k in sorted(opt_state) for t in opt_state[k].values() if torch.is_tensor(t)],
                     f"adapter and optimizer state of {policy_id}")

    def avg(key: str) -> float:
        return sum(s[key] for s in steps) / len(steps)

    n_tok = float(mask.sum())
    masked = int((mask.sum(1) == 0).sum())
    yield {"type": "metrics", "loss": avg("loss"), "kl": float((kl_tok * mask).sum() / max(n_tok, 1.0)),
           "clipfrac": avg("clipfrac"), "clip_fraction": avg("clipfrac"), "ratio_mean": avg("ratio_mean"),
           "grad_norm": avg("grad_norm"),
           "entropy": float((entropy * mask).sum() / max(n_tok, 1.0)) if with_entropy is not None else None,
           "mismatch_kl": mismatch_kl, "reward_mean": float(batch["rewards"].mean()),
           "advantage_mean": masked_stats(adv.cpu(), mask.cpu())["mean"], "advantage_std": masked_stats(adv.cpu(), mask.cpu())["std"],
           "kl_only": 0.0 if rewards_differ(samples, cfg, mask.cpu()) else 1.0,
           "samples": len(samples), "masked_samples": masked, "masked_fraction": masked / len(samples),
           "tokens": int(n_tok), "updates": len(steps), "optimizer_steps": len(steps), "lr": lr,
           "truncated": int(batch["truncated"].sum()), "seconds": time.time() - t0}
