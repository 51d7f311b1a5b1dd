// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * struct pkb and struct pkb_pool: buffer geometry (reserve/put/push/pull/
 * trim and their checked refusals), header offsets, queues, and exact pool
 * accounting (free + in use = total, exhaustion, double free, copies).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/pkb.h"

#define BUF 256
#define ROOM 64
#define NBUF 8

struct fixture {
	struct pkb_pool pool;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	if (pkb_pool_init(&f.pool, NULL, NBUF, BUF, ROOM, "test"))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* every test gives every buffer back */
	assert_int_equal(f->pool.n_free, f->pool.n);
	pkb_pool_fini(&f->pool);
	return 0;
}

static uint32_t in_use(const struct pkb_pool *p)
{
	uint32_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->in_use[i];
	return n;
}

static void fresh_pkb_has_pool_headroom_and_no_data(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkb = pkb_pool_get(&f->pool);

	assert_non_null(pkb);
	assert_ptr_equal(pkb->pool, &f->pool);
	assert_int_equal(pkb_headroom(pkb), ROOM);
	assert_int_equal(pkb_len(pkb), 0);
	assert_int_equal(pkb_tailroom(pkb), BUF - ROOM);
	assert_ptr_equal(pkb->head, f->pool.area + (size_t)pkb->index * BUF);
	assert_int_equal(pkb->mac_header, PKB_HDR_UNSET);
	assert_int_equal(pkb->network_header, PKB_HDR_UNSET);
	assert_int_equal(pkb->transport_header, PKB_HDR_UNSET);
	assert_null(pkb->next);
	assert_null(pkb->dev);
	pkb_free(pkb);
}

static void reserve_put_push_pull_trim_move_the_right_edges(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkb = pkb_pool_desc(&f->pool, pkb_pool_alloc_index(&f->pool), 0);
	uint8_t *p;

	assert_int_equal(pkb_headroom(pkb), 0);
	pkb_reserve(pkb, 40);
	assert_int_equal(pkb_headroom(pkb), 40);
	assert_int_equal(pkb_len(pkb), 0);

	p = pkb_put(pkb, 100);
	assert_ptr_equal(p, pkb->head + 40);
	memset(p, 0xaa, 100);
	assert_int_equal(pkb_len(pkb), 100);
	assert_int_equal(pkb_tailroom(pkb), BUF - 140);

	p = pkb_push(pkb, 14);
	assert_ptr_equal(p, pkb->head + 26);
	assert_ptr_equal(p, pkb->data);
	assert_int_equal(pkb_len(pkb), 114);

	p = pkb_pull(pkb, 14);
	assert_ptr_equal(p, pkb->head + 40);
	assert_int_equal(p[0], 0xaa);
	assert_int_equal(pkb_len(pkb), 100);

	pkb_trim(pkb, 60);
	assert_int_equal(pkb_len(pkb), 60);
	pkb_trim(pkb, 200);	/* longer than the data: no-op */
	assert_int_equal(pkb_len(pkb), 60);
	pkb_free(pkb);
}

static void checked_variants_refuse_overflow_and_leave_pkb_unchanged(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkb = pkb_pool_get(&f->pool);
	uint8_t *data, *tail;

	assert_non_null(pkb_put(pkb, 10));
	data = pkb->data;
	tail = pkb->tail;

	assert_null(pkb_put(pkb, pkb_tailroom(pkb) + 1));
	assert_null(pkb_push(pkb, ROOM + 1));
	assert_null(pkb_pull(pkb, 11));
	assert_false(pkb_may_pull(pkb, 11));
	assert_true(pkb_may_pull(pkb, 10));
	assert_ptr_equal(pkb->data, data);
	assert_ptr_equal(pkb->tail, tail);

	/* exactly the room is fine */
	assert_non_null(pkb_put(pkb, pkb_tailroom(pkb)));
	assert_ptr_equal(pkb->tail, pkb->end);
	assert_non_null(pkb_push(pkb, ROOM));
	assert_ptr_equal(pkb->data, pkb->head);
	assert_non_null(pkb_pull(pkb, pkb_len(pkb)));
	assert_int_equal(pkb_len(pkb), 0);
	pkb_free(pkb);
}

static void header_offsets_survive_pull_and_point_at_the_header(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkb = pkb_pool_get(&f->pool);
	uint8_t *frame = __pkb_put(pkb, 14 + 20 + 8);

	memset(frame, 0, 42);
	frame[0] = 0xe0;	/* "ethernet" */
	frame[14] = 0x45;	/* "ip" */
	frame[34] = 0x11;	/* "udp" */

	pkb_reset_mac_header(pkb);
	pkb_pull(pkb, 14);
	pkb_reset_network_header(pkb);
	pkb_pull(pkb, 20);
	pkb_reset_transport_header(pkb);

	assert_int_equal(pkb->mac_header, ROOM);
	assert_int_equal(pkb->network_header, ROOM + 14);
	assert_int_equal(pkb->transport_header, ROOM + 34);
	assert_int_equal(pkb_mac_header(pkb)[0], 0xe0);
	assert_int_equal(pkb_network_header(pkb)[0], 0x45);
	assert_int_equal(pkb_transport_header(pkb)[0], 0x11);
	assert_ptr_equal(pkb_transport_header(pkb), pkb->data);
	pkb_free(pkb);
}

static void queue_is_fifo_and_counts_packets_and_bytes(void **state)
{
	struct fixture *f = *state;
	struct pkb_queue q;
	struct pkb *a = pkb_pool_get(&f->pool), *b = pkb_pool_get(&f->pool);
	struct pkb *c = pkb_pool_get(&f->pool);

	pkb_queue_init(&q);
	assert_true(pkb_queue_empty(&q));
	assert_null(pkb_dequeue(&q));
	pkb_put(a, 10);
	pkb_put(b, 20);
	pkb_put(c, 30);
	pkb_queue_tail(&q, a);
	pkb_queue_tail(&q, b);
	pkb_queue_tail(&q, c);
	assert_int_equal(q.len, 3);
	assert_int_equal(q.bytes, 60);

	assert_ptr_equal(pkb_dequeue(&q), a);
	assert_null(a->next);
	assert_int_equal(q.len, 2);
	assert_int_equal(q.bytes, 50);
	pkb_free(a);

	assert_int_equal(f->pool.n_free, NBUF - 2);
	pkb_queue_purge(&q);
	assert_true(pkb_queue_empty(&q));
	assert_null(q.tail);
	assert_int_equal(q.len, 0);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(f->pool.n_free, NBUF);
}

static void pool_free_plus_in_use_is_total_and_exhaustion_returns_null(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkbs[NBUF];
	uint32_t i, j;

	for (i = 0; i < NBUF; i++) {
		pkbs[i] = pkb_pool_get(&f->pool);
		assert_non_null(pkbs[i]);
		assert_int_equal(f->pool.n_free + in_use(&f->pool), NBUF);
		assert_int_equal(in_use(&f->pool), i + 1);
		for (j = 0; j < i; j++)	/* distinct buffers */
			assert_int_not_equal(pkbs[j]->index, pkbs[i]->index);
	}
	assert_null(pkb_pool_get(&f->pool));
	assert_int_equal(pkb_pool_alloc_index(&f->pool), UINT32_MAX);
	assert_int_equal(f->pool.n_free, 0);

	for (i = 0; i < NBUF; i++) {
		pkb_free(pkbs[i]);
		assert_int_equal(f->pool.n_free + in_use(&f->pool), NBUF);
	}
	assert_int_equal(f->pool.n_free, NBUF);
	assert_int_equal(f->pool.double_free, 0);
}

static void double_free_is_counted_and_does_not_duplicate_a_buffer(void **state)
{
	struct fixture *f = *state;
	struct pkb *a = pkb_pool_get(&f->pool), *pkbs[NBUF];
	uint32_t i, j;

	pkb_free(a);
	pkb_free(a);
	pkb_pool_put(&f->pool, NBUF + 5);	/* out of range: same treatment */
	assert_int_equal(f->pool.double_free, 2);
	assert_int_equal(f->pool.n_free, NBUF);

	/* the free stack still holds each buffer exactly once */
	for (i = 0; i < NBUF; i++)
		assert_non_null(pkbs[i] = pkb_pool_get(&f->pool));
	assert_null(pkb_pool_get(&f->pool));
	for (i = 0; i < NBUF; i++)
		for (j = i + 1; j < NBUF; j++)
			assert_int_not_equal(pkbs[i]->index, pkbs[j]->index);
	for (i = 0; i < NBUF; i++)
		pkb_free(pkbs[i]);
	f->pool.double_free = 0;
}

static void free_of_null_is_a_no_op(void **state)
{
	struct fixture *f = *state;

	pkb_free(NULL);
	assert_int_equal(f->pool.double_free, 0);
}

static void desc_resets_a_reused_descriptor(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkb = pkb_pool_get(&f->pool);
	uint32_t index = pkb->index;

	pkb_put(pkb, 30);
	pkb_reset_network_header(pkb);
	pkb->protocol = 0x0800;
	pkb->cb[0] = 42;
	pkb->dev = (struct netdev *)pkb;
	pkb_free(pkb);

	pkb = pkb_pool_get(&f->pool);	/* LIFO: the same buffer again */
	assert_int_equal(pkb->index, index);
	assert_int_equal(pkb_len(pkb), 0);
	assert_int_equal(pkb->network_header, PKB_HDR_UNSET);
	assert_int_equal(pkb->protocol, 0);
	assert_int_equal(pkb->cb[0], 0);
	assert_null(pkb->dev);
	pkb_free(pkb);
}

static void copy_keeps_bytes_offsets_and_metadata_and_leaves_original(void **state)
{
	struct fixture *f = *state;
	struct pkb *pkb = pkb_pool_get(&f->pool), *c;
	uint8_t *p = pkb_put(pkb, 50);
	int i;

	for (i = 0; i < 50; i++)
		p[i] = (uint8_t)i;
	pkb_reset_mac_header(pkb);
	pkb_pull(pkb, 14);		/* Ethernet header pulled off */
	pkb_reset_network_header(pkb);
	pkb->protocol = 0x0800;
	pkb->pkt_type = PKB_BROADCAST;
	pkb->cb[5] = 0x1234;

	c = pkb_copy(&f->pool, pkb);
	assert_non_null(c);
	assert_ptr_not_equal(c, pkb);
	assert_int_equal(pkb_len(c), 36);
	assert_memory_equal(c->data, pkb->data, 36);
	assert_int_equal(c->network_header, pkb->network_header);
	assert_int_equal(c->mac_header, pkb->mac_header);
	assert_memory_equal(pkb_mac_header(c), pkb_mac_header(pkb), 14);
	assert_int_equal(c->protocol, 0x0800);
	assert_int_equal(c->pkt_type, PKB_BROADCAST);
	assert_int_equal(c->cb[5], 0x1234);
	assert_int_equal(pkb_len(pkb), 36);
	assert_int_equal(f->pool.n_free, NBUF - 2);
	pkb_free(c);
	pkb_free(pkb);
}

static void copy_into_smaller_buffers_shifts_offsets_or_fails(void **state)
{
	struct fixture *f = *state;
	struct pkb_pool big, small;
	struct pkb *pkb, *c;
	uint8_t *p;

	(void)f;
	assert_int_equal(pkb_pool_init(&big, NULL, 2, 4096, 1000, "big"), 0);
	assert_int_equal(pkb_pool_init(&small, NULL, 2, 512, 64, "small"), 0);

	pkb = pkb_pool_get(&big);
	p = pkb_push(pkb, 14);
	memset(p, 0x11, 14);
	pkb_reset_mac_header(pkb);
	p = pkb_put(pkb, 300);
	memset(p, 0x22, 300);
	pkb_pull(pkb, 14);
	pkb_reset_network_header(pkb);

	/* headroom 986 does not fit a 512-byte buffer: as much as fits is kept */
	c = pkb_copy(&small, pkb);
	assert_non_null(c);
	assert_int_equal(pkb_len(c), 300);
	assert_int_equal(pkb_headroom(c), 512 - 300);
	assert_int_equal(c->network_header, 512 - 300);
	assert_int_equal(c->mac_header, 512 - 314);
	assert_int_equal(pkb_mac_header(c)[0], 0x11);
	assert_int_equal(c->data[299], 0x22);
	pkb_free(c);

	/* too long for any small buffer */
	pkb_put(pkb, 300);
	assert_null(pkb_copy(&small, pkb));
	assert_int_equal(small.n_free, 2);

	pkb_free(pkb);
	assert_int_equal(big.n_free, 2);
	pkb_pool_fini(&big);
	pkb_pool_fini(&small);
}

static void copy_from_an_empty_pool_returns_null(void **state)
{
	struct fixture *f = *state;
	struct pkb_pool one;
	struct pkb *a, *b;

	assert_int_equal(pkb_pool_init(&one, NULL, 1, BUF, ROOM, "one"), 0);
	a = pkb_pool_get(&one);
	pkb_put(a, 10);
	assert_null(pkb_copy(&one, a));
	b = pkb_copy(&f->pool, a);
	assert_non_null(b);
	pkb_free(b);
	pkb_free(a);
	pkb_pool_fini(&one);
}

static void pool_init_rejects_bad_geometry(void **state)
{
	struct pkb_pool p;

	(void)state;
	assert_int_equal(pkb_pool_init(&p, NULL, 0, BUF, 0, "x"), -EINVAL);
	assert_int_equal(pkb_pool_init(&p, NULL, 4, 0, 0, "x"), -EINVAL);
	assert_int_equal(pkb_pool_init(&p, NULL, 4, 64, 65, "x"), -EINVAL);
	assert_int_equal(pkb_pool_init(&p, NULL, 0x10000, 0x10000, 0, "x"), -EINVAL);
}

static void pool_over_a_given_area_uses_it_at_index_times_size(void **state)
{
	static uint8_t area[4 * 128];
	struct pkb_pool p;
	struct pkb *pkb;

	(void)state;
	assert_int_equal(pkb_pool_init(&p, area, 4, 128, 0, "umem"), 0);
	assert_false(p.own_area);
	assert_int_equal(pkb_pool_alloc_index(&p), 0);
	assert_int_equal(pkb_pool_alloc_index(&p), 1);
	pkb = pkb_pool_desc(&p, 1, 16);
	assert_ptr_equal(pkb->head, area + 128);
	assert_ptr_equal(pkb->data, area + 128 + 16);
	assert_ptr_equal(pkb->end, area + 2 * 128);
	pkb_free(pkb);
	pkb_pool_put(&p, 0);
	assert_int_equal(p.n_free, 4);
	pkb_pool_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(fresh_pkb_has_pool_headroom_and_no_data),
		T(reserve_put_push_pull_trim_move_the_right_edges),
		T(checked_variants_refuse_overflow_and_leave_pkb_unchanged),
		T(header_offsets_survive_pull_and_point_at_the_header),
		T(queue_is_fifo_and_counts_packets_and_bytes),
		T(pool_free_plus_in_use_is_total_and_exhaustion_returns_null),
		T(double_free_is_counted_and_does_not_duplicate_a_buffer),
		T(free_of_null_is_a_no_op),
		T(desc_resets_a_reused_descriptor),
		T(copy_keeps_bytes_offsets_and_metadata_and_leaves_original),
		T(copy_into_smaller_buffers_shifts_offsets_or_fails),
		T(copy_from_an_empty_pool_returns_null),
		T(pool_init_rejects_bad_geometry),
		T(pool_over_a_given_area_uses_it_at_index_times_size),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
