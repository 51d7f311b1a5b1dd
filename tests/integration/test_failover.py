# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Fail open: when skiffd dies without cleaning up (SIGKILL), its XDP program
stays attached, but each worker's heartbeat stops, so after --failover-ms the
program passes what it would steer to the dead sockets to the kernel
(pass_daemon_dead): a kernel server on the same port serves new clients,
while ARP and ping of the dedicated address stay answered by XDP.  The next
skiffd takes the interface over."""

import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import skiffnet as sn
from conftest import ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")

KERNEL_TAG = b"kernel:"


class KernelUdpTagger:
    """A kernel UDP server in ns that answers b'kernel:' + the datagram."""

    def __init__(self, ns, addr, port):
        self.sock = sn.ns_socket(ns)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopping:
            try:
                data, src = self.sock.recvfrom(65535)
                self.sock.sendto(KERNEL_TAG + data, src)
            except (socket.timeout, OSError):
                continue

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class KernelTcpTagger(sn.KernelTcpServer):
    """A kernel TCP server that says b'kernel:' and closes."""

    def serve(self, c):
        c.sendall(KERNEL_TAG)


def tcp_first_bytes(topo, dst, port, send=b"x"):
    """Connect from the peer, send, return what arrives first (b'' on error)."""
    with sn.in_netns(topo.peer_ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(2)
        s.connect((dst, port))
        s.sendall(send)
        return s.recv(100)
    except OSError:
        return b""
    finally:
        s.close()


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def test_sigkill_leaves_the_port_to_kernel_servers_and_restart_takes_over(topo):
    """SIGKILL closes the AF_XDP sockets, which removes them from the XSKMAP
    (no_xsk), and the heartbeat stops (pass_daemon_dead): either way the
    kernel gets the port's new clients at once."""
    udp = KernelUdpTagger(topo.dut_ns, topo.dut_ip, ECHO_PORT)
    tcp = KernelTcpTagger(topo.dut_ns, topo.dut_ip, ECHO_PORT)
    d = sn.Skiffd(topo, standard_args(topo) + ["--failover-ms", "300", "--take-port", ECHO_PORT]).start()
    d2 = None
    try:
        payload = os.urandom(64)
        # alive: skiff has the port, the kernel servers see nothing
        assert sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload) == payload
        assert tcp_first_bytes(topo, topo.dut_ip, ECHO_PORT, b"hello") == b"hello"

        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(5)
        killed = time.monotonic()
        xdp = topo.dut_xdp()
        assert xdp, "the XDP program should outlive a SIGKILLed skiffd"
        old_prog = xdp["prog"]["id"]
        got = wait_for(lambda: sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload,
                                               timeout=0.2), 3)
        assert got == KERNEL_TAG + payload, got
        assert time.monotonic() - killed < 1.5, "the kernel took too long to get the port"
        assert tcp_first_bytes(topo, topo.dut_ip, ECHO_PORT) == KERNEL_TAG
        # XDP still answers for the dedicated address
        assert sn.ping(topo, topo.ded_ip, count=2) == 2
        c = sn.read_counters(d.pin_dir)
        assert c["xdp.pass_daemon_dead"] + c["xdp.no_xsk"] >= 2, sn.nonzero(c)
        assert c["xdp.icmp_echo_reply"] >= 2

        # a new skiffd takes over cleanly
        d.kill()
        d2 = sn.Skiffd(topo, standard_args(topo) + ["--failover-ms", "300", "--take-port", ECHO_PORT]).start()
        got = wait_for(lambda: sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload,
                                               timeout=0.5) == payload, 3)
        assert got, "the restarted skiffd does not serve the port"
        # the killed daemon's program is gone from the kernel, not only
        # detached: the new daemon holds no fd of it (libxdp 1.3.1 leaked
        # one, user/dev/loader.c closes it)
        assert topo.dut_xdp()["prog"]["id"] != old_prog
        def old_prog_gone():  # freed after an RCU grace period
            return subprocess.run(["bpftool", "prog", "show", "id", str(old_prog)],
                                  capture_output=True).returncode != 0
        assert wait_for(old_prog_gone, 3), f"program {old_prog} of the killed skiffd lives on"
        assert d2.stop() == 0, d2.output()
        d2 = None
    finally:
        if d2:
            d2.kill()
        d.kill()
        udp.close()
        tcp.close()


def test_hung_daemon_fails_open_within_the_bound_and_recovers(topo):
    """A stopped (hung) skiffd keeps its sockets open, so only the heartbeat
    tells: after --failover-ms the kernel serves the port (pass_daemon_dead);
    once the daemon runs again its next beat takes the port back."""
    udp = KernelUdpTagger(topo.dut_ns, topo.dut_ip, ECHO_PORT)
    d = sn.Skiffd(topo, standard_args(topo) + ["--failover-ms", "300", "--take-port", ECHO_PORT]).start()
    try:
        payload = os.urandom(64)
        assert sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload) == payload
        # an idle skiffd keeps beating: still skiff's after twice the bound
        time.sleep(0.6)
        assert sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload) == payload

        d.proc.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        # the signal lands asynchronously: skiffd may still answer at first;
        # wait for the kernel's answer
        got = wait_for(lambda: sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload,
                                               timeout=0.2) == KERNEL_TAG + payload, 3)
        assert got, "the kernel never got the port while skiffd was stopped"
        assert time.monotonic() - stopped < 1.5, "fail-open took too long"
        assert sn.ping(topo, topo.ded_ip, count=2) == 2
        c = sn.read_counters(d.pin_dir)
        assert c["xdp.pass_daemon_dead"] >= 1, sn.nonzero(c)

        d.proc.send_signal(signal.SIGCONT)
        got = wait_for(lambda: sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload,
                                               timeout=0.3) == payload, 3)
        assert got, "skiffd did not take the port back after SIGCONT"
        assert d.stop() == 0, d.output()
    finally:
        if d.alive():
            d.proc.send_signal(signal.SIGCONT)
        d.kill()
        udp.close()


def test_failover_ms_0_never_fails_open(topo):
    udp = KernelUdpTagger(topo.dut_ns, topo.dut_ip, ECHO_PORT)
    d = sn.Skiffd(topo, standard_args(topo) + ["--failover-ms", "0", "--take-port", ECHO_PORT]).start()
    try:
        payload = os.urandom(32)
        assert sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload) == payload
        d.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.6)
        # the frames wait in the stopped daemon's socket: no one answers
        assert sn.udp_exchange(topo, topo.dut_ip, ECHO_PORT, payload, timeout=0.5) is None
        assert sn.read_counters(d.pin_dir)["xdp.pass_daemon_dead"] == 0
        d.proc.send_signal(signal.SIGCONT)
        assert d.stop() == 0, d.output()
    finally:
        if d.alive():
            d.proc.send_signal(signal.SIGCONT)
        d.kill()
        udp.close()
