# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiffd's life cycle on an interface: it attaches and pins, refuses a second
instance and bad command lines with status 2 and one clear line, and on
SIGTERM exits 0 leaving the interface exactly as it found it (no XDP program,
no pins, no control socket, the kernel still answering)."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")


def test_sigterm_detaches_xdp_and_removes_pins(topo):
    assert topo.dut_xdp() is None
    d = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        assert topo.dut_xdp(), "skiffd runs but no XDP program is attached to the dut veth"
        assert d.pin_dir.is_dir()
        payload = os.urandom(300)
        assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
    finally:
        rc = d.stop()
    assert rc == 0, d.output()
    assert topo.dut_xdp() is None, f"XDP program left on {topo.dut_if}: {topo.dut_xdp()}"
    assert not d.pin_dir.exists(), f"pins left: {list(d.pin_dir.iterdir())}"
    assert d.ctl_socket not in sn.unix_sockets(topo.dut_ns)
    assert not os.path.exists(d.ctl_socket), "the control socket file was left"
    # The interface behaves as before: the kernel answers, the dedicated address is gone.
    assert sn.ping(topo, topo.dut_ip, count=2) == 2
    assert sn.ping(topo, topo.ded_ip, count=1, wait=1) == 0


def test_sigint_also_exits_cleanly(topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    d.proc.send_signal(sn.signal.SIGINT)
    assert d.wait() == 0, d.output()
    assert topo.dut_xdp() is None and not d.pin_dir.exists()


def test_sighup_stops_cleanly_instead_of_leaving_xdp_behind(topo):
    """SIGHUP once killed skiffd (exit 129) with XDP still attached and the
    pins left: now it is a clean stop like SIGTERM."""
    d = sn.Skiffd(topo, standard_args(topo)).start()
    sock = d.ctl_socket
    d.proc.send_signal(sn.signal.SIGHUP)
    assert d.wait() == 0, d.output()
    assert "Hangup, shutting down" in d.output(), d.output()
    assert topo.dut_xdp() is None, f"XDP program left on {topo.dut_if}: {topo.dut_xdp()}"
    assert not d.pin_dir.exists(), f"pins left: {list(d.pin_dir.iterdir())}"
    assert not os.path.exists(sock)
    assert sn.ping(topo, topo.ded_ip, count=1, wait=1) == 0


def test_xdp_loader_status_lists_skiff(topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        out = topo.dut(["xdp-loader", "status", topo.dut_if], check=False, timeout=20)
        assert topo.dut_if in out.stdout and "No XDP program" not in out.stdout, \
            out.stdout + out.stderr
    finally:
        assert d.stop() == 0, d.output()


def test_second_instance_on_same_interface_is_refused(topo):
    first = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        rc, out = sn.skiffd_run_to_exit(topo, standard_args(topo))
        assert rc == 2, f"second skiffd exited {rc}:\n{out}"
        assert out.strip() and "Traceback" not in out and "AddressSanitizer" not in out, out
        assert topo.dut_if in out or "already" in out.lower(), f"message unclear: {out}"
        # The first one is unharmed.
        assert first.alive(), first.output()
        payload = os.urandom(100)
        assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload
    finally:
        assert first.stop() == 0, first.output()


BAD_COMMAND_LINES = {
    "garbage_address": (["--addr", "garbage"], "garbage"),
    "address_without_prefix_out_of_range": (["--addr", "10.1.2.3/33"], "33"),
    "unknown_flag": (["--addr", "10.77.9.3/24", "--frobnicate"], "frobnicate"),
    "bad_mode": (["--addr", "10.77.9.3/24", "--mode", "warp"], "warp"),
    "bad_queue_count": (["--addr", "10.77.9.3/24", "--queues", "zero"], "zero"),
}


@pytest.mark.parametrize("case", BAD_COMMAND_LINES)
def test_bad_command_line_exits_2_with_one_clear_line(topo, case):
    args, token = BAD_COMMAND_LINES[case]
    rc, out = sn.skiffd_run_to_exit(topo, args)
    assert rc == 2, f"exit {rc}:\n{out}"
    assert token in out, f"message does not name {token!r}:\n{out}"
    assert len(out.strip().splitlines()) <= 3, f"not a short message:\n{out}"
    assert topo.dut_xdp() is None


def test_unprivileged_run_exits_2(topo):
    pin = topo.new_pin_dir()
    # nobody may not reach the checkout (e.g. under /root, mode 0700; pytest's
    # tmp_path is 0700 too): run a copy from a directory anyone can traverse
    tmp = tempfile.mkdtemp(prefix="skiff-unpriv-", dir="/tmp")
    os.chmod(tmp, 0o755)
    skiffd = os.path.join(tmp, "skiffd")
    shutil.copy(sn.SKIFFD, skiffd)
    try:
        p = sn.ns_run(topo.dut_ns, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                    "--inh-caps=-all", skiffd, "--iface", topo.dut_if,
                                    "--pin-dir", pin, "--addr", f"{topo.ded_ip}/24"],
                      check=False, timeout=15)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = p.stdout + p.stderr
    assert p.returncode == 2 and out.strip(), f"exit {p.returncode}:\n{out}"
    assert len(out.strip().splitlines()) <= 3, out
    assert topo.dut_xdp() is None


def test_idle_daemon_sleeps(topo):
    """Idle skiffd sleeps in poll(): well under a tenth of a CPU over 2 s."""
    d = sn.Skiffd(topo, standard_args(topo)).start()
    try:
        def cpu_ticks():
            with open(f"/proc/{d.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        sn.time.sleep(0.5)
        t0 = cpu_ticks()
        sn.time.sleep(2)
        used = (cpu_ticks() - t0) / os.sysconf("SC_CLK_TCK")
        assert used < 0.2, f"idle skiffd used {used:.2f} s of CPU in 2 s"
    finally:
        assert d.stop() == 0, d.output()


def test_busy_poll_daemon_answers_and_still_sleeps_when_idle(topo):
    """--busy-poll spins only while traffic flows: echo is answered, and
    once it stops the daemon sleeps as without the flag."""
    d = sn.Skiffd(topo, standard_args(topo) + ["--busy-poll", "500", "-v"]).start()
    try:
        def cpu_ticks():
            with open(f"/proc/{d.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        sock = sn.ns_socket(topo.peer_ns)
        try:
            for i in range(50):
                msg = b"busy %d" % i
                assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, msg, sock=sock) == msg
        finally:
            sock.close()
        sn.time.sleep(0.5)
        t0 = cpu_ticks()
        sn.time.sleep(2)
        used = (cpu_ticks() - t0) / os.sysconf("SC_CLK_TCK")
        assert used < 0.2, f"idle skiffd --busy-poll 500 used {used:.2f} s of CPU in 2 s"
        assert "kernel busy polling of the AF_XDP socket" in d.output(), d.output()
    finally:
        assert d.stop() == 0, d.output()


def test_missing_interface_exits_2_naming_it(topo):
    rc, out = sn.skiffd_run_to_exit(topo, ["--addr", "10.77.9.3/24"], iface="nosuchif0")
    assert rc == 2, f"exit {rc}:\n{out}"
    assert "nosuchif0" in out, out


def test_missing_iface_flag_exits_2(topo):
    rc, out = sn.skiffd_run_to_exit(topo, ["--addr", "10.77.9.3/24"], with_iface=False)
    assert rc == 2 and out.strip(), f"exit {rc}:\n{out}"


def test_help_documents_every_flag(topo):
    p = sn.run([sn.SKIFFD, "--help"], check=False)
    text = p.stdout + p.stderr
    assert p.returncode == 0, text
    assert "SIGHUP" in text, "--help does not say what SIGHUP does"
    for flag in ("--iface", "--addr", "--gateway", "--mode", "--queues", "--echo",
                 "--discard", "--pin-dir"):
        assert flag in text, f"--help does not mention {flag}"


def test_port_of_a_kernel_listener_on_a_shared_address_is_refused_unless_taken(topo):
    """A kernel program listening on a port of a shared address would go
    silent once XDP steers that port to skiff: skiffd refuses, naming the
    program, unless --take-port says so."""
    port = 8090
    socat = subprocess.Popen(sn.nsenter(topo.dut_ns, [
        "socat", f"TCP4-LISTEN:{port},bind={topo.dut_ip},reuseaddr,fork", "EXEC:cat"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            out = topo.dut(["ss", "-Htln", f"sport = :{port}"]).stdout
            if out.strip():
                break
            time.sleep(0.05)
        args = ["--addr", f"{topo.dut_ip}/{topo.prefix}", "--echo", port]
        rc, out = sn.skiffd_run_to_exit(topo, args)
        assert rc == 2, f"exit {rc}:\n{out}"
        assert len(out.strip().splitlines()) == 1, out
        assert f"{port}/tcp" in out and "socat" in out and f"(pid {socat.pid})" in out, out
        assert f"--take-port {port}" in out, out
        assert topo.dut_xdp() is None
        d = sn.Skiffd(topo, args + ["--take-port", port]).start()
        try:
            assert "warning: taking" in d.output() and "socat" in d.output(), d.output()
        finally:
            assert d.stop() == 0, d.output()
    finally:
        socat.kill()
        socat.wait()
