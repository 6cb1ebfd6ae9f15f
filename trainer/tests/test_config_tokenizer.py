"""Config parsing and the byte tokenizer / chat template (no torch needed by the modules under test)."""

import hashlib

import pytest

from trainer.config import AlgoConfig, PolicyConfig, ServerConfig
from trainer.tokenizer import ASSISTANT, BOS, END, EOS, SYSTEM, TEMPLATE, USER, ByteTokenizer


def test_policy_config_defaults_and_round_trip():
    cfg = PolicyConfig.from_dict({})
    assert cfg.algo == AlgoConfig() and cfg.algo.kl_coef == 0.01 and cfg.algo.clip_eps == (0.2, 0.2)
    d = {"adapter": {"r": 4, "alpha": 8, "target_modules": ["q_proj"]}, "optimizer": {"lr": 0.01, "betas": [0.9, 0.95]},
         "algo": {"name": "grpo", "clip_eps": [0.2, 0.28], "minibatch_size": 8, "mask_truncated": True}}
    cfg = PolicyConfig.from_dict(d)
    assert cfg.adapter.target_modules == ("q_proj",) and cfg.optimizer.betas == (0.9, 0.95)
    assert PolicyConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("body,match", [
    ({"adapters": {}}, r"body\.adapters is not a known field; allowed: adapter, optimizer, algo"),
    ({"adapter": {"rank": 4}}, r"adapter\.rank is not a known field; allowed: r, alpha"),
    ({"algo": {"name": "ppo"}}, r"algo\.name is 'ppo'; use one of reinforce_pp"),
    ({"algo": {"kl_estimator": "k9"}}, r"k9"),
    ({"algo": {"clip_eps": 0.2}}, r"algo\.clip_eps must be a pair"),
    ({"algo": {"reward_clip": [5, -5]}}, r"low 5\.0 exceeds high -5\.0"),
    ({"algo": {"ppo_epochs": 0}}, r"ppo_epochs must be an integer >= 1"),
    ({"optimizer": {"lr": -1}}, r"optimizer\.lr must be a positive number, got -1"),
    ({"adapter": {"r": 0}}, r"adapter\.r must be an integer >= 1, got 0"),
])
def test_policy_config_rejects(body, match):
    with pytest.raises(ValueError, match=match):
        PolicyConfig.from_dict(body)


def test_server_config():
    assert ServerConfig.from_dict({"port": 0, "backend": "tiny"}).host == "127.0.0.1"
    with pytest.raises(ValueError, match="prot is not a known field"):
        ServerConfig.from_dict({"prot": 1})
    with pytest.raises(ValueError, match="backend is 'vllm'"):
        ServerConfig(backend="vllm")


def test_byte_tokenizer_and_template():
    tok = ByteTokenizer()
    assert tok.vocab_size == 264 and tok.eos_token_ids == [EOS] and tok.pad_token_id == 258
    assert tok.encode("hé") == [104, 195, 169] and tok.decode([104, 195, 169, EOS, 300 - 36]) == "hé"
    assert tok.chat_template_sha256 == hashlib.sha256(TEMPLATE.encode()).hexdigest()
    ids = tok.render([{"role": "system", "content": "S"}, {"role": "user", "content": "u"},
                      {"role": "assistant", "content": "a"}], add_generation_prompt=True)
    assert ids == [BOS, SYSTEM, ord("S"), END, USER, ord("u"), END, ASSISTANT, ord("a"), EOS, ASSISTANT]
    assert tok.render([{"role": "user", "content": "u"}], add_generation_prompt=False) == [BOS, USER, ord("u"), END]
    with_tools = tok.decode(tok.render([{"role": "user", "content": "u"}], tools=[{"name": "add"}]))
    assert with_tools.startswith('# Tools\n[{"name": "add"}]')
    parts = tok.render([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    assert parts == tok.render([{"role": "user", "content": "ab"}])
    with pytest.raises(ValueError, match=r"messages\[0\]\.role is 'robot'"):
        tok.render([{"role": "robot", "content": "x"}])


def test_learning_rate_schedules():
    from trainer.config import OptimizerConfig

    const = OptimizerConfig(lr=0.1)
    assert [const.lr_at(u) for u in (0, 5, 100)] == [0.1, 0.1, 0.1]
    warm = OptimizerConfig(lr=0.1, warmup_steps=4)
    assert [round(warm.lr_at(u), 6) for u in range(6)] == [0.025, 0.05, 0.075, 0.1, 0.1, 0.1]
    # cosine_with_min_lr: 2 warmup updates, then from lr down to 0.1 * lr at the last update, total_steps - 1.
    cos = OptimizerConfig(lr=1.0, schedule="cosine", warmup_steps=2, total_steps=9, min_lr_ratio=0.1)
    assert cos.lr_at(0) == 0.5 and cos.lr_at(1) == 1.0 and cos.lr_at(2) == 1.0
    assert abs(cos.lr_at(5) - (0.1 + 0.9 * 0.5)) < 1e-12  # halfway through the decay
    assert abs(cos.lr_at(8) - 0.1) < 1e-12 and abs(cos.lr_at(50) - 0.1) < 1e-12
    assert cos.lr_at(7) > 0.1 and abs(cos.lr_at(4, total_steps=5) - 0.1) < 1e-12  # the request's span overrides
    with pytest.raises(ValueError, match="total_steps"):
        OptimizerConfig(schedule="cosine")
    with pytest.raises(ValueError, match="schedule"):
        OptimizerConfig(schedule="linear")
