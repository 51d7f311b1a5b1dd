# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""skiffctl against a running skiffd (over /run/skiff/<ifname>.<netns>.sock
of the dut namespace), and the pinned maps as bpftool shows them."""

import json

import pytest

import skiffnet as sn
from conftest import ECHO_PORT

pytestmark = pytest.mark.usefixtures("need_skiff")

COMMANDS = ["status", "stats", "neigh", "sockets", "routes"]


@pytest.fixture(scope="module", autouse=True)
def traffic(topo, daemon):
    """Some traffic first, so the tables have something to show."""
    sn.ping(topo, topo.ded_ip, count=2)
    sn.udp_exchange(topo, topo.ded_ip, ECHO_PORT, b"hello")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_skiffctl_command_prints_something(sk, cmd):
    p = sk.ctl(cmd)
    assert p.stdout.strip(), f"skiffctl {cmd} printed nothing; stderr: {p.stderr}"


@pytest.mark.parametrize("cmd", COMMANDS)
def test_skiffctl_json_parses(sk, cmd):
    p = sk.ctl("--json", cmd)
    try:
        json.loads(p.stdout)
    except ValueError as e:
        pytest.fail(f"skiffctl --json {cmd} is not JSON ({e}):\n{p.stdout[:2000]}")


def test_skiffctl_sockets_lists_the_services(sk):
    out = sk.ctl("sockets").stdout
    assert str(ECHO_PORT) in out and "9" in out, out


def test_skiffctl_neigh_shows_the_peer(topo, sk):
    out = sk.ctl("neigh").stdout
    assert topo.peer_ip in out and topo.peer_mac in out.lower(), out


def test_skiffctl_stats_shows_xdp_and_daemon_counters(sk):
    out = sk.ctl("stats").stdout
    assert "icmp_echo_reply" in out and "rx_packets" in out, out


XSK_FIELDS = ("rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full",
              "rx_fill_ring_empty_descs", "tx_ring_empty_descs")


def test_skiffctl_json_stats_has_each_queues_xsk_kernel_counters(sk):
    """Every queue carries its AF_XDP socket's own counters (getsockopt
    XDP_STATISTICS), all six as integers on this kernel."""
    j = sk.ctl_json("stats")
    assert j["queues"], j
    for q in j["queues"]:
        xsk = q.get("xsk")
        assert isinstance(xsk, dict), f"queue {q['queue']}: xsk = {xsk!r}"
        assert set(xsk) == set(XSK_FIELDS), sorted(xsk)
        for name in XSK_FIELDS:
            v = xsk[name]
            assert isinstance(v, int) and not isinstance(v, bool) and v >= 0, (name, v)


def test_skiffctl_stats_text_has_the_xsk_section(sk):
    out = sk.ctl("stats").stdout
    head, sep, tail = out.partition("AF_XDP sockets, kernel counters (non-zero)\n")
    assert sep, out
    assert "rx_packets" in head and "icmp_echo_reply" in head, out
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    assert lines, out
    # either "none" or one line per queue with non-zero counters
    assert lines == ["  none"] or all(ln.startswith("  queue ") for ln in lines), out
    for ln in lines:
        assert "could not read" not in ln, out


def test_skiffctl_without_daemon_fails_clearly(topo, sk):
    p = sn.ns_run(topo.dut_ns, [sn.SKIFFCTL, "--iface", "nosuchif0", "status"], check=False)
    assert p.returncode != 0 and p.stderr.strip(), p.stdout + p.stderr


def test_bpftool_dump_of_stats_prints_named_fields(sk):
    out = sn.run(["bpftool", "map", "dump", "pinned", sk.pin_dir / "stats"]).stdout
    for name in ("rx_frames", "icmp_echo_reply", "to_stack", "to_kernel"):
        assert f'"{name}"' in out, out[:1500]
    c = sk.counters()
    assert c["xdp.icmp_echo_reply"] >= 2 and c["u.udp_rx"] >= 1


def test_skiffctl_json_counters_match_the_pinned_maps(topo, sk):
    """skiffctl reads the same counters bpftool dumps (idle daemon: no
    traffic between the two reads; gauges may still move)."""
    maps = sk.counters()
    ctl = sk.ctl_counters()
    common = [k for k in maps if k in ctl and not k.split(".")[-1].startswith("frames_")]
    assert len(common) > 50, f"few counters in common: {sorted(set(maps) ^ set(ctl))[:20]}"
    differ = {k: (maps[k], ctl[k]) for k in common if maps[k] != ctl[k]}
    assert not differ, f"bpftool vs skiffctl: {differ}"
    assert ctl["xdp.icmp_echo_reply"] >= 2 and ctl["u.udp_rx"] >= 1


def test_skiffctl_status_json_describes_the_set_up(topo, sk):
    st = sk.ctl_json("status")
    text = json.dumps(st)
    for token in (topo.dut_if, topo.ded_ip, topo.dut_ip, str(sk.pin_dir)):
        assert token in text, f"{token} not in status: {text[:1000]}"


def test_every_documented_map_is_pinned(sk):
    for name in ("config", "addrs", "ports", "neigh", "frags", "xsks", "stats", "ustats"):
        assert (sk.pin_dir / name).exists(), f"{name} not pinned in {sk.pin_dir}: " \
                                             f"{sorted(p.name for p in sk.pin_dir.iterdir())}"
