# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Many concurrent TCP connections to an echo service, opened in bursts, as
a load tester would: a standalone epoll client, run in the peer namespace
(python3 connscale.py ...) by test_conn_scale.py and scripts/bench.sh.

  connscale.py --dst A.B.C.D --port P --conns N [--procs K] [--src A.B.C.D ...]
               [--burst B] [--gap-ms G] [--idle S] [--timeout S] [--ready-file F]

K processes (default: enough for RLIMIT_NOFILE, which an unprivileged
container may not raise) share the N connections and run at once.  Each
opens its share non-blocking, B at a time with G ms between bursts (several --src addresses share them round-robin, each bound with
port 0), wait until every connect() finished (or --timeout); stay idle S
seconds; send one byte on every established connection and wait for each
echo (or --timeout); close all.  Prints one JSON object: established,
connect errors (by errno name), echoed, echo errors, resets seen, the
seconds the connects took and the rate (totals over the processes; the
time is the slowest one's).  --ready-file F: each process writes F.K once
its connects are done, before the idle period (a bench samples memory
then).  The caller widens ip_local_port_range in the
namespace.
"""

import argparse
import errno
import json
import os
import resource
import select
import socket
import sys
import time


def client(a, conns, src):
    """One process's share: returns its result dict."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ep = select.epoll(sizehint=conns)
    socks = {}          # fd -> socket
    pending = set()     # fds whose connect has not finished
    est = set()
    errs = {}
    resets = 0

    def err_name(e):
        return errno.errorcode.get(e, str(e))

    def reap_connects(timeout):
        nonlocal resets
        for fd, ev in ep.poll(timeout, maxevents=4096):
            if fd not in pending:
                continue
            pending.discard(fd)
            e = socks[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                errs[err_name(e)] = errs.get(err_name(e), 0) + 1
                resets += e == errno.ECONNRESET
                ep.unregister(fd)
            else:
                est.add(fd)
                ep.modify(fd, select.EPOLLIN)

    t0 = time.monotonic()
    i = 0
    while i < conns:
        for _ in range(min(a.burst, conns - i)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            if src:
                s.bind((src[i % len(src)], 0))
            rc = s.connect_ex((a.dst, a.port))
            i += 1
            if rc not in (0, errno.EINPROGRESS):
                errs[err_name(rc)] = errs.get(err_name(rc), 0) + 1
                s.close()
                continue
            socks[s.fileno()] = s
            pending.add(s.fileno())
            ep.register(s.fileno(), select.EPOLLOUT)
        reap_connects(0)
        end = time.monotonic() + a.gap_ms / 1000
        while time.monotonic() < end:
            reap_connects(max(0.0, end - time.monotonic()))
    deadline = time.monotonic() + a.timeout
    while pending and time.monotonic() < deadline:
        reap_connects(0.1)
    t_conn = time.monotonic() - t0
    timed_out = len(pending)
    if a.ready_file:
        with open(f"{a.ready_file}.{os.getpid()}", "w") as f:
            f.write(f"{len(est)}\n")

    # idle: nothing must arrive (an RST or FIN would show as readable)
    early = 0
    end = time.monotonic() + a.idle
    while time.monotonic() < end:
        for fd, ev in ep.poll(max(0.0, end - time.monotonic()), maxevents=4096):
            if fd in est:
                early += 1
                est.discard(fd)
                ep.unregister(fd)

    # one byte each, the echo must come back
    want = {}
    send_err = 0
    for fd in est:
        b = bytes([fd % 251])
        try:
            if socks[fd].send(b) == 1:
                want[fd] = b
                continue
        except OSError as e:
            resets += e.errno == errno.ECONNRESET
        send_err += 1
    echoed = 0
    echo_bad = 0
    deadline = time.monotonic() + a.timeout
    while want and time.monotonic() < deadline:
        for fd, ev in ep.poll(0.1, maxevents=4096):
            if fd not in want:
                continue
            try:
                got = socks[fd].recv(16)
            except OSError as e:
                resets += e.errno == errno.ECONNRESET
                got = b""
            if got == want[fd]:
                echoed += 1
            else:
                echo_bad += 1
            del want[fd]
            ep.unregister(fd)
    for s in socks.values():
        s.close()
    ep.close()
    return dict(conns=conns, established=len(est) + early, connect_errors=errs,
                connect_timeouts=timed_out, connect_s=t_conn, early_events=early,
                send_errors=send_err, echoed=echoed, echo_bad=echo_bad,
                echo_missing=len(want), resets=resets)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, required=True)
    ap.add_argument("--procs", type=int, default=0)
    ap.add_argument("--src", action="append", default=[])
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--gap-ms", type=float, default=20)
    ap.add_argument("--idle", type=float, default=2)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--ready-file")
    a = ap.parse_args()

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per = max(1, hard - 64)
    procs = a.procs or -(-a.conns // per)
    if -(-a.conns // procs) > per:
        sys.exit(f"connscale: {a.conns} connections in {procs} processes exceed "
                 f"RLIMIT_NOFILE {hard}; use more --procs")
    kids = []
    for k in range(procs):
        n = a.conns // procs + (k < a.conns % procs)
        src = a.src[k % len(a.src):] + a.src[:k % len(a.src)] if a.src else []
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            try:
                res = client(a, n, src)
            except BaseException as e:  # reported, never a hang
                res = dict(error=repr(e))
            os.write(wfd, json.dumps(res).encode())
            os._exit(0)
        os.close(wfd)
        kids.append((pid, rfd))
    tot = dict(conns=0, established=0, connect_errors={}, connect_timeouts=0, connect_s=0.0,
               early_events=0, send_errors=0, echoed=0, echo_bad=0, echo_missing=0,
               resets=0, errors=[])
    for pid, rfd in kids:
        with os.fdopen(rfd, "rb") as f:
            raw = f.read()
        os.waitpid(pid, 0)
        res = json.loads(raw) if raw else dict(error="no result")
        if "error" in res:
            tot["errors"].append(res["error"])
            continue
        for k, v in res.items():
            if k == "connect_errors":
                for e, c in v.items():
                    tot[k][e] = tot[k].get(e, 0) + c
            elif k == "connect_s":
                tot[k] = max(tot[k], v)
            else:
                tot[k] += v
    tot["procs"] = procs
    tot["rate"] = round(tot["established"] / tot["connect_s"]) if tot["connect_s"] else 0
    tot["connect_s"] = round(tot["connect_s"], 3)
    print(json.dumps(tot))
    return 1 if tot["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
