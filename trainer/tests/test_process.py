"""`python -m trainer serve` as a process: the port file, the lock on --out, and --exit-with-parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def _serve(out: str, port_file: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--out", out, "--port-file", port_file, *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(path: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while not os.path.exists(path):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_trainer_on_the_same_out_dir_refuses_to_start(tmp_path):
    out = str(tmp_path / "out")
    first = _serve(out, str(tmp_path / "p1"))
    try:
        _wait_for(str(tmp_path / "p1"), first)
        second = _serve(out, str(tmp_path / "p2"))
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0
        assert "another trainer is using" in err.decode()
        assert not os.path.exists(tmp_path / "p2")
    finally:
        first.terminate()
        assert first.wait(timeout=30) == 0
    assert first.stdout.read() == b"", "nobody parses the trainer's stdout: it stays empty"


def test_exit_with_parent_stops_the_trainer_when_its_parent_dies(tmp_path):
    port_file = tmp_path / "port"
    pid_file = tmp_path / "pid"
    # A parent that starts the trainer, records its pid and dies without stopping it.
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time, os\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'trainer', 'serve', '--out', {str(tmp_path / 'out')!r}, "
        f"'--port-file', {str(port_file)!r}, '--exit-with-parent'], cwd={ROOT!r}, stderr=subprocess.DEVNULL)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        f"while not os.path.exists({str(port_file)!r}): time.sleep(0.05)\n"
        "os._exit(0)\n")])
    assert parent.wait(timeout=60) == 0
    pid = int(pid_file.read_text())
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                if "\nState:\tZ" in f.read():  # exited; only waiting for a reaper
                    return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    raise AssertionError("the trainer outlived its parent")
