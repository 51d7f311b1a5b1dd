# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""UDP through skiff and the hybrid split with the kernel.

The daemon serves RFC 862 echo on port 7 of a dedicated address and of the
kernel's own (shared) address; every other port of the shared address, and
TCP, stay with the kernel of the dut namespace, fragmented datagrams included.
"""

import os
import socket

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import DISCARD_PORT, ECHO_PORT

pytestmark = pytest.mark.usefixtures("need_skiff")


@pytest.mark.parametrize("size", [1, 512, 1472, 8000])
def test_udp_echo_on_dedicated_address_returns_identical_bytes(topo, sk, size):
    payload = os.urandom(size)
    before = sk.counters()
    reply = sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload)
    d = sn.delta(sk.counters(), before)
    assert reply is not None, f"no echo of {size} bytes: {sn.nonzero(d)}"
    assert reply == payload, f"echo of {size} bytes differs (got {len(reply)} bytes)"
    assert d["u.udp_rx"] >= 1 and d["u.udp_tx"] >= 1, sn.nonzero(d)


@pytest.mark.parametrize("size", [1, 1472, 8000])
def test_udp_echo_on_shared_address_is_served_by_skiff(topo, sk, size):
    payload = os.urandom(size)
    before = sk.counters()
    reply = sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload)
    d = sn.delta(sk.counters(), before)
    assert reply == payload, f"echo of {size} bytes on the shared address: " \
                             f"{'none' if reply is None else len(reply)}; {sn.nonzero(d)}"
    assert d["u.udp_rx"] >= 1, sn.nonzero(d)


def test_udp_echo_from_many_sockets_in_a_row(topo, sk):
    for i in range(20):
        payload = os.urandom(64 + i)
        assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload, f"round {i}"


def test_discard_port_swallows_datagrams(topo, sk):
    before = sk.counters()
    assert sn.udp_exchange(topo, topo.ded_ip, DISCARD_PORT, b"x" * 100, timeout=0.5) is None
    d = sn.delta(sk.counters(), before)
    assert d["u.udp_rx"] >= 1 and d["u.udp_no_port"] == 0, sn.nonzero(d)


@pytest.fixture
def kernel_udp(topo):
    """A kernel UDP socket on the shared address, port 5000, in the dut ns."""
    s = sn.ns_socket(topo.dut_ns)
    s.bind((topo.dut_ip, 5000))
    s.settimeout(3)
    yield s
    s.close()


@pytest.mark.parametrize("size", [100, 8000])
def test_unowned_port_on_shared_address_reaches_kernel_socket(topo, sk, kernel_udp, size):
    payload = os.urandom(size)
    before = sk.counters()
    cli = sn.ns_socket(topo.peer_ns)
    cli.sendto(payload, (topo.dut_ip, 5000))
    try:
        data, src = kernel_udp.recvfrom(65535)
    except socket.timeout:
        d = sn.delta(sk.counters(), before)
        pytest.fail(f"kernel socket got nothing ({size} bytes): {sn.nonzero(d)}")
    finally:
        cli.close()
    d = sn.delta(sk.counters(), before)
    assert data == payload and src[0] == topo.peer_ip
    assert d["u.udp_rx"] == 0, sn.nonzero(d)
    assert d["xdp.to_kernel"] >= (1 if size < 1472 else 6), sn.nonzero(d)


def test_kernel_replies_from_shared_address_reach_peer(topo, sk, kernel_udp):
    """A kernel UDP service on the shared address answers through the veth
    while skiffd owns port 7 of the same address."""
    cli = sn.ns_socket(topo.peer_ns)
    cli.settimeout(3)
    cli.sendto(b"ping", (topo.dut_ip, 5000))
    data, src = kernel_udp.recvfrom(100)
    kernel_udp.sendto(data + b"-pong", src)
    assert cli.recvfrom(100)[0] == b"ping-pong"
    cli.close()


def test_closed_port_on_dedicated_address_is_refused(topo, sk):
    before = sk.counters()
    s = sn.ns_socket(topo.peer_ns)
    s.settimeout(3)
    s.connect((topo.ded_ip, 4444))
    s.send(b"anyone?")
    with pytest.raises(ConnectionRefusedError):
        s.recv(100)
    s.close()
    d = sn.delta(sk.counters(), before)
    assert d["u.icmp_unreach_sent"] >= 1 and d["u.drop.udp_no_port"] >= 1, sn.nonzero(d)


def test_kernel_tcp_listener_on_shared_address_works(topo, sk):
    srv = sn.TcpEchoServer(topo.dut_ns, topo.dut_ip, 8080)
    before = sk.counters()
    try:
        _, sent, n, back = tn.echo_roundtrip(topo, topo.dut_ip, 8080, 200000, timeout=5)
        assert n == 200000 and back == sent
    finally:
        srv.close()
    d = sn.delta(sk.counters(), before)
    assert d["xdp.to_stack"] == 0, sn.nonzero(d)
