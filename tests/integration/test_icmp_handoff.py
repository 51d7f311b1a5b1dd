# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""ICMP errors that land on the other worker's queue (issue 3: fragmentation
needed -> PMTU update, RFC 1191): skiffd --queues 2 on a 2-queue veth, its TCP
echo service on the dedicated address.

The peer side is hand-made: a TCP client from an address the peer's kernel
does not have (FAKE, made known to skiff by an ARP request XDP answers and
learns), written to and read from an AF_PACKET socket on the peer veth.  The
kernel drops skiff's segments to FAKE (not its address, no forwarding), so
nothing acknowledges skiff's echoed data and it stays in flight, as RFC 5927
requires of the sequence an ICMP error quotes.  (A tc or netfilter drop is
not available on this kernel: no act_gact, no nft.)  Each connection lives
on the worker whose queue got its SYN (`worker` in `skiffctl sockets
--json`).  A "router" then answers each connection's first echoed segment
with ICMP fragmentation needed (MTU 1000) quoting it; every connection's MSS
must fall from 1460 to 960 (1000 - 40), wherever the error arrived.

How the wrong queue is exercised: veth hands a frame to the dut RX queue
numbered as the peer's TX queue, and the peer picks that by flow hash (TCP:
over the ports too, so the connections spread over both workers); an ICMP
error has no ports, so its hash covers its addresses only, and the queue
follows the sender's address.  The test first learns which queue each of 16
"router" addresses lands on, by sending from each an error quoting a
connection that does not exist: it must be handed to the other worker once
and dropped there (drop.icmp_err_no_flow), never handed back.  Then each
connection gets exactly one frag-needed, from a router whose errors land on
the queue of the worker that does *not* hold it: the MSS can only fall if
the handoff carried the error (icmp_err_handoff = handoff_in = one per
connection, tcp_pmtu_updates per worker = its connections).
"""

import os
import random
import socket
import struct
import time

import pytest

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")

N_CONNS = 12
N_ROUTERS = 16
MTU = 1000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(queues=2)
    yield t
    t.close()


@pytest.fixture(scope="module")
def daemon(need_skiff, topo):
    d = sn.Skiffd(topo, standard_args(topo) + ["--queues", "2"]).start()
    yield d
    rc = d.stop()
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def frame(topo, ip, ethertype=0x0800, dst=None):
    """Ethernet from the peer's MAC to the dut's (or dst)."""
    return (dst or mac(topo.dut_mac)) + mac(topo.peer_mac) + struct.pack("!H", ethertype) + ip


def ipv4(src, dst, proto, payload, ident=0x1234):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b""):
    hlen = 20 + len(opts)
    th = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hlen // 4) << 4, flags, 65535, 0,
                     0) + opts + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(th))
    th = th[:16] + struct.pack("!H", csum(pseudo + th)) + th[18:]
    return ipv4(src, dst, socket.IPPROTO_TCP, th)


def arp_request(topo, sender_ip, target_ip):
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac(topo.peer_mac),
                      socket.inet_aton(sender_ip), b"\0" * 6, socket.inet_aton(target_ip))
    return frame(topo, arp, 0x0806, dst=b"\xff" * 6)


def icmp_frag_needed(router, dst, quote, mtu):
    """IPv4 (router -> dst) + ICMP 3/4 with next-hop MTU mtu, quoting quote."""
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quote
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return ipv4(router, dst, 1, icmp)


def skiff_conns(sk, peer_addr, ports):
    """{peer port: socket entry} of skiff's echo connections from peer_addr:ports."""
    out = {}
    for s in sk.ctl_json("sockets")["sockets"]:
        if s["proto"] == "tcp" and s.get("peer_addr") == peer_addr and \
                s.get("peer_port") in ports and s["local_port"] == ECHO_PORT:
            out[s["peer_port"]] = s
    return out


def tap_tcp(tap, topo, fake, ports, want, timeout=5.0):
    """Read skiff's TCP segments to fake:ports off the tap until want(found)
    says enough; found: {port: [(flags, seq, payload length, IP header + 8
    TCP bytes)]}."""
    found = {}
    ded, to = socket.inet_aton(topo.ded_ip), socket.inet_aton(fake)
    deadline = time.monotonic() + timeout
    tap.settimeout(0.1)
    while not want(found) and time.monotonic() < deadline:
        try:
            f, addr = tap.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING or len(f) < 14 + 40 or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        ihl = (ip[0] & 0xf) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != socket.IPPROTO_TCP or ip[12:16] != ded or ip[16:20] != to:
            continue
        sport, dport, seq = struct.unpack("!HHI", ip[ihl:ihl + 8])
        doff = (ip[ihl + 12] >> 4) * 4
        if sport == ECHO_PORT and dport in ports:
            found.setdefault(dport, []).append((ip[ihl + 13], seq, tot - ihl - doff,
                                                bytes(ip[:ihl + 8])))
    return found


SYN, RST, PSH, ACK = 0x02, 0x04, 0x08, 0x10


def test_frag_needed_on_either_queue_lowers_every_connections_mss(topo, sk):
    net = topo.peer_ip.rsplit(".", 1)[0]
    fake = f"{net}.60"
    routers = [f"{net}.{100 + i}" for i in range(N_ROUTERS)]
    ports = {41000 + i for i in range(N_CONNS)}
    iss = {p: random.getrandbits(32) for p in ports}
    data = b"x" * 200
    cpus = sorted(os.sched_getaffinity(0))
    with sn.in_netns(topo.peer_ns):
        tap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw = sn.RawSender(topo)
    try:
        tap.bind((topo.peer_if, ETH_P_ALL))
        # XDP answers this and learns fake -> the peer's MAC (neigh map)
        raw.send(arp_request(topo, fake, topo.ded_ip))
        deadline = time.monotonic() + 3
        while fake not in sk.neigh():
            assert time.monotonic() < deadline, f"{fake} never learned: {sk.neigh()}"
            time.sleep(0.05)

        mss_opt = struct.pack("!BBH", 2, 4, 1460)
        raw.send([frame(topo, tcp(fake, topo.ded_ip, p, ECHO_PORT, iss[p], 0, SYN,
                                  opts=mss_opt)) for p in sorted(ports)])
        got = tap_tcp(tap, topo, fake, ports, lambda f: len(f) == len(ports))
        assert set(got) == ports, f"no SYN-ACK for {sorted(ports - set(got))}"
        srv = {}
        for p, segs in got.items():
            flags, seq, _, _ = segs[0]
            assert flags & (SYN | ACK) == SYN | ACK, (p, segs)
            srv[p] = seq + 1
        raw.send([frame(topo, tcp(fake, topo.ded_ip, p, ECHO_PORT, iss[p] + 1, srv[p], ACK))
                  for p in sorted(ports)])
        raw.send([frame(topo, tcp(fake, topo.ded_ip, p, ECHO_PORT, iss[p] + 1, srv[p],
                                  PSH | ACK, data)) for p in sorted(ports)])
        echoed = tap_tcp(tap, topo, fake, ports, lambda f: len(f) == len(ports) and
                         all(any(s[2] for s in v) for v in f.values()))
        quotes = {}
        for p, segs in echoed.items():
            for flags, seq, n, q in segs:
                if n and seq == srv[p]:
                    quotes.setdefault(p, q)
        assert set(quotes) == ports, f"no echo seen for {sorted(ports - set(quotes))}: {echoed}"

        conns = skiff_conns(sk, fake, ports)
        assert set(conns) == ports and all(s["state"] == "ESTAB" for s in conns.values()), conns
        assert all(s["mss"] == 1460 for s in conns.values()), conns
        workers = {p: s["worker"] for p, s in conns.items()}

        # Which queue does each router's ICMP arrive on?  Ask with an error
        # no worker claims (quoting a connection that does not exist, on the
        # echo port: any worker might hold it): it is handed to the other
        # worker once, which drops it -- and does not hand it back.
        bogus = ipv4(topo.ded_ip, fake, socket.IPPROTO_TCP,
                     struct.pack("!HHI", ECHO_PORT, 40999, 1))[:28]
        queue_of = {}
        # one CPU for every ICMP sent, in case XPS picks the queue by CPU
        os.sched_setaffinity(0, {cpus[0]})
        for r in routers:
            before = sk.counters()
            raw.send(frame(topo, icmp_frag_needed(r, topo.ded_ip, bogus, MTU)))
            d = sk.wait_delta(before, lambda d: d["u.drop.icmp_err_no_flow"] >= 1)
            wire = [q for q in (0, 1) if d[f"u{q}.icmp_rx"] - d[f"u{q}.handoff_in"] > 0]
            assert len(wire) == 1 and d["u.icmp_rx"] == 2, sn.nonzero(d)
            assert d["u.icmp_err_handoff"] == d["u.handoff_out"] == d["u.handoff_in"] == 1 and \
                d["u.drop.icmp_err_no_flow"] == 1, f"{r}: {sn.nonzero(d)}"
            assert d[f"u{wire[0]}.icmp_err_handoff"] == 1 and \
                d[f"u{1 - wire[0]}.drop.icmp_err_no_flow"] == 1, f"{r}: {sn.nonzero(d)}"
            queue_of[r] = wire[0]
        wrong = {w: [r for r in routers if queue_of[r] != w] for w in (0, 1)}
        assert wrong[0] and wrong[1], f"every router's ICMP lands on one queue: {queue_of}"

        # Each connection gets one frag-needed, on the queue of the worker
        # that does not hold it: only the handoff can bring it there.
        before = sk.counters()
        raw.send([frame(topo, icmp_frag_needed(wrong[workers[p]][0], topo.ded_ip, quotes[p],
                                               MTU)) for p in sorted(ports)])
        d = sk.wait_delta(before, lambda d: d["u.tcp_pmtu_updates"] >= N_CONNS, timeout=5)
        os.sched_setaffinity(0, cpus)
        conns = skiff_conns(sk, fake, ports)
        mss = {p: s["mss"] for p, s in conns.items()}
        on = {w: sum(1 for v in workers.values() if v == w) for w in (0, 1)}
        info = f"connections per worker {on}, routers' queues {queue_of}, moved {sn.nonzero(d)}"
        assert d["u.tcp_pmtu_updates"] == N_CONNS, info
        assert mss == {p: MTU - 40 for p in ports}, f"mss {mss}; {info}"
        assert {p: s["worker"] for p, s in conns.items()} == workers, info
        assert d["u.icmp_rx"] == 2 * N_CONNS, info
        assert d["u.icmp_err_handoff"] == d["u.handoff_in"] == d["u.handoff_out"] == N_CONNS, info
        assert d["u.drop.icmp_err_no_flow"] == 0 and d["u.drop.handoff_drop"] == 0, info
        for w in (0, 1):
            assert d[f"u{w}.tcp_pmtu_updates"] == on[w], info
            assert d[f"u{w}.handoff_in"] == on[w], info
    finally:
        os.sched_setaffinity(0, cpus)
        # end the connections (skiff would retransmit to nobody for minutes)
        try:
            raw.send([frame(topo, tcp(fake, topo.ded_ip, p, ECHO_PORT, iss[p] + 1 + len(data),
                                      0, RST)) for p in sorted(ports)])
        finally:
            raw.close()
            tap.close()
