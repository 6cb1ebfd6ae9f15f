"""`python -m trainer serve ...`: starts the HTTP service; the bound port goes to --port-file, logs to stderr.

Under torchrun / accelerate launch (WORLD_SIZE > 1) every process runs this: rank 0 serves HTTP, the other
ranks repeat its updates (distributed.py, README "Data-parallel updates")."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import List, Optional

from .config import ServerConfig


def _watch_parent(on_orphaned) -> None:
    """Calls `on_orphaned` once the process that started us is gone (we are re-parented), so a killed
    `deno task train` leaves no trainer behind holding its checkpoint directory. Polling getppid() is
    used rather than prctl(PR_SET_PDEATHSIG), which fires when the parent *thread* exits."""
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
    s.add_argument("--max-batch-rows", type=int, default=64,
                   help="most sequences one policy's generation batch holds; more requests queue for the next step")
    s.add_argument("--log-level", default="INFO")
    s.add_argument("--exit-with-parent", action="store_true",
                   help="shut down when the process that started this one dies (deno task train --trainer local)")
    s.add_argument("--dist-timeout-s", type=float, default=600.0,
                   help="under torchrun: seconds a collective waits for the other ranks before the update fails")
    s.add_argument("--rank-state-dir", default=None,
                   help="debugging under torchrun: ranks >= 1 write their policies' state to DIR/rank<k>.pt after each command")
    a = ap.parse_args(argv)
    world_size = int(os.environ.get("WORLD_SIZE") or 1)
    rank = int(os.environ.get("RANK") or 0) if world_size > 1 else 0
    who = f"trainer[rank {rank}]" if world_size > 1 else "trainer"
    logging.basicConfig(stream=sys.stderr, level=a.log_level.upper(), format=f"%(asctime)s {who} %(levelname)s %(message)s")
    log = logging.getLogger("trainer")
    try:
        cfg = ServerConfig(host=a.host, port=a.port, port_file=a.port_file, backend=a.backend, base_model=a.base_model,
                           out=a.out, seed=a.seed, device=a.device or ("cpu" if a.backend == "tiny" else "cuda"),
                           max_policies=a.max_policies, max_lora_rank=a.max_lora_rank, threads=a.threads,
                           max_batch_rows=a.max_batch_rows,
                           dist_timeout_s=a.dist_timeout_s, rank_state_dir=a.rank_state_dir)
    except ValueError as e:
        ap.error(str(e))

    lock = _lock_out_dir(cfg.out) if rank == 0 else None  # the other ranks write nothing there

    import torch

    from .distributed import RankFailure, init_from_env, serve_worker
    from .server import build_backend, make_server, write_port_file
    from .train import seed_everything

    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    device = cfg.device
    if world_size > 1 and device == "cuda":  # one GPU per rank
        device = f"cuda:{int(os.environ.get('LOCAL_RANK') or rank)}"
    try:
        group = init_from_env(cfg.dist_timeout_s, device)
    except (ValueError, RuntimeError) as e:
        log.error("cannot join the process group (rank %d of %d): %s; start every rank with torchrun or accelerate "
                  "launch, with the same MASTER_ADDR and MASTER_PORT", rank, world_size, e)
        return 2
    seed_everything(cfg.seed)
    try:
        backend = build_backend(cfg.backend, cfg.base_model, device, cfg.seed)
    except (ImportError, ValueError, OSError) as e:
        log.error("cannot load the %s backend with base model %r: %s", cfg.backend, cfg.base_model, e)
        return 2
    try:
        group.barrier("startup")  # every rank loaded its backend
    except RankFailure as e:
        log.error("%s", e.message)
        return 2
    if group.rank != 0:
        from .policies import Registry

        if a.exit_with_parent:
            _watch_parent(lambda: os._exit(0))
        registry = Registry(backend, cfg.out, cfg.max_policies, cfg.max_lora_rank, cfg.retry_after_s, group)
        return serve_worker(registry, group, cfg.rank_state_dir)
    srv = make_server(backend, cfg.out, cfg.host, cfg.port, cfg.max_policies, cfg.max_lora_rank, cfg.retry_after_s,
                      max_batch_rows=cfg.max_batch_rows, group=group)
    group.heartbeat()
    port = srv.server_address[1]
    if cfg.port_file:
        write_port_file(cfg.port_file, port)
    log.info("serving %s (%s) on http://%s:%d, out=%s%s", backend.name, cfg.base_model, cfg.host, port, cfg.out,
             f", {world_size} ranks ({group.describe()['backend']})" if world_size > 1 else "")

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
        group.close()
        log.info("stopped")
        del lock
    return 0


if __name__ == "__main__":
    sys.exit(main())
