# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Hostile frames, built with scapy and sent raw from the peer veth to the
dut's MAC: each is counted under the reason it deserves (by the XDP program
or by the daemon, whichever layer catches it: the expected set lists both
where either may) and nothing is answered; afterwards skiffd still answers
ping and UDP echo.  Frames not addressed to a skiff address go to the kernel
untouched, however malformed."""

import os
import random
import time

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")

COPIES = 3  # each hostile frame is sent this many times
FRAG_TIMEOUT = 5  # skiffd --frag-timeout (default 30 s): the last test waits for it


@pytest.fixture(scope="module")
def daemon(need_skiff, topo):
    d = sn.Skiffd(topo, [*standard_args(topo), "--frag-timeout", str(FRAG_TIMEOUT)]).start()
    yield d
    rc = d.stop()
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def eth(t, **kw):
    """To the dut's MAC.  Alone (before raw IPv4 bytes), pass type=0x0800:
    scapy picks the ethertype from the layer that follows."""
    return Ether(dst=t.dut_mac, src=t.peer_mac, **kw)


def ip(t, **kw):
    return IP(src=t.peer_ip, dst=kw.pop("dst", t.ded_ip), **kw)


def udp_echo(t, payload=b"hostile!" * 4, **kw):
    return UDP(sport=40007, dport=ECHO_PORT, **kw) / Raw(payload)


def with_wrong_checksum(pkt, layer):
    """pkt with layer's checksum changed to a wrong nonzero value."""
    good = pkt.__class__(bytes(pkt))[layer].chksum
    bad = pkt.copy()
    bad[layer].chksum = (good + 0x1111) & 0xffff or 0x1111
    return bytes(bad)


# name: (frames(topo) -> list of bytes, counters of which one at least must move by COPIES)
CASES = {
    "truncated_inside_ip_header": (
        lambda t: [bytes(eth(t) / ip(t) / udp_echo(t))[:14 + 10]],
        {"xdp.pass_truncated", "xdp.drop_ip_malformed", "u.drop.ip_short"}),
    "truncated_inside_udp_header": (
        lambda t: [bytes(eth(t) / ip(t) / udp_echo(t))[:14 + 24]],
        {"xdp.drop_ip_malformed", "xdp.drop_l4_truncated", "u.drop.ip_len", "u.drop.ip_short",
         "u.drop.udp_short"}),
    "udp_header_cut_with_consistent_ip_length": (
        lambda t: [bytes(eth(t) / ip(t, proto=17, len=24) / Raw(b"\x9c\x47\x00\x07"))],
        {"xdp.drop_l4_truncated", "u.drop.udp_short"}),
    "truncated_arp_request": (
        lambda t: [bytes(eth(t) / ARP(op=1, hwsrc=t.peer_mac, psrc=t.peer_ip,
                                      pdst=t.ded_ip))[:14 + 20]],
        {"xdp.pass_truncated", "xdp.drop_arp_malformed", "u.drop.arp_malformed"}),
    "bad_ip_checksum_icmp_echo": (
        lambda t: [bytes(eth(t, type=0x0800)) +
                   with_wrong_checksum(ip(t) / ICMP(id=7, seq=1) / Raw(b"x" * 32), IP)],
        {"xdp.drop_ip_csum", "u.drop.ip_csum"}),
    "bad_ip_checksum_udp": (
        lambda t: [bytes(eth(t, type=0x0800)) + with_wrong_checksum(ip(t) / udp_echo(t), IP)],
        {"xdp.drop_ip_csum", "u.drop.ip_csum"}),
    "ihl_below_5": (
        lambda t: [bytes(eth(t) / ip(t, ihl=4) / udp_echo(t))],
        {"xdp.drop_ip_malformed", "u.drop.ip_ihl"}),
    "ihl_past_the_packet": (
        lambda t: [bytes(eth(t) / ip(t, ihl=15) / udp_echo(t, b""))],
        {"xdp.drop_ip_malformed", "u.drop.ip_ihl", "u.drop.ip_len"}),
    "ip_version_not_4": (
        lambda t: [bytes(eth(t) / ip(t, version=6) / udp_echo(t))],
        {"xdp.drop_ip_malformed", "u.drop.ip_version"}),
    "ip_total_length_beyond_frame": (
        lambda t: [bytes(eth(t) / ip(t, len=1000) / udp_echo(t))],
        {"xdp.drop_ip_malformed", "u.drop.ip_len"}),
    "ip_total_length_below_header": (
        lambda t: [bytes(eth(t) / ip(t, len=12) / udp_echo(t))],
        {"xdp.drop_ip_malformed", "u.drop.ip_len", "u.drop.ip_ihl"}),
    "udp_length_beyond_ip_payload": (
        lambda t: [bytes(eth(t) / ip(t) / udp_echo(t, len=500))],
        {"xdp.drop_l4_truncated", "u.drop.udp_len"}),
    "udp_length_below_header": (
        lambda t: [bytes(eth(t) / ip(t) / udp_echo(t, len=4))],
        {"xdp.drop_l4_truncated", "u.drop.udp_len", "u.drop.udp_short"}),
    "bad_udp_checksum": (
        lambda t: [bytes(eth(t, type=0x0800)) + with_wrong_checksum(ip(t) / udp_echo(t), UDP)],
        {"u.drop.udp_csum"}),
    "bad_icmp_checksum": (
        lambda t: [bytes(eth(t, type=0x0800)) +
                   with_wrong_checksum(ip(t) / ICMP(id=7, seq=2) / Raw(b"y" * 32), ICMP)],
        {"xdp.drop_icmp_csum", "u.drop.icmp_csum"}),
    "icmp_shorter_than_its_header": (
        lambda t: [bytes(eth(t) / ip(t, proto=1) / Raw(b"\x08\x00\xf7"))],
        {"xdp.drop_icmp_malformed", "u.drop.icmp_short"}),
}

# Counters that must NOT move for any hostile frame: nothing is answered.
ANSWERS = ("xdp.icmp_echo_reply", "u.icmp_echo_reply", "u.udp_tx", "xdp.arp_reply")


@pytest.fixture(scope="module")
def tx(topo):
    s = sn.RawSender(topo)
    yield s
    s.close()


def fragments_of(t, payload, pieces, dst=None, dport=ECHO_PORT):
    """IPv4 fragments of one UDP datagram: pieces = [(offset, length, more)],
    offset and length in bytes of the UDP datagram (header included)."""
    dst = dst or t.ded_ip
    ident = random.randrange(1, 0xffff)
    dgram = bytes(IP(src=t.peer_ip, dst=dst, id=ident) /
                  UDP(sport=40008, dport=dport) / Raw(payload))[20:]
    out = []
    for off, length, more in pieces:
        assert off % 8 == 0
        out.append(bytes(eth(t) / IP(src=t.peer_ip, dst=dst, id=ident, proto=17,
                                     flags="MF" if more else 0, frag=off // 8) /
                         Raw(dgram[off:off + length])))
    return out


@pytest.fixture(scope="module")
def lone_first_fragment(topo, daemon, tx):
    """Sent early in the module: a first fragment whose datagram never
    completes; the last test checks the reassembly timeout counted it."""
    before = daemon.counters()
    tx.send(fragments_of(topo, os.urandom(3000), [(0, 1480, True)]))
    return before, time.monotonic()


def test_incomplete_fragment_is_held_by_the_daemon(topo, sk, lone_first_fragment):
    before, _ = lone_first_fragment
    d = sk.wait_delta(before, lambda d: d["u.ip_frag_rx"] >= 1)
    assert d["u.ip_frag_rx"] >= 1 and d["xdp.to_stack"] >= 1, sn.nonzero(d)


@pytest.mark.parametrize("case", CASES)
def test_hostile_frame_is_counted_and_not_answered(topo, sk, tx, case):
    build, expected = CASES[case]
    before = sk.counters()
    for _ in range(COPIES):
        tx.send(build(topo))
    d = sk.wait_delta(before, lambda d: sum(d[k] for k in expected) >= COPIES)
    assert sum(d[k] for k in expected) >= COPIES, \
        f"none of {sorted(expected)} moved by {COPIES}; moved: {sn.nonzero(d)}"
    assert not any(d[k] for k in ANSWERS), f"a hostile frame was answered: {sn.nonzero(d)}"


def test_overlapping_fragments_discard_the_datagram(topo, sk, tx):
    before = sk.counters()
    tx.send(fragments_of(topo, os.urandom(1500), [(0, 1000, True), (504, 1008 - 504, False)]))
    d = sk.wait_delta(before, lambda d: d["u.drop.ip_frag_overlap"] >= 1)
    assert d["u.drop.ip_frag_overlap"] >= 1, sn.nonzero(d)
    assert d["u.udp_tx"] == 0 and d["u.ip_reasm_ok"] == 0, sn.nonzero(d)


def test_later_fragment_alone_to_shared_address_goes_to_kernel(topo, sk, tx):
    """No first fragment seen: XDP cannot know the owner and passes it."""
    before = sk.counters()
    tx.send(fragments_of(topo, os.urandom(3000), [(1480, 1480, True)], dst=topo.dut_ip))
    d = sk.wait_delta(before, lambda d: d["xdp.pass_frag_unknown"] >= 1)
    assert d["xdp.pass_frag_unknown"] >= 1 and d["xdp.to_stack"] == 0, sn.nonzero(d)


def test_malformed_frame_for_another_address_goes_to_kernel_untouched(topo, sk, tx):
    before = sk.counters()
    frame = bytes(eth(topo, type=0x0800)) + \
        with_wrong_checksum(ip(topo, dst=topo.other_ip) / udp_echo(topo), IP)
    tx.send([frame] * COPIES)
    d = sk.wait_delta(before, lambda d: d["xdp.to_kernel"] >= COPIES)
    assert d["xdp.to_kernel"] >= COPIES, sn.nonzero(d)
    assert not any(v for k, v in d.items() if k.startswith("xdp.drop_")), sn.nonzero(d)


def test_skiffd_still_answers_ping_and_udp_echo(topo, sk):
    assert sn.ping(topo, topo.ded_ip, count=3) == 3
    payload = os.urandom(1000)
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
    assert sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload) == payload


def test_incomplete_fragment_times_out(topo, sk, lone_first_fragment):
    """RFC 791 / Linux ipfrag_time: the lone first fragment is dropped when
    reassembly times out (--frag-timeout; tests/unit/test_reasm.c checks the
    default 30 s and the configured value on a simulated clock)."""
    before, sent = lone_first_fragment
    deadline = sent + FRAG_TIMEOUT + 30
    d = sk.wait_delta(before, lambda d: d["u.drop.ip_frag_timeout"] >= 1,
                      timeout=max(0.5, deadline - time.monotonic()))
    assert d["u.drop.ip_frag_timeout"] >= 1, sn.nonzero(d)
