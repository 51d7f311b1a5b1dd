/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * struct stack: one complete instance of the layered stack, owned by one
 * worker and serving one device queue (shared-nothing: workers share only
 * the BPF maps, reached through struct stack_hooks).  Each layer keeps its
 * state behind an opaque pointer here and registers its upward handlers in
 * the tables below, so a layer never calls the layer above it directly.
 *
 * stack_poll() is the run-to-completion loop body: receive a burst, run every
 * layer on it, run due timers, dispatch socket events, flush transmit.
 */
#ifndef SKIFF_STACK_H
#define SKIFF_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <skiff/skiff.h>

#include "core/inaddr.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "core/timer.h"

#define STACK_RX_BURST	64
#define STACK_MAX_PTYPES 8
#define STACK_MAX_POLL_HOOKS 4

struct stack;
struct neigh_table;
struct ip_state;
struct udp_table;
struct tcp_table;
struct sock_table;
struct handoff;

/* One local IPv4 address (network byte order). */
struct stack_addr {
	uint32_t addr;
	uint8_t prefix_len;
	bool dedicated;		/* see SKIFF_ADDR_DEDICATED */
};

/* An IPv6 address of skiff's (only dedicated ones reach the daemon). */
struct stack_addr6 {
	uint8_t addr[16];
	uint8_t prefix_len;
	bool dedicated;
};

/* A static route (network order): dst/prefix_len via gateway (on-link). */
struct stack_route {
	uint32_t dst;		/* host bits zero */
	uint8_t prefix_len;	/* 1 to 32 (the default route is gateway) */
	uint32_t gateway;
};

/* An IPv6 static route: dst/prefix_len via gateway (a neighbour). */
struct stack_route6 {
	uint8_t dst[16];	/* host bits zero */
	uint8_t prefix_len;	/* 1 to 128 (the default route is gateway6) */
	uint8_t gateway[16];
};

/* What the worker was configured with; shared read-only by all workers. */
struct stack_config {
	struct stack_addr addrs[SKIFF_MAX_ADDRS];
	int n_addrs;
	struct stack_addr6 addrs6[SKIFF_MAX_ADDRS6];
	int n_addrs6;
	uint32_t gateway;	/* network order; 0 = none */
	uint8_t gateway6[16];	/* IPv6 default router; all zero = none */
	uint32_t reasm_max_bytes;	/* reassembly memory limit (0: default) */
	uint32_t reasm_timeout_s;	/* IPv4 and IPv6 reassembly timeout, seconds
					 * (0: IP_REASM_TIMEOUT_NS) */
	uint32_t udp_rcvbuf;		/* per-socket receive queue bytes (0: default) */
	uint32_t tcp_syn_backlog;	/* SYN queue per TCP listener (0: TCP_SYN_BACKLOG) */
	uint8_t tcp_cc;			/* new TCP sockets' congestion control: 0 CUBIC, 1
					 * NewReno, 2 BBR (SKIFF_TCP_CONGESTION values) */
	struct stack_route routes[SKIFF_MAX_ROUTES];	/* net/route.c */
	int n_routes;
	struct stack_route6 routes6[SKIFF_MAX_ROUTES];	/* net/ipv6.c */
	int n_routes6;
};

/*
 * Where the stack meets the outside world beyond its device: the BPF maps
 * the XDP program reads.  skiffd fills these in (user/dev/loader.c); unit
 * tests use in-memory fakes; any hook may be NULL (then it is a no-op).
 * Hooks are called on slow paths only (bind, ARP miss), never per packet.
 */
struct stack_hooks {
	void *ctx;
	/* An (addr, proto, port) is now owned by a socket / no longer. */
	int (*port_claim)(void *ctx, uint32_t addr, uint8_t proto, uint16_t port);
	void (*port_release)(void *ctx, uint32_t addr, uint8_t proto, uint16_t port);
	/* The same for IPv6 (the ports6 map XDP steers shared IPv6 addresses
	 * by): addr6 in network order, :: for every skiff IPv6 address. */
	int (*port6_claim)(void *ctx, const uint8_t addr6[16], uint8_t proto, uint16_t port);
	void (*port6_release)(void *ctx, const uint8_t addr6[16], uint8_t proto, uint16_t port);
	/* Shared neighbour map: lookup returns 0 and fills mac/updated_ns, or -ENOENT. */
	int (*neigh_lookup)(void *ctx, uint32_t ip, uint8_t mac[6], uint64_t *updated_ns);
	int (*neigh_update)(void *ctx, uint32_t ip, const uint8_t mac[6], uint64_t now);
	int (*neigh_delete)(void *ctx, uint32_t ip);
	/* Visit every shared neighbour entry (aging); fn returns nonzero to stop. */
	void (*neigh_walk)(void *ctx, int (*fn)(void *arg, uint32_t ip, const uint8_t mac[6],
						 uint64_t updated_ns), void *arg);
	/* The same for IPv6 neighbours (the neigh6 map), ip6 in network order. */
	int (*neigh6_lookup)(void *ctx, const uint8_t ip6[16], uint8_t mac[6],
			     uint64_t *updated_ns);
	int (*neigh6_update)(void *ctx, const uint8_t ip6[16], const uint8_t mac[6], uint64_t now);
	int (*neigh6_delete)(void *ctx, const uint8_t ip6[16]);
	void (*neigh6_walk)(void *ctx, int (*fn)(void *arg, const uint8_t ip6[16],
						  const uint8_t mac[6], uint64_t updated_ns),
			    void *arg);
	/* Bumped by XDP whenever it changes a neighbour's MAC (may be NULL). */
	const volatile uint64_t *neigh_gen;
};

/* Ethertype handler (Linux's packet_type). */
struct packet_type {
	uint16_t type;		/* host order */
	int (*func)(struct stack *st, struct pkb *pkb);
};

struct stack {
	struct netdev *dev;
	const struct stack_config *cfg;
	struct stack_hooks hooks;
	struct skiff_ustats *stats;	/* == dev->stats */
	uint64_t now;			/* clock_now() at the start of this burst */
	struct pkb_pool *big_pool;	/* heap buffers larger than a frame (reassembly) */
	struct timer_wheel *timers;

	/* link layer entry, set by eth_init(): called for every received frame */
	int (*link_rcv)(struct stack *st, struct pkb *pkb);
	struct packet_type ptypes[STACK_MAX_PTYPES];
	int n_ptypes;
	/* run after every burst (socket event dispatch) */
	void (*poll_hooks[STACK_MAX_POLL_HOOKS])(struct stack *st);
	int n_poll_hooks;
	/* set by a hook that left work for the next stack_poll() (sockets
	 * made ready by handlers or by a later hook): the poll counts as
	 * busy, so the caller polls again instead of sleeping */
	bool poll_again;
	/* inside stack_poll(): what a layer defers to the end of the burst
	 * (its poll hook) will still go out in this poll */
	bool in_poll;

	/* per-layer state */
	struct neigh_table *neigh;	/* ARP's (link/neigh.c) */
	struct neigh_table *nd;		/* NDP's (net/ndisc.c) */
	struct ip_state *ip;
	struct ip6_state *ip6;	/* net/ipv6.c */
	struct udp_table *udp;
	struct tcp_table *tcp;
	struct sock_table *socks;

	/*
	 * Multi-worker (stack_set_worker(), by skiffd): this stack is worker
	 * `worker` of `n_workers` (0 or 1: alone, the default) and allocates
	 * only the ephemeral ports it owns (stack_port_owner()); frames for
	 * another worker's ephemeral ports go through `handoff`
	 * (core/handoff.h).  handoff_wake: a bit per worker handed frames in
	 * this burst (woken once at its end).
	 */
	uint32_t worker;
	uint32_t n_workers;
	struct handoff *handoff;
	uint64_t handoff_wake;
};

/*
 * Set up the core of a stack over dev: timer wheel, big pool, hooks.  The
 * protocol layers are added on top by inet_init() (user/sock/inet.h), the
 * composition root that knows every layer.  cfg must outlive the stack.
 * 0 or -errno.
 */
int stack_init(struct stack *st, struct netdev *dev, const struct stack_config *cfg,
	       const struct stack_hooks *hooks);
void stack_fini(struct stack *st);

/* One iteration of the worker: returns how many packets it received. */
int stack_poll(struct stack *st);

/*
 * Work done outside stack_poll() (an application's requests, served by
 * skiffd's worker between polls) as a burst of its own: what the layers
 * defer to the end of a burst (TCP's pushes and ACKs, socket events)
 * leaves at stack_batch_end(), through the poll hooks and with the
 * device's flush, so a response and the close() right behind it share a
 * segment (data + FIN) as they do for the built-in services.
 * stack_batch_begin() returns false inside a burst already (nothing to do
 * then: that burst's end flushes); pass its result to stack_batch_end(),
 * which returns 1 when the hooks left work for the next poll, else 0.
 */
bool stack_batch_begin(struct stack *st);
int stack_batch_end(struct stack *st, bool began);

/* Run one received pkb through the stack (what stack_poll does per packet). */
void stack_rx(struct stack *st, struct pkb *pkb);

/* Count a drop by reason and free pkb. */
void pkb_drop(struct stack *st, struct pkb *pkb, enum skiff_drop reason);

/* Register an ethertype handler (host order type). 0 or -ENOSPC. */
int dev_add_pack(struct stack *st, uint16_t type, int (*func)(struct stack *, struct pkb *));
/* Deliver pkb (data = network header, pkb->protocol set) to its ethertype handler. */
int netif_receive_pkb(struct stack *st, struct pkb *pkb);

/* Undo dev_add_pack() (a layer's fini). 0 or -ENOENT. */
int dev_remove_pack(struct stack *st, uint16_t type);

int stack_add_poll_hook(struct stack *st, void (*fn)(struct stack *st));
/* Undo stack_add_poll_hook(). 0 or -ENOENT. */
int stack_remove_poll_hook(struct stack *st, void (*fn)(struct stack *st));

/* Address helpers over cfg (network order). */
const struct stack_addr *stack_find_addr(const struct stack *st, uint32_t addr);
static inline bool stack_is_local(const struct stack *st, uint32_t addr)
{
	return stack_find_addr(st, addr) != 0;
}

/* The IPv6 address a (16 bytes) of --addr, dedicated or shared, or NULL. */
static inline const struct stack_addr6 *stack_find_addr6(const struct stack *st, const uint8_t *a)
{
	for (int i = 0; i < st->cfg->n_addrs6; i++)
		if (!memcmp(st->cfg->addrs6[i].addr, a, 16))
			return &st->cfg->addrs6[i];
	return NULL;
}

/*
 * One of our addresses, of either family (core/inaddr.h), dedicated or
 * shared (on a shared one XDP steers the ports skiff owns, ports and
 * ports6).  A wildcard is not.
 */
static inline bool stack_is_local_addr(const struct stack *st, const union inet_addr *a)
{
	if (inet_addr_is4(a))
		return a->w[3] && stack_is_local(st, a->w[3]);
	return stack_find_addr6(st, a->b) != NULL;
}

/*
 * Make st worker `worker` of n_workers, sharing h (may be NULL: ports are
 * still partitioned, foreign frames are answered as before).  Call before
 * any socket binds.  0 or -EINVAL.
 */
int stack_set_worker(struct stack *st, uint32_t worker, uint32_t n_workers,
		     struct handoff *h);

/* The worker that allocates ephemeral port (host order): port % n_workers. */
static inline uint32_t stack_port_owner(const struct stack *st, uint16_t port)
{
	return st->n_workers > 1 ? port % st->n_workers : st->worker;
}

static inline bool stack_owns_port(const struct stack *st, uint16_t port)
{
	return stack_port_owner(st, port) == st->worker;
}

#define STACK_INC(st, field) ((st)->stats->field++)

#endif /* SKIFF_STACK_H */
