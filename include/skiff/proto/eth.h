/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ethernet II (IEEE 802.3 type field) and one IEEE 802.1Q tag: the header
 * structs and eth_hdr_parse(), the checked parse the daemon and the tests
 * use.  The XDP programs read frames through these structs too (this
 * file reaches no libc) but with their own bounds checks: the verifier
 * only accepts bounds proved by comparing packet pointers with data_end,
 * so a helper that checks a length it is given proves nothing to it.
 */
#ifndef SKIFF_PROTO_ETH_H
#define SKIFF_PROTO_ETH_H

#include <stddef.h>

#include <linux/if_ether.h>	/* ETH_ALEN, ETH_HLEN, ETH_P_*: UAPI, no libc */
#include <linux/types.h>

#include <skiff/proto/parse.h>

#define VLAN_HLEN	4
#define VLAN_VID_MASK	0x0fff

struct eth_hdr {
	__u8 h_dest[ETH_ALEN];
	__u8 h_source[ETH_ALEN];
	__be16 h_proto;
} __attribute__((packed, aligned(2)));

/* IEEE 802.1Q: the tag that follows a type field of ETH_P_8021Q. */
struct vlan_tag {
	__be16 tci;		/* PCP 3 bits, DEI 1, VID 12 */
	__be16 encap_proto;	/* the type of what follows the tag */
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "Ethernet header is 14 bytes");
_Static_assert(sizeof(struct vlan_tag) == VLAN_HLEN, "802.1Q tag is 4 bytes");

/* IEEE 802 group bit: the least significant bit of the first octet. */
static inline int eth_addr_is_multicast(const __u8 *a)
{
	return a[0] & 0x01;
}

static inline int eth_addr_is_broadcast(const __u8 *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

/*
 * The Ethernet header at p (len bytes) with at most one 802.1Q tag: *hlen
 * 14 or 18, *type the ethertype of the payload and *tci the tag's TCI (0
 * untagged), both host order.  PROTO_SHORT if the header or the tag is cut.
 */
static inline enum proto_err eth_hdr_parse(const void *p, size_t len, const struct eth_hdr **eh,
					   size_t *hlen, __u16 *type, __u16 *tci)
{
	const struct eth_hdr *h = p;
	const struct vlan_tag *tag;

	if (len < ETH_HLEN)
		return PROTO_SHORT;
	*eh = h;
	*hlen = ETH_HLEN;
	*tci = 0;
	*type = get_be16(&h->h_proto);
	if (*type != ETH_P_8021Q)
		return PROTO_OK;
	if (len < ETH_HLEN + VLAN_HLEN)
		return PROTO_SHORT;
	tag = (const struct vlan_tag *)(h + 1);
	*hlen = ETH_HLEN + VLAN_HLEN;
	*tci = get_be16(&tag->tci);
	*type = get_be16(&tag->encap_proto);
	return PROTO_OK;
}

#endif /* SKIFF_PROTO_ETH_H */
