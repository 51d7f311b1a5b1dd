# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""TCP between skiffd and the Linux kernel on the direct veth: skiff as
server (HTTP file server, echo, discard) with kernel clients (curl, ab,
python sockets, hping3).  Bulk transfers are 100 MiB and checked by SHA-256;
after every test the daemon's UMEM frames are all back (free + fill ==
total) and at the end skiffd exits 0 on SIGTERM."""

import http.client
import re
import shutil
import socket
import struct
import threading
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import DISCARD_PORT, ECHO_PORT, standard_args
from tcpnet import frames_back, http_dir, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, http_dir):
    # a SYN queue of 256 (the default scales with memory: thousands), so
    # that the spoofed flood below overflows it into SYN cookies
    d = sn.Skiffd(topo, [*standard_args(topo), "--http", f"{tn.HTTP_PORT}:{http_dir.path}",
                         "--syn-backlog", "256"])
    d.start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"




def url(topo, name, addr=None):
    return f"http://{addr or topo.ded_ip}:{tn.HTTP_PORT}/{name}"


def test_curl_downloads_100mib_file_with_matching_sha256(topo, sk, http_dir):
    before = sk.counters()
    code, size, secs, sha, err = tn.curl_get(topo, url(topo, "big.bin"))
    d = sn.delta(sk.counters(), before)
    assert code == 200 and size == tn.BIG, f"curl: {code} {size} {err}; {sn.nonzero(d, 'u.')}"
    assert sha == http_dir.sha["big.bin"], "body differs from the file"
    print(f"curl 100 MiB from skiff: {secs:.2f} s, {tn.BIG * 8 / secs / 1e9:.2f} Gbit/s")
    assert d["u.tcp_passive_opens"] >= 1, sn.nonzero(d, "u.")


def test_curl_from_shared_address_is_served_by_skiff(topo, sk, http_dir):
    before = sk.counters()
    code, size, _, sha, err = tn.curl_get(topo, url(topo, "mid.bin", topo.dut_ip))
    d = sn.delta(sk.counters(), before)
    assert code == 200 and sha == http_dir.sha["mid.bin"], f"{code} {size} {err}"
    assert d["u.tcp_passive_opens"] >= 1, sn.nonzero(d, "u.")


def http_conn(topo, addr=None):
    c = http.client.HTTPConnection(addr or topo.ded_ip, tn.HTTP_PORT, timeout=10)
    c.sock = tn.connect(topo, addr or topo.ded_ip, tn.HTTP_PORT)
    return c


def test_http_head_missing_method_and_escape(topo, sk, http_dir):
    c = http_conn(topo)
    try:
        c.request("HEAD", "/small.txt")
        r = c.getresponse()
        assert r.status == 200 and int(r.getheader("Content-Length")) == \
            http_dir.size["small.txt"] and r.read() == b""
        # keep-alive: the same connection serves the next requests
        c.request("GET", "/sub/inner.txt")
        r = c.getresponse()
        assert r.status == 200 and r.read() == b"inner\n"
        c.request("GET", "/nothing-here")
        r = c.getresponse()
        r.read()
        assert r.status == 404
        c.request("POST", "/small.txt", body=b"x")
        r = c.getresponse()
        r.read()
        assert r.status == 405
    finally:
        c.close()
    for path in ("/../../../../etc/passwd", "/sub/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"):
        c = http_conn(topo)
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            assert r.status in (400, 403, 404) and b"root:" not in body, (path, r.status)
        finally:
            c.close()


def test_http_pipelined_requests_are_answered_in_order(topo, sk, http_dir):
    s = tn.connect(topo, topo.ded_ip, tn.HTTP_PORT)
    try:
        req = b"".join(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % n.encode()
                       for n in ("index.html", "small.txt", "sub/inner.txt"))
        s.sendall(req + b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    finally:
        s.close()
    assert data.count(b"HTTP/1.1 200") == 4, data[:400]
    assert data.index(b"skiff</body>") < data.index(b"hello from skiff") < data.index(b"inner\n")


def test_upload_100mib_to_discard(topo, sk):
    before = sk.counters()
    secs, _, back = tn.upload(topo, topo.ded_ip, DISCARD_PORT, tn.BIG)
    d = sn.delta(sk.counters(), before)
    assert back == 0
    print(f"upload 100 MiB to skiff discard: {secs:.2f} s, {tn.BIG * 8 / secs / 1e9:.2f} Gbit/s")
    assert d["u.tcp_rx"] >= tn.BIG // 1460, sn.nonzero(d, "u.")


def test_upload_100mib_to_echo_comes_back_identical(topo, sk):
    secs, sent, n, back = tn.echo_roundtrip(topo, topo.ded_ip, ECHO_PORT, tn.BIG, timeout=120)
    assert n == tn.BIG and back == sent, f"echo returned {n} bytes"
    print(f"100 MiB through skiff echo: {secs:.2f} s")


def test_1000_concurrent_connections_all_succeed(topo, sk):
    before = sk.counters()
    p = topo.peer(["bash", "-c", "ulimit -n 8192; ab -q -n 3000 -c 1000 -s 30 "
                   f"{url(topo, 'small.txt')}"], check=False, timeout=120)
    d = sn.delta(sk.counters(), before)
    out = p.stdout + p.stderr
    m = re.search(r"Complete requests:\s+(\d+)", out)
    f = re.search(r"Failed requests:\s+(\d+)", out)
    nx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    assert p.returncode == 0 and m and int(m.group(1)) == 3000, f"{out[-1500:]}\n{sn.nonzero(d, 'u.')}"
    assert int(f.group(1)) == 0 and not nx, out[-1500:]
    assert d["u.tcp_passive_opens"] + d["u.tcp_syncookies_ok"] >= 3000, sn.nonzero(d, "u.")


def test_wrk_keepalive_load_gets_only_good_answers(topo, sk):
    """wrk (keep-alive, 200 connections, 3 s): every response is a 200 and no
    connection errors, reads, writes or timeouts are reported."""
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed (scripts/deps.sh installs it)")
    p = topo.peer(["bash", "-c", "ulimit -n 8192; wrk -t 1 -c 200 -d 3s --timeout 10s "
                   f"{url(topo, 'small.txt')}"], check=False, timeout=60)
    out = p.stdout + p.stderr
    m = re.search(r"(\d+) requests in", out)
    assert p.returncode == 0 and m and int(m.group(1)) > 0, out
    assert "Socket errors" not in out, out
    assert "Non-2xx" not in out, out


def test_closed_port_on_dedicated_address_is_refused_with_rst(topo, sk):
    before = sk.counters()
    c = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
    c.settimeout(5)
    with pytest.raises(ConnectionRefusedError):
        c.connect((topo.ded_ip, 4444))
    c.close()
    d = sk.wait_delta(before, lambda d: d["u.tcp_rst_noconn"] >= 1)
    assert d["u.tcp_rst_noconn"] >= 1, sn.nonzero(d, "u.")


def test_unowned_port_on_shared_address_reaches_kernel_listener(topo, sk):
    srv = sn.TcpEchoServer(topo.dut_ns, topo.dut_ip, 8080)
    before = sk.counters()
    try:
        secs, sent, n, back = tn.echo_roundtrip(topo, topo.dut_ip, 8080, 4 << 20)
        assert n == 4 << 20 and back == sent
    finally:
        srv.close()
    d = sn.delta(sk.counters(), before)
    # (u.tcp_rx may move: late segments of earlier tests' connections)
    assert d["u.drop.tcp_no_port"] == 0 and d["u.tcp_rst_noconn"] == 0, sn.nonzero(d)
    assert d["xdp.to_kernel"] >= (4 << 20) // 1460, sn.nonzero(d)


def test_closed_port_on_shared_address_is_refused_by_the_kernel(topo, sk):
    before = sk.counters()
    c = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
    c.settimeout(5)
    with pytest.raises(ConnectionRefusedError):
        c.connect((topo.dut_ip, 4445))
    c.close()
    d = sn.delta(sk.counters(), before)
    assert d["u.drop.tcp_no_port"] == 0 and d["u.tcp_rst_noconn"] == 0, sn.nonzero(d)
    assert d["xdp.to_kernel"] >= 1, sn.nonzero(d)


def abort(sock):
    """close with SO_LINGER 0: the kernel sends RST."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def still_serves(topo):
    _, sent, n, back = tn.echo_roundtrip(topo, topo.ded_ip, ECHO_PORT, 256 << 10)
    return n == 256 << 10 and back == sent


def test_kernel_peer_abort_mid_upload_is_survived(topo, sk):
    before = sk.counters()
    c = tn.connect(topo, topo.ded_ip, DISCARD_PORT)
    buf = b"\xab" * (1 << 20)
    for _ in range(10):
        c.sendall(buf)
    abort(c)
    d = sk.wait_delta(before, lambda d: d["u.tcp_estab_resets"] >= 1)
    assert d["u.tcp_estab_resets"] >= 1, sn.nonzero(d, "u.")
    assert still_serves(topo)


def test_kernel_peer_abort_mid_download_is_survived(topo, sk):
    before = sk.counters()
    c = tn.connect(topo, topo.ded_ip, tn.HTTP_PORT)
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    got = 0
    while got < (2 << 20):
        got += len(c.recv(1 << 20))
    abort(c)
    d = sk.wait_delta(before, lambda d: d["u.tcp_estab_resets"] >= 1)
    assert d["u.tcp_estab_resets"] >= 1, sn.nonzero(d, "u.")
    # the echo service and the HTTP server both still work
    assert still_serves(topo)
    code, _, _, _, err = tn.curl_get(topo, url(topo, "small.txt"))
    assert code == 200, err


def test_file_truncated_while_served_resets_only_that_download(topo, sk, http_dir):
    """A body is queued by reference to the mapped file: truncating the file
    under a download must cost that connection (RST, tcp_sendfile_lost),
    never the daemon (a read of a mapped page past the end is a SIGBUS)."""
    victim = http_dir.path / "shrinks.bin"
    shutil.copyfile(http_dir.path / "big.bin", victim)
    victim.chmod(0o644)
    try:
        before = sk.counters()
        c = tn.connect(topo, topo.ded_ip, tn.HTTP_PORT)
        c.sendall(b"GET /shrinks.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < (2 << 20):
            got += len(c.recv(1 << 16))
        with open(victim, "r+b") as f:
            f.truncate(64 << 10)
        c.settimeout(20)
        reset = False
        try:
            while True:
                b = c.recv(1 << 20)
                if not b:
                    break
                got += len(b)
        except ConnectionResetError:
            reset = True
        c.close()
        d = sk.wait_delta(before, lambda d: d["u.tcp_sendfile_lost"] >= 1)
        assert reset and got < tn.BIG, f"got {got} bytes, reset {reset}"
        assert d["u.tcp_sendfile_lost"] == 1, sn.nonzero(d, "u.")
        assert sk.alive(), f"skiffd died:\n{sk.output()}"
        assert still_serves(topo)
        code, _, _, _, err = tn.curl_get(topo, url(topo, "small.txt"))
        assert code == 200, err
    finally:
        victim.unlink()


def test_half_close_client_still_receives_the_echo(topo, sk):
    c = tn.connect(topo, topo.ded_ip, ECHO_PORT)
    payload = bytes(range(256)) * 4096  # 1 MiB: more than one window
    try:
        # write everything, close our side, and only then start reading
        sender_done = []

        def send():
            c.sendall(payload)
            c.shutdown(socket.SHUT_WR)
            sender_done.append(True)

        th = threading.Thread(target=send, daemon=True)
        th.start()
        got = bytearray()
        while chunk := c.recv(65536):
            got += chunk
        th.join(10)
    finally:
        c.close()
    assert sender_done and bytes(got) == payload, f"{len(got)} of {len(payload)} bytes back"


def test_small_half_close_after_write_gets_echo_then_fin(topo, sk):
    c = tn.connect(topo, topo.ded_ip, ECHO_PORT)
    try:
        c.sendall(b"ping over tcp\n")
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.2)
        data = b""
        while chunk := c.recv(100):
            data += chunk
    finally:
        c.close()
    assert data == b"ping over tcp\n"


def test_syn_flood_then_normal_connection_succeeds(topo, sk, http_dir):
    before = sk.counters()
    p = topo.peer(["hping3", "-q", "-S", "-p", tn.HTTP_PORT, "-c", "20000", "--faster",
                   topo.ded_ip], check=False, timeout=90)
    d = sn.delta(sk.counters(), before)
    assert sk.alive()
    print(f"hping3: {p.stderr.strip()[-200:]}; moved: {sn.nonzero(d, 'u.tcp')}")
    assert d["u.tcp_rx"] >= 1000, f"the flood did not reach skiff: {sn.nonzero(d)}\n{p.stderr}"
    t0 = time.monotonic()
    code, _, _, sha, err = tn.curl_get(topo, url(topo, "small.txt"), timeout=10)
    assert code == 200 and sha == http_dir.sha["small.txt"], \
        f"after the flood: {code} {err} in {time.monotonic() - t0:.1f}s"


def test_skiffctl_sockets_lists_tcp_listeners(topo, sk):
    out = sk.ctl("sockets").stdout
    assert re.search(r"LISTEN", out, re.I) and f":{tn.HTTP_PORT}" in out, out


def test_spoofed_syn_flood_falls_back_to_syn_cookies(topo, sk, http_dir):
    """SYNs from an address nobody answers for (no RST cleans the SYN queue):
    the bounded SYN queue fills, SYN cookies take over (RFC 4987), and a
    real client still connects."""
    before = sk.counters()
    topo.peer(["hping3", "-q", "-S", "-a", topo.other_ip, "-p", tn.HTTP_PORT, "-c", "20000",
               "--faster", topo.ded_ip], check=False, timeout=90)
    code, _, _, sha, err = tn.curl_get(topo, url(topo, "small.txt"), timeout=10)
    d = sn.delta(sk.counters(), before)
    assert sk.alive()
    assert code == 200 and sha == http_dir.sha["small.txt"], f"{code} {err}\n{sn.nonzero(d)}"
    assert d["u.tcp_syncookies_sent"] >= 1, sn.nonzero(d, "u.")
