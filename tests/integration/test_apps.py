# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Applications on skiff (docs/apps.md): programs built against libskiffapp
(examples/skiff_echo.c, examples/skiff_nc.c) run in the DUT namespace,
attach to skiffd over its control socket and serve or reach the kernel
peer.  Bulk data is checked by SHA-256; a SIGKILLed application leaves
skiffd healthy, its ports closed and every UMEM frame back; a process that
writes garbage into its shared memory is contained; uid nobody is refused.
"""

import hashlib
import json
import mmap
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

import skiffnet as sn
import tcpnet as tn
from conftest import standard_args
from tcpnet import frames_back, need_tcp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("need_tcp", "frames_back")

ECHO = sn.BUILD / "examples" / "skiff_echo"
NC = sn.BUILD / "examples" / "skiff_nc"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]
APP_PORT = 7100


@pytest.fixture(scope="module")
def daemon(need_tcp, topo):
    if not ECHO.exists() or not NC.exists():
        pytest.skip(f"not built: {ECHO} (run make)")
    d = sn.Skiffd(topo, standard_args(topo)).start()
    yield d
    rc = d.stop(timeout=20)
    assert rc == 0, f"skiffd exited {rc} on SIGTERM:\n{d.output()}"


def ctl(d, line):
    """One request on the control socket, the whole answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(d.ctl_socket)
    s.sendall(line.encode() + b"\n")
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def apps(d):
    return json.loads(ctl(d, "apps json"))


class App:
    """A libskiffapp program in the DUT namespace, killed by PID at the end."""

    def __init__(self, topo, argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, prefix=()):
        self.p = subprocess.Popen(sn.nsenter(topo.dut_ns, [*prefix, *map(str, argv)]),
                                  stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)

    def wait_line(self, stream, want, timeout=10):
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = stream.readline()
            if want.encode() in line or not line:
                break
        assert want.encode() in line, f"no '{want}' from the app: {line!r} " \
            f"{self.p.stderr.read() if self.p.poll() is not None else ''}"

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(10)


@pytest.fixture
def cleanup():
    started = []
    yield started
    for a in started:
        a.kill()


def wait_detached(d, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not apps(d)["apps"]:
            return
        time.sleep(0.05)
    raise AssertionError(f"application still attached: {apps(d)}")


def start_echo(topo, cleanup, port=APP_PORT):
    a = App(topo, [ECHO, port])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    return a


def echo_roundtrip(topo, addr, port, size):
    """Send size random bytes while reading the echo; both SHA-256s."""
    c = tn.connect(topo, addr, port, timeout=30)
    sent = hashlib.sha256()
    data = os.urandom(size)
    sent.update(data)

    def writer():
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=writer)
    t.start()
    n, got = tn.recv_all(c)
    t.join()
    c.close()
    return n, sent.hexdigest(), got


def test_echo_app_returns_8mib_with_matching_sha256(topo, sk, cleanup):
    start_echo(topo, cleanup)
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, APP_PORT, 8 << 20)
    assert n == 8 << 20 and got == sent
    j = apps(sk)
    assert len(j["apps"]) == 1 and j["apps"][0]["bad_msgs"] == 0, j


def test_skiffctl_apps_lists_the_attached_application(topo, sk, cleanup):
    a = start_echo(topo, cleanup)
    out = sk.ctl("apps").stdout
    assert f"pid {a.p.pid} " in out, out
    for argv in (["apps", "json"], ["--json", "apps"]):
        j = json.loads(sk.ctl(*argv).stdout)
        assert [x["pid"] for x in j["apps"]] == [a.p.pid], j
        assert j["apps"][0]["sockets"] >= 1, j
    assert "apps" in sk.ctl("--help").stdout


def test_echo_app_serves_ten_clients_at_once(topo, sk, cleanup):
    start_echo(topo, cleanup)
    res = [None] * 10

    def one(i):
        res[i] = echo_roundtrip(topo, topo.ded_ip, APP_PORT, 256 << 10)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    for r in res:
        assert r and r[0] == 256 << 10 and r[1] == r[2], r


def test_nc_app_downloads_from_a_kernel_server_with_matching_sha256(topo, sk, cleanup):
    data = os.urandom(16 << 20)
    srv = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
    srv.bind((topo.peer_ip, 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve():
        c, _ = srv.accept()
        c.sendall(data)
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    a = App(topo, [NC, topo.peer_ip, port], stdin=subprocess.DEVNULL)
    cleanup.append(a)
    out, err = a.p.communicate(timeout=60)
    t.join(10)
    srv.close()
    assert a.p.returncode == 0, err
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256(data).hexdigest(), \
        f"{len(out)} bytes of {len(data)}"


def test_nc_app_uploads_to_a_kernel_server_with_matching_sha256(topo, sk, cleanup):
    data = os.urandom(16 << 20)
    srv = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
    srv.bind((topo.peer_ip, 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        c, _ = srv.accept()
        got["n"], got["sha"] = tn.recv_all(c)
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    a = App(topo, [NC, topo.peer_ip, port], stdin=subprocess.PIPE)
    cleanup.append(a)
    out, err = a.p.communicate(input=data, timeout=60)
    t.join(10)
    srv.close()
    assert a.p.returncode == 0, err
    assert got.get("n") == len(data) and got["sha"] == hashlib.sha256(data).hexdigest()


def test_connect_to_a_closed_port_fails_with_econnrefused(topo, sk, cleanup):
    a = App(topo, [NC, topo.peer_ip, 1], stdin=subprocess.DEVNULL)
    cleanup.append(a)
    _, err = a.p.communicate(timeout=30)
    assert a.p.returncode == 1 and b"Connection refused" in err, err


def test_killed_app_mid_transfer_leaves_skiffd_healthy_and_its_port_closed(topo, sk, cleanup):
    """SIGKILL while the peer is sending: the peer's connection is reset
    (data was unread), the port is no longer skiff's (a new SYN gets RST
    from skiff's closed-port path), skiffd detaches the app, every frame
    comes back, and the port can be listened on again."""
    a = start_echo(topo, cleanup)
    c = tn.connect(topo, topo.ded_ip, APP_PORT, timeout=10)
    c.sendall(os.urandom(1 << 20))
    assert len(apps(sk)["apps"]) == 1
    a.p.send_signal(signal.SIGKILL)
    a.p.wait(10)
    wait_detached(sk)
    # the connection is gone: reset or at least closed, never hanging
    with pytest.raises((ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        c.settimeout(10)
        for _ in range(64):
            c.sendall(b"x" * 65536)
            if not c.recv(1 << 20):
                raise ConnectionResetError("closed")
    c.close()
    with pytest.raises(ConnectionRefusedError):
        tn.connect(topo, topo.ded_ip, APP_PORT, timeout=5)
    # skiffd holds nothing of it: no socket on the port, the apps table empty
    deadline = time.monotonic() + 5
    while f":{APP_PORT} " in sk.ctl("sockets").stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f":{APP_PORT} " not in sk.ctl("sockets").stdout, sk.ctl("sockets").stdout
    assert apps(sk)["apps"] == []
    # the port is free again
    start_echo(topo, cleanup)
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, APP_PORT, 64 << 10)
    assert got == sent


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime


def assert_idle_app_and_skiffd_sleep(topo, sk, a):
    """With one quiet connection open to the echo app a (after one round
    trip), a and skiffd each use under 5% of a CPU over 2 s."""
    c = tn.connect(topo, topo.ded_ip, APP_PORT, timeout=10)
    c.sendall(b"ping")
    assert c.recv(4) == b"ping"
    time.sleep(0.5)
    hz = os.sysconf("SC_CLK_TCK")
    t0 = (cpu_ticks(a.p.pid), cpu_ticks(sk.proc.pid))
    time.sleep(2)
    t1 = (cpu_ticks(a.p.pid), cpu_ticks(sk.proc.pid))
    c.close()
    app_pct, d_pct = ((t1[i] - t0[i]) * 100 / hz / 2 for i in (0, 1))
    assert app_pct < 5 and d_pct < 5, f"idle CPU: app {app_pct:.1f}%, skiffd {d_pct:.1f}%"


def test_an_idle_app_and_an_idle_skiffd_sleep(topo, sk, cleanup):
    """Blocked in skiff_epoll_wait with a listener and a quiet connection,
    the application and skiffd use (almost) no CPU: nobody busy-polls."""
    assert_idle_app_and_skiffd_sleep(topo, sk, start_echo(topo, cleanup))


def test_killed_app_mid_upload_ends_the_peers_stream_and_frees_everything(topo, sk, cleanup):
    """The application sends (skiff_nc uploading stdin to a kernel server)
    and is SIGKILLed with bytes still in its tx FIFO that TCP had no room
    for: as Linux sends a killed process's written bytes from its buffer,
    the peer reads them and then EOF (no RST: nothing was unread);
    skiffd detaches it and keeps serving."""
    srv = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
    srv.bind((topo.peer_ip, 0))
    srv.listen(1)
    srv.settimeout(10)
    a = App(topo, [NC, topo.peer_ip, srv.getsockname()[1]], stdin=subprocess.PIPE)
    cleanup.append(a)
    c, _ = srv.accept()

    def feed():
        try:  # more than the FIFO and TCP hold while the peer does not read
            a.p.stdin.write(os.urandom(4 << 20))
            a.p.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    c.settimeout(10)
    assert c.recv(65536)  # data flows; now stop reading so it piles up
    time.sleep(0.5)
    a.p.send_signal(signal.SIGKILL)
    a.p.wait(10)
    wait_detached(sk)
    t.join(10)
    got = 0
    while b := c.recv(1 << 20):  # ConnectionResetError: the bytes were lost
        got += len(b)
    assert got > 0
    c.close()
    srv.close()
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, 7, 64 << 10)  # the built-in echo
    assert got == sent


def test_nobody_cannot_attach_and_is_told_why(topo, sk, cleanup):
    a = App(topo, [ECHO, APP_PORT + 1], prefix=NOBODY)
    cleanup.append(a)
    _, err = a.p.communicate(timeout=10)
    assert a.p.returncode == 1, err
    assert b"permission denied" in err and b"group skiff" in err, err


def attach_raw(d):
    """Attach as a raw client: (control socket, mmap, memfd, app eventfd,
    wake fds)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(d.ctl_socket)
    s.sendall(b"attach\n")
    msg, fds, _, _ = socket.recv_fds(s, 512, 64)
    assert msg.startswith(b"ok attach ") and b" workers " in msg, msg
    words = msg.split()
    size = int(words[words.index(b"size") + 1])
    m = mmap.mmap(fds[0], size)
    return s, m, fds[0], fds[1], fds[2:]


def test_garbage_in_shared_memory_is_contained(topo, sk, cleanup):
    """A process that scribbles over its whole region (rings, indices,
    slots) and kicks the workers: skiffd counts it, stays up, serves
    others, and detaches it when it goes."""
    start_echo(topo, cleanup)
    s, m, memfd, efd, wake = attach_raw(sk)
    # cannot shrink it under skiffd: sealed
    with pytest.raises(PermissionError):
        os.ftruncate(memfd, 0)
    rnd = os.urandom(1 << 20)
    for rounds in range(3):
        for off in range(0, len(m), len(rnd)):
            n = min(len(rnd), len(m) - off)
            m[off:off + n] = rnd[:n]
        for w in wake:
            os.write(w, (1).to_bytes(8, "little"))
        time.sleep(0.2)
    assert sk.alive()
    st = [a for a in apps(sk)["apps"] if a["pid"] == os.getpid()]
    assert st and (st[0]["poisoned"] or st[0]["bad_msgs"]), apps(sk)
    # others are still served
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, APP_PORT, 256 << 10)
    assert got == sent
    s.close()
    m.close()
    for f in [memfd, efd, *wake]:
        os.close(f)
    deadline = time.monotonic() + 10
    while len(apps(sk)["apps"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(apps(sk)["apps"]) == 1


def ring_of(lay, chan, q):
    """Offset of request ring q of worker 0 (chan: the region's chan_off)."""
    return chan + lay["chan_ring0"] + q * lay["ring_size"]


def test_well_formed_but_hostile_requests_are_refused_not_obeyed(topo, sk, cleanup):
    """Requests with slots out of range, unknown ops and an ACCEPT naming a
    slot that is no listener, on a thread's ring and on the shared one:
    each counted, none served, both rings consumed."""
    lay = shm_layout()
    s, m, memfd, efd, wake = attach_raw(sk)
    chan = int.from_bytes(m[lay["hdr_chan_off"]:lay["hdr_chan_off"] + 8], "little")
    per_ring = {
        5: [(1, 5000, 1),    # LISTEN, slot out of range
            (99, 0, 2)],     # unknown op
        lay["q_shared"]: [(3, 1, 3)],  # ACCEPT into slot 1 from a non-listener (arg 0)
    }
    used = 0
    for q, msgs in per_ring.items():
        ring = ring_of(lay, chan, q)
        for i, (op, slot, seq) in enumerate(msgs):
            b = op.to_bytes(2, "little") + slot.to_bytes(2, "little") + seq.to_bytes(4, "little")
            off = ring + lay["ring_msg"] + lay["msg_size"] * i
            m[off:off + lay["msg_size"]] = b.ljust(lay["msg_size"], b"\0")
        used |= 1 << q
    m[lay["hdr_q_used"]:lay["hdr_q_used"] + 8] = used.to_bytes(8, "little")
    for q, msgs in per_ring.items():
        ring = ring_of(lay, chan, q)
        m[ring + lay["ring_prod"]:ring + lay["ring_prod"] + 4] = len(msgs).to_bytes(4, "little")
    os.write(wake[0], (1).to_bytes(8, "little"))
    deadline = time.monotonic() + 5
    mine = None
    while time.monotonic() < deadline:
        mine = [a for a in apps(sk)["apps"] if a["pid"] == os.getpid()]
        if mine and mine[0]["bad_msgs"] >= 2 and mine[0]["requests"] >= 1:
            break
        time.sleep(0.05)
    assert mine and mine[0]["bad_msgs"] >= 2 and mine[0]["sockets"] == 0, apps(sk)
    assert mine[0]["rings"] == 2, mine
    for q, msgs in per_ring.items():  # all consumed
        cons = ring_of(lay, chan, q) + lay["ring_prod"] + 64
        assert int.from_bytes(m[cons:cons + 4], "little") == len(msgs), q
    s.close()
    m.close()
    for f in [memfd, efd, *wake]:
        os.close(f)
    wait_detached(sk)


def shm_layout():
    out = subprocess.run([str(sn.BUILD / "tests" / "apps" / "shm_layout")], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_hostile_datagram_records_and_part_indices_close_only_that_socket(topo, sk, cleanup):
    """A process attached by hand binds UDP sockets, then writes a tx record
    longer than any datagram, and an rx part tail out of range: skiffd
    counts each (bad_index), closes that socket (EPROTO), stays up and
    keeps serving another application."""
    start_echo(topo, cleanup)
    lay = shm_layout()
    s, m, memfd, efd, wake = attach_raw(sk)
    u64 = lambda off: int.from_bytes(m[off:off + 8], "little")  # noqa: E731
    chan, slot_off, tx_off = (u64(lay[k]) for k in ("hdr_chan_off", "hdr_slot_off",
                                                    "hdr_tx_off"))
    prod = [0]

    def w32(off, v):
        m[off:off + 4] = (v & 0xffffffff).to_bytes(4, "little")

    def slot_field(i, name):
        off = slot_off + i * lay["slot_size"] + lay[name]
        return int.from_bytes(m[off:off + 4], "little", signed=True)

    def post(op, slot, seq, port=0, arg=0):
        # struct skiff_app_msg: an AF_INET (2) request, address 0.0.0.0
        msg = struct.pack("<HHIHHiIHHHHI16s16s", op, slot, seq, socket.htons(port), 0, arg, 0,
                          0, 0, socket.AF_INET, 0, 0, b"", b"")
        assert len(msg) == lay["msg_size"]
        ring = ring_of(lay, chan, 0)
        off = ring + lay["ring_msg"] + len(msg) * (prod[0] % 1024)
        m[off:off + len(msg)] = msg
        prod[0] += 1
        w32(lay["hdr_q_used"], 1)
        w32(ring + lay["ring_prod"], prod[0])
        os.write(wake[0], (1).to_bytes(8, "little"))

    def until(cond, what):
        deadline = time.monotonic() + 5
        while not cond() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cond(), f"{what}: {apps(sk)}"

    def mine():
        return [a for a in apps(sk)["apps"] if a["pid"] == os.getpid()][0]

    port = APP_PORT + 8
    post(9, 5, 1, port, 1)  # UDP_BIND, this worker sends
    until(lambda: slot_field(5, "rep_seq") == 1, "no answer to UDP_BIND")
    assert slot_field(5, "rep_res") == 0 and mine()["sockets"] == 1
    # a record claiming 70000 bytes
    base = tx_off + 5 * lay["fifo"]
    m[base:base + lay["dgram_hdr"]] = struct.pack("<IHH16s", 70000, 0, 0, b"").ljust(lay["dgram_hdr"], b"\0")
    w32(slot_off + 5 * lay["slot_size"] + lay["tx_head"], lay["dgram_hdr"])
    post(4, 5, 2)  # TX
    until(lambda: mine()["bad_index"] >= 1 and mine()["sockets"] == 0, "record not refused")
    assert slot_field(5, "state") == 4  # SKIFF_APP_S_CLOSED
    # a part tail out of range, found when a datagram arrives
    post(9, 6, 1, port + 1, 1)
    until(lambda: slot_field(6, "rep_seq") == 1, "no answer to the second UDP_BIND")
    w32(slot_off + 6 * lay["slot_size"] + lay["urx_tail"], 0x7fffffff)
    c = sn.ns_socket(topo.peer_ns, type=socket.SOCK_DGRAM)
    c.sendto(b"hostile?", (topo.ded_ip, port + 1))
    c.close()
    until(lambda: mine()["bad_index"] >= 2 and mine()["sockets"] == 0, "tail not refused")
    assert sk.alive()
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, APP_PORT, 64 << 10)
    assert got == sent
    s.close()
    m.close()
    for f in [memfd, efd, *wake]:
        os.close(f)
    deadline = time.monotonic() + 10
    while len(apps(sk)["apps"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(apps(sk)["apps"]) == 1


class KernelEcho:
    """A kernel echo server in the peer namespace: echoes, closes after the
    client's FIN."""

    def __init__(self, topo):
        self.srv = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
        self.srv.bind((topo.peer_ip, 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.echo, args=(c,), daemon=True).start()

    @staticmethod
    def echo(c):
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)
        except OSError:
            pass
        c.close()

    def close(self):
        self.srv.close()


def test_socket_calls_behave_as_posix_says(topo, sk, cleanup):
    """tests/apps/api_check.c: errno values of bad calls, non-blocking
    connect with EPOLLOUT and SO_ERROR, names, EAGAIN, level and edge
    triggering, EPOLLONESHOT, a pipe in the same epoll set (also while a
    skiff socket stays ready in every call), O_NONBLOCK,
    MSG_PEEK/MSG_WAITALL, SHUT_WR then EOF and EPOLLRDHUP, ECONNREFUSED."""
    ke = KernelEcho(topo)
    try:
        a = App(topo, [sn.BUILD / "tests" / "apps" / "api_check", topo.peer_ip, ke.port, 1,
                       APP_PORT + 2], stdin=subprocess.DEVNULL)
        cleanup.append(a)
        try:
            out, err = a.p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            a.p.kill()
            out, err = a.p.communicate()
            raise AssertionError(f"api_check hung after:\n{out.decode()}{err.decode()}")
    finally:
        ke.close()
    assert a.p.returncode == 0 and b"all ok" in out, (out + err).decode(errors="replace")


class KernelResetWatch:
    """A kernel server in the peer namespace that reads one connection until
    EOF or a reset and records which ("eof" / "reset")."""

    def __init__(self, topo):
        self.srv = sn.ns_socket(topo.peer_ns, type=socket.SOCK_STREAM)
        self.srv.bind((topo.peer_ip, 0))
        self.srv.listen(1)
        self.srv.settimeout(30)
        self.port = self.srv.getsockname()[1]
        self.seen = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            c, _ = self.srv.accept()
        except OSError:
            return
        c.settimeout(30)
        try:
            while c.recv(65536):
                pass
            self.seen = "eof"
        except ConnectionResetError:
            self.seen = "reset"
        except OSError as e:
            self.seen = repr(e)
        c.close()

    def close(self):
        self.srv.close()


def test_vectored_io_ioctl_poll_signals_and_linger_behave_as_posix_says(topo, sk, cleanup):
    """tests/apps/io_check.c: readv/writev, sendmsg/recvmsg (no address, no
    control data), FIONREAD/FIONBIO, poll over a skiff socket, a pipe and a
    bad handle, EINTR from recv/poll/epoll_wait when SIGALRM's handler
    runs, SIGPIPE without MSG_NOSIGNAL, and SO_LINGER 0: the kernel peer
    sees a reset."""
    ke = KernelEcho(topo)
    rw = KernelResetWatch(topo)
    try:
        a = App(topo, [sn.BUILD / "tests" / "apps" / "io_check", topo.peer_ip, ke.port,
                       rw.port], stdin=subprocess.DEVNULL)
        cleanup.append(a)
        try:
            out, err = a.p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            a.p.kill()
            out, err = a.p.communicate()
            raise AssertionError(f"io_check hung after:\n{out.decode()}{err.decode()}")
        assert a.p.returncode == 0 and b"all ok" in out, (out + err).decode(errors="replace")
        rw.t.join(30)
        assert rw.seen == "reset", rw.seen
    finally:
        ke.close()
        rw.close()


class KernelUdpEcho:
    """A kernel UDP echo server in the peer namespace."""

    def __init__(self, topo):
        self.s = sn.ns_socket(topo.peer_ns, type=socket.SOCK_DGRAM)
        self.s.bind((topo.peer_ip, 0))
        self.port = self.s.getsockname()[1]
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            try:
                b, src = self.s.recvfrom(65536)
                self.s.sendto(b, src)
            except OSError:
                return

    def close(self):
        self.s.close()


def run_check(topo, cleanup, argv, timeout=60, prefix=()):
    a = App(topo, argv, stdin=subprocess.DEVNULL, prefix=prefix)
    cleanup.append(a)
    try:
        out, err = a.p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        a.p.kill()
        out, err = a.p.communicate()
        raise AssertionError(f"{argv[0]} hung after:\n{out.decode()}{err.decode()}")
    assert a.p.returncode == 0 and b"all ok" in out, (out + err).decode(errors="replace")


def test_udp_sockets_behave_as_linux_says(topo, sk, cleanup):
    """tests/apps/udp_check.c: errors, an implicit ephemeral bind on sendto,
    boundaries kept (0 to 1350 bytes), MSG_TRUNC and FIONREAD, an 8000-byte
    datagram both ways in fragments, connect + writev/read + epoll, ICMP
    port unreachable as ECONNREFUSED, AF_UNSPEC, EADDRINUSE."""
    ue = KernelUdpEcho(topo)
    closed = sn.ns_socket(topo.peer_ns, type=socket.SOCK_DGRAM)
    closed.bind((topo.peer_ip, 0))
    cport = closed.getsockname()[1]
    closed.close()
    try:
        run_check(topo, cleanup, [sn.BUILD / "tests" / "apps" / "udp_check", topo.peer_ip,
                                  ue.port, cport])
    finally:
        ue.close()
    j = apps(sk)
    assert all(x["sockets"] == 0 for x in j["apps"]), j


def udp_serve_and_ping(topo, cleanup, port, clients, per_client):
    """udp_check serve on port; clients kernel sockets on the peer each send
    per_client datagrams and get each echoed."""
    a = App(topo, [sn.BUILD / "tests" / "apps" / "udp_check", "serve", port,
                   clients * per_client])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "bound")
    socks = []
    for _ in range(clients):
        c = sn.ns_socket(topo.peer_ns, type=socket.SOCK_DGRAM)
        c.bind((topo.peer_ip, 0))
        c.settimeout(5)
        socks.append(c)
    for k in range(per_client):
        for i, c in enumerate(socks):
            msg = f"client {i} datagram {k} ".encode() * (1 + k % 40)
            c.sendto(msg, (topo.ded_ip, port))
            got, src = c.recvfrom(65536)
            assert got == msg and src == (topo.ded_ip, port), (got[:40], src)
    for c in socks:
        c.close()
    out, err = a.p.communicate(timeout=10)
    assert a.p.returncode == 0 and f"served {clients * per_client}".encode() in out, \
        (out + err).decode(errors="replace")


def test_udp_server_bound_to_a_port_echoes_kernel_clients(topo, sk, cleanup):
    udp_serve_and_ping(topo, cleanup, APP_PORT + 4, clients=4, per_client=25)


FORK = sn.BUILD / "tests" / "apps" / "fork_check"


def thread_slots(d):
    """Thread slots the (only) attached application holds now."""
    j = apps(d)["apps"]
    assert len(j) == 1, j
    return j[0]["thread_slots"]


def go_on(a):
    """A line on the program's stdin: its cue to go on."""
    a.p.stdin.write(b"go\n")
    a.p.stdin.flush()


def finish(a, sk):
    """The program says "done", exits 0, and skiffd detaches it."""
    a.wait_line(a.p.stdout, "done")
    assert a.p.wait(10) == 0
    wait_detached(sk)


def roles_at_once(topo, port, n):
    """n connections at once, each one's answer."""
    res = [None] * n

    def one(i):
        res[i] = role_of(topo, port)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    return res


def role_of(topo, port):
    c = tn.connect(topo, topo.ded_ip, port, timeout=10)
    c.settimeout(10)
    got = b""
    while not got.endswith(b"\n"):
        b = c.recv(64)
        if not b:
            break
        got += b
    c.close()
    return got.decode().strip()


def test_after_fork_parent_and_child_accept_on_one_listener(topo, sk, cleanup):
    """fork_check accept: the child inherits the listening socket; parent
    and child accept on it in turns and both at once; the child's close()
    leaves the parent's listener open; skiffd detaches the application once
    the last process is gone."""
    port = APP_PORT + 5
    a = App(topo, [FORK, "accept", port], stdin=subprocess.DEVNULL)
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    assert [role_of(topo, port) for _ in range(4)] == ["parent", "child"] * 2
    # each process posts on rings of its own: two thread slots taken
    assert thread_slots(sk) == 2
    assert sorted(role_of(topo, port) for _ in range(2)) == ["child", "parent"]
    a.wait_line(a.p.stdout, "child gone")
    assert role_of(topo, port) == "parent"
    out, err = a.p.communicate(timeout=10)
    assert a.p.returncode == 0 and b"done" in out, (out + err).decode(errors="replace")
    wait_detached(sk)


@pytest.mark.parametrize("sets", ["shared", "separate"])
def test_eight_threads_in_epoll_wait_each_serve_connections(topo, sk, cleanup, sets):
    """fork_check threads: 8 threads blocked in skiff_epoll_wait (one set
    for all, or one each) over one listener; 8 kernel clients at once each
    get their echo."""
    port = APP_PORT + 6
    a = App(topo, [FORK, "threads", port, 8, sets], stdin=subprocess.DEVNULL)
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    res = [None] * 8

    def one(i):
        c = tn.connect(topo, topo.ded_ip, port, timeout=10)
        c.settimeout(10)
        c.sendall(f"hello {i}".encode())
        res[i] = c.recv(64)
        c.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert res == [f"hello {i}".encode() for i in range(8)], res
    out, err = a.p.communicate(timeout=10)
    assert a.p.returncode == 0 and b"done" in out, (out + err).decode(errors="replace")
    wait_detached(sk)


def test_an_epoll_set_made_before_fork_is_one_set_for_parent_and_child(topo, sk, cleanup):
    """fork_check epshare: the parent's EPOLL_CTL_DEL on a set made before
    fork() empties the child's set too (a connection waits, the child's
    wait times out), and its EPOLL_CTL_ADD fills it (the child's wait
    reports the parent's data and the child accepts), as with the kernel's
    epoll."""
    port = APP_PORT + 10
    a = App(topo, [FORK, "epshare", port])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    a.wait_line(a.p.stdout, "deleted")
    res = []
    t = threading.Thread(target=lambda: res.append(role_of(topo, port)))
    t.start()
    time.sleep(0.3)  # the connection is waiting in the listener
    go_on(a)
    t.join(30)
    assert res == ["child"]
    finish(a, sk)


def test_threads_that_exit_give_their_thread_slots_back(topo, sk, cleanup):
    """fork_check churn: 5 rounds of 8 threads that each accept, answer and
    exit (40 threads, more than the 32 slots): after each round the
    application holds one thread slot again (its main thread's), as
    skiffctl apps shows, and every connection was answered."""
    port = APP_PORT + 8
    a = App(topo, [FORK, "churn", port, 5, 8])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    for r in range(5):
        assert roles_at_once(topo, port, 8) == ["thread"] * 8
        a.wait_line(a.p.stdout, f"round {r}")
        assert thread_slots(sk) == 1
        go_on(a)
    finish(a, sk)


def test_more_threads_than_thread_slots_all_get_served(topo, sk, cleanup):
    """fork_check many: 40 threads blocked in accept at once, more than
    the 32 thread slots: the ones without a slot post on the shared ring
    and look again every 10 ms when they sleep; all 40 connections are
    answered, the slots are all taken meanwhile, none is lost after."""
    port = APP_PORT + 9
    a = App(topo, [FORK, "many", port, 40])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    assert roles_at_once(topo, port, 40) == ["thread"] * 40
    a.wait_line(a.p.stdout, "served")
    assert thread_slots(sk) == 32
    go_on(a)
    finish(a, sk)


def test_a_child_killed_mid_transfer_leaves_the_parent_serving(topo, sk, cleanup):
    """fork_check kill: a forked child reading a connection slowly is
    SIGKILLed mid-transfer (perhaps inside the library, holding its lock);
    the parent keeps accepting on the shared listener, and the child's
    connection is reset (bytes unread, as Linux at exit) while the parent
    lives: the parent's next sleep in the library sees the child's pidfd.
    The application is detached when the parent exits, every frame back."""
    port = APP_PORT + 7
    a = App(topo, [FORK, "kill", port])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    c = tn.connect(topo, topo.ded_ip, port, timeout=10)
    stop = threading.Event()

    def feed():
        try:
            while not stop.is_set():
                c.sendall(os.urandom(65536))
        except OSError:
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    line = a.p.stdout.readline()
    assert line.startswith(b"child "), line
    time.sleep(0.3)
    os.kill(int(line.split()[1]), signal.SIGKILL)
    for _ in range(3):
        a.p.stdin.write(b"next\n")
        a.p.stdin.flush()
        assert role_of(topo, port) == "parent"
    # the parent is asleep in accept(): the child's connection is gone
    stop.set()
    t.join(10)
    c.settimeout(10)
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        while c.recv(1 << 20):
            pass
        c.sendall(b"x" * 65536)
    c.close()
    assert a.p.poll() is None and len(apps(sk)["apps"]) == 1
    a.p.stdin.close()
    a.p.wait(10)
    assert a.p.returncode == 0, a.p.stderr.read()
    wait_detached(sk)


def test_an_app_builds_with_pkg_config_after_make_install(topo, sk, cleanup, tmp_path):
    """make install DESTDIR=... then cc $(pkg-config --cflags --libs skiff):
    the program attaches and echoes."""
    dest = tmp_path / "root"
    env = dict(os.environ)
    sn.run(["make", "-s", "-C", str(sn.ROOT), f"BUILD={sn.BUILD}", "install",
            f"DESTDIR={dest}", "PREFIX=/usr"], timeout=120)
    assert (dest / "usr/include/skiff/skiff_socket.h").exists()
    penv = dict(env, PKG_CONFIG_SYSROOT_DIR=str(dest),
                PKG_CONFIG_LIBDIR=str(dest / "usr/lib/pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "skiff"], env=penv, check=True,
                           capture_output=True, text=True).stdout.split()
    assert "-lskiffapp" in flags, flags
    exe = tmp_path / "echo"
    if sn.BUILD.name.endswith("-san"):  # the library is instrumented: so is its user
        flags += ["-fsanitize=address,undefined"]
    subprocess.run(["cc", "-o", str(exe), str(sn.ROOT / "examples" / "skiff_echo.c"), *flags],
                   check=True, capture_output=True, text=True)
    a = App(topo, ["env", f"LD_LIBRARY_PATH={dest}/usr/lib", exe, APP_PORT + 3])
    cleanup.append(a)
    a.wait_line(a.p.stdout, "listening")
    n, sent, got = echo_roundtrip(topo, topo.ded_ip, APP_PORT + 3, 1 << 20)
    assert n == 1 << 20 and got == sent


THREAD_BENCH = sn.BUILD / "tests" / "apps" / "thread_bench"


@pytest.mark.parametrize("mode", ["poll", "rr", "bulk"])
def test_eight_threads_on_their_own_connections_move_data(topo, sk, cleanup, mode):
    """thread_bench: 8 threads, a connection each to a kernel echo server,
    all at once: idle recv() calls, 64-byte round trips, and bulk echoes
    checked byte by byte; every thread gets through.  The rates are
    printed, not asserted (SKIFF_BENCH_SECS=N for a longer run,
    SKIFF_BENCH_PREFIX="strace -f -c" or the like to run it under a tool:
    docs/apps.md has the figures)."""
    echo = KernelEcho(topo)
    secs = os.environ.get("SKIFF_BENCH_SECS", "1")
    try:
        a = App(topo, [THREAD_BENCH, topo.peer_ip, echo.port, 8, secs, mode],
                stdin=subprocess.DEVNULL,
                prefix=os.environ.get("SKIFF_BENCH_PREFIX", "").split())
        cleanup.append(a)
        out, err = a.p.communicate(timeout=60 + 3 * float(secs))
    finally:
        echo.close()
    text = (out + err).decode(errors="replace")
    print(f"thread_bench {mode}:\n{text}")
    assert a.p.returncode == 0, text
    assert len([ln for ln in text.splitlines() if ln.startswith("thread ")]) == 8, text
    wait_detached(sk)


@pytest.mark.parametrize("spin", ["sleep", "busy_poll"])
def test_a_signal_at_any_moment_ends_a_wait_without_timeout(topo, sk, cleanup, spin):
    """tests/apps/sig_check.c lib: 3000 SIGUSR1s at random moments to a
    thread waiting in skiff_recv / skiff_epoll_wait with no timeout; the
    handler sets a flag and calls skiff_signal_note(); every one must end
    the wait (EINTR), also while the call spins (SKIFF_BUSY_POLL_US)."""
    ke = KernelEcho(topo)
    try:
        prefix = ["env", "SKIFF_BUSY_POLL_US=200"] if spin == "busy_poll" else []
        run_check(topo, cleanup, [sn.BUILD / "tests" / "apps" / "sig_check", "lib", topo.peer_ip,
                                  ke.port, 3000], timeout=300, prefix=prefix)
    finally:
        ke.close()
