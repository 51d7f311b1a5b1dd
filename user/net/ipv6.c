// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv6 input for skiff's dedicated IPv6 addresses (RFC 8200): the part of
 * the IPv6 network layer that exists so far.  XDP answers Neighbor
 * Solicitations and plain echo requests itself (bpf/skiff_ipv6.bpf.h) and
 * hands the daemon everything else sent to a dedicated IPv6 address.
 * skiff has no IPv6 sockets yet, so here it behaves as a host with every
 * port closed should:
 *   - the header is validated (version, payload length) and the extension
 *     header chain walked, at most IPV6_MAX_EXT headers (hop-by-hop only
 *     first, RFC 8200 4.1);
 *   - fragments (RFC 8200 4.5) are reassembled in the table IPv4 uses
 *     (ip_fragment.c: same memory bounds, overlaps discard the datagram as
 *     RFC 5722 asks), a first fragment must hold the whole header chain
 *     (RFC 7112), an atomic fragment is a whole packet (RFC 6946); a
 *     packet larger than the path MTU is fragmented on output;
 *   - ICMPv6 (RFC 4443): checksum checked, echo requests answered (those
 *     XDP leaves: with extension headers, or too long for its checksum);
 *     a Packet Too Big about a packet we could have sent lowers the path
 *     MTU of its destination (RFC 8201, the per-worker cache below, read by
 *     output and by TCP through ipv6_pmtu_get()); other messages are
 *     counted and dropped;
 *   - UDP: checksum checked (mandatory in IPv6, RFC 8200 8.1), answered
 *     with destination unreachable, port unreachable (RFC 4443 3.1);
 *   - TCP: checksum checked, answered with a RST as RFC 9293 3.10.7.1 asks
 *     of a CLOSED port;
 *   - any other next header: parameter problem, unrecognized next header
 *     (RFC 8200 4, RFC 4443 3.4), pointing at the field that named it.
 * ICMPv6 errors quote as much of the packet as 1280 bytes allow (RFC 4443
 * 2.4 c), are never sent about an ICMPv6 error, a non-unicast frame or a
 * non-unicast source, and are rate limited (2.4 f).  Replies go back to the
 * source through Neighbor Discovery when it is on-link (net/ndisc.c), else
 * to the MAC that handed the packet over (a router: skiff has no IPv6
 * routes yet).
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <skiff/proto/icmpv6.h>
#include <skiff/proto/ipv6.h>
#include <skiff/proto/tcp.h>
#include <skiff/proto/udp.h>

#include "core/csum.h"
#include "core/clock.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/eth.h"
#include "net/icmp.h"
#include "net/ip_internal.h"
#include "net/ipv6.h"

#define IPV6_HLEN		IPV6_HDR_LEN
#define IPV6_MAX_EXT		8	/* extension headers walked before giving up */
#define IPV6_MIN_MTU		1280	/* RFC 8200 5: an error fits this */
#define IPV6_HOP_LIMIT		64
#define NH_HOPOPTS		SKIFF_NH_HOPOPTS
#define NH_TCP			SKIFF_NH_TCP
#define NH_UDP			SKIFF_NH_UDP
#define NH_ROUTING		SKIFF_NH_ROUTING
#define NH_FRAGMENT		SKIFF_NH_FRAGMENT
#define NH_NONE			SKIFF_NH_NONE
#define NH_DSTOPTS		SKIFF_NH_DSTOPTS
#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_PORT_UNREACH	4
#define ICMPV6_PKT_TOOBIG	2
#define ICMPV6_TIME_EXCEED	3
#define ICMPV6_EXC_FRAGTIME	1
#define ICMPV6_PARAMPROB	4
#define ICMPV6_HDR_FIELD	0
#define ICMPV6_UNK_NEXTHDR	1
#define ICMPV6_HDR_INCOMP	3	/* RFC 7112 5: incomplete header chain */
#define ICMPV6_ERR_BURST	50	/* errors in a burst ... */
#define ICMPV6_ERR_RATE_NS	(10ULL * 1000 * 1000)	/* ... then one per 10 ms */

/*
 * The path MTU cache (RFC 8201): PMTU6_SETS sets of PMTU6_WAYS entries,
 * a destination's set chosen by a hash of its address, the least recently
 * used entry of the set replaced by a new destination; an entry is
 * forgotten PMTU6_AGE_NS after its last update (5.3: "no less than 5
 * minutes, recommended 10"), so a path that grew again is found again.
 */
#define PMTU6_SETS		64
#define PMTU6_WAYS		4
#define PMTU6_AGE_NS		(600ULL * 1000 * 1000 * 1000)

struct pmtu6_entry {
	uint8_t dst[16];
	uint32_t mtu;		/* 0: slot free */
	uint64_t updated;	/* st->now of the Packet Too Big that set it */
	uint64_t used;		/* st->now of the last lookup or update (LRU) */
};

_Static_assert(PMTU6_SETS * PMTU6_WAYS == PMTU6_MAX_ENTRIES, "ipv6.h says how many");

struct ip6_state {
	uint64_t err_credit;	/* token bucket of ICMPv6 errors, in ns of credit */
	uint64_t err_last;
	uint32_t frag_id;	/* next fragment identification (host order) */
	uint32_t pmtu_count;	/* entries in use: 0 skips the lookup */
	uint64_t route_uses[ROUTE6_SLOTS];	/* ipv6_route_dump() */
	struct pmtu6_entry pmtu[PMTU6_SETS][PMTU6_WAYS];
};

/* ff02::1, or the solicited-node group (RFC 4291 2.7.1) of a dedicated address. */
static bool ipv6_in_our_group(const struct stack *st, const uint8_t *a)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	static const uint8_t sn[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	if (!memcmp(a, all_nodes, 16))
		return true;
	if (memcmp(a, sn, sizeof(sn)))
		return false;
	for (int i = 0; i < st->cfg->n_addrs6; i++)
		if (st->cfg->addrs6[i].dedicated && !memcmp(st->cfg->addrs6[i].addr + 13, a + 13, 3))
			return true;
	return false;
}

/* RFC 8200 8.1: the pseudo-header's sum for an upper-layer packet of len bytes. */
uint32_t ipv6_pseudo_sum(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nh)
{
	uint32_t tail[2] = { htonl(len), htonl(nh) };
	uint32_t sum = csum_partial(src, 16, 0);

	sum = csum_partial(dst, 16, sum);
	return csum_partial(tail, sizeof(tail), sum);
}

static bool ipv6_upper_csum_ok(const struct ip6_hdr *ip6, const uint8_t *l4, uint32_t len,
			       uint8_t nh)
{
	return !csum_fold(csum_partial(l4, len, ipv6_pseudo_sum(ip6->saddr, ip6->daddr, len, nh)));
}

/* The link MTU IPv6 uses: the device's, never below RFC 8200's 1280. */
static uint32_t ipv6_mtu(const struct stack *st)
{
	return st->dev->mtu > IPV6_MIN_MTU ? st->dev->mtu : IPV6_MIN_MTU;
}

static struct pmtu6_entry *pmtu6_set(struct ip6_state *s, const uint8_t *dst)
{
	uint32_t h;

	/* the interface identifier varies most between destinations */
	memcpy(&h, dst + 12, 4);
	h ^= h >> 16;
	h ^= (uint32_t)dst[7] << 3;
	return s->pmtu[(h ^ h >> 8) % PMTU6_SETS];
}

/* dst's live entry, or NULL; an entry past its age is freed here. */
static struct pmtu6_entry *pmtu6_find(struct stack *st, const uint8_t *dst)
{
	struct ip6_state *s = st->ip6;
	struct pmtu6_entry *set;

	if (!s || !s->pmtu_count)
		return NULL;
	set = pmtu6_set(s, dst);
	for (int i = 0; i < PMTU6_WAYS; i++) {
		struct pmtu6_entry *e = &set[i];

		if (!e->mtu || memcmp(e->dst, dst, 16))
			continue;
		if (st->now - e->updated > PMTU6_AGE_NS) {
			e->mtu = 0;
			s->pmtu_count--;
			STACK_INC(st, pmtu6_expired);
			return NULL;
		}
		return e;
	}
	return NULL;
}

uint32_t ipv6_pmtu_get(struct stack *st, const uint8_t dst[16])
{
	struct pmtu6_entry *e = pmtu6_find(st, dst);
	uint32_t link = ipv6_mtu(st);

	if (!e)
		return link;
	e->used = st->now;
	return e->mtu < link ? e->mtu : link;
}

/* RFC 8201 4: lower dst's estimate to mtu (>= 1280, < the current one). */
static void pmtu6_update(struct stack *st, const uint8_t *dst, uint32_t mtu)
{
	struct ip6_state *s = st->ip6;
	struct pmtu6_entry *e = pmtu6_find(st, dst), *set;

	if (!e) {
		set = pmtu6_set(s, dst);
		e = &set[0];
		for (int i = 0; i < PMTU6_WAYS && e->mtu; i++)
			if (!set[i].mtu || set[i].used < e->used)
				e = &set[i];
		if (e->mtu)
			STACK_INC(st, pmtu6_evicted);
		else
			s->pmtu_count++;
		memcpy(e->dst, dst, 16);
	}
	e->mtu = mtu;
	e->updated = e->used = st->now;
	STACK_INC(st, pmtu6_updates);
}

int ipv6_pmtu_dump(struct stack *st, struct pmtu6_info *out, int max)
{
	struct ip6_state *s = st->ip6;
	int n = 0;

	if (!s)
		return 0;
	for (int i = 0; i < PMTU6_SETS; i++)
		for (int j = 0; j < PMTU6_WAYS && n < max; j++) {
			const struct pmtu6_entry *e = &s->pmtu[i][j];

			if (!e->mtu || st->now - e->updated > PMTU6_AGE_NS)
				continue;
			memcpy(out[n].dst, e->dst, 16);
			out[n].mtu = e->mtu;
			out[n].expires_ns = e->updated + PMTU6_AGE_NS - st->now;
			n++;
		}
	return n;
}

/* Where a packet goes on the link: to a fixed MAC, or to a next hop that
 * Neighbor Discovery resolves (net/ndisc.c). */
struct ip6_ldst {
	const uint8_t *mac;
	const uint8_t *nexthop;
	uint8_t hop_limit;
	uint8_t tclass;		/* traffic class (DSCP, ECN) of every packet */
};

static void ipv6_link_out(struct stack *st, struct pkb *pkb, const struct ip6_ldst *l)
{
	if (l->mac)
		eth_output(st, pkb, l->mac, ETH_P_IPV6);
	else
		ndisc_output(st, pkb, l->nexthop);
}

static void ipv6_build_header(struct ip6_hdr *ip6, uint32_t plen, uint8_t nh,
			      const uint8_t *src, const uint8_t *dst, uint8_t hop_limit,
			      uint8_t tclass)
{
	ip6->vtc_flow = htonl(6u << 28 | (uint32_t)tclass << 20);
	ip6->plen = htons((uint16_t)plen);
	ip6->nexthdr = nh;
	ip6->hop_limit = hop_limit;
	memcpy(ip6->saddr, src, 16);
	memcpy(ip6->daddr, dst, 16);
}

/*
 * RFC 8200 4.5 fragmentation of pkb (data = the upper-layer packet, no
 * IPv6 header yet): every fragment is an IPv6 header, a fragment header
 * and a slice of the payload, a multiple of 8 bytes but for the last.
 * No extension headers precede it here, so the unfragmentable part is the
 * IPv6 header alone.  Owns pkb.
 */
static void ipv6_fragment(struct stack *st, struct pkb *pkb, const uint8_t *src,
			  const uint8_t *dst, uint8_t nh, const struct ip6_ldst *l)
{
	uint32_t len = pkb_len(pkb), off = 0, id = htonl(st->ip6->frag_id++);
	uint32_t max_slice = (ipv6_pmtu_get(st, dst) - IPV6_HLEN - IPV6_FRAG_HDR_LEN) & ~7u;

	while (off < len) {
		struct pkb *frag = netdev_alloc_pkb(st->dev);
		uint32_t slice = len - off;
		struct ip6_frag_hdr *fh;

		if (!frag) {
			STACK_INC(st, drop.no_frame);
			break;
		}
		if (slice > max_slice)
			slice = max_slice;
		if (IPV6_HLEN + IPV6_FRAG_HDR_LEN + slice > pkb_tailroom(frag)) {
			/* a frame smaller than the MTU: cannot happen with a
			 * sane pool; do not loop on it */
			pkb_drop(st, frag, SKIFF_DROP_no_frame);
			break;
		}
		ipv6_build_header(__pkb_put(frag, IPV6_HLEN), IPV6_FRAG_HDR_LEN + slice,
				  NH_FRAGMENT, src, dst, l->hop_limit, l->tclass);
		pkb_reset_network_header(frag);
		fh = __pkb_put(frag, IPV6_FRAG_HDR_LEN);
		fh->nexthdr = nh;
		fh->reserved = 0;
		fh->frag_off = htons((uint16_t)(off | (off + slice < len ? IP6_FRAG_MORE : 0)));
		fh->id = id;
		memcpy(__pkb_put(frag, slice), pkb->data + off, slice);
		frag->dev = st->dev;
		off += slice;
		STACK_INC(st, ip6_frag_created);
		ipv6_link_out(st, frag, l);
	}
	pkb_free(pkb);
}

/*
 * Send an upper-layer packet (payload already in pkb) from src to dst: the
 * IPv6 header is pushed in front, or the packet is fragmented when it does
 * not fit the link MTU.
 */
static void ipv6_send(struct stack *st, struct pkb *pkb, const uint8_t *src, const uint8_t *dst,
		      uint8_t nh, const struct ip6_ldst *l)
{
	uint32_t len = pkb_len(pkb);
	struct ip6_hdr *ip6;

	STACK_INC(st, ip6_tx);
	/* RFC 8201 4 / RFC 8200 5: above the path MTU, fragments */
	if (IPV6_HLEN + len > ipv6_pmtu_get(st, dst)) {
		ipv6_fragment(st, pkb, src, dst, nh, l);
		return;
	}
	ip6 = pkb_push(pkb, IPV6_HLEN);
	if (!ip6) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_headroom);
		return;
	}
	ipv6_build_header(ip6, len, nh, src, dst, l->hop_limit, l->tclass);
	pkb_reset_network_header(pkb);
	pkb->dev = st->dev;
	ipv6_link_out(st, pkb, l);
}

void ipv6_send_mac(struct stack *st, struct pkb *pkb, const uint8_t *src, const uint8_t *dst,
		   uint8_t nh, uint8_t hop_limit, const uint8_t *dmac)
{
	struct ip6_ldst l = { .mac = dmac, .hop_limit = hop_limit };

	ipv6_send(st, pkb, src, dst, nh, &l);
}

/* The route to dst (ROUTE6_SLOT_*, or i for the prefix of addrs6[i]), or
 * -1: off-link and no --gateway6. */
static int ipv6_route_slot(const struct stack *st, const uint8_t *dst)
{
	const struct stack_config *cfg = st->cfg;
	int best = -1, best_len = -1, i;

	/* the longest prefix; of equal ones the first address's, and an
	 * on-link prefix before a static route; fe80::/64 is the link-local
	 * route's, whether or not we have a link-local address */
	for (i = 0; i < cfg->n_addrs6; i++)
		if (!in6_is_linklocal(cfg->addrs6[i].addr) &&
		    in6_prefix_match(cfg->addrs6[i].addr, dst, cfg->addrs6[i].prefix_len) &&
		    cfg->addrs6[i].prefix_len > best_len) {
			best = i;
			best_len = cfg->addrs6[i].prefix_len;
		}
	for (i = 0; i < cfg->n_routes6; i++)
		if (in6_prefix_match(cfg->routes6[i].dst, dst, cfg->routes6[i].prefix_len) &&
		    cfg->routes6[i].prefix_len > best_len) {
			best = ROUTE6_SLOT_STATIC + i;
			best_len = cfg->routes6[i].prefix_len;
		}
	if (best >= 0)
		return best;
	if (in6_is_linklocal(dst))
		return ROUTE6_SLOT_LINKLOCAL;
	return in6_is_unspecified(cfg->gateway6) ? -1 : ROUTE6_SLOT_DEFAULT;
}

const uint8_t *ipv6_select_source(const struct stack *st, const uint8_t dst[16])
{
	const struct stack_config *cfg = st->cfg;
	const uint8_t *best = NULL;
	int i, best_len = -1;
	bool ll = in6_is_linklocal(dst);

	/* RFC 6724 5 rule 2: the source's scope is the destination's */
	for (i = 0; i < cfg->n_addrs6; i++) {
		const struct stack_addr6 *a = &cfg->addrs6[i];
		int len;

		if (in6_is_linklocal(a->addr) != ll)
			continue;
		/* rule 8: the longest matching prefix (here: of our prefixes) */
		len = in6_prefix_match(a->addr, dst, a->prefix_len) ? a->prefix_len : 0;
		if (len > best_len) {
			best = a->addr;
			best_len = len;
		}
	}
	return best;
}

/* Our link-local address, or NULL. */
static const uint8_t *ipv6_link_local(const struct stack *st)
{
	static const uint8_t ll[16] = { 0xfe, 0x80 };

	return ipv6_select_source(st, ll);
}

/* The next hop of a route slot to dst (ipv6_route_slot() >= 0). */
static const uint8_t *ipv6_slot_nexthop(const struct stack *st, int slot, const uint8_t *dst)
{
	if (slot == ROUTE6_SLOT_DEFAULT)
		return st->cfg->gateway6;
	if (slot >= ROUTE6_SLOT_STATIC && slot < ROUTE6_SLOT_LINKLOCAL)
		return st->cfg->routes6[slot - ROUTE6_SLOT_STATIC].gateway;
	return dst;
}

int ip6_route_output(struct stack *st, const uint8_t *daddr, const uint8_t *saddr,
		     struct rt6 *rt)
{
	const struct stack_config *cfg = st->cfg;
	const uint8_t *src = NULL;
	int slot, i;

	if (in6_is_multicast(daddr) || in6_is_unspecified(daddr))
		return -ENETUNREACH;
	slot = ipv6_route_slot(st, daddr);
	if (slot < 0)
		return -ENETUNREACH;
	if (saddr && !in6_is_unspecified(saddr)) {
		if (!stack_find_addr6(st, saddr))
			return -EADDRNOTAVAIL;
		src = saddr;
	} else if (slot < cfg->n_addrs6) {
		src = cfg->addrs6[slot].addr;	/* RFC 6724 rule 8's spirit: the matching prefix */
	} else if (in6_is_linklocal(daddr) && (src = ipv6_link_local(st))) {
		/* RFC 6724 rule 2: a link-local destination, our link-local source */
	} else {
		/* a dedicated address first: a shared one needs its port claimed;
		 * never the link-local one for a wider scope (rule 2) */
		for (i = 0; i < cfg->n_addrs6 && !src; i++)
			if (cfg->addrs6[i].dedicated && !in6_is_linklocal(cfg->addrs6[i].addr))
				src = cfg->addrs6[i].addr;
		if (!src && cfg->n_addrs6)
			src = cfg->addrs6[0].addr;
		if (!src)
			return -EADDRNOTAVAIL;
	}
	memcpy(rt->saddr, src, 16);
	memcpy(rt->daddr, daddr, 16);
	memcpy(rt->nexthop, ipv6_slot_nexthop(st, slot, daddr), 16);
	rt->mtu = ipv6_pmtu_get(st, daddr);	/* RFC 8201: the path's, as far as we know */
	rt->slot = slot;
	return 0;
}

int ip6_output(struct stack *st, struct pkb *pkb, const struct rt6 *rt, uint8_t nh,
	       uint8_t tclass, uint8_t hop_limit, bool dontfrag)
{
	struct ip6_ldst l = { .nexthop = rt->nexthop, .hop_limit = hop_limit,
			      .tclass = tclass };

	if (dontfrag && IPV6_HLEN + pkb_len(pkb) > rt->mtu) {
		pkb_free(pkb);
		return -EMSGSIZE;
	}
	if (st->ip6 && rt->slot >= 0 && rt->slot < ROUTE6_SLOTS)
		st->ip6->route_uses[rt->slot]++;
	ipv6_send(st, pkb, rt->saddr, rt->daddr, nh, &l);
	return 0;
}

int ipv6_route_dump(const struct stack *st, struct route6_info *out, int max)
{
	const struct stack_config *cfg = st->cfg;
	const uint8_t *ll = ipv6_link_local(st);
	int n = 0, i, j;

	if (!cfg->n_addrs6)
		return 0;
	if (!in6_is_unspecified(cfg->gateway6) && n < max) {
		out[n] = (struct route6_info){ .is_default = true, .slot = ROUTE6_SLOT_DEFAULT };
		memcpy(out[n].gateway, cfg->gateway6, 16);
		memcpy(out[n].src, cfg->addrs6[0].addr, 16);
		n++;
	}
	for (i = 0; i < cfg->n_addrs6 && n < max; i++) {
		const struct stack_addr6 *a = &cfg->addrs6[i];
		bool seen = in6_is_linklocal(a->addr); /* fe80::/64 comes last */

		/* a prefix two addresses share is the first one's (lookups
		 * stop there) */
		for (j = 0; j < i && !seen; j++)
			seen = cfg->addrs6[j].prefix_len == a->prefix_len &&
			       in6_prefix_match(cfg->addrs6[j].addr, a->addr, a->prefix_len);
		if (seen)
			continue;
		out[n] = (struct route6_info){ .prefix_len = a->prefix_len, .slot = i };
		in6_mask(out[n].dst, a->addr, a->prefix_len);
		memcpy(out[n].src, a->addr, 16);
		n++;
	}
	for (i = 0; i < cfg->n_routes6 && n < max; i++) {
		out[n] = (struct route6_info){ .is_static = true,
					       .prefix_len = cfg->routes6[i].prefix_len,
					       .slot = ROUTE6_SLOT_STATIC + i };
		memcpy(out[n].dst, cfg->routes6[i].dst, 16);
		memcpy(out[n].gateway, cfg->routes6[i].gateway, 16);
		memcpy(out[n].src, cfg->addrs6[0].addr, 16);
		n++;
	}
	if (n < max) {
		out[n] = (struct route6_info){ .prefix_len = 64, .slot = ROUTE6_SLOT_LINKLOCAL };
		out[n].dst[0] = 0xfe;
		out[n].dst[1] = 0x80;
		memcpy(out[n].src, ll ? ll : cfg->addrs6[0].addr, 16);
		n++;
	}
	for (i = 0; i < n; i++)
		out[i].uses = st->ip6 ? st->ip6->route_uses[out[i].slot] : 0;
	return n;
}

/*
 * A reply to in (IPv6 header at in->data, its Ethernet header in front):
 * from the address it was sent to, back to its source.  An on-link source
 * is resolved by Neighbor Discovery; any other goes through the default
 * router (--gateway6), resolved the same way; without one the reply goes
 * back to the MAC that handed the packet over (the router it came
 * through).
 */
static void ipv6_reply(struct stack *st, struct pkb *pkb, const struct pkb *in,
		       const struct ip6_hdr *ip6, uint8_t nh)
{
	struct ip6_ldst l = { .hop_limit = IPV6_HOP_LIMIT };

	int slot = ipv6_route_slot(st, ip6->saddr);

	if (slot >= 0)
		l.nexthop = ipv6_slot_nexthop(st, slot, ip6->saddr);
	else
		l.mac = pkb_mac_header(in) + ETH_ALEN;
	if (slot >= 0)
		st->ip6->route_uses[slot]++;
	ipv6_send(st, pkb, ip6->daddr, ip6->saddr, nh, &l);
}

/* RFC 4443 2.4 f: a token bucket, ICMPV6_ERR_BURST deep. */
static bool icmp6_err_allow(struct stack *st)
{
	struct ip6_state *s = st->ip6;
	uint64_t cap = ICMPV6_ERR_BURST * ICMPV6_ERR_RATE_NS, now = st->now;

	s->err_credit += now - s->err_last;
	s->err_last = now;
	if (s->err_credit > cap)
		s->err_credit = cap;
	if (s->err_credit < ICMPV6_ERR_RATE_NS)
		return false;
	s->err_credit -= ICMPV6_ERR_RATE_NS;
	return true;
}

/* An ICMPv6 error about in (its IPv6 header at ip6, qlen bytes from there
 * to its end), to its source. */
static void icmp6_send_hdr(struct stack *st, const struct pkb *in, const struct ip6_hdr *ip6,
			   uint32_t qlen, uint8_t type, uint8_t code, uint32_t info)
{
	struct icmp6_hdr *h;
	struct pkb *pkb;

	/* RFC 4443 2.4 e: not to a multicast frame or a source that is no
	 * host; and never about a packet to a shared address: the kernel
	 * answers for it (XDP hands us only the ports skiff owns there) */
	if (in->pkt_type != PKB_HOST || in6_is_multicast(ip6->saddr) ||
	    in6_is_unspecified(ip6->saddr) || !ipv6_is_local(st, ip6->daddr))
		return;
	if (!icmp6_err_allow(st)) {
		STACK_INC(st, icmp6_ratelimited);
		return;
	}
	pkb = netdev_alloc_pkb(st->dev);
	if (!pkb) {
		STACK_INC(st, drop.no_frame);
		return;
	}
	if (qlen > IPV6_MIN_MTU - IPV6_HLEN - sizeof(*h))
		qlen = IPV6_MIN_MTU - IPV6_HLEN - sizeof(*h);
	if (qlen + sizeof(*h) > pkb_tailroom(pkb))
		qlen = pkb_tailroom(pkb) - sizeof(*h);
	h = __pkb_put(pkb, sizeof(*h) + qlen);
	h->type = type;
	h->code = code;
	h->checksum = 0;
	h->data = htonl(info);
	memcpy(h + 1, ip6, qlen);
	h->checksum = csum_fold(csum_partial(h, sizeof(*h) + qlen,
					     ipv6_pseudo_sum(ip6->daddr, ip6->saddr,
							     (uint32_t)(sizeof(*h) + qlen),
							     SKIFF_IPPROTO_ICMPV6)));
	STACK_INC(st, icmp6_err_sent);
	ipv6_reply(st, pkb, in, ip6, SKIFF_IPPROTO_ICMPV6);
}

/* The same about in with its IPv6 header at in->data. */
static void icmp6_send_err(struct stack *st, const struct pkb *in, uint8_t type, uint8_t code,
			   uint32_t info)
{
	icmp6_send_hdr(st, in, (const struct ip6_hdr *)in->data, pkb_len(in), type, code, info);
}

void icmp6_send(struct stack *st, const struct pkb *in, uint8_t type, uint8_t code,
		uint32_t info)
{
	const uint8_t *nh = pkb_network_header(in);

	icmp6_send_hdr(st, in, (const struct ip6_hdr *)nh, (uint32_t)(in->tail - nh), type, code,
		       info);
}

/* RFC 4443 3.1, Linux's icmpv6_err_convert(): errno of each unreachable code */
static const uint8_t icmp6_unreach_errno[] = {
	ENETUNREACH,	/* 0 no route */
	EACCES,		/* 1 administratively prohibited */
	EHOSTUNREACH,	/* 2 beyond the scope of the source address */
	EHOSTUNREACH,	/* 3 address unreachable */
	ECONNREFUSED,	/* 4 port unreachable */
	EACCES,		/* 5 source address failed policy */
	EACCES,		/* 6 reject route */
};

/*
 * An ICMPv6 error (RFC 4443 3) about a packet we sent (ICMPv6 header at
 * in->data + off, checksum checked): it must quote an IPv6 header from one
 * of our addresses and the first 8 bytes of its upper layer, which then
 * hears of it (RFC 4443 2.4 d) with data = the quoted IPv6 header, as
 * ICMP errors reach it (net/icmp.c).  Owns in.
 */
static void icmp6_error_rcv(struct stack *st, struct pkb *in, uint32_t off)
{
	const struct icmp6_hdr *h = (const void *)(in->data + off);
	uint32_t qoff = off + (uint32_t)sizeof(*h), info = 0;
	struct icmp_quote q;
	int err;

	if (icmp_quote_parse(in->data + qoff, pkb_len(in) - qoff, &q) ||
	    in->data[qoff] >> 4 != 6 || !stack_find_addr6(st, q.saddr.b)) {
		pkb_drop(st, in, SKIFF_DROP_icmp_quote);
		return;
	}
	switch (h->type) {
	case ICMPV6_DEST_UNREACH:
		err = h->code < sizeof(icmp6_unreach_errno) ? icmp6_unreach_errno[h->code] : EPROTO;
		break;
	case ICMPV6_PKT_TOOBIG:
		/* RFC 8201 4: never below the IPv6 minimum MTU */
		err = EMSGSIZE;
		info = ntohl(h->data);
		if (info < IPV6_MIN_MTU)
			info = IPV6_MIN_MTU;
		break;
	case ICMPV6_TIME_EXCEED:
		err = EHOSTUNREACH;
		break;
	default: /* ICMPV6_PARAMPROB */
		err = EPROTO;
		info = ntohl(h->data);
		break;
	}
	STACK_INC(st, icmp6_err_rx);
	__pkb_pull(in, qoff);
	icmp_err_deliver(st, q.proto, in, err, info);
}

/*
 * RFC 4443 3.2 Packet Too Big, m its ICMPv6 message (len bytes, checksum
 * good).  RFC 8201 4 and 5.2: believed only when the quoted packet is one
 * we could have sent: a whole IPv6 header from the address the message came
 * to (one of ours) to a unicast destination, and longer than the MTU the
 * message reports (else it was not too big); an MTU below 1280 is taken as
 * 1280 (the sender fragments above it), one not below the current estimate
 * changes nothing (a node never raises its estimate from a PTB).  Owns in.
 */
static void icmp6_ptb_rcv(struct stack *st, struct pkb *in, const uint8_t *m, uint32_t len)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)in->data;
	const struct ip6_hdr *q = (const void *)(m + sizeof(struct icmp6_hdr));
	uint32_t mtu, qlen;

	STACK_INC(st, icmp6_ptb_rx);
	if (len < sizeof(struct icmp6_hdr) + IPV6_HLEN || (ntohl(q->vtc_flow) >> 28) != 6 ||
	    memcmp(q->saddr, ip6->daddr, 16) || !stack_find_addr6(st, q->saddr) ||
	    in6_is_multicast(q->daddr) || in6_is_unspecified(q->daddr) ||
	    stack_find_addr6(st, q->daddr)) {
		pkb_drop(st, in, SKIFF_DROP_icmp6_ptb_invalid);
		return;
	}
	mtu = ntohl(((const struct icmp6_hdr *)m)->data);
	qlen = IPV6_HLEN + ntohs(q->plen);
	if (qlen <= mtu) {
		pkb_drop(st, in, SKIFF_DROP_icmp6_ptb_invalid);
		return;
	}
	if (mtu < IPV6_MIN_MTU)
		mtu = IPV6_MIN_MTU;
	if (mtu >= ipv6_pmtu_get(st, q->daddr)) {
		pkb_drop(st, in, SKIFF_DROP_icmp6_ptb_not_lower);
		return;
	}
	pmtu6_update(st, q->daddr, mtu);
	/* and TCP lowers its MSS at once (tcp_err), rather than at its next
	 * segment's route lookup */
	icmp6_error_rcv(st, in, (uint32_t)(m - in->data));
}

/* RFC 4443 4.2: the reply carries the request's identifier, sequence and data. */
static void icmp6_rcv(struct stack *st, struct pkb *in, uint32_t off)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)in->data;
	uint32_t len = pkb_len(in) - off;
	const struct icmp6_hdr *req = (const void *)(in->data + off);
	struct icmp6_hdr *h;
	struct pkb *pkb;

	if (len < sizeof(*req) || !ipv6_upper_csum_ok(ip6, in->data + off, len,
						      SKIFF_IPPROTO_ICMPV6)) {
		pkb_drop(st, in, SKIFF_DROP_ip6_csum);
		return;
	}
	if (req->type == SKIFF_ND_NEIGHBOR_SOLICIT || req->type == SKIFF_ND_NEIGHBOR_ADVERT) {
		ndisc_rcv(st, in, off);
		return;
	}
	if (req->type == SKIFF_ICMPV6_PKT_TOOBIG) {
		icmp6_ptb_rcv(st, in, in->data + off, len);
		return;
	}
	if (req->type >= ICMPV6_DEST_UNREACH && req->type <= ICMPV6_PARAMPROB) {
		icmp6_error_rcv(st, in, off);
		return;
	}
	if (req->type != SKIFF_ICMPV6_ECHO_REQUEST || req->code != 0 ||
	    in6_is_multicast(ip6->saddr) || in6_is_unspecified(ip6->saddr) ||
	    in6_is_multicast(ip6->daddr)) {
		pkb_drop(st, in, SKIFF_DROP_icmp6_type); /* the rest unused */
		return;
	}
	/* a reassembled request may be up to 64 KiB: the reply goes into a
	 * big-pool buffer then, which ipv6_send() fragments */
	pkb = netdev_alloc_pkb_len(st->dev, st->big_pool, len);
	if (!pkb) {
		pkb_drop(st, in, SKIFF_DROP_no_frame);
		return;
	}
	h = __pkb_put(pkb, len);
	memcpy(h, req, len);
	h->type = SKIFF_ICMPV6_ECHO_REPLY;
	h->checksum = 0;
	h->checksum = csum_fold(csum_partial(
		h, len, ipv6_pseudo_sum(ip6->daddr, ip6->saddr, len, SKIFF_IPPROTO_ICMPV6)));
	STACK_INC(st, icmp6_echo_reply);
	ipv6_reply(st, pkb, in, ip6, SKIFF_IPPROTO_ICMPV6);
	pkb_free(in);
}

static bool nh_is_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS || nh == NH_FRAGMENT;
}

/*
 * RFC 7112 5 / RFC 8200 4.5: does the first fragment's payload (p, len
 * bytes, starting with next header nh) hold every extension header and the
 * upper-layer header?  TCP's, UDP's and ICMPv6's fixed headers must be
 * whole; what follows another next header is not looked into.  A second
 * fragment header or a late hop-by-hop header makes the chain invalid.
 */
static bool ipv6_first_frag_complete(const uint8_t *p, uint32_t len, uint8_t nh)
{
	size_t off = 0, need;

	for (int i = 0; nh_is_ext(nh); i++) {
		if (nh == NH_FRAGMENT || nh == NH_HOPOPTS || i == IPV6_MAX_EXT ||
		    ip6_ext_next(p, len, &off, &nh) != PROTO_OK)
			return false;
	}
	switch (nh) {
	case NH_TCP:
		need = TCP_HDR_LEN;
		break;
	case NH_UDP:
		need = UDP_HLEN;
		break;
	case SKIFF_IPPROTO_ICMPV6:
		need = sizeof(struct icmp6_hdr);
		break;
	default:
		need = 0;
		break;
	}
	return len - off >= need;
}

/* A reassembled packet holds no fragment header (ipv6_first_frag_complete()
 * refuses one in the first fragment), so this does not recurse twice. */
static int ipv6_input(struct stack *st, struct pkb *pkb);

/*
 * A fragment (RFC 8200 4.5): its fragment header at pkb->data + off,
 * named by the byte at nh_field.  The headers before it are the
 * unfragmentable part, kept from the first fragment.  Owns pkb.
 */
static int ipv6_frag_rcv(struct stack *st, struct pkb *pkb, uint32_t off, uint32_t nh_field)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkb->data;
	const struct ip6_frag_hdr *fh = (const void *)(pkb->data + off);
	uint32_t len = pkb_len(pkb), plen = len - off - IPV6_FRAG_HDR_LEN;
	uint16_t fo = ntohs(fh->frag_off);
	struct ipq_frag_in f = {
		.key = { .family = AF_INET6, .id = fh->id },
		.hlen = off,
		.skip = off + IPV6_FRAG_HDR_LEN,
		.start = fo & IP6_FRAG_OFFSET_MASK,
		.more = fo & IP6_FRAG_MORE,
		.nh_off = (uint8_t)nh_field,
		.nexthdr = fh->nexthdr,
	};
	const struct ipq *q;
	struct ip6_hdr *out;
	struct pkb *buf;

	STACK_INC(st, ip6_frag_rx);
	if (off > IP_REASM_MAX_HDR) {
		pkb_drop(st, pkb, SKIFF_DROP_ip6_frag_chain);
		return 0;
	}
	/* 4.5: a fragment with M set whose length is not a multiple of 8:
	 * parameter problem at the payload length field */
	if (plen == 0 || (f.more && (plen & 7))) {
		if (plen)
			icmp6_send_err(st, pkb, ICMPV6_PARAMPROB, ICMPV6_HDR_FIELD, 4);
		pkb_drop(st, pkb, SKIFF_DROP_ip_frag_bad);
		return 0;
	}
	/* 4.5: a reassembled payload length past 65535: parameter problem at
	 * the fragment offset field */
	if (off - IPV6_HLEN + f.start + plen > 65535) {
		icmp6_send_err(st, pkb, ICMPV6_PARAMPROB, ICMPV6_HDR_FIELD, off + 2);
		pkb_drop(st, pkb, SKIFF_DROP_ip_frag_bad);
		return 0;
	}
	if (f.start == 0 &&
	    !ipv6_first_frag_complete(pkb->data + f.skip, plen, fh->nexthdr)) {
		icmp6_send_err(st, pkb, ICMPV6_PARAMPROB, ICMPV6_HDR_INCOMP, 0);
		pkb_drop(st, pkb, SKIFF_DROP_ip6_frag_chain);
		return 0;
	}
	memcpy(f.key.saddr, ip6->saddr, 16);
	memcpy(f.key.daddr, ip6->daddr, 16);

	buf = ipq_add(st, &f, pkb, &q);
	if (!buf)
		return 0;
	/* the fragment header is gone: its next header takes its place in
	 * the chain, the payload length covers the whole datagram */
	out = (struct ip6_hdr *)buf->data;
	out->plen = htons((uint16_t)(q->hlen - IPV6_HLEN + q->len));
	buf->data[q->nh_off] = q->nexthdr;
	buf->protocol = ETH_P_IPV6;
	STACK_INC(st, ip6_reasm_ok);
	return ipv6_input(st, buf);
}

void ipv6_reasm_expired(struct stack *st, struct pkb *buf, const uint8_t *eth)
{
	(void)eth; /* ipq_put_hdr() put it in front of buf->data: the mac header */
	icmp6_send_err(st, buf, ICMPV6_TIME_EXCEED, ICMPV6_EXC_FRAGTIME, 0);
}

int ipv6_rcv(struct stack *st, struct pkb *pkb)
{
	const struct ip6_hdr *ip6;
	uint32_t len = pkb_len(pkb), plen;

	STACK_INC(st, ip6_rx);
	switch (ip6_hdr_parse(pkb->data, len, &ip6)) {
	case PROTO_OK:
		break;
	case PROTO_SHORT:
		pkb_drop(st, pkb, SKIFF_DROP_ip6_short);
		return 0;
	default: /* RFC 8200 3: version 6 */
		pkb_drop(st, pkb, SKIFF_DROP_ip6_len);
		return 0;
	}
	/* RFC 8200 3: a payload no longer than what arrived */
	plen = get_be16(&ip6->plen);
	if (plen > len - IPV6_HLEN) {
		pkb_drop(st, pkb, SKIFF_DROP_ip6_len);
		return 0;
	}
	pkb_trim(pkb, IPV6_HLEN + plen); /* Ethernet padding */
	/* Ours, or (for Neighbor Discovery only) a group we are in: all-nodes
	 * and our addresses' solicited-node groups.  XDP answers what comes
	 * to those itself; without XDP in front (the unit tests) it is here. */
	if (!stack_find_addr6(st, ip6->daddr) &&
	    !(ip6->nexthdr == SKIFF_IPPROTO_ICMPV6 && ipv6_in_our_group(st, ip6->daddr))) {
		pkb_drop(st, pkb, SKIFF_DROP_ip6_not_ours);
		return 0;
	}
	pkb_reset_network_header(pkb);
	return ipv6_input(st, pkb);
}

/* The extension headers and the upper layer of a whole (or reassembled)
 * packet addressed to us, IPv6 header at pkb->data.  Owns pkb. */
static int ipv6_input(struct stack *st, struct pkb *pkb)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkb->data;
	uint32_t len = pkb_len(pkb), off = IPV6_HLEN, nh_field = 6;
	const struct net_protocol *prot;
	uint8_t nh;
	int i;

	pkb_reset_network_header(pkb);

	/* RFC 8200 4: the extension headers, in order, a bounded number */
	nh = ip6->nexthdr;
	for (i = 0;; i++) {
		const struct ip6_frag_hdr *fh = (const struct ip6_frag_hdr *)(pkb->data + off);
		size_t next = off;
		uint8_t next_nh = nh;

		if (!nh_is_ext(nh))
			break;
		if (i == IPV6_MAX_EXT || (nh == NH_HOPOPTS && i > 0)) {
			pkb_drop(st, pkb, SKIFF_DROP_ip6_ext_chain);
			return 0;
		}
		if (ip6_ext_next(pkb->data, len, &next, &next_nh) != PROTO_OK) {
			pkb_drop(st, pkb, SKIFF_DROP_ip6_len);
			return 0;
		}
		/* RFC 6946: an atomic fragment is a whole packet; its fragment
		 * header is skipped like any other */
		if (nh == NH_FRAGMENT &&
		    (get_be16(&fh->frag_off) & (IP6_FRAG_OFFSET_MASK | IP6_FRAG_MORE)))
			return ipv6_frag_rcv(st, pkb, off, nh_field);
		nh_field = off;
		nh = next_nh;
		off = (uint32_t)next;
	}

	switch (nh) {
	case SKIFF_IPPROTO_ICMPV6:
		icmp6_rcv(st, pkb, off);
		return 0;
	case NH_UDP:
	case NH_TCP:
		/* RFC 8200 8.1: the checksum is mandatory; the transport
		 * (udp_rcv, tcp_rcv) checks it, with data = its header */
		prot = inet_get_protocol(st, nh);
		if (!prot || !prot->handler)
			break;
		__pkb_pull(pkb, off);
		return prot->handler(st, pkb);
	case NH_NONE:
		pkb_free(pkb); /* RFC 8200 4.7: nothing follows */
		return 0;
	default:
		break;
	}
	icmp6_send_err(st, pkb, ICMPV6_PARAMPROB, ICMPV6_UNK_NEXTHDR, nh_field);
	pkb_drop(st, pkb, SKIFF_DROP_ip6_unknown_nexthdr);
	return 0;
}

int ipv6_init(struct stack *st)
{
	struct ip6_state *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->err_credit = ICMPV6_ERR_BURST * ICMPV6_ERR_RATE_NS;
	s->err_last = st->now;
	/* RFC 7739: unpredictable identifications; each worker's in its own
	 * range (the top byte) so no two stacks send the same one */
	if (getrandom(&s->frag_id, sizeof(s->frag_id), GRND_NONBLOCK) != sizeof(s->frag_id))
		s->frag_id = (uint32_t)st->now;
	s->frag_id = (s->frag_id & 0xffffffu) | (uint32_t)(st->dev ? st->dev->queue_id : 0) << 24;
	st->ip6 = s;
	err = ndisc_init(st);
	if (err)
		goto err_free;
	err = dev_add_pack(st, ETH_P_IPV6, ipv6_rcv);
	if (err)
		goto err_nd;
	return 0;

err_nd:
	ndisc_fini(st);
err_free:
	st->ip6 = NULL;
	free(s);
	return err;
}

void ipv6_fini(struct stack *st)
{
	if (!st->ip6)
		return;
	dev_remove_pack(st, ETH_P_IPV6);
	ndisc_fini(st);
	free(st->ip6);
	st->ip6 = NULL;
}
