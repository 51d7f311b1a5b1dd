# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What skiffd keeps of root once it is up (user/cmd/privs.h,
docs/security.md "Privileges"): every thread runs with CAP_BPF effective,
CAP_NET_ADMIN and CAP_SYS_ADMIN only permitted (for the teardown), nothing
else even in the bounding set, and NoNewPrivs;
and it still serves, updates its maps at run time and cleans up on exit.

The seccomp filter (user/cmd/seccomp.h): every thread runs under one filter,
and the filter the kernel holds for the running daemon -- read back with
ptrace(PTRACE_SECCOMP_GET_FILTER) and run here on made-up system calls by a
small classic-BPF interpreter -- kills what skiffd never does (execve,
ptrace, mount, module loading, fork, raw sockets, executable memory, a
32-bit entry), answers bpf(BPF_PROG_LOAD) with EPERM and allows what
serving needs."""

import ctypes
import os
import platform
import struct

import pytest

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")

CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_BPF = 12, 21, 39
RUN = 1 << CAP_BPF  # no AF_XDP socket is made at run time: no CAP_NET_RAW, CAP_IPC_LOCK
KEPT = RUN | (1 << CAP_NET_ADMIN) | (1 << CAP_SYS_ADMIN)


def echoed(topo, payload, tries=3):
    """UDP echo from skiffd, a datagram lost allowed: on a loaded machine a
    worker starved past --failover-ms has XDP pass the datagram to the
    kernel (fail open), which drops it."""
    return any(sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
               for _ in range(tries))


def thread_status(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            fields = dict(ln.split(":\t", 1) for ln in f.read().splitlines() if ":\t" in ln)
        out[fields["Name"].strip()] = fields
    return out


def test_every_thread_keeps_only_the_run_time_capabilities_and_no_new_privs(topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        threads = thread_status(d.proc.pid)
        assert any(name.startswith("skiffd-q") for name in threads), threads.keys()
        for name, st in threads.items():
            got = {k: int(st[k], 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh")}
            assert got == {"CapEff": RUN, "CapPrm": KEPT, "CapBnd": KEPT, "CapAmb": 0,
                           "CapInh": 0}, f"thread {name}: {got}"
            assert st["NoNewPrivs"].strip() == "1", f"thread {name}"
        assert int(threads["skiffd"]["Uid"].split()[1]) == 0  # euid stays root (privs.h)
        # it still serves, learns neighbours at run time, and answers skiffctl
        payload = os.urandom(200)
        assert echoed(topo, payload)
        assert topo.peer_ip in d.neigh()
        assert d.ctl_json("status")["pid"] == d.proc.pid
    finally:
        rc = d.stop()
    assert rc == 0, d.output()
    # the teardown had what it needs: XDP gone, pins gone
    assert topo.dut_xdp() is None, topo.dut_xdp()
    assert not d.pin_dir.exists()


# ---- the seccomp filter ----

PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SECCOMP_GET_FILTER = 16, 17, 0x420C
WALL = 0x40000000
RET_ACTION = 0xFFFF0000
KILL_PROCESS, ERRNO, LOG, ALLOW = 0x80000000, 0x00050000, 0x7FFC0000, 0x7FFF0000
AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 = 0xC000003E, 0x40000003
EPERM, ENOSYS = 1, 38
# x86_64 system call numbers
NR = dict(read=0, open=2, poll=7, mmap=9, mprotect=10, ioctl=16, socket=41, connect=42,
          sendto=44, recvfrom=45, clone=56, fork=57, vfork=58, execve=59, kill=62, chmod=90,
          ptrace=101, setuid=105, mount=165, umount2=166, init_module=175, kexec_load=246,
          unshare=272, setns=308, process_vm_writev=311, finit_module=313, bpf=321,
          execveat=322, clone3=435, epoll_wait=232, accept4=288, memfd_create=319,
          openat2=437)
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_XDP = 1, 2, 10, 16, 17, 44
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_CLOEXEC = 1, 2, 3, 0o2000000
BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_CREATE, BPF_PROG_LOAD = 1, 2, 0, 5
CLONE_THREAD_FLAGS = 0x3D0F00  # glibc's pthread_create: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|...
SIGCHLD = 17
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4


def read_filter(tid):
    """The classic BPF program of tid's first (only) seccomp filter, as the
    kernel holds it: a list of (code, jt, jf, k)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(PTRACE_ATTACH, tid, None, None) < 0:
        raise OSError(ctypes.get_errno(), f"PTRACE_ATTACH {tid}")
    try:
        os.waitpid(tid, WALL)
        n = libc.ptrace(PTRACE_SECCOMP_GET_FILTER, tid, None, None)
        if n < 0:
            raise OSError(ctypes.get_errno(), "PTRACE_SECCOMP_GET_FILTER")
        buf = ctypes.create_string_buffer(8 * n)
        if libc.ptrace(PTRACE_SECCOMP_GET_FILTER, tid, None, buf) != n:
            raise OSError(ctypes.get_errno(), "PTRACE_SECCOMP_GET_FILTER")
    finally:
        libc.ptrace(PTRACE_DETACH, tid, None, None)
    return [struct.unpack_from("<HBBI", buf.raw, 8 * i) for i in range(n)]


def run_filter(prog, nr, args=(), arch=AUDIT_ARCH_X86_64):
    """Run a seccomp classic BPF program on struct seccomp_data (Linux
    net/core/filter.c semantics, the instructions seccomp accepts)."""
    a6 = list(args) + [0] * (6 - len(args))
    data = struct.pack("<iIQ6Q", nr, arch, 0x401000, *[v & (2**64 - 1) for v in a6])
    A = X = 0
    mem = [0] * 16
    pc = 0
    for _ in range(100000):
        code, jt, jf, k = prog[pc]
        pc += 1
        cls = code & 0x07
        if cls == 0x00:  # LD
            mode = code & 0xE0
            A = struct.unpack_from("<I", data, k)[0] if mode == 0x20 else \
                mem[k] if mode == 0x60 else k if mode == 0x00 else len(data)
        elif cls == 0x01:  # LDX
            mode = code & 0xE0
            X = mem[k] if mode == 0x60 else k if mode == 0x00 else len(data)
        elif cls == 0x02:  # ST
            mem[k] = A
        elif cls == 0x03:  # STX
            mem[k] = X
        elif cls == 0x04:  # ALU
            op, src = code & 0xF0, (X if code & 0x08 else k)
            A = {0x00: lambda: A + src, 0x10: lambda: A - src, 0x20: lambda: A * src,
                 0x30: lambda: A // src, 0x40: lambda: A | src, 0x50: lambda: A & src,
                 0x60: lambda: A << src, 0x70: lambda: A >> src, 0x80: lambda: -A,
                 0x90: lambda: A % src, 0xA0: lambda: A ^ src}[op]() & 0xFFFFFFFF
        elif cls == 0x05:  # JMP
            op, src = code & 0xF0, (X if code & 0x08 else k)
            if op == 0x00:
                pc += k
                continue
            cond = {0x10: A == src, 0x20: A > src, 0x30: A >= src, 0x40: bool(A & src)}[op]
            pc += jt if cond else jf
        elif cls == 0x06:  # RET
            return A if code & 0x18 == 0x10 else k
        elif cls == 0x07:  # MISC: TAX / TXA
            if code & 0xF8 == 0x00:
                X = A
            else:
                A = X
    raise AssertionError("the filter did not return")


def verdict(prog, name, *args, arch=AUDIT_ARCH_X86_64):
    ret = run_filter(prog, NR[name], args, arch)
    action = ret & RET_ACTION
    return (action, ret & 0xFFFF) if action == ERRNO else (action, None)


def sanitizer_build(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def seccomp_fields(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            st = dict(ln.split(":\t", 1) for ln in f.read().splitlines() if ":\t" in ln)
        out[int(tid)] = (st["Name"].strip(), st["Seccomp"].strip(), st["Seccomp_filters"].strip())
    return out


@pytest.mark.skipif(platform.machine() != "x86_64", reason="system call numbers of x86_64")
def test_every_thread_runs_under_one_filter_that_refuses_what_skiffd_never_does(topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        fields = seccomp_fields(d.proc.pid)
        assert any(name.startswith("skiffd-q") for name, _, _ in fields.values()), fields
        for tid, (name, mode, n) in fields.items():
            assert (mode, n) == ("2", "1"), f"thread {name} ({tid}): Seccomp {mode}, filters {n}"
        st = d.ctl_json("status")
        assert st["seccomp"] == "enforce", st
        assert "seccomp    enforce" in d.ctl("status").stdout
        # one filter, the same on every thread (TSYNC)
        progs = {tid: read_filter(tid) for tid in fields}
        prog = progs[d.proc.pid]
        assert all(p == prog for p in progs.values()), "threads run different filters"
        san = sanitizer_build(d.binary)
        kill = (KILL_PROCESS, None)

        # never made by skiffd: the process is killed
        for call, args in (("mount", ()), ("umount2", ()), ("init_module", ()),
                           ("finit_module", ()), ("kexec_load", ()), ("setuid", (0,)),
                           ("unshare", (0,)), ("setns", (3, 0)), ("fork", ()), ("vfork", ()),
                           ("execveat", ()), ("process_vm_writev", ()), ("chmod", ()),
                           ("connect", (3, 0, 16))):
            assert verdict(prog, call, *args) == kill, call
        # bpf(): the maps yes, loading programs or making maps no (EPERM)
        assert verdict(prog, "bpf", BPF_MAP_UPDATE_ELEM) == (ALLOW, None)
        assert verdict(prog, "bpf", BPF_MAP_LOOKUP_ELEM) == (ALLOW, None)
        assert verdict(prog, "bpf", BPF_PROG_LOAD) == (ERRNO, EPERM)
        assert verdict(prog, "bpf", BPF_MAP_CREATE) == (ERRNO, EPERM)
        assert verdict(prog, "bpf", 1000) == kill
        # a 32-bit entry into the kernel (int 0x80) is killed whatever it asks
        assert verdict(prog, "read", arch=AUDIT_ARCH_I386) == kill
        # what serving needs
        for call, args in (("poll", ()), ("sendto", (3,)), ("recvfrom", (3,)),
                           ("epoll_wait", ()), ("accept4", ()), ("memfd_create", ()),
                           ("openat2", ()), ("mmap", (0, 4096, PROT_READ | PROT_WRITE)),
                           ("socket", (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)),
                           ("socket", (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)),
                           ("clone", (CLONE_THREAD_FLAGS,))):
            assert verdict(prog, call, *args) == (ALLOW, None), (call, args)
        assert verdict(prog, "clone3") == (ERRNO, ENOSYS)  # glibc falls back to clone
        if san:
            # the ASan build adds what LSan's exit check needs (a traced
            # clone, ptrace) and answers execve with EPERM (its symbolizer)
            assert verdict(prog, "execve") == (ERRNO, EPERM)
        else:
            assert verdict(prog, "execve") == kill
            assert verdict(prog, "ptrace", PTRACE_ATTACH, 1) == kill
            assert verdict(prog, "clone", SIGCHLD) == kill  # fork through clone
            assert verdict(prog, "mmap", 0, 4096, PROT_READ | PROT_EXEC) == kill
            assert verdict(prog, "mprotect", 0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) == kill
            for fam, typ in ((AF_PACKET, SOCK_RAW), (AF_INET, SOCK_RAW), (AF_INET, SOCK_STREAM),
                             (AF_INET, SOCK_DGRAM), (AF_INET6, SOCK_DGRAM), (AF_XDP, SOCK_RAW)):
                assert verdict(prog, "socket", fam, typ, 0) == kill, (fam, typ)
            assert verdict(prog, "ioctl", 3, 0x8914) == kill  # SIOCSIFFLAGS
            assert verdict(prog, "kill", 1, 9) == kill
            assert verdict(prog, "open") == kill  # glibc uses openat; ASan open

        # and under the filter skiffd serves, learns, answers and detaches
        payload = os.urandom(300)
        assert echoed(topo, payload)
        assert topo.peer_ip in d.neigh()
        assert d.alive()
    finally:
        rc = d.stop()
    assert rc == 0, d.output()
    assert topo.dut_xdp() is None, topo.dut_xdp()
    assert not d.pin_dir.exists()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="system call numbers of x86_64")
def test_seccomp_log_allows_and_off_installs_nothing(topo):
    d = sn.Skiffd(topo, [*standard_args(topo), "--seccomp", "log"]).start()
    try:
        assert {f[1:] for f in seccomp_fields(d.proc.pid).values()} == {("2", "1")}
        assert d.ctl_json("status")["seccomp"] == "log"
        assert "--seccomp=log" in d.output()
        prog = read_filter(d.proc.pid)
        assert verdict(prog, "mount") == (LOG, None)
        assert verdict(prog, "bpf", BPF_PROG_LOAD) == (LOG, None)
        assert verdict(prog, "bpf", BPF_MAP_UPDATE_ELEM) == (ALLOW, None)
    finally:
        assert d.stop() == 0, d.output()
    d = sn.Skiffd(topo, [*standard_args(topo), "--seccomp=off"]).start()
    try:
        assert {f[1:] for f in seccomp_fields(d.proc.pid).values()} == {("0", "0")}
        assert d.ctl_json("status")["seccomp"] == "off"
        payload = os.urandom(100)
        assert echoed(topo, payload)
    finally:
        assert d.stop() == 0, d.output()


def test_seccomp_dump_prints_the_filter_and_bad_modes_are_refused():
    out = sn.run([sn.SKIFFD, "--seccomp-dump"]).stdout
    assert "filter for arch x86_64" in out or "filter for arch" in out, out[:500]
    names = {ln.split('"')[1] for ln in out.splitlines() if "filter for syscall" in ln}
    assert {"bpf", "sendto", "poll", "accept4", "openat2"} <= names, sorted(names)
    for never in ("execve", "ptrace", "mount", "init_module", "finit_module", "kexec_load",
                  "setuid", "unshare"):
        if never in ("execve", "ptrace") and sanitizer_build(sn.SKIFFD):
            continue  # LSan's tracer; EPERM for the symbolizer (seccomp.h)
        assert never not in names, never
    assert "action KILL_PROCESS" in out
    log = sn.run([sn.SKIFFD, "--seccomp=log", "--seccomp-dump"]).stdout
    assert "# default action\n  action LOG;" in log, log[-400:]
    assert "# default action\n  action KILL_PROCESS;" in out, out[-400:]
    p = sn.run([sn.SKIFFD, "--iface", "lo", "--addr", "10.9.9.9/24", "--seccomp", "strict"],
               check=False)
    assert p.returncode == 2 and "expected enforce, log or off" in p.stderr, p.stderr


def test_workers_pinned_with_cpus_start_and_serve_under_the_filter(topo):
    """--cpus: glibc pins each worker with sched_setaffinity once the thread
    exists, i.e. under the filter (a kill here was seen on another
    engineer's run before the filter allowed it)."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    d = sn.Skiffd(topo, [*standard_args(topo), "--cpus", str(cpu)]).start()
    try:
        fields = seccomp_fields(d.proc.pid)
        assert {f[1:] for f in fields.values()} == {("2", "1")}, fields
        workers = [tid for tid, f in fields.items() if f[0].startswith("skiffd-q")]
        assert workers and all(os.sched_getaffinity(t) == {cpu} for t in workers)
        payload = os.urandom(200)
        assert echoed(topo, payload)
    finally:
        assert d.stop() == 0, d.output()
