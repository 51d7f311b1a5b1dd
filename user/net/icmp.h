/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP (RFC 792, RFC 1122 3.2.2) in the daemon: echo for what XDP leaves to
 * us (fragmented or optioned requests), errors about packets we received,
 * and rate limiting as Linux does (a global token bucket of
 * ICMP_MSGS_PER_SEC with burst ICMP_MSGS_BURST, plus one token per second
 * per destination, burst 6, for error types).  Errors received are passed
 * to the transport's err_handler on the worker that holds the quoted flow
 * (struct net_protocol err_lookup; others' are handed over through
 * core/handoff.h).
 */
#ifndef SKIFF_ICMP_H
#define SKIFF_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inaddr.h"
#include "core/stack.h"

#define ICMP_MSGS_PER_SEC	1000
#define ICMP_MSGS_BURST		50

int icmp_init(struct stack *st);	/* registers IPPROTO_ICMP */
void icmp_fini(struct stack *st);

/*
 * Send an ICMP error of type/code about in (network_header set, as
 * received) back to its source, quoting its IP header and the first 8
 * bytes of payload (RFC 792; Linux quotes up to 576 bytes in all: so do we).
 * Never about an ICMP error, a fragment other than the first, or a
 * broadcast (RFC 1122 3.2.2).  Does not own in.  info: e.g. next-hop MTU.
 */
void icmp_send(struct stack *st, const struct pkb *in, uint8_t type, uint8_t code,
	       uint32_t info);

/*
 * The packet an ICMP or ICMPv6 error quotes, as we sent it (so saddr,
 * sport are ours): the one parse every transport's err_handler and
 * err_lookup uses, for both families.
 */
struct icmp_quote {
	union inet_addr saddr, daddr;	/* IPv4 mapped (core/inaddr.h) */
	uint16_t sport, dport;		/* network order */
	uint32_t seq;			/* bytes 4..7 of the transport header (TCP's sequence) */
	uint8_t proto;			/* upper-layer protocol / next header */
};

/*
 * Parse p (len bytes: the quoted IPv4 or IPv6 header onwards) into q: the
 * IP header whole (IPv4: IHL valid, not a later fragment; IPv6: the
 * extension headers walked, at most 8, none past len, a fragment header
 * only with offset 0), and 8 bytes of the transport header after it.
 * 0, or -EINVAL for anything short or malformed.
 */
int icmp_quote_parse(const uint8_t *p, uint32_t len, struct icmp_quote *q);

#endif /* SKIFF_ICMP_H */
