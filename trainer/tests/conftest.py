"""Shared fixtures: a real trainer server on a loopback port (in a thread) and a small JSON/NDJSON client.

torch is required: a missing torch fails the run (STYLE.md §12), it is never a skip.
"""

from __future__ import annotations

import http.client
import json
from typing import Any, Dict, List, Optional

import pytest

try:
    import torch  # noqa: F401
except ImportError as e:  # pragma: no cover - the CI image has python3-torch
    raise ImportError(f"torch is required by the trainer tests ({e}); install python3-torch and run them with "
                      "/usr/bin/python3 -m pytest trainer/tests") from e


class Response:
    def __init__(self, status: int, headers: Dict[str, str], data: bytes) -> None:
        self.status, self.headers, self.data = status, headers, data

    @property
    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def lines(self) -> List[Dict[str, Any]]:
        return [json.loads(line) for line in self.data.decode().splitlines() if line.strip()]


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None, raw: Optional[bytes] = None) -> Response:
        return self.request("POST", path, body, raw)

    def put(self, path: str, body: Any = None) -> Response:
        return self.request("PUT", path, body)


@pytest.fixture
def start_server(tmp_path):
    """start_server(out=None, base_model="tiny", seed=0) → (Client, server); every server stops at teardown."""
    from trainer.server import make_server, serve_in_thread
    from trainer.tiny_backend import TinyBackend

    servers = []

    def start(out: Optional[str] = None, base_model: str = "tiny", seed: int = 0, **kw: Any):
        backend = TinyBackend(base_model, seed=seed)
        srv = make_server(backend, out or str(tmp_path / "out"), **kw)
        serve_in_thread(srv)
        servers.append(srv)
        return Client(srv.server_address[1]), srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def client(start_server) -> Client:
    return start_server()[0]


def make_samples(client: Client, policy_id: str, version: int, n: int = 4, max_tokens: int = 8, seed: int = 0,
                 rewards: Optional[List[float]] = None, group: Optional[str] = None) -> List[Dict[str, Any]]:
    """n samples generated through /v1/generate at `version`, with rewards 0, 1, 0, 1… unless given."""
    prompt = client.post("/v1/render", {"messages": [{"role": "user", "content": "hi"}]}).json["token_ids"]
    out = client.post("/v1/generate", {"policy_id": policy_id, "prompt_token_ids": prompt, "n": n,
                                       "sampling": {"max_tokens": max_tokens, "seed": seed}}).json
    assert out["policy_version"] == version
    rewards = rewards if rewards is not None else [float(i % 2) for i in range(n)]
    return [{"sample_id": f"s{seed}-{i}", "trajectory_id": f"t{i}", "action_index": 0, "policy_version": version,
             "group_id": group, "prompt_token_ids": prompt, "completion_token_ids": o["token_ids"],
             "behavior_logprobs": o["logprobs"], "reward": rewards[i]} for i, o in enumerate(out["outputs"])]
