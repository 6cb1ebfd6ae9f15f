"""One-shot check of the hf backend on a GPU: `python -m trainer.gpu_check --out DIR` from the repo root.

Stages (each reported on its own; a failure does not stop later stages that can still run):
  env       versions of torch/transformers/peft/accelerate, the GPU
  build     HFBackend("random:qwen2-tiny") (or --base-model / --hidden / --layers)
  policies  two policies; version-0 logprobs == base logprobs; adapter keys == PEFT's; adapter_config
  generate  n completions per policy, tokens/s; generation logprobs vs. token_logprobs recomputed
  train     REINFORCE++ steps on one policy (trainer.algorithm); step time, tokens/s, peak memory;
            every LoRA parameter of the trained policy changed, the other policy and the base bit-identical
  export    save_pretrained → PeftModel.from_pretrained on a fresh base; logprobs compared
  local_dir the random base saved as an HF directory and loaded back through HFBackend(<dir>)
Writes DIR/gpu_check.json and prints a summary; exits 1 if any stage failed. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from typing import Any, Callable, Dict, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

GEN_LOGPROB_FAIL = 0.5  # max |generation logprob − recomputed logprob| above which the check fails (bf16)
EXPORT_FAIL = 1e-3  # max |Δ logprob| between the backend and PeftModel.from_pretrained on a fresh base
BASE_EQ_FAIL = 1e-4  # max |Δ| allowed between version-0 policy and base logprobs (expected: exactly 0)


class Report:
    def __init__(self) -> None:
        self.data: Dict[str, Any] = {"stages": {}}
        self.failed: List[str] = []

    def stage(self, name: str, fn: Callable[[Dict[str, Any]], None]) -> bool:
        res: Dict[str, Any] = {}
        t0 = time.time()
        print(f"== {name}", flush=True)
        try:
            fn(res)
            res["ok"] = True
        except Exception as e:
            res["ok"] = False
            res["error"] = f"{type(e).__name__}: {e}"
            res["traceback"] = traceback.format_exc()
            self.failed.append(name)
            print(f"!! {name} FAILED: {type(e).__name__}: {e}\n{res['traceback']}", flush=True)
        res["seconds"] = round(time.time() - t0, 3)
        self.data["stages"][name] = res
        for k, v in res.items():
            if k not in ("traceback",):
                print(f"   {k}: {v}", flush=True)
        return res["ok"]


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def _pad_batch(seqs: List[List[int]], pad: int, torch: Any, device: Any):
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)


def _completion_view(full: Any, prompt_lens: List[int], T: int, torch: Any) -> Any:
    """[B, L-1] next-token logprobs → [B, T] aligned to completion tokens (column j ↔ completion token j)."""
    idx = torch.tensor([[min(p - 1 + j, full.size(1) - 1) for j in range(T)] for p in prompt_lens],
                       dtype=torch.long, device=full.device)
    return full.gather(1, idx)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for gpu_check.json and the exported adapter")
    ap.add_argument("--base-model", default="random:qwen2-tiny", help="random:<arch> or a local HF directory")
    ap.add_argument("--hidden", type=int, default=None, help="hidden size of the random model (default 256)")
    ap.add_argument("--layers", type=int, default=None, help="layers of the random model (default 4)")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--n", type=int, default=16, help="completions per policy in the generation stage")
    ap.add_argument("--max-tokens", type=int, default=128, help="tokens per completion in the generation stage")
    ap.add_argument("--steps", type=int, default=4, help="REINFORCE++ steps (>= 2: lora_A only moves once B != 0)")
    ap.add_argument("--train-n", type=int, default=16, help="samples per train step")
    ap.add_argument("--train-tokens", type=int, default=64, help="completion tokens per train sample")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rep = Report()
    st: Dict[str, Any] = {}  # objects shared between stages
    base_model = args.base_model
    if base_model.startswith("random:"):
        if args.hidden is not None:
            base_model += f",hidden={args.hidden}"
        if args.layers is not None:
            base_model += f",layers={args.layers}"
    rep.data["args"] = vars(args) | {"resolved_base_model": base_model}

    # -- env --------------------------------------------------------------------------------------
    def env(res: Dict[str, Any]) -> None:
        import torch

        res["python"] = sys.version.split()[0]
        res["torch"] = torch.__version__
        res["cuda_available"] = torch.cuda.is_available()
        res["torch_cuda"] = torch.version.cuda
        for name in ("transformers", "peft", "accelerate", "tokenizers", "safetensors"):
            try:
                res[name] = __import__(name).__version__
            except Exception as e:
                res[name] = f"MISSING ({type(e).__name__}: {e})"
        if torch.cuda.is_available():
            res["gpu"] = torch.cuda.get_device_name(0)
            res["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
        _check(args.device == "cpu" or torch.cuda.is_available(), "CUDA is not available")
        for name in ("transformers", "peft", "accelerate"):
            _check(not str(res[name]).startswith("MISSING"), f"{name} is not importable: {res[name]}")

    rep.stage("env", env)

    # -- build ------------------------------------------------------------------------------------
    def build(res: Dict[str, Any]) -> None:
        import torch

        from .hf_backend import HFBackend

        t0 = time.time()
        be = HFBackend(base_model, device=args.device, dtype=args.dtype, seed=args.seed)
        res["build_seconds"] = round(time.time() - t0, 3)
        st["be"] = be
        tok = be.tokenizer
        res["device"] = be.device
        res["max_context"] = be.max_context
        res["model_vocab_size"] = be.model_vocab_size
        res["tokenizer"] = {"vocab_size": tok.vocab_size, "eos_token_ids": tok.eos_token_ids,
                            "pad_token_id": tok.pad_token_id, "chat_template_sha256": tok.chat_template_sha256}
        res["base_params_millions"] = round(sum(p.numel() for p in be._base.parameters()) / 1e6, 2)
        msgs = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi."}]
        ids = tok.render(msgs)
        text = tok.hf.decode(ids)
        res["render_text"] = text
        _check(all(isinstance(i, int) for i in ids), "render must return ints")
        _check(text.endswith("<|im_start|>assistant\n") or not base_model.startswith("random:"),
               f"ChatML render ends wrongly: {text!r}")
        tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
        ids_t = tok.render(msgs, tools=tools)
        _check(len(ids_t) > len(ids), "rendering with tools must add tokens")
        _check(tok.decode(tok.encode("héllo wörld")) == "héllo wörld", "encode/decode round trip failed")
        st["prompts"] = [ids, tok.render([{"role": "user", "content": "Write the letter a many times."}])]
        st["torch"] = torch

    if not rep.stage("build", build):
        return finish(rep, args)
    be, torch = st["be"], st["torch"]
    from .backend import AdapterConfig, Sampling

    # -- policies ---------------------------------------------------------------------------------
    def policies(res: Dict[str, Any]) -> None:
        be.create_policy("alpha", AdapterConfig(r=16, alpha=32.0))
        be.create_policy("beta", AdapterConfig(r=8, alpha=16.0))
        _check(be.has_policy("alpha") and be.has_policy("beta") and not be.has_policy("gamma"), "has_policy")
        seqs = [st["prompts"][0] + [65, 66, 67, 68], st["prompts"][1], st["prompts"][0][:9]]
        ids, mask = _pad_batch(seqs, be.tokenizer.pad_token_id, torch, be.device)
        st["probe"] = (ids, mask)
        with torch.no_grad():
            ref = be.token_logprobs(None, ids, mask)
            res_max = {}
            for pid in ("alpha", "beta"):
                lp = be.token_logprobs(pid, ids, mask)
                _check(lp.dtype == torch.float32 and tuple(lp.shape) == (ids.size(0), ids.size(1) - 1),
                       f"token_logprobs shape/dtype {tuple(lp.shape)} {lp.dtype}")
                m = mask[:, 1:].bool()
                d = float((lp - ref)[m].abs().max())
                res_max[pid] = d
                res[f"{pid}_bit_identical_to_base"] = bool(torch.equal(lp[m], ref[m]))
        res["v0_vs_base_max_abs"] = res_max
        st["ref_probe"] = ref
        for pid in ("alpha", "beta"):
            _check(res_max[pid] <= BASE_EQ_FAIL, f"version-0 policy {pid} differs from the base by {res_max[pid]}")
        # adapter keys, compared with PEFT's own get_peft_model_state_dict
        from peft import get_peft_model_state_dict

        state = be.adapter_state("alpha")
        name = be._adapters["alpha"]
        try:
            peft_sd = get_peft_model_state_dict(be.model, adapter_name=name, save_embedding_layers=False)
        except TypeError:
            peft_sd = get_peft_model_state_dict(be.model, adapter_name=name)
        res["adapter_tensors"] = len(state)
        res["adapter_params"] = sum(t.numel() for t in state.values())
        res["adapter_key_example"] = sorted(state)[0]
        _check(set(state) == set(peft_sd), f"adapter_state keys differ from get_peft_model_state_dict: "
               f"{sorted(set(state) ^ set(peft_sd))[:4]}")
        _check(all(k.startswith("base_model.model.") and (".lora_A.weight" in k or ".lora_B.weight" in k)
                   for k in state), "adapter keys must be base_model.model.<path>.lora_{A,B}.weight")
        _check(all(float(t.abs().max()) == 0 for k, t in state.items() if ".lora_B." in k), "lora_B must start at 0")
        _check(len(be.trainable_parameters("alpha")) == len(state), "trainable_parameters must match adapter_state")
        cfg = be.peft_config("alpha")
        res["peft_config"] = {k: cfg.get(k) for k in ("r", "lora_alpha", "target_modules", "bias", "peft_type",
                                                       "task_type")}
        _check(cfg["r"] == 16 and cfg["lora_alpha"] == 32 and cfg["bias"] == "none" and cfg["peft_type"] == "LORA",
               f"peft_config: {res['peft_config']}")
        json.dumps(cfg)  # must be JSON-serializable

    if not rep.stage("policies", policies):
        return finish(rep, args)

    # -- generate ---------------------------------------------------------------------------------
    def generate(res: Dict[str, Any]) -> None:
        prompt = st["prompts"][0]
        for pid in ("alpha", "beta"):  # warm-up (kernels, allocator), not timed
            be.generate(pid, prompt, Sampling(max_tokens=args.max_tokens, seed=args.seed), n=args.n)
        sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
        gens: Dict[str, Any] = {}
        for pid in ("alpha", "beta"):
            sync()
            t0 = time.time()
            out = be.generate(pid, prompt, Sampling(max_tokens=args.max_tokens, seed=args.seed + 1), n=args.n)
            sync()
            dt = time.time() - t0
            ntok = sum(len(g.token_ids) for g in out)
            gens[pid] = out
            res[pid] = {"seconds": round(dt, 3), "tokens": ntok, "tokens_per_s": round(ntok / dt, 1),
                        "finish": {r: sum(g.finish_reason == r for g in out) for r in ("stop", "length")},
                        "sample_text": out[0].text[:80]}
            for g in out:
                _check(len(g.token_ids) == len(g.logprobs) and len(g.token_ids) >= 1, "ids/logprobs length")
                _check(g.finish_reason in ("stop", "length"), f"finish_reason {g.finish_reason}")
                _check(all(lp <= 1e-6 for lp in g.logprobs), "a logprob is > 0")
        # Same seed, same prompt, version 0 of both policies: identical samples (both equal the base).
        res["same_seed_same_samples_at_v0"] = [g.token_ids for g in gens["alpha"]] == [g.token_ids for g in gens["beta"]]
        # Recompute with token_logprobs on prompt ⊕ completion and compare.
        out = gens["alpha"]
        seqs = [prompt + g.token_ids for g in out]
        ids, mask = _pad_batch(seqs, be.tokenizer.pad_token_id, torch, be.device)
        with torch.no_grad():
            full = be.token_logprobs("alpha", ids, mask)
        T = max(len(g.token_ids) for g in out)
        rec = _completion_view(full, [len(prompt)] * len(out), T, torch).cpu()
        deltas = []
        for i, g in enumerate(out):
            for j, lp in enumerate(g.logprobs):
                deltas.append(abs(lp - float(rec[i, j])))
        mx = max(deltas)
        res["gen_vs_recomputed_max_abs"] = mx
        res["gen_vs_recomputed_mean_abs"] = sum(deltas) / len(deltas)
        # Truncated sampling path: temperature/top-p/top-k run and give finite logprobs ≤ 0.
        tr = be.generate("beta", prompt, Sampling(max_tokens=16, temperature=0.7, top_p=0.9, top_k=50, seed=3), n=4)
        _check(all(-1e9 < lp <= 1e-6 for g in tr for lp in g.logprobs), "truncated-sampling logprobs out of range")
        gd = be.generate("beta", prompt, Sampling(max_tokens=8, temperature=0.0), n=2)
        _check(gd[0].token_ids == gd[1].token_ids, "greedy samples must agree")
        _check(mx <= GEN_LOGPROB_FAIL, f"generation logprobs differ from recomputed ones by up to {mx} > {GEN_LOGPROB_FAIL}")

    rep.stage("generate", generate)

    # -- train ------------------------------------------------------------------------------------
    def train(res: Dict[str, Any]) -> None:
        try:
            from . import algorithm as alg

            compute_advantages, policy_loss = alg.compute_advantages, alg.policy_loss
            res["algorithm"] = "trainer.algorithm.compute_advantages + policy_loss"
        except Exception as e:  # pragma: no cover - only if the shared algorithm is absent
            raise RuntimeError(f"trainer.algorithm is not importable ({type(e).__name__}: {e})") from e
        letters = {be.tokenizer.encode(c)[0] for c in "abcdefghijklmnopqrstuvwxyz"}
        res["reward"] = "fraction of completion tokens that are one of the 26 lowercase ASCII letters"
        before_other = be.adapter_state("beta")
        before_pol = be.adapter_state("alpha")
        base_params = [(n, p) for n, p in be.model.named_parameters() if "lora_" not in n]
        base_bytes = sum(p.numel() * p.element_size() for _, p in base_params)
        base_copy = {n: p.detach().to("cpu", copy=True) for n, p in base_params} if base_bytes <= 8 * 2**30 else None
        ref_before = st["ref_probe"]
        params = be.trainable_parameters("alpha")
        opt = be.prepare_optimizer(torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0))
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        steps: List[Dict[str, Any]] = []
        prompts = st["prompts"]
        for step in range(args.steps):
            t0 = time.time()
            samples = []  # (prompt, completion)
            for k, pr in enumerate(prompts):  # train_n samples split over the prompts, one generate call each
                n_k = args.train_n // len(prompts) + (1 if k < args.train_n % len(prompts) else 0)
                sampling = Sampling(max_tokens=args.train_tokens, seed=1000 * step + k)
                for g in be.generate("alpha", pr, sampling, n=max(1, n_k)):
                    samples.append((pr, g.token_ids))
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            t_gen = time.time() - t0
            rewards = torch.tensor([sum(t in letters for t in c) / max(1, len(c)) for _, c in samples])
            seqs = [p + c for p, c in samples]
            ids, mask = _pad_batch(seqs, be.tokenizer.pad_token_id, torch, be.device)
            T = max(len(c) for _, c in samples)
            cmask = torch.zeros((len(samples), T))
            for i, (_, c) in enumerate(samples):
                cmask[i, : len(c)] = 1
            plens = [len(p) for p, _ in samples]
            t1 = time.time()
            with torch.no_grad():
                old = _completion_view(be.token_logprobs("alpha", ids, mask), plens, T, torch)
                ref = _completion_view(be.token_logprobs(None, ids, mask), plens, T, torch)
            # trainer.algorithm builds some tensors on the CPU, so the advantages are computed there.
            adv, _info = compute_advantages(old.cpu(), ref.cpu(), cmask, rewards, kl_coef=0.01)
            logp = _completion_view(be.token_logprobs("alpha", ids, mask), plens, T, torch)
            cm = cmask.to(logp.device)
            rho_dev = float(((logp.detach() - old).abs() * cm).max())
            loss, stats = policy_loss(logp, old, adv.to(logp.device), cm)
            be.backward(loss)
            gnorm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
            opt.step()
            opt.zero_grad()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            t_train = time.time() - t1
            ntok = int(mask.sum())
            steps.append({"step": step, "loss": float(loss.detach()), "reward_mean": float(rewards.mean()),
                          "grad_norm": gnorm, "ratio_mean": stats.get("ratio_mean"),
                          "max_abs_logp_minus_old": rho_dev, "gen_seconds": round(t_gen, 3),
                          "train_seconds": round(t_train, 3), "train_tokens": ntok,
                          "train_tokens_per_s": round(ntok / t_train, 1)})
            print(f"   step {steps[-1]}", flush=True)
        res["steps"] = steps
        if torch.cuda.is_available():
            res["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        res["mean_train_step_seconds"] = round(sum(s["train_seconds"] for s in steps) / len(steps), 3)
        after_pol = be.adapter_state("alpha")
        unchanged = [k for k in before_pol if torch.equal(before_pol[k], after_pol[k])]
        res["trained_params_unchanged"] = len(unchanged)
        other_changed = [k for k, t in be.adapter_state("beta").items() if not torch.equal(t, before_other[k])]
        res["other_policy_params_changed"] = len(other_changed)
        if base_copy is not None:
            base_changed = [n for n, p in base_params if not torch.equal(p.detach().cpu(), base_copy[n])]
            res["base_params_changed"] = len(base_changed)
        else:
            base_changed = []
            res["base_params_changed"] = "not checked (base > 8 GiB)"
        with torch.no_grad():
            ref_after = be.token_logprobs(None, *st["probe"])
        res["reference_bit_identical_after_training"] = bool(torch.equal(ref_after, ref_before))
        for k in unchanged:
            print(f"   Parameter {k} has not changed.")
        _check(not unchanged, f"{len(unchanged)} LoRA parameters of the trained policy did not change, e.g. {unchanged[:2]}")
        _check(not other_changed, f"the other policy's parameters changed: {other_changed[:2]}")
        _check(not base_changed, f"base parameters changed: {base_changed[:2]}")
        _check(res["reference_bit_identical_after_training"], "reference logprobs changed after training")

    rep.stage("train", train)

    # -- export -----------------------------------------------------------------------------------
    def export(res: Dict[str, Any]) -> None:
        import transformers
        from peft import PeftModel

        from .hf_backend import build_random_base

        adir = be.export_adapter("alpha", os.path.join(args.out, "adapters", "alpha"))
        files = sorted(os.listdir(adir))
        res["adapter_dir"] = adir
        res["files"] = files
        _check("adapter_config.json" in files, "adapter_config.json missing")
        _check("adapter_model.safetensors" in files or "adapter_model.bin" in files, "adapter weights missing")
        with open(os.path.join(adir, "adapter_config.json")) as f:
            saved = json.load(f)
        mine = be.peft_config("alpha")
        res["config_diff"] = {k: [saved.get(k), mine.get(k)] for k in ("r", "lora_alpha", "target_modules", "bias")
                              if (sorted(saved[k]) if isinstance(saved.get(k), list) else saved.get(k))
                              != (sorted(mine[k]) if isinstance(mine.get(k), list) else mine.get(k))}
        _check(not res["config_diff"], f"peft_config() differs from PEFT's adapter_config.json: {res['config_diff']}")
        if base_model.startswith("random:"):
            fresh, _ = build_random_base(base_model, args.seed, max_position_embeddings=max(be.max_context, 4096))
            base_dir = os.path.join(args.out, "base")
            fresh.save_pretrained(base_dir)
            be.tokenizer.hf.save_pretrained(base_dir)
            st["base_dir"] = base_dir
        else:
            fresh = transformers.AutoModelForCausalLM.from_pretrained(base_model)
        fresh = fresh.to(device=be.device, dtype=be.dtype).eval()
        ids, mask = st["probe"]
        with torch.no_grad():
            from .hf_backend import _gather_logprobs

            m = mask[:, 1:].bool()
            fresh_ref = _gather_logprobs(fresh(input_ids=ids, attention_mask=mask, use_cache=False).logits, ids,
                                         be.tokenizer.vocab_size)
            res["fresh_base_vs_reference_max_abs"] = float((fresh_ref - st["ref_probe"])[m].abs().max())
            peft_model = PeftModel.from_pretrained(fresh, adir).eval()
            loaded = _gather_logprobs(peft_model(input_ids=ids, attention_mask=mask, use_cache=False).logits, ids,
                                      be.tokenizer.vocab_size)
            mine_lp = be.token_logprobs("alpha", ids, mask)
        d = float((loaded - mine_lp)[m].abs().max())
        res["reloaded_vs_backend_max_abs"] = d
        res["trained_vs_base_max_abs"] = float((mine_lp - st["ref_probe"])[m].abs().max())
        _check(res["fresh_base_vs_reference_max_abs"] <= BASE_EQ_FAIL, "the fresh base differs from the backend's base")
        _check(d <= EXPORT_FAIL, f"reloaded adapter logprobs differ by {d} > {EXPORT_FAIL}")
        # adapter_state / load_adapter_state round trip through a copy
        state = be.adapter_state("alpha")
        be.create_policy("alpha_copy", AdapterConfig(r=16, alpha=32.0))
        be.load_adapter_state("alpha_copy", state)
        with torch.no_grad():
            lp_copy = be.token_logprobs("alpha_copy", ids, mask)
        res["load_adapter_state_bit_identical"] = bool(torch.equal(lp_copy[m], mine_lp[m]))
        _check(float((lp_copy - mine_lp)[m].abs().max()) <= BASE_EQ_FAIL, "load_adapter_state copy differs")
        del peft_model, fresh
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    rep.stage("export", export)

    # -- local_dir --------------------------------------------------------------------------------
    def local_dir(res: Dict[str, Any]) -> None:
        from .hf_backend import HFBackend

        base_dir = st.get("base_dir")
        if base_dir is None:
            res["skipped"] = "base is not random: (already a local directory) or export failed before saving it"
            return
        be2 = HFBackend(base_dir, device=args.device, dtype=args.dtype, seed=args.seed)
        res["chat_template_sha256_equal"] = be2.tokenizer.chat_template_sha256 == be.tokenizer.chat_template_sha256
        res["vocab_size_equal"] = be2.tokenizer.vocab_size == be.tokenizer.vocab_size
        ids, mask = st["probe"]
        with torch.no_grad():
            d = float((be2.token_logprobs(None, ids, mask) - st["ref_probe"])[mask[:, 1:].bool()].abs().max())
        res["reference_max_abs"] = d
        _check(res["chat_template_sha256_equal"] and res["vocab_size_equal"], "tokenizer changed through save/load")
        _check(d <= BASE_EQ_FAIL, f"base loaded from {base_dir} differs by {d}")
        del be2

    rep.stage("local_dir", local_dir)
    return finish(rep, args)


def finish(rep: Report, args: Any) -> int:
    rep.data["failed_stages"] = rep.failed
    rep.data["ok"] = not rep.failed
    path = os.path.join(args.out, "gpu_check.json")
    with open(path, "w") as f:
        json.dump(rep.data, f, indent=2, default=str)
    print("\n== summary")
    for name, res in rep.data["stages"].items():
        print(f"   {name:9s} {'ok' if res.get('ok') else 'FAILED: ' + str(res.get('error'))}  ({res.get('seconds')} s)")
    g = rep.data["stages"].get("generate", {})
    t = rep.data["stages"].get("train", {})
    for pid in ("alpha", "beta"):
        if isinstance(g.get(pid), dict):
            print(f"   generate {pid}: {g[pid]['tokens_per_s']} tokens/s")
    if "gen_vs_recomputed_max_abs" in g:
        print(f"   generation vs recomputed logprobs: max |Δ| {g['gen_vs_recomputed_max_abs']:.4g}")
    if "mean_train_step_seconds" in t:
        print(f"   train step {t['mean_train_step_seconds']} s, peak GPU memory {t.get('peak_gpu_memory_gib')} GiB")
    print(f"   wrote {path}")
    print("GPU CHECK PASSED" if rep.data["ok"] else f"GPU CHECK FAILED: {rep.failed}")
    return 0 if rep.data["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
