// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The daemon's IPv6 input (user/net/ipv6.c) on crafted frames over the fake
 * device: a dedicated IPv6 address with every port closed answers UDP with
 * ICMPv6 port unreachable (RFC 4443 3.1), TCP with the RST RFC 9293
 * 3.10.7.1 asks for, an unknown next header with parameter problem pointing
 * at the field (RFC 8200 4), echo requests XDP left (extension headers)
 * with the reply; fragments, bad checksums, long chains and other
 * addresses are dropped and counted; errors are rate limited; frames cut at
 * every length never crash and are never answered.  Checksums are checked
 * here independently; every frame is back in the pool afterwards.
 */
#include "iptest.h"

#include <arpa/inet.h>

#include "net/ipv6.h"

#define T_V6HLEN 40

static uint8_t our6[16], peer6[16], other6[16];

static void addr6(uint8_t *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

/* iptest.h's fixture, with a dedicated IPv6 address too */
static int setup6(void **state)
{
	struct harness *h;

	setup(state);
	h = *state;
	addr6(our6, "2001:db8::1");
	addr6(peer6, "2001:db8::2");
	addr6(other6, "2001:db8::99");
	memcpy(h->cfg.addrs6[0].addr, our6, 16);
	h->cfg.addrs6[0].prefix_len = 64;
	h->cfg.addrs6[0].dedicated = true;
	h->cfg.n_addrs6 = 1;
	return 0;
}

/* RFC 8200 8.1 sum over pseudo-header + data, folded (0 when right). */
static uint16_t csum6(const uint8_t *src, const uint8_t *dst, uint8_t nh, const uint8_t *d,
		      size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += len + nh;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	if (len & 1)
		sum += (uint32_t)d[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Ethernet (peer -> us) + IPv6 (peer6 -> dst, next header nh) + payload,
 * whose upper-layer checksum at csum_off (if >= 0) is filled in over the
 * bytes after the extension headers of length ext.
 */
static size_t frame6(uint8_t *f, const uint8_t *dst, uint8_t nh, const uint8_t *payload,
		     size_t len, size_t ext, uint8_t l4, int csum_off)
{
	uint8_t *ip = f + T_ETH;
	uint16_t c;

	memcpy(f, H_MAC, 6);
	memcpy(f + 6, H_PEER_MAC, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(ip, 0, T_V6HLEN);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(len >> 8);
	ip[5] = (uint8_t)len;
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, peer6, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + T_V6HLEN, payload, len);
	if (csum_off >= 0) {
		uint8_t *u = ip + T_V6HLEN + ext;

		u[csum_off] = u[csum_off + 1] = 0;
		c = csum6(peer6, dst, l4, u, len - ext);
		u[csum_off] = (uint8_t)(c >> 8);
		u[csum_off + 1] = (uint8_t)c;
	}
	return T_ETH + T_V6HLEN + len;
}

static const uint8_t udp_payload[12] = { 0x9c, 0x40, 0x27, 0x0f, 0, 12, 0, 0, 'h', 'i', '!', 0 };

/* A transmitted IPv6 frame us -> peer: addresses, version, length, checksum. */
static const uint8_t *check_out6(const uint8_t *f, size_t n, uint8_t nh)
{
	const uint8_t *ip = f + T_ETH;

	assert_true(n >= T_ETH + T_V6HLEN);
	assert_memory_equal(f, H_PEER_MAC, 6);
	assert_memory_equal(f + 6, H_MAC, 6);
	assert_int_equal(t_get16(f + 12), 0x86dd);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(t_get16(ip + 4), n - T_ETH - T_V6HLEN);
	assert_int_equal(ip[6], nh);
	assert_memory_equal(ip + 8, our6, 16);
	assert_memory_equal(ip + 24, peer6, 16);
	assert_int_equal(csum6(our6, peer6, nh, ip + T_V6HLEN, n - T_ETH - T_V6HLEN), 0);
	return ip + T_V6HLEN;
}

static void udp_to_a_closed_port_gets_port_unreachable(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048];
	const uint8_t *icmp;
	size_t n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6), m;

	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[0], 1); /* destination unreachable */
	assert_int_equal(icmp[1], 4); /* port unreachable */
	/* it quotes the datagram from its IPv6 header on */
	assert_int_equal(m - T_ETH - T_V6HLEN - 8, n - T_ETH);
	assert_memory_equal(icmp + 8, f + T_ETH, n - T_ETH);
	assert_int_equal(T_STAT(h, icmp6_err_sent), 1);
	assert_int_equal(T_DROP(h, udp_no_port), 1);
}

static void tcp_to_a_closed_port_gets_the_rfc_9293_reset(void **state)
{
	struct harness *h = *state;
	uint8_t seg[20] = { 0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02,
			    0xff, 0xff };
	uint8_t f[256], out[2048];
	const uint8_t *t;
	size_t n, m;

	/* a SYN (seq 1000): <SEQ=0><ACK=1001><CTL=RST,ACK> */
	n = frame6(f, our6, 6, seg, sizeof(seg), 0, 6, 16);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	t = check_out6(out, m, 6);
	assert_int_equal(m, T_ETH + T_V6HLEN + 20);
	assert_int_equal(t_get16(t), 80);
	assert_int_equal(t_get16(t + 2), 0x9c40);
	assert_int_equal(t_get16(t + 4) << 16 | t_get16(t + 6), 0);
	assert_int_equal(t_get16(t + 8) << 16 | t_get16(t + 10), 1001);
	assert_int_equal(t[13], 0x14);

	/* an ACK (ack 5555): <SEQ=5555><CTL=RST> */
	seg[13] = 0x10;
	seg[10] = 0x15;
	seg[11] = 0xb3;
	n = frame6(f, our6, 6, seg, sizeof(seg), 0, 6, 16);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	t = check_out6(out, m, 6);
	assert_int_equal(t_get16(t + 4) << 16 | t_get16(t + 6), 5555);
	assert_int_equal(t[13], 0x04);

	/* a RST is never answered */
	seg[13] = 0x04;
	n = frame6(f, our6, 6, seg, sizeof(seg), 0, 6, 16);
	harness_rx(h, f, n);
	assert_int_equal(t_pop(h, out, sizeof(out)), 0);
	assert_int_equal(T_STAT(h, tcp6_rst_sent), 2);
}

static void echo_with_an_extension_header_is_answered_by_the_daemon(void **state)
{
	struct harness *h = *state;
	uint8_t p[8 + 24], f[256], out[2048];
	const uint8_t *icmp;
	size_t n, m, i;

	/* Hop-by-Hop (next: ICMPv6, PadN), then the echo request */
	memset(p, 0, sizeof(p));
	p[0] = 58;
	p[2] = 1;
	p[3] = 4;
	p[8] = 128;
	p[12] = 0x12;
	p[15] = 9;
	for (i = 16; i < sizeof(p); i++)
		p[i] = (uint8_t)i;
	n = frame6(f, our6, 0, p, sizeof(p), 8, 58, 2);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(m, T_ETH + T_V6HLEN + 24);
	assert_int_equal(icmp[0], 129);
	assert_memory_equal(icmp + 4, p + 12, 20); /* identifier, sequence, data */
	assert_int_equal(T_STAT(h, icmp6_echo_reply), 1);
}

static void unknown_next_header_gets_parameter_problem_pointing_at_it(void **state)
{
	struct harness *h = *state;
	uint8_t p[16] = { 0 }, f[256], out[2048];
	const uint8_t *icmp;
	size_t n, m;

	n = frame6(f, our6, 253, p, 8, 0, 0, -1);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[0], 4);
	assert_int_equal(icmp[1], 1);
	assert_int_equal(t_get16(icmp + 4) << 16 | t_get16(icmp + 6), 6);
	/* behind a Destination Options header: the pointer is that header's field */
	p[0] = 253;
	n = frame6(f, our6, 60, p, 16, 0, 0, -1);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(t_get16(icmp + 4) << 16 | t_get16(icmp + 6), 40);
	assert_int_equal(T_DROP(h, ip6_unknown_nexthdr), 2);
}

static void fragments_bad_checksums_long_chains_and_others_are_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t p[128] = { 0 }, f[512], out[2048];
	size_t n;
	int i;

	p[0] = 17; /* a fragment header */
	n = frame6(f, our6, 44, p, 16, 0, 0, -1);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_frag), 1);

	n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6);
	f[n - 1] ^= 0x55; /* checksum wrong */
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_csum), 1);

	for (i = 0; i < 9; i++) /* nine Destination Options headers */
		p[i * 8] = i < 8 ? 60 : 59;
	n = frame6(f, our6, 60, p, 72, 0, 0, -1);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_ext_chain), 1);

	n = frame6(f, other6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_not_ours), 1);

	n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6);
	f[T_ETH + 5] += 40; /* payload length past the frame */
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_len), 1);
	assert_int_equal(t_pop(h, out, sizeof(out)), 0);
}

static void errors_are_rate_limited(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048];
	size_t n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6);
	int i, sent = 0;

	for (i = 0; i < 80; i++)
		harness_rx(h, f, n);
	while (t_pop(h, out, sizeof(out)))
		sent++;
	assert_true(sent >= 40 && sent <= 60);
	assert_int_equal(T_STAT(h, icmp6_ratelimited), 80 - sent);
	harness_advance(h, 1000000000ull); /* a second later: allowed again */
	harness_rx(h, f, n);
	assert_int_equal(t_txq_len(h), 1);
	t_pop(h, out, sizeof(out));
}

static void frames_cut_at_every_length_are_never_answered(void **state)
{
	struct harness *h = *state;
	uint8_t f[256], out[2048];
	size_t n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6), cut;

	for (cut = 14; cut < n; cut++) {
		harness_rx(h, f, cut);
		assert_int_equal(t_pop(h, out, sizeof(out)), 0);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup6, teardown)
	const struct CMUnitTest tests[] = {
		T(udp_to_a_closed_port_gets_port_unreachable),
		T(tcp_to_a_closed_port_gets_the_rfc_9293_reset),
		T(echo_with_an_extension_header_is_answered_by_the_daemon),
		T(unknown_next_header_gets_parameter_problem_pointing_at_it),
		T(fragments_bad_checksums_long_chains_and_others_are_dropped),
		T(errors_are_rate_limited),
		T(frames_cut_at_every_length_are_never_answered),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
