// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Output routing (Linux's ip_route_output_key, reduced to what a host
 * needs, RFC 1122 3.3.1): the on-link prefixes of our configured addresses
 * (longest prefix wins), the limited broadcast, and one default gateway,
 * which must itself be on-link.  The table is the read-only stack_config,
 * so every worker routes alike without sharing state.
 */
#include <errno.h>

#include "core/stack.h"
#include "net/ip.h"
#include "net/ip_internal.h"

/* Our address whose prefix holds addr, longest prefix first; NULL if none. */
static const struct stack_addr *ip_onlink_addr(const struct stack *st, uint32_t addr)
{
	const struct stack_config *cfg = st->cfg;
	const struct stack_addr *best = NULL;

	for (int i = 0; i < cfg->n_addrs; i++) {
		const struct stack_addr *a = &cfg->addrs[i];
		uint32_t mask = inet_make_mask(a->prefix_len);

		if ((addr & mask) != (a->addr & mask))
			continue;
		if (!best || a->prefix_len > best->prefix_len)
			best = a;
	}
	return best;
}

int ip_route_output(struct stack *st, uint32_t daddr, uint32_t saddr, struct rtable *rt)
{
	const struct stack_config *cfg = st->cfg;
	const struct stack_addr *via;

	if (saddr && !stack_is_local(st, saddr))
		return -EADDRNOTAVAIL;
	if (daddr == 0 || cfg->n_addrs == 0)
		return -ENETUNREACH;

	rt->daddr = daddr;
	rt->mtu = st->dev->mtu;

	if (ipv4_is_lbcast(daddr)) {
		/* RFC 1122 3.3.6: limited broadcast stays on the link */
		rt->nexthop = daddr;
		rt->saddr = saddr ? saddr : cfg->addrs[0].addr;
		return 0;
	}
	via = ip_onlink_addr(st, daddr);
	if (via) {
		rt->nexthop = daddr;
	} else if (cfg->gateway && (via = ip_onlink_addr(st, cfg->gateway))) {
		rt->nexthop = cfg->gateway;
	} else {
		return -ENETUNREACH;
	}
	/* RFC 1122 3.3.4.3: the source is the address on the outgoing prefix
	 * unless the caller bound one. */
	rt->saddr = saddr ? saddr : via->addr;
	return 0;
}
