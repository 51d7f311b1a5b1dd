/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One address type for both families, as the socket layer and the
 * transports keep it: 16 bytes, an IPv6 address as it is, an IPv4 address
 * IPv4-mapped (::ffff:a.b.c.d, RFC 4291 2.5.5.2) with the IPv4 address in
 * w[3] (network order).  One compare, one hash and one copy serve both
 * families, and an IPv4 connection accepted by a dual-stack IPv6 listener
 * needs no second form (its peer is what getpeername(2) returns there).
 * Why this and not family + address: docs/sockets.md, "Addresses".
 */
#ifndef SKIFF_INADDR_H
#define SKIFF_INADDR_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

union inet_addr {
	uint8_t b[16];
	uint32_t w[4];	/* w[3]: the IPv4 address of a mapped one */
};

/* ::ffff:0.0.0.0, what an unbound IPv4 socket holds */
#define INET_ADDR_ANY4_INIT	{ .b = { [10] = 0xff, [11] = 0xff } }

static inline bool inet_addr_is4(const union inet_addr *a)
{
	return !a->w[0] && !a->w[1] && a->w[2] == htonl(0xffff);
}

static inline void inet_addr_set4(union inet_addr *a, uint32_t v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = htonl(0xffff);
	a->w[3] = v4;
}

static inline void inet_addr_set6(union inet_addr *a, const uint8_t *v6)
{
	memcpy(a->b, v6, 16);
}

static inline bool inet_addr_eq(const union inet_addr *a, const union inet_addr *b)
{
	return !((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		 (a->w[3] ^ b->w[3]));
}

/* The IPv6 unspecified address :: (the dual-stack or IPv6 wildcard). */
static inline bool inet_addr_is_any6(const union inet_addr *a)
{
	return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

/* A wildcard of either family: :: or ::ffff:0.0.0.0. */
static inline bool inet_addr_is_any(const union inet_addr *a)
{
	return inet_addr_is_any6(a) || (inet_addr_is4(a) && !a->w[3]);
}

/* 32 bits of the address for hashing: the IPv4 address itself when mapped. */
static inline uint32_t inet_addr_fold(const union inet_addr *a)
{
	return inet_addr_is4(a) ? a->w[3] : a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3];
}

/*
 * Would a bind of (a, a_v6only) and one of (b, b_v6only) to the same port
 * share an address they could receive on?  Each side covers: an IPv4
 * address or the IPv4 wildcard (mapped); an IPv6 address; ::, which covers
 * every IPv6 address and, without V6ONLY, every IPv4 one too.
 */
static inline bool inet_addr_bind_overlap(const union inet_addr *a, bool a_v6only,
					  const union inet_addr *b, bool b_v6only)
{
	bool a4 = inet_addr_is4(a), b4 = inet_addr_is4(b);

	if (inet_addr_is_any6(a))
		return b4 ? !a_v6only : true;
	if (inet_addr_is_any6(b))
		return a4 ? !b_v6only : true;
	if (a4 != b4)
		return false;
	if (a4 && (!a->w[3] || !b->w[3]))
		return true;	/* the IPv4 wildcard */
	return inet_addr_eq(a, b);
}

/*
 * Does a socket bound to local (with v6only) take a packet sent to dst?
 * 2: bound to dst exactly; 1: through a wildcard; 0: no.
 */
static inline int inet_addr_local_match(const union inet_addr *local, bool v6only,
					const union inet_addr *dst)
{
	if (inet_addr_eq(local, dst))
		return 2;
	if (inet_addr_is4(dst))
		return (inet_addr_is4(local) && !local->w[3]) ||
		       (inet_addr_is_any6(local) && !v6only);
	return inet_addr_is_any6(local);
}

/* out = the first plen bits of the IPv6 address a, the rest zero (a
 * prefix as routes keep it); out may be a. */
static inline void in6_mask(uint8_t *out, const uint8_t *a, unsigned int plen)
{
	for (unsigned int i = 0; i < 16; i++) {
		int bits = (int)plen - (int)i * 8;

		out[i] = bits >= 8 ? a[i] : bits > 0 ? (uint8_t)(a[i] & (0xff00 >> bits)) : 0;
	}
}

#endif /* SKIFF_INADDR_H */
