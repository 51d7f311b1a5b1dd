// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Neighbor Discovery in the daemon (user/net/ndisc.c over link/neigh.c) on
 * the simulated clock: a reply to an on-link host nobody resolved yet
 * waits for an NS to the solicited-node group (exact bytes checked) and
 * leaves on the NA; unanswered NSs give up after three; RFC 4861 7.3.3's
 * STALE -> DELAY -> PROBE -> deleted, and a solicited NA confirming in
 * DELAY; 7.2.5's override rules; NSs answered (DAD to all-nodes) and the
 * sender learnt STALE; invalid messages dropped; a conflict counted; an
 * off-link source answered to the frame's MAC without NDP, or through
 * --gateway6 (resolved like any neighbour) when there is one.
 */
#include "ip6test.h"

#include <errno.h>

#include <skiff/proto/icmpv6.h>

#include "link/neigh.h"
#include "net/ip_internal.h"

static const uint8_t N_MAC[6] = { 0x02, 0, 0, 0, 0, 0x33 };	/* the new neighbour */
static const uint8_t N_MAC2[6] = { 0x02, 0, 0, 0, 0, 0x44 };
static const uint8_t ROUTER_MAC[6] = { 0x02, 0, 0, 0, 0, 0xfe };
static uint8_t nb6[16], far6[16];

static int setup_nd(void **state)
{
	setup6(state);
	addr6(nb6, "2001:db8::33");
	addr6(far6, "2001:db8:ffff::7");
	return 0;
}

/* An echo request from src (at smac) to us, 8 bytes of data. */
static size_t echo_from(uint8_t *f, const uint8_t *smac, const uint8_t *src)
{
	uint8_t e[16] = { 128, 0, 0, 0, 0x12, 0x34, 0, 1, 'n', 'd', 'i', 's', 'c', '!', 0, 0 };

	return frame6_from(f, smac, src, our6, 64, 58, e, sizeof(e), 0, 58, 2);
}

/* An ND message from src (at smac) to dst: type, flags word, target, and
 * one link-layer option of opt_type with mac (opt_type 0: none). */
static size_t nd_from(uint8_t *f, const uint8_t *smac, const uint8_t *src, const uint8_t *dst,
		      uint8_t type, uint32_t flags, const uint8_t *target, uint8_t opt_type,
		      const uint8_t *mac)
{
	uint8_t m[32] = { type, 0, 0, 0, (uint8_t)(flags >> 24) };
	size_t len = 24;

	memcpy(m + 8, target, 16);
	if (opt_type) {
		m[24] = opt_type;
		m[25] = 1;
		memcpy(m + 26, mac, 6);
		len = 32;
	}
	return frame6_from(f, smac, src, dst, 255, 58, m, len, 0, 58, 2);
}

static int nd_state(struct harness *h, const uint8_t *ip6)
{
	struct neigh_info ni;

	return ndisc_get(&h->st, ip6, &ni) ? NEIGH_NONE : ni.state;
}

/* The NS on the transmit queue: to dmac/dst, target nb6, our MAC in the
 * source link-layer option, hop limit 255. */
static void expect_ns(struct harness *h, const uint8_t *dmac, const uint8_t *dst)
{
	uint8_t out[2048];
	const uint8_t *icmp;
	size_t m = t_pop(h, out, sizeof(out));

	icmp = check_out6_to(out, m, 58, dmac, dst);
	assert_int_equal(out[T_ETH + 7], 255);
	assert_int_equal(m, T_ETH + T_V6HLEN + 32);
	assert_int_equal(icmp[0], SKIFF_ND_NEIGHBOR_SOLICIT);
	assert_int_equal(icmp[1], 0);
	assert_memory_equal(icmp + 8, nb6, 16);
	assert_int_equal(icmp[24], SKIFF_ND_OPT_SOURCE_LLADDR);
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, H_MAC, 6);
}

/* Our echo reply to nb6 on the transmit queue, to mac. */
static void expect_reply(struct harness *h, const uint8_t *mac)
{
	uint8_t out[2048];
	const uint8_t *icmp;
	size_t m = t_pop(h, out, sizeof(out));

	icmp = check_out6_to(out, m, 58, mac, nb6);
	assert_int_equal(icmp[0], 129);
}

static void multicast_ns(struct harness *h)
{
	static const uint8_t group_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 0x33 };
	uint8_t group[16];

	addr6(group, "ff02::1:ff00:33");
	expect_ns(h, group_mac, group);
}

/* nb6 resolved: REACHABLE at N_MAC, nothing left on the queue. */
static void resolve_nb(struct harness *h)
{
	uint8_t f[256];
	size_t n;

	harness_rx(h, f, echo_from(f, N_MAC, nb6));
	multicast_ns(h);
	n = nd_from(f, N_MAC, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT,
		    SKIFF_ND_NA_SOLICITED | SKIFF_ND_NA_OVERRIDE, nb6, SKIFF_ND_OPT_TARGET_LLADDR,
		    N_MAC);
	harness_rx(h, f, n);
	expect_reply(h, N_MAC);
	assert_int_equal(t_txq_len(h), 0);
	assert_int_equal(nd_state(h, nb6), NEIGH_REACHABLE);
}

static void reply_to_an_unknown_neighbour_waits_for_the_solicited_na(void **state)
{
	struct harness *h = *state;
	uint8_t mac[6];
	uint64_t upd;

	resolve_nb(h);
	assert_int_equal(T_STAT(h, nd_ns_sent), 1);
	assert_int_equal(T_STAT(h, nd_resolved), 1);
	assert_int_equal(T_STAT(h, neigh_queued), 1);
	/* written to the shared map for the other workers */
	assert_int_equal(h->st.hooks.neigh6_lookup(h, nb6, mac, &upd), 0);
	assert_memory_equal(mac, N_MAC, 6);
}

static void unanswered_solicitations_give_up_after_three(void **state)
{
	struct harness *h = *state;
	uint8_t f[256];
	int i;

	harness_rx(h, f, echo_from(f, N_MAC, nb6));
	multicast_ns(h);
	for (i = 0; i < 2; i++) {
		harness_advance(h, NSEC_PER_SEC);
		multicast_ns(h);
	}
	assert_int_equal(nd_state(h, nb6), NEIGH_INCOMPLETE);
	harness_advance(h, NSEC_PER_SEC);
	assert_int_equal(t_txq_len(h), 0);
	assert_int_equal(nd_state(h, nb6), NEIGH_FAILED);
	assert_int_equal(T_STAT(h, nd_failed), 1);
	assert_int_equal(T_DROP(h, nd_unresolved), 1);
}

/* An echo request from nb6 answered at once to N_MAC. */
static void ping_from_nb(struct harness *h)
{
	uint8_t f[256];

	harness_rx(h, f, echo_from(f, N_MAC, nb6));
	expect_reply(h, N_MAC);
}

/* nb6 resolved, gone stale, used: DELAY (the reply went at once). */
static void resolve_then_delay(struct harness *h)
{
	resolve_nb(h);
	harness_advance(h, NEIGH_STALE_NS + NSEC_PER_SEC);
	ping_from_nb(h);
	assert_int_equal(nd_state(h, nb6), NEIGH_DELAY);
}

static void stale_entry_is_delayed_then_probed_by_unicast_then_deleted(void **state)
{
	struct harness *h = *state;
	int i;

	resolve_then_delay(h);
	harness_advance(h, NEIGH_DELAY_NS - NSEC_PER_SEC);
	assert_int_equal(t_txq_len(h), 0);
	for (i = 0; i < NEIGH_MAX_PROBES; i++) {
		harness_advance(h, NSEC_PER_SEC);
		expect_ns(h, N_MAC, nb6); /* unicast to the cached address */
		assert_int_equal(nd_state(h, nb6), NEIGH_PROBE);
		ping_from_nb(h); /* still used meanwhile */
	}
	harness_advance(h, NSEC_PER_SEC);
	assert_int_equal(nd_state(h, nb6), NEIGH_NONE);
	assert_int_equal(T_STAT(h, nd_failed), 1);
	assert_int_equal(t_txq_len(h), 0);
}

static void solicited_na_in_delay_confirms_without_a_probe(void **state)
{
	struct harness *h = *state;
	uint8_t f[256];
	size_t n;

	resolve_then_delay(h);
	n = nd_from(f, N_MAC, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_SOLICITED, nb6, 0,
		    NULL);
	harness_rx(h, f, n);
	assert_int_equal(nd_state(h, nb6), NEIGH_REACHABLE);
	harness_advance(h, NEIGH_DELAY_NS + NSEC_PER_SEC);
	assert_int_equal(t_txq_len(h), 0);
}

static void unsolicited_na_changes_the_address_only_with_override(void **state)
{
	struct harness *h = *state;
	uint8_t f[256];
	size_t n;

	resolve_nb(h);
	/* without O: the new address is not taken, the entry goes STALE */
	n = nd_from(f, N_MAC2, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, 0, nb6,
		    SKIFF_ND_OPT_TARGET_LLADDR, N_MAC2);
	harness_rx(h, f, n);
	assert_int_equal(nd_state(h, nb6), NEIGH_STALE);
	ping_from_nb(h);
	/* with O: taken, STALE (unsolicited) */
	n = nd_from(f, N_MAC2, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_OVERRIDE, nb6,
		    SKIFF_ND_OPT_TARGET_LLADDR, N_MAC2);
	harness_rx(h, f, n);
	assert_int_equal(nd_state(h, nb6), NEIGH_STALE);
	harness_rx(h, f, echo_from(f, N_MAC2, nb6));
	expect_reply(h, N_MAC2);
	assert_int_equal(T_STAT(h, nd_na_rx), 3);
}

static void solicitations_are_answered_and_the_sender_learnt_stale(void **state)
{
	struct harness *h = *state;
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t f[256], out[2048], group[16], unspec[16] = { 0 }, all_nodes[16];
	const uint8_t *icmp;
	size_t n, m;

	addr6(group, "ff02::1:ff00:1");
	addr6(all_nodes, "ff02::1");
	n = nd_from(f, N_MAC, nb6, group, SKIFF_ND_NEIGHBOR_SOLICIT, 0, our6,
		    SKIFF_ND_OPT_SOURCE_LLADDR, N_MAC);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6_to(out, m, 58, N_MAC, nb6);
	assert_int_equal(out[T_ETH + 7], 255);
	assert_int_equal(icmp[0], SKIFF_ND_NEIGHBOR_ADVERT);
	assert_int_equal(icmp[4], 0x60); /* solicited, override */
	assert_memory_equal(icmp + 8, our6, 16);
	assert_int_equal(icmp[24], SKIFF_ND_OPT_TARGET_LLADDR);
	assert_memory_equal(icmp + 26, H_MAC, 6);
	assert_int_equal(nd_state(h, nb6), NEIGH_STALE);
	assert_int_equal(T_STAT(h, nd_na_sent), 1);

	/* a DAD probe for our address: defended to all-nodes, not solicited */
	n = nd_from(f, N_MAC2, unspec, group, SKIFF_ND_NEIGHBOR_SOLICIT, 0, our6, 0, NULL);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6_to(out, m, 58, all_nodes_mac, all_nodes);
	assert_int_equal(icmp[4], 0x20);
}

static void invalid_messages_and_conflicts_are_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048], group[16];
	size_t n;

	addr6(group, "ff02::1");
	/* hop limit 64: not from the link (7.1.2) */
	n = nd_from(f, N_MAC, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_SOLICITED, nb6,
		    SKIFF_ND_OPT_TARGET_LLADDR, N_MAC);
	f[T_ETH + 7] = 64;
	harness_rx(h, f, n);
	/* an option of length 0 */
	n = nd_from(f, N_MAC, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_SOLICITED, nb6,
		    SKIFF_ND_OPT_TARGET_LLADDR, N_MAC);
	f[T_ETH + T_V6HLEN + 25] = 0;
	{ /* checksum redone over the changed byte */
		uint8_t *u = f + T_ETH + T_V6HLEN;
		uint16_t c;

		u[2] = u[3] = 0;
		c = csum6(nb6, our6, 58, u, 32);
		u[2] = (uint8_t)(c >> 8);
		u[3] = (uint8_t)c;
	}
	harness_rx(h, f, n);
	/* a multicast target */
	n = nd_from(f, N_MAC, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, 0, group, 0, NULL);
	harness_rx(h, f, n);
	/* solicited, to a group */
	n = nd_from(f, N_MAC, nb6, group, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_SOLICITED, nb6,
		    SKIFF_ND_OPT_TARGET_LLADDR, N_MAC);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, nd_invalid), 4);
	assert_int_equal(nd_state(h, nb6), NEIGH_NONE);

	/* another host claims our address */
	n = nd_from(f, N_MAC, nb6, our6, SKIFF_ND_NEIGHBOR_ADVERT, SKIFF_ND_NA_OVERRIDE, our6,
		    SKIFF_ND_OPT_TARGET_LLADDR, N_MAC);
	harness_rx(h, f, n);
	assert_int_equal(T_STAT(h, nd_conflict), 1);
	assert_int_equal(t_pop(h, out, sizeof(out)), 0);
}

static void an_off_link_source_is_answered_through_the_router_mac(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048];
	const uint8_t *icmp;
	size_t m;

	harness_rx(h, f, echo_from(f, ROUTER_MAC, far6));
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6_to(out, m, 58, ROUTER_MAC, far6);
	assert_int_equal(icmp[0], 129);
	assert_int_equal(T_STAT(h, nd_ns_sent), 0);
}

static void with_gateway6_an_off_link_source_is_answered_through_it(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048], rt6[16];
	const uint8_t *icmp;
	size_t m;

	addr6(rt6, "fe80::fe");
	memcpy(h->cfg.gateway6, rt6, 16);
	harness_add_neigh6(h, rt6, N_MAC2);
	/* the request came through another router: the reply takes ours */
	harness_rx(h, f, echo_from(f, ROUTER_MAC, far6));
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6_to(out, m, 58, N_MAC2, far6);
	assert_int_equal(icmp[0], 129);
	{ /* the routes as skiffctl lists them: default, the /64, fe80::/64 */
		struct route6_info r[ROUTE6_SLOTS];

		assert_int_equal(ipv6_route_dump(&h->st, r, ROUTE6_SLOTS), 3);
		assert_true(r[0].is_default);
		assert_memory_equal(r[0].gateway, rt6, 16);
		assert_int_equal(r[0].uses, 1);
		assert_int_equal(r[1].prefix_len, 64);
		assert_memory_equal(r[1].dst, our6, 8);
		assert_int_equal(r[1].dst[15], 0);
		assert_int_equal(r[1].uses, 0);
		assert_int_equal(r[2].dst[0], 0xfe);
		assert_int_equal(r[2].dst[1], 0x80);
	}
	/* an unresolved router is solicited like any neighbour */
	addr6(h->cfg.gateway6, "fe80::fd");
	harness_rx(h, f, echo_from(f, ROUTER_MAC, far6));
	assert_int_equal(T_STAT(h, nd_ns_sent), 1);
	m = t_pop(h, out, sizeof(out));
	assert_int_equal(out[0], 0x33);
	assert_memory_equal(out + T_ETH + T_V6HLEN + 8, h->cfg.gateway6, 16); /* NS target */
}

static void a_static_route_beats_the_default_for_its_prefix(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048], rt6[16], st6[16];
	struct route6_info r[ROUTE6_SLOTS];
	const uint8_t *icmp;
	size_t m;

	addr6(rt6, "fe80::fe");
	addr6(st6, "fe80::aa");
	memcpy(h->cfg.gateway6, rt6, 16);
	harness_add_neigh6(h, rt6, N_MAC2);
	harness_add_neigh6(h, st6, N_MAC);
	addr6(h->cfg.routes6[0].dst, "2001:db8:ffff::");
	h->cfg.routes6[0].prefix_len = 48;
	memcpy(h->cfg.routes6[0].gateway, st6, 16);
	h->cfg.n_routes6 = 1;
	harness_rx(h, f, echo_from(f, ROUTER_MAC, far6)); /* far6 is in 2001:db8:ffff::/48 */
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6_to(out, m, 58, N_MAC, far6);
	assert_int_equal(icmp[0], 129);
	assert_int_equal(ipv6_route_dump(&h->st, r, ROUTE6_SLOTS), 4);
	assert_true(r[0].is_default && r[0].uses == 0);
	assert_true(r[2].is_static && r[2].uses == 1 && r[2].prefix_len == 48);
	assert_memory_equal(r[2].gateway, st6, 16);
}

/* RFC 4862 5.3 / RFC 6724 rule 2: with a link-local address of our own,
 * a link-local neighbour is solicited from it and answered from it, its
 * solicitations for it are answered; global ones keep the global source;
 * fe80::/64 is listed once, with it as source. */
static void a_link_local_address_is_the_source_for_link_local_neighbours(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048], ll[16], lln[16], e[16] = { 128, 0, 0, 0, 0x12, 0x34, 0, 1 };
	struct route6_info r[ROUTE6_SLOTS];
	const uint8_t *ip, *icmp;
	size_t m;

	addr6(ll, "fe80::ff:fe00:1"); /* from H_MAC 02:00:00:00:00:01 */
	addr6(lln, "fe80::33");
	memcpy(h->cfg.addrs6[1].addr, ll, 16);
	h->cfg.addrs6[1].prefix_len = 64;
	h->cfg.addrs6[1].dedicated = true;
	h->cfg.n_addrs6 = 2;
	assert_memory_equal(ipv6_select_source(&h->st, lln), ll, 16);
	assert_memory_equal(ipv6_select_source(&h->st, nb6), our6, 16);
	assert_memory_equal(ipv6_select_source(&h->st, far6), our6, 16);
	{ /* what a socket sending to it gets: the link-local source too */
		struct rt6 rt;

		assert_int_equal(ip6_route_output(&h->st, lln, NULL, &rt), 0);
		assert_memory_equal(rt.saddr, ll, 16);
		assert_memory_equal(rt.nexthop, lln, 16);
		assert_int_equal(ip6_route_output(&h->st, nb6, NULL, &rt), 0);
		assert_memory_equal(rt.saddr, our6, 16);
	}

	/* an echo request from an unknown link-local neighbour to our link-local */
	harness_rx(h, f, frame6_from(f, N_MAC, lln, ll, 64, 58, e, sizeof(e), 0, 58, 2));
	m = t_pop(h, out, sizeof(out));
	ip = out + T_ETH;
	assert_int_equal(m, T_ETH + T_V6HLEN + 32);
	assert_memory_equal(ip + 8, ll, 16); /* the NS comes from our link-local */
	assert_int_equal(ip[24], 0xff);
	assert_int_equal(ip[T_V6HLEN], SKIFF_ND_NEIGHBOR_SOLICIT);
	assert_memory_equal(ip + T_V6HLEN + 8, lln, 16);
	assert_int_equal(csum6(ll, ip + 24, 58, ip + T_V6HLEN, 32), 0);
	/* the NA releases the reply, from our link-local too */
	harness_rx(h, f, nd_from(f, N_MAC, lln, ll, SKIFF_ND_NEIGHBOR_ADVERT,
				 SKIFF_ND_NA_SOLICITED | SKIFF_ND_NA_OVERRIDE, lln,
				 SKIFF_ND_OPT_TARGET_LLADDR, N_MAC));
	m = t_pop(h, out, sizeof(out));
	ip = out + T_ETH;
	assert_memory_equal(out, N_MAC, 6);
	assert_memory_equal(ip + 8, ll, 16);
	assert_memory_equal(ip + 24, lln, 16);
	icmp = ip + T_V6HLEN;
	assert_int_equal(icmp[0], 129);
	assert_int_equal(csum6(ll, lln, 58, icmp, m - T_ETH - T_V6HLEN), 0);

	/* a solicitation for it (XDP's job on the wire) is answered for it */
	harness_rx(h, f, nd_from(f, N_MAC, lln, ll, SKIFF_ND_NEIGHBOR_SOLICIT, 0, ll,
				 SKIFF_ND_OPT_SOURCE_LLADDR, N_MAC));
	m = t_pop(h, out, sizeof(out));
	ip = out + T_ETH;
	assert_memory_equal(ip + 8, ll, 16);
	assert_int_equal(ip[T_V6HLEN], SKIFF_ND_NEIGHBOR_ADVERT);
	assert_memory_equal(ip + T_V6HLEN + 8, ll, 16);

	/* routes: the /64 of our6, then fe80::/64 from the link-local one */
	assert_int_equal(ipv6_route_dump(&h->st, r, ROUTE6_SLOTS), 2);
	assert_memory_equal(r[0].src, our6, 16);
	assert_int_equal(r[1].dst[0], 0xfe);
	assert_memory_equal(r[1].src, ll, 16);
	assert_int_equal(r[1].uses, 1);

	/* without one (--no-link-local), no link-local source exists */
	h->cfg.n_addrs6 = 1;
	assert_null(ipv6_select_source(&h->st, lln));
}

/* The neigh6 map ages like ARP's (link/neigh.c's one walk for both): an
 * entry unconfirmed for NEIGH_GC_NS leaves it, a fresh one stays. */
static void old_entries_leave_the_shared_neigh6_map(void **state)
{
	struct harness *h = *state;
	uint8_t mac[6];
	uint64_t upd;
	int i;

	/* peer6 is in the map since t = 1 s (setup6) */
	for (i = 0; i < 20; i++)
		harness_advance(h, 5 * NSEC_PER_SEC);
	assert_int_equal(h->st.hooks.neigh6_lookup(h->st.hooks.ctx, peer6, mac, &upd), 0);
	h->st.hooks.neigh6_update(h->st.hooks.ctx, nb6, N_MAC, clock_now());
	for (i = 0; i < 6; i++)
		harness_advance(h, 5 * NSEC_PER_SEC);
	/* t = 131 s: peer6 130 s old (> NEIGH_GC_NS), nb6 30 s */
	assert_int_equal(h->st.hooks.neigh6_lookup(h->st.hooks.ctx, peer6, mac, &upd), -ENOENT);
	assert_int_equal(h->st.hooks.neigh6_lookup(h->st.hooks.ctx, nb6, mac, &upd), 0);
	assert_memory_equal(mac, N_MAC, 6);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_nd, teardown)
	const struct CMUnitTest tests[] = {
		T(reply_to_an_unknown_neighbour_waits_for_the_solicited_na),
		T(unanswered_solicitations_give_up_after_three),
		T(stale_entry_is_delayed_then_probed_by_unicast_then_deleted),
		T(solicited_na_in_delay_confirms_without_a_probe),
		T(unsolicited_na_changes_the_address_only_with_override),
		T(solicitations_are_answered_and_the_sender_learnt_stale),
		T(invalid_messages_and_conflicts_are_dropped),
		T(an_off_link_source_is_answered_through_the_router_mac),
		T(with_gateway6_an_off_link_source_is_answered_through_it),
		T(a_static_route_beats_the_default_for_its_prefix),
		T(a_link_local_address_is_the_source_for_link_local_neighbours),
		T(old_entries_leave_the_shared_neigh6_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
