"""Policy registry: versions, per-policy locking, checkpoints, idempotency (reference/trainer-protocol.md §4–§5).

Each policy has its own condition variable: generation holds a read slot; a train call first marks the
policy "training" (new generations get 503), waits for in-flight generations of *that* policy to drain,
trains, publishes `<out>/policies/<id>/v<k+1>/` atomically, then bumps the version by exactly 1.
Other policies are never blocked.

Data parallel (distributed.py): every rank holds a Registry. Rank 0's repeats each state change on the
other ranks (`_mirror`: creation, train, restore, roll-back), so all ranks hold the same adapters and
optimizer state; only rank 0 writes checkpoints and metrics.jsonl.

Checkpoint directory v<k>/ (a PEFT adapter directory vLLM can load, plus trainer state):
  adapter_config.json, adapter_model.bin (torch.save), adapter_model.safetensors (pure-Python writer),
  trainer_state.pt = {adapter, optimizer, config, version, schema_version, metrics, idempotency}.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import torch

from . import safetensors_io
from .config import PolicyConfig
from .data import check_tokens
from .distributed import SINGLE, RankFailure, Single
from .errors import ApiError, bad_request
from .train import check_signal, make_optimizer, train_step

SCHEMA_VERSION = 1
log = logging.getLogger("trainer")
POLICY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
PEFT_FILES = ("adapter_config.json", "adapter_model.bin", "adapter_model.safetensors")


class Policy:
    def __init__(self, policy_id: str, config: PolicyConfig, optimizer: Any) -> None:
        self.id = policy_id
        self.config = config
        self.optimizer = optimizer
        self.version = 0
        self.state = "ready"
        self.readers = 0
        self.last_metrics: Optional[Dict[str, Any]] = None
        self.applied: Dict[str, Dict[str, Any]] = {}  # idempotency_key → the recorded done line
        self.cond = threading.Condition()


class Registry:
    def __init__(self, backend: Any, out: str, max_policies: int = 16, max_lora_rank: int = 64, retry_after_s: int = 1,
                 group: Optional[Single] = None) -> None:
        self.backend = backend
        self.group = group or SINGLE
        self.leader = self.group.rank == 0  # rank 0: serves HTTP, writes checkpoints, sends commands to the other ranks
        self.out = out
        self.max_policies = max_policies
        self.max_lora_rank = max_lora_rank
        self.retry_after_s = retry_after_s
        self.policies: Dict[str, Policy] = {}
        self.lock = threading.Lock()
        self.metrics_lock = threading.Lock()
        # The tiny backend runs policies concurrently; a backend without `thread_safe = True` (hf) is serialized.
        self.compute_lock: Any = contextlib.nullcontext() if getattr(backend, "thread_safe", False) else threading.RLock()
        os.makedirs(os.path.join(out, "policies"), exist_ok=True)

    # -- lookup and creation ----------------------------------------------------------------------

    def get(self, policy_id: str) -> Policy:
        p = self.policies.get(policy_id)
        if p is None:
            raise ApiError(404, "policy_not_found", f"policy {policy_id!r} does not exist; create it with PUT /v1/policies/{policy_id}",
                           policy_id=policy_id, known=sorted(self.policies))
        return p

    def describe(self, p: Policy) -> Dict[str, Any]:
        return {"policy_id": p.id, "version": p.version, "state": p.state, "served_name": f"{p.id}@{p.version}",
                "last_metrics": p.last_metrics, "checkpoints": self.checkpoints(p.id), "config": p.config.to_dict()}

    def put(self, policy_id: str, body: Any) -> tuple:
        """(status, body): 200 {policy_id, version}. An existing policy keeps its adapter and version: the same
        adapter config with other hyperparameters (a resumed run with more steps changes the schedule) updates
        them; another adapter config is 409."""
        if not POLICY_ID.match(policy_id or ""):
            raise bad_request(f"policy id {policy_id!r} must match {POLICY_ID.pattern} (no '@' or '/')")
        try:
            cfg = PolicyConfig.from_dict(body)
        except ValueError as e:
            raise bad_request(str(e)) from None
        if cfg.adapter.r > self.max_lora_rank:
            raise bad_request(f"adapter.r = {cfg.adapter.r} exceeds max_lora_rank {self.max_lora_rank}; lower r")
        with self.lock:
            existing = self.policies.get(policy_id)
            if existing is not None:
                if existing.config.adapter != cfg.adapter:
                    raise ApiError(409, "policy_exists", f"policy {policy_id!r} exists with a different adapter config; PUT "
                                   "the same adapter (r, alpha, target_modules, init_from), or use a new policy id",
                                   current_config=existing.config.to_dict(), version=existing.version)
                if existing.config.to_dict() != cfg.to_dict():
                    self._reconfigure(existing, cfg)
                    self._mirror("config", lambda: (policy_id, body))
                return 200, {"policy_id": policy_id, "version": existing.version}
            if len(self.policies) >= self.max_policies:
                raise ApiError(409, "too_many_policies", f"{len(self.policies)} policies exist, max_policies is {self.max_policies}; "
                               "restart the server with a larger --max-policies")
            self.group.check()
            try:
                with self.compute_lock:
                    self.backend.create_policy(policy_id, cfg.adapter)
                    if cfg.adapter.init_from:
                        self.backend.load_adapter_state(policy_id, read_adapter_dir(cfg.adapter.init_from))
            except (ValueError, OSError) as e:
                if self.backend.has_policy(policy_id) and hasattr(self.backend, "delete_policy"):
                    self.backend.delete_policy(policy_id)
                raise bad_request(f"adapter: {e}") from None
            p = Policy(policy_id, cfg, make_optimizer(self.backend, policy_id, cfg))
            try:  # the other ranks create it too, then take rank 0's tensors (an hf LoRA A is drawn per rank)
                self._mirror("put", lambda: (policy_id, body, self.policy_state(p)))
            except RankFailure:
                if hasattr(self.backend, "delete_policy"):
                    self.backend.delete_policy(policy_id)
                raise
            self.policies[policy_id] = p
        if self.leader and not os.path.isdir(self.version_dir(policy_id, 0)):
            with self.compute_lock:
                self.save(p)
        return 200, {"policy_id": policy_id, "version": 0}

    # -- generation side --------------------------------------------------------------------------

    @contextlib.contextmanager
    def serving(self, policy_id: str, version: Optional[int] = None) -> Iterator[Policy]:
        """Holds a read slot on the current version; 503 while training, 409 for a non-resident pinned version."""
        p = self.get(policy_id)
        with p.cond:
            if p.state == "training":
                raise self._training_error(p)
            if version is not None and version != p.version:
                raise ApiError(409, "version_unavailable", f"{policy_id}@{version} is not resident; the server holds "
                               f"{policy_id}@{p.version} only. Use version {p.version} or omit it", current_version=p.version)
            p.readers += 1
        try:
            yield p
        finally:
            with p.cond:
                p.readers -= 1
                p.cond.notify_all()

    def _training_error(self, p: Policy) -> ApiError:
        return ApiError(503, "policy_training", f"policy {p.id!r} is training version {p.version + 1}; retry after "
                        f"{self.retry_after_s}s", headers={"Retry-After": str(self.retry_after_s)}, current_version=p.version)

    # -- training ---------------------------------------------------------------------------------

    def begin_train(self, req: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        """Validates everything (raising ApiError before any byte is streamed), then returns the NDJSON line iterator."""
        p = self.get(req["policy_id"])
        key = req["idempotency_key"]
        with p.cond:
            if key in p.applied:
                done = p.applied[key]
                return iter([done])
            if p.state == "training":
                raise self._training_error(p)
            self.group.check()
            if req["expected_version"] != p.version:
                raise ApiError(409, "version_conflict", f"expected_version {req['expected_version']} but {p.id!r} is at "
                               f"version {p.version}; regenerate samples at version {p.version}", current_version=p.version)
            samples = req["samples"]
            if p.config.algo.strict_on_policy:
                stale = [s.sample_id for s in samples if s.policy_version != p.version]
                if stale:
                    raise ApiError(422, "stale_samples", f"{len(stale)} samples were not generated at version {p.version} "
                                   f"(strict on-policy); drop them and resample", sample_ids=stale, current_version=p.version)
            tok = self.backend.tokenizer
            check_tokens(samples, tok.vocab_size, self.backend.max_context)
            check_signal(samples, p.config, tok.eos_token_ids)
            p.state = "training"
            while p.readers:
                p.cond.wait(timeout=1.0)
        return self._run_train(p, req)

    def _run_train(self, p: Policy, req: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        adapter_before: Optional[Dict[str, Any]] = None
        opt_before: Optional[Dict[str, Any]] = None
        t0 = time.time()
        finished = False
        published = False
        stepping = False  # inside the update's collectives

        def roll_back() -> None:
            if adapter_before is None or opt_before is None or published:
                return
            with self.compute_lock:
                self.backend.load_adapter_state(p.id, adapter_before)
                p.optimizer.load_state_dict(opt_before)
            if self.leader and not self.group.broken:  # the other ranks may have finished the update: undo it there too
                try:
                    self._mirror("load", lambda: (p.id, self.policy_state(p)))
                except ApiError as e:
                    log.error("cannot roll %s back on the other ranks: %s", p.id, e.message)

        try:
            # Inside the try: a failure here (out of memory) must still return the policy to "ready".
            adapter_before = self.backend.adapter_state(p.id)
            opt_before = copy.deepcopy(p.optimizer.state_dict())
            metrics: Dict[str, Any] = {}
            with self.compute_lock, self.group.lock:
                self._mirror("train", lambda: req)
                stepping = True
                steps = self.group.run_to_end(train_step(self.backend, p.id, p.config, p.optimizer, req["samples"],
                                                         p.version, self.group, req.get("step"),
                                                         req.get("total_steps")))
                try:
                    for rec in steps:
                        if rec["type"] == "metrics":
                            metrics = {k: v for k, v in rec.items() if k != "type"}
                        else:
                            yield rec
                finally:
                    steps.close()  # the client went away: finish the update with the other ranks (then roll back)
                stepping = False
                metrics["seconds"] = time.time() - t0
                new_version = p.version + 1
                done = {"type": "done", "policy_id": p.id, "new_version": new_version,
                        "adapter_dir": os.path.abspath(self.version_dir(p.id, new_version)), "metrics": metrics}
                applied = dict(p.applied)
                applied[req["idempotency_key"]] = done
                if self.leader:
                    self.save(p, version=new_version, metrics=metrics, applied=applied)
            with p.cond:
                p.version, p.last_metrics, p.applied = new_version, metrics, applied
            published = True  # from here on the new version stands, whatever happens next
            try:
                self._log_metrics({"policy_id": p.id, "idempotency_key": req["idempotency_key"], "ok": True,
                                   "version": new_version, **metrics})
            except OSError as e:
                log.warning("cannot append to %s/metrics.jsonl: %s", self.out, e)
            finished = True
            yield done
        except GeneratorExit:
            raise
        except Exception as e:  # keep the old version: roll the adapter and optimizer back
            if stepping and not isinstance(e, ApiError):  # only this rank failed: the others are out of step for good
                self.group.fail(f"rank {self.group.rank} failed during the update: {type(e).__name__}: {e}")
            roll_back()
            code = e.code if isinstance(e, ApiError) else "train_failed"
            msg = e.message if isinstance(e, ApiError) else f"{type(e).__name__}: {e}"
            self._log_metrics({"policy_id": p.id, "idempotency_key": req["idempotency_key"], "ok": False,
                               "version": p.version, "error": code, "message": msg})
            finished = True
            yield {"type": "error", "error": code, "message": f"training {p.id}@{p.version} failed, version kept: {msg}",
                   "current_version": p.version}
        finally:
            if not finished:  # the client went away mid-stream: roll back too
                roll_back()
            with p.cond:
                p.state = "ready"
                p.cond.notify_all()

    def _log_metrics(self, rec: Dict[str, Any]) -> None:
        if not self.leader:
            return
        line = json.dumps({"time": time.time(), **rec}, default=float)
        with self.metrics_lock, open(os.path.join(self.out, "metrics.jsonl"), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    # -- checkpoints ------------------------------------------------------------------------------

    def version_dir(self, policy_id: str, version: int) -> str:
        return os.path.join(self.out, "policies", policy_id, f"v{version}")

    def checkpoints(self, policy_id: str) -> List[int]:
        d = os.path.join(self.out, "policies", policy_id)
        if not os.path.isdir(d):
            return []
        return sorted(int(n[1:]) for n in os.listdir(d) if re.fullmatch(r"v\d+", n)
                      and os.path.isfile(os.path.join(d, n, "trainer_state.pt")))

    def save(self, p: Policy, version: Optional[int] = None, metrics: Any = None, applied: Any = None) -> str:
        """Writes v<version>/ into a temp dir, then renames it into place (replacing an older copy)."""
        version = p.version if version is None else version
        final = self.version_dir(p.id, version)
        parent = os.path.dirname(final)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".v{version}-", dir=parent)
        adapter = self.backend.adapter_state(p.id)
        with open(os.path.join(tmp, "adapter_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.backend.peft_config(p.id), f, indent=2)
        torch.save(adapter, os.path.join(tmp, "adapter_model.bin"))
        safetensors_io.save_file(adapter, os.path.join(tmp, "adapter_model.safetensors"))
        state = {"adapter": adapter, "optimizer": p.optimizer.state_dict(), "config": p.config.to_dict(),
                 "version": version, "schema_version": SCHEMA_VERSION,
                 "metrics": p.last_metrics if metrics is None else metrics,
                 "idempotency": p.applied if applied is None else applied}
        with tempfile.NamedTemporaryFile(dir=tmp, suffix=".pt.tmp", delete=False) as f:
            torch.save(state, f)
        os.replace(f.name, os.path.join(tmp, "trainer_state.pt"))
        with open(os.path.join(tmp, "idempotency.json"), "w", encoding="utf-8") as f:
            json.dump(state["idempotency"], f, default=float)
        if os.path.exists(final):
            trash = tempfile.mkdtemp(prefix=f".old-v{version}-", dir=parent)
            os.replace(final, os.path.join(trash, "old"))
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
        return os.path.abspath(final)

    def checkpoint(self, policy_id: str) -> Dict[str, Any]:
        with self.serving(policy_id) as p:
            d = self.version_dir(p.id, p.version)
            if os.path.isfile(os.path.join(d, "trainer_state.pt")):
                path = os.path.abspath(d)
            else:
                with self.compute_lock:
                    path = self.save(p)
            return {"policy_id": p.id, "version": p.version, "path": path}

    def restore(self, policy_id: str, version: Any) -> Dict[str, Any]:
        p = self.get(policy_id)
        if not (isinstance(version, int) and not isinstance(version, bool) and version >= 0):
            raise bad_request(f"version must be a non-negative integer, got {version!r}")
        path = os.path.join(self.version_dir(policy_id, version), "trainer_state.pt")
        if not os.path.isfile(path):
            raise ApiError(404, "checkpoint_not_found", f"no checkpoint {policy_id}@{version} under {self.out}; restore one of "
                           "the available versions", available=self.checkpoints(policy_id))
        state = torch.load(path, map_location="cpu")
        saved = PolicyConfig.from_dict(state["config"])
        if saved.adapter != p.config.adapter:
            raise ApiError(409, "config_mismatch", f"checkpoint {policy_id}@{version} has adapter {state['config']['adapter']}, "
                           f"the policy has {p.config.to_dict()['adapter']}; PUT the policy with the checkpoint's adapter config")
        with p.cond:
            if p.state == "training":
                raise self._training_error(p)
            self.group.check()
            p.state = "training"
            while p.readers:
                p.cond.wait(timeout=1.0)
        try:
            with self.compute_lock:
                self.backend.load_adapter_state(policy_id, state["adapter"])
            p.optimizer.load_state_dict(state["optimizer"])
            o = p.config.optimizer
            for group in p.optimizer.param_groups:  # the PUT config wins for hyperparameters
                group.update(lr=o.lr, weight_decay=o.weight_decay, betas=tuple(o.betas))
            p.version, p.last_metrics, p.applied = int(state["version"]), state.get("metrics"), dict(state.get("idempotency") or {})
            self._mirror("load", lambda: (policy_id, self.policy_state(p)))
        finally:
            with p.cond:
                p.state = "ready"
                p.cond.notify_all()
        return {"policy_id": policy_id, "version": p.version}

    def _reconfigure(self, p: Policy, cfg: PolicyConfig) -> None:
        """New optimizer and algorithm settings for the next updates; the adapter, its optimizer state and the
        version stay (the learning rate is set per update from the schedule)."""
        with p.cond:
            if p.state == "training":
                raise self._training_error(p)
            self.group.check()
            p.config = cfg
            o = cfg.optimizer
            for group in p.optimizer.param_groups:
                group.update(weight_decay=o.weight_decay, betas=tuple(o.betas))

    # -- the other ranks (distributed.py) ---------------------------------------------------------

    def _mirror(self, kind: str, payload: Callable[[], Any]) -> None:
        """Rank 0: has the other ranks repeat a state change (distributed.serve_worker); a no-op elsewhere."""
        if self.leader and self.group.world_size > 1:
            with self.group.lock:
                self.group.send(kind, payload())

    def policy_state(self, p: Policy) -> Dict[str, Any]:
        """What another rank needs to hold exactly this policy: adapter, optimizer state, version, idempotency."""
        return {"adapter": self.backend.adapter_state(p.id), "optimizer": p.optimizer.state_dict(), "version": p.version,
                "metrics": p.last_metrics, "applied": p.applied}

    def load_policy_state(self, policy_id: str, state: Dict[str, Any]) -> None:
        p = self.get(policy_id)
        with self.compute_lock:
            self.backend.load_adapter_state(policy_id, state["adapter"])
            p.optimizer.load_state_dict(state["optimizer"])
        with p.cond:
            p.version, p.last_metrics, p.applied = state["version"], state["metrics"], dict(state["applied"])

    def adapter_tar(self, policy_id: str, version: Optional[int]) -> bytes:
        p = self.get(policy_id)
        version = p.version if version is None else version
        d = self.version_dir(policy_id, version)
        if not os.path.isfile(os.path.join(d, "adapter_config.json")):
            raise ApiError(404, "checkpoint_not_found", f"no adapter {policy_id}@{version}; ask for one of the available versions",
                           available=self.checkpoints(policy_id))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name in PEFT_FILES:
                tar.add(os.path.join(d, name), arcname=name)
        return buf.getvalue()


def read_adapter_dir(path: str) -> Dict[str, torch.Tensor]:
    """Adapter tensors of a PEFT directory (safetensors preferred, else adapter_model.bin)."""
    st = os.path.join(path, "adapter_model.safetensors")
    if os.path.isfile(st):
        return safetensors_io.load_file(st)
    bin_path = os.path.join(path, "adapter_model.bin")
    if os.path.isfile(bin_path):
        return torch.load(bin_path, map_location="cpu")
    raise ValueError(f"adapter.init_from {path!r} holds neither adapter_model.safetensors nor adapter_model.bin; pass a PEFT adapter directory")
