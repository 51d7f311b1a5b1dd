/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861) wire formats, shared
 * by the XDP program and the daemon.  <linux/icmpv6.h> has the ICMPv6
 * header but not the ND messages, and its names differ between kernel
 * versions; these follow the RFCs.  Packed with alignment 2: after a
 * 14-byte Ethernet header the ICMPv6 header starts at 2 mod 4.
 */
#ifndef SKIFF_PROTO_ICMPV6_H
#define SKIFF_PROTO_ICMPV6_H

#include <stddef.h>

#include <linux/types.h>

#include <skiff/proto/parse.h>

#define SKIFF_IPPROTO_ICMPV6	58

/* RFC 4443 2.1, RFC 4861 4 */
#define SKIFF_ICMPV6_DEST_UNREACH	1
#define SKIFF_ICMPV6_PKT_TOOBIG		2
#define SKIFF_ICMPV6_TIME_EXCEED	3
#define SKIFF_ICMPV6_PARAMPROB		4
#define SKIFF_ICMPV6_ECHO_REQUEST	128
#define SKIFF_ICMPV6_ECHO_REPLY		129
#define SKIFF_ND_NEIGHBOR_SOLICIT	135
#define SKIFF_ND_NEIGHBOR_ADVERT	136

#define SKIFF_ND_HOP_LIMIT	255	/* RFC 4861 7.1.1: else not from on-link */

/* RFC 4861 4.6: option types */
#define SKIFF_ND_OPT_SOURCE_LLADDR	1
#define SKIFF_ND_OPT_TARGET_LLADDR	2

/* RFC 4861 4.4: NA flags, first word after the checksum (network order) */
#define SKIFF_ND_NA_ROUTER	0x80000000u
#define SKIFF_ND_NA_SOLICITED	0x40000000u
#define SKIFF_ND_NA_OVERRIDE	0x20000000u

struct icmp6_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 data;	/* echo: id, sequence; NA: flags; NS: reserved */
} __attribute__((packed, aligned(2)));

/* RFC 4861 4.3 / 4.4: NS and NA share this layout. */
struct nd_msg {
	struct icmp6_hdr hdr;
	__u8 target[16];
} __attribute__((packed, aligned(2)));

/* RFC 4861 4.6.1: a link-layer address option for Ethernet (len 1 = 8 bytes). */
struct nd_opt_lladdr {
	__u8 type;
	__u8 len;	/* in units of 8 bytes */
	__u8 mac[6];
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct icmp6_hdr) == 8, "ICMPv6 header is 8 bytes");
_Static_assert(sizeof(struct nd_msg) == 24, "NS/NA are 24 bytes before options");
_Static_assert(sizeof(struct nd_opt_lladdr) == 8, "an Ethernet lladdr option is 8 bytes");

/* One Neighbor Discovery option: its type, its length in bytes and where it starts. */
struct nd_opt {
	__u8 type;
	__u16 len;
	const __u8 *p;
};

/*
 * The ND option at opt + *off of the len option bytes after an NS or NA
 * (*off < len): PROTO_OK with *o filled and *off moved past it.  RFC 4861
 * 4.6: PROTO_SHORT if fewer than 2 bytes are left, PROTO_LEN for a length
 * of 0 or one past the bytes -- either makes the whole message invalid
 * (7.1.1, 7.1.2).
 */
static inline enum proto_err nd_opt_next(const __u8 *opt, size_t len, size_t *off,
					 struct nd_opt *o)
{
	size_t i = *off, olen;

	if (i > len || len - i < 2)
		return PROTO_SHORT;
	olen = opt[i + 1] * 8u;
	if (!olen || olen > len - i)
		return PROTO_LEN;
	o->type = opt[i];
	o->len = (__u16)olen;
	o->p = opt + i;
	*off = i + olen;
	return PROTO_OK;
}

#endif
