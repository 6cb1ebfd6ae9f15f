"""Scale figures of the hf backend on a GPU: `python -m trainer.gpu_scale_check --out DIR` from the repo root.

For each model size (random weights built in code, nothing downloaded):
  serial    R requests generated one after another (batch 1 each), tokens/s
  batched   the same R requests submitted at once to the scheduler (trainer/batching.py), tokens/s, and the
            ratio batched / serial; max |generation logprob − recomputed| over the batched outputs (bf16)
  train     one /v1/train-equivalent update (trainer/train.train_step) on the batched outputs: seconds, tokens,
            peak GPU memory
Writes DIR/gpu_scale_check.json and prints each figure; a stage that fails is reported and the others run.
The data-parallel sanity check (1 GPU under torch.distributed vs 1 process) is `python -m trainer.gpu_dp_check`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any, Dict, List

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SIZES = ("random:qwen2-tiny,hidden=512,layers=4,heads=8,kv_heads=8,intermediate=1408",
         "random:qwen2-tiny,hidden=2048,layers=16,heads=16,kv_heads=8,intermediate=5632")


def _measure(spec: str, requests: int, max_tokens: int) -> Dict[str, Any]:
    import torch

    from .backend import AdapterConfig, Sampling
    from .batching import Scheduler
    from .config import PolicyConfig
    from .data import parse_train_request
    from .hf_backend import HFBackend
    from .train import make_optimizer, train_step

    res: Dict[str, Any] = {"base_model": spec}
    cuda = not spec.startswith("tiny")  # a tiny spec runs the same stages on CPU, to check this script
    if cuda:
        be: Any = HFBackend(spec, device="cuda", seed=0)
        res["parameters"] = sum(p.numel() for p in be._base.parameters())  # noqa: SLF001
    else:
        from .tiny_backend import TinyBackend

        be = TinyBackend(spec)
        res["parameters"] = sum(p.numel() for p in be.model.parameters())
    be.create_policy("p", AdapterConfig(r=16, alpha=32))

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    tok = be.tokenizer
    prompts = [tok.render([{"role": "user", "content": f"Problem {i}: " + "why " * (i % 9)}]) for i in range(requests)]
    # EOS would end rows at random lengths; the figures compare equal work, so only max_tokens ends a row.
    sampling = [Sampling(max_tokens=max_tokens, seed=i) for i in range(requests)]
    eos = set(tok.eos_token_ids)
    be.tokenizer.eos_token_ids = []  # type: ignore[misc]
    try:
        be.generate("p", prompts[0], Sampling(max_tokens=8, seed=0))  # warm-up
        sync()
        t0 = time.time()
        serial = [be.generate("p", p, s)[0] for p, s in zip(prompts, sampling)]
        sync()
        t_serial = time.time() - t0
        sched = Scheduler(be, seed=0, max_batch_rows=max(64, requests))
        t0 = time.time()
        tickets = [sched.submit("p", p, s) for p, s in zip(prompts, sampling)]
        batched = [t.wait()[0] for t in tickets]  # type: ignore[index]
        sync()
        t_batched = time.time() - t0
        sched.close()
    finally:
        be.tokenizer.eos_token_ids = sorted(eos)  # type: ignore[misc]
    n_serial, n_batched = sum(len(g.token_ids) for g in serial), sum(len(g.token_ids) for g in batched)
    res.update(requests=requests, max_tokens=max_tokens, serial_tokens=n_serial, serial_s=round(t_serial, 3),
               serial_tokens_per_s=round(n_serial / t_serial, 1), batched_tokens=n_batched, batched_s=round(t_batched, 3),
               batched_tokens_per_s=round(n_batched / t_batched, 1),
               batched_over_serial=round((n_batched / t_batched) / (n_serial / t_serial), 2))
    worst = 0.0
    with torch.no_grad():
        for p, g in list(zip(prompts, batched))[:8]:
            x = torch.tensor([p + g.token_ids], device=be.device)
            lp = be.token_logprobs("p", x, torch.ones_like(x))[0, len(p) - 1:].float().cpu().tolist()
            worst = max(worst, max(abs(a - b) for a, b in zip(lp, g.logprobs)))
    res["batched_logprob_max_abs_diff"] = round(worst, 5)

    cfg = PolicyConfig.from_dict({"optimizer": {"lr": 1e-5}})
    samples = parse_train_request({"policy_id": "p", "expected_version": 0, "idempotency_key": "k", "samples": [
        {"sample_id": f"s{i}", "trajectory_id": f"t{i}", "action_index": 0, "policy_version": 0, "prompt_token_ids": p,
         "completion_token_ids": g.token_ids, "behavior_logprobs": g.logprobs, "reward": float(i % 2)}
        for i, (p, g) in enumerate(zip(prompts, batched))]})["samples"]
    opt = make_optimizer(be, "p", cfg)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    sync()
    t0 = time.time()
    metrics: Dict[str, Any] = {}
    for rec in train_step(be, "p", cfg, opt, samples, 0):
        if rec["type"] == "metrics":
            metrics = rec
    sync()
    res.update(train_s=round(time.time() - t0, 3), train_tokens=metrics.get("tokens"),
               train_peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None)
    del be
    if cuda:
        torch.cuda.empty_cache()
    return res


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m trainer.gpu_scale_check", description=__doc__)
    ap.add_argument("--out", default="gpu_scale_out")
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--sizes", nargs="*", default=list(SIZES))
    a = ap.parse_args()
    import torch

    os.makedirs(a.out, exist_ok=True)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    report: Dict[str, Any] = {"torch": torch.__version__, "device": device, "date": time.strftime("%F"),
                              "sizes": []}
    failed: List[str] = []
    for spec in a.sizes:
        try:
            res = _measure(spec, a.requests, a.max_tokens)
        except Exception as e:  # report and go on with the next size
            res = {"base_model": spec, "error": f"{type(e).__name__}: {e}"}
            failed.append(spec)
        report["sizes"].append(res)
        print(json.dumps(res), flush=True)
        with open(os.path.join(a.out, "gpu_scale_check.json"), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
