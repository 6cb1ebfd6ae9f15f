"""`python -m trainer serve ...`: starts the HTTP service; the bound port goes to --port-file, logs to stderr."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import List, Optional

from .config import ServerConfig


def _watch_parent(on_orphaned) -> None:
    """Calls `on_orphaned` once the process that started us is gone (we are re-parented), so a killed
    `deno task train` leaves no trainer behind holding its checkpoint directory. Polling getppid() is
    used rather than prctl(PR_SET_PDEATHSIG), which fires when the parent *thread* exits."""
    import os
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        on_orphaned()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _lock_out_dir(out: str) -> object:
    """Holds an exclusive lock on `<out>/.lock` for the life of the process: two trainers writing one
    checkpoint directory would corrupt each other's versions."""
    import fcntl
    import os

    os.makedirs(out, exist_ok=True)
    handle = open(os.path.join(out, ".lock"), "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(
            f"error: another trainer is using {out} (its .lock is held); stop it, or pass another --out"
        ) from None
    return handle


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the trainer HTTP service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port (see --port-file)")
    s.add_argument("--port-file", default=None, help="write the bound port here (temp file + rename)")
    s.add_argument("--backend", choices=("tiny", "hf"), default="tiny")
    s.add_argument("--base-model", default="tiny")
    s.add_argument("--out", default="runs/trainer")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default=None, help="cpu for tiny (default), cuda for hf (default)")
    s.add_argument("--max-policies", type=int, default=16)
    s.add_argument("--max-lora-rank", type=int, default=64)
    s.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    s.add_argument("--log-level", default="INFO")
    s.add_argument("--exit-with-parent", action="store_true",
                   help="shut down when the process that started this one dies (deno task train --trainer local)")
    a = ap.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=a.log_level.upper(), format="%(asctime)s trainer %(levelname)s %(message)s")
    log = logging.getLogger("trainer")
    try:
        cfg = ServerConfig(host=a.host, port=a.port, port_file=a.port_file, backend=a.backend, base_model=a.base_model,
                           out=a.out, seed=a.seed, device=a.device or ("cpu" if a.backend == "tiny" else "cuda"),
                           max_policies=a.max_policies, max_lora_rank=a.max_lora_rank, threads=a.threads)
    except ValueError as e:
        ap.error(str(e))

    lock = _lock_out_dir(cfg.out)

    import torch

    from .server import build_backend, make_server, write_port_file
    from .train import seed_everything

    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    try:
        backend = build_backend(cfg.backend, cfg.base_model, cfg.device, cfg.seed)
    except (ImportError, ValueError, OSError) as e:
        log.error("cannot load the %s backend with base model %r: %s", cfg.backend, cfg.base_model, e)
        return 2
    srv = make_server(backend, cfg.out, cfg.host, cfg.port, cfg.max_policies, cfg.max_lora_rank, cfg.retry_after_s)
    port = srv.server_address[1]
    if cfg.port_file:
        write_port_file(cfg.port_file, port)
    log.info("serving %s (%s) on http://%s:%d, out=%s", backend.name, cfg.base_model, cfg.host, port, cfg.out)

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: shutting down", f"signal {signum}" if signum else "the starting process is gone")
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.exit_with_parent:
        _watch_parent(lambda: stop(0, None))
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        log.info("stopped")
        del lock
    return 0


if __name__ == "__main__":
    sys.exit(main())
