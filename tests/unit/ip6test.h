/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the daemon's IPv6 tests (test_ipv6, test_ndisc): the
 * iptest.h fixture with a dedicated IPv6 address 2001:db8::1/64 and the
 * peer 2001:db8::2 already in the fake neigh6 map, IPv6 frames crafted
 * from any source, transmitted ones checked; checksums computed here the
 * slow obvious way.  Header-only (static functions).
 */
#ifndef SKIFF_TEST_IP6TEST_H
#define SKIFF_TEST_IP6TEST_H

#include "iptest.h"

#include <arpa/inet.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/ipv6.h>

#include "net/ipv6.h"

#define T_V6HLEN 40

static uint8_t our6[16], peer6[16], other6[16] __attribute__((unused));

static inline void addr6(uint8_t *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* iptest.h's fixture, with a dedicated IPv6 address too */
static inline int setup6(void **state)
{
	struct harness *h;

	setup(state);
	h = *state;
	addr6(our6, "2001:db8::1");
	addr6(peer6, "2001:db8::2");
	addr6(other6, "2001:db8::99");
	memcpy(h->cfg.addrs6[0].addr, our6, 16);
	h->cfg.addrs6[0].prefix_len = 64;
	h->cfg.addrs6[0].dedicated = true;
	h->cfg.n_addrs6 = 1;
	/* XDP learnt the peer from its Neighbor Solicitation for us */
	harness_add_neigh6(h, peer6, H_PEER_MAC);
	return 0;
}

/* RFC 8200 8.1 sum over pseudo-header + data, folded (0 when right). */
static inline uint16_t csum6(const uint8_t *src, const uint8_t *dst, uint8_t nh, const uint8_t *d,
		      size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += len + nh;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	if (len & 1)
		sum += (uint32_t)d[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Ethernet (smac -> us) + IPv6 (src -> dst, next header nh, hop limit
 * hops) + payload, whose upper-layer checksum at csum_off (if >= 0) is
 * filled in over the bytes after the extension headers of length ext.
 */
static inline size_t frame6_from(uint8_t *f, const uint8_t *smac, const uint8_t *src, const uint8_t *dst,
			  uint8_t hops, uint8_t nh, const uint8_t *payload, size_t len, size_t ext,
			  uint8_t l4, int csum_off)
{
	struct eth_hdr *eh = (struct eth_hdr *)f;
	struct ip6_hdr *ip = (struct ip6_hdr *)(eh + 1);

	memcpy(eh->h_dest, H_MAC, ETH_ALEN);
	memcpy(eh->h_source, smac, ETH_ALEN);
	put_be16(&eh->h_proto, ETH_P_IPV6);
	memset(ip, 0, T_V6HLEN);
	put_be32(&ip->vtc_flow, 6u << 28);
	put_be16(&ip->plen, (uint16_t)len);
	ip->nexthdr = nh;
	ip->hop_limit = hops;
	memcpy(ip->saddr, src, 16);
	memcpy(ip->daddr, dst, 16);
	memcpy(ip + 1, payload, len);
	if (csum_off >= 0) {
		uint8_t *u = (uint8_t *)(ip + 1) + ext;

		put_be16(u + csum_off, 0);
		put_be16(u + csum_off, csum6(src, dst, l4, u, len - ext));
	}
	return T_ETH + T_V6HLEN + len;
}

/* The same from the peer (H_PEER_MAC, peer6), hop limit 64. */
static inline size_t frame6(uint8_t *f, const uint8_t *dst, uint8_t nh, const uint8_t *payload,
		     size_t len, size_t ext, uint8_t l4, int csum_off)
{
	return frame6_from(f, H_PEER_MAC, peer6, dst, 64, nh, payload, len, ext, l4, csum_off);
}

/* A transmitted IPv6 frame us -> dst at dmac: addresses, version, length,
 * checksum.  Returns the upper-layer header. */
static inline const uint8_t *check_out6_to(const uint8_t *f, size_t n, uint8_t nh, const uint8_t *dmac,
				    const uint8_t *dst)
{
	const struct eth_hdr *eh = (const struct eth_hdr *)f;
	const struct ip6_hdr *ip = NULL;

	assert_true(n >= T_ETH);
	assert_int_equal(ip6_hdr_parse(eh + 1, n - T_ETH, &ip), PROTO_OK);
	assert_memory_equal(eh->h_dest, dmac, ETH_ALEN);
	assert_memory_equal(eh->h_source, H_MAC, ETH_ALEN);
	assert_int_equal(get_be16(&eh->h_proto), ETH_P_IPV6);
	assert_int_equal(get_be16(&ip->plen), n - T_ETH - T_V6HLEN);
	assert_int_equal(ip->nexthdr, nh);
	assert_memory_equal(ip->saddr, our6, 16);
	assert_memory_equal(ip->daddr, dst, 16);
	assert_int_equal(csum6(our6, dst, nh, (const uint8_t *)(ip + 1), n - T_ETH - T_V6HLEN), 0);
	return (const uint8_t *)(ip + 1);
}

/* The same to the peer. */
static inline const uint8_t *check_out6(const uint8_t *f, size_t n, uint8_t nh)
{
	return check_out6_to(f, n, nh, H_PEER_MAC, peer6);
}

#endif /* SKIFF_TEST_IP6TEST_H */
