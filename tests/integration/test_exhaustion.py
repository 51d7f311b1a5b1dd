# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Exhausting one of skiffd's bounded resources is counted and does not stop
it serving everyone else (issue 8, "Exhaustion").  Here: the IPv4
reassembly table, filled with fragments that never complete, from one
sender and from many."""

import os

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import skiffnet as sn
from conftest import ECHO_PORT

pytestmark = pytest.mark.usefixtures("need_skiff")


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
