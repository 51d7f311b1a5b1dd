/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The composition root of the protocol stack (Linux's inet_init): brings up
 * every layer over a core stack, bottom to top, and down again.
 */
#ifndef SKIFF_INET_H
#define SKIFF_INET_H

#include "core/stack.h"

/* eth, neigh/ARP, IPv4, ICMP, sockets, UDP.  0 or -errno (undone on error). */
int inet_init(struct stack *st);
void inet_fini(struct stack *st);

#endif /* SKIFF_INET_H */
