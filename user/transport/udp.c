// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * UDP (RFC 768, RFC 1122 4.1; over IPv6 RFC 8200 8.1), after Linux's
 * net/ipv4/udp.c and net/ipv6/udp.c: one table and one lookup for both
 * families (addresses IPv4 mapped, core/inaddr.h).
 *
 * Input (udp_rcv): validate the header, the length field and the checksum,
 * find the socket through a fixed-size hash on the local port and queue the
 * datagram on it, or answer ICMP port unreachable when the address is
 * skiff's alone.  Output (udp_sendmsg): build the datagram in one buffer (a
 * transmit frame, or a big-pool buffer when it does not fit one) and hand it
 * to ip_output() or ip6_output(), which fragment it.
 *
 * Receive memory: a queued datagram keeps its buffer (a UMEM frame, or a
 * big-pool buffer after reassembly) until the application reads it.  Each
 * one is charged the whole buffer (pool->buf_size, Linux's truesize) against
 * sk->rcvbuf, so a flood of tiny datagrams pins at most rcvbuf / frame_size
 * frames per socket, not rcvbuf datagrams.  An empty queue always takes one
 * datagram, so a small rcvbuf still receives.
 *
 * Binding claims (address, UDP, port) through st->hooks.port_claim (the BPF
 * ports map that steers traffic to us) and close releases it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <skiff/proto/ipv4.h>
#include <skiff/proto/ipv6.h>
#include <skiff/proto/udp.h>

#include "core/csum.h"
#include "core/handoff.h"
#include "core/netdev.h"
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ipv6.h"
#include "transport/udp.h"

/* RFC 768 length field is 16 bits: 65535 - 20 (IPv4 header) - 8 */
#define UDP_MAX_PAYLOAD	65507u
/* IPv6's payload length is 16 bits and holds the UDP header: 65535 - 8 */
#define UDP6_MAX_PAYLOAD	65527u
#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_PORT_UNREACH	4

struct udp_sock {
	struct sock sk;
	uint32_t rmem;		/* receive memory charged (truesize of queued buffers) */
	bool hashed;		/* in the port hash and the port claimed */
};

struct udp_table {
	struct sock *hash[UDP_HASH_SLOTS];	/* chained through sk->hnext */
	uint16_t next_ephemeral;		/* host order, next port to try */
	uint32_t n_socks;
};

static inline struct udp_sock *udp_sk(struct sock *sk)
{
	return (struct udp_sock *)sk;
}

static inline unsigned int udp_hashfn(uint16_t port_net)
{
	return ntohs(port_net) & (UDP_HASH_SLOTS - 1);
}

/*
 * The addresses of a received datagram's IP header, either family, read
 * byte-wise so nothing here depends on the header's alignment (a heap
 * buffer after reassembly need not be aligned).
 */
static void udp_pkt_addrs(const struct pkb *pkb, union inet_addr *saddr, union inet_addr *daddr)
{
	const struct ip_hdr *iph = (const struct ip_hdr *)pkb_network_header(pkb);
	const struct ip6_hdr *ip6;

	if (iph->version == 6) {
		ip6 = (const struct ip6_hdr *)iph;
		inet_addr_set6(saddr, ip6->saddr);
		inet_addr_set6(daddr, ip6->daddr);
		return;
	}
	inet_addr_set4(saddr, iph->saddr);
	inet_addr_set4(daddr, iph->daddr);
}

/* What a queued pkb costs its socket: the whole buffer it keeps. */
static inline uint32_t udp_truesize(const struct pkb *pkb)
{
	return pkb->pool ? pkb->pool->buf_size : pkb_len(pkb);
}

/* ---- port table ---- */

/*
 * Would binding (addr, port) clash with an existing socket?  Without
 * SO_REUSEADDR, as Linux: the same port where the two could receive the
 * same datagram (the same address, a wildcard on either side, :: without
 * V6ONLY and any IPv4 bind: inet_addr_bind_overlap()).
 */
static bool udp_port_in_use(const struct udp_table *t, const union inet_addr *addr, bool v6only,
			    uint16_t port)
{
	const struct sock *sk;

	for (sk = t->hash[udp_hashfn(port)]; sk; sk = sk->hnext)
		if (sk->sport == port &&
		    inet_addr_bind_overlap(&sk->saddr6, sk->v6only, addr, v6only))
			return true;
	return false;
}

static void udp_hash(struct udp_table *t, struct sock *sk)
{
	struct sock **slot = &t->hash[udp_hashfn(sk->sport)];

	sk->hnext = *slot;
	*slot = sk;
	t->n_socks++;
}

static void udp_unhash(struct udp_table *t, struct sock *sk)
{
	struct sock **pp;

	for (pp = &t->hash[udp_hashfn(sk->sport)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == sk) {
			*pp = sk->hnext;
			sk->hnext = NULL;
			t->n_socks--;
			return;
		}
	}
}

/*
 * The socket for a datagram (saddr, sport) -> (daddr, dport), network order:
 * the best of those bound to dport, as Linux's compute_score: a bound
 * address must equal daddr and scores over a wildcard that takes daddr's
 * family; a connected socket must have the sender as its peer and scores
 * over an unconnected one.
 */
static struct sock *udp_lookup(const struct udp_table *t, const union inet_addr *saddr,
			       uint16_t sport, const union inet_addr *daddr, uint16_t dport)
{
	struct sock *sk, *best = NULL;
	int score, best_score = -1;

	for (sk = t->hash[udp_hashfn(dport)]; sk; sk = sk->hnext) {
		int m;

		if (sk->sport != dport)
			continue;
		m = inet_addr_local_match(&sk->saddr6, sk->v6only, daddr);
		if (!m)
			continue;
		score = m == 2 ? 2 : 0;
		if (sk_has_peer(sk)) {
			if (!inet_addr_eq(&sk->daddr6, saddr) || sk->dport != sport)
				continue;
			score += 4;
		}
		if (score > best_score) {
			best = sk;
			best_score = score;
		}
	}
	return best;
}

/* ---- input ---- */

static bool udp_is_bcast_or_mcast(const struct stack *st, const struct pkb *pkb, uint32_t daddr)
{
	uint32_t h = ntohl(daddr);
	int i;

	if (pkb->pkt_type == PKB_BROADCAST || pkb->pkt_type == PKB_MULTICAST)
		return true;
	if (h == 0xffffffffu || (h & 0xf0000000u) == 0xe0000000u)
		return true;
	for (i = 0; i < st->cfg->n_addrs; i++) {
		const struct stack_addr *a = &st->cfg->addrs[i];
		uint32_t mask;

		if (a->prefix_len == 0 || a->prefix_len >= 31)
			continue;
		mask = 0xffffffffu << (32 - a->prefix_len);
		if ((h & mask) == (ntohl(a->addr) & mask) && (h & ~mask) == ~mask)
			return true;
	}
	return false;
}

static void udp_queue_rcv(struct stack *st, struct sock *sk, struct pkb *pkb)
{
	struct udp_sock *up = udp_sk(sk);
	uint32_t size = udp_truesize(pkb);

	if (up->rmem && up->rmem + size > sk->rcvbuf) {
		pkb_drop(st, pkb, SKIFF_DROP_sock_rcvbuf);
		return;
	}
	up->rmem += size;
	pkb_queue_tail(&sk->rcvq, pkb);
	STACK_INC(st, udp_rx);
	if (sk->data_ready)
		sk->data_ready(sk);
}

/* The checksum of a datagram of ulen bytes at uh: true when it is right.
 * RFC 768: over IPv4 zero means none was sent; RFC 8200 8.1: over IPv6 it
 * is mandatory, and a zero one is wrong (*zero6 set). */
static bool udp_csum_ok(const struct udp_hdr *uh, uint32_t ulen, const union inet_addr *saddr,
			const union inet_addr *daddr, bool *zero6)
{
	*zero6 = false;
	if (inet_addr_is4(saddr))
		return !uh->check || !csum_tcpudp_magic(saddr->w[3], daddr->w[3], ulen, IPPROTO_UDP,
							csum_partial(uh, ulen, 0));
	if (!uh->check) {
		*zero6 = true;
		return false;
	}
	return !csum_fold(csum_partial(uh, ulen, ipv6_pseudo_sum(saddr->b, daddr->b, ulen,
								 IPPROTO_UDP)));
}

int udp_rcv(struct stack *st, struct pkb *pkb)
{
	const struct stack_addr *local;
	union inet_addr saddr, daddr;
	const struct udp_hdr *uh;
	struct sock *sk;
	uint8_t *ip_end;
	size_t ulen;
	bool zero6;

	pkb_reset_transport_header(pkb);
	/* RFC 768: the length covers header and data; it may not claim more
	 * than the IP payload.  Bytes past it are padding and go. */
	switch (udp_hdr_parse(pkb->data, pkb_len(pkb), &uh, &ulen)) {
	case PROTO_OK:
		break;
	case PROTO_SHORT:
		pkb_drop(st, pkb, SKIFF_DROP_udp_short);
		return 0;
	default:
		pkb_drop(st, pkb, SKIFF_DROP_udp_len);
		return 0;
	}
	ip_end = pkb->tail;
	pkb_trim(pkb, ulen);
	udp_pkt_addrs(pkb, &saddr, &daddr);

	if (!udp_csum_ok(uh, ulen, &saddr, &daddr, &zero6)) {
		pkb_drop(st, pkb, zero6 ? SKIFF_DROP_udp6_csum_zero : SKIFF_DROP_udp_csum);
		return 0;
	}

	sk = st->udp ? udp_lookup(st->udp, &saddr, uh->source, &daddr, uh->dest) : NULL;
	if (sk) {
		__pkb_pull(pkb, UDP_HLEN);
		udp_queue_rcv(st, sk, pkb);
		return 0;
	}

	/*
	 * Nobody bound.  RFC 1122 4.1.3.1: port unreachable, but never for a
	 * broadcast or multicast (3.2.2).  On a shared address the kernel owns
	 * every port we do not; we only get here in a race with a close, so
	 * stay silent and let the peer retry (icmp6_send() never answers
	 * for a shared IPv6 address); IPv6 is unicast here: RFC 4443 3.1.
	 *
	 * But first: an ephemeral port another worker allocates is that
	 * worker's socket (RSS brought the reply to our queue); hand it the
	 * frame as received, IP padding included (core/handoff.h).
	 */
	if (ntohs(uh->dest) >= UDP_EPHEMERAL_LO && ntohs(uh->dest) <= UDP_EPHEMERAL_HI) {
		uint8_t *udp_end = pkb->tail;

		pkb->tail = ip_end;
		if (handoff_rx(st, pkb, ntohs(uh->dest)))
			return 0;
		pkb->tail = udp_end;
	}
	STACK_INC(st, udp_no_port);
	if (!inet_addr_is4(&daddr)) {
		icmp6_send(st, pkb, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0);
	} else {
		local = stack_find_addr(st, daddr.w[3]);
		if (local && local->dedicated && !udp_is_bcast_or_mcast(st, pkb, daddr.w[3]))
			icmp_send(st, pkb, 3 /* ICMP_DEST_UNREACH */, 3 /* ICMP_PORT_UNREACH */, 0);
	}
	pkb_drop(st, pkb, SKIFF_DROP_udp_no_port);
	return 0;
}

/*
 * An ICMP or ICMPv6 error about a datagram we sent: pkb->data is the
 * quoted IP header (icmp_quote_parse()).  As Linux without IP_RECVERR,
 * only a connected socket hears of it.
 */
static void udp_err(struct stack *st, struct pkb *pkb, int err, uint32_t info)
{
	struct icmp_quote q;
	struct sock *sk;

	(void)info;
	if (!st->udp || icmp_quote_parse(pkb->data, pkb_len(pkb), &q))
		return;
	/* Quoted as we sent it: we are the source. */
	sk = udp_lookup(st->udp, &q.daddr, q.dport, &q.saddr, q.sport);
	if (!sk || !sk_has_peer(sk))
		return;
	sk->err = err;
	if (sk->data_ready)
		sk->data_ready(sk);
}

/*
 * struct net_protocol err_lookup: is the socket an ICMP error quotes on this
 * worker (the same lookup as udp_err())?  If not: the owner of the quoted
 * ephemeral port, else -1 (a fixed port: any worker may have bound it).
 */
static bool udp_err_lookup(struct stack *st, const struct pkb *pkb, int *owner)
{
	struct icmp_quote q;
	uint16_t port;

	if (!st->udp || icmp_quote_parse(pkb->data, pkb_len(pkb), &q))
		return true;	/* udp_err() decides */
	if (udp_lookup(st->udp, &q.daddr, q.dport, &q.saddr, q.sport))
		return true;
	port = ntohs(q.sport);
	if (port >= UDP_EPHEMERAL_LO && port <= UDP_EPHEMERAL_HI)
		*owner = (int)stack_port_owner(st, port);
	else
		*owner = -1;
	return false;
}

static const struct net_protocol udp_protocol = {
	.handler = udp_rcv,
	.err_handler = udp_err,
	.err_lookup = udp_err_lookup,
};

/* ---- socket operations ---- */

static int udp_init_sock(struct sock *sk)
{
	const struct stack_config *cfg = sk->stack->cfg;

	if (cfg && cfg->udp_rcvbuf)
		sk->rcvbuf = cfg->udp_rcvbuf;
	return 0;
}

static int udp_bind(struct sock *sk, const union inet_addr *addr, uint16_t port)
{
	struct stack *st = sk->stack;
	struct udp_table *t = st->udp;
	int err;

	if (!t)
		return -ENODEV;
	if (sk->sport)
		return -EINVAL;
	if (!inet_addr_is_any(addr) && !stack_is_local_addr(st, addr))
		return -EADDRNOTAVAIL;

	if (!port) {
		const uint32_t range = UDP_EPHEMERAL_HI - UDP_EPHEMERAL_LO + 1;
		uint32_t i;

		for (i = 0; i < range; i++) {
			uint16_t p = t->next_ephemeral;

			t->next_ephemeral = p == UDP_EPHEMERAL_HI ? UDP_EPHEMERAL_LO : p + 1;
			/* only ports this worker owns (p % n_workers == worker),
			 * so replies another queue receives can be handed here */
			if (!stack_owns_port(st, p))
				continue;
			if (!udp_port_in_use(t, addr, sk->v6only, htons(p))) {
				port = htons(p);
				break;
			}
		}
		if (!port)
			return -EADDRINUSE;
	} else if (udp_port_in_use(t, addr, sk->v6only, port)) {
		return -EADDRINUSE;
	}

	err = sk_port_claim(st, addr, sk->v6only, IPPROTO_UDP, port);
	if (err)
		return err;
	sk->saddr6 = *addr;
	sk->sport = port;
	udp_hash(t, sk);
	udp_sk(sk)->hashed = true;
	return 0;
}

/* The bound address, or a wildcard of daddr's family: the source to route from. */
static int udp_src_for(const struct sock *sk, const union inet_addr *daddr,
		       const union inet_addr **src)
{
	static const union inet_addr any4 = INET_ADDR_ANY4_INIT, any6;

	if (inet_addr_is_any(&sk->saddr6)) {
		*src = inet_addr_is4(daddr) ? &any4 : &any6;
		return 0;
	}
	if (inet_addr_is4(&sk->saddr6) != inet_addr_is4(daddr))
		return -ENETUNREACH;	/* bound to an address of the other family */
	*src = &sk->saddr6;
	return 0;
}

static int udp_connect(struct sock *sk, const union inet_addr *addr, uint16_t port)
{
	const union inet_addr *src;
	struct rtable rt;
	struct rt6 rt6;
	int err;

	if (!addr) {	/* AF_UNSPEC: forget the peer */
		sk_addr_reset(sk, &sk->daddr6);
		sk->dport = 0;
		return 0;
	}
	err = udp_src_for(sk, addr, &src);
	if (err)
		return err;
	if (inet_addr_is4(addr))
		err = ip_route_output(sk->stack, addr->w[3], src->w[3], &rt);
	else
		err = ip6_route_output(sk->stack, addr->b, src->b, &rt6);
	if (err)
		return err;
	if (!sk->sport) {
		static const union inet_addr any6;

		err = udp_bind(sk, sk->family == AF_INET6 ? &any6 : &sk->saddr6, 0);
		if (err)
			return err;
	}
	sk->daddr6 = *addr;
	sk->dport = port;
	return 0;
}

/* Build the datagram (header, payload, checksum) in one buffer; NULL: no buffer. */
static struct pkb *udp_build(struct stack *st, const struct sock *sk, const void *buf,
			     size_t len, uint16_t dport, const union inet_addr *src,
			     const union inet_addr *dst)
{
	uint32_t ulen = UDP_HLEN + (uint32_t)len;
	struct udp_hdr *uh;
	struct pkb *pkb;
	uint16_t check;

	pkb = netdev_alloc_pkb_len(st->dev, st->big_pool, ulen);
	if (!pkb)
		return NULL;
	pkb_reset_transport_header(pkb);
	uh = __pkb_put(pkb, ulen);
	uh->source = sk->sport;
	uh->dest = dport;
	uh->len = htons((uint16_t)ulen);
	uh->check = 0;
	if (len)
		memcpy(uh + 1, buf, len);
	if (inet_addr_is4(dst))
		check = csum_tcpudp_magic(src->w[3], dst->w[3], ulen, IPPROTO_UDP,
					  csum_partial(uh, ulen, 0));
	else
		check = csum_fold(csum_partial(uh, ulen, ipv6_pseudo_sum(src->b, dst->b, ulen,
									 IPPROTO_UDP)));
	/* RFC 768, RFC 8200 8.1: a computed zero is sent as all ones (zero
	 * means "none", which IPv6 does not allow). */
	uh->check = check ? check : 0xffff;
	return pkb;
}

/* sendmsg with tx's overrides (NULL: none): from the local address
 * tx->saddr (NULL: the route's source), with its TTL and TOS. */
static ssize_t udp_sendmsg_from(struct sock *sk, const void *buf, size_t len,
				const union inet_addr *daddr, uint16_t dport,
				const struct sk_txinfo *tx)
{
	const union inet_addr *saddr = tx ? tx->saddr : NULL;
	struct stack *st = sk->stack;
	const union inet_addr *src;
	uint8_t ttl, tos;
	union inet_addr rsrc;
	struct rtable rt;
	struct rt6 rt6;
	struct pkb *pkb;
	bool v4;
	int err;

	if (!daddr) {
		if (!sk_has_peer(sk))
			return -EDESTADDRREQ;
		daddr = &sk->daddr6;
		dport = sk->dport;
	}
	if (!dport)
		return -EINVAL;
	v4 = inet_addr_is4(daddr);
	if (len > (v4 ? UDP_MAX_PAYLOAD : UDP6_MAX_PAYLOAD))
		return -EMSGSIZE;
	/* RFC 1122 3.2.1.7: never an IPv4 TTL of zero (Linux's IP_TTL is 1..255) */
	if (tx && tx->ttl == 0 && v4)
		return -EINVAL;
	err = udp_src_for(sk, daddr, &src);
	if (err)
		return err;
	if (saddr) {
		if (!inet_addr_is_any(&sk->saddr6) && !inet_addr_eq(saddr, &sk->saddr6))
			return -EINVAL;		/* bound to another address */
		if (inet_addr_is4(saddr) != v4)
			return -EINVAL;
		if (!stack_is_local_addr(st, saddr))
			return -EADDRNOTAVAIL;
		src = saddr;
	}
	if (!sk->sport) {
		static const union inet_addr any6;

		err = udp_bind(sk, sk->family == AF_INET6 ? &any6 : &sk->saddr6, 0);
		if (err)
			return err;
	}
	if (v4) {
		err = ip_route_output(st, daddr->w[3], src->w[3], &rt);
		inet_addr_set4(&rsrc, rt.saddr);
	} else {
		err = ip6_route_output(st, daddr->b, src->b, &rt6);
		inet_addr_set6(&rsrc, rt6.saddr);
	}
	if (err)
		return err;

	pkb = udp_build(st, sk, buf, len, dport, &rsrc, daddr);
	if (!pkb) {
		st->stats->drop.no_frame++;
		return -ENOBUFS;
	}
	/* DF clear: a datagram larger than the MTU is fragmented (RFC 1122 4.1.4
	 * leaves path MTU to the application; we do as Linux's default for UDP
	 * without IP_PMTUDISC_DO). */
	ttl = tx && tx->ttl >= 0 ? (uint8_t)tx->ttl : sk_ttl(sk, v4);
	tos = tx && tx->tos >= 0 ? (uint8_t)tx->tos : sk_tos(sk, v4);
	if (v4)
		err = ip_output(st, pkb, &rt, IPPROTO_UDP, tos, ttl, false);
	else
		err = ip6_output(st, pkb, &rt6, IPPROTO_UDP, tos, ttl, false);
	if (err)
		return err;
	STACK_INC(st, udp_tx);
	return (ssize_t)len;
}

static ssize_t udp_sendmsg(struct sock *sk, const void *buf, size_t len,
			   const union inet_addr *daddr, uint16_t dport)
{
	return udp_sendmsg_from(sk, buf, len, daddr, dport, NULL);
}

/* What the IP header of datagram pkb (from the sender from) said. */
static void udp_rxinfo(struct stack *st, const struct pkb *pkb, const union inet_addr *from,
		       const union inet_addr *to, struct sk_rxinfo *ri)
{
	const struct ip_hdr *iph = (const struct ip_hdr *)pkb_network_header(pkb);
	const struct ip6_hdr *ip6;
	struct rtable rt;

	ri->daddr = *to;
	ri->spec_dst = *to;
	if (iph->version == 6) {
		ip6 = (const struct ip6_hdr *)iph;
		ri->ttl = ip6->hop_limit;
		ri->tos = (uint8_t)(ntohl(ip6->vtc_flow) >> 20);
		return;
	}
	ri->ttl = iph->ttl;
	ri->tos = iph->tos;
	/* a broadcast is answered from our address toward the sender, as
	 * Linux's fib_compute_spec_dst() (ip_input marks an IP broadcast in
	 * a unicast frame too: a unicast datagram costs one test here) */
	if (pkb->pkt_type != PKB_HOST && !stack_is_local(st, to->w[3]) &&
	    !ip_route_output(st, from->w[3], 0, &rt))
		inet_addr_set4(&ri->spec_dst, rt.saddr);
}

/* recvmsg that also reports what the datagram's IP header said. */
static ssize_t udp_recvmsg_to(struct sock *sk, void *buf, size_t len, union inet_addr *saddr,
			      uint16_t *sport, struct sk_rxinfo *ri)
{
	union inet_addr from, to;
	const struct udp_hdr *uh;
	struct pkb *pkb;
	size_t n;
	int err;

	if (sk->err) {		/* reported once, before any data */
		err = sk->err;
		sk->err = 0;
		return err;
	}
	pkb = pkb_dequeue(&sk->rcvq);
	if (!pkb)
		return -EAGAIN;
	udp_sk(sk)->rmem -= udp_truesize(pkb);

	uh = (const struct udp_hdr *)pkb_transport_header(pkb);
	udp_pkt_addrs(pkb, &from, &to);
	if (saddr)
		*saddr = from;
	if (ri)
		udp_rxinfo(sk->stack, pkb, &from, &to, ri);
	if (sport)
		*sport = uh->source;
	/* As recvfrom(2) without MSG_TRUNC: the rest of a long datagram is lost. */
	n = pkb_len(pkb) < len ? pkb_len(pkb) : len;
	if (n)
		memcpy(buf, pkb->data, n);
	pkb_free(pkb);
	return (ssize_t)n;
}

static ssize_t udp_recvmsg(struct sock *sk, void *buf, size_t len, union inet_addr *saddr,
			   uint16_t *sport)
{
	return udp_recvmsg_to(sk, buf, len, saddr, sport, NULL);
}

static uint32_t udp_poll(struct sock *sk)
{
	uint32_t mask = SOCK_EV_OUT;

	if (!pkb_queue_empty(&sk->rcvq))
		mask |= SOCK_EV_IN;
	if (sk->err)
		mask |= SOCK_EV_ERR;
	return mask;
}

static void udp_close(struct sock *sk)
{
	struct stack *st = sk->stack;
	struct udp_sock *up = udp_sk(sk);

	if (up->hashed) {
		if (st->udp)
			udp_unhash(st->udp, sk);
		sk_port_release(st, &sk->saddr6, sk->v6only, IPPROTO_UDP, sk->sport);
		up->hashed = false;
	}
	pkb_queue_purge(&sk->rcvq);
	up->rmem = 0;
}

const struct proto udp_prot = {
	.name = "udp",
	.type = SOCK_DGRAM,
	.protocol = IPPROTO_UDP,
	.obj_size = sizeof(struct udp_sock),
	.init = udp_init_sock,
	.bind = udp_bind,
	.connect = udp_connect,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.recvmsg_to = udp_recvmsg_to,
	.sendmsg_from = udp_sendmsg_from,
	.poll = udp_poll,
	.close = udp_close,
};

int udp_init(struct stack *st)
{
	struct udp_table *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* Start the ephemeral cursor at a place that depends on the queue and
	 * the start time (RFC 6056 3.1), so a restarted daemon does not reuse
	 * the last run's ports.  Workers never collide: each takes only the
	 * ports it owns. */
	t->next_ephemeral = (uint16_t)(UDP_EPHEMERAL_LO +
				       (uint32_t)(st->now / 1000u +
						  (st->dev ? st->dev->queue_id * 97u : 0u)) %
					       (UDP_EPHEMERAL_HI - UDP_EPHEMERAL_LO + 1));
	st->udp = t;
	err = inet_add_protocol(st, IPPROTO_UDP, &udp_protocol);
	if (err) {
		st->udp = NULL;
		free(t);
	}
	return err;
}

void udp_fini(struct stack *st)
{
	/* Sockets are closed by sock_fini() first (see inet_fini()). */
	free(st->udp);
	st->udp = NULL;
}
