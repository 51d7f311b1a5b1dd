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

/* memcpy: a frame's fields are not aligned; the compiler turns it into one
 * load or store (and a byte swap on a little-endian host). */
static inline __u16 get_be16(const void *p)
{
	__u16 v;

	__builtin_memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

static inline __u32 get_be32(const void *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline void put_be16(void *p, __u16 v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	__builtin_memcpy(p, &v, sizeof(v));
}

static inline void put_be32(void *p, __u32 v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	__builtin_memcpy(p, &v, sizeof(v));
}

#endif /* SKIFF_PROTO_PARSE_H */
