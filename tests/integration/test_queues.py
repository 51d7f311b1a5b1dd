# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Two RX queues: veth pairs with 2 queues on both ends, skiffd with one
AF_XDP socket and worker per queue.  Flows from many source ports hash over
both of the peer's TX queues, which veth maps to the same-numbered RX queue
of the dut, so both workers receive and every echo is answered."""

import os

import pytest

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(queues=2)
    yield t
    t.close()


@pytest.fixture(scope="module", params=["2", "all"])
def daemon(request, need_skiff, topo):
    d = sn.Skiffd(topo, standard_args(topo) + ["--queues", request.param]).start()
    yield d
    rc = d.stop()
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def test_both_queues_deliver_and_every_echo_is_answered(topo, sk):
    before = sk.counters()
    assert "u1.rx_packets" in before, f"ustats has no entry for queue 1: {sorted(before)[:5]}"
    socks = [sn.ns_socket(topo.peer_ns) for _ in range(64)]
    missing = []
    try:
        for i, s in enumerate(socks):
            payload = os.urandom(100 + i)
            for dst in (topo.ded_ip, topo.dut_ip):
                if sn.udp_exchange(topo, dst, ECHO_PORT, payload, sock=s) != payload:
                    missing.append((i, dst))
    finally:
        for s in socks:
            s.close()
    d = sn.delta(sk.counters(), before)
    per_queue = {q: d[f"u{q}.rx_packets"] for q in (0, 1)}
    assert not missing, f"{len(missing)} of 128 echoes unanswered; per queue {per_queue}"
    assert per_queue[0] > 0 and per_queue[1] > 0, f"a queue received nothing: {per_queue}"
