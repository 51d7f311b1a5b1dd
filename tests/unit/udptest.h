/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the UDP, socket and service tests: crafting UDP frames
 * from the peer with a checksum computed here (independently of
 * core/csum.c), and taking transmitted frames apart.  Header-only (static
 * functions) so it adds nothing to the other tests' links.
 */
#ifndef SKIFF_TEST_UDPTEST_H
#define SKIFF_TEST_UDPTEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/ipv4.h>
#include <skiff/proto/udp.h>

#include "harness.h"
#include "tsum.h"

#define T_PEER_PORT	40000
#define T_ETH_HLEN	14

enum t_csum {
	T_CSUM_OK,	/* right checksum */
	T_CSUM_ZERO,	/* 0: none sent */
	T_CSUM_BAD,	/* right checksum + 1 */
};

/* One's-complement sum (host order) of the UDP pseudo header + seg. */
static inline uint16_t t_udp_sum(uint32_t saddr, uint32_t daddr, const void *seg, size_t len)
{
	uint32_t sum = 0;

	sum = t_sum(&saddr, 4, sum);
	sum = t_sum(&daddr, 4, sum);
	sum += IPPROTO_UDP;
	sum += (uint32_t)len;
	return t_fold(t_sum(seg, len, sum));
}

/* Build a UDP segment (header + payload) into seg; returns its length. */
static inline size_t t_udp_seg(uint8_t *seg, uint32_t saddr, uint32_t daddr, uint16_t sport,
			       uint16_t dport, const void *payload, size_t plen, enum t_csum mode)
{
	struct udp_hdr *uh = (struct udp_hdr *)seg;
	size_t len = sizeof(*uh) + plen;
	uint16_t c;

	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons((uint16_t)len);
	uh->check = 0;
	if (plen)
		memcpy(seg + sizeof(*uh), payload, plen);
	if (mode == T_CSUM_ZERO)
		return len;
	c = (uint16_t)~t_udp_sum(saddr, daddr, seg, len);
	if (c == 0)
		c = 0xffff;
	if (mode == T_CSUM_BAD)
		c = (uint16_t)(c + 1);
	uh->check = htons(c);
	return len;
}

/* A whole frame peer -> daddr carrying one unfragmented UDP datagram. */
static inline size_t t_udp_frame(uint8_t *buf, size_t cap, uint32_t saddr, uint32_t daddr,
				 uint16_t sport, uint16_t dport, const void *payload, size_t plen,
				 enum t_csum mode)
{
	static uint8_t seg[65536];
	static uint16_t id = 100;
	size_t slen = t_udp_seg(seg, saddr, daddr, sport, dport, payload, plen, mode);

	return harness_ip_frame(buf, cap, saddr, daddr, IPPROTO_UDP, id++, 0, seg, slen);
}

/* Send a datagram from the peer (10.0.0.2:sport) to us and run one poll. */
static inline void t_rx_udp(struct harness *h, uint32_t daddr, uint16_t sport, uint16_t dport,
			    const void *payload, size_t plen, enum t_csum mode)
{
	uint8_t frame[2048];
	size_t n = t_udp_frame(frame, sizeof(frame), H_PEER, daddr, sport, dport, payload, plen,
			       mode);

	assert_true(n > 0);
	harness_rx(h, frame, n);
}

/* A transmitted frame taken apart. */
struct t_tx {
	struct pkb *pkb;
	const uint8_t *eth;
	const struct ip_hdr *iph;
	const uint8_t *l4;	/* transport header */
	size_t l4_len;		/* IP payload length */
};

/* Pop the next transmitted frame and check its Ethernet + IPv4 framing. */
static inline int t_pop_ip(struct harness *h, struct t_tx *t)
{
	const uint8_t *d;
	size_t len, ihl, tot;

	memset(t, 0, sizeof(*t));
	t->pkb = fakedev_pop_tx(&h->fd);
	if (!t->pkb)
		return -1;
	d = t->pkb->data;
	len = pkb_len(t->pkb);
	assert_true(len >= T_ETH_HLEN + IP_HLEN);
	assert_memory_equal(((const struct eth_hdr *)d)->h_dest, H_PEER_MAC, ETH_ALEN);
	assert_memory_equal(((const struct eth_hdr *)d)->h_source, H_MAC, ETH_ALEN);
	assert_int_equal(get_be16(&((const struct eth_hdr *)d)->h_proto), ETH_P_IP);
	t->eth = d;
	t->iph = (const struct ip_hdr *)(d + T_ETH_HLEN);
	assert_int_equal(t->iph->version, 4);
	ihl = t->iph->ihl * 4u;
	tot = ntohs(t->iph->tot_len);
	assert_true(ihl >= 20 && tot >= ihl && T_ETH_HLEN + tot <= len);
	/* the header checksum is right */
	assert_int_equal(t_fold(t_sum(t->iph, ihl, 0)), 0xffff);
	t->l4 = d + T_ETH_HLEN + ihl;
	t->l4_len = tot - ihl;
	return 0;
}

static inline void t_tx_free(struct t_tx *t)
{
	pkb_free(t->pkb);
	t->pkb = NULL;
}

static inline struct sockaddr_in t_sin(uint32_t addr, uint16_t port_host)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	sin.sin_port = htons(port_host);
	return sin;
}

#endif /* SKIFF_TEST_UDPTEST_H */
