// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Output routing (RFC 1122 3.3.1): on-link prefixes (longest wins), the
 * default gateway (only if on-link), no route, the limited broadcast, and
 * the source address chosen or checked; static routes (skiffd --route) in
 * one longest-prefix match with the on-link prefixes and the default; the
 * table as skiffctl routes lists it (ip_route_dump) with its use counts.
 */
#include "iptest.h"

#include "net/route.h"

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

static void add_route(struct harness *h, uint32_t dst, uint8_t plen, uint32_t gw)
{
	struct stack_route *r = &h->cfg.routes[h->cfg.n_routes++];

	r->dst = dst;
	r->prefix_len = plen;
	r->gateway = gw;
}

static void test_route_static_beats_default(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	add_route(h, a(10, 9, 0, 0), 16, a(10, 0, 0, 253));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 3, 4), 0, &rt), 0);
	assert_int_equal(rt.daddr, a(10, 9, 3, 4));
	assert_int_equal(rt.nexthop, a(10, 0, 0, 253));
	assert_int_equal(rt.saddr, H_ADDR);
	/* outside the route: the default gateway */
	assert_int_equal(ip_route_output(&h->st, a(10, 10, 3, 4), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 254));
}

static void test_route_static_works_without_default(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	h->cfg.gateway = 0;
	add_route(h, a(10, 9, 0, 0), 16, a(10, 0, 0, 253));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 0, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 253));
	assert_int_equal(ip_route_output(&h->st, a(10, 8, 0, 1), 0, &rt), -ENETUNREACH);
}

static void test_route_longest_static_prefix_wins(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	/* given shortest first and longest first: order does not matter */
	add_route(h, a(10, 9, 0, 0), 16, a(10, 0, 0, 253));
	add_route(h, a(10, 9, 5, 0), 24, a(10, 0, 0, 252));
	add_route(h, a(10, 9, 5, 7), 32, a(10, 0, 0, 251));
	add_route(h, a(10, 0, 0, 0), 8, a(10, 0, 0, 250));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 5, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 252));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 5, 7), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 251));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 6, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 253));
	assert_int_equal(ip_route_output(&h->st, a(10, 200, 0, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 250));
	assert_int_equal(ip_route_output(&h->st, a(11, 0, 0, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 254));
}

static void test_route_on_link_beats_shorter_static(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	add_route(h, a(10, 0, 0, 0), 8, a(10, 0, 0, 254));
	assert_int_equal(ip_route_output(&h->st, H_PEER, 0, &rt), 0);
	assert_int_equal(rt.nexthop, H_PEER);
	assert_int_equal(ip_route_output(&h->st, a(10, 1, 0, 2), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 254));
}

static void test_route_static_longer_than_on_link_wins(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	/* part of our /24 lies behind a router, whose own address is in that
	 * part: the gateway is still reached on the link, not via itself */
	add_route(h, a(10, 0, 0, 128), 25, a(10, 0, 0, 200));
	assert_int_equal(ip_route_output(&h->st, a(10, 0, 0, 130), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 200));
	assert_int_equal(ip_route_output(&h->st, a(10, 0, 0, 100), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 100));
}

static void test_route_static_with_off_link_gateway_is_never_chosen(void **state)
{
	struct harness *h = *state;
	struct rtable rt;
	struct route_info ri[ROUTE_MAX_ENTRIES];

	add_route(h, a(10, 9, 0, 0), 16, a(192, 168, 1, 1));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 0, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(10, 0, 0, 254));
	/* and not listed */
	assert_int_equal(ip_route_dump(&h->st, ri, ROUTE_MAX_ENTRIES), 2);
}

static void test_route_static_source_is_on_gateway_prefix(void **state)
{
	struct harness *h = *state;
	struct rtable rt;

	add_addr(h, a(172, 16, 0, 1), 16);
	add_route(h, a(10, 9, 0, 0), 16, a(172, 16, 0, 254));
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 0, 1), 0, &rt), 0);
	assert_int_equal(rt.nexthop, a(172, 16, 0, 254));
	assert_int_equal(rt.saddr, a(172, 16, 0, 1));
	/* a bound source is kept */
	assert_int_equal(ip_route_output(&h->st, a(10, 9, 0, 1), H_ADDR, &rt), 0);
	assert_int_equal(rt.saddr, H_ADDR);
	assert_int_equal(rt.nexthop, a(172, 16, 0, 254));
}

static void test_route_dump_lists_like_ip_route(void **state)
{
	struct harness *h = *state;
	struct route_info ri[ROUTE_MAX_ENTRIES];
	struct rtable rt;

	add_addr(h, a(10, 0, 0, 9), 24);	/* same prefix as H_ADDR: listed once */
	add_addr(h, a(172, 16, 0, 1), 16);
	add_route(h, a(10, 9, 0, 0), 16, a(10, 0, 0, 253));
	add_route(h, a(10, 8, 0, 0), 16, a(172, 16, 0, 254));

	assert_int_equal(ip_route_dump(&h->st, ri, ROUTE_MAX_ENTRIES), 5);
	/* default first, then by destination, then prefix length */
	assert_int_equal(ri[0].kind, ROUTE_DEFAULT);
	assert_int_equal(ri[0].gateway, a(10, 0, 0, 254));
	assert_int_equal(ri[0].src, H_ADDR);
	assert_int_equal(ri[1].kind, ROUTE_LINK);
	assert_int_equal(ri[1].dst, a(10, 0, 0, 0));
	assert_int_equal(ri[1].prefix_len, 24);
	assert_int_equal(ri[1].gateway, 0);
	assert_int_equal(ri[1].src, H_ADDR);
	assert_int_equal(ri[2].kind, ROUTE_STATIC);
	assert_int_equal(ri[2].dst, a(10, 8, 0, 0));
	assert_int_equal(ri[2].src, a(172, 16, 0, 1));
	assert_int_equal(ri[3].dst, a(10, 9, 0, 0));
	assert_int_equal(ri[3].gateway, a(10, 0, 0, 253));
	assert_int_equal(ri[3].src, H_ADDR);
	assert_int_equal(ri[4].kind, ROUTE_LINK);
	assert_int_equal(ri[4].dst, a(172, 16, 0, 0));
	assert_int_equal(ri[4].prefix_len, 16);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ri[i].uses, 0);

	/* each lookup counts on the route it chose */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ip_route_output(&h->st, a(10, 9, 1, 1), 0, &rt), 0);
	assert_int_equal(ip_route_output(&h->st, a(8, 8, 8, 8), 0, &rt), 0);
	assert_int_equal(ip_route_output(&h->st, a(10, 0, 0, 77), 0, &rt), 0);
	assert_int_equal(ip_route_output(&h->st, a(10, 0, 0, 78), 0, &rt), 0);
	assert_int_equal(ip_route_dump(&h->st, ri, ROUTE_MAX_ENTRIES), 5);
	assert_int_equal(ri[0].uses, 1);
	assert_int_equal(ri[1].uses, 2);
	assert_int_equal(ri[2].uses, 0);
	assert_int_equal(ri[3].uses, 3);
	assert_int_equal(ri[4].uses, 0);
	/* a failed lookup counts nowhere */
	h->cfg.gateway = 0;
	assert_int_equal(ip_route_output(&h->st, a(8, 8, 8, 8), 0, &rt), -ENETUNREACH);
	assert_int_equal(ip_route_dump(&h->st, ri, ROUTE_MAX_ENTRIES), 4);
	assert_int_equal(ri[0].kind, ROUTE_LINK);
	/* max is respected */
	assert_int_equal(ip_route_dump(&h->st, ri, 2), 2);
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
		T(test_route_static_beats_default),
		T(test_route_static_works_without_default),
		T(test_route_longest_static_prefix_wins),
		T(test_route_on_link_beats_shorter_static),
		T(test_route_static_longer_than_on_link_wins),
		T(test_route_static_with_off_link_gateway_is_never_chosen),
		T(test_route_static_source_is_on_gateway_prefix),
		T(test_route_dump_lists_like_ip_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
