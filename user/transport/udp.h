/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * UDP (RFC 768, RFC 1122 4.1): checksums (zero means none on receive),
 * demultiplexing to sockets through a fixed-size hash on the local port,
 * ICMP port unreachable for a dedicated address with nobody bound.
 */
#ifndef SKIFF_UDP_H
#define SKIFF_UDP_H

#include "core/stack.h"
#include "transport/sock.h"

#define UDP_HASH_SLOTS		1024
#define UDP_EPHEMERAL_LO	49152	/* owned ephemeral range (host order) */
#define UDP_EPHEMERAL_HI	60999

extern const struct proto udp_prot;

int udp_init(struct stack *st);		/* registers IPPROTO_UDP; inet_init registers udp_prot */
void udp_fini(struct stack *st);
int udp_rcv(struct stack *st, struct pkb *pkb);

#endif /* SKIFF_UDP_H */
