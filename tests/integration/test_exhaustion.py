# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Exhausting one of skiffd's bounded resources is counted and does not stop
it serving everyone else (issue 8, "Exhaustion").  Here: the IPv4
reassembly table, filled with fragments that never complete, from one
sender and from many; a peer that never reads a large response (zero
window for as long as it likes); a TCP echo client that sends without
reading until every buffer on the way is full; replies owed to on-link
senders nobody resolves; more control clients than skiffd serves at once,
silent, malformed or not allowed (ctl_server.h, counted in `skiffctl
status`)."""

import hashlib
import os
import shutil
import socket
import struct
import tempfile
import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT, standard_args
from tcpnet import need_tcp  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("need_skiff")


@pytest.fixture(scope="module")
def www():
    d = tempfile.mkdtemp(prefix="skiff-exh-", dir="/tmp")
    os.chmod(d, 0o755)
    sha = {name: tn.make_file(os.path.join(d, name), size)
           for name, size in (("big.bin", 64 << 20), ("small.bin", 4 << 20))}
    yield d, sha
    for name in sha:
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, www):
    d = sn.Skiffd(topo, [*standard_args(topo), "--http", f"{tn.HTTP_PORT}:{www[0]}"]).start()
    yield d
    assert d.stop(timeout=20) == 0, d.output()


@pytest.fixture(scope="module")
def tx(topo):
    s = sn.RawSender(topo)
    yield s
    s.close()


def lone_first_fragments(t, src, n, first_id):
    """n first fragments of UDP datagrams to the echo port that never complete."""
    out = []
    for i in range(n):
        dgram = bytes(IP(src=src, dst=t.ded_ip) / UDP(sport=40009, dport=ECHO_PORT) /
                      Raw(os.urandom(1400)))[20:]
        out.append(bytes(Ether(dst=t.dut_mac, src=t.peer_mac) /
                         IP(src=src, dst=t.ded_ip, id=(first_id + i) & 0xffff, proto=17,
                            flags="MF", frag=0) / Raw(dgram[:1208])))
    return out


def test_one_sender_cannot_fill_the_reassembly_table(topo, sk, tx):
    before = sk.counters()
    tx.send(lone_first_fragments(topo, topo.other_ip, 200, 1000))
    d = sk.wait_delta(before, lambda d: d["u.drop.ip_frag_source_limit"] >= 150)
    assert d["u.drop.ip_frag_source_limit"] >= 150, sn.nonzero(d, "u.")
    # the kernel peer's own fragmented datagrams still get through
    payload = os.urandom(4000)
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload


def test_fragments_from_many_senders_evict_the_oldest_not_the_newest(topo, sk, tx):
    net = topo.ded_ip.rsplit(".", 1)[0]
    before = sk.counters()
    frames = []
    for host in range(100, 240):  # 140 senders on the subnet, none of them real
        frames += lone_first_fragments(topo, f"{net}.{host}", 2, host * 8)
    tx.send(frames)
    d = sk.wait_delta(before, lambda d: d["u.drop.ip_frag_evicted"] >= 100)
    assert d["u.drop.ip_frag_evicted"] >= 100, sn.nonzero(d, "u.")
    payload = os.urandom(4000)
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
    assert sn.ping(topo, topo.ded_ip, count=2) == 2
    assert sk.alive()


def test_a_peer_that_never_reads_holds_only_its_own_connection(topo, sk, www):
    _, sha = www
    before = sk.counters()
    with sn.in_netns(topo.peer_ns):
        stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.settimeout(5)
    stuck.connect((topo.ded_ip, tn.HTTP_PORT))
    stuck.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        time.sleep(3)  # its window stays shut; skiff probes it
        code, size, _, got, err = tn.curl_get(topo, f"http://{topo.ded_ip}/small.bin", timeout=30)
        assert code == 200 and got == sha["small.bin"], err
        d = sn.delta(sk.counters(), before)
        assert d["u.tcp_zero_window_probes"] >= 1, sn.nonzero(d, "u.")
    finally:
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stuck.close()  # RST: nothing of the 64 MiB may stay behind
    tn.assert_frames_back(sk, timeout=10)
    assert sk.alive()


def test_an_echo_client_that_does_not_read_stalls_only_itself(topo, sk):
    data = os.urandom(8 << 20)
    c = tn.connect(topo, topo.ded_ip, ECHO_PORT, timeout=30)
    sent = [0]

    def writer():
        try:
            c.sendall(data)
            sent[0] = len(data)
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    time.sleep(2)  # every buffer on the way fills: the writer blocks
    assert sent[0] == 0, "8 MiB went into buffers without being read back"
    other = os.urandom(1000)
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, other) == other
    o = tn.connect(topo, topo.ded_ip, ECHO_PORT)
    o.sendall(b"still served")
    assert o.recv(100) == b"still served"
    o.close()
    # reading resumes: every byte comes back, in order
    h = hashlib.sha256()
    n = 0
    while n < len(data):
        chunk = c.recv(1 << 20)
        assert chunk, f"connection closed after {n} bytes"
        h.update(chunk)
        n += len(chunk)
    t.join(10)
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()
    c.close()
    tn.assert_frames_back(sk, timeout=10)


def test_replies_to_unresolvable_neighbours_are_bounded(topo, sk, tx):
    """UDP echo requests from 190 on-link addresses nobody answers ARP for:
    skiff may resolve at most 64 at once and park 256 packets in all (the
    rest are dropped and counted); those it tried fail after 3 probes; the
    real peer is served throughout."""
    net = topo.ded_ip.rsplit(".", 1)[0]
    before = sk.counters()
    frames = [bytes(Ether(dst=topo.dut_mac, src=topo.peer_mac) /
                    IP(src=f"{net}.{host}", dst=topo.ded_ip) /
                    UDP(sport=40010, dport=ECHO_PORT) / Raw(b"who am I"))
              for host in range(60, 250) for _ in range(2)]
    tx.send(frames)
    d = sk.wait_delta(before, lambda d: d["u.drop.arp_queue_full"] >= 100)
    assert d["u.drop.arp_queue_full"] >= 100, sn.nonzero(d, "u.")
    payload = os.urandom(200)
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
    d = sk.wait_delta(before, lambda d: d["u.arp_failed"] >= 60, timeout=8)
    assert d["u.arp_failed"] >= 60, sn.nonzero(d, "u.")
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
    tn.assert_frames_back(sk, timeout=10)


def ctl_connect(d):
    s = sn.ns_socket(d.topo.dut_ns, socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.ctl_socket)
    return s


def ctl_ask(d, raw):
    s = ctl_connect(d)
    try:
        s.sendall(raw)
        s.settimeout(3)
        out = b""
        while chunk := s.recv(4096):
            out += chunk
        return out.decode(errors="replace")
    finally:
        s.close()


def test_control_clients_beyond_the_bound_are_counted_and_skiffctl_still_answers(topo, sk):
    """40 silent clients (the loop holds 32), malformed requests and a
    request from uid nobody: each is counted by its kind, the silent ones
    are evicted or time out, and skiffctl is answered throughout."""
    before = sk.ctl_json("status")["control_clients"]
    silent = [ctl_connect(sk) for _ in range(40)]
    try:
        time.sleep(0.2)
        p = sk.ctl("status", check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "error: bad request: it contains a NUL byte" in ctl_ask(sk, b"sta\0tus\n")
        assert "unknown command" in ctl_ask(sk, b"reboot\n")
        assert "longer than 255 bytes" in ctl_ask(sk, b"s" * 300 + b"\n")
        tmp = tempfile.mkdtemp(prefix="skiff-ctl-", dir="/tmp")
        try:
            os.chmod(tmp, 0o755)
            ctl = shutil.copy(sn.SKIFFCTL, os.path.join(tmp, "skiffctl"))
            # uid nobody past the file mode (CAP_DAC_OVERRIDE): refused by
            # its peer credentials
            q = sn.ns_run(topo.dut_ns, ["setpriv", "--reuid=nobody", "--regid=nogroup",
                                        "--clear-groups", "--inh-caps=+dac_override",
                                        "--ambient-caps=+dac_override", ctl, "--iface",
                                        sk.iface, "status"], check=False)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        assert q.returncode == 1 and "permission denied" in q.stderr, q.stdout + q.stderr
        time.sleep(1.5)  # CTL_REQUEST_TIMEOUT_MS: the silent ones are gone by now
        after = sk.ctl_json("status")["control_clients"]
    finally:
        for s in silent:
            s.close()
    got = {k: after[k] - before[k] for k in after}
    assert got["accepted"] >= 40 + 5, got
    assert got["evicted"] >= 1 and got["evicted"] + got["timeouts"] >= 40, got
    assert got["bad_requests"] >= 3 and got["denied"] >= 1, got
    assert got["requests"] >= 5, got
    assert "clients," in sk.ctl("status").stdout  # the text answer says it too
