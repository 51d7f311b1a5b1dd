# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Busy polling on both sides of the application channel (docs/apps.md,
"Busy polling"): skiffd --busy-poll and a libskiffapp program with
SKIFF_BUSY_POLL_US spin instead of sleeping while requests flow, so
neither wakes the other with a syscall; data still arrives intact, no
request waits for a wake-up that never comes, and once traffic stops both
sleep again (near 0% CPU).  A bad SKIFF_BUSY_POLL_US or skiff-run -b value
is refused with a message naming it.
"""

import subprocess

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)
from test_apps import (APP_PORT, ECHO, App, assert_idle_app_and_skiffd_sleep,  # noqa: F401
                       cleanup, echo_roundtrip)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")

SKIFF_RUN = sn.BUILD / "bin" / "skiff-run"
SPIN_US = 200


@pytest.fixture(scope="module")
def daemon(need_tcp, topo):
    if not ECHO.exists():
        pytest.skip(f"not built: {ECHO} (run make)")
    d = sn.Skiffd(topo, standard_args(topo) + ["--busy-poll", str(SPIN_US)]).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def start_spinning_echo(topo, cleanup, spin=SPIN_US):
    a = App(topo, [ECHO, APP_PORT], prefix=["env", f"SKIFF_BUSY_POLL_US={spin}"])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    return a


def ping_pong(topo, n, size=64):
    """n requests of size bytes on one connection, one in flight, each
    echoed back whole before the next."""
    c = tn.connect(topo, topo.ded_ip, APP_PORT, timeout=10)
    c.settimeout(10)
    try:
        for i in range(n):
            msg = (b"%08d" % i) * (size // 8)
            c.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = c.recv(len(msg) - len(got))
                assert b, f"closed after {i} round trips"
                got += b
            assert got == msg, f"round trip {i}: {got[:16]!r}"
    finally:
        c.close()


def test_spinning_app_echoes_8mib_and_2000_round_trips(topo, sk, cleanup):
    start_spinning_echo(topo, cleanup)
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, APP_PORT, 8 << 20)
    assert n == 8 << 20 and got == sent
    ping_pong(topo, 2000)


def test_spinning_app_and_skiffd_sleep_when_idle(topo, sk, cleanup):
    """After round trips (both sides spinning), an idle connection: within
    the spin time both go to sleep, as without busy polling."""
    a = start_spinning_echo(topo, cleanup)
    ping_pong(topo, 200)
    assert_idle_app_and_skiffd_sleep(topo, sk, a)


@pytest.mark.parametrize("value", ["abc", "-1", "1000001", "12us"])
def test_a_bad_busy_poll_value_is_refused_naming_it(topo, sk, value):
    p = subprocess.run(sn.nsenter(topo.dut_ns, ["env", f"SKIFF_BUSY_POLL_US={value}",
                                                str(ECHO), str(APP_PORT)]),
                       capture_output=True, timeout=20)
    assert p.returncode != 0
    assert b"SKIFF_BUSY_POLL_US" in p.stderr, p.stderr
    if SKIFF_RUN.exists():
        p = subprocess.run(sn.nsenter(topo.dut_ns, [str(SKIFF_RUN), "-b", value, "--", "true"]),
                           capture_output=True, timeout=20)
        assert p.returncode == 2 and b"--busy-poll" in p.stderr, p.stderr
