"""Fidelity to OpenRLHF's REINFORCE++ (issue 15 item 2): all-equal batches train on the KL term, several
optimizer steps per call clip, the schedule follows the training step, and the curves' metrics exist.

All through HTTP on the real server with the tiny backend; the bandit is test_bandit.py's (reward 1 when
the first completion byte is 'a', base "tiny:seed=26").
"""

from typing import Any, Dict, List

import torch

from conftest import make_samples

PROMPT_MSG = [{"role": "user", "content": "Say a"}]


def _train(client, pid, version, samples, key, **extra):
    return client.post("/v1/train", {"policy_id": pid, "expected_version": version, "idempotency_key": key,
                                     "samples": samples, **extra})


def _bandit_batch(client, pid: str, version: int, prompt: List[int], seed: int, reward_a: bool) -> List[Dict[str, Any]]:
    outs = client.post("/v1/generate", {"policy_id": pid, "prompt_token_ids": prompt, "n": 32,
                                        "sampling": {"max_tokens": 1, "seed": seed}}).json["outputs"]
    return [{"sample_id": f"{seed}-{i}", "trajectory_id": f"{seed}-{i}", "action_index": 0, "policy_version": version,
             "prompt_token_ids": prompt, "completion_token_ids": o["token_ids"], "behavior_logprobs": o["logprobs"],
             "reward": 1.0 if reward_a and o["token_ids"][0] == ord("a") else 0.0} for i, o in enumerate(outs)]


def test_a_role_that_fails_every_sample_trains_on_the_kl_term_and_learns_again(start_server):
    client, srv = start_server(base_model="tiny:seed=26")
    backend = srv.service.backend
    assert client.put("/v1/policies/p", {"adapter": {"r": 8, "alpha": 16}, "optimizer": {"lr": 3e-3}}).status == 200
    prompt = client.post("/v1/render", {"messages": PROMPT_MSG}).json["token_ids"]
    ids = torch.tensor([prompt])

    def dists():
        with torch.no_grad():
            lp = torch.log_softmax(backend.model(ids, "p")[0, -1].float(), -1)
            ref = torch.log_softmax(backend.model(ids, None)[0, -1].float(), -1)
        return lp, ref

    def p_a() -> float:
        return float(dists()[0][ord("a")].exp())

    def kl_to_ref() -> float:  # exact KL(π || π_ref) of the first completion token
        lp, ref = dists()
        return float((lp.exp() * (lp - ref)).sum())

    version, seed = 0, 0

    def step(reward_a: bool) -> Dict[str, Any]:
        nonlocal version, seed
        seed += 1
        r = _train(client, "p", version, _bandit_batch(client, "p", version, prompt, 1000 * seed + 7, reward_a), f"k{seed}")
        assert r.status == 200 and r.lines[-1]["type"] == "done", r.data
        assert r.lines[-1]["new_version"] == version + 1
        version += 1
        return r.lines[-1]["metrics"]

    p0 = p_a()
    for _ in range(6):
        step(True)
    learned, kl_learned = p_a(), kl_to_ref()
    assert learned > 2 * p0 and kl_learned > 0.01, (p0, learned, kl_learned)
    # The role now fails every sample for several steps: all rewards 0. Each batch still trains (the
    # version advances), on the KL term alone, and pulls the policy back toward the reference.
    kls = [kl_learned]
    for _ in range(5):
        m = step(False)
        assert m["kl_only"] == 1.0 and m["optimizer_steps"] == 1
        kls.append(kl_to_ref())
    assert kls[-1] < 0.8 * kls[0], kls
    assert sum(b > a for a, b in zip(kls, kls[1:])) <= 1, kls
    failed = p_a()
    # Differing rewards train as before: P('a') rises again.
    for _ in range(6):
        m = step(True)
        assert m["kl_only"] == 0.0
    print(f"P(a) {p0:.3f} -> {learned:.3f} (6 steps) -> {failed:.3f} (5 all-zero steps, KL {kls[0]:.3f} -> {kls[-1]:.3f})"
          f" -> {p_a():.3f} (6 steps)")
    assert p_a() > failed + 0.1, (p0, learned, failed, p_a())


def test_every_sample_masked_is_still_no_signal(client):
    client.put("/v1/policies/m", {"adapter": {"r": 4, "alpha": 8}})
    samples = make_samples(client, "m", 0)
    r = _train(client, "m", 0, [{**s, "loss_mask": [0] * len(s["completion_token_ids"])} for s in samples], "x")
    assert r.status == 422 and r.json["error"] == "no_signal" and "masked" in r.json["message"]
    r = _train(client, "m", 0, [{**s, "reward": 3.0} for s in samples], "y")  # all equal: trains (KL term)
    assert r.status == 200 and r.lines[-1]["metrics"]["kl_only"] == 1.0


def _clip_run(start_server, epochs: int, minibatch: int) -> Dict[str, Any]:
    client, _ = start_server()
    client.put("/v1/policies/c", {"adapter": {"r": 8, "alpha": 16}, "optimizer": {"lr": 0.05},
                                  "algo": {"ppo_epochs": epochs, "minibatch_size": minibatch}})
    samples = make_samples(client, "c", 0, n=4, max_tokens=12, seed=5, rewards=[1.0, 0.0, 0.5, 0.0])
    r = _train(client, "c", 0, samples, "k")
    assert r.status == 200, r.data
    return {"progress": [x for x in r.lines if x["type"] == "progress"], "metrics": r.lines[-1]["metrics"]}


def test_several_minibatches_and_epochs_clip_and_report_optimizer_steps(start_server):
    one = _clip_run(start_server, 1, 4)
    assert one["metrics"]["optimizer_steps"] == 1 and one["metrics"]["clip_fraction"] == 0.0
    assert abs(one["metrics"]["ratio_mean"] - 1.0) < 1e-6
    many = _clip_run(start_server, 2, 2)
    m = many["metrics"]
    print(f"clip_fraction {m['clip_fraction']:.3f} over {m['optimizer_steps']} optimizer steps, per step {[round(p['clipfrac'], 3) for p in many['progress']]}")
    assert m["optimizer_steps"] == 4 and len(many["progress"]) == 4 and m["updates"] == 4
    # After the first optimizer step the policy is no longer the one that sampled: ρ ≠ 1 and the clip acts.
    assert many["progress"][0]["clipfrac"] == 0.0
    assert m["clip_fraction"] > 0.0 and max(p["clipfrac"] for p in many["progress"][1:]) > 0.0, many["progress"]
    assert any(abs(p["ratio_mean"] - 1.0) > 1e-3 for p in many["progress"][1:])


def test_the_lr_schedule_follows_the_training_step_and_ends_at_min_lr(start_server):
    client, _ = start_server()
    client.put("/v1/policies/s", {"adapter": {"r": 4, "alpha": 8},
                                  "optimizer": {"lr": 0.01, "schedule": "cosine", "total_steps": 6, "min_lr_ratio": 0.1}})
    # Steps 1, 2 and 4 of 6 were skipped (no samples): the policy reaches version 3 at the run's last step.
    lrs = []
    for version, step in enumerate((0, 3, 5)):
        r = _train(client, "s", version, make_samples(client, "s", version, seed=step), f"k{step}", step=step)
        assert r.status == 200, r.data
        lrs.append(r.lines[-1]["metrics"]["lr"])
    assert lrs[0] == 0.01 and 0.001 < lrs[1] < 0.01 and abs(lrs[2] - 0.001) < 1e-12, lrs
    # Without a step the schedule falls back to the policy version (the old behaviour): not the floor.
    r = _train(client, "s", 3, make_samples(client, "s", 3, seed=9), "k9")
    assert r.lines[-1]["metrics"]["lr"] > 0.001
    r = _train(client, "s", 4, make_samples(client, "s", 4, seed=8), "k8", step=-1)
    assert r.status == 400 and "step" in r.json["message"]


def test_train_metrics_carry_the_curves(client):
    client.put("/v1/policies/e", {"adapter": {"r": 4, "alpha": 8}, "algo": {"mask_truncated": True}})
    samples = make_samples(client, "e", 0, n=6, max_tokens=3, rewards=[0, 1, 0, 1, 0, 1])
    eos = client.get("/v1/info").json["tokenizer"]["eos_token_ids"][0]
    ended = {**samples[0], "sample_id": "ended", "completion_token_ids": [97, eos], "behavior_logprobs": None, "reward": 1.0}
    r = _train(client, "e", 0, samples + [ended], "k")
    m = r.lines[-1]["metrics"]
    truncated = sum(s["completion_token_ids"][-1] != eos for s in samples)
    assert m["masked_samples"] == truncated and abs(m["masked_fraction"] - truncated / 7) < 1e-12
    assert m["entropy"] > 0 and m["grad_norm"] >= 0 and m["kl"] == 0.0 and "clip_fraction" in m
