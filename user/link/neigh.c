// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Neighbour resolution for output (RFC 826, RFC 1122 2.3.2), after Linux's
 * net/core/neighbour.c, as a per-stack cache in front of the shared BPF
 * neighbour map.
 *
 * The cache is a fixed hash table (NEIGH_BUCKETS chains over NEIGH_ENTRIES
 * preallocated entries): neigh_output() to a REACHABLE entry is one hash
 * probe and eth_output(), with no allocation and no system call.  Special
 * destinations (limited and subnet broadcast, multicast) never touch it.
 *
 * States (Linux's NUD_* simplified):
 *	INCOMPLETE  requests out (broadcast, every NEIGH_RETRANS_NS), packets
 *		    parked (NEIGH_QUEUE_LEN each, NEIGH_QUEUE_TOTAL in all; a
 *		    full entry queue drops its oldest packet, as Linux does).
 *		    Every NEIGH_CHECK_NS the shared map is re-read: the XDP
 *		    program learns replies for shared addresses into it and
 *		    passes them to the kernel, so the daemon never sees them.
 *		    After NEIGH_MAX_PROBES requests: FAILED, and every parked
 *		    packet goes to the error handler (-EHOSTUNREACH).
 *	REACHABLE   confirmed less than NEIGH_STALE_NS ago.
 *	STALE	    older: still used, but (Linux's DELAY/PROBE folded into
 *		    one state, driven by traffic rather than a timer) each
 *		    packet sent at least NEIGH_RETRANS_NS after the last probe
 *		    first re-reads the shared map — a fresher entry there (XDP
 *		    saw the neighbour ARP) confirms it — else sends a unicast
 *		    request to the known MAC.  After NEIGH_MAX_PROBES unanswered
 *		    unicast requests the next packet starts over as INCOMPLETE
 *		    with a broadcast request (Linux would go FAILED first).
 *	FAILED	    resolution failed; the next packet starts over.
 *
 * Aging: every NEIGH_GC_INTERVAL_NS, entries not confirmed for NEIGH_GC_NS
 * leave the cache, and (any worker may do it; deleting twice is harmless)
 * the shared map.  The stack_hooks neigh_walk implementation must not
 * report STATIC entries.  When XDP changes a neighbour's MAC it bumps
 * skiff_config.neigh_gen; the first neigh_output() that sees a new value
 * drops every REACHABLE/STALE entry, which is then re-read from the map.
 *
 * Timers: one 10 ms check tick runs only while something is INCOMPLETE
 * (at most NEIGH_MAX_PENDING entries, NEIGH_CHECK_BUDGET map reads per
 * tick, round robin); the GC timer runs every few seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>

#include "core/pkb.h"
#include "core/stack.h"
#include "core/timer.h"
#include "link/eth.h"
#include "link/neigh.h"
#include "link/neigh_internal.h"

#define likely(x)	__builtin_expect(!!(x), 1)

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Time since t, 0 if t is in the future (maps written by another clock reader). */
static inline uint64_t age(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static inline uint64_t not_after(uint64_t t, uint64_t now)
{
	return t < now ? t : now;
}

static inline uint32_t neigh_hash(uint32_t ip)
{
	return (ip * 0x9e3779b1u) >> (32 - NEIGH_HASH_BITS);
}

static int shared_lookup(struct stack *st, uint32_t ip, uint8_t mac[ETH_ALEN], uint64_t *updated)
{
	if (!st->hooks.neigh_lookup)
		return -ENOENT;
	return st->hooks.neigh_lookup(st->hooks.ctx, ip, mac, updated);
}

static void shared_update(struct stack *st, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	if (st->hooks.neigh_update)
		st->hooks.neigh_update(st->hooks.ctx, ip, mac, st->now);
}

/* ---- the table ---- */

struct neigh_entry *neigh_find(struct neigh_table *tbl, uint32_t ip)
{
	struct neigh_entry *e;

	for (e = tbl->buckets[neigh_hash(ip)]; e; e = e->hnext)
		if (e->ip == ip)
			return e;
	return NULL;
}

static void pending_add(struct neigh_table *tbl, struct neigh_entry *e)
{
	e->pnext_pending = NULL;
	e->pprev_pending = tbl->pending_tail;
	if (tbl->pending_tail)
		tbl->pending_tail->pnext_pending = e;
	else
		tbl->pending_head = e;
	tbl->pending_tail = e;
	tbl->n_pending++;
}

static void pending_del(struct neigh_table *tbl, struct neigh_entry *e)
{
	if (e->pprev_pending)
		e->pprev_pending->pnext_pending = e->pnext_pending;
	else
		tbl->pending_head = e->pnext_pending;
	if (e->pnext_pending)
		e->pnext_pending->pprev_pending = e->pprev_pending;
	else
		tbl->pending_tail = e->pprev_pending;
	e->pnext_pending = e->pprev_pending = NULL;
	tbl->n_pending--;
}

static void neigh_unhash(struct neigh_table *tbl, struct neigh_entry *e)
{
	struct neigh_entry **pp = &tbl->buckets[neigh_hash(e->ip)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
}

/* Forget e.  Its queue must be empty: only INCOMPLETE entries park packets,
 * and those are released through neigh_fail() or neigh_fini(). */
static void neigh_release(struct neigh_table *tbl, struct neigh_entry *e)
{
	if (e->state == NEIGH_INCOMPLETE)
		pending_del(tbl, e);
	neigh_unhash(tbl, e);
	e->state = NEIGH_NONE;
	e->hnext = tbl->free_list;
	tbl->free_list = e;
	tbl->n_used--;
}

/* Table full: take the next non-INCOMPLETE entry under the clock hand. */
static struct neigh_entry *neigh_evict(struct stack *st)
{
	struct neigh_table *tbl = st->neigh;
	uint32_t i;

	for (i = 0; i < NEIGH_ENTRIES; i++) {
		struct neigh_entry *e = &tbl->entries[tbl->evict_hand];

		tbl->evict_hand = (tbl->evict_hand + 1) % NEIGH_ENTRIES;
		if (e->state != NEIGH_NONE && e->state != NEIGH_INCOMPLETE) {
			neigh_release(tbl, e);
			STACK_INC(st, neigh_evicted);
			return e;
		}
	}
	return NULL;
}

/* A hashed entry for ip in state NONE, or NULL (every entry INCOMPLETE). */
static struct neigh_entry *neigh_alloc(struct stack *st, uint32_t ip)
{
	struct neigh_table *tbl = st->neigh;
	struct neigh_entry *e = tbl->free_list;
	uint32_t h;

	if (!e)
		e = neigh_evict(st);
	if (!e)
		return NULL;
	tbl->free_list = e->hnext;
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	e->updated = st->now;
	pkb_queue_init(&e->queue);
	h = neigh_hash(ip);
	e->hnext = tbl->buckets[h];
	tbl->buckets[h] = e;
	tbl->n_used++;
	return e;
}

/* ---- state changes ---- */

/*
 * e is confirmed at mac: REACHABLE.  An INCOMPLETE entry is resolved and
 * its parked packets leave in the order they came.
 */
static void neigh_confirm(struct stack *st, struct neigh_entry *e, const uint8_t mac[ETH_ALEN],
			  uint64_t confirmed)
{
	struct neigh_table *tbl = st->neigh;
	struct pkb_queue q;
	uint8_t dst[ETH_ALEN];
	struct pkb *pkb;
	bool was_incomplete = e->state == NEIGH_INCOMPLETE;

	memcpy(e->mac, mac, ETH_ALEN);
	e->confirmed = confirmed;
	e->updated = st->now;
	e->state = NEIGH_REACHABLE;
	e->probes = 0;
	if (!was_incomplete)
		return;

	pending_del(tbl, e);
	STACK_INC(st, arp_resolved);
	/* Detach first: nothing below may touch e again. */
	q = e->queue;
	pkb_queue_init(&e->queue);
	tbl->n_queued -= q.len;
	memcpy(dst, mac, ETH_ALEN);
	while ((pkb = pkb_dequeue(&q)))
		eth_output(st, pkb, dst, ETH_P_IP);
}

/* Resolution failed: FAILED, parked packets moved to failed for the caller. */
static void neigh_fail(struct stack *st, struct neigh_entry *e, struct pkb_queue *failed)
{
	struct neigh_table *tbl = st->neigh;
	struct pkb *pkb;

	pending_del(tbl, e);
	e->state = NEIGH_FAILED;
	e->updated = st->now;
	e->probes = 0;
	STACK_INC(st, arp_failed);
	while ((pkb = pkb_dequeue(&e->queue))) {
		tbl->n_queued--;
		pkb_queue_tail(failed, pkb);
	}
}

static void neigh_report_failed(struct stack *st, struct pkb_queue *failed)
{
	struct pkb *pkb;

	while ((pkb = pkb_dequeue(failed))) {
		if (st->neigh && st->neigh->err_fn)
			st->neigh->err_fn(st, pkb, -EHOSTUNREACH);
		else
			pkb_drop(st, pkb, SKIFF_DROP_arp_unresolved);
	}
}

/* Park pkb on an INCOMPLETE entry.  Owns pkb. */
static int neigh_enqueue(struct stack *st, struct neigh_entry *e, struct pkb *pkb)
{
	struct neigh_table *tbl = st->neigh;

	if (tbl->n_queued >= NEIGH_QUEUE_TOTAL) {
		pkb_drop(st, pkb, SKIFF_DROP_arp_queue_full);
		return -ENOBUFS;
	}
	if (e->queue.len >= NEIGH_QUEUE_LEN) {
		/* Linux's __neigh_event_send: the oldest packet makes room. */
		pkb_drop(st, pkb_dequeue(&e->queue), SKIFF_DROP_arp_queue_full);
		tbl->n_queued--;
	}
	pkb_queue_tail(&e->queue, pkb);
	tbl->n_queued++;
	STACK_INC(st, neigh_queued);
	return 0;
}

/* When the check tick must run next: in NEIGH_CHECK_NS (only if there is a
 * shared map to re-read), or when the first retransmission is due. */
static uint64_t neigh_next_check(struct stack *st)
{
	const struct neigh_entry *e;
	uint64_t next = st->hooks.neigh_lookup ? st->now + NEIGH_CHECK_NS : UINT64_MAX;

	for (e = st->neigh->pending_head; e; e = e->pnext_pending)
		if (e->next_probe < next)
			next = e->next_probe;
	return next;
}

/*
 * Start resolving e (fresh, FAILED or given-up STALE): INCOMPLETE, park pkb,
 * broadcast the first request, make sure the check tick runs.  Shared-map
 * entries older than min_shared do not count as an answer.  Owns pkb.
 */
static int neigh_start_resolve(struct stack *st, struct neigh_entry *e, struct pkb *pkb,
			       uint64_t min_shared)
{
	struct neigh_table *tbl = st->neigh;
	int err;

	if (tbl->n_pending >= NEIGH_MAX_PENDING) {
		if (e->state == NEIGH_NONE)
			neigh_release(tbl, e);
		pkb_drop(st, pkb, SKIFF_DROP_arp_queue_full);
		return -ENOBUFS;
	}
	e->state = NEIGH_INCOMPLETE;
	e->updated = st->now;
	e->min_shared = min_shared;
	pending_add(tbl, e);
	err = neigh_enqueue(st, e, pkb);

	/* RFC 1122 2.3.2.1: at most one request per second per neighbour. */
	arp_send_request(st, e->ip, NULL);
	e->probes = 1;
	e->next_probe = st->now + NEIGH_RETRANS_NS;
	if (!timer_pending(&tbl->check_timer))
		timer_mod(st, &tbl->check_timer, neigh_next_check(st));
	return err;
}

/*
 * A STALE entry is due for re-confirmation.  Returns true if it may still be
 * used, false if unicast probing gave up and it must be resolved afresh.
 */
static bool neigh_stale_probe(struct stack *st, struct neigh_entry *e)
{
	uint8_t mac[ETH_ALEN];
	uint64_t upd;

	/* The shared map is fresher when XDP saw the neighbour ARP since. */
	if (shared_lookup(st, e->ip, mac, &upd) == 0 && upd > e->confirmed) {
		memcpy(e->mac, mac, ETH_ALEN);
		e->confirmed = not_after(upd, st->now);
		e->probes = 0;
		if (age(st->now, e->confirmed) <= NEIGH_STALE_NS) {
			e->state = NEIGH_REACHABLE;
			e->updated = st->now;
			return true;
		}
	}
	if (e->probes >= NEIGH_MAX_PROBES)
		return false;
	arp_send_request(st, e->ip, e->mac);
	e->probes++;
	e->next_probe = st->now + NEIGH_RETRANS_NS;
	return true;
}

/* Drop every usable entry: the shared map changed under us. */
static void neigh_invalidate(struct neigh_table *tbl)
{
	uint32_t i;

	for (i = 0; i < NEIGH_ENTRIES; i++) {
		struct neigh_entry *e = &tbl->entries[i];

		if (e->state == NEIGH_REACHABLE || e->state == NEIGH_STALE)
			neigh_release(tbl, e);
	}
}

static inline void neigh_check_gen(struct stack *st)
{
	struct neigh_table *tbl = st->neigh;
	uint64_t gen;

	if (!st->hooks.neigh_gen)
		return;
	gen = *st->hooks.neigh_gen;
	if (gen != tbl->gen_seen) {
		tbl->gen_seen = gen;
		neigh_invalidate(tbl);
	}
}

/* Destinations resolved without ARP.  true and mac filled, or false. */
static bool neigh_special_mac(const struct stack *st, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	uint32_t h = ntohl(ip);
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

/* ---- output ---- */

static int neigh_output_slow(struct stack *st, struct pkb *pkb, uint32_t ip, struct neigh_entry *e)
{
	uint8_t mac[ETH_ALEN];
	uint64_t upd;

	if (!e || e->state == NEIGH_FAILED) {
		if (shared_lookup(st, ip, mac, &upd) == 0) {
			/* XDP (or another worker) already knows it: no ARP. */
			if (!e)
				e = neigh_alloc(st, ip);
			if (!e)
				return eth_output(st, pkb, mac, ETH_P_IP);
			memcpy(e->mac, mac, ETH_ALEN);
			e->confirmed = not_after(upd, st->now);
			e->updated = st->now;
			e->state = NEIGH_REACHABLE;
			e->probes = 0;
		} else {
			if (!e)
				e = neigh_alloc(st, ip);
			if (!e) {
				pkb_drop(st, pkb, SKIFF_DROP_arp_queue_full);
				return -ENOBUFS;
			}
			return neigh_start_resolve(st, e, pkb, 0);
		}
	}

	switch (e->state) {
	case NEIGH_INCOMPLETE:
		return neigh_enqueue(st, e, pkb);
	case NEIGH_REACHABLE:
		if (age(st->now, e->confirmed) <= NEIGH_STALE_NS)
			break;
		e->state = NEIGH_STALE;
		e->updated = st->now;
		e->probes = 0;
		e->next_probe = st->now;
		/* fall through */
	case NEIGH_STALE:
		if (st->now >= e->next_probe && !neigh_stale_probe(st, e))
			return neigh_start_resolve(st, e, pkb, e->confirmed + 1);
		break;
	default:
		pkb_drop(st, pkb, SKIFF_DROP_arp_unresolved);
		return -EHOSTUNREACH;
	}
	memcpy(mac, e->mac, ETH_ALEN);
	return eth_output(st, pkb, mac, ETH_P_IP);
}

int neigh_output(struct stack *st, struct pkb *pkb, uint32_t nexthop)
{
	struct neigh_table *tbl = st->neigh;
	struct neigh_entry *e;
	uint8_t mac[ETH_ALEN];

	if (!tbl || nexthop == 0) {
		pkb_drop(st, pkb, SKIFF_DROP_arp_unresolved);
		return -EHOSTUNREACH;
	}
	neigh_check_gen(st);
	if (neigh_special_mac(st, nexthop, mac))
		return eth_output(st, pkb, mac, ETH_P_IP);

	e = neigh_find(tbl, nexthop);
	if (likely(e && e->state == NEIGH_REACHABLE &&
		   age(st->now, e->confirmed) <= NEIGH_STALE_NS))
		return eth_output(st, pkb, e->mac, ETH_P_IP);
	return neigh_output_slow(st, pkb, nexthop, e);
}

/* ---- learning (called by arp.c) ---- */

void neigh_learn(struct stack *st, uint32_t ip, const uint8_t mac[ETH_ALEN], bool create)
{
	struct neigh_table *tbl = st->neigh;
	struct neigh_entry *e;
	uint8_t old[ETH_ALEN];
	uint64_t upd;

	if (!tbl)
		return;
	e = neigh_find(tbl, ip);
	if (!e && !create) {
		/* Only an entry that exists somewhere is updated. */
		if (shared_lookup(st, ip, old, &upd) == 0)
			shared_update(st, ip, mac);
		return;
	}
	if (!e)
		e = neigh_alloc(st, ip);
	/* The shared map first: flushing the queue below sends packets. */
	shared_update(st, ip, mac);
	if (e)
		neigh_confirm(st, e, mac, st->now);
}

/* ---- timers ---- */

static void neigh_check_timer(struct stack *st, struct timer *t)
{
	struct neigh_table *tbl = st->neigh;
	struct neigh_entry *e, *next;
	struct pkb_queue failed;
	uint8_t mac[ETH_ALEN];
	uint64_t upd;
	uint32_t i, n;

	pkb_queue_init(&failed);

	/* The shared map first: an answer that is there beats a failure.
	 * Round robin: checked entries go to the tail. */
	n = tbl->n_pending < NEIGH_CHECK_BUDGET ? tbl->n_pending : NEIGH_CHECK_BUDGET;
	for (i = 0; i < n && st->hooks.neigh_lookup && tbl->pending_head; i++) {
		e = tbl->pending_head;
		if (shared_lookup(st, e->ip, mac, &upd) == 0 && upd >= e->min_shared) {
			neigh_confirm(st, e, mac, not_after(upd, st->now));
		} else {
			pending_del(tbl, e);
			pending_add(tbl, e);
		}
	}

	/* RFC 1122 2.3.2.1: retransmit once per NEIGH_RETRANS_NS, then give up. */
	for (e = tbl->pending_head; e; e = next) {
		next = e->pnext_pending;
		if (st->now < e->next_probe)
			continue;
		if (e->probes >= NEIGH_MAX_PROBES) {
			neigh_fail(st, e, &failed);
			continue;
		}
		arp_send_request(st, e->ip, NULL);
		e->probes++;
		e->next_probe = st->now + NEIGH_RETRANS_NS;
	}

	if (tbl->n_pending)
		timer_mod(st, t, neigh_next_check(st));
	/* Last: the handler may send (ICMP) and so re-enter neigh_output(). */
	neigh_report_failed(st, &failed);
}

struct gc_walk {
	uint64_t now;
	uint32_t n;
	uint32_t ips[NEIGH_GC_BATCH];
};

static int neigh_gc_collect(void *arg, uint32_t ip, const uint8_t mac[6], uint64_t updated_ns)
{
	struct gc_walk *w = arg;

	(void)mac;
	if (age(w->now, updated_ns) > NEIGH_GC_NS)
		w->ips[w->n++] = ip;
	return w->n == NEIGH_GC_BATCH;
}

static void neigh_gc_timer(struct stack *st, struct timer *t)
{
	struct neigh_table *tbl = st->neigh;
	struct gc_walk w;
	uint32_t i;

	for (i = 0; i < NEIGH_ENTRIES; i++) {
		struct neigh_entry *e = &tbl->entries[i];

		switch (e->state) {
		case NEIGH_REACHABLE:
		case NEIGH_STALE:
			if (age(st->now, e->confirmed) > NEIGH_GC_NS)
				neigh_release(tbl, e);
			break;
		case NEIGH_FAILED:
			if (age(st->now, e->updated) >= NEIGH_GC_INTERVAL_NS)
				neigh_release(tbl, e);
			break;
		default:
			break;
		}
	}

	/* The shared map: collect first, delete after (no deletion while
	 * iterating a BPF hash map). */
	if (st->hooks.neigh_walk && st->hooks.neigh_delete) {
		w.now = st->now;
		w.n = 0;
		st->hooks.neigh_walk(st->hooks.ctx, neigh_gc_collect, &w);
		for (i = 0; i < w.n; i++)
			st->hooks.neigh_delete(st->hooks.ctx, w.ips[i]);
	}
	timer_mod(st, t, st->now + NEIGH_GC_INTERVAL_NS);
}

/* ---- set-up and inspection ---- */

int neigh_init(struct stack *st)
{
	struct neigh_table *tbl;
	uint32_t i;
	int err;

	tbl = calloc(1, sizeof(*tbl));
	if (!tbl)
		return -ENOMEM;
	tbl->entries = calloc(NEIGH_ENTRIES, sizeof(*tbl->entries));
	if (!tbl->entries) {
		free(tbl);
		return -ENOMEM;
	}
	for (i = NEIGH_ENTRIES; i-- > 0;) {
		tbl->entries[i].hnext = tbl->free_list;
		tbl->free_list = &tbl->entries[i];
	}
	if (st->hooks.neigh_gen)
		tbl->gen_seen = *st->hooks.neigh_gen;
	timer_init(&tbl->check_timer, neigh_check_timer);
	timer_init(&tbl->gc_timer, neigh_gc_timer);

	err = dev_add_pack(st, ETH_P_ARP, arp_rcv);
	if (err) {
		free(tbl->entries);
		free(tbl);
		return err;
	}
	st->neigh = tbl;
	timer_mod(st, &tbl->gc_timer, st->now + NEIGH_GC_INTERVAL_NS);
	return 0;
}

void neigh_fini(struct stack *st)
{
	struct neigh_table *tbl = st->neigh;
	uint32_t i;

	if (!tbl)
		return;
	dev_remove_pack(st, ETH_P_ARP);
	timer_del(st, &tbl->check_timer);
	timer_del(st, &tbl->gc_timer);
	for (i = 0; i < NEIGH_ENTRIES; i++)
		pkb_queue_purge(&tbl->entries[i].queue);
	free(tbl->entries);
	free(tbl);
	st->neigh = NULL;
}

void neigh_set_error_handler(struct stack *st, neigh_error_fn fn)
{
	if (st->neigh)
		st->neigh->err_fn = fn;
}

int neigh_lookup(struct stack *st, uint32_t ip, uint8_t mac[6])
{
	struct neigh_entry *e;
	uint64_t upd;

	if (!st->neigh)
		return -ENOENT;
	neigh_check_gen(st);
	e = neigh_find(st->neigh, ip);
	if (e && (e->state == NEIGH_REACHABLE || e->state == NEIGH_STALE)) {
		memcpy(mac, e->mac, ETH_ALEN);
		return 0;
	}
	return shared_lookup(st, ip, mac, &upd) == 0 ? 0 : -ENOENT;
}

static void neigh_fill_info(const struct neigh_entry *e, struct neigh_info *ni)
{
	ni->ip = e->ip;
	memcpy(ni->mac, e->mac, ETH_ALEN);
	ni->state = e->state;
	ni->probes = e->probes;
	ni->confirmed_ns = e->confirmed;
	ni->queued = e->queue.len;
}

int neigh_get(struct stack *st, uint32_t ip, struct neigh_info *ni)
{
	struct neigh_entry *e;

	if (!st->neigh)
		return -ENOENT;
	e = neigh_find(st->neigh, ip);
	if (!e)
		return -ENOENT;
	neigh_fill_info(e, ni);
	return 0;
}

void neigh_for_each(struct stack *st, int (*fn)(void *arg, const struct neigh_info *ni), void *arg)
{
	struct neigh_info ni;
	uint32_t i;

	if (!st->neigh)
		return;
	for (i = 0; i < NEIGH_ENTRIES; i++) {
		const struct neigh_entry *e = &st->neigh->entries[i];

		if (e->state == NEIGH_NONE)
			continue;
		neigh_fill_info(e, &ni);
		if (fn(arg, &ni))
			return;
	}
}

const char *neigh_state_name(int state)
{
	switch (state) {
	case NEIGH_INCOMPLETE:
		return "INCOMPLETE";
	case NEIGH_REACHABLE:
		return "REACHABLE";
	case NEIGH_STALE:
		return "STALE";
	case NEIGH_FAILED:
		return "FAILED";
	default:
		return "NONE";
	}
}
