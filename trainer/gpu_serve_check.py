"""End-to-end check of the trainer *service* on a GPU: `python -m trainer serve --backend hf` on a random
HF model built in code, driven over HTTP exactly as `deno task train` drives it (chat completions with
token ids and policy versions, then /v1/train per policy), with step times and tokens/s.

Run from the repository root on a GPU machine:

    python -m trainer.gpu_serve_check --out DIR [--base-model random:qwen2-tiny,hidden=1024,layers=8]

It writes DIR/gpu_serve_check.json and exits 1 if a protocol expectation fails. Never part of the
default test command (it needs CUDA, transformers and peft).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional


def call(base: str, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as res:
        raw = res.read()
        if res.headers.get("content-type", "").startswith("application/x-ndjson"):
            return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
        if res.headers.get("content-type", "").startswith("application/json"):
            return json.loads(raw)
        return raw


def lowercase_fraction(text: str) -> float:
    return sum(c.islower() for c in text) / max(len(text), 1)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--base-model", default="random:qwen2-tiny")
    ap.add_argument("--backend", default="hf", choices=("hf", "tiny"), help="tiny: try the script on CPU")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--episodes", type=int, default=16, help="chat completions per policy per step")
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    port_file = os.path.join(args.out, "port")
    log = open(os.path.join(args.out, "trainer.log"), "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "trainer", "serve", "--backend", args.backend, "--base-model", args.base_model,
         "--out", os.path.join(args.out, "trainer"), "--port", "0", "--port-file", port_file, "--seed", "0"],
        stderr=log, stdout=subprocess.DEVNULL)
    report: Dict[str, Any] = {"base_model": args.base_model, "steps": [], "failures": []}
    try:
        deadline = time.time() + 300
        while not os.path.exists(port_file):
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("the trainer did not start; see trainer.log")
            time.sleep(0.2)
        base = f"http://127.0.0.1:{open(port_file).read().strip()}"
        info = call(base, "GET", "/v1/info")
        report["info"] = info
        config = {
            "adapter": {"r": 16, "alpha": 32},
            "optimizer": {"lr": 1e-4, "weight_decay": 0.0, "grad_clip": 1.0},
            "algo": {"name": "reinforce_pp", "kl_coef": 0.01, "kl_estimator": "k1", "clip_eps": [0.2, 0.2],
                     "reward_clip": [-10, 10], "gamma": 1.0, "ppo_epochs": 1, "minibatch_size": 4096,
                     "mask_truncated": False},
        }
        versions = {}
        for pid in ("solver", "verifier"):
            versions[pid] = call(base, "PUT", f"/v1/policies/{pid}", config)["version"]
        for step in range(1, args.steps + 1):
            row: Dict[str, Any] = {"step": step}
            for pid in ("solver", "verifier"):
                samples = []
                t0 = time.time()
                tokens = 0
                for k in range(args.episodes):
                    reply = call(base, "POST", "/v1/chat/completions", {
                        "model": pid, "max_tokens": args.max_tokens, "temperature": 1.0, "top_p": 1.0,
                        "messages": [{"role": "user", "content": f"Task {k}: write a short lowercase sentence."}],
                    })
                    choice = reply["choices"][0]
                    if reply["policy_version"] != versions[pid]:
                        report["failures"].append(f"{pid} step {step}: served version {reply['policy_version']}, expected {versions[pid]}")
                    ids = choice["token_ids"]
                    tokens += len(ids)
                    samples.append({
                        "sample_id": f"{pid}-{step}-{k}", "trajectory_id": f"t{step}-{k}", "action_index": 0,
                        "policy_version": reply["policy_version"], "prompt_token_ids": reply["prompt_token_ids"],
                        "completion_token_ids": ids,
                        "behavior_logprobs": [c["logprob"] for c in choice["logprobs"]["content"]],
                        "reward": lowercase_fraction(choice["message"]["content"]),
                    })
                gen_s = time.time() - t0
                t1 = time.time()
                lines = call(base, "POST", "/v1/train", {
                    "policy_id": pid, "expected_version": versions[pid],
                    "idempotency_key": f"{pid}-{step}", "samples": samples})
                train_s = time.time() - t1
                done = [l for l in lines if l.get("type") == "done"]
                if not done:
                    report["failures"].append(f"{pid} step {step}: no done line: {lines[-1:]}")
                    continue
                if done[0]["new_version"] != versions[pid] + 1:
                    report["failures"].append(f"{pid} step {step}: version {done[0]['new_version']}")
                versions[pid] = done[0]["new_version"]
                m = done[0]["metrics"]
                row[pid] = {
                    "gen_seconds": round(gen_s, 3), "gen_tokens": tokens, "gen_tokens_per_s": round(tokens / gen_s, 1),
                    "train_seconds": round(train_s, 3), "train_tokens": m.get("tokens"),
                    "train_tokens_per_s": round((m.get("tokens") or 0) / train_s, 1),
                    "reward_mean": m.get("reward_mean"), "kl": m.get("kl"), "mismatch_kl": m.get("mismatch_kl"),
                    "grad_norm": m.get("grad_norm"),
                }
            report["steps"].append(row)
            print(json.dumps(row), flush=True)
        # A stale expected_version must be refused with 409, not trained.
        try:
            call(base, "POST", "/v1/train", {"policy_id": "solver", "expected_version": 0, "idempotency_key": "stale",
                                              "samples": [{"sample_id": "x", "trajectory_id": "x", "action_index": 0,
                                                                      "policy_version": 0, "prompt_token_ids": [1, 2],
                                                                      "completion_token_ids": [3], "reward": 1.0}]})
            report["failures"].append("a stale expected_version was accepted")
        except urllib.error.HTTPError as e:
            report["stale_status"] = e.code
            if e.code != 409:
                report["failures"].append(f"a stale expected_version got HTTP {e.code}, not 409")
        tar_bytes = call(base, "GET", f"/v1/policies/solver/adapter?version={versions['solver']}")
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
            names = tar.getnames()
        report["adapter_files"] = names
        if not any(n.endswith("adapter_config.json") for n in names):
            report["failures"].append(f"the adapter tar has no adapter_config.json: {names}")
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the exit code says it
        report["failures"].append(f"{type(e).__name__}: {e}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    with open(os.path.join(args.out, "gpu_serve_check.json"), "w") as f:
        json.dump(report, f, indent=2)
    print("GPU SERVE CHECK " + ("PASSED" if not report["failures"] else "FAILED: " + "; ".join(report["failures"])))
    return 0 if not report["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
