# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Applications on a two-queue skiffd (docs/apps.md): an application's
listener lives on both workers and its connections on the worker of their
RX queue; connect() spreads over the workers, whose ephemeral ports bring
the replies back to them.  Checked with SHA-256 over many connections,
with per-queue counters showing both workers carried application traffic,
and every frame back afterwards."""

import hashlib
import os
import subprocess
import threading

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)
from test_apps import (ECHO, NC, App, KernelEcho, KernelUdpEcho, echo_roundtrip, run_check,
                       udp_serve_and_ping)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")

PORT = 7300


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(queues=2)
    yield t
    t.close()


@pytest.fixture(scope="module")
def daemon(need_tcp, topo):
    if not ECHO.exists():
        pytest.skip(f"not built: {ECHO} (run make)")
    d = sn.Skiffd(topo, standard_args(topo) + ["--queues", "2"]).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


@pytest.fixture
def cleanup():
    started = []
    yield started
    for a in started:
        a.kill()


def test_an_app_listener_serves_connections_on_both_queues(topo, sk, cleanup):
    a = App(topo, [ECHO, PORT])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    before = sk.counters()
    res = [None] * 16

    def one(i):
        res[i] = echo_roundtrip(topo, topo.ded_ip, PORT, 128 << 10)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    for r in res:
        assert r and r[0] == 128 << 10 and r[1] == r[2], r
    d = sn.delta(sk.counters(), before)
    per_queue = {q: d.get(f"u{q}.tcp_passive_opens", 0) for q in (0, 1)}
    assert per_queue[0] > 0 and per_queue[1] > 0, f"one worker took every connection: {per_queue}"


def test_app_connections_spread_over_both_workers_and_come_back(topo, sk, cleanup):
    ke = KernelEcho(topo)
    try:
        before = sk.counters()
        for i in range(4):
            data = os.urandom(256 << 10)
            a = App(topo, [NC, topo.peer_ip, ke.port], stdin=subprocess.PIPE)
            cleanup.append(a)
            out, err = a.p.communicate(input=data, timeout=60)
            assert a.p.returncode == 0, err
            assert hashlib.sha256(out).hexdigest() == hashlib.sha256(data).hexdigest()
        d = sn.delta(sk.counters(), before)
    finally:
        ke.close()
    opens = {q: d.get(f"u{q}.tcp_active_opens", 0) for q in (0, 1)}
    assert sum(opens.values()) == 4, opens


def test_an_app_udp_port_receives_datagrams_on_both_queues(topo, sk, cleanup):
    """A UDP socket bound to a fixed port lives on both workers (a datagram
    may arrive on either queue); 16 kernel clients' datagrams all get their
    echo, and both workers delivered some."""
    before = sk.counters()
    udp_serve_and_ping(topo, cleanup, PORT + 1, clients=16, per_client=8)
    d = sn.delta(sk.counters(), before)
    per_queue = {q: d.get(f"u{q}.udp_rx", 0) for q in (0, 1)}
    assert per_queue[0] > 0 and per_queue[1] > 0, f"one queue took every datagram: {per_queue}"


def test_app_udp_with_ephemeral_ports_on_two_workers(topo, sk, cleanup):
    """udp_check on two queues: ephemeral ports (one worker each; replies
    on the other queue are handed to it), fragments, ICMP errors."""
    ue = KernelUdpEcho(topo)
    try:
        for _ in range(2):
            run_check(topo, cleanup, [sn.BUILD / "tests" / "apps" / "udp_check", topo.peer_ip,
                                      ue.port, 9])
    finally:
        ue.close()


def test_socket_calls_behave_as_posix_says_on_two_queues(topo, sk, cleanup):
    """api_check on two workers (an unbound listener takes an
    ephemeral port of worker 0's on both; connect() round robin)."""
    ke = KernelEcho(topo)
    try:
        run_check(topo, cleanup, [sn.BUILD / "tests" / "apps" / "api_check", topo.peer_ip,
                                  ke.port, 1, PORT + 2])
    finally:
        ke.close()
