# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What skiffd keeps of root once it is up (user/cmd/privs.h,
docs/security.md "Privileges"): every thread runs with CAP_BPF, CAP_NET_RAW
and CAP_IPC_LOCK effective, CAP_NET_ADMIN and CAP_SYS_ADMIN only permitted
(for the teardown), nothing else even in the bounding set, and NoNewPrivs;
and it still serves, updates its maps at run time and cleans up on exit."""

import os

import pytest

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")

CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_BPF = 12, 13, 14, 21, 39
RUN = (1 << CAP_BPF) | (1 << CAP_NET_RAW) | (1 << CAP_IPC_LOCK)
KEPT = RUN | (1 << CAP_NET_ADMIN) | (1 << CAP_SYS_ADMIN)


def thread_status(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            fields = dict(ln.split(":\t", 1) for ln in f.read().splitlines() if ":\t" in ln)
        out[fields["Name"].strip()] = fields
    return out


def test_every_thread_keeps_only_the_run_time_capabilities_and_no_new_privs(topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        threads = thread_status(d.proc.pid)
        assert any(name.startswith("skiffd-q") for name in threads), threads.keys()
        for name, st in threads.items():
            got = {k: int(st[k], 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh")}
            assert got == {"CapEff": RUN, "CapPrm": KEPT, "CapBnd": KEPT, "CapAmb": 0,
                           "CapInh": 0}, f"thread {name}: {got}"
            assert st["NoNewPrivs"].strip() == "1", f"thread {name}"
        assert int(threads["skiffd"]["Uid"].split()[1]) == 0  # euid stays root (privs.h)
        # it still serves, learns neighbours at run time, and answers skiffctl
        payload = os.urandom(200)
        assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
        assert topo.peer_ip in d.neigh()
        assert d.ctl_json("status")["pid"] == d.proc.pid
    finally:
        rc = d.stop()
    assert rc == 0, d.output()
    # the teardown had what it needs: XDP gone, pins gone
    assert topo.dut_xdp() is None, topo.dut_xdp()
    assert not d.pin_dir.exists()
