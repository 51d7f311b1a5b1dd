/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by the wire-format headers: big-endian loads and stores at any
 * alignment (a frame's fields sit wherever the headers before them end),
 * and what a checked wire-format parse helper (eth.h, arp.h, ipv4.h, udp.h,
 * tcp.h) found wrong with the bytes it was given.  Each layer maps these to
 * its own drop reasons; PROTO_OK means the header and every length it
 * claims lie inside the bytes given.
 */
#ifndef SKIFF_PROTO_PARSE_H
#define SKIFF_PROTO_PARSE_H

#include <linux/types.h>

enum proto_err {
	PROTO_OK = 0,
	PROTO_SHORT,	/* fewer bytes than the fixed part of the header */
	PROTO_VERSION,	/* a version field with another value */
	PROTO_HLEN,	/* a header length field (IHL, data offset) too small or past the bytes */
	PROTO_LEN,	/* a length field (UDP length) too small or past the bytes */
	PROTO_FORMAT,	/* a header of another kind (ARP: not Ethernet/IPv4, unknown op) */
};

static inline __u16 get_be16(const void *p)
{
	const __u8 *b = p;

	return (__u16)(b[0] << 8 | b[1]);
}

static inline __u32 get_be32(const void *p)
{
	const __u8 *b = p;

	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

static inline void put_be16(void *p, __u16 v)
{
	__u8 *b = p;

	b[0] = (__u8)(v >> 8);
	b[1] = (__u8)v;
}

static inline void put_be32(void *p, __u32 v)
{
	__u8 *b = p;

	b[0] = (__u8)(v >> 24);
	b[1] = (__u8)(v >> 16);
	b[2] = (__u8)(v >> 8);
	b[3] = (__u8)v;
}

#endif /* SKIFF_PROTO_PARSE_H */
