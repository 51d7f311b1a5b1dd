# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""pytest fixtures of the integration suite (see README.md in this directory).

topo    one Topology per test module (namespaces + veth, kernel as peer)
daemon  one skiffd per module on topo's dut veth with the standard set-up:
        a dedicated address (topo.ded_ip), the kernel's own address shared
        (topo.dut_ip), UDP echo on 7 and discard on 9; its exit status on
        SIGTERM is asserted when the module ends
sk      the module's daemon, checked alive before each test

Everything needs root; the skiff tests skip (with the reason) only when
build/skiffd or build/bpf/xdp_pass.bpf.o has not been built.  When a test
fails, the output of every skiffd involved is attached to the report.
"""

import pytest

import skiffnet as sn

ECHO_PORT = 7
DISCARD_PORT = 9


def standard_args(topo):
    return ["--addr", f"{topo.ded_ip}/{topo.prefix}", "--addr", f"{topo.dut_ip}/{topo.prefix}",
            "--echo", ECHO_PORT, "--discard", DISCARD_PORT]


def skiff_missing_reason():
    missing = [str(p.relative_to(sn.ROOT)) if p.is_relative_to(sn.ROOT) else str(p)
               for p in (sn.SKIFFD, sn.SKIFFCTL, sn.XDP_PASS_OBJ) if not p.exists()]
    if missing:
        return "not built: " + ", ".join(missing) + " (run make)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _privileges():
    reason = sn.need_root_reason()
    if reason:
        pytest.skip(reason)
    sn.ensure_bpffs()
    yield
    sn.cleanup_all()


@pytest.fixture(scope="session")
def need_skiff():
    reason = skiff_missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology()
    yield t
    t.close()


@pytest.fixture(scope="module")
def daemon(need_skiff, topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    yield d
    rc = d.stop()
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


@pytest.fixture
def sk(daemon):
    assert daemon.alive(), f"skiffd died (status {daemon.proc.returncode}):\n{daemon.output()}"
    return daemon


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    seen = set()
    daemons = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, sn.Skiffd)]
    for d in daemons + list(sn._daemons):
        if id(d) in seen:
            continue
        seen.add(id(d))
        state = "running" if d.alive() else f"exited {d.proc.returncode if d.proc else '-'}"
        rep.sections.append((f"skiffd {d.iface} ({state}) output", d.output()[-6000:] or "(empty)"))
        if d.alive():
            try:
                moved = {k: v for k, v in sorted(d.counters().items())
                         if v and not k[1:2].isdigit()}
                rep.sections.append((f"skiffd {d.iface} counters (nonzero)",
                                     "\n".join(f"{k} = {v}" for k, v in moved.items())))
            except Exception as e:  # the report must not hide the failure
                rep.sections.append((f"skiffd {d.iface} counters", f"unreadable: {e}"))
