"""Version protocol, locking and failure behaviour over real HTTP (reference/trainer-protocol.md §5, §7 test 5)."""

import json
import os
import threading

import torch

import trainer.policies as policies_mod
from conftest import make_samples

POLICY = {"adapter": {"r": 4, "alpha": 8}, "optimizer": {"lr": 0.05}}


def _train(client, pid, version, samples, key):
    return client.post("/v1/train", {"policy_id": pid, "expected_version": version, "idempotency_key": key, "samples": samples})


def test_version_increments_by_exactly_one_and_first_minibatch_is_on_policy(start_server, tmp_path):
    client, srv = start_server(out=str(tmp_path / "o"))
    assert client.put("/v1/policies/a", POLICY).json == {"policy_id": "a", "version": 0}
    for v in range(3):
        r = _train(client, "a", v, make_samples(client, "a", v, seed=v), f"k{v}")
        assert r.status == 200 and r.headers["content-type"] == "application/x-ndjson", r.data
        prog, done = r.lines[0], r.lines[-1]
        assert prog["type"] == "progress" and done["type"] == "done" and done["new_version"] == v + 1
        # one epoch, one minibatch: ρ ≡ 1, no clipping; behaviour logprobs equal the recomputed ones
        assert abs(prog["ratio_mean"] - 1.0) < 1e-6 and prog["clipfrac"] == 0.0
        assert abs(prog["mismatch_kl"]) < 1e-5
        assert os.path.isfile(os.path.join(done["adapter_dir"], "adapter_config.json"))
        p = client.get("/v1/policies/a").json
        assert p["version"] == v + 1 and p["state"] == "ready" and p["served_name"] == f"a@{v + 1}"
        assert p["last_metrics"]["samples"] == 4
    lines = open(tmp_path / "o" / "metrics.jsonl").read().splitlines()
    assert [json.loads(x)["version"] for x in lines] == [1, 2, 3]
    # the old version is no longer resident
    r = client.post("/v1/generate", {"policy_id": "a", "version": 2, "prompt_token_ids": [256, 261]})
    assert r.status == 409 and r.json["error"] == "version_unavailable" and r.json["current_version"] == 3


def test_conflicts_and_validation(client):
    client.put("/v1/policies/a", POLICY)
    samples = make_samples(client, "a", 0)
    r = _train(client, "a", 1, samples, "x")
    assert r.status == 409 and r.json == {**r.json, "error": "version_conflict", "current_version": 0}
    mixed = samples[:2] + [{**s, "policy_version": 5} for s in samples[2:]]
    r = _train(client, "a", 0, mixed, "x")
    assert r.status == 422 and r.json["error"] == "stale_samples" and r.json["sample_ids"] == [s["sample_id"] for s in samples[2:]]
    r = _train(client, "a", 0, [{**samples[0], "completion_token_ids": [1, 99999], "behavior_logprobs": None}] + samples[1:], "x")
    assert r.status == 422 and r.json["error"] == "invalid_tokens" and r.json["sample_ids"] == [samples[0]["sample_id"]]
    long = [{**samples[0], "completion_token_ids": [97] * 1100, "behavior_logprobs": None}] + samples[1:]
    r = _train(client, "a", 0, long, "x")
    assert r.status == 422 and r.json["error"] == "invalid_tokens" and "context" in r.json["message"]
    r = _train(client, "a", 0, [{**s, "reward": float(i)} for i, s in enumerate(samples)], "x")
    assert r.status == 200
    r = _train(client, "a", 1, [{**samples[0], "policy_version": 1, "behavior_logprobs": [0.0]}], "y")
    assert r.status == 400 and "samples[0].behavior_logprobs" in r.json["message"]
    r = client.post("/v1/train", {"policy_id": "a", "expected_version": "1", "idempotency_key": "y", "samples": []})
    assert r.status == 400 and "expected_version" in r.json["message"]
    assert client.get("/v1/policies/a").json["version"] == 1


def test_group_algorithms_need_groups(client):
    client.put("/v1/policies/g", {**POLICY, "algo": {"name": "grpo"}})
    samples = make_samples(client, "g", 0, group="only")
    r = _train(client, "g", 0, samples[:1], "x")
    assert r.status == 400 and "needs >= 2" in r.json["message"]
    r = _train(client, "g", 0, samples, "x")
    assert r.status == 200 and r.lines[-1]["new_version"] == 1
    # Every group's rewards are equal: only the KL term acts (OpenRLHF), the update still happens.
    r = _train(client, "g", 1, [{**s, "reward": 1.0, "policy_version": 1} for s in make_samples(client, "g", 1, group="z")], "y")
    assert r.status == 200 and r.lines[-1]["new_version"] == 2 and r.lines[-1]["metrics"]["kl_only"] == 1.0


def test_idempotent_replay_does_not_train_again(client):
    client.put("/v1/policies/a", POLICY)
    samples = make_samples(client, "a", 0)
    first = _train(client, "a", 0, samples, "once").lines[-1]
    lp_before = client.post("/v1/generate", {"policy_id": "a", "prompt_token_ids": [256, 261], "sampling": {"seed": 3, "max_tokens": 5}}).json
    again = _train(client, "a", 0, samples, "once")
    assert again.status == 200 and again.lines == [first]
    assert client.get("/v1/policies/a").json["version"] == 1
    lp_after = client.post("/v1/generate", {"policy_id": "a", "prompt_token_ids": [256, 261], "sampling": {"seed": 3, "max_tokens": 5}}).json
    assert lp_before["outputs"] == lp_after["outputs"]


def test_503_while_training_and_other_policies_keep_serving(start_server, monkeypatch):
    client, srv = start_server()
    client.put("/v1/policies/a", POLICY)
    client.put("/v1/policies/b", POLICY)
    entered, release = threading.Event(), threading.Event()
    real = policies_mod.train_step

    def slow_train_step(*args, **kw):
        entered.set()
        assert release.wait(30)
        yield from real(*args, **kw)

    monkeypatch.setattr(policies_mod, "train_step", slow_train_step)
    samples = make_samples(client, "b", 0)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", _train(client, "b", 0, samples, "k")))
    t.start()
    try:
        assert entered.wait(30)
        assert client.get("/v1/policies/b").json["state"] == "training"
        r = client.post("/v1/generate", {"policy_id": "b", "prompt_token_ids": [256, 261], "sampling": {"max_tokens": 2}})
        assert r.status == 503 and r.json["error"] == "policy_training" and r.headers["retry-after"] == "1"
        r = client.post("/v1/chat/completions", {"model": "b", "messages": [{"role": "user", "content": "x"}]})
        assert r.status == 503 and r.json["error"]["code"] == "policy_training" and "retry-after" in r.headers
        r = _train(client, "b", 0, samples, "other-key")
        assert r.status == 503
        # policy a is served while b trains
        r = client.post("/v1/generate", {"policy_id": "a", "prompt_token_ids": [256, 261], "sampling": {"max_tokens": 4}})
        assert r.status == 200 and r.json["policy_version"] == 0
    finally:
        release.set()
        t.join(30)
    assert result["r"].status == 200 and result["r"].lines[-1]["new_version"] == 1
    assert client.get("/v1/policies/b").json == {**client.get("/v1/policies/b").json, "state": "ready", "version": 1}


def test_failure_mid_way_keeps_the_old_version(start_server, monkeypatch, tmp_path):
    client, srv = start_server(out=str(tmp_path / "o"))
    client.put("/v1/policies/a", POLICY)
    backend = srv.service.backend
    before = backend.adapter_state("a")
    real = policies_mod.train_step

    def failing(*args, **kw):
        for rec in real(*args, **kw):
            yield rec
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(policies_mod, "train_step", failing)
    r = _train(client, "a", 0, make_samples(client, "a", 0), "k")
    assert r.status == 200
    assert [ln["type"] for ln in r.lines] == ["progress", "error"]
    assert r.lines[-1]["error"] == "train_failed" and "disk on fire" in r.lines[-1]["message"]
    assert client.get("/v1/policies/a").json["version"] == 0
    after = backend.adapter_state("a")
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert json.loads(open(tmp_path / "o" / "metrics.jsonl").read().splitlines()[-1])["ok"] is False
    monkeypatch.setattr(policies_mod, "train_step", real)
    assert _train(client, "a", 0, make_samples(client, "a", 0), "k").lines[-1]["new_version"] == 1


def test_a_failed_snapshot_before_training_leaves_the_policy_serving(start_server, monkeypatch, tmp_path):
    client, srv = start_server(out=str(tmp_path / "o"))
    client.put("/v1/policies/a", POLICY)
    backend = srv.service.backend
    samples = make_samples(client, "a", 0)
    real = backend.adapter_state
    monkeypatch.setattr(backend, "adapter_state", lambda pid: (_ for _ in ()).throw(MemoryError("host out of memory")))
    r = _train(client, "a", 0, samples, "k")
    assert r.lines[-1]["type"] == "error" and "out of memory" in r.lines[-1]["message"]
    monkeypatch.setattr(backend, "adapter_state", real)
    state = client.get("/v1/policies/a").json
    assert state["state"] == "ready" and state["version"] == 0
    assert _train(client, "a", 0, samples, "k2").lines[-1]["new_version"] == 1


def test_http_errors(client):
    r = client.post("/v1/render", raw=b"{nope")
    assert r.status == 400 and r.json["error"] == "bad_request" and "JSON" in r.json["message"]
    r = client.post("/v1/render", raw=b"[1, 2]")
    assert r.status == 400
    assert client.get("/v1/nothing").status == 404
    r = client.get("/v1/train")
    assert r.status == 405 and r.json["error"] == "method_not_allowed"
    r = client.put("/v1/policies/bad@id", {})
    assert r.status == 400 and "policy id" in r.json["message"]
    r = client.put("/v1/policies/a", {"optimizer": {"lr": 0.1, "momentum": 0.9}})
    assert r.status == 400 and "optimizer.momentum" in r.json["message"] and "allowed" in r.json["message"]
    client.put("/v1/policies/a", {})
    r = client.post("/v1/generate", {"policy_id": "a", "prompt_token_ids": [256], "sampling": {"maxTokens": 3}})
    assert r.status == 400 and "sampling.maxTokens" in r.json["message"]
    r = client.post("/v1/chat/completions", {"model": "a", "messages": [{"role": "user", "content": "x"}], "n": 0})
    assert r.status == 400 and r.json["error"]["type"] == "invalid_request_error"


def test_chat_completions_shape_and_stop(client):
    client.put("/v1/policies/a", {})
    body = {"model": "a", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 30, "seed": 4,
            "temperature": 1.0, "top_p": 1.0, "frequency_penalty": 0, "user": "ignored"}
    r = client.post("/v1/chat/completions", body).json
    ch = r["choices"][0]
    assert r["object"] == "chat.completion" and r["model"] == "a@0" and r["policy_version"] == 0
    assert r["usage"]["completion_tokens"] == len(ch["token_ids"]) == len(ch["logprobs"]["content"])
    assert r["prompt_token_ids"] == client.post("/v1/render", {"messages": body["messages"]}).json["token_ids"]
    gen = client.post("/v1/generate", {"policy_id": "a", "prompt_token_ids": r["prompt_token_ids"],
                                       "sampling": {"max_tokens": 30, "seed": 4}}).json["outputs"][0]
    assert gen["token_ids"] == ch["token_ids"]
    assert [c["logprob"] for c in ch["logprobs"]["content"]] == gen["logprobs"]
    text = client.post("/v1/detokenize", {"token_ids": ch["token_ids"]}).json["text"]
    assert ch["message"]["content"] == text
    printable = next((c for c in text[3:] if c.isalnum()), None)
    if printable:  # stop at the first occurrence of a later character: content ends before it
        r2 = client.post("/v1/chat/completions", {**body, "stop": [printable]}).json["choices"][0]
        assert r2["finish_reason"] == "stop" and printable not in r2["message"]["content"]
        assert r2["token_ids"] == ch["token_ids"][: len(r2["token_ids"])]


def test_mask_truncated_and_non_finite_rewards(client):
    client.put("/v1/policies/m", {**POLICY, "algo": {"mask_truncated": True}})
    samples = make_samples(client, "m", 0, max_tokens=3)  # 3 tokens without EOS: truncated
    eos = client.get("/v1/info").json["tokenizer"]["eos_token_ids"][0]
    truncated = [s for s in samples if s["completion_token_ids"][-1] != eos]
    assert truncated, "expected truncated samples"
    r = _train(client, "m", 0, truncated, "a")
    assert r.status == 422 and r.json["error"] == "no_signal" and "truncated" in r.json["message"]
    ended = {**samples[0], "sample_id": "ended", "completion_token_ids": [97, eos], "behavior_logprobs": None, "reward": 1.0}
    other = {**ended, "sample_id": "ended2", "completion_token_ids": [98, eos], "reward": 0.0}
    done = _train(client, "m", 0, truncated + [ended, other], "b").lines[-1]
    assert done["metrics"]["truncated"] == len(truncated) and done["metrics"]["tokens"] == 4  # only the 2 ended samples
    bad = {**samples[0], "reward": float("nan"), "policy_version": 1}
    r = client.post("/v1/train", raw=json.dumps({"policy_id": "m", "expected_version": 1, "idempotency_key": "c",
                                                 "samples": [bad]}).encode())
    assert r.status == 400 and "samples[0].reward must be a finite number" in r.json["message"]


def test_each_update_uses_the_scheduled_learning_rate(client):
    policy = {**POLICY, "optimizer": {**POLICY["optimizer"], "lr": 0.04, "warmup_steps": 2}}
    assert client.put("/v1/policies/w", policy).status == 200
    lrs = []
    for version in range(3):
        samples = [{**s, "reward": float(i)} for i, s in enumerate(make_samples(client, "w", version))]
        done = _train(client, "w", version, samples, f"k{version}").lines[-1]
        assert done["type"] == "done", done
        lrs.append(done["metrics"]["lr"])
    assert [round(x, 6) for x in lrs] == [0.02, 0.04, 0.04]


def test_logprobs_endpoint_matches_generation_and_tracks_versions(start_server, tmp_path):
    client, _ = start_server(out=str(tmp_path / "o"))
    client.put("/v1/policies/p", {"optimizer": {"lr": 0.05}})
    samples = make_samples(client, "p", 0, n=4, max_tokens=6)
    s = samples[0]
    ids = s["prompt_token_ids"] + s["completion_token_ids"]
    r = client.post("/v1/logprobs", {"policy_id": "p", "token_ids": ids}).json
    assert r["policy_version"] == 0 and r["token_logprobs"][0] is None and len(r["token_logprobs"]) == len(ids)
    got = r["token_logprobs"][len(s["prompt_token_ids"]):]
    assert max(abs(a - b) for a, b in zip(got, s["behavior_logprobs"])) < 1e-5
    base = client.post("/v1/logprobs", {"token_ids": ids}).json
    assert base["policy_version"] is None and max(abs(a - b) for a, b in zip(base["token_logprobs"][1:], r["token_logprobs"][1:])) == 0.0
    done = client.post("/v1/train", {"policy_id": "p", "expected_version": 0, "idempotency_key": "k", "samples": samples}).lines[-1]
    assert done["type"] == "done"
    after = client.post("/v1/logprobs", {"policy_id": "p", "token_ids": ids}).json
    assert after["policy_version"] == 1
    assert max(abs(a - b) for a, b in zip(after["token_logprobs"][1:], r["token_logprobs"][1:])) > 1e-4
    assert client.post("/v1/logprobs", {"policy_id": "p", "version": 0, "token_ids": ids}).status == 409
    assert client.post("/v1/logprobs", {"policy_id": "p", "token_ids": [1]}).status == 400
    assert client.post("/v1/logprobs", {"policy_id": "p", "token_ids": [1, 99999]}).status == 422
    assert client.post("/v1/logprobs", {"policy_id": "nope", "token_ids": [1, 2]}).status == 404


def test_put_with_new_hyperparameters_keeps_the_adapter_and_version(start_server, tmp_path):
    client, srv = start_server(out=str(tmp_path / "o"))
    client.put("/v1/policies/h", {"adapter": {"r": 4, "alpha": 8}, "optimizer": {"lr": 0.05, "total_steps": 4}})
    assert _train(client, "h", 0, make_samples(client, "h", 0), "k0").lines[-1]["new_version"] == 1
    before = srv.service.backend.adapter_state("h")
    r = client.put("/v1/policies/h", {"adapter": {"r": 4, "alpha": 8}, "optimizer": {"lr": 0.05, "total_steps": 8,
                                                                                      "weight_decay": 0.1}})
    assert r.status == 200 and r.json["version"] == 1
    got = client.get("/v1/policies/h").json
    assert got["version"] == 1 and got["config"]["optimizer"]["total_steps"] == 8
    assert all(g["weight_decay"] == 0.1 for g in srv.service.registry.get("h").optimizer.param_groups)
    after = srv.service.backend.adapter_state("h")
    assert all(torch.equal(before[k], after[k]) for k in before)
    r = client.put("/v1/policies/h", {"adapter": {"r": 8, "alpha": 8}})
    assert r.status == 409 and r.json["error"] == "policy_exists" and "adapter" in r.json["message"]
