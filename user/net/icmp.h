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

#include <stdint.h>

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

#endif /* SKIFF_ICMP_H */
