# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiffd --cc bbr: a download through the impaired relay of issue 3 (3%
loss, 25% reordering, 1% duplication, 1% corruption, 10 ms each way) with
BBR (user/transport/tcp_bbr.c).  The body is checked by SHA-256, and
`skiffctl sockets` shows the connection's congestion control while it runs:
bbr, with its state, bandwidth and pacing rate.  Kept short (4 MiB): the
speed is measured by `BENCH_ONLY=lossy make bench`, not here."""

import threading
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.usefixtures("need_tcp", "frames_back"),
              pytest.mark.skipif(not sn.IMPAIR.exists(), reason=f"{sn.IMPAIR} not built")]

SIZE = 4 << 20


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(impaired=tn.FULL_IMPAIRMENT)
    yield t
    t.close()


@pytest.fixture(scope="module")
def http_dir():
    d = tn.HttpDir(big=1 << 20, mid=SIZE)
    yield d
    d.remove()


@pytest.fixture(scope="module")
def daemon(need_tcp, topo, http_dir):
    d = sn.Skiffd(topo, [*standard_args(topo), "--http", f"{tn.HTTP_PORT}:{http_dir.path}",
                         "--cc", "bbr"])
    d.start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def test_bbr_download_through_impaired_link_is_intact_and_uses_bbr(topo, sk, http_dir):
    result = {}

    def fetch():
        result["r"] = tn.curl_get(topo, f"http://{topo.ded_ip}/mid.bin", timeout=180)

    t = threading.Thread(target=fetch)
    t.start()
    seen = []
    while t.is_alive():
        for s in sk.ctl_json("sockets")["sockets"]:
            if s.get("state") == "ESTAB" and s.get("cc") == "bbr" and s.get("cc_state"):
                seen.append(s["cc_state"])
        time.sleep(0.05)
    t.join()
    code, size, secs, sha, err = result["r"]
    assert code == 200 and size == SIZE and sha == http_dir.sha["mid.bin"], \
        f"curl {code} {size} {err}\nimpair: {topo.impair_stats()}"
    assert seen, "no ESTAB connection with cc bbr in skiffctl sockets during the download"
    assert " bw " in seen[-1] and "pacing" in seen[-1], seen[-1]
    print(f"BBR through the impaired relay: {SIZE >> 20} MiB in {secs:.1f} s; last state "
          f"{seen[-1]}")
