// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815): datagrams rebuilt from fragments
 * arriving in order, in reverse, in random order; exact duplicates dropped
 * with the datagram kept, any other overlap discarding it; the timeout with
 * its ICMP time exceeded; the memory, slot and pool limits; malformed
 * fragments.  After each test every frame and big buffer is back.
 */
#include "iptest.h"

#include <errno.h>

#include "sock/inet.h"

static uint8_t dgram[T_MAX_DGRAM];


/* The datagram the test protocol got is dgram[0, len) with a header fixed up. */
static void assert_delivered(struct harness *h, uint32_t len, int calls)
{
	assert_int_equal(t_rec.calls, calls);
	assert_int_equal(t_rec.len, len);
	assert_memory_equal(t_rec.data, dgram, len);
	assert_true(t_rec.nh_ok);
	assert_int_equal(t_get16(t_rec.iph + 2), 20 + len);	/* tot_len */
	assert_int_equal(t_get16(t_rec.iph + 6), 0);		/* no MF, offset 0 */
	assert_int_equal(t_csum_check(t_rec.iph, 20), 0);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	assert_int_equal(ip_reasm_mem(&h->st), 0);
}

static void test_reasm_in_order(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 4000, 1);
	t_rx_frag(h, T_PROTO, 100, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO, 100, dgram, 1480, 1480, 1);
	assert_int_equal(t_rec.calls, 0);
	assert_int_equal(ip_reasm_count(&h->st), 1);
	t_rx_frag(h, T_PROTO, 100, dgram, 2960, 1040, 0);
	assert_delivered(h, 4000, 1);
	assert_int_equal(T_STAT(h, ip_frag_rx), 3);
	assert_int_equal(T_STAT(h, ip_reasm_ok), 1);
	assert_int_equal(T_STAT(h, ip_delivered), 1);
}

static void test_reasm_reverse_order(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 8000, 2);
	for (int i = 5; i >= 0; i--) {
		uint32_t off = (uint32_t)i * 1480;
		uint32_t len = i == 5 ? 8000 - off : 1480;

		t_rx_frag(h, T_PROTO, 200, dgram, off, len, i != 5);
	}
	assert_delivered(h, 8000, 1);
}

static void test_reasm_random_order_and_sizes(void **state)
{
	struct harness *h = *state;
	uint32_t seed = 0x5eed;

	for (int round = 0; round < 25; round++) {
		uint32_t offs[64], lens[64], total = 0;
		int n = 0;

		/* cut a datagram of random size into random multiples of 8 */
		uint32_t size = 1000 + t_rand(&seed) % 15000;

		t_pattern(dgram, size, (uint32_t)round);
		while (total < size) {
			uint32_t len = 8 * (1 + t_rand(&seed) % 185);

			if (len > size - total || n == 63)
				len = size - total;
			offs[n] = total;
			lens[n] = len;
			total += len;
			n++;
		}
		for (int i = n - 1; i > 0; i--) {	/* Fisher-Yates */
			int j = (int)(t_rand(&seed) % (uint32_t)(i + 1));
			uint32_t t;

			t = offs[i], offs[i] = offs[j], offs[j] = t;
			t = lens[i], lens[i] = lens[j], lens[j] = t;
		}
		for (int i = 0; i < n; i++)
			t_rx_frag(h, T_PROTO, (uint16_t)(300 + round), dgram, offs[i], lens[i],
				  offs[i] + lens[i] < size);
		assert_delivered(h, size, round + 1);
	}
}

static void test_reasm_exact_duplicate_dropped_datagram_kept(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 3000, 3);
	t_rx_frag(h, T_PROTO, 400, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO, 400, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO, 400, dgram, 1480, 1480, 1);
	t_rx_frag(h, T_PROTO, 400, dgram, 1480, 1480, 1);
	t_rx_frag(h, T_PROTO, 400, dgram, 2960, 40, 0);
	assert_int_equal(T_DROP(h, ip_frag_dup), 2);
	assert_delivered(h, 3000, 1);
}

static void test_reasm_overlap_discards_datagram(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 3000, 4);
	t_rx_frag(h, T_PROTO, 500, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO, 500, dgram, 1472, 1480, 1);	/* 8 bytes over */
	assert_int_equal(T_DROP(h, ip_frag_overlap), 1);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	assert_int_equal(ip_reasm_mem(&h->st), 0);
	/* what follows cannot rebuild it */
	t_rx_frag(h, T_PROTO, 500, dgram, 1480, 1480, 1);
	t_rx_frag(h, T_PROTO, 500, dgram, 2960, 40, 0);
	assert_int_equal(t_rec.calls, 0);
}

static void test_reasm_overlap_inside_a_fragment_discards_datagram(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 3000, 5);
	t_rx_frag(h, T_PROTO, 501, dgram, 1480, 1480, 1);
	t_rx_frag(h, T_PROTO, 501, dgram, 1488, 64, 1);	/* within, not equal */
	assert_int_equal(T_DROP(h, ip_frag_overlap), 1);
	assert_int_equal(ip_reasm_count(&h->st), 0);
}

static void test_reasm_fragment_frames_are_not_held(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 3000, 6);
	t_rx_frag(h, T_PROTO, 600, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO, 600, dgram, 2960, 40, 0);
	/* the payload was copied: no receive frame waits with the datagram */
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
	assert_int_equal(h->st.big_pool->n - h->st.big_pool->n_free, 1);
	assert_int_equal(ip_reasm_mem(&h->st), 1500 + 40);
	t_rx_frag(h, T_PROTO, 600, dgram, 1480, 1480, 1);
	assert_delivered(h, 3000, 1);
}

static void test_reasm_key_includes_protocol(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 2000, 7);
	t_rx_frag(h, T_PROTO, 700, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO + 1, 700, dgram, 1480, 520, 0);	/* same id, other protocol */
	assert_int_equal(ip_reasm_count(&h->st), 2);
	t_rx_frag(h, T_PROTO, 700, dgram, 1480, 520, 0);
	assert_int_equal(t_rec.calls, 1);
	assert_int_equal(ip_reasm_count(&h->st), 1);
}

/* RFC 792: time exceeded, code 1, quoting fragment zero as it arrived. */
static void test_reasm_timeout_sends_time_exceeded(void **state)
{
	struct harness *h = *state;
	uint8_t in[T_FRAME_MAX], out[T_FRAME_MAX];
	const uint8_t *ip, *icmp;
	size_t n, qlen = 576 - 20 - 8;

	t_pattern(dgram, 3000, 8);
	n = t_frame(in, H_PEER, H_ADDR, T_PROTO, 800, 0x2000, dgram, 1480);
	harness_rx(h, in, n);
	t_rx_frag(h, T_PROTO, 800, dgram, 2960, 40, 0);
	harness_advance(h, IP_REASM_TIMEOUT_NS - NSEC_PER_SEC);
	assert_int_equal(t_txq_len(h), 0);
	assert_int_equal(ip_reasm_count(&h->st), 1);

	harness_advance(h, NSEC_PER_SEC);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	assert_int_equal(ip_reasm_mem(&h->st), 0);
	assert_int_equal(T_DROP(h, ip_frag_timeout), 1);
	n = t_pop(h, out, sizeof(out));
	ip = t_check_ip_out(out, n, H_PEER, IPPROTO_ICMP);
	assert_int_equal(n, T_ETH + 20 + 8 + qlen);
	assert_int_equal(ip[1], 0xc0);	/* internetwork control precedence */
	icmp = ip + 20;
	assert_int_equal(icmp[0], ICMP_TIME_EXCEEDED);
	assert_int_equal(icmp[1], ICMP_EXC_FRAGTIME);
	assert_int_equal(t_csum_check(icmp, 8 + qlen), 0);
	assert_memory_equal(icmp + 4, "\0\0\0\0", 4);
	assert_memory_equal(icmp + 8, in + T_ETH, qlen);	/* fragment zero, verbatim */
	assert_int_equal(t_txq_len(h), 0);
}

static void test_reasm_timeout_without_first_fragment_is_silent(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, 3000, 9);
	t_rx_frag(h, T_PROTO, 900, dgram, 1480, 1480, 1);
	harness_advance(h, IP_REASM_TIMEOUT_NS);
	assert_int_equal(T_DROP(h, ip_frag_timeout), 1);
	assert_int_equal(t_txq_len(h), 0);
	assert_int_equal(ip_reasm_count(&h->st), 0);
}

/* The fixture's stack again, with reassembly's limits set (0: default). */
static void restart_with(struct harness *h, uint32_t max_bytes, uint32_t timeout_s)
{
	harness_fini(h);
	memset(&t_rec, 0, sizeof(t_rec));
	assert_int_equal(harness_init(h, 0), 0);
	h->cfg.reasm_max_bytes = max_bytes;
	h->cfg.reasm_timeout_s = timeout_s;
	assert_int_equal(inet_init(&h->st), 0);
	h->inet = 1;
	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	assert_int_equal(inet_add_protocol(&h->st, T_PROTO, &t_proto), 0);
}

/* skiffd --frag-timeout 2: the datagram goes at 2 s, not at the default 30. */
static void test_reasm_configured_timeout(void **state)
{
	struct harness *h = *state;

	restart_with(h, 0, 2);

	t_pattern(dgram, 3000, 14);
	t_rx_frag(h, T_PROTO, 1100, dgram, 1480, 1480, 1);
	harness_advance(h, 2 * NSEC_PER_SEC - 1);
	assert_int_equal(ip_reasm_count(&h->st), 1);
	harness_advance(h, 1);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	assert_int_equal(T_DROP(h, ip_frag_timeout), 1);
}

static void test_reasm_memory_limit(void **state)
{
	struct harness *h = *state;

	restart_with(h, 2000, 0);	/* reassembly may hold 2000 bytes */

	t_pattern(dgram, 1600, 10);
	t_rx_frag(h, T_PROTO, 1000, dgram, 0, 1480, 1);		/* A: 1500 held */
	assert_int_equal(ip_reasm_mem(&h->st), 1500);
	t_rx_frag(h, T_PROTO, 1001, dgram, 0, 1480, 1);		/* B: over the limit */
	assert_int_equal(T_DROP(h, ip_frag_mem), 1);
	assert_int_equal(ip_reasm_count(&h->st), 1);
	t_rx_frag(h, T_PROTO, 1000, dgram, 1480, 120, 0);	/* A completes */
	assert_delivered(h, 1600, 1);
	/* the memory is free again: B fits now */
	t_rx_frag(h, T_PROTO, 1001, dgram, 0, 1480, 1);
	t_rx_frag(h, T_PROTO, 1001, dgram, 1480, 120, 0);
	assert_delivered(h, 1600, 2);
	assert_int_equal(T_DROP(h, ip_frag_mem), 1);
}

/* Datagrams under reassembly are bounded by the slots and the big pool. */
/* Another sender on the harness's subnet: 10.0.0.(100 + i). */
static uint32_t t_sender(uint32_t i)
{
	return htonl(0x0a000064 + i);
}

static void test_reasm_one_sender_gets_a_quarter_of_the_slots(void **state)
{
	struct harness *h = *state;

	assert_true(h->st.big_pool->n_free >= IP_REASM_PER_SOURCE + 2);
	t_pattern(dgram, 1600, 11);
	for (uint32_t i = 0; i < IP_REASM_PER_SOURCE; i++)
		t_rx_frag(h, T_PROTO, (uint16_t)(2000 + i), dgram, 0, 1480, 1);
	assert_int_equal(ip_reasm_count(&h->st), IP_REASM_PER_SOURCE);
	/* its next datagram waits its turn; another sender's is taken */
	t_rx_frag(h, T_PROTO, 3000, dgram, 0, 1480, 1);
	assert_int_equal(T_DROP(h, ip_frag_source_limit), 1);
	t_rx_frag_from(h, t_sender(1), T_PROTO, 3000, dgram, 0, 1480, 1);
	t_rx_frag_from(h, t_sender(1), T_PROTO, 3000, dgram, 1480, 120, 0);
	assert_int_equal(t_rec.calls, 1);
	assert_memory_equal(t_rec.data, dgram, 1600);
	/* those already started still complete */
	t_rx_frag(h, T_PROTO, 2000, dgram, 1480, 120, 0);
	assert_int_equal(t_rec.calls, 2);
	assert_int_equal(ip_reasm_count(&h->st), IP_REASM_PER_SOURCE - 1);
	/* the rest time out (time exceeded, rate limited per destination) */
	harness_advance(h, IP_REASM_TIMEOUT_NS);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	assert_int_equal(T_DROP(h, ip_frag_timeout), IP_REASM_PER_SOURCE - 1);
	fakedev_purge(&h->fd);
}

static void test_reasm_full_table_evicts_the_oldest_datagram(void **state)
{
	struct harness *h = *state;
	uint32_t limit = h->st.big_pool->n_free < IP_REASM_SLOTS ? h->st.big_pool->n_free
								 : IP_REASM_SLOTS;
	uint32_t i;

	t_pattern(dgram, 1600, 13);
	/* many senders, a few unfinished datagrams each, a millisecond apart */
	for (i = 0; i < limit; i++) {
		t_rx_frag_from(h, t_sender(i / 4), T_PROTO, (uint16_t)(2000 + i), dgram, 0, 1480, 1);
		harness_advance(h, 1000000);
	}
	assert_int_equal(ip_reasm_count(&h->st), limit);
	/* a new datagram still gets through: the oldest (id 2000) gives way */
	t_rx_frag_from(h, t_sender(200), T_PROTO, 3000, dgram, 0, 1480, 1);
	t_rx_frag_from(h, t_sender(200), T_PROTO, 3000, dgram, 1480, 120, 0);
	assert_int_equal(t_rec.calls, 1);
	assert_memory_equal(t_rec.data, dgram, 1600);
	assert_int_equal(T_DROP(h, ip_frag_evicted), 1);
	assert_int_equal(T_DROP(h, ip_frag_mem), 0);
	t_rx_frag_from(h, t_sender(0), T_PROTO, 2001, dgram, 1480, 120, 0); /* kept */
	assert_int_equal(t_rec.calls, 2);
	t_rx_frag_from(h, t_sender(0), T_PROTO, 2000, dgram, 1480, 120, 0); /* evicted */
	assert_int_equal(t_rec.calls, 2);
	harness_advance(h, IP_REASM_TIMEOUT_NS);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	fakedev_purge(&h->fd);
}

static void test_reasm_bad_fragments(void **state)
{
	struct harness *h = *state;

	t_pattern(dgram, T_MAX_DGRAM, 12);
	t_rx_frag(h, T_PROTO, 4000, dgram, 0, 100, 1);		/* MF, not 8n */
	assert_int_equal(T_DROP(h, ip_frag_bad), 1);
	t_rx_frag(h, T_PROTO, 4001, dgram, 65528, 16, 0);	/* ends past 65535 */
	assert_int_equal(T_DROP(h, ip_frag_bad), 2);
	t_rx_frag(h, T_PROTO, 4002, dgram, 8, 0, 1);		/* empty */
	assert_int_equal(T_DROP(h, ip_frag_bad), 3);
	assert_int_equal(ip_reasm_count(&h->st), 0);

	/* a fragment past the known end discards the datagram */
	t_rx_frag(h, T_PROTO, 4003, dgram, 1480, 100, 0);
	t_rx_frag(h, T_PROTO, 4003, dgram, 2000, 80, 1);
	assert_int_equal(T_DROP(h, ip_frag_bad), 4);
	assert_int_equal(ip_reasm_count(&h->st), 0);

	/* two last fragments that disagree */
	t_rx_frag(h, T_PROTO, 4004, dgram, 1480, 100, 0);
	t_rx_frag(h, T_PROTO, 4004, dgram, 2960, 100, 0);
	assert_int_equal(T_DROP(h, ip_frag_bad), 5);
	assert_int_equal(ip_reasm_count(&h->st), 0);

	/* a last fragment ending before data already received */
	t_rx_frag(h, T_PROTO, 4005, dgram, 2960, 80, 1);
	t_rx_frag(h, T_PROTO, 4005, dgram, 1480, 100, 0);
	assert_int_equal(T_DROP(h, ip_frag_bad), 6);
	assert_int_equal(ip_reasm_count(&h->st), 0);
	assert_int_equal(t_rec.calls, 0);
}

static void test_reasm_largest_datagram(void **state)
{
	struct harness *h = *state;
	uint32_t size = 65535 - 20, off;

	t_pattern(dgram, size, 13);
	for (off = 0; off < size; off += 1480) {
		uint32_t len = size - off > 1480 ? 1480 : size - off;

		t_rx_frag(h, T_PROTO, 5000, dgram, off, len, off + len < size);
	}
	assert_delivered(h, size, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reasm_in_order),
		T(test_reasm_reverse_order),
		T(test_reasm_random_order_and_sizes),
		T(test_reasm_exact_duplicate_dropped_datagram_kept),
		T(test_reasm_overlap_discards_datagram),
		T(test_reasm_overlap_inside_a_fragment_discards_datagram),
		T(test_reasm_fragment_frames_are_not_held),
		T(test_reasm_key_includes_protocol),
		T(test_reasm_timeout_sends_time_exceeded),
		T(test_reasm_timeout_without_first_fragment_is_silent),
		T(test_reasm_configured_timeout),
		T(test_reasm_memory_limit),
		T(test_reasm_one_sender_gets_a_quarter_of_the_slots),
		T(test_reasm_full_table_evicts_the_oldest_datagram),
		T(test_reasm_bad_fragments),
		T(test_reasm_largest_datagram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
