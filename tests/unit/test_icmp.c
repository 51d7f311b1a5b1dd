// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ICMP in the daemon (RFC 792, RFC 1122 3.2.2): the echo reply to a
 * reassembled 4000-byte ping (sent back fragmented) and to an optioned one,
 * byte for byte; protocol unreachable for a dedicated address only; Linux's
 * rate limits (per destination and global, refilled by the clock); no
 * error about an ICMP error, a broadcast, a later fragment or a bogus
 * source; received errors handed to the quoted protocol's err_handler, or
 * dropped and counted when its err_lookup says nobody holds the flow.
 */
#include "iptest.h"

#include <errno.h>

static uint8_t msg[T_MAX_DGRAM];
static uint8_t out[T_FRAME_MAX];


/* An ICMP message of len bytes in msg: header, then body. */
static void icmp_msg(uint8_t type, uint8_t code, uint32_t rest, const void *body, size_t blen)
{
	msg[0] = type;
	msg[1] = code;
	msg[2] = msg[3] = 0;
	t_put16(msg + 4, (uint16_t)(rest >> 16));
	t_put16(msg + 6, (uint16_t)rest);
	if (blen)
		memcpy(msg + 8, body, blen);
	t_put16(msg + 2, t_csum(msg, 8 + blen));
}

static void test_icmp_echo_reply_to_reassembled_4000_byte_ping(void **state)
{
	struct harness *h = *state;
	static uint8_t reply[8000];
	uint32_t got = 0, len = 4000;
	int frames = 0;
	size_t n;

	t_pattern(msg + 8, len - 8, 42);
	icmp_msg(ICMP_ECHO, 0, 0x12340007, msg + 8, len - 8);
	t_rx_frag(h, IPPROTO_ICMP, 77, msg, 0, 1480, 1);
	t_rx_frag(h, IPPROTO_ICMP, 77, msg, 1480, 1480, 1);
	t_rx_frag(h, IPPROTO_ICMP, 77, msg, 2960, 1040, 0);
	assert_int_equal(T_STAT(h, ip_reasm_ok), 1);
	assert_int_equal(T_STAT(h, icmp_echo_reply), 1);

	/* the reply leaves in fragments: put it back together by offset */
	while ((n = t_pop(h, out, sizeof(out)))) {
		const struct ip_hdr *ip =
			(const struct ip_hdr *)t_check_ip_out(out, n, H_PEER, IPPROTO_ICMP);
		uint32_t off = (get_be16(&ip->frag_off) & IP_OFFSET) * 8u;
		uint32_t plen = (uint32_t)n - T_ETH - IP_HLEN;

		assert_true(n <= T_ETH + 1500);
		assert_int_equal(!!(get_be16(&ip->frag_off) & IP_MF), off + plen < len);
		memcpy(reply + off, ip + 1, plen);
		got += plen;
		frames++;
	}
	assert_int_equal(frames, 3);
	assert_int_equal(got, len);
	assert_int_equal(reply[0], ICMP_ECHOREPLY);
	assert_int_equal(reply[1], 0);
	assert_int_equal(t_csum_check(reply, len), 0);
	assert_memory_equal(reply + 4, msg + 4, len - 4);	/* id, seq, data */
}

static void test_icmp_echo_reply_to_optioned_ping_exact_bytes(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX], want[64];
	uint8_t *ip = f + T_ETH;
	size_t n;

	icmp_msg(ICMP_ECHO, 0, 0xabcd0001, "pingdata", 8);
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 9, 0, msg, 16);
	/* 4 bytes of options (NOP x3, EOL): XDP leaves such pings to us */
	memmove(ip + 24, ip + 20, 16);
	memcpy(ip + 20, "\x01\x01\x01\x00", 4);
	ip[0] = 0x46;
	ip[1] = 0x28;	/* TOS, reflected */
	t_put16(ip + 2, 40);
	t_ip_fix(ip);
	harness_rx(h, f, n + 4);

	n = t_pop(h, out, sizeof(out));
	assert_int_equal(n, T_ETH + 20 + 16);
	ip = out + T_ETH;
	/* 45 28 0024 id 0000 40 01 csum 10.0.0.1 10.0.0.2 */
	memcpy(want, "\x45\x28\x00\x24", 4);
	memcpy(want + 4, ip + 4, 2);
	memcpy(want + 6, "\x00\x00\x40\x01", 4);
	memcpy(want + 10, ip + 10, 2);
	memcpy(want + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	icmp_msg(ICMP_ECHOREPLY, 0, 0xabcd0001, "pingdata", 8);
	memcpy(want + 20, msg, 16);
	t_check_ip_out(out, n, H_PEER, IPPROTO_ICMP);
	assert_memory_equal(ip, want, 36);
}

static void test_icmp_protocol_unreachable_exact_bytes(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX];
	const uint8_t *ip;
	size_t n = t_frame(f, H_PEER, H_ADDR, 200, 5, 0, "hello, nobody", 13);

	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip_unknown_proto), 1);
	assert_int_equal(T_STAT(h, icmp_unreach_sent), 1);
	n = t_pop(h, out, sizeof(out));
	ip = t_check_ip_out(out, n, H_PEER, IPPROTO_ICMP);
	assert_int_equal(n, T_ETH + 20 + 8 + 20 + 13);
	assert_int_equal(ip[1], 0xc0);
	assert_int_equal(ip[8], 64);
	icmp_msg(ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0, f + T_ETH, 33);
	assert_memory_equal(ip + 20, msg, 8 + 33);
}

static void test_icmp_no_protocol_unreachable_for_shared_address(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX];
	size_t n = t_frame(f, H_PEER, H_ADDR, 200, 5, 0, "kernel's", 8);

	h->cfg.addrs[0].dedicated = false;
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, ip_unknown_proto), 1);
	assert_int_equal(t_txq_len(h), 0);
}

/* Pop every transmitted frame; how many were IPv4 (not ARP re-confirmations). */
static uint32_t ip_frames_sent(struct harness *h)
{
	uint32_t ip = 0;
	size_t n;

	while ((n = t_pop(h, out, sizeof(out))))
		ip += get_be16(&((const struct eth_hdr *)out)->h_proto) == ETH_P_IP;
	return ip;
}

static void unknown_proto_from(struct harness *h, uint32_t src)
{
	uint8_t f[T_FRAME_MAX];
	size_t n = t_frame(f, src, H_ADDR, 200, 5, 0, "x", 1);

	harness_rx(h, f, n);
}

static void test_icmp_rate_limit_per_destination(void **state)
{
	struct harness *h = *state;

	for (int i = 0; i < 10; i++)
		unknown_proto_from(h, H_PEER);
	assert_int_equal(ip_frames_sent(h), 6);	/* burst of 6 */
	assert_int_equal(T_STAT(h, icmp_ratelimited), 4);

	/* one token a second */
	clock_advance(NSEC_PER_SEC);
	unknown_proto_from(h, H_PEER);
	unknown_proto_from(h, H_PEER);
	assert_int_equal(ip_frames_sent(h), 1);
	assert_int_equal(T_STAT(h, icmp_ratelimited), 5);

	/* the bucket refills up to the burst, no more */
	clock_advance(60 * NSEC_PER_SEC);
	for (int i = 0; i < 10; i++)
		unknown_proto_from(h, H_PEER);
	assert_int_equal(ip_frames_sent(h), 6);
	assert_int_equal(T_STAT(h, icmp_ratelimited), 9);
}

static void test_icmp_rate_limit_global(void **state)
{
	struct harness *h = *state;
	uint32_t src[60];

	for (int i = 0; i < 60; i++) {
		src[i] = htonl(0x0a00000a + (uint32_t)i);	/* 10.0.0.10 ... */
		harness_add_neigh(h, src[i], H_PEER_MAC);
	}
	for (int i = 0; i < 60; i++)
		unknown_proto_from(h, src[i]);
	assert_int_equal(ip_frames_sent(h), ICMP_MSGS_BURST);
	assert_int_equal(T_STAT(h, icmp_ratelimited), 60 - ICMP_MSGS_BURST);

	/* ICMP_MSGS_PER_SEC: 5 ms later, 5 more */
	clock_advance(5 * NSEC_PER_MSEC);
	for (int i = 50; i < 60; i++)
		unknown_proto_from(h, src[i]);
	assert_int_equal(ip_frames_sent(h), 5);
}

/* Run icmp_send on a crafted received datagram; returns frames sent. */
static uint32_t send_about(struct harness *h, const uint8_t *frame, size_t n, uint8_t pkt_type)
{
	struct pkb *in = fakedev_frame(&h->fd, frame, n);
	uint32_t sent;

	assert_non_null(in);
	pkb_pull(in, T_ETH);
	pkb_reset_network_header(in);
	in->pkt_type = pkt_type;
	h->st.now = clock_now();
	icmp_send(&h->st, in, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	pkb_free(in);
	sent = t_txq_len(h);
	fakedev_purge(&h->fd);
	return sent;
}

static void test_icmp_never_about_errors_broadcasts_fragments_bogus_sources(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX];
	size_t n;

	/* control: about an echo request, an error is sent */
	icmp_msg(ICMP_ECHO, 0, 0, "abcd", 4);
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 1, 0, msg, 12);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 1);

	/* about an ICMP error */
	icmp_msg(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, f + T_ETH, 28);
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 2, 0, msg, 36);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);

	/* about a datagram to the limited or the subnet broadcast */
	n = t_frame(f, H_PEER, 0xffffffffu, IPPROTO_UDP, 3, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_BROADCAST), 0);
	n = t_frame(f, H_PEER, htonl(0x0a0000ff), IPPROTO_UDP, 3, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);
	/* about a link-layer broadcast, even to our unicast address */
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_UDP, 3, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_BROADCAST), 0);
	/* about a multicast destination */
	n = t_frame(f, H_PEER, htonl(0xe0000001), IPPROTO_UDP, 3, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);

	/* about a fragment other than the first */
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_UDP, 4, 185, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);

	/* from a source that is not one host */
	n = t_frame(f, 0, H_ADDR, IPPROTO_UDP, 5, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);
	n = t_frame(f, htonl(0xe0000005), H_ADDR, IPPROTO_UDP, 5, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);
	n = t_frame(f, htonl(0x0a0000ff), H_ADDR, IPPROTO_UDP, 5, 0, "12345678", 8);
	assert_int_equal(send_about(h, f, n, PKB_HOST), 0);

	assert_int_equal(T_STAT(h, icmp_unreach_sent), 1);
	assert_int_equal(T_STAT(h, icmp_ratelimited), 0);
}

/* An ICMP error from the peer about a T_PROTO datagram we sent. */
static void rx_error(struct harness *h, uint8_t type, uint8_t code, uint32_t rest,
		     uint32_t quoted_src, size_t quote_len)
{
	uint8_t f[T_FRAME_MAX], q[64];
	size_t n;

	/* the quoted datagram: us -> peer, T_PROTO, 8 bytes of payload */
	n = harness_ip_frame(f, sizeof(f), quoted_src, H_PEER, T_PROTO, 99, 0, "ABCDEFGH", 8);
	memcpy(q, f + T_ETH, 28);
	icmp_msg(type, code, rest, q, quote_len);
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 6, 0, msg, 8 + quote_len);
	harness_rx(h, f, n);
}

static void test_icmp_errors_reach_the_quoted_protocol(void **state)
{
	struct harness *h = *state;

	rx_error(h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, H_ADDR, 28);
	assert_int_equal(t_rec.err_calls, 1);
	assert_int_equal(t_rec.err, -ECONNREFUSED);
	assert_int_equal(t_rec.quote[0], 0x45);
	assert_int_equal(t_rec.quote[9], T_PROTO);
	assert_memory_equal(t_rec.quote + 20, "ABCDEFGH", 8);

	rx_error(h, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, H_ADDR, 28);
	assert_int_equal(t_rec.err_calls, 2);
	assert_int_equal(t_rec.err, -EMSGSIZE);
	assert_int_equal(t_rec.info, 1400);

	rx_error(h, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, H_ADDR, 28);
	assert_int_equal(t_rec.err, -EHOSTUNREACH);
	rx_error(h, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0, H_ADDR, 28);
	assert_int_equal(t_rec.err, -ENETUNREACH);
	rx_error(h, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, H_ADDR, 28);
	assert_int_equal(t_rec.err, -EHOSTUNREACH);
	rx_error(h, ICMP_PARAMETERPROB, 0, 0x0c000000, H_ADDR, 28);
	assert_int_equal(t_rec.err, -EPROTO);
	assert_int_equal(t_rec.info, 12);
	assert_int_equal(t_rec.err_calls, 6);
	assert_int_equal(T_STAT(h, icmp_rx), 6);
	assert_int_equal(t_txq_len(h), 0);	/* no error about an error */
}

static void test_icmp_error_with_bad_quote_is_dropped(void **state)
{
	struct harness *h = *state;

	rx_error(h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, H_ADDR, 27);	/* 7 bytes after */
	rx_error(h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, H_PEER, 28);	/* not ours */
	assert_int_equal(t_rec.err_calls, 0);
	assert_int_equal(T_DROP(h, icmp_quote), 2);
}

/* The test protocol with an err_lookup that says what t_here says. */
static bool t_here;
static int t_lookups;

static bool t_proto_err_lookup(struct stack *st, const struct pkb *pkb, int *owner)
{
	(void)st;
	t_lookups++;
	assert_int_equal(pkb->data[9], T_PROTO);	/* data = the quoted header */
	*owner = -1;
	return t_here;
}

static const struct net_protocol t_proto_lookup = {
	.handler = t_proto_rcv,
	.err_handler = t_proto_err,
	.err_lookup = t_proto_err_lookup,
};

/*
 * A protocol with err_lookup: errors about flows it holds reach its
 * err_handler; one about a flow it does not hold, on a stack with no other
 * worker to ask, is dropped and counted (Linux counts ICMP_MIB_INERRORS).
 */
static void test_icmp_error_about_a_flow_nobody_holds_is_dropped_and_counted(void **state)
{
	struct harness *h = *state;

	assert_int_equal(inet_add_protocol(&h->st, T_PROTO, NULL), 0);
	assert_int_equal(inet_add_protocol(&h->st, T_PROTO, &t_proto_lookup), 0);
	t_here = true;
	rx_error(h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, H_ADDR, 28);
	assert_int_equal(t_lookups, 1);
	assert_int_equal(t_rec.err_calls, 1);
	assert_int_equal(t_rec.err, -ECONNREFUSED);

	t_here = false;
	rx_error(h, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, H_ADDR, 28);
	assert_int_equal(t_lookups, 2);
	assert_int_equal(t_rec.err_calls, 1);
	assert_int_equal(T_DROP(h, icmp_err_no_flow), 1);
	assert_int_equal(T_STAT(h, icmp_err_handoff), 0);
	assert_int_equal(T_STAT(h, handoff_out), 0);
	assert_int_equal(t_txq_len(h), 0);
}

static void test_icmp_input_drops(void **state)
{
	struct harness *h = *state;
	uint8_t f[T_FRAME_MAX];
	size_t n;

	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 1, 0, "\x08\x00\x00\x00", 4);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, icmp_short), 1);

	icmp_msg(ICMP_ECHO, 0, 1, "data", 4);
	msg[9] ^= 0xff;
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 2, 0, msg, 12);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, icmp_csum), 1);

	icmp_msg(ICMP_ECHOREPLY, 0, 1, "data", 4);
	n = t_frame(f, H_PEER, H_ADDR, IPPROTO_ICMP, 3, 0, msg, 12);
	harness_rx(h, f, n);
	assert_int_equal(T_DROP(h, icmp_type), 1);
	assert_int_equal(T_STAT(h, icmp_rx), 3);
	assert_int_equal(t_txq_len(h), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_icmp_echo_reply_to_reassembled_4000_byte_ping),
		T(test_icmp_echo_reply_to_optioned_ping_exact_bytes),
		T(test_icmp_protocol_unreachable_exact_bytes),
		T(test_icmp_no_protocol_unreachable_for_shared_address),
		T(test_icmp_rate_limit_per_destination),
		T(test_icmp_rate_limit_global),
		T(test_icmp_never_about_errors_broadcasts_fragments_bogus_sources),
		T(test_icmp_errors_reach_the_quoted_protocol),
		T(test_icmp_error_with_bad_quote_is_dropped),
		T(test_icmp_error_about_a_flow_nobody_holds_is_dropped_and_counted),
		T(test_icmp_input_drops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
