# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Who closes first on an HTTP Connection: close: the server, with its FIN
on the last data segment (docs/apps.md, "Closing: the FIN rides on the
last data segment").

A server writes its response and closes; a kernel client on the peer reads
exactly the response's bytes and closes at once, as wrk does (it does not
wait for the EOF).  When the server's FIN rides on the last data segment,
the client's kernel has the FIN before the client can close: the client's
close is the passive one and the server keeps the TIME-WAIT.  When the FIN
comes a wake-up later, the client closes first and keeps the TIME-WAIT,
and a client making thousands of connections a second runs out of
ephemeral ports (issue 9's collapse of nginx under wrk -H "Connection:
close").  Each test makes 200 such connections and reads, from a packet
socket on the peer veth, the segments skiff sent, and from ss the peer's
TIME-WAIT sockets to the server.

The application's server and skiffd share one CPU here (taskset), as in
the bench's shared placement: its send() wakes skiffd's worker, which
yields so the application's close() is served in the same batch as the
bytes before it.  That depends on the scheduler giving the CPU back, which
a loaded machine can delay for a connection now and then: that test
allows 5% of the connections to miss (before the fix nearly every one
did).  The built-in HTTP server writes and closes in one handler: there
every connection must have it.
"""

import os
import socket
import struct
import subprocess
import textwrap
import time

import pytest

import skiffnet as sn
from conftest import standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")

SKIFF_RUN = sn.BUILD / "bin" / "skiff-run"
PRELOAD = sn.BUILD / "lib" / "libskiff-preload.so"
PY = "/usr/bin/python3"
N = 200
APP_PORT = 7350
HTTP_PORT = 8089
BODY = 1024
CPU = min(os.sched_getaffinity(0))


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    d = tmp_path_factory.mktemp("www")
    (d / "small.bin").write_bytes(os.urandom(BODY))
    os.chmod(d, 0o755)
    os.chmod(d / "small.bin", 0o644)
    return d


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, www):
    d = sn.Skiffd(topo, [*standard_args(topo), "--http", f"{HTTP_PORT}:{www}"]).start()
    # every thread of skiffd on the application's CPU (the shared placement)
    sn.run(["taskset", "-a", "-p", "-c", str(CPU), str(d.proc.pid)])
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


class Sniffer:
    """TCP segments the peer veth receives from addr:port (a packet socket
    in the peer namespace): per client port, [(seq, payload length, flags)]."""

    def __init__(self, topo, addr, port):
        with sn.in_netns(topo.peer_ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
            self.sock.bind((topo.peer_if, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.setblocking(False)
        self.src = socket.inet_aton(addr)
        self.port = port
        self.conns = {}

    def poll(self):
        while True:
            try:
                f = self.sock.recv(2048)
            except BlockingIOError:
                return
            ip = f[14:]
            if len(ip) < 20 or ip[9] != socket.IPPROTO_TCP or ip[12:16] != self.src:
                continue
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:tot]
            sport, dport, seq = struct.unpack("!HHI", tcp[:8])
            if sport != self.port:
                continue
            doff = (tcp[12] >> 4) * 4
            self.conns.setdefault(dport, []).append((seq, len(tcp) - doff, tcp[13]))

    def close(self):
        self.sock.close()


FIN, SYN = 0x01, 0x02


def fin_on_data(segs):
    """The connection's FIN came on a segment with payload, and no
    segment from the server followed it with bytes or a second FIN."""
    fins = [s for s in segs if s[2] & FIN]
    return len(fins) >= 1 and fins[0][1] > 0 and all(s[1] == 0 for s in segs[segs.index(fins[0]) + 1:])


def time_waits(topo, addr, port):
    out = sn.ns_run(topo.peer_ns, ["ss", "-Htan", "state", "time-wait", "dst",
                                   f"{addr}:{port}"]).stdout
    return len([line for line in out.splitlines() if line.strip()])


def wrk_like_clients(topo, addr, port, request, want):
    """N connections one after another: send the request, read exactly
    `want` bytes, close at once (the client does not wait for the EOF)."""
    for _ in range(N):
        c = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect((addr, port))
        c.sendall(request)
        got = b""
        while len(got) < want:
            b = c.recv(65536)
            assert b, f"EOF after {len(got)} of {want} bytes"
            got += b
        c.close()


def check(topo, sniff, addr, port, allowed_misses):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        sniff.poll()
        conns = [s for s in sniff.conns.values() if any(x[2] & FIN for x in s)]
        if len(conns) >= N:
            break
    assert len(conns) == N, f"{len(conns)} of {N} connections seen closing"
    misses = [s for s in conns if not fin_on_data(s)]
    tw = time_waits(topo, addr, port)
    print(f"{addr}:{port}: {len(misses)} of {N} FINs not on data, {tw} TIME-WAIT on the peer")
    assert len(misses) <= allowed_misses, \
        f"{len(misses)} of {N} FINs not on the last data segment, e.g. {misses[:2]}"
    assert tw <= allowed_misses, f"the peer keeps {tw} TIME-WAIT sockets of {N} connections"


APP_SERVER = textwrap.dedent("""
    import socket, sys
    addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resp = b"R" * int(sys.argv[4])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    print("ready", flush=True)
    for _ in range(n):
        c, _ = s.accept()
        req = b""
        while not req.endswith(b"\\r\\n\\r\\n"):
            b = c.recv(4096)
            if not b:
                break
            req += b
        c.sendall(resp)
        c.close()
    s.close()
""")


@pytest.mark.parametrize("placement", ["shared", "own"])
def test_app_under_skiff_run_closes_first_with_fin_on_its_last_data_segment(topo, sk, tmp_path,
                                                                             placement):
    """shared: the server on skiffd's CPU (its kick makes the worker yield
    until the close is posted); own: on another CPU, where the worker runs
    on while the server writes, and holds the small response until the
    close() behind it (docs/apps.md)."""
    if not SKIFF_RUN.exists() or not PRELOAD.exists():
        pytest.skip(f"not built: {SKIFF_RUN} (run make)")
    cpu = CPU
    if placement == "own":
        others = sorted(os.sched_getaffinity(0) - {CPU})
        if not others:
            pytest.skip("one CPU: no own-core placement")
        cpu = others[0]
    prog = tmp_path / "server.py"
    prog.write_text(APP_SERVER)
    argv = sn.nsenter(topo.dut_ns, ["taskset", "-c", str(cpu), str(SKIFF_RUN), "--", PY,
                                    str(prog), topo.ded_ip, str(APP_PORT), str(N), str(BODY)])
    srv = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sniff = None
    try:
        assert srv.stdout.readline().strip() == b"ready", srv.stderr.read().decode()
        sniff = Sniffer(topo, topo.ded_ip, APP_PORT)
        wrk_like_clients(topo, topo.ded_ip, APP_PORT, b"GET / HTTP/1.1\r\n\r\n", BODY)
        assert srv.wait(30) == 0, srv.stderr.read().decode()
        check(topo, sniff, topo.ded_ip, APP_PORT, N // 20)
    finally:
        if sniff:
            sniff.close()
        if srv.poll() is None:
            srv.kill()
            srv.wait(10)


def test_builtin_http_server_closes_first_with_fin_on_its_last_data_segment(topo, sk, www):
    request = (f"GET /small.bin HTTP/1.1\r\nHost: {topo.ded_ip}\r\n"
               "Connection: close\r\n\r\n").encode()
    # the response's length (headers + body): one connection read to EOF
    c = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect((topo.ded_ip, HTTP_PORT))
    c.sendall(request)
    whole = b""
    while b := c.recv(65536):
        whole += b
    c.close()
    assert whole.startswith(b"HTTP/1.1 200") and whole.endswith(
        (www / "small.bin").read_bytes()), whole[:200]
    time.sleep(0.2)
    sniff = Sniffer(topo, topo.ded_ip, HTTP_PORT)
    try:
        wrk_like_clients(topo, topo.ded_ip, HTTP_PORT, request, len(whole))
        check(topo, sniff, topo.ded_ip, HTTP_PORT, 0)
    finally:
        sniff.close()
