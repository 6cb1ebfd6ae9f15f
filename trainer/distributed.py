"""Data-parallel updates on PyTorch's own distributed engine (reference/trainer-protocol.md §6, "Data parallel").

`torchrun` and `accelerate launch` start N copies of `python -m trainer serve` with MASTER_ADDR, MASTER_PORT,
RANK, WORLD_SIZE and LOCAL_RANK set; `init_from_env` joins that process group (gloo on CPU, NCCL on CUDA).

- Rank 0 serves HTTP. Ranks >= 1 run `serve_worker`: rank 0 sends them every registry call that changes
  state (`Group.send`: policy creation, train, restore, roll-back), they repeat it, so every rank holds the
  same adapters and optimizer state. Generation runs on rank 0 only; checkpoints are written by rank 0 only.
  While the server idles, rank 0 sends a no-op command every `--dist-timeout-s`/4 (`heartbeat`), so the other
  ranks' wait never times out and a rank that died or hangs is noticed before the next update.
- In an update (train.py) every rank gets the whole batch; each runs forward/backward on its token-balanced
  shard of the rows (`shard`), the loss weights use the whole minibatch's token count, and the LoRA gradients
  are summed across ranks (`sum_grads`) before clipping and the optimizer step: the update equals a
  one-process update within float error. After it, the ranks compare fingerprints of their adapters and
  optimizer state (`check_same`).
- A rank that dies or stops answering fails the collective on the others (gloo reports a closed connection at
  once; any collective gives up after `--dist-timeout-s`). The update rolls back, and the group is marked
  broken: rank 0 keeps serving generation but refuses training with one line saying how to fix it.

One process (no WORLD_SIZE, or WORLD_SIZE=1) uses `SINGLE`, whose collectives do nothing, so train.py and
policies.py run the same code either way.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import re
import threading
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import torch

from .errors import ApiError

log = logging.getLogger("trainer")
ENV = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")
FIX = "restart the trainer under torchrun and continue with deno task train --resume"


class RankFailure(ApiError):
    """A collective failed: a rank died or did not answer in time. The process group is broken from then on."""

    def __init__(self, message: str) -> None:
        super().__init__(503, "rank_failed", message)


def shard(rows: torch.Tensor, lengths: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """The rows of `rows` that `rank` computes: longest first, each to the rank with the fewest tokens so far
    (ties to the lower rank), so every rank gets about the same number of tokens. The same on every rank."""
    if world_size == 1:
        return rows
    tokens = [int(t) for t in lengths[rows].tolist()]
    load = [0] * world_size
    mine = []
    for i in sorted(range(len(tokens)), key=lambda i: (-tokens[i], i)):
        r = min(range(world_size), key=lambda k: (load[k], k))
        load[r] += tokens[i]
        if r == rank:
            mine.append(i)
    return rows[sorted(mine)]


class Single:
    """One process: every collective is the identity."""

    rank = 0
    world_size = 1
    broken: Optional[str] = None
    lock: Any = contextlib.nullcontext()

    def describe(self) -> Optional[Dict[str, Any]]:
        return None

    def check(self) -> None:
        """Raises 503 process_group_broken once a rank has failed."""

    def fail(self, reason: str) -> None:
        """Marks the group broken: this rank can no longer take part in collectives in step with the others."""

    def shard(self, rows: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return shard(rows, lengths, self.rank, self.world_size)

    def sum_(self, t: torch.Tensor, during: str = "the update") -> torch.Tensor:
        """Sums `t` over the ranks, in place; returns it."""
        return t

    def barrier(self, during: str) -> None:
        """Returns once every rank got here (RankFailure if one stopped or hangs)."""

    def heartbeat(self) -> None:
        """Rank 0: keeps the other ranks' wait for the next command alive while the server idles."""

    def close(self) -> None:
        """Rank 0, shutting down: lets the other ranks exit."""

    def sum_grads(self, params: Sequence[torch.Tensor]) -> None:
        """Sums the gradients of `params` over the ranks (a parameter without a gradient on every rank keeps none)."""

    def check_same(self, tensors: Sequence[torch.Tensor], what: str) -> None:
        """Raises unless every rank holds the same `tensors`."""

    def run_to_end(self, steps: Iterable[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
        """Yields from `steps`. Closed early (the HTTP client went away), it still runs `steps` to the end when
        other ranks take part: they are in the same update and wait for this rank at its collectives."""
        it = iter(steps)
        for rec in it:
            try:
                yield rec
            except GeneratorExit:
                if self.world_size > 1:
                    try:
                        for _ in it:
                            pass
                    except Exception as e:  # the update is rolled back anyway
                        log.warning("finishing an abandoned update with the other ranks: %s", e)
                raise


SINGLE = Single()


class Group(Single):
    """This process's place in a torch.distributed process group of `world_size` ranks."""

    def __init__(self, rank: int, world_size: int, local_rank: int, backend: str, timeout_s: float) -> None:
        import torch.distributed as dist

        self.dist = dist
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.backend, self.timeout_s = backend, timeout_s
        self.device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
        timeout = datetime.timedelta(seconds=timeout_s)
        # Commands travel as pickled objects over gloo (CPU), whatever moves the tensors.
        self.ctrl = None if backend == "gloo" else dist.new_group(backend="gloo", timeout=timeout)
        self.lock = threading.RLock()  # rank 0: one command (and its collectives) at a time
        self.broken = None
        self.broken_at: Optional[float] = None
        self.last_sent = time.time()
        self.closed = False

    def describe(self) -> Optional[Dict[str, Any]]:
        return {"backend": self.backend, "rank": self.rank, "timeout_s": self.timeout_s, "broken": self.broken}

    # -- failures ---------------------------------------------------------------------------------

    def fail(self, reason: str) -> None:
        if not self.broken:
            self.broken, self.broken_at = reason, time.time()
            log.error("process group broken: %s", reason)

    def check(self) -> None:
        if self.broken:
            when = time.strftime("%H:%M:%S", time.localtime(self.broken_at))
            raise ApiError(503, "process_group_broken", f"the trainer's process group broke at {when} ({self.broken}), so "
                           f"it refuses to train, create or restore policies (generation still serves); to train again, {FIX}")

    @contextlib.contextmanager
    def _collective(self, during: str) -> Iterator[None]:
        """Turns a failed collective into RankFailure and marks the group broken."""
        self.check()
        try:
            yield
        except RuntimeError as e:  # gloo: "Connection closed by peer", "Timed out waiting ..."; NCCL: "... timed out"
            text = re.sub(r"^\[[^\]]*\]\s*", "", (str(e).strip().splitlines() or [type(e).__name__])[0])[:240]
            if self.rank == 0:
                who = f"rank 1 of {self.world_size}" if self.world_size == 2 else f"one of ranks 1..{self.world_size - 1}"
            else:
                who = f"rank 0 of {self.world_size}"
            how = f"did not answer within {self.timeout_s:g} s" if "timed out" in text.lower() else "stopped"
            self.fail(f"{who} {how} during {during}: {text}")
            raise RankFailure(f"{who} {how} during {during} ({text}); {FIX}") from None

    # -- commands: rank 0 → ranks >= 1 ------------------------------------------------------------

    def send(self, kind: str, payload: Any) -> None:
        """Rank 0: tells every other rank to run one registry call (hold `lock` around it and its collectives)."""
        during = {"train": "the update", "ping": "a heartbeat", "put": "a policy creation",
                  "config": "a policy's new settings"}.get(kind, "a restore or roll-back")
        with self._collective(during):
            self.dist.broadcast_object_list([(kind, _to_cpu(payload))], src=0, group=self.ctrl)
        self.last_sent = time.time()

    def receive(self) -> Tuple[str, Any]:
        """Ranks >= 1: waits for rank 0's next command (rank 0's heartbeat comes well within the timeout)."""
        box: List[Any] = [None]
        with self._collective("a wait for the next command"):
            self.dist.broadcast_object_list(box, src=0, group=self.ctrl)
        return box[0]

    def heartbeat(self) -> None:
        """Rank 0: a thread that sends a no-op command when none went out for a quarter of the timeout."""
        period = self.timeout_s / 4

        def beat() -> None:
            while not (self.broken or self.closed):
                time.sleep(max(0.0, self.last_sent + period - time.time()) or period)
                if time.time() - self.last_sent >= period and self.lock.acquire(blocking=False):
                    try:
                        if not (self.broken or self.closed):
                            self.send("ping", None)
                    except ApiError:
                        pass  # logged; the next update is refused with it
                    finally:
                        self.lock.release()

        threading.Thread(target=beat, name="rank-heartbeat", daemon=True).start()

    def close(self) -> None:
        if self.rank == 0 and not self.broken:  # under torchrun the other ranks may have stopped already
            with self.lock, contextlib.suppress(RuntimeError):
                self.closed = True
                self.dist.broadcast_object_list([("stop", None)], src=0, group=self.ctrl)

    # -- collectives of an update -----------------------------------------------------------------

    def sum_(self, t: torch.Tensor, during: str = "the update") -> torch.Tensor:
        with self._collective(during):
            self.dist.all_reduce(t)
        return t

    def barrier(self, during: str) -> None:
        self.sum_(torch.zeros(1, device=self.device), during)

    def sum_grads(self, params: Sequence[torch.Tensor]) -> None:
        if not params:
            return
        dev = params[0].device
        grads = [p.grad for p in params]
        flat = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).float() for p, g in zip(params, grads)]
                         + [torch.tensor([float(g is not None) for g in grads], device=dev)])
        self.sum_(flat)
        has = flat[len(flat) - len(params):].tolist()
        offset = 0
        for p, h in zip(params, has):
            n = p.numel()
            p.grad = flat[offset:offset + n].view_as(p).to(p.dtype).clone() if h > 0 else None
            offset += n

    def check_same(self, tensors: Sequence[torch.Tensor], what: str) -> None:
        dev = self.device
        fp = torch.tensor([[float(t.double().sum()), float(t.double().abs().sum())] for t in tensors], dtype=torch.float64, device=dev)
        seen = [torch.zeros_like(fp) for _ in range(self.world_size)]
        with self._collective(f"the check of {what}"):
            self.dist.all_gather(seen, fp)
        differ = [r for r in range(1, self.world_size) if not torch.equal(seen[r], seen[0])]
        if differ:
            self.fail(f"ranks {differ} hold other {what} than rank 0 (a trainer bug)")
            raise RankFailure(f"{self.broken}; {FIX}")


def _to_cpu(obj: Any) -> Any:
    """`obj` with every tensor moved to the CPU, so it unpickles on any rank."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def init_from_env(timeout_s: float, device: str) -> Single:
    """Joins the process group torchrun / accelerate launch describe in the environment; `SINGLE` without one."""
    world_size = int(os.environ.get("WORLD_SIZE", "1") or "1")
    if world_size <= 1:
        return SINGLE
    missing = [k for k in ENV if not os.environ.get(k)]
    if missing:
        raise ValueError(f"WORLD_SIZE is {world_size} but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; start the trainer with "
                         "torchrun or accelerate launch, which set them all")
    import torch.distributed as dist

    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", os.environ["RANK"]))
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        # Without blocking wait a NCCL collective with a dead peer hangs instead of timing out.
        os.environ.setdefault("NCCL_BLOCKING_WAIT", "1")
        os.environ.setdefault("TORCH_NCCL_BLOCKING_WAIT", "1")
    logging.getLogger("torch.distributed").setLevel(logging.WARNING)  # its store barriers log at INFO
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return Group(rank, world_size, local_rank, backend, timeout_s)


def serve_worker(registry: Any, group: Group, state_dir: Optional[str] = None) -> int:
    """Ranks >= 1: repeats rank 0's registry calls until rank 0 stops (exit 0) or the group breaks (exit 1).

    Any other error leaves this rank out of step with rank 0, so the rank exits: rank 0 then sees it stop
    and fails the update in flight, instead of waiting for a rank that will never answer."""
    log.info("rank %d of %d (%s): repeating rank 0's updates", group.rank, group.world_size, group.backend)
    while True:
        try:
            kind, payload = group.receive()
        except RankFailure as e:
            log.error("%s", e.message)
            return 1
        if kind == "stop":
            log.info("rank 0 stopped the trainer")
            return 0
        try:
            if kind == "ping":
                continue
            if kind == "put":
                policy_id, body, state = payload
                registry.put(policy_id, body)
                registry.load_policy_state(policy_id, state)
            elif kind == "config":
                registry.put(*payload)
            elif kind == "load":
                registry.load_policy_state(*payload)
            elif kind == "train":
                for line in registry.begin_train(payload):
                    if line["type"] == "error":
                        log.warning("%s", line["message"])
            else:
                raise ValueError(f"unknown command {kind!r} from rank 0; run the same trainer version on every rank")
        except Exception:
            log.exception("rank %d cannot repeat rank 0's %s command; stopping this rank", group.rank, kind)
            return 1
        if group.broken:
            log.error("stopping rank %d: %s; %s", group.rank, group.broken, FIX)
            return 1
        if state_dir:
            _dump_state(registry, group.rank, state_dir)


def _dump_state(registry: Any, rank: int, state_dir: str) -> None:
    """Debugging aid (--rank-state-dir): this rank's policies, to compare with rank 0's checkpoints."""
    os.makedirs(state_dir, exist_ok=True)
    state = {pid: registry.policy_state(p) for pid, p in registry.policies.items()}
    tmp = os.path.join(state_dir, f".rank{rank}.pt.tmp")
    torch.save(state, tmp)
    os.replace(tmp, os.path.join(state_dir, f"rank{rank}.pt"))
