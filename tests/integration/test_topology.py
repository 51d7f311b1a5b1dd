# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The test machinery itself, with kernel-only traffic (no skiffd needed):
namespaces and veth come up with the peer configured as a wire, the kernels
of both sides talk, and everything is removed afterwards."""

import os
import socket
from pathlib import Path

import pytest

import skiffnet as sn
import tcpnet as tn


def test_names_are_unique_per_process_and_fit_ifnamsiz(topo):
    assert str(os.getpid()) in topo.peer_ns and str(os.getpid()) in topo.dut_ns
    assert len(topo.peer_if) <= 15 and len(topo.dut_if) <= 15
    assert topo.peer_ns != topo.dut_ns and topo.peer_if != topo.dut_if


def test_kernels_ping_each_other(topo):
    assert sn.ping(topo, topo.dut_ip, count=3) == 3
    assert sn.ping(topo, topo.peer_ip, count=3, ns=topo.dut_ns) == 3


def test_peer_veth_sends_full_checksums_and_no_segments(topo):
    out = topo.peer(["ethtool", "-k", topo.peer_if]).stdout
    for feature in ("tx-checksumming", "tcp-segmentation-offload", "generic-segmentation-offload"):
        line = next(ln for ln in out.splitlines() if ln.startswith(feature + ":"))
        assert line.split(":")[1].split()[0] == "off", line


def test_peer_veth_runs_xdp_pass(topo):
    if not sn.XDP_PASS_OBJ.exists():
        pytest.skip(f"{sn.XDP_PASS_OBJ} not built (run make)")
    xdp = sn.link_info(topo.peer_ns, topo.peer_if).get("xdp")
    assert xdp and xdp["mode"] == 1, f"no native XDP program on the peer veth: {xdp}"


def test_sockets_are_created_in_the_namespace(topo):
    srv = sn.ns_socket(topo.dut_ns)
    srv.bind((topo.dut_ip, 5001))
    srv.settimeout(2)
    cli = sn.ns_socket(topo.peer_ns)
    cli.sendto(b"hello", (topo.dut_ip, 5001))
    data, src = srv.recvfrom(100)
    assert data == b"hello" and src[0] == topo.peer_ip
    srv.close()
    cli.close()


def test_kernel_udp_fragmented_datagram_crosses_the_veth(topo):
    srv = sn.ns_socket(topo.dut_ns)
    srv.bind((topo.dut_ip, 5002))
    srv.settimeout(2)
    payload = os.urandom(8000)
    cli = sn.ns_socket(topo.peer_ns)
    cli.sendto(payload, (topo.dut_ip, 5002))
    assert srv.recvfrom(65535)[0] == payload
    srv.close()
    cli.close()


def test_kernel_tcp_service_echoes(topo):
    srv = sn.TcpEchoServer(topo.dut_ns, topo.dut_ip, 8081)
    try:
        _, sent, n, back = tn.echo_roundtrip(topo, topo.dut_ip, 8081, 100000, timeout=5)
        assert n == 100000 and back == sent
    finally:
        srv.close()


def test_raw_frames_reach_the_dut(topo):
    """A hand-made frame sent from the peer arrives on the dut veth."""
    with sn.in_netns(topo.dut_ns):
        sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
        sniff.bind((topo.dut_if, 0))
    sniff.settimeout(2)
    frame = (bytes.fromhex(topo.dut_mac.replace(":", "")) +
             bytes.fromhex(topo.peer_mac.replace(":", "")) + b"\x88\xb5" + b"skiff" * 10)
    tx = sn.RawSender(topo)
    tx.send(frame)
    assert sniff.recv(2000) == frame
    tx.close()
    sniff.close()


def test_close_removes_namespaces_and_veth():
    t = sn.Topology(queues=2)
    assert Path(f"/run/netns/{t.peer_ns}").exists()
    assert sn.link_info(t.dut_ns, t.dut_if)["num_rx_queues"] == 2
    t.close()
    assert not Path(f"/run/netns/{t.peer_ns}").exists()
    assert not Path(f"/run/netns/{t.dut_ns}").exists()
    assert t not in sn._topologies
