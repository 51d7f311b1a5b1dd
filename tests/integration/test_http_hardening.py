# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiffd's HTTP server runs as root and faces the network: it serves only
files any user may read (not 0600/000 files, nor a hard link to one), no
hidden files, refuses / and system directories as its root, and does not
let silent, slow or idle clients hold connections for ever, nor one address
take every connection.  Each finding of issue 8, item 6, re-tried."""

import os
import socket
import tempfile
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from tcpnet import need_tcp  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("need_tcp")


@pytest.fixture(scope="module")
def www():
    root = tempfile.mkdtemp(prefix="skiff-www-", dir="/tmp")
    os.chmod(root, 0o755)
    d = os.path.join(root, "www")
    os.mkdir(d, 0o755)

    def put(name, text, mode):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)

    put("public.txt", "public\n", 0o644)
    put("secret.txt", "secret\n", 0o600)
    put("zero.txt", "zero\n", 0o000)
    put(".htpasswd", "admin:$apr1$hash\n", 0o644)
    outside = os.path.join(root, "outside-secret")
    with open(outside, "w") as f:
        f.write("outside\n")
    os.chmod(outside, 0o600)
    os.link(outside, os.path.join(d, "hardlink.txt"))
    yield d
    for dirpath, dirs, files in os.walk(root, topdown=False):
        for n in files:
            os.unlink(os.path.join(dirpath, n))
        for n in dirs:
            os.rmdir(os.path.join(dirpath, n))
    os.rmdir(root)


def get(topo, path):
    code, _, _, _, err = tn.curl_get(topo, f"http://{topo.ded_ip}:{tn.HTTP_PORT}/{path}",
                                     timeout=10)
    return code


def test_only_world_readable_non_hidden_files_are_served(topo, www):
    d = sn.Skiffd(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                         "--http", f"{tn.HTTP_PORT}:{www}"]).start()
    try:
        assert get(topo, "public.txt") == 200
        assert get(topo, "secret.txt") == 403    # mode 0600
        assert get(topo, "zero.txt") == 403      # mode 000
        assert get(topo, "hardlink.txt") == 403  # a hard link to a 0600 file outside DIR
        assert get(topo, ".htpasswd") == 404
    finally:
        assert d.stop() == 0, d.output()


@pytest.mark.parametrize("docroot", ["/", "/etc", "/root", "/proc"])
def test_system_directory_as_docroot_is_refused(topo, docroot):
    rc, out = sn.skiffd_run_to_exit(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                                           "--http", f"{tn.HTTP_PORT}:{docroot}"])
    assert rc == 2, f"exit {rc}:\n{out}"
    assert "will not serve this directory" in out and len(out.strip().splitlines()) == 1, out
    assert topo.dut_xdp() is None


def peer_connect(topo):
    with sn.in_netns(topo.peer_ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((topo.ded_ip, tn.HTTP_PORT))
    return s


def closed_by_server(s):
    """True when the server has closed (EOF or reset) the connection."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_silent_slow_and_idle_clients_are_closed(topo, www):
    d = sn.Skiffd(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                         "--http", f"{tn.HTTP_PORT}:{www}", "--http-idle", "3"]).start()
    socks = []
    try:
        before = d.counters()
        silent = [peer_connect(topo) for _ in range(2)]
        slow = [peer_connect(topo) for _ in range(3)]
        idle = [peer_connect(topo) for _ in range(2)]
        socks = silent + slow + idle
        for s in slow:
            s.sendall(b"GET /public.txt HTTP/1.1\r\n")
        for s in idle:
            s.sendall(b"GET /public.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"200 OK" in s.recv(4096)
        # idle keep-alive connections go after --http-idle (3 s, +1 s sweep)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5:
            for s in slow:
                s.sendall(b"X")  # a header byte now and then: never finished
            time.sleep(0.5)
        assert all(closed_by_server(s) for s in idle)
        assert not any(closed_by_server(s) for s in silent + slow)
        # the header timeout (10 s from accept / the first byte, +1 s sweep)
        deadline = time.monotonic() + 9
        while time.monotonic() < deadline and not all(closed_by_server(s)
                                                      for s in silent + slow):
            for s in slow:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            time.sleep(0.5)
        assert all(closed_by_server(s) for s in silent + slow)
        c = sn.delta(d.counters(), before)
        assert c["u.http_header_timeouts"] == 5, sn.nonzero(c, "u.")
        assert c["u.http_idle_timeouts"] == 2, sn.nonzero(c, "u.")
        # and the server still serves
        assert get(topo, "public.txt") == 200
    finally:
        for s in socks:
            s.close()
        assert d.stop() == 0, d.output()


def test_one_address_cannot_take_every_connection(topo, www):
    d = sn.Skiffd(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                         "--http", f"{tn.HTTP_PORT}:{www}", "--http-per-source", "4"]).start()
    socks = []
    try:
        socks = [peer_connect(topo) for _ in range(4)]
        # the handshake completes, then skiffd resets it at accept (which
        # may reach the client before connect() returns)
        try:
            extra = peer_connect(topo)
            time.sleep(0.5)
            assert closed_by_server(extra)
            extra.close()
        except ConnectionResetError:
            pass
        assert not any(closed_by_server(s) for s in socks)
        assert d.counters()["u.http_source_limited"] >= 1
        socks.pop().close()
        time.sleep(0.5)
        assert get(topo, "public.txt") == 200  # room again
    finally:
        for s in socks:
            s.close()
        assert d.stop() == 0, d.output()
