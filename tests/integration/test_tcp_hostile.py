# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Hostile TCP segments from scapy against a live connection between a
kernel client and skiff's echo service (and against the listener): each is
handled as RFC 9293 / RFC 5961 say and counted, and the connection goes on
echoing exactly what the kernel sends.

The sequence numbers of the live connection are read off the wire by an
AF_PACKET sniffer in the peer namespace (the kernel's last ACK carries both
sides' next sequence numbers).  TCP timestamps are off in the peer
namespace, so crafted segments need no TSopt (RFC 7323 PAWS would otherwise
judge them)."""

import socket
import time

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT, standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")

M32 = 1 << 32


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology()
    t.peer(["sysctl", "-qw", "net.ipv4.tcp_timestamps=0"])
    yield t
    t.close()


@pytest.fixture(scope="module")
def daemon(need_tcp, topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"




class Sniffer:
    """TCP segments of one port pair seen on the peer veth, both ways."""

    def __init__(self, topo):
        with sn.in_netns(topo.peer_ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.sock.bind((topo.peer_if, 0))
        self.sock.setblocking(False)
        self.segs = []  # (from_skiff, TCP layer)
        self.topo = topo

    def poll(self):
        while True:
            try:
                f = self.sock.recv(4096)
            except BlockingIOError:
                return
            pkt = Ether(f)
            if TCP in pkt:
                self.segs.append((pkt[IP].src == self.topo.ded_ip, pkt[TCP]))

    def close(self):
        self.sock.close()


class Conn:
    """A kernel client connected to skiff's echo port, with the sequence
    state of both ends as seen on the wire."""

    def __init__(self, topo):
        self.topo = topo
        self.sn = Sniffer(topo)
        self.sock = tn.connect(topo, topo.ded_ip, ECHO_PORT)
        self.cport = self.sock.getsockname()[1]
        assert self.echo(b"hello") == b"hello"
        time.sleep(0.2)
        self.sync()

    def mine(self, from_skiff=None):
        self.sn.poll()
        return [t for s, t in self.sn.segs
                if (t.sport == self.cport or t.dport == self.cport)
                and (from_skiff is None or s == from_skiff)]

    def sync(self):
        """kern_nxt / skiff_nxt from the kernel's last segment."""
        last = self.mine(from_skiff=False)[-1]
        self.kern_nxt, self.skiff_nxt = last.seq, last.ack

    def echo(self, data):
        self.sock.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got

    def segment(self, seq_off=0, ack_off=0, flags="A", payload=b"", **tcp):
        """A frame on this connection, seq relative to what skiff expects."""
        t = self.topo
        pkt = (Ether(dst=t.dut_mac, src=t.peer_mac) / IP(src=t.peer_ip, dst=t.ded_ip) /
               TCP(sport=self.cport, dport=ECHO_PORT, seq=(self.kern_nxt + seq_off) % M32,
                   ack=(self.skiff_nxt + ack_off) % M32, flags=flags, window=8192, **tcp))
        if payload:
            pkt = pkt / Raw(payload)
        return pkt

    def close(self):
        self.sock.close()
        self.sn.close()


@pytest.fixture
def conn(topo, sk):
    c = Conn(topo)
    yield c
    c.close()


@pytest.fixture(scope="module")
def tx(topo):
    s = sn.RawSender(topo)
    yield s
    s.close()


def send_and_watch(conn, tx, frames, wait=0.3):
    """Send frames; return skiff's segments on the connection afterwards."""
    n = len(conn.mine(from_skiff=True))
    tx.send([bytes(f) for f in frames])
    time.sleep(wait)
    return conn.mine(from_skiff=True)[n:]


def bad_checksum(pkt):
    raw = bytearray(bytes(pkt))
    # TCP checksum at Ethernet 14 + IP 20 + 16
    raw[14 + 20 + 16] ^= 0x5a
    return bytes(raw)


def survives(conn, sk):
    got = conn.echo(b"still alive")
    assert got == b"still alive", f"connection broken after the hostile segment: {got!r}\n" \
                                  f"{sk.output()[-2000:]}"


def is_challenge_ack(conn, seg):
    return (seg.flags & 0x10) and not (seg.flags & 0x07) and seg.ack == conn.kern_nxt % M32


def test_bad_data_offset_is_dropped_and_counted(conn, tx, sk):
    before = sk.counters()
    frames = [bytes(conn.segment(payload=b"abcdefghij", dataofs=15)),
              bytes(conn.segment(payload=b"abcdefghij", dataofs=3))]
    replies = send_and_watch(conn, tx, frames)
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_bad_doff"] >= 2)
    assert d["u.drop.tcp_bad_doff"] >= 2, sn.nonzero(d, "u.")
    assert not replies, [r.summary() for r in replies]
    survives(conn, sk)


def test_all_flags_set_is_dropped_and_connection_survives(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [conn.segment(seq_off=1, flags="FSRPAUEC",
                                                     payload=b"xmas")])
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_flags"] >= 1)
    assert d["u.drop.tcp_flags"] + d["u.drop.tcp_rst_ignored"] + \
        d["u.drop.tcp_syn_challenged"] >= 1, sn.nonzero(d, "u.")
    assert not any(r.flags & 0x04 for r in replies), "answered with RST"
    survives(conn, sk)


def test_out_of_window_rst_is_ignored_silently(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [conn.segment(seq_off=1 << 30, flags="R")])
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_rst_ignored"] >= 1)
    # RFC 5961 3.2 / RFC 9293 3.10.7.4: outside the window, discard; no reply
    assert d["u.drop.tcp_rst_ignored"] >= 1 and d["u.tcp_estab_resets"] == 0, \
        sn.nonzero(d, "u.")
    assert not replies, [r.summary() for r in replies]
    survives(conn, sk)


def test_in_window_rst_not_at_rcv_nxt_gets_a_challenge_ack(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [conn.segment(seq_off=100, flags="R")])
    d = sk.wait_delta(before, lambda d: d["u.tcp_challenge_acks"] >= 1)
    # RFC 5961 3.2: in the window but not exactly RCV.NXT: challenge ACK
    assert d["u.tcp_challenge_acks"] >= 1 and d["u.tcp_estab_resets"] == 0, sn.nonzero(d, "u.")
    assert any(is_challenge_ack(conn, r) for r in replies), [r.summary() for r in replies]
    survives(conn, sk)


def test_syn_in_established_gets_a_challenge_ack(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [conn.segment(seq_off=0, flags="S")])
    d = sk.wait_delta(before, lambda d: d["u.tcp_challenge_acks"] >= 1)
    # RFC 5961 4.2 / RFC 9293 3.10.7.4: any SYN in a synchronized state
    assert d["u.tcp_challenge_acks"] >= 1 and d["u.drop.tcp_syn_challenged"] >= 1, \
        sn.nonzero(d, "u.")
    assert any(is_challenge_ack(conn, r) for r in replies), [r.summary() for r in replies]
    assert not any(r.flags & 0x04 for r in replies)
    survives(conn, sk)


def test_bad_checksum_data_is_dropped_and_not_echoed(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [bad_checksum(conn.segment(payload=b"EVIL", flags="PA"))])
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_csum"] >= 1)
    assert d["u.drop.tcp_csum"] >= 1, sn.nonzero(d, "u.")
    assert not replies, [r.summary() for r in replies]
    survives(conn, sk)  # exactly "still alive": EVIL never reached the stream


def test_ack_of_unsent_data_is_challenged(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [conn.segment(ack_off=100000)])
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_ack_range"] >= 1)
    # RFC 9293 3.10.7.4 fifth check / RFC 5961 5.2: ACK and drop
    assert d["u.drop.tcp_ack_range"] >= 1, sn.nonzero(d, "u.")
    assert any(r.flags & 0x10 and not r.flags & 0x04 for r in replies), \
        [r.summary() for r in replies]
    survives(conn, sk)


def test_old_duplicate_data_is_acked_not_delivered_again(conn, tx, sk):
    replies = send_and_watch(conn, tx, [conn.segment(seq_off=-5, payload=b"hello", flags="PA")])
    # RFC 9293 3.10.7.4: not acceptable -> <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    assert any(is_challenge_ack(conn, r) for r in replies), [r.summary() for r in replies]
    survives(conn, sk)  # no second "hello" in front of it


def test_data_beyond_the_window_is_acked_and_dropped(conn, tx, sk):
    before = sk.counters()
    replies = send_and_watch(conn, tx, [conn.segment(seq_off=1 << 30, payload=b"far", flags="PA")])
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_not_acceptable"] >= 1)
    assert d["u.drop.tcp_not_acceptable"] >= 1, sn.nonzero(d, "u.")
    assert any(is_challenge_ack(conn, r) for r in replies), [r.summary() for r in replies]
    survives(conn, sk)


def listener_frame(topo, **tcp):
    return bytes(Ether(dst=topo.dut_mac, src=topo.peer_mac) /
                 IP(src=topo.peer_ip, dst=topo.ded_ip) / TCP(dport=ECHO_PORT, **tcp))


def test_hostile_segments_to_the_listener_get_no_syn_ack(topo, tx, sk):
    before = sk.counters()
    sniff = Sniffer(topo)
    try:
        tx.send([listener_frame(topo, sport=41001, flags="SF", seq=1),
                 bad_checksum(Ether(listener_frame(topo, sport=41002, flags="S", seq=1))),
                 listener_frame(topo, sport=41003, flags="S", seq=1, dataofs=15)])
        time.sleep(0.3)
        sniff.poll()
        synacks = [t for s, t in sniff.segs if s and t.flags & 0x12 == 0x12]
    finally:
        sniff.close()
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_flags"] >= 1 and d["u.drop.tcp_csum"] >= 1)
    assert not synacks, [t.summary() for t in synacks]
    assert d["u.drop.tcp_flags"] >= 1 and d["u.drop.tcp_csum"] >= 1 and \
        d["u.drop.tcp_bad_doff"] >= 1, sn.nonzero(d, "u.")


def test_stray_ack_to_the_listener_is_answered_with_rst(topo, tx, sk):
    before = sk.counters()
    sniff = Sniffer(topo)
    try:
        tx.send([listener_frame(topo, sport=41004, flags="A", seq=1000, ack=123456)])
        time.sleep(0.3)
        sniff.poll()
        rsts = [t for s, t in sniff.segs if s and t.dport == 41004 and t.flags & 0x04]
    finally:
        sniff.close()
    d = sk.wait_delta(before, lambda d: d["u.drop.tcp_cookie_bad"] >= 1)
    # RFC 9293 3.10.7.2 LISTEN: an ACK gets <SEQ=SEG.ACK><CTL=RST>
    assert rsts and rsts[0].seq == 123456, [t.summary() for t in rsts]
    assert d["u.drop.tcp_cookie_bad"] + d["u.tcp_rst_noconn"] >= 1, sn.nonzero(d, "u.")
