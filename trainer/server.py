"""The HTTP service of reference/trainer-protocol.md §4 on stdlib `http.server` (JSON, prefix /v1).

Every error body is {error: code, message, ...}; /v1/chat/completions answers errors in OpenAI's
shape {error: {message, type, code}}. /v1/train streams NDJSON (chunked) after all validation passed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import select
import socket
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

from .backend import Generation, Sampling
from .batching import Cancelled, Scheduler, Ticket
from .data import check, int_list, parse_train_request, require
from .errors import ApiError, bad_request
from .policies import Registry

log = logging.getLogger("trainer")

SAMPLING_KEYS = ("max_tokens", "temperature", "top_p", "top_k", "stop_token_ids", "seed")
GENERATE_KEYS = ("policy_id", "version", "prompt_token_ids", "n", "sampling", "request_id")
LOGPROBS_KEYS = ("policy_id", "version", "token_ids")
MAX_N = 128
MAX_STOPS, MAX_STOP_CHARS = 16, 256


class Service:
    """Routes → handlers; independent of the HTTP plumbing so tests may call it directly."""

    def __init__(self, backend: Any, registry: Registry, max_policies: int, max_lora_rank: int,
                 max_batch_rows: int = 64) -> None:
        self.backend, self.registry = backend, registry
        self.max_policies, self.max_lora_rank = max_policies, max_lora_rank
        self.scheduler = Scheduler(backend, registry.compute_lock, max_batch_rows, seed=getattr(backend, "seed", 0) or 0)

    # -- small endpoints --------------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        tok = self.backend.tokenizer
        return {
            "protocol": "1",
            "backend": self.backend.name,
            "base_model": self.backend.base_model,
            "max_context": self.backend.max_context,
            "seed": getattr(self.backend, "seed", None),
            "tokenizer": {"vocab_size": tok.vocab_size, "eos_token_ids": list(tok.eos_token_ids),
                          "pad_token_id": tok.pad_token_id, "chat_template_sha256": tok.chat_template_sha256},
            "capabilities": {"chat": True, "max_policies": self.max_policies, "max_lora_rank": self.max_lora_rank,
                             "logprobs": "processed", "strict_on_policy": True,
                             "batching": "continuous" if getattr(self.backend, "batch_can_join", False) else "dynamic",
                             "max_batch_rows": self.scheduler.max_batch_rows},
            "world_size": self.registry.group.world_size,  # data-parallel ranks (distributed.py)
            "process_group": self.registry.group.describe(),
        }

    def render(self, body: Dict[str, Any]) -> Dict[str, Any]:
        messages = require(body, "messages", "list")
        tools = body.get("tools")
        if tools is not None:
            check(tools, "list", "tools")
        agp = body.get("add_generation_prompt", True)
        check(agp, "bool", "add_generation_prompt")
        try:
            ids = self.backend.tokenizer.render(messages, tools=tools, add_generation_prompt=agp)
        except ValueError as e:
            raise bad_request(str(e)) from None
        return {"token_ids": ids, "text": self.backend.tokenizer.decode(ids)}

    def tokenize(self, body: Dict[str, Any]) -> Dict[str, Any]:
        return {"token_ids": self.backend.tokenizer.encode(require(body, "text", "str"))}

    def detokenize(self, body: Dict[str, Any]) -> Dict[str, Any]:
        ids = int_list(require(body, "token_ids", "list"), "token_ids")
        self._check_ids(ids, "token_ids")
        return {"text": self.backend.tokenizer.decode(ids)}

    def _check_ids(self, ids: List[int], where: str) -> None:
        v = self.backend.tokenizer.vocab_size
        bad = [t for t in ids if t < 0 or t >= v]
        if bad:
            raise ApiError(422, "invalid_tokens", f"{where} holds ids {bad[:5]} outside [0, {v}); use ids from /v1/render")

    # -- generation -------------------------------------------------------------------------------

    def _sampling(self, raw: Any, prompt_len: int) -> Sampling:
        raw = {} if raw is None else check(raw, "dict", "sampling")
        extra = sorted(set(raw) - set(SAMPLING_KEYS))
        if extra:
            raise bad_request(f"sampling.{extra[0]} is not a sampling field; allowed: {', '.join(SAMPLING_KEYS)}")
        room = self.backend.max_context - prompt_len
        s = Sampling(
            max_tokens=check(raw.get("max_tokens", min(256, max(room, 1))), "int", "sampling.max_tokens"),
            temperature=float(check(raw.get("temperature", 1.0), "num", "sampling.temperature")),
            top_p=float(check(raw.get("top_p", 1.0), "num", "sampling.top_p")),
            top_k=check(raw.get("top_k", -1), "int", "sampling.top_k"),
            stop_token_ids=tuple(int_list(raw.get("stop_token_ids") or [], "sampling.stop_token_ids")),
            seed=None if raw.get("seed") is None else check(raw["seed"], "int", "sampling.seed"),
        )
        if not all(math.isfinite(x) for x in (s.temperature, s.top_p)):
            raise bad_request(f"sampling needs finite numbers; got temperature {s.temperature}, top_p {s.top_p}")
        if s.max_tokens < 1:
            raise bad_request(f"sampling.max_tokens must be >= 1, got {s.max_tokens}")
        if s.temperature < 0 or not (0 < s.top_p <= 1) or (s.top_k == 0 or s.top_k < -1):
            raise bad_request(f"sampling needs temperature >= 0, 0 < top_p <= 1, top_k = -1 or >= 1; got "
                              f"{s.temperature}, {s.top_p}, {s.top_k}")
        return s

    def _prompt(self, ids: List[int], where: str) -> None:
        if not ids:
            raise bad_request(f"{where} is empty; render a prompt with /v1/render first")
        self._check_ids(ids, where)
        if len(ids) >= self.backend.max_context:
            raise ApiError(422, "invalid_tokens", f"{where} has {len(ids)} tokens; the context is {self.backend.max_context}, "
                           "leave room for at least one completion token")

    def generate(self, body: Dict[str, Any], wait: Optional[Callable[[Ticket], List[Generation]]] = None) -> Dict[str, Any]:
        extra = sorted(set(body) - set(GENERATE_KEYS))
        if extra:
            raise bad_request(f"{extra[0]} is not a generate field; allowed: {', '.join(GENERATE_KEYS)}")
        policy_id = require(body, "policy_id", "str")
        version = None if body.get("version") is None else check(body["version"], "int", "version")
        prompt = int_list(require(body, "prompt_token_ids", "list"), "prompt_token_ids")
        n = check(body.get("n", 1), "int", "n")
        if not 1 <= n <= MAX_N:
            raise bad_request(f"n must be 1..{MAX_N}, got {n}")
        self.registry.get(policy_id)
        self._prompt(prompt, "prompt_token_ids")
        sampling = self._sampling(body.get("sampling"), len(prompt))
        return self._generated(body, policy_id, version, prompt, sampling, n, wait or _wait_plain)

    def _generated(self, body: Dict[str, Any], policy_id: str, version: Optional[int], prompt: List[int], sampling: Sampling,
                   n: int, wait: Callable[[Ticket], List[Generation]]) -> Dict[str, Any]:
        # The read slot is held while queued and generating: a train call of this policy waits for it.
        with self.registry.serving(policy_id, version) as p:
            v = p.version
            outs = wait(self.scheduler.submit(policy_id, prompt, sampling, n))
        return {"request_id": body.get("request_id") or f"gen-{uuid.uuid4().hex[:16]}", "policy_id": policy_id,
                "policy_version": v, "prompt_token_ids": prompt,
                "outputs": [{"token_ids": o.token_ids, "logprobs": o.logprobs, "finish_reason": o.finish_reason,
                             "text": o.text} for o in outs]}

    def logprobs(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """log p(token_ids[t] | token_ids[:t]) under a policy's version (None at t = 0): the reference an
        inference engine's `prompt_logprobs` for the same ids must match before its adapter is used."""
        extra = sorted(set(body) - set(LOGPROBS_KEYS))
        if extra:
            raise bad_request(f"{extra[0]} is not a logprobs field; allowed: {', '.join(LOGPROBS_KEYS)}")
        policy_id = body.get("policy_id")
        if policy_id is not None:
            check(policy_id, "str", "policy_id")
        version = None if body.get("version") is None else check(body["version"], "int", "version")
        ids = int_list(require(body, "token_ids", "list"), "token_ids")
        if len(ids) < 2:
            raise bad_request(f"token_ids has {len(ids)} ids; send at least 2 (a prompt token and one to score)")
        self._check_ids(ids, "token_ids")
        if len(ids) > self.backend.max_context:
            raise ApiError(422, "invalid_tokens", f"token_ids has {len(ids)} ids; the context is {self.backend.max_context}")
        import torch

        x = torch.tensor([ids], dtype=torch.long)
        mask = torch.ones_like(x)
        if policy_id is None:
            with self.registry.compute_lock, torch.no_grad():
                lp = self.backend.token_logprobs(None, x, mask)
            v = None
        else:
            with self.registry.serving(policy_id, version) as p, self.registry.compute_lock, torch.no_grad():
                v = p.version
                lp = self.backend.token_logprobs(policy_id, x, mask)
        return {"policy_id": policy_id, "policy_version": v, "token_ids": ids,
                "token_logprobs": [None] + [float(t) for t in lp[0].float().cpu().tolist()]}

    def chat(self, body: Dict[str, Any], wait: Optional[Callable[[Ticket], List[Generation]]] = None) -> Dict[str, Any]:
        model = require(body, "model", "str")
        if body.get("stream"):
            raise bad_request("stream: true is not supported; send stream: false (or omit it)")
        n = 1 if body.get("n") is None else check(body["n"], "int", "n")
        if not 1 <= n <= MAX_N:
            raise bad_request(f"n must be 1..{MAX_N}, got {n}")
        policy_id, _, ver = model.partition("@")
        if ver and not ver.isdigit():
            raise bad_request(f"model {model!r} must be '<policy_id>' or '<policy_id>@<version>'")
        version = int(ver) if ver else None
        if policy_id not in self.registry.policies:
            raise ApiError(404, "model_not_found", f"The model {model!r} does not exist; known policies: "
                           f"{sorted(self.registry.policies)}. Create it with PUT /v1/policies/{policy_id}")
        prompt = self.render({"messages": require(body, "messages", "list"), "tools": body.get("tools"),
                              "add_generation_prompt": True})["token_ids"]
        self._prompt(prompt, "messages")
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        sampling = {k: body[k] for k in ("temperature", "top_p", "seed") if body.get(k) is not None}
        if max_tokens is not None:
            sampling["max_tokens"] = max_tokens
        s = self._sampling(sampling, len(prompt))
        stops = body.get("stop")
        stops = [stops] if isinstance(stops, str) else list(stops or [])
        if not all(isinstance(x, str) and x for x in stops):
            raise bad_request("stop must be a non-empty string or a list of them")
        if len(stops) > MAX_STOPS or any(len(x) > MAX_STOP_CHARS for x in stops):
            raise bad_request(f"stop may hold at most {MAX_STOPS} strings of at most {MAX_STOP_CHARS} characters")
        with self.registry.serving(policy_id, version) as p:
            v = p.version
            outs = (wait or _wait_plain)(self.scheduler.submit(policy_id, prompt, s, n, stop_strings=stops))
        tok = self.backend.tokenizer
        token_bytes = getattr(tok, "token_bytes", None)
        choices = []
        for index, out in enumerate(outs):
            ids, lps, finish = out.token_ids, out.logprobs, out.finish_reason
            text = tok.decode(ids)
            if stops:
                ids, lps, text, hit = _cut_at_stop(tok, ids, lps, stops)
                finish = "stop" if hit else finish
            content = []
            for i, lp in zip(ids, lps):
                entry: Dict[str, Any] = {"token": tok.token_str(i), "logprob": lp}
                entry["bytes"] = token_bytes(i) if token_bytes else list(tok.token_str(i).encode("utf-8"))
                entry["top_logprobs"] = []
                content.append(entry)
            choices.append({"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                            "token_ids": ids, "logprobs": {"content": content}})
        completion = sum(len(c["token_ids"]) for c in choices)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": f"{policy_id}@{v}", "policy_version": v, "prompt_token_ids": prompt, "choices": choices,
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": completion, "total_tokens": len(prompt) + completion},
        }


def _cut_at_stop(tok: Any, ids: List[int], lps: List[float], stops: List[str]) -> Tuple[List[int], List[float], str, bool]:
    """Keeps the tokens up to the one completing the first stop string; the content ends before that string.

    A decoded prefix only grows with k, so the shortest prefix holding a stop is found by binary search:
    O(n log n) decoding, where testing every prefix was O(n²) (0.3–0.4 s at 4,096 tokens)."""
    def hit(k: int) -> bool:
        text = tok.decode(ids[:k])
        return any(s in text for s in stops)

    if not ids or not hit(len(ids)):
        return ids, lps, tok.decode(ids), False
    lo, hi = 1, len(ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if hit(mid):
            hi = mid
        else:
            lo = mid + 1
    text = tok.decode(ids[:lo])
    return ids[:lo], lps[:lo], text[: min(text.find(s) for s in stops if s in text)], True


def _wait_plain(ticket: Ticket) -> List[Generation]:
    out = ticket.wait()
    assert out is not None
    return out


def make_handler(service: Service) -> type:
    reg = service.registry

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mappa-trainer/1"
        # Nagle + the client's delayed ACK stalled every keep-alive reply ~45 ms (48 ms vs 3-4.5 ms measured).
        disable_nagle_algorithm = True

        def _wait_watching(self, ticket: Ticket) -> List[Generation]:
            """Waits for a generation; a client that hangs up meanwhile cancels it (its rows leave the batch)."""
            while True:
                out = ticket.wait(0.05)
                if out is not None:
                    return out
                if _peer_closed(self.connection):
                    ticket.cancel()
                    raise ConnectionResetError("the client closed the connection during generation")

        def log_message(self, fmt: str, *args: Any) -> None:  # stderr via logging, not stdout
            log.debug("%s %s", self.address_string(), fmt % args)

        # -- plumbing -----------------------------------------------------------------------------

        def _send(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None,
                  ctype: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            if not raw.strip():
                return {}
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ApiError(400, "bad_request", f"request body is not valid JSON ({e}); send a JSON object") from None
            if not isinstance(body, dict):
                raise bad_request(f"request body must be a JSON object, got {type(body).__name__}")
            return body

        def _dispatch(self, method: str) -> None:
            url = urlparse(self.path)
            path = url.path.rstrip("/") or "/"
            chat = path == "/v1/chat/completions"
            try:
                body = self._body() if method in ("POST", "PUT") else {}
                self._route(method, path, url.query, body)
            except ApiError as e:
                if chat:
                    kind = "invalid_request_error" if e.status < 500 else "server_error"
                    self._send(e.status, {"error": {"message": e.message, "type": kind, "code": e.code, "param": None}}, e.headers)
                else:
                    self._send(e.status, e.body(), e.headers)
            except (BrokenPipeError, ConnectionResetError, Cancelled):
                self.close_connection = True
            except Exception as e:  # a bug: say so, keep serving
                log.exception("internal error on %s %s", method, path)
                self._send(500, {"error": "internal", "message": f"{type(e).__name__}: {e} (a trainer bug; see its stderr)"})

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        # -- routes -------------------------------------------------------------------------------

        def _route(self, method: str, path: str, query: str, body: Dict[str, Any]) -> None:
            simple = {
                ("GET", "/v1/health"): lambda: {"status": "ok"},
                ("GET", "/v1/info"): service.info,
                ("GET", "/v1/policies"): lambda: {"policies": [reg.describe(p) for p in list(reg.policies.values())]},
                ("POST", "/v1/render"): lambda: service.render(body),
                ("POST", "/v1/tokenize"): lambda: service.tokenize(body),
                ("POST", "/v1/detokenize"): lambda: service.detokenize(body),
                ("POST", "/v1/generate"): lambda: service.generate(body, self._wait_watching),
                ("POST", "/v1/logprobs"): lambda: service.logprobs(body),
                ("POST", "/v1/chat/completions"): lambda: service.chat(body, self._wait_watching),
            }
            if (method, path) in simple:
                return self._send(200, simple[(method, path)]())
            if path == "/v1/train":
                if method != "POST":
                    raise self._not_allowed(method, path, "POST")
                return self._train(body)
            m = re.fullmatch(r"/v1/policies/([^/]+)(?:/(checkpoint|restore|adapter))?", path)
            if m:
                pid, action = m.group(1), m.group(2)
                want = {None: ("GET", "PUT"), "checkpoint": ("POST",), "restore": ("POST",), "adapter": ("GET",)}[action]
                if method not in want:
                    raise self._not_allowed(method, path, "/".join(want))
                if action is None and method == "GET":
                    return self._send(200, reg.describe(reg.get(pid)))
                if action is None:
                    status, out = reg.put(pid, body)
                    return self._send(status, out)
                if action == "checkpoint":
                    return self._send(200, reg.checkpoint(pid))
                if action == "restore":
                    return self._send(200, reg.restore(pid, body.get("version")))
                q = parse_qs(query).get("version")
                try:
                    version = int(q[0]) if q else None
                except ValueError:
                    raise bad_request(f"query version={q[0]!r} must be an integer") from None
                version = reg.get(pid).version if version is None else version
                data = reg.adapter_tar(pid, version)
                return self._send(200, data, {"Content-Disposition": f'attachment; filename="{pid}-v{version}.tar"'},
                                  ctype="application/x-tar")
            if any(p == path for _, p in simple):
                raise self._not_allowed(method, path, ", ".join(mm for mm, p in simple if p == path))
            raise ApiError(404, "not_found", f"no route {method} {path}; see reference/trainer-protocol.md §4 for the endpoints")

        def _not_allowed(self, method: str, path: str, allowed: str) -> ApiError:
            return ApiError(405, "method_not_allowed", f"{method} {path} is not supported; use {allowed}")

        def _train(self, body: Dict[str, Any]) -> None:
            req = parse_train_request(body)
            lines = reg.begin_train(req)
            try:
                first = next(lines)  # starts training; errors from here on are {"type": "error"} lines
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._chunk(first)
                for rec in lines:
                    self._chunk(rec)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            finally:
                if hasattr(lines, "close"):
                    lines.close()  # a client that went away mid-stream rolls the policy back

        def _chunk(self, rec: Dict[str, Any]) -> None:
            data = (json.dumps(rec) + "\n").encode("utf-8")
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


class TrainerServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog of 5 reset connections when 16 clients connected at once.
    request_queue_size = 1024

    def server_close(self) -> None:
        super().server_close()
        service = getattr(self, "service", None)
        if service is not None:
            service.scheduler.close()


def _peer_closed(conn: socket.socket) -> bool:
    """True when the peer hung up: readable with nothing to read. Pipelined bytes are not a hang-up."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def build_backend(kind: str, base_model: str, device: Optional[str], seed: int) -> Any:
    if kind == "tiny":
        from .tiny_backend import TinyBackend

        return TinyBackend(base_model, device=device or "cpu", seed=seed)
    from .hf_backend import HFBackend

    dev = device or "cuda"
    kw = {"dtype": "float32"} if dev == "cpu" else {}
    return HFBackend(base_model, device=dev, seed=seed, **kw)


def make_server(backend: Any, out: str, host: str = "127.0.0.1", port: int = 0, max_policies: int = 16,
                max_lora_rank: int = 64, retry_after_s: int = 1, max_batch_rows: int = 64, group: Any = None) -> TrainerServer:
    registry = Registry(backend, out, max_policies, max_lora_rank, retry_after_s, group)
    service = Service(backend, registry, max_policies, max_lora_rank, max_batch_rows)
    srv = TrainerServer((host, port), make_handler(service))
    srv.service = service  # type: ignore[attr-defined]
    return srv


def write_port_file(path: str, port: int) -> None:
    """Writes the bound port atomically (temp file + rename): the TS side waits for this file."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".port-", dir=d)
    with os.fdopen(fd, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def serve_in_thread(srv: TrainerServer) -> threading.Thread:
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return t
