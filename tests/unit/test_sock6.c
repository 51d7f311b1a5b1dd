// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One socket layer for both families: UDP and TCP over IPv6 between two
 * whole stacks (twostack: 2001:db8::1 and ::2 beside 10.0.0.1 and .2),
 * AF_INET6 sockets with and without IPV6_V6ONLY (a [::] socket without it
 * takes IPv4 as ::ffff:a.b.c.d, as Linux with bindv6only=0), the bind
 * conflicts between the families, and the one ICMP-quote parse
 * (icmp_quote_parse) on crafted bytes cut at every length.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/icmpv6.h>
#include <skiff/proto/ipv6.h>
#include <skiff/proto/tcp.h>

#include "core/clock.h"
#include "core/csum.h"
#include "net/icmp.h"
#include "net/ipv6.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_sock.h"
#include "twostack.h"

#define MS NSEC_PER_MSEC
#define SEC NSEC_PER_SEC
#define STAT(ts, i, f) ((ts)->side[i].fd.stats.f)
#define DROP(ts, i, r) ((ts)->side[i].fd.stats.drop.r)

static struct sockaddr_in6 sin6_of(const uint8_t *a, uint16_t port)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	memcpy(&s.sin6_addr, a, 16);
	s.sin6_port = htons(port);
	return s;
}

static struct sockaddr_in sin_of(uint32_t a, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = a;
	s.sin_port = htons(port);
	return s;
}

/* ::ffff:a.b.c.d */
static void mapped(uint8_t out[16], uint32_t v4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &v4, 4);
}

static int setup(void **state)
{
	struct twostack *ts = calloc(1, sizeof(*ts));

	assert_non_null(ts);
	assert_int_equal(twostack_init(ts, 6), 0);
	*state = ts;
	return 0;
}

static int teardown(void **state)
{
	struct twostack *ts = *state;

	twostack_run(ts, 5 * 60 * SEC, NULL, NULL); /* TIME_WAIT and the rest expire */
	twostack_fini(ts);
	free(ts);
	return 0;
}

static struct socket *sock6(struct twostack *ts, int side, int type)
{
	struct socket *so;

	assert_int_equal(skiff_socket_af(twostack_stack(ts, side), AF_INET6, type, &so), 0);
	return so;
}

/* ---- UDP ---- */

struct dgram_wait {
	struct socket *so;
	uint8_t buf[9000];
	ssize_t n;
	struct sockaddr_in6 from, local;
};

static bool got_dgram(void *arg)
{
	struct dgram_wait *w = arg;

	w->n = skiff_recvmsg(w->so, w->buf, sizeof(w->buf), &w->from, &w->local);
	return w->n != -EAGAIN;
}

static void udp_datagrams_of_1_1452_and_8000_bytes_cross_over_ipv6(void **state)
{
	static const size_t sizes[] = { 1, 1452, 8000 };
	struct twostack *ts = *state;
	struct socket *a = sock6(ts, TS_A, SOCK_DGRAM), *b = sock6(ts, TS_B, SOCK_DGRAM);
	struct sockaddr_in6 any = sin6_of(in6addr_any.s6_addr, 7), to = sin6_of(ts_addr6[TS_B], 7);
	struct dgram_wait w = { .so = b };
	uint8_t out[8000];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(skiff_bind(b, &any), 0);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(skiff_sendto(a, out, sizes[k], &to), (ssize_t)sizes[k]);
		assert_true(twostack_run(ts, SEC, got_dgram, &w));
		assert_int_equal(w.n, (ssize_t)sizes[k]);
		assert_memory_equal(w.buf, out, sizes[k]);
		assert_int_equal(w.from.sin6_family, AF_INET6);
		assert_memory_equal(&w.from.sin6_addr, ts_addr6[TS_A], 16);
		assert_memory_equal(&w.local.sin6_addr, ts_addr6[TS_B], 16);
		assert_int_equal(ntohs(w.local.sin6_port), 7);
	}
	/* 8000 bytes do not fit 1500: sent as fragments, reassembled */
	assert_true(STAT(ts, TS_A, ip6_frag_created) >= 6);
	assert_int_equal(STAT(ts, TS_B, ip6_reasm_ok), 1);
	/* the answer from the address the request came to, back to the sender */
	w.so = a;
	assert_int_equal(skiff_sendmsg(b, "pong", 4, &w.from, &w.local), 4);
	assert_true(twostack_run(ts, SEC, got_dgram, &w));
	assert_int_equal(w.n, 4);
	assert_memory_equal(&w.from.sin6_addr, ts_addr6[TS_B], 16);
	assert_int_equal(ntohs(w.from.sin6_port), 7);
	skiff_close(a);
	skiff_close(b);
}

static void port_unreachable_over_ipv6_refuses_a_connected_socket(void **state)
{
	struct twostack *ts = *state;
	struct socket *a = sock6(ts, TS_A, SOCK_DGRAM);
	struct sockaddr_in6 to = sin6_of(ts_addr6[TS_B], 9999);
	struct dgram_wait w = { .so = a };

	assert_int_equal(skiff_connect(a, &to), 0);
	assert_int_equal(skiff_send(a, "x", 1), 1);
	assert_true(twostack_run(ts, SEC, got_dgram, &w));
	/* RFC 4443 3.1 port unreachable, handed to UDP: ECONNREFUSED once */
	assert_int_equal(w.n, -ECONNREFUSED);
	assert_int_equal(STAT(ts, TS_B, udp_no_port), 1);
	assert_int_equal(STAT(ts, TS_B, icmp6_err_sent), 1);
	assert_int_equal(STAT(ts, TS_A, icmp6_err_rx), 1);
	assert_int_equal(skiff_recv(a, w.buf, sizeof(w.buf)), -EAGAIN);
	skiff_close(a);
}

static void a_dual_stack_udp_socket_answers_ipv4_as_mapped(void **state)
{
	struct twostack *ts = *state;
	struct socket *b = sock6(ts, TS_B, SOCK_DGRAM), *a;
	struct sockaddr_in6 any = sin6_of(in6addr_any.s6_addr, 7);
	struct sockaddr_in to = sin_of(TS_ADDR_B, 7), from4;
	struct dgram_wait w = { .so = b };
	uint8_t want[16];

	assert_int_equal(skiff_bind(b, &any), 0);
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_A), SOCK_DGRAM, &a), 0);
	assert_int_equal(skiff_sendto(a, "ping", 4, &to), 4);
	assert_true(twostack_run(ts, SEC, got_dgram, &w));
	assert_int_equal(w.n, 4);
	mapped(want, TS_ADDR_A);
	assert_memory_equal(&w.from.sin6_addr, want, 16);
	mapped(want, TS_ADDR_B);
	assert_memory_equal(&w.local.sin6_addr, want, 16);
	/* and the reply to the mapped address leaves as IPv4 */
	assert_int_equal(skiff_sendmsg(b, "pong", 4, &w.from, &w.local), 4);
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_int_equal(skiff_recvfrom(a, w.buf, sizeof(w.buf), &from4), 4);
	assert_int_equal(from4.sin_addr.s_addr, TS_ADDR_B);
	skiff_close(a);
	skiff_close(b);
}

/* ---- bind rules between the families ---- */

static void binds_of_both_families_conflict_unless_v6only(void **state)
{
	struct twostack *ts = *state;
	struct stack *st = twostack_stack(ts, TS_B);
	struct sockaddr_in6 any6 = sin6_of(in6addr_any.s6_addr, 5000);
	struct sockaddr_in any4 = sin_of(INADDR_ANY, 5000), one4 = sin_of(TS_ADDR_B, 5000);
	struct sockaddr_in6 one6 = sin6_of(ts_addr6[TS_B], 5000);
	int types[2] = { SOCK_DGRAM, SOCK_STREAM }, v;

	for (int t = 0; t < 2; t++) {
		struct socket *s6 = sock6(ts, TS_B, types[t]), *s4, *x;

		/* [::] without V6ONLY covers every IPv4 address too */
		assert_int_equal(skiff_bind(s6, &any6), 0);
		assert_int_equal(skiff_socket(st, types[t], &s4), 0);
		assert_int_equal(skiff_bind(s4, &any4), -EADDRINUSE);
		assert_int_equal(skiff_bind(s4, &one4), -EADDRINUSE);
		x = sock6(ts, TS_B, types[t]);
		assert_int_equal(skiff_bind(x, &one6), -EADDRINUSE);
		skiff_close(x);
		skiff_close(s6);

		/* with V6ONLY it does not, and IPv4 binds the port beside it */
		s6 = sock6(ts, TS_B, types[t]);
		assert_int_equal(skiff_setsockopt(s6, SKIFF_IPV6_V6ONLY, 1), 0);
		assert_int_equal(skiff_getsockopt(s6, SKIFF_IPV6_V6ONLY, &v), 0);
		assert_int_equal(v, 1);
		assert_int_equal(skiff_bind(s6, &any6), 0);
		assert_int_equal(skiff_bind(s4, &any4), 0);
		/* too late once bound; not an option of AF_INET */
		assert_int_equal(skiff_setsockopt(s6, SKIFF_IPV6_V6ONLY, 0), -EINVAL);
		assert_int_equal(skiff_setsockopt(s4, SKIFF_IPV6_V6ONLY, 1), -ENOPROTOOPT);
		skiff_close(s6);
		skiff_close(s4);
	}
}

static void addresses_of_the_wrong_family_are_refused(void **state)
{
	struct twostack *ts = *state;
	struct stack *st = twostack_stack(ts, TS_A);
	struct sockaddr_in6 to6 = sin6_of(ts_addr6[TS_B], 7), m;
	struct sockaddr_in to4 = sin_of(TS_ADDR_B, 7);
	struct socket *s4, *s6 = sock6(ts, TS_A, SOCK_DGRAM), *none;
	uint8_t other6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };

	assert_int_equal(skiff_socket(st, SOCK_DGRAM, &s4), 0);
	assert_int_equal(skiff_sendto(s4, "x", 1, &to6), -EAFNOSUPPORT);
	assert_int_equal(skiff_sendto(s6, "x", 1, &to4), -EAFNOSUPPORT);
	/* V6ONLY: a mapped address is IPv4, refused */
	m = sin6_of(in6addr_any.s6_addr, 7);
	mapped(m.sin6_addr.s6_addr, TS_ADDR_B);
	assert_int_equal(skiff_setsockopt(s6, SKIFF_IPV6_V6ONLY, 1), 0);
	assert_int_equal(skiff_connect(s6, &m), -EAFNOSUPPORT);
	/* an IPv6 address that is not ours cannot be bound */
	to6 = sin6_of(other6, 7);
	assert_int_equal(skiff_bind(s6, &to6), -EADDRNOTAVAIL);
	assert_int_equal(skiff_socket_af(st, AF_UNIX, SOCK_DGRAM, &none), -EAFNOSUPPORT);
	skiff_close(s4);
	skiff_close(s6);
}

/* ---- TCP ---- */

struct tcp_pair {
	struct socket *lst, *a, *b;
	struct sockaddr_in6 peer;
};

static bool accepted(void *arg)
{
	struct tcp_pair *p = arg;

	if (!p->b && skiff_accept(p->lst, &p->b, &p->peer) == 0)
		return true;
	return false;
}

static bool connect_done(void *arg)
{
	struct tcp_pair *p = arg;

	return skiff_poll(p->a) & (SOCK_EV_OUT | SOCK_EV_ERR);
}

/* B listens on [::]:80, A connects to B's address: both ends established. */
static void tcp6_connect_pair(struct twostack *ts, struct tcp_pair *p)
{
	struct sockaddr_in6 any = sin6_of(in6addr_any.s6_addr, 80), to = sin6_of(ts_addr6[TS_B], 80);

	p->lst = sock6(ts, TS_B, SOCK_STREAM);
	assert_int_equal(skiff_bind(p->lst, &any), 0);
	assert_int_equal(skiff_listen(p->lst, 8), 0);
	p->a = sock6(ts, TS_A, SOCK_STREAM);
	assert_int_equal(skiff_connect(p->a, &to), -EINPROGRESS);
	assert_true(twostack_run(ts, SEC, accepted, p));
	assert_true(twostack_run(ts, SEC, connect_done, p));
}

struct xfer {
	struct socket *tx, *rx;
	size_t total, sent, got;
	uint32_t bad;
};

static bool xfer_step(void *arg)
{
	struct xfer *x = arg;
	uint8_t buf[16384];
	ssize_t n;

	while (x->sent < x->total) {
		size_t k = x->total - x->sent < sizeof(buf) ? x->total - x->sent : sizeof(buf);

		for (size_t i = 0; i < k; i++)
			buf[i] = (uint8_t)((x->sent + i) % 251);
		n = skiff_send(x->tx, buf, k);
		if (n <= 0)
			break;
		x->sent += (size_t)n;
	}
	while ((n = skiff_recv(x->rx, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			x->bad += buf[i] != (uint8_t)((x->got + (size_t)i) % 251);
		x->got += (size_t)n;
	}
	return x->got == x->total;
}

static void tcp_over_ipv6_connects_and_carries_bytes_both_ways(void **state)
{
	struct twostack *ts = *state;
	struct tcp_pair p = { 0 };
	struct sockaddr_in6 name;
	struct xfer x;
	int mss;

	tcp6_connect_pair(ts, &p);
	assert_int_equal(p.peer.sin6_family, AF_INET6);
	assert_memory_equal(&p.peer.sin6_addr, ts_addr6[TS_A], 16);
	assert_int_equal(skiff_getsockname(p.b, &name), 0);
	assert_memory_equal(&name.sin6_addr, ts_addr6[TS_B], 16);
	assert_int_equal(ntohs(name.sin6_port), 80);
	assert_int_equal(skiff_getpeername(p.a, &name), 0);
	assert_memory_equal(&name.sin6_addr, ts_addr6[TS_B], 16);
	/* RFC 8200 8.3: MSS = 1500 - 40 (IPv6) - 20 (TCP) = 1440; TCP_MAXSEG
	 * gives a full segment's payload, less the timestamp option: 1428 */
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_TCP_MAXSEG, &mss), 0);
	assert_int_equal(mss, 1440 - 12);

	x = (struct xfer){ .tx = p.a, .rx = p.b, .total = 300000 };
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	assert_int_equal(x.bad, 0);
	x = (struct xfer){ .tx = p.b, .rx = p.a, .total = 300000 };
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	assert_int_equal(x.bad, 0);
	assert_int_equal(DROP(ts, TS_A, tcp_csum) + DROP(ts, TS_B, tcp_csum), 0);
	skiff_close(p.a);
	skiff_close(p.b);
	skiff_close(p.lst);
}

static void a_dual_stack_listener_accepts_ipv4_as_mapped_and_v6only_refuses_it(void **state)
{
	struct twostack *ts = *state;
	struct sockaddr_in6 any = sin6_of(in6addr_any.s6_addr, 80);
	struct sockaddr_in to4 = sin_of(TS_ADDR_B, 80), name4;
	struct tcp_pair p = { 0 };
	uint8_t want[16];
	int err;

	p.lst = sock6(ts, TS_B, SOCK_STREAM);
	assert_int_equal(skiff_bind(p.lst, &any), 0);
	assert_int_equal(skiff_listen(p.lst, 8), 0);
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_A), SOCK_STREAM, &p.a), 0);
	assert_int_equal(skiff_connect(p.a, &to4), -EINPROGRESS);
	assert_true(twostack_run(ts, SEC, accepted, &p));
	mapped(want, TS_ADDR_A);
	assert_memory_equal(&p.peer.sin6_addr, want, 16);
	assert_true(twostack_run(ts, SEC, connect_done, &p));
	assert_int_equal(skiff_getsockname(p.a, &name4), 0);
	assert_int_equal(name4.sin_addr.s_addr, TS_ADDR_A);
	assert_int_equal(skiff_send(p.b, "hi", 2), 2);
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_int_equal(skiff_recv(p.a, want, sizeof(want)), 2);
	skiff_close(p.a);
	skiff_close(p.b);
	skiff_close(p.lst);
	p = (struct tcp_pair){ 0 };

	/* V6ONLY: the IPv4 SYN finds no listener and gets a RST */
	p.lst = sock6(ts, TS_B, SOCK_STREAM);
	assert_int_equal(skiff_setsockopt(p.lst, SKIFF_IPV6_V6ONLY, 1), 0);
	assert_int_equal(skiff_setsockopt(p.lst, SKIFF_SO_REUSEADDR, 1), 0);
	assert_int_equal(skiff_bind(p.lst, &any), 0);
	assert_int_equal(skiff_listen(p.lst, 8), 0);
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_A), SOCK_STREAM, &p.a), 0);
	assert_int_equal(skiff_connect(p.a, &to4), -EINPROGRESS);
	assert_true(twostack_run(ts, SEC, connect_done, &p));
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_SO_ERROR, &err), 0);
	assert_int_equal(err, ECONNREFUSED);
	assert_int_equal(skiff_accept(p.lst, &p.b, NULL), -EAGAIN);
	skiff_close(p.a);
	skiff_close(p.lst);
}

static void a_syn_to_no_ipv6_listener_gets_a_rst(void **state)
{
	struct twostack *ts = *state;
	struct sockaddr_in6 to = sin6_of(ts_addr6[TS_B], 81);
	struct tcp_pair p = { 0 };
	int err;

	p.a = sock6(ts, TS_A, SOCK_STREAM);
	assert_int_equal(skiff_connect(p.a, &to), -EINPROGRESS);
	assert_true(twostack_run(ts, SEC, connect_done, &p));
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_SO_ERROR, &err), 0);
	assert_int_equal(err, ECONNREFUSED);
	assert_int_equal(STAT(ts, TS_B, tcp6_rst_sent), 1);
	skiff_close(p.a);
}

/* The last full-sized IPv6 data segment A sent: what a router would quote. */
struct ptb_capture {
	uint8_t frame[1600];
	uint32_t len;
};

static int capture_big(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	struct ptb_capture *c = arg;

	(void)ts;
	const struct eth_hdr *eh = (const struct eth_hdr *)frame;
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)(eh + 1);

	if (from == TS_A && *len > 1400 && *len <= sizeof(c->frame) &&
	    get_be16(&eh->h_proto) == ETH_P_IPV6 && ip6->nexthdr == IPPROTO_TCP) {
		memcpy(c->frame, frame, *len);
		c->len = *len;
	}
	return TS_PASS;
}

/* SND.UNA of A's connection to port 80 (tcp_walk). */
static void find_una(void *arg, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	if (ntohs(sk->dport) == 80 && tp->state == TCP_ESTABLISHED)
		*(uint32_t *)arg = tp->snd_una;
}

static void packet_too_big_lowers_the_mss_of_an_ipv6_connection(void **state)
{
	struct twostack *ts = *state;
	struct tcp_pair p = { 0 };
	struct ptb_capture cap = { 0 };
	struct {
		struct eth_hdr eth;
		struct ip6_hdr ip6;
		struct icmp6_hdr icmp;
		uint8_t quote[1232];	/* 1280 bytes of IPv6 in all (RFC 4443 3.2) */
	} __attribute__((packed, aligned(2))) f;
	uint32_t qlen, sum, snd_una;
	struct xfer x;
	int mss;

	tcp6_connect_pair(ts, &p);
	twostack_set_filter(ts, capture_big, &cap);
	x = (struct xfer){ .tx = p.a, .rx = p.b, .total = 100000 };
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	twostack_set_filter(ts, NULL, NULL);
	assert_true(cap.len > 1400);
	/* RFC 4443 3.2 from B's side of the link: "MTU 1280", quoting as
	 * much of A's segment as fits 1280 bytes; A's data still in flight */
	x = (struct xfer){ .tx = p.a, .rx = p.b, .total = 50000 };
	xfer_step(&x);
	qlen = sizeof(f.quote);
	memcpy(f.eth.h_dest, H_MAC, ETH_ALEN);
	memcpy(f.eth.h_source, H_PEER_MAC, ETH_ALEN);
	put_be16(&f.eth.h_proto, ETH_P_IPV6);
	memset(&f.ip6, 0, sizeof(f.ip6));
	put_be32(&f.ip6.vtc_flow, 6u << 28);
	put_be16(&f.ip6.plen, (uint16_t)(sizeof(f.icmp) + qlen));
	f.ip6.nexthdr = SKIFF_IPPROTO_ICMPV6;
	f.ip6.hop_limit = 64;
	memcpy(f.ip6.saddr, ts_addr6[TS_B], 16);
	memcpy(f.ip6.daddr, ts_addr6[TS_A], 16);
	memset(&f.icmp, 0, sizeof(f.icmp));
	f.icmp.type = SKIFF_ICMPV6_PKT_TOOBIG;
	put_be32(&f.icmp.data, 1280);
	memcpy(f.quote, cap.frame + ETH_HLEN, qlen);
	/* the quoted segment's sequence: the oldest unacknowledged byte (RFC
	 * 5927 4.1: else the error is stale and ignored) */
	snd_una = 0;
	tcp_walk(twostack_stack(ts, TS_A), find_una, &snd_una);
	assert_int_not_equal(snd_una, 0);
	put_be32(&((struct tcp_hdr *)(f.quote + IPV6_HDR_LEN))->seq, snd_una);
	sum = ipv6_pseudo_sum(f.ip6.saddr, f.ip6.daddr, (uint32_t)(sizeof(f.icmp) + qlen),
			      SKIFF_IPPROTO_ICMPV6);
	f.icmp.checksum = csum_fold(csum_partial(&f.icmp, sizeof(f.icmp) + qlen, sum));
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_TCP_MAXSEG, &mss), 0);
	assert_int_equal(mss, 1440 - 12);	/* less the timestamp option */
	assert_int_equal(twostack_inject(ts, TS_A, &f, sizeof(f)), 0);
	twostack_run(ts, 1 * MS, NULL, NULL);
	assert_int_equal(STAT(ts, TS_A, icmp6_ptb_rx), 1);
	assert_int_equal(STAT(ts, TS_A, icmp6_err_rx), 1);
	/* RFC 8201: MSS = 1280 - 40 - 20, less the timestamp option */
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_TCP_MAXSEG, &mss), 0);
	assert_int_equal(mss, 1220 - 12);
	assert_int_equal(STAT(ts, TS_A, tcp_pmtu_updates), 1);
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	assert_int_equal(x.bad, 0);
	skiff_close(p.a);
	skiff_close(p.b);
	skiff_close(p.lst);
}

/* ---- IP header options ---- */

/* What every TCP/UDP frame a side sends carries in its IP header. */
struct hdr_check {
	int from;
	uint8_t ttl, tos;	/* want: TTL / hop limit, TOS / traffic class */
	uint8_t ecn_mask;	/* bits of tos not compared (TCP's ECN) */
	uint32_t n, bad;
};

static int check_hdr(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	struct hdr_check *c = arg;
	const uint8_t *ip = frame + ETH_HLEN;
	uint16_t type;
	uint8_t proto, ttl, tos;

	(void)ts;
	if (from != c->from || *len < ETH_HLEN + 20)
		return TS_PASS;
	type = (uint16_t)(frame[12] << 8 | frame[13]);
	if (type == ETH_P_IPV6 && *len >= ETH_HLEN + IPV6_HDR_LEN) {
		proto = ip[6];
		ttl = ip[7];
		tos = (uint8_t)((ip[0] & 0xf) << 4 | ip[1] >> 4);
	} else if (type == ETH_P_IP) {
		proto = ip[9];
		ttl = ip[8];
		tos = ip[1];
	} else {
		return TS_PASS;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != SKIFF_NH_FRAGMENT)
		return TS_PASS;
	c->n++;
	c->bad += ttl != c->ttl || (tos & ~c->ecn_mask) != c->tos;
	return TS_PASS;
}

static void hop_limit_and_traffic_class_are_the_sockets_own(void **state)
{
	struct twostack *ts = *state;
	struct socket *a = sock6(ts, TS_A, SOCK_DGRAM), *b = sock6(ts, TS_B, SOCK_DGRAM), *s4;
	struct sockaddr_in6 any = sin6_of(in6addr_any.s6_addr, 7), to = sin6_of(ts_addr6[TS_B], 7);
	struct sockaddr_in6 any80 = sin6_of(in6addr_any.s6_addr, 80);
	struct sockaddr_in6 to80 = sin6_of(ts_addr6[TS_B], 80);
	struct sockaddr_in6 to4;
	struct dgram_wait w = { .so = b };
	struct hdr_check c = { .from = TS_A };
	struct tcp_pair p = { 0 };
	struct xfer x;
	uint8_t out[3000] = { 0 }, m4[16];
	int v;

	mapped(m4, TS_ADDR_B);
	to4 = sin6_of(m4, 7);

	/* defaults, ranges and families as Linux */
	assert_int_equal(skiff_getsockopt(a, SKIFF_IPV6_UNICAST_HOPS, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(skiff_getsockopt(a, SKIFF_IPV6_TCLASS, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(skiff_getsockopt(a, SKIFF_IP_TTL, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_UNICAST_HOPS, 256), -EINVAL);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_UNICAST_HOPS, -2), -EINVAL);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_TCLASS, 256), -EINVAL);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IP_TTL, 0), -EINVAL);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IP_TTL, 256), -EINVAL);
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_A), SOCK_DGRAM, &s4), 0);
	assert_int_equal(skiff_setsockopt(s4, SKIFF_IPV6_UNICAST_HOPS, 5), -ENOPROTOOPT);
	assert_int_equal(skiff_getsockopt(s4, SKIFF_IPV6_TCLASS, &v), -ENOPROTOOPT);
	skiff_close(s4);

	/* UDP: every fragment of a datagram carries them, ECN bits too */
	assert_int_equal(skiff_bind(b, &any), 0);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_UNICAST_HOPS, 7), 0);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_TCLASS, 0xb9), 0);
	assert_int_equal(skiff_getsockopt(a, SKIFF_IPV6_UNICAST_HOPS, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(skiff_getsockopt(a, SKIFF_IPV6_TCLASS, &v), 0);
	assert_int_equal(v, 0xb9);
	c.ttl = 7;
	c.tos = 0xb9;
	twostack_set_filter(ts, check_hdr, &c);
	assert_int_equal(skiff_sendto(a, out, sizeof(out), &to), (ssize_t)sizeof(out));
	assert_true(twostack_run(ts, SEC, got_dgram, &w));
	assert_int_equal(w.n, (ssize_t)sizeof(out));
	assert_int_equal(c.n, 3); /* 3000 bytes: three fragments */
	assert_int_equal(c.bad, 0);
	/* to an IPv4 peer (mapped) the IPv4 ones, IP_TTL and IP_TOS */
	assert_int_equal(skiff_setsockopt(a, SKIFF_IP_TTL, 33), 0);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IP_TOS, 0x10), 0);
	c = (struct hdr_check){ .from = TS_A, .ttl = 33, .tos = 0x10 };
	w.n = -EAGAIN;
	assert_int_equal(skiff_sendto(a, "x", 1, &to4), 1);
	assert_true(twostack_run(ts, SEC, got_dgram, &w));
	assert_int_equal(c.n, 1);
	assert_int_equal(c.bad, 0);
	/* -1: the defaults again */
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_UNICAST_HOPS, -1), 0);
	assert_int_equal(skiff_setsockopt(a, SKIFF_IPV6_TCLASS, -1), 0);
	c = (struct hdr_check){ .from = TS_A, .ttl = 64, .tos = 0 };
	assert_int_equal(skiff_sendto(a, "x", 1, &to), 1);
	assert_true(twostack_run(ts, SEC, got_dgram, &w));
	assert_int_equal(c.n, 1);
	assert_int_equal(c.bad, 0);
	twostack_set_filter(ts, NULL, NULL);
	skiff_close(a);
	skiff_close(b);

	/* TCP: a connection's every segment, the listener's passed to what it
	 * accepts (its SYN-ACK too); the ECN bits are TCP's */
	p.lst = sock6(ts, TS_B, SOCK_STREAM);
	assert_int_equal(skiff_setsockopt(p.lst, SKIFF_IPV6_UNICAST_HOPS, 9), 0);
	assert_int_equal(skiff_setsockopt(p.lst, SKIFF_IPV6_TCLASS, 0x2b), 0);
	assert_int_equal(skiff_getsockopt(p.lst, SKIFF_IPV6_TCLASS, &v), 0);
	assert_int_equal(v, 0x28);
	assert_int_equal(skiff_bind(p.lst, &any80), 0);
	assert_int_equal(skiff_listen(p.lst, 8), 0);
	p.a = sock6(ts, TS_A, SOCK_STREAM);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_IPV6_UNICAST_HOPS, 200), 0);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_IPV6_TCLASS, 0xe0), 0);
	c = (struct hdr_check){ .from = TS_A, .ttl = 200, .tos = 0xe0, .ecn_mask = 3 };
	struct hdr_check cb = { .from = TS_B, .ttl = 9, .tos = 0x28, .ecn_mask = 3 };
	twostack_set_filter(ts, check_hdr, &cb);
	assert_int_equal(skiff_connect(p.a, &to80), -EINPROGRESS);
	assert_true(twostack_run(ts, SEC, accepted, &p));
	assert_true(twostack_run(ts, SEC, connect_done, &p));
	assert_int_equal(skiff_getsockopt(p.b, SKIFF_IPV6_UNICAST_HOPS, &v), 0);
	assert_int_equal(v, 9);
	x = (struct xfer){ .tx = p.b, .rx = p.a, .total = 50000 };
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	assert_true(cb.n > 10);
	assert_int_equal(cb.bad, 0);
	twostack_set_filter(ts, check_hdr, &c);
	x = (struct xfer){ .tx = p.a, .rx = p.b, .total = 50000 };
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	assert_true(c.n > 10);
	assert_int_equal(c.bad, 0);
	/* changed on the connection: its next segments */
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_IPV6_UNICAST_HOPS, 1), 0);
	c = (struct hdr_check){ .from = TS_A, .ttl = 1, .tos = 0xe0, .ecn_mask = 3 };
	x = (struct xfer){ .tx = p.a, .rx = p.b, .total = 5000 };
	assert_true(twostack_run(ts, 10 * SEC, xfer_step, &x));
	assert_true(c.n > 0);
	assert_int_equal(c.bad, 0);
	twostack_set_filter(ts, NULL, NULL);
	skiff_close(p.a);
	skiff_close(p.b);
	skiff_close(p.lst);
}

/* ---- the ICMP quote ---- */

static void the_icmp_quote_parse_takes_both_families_and_refuses_every_cut(void **state)
{
	uint8_t q4[28] = { 0x45, 0, 0, 48, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
			   0x9c, 0x40, 0, 80, 0x11, 0x22, 0x33, 0x44 };
	/* IPv6, a Destination Options header (8 bytes), then UDP */
	uint8_t q6[40 + 8 + 8] = { 0x60, 0, 0, 0, 0, 16, 60, 64,
				   0x20, 0x01, 0x0d, 0xb8, [23] = 1,
				   0x20, 0x01, 0x0d, 0xb8, [39] = 2,
				   17, 0, 1, 4, [48] = 0xc0, 0x01, 0, 7, 0, 16, 0xaa, 0xbb };
	struct icmp_quote q;
	uint32_t len;

	(void)state;
	assert_int_equal(icmp_quote_parse(q4, sizeof(q4), &q), 0);
	assert_true(inet_addr_is4(&q.saddr));
	assert_int_equal(q.saddr.w[3], htonl(0x0a000001));
	assert_int_equal(q.daddr.w[3], htonl(0x0a000002));
	assert_int_equal(ntohs(q.sport), 40000);
	assert_int_equal(ntohs(q.dport), 80);
	assert_int_equal(q.seq, 0x11223344);
	assert_int_equal(q.proto, 6);
	assert_int_equal(icmp_quote_parse(q6, sizeof(q6), &q), 0);
	assert_false(inet_addr_is4(&q.saddr));
	assert_memory_equal(q.saddr.b, ts_addr6[0], 16);
	assert_memory_equal(q.daddr.b, ts_addr6[1], 16);
	assert_int_equal(ntohs(q.sport), 0xc001);
	assert_int_equal(ntohs(q.dport), 7);
	assert_int_equal(q.proto, 17);
	/* cut anywhere short of 8 transport bytes: refused */
	for (len = 0; len < sizeof(q4); len++)
		assert_int_equal(icmp_quote_parse(q4, len, &q), -EINVAL);
	for (len = 0; len < sizeof(q6); len++)
		assert_int_equal(icmp_quote_parse(q6, len, &q), -EINVAL);
	/* IPv4: a later fragment has no ports; an IHL below 5 is no header */
	q4[6] = 0x00;
	q4[7] = 0x10;
	assert_int_equal(icmp_quote_parse(q4, sizeof(q4), &q), -EINVAL);
	q4[7] = 0;
	q4[0] = 0x44;
	assert_int_equal(icmp_quote_parse(q4, sizeof(q4), &q), -EINVAL);
	/* IPv6: a header length past the quote; a later fragment; version 5 */
	q6[41] = 1;
	assert_int_equal(icmp_quote_parse(q6, sizeof(q6), &q), -EINVAL);
	q6[41] = 0;
	q6[6] = 44; /* a fragment header, offset 8 */
	q6[42] = 0;
	q6[43] = 8;
	assert_int_equal(icmp_quote_parse(q6, sizeof(q6), &q), -EINVAL);
	q6[43] = 0; /* offset 0: the first fragment, ports present */
	assert_int_equal(icmp_quote_parse(q6, sizeof(q6), &q), 0);
	q6[0] = 0x50;
	assert_int_equal(icmp_quote_parse(q6, sizeof(q6), &q), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(udp_datagrams_of_1_1452_and_8000_bytes_cross_over_ipv6,
						setup, teardown),
		cmocka_unit_test_setup_teardown(port_unreachable_over_ipv6_refuses_a_connected_socket,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_dual_stack_udp_socket_answers_ipv4_as_mapped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(binds_of_both_families_conflict_unless_v6only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(addresses_of_the_wrong_family_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tcp_over_ipv6_connects_and_carries_bytes_both_ways,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_dual_stack_listener_accepts_ipv4_as_mapped_and_v6only_refuses_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_syn_to_no_ipv6_listener_gets_a_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(packet_too_big_lowers_the_mss_of_an_ipv6_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hop_limit_and_traffic_class_are_the_sockets_own, setup,
						teardown),
		cmocka_unit_test(the_icmp_quote_parse_takes_both_families_and_refuses_every_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
