# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Ancillary data under skiff-run (docs/apps.md, "Control messages"): one
Python UDP server bound to the wildcard address of each family sets
IP_PKTINFO, IP_RECVTTL, IP_RECVTOS and IPV6_RECVPKTINFO,
IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, reads its queries with
socket.recvmsg, answers each from the address it was asked on
(IP_PKTINFO / IPV6_PKTINFO on sendmsg) with per-message TTL, TOS, hop
limit and traffic class, reads with control buffers too small (MSG_CTRUNC)
and sends control messages Linux refuses.  The same script runs on the
kernel and under skiff-run; what the server saw and what the peer
received, addresses named by role, must be the same."""

import json
import socket
import struct
import subprocess

import pytest

import skiffnet as sn
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)
from test_ipv6 import v6, v6net  # noqa: F401  (v6net: fixture)
from test_skiff_run import (OURS6, PEER6, PORT, PY, daemon, detached, need, runs,  # noqa: F401
                            start, wait_app)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back", "detached")

IP, IP6 = socket.IPPROTO_IP, socket.IPPROTO_IPV6
IP_RECVTTL = 12  # <linux/in.h>; not in every Python
KERNEL_A = 4  # a second IPv4 address of the DUT's kernel, for the kernel's run

SERVER = r"""
import errno, json, socket, struct, sys
IP, IP6, S = socket.IPPROTO_IP, socket.IPPROTO_IPV6, socket.SOL_SOCKET
socket.IP_PKTINFO, socket.IP_RECVTTL = 8, 12  # <linux/in.h>; not in every Python
port, ifx, roles = int(sys.argv[1]), socket.if_nametoindex(sys.argv[2]), json.loads(sys.argv[3])
out = {}

def role(a):
    if a.startswith("::ffff:"):
        return "::ffff:" + roles.get(a[7:], a[7:])
    return roles.get(a, a)

def norm(anc):
    res = []
    for lvl, typ, data in anc:
        if (lvl, typ) == (IP, socket.IP_PKTINFO) and len(data) == 12:
            idx, spec, addr = struct.unpack("i4s4s", data)
            res.append(["IP_PKTINFO", "IF" if idx == ifx else idx,
                        role(socket.inet_ntop(socket.AF_INET, spec)),
                        role(socket.inet_ntop(socket.AF_INET, addr))])
        elif (lvl, typ) == (IP6, socket.IPV6_PKTINFO) and len(data) == 20:
            addr, idx = struct.unpack("16sI", data)
            res.append(["IPV6_PKTINFO", "IF" if idx == ifx else idx,
                        role(socket.inet_ntop(socket.AF_INET6, addr))])
        elif (lvl, typ) == (IP, socket.IP_TTL) and len(data) == 4:
            res.append(["IP_TTL", struct.unpack("i", data)[0]])
        elif (lvl, typ) == (IP, socket.IP_TOS) and len(data) == 1:
            res.append(["IP_TOS", data[0]])
        elif (lvl, typ) == (IP6, socket.IPV6_HOPLIMIT) and len(data) == 4:
            res.append(["IPV6_HOPLIMIT", struct.unpack("i", data)[0]])
        elif (lvl, typ) == (IP6, socket.IPV6_TCLASS) and len(data) == 4:
            res.append(["IPV6_TCLASS", struct.unpack("i", data)[0]])
        else:  # cut short, or unexpected
            res.append([lvl, typ, data.hex()])
    return res

def recv(s, anc):
    data, a, flags, addr = s.recvmsg(100, anc)
    return data, addr, [data.decode(), norm(a), flags, role(addr[0])], a

def trial(s, *args):
    try:
        s.sendmsg(*args)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

def opts(s, pairs):
    return [s.getsockopt(l, n) for l, n in pairs]

def pktinfo4(spec, ifindex=0):
    return struct.pack("i4s4s", ifindex, socket.inet_aton(spec), bytes(4))

RX4 = [(IP, socket.IP_PKTINFO), (IP, socket.IP_RECVTTL), (IP, socket.IP_RECVTOS)]
RX6 = [(IP6, socket.IPV6_RECVPKTINFO), (IP6, socket.IPV6_RECVHOPLIMIT),
       (IP6, socket.IPV6_RECVTCLASS)]

# ---- IPv4: the options set before bind (on the kernel socket skiff-run
# carries to skiff), the socket on 0.0.0.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
for l, n in RX4:
    s.setsockopt(l, n, 1)
try:
    s.setsockopt(IP6, socket.IPV6_RECVPKTINFO, 1)
    out["v6opt_on_v4"] = "ok"
except OSError as e:
    out["v6opt_on_v4"] = errno.errorcode[e.errno]
s.bind(("0.0.0.0", port))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.settimeout(10)
s6.bind(("::", port + 1))
for l, n in RX6 + [(IP, socket.IP_RECVTTL)]:
    s6.setsockopt(l, n, 1)
out["opts4"] = opts(s, RX4)
out["opts6"] = opts(s6, RX6 + RX4)
print("ready", flush=True)
big = socket.CMSG_SPACE(64) * 4
got = []
for i in range(2):  # q1 to A, q2 to B: answer each from where it came
    data, addr, rec, anc = recv(s, big)
    got.append(rec)
    pi = [d for l, t, d in anc if (l, t) == (IP, socket.IP_PKTINFO)][0]
    spec = socket.inet_ntop(socket.AF_INET, pi[4:8])
    ctl = [(IP, socket.IP_PKTINFO, pktinfo4(spec))]
    if i == 1:
        ctl += [(IP, socket.IP_TTL, struct.pack("i", 7)), (IP, socket.IP_TOS, bytes([0x48]))]
    s.sendmsg([b"r" + data], ctl, 0, addr)
peer = addr
# control buffers too small: q3, q4, q5
for size in (socket.CMSG_SPACE(12) + 8, 20, 0):
    got.append(recv(s, size)[2])
out["recv4"] = got
out["send4"] = [
    trial(s, [b"e1"], [(IP, socket.IP_TTL, struct.pack("i", 0))], 0, peer),
    trial(s, [b"e2"], [(IP, socket.IP_TTL, struct.pack("h", 5))], 0, peer),
    trial(s, [b"e3"], [(IP, socket.IP_PKTINFO, bytes(11))], 0, peer),
    trial(s, [b"e4"], [(IP, 99, struct.pack("i", 1))], 0, peer),
    trial(s, [b"e5"], [(S, 9999, struct.pack("i", 1))], 0, peer),
    trial(s, [b"e6"], [(IP, socket.IP_TOS, struct.pack("h", 1))], 0, peer),
    trial(s, [b"e7"], [(IP, socket.IP_TOS, struct.pack("i", 256))], 0, peer),
    trial(s, [b"e8"], [(IP, socket.IP_PKTINFO, pktinfo4("0.0.0.0", 999))], 0, peer),
    # a source that is not one of ours
    trial(s, [b"e9"], [(IP, socket.IP_PKTINFO, pktinfo4("192.0.2.1"))], 0, peer),
    # levels Linux does not read for IPv4 UDP: ignored, the datagram goes
    trial(s, [b"k1"], [(4242, 1, struct.pack("i", 1))], 0, peer),
    trial(s, [b"k2"], [(IP6, socket.IPV6_HOPLIMIT, struct.pack("i", 300))], 0, peer),
    # ipi_spec_dst 0: the routed source
    trial(s, [b"k3"], [(IP, socket.IP_PKTINFO, pktinfo4("0.0.0.0"))], 0, peer),
]
s.setsockopt(IP, socket.IP_RECVTTL, 0)
out["opts4_after"] = opts(s, RX4)
s.sendto(b"end", peer)

# ---- IPv6, dual stack on [::]: q6 over IPv6 to A6, then q7 over IPv4 to A
got = []
for i in range(2):
    data, addr, rec, anc = recv(s6, big)
    got.append(rec)
    pi = [d for l, t, d in anc if (l, t) == (IP6, socket.IPV6_PKTINFO)][0]
    ctl = [(IP6, socket.IPV6_PKTINFO, pi[:16] + struct.pack("I", 0))]
    if i == 0:
        ctl += [(IP6, socket.IPV6_HOPLIMIT, struct.pack("i", 5)),
                (IP6, socket.IPV6_TCLASS, struct.pack("i", 0x28))]
    else:
        ctl += [(IP, socket.IP_TTL, struct.pack("i", 9))]
    s6.sendmsg([b"r" + data], ctl, 0, addr)
    if i == 0:
        peer6 = addr
    else:
        peer4 = addr
out["recv6"] = got
ll = socket.inet_pton(socket.AF_INET6, "fe80::1")
a6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
out["send6"] = [
    trial(s6, [b"e1"], [(IP6, socket.IPV6_HOPLIMIT, struct.pack("i", 256))], 0, peer6),
    trial(s6, [b"e2"], [(IP6, socket.IPV6_TCLASS, struct.pack("i", -2))], 0, peer6),
    trial(s6, [b"e3"], [(IP6, 12345, struct.pack("i", 1))], 0, peer6),
    trial(s6, [b"e4"], [(IP6, socket.IPV6_PKTINFO, ll + struct.pack("I", 0))], 0, peer6),
    trial(s6, [b"e5"], [(IP6, socket.IPV6_PKTINFO, bytes(19))], 0, peer6),
    trial(s6, [b"e6"], [(IP6, socket.IPV6_PKTINFO, bytes(16) + struct.pack("I", 999))], 0,
          peer6),
    # to the IPv4 peer: IPV6_PKTINFO must hold a mapped address
    trial(s6, [b"e7"], [(IP6, socket.IPV6_PKTINFO, a6 + struct.pack("I", 0))], 0, peer4),
    trial(s6, [b"e8"], [(IP, socket.IP_TTL, struct.pack("i", 0))], 0, peer4),
    trial(s6, [b"e9"], [(IP6, socket.IPV6_PKTINFO, a6 + struct.pack("I", 0))], 0, peer6),
    trial(s6, [b"e10"], [(IP6, socket.IPV6_PKTINFO, bytes(10) + bytes([0xff, 0xff]) +
                          socket.inet_aton("192.0.2.1") + struct.pack("I", 0))], 0, peer4),
    # ignored: SOL_IP toward IPv6, IPV6_HOPLIMIT toward IPv4, -1 (the default)
    trial(s6, [b"k1"], [(IP, socket.IP_TTL, struct.pack("i", 0))], 0, peer6),
    trial(s6, [b"k2"], [(IP6, socket.IPV6_HOPLIMIT, struct.pack("i", 999))], 0, peer4),
    trial(s6, [b"k3"], [(IP6, socket.IPV6_HOPLIMIT, struct.pack("i", -1))], 0, peer6),
]
s6.sendto(b"end", peer6)
s6.sendto(b"end", peer4)
print(json.dumps(out), flush=True)
"""


def client_socket(topo, fam):
    c = sn.ns_socket(topo.peer_ns, fam, socket.SOCK_DGRAM)
    c.settimeout(10)
    if fam == socket.AF_INET:
        c.setsockopt(IP, socket.IP_TTL, 33)
        c.setsockopt(IP, socket.IP_TOS, 0x20)
        c.setsockopt(IP, IP_RECVTTL, 1)
        c.setsockopt(IP, socket.IP_RECVTOS, 1)
    else:
        c.setsockopt(IP6, socket.IPV6_UNICAST_HOPS, 44)
        c.setsockopt(IP6, socket.IPV6_TCLASS, 0x20)
        c.setsockopt(IP6, socket.IPV6_RECVHOPLIMIT, 1)
        c.setsockopt(IP6, socket.IPV6_RECVTCLASS, 1)
    return c


def answer(c, roles):
    """The next datagram the peer got: [payload, source role, TTL/hops, TOS/tclass]."""
    data, anc, _, addr = c.recvmsg(100, 256)
    ttl = tos = None
    for lvl, typ, d in anc:
        if (lvl, typ) in ((IP, socket.IP_TTL), (IP6, socket.IPV6_HOPLIMIT)):
            ttl = struct.unpack("i", d)[0]
        elif (lvl, typ) == (IP, socket.IP_TOS):
            tos = d[0]
        elif (lvl, typ) == (IP6, socket.IPV6_TCLASS):
            tos = struct.unpack("i", d)[0]
    return [data.decode(), roles.get(addr[0], addr[0]), ttl, tos]


def until_end(c, roles):
    """What came until "end": sends without a source of their own, whose
    routed source is either IPv4 address (the kernel's primary is B,
    skiff's first A)."""
    got = []
    while True:
        a = answer(c, roles)
        if a[0] == "end":
            return got
        if a[1] in ("A", "B"):
            a[1] = "A|B"
        got.append(a)


def one_run(topo, sk, runs, skiff, port):
    a4 = topo.ded_ip if skiff else topo.dut_ip.rsplit(".", 1)[0] + f".{KERNEL_A}"
    a6 = v6(topo, OURS6) if skiff else v6(topo, 2)
    roles = {a4: "A", topo.dut_ip: "B", a6: "A6", topo.peer_ip: "P", v6(topo, PEER6): "P6"}
    argv = [PY, "-c", SERVER, port, topo.dut_if, json.dumps(roles)]
    if skiff:
        srv = start(runs, topo, argv, opts=["-p", f"{port},{port + 1}"])
    else:
        srv = start(runs, topo, argv, launcher=None)
    line = srv.p.stdout.readline()
    assert line == b"ready\n", srv.finish(timeout=5)
    if skiff:
        wait_app(sk)
    try:
        peer = drive(topo, port, a4, a6, roles)
    except Exception as e:
        srv.p.kill()
        raise AssertionError(f"{'skiff' if skiff else 'kernel'}: {e!r}; the server: "
                             f"{srv.finish(timeout=5)}") from e
    rc, out, err = srv.finish(timeout=30)
    assert rc == 0, err
    return json.loads(out.decode().strip().splitlines()[-1]), peer


def drive(topo, port, a4, a6, roles):
    """The peer's side: queries, and the answers as it received them."""
    c4 = client_socket(topo, socket.AF_INET)
    c6 = client_socket(topo, socket.AF_INET6)
    peer = {}
    c4.sendto(b"q1", (a4, port))
    peer["r1"] = answer(c4, roles)
    c4.sendto(b"q2", (topo.dut_ip, port))
    peer["r2"] = answer(c4, roles)
    for q in (b"q3", b"q4", b"q5"):
        c4.sendto(q, (a4, port))
    peer["after4"] = until_end(c4, roles)
    c6.sendto(b"q6", (a6, port + 1))
    peer["r6"] = answer(c6, roles)
    c4.sendto(b"q7", (a4, port + 1))
    peer["r7"] = answer(c4, roles)
    peer["after6"] = until_end(c6, roles)
    peer["after6_4"] = until_end(c4, roles)
    c4.close()
    c6.close()
    return peer


@pytest.fixture
def kernel_second_address(topo):
    """The DUT kernel's own second IPv4 address for the kernel's run."""
    a = topo.dut_ip.rsplit(".", 1)[0] + f".{KERNEL_A}"
    topo.dut(["ip", "addr", "add", f"{a}/{topo.prefix}", "dev", topo.dut_if])
    try:
        yield a
    finally:
        subprocess.run(sn.nsenter(topo.dut_ns, ["ip", "addr", "del", f"{a}/{topo.prefix}",
                                                "dev", topo.dut_if]), check=False)


def test_control_messages_under_skiff_run_match_the_kernel(topo, sk, runs, v6net,  # noqa: F811
                                                           kernel_second_address):
    kernel = one_run(topo, sk, runs, False, PORT + 60)
    skiff = one_run(topo, sk, runs, True, PORT + 62)
    server, peer = kernel
    # what the kernel does, spelled out (the reference must be meaningful)
    assert server["recv4"][0] == ["q1", [["IP_PKTINFO", "IF", "A", "A"], ["IP_TTL", 33],
                                         ["IP_TOS", 0x20]], 0, "P"], server
    assert server["recv4"][1][1][0] == ["IP_PKTINFO", "IF", "B", "B"], server
    assert server["recv4"][2][2] & socket.MSG_CTRUNC, server
    assert peer["r1"] == ["rq1", "A", 64, 0] and peer["r2"] == ["rq2", "B", 7, 0x48], peer
    assert peer["r6"] == ["rq6", "A6", 5, 0x28] and peer["r7"] == ["rq7", "A", 9, 0], peer
    assert server["recv6"][0][1] == [["IPV6_PKTINFO", "IF", "A6"], ["IPV6_HOPLIMIT", 44],
                                     ["IPV6_TCLASS", 0x20]], server
    assert server["recv6"][1][1] == [["IPV6_PKTINFO", "IF", "::ffff:A"], ["IP_TTL", 33]], server
    assert "EINVAL" in server["send4"] and "EINVAL" in server["send6"], server
    assert skiff[0] == kernel[0], f"skiff: {skiff[0]}\nthe kernel: {kernel[0]}"
    assert skiff[1] == kernel[1], f"skiff: {skiff[1]}\nthe kernel: {kernel[1]}"


def dns_query(name, qid):
    """A DNS query (RFC 1035 4.1) for the A record of name, recursion desired."""
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1)


def test_dnsmasq_answers_from_the_address_it_was_asked_on(topo, sk, runs, v6net):  # noqa: F811
    """dnsmasq (Debian's dnsmasq-base, unmodified) under skiff-run -p PORT
    listens on the wildcard addresses and learns each query's destination
    from IP_PKTINFO / IPV6_PKTINFO: asked from the peer on skiffd's two
    IPv4 addresses and its IPv6 one, it answers each from the address it
    was asked on, with the record it was given."""
    need("dnsmasq")
    port = PORT + 64
    dm = start(runs, topo, ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                            f"--port={port}", "--address=/cmsg.test/192.0.2.7",
                            "--pid-file", "--user=root", "--log-facility=-"],
               opts=["-p", str(port)], stdout=subprocess.DEVNULL)
    wait_app(sk)
    qid = 0x4d00
    for addr in (topo.ded_ip, topo.dut_ip, v6(topo, OURS6)):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        c = sn.ns_socket(topo.peer_ns, fam, socket.SOCK_DGRAM)
        c.settimeout(1)
        qid += 1
        got = None
        for _ in range(10):  # dnsmasq may still be setting up its sockets
            c.sendto(dns_query("cmsg.test", qid), (addr, port))
            try:
                got = c.recvfrom(512)
                break
            except TimeoutError:
                assert dm.p.poll() is None, dm.stderr()
        c.close()
        assert got, f"no answer from {addr}: {dm.stderr()}"
        data, src = got
        assert src[0] == addr, f"asked {addr}, answered from {src[0]}"
        qr_id, flags, _, ancount = struct.unpack(">HHHH", data[:8])
        assert qr_id == qid and flags & 0x8000 and flags & 0xf == 0 and ancount == 1, data.hex()
        assert data.endswith(socket.inet_aton("192.0.2.7")), data.hex()
    assert dm.p.poll() is None, dm.stderr()


TCP_SCRIPT = r"""
import errno, json, socket, struct, sys
IP, S = socket.IPPROTO_IP, socket.SOL_SOCKET
IP_PKTINFO, IP_RECVTTL = 8, 12
out = {}

def trial(f):
    try:
        return f()
    except OSError as e:
        return errno.errorcode[e.errno]

l = socket.socket()
l.setsockopt(IP, IP_PKTINFO, 1)
l.setsockopt(IP, IP_RECVTTL, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.setsockopt(IP, socket.IP_RECVTOS, 1)
l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
c.settimeout(10)
out["opts"] = [c.getsockopt(IP, n) for n in (IP_PKTINFO, IP_RECVTTL, socket.IP_RECVTOS)]
out["v6opt"] = trial(lambda: l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1))
data, anc, flags, _ = c.recvmsg(100, 256)
out["recv"] = [data.decode(), anc, flags]
out["send"] = [
    # TCP reads SOL_SOCKET messages only: the others are ignored
    trial(lambda: c.sendmsg([b"a"], [(IP, socket.IP_TTL, struct.pack("i", 0))])),
    trial(lambda: c.sendmsg([b"b"], [(IP, 99, b"")])),
    trial(lambda: c.sendmsg([b"c"], [(S, 9999, struct.pack("i", 1))])),
    trial(lambda: c.sendmsg([b"d"], [(S, socket.SCM_RIGHTS, struct.pack("i", 0))])),
]
c.shutdown(socket.SHUT_WR)
print(json.dumps(out), flush=True)
c.recv(1)
"""


def test_tcp_keeps_the_options_and_ignores_ip_control_messages_as_the_kernel(topo, sk, runs):
    """Linux accepts the receive options on a TCP socket (an accepted one
    inherits them) and gives no control message on it; its sendmsg reads
    SOL_SOCKET messages only.  The same script on the kernel and under
    skiff-run answers alike, and the peer gets the same bytes."""
    outs = []
    for skiff, addr, port in ((False, topo.dut_ip, PORT + 66), (True, topo.ded_ip, PORT + 67)):
        argv = [PY, "-c", TCP_SCRIPT, addr, port]
        srv = start(runs, topo, argv, **({} if skiff else {"launcher": None}))
        assert srv.p.stdout.readline() == b"listening\n", srv.stderr()
        c = sn.ns_socket(topo.peer_ns, socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect((addr, port))
        c.sendall(b"hello")
        got = b""
        while b := c.recv(100):
            got += b
        c.close()
        rc, out, err = srv.finish(timeout=20)
        assert rc == 0, err
        outs.append((json.loads(out.decode().strip()), got.decode()))
    kernel, skiff = outs
    assert kernel[0]["opts"] == [1, 1, 1] and kernel[0]["recv"] == ["hello", [], 0], kernel
    assert kernel[0]["send"].count("EINVAL") == 1, kernel
    assert skiff == kernel, f"skiff: {skiff}\nthe kernel: {kernel}"


LL_SCRIPT = r"""
import json, socket, struct, sys
IP6 = socket.IPPROTO_IPV6
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(10)
s.setsockopt(IP6, socket.IPV6_RECVPKTINFO, 1)
s.bind(("::", int(sys.argv[1])))
print("ready", flush=True)
out = []
for i in range(2):
    data, anc, flags, addr = s.recvmsg(100, 256)
    pi = [d for l, t, d in anc if (l, t) == (IP6, socket.IPV6_PKTINFO)][0]
    a, idx = struct.unpack("16sI", pi)
    out.append([socket.inet_ntop(socket.AF_INET6, a), idx, addr[3]])
    if i == 1:  # the interface left to the destination's scope id
        pi = a + struct.pack("I", 0)
    s.sendmsg([b"r" + data], [(IP6, socket.IPV6_PKTINFO, pi)], 0, addr)
print(json.dumps(out), flush=True)
"""


def test_a_link_local_query_is_answered_from_skiffds_link_local_address(topo, sk, runs,
                                                                        v6net):  # noqa: F811
    """RFC 4007: a query to skiffd's link-local address on a [::] socket
    comes with IPV6_PKTINFO naming that address and skiffd's interface;
    answered with it (as received, and with ipi6_ifindex 0, the
    interface then the destination's scope id, as Linux), the reply
    leaves from skiffd's link-local address."""
    from test_apps_v6 import peer_link_local
    from test_ipv6 import link_local
    port = PORT + 68
    ours = link_local(topo.dut_mac)
    _, peer_idx = peer_link_local(topo)
    srv = start(runs, topo, [PY, "-c", LL_SCRIPT, port], opts=["-p", str(port)])
    assert srv.p.stdout.readline() == b"ready\n", srv.finish(timeout=5)
    wait_app(sk)
    c = sn.ns_socket(topo.peer_ns, socket.AF_INET6, socket.SOCK_DGRAM)
    c.settimeout(10)
    for q in (b"l1", b"l2"):
        c.sendto(q, (ours, port, 0, peer_idx))
        data, src = c.recvfrom(100)
        assert data == b"r" + q and src[0].split("%")[0] == ours, (data, src)
    c.close()
    rc, out, err = srv.finish(timeout=20)
    assert rc == 0, err
    ifx = int(topo.dut(["ip", "-o", "link", "show", "dev", topo.dut_if]).stdout.split(":")[0])
    assert json.loads(out.decode().strip().splitlines()[-1]) == [[ours, ifx, ifx]] * 2, out
