"""Data-parallel sanity on one machine: `python -m trainer.gpu_dp_check --out DIR [--nproc 1]` from the repo root.

Starts `python -m trainer serve` twice on the same base — once as a plain process, once as `--nproc` ranks of
torch.distributed (the env contract torchrun uses: MASTER_ADDR/PORT, RANK, WORLD_SIZE, LOCAL_RANK) — sends both
the same /v1/train batch (generated once, by the plain trainer), and reports each update's seconds and the
largest difference between the two v1 adapters. On a GPU box: `--backend hf --base-model random:qwen2-tiny`;
`--backend tiny` runs the same check on CPU with gloo. Writes DIR/gpu_dp_check.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(port: int, method: str, path: str, body: Any = None, timeout: float = 600) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read().decode()
        if r.status >= 400:
            raise RuntimeError(f"{method} {path}: {r.status} {data[:500]}")
        lines = [json.loads(x) for x in data.splitlines() if x.strip()]
        return lines if len(lines) != 1 else lines[0]
    finally:
        conn.close()


def _start(out: str, args: List[str], nproc: int) -> tuple:
    """(port, processes): nproc = 0 starts a plain process; nproc >= 1 that many ranks."""
    os.makedirs(out, exist_ok=True)
    port_file = os.path.join(out, "port")
    cmd = [sys.executable, "-m", "trainer", "serve", "--out", out, "--port-file", port_file, *args]
    procs = []
    master = str(_free_port())
    for rank in range(max(nproc, 1)):
        env = dict(os.environ)
        if nproc >= 1:
            env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=master, WORLD_SIZE=str(nproc), RANK=str(rank), LOCAL_RANK=str(rank))
        log = open(os.path.join(out, f"rank{rank}.log") if nproc else os.path.join(out, "trainer.log"), "w")
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=log))
    deadline = time.time() + 600
    while not os.path.exists(port_file):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"the trainer in {out} did not start; see its logs there")
        time.sleep(0.2)
    return int(open(port_file).read()), procs


def _max_diff(a_dir: str, b_dir: str) -> float:
    import torch

    a = torch.load(os.path.join(a_dir, "adapter_model.bin"), map_location="cpu")
    b = torch.load(os.path.join(b_dir, "adapter_model.bin"), map_location="cpu")
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m trainer.gpu_dp_check", description=__doc__)
    ap.add_argument("--out", default="gpu_dp_out")
    ap.add_argument("--backend", default="hf")
    ap.add_argument("--base-model", default="random:qwen2-tiny")
    ap.add_argument("--nproc", type=int, default=1)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=128)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    common = ["--backend", a.backend, "--base-model", a.base_model]
    policy = {"optimizer": {"lr": 1e-4}}
    report: Dict[str, Any] = {"date": time.strftime("%F"), "backend": a.backend, "base_model": a.base_model, "nproc": a.nproc}
    procs: List[Any] = []
    try:
        plain_port, p1 = _start(os.path.join(a.out, "plain"), common, 0)
        dist_port, p2 = _start(os.path.join(a.out, "dist"), common, a.nproc)
        procs = p1 + p2
        for port in (plain_port, dist_port):
            _call(port, "PUT", "/v1/policies/p", policy)
        prompt = _call(plain_port, "POST", "/v1/render", {"messages": [{"role": "user", "content": "Solve 2+2."}]})["token_ids"]
        gen = _call(plain_port, "POST", "/v1/generate", {"policy_id": "p", "prompt_token_ids": prompt, "n": a.samples,
                                                          "sampling": {"max_tokens": a.max_tokens, "seed": 1}})
        samples = [{"sample_id": f"s{i}", "trajectory_id": f"t{i}", "action_index": 0, "policy_version": 0,
                    "prompt_token_ids": prompt, "completion_token_ids": o["token_ids"], "behavior_logprobs": o["logprobs"],
                    "reward": float(i % 2)} for i, o in enumerate(gen["outputs"])]
        for name, port in (("plain", plain_port), ("distributed", dist_port)):
            t0 = time.time()
            done = _call(port, "POST", "/v1/train", {"policy_id": "p", "expected_version": 0, "idempotency_key": "k",
                                                    "samples": samples})[-1]
            if done.get("type") != "done":
                raise RuntimeError(f"{name} update failed: {done}")
            report[f"{name}_train_s"] = round(time.time() - t0, 3)
            report[f"{name}_adapter_dir"] = done["adapter_dir"]
        report["tokens"] = sum(len(s["completion_token_ids"]) for s in samples)
        report["adapter_max_abs_diff"] = _max_diff(report["plain_adapter_dir"], report["distributed_adapter_dir"])
        report["ok"] = True
    except Exception as e:  # the report says what failed; the logs are in --out
        report["ok"], report["error"] = False, f"{type(e).__name__}: {e}"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    print(json.dumps(report, indent=2))
    with open(os.path.join(a.out, "gpu_dp_check.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
