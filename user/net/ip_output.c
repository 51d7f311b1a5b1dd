// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 output (RFC 791, RFC 1122 3.2.1), after Linux's ip_output.c:
 * ip_output() builds the header of a locally originated datagram and hands
 * it to the neighbour layer; a datagram larger than the route's MTU is
 * refused when DF is asked for, else fragmented (ip_fragment()) into frames
 * from the device pool, each carrying a copy of the header and a slice of
 * the payload that is a multiple of 8 bytes.
 */
#include <errno.h>
#include <string.h>

#include "core/csum.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/neigh.h"
#include "net/ip.h"
#include "net/ip_internal.h"

static void ip_build_header(struct ip_hdr *iph, const struct rtable *rt, uint8_t proto,
			    uint8_t tos, uint8_t ttl, uint16_t id, uint16_t tot_len,
			    uint16_t frag_off)
{
	iph->version = 4;
	iph->ihl = IP_HLEN / 4;
	iph->tos = tos;
	iph->tot_len = htons(tot_len);
	iph->id = htons(id);
	iph->frag_off = htons(frag_off);
	iph->ttl = ttl;
	iph->protocol = proto;
	iph->check = 0;
	iph->saddr = rt->saddr;
	iph->daddr = rt->daddr;
	iph->check = ip_fast_csum(iph, iph->ihl);
}

/*
 * RFC 791 3.2 fragmentation of pkb (data = payload, no IP header yet):
 * every fragment gets the same header but for tot_len, MF and offset;
 * every payload slice but the last is a multiple of 8 bytes.  Owns pkb.
 */
static int ip_fragment(struct stack *st, struct pkb *pkb, const struct rtable *rt,
		       uint8_t proto, uint8_t tos, uint8_t ttl, uint16_t id)
{
	const uint8_t *payload = pkb->data;
	uint32_t len = pkb_len(pkb);
	uint32_t off = 0;
	int err = 0;

	while (off < len) {
		struct pkb *frag = netdev_alloc_pkb(st->dev);
		uint32_t room, slice;
		uint16_t fo;

		if (!frag) {
			err = -ENOBUFS;
			STACK_INC(st, drop.no_frame);
			break;
		}
		room = rt->mtu < pkb_tailroom(frag) ? rt->mtu : pkb_tailroom(frag);
		slice = len - off;
		if (IP_HLEN + slice > room) {
			slice = room > IP_HLEN ? (room - IP_HLEN) & ~7u : 0;
			if (!slice) {
				/* a frame too small for any slice: cannot happen
				 * with a sane pool; do not loop on it */
				pkb_drop(st, frag, SKIFF_DROP_no_frame);
				err = -EMSGSIZE;
				break;
			}
		}
		fo = (uint16_t)(off / 8);
		if (off + slice < len)
			fo |= IP_MF;
		ip_build_header(__pkb_put(frag, IP_HLEN), rt, proto, tos, ttl, id,
				(uint16_t)(IP_HLEN + slice), fo);
		pkb_reset_network_header(frag);
		memcpy(__pkb_put(frag, slice), payload + off, slice);
		frag->dev = st->dev;
		frag->protocol = ETH_P_IP;
		off += slice;
		STACK_INC(st, ip_frag_created);
		err = neigh_output(st, frag, rt->nexthop);
		if (err)
			break;
	}
	pkb_free(pkb);
	return err;
}

int ip_output(struct stack *st, struct pkb *pkb, const struct rtable *rt, uint8_t proto,
	      uint8_t tos, uint8_t ttl, bool df)
{
	uint32_t len = pkb_len(pkb);
	uint16_t id = st->ip->ident++;
	struct ip_hdr *iph;

	/* RFC 1122 3.2.1.7: a host MUST NOT send TTL 0: 0 means the default */
	if (ttl == 0)
		ttl = IP_DEFAULT_TTL;
	pkb_reset_transport_header(pkb);
	pkb->dev = st->dev;

	if (IP_HLEN + len > IP_MAX_LEN) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_len);
		return -EMSGSIZE;
	}
	if (IP_HLEN + len > rt->mtu) {
		if (df) {
			pkb_drop(st, pkb, SKIFF_DROP_ip_df);
			return -EMSGSIZE;
		}
		if (rt->mtu < IP_MIN_MTU) {
			pkb_drop(st, pkb, SKIFF_DROP_ip_no_route);
			return -EINVAL;
		}
		STACK_INC(st, ip_tx);
		return ip_fragment(st, pkb, rt, proto, tos, ttl, id);
	}

	iph = pkb_push(pkb, IP_HLEN);
	if (!iph) {
		pkb_drop(st, pkb, SKIFF_DROP_no_frame);
		return -ENOBUFS;
	}
	/* RFC 6864 4.1: DF set, the id is not used for reassembly; we still
	 * count it up, as Linux does for unconnected sockets. */
	ip_build_header(iph, rt, proto, tos, ttl, id, (uint16_t)(IP_HLEN + len), df ? IP_DF : 0);
	pkb_reset_network_header(pkb);
	pkb->protocol = ETH_P_IP;
	STACK_INC(st, ip_tx);
	return neigh_output(st, pkb, rt->nexthop);
}
