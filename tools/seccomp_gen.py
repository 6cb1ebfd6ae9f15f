#!/usr/bin/python3
"""Generates the seccomp filter of every mappa jail (issue 13, item 4) with libseccomp.

    /usr/bin/python3 tools/seccomp_gen.py runtime/sandbox/seccomp

writes, for x86_64 and aarch64, `<arch>.bpf` (the raw BPF program bwrap loads with `--seccomp FD`),
`<arch>.pfc` (the same filter as readable pseudo code) and `manifest.json` (the libseccomp version and
each program's sha256). The programs are checked in, so a jail costs no filter compilation and the host
needs no libseccomp binding at run time; runtime/sandbox/_seccomp_test.ts checks that they equal this
script's output. Needs Debian's python3-seccomp (`apt-get install -y python3-seccomp`).

The filter allows by default and denies what a data-science tool never needs: a denylist, so that
Python, its C extensions and Deno keep working. A syscall of another ABI on the host (i386 `int 0x80`
or x32 on x86_64, AArch32 on aarch64) kills the thread.
"""

import ctypes
import errno
import hashlib
import json
import os
import sys

import seccomp as s

ARCHES = {"x86_64": s.Arch.X86_64, "aarch64": s.Arch.AARCH64}

# Privileged or host-wide operations: EPERM, as an unprivileged process would mostly get anyway.
EPERM = [
    # mounts and namespaces (bwrap set them up before the filter applies)
    "mount", "umount", "umount2", "pivot_root", "chroot", "setns", "unshare",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
    "kcmp",
    # kernel, modules, machine
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "create_module", "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff",
    "syslog", "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "nfsservctl", "_sysctl",
    "uselib", "vhangup", "iopl", "ioperm", "modify_ldt",
    # clocks (adjtimex stays: reading it is unprivileged)
    "settimeofday", "clock_settime", "clock_adjtime", "stime",
    # host file handles and fanotify
    "open_by_handle_at", "name_to_handle_at", "fanotify_init",
]
# Kernel features a program may probe for and fall back from: ENOSYS, as on a kernel without them.
ENOSYS = [
    "add_key", "request_key", "keyctl",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "userfaultfd", "perf_event_open", "bpf",
    # glibc and Rust fall back to clone(), whose namespace flags the filter can inspect
    "clone3",
]
# Socket families a tool may open; every other one fails with EAFNOSUPPORT (the kernel's answer for a
# family it lacks). AF_NETLINK is kept for NETLINK_ROUTE only (glibc's getaddrinfo asks it which
# address families are configured); the network namespace holds only a down loopback.
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
ALLOWED_FAMILIES = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}
# AF_MAX is 46 on Linux 6.x; socket() rejects larger families itself. 64 leaves room.
FAMILY_LIMIT = 64
NETLINK_ROUTE = 0
# clone() flags that create namespaces (CLONE_NEWTIME is 0x80, an exit-signal bit for clone()).
CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                  0x40000000]
# ioctls that push input into or control the terminal.
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
LOW32 = 0xFFFFFFFF


def syscall_exists(arch: int, name: str) -> bool:
    try:
        return s.resolve_syscall(arch, name) >= 0
    except (ValueError, RuntimeError):
        return False


def build(arch: int) -> s.SyscallFilter:
    f = s.SyscallFilter(s.ALLOW)
    f.remove_arch(s.Arch.NATIVE)
    f.add_arch(arch)
    f.set_attr(s.Attr.ACT_BADARCH, s.KILL_PROCESS)
    f.set_attr(s.Attr.CTL_NNP, 0)  # bwrap sets no_new_privs itself
    # A binary search over syscall numbers, so the hot syscalls (read, write, mmap) pass in ~10 steps.
    f.set_attr(s.Attr.CTL_OPTIMIZE, 2)

    def deny(err: int, name: str, *args: s.Arg) -> None:
        if syscall_exists(arch, name):
            f.add_rule_exactly(s.ERRNO(err), name, *args)

    for name in EPERM:
        deny(errno.EPERM, name)
    for name in ENOSYS:
        deny(errno.ENOSYS, name)
    # personality: only the default persona (PER_LINUX, 0); READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE,
    # MMAP_PAGE_ZERO and the rest fail, and so does the 0xffffffff query.
    deny(errno.EPERM, "personality", s.Arg(0, s.NE, 0))
    # socket families, compared on the low 32 bits the kernel reads (an int).
    for family in range(FAMILY_LIMIT):
        if family not in ALLOWED_FAMILIES:
            deny(errno.EAFNOSUPPORT, "socket", s.Arg(0, s.MASKED_EQ, LOW32, family))
    deny(errno.EAFNOSUPPORT, "socket", s.Arg(0, s.MASKED_EQ, LOW32, AF_NETLINK),
         s.Arg(2, s.NE, NETLINK_ROUTE))
    # socketpair: AF_UNIX only (TIPC, for one, implements it); other values fail, upper bits too.
    deny(errno.EAFNOSUPPORT, "socketpair", s.Arg(0, s.NE, AF_UNIX))
    for flag in CLONE_NS_FLAGS:
        deny(errno.EPERM, "clone", s.Arg(0, s.MASKED_EQ, flag, flag))
    for request in (TIOCSTI, TIOCLINUX):
        deny(errno.EPERM, "ioctl", s.Arg(1, s.MASKED_EQ, LOW32, request))
    return f


def libseccomp_version() -> str:
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_version.restype = ctypes.POINTER(ctypes.c_uint * 3)
    major, minor, micro = lib.seccomp_version().contents
    return f"{major}.{minor}.{micro}"


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    manifest = {
        "generator": "tools/seccomp_gen.py",
        "libseccomp": libseccomp_version(),
        "programs": {},
    }
    for name, arch in ARCHES.items():
        f = build(arch)
        bpf_path = os.path.join(out_dir, f"{name}.bpf")
        with open(bpf_path, "wb") as out:
            f.export_bpf(out)
        with open(os.path.join(out_dir, f"{name}.pfc"), "w") as out:
            f.export_pfc(out)
        with open(bpf_path, "rb") as data:
            manifest["programs"][f"{name}.bpf"] = hashlib.sha256(data.read()).hexdigest()
    with open(os.path.join(out_dir, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=2, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: /usr/bin/python3 tools/seccomp_gen.py OUT_DIR")
    main(sys.argv[1])
