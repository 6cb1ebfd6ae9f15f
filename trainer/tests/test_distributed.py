"""Data-parallel updates (distributed.py): 2 CPU ranks on gloo, started the way torchrun starts them
(MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), against a 1-process trainer; a rank that dies or
hangs fails the update with a clear error and no hang. Every process is stopped at teardown."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List

import pytest
import torch

from conftest import Client, make_samples
from trainer.distributed import shard

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Trainer:
    """One trainer: `world_size` processes of `python -m trainer serve`; rank 0 serves HTTP."""

    def __init__(self, tmp: Any, name: str, world_size: int, *extra: str) -> None:
        self.dir = tmp / name
        self.dir.mkdir()
        self.out = str(self.dir / "out")
        port_file = self.dir / "port"
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": str(world_size)}
        if world_size == 1:
            env = {k: v for k, v in os.environ.items() if k not in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")}
        self.procs: List[subprocess.Popen] = []
        for rank in range(world_size):
            log = open(self.dir / f"rank{rank}.log", "wb")
            cmd = [sys.executable, "-m", "trainer", "serve", "--out", self.out, "--threads", "1", "--seed", "0", *extra]
            if rank == 0:
                cmd += ["--port-file", str(port_file)]
            self.procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                                               env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)} if world_size > 1 else env))
        deadline = time.time() + 60
        while not port_file.exists():
            for rank, p in enumerate(self.procs):
                assert p.poll() is None, f"rank {rank} exited {p.returncode}: {self.log(rank)}"
            assert time.time() < deadline, "the trainer never wrote its port file"
            time.sleep(0.05)
        self.client = Client(int(port_file.read_text()))

    def log(self, rank: int) -> str:
        return (self.dir / f"rank{rank}.log").read_text(errors="replace")

    def state(self, policy_id: str, version: int) -> Dict[str, Any]:
        return torch.load(os.path.join(self.out, "policies", policy_id, f"v{version}", "trainer_state.pt"))

    def stop(self) -> None:
        """Rank 0 first (it tells the other ranks to stop), then whatever is left."""
        for i, p in enumerate(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                if i == 0:
                    p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def trainers(tmp_path):
    """trainers(name, world_size, *flags) → Trainer; all of their processes are stopped at teardown."""
    made: List[Trainer] = []

    def start(name: str, world_size: int, *extra: str) -> Trainer:
        t = Trainer(tmp_path, name, world_size, *extra)
        made.append(t)
        return t

    yield start
    for t in made:
        t.stop()


def _train(client: Client, policy_id: str, version: int, samples: List[Dict[str, Any]], key: str = "k") -> Dict[str, Any]:
    r = client.post("/v1/train", {"policy_id": policy_id, "expected_version": version, "idempotency_key": key, "samples": samples})
    assert r.status == 200, r.data
    return r.lines[-1]


def _max_diff(a: Dict[Any, Any], b: Dict[Any, Any]) -> float:
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def test_shard_splits_rows_by_tokens():
    lengths = torch.tensor([50, 10, 10, 10, 10, 10, 40, 5])
    rows = torch.arange(8)
    parts = [shard(rows, lengths, r, 2).tolist() for r in range(2)]
    assert sorted(parts[0] + parts[1]) == list(range(8))
    assert [sum(int(lengths[i]) for i in p) for p in parts] == [75, 70]
    assert shard(rows, lengths, 0, 1).tolist() == list(range(8))
    assert shard(torch.tensor([3]), lengths, 1, 2).tolist() == []  # a rank may get no row of a small minibatch


def test_two_ranks_update_like_one_process_and_hold_the_same_state(trainers, tmp_path):
    two = trainers("two", 2, "--dist-timeout-s", "30", "--rank-state-dir", str(tmp_path / "ranks"))
    one = trainers("one", 1)
    info = two.client.get("/v1/info").json
    assert info["world_size"] == 2 and info["process_group"]["backend"] == "gloo" and info["process_group"]["broken"] is None
    assert one.client.get("/v1/info").json["world_size"] == 1
    configs = {
        # One row per micro-batch and one per rank: the sums run in the same order, so the update is exact.
        "exact": ({"optimizer": {"lr": 0.05}, "algo": {"micro_batch_tokens": 1}}, 2),
        # Uneven rows, 3 minibatches (the last one's single row leaves rank 1 idle), 2 epochs.
        "mixed": ({"optimizer": {"lr": 0.01}, "algo": {"minibatch_size": 3, "ppo_epochs": 2}}, 7),
    }
    for i, (pid, (cfg, n)) in enumerate(configs.items()):
        for t in (two, one):
            assert t.client.put(f"/v1/policies/{pid}", cfg).status == 200
        samples = make_samples(one.client, pid, 0, n=n, max_tokens=12, seed=i)
        done2, done1 = _train(two.client, pid, 0, samples), _train(one.client, pid, 0, samples)
        assert done2["type"] == done1["type"] == "done", (done2, two.log(0), two.log(1))
        assert done2["metrics"]["updates"] == done1["metrics"]["updates"]
        assert abs(done2["metrics"]["loss"] - done1["metrics"]["loss"]) < 1e-5
        s2, s1 = two.state(pid, 1), one.state(pid, 1)
        o2, o1 = s2["optimizer"]["state"], s1["optimizer"]["state"]
        assert max(_max_diff(o1[k], o2[k]) for k in o1) < 1e-6  # gradients (Adam moments) and step counts
        # AdamW moves each entry by about lr·g/(|g| + 1e-8): entries whose gradient is near 1e-8 magnify the rounding
        # of a different summation order (one process with other micro_batch_tokens differs as much).
        assert _max_diff(s1["adapter"], s2["adapter"]) < (1e-6 if pid == "exact" else 5e-3 * cfg["optimizer"]["lr"])
    _assert_rank_1_holds(two, tmp_path / "ranks", {"exact": 1, "mixed": 1})


def _assert_rank_1_holds(two: Trainer, ranks: Any, versions: Dict[str, int]) -> None:
    """Rank 1's policies (written by --rank-state-dir after each command) equal rank 0's checkpoints exactly."""
    deadline = time.time() + 10
    while True:
        theirs = torch.load(ranks / "rank1.pt") if (ranks / "rank1.pt").exists() else {}
        if {k: v["version"] for k, v in theirs.items()} == versions or time.time() > deadline:
            break
        time.sleep(0.1)
    assert {k: v["version"] for k, v in theirs.items()} == versions
    for pid, version in versions.items():
        mine = two.state(pid, version)
        assert all(torch.equal(mine["adapter"][k], theirs[pid]["adapter"][k]) for k in mine["adapter"])
        o0, o1 = mine["optimizer"]["state"], theirs[pid]["optimizer"]["state"]
        assert all(torch.equal(o0[k][n], o1[k][n]) for k in o0 for n in o0[k])


def test_restore_and_roll_back_reach_rank_1_and_rank_1_stops_with_rank_0(trainers, tmp_path):
    two = trainers("two", 2, "--dist-timeout-s", "30", "--rank-state-dir", str(tmp_path / "ranks"))
    c = two.client
    assert c.put("/v1/policies/p", {"optimizer": {"lr": 0.02}, "algo": {"minibatch_size": 3}}).status == 200
    samples = make_samples(c, "p", 0, n=5, max_tokens=10)
    assert _train(c, "p", 0, samples)["type"] == "done"
    assert _train(c, "p", 1, make_samples(c, "p", 1, n=5, max_tokens=10, seed=1), key="k1")["type"] == "done"
    assert c.post("/v1/policies/p/restore", {"version": 1}).json == {"policy_id": "p", "version": 1}
    _assert_rank_1_holds(two, tmp_path / "ranks", {"p": 1})
    # New hyperparameters (a resumed run with more steps) reach rank 1: its next update matches rank 0's.
    assert c.put("/v1/policies/p", {"optimizer": {"lr": 0.2}, "algo": {"minibatch_size": 3}}).json["version"] == 1
    assert _train(c, "p", 1, make_samples(c, "p", 1, n=5, max_tokens=10, seed=2), key="k2")["type"] == "done"
    _assert_rank_1_holds(two, tmp_path / "ranks", {"p": 2})
    # A client that hangs up mid-update rolls it back on both ranks (rank 0 finishes the update with rank 1 first).
    assert c.put("/v1/policies/q", {"optimizer": {"lr": 0.02}, "algo": {"minibatch_size": 1, "ppo_epochs": 50}}).status == 200
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=60)
    body = {"policy_id": "q", "expected_version": 0, "idempotency_key": "gone", "samples": make_samples(c, "q", 0, n=4)}
    conn.request("POST", "/v1/train", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert json.loads(conn.getresponse().readline())["type"] == "progress"
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    deadline = time.time() + 30
    while c.get("/v1/policies/q").json["state"] != "ready":
        assert time.time() < deadline, "the abandoned update never ended"
        time.sleep(0.1)
    assert c.get("/v1/policies/q").json["version"] == 0
    _assert_rank_1_holds(two, tmp_path / "ranks", {"p": 2, "q": 0})
    done = _train(c, "q", 0, make_samples(c, "q", 0, n=4), key="back")
    assert done["type"] == "done" and done["new_version"] == 1
    # Rank 1 has finished its side of that update before rank 0 is stopped (a stop mid-collective is not clean).
    _assert_rank_1_holds(two, tmp_path / "ranks", {"p": 2, "q": 1})
    two.procs[0].terminate()
    assert [p.wait(timeout=20) for p in two.procs] == [0, 0], (two.log(0), two.log(1))


def _stream_train(client: Client, body: Dict[str, Any], on_first_line) -> tuple:
    """POSTs /v1/train and reads its NDJSON lines as they come; calls on_first_line() after the first."""
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
    try:
        conn.request("POST", "/v1/train", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        lines, t_event = [], None
        while True:
            raw = r.readline()
            if not raw:
                break
            lines.append(json.loads(raw))
            if len(lines) == 1:
                on_first_line()
                t_event = time.time()
        return r.status, lines, t_event
    finally:
        conn.close()


def _assert_refuses_training_after(two: Trainer, pid: str, samples: List[Dict[str, Any]]) -> None:
    c = two.client
    assert c.get(f"/v1/policies/{pid}").json["version"] == 0
    assert not os.path.exists(os.path.join(two.out, "policies", pid, "v1"))
    r = c.post("/v1/train", {"policy_id": pid, "expected_version": 0, "idempotency_key": "next", "samples": samples})
    assert r.status == 503 and r.json["error"] == "process_group_broken", r.data
    assert "restart the trainer under torchrun" in r.json["message"] and "\n" not in r.json["message"]
    assert c.put("/v1/policies/other", {}).status == 503
    info = c.get("/v1/info").json
    assert info["world_size"] == 2 and info["process_group"]["broken"]
    prompt = samples[0]["prompt_token_ids"]
    assert c.post("/v1/generate", {"policy_id": pid, "prompt_token_ids": prompt, "sampling": {"max_tokens": 2}}).status == 200
    two.procs[0].terminate()
    assert two.procs[0].wait(timeout=20) == 0


def test_a_rank_killed_during_an_update_fails_it_at_once_and_training_is_refused_after(trainers):
    two = trainers("two", 2, "--dist-timeout-s", "60")
    c = two.client
    # Many small steps, so the update is still running when rank 1 is killed after its first progress line.
    assert c.put("/v1/policies/p", {"optimizer": {"lr": 0.01}, "algo": {"minibatch_size": 1, "ppo_epochs": 500}}).status == 200
    samples = make_samples(c, "p", 0, n=4, max_tokens=10)
    body = {"policy_id": "p", "expected_version": 0, "idempotency_key": "k", "samples": samples}
    status, lines, t_kill = _stream_train(c, body, lambda: two.procs[1].send_signal(signal.SIGKILL))
    assert status == 200 and lines[0]["type"] == "progress"
    end = lines[-1]
    assert end["type"] == "error" and end["error"] == "rank_failed", end
    assert end["message"].startswith("training p@0 failed, version kept: rank 1 of 2 stopped during the update (")
    assert end["message"].endswith("restart the trainer under torchrun and continue with deno task train --resume")
    assert end["current_version"] == 0 and len(lines) < 2001
    assert time.time() - t_kill < 10, "no hang: gloo reports the closed connection at once, not after --dist-timeout-s"
    _assert_refuses_training_after(two, "p", samples)


def test_a_hung_rank_fails_the_update_after_dist_timeout_s(trainers):
    two = trainers("two", 2, "--dist-timeout-s", "5")
    c = two.client
    assert c.put("/v1/policies/p", {"optimizer": {"lr": 0.01}}).status == 200
    samples = make_samples(c, "p", 0, n=4, max_tokens=10)
    two.procs[1].send_signal(signal.SIGSTOP)
    t0 = time.time()
    end = _train(c, "p", 0, samples)
    # The update's first collective times out, or the idle heartbeat did so just before.
    assert end["type"] == "error" and end["error"] in ("rank_failed", "process_group_broken"), end
    assert "rank 1 of 2 did not answer within 5 s during " in end["message"]
    assert time.time() - t0 < 20
    two.procs[1].kill()
    _assert_refuses_training_after(two, "p", samples)


def test_world_size_without_a_master_address_is_a_one_line_error(tmp_path):
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "0"}
    for k in ("MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    p = subprocess.run([sys.executable, "-m", "trainer", "serve", "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                       capture_output=True, timeout=60)
    assert p.returncode == 2
    assert "MASTER_ADDR, MASTER_PORT are not set; start the trainer with torchrun or accelerate launch" in p.stderr.decode()
