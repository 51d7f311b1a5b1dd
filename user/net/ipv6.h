/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 (net/ipv6.c) for skiff's dedicated IPv6 addresses: input, which
 * delivers UDP and TCP through the same IP-protocol table as IPv4 (the
 * handler tells the family by the network header's version), ICMPv6, and
 * the output path the transports send through.
 */
#ifndef SKIFF_NET_IPV6_H
#define SKIFF_NET_IPV6_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack.h"

struct pkb;

/* Registers ETH_P_IPV6.  0 or -errno. */
int ipv6_init(struct stack *st);
void ipv6_fini(struct stack *st);

/* The ETH_P_IPV6 handler: owns pkb (IPv6 header at pkb->data). */
int ipv6_rcv(struct stack *st, struct pkb *pkb);

/*
 * The IPv6 routes a stack uses for its replies, as ip -6 route lists
 * them: the on-link prefix of each IPv6 address (slot i for addrs6[i]),
 * the static routes of --route (slot ROUTE6_SLOT_STATIC + j), fe80::/64,
 * and the default route of --gateway6.  The longest prefix wins.  Slots
 * index the use counts, which are per stack (sum them over the workers).
 */
#define ROUTE6_SLOT_STATIC	SKIFF_MAX_ADDRS6
#define ROUTE6_SLOT_LINKLOCAL	(SKIFF_MAX_ADDRS6 + SKIFF_MAX_ROUTES)
#define ROUTE6_SLOT_DEFAULT	(ROUTE6_SLOT_LINKLOCAL + 1)
#define ROUTE6_SLOTS		(ROUTE6_SLOT_DEFAULT + 1)

/* Where a locally originated packet goes (ip6_route_output()). */
struct rt6 {
	uint8_t saddr[16];	/* our address to send from */
	uint8_t daddr[16];
	uint8_t nexthop[16];	/* daddr when on-link, else the router */
	uint32_t mtu;		/* the path MTU (ipv6_pmtu_get), at least 1280 */
	int slot;		/* ROUTE6_SLOT_* or the prefix of addrs6[i] */
};

/*
 * Route to daddr from saddr (NULL or ::: our address of the matching
 * prefix, else the first dedicated one, else the first).  0, -ENETUNREACH (no
 * route, a multicast destination) or -EADDRNOTAVAIL (saddr not ours, no
 * dedicated IPv6 address).
 */
int ip6_route_output(struct stack *st, const uint8_t *daddr, const uint8_t *saddr,
		     struct rt6 *rt);
/*
 * Prepend the IPv6 header to pkb (data = the upper-layer header, the whole
 * packet in one buffer) and send it along rt, fragmented above the MTU
 * (RFC 8200 4.5) unless dontfrag (then -EMSGSIZE).  Owns pkb.
 */
int ip6_output(struct stack *st, struct pkb *pkb, const struct rt6 *rt, uint8_t nh,
	       uint8_t tclass, uint8_t hop_limit, bool dontfrag);
/* RFC 8200 8.1: the pseudo-header's unfolded sum for len upper-layer bytes. */
uint32_t ipv6_pseudo_sum(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nh);
/*
 * An ICMPv6 error about in (network_header = its IPv6 header, as
 * received) to its source, rate limited, never about a multicast frame or
 * source (RFC 4443 2.4).  Does not own in.
 */
void icmp6_send(struct stack *st, const struct pkb *in, uint8_t type, uint8_t code,
		uint32_t info);

struct route6_info {
	bool is_default;
	bool is_static;
	uint8_t dst[16];	/* host bits zero; :: for the default route */
	uint8_t prefix_len;
	uint8_t gateway[16];	/* :: for on-link routes */
	uint8_t src[16];	/* the address the route is shown with */
	uint64_t uses;		/* replies of this stack that took it */
	int slot;
};

/*
 * The source address for a packet to dst (RFC 6724 5, the rules that
 * apply to one interface): an address of the destination's scope (rule 2:
 * a link-local destination gets our link-local address, any other one a
 * global or unique-local address), of those the one on the longest
 * matching prefix (rule 8), else the first given.  NULL: no address of
 * that scope (no link-local one: --no-link-local, or no dedicated IPv6
 * address).  Dedicated and shared addresses alike.
 */
const uint8_t *ipv6_select_source(const struct stack *st, const uint8_t dst[16]);

/* Fill out (at most max) in the order ip -6 route lists them; returns how
 * many.  On the stack's thread or under its lock. */
int ipv6_route_dump(const struct stack *st, struct route6_info *out, int max);

/*
 * Path MTU (RFC 8201): the largest packet, IPv6 header included, to send
 * to dst in one piece: the link MTU, or less when a validated Packet Too
 * Big lowered it in the last 10 minutes; never below 1280.  TCP's MSS
 * reads it (MSS = pmtu - 40 - 20); IPv6 output fragments above it.  Per
 * stack (each worker keeps its own cache of PMTU6 entries, 256 of them).
 */
uint32_t ipv6_pmtu_get(struct stack *st, const uint8_t dst[16]);

#define PMTU6_MAX_ENTRIES	256

struct pmtu6_info {
	uint8_t dst[16];
	uint32_t mtu;
	uint64_t expires_ns;	/* forgotten after this long (RFC 8201 5.3) */
};

/* The live cache entries (at most max); returns how many.  On the stack's
 * thread or under its lock. */
int ipv6_pmtu_dump(struct stack *st, struct pmtu6_info *out, int max);

#endif
