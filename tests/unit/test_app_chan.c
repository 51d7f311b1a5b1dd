// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The worker's side of the application protocol (apps/app_chan.c,
 * docs/apps.md) over two whole stacks on the simulated link: A serves an
 * "application" whose region this test writes by hand, as libskiffapp
 * would (or as a hostile process would), B is a plain peer using the
 * socket API.  Bytes go both ways with SHA-256-equal content, requests are
 * answered in the slot, the owned port comes and goes with the listener,
 * and garbage in the region (bad ops, slots, indices, ring positions,
 * random bytes over everything) is counted and contained, never obeyed.
 * Every frame, connection and TCP chunk is back after each test.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "apps/app_chan.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_buf.h"
#include "transport/tcp_isn.h"
#include "transport/tcp_internal.h"
#include "twostack.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * MS)
#define PORT 7100
#define PEER_PORT 7200

static const uint8_t key[16] = {'a', 'p', 'p', '-', 'c', 'h', 'a', 'n'};

struct fixture {
	struct twostack ts;
	bool own_tcp;
	struct skiff_app_hdr lay;
	uint8_t *shm;
	struct skiff_app_chan *chan;
	struct skiff_app_ring *req; /* ring 0: the main thread's */
	struct skiff_app_slot *slots;
	struct app_worker *aw;
	int efd;
	uint32_t seq;
	struct socket *peer_l; /* B's listener */
	struct socket *peer_c; /* B's accepted or connected socket */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int s;

	assert_non_null(f);
	tcp_secret_set(key);
	assert_int_equal(twostack_init(&f->ts, 11), 0);
	for (s = 0; s < 2; s++) {
		struct stack *st = twostack_stack(&f->ts, s);

		if (st->tcp)
			continue;
		f->own_tcp = true;
		assert_int_equal(tcp_init(st), 0);
		assert_int_equal(sock_register_proto(st, &tcp_prot), 0);
	}
	skiff_app_layout(1, &f->lay);
	f->shm =
		mmap(NULL, f->lay.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->shm != MAP_FAILED);
	memcpy(f->shm, &f->lay, sizeof(f->lay));
	f->chan = (struct skiff_app_chan *)(f->shm + f->lay.chan_off);
	f->req = &f->chan->req[0];
	((struct skiff_app_hdr *)f->shm)->q_used = 1; /* as the library: ring 0 in use */
	f->slots = (struct skiff_app_slot *)(f->shm + f->lay.slot_off);
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->efd >= 0);
	assert_int_equal(
		app_worker_create(twostack_stack(&f->ts, TS_A), f->shm, &f->lay, 0, f->efd, &f->aw),
		0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int s;

	app_worker_destroy(f->aw);
	if (f->peer_c)
		skiff_close(f->peer_c);
	if (f->peer_l)
		skiff_close(f->peer_l);
	twostack_run(&f->ts, 5 * 60 * SEC, NULL, NULL); /* orphans finish */
	for (s = 0; s < 2; s++)
		assert_int_equal(tcp_chunk_pool_in_use(tcp_chunks(twostack_stack(&f->ts, s))), 0);
	if (f->own_tcp) {
		tcp_fini(twostack_stack(&f->ts, TS_A));
		tcp_fini(twostack_stack(&f->ts, TS_B));
	}
	twostack_fini(&f->ts);
	munmap(f->shm, f->lay.size);
	close(f->efd);
	free(f);
	return 0;
}

/* ---- the fake application ---- */

static uint32_t post(struct fixture *f, uint16_t op, uint16_t slot, uint32_t addr, uint16_t port,
		     int32_t arg)
{
	struct skiff_app_msg m = {
		.op = op,
		.slot = slot,
		.seq = ++f->seq,
		.family = AF_INET,
		.port = htons(port),
		.arg = arg,
	};

	memcpy(m.addr, &addr, 4);

	f->req->msg[f->req->prod % SKIFF_APP_RING] = m;
	f->req->prod++;
	return m.seq;
}

static bool serve_app(void *arg)
{
	app_worker_poll(arg, 64);
	return false;
}

struct until {
	struct fixture *f;
	bool (*cond)(struct fixture *f);
};

static bool until_cond(void *arg)
{
	struct until *u = arg;

	app_worker_poll(u->f->aw, 64);
	return u->cond(u->f);
}

static bool run_until(struct fixture *f, uint64_t ns, bool (*cond)(struct fixture *f))
{
	struct until u = {.f = f, .cond = cond};

	return twostack_run(&f->ts, ns, until_cond, &u);
}

static void run(struct fixture *f, uint64_t ns)
{
	twostack_run(&f->ts, ns, serve_app, f->aw);
}

static struct app_worker_stats stats(struct fixture *f)
{
	struct app_worker_stats st;

	app_worker_get_stats(f->aw, &st);
	return st;
}

static bool slot0_connected(struct fixture *f)
{
	return f->slots[0].state == SKIFF_APP_S_CONNECTED;
}

static bool peer_accepted(struct fixture *f)
{
	return f->peer_c || !skiff_accept(f->peer_l, &f->peer_c, NULL);
}

/* A SETOPT of opt = val on slot 0, served: its result. */
static int setopt0(struct fixture *f, int opt, uint32_t val)
{
	uint32_t seq = post(f, SKIFF_APP_OP_SETOPT, 0, 0, 0, opt);

	f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING].arg2 = val;
	run(f, SEC);
	assert_int_equal(f->slots[0].rep_seq, seq);
	return f->slots[0].rep_res;
}

/* B listens on PEER_PORT. */
static void peer_listen(struct fixture *f)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(PEER_PORT), .sin_addr.s_addr = TS_ADDR_B};

	assert_int_equal(skiff_socket(twostack_stack(&f->ts, TS_B), SOCK_STREAM, &f->peer_l), 0);
	assert_int_equal(skiff_bind(f->peer_l, &sin), 0);
	assert_int_equal(skiff_listen(f->peer_l, 8), 0);
}

/* B listens on PEER_PORT; the app connects slot 0 to it; B accepts. */
static void connect_app_to_peer(struct fixture *f)
{
	uint32_t seq;

	peer_listen(f);
	seq = post(f, SKIFF_APP_OP_CONNECT, 0, TS_ADDR_B, PEER_PORT, 0);
	assert_true(run_until(f, 5 * SEC, slot0_connected));
	assert_int_equal(f->slots[0].rep_seq, seq);
	assert_int_equal(f->slots[0].rep_res, -EINPROGRESS);
	assert_memory_equal(f->slots[0].rep_addr, &(uint32_t){TS_ADDR_A}, 4);
	assert_true(run_until(f, 5 * SEC, peer_accepted));
}

/* ---- tests ---- */

static bool listening(struct fixture *f)
{
	return f->slots[3].rep_seq == f->seq;
}

static bool closed3(struct fixture *f)
{
	return f->slots[3].closed_seq == f->seq;
}

static void test_listen_owns_the_port_and_close_releases_it(void **state)
{
	struct fixture *f = *state;
	struct harness *h = &f->ts.side[TS_A];

	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(f->slots[3].rep_res, 0);
	assert_int_equal(f->slots[3].state, SKIFF_APP_S_LISTEN);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(PORT)), 1);
	assert_int_equal(stats(f).socks, 1);
	/* a second LISTEN on the same slot is refused, not obeyed */
	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT + 1, 16);
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(f->slots[3].rep_res, -EBUSY);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(PORT + 1)), 0);
	post(f, SKIFF_APP_OP_CLOSE, 3, 0, 0, 0);
	assert_true(run_until(f, SEC, closed3));
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(PORT)), 0);
	assert_int_equal(stats(f).socks, 0);
}

static void test_listen_on_port_zero_is_refused(void **state)
{
	struct fixture *f = *state;

	post(f, SKIFF_APP_OP_LISTEN, 3, 0, 0, 16);
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(f->slots[3].rep_res, -EINVAL);
	assert_int_equal(stats(f).socks, 0);
}

/* The family and the address bytes of a request are hostile input: another
 * family is -EAFNOSUPPORT, an AF_INET address with bytes past its 4 is
 * -EINVAL, neither makes a socket; an AF_INET6 listener on [::] answers
 * with its name in 16 bytes. */
static void test_listen_checks_family_and_address_bytes(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_msg *m;

	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	m = &f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING];
	m->family = 99;
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(f->slots[3].rep_res, -EAFNOSUPPORT);
	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	m = &f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING];
	m->addr[15] = 1;
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(f->slots[3].rep_res, -EINVAL);
	assert_int_equal(stats(f).socks, 0);
	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	m = &f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING];
	m->family = AF_INET6;
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(f->slots[3].rep_res, 0);
	assert_int_equal(f->slots[3].rep_port, htons(PORT));
	assert_memory_equal(f->slots[3].rep_addr, &(uint8_t[16]){0}, 16);
	assert_int_equal(stats(f).socks, 1);
	post(f, SKIFF_APP_OP_CLOSE, 3, 0, 0, 0);
	assert_true(run_until(f, SEC, closed3));
	assert_int_equal(stats(f).socks, 0);
}

struct xfer {
	struct fixture *f;
	uint8_t *out; /* app -> peer, put into the tx FIFO */
	uint8_t *in;  /* peer -> app, read from the rx FIFO */
	size_t len, put, got_peer, sent_peer, got_app;
	uint8_t *peer_buf;
	uint32_t tx_head, rx_tail;
};

/* One loop turn of both ends: the app fills its tx FIFO and drains its rx
 * FIFO (posting TX / RXREAD as libskiffapp does), the peer echoes nothing
 * but sends its own stream and reads the app's. */
static bool pump(void *arg)
{
	struct xfer *x = arg;
	struct fixture *f = x->f;
	struct skiff_app_slot *s = &f->slots[0];
	uint8_t *tx = f->shm + f->lay.tx_off, *rx = f->shm + f->lay.rx_off;
	uint32_t space, off, n;
	ssize_t r;

	app_worker_poll(f->aw, 64);
	/* app: send */
	space = SKIFF_APP_FIFO - (x->tx_head - s->tx.tail);
	while (space && x->put < x->len) {
		off = x->tx_head % SKIFF_APP_FIFO;
		n = SKIFF_APP_FIFO - off;
		n = n < space ? n : space;
		n = n < x->len - x->put ? n : (uint32_t)(x->len - x->put);
		memcpy(tx + off, x->out + x->put, n);
		x->tx_head += n;
		x->put += n;
		space -= n;
	}
	s->tx.head = x->tx_head;
	if (!s->tx_kick) {
		s->tx_kick = 1;
		post(f, SKIFF_APP_OP_TX, 0, 0, 0, 0);
	}
	/* app: receive */
	while (s->rx.head != x->rx_tail) {
		off = x->rx_tail % SKIFF_APP_FIFO;
		n = SKIFF_APP_FIFO - off;
		n = n < s->rx.head - x->rx_tail ? n : s->rx.head - x->rx_tail;
		memcpy(x->in + x->got_app, rx + off, n);
		x->got_app += n;
		x->rx_tail += n;
	}
	s->rx.tail = x->rx_tail;
	if (s->rx_blocked) {
		s->rx_blocked = 0;
		post(f, SKIFF_APP_OP_RXREAD, 0, 0, 0, 0);
	}
	/* peer */
	while ((r = skiff_recv(f->peer_c, x->peer_buf + x->got_peer, x->len - x->got_peer)) > 0)
		x->got_peer += (size_t)r;
	while (x->sent_peer < x->len &&
	       (r = skiff_send(f->peer_c, x->out + x->sent_peer, x->len - x->sent_peer)) > 0)
		x->sent_peer += (size_t)r;
	return x->got_peer == x->len && x->got_app == x->len;
}

static void test_bytes_go_both_ways_through_the_fifos(void **state)
{
	struct fixture *f = *state;
	struct xfer x = {.f = f, .len = 1u << 20};
	size_t i;

	connect_app_to_peer(f);
	x.out = malloc(x.len);
	x.in = malloc(x.len);
	x.peer_buf = malloc(x.len);
	assert_non_null(x.out);
	assert_non_null(x.in);
	assert_non_null(x.peer_buf);
	for (i = 0; i < x.len; i++)
		x.out[i] = (uint8_t)(i * 2654435761u >> 11);
	assert_true(twostack_run(&f->ts, 60 * SEC, pump, &x));
	assert_memory_equal(x.peer_buf, x.out, x.len);
	assert_memory_equal(x.in, x.out, x.len);
	assert_int_equal(stats(f).bad_index, 0);
	/* the app closes with everything read: FIN, not RST */
	post(f, SKIFF_APP_OP_CLOSE, 0, 0, 0, 0);
	run(f, SEC);
	assert_int_equal(f->slots[0].closed_seq, f->seq);
	assert_int_equal(skiff_recv(f->peer_c, x.peer_buf, 16), 0);
	assert_int_equal(stats(f).aborts, 0);
	free(x.out);
	free(x.in);
	free(x.peer_buf);
}

static void test_a_tx_head_out_of_range_resets_that_connection(void **state)
{
	struct fixture *f = *state;
	uint8_t b[16];

	connect_app_to_peer(f);
	f->slots[0].tx.head = SKIFF_APP_FIFO + 1; /* more than a FIFO holds */
	post(f, SKIFF_APP_OP_TX, 0, 0, 0, 0);
	run(f, SEC);
	assert_int_equal(stats(f).bad_index, 1);
	assert_int_equal(f->slots[0].state, SKIFF_APP_S_CLOSED);
	assert_int_equal(f->slots[0].err, EPROTO);
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), -ECONNRESET);
	assert_int_equal(stats(f).socks, 0);
}

static void test_an_rx_tail_ahead_of_head_resets_that_connection(void **state)
{
	struct fixture *f = *state;

	connect_app_to_peer(f);
	f->slots[0].rx.tail = 12345; /* the worker never put that much */
	assert_int_equal(skiff_send(f->peer_c, "hello", 5), 5);
	run(f, SEC);
	assert_int_equal(stats(f).bad_index, 1);
	assert_int_equal(f->slots[0].state, SKIFF_APP_S_CLOSED);
}

static void test_bad_ops_and_slots_are_counted_and_ignored(void **state)
{
	struct fixture *f = *state;

	post(f, 0, 0, 0, 0, 0);
	post(f, SKIFF_APP_OP_MAX, 0, 0, 0, 0);
	post(f, 0xffff, 0, 0, 0, 0);
	post(f, SKIFF_APP_OP_LISTEN, SKIFF_APP_MAX_SOCKS, 0, PORT, 1);
	post(f, SKIFF_APP_OP_LISTEN, 0xffff, 0, PORT, 1);
	/* ACCEPT from a slot that is no listener, or out of range */
	post(f, SKIFF_APP_OP_ACCEPT, 1, 0, 0, 2);
	post(f, SKIFF_APP_OP_ACCEPT, 1, 0, 0, -1);
	post(f, SKIFF_APP_OP_ACCEPT, 1, 0, 0, 1 << 20);
	/* SETOPT with an unknown option or on nothing */
	post(f, SKIFF_APP_OP_SETOPT, 1, 0, 0, 999);
	/* TX/RXREAD/SHUTDOWN/CLOSE on free slots */
	post(f, SKIFF_APP_OP_TX, 5, 0, 0, 0);
	post(f, SKIFF_APP_OP_RXREAD, 5, 0, 0, 0);
	post(f, SKIFF_APP_OP_SHUTDOWN, 5, 0, 0, SHUT_WR);
	post(f, SKIFF_APP_OP_CLOSE, 5, 0, 0, 0);
	run(f, SEC);
	assert_int_equal(stats(f).bad_msgs, 5);
	assert_int_equal(stats(f).socks, 0);
	assert_int_equal(f->req->cons, f->req->prod);
	assert_int_equal(f->slots[1].rep_res, -EINVAL);
	assert_int_equal(f->slots[5].rep_res, -ENOTCONN);
	assert_int_equal(f->slots[5].closed_seq, f->seq);
}

struct cc_find {
	const char *cc;
};

static void cc_of_client(void *arg, const struct sock *sk)
{
	struct cc_find *c = arg;
	struct tcp_conn_info info;

	if (ntohs(sk->dport) == PEER_PORT && !tcp_get_info(sk, &info))
		c->cc = info.cc;
}

/* libskiffapp's TCP_CONGESTION: carried by CONNECT (flags) or SETOPT. */
static void test_congestion_control_follows_connect_flags_and_setopt(void **state)
{
	struct fixture *f = *state;
	struct cc_find c = {0};

	peer_listen(f);
	post(f, SKIFF_APP_OP_CONNECT, 0, TS_ADDR_B, PEER_PORT, 0);
	/* BBR (2) + 1, as the library puts it for setsockopt(TCP_CONGESTION, "bbr") */
	f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING].flags = 3u << SKIFF_APP_F_CC_SHIFT;
	assert_true(run_until(f, 5 * SEC, slot0_connected));
	assert_true(run_until(f, 5 * SEC, peer_accepted));
	tcp_walk(twostack_stack(&f->ts, TS_A), cc_of_client, &c);
	assert_non_null(c.cc);
	assert_string_equal(c.cc, "bbr");
	assert_int_equal(setopt0(f, SKIFF_APP_OPT_CONGESTION, 1), 0);
	tcp_walk(twostack_stack(&f->ts, TS_A), cc_of_client, &c);
	assert_string_equal(c.cc, "newreno");
	/* a number the transport does not have */
	assert_int_equal(setopt0(f, SKIFF_APP_OPT_CONGESTION, 7), -EINVAL);
}

struct ip_find {
	uint8_t ttl, tos;
	bool found;
};

static void ip_of_client(void *arg, const struct sock *sk)
{
	struct ip_find *c = arg;

	if (ntohs(sk->dport) == PEER_PORT) {
		c->ttl = sk_ttl(sk, true);
		c->tos = sk_tos(sk, true);
		c->found = true;
	}
}

/* The IPv4 TTL of the frames A sends to B's port, the last one seen. */
static int ttl_of_a(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	(void)ts;
	if (from == TS_A && *len >= 14 + 20 && frame[12] == 0x08 && frame[13] == 0x00 &&
	    frame[14 + 9] == IPPROTO_TCP)
		*(uint8_t *)arg = frame[14 + 8];
	return TS_PASS;
}

/* libskiffapp's IP_TTL / IP_TOS (IPV6_UNICAST_HOPS / IPV6_TCLASS alike):
 * carried by CONNECT (ttl1, tos) or SETOPT (TTL value + 1); out-of-range
 * values from the region are refused, never applied. */
static void test_ip_header_fields_follow_connect_and_setopt(void **state)
{
	struct fixture *f = *state;
	struct ip_find c = {0};
	struct skiff_app_msg *m;
	uint8_t wire = 0;

	peer_listen(f);
	twostack_set_filter(&f->ts, ttl_of_a, &wire);
	post(f, SKIFF_APP_OP_CONNECT, 0, TS_ADDR_B, PEER_PORT, 0);
	m = &f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING];
	m->ttl1 = 34; /* IP_TTL 33 */
	m->tos = 0x12; /* the ECN bits are TCP's */
	m->hops1 = 0xffff; /* hostile, and IPv6 on an AF_INET socket: ignored */
	assert_true(run_until(f, 5 * SEC, slot0_connected));
	assert_true(run_until(f, 5 * SEC, peer_accepted));
	tcp_walk(twostack_stack(&f->ts, TS_A), ip_of_client, &c);
	assert_true(c.found);
	assert_int_equal(c.ttl, 33);
	assert_int_equal(c.tos, 0x10);
	assert_int_equal(wire, 33);
	/* SETOPT: value + 1; 0 is the default again */
	assert_int_equal(setopt0(f, SKIFF_APP_OPT_TTL, 0), 0);
	tcp_walk(twostack_stack(&f->ts, TS_A), ip_of_client, &c);
	assert_int_equal(c.ttl, 64);
	assert_int_equal(skiff_send(f->peer_c, "x", 1), 1); /* A acknowledges it */
	run(f, SEC);
	assert_int_equal(wire, 64);
	/* out of range, and an IPv6 option on an IPv4 socket */
	assert_int_equal(setopt0(f, SKIFF_APP_OPT_TTL, 300), -EINVAL);
	assert_int_equal(setopt0(f, SKIFF_APP_OPT_HOPS, 5), -ENOPROTOOPT);
	tcp_walk(twostack_stack(&f->ts, TS_A), ip_of_client, &c);
	assert_int_equal(c.ttl, 64);
	twostack_set_filter(&f->ts, NULL, NULL);
}

/* The TTL and TOS of the UDP frames A sends (the last one seen). */
static int udp_ip_of_a(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	uint8_t *ttl_tos = arg;

	(void)ts;
	if (from == TS_A && *len >= 14 + 20 && frame[12] == 0x08 && frame[13] == 0x00 &&
	    frame[14 + 9] == IPPROTO_UDP) {
		ttl_tos[0] = frame[14 + 8];
		ttl_tos[1] = frame[14 + 1];
	}
	return TS_PASS;
}

/* A datagram record in slot i's tx FIFO at byte pos: "hi" to B's port;
 * the position after it. */
static uint32_t tx_record(struct fixture *f, int i, uint32_t pos, uint16_t port, uint8_t flags,
			  uint32_t src, uint8_t ttl, uint8_t tos)
{
	struct skiff_app_dgram d = {.len = 2, .port = port, .flags = flags, .ttl = ttl, .tos = tos};
	uint8_t *fifo = f->shm + f->lay.tx_off + (size_t)i * SKIFF_APP_FIFO;
	uint32_t b = TS_ADDR_B;

	memcpy(d.addr, &b, 4);
	memcpy(d.laddr, &src, 4);
	memcpy(fifo + pos, &d, sizeof(d));
	memcpy(fifo + pos + sizeof(d), "hi", 2);
	return pos + SKIFF_APP_DGRAM_REC(2);
}

/* Slot 2's tx FIFO up to head, sent. */
static void tx_to(struct fixture *f, uint32_t head)
{
	f->slots[2].tx.head = head;
	post(f, SKIFF_APP_OP_TX, 2, 0, 0, 0);
	run(f, SEC);
}

/* Protocol 9: a received datagram's record says where it came to, its
 * TTL and TOS (libskiffapp's IP_PKTINFO, IP_RECVTTL, IP_RECVTOS); a sent
 * one's flags ask for a source, TTL and TOS of its own, a source not ours
 * is reported as Linux's EINVAL, unknown flags close the socket. */
static void test_datagram_records_carry_addresses_ttl_and_tos_both_ways(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT),
				.sin_addr.s_addr = TS_ADDR_A};
	struct sockaddr_in bname, from, local;
	struct skiff_ipinfo ip = {.local.sin = &local, .spec_dst.sin = NULL};
	uint32_t head, seq, addr_a = TS_ADDR_A, addr_b = TS_ADDR_B;
	struct skiff_app_dgram d;
	uint8_t wire[2] = {0}, buf[16];
	struct socket *b;

	seq = post(f, SKIFF_APP_OP_UDP_BIND, 2, 0, PORT, 1);
	run(f, SEC);
	assert_int_equal(f->slots[2].rep_seq, seq);
	assert_int_equal(f->slots[2].rep_res, 0);
	assert_int_equal(skiff_socket(twostack_stack(&f->ts, TS_B), SOCK_DGRAM, &b), 0);
	assert_int_equal(skiff_setsockopt(b, SKIFF_IP_TTL, 33), 0);
	assert_int_equal(skiff_setsockopt(b, SKIFF_IP_TOS, 0x20), 0);
	assert_int_equal(skiff_sendto(b, "hello", 5, &a), 5);
	run(f, SEC);
	assert_int_equal(f->slots[2].urx_head[0], SKIFF_APP_DGRAM_REC(5));
	memcpy(&d, f->shm + f->lay.rx_off + 2 * (size_t)SKIFF_APP_FIFO, sizeof(d));
	assert_int_equal(d.len, 5);
	assert_int_equal(d.ttl, 33);
	assert_int_equal(d.tos, 0x20);
	assert_int_equal(d.flags, 0);
	assert_memory_equal(d.addr, &addr_b, 4);
	assert_memory_equal(d.laddr, &addr_a, 4);
	assert_memory_equal(d.spec_dst4, &addr_a, 4);
	assert_int_equal(skiff_getsockname(b, &bname), 0);

	/* a send with its own source, TTL and TOS */
	twostack_set_filter(&f->ts, udp_ip_of_a, wire);
	head = tx_record(f, 2, 0, bname.sin_port,
			 SKIFF_APP_DG_SRC | SKIFF_APP_DG_TTL | SKIFF_APP_DG_TOS, TS_ADDR_A, 7, 0x48);
	tx_to(f, head);
	assert_int_equal(wire[0], 7);
	assert_int_equal(wire[1], 0x48);
	assert_int_equal(skiff_recvmsg_ip(b, buf, sizeof(buf), &from, &ip), 2);
	assert_int_equal(ip.ttl, 7);
	assert_int_equal(ip.tos, 0x48);
	assert_int_equal(from.sin_addr.s_addr, TS_ADDR_A);
	assert_int_equal(local.sin_addr.s_addr, TS_ADDR_B);
	/* without flags: the socket's TTL (64) and TOS (0) */
	head = tx_record(f, 2, head, bname.sin_port, 0, 0, 7, 0x48);
	tx_to(f, head);
	assert_int_equal(wire[0], 64);
	assert_int_equal(wire[1], 0);
	assert_int_equal(skiff_recvfrom(b, buf, sizeof(buf), &from), 2);
	/* a source not ours: reported once through err, as Linux's IPv4 route
	 * lookup says it (ENETUNREACH) */
	seq = f->slots[2].err_seq;
	head = tx_record(f, 2, head, bname.sin_port, SKIFF_APP_DG_SRC, TS_ADDR_B, 0, 0);
	tx_to(f, head);
	assert_int_equal(f->slots[2].err_seq, seq + 1);
	assert_int_equal(f->slots[2].err, ENETUNREACH);
	assert_int_equal(skiff_recvfrom(b, buf, sizeof(buf), &from), -EAGAIN);
	assert_int_equal(f->slots[2].state, SKIFF_APP_S_CONNECTED);
	/* flags no library writes: hostile, the socket is closed */
	head = tx_record(f, 2, head, bname.sin_port, 0x80, 0, 0, 0);
	tx_to(f, head);
	assert_int_equal(f->slots[2].state, SKIFF_APP_S_CLOSED);
	assert_int_equal(stats(f).bad_index, 1);
	assert_int_equal(skiff_recvfrom(b, buf, sizeof(buf), &from), -EAGAIN);
	twostack_set_filter(&f->ts, NULL, NULL);
	skiff_close(b);
}

static void test_a_ring_index_far_ahead_poisons_the_app_on_this_worker(void **state)
{
	struct fixture *f = *state;
	struct harness *h = &f->ts.side[TS_A];

	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	run(f, SEC);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(PORT)), 1);
	f->req->prod += SKIFF_APP_RING + 1;
	run(f, SEC);
	assert_int_equal(stats(f).poisoned, 1);
	assert_int_equal(stats(f).socks, 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(PORT)), 0);
	assert_int_equal(f->slots[3].state, SKIFF_APP_S_CLOSED);
	/* nothing more is read from it */
	f->req->prod = f->req->cons;
	post(f, SKIFF_APP_OP_LISTEN, 4, 0, PORT, 16);
	run(f, SEC);
	assert_int_equal(stats(f).socks, 0);
	assert_true(app_worker_may_sleep(f->aw));
}

static void test_random_bytes_over_the_whole_region_never_crash_the_worker(void **state)
{
	struct fixture *f = *state;
	uint64_t *p;
	size_t i, n;
	int round;

	/* something live to be disturbed: a listener and a connection */
	connect_app_to_peer(f);
	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	run(f, SEC);
	for (round = 0; round < 20; round++) {
		p = (uint64_t *)f->shm;
		n = f->lay.rx_off / sizeof(*p); /* header, rings and slots */
		for (i = 0; i < n; i++)
			p[i] = twostack_rand(&f->ts);
		/* sometimes keep the ring believable, so messages are served */
		if (round % 2)
			f->req->prod = f->req->cons + (uint32_t)(twostack_rand(&f->ts) % 64);
		if (skiff_send(f->peer_c, "x", 1) < 0) {
			/* reset by the garbage: fine */
		}
		run(f, 50 * MS);
	}
	/* whatever happened, the app goes away cleanly (teardown checks
	 * frames and TCP chunks) */
}

static bool woke(void *arg)
{
	struct fixture *f = arg;
	uint64_t v;

	app_worker_poll(f->aw, 64);
	return read(f->efd, &v, sizeof(v)) == sizeof(v);
}

static void test_the_app_is_kicked_only_when_it_sleeps(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	uint64_t v;

	/* awake application: a reply, no eventfd write */
	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	run(f, SEC);
	assert_int_equal(f->slots[3].rep_seq, f->seq);
	assert_int_equal(read(f->efd, &v, sizeof(v)), -1);
	/* sleeping application: kicked once, and its flag is down */
	hdr->app_sleeping = 1;
	post(f, SKIFF_APP_OP_CLOSE, 3, 0, 0, 0);
	assert_true(twostack_run(&f->ts, SEC, woke, f));
	assert_int_equal(hdr->app_sleeping, 0);
	/* the worker's own flag: may sleep with an empty ring, not with a
	 * request in it */
	assert_true(app_worker_may_sleep(f->aw));
	assert_int_equal(f->chan->sleeping, 1);
	post(f, SKIFF_APP_OP_RXREAD, 9, 0, 0, 0);
	assert_false(app_worker_may_sleep(f->aw));
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->chan->sleeping, 0);
}

static void test_a_spinning_app_sees_news_without_a_kick(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	uint32_t news = hdr->app_news;
	uint64_t v;

	/* awake (spinning) application: a reply moves app_news, no syscall */
	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	run(f, SEC);
	assert_int_equal(f->slots[3].rep_seq, f->seq);
	assert_int_not_equal(hdr->app_news, news);
	assert_int_equal(read(f->efd, &v, sizeof(v)), -1);
	assert_int_equal(stats(f).kicks, 0);
	/* nothing new: app_news stays */
	news = hdr->app_news;
	run(f, SEC);
	assert_int_equal(hdr->app_news, news);
	post(f, SKIFF_APP_OP_CLOSE, 3, 0, 0, 0);
	run(f, SEC);
}

/* n bytes (n < the FIFO's room before its end) into slot 0's tx FIFO, and
 * OP_TX as libskiffapp posts it. */
static void app_send(struct fixture *f, uint32_t n)
{
	struct skiff_app_slot *s = &f->slots[0];

	memset(f->shm + f->lay.tx_off + s->tx.head % SKIFF_APP_FIFO, 'x', n);
	s->tx.head += n;
	s->tx_kick = 1;
	post(f, SKIFF_APP_OP_TX, 0, 0, 0, 0);
}

static void test_freed_tx_room_wakes_the_app_only_when_it_asked(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	uint8_t buf[512];
	uint64_t v;

	connect_app_to_peer(f);
	/* a sleeping app that did not ask: its bytes leave, nobody is woken */
	hdr->app_sleeping = 1;
	app_send(f, 100);
	run(f, SEC);
	assert_int_equal(f->slots[0].tx.tail, f->slots[0].tx.head);
	assert_int_equal(skiff_recv(f->peer_c, buf, sizeof(buf)), 100);
	assert_int_equal(read(f->efd, &v, sizeof(v)), -1);
	assert_int_equal(hdr->app_sleeping, 1);
	/* one that found too little room (tx_wait): woken once, flag down */
	f->slots[0].tx_wait = 1;
	app_send(f, 200);
	run(f, SEC);
	assert_int_equal(f->slots[0].tx.tail, f->slots[0].tx.head);
	assert_int_equal(read(f->efd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(f->slots[0].tx_wait, 0);
	assert_int_equal(hdr->app_sleeping, 0);
	assert_int_equal(skiff_recv(f->peer_c, buf, sizeof(buf)), 200);
}

/*
 * The two sleep/wake handshakes of app_shm.h raced on two CPUs: this
 * thread is the application (what libskiffapp's wait.c does: post, kick
 * the worker if it sleeps, then wait for the reply spinning on app_news or
 * sleeping on its eventfd), a second thread is skiffd's worker (serve,
 * app_worker_may_sleep(), sleep on its own eventfd).  A lost wake-up in
 * either direction leaves the reply missing until the 2 s timeout, which
 * is counted.
 */
struct race {
	struct fixture *f;
	int wfd; /* the worker's eventfd */
	atomic_bool stop;
};

static void *race_worker(void *arg)
{
	struct race *r = arg;
	struct pollfd p = {.fd = r->wfd, .events = POLLIN};
	uint64_t v;

	while (!atomic_load(&r->stop)) {
		if (app_worker_poll(r->f->aw, 64))
			continue;
		if (!app_worker_may_sleep(r->f->aw))
			continue;
		if (poll(&p, 1, 100) > 0 && read(r->wfd, &v, sizeof(v)) < 0) {
			/* someone else took it */
		}
	}
	return NULL;
}

static void race_kick_worker(struct race *r)
{
	uint32_t *sleeping = &r->f->chan->sleeping;
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load((_Atomic uint32_t *)sleeping) &&
	    atomic_exchange((_Atomic uint32_t *)sleeping, 0))
		assert_int_equal(write(r->wfd, &one, sizeof(one)), sizeof(one));
}

static bool race_replied(struct fixture *f, uint32_t seq)
{
	return atomic_load_explicit((_Atomic uint32_t *)&f->slots[3].rep_seq,
				    memory_order_acquire) == seq;
}

static void test_wakeups_race_and_none_is_lost_sleeping_or_spinning(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	_Atomic uint32_t *asleep = (_Atomic uint32_t *)&hdr->app_sleeping;
	struct race r = {.f = f};
	struct pollfd p = {.fd = f->efd, .events = POLLIN};
	struct skiff_app_msg m = {.op = SKIFF_APP_OP_SETOPT, .slot = 3,
				  .arg = SKIFF_APP_OPT_REUSEADDR, .arg2 = 1};
	uint32_t i, seq, news, prod, lost = 0, spun = 0;
	struct timespec t0, t;
	pthread_t th;
	uint64_t v;

	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	run(f, SEC);
	assert_int_equal(f->slots[3].rep_res, 0);
	r.wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(r.wfd >= 0);
	assert_int_equal(pthread_create(&th, NULL, race_worker, &r), 0);
	for (i = 0; i < 4000; i++) {
		m.seq = seq = ++f->seq;
		prod = atomic_load_explicit((_Atomic uint32_t *)&f->req->prod,
					    memory_order_relaxed);
		f->req->msg[prod % SKIFF_APP_RING] = m;
		atomic_store_explicit((_Atomic uint32_t *)&f->req->prod, prod + 1,
				      memory_order_release);
		race_kick_worker(&r);
		if (i & 1) { /* spin on app_news for up to 200 us first */
			news = atomic_load((_Atomic uint32_t *)&hdr->app_news);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			do {
				if (race_replied(f, seq))
					break;
				if (atomic_load((_Atomic uint32_t *)&hdr->app_news) != news)
					continue;
				clock_gettime(CLOCK_MONOTONIC, &t);
			} while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
				 200000);
			if (race_replied(f, seq)) {
				spun++;
				continue;
			}
		}
		while (!race_replied(f, seq)) {
			atomic_fetch_or(asleep, 1);
			atomic_thread_fence(memory_order_seq_cst);
			if (!race_replied(f, seq) && poll(&p, 1, 2000) == 0)
				lost++;
			if (read(f->efd, &v, sizeof(v)) < 0) {
				/* not kicked: the reply came first */
			}
			atomic_fetch_and(asleep, ~1u);
		}
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	close(r.wfd);
	assert_int_equal(lost, 0);
	assert_true(spun > 0);
	post(f, SKIFF_APP_OP_CLOSE, 3, 0, 0, 0);
	run(f, SEC);
}

/* A request on ring q (a thread slot's, or the shared one). */
static uint32_t post_on(struct fixture *f, uint32_t q, uint16_t op, uint16_t slot, uint16_t port,
			int32_t arg)
{
	struct skiff_app_ring *r = &f->chan->req[q];
	struct skiff_app_msg m = {
		.op = op, .slot = slot, .seq = ++f->seq, .port = htons(port), .arg = arg,
		.family = AF_INET};

	((struct skiff_app_hdr *)f->shm)->q_used |= 1ull << q;
	r->msg[r->prod % SKIFF_APP_RING] = m;
	r->prod++;
	return m.seq;
}

static void test_every_thread_ring_is_served_and_one_busy_ring_starves_none(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	uint32_t seq, k;

	/* a ring the application never marked is not read */
	f->chan->req[7].msg[0] = (struct skiff_app_msg){.op = SKIFF_APP_OP_LISTEN, .slot = 2};
	f->chan->req[7].prod = 1;
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->chan->req[7].cons, 0);
	assert_true(app_worker_may_sleep(f->aw));
	/* ring 9 floods (hundreds of harmless kicks), rings 3 and the shared
	 * one each ask once: one poll of 64 serves both of those */
	for (k = 0; k < 300; k++)
		post_on(f, 9, SKIFF_APP_OP_RXREAD, 40, 0, 0);
	post_on(f, 3, SKIFF_APP_OP_LISTEN, 3, PORT, 16);
	seq = post_on(f, SKIFF_APP_Q_SHARED, SKIFF_APP_OP_LISTEN, 4, PORT + 1, 16);
	assert_false(app_worker_may_sleep(f->aw));
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->slots[4].rep_seq, seq);
	assert_int_equal(f->slots[3].rep_res, 0);
	assert_int_equal(f->chan->req[3].cons, 1);
	assert_true(f->chan->req[9].cons < 300);
	for (k = 0; k < 100 && app_worker_poll(f->aw, 64); k++)
		;
	assert_int_equal(f->chan->req[9].cons, 300);
	assert_int_equal(stats(f).socks, 2);
	assert_true(app_worker_may_sleep(f->aw));
	/* a producer index far ahead on any ring poisons the application
	 * here, as on ring 0 */
	f->chan->req[20].prod = f->chan->req[20].cons + SKIFF_APP_RING + 1;
	hdr->q_used |= 1ull << 20;
	run(f, SEC);
	assert_int_equal(stats(f).poisoned, 1);
	assert_int_equal(stats(f).socks, 0);
}

static void test_app_death_resets_a_connection_with_unread_data(void **state)
{
	struct fixture *f = *state;
	uint8_t b[16];

	connect_app_to_peer(f);
	assert_int_equal(skiff_send(f->peer_c, "unread", 6), 6);
	run(f, SEC);
	assert_int_equal(f->slots[0].rx.head, 6); /* in the FIFO, never read */
	app_worker_destroy(f->aw);
	f->aw = NULL;
	twostack_run(&f->ts, SEC, NULL, NULL);
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), -ECONNRESET);
}

static void test_app_death_with_everything_read_sends_fin(void **state)
{
	struct fixture *f = *state;
	uint8_t b[16];

	connect_app_to_peer(f);
	app_worker_destroy(f->aw);
	f->aw = NULL;
	twostack_run(&f->ts, SEC, NULL, NULL);
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), 0);
}

/*
 * nc -N to a peer busy sending: stdin's end, shutdown(SHUT_WR), close()
 * and exit come while the tx FIFO still holds bytes the socket had no room
 * for.  Linux sends them and then the FIN (they were the kernel's from
 * write() on); app_worker_destroy() once reset the connection instead, so
 * the peer's read got ECONNRESET and the upload was cut short.
 */
static void test_app_death_after_close_sends_what_the_fifo_held_then_fin(void **state)
{
	struct fixture *f = *state;
	static uint8_t b[8192];
	ssize_t n;
	size_t got = 0;
	int k;

	connect_app_to_peer(f);
	assert_int_equal(skiff_setsockopt(f->peer_c, SKIFF_SO_RCVBUF, 4096), 0);
	assert_int_equal(setopt0(f, SKIFF_APP_OPT_SNDBUF, 4096), 0);
	app_send(f, 100000);
	run(f, SEC);
	assert_true(f->slots[0].tx.head - f->slots[0].tx.tail > 50000); /* no room for them */
	post(f, SKIFF_APP_OP_SHUTDOWN, 0, 0, 0, SHUT_WR);
	post(f, SKIFF_APP_OP_CLOSE, 0, 0, 0, 0);
	app_worker_poll(f->aw, 64);
	app_worker_destroy(f->aw);
	f->aw = NULL;
	for (k = 0; k < 1000; k++) {
		twostack_run(&f->ts, SEC / 10, NULL, NULL);
		while ((n = skiff_recv(f->peer_c, b, sizeof(b))) > 0)
			got += (size_t)n;
		if (n != -EAGAIN)
			break;
	}
	assert_int_equal(n, 0); /* the FIN, not ECONNRESET */
	assert_int_equal(got, 100000);
}

static void test_close_with_unread_bytes_in_the_fifo_resets(void **state)
{
	struct fixture *f = *state;
	uint8_t b[16];

	connect_app_to_peer(f);
	assert_int_equal(skiff_send(f->peer_c, "unread", 6), 6);
	run(f, SEC);
	assert_int_equal(f->slots[0].rx.head, 6);
	post(f, SKIFF_APP_OP_CLOSE, 0, 0, 0, 0);
	run(f, SEC);
	assert_int_equal(f->slots[0].closed_seq, f->seq);
	assert_int_equal(stats(f).aborts, 1);
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), -ECONNRESET);
}

static void test_bytes_and_fin_in_one_burst_both_reach_the_app(void **state)
{
	struct fixture *f = *state;

	/* one handler call for both: the worker must read past the short
	 * read to the EOF (edge-triggered readiness gives no second call) */
	connect_app_to_peer(f);
	assert_int_equal(skiff_send(f->peer_c, "bye", 3), 3);
	assert_int_equal(skiff_shutdown(f->peer_c, SHUT_WR), 0);
	run(f, SEC);
	assert_int_equal(f->slots[0].rx.head, 3);
	assert_int_equal(f->slots[0].rx_eof, 1);
}

/* What A (the application's side) sends on the wire after the handshake. */
struct a_segs {
	uint32_t data;	   /* segments with payload */
	uint32_t fin;	   /* segments with FIN */
	uint32_t fin_only; /* FIN without payload */
	uint32_t bytes;
	uint32_t lone_acks; /* pure ACKs (no payload, no FIN) before the first data */
	bool fin_last;	   /* the FIN came on the segment with the last byte */
};

static int count_a_segments(struct twostack *ts, int from, uint8_t *frame, uint32_t *len,
			    void *arg)
{
	struct a_segs *c = arg;
	struct ts_tcp t;

	(void)ts;
	if (from != TS_A || !ts_tcp_parse(frame, *len, &t) || (t.flags & 0x02))
		return TS_PASS;
	if (!t.len && !(t.flags & 0x01) && !c->data)
		c->lone_acks++;
	if (t.len) {
		c->data++;
		c->bytes += t.len;
	}
	if (t.flags & 0x01) {
		c->fin++;
		c->fin_only += !t.len;
		c->fin_last = t.len && c->bytes == 1000;
	}
	return TS_PASS;
}

/* B got the 1000 bytes, then EOF, and A sent them in one segment carrying
 * the FIN (none of its own); the filter is removed. */
static void assert_1000_bytes_in_one_segment_with_the_fin(struct fixture *f,
							  const struct a_segs *c)
{
	uint8_t b[4096];
	ssize_t n, got = 0;

	while ((n = skiff_recv(f->peer_c, b, sizeof(b))) > 0)
		got += n;
	assert_int_equal(got, 1000);
	assert_int_equal(n, 0); /* and then EOF */
	assert_int_equal(c->bytes, 1000);
	assert_int_equal(c->data, 1);
	assert_int_equal(c->fin, 1);
	assert_int_equal(c->fin_only, 0);
	assert_true(c->fin_last);
	twostack_set_filter(&f->ts, NULL, NULL);
}

static void test_close_right_after_a_send_puts_the_fin_on_the_last_data_segment(void **state)
{
	struct fixture *f = *state;
	struct a_segs c = {0};

	connect_app_to_peer(f);
	twostack_set_filter(&f->ts, count_a_segments, &c);
	/* send() then close() reach the worker in one poll: as Linux, the
	 * FIN rides on the last data segment instead of one of its own */
	app_send(f, 1000);
	post(f, SKIFF_APP_OP_CLOSE, 0, 0, 0, 0);
	app_worker_poll(f->aw, 64);
	run(f, SEC);
	assert_int_equal(f->slots[0].closed_seq, f->seq);
	assert_1000_bytes_in_one_segment_with_the_fin(f, &c);
}

static void test_shutdown_wr_sends_the_fin_at_once(void **state)
{
	struct fixture *f = *state;
	struct a_segs c = {0};
	uint32_t seq;
	uint8_t b[16];

	connect_app_to_peer(f);
	run(f, SEC); /* the handshake's last ACKs are over */
	twostack_set_filter(&f->ts, count_a_segments, &c);
	/* everything sent long ago: the FIN leaves in the poll that serves
	 * the SHUTDOWN, before the reply, not on a timer or a later poll */
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 0);
	seq = post(f, SKIFF_APP_OP_SHUTDOWN, 0, 0, 0, SHUT_WR);
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->slots[0].rep_seq, seq);
	assert_int_equal(f->slots[0].rep_res, 0);
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 1); /* transmitted: the FIN */
	run(f, SEC);
	assert_int_equal(c.fin_only, 1);
	assert_int_equal(c.data, 0);
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), 0);
	/* the other direction still works (a lingering close reads on) */
	assert_int_equal(skiff_send(f->peer_c, "late", 4), 4);
	run(f, SEC);
	assert_int_equal(f->slots[0].rx.head, 4);
	twostack_set_filter(&f->ts, NULL, NULL);
}

/* The hold of a small send (app_chan.c tx_hold()): a thread still running
 * after its send (app_waits[0] as the TX says) gets its bytes held for the
 * close() behind it, even when that close comes a poll later, as with a
 * worker already awake when the send arrives. */
static void test_a_close_a_poll_after_the_send_still_puts_the_fin_on_the_data(void **state)
{
	struct fixture *f = *state;
	struct a_segs c = {0};

	connect_app_to_peer(f);
	run(f, SEC);
	twostack_set_filter(&f->ts, count_a_segments, &c);
	app_send(f, 1000); /* arg2 0 = app_waits[0]: it has not waited since */
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 0); /* held */
	assert_true(app_worker_holding(f->aw));
	assert_false(app_worker_may_sleep(f->aw));
	post(f, SKIFF_APP_OP_CLOSE, 0, 0, 0, 0);
	app_worker_poll(f->aw, 64);
	assert_false(app_worker_holding(f->aw));
	run(f, SEC);
	assert_int_equal(f->slots[0].closed_seq, f->seq);
	assert_1000_bytes_in_one_segment_with_the_fin(f, &c);
	assert_int_equal(stats(f).tx_holds, 1);
	assert_int_equal(stats(f).tx_hold_timeouts, 0);
}

/* The thread's next wait sends the held bytes at once; the socket is then
 * a dialogue and its later sends are not held. */
static void test_a_held_send_leaves_when_its_thread_waits_and_the_next_is_not_held(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	struct skiff_app_msg *m;
	uint8_t buf[256];

	connect_app_to_peer(f);
	run(f, SEC);
	app_send(f, 100);
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 0);
	hdr->app_waits[0]++; /* it enters epoll_wait */
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 1);
	assert_int_equal(f->slots[0].tx.tail, f->slots[0].tx.head);
	run(f, SEC);
	/* the next send, from a thread that has not waited since: at once */
	app_send(f, 100);
	m = &f->req->msg[(f->req->prod - 1) % SKIFF_APP_RING];
	m->arg2 = hdr->app_waits[0];
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 1);
	assert_int_equal(stats(f).tx_holds, 1);
	assert_int_equal(stats(f).tx_hold_timeouts, 0);
	run(f, SEC);
	assert_int_equal(skiff_recv(f->peer_c, buf, sizeof(buf)), 200);
}

/* A send from a thread that has waited since (a TX whose arg2 is behind
 * app_waits), or of more than APP_HOLD_BYTES, leaves at once; a held one
 * leaves at the end of its bound whatever the region says. */
static void test_sends_that_are_not_held_and_the_bound_of_a_held_one(void **state)
{
	struct fixture *f = *state;
	struct skiff_app_hdr *hdr = (struct skiff_app_hdr *)f->shm;
	uint8_t b[32768];
	ssize_t n, got = 0;

	connect_app_to_peer(f);
	run(f, SEC);
	hdr->app_waits[0] = 7; /* the TX says 0: it waited since */
	app_send(f, 100);
	app_worker_poll(f->aw, 64);
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 1);
	run(f, SEC);
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), 100);
	hdr->app_waits[0] = 0;
	app_send(f, 20000); /* a bulk write: not held */
	app_worker_poll(f->aw, 64);
	assert_true(f->ts.side[TS_A].fd.txq.len > 0);
	assert_false(app_worker_holding(f->aw));
	run(f, SEC);
	while ((n = skiff_recv(f->peer_c, b, sizeof(b))) > 0)
		got += n;
	assert_int_equal(got, 20000);
	assert_int_equal(stats(f).tx_holds, 0);
	/* a thread that never waits again: the bound sends it */
	app_send(f, 10);
	app_worker_poll(f->aw, 64);
	assert_true(app_worker_holding(f->aw));
	assert_int_equal(f->ts.side[TS_A].fd.txq.len, 0);
	run(f, SEC);
	assert_false(app_worker_holding(f->aw));
	assert_int_equal(skiff_recv(f->peer_c, b, sizeof(b)), 10);
	assert_int_equal(stats(f).tx_holds, 1);
	assert_int_equal(stats(f).tx_hold_timeouts, 1);
}

static bool slot0_has_request(struct fixture *f)
{
	return f->slots[0].rx.head == 18;
}

static bool listener_has_one(struct fixture *f)
{
	return f->slots[3].acceptq[0] != 0;
}

/* A server's worker reads the request into the FIFO at once, and the
 * application answers a burst later: the read sends no window update of
 * its own (SKIFF_TCP_RELAY_READS), the response carries the ACK. */
static void test_reading_a_request_sends_no_lone_window_update(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = TS_ADDR_A};
	struct a_segs c = {0};
	uint32_t seq;

	post(f, SKIFF_APP_OP_LISTEN, 3, 0, PORT, 16);
	assert_true(run_until(f, SEC, listening));
	assert_int_equal(skiff_socket(twostack_stack(&f->ts, TS_B), SOCK_STREAM, &f->peer_c), 0);
	assert_int_equal(skiff_connect(f->peer_c, &sin), -EINPROGRESS);
	assert_true(run_until(f, SEC, listener_has_one));
	seq = post(f, SKIFF_APP_OP_ACCEPT, 0, 0, 0, 3);
	assert_true(run_until(f, SEC, slot0_connected));
	assert_int_equal(f->slots[0].rep_seq, seq);
	assert_int_equal(f->slots[0].rep_res, 0);
	twostack_set_filter(&f->ts, count_a_segments, &c);
	assert_int_equal(skiff_send(f->peer_c, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	assert_true(run_until(f, 10 * MS, slot0_has_request));
	run(f, 10 * MS); /* well before the delayed ACK's 40 ms */
	assert_int_equal(c.lone_acks, 0);
	f->slots[0].rx.tail = f->slots[0].rx.head; /* the application reads it */
	app_send(f, 1000);
	post(f, SKIFF_APP_OP_CLOSE, 0, 0, 0, 0);
	run(f, SEC);
	assert_int_equal(c.lone_acks, 0);
	assert_int_equal(c.data, 1);
	assert_int_equal(skiff_recv(f->peer_c, (uint8_t[1024]){0}, 1024), 1000);
	twostack_set_filter(&f->ts, NULL, NULL);
	post(f, SKIFF_APP_OP_CLOSE, 3, 0, 0, 0);
	assert_true(run_until(f, SEC, closed3));
}

static void test_kick_cpu_says_once_whether_the_kicker_shares_the_workers_cpu(void **state)
{
	struct fixture *f = *state;

	assert_false(app_worker_kicked_from(f->aw, 3)); /* no kick yet */
	f->chan->kick_cpu = 3 + 1;
	assert_false(app_worker_kicked_from(f->aw, 2));
	assert_false(app_worker_kicked_from(f->aw, 3)); /* the read cleared it */
	f->chan->kick_cpu = 3 + 1;
	assert_true(app_worker_kicked_from(f->aw, 3));
	assert_int_equal(f->chan->kick_cpu, 0);
	f->chan->kick_cpu = 0xffffffffu; /* hostile: no CPU of ours */
	assert_false(app_worker_kicked_from(f->aw, 0));
	assert_false(app_worker_kicked_from(f->aw, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listen_owns_the_port_and_close_releases_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_checks_family_and_address_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_listen_on_port_zero_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bytes_go_both_ways_through_the_fifos, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_tx_head_out_of_range_resets_that_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_an_rx_tail_ahead_of_head_resets_that_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_header_fields_follow_connect_and_setopt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_congestion_control_follows_connect_flags_and_setopt,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ops_and_slots_are_counted_and_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_datagram_records_carry_addresses_ttl_and_tos_both_ways, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_ring_index_far_ahead_poisons_the_app_on_this_worker, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_random_bytes_over_the_whole_region_never_crash_the_worker, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_the_app_is_kicked_only_when_it_sleeps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_spinning_app_sees_news_without_a_kick, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_freed_tx_room_wakes_the_app_only_when_it_asked,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_wakeups_race_and_none_is_lost_sleeping_or_spinning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_death_resets_a_connection_with_unread_data,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_every_thread_ring_is_served_and_one_busy_ring_starves_none, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_app_death_after_close_sends_what_the_fifo_held_then_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_death_with_everything_read_sends_fin,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_unread_bytes_in_the_fifo_resets,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_and_fin_in_one_burst_both_reach_the_app,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_close_right_after_a_send_puts_the_fin_on_the_last_data_segment, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_close_a_poll_after_the_send_still_puts_the_fin_on_the_data, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_held_send_leaves_when_its_thread_waits_and_the_next_is_not_held, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_sends_that_are_not_held_and_the_bound_of_a_held_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reading_a_request_sends_no_lone_window_update,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_wr_sends_the_fin_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_kick_cpu_says_once_whether_the_kicker_shares_the_workers_cpu, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
