/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Neighbour resolution (ARP, RFC 826) for output, after Linux's neighbour
 * subsystem.  The master copy of every entry is the BPF neigh map, which the
 * XDP program also learns into; each stack keeps a fixed-size cache of it,
 * dropped whenever XDP bumps skiff_config.neigh_gen.  Packets to an
 * unresolved neighbour wait in a bounded queue while ARP requests are sent
 * (retried); when resolution fails they are handed to the error handler the
 * network layer registered (ICMP host unreachable / socket error).
 */
#ifndef SKIFF_NEIGH_H
#define SKIFF_NEIGH_H

#include <stdint.h>

#include "core/stack.h"

#define NEIGH_RETRANS_NS	(1000ULL * 1000 * 1000)	/* ARP request every 1 s */
#define NEIGH_MAX_PROBES	3		/* then resolution fails */
#define NEIGH_QUEUE_LEN		16		/* packets parked per neighbour */
#define NEIGH_STALE_NS		(30ULL * 1000 * 1000 * 1000)	/* re-confirm after */
#define NEIGH_GC_NS		(120ULL * 1000 * 1000 * 1000)	/* forget after */

/* Called with each parked pkb when resolution fails; owns pkb.  err is
 * -EHOSTUNREACH. */
typedef void (*neigh_error_fn)(struct stack *st, struct pkb *pkb, int err);

int neigh_init(struct stack *st);	/* also registers ARP (arp_rcv) */
void neigh_fini(struct stack *st);
void neigh_set_error_handler(struct stack *st, neigh_error_fn fn);

/* Send pkb (data = network header, IPv4) to the on-link IPv4 address
 * nexthop (network order): resolve, queue or transmit.  Owns pkb. */
int neigh_output(struct stack *st, struct pkb *pkb, uint32_t nexthop);

/* The cached or shared MAC of ip: 0, or -ENOENT. */
int neigh_lookup(struct stack *st, uint32_t ip, uint8_t mac[6]);

/* Cache entry states (Linux's NUD_*; DELAY/PROBE folded into STALE). */
enum neigh_state {
	NEIGH_NONE = 0,		/* free slot */
	NEIGH_INCOMPLETE,	/* ARP requests out, packets parked */
	NEIGH_REACHABLE,	/* confirmed less than NEIGH_STALE_NS ago */
	NEIGH_STALE,		/* usable; being re-confirmed by unicast requests */
	NEIGH_FAILED,		/* no answer to NEIGH_MAX_PROBES requests */
};

/* One cache entry as seen by skiffctl / tests. */
struct neigh_info {
	uint32_t ip;		/* network order */
	uint8_t mac[6];
	uint8_t state;		/* enum neigh_state */
	uint8_t probes;		/* requests sent in this state */
	uint64_t confirmed_ns;	/* last confirmation (clock_now() base) */
	uint32_t queued;	/* packets parked */
};

const char *neigh_state_name(int state);
/* The cache entry of ip (0, or -ENOENT); does not consult the shared map. */
int neigh_get(struct stack *st, uint32_t ip, struct neigh_info *ni);
/* Visit every cache entry (worker thread only); fn returns nonzero to stop. */
void neigh_for_each(struct stack *st, int (*fn)(void *arg, const struct neigh_info *ni),
		    void *arg);

/* ARP input, registered for ETH_P_ARP.  Owns pkb. */
int arp_rcv(struct stack *st, struct pkb *pkb);

#endif /* SKIFF_NEIGH_H */
