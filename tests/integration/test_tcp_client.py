# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiff as the TCP client (active open): `skiffd --fetch URL` from a kernel
`python3 -m http.server` in the peer namespace and `skiffd --send
HOST:PORT:BYTES` to a kernel sink, each with --exit-after-client; the line
"fetch: <bytes> bytes in <s> s, sha256 <hex>" is checked against the file /
what the kernel received, on the direct veth (100 MiB) and through the
impaired relay (20 MiB, see test_tcp_impaired.py); and with --queues 2 on a
2-queue veth, where the replies of a connection may land on the other
worker's queue and must be handed to the client's worker (core/handoff.h)."""

import re
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from tcpnet import http_dir, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp")

KPORT = 8000


@pytest.fixture(scope="module")
def direct(http_dir):
    t = sn.Topology()
    srv = tn.KernelHttpServer(t.peer_ns, t.peer_ip, KPORT, http_dir.path)
    yield t
    srv.close()
    t.close()


@pytest.fixture(scope="module")
def impaired(http_dir):
    if not sn.IMPAIR.exists():
        pytest.skip(f"{sn.IMPAIR} not built")
    t = sn.Topology(impaired=tn.FULL_IMPAIRMENT)
    srv = tn.KernelHttpServer(t.peer_ns, t.peer_ip, KPORT, http_dir.path)
    yield t
    srv.close()
    t.close()


def fetch(topo, name, timeout=120):
    return tn.skiffd_client(topo, ["--fetch", f"http://{topo.peer_ip}:{KPORT}/{name}"],
                            timeout=timeout)


def test_fetch_100mib_from_kernel_http_server(direct, http_dir):
    rc, out, res = fetch(direct, "big.bin")
    assert rc == 0 and res, f"skiffd --fetch exited {rc}:\n{out[-3000:]}"
    n, secs, sha = res
    assert n == tn.BIG and sha == http_dir.sha["big.bin"], out[-2000:]
    print(f"skiff fetched 100 MiB from the kernel in {secs:.2f} s")


def test_fetch_small_file_and_missing_file(direct, http_dir):
    rc, out, res = fetch(direct, "small.txt")
    assert rc == 0 and res and res[0] == http_dir.size["small.txt"] \
        and res[2] == http_dir.sha["small.txt"], out[-2000:]
    rc, out, _ = fetch(direct, "no-such-file")
    assert rc != 0, f"a 404 reported as success:\n{out[-2000:]}"


def test_send_100mib_to_kernel_sink(direct):
    sink = tn.KernelSink(direct.peer_ns, direct.peer_ip, 9000)
    try:
        rc, out, res = tn.skiffd_client(direct, ["--send", f"{direct.peer_ip}:9000:{tn.BIG}"])
        assert rc == 0 and res, f"skiffd --send exited {rc}:\n{out[-3000:]}"
        for _ in range(50):
            if sink.results:
                break
            time.sleep(0.1)
        assert sink.results == [(tn.BIG, tn.pattern_sha(tn.BIG))], \
            f"kernel got {sink.results}, skiff says {res}"
        assert res[2] == tn.pattern_sha(tn.BIG), res
    finally:
        sink.close()


def test_fetch_from_closed_kernel_port_fails_cleanly(direct):
    rc, out, res = tn.skiffd_client(direct, ["--fetch", f"http://{direct.peer_ip}:8999/x"],
                                    timeout=30)
    assert rc != 0 and res is None, out[-2000:]
    assert "refused" in out.lower(), out[-2000:]


def test_fetch_through_impaired_link(impaired, http_dir):
    rc, out, res = fetch(impaired, "mid.bin", timeout=180)
    st = impaired.impair_stats()
    assert rc == 0 and res, f"skiffd --fetch exited {rc}:\n{out[-3000:]}\nimpair: {st}"
    assert res[0] == tn.IMPAIRED_SIZE and res[2] == http_dir.sha["mid.bin"], out[-2000:]
    assert st["ab.lost"] > 0 and st["ba.lost"] > 0, st
    print(f"skiff fetched {tn.IMPAIRED_SIZE >> 20} MiB through the impairment in {res[1]:.1f} s")


def test_send_through_impaired_link(impaired):
    sink = tn.KernelSink(impaired.peer_ns, impaired.peer_ip, 9001)
    try:
        rc, out, res = tn.skiffd_client(
            impaired, ["--send", f"{impaired.peer_ip}:9001:{tn.IMPAIRED_SIZE}"], timeout=180)
        assert rc == 0 and res, f"skiffd --send exited {rc}:\n{out[-3000:]}"
        for _ in range(50):
            if sink.results:
                break
            time.sleep(0.1)
        assert sink.results == [(tn.IMPAIRED_SIZE, tn.pattern_sha(tn.IMPAIRED_SIZE))], \
            f"kernel got {sink.results}, skiff says {res}"
    finally:
        sink.close()


# ---- two queues: replies on the other worker's queue (core/handoff.h) ----
#
# With --queues 2 the client runs on worker 0 and allocates only even
# ephemeral ports; the kernel picks the TX queue of each connection from its
# random per-socket hash, and veth delivers on the same-numbered RX queue, so
# about half of the connections get their replies on worker 1's queue.  That
# worker hands the frames to worker 0 instead of answering with a RST.

MQ_RUNS = 5  # runs at least; more (up to MQ_MAX_RUNS) until one used the other queue
MQ_MAX_RUNS = 16  # each run has a 1/2 chance: all 16 on worker 0's queue is 2^-16


@pytest.fixture(scope="module")
def two_queues(http_dir):
    t = sn.Topology(queues=2)
    srv = tn.KernelHttpServer(t.peer_ns, t.peer_ip, KPORT, http_dir.path)
    yield t
    srv.close()
    t.close()


CLIENT_LINE_RE = re.compile(r"^(?:fetch|send): .*$", re.M)


def client_on_two_queues(topo, args, timeout=120):
    """skiffd --queues 2 running a client: wait for its result line, read the
    counters while it still runs, stop it.  Returns (line, counters, output)."""
    d = sn.Skiffd(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}", "--queues", "2", *args])
    d.start()
    try:
        deadline = time.monotonic() + timeout
        line = None
        while time.monotonic() < deadline and d.alive():
            m = CLIENT_LINE_RE.search(d.output())
            if m:
                line = m.group(0)
                break
            time.sleep(0.1)
        counters = d.counters()
        rc = d.stop()
        assert rc == 0, f"skiffd exited {rc}:\n{d.output()[-3000:]}"
        return line, counters, d.output()
    finally:
        d.kill()


def handoff_summary(c):
    return {k: c.get(k, 0) for k in ("u0.rx_packets", "u1.rx_packets", "u1.handoff_out",
                                     "u0.handoff_in", "u0.handoff_out", "u1.handoff_in",
                                     "u.drop.handoff_drop", "u.tcp_rst_noconn")}


def test_fetches_on_two_queues_complete_whichever_queue_the_replies_use(two_queues, http_dir):
    handed = runs = 0
    for i in range(MQ_MAX_RUNS):
        if i >= MQ_RUNS and handed:
            break
        runs += 1
        line, c, out = client_on_two_queues(
            two_queues, ["--fetch", f"http://{two_queues.peer_ip}:{KPORT}/mid.bin"])
        m = tn.FETCH_RE.search(line or "")
        s = handoff_summary(c)
        assert m, f"run {i}: no result: {line}\n{s}\n{out[-3000:]}"
        assert int(m.group(1)) == tn.IMPAIRED_SIZE and m.group(3) == http_dir.sha["mid.bin"], \
            f"run {i}: {line} {s}"
        assert s["u.tcp_rst_noconn"] == 0, f"run {i}: a worker reset the connection: {s}"
        # the client is worker 0's: worker 0 never hands anything over
        assert s["u0.handoff_out"] == 0 and s["u1.handoff_in"] == 0, s
        assert s["u1.handoff_out"] == s["u0.handoff_in"], s
        handed += s["u0.handoff_in"] > 0
        print(f"fetch {i}: {s}")
    print(f"{handed} of {runs} fetches had their replies on the other queue")
    assert handed, "no fetch had its replies on worker 1's queue: the handoff was not exercised"


def test_sends_on_two_queues_complete_whichever_queue_the_acks_use(two_queues):
    sink = tn.KernelSink(two_queues.peer_ns, two_queues.peer_ip, 9002)
    size = 8 << 20
    handed = runs = 0
    try:
        for i in range(MQ_MAX_RUNS):
            if i >= MQ_RUNS and handed:
                break
            runs += 1
            n_before = len(sink.results)
            line, c, out = client_on_two_queues(
                two_queues, ["--send", f"{two_queues.peer_ip}:9002:{size}"])
            s = handoff_summary(c)
            m = tn.FETCH_RE.search(line or "")
            assert m and int(m.group(1)) == size and m.group(3) == tn.pattern_sha(size), \
                f"run {i}: {line}\n{s}\n{out[-3000:]}"
            for _ in range(50):
                if len(sink.results) > n_before:
                    break
                time.sleep(0.1)
            assert sink.results[n_before:] == [(size, tn.pattern_sha(size))], \
                f"run {i}: kernel got {sink.results[n_before:]}, {s}"
            assert s["u.tcp_rst_noconn"] == 0, f"run {i}: a worker reset the connection: {s}"
            assert s["u1.handoff_out"] == s["u0.handoff_in"], s
            handed += s["u0.handoff_in"] > 0
            print(f"send {i}: {s}")
    finally:
        sink.close()
    print(f"{handed} of {runs} sends had their ACKs on the other queue")
    assert handed, "no send had its ACKs on worker 1's queue: the handoff was not exercised"
