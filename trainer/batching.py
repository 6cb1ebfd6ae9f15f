"""Batched generation for the trainer service: one scheduler thread, one batch per policy.

Requests from HTTP threads queue here; the scheduler runs every active batch one decoding step at a time,
round-robin over policies. A backend whose batch `can_join` (tiny) admits new rows at the next decoding
step (continuous batching); the hf backend's batch is filled once and new requests wait for the next batch
of that policy (dynamic batching), since cutting rows in and out of transformers' KV cache objects is not
a stable API across versions. Batches are per policy, not mixed: a LoRA delta per row needs per-row
adapter kernels (punica / S-LoRA, which vLLM has), while one adapter per forward pass is plain torch.

A cancelled request (its client went away) leaves its batch at the next step; the others go on.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

import torch

from .backend import Generation, Sampling
from .errors import ApiError
from .sampling import row_generator, sample_rows


class Cancelled(Exception):
    """The request was cancelled (its client disconnected) before it finished."""


@dataclass
class _Request:
    policy_id: Optional[str]
    prompt: List[int]
    sampling: Sampling
    n: int
    stops: frozenset
    stop_strings: Tuple[str, ...] = ()
    stop_window: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    outputs: List[Optional[Generation]] = field(default_factory=list)
    error: Optional[BaseException] = None
    cancelled: bool = False
    left: int = 0

    def finish(self, error: Optional[BaseException] = None) -> None:
        if not self.done.is_set():
            self.error = error
            self.done.set()


@dataclass
class _Row:
    req: _Request
    index: int
    gen: Optional[torch.Generator]
    ids: List[int] = field(default_factory=list)
    lps: List[float] = field(default_factory=list)
    finish: Optional[str] = None


class _Batch:
    def __init__(self, state: Any, policy_id: Optional[str]) -> None:
        self.state, self.policy_id = state, policy_id
        self.rows: List[_Row] = []
        self.started = False


class Ticket:
    """A queued request: `wait(timeout)` returns its generations, or raises its error or `Cancelled`."""

    def __init__(self, req: _Request, scheduler: "Scheduler") -> None:
        self._req, self._scheduler = req, scheduler

    def wait(self, timeout: Optional[float] = None) -> Optional[List[Generation]]:
        """The generations once done; None if still running after `timeout` seconds."""
        if not self._req.done.wait(timeout):
            return None
        if self._req.error is not None:
            raise self._req.error
        return [g for g in self._req.outputs if g is not None]

    def cancel(self) -> None:
        self._scheduler.cancel(self._req)


class Scheduler:
    """Batches concurrent generation requests; `submit` is thread-safe, `generate` blocks until done."""

    def __init__(self, backend: Any, compute_lock: Any = None, max_batch_rows: int = 64, seed: int = 0) -> None:
        self.backend = backend
        self.compute_lock = compute_lock if compute_lock is not None else contextlib.nullcontext()
        self.max_batch_rows = max_batch_rows
        self.limit = backend.tokenizer.vocab_size
        self.shared = torch.Generator(device=_generator_device(backend.device)).manual_seed(int(seed))
        self._pending: Deque[_Request] = deque()
        self._batches: Dict[Optional[str], _Batch] = {}
        self._cv = threading.Condition()
        self._closed = False
        self._thread: Optional[threading.Thread] = None
        self.steps = 0
        """Decoding steps run (all batches); the benchmark reads rows per step from `row_steps`."""
        self.row_steps = 0

    # -- client side ------------------------------------------------------------------------------

    def submit(self, policy_id: Optional[str], prompt: Sequence[int], sampling: Sampling, n: int = 1,
               stop_strings: Sequence[str] = ()) -> Ticket:
        """Queues a request; a row also ends ("stop") once its decoded text holds one of `stop_strings`
        (the caller cuts the text; ending early only saves the compute past the stop)."""
        if n < 1:
            raise ValueError(f"n is {n}; it must be >= 1")
        stops = frozenset(self.backend.tokenizer.eos_token_ids) | frozenset(int(t) for t in sampling.stop_token_ids)
        strings = tuple(x for x in stop_strings if x)
        # Each token that decodes to text adds at least one character, so a stop string of L characters
        # lies within the last L + 8 tokens when it completes (8 spare for special tokens and split bytes).
        window = max((len(x) for x in strings), default=0) + 8
        req = _Request(policy_id, [int(i) for i in prompt], sampling, n, stops, strings, window, outputs=[None] * n, left=n)
        with self._cv:
            if self._closed:
                raise RuntimeError("the generation scheduler is stopped")
            self._pending.append(req)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="generation", daemon=True)
                self._thread.start()
            self._cv.notify_all()
        return Ticket(req, self)

    def generate(self, policy_id: Optional[str], prompt: Sequence[int], sampling: Sampling, n: int = 1) -> List[Generation]:
        out = self.submit(policy_id, prompt, sampling, n).wait()
        assert out is not None
        return out

    def cancel(self, req: _Request) -> None:
        with self._cv:
            req.cancelled = True
            self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the scheduler thread ---------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._closed and not self._pending and not self._batches:
                    self._cv.wait()
                if self._closed:
                    for r in list(self._pending) + [row.req for b in self._batches.values() for row in b.rows]:
                        r.finish(RuntimeError("the trainer is shutting down"))
                    return
                admit = self._admit()
            for policy_id in list(self._batches):
                batch = self._batches[policy_id]
                try:
                    with self.compute_lock, torch.no_grad():
                        self._run_step(batch, admit.get(policy_id, []))
                except Exception as e:  # out of memory, a backend bug: fail this batch's requests, keep serving
                    for r in {id(row.req): row.req for row in batch.rows}.values():
                        r.finish(e)
                    for r in admit.get(policy_id, []):
                        r.finish(e)
                    batch.rows = []
                if not batch.rows:
                    del self._batches[policy_id]

    def _admit(self) -> Dict[Optional[str], List[_Request]]:
        """Moves pending requests into batches that can take them (called with the lock held)."""
        admit: Dict[Optional[str], List[_Request]] = {}
        waiting: Deque[_Request] = deque()
        while self._pending:
            req = self._pending.popleft()
            if req.cancelled:
                req.finish(Cancelled())
                continue
            batch = self._batches.get(req.policy_id)
            if batch is None:
                try:
                    state = self.backend.open_batch(req.policy_id)
                except Exception as e:  # e.g. a policy deleted after the request was checked
                    req.finish(e)
                    continue
                batch = self._batches[req.policy_id] = _Batch(state, req.policy_id)
            joined = sum(r.n for r in admit.get(req.policy_id, []))
            room = self.max_batch_rows - len(batch.rows) - joined
            can = (batch.state.can_join or not batch.started) and (req.n <= room or (not batch.rows and not joined))
            if can:
                admit.setdefault(req.policy_id, []).append(req)
            else:
                waiting.append(req)
        self._pending = waiting
        return admit

    def _run_step(self, batch: _Batch, joining: List[_Request]) -> None:
        # Rows of cancelled requests leave first.
        if any(row.req.cancelled for row in batch.rows):
            for row in batch.rows:
                if row.req.cancelled:
                    row.req.finish(Cancelled())
            self._keep(batch, [i for i, row in enumerate(batch.rows) if not row.req.cancelled])
        if batch.rows:
            logits = batch.state.step([row.ids[-1] for row in batch.rows])
            self._sample(batch.rows, logits)
        if joining:
            new_rows = [_Row(req, j, row_generator(req.sampling.seed, j, _generator_device(self.backend.device)))
                        for req in joining for j in range(req.n)]
            logits = batch.state.add([(req.prompt, req.n) for req in joining])
            batch.started = True
            batch.rows.extend(new_rows)
            self._sample(new_rows, logits)
        self.steps += 1
        self.row_steps += len(batch.rows)
        finished = [i for i, row in enumerate(batch.rows) if row.finish is not None]
        if finished:
            for i in finished:
                row = batch.rows[i]
                row.req.outputs[row.index] = Generation(row.ids, row.lps, row.finish, self.backend.tokenizer.decode(row.ids))
                row.req.left -= 1
                if row.req.left == 0:
                    row.req.finish()
            self._keep(batch, [i for i, row in enumerate(batch.rows) if row.finish is None])

    def _sample(self, rows: List[_Row], logits: torch.Tensor) -> None:
        params, gens = [r.req.sampling for r in rows], [r.gen for r in rows]
        try:
            toks, lps = sample_rows(logits, params, gens, self.shared, self.limit)
            good = list(range(len(rows)))
        except Exception:  # one request's sampling must not fail its batch: retry row by row
            toks, lps, good = [0] * len(rows), [0.0] * len(rows), []
            for i, row in enumerate(rows):
                try:
                    t, lp = sample_rows(logits[i: i + 1], params[i: i + 1], gens[i: i + 1], self.shared, self.limit)
                except Exception as e:
                    row.req.finish(ApiError(500, "generation_failed", f"cannot sample the next token of this request "
                                            f"({type(e).__name__}: {e}); the other requests were not affected"))
                    row.req.cancelled = True  # its rows leave the batch at the next step
                    continue
                toks[i], lps[i] = t[0], lp[0]
                good.append(i)
        ctx = self.backend.max_context
        for row, t, lp in ((rows[i], toks[i], lps[i]) for i in good):
            row.ids.append(t)
            row.lps.append(lp)
            if t in row.req.stops:
                row.finish = "stop"
            elif row.req.stop_strings and self._tail_has_stop(row):
                row.finish = "stop"
            elif len(row.ids) >= row.req.sampling.max_tokens or len(row.req.prompt) + len(row.ids) >= ctx:
                row.finish = "length"

    def _tail_has_stop(self, row: _Row) -> bool:
        tail = self.backend.tokenizer.decode(row.ids[-row.req.stop_window:])
        return any(x in tail for x in row.req.stop_strings)

    def _keep(self, batch: _Batch, keep: List[int]) -> None:
        batch.state.keep(keep)
        batch.rows = [batch.rows[i] for i in keep]


def _generator_device(device: str) -> str:
    return "cuda" if str(device).startswith("cuda") else "cpu"


def generate_once(backend: Any, policy_id: Optional[str], prompt: Sequence[int], sampling: Sampling,
                  n: int = 1) -> List[Generation]:
    """One request through a private scheduler (the backends' `generate`): the same code path as the service.
    Unseeded sampling draws its seed from torch's global generator, as a plain `torch.multinomial` would."""
    s = Scheduler(backend, seed=int(torch.randint(0, 2**62, (1,))))
    try:
        return s.generate(policy_id, prompt, sampling, n)
    finally:
        s.close()
