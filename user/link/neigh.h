/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Neighbour resolution for output, after Linux's neighbour subsystem: one
 * engine (link/neigh.c), one table per protocol — ARP's (RFC 826,
 * link/arp.c) and NDP's (RFC 4861, net/ndisc.c).  The master copy of every
 * entry is the protocol's BPF map (neigh, neigh6), which the XDP program
 * also learns into; each stack keeps a fixed-size cache of it,
 * dropped whenever XDP bumps skiff_config.neigh_gen.  Packets to an
 * unresolved neighbour wait in a bounded queue while ARP requests are sent
 * (retried); when resolution fails they are handed to the error handler the
 * network layer registered (ICMP host unreachable / socket error).
 */
#ifndef SKIFF_NEIGH_H
#define SKIFF_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack.h"

#define NEIGH_RETRANS_NS	(1000ULL * 1000 * 1000)	/* ARP request every 1 s */
#define NEIGH_MAX_PROBES	3		/* then resolution fails */
#define NEIGH_QUEUE_LEN		16		/* packets parked per neighbour */
#define NEIGH_STALE_NS		(30ULL * 1000 * 1000 * 1000)	/* re-confirm after */
#define NEIGH_GC_NS		(120ULL * 1000 * 1000 * 1000)	/* forget after */
#define NEIGH_DELAY_NS		(5ULL * 1000 * 1000 * 1000)	/* RFC 4861 DELAY_FIRST_PROBE_TIME */

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

/* Cache entry states (Linux's NUD_*).  ARP folds DELAY/PROBE into STALE
 * (driven by traffic); NDP runs RFC 4861 7.3.3's DELAY and PROBE. */
enum neigh_state {
	NEIGH_NONE = 0,		/* free slot */
	NEIGH_INCOMPLETE,	/* requests out, packets parked */
	NEIGH_REACHABLE,	/* confirmed less than NEIGH_STALE_NS ago */
	NEIGH_STALE,		/* usable; (ARP) being re-confirmed by unicast requests */
	NEIGH_FAILED,		/* no answer to NEIGH_MAX_PROBES requests */
	NEIGH_DELAY,		/* NDP: stale and used; a probe follows in NEIGH_DELAY_NS */
	NEIGH_PROBE,		/* NDP: unicast solicitations out, still usable */
};

/* One cache entry as seen by skiffctl / tests. */
struct neigh_info {
	uint32_t ip;		/* network order (IPv4 table) */
	uint8_t ip6[16];	/* IPv6 table */
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

/*
 * The protocol-independent engine, for a second table (IPv6's, net/ndisc.c;
 * Linux's neigh_table per protocol).  A key is a protocol address: IPv4 in
 * v4 with the rest zero, or IPv6.
 */
union neigh_key {
	uint32_t v4;
	uint8_t v6[16];
	uint64_t w[2];
};

struct neigh_table;

/* What a protocol gives the engine. */
struct neigh_ops {
	uint16_t ethertype;	/* of the packets resolved (ETH_P_IP, ETH_P_IPV6) */
	bool delay_probe;	/* RFC 4861 7.3.3 DELAY/PROBE (else ARP's STALE) */
	enum skiff_drop drop_unresolved;	/* resolution failed, no handler */
	enum skiff_drop drop_queue_full;	/* no room to park a packet */
	/* A request for k: to the protocol's broadcast/multicast (mac NULL)
	 * or unicast to mac (re-confirmation). */
	void (*solicit)(struct stack *st, const union neigh_key *k, const uint8_t *mac);
	/* Destinations resolved without asking (broadcast, multicast). */
	bool (*special_mac)(const struct stack *st, const union neigh_key *k, uint8_t mac[6]);
	/* The shared BPF map of the protocol (both may be absent). */
	int (*shared_lookup)(struct stack *st, const union neigh_key *k, uint8_t mac[6],
			     uint64_t *updated_ns);
	void (*shared_update)(struct stack *st, const union neigh_key *k, const uint8_t mac[6]);
	bool (*has_shared)(const struct stack *st);
	/* Visit the shared map's entries (fn returns nonzero to stop), and
	 * delete one: the engine's ageing of the map (both may be absent). */
	void (*shared_walk)(struct stack *st,
			    int (*fn)(void *arg, const union neigh_key *k, uint64_t updated_ns),
			    void *arg);
	void (*shared_delete)(struct stack *st, const union neigh_key *k);
	void (*resolved)(struct stack *st);	/* counters */
	void (*failed)(struct stack *st);
};

/* How neigh_event() treats news of k's link-layer address. */
#define NEIGH_F_CREATE		0x1	/* make an entry if there is none */
#define NEIGH_F_CONFIRM		0x2	/* reachability confirmed (ARP, solicited NA): REACHABLE */
#define NEIGH_F_OVERRIDE	0x4	/* a different MAC replaces the known one */

struct neigh_table *neigh_table_create(struct stack *st, const struct neigh_ops *ops);
void neigh_table_destroy(struct stack *st, struct neigh_table *tbl);
void neigh_table_set_error_handler(struct neigh_table *tbl, neigh_error_fn fn);
/* neigh_output() for any table.  Owns pkb. */
int neigh_resolve_output(struct stack *st, struct neigh_table *tbl, struct pkb *pkb,
			 const union neigh_key *k);
/*
 * k is at mac (NULL: no address given, e.g. an NA without a target
 * link-layer option), with NEIGH_F_* flags: RFC 4861 7.2.5 for a table
 * with delay_probe, "learn and confirm" for ARP.  The shared map is
 * updated for a confirmation or a new address.
 */
void neigh_event(struct stack *st, struct neigh_table *tbl, const union neigh_key *k,
		 const uint8_t *mac, unsigned int flags);
int neigh_table_get(struct neigh_table *tbl, const union neigh_key *k, struct neigh_info *ni);
void neigh_table_for_each(struct neigh_table *tbl,
			  int (*fn)(void *arg, const struct neigh_info *ni), void *arg);

/* ARP input, registered for ETH_P_ARP.  Owns pkb. */
int arp_rcv(struct stack *st, struct pkb *pkb);

#endif /* SKIFF_NEIGH_H */
