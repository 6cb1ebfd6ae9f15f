"""Command grader of pipelines/code_tests.yaml: runs a task's hidden unit tests against the agent's solution.py.

Contract (README.md#custom-graders): one JSON object on stdin with `expected` = {"function": name,
"tests": [{"args": [...], "expected": value}, ...]}; the workspace read-only at /workspace; one JSON
object printed: {"metrics": {"pass_rate", "tests_passed", "tests_total"}, "valid", "reason"?, "summary"}.

The agent's code never sees the expected values: they are only in this process's memory (read from
stdin, which is then empty). The solution runs in a child `python3 -I` process, by path, from a
private folder holding only solution.py and the harness, with the test *inputs* on its stdin, its
output discarded, rlimits and a timeout; it writes what the function returned to a result file that
this process reads (capped) and compares here. This process is made non-dumpable first, so the child
(same uid) cannot read its memory through /proc. A seccomp filter stops the child from signalling or
tracing any process, so it cannot kill this grader to dodge a failing grade (which would leave the
episode ungraded). Whatever the solution prints, wherever it exits, it can only pass a test by
returning the expected value.
"""

import ctypes
import json
import math
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

PER_RUN_TIMEOUT_S = 10
MAX_SOLUTION_BYTES = 256 * 1024
MAX_RESULT_BYTES = 1 << 20

HARNESS = r'''
import importlib.util, json, os, sys
payload = json.loads(sys.stdin.read())
result_path, nonce = payload["result"], payload["nonce"]
results = []
def flush():
    with open(result_path, "w") as f:
        f.write(nonce + json.dumps(results))
try:
    spec = importlib.util.spec_from_file_location("solution", payload["solution"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, payload["function"])
except BaseException as e:
    results = [{"ok": False, "error": "import: " + type(e).__name__}] * len(payload["tests"])
    flush()
    raise SystemExit(0)
for args in payload["tests"]:
    try:
        value = fn(*args)
        results.append({"ok": True, "value": json.loads(json.dumps(value))})
    except BaseException as e:
        results.append({"ok": False, "error": type(e).__name__})
flush()
'''


def emit(metrics, valid=True, reason=None, summary=""):
    out = {"metrics": metrics, "valid": valid, "summary": summary}
    if reason is not None:
        out["reason"] = reason
    print(json.dumps(out))


def same(got, want):
    """Exact JSON equality, except floats compare with a relative tolerance; bool is never a number."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, float) or isinstance(got, float):
        if not isinstance(got, (int, float)) or not isinstance(want, (int, float)):
            return False
        return math.isfinite(got) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    return type(got) is type(want) and got == want


# Syscalls the solution's process may not make: signalling or tracing another process (it could kill
# this grader, whose death would leave the episode ungraded instead of failed) or reading its memory.
NO_SIGNALS = {
    # kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal, ptrace,
    # process_vm_readv, process_vm_writev
    "x86_64": (0xC000003E, [62, 200, 234, 129, 297, 424, 101, 310, 311]),
    "aarch64": (0xC00000B7, [129, 130, 131, 138, 240, 424, 117, 270, 271]),
}


def deny_signals():
    """Loads a seccomp filter (stacked on the jail's) that makes NO_SIGNALS fail with EPERM."""
    arch, numbers = NO_SIGNALS[os.uname().machine]
    ret_allow, ret_eperm, ret_kill = 0x7FFF0000, 0x00050000 | 1, 0x80000000

    def stmt(code, k):
        return (code, 0, 0, k)

    def jeq(k, jt, jf):
        return (0x15, jt, jf, k)

    prog = [stmt(0x20, 4), jeq(arch, 1, 0), stmt(0x06, ret_kill), stmt(0x20, 0)]
    for i, nr in enumerate(numbers):
        prog.append(jeq(nr, len(numbers) - i, 0))
    prog += [stmt(0x06, ret_allow), stmt(0x06, ret_eperm)]

    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(prog))(*[Filter(*f) for f in prog])
    libc = ctypes.CDLL(None, use_errno=True)
    # PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP with SECCOMP_MODE_FILTER.
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(Prog(len(prog), filters)), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot load the seccomp filter")


def limit_child():
    os.setsid()
    deny_signals()
    resource.setrlimit(resource.RLIMIT_CPU, (PER_RUN_TIMEOUT_S, PER_RUN_TIMEOUT_S + 1))
    resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_RESULT_BYTES * 4, MAX_RESULT_BYTES * 4))


def main():
    # Non-dumpable: /proc/<pid>/mem, environ and fd of this process are closed to the child.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass
    data = json.loads(sys.stdin.read())
    expected = data.get("expected") or {}
    name = expected.get("function")
    tests = expected.get("tests") or []
    total = len(tests)
    if not isinstance(name, str) or total == 0:
        # The dataset's fault, not the agents': a crash leaves the episode ungraded.
        raise SystemExit("the task row has no hidden tests (answer.function, answer.tests)")
    zero = {"pass_rate": 0.0, "tests_passed": 0, "tests_total": total}
    path = "/workspace/solution.py"
    st = None
    try:
        st = os.lstat(path)
    except OSError:
        pass
    if st is None or not os.path.isfile(path) or os.path.islink(path):
        return emit(zero, False, "no solution.py in the workspace", "No solution.py was written.")
    if st.st_size > MAX_SOLUTION_BYTES:
        return emit(zero, False, f"solution.py is larger than {MAX_SOLUTION_BYTES} bytes", "solution.py is too large.")
    work = tempfile.mkdtemp(prefix="tests-")
    try:
        shutil.copyfile(path, os.path.join(work, "solution.py"))
        with open(os.path.join(work, "harness.py"), "w") as f:
            f.write(HARNESS)
        result = os.path.join(work, "result.json")
        nonce = secrets.token_hex(16)
        payload = json.dumps({
            "solution": os.path.join(work, "solution.py"),
            "function": name,
            "tests": [t["args"] for t in tests],  # inputs only, never the expected values
            "result": result,
            "nonce": nonce,
        })
        proc = subprocess.Popen(
            [sys.executable, "-I", os.path.join(work, "harness.py")],
            cwd=work,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"},
            preexec_fn=limit_child,
            close_fds=True,
        )
        timed_out = False
        try:
            proc.communicate(payload.encode(), timeout=PER_RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        results = []
        try:
            with open(result, "rb") as f:
                raw = f.read(MAX_RESULT_BYTES + 1).decode("utf-8", "replace")
            if len(raw) <= MAX_RESULT_BYTES and raw.startswith(nonce):
                parsed = json.loads(raw[len(nonce):])
                if isinstance(parsed, list):
                    results = parsed
        except (OSError, ValueError):
            results = []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    passed = 0
    for i, t in enumerate(tests):
        r = results[i] if i < len(results) and isinstance(results[i], dict) else None
        if r is not None and r.get("ok") is True and same(r.get("value"), t["expected"]):
            passed += 1
    note = " (timed out)" if timed_out else ""
    emit(
        {"pass_rate": passed / total, "tests_passed": passed, "tests_total": total},
        True,
        None,
        f"{passed}/{total} hidden tests passed{note}.",
    )


main()
