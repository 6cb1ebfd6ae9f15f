"""Golden numbers for per-action REINFORCE++ (reference/trainer-protocol.md §5, §7 test 1), computed by hand below."""

import math

import pytest
import torch

from trainer.algorithm import (approx_kl, compute_advantages, cumulative_returns, global_normalize, policy_loss,
                               reinforce_pp, shape_rewards)

# Two samples: sample 0 has 2 completion tokens, sample 1 has 3 (right-padded to T = 3).
LOGP_OLD = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, -1.0, -1.5]])
LOGP_REF = torch.tensor([[-1.5, -2.0, 0.0], [-0.5, -0.5, -1.0]])
MASK = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
REWARDS = torch.tensor([1.0, 20.0])  # 20 is clipped to 10
# logp − logp_old: ρ = exp(0.3) = 1.3498588 or exp(−0.5) = 0.6065307 or 1
DELTA = torch.tensor([[0.3, -0.5, 0.0], [0.3, 0.0, -0.5]])


def test_golden_batch():
    loss, st = reinforce_pp(LOGP_OLD + DELTA, LOGP_OLD, LOGP_REF, MASK, REWARDS, clip_eps=(0.2, 0.28),
                            kl_coef=0.1, reward_clip=(-10.0, 10.0), gamma=1.0)
    # 1. k1 KL = logp_old − logp_ref, masked: [[0.5, 0, 0], [0, −0.5, −0.5]]
    assert torch.allclose(st["kl_tokens"], torch.tensor([[0.5, 0.0, 0.0], [0.0, -0.5, -0.5]]))
    # 2. r_t = −0.1·kl_t + [t=T]·clip(R): s0 = [−0.05, 0 + 1 = 1.0]; s1 = [0, 0.05, 0.05 + 10 = 10.05]
    # 3. returns (γ = 1, right to left): s0 = [−0.05 + 1.0 = 0.95, 1.0]; s1 = [10.1, 10.1, 10.05]
    assert torch.allclose(st["returns"] * MASK, torch.tensor([[0.95, 1.0, 0.0], [10.1, 10.1, 10.05]]), atol=1e-6)
    # 4. global normalization over the 5 tokens: μ = 32.2 / 5 = 6.44;
    #    deviations −5.49, −5.44, 3.66, 3.66, 3.61; squares 30.1401 + 29.5936 + 13.3956 + 13.3956 + 13.0321 = 99.557;
    #    σ² = 99.557 / 5 = 19.9114, σ = 4.4622192; A = deviation / σ
    adv = torch.tensor([[-5.49 / 4.4622192, -5.44 / 4.4622192, 0.0],
                        [3.66 / 4.4622192, 3.66 / 4.4622192, 3.61 / 4.4622192]])
    assert torch.allclose(st["advantages"], adv, atol=1e-5)  # = [[−1.2303295, −1.2191243, 0], [0.8202197, 0.8202197, 0.8090145]]
    # 5. PPO clip with ε = [0.2, 0.28], so clip(ρ) ∈ [0.8, 1.28]:
    #    s0 t0: ρ = 1.3498588, A = −1.2303295: ρA = −1.6607711, 1.28·A = −1.5748218 → min −1.6607711 (not clipped)
    #    s0 t1: ρ = 0.6065307, A = −1.2191243: ρA = −0.7394363, 0.8·A = −0.9752995 → min −0.9752995 (clipped)
    #    s1 t0: ρ = 1.3498588, A = 0.8202197: ρA = 1.1071808, 1.28·A = 1.0498812 → min 1.0498812 (clipped)
    #    s1 t1: ρ = 1, A = 0.8202197 → 0.8202197
    #    s1 t2: ρ = 0.6065307, A = 0.8090145: ρA = 0.4906921, 0.8·A = 0.6472116 → min 0.4906921 (not clipped)
    #    loss = −(−1.6607711 − 0.9752995 + 1.0498812 + 0.8202197 + 0.4906921) / 5 = −(−0.2752776) / 5 = 0.0550555
    assert math.isclose(float(loss), 0.0550555, abs_tol=1e-5)
    assert math.isclose(st["clipfrac"], 2 / 5, abs_tol=1e-7)
    # ratio_mean = (1.3498588·2 + 0.6065307·2 + 1) / 5 = 0.9825558
    assert math.isclose(st["ratio_mean"], 0.9825558, abs_tol=1e-6)
    # kl stat = token mean of kl = (0.5 + 0 + 0 − 0.5 − 0.5) / 5 = −0.1
    assert math.isclose(st["kl"], -0.1, abs_tol=1e-7)
    assert abs(st["advantage"]["mean"]) < 1e-6 and math.isclose(st["advantage"]["std"], 1.0, abs_tol=1e-5)


def test_first_minibatch_ratio_is_one_and_clip_never_triggers():
    loss, st = reinforce_pp(LOGP_OLD.clone(), LOGP_OLD, LOGP_REF, MASK, REWARDS, kl_coef=0.1)
    assert st["ratio_mean"] == 1.0 and st["clipfrac"] == 0.0
    # With ρ ≡ 1 the loss is −mean(A) over tokens, which global normalization makes 0.
    assert abs(float(loss)) < 1e-6


def test_no_std_norm_and_gamma():
    adv, _ = compute_advantages(LOGP_OLD, LOGP_REF, MASK, REWARDS, kl_coef=0.1, no_std_norm=True)
    # only μ = 6.44 is subtracted: [0.95 − 6.44, 1.0 − 6.44], [10.1 − 6.44, 10.1 − 6.44, 10.05 − 6.44]
    assert torch.allclose(adv, torch.tensor([[-5.49, -5.44, 0.0], [3.66, 3.66, 3.61]]), atol=1e-5)
    # γ = 0.5, r as in the golden batch: s0 = [−0.05 + 0.5·1.0 = 0.45, 1.0]; s1 = [0.5·(0.05 + 0.5·10.05) = 2.5375, 5.075, 10.05]
    r = torch.tensor([[-0.05, 1.0, 0.0], [0.0, 0.05, 10.05]])
    assert torch.allclose(cumulative_returns(r, MASK, 0.5), torch.tensor([[0.45, 1.0, 0.0], [2.5375, 5.075, 10.05]]))


def test_kl_estimators_and_clamp():
    x = torch.tensor([[0.5, -0.5, 30.0]])
    old, ref, m = x, torch.zeros_like(x), torch.ones_like(x)
    assert torch.allclose(approx_kl(old, ref, m, "k1"), torch.tensor([[0.5, -0.5, 10.0]]))  # 30 clamped to 10
    assert torch.allclose(approx_kl(old, ref, m, "k2"), torch.tensor([[0.125, 0.125, 10.0]]))  # x²/2; 450 → 10
    # k3 = exp(−x) − 1 + x: exp(−0.5) − 0.5 = 0.1065307; exp(0.5) − 1.5 = 0.1487213; 29.0000… → 10
    assert torch.allclose(approx_kl(old, ref, m, "k3"), torch.tensor([[0.1065307, 0.1487213, 10.0]]), atol=1e-6)
    assert torch.equal(approx_kl(old, ref, torch.tensor([[1.0, 0.0, 0.0]]), "k1"), torch.tensor([[0.5, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="k4"):
        approx_kl(old, ref, m, "k4")


def test_reward_clip_low_side():
    # R = −50 → −10 on the last token; β = 0: returns are −10 on both tokens
    z = torch.zeros(1, 2)
    _, st = reinforce_pp(z, z, z, torch.ones(1, 2), torch.tensor([-50.0]), kl_coef=0.0, no_std_norm=True)
    assert torch.allclose(st["returns"], torch.tensor([[-10.0, -10.0]]))


def test_group_baseline_and_grpo():
    r = torch.tensor([1.0, 3.0, 5.0, 5.0])
    g = ["a", "a", "b", "b"]
    # baseline: group a mean 2 → [−1, 1]; group b mean 5 → [0, 0]
    assert torch.allclose(shape_rewards(r, "reinforce_pp_baseline", g), torch.tensor([-1.0, 1.0, 0.0, 0.0]))
    # grpo: group a: std (unbiased) of [1, 3] = √2 → (∓1)/(√2 + 1e-9) = ∓0.7071068; group b: 0 / (0 + 1e-9) = 0
    assert torch.allclose(shape_rewards(r, "grpo", g), torch.tensor([-0.7071068, 0.7071068, 0.0, 0.0]), atol=1e-6)
    with pytest.raises(ValueError, match="needs >= 2"):
        shape_rewards(r[:3], "reinforce_pp_baseline", g[:3])
    with pytest.raises(ValueError, match="group_id"):
        shape_rewards(r, "grpo", [None] * 4)
    # the baseline is subtracted before the token rewards: one token each, β = 0, no std norm →
    # returns = shaped R = [−1, 1, 0, 0], μ = 0 → advantages unchanged
    z = torch.zeros(4, 1)
    adv, _ = compute_advantages(z, z, torch.ones(4, 1), r, algo="reinforce_pp_baseline", kl_coef=0.0,
                                no_std_norm=True, group_ids=g)
    assert torch.allclose(adv[:, 0], torch.tensor([-1.0, 1.0, 0.0, 0.0]))


def test_mask_truncated_sample_leaves_loss_and_statistics():
    # sample 1 masked out entirely (as collate does for a truncated sample with mask_truncated):
    # only s0's tokens count: returns [0.95, 1.0], μ = 0.975, σ = 0.025 → A = [−1, 1]; s1 gets 0
    m = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    adv, _ = compute_advantages(LOGP_OLD, LOGP_REF, m, REWARDS, kl_coef=0.1)
    assert torch.allclose(adv, torch.tensor([[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), atol=1e-4)
    loss, st = policy_loss(LOGP_OLD + DELTA, LOGP_OLD, adv, m)
    # ε = 0.2: t0 ρ = 1.3498588, A = −1 → min(−1.3498588, −1.2) = −1.3498588; t1 ρ = 0.6065307, A = 1 → 0.6065307
    # loss = −(−1.3498588 + 0.6065307) / 2 = 0.3716641
    assert math.isclose(float(loss), 0.3716641, abs_tol=1e-5)


def test_advantage_override_is_used_verbatim_and_left_out_of_statistics():
    adv, _ = compute_advantages(LOGP_OLD, LOGP_REF, MASK, REWARDS, kl_coef=0.1, advantage_override=[None, 2.5])
    assert torch.allclose(adv[1], torch.tensor([2.5, 2.5, 2.5]))
    assert torch.allclose(adv[0], torch.tensor([-1.0, 1.0, 0.0]), atol=1e-4)  # normalized over s0 alone, as above


def test_global_normalize_floor():
    # σ² = 0 → rsqrt(max(0, 1e-8)) = 1e4, and (A − μ) = 0: all zeros, no NaN
    out = global_normalize(torch.full((2, 2), 3.0), torch.ones(2, 2))
    assert torch.equal(out, torch.zeros(2, 2))
