/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the network-layer tests (test_ip, test_reasm, test_frag,
 * test_icmp, test_route): a stack with the peer already resolved, a test
 * IP protocol that records what it is given (datagrams and errors),
 * crafting IPv4 frames and fragments with any header field, and taking
 * transmitted frames apart.  Checksums are computed here the slow obvious
 * way, independently of core/csum.c.  Header-only (static functions).
 */
#ifndef SKIFF_TEST_IPTEST_H
#define SKIFF_TEST_IPTEST_H

#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/ipv4.h>

#include "core/clock.h"
#include "harness.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "tsum.h"

#define T_PROTO		253	/* RFC 3692 experimental: our test protocol */
#define T_ETH		14
#define T_FRAME_MAX	2048
#define T_MAX_DGRAM	70000

/* What the test protocol saw. */
struct t_rec {
	int calls;
	uint32_t len;			/* payload length given to the handler */
	uint8_t data[T_MAX_DGRAM];	/* payload */
	uint8_t iph[60];		/* the network header it saw */
	int nh_ok;			/* network_header + ihl == data */
	int err_calls;
	int err;
	uint32_t info;
	uint8_t quote[28];		/* data the err_handler saw (quoted header + 8) */
};

static struct t_rec t_rec;

static int t_proto_rcv(struct stack *st, struct pkb *pkb)
{
	const uint8_t *nh = pkb_network_header(pkb);
	uint32_t ihl = ((const struct ip_hdr *)nh)->ihl * 4u;

	(void)st;
	t_rec.calls++;
	t_rec.len = pkb_len(pkb);
	if (t_rec.len <= sizeof(t_rec.data))
		memcpy(t_rec.data, pkb->data, t_rec.len);
	memcpy(t_rec.iph, nh, ihl);
	t_rec.nh_ok = nh + ihl == pkb->data && pkb_transport_header(pkb) == pkb->data;
	pkb_free(pkb);
	return 0;
}

static void t_proto_err(struct stack *st, struct pkb *pkb, int err, uint32_t info)
{
	(void)st;
	t_rec.err_calls++;
	t_rec.err = err;
	t_rec.info = info;
	memcpy(t_rec.quote, pkb->data,
	       pkb_len(pkb) < sizeof(t_rec.quote) ? pkb_len(pkb) : sizeof(t_rec.quote));
}

static const struct net_protocol t_proto = {
	.handler = t_proto_rcv,
	.err_handler = t_proto_err,
};

/* Whole stack, peer in the neighbour map, test protocol registered. */
static inline void t_setup(struct harness *h)
{
	memset(&t_rec, 0, sizeof(t_rec));
	assert_int_equal(harness_init(h, 1), 0);
	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	assert_int_equal(inet_add_protocol(&h->st, T_PROTO, &t_proto), 0);
}

static inline void t_teardown(struct harness *h)
{
	harness_fini(h);
}

/* cmocka fixtures shared by the IPv4 tests */
static int setup(void **state)
{
	static struct harness h;

	t_setup(&h);
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	t_teardown(*state);
	return 0;
}

/* The checksum to store (host order) over len bytes. */
static inline uint16_t t_csum(const void *p, size_t len)
{
	return (uint16_t)~t_fold(t_sum(p, len, 0));
}

/* 0 when the checksum over p (stored inside it) is right. */
static inline uint16_t t_csum_check(const void *p, size_t len)
{
	return t_csum(p, len);
}

static inline void t_put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

static inline uint16_t t_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Recompute the IPv4 header checksum of the header at ip. */
static inline void t_ip_fix(uint8_t *ip)
{
	struct ip_hdr *iph = (struct ip_hdr *)ip;

	iph->check = 0;
	put_be16(&iph->check, t_csum(ip, iph->ihl * 4u));
}

/* Ethernet(peer -> us) + IPv4 (20 bytes) + payload; returns the frame length. */
static inline size_t t_frame(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint8_t proto,
			     uint16_t id, uint16_t frag_off, const void *payload, size_t plen)
{
	size_t n = harness_ip_frame(buf, T_FRAME_MAX, saddr, daddr, proto, id, frag_off, payload,
				    plen);

	assert_true(n > 0);
	return n;
}

/* A fragment of datagram dgram (payload bytes) from the peer to us:
 * payload bytes [off, off + len), MF if more. */
static inline void t_rx_frag_from(struct harness *h, uint32_t saddr, uint8_t proto, uint16_t id,
				  const uint8_t *dgram, uint32_t off, uint32_t len, int more)
{
	uint8_t frame[T_FRAME_MAX];
	uint16_t fo = (uint16_t)(off / 8) | (more ? 0x2000 : 0);
	size_t n = t_frame(frame, saddr, H_ADDR, proto, id, fo, dgram + off, len);

	harness_rx(h, frame, n);
}

static inline void t_rx_frag(struct harness *h, uint8_t proto, uint16_t id, const uint8_t *dgram,
			     uint32_t off, uint32_t len, int more)
{
	t_rx_frag_from(h, H_PEER, proto, id, dgram, off, len, more);
}

/* Fill buf with a recognisable pattern. */
static inline void t_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 7 + seed + (i >> 8)) & 0xff);
}

/* A small deterministic PRNG (tests must not depend on libc's rand). */
static inline uint32_t t_rand(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* Next transmitted frame copied into buf (NULL-safe count of bytes), or 0. */
static inline size_t t_pop(struct harness *h, uint8_t *buf, size_t cap)
{
	struct pkb *pkb = fakedev_pop_tx(&h->fd);
	size_t n;

	if (!pkb)
		return 0;
	n = pkb_len(pkb);
	assert_true(n <= cap);
	memcpy(buf, pkb->data, n);
	pkb_free(pkb);
	return n;
}

/* Number of frames waiting in the transmit queue. */
static inline uint32_t t_txq_len(struct harness *h)
{
	return h->fd.txq.len;
}

/* Check a transmitted IPv4 frame us -> peer: Ethernet addresses and type,
 * version/IHL, header checksum, tot_len against the frame.  Returns the IP
 * header. */
static inline const uint8_t *t_check_ip_out(const uint8_t *frame, size_t n, uint32_t daddr,
					    uint8_t proto)
{
	const struct eth_hdr *eh = (const struct eth_hdr *)frame;
	const struct ip_hdr *iph = (const struct ip_hdr *)(eh + 1);

	assert_true(n >= T_ETH + IP_HLEN);
	assert_memory_equal(eh->h_dest, H_PEER_MAC, ETH_ALEN);
	assert_memory_equal(eh->h_source, H_MAC, ETH_ALEN);
	assert_int_equal(get_be16(&eh->h_proto), ETH_P_IP);
	assert_int_equal(iph->version, 4);
	assert_int_equal(iph->ihl, 5);
	assert_int_equal(t_csum_check(iph, IP_HLEN), 0);
	assert_int_equal(get_be16(&iph->tot_len), n - T_ETH);
	assert_int_equal(iph->protocol, proto);
	assert_int_equal(iph->saddr, H_ADDR);
	assert_int_equal(iph->daddr, daddr);
	return (const uint8_t *)iph;
}

#define T_DROP(h, reason) ((h)->fd.stats.drop.reason)
#define T_STAT(h, field) ((h)->fd.stats.field)

#endif /* SKIFF_TEST_IPTEST_H */
