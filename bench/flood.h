/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the packet-rate flood benchmark's three parts share: the reply kinds
 * that flood_count.bpf.c counts on the peer veth (index of its per-CPU
 * array `replies`), read by bench/flood.c, and the size of the generator's
 * frame template.  Not part of skiff.
 */
#ifndef SKIFF_BENCH_FLOOD_H
#define SKIFF_BENCH_FLOOD_H

/* Largest request frame flood.c crafts (the generator's template). */
#define FLOOD_FRAME_MAX 256

enum flood_kind {
	FLOOD_ARP_REPLY,      /* ARP op 2 */
	FLOOD_ICMP_ECHOREPLY, /* IPv4 ICMP type 0 */
	FLOOD_UDP_ECHO,	      /* IPv4 UDP from the echo port */
	FLOOD_OTHER,	      /* anything else: passed to the peer's kernel */
	FLOOD_NKINDS,
};

#endif
