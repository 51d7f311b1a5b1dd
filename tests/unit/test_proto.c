// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The checked parse helpers of include/skiff/proto/ on crafted bytes: each
 * header whole, cut at every byte boundary (the cut copy lives in a heap
 * buffer of exactly that size, so the sanitizer build catches a read past
 * it), with bad length fields, bad data offsets and TCP options that run
 * past the header.  The bytes are written out by hand, not through the
 * structs, so a wrong struct layout shows here too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <skiff/proto/arp.h>
#include <skiff/proto/eth.h>
#include <skiff/proto/icmpv6.h>
#include <skiff/proto/ipv4.h>
#include <skiff/proto/ipv6.h>
#include <skiff/proto/tcp.h>
#include <skiff/proto/udp.h>

/* A heap copy of the first n bytes of p: reading past it is an ASan error. */
static uint8_t *cut(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

static const uint8_t eth_plain[14] = {
	0x02, 0, 0, 0, 0, 0x01,		/* destination */
	0x02, 0, 0, 0, 0, 0x02,		/* source */
	0x08, 0x00,			/* IPv4 */
};

static const uint8_t eth_tagged[18] = {
	0x02, 0, 0, 0, 0, 0x01,
	0x02, 0, 0, 0, 0, 0x02,
	0x81, 0x00,			/* 802.1Q */
	0xa0, 0x07,			/* PCP 5, VID 7 */
	0x08, 0x06,			/* ARP */
};

static void eth_untagged_header_gives_type_and_14_bytes(void **state)
{
	const struct eth_hdr *eh = NULL;
	uint16_t type, tci;
	size_t hlen;

	(void)state;
	assert_int_equal(eth_hdr_parse(eth_plain, sizeof(eth_plain), &eh, &hlen, &type, &tci),
			 PROTO_OK);
	assert_ptr_equal(eh, eth_plain);
	assert_int_equal(hlen, 14);
	assert_int_equal(type, 0x0800);
	assert_int_equal(tci, 0);
	assert_memory_equal(eh->h_source, eth_plain + 6, 6);
}

static void eth_tag_gives_inner_type_tci_and_18_bytes(void **state)
{
	const struct eth_hdr *eh;
	uint16_t type, tci;
	size_t hlen;

	(void)state;
	assert_int_equal(eth_hdr_parse(eth_tagged, sizeof(eth_tagged), &eh, &hlen, &type, &tci),
			 PROTO_OK);
	assert_int_equal(hlen, 18);
	assert_int_equal(type, 0x0806);
	assert_int_equal(tci, 0xa007);
	assert_int_equal(tci & VLAN_VID_MASK, 7);
}

static void eth_cut_anywhere_is_short(void **state)
{
	const struct eth_hdr *eh;
	uint16_t type, tci;
	size_t n, hlen;

	(void)state;
	for (n = 0; n < sizeof(eth_plain); n++) {
		uint8_t *c = cut(eth_plain, n);

		assert_int_equal(eth_hdr_parse(c, n, &eh, &hlen, &type, &tci), PROTO_SHORT);
		free(c);
	}
	for (n = 0; n < sizeof(eth_tagged); n++) {
		uint8_t *c = cut(eth_tagged, n);

		assert_int_equal(eth_hdr_parse(c, n, &eh, &hlen, &type, &tci), PROTO_SHORT);
		free(c);
	}
}

static const uint8_t arp_request[28] = {
	0x00, 0x01, 0x08, 0x00, 6, 4,	/* Ethernet, IPv4, sizes */
	0x00, 0x01,			/* request */
	0x02, 0, 0, 0, 0, 0x02,		/* sha */
	10, 0, 0, 2,			/* spa */
	0, 0, 0, 0, 0, 0,		/* tha */
	10, 0, 0, 1,			/* tpa */
};

static void arp_request_parses_with_padding_after_it(void **state)
{
	const struct arp_eth_ipv4 *arp = NULL;
	uint8_t padded[46] = { 0 };

	(void)state;
	memcpy(padded, arp_request, sizeof(arp_request));
	assert_int_equal(arp_parse(padded, sizeof(padded), &arp), PROTO_OK);
	assert_ptr_equal(arp, padded);
	assert_int_equal(get_be16(&arp->op), ARPOP_REQUEST_);
	assert_memory_equal(&arp->spa, arp_request + 14, 4);
	assert_memory_equal(&arp->tpa, arp_request + 24, 4);
}

static void arp_cut_anywhere_is_short(void **state)
{
	const struct arp_eth_ipv4 *arp;

	(void)state;
	for (size_t n = 0; n < sizeof(arp_request); n++) {
		uint8_t *c = cut(arp_request, n);

		assert_int_equal(arp_parse(c, n, &arp), PROTO_SHORT);
		free(c);
	}
}

static void arp_other_than_ethernet_ipv4_request_or_reply_is_format(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{ 1, 6 },	/* htype IEEE 802 */
		{ 2, 0x86 },	/* ptype IPv6 */
		{ 4, 8 },	/* hardware size */
		{ 5, 16 },	/* protocol size */
		{ 7, 0 },	/* op 0 */
		{ 7, 3 },	/* op RARP request */
	};
	const struct arp_eth_ipv4 *arp;
	uint8_t p[28];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(p, arp_request, sizeof(p));
		p[bad[i].off] = bad[i].val;
		assert_int_equal(arp_parse(p, sizeof(p), &arp), PROTO_FORMAT);
	}
	memcpy(p, arp_request, sizeof(p));
	p[7] = 2;	/* reply */
	assert_int_equal(arp_parse(p, sizeof(p), &arp), PROTO_OK);
}

/* IHL 6: one option word (NOP NOP NOP EOL); tot_len 100, more than given. */
static const uint8_t ip_opts[24] = {
	0x46, 0x00, 0x00, 100, 0x12, 0x34, 0x40, 0x00, 64, 17, 0, 0,
	10, 0, 0, 2, 10, 0, 0, 1,
	1, 1, 1, 0,
};

static void ipv4_header_with_options_gives_ihl_fields_not_tot_len(void **state)
{
	const struct ip_hdr *iph = NULL;
	size_t hlen;

	(void)state;
	assert_int_equal(ip_hdr_parse(ip_opts, sizeof(ip_opts), &iph, &hlen), PROTO_OK);
	assert_ptr_equal(iph, ip_opts);
	assert_int_equal(hlen, 24);
	assert_int_equal(iph->version, 4);
	assert_int_equal(iph->protocol, 17);
	assert_int_equal(iph->ttl, 64);
	assert_int_equal(get_be16(&iph->tot_len), 100);
	assert_int_equal(get_be16(&iph->id), 0x1234);
	assert_int_equal(get_be16(&iph->frag_off), IP_DF);
	assert_memory_equal(&iph->saddr, ip_opts + 12, 4);
	assert_memory_equal(&iph->daddr, ip_opts + 16, 4);
}

static void ipv4_cut_is_short_then_bad_ihl(void **state)
{
	const struct ip_hdr *iph;
	size_t hlen;

	(void)state;
	for (size_t n = 0; n < sizeof(ip_opts); n++) {
		uint8_t *c = cut(ip_opts, n);

		/* the fixed header cut: short; the options cut: IHL past the bytes */
		assert_int_equal(ip_hdr_parse(c, n, &iph, &hlen),
				 n < IP_HLEN ? PROTO_SHORT : PROTO_HLEN);
		free(c);
	}
}

static void ipv4_bad_version_or_ihl_is_refused(void **state)
{
	const struct ip_hdr *iph;
	uint8_t p[60] = { 0 };
	size_t hlen;

	(void)state;
	memcpy(p, ip_opts, sizeof(ip_opts));
	p[0] = 0x65;	/* version 6 */
	assert_int_equal(ip_hdr_parse(p, sizeof(p), &iph, &hlen), PROTO_VERSION);
	p[0] = 0x05;	/* version 0 */
	assert_int_equal(ip_hdr_parse(p, sizeof(p), &iph, &hlen), PROTO_VERSION);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		p[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(ip_hdr_parse(p, sizeof(p), &iph, &hlen), PROTO_HLEN);
	}
	p[0] = 0x4f;	/* IHL 15: 60 bytes */
	assert_int_equal(ip_hdr_parse(p, 59, &iph, &hlen), PROTO_HLEN);
	assert_int_equal(ip_hdr_parse(p, 60, &iph, &hlen), PROTO_OK);
	assert_int_equal(hlen, IP_MAX_HLEN);
}

/* IPv6 2001:db8::2 -> 2001:db8::1, traffic class 0xb8, flow 0x12345, UDP,
 * payload length 1000 (more than given: a quote). */
static const uint8_t ip6_fixed[40] = {
	0x6b, 0x81, 0x23, 0x45, 0x03, 0xe8, 17, 64,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

static void ipv6_header_gives_fields_not_payload_length_check(void **state)
{
	const struct ip6_hdr *ip6 = NULL;

	(void)state;
	assert_int_equal(ip6_hdr_parse(ip6_fixed, sizeof(ip6_fixed), &ip6), PROTO_OK);
	assert_ptr_equal(ip6, ip6_fixed);
	assert_int_equal(get_be32(&ip6->vtc_flow), 0x6b812345);
	assert_int_equal(get_be16(&ip6->plen), 1000);
	assert_int_equal(ip6->nexthdr, SKIFF_NH_UDP);
	assert_int_equal(ip6->hop_limit, 64);
	assert_memory_equal(ip6->saddr, ip6_fixed + 8, 16);
	assert_memory_equal(ip6->daddr, ip6_fixed + 24, 16);
}

static void ipv6_cut_is_short_other_version_is_refused(void **state)
{
	const struct ip6_hdr *ip6;
	uint8_t p[40];

	(void)state;
	for (size_t n = 0; n < sizeof(ip6_fixed); n++) {
		uint8_t *c = cut(ip6_fixed, n);

		assert_int_equal(ip6_hdr_parse(c, n, &ip6), PROTO_SHORT);
		free(c);
	}
	memcpy(p, ip6_fixed, sizeof(p));
	for (unsigned int v = 0; v < 16; v++) {
		p[0] = (uint8_t)(v << 4 | (p[0] & 0x0f));
		assert_int_equal(ip6_hdr_parse(p, sizeof(p), &ip6), v == 6 ? PROTO_OK : PROTO_VERSION);
	}
}

/* Hop-by-hop (8 bytes) -> destination options (hdrlen 1: 16 bytes) ->
 * fragment (8 bytes, offset 0, M) -> UDP. */
static const uint8_t ip6_chain[32] = {
	SKIFF_NH_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
	SKIFF_NH_FRAGMENT, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	SKIFF_NH_UDP, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
};

static void ipv6_extension_chain_walks_header_by_header(void **state)
{
	uint8_t nh = SKIFF_NH_HOPOPTS;
	size_t off = 0;

	(void)state;
	assert_int_equal(ip6_ext_next(ip6_chain, sizeof(ip6_chain), &off, &nh), PROTO_OK);
	assert_int_equal(nh, SKIFF_NH_DSTOPTS);
	assert_int_equal(off, 8);
	assert_int_equal(ip6_ext_next(ip6_chain, sizeof(ip6_chain), &off, &nh), PROTO_OK);
	assert_int_equal(nh, SKIFF_NH_FRAGMENT);
	assert_int_equal(off, 24);
	/* the fragment header is 8 bytes whatever its second byte says */
	assert_int_equal(ip6_ext_next(ip6_chain, sizeof(ip6_chain), &off, &nh), PROTO_OK);
	assert_int_equal(nh, SKIFF_NH_UDP);
	assert_int_equal(off, 32);
}

static void ipv6_extension_header_cut_or_too_long_is_short(void **state)
{
	static const size_t ends[] = { 8, 24, 32 };	/* where each header ends */

	(void)state;
	for (size_t n = 0; n <= sizeof(ip6_chain); n++) {
		uint8_t *c = cut(ip6_chain, n);
		uint8_t nh = SKIFF_NH_HOPOPTS;
		size_t off = 0, whole = 0;

		while (whole < 3 && ends[whole] <= n)
			whole++;
		for (size_t i = 0; i < whole; i++)
			assert_int_equal(ip6_ext_next(c, n, &off, &nh), PROTO_OK);
		if (whole < 3) {
			size_t before = off;

			assert_int_equal(ip6_ext_next(c, n, &off, &nh), PROTO_SHORT);
			assert_int_equal(off, before);
		}
		free(c);
	}
	/* an offset already past the bytes */
	{
		uint8_t nh = SKIFF_NH_DSTOPTS;
		size_t off = sizeof(ip6_chain) + 1;

		assert_int_equal(ip6_ext_next(ip6_chain, sizeof(ip6_chain), &off, &nh), PROTO_SHORT);
	}
}

/* After an NS: a source link-layer address option (8 bytes), then an
 * unknown option of length 2 (16 bytes). */
static const uint8_t nd_opts[24] = {
	SKIFF_ND_OPT_SOURCE_LLADDR, 1, 0x02, 0, 0, 0, 0, 0x02,
	200, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static void nd_options_walk_gives_type_length_and_place(void **state)
{
	struct nd_opt o;
	size_t off = 0;

	(void)state;
	assert_int_equal(nd_opt_next(nd_opts, sizeof(nd_opts), &off, &o), PROTO_OK);
	assert_int_equal(o.type, SKIFF_ND_OPT_SOURCE_LLADDR);
	assert_int_equal(o.len, 8);
	assert_ptr_equal(o.p, nd_opts);
	assert_int_equal(off, 8);
	assert_int_equal(nd_opt_next(nd_opts, sizeof(nd_opts), &off, &o), PROTO_OK);
	assert_int_equal(o.type, 200);
	assert_int_equal(o.len, 16);
	assert_int_equal(off, 24);
}

static void nd_option_cut_zero_or_too_long_is_invalid(void **state)
{
	uint8_t p[24];
	struct nd_opt o;
	size_t off;

	(void)state;
	/* cut anywhere inside the second option: its length runs past */
	for (size_t n = 9; n < sizeof(nd_opts); n++) {
		uint8_t *c = cut(nd_opts, n);

		off = 8;
		assert_int_equal(nd_opt_next(c, n, &off, &o), n - 8 < 2 ? PROTO_SHORT : PROTO_LEN);
		assert_int_equal(off, 8);
		free(c);
	}
	memcpy(p, nd_opts, sizeof(p));
	p[1] = 0;	/* RFC 4861 4.6: length 0 */
	off = 0;
	assert_int_equal(nd_opt_next(p, sizeof(p), &off, &o), PROTO_LEN);
	p[1] = 4;	/* 32 bytes in 24 */
	assert_int_equal(nd_opt_next(p, sizeof(p), &off, &o), PROTO_LEN);
	p[1] = 3;	/* exactly the 24 bytes */
	assert_int_equal(nd_opt_next(p, sizeof(p), &off, &o), PROTO_OK);
	assert_int_equal(off, 24);
}

/* UDP 1234 -> 53, length 12: four bytes of data. */
static const uint8_t udp_dgram[12] = {
	0x04, 0xd2, 0x00, 0x35, 0x00, 12, 0xab, 0xcd, 'd', 'a', 't', 'a',
};

static void udp_header_gives_ports_and_length(void **state)
{
	const struct udp_hdr *uh = NULL;
	uint8_t padded[20] = { 0 };
	size_t ulen;

	(void)state;
	assert_int_equal(udp_hdr_parse(udp_dgram, sizeof(udp_dgram), &uh, &ulen), PROTO_OK);
	assert_ptr_equal(uh, udp_dgram);
	assert_int_equal(ulen, 12);
	assert_int_equal(get_be16(&uh->source), 1234);
	assert_int_equal(get_be16(&uh->dest), 53);
	assert_int_equal(get_be16(&uh->check), 0xabcd);
	/* bytes after the datagram (Ethernet padding) are not part of it */
	memcpy(padded, udp_dgram, sizeof(udp_dgram));
	assert_int_equal(udp_hdr_parse(padded, sizeof(padded), &uh, &ulen), PROTO_OK);
	assert_int_equal(ulen, 12);
}

static void udp_cut_is_short_then_bad_length(void **state)
{
	const struct udp_hdr *uh;
	size_t ulen;

	(void)state;
	for (size_t n = 0; n < sizeof(udp_dgram); n++) {
		uint8_t *c = cut(udp_dgram, n);

		assert_int_equal(udp_hdr_parse(c, n, &uh, &ulen),
				 n < UDP_HLEN ? PROTO_SHORT : PROTO_LEN);
		free(c);
	}
}

static void udp_length_below_header_or_past_payload_is_bad(void **state)
{
	const struct udp_hdr *uh;
	uint8_t p[12];
	size_t ulen;

	(void)state;
	memcpy(p, udp_dgram, sizeof(p));
	for (uint8_t l = 0; l < UDP_HLEN; l++) {
		p[5] = l;
		assert_int_equal(udp_hdr_parse(p, sizeof(p), &uh, &ulen), PROTO_LEN);
	}
	p[5] = 13;
	assert_int_equal(udp_hdr_parse(p, sizeof(p), &uh, &ulen), PROTO_LEN);
	p[4] = 0xff;
	p[5] = 0xff;
	assert_int_equal(udp_hdr_parse(p, sizeof(p), &uh, &ulen), PROTO_LEN);
	p[4] = 0;
	p[5] = UDP_HLEN;	/* header only */
	assert_int_equal(udp_hdr_parse(p, sizeof(p), &uh, &ulen), PROTO_OK);
	assert_int_equal(ulen, UDP_HLEN);
}

/* A SYN 40000 -> 80 with MSS 1460, SACK permitted, timestamps, NOP, WS 7:
 * data offset 10 (40 bytes), then 2 bytes of text. */
static const uint8_t tcp_syn[42] = {
	0x9c, 0x40, 0x00, 0x50,		/* ports */
	0x11, 0x22, 0x33, 0x44,		/* seq */
	0x00, 0x00, 0x00, 0x00,		/* ack */
	0xa0, 0x02,			/* doff 10, SYN */
	0xfa, 0xf0, 0x12, 0x34, 0x00, 0x00,
	2, 4, 0x05, 0xb4,		/* MSS 1460 */
	4, 2,				/* SACK permitted */
	8, 10, 0, 0, 0, 1, 0, 0, 0, 0,	/* timestamps 1, 0 */
	1,				/* NOP */
	3, 3, 7,			/* window scale 7 */
	'h', 'i',
};

static void tcp_header_gives_fields_and_data_offset(void **state)
{
	const struct tcp_hdr *th = NULL;
	size_t hlen;

	(void)state;
	assert_int_equal(tcp_hdr_parse(tcp_syn, sizeof(tcp_syn), &th, &hlen), PROTO_OK);
	assert_ptr_equal(th, tcp_syn);
	assert_int_equal(hlen, 40);
	assert_int_equal(get_be16(&th->source), 40000);
	assert_int_equal(get_be16(&th->dest), 80);
	assert_int_equal(get_be32(&th->seq), 0x11223344);
	assert_int_equal(get_be32(&th->ack_seq), 0);
	assert_int_equal(th->doff, 10);
	assert_int_equal(th->flags, TCPF_SYN);
	assert_int_equal(get_be16(&th->window), 0xfaf0);
	assert_int_equal(get_be16(&th->check), 0x1234);
}

static void tcp_cut_is_short_then_bad_data_offset(void **state)
{
	const struct tcp_hdr *th;
	size_t hlen;

	(void)state;
	for (size_t n = 0; n < 40; n++) {
		uint8_t *c = cut(tcp_syn, n);

		assert_int_equal(tcp_hdr_parse(c, n, &th, &hlen),
				 n < TCP_HDR_LEN ? PROTO_SHORT : PROTO_HLEN);
		free(c);
	}
	/* the header whole, the text cut: fine */
	for (size_t n = 40; n <= sizeof(tcp_syn); n++) {
		uint8_t *c = cut(tcp_syn, n);

		assert_int_equal(tcp_hdr_parse(c, n, &th, &hlen), PROTO_OK);
		assert_int_equal(hlen, 40);
		free(c);
	}
}

static void tcp_data_offset_below_5_or_past_segment_is_bad(void **state)
{
	const struct tcp_hdr *th;
	uint8_t p[60] = { 0 };
	size_t hlen;

	(void)state;
	memcpy(p, tcp_syn, sizeof(tcp_syn));
	for (uint8_t d = 0; d < 5; d++) {
		p[12] = (uint8_t)(d << 4);
		assert_int_equal(tcp_hdr_parse(p, sizeof(p), &th, &hlen), PROTO_HLEN);
	}
	p[12] = 0xf0;	/* 60 bytes */
	assert_int_equal(tcp_hdr_parse(p, 59, &th, &hlen), PROTO_HLEN);
	assert_int_equal(tcp_hdr_parse(p, 60, &th, &hlen), PROTO_OK);
	assert_int_equal(hlen, TCP_MAX_HDR_LEN);
	p[12] = 0x5f;	/* reserved bits set: ignored (RFC 9293 3.1) */
	assert_int_equal(tcp_hdr_parse(p, 20, &th, &hlen), PROTO_OK);
	assert_int_equal(hlen, TCP_HDR_LEN);
}

/* Walk len option bytes at opt; the kinds seen go to kinds[], their count returned. */
static int walk(const uint8_t *opt, size_t len, uint8_t *kinds, int max)
{
	struct tcp_opt o;
	size_t off = 0;
	int n = 0;

	while (tcp_opt_next(opt, len, &off, &o)) {
		assert_true(n < max);
		assert_true(o.p >= opt && o.p + o.len <= opt + len);
		assert_int_equal(o.p[0], o.kind);
		assert_int_equal(o.p[1], o.len);
		kinds[n++] = o.kind;
	}
	assert_int_equal(off, len);
	return n;
}

static void tcp_options_walk_skips_nops_and_gives_each_option(void **state)
{
	const uint8_t *opt = tcp_syn + TCP_HDR_LEN;
	uint8_t kinds[8];
	struct tcp_opt o;
	size_t off = 0;

	(void)state;
	assert_int_equal(walk(opt, 20, kinds, 8), 4);
	assert_int_equal(kinds[0], TCPOPT_MSS);
	assert_int_equal(kinds[1], TCPOPT_SACK_OK);
	assert_int_equal(kinds[2], TCPOPT_TS);
	assert_int_equal(kinds[3], TCPOPT_WS);
	assert_int_equal(tcp_opt_next(opt, 20, &off, &o), 1);
	assert_int_equal(o.len, 4);
	assert_int_equal(get_be16(o.p + 2), 1460);
}

static void tcp_options_cut_anywhere_give_only_whole_options(void **state)
{
	/* how many options lie wholly inside the first n option bytes */
	static const int whole[21] = {
		0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4,
	};
	uint8_t kinds[8];

	(void)state;
	for (size_t n = 0; n <= 20; n++) {
		uint8_t *c = cut(tcp_syn + TCP_HDR_LEN, n);

		assert_int_equal(walk(c, n, kinds, 8), whole[n]);
		free(c);
	}
}

static void tcp_option_past_the_header_or_too_short_ends_the_list(void **state)
{
	static const uint8_t past[] = { 2, 4, 0x05, 0xb4, 8, 10, 0, 0, 0, 1 };	/* TS 10 > 6 left */
	static const uint8_t zero[] = { 2, 4, 0x05, 0xb4, 5, 0, 1, 1 };	/* length 0 */
	static const uint8_t one[] = { 2, 4, 0x05, 0xb4, 30, 1, 1, 1 };	/* length 1 */
	static const uint8_t lone[] = { 1, 1, 1, 2 };	/* a kind without its length */
	static const uint8_t eol[] = { 4, 2, 0, 2, 4, 0x05, 0xb4, 0 };	/* EOL, then MSS */
	static const uint8_t unknown[] = { 99, 3, 0, 4, 2, 1, 1, 1 };	/* skipped by length */
	uint8_t kinds[8];

	(void)state;
	assert_int_equal(walk(past, sizeof(past), kinds, 8), 1);
	assert_int_equal(walk(zero, sizeof(zero), kinds, 8), 1);
	assert_int_equal(walk(one, sizeof(one), kinds, 8), 1);
	assert_int_equal(walk(lone, sizeof(lone), kinds, 8), 0);
	assert_int_equal(walk(eol, sizeof(eol), kinds, 8), 1);
	assert_int_equal(kinds[0], TCPOPT_SACK_OK);
	assert_int_equal(walk(unknown, sizeof(unknown), kinds, 8), 2);
	assert_int_equal(kinds[0], 99);
	assert_int_equal(kinds[1], TCPOPT_SACK_OK);
}

static void big_endian_fields_load_and_store_at_any_alignment(void **state)
{
	uint8_t b[9] = { 0 };

	(void)state;
	put_be32(b + 1, 0x01020304);
	put_be16(b + 6, 0xa0b0);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[4], 4);
	assert_int_equal(b[6], 0xa0);
	assert_int_equal(b[7], 0xb0);
	assert_int_equal(get_be32(b + 1), 0x01020304);
	assert_int_equal(get_be16(b + 6), 0xa0b0);
	assert_int_equal(b[0] | b[5] | b[8], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eth_untagged_header_gives_type_and_14_bytes),
		cmocka_unit_test(eth_tag_gives_inner_type_tci_and_18_bytes),
		cmocka_unit_test(eth_cut_anywhere_is_short),
		cmocka_unit_test(arp_request_parses_with_padding_after_it),
		cmocka_unit_test(arp_cut_anywhere_is_short),
		cmocka_unit_test(arp_other_than_ethernet_ipv4_request_or_reply_is_format),
		cmocka_unit_test(ipv4_header_with_options_gives_ihl_fields_not_tot_len),
		cmocka_unit_test(ipv4_cut_is_short_then_bad_ihl),
		cmocka_unit_test(ipv4_bad_version_or_ihl_is_refused),
		cmocka_unit_test(ipv6_header_gives_fields_not_payload_length_check),
		cmocka_unit_test(ipv6_cut_is_short_other_version_is_refused),
		cmocka_unit_test(ipv6_extension_chain_walks_header_by_header),
		cmocka_unit_test(ipv6_extension_header_cut_or_too_long_is_short),
		cmocka_unit_test(nd_options_walk_gives_type_length_and_place),
		cmocka_unit_test(nd_option_cut_zero_or_too_long_is_invalid),
		cmocka_unit_test(udp_header_gives_ports_and_length),
		cmocka_unit_test(udp_cut_is_short_then_bad_length),
		cmocka_unit_test(udp_length_below_header_or_past_payload_is_bad),
		cmocka_unit_test(tcp_header_gives_fields_and_data_offset),
		cmocka_unit_test(tcp_cut_is_short_then_bad_data_offset),
		cmocka_unit_test(tcp_data_offset_below_5_or_past_segment_is_bad),
		cmocka_unit_test(tcp_options_walk_skips_nops_and_gives_each_option),
		cmocka_unit_test(tcp_options_cut_anywhere_give_only_whole_options),
		cmocka_unit_test(tcp_option_past_the_header_or_too_short_ends_the_list),
		cmocka_unit_test(big_endian_fields_load_and_store_at_any_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
