// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The core of a stack over the fake driver: ethertype dispatch through
 * dev_add_pack(), drops counted by reason, stack_poll() running bursts,
 * timers and poll hooks, transmit through dev_queue_xmit() (ring full, heap
 * buffers copied into frames), and every frame back in its pool.  Also the
 * harness itself: its frame builder and its fake BPF maps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <skiff/proto/eth.h>

#include "core/clock.h"
#include "core/csum.h"
#include "harness.h"

#define TYPE_A 0x88b5	/* IEEE local experimental ethertypes */
#define TYPE_B 0x88b6

static int got_a, got_b, polls;
static uint8_t last_a[64];

/* A minimal link layer for the test: pull Ethernet, dispatch on type. */
static int test_link_rcv(struct stack *st, struct pkb *pkb)
{
	uint8_t *eth = pkb->data;

	if (!pkb_may_pull(pkb, 14)) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_short);
		return 0;
	}
	pkb_reset_mac_header(pkb);
	pkb->protocol = (uint16_t)(eth[12] << 8 | eth[13]);
	__pkb_pull(pkb, 14);
	return netif_receive_pkb(st, pkb);
}

static int rcv_a(struct stack *st, struct pkb *pkb)
{
	(void)st;
	got_a++;
	memcpy(last_a, pkb->data, pkb_len(pkb) < 64 ? pkb_len(pkb) : 64);
	pkb_free(pkb);
	return 0;
}

static int rcv_b(struct stack *st, struct pkb *pkb)
{
	(void)st;
	got_b++;
	pkb_free(pkb);
	return 0;
}

/* Answers every frame: swaps the MACs and sends it back out. */
static int rcv_echo(struct stack *st, struct pkb *pkb)
{
	uint8_t *eth = __pkb_push(pkb, 14), tmp[6];

	(void)st;
	memcpy(tmp, eth, 6);
	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, tmp, 6);
	return dev_queue_xmit(pkb);
}

static void count_poll(struct stack *st)
{
	(void)st;
	polls++;
}

static size_t eth_frame(uint8_t *buf, uint16_t type, const char *payload)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	size_t plen = strlen(payload);

	memcpy(eh->h_dest, H_MAC, ETH_ALEN);
	memcpy(eh->h_source, H_PEER_MAC, ETH_ALEN);
	put_be16(&eh->h_proto, type);
	memcpy(eh + 1, payload, plen);
	return ETH_HLEN + plen;
}

static int setup(void **state)
{
	static struct harness h;

	got_a = got_b = polls = 0;
	memset(last_a, 0, sizeof(last_a));
	if (harness_init(&h, 0))
		return -1;
	h.st.link_rcv = test_link_rcv;
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	harness_fini(*state);
	return 0;
}

static void frames_reach_the_handler_of_their_ethertype(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];

	assert_int_equal(dev_add_pack(&h->st, TYPE_A, rcv_a), 0);
	assert_int_equal(dev_add_pack(&h->st, TYPE_B, rcv_b), 0);
	harness_rx(h, f, eth_frame(f, TYPE_A, "alpha"));
	harness_rx(h, f, eth_frame(f, TYPE_B, "beta"));
	harness_rx(h, f, eth_frame(f, TYPE_A, "gamma"));
	assert_int_equal(got_a, 2);
	assert_int_equal(got_b, 1);
	assert_memory_equal(last_a, "gamma", 5);	/* data = network header */
	assert_int_equal(h->fd.stats.rx_packets, 3);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
}

static void unknown_ethertype_is_dropped_and_counted(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];

	assert_int_equal(dev_add_pack(&h->st, TYPE_A, rcv_a), 0);
	harness_rx(h, f, eth_frame(f, 0x86dd, "ipv6"));
	assert_int_equal(h->st.stats->drop.eth_unknown_type, 1);
	assert_int_equal(got_a, 0);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
}

static void without_a_link_layer_every_frame_is_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];

	h->st.link_rcv = NULL;
	harness_rx(h, f, eth_frame(f, TYPE_A, "x"));
	harness_rx(h, f, eth_frame(f, TYPE_A, "y"));
	assert_int_equal(h->st.stats->drop.eth_unknown_type, 2);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
}

static void drop_reasons_are_counted_separately(void **state)
{
	struct harness *h = *state;
	uint8_t f[64] = { 0 };

	harness_rx(h, f, 10);	/* shorter than Ethernet */
	pkb_drop(&h->st, fakedev_frame(&h->fd, f, 20), SKIFF_DROP_ip_csum);
	pkb_drop(&h->st, fakedev_frame(&h->fd, f, 20), SKIFF_DROP_ip_csum);
	pkb_drop(&h->st, fakedev_frame(&h->fd, f, 20), SKIFF_DROP_no_frame);
	assert_int_equal(h->st.stats->drop.eth_short, 1);
	assert_int_equal(h->st.stats->drop.ip_csum, 2);
	assert_int_equal(h->st.stats->drop.no_frame, 1);
	assert_int_equal(h->st.stats->drop.eth_unknown_type, 0);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
}

static void ethertype_table_refuses_duplicates_and_overflow(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];
	int i;

	assert_int_equal(dev_add_pack(&h->st, TYPE_A, rcv_a), 0);
	assert_int_equal(dev_add_pack(&h->st, TYPE_A, rcv_b), -EEXIST);
	for (i = 1; i < STACK_MAX_PTYPES; i++)
		assert_int_equal(dev_add_pack(&h->st, (uint16_t)(0x9000 + i), rcv_b), 0);
	assert_int_equal(dev_add_pack(&h->st, 0x9999, rcv_b), -ENOSPC);

	assert_int_equal(dev_remove_pack(&h->st, TYPE_A), 0);
	assert_int_equal(dev_remove_pack(&h->st, TYPE_A), -ENOENT);
	harness_rx(h, f, eth_frame(f, TYPE_A, "gone"));
	assert_int_equal(got_a, 0);
	assert_int_equal(h->st.stats->drop.eth_unknown_type, 1);
	harness_rx(h, f, eth_frame(f, 0x9003, "still here"));
	assert_int_equal(got_b, 1);
}

static void poll_receives_in_bursts_of_at_most_rx_burst(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];
	size_t len = eth_frame(f, TYPE_A, "burst");
	int i;

	assert_int_equal(dev_add_pack(&h->st, TYPE_A, rcv_a), 0);
	for (i = 0; i < STACK_RX_BURST + 36; i++)
		assert_int_equal(fakedev_inject(&h->fd, f, len), 0);
	assert_int_equal(stack_poll(&h->st), STACK_RX_BURST);
	assert_int_equal(got_a, STACK_RX_BURST);
	assert_int_equal(stack_poll(&h->st), 36);
	assert_int_equal(stack_poll(&h->st), 0);
	assert_int_equal(got_a, STACK_RX_BURST + 36);
	assert_int_equal(h->fd.stats.rx_bursts, 2);
}

static int fired;

static void on_timer(struct stack *st, struct timer *t)
{
	(void)t;
	fired++;
	assert_int_equal(st->now, clock_now());	/* time of this burst */
}

static void poll_runs_due_timers_and_poll_hooks_every_time(void **state)
{
	struct harness *h = *state;
	struct timer t;

	fired = 0;
	assert_int_equal(stack_add_poll_hook(&h->st, count_poll), 0);
	timer_init(&t, on_timer);
	timer_mod(&h->st, &t, clock_now() + 5 * NSEC_PER_MSEC);

	assert_int_equal(stack_poll(&h->st), 0);
	assert_int_equal(polls, 1);
	assert_int_equal(fired, 0);
	harness_advance(h, 4 * NSEC_PER_MSEC);
	assert_int_equal(fired, 0);
	harness_advance(h, NSEC_PER_MSEC);
	assert_int_equal(fired, 1);
	assert_int_equal(polls, 3);
	assert_int_equal(h->st.now, NSEC_PER_SEC + 5 * NSEC_PER_MSEC);

	assert_int_equal(stack_remove_poll_hook(&h->st, count_poll), 0);
	stack_poll(&h->st);
	assert_int_equal(polls, 3);
	timer_del(&h->st, &t);
}

static int again_left;

static void leave_work_for_the_next_poll(struct stack *st)
{
	if (again_left > 0) {
		again_left--;
		st->poll_again = true;
	}
}

static void poll_with_work_left_by_a_hook_counts_as_busy(void **state)
{
	struct harness *h = *state;

	assert_int_equal(stack_add_poll_hook(&h->st, leave_work_for_the_next_poll), 0);
	assert_int_equal(stack_poll(&h->st), 0);	/* nothing received, nothing left */
	again_left = 2;
	assert_int_equal(stack_poll(&h->st), 1);	/* no frame, but poll again */
	assert_int_equal(stack_poll(&h->st), 1);
	assert_int_equal(stack_poll(&h->st), 0);	/* idle: the caller may sleep */
	assert_int_equal(stack_remove_poll_hook(&h->st, leave_work_for_the_next_poll), 0);
}

static void poll_hook_table_is_bounded(void **state)
{
	struct harness *h = *state;
	int i;

	for (i = 0; i < STACK_MAX_POLL_HOOKS; i++)
		assert_int_equal(stack_add_poll_hook(&h->st, count_poll), 0);
	assert_int_equal(stack_add_poll_hook(&h->st, count_poll), -ENOSPC);
	stack_poll(&h->st);
	assert_int_equal(polls, STACK_MAX_POLL_HOOKS);
}

static void replies_leave_through_the_device_tx_queue(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];
	struct pkb *tx;

	assert_int_equal(dev_add_pack(&h->st, TYPE_A, rcv_echo), 0);
	harness_rx(h, f, eth_frame(f, TYPE_A, "ping"));
	tx = fakedev_pop_tx(&h->fd);
	assert_non_null(tx);
	assert_int_equal(pkb_len(tx), 18);
	assert_memory_equal(tx->data, H_PEER_MAC, 6);
	assert_memory_equal(tx->data + 6, H_MAC, 6);
	assert_memory_equal(tx->data + 14, "ping", 4);
	assert_int_equal(h->fd.stats.tx_packets, 1);
	pkb_free(tx);
	assert_null(fakedev_pop_tx(&h->fd));
}

static void full_tx_ring_frees_the_frame_and_counts_it(void **state)
{
	struct harness *h = *state;
	struct pkb *pkb;
	int i;

	h->fd.tx_limit = 2;
	for (i = 0; i < 3; i++) {
		pkb = netdev_alloc_pkb(&h->fd.dev);
		assert_non_null(pkb);
		assert_int_equal(pkb_headroom(pkb), NETDEV_TX_HEADROOM);
		assert_ptr_equal(pkb->dev, &h->fd.dev);
		memset(pkb_put(pkb, 60), i, 60);
		assert_int_equal(dev_queue_xmit(pkb), i < 2 ? 0 : -ENOBUFS);
	}
	assert_int_equal(h->fd.stats.tx_ring_full, 1);
	assert_int_equal(h->fd.stats.tx_packets, 2);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 2);	/* the two queued */
}

static void heap_buffer_is_copied_into_a_frame_to_send(void **state)
{
	struct harness *h = *state;
	struct pkb_pool *big = h->st.big_pool;
	struct pkb *pkb, *tx;
	uint8_t *p;

	assert_int_equal(big->n, 32);
	assert_true(big->buf_size >= 65535 + NETDEV_TX_HEADROOM);
	pkb = pkb_pool_get(big);
	assert_int_equal(pkb_headroom(pkb), NETDEV_TX_HEADROOM);
	p = pkb_put(pkb, 1000);
	memset(p, 0x5a, 1000);
	pkb_reset_network_header(pkb);
	p = pkb_push(pkb, 14);
	memcpy(p, H_PEER_MAC, 6);
	pkb->dev = &h->fd.dev;

	assert_int_equal(dev_queue_xmit(pkb), 0);
	assert_int_equal(big->n_free, big->n);
	assert_int_equal(h->fd.stats.tx_copied, 1);
	tx = fakedev_pop_tx(&h->fd);
	assert_ptr_equal(tx->pool, &h->fd.pool);
	assert_int_equal(pkb_len(tx), 1014);
	assert_memory_equal(tx->data, H_PEER_MAC, 6);
	assert_int_equal(pkb_network_header(tx)[999], 0x5a);
	pkb_free(tx);

	/* too big for a frame: freed and counted, not sent */
	pkb = pkb_pool_get(big);
	pkb_put(pkb, 9000);
	pkb->dev = &h->fd.dev;
	assert_int_equal(dev_queue_xmit(pkb), -ENOBUFS);
	assert_int_equal(big->n_free, big->n);
	assert_int_equal(h->fd.stats.tx_ring_full, 1);
}

static void frames_left_in_queues_are_purged(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(fakedev_inject(&h->fd, f, eth_frame(f, TYPE_A, "q")), 0);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 5);
	fakedev_purge(&h->fd);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
	assert_int_equal(fakedev_inject(&h->fd, f, FAKEDEV_FRAME_SIZE), -EMSGSIZE);
}

static void local_addresses_come_from_the_config(void **state)
{
	struct harness *h = *state;
	const struct stack_addr *a = stack_find_addr(&h->st, H_ADDR);

	assert_non_null(a);
	assert_int_equal(a->prefix_len, 24);
	assert_true(a->dedicated);
	assert_true(stack_is_local(&h->st, H_ADDR));
	assert_false(stack_is_local(&h->st, H_PEER));
	assert_int_equal(h->st.cfg->gateway, htonl(0x0a0000fe));
}

static void harness_ip_frame_builds_a_valid_ipv4_header(void **state)
{
	uint8_t buf[128];
	size_t len;

	(void)state;
	len = harness_ip_frame(buf, sizeof(buf), H_PEER, H_ADDR, 17, 0x1234, 0x2000 | 185, "abc",
			       3);
	assert_int_equal(len, 14 + 20 + 3);
	assert_memory_equal(buf, H_MAC, 6);
	assert_memory_equal(buf + 6, H_PEER_MAC, 6);
	assert_int_equal(buf[12] << 8 | buf[13], 0x0800);
	assert_int_equal(buf[14], 0x45);
	assert_int_equal(buf[16] << 8 | buf[17], 23);
	assert_int_equal(buf[18] << 8 | buf[19], 0x1234);
	assert_int_equal(buf[20] << 8 | buf[21], 0x2000 | 185);	/* MF, offset 185 */
	assert_int_equal(buf[22], 64);
	assert_int_equal(buf[23], 17);
	assert_int_equal(ip_fast_csum(buf + 14, 5), 0);
	assert_memory_equal(buf + 26, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	assert_memory_equal(buf + 34, "abc", 3);
	assert_int_equal(harness_ip_frame(buf, 30, H_PEER, H_ADDR, 17, 1, 0, "abc", 3), 0);
}

static void harness_hooks_fake_the_port_and_neighbour_maps(void **state)
{
	struct harness *h = *state;
	const struct stack_hooks *k = &h->st.hooks;
	uint8_t mac[6], other[6] = { 2, 0, 0, 0, 0, 9 };
	uint64_t upd;

	assert_int_equal(k->port_claim(k->ctx, H_ADDR, 17, 7), 0);
	assert_int_equal(k->port_claim(k->ctx, H_ADDR, 17, 7), 0);
	assert_int_equal(harness_port_refs(h, H_ADDR, 17, 7), 2);
	k->port_release(k->ctx, H_ADDR, 17, 7);
	assert_int_equal(harness_port_refs(h, H_ADDR, 17, 7), 1);
	k->port_release(k->ctx, H_ADDR, 17, 7);
	assert_int_equal(harness_port_refs(h, H_ADDR, 17, 7), 0);

	assert_int_equal(k->neigh_lookup(k->ctx, H_PEER, mac, &upd), -ENOENT);
	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	assert_int_equal(*k->neigh_gen, 1);
	assert_int_equal(k->neigh_lookup(k->ctx, H_PEER, mac, &upd), 0);
	assert_memory_equal(mac, H_PEER_MAC, 6);
	assert_int_equal(upd, NSEC_PER_SEC);
	harness_add_neigh(h, H_PEER, H_PEER_MAC);	/* same MAC: no bump */
	assert_int_equal(*k->neigh_gen, 1);
	assert_int_equal(k->neigh_update(k->ctx, H_PEER, other, 7), 0);
	assert_int_equal(k->neigh_lookup(k->ctx, H_PEER, mac, &upd), 0);
	assert_memory_equal(mac, other, 6);
	assert_int_equal(upd, 7);
	assert_int_equal(k->neigh_delete(k->ctx, H_PEER), 0);
	assert_int_equal(k->neigh_delete(k->ctx, H_PEER), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(frames_reach_the_handler_of_their_ethertype),
		T(unknown_ethertype_is_dropped_and_counted),
		T(without_a_link_layer_every_frame_is_dropped),
		T(drop_reasons_are_counted_separately),
		T(ethertype_table_refuses_duplicates_and_overflow),
		T(poll_receives_in_bursts_of_at_most_rx_burst),
		T(poll_runs_due_timers_and_poll_hooks_every_time),
		T(poll_hook_table_is_bounded),
		T(poll_with_work_left_by_a_hook_counts_as_busy),
		T(replies_leave_through_the_device_tx_queue),
		T(full_tx_ring_frees_the_frame_and_counts_it),
		T(heap_buffer_is_copied_into_a_frame_to_send),
		T(frames_left_in_queues_are_purged),
		T(local_addresses_come_from_the_config),
		T(harness_ip_frame_builds_a_valid_ipv4_header),
		T(harness_hooks_fake_the_port_and_neighbour_maps),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
