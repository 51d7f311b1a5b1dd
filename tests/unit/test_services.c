// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in services (user/apps/services.c) over the whole stack and the
 * fake device: UDP echo (RFC 862) sends back exactly what came, including a
 * datagram that arrives in fragments and leaves in fragments; discard
 * (RFC 863) consumes without a word.  Over TCP they listen and release
 * their port (their traffic is in test_apps_tcp.c, over two stacks).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "udptest.h"

#include "apps/services.h"
#include "sock/socket.h"
#include "transport/tcp.h"

#define ECHO_PORT	7
#define DISCARD_PORT	9
#define IP_MF_BIT	0x2000


static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* Expect one unfragmented echo of payload from us:7 to the peer's sport. */
static void expect_echo(struct harness *h, uint16_t sport, const uint8_t *payload, size_t plen)
{
	const struct udp_hdr *uh;
	struct t_tx t;

	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->protocol, IPPROTO_UDP);
	assert_int_equal(t.iph->saddr, H_ADDR);
	assert_int_equal(t.iph->daddr, H_PEER);
	assert_int_equal(ntohs(t.iph->frag_off) & 0x3fff, 0);
	assert_int_equal(t.l4_len, 8 + plen);
	uh = (const struct udp_hdr *)t.l4;
	assert_int_equal(ntohs(uh->source), ECHO_PORT);
	assert_int_equal(ntohs(uh->dest), sport);
	assert_int_equal(ntohs(uh->len), 8 + plen);
	assert_int_equal(t_udp_sum(H_ADDR, H_PEER, t.l4, t.l4_len), 0xffff);
	assert_memory_equal(t.l4 + 8, payload, plen);
	t_tx_free(&t);
}

static void echo_returns_small_and_full_mtu_datagrams_byte_identical(void **state)
{
	static const size_t sizes[] = { 1, 512, 1472 };
	struct harness *h = *state;
	struct service *svc;
	uint8_t payload[1472];
	size_t i;

	assert_int_equal(echo_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &svc), 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(ECHO_PORT)), 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(payload, sizes[i], (unsigned int)i);
		t_rx_udp(h, H_ADDR, (uint16_t)(T_PEER_PORT + i), ECHO_PORT, payload, sizes[i],
			 T_CSUM_OK);
		expect_echo(h, (uint16_t)(T_PEER_PORT + i), payload, sizes[i]);
		assert_null(fakedev_pop_tx(&h->fd));
	}
	assert_int_equal(h->st.stats->udp_rx, 3);
	assert_int_equal(h->st.stats->udp_tx, 3);
	service_stop(svc);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(ECHO_PORT)), 0);
}

static void echo_answers_every_datagram_of_a_burst(void **state)
{
	struct harness *h = *state;
	struct service *svc;
	uint8_t frame[256], p;
	size_t len;
	int i;

	assert_int_equal(echo_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &svc), 0);
	for (i = 0; i < 5; i++) {
		p = (uint8_t)('a' + i);
		len = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, (uint16_t)(T_PEER_PORT + i),
				  ECHO_PORT, &p, 1, i == 2 ? T_CSUM_ZERO : T_CSUM_OK);
		assert_int_equal(fakedev_inject(&h->fd, frame, len), 0);
	}
	stack_poll(&h->st);
	for (i = 0; i < 5; i++) {
		p = (uint8_t)('a' + i);
		expect_echo(h, (uint16_t)(T_PEER_PORT + i), &p, 1);
	}
	assert_null(fakedev_pop_tx(&h->fd));
	service_stop(svc);
}

static void echo_of_8000_bytes_in_fragments_comes_back_in_fragments(void **state)
{
	enum { PLEN = 8000, ULEN = PLEN + 8, SLICE = 1480 };
	struct harness *h = *state;
	static uint8_t payload[PLEN], seg[ULEN], back[ULEN], seen[ULEN];
	uint8_t frame[2048];
	struct service *svc;
	size_t off, n, got = 0;
	int frags = 0, last = 0;
	uint16_t id = 0;
	struct t_tx t;

	assert_int_equal(echo_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &svc), 0);
	fill(payload, PLEN, 3);
	assert_int_equal(t_udp_seg(seg, H_PEER, H_ADDR, T_PEER_PORT, ECHO_PORT, payload, PLEN,
				   T_CSUM_OK), ULEN);

	/* Six fragments by hand: 5 x 1480 + 608, MF on all but the last. */
	for (off = 0; off < ULEN; off += SLICE) {
		size_t slice = ULEN - off < SLICE ? ULEN - off : SLICE;
		uint16_t fo = (uint16_t)(off / 8) | (off + slice < ULEN ? IP_MF_BIT : 0);

		n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_UDP, 0x4242, fo,
				     seg + off, slice);
		assert_true(n > 0);
		harness_rx(h, frame, n);
		frags++;
	}
	assert_int_equal(frags, 6);
	assert_int_equal(h->st.stats->udp_rx, 1);

	/* The echo leaves as fragments of one datagram: put them back together. */
	memset(seen, 0, sizeof(seen));
	frags = 0;
	while (t_pop_ip(h, &t) == 0) {
		uint16_t fo = ntohs(t.iph->frag_off);
		size_t foff = (size_t)(fo & 0x1fff) * 8;

		assert_int_equal(t.iph->protocol, IPPROTO_UDP);
		assert_int_equal(t.iph->saddr, H_ADDR);
		assert_int_equal(t.iph->daddr, H_PEER);
		assert_int_equal(fo & 0x4000, 0);	/* DF clear */
		assert_true(T_ETH_HLEN + ntohs(t.iph->tot_len) <= 1514);
		if (frags++ == 0)
			id = t.iph->id;
		assert_int_equal(t.iph->id, id);
		assert_true(foff + t.l4_len <= ULEN);
		if (fo & IP_MF_BIT)
			assert_int_equal(t.l4_len % 8, 0);
		else
			last++;
		for (n = 0; n < t.l4_len; n++)
			assert_int_equal(seen[foff + n]++, 0);	/* no overlap */
		memcpy(back + foff, t.l4, t.l4_len);
		got += t.l4_len;
		t_tx_free(&t);
	}
	assert_int_equal(frags, 6);
	assert_int_equal(last, 1);
	assert_int_equal(got, ULEN);
	assert_int_equal(ntohs(((struct udp_hdr *)back)->source), ECHO_PORT);
	assert_int_equal(ntohs(((struct udp_hdr *)back)->dest), T_PEER_PORT);
	assert_int_equal(ntohs(((struct udp_hdr *)back)->len), ULEN);
	assert_int_equal(t_udp_sum(H_ADDR, H_PEER, back, ULEN), 0xffff);
	assert_memory_equal(back + 8, payload, PLEN);
	assert_int_equal(h->st.stats->udp_tx, 1);
	service_stop(svc);
}

static void echo_answers_from_the_address_it_was_asked_on(void **state)
{
	struct harness *h = *state;
	struct stack_addr *a2 = &h->cfg.addrs[h->cfg.n_addrs++];
	struct service *svc;
	struct t_tx t;

	/* a second address on the same prefix: the route alone would pick
	 * 10.0.0.1 as the source of every reply */
	a2->addr = 0x0300000aU;	/* 10.0.0.3 */
	a2->prefix_len = 24;
	a2->dedicated = false;
	assert_int_equal(echo_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &svc), 0);
	t_rx_udp(h, a2->addr, T_PEER_PORT, ECHO_PORT, "two", 3, T_CSUM_OK);
	t_rx_udp(h, H_ADDR, T_PEER_PORT, ECHO_PORT, "one", 3, T_CSUM_OK);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->saddr, a2->addr);
	assert_int_equal(t_udp_sum(a2->addr, H_PEER, t.l4, t.l4_len), 0xffff);
	assert_memory_equal(t.l4 + 8, "two", 3);
	t_tx_free(&t);
	expect_echo(h, T_PEER_PORT, (const uint8_t *)"one", 3);
	service_stop(svc);
}

static void discard_consumes_without_replying(void **state)
{
	struct harness *h = *state;
	struct service *svc;
	uint8_t payload[1000];
	int i;

	assert_int_equal(discard_service_start(&h->st, SOCK_DGRAM, DISCARD_PORT, &svc), 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(DISCARD_PORT)), 1);
	fill(payload, sizeof(payload), 1);
	for (i = 0; i < 4; i++)
		t_rx_udp(h, H_ADDR, T_PEER_PORT, DISCARD_PORT, payload, sizeof(payload),
			 T_CSUM_OK);
	assert_int_equal(h->st.stats->udp_rx, 4);
	assert_int_equal(h->st.stats->udp_tx, 0);
	assert_null(fakedev_pop_tx(&h->fd));
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);	/* all read and freed */
	service_stop(svc);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(DISCARD_PORT)), 0);
}

static void services_refuse_taken_ports_and_unknown_types(void **state)
{
	struct harness *h = *state;
	struct service *a, *b = (struct service *)1;

	assert_int_equal(echo_service_start(&h->st, SOCK_RAW, ECHO_PORT, &b), -EINVAL);
	assert_null(b);
	assert_int_equal(echo_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &a), 0);
	assert_int_equal(discard_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &b), -EADDRINUSE);
	assert_null(b);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(ECHO_PORT)), 1);
	service_stop(a);
	service_stop(NULL);
}

/* TCP on the harness stack: inet_init's, or brought up here (returns true). */
static bool tcp_up(struct harness *h)
{
	if (h->st.tcp)
		return false;
	assert_int_equal(tcp_init(&h->st), 0);
	assert_int_equal(sock_register_proto(&h->st, &tcp_prot), 0);
	return true;
}

static void stream_services_listen_on_tcp_and_release_the_port(void **state)
{
	struct harness *h = *state;
	struct service *e, *d, *u, *x = (struct service *)1;
	bool own = tcp_up(h);

	assert_int_equal(echo_service_start(&h->st, SOCK_STREAM, ECHO_PORT, &e), 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(ECHO_PORT)), 1);
	assert_int_equal(discard_service_start(&h->st, SOCK_STREAM, DISCARD_PORT, &d), 0);
	/* the same number over UDP is another port */
	assert_int_equal(echo_service_start(&h->st, SOCK_DGRAM, ECHO_PORT, &u), 0);
	/* but not twice over TCP */
	assert_int_equal(discard_service_start(&h->st, SOCK_STREAM, ECHO_PORT, &x), -EADDRINUSE);
	assert_null(x);
	service_stop(u);
	service_stop(e);
	service_stop(d);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(ECHO_PORT)), 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(DISCARD_PORT)), 0);
	if (own)
		tcp_fini(&h->st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_setup_peer, harness_teardown)
		T(echo_returns_small_and_full_mtu_datagrams_byte_identical),
		T(echo_answers_every_datagram_of_a_burst),
		T(echo_of_8000_bytes_in_fragments_comes_back_in_fragments),
		T(echo_answers_from_the_address_it_was_asked_on),
		T(discard_consumes_without_replying),
		T(services_refuse_taken_ports_and_unknown_types),
		T(stream_services_listen_on_tcp_and_release_the_port),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
