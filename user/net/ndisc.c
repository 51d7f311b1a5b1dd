// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Neighbor Discovery for the daemon's IPv6 output (RFC 4861 7), after
 * Linux's net/ipv6/ndisc.c: the IPv6 table of the neighbour engine
 * (link/neigh.c) with the RFC's DELAY and PROBE states, its shared map the
 * BPF neigh6 map (XDP learns the sender of every Neighbor Solicitation it
 * answers), and the two messages.
 *
 *   - Resolution (7.2.2): a Neighbor Solicitation to the target's
 *     solicited-node group (ff02::1:ffXX:XXXX, MAC 33:33:ff:XX:XX:XX),
 *     from our address on the target's prefix, with our link-layer address;
 *     every second, three times, packets parked meanwhile.  NUD probes
 *     (7.3.3) are unicast to the cached address.
 *   - Neighbor Advertisement received (7.2.5): validated (7.1.2); the
 *     solicited flag confirms reachability, override decides whether a
 *     different address replaces the known one.  A solicited NA is also
 *     written to the shared map when this worker has no entry: with one
 *     cache per worker, the answer to one worker's solicitation may arrive
 *     on another's queue (as arp.c does for ARP replies).
 *   - Neighbor Solicitation received (7.2.3): XDP answers those for a
 *     dedicated address itself; what reaches the daemon (no XDP in front:
 *     the unit tests) is answered the same way, solicited and override
 *     set, and its source link-layer address learnt as STALE.
 *   - An NA from another host for one of our addresses is a conflict:
 *     counted, never learnt.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

#include <skiff/proto/icmpv6.h>

#include "core/csum.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/eth.h"
#include "link/neigh.h"
#include "net/ip_internal.h"

#define ND_MSG_LEN	((uint32_t)sizeof(struct nd_msg))
#define ND_OPT_LEN	((uint32_t)sizeof(struct nd_opt_lladdr))

/* The link-layer address options of an ND message (RFC 4861 4.6). */
struct nd_opts {
	const uint8_t *sll;	/* source link-layer address, or NULL */
	const uint8_t *tll;	/* target link-layer address, or NULL */
};

/* RFC 4861 7.2.2: our dedicated address on target's prefix, else the first
 * dedicated one; NULL when we have none. */
static const uint8_t *nd_source_for(const struct stack *st, const uint8_t *target)
{
	const uint8_t *first = NULL;

	for (int i = 0; i < st->cfg->n_addrs6; i++) {
		const struct stack_addr6 *a = &st->cfg->addrs6[i];

		if (!a->dedicated)
			continue;
		if (in6_prefix_match(a->addr, target, a->prefix_len))
			return a->addr;
		if (!first)
			first = a->addr;
	}
	return first;
}

/* RFC 2464 7: 33:33 and the low 32 bits of a multicast address. */
static void in6_mc_mac(const uint8_t *a, uint8_t mac[ETH_ALEN])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

/*
 * Send an NS or NA about target from src to dst (link destination dmac):
 * type, flags (NA: R/S/O), and our MAC in an option of opt_type.
 */
static void ndisc_send(struct stack *st, uint8_t type, uint32_t flags, const uint8_t *src,
		       const uint8_t *dst, const uint8_t *dmac, const uint8_t *target,
		       uint8_t opt_type)
{
	struct pkb *pkb = netdev_alloc_pkb(st->dev);
	struct nd_opt_lladdr *opt;
	struct nd_msg *m;

	if (!pkb) {
		STACK_INC(st, drop.no_frame);
		return;
	}
	m = __pkb_put(pkb, ND_MSG_LEN + ND_OPT_LEN);
	m->hdr.type = type;
	m->hdr.code = 0;
	m->hdr.checksum = 0;
	m->hdr.data = htonl(flags);
	memcpy(m->target, target, 16);
	opt = (struct nd_opt_lladdr *)(m + 1);
	opt->type = opt_type;
	opt->len = 1;
	memcpy(opt->mac, st->dev->mac, ETH_ALEN);
	m->hdr.checksum = csum_fold(csum_partial(
		m, ND_MSG_LEN + ND_OPT_LEN,
		ipv6_pseudo_sum(src, dst, ND_MSG_LEN + ND_OPT_LEN, SKIFF_IPPROTO_ICMPV6)));
	if (type == SKIFF_ND_NEIGHBOR_SOLICIT)
		STACK_INC(st, nd_ns_sent);
	else
		STACK_INC(st, nd_na_sent);
	ipv6_send_mac(st, pkb, src, dst, SKIFF_IPPROTO_ICMPV6, SKIFF_ND_HOP_LIMIT, dmac);
}

/* ---- the neighbour engine's IPv6 protocol ---- */

static void nd_solicit(struct stack *st, const union neigh_key *k, const uint8_t *mac)
{
	const uint8_t *src = nd_source_for(st, k->v6);
	uint8_t group[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	uint8_t gmac[ETH_ALEN];

	if (!src)
		return; /* no address to ask from: resolution will fail */
	if (mac) { /* NUD probe: unicast (7.3.3) */
		ndisc_send(st, SKIFF_ND_NEIGHBOR_SOLICIT, 0, src, k->v6, mac, k->v6,
			   SKIFF_ND_OPT_SOURCE_LLADDR);
		return;
	}
	memcpy(group + 13, k->v6 + 13, 3);
	in6_mc_mac(group, gmac);
	ndisc_send(st, SKIFF_ND_NEIGHBOR_SOLICIT, 0, src, group, gmac, k->v6,
		   SKIFF_ND_OPT_SOURCE_LLADDR);
}

static bool nd_special_mac(const struct stack *st, const union neigh_key *k,
			   uint8_t mac[ETH_ALEN])
{
	(void)st;
	if (!in6_is_multicast(k->v6))
		return false;
	in6_mc_mac(k->v6, mac);
	return true;
}

static int nd_shared_lookup(struct stack *st, const union neigh_key *k, uint8_t mac[ETH_ALEN],
			    uint64_t *updated)
{
	if (!st->hooks.neigh6_lookup)
		return -ENOENT;
	return st->hooks.neigh6_lookup(st->hooks.ctx, k->v6, mac, updated);
}

static void nd_shared_update(struct stack *st, const union neigh_key *k,
			     const uint8_t mac[ETH_ALEN])
{
	if (st->hooks.neigh6_update)
		st->hooks.neigh6_update(st->hooks.ctx, k->v6, mac, st->now);
}

static bool nd_has_shared(const struct stack *st)
{
	return st->hooks.neigh6_lookup != NULL;
}

/* The engine's walk of the neigh6 map, keys as union neigh_key. */
struct nd_walk {
	int (*fn)(void *arg, const union neigh_key *k, uint64_t updated_ns);
	void *arg;
};

static int nd_walk_one(void *arg, const uint8_t ip6[16], const uint8_t mac[6],
		       uint64_t updated_ns)
{
	struct nd_walk *w = arg;
	union neigh_key k;

	(void)mac;
	memcpy(k.v6, ip6, 16);
	return w->fn(w->arg, &k, updated_ns);
}

static void nd_shared_walk(struct stack *st,
			   int (*fn)(void *arg, const union neigh_key *k, uint64_t updated_ns),
			   void *arg)
{
	struct nd_walk w = { fn, arg };

	if (st->hooks.neigh6_walk)
		st->hooks.neigh6_walk(st->hooks.ctx, nd_walk_one, &w);
}

static void nd_shared_delete(struct stack *st, const union neigh_key *k)
{
	if (st->hooks.neigh6_delete)
		st->hooks.neigh6_delete(st->hooks.ctx, k->v6);
}

static void nd_resolved(struct stack *st)
{
	STACK_INC(st, nd_resolved);
}

static void nd_failed(struct stack *st)
{
	STACK_INC(st, nd_failed);
}

static const struct neigh_ops nd_neigh_ops = {
	.ethertype = ETH_P_IPV6,
	.delay_probe = true,
	.drop_unresolved = SKIFF_DROP_nd_unresolved,
	.drop_queue_full = SKIFF_DROP_nd_queue_full,
	.solicit = nd_solicit,
	.special_mac = nd_special_mac,
	.shared_lookup = nd_shared_lookup,
	.shared_update = nd_shared_update,
	.has_shared = nd_has_shared,
	.shared_walk = nd_shared_walk,
	.shared_delete = nd_shared_delete,
	.resolved = nd_resolved,
	.failed = nd_failed,
};

/* ---- input ---- */

/* RFC 4861 4.6 / 7.1: every option has a nonzero length inside the
 * message; a link-layer address option for Ethernet is 8 bytes. */
static bool nd_parse_opts(const uint8_t *p, uint32_t len, struct nd_opts *o)
{
	struct nd_opt opt;
	size_t off = 0;

	o->sll = o->tll = NULL;
	while (off < len) {
		if (nd_opt_next(p, len, &off, &opt) != PROTO_OK)
			return false;
		if (opt.type == SKIFF_ND_OPT_SOURCE_LLADDR || opt.type == SKIFF_ND_OPT_TARGET_LLADDR) {
			/* skiff speaks Ethernet only: 6 bytes in 8 */
			if (opt.len != ND_OPT_LEN)
				return false;
			if (opt.type == SKIFF_ND_OPT_SOURCE_LLADDR)
				o->sll = opt.p + 2;
			else
				o->tll = opt.p + 2;
		}
	}
	return true;
}

static void ndisc_recv_ns(struct stack *st, const struct ip6_hdr *ip6, const struct nd_msg *m,
			  const struct nd_opts *o, const uint8_t *frame_src)
{
	bool dad = in6_is_unspecified(ip6->saddr);
	uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 }, dmac[ETH_ALEN];
	union neigh_key k;

	STACK_INC(st, nd_ns_rx);
	/* 7.1.1: a DAD probe carries no source link-layer address */
	if (dad && o->sll) {
		STACK_INC(st, drop.nd_invalid);
		return;
	}
	if (!ipv6_is_local(st, m->target)) {
		STACK_INC(st, drop.ip6_not_ours);
		return;
	}
	if (o->sll && !(o->sll[0] & 1)) {
		/* 7.2.3: create or update the sender's entry, STALE when new */
		memcpy(k.v6, ip6->saddr, 16);
		neigh_event(st, st->nd, &k, o->sll, NEIGH_F_CREATE);
	}
	/* 7.2.4: solicited (unless DAD, to all-nodes) and override */
	if (dad) {
		in6_mc_mac(all_nodes, dmac);
		ndisc_send(st, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_OVERRIDE, m->target, all_nodes,
			   dmac, m->target, SKIFF_ND_OPT_TARGET_LLADDR);
		return;
	}
	ndisc_send(st, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_SOLICITED | SKIFF_ND_NA_OVERRIDE,
		   m->target, ip6->saddr, o->sll ? o->sll : frame_src, m->target,
		   SKIFF_ND_OPT_TARGET_LLADDR);
}

static void ndisc_recv_na(struct stack *st, const struct ip6_hdr *ip6, const struct nd_msg *m,
			  const struct nd_opts *o)
{
	uint32_t flags = ntohl(m->hdr.data);
	bool solicited = flags & SKIFF_ND_NA_SOLICITED;
	union neigh_key k;

	STACK_INC(st, nd_na_rx);
	/* 7.1.2: an NA to a multicast address is never solicited */
	if (solicited && in6_is_multicast(ip6->daddr)) {
		STACK_INC(st, drop.nd_invalid);
		return;
	}
	if (ipv6_is_local(st, m->target)) {
		STACK_INC(st, nd_conflict);
		return;
	}
	if (o->tll && (o->tll[0] & 1))
		return; /* a group address for a unicast neighbour: not learnt */
	memcpy(k.v6, m->target, 16);
	/* the worker that asked may be another one: it reads the shared map */
	if (solicited && o->tll && !in6_is_multicast(ip6->daddr))
		nd_shared_update(st, &k, o->tll);
	neigh_event(st, st->nd, &k, o->tll,
		    (solicited ? NEIGH_F_CONFIRM : 0) |
			    (flags & SKIFF_ND_NA_OVERRIDE ? NEIGH_F_OVERRIDE : 0));
}

void ndisc_rcv(struct stack *st, struct pkb *pkb, uint32_t off)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkb->data;
	const struct nd_msg *m = (const void *)(pkb->data + off);
	uint32_t len = pkb_len(pkb) - off;
	uint8_t frame_src[ETH_ALEN];
	struct nd_opts o;

	/* 7.1.1 / 7.1.2: hop limit 255 (from on-link), code 0, 24 bytes at
	 * least, no multicast target, sane options; no extension headers
	 * (off past the fixed header) are allowed before an ND message
	 * either: its sender is on the link and sends none */
	if (off != IPV6_HDR_LEN || ip6->hop_limit != SKIFF_ND_HOP_LIMIT || len < ND_MSG_LEN ||
	    m->hdr.code != 0 || in6_is_multicast(m->target) ||
	    !nd_parse_opts((const uint8_t *)(m + 1), len - ND_MSG_LEN, &o)) {
		pkb_drop(st, pkb, SKIFF_DROP_nd_invalid);
		return;
	}
	memcpy(frame_src, pkb_mac_header(pkb) + ETH_ALEN, ETH_ALEN);
	if (m->hdr.type == SKIFF_ND_NEIGHBOR_SOLICIT)
		ndisc_recv_ns(st, ip6, m, &o, frame_src);
	else
		ndisc_recv_na(st, ip6, m, &o);
	pkb_free(pkb);
}

int ndisc_output(struct stack *st, struct pkb *pkb, const uint8_t nexthop[16])
{
	union neigh_key k;

	memcpy(k.v6, nexthop, 16);
	return neigh_resolve_output(st, st->nd, pkb, &k);
}

int ndisc_get(struct stack *st, const uint8_t ip6[16], struct neigh_info *ni)
{
	union neigh_key k;

	memcpy(k.v6, ip6, 16);
	return neigh_table_get(st->nd, &k, ni);
}

int ndisc_init(struct stack *st)
{
	st->nd = neigh_table_create(st, &nd_neigh_ops);
	return st->nd ? 0 : -ENOMEM;
}

void ndisc_fini(struct stack *st)
{
	neigh_table_destroy(st, st->nd);
	st->nd = NULL;
}
