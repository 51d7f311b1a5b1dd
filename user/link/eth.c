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

#include <linux/if_ether.h>

#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/eth.h"

/* Byte offsets inside an Ethernet header (the frame is not aligned). */
#define ETH_OFF_DST	0
#define ETH_OFF_SRC	6
#define ETH_OFF_TYPE	12
#define VLAN_VID_MASK	0x0fff

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline bool eth_is_broadcast(const uint8_t *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

/* IEEE 802 group bit: the least significant bit of the first octet. */
static inline bool eth_is_multicast(const uint8_t *a)
{
	return a[0] & 0x01;
}

int eth_init(struct stack *st)
{
	st->link_rcv = eth_rcv;
	return 0;
}

int eth_rcv(struct stack *st, struct pkb *pkb)
{
	const struct netdev *dev = st->dev;
	uint8_t *eth = pkb->data;
	uint32_t hlen = ETH_HLEN;
	uint16_t type;
	uint16_t tci = 0;

	if (!pkb_may_pull(pkb, ETH_HLEN)) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_short);
		return -EINVAL;
	}
	type = get_be16(eth + ETH_OFF_TYPE);

	/*
	 * IEEE 802.1Q: one tag, and only the VLAN this device serves.  A
	 * priority tag (VID 0, IEEE 802.1Q 9.6) belongs to the untagged
	 * device, as in Linux's vlan receive path and in the XDP program,
	 * which lets it through on an untagged skiff; a tagged device
	 * accepts its own VID only.
	 */
	if (type == ETH_P_8021Q) {
		if (!pkb_may_pull(pkb, ETH_HLEN + VLAN_HLEN)) {
			pkb_drop(st, pkb, SKIFF_DROP_eth_short);
			return -EINVAL;
		}
		tci = get_be16(eth + ETH_HLEN);
		if ((tci & VLAN_VID_MASK) != dev->vlan_id) {
			pkb_drop(st, pkb, SKIFF_DROP_eth_vlan);
			return -EINVAL;
		}
		type = get_be16(eth + ETH_HLEN + 2);
		hlen += VLAN_HLEN;
	} else if (dev->vlan_id != 0) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_vlan);
		return -EINVAL;
	}

	if (memcmp(eth + ETH_OFF_DST, dev->mac, ETH_ALEN) == 0) {
		pkb->pkt_type = PKB_HOST;
	} else if (eth_is_broadcast(eth + ETH_OFF_DST)) {
		pkb->pkt_type = PKB_BROADCAST;
	} else if (eth_is_multicast(eth + ETH_OFF_DST)) {
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
	__pkb_pull(pkb, hlen);
	pkb_reset_network_header(pkb);
	STACK_INC(st, eth_rx);
	return netif_receive_pkb(st, pkb);
}

int eth_output(struct stack *st, struct pkb *pkb, const uint8_t dst[ETH_ALEN], uint16_t type)
{
	const struct netdev *dev = st->dev;
	uint32_t hlen = dev->vlan_id ? ETH_HLEN + VLAN_HLEN : ETH_HLEN;
	uint8_t *eth;

	eth = pkb_push(pkb, hlen);
	if (!eth) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_headroom);
		return -ENOBUFS;
	}
	memcpy(eth + ETH_OFF_DST, dst, ETH_ALEN);
	memcpy(eth + ETH_OFF_SRC, dev->mac, ETH_ALEN);
	if (dev->vlan_id) {
		/* PCP 0, DEI 0: priority tagging is not used. */
		put_be16(eth + ETH_OFF_TYPE, ETH_P_8021Q);
		put_be16(eth + ETH_HLEN, dev->vlan_id & VLAN_VID_MASK);
		put_be16(eth + ETH_HLEN + 2, type);
	} else {
		put_be16(eth + ETH_OFF_TYPE, type);
	}
	pkb->protocol = type;
	pkb_reset_mac_header(pkb);
	if (!pkb->dev)
		pkb->dev = st->dev;
	STACK_INC(st, eth_tx);
	return dev_queue_xmit(pkb);
}
