// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 input (RFC 791, RFC 1122 3.2.1), after Linux's net/ipv4/ip_input.c:
 * ip_rcv() validates the header of every datagram the link layer hands up,
 * fragments go to reassembly (ip_fragment.c), and ip_local_deliver() passes
 * complete datagrams to the handler registered for their protocol in
 * struct ip_state's table (Linux's inet_protos).  Also the set-up of the
 * network layer and the handler for packets the neighbour layer could not
 * resolve.  Every failure is a drop counted by reason.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/csum.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/neigh.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ip_internal.h"

bool ip_is_subnet_bcast(const struct stack *st, uint32_t addr)
{
	const struct stack_config *cfg = st->cfg;

	for (int i = 0; i < cfg->n_addrs; i++) {
		const struct stack_addr *a = &cfg->addrs[i];
		uint32_t mask = inet_make_mask(a->prefix_len);

		/* /31 and /32 have no broadcast address (RFC 3021) */
		if (a->prefix_len >= 31)
			continue;
		if ((addr & mask) == (a->addr & mask) && (addr | mask) == 0xffffffffu)
			return true;
	}
	return false;
}

int inet_add_protocol(struct stack *st, uint8_t proto, const struct net_protocol *prot)
{
	if (!st->ip)
		return -EINVAL;
	if (prot && st->ip->protos[proto])
		return -EEXIST;
	st->ip->protos[proto] = prot;
	return 0;
}

const struct net_protocol *inet_get_protocol(struct stack *st, uint8_t proto)
{
	return st->ip ? st->ip->protos[proto] : NULL;
}

int ip_local_deliver(struct stack *st, struct pkb *pkb)
{
	const struct ip_hdr *iph = (const struct ip_hdr *)pkb->data;
	const struct net_protocol *prot;
	const struct stack_addr *a;

	pkb_reset_network_header(pkb);
	__pkb_pull(pkb, iph->ihl * 4u);
	pkb_reset_transport_header(pkb);

	prot = st->ip->protos[iph->protocol];
	if (!prot || !prot->handler) {
		/* RFC 1122 3.2.2.1: protocol unreachable, only for an address
		 * that is skiff's alone: on a shared one the kernel speaks. */
		a = stack_find_addr(st, iph->daddr);
		if (a && a->dedicated)
			icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		pkb_drop(st, pkb, SKIFF_DROP_ip_unknown_proto);
		return 0;
	}
	STACK_INC(st, ip_delivered);
	return prot->handler(st, pkb);
}

/* RFC 1122 3.2.1.3: a source that cannot be a host's address. */
static bool ip_martian_source(const struct stack *st, uint32_t saddr)
{
	return ipv4_is_zeronet(saddr) || ipv4_is_lbcast(saddr) || ipv4_is_multicast(saddr) ||
	       ipv4_is_loopback(saddr) || ipv4_is_reserved_e(saddr) ||
	       ip_is_subnet_bcast(st, saddr);
}

int ip_rcv(struct stack *st, struct pkb *pkb)
{
	const struct ip_hdr *iph;
	size_t ihl, tot_len;

	STACK_INC(st, ip_rx);
	pkb_reset_network_header(pkb);

	if (pkb->pkt_type == PKB_OTHERHOST) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_not_ours);
		return 0;
	}
	/* RFC 791 3.1 / RFC 1122 3.2.1.1-3.2.1.2: header sanity */
	switch (ip_hdr_parse(pkb->data, pkb_len(pkb), &iph, &ihl)) {
	case PROTO_OK:
		break;
	case PROTO_SHORT:
		pkb_drop(st, pkb, SKIFF_DROP_ip_short);
		return 0;
	case PROTO_VERSION:
		pkb_drop(st, pkb, SKIFF_DROP_ip_version);
		return 0;
	default:
		pkb_drop(st, pkb, SKIFF_DROP_ip_ihl);
		return 0;
	}
	if (ip_fast_csum(iph, iph->ihl) != 0) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_csum);
		return 0;
	}
	tot_len = ntohs(iph->tot_len);
	if (tot_len < ihl || tot_len > pkb_len(pkb)) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_len);
		return 0;
	}
	/* Ethernet pads short frames to 60 bytes: the datagram ends at tot_len */
	pkb_trim(pkb, tot_len);

	/*
	 * TTL 0.  A host only decrements TTL when forwarding, so Linux accepts
	 * TTL 0 for local delivery.  We drop it on purpose (the issue asks for
	 * TTL validation): no correct sender emits it (RFC 1122 3.2.1.7: "A
	 * host MUST NOT send a datagram with a Time-to-Live (TTL) value of
	 * zero"), so such a datagram is broken or crafted.
	 */
	if (iph->ttl == 0) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_ttl);
		return 0;
	}
	/* RFC 1122 3.2.1.3: silently discard an invalid source address */
	if (ip_martian_source(st, iph->saddr)) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_martian);
		return 0;
	}
	/* Local addresses; limited and subnet broadcast only for UDP (the
	 * protocols here that have a use for them).  Options are accepted
	 * and skipped with the header: skiff does no source routing. */
	if (!stack_is_local(st, iph->daddr)) {
		bool bcast = ipv4_is_lbcast(iph->daddr) || ip_is_subnet_bcast(st, iph->daddr);

		if (!bcast || iph->protocol != IPPROTO_UDP) {
			pkb_drop(st, pkb, SKIFF_DROP_ip_not_ours);
			return 0;
		}
		/* an IP broadcast in a unicast frame is a broadcast all the
		 * same (no ICMP error about it, RFC 1122 3.2.2; a reply
		 * leaves from our address, udp.c) */
		pkb->pkt_type = PKB_BROADCAST;
	}

	if (iph->frag_off & htons(IP_MF | IP_OFFSET)) {
		STACK_INC(st, ip_frag_rx);
		pkb = ip_defrag(st, pkb);
		if (!pkb)
			return 0;
	}
	return ip_local_deliver(st, pkb);
}

/*
 * A packet parked for ARP whose neighbour never answered.  Everything we
 * send is locally originated (skiff does not forward), so the sender is
 * told through its transport's err_handler, not with an ICMP host
 * unreachable.  Only the first fragment carries the transport header.
 */
static void ip_neigh_error(struct stack *st, struct pkb *pkb, int err)
{
	const struct ip_hdr *iph = (const struct ip_hdr *)pkb->data;
	const struct net_protocol *prot;

	if (st->ip && pkb_may_pull(pkb, IP_HLEN) && !(iph->frag_off & htons(IP_OFFSET))) {
		prot = st->ip->protos[iph->protocol];
		pkb_reset_network_header(pkb);
		if (prot && prot->err_handler)
			prot->err_handler(st, pkb, err, 0);
	}
	pkb_drop(st, pkb, SKIFF_DROP_arp_unresolved);
}

int ip_init(struct stack *st)
{
	struct ip_state *ip;
	int err;

	ip = calloc(1, sizeof(*ip));
	if (!ip)
		return -ENOMEM;
	/* Spread the identification of each worker's stack (RFC 6864 4.1:
	 * unique per (src, dst, proto) for the reassembly lifetime). */
	ip->ident = (uint16_t)((st->dev ? st->dev->queue_id : 0) * 0x1000u +
			       (uint16_t)(clock_now() >> 10));
	st->ip = ip;

	err = ip_reasm_init(st);
	if (err)
		goto err_free;
	err = dev_add_pack(st, ETH_P_IP, ip_rcv);
	if (err)
		goto err_reasm;
	neigh_set_error_handler(st, ip_neigh_error);
	return 0;

err_reasm:
	ip_reasm_fini(st);
err_free:
	st->ip = NULL;
	free(ip);
	return err;
}

void ip_fini(struct stack *st)
{
	if (!st->ip)
		return;
	neigh_set_error_handler(st, NULL);
	dev_remove_pack(st, ETH_P_IP);
	ip_reasm_fini(st);
	free(st->ip);
	st->ip = NULL;
}
