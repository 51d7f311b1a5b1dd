/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ethernet (with one optional 802.1Q tag matching dev->vlan_id) and ARP.
 * eth_rcv() parses and pulls the link header and hands the packet to the
 * ethertype table of the core (netif_receive_pkb).  Neighbour resolution
 * for output lives in neigh.h.
 */
#ifndef SKIFF_ETH_H
#define SKIFF_ETH_H

#include <stdint.h>

#include <skiff/proto/eth.h>

#include "core/stack.h"

/* Registers eth_rcv as st->link_rcv (ARP is registered by neigh_init()). 0 or -errno. */
int eth_init(struct stack *st);

/* Parse the Ethernet header at pkb->data, set mac_header/protocol/pkt_type,
 * pull it and deliver through netif_receive_pkb().  Owns pkb. */
int eth_rcv(struct stack *st, struct pkb *pkb);

/* Push an Ethernet header (and the VLAN tag of dev, if any) in front of
 * pkb->data and transmit it with dev_queue_xmit().  Owns pkb. */
int eth_output(struct stack *st, struct pkb *pkb, const uint8_t dst[ETH_ALEN], uint16_t type);

#endif /* SKIFF_ETH_H */
