#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Write the seed corpora of the fuzz harnesses (tests/fuzz/fuzz_*.c).

    tests/fuzz/seeds.py OUTDIR     -> OUTDIR/fuzz_stack/, fuzz_http/, fuzz_config/, fuzz_ctl/, fuzz_xdp/, fuzz_app/

fuzz_stack seeds are record sequences in the harness's format (see the
comment at the top of fuzz_stack.c): valid ARP, ICMP echo, UDP to echo and
a closed port, a fragmented datagram, a SYN, data, HTTP requests and ACKs
on the pre-established connections, an active open, timers.  The harness
fixes checksums and sequence numbers, so seeds stay small and readable.
"""
import os
import socket
import struct
import sys

MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([2, 0, 0, 0, 0, 2])
ADDR = bytes([10, 0, 0, 1])
PEER = bytes([10, 0, 0, 2])

# record kinds
RAW, IP, L4, SEG, APP, CLOCK = 0, 1, 2, 3, 4, 5
ICMP_ERR = 6
# fuzz_stack conn seg ctl bits
SEQ_ABS, ACK_ABS, TS, SACK = 0x04, 0x08, 0x10, 0x80
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def rec(kind, payload=b"", step=0, nopoll=False):
    op = kind | (0x08 if nopoll else 0) | (step << 4)
    return bytes([op]) + struct.pack(">H", len(payload)) + payload


def seg(conn, flags, data=b"", seq=0, ack=0, wnd=0x1000, ctl=TS, opts=b"", step=0):
    return rec(SEG, bytes([conn | ctl]) + struct.pack(">IIBH", seq & 0xFFFFFFFF,
               ack & 0xFFFFFFFF, flags, wnd) + bytes([len(opts)]) + opts + data, step=step)


def app(act, sock=0, arg=0):
    return rec(APP, bytes([act | sock << 5]) + struct.pack(">H", arg))


def clock(ms):
    return rec(CLOCK, struct.pack(">H", ms))


def sack(*blocks):
    """SACK blocks as (left, right) deltas from SND.UNA (ctl SACK)."""
    return b"".join(struct.pack(">II", a, b) for a, b in blocks)


def icmp_err(conn, typ, code, info=b"\0\0\0\0", seq=0, udp=False):
    return rec(ICMP_ERR, bytes([conn | (4 if udp else 0), typ, code]) + info +
               struct.pack(">I", seq))


def l4(proto, data, dst=0):
    return rec(L4, bytes([proto, dst]) + data)


def udp(sport, dport, data):
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def ipv4(proto, payload, ident=1, frag=0, total=None):
    tot = 20 + len(payload) if total is None else total
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, ident, frag, 64, proto, 0, PEER,
                       ADDR) + payload


def stack_seeds():
    arp = (b"\xff" * 6 + PEER_MAC + b"\x08\x06" +
           struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + PEER_MAC + PEER + b"\0" * 6 + ADDR)
    icmp_echo = struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"ping" * 8
    dgram = udp(40000, 7, b"x" * 60)
    get = b"GET / HTTP/1.1\r\nHost: skiff\r\n\r\n"
    getbig = b"GET /big.bin HTTP/1.1\r\nHost: skiff\r\n\r\n"
    our6 = bytes.fromhex("20010db8000000000000000000000001")
    peer6 = bytes.fromhex("20010db8000000000000000000000002")
    nb6 = bytes.fromhex("20010db8000000000000000000000033")

    def v6frame(nh, payload, src=peer6, dst=our6, hops=64):
        return (MAC + PEER_MAC + b"\x86\xdd" +
                struct.pack(">IHBB", 0x60000000, len(payload), nh, hops) + src + dst + payload)

    def frag6(ident, off, more, nh, data):
        return struct.pack(">BBHI", nh, 0, off | more, ident) + data

    echo6 = struct.pack(">BBHHH", 128, 0, 0, 1, 1) + b"fragment" * 40

    s = {
        "ipv6-udp": rec(RAW, v6frame(17, udp(40000, 9999, b"v6"))),
        "ipv6-hbh-echo": rec(RAW, v6frame(0, bytes([58, 0, 1, 4, 0, 0, 0, 0]) +
                                          struct.pack(">BBHHH", 128, 0, 0, 1, 1) + b"ping")),
        "ipv6-tcp-syn": rec(RAW, v6frame(6, struct.pack(">HHIIBBHHH", 41000, 80, 1, 0, 0x50,
                                                        SYN, 65535, 0, 0))),
        "ipv6-fragments": (rec(RAW, v6frame(44, frag6(9, 0, 1, 58, echo6[:160])), nopoll=True) +
                           rec(RAW, v6frame(44, frag6(9, 160, 0, 58, echo6[160:])))),
        "ipv6-ndisc": (rec(RAW, v6frame(17, udp(40000, 9999, b"v6"), src=nb6)) +
                       rec(RAW, v6frame(58, struct.pack(">BBHI", 136, 0, 0, 0x60000000) + nb6 +
                                        bytes([2, 1]) + PEER_MAC, src=nb6, hops=255)) +
                       rec(RAW, v6frame(58, struct.pack(">BBHI", 135, 0, 0, 0) + our6 +
                                        bytes([1, 1]) + PEER_MAC, src=nb6, hops=255))),
        "arp": rec(RAW, arp),
        "icmp-echo": l4(1, icmp_echo),
        "udp-echo": l4(17, udp(40000, 7, b"hello")),
        "udp-closed-port": l4(17, udp(40000, 5555, b"anyone?")),
        "udp-broadcast": l4(17, udp(40000, 9, b"all"), dst=1),
        "udp-fragments": (rec(IP, ipv4(17, dgram[:32], ident=7, frag=0x2000,
                                       total=52), nopoll=True) +
                          rec(IP, ipv4(17, dgram[32:], ident=7, frag=4))),
        "tcp-syn": l4(6, struct.pack(">HHIIBBHHH", 41000, 8080, 1, 0, 0x50, SYN, 65535, 0,
                                     0)),
        "tcp-echo": seg(2, PSH | ACK, b"hello") + seg(2, ACK, step=8) +
        seg(2, FIN | ACK, seq=5, ack=5, step=9),
        "http-get": seg(1, PSH | ACK, get) + seg(1, ACK, ack=200, step=8),
        "http-big": seg(1, PSH | ACK, getbig) +
        b"".join(seg(1, ACK, seq=len(getbig), ack=2896, step=7) for _ in range(8)) +
        clock(3000),
        "app-send-ack-fin": app(0, 0, 5000) + seg(0, ACK, ack=1448, step=7) +
        seg(0, ACK, ack=2896) + seg(0, FIN | ACK, ack=656) + app(1, 0, 100) + app(4, 0, 0),
        "app-out-of-order": seg(0, ACK, b"b" * 500, seq=500) + seg(0, ACK, b"a" * 500) +
        app(1, 0, 2000),
        "app-rto": app(0, 0, 3000) + clock(1000) + rec(CLOCK, struct.pack(">H", 0), step=11) +
        rec(CLOCK, b"\0\0", step=12) + seg(0, ACK, ack=3000),
        "app-rst": seg(0, RST | ACK),
        "client-connect": app(6, 0, 80) +
        seg(3, SYN | ACK, seq=12345, ack=1, ctl=SEQ_ABS, opts=b"\x02\x04\x05\xb4") +
        app(0, 1, 2000) + seg(3, ACK, ack=2000, ctl=0),
        "sack-recovery": app(0, 0, 20000) +
        seg(0, ACK, ctl=TS | SACK, opts=sack((1448, 2896))) +
        seg(0, ACK, ctl=TS | SACK, opts=sack((1448, 4344))) +
        seg(0, ACK, ctl=TS | SACK, opts=sack((1448, 5792))) +
        seg(0, ACK, ctl=TS | SACK, opts=sack((1448, 7240), (8688, 10136)), step=6) +
        seg(0, ACK, ack=14480, step=8) + seg(0, ACK, ack=5520, step=8),
        "dupacks-no-sack": app(0, 0, 8000) + seg(0, ACK, ctl=0) + seg(0, ACK, ctl=0) +
        seg(0, ACK, ctl=0) + seg(0, ACK, ctl=0) + seg(0, ACK, ack=8000, ctl=0, step=8),
        "time-wait": app(4, 0, 0) + seg(0, ACK, ack=1) + seg(0, FIN | ACK) +
        clock(30000) + l4(6, struct.pack(">HHIIBBHHH", 40000, 8080, 99999999, 0, 0x50, SYN,
                                         65535, 0, 0)) + clock(40000),
        "icmp-frag-needed": app(0, 0, 5000) + icmp_err(0, 3, 4, b"\0\0\x05\x00") +
        icmp_err(1, 3, 1) + icmp_err(2, 11, 0) + icmp_err(0, 3, 3, udp=True),
        "keepalive": app(5, 0, 0x3001) + app(5, 0, 0x7001) + app(5, 0, 0x8001) +
        rec(CLOCK, b"\0\0", step=13) + rec(CLOCK, b"\0\0", step=13) +
        rec(CLOCK, b"\0\0", step=14),
        "zero-window": seg(0, ACK, wnd=0) + app(0, 0, 3000) + rec(CLOCK, b"\0\0", step=10) +
        rec(CLOCK, b"\0\0", step=11) + seg(0, ACK, wnd=100),
        "syn-cookie": seg(0, RST | ACK) + seg(0, SYN, seq=5000, ctl=SEQ_ABS | TS,
                                              opts=b"\x02\x04\x05\xb4") +
        seg(0, ACK, ack=1) + seg(3, SYN, seq=7000, ctl=SEQ_ABS | TS) + app(7) +
        seg(3, ACK, ctl=TS) + app(7) + app(0, 3, 100),
        "frames-low": app(10, 0, 3) + app(0, 0, 20000) + l4(17, udp(40000, 7, b"x" * 1400)) +
        seg(1, PSH | ACK, b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n") +
        seg(0, ACK, ack=1448, step=8) + app(10, 0, 60) + seg(0, ACK, ack=4000, step=9),
        "tx-ring-full": app(11, 0, 1) + app(0, 0, 20000) + l4(1, icmp_echo) +
        seg(0, ACK, ack=1448, step=8) + app(11, 0, 0) + rec(CLOCK, b"\0\0", step=11),
        "listener-accept": l4(6, struct.pack(">HHIIBBHHH", 41001, 8080, 7, 0, 0x50, SYN,
                                             65535, 0, 0)) + app(7) + app(9),
    }
    return s


def http_seeds():
    return {
        "get": b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
        "head-10": b"HEAD /a/./b/%41 HTTP/1.0\r\n\r\n",
        "pipelined": b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x?q=1 HTTP/1.1\r\nHost: a\r\n"
                     b"Connection: close\r\n\r\n",
        "post-body": b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "absolute": b"GET http://h.example/p%2fq HTTP/1.1\r\nHost: h\r\n\r\n",
        "options-star": b"OPTIONS * HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    }


def config(file, *args):
    """The config file, a NUL, then the arguments separated by NULs."""
    return file + b"\0" + b"\0".join(args)


def config_seeds():
    return {
        "args": config(b"", b"--iface", b"veth0", b"--addr", b"10.0.0.1/24", b"--echo", b"7",
                       b"--queues", b"all"),
        "file": config(b"iface veth0\naddr 10.0.0.1/24\ngateway 10.0.0.254\nhttp 80:/srv\n"
                       b"cpus 0-1\nvlan 5\nroute 10.9.0.0/16 via 10.0.0.254\n",
                       b"--send", b"10.0.0.2:9:1M"),
        "fetch": config(b"", b"--iface", b"eth0", b"--addr", b"10.1.1.1/16", b"--fetch",
                        b"http://10.1.1.2:8080/x", b"--exit-after-client", b"-v"),
        "ipv6": config(b"addr 2001:db8::5/64\ngateway6 fe80::1\n"
                       b"route 2001:db8:1::/48 via 2001:db8::1\n",
                       b"--iface", b"veth0", b"--addr", b"10.0.0.1/24", b"--route",
                       b"2001:db8:2::/56 via fe80::2"),
    }


def ctl_seeds():
    """A client's bytes; the first byte sets the size of each read."""
    return {
        "verbs": b"\x07status\nstats json\r\nneigh\nsockets json\nroutes\n",
        "pipelined": b"\x00status json\n\x01bad\nroutes json\nfrobnicate a b c d e f g h i\n",
        "partial": b"\x03stat",
        "long": b"\x3f" + b"s" * 300 + b"\n",
    }


def xdp_seeds():
    """Frames for fuzz_xdp (len:u16 then bytes, several per input)."""
    mac, peer = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 9])
    ded, shr, src = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), bytes([10, 0, 0, 9])

    def eth(t, body, dst=mac):
        return dst + peer + struct.pack(">H", t) + body

    def ip(proto, dst, l4, frag=0, ident=1, saddr=src):
        return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(l4), ident, frag, 64, proto, 0) + \
            saddr + dst + l4

    def arp(op, tpa):
        return struct.pack(">HHBBH", 1, 0x0800, 6, 4, op) + peer + src + bytes(6) + tpa

    def frames(*fs):
        return b"".join(struct.pack(">H", len(f)) + f for f in fs)

    udp53 = struct.pack(">HHHH", 5353, 53, 16, 0) + b"abcdefgh"
    tcp80 = struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
    echo = struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"ping"
    quote = ip(17, src, struct.pack(">HHHH", 53, 5353, 8, 0), saddr=shr)
    def frames_fixed(*fs):  # bit 15 of the length: the harness fixes checksums
        return b"".join(struct.pack(">H", 0x8000 | len(f)) + f for f in fs)

    ded6 = bytes.fromhex("20010db8000000000000000000000005")
    peer6 = bytes.fromhex("20010db8000000000000000000000001")
    group6 = bytes.fromhex("ff0200000000000000000001ff000005")

    def ip6(dst, l4, hop=255, src=peer6):
        return struct.pack(">IHBB", 0x60000000, len(l4), 58, hop) + src + dst + l4

    ns = struct.pack(">BBHI", 135, 0, 0, 0) + ded6 + bytes([1, 1]) + peer
    echo6 = struct.pack(">BBHHH", 128, 0, 0, 7, 1) + b"ping6"
    shr6 = bytes.fromhex("20010db8000000000000000000000002")

    def ip6x(nh, payload, dst=shr6, src=peer6):
        return struct.pack(">IHBB", 0x60000000, len(payload), nh, 64) + src + dst + payload

    def fh6(nh, off, more, ident):
        return struct.pack(">BBHI", nh, 0, off | more, ident)
    udp53_6 = struct.pack(">HHHH", 5353, 53, 16, 0) + b"abcdefgh"
    quote6 = ip6x(6, struct.pack(">HH", 80, 40000) + bytes(16), dst=peer6, src=shr6)
    return {
        # the shared IPv6 address: owned ports behind extension headers,
        # fragments, an ICMPv6 error (packet too big) quoting an owned flow
        "ipv6-shared": frames(eth(0x86dd, ip6x(17, udp53_6)),
                              eth(0x86dd, ip6x(0, bytes([60, 0, 1, 4, 0, 0, 0, 0]) +
                                               bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp80)),
                              eth(0x86dd, ip6x(44, fh6(17, 0, 1, 9) + udp53_6)),
                              eth(0x86dd, ip6x(44, fh6(17, 24, 0, 9) + b"z" * 16)),
                              eth(0x86dd, ip6x(58, struct.pack(">BBHI", 2, 0, 0, 1280) +
                                               quote6))),
        "ipv6": frames_fixed(eth(0x86dd, ip6(ded6, ns)),
                             eth(0x86dd, ip6(group6, ns), b"\x33\x33\xff\x00\x00\x05"),
                             eth(0x86dd, ip6(group6, ns[:24], src=bytes(16)),
                                 b"\x33\x33\xff\x00\x00\x05"),
                             eth(0x86dd, ip6(ded6, echo6, hop=64)),
                             eth(0x0800, ip(1, ded, echo))),
        "arp": frames(eth(0x0806, arp(1, ded), b"\xff" * 6), eth(0x0806, arp(2, ded)),
                      eth(0x0806, arp(1, shr), b"\xff" * 6)),
        "ded": frames(eth(0x0800, ip(1, ded, echo)), eth(0x0800, ip(17, ded, udp53)),
                      eth(0x8100, b"\x00\x00\x08\x00" + ip(1, ded, echo))),
        "shared": frames(eth(0x0800, ip(17, shr, udp53)), eth(0x0800, ip(6, shr, tcp80)),
                         eth(0x0800, ip(6, shr, struct.pack(">HH", 1, 22) + tcp80[4:]))),
        "frags": frames(eth(0x0800, ip(17, shr, udp53, frag=0x2000, ident=7)),
                        eth(0x0800, ip(17, shr, b"x" * 16, frag=0x0002, ident=7)),
                        eth(0x0800, ip(17, shr, b"y" * 16, frag=0x0002, ident=8))),
        "icmp_err": frames(eth(0x0800, ip(1, shr, struct.pack(">BBHI", 3, 3, 0, 0) + quote))),
    }


def app_seeds():
    """fuzz_app: records over an application region (fuzz_app.c)."""
    # struct skiff_app_msg (64 bytes); addresses are bytes in the family's
    # length (4 for AF_INET = 2, 16 for AF_INET6 = 10), zero-padded to 16
    def msg(op, slot=0, seq=1, addr=b"", port=0, flags=0, arg=0, arg2=0, laddr=b"", lport=0,
            family=2):
        return bytes([1]) + struct.pack("<HHIHHiIHHHHI16s16s", op, slot, seq, port, flags, arg,
                                        arg2, lport, 0, family, 0, 0, addr, laddr)

    def poll(ms=1):
        return bytes([4, ms])

    def on_ring(q, m):
        return bytes([7, q]) + m[1:]
    def tx_rec(slot, at, port, flags, laddr, payload):
        # record 10: a struct skiff_app_dgram (48 bytes) and its payload
        rec = struct.pack("<IHBBBB2s16s16s4s", len(payload), socket.htons(port), flags, 0, 9,
                          0x10, b"", peer_addr, laddr, b"") + payload
        return bytes([10, slot]) + struct.pack(">HB", at, len(rec)) + rec
    peer_addr = bytes([10, 0, 0, 2])
    our_addr = bytes([10, 0, 0, 1])
    peer6 = bytes.fromhex("20010db8000000000000000000000002")
    mapped = bytes(10) + b"\xff\xff" + peer_addr
    conn = msg(2, 0, 1, peer_addr, socket.htons(80)) + poll(5)
    return {
        "listen-close": msg(1, 3, 1, b"", socket.htons(8080), 1, 16) + poll() +
        msg(7, 3, 2) + poll(),
        "connect-tx": conn + bytes([3, 0]) + struct.pack("<II", 100, 0) + msg(4, 0, 2) + poll(),
        "connect-garbage-head": conn + bytes([3, 0]) + struct.pack("<II", 0x7fffffff, 0) +
        msg(4, 0, 2) + poll(),
        "connect-close": conn + msg(6, 0, 2, arg=1) + msg(7, 0, 3) + poll(200),
        "bad-ops": msg(0) + msg(99) + msg(1, 5000) + msg(3, 1, 1, arg=-1) + poll(),
        "ring-ahead": msg(1, 3, 1, b"", socket.htons(8080)) + bytes([2]) +
        struct.pack("<I", 5000) + poll(),
        "scribble": bytes([0, 0, 8, 64]) + bytes(range(64)) + poll(),
        # UDP (ops 9, 10; records 5 and 6): bound to 9999, a datagram from
        # the peer, the part tail moved, a send of what the tx FIFO holds
        "udp-rx": msg(9, 2, 1, b"", socket.htons(9999)) + poll() +
        bytes([6]) + struct.pack(">H", 9999) + bytes([5]) + b"hello" + poll() +
        bytes([5, 2, 0]) + struct.pack("<I", 4) + msg(5, 2, 2) + poll() + msg(7, 2, 3) + poll(),
        "udp-connect-tx": msg(9, 1, 1) + msg(10, 1, 2, peer_addr, socket.htons(7)) + poll() +
        bytes([3, 1]) + struct.pack("<II", 48, 0) + msg(4, 1, 3) + poll(),
        # a send with control messages (record 10 writes the tx FIFO): from
        # our address with TTL 9 and TOS 0x10, then from an address not
        # ours, then flags no library writes
        "udp-tx-ctl": msg(9, 1, 1, arg=1) + msg(10, 1, 2, peer_addr, socket.htons(7)) + poll() +
        tx_rec(1, 0, 7, 0x7, our_addr, b"abc") +
        tx_rec(1, 52, 7, 0x1, bytes([192, 0, 2, 1]), b"def") +
        tx_rec(1, 104, 7, 0x80, our_addr, b"ghi") +
        bytes([3, 1]) + struct.pack("<II", 156, 0) + msg(4, 1, 3) + poll(),
        "udp-part-garbage": msg(9, 2, 1, b"", socket.htons(9999)) + poll() +
        bytes([5, 2, 200]) + struct.pack("<I", 0xfffffff0) + msg(5, 2, 2) + poll(),
        # thread rings (records 7-9): a listener from ring 5, a connection
        # from the shared ring 32 and its close from ring 0, then ring 9's
        # producer index far ahead, then q_used with every bit
        "thread-rings": on_ring(5, msg(1, 3, 1, b"", socket.htons(8080))) + poll() +
        on_ring(32, msg(2, 0, 2, peer_addr, socket.htons(80))) + poll(5) +
        msg(7, 0, 3) + poll() + bytes([8, 9]) + struct.pack("<I", 5000) + poll() +
        bytes([9]) + b"\xff" * 8 + poll(),
        # IPv6 (app_shm.h "Addresses"): a dual-stack listener on [::], a
        # V6ONLY one, a connect to an IPv6 peer and to a mapped IPv4 one,
        # a UDP socket sending to both; then families and address bytes
        # no library writes (another family, AF_INET with 16 bytes)
        "v6-listen-connect": msg(1, 3, 1, b"", socket.htons(8080), family=10) + poll() +
        msg(1, 4, 1, b"", socket.htons(8081), 8, family=10) + poll() +
        msg(2, 0, 2, peer6, socket.htons(80), family=10) + poll(5) +
        msg(2, 1, 3, mapped, socket.htons(80), family=10) + poll(5) +
        msg(7, 0, 4) + msg(7, 3, 5) + poll(),
        "v6-udp": msg(9, 2, 1, b"", socket.htons(9999), family=10) + poll() +
        msg(10, 2, 2, peer6, socket.htons(7)) + poll() +
        bytes([3, 2]) + struct.pack("<II", 56, 0) + msg(4, 2, 3) + poll() +
        msg(10, 2, 4, mapped, socket.htons(7)) + poll(),
        "v6-bad-family": msg(1, 3, 1, b"", socket.htons(8080), family=99) +
        msg(2, 0, 2, peer6, socket.htons(80), family=2) +
        msg(9, 2, 3, b"", 0, family=0) + poll(),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build-fuzz/corpus"
    for target, seeds in (("fuzz_stack", stack_seeds()), ("fuzz_http", http_seeds()),
                          ("fuzz_config", config_seeds()), ("fuzz_ctl", ctl_seeds()),
                          ("fuzz_xdp", xdp_seeds()), ("fuzz_app", app_seeds())):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
