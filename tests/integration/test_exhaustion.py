# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Exhausting one of skiffd's bounded resources is counted and does not stop
it serving everyone else (issue 8, "Exhaustion").  Here: the IPv4
reassembly table, filled with fragments that never complete, from one
sender and from many; a peer that never reads a large response (zero
window for as long as it likes); a TCP echo client that sends without
reading until every buffer on the way is full; replies owed to on-link
senders nobody resolves; the UMEM frames of a queue, all held by parked
replies; a peer advertising a window of one byte; 10,000 connections from
one address; more control clients than skiffd serves at once, silent,
malformed or not allowed (ctl_server.h, counted in `skiffctl status`).
A peer that ACKs data never sent: test_tcp_hostile.py
(test_ack_of_unsent_data_is_challenged)."""

import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
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


def echoed(topo, payload, sock=None, tries=3):
    """UDP echo from skiffd, a datagram lost allowed (a worker starved past
    --failover-ms on a loaded machine: XDP fails open for that moment)."""
    return any(sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload, sock=sock) == payload
               for _ in range(tries))


def frame_gauges(d):
    c = d.ctl_counters()  # as skiffctl --json stats reports them
    return {k: c[f"u0.frames_{k}"] for k in ("total", "free", "fill", "tx")}


def test_umem_frames_exhausted_are_counted_others_served_and_all_come_back(need_tcp):
    """A queue with the fewest frames (--frames 256: 128 for the fill ring,
    128 for transmit and the stack) and echo replies to 190 on-link senders
    nobody resolves: the parked replies take every free frame (frames_free
    0; counted as fill_empty or drop.no_frame where a frame was wanted, the
    replies beyond the parking bound in drop.arp_queue_full),
    the real peer is still served over UDP and TCP, and once resolution
    fails every frame is back where it was."""
    t = sn.Topology()
    try:
        d = sn.Skiffd(t, [*standard_args(t), "--frames", "256"]).start()
        tx = sn.RawSender(t)
        try:
            tn.assert_frames_back(d)
            base = frame_gauges(d)
            assert base["total"] == 256, base
            before = d.counters()
            net = t.ded_ip.rsplit(".", 1)[0]
            tx.send([bytes(Ether(dst=t.dut_mac, src=t.peer_mac) /
                           IP(src=f"{net}.{host}", dst=t.ded_ip) /
                           UDP(sport=40010, dport=ECHO_PORT) / Raw(b"x" * 1000))
                     for host in range(60, 250) for _ in range(2)])
            deadline = time.monotonic() + 3
            while frame_gauges(d)["free"] and time.monotonic() < deadline:
                time.sleep(0.05)
            low = frame_gauges(d)
            assert low["free"] == 0, (low, sn.nonzero(sn.delta(d.counters(), before), "u."))
            # counted where a frame was wanted: the fill ring's refill
            # (fill_empty) or a packet to build (drop.no_frame); and the
            # replies beyond the parking bound, once the worker has read
            # that far (under ASan it may still be at the first burst)
            dd = d.wait_delta(before, lambda x: x["u.fill_empty"] + x["u.drop.no_frame"] >= 1 and
                              x["u.drop.arp_queue_full"] >= 1)
            assert dd["u.fill_empty"] + dd["u.drop.no_frame"] >= 1, sn.nonzero(dd, "u.")
            assert dd["u.drop.arp_queue_full"] >= 1, sn.nonzero(dd, "u.")
            # the others are served while the frames are gone
            payload = os.urandom(300)
            assert echoed(t, payload)
            c = tn.connect(t, t.ded_ip, ECHO_PORT)
            try:
                data = os.urandom(20000)
                c.sendall(data)
                got = b""
                while len(got) < len(data):
                    chunk = c.recv(65536)
                    assert chunk, "echo connection closed early"
                    got += chunk
                assert got == data
            finally:
                c.close()
            # resolution fails after 3 probes: the parked replies go, and
            # every frame is back in the pool or the fill ring
            dd = d.wait_delta(before, lambda x: x["u.arp_failed"] >= 60, timeout=10)
            assert dd["u.arp_failed"] >= 60, sn.nonzero(dd, "u.")
            tn.assert_frames_back(d, timeout=10)
            assert frame_gauges(d) == base, (frame_gauges(d), base)
            assert d.alive()
        finally:
            tx.close()
            assert d.stop() == 0, d.output()
    finally:
        t.close()


class PeerSniffer:
    """TCP segments skiff sends to one address, seen on the peer veth."""

    def __init__(self, topo, dst):
        with sn.in_netns(topo.peer_ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.sock.bind((topo.peer_if, 0))
        self.sock.setblocking(False)
        self.dst = dst

    def segments(self):
        out = []
        while True:
            try:
                f = self.sock.recv(4096)
            except BlockingIOError:
                return out
            pkt = Ether(f)
            if TCP in pkt and pkt[IP].dst == self.dst:
                out.append(pkt[TCP])

    def close(self):
        self.sock.close()


def test_a_peer_advertising_a_window_of_one_byte_gets_its_data_and_harms_nobody(topo, sk, tx):
    """A hand-made client that advertises a window of 1 byte throughout (an
    address the peer kernel does not have, so no kernel RST gets in the way;
    skiff learns its MAC from an ARP request): its echo comes back one byte
    per segment, never past the window, while a normal client is served.
    (The bytes come one per timer tick, about 1-3 s apart, not one per ACK:
    so only a few bytes here.)"""
    net = topo.ded_ip.rsplit(".", 1)[0]
    me, sport = f"{net}.201", 41001
    eth = Ether(dst=topo.dut_mac, src=topo.peer_mac)
    tx.send(Ether(dst="ff:ff:ff:ff:ff:ff", src=topo.peer_mac) /
            ARP(op=1, hwsrc=topo.peer_mac, psrc=me, pdst=topo.ded_ip))
    time.sleep(0.2)
    sniff = PeerSniffer(topo, me)
    before = sk.counters()
    iss = 1000

    def seg(seq, ack, flags="A", payload=b""):
        p = eth / IP(src=me, dst=topo.ded_ip) / TCP(sport=sport, dport=ECHO_PORT, seq=seq,
                                                    ack=ack, flags=flags, window=1)
        return bytes(p / Raw(payload)) if payload else bytes(p)

    def wait_for(pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t in sniff.segments():
                if pred(t):
                    return t
            time.sleep(0.01)
        return None

    try:
        tx.send(bytes(eth / IP(src=me, dst=topo.ded_ip) /
                      TCP(sport=sport, dport=ECHO_PORT, seq=iss, flags="S", window=1,
                          options=[("MSS", 1460)])))
        synack = wait_for(lambda t: t.flags & 0x12 == 0x12)
        assert synack is not None, "no SYN-ACK"
        rcv = (synack.seq + 1) % (1 << 32)
        data = b"window"
        tx.send(seg(iss + 1, rcv))
        tx.send(seg(iss + 1, rcv, "PA", data))
        got = b""
        deadline = time.monotonic() + 90
        while len(got) < len(data) and time.monotonic() < deadline:
            t = wait_for(lambda t: len(t.payload) > 0 and t.seq == rcv, timeout=2)
            if t is None:
                continue
            chunk = bytes(t.payload)
            # never beyond the window we advertised
            assert len(chunk) <= 1, f"{len(chunk)} bytes into a 1-byte window"
            got += chunk
            rcv = (rcv + len(chunk)) % (1 << 32)
            tx.send(seg(iss + 1 + len(data), rcv))
            # meanwhile, a normal client
            if len(got) == 3:
                payload = os.urandom(500)
                assert echoed(topo, payload)
                c = tn.connect(topo, topo.ded_ip, ECHO_PORT)
                try:
                    c.sendall(b"x" * 50000)
                    n = 0
                    while n < 50000:
                        chunk2 = c.recv(65536)
                        assert chunk2
                        n += len(chunk2)
                finally:
                    c.close()
        assert got == data, f"{got!r} after 90 s"
    finally:
        tx.send(seg(iss + 1 + len(data), rcv, "R"))
        sniff.close()
    d = sn.delta(sk.counters(), before)
    assert d["u.tcp_passive_opens"] >= 2, sn.nonzero(d, "u.")
    tn.assert_frames_back(sk, timeout=10)
    assert sk.alive()


CONNSCALE = Path(__file__).with_name("connscale.py")


def test_ten_thousand_connections_from_one_address_leave_room_for_others(topo, sk, www):
    """10,000 connections from the peer's one address to the echo service,
    held open, while a client from another address gets UDP and TCP echo and
    an HTTP download; all 10,000 echo, close cleanly, and leave nothing."""
    _, sha = www
    topo.peer(["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65000"])
    net = topo.ded_ip.rsplit(".", 1)[0]
    other = f"{net}.9"
    topo.peer(["ip", "addr", "add", f"{other}/{topo.prefix}", "dev", topo.peer_if])
    before = sk.counters()
    proc = subprocess.Popen(sn.nsenter(topo.peer_ns, [
        "/usr/bin/python3", CONNSCALE, "--dst", topo.ded_ip, "--port", ECHO_PORT,
        "--conns", 10000, "--src", topo.peer_ip, "--burst", 1000, "--gap-ms", 20,
        "--idle", 6, "--timeout", 40]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        d = sk.wait_delta(before, lambda d: d["u.tcp_passive_opens"] +
                          d["u.tcp_syncookies_ok"] >= 10000, timeout=40)
        assert d["u.tcp_passive_opens"] + d["u.tcp_syncookies_ok"] >= 10000, \
            sn.nonzero(d, "u.")
        # the connections are held (--idle): someone else is served
        with sn.in_netns(topo.peer_ns):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u.bind((other, 0))
        payload = os.urandom(300)
        assert echoed(topo, payload, sock=u)
        u.close()
        c.bind((other, 0))
        c.settimeout(10)
        c.connect((topo.ded_ip, ECHO_PORT))
        c.sendall(b"y" * 30000)
        n = 0
        while n < 30000:
            chunk = c.recv(65536)
            assert chunk
            n += len(chunk)
        c.close()
        code, _, _, got, err = tn.curl_get(topo, f"http://{topo.ded_ip}/small.bin", timeout=60,
                                           extra=("--interface", other))
        assert code == 200 and got == sha["small.bin"], err
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        topo.peer(["ip", "addr", "del", f"{other}/{topo.prefix}", "dev", topo.peer_if],
                  check=False)
    assert proc.returncode == 0, out + err
    r = json.loads(out.strip().splitlines()[-1])
    assert r["established"] == 10000 and not r["connect_errors"], r
    assert r["echoed"] == 10000 and r["resets"] == 0, r
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and tcp_sockets(sk) > 8:
        time.sleep(0.5)
    assert tcp_sockets(sk) <= 8  # the listeners (echo, discard, HTTP) and leftovers of others
    tn.assert_frames_back(sk, timeout=10)
    assert sk.alive()


def tcp_sockets(sk):
    socks = sk.ctl_json("sockets")
    if isinstance(socks, dict):
        socks = socks.get("sockets", [])
    return sum(1 for s in socks if s.get("proto") == "tcp")
