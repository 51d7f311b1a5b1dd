// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Output routing (Linux's ip_route_output_key / fib_lookup, reduced to what
 * a host needs, RFC 1122 3.3.1): longest-prefix match over the on-link
 * prefixes of our configured addresses, the static routes (dst/N via an
 * on-link gateway) and the default gateway; plus the limited broadcast,
 * which stays on the link.  The table is the read-only stack_config (see
 * net/route.h), so every worker routes alike without sharing state; each
 * stack counts how often it chose each route (ip_state::route_uses).
 *
 * A table this small is searched linearly (at most SKIFF_MAX_ADDRS +
 * SKIFF_MAX_ROUTES + 1 entries, each a mask and a compare).
 */
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "net/ip.h"
#include "net/ip_internal.h"
#include "net/route.h"

/*
 * Our address whose prefix holds addr, longest prefix first (the first of
 * equal ones); NULL if none.  Only the on-link routes count: this is how
 * a gateway is reached (Linux checks a nexthop against scope-link routes
 * the same way), so a static route never routes its own gateway.
 */
static const struct stack_addr *ip_onlink_addr(const struct stack *st, uint32_t addr, int *slot)
{
	const struct stack_config *cfg = st->cfg;
	const struct stack_addr *best = NULL;

	for (int i = 0; i < cfg->n_addrs; i++) {
		const struct stack_addr *a = &cfg->addrs[i];
		uint32_t mask = inet_make_mask(a->prefix_len);

		if ((addr & mask) != (a->addr & mask))
			continue;
		if (!best || a->prefix_len > best->prefix_len) {
			best = a;
			if (slot)
				*slot = i;
		}
	}
	return best;
}

int ip_route_output(struct stack *st, uint32_t daddr, uint32_t saddr, struct rtable *rt)
{
	const struct stack_config *cfg = st->cfg;
	const struct stack_addr *via, *gw_via;
	int best_len = -1, slot = 0;

	if (saddr && !stack_is_local(st, saddr))
		return -EADDRNOTAVAIL;
	if (daddr == 0 || cfg->n_addrs == 0)
		return -ENETUNREACH;

	rt->daddr = daddr;
	rt->mtu = st->dev->mtu;
	rt->slot = ROUTE_SLOTS;

	if (ipv4_is_lbcast(daddr)) {
		/* RFC 1122 3.3.6: limited broadcast stays on the link */
		rt->nexthop = daddr;
		rt->saddr = saddr ? saddr : cfg->addrs[0].addr;
		return 0;
	}

	/* Longest prefix wins (RFC 1812 5.2.4.3); on a tie the on-link route
	 * beats a static one, which config refuses anyway. */
	via = ip_onlink_addr(st, daddr, &slot);
	if (via) {
		best_len = via->prefix_len;
		rt->nexthop = daddr;
	}
	for (int j = 0; j < cfg->n_routes; j++) {
		const struct stack_route *r = &cfg->routes[j];
		int gw_slot;

		if (r->prefix_len <= best_len ||
		    (daddr & inet_make_mask(r->prefix_len)) != r->dst)
			continue;
		gw_via = ip_onlink_addr(st, r->gateway, &gw_slot);
		if (!gw_via)
			continue;	/* gateway not on-link: never usable */
		best_len = r->prefix_len;
		via = gw_via;
		rt->nexthop = r->gateway;
		slot = ROUTE_SLOT_STATIC + j;
	}
	if (best_len < 0) {
		if (!cfg->gateway || !(via = ip_onlink_addr(st, cfg->gateway, NULL)))
			return -ENETUNREACH;
		rt->nexthop = cfg->gateway;
		slot = ROUTE_SLOT_DEFAULT;
	}
	if (st->ip)
		st->ip->route_uses[slot]++;
	rt->slot = (uint8_t)slot;
	/* RFC 1122 3.3.4.3: the source is the address on the outgoing prefix
	 * unless the caller bound one. */
	rt->saddr = saddr ? saddr : via->addr;
	return 0;
}

_Static_assert(ROUTE_SLOTS <= UINT8_MAX, "struct rtable's slot is a uint8_t");

void ip_route_reuse(struct stack *st, uint32_t daddr, uint32_t saddr, uint32_t nexthop,
		    uint8_t slot, struct rtable *rt)
{
	rt->daddr = daddr;
	rt->saddr = saddr;
	rt->nexthop = nexthop;
	rt->mtu = st->dev->mtu;
	rt->slot = slot;
	if (st->ip && slot < ROUTE_SLOTS)
		st->ip->route_uses[slot]++;
}

static int route_cmp(const void *pa, const void *pb)
{
	const struct route_info *a = pa, *b = pb;
	uint32_t x = ntohl(a->dst), y = ntohl(b->dst);

	if ((a->kind == ROUTE_DEFAULT) != (b->kind == ROUTE_DEFAULT))
		return a->kind == ROUTE_DEFAULT ? -1 : 1;
	if (x != y)
		return x < y ? -1 : 1;
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	return (int)a->kind - (int)b->kind;
}

static uint64_t route_uses(const struct stack *st, int slot)
{
	return st->ip ? st->ip->route_uses[slot] : 0;
}

int ip_route_dump(const struct stack *st, struct route_info *out, int max)
{
	const struct stack_config *cfg = st->cfg;
	const struct stack_addr *via;
	int n = 0, i, k;

	for (i = 0; i < cfg->n_addrs && n < max; i++) {
		const struct stack_addr *a = &cfg->addrs[i];
		uint32_t mask = inet_make_mask(a->prefix_len);
		bool dup = false;

		/* a prefix two addresses share is one route, the first's */
		for (k = 0; k < i; k++)
			dup |= cfg->addrs[k].prefix_len == a->prefix_len &&
			       (cfg->addrs[k].addr & mask) == (a->addr & mask);
		if (dup)
			continue;
		out[n++] = (struct route_info){
			.kind = ROUTE_LINK,
			.dst = a->addr & mask,
			.prefix_len = a->prefix_len,
			.src = a->addr,
			.uses = route_uses(st, i),
			.slot = i,
		};
	}
	for (i = 0; i < cfg->n_routes && n < max; i++) {
		const struct stack_route *r = &cfg->routes[i];

		via = ip_onlink_addr(st, r->gateway, NULL);
		if (!via)
			continue;
		out[n++] = (struct route_info){
			.kind = ROUTE_STATIC,
			.dst = r->dst,
			.prefix_len = r->prefix_len,
			.gateway = r->gateway,
			.src = via->addr,
			.uses = route_uses(st, ROUTE_SLOT_STATIC + i),
			.slot = ROUTE_SLOT_STATIC + i,
		};
	}
	if (cfg->gateway && n < max && (via = ip_onlink_addr(st, cfg->gateway, NULL))) {
		out[n++] = (struct route_info){
			.kind = ROUTE_DEFAULT,
			.gateway = cfg->gateway,
			.src = via->addr,
			.uses = route_uses(st, ROUTE_SLOT_DEFAULT),
			.slot = ROUTE_SLOT_DEFAULT,
		};
	}
	if (n > 1)
		qsort(out, (size_t)n, sizeof(*out), route_cmp);
	return n;
}
