# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiff-run (docs/skiff-run.md): unmodified Debian programs run in the DUT
namespace under skiff-run, their sockets on skiff through
libskiff-preload.so, driven from the kernel peer.  Data is checked by
SHA-256.  A server bound to skiff's dedicated address (ded_ip) can only be
reached through skiff (the kernel does not have that address); a client's
connection is skiff's when the peer sees it come from ded_ip, the source
address skiff gives its connections.  skiffd has a dedicated IPv6 address
too (OURS6), and the tests marked FAMILIES run over each family (wget,
redis, iperf3).  After each test no application is attached and every
UMEM frame is back.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)
from test_ipv6 import v6, v6net  # noqa: F401  (v6net: fixture)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back", "detached")

SKIFF_RUN = sn.BUILD / "bin" / "skiff-run"
PRELOAD = sn.BUILD / "lib" / "libskiff-preload.so"
PY = "/usr/bin/python3"
PORT = 7300
SIZE = 8 << 20
OURS6 = 5  # skiffd's dedicated IPv6 address: v6(topo, OURS6)
PEER6 = 1  # the kernel peer's
FAMILIES = pytest.mark.parametrize("fam", ["v4", "v6"])


def addrs(topo, fam):
    """(skiff's dedicated address, the peer's) of family fam."""
    if fam == "v4":
        return topo.ded_ip, topo.peer_ip
    return v6(topo, OURS6), v6(topo, PEER6)


def hostport(addr, port):
    """addr:port, an IPv6 address bracketed (as skiffctl and URLs write it)."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, v6net):  # noqa: F811
    if not SKIFF_RUN.exists() or not PRELOAD.exists():
        pytest.skip(f"not built: {SKIFF_RUN} (run make)")
    # the peer's own servers probe themselves over lo
    topo.peer(["sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0"])
    d = sn.Skiffd(topo, [*standard_args(topo), "--addr", f"{v6(topo, OURS6)}/64"]).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def need(*progs):
    for p in progs:
        if not shutil.which(p):
            pytest.skip(f"{p} is not installed (scripts/deps.sh)")


def ctl(d, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(d.ctl_socket)
    s.sendall(line.encode() + b"\n")
    out = b""
    while b := s.recv(65536):
        out += b
    s.close()
    return out.decode()


def apps(d):
    return json.loads(ctl(d, "apps json"))["apps"]


def wait_detached(d, timeout=10):
    deadline = time.monotonic() + timeout
    while apps(d) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not apps(d), f"an application is still attached: {apps(d)}"


@pytest.fixture
def detached(sk):
    """The baseline after each test: no application attached to skiffd."""
    yield
    if sk.alive():
        wait_detached(sk)


class Run:
    """PROGRAM under skiff-run (or launcher) in the DUT namespace; killed by PID at the end."""

    def __init__(self, topo, argv, opts=(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                 env=None, launcher=SKIFF_RUN):
        # launcher None: PROGRAM alone, on the kernel (a reference run)
        self.argv = [str(launcher), *opts, "--", *map(str, argv)] if launcher else [*map(str, argv)]
        self.p = subprocess.Popen(sn.nsenter(topo.dut_ns, ["env", *(env or []), *self.argv]),
                                  stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)

    def finish(self, timeout=60, input=None):
        try:
            out, err = self.p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
            raise AssertionError(f"{self.argv} hung; stderr: {err.decode(errors='replace')}")
        return self.p.returncode, out, err.decode(errors="replace")

    def stderr(self):
        return self.p.stderr.read().decode(errors="replace") if self.p.poll() is not None else ""

    def kill(self):
        """SIGKILL it and every process it forked (nginx's workers), by PID."""
        for pid in [*descendants(self.p.pid), self.p.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.wait(10)


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


@pytest.fixture
def runs():
    started = []
    yield started
    for r in started:
        r.kill()


def start(runs, topo, argv, **kw):
    r = Run(topo, argv, **kw)
    runs.append(r)
    return r


def wait_port(topo, addr, port, proc, timeout=15):
    """Until a connection from the peer to addr:port succeeds (then closed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.p.poll() is None, f"{proc.argv} exited {proc.p.returncode}: {proc.stderr()}"
        s = sn.ns_socket(topo.peer_ns, tn.family(addr), socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect((addr, port))
            return s
        except OSError:
            s.close()
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {addr}:{port} for {proc.argv}")


def wait_app(sk, timeout=10):
    """Until an application is attached (skiff-run's program): its record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = apps(sk)
        if a:
            return a[0]
        time.sleep(0.05)
    raise AssertionError("no application attached to skiffd")


class PeerSink(sn.KernelTcpServer):
    """A kernel server on the peer: records each connection's source
    address and (bytes, SHA-256) of what it received, after sending `data`."""

    conn_timeout = 60

    def __init__(self, topo, data=b"", addr=None):
        self.data = data
        self.results = []
        self.sources = []
        super().__init__(topo.peer_ns, addr or topo.peer_ip, 0)
        self.port = self.sock.getsockname()[1]

    def serve(self, c):
        self.sources.append(c.getpeername()[0])
        try:
            if self.data:
                c.sendall(self.data)
                c.shutdown(socket.SHUT_WR)
            self.results.append(tn.recv_all(c))
        except OSError as e:
            self.results.append(("error", str(e)))

    def wait(self, n=1, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.results) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.results


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()


def send_and_sha(c, data):
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    return tn.recv_all(c)


# ---- nc (netcat-openbsd) ----

def test_nc_server_receives_8mib_from_the_peer(topo, sk, runs, tmp_path):
    need("nc")
    data = os.urandom(SIZE)
    with open(tmp_path / "out", "wb") as out:
        nc = start(runs, topo, ["nc", "-l", topo.ded_ip, PORT], stdout=out)
        c = wait_port_app(topo, sk, nc, PORT)
        c.sendall(data)
        c.close()
        rc, _, err = nc.finish()
    assert rc == 0, err
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()


def wait_port_app(topo, sk, proc, port, addr=None):
    """Connect to a program listening under skiff-run: only skiff can answer
    on ded_ip, and the program is the application attached meanwhile."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not apps(sk):
        assert proc.p.poll() is None, f"{proc.argv} exited {proc.p.returncode}: {proc.stderr()}"
        time.sleep(0.05)
    c = wait_port(topo, addr or topo.ded_ip, port, proc)
    c.settimeout(60)
    return c


def test_nc_server_sends_8mib_to_the_peer(topo, sk, runs, tmp_path):
    need("nc")
    f = tmp_path / "data"
    sha = tn.make_file(f, SIZE)
    with open(f, "rb") as src:
        nc = start(runs, topo, ["nc", "-N", "-l", topo.ded_ip, PORT + 1], stdin=src)
        c = wait_port_app(topo, sk, nc, PORT + 1)
        n, got = tn.recv_all(c)
        c.close()
    rc, _, err = nc.finish()
    assert rc == 0, err
    assert n == SIZE and got == sha


def test_nc_client_uploads_8mib_to_the_peer(topo, sk, runs, tmp_path):
    need("nc")
    f = tmp_path / "data"
    sha = tn.make_file(f, SIZE)
    srv = PeerSink(topo)
    try:
        with open(f, "rb") as src:
            nc = start(runs, topo, ["nc", "-N", topo.peer_ip, srv.port], stdin=src)
            rc, _, err = nc.finish()
        res = srv.wait()
    finally:
        srv.close()
    assert rc == 0, err
    assert res == [(SIZE, sha)], res
    assert srv.sources == [topo.ded_ip]  # skiff's source address: only skiff has it


def test_nc_client_downloads_8mib_from_the_peer(topo, sk, runs, tmp_path):
    need("nc")
    data = os.urandom(SIZE)
    srv = PeerSink(topo, data)
    try:
        with open(tmp_path / "out", "wb") as out:
            nc = start(runs, topo, ["nc", "-d", topo.peer_ip, srv.port], stdout=out)
            rc, _, err = nc.finish()
    finally:
        srv.close()
    assert rc == 0, err
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()
    assert srv.sources == [topo.ded_ip]  # skiff's source address: only skiff has it


# ---- socat ----

def test_socat_server_receives_and_sends_8mib(topo, sk, runs, tmp_path):
    """socat TCP-LISTEN on ded_ip: one connection uploads to a file, the
    next downloads a file."""
    need("socat")
    data = os.urandom(SIZE)
    with open(tmp_path / "out", "wb") as out:
        so = start(runs, topo, ["socat", "-u", f"TCP4-LISTEN:{PORT + 2},bind={topo.ded_ip},"
                                "reuseaddr", "STDOUT"], stdout=out)
        c = wait_port_app(topo, sk, so, PORT + 2)
        c.sendall(data)
        c.close()
        rc, _, err = so.finish()
    assert rc == 0, err
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()
    f = tmp_path / "src"
    sha = tn.make_file(f, SIZE)
    so = start(runs, topo, ["socat", "-u", f"FILE:{f}",
                            f"TCP4-LISTEN:{PORT + 3},bind={topo.ded_ip},reuseaddr"])
    c = wait_port_app(topo, sk, so, PORT + 3)
    n, got = tn.recv_all(c)
    c.close()
    rc, _, err = so.finish()
    assert rc == 0, err
    assert (n, got) == (SIZE, sha)


def test_socat_client_uploads_and_downloads_8mib(topo, sk, runs, tmp_path):
    need("socat")
    f = tmp_path / "src"
    sha = tn.make_file(f, SIZE)
    srv = PeerSink(topo)
    try:
        rc, _, err = start(runs, topo, ["socat", "-u", f"FILE:{f}",
                                        f"TCP4:{topo.peer_ip}:{srv.port}"]).finish()
        res = srv.wait()
    finally:
        srv.close()
    assert rc == 0, err
    assert res == [(SIZE, sha)] and srv.sources == [topo.ded_ip]
    data = os.urandom(SIZE)
    srv = PeerSink(topo, data)
    try:
        with open(tmp_path / "out", "wb") as out:
            rc, _, err = start(runs, topo, ["socat", "-u", f"TCP4:{topo.peer_ip}:{srv.port}",
                                            "STDOUT"], stdout=out).finish()
    finally:
        srv.close()
    assert rc == 0, err
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()
    assert srv.sources == [topo.ded_ip]


def test_socat_relays_both_ways_at_once(topo, sk, runs):
    """socat between a skiff listener and a skiff connection to the peer's
    echo server: 4 MiB through both sockets at once (poll over two skiff
    sockets)."""
    need("socat")
    echo = sn.TcpEchoServer(topo.peer_ns, topo.peer_ip, 0)
    try:
        port = echo.sock.getsockname()[1]
        so = start(runs, topo, ["socat", f"TCP4-LISTEN:{PORT + 4},bind={topo.ded_ip},reuseaddr",
                                f"TCP4:{topo.peer_ip}:{port}"])
        wait_port_app(topo, sk, so, PORT + 4).close()  # the probe is relayed, then ends
        so.finish()
        so = start(runs, topo, ["socat", f"TCP4-LISTEN:{PORT + 4},bind={topo.ded_ip},reuseaddr",
                                f"TCP4:{topo.peer_ip}:{port}"])
        c = wait_port_app(topo, sk, so, PORT + 4)
        data = os.urandom(4 << 20)
        res = {}

        def reader():
            res["got"] = tn.recv_all(c)

        t = threading.Thread(target=reader)
        t.start()
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        t.join(60)
        c.close()
        rc, _, err = so.finish()
    finally:
        echo.close()
    assert res.get("got") == (len(data), hashlib.sha256(data).hexdigest()), err


# ---- HTTP clients and servers ----

@pytest.fixture(scope="module")
def www():
    d = tn.HttpDir(big=32 << 20, mid=1 << 20)
    yield d
    d.remove()


@pytest.fixture(scope="module")
def peer_http(topo, www):
    """python3 -m http.server on the peer (the kernel's)."""
    port = 8081
    s = tn.KernelHttpServer(topo.peer_ns, topo.peer_ip, port, www.path)
    yield f"http://{topo.peer_ip}:{port}"
    s.close()


@pytest.fixture(scope="module")
def peer_http6(topo, www):
    """The same over IPv6, on the peer's IPv6 address."""
    port = 8082
    s = tn.KernelHttpServer(topo.peer_ns, v6(topo, PEER6), port, www.path)
    yield f"http://{hostport(v6(topo, PEER6), port)}"
    s.close()


def active_opens(sk):
    return sk.counters().get("u.tcp_active_opens", 0)


def test_curl_downloads_32mib_from_the_peer(topo, sk, runs, www, peer_http):
    need("curl")
    before = active_opens(sk)
    r = start(runs, topo, ["sh", "-c", f"curl -sS --max-time 60 -o - {peer_http}/big.bin | "
                           "sha256sum"])
    rc, out, err = r.finish(timeout=90)
    assert rc == 0, err
    assert out.split()[0].decode() == www.sha["big.bin"], err
    assert active_opens(sk) == before + 1  # skiff's connect(), not the kernel's


@FAMILIES
def test_wget_downloads_32mib_from_the_peer(topo, sk, runs, www, fam, request, tmp_path):
    need("wget")
    url = request.getfixturevalue("peer_http" if fam == "v4" else "peer_http6")
    out = tmp_path / "big.bin"
    before = active_opens(sk)
    rc, _, err = start(runs, topo, ["wget", "-4" if fam == "v4" else "-6", "-q", "-O", out,
                                    "--tries=1", "--timeout=60", f"{url}/big.bin"]
                       ).finish(timeout=90)
    assert rc == 0, err
    assert file_sha(out) == www.sha["big.bin"]
    assert active_opens(sk) == before + 1


def test_a_control_socket_left_by_a_killed_skiffd_is_skipped(topo, sk, runs, www, peer_http):
    """A skiffd killed with SIGKILL leaves its socket file in /run/skiff:
    connect() to it is refused.  skiff-run (no -i) must still find the one
    live daemon of the namespace, not say there are two."""
    need("curl")
    ns = os.stat(f"/run/netns/{topo.dut_ns}").st_ino
    stale = f"/run/skiff/stale{os.getpid() % 10000}.{ns}.sock"
    with sn.in_netns(topo.dut_ns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(stale)
        s.close()  # the file stays, nobody listens
        r = start(runs, topo, ["sh", "-c", f"curl -sS --max-time 30 -o - {peer_http}/small.txt | "
                               "sha256sum"])
        rc, out, err = r.finish(timeout=60)
        assert rc == 0, err
        assert out.split()[0].decode() == www.sha["small.txt"], err
    finally:
        os.unlink(stale)


def test_curl_fetches_three_urls_in_one_run(topo, sk, runs, www, peer_http):
    """Three URLs on one command line: the peer's http.server speaks
    HTTP/1.0 and closes after each, so three skiff connections one after
    the other; the bodies checked together."""
    need("curl")
    urls = [f"{peer_http}/{n}" for n in ("small.txt", "mid.bin", "sub/inner.txt")]
    before = active_opens(sk)
    r = start(runs, topo, ["curl", "-sS", "-v", "--max-time", "60", *urls])
    rc, out, err = r.finish(timeout=90)
    assert rc == 0, err
    body = b"".join((www.path / n).read_bytes() for n in ("small.txt", "mid.bin", "sub/inner.txt"))
    assert hashlib.sha256(out).digest() == hashlib.sha256(body).digest()
    assert active_opens(sk) == before + 3


def test_python_http_server_serves_curl_on_the_peer(topo, sk, runs, www):
    """python3 -m http.server (ThreadingHTTPServer: a thread per request)
    bound to ded_ip under skiff-run; four curls at once from the peer."""
    port = PORT + 10
    srv = start(runs, topo, [PY, "-m", "http.server", port, "--bind", topo.ded_ip,
                             "--directory", www.path], stdout=subprocess.DEVNULL)
    wait_port_app(topo, sk, srv, port).close()
    res = [None] * 4

    def one(i):
        res[i] = tn.curl_get(topo, f"http://{topo.ded_ip}:{port}/big.bin", timeout=90)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    for code, size, _, sha, err in res:
        assert code == 200 and size == www.size["big.bin"] and sha == www.sha["big.bin"], err
    code, _, _, sha, err = tn.curl_get(topo, f"http://{topo.ded_ip}:{port}/sub/inner.txt")
    assert code == 200 and sha == www.sha["sub/inner.txt"], err
    srv.p.send_signal(signal.SIGINT)  # KeyboardInterrupt: the server closes and exits 0
    rc, _, err = srv.finish(timeout=20)
    assert rc == 0, err


INHERIT_SCRIPT = r"""
import socket, struct, sys
S, T = socket.SOL_SOCKET, socket.IPPROTO_TCP
l = socket.socket()
for level, name in ((S, socket.SO_REUSEADDR), (S, socket.SO_KEEPALIVE), (T, socket.TCP_NODELAY)):
    l.setsockopt(level, name, 1)
l.setsockopt(S, socket.SO_LINGER, struct.pack("ii", 1, 7))
l.setsockopt(T, socket.TCP_CONGESTION, b"reno")
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
print(c.getsockopt(S, socket.SO_REUSEADDR), c.getsockopt(S, socket.SO_KEEPALIVE),
      c.getsockopt(T, socket.TCP_NODELAY), struct.unpack("ii", c.getsockopt(S, socket.SO_LINGER, 8)),
      c.getsockopt(T, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode(), flush=True)
c.close()
"""


def test_an_accepted_socket_inherits_its_listeners_options(topo, sk, runs):
    """A Python server sets SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY,
    SO_LINGER and TCP_CONGESTION on its listener; getsockopt on the
    accepted socket answers as the kernel's does for the same script (Linux
    copies them to the child)."""
    outs = []
    for skiff, addr, port in ((False, topo.dut_ip, PORT + 11), (True, topo.ded_ip, PORT + 12)):
        argv = [PY, "-c", INHERIT_SCRIPT, addr, port]
        if skiff:
            srv = start(runs, topo, argv)
        else:  # the kernel's answer: the same script without skiff-run
            srv = start(runs, topo, argv, launcher=None)
        assert srv.p.stdout.readline() == b"listening\n", srv.stderr()
        c = sn.ns_socket(topo.peer_ns, socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect((addr, port))
        rc, out, err = srv.finish(timeout=20)
        c.close()
        assert rc == 0, err
        outs.append(out.decode().strip())
    assert outs[0] == "1 1 1 (1, 7) reno", outs
    assert outs[1] == outs[0], f"skiff: {outs[1]!r}, the kernel: {outs[0]!r}"


# ---- nginx ----

NGINX_CONF = """daemon off;
user root;
master_process {master};
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log off;
    sendfile on;
    keepalive_timeout 30;
    keepalive_requests 100000;
    types {{ application/octet-stream bin; text/plain txt; text/html html; }}
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen {addr}:{port};
        root {root};
    }}
}}
"""


def start_nginx(runs, topo, sk, tmp_path, www, port, workers=1):
    need("nginx")
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(master="on" if workers > 1 else "off", workers=workers,
                                      dir=tmp_path, addr=topo.ded_ip, port=port, root=www.path))
    ng = start(runs, topo, ["nginx", "-c", conf, "-p", tmp_path], stdout=subprocess.DEVNULL)
    wait_port_app(topo, sk, ng, port).close()
    return ng


def ab(topo, url, n, c, keepalive):
    """ApacheBench from the peer: (complete, failed, keep-alive requests)."""
    p = sn.ns_run(topo.peer_ns, ["ab", *(["-k"] if keepalive else []), "-n", str(n), "-c",
                                 str(c), "-s", "30", url], check=False, timeout=120)
    out = p.stdout

    def field(name):
        for line in out.splitlines():
            if line.startswith(name):
                return int(line.split(":")[1].split()[0])
        return None

    assert p.returncode == 0, p.stdout + p.stderr
    return field("Complete requests"), field("Failed requests"), field("Keep-Alive requests")


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime


def check_nginx_serves(topo, www, port):
    base = f"http://{topo.ded_ip}:{port}"
    # sendfile: the big file whole, twice at once
    res = [None] * 2

    def one(i):
        res[i] = tn.curl_get(topo, f"{base}/big.bin", timeout=90)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    for code, size, _, sha, err in res:
        assert code == 200 and size == www.size["big.bin"] and sha == www.sha["big.bin"], err
    # keep-alive: three files on one connection
    p = subprocess.run(sn.nsenter(topo.peer_ns, [
        "curl", "-sS", "-v", "--max-time", "60",
        *[f"{base}/{n}" for n in ("small.txt", "mid.bin", "index.html")]]),
        capture_output=True, timeout=90)
    err = p.stderr.decode(errors="replace")
    body = b"".join((www.path / n).read_bytes() for n in ("small.txt", "mid.bin", "index.html"))
    assert p.returncode == 0, err
    assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(body).digest()
    assert "Re-using existing connection" in err, err
    # many requests: keep-alive and one connection per request
    assert ab(topo, f"{base}/small.txt", 3000, 16, True) == (3000, 0, 3000)
    assert ab(topo, f"{base}/small.txt", 1000, 16, False)[:2] == (1000, 0)
    if shutil.which("wrk"):  # keep-alive, 64 connections for one second
        p = sn.ns_run(topo.peer_ns, ["wrk", "-t1", "-c64", "-d1s", f"{base}/small.txt"],
                      check=False, timeout=60)
        assert p.returncode == 0 and "requests in" in p.stdout, p.stdout + p.stderr
        assert "Socket errors" not in p.stdout and "Non-2xx" not in p.stdout, p.stdout


def test_nginx_one_worker_serves_static_files(topo, sk, runs, tmp_path, www):
    """nginx with one process (master_process off): sendfile of 32 MiB,
    keep-alive (curl re-uses the connection, ab -k) and Connection: close
    (ab); idle with a connection open it sleeps (under 5% of a CPU); then
    SIGTERM: epoll_wait returns EINTR and nginx exits 0."""
    port = PORT + 20
    ng = start_nginx(runs, topo, sk, tmp_path, www, port)
    check_nginx_serves(topo, www, port)
    # idle with a keep-alive connection open: it sleeps (no busy polling)
    c = tn.connect(topo, topo.ded_ip, port)
    c.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.recv(65536).startswith(b"HTTP/1.1 200")
    time.sleep(0.5)
    t0 = cpu_ticks(ng.p.pid)
    time.sleep(2)
    pct = (cpu_ticks(ng.p.pid) - t0) * 100 / os.sysconf("SC_CLK_TCK") / 2
    c.close()
    assert pct < 5, f"idle nginx used {pct:.1f}% of a CPU"
    ng.p.send_signal(signal.SIGTERM)
    rc, _, err = ng.finish(timeout=20)
    assert rc == 0, err + (tmp_path / "error.log").read_text()
    log = (tmp_path / "error.log").read_text()
    assert "[alert]" not in log and "[emerg]" not in log, log


def test_nginx_one_process_stops_on_sigterm_twenty_times(topo, sk, runs, tmp_path, www):
    """nginx with master_process off, started and stopped by SIGTERM 20
    times, the signal sent at once after the port answers and after a
    request: skiff-run's wrapper around nginx's handler makes the
    epoll_wait it is in (or about to sleep in) return EINTR, so no SIGTERM
    is lost (docs/apps.md, "Signals")."""
    port = PORT + 27
    for i in range(20):
        ng = start_nginx(runs, topo, sk, tmp_path, www, port)
        if i % 2:
            c = tn.connect(topo, topo.ded_ip, port)
            c.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
            c.close()
        ng.p.send_signal(signal.SIGTERM)
        rc, _, err = ng.finish(timeout=20)
        assert rc == 0, f"stop {i}: " + err + (tmp_path / "error.log").read_text()
    log = (tmp_path / "error.log").read_text()
    assert "[alert]" not in log and "[emerg]" not in log, log


def test_sigaction_round_trips_and_no_signal_is_lost_under_skiff_run(topo, sk, runs):
    """tests/apps/sig_check.c posix under skiff-run: sigaction() reads back
    the program's own handler, flags and mask (not the wrapper), SIG_IGN
    and SIG_DFL pass, an SA_SIGINFO handler gets its siginfo (sigqueue's
    value), SA_RESETHAND and sysv_signal() behave as libc's; then 3000
    SIGUSR1s at random moments to a thread in recv/epoll_wait with no
    timeout, each ending the wait with EINTR."""
    echo = sn.TcpEchoServer(topo.peer_ns, topo.peer_ip, 0)
    try:
        r = start(runs, topo, [sn.BUILD / "tests" / "apps" / "sig_check", "posix", topo.peer_ip,
                               echo.sock.getsockname()[1], 3000],
                  # a SAN=1 build of it: ASan comes after the preload library
                  env=[f"ASAN_OPTIONS={os.environ.get('ASAN_OPTIONS', '')}:verify_asan_link_order=0"])
        rc, out, err = r.finish(timeout=300)
    finally:
        echo.close()
    assert rc == 0 and b"all ok" in out, out.decode() + err


# ---- UDP ----

def udp_echo_each(s, sent):
    """Send each datagram of sent on connected socket s and read its echo,
    sending again up to twice on a timeout or an ICMP port unreachable
    (the first may arrive between the attach and the bind); the echoes."""
    got = []
    for d in sent:
        for _ in range(3):
            s.send(d)
            try:
                got.append(s.recv(65536))
                break
            except (socket.timeout, ConnectionRefusedError):
                time.sleep(0.1)
    return got


def test_socat_udp_server_on_a_port_given_with_p_echoes_datagrams(topo, sk, runs):
    """skiff-run -p PORT: socat's bind to 0.0.0.0:PORT goes to skiff (the
    peer reaches it on ded_ip, which only skiff has); 200 datagrams of 1 to
    1400 bytes come back whole and in order."""
    need("socat")
    port = PORT + 30
    so = start(runs, topo, ["socat", "-T", "10", f"UDP4-LISTEN:{port},reuseaddr", "PIPE"],
               opts=["-p", port])
    wait_app(sk)
    s = sn.ns_socket(topo.peer_ns)
    s.settimeout(2)
    s.connect((topo.ded_ip, port))
    sent = [os.urandom(1 + (i * 97) % 1400) for i in range(200)]
    got = udp_echo_each(s, sent)
    s.close()
    so.kill()
    assert got == sent


def test_nc_udp_client_exchanges_datagrams_with_the_peer(topo, sk, runs):
    """nc -u to the peer's UDP server: the peer sees skiff's address as
    the source and its answers reach nc's stdout."""
    need("nc")
    srv = sn.ns_socket(topo.peer_ns)
    srv.bind((topo.peer_ip, 0))
    srv.settimeout(10)
    port = srv.getsockname()[1]
    seen = []

    want = b"datagram 0\ndatagram 1\ndatagram 2\n"

    def serve():  # nc may join lines into one datagram when it lags
        try:
            while sum(len(d) for d, _ in seen) < len(want):
                d, a = srv.recvfrom(65536)
                seen.append((d, a[0]))
                srv.sendto(d.upper(), a)
        except OSError:
            pass

    t = threading.Thread(target=serve)
    t.start()
    nc = start(runs, topo, ["nc", "-u", "-w", "2", topo.peer_ip, port], stdin=subprocess.PIPE)
    for i in range(3):
        nc.p.stdin.write(f"datagram {i}\n".encode())
        nc.p.stdin.flush()
        time.sleep(0.3)
    nc.p.stdin.close()
    t.join(15)
    out = nc.p.stdout.read()
    nc.kill()
    srv.close()
    assert seen and all(a == topo.ded_ip for _, a in seen), seen
    assert b"".join(d for d, _ in seen) == want
    assert out == want.upper()


# ---- fd numbers, mixed waits, signals, refusals ----

FD_SCRIPT = r"""
import errno, fcntl, os, resource, select, signal, socket, stat, struct, sys, termios, time
peer, port, ded = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)
    print("ok", what, flush=True)

s = socket.create_connection((peer, port))
check(s.getsockname()[0] == ded, "skiff's address is the source")
fd = s.fileno()
check(fd < 1024 and stat.S_ISSOCK(os.fstat(fd).st_mode), "a real fd number, a socket to fstat")
d = os.dup(fd)
s2 = socket.socket(fileno=d)
s.close()
s2.sendall(b"ping")
check(s2.recv(4) == b"ping", "a dup works after the original is closed")
os.dup2(s2.fileno(), 100)
os.write(100, b"abc")
check(os.read(100, 3) == b"abc", "read/write on a number given by dup2")
os.close(100)
s2.sendall(b"zz")
check(s2.recv(2) == b"zz", "closing a dup leaves the socket open")
check(fcntl.fcntl(s2.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC, "close-on-exec as set")
os.set_inheritable(s2.fileno(), True)
check(not fcntl.fcntl(s2.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC, "close-on-exec cleared")
r, w = os.pipe()
os.write(w, b"x")
rl, _, _ = select.select([s2, r], [], [], 5)
check(rl == [r], "select: the pipe is ready, the quiet socket is not")
os.read(r, 1)
s2.sendall(b"q")
rl, _, _ = select.select([s2, r], [], [], 5)
check(rl == [s2], "select: the socket readable once the echo is back")
_, wl, _ = select.select([], [s2, w], [], 5)
check(wl == [s2, w], "select: the socket and the pipe writable")
p = select.poll()
p.register(s2, select.POLLIN)
p.register(r, select.POLLIN)
check(p.poll(5000) == [(s2.fileno(), select.POLLIN)], "poll: the socket, not the pipe")
buf = struct.pack("i", 0)
check(struct.unpack("i", fcntl.ioctl(s2.fileno(), termios.FIONREAD, buf))[0] == 1, "FIONREAD")
s2.recv(1)
ep = select.epoll()
ep.register(s2.fileno(), select.EPOLLIN)
ep.register(r, select.EPOLLIN)
check(ep.poll(0.2) == [], "epoll: nothing ready")
os.write(w, b"y")
check(ep.poll(5) == [(r, select.EPOLLIN)], "epoll: the pipe in a set with a skiff socket")
os.read(r, 1)
s2.sendall(b"e")
check(ep.poll(5) == [(s2.fileno(), select.EPOLLIN)], "epoll: the skiff socket")
s2.recv(1)
s2.setblocking(False)
try:
    s2.recv(1)
    check(False, "EAGAIN")
except BlockingIOError:
    check(True, "non-blocking recv: EAGAIN")
s2.setblocking(True)

class Alarm(Exception):
    pass

def on_alarm(sig, frame):
    raise Alarm()

signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    s2.recv(1)
    check(False, "EINTR")
except Alarm:
    check(True, "a signal interrupts a blocking recv (EINTR)")
try:
    s2.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    check(False, "IP_MULTICAST_TTL refused")
except OSError as e:
    check(e.errno == errno.ENOPROTOOPT, "an option skiff does not have: ENOPROTOOPT")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
fds = [int(f) for f in os.listdir("/proc/self/fd")]  # one is listdir's own, closed now
limit = max(fds) + 21
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
room = limit - (len(fds) - 1)
extra = []
try:
    while True:
        extra.append(socket.create_connection((peer, port)))
except OSError as e:
    check(e.errno == errno.EMFILE and len(extra) == room,
          f"RLIMIT_NOFILE: one fd per skiff socket ({len(extra)} of {room})")
for c in extra:
    c.close()
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
s2.sendall(b"end")
check(s2.recv(3) == b"end", "still served")
s2.close()
ep2 = select.epoll()
c = socket.socket()
c.setblocking(False)
ep2.register(c.fileno(), select.EPOLLOUT)  # before connect() makes it skiff's
check(c.connect_ex((peer, port)) == errno.EINPROGRESS, "non-blocking connect: EINPROGRESS")
check(ep2.poll(5) == [(c.fileno(), select.EPOLLOUT)], "epoll set before connect: EPOLLOUT")
check(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR 0")
check(c.getsockname()[0] == ded, "and it is skiff's")
c.close()
print("all ok", flush=True)
"""


def test_fd_numbers_mixed_waits_signals_and_refusals_behave(topo, sk, runs):
    """A Python script under skiff-run: fstat, dup, dup2 onto a chosen
    number, close of a dup, close-on-exec, select/poll/epoll mixing a pipe
    and a skiff socket, FIONREAD, EAGAIN, EINTR from a signal, RLIMIT_NOFILE,
    an unsupported option refused with a message naming the call, and a
    socket put in an epoll set before connect() made it skiff's."""
    echo = sn.TcpEchoServer(topo.peer_ns, topo.peer_ip, 0)
    try:
        r = start(runs, topo, [PY, "-c", FD_SCRIPT, topo.peer_ip, echo.sock.getsockname()[1],
                               topo.ded_ip])
        rc, out, err = r.finish(timeout=60)
    finally:
        echo.close()
    assert rc == 0 and b"all ok" in out, out.decode() + err
    assert "skiff-run: setsockopt(fd" in err and "is not supported on skiff (ENOPROTOOPT)" in err, err
    assert err.count("setsockopt(fd") == 1, err  # once


def test_a_killed_program_leaves_skiffd_healthy(topo, sk, runs):
    """socat (echoing) SIGKILLed while the peer sends 1 MiB: the peer's
    connection is reset, skiffd detaches the program, the port is closed
    (RST to a new SYN) and skiffd still serves."""
    need("socat")
    port = PORT + 40
    so = start(runs, topo, ["socat", f"TCP4-LISTEN:{port},bind={topo.ded_ip},reuseaddr", "PIPE"])
    c = wait_port_app(topo, sk, so, port)
    c.sendall(os.urandom(1 << 20))
    so.p.send_signal(signal.SIGKILL)
    so.p.wait(10)
    wait_detached(sk)
    with pytest.raises((ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        c.settimeout(10)
        for _ in range(64):
            c.sendall(b"x" * 65536)
            if not c.recv(1 << 20):
                raise ConnectionResetError("closed")
    c.close()
    with pytest.raises(ConnectionRefusedError):
        tn.connect(topo, topo.ded_ip, port, timeout=5)
    _, sent, _, got = tn.echo_roundtrip(topo, topo.ded_ip, 7, 256 << 10)  # built-in echo
    assert got == sent


# ---- fork ----

FORK_SCRIPT = r"""
import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
pid = os.fork()
if pid == 0:
    s.sendall(b"child;")
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("child status", os.waitstatus_to_exitcode(st), flush=True)
s.sendall(b"parent;")
s.shutdown(socket.SHUT_WR)
got = b""
while b := s.recv(100):
    got += b
print("echo", got.decode(), flush=True)
"""


def run_fork_script(topo, runs):
    echo = sn.TcpEchoServer(topo.peer_ns, topo.peer_ip, 0)
    try:
        r = start(runs, topo, [PY, "-c", FORK_SCRIPT, topo.peer_ip,
                               echo.sock.getsockname()[1]])
        return r.finish(timeout=60)
    finally:
        echo.close()


def test_a_child_of_fork_shares_its_parents_socket(topo, sk, runs):
    """The child writes on the connection its parent opened, then the
    parent: the peer echoes both, in order."""
    rc, out, err = run_fork_script(topo, runs)
    assert rc == 0 and b"child status 0" in out and b"echo child;parent;" in out, out + \
        err.encode()


def test_nginx_two_workers_serve_static_files(topo, sk, runs, tmp_path, www):
    """nginx with a master and two worker processes (fork: the master's
    listener is accepted on in both workers): the same checks as with one
    process, then SIGTERM stops the master and its workers cleanly."""
    port = PORT + 21
    ng = start_nginx(runs, topo, sk, tmp_path, www, port, workers=2)
    check_nginx_serves(topo, www, port)
    ng.p.send_signal(signal.SIGTERM)
    rc, _, err = ng.finish(timeout=20)
    log = (tmp_path / "error.log").read_text()
    assert rc == 0, err + log
    assert "[alert]" not in log and "[emerg]" not in log, log
    assert log.count("exited with code 0") == 2, log


def test_skiff_run_works_from_make_install(topo, sk, runs, tmp_path):
    """make install DESTDIR=... PREFIX=/usr puts skiff-run in usr/bin and the
    library in usr/lib; the installed launcher finds it and nc serves."""
    need("nc")
    dest = tmp_path / "root"
    sn.run(["make", "-s", "-C", str(sn.ROOT), f"BUILD={sn.BUILD}", "install",
            f"DESTDIR={dest}", "PREFIX=/usr"], timeout=300)
    exe = dest / "usr/bin/skiff-run"
    assert exe.exists() and (dest / "usr/lib/libskiff-preload.so").exists()
    r = start(runs, topo, ["nc", "-l", topo.ded_ip, PORT + 50], launcher=exe)
    c = wait_port_app(topo, sk, r, PORT + 50)
    c.sendall(b"installed\n")
    c.close()
    rc, out, err = r.finish()
    assert rc == 0 and out == b"installed\n", err


# ---- redis, iperf3 ----

@FAMILIES
def test_redis_server_serves_redis_benchmark_and_a_1mib_value(topo, sk, runs, tmp_path, fam):
    """redis-server under skiff-run on skiff's address of the family: a 2
    MiB value set and read back by redis-cli from the peer (SHA-256), then
    redis-benchmark GET/SET with 50 clients, plain and pipelined (-P 16),
    without an error."""
    need("redis-server", "redis-cli", "redis-benchmark")
    port = PORT + 60
    ours, _ = addrs(topo, fam)
    rs = start(runs, topo, ["redis-server", "--bind", ours, "--port", port, "--save", "",
                            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                            "--dir", tmp_path], stdout=subprocess.DEVNULL)
    wait_port_app(topo, sk, rs, port, ours).close()
    value = tmp_path / "value"
    value.write_bytes(os.urandom(1 << 20).hex().encode())  # 2 MiB of text
    cli = ["redis-cli", "-h", ours, "-p", str(port)]
    with open(value, "rb") as f:
        p = subprocess.run(sn.nsenter(topo.peer_ns, [*cli, "-x", "SET", "big"]), stdin=f,
                           capture_output=True, timeout=60)
    assert p.stdout.strip() == b"OK", p
    p = subprocess.run(sn.nsenter(topo.peer_ns, [*cli, "--raw", "GET", "big"]),
                       capture_output=True, timeout=60)
    assert hashlib.sha256(p.stdout.rstrip(b"\n")).hexdigest() == file_sha(value)
    for extra in ([], ["-P", "16"]):
        p = subprocess.run(sn.nsenter(topo.peer_ns, [
            "redis-benchmark", "-h", ours, "-p", str(port), "-c", "50", "-n", "20000",
            "-t", "get,set", "-q", *extra]), capture_output=True, text=True, timeout=120)
        out = p.stdout.replace("\r", "\n")
        assert p.returncode == 0 and "SET:" in out and "GET:" in out, p.stdout + p.stderr
        assert "error" not in (out + p.stderr).lower(), out + p.stderr
    rs.p.send_signal(signal.SIGTERM)
    rc, _, err = rs.finish(timeout=20)
    assert rc == 0, err


def wait_listening(cond, timeout=15):
    """Until cond() (a listener shows up); iperf3 -1 takes the first
    connection for its test, so no probe connection may be made."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "no listener came up"
        time.sleep(0.05)


def iperf3_json(p):
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return json.loads(p.stdout)


@FAMILIES
def test_iperf3_as_server_and_as_client_both_directions(topo, sk, runs, fam):
    """iperf3 -s under skiff-run with the peer's client sending and
    receiving (-R); iperf3 -c under skiff-run to the peer's server, both
    directions (over IPv6: iperf3 -6).  The bytes each side counts agree;
    the options skiff lacks (TCP_INFO, TCP_CONGESTION) are refused with a
    message, not faked."""
    need("iperf3")
    port = PORT + 70
    ours, peer = addrs(topo, fam)
    only = ["-4"] if fam == "v4" else ["-6"]
    for rev in ([], ["-R"]):
        srv = start(runs, topo, ["iperf3", "-s", *only, "-B", ours, "-p", port, "-1"],
                    stdout=subprocess.DEVNULL)
        wait_listening(lambda: any("LISTEN" in ln and f"{hostport(ours, port)} " in ln
                                   for ln in sk.ctl("sockets").stdout.splitlines()))
        p = subprocess.run(sn.nsenter(topo.peer_ns, [
            "iperf3", "-c", ours, *only, "-p", str(port), "-t", "2", "-J", *rev]),
            capture_output=True, text=True, timeout=60)
        j = iperf3_json(p)
        end = j["end"]
        assert end.get("sum_received", {}).get("bytes", 0) > 10 << 20, (j.get("error"), end)
        rc, _, err = srv.finish(timeout=20)
        assert rc == 0, err
        assert "getsockopt(fd" in err and "not supported on skiff" in err, err
        wait_detached(sk)
    for rev in ([], ["-R"]):
        ps = subprocess.Popen(sn.nsenter(topo.peer_ns, [
            "iperf3", "-s", *only, "-B", peer, "-p", str(port), "-1"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(lambda: f":{port} " in sn.ns_run(
                topo.peer_ns, ["ss", "-Hltn"]).stdout)
            cl = start(runs, topo, ["iperf3", "-c", peer, *only, "-p", port, "-t", "2", "-J",
                                    *rev])
            rc, out, err = cl.finish(timeout=60)
            assert rc == 0, out[-2000:] + err.encode()
            j = json.loads(out)
            end = j["end"]
            assert end.get("sum_received", {}).get("bytes", 0) > 10 << 20, (j.get("error"), err)
            assert end["sum_sent"]["bytes"] >= end["sum_received"]["bytes"], end
        finally:
            ps.wait(20)
        wait_detached(sk)


def test_a_program_not_allowed_to_attach_is_told_why(topo, sk, runs):
    """nc as uid nobody under skiff-run: its bind() to skiff's address
    fails with EACCES and a line naming the call and the reason; nothing
    falls back to the kernel silently."""
    need("nc", "setpriv")
    r = start(runs, topo, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "--inh-caps=-all", "nc", "-l", topo.ded_ip, PORT + 80])
    rc, _, err = r.finish(timeout=30)
    assert rc != 0, err
    assert "skiff-run: bind(fd" in err and "(EACCES)" in err and "group skiff" in err, err


EXEC_SCRIPT = r"""
import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
os.set_inheritable(s.fileno(), True)
os.execv(sys.executable, [sys.executable, "-c", '''
import errno, os, sys
try:
    os.read(int(sys.argv[1]), 1)
    print("read worked", flush=True)
except OSError as e:
    print("after exec:", errno.errorcode[e.errno], flush=True)
''', str(s.fileno())])
"""


def test_a_skiff_socket_does_not_survive_exec(topo, sk, runs):
    """docs/skiff-run.md, "exec": the number of an inheritable skiff socket
    is, in the new image, the placeholder (an unconnected kernel TCP
    socket): a read says ENOTCONN, never reads another socket's bytes."""
    echo = sn.TcpEchoServer(topo.peer_ns, topo.peer_ip, 0)
    try:
        r = start(runs, topo, [PY, "-c", EXEC_SCRIPT, topo.peer_ip, echo.sock.getsockname()[1]])
        rc, out, err = r.finish(timeout=30)
    finally:
        echo.close()
    assert rc == 0 and out == b"after exec: ENOTCONN\n", out + err.encode()


def test_nc_udp_server_and_socat_udp_client(topo, sk, runs, tmp_path):
    """nc -u -l on ded_ip prints the peer's datagrams; socat sends stdin as
    a datagram to the peer, which sees skiff's address as the source."""
    need("nc", "socat")
    port = PORT + 31
    with open(tmp_path / "out", "wb") as out:
        nc = start(runs, topo, ["nc", "-u", "-l", topo.ded_ip, port], stdout=out)
        wait_listening(lambda: any(f"{topo.ded_ip}:{port} " in ln
                                   for ln in sk.ctl("sockets").stdout.splitlines()))
        s = sn.ns_socket(topo.peer_ns)
        for i in range(3):
            s.sendto(b"dg%d\n" % i, (topo.ded_ip, port))
        s.close()
        deadline = time.monotonic() + 10
        while (tmp_path / "out").stat().st_size < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        nc.kill()
    assert (tmp_path / "out").read_bytes() == b"dg0\ndg1\ndg2\n"
    srv = sn.ns_socket(topo.peer_ns)
    srv.bind((topo.peer_ip, 0))
    srv.settimeout(10)
    so = start(runs, topo, ["socat", "-u", "STDIN", f"UDP4-SENDTO:{topo.peer_ip}:"
                            f"{srv.getsockname()[1]}"], stdin=subprocess.PIPE)
    rc, _, err = so.finish(input=b"hello from socat\n", timeout=30)
    d, a = srv.recvfrom(65536)
    srv.close()
    assert rc == 0, err
    assert d == b"hello from socat\n" and a[0] == topo.ded_ip
