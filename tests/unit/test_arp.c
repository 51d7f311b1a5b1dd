// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ARP input (RFC 826, RFC 5227) as Linux behaves: the exact reply to a
 * request for our address, RFC 5227 probes answered and not learnt,
 * gratuitous ARP updating existing entries only, conflicts, requests for
 * other hosts, and malformed frames counted and ignored.
 */
#include "linktest.h"

#define PEER3 IP4(10, 0, 0, 3)

static int shared_mac(struct harness *h, uint32_t ip, uint8_t mac[6])
{
	uint64_t upd;

	return h->st.hooks.neigh_lookup(h->st.hooks.ctx, ip, mac, &upd);
}

static void request_for_our_address_gets_exact_reply_and_learns_sender(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6];
	struct neigh_info ni;
	static const uint8_t want[42] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* to the asker */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* from us */
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
		0x00, 0x02,				/* reply */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* sha: us */
		10, 0, 0, 1,				/* spa: 10.0.0.1 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* tha: asker */
		10, 0, 0, 2,				/* tpa: asker */
	};

	lt_arp_frame(f, L_BCAST, H_PEER_MAC, 1, H_PEER_MAC, H_PEER, L_ZERO, H_ADDR);
	harness_rx(h, f, sizeof(f));
	lt_expect_frame(h, want, sizeof(want));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_rx, 1);
	assert_int_equal(h->fd.stats.arp_reply_sent, 1);

	assert_int_equal(neigh_get(&h->st, H_PEER, &ni), 0);
	assert_int_equal(ni.state, NEIGH_REACHABLE);
	assert_memory_equal(ni.mac, H_PEER_MAC, 6);
	assert_int_equal(shared_mac(h, H_PEER, mac), 0);
	assert_memory_equal(mac, H_PEER_MAC, 6);
}

static void request_padded_to_minimum_frame_is_answered(void **state)
{
	struct harness *h = *state;
	uint8_t f[60];

	memset(f, 0, sizeof(f));
	lt_arp_frame(f, L_BCAST, H_PEER_MAC, 1, H_PEER_MAC, H_PEER, L_ZERO, H_ADDR);
	harness_rx(h, f, sizeof(f));
	assert_int_equal(h->fd.stats.arp_reply_sent, 1);
	pkb_free(lt_pop(h));
}

static void probe_for_our_address_is_answered_linux_style_and_not_learnt(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6];
	struct neigh_info ni;
	static const uint8_t want[42] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x03,	/* to the prober's MAC */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
		0x00, 0x02,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		10, 0, 0, 1,				/* the address in use */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
		0, 0, 0, 0,				/* target IP 0.0.0.0 */
	};

	/* RFC 5227 2.1.1: sender IP 0, target the address being probed */
	lt_arp_frame(f, L_BCAST, L_OTHER_MAC, 1, L_OTHER_MAC, 0, L_ZERO, H_ADDR);
	harness_rx(h, f, sizeof(f));
	lt_expect_frame(h, want, sizeof(want));
	assert_int_equal(h->fd.stats.arp_probe_reply, 1);
	assert_int_equal(neigh_get(&h->st, 0, &ni), -ENOENT);
	assert_int_equal(shared_mac(h, 0, mac), -ENOENT);
}

static void probe_for_another_address_is_ignored(void **state)
{
	struct harness *h = *state;
	uint8_t f[42];

	lt_arp_frame(f, L_BCAST, L_OTHER_MAC, 1, L_OTHER_MAC, 0, L_ZERO, PEER3);
	harness_rx(h, f, sizeof(f));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_probe_reply, 0);
	assert_int_equal(h->fd.stats.drop.arp_not_ours, 1);
}

static void gratuitous_arp_never_creates_an_entry(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6];
	struct neigh_info ni;

	/* announcement (request form) and reply form, RFC 5227 3 */
	lt_arp_frame(f, L_BCAST, L_OTHER_MAC, 1, L_OTHER_MAC, PEER3, L_ZERO, PEER3);
	harness_rx(h, f, sizeof(f));
	lt_arp_frame(f, L_BCAST, L_OTHER_MAC, 2, L_OTHER_MAC, PEER3, L_BCAST, PEER3);
	harness_rx(h, f, sizeof(f));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_gratuitous, 2);
	assert_int_equal(neigh_get(&h->st, PEER3, &ni), -ENOENT);
	assert_int_equal(shared_mac(h, PEER3, mac), -ENOENT);
}

static void gratuitous_arp_updates_an_existing_entry(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6];
	struct neigh_info ni;

	/* learn 10.0.0.3 from its request to us */
	lt_arp_frame(f, L_BCAST, L_OTHER_MAC, 1, L_OTHER_MAC, PEER3, L_ZERO, H_ADDR);
	harness_rx(h, f, sizeof(f));
	pkb_free(lt_pop(h));

	/* it moves to another NIC and announces itself */
	lt_arp_frame(f, L_BCAST, L_NEW_MAC, 1, L_NEW_MAC, PEER3, L_ZERO, PEER3);
	harness_rx(h, f, sizeof(f));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_gratuitous, 1);
	assert_int_equal(neigh_get(&h->st, PEER3, &ni), 0);
	assert_memory_equal(ni.mac, L_NEW_MAC, 6);
	assert_int_equal(ni.state, NEIGH_REACHABLE);
	assert_int_equal(shared_mac(h, PEER3, mac), 0);
	assert_memory_equal(mac, L_NEW_MAC, 6);
}

static void gratuitous_arp_updates_an_entry_known_only_to_the_shared_map(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6];
	struct neigh_info ni;

	harness_add_neigh(h, PEER3, L_OTHER_MAC);
	lt_arp_frame(f, L_BCAST, L_NEW_MAC, 1, L_NEW_MAC, PEER3, L_ZERO, PEER3);
	harness_rx(h, f, sizeof(f));
	assert_int_equal(shared_mac(h, PEER3, mac), 0);
	assert_memory_equal(mac, L_NEW_MAC, 6);
	assert_int_equal(neigh_get(&h->st, PEER3, &ni), -ENOENT);
}

static void request_for_another_host_is_dropped_and_not_learnt(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], mac[6];
	struct neigh_info ni;

	lt_arp_frame(f, L_BCAST, H_PEER_MAC, 1, H_PEER_MAC, H_PEER, L_ZERO, PEER3);
	harness_rx(h, f, sizeof(f));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.drop.arp_not_ours, 1);
	assert_int_equal(neigh_get(&h->st, H_PEER, &ni), -ENOENT);
	assert_int_equal(shared_mac(h, H_PEER, mac), -ENOENT);
}

static void sender_claiming_our_address_is_counted_not_learnt(void **state)
{
	struct harness *h = *state;
	uint8_t f[42];
	struct neigh_info ni;

	/* RFC 5227 2.4: another host announces 10.0.0.1 */
	lt_arp_frame(f, L_BCAST, L_OTHER_MAC, 1, L_OTHER_MAC, H_ADDR, L_ZERO, H_ADDR);
	harness_rx(h, f, sizeof(f));
	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.arp_conflict, 1);
	assert_int_equal(neigh_get(&h->st, H_ADDR, &ni), -ENOENT);
}

static void malformed_arp_is_counted_and_ignored(void **state)
{
	struct harness *h = *state;
	uint8_t f[42], base[42];
	struct neigh_info ni;
	int i;

	static const struct {
		int off;
		uint8_t val;
	} bad[] = {
		{ 15, 6 },	/* htype IEEE 802 */
		{ 16, 0x86 },	/* ptype 0x86dd */
		{ 18, 8 },	/* hlen */
		{ 19, 16 },	/* plen */
		{ 21, 3 },	/* op RARP request */
		{ 21, 0 },	/* op 0 */
		{ 28, 224 },	/* sender IP multicast */
		{ 28, 127 },	/* sender IP loopback */
	};

	lt_arp_frame(base, L_BCAST, H_PEER_MAC, 1, H_PEER_MAC, H_PEER, L_ZERO, H_ADDR);
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		memcpy(f, base, sizeof(f));
		f[bad[i].off] = bad[i].val;
		harness_rx(h, f, sizeof(f));
	}
	/* truncated: one byte short of the 28-byte body */
	harness_rx(h, base, 41);

	lt_expect_no_tx(h);
	assert_int_equal(h->fd.stats.drop.arp_malformed, (int)(sizeof(bad) / sizeof(bad[0])) + 1);
	assert_int_equal(h->fd.stats.arp_rx, (int)(sizeof(bad) / sizeof(bad[0])) + 1);
	assert_int_equal(h->fd.stats.arp_reply_sent, 0);
	assert_int_equal(neigh_get(&h->st, H_PEER, &ni), -ENOENT);

	/* and the stack still answers a good one */
	harness_rx(h, base, sizeof(base));
	assert_int_equal(h->fd.stats.arp_reply_sent, 1);
	pkb_free(lt_pop(h));
}

static void request_on_vlan_device_is_answered_tagged(void **state)
{
	struct harness *h = *state;
	uint8_t f[46], arp[42];
	struct pkb *pkb;

	h->fd.dev.vlan_id = 7;
	lt_arp_frame(arp, L_BCAST, H_PEER_MAC, 1, H_PEER_MAC, H_PEER, L_ZERO, H_ADDR);
	memcpy(f, arp, 12);
	put_be16(f + 12, ETH_P_8021Q);
	put_be16(f + 14, 7);
	memcpy(f + 16, arp + 12, 30);
	harness_rx(h, f, sizeof(f));
	pkb = lt_pop(h);
	assert_int_equal(pkb_len(pkb), 46);
	assert_int_equal(pkb->data[12] << 8 | pkb->data[13], 0x8100);
	assert_int_equal(pkb->data[14] << 8 | pkb->data[15], 7);
	assert_int_equal(pkb->data[16] << 8 | pkb->data[17], 0x0806);
	assert_int_equal(pkb->data[18 + 7], 2);	/* op reply */
	pkb_free(pkb);
	h->fd.dev.vlan_id = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, lt_setup, lt_teardown)
		T(request_for_our_address_gets_exact_reply_and_learns_sender),
		T(request_padded_to_minimum_frame_is_answered),
		T(probe_for_our_address_is_answered_linux_style_and_not_learnt),
		T(probe_for_another_address_is_ignored),
		T(gratuitous_arp_never_creates_an_entry),
		T(gratuitous_arp_updates_an_existing_entry),
		T(gratuitous_arp_updates_an_entry_known_only_to_the_shared_map),
		T(request_for_another_host_is_dropped_and_not_learnt),
		T(sender_claiming_our_address_is_counted_not_learnt),
		T(malformed_arp_is_counted_and_ignored),
		T(request_on_vlan_device_is_answered_tagged),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
