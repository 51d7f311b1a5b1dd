// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv6 in the real XDP object (bpf/skiff_ipv6.bpf.h) through
 * bpf_prog_test_run_opts: Neighbor Solicitations for a dedicated address
 * become the exact Neighbor Advertisement RFC 4861 7.2.4 describes (unicast,
 * to the solicited-node group, and a DAD probe answered to all-nodes), the
 * sender is learned into neigh6, echo requests get the exact RFC 4443 reply;
 * invalid ones (hop limit, checksum, code, DAD with an option) are dropped
 * and counted; a shared address and foreign addresses are the kernel's,
 * untouched; frames cut at every length are never answered.  Checksums are
 * computed here, independently of the program.  Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <skiff/proto/icmpv6.h>
#include <skiff/proto/ipv6.h>
#include <skiff/skiff.h>

#include "skiff_xdp.skel.h"

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static struct skiff_in6 ded, shr, peer, other;

static struct {
	struct skiff_xdp *skel;
	int prog, stats, neigh6;
	int ncpus;
} fx;
static bool is_root;

#define REQUIRE_ROOT()                                                \
	do {                                                          \
		if (!is_root) {                                       \
			print_message("skipped: needs root (BPF)\n"); \
			skip();                                       \
		}                                                     \
	} while (0)

struct frame {
	uint8_t b[2048];
	size_t len;
};

static struct skiff_in6 in6(const char *s)
{
	struct skiff_in6 a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* RFC 4443 2.3: the ICMPv6 checksum over the pseudo-header and msg. */
static uint16_t icmp6_csum(const struct skiff_in6 *src, const struct skiff_in6 *dst,
			   const uint8_t *msg, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2) {
		sum += (uint32_t)((const uint8_t *)src)[i] << 8 | ((const uint8_t *)src)[i + 1];
		sum += (uint32_t)((const uint8_t *)dst)[i] << 8 | ((const uint8_t *)dst)[i + 1];
	}
	sum += len + SKIFF_IPPROTO_ICMPV6;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)msg[i] << 8 | msg[i + 1];
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Ethernet (to dmac, from the peer) + IPv6 (next header nh) + payload. */
static void build_ip6(struct frame *f, const uint8_t *dmac, const struct skiff_in6 *src,
		      const struct skiff_in6 *dst, uint8_t nh, uint8_t hop, const uint8_t *payload,
		      size_t len)
{
	uint8_t *ip = f->b + 14;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, dmac, 6);
	memcpy(f->b + 6, peer_mac, 6);
	f->b[12] = 0x86;
	f->b[13] = 0xdd;
	ip[0] = 0x60;
	ip[4] = (uint8_t)(len >> 8);
	ip[5] = (uint8_t)len;
	ip[6] = nh;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + 40, payload, len);
	f->len = 14 + 40 + len;
}

/* Ethernet + IPv6 + an ICMPv6 message msg (checksum filled in unless bad). */
static void build(struct frame *f, const uint8_t *dmac, const struct skiff_in6 *src,
		  const struct skiff_in6 *dst, uint8_t hop, const uint8_t *msg, size_t len,
		  bool bad_csum)
{
	uint8_t *l4 = f->b + 14 + 40;
	uint16_t c;

	build_ip6(f, dmac, src, dst, SKIFF_IPPROTO_ICMPV6, hop, msg, len);
	l4[2] = l4[3] = 0;
	c = icmp6_csum(src, dst, l4, len);
	memcpy(l4 + 2, &c, 2);
	if (bad_csum)
		l4[2] ^= 0x5a;
}

/* An NS for target, with a source link-layer address option unless !slla. */
static size_t ns_msg(uint8_t *m, const struct skiff_in6 *target, bool slla)
{
	memset(m, 0, 32);
	m[0] = SKIFF_ND_NEIGHBOR_SOLICIT;
	memcpy(m + 8, target, 16);
	if (!slla)
		return 24;
	m[24] = SKIFF_ND_OPT_SOURCE_LLADDR;
	m[25] = 1;
	memcpy(m + 26, peer_mac, 6);
	return 32;
}

static struct skiff_in6 solicited_node(const struct skiff_in6 *t)
{
	struct skiff_in6 g = in6("ff02::1:ff00:0");

	memcpy((uint8_t *)&g + 13, (const uint8_t *)t + 13, 3);
	return g;
}

struct result {
	int verdict;
	uint8_t b[2048];
	size_t len;
};

static int run(const struct frame *f, struct result *r)
{
	struct xdp_md ctx = { .data_end = (uint32_t)f->len };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .data_out = r->b, .data_size_out = sizeof(r->b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(fx.prog, &o), 0);
	r->verdict = (int)o.retval;
	r->len = o.data_size_out;
	return r->verdict;
}

/* The frame went to the kernel, its bytes as they came. */
#define assert_passes_unchanged(f, r) \
	do { \
		assert_int_equal(run(f, r), XDP_PASS); \
		assert_memory_equal((r)->b, (f)->b, (f)->len); \
	} while (0)

static struct skiff_xdp_stats stats_sum(void)
{
	struct skiff_xdp_stats *v = calloc((size_t)fx.ncpus, sizeof(*v)), sum;
	uint64_t *s = (uint64_t *)&sum;
	uint32_t zero = 0;
	int i;
	size_t k;

	assert_non_null(v);
	memset(&sum, 0, sizeof(sum));
	assert_int_equal(bpf_map_lookup_elem(fx.stats, &zero, v), 0);
	for (i = 0; i < fx.ncpus; i++)
		for (k = 0; k < sizeof(sum) / 8; k++)
			s[k] += ((uint64_t *)&v[i])[k];
	free(v);
	return sum;
}

static int group_setup(void **state)
{
	struct skiff_config c = { .flags = SKIFF_CFG_ENABLED };
	struct skiff_addr d = { .flags = SKIFF_ADDR_DEDICATED, .prefix_len = 64 };
	struct skiff_addr s = { .prefix_len = 64 };
	uint32_t zero = 0;
	int fd;

	(void)state;
	ded = in6("2001:db8:7::5");
	shr = in6("2001:db8:7::2");
	peer = in6("2001:db8:7::1");
	other = in6("2001:db8:7::99");
	is_root = geteuid() == 0;
	if (!is_root)
		return 0;
	fx.skel = skiff_xdp__open_and_load();
	if (!fx.skel)
		return -1;
	fx.prog = bpf_program__fd(fx.skel->progs.skiff_xdp_prog);
	fx.stats = bpf_map__fd(fx.skel->maps.stats);
	fx.neigh6 = bpf_map__fd(fx.skel->maps.neigh6);
	fx.ncpus = libbpf_num_possible_cpus();
	memcpy(c.mac, our_mac, 6);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(fx.skel->maps.config), &zero, &c, 0), 0);
	fd = bpf_map__fd(fx.skel->maps.addrs6);
	assert_int_equal(bpf_map_update_elem(fd, &ded, &d, 0), 0);
	assert_int_equal(bpf_map_update_elem(fd, &shr, &s, 0), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.skel)
		skiff_xdp__destroy(fx.skel);
	return 0;
}

/* The NA RFC 4861 7.2.4 asks for, built here byte by byte. */
static void expect_na(struct frame *want, const uint8_t *dmac, const struct skiff_in6 *dst,
		      uint32_t flags)
{
	uint8_t na[32] = { SKIFF_ND_NEIGHBOR_ADVERT };
	uint32_t fl = htonl(flags);

	memcpy(na + 4, &fl, 4);
	memcpy(na + 8, &ded, 16);
	na[24] = SKIFF_ND_OPT_TARGET_LLADDR;
	na[25] = 1;
	memcpy(na + 26, our_mac, 6);
	build(want, dmac, &ded, dst, 255, na, sizeof(na), false);
	memcpy(want->b + 6, our_mac, 6);
}

static void assert_frame(const struct result *r, const struct frame *want)
{
	size_t i;

	assert_int_equal(r->len, want->len);
	for (i = 0; i < want->len; i++)
		if (r->b[i] != want->b[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, r->b[i], want->b[i]);
}

static void ns_for_a_dedicated_address_gets_the_exact_na_and_learns_the_sender(void **state)
{
	struct skiff_in6 grp = solicited_node(&ded);
	struct frame f, want;
	struct skiff_neigh n;
	struct result r;
	uint8_t m[32];
	size_t len;

	(void)state;
	REQUIRE_ROOT();
	/* unicast NS (NUD), with the solicitor's link-layer address */
	len = ns_msg(m, &ded, true);
	build(&f, our_mac, &peer, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_TX);
	expect_na(&want, peer_mac, &peer, SKIFF_ND_NA_SOLICITED | SKIFF_ND_NA_OVERRIDE);
	assert_frame(&r, &want);
	assert_int_equal(bpf_map_lookup_elem(fx.neigh6, &peer, &n), 0);
	assert_memory_equal(n.mac, peer_mac, 6);
	assert_int_equal(n.state, SKIFF_NEIGH_REACHABLE);

	/* address resolution: to the solicited-node group, padded frame */
	build(&f, (uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 5 }, &peer, &grp, 255, m, len, false);
	f.len += 10; /* Ethernet padding after the datagram */
	assert_int_equal(run(&f, &r), XDP_TX);
	assert_frame(&r, &want);

	/* no option: the reply goes to the frame's source MAC */
	len = ns_msg(m, &ded, false);
	build(&f, our_mac, &peer, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_TX);
	assert_frame(&r, &want);
}

static uint64_t neigh_gen(void)
{
	struct skiff_config c;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.config), &zero, &c), 0);
	return c.neigh_gen;
}

static void a_neighbour_moving_to_another_mac_bumps_the_generation(void **state)
{
	struct frame f;
	struct skiff_neigh n;
	struct result r;
	uint64_t gen;
	uint8_t m[32];
	size_t len;

	(void)state;
	REQUIRE_ROOT();
	len = ns_msg(m, &ded, true);
	build(&f, our_mac, &peer, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_TX);
	gen = neigh_gen();
	/* the same MAC again: a refresh, the daemon's caches stay */
	assert_int_equal(run(&f, &r), XDP_TX);
	assert_int_equal(neigh_gen(), gen);
	/* another MAC: the daemon's caches must re-read the map */
	m[31] ^= 0x10;
	build(&f, our_mac, &peer, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_TX);
	assert_int_equal(neigh_gen(), gen + 1);
	assert_int_equal(bpf_map_lookup_elem(fx.neigh6, &peer, &n), 0);
	assert_int_equal(n.mac[5], peer_mac[5] ^ 0x10);
	/* back, for the tests after this one */
	len = ns_msg(m, &ded, true);
	build(&f, our_mac, &peer, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_TX);
	assert_int_equal(neigh_gen(), gen + 2);
}

static void dad_probe_for_a_dedicated_address_is_answered_to_all_nodes(void **state)
{
	struct skiff_in6 grp = solicited_node(&ded), any = { 0 }, all = in6("ff02::1");
	struct frame f, want;
	struct result r;
	uint8_t m[32];
	size_t len;

	(void)state;
	REQUIRE_ROOT();
	len = ns_msg(m, &ded, false);
	build(&f, (uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 5 }, &any, &grp, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_TX);
	expect_na(&want, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, &all, SKIFF_ND_NA_OVERRIDE);
	assert_frame(&r, &want);
	/* RFC 4861 7.1.1: a DAD probe to a unicast address, or with a source
	 * link-layer option, is invalid */
	build(&f, our_mac, &any, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_DROP);
	len = ns_msg(m, &ded, true);
	build(&f, (uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 5 }, &any, &grp, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_DROP);
}

static void invalid_solicitations_are_dropped_and_counted(void **state)
{
	struct skiff_xdp_stats before = stats_sum(), after;
	struct frame f;
	struct result r;
	uint8_t m[32];
	size_t len;

	(void)state;
	REQUIRE_ROOT();
	len = ns_msg(m, &ded, true);
	build(&f, our_mac, &peer, &ded, 254, m, len, false); /* routed: not on-link */
	assert_int_equal(run(&f, &r), XDP_DROP);
	m[1] = 1; /* code */
	build(&f, our_mac, &peer, &ded, 255, m, len, false);
	assert_int_equal(run(&f, &r), XDP_DROP);
	m[1] = 0;
	build(&f, our_mac, &peer, &ded, 255, m, len, true); /* checksum */
	assert_int_equal(run(&f, &r), XDP_DROP);
	after = stats_sum();
	assert_int_equal(after.drop_nd_invalid - before.drop_nd_invalid, 2);
	assert_int_equal(after.drop_icmp6_csum - before.drop_icmp6_csum, 1);
	assert_int_equal(after.nd_na_reply, before.nd_na_reply);
}

static void echo_request_to_a_dedicated_address_gets_the_exact_reply(void **state)
{
	uint8_t m[64], reply[64];
	struct frame f, want;
	struct result r;
	size_t i;

	(void)state;
	REQUIRE_ROOT();
	memset(m, 0, sizeof(m));
	m[0] = SKIFF_ICMPV6_ECHO_REQUEST;
	m[4] = 0x12; /* id */
	m[7] = 7;    /* sequence */
	for (i = 8; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	build(&f, our_mac, &peer, &ded, 64, m, sizeof(m), false);
	assert_int_equal(run(&f, &r), XDP_TX);
	memcpy(reply, m, sizeof(m));
	reply[0] = SKIFF_ICMPV6_ECHO_REPLY;
	build(&want, peer_mac, &ded, &peer, 64, reply, sizeof(reply), false);
	memcpy(want.b + 6, our_mac, 6);
	assert_frame(&r, &want);

	/* a bad checksum is dropped */
	build(&f, our_mac, &peer, &ded, 64, m, sizeof(m), true);
	assert_int_equal(run(&f, &r), XDP_DROP);
}

static void shared_and_foreign_addresses_are_the_kernels_untouched(void **state)
{
	struct skiff_xdp_stats before = stats_sum(), after;
	struct skiff_in6 grp = solicited_node(&shr);
	struct frame f;
	struct result r;
	uint8_t m[64] = { SKIFF_ICMPV6_ECHO_REQUEST };
	size_t len;

	(void)state;
	REQUIRE_ROOT();
	build(&f, our_mac, &peer, &shr, 64, m, sizeof(m), false);
	assert_int_equal(run(&f, &r), XDP_PASS);
	assert_int_equal(r.len, f.len);
	assert_memory_equal(r.b, f.b, f.len);
	len = ns_msg(m, &shr, true); /* the kernel answers for its address */
	build(&f, (uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 2 }, &peer, &grp, 255, m, len, false);
	assert_passes_unchanged(&f, &r);
	build(&f, our_mac, &peer, &other, 64, m, 24, false);
	assert_passes_unchanged(&f, &r);
	after = stats_sum();
	assert_int_equal(after.pass_ip6_shared - before.pass_ip6_shared, 2);
	assert_int_equal(after.pass_not_ours - before.pass_not_ours, 1);
}

/* Issue 11: "never touch Router Advertisements, MLD, DHCPv6 or anything
 * not for a skiff address" -- the link's control traffic is the kernel's,
 * byte for byte, even from a neighbour XDP knows and with a dedicated
 * address on the interface. */
static void router_advertisements_mld_and_dhcpv6_are_passed_untouched(void **state)
{
	struct skiff_in6 ll = in6("fe80::2"), all_nodes = in6("ff02::1"),
			 all_routers = in6("ff02::2"), mld2 = in6("ff02::16"),
			 dhcp = in6("ff02::1:2");
	static const uint8_t mc1[6] = { 0x33, 0x33, 0, 0, 0, 1 }, mc16[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	uint8_t ra[64] = { 134, 0, 0, 0, 64, 0, 0x07, 0x08 }, rs[8] = { 133 };
	uint8_t mld[28] = { 143, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0xff, 0x02 };
	uint8_t udp[16] = { 0x02, 0x22, 0x02, 0x23, 0, 16 };
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	/* a Router Advertisement with a prefix option, to all-nodes */
	ra[16] = 3;
	ra[17] = 4;
	build(&f, mc1, &ll, &all_nodes, 255, ra, sizeof(ra), false);
	assert_passes_unchanged(&f, &r);
	/* a Router Solicitation, to all-routers */
	build(&f, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 2 }, &ll, &all_routers, 255, rs, sizeof(rs),
	      false);
	assert_passes_unchanged(&f, &r);
	/* an MLDv2 report, to ff02::16, hop limit 1 */
	build(&f, mc16, &ll, &mld2, 1, mld, sizeof(mld), false);
	assert_passes_unchanged(&f, &r);
	/* DHCPv6 (UDP 546 -> 547) to all DHCP agents */
	build(&f, (uint8_t[]){ 0x33, 0x33, 0, 1, 0, 2 }, &ll, &dhcp, 1, udp, sizeof(udp), false);
	f.b[14 + 6] = 17; /* next header UDP: the ICMPv6 checksum build left is just bytes */
	assert_passes_unchanged(&f, &r);
}

static void frames_cut_at_every_length_are_never_answered(void **state)
{
	struct frame whole[2], f;
	struct result r;
	uint8_t m[64] = { SKIFF_ICMPV6_ECHO_REQUEST };
	size_t len, cut;
	int k;

	(void)state;
	REQUIRE_ROOT();
	len = ns_msg(m, &ded, true);
	build(&whole[0], our_mac, &peer, &ded, 255, m, len, false);
	memset(m, 0, sizeof(m));
	m[0] = SKIFF_ICMPV6_ECHO_REQUEST;
	build(&whole[1], our_mac, &peer, &ded, 64, m, sizeof(m), false);
	for (k = 0; k < 2; k++) {
		for (cut = 14; cut < whole[k].len; cut++) {
			f = whole[k];
			f.len = cut;
			run(&f, &r);
			if (r.verdict == XDP_TX)
				fail_msg("frame %d cut to %zu bytes was answered", k, cut);
			if (r.verdict == XDP_PASS)
				assert_memory_equal(r.b, f.b, cut);
		}
	}
}

/* ---- shared addresses: owned (protocol, port) pairs are steered ---- */

/* Ethernet + IPv6 (dst MAC ours, hop limit 64) + payload as given: the
 * steering reads ports, never transport checksums. */
static void build_raw(struct frame *f, const struct skiff_in6 *src, const struct skiff_in6 *dst,
		      uint8_t nh, const uint8_t *payload, size_t len)
{
	build_ip6(f, our_mac, src, dst, nh, 64, payload, len);
}

/* A UDP or TCP header from sport to dport (the rest zero), at p; its length. */
static size_t l4_hdr(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	size_t len = proto == 6 ? 20 : 8;

	memset(p, 0, len);
	p[0] = (uint8_t)(sport >> 8);
	p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	if (proto == 6)
		p[12] = 5 << 4;
	else
		p[5] = 8;
	return len;
}

static void own6(const struct skiff_in6 *a, uint8_t proto, uint16_t port, bool on)
{
	struct skiff_port6_key k = { .addr = *a, .port = htons(port), .proto = proto };
	struct skiff_port_val v = { .refs = 1 };
	int fd = bpf_map__fd(fx.skel->maps.ports6);

	if (on)
		assert_int_equal(bpf_map_update_elem(fd, &k, &v, 0), 0);
	else
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
}

#define DELTA(name) (after.name - before.name)

/*
 * Steered frames reach skiff_to_stack(), which finds no AF_XDP socket in
 * this test and passes the frame (no_xsk): so no_xsk counts the frames
 * XDP steered, pass_port6 the ones it left to the kernel.
 */
static void owned_ports_on_a_shared_address_are_steered_and_the_rest_passed(void **state)
{
	static const struct skiff_in6 any;
	struct skiff_xdp_stats before = stats_sum(), after;
	uint8_t l4[20];
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	own6(&shr, 17, 7000, true); /* this address only */
	own6(&any, 6, 8080, true);  /* every skiff IPv6 address */
	build_raw(&f, &peer, &shr, 17, l4, l4_hdr(l4, 17, 40000, 7000));
	assert_int_equal(run(&f, &r), XDP_PASS);
	build_raw(&f, &peer, &shr, 6, l4, l4_hdr(l4, 6, 40000, 8080));
	assert_int_equal(run(&f, &r), XDP_PASS);
	after = stats_sum();
	assert_int_equal(DELTA(no_xsk), 2);
	assert_int_equal(DELTA(pass_port6), 0);

	/* the kernel's ports: another port, the other protocol */
	before = after;
	build_raw(&f, &peer, &shr, 6, l4, l4_hdr(l4, 6, 40000, 7000));
	assert_passes_unchanged(&f, &r);
	build_raw(&f, &peer, &shr, 17, l4, l4_hdr(l4, 17, 40000, 22));
	assert_passes_unchanged(&f, &r);
	/* a TCP header shorter than 20 bytes on an owned port */
	build_raw(&f, &peer, &shr, 6, l4, 12);
	f.b[14 + 40 + 2] = 8080 >> 8;
	f.b[14 + 40 + 3] = 8080 & 0xff;
	assert_int_equal(run(&f, &r), XDP_DROP);
	/* ICMPv6 (echo, NS) to a shared address stays the kernel's */
	memset(l4, 0, 8);
	l4[0] = SKIFF_ICMPV6_ECHO_REQUEST;
	build_raw(&f, &peer, &shr, SKIFF_IPPROTO_ICMPV6, l4, 8);
	assert_int_equal(run(&f, &r), XDP_PASS);
	after = stats_sum();
	assert_int_equal(DELTA(pass_port6), 2);
	assert_int_equal(DELTA(drop_l4_truncated), 1);
	assert_int_equal(DELTA(pass_ip6_shared), 1);
	assert_int_equal(DELTA(no_xsk), 0);
	own6(&shr, 17, 7000, false);
	own6(&any, 6, 8080, false);
}

/* Extension headers (RFC 8200 4) before the transport header are walked:
 * at most 8; AH/ESP/unknown ones leave the packet to the kernel. */
static void extension_headers_are_walked_to_the_port_and_bounded(void **state)
{
	struct skiff_xdp_stats before = stats_sum(), after;
	uint8_t pl[200];
	struct frame f;
	struct result r;
	size_t n;
	int i;

	(void)state;
	REQUIRE_ROOT();
	own6(&shr, 17, 7000, true);
	/* hop-by-hop (8 bytes) + destination options (16 bytes) + UDP */
	memset(pl, 0, sizeof(pl));
	pl[0] = SKIFF_NH_DSTOPTS;
	pl[8] = 17;
	pl[9] = 1;
	n = 24 + l4_hdr(pl + 24, 17, 40000, 7000);
	build_raw(&f, &peer, &shr, SKIFF_NH_HOPOPTS, pl, n);
	assert_int_equal(run(&f, &r), XDP_PASS);
	after = stats_sum();
	assert_int_equal(DELTA(no_xsk), 1);

	/* nine destination options headers: over the bound */
	before = after;
	memset(pl, 0, sizeof(pl));
	for (i = 0; i < 9; i++)
		pl[i * 8] = i == 8 ? 17 : SKIFF_NH_DSTOPTS;
	n = 72 + l4_hdr(pl + 72, 17, 40000, 7000);
	build_raw(&f, &peer, &shr, SKIFF_NH_DSTOPTS, pl, n);
	assert_passes_unchanged(&f, &r);
	/* an extension header longer than the payload length says */
	memset(pl, 0, sizeof(pl));
	pl[0] = 17;
	pl[1] = 4; /* 40 bytes */
	build_raw(&f, &peer, &shr, SKIFF_NH_DSTOPTS, pl, 16);
	f.len += 40; /* bytes in the frame, not in the payload */
	assert_int_equal(run(&f, &r), XDP_DROP);
	/* AH (51): the kernel's */
	memset(pl, 0, sizeof(pl));
	pl[0] = 17;
	pl[1] = 4;
	n = 24 + l4_hdr(pl + 24, 17, 40000, 7000);
	build_raw(&f, &peer, &shr, 51, pl, n);
	assert_passes_unchanged(&f, &r);
	after = stats_sum();
	assert_int_equal(DELTA(pass_ip6_ext), 1);
	assert_int_equal(DELTA(drop_ip6_malformed), 1);
	assert_int_equal(DELTA(pass_ip6_shared), 1);
	assert_int_equal(DELTA(no_xsk), 0);
	own6(&shr, 17, 7000, false);
}

/* A fragment header (RFC 8200 4.5) with offset and M, and identification. */
static void frag_hdr(uint8_t *p, uint8_t nh, uint16_t offset, bool more, uint32_t id)
{
	uint16_t fo = (uint16_t)(offset | (more ? 1 : 0));

	memset(p, 0, 8);
	p[0] = nh;
	p[2] = (uint8_t)(fo >> 8);
	p[3] = (uint8_t)fo;
	id = htonl(id);
	memcpy(p + 4, &id, 4);
}

/* A UDP fragment peer -> shr (fragment header: offset off, M more,
 * identification id), with a UDP header to dport when dport > 0, len bytes
 * of payload in all; run through the program.  Returns the verdict. */
static int frag6_run(struct frame *f, struct result *r, uint32_t id, uint16_t off, bool more,
		     int dport, size_t len)
{
	uint8_t pl[64];

	memset(pl, 0, sizeof(pl));
	frag_hdr(pl, 17, off, more, id);
	if (dport > 0)
		l4_hdr(pl + 8, 17, 40000, (uint16_t)dport);
	build_raw(f, &peer, &shr, SKIFF_NH_FRAGMENT, pl, len);
	return run(f, r);
}

/* Fragments follow their datagram's first fragment, as for IPv4. */
static void fragments_follow_their_datagrams_owner(void **state)
{
	struct skiff_xdp_stats before = stats_sum(), after;
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	own6(&shr, 17, 7000, true);
	/* first fragment of datagram 77 (owned port), then its second */
	assert_int_equal(frag6_run(&f, &r, 77, 0, true, 7000, 48), XDP_PASS);
	assert_int_equal(frag6_run(&f, &r, 77, 40, false, 0, 24), XDP_PASS);
	after = stats_sum();
	assert_int_equal(DELTA(frag6_first), 1);
	assert_int_equal(DELTA(frag6_follow), 1);
	assert_int_equal(DELTA(no_xsk), 2);

	/* datagram 78 to a port the kernel has: both parts the kernel's */
	before = after;
	assert_int_equal(frag6_run(&f, &r, 78, 0, true, 53, 48), XDP_PASS);
	assert_int_equal(frag6_run(&f, &r, 78, 40, false, 0, 24), XDP_PASS);
	assert_memory_equal(r.b, f.b, f.len);
	/* a later fragment of a datagram never seen */
	assert_int_equal(frag6_run(&f, &r, 79, 40, false, 0, 24), XDP_PASS);
	/* an atomic fragment (RFC 6946) is a whole packet: steered, not remembered */
	assert_int_equal(frag6_run(&f, &r, 80, 0, false, 7000, 16), XDP_PASS);
	/* a first fragment too short for the UDP header (RFC 7112) */
	assert_int_equal(frag6_run(&f, &r, 81, 0, true, 0, 12), XDP_DROP);
	after = stats_sum();
	assert_int_equal(DELTA(frag6_first), 1);
	assert_int_equal(DELTA(frag6_follow), 1);
	assert_int_equal(DELTA(pass_port6), 2);
	assert_int_equal(DELTA(pass_frag6_unknown), 1);
	assert_int_equal(DELTA(no_xsk), 1);
	assert_int_equal(DELTA(drop_l4_truncated), 1);
	own6(&shr, 17, 7000, false);
}

/* An ICMPv6 error (here Packet Too Big) quoting len bytes of a packet from
 * qsrc to peer with next header qnh and transport header l4. */
static void icmp6_err(struct frame *f, const struct skiff_in6 *qsrc, uint8_t qnh,
		      const uint8_t *l4, size_t l4len, size_t cut)
{
	uint8_t m[128], *q = m + 8;
	size_t len;

	memset(m, 0, sizeof(m));
	m[0] = SKIFF_ICMPV6_PKT_TOOBIG;
	m[6] = 0x05; /* MTU 1280 */
	q[0] = 0x60;
	q[5] = (uint8_t)l4len;
	q[6] = qnh;
	q[7] = 64;
	memcpy(q + 8, qsrc, 16);
	memcpy(q + 24, &peer, 16);
	memcpy(q + 40, l4, l4len);
	len = 8 + 40 + l4len - cut;
	build(f, our_mac, &peer, &shr, 64, m, len, false);
}

static void icmp6_errors_quoting_an_owned_flow_are_steered(void **state)
{
	struct skiff_xdp_stats before = stats_sum(), after;
	uint8_t l4[28];
	struct frame f;
	struct result r;
	size_t n;

	(void)state;
	REQUIRE_ROOT();
	own6(&shr, 6, 8080, true);
	n = l4_hdr(l4, 6, 8080, 40000); /* our segment: source port 8080 */
	icmp6_err(&f, &shr, 6, l4, n, 0);
	assert_int_equal(run(&f, &r), XDP_PASS);
	/* quoting the first fragment of one of our datagrams */
	frag_hdr(l4, 6, 0, true, 5);
	l4_hdr(l4 + 8, 6, 8080, 40000);
	icmp6_err(&f, &shr, SKIFF_NH_FRAGMENT, l4, 28, 0);
	assert_int_equal(run(&f, &r), XDP_PASS);
	after = stats_sum();
	assert_int_equal(DELTA(no_xsk), 2);

	before = after;
	/* another source quoted, another port, a later fragment, a short quote */
	n = l4_hdr(l4, 6, 8080, 40000);
	icmp6_err(&f, &other, 6, l4, n, 0);
	assert_int_equal(run(&f, &r), XDP_PASS);
	n = l4_hdr(l4, 6, 8081, 40000);
	icmp6_err(&f, &shr, 6, l4, n, 0);
	assert_int_equal(run(&f, &r), XDP_PASS);
	frag_hdr(l4, 6, 8, false, 5);
	icmp6_err(&f, &shr, SKIFF_NH_FRAGMENT, l4, 16, 0);
	assert_int_equal(run(&f, &r), XDP_PASS);
	n = l4_hdr(l4, 6, 8080, 40000);
	icmp6_err(&f, &shr, 6, l4, n, n - 4);
	assert_passes_unchanged(&f, &r);
	after = stats_sum();
	assert_int_equal(DELTA(pass_icmp6_err), 2);
	assert_int_equal(DELTA(pass_icmp6_quote), 2);
	assert_int_equal(DELTA(no_xsk), 0);
	own6(&shr, 6, 8080, false);
}

/* A steered frame (hop-by-hop, fragment header, UDP) whose payload length
 * is cut to end at every byte, and whose frame is cut at every byte: never
 * steered, never answered, never changed. */
static void a_steered_frame_cut_anywhere_is_never_steered(void **state)
{
	struct skiff_xdp_stats before, after;
	uint8_t pl[64];
	struct frame whole, f;
	struct result r;
	size_t full, cut;

	(void)state;
	REQUIRE_ROOT();
	own6(&shr, 17, 7000, true);
	memset(pl, 0, sizeof(pl));
	pl[0] = SKIFF_NH_FRAGMENT;
	frag_hdr(pl + 8, 17, 0, true, 99);
	full = 16 + l4_hdr(pl + 16, 17, 40000, 7000);
	build_raw(&whole, &peer, &shr, SKIFF_NH_HOPOPTS, pl, full);
	before = stats_sum();
	assert_int_equal(run(&whole, &r), XDP_PASS);
	after = stats_sum();
	assert_int_equal(DELTA(no_xsk), 1);
	for (cut = 0; cut < full; cut++) {
		/* the payload length says cut bytes, the frame holds them all */
		build_raw(&f, &peer, &shr, SKIFF_NH_HOPOPTS, pl, cut);
		memcpy(f.b + 54 + cut, pl + cut, full - cut);
		f.len = 54 + full;
		before = stats_sum();
		run(&f, &r);
		after = stats_sum();
		if (DELTA(no_xsk) || r.verdict == XDP_TX || r.verdict == XDP_REDIRECT)
			fail_msg("payload length %zu: steered or answered", cut);
		assert_memory_equal(r.b, f.b, f.len);
	}
	for (cut = 14; cut < whole.len; cut++) {
		f = whole;
		f.len = cut;
		before = stats_sum();
		run(&f, &r);
		after = stats_sum();
		if (DELTA(no_xsk) || r.verdict == XDP_TX || r.verdict == XDP_REDIRECT)
			fail_msg("frame cut to %zu bytes: steered or answered", cut);
		if (r.verdict == XDP_PASS)
			assert_memory_equal(r.b, f.b, cut);
	}
	own6(&shr, 17, 7000, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ns_for_a_dedicated_address_gets_the_exact_na_and_learns_the_sender),
		cmocka_unit_test(a_neighbour_moving_to_another_mac_bumps_the_generation),
		cmocka_unit_test(router_advertisements_mld_and_dhcpv6_are_passed_untouched),
		cmocka_unit_test(dad_probe_for_a_dedicated_address_is_answered_to_all_nodes),
		cmocka_unit_test(invalid_solicitations_are_dropped_and_counted),
		cmocka_unit_test(echo_request_to_a_dedicated_address_gets_the_exact_reply),
		cmocka_unit_test(shared_and_foreign_addresses_are_the_kernels_untouched),
		cmocka_unit_test(frames_cut_at_every_length_are_never_answered),
		cmocka_unit_test(owned_ports_on_a_shared_address_are_steered_and_the_rest_passed),
		cmocka_unit_test(extension_headers_are_walked_to_the_port_and_bounded),
		cmocka_unit_test(fragments_follow_their_datagrams_owner),
		cmocka_unit_test(icmp6_errors_quoting_an_owned_flow_are_steered),
		cmocka_unit_test(a_steered_frame_cut_anywhere_is_never_steered),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
