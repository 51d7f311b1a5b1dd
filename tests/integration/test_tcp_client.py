# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiff as the TCP client (active open): `skiffd --fetch URL` from a kernel
`python3 -m http.server` in the peer namespace and `skiffd --send
HOST:PORT:BYTES` to a kernel sink, each with --exit-after-client; the line
"fetch: <bytes> bytes in <s> s, sha256 <hex>" is checked against the file /
what the kernel received, on the direct veth (100 MiB) and through the
impaired relay (20 MiB, see test_tcp_impaired.py)."""

import time

import pytest

import skiffnet as sn
import tcpnet as tn
from tcpnet import need_tcp  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("need_tcp")

KPORT = 8000


@pytest.fixture(scope="module")
def http_dir():
    d = tn.HttpDir()
    yield d
    d.remove()


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
