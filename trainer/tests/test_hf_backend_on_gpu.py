"""GPU-only tests of the hf backend (transformers + peft + accelerate + CUDA).

Not part of the default command (`python3 -m pytest trainer/tests --ignore-glob='*_on_gpu.py'`); run them
explicitly on a GPU machine:

    python -m pytest trainer/tests/test_hf_backend_on_gpu.py -q

They build `random:qwen2-tiny` in code; nothing is downloaded. Without CUDA or the HF packages every
test is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

_HAVE_HF = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft", "accelerate"))


def _cuda() -> bool:
    if not _HAVE_HF:
        return False
    import torch

    return torch.cuda.is_available()


pytestmark = pytest.mark.skipif(not _cuda(), reason="needs CUDA, transformers, peft and accelerate")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def be():
    from trainer.backend import AdapterConfig
    from trainer.hf_backend import HFBackend

    b = HFBackend("random:qwen2-tiny", seed=0)
    b.create_policy("a", AdapterConfig(r=8, alpha=16.0))
    b.create_policy("b", AdapterConfig(r=8, alpha=16.0))
    return b


def _batch(be, seqs):
    import torch

    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), be.tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids.to(be.device), mask.to(be.device)


def _prompt(be):
    return be.tokenizer.render([{"role": "user", "content": "Say something."}])


def test_tokenizer_protocol(be):
    tok = be.tokenizer
    assert be.name == "hf-peft"
    assert len(tok.chat_template_sha256) == 64
    ids = _prompt(be)
    assert tok.hf.decode(ids).endswith("<|im_start|>assistant\n")
    assert tok.decode(tok.encode("héllo")) == "héllo"
    assert tok.eos_token_ids and isinstance(tok.pad_token_id, int) and tok.vocab_size == 259


def test_version0_equals_base(be):
    import torch

    ids, mask = _batch(be, [_prompt(be) + [70, 71, 72], _prompt(be)[:6]])
    with torch.no_grad():
        ref = be.token_logprobs(None, ids, mask)
        lp = be.token_logprobs("a", ids, mask)
    m = mask[:, 1:].bool()
    assert lp.dtype == torch.float32 and lp.shape == (2, ids.size(1) - 1)
    assert float((lp - ref)[m].abs().max()) <= 1e-4


def test_generation_logprobs_match_recomputed(be):
    import torch

    from trainer.backend import Sampling

    p = _prompt(be)
    out = be.generate("a", p, Sampling(max_tokens=32, seed=1), n=4)
    assert all(len(g.token_ids) == len(g.logprobs) > 0 for g in out)
    ids, mask = _batch(be, [p + g.token_ids for g in out])
    with torch.no_grad():
        full = be.token_logprobs("a", ids, mask)
    worst = max(abs(lp - float(full[i, len(p) - 1 + j])) for i, g in enumerate(out) for j, lp in enumerate(g.logprobs))
    assert worst <= 0.5, worst


def test_train_step_changes_only_the_trained_policy(be):
    import torch

    params = be.trainable_parameters("a")
    opt = be.prepare_optimizer(torch.optim.AdamW(params, lr=1e-2, weight_decay=0.0))
    before_a, before_b = be.adapter_state("a"), be.adapter_state("b")
    base = {n: p.detach().clone() for n, p in be.model.named_parameters() if "lora_" not in n}
    ids, mask = _batch(be, [_prompt(be) + [70, 71, 72, 73]] * 2)
    for _ in range(2):  # lora_A only receives gradient once lora_B is non-zero
        lp = be.token_logprobs("a", ids, mask)
        loss = -(lp * mask[:, 1:]).sum() / mask[:, 1:].sum()
        be.backward(loss)
        opt.step()
        opt.zero_grad()
    after_a = be.adapter_state("a")
    for k in before_a:
        assert not torch.equal(before_a[k], after_a[k]), f"Parameter {k} has not changed."
    for k, t in be.adapter_state("b").items():
        assert torch.equal(t, before_b[k]), f"Parameter {k} of the other policy changed."
    for n, p in be.model.named_parameters():
        if n in base:
            assert torch.equal(p.detach(), base[n]), f"Base parameter {n} changed."


def test_export_reload_round_trip(be, tmp_path):
    import torch
    from peft import PeftModel

    from trainer.hf_backend import _gather_logprobs, build_random_base

    d = be.export_adapter("a", str(tmp_path / "a"))
    with open(os.path.join(d, "adapter_config.json")) as f:
        cfg = json.load(f)
    assert cfg["r"] == 8 and cfg["peft_type"] == "LORA"
    fresh, _ = build_random_base("random:qwen2-tiny", 0)
    fresh = fresh.to(device=be.device, dtype=be.dtype)
    model = PeftModel.from_pretrained(fresh, d).eval()
    ids, mask = _batch(be, [_prompt(be) + [70, 71]])
    with torch.no_grad():
        got = _gather_logprobs(model(input_ids=ids, attention_mask=mask, use_cache=False).logits, ids,
                               be.tokenizer.vocab_size)
        want = be.token_logprobs("a", ids, mask)
    assert float((got - want).abs().max()) <= 1e-3
