// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP byte buffers: streams across chunk boundaries, pool growth and
 * exhaustion, and the out-of-order queue in every overlap configuration
 * (before, after, adjacent, inside, covering, duplicate, gap filling),
 * its byte and range limits, drain and SACK blocks, across the 2^32
 * sequence wrap, and against a byte-map model on seeded random segments.
 * Every chunk is back in the pool after each test (the teardown checks).
 *
 * Payload bytes are a function of their sequence number, so any byte read
 * back can be checked against where it claims to be.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/csum.h"
#include "core/fmap.h"
#include "transport/tcp_buf.h"

#define POOL_MAX	4096

static uint8_t pat_byte(uint32_t seq)
{
	return (uint8_t)(seq * 7 + (seq >> 8) * 13 + (seq >> 16));
}

static void pat(uint32_t seq, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat_byte(seq + (uint32_t)i);
}

static int setup(void **state)
{
	struct tcp_chunk_pool *p = calloc(1, sizeof(*p));

	if (!p || tcp_chunk_pool_init(p, POOL_MAX))
		return -1;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct tcp_chunk_pool *p = *state;

	assert_int_equal(tcp_chunk_pool_in_use(p), 0);
	assert_int_equal(p->n_free, p->n_total);
	tcp_chunk_pool_fini(p);
	free(p);
	return 0;
}

/* Append the pattern for [seq, seq + len) to s; all of it must fit. */
static void append_pat(struct tcp_chunk_pool *p, struct tcp_stream *s, uint32_t seq, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	pat(seq, buf, len);
	assert_int_equal(tcp_stream_append(p, s, buf, len), len);
	free(buf);
}

/* The stream holds exactly the pattern for [seq, seq + len). */
static void assert_stream_pat(const struct tcp_stream *s, uint32_t seq, size_t len)
{
	uint8_t *got = malloc(len + 1), *want = malloc(len + 1);

	assert_non_null(got);
	assert_non_null(want);
	assert_int_equal(s->len, len);
	pat(seq, want, len);
	assert_int_equal(tcp_stream_peek(s, 0, got, len + 1), len);
	assert_memory_equal(got, want, len);
	free(got);
	free(want);
}

static int ooo_insert_pat(struct tcp_chunk_pool *p, struct tcp_ooo *q, uint32_t seq,
			  uint32_t len, uint32_t limit)
{
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	assert_non_null(buf);
	pat(seq, buf, len);
	ret = tcp_ooo_insert(p, q, seq, buf, len, limit);
	free(buf);
	return ret;
}

/* The queue holds exactly these ranges (pairs start, end), lowest first. */
static void assert_blocks(const struct tcp_ooo *q, const uint32_t *ranges, int n)
{
	struct tcp_sack_block b[64];
	uint32_t bytes = 0;
	int i;

	assert_int_equal(tcp_ooo_blocks(q, b, 64), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(b[i].start, ranges[2 * i]);
		assert_int_equal(b[i].end, ranges[2 * i + 1]);
		bytes += ranges[2 * i + 1] - ranges[2 * i];
	}
	assert_int_equal(q->nsegs, n);
	assert_int_equal(q->bytes, bytes);
}

/* ---- streams ---- */

static void empty_stream_holds_no_chunk(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	uint8_t b[4] = { 0 };

	assert_int_equal(tcp_stream_append(p, &s, b, 0), 0);
	assert_int_equal(tcp_chunk_pool_in_use(p), 0);
	assert_int_equal(tcp_stream_peek(&s, 0, b, 4), 0);
	assert_int_equal(tcp_stream_read(p, &s, b, 4), 0);
	tcp_stream_drop(p, &s, 10);
	assert_null(s.head);
	assert_null(s.tail);
	assert_int_equal(s.len, 0);
}

static void append_peek_drop_across_chunk_boundaries(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	size_t total = 3 * TCP_CHUNK_DATA + 100;
	uint8_t got[TCP_CHUNK_DATA * 2], want[TCP_CHUNK_DATA * 2];

	append_pat(p, &s, 0, total);
	assert_int_equal(s.len, total);
	assert_int_equal(tcp_chunk_pool_in_use(p), 4);

	/* A peek that straddles two boundaries, from an odd offset. */
	assert_int_equal(tcp_stream_peek(&s, TCP_CHUNK_DATA - 3, got, TCP_CHUNK_DATA + 10),
			 TCP_CHUNK_DATA + 10);
	pat(TCP_CHUNK_DATA - 3, want, TCP_CHUNK_DATA + 10);
	assert_memory_equal(got, want, TCP_CHUNK_DATA + 10);

	/* Peeking past the end is short; at the end it is empty. */
	assert_int_equal(tcp_stream_peek(&s, total - 5, got, 100), 5);
	assert_int_equal(tcp_stream_peek(&s, total, got, 100), 0);

	/* Drop into the second chunk: the first goes back to the pool. */
	tcp_stream_drop(p, &s, TCP_CHUNK_DATA + 1);
	assert_int_equal(tcp_chunk_pool_in_use(p), 3);
	assert_stream_pat(&s, TCP_CHUNK_DATA + 1, total - TCP_CHUNK_DATA - 1);

	/* Peek after a drop counts from the new head. */
	assert_int_equal(tcp_stream_peek(&s, 10, got, 20), 20);
	pat(TCP_CHUNK_DATA + 11, want, 20);
	assert_memory_equal(got, want, 20);

	/* Dropping exactly to a chunk boundary frees that chunk too. */
	tcp_stream_drop(p, &s, TCP_CHUNK_DATA - 1);
	assert_int_equal(tcp_chunk_pool_in_use(p), 2);
	assert_stream_pat(&s, 2 * TCP_CHUNK_DATA, TCP_CHUNK_DATA + 100);

	/* Dropping more than held empties the stream and frees everything. */
	tcp_stream_drop(p, &s, total);
	assert_int_equal(s.len, 0);
	assert_null(s.head);
	assert_int_equal(tcp_chunk_pool_in_use(p), 0);
}

static void small_appends_fill_the_tail_chunk(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	uint32_t seq = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		append_pat(p, &s, seq, 7);
		seq += 7;
	}
	/* 7000 bytes: 4 chunks, not 1000. */
	assert_int_equal(tcp_chunk_pool_in_use(p), (7000 + TCP_CHUNK_DATA - 1) / TCP_CHUNK_DATA);
	assert_stream_pat(&s, 0, 7000);
	tcp_stream_purge(p, &s);
}

static void read_consumes_and_appending_after_drain_works(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	uint8_t got[5000], want[5000];

	append_pat(p, &s, 0, 5000);
	assert_int_equal(tcp_stream_read(p, &s, got, 3000), 3000);
	pat(0, want, 3000);
	assert_memory_equal(got, want, 3000);
	append_pat(p, &s, 5000, 1000);
	assert_int_equal(tcp_stream_read(p, &s, got, sizeof(got)), 3000);
	pat(3000, want, 3000);
	assert_memory_equal(got, want, 3000);
	assert_int_equal(s.len, 0);
	assert_int_equal(tcp_chunk_pool_in_use(p), 0);
	/* Reused after being emptied. */
	append_pat(p, &s, 42, 10);
	assert_stream_pat(&s, 42, 10);
	tcp_stream_purge(p, &s);
}

static void append_is_short_when_the_pool_runs_out(void **state)
{
	struct tcp_chunk_pool small;
	struct tcp_stream s = { 0 }, t = { 0 };
	uint8_t buf[3 * TCP_CHUNK_DATA];

	(void)state;
	assert_int_equal(tcp_chunk_pool_init(&small, 2), 0);
	pat(0, buf, sizeof(buf));
	assert_int_equal(tcp_stream_append(&small, &s, buf, sizeof(buf)), 2 * TCP_CHUNK_DATA);
	assert_int_equal(s.len, 2 * TCP_CHUNK_DATA);
	assert_int_equal(small.n_total, 2);
	assert_int_equal(tcp_chunk_pool_in_use(&small), 2);
	/* Nothing at all for another stream. */
	assert_int_equal(tcp_stream_append(&small, &t, buf, 1), 0);
	assert_null(t.head);
	/* What was taken is intact; freeing makes room again. */
	assert_stream_pat(&s, 0, 2 * TCP_CHUNK_DATA);
	tcp_stream_drop(&small, &s, TCP_CHUNK_DATA);
	assert_int_equal(tcp_stream_append(&small, &t, buf, 10), 10);
	tcp_stream_purge(&small, &s);
	tcp_stream_purge(&small, &t);
	assert_int_equal(tcp_chunk_pool_in_use(&small), 0);
	tcp_chunk_pool_fini(&small);
}

static void pool_grows_in_slabs_up_to_its_limit(void **state)
{
	struct tcp_chunk_pool pool;
	struct tcp_stream s = { 0 };
	uint8_t buf[TCP_CHUNK_DATA];
	uint32_t i;

	(void)state;
	assert_int_equal(tcp_chunk_pool_init(&pool, 0), -EINVAL);
	assert_int_equal(tcp_chunk_pool_init(&pool, 150), 0);
	assert_int_equal(pool.n_total, 0);	/* nothing until first use */
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(tcp_stream_append(&pool, &s, buf, 1), 1);
	assert_true(pool.n_total > 0 && pool.n_total <= 150);
	for (i = 0; i < 200; i++)
		tcp_stream_append(&pool, &s, buf, sizeof(buf));
	assert_int_equal(pool.n_total, 150);
	assert_int_equal(pool.n_free, 0);
	assert_int_equal(s.len, 150 * TCP_CHUNK_DATA);
	tcp_stream_purge(&pool, &s);
	assert_int_equal(pool.n_free, 150);
	tcp_chunk_pool_fini(&pool);
}

/* ---- out-of-order queue: every overlap configuration ---- */

static void ooo_disjoint_segments_are_kept_sorted(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	const uint32_t want[] = { 1000, 1100, 2000, 2100, 3000, 3100 };

	assert_int_equal(ooo_insert_pat(p, &q, 2000, 100, 65536), 0);
	assert_int_equal(ooo_insert_pat(p, &q, 3000, 100, 65536), 0);	/* after */
	assert_int_equal(ooo_insert_pat(p, &q, 1000, 100, 65536), 0);	/* before */
	assert_blocks(&q, want, 3);
	tcp_ooo_purge(p, &q);
	assert_int_equal(q.bytes, 0);
	assert_null(q.head);
}

static void ooo_adjacent_after_merges(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	const uint32_t want[] = { 1000, 1300 };

	ooo_insert_pat(p, &q, 1000, 100, 65536);
	assert_int_equal(ooo_insert_pat(p, &q, 1100, 200, 65536), 0);
	assert_blocks(&q, want, 1);
	/* In place: one chunk for both. */
	assert_int_equal(tcp_chunk_pool_in_use(p), 1);
	tcp_ooo_purge(p, &q);
}

static void ooo_adjacent_before_merges(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	const uint32_t want[] = { 900, 1100 };

	ooo_insert_pat(p, &q, 1000, 100, 65536);
	assert_int_equal(ooo_insert_pat(p, &q, 900, 100, 65536), 0);
	assert_blocks(&q, want, 1);
	/* The small segment was copied into the other's chunk. */
	assert_int_equal(tcp_chunk_pool_in_use(p), 1);
	tcp_ooo_purge(p, &q);
}

static void ooo_inside_and_duplicate_change_nothing(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	const uint32_t want[] = { 1000, 2000 };

	ooo_insert_pat(p, &q, 1000, 1000, 65536);
	assert_int_equal(ooo_insert_pat(p, &q, 1000, 1000, 65536), 0);	/* duplicate */
	assert_int_equal(ooo_insert_pat(p, &q, 1200, 300, 65536), 0);	/* inside */
	assert_int_equal(ooo_insert_pat(p, &q, 1000, 1, 65536), 0);	/* first byte */
	assert_int_equal(ooo_insert_pat(p, &q, 1999, 1, 65536), 0);	/* last byte */
	assert_blocks(&q, want, 1);
	tcp_ooo_purge(p, &q);
}

static void ooo_overlapping_start_or_end_keeps_only_new_bytes(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	const uint32_t want[] = { 900, 2100 };
	uint32_t nxt = 900;

	ooo_insert_pat(p, &q, 1000, 1000, 65536);
	assert_int_equal(ooo_insert_pat(p, &q, 1900, 200, 65536), 0);	/* overlaps the end */
	assert_int_equal(ooo_insert_pat(p, &q, 900, 150, 65536), 0);	/* overlaps the start */
	assert_blocks(&q, want, 1);
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 1200);
	assert_int_equal(nxt, 2100);
	assert_stream_pat(&s, 900, 1200);
	tcp_stream_purge(p, &s);
	assert_int_equal(q.nsegs, 0);
}

static void ooo_covering_segment_swallows_held_ones(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	const uint32_t want[] = { 500, 5000 };
	uint32_t nxt = 500;

	ooo_insert_pat(p, &q, 1000, 100, 65536);
	ooo_insert_pat(p, &q, 2000, 100, 65536);
	ooo_insert_pat(p, &q, 3000, 1500, 65536);
	assert_int_equal(ooo_insert_pat(p, &q, 500, 4500, 65536), 0);
	assert_blocks(&q, want, 1);
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 4500);
	assert_stream_pat(&s, 500, 4500);
	tcp_stream_purge(p, &s);
}

static void ooo_gap_filler_joins_its_neighbours(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	const uint32_t two[] = { 1000, 1100, 1200, 1300 };
	const uint32_t one[] = { 1000, 1300 };

	ooo_insert_pat(p, &q, 1000, 100, 65536);
	ooo_insert_pat(p, &q, 1200, 100, 65536);
	assert_blocks(&q, two, 2);
	assert_int_equal(ooo_insert_pat(p, &q, 1100, 100, 65536), 0);
	assert_blocks(&q, one, 1);
	tcp_ooo_purge(p, &q);
}

static void ooo_insert_held_full_segments_do_not_copy(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	uint32_t nxt = 0, i;

	/* Full-chunk segments arriving backwards: merged by moving chunks. */
	for (i = 4; i >= 1; i--)
		assert_int_equal(ooo_insert_pat(p, &q, i * TCP_CHUNK_DATA, TCP_CHUNK_DATA, 1 << 20),
				 0);
	assert_int_equal(q.nsegs, 1);
	assert_int_equal(tcp_chunk_pool_in_use(p), 4);
	nxt = TCP_CHUNK_DATA;
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 4 * TCP_CHUNK_DATA);
	assert_int_equal(tcp_chunk_pool_in_use(p), 4);
	assert_stream_pat(&s, TCP_CHUNK_DATA, 4 * TCP_CHUNK_DATA);
	tcp_stream_purge(p, &s);
}

static void ooo_spanning_several_gaps_fills_them_all(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	const uint32_t want[] = { 100, 800 };
	uint32_t nxt = 100;

	ooo_insert_pat(p, &q, 200, 50, 65536);
	ooo_insert_pat(p, &q, 300, 50, 65536);
	ooo_insert_pat(p, &q, 400, 50, 65536);
	ooo_insert_pat(p, &q, 700, 100, 65536);
	assert_int_equal(ooo_insert_pat(p, &q, 100, 650, 65536), 0);
	assert_blocks(&q, want, 1);
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 700);
	assert_stream_pat(&s, 100, 700);
	tcp_stream_purge(p, &s);
}

static void ooo_empty_insert_is_a_no_op(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };

	assert_int_equal(tcp_ooo_insert(p, &q, 1000, NULL, 0, 65536), 0);
	assert_null(q.head);
	assert_int_equal(tcp_chunk_pool_in_use(p), 0);
}

/* ---- limits ---- */

static void ooo_byte_limit_keeps_the_lowest_bytes(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	const uint32_t want[] = { 1000, 1100, 2000, 2900 };
	const uint32_t after[] = { 1000, 1100, 2000, 2900, 5000, 5100 };

	ooo_insert_pat(p, &q, 1000, 100, 1000);
	assert_int_equal(ooo_insert_pat(p, &q, 2000, 5000, 1000), -ENOBUFS);
	assert_blocks(&q, want, 2);
	assert_int_equal(q.bytes, 1000);
	/* Full: nothing more, even adjacent. */
	assert_int_equal(ooo_insert_pat(p, &q, 2900, 10, 1000), -ENOBUFS);
	assert_blocks(&q, want, 2);
	/* A larger limit (the window opened) lets more in. */
	assert_int_equal(ooo_insert_pat(p, &q, 5000, 100, 2000), 0);
	assert_blocks(&q, after, 3);
	tcp_ooo_purge(p, &q);
}

static void ooo_range_count_is_bounded(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	uint32_t i, kept, limit = 8192;
	int ret = 0;

	/* One-byte segments with gaps: each would pin a chunk. */
	for (i = 0; i < 1000 && !ret; i++)
		ret = ooo_insert_pat(p, &q, 1000 + 2 * i, 1, limit);
	assert_int_equal(ret, -ENOBUFS);
	kept = q.nsegs;
	assert_true(kept >= 8 && kept < 100);
	assert_int_equal(tcp_chunk_pool_in_use(p), kept);
	/* A byte that joins two held ranges is still taken ... */
	assert_int_equal(ooo_insert_pat(p, &q, 1001, 1, limit), 0);
	assert_int_equal(q.nsegs, kept - 1);
	/* ... and so is one that extends a held range. */
	assert_int_equal(ooo_insert_pat(p, &q, 1000 + 2 * (kept - 1) + 1, 1, limit), 0);
	assert_int_equal(q.nsegs, kept - 1);
	tcp_ooo_purge(p, &q);
}

static void ooo_insert_with_pool_exhausted_keeps_what_fit(void **state)
{
	struct tcp_chunk_pool small;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	uint32_t nxt = 100;

	(void)state;
	assert_int_equal(tcp_chunk_pool_init(&small, 2), 0);
	assert_int_equal(ooo_insert_pat(&small, &q, 100, 3 * TCP_CHUNK_DATA, 1 << 20), -ENOBUFS);
	assert_int_equal(q.bytes, 2 * TCP_CHUNK_DATA);
	assert_int_equal(ooo_insert_pat(&small, &q, 100000, 10, 1 << 20), -ENOBUFS);
	assert_int_equal(q.nsegs, 1);
	assert_int_equal(tcp_ooo_drain(&small, &q, &nxt, &s), 2 * TCP_CHUNK_DATA);
	assert_stream_pat(&s, 100, 2 * TCP_CHUNK_DATA);
	tcp_stream_purge(&small, &s);
	assert_int_equal(tcp_chunk_pool_in_use(&small), 0);
	tcp_chunk_pool_fini(&small);
}

/* ---- drain and blocks ---- */

static void ooo_drain_waits_for_the_hole(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	const uint32_t want[] = { 2000, 2500 };
	uint32_t nxt = 1000;

	ooo_insert_pat(p, &q, 2000, 500, 65536);
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 0);
	assert_int_equal(nxt, 1000);
	assert_blocks(&q, want, 1);
	/* The hole is filled by in-order data, appended by the caller. */
	append_pat(p, &s, 1000, 1000);
	nxt = 2000;
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 500);
	assert_int_equal(nxt, 2500);
	assert_stream_pat(&s, 1000, 1500);
	assert_int_equal(q.nsegs, 0);
	assert_int_equal(q.bytes, 0);
	tcp_stream_purge(p, &s);
}

static void ooo_drain_discards_what_is_below_rcv_nxt(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	const uint32_t left[] = { 5000, 5100 };
	uint32_t nxt;

	ooo_insert_pat(p, &q, 1000, 100, 65536);	/* entirely below */
	ooo_insert_pat(p, &q, 1500, 1000, 65536);	/* straddles */
	ooo_insert_pat(p, &q, 5000, 100, 65536);	/* beyond */
	nxt = 2000;	/* in-order data covered up to here */
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 500);
	assert_int_equal(nxt, 2500);
	assert_stream_pat(&s, 2000, 500);
	assert_blocks(&q, left, 1);
	tcp_stream_purge(p, &s);
	/* Everything below: all freed, nothing moved. */
	nxt = 6000;
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 0);
	assert_int_equal(nxt, 6000);
	assert_null(q.head);
	assert_int_equal(q.bytes, 0);
}

static void ooo_drain_appends_after_existing_stream_bytes(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	uint32_t nxt = 10;
	int i;

	append_pat(p, &s, 0, 10);
	for (i = 9; i >= 0; i--)
		ooo_insert_pat(p, &q, 10 + 100 * (uint32_t)i, 100, 65536);
	assert_int_equal(q.nsegs, 1);
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 1000);
	assert_stream_pat(&s, 0, 1010);
	/* Small pieces were packed: one chunk holds it all. */
	assert_int_equal(tcp_chunk_pool_in_use(p), 1);
	tcp_stream_purge(p, &s);
}

static void ooo_blocks_lists_lowest_first_up_to_max(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_sack_block b[3];
	int i;

	for (i = 0; i < 5; i++)
		ooo_insert_pat(p, &q, 1000 + 1000 * (uint32_t)(4 - i), 10, 65536);
	assert_int_equal(tcp_ooo_blocks(&q, b, 3), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(b[i].start, 1000 + 1000 * (uint32_t)i);
		assert_int_equal(b[i].end, 1010 + 1000 * (uint32_t)i);
	}
	assert_int_equal(tcp_ooo_blocks(&q, b, 0), 0);
	tcp_ooo_purge(p, &q);
}

/* ---- sequence wraparound ---- */

static void ooo_works_across_the_2_32_wrap(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	const uint32_t base = 0xfffffc00U;	/* 1024 below the wrap */
	const uint32_t two[] = { 0xffffff00U, 0x100, 0x200, 0x300 };
	const uint32_t one[] = { 0xffffff00U, 0x300 };
	uint32_t nxt = base;

	/* Inserted out of order on both sides of 0. */
	ooo_insert_pat(p, &q, 0x200, 0x100, 65536);
	ooo_insert_pat(p, &q, 0xffffff00U, 0x200, 65536);	/* crosses 0 */
	assert_blocks(&q, two, 2);
	assert_int_equal(ooo_insert_pat(p, &q, 0xfffffff0U, 0x300, 65536), 0);	/* fills gap */
	assert_blocks(&q, one, 1);
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 0);
	append_pat(p, &s, base, 0x300);
	nxt = base + 0x300;
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 0x400);
	assert_int_equal(nxt, 0x300);
	assert_stream_pat(&s, base, 0x700);
	tcp_stream_purge(p, &s);
}

static void ooo_drain_discards_across_the_wrap(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	uint32_t nxt;

	ooo_insert_pat(p, &q, 0xfffffff0U, 0x20, 65536);
	nxt = 0x8;
	assert_int_equal(tcp_ooo_drain(p, &q, &nxt, &s), 8);
	assert_int_equal(nxt, 0x10);
	assert_stream_pat(&s, 0x8, 8);
	tcp_stream_purge(p, &s);
}

/* ---- against a model ---- */

#define MODEL_SPAN	20000

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/*
 * Random segments into a queue that starts near the wrap; the model is a
 * byte map of what is held.  After each step the blocks must be the runs
 * of the map; drains must return exactly the run at rcv_nxt.
 */
static void ooo_matches_byte_map_model_on_random_segments(void **state)
{
	struct tcp_chunk_pool *p = *state;
	static uint8_t held[MODEL_SPAN];
	const uint32_t base = 0xffffd000U;
	struct tcp_sack_block b[256];
	struct tcp_ooo q = { 0 };
	struct tcp_stream s = { 0 };
	uint32_t nxt = base, delivered = 0, seed;

	for (seed = 1; seed <= 20; seed++) {
		int step;

		rng_state = seed * 0x9e3779b97f4a7c15ULL;
		memset(held, 0, sizeof(held));
		nxt = base;
		delivered = 0;
		for (step = 0; step < 400; step++) {
			uint32_t off = rng() % (MODEL_SPAN - 1600), len = 1 + rng() % 1500, i;
			uint32_t rel = nxt - base, bytes = 0;
			int n, nb = 0, ret;

			if (off < rel)	/* only beyond rcv_nxt, as the engine does */
				off = rel + rng() % 64 + 1;
			if (off + len > MODEL_SPAN)
				continue;
			ret = ooo_insert_pat(p, &q, base + off, len, 1 << 20);
			assert_int_equal(ret, 0);
			for (i = off; i < off + len; i++)
				held[i] = 1;

			/* Sometimes the in-order data arrives (caller appends). */
			if (rng() % 4 == 0) {
				uint32_t k = rng() % 3000;

				if (rel + k > MODEL_SPAN)
					k = MODEL_SPAN - rel;
				append_pat(p, &s, nxt, k);
				for (i = rel; i < rel + k; i++)
					held[i] = 0;
				nxt += k;
				delivered += k;
				rel += k;
				n = (int)tcp_ooo_drain(p, &q, &nxt, &s);
				for (i = 0; i < rel; i++)
					held[i] = 0;
				for (i = rel; i < MODEL_SPAN && held[i]; i++)
					held[i] = 0;
				assert_int_equal(n, i - rel);
				assert_int_equal(nxt, base + i);
				delivered += (uint32_t)n;
			}

			/* Blocks == runs of the map. */
			n = tcp_ooo_blocks(&q, b, 256);
			for (i = 0; i < MODEL_SPAN; i++) {
				if (held[i] && (i == 0 || !held[i - 1])) {
					assert_true(nb < n);
					assert_int_equal(b[nb].start, base + i);
				}
				if (held[i] && (i + 1 == MODEL_SPAN || !held[i + 1])) {
					assert_int_equal(b[nb].end, base + i + 1);
					nb++;
				}
				bytes += held[i];
			}
			assert_int_equal(nb, n);
			assert_int_equal(q.nsegs, n);
			assert_int_equal(q.bytes, bytes);
		}
		/* Everything delivered is the right bytes, in order. */
		assert_stream_pat(&s, base, delivered);
		tcp_stream_purge(p, &s);
		tcp_ooo_purge(p, &q);
		assert_int_equal(tcp_chunk_pool_in_use(p), 0);
	}
}

/*
 * Under pressure: a small byte limit and a small pool, random segments.
 * Whatever is refused, the queue stays sorted, merged and within the
 * limit, and what drains is the right bytes.
 */
static void ooo_stays_consistent_under_limit_and_pool_pressure(void **state)
{
	struct tcp_sack_block b[128];
	uint32_t seed;

	(void)state;
	for (seed = 1; seed <= 20; seed++) {
		struct tcp_chunk_pool small;
		struct tcp_ooo q = { 0 };
		struct tcp_stream s = { 0 };
		uint32_t nxt = 0xffffe000U + seed, limit = 6000 + seed * 500;
		int step;

		rng_state = seed * 0x2545f4914f6cdd1dULL;
		assert_int_equal(tcp_chunk_pool_init(&small, 6 + seed % 4), 0);
		for (step = 0; step < 300; step++) {
			uint32_t off = 1 + rng() % 12000, len = 1 + rng() % 1400, sum = 0;
			int n, i, ret;

			ret = ooo_insert_pat(&small, &q, nxt + off, len, limit);
			assert_true(ret == 0 || ret == -ENOBUFS);
			n = tcp_ooo_blocks(&q, b, 128);
			assert_int_equal(n, q.nsegs);
			for (i = 0; i < n; i++) {
				assert_true(tcp_before(nxt, b[i].start));
				assert_true(tcp_before(b[i].start, b[i].end));
				if (i)	/* sorted, and never adjacent */
					assert_true(tcp_before(b[i - 1].end, b[i].start));
				sum += b[i].end - b[i].start;
			}
			assert_int_equal(sum, q.bytes);
			assert_true(q.bytes <= limit);
			/* Sometimes the hole before the first block is filled
			 * (and read at once), then the block drains. */
			if (n && rng() % 5 == 0) {
				static uint8_t got[16384], want[16384];
				size_t k;

				nxt = b[0].start;
				n = (int)tcp_ooo_drain(&small, &q, &nxt, &s);
				assert_int_equal(n, b[0].end - b[0].start);
				assert_int_equal(nxt, b[0].end);
				k = tcp_stream_read(&small, &s, got, sizeof(got));
				assert_int_equal(k, (size_t)n);
				pat(b[0].start, want, k);
				assert_memory_equal(got, want, k);
			}
		}
		tcp_stream_purge(&small, &s);
		tcp_ooo_purge(&small, &q);
		assert_int_equal(tcp_chunk_pool_in_use(&small), 0);
		tcp_chunk_pool_fini(&small);
	}
}

static void ooo_rejects_a_range_beyond_half_the_sequence_space(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_ooo q = { 0 };
	uint8_t b = 0;

	assert_int_equal(tcp_ooo_insert(p, &q, 0, &b, 0x80000000U, 0xffffffffU), -EINVAL);
	assert_null(q.head);
}

/*
 * tcp_stream_copy_csum() as a sender uses it: consecutive segments, now and
 * then one from further back (a retransmission) and ACKs dropping the head,
 * over chunk boundaries at odd offsets (odd-sized appends after the stream
 * emptied).  Every copy equals tcp_stream_peek()'s and every sum folds as
 * csum_partial() of the copied bytes with the same starting sum.
 */
static void copy_csum_matches_peek_and_csum_partial(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	uint8_t got[3000], want[3000];
	uint32_t head_seq = 0, tail_seq = 0, next = 0, rng = 12345;
	int round;

	for (round = 0; round < 4000; round++) {
		uint32_t r, off, len, sum, init;

		rng = rng * 1103515245u + 12345u;
		r = rng >> 8;
		/* keep about 40 KiB queued, in appends of odd sizes */
		while (tail_seq - head_seq < 40000) {
			uint32_t n = 1 + (r % 4099);

			append_pat(p, &s, tail_seq, n);
			tail_seq += n;
			r = r * 2654435761u + 1;
		}
		if (r % 7 == 0 && tail_seq != head_seq) {
			/* an ACK: drop from the head, sometimes all of it */
			uint32_t n = (r % 5 == 0) ? tail_seq - head_seq : 1 + (r >> 4) % 5000;

			if (n > tail_seq - head_seq)
				n = tail_seq - head_seq;
			tcp_stream_drop(p, &s, n);
			head_seq += n;
			if (tcp_before(next, head_seq))
				next = head_seq;
			continue;
		}
		if (r % 11 == 0)
			next = head_seq + (r >> 3) % (next - head_seq + 1); /* go back */
		off = next - head_seq;
		len = 1 + (r >> 5) % 1500;
		if (off >= s.len)
			continue;
		if (len > s.len - off)
			len = s.len - off;
		init = rng ^ 0x5a5a;
		sum = init;
		memset(got, 0, sizeof(got));
		assert_int_equal(tcp_stream_copy_csum(&s, off, got, len, &sum), len);
		assert_int_equal(tcp_stream_peek(&s, off, want, len), len);
		assert_memory_equal(got, want, len);
		pat(next, want, len);
		assert_memory_equal(got, want, len);
		assert_int_equal(csum_fold(sum), csum_fold(csum_partial(want, len, init)));
		next += len;
	}
	/* past the end: nothing */
	{
		uint32_t sum = 7;

		assert_int_equal(tcp_stream_copy_csum(&s, s.len, got, 10, &sum), 0);
		assert_int_equal(sum, 7);
	}
	tcp_stream_purge(p, &s);
	assert_null(s.cur);
}

/*
 * A file range appended by reference reads back (with its sum) like the
 * same bytes appended by copy, beside copied bytes in one stream; each
 * chunk holds a reference to the mapping until it is dropped.
 */
static void file_ranges_read_like_copies_and_hold_the_mapping(void **state)
{
	struct tcp_chunk_pool *p = *state;
	char path[] = "/tmp/skiff-tcpbuf-XXXXXX";
	static uint8_t file[3 * TCP_FILE_CHUNK + 100], got[4000], want[4000];
	struct tcp_stream s = {0};
	struct fmap *fm;
	size_t off, total;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	pat(0, file, sizeof(file));
	assert_int_equal(write(fd, file, sizeof(file)), (ssize_t)sizeof(file));
	fm = fmap_open(fd, sizeof(file));
	close(fd);
	assert_non_null(fm);
	pat(0, want, 1000);
	assert_int_equal(tcp_stream_append(p, &s, want, 1000), 1000);
	/* file bytes [1000, end) follow the copied [0, 1000): one pattern */
	assert_int_equal(tcp_stream_append_file(p, &s, fm, 1000, sizeof(file) - 1000),
			 sizeof(file) - 1000);
	assert_int_equal(fm->refs, 1 + 3);	/* 3 chunks of up to TCP_FILE_CHUNK */
	assert_int_equal(tcp_stream_append(p, &s, want, 10), 10);	/* a new chunk after */
	total = s.len;
	assert_int_equal(total, sizeof(file) + 10);
	/* outside the mapping: nothing */
	assert_int_equal(tcp_stream_append_file(p, &s, fm, sizeof(file) - 1, 2), 0);
	for (off = 0; off + 1448 <= sizeof(file); off += 1448) {
		uint32_t sum = 0;

		assert_int_equal(tcp_stream_copy_csum(&s, off, got, 1448, &sum), 1448);
		pat((uint32_t)off, want, 1448);
		assert_memory_equal(got, want, 1448);
		assert_int_equal(csum_fold(sum), csum_fold(csum_partial(want, 1448, 0)));
	}
	assert_int_equal(tcp_stream_peek(&s, TCP_FILE_CHUNK - 5, got, 10), 10);
	pat(TCP_FILE_CHUNK - 5, want, 10);
	assert_memory_equal(got, want, 10);
	assert_false(s.lost);
	tcp_stream_drop(p, &s, TCP_FILE_CHUNK + 1000);	/* the first file chunk goes */
	assert_int_equal(fm->refs, 1 + 2);
	tcp_stream_purge(p, &s);
	assert_int_equal(fm->refs, 1);
	fmap_put(fm);
}

/*
 * RACK's transmit stamps: per 256-byte slot of a data chunk.  A stamp
 * covers every slot the range touches (a shared slot holds the later
 * time), reads back in increasing offsets with the slot's end, survives
 * dropping the head, and a new chunk starts unstamped.
 */
static void stamps_are_kept_per_slot_and_read_back_in_order(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	struct tcp_stamp_iter it;
	size_t end;

	append_pat(p, &s, 0, 3 * TCP_CHUNK_DATA);
	tcp_stream_stamp(&s, 0, 1448, 100);	/* slots 0-5 of chunk 0 */
	tcp_stream_stamp(&s, 1448, 1448, 200);	/* 5 (shared) .. 11, across chunks */
	tcp_stamp_iter_start(&s, 0, &it);
	assert_int_equal(tcp_stamp_iter_get(&it, 0, &end), 100);
	assert_int_equal(end, 256);
	assert_int_equal(tcp_stamp_iter_get(&it, 1279, &end), 100);
	assert_int_equal(tcp_stamp_iter_get(&it, 1300, &end), 200); /* the shared slot: later */
	assert_int_equal(end, 1536);
	assert_int_equal(tcp_stamp_iter_get(&it, 2047, &end), 200);
	assert_int_equal(end, 2048);				/* a slot ends with its chunk */
	assert_int_equal(tcp_stamp_iter_get(&it, 2048, &end), 200); /* chunk 1, slot 0 */
	assert_int_equal(tcp_stamp_iter_get(&it, 3071, &end), 200); /* 2896 is in it */
	assert_int_equal(tcp_stamp_iter_get(&it, 3072, &end), 0);   /* never sent */
	assert_int_equal(end, 3328);
	assert_int_equal(tcp_stamp_iter_get(&it, 3 * TCP_CHUNK_DATA, &end), 0); /* beyond */
	assert_null(it.c);
	/* dropping the head keeps what is left where it was */
	tcp_stream_drop(p, &s, 1000);
	tcp_stamp_iter_start(&s, 0, &it);
	assert_int_equal(tcp_stamp_iter_get(&it, 0, &end), 100);	/* byte 1000: slot 3 */
	assert_int_equal(end, 1024 - 1000);
	assert_int_equal(tcp_stamp_iter_get(&it, 448, &end), 200);	/* byte 1448 */
	tcp_stream_purge(p, &s);
	/* a chunk from the pool again has no stamps of its previous use */
	append_pat(p, &s, 0, 100);
	tcp_stamp_iter_start(&s, 0, &it);
	assert_int_equal(tcp_stamp_iter_get(&it, 0, &end), 0);
	tcp_stream_purge(p, &s);
}

/*
 * The latest stamp of a range (RACK's step 1 on an ACK): by time modulo
 * 2^32, a tie to the later slot, the slot's end capped at the range's;
 * across chunks; nothing when the range is beyond the stream.
 */
static void the_latest_stamp_of_a_range_is_found_in_one_pass(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	uint32_t ts = 0;
	size_t end = 0;

	append_pat(p, &s, 0, 3 * TCP_CHUNK_DATA);
	tcp_stream_stamp(&s, 0, 1448, 100);	/* slots 0-5 of chunk 0 */
	tcp_stream_stamp(&s, 1448, 1448, 200);	/* 5 .. chunk 1's slot 3 */
	tcp_stream_stamp(&s, 256, 256, 300);	/* a retransmission: slot 1 */
	assert_true(tcp_stream_stamp_latest(&s, 0, 2896, &ts, &end));
	assert_int_equal(ts, 300);
	assert_int_equal(end, 512);
	assert_true(tcp_stream_stamp_latest(&s, 600, 2000, &ts, &end));
	assert_int_equal(ts, 200);		/* a tie: the last slot, capped */
	assert_int_equal(end, 2600);
	assert_true(tcp_stream_stamp_latest(&s, 1000, 10, &ts, &end));
	assert_int_equal(ts, 100);
	assert_int_equal(end, 1010);
	/* modulo 2^32: a stamp past the wrap is later */
	tcp_stream_stamp(&s, 4096, 100, 0xfffffff0u);
	tcp_stream_stamp(&s, 4352, 100, 5);
	assert_true(tcp_stream_stamp_latest(&s, 4096, 512, &ts, &end));
	assert_int_equal(ts, 5);
	assert_int_equal(end, 4608);
	/* the stamp range filled chunk by chunk equals the slot reader's */
	tcp_stream_stamp(&s, 2000, 3000, 400);
	{
		struct tcp_stamp_iter it;
		size_t off;

		tcp_stamp_iter_start(&s, 0, &it);
		for (off = 0; off < 3 * TCP_CHUNK_DATA; off += 256)
			assert_int_equal(tcp_stamp_iter_get(&it, off, &end),
					 off < 1280   ? (off == 256 ? 300 : 100)
					 : off < 1792 ? 200
					 : off < 5120 ? 400 : 0);
	}
	assert_false(tcp_stream_stamp_latest(&s, 3 * TCP_CHUNK_DATA, 10, &ts, &end));
	assert_false(tcp_stream_stamp_latest(&s, 0, 0, &ts, &end));
	tcp_stream_purge(p, &s);
}

/*
 * Delivery rate records (BBR's samples): one per chunk, taken at the
 * first transmission of any of its bytes and kept through later ones; a
 * range reads back the most recent record (largest delivered count) of
 * the chunks it touches, with its application-limited mark.
 */
static void rate_records_are_per_chunk_first_send_and_read_most_recent(void **state)
{
	struct tcp_chunk_pool *p = *state;
	struct tcp_stream s = { 0 };
	struct tcp_rate_rec r1 = {.delivered = 10, .sent_us = 100};
	struct tcp_rate_rec r2 = {.delivered = 20, .sent_us = 200};
	struct tcp_rate_rec r3 = {.delivered = 30, .sent_us = 300};
	struct tcp_rate_rec got;
	bool app, have = false;

	append_pat(p, &s, 0, 3 * TCP_CHUNK_DATA);
	tcp_stream_rate_get(&s, 0, 100, &got, &app, &have);
	assert_false(have);					/* never sent */
	tcp_stream_rate_set(&s, 0, 1448, &r1, false);		/* chunk 0 */
	tcp_stream_rate_set(&s, 1448, 1448, &r2, true);		/* 0 kept, 1 taken */
	tcp_stream_rate_set(&s, 0, 3 * TCP_CHUNK_DATA, &r3, false); /* 2 taken */
	tcp_stream_rate_get(&s, 0, 1448, &got, &app, &have);
	assert_true(have);
	assert_int_equal(got.delivered, 10);			/* the first send's */
	assert_false(app);
	have = false;
	tcp_stream_rate_get(&s, 1448, 1448, &got, &app, &have);
	assert_int_equal(got.delivered, 20);			/* chunk 1's, the later */
	assert_int_equal(got.sent_us, 200);
	assert_true(app);
	/* an earlier best stays unless a chunk has a more recent one */
	tcp_stream_rate_get(&s, 0, 100, &got, &app, &have);
	assert_int_equal(got.delivered, 20);
	tcp_stream_rate_get(&s, 2 * TCP_CHUNK_DATA, 10, &got, &app, &have);
	assert_int_equal(got.delivered, 30);
	assert_false(app);
	/* a chunk back from the pool has no record of its previous use */
	tcp_stream_purge(p, &s);
	append_pat(p, &s, 0, 100);
	have = false;
	tcp_stream_rate_get(&s, 0, 100, &got, &app, &have);
	assert_false(have);
	tcp_stream_purge(p, &s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(empty_stream_holds_no_chunk),
		T(append_peek_drop_across_chunk_boundaries),
		T(small_appends_fill_the_tail_chunk),
		T(read_consumes_and_appending_after_drain_works),
		T(copy_csum_matches_peek_and_csum_partial),
		T(file_ranges_read_like_copies_and_hold_the_mapping),
		T(stamps_are_kept_per_slot_and_read_back_in_order),
		T(the_latest_stamp_of_a_range_is_found_in_one_pass),
		T(rate_records_are_per_chunk_first_send_and_read_most_recent),
		T(append_is_short_when_the_pool_runs_out),
		T(pool_grows_in_slabs_up_to_its_limit),
		T(ooo_disjoint_segments_are_kept_sorted),
		T(ooo_adjacent_after_merges),
		T(ooo_adjacent_before_merges),
		T(ooo_inside_and_duplicate_change_nothing),
		T(ooo_overlapping_start_or_end_keeps_only_new_bytes),
		T(ooo_covering_segment_swallows_held_ones),
		T(ooo_gap_filler_joins_its_neighbours),
		T(ooo_insert_held_full_segments_do_not_copy),
		T(ooo_spanning_several_gaps_fills_them_all),
		T(ooo_empty_insert_is_a_no_op),
		T(ooo_byte_limit_keeps_the_lowest_bytes),
		T(ooo_range_count_is_bounded),
		T(ooo_insert_with_pool_exhausted_keeps_what_fit),
		T(ooo_drain_waits_for_the_hole),
		T(ooo_drain_discards_what_is_below_rcv_nxt),
		T(ooo_drain_appends_after_existing_stream_bytes),
		T(ooo_blocks_lists_lowest_first_up_to_max),
		T(ooo_works_across_the_2_32_wrap),
		T(ooo_drain_discards_across_the_wrap),
		T(ooo_matches_byte_map_model_on_random_segments),
		T(ooo_stays_consistent_under_limit_and_pool_pressure),
		T(ooo_rejects_a_range_beyond_half_the_sequence_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
