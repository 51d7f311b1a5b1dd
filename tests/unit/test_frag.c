// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 fragmentation on output (RFC 791 3.2): the fragments of 4000- and
 * 8000-byte payloads on the wire (offsets, MF, lengths, checksums, one id),
 * reassembled back by our own reassembly to the same bytes; a smaller
 * route MTU; DF refused with EMSGSIZE; the exact-MTU datagram unfragmented;
 * running out of frames.
 */
#include "iptest.h"

#include <errno.h>

#define MAX_FRAGS 64

static uint8_t dgram[T_MAX_DGRAM];
static uint8_t frames[MAX_FRAGS][T_FRAME_MAX];
static size_t frame_len[MAX_FRAGS];


/* A big-pool pkb holding dgram[0, len). */
static struct pkb *big_pkb(struct harness *h, uint32_t len)
{
	struct pkb *pkb = pkb_pool_get(h->st.big_pool);

	assert_non_null(pkb);
	memcpy(pkb_put(pkb, len), dgram, len);
	return pkb;
}

/* Pop every transmitted frame; returns how many. */
static int pop_all(struct harness *h)
{
	int n = 0;

	while (n < MAX_FRAGS && (frame_len[n] = t_pop(h, frames[n], T_FRAME_MAX)))
		n++;
	assert_int_equal(t_txq_len(h), 0);
	return n;
}

/*
 * Check the fragments of a len-byte payload sent with mtu: each a valid
 * datagram to the peer, the same id, offsets following each other, MF on
 * all but the last, slices a multiple of 8 but the last, bytes in place.
 */
static void check_fragments(int n, uint32_t len, uint32_t mtu)
{
	uint32_t off = 0, slice = (mtu - 20) & ~7u;
	uint16_t id = t_get16(frames[0] + T_ETH + 4);

	assert_int_equal(n, (len + slice - 1) / slice);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = t_check_ip_out(frames[i], frame_len[i], H_PEER, T_PROTO);
		uint16_t fo = t_get16(ip + 6);
		uint32_t plen = (uint32_t)frame_len[i] - T_ETH - 20;

		assert_int_equal(t_get16(ip + 4), id);
		assert_int_equal((fo & 0x1fff) * 8u, off);
		assert_int_equal(!!(fo & 0x2000), i != n - 1);
		assert_int_equal(fo & 0x4000, 0);
		assert_int_equal(plen, i != n - 1 ? slice : len - off);
		assert_true(20 + plen <= mtu);
		assert_memory_equal(ip + 20, dgram + off, plen);
		off += plen;
	}
	assert_int_equal(off, len);
}

/* Send our fragments back to ourselves (as if the peer sent them). */
static void reflect(struct harness *h, int n, int reverse)
{
	for (int k = 0; k < n; k++) {
		int i = reverse ? n - 1 - k : k;
		uint8_t *f = frames[i], *ip = f + T_ETH;
		uint32_t a = H_PEER, b = H_ADDR;

		memcpy(f, H_MAC, 6);
		memcpy(f + 6, H_PEER_MAC, 6);
		memcpy(ip + 12, &a, 4);
		memcpy(ip + 16, &b, 4);
		t_ip_fix(ip);
		harness_rx(h, f, frame_len[i]);
	}
}

static void send_and_check(struct harness *h, uint32_t len, int reverse)
{
	struct rtable rt;
	int n;

	t_pattern(dgram, len, len);
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(ip_output(&h->st, big_pkb(h, len), &rt, T_PROTO, 0, 64, false), 0);
	n = pop_all(h);
	check_fragments(n, len, 1500);
	assert_int_equal(T_STAT(h, ip_frag_created), n);
	assert_int_equal(T_STAT(h, ip_tx), 1);

	reflect(h, n, reverse);
	assert_int_equal(t_rec.calls, 1);
	assert_int_equal(t_rec.len, len);
	assert_memory_equal(t_rec.data, dgram, len);
}

static void test_frag_4000_byte_payload(void **state)
{
	send_and_check(*state, 4000, 0);
}

static void test_frag_8000_byte_payload(void **state)
{
	send_and_check(*state, 8000, 1);
}

static void test_frag_payload_in_a_frame(void **state)
{
	struct harness *h = *state;
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);
	struct rtable rt;
	int n;

	t_pattern(dgram, 1800, 5);
	memcpy(pkb_put(pkb, 1800), dgram, 1800);
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(ip_output(&h->st, pkb, &rt, T_PROTO, 0, 64, false), 0);
	n = pop_all(h);
	check_fragments(n, 1800, 1500);
	assert_int_equal(n, 2);
}

static void test_frag_follows_route_mtu(void **state)
{
	struct harness *h = *state;
	struct rtable rt;
	int n;

	t_pattern(dgram, 2000, 6);
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	rt.mtu = 576;
	assert_int_equal(ip_output(&h->st, big_pkb(h, 2000), &rt, T_PROTO, 0, 64, false), 0);
	n = pop_all(h);
	check_fragments(n, 2000, 576);	/* 552 + 552 + 552 + 344 */
	assert_int_equal(n, 4);
	reflect(h, n, 0);
	assert_int_equal(t_rec.len, 2000);
	assert_memory_equal(t_rec.data, dgram, 2000);
}

static void test_frag_df_refused_with_emsgsize(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(ip_output(&h->st, big_pkb(h, 1481), &rt, T_PROTO, 0, 64, true),
			 -EMSGSIZE);
	assert_int_equal(T_DROP(h, ip_df), 1);
	assert_int_equal(t_txq_len(h), 0);
	assert_int_equal(T_STAT(h, ip_tx), 0);
}

static void test_frag_exact_mtu_goes_whole(void **state)
{
	struct harness *h = *state;
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);
	struct rtable rt;
	const uint8_t *ip;

	t_pattern(dgram, 1480, 7);
	memcpy(pkb_put(pkb, 1480), dgram, 1480);
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(ip_output(&h->st, pkb, &rt, T_PROTO, 0, 64, true), 0);
	assert_int_equal(pop_all(h), 1);
	ip = t_check_ip_out(frames[0], frame_len[0], H_PEER, T_PROTO);
	assert_int_equal(frame_len[0], T_ETH + 1500);
	assert_int_equal(t_get16(ip + 6), 0x4000);
	assert_int_equal(T_STAT(h, ip_frag_created), 0);
}

static void test_frag_without_frames_counts_no_frame(void **state)
{
	struct harness *h = *state;
	static struct pkb *held[1024];
	struct rtable rt;
	int n = 0;

	while (n < 1024 && (held[n] = netdev_alloc_pkb(&h->fd.dev)))
		n++;
	assert_int_equal(fakedev_frames_in_use(&h->fd), n);
	t_pattern(dgram, 4000, 8);
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(ip_output(&h->st, big_pkb(h, 4000), &rt, T_PROTO, 0, 64, false),
			 -ENOBUFS);
	assert_int_equal(T_DROP(h, no_frame), 1);
	while (n)
		pkb_free(held[--n]);
	assert_int_equal(t_txq_len(h), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_frag_4000_byte_payload),
		T(test_frag_8000_byte_payload),
		T(test_frag_payload_in_a_frame),
		T(test_frag_follows_route_mtu),
		T(test_frag_df_refused_with_emsgsize),
		T(test_frag_exact_mtu_goes_whole),
		T(test_frag_without_frames_counts_no_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
