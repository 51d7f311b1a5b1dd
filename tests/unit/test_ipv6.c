// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The daemon's IPv6 input (user/net/ipv6.c) on crafted frames over the fake
 * device: a dedicated IPv6 address with every port closed answers UDP with
 * ICMPv6 port unreachable (RFC 4443 3.1), TCP with the RST RFC 9293
 * 3.10.7.1 asks for, an unknown next header with parameter problem pointing
 * at the field (RFC 8200 4), echo requests XDP left (extension headers)
 * with the reply; fragments are reassembled (RFC 8200 4.5: out of order,
 * overlaps discard, RFC 7112 incomplete chains, atomic fragments, nested
 * ones, the timeout) and large replies fragmented; bad checksums, long
 * chains and other addresses are dropped and counted; errors are rate limited; frames cut at
 * every length never crash and are never answered.  Checksums are checked
 * here independently; every frame is back in the pool afterwards.
 */
#include "ip6test.h"

static const uint8_t udp_payload[12] = { 0x9c, 0x40, 0x27, 0x0f, 0, 12, 0, 0, 'h', 'i', '!', 0 };

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

static void bad_checksums_long_chains_and_others_are_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t p[128] = { 0 }, f[512], out[2048];
	size_t n;
	int i;

	n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6);
	f[n - 1] ^= 0x55; /* checksum wrong: udp_rcv's to check */
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, udp_csum), 1);
	/* RFC 8200 8.1: no checksum is no datagram over IPv6 */
	n = frame6(f, our6, 17, udp_payload, sizeof(udp_payload), 0, 17, 6);
	f[T_ETH + 40 + 6] = 0;
	f[T_ETH + 40 + 7] = 0;
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, udp6_csum_zero), 1);
	assert_int_equal(T_STAT(h, icmp6_err_sent), 0);

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

/* A fragment peer6 -> us: IPv6 header (next: fragment), fragment header
 * (next nh, byte offset off, M more, identification id), data. */
static size_t frag6(uint8_t *f, uint32_t id, uint32_t off, bool more, uint8_t nh,
		    const uint8_t *data, size_t len)
{
	uint8_t p[8 + 1500];

	assert_true(len <= 1500);
	p[0] = nh;
	p[1] = 0;
	p[2] = (uint8_t)(off >> 8);
	p[3] = (uint8_t)((off & 0xf8) | more);
	p[4] = (uint8_t)(id >> 24);
	p[5] = (uint8_t)(id >> 16);
	p[6] = (uint8_t)(id >> 8);
	p[7] = (uint8_t)id;
	memcpy(p + 8, data, len);
	return frame6(f, our6, 44, p, 8 + len, 0, 0, -1);
}

/* An echo request of len bytes (header included), checksummed. */
static void echo6_request(uint8_t *e, size_t len)
{
	uint16_t c;
	size_t i;

	e[0] = 128;
	e[1] = 0;
	e[2] = e[3] = 0;
	e[4] = 0x77;
	e[5] = 0x01; /* identifier */
	e[6] = 0;
	e[7] = 3; /* sequence */
	for (i = 8; i < len; i++)
		e[i] = (uint8_t)(i * 7);
	c = csum6(peer6, our6, 58, e, len);
	e[2] = (uint8_t)(c >> 8);
	e[3] = (uint8_t)c;
}

/* The fragments on the transmit queue, put back together into d (each
 * checked: us -> peer6, fragment header, offsets contiguous, only the
 * last without M).  Returns the reassembled length; *n_frags counted. */
static size_t unfrag_out(struct harness *h, uint8_t *d, size_t cap, uint8_t want_nh, int *n_frags)
{
	uint8_t out[2048];
	size_t total = 0, m;
	bool last = false;

	*n_frags = 0;
	while ((m = t_pop(h, out, sizeof(out)))) {
		const uint8_t *ip = out + T_ETH, *fh = ip + T_V6HLEN;
		uint32_t off, len;

		assert_false(last);
		assert_true(m > T_ETH + T_V6HLEN + 8 && m <= T_ETH + 1500);
		assert_memory_equal(out, H_PEER_MAC, 6);
		assert_int_equal(ip[6], 44);
		assert_int_equal(t_get16(ip + 4), m - T_ETH - T_V6HLEN);
		assert_memory_equal(ip + 8, our6, 16);
		assert_memory_equal(ip + 24, peer6, 16);
		assert_int_equal(fh[0], want_nh);
		off = t_get16(fh + 2) & 0xfff8;
		len = (uint32_t)(m - T_ETH - T_V6HLEN - 8);
		assert_int_equal(off, total);
		last = !(fh[3] & 1);
		if (!last)
			assert_int_equal(len % 8, 0);
		assert_true(total + len <= cap);
		memcpy(d + total, fh + 8, len);
		total += len;
		(*n_frags)++;
	}
	assert_true(last);
	return total;
}

static void fragmented_echo_is_reassembled_and_the_reply_fragmented(void **state)
{
	struct harness *h = *state;
	static uint8_t e[3008], r[4096];
	uint8_t f[1600];
	size_t n;
	int frags;

	echo6_request(e, sizeof(e));
	/* out of order: the last first, then the first, then the middle */
	n = frag6(f, 0xabcd0001, 2400, false, 58, e + 2400, sizeof(e) - 2400);
	harness_rx(h, f, n);
	n = frag6(f, 0xabcd0001, 0, true, 58, e, 1200);
	harness_rx(h, f, n);
	assert_int_equal(t_txq_len(h), 0);
	n = frag6(f, 0xabcd0001, 1200, true, 58, e + 1200, 1200);
	harness_rx(h, f, n);

	assert_int_equal(T_STAT(h, ip6_frag_rx), 3);
	assert_int_equal(T_STAT(h, ip6_reasm_ok), 1);
	assert_int_equal(T_STAT(h, icmp6_echo_reply), 1);
	n = unfrag_out(h, r, sizeof(r), 58, &frags);
	assert_int_equal(n, sizeof(e));
	assert_int_equal(frags, 3); /* 1448 + 1448 + 112 at MTU 1500 */
	assert_int_equal(T_STAT(h, ip6_frag_created), 3);
	assert_int_equal(r[0], 129);
	assert_memory_equal(r + 4, e + 4, sizeof(e) - 4);
	assert_int_equal(csum6(our6, peer6, 58, r, n), 0);
}

static void fragmented_udp_gets_port_unreachable_quoting_the_whole_header(void **state)
{
	struct harness *h = *state;
	uint8_t u[24], f[256], out[2048];
	const uint8_t *icmp;
	uint16_t c;
	size_t n, m;

	memset(u, 'u', sizeof(u));
	u[0] = 0x9c;
	u[1] = 0x40;
	u[2] = 0x27;
	u[3] = 0x0f;
	u[4] = 0;
	u[5] = sizeof(u);
	u[6] = u[7] = 0;
	c = csum6(peer6, our6, 17, u, sizeof(u));
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	n = frag6(f, 7, 16, false, 17, u + 16, 8);
	harness_rx(h, f, n);
	n = frag6(f, 7, 0, true, 17, u, 16);
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[0], 1);
	assert_int_equal(icmp[1], 4);
	/* the quote is the reassembled packet: next header UDP, no fragment header */
	assert_int_equal(icmp[8 + 6], 17);
	assert_int_equal(t_get16(icmp + 8 + 4), sizeof(u));
	assert_memory_equal(icmp + 8 + T_V6HLEN, u, sizeof(u));
	assert_int_equal(T_DROP(h, udp_no_port), 1);
}

static void overlapping_fragments_discard_the_datagram(void **state)
{
	struct harness *h = *state;
	uint8_t e[64], f[256], out[2048];
	size_t n;

	echo6_request(e, sizeof(e));
	n = frag6(f, 9, 0, true, 58, e, 32);
	harness_rx(h, f, n);
	n = frag6(f, 9, 24, false, 58, e + 24, 40); /* overlaps [24, 32) */
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip_frag_overlap), 1);
	/* what would have completed it comes too late: a new, incomplete datagram */
	n = frag6(f, 9, 32, false, 58, e + 32, 32);
	harness_rx(h, f, n);
	assert_int_equal(T_STAT(h, ip6_reasm_ok), 0);
	assert_int_equal(t_pop(h, out, sizeof(out)), 0);
	/* an exact duplicate is not an overlap: dropped, the datagram kept */
	n = frag6(f, 10, 0, true, 58, e, 32);
	harness_rx(h, f, n);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip_frag_dup), 1);
	n = frag6(f, 10, 32, false, 58, e + 32, 32);
	harness_rx(h, f, n);
	assert_int_equal(T_STAT(h, ip6_reasm_ok), 1);
	assert_int_equal(T_STAT(h, icmp6_echo_reply), 1);
	assert_true(t_pop(h, out, sizeof(out)) > 0);
}

/* A parameter problem (RFC 4443 3.4) with code and pointer, to the peer. */
static void expect_param_problem(struct harness *h, uint8_t code, uint32_t pointer)
{
	uint8_t out[2048];
	const uint8_t *icmp;
	size_t m = t_pop(h, out, sizeof(out));

	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[0], 4);
	assert_int_equal(icmp[1], code);
	assert_int_equal((uint32_t)t_get16(icmp + 4) << 16 | t_get16(icmp + 6), pointer);
}

static void bad_fragments_get_parameter_problems(void **state)
{
	struct harness *h = *state;
	uint8_t d[64] = { 0 }, f[256];

	/* M set, 12 bytes: pointer at the payload length field (RFC 8200 4.5) */
	harness_rx(h, f, frag6(f, 1, 0, true, 17, d, 12));
	expect_param_problem(h, 0, 4);
	/* past 65535: pointer at the fragment offset field */
	harness_rx(h, f, frag6(f, 2, 65528, false, 17, d, 16));
	expect_param_problem(h, 0, T_V6HLEN + 2);
	assert_int_equal(T_DROP(h, ip_frag_bad), 2);

	/* RFC 7112: a first fragment of a Destination Options header and 8
	 * bytes of a TCP header: code 3, pointer 0 */
	d[0] = 6;
	d[1] = 0;
	d[2] = 1; /* PadN */
	d[3] = 4;
	harness_rx(h, f, frag6(f, 3, 0, true, 60, d, 16));
	expect_param_problem(h, 3, 0);
	assert_int_equal(T_DROP(h, ip6_frag_chain), 1);
	assert_int_equal(T_STAT(h, ip6_reasm_ok), 0);
}

static void atomic_fragment_is_a_whole_packet_and_nested_fragments_are_refused(void **state)
{
	struct harness *h = *state;
	uint8_t d[64], inner[80], f[256], out[2048];
	const uint8_t *icmp;
	size_t n, m;

	/* RFC 6946: offset 0, no M: the UDP inside is delivered (port unreachable) */
	memcpy(d, udp_payload, sizeof(udp_payload));
	{
		uint16_t c;

		d[6] = d[7] = 0;
		c = csum6(peer6, our6, 17, d, sizeof(udp_payload));
		d[6] = (uint8_t)(c >> 8);
		d[7] = (uint8_t)c;
	}
	n = frag6(f, 4, 0, false, 17, d, sizeof(udp_payload));
	harness_rx(h, f, n);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[0], 1);
	assert_int_equal(T_STAT(h, ip6_frag_rx), 0);

	/* a first fragment whose payload starts with another fragment
	 * header: refused as an incomplete chain, nothing reassembled */
	memset(inner, 0, sizeof(inner));
	inner[0] = 17;
	inner[3] = 1; /* offset 0, M */
	n = frag6(f, 5, 0, true, 44, inner, 40);
	harness_rx(h, f, n);
	n = frag6(f, 5, 40, false, 44, inner + 40, 40);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_frag_chain), 1);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[1], 3);
	harness_advance(h, 31ull * 1000 * 1000 * 1000); /* the second never completes */
	assert_int_equal(T_STAT(h, ip6_reasm_ok), 0);
	assert_int_equal(t_pop(h, out, sizeof(out)), 0);
}

static void reassembly_timeout_sends_time_exceeded_only_with_the_first_fragment(void **state)
{
	struct harness *h = *state;
	uint8_t e[64], f[256], out[2048];
	const uint8_t *icmp;
	size_t n, m;

	echo6_request(e, sizeof(e));
	n = frag6(f, 11, 0, true, 58, e, 32);
	harness_rx(h, f, n);
	n = frag6(f, 12, 32, false, 58, e + 32, 32); /* another, without its first */
	harness_rx(h, f, n);
	harness_advance(h, 31ull * 1000 * 1000 * 1000);
	assert_int_equal(T_DROP(h, ip_frag_timeout), 2);
	m = t_pop(h, out, sizeof(out));
	icmp = check_out6(out, m, 58);
	assert_int_equal(icmp[0], 3); /* time exceeded, */
	assert_int_equal(icmp[1], 1); /* fragment reassembly time exceeded */
	assert_memory_equal(icmp + 8 + T_V6HLEN, e, 32); /* quotes the first fragment's data */
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

/* ---- path MTU (RFC 8201) ---- */

/* A Packet Too Big from router to us, reporting mtu, quoting the first
 * qlen bytes of a packet qsrc -> qdst whose payload length is qplen. */
static size_t ptb6(uint8_t *f, uint32_t mtu, const uint8_t *qsrc, const uint8_t *qdst,
		   uint16_t qplen, size_t qlen)
{
	uint8_t m[8 + 1232], router[16];

	addr6(router, "2001:db8::fe");
	assert_true(qlen <= sizeof(m) - 8);
	memset(m, 0, sizeof(m));
	m[0] = 2; /* packet too big */
	m[4] = (uint8_t)(mtu >> 24);
	m[5] = (uint8_t)(mtu >> 16);
	m[6] = (uint8_t)(mtu >> 8);
	m[7] = (uint8_t)mtu;
	m[8] = 0x60;
	m[12] = (uint8_t)(qplen >> 8);
	m[13] = (uint8_t)qplen;
	m[14] = 58;
	m[15] = 64;
	memcpy(m + 16, qsrc, 16);
	memcpy(m + 32, qdst, 16);
	return frame6_from(f, H_PEER_MAC, router, our6, 64, 58, m, 8 + qlen, 0, 58, 2);
}

/* The echo reply to a len-byte request from the peer, as it went out:
 * how many frames, and none longer than max (IPv6 header and on). */
static int echo_reply_frames(struct harness *h, size_t len, size_t max)
{
	static uint8_t e[1500], r[1500];
	uint8_t f[1600], out[2048];
	size_t n, m;
	int frags;

	echo6_request(e, len);
	n = frame6(f, our6, 58, e, len, 0, 0, -1);
	harness_rx(h, f, n);
	if (t_txq_len(h) == 1) {
		m = t_pop(h, out, sizeof(out));
		assert_int_equal(m, T_ETH + T_V6HLEN + len);
		assert_true(m - T_ETH <= max);
		return 1;
	}
	n = unfrag_out(h, r, sizeof(r), 58, &frags);
	assert_int_equal(n, len);
	assert_int_equal(r[0], 129);
	assert_memory_equal(r + 8, e + 8, len - 8);
	/* unfrag_out checked every fragment; here their size */
	assert_true(T_V6HLEN + 8 + ((len + frags - 1) / frags) <= max + 8);
	return frags;
}

static void packet_too_big_lowers_the_path_mtu_and_output_fragments_to_it(void **state)
{
	struct harness *h = *state;
	uint8_t f[1600], far6[16];
	struct pmtu6_info pi[4];

	assert_int_equal(ipv6_pmtu_get(&h->st, peer6), 1500);
	assert_int_equal(echo_reply_frames(h, 1400, 1500), 1);

	/* a router says 1280 about our 1440-byte packet to the peer */
	harness_rx(h, f, ptb6(f, 1280, our6, peer6, 1400, 1232));
	assert_int_equal(T_STAT(h, icmp6_ptb_rx), 1);
	assert_int_equal(T_STAT(h, pmtu6_updates), 1);
	assert_int_equal(ipv6_pmtu_get(&h->st, peer6), 1280);
	assert_int_equal(echo_reply_frames(h, 1400, 1280), 2);
	assert_int_equal(t_txq_len(h), 0); /* a PTB is never answered */

	/* a higher MTU, or one below 1280 (taken as 1280), changes nothing */
	harness_rx(h, f, ptb6(f, 1400, our6, peer6, 1452, 64));
	harness_rx(h, f, ptb6(f, 576, our6, peer6, 1400, 64));
	assert_int_equal(T_DROP(h, icmp6_ptb_not_lower), 2);
	assert_int_equal(ipv6_pmtu_get(&h->st, peer6), 1280);

	/* below 1280 for another destination: clamped to 1280 */
	addr6(far6, "2001:db8:99::7");
	harness_rx(h, f, ptb6(f, 68, our6, far6, 1400, 64));
	assert_int_equal(ipv6_pmtu_get(&h->st, far6), 1280);
	assert_int_equal(ipv6_pmtu_dump(&h->st, pi, 4), 2);
	assert_int_equal(pi[0].mtu, 1280);
	assert_true(pi[0].expires_ns > 590ull * 1000000000 &&
		    pi[0].expires_ns <= 600ull * 1000000000);

	/* RFC 8201 5.3: forgotten after 10 minutes, the link MTU again */
	harness_advance(h, 601ull * 1000000000);
	assert_int_equal(ipv6_pmtu_dump(&h->st, pi, 4), 0);
	assert_int_equal(ipv6_pmtu_get(&h->st, peer6), 1500);
	assert_int_equal(T_STAT(h, pmtu6_expired), 1);
	harness_add_neigh6(h, peer6, H_PEER_MAC); /* the old entry aged out too */
	assert_int_equal(echo_reply_frames(h, 1400, 1500), 1);
}

static void forged_and_off_path_packet_too_big_messages_are_refused(void **state)
{
	struct harness *h = *state;
	uint8_t f[1600], mc[16];
	size_t n;

	addr6(mc, "ff02::1");
	/* quoting a packet that is not from us */
	harness_rx(h, f, ptb6(f, 1280, other6, peer6, 1400, 64));
	/* quoting a packet that was not too big for the MTU it reports */
	harness_rx(h, f, ptb6(f, 1280, our6, peer6, 1000, 64));
	/* quoting less than an IPv6 header */
	harness_rx(h, f, ptb6(f, 1280, our6, peer6, 1400, 20));
	/* quoting a packet to a group, or to ourselves */
	harness_rx(h, f, ptb6(f, 1280, our6, mc, 1400, 64));
	harness_rx(h, f, ptb6(f, 1280, our6, our6, 1400, 64));
	/* quoting something other than IPv6 */
	n = ptb6(f, 1280, our6, peer6, 1400, 64);
	f[T_ETH + T_V6HLEN + 8] = 0x45;
	f[T_ETH + T_V6HLEN + 2] = f[T_ETH + T_V6HLEN + 3] = 0;
	{
		uint8_t router[16];
		uint16_t c;

		addr6(router, "2001:db8::fe");
		c = csum6(router, our6, 58, f + T_ETH + T_V6HLEN, 72);
		f[T_ETH + T_V6HLEN + 2] = (uint8_t)(c >> 8);
		f[T_ETH + T_V6HLEN + 3] = (uint8_t)c;
	}
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, icmp6_ptb_invalid), 6);
	/* a bad checksum is not even a Packet Too Big */
	n = ptb6(f, 1280, our6, peer6, 1400, 64);
	f[n - 1] ^= 0x40;
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip6_csum), 1);
	assert_int_equal(T_STAT(h, icmp6_ptb_rx), 6);
	assert_int_equal(T_STAT(h, pmtu6_updates), 0);
	assert_int_equal(ipv6_pmtu_get(&h->st, peer6), 1500);
	assert_int_equal(t_txq_len(h), 0);
}

static void the_path_mtu_cache_is_bounded_and_evicts_the_least_recently_used(void **state)
{
	struct harness *h = *state;
	static struct pmtu6_info pi[PMTU6_MAX_ENTRIES + 1];
	uint8_t f[1600], dst[16], first[16];
	int i, n;

	addr6(dst, "2001:db8:5::");
	for (i = 0; i < 1000; i++) {
		dst[14] = (uint8_t)(i >> 8);
		dst[15] = (uint8_t)i;
		if (i == 0)
			memcpy(first, dst, 16);
		harness_rx(h, f, ptb6(f, 1300, our6, dst, 1400, 64));
		h->st.now += 1000; /* a distinct use time for each */
		/* the first destination is in use all along: never evicted */
		assert_int_equal(ipv6_pmtu_get(&h->st, first), 1300);
	}
	n = ipv6_pmtu_dump(&h->st, pi, PMTU6_MAX_ENTRIES + 1);
	assert_int_equal(n, PMTU6_MAX_ENTRIES);
	assert_int_equal(T_STAT(h, pmtu6_updates), 1000);
	assert_int_equal(T_STAT(h, pmtu6_evicted), 1000 - PMTU6_MAX_ENTRIES);
	/* the newest is there */
	assert_int_equal(ipv6_pmtu_get(&h->st, dst), 1300);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup6, teardown)
	const struct CMUnitTest tests[] = {
		T(udp_to_a_closed_port_gets_port_unreachable),
		T(tcp_to_a_closed_port_gets_the_rfc_9293_reset),
		T(echo_with_an_extension_header_is_answered_by_the_daemon),
		T(unknown_next_header_gets_parameter_problem_pointing_at_it),
		T(bad_checksums_long_chains_and_others_are_dropped),
		T(fragmented_echo_is_reassembled_and_the_reply_fragmented),
		T(fragmented_udp_gets_port_unreachable_quoting_the_whole_header),
		T(overlapping_fragments_discard_the_datagram),
		T(bad_fragments_get_parameter_problems),
		T(atomic_fragment_is_a_whole_packet_and_nested_fragments_are_refused),
		T(reassembly_timeout_sends_time_exceeded_only_with_the_first_fragment),
		T(errors_are_rate_limited),
		T(frames_cut_at_every_length_are_never_answered),
		T(packet_too_big_lowers_the_path_mtu_and_output_fragments_to_it),
		T(forged_and_off_path_packet_too_big_messages_are_refused),
		T(the_path_mtu_cache_is_bounded_and_evicts_the_least_recently_used),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
