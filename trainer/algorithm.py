"""Per-action REINFORCE++ (reference/trainer-protocol.md §5), pure torch, no state.

Follows OpenRLHF at commit 3c3be623 (arXiv 2501.03262):
- `approx_kl` ← `openrlhf/models/utils.py::compute_approx_kl` (k1/k2/k3, masked, clamped to [-10, 10]);
- `token_rewards` ← `openrlhf/models/utils.py::compute_reward` (−β·kl per token, clipped R on the last token);
- `cumulative_returns` ← `openrlhf/trainer/ppo_utils/experience_maker.py::get_cumulative_returns`;
- `shape_rewards` ← the `reinforce_baseline` / `group_norm` branches of `experience_maker.py` (per group_id);
- `global_normalize` ← the normalization block of `experience_maker.py` (μ and σ² over all completion tokens);
- `policy_loss` ← `openrlhf/models/loss.py::PolicyLoss` (asymmetric PPO clip, token mean).
`reinforce_pp` chains them for one batch; the trainer calls `compute_advantages` once per /train call
and `policy_loss` per minibatch, since normalization is global over the whole batch.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch


def approx_kl(logp: torch.Tensor, logp_ref: torch.Tensor, mask: torch.Tensor, estimator: str = "k1") -> torch.Tensor:
    """Per-token KL estimate of log π − log π_ref: k1 = x, k2 = x²/2, k3 = exp(−x) − 1 + x; clamped to [−10, 10]."""
    x = (logp.float() - logp_ref.float()) * mask
    if estimator == "k1":
        kl = x
    elif estimator == "k2":
        kl = x.pow(2) / 2.0
    elif estimator == "k3":
        kl = (-x).exp() - 1 + x
    else:
        raise ValueError(f"kl_estimator is {estimator!r}; use 'k1', 'k2' or 'k3'")
    return kl.clamp(min=-10.0, max=10.0)


def shape_rewards(rewards: torch.Tensor, algo: str, group_ids: Optional[Sequence[Optional[str]]]) -> torch.Tensor:
    """reinforce_pp: R unchanged; reinforce_pp_baseline: R − mean_group(R); grpo: (R − mean_group) / (std_group + 1e-9).

    std is torch's unbiased std, as OpenRLHF's `rewards.std(-1)`. A group needs ≥ 2 samples.
    """
    if algo == "reinforce_pp":
        return rewards.clone()
    if algo not in ("reinforce_pp_baseline", "grpo"):
        raise ValueError(f"algo.name is {algo!r}; use reinforce_pp, reinforce_pp_baseline or grpo")
    if group_ids is None or any(g is None for g in group_ids):
        raise ValueError(f"algo {algo} needs a group_id on every sample; set group_id or use algo.name 'reinforce_pp'")
    out = rewards.clone()
    groups: Dict[str, list] = {}
    for i, g in enumerate(group_ids):
        groups.setdefault(str(g), []).append(i)
    for g, idx in groups.items():
        if len(idx) < 2:
            raise ValueError(f"group_id {g!r} has {len(idx)} sample; {algo} needs >= 2 per group (send more samples per group or use reinforce_pp)")
        r = rewards[idx]
        out[idx] = r - r.mean() if algo == "reinforce_pp_baseline" else (r - r.mean()) / (r.std() + 1e-9)
    return out


def token_rewards(kl: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor, kl_coef: float,
                  reward_clip: Tuple[float, float] = (-10.0, 10.0)) -> torch.Tensor:
    """r_t = −β·kl_t + [t = T]·clip(R, lo, hi), T = the last position where mask is 1."""
    r = rewards.float().clamp(min=reward_clip[0], max=reward_clip[1])
    last = mask.size(1) - 1 - mask.long().fliplr().argmax(dim=1, keepdim=True)
    return torch.zeros_like(kl).scatter_(1, last, r[:, None]) - kl_coef * kl


def cumulative_returns(r: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """A_t = Σ_{s≥t} γ^{s−t} r_s over masked rewards."""
    r = r * mask
    out = torch.zeros_like(r)
    acc = torch.zeros(r.size(0), dtype=r.dtype, device=r.device)
    for t in reversed(range(r.size(1))):
        acc = r[:, t] + gamma * acc
        out[:, t] = acc
    return out


def global_normalize(adv: torch.Tensor, mask: torch.Tensor, no_std_norm: bool = False) -> torch.Tensor:
    """(A − μ)·rsqrt(max(σ², 1e-8)) with μ, σ² over every masked token of the batch."""
    n = mask.sum()
    if n == 0:
        return adv * 0
    mean = (adv * mask).sum() / n
    if no_std_norm:
        return (adv - mean) * mask
    var = ((adv - mean).pow(2) * mask).sum() / n
    return (adv - mean) * var.clamp(min=1e-8).rsqrt() * mask


def compute_advantages(
    logp_old: torch.Tensor,
    logp_ref: torch.Tensor,
    mask: torch.Tensor,
    rewards: torch.Tensor,
    *,
    algo: str = "reinforce_pp",
    kl_coef: float = 0.01,
    kl_estimator: str = "k1",
    reward_clip: Tuple[float, float] = (-10.0, 10.0),
    gamma: float = 1.0,
    no_std_norm: bool = False,
    group_ids: Optional[Sequence[Optional[str]]] = None,
    advantage_override: Optional[Sequence[Optional[float]]] = None,
) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Steps 1–4 of §5 on a right-padded completion batch [B, T]; returns (advantages [B, T], {kl, returns}).

    Samples with an `advantage_override` value use it on every token as given: they skip KL, returns
    and normalization, and are left out of the normalization statistics.
    """
    mask = mask.float()
    override = torch.zeros(mask.size(0), dtype=torch.bool)
    values = torch.zeros(mask.size(0))
    if advantage_override is not None:
        for i, a in enumerate(advantage_override):
            if a is not None:
                override[i], values[i] = True, float(a)
    kl = approx_kl(logp_old, logp_ref, mask, kl_estimator)
    shaped = shape_rewards(rewards.float(), algo, group_ids)
    returns = cumulative_returns(token_rewards(kl, shaped, mask, kl_coef, reward_clip), mask, gamma)
    norm_mask = mask * (~override).float()[:, None]
    adv = global_normalize(returns, norm_mask, no_std_norm)
    adv = torch.where(override[:, None], values[:, None] * mask, adv)
    return adv, {"kl": kl, "returns": returns}


def policy_loss(
    logp: torch.Tensor,
    logp_old: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip_eps: Tuple[float, float] = (0.2, 0.2),
) -> Tuple[torch.Tensor, Dict[str, float]]:
    """Step 5: ρ = exp(clamp(logp − logp_old, −20, 20)); loss = −min(ρA, clip(ρ, 1−ε_lo, 1+ε_hi)A), token mean."""
    mask = mask.float()
    n = mask.sum().clamp(min=1.0)
    ratio = (logp - logp_old).clamp(-20.0, 20.0).exp()
    surr1 = ratio * advantages
    surr2 = ratio.clamp(1 - clip_eps[0], 1 + clip_eps[1]) * advantages
    loss = (-torch.min(surr1, surr2) * mask).sum() / n
    with torch.no_grad():
        stats = {
            "clipfrac": float(((surr2 < surr1).float() * mask).sum() / n),
            "ratio_mean": float((ratio * mask).sum() / n),
        }
    return loss, stats


def masked_stats(x: torch.Tensor, mask: torch.Tensor) -> Dict[str, float]:
    """mean, std (population), min, max of x over mask; zeros when the mask is empty."""
    sel = x[mask.bool()]
    if sel.numel() == 0:
        return {"mean": 0.0, "std": 0.0, "min": 0.0, "max": 0.0}
    return {"mean": float(sel.mean()), "std": float(sel.std(unbiased=False)), "min": float(sel.min()), "max": float(sel.max())}


def reinforce_pp(
    logp: torch.Tensor,
    logp_old: torch.Tensor,
    logp_ref: torch.Tensor,
    mask: torch.Tensor,
    rewards: torch.Tensor,
    *,
    clip_eps: Tuple[float, float] = (0.2, 0.2),
    **advantage_kwargs,
) -> Tuple[torch.Tensor, Dict[str, object]]:
    """The whole §5 computation for one batch that is also one minibatch: (loss, stats).

    stats: kl (token mean of the clamped estimate), clipfrac, ratio_mean, advantage {mean, std, min, max},
    and the tensors `advantages`, `returns`, `kl_tokens` for inspection.
    """
    adv, info = compute_advantages(logp_old, logp_ref, mask, rewards, **advantage_kwargs)
    loss, st = policy_loss(logp, logp_old, adv, mask, clip_eps)
    m = mask.float()
    return loss, {
        "kl": float((info["kl"] * m).sum() / m.sum().clamp(min=1.0)),
        **st,
        "advantage": masked_stats(adv, m),
        "advantages": adv,
        "returns": info["returns"],
        "kl_tokens": info["kl"],
    }
