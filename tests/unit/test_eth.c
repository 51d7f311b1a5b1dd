// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Ethernet: receive demux (destination class, one 802.1Q tag or a
 * priority tag, the ethertype table) and the drops by reason; transmit
 * bytes with and without a VLAN tag.  Frames are byte arrays; a test
 * ethertype handler records what eth_rcv() handed up.
 */
#include "linktest.h"

#define T_ETHERTYPE 0x88b5	/* IEEE 802 local experimental */

static struct {
	int calls;
	uint8_t pkt_type;
	uint16_t protocol;
	uint16_t vlan_tci;
	uint32_t len;
	uint32_t pulled;	/* data - mac header */
	uint8_t first;		/* first payload byte */
} seen;

static int t_handler(struct stack *st, struct pkb *pkb)
{
	(void)st;
	seen.calls++;
	seen.pkt_type = pkb->pkt_type;
	seen.protocol = pkb->protocol;
	seen.vlan_tci = pkb->vlan_tci;
	seen.len = pkb_len(pkb);
	seen.pulled = (uint32_t)(pkb->data - pkb_mac_header(pkb));
	seen.first = pkb_len(pkb) ? pkb->data[0] : 0;
	pkb_free(pkb);
	return 0;
}

static int setup(void **state)
{
	memset(&seen, 0, sizeof(seen));
	if (lt_setup(state))
		return -1;
	return dev_add_pack(&lt_h.st, T_ETHERTYPE, t_handler);
}

static int teardown(void **state)
{
	lt_h.fd.dev.vlan_id = 0;
	return lt_teardown(state);
}

/* dst, our peer as source, ethertype, then 4 payload bytes 0xa1.. */
static size_t t_frame(uint8_t *buf, const uint8_t dst[6], uint16_t type)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;

	memcpy(eh->h_dest, dst, ETH_ALEN);
	memcpy(eh->h_source, H_PEER_MAC, ETH_ALEN);
	put_be16(&eh->h_proto, type);
	buf[14] = 0xa1;
	buf[15] = 0xa2;
	buf[16] = 0xa3;
	buf[17] = 0xa4;
	return 18;
}

static size_t t_tagged(uint8_t *buf, const uint8_t dst[6], uint16_t tci, uint16_t type)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct vlan_tag *tag = (struct vlan_tag *)(eh + 1);

	memcpy(eh->h_dest, dst, ETH_ALEN);
	memcpy(eh->h_source, H_PEER_MAC, ETH_ALEN);
	put_be16(&eh->h_proto, ETH_P_8021Q);
	put_be16(&tag->tci, tci);
	put_be16(&tag->encap_proto, type);
	buf[18] = 0xa1;
	buf[19] = 0xa2;
	return 20;
}

static void frame_shorter_than_header_is_dropped_eth_short(void **state)
{
	struct harness *h = *state;
	uint8_t f[18];

	t_frame(f, H_MAC, T_ETHERTYPE);
	harness_rx(h, f, 13);
	assert_int_equal(h->fd.stats.drop.eth_short, 1);
	assert_int_equal(h->fd.stats.eth_rx, 0);
	assert_int_equal(seen.calls, 0);
}

static void unicast_to_us_is_delivered_as_host_with_header_pulled(void **state)
{
	struct harness *h = *state;
	uint8_t f[18];

	harness_rx(h, f, t_frame(f, H_MAC, T_ETHERTYPE));
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.pkt_type, PKB_HOST);
	assert_int_equal(seen.protocol, T_ETHERTYPE);
	assert_int_equal(seen.len, 4);
	assert_int_equal(seen.pulled, 14);
	assert_int_equal(seen.first, 0xa1);
	assert_int_equal(h->fd.stats.eth_rx, 1);
}

static void broadcast_and_multicast_are_delivered_and_classified(void **state)
{
	struct harness *h = *state;
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	uint8_t f[18];

	harness_rx(h, f, t_frame(f, L_BCAST, T_ETHERTYPE));
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.pkt_type, PKB_BROADCAST);
	harness_rx(h, f, t_frame(f, mcast, T_ETHERTYPE));
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.pkt_type, PKB_MULTICAST);
	assert_int_equal(h->fd.stats.eth_rx, 2);
}

static void unicast_to_another_host_is_dropped_eth_other_host(void **state)
{
	struct harness *h = *state;
	uint8_t f[18];

	harness_rx(h, f, t_frame(f, L_OTHER_MAC, T_ETHERTYPE));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(h->fd.stats.drop.eth_other_host, 1);
	assert_int_equal(h->fd.stats.eth_rx, 0);
}

static void unknown_ethertype_is_dropped_eth_unknown_type(void **state)
{
	struct harness *h = *state;
	uint8_t f[18];

	harness_rx(h, f, t_frame(f, H_MAC, 0x86dd));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(h->fd.stats.drop.eth_unknown_type, 1);
}

static void tagged_frame_on_untagged_device_is_dropped_eth_vlan(void **state)
{
	struct harness *h = *state;
	uint8_t f[20];

	harness_rx(h, f, t_tagged(f, H_MAC, 100, T_ETHERTYPE));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(h->fd.stats.drop.eth_vlan, 1);
}

/* XDP passes a VID 0 tag as untagged; the daemon must not drop it then. */
static void priority_tagged_frame_on_untagged_device_is_accepted(void **state)
{
	struct harness *h = *state;
	uint8_t f[20];

	harness_rx(h, f, t_tagged(f, H_MAC, 3 << 13, T_ETHERTYPE)); /* PCP 3, VID 0 */
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.protocol, T_ETHERTYPE);
	assert_int_equal(seen.vlan_tci, 3 << 13);
	assert_int_equal(seen.pulled, 18);
	assert_int_equal(seen.first, 0xa1);
	assert_int_equal(h->fd.stats.drop.eth_vlan, 0);
}

static void priority_tagged_frame_on_vlan_device_is_dropped_eth_vlan(void **state)
{
	struct harness *h = *state;
	uint8_t f[20];

	h->fd.dev.vlan_id = 100;
	harness_rx(h, f, t_tagged(f, H_MAC, 3 << 13, T_ETHERTYPE));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(h->fd.stats.drop.eth_vlan, 1);
}

static void matching_vlan_tag_is_accepted_and_pulled(void **state)
{
	struct harness *h = *state;
	uint8_t f[20];

	h->fd.dev.vlan_id = 100;
	/* PCP 5 in the TCI does not matter, only the VID */
	harness_rx(h, f, t_tagged(f, H_MAC, (5 << 13) | 100, T_ETHERTYPE));
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.protocol, T_ETHERTYPE);
	assert_int_equal(seen.vlan_tci, (5 << 13) | 100);
	assert_int_equal(seen.pulled, 18);
	assert_int_equal(seen.len, 2);
	assert_int_equal(seen.first, 0xa1);
}

static void other_vlan_or_untagged_frame_on_vlan_device_is_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t f[20];

	h->fd.dev.vlan_id = 100;
	harness_rx(h, f, t_tagged(f, H_MAC, 200, T_ETHERTYPE));
	harness_rx(h, f, t_frame(f, H_MAC, T_ETHERTYPE));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(h->fd.stats.drop.eth_vlan, 2);
}

static void tag_cut_short_is_dropped_eth_short(void **state)
{
	struct harness *h = *state;
	uint8_t f[20];

	h->fd.dev.vlan_id = 100;
	t_tagged(f, H_MAC, 100, T_ETHERTYPE);
	harness_rx(h, f, 16);
	assert_int_equal(h->fd.stats.drop.eth_short, 1);
	assert_int_equal(seen.calls, 0);
}

static struct pkb *t_payload_pkb(struct harness *h)
{
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);
	uint8_t *p = pkb_put(pkb, 4);

	p[0] = 0xde;
	p[1] = 0xad;
	p[2] = 0xbe;
	p[3] = 0xef;
	pkb->dev = NULL;	/* eth_output fills it in */
	return pkb;
}

static void eth_output_writes_exact_untagged_header(void **state)
{
	struct harness *h = *state;
	static const uint8_t want[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* peer */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* us */
		0x08, 0x00,
		0xde, 0xad, 0xbe, 0xef,
	};

	assert_int_equal(eth_output(&h->st, t_payload_pkb(h), H_PEER_MAC, 0x0800), 0);
	lt_expect_frame(h, want, sizeof(want));
	assert_int_equal(h->fd.stats.eth_tx, 1);
}

static void eth_output_on_vlan_device_inserts_the_tag(void **state)
{
	struct harness *h = *state;
	static const uint8_t want[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x81, 0x00, 0x00, 0x64,			/* 802.1Q, VID 100 */
		0x08, 0x06,
		0xde, 0xad, 0xbe, 0xef,
	};

	h->fd.dev.vlan_id = 100;
	assert_int_equal(eth_output(&h->st, t_payload_pkb(h), H_PEER_MAC, 0x0806), 0);
	lt_expect_frame(h, want, sizeof(want));
}

static void eth_output_without_headroom_drops_enobufs(void **state)
{
	struct harness *h = *state;
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);

	/* use up the headroom */
	pkb->data = pkb->tail = pkb->head + 10;
	pkb_put(pkb, 4);
	assert_int_equal(eth_output(&h->st, pkb, H_PEER_MAC, 0x0800), -ENOBUFS);
	assert_int_equal(h->fd.stats.drop.eth_headroom, 1);
	assert_int_equal(h->fd.stats.eth_tx, 0);
	lt_expect_no_tx(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(frame_shorter_than_header_is_dropped_eth_short),
		T(unicast_to_us_is_delivered_as_host_with_header_pulled),
		T(broadcast_and_multicast_are_delivered_and_classified),
		T(unicast_to_another_host_is_dropped_eth_other_host),
		T(unknown_ethertype_is_dropped_eth_unknown_type),
		T(tagged_frame_on_untagged_device_is_dropped_eth_vlan),
		T(priority_tagged_frame_on_untagged_device_is_accepted),
		T(priority_tagged_frame_on_vlan_device_is_dropped_eth_vlan),
		T(matching_vlan_tag_is_accepted_and_pulled),
		T(other_vlan_or_untagged_frame_on_vlan_device_is_dropped),
		T(tag_cut_short_is_dropped_eth_short),
		T(eth_output_writes_exact_untagged_header),
		T(eth_output_on_vlan_device_inserts_the_tag),
		T(eth_output_without_headroom_drops_enobufs),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
