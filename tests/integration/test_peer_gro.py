# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The benchmarks' peer (scripts/bench.sh, E2E_PEER_RX=gro): the peer veth
runs NAPI because GRO is on, with no XDP program on it, and holds a
permanent ARP entry for skiff's dedicated address (docs/veth.md, "XDP_TX
needs NAPI on the peer"); the dut veth has TSO off, as in the bench.
skiffd's AF_XDP transmit must reach such a peer in both directions of a
bulk transfer, byte for byte, and skiffd's frames must all come back after
each test."""

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT
from tcpnet import frames_back, http_dir, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(peer_xdp=False)
    try:
        t.peer(["ethtool", "-K", t.peer_if, "gro", "on"])
        # as in the bench: veth takes an skb into the peer's NAPI ring (and
        # GRO) only if the sending end has no TSO; else it goes to netif_rx
        t.dut(["ethtool", "-K", t.dut_if, "tx", "off", "tso", "off", "gso", "off"])
        t.peer(["ip", "neigh", "replace", t.ded_ip, "lladdr", t.dut_mac, "dev", t.peer_if,
                "nud", "permanent"])
    except BaseException:
        t.close()
        raise
    yield t
    t.close()


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, http_dir):
    yield from tn.http_daemon(topo, http_dir)


def peer_rx_frames(topo):
    """Frames the peer veth's NAPI took from its ring (ethtool -S)."""
    out = topo.peer(["ethtool", "-S", topo.peer_if]).stdout
    return sum(int(ln.split(":")[1]) for ln in out.splitlines()
               if ln.strip().startswith("rx_queue_") and ln.strip().split(":")[0].endswith("_xdp_packets"))


def test_peer_runs_napi_by_gro_without_an_xdp_program(topo):
    assert not sn.link_info(topo.peer_ns, topo.peer_if).get("xdp"), "an XDP program on the peer"
    out = topo.peer(["ethtool", "-k", topo.peer_if]).stdout
    assert "generic-receive-offload: on" in out, out


def test_curl_downloads_100mib_through_the_peers_gro(topo, sk, http_dir):
    rx0 = peer_rx_frames(topo)
    before = sk.counters()
    code, size, secs, sha, err = tn.curl_get(topo, f"http://{topo.ded_ip}:{tn.HTTP_PORT}/big.bin")
    d = sn.delta(sk.counters(), before)
    assert code == 200 and size == tn.BIG, f"curl: {code} {size} {err}; {sn.nonzero(d, 'u.')}"
    assert sha == http_dir.sha["big.bin"], "body differs from the file"
    # the copy-mode skbs went through the peer's NAPI ring (GRO), not netif_rx
    rx = peer_rx_frames(topo) - rx0
    assert rx >= tn.BIG // 1500, f"peer NAPI took {rx} frames; {sn.nonzero(d, 'u.')}"
    print(f"curl 100 MiB from skiff, GRO peer: {secs:.2f} s, {tn.BIG * 8 / secs / 1e9:.2f} Gbit/s")


def test_echo_32mib_both_ways_through_the_peers_gro(topo, sk):
    size = 32 << 20
    _, sent, n, back = tn.echo_roundtrip(topo, topo.ded_ip, ECHO_PORT, size)
    assert n == size and back == sent, f"echoed {n} of {size} bytes"
