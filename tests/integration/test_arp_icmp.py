# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""ARP and ICMP echo for a skiff-dedicated address: answered by XDP (the XDP
counters prove it), learned into the shared neighbour map, and large pings
that arrive fragmented answered by the daemon instead."""

import re
import time

import pytest

import skiffnet as sn

pytestmark = pytest.mark.usefixtures("need_skiff")


def test_arping_dedicated_address_is_answered_from_dut_mac(topo, sk):
    before = sk.counters()
    p = topo.peer(["arping", "-c", 3, "-w", 3, "-W", 0.2, "-i", topo.peer_if, topo.ded_ip],
                  check=False, timeout=20)
    macs = set(re.findall(r"bytes from ([0-9a-f:]{17})", p.stdout, re.I))
    d = sn.delta(sk.counters(), before)
    assert p.returncode == 0 and macs == {topo.dut_mac}, p.stdout + p.stderr
    assert d["xdp.arp_reply"] >= 3, sn.nonzero(d)


def test_peer_kernel_resolves_dedicated_address(topo, sk):
    topo.peer(["ip", "neigh", "flush", "dev", topo.peer_if])
    assert sn.ping(topo, topo.ded_ip, count=1) == 1
    out = topo.peer(["ip", "-j", "neigh", "show", topo.ded_ip, "dev", topo.peer_if]).stdout
    entries = sn.json.loads(out)
    assert entries and entries[0].get("lladdr") == topo.dut_mac, out


def test_xdp_learns_the_arp_sender_into_the_neigh_map(topo, sk):
    before = sk.counters()
    topo.peer(["arping", "-c", 1, "-w", 2, "-i", topo.peer_if, topo.ded_ip],
              check=False, timeout=10)
    d = sn.delta(sk.counters(), before)
    neigh = sk.neigh()
    assert neigh.get(topo.peer_ip) == topo.peer_mac, neigh
    assert d["xdp.arp_learn"] >= 1, sn.nonzero(d)


@pytest.mark.parametrize("size", [56, 1472])
def test_ping_dedicated_address_is_answered_by_xdp(topo, sk, size):
    sn.ping(topo, topo.ded_ip, count=1, size=size)  # resolve ARP outside the count
    before = sk.counters()
    got = sn.ping(topo, topo.ded_ip, count=5, size=size)
    d = sn.delta(sk.counters(), before)
    assert got == 5
    assert d["xdp.icmp_echo_reply"] == 5, sn.nonzero(d)
    assert d["u.icmp_echo_reply"] == 0, sn.nonzero(d)


def test_fragmented_ping_is_answered_by_the_daemon(topo, sk):
    sn.ping(topo, topo.ded_ip, count=1)
    before = sk.counters()
    got = sn.ping(topo, topo.ded_ip, count=3, size=4000, wait=3)
    d = sn.delta(sk.counters(), before)
    assert got == 3, sn.nonzero(d)
    assert d["u.icmp_echo_reply"] == 3, sn.nonzero(d)
    assert d["xdp.icmp_echo_reply"] == 0, sn.nonzero(d)
    assert d["u.ip_reasm_ok"] >= 3 and d["xdp.to_stack"] >= 9, sn.nonzero(d)


def test_shared_address_ping_stays_with_the_kernel(topo, sk):
    sn.ping(topo, topo.dut_ip, count=1)
    before = sk.counters()
    assert sn.ping(topo, topo.dut_ip, count=3) == 3
    d = sn.delta(sk.counters(), before)
    assert d["xdp.icmp_echo_reply"] == 0 and d["u.icmp_echo_reply"] == 0, sn.nonzero(d)
    assert d["xdp.to_kernel"] >= 3, sn.nonzero(d)


def test_a_silent_ipv4_neighbour_is_listed_incomplete_then_failed(topo, sk):
    """A SYN from an on-link address nobody answers ARP for: skiffd's RST
    waits for the neighbour; `skiffctl neigh` lists the address as
    incomplete, then failed after three requests (the IPv4 twin of
    test_ipv6's silent-neighbour test)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    ghost = topo.ded_ip.rsplit(".", 1)[0] + ".77"
    tx = sn.RawSender(topo)
    before = sk.counters()
    try:
        tx.send(Ether(src=topo.peer_mac, dst=topo.dut_mac) /
                IP(src=ghost, dst=topo.ded_ip) / TCP(sport=40000, dport=8099, flags="S"))
    finally:
        tx.close()

    def state():
        for n in sn.json.loads(sk.ctl("neigh", "--json").stdout)["neighbours"]:
            if n["ip"] == ghost:
                return n["state"]
        return None

    deadline = time.monotonic() + 2
    while state() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state() == "incomplete"
    deadline = time.monotonic() + 6
    while state() != "failed" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state() == "failed"
    d = sn.delta(sk.counters(), before)
    assert d["u.arp_req_sent"] >= 3 and d["u.arp_failed"] >= 1, sn.nonzero(d, "u.")
    assert d["u.drop.arp_unresolved"] >= 1 and d["u.arp_resolved"] == 0, sn.nonzero(d, "u.")
