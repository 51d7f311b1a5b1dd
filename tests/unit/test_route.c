// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Output routing (RFC 1122 3.3.1): on-link prefixes (longest wins), the
 * default gateway (only if on-link), no route, the limited broadcast, and
 * the source address chosen or checked.
 */
#include "iptest.h"

#include <errno.h>


static uint32_t a(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	return htonl((uint32_t)b0 << 24 | (uint32_t)b1 << 16 | (uint32_t)b2 << 8 | b3);
}

static void add_addr(struct harness *h, uint32_t addr, uint8_t plen)
{
	struct stack_addr *sa = &h->cfg.addrs[h->cfg.n_addrs++];

	sa->addr = addr;
	sa->prefix_len = plen;
	sa->dedicated = true;
}

static void test_route_on_link_goes_direct(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(rt.daddr, H_PEER);
	assert_int_equal(rt.nexthop, H_PEER);
	assert_int_equal(rt.saddr, H_ADDR);
	assert_int_equal(rt.mtu, 1500);
}

static void test_route_off_link_via_gateway(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	assert_int_equal(ip_route_output(&h->st, a(8, 8, 8, 8), 0, &rt), 0);
	assert_int_equal(rt.daddr, a(8, 8, 8, 8));
	assert_int_equal(rt.nexthop, a(10, 0, 0, 254));
	assert_int_equal(rt.saddr, H_ADDR);
}

static void test_route_none_without_gateway(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	h->cfg.gateway = 0;
	assert_int_equal(ip_route_output(&h->st, a(8, 8, 8, 8), 0, &rt), -ENETUNREACH);
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
}

static void test_route_none_when_gateway_off_link(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	h->cfg.gateway = a(192, 168, 1, 1);
	assert_int_equal(ip_route_output(&h->st, a(8, 8, 8, 8), 0, &rt), -ENETUNREACH);
}

static void test_route_longest_prefix_picks_source(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	add_addr(h, a(172, 16, 0, 1), 12);
	add_addr(h, a(172, 16, 5, 1), 24);
	assert_int_equal(ip_route_output(&h->st, a(172, 16, 5, 9), 0, &rt), 0);
	assert_int_equal(rt.saddr, a(172, 16, 5, 1));
	assert_int_equal(rt.nexthop, a(172, 16, 5, 9));
	assert_int_equal(ip_route_output(&h->st, a(172, 17, 0, 9), 0, &rt), 0);
	assert_int_equal(rt.saddr, a(172, 16, 0, 1));
	/* off-link: the address on the gateway's prefix */
	assert_int_equal(ip_route_output(&h->st, a(1, 1, 1, 1), 0, &rt), 0);
	assert_int_equal(rt.saddr, H_ADDR);
}

static void test_route_requested_source_must_be_local(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	add_addr(h, a(172, 16, 0, 1), 16);
	/* a bound local address is kept even on another prefix */
	assert_int_equal(ip_route_output(&h->st, H_PEER, a(172, 16, 0, 1), &rt), 0);
	assert_int_equal(rt.saddr, a(172, 16, 0, 1));
	assert_int_equal(ip_route_output(&h->st, H_PEER, a(10, 0, 0, 7), &rt), -EADDRNOTAVAIL);
}

static void test_route_limited_broadcast_stays_on_link(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	assert_int_equal(ip_route_output(&h->st, 0xffffffffu, 0, &rt), 0);
	assert_int_equal(rt.nexthop, 0xffffffffu);
	assert_int_equal(rt.saddr, H_ADDR);
}

static void test_route_mtu_is_the_device_mtu(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	h->fd.dev.mtu = 9000;
	assert_int_equal(ip_route_output(&h->st, a(8, 8, 4, 4), 0, &rt), 0);
	assert_int_equal(rt.mtu, 9000);
	h->fd.dev.mtu = 1500;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_route_on_link_goes_direct),
		T(test_route_off_link_via_gateway),
		T(test_route_none_without_gateway),
		T(test_route_none_when_gateway_off_link),
		T(test_route_longest_prefix_picks_source),
		T(test_route_requested_source_must_be_local),
		T(test_route_limited_broadcast_stays_on_link),
		T(test_route_mtu_is_the_device_mtu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
