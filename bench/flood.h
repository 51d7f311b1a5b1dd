/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the packet-rate flood benchmark's three parts share: the reply kinds
 * that flood_count.bpf.c counts on the peer veth (index of its per-CPU
 * array `replies`), read by bench/flood.c.  Not part of skiff.
 */
#ifndef SKIFF_BENCH_FLOOD_H
#define SKIFF_BENCH_FLOOD_H

enum flood_kind {
	FLOOD_ARP_REPLY,      /* ARP op 2 */
	FLOOD_ICMP_ECHOREPLY, /* IPv4 ICMP type 0 */
	FLOOD_UDP_ECHO,	      /* IPv4 UDP from the echo port */
	FLOOD_OTHER,	      /* anything else: passed to the peer's kernel */
	FLOOD_NKINDS,
};

#endif
