"""Checkpoints: PEFT export round trip, restore after a fresh server start, the CLI (§7 test 7)."""

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import torch

from conftest import Client, make_samples
from trainer import safetensors_io
from trainer.policies import read_adapter_dir

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
POLICY = {"adapter": {"r": 4, "alpha": 8}, "optimizer": {"lr": 0.05}}


def _train(client, pid, version, key, seed=0):
    r = client.post("/v1/train", {"policy_id": pid, "expected_version": version, "idempotency_key": key,
                                  "samples": make_samples(client, pid, version, seed=seed)})
    assert r.status == 200, r.data
    return r.lines[-1]


def test_export_round_trip(start_server, tmp_path):
    client, srv = start_server(out=str(tmp_path / "o"))
    client.put("/v1/policies/a", POLICY)
    done = _train(client, "a", 0, "k0")
    d = done["adapter_dir"]
    assert sorted(os.listdir(d)) == ["adapter_config.json", "adapter_model.bin", "adapter_model.safetensors",
                                     "idempotency.json", "trainer_state.pt"]
    cfg = json.load(open(os.path.join(d, "adapter_config.json")))
    assert {k: cfg[k] for k in ("r", "lora_alpha", "bias", "peft_type", "task_type", "base_model_name_or_path")} == {
        "r": 4, "lora_alpha": 8.0, "bias": "none", "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "tiny"}
    live = srv.service.backend.adapter_state("a")
    from_bin = torch.load(os.path.join(d, "adapter_model.bin"))
    from_st = safetensors_io.load_file(os.path.join(d, "adapter_model.safetensors"))
    assert sorted(live) == sorted(from_bin) == sorted(from_st)
    assert all(k.startswith("base_model.model.") and k.endswith((".lora_A.weight", ".lora_B.weight")) for k in live)
    for k in live:
        assert torch.equal(live[k], from_bin[k]) and torch.equal(live[k], from_st[k]), k
    # the safetensors header is what the format says: u64 LE length, JSON with F32 dtype/shape/offsets
    raw = open(os.path.join(d, "adapter_model.safetensors"), "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    k = sorted(live)[0]
    assert header[k]["dtype"] == "F32" and header[k]["shape"] == list(live[k].shape) and n % 8 == 0
    state = torch.load(os.path.join(d, "trainer_state.pt"))
    assert state["version"] == 1 and state["schema_version"] == 1 and set(state) >= {"adapter", "optimizer", "config", "metrics"}
    # the adapter tarball holds the PEFT directory
    r = client.get("/v1/policies/a/adapter?version=1")
    assert r.status == 200 and r.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(r.data)) as tar:
        assert sorted(tar.getnames()) == ["adapter_config.json", "adapter_model.bin", "adapter_model.safetensors"]
    assert client.get("/v1/policies/a/adapter?version=9").json["available"] == [0, 1]
    # checkpoint returns the current version's directory; init_from starts a new policy from it
    assert client.post("/v1/policies/a/checkpoint").json == {"policy_id": "a", "version": 1, "path": d}
    assert client.put("/v1/policies/b", {"adapter": {**POLICY["adapter"], "init_from": d}}).status == 200
    b = srv.service.backend.adapter_state("b")
    assert all(torch.equal(b[k], read_adapter_dir(d)[k]) for k in b)


def _start_cli(out, port_file):
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--host", "127.0.0.1", "--port", "0",
                             "--port-file", port_file, "--backend", "tiny", "--base-model", "tiny", "--out", out,
                             "--seed", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(300):
        if os.path.exists(port_file):
            return proc, Client(int(open(port_file).read()))
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    raise AssertionError("no port file after 15 s")


def _stop_cli(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()
    assert out == b""  # nobody parses stdout: logs go to stderr
    assert b"stopped" in err


def test_restore_after_a_fresh_server_start_reproduces_logprobs(tmp_path):
    out = str(tmp_path / "o")
    proc, client = _start_cli(out, str(tmp_path / "port1"))
    try:
        client.put("/v1/policies/a", POLICY)
        _train(client, "a", 0, "k0", seed=0)
        done = _train(client, "a", 1, "k1", seed=1)
        probe = {"policy_id": "a", "prompt_token_ids": [256, 260, 104, 261], "n": 2, "sampling": {"max_tokens": 12, "seed": 9}}
        before = client.post("/v1/generate", probe).json
    finally:
        _stop_cli(proc)
    proc, client = _start_cli(out, str(tmp_path / "port2"))
    try:
        assert client.put("/v1/policies/a", POLICY).json["version"] == 0
        r = client.post("/v1/policies/a/restore", {"version": 7})
        assert r.status == 404 and r.json["error"] == "checkpoint_not_found" and r.json["available"] == [0, 1, 2]
        assert client.post("/v1/policies/a/restore", {"version": 2}).json == {"policy_id": "a", "version": 2}
        after = client.post("/v1/generate", probe).json
        assert after["policy_version"] == 2 and after["outputs"] == before["outputs"]
        # the idempotency map came back with the checkpoint: replaying k1 returns its done line, no training
        r = client.post("/v1/train", {"policy_id": "a", "expected_version": 1, "idempotency_key": "k1",
                                      "samples": make_samples(client, "a", 2)})
        assert r.lines == [done]
        assert client.get("/v1/policies/a").json["version"] == 2
        # training continues from the restored optimizer state
        assert _train(client, "a", 2, "k2")["new_version"] == 3
    finally:
        _stop_cli(proc)
