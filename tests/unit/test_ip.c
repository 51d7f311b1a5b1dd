// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 input: every validation drop of ip_rcv() (RFC 791, RFC 1122 3.2.1)
 * counted by its reason, delivery to a registered protocol with the header
 * offsets a handler relies on, options skipped, Ethernet padding trimmed,
 * broadcast only for UDP, and the neighbour layer's failure reported to the
 * transport's err_handler.
 */
#include "iptest.h"

#include <errno.h>

#include "link/neigh.h"

static const uint8_t payload[] = "0123456789abcdefghij";	/* 21 bytes */


static void test_ip_delivers_payload_to_registered_protocol(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX];
	size_t n = t_frame(f, H_PEER, H_ADDR, T_PROTO, 7, 0, payload, sizeof(payload));

	harness_rx(h, f, n);
	assert_int_equal(t_rec.calls, 1);
	assert_int_equal(t_rec.len, sizeof(payload));
	assert_memory_equal(t_rec.data, payload, sizeof(payload));
	assert_memory_equal(t_rec.iph, f + T_ETH, 20);
	assert_true(t_rec.nh_ok);
	assert_int_equal(T_STAT(h, ip_rx), 1);
	assert_int_equal(T_STAT(h, ip_delivered), 1);
}

static void test_ip_trims_ethernet_padding(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX] = { 0 };
	size_t n = t_frame(f, H_PEER, H_ADDR, T_PROTO, 7, 0, "ab", 2);

	/* padded to the 60-byte Ethernet minimum with zeros */
	assert_true(n < 60);
	harness_rx(h, f, 60);
	assert_int_equal(t_rec.calls, 1);
	assert_int_equal(t_rec.len, 2);
	assert_memory_equal(t_rec.data, "ab", 2);
}

static void test_ip_skips_options(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX];
	uint8_t *ip = f + T_ETH;
	size_t n = t_frame(f, H_PEER, H_ADDR, T_PROTO, 7, 0, payload, sizeof(payload));

	/* insert 8 bytes of options: record route (7 bytes, empty) + EOL */
	memmove(ip + 28, ip + 20, sizeof(payload));
	ip[20] = 7;	/* RR */
	ip[21] = 7;
	ip[22] = 4;
	memset(ip + 23, 0, 4);
	ip[27] = 0;	/* EOL */
	ip[0] = 0x47;
	t_put16(ip + 2, (uint16_t)(28 + sizeof(payload)));
	t_ip_fix(ip);
	harness_rx(h, f, n + 8);
	assert_int_equal(t_rec.calls, 1);
	assert_int_equal(t_rec.len, sizeof(payload));
	assert_memory_equal(t_rec.data, payload, sizeof(payload));
	assert_int_equal(t_rec.iph[0], 0x47);
	assert_true(t_rec.nh_ok);
}

/* Craft a frame, let mutate() spoil it, expect exactly one drop of reason. */
static void expect_drop(struct harness *h, void (*mutate)(uint8_t *ip, size_t *n), size_t off)
{
	uint8_t f[T_FRAME_MAX];
	size_t n = t_frame(f, H_PEER, H_ADDR, T_PROTO, 7, 0, payload, sizeof(payload));

	mutate(f + T_ETH, &n);
	harness_rx(h, f, n);
	assert_int_equal(t_rec.calls, 0);
	assert_int_equal(((uint64_t *)&h->fd.stats.drop)[off / sizeof(uint64_t)], 1);
	assert_int_equal(T_STAT(h, ip_delivered), 0);
}

#define DROP_OFF(reason) offsetof(struct skiff_drop_stats, reason)

static void m_short(uint8_t *ip, size_t *n)
{
	(void)ip;
	*n = T_ETH + 19;
}

static void m_version(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[0] = 0x65;
	t_ip_fix(ip);
}

static void m_ihl_small(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[0] = 0x44;
	ip[10] = 0x12;	/* checksum is not even looked at */
}

static void m_ihl_past_data(uint8_t *ip, size_t *n)
{
	ip[0] = 0x4f;	/* 60 bytes of header */
	*n = T_ETH + 40;
}

static void m_csum(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[10] ^= 0x01;
}

static void m_totlen_long(uint8_t *ip, size_t *n)
{
	(void)n;
	t_put16(ip + 2, t_get16(ip + 2) + 1);
	t_ip_fix(ip);
}

static void m_totlen_short(uint8_t *ip, size_t *n)
{
	(void)n;
	t_put16(ip + 2, 19);
	t_ip_fix(ip);
}

static void m_ttl0(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[8] = 0;
	t_ip_fix(ip);
}

static void m_not_ours(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[19] = 3;	/* 10.0.0.3 */
	t_ip_fix(ip);
}

static void m_bcast_not_udp(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[19] = 255;	/* 10.0.0.255: subnet broadcast, protocol T_PROTO */
	t_ip_fix(ip);
}

static void m_src_multicast(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[12] = 224;
	t_ip_fix(ip);
}

static void m_src_bcast(uint8_t *ip, size_t *n)
{
	(void)n;
	ip[15] = 255;	/* 10.0.0.255 */
	t_ip_fix(ip);
}

static void test_ip_drops_too_short(void **s)
{
	expect_drop(*s, m_short, DROP_OFF(ip_short));
}

static void test_ip_drops_version_not_4(void **s)
{
	expect_drop(*s, m_version, DROP_OFF(ip_version));
}

static void test_ip_drops_ihl_below_5(void **s)
{
	expect_drop(*s, m_ihl_small, DROP_OFF(ip_ihl));
}

static void test_ip_drops_ihl_past_data(void **s)
{
	expect_drop(*s, m_ihl_past_data, DROP_OFF(ip_ihl));
}

static void test_ip_drops_bad_checksum(void **s)
{
	expect_drop(*s, m_csum, DROP_OFF(ip_csum));
}

static void test_ip_drops_total_length_past_frame(void **s)
{
	expect_drop(*s, m_totlen_long, DROP_OFF(ip_len));
}

static void test_ip_drops_total_length_below_header(void **s)
{
	expect_drop(*s, m_totlen_short, DROP_OFF(ip_len));
}

static void test_ip_drops_ttl_zero(void **s)
{
	expect_drop(*s, m_ttl0, DROP_OFF(ip_ttl));
}

static void test_ip_drops_other_destination(void **s)
{
	expect_drop(*s, m_not_ours, DROP_OFF(ip_not_ours));
}

static void test_ip_drops_broadcast_other_than_udp(void **s)
{
	expect_drop(*s, m_bcast_not_udp, DROP_OFF(ip_not_ours));
}

static void test_ip_drops_multicast_source(void **s)
{
	expect_drop(*s, m_src_multicast, DROP_OFF(ip_martian));
}

static void test_ip_drops_broadcast_source(void **s)
{
	expect_drop(*s, m_src_bcast, DROP_OFF(ip_martian));
}

static void test_ip_accepts_udp_broadcast(void **state)
{
	struct harness *h = *state;
	const struct net_protocol *udp = inet_get_protocol(&h->st, IPPROTO_UDP);
	uint8_t f[T_FRAME_MAX];
	size_t n;

	/* stand in for UDP to see what it would get */
	assert_int_equal(inet_add_protocol(&h->st, IPPROTO_UDP, NULL), 0);
	assert_int_equal(inet_add_protocol(&h->st, IPPROTO_UDP, &t_proto), 0);
	n = t_frame(f, H_PEER, 0xffffffffu, IPPROTO_UDP, 1, 0, payload, 8);
	memset(f, 0xff, 6);
	harness_rx(h, f, n);
	n = t_frame(f, H_PEER, htonl(0x0a0000ff), IPPROTO_UDP, 2, 0, payload, 8);
	harness_rx(h, f, n);
	assert_int_equal(t_rec.calls, 2);
	assert_int_equal(inet_add_protocol(&h->st, IPPROTO_UDP, NULL), 0);
	assert_int_equal(inet_add_protocol(&h->st, IPPROTO_UDP, udp), 0);
}

static void test_ip_protocol_registered_twice_is_refused(void **state)
{
	struct harness *h = *state;

	assert_int_equal(inet_add_protocol(&h->st, T_PROTO, &t_proto), -EEXIST);
	assert_ptr_equal(inet_get_protocol(&h->st, T_PROTO), &t_proto);
}

static void test_ip_output_header_fields(void **state)
{
	struct harness *h = *state;
	struct rtable rt;
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);
	uint8_t out[T_FRAME_MAX];
	const uint8_t *ip;
	size_t n;

	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	memcpy(pkb_put(pkb, sizeof(payload)), payload, sizeof(payload));
	assert_int_equal(ip_output(&h->st, pkb, &rt, T_PROTO, 0x10, 33, true), 0);
	n = t_pop(h, out, sizeof(out));
	ip = t_check_ip_out(out, n, H_PEER, T_PROTO);
	assert_int_equal(ip[1], 0x10);
	assert_int_equal(t_get16(ip + 6), 0x4000);	/* DF, offset 0 */
	assert_int_equal(ip[8], 33);
	assert_memory_equal(ip + 20, payload, sizeof(payload));
	assert_int_equal(T_STAT(h, ip_tx), 1);
}

static void test_ip_output_ids_differ_between_datagrams(void **state)
{
	struct harness *h = *state;
	struct rtable rt;
	uint8_t out[T_FRAME_MAX];
	uint16_t id[2];

	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	for (int i = 0; i < 2; i++) {
		struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);

		pkb_put(pkb, 4);
		assert_int_equal(ip_output(&h->st, pkb, &rt, T_PROTO, 0, 0, false), 0);
		assert_true(t_pop(h, out, sizeof(out)) > 0);
		id[i] = t_get16(out + T_ETH + 4);
		assert_int_equal(out[T_ETH + 8], IP_DEFAULT_TTL);	/* TTL 0 = default */
	}
	assert_int_not_equal(id[0], id[1]);
}

/* ARP never answered: the transport hears -EHOSTUNREACH, the packet is freed. */
static void test_ip_unresolved_neighbour_reported_to_transport(void **state)
{
	struct harness *h = *state;
	uint32_t stranger = htonl(0x0a000009);	/* 10.0.0.9, not in the map */
	struct rtable rt;
	struct pkb *pkb = netdev_alloc_pkb(&h->fd.dev);

	assert_int_equal(ip_route_output(&h->st, stranger, 0, &rt), 0);
	memcpy(pkb_put(pkb, 8), payload, 8);
	ip_output(&h->st, pkb, &rt, T_PROTO, 0, 64, false);
	for (int i = 0; i <= NEIGH_MAX_PROBES + 1; i++)
		harness_advance(h, NEIGH_RETRANS_NS);
	fakedev_purge(&h->fd);	/* the ARP requests */
	assert_int_equal(t_rec.err_calls, 1);
	assert_int_equal(t_rec.err, -EHOSTUNREACH);
	assert_int_equal(t_rec.quote[0], 0x45);
	assert_memory_equal(t_rec.quote + 16, &stranger, 4);
	assert_int_equal(T_DROP(h, arp_unresolved), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ip_delivers_payload_to_registered_protocol),
		T(test_ip_trims_ethernet_padding),
		T(test_ip_skips_options),
		T(test_ip_drops_too_short),
		T(test_ip_drops_version_not_4),
		T(test_ip_drops_ihl_below_5),
		T(test_ip_drops_ihl_past_data),
		T(test_ip_drops_bad_checksum),
		T(test_ip_drops_total_length_past_frame),
		T(test_ip_drops_total_length_below_header),
		T(test_ip_drops_ttl_zero),
		T(test_ip_drops_other_destination),
		T(test_ip_drops_broadcast_other_than_udp),
		T(test_ip_drops_multicast_source),
		T(test_ip_drops_broadcast_source),
		T(test_ip_accepts_udp_broadcast),
		T(test_ip_protocol_registered_twice_is_refused),
		T(test_ip_output_header_fields),
		T(test_ip_output_ids_differ_between_datagrams),
		T(test_ip_unresolved_neighbour_reported_to_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
