# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""IPv6 for applications (docs/apps.md, docs/skiff-run.md): libskiffapp's
AF_INET6 sockets (tests/apps/v6_check.c) and unmodified programs under
skiff-run, on skiffd's dedicated IPv6 address OURS with the kernel as the
peer.  Only skiff has OURS, so a server reached there is skiff's; a client
is skiff's when the peer sees its connection come from OURS.  Data is
checked by SHA-256.  After each test no application is attached and every
UMEM frame is back."""

import hashlib
import os
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
from test_ipv6 import link_local, v6, v6net  # noqa: F401  (v6net: fixture)
from test_skiff_run import (NGINX_CONF, PRELOAD, SKIFF_RUN, PeerSink, apps, detached,  # noqa: F401
                            file_sha, need, runs, start, udp_echo_each, wait_app)

pytestmark = pytest.mark.usefixtures("need_tcp", "v6net", "frames_back", "detached")

OURS = 5  # skiffd's dedicated IPv6 address: v6(topo, OURS)
PEER = 1  # the kernel peer's
PORT = 7600
SIZE = 8 << 20
PY = "/usr/bin/python3"


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, v6net):  # noqa: F811
    if not SKIFF_RUN.exists() or not PRELOAD.exists():
        pytest.skip(f"not built: {SKIFF_RUN} (run make)")
    # the peer's own servers probe themselves over lo
    topo.peer(["sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0"])
    d = sn.Skiffd(topo, [*standard_args(topo), "--addr", f"{v6(topo, OURS)}/64"]).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def peer_socket(topo, type, dual=True):
    s = sn.ns_socket(topo.peer_ns, socket.AF_INET6, type)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual else 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


class PeerEcho:
    """On the peer, on [::] (IPv4 and IPv6): a TCP echo server and a UDP
    echo server on the same port."""

    def __init__(self, topo):
        self.tcp = peer_socket(topo, socket.SOCK_STREAM)
        self.tcp.bind(("::", 0))
        self.tcp.listen(16)
        self.udp = peer_socket(topo, socket.SOCK_DGRAM)
        self.udp.bind(("::", self.tcp.getsockname()[1]))
        self.port = self.tcp.getsockname()[1]
        for s in (self.tcp, self.udp):
            s.settimeout(0.2)
        self.stopping = False
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._tcp_loop, self._udp_loop)]
        for t in self.threads:
            t.start()

    def _tcp_loop(self):
        while not self.stopping:
            try:
                c, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            c.settimeout(60)
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        with c:
            try:
                while b := c.recv(65536):
                    c.sendall(b)
            except OSError:
                pass

    def _udp_loop(self):
        while not self.stopping:
            try:
                d, a = self.udp.recvfrom(65536)
                self.udp.sendto(d, a)
            except (socket.timeout, OSError):
                continue

    def close(self):
        self.stopping = True
        for t in self.threads:
            t.join(2)
        for s in (self.tcp, self.udp):
            s.close()


@pytest.fixture
def peer(topo):
    p = PeerEcho(topo)
    yield p
    p.close()


def run_check(topo, argv, timeout=60):
    p = subprocess.Popen(sn.nsenter(topo.dut_ns, list(map(str, argv))), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"{argv[0]} hung after:\n{out.decode()}{err.decode()}")
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def mapped(ip4):
    return f"::ffff:{ip4}"


def wait_port6(topo, addr, port, proc, timeout=15):
    """Until a connection from the peer to [addr]:port succeeds (closed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.p.poll() is None, f"{proc.argv} exited {proc.p.returncode}: {proc.stderr()}"
        try:
            c = tn.connect(topo, addr, port, timeout=1)
            c.settimeout(60)
            return c
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on [{addr}]:{port} for {proc.argv}")


# ---- libskiffapp ----

def test_af_inet6_sockets_behave_as_linux_says(topo, sk, peer):
    """tests/apps/v6_check.c: errno values (EINVAL for a short sockaddr,
    EAFNOSUPPORT for another family, ENOPROTOOPT for IPV6_V6ONLY on
    AF_INET, EINVAL once connected), TCP echo over IPv6 with both names
    right, a dual-stack socket reaching IPv4 as ::ffff:a.b.c.d, V6ONLY
    refusing it, UDP sendto/recvfrom over IPv6 and to a mapped address."""
    rc, out, err = run_check(topo, [sn.BUILD / "tests" / "apps" / "v6_check", v6(topo, PEER),
                                    topo.peer_ip, peer.port, peer.port])
    assert rc == 0 and "all ok" in out, out + err
    assert f"local [{v6(topo, OURS)}]:" in out, out  # skiff's address: only skiff has it


class Sniff6:
    """IPv6 frames from src seen on the peer veth, kept in the socket's
    (large) buffer until frames() reads them: (next header, source port,
    hop limit, traffic class) each."""

    def __init__(self, topo, src):
        with sn.in_netns(topo.peer_ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE (root)
        self.sock.bind((topo.peer_if, 0))
        self.sock.setblocking(False)
        self.src = socket.inet_pton(socket.AF_INET6, src)

    def frames(self):
        seen = []
        while True:
            try:
                f = self.sock.recv(65536)
            except BlockingIOError:
                return seen
            if len(f) >= 58 and f[12:14] == b"\x86\xdd" and f[22:38] == self.src:
                tclass = (f[14] & 0xf) << 4 | f[15] >> 4
                seen.append((f[20], int.from_bytes(f[54:56], "big"), f[21], tclass))

    def close(self):
        self.sock.close()


def test_hop_limit_and_traffic_class_are_on_the_wire(topo, sk, peer):
    """v6_check hops: IPV6_UNICAST_HOPS / IPV6_TCLASS errors and defaults
    as Linux's; a UDP datagram sent with hop limit 7 and traffic class 0xb9
    and a TCP connection's every segment with 9 and 0x28 (its ECN bits
    TCP's), as the peer sees them."""
    sniff = Sniff6(topo, v6(topo, OURS))
    try:
        rc, out, err = run_check(topo, [sn.BUILD / "tests" / "apps" / "v6_check", "hops",
                                        v6(topo, PEER), peer.port, peer.port])
        time.sleep(0.3)
        seen = sniff.frames()
    finally:
        sniff.close()
    assert rc == 0 and "all ok" in out, out + err
    tport = int(out.split("tcp port ")[1].split()[0])
    udp = [s for s in seen if s[0] == socket.IPPROTO_UDP]
    tcp = [s for s in seen if s[0] == socket.IPPROTO_TCP and s[1] == tport]
    assert udp and all(s[2:] == (7, 0xb9) for s in udp), udp
    assert len(tcp) > 10, seen[:20]
    assert all(s[2] == 9 and s[3] & ~3 == 0x28 for s in tcp), [s for s in tcp if s[2] != 9][:5]


HOPS_SCRIPT = r"""
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 11)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, 0x48)
s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b"x" * 20000)
n = 0
while n < 20000:
    n += len(s.recv(65536))
print(s.getsockname()[0], s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS),
      s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS), s.getsockname()[1])
"""


def test_hop_limit_set_before_connect_goes_with_the_socket_to_skiff(topo, sk, runs, peer):
    """A program under skiff-run sets IPV6_UNICAST_HOPS and IPV6_TCLASS on
    its kernel socket, then connects to the peer: the socket becomes
    skiff's with both (getsockopt answers from skiff) and its segments carry
    them on the wire."""
    sniff = Sniff6(topo, v6(topo, OURS))
    try:
        rc, out, err = start(runs, topo, [PY, "-c", HOPS_SCRIPT, v6(topo, PEER),
                                          peer.port]).finish(timeout=30)
        time.sleep(0.3)
        seen = sniff.frames()
    finally:
        sniff.close()
    assert rc == 0, err
    addr, hops, tclass, port = out.decode().split()
    assert (addr, hops, tclass) == (v6(topo, OURS), "11", str(0x48)), out
    tcp = [s for s in seen if s[0] == socket.IPPROTO_TCP and s[1] == int(port)]
    assert tcp and all(s[2] == 11 and s[3] & ~3 == 0x48 for s in tcp), tcp[:5]


def test_a_dual_stack_listener_accepts_both_families(topo, sk):
    """v6_check serve: one AF_INET6 listener on [::] without V6ONLY; a peer
    client over IPv6 is named by its IPv6 address, one over IPv4 (to
    skiff's IPv4 address) as ::ffff:a.b.c.d, as Linux names them."""
    port = PORT + 1
    p = subprocess.Popen(sn.nsenter(topo.dut_ns, [str(sn.BUILD / "tests" / "apps" / "v6_check"),
                                                  "serve", str(port), "2"]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"listening\n", p.stderr.read()
        got = {}
        for fam, addr in (("v6", v6(topo, OURS)), ("v4", topo.ded_ip)):
            c = tn.connect(topo, addr, port, timeout=10)
            c.settimeout(10)
            got[fam] = b""
            while b := c.recv(200):
                got[fam] += b
            c.close()
        assert p.wait(20) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert got["v6"].startswith(f"[{v6(topo, PEER)}]:".encode()), got
    assert got["v4"].startswith(f"[{mapped(topo.peer_ip)}]:".encode()), got


# ---- skiff-run: nc, socat ----

def server_receives(runs, topo, tmp_path, argv, port):
    """argv under skiff-run, a server on [OURS]:port writing what it gets
    to stdout: the peer sends it SIZE bytes, checked by SHA-256."""
    data = os.urandom(SIZE)
    with open(tmp_path / "out", "wb") as out:
        p = start(runs, topo, argv, stdout=out)
        c = wait_port6(topo, v6(topo, OURS), port, p)
        c.sendall(data)
        c.close()
        rc, _, err = p.finish()
    assert rc == 0, err
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()


def test_nc6_server_receives_and_sends_8mib(topo, sk, runs, tmp_path):
    """nc -6 -l on OURS: 8 MiB from the peer, then 8 MiB to it."""
    need("nc")
    server_receives(runs, topo, tmp_path, ["nc", "-6", "-l", v6(topo, OURS), PORT + 2], PORT + 2)
    f = tmp_path / "data"
    sha = tn.make_file(f, SIZE)
    with open(f, "rb") as src:
        nc = start(runs, topo, ["nc", "-6", "-N", "-l", v6(topo, OURS), PORT + 3], stdin=src)
        c = wait_port6(topo, v6(topo, OURS), PORT + 3, nc)
        n, got = tn.recv_all(c)
        c.close()
    rc, _, err = nc.finish()
    assert rc == 0, err
    assert n == SIZE and got == sha


def test_nc6_client_uploads_and_downloads_8mib(topo, sk, runs, tmp_path):
    """nc -6 to the peer: the peer sees OURS as the source (skiff's), the
    bytes both ways whole."""
    need("nc")
    f = tmp_path / "data"
    sha = tn.make_file(f, SIZE)
    data = os.urandom(SIZE)
    srv = PeerSink(topo, data, addr=v6(topo, PEER))
    try:
        with open(f, "rb") as src, open(tmp_path / "out", "wb") as out:
            nc = start(runs, topo, ["nc", "-6", "-N", v6(topo, PEER), srv.port], stdin=src,
                       stdout=out)
            rc, _, err = nc.finish()
        res = srv.wait()
    finally:
        srv.close()
    assert rc == 0, err
    assert res == [(SIZE, sha)], res
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()
    assert srv.sources == [v6(topo, OURS)]


def peer_link_local(topo):
    """The peer kernel's link-local address on its veth (DAD done) and the
    veth's interface index there."""
    deadline = time.monotonic() + 10
    while True:
        out = topo.peer(["ip", "-6", "-o", "addr", "show", "dev", topo.peer_if,
                         "scope", "link"]).stdout
        if "inet6 fe80" in out and "tentative" not in out:
            break
        assert time.monotonic() < deadline, out
        time.sleep(0.1)
    addr = out.split("inet6 ")[1].split("/")[0]
    idx = int(topo.peer(["ip", "-o", "link", "show", "dev", topo.peer_if]).stdout.split(":")[0])
    return addr, idx


def test_nc6_over_link_local_addresses_both_directions(topo, sk, runs, tmp_path):
    """RFC 4007 11: nc -6 -l on skiffd's link-local address named with its
    interface (fe80::...%IF, the scope id skiff's interface) serves the
    peer; nc -6 to the peer's link-local address on skiff's link goes
    through skiff (skiff-run's default rules take link-local destinations
    whose scope is skiff's interface): the peer sees skiff's link-local
    address as the source, with its own interface as the scope."""
    need("nc")
    ours = link_local(topo.dut_mac)
    peer_ll, peer_idx = peer_link_local(topo)
    data = os.urandom(1 << 20)
    with open(tmp_path / "out", "wb") as out:
        nc = start(runs, topo, ["nc", "-6", "-l", f"{ours}%{topo.dut_if}", PORT + 9], stdout=out)
        deadline = time.monotonic() + 15
        while True:
            assert nc.p.poll() is None, nc.stderr()
            c = sn.ns_socket(topo.peer_ns, socket.AF_INET6, socket.SOCK_STREAM)
            c.settimeout(1)
            try:
                c.connect((ours, PORT + 9, 0, peer_idx))
                break
            except OSError:
                c.close()
                assert time.monotonic() < deadline, "nothing listens on skiff's link-local"
                time.sleep(0.1)
        c.settimeout(60)
        c.sendall(data)
        c.close()
        rc, _, err = nc.finish()
    assert rc == 0, err
    assert file_sha(tmp_path / "out") == hashlib.sha256(data).hexdigest()

    srv = PeerSink(topo, data, addr="::")
    try:
        with open(tmp_path / "out2", "wb") as out:
            nc = start(runs, topo, ["nc", "-6", "-N", f"{peer_ll}%{topo.dut_if}", srv.port],
                       stdin=subprocess.DEVNULL, stdout=out)
            rc, _, err = nc.finish()
        res = srv.wait()
    finally:
        srv.close()
    assert rc == 0, err
    assert file_sha(tmp_path / "out2") == hashlib.sha256(data).hexdigest()
    assert res and res[0][0] == 0, res
    assert [s.split("%")[0] for s in srv.sources] == [ours], srv.sources  # skiff's, not the kernel's


def test_link_local_names_carry_the_scope_id_as_linux(topo, sk, peer):
    """v6_check scope: a link-local name without a scope id is EINVAL to
    bind and connect, another interface's ENODEV / EADDRNOTAVAIL /
    ENETUNREACH, as Linux; with skiff's interface it is served, and
    getsockname, getpeername and recvfrom give the scope back."""
    peer_ll, _ = peer_link_local(topo)
    rc, out, err = run_check(topo, [sn.BUILD / "tests" / "apps" / "v6_check", "scope",
                                    link_local(topo.dut_mac), topo.dut_if, peer_ll, peer.port])
    assert rc == 0 and "all ok" in out, out + err
    assert f"local {link_local(topo.dut_mac)}" in out, out


def test_socat_tcp6_server_and_client(topo, sk, runs, tmp_path):
    """socat TCP6-LISTEN bound to OURS receives 8 MiB; socat TCP6 to the
    peer uploads 8 MiB from OURS."""
    need("socat")
    server_receives(runs, topo, tmp_path, ["socat", "-u", f"TCP6-LISTEN:{PORT + 4},bind="
                                           f"[{v6(topo, OURS)}],reuseaddr", "STDOUT"], PORT + 4)
    data = os.urandom(SIZE)
    srv = PeerSink(topo, addr=v6(topo, PEER))
    try:
        so = start(runs, topo, ["socat", "-u", "STDIN", f"TCP6:[{v6(topo, PEER)}]:{srv.port}"],
                   stdin=subprocess.PIPE)
        rc, _, err = so.finish(input=data, timeout=60)
        res = srv.wait()
    finally:
        srv.close()
    assert rc == 0, err
    assert res == [(SIZE, hashlib.sha256(data).hexdigest())], res
    assert srv.sources == [v6(topo, OURS)]


def test_socat_udp6_both_directions(topo, sk, runs):
    """socat UDP6-LISTEN on [::] with -p echoes 100 datagrams from the peer
    over IPv6; socat UDP6-SENDTO reaches the peer from OURS."""
    need("socat")
    port = PORT + 5
    so = start(runs, topo, ["socat", "-T", "10", f"UDP6-LISTEN:{port},reuseaddr", "PIPE"],
               opts=["-p", port])
    wait_app(sk)
    s = sn.ns_socket(topo.peer_ns, socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((v6(topo, OURS), port))
    sent = [os.urandom(1 + (i * 97) % 1400) for i in range(100)]
    got = udp_echo_each(s, sent)
    s.close()
    so.kill()
    assert got == sent
    srv = sn.ns_socket(topo.peer_ns, socket.AF_INET6, socket.SOCK_DGRAM)
    srv.bind((v6(topo, PEER), 0))
    srv.settimeout(10)
    so = start(runs, topo, ["socat", "-u", "STDIN",
                            f"UDP6-SENDTO:[{v6(topo, PEER)}]:{srv.getsockname()[1]}"],
               stdin=subprocess.PIPE)
    rc, _, err = so.finish(input=b"hello over six\n", timeout=30)
    d, a = srv.recvfrom(65536)
    srv.close()
    assert rc == 0, err
    assert d == b"hello over six\n" and a[0] == v6(topo, OURS)


# ---- skiff-run: HTTP ----

@pytest.fixture(scope="module")
def www():
    d = tn.HttpDir(big=32 << 20, mid=1 << 20)
    yield d
    d.remove()


def test_curl6_downloads_32mib_from_the_peer(topo, sk, runs, www):
    """curl -6 from skiff to the peer's http.server on its IPv6 address."""
    need("curl")
    srv = tn.KernelHttpServer(topo.peer_ns, v6(topo, PEER), 8086, www.path)
    try:
        before = sk.counters().get("u.tcp_active_opens", 0)
        r = start(runs, topo, ["sh", "-c", f"curl -6 -sS --max-time 60 -o - "
                               f"'http://[{v6(topo, PEER)}]:8086/big.bin' | sha256sum"])
        rc, out, err = r.finish(timeout=90)
    finally:
        srv.close()
    assert rc == 0, err
    assert out.split()[0].decode() == www.sha["big.bin"], err
    assert sk.counters().get("u.tcp_active_opens", 0) == before + 1  # skiff's connect()


def test_python_http_server_on_any6_serves_curl6_and_curl4(topo, sk, runs, www):
    """python3 -m http.server --bind :: (it clears IPV6_V6ONLY) with -p:
    one skiff listener serves curl -6 to OURS and curl -4 to skiff's IPv4
    address."""
    port = PORT + 10
    srv = start(runs, topo, [PY, "-m", "http.server", port, "--bind", "::", "--directory",
                             www.path], opts=["-p", port], stdout=subprocess.DEVNULL)
    wait_port6(topo, v6(topo, OURS), port, srv).close()
    for url in (f"http://[{v6(topo, OURS)}]:{port}/big.bin",
                f"http://{topo.ded_ip}:{port}/big.bin"):
        code, size, _, sha, err = tn.curl_get(topo, url, timeout=90)
        assert code == 200 and size == www.size["big.bin"] and sha == www.sha["big.bin"], \
            (url, err)
    srv.p.send_signal(signal.SIGINT)
    rc, _, err = srv.finish(timeout=20)
    assert rc == 0, err


def test_nginx_listen_any6_one_worker_serves_curl6(topo, sk, runs, tmp_path, www):
    """nginx `listen [::]:PORT` (ipv6only=on, its default) next to
    `listen PORT`, as Debian's default site has them, with one worker:
    curl -6 from the peer gets 32 MiB by sendfile and three files on one
    keep-alive connection; curl -4 reaches the IPv4 listener beside it
    (a V6ONLY [::] and 0.0.0.0 on one port do not conflict)."""
    need("nginx")
    port = PORT + 20
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(master="off", workers=1, dir=tmp_path, addr="[::]",
                                      port=port, root=www.path)
                    .replace(f"listen [::]:{port};", f"listen [::]:{port};\n        listen {port};"))
    ng = start(runs, topo, ["nginx", "-c", conf, "-p", tmp_path], opts=["-p", port],
               stdout=subprocess.DEVNULL)
    wait_port6(topo, v6(topo, OURS), port, ng).close()
    base = f"http://[{v6(topo, OURS)}]:{port}"
    code, size, _, sha, err = tn.curl_get(topo, f"{base}/big.bin", timeout=90)
    assert code == 200 and size == www.size["big.bin"] and sha == www.sha["big.bin"], err
    p = subprocess.run(sn.nsenter(topo.peer_ns, [
        "curl", "-6", "-sS", "-v", "--max-time", "60",
        *[f"{base}/{n}" for n in ("small.txt", "mid.bin", "index.html")]]),
        capture_output=True, timeout=90)
    err = p.stderr.decode(errors="replace")
    body = b"".join((www.path / n).read_bytes() for n in ("small.txt", "mid.bin", "index.html"))
    assert p.returncode == 0, err
    assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(body).digest()
    assert "Re-using existing connection" in err, err
    code, size, _, sha, err = tn.curl_get(topo, f"http://{topo.ded_ip}:{port}/mid.bin")
    assert code == 200 and size == www.size["mid.bin"] and sha == www.sha["mid.bin"], err
    ng.p.send_signal(signal.SIGTERM)
    rc, _, err = ng.finish(timeout=20)
    assert rc == 0, err + (tmp_path / "error.log").read_text()
