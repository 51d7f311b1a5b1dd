// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv6 input for skiff's dedicated IPv6 addresses (RFC 8200): the part of
 * the IPv6 network layer that exists so far.  XDP answers Neighbor
 * Solicitations and plain echo requests itself (bpf/skiff_ipv6.bpf.h) and
 * hands the daemon everything else sent to a dedicated IPv6 address.
 * skiff has no IPv6 sockets yet, so here it behaves as a host with every
 * port closed should:
 *   - the header is validated (version, payload length) and the extension
 *     header chain walked, at most IPV6_MAX_EXT headers (hop-by-hop only
 *     first, RFC 8200 4.1); a fragment header is dropped (no IPv6
 *     reassembly yet: drop.ip6_frag);
 *   - ICMPv6 (RFC 4443): checksum checked, echo requests answered (those
 *     XDP leaves: with extension headers, or too long for its checksum);
 *     other messages are counted and dropped;
 *   - UDP: checksum checked (mandatory in IPv6, RFC 8200 8.1), answered
 *     with destination unreachable, port unreachable (RFC 4443 3.1);
 *   - TCP: checksum checked, answered with a RST as RFC 9293 3.10.7.1 asks
 *     of a CLOSED port;
 *   - any other next header: parameter problem, unrecognized next header
 *     (RFC 8200 4, RFC 4443 3.4), pointing at the field that named it.
 * ICMPv6 errors quote as much of the packet as 1280 bytes allow (RFC 4443
 * 2.4 c), are never sent about an ICMPv6 error, a non-unicast frame or a
 * non-unicast source, and are rate limited (2.4 f).  Replies go back to the
 * frame's source MAC: without NDP of its own the daemon answers whoever
 * handed it the packet, the neighbour or the router (RFC 4861 resolution
 * comes with IPv6 sockets).
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <skiff/proto/icmpv6.h>

#include "core/csum.h"
#include "core/clock.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "link/eth.h"
#include "net/ipv6.h"

#define IPV6_HLEN		40
#define IPV6_MAX_EXT		8	/* extension headers walked before giving up */
#define IPV6_MIN_MTU		1280	/* RFC 8200 5: an error fits this */
#define IPV6_HOP_LIMIT		64
#define NH_HOPOPTS		0
#define NH_TCP			6
#define NH_UDP			17
#define NH_ROUTING		43
#define NH_FRAGMENT		44
#define NH_NONE			59
#define NH_DSTOPTS		60
#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_PORT_UNREACH	4
#define ICMPV6_PARAMPROB	4
#define ICMPV6_UNK_NEXTHDR	1
#define ICMPV6_ERR_BURST	50	/* errors in a burst ... */
#define ICMPV6_ERR_RATE_NS	(10ULL * 1000 * 1000)	/* ... then one per 10 ms */

/* RFC 8200 3 */
struct ip6_hdr {
	uint32_t vtc_flow;	/* version 4 bits, traffic class, flow label */
	uint16_t plen;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t saddr[16];
	uint8_t daddr[16];
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct ip6_hdr) == IPV6_HLEN, "IPv6 header is 40 bytes");

struct ip6_state {
	uint64_t err_credit;	/* token bucket of ICMPv6 errors, in ns of credit */
	uint64_t err_last;
};

static bool in6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static bool in6_is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

static bool ipv6_is_local(const struct stack *st, const uint8_t *a)
{
	const struct stack_config *cfg = st->cfg;

	for (int i = 0; i < cfg->n_addrs6; i++)
		if (cfg->addrs6[i].dedicated && !memcmp(cfg->addrs6[i].addr, a, 16))
			return true;
	return false;
}

/* RFC 8200 8.1: the pseudo-header's sum for an upper-layer packet of len bytes. */
static uint32_t ipv6_pseudo_sum(const uint8_t *src, const uint8_t *dst, uint32_t len, uint8_t nh)
{
	uint32_t tail[2] = { htonl(len), htonl(nh) };
	uint32_t sum = csum_partial(src, 16, 0);

	sum = csum_partial(dst, 16, sum);
	return csum_partial(tail, sizeof(tail), sum);
}

static bool ipv6_upper_csum_ok(const struct ip6_hdr *ip6, const uint8_t *l4, uint32_t len,
			       uint8_t nh)
{
	return !csum_fold(csum_partial(l4, len, ipv6_pseudo_sum(ip6->saddr, ip6->daddr, len, nh)));
}

/*
 * Send an upper-layer packet (payload already in pkb) from src to dst,
 * to the link-layer address dmac: the IPv6 header is pushed in front.
 */
static void ipv6_send(struct stack *st, struct pkb *pkb, const uint8_t *src, const uint8_t *dst,
		      uint8_t nh, const uint8_t *dmac)
{
	uint32_t len = pkb_len(pkb);
	struct ip6_hdr *ip6 = pkb_push(pkb, IPV6_HLEN);

	if (!ip6) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_headroom);
		return;
	}
	ip6->vtc_flow = htonl(6u << 28);
	ip6->plen = htons((uint16_t)len);
	ip6->nexthdr = nh;
	ip6->hop_limit = IPV6_HOP_LIMIT;
	memcpy(ip6->saddr, src, 16);
	memcpy(ip6->daddr, dst, 16);
	pkb_reset_network_header(pkb);
	STACK_INC(st, ip6_tx);
	eth_output(st, pkb, dmac, ETH_P_IPV6);
}

/* RFC 4443 2.4 f: a token bucket, ICMPV6_ERR_BURST deep. */
static bool icmp6_err_allow(struct stack *st)
{
	struct ip6_state *s = st->ip6;
	uint64_t cap = ICMPV6_ERR_BURST * ICMPV6_ERR_RATE_NS, now = st->now;

	s->err_credit += now - s->err_last;
	s->err_last = now;
	if (s->err_credit > cap)
		s->err_credit = cap;
	if (s->err_credit < ICMPV6_ERR_RATE_NS)
		return false;
	s->err_credit -= ICMPV6_ERR_RATE_NS;
	return true;
}

/* An ICMPv6 error about in (its IPv6 header at in->data), to its source. */
static void icmp6_send_err(struct stack *st, const struct pkb *in, uint8_t type, uint8_t code,
			   uint32_t info)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)in->data;
	uint32_t qlen = pkb_len(in);
	struct icmp6_hdr *h;
	struct pkb *pkb;

	/* RFC 4443 2.4 e: not to a multicast frame or a source that is no host */
	if (in->pkt_type != PKB_HOST || in6_is_multicast(ip6->saddr) ||
	    in6_is_unspecified(ip6->saddr))
		return;
	if (!icmp6_err_allow(st)) {
		STACK_INC(st, icmp6_ratelimited);
		return;
	}
	pkb = netdev_alloc_pkb(st->dev);
	if (!pkb) {
		STACK_INC(st, drop.no_frame);
		return;
	}
	if (qlen > IPV6_MIN_MTU - IPV6_HLEN - sizeof(*h))
		qlen = IPV6_MIN_MTU - IPV6_HLEN - sizeof(*h);
	if (qlen + sizeof(*h) > pkb_tailroom(pkb))
		qlen = pkb_tailroom(pkb) - sizeof(*h);
	h = __pkb_put(pkb, sizeof(*h) + qlen);
	h->type = type;
	h->code = code;
	h->checksum = 0;
	h->data = htonl(info);
	memcpy(h + 1, ip6, qlen);
	h->checksum = csum_fold(csum_partial(h, sizeof(*h) + qlen,
					     ipv6_pseudo_sum(ip6->daddr, ip6->saddr,
							     (uint32_t)(sizeof(*h) + qlen),
							     SKIFF_IPPROTO_ICMPV6)));
	STACK_INC(st, icmp6_err_sent);
	ipv6_send(st, pkb, ip6->daddr, ip6->saddr, SKIFF_IPPROTO_ICMPV6, pkb_mac_header(in) + 6);
}

/* RFC 4443 4.2: the reply carries the request's identifier, sequence and data. */
static void icmp6_rcv(struct stack *st, struct pkb *in, uint32_t off)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)in->data;
	uint32_t len = pkb_len(in) - off;
	const struct icmp6_hdr *req = (const void *)(in->data + off);
	struct icmp6_hdr *h;
	struct pkb *pkb;

	if (len < sizeof(*req) || !ipv6_upper_csum_ok(ip6, in->data + off, len,
						      SKIFF_IPPROTO_ICMPV6)) {
		pkb_drop(st, in, SKIFF_DROP_ip6_csum);
		return;
	}
	if (req->type != SKIFF_ICMPV6_ECHO_REQUEST || req->code != 0 ||
	    in6_is_multicast(ip6->saddr) || in6_is_unspecified(ip6->saddr)) {
		pkb_drop(st, in, SKIFF_DROP_icmp6_type); /* NDP is XDP's; the rest unused */
		return;
	}
	pkb = netdev_alloc_pkb(st->dev);
	if (!pkb || len > pkb_tailroom(pkb)) {
		if (pkb)
			pkb_free(pkb);
		pkb_drop(st, in, SKIFF_DROP_no_frame);
		return;
	}
	h = __pkb_put(pkb, len);
	memcpy(h, req, len);
	h->type = SKIFF_ICMPV6_ECHO_REPLY;
	h->checksum = 0;
	h->checksum = csum_fold(csum_partial(
		h, len, ipv6_pseudo_sum(ip6->daddr, ip6->saddr, len, SKIFF_IPPROTO_ICMPV6)));
	STACK_INC(st, icmp6_echo_reply);
	ipv6_send(st, pkb, ip6->daddr, ip6->saddr, SKIFF_IPPROTO_ICMPV6, pkb_mac_header(in) + 6);
	pkb_free(in);
}

/* RFC 9293 3.10.7.1: a segment to a CLOSED port gets a RST, unless it is one. */
static void tcp6_reset(struct stack *st, struct pkb *in, uint32_t off)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)in->data;
	const uint8_t *t = in->data + off;
	uint32_t len = pkb_len(in) - off, doff, seq, ack, seglen;
	uint8_t flags, *r;
	struct pkb *pkb;

	if (len < 20 || !ipv6_upper_csum_ok(ip6, t, len, NH_TCP)) {
		pkb_drop(st, in, SKIFF_DROP_ip6_csum);
		return;
	}
	doff = (uint32_t)(t[12] >> 4) * 4;
	flags = t[13];
	if (doff < 20 || doff > len || (flags & 0x04) || in6_is_multicast(ip6->saddr) ||
	    in6_is_unspecified(ip6->saddr)) {
		pkb_drop(st, in, SKIFF_DROP_tcp_no_port);
		return;
	}
	memcpy(&seq, t + 4, 4);
	memcpy(&ack, t + 8, 4);
	seglen = len - doff + !!(flags & 0x02) + !!(flags & 0x01); /* SYN, FIN count */
	pkb = netdev_alloc_pkb(st->dev);
	if (!pkb) {
		pkb_drop(st, in, SKIFF_DROP_no_frame);
		return;
	}
	r = __pkb_put(pkb, 20);
	memset(r, 0, 20);
	memcpy(r, t + 2, 2); /* ports swapped */
	memcpy(r + 2, t, 2);
	if (flags & 0x10) { /* ACK: <SEQ=SEG.ACK><CTL=RST> */
		memcpy(r + 4, &ack, 4);
		r[13] = 0x04;
	} else { /* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		ack = htonl(ntohl(seq) + seglen);
		memcpy(r + 8, &ack, 4);
		r[13] = 0x14;
	}
	r[12] = 5 << 4;
	{
		uint16_t c = csum_fold(csum_partial(r, 20, ipv6_pseudo_sum(ip6->daddr, ip6->saddr,
									  20, NH_TCP)));

		memcpy(r + 16, &c, 2);
	}
	STACK_INC(st, tcp6_rst_sent);
	ipv6_send(st, pkb, ip6->daddr, ip6->saddr, NH_TCP, pkb_mac_header(in) + 6);
	pkb_drop(st, in, SKIFF_DROP_tcp_no_port);
}

int ipv6_rcv(struct stack *st, struct pkb *pkb)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkb->data;
	uint32_t len = pkb_len(pkb), off = IPV6_HLEN, nh_field = 6, plen;
	uint8_t nh;
	int i;

	STACK_INC(st, ip6_rx);
	if (len < IPV6_HLEN) {
		pkb_drop(st, pkb, SKIFF_DROP_ip6_short);
		return 0;
	}
	plen = ntohs(ip6->plen);
	/* RFC 8200 3: version 6; a payload no longer than what arrived */
	if ((ntohl(ip6->vtc_flow) >> 28) != 6 || plen > len - IPV6_HLEN) {
		pkb_drop(st, pkb, SKIFF_DROP_ip6_len);
		return 0;
	}
	pkb_trim(pkb, IPV6_HLEN + plen); /* Ethernet padding */
	len = IPV6_HLEN + plen;
	if (!ipv6_is_local(st, ip6->daddr)) {
		pkb_drop(st, pkb, SKIFF_DROP_ip6_not_ours);
		return 0;
	}
	pkb_reset_network_header(pkb);

	/* RFC 8200 4: the extension headers, in order, a bounded number */
	nh = ip6->nexthdr;
	for (i = 0;; i++) {
		const uint8_t *e = pkb->data + off;

		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS && nh != NH_FRAGMENT)
			break;
		if (i == IPV6_MAX_EXT || (nh == NH_HOPOPTS && i > 0)) {
			pkb_drop(st, pkb, SKIFF_DROP_ip6_ext_chain);
			return 0;
		}
		if (nh == NH_FRAGMENT) {
			pkb_drop(st, pkb, SKIFF_DROP_ip6_frag); /* no IPv6 reassembly yet */
			return 0;
		}
		if (off + 2 > len || off + (e[1] + 1u) * 8 > len) {
			pkb_drop(st, pkb, SKIFF_DROP_ip6_len);
			return 0;
		}
		nh_field = off;
		nh = e[0];
		off += (e[1] + 1u) * 8;
	}

	switch (nh) {
	case SKIFF_IPPROTO_ICMPV6:
		icmp6_rcv(st, pkb, off);
		return 0;
	case NH_UDP:
		if (len - off < 8 || !ipv6_upper_csum_ok(ip6, pkb->data + off, len - off, NH_UDP)) {
			pkb_drop(st, pkb, SKIFF_DROP_ip6_csum);
			return 0;
		}
		icmp6_send_err(st, pkb, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0);
		pkb_drop(st, pkb, SKIFF_DROP_udp_no_port);
		return 0;
	case NH_TCP:
		tcp6_reset(st, pkb, off);
		return 0;
	case NH_NONE:
		pkb_free(pkb); /* RFC 8200 4.7: nothing follows */
		return 0;
	default:
		icmp6_send_err(st, pkb, ICMPV6_PARAMPROB, ICMPV6_UNK_NEXTHDR, nh_field);
		pkb_drop(st, pkb, SKIFF_DROP_ip6_unknown_nexthdr);
		return 0;
	}
}

int ipv6_init(struct stack *st)
{
	struct ip6_state *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->err_credit = ICMPV6_ERR_BURST * ICMPV6_ERR_RATE_NS;
	s->err_last = st->now;
	st->ip6 = s;
	err = dev_add_pack(st, ETH_P_IPV6, ipv6_rcv);
	if (err) {
		st->ip6 = NULL;
		free(s);
	}
	return err;
}

void ipv6_fini(struct stack *st)
{
	if (!st->ip6)
		return;
	dev_remove_pack(st, ETH_P_IPV6);
	free(st->ip6);
	st->ip6 = NULL;
}
