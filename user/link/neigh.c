// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Neighbour resolution for output (RFC 826, RFC 1122 2.3.2; RFC 4861 7.3),
 * after Linux's net/core/neighbour.c, as a per-stack cache in front of the
 * shared BPF neighbour map.  The engine knows no protocol: a table's
 * struct neigh_ops sends its requests, names its special destinations and
 * reaches its shared map (arp.c for IPv4, net/ndisc.c for IPv6).
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
 * A table with ops->delay_probe (NDP) replaces ARP's STALE handling with
 * RFC 4861 7.3.3's, timer-driven: a STALE entry used goes to DELAY (the
 * packet is sent); NEIGH_DELAY_NS later, unless confirmed meanwhile (a
 * solicited NA, or a fresher shared entry), PROBE: unicast solicitations
 * every NEIGH_RETRANS_NS, the entry still used; after NEIGH_MAX_PROBES
 * unanswered ones the entry is deleted and the next packet resolves
 * afresh.  DELAY and PROBE entries sit on the pending list with the
 * INCOMPLETE ones (the check tick drives them); when it is full a STALE
 * entry stays STALE and is used as it is.
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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/if_ether.h>

#include "core/pkb.h"
#include "core/stack.h"
#include "core/timer.h"
#include "link/eth.h"
#include "link/neigh.h"
#include "link/neigh_internal.h"

#define likely(x)	__builtin_expect(!!(x), 1)

/* Time since t, 0 if t is in the future (maps written by another clock reader). */
static inline uint64_t age(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static inline uint64_t not_after(uint64_t t, uint64_t now)
{
	return t < now ? t : now;
}

static inline bool key_eq(const union neigh_key *a, const union neigh_key *b)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1];
}

static int shared_lookup(struct stack *st, struct neigh_table *tbl, const union neigh_key *k,
			 uint8_t mac[ETH_ALEN], uint64_t *updated)
{
	if (!tbl->ops->shared_lookup)
		return -ENOENT;
	return tbl->ops->shared_lookup(st, k, mac, updated);
}

static void shared_update(struct stack *st, struct neigh_table *tbl, const union neigh_key *k,
			  const uint8_t mac[ETH_ALEN])
{
	if (tbl->ops->shared_update)
		tbl->ops->shared_update(st, k, mac);
}

static bool has_shared(const struct stack *st, const struct neigh_table *tbl)
{
	return tbl->ops->has_shared && tbl->ops->has_shared(st);
}

/* ---- the table ---- */

static struct neigh_entry *neigh_find(struct neigh_table *tbl, const union neigh_key *k)
{
	struct neigh_entry *e;

	for (e = tbl->buckets[neigh_hash(tbl, k)]; e; e = e->hnext)
		if (key_eq(&e->key, k))
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
	e->pending = true;
}

static void pending_del(struct neigh_table *tbl, struct neigh_entry *e)
{
	if (!e->pending)
		return;
	if (e->pprev_pending)
		e->pprev_pending->pnext_pending = e->pnext_pending;
	else
		tbl->pending_head = e->pnext_pending;
	if (e->pnext_pending)
		e->pnext_pending->pprev_pending = e->pprev_pending;
	else
		tbl->pending_tail = e->pprev_pending;
	e->pnext_pending = e->pprev_pending = NULL;
	e->pending = false;
	tbl->n_pending--;
}

static void neigh_unhash(struct neigh_table *tbl, struct neigh_entry *e)
{
	struct neigh_entry **pp = &tbl->buckets[neigh_hash(tbl, &e->key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
}

/* Forget e.  Its queue must be empty: only INCOMPLETE entries park packets,
 * and those are released through neigh_fail() or neigh_table_destroy(). */
static void neigh_release(struct neigh_table *tbl, struct neigh_entry *e)
{
	pending_del(tbl, e);
	neigh_unhash(tbl, e);
	e->state = NEIGH_NONE;
	e->hnext = tbl->free_list;
	tbl->free_list = e;
	tbl->n_used--;
}

/* Table full: take the next entry under the clock hand that parks nothing. */
static struct neigh_entry *neigh_evict(struct stack *st, struct neigh_table *tbl)
{
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

/* A hashed entry for k in state NONE, or NULL (every entry INCOMPLETE). */
static struct neigh_entry *neigh_alloc(struct stack *st, struct neigh_table *tbl,
				       const union neigh_key *k)
{
	struct neigh_entry *e = tbl->free_list;
	uint32_t h;

	if (!e)
		e = neigh_evict(st, tbl);
	if (!e)
		return NULL;
	tbl->free_list = e->hnext;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->updated = st->now;
	pkb_queue_init(&e->queue);
	h = neigh_hash(tbl, k);
	e->hnext = tbl->buckets[h];
	tbl->buckets[h] = e;
	tbl->n_used++;
	return e;
}

/* ---- state changes ---- */

/* e now knows mac without a confirmation of reachability: STALE
 * (RFC 4861 7.2.3 / 7.2.5).  Not for INCOMPLETE entries (neigh_confirm). */
static void neigh_set_stale(struct neigh_table *tbl, struct neigh_entry *e,
			    const uint8_t mac[ETH_ALEN], uint64_t now)
{
	pending_del(tbl, e);
	memcpy(e->mac, mac, ETH_ALEN);
	e->state = NEIGH_STALE;
	e->updated = now;
	e->probes = 0;
	e->next_probe = now;
}

/*
 * e is confirmed at mac: REACHABLE.  An INCOMPLETE entry is resolved and
 * its parked packets leave in the order they came.  stale: RFC 4861 7.2.5,
 * an INCOMPLETE entry resolved by an unsolicited NA is STALE, not
 * REACHABLE (its packets leave all the same).
 */
static void neigh_resolve(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e,
			  const uint8_t mac[ETH_ALEN], uint64_t confirmed, bool stale)
{
	struct pkb_queue q;
	uint8_t dst[ETH_ALEN];
	struct pkb *pkb;
	bool was_incomplete = e->state == NEIGH_INCOMPLETE;

	pending_del(tbl, e);
	memcpy(e->mac, mac, ETH_ALEN);
	e->confirmed = confirmed;
	e->updated = st->now;
	e->state = stale ? NEIGH_STALE : NEIGH_REACHABLE;
	e->probes = 0;
	e->next_probe = st->now;
	if (!was_incomplete)
		return;

	if (tbl->ops->resolved)
		tbl->ops->resolved(st);
	/* Detach first: nothing below may touch e again. */
	q = e->queue;
	pkb_queue_init(&e->queue);
	tbl->n_queued -= q.len;
	memcpy(dst, mac, ETH_ALEN);
	while ((pkb = pkb_dequeue(&q)))
		eth_output(st, pkb, dst, tbl->ops->ethertype);
}

static void neigh_confirm(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e,
			  const uint8_t mac[ETH_ALEN], uint64_t confirmed)
{
	neigh_resolve(st, tbl, e, mac, confirmed, false);
}

/* Resolution failed: FAILED, parked packets moved to failed for the caller. */
static void neigh_fail(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e,
		       struct pkb_queue *failed)
{
	struct pkb *pkb;

	pending_del(tbl, e);
	e->state = NEIGH_FAILED;
	e->updated = st->now;
	e->probes = 0;
	if (tbl->ops->failed)
		tbl->ops->failed(st);
	while ((pkb = pkb_dequeue(&e->queue))) {
		tbl->n_queued--;
		pkb_queue_tail(failed, pkb);
	}
}

static void neigh_report_failed(struct stack *st, struct neigh_table *tbl,
				struct pkb_queue *failed)
{
	struct pkb *pkb;

	while ((pkb = pkb_dequeue(failed))) {
		if (tbl->err_fn)
			tbl->err_fn(st, pkb, -EHOSTUNREACH);
		else
			pkb_drop(st, pkb, tbl->ops->drop_unresolved);
	}
}

/* Park pkb on an INCOMPLETE entry.  Owns pkb. */
static int neigh_enqueue(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e,
			 struct pkb *pkb)
{
	if (tbl->n_queued >= NEIGH_QUEUE_TOTAL) {
		pkb_drop(st, pkb, tbl->ops->drop_queue_full);
		return -ENOBUFS;
	}
	if (e->queue.len >= NEIGH_QUEUE_LEN) {
		/* Linux's __neigh_event_send: the oldest packet makes room. */
		pkb_drop(st, pkb_dequeue(&e->queue), tbl->ops->drop_queue_full);
		tbl->n_queued--;
	}
	pkb_queue_tail(&e->queue, pkb);
	tbl->n_queued++;
	STACK_INC(st, neigh_queued);
	return 0;
}

/* When the check tick must run next: in NEIGH_CHECK_NS (only if there is a
 * shared map to re-read and something INCOMPLETE), or when the first
 * retransmission or DELAY/PROBE step is due. */
static uint64_t neigh_next_check(struct stack *st, struct neigh_table *tbl)
{
	const struct neigh_entry *e;
	uint64_t next = UINT64_MAX;

	for (e = tbl->pending_head; e; e = e->pnext_pending) {
		if (e->next_probe < next)
			next = e->next_probe;
		if (e->state == NEIGH_INCOMPLETE && has_shared(st, tbl) &&
		    st->now + NEIGH_CHECK_NS < next)
			next = st->now + NEIGH_CHECK_NS;
	}
	return next;
}

static void neigh_arm_check(struct stack *st, struct neigh_table *tbl)
{
	uint64_t next = neigh_next_check(st, tbl);

	if (next == UINT64_MAX)
		return;
	if (!timer_pending(&tbl->check_timer) || tbl->check_timer.expires > next)
		timer_mod(st, &tbl->check_timer, next);
}

/*
 * Start resolving e (fresh, FAILED or given-up STALE): INCOMPLETE, park pkb,
 * send the first request, make sure the check tick runs.  Shared-map
 * entries older than min_shared do not count as an answer.  Owns pkb.
 */
static int neigh_start_resolve(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e,
			       struct pkb *pkb, uint64_t min_shared)
{
	int err;

	pending_del(tbl, e);
	if (tbl->n_pending >= NEIGH_MAX_PENDING) {
		if (e->state == NEIGH_NONE)
			neigh_release(tbl, e);
		pkb_drop(st, pkb, tbl->ops->drop_queue_full);
		return -ENOBUFS;
	}
	e->state = NEIGH_INCOMPLETE;
	e->updated = st->now;
	e->min_shared = min_shared;
	pending_add(tbl, e);
	err = neigh_enqueue(st, tbl, e, pkb);

	/* RFC 1122 2.3.2.1: at most one request per second per neighbour. */
	tbl->ops->solicit(st, &e->key, NULL);
	e->probes = 1;
	e->next_probe = st->now + NEIGH_RETRANS_NS;
	neigh_arm_check(st, tbl);
	return err;
}

/* The shared map holds a confirmation of e newer than e's own: take it.
 * true if e is REACHABLE now. */
static bool neigh_shared_fresher(struct stack *st, struct neigh_table *tbl,
				 struct neigh_entry *e)
{
	uint8_t mac[ETH_ALEN];
	uint64_t upd;

	if (shared_lookup(st, tbl, &e->key, mac, &upd) || upd <= e->confirmed)
		return false;
	upd = not_after(upd, st->now);
	if (age(st->now, upd) > NEIGH_STALE_NS)
		return false;
	neigh_confirm(st, tbl, e, mac, upd);
	return true;
}

/*
 * An ARP STALE entry is due for re-confirmation.  Returns true if it may
 * still be used, false if unicast probing gave up and it must be resolved
 * afresh.
 */
static bool neigh_stale_probe(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e)
{
	/* The shared map is fresher when XDP saw the neighbour ARP since. */
	if (neigh_shared_fresher(st, tbl, e))
		return true;
	if (e->probes >= NEIGH_MAX_PROBES)
		return false;
	tbl->ops->solicit(st, &e->key, e->mac);
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

		if (e->state == NEIGH_REACHABLE || e->state == NEIGH_STALE ||
		    e->state == NEIGH_DELAY || e->state == NEIGH_PROBE)
			neigh_release(tbl, e);
	}
}

static inline void neigh_check_gen(struct stack *st, struct neigh_table *tbl)
{
	uint64_t gen;

	if (!st->hooks.neigh_gen)
		return;
	gen = *st->hooks.neigh_gen;
	if (gen != tbl->gen_seen) {
		tbl->gen_seen = gen;
		neigh_invalidate(tbl);
	}
}

/* ---- output ---- */

/* RFC 4861 7.3.3: a STALE entry used: DELAY, first probe in NEIGH_DELAY_NS. */
static void neigh_delay(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e)
{
	if (tbl->n_pending >= NEIGH_MAX_PENDING)
		return; /* no room to watch it: stays STALE, used as it is */
	e->state = NEIGH_DELAY;
	e->updated = st->now;
	e->probes = 0;
	e->next_probe = st->now + NEIGH_DELAY_NS;
	pending_add(tbl, e);
	neigh_arm_check(st, tbl);
}

static int neigh_output_slow(struct stack *st, struct neigh_table *tbl, struct pkb *pkb,
			     const union neigh_key *k, struct neigh_entry *e)
{
	uint8_t mac[ETH_ALEN];
	uint64_t upd;

	if (!e || e->state == NEIGH_FAILED) {
		if (shared_lookup(st, tbl, k, mac, &upd) == 0) {
			/* XDP (or another worker) already knows it: no request. */
			if (!e)
				e = neigh_alloc(st, tbl, k);
			if (!e)
				return eth_output(st, pkb, mac, tbl->ops->ethertype);
			memcpy(e->mac, mac, ETH_ALEN);
			e->confirmed = not_after(upd, st->now);
			e->updated = st->now;
			e->state = NEIGH_REACHABLE;
			e->probes = 0;
		} else {
			if (!e)
				e = neigh_alloc(st, tbl, k);
			if (!e) {
				pkb_drop(st, pkb, tbl->ops->drop_queue_full);
				return -ENOBUFS;
			}
			return neigh_start_resolve(st, tbl, e, pkb, 0);
		}
	}

	switch (e->state) {
	case NEIGH_INCOMPLETE:
		return neigh_enqueue(st, tbl, e, pkb);
	case NEIGH_REACHABLE:
		if (age(st->now, e->confirmed) <= NEIGH_STALE_NS)
			break;
		e->state = NEIGH_STALE;
		e->updated = st->now;
		e->probes = 0;
		e->next_probe = st->now;
		/* fall through */
	case NEIGH_STALE:
		if (tbl->ops->delay_probe) {
			neigh_delay(st, tbl, e);
			break;
		}
		if (st->now >= e->next_probe && !neigh_stale_probe(st, tbl, e))
			return neigh_start_resolve(st, tbl, e, pkb, e->confirmed + 1);
		break;
	case NEIGH_DELAY:
	case NEIGH_PROBE:
		break; /* the check tick drives them; the packet goes */
	default:
		pkb_drop(st, pkb, tbl->ops->drop_unresolved);
		return -EHOSTUNREACH;
	}
	memcpy(mac, e->mac, ETH_ALEN);
	return eth_output(st, pkb, mac, tbl->ops->ethertype);
}

int neigh_resolve_output(struct stack *st, struct neigh_table *tbl, struct pkb *pkb,
			 const union neigh_key *k)
{
	struct neigh_entry *e;
	uint8_t mac[ETH_ALEN];

	if (!tbl) {
		pkb_drop(st, pkb, SKIFF_DROP_arp_unresolved);
		return -EHOSTUNREACH;
	}
	neigh_check_gen(st, tbl);
	if (tbl->ops->special_mac && tbl->ops->special_mac(st, k, mac))
		return eth_output(st, pkb, mac, tbl->ops->ethertype);

	e = neigh_find(tbl, k);
	if (likely(e && e->state == NEIGH_REACHABLE &&
		   age(st->now, e->confirmed) <= NEIGH_STALE_NS))
		return eth_output(st, pkb, e->mac, tbl->ops->ethertype);
	return neigh_output_slow(st, tbl, pkb, k, e);
}

int neigh_output(struct stack *st, struct pkb *pkb, uint32_t nexthop)
{
	union neigh_key k = { .w = { 0, 0 } };

	if (nexthop == 0) {
		pkb_drop(st, pkb, SKIFF_DROP_arp_unresolved);
		return -EHOSTUNREACH;
	}
	k.v4 = nexthop;
	return neigh_resolve_output(st, st->neigh, pkb, &k);
}

/* ---- learning (arp.c, ndisc.c) ---- */

void neigh_event(struct stack *st, struct neigh_table *tbl, const union neigh_key *k,
		 const uint8_t *mac, unsigned int flags)
{
	struct neigh_entry *e;
	uint8_t old[ETH_ALEN];
	uint64_t upd;
	bool changed;

	if (!tbl)
		return;
	e = neigh_find(tbl, k);
	if (!e && !(flags & NEIGH_F_CREATE)) {
		/* Only an entry that exists somewhere is updated. */
		if (mac && shared_lookup(st, tbl, k, old, &upd) == 0)
			shared_update(st, tbl, k, mac);
		return;
	}
	if (!tbl->ops->delay_probe) {
		/* ARP: every frame with the sender's MAC confirms it */
		if (!mac)
			return;
		if (!e)
			e = neigh_alloc(st, tbl, k);
		/* The shared map first: flushing the queue below sends packets. */
		shared_update(st, tbl, k, mac);
		if (e)
			neigh_confirm(st, tbl, e, mac, st->now);
		return;
	}

	/* RFC 4861 7.2.3 (NS: create or STALE on a new address) and 7.2.5 (NA) */
	if (!e) {
		if (!mac)
			return;
		e = neigh_alloc(st, tbl, k);
		if (!e)
			return;
		shared_update(st, tbl, k, mac);
		if (flags & NEIGH_F_CONFIRM)
			neigh_confirm(st, tbl, e, mac, st->now);
		else
			neigh_set_stale(tbl, e, mac, st->now);
		return;
	}
	if (e->state == NEIGH_INCOMPLETE || e->state == NEIGH_FAILED) {
		if (!mac)
			return; /* 7.2.5: an NA without the address is no use */
		shared_update(st, tbl, k, mac);
		if (e->state == NEIGH_FAILED)
			neigh_set_stale(tbl, e, mac, st->now);
		else
			neigh_resolve(st, tbl, e, mac, st->now, !(flags & NEIGH_F_CONFIRM));
		return;
	}
	changed = mac && memcmp(mac, e->mac, ETH_ALEN) != 0;
	if (changed && !(flags & NEIGH_F_OVERRIDE)) {
		/* 7.2.5: a different address without O: a REACHABLE entry
		 * becomes STALE, the address is not taken */
		if (e->state == NEIGH_REACHABLE) {
			e->state = NEIGH_STALE;
			e->updated = st->now;
		}
		return;
	}
	if (changed)
		shared_update(st, tbl, k, mac);
	if (flags & NEIGH_F_CONFIRM) {
		if (!mac)
			mac = e->mac;
		memcpy(old, mac, ETH_ALEN);
		shared_update(st, tbl, k, old);
		neigh_confirm(st, tbl, e, old, st->now);
	} else if (changed) {
		neigh_set_stale(tbl, e, mac, st->now);
	}
}

/* ---- timers ---- */

/* A DELAY or PROBE entry's time came (RFC 4861 7.3.3). */
static void neigh_probe_step(struct stack *st, struct neigh_table *tbl, struct neigh_entry *e)
{
	if (neigh_shared_fresher(st, tbl, e))
		return;
	if (e->state == NEIGH_PROBE && e->probes >= NEIGH_MAX_PROBES) {
		/* 7.3.3: retransmissions cease and the entry is deleted */
		if (tbl->ops->failed)
			tbl->ops->failed(st);
		neigh_release(tbl, e);
		return;
	}
	e->state = NEIGH_PROBE;
	e->updated = st->now;
	tbl->ops->solicit(st, &e->key, e->mac);
	e->probes++;
	e->next_probe = st->now + NEIGH_RETRANS_NS;
}

static void neigh_check_timer(struct stack *st, struct timer *t)
{
	struct neigh_table *tbl = (struct neigh_table *)((char *)t -
							 offsetof(struct neigh_table, check_timer));
	struct neigh_entry *e, *next;
	struct pkb_queue failed;
	uint8_t mac[ETH_ALEN];
	uint64_t upd;
	uint32_t i, n;

	pkb_queue_init(&failed);

	/* The shared map first: an answer that is there beats a failure.
	 * Round robin: checked entries go to the tail. */
	n = tbl->n_pending < NEIGH_CHECK_BUDGET ? tbl->n_pending : NEIGH_CHECK_BUDGET;
	for (i = 0; i < n && has_shared(st, tbl) && tbl->pending_head; i++) {
		e = tbl->pending_head;
		if (e->state == NEIGH_INCOMPLETE &&
		    shared_lookup(st, tbl, &e->key, mac, &upd) == 0 && upd >= e->min_shared) {
			neigh_confirm(st, tbl, e, mac, not_after(upd, st->now));
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
		if (e->state != NEIGH_INCOMPLETE) {
			neigh_probe_step(st, tbl, e);
			continue;
		}
		if (e->probes >= NEIGH_MAX_PROBES) {
			neigh_fail(st, tbl, e, &failed);
			continue;
		}
		tbl->ops->solicit(st, &e->key, NULL);
		e->probes++;
		e->next_probe = st->now + NEIGH_RETRANS_NS;
	}

	if (tbl->n_pending) {
		uint64_t when = neigh_next_check(st, tbl);

		if (when != UINT64_MAX)
			timer_mod(st, t, when);
	}
	/* Last: the handler may send (ICMP) and so re-enter the output path. */
	neigh_report_failed(st, tbl, &failed);
}

struct neigh_gc_walk {
	uint64_t now;
	uint32_t n;
	union neigh_key keys[NEIGH_GC_BATCH];
};

static int neigh_gc_collect(void *arg, const union neigh_key *k, uint64_t updated_ns)
{
	struct neigh_gc_walk *w = arg;

	if (w->now > updated_ns && w->now - updated_ns > NEIGH_GC_NS)
		w->keys[w->n++] = *k;
	return w->n == NEIGH_GC_BATCH;
}

/* The shared map: collect first, delete after (no deletion while iterating
 * a BPF hash map).  Any worker may do it; deleting twice is harmless. */
static void neigh_shared_gc(struct stack *st, const struct neigh_ops *ops)
{
	struct neigh_gc_walk w = { .now = st->now };
	uint32_t i;

	if (!ops->shared_walk || !ops->shared_delete)
		return;
	ops->shared_walk(st, neigh_gc_collect, &w);
	for (i = 0; i < w.n; i++)
		ops->shared_delete(st, &w.keys[i]);
}

static void neigh_gc_timer(struct stack *st, struct timer *t)
{
	struct neigh_table *tbl = (struct neigh_table *)((char *)t -
							 offsetof(struct neigh_table, gc_timer));
	uint32_t i;

	for (i = 0; i < NEIGH_ENTRIES; i++) {
		struct neigh_entry *e = &tbl->entries[i];

		switch (e->state) {
		case NEIGH_REACHABLE:
		case NEIGH_STALE:
		case NEIGH_DELAY:
		case NEIGH_PROBE:
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
	neigh_shared_gc(st, tbl->ops);
	timer_mod(st, t, st->now + NEIGH_GC_INTERVAL_NS);
}

/* ---- set-up and inspection ---- */

struct neigh_table *neigh_table_create(struct stack *st, const struct neigh_ops *ops)
{
	struct neigh_table *tbl;
	uint32_t i;

	tbl = calloc(1, sizeof(*tbl));
	if (!tbl)
		return NULL;
	tbl->entries = calloc(NEIGH_ENTRIES, sizeof(*tbl->entries));
	if (!tbl->entries) {
		free(tbl);
		return NULL;
	}
	tbl->ops = ops;
	if (getrandom(tbl->hash_key, sizeof(tbl->hash_key), GRND_NONBLOCK) != sizeof(tbl->hash_key)) {
		tbl->hash_key[0] = st->now * 0x9e3779b97f4a7c15ull ^ (uintptr_t)tbl; /* no entropy yet */
		tbl->hash_key[1] = tbl->hash_key[0] * 0xc2b2ae3d27d4eb4full;
	}
	tbl->hash_key[0] |= 1;
	tbl->hash_key[1] |= 1;
	for (i = NEIGH_ENTRIES; i-- > 0;) {
		tbl->entries[i].hnext = tbl->free_list;
		tbl->free_list = &tbl->entries[i];
	}
	if (st->hooks.neigh_gen)
		tbl->gen_seen = *st->hooks.neigh_gen;
	timer_init(&tbl->check_timer, neigh_check_timer);
	timer_init(&tbl->gc_timer, neigh_gc_timer);
	timer_mod(st, &tbl->gc_timer, st->now + NEIGH_GC_INTERVAL_NS);
	return tbl;
}

void neigh_table_destroy(struct stack *st, struct neigh_table *tbl)
{
	uint32_t i;

	if (!tbl)
		return;
	timer_del(st, &tbl->check_timer);
	timer_del(st, &tbl->gc_timer);
	for (i = 0; i < NEIGH_ENTRIES; i++)
		pkb_queue_purge(&tbl->entries[i].queue);
	free(tbl->entries);
	free(tbl);
}

void neigh_table_set_error_handler(struct neigh_table *tbl, neigh_error_fn fn)
{
	if (tbl)
		tbl->err_fn = fn;
}

int neigh_init(struct stack *st)
{
	struct neigh_table *tbl = neigh_table_create(st, &arp_neigh_ops);
	int err;

	if (!tbl)
		return -ENOMEM;
	err = dev_add_pack(st, ETH_P_ARP, arp_rcv);
	if (err) {
		neigh_table_destroy(st, tbl);
		return err;
	}
	st->neigh = tbl;
	return 0;
}

void neigh_fini(struct stack *st)
{
	if (!st->neigh)
		return;
	dev_remove_pack(st, ETH_P_ARP);
	neigh_table_destroy(st, st->neigh);
	st->neigh = NULL;
}

void neigh_set_error_handler(struct stack *st, neigh_error_fn fn)
{
	neigh_table_set_error_handler(st->neigh, fn);
}

int neigh_lookup(struct stack *st, uint32_t ip, uint8_t mac[6])
{
	union neigh_key k = { .w = { 0, 0 } };
	struct neigh_entry *e;
	uint64_t upd;

	if (!st->neigh)
		return -ENOENT;
	k.v4 = ip;
	neigh_check_gen(st, st->neigh);
	e = neigh_find(st->neigh, &k);
	if (e && e->state != NEIGH_NONE && e->state != NEIGH_INCOMPLETE &&
	    e->state != NEIGH_FAILED) {
		memcpy(mac, e->mac, ETH_ALEN);
		return 0;
	}
	return shared_lookup(st, st->neigh, &k, mac, &upd) == 0 ? 0 : -ENOENT;
}

static void neigh_fill_info(const struct neigh_entry *e, struct neigh_info *ni)
{
	memset(ni, 0, sizeof(*ni));
	ni->ip = e->key.v4;
	memcpy(ni->ip6, e->key.v6, sizeof(ni->ip6));
	memcpy(ni->mac, e->mac, ETH_ALEN);
	ni->state = e->state;
	ni->probes = e->probes;
	ni->confirmed_ns = e->confirmed;
	ni->queued = e->queue.len;
}

int neigh_table_get(struct neigh_table *tbl, const union neigh_key *k, struct neigh_info *ni)
{
	struct neigh_entry *e;

	if (!tbl)
		return -ENOENT;
	e = neigh_find(tbl, k);
	if (!e)
		return -ENOENT;
	neigh_fill_info(e, ni);
	return 0;
}

int neigh_get(struct stack *st, uint32_t ip, struct neigh_info *ni)
{
	union neigh_key k = { .w = { 0, 0 } };

	k.v4 = ip;
	return neigh_table_get(st->neigh, &k, ni);
}

void neigh_table_for_each(struct neigh_table *tbl,
			  int (*fn)(void *arg, const struct neigh_info *ni), void *arg)
{
	struct neigh_info ni;
	uint32_t i;

	if (!tbl)
		return;
	for (i = 0; i < NEIGH_ENTRIES; i++) {
		const struct neigh_entry *e = &tbl->entries[i];

		if (e->state == NEIGH_NONE)
			continue;
		neigh_fill_info(e, &ni);
		if (fn(arg, &ni))
			return;
	}
}

void neigh_for_each(struct stack *st, int (*fn)(void *arg, const struct neigh_info *ni), void *arg)
{
	neigh_table_for_each(st->neigh, fn, arg);
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
	case NEIGH_DELAY:
		return "DELAY";
	case NEIGH_PROBE:
		return "PROBE";
	default:
		return "NONE";
	}
}
