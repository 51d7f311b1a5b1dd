# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""IPv6 with the kernel as the peer: for a dedicated IPv6 address XDP answers
the kernel's Neighbor Solicitations (address resolution, and a DAD probe of
the same address, which the kernel then marks dadfailed) and its pings; a
shared IPv6 address stays the kernel's; IPv4 service goes on beside."""

import json
import os
import socket
import time

import pytest

import skiffnet as sn
from conftest import DISCARD_PORT, ECHO_PORT, standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")


STATIC_NET = "2001:db8:ef::"  # skiffd --route STATIC_NET/48 via the peer


def v6(topo, host):
    return f"2001:db8:77:{topo.n:x}::{host}"


def link_local(mac):
    """RFC 4291 appendix A: fe80:: and the modified EUI-64 of mac."""
    b = bytes.fromhex(mac.replace(":", ""))
    eui = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return socket.inet_ntop(socket.AF_INET6, b"\xfe\x80" + bytes(6) + eui)


@pytest.fixture(scope="module")
def v6net(topo):
    # the topology turns IPv6 off (skiffnet: no kernel noise); on for the veths here.
    # The dut's kernel makes no link-local address of its own (addr_gen_mode
    # none): skiffd's fe80:: address is then dedicated, XDP's to answer.
    topo.peer(["sysctl", "-qw", f"net.ipv6.conf.{topo.peer_if}.disable_ipv6=0"])
    topo.dut(["sysctl", "-qw", f"net.ipv6.conf.{topo.dut_if}.addr_gen_mode=1"])
    topo.dut(["sysctl", "-qw", f"net.ipv6.conf.{topo.dut_if}.disable_ipv6=0"])
    topo.peer(["ip", "-6", "addr", "add", f"{v6(topo, 1)}/64", "dev", topo.peer_if, "nodad"])
    topo.dut(["ip", "-6", "addr", "add", f"{v6(topo, 2)}/64", "dev", topo.dut_if, "nodad"])
    yield
    topo.peer(["ip", "-6", "addr", "flush", "dev", topo.peer_if, "scope", "global"])
    topo.dut(["ip", "-6", "addr", "flush", "dev", topo.dut_if, "scope", "global"])
    topo.dut(["sysctl", "-qw", f"net.ipv6.conf.{topo.dut_if}.addr_gen_mode=0"])


@pytest.fixture(scope="module")
def sk6(topo, v6net):
    d = sn.Skiffd(topo, standard_args(topo) + ["--addr", f"{v6(topo, 5)}/64",
                                               "--addr", f"{v6(topo, 2)}/64",
                                               "--gateway6", v6(topo, 1),
                                               "--route", f"{STATIC_NET}/48 via {v6(topo, 1)}"]).start()
    yield d
    assert d.stop() == 0, d.output()


def test_an_address_another_host_has_is_refused_by_dad(topo, v6net):
    """RFC 4862 5.4: skiffd probes a dedicated IPv6 address before taking
    it; the kernel peer that has it answers, and start-up fails naming it.
    (First in the module: no other skiffd runs on the interface yet.)"""
    taken = v6(topo, 7)
    topo.peer(["ip", "-6", "addr", "add", f"{taken}/64", "dev", topo.peer_if, "nodad"])
    try:
        rc, out = sn.skiffd_run_to_exit(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                                               "--addr", f"{taken}/64"])
    finally:
        topo.peer(["ip", "-6", "addr", "del", f"{taken}/64", "dev", topo.peer_if], check=False)
    assert rc == 2, out
    assert "already in use" in out and topo.peer_mac in out, out
    assert topo.dut_xdp() is None


def ping6(topo, dst, count=3, size=56):
    p = topo.peer(["ping", "-6", "-n", "-q", "-c", str(count), "-i", "0.05", "-W", "2",
                   "-s", str(size), dst], check=False, timeout=20)
    for line in p.stdout.splitlines():
        if "received" in line:
            return int(line.split(",")[1].split()[0])
    return 0


def test_skiffd_announces_a_dedicated_address_once_dad_passes(topo, v6net):
    """RFC 4861 7.2.6: an unsolicited NA to all-nodes, override set, our MAC."""
    with sn.in_netns(topo.peer_ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    s.bind((topo.peer_if, 0))
    s.settimeout(0.2)
    addr = v6(topo, 8)
    d = sn.Skiffd(topo, standard_args(topo) + ["--addr", f"{addr}/64"]).start()
    try:
        target = socket.inet_pton(socket.AF_INET6, addr)
        seen = None
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not seen:
            try:
                f = s.recv(2048)
            except socket.timeout:
                continue
            if len(f) >= 86 and f[20] == 58 and f[54] == 136 and f[62:78] == target:
                seen = f
        assert seen, "no unsolicited NA"
        assert seen[:6] == bytes.fromhex("333300000001")
        assert seen[58] & 0x20 and not seen[58] & 0x40  # override, not solicited
        assert seen[78:80] == b"\x02\x01" and seen[80:86] == bytes.fromhex(
            topo.dut_mac.replace(":", ""))
    finally:
        s.close()
        assert d.stop() == 0, d.output()


def test_a_link_local_address_the_kernel_holds_stays_the_kernels(topo, v6net):
    """skiffd's link-local address is the kernel's when the kernel has it on
    the interface (its EUI-64 from the same MAC): shared, the kernel answers
    its pings and solicitations, XDP never does."""
    ll = link_local(topo.dut_mac)
    topo.dut(["ip", "-6", "addr", "add", f"{ll}/64", "dev", topo.dut_if, "nodad"])
    d = sn.Skiffd(topo, standard_args(topo) + ["--addr", f"{v6(topo, 9)}/64"]).start()
    try:
        st = json.loads(d.ctl("status", "--json").stdout)
        a = [x for x in st["addresses"] if x["addr"] == ll]
        assert a and a[0]["mode"] == "shared" and a[0].get("link_local"), st
        topo.peer(["ip", "-6", "neigh", "flush", "dev", topo.peer_if])
        before = d.counters()
        assert ping6(topo, f"{ll}%{topo.peer_if}") == 3
        c = sn.delta(d.counters(), before)
        assert c["xdp.icmp6_echo_reply"] == 0 and c["xdp.nd_na_reply"] == 0, sn.nonzero(c)
        assert c["xdp.pass_ip6_shared"] >= 3, sn.nonzero(c)
    finally:
        assert d.stop() == 0, d.output()
        topo.dut(["ip", "-6", "addr", "del", f"{ll}/64", "dev", topo.dut_if], check=False)


@pytest.mark.parametrize("size", [56, 1452])
def test_ping6_of_a_dedicated_address_is_answered_by_xdp(topo, sk6, size):
    topo.peer(["ip", "-6", "neigh", "flush", "dev", topo.peer_if])
    before = sk6.counters()
    assert ping6(topo, v6(topo, 5), size=size) == 3
    c = sn.delta(sk6.counters(), before)
    assert c["xdp.icmp6_echo_reply"] >= 3, sn.nonzero(c)
    assert c["xdp.nd_na_reply"] >= 1, sn.nonzero(c)  # the kernel resolved us
    neigh = json.loads(topo.peer(["ip", "-j", "-6", "neigh", "show", v6(topo, 5),
                                  "dev", topo.peer_if]).stdout)
    assert neigh and neigh[0]["lladdr"] == topo.dut_mac, neigh


def test_the_solicitor_is_learned_into_neigh6(topo, sk6):
    topo.peer(["ip", "-6", "neigh", "flush", "dev", topo.peer_if])
    assert ping6(topo, v6(topo, 5), count=1) == 1
    entries = sn.map_dump(sk6.pin_dir / "neigh6")
    macs = [":".join(f"{b:02x}" for b in e["formatted"]["value"]["mac"]) for e in entries]
    assert topo.peer_mac in macs, entries
    neigh = json.loads(sk6.ctl("neigh", "--json").stdout)["neighbours"]
    assert {"ip": v6(topo, 1), "mac": topo.peer_mac} in [
        {"ip": n["ip"], "mac": n["mac"]} for n in neigh], neigh


def test_shared_ipv6_address_stays_the_kernels(topo, sk6):
    before = sk6.counters()
    assert ping6(topo, v6(topo, 2)) == 3
    c = sn.delta(sk6.counters(), before)
    assert c["xdp.icmp6_echo_reply"] == 0, sn.nonzero(c)
    assert c["xdp.pass_ip6_shared"] >= 3, sn.nonzero(c)


def test_a_kernel_claiming_the_dedicated_address_fails_dad(topo, sk6):
    """RFC 4862 5.4: XDP defends the address: the kernel's DAD probe gets an
    NA to all-nodes and the kernel gives the address up."""
    addr = v6(topo, 5)
    topo.peer(["sysctl", "-qw", f"net.ipv6.conf.{topo.peer_if}.accept_dad=1"])
    topo.peer(["ip", "-6", "addr", "add", f"{addr}/64", "dev", topo.peer_if])
    try:
        deadline = time.monotonic() + 6
        state = ""
        while time.monotonic() < deadline:
            state = topo.peer(["ip", "-6", "addr", "show", "dev", topo.peer_if]).stdout
            if "dadfailed" in state:
                break
            time.sleep(0.2)
        assert "dadfailed" in state, state
    finally:
        topo.peer(["ip", "-6", "addr", "del", f"{addr}/64", "dev", topo.peer_if], check=False)


def test_status_lists_the_ipv6_addresses_and_ipv4_goes_on(topo, sk6):
    st = json.loads(sk6.ctl("status", "--json").stdout)
    modes = {a["addr"]: a["mode"] for a in st["addresses"]}
    assert modes[v6(topo, 5)] == "dedicated" and modes[v6(topo, 2)] == "shared", st
    assert st["gateway6"] == v6(topo, 1), st
    payload = os.urandom(100)
    assert sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, payload) == payload


@pytest.mark.parametrize("addr,why", [
    ("fe80::5/64", "not a global or unique-local unicast IPv6 address"),
    ("ff02::5/64", "not a global or unique-local unicast IPv6 address"),
    ("2001:db8::5/129", "expected X:Y::Z/N (N from 1 to 128)"),
    ("2001:db8::5", "expected X:Y::Z/N (N from 1 to 128)"),
])
def test_bad_ipv6_addr_exits_2_with_one_line(topo, addr, why):
    rc, out = sn.skiffd_run_to_exit(topo, ["--addr", f"{topo.ded_ip}/{topo.prefix}",
                                           "--addr", addr])
    assert rc == 2 and why in out and len(out.strip().splitlines()) == 1, out


def test_closed_ports_of_a_dedicated_ipv6_address_refuse_like_a_host(topo, sk6):
    """No IPv6 sockets yet: TCP gets a RST (connection refused at once), UDP
    an ICMPv6 port unreachable (a connected socket sees ECONNREFUSED)."""
    before = sk6.counters()
    with sn.in_netns(topo.peer_ns):
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        t.settimeout(3)
        with pytest.raises(ConnectionRefusedError):
            t.connect((v6(topo, 5), 8080))
        u.settimeout(3)
        u.connect((v6(topo, 5), 9999))
        u.send(b"anyone?")
        with pytest.raises(ConnectionRefusedError):
            u.recv(100)
    finally:
        t.close()
        u.close()
    c = sn.delta(sk6.counters(), before)
    assert c["u.tcp6_rst_sent"] >= 1 and c["u.icmp6_err_sent"] >= 1, sn.nonzero(c, "u.")




def test_fragmented_pings_and_datagrams_are_reassembled(topo, sk6):
    """RFC 8200 4.5 with the kernel on both ends of a fragment train: the
    peer fragments a 4000-byte echo request, skiffd reassembles it and
    fragments the reply, the peer reassembles that; a 3000-byte UDP
    datagram to a closed port comes back as port unreachable."""
    before = sk6.counters()
    assert ping6(topo, v6(topo, 5), size=4000) == 3
    with sn.in_netns(topo.peer_ns):
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        u.settimeout(3)
        u.connect((v6(topo, 5), 9999))
        u.send(b"x" * 3000)
        with pytest.raises(ConnectionRefusedError):
            u.recv(100)
    finally:
        u.close()
    c = sn.delta(sk6.counters(), before)
    assert c["u.ip6_reasm_ok"] >= 4 and c["u.ip6_frag_rx"] >= 3 * 3 + 3, sn.nonzero(c, "u.")
    assert c["u.icmp6_echo_reply"] >= 3 and c["u.ip6_frag_created"] >= 3 * 3, sn.nonzero(c, "u.")
    assert c["u.drop.ip_frag_overlap"] == 0 and c["u.drop.ip_frag_timeout"] == 0


def refused_from(topo, src, port):
    """A TCP connect from the peer's address src to skiff's dedicated IPv6
    address: no IPv6 sockets, so skiffd's RST refuses it at once."""
    with sn.in_netns(topo.peer_ns):
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        t.settimeout(5)
        t.bind((src, 0))
        with pytest.raises(ConnectionRefusedError):
            t.connect((v6(topo, 5), port))
    finally:
        t.close()


def test_skiffd_resolves_a_neighbour_xdp_never_heard_from(topo, sk6):
    """RFC 4861 7.2: the kernel peer knows skiff's MAC by hand (a permanent
    neighbour entry), so it sends no Neighbor Solicitation that XDP could
    learn it from; skiffd's RST to its TCP SYN needs the peer's MAC: the
    daemon solicits, the kernel advertises, the RST goes out."""
    src = v6(topo, 9)
    topo.peer(["ip", "-6", "addr", "add", f"{src}/64", "dev", topo.peer_if, "nodad"])
    topo.peer(["ip", "-6", "neigh", "replace", v6(topo, 5), "lladdr", topo.dut_mac,
               "nud", "permanent", "dev", topo.peer_if])
    before = sk6.counters()
    try:
        refused_from(topo, src, 8081)
    finally:
        topo.peer(["ip", "-6", "neigh", "del", v6(topo, 5), "dev", topo.peer_if], check=False)
        topo.peer(["ip", "-6", "addr", "del", f"{src}/64", "dev", topo.peer_if], check=False)
    c = sn.delta(sk6.counters(), before)
    assert c["u.nd_ns_sent"] >= 1 and c["u.nd_na_rx"] >= 1, sn.nonzero(c, "u.")
    assert c["u.nd_resolved"] >= 1 and c["u.tcp6_rst_sent"] >= 1, sn.nonzero(c, "u.")
    assert c["xdp.nd_learn"] == 0, sn.nonzero(c, "xdp.")


def test_a_silent_neighbour_is_listed_incomplete_then_failed(topo, sk6):
    """A SYN from an on-link address nobody answers for: skiffd's RST waits
    for Neighbor Discovery; `skiffctl neigh` lists the address as
    incomplete on the worker, then failed after three solicitations."""
    from scapy.layers.inet import TCP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether

    ghost = v6(topo, 0x77)
    tx = sn.RawSender(topo)
    before = sk6.counters()
    try:
        tx.send(Ether(src=topo.peer_mac, dst=topo.dut_mac) /
                IPv6(src=ghost, dst=v6(topo, 5)) / TCP(sport=40000, dport=8082, flags="S"))
    finally:
        tx.close()

    def state():
        for n in json.loads(sk6.ctl("neigh", "--json").stdout)["neighbours"]:
            if n["ip"] == ghost:
                return n["state"]
        return None

    deadline = time.monotonic() + 2
    while state() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state() == "incomplete"
    deadline = time.monotonic() + 6
    while state() != "failed" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state() == "failed"
    c = sn.delta(sk6.counters(), before)
    assert c["u.nd_ns_sent"] >= 3 and c["u.nd_failed"] >= 1, sn.nonzero(c, "u.")
    assert c["u.drop.nd_unresolved"] >= 1 and c["u.nd_resolved"] == 0, sn.nonzero(c, "u.")


def test_an_off_link_source_is_answered_through_gateway6(topo, sk6):
    """The peer sends from an address on its loopback, off every prefix of
    skiff's: skiffd's RST goes to --gateway6 (the peer's on-link address,
    resolved by NDP), and the peer, routing its own address, takes it."""
    far = "2001:db8:ee::1"
    topo.peer(["sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0"])
    topo.peer(["ip", "-6", "addr", "add", f"{far}/128", "dev", "lo"])
    before = sk6.counters()
    try:
        refused_from(topo, far, 8083)
    finally:
        topo.peer(["ip", "-6", "addr", "del", f"{far}/128", "dev", "lo"], check=False)
    c = sn.delta(sk6.counters(), before)
    assert c["u.tcp6_rst_sent"] >= 1, sn.nonzero(c, "u.")
    routes = [r for r in sk6.ctl_json("routes")["routes"] if r["family"] == "inet6"]
    default = [r for r in routes if r["kind"] == "default"]
    assert default and default[0]["gateway"] == v6(topo, 1) and default[0]["uses"] >= 1, routes


def test_a_static_ipv6_route_carries_its_prefix(topo, sk6):
    """skiffd --route 2001:db8:ef::/48 via <peer>: the RST to a SYN from
    2001:db8:ef::1 (the peer's loopback) takes the static route, not the
    default one."""
    far = f"{STATIC_NET}1"
    topo.peer(["sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0"])
    topo.peer(["ip", "-6", "addr", "add", f"{far}/128", "dev", "lo"])

    def uses():
        return {r["kind"]: r["uses"] for r in sk6.ctl_json("routes")["routes"]
                if r["family"] == "inet6" and r["kind"] in ("static", "default")}
    before = uses()
    try:
        refused_from(topo, far, 8084)
    finally:
        topo.peer(["ip", "-6", "addr", "del", f"{far}/128", "dev", "lo"], check=False)
    after = uses()
    assert after["static"] > before["static"] and after["default"] == before["default"], \
        (before, after)


def test_skiffctl_routes_lists_the_ipv6_routes_like_ip_6_route(topo, sk6):
    out = sk6.ctl("routes").stdout
    net = v6(topo, 5).rsplit("::", 1)[0] + "::"
    assert f"default via {v6(topo, 1)} dev {topo.dut_if} src {v6(topo, 5)} uses" in out, out
    assert f"{net}/64 dev {topo.dut_if} scope link src {v6(topo, 5)} uses" in out, out
    # from skiffd's own link-local address (RFC 6724 rule 2)
    assert f"fe80::/64 dev {topo.dut_if} scope link src {link_local(topo.dut_mac)} uses" \
        in out, out
    assert f"{STATIC_NET}/48 via {v6(topo, 1)} dev {topo.dut_if} src {v6(topo, 5)} uses" in out, out
    # the two IPv6 addresses share their /64: one route
    assert out.count(f"{net}/64 ") == 1, out


@pytest.mark.parametrize("size,by", [(56, "xdp"), (1452, "xdp"), (4000, "daemon")])
def test_ping6_of_the_link_local_address(topo, sk6, size, by):
    """RFC 4862 5.3: skiffd's own fe80:: address, from its MAC, answered
    like the dedicated one: XDP for one frame, the daemon (reassembly,
    fragmented reply from the link-local address) for 4000 bytes."""
    ll = link_local(topo.dut_mac)
    topo.peer(["ip", "-6", "neigh", "flush", "dev", topo.peer_if])
    before = sk6.counters()
    assert ping6(topo, f"{ll}%{topo.peer_if}", size=size) == 3
    c = sn.delta(sk6.counters(), before)
    if by == "xdp":
        assert c["xdp.icmp6_echo_reply"] >= 3, sn.nonzero(c)
    else:
        assert c["u.icmp6_echo_reply"] >= 3 and c["u.ip6_reasm_ok"] >= 3, sn.nonzero(c)
    assert c["xdp.nd_na_reply"] >= 1, sn.nonzero(c)  # the kernel resolved it
    st = json.loads(sk6.ctl("status", "--json").stdout)
    assert {"addr": ll, "prefix_len": 64, "mode": "dedicated", "link_local": True} in \
        st["addresses"], st


def test_ndisc6_resolves_the_dedicated_and_link_local_addresses(topo, sk6):
    """ndisc6 (RFC 4861 address resolution, as a tool sees it): XDP's NA
    for a dedicated address and for skiffd's link-local one comes from the
    address asked for and names our MAC (test_xdp6 checks its exact bytes,
    flags included)."""
    before = sk6.counters()
    for addr in (v6(topo, 5), link_local(topo.dut_mac)):
        p = topo.peer(["ndisc6", "-v", "-1", "-r", "3", "-w", "1000", addr, topo.peer_if],
                      check=False, timeout=15)
        out = p.stdout + p.stderr
        assert p.returncode == 0, out
        assert topo.dut_mac.upper() in out.upper(), out
        assert f" from {addr}" in out, out
    c = sn.delta(sk6.counters(), before)
    assert c["xdp.nd_na_reply"] >= 2, sn.nonzero(c)


def test_nmap_scan_of_a_dedicated_address_finds_only_the_services_open(topo, sk6):
    """nmap -6 from the peer: the echo and discard services' TCP ports are
    open, every other TCP port answers with a RST (closed), UDP ports with
    no socket with port unreachable (closed), within the ICMPv6 error budget
    of RFC 4443 2.4 f."""
    before = sk6.counters()
    p = topo.peer(["nmap", "-6", "-n", "-Pn", "-sS", "-p", "1-300", "--max-retries", "1",
                   v6(topo, 5)], check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    opened = sorted(int(ln.split("/")[0]) for ln in p.stdout.splitlines()
                    if "/tcp" in ln and " open " in ln)
    assert opened == [ECHO_PORT, DISCARD_PORT], p.stdout
    assert "298 closed tcp ports (reset)" in p.stdout, p.stdout
    p = topo.peer(["nmap", "-6", "-n", "-Pn", "-sU", "-p", "100-119", "--max-retries", "2",
                   v6(topo, 5)], check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    closed = [ln for ln in p.stdout.splitlines() if "/udp" in ln and " closed " in ln]
    assert len(closed) == 20 or "20 closed udp ports (port-unreach)" in p.stdout, p.stdout
    c = sn.delta(sk6.counters(), before)
    assert c["u.tcp6_rst_sent"] >= 298 or c["u.tcp_rst_noconn"] >= 298, sn.nonzero(c, "u.")
    assert c["u.icmp6_err_sent"] >= 20, sn.nonzero(c, "u.")

def test_a_shared_address_steers_only_the_ports_skiff_owns(topo, sk6):
    """The shared IPv6 address: an entry of ports6 (what a skiff socket's
    bind writes; put there by hand here) steers its port to skiffd, whole
    datagrams and fragmented ones (frags6), while the kernel's own
    sockets on other ports of the same address and its ping keep working;
    the kernel never sees the steered port's datagrams."""
    shared = v6(topo, 2)
    key = list(socket.inet_pton(socket.AF_INET6, shared)) + [0x1e, 0x61, 17, 0]  # :7777/UDP
    pin = str(sk6.pin_dir / "ports6")
    with sn.in_netns(topo.dut_ns):
        kern = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        owned = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    kern.bind((shared, 5555))
    owned.bind((shared, 7777))
    kern.settimeout(3)
    owned.settimeout(0.5)
    with sn.in_netns(topo.peer_ns):
        p = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        sn.run(["bpftool", "map", "update", "pinned", pin, "key", "hex"] +
               [f"{x:02x}" for x in key] + ["value", "hex"] + ["01"] + ["00"] * 7)
        before = sk6.counters()
        p.sendto(b"to the kernel", (shared, 5555))
        assert kern.recvfrom(100)[0] == b"to the kernel"
        p.sendto(b"to skiff", (shared, 7777))
        p.sendto(os.urandom(3000), (shared, 7777))  # three fragments at MTU 1500
        with pytest.raises(socket.timeout):
            owned.recvfrom(4000)
        assert ping6(topo, shared) == 3
        c = sn.delta(sk6.counters(), before)
        assert c["xdp.to_stack"] >= 4 and c["xdp.frag6_first"] == 1, sn.nonzero(c, "xdp.")
        assert c["xdp.frag6_follow"] >= 1 and c["xdp.pass_port6"] >= 1, sn.nonzero(c, "xdp.")
        assert c["xdp.pass_ip6_shared"] >= 3, sn.nonzero(c, "xdp.")
    finally:
        sn.run(["bpftool", "map", "delete", "pinned", pin, "key", "hex"] +
               [f"{x:02x}" for x in key], check=False)
        kern.close()
        owned.close()
        p.close()


def test_packet_too_big_lowers_the_path_mtu_of_the_daemons_replies(topo, sk6):
    """RFC 8201: a Packet Too Big from the peer about one of our packets
    (quoting it: from our dedicated address, longer than the MTU it reports)
    lowers the path MTU: skiffctl pmtu lists it, and the daemon's 4000-byte
    echo replies leave in four fragments of at most 1280 bytes instead of
    three of 1500."""
    import struct
    ours, peer = v6(topo, 5), v6(topo, 1)
    quote = (struct.pack("!IHBB", 6 << 28, 1400, 58, 64) +
             socket.inet_pton(socket.AF_INET6, ours) + socket.inet_pton(socket.AF_INET6, peer) +
             bytes(64))
    with sn.in_netns(topo.peer_ns):
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    try:
        before = sk6.counters()
        # the kernel fills the ICMPv6 checksum of a raw ICMPv6 socket
        s.sendto(struct.pack("!BBHI", 2, 0, 0, 1280) + quote, (ours, 0))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and \
                sn.delta(sk6.counters(), before)["u.pmtu6_updates"] < 1:
            time.sleep(0.05)
    finally:
        s.close()
    c = sn.delta(sk6.counters(), before)
    assert c["u.icmp6_ptb_rx"] == 1 and c["u.pmtu6_updates"] == 1, sn.nonzero(c, "u.")
    out = sk6.ctl("pmtu").stdout
    assert f"{peer} dev {topo.dut_if} mtu 1280 expires " in out, out
    rows = json.loads(sk6.ctl("pmtu", "--json").stdout)["pmtu"]
    assert [r["mtu"] for r in rows if r["dst"] == peer] == [1280], rows
    before = sk6.counters()
    assert ping6(topo, ours, size=4000) == 3
    c = sn.delta(sk6.counters(), before)
    assert c["u.icmp6_echo_reply"] == 3, sn.nonzero(c, "u.")
    assert c["u.ip6_frag_created"] == 4 * 3, sn.nonzero(c, "u.")


def test_hostile_ipv6_frames_leave_skiffd_serving(topo, sk6):
    """scapy from the peer: an extension header chain over 8 to the shared
    address goes to the kernel untouched (pass_ip6_ext), one longer than
    its payload is dropped by XDP; a spoofed NA claiming skiffd's
    link-local address for another MAC is counted as a conflict and never
    learnt: the peer still reaches the link-local address at our MAC."""
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6,
                                    IPv6ExtHdrDestOpt)
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    ll, evil = link_local(topo.dut_mac), "02:66:66:66:66:66"
    eth = Ether(dst=topo.dut_mac, src=topo.peer_mac)
    chain = IPv6ExtHdrDestOpt()
    for _ in range(8):
        chain = chain / IPv6ExtHdrDestOpt()
    long_chain = eth / IPv6(src=v6(topo, 1), dst=v6(topo, 2)) / chain / \
        UDP(sport=4000, dport=5555) / Raw(b"x" * 8)
    short = bytearray(bytes(eth / IPv6(src=v6(topo, 1), dst=v6(topo, 2), plen=16) /
                            IPv6ExtHdrDestOpt(len=4, nh=17) / Raw(bytes(40))))
    spoof = eth / IPv6(src=v6(topo, 1), dst=v6(topo, 5), hlim=255) / \
        ICMPv6ND_NA(tgt=ll, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=evil)
    tx = sn.RawSender(topo)
    before = sk6.counters()
    try:
        tx.send([bytes(long_chain), bytes(short), bytes(spoof)])
        time.sleep(0.3)
    finally:
        tx.close()
    c = sn.delta(sk6.counters(), before)
    assert c["xdp.pass_ip6_ext"] >= 1 and c["xdp.drop_ip6_malformed"] >= 1, sn.nonzero(c)
    assert c["u.nd_conflict"] >= 1, sn.nonzero(c, "u.")
    neigh = json.loads(sk6.ctl("neigh", "--json").stdout)["neighbours"]
    assert all(n["ip"] != ll for n in neigh), neigh
    topo.peer(["ip", "-6", "neigh", "flush", "dev", topo.peer_if])
    assert ping6(topo, f"{ll}%{topo.peer_if}") == 3
    got = json.loads(topo.peer(["ip", "-j", "-6", "neigh", "show", ll, "dev",
                                topo.peer_if]).stdout)
    assert got and got[0]["lladdr"] == topo.dut_mac, got


def test_a_skiff_service_answers_on_the_shared_address_beside_the_kernel(topo, sk6):
    """The echo service (a dual-stack socket: its bind writes {::, 7, UDP}
    and {::, 7, TCP} into ports6) answers on the kernel's IPv6 address,
    while the kernel's own socket and ping on that address keep working."""
    shared = v6(topo, 2)
    with sn.in_netns(topo.dut_ns):
        kern = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    with sn.in_netns(topo.peer_ns):
        p = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    kern.bind((shared, 5556))
    kern.settimeout(3)
    try:
        before = sk6.counters()
        payload = os.urandom(1200)
        assert sn.udp_exchange(topo, shared, ECHO_PORT, payload, sock=p) == payload
        p.sendto(b"kernel's", (shared, 5556))
        assert kern.recvfrom(100)[0] == b"kernel's"
        assert ping6(topo, shared) == 3
        c = sn.delta(sk6.counters(), before)
        assert c["xdp.to_stack"] >= 1 and c["xdp.pass_port6"] >= 1, sn.nonzero(c, "xdp.")
        assert c["xdp.icmp6_echo_reply"] == 0, sn.nonzero(c, "xdp.")
    finally:
        kern.close()
        p.close()
