// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Neighbour resolution for output on the simulated clock: the first packet
 * parks and broadcasts a request (exact bytes), the reply flushes the queue
 * in order, queue bounds, retransmission every second and failure to the
 * error handler, the shared map (hit, late appearance, generation change),
 * stale re-confirmation by unicast, aging, special destinations.
 */
#include "linktest.h"
#include "link/neigh_internal.h"

#define PEER3 IP4(10, 0, 0, 3)

static struct {
	int calls;
	int err;
	uint16_t seqs[64];
} failed;

static void t_error_handler(struct stack *st, struct pkb *pkb, int err)
{
	(void)st;
	failed.err = err;
	if (failed.calls < 64)
		failed.seqs[failed.calls] = (uint16_t)(pkb->data[4] << 8 | pkb->data[5]);
	failed.calls++;
	pkb_free(pkb);
}

static int setup(void **state)
{
	memset(&failed, 0, sizeof(failed));
	return lt_setup(state);
}

static int shared_lookup(struct harness *h, uint32_t ip, uint8_t mac[6])
{
	uint64_t upd;

	return h->st.hooks.neigh_lookup(h->st.hooks.ctx, ip, mac, &upd);
}

static int state_of(struct harness *h, uint32_t ip)
{
	struct neigh_info ni;

	if (neigh_get(&h->st, ip, &ni))
		return -1;
	return ni.state;
}

/* Advance the clock in 10 ms polls, as a worker would wake for its timers. */
static void run_for(struct harness *h, uint64_t ns)
{
	uint64_t step = 10 * NSEC_PER_MSEC;

	while (ns >= step) {
		harness_advance(h, step);
		ns -= step;
	}
	if (ns)
		harness_advance(h, ns);
}

static void first_packet_parks_and_broadcasts_exact_request(void **state)
{
	struct harness *h = *state;
	struct neigh_info ni;
	static const uint8_t want[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
		0x00, 0x01,				/* request */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* sha: us */
		10, 0, 0, 1,				/* spa: our address on its subnet */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* tha unknown */
		10, 0, 0, 2,				/* tpa: the next hop */
	};

	assert_int_equal(neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER), 0);
	lt_expect_frame(h, want, sizeof(want));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_req_sent, 1);
	assert_int_equal(h->fd.stats.neigh_queued, 1);
	assert_int_equal(neigh_get(&h->st, H_PEER, &ni), 0);
	assert_int_equal(ni.state, NEIGH_INCOMPLETE);
	assert_int_equal(ni.queued, 1);
}

static void reply_flushes_parked_packets_in_order(void **state)
{
	struct harness *h = *state;
	uint8_t mac[6];
	uint16_t i;

	for (i = 1; i <= 3; i++)
		assert_int_equal(neigh_output(&h->st, lt_ip_pkb(h, i), H_PEER), 0);
	/* one request for the three packets */
	lt_expect_request(h, L_BCAST, H_PEER);
	lt_expect_no_tx(h);

	lt_rx_peer_reply(h, H_PEER, H_PEER_MAC);
	for (i = 1; i <= 3; i++)
		lt_expect_ip(h, H_PEER_MAC, i);
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_resolved, 1);
	assert_int_equal(state_of(h, H_PEER), NEIGH_REACHABLE);
	assert_int_equal(shared_lookup(h, H_PEER, mac), 0);
	assert_memory_equal(mac, H_PEER_MAC, 6);

	/* resolved: the next packet goes straight out */
	assert_int_equal(neigh_output(&h->st, lt_ip_pkb(h, 4), H_PEER), 0);
	lt_expect_ip(h, H_PEER_MAC, 4);
	assert_int_equal(h->fd.stats.arp_req_sent, 1);
}

static void full_neighbour_queue_drops_the_oldest(void **state)
{
	struct harness *h = *state;
	uint16_t i;

	for (i = 1; i <= NEIGH_QUEUE_LEN + 4; i++)
		neigh_output(&h->st, lt_ip_pkb(h, i), H_PEER);
	assert_int_equal(h->fd.stats.drop.arp_queue_full, 4);
	pkb_free(lt_pop(h));	/* the request */

	lt_rx_peer_reply(h, H_PEER, H_PEER_MAC);
	for (i = 5; i <= NEIGH_QUEUE_LEN + 4; i++)
		lt_expect_ip(h, H_PEER_MAC, i);
	lt_expect_no_tx(h);
}

static void total_parked_packets_are_bounded(void **state)
{
	struct harness *h = *state;
	uint32_t n, parked = 0;
	uint16_t i;

	/* 17 neighbours x 16 packets is more than the total bound */
	for (n = 0; n < 17; n++)
		for (i = 0; i < NEIGH_QUEUE_LEN; i++)
			neigh_output(&h->st, lt_ip_pkb(h, i), IP4(10, 0, 0, 10 + n));
	for (n = 0; n < 17; n++) {
		struct neigh_info ni;

		assert_int_equal(neigh_get(&h->st, IP4(10, 0, 0, 10 + n), &ni), 0);
		parked += ni.queued;
	}
	assert_true(parked < 17 * NEIGH_QUEUE_LEN);
	assert_int_equal(h->fd.stats.drop.arp_queue_full, 17 * NEIGH_QUEUE_LEN - parked);
	assert_int_equal(h->fd.txq.len, 17);	/* one request each */
	fakedev_purge(&h->fd);
	/* neigh_fini (teardown) frees what is still parked */
}

static void requests_repeat_every_second_then_packets_go_to_error_handler(void **state)
{
	struct harness *h = *state;

	neigh_set_error_handler(&h->st, t_error_handler);
	neigh_output(&h->st, lt_ip_pkb(h, 7), H_PEER);
	neigh_output(&h->st, lt_ip_pkb(h, 8), H_PEER);
	lt_expect_request(h, L_BCAST, H_PEER);

	run_for(h, 990 * NSEC_PER_MSEC);
	lt_expect_no_tx(h);
	run_for(h, 10 * NSEC_PER_MSEC);		/* 1 s after the first */
	lt_expect_request(h, L_BCAST, H_PEER);
	run_for(h, NSEC_PER_SEC);
	lt_expect_request(h, L_BCAST, H_PEER);
	assert_int_equal(failed.calls, 0);
	assert_int_equal(h->fd.stats.arp_req_sent, 3);

	/* NEIGH_MAX_PROBES requests unanswered: fail after one more second */
	run_for(h, NSEC_PER_SEC - 10 * NSEC_PER_MSEC);
	assert_int_equal(failed.calls, 0);
	run_for(h, 10 * NSEC_PER_MSEC);
	lt_expect_no_tx(h);
	assert_int_equal(failed.calls, 2);
	assert_int_equal(failed.err, -EHOSTUNREACH);
	assert_int_equal(failed.seqs[0], 7);
	assert_int_equal(failed.seqs[1], 8);
	assert_int_equal(h->fd.stats.arp_failed, 1);
	assert_int_equal(h->fd.stats.arp_req_sent, 3);
	assert_int_equal(state_of(h, H_PEER), NEIGH_FAILED);
}

static void failure_without_error_handler_drops_arp_unresolved(void **state)
{
	struct harness *h = *state;

	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	run_for(h, 3 * NSEC_PER_SEC);
	fakedev_purge(&h->fd);
	assert_int_equal(h->fd.stats.drop.arp_unresolved, 1);
	assert_int_equal(h->fd.stats.arp_failed, 1);
}

static void failed_neighbour_is_retried_by_the_next_packet(void **state)
{
	struct harness *h = *state;

	neigh_set_error_handler(&h->st, t_error_handler);
	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	run_for(h, 3 * NSEC_PER_SEC);
	fakedev_purge(&h->fd);
	assert_int_equal(state_of(h, H_PEER), NEIGH_FAILED);

	neigh_output(&h->st, lt_ip_pkb(h, 2), H_PEER);
	lt_expect_request(h, L_BCAST, H_PEER);
	assert_int_equal(state_of(h, H_PEER), NEIGH_INCOMPLETE);
	lt_rx_peer_reply(h, H_PEER, H_PEER_MAC);
	lt_expect_ip(h, H_PEER_MAC, 2);
}

static void shared_map_hit_sends_without_arp(void **state)
{
	struct harness *h = *state;

	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	assert_int_equal(neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER), 0);
	lt_expect_ip(h, H_PEER_MAC, 1);
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_req_sent, 0);
	assert_int_equal(state_of(h, H_PEER), NEIGH_REACHABLE);
}

static void shared_entry_appearing_while_incomplete_is_used_within_10ms(void **state)
{
	struct harness *h = *state;

	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	lt_expect_request(h, L_BCAST, H_PEER);
	/* XDP learns the reply into the map and hands it to the kernel */
	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	harness_advance(h, 10 * NSEC_PER_MSEC);
	lt_expect_ip(h, H_PEER_MAC, 1);
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_resolved, 1);
	assert_int_equal(state_of(h, H_PEER), NEIGH_REACHABLE);
}

static void reply_learnt_by_another_worker_resolves_this_one(void **state)
{
	struct harness *h = *state;

	/* the reply lands on another queue; that worker writes the shared map
	 * (same as XDP) and this worker's tick picks it up */
	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	pkb_free(lt_pop(h));
	h->st.hooks.neigh_update(h->st.hooks.ctx, H_PEER, H_PEER_MAC, clock_now());
	harness_advance(h, 10 * NSEC_PER_MSEC);
	lt_expect_ip(h, H_PEER_MAC, 1);
}

static void generation_change_invalidates_the_cache(void **state)
{
	struct harness *h = *state;
	int i;

	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	lt_expect_ip(h, H_PEER_MAC, 1);

	/* the map changes without a generation bump: the cache is used */
	for (i = 0; i < H_MAX_NEIGH; i++)
		if (h->neigh[i].used && h->neigh[i].ip == H_PEER)
			memcpy(h->neigh[i].mac, L_OTHER_MAC, 6);
	neigh_output(&h->st, lt_ip_pkb(h, 2), H_PEER);
	lt_expect_ip(h, H_PEER_MAC, 2);

	/* XDP changes the MAC and bumps neigh_gen: the cache is re-read */
	harness_add_neigh(h, H_PEER, L_NEW_MAC);
	neigh_output(&h->st, lt_ip_pkb(h, 3), H_PEER);
	lt_expect_ip(h, L_NEW_MAC, 3);
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_req_sent, 0);
}

/* Resolve H_PEER through ARP at the current time. */
static void resolve_peer(struct harness *h)
{
	neigh_output(&h->st, lt_ip_pkb(h, 0), H_PEER);
	pkb_free(lt_pop(h));
	lt_rx_peer_reply(h, H_PEER, H_PEER_MAC);
	lt_expect_ip(h, H_PEER_MAC, 0);
}

static void stale_entry_keeps_sending_and_reconfirms_by_unicast(void **state)
{
	struct harness *h = *state;

	resolve_peer(h);
	harness_advance(h, NEIGH_STALE_NS + NSEC_PER_SEC);

	/* still used; a unicast request (Linux's PROBE) goes to the known MAC */
	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	lt_expect_request(h, H_PEER_MAC, H_PEER);
	lt_expect_ip(h, H_PEER_MAC, 1);
	assert_int_equal(state_of(h, H_PEER), NEIGH_STALE);

	/* no second request within a second */
	neigh_output(&h->st, lt_ip_pkb(h, 2), H_PEER);
	lt_expect_ip(h, H_PEER_MAC, 2);
	lt_expect_no_tx(h);

	lt_rx_peer_reply(h, H_PEER, H_PEER_MAC);
	assert_int_equal(state_of(h, H_PEER), NEIGH_REACHABLE);
	neigh_output(&h->st, lt_ip_pkb(h, 3), H_PEER);
	lt_expect_ip(h, H_PEER_MAC, 3);
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_req_sent, 2);
}

static void stale_entry_confirmed_by_fresher_shared_entry_needs_no_arp(void **state)
{
	struct harness *h = *state;

	resolve_peer(h);
	harness_advance(h, NEIGH_STALE_NS + NSEC_PER_SEC);
	/* XDP saw the peer ARP us a moment ago */
	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	neigh_output(&h->st, lt_ip_pkb(h, 1), H_PEER);
	lt_expect_ip(h, H_PEER_MAC, 1);
	lt_expect_no_tx(h);
	assert_int_equal(state_of(h, H_PEER), NEIGH_REACHABLE);
}

static void unanswered_unicast_probes_fall_back_to_broadcast(void **state)
{
	struct harness *h = *state;
	int i;

	resolve_peer(h);
	harness_advance(h, NEIGH_STALE_NS + NSEC_PER_SEC);
	for (i = 1; i <= NEIGH_MAX_PROBES; i++) {
		neigh_output(&h->st, lt_ip_pkb(h, (uint16_t)i), H_PEER);
		lt_expect_request(h, H_PEER_MAC, H_PEER);
		lt_expect_ip(h, H_PEER_MAC, (uint16_t)i);
		harness_advance(h, NSEC_PER_SEC);
	}
	/* the old MAC is given up: park, broadcast; the stale shared entry
	 * does not count as an answer */
	neigh_output(&h->st, lt_ip_pkb(h, 9), H_PEER);
	lt_expect_request(h, L_BCAST, H_PEER);
	lt_expect_no_tx(h);
	assert_int_equal(state_of(h, H_PEER), NEIGH_INCOMPLETE);
	harness_advance(h, 10 * NSEC_PER_MSEC);
	lt_expect_no_tx(h);

	lt_rx_peer_reply(h, H_PEER, L_NEW_MAC);
	lt_expect_ip(h, L_NEW_MAC, 9);
}

static void aging_forgets_old_entries_in_cache_and_shared_map(void **state)
{
	struct harness *h = *state;
	uint8_t mac[6];
	int i;

	resolve_peer(h);	/* confirmed at t = 1 s */
	for (i = 0; i < 20; i++)
		harness_advance(h, 5 * NSEC_PER_SEC);
	/* t = 101 s: 100 s old, kept */
	assert_int_equal(state_of(h, H_PEER), NEIGH_REACHABLE);
	assert_int_equal(shared_lookup(h, H_PEER, mac), 0);
	/* a fresh one, learnt by another worker (no generation bump) */
	h->st.hooks.neigh_update(h->st.hooks.ctx, PEER3, L_OTHER_MAC, clock_now());
	neigh_output(&h->st, lt_ip_pkb(h, 1), PEER3);
	lt_expect_ip(h, L_OTHER_MAC, 1);

	for (i = 0; i < 6; i++)
		harness_advance(h, 5 * NSEC_PER_SEC);
	/* t = 131 s: H_PEER is 130 s old (> NEIGH_GC_NS), PEER3 30 s */
	assert_int_equal(state_of(h, H_PEER), -1);
	assert_int_equal(shared_lookup(h, H_PEER, mac), -ENOENT);
	assert_int_not_equal(state_of(h, PEER3), -1);
	assert_int_equal(shared_lookup(h, PEER3, mac), 0);
	lt_expect_no_tx(h);
}

static void special_destinations_need_no_arp(void **state)
{
	struct harness *h = *state;
	static const uint8_t mdns[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	static const uint8_t m23[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };

	neigh_output(&h->st, lt_ip_pkb(h, 1), IP4(255, 255, 255, 255));
	lt_expect_ip(h, L_BCAST, 1);
	neigh_output(&h->st, lt_ip_pkb(h, 2), IP4(10, 0, 0, 255));	/* 10.0.0.0/24 */
	lt_expect_ip(h, L_BCAST, 2);
	neigh_output(&h->st, lt_ip_pkb(h, 3), IP4(224, 0, 0, 251));
	lt_expect_ip(h, mdns, 3);
	/* RFC 1112 6.4: only the low 23 bits are mapped */
	neigh_output(&h->st, lt_ip_pkb(h, 4), IP4(239, 129, 2, 3));
	lt_expect_ip(h, m23, 4);
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_req_sent, 0);
}

static void request_source_is_our_address_on_the_target_subnet(void **state)
{
	struct harness *h = *state;
	uint8_t want[42];

	h->cfg.addrs[1].addr = IP4(192, 168, 7, 1);
	h->cfg.addrs[1].prefix_len = 24;
	h->cfg.n_addrs = 2;
	neigh_output(&h->st, lt_ip_pkb(h, 1), IP4(192, 168, 7, 9));
	lt_arp_frame(want, L_BCAST, H_MAC, 1, H_MAC, IP4(192, 168, 7, 1), L_ZERO,
		     IP4(192, 168, 7, 9));
	lt_expect_frame(h, want, sizeof(want));
	/* off every subnet: the first address */
	neigh_output(&h->st, lt_ip_pkb(h, 2), IP4(172, 16, 0, 1));
	lt_arp_frame(want, L_BCAST, H_MAC, 1, H_MAC, H_ADDR, L_ZERO, IP4(172, 16, 0, 1));
	lt_expect_frame(h, want, sizeof(want));
	h->cfg.n_addrs = 1;
}

static void full_cache_evicts_a_resolved_entry(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 };
	struct neigh_info ni;
	uint32_t i;

	/* 1025 hosts ask for us: the cache holds 1024 */
	for (i = 0; i < 1025; i++) {
		uint32_t ip = IP4(10, 1, i >> 8, i & 0xff);

		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		lt_arp_frame(f, L_BCAST, mac, 1, mac, ip, L_ZERO, H_ADDR);
		harness_rx(h, f, sizeof(f));
		pkb_free(lt_pop(h));
	}
	assert_int_equal(h->fd.stats.neigh_evicted, 1);
	assert_int_equal(neigh_get(&h->st, IP4(10, 1, 4, 0), &ni), 0);
}

/*
 * The table's hash is keyed: 1,024 IPv6 keys chosen to collide under a
 * fixed multiplicative hash (w[0] ^ w[1] * C the same for all) spread over
 * the buckets, and land elsewhere under another table's key.
 */
static void the_neighbour_hash_is_keyed(void **state)
{
	struct neigh_table t1 = {0}, t2 = {0};
	bool used[NEIGH_BUCKETS] = {0};
	unsigned int i, distinct = 0, same = 0;
	union neigh_key k;

	(void)state;
	t1.hash_key[0] = 0x0123456789abcdefull;
	t1.hash_key[1] = 0x02468ace13579bdfull;
	t2.hash_key[0] = 0x13579bdf02468acfull;
	t2.hash_key[1] = 0x89abcdef01234567ull;
	for (i = 0; i < 1024; i++) {
		k.w[1] = (uint64_t)i + 1;
		k.w[0] = 0x20010db800000000ull ^ (k.w[1] * 0x9e3779b97f4a7c15ull);
		distinct += !used[neigh_hash(&t1, &k)];
		used[neigh_hash(&t1, &k)] = true;
		same += neigh_hash(&t1, &k) == neigh_hash(&t2, &k);
	}
	assert_true(distinct >= NEIGH_BUCKETS * 3 / 4);
	assert_true(same < 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, lt_teardown)
		T(first_packet_parks_and_broadcasts_exact_request),
		T(reply_flushes_parked_packets_in_order),
		T(full_neighbour_queue_drops_the_oldest),
		T(total_parked_packets_are_bounded),
		T(requests_repeat_every_second_then_packets_go_to_error_handler),
		T(failure_without_error_handler_drops_arp_unresolved),
		T(failed_neighbour_is_retried_by_the_next_packet),
		T(shared_map_hit_sends_without_arp),
		T(shared_entry_appearing_while_incomplete_is_used_within_10ms),
		T(reply_learnt_by_another_worker_resolves_this_one),
		T(generation_change_invalidates_the_cache),
		T(stale_entry_keeps_sending_and_reconfirms_by_unicast),
		T(stale_entry_confirmed_by_fresher_shared_entry_needs_no_arp),
		T(unanswered_unicast_probes_fall_back_to_broadcast),
		T(aging_forgets_old_entries_in_cache_and_shared_map),
		T(special_destinations_need_no_arp),
		T(request_source_is_our_address_on_the_target_subnet),
		T(full_cache_evicts_a_resolved_entry),
#undef T
		cmocka_unit_test(the_neighbour_hash_is_keyed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
