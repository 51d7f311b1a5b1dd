// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Internet checksum: known vectors (RFC 1071's worked example, a real
 * IPv4 header), odd lengths and misaligned buffers against a byte-by-byte
 * reference, the UDP pseudo header, and RFC 1624 incremental updates
 * against full recomputation over seeded random data.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/csum.h"

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

/* xorshift64: reproducible pseudo-random data */
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Reference: RFC 1071 on big-endian 16-bit words, result in host order. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t pre)
{
	uint64_t sum = pre;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum as it would be stored on the wire, read back in host order. */
static uint16_t wire(uint16_t stored)
{
	return ntohs(stored);
}

static void rfc1071_example_sums_to_ddf2(void **state)
{
	/* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to dd f2 */
	const uint8_t bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = csum_fold(csum_partial(bytes, sizeof(bytes), 0));
	uint8_t out[2];

	(void)state;
	memcpy(out, &c, 2);
	assert_int_equal(out[0], 0x22);	/* ~0xddf2 */
	assert_int_equal(out[1], 0x0d);
}

static void ipv4_header_checksum_matches_known_header(void **state)
{
	uint8_t iph[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c;

	(void)state;
	assert_int_equal(ip_fast_csum(iph, 5), 0);	/* stored one is right */
	iph[10] = iph[11] = 0;
	c = ip_fast_csum(iph, 5);
	assert_int_equal(wire(c), 0xb861);
	memcpy(iph + 10, &c, 2);
	assert_int_equal(ip_fast_csum(iph, 5), 0);
	iph[8] = 0x3f;				/* TTL changed: now wrong */
	assert_int_not_equal(ip_fast_csum(iph, 5), 0);
}

static void empty_and_zero_buffers_fold_to_ffff(void **state)
{
	uint8_t z[7] = { 0 };

	(void)state;
	assert_int_equal(csum_partial(z, 0, 0), 0);
	assert_int_equal(csum_fold(0), 0xffff);
	assert_int_equal(csum_fold(csum_partial(z, sizeof(z), 0)), 0xffff);
	/* the sum passed in is carried through */
	assert_int_equal(csum_partial(z, 0, 0x1234), 0x1234);
}

static void odd_lengths_pad_the_last_byte_with_zero(void **state)
{
	const uint8_t one[] = { 0xab };
	const uint8_t three[] = { 0x01, 0x02, 0x03 };

	(void)state;
	assert_int_equal(wire(csum_fold(csum_partial(one, 1, 0))), (uint16_t)~0xab00);
	assert_int_equal(wire(csum_fold(csum_partial(three, 3, 0))), (uint16_t)~(0x0102 + 0x0300));
}

static void every_length_and_alignment_matches_reference(void **state)
{
	static uint8_t buf[2048 + 8];
	size_t len, off;

	(void)state;
	rng_seed(0x5eed);
	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)rng();
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 2048; len += (len < 100 ? 1 : 37))
			assert_int_equal(wire(csum_fold(csum_partial(buf + off, len, 0))),
					 ref_csum(buf + off, len, 0));
}

static void all_ones_data_does_not_overflow_the_accumulator(void **state)
{
	static uint8_t ff[65536];

	(void)state;
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(wire(csum_fold(csum_partial(ff, sizeof(ff), 0xffffffff))),
			 ref_csum(ff, sizeof(ff), 0xffff + 0xffff));
	assert_int_equal(wire(csum_fold(csum_partial(ff, 65535, 0))), ref_csum(ff, 65535, 0));
}

static void sums_chain_over_even_length_pieces(void **state)
{
	uint8_t buf[301];
	uint32_t s;
	size_t i;

	(void)state;
	rng_seed(7);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	s = csum_partial(buf, 100, 0);
	s = csum_partial(buf + 100, 150, s);
	s = csum_partial(buf + 250, 51, s);
	assert_int_equal(csum_fold(s), csum_fold(csum_partial(buf, sizeof(buf), 0)));
}

static void udp_checksum_with_pseudo_header_verifies_to_zero(void **state)
{
	/* 10.0.0.2:5000 -> 10.0.0.1:7, payload "hello" (odd length) */
	uint8_t udp[8 + 5] = { 0x13, 0x88, 0x00, 0x07, 0x00, 0x0d, 0x00, 0x00,
			       'h', 'e', 'l', 'l', 'o' };
	uint8_t pseudo[12] = { 10, 0, 0, 2, 10, 0, 0, 1, 0, 17, 0, 13 };
	uint32_t saddr = htonl(0x0a000002), daddr = htonl(0x0a000001);
	uint16_t c, expect;
	uint8_t all[12 + 13];

	(void)state;
	memcpy(all, pseudo, 12);
	memcpy(all + 12, udp, 13);
	expect = ref_csum(all, sizeof(all), 0);

	c = csum_tcpudp_magic(saddr, daddr, sizeof(udp), 17, csum_partial(udp, sizeof(udp), 0));
	assert_int_equal(wire(c), expect);
	memcpy(udp + 6, &c, 2);
	/* receive side: the sum over pseudo header + datagram folds to 0 */
	assert_int_equal(csum_tcpudp_magic(saddr, daddr, sizeof(udp), 17,
					   csum_partial(udp, sizeof(udp), 0)),
			 0);
	/* the unfolded variant agrees */
	assert_int_equal(csum_fold(csum_tcpudp_nofold(saddr, daddr, sizeof(udp), 17,
						      csum_partial(udp, sizeof(udp), 0))),
			 0);
}

/* Sum of buf with the 16-bit field at check_off taken as zero. */
static uint16_t full_csum(uint8_t *buf, size_t len, size_t check_off)
{
	uint16_t saved, c;

	memcpy(&saved, buf + check_off, 2);
	memset(buf + check_off, 0, 2);
	c = csum_fold(csum_partial(buf, len, 0));
	memcpy(buf + check_off, &saved, 2);
	return c;
}

static void incremental_update_equals_full_recompute(void **state)
{
	uint8_t buf[64];
	uint16_t check, old, new_, inc;
	size_t i, pos;
	int round;

	(void)state;
	rng_seed(0xc0ffee);
	for (round = 0; round < 10000; round++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		check = full_csum(buf, sizeof(buf), 10);
		memcpy(buf + 10, &check, 2);

		/* change one 16-bit word (not the checksum itself) */
		do
			pos = (rng() % (sizeof(buf) / 2)) * 2;
		while (pos == 10);
		memcpy(&old, buf + pos, 2);
		new_ = (uint16_t)rng();
		if (round % 97 == 0)
			new_ = (uint16_t)~old;	/* every bit flipped */
		memcpy(buf + pos, &new_, 2);

		inc = csum_replace2(check, old, new_);
		assert_int_equal(inc, full_csum(buf, sizeof(buf), 10));
		memcpy(buf + 10, &inc, 2);
		assert_int_equal(ip_fast_csum(buf, sizeof(buf) / 4), 0);
	}
}

/* ip_fast_csum's five-word path (ihl 5) and the general one agree with the
 * byte-wise sum for any header, all ones and all zeros included. */
static void ip_fast_csum_matches_csum_partial_for_every_ihl(void **state)
{
	uint8_t hdr[60];
	unsigned int ihl, round, i;

	(void)state;
	for (round = 0; round < 2000; round++) {
		for (i = 0; i < sizeof(hdr); i++)
			hdr[i] = round == 0 ? 0xff : round == 1 ? 0 : (uint8_t)rng();
		for (ihl = 5; ihl <= 15; ihl++)
			assert_int_equal(ip_fast_csum(hdr, ihl),
					 csum_fold(csum_partial(hdr, (size_t)ihl * 4, 0)));
	}
}

/* The pseudo-header sum equals the byte-wise sum of the pseudo-header
 * (addresses, a zero byte and the protocol, the length in two 16-bit
 * words), whatever the addresses, length and running sum. */
static void pseudo_header_sum_matches_its_bytes(void **state)
{
	uint8_t ph[14];
	uint32_t saddr, daddr, len, sum;
	unsigned int round;
	uint8_t proto;

	(void)state;
	for (round = 0; round < 20000; round++) {
		saddr = round == 0 ? 0xffffffffu : rng();
		daddr = round == 0 ? 0xffffffffu : rng();
		len = round % 3 ? rng() & 0xffff : rng();
		sum = round == 0 ? 0xffffffffu : round % 2 ? rng() : 0;
		proto = (uint8_t)(1 + rng() % 255);
		memcpy(ph, &saddr, 4);
		memcpy(ph + 4, &daddr, 4);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
		ph[12] = (uint8_t)(len >> 24);
		ph[13] = (uint8_t)(len >> 16);
		assert_int_equal(csum_tcpudp_magic(saddr, daddr, len, proto, sum),
				 csum_fold(csum_partial(ph, sizeof(ph), sum)));
	}
}

static void ttl_decrement_updates_ip_checksum_incrementally(void **state)
{
	uint8_t iph[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t old, new_, check;

	(void)state;
	memcpy(&old, iph + 8, 2);	/* TTL and protocol */
	iph[8]--;
	memcpy(&new_, iph + 8, 2);
	memcpy(&check, iph + 10, 2);
	check = csum_replace2(check, old, new_);
	memcpy(iph + 10, &check, 2);
	assert_int_equal(ip_fast_csum(iph, 5), 0);
	assert_int_equal(wire(check), 0xb961);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1071_example_sums_to_ddf2),
		cmocka_unit_test(ipv4_header_checksum_matches_known_header),
		cmocka_unit_test(empty_and_zero_buffers_fold_to_ffff),
		cmocka_unit_test(odd_lengths_pad_the_last_byte_with_zero),
		cmocka_unit_test(every_length_and_alignment_matches_reference),
		cmocka_unit_test(all_ones_data_does_not_overflow_the_accumulator),
		cmocka_unit_test(sums_chain_over_even_length_pieces),
		cmocka_unit_test(udp_checksum_with_pseudo_header_verifies_to_zero),
		cmocka_unit_test(incremental_update_equals_full_recompute),
		cmocka_unit_test(ttl_decrement_updates_ip_checksum_incrementally),
		cmocka_unit_test(ip_fast_csum_matches_csum_partial_for_every_ihl),
		cmocka_unit_test(pseudo_header_sum_matches_its_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
