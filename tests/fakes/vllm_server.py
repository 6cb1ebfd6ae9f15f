#!/usr/bin/env python3
"""A loopback stand-in for `vllm serve <base> --enable-lora` in mappa's tests (tests/train_vllm_test.ts).

It speaks the parts of vLLM's OpenAI-compatible server that mappa's rollout engine uses, in vLLM's
shapes (vllm/entrypoints/openai/*/protocol.py at the time of writing), and computes everything for
real with the trainer's `tiny` backend: adapters are read from the PEFT directories on disk
(adapter_config.json + adapter_model.safetensors/.bin), generation samples from the model, and
`prompt_logprobs` are the model's log-probabilities, so a test can compare them with the trainer's.

  GET  /health                   200, empty body
  GET  /v1/models                the base model, then each loaded adapter (root = its path, parent = base)
  POST /v1/load_lora_adapter     {lora_name, lora_path} -> 200 text; 400 when the name is loaded; 404 for a
                                 missing directory; only with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True (else 404)
  POST /v1/unload_lora_adapter   {lora_name} -> 200 text; 404 when unknown
  POST /v1/chat/completions      messages; return_token_ids, logprobs, max_tokens, temperature, top_p, seed, stop
  POST /v1/completions           prompt (token ids or text); prompt_logprobs, return_token_ids, logprobs, max_tokens
  POST /tokenize                 {prompt} or {messages, add_generation_prompt} -> {count, max_model_len, tokens}
  GET  /fake/log                 test-only: the loads, unloads and generation requests (model, ids) this process served

Errors are vLLM's `{"error": {"message", "type", "param", "code"}}`; an unknown model is 404 NotFoundError
"The model `x` does not exist.". Faults: `--fault ignore_load` answers loads with 200 but keeps serving the
previously loaded weights (the base before any) under the new name; `--fault refuse_load` answers every
load with 500; `--model tiny:seed=1` is another base model; `--chat-template alt` renders every message
with a trailing newline, `alt-system` renders system messages as user messages. A restart is the test
killing this process and starting it again on the same port: loaded adapters are gone, as in vLLM.
`--latency-ms` delays every chat completion, so a test can hold requests in flight.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import torch  # noqa: E402

from trainer.backend import AdapterConfig, Sampling  # noqa: E402
from trainer.policies import read_adapter_dir  # noqa: E402
from trainer.tiny_backend import TinyBackend  # noqa: E402


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def not_found_model(name: str) -> ApiError:
    return ApiError(404, "NotFoundError", f"The model `{name}` does not exist.")


class Engine:
    """One base model, named LoRA adapters on it, and the chat template; every method is thread-safe."""

    def __init__(self, model: str, served_name: str, template: str, fault: Optional[str], max_lora_rank: int,
                 latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.backend = TinyBackend(model)
        self.tok = self.backend.tokenizer
        self.root, self.name, self.template, self.fault = model, served_name, template, fault
        self.max_lora_rank = max_lora_rank
        self.adapters: Dict[str, Tuple[Optional[str], str]] = {}  # lora name -> (backend policy id or None = base, path)
        self.last_loaded: Optional[str] = None
        self.lock = threading.Lock()
        self.log: Dict[str, List[Any]] = {"loads": [], "unloads": [], "requests": []}

    # -- adapters ---------------------------------------------------------------------------------

    def load(self, body: Dict[str, Any]) -> str:
        name, path = body.get("lora_name"), body.get("lora_path")
        if not name or not path:
            raise ApiError(400, "InvalidUserInput", "Both 'lora_name' and 'lora_path' must be provided.")
        with self.lock:
            if name in self.adapters and not body.get("load_inplace"):
                raise ApiError(400, "InvalidUserInput", f"The lora adapter '{name}' has already been loaded. If you want "
                               "to load the adapter in place, set 'load_inplace' to True.")
            if self.fault == "refuse_load":
                raise ApiError(500, "InternalServerError", f"Loading lora {name} failed: the engine refuses loads "
                               "(fake engine started with --fault refuse_load)")
            config_file = os.path.join(path, "adapter_config.json")
            if not os.path.isfile(config_file):
                raise ApiError(404, "NotFoundError", f"Loading lora {name} failed: No adapter found for {path}")
            if self.fault == "ignore_load":
                # The silent failure: a 200, and the old weights under the new name.
                self.adapters[name] = (self.last_loaded, path)
            else:
                with open(config_file, encoding="utf-8") as f:
                    cfg = json.load(f)
                if int(cfg["r"]) > self.max_lora_rank:
                    raise ApiError(500, "InternalServerError", f"LoRA rank {cfg['r']} is greater than max_lora_rank "
                                   f"{self.max_lora_rank}.")
                policy = f"lora-{uuid.uuid4().hex[:12]}"
                try:
                    self.backend.create_policy(policy, AdapterConfig(int(cfg["r"]), float(cfg["lora_alpha"]),
                                                                     tuple(cfg.get("target_modules") or ())))
                    self.backend.load_adapter_state(policy, read_adapter_dir(path))
                except (ValueError, KeyError, OSError) as e:
                    self.backend.delete_policy(policy)
                    raise ApiError(500, "InternalServerError", f"Loading lora {name} failed: {e}") from None
                self.adapters[name] = (policy, path)
                self.last_loaded = policy
            self.log["loads"].append(name)
        return f"Success: LoRA adapter '{name}' added successfully."

    def unload(self, body: Dict[str, Any]) -> str:
        name = body.get("lora_name")
        if not name:
            raise ApiError(400, "InvalidUserInput", "'lora_name' needs to be provided to unload a LoRA adapter.")
        with self.lock:
            if name not in self.adapters:
                raise ApiError(404, "NotFoundError", f"The lora adapter '{name}' cannot be found.")
            policy, _ = self.adapters.pop(name)
            still_used = policy is None or policy == self.last_loaded or any(p == policy for p, _ in self.adapters.values())
            if not still_used:
                self.backend.delete_policy(policy)
            self.log["unloads"].append(name)
        return f"Success: LoRA adapter '{name}' removed successfully."

    def resolve(self, model: Any) -> Optional[str]:
        if model in (None, self.name):
            return None
        with self.lock:
            if model not in self.adapters:
                raise not_found_model(str(model))
            return self.adapters[model][0]

    def models(self) -> Dict[str, Any]:
        now = int(time.time())
        card = {"object": "model", "created": now, "owned_by": "vllm", "permission": []}
        data = [{**card, "id": self.name, "root": self.root, "parent": None, "max_model_len": self.backend.max_context}]
        with self.lock:
            data += [{**card, "id": n, "root": p, "parent": self.name, "max_model_len": None} for n, (_, p) in self.adapters.items()]
        return {"object": "list", "data": data}

    # -- tokens -----------------------------------------------------------------------------------

    def render(self, messages: Any, tools: Any = None, add_generation_prompt: bool = True) -> List[int]:
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, "BadRequestError", "messages must be a non-empty list")
        msgs = [dict(m) for m in messages]
        if self.template == "alt":
            msgs = [{**m, "content": (m.get("content") or "") + "\n"} for m in msgs]
        elif self.template == "alt-system":
            msgs = [{**m, "role": "user"} if m.get("role") == "system" else m for m in msgs]
        try:
            return self.tok.render(msgs, tools=tools, add_generation_prompt=add_generation_prompt)
        except ValueError as e:
            raise ApiError(400, "BadRequestError", str(e)) from None

    def prompt_ids(self, prompt: Any) -> List[int]:
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], list):
            prompt = prompt[0]
        if isinstance(prompt, str):
            return self.tok.encode(prompt)
        if isinstance(prompt, list) and prompt and all(isinstance(t, int) and not isinstance(t, bool) for t in prompt):
            bad = [t for t in prompt if not 0 <= t < self.tok.vocab_size]
            if bad:
                raise ApiError(400, "BadRequestError", f"Token id {bad[0]} is out of vocabulary")
            return list(prompt)
        raise ApiError(400, "BadRequestError", "prompt must be a string or one non-empty list of token ids")

    # -- compute ----------------------------------------------------------------------------------

    def sampling(self, body: Dict[str, Any], prompt_len: int, default_max: Optional[int]) -> Sampling:
        room = self.backend.max_context - prompt_len
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or default_max or room
        if max_tokens > room:
            raise ApiError(400, "BadRequestError", f"This model's maximum context length is {self.backend.max_context} "
                           f"tokens. However, you requested {max_tokens} output tokens and your prompt contains "
                           f"{prompt_len} input tokens.")
        t = body.get("temperature")
        return Sampling(max_tokens=int(max_tokens), temperature=1.0 if t is None else float(t),
                        top_p=float(body.get("top_p") or 1.0), seed=body.get("seed"))

    def generate(self, policy: Optional[str], prompt: List[int], s: Sampling, stops: List[str]) -> Tuple[List[int], List[float], str, str]:
        out = self.backend.generate(policy, prompt, s, 1)[0]
        ids, lps, finish, text = out.token_ids, out.logprobs, out.finish_reason, out.text
        for k in range(1, len(ids) + 1) if stops else ():
            # vLLM keeps the token that completed a stop string and cuts the text before the string.
            partial = self.tok.decode(ids[:k])
            hits = [partial.find(x) for x in stops if x in partial]
            if hits:
                return ids[:k], lps[:k], partial[: min(hits)], "stop"
        return ids, lps, text, finish

    def prompt_logprobs(self, policy: Optional[str], ids: List[int], k: int) -> List[Optional[Dict[str, Any]]]:
        with torch.no_grad():
            logp = torch.log_softmax(self.backend.model(torch.tensor([ids]), policy)[0, :-1].float(), dim=-1)
        out: List[Optional[Dict[str, Any]]] = [None]
        for t in range(1, len(ids)):
            row = logp[t - 1]
            want = {ids[t]} | (set(torch.topk(row, k).indices.tolist()) if k > 0 else set())
            out.append({str(i): {"logprob": float(row[i]), "rank": int((row > row[i]).sum()) + 1,
                                 "decoded_token": self.tok.token_str(i)} for i in sorted(want)})
        return out


SAMPLING_LOGGED = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty", "seed", "max_tokens")


def chat(engine: Engine, body: Dict[str, Any]) -> Dict[str, Any]:
    model = body.get("model")
    policy = engine.resolve(model)
    time.sleep(engine.latency_s)
    if body.get("stream"):
        raise ApiError(400, "BadRequestError", "stream is not supported by this fake")
    prompt = engine.render(body.get("messages"), body.get("tools"), body.get("add_generation_prompt", True))
    s = engine.sampling(body, len(prompt), None)
    stops = body.get("stop") or []
    ids, lps, text, finish = engine.generate(policy, prompt, s, [stops] if isinstance(stops, str) else list(stops))
    engine.log["requests"].append({"endpoint": "chat", "model": model, "prompt_token_ids": prompt, "token_ids": ids,
                                   "sampling": {k: body.get(k) for k in SAMPLING_LOGGED if k in body}})
    content = [{"token": engine.tok.token_str(i), "logprob": lp, "bytes": engine.tok.token_bytes(i), "top_logprobs": []}
               for i, lp in zip(ids, lps)]
    tokens = body.get("return_token_ids")
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "reasoning": None},
                     "logprobs": {"content": content} if body.get("logprobs") else None, "finish_reason": finish,
                     "stop_reason": None, "token_ids": ids if tokens else None}],
        "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(ids), "total_tokens": len(prompt) + len(ids)},
        "prompt_logprobs": None, "prompt_token_ids": prompt if tokens else None,
    }


def completion(engine: Engine, body: Dict[str, Any]) -> Dict[str, Any]:
    model = body.get("model")
    policy = engine.resolve(model)
    prompt = engine.prompt_ids(body.get("prompt"))
    s = engine.sampling(body, len(prompt), 16)
    ids, lps, text, finish = engine.generate(policy, prompt, s, [])
    engine.log["requests"].append({"endpoint": "completions", "model": model, "prompt_token_ids": prompt, "token_ids": ids})
    k = body.get("prompt_logprobs")
    tokens = body.get("return_token_ids")
    logprobs = None
    if body.get("logprobs") is not None:
        logprobs = {"text_offset": list(range(len(ids))), "token_logprobs": lps,
                    "tokens": [engine.tok.token_str(i) for i in ids], "top_logprobs": [None] * len(ids)}
    return {
        "id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish, "stop_reason": None,
                     "token_ids": ids if tokens else None, "prompt_token_ids": prompt if tokens else None,
                     "prompt_logprobs": engine.prompt_logprobs(policy, prompt, int(k)) if k is not None else None}],
        "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(ids), "total_tokens": len(prompt) + len(ids)},
    }


def tokenize(engine: Engine, body: Dict[str, Any]) -> Dict[str, Any]:
    engine.resolve(body.get("model"))
    if "messages" in body:
        ids = engine.render(body["messages"], body.get("tools"), body.get("add_generation_prompt", True))
    else:
        ids = engine.tok.encode(str(body.get("prompt", "")))
    return {"count": len(ids), "max_model_len": engine.backend.max_context, "tokens": ids, "token_strs": None}


def make_handler(engine: Engine, runtime_lora: bool) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            routes = {"/health": lambda: "", "/v1/models": engine.models, "/fake/log": lambda: engine.log}
            self._dispatch(routes)

        def do_POST(self) -> None:
            routes = {"/v1/chat/completions": chat, "/v1/completions": completion, "/tokenize": tokenize}
            if runtime_lora:
                routes.update({"/v1/load_lora_adapter": lambda e, b: e.load(b),
                               "/v1/unload_lora_adapter": lambda e, b: e.unload(b)})
            n = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(n) or b"{}")
            except json.JSONDecodeError as e:
                return self._error(ApiError(400, "BadRequestError", f"JSON decode error: {e}"))
            self._dispatch({p: (lambda f=f: f(engine, body)) for p, f in routes.items()})

        def _dispatch(self, routes: Dict[str, Any]) -> None:
            path = self.path.split("?")[0]
            if path not in routes:
                return self._send(404, {"detail": "Not Found"})  # FastAPI's answer for a route that is not mounted
            try:
                out = routes[path]()
            except ApiError as e:
                return self._error(e)
            except Exception as e:  # a fake's bug: say so, keep serving
                return self._error(ApiError(500, "InternalServerError", f"{type(e).__name__}: {e}"))
            self._send(200, out, "text/plain" if isinstance(out, str) else "application/json")

        def _error(self, e: ApiError) -> None:
            self._send(e.status, {"error": {"message": e.message, "type": e.kind, "param": None, "code": e.status}})

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    ap.add_argument("--model", default="tiny", help="the tiny backend's base model, e.g. tiny or tiny:seed=1")
    ap.add_argument("--served-model-name", help="the base model's name in requests (default: --model)")
    ap.add_argument("--seed", type=int, default=0, help="seed of sampling without a per-request seed")
    ap.add_argument("--max-lora-rank", type=int, default=16)
    ap.add_argument("--chat-template", choices=["default", "alt", "alt-system"], default="default")
    ap.add_argument("--fault", choices=["ignore_load", "refuse_load"])
    ap.add_argument("--latency-ms", type=int, default=0, help="delay of every chat completion")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    engine = Engine(a.model, a.served_model_name or a.model, a.chat_template, a.fault, a.max_lora_rank, a.latency_ms / 1000)
    runtime_lora = os.environ.get("VLLM_ALLOW_RUNTIME_LORA_UPDATING", "0").strip().lower() in ("1", "true")
    srv = Server((a.host, a.port), make_handler(engine, runtime_lora))
    if a.port_file:
        d = os.path.dirname(os.path.abspath(a.port_file))
        fd, tmp = tempfile.mkstemp(dir=d)
        with os.fdopen(fd, "w") as f:
            f.write(f"{srv.server_address[1]}\n")
        os.replace(tmp, a.port_file)
    parent = os.getppid()

    def watch() -> None:  # a killed test leaves no engine behind
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
