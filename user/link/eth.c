// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Ethernet II framing (IEEE 802.3 type field) with at most one IEEE 802.1Q
 * tag, after Linux's eth_type_trans() and vlan handling.  Receive: classify
 * the destination (ours, broadcast, multicast, else not for us), accept the
 * VLAN the device serves and nothing else, pull the link header and hand
 * the packet to the ethertype table of the core (netif_receive_pkb).
 * Transmit: push the header (and tag) into the headroom and queue the frame
 * on the device.  No state of its own; ARP is registered by neigh_init().
 */
#include <errno.h>
#include <string.h>

#include <skiff/proto/eth.h>

#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/eth.h"

int eth_init(struct stack *st)
{
	st->link_rcv = eth_rcv;
	return 0;
}

int eth_rcv(struct stack *st, struct pkb *pkb)
{
	const struct netdev *dev = st->dev;
	const struct eth_hdr *eth;
	size_t hlen;
	uint16_t type, tci;

	if (eth_hdr_parse(pkb->data, pkb_len(pkb), &eth, &hlen, &type, &tci) != PROTO_OK) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_short);
		return -EINVAL;
	}

	/*
	 * IEEE 802.1Q: one tag, and only the VLAN this device serves.  A
	 * priority tag (VID 0, IEEE 802.1Q 9.6) belongs to the untagged
	 * device, as in Linux's vlan receive path and in the XDP program,
	 * which lets it through on an untagged skiff; a tagged device
	 * accepts its own VID only.
	 */
	if (hlen > ETH_HLEN ? (tci & VLAN_VID_MASK) != dev->vlan_id : dev->vlan_id != 0) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_vlan);
		return -EINVAL;
	}

	if (memcmp(eth->h_dest, dev->mac, ETH_ALEN) == 0) {
		pkb->pkt_type = PKB_HOST;
	} else if (eth_addr_is_broadcast(eth->h_dest)) {
		pkb->pkt_type = PKB_BROADCAST;
	} else if (eth_addr_is_multicast(eth->h_dest)) {
		pkb->pkt_type = PKB_MULTICAST;
	} else {
		pkb_drop(st, pkb, SKIFF_DROP_eth_other_host);
		return -EINVAL;
	}

	pkb->vlan_tci = tci;
	pkb->protocol = type;
	if (!pkb->dev)
		pkb->dev = st->dev;
	pkb_reset_mac_header(pkb);
	__pkb_pull(pkb, (uint32_t)hlen);
	pkb_reset_network_header(pkb);
	STACK_INC(st, eth_rx);
	return netif_receive_pkb(st, pkb);
}

int eth_output(struct stack *st, struct pkb *pkb, const uint8_t dst[ETH_ALEN], uint16_t type)
{
	const struct netdev *dev = st->dev;
	uint32_t hlen = dev->vlan_id ? ETH_HLEN + VLAN_HLEN : ETH_HLEN;
	struct eth_hdr *eth;

	eth = pkb_push(pkb, hlen);
	if (!eth) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_headroom);
		return -ENOBUFS;
	}
	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, dev->mac, ETH_ALEN);
	if (dev->vlan_id) {
		struct vlan_tag *tag = (struct vlan_tag *)(eth + 1);

		/* PCP 0, DEI 0: priority tagging is not used. */
		put_be16(&eth->h_proto, ETH_P_8021Q);
		put_be16(&tag->tci, dev->vlan_id & VLAN_VID_MASK);
		put_be16(&tag->encap_proto, type);
	} else {
		put_be16(&eth->h_proto, type);
	}
	pkb->protocol = type;
	pkb_reset_mac_header(pkb);
	if (!pkb->dev)
		pkb->dev = st->dev;
	STACK_INC(st, eth_tx);
	return dev_queue_xmit(pkb);
}
