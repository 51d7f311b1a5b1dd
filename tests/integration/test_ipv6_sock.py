# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""UDP and TCP over IPv6 with the kernel as the peer, on a dedicated IPv6
address: the built-in echo answering datagrams of 1, 1452 and 8000 bytes
(fragmented both ways), TCP echo, curl -6 of 100 MiB checked by SHA-256,
one [::] listener serving IPv4 and IPv6 clients at once, skiffctl sockets
showing [a:b::c]:port, skiffd --fetch http://[X:Y::Z]:PORT/ against a
kernel HTTP server and skiffd --send [X:Y::Z]:PORT:BYTES to a kernel sink."""

import json
import socket
import subprocess
import threading
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT, standard_args
from tcpnet import need_tcp  # noqa: F401  (fixture)
from test_ipv6 import ping6, v6, v6net  # noqa: F401  (v6net: fixture)

pytestmark = pytest.mark.usefixtures("need_tcp", "v6net")

OURS = 5  # skiffd's dedicated IPv6 address: v6(topo, OURS)
PEER = 1  # the kernel peer's


@pytest.fixture(scope="module")
def http_dir():
    d = tn.HttpDir()
    yield d
    d.remove()


def test_fetch_over_ipv6_from_a_kernel_http_server(topo, http_dir):
    """skiffd --fetch http://[peer]:8080/mid.bin: the built-in client over
    IPv6 (a bracketed literal), the body checked by SHA-256.  (First: no
    other skiffd may run on the interface.)"""
    # the server's start-up probe connects from its own namespace: over lo
    topo.peer(["sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0"])
    srv = tn.KernelHttpServer(topo.peer_ns, v6(topo, PEER), 8080, http_dir.path)
    try:
        rc, out, res = tn.skiffd_client(
            topo, ["--addr", f"{v6(topo, 6)}/64", "--fetch",
                   f"http://[{v6(topo, PEER)}]:8080/mid.bin"])
    finally:
        srv.close()
    assert rc == 0 and res, out
    assert res[0] == http_dir.size["mid.bin"] and res[2] == http_dir.sha["mid.bin"], out


def test_send_over_ipv6_to_a_kernel_sink(topo):
    """skiffd --send [peer]:PORT:BYTES: the built-in sender over IPv6, what
    the kernel received checked against the pattern's SHA-256."""
    size = 4 << 20
    sink = tn.KernelSink(topo.peer_ns, v6(topo, PEER), 9000)
    try:
        rc, out, res = tn.skiffd_client(
            topo, ["--addr", f"{v6(topo, 6)}/64", "--send",
                   f"[{v6(topo, PEER)}]:9000:{size}"])
        assert rc == 0 and res, f"skiffd --send exited {rc}:\n{out[-3000:]}"
        for _ in range(50):
            if sink.results:
                break
            time.sleep(0.1)
        assert sink.results == [(size, tn.pattern_sha(size))], \
            f"kernel got {sink.results}, skiff says {res}"
    finally:
        sink.close()


def test_an_ipv6_only_skiffd_serves_ipv6_and_leaves_ipv4_to_the_kernel(topo, http_dir):
    """skiffd with no IPv4 address: ping -6 answered by XDP, curl -6 of
    mid.bin from the built-in HTTP server (SHA-256) and TCP echo over
    IPv6; every IPv4 frame passes to the kernel untouched (no ARP answered,
    nothing to the daemon), so the kernel's own IPv4 address on the
    interface keeps its pings and a kernel TCP server on the very port
    skiff's echo service has.  (Before the module's daemon: one skiffd on
    the interface.)"""
    ours = v6(topo, 7)
    ksrv = sn.TcpEchoServer(topo.dut_ns, topo.dut_ip, ECHO_PORT)
    d = sn.Skiffd(topo, ["--addr", f"{ours}/64", "--echo", str(ECHO_PORT),
                         "--http", f"{tn.HTTP_PORT}:{http_dir.path}"]).start()
    try:
        st = json.loads(d.ctl("status", "--json").stdout)
        assert st["addresses"] and all(":" in a["addr"] for a in st["addresses"]), st
        assert "addresses  " + ours in d.ctl("status").stdout
        before = d.counters()
        assert ping6(topo, ours) == 3
        code, size, _, sha, err = tn.curl_get(topo, f"http://[{ours}]:{tn.HTTP_PORT}/mid.bin",
                                              extra=("-6",))
        assert code == 200 and size == http_dir.size["mid.bin"], err
        assert sha == http_dir.sha["mid.bin"]
        _, sent, n, back = tn.echo_roundtrip(topo, ours, ECHO_PORT, 1 << 20)
        assert n == 1 << 20 and back == sent
        p = topo.peer(["ping", "-4", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "2",
                       topo.dut_ip], check=False)
        assert " 0% packet loss" in p.stdout, p.stdout
        c = tn.connect(topo, topo.dut_ip, ECHO_PORT, timeout=10)
        c.sendall(b"the kernel's")
        assert c.recv(100) == b"the kernel's"
        c.close()
        delta = sn.delta(d.counters(), before)
        assert delta["xdp.icmp6_echo_reply"] >= 3, sn.nonzero(delta)
        assert delta["xdp.pass_not_ours"] >= 3, sn.nonzero(delta)
        for k in ("xdp.arp_reply", "xdp.icmp_echo_reply", "u.arp_rx", "u.ip_rx"):
            assert delta[k] == 0, (k, sn.nonzero(delta))
        # skiff-run reads the IPv6-only status: a client to the peer's
        # prefix is skiff's (it leaves from ours)
        psrv = sn.TcpEchoServer(topo.peer_ns, v6(topo, PEER), 0)
        try:
            p = subprocess.run(sn.nsenter(topo.dut_ns, [
                str(sn.BUILD / "bin" / "skiff-run"), "--", "/usr/bin/python3", "-c",
                "import socket, sys; c = socket.create_connection((sys.argv[1], "
                "int(sys.argv[2]))); c.sendall(b'v6'); print(c.recv(2), c.getsockname()[0])",
                v6(topo, PEER), str(psrv.sock.getsockname()[1])]),
                capture_output=True, text=True, timeout=30)
        finally:
            psrv.close()
        assert p.returncode == 0 and p.stdout.split() == ["b'v6'", ours], p
        tn.assert_frames_back(d, timeout=10)
    finally:
        rc = d.stop(timeout=20)
        ksrv.close()
    assert rc == 0, d.output()


@pytest.fixture(scope="module")
def daemon(topo, v6net, http_dir):  # noqa: F811
    d = sn.Skiffd(topo, [*standard_args(topo), "--addr", f"{v6(topo, OURS)}/64",
                         "--http", f"{tn.HTTP_PORT}:{http_dir.path}"]).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


@pytest.fixture
def frames_back(daemon):
    yield
    assert daemon.alive(), daemon.output()[-3000:]
    tn.assert_frames_back(daemon, timeout=10)


def test_udp_echo_over_ipv6_of_1_1452_and_8000_bytes(topo, daemon, frames_back):
    before = daemon.counters()
    s = sn.ns_socket(topo.peer_ns, socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        for size in (1, 1452, 8000):
            data = bytes((i * 7 + size) & 0xff for i in range(size))
            for _ in range(3):  # the first may wait for neighbour discovery
                s.sendto(data, (v6(topo, OURS), ECHO_PORT))
                try:
                    got, frm = s.recvfrom(65535)
                    break
                except socket.timeout:
                    continue
            else:
                pytest.fail(f"no echo of {size} bytes")
            assert got == data and frm[0] == v6(topo, OURS), (size, frm)
    finally:
        s.close()
    d = sn.delta(daemon.counters(), before)
    # 8000 bytes over a 1500-byte link: reassembled, and the echo fragmented
    assert d["u.ip6_reasm_ok"] >= 1 and d["u.ip6_frag_created"] >= 6, sn.nonzero(d, "u.")


def test_tcp_echo_over_ipv6(topo, daemon, frames_back):
    size = 4 << 20
    s = tn.connect(topo, v6(topo, OURS), ECHO_PORT, timeout=30)
    data = bytes(range(256)) * (size // 256)
    res = {}

    def reader():
        res["n"], res["sha"] = tn.recv_all(s)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    th.join(60)
    s.close()
    assert res.get("n") == size and res.get("sha") == tn.sha256(data), res


def test_curl_6_downloads_100mib_with_matching_sha256(topo, daemon, http_dir, frames_back):
    before = daemon.counters()
    code, size, secs, sha, err = tn.curl_get(
        topo, f"http://[{v6(topo, OURS)}]:{tn.HTTP_PORT}/big.bin", extra=("-6", "-g"))
    d = sn.delta(daemon.counters(), before)
    assert code == 200 and size == tn.BIG, f"curl: {code} {size} {err}; {sn.nonzero(d, 'u.')}"
    assert sha == http_dir.sha["big.bin"], "body differs from the file"
    print(f"curl -6 100 MiB from skiff: {secs:.2f} s, {tn.BIG * 8 / secs / 1e9:.2f} Gbit/s")
    assert d["u.tcp_passive_opens"] >= 1 and d["u.ip6_rx"] > 1000, sn.nonzero(d, "u.")


def test_a_dual_stack_listener_serves_both_families(topo, daemon, http_dir, frames_back):
    """The HTTP server's one [::] listener: an IPv4 and an IPv6 client at
    once; skiffctl sockets shows the IPv6 one as [a:b::c]:port."""
    c4 = tn.connect(topo, topo.ded_ip, tn.HTTP_PORT)
    c6 = tn.connect(topo, v6(topo, OURS), tn.HTTP_PORT)
    try:
        socks = daemon.ctl_json("sockets")["sockets"]
        text = daemon.ctl("sockets").stdout
        for c in (c4, c6):
            c.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            body = tn.read_to_eof(c)
            assert body.startswith(b"HTTP/1.1 200 ") and body.endswith(b"hello from skiff\n")
    finally:
        c4.close()
        c6.close()
    peers = {s.get("peer_addr") for s in socks if s["proto"] == "tcp"}
    assert v6(topo, PEER) in peers and topo.peer_ip in peers, socks
    assert f"[{v6(topo, OURS)}]:{tn.HTTP_PORT}" in text, text
    listeners = [s for s in socks if s["proto"] == "tcp" and s.get("state") == "LISTEN"
                 and s["local_port"] == tn.HTTP_PORT]
    assert listeners and all(s["local_addr"] == "::" for s in listeners), listeners
