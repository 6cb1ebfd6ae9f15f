"""The tiny model, LoRA and the tiny backend (reference/trainer-protocol.md §7 tests 2–4)."""

import math

import pytest
import torch

from trainer.backend import AdapterConfig, Sampling
from trainer.config import PolicyConfig
from trainer.data import Sample
from trainer.model import LoRALinear, TinyConfig, parse_base_model
from trainer.tiny_backend import TinyBackend
from trainer.train import make_optimizer, train_step


def _ids(b, text="hello"):
    return b.tokenizer.render([{"role": "user", "content": text}])


def test_parse_base_model():
    assert parse_base_model("tiny") == TinyConfig()
    assert parse_base_model("tiny:d=64,layers=3,heads=4,context=512,seed=7") == TinyConfig(d=64, layers=3, heads=4, context=512, seed=7)
    with pytest.raises(ValueError, match="unknown key 'width'.*allowed"):
        parse_base_model("tiny:width=64")
    with pytest.raises(ValueError, match="not divisible"):
        parse_base_model("tiny:d=30,heads=4")
    with pytest.raises(ValueError, match="not a tiny model"):
        parse_base_model("gpt2")


def test_base_is_deterministic_per_name():
    a, b, c = TinyBackend("tiny"), TinyBackend("tiny"), TinyBackend("tiny:seed=1")
    sa, sb, sc = a.model.state_dict(), b.model.state_dict(), c.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["tok_emb.weight"], sc["tok_emb.weight"])


def test_lora_linear_is_peft_math():
    torch.manual_seed(0)
    layer = LoRALinear(6, 5)
    layer.add_adapter("p", r=2, alpha=8.0, generator=torch.Generator().manual_seed(0))
    a, b, scale = layer.adapters["p"]
    assert scale == 4.0 and torch.equal(b, torch.zeros(5, 2))
    assert float(a.abs().max()) <= 1 / math.sqrt(6)  # kaiming_uniform(a=√5) bound = 1/√fan_in
    x = torch.randn(3, 6)
    assert torch.equal(layer(x, "p"), layer(x))  # B = 0: the adapter is the identity
    with torch.no_grad():
        b.normal_()
    expected = layer.base(x) + 4.0 * (x @ a.T @ b.T)
    assert torch.allclose(layer(x, "p"), expected, atol=1e-6)
    assert torch.equal(layer(x, None), layer.base(x)) and torch.equal(layer(x, "other"), layer.base(x))
    assert all(p is not a and p is not b for p in layer.parameters())  # adapters are not registered parameters


def test_version_zero_equals_base_and_kl_is_zero():
    b = TinyBackend("tiny")
    b.create_policy("p", AdapterConfig(r=4, alpha=8))
    ids = torch.tensor([_ids(b) + [97, 98, 99]])
    with torch.no_grad():
        assert torch.equal(b.model(ids, "p"), b.model(ids, None))
        lp, ref = b.token_logprobs("p", ids, torch.ones_like(ids)), b.token_logprobs(None, ids, torch.ones_like(ids))
    assert torch.equal(lp - ref, torch.zeros_like(lp))


def test_generate_logprobs_match_recompute():
    b = TinyBackend("tiny")
    b.create_policy("p", AdapterConfig(r=4, alpha=8))
    with torch.no_grad():  # make the adapter non-trivial so the check covers the LoRA path
        for _, p in b.named_trainable_parameters("p"):
            p.normal_(0, 0.1)
    prompt = _ids(b)
    for seed in range(3):
        g = b.generate("p", prompt, Sampling(max_tokens=40, seed=seed))[0]
        ids = torch.tensor([prompt + g.token_ids])
        with torch.no_grad():
            lp = b.token_logprobs("p", ids, torch.ones_like(ids))[0, len(prompt) - 1:]
        assert len(g.logprobs) == len(g.token_ids) == lp.numel()
        assert float((lp - torch.tensor(g.logprobs)).abs().max()) < 1e-5
    # seeded generation is reproducible; the logprob is of the distribution sampled from (T and top-k applied)
    s = Sampling(max_tokens=10, seed=5, temperature=0.7, top_k=5)
    g1, g2 = b.generate("p", prompt, s)[0], b.generate("p", prompt, s)[0]
    assert g1.token_ids == g2.token_ids and g1.logprobs == g2.logprobs
    ids = torch.tensor([prompt + g1.token_ids[:1]])
    with torch.no_grad():
        z = b.model(ids[:, :-1], "p")[0, -1] / 0.7
    z[z < torch.topk(z, 5).values[-1]] = float("-inf")
    assert abs(float(torch.log_softmax(z, -1)[g1.token_ids[0]]) - g1.logprobs[0]) < 1e-5


def test_generate_stops():
    b = TinyBackend("tiny:context=40")
    b.create_policy("p", AdapterConfig(r=2, alpha=4))
    prompt = _ids(b)
    g = b.generate("p", prompt, Sampling(max_tokens=3, seed=0))[0]
    assert g.finish_reason == "length" and len(g.token_ids) == 3
    g = b.generate("p", prompt, Sampling(max_tokens=100, seed=0))[0]
    assert len(prompt) + len(g.token_ids) <= 40
    # every id as a stop id → stops after the first token, which is included
    g = b.generate("p", prompt, Sampling(max_tokens=10, seed=0, stop_token_ids=tuple(range(264))))[0]
    assert g.finish_reason == "stop" and len(g.token_ids) == 1
    g = b.generate("p", prompt, Sampling(max_tokens=5, temperature=0))[0]
    assert g.logprobs == [0.0] * len(g.logprobs)


def test_one_step_changes_every_lora_parameter_and_nothing_else():
    b = TinyBackend("tiny")
    # One /train step = 2 updates (minibatch_size 2 of 4 samples): with B = 0 the first update gives A a zero
    # gradient (∂(B·A·x)/∂A = Bᵀ…), so A can only move from the second update on — as PEFT's LoRA does.
    cfg = PolicyConfig.from_dict({"adapter": {"r": 4, "alpha": 8}, "optimizer": {"lr": 0.1}, "algo": {"minibatch_size": 2}})
    b.create_policy("p", cfg.adapter)
    b.create_policy("q", cfg.adapter)
    prompt = _ids(b)
    gens = b.generate("p", prompt, Sampling(max_tokens=6, seed=1), n=4)
    samples = [Sample(f"s{i}", "t", 0, 0, prompt, g.token_ids, float(i % 2)) for i, g in enumerate(gens)]
    before_p = {n: p.detach().clone() for n, p in b.named_trainable_parameters("p")}
    before_q = {n: p.detach().clone() for n, p in b.named_trainable_parameters("q")}
    before_base = {n: p.detach().clone() for n, p in b.model.named_parameters()}
    opt = make_optimizer(b, "p", cfg)
    recs = list(train_step(b, "p", cfg, opt, samples, 0))
    assert recs[0]["type"] == "progress" and recs[0]["ratio_mean"] == pytest.approx(1.0, abs=1e-6)
    assert recs[0]["clipfrac"] == 0.0
    for n, p in b.named_trainable_parameters("p"):
        assert not torch.equal(before_p[n], p), f"Parameter {n} has not changed."
    for n, p in b.named_trainable_parameters("q"):
        assert torch.equal(before_q[n], p), f"Parameter {n} of another policy changed."
    for n, p in b.model.named_parameters():
        assert torch.equal(before_base[n], p), f"Base parameter {n} changed."
        assert not p.requires_grad


def test_micro_batching_does_not_change_the_update():
    results = []
    for micro in (10_000, 25):  # one chunk vs. one sample per chunk (each sequence is < 25 tokens)
        b = TinyBackend("tiny")
        cfg = PolicyConfig.from_dict({"adapter": {"r": 4, "alpha": 8}, "optimizer": {"lr": 0.01},
                                      "algo": {"minibatch_size": 3, "ppo_epochs": 2, "micro_batch_tokens": micro}})
        b.create_policy("p", cfg.adapter)
        prompt = _ids(b)
        gens = b.generate("p", prompt, Sampling(max_tokens=8, seed=2), n=6)
        samples = [Sample(f"s{i}", "t", 0, 0, prompt, g.token_ids, float(i % 3)) for i, g in enumerate(gens)]
        # plain SGD: Adam would turn float-level differences of near-zero gradients into ±lr steps
        opt = torch.optim.SGD(b.trainable_parameters("p"), lr=0.5)
        recs = list(train_step(b, "p", cfg, opt, samples, 0))
        results.append((b.adapter_state("p"), [r["loss"] for r in recs if r["type"] == "progress"]))
    (s1, l1), (s2, l2) = results
    assert len(l1) == 4 and l1 == pytest.approx(l2, abs=1e-6)
    for k in s1:
        assert torch.allclose(s1[k], s2[k], atol=1e-6), k
