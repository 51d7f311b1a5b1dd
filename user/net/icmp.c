// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ICMP (RFC 792, RFC 1122 3.2.2) in the daemon, after Linux's net/ipv4/icmp.c.
 *
 * Input: echo requests that XDP left to us (fragmented ones, reassembled
 * into a big-pool pkb, or ones with options) are answered, and a reply too
 * big for one frame is fragmented by ip_output(); destination unreachable,
 * time exceeded and parameter problem are handed to the err_handler of the
 * protocol they quote, with Linux's errno for each code -- on the worker
 * that holds the quoted flow: an error that lands on another worker's
 * queue is handed over to it (icmp_err_elsewhere(), core/handoff.h).
 *
 * Output: icmp_send() builds errors about packets we received, never about
 * what RFC 1122 3.2.2 forbids, and rate-limits the error types (Linux's
 * icmp_ratemask: unreachable, source quench, time exceeded, parameter
 * problem) with a global token bucket and one per destination.
 */
#include <errno.h>
#include <string.h>

#include <skiff/proto/tcp.h>

#include "core/csum.h"
#include "core/handoff.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ip_internal.h"

#define ICMP_HLEN		8
#define ICMP_QUOTE_MAX		(576 - IP_HLEN - ICMP_HLEN)	/* RFC 1812 4.3.2.3, Linux */

#define ICMP_GLOBAL_INTERVAL_NS	(NSEC_PER_SEC / ICMP_MSGS_PER_SEC)

static bool icmp_is_error(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return true;
	default:
		/* Linux: an unknown type is treated as an error too */
		return type > NR_ICMP_TYPES;
	}
}

/* Linux's default icmp_ratemask 0x1818 */
static bool icmp_is_ratelimited(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Bring a bucket's credit up to now, capped at burst messages. */
static void icmp_bucket_refill(struct icmp_bucket *b, uint64_t now, uint64_t cap)
{
	if (now > b->stamp) {
		b->credit += now - b->stamp;
		b->stamp = now;
	}
	if (b->credit > cap)
		b->credit = cap;
}

static struct icmp_peer *icmp_peer_get(struct ip_state *ip, uint32_t daddr, uint64_t now)
{
	struct icmp_peer *victim = &ip->icmp_peers[0];

	for (int i = 0; i < ICMP_PEERS; i++) {
		struct icmp_peer *p = &ip->icmp_peers[i];

		if (p->daddr == daddr)
			return p;
		if (p->last_used < victim->last_used || (victim->daddr && !p->daddr))
			victim = p;
	}
	/* A new (or recycled) destination starts with a full bucket, as
	 * Linux's inet_peer does. */
	victim->daddr = daddr;
	victim->bucket.credit = ICMP_PEER_BURST * ICMP_PEER_INTERVAL_NS;
	victim->bucket.stamp = now;
	return victim;
}

/*
 * Linux's icmpv4_global_allow() + icmpv4_xrlim_allow(): a global bucket of
 * ICMP_MSGS_PER_SEC (burst ICMP_MSGS_BURST) and, per destination, one
 * message per second with a burst of 6.  The global credit is taken only
 * when the destination's bucket also allows.  Fragmentation needed is
 * never limited (path MTU discovery depends on it).
 */
static bool icmp_rate_allow(struct stack *st, uint32_t daddr, uint8_t type, uint8_t code)
{
	struct ip_state *ip = st->ip;
	struct icmp_peer *peer;
	uint64_t now = st->now;

	if (!icmp_is_ratelimited(type))
		return true;
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		return true;

	icmp_bucket_refill(&ip->icmp_global, now, ICMP_MSGS_BURST * ICMP_GLOBAL_INTERVAL_NS);
	if (ip->icmp_global.credit < ICMP_GLOBAL_INTERVAL_NS)
		return false;

	peer = icmp_peer_get(ip, daddr, now);
	peer->last_used = now;
	icmp_bucket_refill(&peer->bucket, now, ICMP_PEER_BURST * ICMP_PEER_INTERVAL_NS);
	if (peer->bucket.credit < ICMP_PEER_INTERVAL_NS)
		return false;
	peer->bucket.credit -= ICMP_PEER_INTERVAL_NS;
	ip->icmp_global.credit -= ICMP_GLOBAL_INTERVAL_NS;
	return true;
}

void icmp_send(struct stack *st, const struct pkb *in, uint8_t type, uint8_t code,
	       uint32_t info)
{
	const struct ip_hdr *iph;
	struct icmp_hdr *icmph;
	struct rtable rt;
	struct pkb *pkb;
	uint32_t avail, qlen;
	uint32_t src;
	size_t ihl;

	if (!st->ip || in->network_header == PKB_HDR_UNSET ||
	    in->tail < (uint8_t *)pkb_network_header(in))
		return;
	avail = (uint32_t)(in->tail - (uint8_t *)pkb_network_header(in));
	if (ip_hdr_parse(pkb_network_header(in), avail, &iph, &ihl) != PROTO_OK)
		return;

	/* RFC 1122 3.2.2: never about a datagram sent to a link-layer or IP
	 * broadcast or multicast, ... */
	if (in->pkt_type != PKB_HOST || ipv4_is_lbcast(iph->daddr) ||
	    ipv4_is_multicast(iph->daddr) || ip_is_subnet_bcast(st, iph->daddr))
		return;
	/* ... a fragment other than the first, ... */
	if (iph->frag_off & htons(IP_OFFSET))
		return;
	/* ... a source that does not name a single host, ... */
	if (ipv4_is_zeronet(iph->saddr) || ipv4_is_lbcast(iph->saddr) ||
	    ipv4_is_multicast(iph->saddr) || ipv4_is_loopback(iph->saddr) ||
	    ipv4_is_reserved_e(iph->saddr) || ip_is_subnet_bcast(st, iph->saddr))
		return;
	/* ... or an ICMP error message (RFC 1122 3.2.2, RFC 792). */
	if (iph->protocol == IPPROTO_ICMP) {
		if (avail < ihl + 1 || icmp_is_error(((const uint8_t *)iph)[ihl]))
			return;
	}

	/* Reply from the address the datagram was sent to, if it is ours. */
	src = stack_is_local(st, iph->daddr) ? iph->daddr : 0;
	if (ip_route_output(st, iph->saddr, src, &rt)) {
		STACK_INC(st, drop.ip_no_route);
		return;
	}
	if (!icmp_rate_allow(st, iph->saddr, type, code)) {
		STACK_INC(st, icmp_ratelimited);
		return;
	}

	pkb = netdev_alloc_pkb(st->dev);
	if (!pkb) {
		STACK_INC(st, drop.no_frame);
		return;
	}
	/* Quote the header and as much payload as 576 bytes in all allow
	 * (RFC 792 asks for the header + 64 bits, RFC 1812 4.3.2.3 more). */
	qlen = avail < ICMP_QUOTE_MAX ? avail : ICMP_QUOTE_MAX;
	if (ICMP_HLEN + qlen > pkb_tailroom(pkb))
		qlen = pkb_tailroom(pkb) - ICMP_HLEN;
	icmph = __pkb_put(pkb, ICMP_HLEN + qlen);
	memset(icmph, 0, ICMP_HLEN);
	icmph->type = type;
	icmph->code = code;
	if (type == ICMP_PARAMETERPROB)
		icmph->un.pointer = (uint8_t)info;
	else
		icmph->un.gateway = htonl(info);	/* next-hop MTU in the low half */
	memcpy(icmph + 1, iph, qlen);
	icmph->checksum = csum_fold(csum_partial(icmph, ICMP_HLEN + qlen, 0));

	if (type == ICMP_DEST_UNREACH)
		STACK_INC(st, icmp_unreach_sent);
	ip_output(st, pkb, &rt, IPPROTO_ICMP,
		  (uint8_t)((iph->tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL),
		  IP_DEFAULT_TTL, false);
}

/*
 * RFC 792 echo / RFC 1122 3.2.2.6: the reply carries the request's
 * identifier, sequence number and data.  The request may be a reassembled
 * datagram of up to 64 KiB: the reply goes into a frame when it fits the
 * MTU, else into a big-pool buffer that ip_output() fragments.
 */
static int icmp_echo(struct stack *st, struct pkb *pkb)
{
	const struct ip_hdr *iph = ip_hdr(pkb);
	uint32_t len = pkb_len(pkb);
	struct icmp_hdr *icmph;
	struct pkb *reply;
	struct rtable rt;
	uint8_t tos = iph->tos;

	if (ip_route_output(st, iph->saddr, iph->daddr, &rt)) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_no_route);
		return 0;
	}
	reply = netdev_alloc_pkb_len(st->dev, st->big_pool, len);
	if (!reply) {
		pkb_drop(st, pkb, SKIFF_DROP_no_frame);
		return 0;
	}
	icmph = __pkb_put(reply, len);
	memcpy(icmph, pkb->data, len);
	pkb_free(pkb);

	icmph->type = ICMP_ECHOREPLY;
	icmph->code = 0;
	icmph->checksum = 0;
	icmph->checksum = csum_fold(csum_partial(icmph, len, 0));
	STACK_INC(st, icmp_echo_reply);
	ip_output(st, reply, &rt, IPPROTO_ICMP, tos, IP_DEFAULT_TTL, false);
	return 0;
}

/* Linux's icmp_err_convert[] for destination unreachable codes. */
static const int icmp_unreach_errno[NR_ICMP_UNREACH + 1] = {
	[ICMP_NET_UNREACH] = ENETUNREACH,
	[ICMP_HOST_UNREACH] = EHOSTUNREACH,
	[ICMP_PROT_UNREACH] = ENOPROTOOPT,
	[ICMP_PORT_UNREACH] = ECONNREFUSED,
	[ICMP_FRAG_NEEDED] = EMSGSIZE,
	[ICMP_SR_FAILED] = EOPNOTSUPP,
	[ICMP_NET_UNKNOWN] = ENETUNREACH,
	[ICMP_HOST_UNKNOWN] = EHOSTDOWN,
	[ICMP_HOST_ISOLATED] = ENONET,
	[ICMP_NET_ANO] = ENETUNREACH,
	[ICMP_HOST_ANO] = EHOSTUNREACH,
	[ICMP_NET_UNR_TOS] = ENETUNREACH,
	[ICMP_HOST_UNR_TOS] = EHOSTUNREACH,
	[ICMP_PKT_FILTERED] = EHOSTUNREACH,
	[ICMP_PREC_VIOLATION] = EHOSTUNREACH,
	[ICMP_PREC_CUTOFF] = EHOSTUNREACH,
};

/*
 * Multi-worker: the error arrived on whatever queue the sender's hash
 * picked, but the flow it quotes lives on one worker (a server connection
 * where its SYN arrived, a client where its ephemeral port was allocated).
 * Ask the protocol whether it is here (err_lookup); if not, hand a copy of
 * the frame to the owner of the quoted ephemeral port, or to every other
 * worker when any of them may hold it.  A frame that came through the
 * handoff is never handed on (handoff_copy()): a copy that finds nothing
 * where it arrives is dropped and counted there.  pkb->data is the quoted
 * header.  true: pkb consumed.
 */
static bool icmp_err_elsewhere(struct stack *st, const struct net_protocol *prot,
			       struct pkb *pkb)
{
	int owner = -1, n;

	if (!prot || !prot->err_lookup || prot->err_lookup(st, pkb, &owner))
		return false;
	n = handoff_copy(st, pkb, owner);
	if (n > 0) {
		STACK_INC(st, icmp_err_handoff);
		pkb_free(pkb);
	} else if (n < 0) {
		pkb_free(pkb);	/* every copy counted in drop.handoff_drop */
	} else {
		/* nobody here, and nobody else to ask (Linux: ICMP_MIB_INERRORS) */
		pkb_drop(st, pkb, SKIFF_DROP_icmp_err_no_flow);
	}
	return true;
}

/*
 * An error about a datagram we sent (RFC 1122 3.2.2.1-3.2.2.5): check that
 * it quotes an IPv4 header of ours and the 8 bytes after it (RFC 792), then
 * hand it to the quoted protocol with data = the quoted header (or to the
 * worker that holds the quoted flow: icmp_err_elsewhere()).
 */
static int icmp_error_rcv(struct stack *st, struct pkb *pkb)
{
	const struct icmp_hdr *icmph = (const struct icmp_hdr *)pkb->data;
	const struct ip_hdr *qiph;
	uint32_t len = pkb_len(pkb);
	uint32_t info = 0;
	size_t qihl;
	int err;

	if (len < ICMP_HLEN ||
	    ip_hdr_parse(pkb->data + ICMP_HLEN, len - ICMP_HLEN, &qiph, &qihl) != PROTO_OK ||
	    len - ICMP_HLEN - qihl < 8 || !stack_is_local(st, qiph->saddr) ||
	    (qiph->frag_off & htons(IP_OFFSET))) {
		pkb_drop(st, pkb, SKIFF_DROP_icmp_quote);
		return 0;
	}

	switch (icmph->type) {
	case ICMP_DEST_UNREACH:
		if (icmph->code > NR_ICMP_UNREACH) {
			pkb_drop(st, pkb, SKIFF_DROP_icmp_type);
			return 0;
		}
		err = icmp_unreach_errno[icmph->code];
		if (icmph->code == ICMP_FRAG_NEEDED)
			info = ntohs(icmph->un.frag.mtu);
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	default: /* ICMP_PARAMETERPROB */
		err = EPROTO;
		info = icmph->un.pointer;
		break;
	}

	__pkb_pull(pkb, ICMP_HLEN);
	icmp_err_deliver(st, qiph->protocol, pkb, err, info);
	return 0;
}

int icmp_quote_parse(const uint8_t *p, uint32_t len, struct icmp_quote *q)
{
	const struct tcp_hdr *th;
	size_t off;
	uint32_t i;
	uint8_t nh;

	if (len < 1)
		return -EINVAL;
	if (p[0] >> 4 == 4) {
		const struct ip_hdr *iph;
		size_t ihl;

		if (ip_hdr_parse(p, len, &iph, &ihl) != PROTO_OK ||
		    (iph->frag_off & htons(IP_OFFSET)))
			return -EINVAL;
		off = ihl;
		inet_addr_set4(&q->saddr, iph->saddr);
		inet_addr_set4(&q->daddr, iph->daddr);
		nh = iph->protocol;
	} else if (p[0] >> 4 == 6) {
		const struct ip6_hdr *ip6;

		if (ip6_hdr_parse(p, len, &ip6) != PROTO_OK)
			return -EINVAL;
		inet_addr_set6(&q->saddr, ip6->saddr);
		inet_addr_set6(&q->daddr, ip6->daddr);
		off = IPV6_HDR_LEN;
		nh = ip6->nexthdr;
		/* RFC 8200 4: a bounded walk; only a first fragment has ports */
		for (i = 0;; i++) {
			const struct ip6_frag_hdr *fh = (const struct ip6_frag_hdr *)(p + off);
			bool frag = nh == SKIFF_NH_FRAGMENT;

			if (nh != SKIFF_NH_HOPOPTS && nh != SKIFF_NH_ROUTING &&
			    nh != SKIFF_NH_DSTOPTS && !frag)
				break;
			if (i == 8 || ip6_ext_next(p, len, &off, &nh) != PROTO_OK)
				return -EINVAL;
			/* ip6_ext_next() found the fragment header whole */
			if (frag && (get_be16(&fh->frag_off) & IP6_FRAG_OFFSET_MASK))
				return -EINVAL;
		}
	} else {
		return -EINVAL;
	}
	if (off > len || len - off < 8)
		return -EINVAL;
	/* The first 8 bytes only: UDP's ports sit where TCP's do, and so
	 * does the sequence number of the TCP header (bytes 4..7). */
	th = (const struct tcp_hdr *)(p + off);
	q->proto = nh;
	q->sport = th->source;
	q->dport = th->dest;
	q->seq = get_be32(&th->seq);
	return 0;
}

void icmp_err_deliver(struct stack *st, uint8_t proto, struct pkb *pkb, int err, uint32_t info)
{
	const struct net_protocol *prot = st->ip ? st->ip->protos[proto] : NULL;

	if (icmp_err_elsewhere(st, prot, pkb))
		return;
	if (prot && prot->err_handler)
		prot->err_handler(st, pkb, -err, info);
	pkb_free(pkb);
}

static int icmp_rcv(struct stack *st, struct pkb *pkb)
{
	const struct icmp_hdr *icmph;

	STACK_INC(st, icmp_rx);
	if (!pkb_may_pull(pkb, ICMP_HLEN)) {
		pkb_drop(st, pkb, SKIFF_DROP_icmp_short);
		return 0;
	}
	/* RFC 792: the checksum covers the whole ICMP message */
	if (csum_fold(csum_partial(pkb->data, pkb_len(pkb), 0)) != 0) {
		pkb_drop(st, pkb, SKIFF_DROP_icmp_csum);
		return 0;
	}
	icmph = (const struct icmp_hdr *)pkb->data;
	switch (icmph->type) {
	case ICMP_ECHO:
		return icmp_echo(st, pkb);
	case ICMP_DEST_UNREACH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return icmp_error_rcv(st, pkb);
	default:
		/* echo replies (we send no requests), RFC 6633 source quench,
		 * redirects (not acted on: routes are static, as Linux with
		 * accept_redirects=0; RFC 1122 3.2.2.2 SHOULD), the rest */
		pkb_drop(st, pkb, SKIFF_DROP_icmp_type);
		return 0;
	}
}

static const struct net_protocol icmp_protocol = {
	.handler = icmp_rcv,
};

int icmp_init(struct stack *st)
{
	struct ip_state *ip = st->ip;

	if (!ip)
		return -EINVAL;
	ip->icmp_global.credit = ICMP_MSGS_BURST * ICMP_GLOBAL_INTERVAL_NS;
	ip->icmp_global.stamp = st->now;
	memset(ip->icmp_peers, 0, sizeof(ip->icmp_peers));
	return inet_add_protocol(st, IPPROTO_ICMP, &icmp_protocol);
}

void icmp_fini(struct stack *st)
{
	if (st->ip)
		inet_add_protocol(st, IPPROTO_ICMP, NULL);
}
