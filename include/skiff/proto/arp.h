/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ARP for IPv4 over Ethernet (RFC 826), the only kind skiff speaks: the
 * packet struct and arp_parse(), the checked parse the daemon and the tests
 * use.  The XDP program answers requests through the same struct, with
 * its own pointer checks against data_end (the only bounds the verifier
 * accepts) instead of arp_parse().
 */
#ifndef SKIFF_PROTO_ARP_H
#define SKIFF_PROTO_ARP_H

#include <stddef.h>

#include <linux/if_ether.h>
#include <linux/types.h>

#include <skiff/proto/parse.h>

#define ARPHRD_ETHER_	1	/* <net/if_arp.h>'s names, underscored: not glibc's */
#define ARPOP_REQUEST_	1
#define ARPOP_REPLY_	2

#define ARP_LEN		28

struct arp_eth_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct arp_eth_ipv4) == ARP_LEN, "ARP for Ethernet/IPv4 is 28 bytes");

/*
 * The ARP packet at p (len bytes; Ethernet padding after it is fine).
 * PROTO_SHORT if cut, PROTO_FORMAT if it is not Ethernet/IPv4 or its op is
 * neither request nor reply.
 */
static inline enum proto_err arp_parse(const void *p, size_t len, const struct arp_eth_ipv4 **ap)
{
	const struct arp_eth_ipv4 *a = p;
	__u16 op;

	if (len < ARP_LEN)
		return PROTO_SHORT;
	op = get_be16(&a->op);
	if (get_be16(&a->htype) != ARPHRD_ETHER_ || get_be16(&a->ptype) != ETH_P_IP ||
	    a->hlen != ETH_ALEN || a->plen != 4 || (op != ARPOP_REQUEST_ && op != ARPOP_REPLY_))
		return PROTO_FORMAT;
	*ap = a;
	return PROTO_OK;
}

#endif /* SKIFF_PROTO_ARP_H */
