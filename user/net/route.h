/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv4 route table of a stack, as a host keeps it (RFC 1122 3.3.1):
 * one on-link ("scope link") route per configured prefix, the static
 * routes of skiffd --route (dst/N via an on-link gateway), and the default
 * route of --gateway.  All of it is the read-only stack_config, so every
 * worker routes alike; ip_route_output() (ip.h) picks the longest prefix
 * that matches.  What is per worker is only how often each route was
 * chosen, which ip_route_dump() reports for skiffctl routes.
 */
#ifndef SKIFF_ROUTE_H
#define SKIFF_ROUTE_H

#include <stdint.h>

#include <skiff/skiff.h>

struct stack;

/*
 * Slots of struct ip_state::route_uses: the on-link route of addrs[i] is
 * slot i, static route j is ROUTE_SLOT_STATIC + j, the default route is
 * ROUTE_SLOT_DEFAULT.
 */
#define ROUTE_SLOT_STATIC	SKIFF_MAX_ADDRS
#define ROUTE_SLOT_DEFAULT	(SKIFF_MAX_ADDRS + SKIFF_MAX_ROUTES)
#define ROUTE_SLOTS		(ROUTE_SLOT_DEFAULT + 1)
#define ROUTE_MAX_ENTRIES	ROUTE_SLOTS	/* most routes ip_route_dump() lists */

enum route_kind {
	ROUTE_LINK,	/* a prefix of our addresses: dev IF scope link */
	ROUTE_STATIC,	/* --route DST/N via GW */
	ROUTE_DEFAULT,	/* --gateway GW */
};

/* One route as skiffctl shows it (addresses in network order). */
struct route_info {
	enum route_kind kind;
	uint32_t dst;		/* 0 for the default route */
	uint8_t prefix_len;
	uint32_t gateway;	/* 0 for on-link routes */
	uint32_t src;		/* the source address the route gives */
	uint64_t uses;		/* lookups of this stack that chose it */
	int slot;		/* index into route_uses (ROUTE_SLOT_*) */
};

/*
 * The route table of st, default route first, then by destination and
 * prefix length (as ip route lists it).  A prefix two of our addresses
 * share is listed once, with the first address as source (that is the
 * one lookups choose).  Routes whose gateway is not on-link are left
 * out (they can never be chosen).  Returns how many, at most max.
 * Call on the stack's own thread or under its lock (uses).
 */
int ip_route_dump(const struct stack *st, struct route_info *out, int max);

#endif /* SKIFF_ROUTE_H */
