# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""TCP over IPv6 through the impaired relay (build/tests/tools/impair, the
same loss, reordering, duplication and delay as test_tcp_impaired; the
relay's corruption touches IPv4 payloads only, so none here): curl -6 of
4 MiB from skiffd's HTTP server and 4 MiB through its echo, both checked
by SHA-256, the relay's counters showing the impairments happened."""

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT, standard_args
from tcpnet import need_tcp  # noqa: F401  (fixture)
from test_ipv6 import v6, v6net  # noqa: F401  (v6net: fixture)

pytestmark = [pytest.mark.usefixtures("need_tcp", "v6net"),
              pytest.mark.skipif(not sn.IMPAIR.exists(), reason=f"{sn.IMPAIR} not built")]

SIZE = 4 << 20
OURS = 5


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(impaired=tn.FULL_IMPAIRMENT)
    yield t
    t.close()


@pytest.fixture(scope="module")
def http_dir():
    d = tn.HttpDir(big=SIZE, mid=1 << 20)
    yield d
    d.remove()


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, v6net, http_dir):  # noqa: F811
    d = sn.Skiffd(topo, [*standard_args(topo), "--addr", f"{v6(topo, OURS)}/64",
                         "--http", f"{tn.HTTP_PORT}:{http_dir.path}"]).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def test_curl_6_through_the_impaired_link(topo, daemon, http_dir):
    before = daemon.counters()
    code, size, secs, sha, err = tn.curl_get(
        topo, f"http://[{v6(topo, OURS)}]/big.bin", timeout=180, extra=("-6", "-g"))
    assert code == 200 and size == SIZE and sha == http_dir.sha["big.bin"], \
        f"curl {code} {size} {err}\n{tn.impaired_report(topo, daemon, before)}"
    d = sn.delta(daemon.counters(), before)
    assert d["u.tcp_retrans_segs"] + d["u.tcp_ooo_segs"] >= 1, tn.impaired_report(topo, daemon, before)
    print(f"impaired IPv6 download {SIZE >> 20} MiB: {secs:.1f} s")


def test_echo_over_ipv6_through_the_impaired_link(topo, daemon):
    before = daemon.counters()
    secs, sent, n, back = tn.echo_roundtrip(topo, v6(topo, OURS), ECHO_PORT, SIZE, timeout=180)
    assert n == SIZE and back == sent, f"echo {n} bytes\n{tn.impaired_report(topo, daemon, before)}"
    st = topo.impair_stats()
    assert all(st.get(k, 0) > 0 for k in ("ab.lost", "ba.lost", "ab.reordered", "ba.reordered")), st
    print(f"impaired IPv6 echo {SIZE >> 20} MiB: {secs:.1f} s")
