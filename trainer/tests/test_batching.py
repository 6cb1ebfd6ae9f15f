"""Batched generation (batching.py, tiny_batch.py): exact logprobs under batching, joins, cancellation,
n > 1 through chat, stop cutting, and a listen backlog that takes hundreds of connections at once."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import torch

from trainer.backend import AdapterConfig, Sampling
from trainer.batching import Cancelled, Scheduler
from trainer.sampling import processed_logprobs
from trainer.server import _cut_at_stop
from trainer.tiny_backend import TinyBackend
from trainer.tokenizer import ByteTokenizer


def _recomputed(be: TinyBackend, policy: Any, prompt: List[int], ids: List[int], s: Sampling = Sampling()) -> List[float]:
    """Logprobs of `ids` after `prompt`, recomputed unbatched, under the processed distribution of `s`."""
    x = torch.tensor([prompt + ids])
    with torch.no_grad():
        logits = be.model(x, policy)[0, len(prompt) - 1: -1]
        lp = processed_logprobs(logits, s, be.tokenizer.vocab_size)
    return lp.gather(-1, torch.tensor(ids)[:, None]).squeeze(-1).tolist()


def _backend_with_trained_adapter() -> TinyBackend:
    be = TinyBackend("tiny", seed=0)
    be.create_policy("p", AdapterConfig(r=4))
    with torch.no_grad():  # a non-zero B, so the adapter changes every logit
        for prm in be.trainable_parameters("p"):
            prm.add_(torch.randn(prm.shape, generator=torch.Generator().manual_seed(7)) * 0.05)
    return be


def test_concurrent_requests_are_batched_and_their_logprobs_stay_exact():
    be = _backend_with_trained_adapter()
    sched = Scheduler(be, seed=1)
    tok = be.tokenizer
    prompts = [tok.encode("x" * k) for k in (1, 3, 8, 20, 2, 40, 5, 13)]
    params = [Sampling(max_tokens=24, seed=i if i % 2 else None, temperature=(1.0, 0.7, 1.3)[i % 3],
                       top_p=(1.0, 0.9)[i % 2], top_k=(-1, 50)[(i // 2) % 2]) for i in range(len(prompts))]
    try:
        tickets = [sched.submit("p" if i % 4 else None, p, s, n=1 + i % 3) for i, (p, s) in enumerate(zip(prompts, params))]
        results = [t.wait(30) for t in tickets]
    finally:
        sched.close()
    assert sched.row_steps / sched.steps > 2, "requests submitted together must share decoding steps"
    for i, (prompt, s, outs) in enumerate(zip(prompts, params, results)):
        assert outs is not None and len(outs) == 1 + i % 3
        for g in outs:
            assert 1 <= len(g.token_ids) <= 24 and len(g.logprobs) == len(g.token_ids)
            want = _recomputed(be, "p" if i % 4 else None, prompt, g.token_ids, s)
            assert max(abs(a - b) for a, b in zip(g.logprobs, want)) < 1e-5


def test_a_seeded_request_samples_the_same_alone_and_in_a_batch():
    be = _backend_with_trained_adapter()
    prompt = be.tokenizer.encode("seeded")
    s = Sampling(max_tokens=20, seed=42)
    alone = be.generate("p", prompt, s)[0]
    sched = Scheduler(be, seed=3)
    try:
        others = [sched.submit("p", be.tokenizer.encode("o" * k), Sampling(max_tokens=30)) for k in (1, 9, 30)]
        mine = sched.submit("p", prompt, s)
        got = mine.wait(30)
        for t in others:
            t.wait(30)
    finally:
        sched.close()
    assert got is not None and got[0].token_ids == alone.token_ids
    assert max(abs(a - b) for a, b in zip(got[0].logprobs, alone.logprobs)) < 1e-5


def test_a_request_joins_a_running_batch_and_leaves_it_first():
    be = _backend_with_trained_adapter()
    sched = Scheduler(be, seed=0)
    try:
        long = sched.submit("p", be.tokenizer.encode("long"), Sampling(max_tokens=300, seed=5))
        while sched.steps < 5:
            time.sleep(0.001)
        short = sched.submit("p", be.tokenizer.encode("a much longer prompt than the first"), Sampling(max_tokens=4))
        s_out = short.wait(30)
        l_done_then = long.wait(0)
        l_out = long.wait(60)
    finally:
        sched.close()
    assert s_out is not None and l_out is not None and len(l_out[0].token_ids) > 40, "seed 5 samples a long reply"
    assert l_done_then is None, "the short request joined the running batch and finished before the long one"
    for prompt, g in ((be.tokenizer.encode("long"), l_out[0]), (be.tokenizer.encode("a much longer prompt than the first"), s_out[0])):
        want = _recomputed(be, "p", prompt, g.token_ids)
        assert max(abs(a - b) for a, b in zip(g.logprobs, want)) < 1e-5


def test_a_cancelled_request_leaves_its_batch_and_the_others_finish():
    be = _backend_with_trained_adapter()
    sched = Scheduler(be, seed=0)
    try:
        doomed = sched.submit("p", be.tokenizer.encode("bye"), Sampling(max_tokens=900))
        keep = sched.submit("p", be.tokenizer.encode("stay"), Sampling(max_tokens=40))
        while sched.steps < 3:
            time.sleep(0.001)
        doomed.cancel()
        try:
            doomed.wait(30)
            raise AssertionError("a cancelled request must raise Cancelled")
        except Cancelled:
            pass
        assert keep.wait(30) is not None
    finally:
        sched.close()


def _chat(port: int, body: Dict[str, Any]) -> Dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return {"status": r.status, **json.loads(r.read())}
    finally:
        conn.close()


def test_chat_n_samples_share_one_prompt_and_each_is_exact(start_server):
    client, srv = start_server()
    client.put("/v1/policies/a", {})
    body = {"model": "a", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16, "n": 5}
    r = _chat(client.port, body)
    assert r["status"] == 200 and [c["index"] for c in r["choices"]] == [0, 1, 2, 3, 4]
    be = srv.service.backend
    for c in r["choices"]:
        want = _recomputed(be, "a", r["prompt_token_ids"], c["token_ids"])
        got = [e["logprob"] for e in c["logprobs"]["content"]]
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5
    assert r["usage"]["completion_tokens"] == sum(len(c["token_ids"]) for c in r["choices"])
    assert len({tuple(c["token_ids"]) for c in r["choices"]}) > 1


def test_a_client_that_hangs_up_cancels_its_generation(start_server):
    client, srv = start_server()
    client.put("/v1/policies/a", {})
    sched = srv.service.scheduler
    body = json.dumps({"policy_id": "a", "prompt_token_ids": [256, 261], "n": 4,
                       "sampling": {"max_tokens": 1000, "stop_token_ids": []}}).encode()
    s = socket.create_connection(("127.0.0.1", client.port))
    s.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    deadline = time.time() + 20
    while sched.row_steps == 0 and time.time() < deadline:
        time.sleep(0.005)
    s.close()
    other = _chat(client.port, {"model": "a", "messages": [{"role": "user", "content": "x"}], "max_tokens": 5})
    assert other["status"] == 200
    while sched._batches and time.time() < deadline:  # noqa: SLF001 - the batch empties once the rows left
        time.sleep(0.01)
    assert not sched._batches, "the hung-up request's rows must leave the batch"


def test_two_hundred_connections_at_once_are_all_served(start_server):
    client, _ = start_server()
    client.put("/v1/policies/a", {})

    def one(i: int) -> int:
        return client.post("/v1/generate", {"policy_id": "a", "prompt_token_ids": [256, 257 + i % 5],
                                            "sampling": {"max_tokens": 2}}).status

    start = threading.Barrier(50)

    def gated(i: int) -> int:
        if i < 50:
            start.wait()
        return one(i)

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(gated, range(200)))
    assert statuses == [200] * 200


def test_stop_cutting_decodes_a_logarithmic_number_of_prefixes():
    calls = []

    class Counting(ByteTokenizer):
        def decode(self, ids):  # type: ignore[override]
            calls.append(len(ids))
            return super().decode(ids)

    tok = Counting()
    ids = tok.encode("a" * 4000 + "STOP" + "b" * 90)
    got_ids, lps, text, hit = _cut_at_stop(tok, ids, [0.0] * len(ids), ["STOP", "never"])
    assert hit and text == "a" * 4000 and tok.decode(got_ids).endswith("STOP") and len(lps) == len(got_ids)
    assert not tok.decode(got_ids[:-1]).endswith("STOP")
    assert len(calls) <= 2 * 13 + 4, f"{len(calls)} decodes for {len(ids)} tokens"
    calls.clear()
    _, _, text, hit = _cut_at_stop(tok, ids, [0.0] * len(ids), ["absent"])
    assert not hit and len(calls) <= 2


def test_a_stop_string_ends_the_row_early(start_server):
    client, srv = start_server()
    client.put("/v1/policies/a", {})
    for seed in range(50):  # a seed whose reply is long enough to stop inside
        body = {"model": "a", "messages": [{"role": "user", "content": "go"}], "max_tokens": 400, "seed": seed}
        full = _chat(client.port, body)["choices"][0]
        text = full["message"]["content"]
        if len(full["token_ids"]) > 40 and text[20:].strip():
            break
    stop = next(c for c in text[20:] if c.strip())
    before = srv.service.scheduler.row_steps
    cut = _chat(client.port, {**body, "stop": stop})
    ch = cut["choices"][0]
    assert ch["finish_reason"] == "stop" and stop not in ch["message"]["content"]
    assert ch["token_ids"] == full["token_ids"][: len(ch["token_ids"])]
    assert srv.service.scheduler.row_steps - before <= len(ch["token_ids"]) + 1, "generation stops at the stop string"
    assert _chat(client.port, {**body, "stop": ["x"] * 17})["status"] == 400


def test_a_request_whose_sampling_fails_does_not_fail_its_batch():
    from trainer.errors import ApiError

    be = _backend_with_trained_adapter()
    sched = Scheduler(be, seed=0)
    try:
        good = sched.submit("p", be.tokenizer.encode("fine"), Sampling(max_tokens=30))
        tiny_t = sched.submit("p", be.tokenizer.encode("cold"), Sampling(max_tokens=5, temperature=1e-45))
        bad = sched.submit("p", be.tokenizer.encode("broken"), Sampling(max_tokens=30, temperature=float("nan")))
        try:
            bad.wait(30)
            raise AssertionError("a NaN temperature cannot sample")
        except ApiError as e:
            assert e.code == "generation_failed" and "other requests were not affected" in e.message
        out = good.wait(30)
        cold = tiny_t.wait(30)
    finally:
        sched.close()
    assert out is not None and len(out[0].token_ids) >= 1
    assert cold is not None and cold[0].logprobs == [0.0] * len(cold[0].token_ids), "below 1e-5 is greedy"


def test_non_finite_sampling_is_refused(start_server):
    client, _ = start_server()
    client.put("/v1/policies/a", {})
    raw = b'{"policy_id": "a", "prompt_token_ids": [256, 261], "sampling": {"temperature": NaN}}'
    r = client.post("/v1/generate", raw=raw)
    assert r.status == 400 and "finite" in r.json["message"]
