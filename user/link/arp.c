// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ARP for IPv4 over Ethernet (RFC 826) in the daemon, behaving as Linux's
 * arp_process() does with default sysctls.  The XDP program answers most
 * requests for skiff addresses itself; what reaches this file is the rest:
 * replies to the requests neigh.c sends, RFC 5227 probes and announcements,
 * and everything when XDP is not in front of us (unit tests).
 *
 *	request, target ours		reply; learn the sender (create/refresh)
 *	request, sender 0.0.0.0		RFC 5227 probe: reply (Linux: to the prober's
 *					MAC, target IP 0.0.0.0); do not learn
 *	sender == target (gratuitous)	update an existing entry, never create one
 *	reply, target ours		learn: resolves a pending entry
 *	sender is one of ours		another host claims our address: counted
 *	anything else			dropped: arp_not_ours
 *
 * Learning writes the stack's cache and the shared neighbour map, so the
 * worker that asked picks the answer up even when the reply arrived on
 * another worker's queue.  Unlike Linux (arp_accept = 0) an unsolicited
 * reply addressed to us is learnt: with one cache per worker, the reply to
 * one worker's request may well land on another worker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <skiff/proto/arp.h>

#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/eth.h"
#include "link/neigh.h"
#include "link/neigh_internal.h"

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline bool ipv4_is_multicast(uint32_t addr)
{
	return (ntohl(addr) & 0xf0000000u) == 0xe0000000u;
}

static inline bool ipv4_is_loopback(uint32_t addr)
{
	return (ntohl(addr) & 0xff000000u) == 0x7f000000u;
}

static inline bool ipv4_is_lbcast(uint32_t addr)
{
	return addr == 0xffffffffu;
}

/*
 * Build and send one ARP frame.  eth_dst is the link destination, tha the
 * target hardware address field (NULL: zeros, as in a request).
 */
static int arp_send(struct stack *st, uint16_t op, const uint8_t eth_dst[ETH_ALEN], uint32_t sip,
		    uint32_t tip, const uint8_t *tha)
{
	struct pkb *pkb = netdev_alloc_pkb(st->dev);
	struct arp_eth_ipv4 *arp;

	if (!pkb) {
		/* Nothing to free: count the frame we could not build. */
		st->stats->drop.no_frame++;
		return -ENOBUFS;
	}
	arp = pkb_put(pkb, ARP_LEN);
	if (!arp) {
		pkb_drop(st, pkb, SKIFF_DROP_no_frame);
		return -ENOBUFS;
	}
	arp->htype = htons(ARPHRD_ETHER_);
	arp->ptype = htons(ETH_P_IP);
	arp->hlen = ETH_ALEN;
	arp->plen = 4;
	arp->op = htons(op);
	memcpy(arp->sha, st->dev->mac, ETH_ALEN);
	arp->spa = sip;
	if (tha)
		memcpy(arp->tha, tha, ETH_ALEN);
	else
		memset(arp->tha, 0, ETH_ALEN);
	arp->tpa = tip;
	pkb_reset_network_header(pkb);
	pkb->dev = st->dev;
	return eth_output(st, pkb, eth_dst, ETH_P_ARP);
}

/* Our address on tip's subnet, else the first one (Linux picks the source
 * of the packet being resolved; the IP layer routes from that subnet too). */
static uint32_t arp_source_for(const struct stack *st, uint32_t tip)
{
	const struct stack_config *cfg = st->cfg;
	int i;

	for (i = 0; i < cfg->n_addrs; i++) {
		const struct stack_addr *a = &cfg->addrs[i];
		uint32_t mask = a->prefix_len ? htonl(~0u << (32 - a->prefix_len)) : 0;

		if (((a->addr ^ tip) & mask) == 0)
			return a->addr;
	}
	return cfg->n_addrs ? cfg->addrs[0].addr : 0;
}

/* RFC 826: a request for tip, broadcast or unicast to dst (re-confirming). */
static void arp_solicit(struct stack *st, const union neigh_key *k, const uint8_t *dst)
{
	uint32_t tip = k->v4;

	/* RFC 826: target hardware address unknown, left zero (as Linux). */
	if (arp_send(st, ARPOP_REQUEST_, dst ? dst : eth_bcast, arp_source_for(st, tip), tip,
		     NULL) == 0)
		STACK_INC(st, arp_req_sent);
}

/* Destinations resolved without ARP.  true and mac filled, or false. */
static bool arp_special_mac(const struct stack *st, const union neigh_key *k,
			    uint8_t mac[ETH_ALEN])
{
	uint32_t ip = k->v4, h = ntohl(ip);
	int i;

	if ((h & 0xf0000000u) == 0xe0000000u) {
		/* RFC 1112 6.4: 01-00-5E-00-00-00 plus the low 23 bits. */
		mac[0] = 0x01;
		mac[1] = 0x00;
		mac[2] = 0x5e;
		mac[3] = (uint8_t)((h >> 16) & 0x7f);
		mac[4] = (uint8_t)(h >> 8);
		mac[5] = (uint8_t)h;
		return true;
	}
	if (ip == 0xffffffffu)
		goto bcast;
	/* RFC 919/922: the directed broadcast of one of our subnets (none on
	 * /31, RFC 3021, and /32). */
	for (i = 0; i < st->cfg->n_addrs; i++) {
		const struct stack_addr *a = &st->cfg->addrs[i];
		uint32_t mask;

		if (a->prefix_len == 0 || a->prefix_len >= 31)
			continue;
		mask = htonl(~0u << (32 - a->prefix_len));
		if (ip == (a->addr | ~mask))
			goto bcast;
	}
	return false;
bcast:
	memcpy(mac, eth_bcast, ETH_ALEN);
	return true;
}

static int arp_shared_lookup(struct stack *st, const union neigh_key *k, uint8_t mac[ETH_ALEN],
			     uint64_t *updated)
{
	if (!st->hooks.neigh_lookup)
		return -ENOENT;
	return st->hooks.neigh_lookup(st->hooks.ctx, k->v4, mac, updated);
}

static void arp_shared_update(struct stack *st, const union neigh_key *k,
			      const uint8_t mac[ETH_ALEN])
{
	if (st->hooks.neigh_update)
		st->hooks.neigh_update(st->hooks.ctx, k->v4, mac, st->now);
}

static bool arp_has_shared(const struct stack *st)
{
	return st->hooks.neigh_lookup != NULL;
}

/* The engine's walk of the neigh map, keys as union neigh_key. */
struct arp_walk {
	int (*fn)(void *arg, const union neigh_key *k, uint64_t updated_ns);
	void *arg;
};

static int arp_walk_one(void *arg, uint32_t ip, const uint8_t mac[6], uint64_t updated_ns)
{
	struct arp_walk *w = arg;
	union neigh_key k = { .w = { 0, 0 } };

	(void)mac;
	k.v4 = ip;
	return w->fn(w->arg, &k, updated_ns);
}

static void arp_shared_walk(struct stack *st,
			    int (*fn)(void *arg, const union neigh_key *k, uint64_t updated_ns),
			    void *arg)
{
	struct arp_walk w = { fn, arg };

	if (st->hooks.neigh_walk)
		st->hooks.neigh_walk(st->hooks.ctx, arp_walk_one, &w);
}

static void arp_shared_delete(struct stack *st, const union neigh_key *k)
{
	if (st->hooks.neigh_delete)
		st->hooks.neigh_delete(st->hooks.ctx, k->v4);
}

static void arp_resolved(struct stack *st)
{
	STACK_INC(st, arp_resolved);
}

static void arp_failed(struct stack *st)
{
	STACK_INC(st, arp_failed);
}

const struct neigh_ops arp_neigh_ops = {
	.ethertype = ETH_P_IP,
	.delay_probe = false,
	.drop_unresolved = SKIFF_DROP_arp_unresolved,
	.drop_queue_full = SKIFF_DROP_arp_queue_full,
	.solicit = arp_solicit,
	.special_mac = arp_special_mac,
	.shared_lookup = arp_shared_lookup,
	.shared_update = arp_shared_update,
	.has_shared = arp_has_shared,
	.shared_walk = arp_shared_walk,
	.shared_delete = arp_shared_delete,
	.resolved = arp_resolved,
	.failed = arp_failed,
};

/* Learn ip -> mac from an ARP frame: refresh (create) the cache entry and
 * the shared map; an INCOMPLETE entry is resolved and its queue flushed.
 * create = false: only an existing entry is touched (the shared map too). */
static void arp_learn(struct stack *st, uint32_t ip, const uint8_t mac[ETH_ALEN], bool create)
{
	union neigh_key k = { .w = { 0, 0 } };

	k.v4 = ip;
	neigh_event(st, st->neigh, &k, mac,
		    NEIGH_F_CONFIRM | NEIGH_F_OVERRIDE | (create ? NEIGH_F_CREATE : 0));
}

int arp_rcv(struct stack *st, struct pkb *pkb)
{
	const struct arp_eth_ipv4 *arp;
	uint8_t sha[ETH_ALEN];
	uint32_t sip, tip;
	uint16_t op;

	STACK_INC(st, arp_rx);
	/* Ethernet frames are padded to 60 bytes: trailing bytes are fine. */
	if (arp_parse(pkb->data, pkb_len(pkb), &arp) != PROTO_OK)
		goto malformed;
	op = ntohs(arp->op);
	sip = arp->spa;
	tip = arp->tpa;
	memcpy(sha, arp->sha, ETH_ALEN);

	/* Never resolve to or for group or loopback addresses (Linux). */
	if (ipv4_is_multicast(sip) || ipv4_is_loopback(sip) || ipv4_is_lbcast(sip))
		goto malformed;
	if (ipv4_is_multicast(tip) || ipv4_is_loopback(tip))
		goto not_ours;

	/*
	 * RFC 5227 2.1.1: a probe has sender IP 0.0.0.0 and must not update
	 * any cache.  Linux answers a probe for one of its addresses with a
	 * reply to the prober's MAC whose target IP is 0.0.0.0, so the prober
	 * sees the conflict.
	 */
	if (sip == 0) {
		if (op != ARPOP_REQUEST_ || !stack_find_addr(st, tip))
			goto not_ours;
		if (arp_send(st, ARPOP_REPLY_, sha, tip, 0, sha) == 0)
			STACK_INC(st, arp_probe_reply);
		pkb_free(pkb);
		return 0;
	}

	/* RFC 5227 2.4: someone else uses one of our addresses.  Learning it
	 * would point our own address at them; count it and go on. */
	if (stack_find_addr(st, sip)) {
		STACK_INC(st, arp_conflict);
		pkb_free(pkb);
		return 0;
	}

	/*
	 * RFC 5227 3 / RFC 826 "merge flag": a gratuitous ARP (announcement)
	 * refreshes an entry we already have and never creates one (Linux,
	 * arp_accept = 0).
	 */
	if (sip == tip) {
		STACK_INC(st, arp_gratuitous);
		arp_learn(st, sip, sha, false);
		pkb_free(pkb);
		return 0;
	}

	if (!stack_find_addr(st, tip))
		goto not_ours;

	if (op == ARPOP_REQUEST_) {
		/* RFC 826: learn the sender first, then swap and reply. */
		arp_learn(st, sip, sha, true);
		if (arp_send(st, ARPOP_REPLY_, sha, tip, sip, sha) == 0)
			STACK_INC(st, arp_reply_sent);
	} else {
		arp_learn(st, sip, sha, true);
	}
	pkb_free(pkb);
	return 0;

malformed:
	pkb_drop(st, pkb, SKIFF_DROP_arp_malformed);
	return -EINVAL;
not_ours:
	pkb_drop(st, pkb, SKIFF_DROP_arp_not_ours);
	return 0;
}
