# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helpers of the TCP integration tests (test_tcp*.py): the kernel as TCP
peer of skiffd.

need_tcp        fixture: skip, saying why, only while build/skiffd has no TCP
                (its --help does not mention --http, or --http fails with
                "Protocol not supported": no TCP in the stack yet)
http_dir        fixture: a directory of files for --http, with their SHA-256
http_daemon     body of a module's daemon fixture: standard skiffd + --http
frames_back     fixture: after each test skiffd is alive and its frames are back
frames_settled  poll until every queue's UMEM frames are back (free + fill
                == total), the accounting baseline after each test
upload/echo_roundtrip/curl_get   kernel-side traffic with SHA-256 checks
skiffd_client   run skiffd as a client (--fetch/--send) until it exits

Sizes: BIG (100 MiB) on the direct veth; IMPAIRED_SIZE (20 MiB, or
SKIFF_IMPAIRED_MIB) through the impaired relay, which the kernel itself
crosses at ~25 MB/s with 3% loss, 25% reordering and 10 ms delay: 100 MiB
there would add minutes per test.  scripts/test.sh sets SKIFF_IMPAIRED_MIB=5
for the AddressSanitizer pass (SAN=1): ~3,600 segments, ~100 of them lost,
still exercise every recovery path there, and the three 20 MiB transfers
took over 3 minutes of CI.
"""

import functools
import hashlib
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import skiffnet as sn
from conftest import standard_args

BIG = 100 << 20
IMPAIRED_SIZE = int(os.environ.get("SKIFF_IMPAIRED_MIB") or 20) << 20
HTTP_PORT = 80
# The impairment of issue 3.
FULL_IMPAIRMENT = dict(loss=3, reorder=25, dup=1, corrupt=1, delay=10, seed=1)


@functools.lru_cache(maxsize=None)
def skiffd_help():
    if not sn.SKIFFD.exists():
        return ""
    p = subprocess.run([str(sn.SKIFFD), "--help"], capture_output=True, text=True, timeout=10)
    return p.stdout + p.stderr


def _probe_tcp():
    """Start a skiffd with --http on a scratch topology: None if it serves,
    else why not.  Only "Protocol not supported" (no TCP registered in the
    stack yet) counts as missing TCP; any other failure is left to the tests."""
    t = sn.Topology()
    d = sn.Skiffd(t, ["--addr", f"{t.ded_ip}/{t.prefix}", "--http", f"{HTTP_PORT}:{sn.LOGDIR}"])
    try:
        d.start()
        d.stop()
    except sn.CmdError as e:
        if "Protocol not supported" in str(e):
            return "skiffd has no TCP protocol registered yet (--http: Protocol not supported)"
    finally:
        d.kill()
        t.close()
    return None


@functools.lru_cache(maxsize=None)
def tcp_missing_reason():
    if not sn.SKIFFD.exists():
        return f"{sn.SKIFFD} not built (run make)"
    if "--http" not in skiffd_help():
        return "skiffd has no TCP yet (skiffd --help does not mention --http)"
    return _probe_tcp()


@pytest.fixture(scope="session")
def need_tcp(need_skiff):
    reason = tcp_missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def frames_back(daemon):
    """After the test: skiffd still alive and its UMEM frames all back.
    (Depends on the module's daemon so it is torn down before it.)"""
    yield
    assert daemon.alive(), f"skiffd died ({daemon.proc.returncode}):\n{daemon.output()[-3000:]}"
    assert_frames_back(daemon, timeout=10)


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def pattern_sha(n):
    """SHA-256 of skiffd --send's n bytes: byte i = i mod 251."""
    block = bytes(range(251)) * 4177  # a multiple of the period, ~1 MiB
    h = hashlib.sha256()
    while n:
        b = block[:min(n, len(block))]
        h.update(b)
        n -= len(b)
    return h.hexdigest()


def make_file(path, size, chunk=1 << 20):
    """Random file of size bytes; returns its SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            b = os.urandom(min(chunk, left))
            f.write(b)
            h.update(b)
            left -= len(b)
    return h.hexdigest()


class HttpDir:
    """A document root: big.bin (100 MiB), mid.bin (IMPAIRED_SIZE), small.txt,
    index.html, sub/inner.txt; sha[name] is each file's SHA-256."""

    def __init__(self, big=BIG, mid=IMPAIRED_SIZE):
        self.path = Path(sn.LOGDIR) / f"www-{os.getpid()}-{id(self)}"
        (self.path / "sub").mkdir(parents=True)
        self.sha = {"big.bin": make_file(self.path / "big.bin", big),
                    "mid.bin": make_file(self.path / "mid.bin", mid)}
        for name, body in (("small.txt", b"hello from skiff\n" * 64),
                           ("index.html", b"<html><body>skiff</body></html>\n"),
                           ("sub/inner.txt", b"inner\n")):
            (self.path / name).write_bytes(body)
            self.sha[name] = sha256(body)
        self.size = {n: (self.path / n).stat().st_size for n in self.sha}

    def remove(self):
        import shutil
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture(scope="module")
def http_dir():
    d = HttpDir()
    yield d
    d.remove()


def http_daemon(topo, http_dir, *extra):
    """Body of a module's `daemon` fixture (`yield from`): skiffd with the
    standard set-up and --http over http_dir; exit status 0 on SIGTERM."""
    d = sn.Skiffd(topo, [*standard_args(topo), "--http", f"{HTTP_PORT}:{http_dir.path}", *extra])
    d.start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def frames_settled(sk, timeout=5.0):
    """Wait until every queue's frames are back in the pool (free + fill ==
    total); return (ok, per-queue detail)."""
    deadline = time.monotonic() + timeout
    while True:
        c = sk.counters()
        qs = sorted({k.split(".")[0] for k in c if re.match(r"u\d+\.frames_total$", k)})
        detail = {q: (c[f"{q}.frames_free"], c[f"{q}.frames_fill"], c[f"{q}.frames_tx"],
                      c[f"{q}.frames_total"]) for q in qs}
        ok = all(f + fl == t for f, fl, _, t in detail.values())
        if ok or time.monotonic() > deadline:
            return ok, {q: dict(zip(("free", "fill", "tx", "total"), v))
                        for q, v in detail.items()}
        time.sleep(0.1)


def assert_frames_back(sk, timeout=5.0):
    ok, detail = frames_settled(sk, timeout)
    assert ok, f"UMEM frames not back after the test: {detail}"


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def connect(topo, addr, port, timeout=10, ns=None):
    c = sn.ns_socket(ns or topo.peer_ns, family(addr), type=socket.SOCK_STREAM)
    c.settimeout(timeout)
    c.connect((addr, port))
    return c


def recv_all(sock, limit=None):
    h = hashlib.sha256()
    n = 0
    while True:
        d = sock.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
        if limit and n >= limit:
            break
    return n, h.hexdigest()


def read_to_eof(sock):
    """Every byte until the peer's FIN."""
    out = b""
    while True:
        b = sock.recv(1 << 16)
        if not b:
            return out
        out += b


def impaired_report(topo, sk, before):
    """The relay's counters and skiffd's counters that moved since before."""
    return f"impair: {topo.impair_stats()}\nskiff: {sn.nonzero(sn.delta(sk.counters(), before), 'u.')}"


def upload(topo, addr, port, size, timeout=60):
    """Send size random bytes and close the write side; wait for the
    server's FIN.  Returns (seconds, sha256 sent, bytes the server sent)."""
    c = connect(topo, addr, port, timeout=timeout)
    buf = os.urandom(1 << 20)
    h = hashlib.sha256()
    t0 = time.monotonic()
    try:
        left = size
        while left:
            b = buf[:min(left, len(buf))]
            c.sendall(b)
            h.update(b)
            left -= len(b)
        c.shutdown(socket.SHUT_WR)
        n, _ = recv_all(c)
    finally:
        c.close()
    return time.monotonic() - t0, h.hexdigest(), n


def echo_roundtrip(topo, addr, port, size, timeout=60):
    """Stream size random bytes to an echo service while reading the echo;
    half-close after the last byte.  Returns (seconds, sha sent, bytes back,
    sha back)."""
    c = connect(topo, addr, port, timeout=timeout)
    buf = os.urandom(1 << 20)
    sent = hashlib.sha256()
    res = {}

    def reader():
        try:
            res["n"], res["sha"] = recv_all(c)
        except OSError as e:
            res["err"] = e

    th = threading.Thread(target=reader, daemon=True)
    t0 = time.monotonic()
    th.start()
    try:
        left = size
        while left:
            b = buf[:min(left, len(buf))]
            c.sendall(b)
            sent.update(b)
            left -= len(b)
        c.shutdown(socket.SHUT_WR)
        th.join(timeout)
    finally:
        c.close()
    if "err" in res:
        raise res["err"]
    return time.monotonic() - t0, sent.hexdigest(), res.get("n"), res.get("sha")


def curl_get(topo, url, timeout=120, extra=()):
    """curl from the peer namespace, body piped into sha256sum.  Returns
    (http_code, size_download, seconds, sha256 of the body, curl stderr)."""
    script = ("set -o pipefail; curl -sS --max-time %d -o - -w '%%{stderr}%%{http_code} "
              "%%{size_download} %%{time_total}\\n' %s '%s' | sha256sum") % (
                  timeout, " ".join(extra), url)
    p = sn.ns_run(topo.peer_ns, ["bash", "-c", script], check=False, timeout=timeout + 10)
    m = re.search(r"(\d{3}) (\d+) ([\d.]+)\s*$", p.stderr)
    code, size, secs = (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else (0, 0, 0)
    return code, size, secs, p.stdout.split()[0] if p.stdout else "", p.stderr


FETCH_RE = re.compile(r"(?:fetch|send): (\d+) bytes in ([\d.]+) s, sha256 ([0-9a-f]{64})")


def skiffd_client(topo, args, timeout=120):
    """Run skiffd with a client flag (--fetch URL / --send HOST:PORT:BYTES)
    and --exit-after-client; return (status, output, (bytes, secs, sha) or None)."""
    rc, out = sn.skiffd_run_to_exit(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                                           *args, "--exit-after-client"], timeout=timeout)
    m = FETCH_RE.search(out)
    return rc, out, (int(m.group(1)), float(m.group(2)), m.group(3)) if m else None


class KernelSink(sn.KernelTcpServer):
    """A kernel TCP server in ns that reads everything of each connection and
    records (bytes, sha256) per connection; optionally sends `reply` first."""

    conn_timeout = 60

    def __init__(self, ns, addr, port, reply=b""):
        self.reply = reply
        self.results = []
        super().__init__(ns, addr, port)

    def serve(self, c):
        try:
            if self.reply:
                c.sendall(self.reply)
            self.results.append(recv_all(c))
        except OSError as e:
            self.results.append(("error", str(e)))


class KernelHttpServer:
    """`python3 -m http.server` in ns serving directory on addr:port."""

    def __init__(self, ns, addr, port, directory):
        self.proc = subprocess.Popen(
            sn.nsenter(ns, ["/usr/bin/python3", "-m", "http.server", str(port), "--bind", addr,
                            "--directory", str(directory)]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                s = sn.ns_socket(ns, family(addr), type=socket.SOCK_STREAM)
                s.settimeout(1)
                s.connect((addr, port))
                s.close()
                return
            except OSError:
                s.close()
                time.sleep(0.1)
        self.close()
        raise sn.CmdError("python3 -m http.server did not start")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
