/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Private to the link layer: the neighbour cache of the engine (neigh.c:
 * resolution, queueing, aging; one per protocol table) and ARP's table
 * operations (arp.c; its wire format is <skiff/proto/arp.h>).  Nothing
 * outside user/link/ includes this file.
 */
#ifndef SKIFF_NEIGH_INTERNAL_H
#define SKIFF_NEIGH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkb.h"
#include "core/stack.h"
#include "core/timer.h"
#include "link/eth.h"
#include "link/neigh.h"

/* Sizes, fixed at neigh_init(): no allocation afterwards. */
#define NEIGH_HASH_BITS		8
#define NEIGH_BUCKETS		(1u << NEIGH_HASH_BITS)
#define NEIGH_ENTRIES		1024
#define NEIGH_MAX_PENDING	64	/* INCOMPLETE entries at once */
#define NEIGH_QUEUE_TOTAL	256	/* packets parked in all */
#define NEIGH_CHECK_NS		(10ULL * 1000 * 1000)	/* shared-map re-check while INCOMPLETE */
#define NEIGH_CHECK_BUDGET	16	/* shared-map lookups per check tick */
#define NEIGH_GC_INTERVAL_NS	(5ULL * 1000 * 1000 * 1000)
#define NEIGH_GC_BATCH		64	/* shared-map deletions per GC run */

struct neigh_entry {
	union neigh_key key;		/* the hash key */
	uint8_t mac[ETH_ALEN];
	uint8_t state;			/* enum neigh_state */
	uint8_t probes;			/* requests sent in this state */
	uint64_t confirmed;		/* last confirmation (ns) */
	uint64_t updated;		/* last state change (ns) */
	uint64_t next_probe;		/* INCOMPLETE/STALE: next request due (ns) */
	uint64_t min_shared;		/* INCOMPLETE: ignore shared entries older than this */
	struct neigh_entry *hnext;	/* hash chain / free list */
	bool pending;			/* on the pending list: INCOMPLETE, DELAY, PROBE */
	struct neigh_entry *pprev_pending;	/* pending list */
	struct neigh_entry *pnext_pending;
	struct pkb_queue queue;		/* parked packets (data = network header) */
};

struct neigh_table {
	const struct neigh_ops *ops;
	struct neigh_entry *buckets[NEIGH_BUCKETS];
	uint64_t hash_key[2];		/* neigh_hash's multipliers (random, odd) */
	struct neigh_entry *entries;	/* NEIGH_ENTRIES, one allocation */
	struct neigh_entry *free_list;
	uint32_t n_used;
	uint32_t evict_hand;		/* clock hand over entries[] for eviction */
	/* Entries waiting on a timer (INCOMPLETE; DELAY, PROBE), oldest
	 * first; the check tick rotates it. */
	struct neigh_entry *pending_head;
	struct neigh_entry *pending_tail;
	uint32_t n_pending;		/* at most NEIGH_MAX_PENDING */
	uint32_t n_queued;		/* packets parked in all entries */
	uint64_t gen_seen;		/* last value of hooks.neigh_gen */
	struct timer check_timer;	/* 10 ms tick while anything is INCOMPLETE */
	struct timer gc_timer;
	neigh_error_fn err_fn;
};

/* arp.c: the IPv4 table's protocol */
extern const struct neigh_ops arp_neigh_ops;

/*
 * The bucket of a key.  Keyed (neigh_table_create: random odd multipliers,
 * multiply-add-shift as Linux's arp_hashfn and ndisc_hashfn): a sender on
 * the link picks the addresses skiffd must resolve (an IPv6 /64 has 2^64),
 * and with a fixed function it could put all 1,024 entries in one bucket
 * and make every transmit walk them.  The top bits of the sum are the
 * bucket: they depend on every bit of both words.
 */
static inline uint32_t neigh_hash(const struct neigh_table *tbl, const union neigh_key *k)
{
	return (uint32_t)((k->w[0] * tbl->hash_key[0] + k->w[1] * tbl->hash_key[1]) >>
			  (64 - NEIGH_HASH_BITS));
}

#endif /* SKIFF_NEIGH_INTERNAL_H */
