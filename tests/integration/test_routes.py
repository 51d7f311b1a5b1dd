# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Static routes through a real router: skiffd --route <far net> via <peer>.

    far ns  far_ip 10.78.n.2 --veth-- 10.78.n.1 peer ns (Linux, ip_forward=1)
                                      10.77.n.1 --veth-- dut ns: skiffd .2 (shared) .3 (dedicated)

The far host's default route is the peer; skiffd knows the far net only from
`--route FAR_NET via PEER_IP`.  The far host pings (XDP answers to the MAC
the request came from: the router's), does UDP echo, TCP echo, HTTP and gets
ICMP port unreachable back; skiffd as a client (--fetch) reaches a kernel
HTTP server in the far namespace, which needs the gateway's MAC resolved by
the daemon's own ARP.  `skiffctl routes` is checked as text and JSON, and
the errors of the flag exit with status 2 and one line.
"""

import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import ECHO_PORT

pytestmark = pytest.mark.usefixtures("need_skiff")

HTTP_PORT = 8080
CLOSED_PORT = 4444
KPORT = 8000


@pytest.fixture(scope="module")
def www():
    d = tempfile.mkdtemp(prefix=f"skiff-routes-{os.getpid()}-")
    body = os.urandom(300 * 1024)
    with open(os.path.join(d, "file.bin"), "wb") as f:
        f.write(body)
    yield d, hashlib.sha256(body).hexdigest()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def topo():
    t = sn.Topology(far=True)
    yield t
    t.close()


def route_args(topo):
    return ["--route", topo.far_net, "via", topo.peer_ip]


@pytest.fixture(scope="module")
def daemon(topo, www):
    d = sn.Skiffd(topo, ["--addr", f"{topo.dut_ip}/{topo.prefix}",
                         "--addr", f"{topo.ded_ip}/{topo.prefix}",
                         *route_args(topo), "--echo", ECHO_PORT,
                         "--http", f"{HTTP_PORT}:{www[0]}"]).start()
    yield d
    rc = d.stop()
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


@pytest.fixture
def sk(daemon):
    assert daemon.alive(), f"skiffd died (status {daemon.proc.returncode}):\n{daemon.output()}"
    return daemon


def test_far_namespace_reaches_peer_only_through_the_router(topo):
    """The topology itself: far pings the router's dut-side address."""
    assert sn.ping(topo, topo.peer_ip, count=2, ns=topo.far_ns) == 2


def test_far_host_pings_the_dedicated_address(topo, sk):
    assert sn.ping(topo, topo.ded_ip, count=3, ns=topo.far_ns) == 3


@pytest.mark.parametrize("which", ["ded_ip", "dut_ip"])
def test_udp_echo_to_far_host(topo, sk, which):
    addr = getattr(topo, which)
    s = sn.ns_socket(topo.far_ns)
    try:
        s.settimeout(3)
        for i in range(5):
            msg = f"far {which} {i}".encode() * 50
            s.sendto(msg, (addr, ECHO_PORT))
            data, src = s.recvfrom(65535)
            assert data == msg and src == (addr, ECHO_PORT), (data[:40], src)
    finally:
        s.close()


def test_udp_to_closed_port_gets_port_unreachable_back(topo, sk):
    """The daemon's ICMP error goes to the far host via the gateway."""
    s = sn.ns_socket(topo.far_ns)
    try:
        s.settimeout(3)
        s.connect((topo.ded_ip, CLOSED_PORT))
        s.send(b"anyone?")
        with pytest.raises(ConnectionRefusedError):
            s.recv(100)
    finally:
        s.close()


def tcp_echo(topo, addr, size):
    c = tn.connect(topo, addr, ECHO_PORT, ns=topo.far_ns)
    data = os.urandom(size)
    res = {}

    def reader():
        try:
            res["got"] = tn.recv_all(c)
        except OSError as e:
            res["err"] = e

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    try:
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        th.join(30)
    finally:
        c.close()
    assert "err" not in res, res
    assert res.get("got") == (size, hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("which", ["ded_ip", "dut_ip"])
def test_tcp_echo_with_far_host(topo, sk, which):
    tcp_echo(topo, getattr(topo, which), 512 * 1024)


def test_http_get_from_far_host(topo, sk, www):
    for addr in (topo.ded_ip, topo.dut_ip):
        script = (f"set -o pipefail; curl -sS --max-time 30 -o - "
                  f"http://{addr}:{HTTP_PORT}/file.bin | sha256sum")
        p = topo.far(["bash", "-c", script], check=False, timeout=40)
        assert p.returncode == 0 and p.stdout.split()[0] == www[1], p.stdout + p.stderr


def routes_text(topo, sk):
    return sk.ctl("routes").stdout


def test_skiffctl_routes_reads_like_ip_route(topo, sk):
    out = routes_text(topo, sk)
    net = topo.dut_ip.rsplit(".", 1)[0] + ".0"
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert re.fullmatch(rf"{re.escape(net)}/24 dev {topo.dut_if} scope link "
                        rf"src {re.escape(topo.dut_ip)} uses \d+", lines[0]), out
    assert re.fullmatch(rf"{re.escape(topo.far_net)} via {re.escape(topo.peer_ip)} "
                        rf"dev {topo.dut_if} src {re.escape(topo.dut_ip)} uses \d+",
                        lines[1]), out


def test_skiffctl_routes_json_and_use_counts(topo, sk):
    before = sk.ctl_json("routes")["routes"]
    assert [r["kind"] for r in before] == ["link", "static"], before
    link, static = before
    net = topo.dut_ip.rsplit(".", 1)[0] + ".0"
    assert link == {"dst": f"{net}/24", "prefix_len": 24, "gateway": None,
                    "dev": topo.dut_if, "scope": "link", "prefsrc": topo.dut_ip,
                    "family": "inet", "kind": "link", "uses": link["uses"]}, link
    assert static == {"dst": topo.far_net, "prefix_len": 24, "gateway": topo.peer_ip,
                      "dev": topo.dut_if, "scope": "global", "prefsrc": topo.dut_ip,
                      "family": "inet", "kind": "static", "uses": static["uses"]}, static
    # ten echoes to the far host: ten more lookups of the static route at least,
    # none of the on-link one (nothing else is talking on the link)
    s = sn.ns_socket(topo.far_ns)
    try:
        s.settimeout(3)
        for i in range(10):
            s.sendto(b"count me %d" % i, (topo.ded_ip, ECHO_PORT))
            assert s.recvfrom(100)[0] == b"count me %d" % i
    finally:
        s.close()
    after = sk.ctl_json("routes")["routes"]
    assert after[1]["uses"] >= static["uses"] + 10, (before, after)
    # the text answer shows the same counts (never fewer: they only grow)
    m = re.search(rf"^{re.escape(topo.far_net)} via .* uses (\d+)$", routes_text(topo, sk), re.M)
    assert m and int(m.group(1)) >= after[1]["uses"], routes_text(topo, sk)


def test_daemon_resolved_the_gateway_not_the_far_host(topo, sk):
    neigh = sk.ctl_json("neigh")["neighbours"]
    ips = {n["ip"]: n for n in neigh}
    assert topo.peer_ip in ips and ips[topo.peer_ip]["mac"] == topo.peer_mac.lower(), neigh
    assert topo.far_ip not in ips, neigh


# ---- skiffd as the client: its own transmissions through the gateway ----

@pytest.fixture(scope="module")
def client_topo(www):
    """A second far topology, without the module's daemon on it."""
    t = sn.Topology(far=True)
    srv = tn.KernelHttpServer(t.far_ns, t.far_ip, KPORT, www[0])
    yield t
    srv.close()
    t.close()


def test_skiffd_fetches_from_far_host_only_with_the_route(client_topo, www):
    t = client_topo
    url = f"http://{t.far_ip}:{KPORT}/file.bin"
    base = ["--addr", f"{t.ded_ip}/{t.prefix}", "--fetch", url, "--exit-after-client"]
    # no route: nothing to send through, the client fails at once
    rc, out = sn.skiffd_run_to_exit(t, base, timeout=30)
    assert rc == 1 and "fetch" in out, out
    # with it: a fresh daemon knows no neighbour, so it ARPs for the gateway
    # itself before its SYN can leave
    rc, out = sn.skiffd_run_to_exit(t, base + route_args(t), timeout=60)
    m = tn.FETCH_RE.search(out)
    assert rc == 0 and m, out
    assert int(m.group(1)) == 300 * 1024 and m.group(3) == www[1], out


# ---- errors of the flag: one line, exit status 2 ----

@pytest.mark.parametrize("args,want", [
    (["--route", "10.9.0.0/16"], "bad --route '10.9.0.0/16': expected A.B.C.D/N via G.G.G.G"),
    (["--route", "10.9.0.0/16:PEER"],
     "bad --route '10.9.0.0/16:PEER': expected A.B.C.D/N via G.G.G.G"),
    (["--route", "10.9.1.0/16", "via", "PEER"],
     "bad --route '10.9.1.0/16 via PEER': 10.9.1.0 has host bits set for /16 "
     "(the network is 10.9.0.0/16)"),
    (["--route", "10.9.0.0/40", "via", "PEER"],
     "bad --route '10.9.0.0/40 via PEER': expected A.B.C.D/N via G.G.G.G"),
    (["--route", "10.9.0.0/16", "via", "192.168.99.1"],
     "--route 10.9.0.0/16 via 192.168.99.1: the gateway is not on the subnet of any --addr"),
    (["--route", "10.9.0.0/16", "via", "PEER", "--route", "10.9.0.0/16", "via", "OTHER"],
     "--route 10.9.0.0/16 given twice (via PEER and via OTHER)"),
    (["--route", "NET/24", "via", "PEER"],
     "--route NET/24 via PEER: NET/24 is the subnet of --addr DED/24, on-link already"),
    ([f"--route=10.{100 + i}.0.0/16 via PEER" for i in range(33)],
     "too many --route (at most 32)"),
])
def test_route_flag_errors_exit_2_with_one_line(topo, args, want):
    net = topo.ded_ip.rsplit(".", 1)[0] + ".0"
    subst = {"PEER": topo.peer_ip, "OTHER": topo.other_ip, "NET": net, "DED": topo.ded_ip}

    def fill(s):
        return re.sub(r"PEER|OTHER|NET|DED", lambda m: subst[m.group(0)], s)

    rc, out = sn.skiffd_run_to_exit(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                                           *[fill(a) for a in args]])
    assert rc == 2, out
    assert out == f"skiffd: {fill(want)}\n", out


def test_route_config_file_key_and_its_errors(topo):
    fd, path = tempfile.mkstemp(prefix=f"skiff-routes-{os.getpid()}-", suffix=".conf")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"addr {topo.ded_ip}/{topo.prefix}\n"
                    f"route {topo.far_net} via {topo.peer_ip}\n"
                    f"route 10.9.0.0/16 via 192.168.99.1\n")
        rc, out = sn.skiffd_run_to_exit(topo, ["--config", path])
        assert rc == 2, out
        assert out == ("skiffd: --route 10.9.0.0/16 via 192.168.99.1: the gateway is not "
                       "on the subnet of any --addr\n"), out
        with open(path, "w") as f:
            f.write(f"addr {topo.ded_ip}/{topo.prefix}\nroute {topo.far_net} {topo.peer_ip}\n")
        rc, out = sn.skiffd_run_to_exit(topo, ["--config", path])
        assert rc == 2, out
        assert out == (f"skiffd: {path}:2: bad route '{topo.far_net} {topo.peer_ip}': "
                       "expected A.B.C.D/N via G.G.G.G\n"), out
    finally:
        os.unlink(path)


def test_help_documents_route(topo):
    p = sn.run([sn.SKIFFD, "--help"])
    assert "--route A.B.C.D/N via G.G.G.G" in p.stdout, p.stdout
    p = sn.run([sn.SKIFFCTL, "--help"])
    assert "routes" in p.stdout, p.stdout
