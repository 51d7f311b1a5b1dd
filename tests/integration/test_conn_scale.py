# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Connection scale on the wire: 20,000 concurrent connections opened in
bursts from the kernel peer to skiffd's TCP echo service (connscale.py in
the peer namespace, ip_local_port_range widened there).  Every connection
is established, stays up through an idle period and echoes its byte; skiff
sends no RST while they live and aborts none as they close; after the
client closes them all skiffd's UMEM frames are back and no connection is
left.  No speed target: the rate is printed.
And --max-conns: at its limit the echo service holds new connections back
in the listen backlog (never accepted and closed) and serves them as
others close, counted in skiffctl stats."""

import json
import select
import socket
import time
from pathlib import Path

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT, standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")

CLIENT = Path(__file__).with_name("connscale.py")
CONNS = 20000


def run_client(topo, dst, conns, burst=2000, gap_ms=20, idle=2, timeout=25):
    p = topo.peer(["/usr/bin/python3", CLIENT, "--dst", dst, "--port", ECHO_PORT,
                   "--conns", conns, "--burst", burst, "--gap-ms", gap_ms,
                   "--idle", idle, "--timeout", timeout], check=False, timeout=3 * timeout + 30)
    assert p.returncode == 0, f"client failed: {p.stdout}\n{p.stderr}"
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", autouse=True)
def wide_port_range(topo):
    topo.peer(["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65000"])


def tcp_conns(sk):
    c = sk.counters()
    return c["u.tcp_passive_opens"] + c["u.tcp_syncookies_ok"]


RST_BASE = {}


def test_20000_connections_in_bursts_all_established_and_echo_after_idle(topo, sk):
    before = sk.counters()
    RST_BASE["rsts"] = before["u.tcp_out_rsts"]
    RST_BASE["noconn"] = before["u.tcp_rst_noconn"]
    r = run_client(topo, topo.dut_ip, CONNS)
    d = sn.delta(sk.counters(), before)
    print(f"{CONNS} connections: {r}")
    info = f"client {r}\nskiffd {sn.nonzero(d, 'u.')}"
    assert r["established"] == CONNS and not r["connect_errors"], info
    assert r["echoed"] == CONNS and r["early_events"] == 0, info
    # skiff aborted none of them: a RST may only answer a segment for a
    # connection that has already ended.  On a loaded machine an RTO fires
    # before the peer's ACK of our FIN is read (u.tcp_spurious_rtx), the
    # peer in TIME-WAIT acknowledges the duplicate FIN after LAST-ACK ended,
    # and that ACK gets a RST (RFC 9293 3.10.7.1), as Linux answers it: at
    # most one such RST per retransmission.
    assert r["resets"] == 0 and d["u.tcp_out_rsts"] == d["u.tcp_rst_noconn"], info
    assert d["u.tcp_out_rsts"] <= d["u.tcp_retrans_segs"], info
    assert d["u.svc_conn_limited"] == 0, info


def test_all_20000_close_cleanly_and_leave_nothing_behind(topo, sk):
    # the previous test's connections were closed by the client: skiffd's
    # ends go through LAST-ACK to CLOSED (the client holds TIME_WAIT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        p = sk_sockets(topo, sk)
        if p is not None and p <= 4:
            break
        time.sleep(0.5)
    assert p is not None and p <= 4, f"{p} TCP sockets left in skiffd"
    # skiff aborted no connection during the close: a RST may only answer a
    # segment for a connection that is already gone (RFC 9293 3.10.7.1: on a
    # slow or loaded machine, retransmitted FINs and ACKs arrive after LAST-ACK
    # ended; Linux answers them the same way)
    if "rsts" in RST_BASE:
        c = sk.counters()
        rsts = c["u.tcp_out_rsts"] - RST_BASE["rsts"]
        noconn = c["u.tcp_rst_noconn"] - RST_BASE["noconn"]
        assert rsts == noconn, f"{rsts - noconn} RSTs aborted live connections during the close"


def sk_sockets(topo, sk):
    p = sk.ctl("--json", "sockets", check=False)
    if p.returncode:
        return None
    socks = json.loads(p.stdout)
    if isinstance(socks, dict):
        socks = socks.get("sockets", [])
    return sum(1 for s in socks if s.get("proto") == "tcp")


def echo_of(c, timeout):
    """The byte echoed on c within timeout: b'' for EOF, None for nothing."""
    r, _, _ = select.select([c], [], [], timeout)
    if not r:
        return None
    try:
        return c.recv(16)
    except ConnectionResetError:
        return b"RST"


def test_max_conns_holds_new_connections_back_and_serves_them_as_others_close(need_tcp):
    t = sn.Topology()
    d = None
    socks = []
    try:
        d = sn.Skiffd(t, ["--addr", f"{t.ded_ip}/{t.prefix}", "--echo", ECHO_PORT,
                          "--max-conns", 20]).start()
        for i in range(30):
            c = tn.connect(t, t.ded_ip, ECHO_PORT, timeout=5)  # handshakes all complete
            c.sendall(bytes([i]))
            socks.append(c)
        got = [echo_of(c, 2 if i < 20 else 0.5) for i, c in enumerate(socks)]
        assert got[:20] == [bytes([i]) for i in range(20)], got
        # the other 10 wait in the listen backlog: neither answered nor closed
        assert got[20:] == [None] * 10, got
        c = d.counters()
        assert c["u.svc_conn_limited"] >= 1 and c["u.tcp_out_rsts"] == 0, sn.nonzero(c, "u.")
        assert "svc_conn_limited" in d.ctl("stats").stdout
        # five served ones leave: five waiting ones are taken in and answered
        for s_ in socks[:5]:
            s_.close()
        got = [echo_of(c, 5) for c in socks[20:25]]
        assert got == [bytes([i]) for i in range(20, 25)], got
        assert [echo_of(c, 0.3) for c in socks[25:]] == [None] * 5
        c = d.counters()
        assert c["u.tcp_out_rsts"] == 0, sn.nonzero(c, "u.")
    finally:
        for s_ in socks:
            s_.close()
        if d:
            rc = d.stop()
            assert rc == 0, d.output()
        t.close()
