# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Shared machinery of the integration tests: namespaces, veth, skiffd, counters.

A Topology is two network namespaces joined by one veth pair:

    peer ns (the Linux kernel as the reference peer)     dut ns (skiffd runs here)
    <peer_if> 10.77.<n>.1/24  <---------- veth ---------->  <dut_if> 10.77.<n>.2/24
                                                            (+ 10.77.<n>.3 dedicated
                                                               to skiff, not on the kernel)

Names carry the PID of the test process and a sequence number, so parallel runs
and several topologies in one run never collide; every namespace, pin directory
and skiffd process is registered and removed by Topology.close()/Skiffd.stop(),
and again at interpreter exit and on SIGTERM/SIGHUP.  docs/veth.md explains why
the peer side is set up the way it is (checksum/TSO offloads off, an XDP_PASS
program on the peer veth) and why processes enter the namespace with
`nsenter --net=` rather than `ip netns exec`.

Sockets on either side are created inside the process: in_netns() switches the
calling thread into a namespace with setns(2) just long enough to create the
socket, which then stays in that namespace for its whole life.

Counters come from the pinned maps through `bpftool -j map dump pinned`:
Skiffd.counters() returns one flat dict whose keys are
    "xdp.<field>"          per-CPU XDP counters (struct skiff_xdp_stats), summed
    "u.<field>"            daemon counters (struct skiff_ustats), summed over queues
    "u.drop.<reason>"      daemon drop reasons (struct skiff_drop_stats), summed
    "u<q>.<field>"         the same per queue q (e.g. "u1.rx_packets")
and delta(after, before) subtracts two snapshots.

Topology(impaired=dict(...)) puts a third namespace between the two, a relay
running the userspace impairment bridge build/tests/tools/impair (this kernel
has no sch_netem):

    peer ns  <peer_if> <--veth--> <relay_a> relay ns <relay_b> <--veth--> <dut_if>  dut ns
                                  impair --a relay_a --b relay_b --loss ...

The keys of the dict are impair's options without the dashes ("loss", "dup",
"corrupt", "reorder" in percent, "delay", "jitter", "reorder_hold" in ms,
"seed"); a suffix "_ab" applies to peer->dut only, "_ba" to dut->peer only
(e.g. loss_ab=5).  An empty dict bridges without impairment.  MAC addresses
pass through unchanged, so everything else works as on the direct veth.
topo.set_impairment(**params) restarts the bridge with new parameters and
topo.impair_stats() returns its counters ({"ab.lost": n, ...}).

Topology(far=True) adds a namespace behind the peer, which routes (ip_forward):
    far ns <far_if> 10.78.<n>.2/24 <--veth--> <rtr_if> 10.78.<n>.1/24 peer ns
far's default route is the peer; the dut reaches topo.far_net only through a
route via topo.peer_ip (skiffd --route, tests/integration/test_routes.py).
"""

import atexit
import contextlib
import ctypes
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SKIFF_BUILD", "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
SKIFFD = BUILD / "skiffd"
SKIFFCTL = BUILD / "skiffctl"
CTL_DIR = "/run/skiff"
XDP_PASS_OBJ = Path(os.environ.get("SKIFF_XDP_PASS_OBJ", BUILD / "bpf" / "xdp_pass.bpf.o"))
IMPAIR = BUILD / "tests" / "tools" / "impair"
SKIFF_H = ROOT / "include" / "skiff" / "skiff.h"
BPFFS = Path("/sys/fs/bpf")

PID = os.getpid()
_seq = itertools.count(1)
_lock = threading.Lock()
_topologies = []  # live Topology objects, for emergency cleanup
_daemons = []  # live Skiffd objects
LOGDIR = Path(tempfile.mkdtemp(prefix=f"skiff-it-{PID}-"))
READY_TIMEOUT = float(os.environ.get("SKIFF_READY_TIMEOUT", "20"))


class CmdError(AssertionError):
    """A helper command failed; the message carries its argv, status and output."""


def run(argv, check=True, timeout=30, input=None):
    """Run argv, capture text output; raise CmdError (with output) on failure."""
    argv = [str(a) for a in argv]
    try:
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                   timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise CmdError(f"timed out after {timeout}s: {' '.join(argv)}\n"
                   f"stdout: {e.stdout}\nstderr: {e.stderr}") from None
    if check and p.returncode != 0:
        raise CmdError(f"exit {p.returncode}: {' '.join(argv)}\n"
                   f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def nsenter(ns, argv):
    """argv prefixed to run in network namespace ns (same mount namespace, so
    bpffs pins are shared with every other process)."""
    return ["nsenter", f"--net=/run/netns/{ns}", *[str(a) for a in argv]]


def ns_run(ns, argv, **kw):
    return run(nsenter(ns, argv), **kw)


# ---- in-process namespace switching (sockets) ----

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@contextlib.contextmanager
def in_netns(ns):
    """Run the body with the calling thread in namespace ns.  Sockets created
    inside stay in ns after the block ends."""
    with open("/proc/thread-self/ns/net") as orig, open(f"/run/netns/{ns}") as target:
        _setns(target.fileno())
        try:
            yield
        finally:
            _setns(orig.fileno())


def ns_socket(ns, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
    with in_netns(ns):
        return socket.socket(family, type, proto)


def unix_sockets(ns, listening=False):
    """Paths of the unix sockets in ns ('@name' for abstract ones); with
    listening, only those accepting connections (Flags __SO_ACCEPTCON):
    skiffd binds its control socket first and listens once ready."""
    with in_netns(ns):
        with open("/proc/thread-self/net/unix") as f:
            lines = f.read().splitlines()[1:]
    return {ln.split()[7] for ln in lines if len(ln.split()) >= 8
            and (not listening or int(ln.split()[3], 16) & 0x10000)}


def netns_id(ns):
    """The inode number of namespace ns (what /proc/self/ns/net stats to
    inside it): part of skiffd's control socket name."""
    return os.stat(f"/run/netns/{ns}").st_ino


def ctl_socket_path(ns, iface):
    """skiffd's control socket for iface in namespace ns (cmd/control.h)."""
    return f"{CTL_DIR}/{iface}.{netns_id(ns)}.sock"


def ensure_bpffs():
    """bpffs must be mounted at /sys/fs/bpf in the root mount namespace."""
    with open("/proc/mounts") as f:
        if any(ln.split()[1] == str(BPFFS) and ln.split()[2] == "bpf" for ln in f):
            return
    run(["mount", "-t", "bpf", "bpf", BPFFS])


def need_root_reason():
    if os.geteuid() != 0:
        return "integration tests need root (namespaces, veth, XDP)"
    return None


# ---- topology ----

class Topology:
    """Two namespaces joined by a veth pair with the kernel configured as peer.

    queues: RX/TX queue count of both veth ends.  peer_xdp: attach the
    XDP_PASS program on the peer veth (needed for XDP_TX/AF_XDP frames to
    reach the peer); None means "if the object exists".  impaired: None for
    the direct veth, or a dict of impair parameters for the relay topology
    (see the module docstring).
    """

    def __init__(self, queues=1, peer_xdp=None, impaired=None, far=False):
        self.n = next(_seq)
        base = f"skp{PID}-{self.n}"
        self.peer_ns = f"{base}-peer"
        self.dut_ns = f"{base}-dut"
        self.peer_if = f"sk{PID}-{self.n}p"
        self.dut_if = f"sk{PID}-{self.n}d"
        assert len(self.peer_if) <= 15 and len(self.dut_if) <= 15
        net = f"10.77.{self.n % 250}"
        self.prefix = 24
        self.peer_ip = f"{net}.1"
        self.dut_ip = f"{net}.2"  # the kernel's (shared when given to skiffd)
        self.ded_ip = f"{net}.3"  # dedicated to skiff
        self.other_ip = f"{net}.50"  # nobody's
        self.queues = queues
        if peer_xdp is None:
            peer_xdp = XDP_PASS_OBJ.exists()
        self.peer_xdp = peer_xdp
        self.peer_mac = self.dut_mac = None
        self.impaired = None if impaired is None else dict(impaired)
        self.relay_ns = f"{base}-relay" if impaired is not None else None
        self.relay_a = f"sk{PID}-{self.n}a"  # relay end facing the peer
        self.relay_b = f"sk{PID}-{self.n}b"  # relay end facing the dut
        # far=True: a third namespace behind the peer, which routes (see _setup_far)
        self.far_ns = f"{base}-far" if far else None
        self.rtr_if = f"sk{PID}-{self.n}r"  # the peer's end towards far
        self.far_if = f"sk{PID}-{self.n}f"
        far_net = f"10.78.{self.n % 250}"
        self.far_net = f"{far_net}.0/24"
        self.rtr_ip = f"{far_net}.1"  # the peer (router) on the far link
        self.far_ip = f"{far_net}.2"
        self.impair_proc = None
        self.impair_log = LOGDIR / f"impair-{self.n}.log"
        self.impair_stats_file = LOGDIR / f"impair-{self.n}.stats"
        self._pins = itertools.count(1)
        self.closed = False
        with _lock:
            _topologies.append(self)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _namespaces(self):
        return [ns for ns in (self.peer_ns, self.relay_ns, self.dut_ns, self.far_ns) if ns]

    def _setup(self):
        q = str(self.queues)
        for ns in self._namespaces():
            run(["ip", "netns", "add", ns])
            ns_run(ns, ["ip", "link", "set", "dev", "lo", "up"])
            # IPv6 off: no router solicitations or ND in the counters.
            ns_run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1"])
        if self.relay_ns is None:
            run(["ip", "link", "add", self.peer_if, "numtxqueues", q, "numrxqueues", q,
                 "netns", self.peer_ns, "type", "veth", "peer", "name", self.dut_if,
                 "numtxqueues", q, "numrxqueues", q, "netns", self.dut_ns])
        else:
            self._setup_relay_links(q)
        # The peer sends as a wire does: full checksums, no 64 KiB segments.
        ns_run(self.peer_ns, ["ethtool", "-K", self.peer_if, "tx", "off", "tso", "off",
                      "gso", "off"])
        if self.peer_xdp:
            self.attach_peer_xdp()
        ns_run(self.peer_ns, ["ip", "addr", "add", f"{self.peer_ip}/{self.prefix}",
                      "dev", self.peer_if])
        ns_run(self.dut_ns, ["ip", "addr", "add", f"{self.dut_ip}/{self.prefix}",
                     "dev", self.dut_if])
        ns_run(self.peer_ns, ["ip", "link", "set", "dev", self.peer_if, "up"])
        ns_run(self.dut_ns, ["ip", "link", "set", "dev", self.dut_if, "up"])
        self.peer_mac = link_info(self.peer_ns, self.peer_if)["address"]
        self.dut_mac = link_info(self.dut_ns, self.dut_if)["address"]
        deadline = time.monotonic() + 5
        while "LOWER_UP" not in link_info(self.peer_ns, self.peer_if)["flags"]:
            if time.monotonic() > deadline:
                raise CmdError(f"{self.peer_if}: carrier never came up")
            time.sleep(0.02)
        if self.relay_ns is not None:
            self.start_impair()
        if self.far_ns is not None:
            self._setup_far()

    def _setup_far(self):
        """far ns <far_if> far_ip/24 <--veth--> <rtr_if> rtr_ip/24 peer ns, the
        peer forwarding (ip_forward=1) between far and the dut link; far's
        default route is the peer, so the dut reaches far_net only through a
        route via peer_ip.  The far end sends as a wire (tx csum/TSO/GSO off)
        so what the peer forwards to skiff is wire-sized with full checksums;
        the peer veth already carries XDP_PASS (docs/veth.md)."""
        run(["ip", "link", "add", self.rtr_if, "netns", self.peer_ns, "type", "veth",
             "peer", "name", self.far_if, "netns", self.far_ns])
        ns_run(self.far_ns, ["ethtool", "-K", self.far_if, "tx", "off", "tso", "off",
                     "gso", "off"])
        ns_run(self.peer_ns, ["ethtool", "-K", self.rtr_if, "tx", "off", "tso", "off",
                      "gso", "off"])
        ns_run(self.peer_ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        ns_run(self.peer_ns, ["ip", "addr", "add", f"{self.rtr_ip}/24", "dev", self.rtr_if])
        ns_run(self.far_ns, ["ip", "addr", "add", f"{self.far_ip}/24", "dev", self.far_if])
        ns_run(self.peer_ns, ["ip", "link", "set", "dev", self.rtr_if, "up"])
        ns_run(self.far_ns, ["ip", "link", "set", "dev", self.far_if, "up"])
        ns_run(self.far_ns, ["ip", "route", "add", "default", "via", self.rtr_ip])
        deadline = time.monotonic() + 5
        while "LOWER_UP" not in link_info(self.far_ns, self.far_if)["flags"]:
            if time.monotonic() > deadline:
                raise CmdError(f"{self.far_if}: carrier never came up")
            time.sleep(0.02)

    def far(self, argv, **kw):
        return ns_run(self.far_ns, argv, **kw)

    def _setup_relay_links(self, q):
        """peer <-veth-> relay <-veth-> dut; the relay's ends are bridged by
        impair, so they must hand it wire-sized frames with full checksums:
        tx checksum/TSO/GSO off on every end that sends into the relay (the
        dut kernel too: its partial checksums would otherwise cross the
        bridge unfinished) and GRO/LRO off on the relay ends.  The relay ends
        receive XDP_TX/AF_XDP frames from skiffd (relay_b) and are NAPI
        devices for the frames impair sends, so they run XDP_PASS."""
        run(["ip", "link", "add", self.peer_if, "numtxqueues", q, "numrxqueues", q,
             "netns", self.peer_ns, "type", "veth", "peer", "name", self.relay_a,
             "numtxqueues", q, "numrxqueues", q, "netns", self.relay_ns])
        run(["ip", "link", "add", self.relay_b, "numtxqueues", q, "numrxqueues", q,
             "netns", self.relay_ns, "type", "veth", "peer", "name", self.dut_if,
             "numtxqueues", q, "numrxqueues", q, "netns", self.dut_ns])
        for ifname in (self.relay_a, self.relay_b):
            ns_run(self.relay_ns, ["ethtool", "-K", ifname, "tx", "off", "tso", "off",
                           "gso", "off", "gro", "off"])
            ns_run(self.relay_ns, ["ethtool", "-K", ifname, "lro", "off"], check=False)
            if XDP_PASS_OBJ.exists():
                run(["ip", "-n", self.relay_ns, "link", "set", "dev", ifname,
                     "xdpdrv", "obj", XDP_PASS_OBJ, "sec", "xdp"])
            ns_run(self.relay_ns, ["ip", "link", "set", "dev", ifname, "up"])
        ns_run(self.dut_ns, ["ethtool", "-K", self.dut_if, "tx", "off", "tso", "off",
                     "gso", "off"])

    def impair_argv(self, params=None):
        params = self.impaired if params is None else params
        argv = [IMPAIR, "--a", self.relay_a, "--b", self.relay_b,
                "--stats-file", self.impair_stats_file]
        for k, v in params.items():
            argv += [f"--{k.replace('_', '-')}", v]
        return [str(a) for a in argv]

    def start_impair(self, params=None):
        """Start the impairment bridge in the relay namespace; wait for its
        "impair: ready" line."""
        if not IMPAIR.exists():
            raise CmdError(f"{IMPAIR} not built (make tools)")
        if params is not None:
            self.impaired = dict(params)
        self._impair_out = open(self.impair_log, "a")
        self.impair_proc = subprocess.Popen(nsenter(self.relay_ns, self.impair_argv()),
                                            stdout=subprocess.PIPE, stderr=self._impair_out,
                                            stdin=subprocess.DEVNULL, text=True)
        line = self.impair_proc.stdout.readline()
        if "ready" not in line:
            self.impair_proc.wait(5)
            raise CmdError(f"impair did not start ({self.impair_proc.returncode}): "
                           f"{' '.join(self.impair_argv())}\n{self.impair_output()}")

    def stop_impair(self):
        """SIGTERM the bridge by PID; return its final counters."""
        p = self.impair_proc
        if p is None:
            return {}
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.impair_proc = None
        p.stdout.close()
        self._impair_out.close()
        return self._read_impair_stats()

    def set_impairment(self, **params):
        """Restart the bridge with new parameters (frames in flight are lost)."""
        self.stop_impair()
        self.start_impair(params)

    def impair_output(self):
        try:
            return self.impair_log.read_text(errors="replace")
        except OSError:
            return ""

    def _read_impair_stats(self):
        out = {}
        try:
            for ln in self.impair_stats_file.read_text().splitlines():
                k, _, v = ln.partition("=")
                out[k] = int(v)
        except (OSError, ValueError):
            pass
        return out

    def impair_stats(self, timeout=10.0):
        """Current counters of the running bridge (SIGUSR1 rewrites its stats
        file): {"ab.rx": .., "ab.lost": .., "ba.dup": ..}; ab = peer->dut."""
        p = self.impair_proc
        if p is None or p.poll() is not None:
            raise CmdError(f"impair is not running:\n{self.impair_output()}")
        # Remove the last dump first (it may be an earlier bridge's, written
        # at its exit): whatever appears now is this bridge's answer (it
        # writes a temporary file and renames it, so it appears whole).
        self.impair_stats_file.unlink(missing_ok=True)
        p.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not self.impair_stats_file.exists():
            if time.monotonic() > deadline:
                raise CmdError(f"impair wrote no counters within {timeout}s:\n"
                               f"{self.impair_output()}")
            time.sleep(0.01)
        return self._read_impair_stats()

    def attach_peer_xdp(self, obj=None):
        obj = obj or XDP_PASS_OBJ
        run(["ip", "-n", self.peer_ns, "link", "set", "dev", self.peer_if,
             "xdpdrv", "obj", obj, "sec", "xdp"])

    def new_pin_dir(self):
        """A pin directory unique to this run (skiffd creates and removes it)."""
        return BPFFS / f"skiff-test-{PID}-{self.n}-{next(self._pins)}"

    def peer(self, argv, **kw):
        return ns_run(self.peer_ns, argv, **kw)

    def dut(self, argv, **kw):
        return ns_run(self.dut_ns, argv, **kw)

    def dut_xdp(self):
        """`ip -j -d link` "xdp" object of the dut veth (mode, prog), or None."""
        return link_info(self.dut_ns, self.dut_if).get("xdp")

    def close(self):
        if self.closed:
            return
        self.closed = True
        for d in list(_daemons):
            if d.topo is self:
                d.kill()
        # impair keeps the relay namespace alive: stop it first
        if self.impair_proc is not None:
            self.stop_impair()
        for ns in self._namespaces():
            if Path(f"/run/netns/{ns}").exists():
                run(["ip", "netns", "del", ns], check=False)
        with _lock:
            if self in _topologies:
                _topologies.remove(self)


def link_info(ns, ifname):
    out = ns_run(ns, ["ip", "-j", "-d", "link", "show", "dev", ifname]).stdout
    return json.loads(out)[0]


# ---- traffic helpers (peer side) ----

def ping(topo, dst, count=3, size=56, interval=0.05, wait=2, ns=None):
    """Ping from the peer; return the number of replies."""
    p = ns_run(ns or topo.peer_ns, ["ping", "-n", "-q", "-c", count, "-i", interval,
                     "-W", wait, "-s", size, dst],
           check=False, timeout=count * (interval + wait) + 10)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    if not m:
        raise CmdError(f"ping output not understood:\n{p.stdout}\n{p.stderr}")
    return int(m.group(2))


def udp_exchange(topo, dst, port, payload, timeout=3.0, sock=None):
    """Send payload from a fresh peer UDP socket; return the reply bytes
    (None on timeout)."""
    s = sock or ns_socket(topo.peer_ns)
    try:
        s.settimeout(timeout)
        s.sendto(payload, (dst, port))
        try:
            data, _ = s.recvfrom(65535)
            return data
        except socket.timeout:
            return None
    finally:
        if sock is None:
            s.close()


class RawSender:
    """An AF_PACKET socket bound to the peer veth, for hand-made frames."""

    def __init__(self, topo):
        with in_netns(topo.peer_ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            self.sock.bind((topo.peer_if, 0))

    def send(self, frames):
        if isinstance(frames, (bytes, bytearray)):
            frames = [frames]
        for f in frames:
            self.sock.send(bytes(f))

    def close(self):
        self.sock.close()


# ---- counters ----

def _header_struct_fields():
    """Fallback when a map has no BTF: field order of the counter structs,
    read from the X-macro lists in include/skiff/skiff.h."""
    text = re.sub(r"/\*.*?\*/", "", SKIFF_H.read_text(), flags=re.S)
    text = text.replace("\\\n", " ")
    macros = {}
    for m in re.finditer(r"#define\s+(SKIFF_\w+)\(X\)(.*)", text):
        macros[m.group(1)] = re.findall(r"\bX\((\w+)\)", m.group(2))

    def struct(name):
        body = re.search(r"struct " + name + r"\s*\{(.*?)\};", text, re.S).group(1)
        fields = []
        for stmt in body.split(";"):
            stmt = stmt.strip()
            m = re.fullmatch(r"(SKIFF_\w+)\(SKIFF_FIELD\)", stmt.replace(" ", ""))
            if m:
                fields += macros[m.group(1)]
            elif stmt.startswith("struct skiff_drop_stats"):
                fields += ["drop." + f for f in macros["SKIFF_DROPS"]]
            elif stmt.startswith("__u64"):
                fields.append(stmt.split()[1])
        return fields
    return struct("skiff_xdp_stats"), struct("skiff_ustats")


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def _raw_u64s(hexbytes):
    b = bytes(int(x, 16) for x in hexbytes)
    return [int.from_bytes(b[i:i + 8], "little") for i in range(0, len(b) - 7, 8)]


def map_dump(pin):
    """bpftool -j map dump of a pinned map (list of entries)."""
    return json.loads(run(["bpftool", "-j", "map", "dump", "pinned", pin]).stdout)


def read_counters(pin_dir):
    """Flat {counter: value} of the stats and ustats maps in pin_dir."""
    out = {}
    xfields = ufields = None
    for e in map_dump(Path(pin_dir) / "stats"):
        if "formatted" in e:
            percpu = [v["value"] for v in e["formatted"]["values"]]
        else:
            xfields = xfields or _header_struct_fields()[0]
            percpu = [dict(zip(xfields, _raw_u64s(v["value"]))) for v in e["values"]]
        for cpu in percpu:
            flat = {}
            _flatten("", cpu, flat)
            for k, v in flat.items():
                out["xdp." + k] = out.get("xdp." + k, 0) + v
    for e in map_dump(Path(pin_dir) / "ustats"):
        if "formatted" in e:
            q = e["formatted"]["key"]
            flat = {}
            _flatten("", e["formatted"]["value"], flat)
        else:
            ufields = ufields or _header_struct_fields()[1]
            q = int.from_bytes(bytes(int(x, 16) for x in e["key"]), "little")
            flat = dict(zip(ufields, _raw_u64s(e["value"])))
        for k, v in flat.items():
            out[f"u{q}.{k}"] = v
            out["u." + k] = out.get("u." + k, 0) + v
    return out


def delta(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


def nonzero(d, prefix=""):
    """The moved counters of a delta, for failure messages (summed keys only)."""
    return {k: v for k, v in sorted(d.items())
        if v and k.startswith(prefix) and not re.match(r"u\d+\.", k)}


def read_neigh(pin_dir):
    """{ip: mac} of the neigh map."""
    out = {}
    for e in map_dump(Path(pin_dir) / "neigh"):
        ip = socket.inet_ntoa(bytes(int(x, 16) for x in e["key"]))
        mac = ":".join(f"{int(x, 16):02x}" for x in e["value"][:6])
        out[ip] = mac
    return out


# ---- skiffd ----

class Skiffd:
    """One skiffd process in topo's dut namespace.

    args are the flags after --iface/--pin-dir.  start() waits until the
    control socket (/run/skiff/<ifname>.<netns>.sock) listens and the pinned
    stats map exists; stop()
    sends SIGTERM to the PID and returns the exit status.
    """

    def __init__(self, topo, args, pin_dir=None, iface=None, binary=None):
        self.topo = topo
        self.iface = iface or topo.dut_if
        self.pin_dir = Path(pin_dir) if pin_dir else topo.new_pin_dir()
        self.binary = Path(binary or SKIFFD)
        self.argv = [self.binary, "--iface", self.iface, "--pin-dir", self.pin_dir,
                 *[str(a) for a in args]]
        self.proc = None
        self.rc = None
        self.log = LOGDIR / f"skiffd-{topo.n}-{self.pin_dir.name}.log"

    @property
    def ctl_socket(self):
        return ctl_socket_path(self.topo.dut_ns, self.iface)

    def start(self, wait=True, timeout=None):
        self._errf = open(self.log, "w")
        self.proc = subprocess.Popen(nsenter(self.topo.dut_ns, self.argv),
                         stdout=self._errf, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
        with _lock:
            _daemons.append(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=None):
        timeout = timeout or READY_TIMEOUT
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.rc = self.proc.returncode
                raise CmdError(f"skiffd exited with {self.rc} before it was ready:\n"
                           f"{' '.join(map(str, self.argv))}\n{self.output()}")
            if (self.ctl_socket in unix_sockets(self.topo.dut_ns, listening=True)
                and (self.pin_dir / "stats").exists()
                and (self.pin_dir / "ustats").exists()):
                return
            if time.monotonic() > deadline:
                self.kill()
                raise CmdError(f"skiffd not ready after {timeout}s (no {self.ctl_socket}"
                           f" or no pins in {self.pin_dir}):\n{self.output()}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def output(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait(self, timeout=10):
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise CmdError(f"skiffd did not exit within {timeout}s:\n{self.output()}")
        self._forget()
        return self.rc

    def stop(self, timeout=10):
        """SIGTERM by PID; return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self):
        """Emergency stop (test failure or interrupted run): TERM, then KILL."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.rc = self.proc.returncode
        if self.pin_dir.exists() and str(self.pin_dir).startswith(str(BPFFS) + "/skiff-test-"):
            shutil.rmtree(self.pin_dir, ignore_errors=True)
        self._forget()

    def _forget(self):
        with _lock:
            if self in _daemons:
                _daemons.remove(self)
        if getattr(self, "_errf", None):
            self._errf.close()
            self._errf = None

    # -- observation --

    def counters(self):
        return read_counters(self.pin_dir)

    def wait_delta(self, before, pred, timeout=3.0):
        """Poll the counters until pred(delta) holds or timeout; return the
        last delta (the daemon updates its counters after the XDP ones)."""
        deadline = time.monotonic() + timeout
        while True:
            d = delta(self.counters(), before)
            if pred(d) or time.monotonic() > deadline:
                return d
            time.sleep(0.05)

    def neigh(self):
        return read_neigh(self.pin_dir)

    def ctl(self, *args, check=True, timeout=10):
        return ns_run(self.topo.dut_ns, [SKIFFCTL, "--iface", self.iface, *args],
                  check=check, timeout=timeout)

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def ctl_counters(self):
        """The counters as `skiffctl --json stats` reports them, flattened to
        the keys of counters() (xdp.*, u.*, u.drop.*, u<q>.*, u<q>.drop.*)."""
        j = self.ctl_json("stats")
        out = {f"xdp.{k}": v for k, v in j["xdp"].items()}
        out.update({f"u.{k}": v for k, v in j["daemon"].items()})
        out.update({f"u.drop.{k}": v for k, v in j["drops"].items()})
        for q in j["queues"]:
            out.update({f"u{q['queue']}.{k}": v for k, v in q["counters"].items()})
            out.update({f"u{q['queue']}.drop.{k}": v for k, v in q.get("drops", {}).items()})
        return out


def skiffd_run_to_exit(topo, args, timeout=15, iface=None, pin_dir=None, with_iface=True):
    """Run a skiffd that is expected to exit by itself; return (status, output)."""
    pin = Path(pin_dir) if pin_dir else topo.new_pin_dir()
    argv = [SKIFFD]
    if with_iface:
        argv += ["--iface", iface or topo.dut_if]
    argv += ["--pin-dir", pin, *args]
    try:
        p = ns_run(topo.dut_ns, argv, check=False, timeout=timeout)
    finally:
        if pin.exists():
            shutil.rmtree(pin, ignore_errors=True)
    return p.returncode, p.stdout + p.stderr


# ---- kernel-side services in a namespace ----

class KernelTcpServer:
    """A kernel TCP server in namespace ns: one thread accepts, one thread per
    connection runs self.serve(conn).  Subclasses define serve()."""

    backlog = 64
    conn_timeout = 10

    def __init__(self, ns, addr, port):
        with in_netns(ns):
            self.sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                                      socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(self.backlog)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._conn, args=(c,), daemon=True).start()

    def _conn(self, c):
        with c:
            c.settimeout(self.conn_timeout)
            self.serve(c)

    def serve(self, c):
        raise NotImplementedError

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class TcpEchoServer(KernelTcpServer):
    """A kernel TCP echo server in namespace ns."""

    def serve(self, c):
        try:
            while data := c.recv(65536):
                c.sendall(data)
        except OSError:
            pass


# ---- emergency cleanup ----

def cleanup_all():
    for d in list(_daemons):
        d.kill()
    for t in list(_topologies):
        t.close()
    if not os.environ.get("SKIFF_KEEP_LOGS"):
        shutil.rmtree(LOGDIR, ignore_errors=True)


def _on_signal(signum, _frame):
    cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(cleanup_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)
