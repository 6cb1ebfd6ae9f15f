"""Regenerates trainer/tests/fixtures/*.json from a fresh in-process server:
`/usr/bin/python3 trainer/tests/make_fixtures.py` (from the repo root).

One file per endpoint: {endpoint, cases: [{name, setup: [requests], request, response: {status,
content_type, keys, example}}]}. `setup` requests run first on a fresh server (out dir of its own);
`keys` are the top-level keys a client may rely on; `example` is one real response (ids, times vary).
test_fixtures.py replays every case. The TypeScript side reuses the same files.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(__file__))

from conftest import Client  # noqa: E402
from trainer.server import make_server, serve_in_thread  # noqa: E402
from trainer.tiny_backend import TinyBackend  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "fixtures")
PUT = {"method": "PUT", "path": "/v1/policies/alice", "body": {
    "adapter": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
    "optimizer": {"lr": 0.01, "weight_decay": 0.0, "grad_clip": 1.0},
    "algo": {"name": "reinforce_pp", "kl_coef": 0.01, "kl_estimator": "k1", "clip_eps": [0.2, 0.2], "reward_clip": [-10, 10],
             "gamma": 1.0, "ppo_epochs": 1, "minibatch_size": 4, "mask_truncated": False, "seed": 0}}}
PROMPT = [256, 260, 104, 105, 263, 261]  # <|bos|><|user|>hi<|end|><|assistant|>
COMPLETIONS = [[97, 257], [98, 99, 257], [100, 257], [101, 257]]


def sample(i: int, version: int = 0, **kw):
    s = {"sample_id": f"s{i}", "trajectory_id": f"t{i // 2}", "group_id": f"g{i // 2}", "action_index": i % 2,
         "policy_version": version, "prompt_token_ids": PROMPT, "completion_token_ids": COMPLETIONS[i],
         "reward": float(i % 2)}
    s.update(kw)
    return s


TRAIN = {"policy_id": "alice", "expected_version": 0, "idempotency_key": "step-0", "samples": [sample(i) for i in range(4)]}
TRAIN_AGAIN = {"method": "POST", "path": "/v1/train", "body": TRAIN}

CASES = {
    "health": [("ok", [], {"method": "GET", "path": "/v1/health"})],
    "info": [("ok", [], {"method": "GET", "path": "/v1/info"})],
    "put_policy": [
        ("created", [], PUT),
        ("same_config_is_idempotent", [PUT], PUT),
        ("different_config", [PUT], {**PUT, "body": {**PUT["body"], "adapter": {"r": 8, "alpha": 16}}}),
        ("defaults_for_missing_fields", [], {**PUT, "body": {"adapter": {"r": 4, "alpha": 8}}}),
        ("unknown_key", [], {**PUT, "body": {"adapter": {"rank": 4}}}),
    ],
    "get_policy": [
        ("ok", [PUT], {"method": "GET", "path": "/v1/policies/alice"}),
        ("unknown", [], {"method": "GET", "path": "/v1/policies/nobody"}),
    ],
    "list_policies": [("ok", [PUT], {"method": "GET", "path": "/v1/policies"})],
    "render": [("ok", [], {"method": "POST", "path": "/v1/render", "body": {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}],
        "add_generation_prompt": True}})],
    "tokenize": [("ok", [], {"method": "POST", "path": "/v1/tokenize", "body": {"text": "hi"}})],
    "detokenize": [("ok", [], {"method": "POST", "path": "/v1/detokenize", "body": {"token_ids": [104, 105, 257]}})],
    "generate": [
        ("ok", [PUT], {"method": "POST", "path": "/v1/generate", "body": {
            "policy_id": "alice", "prompt_token_ids": PROMPT, "n": 2,
            "sampling": {"max_tokens": 4, "temperature": 1.0, "top_p": 1.0, "top_k": -1, "seed": 1}}}),
        ("pinned_version_unavailable", [PUT], {"method": "POST", "path": "/v1/generate", "body": {
            "policy_id": "alice", "version": 3, "prompt_token_ids": PROMPT, "sampling": {"max_tokens": 4}}}),
        ("unknown_policy", [], {"method": "POST", "path": "/v1/generate", "body": {
            "policy_id": "nobody", "prompt_token_ids": PROMPT}}),
        ("out_of_vocab", [PUT], {"method": "POST", "path": "/v1/generate", "body": {
            "policy_id": "alice", "prompt_token_ids": [256, 9999]}}),
    ],
    "logprobs": [
        ("ok", [PUT], {"method": "POST", "path": "/v1/logprobs", "body": {
            "policy_id": "alice", "version": 0, "token_ids": PROMPT + COMPLETIONS[1]}}),
        ("base", [], {"method": "POST", "path": "/v1/logprobs", "body": {"token_ids": PROMPT}}),
        ("pinned_version_unavailable", [PUT], {"method": "POST", "path": "/v1/logprobs", "body": {
            "policy_id": "alice", "version": 2, "token_ids": PROMPT}}),
    ],
    "chat_completions": [
        ("ok", [PUT], {"method": "POST", "path": "/v1/chat/completions", "body": {
            "model": "alice", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "temperature": 1.0,
            "seed": 1, "logprobs": True}}),
        ("pinned", [PUT], {"method": "POST", "path": "/v1/chat/completions", "body": {
            "model": "alice@0", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 2}}),
        ("unknown_model", [], {"method": "POST", "path": "/v1/chat/completions", "body": {
            "model": "nobody", "messages": [{"role": "user", "content": "hi"}]}}),
        ("stream_refused", [PUT], {"method": "POST", "path": "/v1/chat/completions", "body": {
            "model": "alice", "messages": [{"role": "user", "content": "hi"}], "stream": True}}),
    ],
    "train": [
        ("ok", [PUT], {"method": "POST", "path": "/v1/train", "body": TRAIN}),
        ("idempotent_replay", [PUT, TRAIN_AGAIN], TRAIN_AGAIN),
        ("version_conflict", [PUT], {"method": "POST", "path": "/v1/train", "body": {**TRAIN, "expected_version": 1}}),
        ("stale_samples", [PUT], {"method": "POST", "path": "/v1/train", "body": {
            **TRAIN, "samples": [sample(0), sample(1, version=1)]}}),
        ("invalid_tokens", [PUT], {"method": "POST", "path": "/v1/train", "body": {
            **TRAIN, "samples": [sample(0), sample(1, completion_token_ids=[])]}}),
        ("no_signal", [PUT], {"method": "POST", "path": "/v1/train", "body": {
            **TRAIN, "samples": [sample(0, loss_mask=[0, 0]), sample(2, loss_mask=[0, 0])]}}),
        ("bad_request", [PUT], {"method": "POST", "path": "/v1/train", "body": {
            **TRAIN, "samples": [sample(0), {k: v for k, v in sample(1).items() if k != "reward"}]}}),
        ("unknown_policy", [], {"method": "POST", "path": "/v1/train", "body": TRAIN}),
    ],
    "checkpoint": [("ok", [PUT], {"method": "POST", "path": "/v1/policies/alice/checkpoint"})],
    "restore": [
        ("ok", [PUT, TRAIN_AGAIN], {"method": "POST", "path": "/v1/policies/alice/restore", "body": {"version": 0}}),
        ("not_found", [PUT], {"method": "POST", "path": "/v1/policies/alice/restore", "body": {"version": 7}}),
    ],
    "adapter": [("ok", [PUT], {"method": "GET", "path": "/v1/policies/alice/adapter?version=0"})],
    "errors": [
        ("bad_json", [], {"method": "POST", "path": "/v1/render", "raw": "{not json"}),
        ("unknown_route", [], {"method": "GET", "path": "/v1/nope"}),
    ],
}


def run_case(client: Client, setup, request):
    for r in setup:
        assert client.request(r["method"], r["path"], r.get("body")).status == 200, r
    raw = request.get("raw")
    return client.request(request["method"], request["path"], request.get("body"), raw.encode() if raw else None)


def describe(resp) -> dict:
    ctype = resp.headers.get("content-type", "")
    out = {"status": resp.status, "content_type": ctype}
    if ctype == "application/json":
        out["keys"] = sorted(resp.json)
        out["example"] = resp.json
    elif ctype == "application/x-ndjson":
        lines = resp.lines
        out["line_types"] = [ln["type"] for ln in lines]
        out["keys_by_type"] = {ln["type"]: sorted(ln) for ln in lines}
        out["example"] = lines
    else:
        out["bytes"] = len(resp.data)
    if "retry-after" in resp.headers:
        out["retry_after"] = resp.headers["retry-after"]
    return out


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    for name, cases in CASES.items():
        doc = {"endpoint": name, "cases": []}
        for case_name, setup, request in cases:
            srv = make_server(TinyBackend("tiny"), tempfile.mkdtemp(prefix="fixture-"))
            serve_in_thread(srv)
            try:
                resp = run_case(Client(srv.server_address[1]), setup, request)
            finally:
                srv.shutdown()
                srv.server_close()
            doc["cases"].append({"name": case_name, "setup": setup, "request": request, "response": describe(resp)})
        with open(os.path.join(HERE, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(name, [(c["name"], c["response"]["status"]) for c in doc["cases"]])


if __name__ == "__main__":
    main()
