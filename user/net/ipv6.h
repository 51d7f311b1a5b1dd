/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 input for skiff's dedicated IPv6 addresses (net/ipv6.c): what the
 * daemon answers of the IPv6 traffic XDP hands it, as a host with every
 * port closed (no IPv6 sockets yet).
 */
#ifndef SKIFF_NET_IPV6_H
#define SKIFF_NET_IPV6_H

#include "core/stack.h"

struct pkb;

/* Registers ETH_P_IPV6.  0 or -errno. */
int ipv6_init(struct stack *st);
void ipv6_fini(struct stack *st);

/* The ETH_P_IPV6 handler: owns pkb (IPv6 header at pkb->data). */
int ipv6_rcv(struct stack *st, struct pkb *pkb);

#endif
