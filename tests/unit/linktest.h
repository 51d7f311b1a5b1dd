/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the Ethernet, ARP and neighbour tests: a stack with
 * only the link layer (harness core + eth_init + neigh_init), ARP frames
 * built with <skiff/proto/{eth,arp}.h>, and transmitted frames compared
 * byte for byte.
 * Header-only (static functions) so it adds nothing to other tests' links.
 */
#ifndef SKIFF_TEST_LINKTEST_H
#define SKIFF_TEST_LINKTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <skiff/proto/arp.h>
#include <skiff/proto/eth.h>

#include "core/clock.h"
#include "core/netdev.h"
#include "core/pkb.h"
#include "harness.h"
#include "link/eth.h"
#include "link/neigh.h"

#define IP4(a, b, c, d) ((uint32_t)htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d)))

static const uint8_t L_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t L_ZERO[6] = { 0 };
static const uint8_t L_OTHER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t L_NEW_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x04 };

static struct harness lt_h;

/* The link layer alone over the harness core (no IP). */
static inline int lt_setup(void **state)
{
	if (harness_init(&lt_h, 0))
		return -1;
	if (eth_init(&lt_h.st) || neigh_init(&lt_h.st))
		return -1;
	*state = &lt_h;
	return 0;
}

static inline int lt_teardown(void **state)
{
	struct harness *h = *state;

	neigh_fini(&h->st);
	harness_fini(h);	/* asserts every frame is back in the pool */
	return 0;
}

/* Ethernet + ARP (Ethernet/IPv4), 42 bytes; addresses in network order. */
static inline size_t lt_arp_frame(uint8_t *buf, const uint8_t eth_dst[6], const uint8_t eth_src[6],
				  uint16_t op, const uint8_t sha[6], uint32_t sip,
				  const uint8_t tha[6], uint32_t tip)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct arp_eth_ipv4 *arp = (struct arp_eth_ipv4 *)(eh + 1);

	memcpy(eh->h_dest, eth_dst, ETH_ALEN);
	memcpy(eh->h_source, eth_src, ETH_ALEN);
	put_be16(&eh->h_proto, ETH_P_ARP);
	put_be16(&arp->htype, ARPHRD_ETHER_);
	put_be16(&arp->ptype, ETH_P_IP);
	arp->hlen = ETH_ALEN;
	arp->plen = 4;
	put_be16(&arp->op, op);
	memcpy(arp->sha, sha, ETH_ALEN);
	arp->spa = sip;
	memcpy(arp->tha, tha, ETH_ALEN);
	arp->tpa = tip;
	return ETH_HLEN + ARP_LEN;
}

/* The peer's reply to our request for its address. */
static inline void lt_rx_peer_reply(struct harness *h, uint32_t peer, const uint8_t peer_mac[6])
{
	uint8_t f[42];

	lt_arp_frame(f, H_MAC, peer_mac, 2, peer_mac, peer, H_MAC, H_ADDR);
	harness_rx(h, f, sizeof(f));
}

/* Pop the next transmitted frame; fail the test if there is none. */
static inline struct pkb *lt_pop(struct harness *h)
{
	struct pkb *pkb = fakedev_pop_tx(&h->fd);

	assert_non_null(pkb);
	return pkb;
}

static inline void lt_expect_no_tx(struct harness *h)
{
	assert_int_equal(h->fd.txq.len, 0);
}

/* Pop the next frame and compare it with want byte for byte; frees it. */
static inline void lt_expect_frame(struct harness *h, const uint8_t *want, size_t len)
{
	struct pkb *pkb = lt_pop(h);

	assert_int_equal(pkb_len(pkb), len);
	assert_memory_equal(pkb->data, want, len);
	pkb_free(pkb);
}

/* A fake IPv4 packet to send (data = network header): 20 bytes, seq in
 * bytes 4-5 (where the IP id lives) so tests can check order. */
static inline struct pkb *lt_ip_pkb(struct harness *h, uint16_t seq)
{
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);
	uint8_t *p;

	assert_non_null(pkb);
	assert_true(pkb_tailroom(pkb) >= 20);
	p = __pkb_put(pkb, 20);
	memset(p, 0, 20);
	p[0] = 0x45;
	put_be16(p + 4, seq);
	pkb_reset_network_header(pkb);
	return pkb;
}

/* Pop the next frame: an IPv4 frame to dst carrying seq; frees it. */
static inline void lt_expect_ip(struct harness *h, const uint8_t dst[6], uint16_t seq)
{
	struct pkb *pkb = lt_pop(h);
	const uint8_t *f = pkb->data;

	assert_int_equal(pkb_len(pkb), 14 + 20);
	assert_memory_equal(f, dst, 6);
	assert_memory_equal(f + 6, H_MAC, 6);
	assert_int_equal(f[12] << 8 | f[13], 0x0800);
	assert_int_equal(f[14 + 4] << 8 | f[14 + 5], seq);
	pkb_free(pkb);
}

/* Pop the next frame: our ARP request for tip, to eth_dst; frees it. */
static inline void lt_expect_request(struct harness *h, const uint8_t eth_dst[6], uint32_t tip)
{
	uint8_t want[42];

	lt_arp_frame(want, eth_dst, H_MAC, 1, H_MAC, H_ADDR, L_ZERO, tip);
	lt_expect_frame(h, want, sizeof(want));
}

#endif /* SKIFF_TEST_LINKTEST_H */
