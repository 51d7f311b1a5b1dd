/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 (RFC 791, RFC 1122 3.2.1): input validation, delivery through the
 * IP-protocol table (Linux's net_protocol), reassembly (RFC 815-style hole
 * tracking, bounded), output with routing and fragmentation.
 * Addresses are network byte order throughout.
 */
#ifndef SKIFF_IP_H
#define SKIFF_IP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack.h"

#define IP_DEFAULT_TTL		64
#define IP_REASM_TIMEOUT_NS	(30ULL * 1000 * 1000 * 1000)	/* Linux ipfrag_time */
#define IP_REASM_MAX_BYTES	(4u << 20)	/* all datagrams together (default) */
#define IP_REASM_MAX_DGRAM	65535u		/* one datagram */
#define IP_REASM_SLOTS		64		/* datagrams under reassembly */
#define IP_REASM_PER_SOURCE	(IP_REASM_SLOTS / 4)	/* of them from one sender */

/* Upward handler for one IP protocol. */
struct net_protocol {
	/* pkb->data = transport header, network_header set, length trimmed
	 * to the IP payload.  Owns pkb. */
	int (*handler)(struct stack *st, struct pkb *pkb);
	/* An ICMP error (or local failure) about a packet we sent: pkb->data
	 * is the quoted IP header; err is a negative errno
	 * (-ECONNREFUSED, -EHOSTUNREACH, -EMSGSIZE ...), info the ICMP info
	 * field (next-hop MTU).  Does not own pkb. */
	void (*err_handler)(struct stack *st, struct pkb *pkb, int err, uint32_t info);
	/*
	 * Optional: does this stack hold the flow an ICMP error quotes?  pkb
	 * as for err_handler (data = the quoted IP header, at least 8 bytes
	 * after it); neither owned nor changed.  true: it is here, give the
	 * error to err_handler.  false: it is not; *owner is then the worker
	 * that allocates the quoted local port when that is one of the
	 * protocol's ephemeral ports (stack_port_owner(), possibly this
	 * worker), or -1 when any worker may hold the flow (a fixed port, or
	 * a port a listener here has too).  icmp.c hands the error to the
	 * other workers (core/handoff.h) or drops it (drop.icmp_err_no_flow).
	 * NULL: every error goes to err_handler.
	 */
	bool (*err_lookup)(struct stack *st, const struct pkb *pkb, int *owner);
};

/* Route lookup result. */
struct rtable {
	uint32_t daddr;
	uint32_t saddr;		/* our address to send from */
	uint32_t nexthop;	/* daddr when on-link, else the gateway */
	uint32_t mtu;
	uint8_t slot;		/* the route_uses slot that chose it (net/route.h);
				 * ROUTE_SLOTS: none (the limited broadcast) */
};

int ip_init(struct stack *st);	/* registers ETH_P_IP and the neigh error handler */
void ip_fini(struct stack *st);

int inet_add_protocol(struct stack *st, uint8_t proto, const struct net_protocol *prot);
const struct net_protocol *inet_get_protocol(struct stack *st, uint8_t proto);

/* Input, registered for ETH_P_IP.  Owns pkb. */
int ip_rcv(struct stack *st, struct pkb *pkb);

/* Route to daddr; saddr != 0 asks for that source (must be local).
 * 0, or -ENETUNREACH / -EADDRNOTAVAIL. */
int ip_route_output(struct stack *st, uint32_t daddr, uint32_t saddr, struct rtable *rt);
/*
 * A route kept by its user (a TCP connection's, tcp_output.c) used again
 * for one more packet to daddr from the local address saddr: *rt as the
 * lookup would answer, the use counted in route_uses as a lookup's is (so
 * skiffctl routes still counts packets).  The route table is the fixed
 * stack_config (net/route.h: no reload at run time) and the next hop
 * depends only on daddr, so a kept (daddr, nexthop, slot) stays right.
 */
void ip_route_reuse(struct stack *st, uint32_t daddr, uint32_t saddr, uint32_t nexthop,
		    uint8_t slot, struct rtable *rt);

/*
 * Prepend an IPv4 header to pkb (data = transport header, whole payload in
 * one buffer of any size), then fragment above rt->mtu (or fail with
 * -EMSGSIZE if df) and pass to neigh_output().  Owns pkb.  0 or -errno.
 */
int ip_output(struct stack *st, struct pkb *pkb, const struct rtable *rt, uint8_t proto,
	      uint8_t tos, uint8_t ttl, bool df);

/* Timers, memory and counts of reassembly, for tests and skiffctl. */
uint32_t ip_reasm_mem(const struct stack *st);
uint32_t ip_reasm_count(const struct stack *st);

#endif /* SKIFF_IP_H */
