// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ISNs and SYN cookies: SipHash-2-4 against the reference vectors of the
 * SipHash paper (key 00..0f, message 00..len-1), RFC 6528 ISNs that differ
 * per 4-tuple and advance one per 4 µs, and RFC 4987 cookies that round
 * trip every MSS of the table and the options carried in TSval, and are
 * refused for another 4-tuple, another peer ISN, a flipped bit or an age
 * beyond two counter periods.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "transport/tcp_isn.h"

#define SEC	1000000000ULL

static const uint8_t key_00_0f[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* The paper's vectors, read as little-endian 64-bit words (vectors_sip64). */
static const uint64_t sip_vectors[16] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL,
};

/* A peer at 10.0.0.2:40000 talking to us at 10.0.0.1:80 (network order). */
#define US4	0x0100000aU
#define PEER4	0x0200000aU
/* an IPv4 address as the hash takes it: mapped (core/inaddr.h) */
#define A4(x)	(&(const union inet_addr){ .w = { 0, 0, htonl(0xffff), (x) } })
#define SPORT	0x5000	/* htons(80) */
#define DPORT	0x409c	/* htons(40000) */

static const struct tcp_secret *test_secret(void)
{
	static const uint8_t k[16] = { 0x5a, 0x11, 0xff, 0x00, 0x42, 0x99, 0x13, 0x37,
				       0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04 };

	tcp_secret_set(k);
	return tcp_secret_global();
}

static void siphash_matches_paper_vectors(void **state)
{
	uint8_t msg[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < 16; i++)
		assert_true(siphash24(key_00_0f, msg, i) == sip_vectors[i]);
	/* Longer inputs: several full words plus a tail (vectors 39 and 63). */
	assert_true(siphash24(key_00_0f, msg, 39) == 0x9abfd8766a33735cULL);
	assert_true(siphash24(key_00_0f, msg, 63) == 0x958a324ceb064572ULL);
}

static void secret_set_is_what_global_returns(void **state)
{
	const struct tcp_secret *s = test_secret();

	(void)state;
	assert_int_equal(s->key[0], 0x5a);
	assert_int_equal(s->key[15], 0x04);
	assert_ptr_equal(tcp_secret_global(), s);
}

static void isn_differs_per_four_tuple(void **state)
{
	const struct tcp_secret *s = test_secret();
	uint64_t now = 5 * SEC;
	uint32_t a = tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, now);

	(void)state;
	assert_int_equal(a, tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, now));
	assert_int_not_equal(a, tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT + 1, now));
	assert_int_not_equal(a, tcp_isn(s, A4(US4), A4(PEER4), SPORT + 1, DPORT, now));
	assert_int_not_equal(a, tcp_isn(s, A4(US4), A4(PEER4 + 1), SPORT, DPORT, now));
	assert_int_not_equal(a, tcp_isn(s, A4(US4 + 1), A4(PEER4), SPORT, DPORT, now));
	/* Swapping the ends is another connection. */
	assert_int_not_equal(a, tcp_isn(s, A4(PEER4), A4(US4), DPORT, SPORT, now));
}

static void isn_differs_per_secret(void **state)
{
	static const uint8_t other[16] = { 1 };
	uint32_t a, b;

	(void)state;
	a = tcp_isn(test_secret(), A4(US4), A4(PEER4), SPORT, DPORT, SEC);
	tcp_secret_set(other);
	b = tcp_isn(tcp_secret_global(), A4(US4), A4(PEER4), SPORT, DPORT, SEC);
	assert_int_not_equal(a, b);
}

static void isn_advances_one_per_4us(void **state)
{
	const struct tcp_secret *s = test_secret();
	uint64_t t0 = 7 * SEC;
	uint32_t a = tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, t0);

	(void)state;
	assert_int_equal(tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, t0 + 3999), a);
	assert_int_equal(tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, t0 + 4000), a + 1);
	assert_int_equal(tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, t0 + 4 * 1000 * 1000), a + 1000);
	/* One second: 250000 ticks. */
	assert_int_equal(tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, t0 + SEC), a + 250000);
}

static void isn_ts_gives_the_same_isn_and_a_timestamp_offset_per_tuple(void **state)
{
	const struct tcp_secret *s = test_secret();
	uint32_t off, off2, off3;

	(void)state;
	assert_int_equal(tcp_isn_ts(s, A4(US4), A4(PEER4), SPORT, DPORT, 3 * SEC, &off),
			 tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, 3 * SEC));
	/* the offset does not move with time, and differs per connection */
	(void)tcp_isn_ts(s, A4(US4), A4(PEER4), SPORT, DPORT, 9 * SEC, &off2);
	assert_int_equal(off, off2);
	(void)tcp_isn_ts(s, A4(US4), A4(PEER4), SPORT + 1, DPORT, 3 * SEC, &off3);
	assert_int_not_equal(off, off3);
	/* nor is it the ISN's own hash */
	assert_int_not_equal(off, tcp_isn(s, A4(US4), A4(PEER4), SPORT, DPORT, 0));
}

static void cookie_round_trips_every_table_mss(void **state)
{
	static const struct {
		uint16_t offered, expect;
	} cases[] = {
		{ 1460, 1460 }, { 9000, 1460 }, { 1459, 1440 }, { 1440, 1440 }, { 1400, 1300 },
		{ 1300, 1300 }, { 1299, 536 },	{ 536, 536 },	{ 100, 536 },
	};
	const struct tcp_secret *s = test_secret();
	uint64_t now = 1000 * SEC;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcp_cookie_opts o = { .mss = cases[i].offered }, got;
		uint32_t peer_isn = 0x12345678U + (uint32_t)i * 0x01010101U;
		uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, peer_isn, &o, now);

		assert_int_equal(o.mss, cases[i].expect);
		memset(&got, 0xff, sizeof(got));
		assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, peer_isn, c, false, 0,
						  &got, now + SEC),
				 0);
		assert_int_equal(got.mss, cases[i].expect);
		assert_false(got.wscale_ok);
		assert_false(got.sack_ok);
		assert_false(got.ts_ok);
	}
}

static void cookie_survives_peer_isn_wraparound(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460 }, got;
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 0xffffffffU, &o, 3 * SEC);

	(void)state;
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 0xffffffffU, c, false, 0,
					  &got, 3 * SEC),
			 0);
	assert_int_equal(got.mss, 1460);
}

static void cookie_rejected_for_other_four_tuple(void **state)
{
	static const struct {
		const char *what;
		uint32_t us, peer;
		uint16_t sport, dport;
	} other[] = {
		{ "daddr + 1", US4, PEER4 + 1, SPORT, DPORT },
		{ "dport + 1", US4, PEER4, SPORT, DPORT + 1 },
		{ "saddr + 1", US4 + 1, PEER4, SPORT, DPORT },
		{ "sport + 1", US4, PEER4, SPORT + 1, DPORT },
	};
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460 }, got;
	uint64_t now = 500 * SEC;
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 1000, &o, now);
	size_t i;
	int err;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		err = tcp_cookie_check(s, A4(other[i].us), A4(other[i].peer), other[i].sport,
				       other[i].dport, 1000, c, false, 0, &got, now);
		if (err != -EINVAL)
			fail_msg("cookie checked for %s: %d, expected -EINVAL", other[i].what, err);
	}
}

static void cookie_rejected_for_other_peer_isn(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460 }, got;
	uint64_t now = 500 * SEC;
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 1000, &o, now);
	uint32_t d;

	(void)state;
	for (d = 1; d < 64; d++)
		assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 1000 + d, c, false, 0,
						  &got, now),
				 -EINVAL);
}

static void cookie_rejected_when_any_bit_flipped(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1440 }, got;
	uint64_t now = 500 * SEC;
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 77, &o, now);
	int bit;

	(void)state;
	for (bit = 0; bit < 32; bit++)
		assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 77, c ^ (1U << bit),
						  false, 0, &got, now),
				 -EINVAL);
	/* Blind guesses near the real one fail too. */
	for (bit = 1; bit < 4096; bit++)
		assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 77, c + (uint32_t)bit,
						  false, 0, &got, now),
				 -EINVAL);
}

static void cookie_valid_for_previous_counter_only(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460 }, got;
	uint64_t t0 = 64 * 20 * SEC;	/* the start of a counter period */
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, &o, t0);

	(void)state;
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got, t0), 0);
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 + 64 * SEC),
			 0);
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 + 128 * SEC - 1),
			 0);
	/* More than two minutes old. */
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 + 128 * SEC),
			 -EINVAL);
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 + 3600 * SEC),
			 -EINVAL);
	/* A cookie from the future (a counter not reached yet) is no good either. */
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 - 1),
			 -EINVAL);
}

static void cookie_made_late_in_a_period_lives_at_least_64s(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460 }, got;
	uint64_t t0 = 64 * 21 * SEC - 1;	/* the last ns of a period */
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, &o, t0);

	(void)state;
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 + 64 * SEC),
			 0);
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 9, c, false, 0, &got,
					  t0 + 64 * SEC + 1),
			 -EINVAL);
}

static void cookie_options_round_trip_through_tsval(void **state)
{
	const struct tcp_secret *s = test_secret();
	uint64_t now = 900 * SEC;
	int ws, sack;

	(void)state;
	for (ws = -1; ws <= 14; ws++) {
		for (sack = 0; sack <= 1; sack++) {
			struct tcp_cookie_opts o = {
				.mss = 1460,
				.wscale = ws < 0 ? 0 : (uint8_t)ws,
				.wscale_ok = ws >= 0,
				.sack_ok = sack,
				.ts_ok = true,
			};
			struct tcp_cookie_opts got;
			uint32_t base = 0x10000000U + (uint32_t)(ws + 1) * 1000U;
			uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 5, &o, now);
			uint32_t tsval = tcp_cookie_tsval(base, &o);

			/* Never ahead of the clock, less than 64 ms behind. */
			assert_false((int32_t)(tsval - base) > 0);
			assert_true(base - tsval < 64);
			assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 5, c, true,
							  tsval, &got, now),
					 0);
			assert_int_equal(got.mss, 1460);
			assert_int_equal(got.wscale_ok, ws >= 0);
			if (ws >= 0)
				assert_int_equal(got.wscale, ws);
			assert_int_equal(got.sack_ok, sack);
			assert_true(got.ts_ok);
		}
	}
}

static void cookie_tsval_clamps_wscale_to_14(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460, .wscale = 15, .wscale_ok = true }, got;
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 5, &o, SEC);

	(void)state;
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 5, c, true,
					  tcp_cookie_tsval(123456, &o), &got, SEC),
			 0);
	assert_true(got.wscale_ok);
	assert_int_equal(got.wscale, 14);
}

static void cookie_tsecr_with_ecn_bit_rejected(void **state)
{
	const struct tcp_secret *s = test_secret();
	struct tcp_cookie_opts o = { .mss = 1460 }, got;
	uint32_t c = tcp_cookie_make(s, A4(US4), A4(PEER4), SPORT, DPORT, 5, &o, SEC);
	uint32_t tsval = tcp_cookie_tsval(0x4000, &o);

	(void)state;
	assert_int_equal(tcp_cookie_check(s, A4(US4), A4(PEER4), SPORT, DPORT, 5, c, true, tsval | 0x20,
					  &got, SEC),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(siphash_matches_paper_vectors),
		cmocka_unit_test(secret_set_is_what_global_returns),
		cmocka_unit_test(isn_differs_per_four_tuple),
		cmocka_unit_test(isn_differs_per_secret),
		cmocka_unit_test(isn_ts_gives_the_same_isn_and_a_timestamp_offset_per_tuple),
		cmocka_unit_test(isn_advances_one_per_4us),
		cmocka_unit_test(cookie_round_trips_every_table_mss),
		cmocka_unit_test(cookie_survives_peer_isn_wraparound),
		cmocka_unit_test(cookie_rejected_for_other_four_tuple),
		cmocka_unit_test(cookie_rejected_for_other_peer_isn),
		cmocka_unit_test(cookie_rejected_when_any_bit_flipped),
		cmocka_unit_test(cookie_valid_for_previous_counter_only),
		cmocka_unit_test(cookie_made_late_in_a_period_lives_at_least_64s),
		cmocka_unit_test(cookie_options_round_trip_through_tsval),
		cmocka_unit_test(cookie_tsval_clamps_wscale_to_14),
		cmocka_unit_test(cookie_tsecr_with_ecn_bit_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
