// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP end to end: two skiff stacks back to back (twostack.h) on the
 * simulated clock, driven only through the socket API of user/sock/socket.h
 * as an application would use it.  Handshake, data both ways, every close
 * sequence, resets, retransmission timing, fast retransmit, SACK recovery,
 * zero window and persist, keepalive, TIME_WAIT, SYN cookies, RFC 5961 and
 * a long transfer through a lossy, reordering, duplicating, corrupting,
 * delaying link.  Times are asserted on the simulated clock.
 *
 * After every test: every socket closed, every connection gone (the clock
 * runs on until TIME_WAIT and friends end), every TCP chunk and every frame
 * of both devices back in its pool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/fmap.h"
#include "net/ip.h"
#include "net/route.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_buf.h"
#include "transport/tcp_isn.h"
#include "transport/tcp_internal.h"
#include "twostack.h"

#define MS NSEC_PER_MSEC
#define SEC NSEC_PER_SEC
#define PORT 80
#define MSS 1460

/* ---------------------------------------------------------------- data */

/* The byte at stream offset k is pat[(k + base) % PAT_P]: a prime period, so
 * a segment delivered at the wrong offset shows. */
#define PAT_P 65521
#define PAT_MAX 16384
static uint8_t pat[PAT_P + PAT_MAX];

static void pat_init(void)
{
	uint64_t x = 0x2545f4914f6cdd1dULL;
	size_t i;

	if (pat[1] | pat[2] | pat[3])
		return;
	for (i = 0; i < PAT_P; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pat[i] = (uint8_t)(x >> 24);
	}
	memcpy(pat + PAT_P, pat, PAT_MAX);
}

static const uint8_t *pat_at(uint64_t base, uint64_t off)
{
	return pat + (base + off) % PAT_P;
}

/* ---------------------------------------------------------------- events */

struct ev {
	uint32_t seen; /* SOCK_EV_* ever reported */
	int calls;
	uint64_t t_out; /* first SOCK_EV_OUT */
	uint64_t t_err; /* first SOCK_EV_ERR */
	uint64_t t_hup;
};

static void on_event(struct socket *so, uint32_t events, void *arg)
{
	struct ev *e = arg;
	uint64_t now = clock_now();

	(void)so;
	e->seen |= events;
	e->calls++;
	if ((events & SOCK_EV_OUT) && !e->t_out)
		e->t_out = now;
	if ((events & SOCK_EV_ERR) && !e->t_err)
		e->t_err = now;
	if ((events & SOCK_EV_HUP) && !e->t_hup)
		e->t_hup = now;
}

static int so_error(struct socket *so)
{
	int v = 0;

	assert_int_equal(skiff_getsockopt(so, SKIFF_SO_ERROR, &v), 0);
	return v < 0 ? -v : v; /* either sign: the errno */
}

/* ---------------------------------------------------------------- connections */

struct find {
	uint16_t lport, rport; /* host order, 0 = any */
	const struct tcp_sock *tp;
	int n;
};

static void find_fn(void *arg, const struct sock *sk)
{
	struct find *f = arg;
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	if (tp->state == TCP_LISTEN)
		return;
	if (f->lport && ntohs(sk->sport) != f->lport)
		return;
	if (f->rport && ntohs(sk->dport) != f->rport)
		return;
	f->tp = tp;
	f->n++;
}

/* The connection of side on (lport, rport), NULL if none (valid until the next poll). */
static const struct tcp_sock *conn_of(struct twostack *ts, int side, uint16_t lport, uint16_t rport)
{
	struct find f = {.lport = lport, .rport = rport};

	tcp_walk(twostack_stack(ts, side), find_fn, &f);
	return f.tp;
}

static int conn_state(struct twostack *ts, int side, uint16_t lport, uint16_t rport)
{
	const struct tcp_sock *tp = conn_of(ts, side, lport, rport);

	return tp ? tp->state : -1;
}

static void count_fn(void *arg, const struct sock *sk)
{
	(void)sk;
	(*(int *)arg)++;
}

/* Connections of both sides, listeners included. */
static int n_conns(struct twostack *ts)
{
	int n = 0;

	tcp_walk(twostack_stack(ts, TS_A), count_fn, &n);
	tcp_walk(twostack_stack(ts, TS_B), count_fn, &n);
	return n;
}

static void info_of(struct twostack *ts, int side, uint16_t lport, uint16_t rport,
		    struct tcp_conn_info *info)
{
	const struct tcp_sock *tp = conn_of(ts, side, lport, rport);

	assert_non_null(tp);
	assert_int_equal(tcp_get_info(&tp->sk, info), 0);
}

static const char *state_name(int s)
{
	return s < 0 ? "(none)" : tcp_state_name(s);
}

#define assert_state(ts, side, lport, rport, want) \
	do { \
		int s_ = conn_state(ts, side, lport, rport); \
		if (s_ != (want)) \
			fail_msg("side %c: state %s, expected %s", "AB"[side], state_name(s_), \
				 state_name(want)); \
	} while (0)

/* Closed: gone, or CLOSED while the application still holds the socket. */
#define assert_closed(ts, side, lport, rport) \
	do { \
		int s_ = conn_state(ts, side, lport, rport); \
		if (s_ != -1 && s_ != TCP_CLOSED) \
			fail_msg("side %c: state %s, expected closed", "AB"[side], \
				 state_name(s_)); \
	} while (0)

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = addr,
	};

	return sin;
}

static uint16_t local_port(struct socket *so)
{
	struct sockaddr_in sin;

	assert_int_equal(skiff_getsockname(so, &sin), 0);
	return ntohs(sin.sin_port);
}

/* A listener on B:port, the connecting socket on A and the accepted one on B. */
struct pair {
	struct socket *lst, *a, *b;
	struct ev el, ea, eb;
	struct sockaddr_in bpeer;
	uint16_t port;	/* B's port */
	uint16_t aport; /* A's ephemeral port */
};

static void pair_listen(struct twostack *ts, struct pair *p, uint16_t port, int backlog)
{
	struct sockaddr_in sin = sin_of(TS_ADDR_B, port);

	p->port = port;
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_B), SOCK_STREAM, &p->lst), 0);
	assert_int_equal(skiff_bind(p->lst, &sin), 0);
	assert_int_equal(skiff_listen(p->lst, backlog), 0);
	skiff_set_handler(p->lst, on_event, &p->el);
}

static void pair_socket_a(struct twostack *ts, struct pair *p)
{
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_A), SOCK_STREAM, &p->a), 0);
	skiff_set_handler(p->a, on_event, &p->ea);
}

static bool cond_established(void *arg)
{
	struct pair *p = arg;

	if (!p->b && skiff_accept(p->lst, &p->b, &p->bpeer) == 0)
		skiff_set_handler(p->b, on_event, &p->eb);
	return (p->b && (p->ea.seen & SOCK_EV_OUT)) || (p->ea.seen & SOCK_EV_ERR);
}

/* connect() A's socket (made by pair_socket_a) to B:port and accept it. */
static void pair_connect(struct twostack *ts, struct pair *p, uint64_t timeout)
{
	struct sockaddr_in sin = sin_of(TS_ADDR_B, p->port);

	assert_int_equal(skiff_connect(p->a, &sin), -EINPROGRESS);
	p->aport = local_port(p->a);
	assert_true(twostack_run(ts, timeout, cond_established, p));
	assert_false(p->ea.seen & SOCK_EV_ERR);
	assert_non_null(p->b);
}

static void pair_open(struct twostack *ts, struct pair *p, uint16_t port)
{
	pair_listen(ts, p, port, 16);
	pair_socket_a(ts, p);
	pair_connect(ts, p, 10 * SEC);
}

static void pair_close(struct pair *p)
{
	if (p->a)
		assert_int_equal(skiff_close(p->a), 0);
	if (p->b)
		assert_int_equal(skiff_close(p->b), 0);
	if (p->lst)
		assert_int_equal(skiff_close(p->lst), 0);
	p->a = p->b = p->lst = NULL;
}

/* ---------------------------------------------------------------- transfers */

struct xfer {
	struct socket *tx, *rx;
	uint64_t total, sent, rcvd, base;
	bool shut; /* shutdown(SHUT_WR) once everything is sent */
	bool shut_done;
	bool paused; /* the reader does not read */
	bool eof;
	int err; /* first unexpected error of send / recv */
	uint64_t t_done;
	struct fmap *fm; /* send [sent, total) of this mapped file by reference */
};

static void xfer_pump(struct xfer *x)
{
	uint8_t buf[PAT_MAX];
	ssize_t r;

	while (x->sent < x->total) {
		uint64_t n = x->total - x->sent;

		if (n > PAT_MAX)
			n = PAT_MAX;
		if (x->fm)
			r = skiff_sendfile(x->tx, x->fm, x->sent, n);
		else
			r = skiff_send(x->tx, pat_at(x->base, x->sent), n);
		if (r <= 0) {
			if (r != -EAGAIN && !x->err)
				x->err = (int)r;
			break;
		}
		assert_true((uint64_t)r <= n);
		x->sent += (uint64_t)r;
	}
	if (x->shut && !x->shut_done && x->sent == x->total) {
		assert_int_equal(skiff_shutdown(x->tx, SHUT_WR), 0);
		x->shut_done = true;
	}
	while (!x->paused && !x->eof) {
		r = skiff_recv(x->rx, buf, sizeof(buf));
		if (r == 0) {
			x->eof = true;
			break;
		}
		if (r < 0) {
			if (r != -EAGAIN && !x->err)
				x->err = (int)r;
			break;
		}
		if (x->rcvd + (uint64_t)r > x->total ||
		    memcmp(buf, pat_at(x->base, x->rcvd), (size_t)r)) {
			fail_msg("stream corrupt at offset %llu (+%zd)",
				 (unsigned long long)x->rcvd, r);
		}
		x->rcvd += (uint64_t)r;
	}
	if (!x->t_done && x->rcvd == x->total && (!x->shut || x->eof))
		x->t_done = clock_now();
}

static bool xfer_finished(const struct xfer *x)
{
	return x->err || x->t_done;
}

struct xfers {
	struct xfer *x[2];
	int n;
};

static bool cond_xfers(void *arg)
{
	struct xfers *xs = arg;
	bool done = true;
	int i;

	for (i = 0; i < xs->n; i++) {
		xfer_pump(xs->x[i]);
		done = done && xfer_finished(xs->x[i]);
	}
	return done;
}

static bool cond_xfer(void *arg)
{
	struct xfer *x = arg;

	xfer_pump(x);
	return xfer_finished(x);
}

/* Send total bytes tx -> rx and check them all; returns the simulated time it took. */
static uint64_t transfer(struct twostack *ts, struct socket *tx, struct socket *rx, uint64_t total,
			 uint64_t timeout)
{
	struct xfer x = {.tx = tx, .rx = rx, .total = total, .base = total % 977};
	uint64_t t0 = clock_now();

	assert_true(twostack_run(ts, timeout, cond_xfer, &x));
	assert_int_equal(x.err, 0);
	assert_true(x.rcvd == total);
	return clock_now() - t0;
}

/* ---------------------------------------------------------------- the wire */

struct rec {
	uint64_t t;
	uint32_t seq, ack, len;
	uint16_t win, sport, dport;
	uint8_t from, flags;
	bool dropped;
};

#define TR_MAX_DROPS 16

struct trace {
	struct rec *r;
	size_t n, cap;
	bool drop_all[2];
	int drop_syn[2]; /* drop this many more SYNs (no ACK) sent by the side */
	/* drop the nth (1-based) first transmission of a data segment of a side ... */
	uint32_t drop_nth[2][TR_MAX_DROPS];
	int n_drop_nth[2];
	int drop_times; /* ... this many times in all (0: once) */
	/* the segments chosen so far */
	uint32_t drop_seq[TR_MAX_DROPS];
	int drop_side[TR_MAX_DROPS];
	int drop_left[TR_MAX_DROPS];
	uint64_t drop_t[TR_MAX_DROPS]; /* first transmission time */
	int n_drop_seq;
	/* B -> A frames to these ports (the SYN flood's SYN-ACKs) */
	uint16_t flood_lo, flood_hi;
	/* first transmissions of data */
	uint32_t data_segs[2];
	uint32_t max_end[2];
	bool have_end[2];
};

static void trace_free(struct trace *tr)
{
	free(tr->r);
	memset(tr, 0, sizeof(*tr));
}

static int trace_filter(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	struct trace *tr = arg;
	struct ts_tcp t;
	bool drop = tr->drop_all[from];
	struct rec *r;
	int i;

	(void)ts;
	if (!ts_tcp_parse(frame, *len, &t))
		return drop ? TS_DROP : TS_PASS;

	if (!drop && (t.flags & TCPF_SYN) && !(t.flags & TCPF_ACK) && tr->drop_syn[from] > 0) {
		tr->drop_syn[from]--;
		drop = true;
	}
	if (!drop && tr->flood_hi && from == TS_B && t.dport >= tr->flood_lo &&
	    t.dport <= tr->flood_hi)
		drop = true;
	if (t.len) {
		if (!tr->have_end[from] || !tcp_before(t.seq, tr->max_end[from])) {
			tr->data_segs[from]++;
			tr->max_end[from] = t.seq + t.len;
			tr->have_end[from] = true;
			for (i = 0; i < tr->n_drop_nth[from]; i++) {
				if (tr->drop_nth[from][i] != tr->data_segs[from] ||
				    tr->n_drop_seq >= TR_MAX_DROPS)
					continue;
				tr->drop_seq[tr->n_drop_seq] = t.seq;
				tr->drop_side[tr->n_drop_seq] = from;
				tr->drop_left[tr->n_drop_seq] = tr->drop_times ? tr->drop_times : 1;
				tr->drop_t[tr->n_drop_seq] = clock_now();
				tr->n_drop_seq++;
			}
		}
		for (i = 0; i < tr->n_drop_seq && !drop; i++) {
			if (tr->drop_side[i] == from && tr->drop_seq[i] == t.seq &&
			    tr->drop_left[i] > 0) {
				tr->drop_left[i]--;
				drop = true;
			}
		}
	}

	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 1024;
		tr->r = realloc(tr->r, tr->cap * sizeof(*tr->r));
		assert_non_null(tr->r);
	}
	r = &tr->r[tr->n++];
	r->t = clock_now();
	r->seq = t.seq;
	r->ack = t.ack;
	r->len = t.len;
	r->win = t.win;
	r->sport = t.sport;
	r->dport = t.dport;
	r->from = (uint8_t)from;
	r->flags = t.flags;
	r->dropped = drop;
	return drop ? TS_DROP : TS_PASS;
}

/* E2E_TRACE=1 in the environment: print the segments of a trace. */
static void trace_dump(const struct trace *tr, const char *what)
{
	size_t i;

	if (!getenv("E2E_TRACE"))
		return;
	fprintf(stderr, "---- %s\n", what);
	for (i = 0; i < tr->n; i++) {
		const struct rec *r = &tr->r[i];

		fprintf(stderr,
			"%12.6f %c %5u>%-5u %c%c%c%c%c seq %10u ack %10u len %5u win %5u%s\n",
			(double)r->t / 1e9, "AB"[r->from], r -> sport, r -> dport,
			r -> flags &TCPF_SYN ? 'S' : '.', r->flags &TCPF_ACK ? 'A' : '.',
			r->flags &TCPF_FIN ? 'F' : '.', r->flags &TCPF_RST ? 'R' : '.',
			r->flags &TCPF_PSH ? 'P' : '.', r->seq, r->ack, r->len, r->win,
			r->dropped ? " DROPPED" : "");
	}
}

/* One trace at a time; the teardown prints it (E2E_TRACE=1) and frees it. */
static struct trace g_trace;

static struct trace *trace_on(struct twostack *ts)
{
	struct trace *tr = &g_trace;

	free(tr->r);
	memset(tr, 0, sizeof(*tr));
	twostack_set_filter(ts, trace_filter, tr);
	return tr;
}

/* Times at which side `from` sent data starting at seq (up to max). */
static int trace_times(const struct trace *tr, int from, uint32_t seq, uint64_t *out, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < tr->n; i++) {
		const struct rec *r = &tr->r[i];

		if (r->from == from && r->len && r->seq == seq && n < max)
			out[n++] = r->t;
	}
	return n;
}

/* Segments of side from with all flags in `all` set and none of `none`. */
static int trace_count(const struct trace *tr, int from, uint8_t all, uint8_t none, bool with_data)
{
	size_t i;
	int n = 0;

	for (i = 0; i < tr->n; i++) {
		const struct rec *r = &tr->r[i];

		if (r->from == from && (r->flags & all) == all && !(r->flags & none) &&
		    (!with_data || r->len))
			n++;
	}
	return n;
}

/* Retransmissions of data by side from: segments starting below what was sent before. */
static int trace_retrans(const struct trace *tr, int from)
{
	uint32_t end = 0;
	bool have = false;
	size_t i;
	int n = 0;

	for (i = 0; i < tr->n; i++) {
		const struct rec *r = &tr->r[i];

		if (r->from != from || !r->len)
			continue;
		if (have && tcp_before(r->seq, end)) {
			n++;
			continue;
		}
		end = r->seq + r->len;
		have = true;
	}
	return n;
}

/* ---------------------------------------------------------------- fixtures */

static const uint8_t test_key[16] = {'s', 'k', 'i', 'f', 'f', '-', 't', 'c',
				     'p', '-', 'e', '2', 'e', 0,   1,	2};

static bool cond_no_conns(void *arg)
{
	return n_conns(arg) == 0;
}

struct so_list {
	struct socket *so[64];
	int n;
};

static void collect_fn(void *arg, const struct sock *sk)
{
	struct so_list *l = arg;

	if (l->n < 64 && sk->socket)
		l->so[l->n++] = sk->socket;
}

/* Close what a failed test left open; returns how many there were. */
static int close_leftovers(struct twostack *ts)
{
	struct so_list l = {.n = 0};
	int i;

	sock_walk(twostack_stack(ts, TS_A), collect_fn, &l);
	sock_walk(twostack_stack(ts, TS_B), collect_fn, &l);
	for (i = 0; i < l.n; i++)
		skiff_close(l.so[i]);
	return l.n;
}

/* Every socket closed by the test; let the connections die; count what is left. */
static void settle_and_check(struct twostack *ts)
{
	int i, left = close_leftovers(ts);

	twostack_set_filter(ts, NULL, NULL);
	/* orphans may still need the link (FIN retransmissions), so it stays as it is */
	if (!twostack_run(ts, 30 * 60 * SEC, cond_no_conns, ts))
		fail_msg("%d connections still alive 30 min after the test", n_conns(ts));
	twostack_run(ts, 10 * MS, NULL, NULL);
	for (i = 0; i < 2; i++) {
		struct tcp_chunk_pool *cp = tcp_chunks(twostack_stack(ts, i));

		assert_non_null(cp);
		if (tcp_chunk_pool_in_use(cp))
			fail_msg("side %c: %u TCP chunks not returned", "AB"[i],
				 tcp_chunk_pool_in_use(cp));
		if (tcp_recovery_in_use(twostack_stack(ts, i)))
			fail_msg("side %c: %u TCP recovery blocks not returned", "AB"[i],
				 tcp_recovery_in_use(twostack_stack(ts, i)));
	}
	if (left)
		fail_msg("%d sockets left open by the test", left);
}

/* inet_init() did not bring TCP up (yet): the test does, and takes it down. */
static bool own_tcp;

static struct twostack *ts_new(uint64_t seed)
{
	struct twostack *ts = calloc(1, sizeof(*ts));
	int i;

	assert_non_null(ts);
	pat_init();
	tcp_secret_set(test_key);
	assert_int_equal(twostack_init(ts, seed), 0);
	for (i = 0; i < 2; i++) {
		struct stack *st = twostack_stack(ts, i);

		if (st->tcp)
			continue;
		own_tcp = true;
		assert_int_equal(tcp_init(st), 0);
		assert_int_equal(sock_register_proto(st, &tcp_prot), 0);
	}
	return ts;
}

static void ts_free(struct twostack *ts)
{
	twostack_set_filter(ts, NULL, NULL);
	settle_and_check(ts);
	if (own_tcp) {
		tcp_fini(twostack_stack(ts, TS_A));
		tcp_fini(twostack_stack(ts, TS_B));
	}
	twostack_fini(ts); /* every frame back */
	free(ts);
}

static int e2e_setup(void **state)
{
	*state = ts_new(1);
	return 0;
}

static int e2e_teardown(void **state)
{
	trace_dump(&g_trace, "trace");
	trace_free(&g_trace);
	ts_free(*state);
	return 0;
}

/* ================================================================ the link itself (UDP) */

struct udp_rx {
	struct socket *so;
	int got;
	uint64_t t_sent, delay; /* first datagram: when sent, how long it took */
};

static bool cond_udp_rx(void *arg)
{
	struct udp_rx *u = arg;
	char buf[64];

	while (skiff_recvfrom(u->so, buf, sizeof(buf), NULL) > 0) {
		if (!u->got++)
			u->delay = clock_now() - u->t_sent;
	}
	return false;
}

/* 400 datagrams A -> B, one per ms, through imp: how many arrive. */
static int udp_count_received(uint64_t seed, const struct ts_impair *imp, uint64_t *delay)
{
	struct twostack *ts = ts_new(seed);
	struct sockaddr_in sa = sin_of(TS_ADDR_A, 5000), sb = sin_of(TS_ADDR_B, 5001);
	struct udp_rx u = {0};
	struct socket *a;
	int i;

	assert_int_equal(skiff_socket(twostack_stack(ts, TS_A), SOCK_DGRAM, &a), 0);
	assert_int_equal(skiff_socket(twostack_stack(ts, TS_B), SOCK_DGRAM, &u.so), 0);
	assert_int_equal(skiff_bind(a, &sa), 0);
	assert_int_equal(skiff_bind(u.so, &sb), 0);
	twostack_set_impair(ts, TS_A, imp);
	for (i = 0; i < 400; i++) {
		if (!u.got)
			u.t_sent = clock_now();
		assert_int_equal(skiff_sendto(a, "ping", 4, &sb), 4);
		twostack_run(ts, 1 * MS, cond_udp_rx, &u);
	}
	twostack_run(ts, 100 * MS, cond_udp_rx, &u);
	assert_int_equal(ts->dir[TS_A].c.sent, 400);
	if (delay)
		*delay = u.delay;
	skiff_close(a);
	skiff_close(u.so);
	ts_free(ts);
	return u.got;
}

static void link_loss_is_seeded_and_deterministic(void **state)
{
	struct ts_impair imp = {.loss_pct = 10};
	int n1 = udp_count_received(7, &imp, NULL);
	int n2 = udp_count_received(7, &imp, NULL);
	int n3 = udp_count_received(8, &imp, NULL);

	(void)state;
	assert_int_equal(n1, n2);
	assert_in_range(n1, 320, 390);
	assert_in_range(n3, 320, 390);
	imp.loss_pct = 0;
	imp.dup_pct = 100;
	assert_int_equal(udp_count_received(7, &imp, NULL), 800);
}

static void link_delay_holds_frames_for_the_one_way_delay(void **state)
{
	struct ts_impair imp = {.delay_ns = 700 * NSEC_PER_USEC};
	uint64_t seen = 0;

	(void)state;
	assert_int_equal(udp_count_received(3, &imp, &seen), 400);
	assert_int_equal(seen, 700 * NSEC_PER_USEC);
}

static void link_corruption_is_caught_by_the_checksum(void **state)
{
	struct ts_impair imp = {.corrupt_pct = 100};

	(void)state;
	assert_int_equal(udp_count_received(5, &imp, NULL), 0);
}

/* ================================================================ handshake */

static void connect_is_einprogress_then_writable_and_accepted(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	struct sockaddr_in sin = sin_of(TS_ADDR_B, PORT), peer;
	struct socket *tmp;
	tr = trace_on(ts);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_connect(p.a, &sin), -EINPROGRESS);
	p.aport = local_port(p.a);
	assert_in_range(p.aport, TCP_EPHEMERAL_LO, TCP_EPHEMERAL_HI);
	assert_int_equal(skiff_accept(p.lst, &tmp, NULL), -EAGAIN);
	assert_false(skiff_poll(p.a) & SOCK_EV_OUT);

	assert_true(twostack_run(ts, 1 * SEC, cond_established, &p));
	assert_true(p.ea.seen & SOCK_EV_OUT);
	assert_false(p.ea.seen & SOCK_EV_ERR);
	assert_true(p.el.seen & SOCK_EV_IN); /* the listener had one to accept */
	assert_non_null(p.b);
	assert_int_equal(p.bpeer.sin_addr.s_addr, TS_ADDR_A);
	assert_int_equal(ntohs(p.bpeer.sin_port), p.aport);
	assert_int_equal(skiff_getpeername(p.a, &peer), 0);
	assert_int_equal(peer.sin_addr.s_addr, TS_ADDR_B);
	assert_int_equal(ntohs(peer.sin_port), PORT);
	assert_int_equal(skiff_getsockname(p.b, &peer), 0);
	assert_int_equal(ntohs(peer.sin_port), PORT);
	assert_state(ts, TS_A, p.aport, PORT, TCP_ESTABLISHED);
	assert_state(ts, TS_B, PORT, p.aport, TCP_ESTABLISHED);
	assert_int_equal(skiff_accept(p.lst, &tmp, NULL), -EAGAIN);

	/* three segments: SYN, SYN-ACK, ACK */
	assert_true(tr->n >= 3);
	assert_int_equal(tr->r[0].from, TS_A);
	assert_int_equal(tr->r[0].flags & (TCPF_SYN | TCPF_ACK), TCPF_SYN);
	assert_int_equal(tr->r[1].from, TS_B);
	assert_int_equal(tr->r[1].flags & (TCPF_SYN | TCPF_ACK), TCPF_SYN | TCPF_ACK);
	assert_int_equal(tr->r[1].ack, tr->r[0].seq + 1);
	assert_int_equal(tr->r[2].from, TS_A);
	assert_int_equal(tr->r[2].flags & (TCPF_SYN | TCPF_ACK), TCPF_ACK);
	assert_int_equal(tr->r[2].ack, tr->r[1].seq + 1);
	assert_int_equal(twostack_stack(ts, TS_A)->stats->tcp_active_opens, 1);
	assert_int_equal(twostack_stack(ts, TS_B)->stats->tcp_passive_opens, 1);

	assert_int_equal(so_error(p.a), 0);

	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ data */

/* Side B's segments after index from (on B's port, any when port is 0):
 * all of them, with payload, with FIN, FIN alone, with RST, and whether the
 * FIN came on the segment ending at end. */
struct b_segs {
	int all, data, fins, fin_alone, rsts;
	bool fin_on_last;
};

static void b_segments(const struct trace *tr, size_t from, uint16_t port, uint32_t end,
		       struct b_segs *n)
{
	size_t i;

	memset(n, 0, sizeof(*n));
	for (i = from; i < tr->n; i++) {
		const struct rec *r = &tr->r[i];

		if (r->from != TS_B || (port && r->sport != port))
			continue;
		n->all++;
		n->data += r->len ? 1 : 0;
		n->rsts += (r->flags & TCPF_RST) ? 1 : 0;
		if (!(r->flags & TCPF_FIN))
			continue;
		n->fins++;
		n->fin_alone += r->len ? 0 : 1;
		n->fin_on_last = r->len && r->seq + r->len == end;
	}
}

/* Linux's tcp_close(): a close() that finds the last write still queued
 * sends it with the FIN.  A write and the close() behind it in one batch
 * (stack_batch_begin/end: skiffd serves an application's requests so) are
 * one segment with FIN; outside one the write leaves at once (nothing in
 * flight) and the FIN follows alone, as in Linux. */
static void close_behind_a_write_in_one_batch_puts_the_fin_on_the_data(void **state)
{
	struct twostack *ts = *state;
	struct stack *stb = twostack_stack(ts, TS_B);
	struct pair p = {0}, q = {0};
	struct trace *tr;
	char buf[500] = {0};
	struct b_segs n;
	bool began;
	size_t mark;
	uint32_t end;

	pair_open(ts, &p, PORT);
	twostack_run(ts, SEC, NULL, NULL);
	tr = trace_on(ts);
	began = stack_batch_begin(stb);
	assert_true(began);
	assert_int_equal(skiff_send(p.b, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	end = conn_of(ts, TS_B, PORT, p.aport)->write_seq;
	assert_int_equal(skiff_close(p.b), 0);
	p.b = NULL;
	stack_batch_end(stb, began);
	twostack_run(ts, SEC, NULL, NULL);
	b_segments(tr, 0, 0, end, &n);
	assert_int_equal(n.data, 1);
	assert_int_equal(n.fins, 1);
	assert_int_equal(n.fin_alone, 0);
	assert_true(n.fin_on_last);

	pair_open(ts, &q, PORT + 1);
	twostack_run(ts, SEC, NULL, NULL);
	mark = tr->n;
	assert_int_equal(skiff_send(q.b, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	end = conn_of(ts, TS_B, PORT + 1, q.aport)->write_seq;
	assert_int_equal(skiff_close(q.b), 0);
	q.b = NULL;
	twostack_run(ts, SEC, NULL, NULL);
	b_segments(tr, mark, 0, end, &n);
	assert_int_equal(n.data, 1);
	assert_int_equal(n.fin_alone, 1);
	assert_false(n.fin_on_last);
	pair_close(&p);
	pair_close(&q);
}

/* The burst's deferred work is one list (tcp_defer): a connection owing
 * an ACK that then queues data takes one slot, and the flush sends one
 * segment, the data carrying the ACK (no bare ACK before it); a connection
 * freed while on the list (an abort) leaves a hole the flush skips. */
static void a_burst_defers_a_push_and_an_ack_on_one_slot(void **state)
{
	struct twostack *ts = *state;
	struct stack *stb = twostack_stack(ts, TS_B);
	struct pair p = {0}, q = {0};
	struct tcp_sock *tp, *tq;
	struct trace *tr;
	char buf[100] = {0};
	struct b_segs n;
	bool began;

	pair_open(ts, &p, PORT);
	pair_open(ts, &q, PORT + 1);
	twostack_run(ts, SEC, NULL, NULL);
	tr = trace_on(ts);
	tp = (struct tcp_sock *)conn_of(ts, TS_B, PORT, p.aport);
	tq = (struct tcp_sock *)conn_of(ts, TS_B, PORT + 1, q.aport);
	assert_non_null(tp);
	assert_non_null(tq);
	began = stack_batch_begin(stb);
	assert_true(began);
	tcp_ack_soon(stb, tp);
	assert_int_equal(tp->deferred, TCP_DEFER_ACK);
	assert_int_equal(skiff_send(p.b, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(tp->deferred, TCP_DEFER_ACK | TCP_DEFER_PUSH);
	tcp_ack_soon(stb, tq);
	assert_int_equal(tcp_table(stb)->n_defer, 2);
	assert_int_equal(ts->side[TS_B].fd.txq.len, 0);	/* nothing left yet */
	assert_int_equal(skiff_setsockopt(q.b, SKIFF_SO_LINGER_ABORT, 1), 0);
	assert_int_equal(skiff_close(q.b), 0);	/* RST now, the object freed */
	q.b = NULL;
	assert_null(tcp_table(stb)->defer[1]);
	stack_batch_end(stb, began);
	assert_int_equal(tcp_table(stb)->n_defer, 0);
	assert_int_equal(tp->deferred, 0);
	twostack_run(ts, SEC, NULL, NULL);
	b_segments(tr, 0, PORT, 0, &n);
	assert_int_equal(n.all, 1);	/* the data, carrying the ACK */
	assert_int_equal(n.data, 1);
	b_segments(tr, 0, PORT + 1, 0, &n);
	assert_int_equal(n.all, 1);
	assert_int_equal(n.rsts, 1);
	pair_close(&p);
	pair_close(&q);
}

/* RFC 9293 3.10.4: shutdown(SHUT_WR) with everything sent queues the FIN
 * and sends it in the same call, not on a timer or a later poll. */
static void shutdown_wr_with_nothing_queued_sends_the_fin_in_the_call(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	char b[8];

	pair_open(ts, &p, PORT);
	twostack_run(ts, SEC, NULL, NULL);
	assert_int_equal(ts->side[TS_B].fd.txq.len, 0);
	assert_int_equal(skiff_shutdown(p.b, SHUT_WR), 0);
	assert_int_equal(ts->side[TS_B].fd.txq.len, 1);
	assert_state(ts, TS_B, PORT, p.aport, TCP_FIN_WAIT_1);
	twostack_run(ts, SEC, NULL, NULL);
	assert_int_equal(skiff_recv(p.a, b, sizeof(b)), 0);
	pair_close(&p);
}

static void one_byte_each_way_is_one_segment_each(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	char c = 0;

	pair_open(ts, &p, PORT);
	tr = trace_on(ts);
	assert_int_equal(skiff_send(p.a, "x", 1), 1);
	assert_int_equal(skiff_send(p.b, "y", 1), 1);
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_true(p.eb.seen & SOCK_EV_IN);
	assert_int_equal(skiff_recv(p.b, &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(skiff_recv(p.b, &c, 1), -EAGAIN);
	assert_int_equal(skiff_recv(p.a, &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(trace_count(tr, TS_A, 0, 0, true), 1);
	assert_int_equal(trace_count(tr, TS_B, 0, 0, true), 1);
	pair_close(&p);
	trace_free(tr);
}

/* The payload of a full segment: the MSS less the timestamp option when in use. */
static int full_segment(struct twostack *ts, struct pair *p)
{
	const struct tcp_sock *tp = conn_of(ts, TS_A, p->aport, PORT);

	assert_non_null(tp);
	return tp->ts_ok ? MSS - 12 : MSS;
}

static void maxseg_is_the_payload_of_a_full_segment(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	int mss_a = 0, mss_b = 0, full;

	pair_open(ts, &p, PORT);
	full = full_segment(ts, &p);
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_TCP_MAXSEG, &mss_a), 0);
	assert_int_equal(skiff_getsockopt(p.b, SKIFF_TCP_MAXSEG, &mss_b), 0);
	pair_close(&p);
	/* RFC 9293 3.7.1: the effective send MSS, less the TCP options in use */
	assert_int_equal(mss_a, full);
	assert_int_equal(mss_b, full);
}

static void one_mss_each_way_is_one_full_segment(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	size_t i;
	int full;

	pair_open(ts, &p, PORT);
	full = full_segment(ts, &p);
	tr = trace_on(ts);
	transfer(ts, p.a, p.b, (uint64_t)full, 1 * SEC);
	transfer(ts, p.b, p.a, (uint64_t)full, 1 * SEC);
	assert_int_equal(trace_count(tr, TS_A, 0, 0, true), 1);
	assert_int_equal(trace_count(tr, TS_B, 0, 0, true), 1);
	for (i = 0; i < tr->n; i++)
		if (tr->r[i].len)
			assert_int_equal(tr->r[i].len, full);
	pair_close(&p);
	trace_free(tr);
}

static void one_mib_both_ways_at_once_arrives_intact(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct xfer ab = {0}, ba = {0};
	struct xfers xs = {.x = {&ab, &ba}, .n = 2};
	struct tcp_conn_info ia, ib;

	pair_open(ts, &p, PORT);
	ab = (struct xfer){.tx = p.a, .rx = p.b, .total = 1 << 20, .base = 1};
	ba = (struct xfer){.tx = p.b, .rx = p.a, .total = 1 << 20, .base = 2};
	assert_true(twostack_run(ts, 60 * SEC, cond_xfers, &xs));
	assert_int_equal(ab.err, 0);
	assert_int_equal(ba.err, 0);
	assert_true(ab.rcvd == 1 << 20 && ba.rcvd == 1 << 20);
	info_of(ts, TS_A, p.aport, PORT, &ia);
	info_of(ts, TS_B, PORT, p.aport, &ib);
	assert_true(ia.retrans == 0 && ib.retrans == 0); /* a clean link */
	pair_close(&p);
}

/* ---------------------------------------------------------------- sendfile */

/* A temporary file holding pat_at(base, 0 .. len), already unlinked. */
static int pat_file(uint64_t base, size_t len)
{
	char path[] = "/tmp/skiff-sendfile-XXXXXX";
	int fd = mkstemp(path);
	size_t off = 0;

	assert_true(fd >= 0);
	unlink(path);
	while (off < len) {
		size_t n = len - off < PAT_MAX ? len - off : PAT_MAX;

		assert_int_equal(write(fd, pat_at(base, off), n), (ssize_t)n);
		off += n;
	}
	return fd;
}

static void sendfile_queues_a_file_by_reference_and_it_arrives_intact(void **state)
{
	struct twostack *ts = *state;
	const size_t len = (1 << 20) + 123;
	struct pair p = {0};
	struct xfer x;
	struct stack *sa;
	int fd = pat_file(5, len);
	struct fmap *fm = fmap_open(fd, len);

	assert_non_null(fm);
	close(fd); /* the mapping keeps the file */
	pair_open(ts, &p, PORT);
	sa = twostack_stack(ts, TS_A);
	x = (struct xfer){.tx = p.a, .rx = p.b, .total = len, .base = 5, .fm = fm};
	assert_true(twostack_run(ts, 60 * SEC, cond_xfer, &x));
	assert_int_equal(x.err, 0);
	assert_int_equal(x.rcvd, len);
	/* every queued reference went with the acknowledged bytes */
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_int_equal(fm->refs, 1);
	assert_int_equal(sa->stats->tcp_sendfile_lost, 0);
	/* a range outside the mapping is refused */
	assert_int_equal(skiff_sendfile(p.a, fm, len, 1), -EINVAL);
	fmap_put(fm);
	pair_close(&p);
}

struct trunc {
	struct xfer x;
	int fd;
	bool truncated;
	int rx_err; /* the receiver's error once the reset arrived */
};

static bool cond_truncate(void *arg)
{
	struct trunc *t = arg;

	xfer_pump(&t->x);
	if (!t->truncated && t->x.rcvd >= 256 * 1024) {
		assert_int_equal(ftruncate(t->fd, 64 * 1024), 0);
		t->truncated = true;
	}
	return t->x.err != 0;
}

/*
 * The file shrinks under a send: reads past its new end fault (SIGBUS),
 * which must cost the connection, not the process.  The sender resets the
 * connection and counts it; what arrived before is intact.
 */
static void a_file_truncated_while_sent_resets_the_connection_without_sigbus(void **state)
{
	struct twostack *ts = *state;
	const size_t len = 4 << 20;
	struct pair p = {0};
	struct trunc t = {0};
	struct stack *sa;
	struct fmap *fm;
	char buf[4096];
	ssize_t r;

	t.fd = pat_file(9, len);
	fm = fmap_open(t.fd, len);
	assert_non_null(fm);
	pair_open(ts, &p, PORT);
	sa = twostack_stack(ts, TS_A);
	t.x = (struct xfer){.tx = p.a, .rx = p.b, .total = len, .base = 9, .fm = fm};
	assert_true(twostack_run(ts, 60 * SEC, cond_truncate, &t));
	assert_true(t.truncated);
	/* the application sending the file hears EIO, the peer a reset */
	assert_int_equal(t.x.err, -EIO);
	assert_true(t.x.rcvd < len);
	assert_true(fmap_lost(fm));
	assert_int_equal(sa->stats->tcp_sendfile_lost, 1);
	twostack_run(ts, 10 * MS, NULL, NULL);
	do
		r = skiff_recv(p.b, buf, sizeof(buf));
	while (r > 0);
	assert_int_equal(r, -ECONNRESET);
	fmap_put(fm);
	close(t.fd);
	pair_close(&p);
}

/* ================================================================ closing */

static bool cond_eof(void *arg)
{
	struct socket *so = arg;
	char buf[256];
	ssize_t r;

	while ((r = skiff_recv(so, buf, sizeof(buf))) > 0)
		;
	return r == 0;
}

/* side `first` (A or B) closes first, the other after reading EOF. */
static void close_sequence(struct twostack *ts, int first)
{
	struct pair p = {0};
	struct socket *c1, *c2;
	uint16_t l1, r1;
	int second = !first;

	pair_open(ts, &p, PORT);
	transfer(ts, p.a, p.b, 5000, 1 * SEC);
	transfer(ts, p.b, p.a, 5000, 1 * SEC);
	c1 = first == TS_A ? p.a : p.b;
	c2 = first == TS_A ? p.b : p.a;
	l1 = first == TS_A ? p.aport : PORT;
	r1 = first == TS_A ? PORT : p.aport;

	assert_int_equal(skiff_close(c1), 0);
	if (first == TS_A)
		p.a = NULL;
	else
		p.b = NULL;
	assert_true(twostack_run(ts, 1 * SEC, cond_eof, c2));
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_state(ts, first, l1, r1, TCP_FIN_WAIT_2);
	assert_state(ts, second, r1, l1, TCP_CLOSE_WAIT);
	assert_true(skiff_poll(c2) & SOCK_EV_IN); /* EOF is readable */

	assert_int_equal(skiff_close(c2), 0);
	if (first == TS_A)
		p.b = NULL;
	else
		p.a = NULL;
	twostack_run(ts, 1 * SEC, NULL, NULL);
	assert_state(ts, first, l1, r1, TCP_TIME_WAIT);
	assert_closed(ts, second, r1, l1); /* LAST_ACK ended */
	pair_close(&p);
}

static void active_close_by_a_ends_in_time_wait_on_a(void **state)
{
	close_sequence(*state, TS_A);
}

static void active_close_by_b_ends_in_time_wait_on_b(void **state)
{
	close_sequence(*state, TS_B);
}

static void simultaneous_close_goes_through_closing_to_time_wait(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 10 * MS};
	struct pair p = {0};
	struct trace *tr;
	uint16_t aport;

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	aport = p.aport;
	transfer(ts, p.a, p.b, 3000, 1 * SEC);
	twostack_run(ts, 1 * SEC, NULL, NULL); /* everything acked */
	tr = trace_on(ts);
	assert_int_equal(skiff_close(p.a), 0);
	assert_int_equal(skiff_close(p.b), 0);
	p.a = p.b = NULL;
	twostack_run(ts, 15 * MS, NULL, NULL); /* FINs crossed, their ACKs on the way */
	assert_int_equal(trace_count(tr, TS_A, TCPF_FIN, 0, false), 1);
	assert_int_equal(trace_count(tr, TS_B, TCPF_FIN, 0, false), 1);
	assert_state(ts, TS_A, aport, PORT, TCP_CLOSING);
	assert_state(ts, TS_B, PORT, aport, TCP_CLOSING);
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_state(ts, TS_A, aport, PORT, TCP_TIME_WAIT);
	assert_state(ts, TS_B, PORT, aport, TCP_TIME_WAIT);
	pair_close(&p);
	trace_free(tr);
}

static void half_close_lets_the_other_way_flow(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct xfer ab = {0}, ba = {0};

	pair_open(ts, &p, PORT);
	/* A sends 10 kB and shuts its write side; B reads it all and EOF */
	ab = (struct xfer){.tx = p.a, .rx = p.b, .total = 10000, .base = 5, .shut = true};
	assert_true(twostack_run(ts, 2 * SEC, cond_xfer, &ab));
	assert_int_equal(ab.err, 0);
	assert_true(ab.eof);
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_state(ts, TS_A, p.aport, PORT, TCP_FIN_WAIT_2);
	assert_state(ts, TS_B, PORT, p.aport, TCP_CLOSE_WAIT);
	assert_int_equal(skiff_send(p.a, "z", 1), -EPIPE);

	/* B still sends 300 kB to A, then shuts down: A reads it all and EOF */
	ba = (struct xfer){.tx = p.b, .rx = p.a, .total = 300000, .base = 6, .shut = true};
	assert_true(twostack_run(ts, 10 * SEC, cond_xfer, &ba));
	assert_int_equal(ba.err, 0);
	assert_true(ba.eof && ba.rcvd == 300000);
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_state(ts, TS_A, p.aport, PORT, TCP_TIME_WAIT);
	assert_closed(ts, TS_B, PORT, p.aport);
	pair_close(&p);
}

static void close_with_unread_data_sends_rst(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	char buf[64];

	pair_open(ts, &p, PORT);
	assert_int_equal(skiff_send(p.a, "unread data", 11), 11);
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_true(skiff_poll(p.b) & SOCK_EV_IN);
	tr = trace_on(ts);
	assert_int_equal(skiff_close(p.b), 0); /* 11 bytes never read */
	p.b = NULL;
	assert_closed(ts, TS_B, PORT, p.aport); /* gone at once */
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_int_equal(trace_count(tr, TS_B, TCPF_RST, 0, false), 1);
	assert_int_equal(trace_count(tr, TS_B, TCPF_FIN, 0, false), 0);
	assert_true(p.ea.seen & SOCK_EV_ERR);
	assert_int_equal(skiff_recv(p.a, buf, sizeof(buf)), -ECONNRESET);
	assert_closed(ts, TS_A, p.aport, PORT);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ resets */

static void connect_to_a_closed_port_is_refused(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	struct sockaddr_in sin = sin_of(TS_ADDR_B, 81);

	tr = trace_on(ts);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_connect(p.a, &sin), -EINPROGRESS);
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_true(p.ea.seen & SOCK_EV_ERR);
	assert_int_equal(trace_count(tr, TS_B, TCPF_RST, 0, false), 1);
	assert_int_equal(so_error(p.a), ECONNREFUSED);
	assert_int_equal(so_error(p.a), 0); /* reported once */
	assert_int_equal(twostack_stack(ts, TS_A)->stats->tcp_conn_refused, 1);
	assert_int_equal(twostack_stack(ts, TS_B)->stats->tcp_rst_noconn, 1);
	assert_closed(ts, TS_A, p.aport, 81);
	assert_closed(ts, TS_B, 81, p.aport);
	pair_close(&p);
	trace_free(tr);
}

static void linger_abort_close_resets_the_peer(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	char buf[64];

	pair_open(ts, &p, PORT);
	transfer(ts, p.a, p.b, 2000, 1 * SEC);
	tr = trace_on(ts);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_LINGER_ABORT, 1), 0);
	assert_int_equal(skiff_close(p.a), 0);
	p.a = NULL;
	assert_closed(ts, TS_A, p.aport, PORT); /* freed at once, no TIME_WAIT */
	twostack_run(ts, 100 * MS, NULL, NULL);
	assert_int_equal(trace_count(tr, TS_A, TCPF_RST, 0, false), 1);
	assert_int_equal(trace_count(tr, TS_A, TCPF_FIN, 0, false), 0);
	assert_true(p.eb.seen & (SOCK_EV_ERR | SOCK_EV_HUP));
	assert_int_equal(skiff_recv(p.b, buf, sizeof(buf)), -ECONNRESET);
	assert_closed(ts, TS_B, PORT, p.aport);
	assert_int_equal(twostack_stack(ts, TS_B)->stats->tcp_estab_resets, 1);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ retransmission timing */

static void lost_syns_are_resent_after_1s_then_2s_then_4s(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	uint64_t t[8];
	int n = 0;
	size_t i;

	tr = trace_on(ts);
	tr->drop_syn[TS_A] = 3;
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	pair_connect(ts, &p, 30 * SEC);
	for (i = 0; i < tr->n && n < 8; i++)
		if (tr->r[i].from == TS_A && (tr->r[i].flags & TCPF_SYN))
			t[n++] = tr->r[i].t;
	assert_int_equal(n, 4);
	/* RFC 6298 2.1: initial RTO 1 s; 5.5: doubled on each expiry */
	assert_int_equal(t[1] - t[0], 1 * SEC);
	assert_int_equal(t[2] - t[1], 2 * SEC);
	assert_int_equal(t[3] - t[2], 4 * SEC);
	assert_int_equal(p.ea.t_out, t[3]); /* no delay on the link: established at once */
	pair_close(&p);
	trace_free(tr);
}

static void lost_data_is_resent_after_the_rto_then_with_backoff(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 50 * MS};
	struct pair p = {0};
	struct trace *tr;
	struct tcp_conn_info info;
	uint64_t t[8], rto;
	int n;

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	twostack_run(ts, 500 * MS, NULL, NULL);
	info_of(ts, TS_A, p.aport, PORT, &info);
	rto = (uint64_t)info.rto_ms * MS;
	/* RFC 6298: between the 200 ms floor (as Linux) and the initial 1 s */
	assert_in_range(rto, TCP_RTO_MIN_NS, TCP_RTO_INIT_NS);

	tr = trace_on(ts);
	tr->drop_nth[TS_A][0] = 1;
	tr->n_drop_nth[TS_A] = 1;
	tr->drop_times = 3;
	transfer(ts, p.a, p.b, 100, 30 * SEC);
	assert_int_equal(tr->n_drop_seq, 1);
	n = trace_times(tr, TS_A, tr->drop_seq[0], t, 8);
	assert_int_equal(n, 4);
	/* the RTO, then doubled each time (RFC 6298 5.5), to the ms */
	assert_in_range(t[1] - t[0], rto - MS, rto + MS);
	assert_in_range(t[2] - t[1], 2 * rto - 2 * MS, 2 * rto + 2 * MS);
	assert_in_range(t[3] - t[2], 4 * rto - 4 * MS, 4 * rto + 4 * MS);
	info_of(ts, TS_A, p.aport, PORT, &info);
	assert_int_equal(info.retrans, 3);
	print_message("RTO %llu ms (RTT 100 ms): resent after %llu, %llu, %llu ms\n",
		      (unsigned long long)(rto / MS), (unsigned long long)((t[1] - t[0]) / MS),
		      (unsigned long long)((t[2] - t[1]) / MS),
		      (unsigned long long)((t[3] - t[2]) / MS));
	pair_close(&p);
	trace_free(tr);
}

/* ACKs for exactly seq that side B sent before t (they reach A by t + delay). */
static int acks_of(const struct trace *tr, uint32_t seq, uint64_t t)
{
	size_t i;
	int n = 0;

	for (i = 0; i < tr->n; i++)
		if (tr->r[i].from == TS_B && tr->r[i].t < t && !tr->r[i].len &&
		    tr->r[i].ack == seq && (tr->r[i].flags & TCPF_ACK))
			n++;
	return n;
}

static void one_lost_segment_is_fast_retransmitted_before_the_rto(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 10 * MS};
	const uint64_t rtt = 20 * MS;
	struct pair p = {0};
	struct trace *tr;
	struct tcp_conn_info info;
	uint64_t t[4];

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	tr = trace_on(ts);
	tr->drop_nth[TS_A][0] = 20;
	tr->n_drop_nth[TS_A] = 1;
	transfer(ts, p.a, p.b, 300000, 30 * SEC);
	assert_int_equal(tr->n_drop_seq, 1);
	assert_int_equal(trace_times(tr, TS_A, tr->drop_seq[0], t, 4), 2);
	/* resent on the duplicate ACKs (RFC 5681 3.2: the third), long before any RTO */
	assert_true(acks_of(tr, tr->drop_seq[0], t[1]) >= 3);
	assert_true(t[1] - t[0] < TCP_RTO_MIN_NS);
	assert_true(t[1] - t[0] <= 3 * rtt);
	assert_int_equal(trace_retrans(tr, TS_A), 1);
	info_of(ts, TS_A, p.aport, PORT, &info);
	assert_int_equal(info.retrans, 1);
	pair_close(&p);
	trace_free(tr);
}

static void sack_recovers_several_losses_of_one_window_in_about_one_rtt(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 10 * MS};
	const uint64_t rtt = 20 * MS;
	struct pair p = {0};
	struct trace *tr;
	struct tcp_conn_info info;
	uint64_t t[4], first = UINT64_MAX, last = 0, lo = UINT64_MAX, hi = 0;
	int i;

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	tr = trace_on(ts);
	for (i = 0; i < 4; i++)
		tr->drop_nth[TS_A][i] = 60 + 2 * (uint32_t)i; /* 60, 62, 64, 66 */
	tr->n_drop_nth[TS_A] = 4;
	transfer(ts, p.a, p.b, 1 << 20, 30 * SEC);
	assert_int_equal(tr->n_drop_seq, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(trace_times(tr, TS_A, tr->drop_seq[i], t, 4), 2);
		if (tr->drop_t[i] < lo)
			lo = tr->drop_t[i];
		if (tr->drop_t[i] > hi)
			hi = tr->drop_t[i];
		if (t[1] < first)
			first = t[1];
		if (t[1] > last)
			last = t[1];
	}
	assert_true(hi - lo < rtt); /* one window */
	/* detected one RTT after the first loss, all resent within about one more RTT */
	assert_true(first - lo <= rtt + 5 * MS);
	assert_true(last - first <= rtt + 5 * MS);
	assert_int_equal(trace_retrans(tr, TS_A), 4);
	info_of(ts, TS_A, p.aport, PORT, &info);
	assert_int_equal(info.retrans, 4);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ memory per connection */

/* A transfer that keeps the highest number of recovery blocks A had in use. */
struct rcvy_xfer {
	struct xfer x;
	struct stack *st;
	uint32_t max_in_use;
};

static bool cond_rcvy_xfer(void *arg)
{
	struct rcvy_xfer *r = arg;
	uint32_t n = tcp_recovery_in_use(r->st);

	if (n > r->max_in_use)
		r->max_in_use = n;
	return cond_xfer(&r->x);
}

/* Run r->x to its end (intact), keeping r->max_in_use. */
static void rcvy_run(struct twostack *ts, struct rcvy_xfer *r)
{
	assert_true(twostack_run(ts, 10 * 60 * SEC, cond_rcvy_xfer, r));
	assert_int_equal(r->x.err, 0);
	assert_true(r->x.rcvd == r->x.total);
}

static void lossy_transfer_a_to_b(struct twostack *ts, struct pair *p, struct rcvy_xfer *r)
{
	struct ts_impair imp = {.loss_pct = 3, .reorder_pct = 10, .delay_ns = 5 * MS};

	twostack_set_impair2(ts, &imp);
	pair_open(ts, p, PORT);
	*r = (struct rcvy_xfer){
		.x = {.tx = p->a, .rx = p->b, .total = 2 << 20, .base = 7},
		.st = twostack_stack(ts, TS_A),
	};
	rcvy_run(ts, r);
}

/*
 * The SACK scoreboard and the undo state live in a recovery block that a
 * connection holds only while it recovers: after a transfer through a
 * lossy link (SACK recoveries, retransmissions), the connection, still
 * established and idle, has given its block back, and the object itself
 * stays within 1 KiB.
 */
static void an_idle_connection_after_loss_recovery_holds_no_recovery_block(void **state)
{
	struct twostack *ts = *state;
	struct stack *a = twostack_stack(ts, TS_A);
	struct tcp_conn_info info;
	struct rcvy_xfer r;
	struct pair p = {0};

	assert_true(tcp_conn_size() <= 1024);
	lossy_transfer_a_to_b(ts, &p, &r);
	info_of(ts, TS_A, p.aport, PORT, &info);
	assert_true(info.retrans > 0);
	assert_true(a->stats->tcp_sack_recovery > 0);
	assert_true(r.max_in_use >= 1); /* it had one while it recovered */
	assert_int_equal(a->stats->tcp_recovery_nomem, 0);
	/* idle: everything acknowledged, the episode's D-SACK wait (one RTO) over */
	twostack_run(ts, 5 * SEC, NULL, NULL);
	assert_int_equal(conn_state(ts, TS_A, p.aport, PORT), TCP_ESTABLISHED);
	assert_int_equal(tcp_recovery_in_use(a), 0);
	assert_int_equal(tcp_recovery_in_use(twostack_stack(ts, TS_B)), 0);
	assert_int_equal(a->stats->tcp_recovery_blocks, 0);
	/* the next losses take one again, and it goes back again */
	r.x = (struct xfer){.tx = p.a, .rx = p.b, .total = 1 << 20, .base = 11};
	r.max_in_use = 0;
	rcvy_run(ts, &r);
	assert_true(r.max_in_use >= 1);
	twostack_run(ts, 5 * SEC, NULL, NULL);
	assert_int_equal(tcp_recovery_in_use(a), 0);
	pair_close(&p);
}

/* The receiver's side: data out of order makes it report SACK blocks from
 * a recovery block; the retransmission that fills the hole, the last
 * segment it gets, empties the out-of-order queue, and the ACK it sends
 * for it hands the block back (nothing else will come to do it). */
static void a_receiver_gives_its_block_back_with_the_ack_that_fills_the_hole(void **state)
{
	struct twostack *ts = *state;
	struct stack *b = twostack_stack(ts, TS_B);
	struct ts_impair imp = {.delay_ns = 10 * MS};
	struct pair p = {0};
	struct rcvy_xfer r;
	struct trace *tr;

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	tr = trace_on(ts);
	tr->drop_nth[TS_A][0] = 10; /* of 16 segments: six arrive beyond the hole */
	tr->n_drop_nth[TS_A] = 1;
	r = (struct rcvy_xfer){
		.x = {.tx = p.a, .rx = p.b, .total = 16 * 1448, .base = 3},
		.st = b,
	};
	rcvy_run(ts, &r);
	assert_int_equal(tr->n_drop_seq, 1);
	assert_int_equal(trace_retrans(tr, TS_A), 1);
	assert_true(r.max_in_use >= 1); /* B reported SACK blocks from one */
	/* one RTT later (the last ACK has reached A), long before any timer */
	twostack_run(ts, 25 * MS, NULL, NULL);
	assert_int_equal(tcp_recovery_in_use(b), 0);
	assert_int_equal(b->stats->tcp_recovery_nomem, 0);
	pair_close(&p);
	trace_free(tr);
}

/* With the pools at their bound (here: no block at all), the sender that
 * meets losses recovers without SACK state and the receiver reports no
 * SACK blocks: the stream arrives intact and each refusal is counted. */
static void a_connection_refused_a_recovery_block_still_delivers_the_stream(void **state)
{
	struct twostack *ts = *state;
	struct stack *a = twostack_stack(ts, TS_A), *b = twostack_stack(ts, TS_B);
	struct tcp_conn_info info;
	struct rcvy_xfer r;
	struct pair p = {0};

	assert_int_equal(tcp_set_recovery_limit(a, 0), 0);
	assert_int_equal(tcp_set_recovery_limit(b, 0), 0);
	lossy_transfer_a_to_b(ts, &p, &r);
	info_of(ts, TS_A, p.aport, PORT, &info);
	assert_true(info.retrans > 0);
	assert_int_equal(r.max_in_use, 0);
	assert_true(a->stats->tcp_recovery_nomem > 0);	/* loss episodes: no undo state */
	assert_true(b->stats->tcp_recovery_nomem > 0);	/* out of order: no SACK block */
	assert_int_equal(tcp_recovery_in_use(b), 0);
	assert_int_equal(tcp_set_recovery_limit(a, TCP_RECOVERY_MAX), 0);
	assert_int_equal(tcp_set_recovery_limit(b, TCP_RECOVERY_MAX), 0);
	pair_close(&p);
}

/* ================================================================ zero window */

static void zero_window_is_probed_until_the_reader_resumes(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	struct xfer x;
	uint64_t t_zero = 0, t_resume, prev = 0, gap = 0;
	int probes = 0;
	size_t i;

	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_RCVBUF, 8192), 0);
	pair_connect(ts, &p, 1 * SEC);
	tr = trace_on(ts);

	/* B writes 100 kB to A, which does not read for 20 s */
	x = (struct xfer){.tx = p.b, .rx = p.a, .total = 100000, .base = 9, .paused = true};
	twostack_run(ts, 20 * SEC, cond_xfer, &x);
	assert_int_equal(x.err, 0);
	assert_true(x.rcvd == 0);
	assert_state(ts, TS_A, p.aport, PORT, TCP_ESTABLISHED);
	assert_state(ts, TS_B, PORT, p.aport, TCP_ESTABLISHED);
	for (i = 0; i < tr->n; i++) {
		if (tr->r[i].from == TS_A && tr->r[i].win == 0 && !t_zero)
			t_zero = tr->r[i].t;
	}
	assert_true(t_zero != 0); /* A advertised a zero window */
	/* the persist timer: B probes, with backoff */
	for (i = 0; i < tr->n; i++) {
		if (tr->r[i].from != TS_B || tr->r[i].t <= t_zero)
			continue;
		probes++;
		if (prev) {
			assert_true(tr->r[i].t - prev >= gap);
			gap = tr->r[i].t - prev;
		}
		prev = tr->r[i].t;
	}
	assert_in_range(probes, 2, 12);

	/* the reader resumes: everything arrives */
	t_resume = clock_now();
	x.paused = false;
	assert_true(twostack_run(ts, 30 * SEC, cond_xfer, &x));
	assert_int_equal(x.err, 0);
	assert_true(x.rcvd == 100000);
	assert_true(x.t_done - t_resume < 1 * SEC);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ keepalive */

static bool cond_err(void *arg)
{
	return ((struct ev *)arg)->seen & SOCK_EV_ERR;
}

static void keepalive_detects_a_vanished_peer_after_idle_plus_count_intervals(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct trace *tr;
	uint64_t t_last_rx = 0, t_gone;
	int probes = 0;
	size_t i;
	char c;

	pair_open(ts, &p, PORT);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_KEEPALIVE, 1), 0);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_KEEPIDLE, 10), 0);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_KEEPINTVL, 2), 0);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_KEEPCNT, 3), 0);
	tr = trace_on(ts);

	/* the peer answers: the idle connection lives on, probed */
	twostack_run(ts, 35 * SEC, NULL, NULL);
	assert_false(p.ea.seen & SOCK_EV_ERR);
	assert_state(ts, TS_A, p.aport, PORT, TCP_ESTABLISHED);
	assert_in_range(trace_count(tr, TS_A, TCPF_ACK, 0, false), 2, 4);
	assert_true(trace_count(tr, TS_B, TCPF_ACK, 0, false) >= 2);

	/* the peer vanishes */
	for (i = 0; i < tr->n; i++)
		if (tr->r[i].from == TS_B)
			t_last_rx = tr->r[i].t;
	tr->drop_all[TS_A] = tr->drop_all[TS_B] = true;
	assert_true(twostack_run(ts, 60 * SEC, cond_err, &p.ea));
	t_gone = p.ea.t_err;
	for (i = 0; i < tr->n; i++)
		if (tr->r[i].from == TS_A && tr->r[i].dropped)
			probes++;
	assert_int_equal(probes, 3);
	/* idle 10 s, then 3 probes 2 s apart: dropped 16 s after the last answer */
	assert_in_range(t_gone - t_last_rx, 16 * SEC - 50 * MS, 16 * SEC + 50 * MS);
	assert_int_equal(skiff_recv(p.a, &c, 1), -ETIMEDOUT);
	assert_closed(ts, TS_A, p.aport, PORT);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ TIME_WAIT */

struct tw_watch {
	struct twostack *ts;
	uint16_t aport;
	uint64_t t_tw, t_gone;
};

static bool cond_tw(void *arg)
{
	struct tw_watch *w = arg;
	int s = conn_state(w->ts, TS_A, w->aport, PORT);

	if (s == TCP_TIME_WAIT && !w->t_tw)
		w->t_tw = clock_now();
	if (s < 0 && w->t_tw && !w->t_gone)
		w->t_gone = clock_now();
	return w->t_gone != 0;
}

static void time_wait_lasts_two_msl_then_the_connection_is_gone(void **state)
{
	struct twostack *ts = *state;
	struct pair p = {0};
	struct tw_watch w = {.ts = ts};

	pair_open(ts, &p, PORT);
	w.aport = p.aport;
	assert_int_equal(skiff_close(p.a), 0);
	p.a = NULL;
	assert_true(twostack_run(ts, 1 * SEC, cond_eof, p.b));
	assert_int_equal(skiff_close(p.b), 0);
	p.b = NULL;
	assert_true(twostack_run(ts, 5 * 60 * SEC, cond_tw, &w));
	/* RFC 9293 3.10.7.4: 2 MSL (60 s here, as Linux) */
	assert_in_range(w.t_gone - w.t_tw, 2 * TCP_MSL_NS, 2 * TCP_MSL_NS + MS);
	pair_close(&p);
}

/* ================================================================ SYN cookies */

static void syn_flood_falls_back_to_cookies_and_a_real_connect_succeeds(void **state)
{
	struct twostack *ts = *state;
	struct stack *sb = twostack_stack(ts, TS_B);
	struct pair p = {0};
	struct trace *tr;
	uint8_t frame[128];
	const int nflood = TCP_SYN_BACKLOG + 100;
	int i;

	pair_listen(ts, &p, PORT, 8);
	tr = trace_on(ts);
	tr->flood_lo = 20000;
	tr->flood_hi = (uint16_t)(20000 + nflood - 1); /* their SYN-ACKs are lost */
	for (i = 0; i < nflood; i++) {
		size_t len = ts_tcp_build(frame, sizeof(frame), TS_A, (uint16_t)(20000 + i), PORT,
					  0x1000000u * (uint32_t)i + 7, 0, TCPF_SYN, 65535, NULL, 0,
					  NULL, 0);

		assert_true(len > 0);
		assert_int_equal(twostack_inject(ts, TS_B, frame, len), 0);
		if (i % 32 == 31)
			twostack_run(ts, 1 * MS, NULL, NULL);
	}
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_true(sb->stats->tcp_syncookies_sent > 0); /* the SYN queue filled up */
	assert_true(trace_count(tr, TS_B, TCPF_SYN | TCPF_ACK, 0, false) >= nflood);

	pair_socket_a(ts, &p);
	pair_connect(ts, &p, 10 * SEC);
	transfer(ts, p.a, p.b, 20000, 5 * SEC);
	transfer(ts, p.b, p.a, 20000, 5 * SEC);
	pair_close(&p);
	twostack_set_filter(ts, NULL, NULL);
	trace_free(tr);
}

/* ================================================================ RFC 5961 */

/* Inject a segment to A as if from B on the pair's connection, with a
 * timestamp A's PAWS check accepts when timestamps are on. */
static void inject_to_a(struct twostack *ts, struct pair *p, uint32_t seq, uint32_t ack,
			uint8_t flags)
{
	const struct tcp_sock *tpa = conn_of(ts, TS_A, p->aport, PORT);
	uint8_t frame[128], opts[12] = {1, 1, 8, 10};
	uint32_t v;
	size_t len, olen = 0;

	assert_non_null(tpa);
	if (tpa->ts_ok) {
		v = htonl(tpa->ts_recent + 1);
		memcpy(opts + 4, &v, 4);
		v = htonl(tcp_tsval(tpa, clock_now()));
		memcpy(opts + 8, &v, 4);
		olen = sizeof(opts);
	}
	len = ts_tcp_build(frame, sizeof(frame), TS_B, PORT, p->aport, seq, ack, flags, 1000, opts,
			   olen, NULL, 0);
	assert_true(len > 0);
	assert_int_equal(twostack_inject(ts, TS_A, frame, len), 0);
}

static void in_window_rst_and_syn_get_challenge_acks_and_the_connection_lives(void **state)
{
	struct twostack *ts = *state;
	struct stack *sa = twostack_stack(ts, TS_A);
	struct pair p = {0};
	struct trace *tr;
	const struct tcp_sock *tpa;
	uint32_t rcv_nxt, snd_nxt;
	uint64_t ch0;
	char buf[8];

	pair_open(ts, &p, PORT);
	transfer(ts, p.a, p.b, 4000, 1 * SEC);
	transfer(ts, p.b, p.a, 4000, 1 * SEC);
	twostack_run(ts, 500 * MS, NULL, NULL);
	tpa = conn_of(ts, TS_A, p.aport, PORT);
	assert_non_null(tpa);
	rcv_nxt = tpa->rcv_nxt;
	snd_nxt = tpa->snd_nxt;
	assert_true(tpa->rcv_wnd > 2000);
	ch0 = sa->stats->tcp_challenge_acks;
	tr = trace_on(ts);

	/* RFC 5961 3.2: a RST inside the window but not at RCV.NXT */
	inject_to_a(ts, &p, rcv_nxt + 1000, 0, TCPF_RST);
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_int_equal(sa->stats->tcp_challenge_acks, ch0 + 1);
	assert_int_equal(tr->n, 1);
	assert_int_equal(tr->r[0].from, TS_A);
	assert_int_equal(tr->r[0].flags & (TCPF_ACK | TCPF_RST | TCPF_SYN), TCPF_ACK);
	assert_int_equal(tr->r[0].seq, snd_nxt);
	assert_int_equal(tr->r[0].ack, rcv_nxt);
	assert_state(ts, TS_A, p.aport, PORT, TCP_ESTABLISHED);
	assert_false(p.ea.seen & SOCK_EV_ERR);

	/* RFC 5961 4.2: a SYN in a synchronized state */
	inject_to_a(ts, &p, rcv_nxt + 10, 0, TCPF_SYN);
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_int_equal(sa->stats->tcp_challenge_acks, ch0 + 2);
	assert_int_equal(trace_count(tr, TS_A, TCPF_ACK, TCPF_RST | TCPF_SYN, false), 2);
	assert_state(ts, TS_A, p.aport, PORT, TCP_ESTABLISHED);
	assert_state(ts, TS_B, PORT, p.aport, TCP_ESTABLISHED);

	/* still a working connection */
	transfer(ts, p.a, p.b, 20000, 1 * SEC);
	transfer(ts, p.b, p.a, 20000, 1 * SEC);

	/* the control: a RST exactly at RCV.NXT resets it (RFC 5961 3.2) */
	twostack_run(ts, 500 * MS, NULL, NULL);
	tpa = conn_of(ts, TS_A, p.aport, PORT);
	inject_to_a(ts, &p, tpa->rcv_nxt, 0, TCPF_RST);
	twostack_run(ts, 10 * MS, NULL, NULL);
	assert_true(p.ea.seen & SOCK_EV_ERR);
	assert_int_equal(skiff_recv(p.a, buf, sizeof(buf)), -ECONNRESET);
	assert_closed(ts, TS_A, p.aport, PORT);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ long, impaired */

struct long_result {
	uint64_t t_done; /* simulated ns from connect to the last byte */
	struct ts_counters c[2];
	uint64_t retrans;
	uint64_t recoveries, rtos, undos; /* A's tcp_sack_recovery, tcp_rto, tcp_undo */
};

static void long_transfer(uint64_t seed, struct long_result *res)
{
	struct ts_impair imp = {
		.loss_pct = 3,
		.reorder_pct = 25,
		.dup_pct = 1,
		.corrupt_pct = 1,
		.delay_ns = 10 * MS,
	};
	struct twostack *ts = ts_new(seed);
	struct pair p = {0};
	struct xfer ab, ba;
	struct xfers xs = {.x = {&ab, &ba}, .n = 2};
	struct tcp_conn_info info;
	uint64_t t0 = clock_now();

	twostack_set_impair2(ts, &imp);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	pair_connect(ts, &p, 60 * SEC);
	/* 4 MiB A -> B while 512 kB go B -> A, both ends half-closing when done */
	ab = (struct xfer){.tx = p.a, .rx = p.b, .total = 4 << 20, .base = seed, .shut = true};
	ba = (struct xfer){
		.tx = p.b, .rx = p.a, .total = 512 << 10, .base = seed + 1, .shut = true};
	assert_true(twostack_run(ts, 30 * 60 * SEC, cond_xfers, &xs));
	assert_int_equal(ab.err, 0);
	assert_int_equal(ba.err, 0);
	assert_true(ab.rcvd == 4 << 20 && ab.eof);
	assert_true(ba.rcvd == 512 << 10 && ba.eof);
	res->t_done = clock_now() - t0;
	info_of(ts, TS_A, p.aport, PORT, &info);
	res->retrans = info.retrans;
	assert_true(info.retrans > 0);
	res->c[0] = ts->dir[0].c;
	res->c[1] = ts->dir[1].c;
	res->recoveries = twostack_stack(ts, TS_A)->stats->tcp_sack_recovery;
	res->rtos = twostack_stack(ts, TS_A)->stats->tcp_rto;
	res->undos = twostack_stack(ts, TS_A)->stats->tcp_undo;
	assert_true(res->c[0].lost > 0 && res->c[0].reordered > 0 && res->c[0].duplicated > 0 &&
		    res->c[0].corrupted > 0);
	assert_true(twostack_stack(ts, TS_B)->stats->drop.tcp_csum > 0);
	pair_close(&p);
	ts_free(ts); /* the FINs' last ACKs still cross the impaired link */
}

static void long_transfer_through_an_impaired_link(void **state)
{
	uint64_t seed = *(uint64_t *)*state;
	struct long_result r;

	long_transfer(seed, &r);
	print_message("seed %llu: 4 MiB + 512 kB in %.3f s simulated, %llu retransmitted, "
		      "lost %llu/%llu, A: %llu SACK recoveries, %llu RTOs, %llu undone\n",
		      (unsigned long long)seed, (double)r.t_done / 1e9,
		      (unsigned long long)r.retrans, (unsigned long long)r.c[0].lost,
		      (unsigned long long)r.c[1].lost, (unsigned long long)r.recoveries,
		      (unsigned long long)r.rtos, (unsigned long long)r.undos);
}

static void long_transfer_is_deterministic_for_a_seed(void **state)
{
	struct long_result r1, r2;

	(void)state;
	long_transfer(42, &r1);
	long_transfer(42, &r2);
	assert_true(r1.t_done == r2.t_done);
	assert_true(r1.retrans == r2.retrans);
	assert_memory_equal(r1.c, r2.c, sizeof(r1.c));
}

/* 4 MiB A -> B through a link that reorders but loses nothing. */
struct reorder_result {
	uint64_t t_done;
	uint64_t recoveries, spurious, undos, rtos, retrans_segs, reordered;
	uint64_t retrans_half, reordered_half; /* when half the data had arrived */
	uint64_t dsack_rx, rack_lost;
	uint32_t reordering, cwnd, reo_wnd_mult;
};

struct half_watch {
	struct xfer *x;
	struct twostack *ts;
	bool seen;
	uint64_t retrans, reordered;
};

/* cond_xfer, noting A's retransmissions when half the data has arrived */
static bool cond_half(void *arg)
{
	struct half_watch *w = arg;

	xfer_pump(w->x);
	if (!w->seen && w->x->rcvd >= w->x->total / 2) {
		w->seen = true;
		w->retrans = twostack_stack(w->ts, TS_A)->stats->tcp_retrans_segs;
		w->reordered = w->ts->dir[TS_A].c.reordered;
	}
	return xfer_finished(w->x);
}

static void reorder_transfer_imp(const struct ts_impair *ab, const struct ts_impair *ba,
				 struct reorder_result *r)
{
	struct twostack *ts = ts_new(7);
	const struct tcp_sock *tp;
	const struct skiff_ustats *u;
	struct pair p = {0};
	struct xfer ab_x;
	struct half_watch w = {.x = &ab_x, .ts = ts};
	uint64_t t0;

	twostack_set_impair(ts, TS_A, ab);
	twostack_set_impair(ts, TS_B, ba);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	pair_connect(ts, &p, 10 * SEC);
	t0 = clock_now();
	ab_x = (struct xfer){.tx = p.a, .rx = p.b, .total = 4 << 20, .base = 3, .shut = true};
	assert_true(twostack_run(ts, 10 * 60 * SEC, cond_half, &w));
	assert_int_equal(ab_x.err, 0);
	assert_true(ab_x.rcvd == 4 << 20 && ab_x.eof);
	r->t_done = ab_x.t_done - t0;
	u = twostack_stack(ts, TS_A)->stats;
	r->recoveries = u->tcp_sack_recovery + u->tcp_fast_retrans;
	r->spurious = u->tcp_spurious_rtx;
	r->undos = u->tcp_undo;
	r->rtos = u->tcp_rto;
	r->retrans_segs = u->tcp_retrans_segs;
	r->dsack_rx = u->tcp_dsack_rx;
	r->rack_lost = u->tcp_rack_marked_lost;
	r->reordered = ts->dir[TS_A].c.reordered;
	r->retrans_half = w.retrans;
	r->reordered_half = w.reordered;
	tp = conn_of(ts, TS_A, p.aport, PORT);
	assert_non_null(tp);
	r->reordering = tp->reordering;
	r->cwnd = tp->cc.cwnd;
	r->reo_wnd_mult = tp->reo_wnd_mult;
	assert_int_equal(ts->dir[TS_A].c.lost + ts->dir[TS_B].c.lost, 0);
	pair_close(&p);
	ts_free(ts);
}

/* 10 ms each way, reorder_pct of the frames of each direction reordered. */
static void reorder_transfer(uint32_t reorder_pct, struct reorder_result *r)
{
	struct ts_impair imp = {.reorder_pct = reorder_pct, .delay_ns = 10 * MS};

	reorder_transfer_imp(&imp, &imp, r);
}

/*
 * 25% of the frames each way reordered, none lost: a fast retransmit
 * caused by reordering is found spurious (Eifel, RFC 3522) and undone (RFC
 * 4015), and DupThresh rises with the reordering seen, so the sender's
 * window is not cut again and again.  Judged on the simulated clock
 * against the same transfer without reordering, with a generous bound.
 */
static void reordering_without_loss_does_not_keep_cutting_the_window(void **state)
{
	struct reorder_result r0, r25;

	(void)state;
	reorder_transfer(0, &r0);
	reorder_transfer(25, &r25);
	print_message("no reordering: %.3f s, %llu recoveries; 25%% (%llu frames): %.3f s, "
		      "%llu recoveries, %llu spurious, %llu undone, %llu RTOs, %llu "
		      "retransmitted, DupThresh %u, cwnd %u\n",
		      (double)r0.t_done / 1e9, (unsigned long long)r0.recoveries,
		      (unsigned long long)r25.reordered, (double)r25.t_done / 1e9,
		      (unsigned long long)r25.recoveries, (unsigned long long)r25.spurious,
		      (unsigned long long)r25.undos, (unsigned long long)r25.rtos,
		      (unsigned long long)r25.retrans_segs, r25.reordering, r25.cwnd);
	assert_int_equal(r0.recoveries, 0);
	assert_true(r25.reordered > 100);
	/* the path's reordering was learnt */
	assert_true(r25.reordering > 3);
	/* nearly every recovery entered was found spurious and undone */
	assert_true(r25.undos >= 1);
	assert_true(r25.recoveries + r25.rtos <= r25.undos + 5);
	/* and the transfer takes at most twice as long as without reordering */
	assert_true(r25.t_done <= 2 * r0.t_done);
}

/* ================================================================ RACK-TLP, PRR */

/*
 * RACK (RFC 8985) judges a segment lost by time: only once a segment sent
 * after it was delivered and RACK.rtt + the reordering window passed.  25%
 * of the frames each way reordered (held up to 5 ms or 3 frames), none
 * lost: at most a few retransmissions while the window is learnt (the
 * first reordering with three segments SACKed, then the D-SACKs widen it),
 * none at all in the second half of the transfer, no RTO, and the transfer
 * takes at most a quarter longer than without reordering.
 */
static void reordering_of_a_quarter_of_the_frames_sends_no_spurious_retransmission(void **state)
{
	struct reorder_result r0, r25;

	(void)state;
	reorder_transfer(0, &r0);
	reorder_transfer(25, &r25);
	print_message("RACK, 25%% reordering (%llu frames, %llu in the second half): %.3f s "
		      "(%.3f s without), %llu retransmitted (%llu in the first half), %llu D-SACKs, "
		      "reo_wnd x%u\n",
		      (unsigned long long)r25.reordered,
		      (unsigned long long)(r25.reordered - r25.reordered_half),
		      (double)r25.t_done / 1e9, (double)r0.t_done / 1e9,
		      (unsigned long long)r25.retrans_segs, (unsigned long long)r25.retrans_half,
		      (unsigned long long)r25.dsack_rx, r25.reo_wnd_mult);
	assert_int_equal(r0.retrans_segs, 0);
	assert_true(r25.reordered - r25.reordered_half > 100);
	assert_true(r25.retrans_segs <= 8); /* of ~2900 segments */
	assert_int_equal(r25.retrans_segs, r25.retrans_half);
	assert_int_equal(r25.rtos, 0);
	assert_true(4 * r25.t_done <= 5 * r0.t_done);
}

/*
 * 3% of A's frames held 9 ms past their time (B's ACKs come straight):
 * longer than the first reordering window, min_RTT/4 = 5 ms, so RACK
 * retransmits them at first; the receiver reports each duplicate with a
 * D-SACK, the window widens (RFC 8985 6.2 step 4: x2 = 10 ms) and the late
 * segments are no longer retransmitted.
 */
static void dsacks_widen_the_reordering_window_until_late_segments_are_not_resent(void **state)
{
	struct ts_impair ab = {.reorder_pct = 3, .reorder_k = 100000, .reorder_max_ns = 9 * MS,
			       .delay_ns = 10 * MS};
	struct ts_impair ba = {.delay_ns = 10 * MS};
	struct reorder_result r;

	(void)state;
	reorder_transfer_imp(&ab, &ba, &r);
	print_message("3%% held 9 ms (%llu frames, %llu in the second half): %.3f s, %llu "
		      "retransmitted (%llu in the first half), %llu D-SACKs, reo_wnd x%u\n",
		      (unsigned long long)r.reordered,
		      (unsigned long long)(r.reordered - r.reordered_half), (double)r.t_done / 1e9,
		      (unsigned long long)r.retrans_segs, (unsigned long long)r.retrans_half,
		      (unsigned long long)r.dsack_rx, r.reo_wnd_mult);
	assert_true(r.retrans_half >= 1);	/* the first window was too short */
	assert_true(r.dsack_rx >= 1);
	assert_true(r.reo_wnd_mult >= 2);
	assert_true(r.reordered - r.reordered_half > 20);
	assert_int_equal(r.retrans_segs, r.retrans_half);	/* none once widened */
	assert_int_equal(r.rtos, 0);
}

/*
 * The last three segments of a transfer lost: no segment follows them to
 * bring duplicate ACKs.  The tail loss probe (RFC 8985 7) resends the last
 * segment 2 x SRTT after the last ACK; its SACK lets RACK find the other
 * two lost; all three are repaired long before the RTO (>= 200 ms) would
 * fire, and no RTO does.
 */
/*
 * RACK's step 1 on an ACK (tcp_rack_advance) is bounded: beyond rxt_high
 * originals left in sequence order, so only the range's last slot is read
 * there.  A later stamp planted in the middle of an original range (a
 * state no sender makes) is not seen; once rxt_high says the range was
 * retransmitted, it is scanned and the planted stamp found.
 */
static void rack_reads_one_slot_of_an_in_order_ack(void **state)
{
	static const uint8_t data[8192];
	struct tcp_chunk_pool pool;
	struct stack *st = calloc(1, sizeof(*st));
	struct tcp_sock *tp = calloc(1, sizeof(*tp));
	uint32_t una = 1001, off;

	(void)state;
	assert_non_null(st);
	assert_non_null(tp);
	assert_int_equal(tcp_chunk_pool_init(&pool, 64), 0);
	tp->sack_ok = true;
	tp->snd_una = una;
	tp->rxt_high = una;
	assert_int_equal(tcp_stream_append(&pool, &tp->sndq, data, sizeof(data)), sizeof(data));
	tp->write_seq = una + sizeof(data);
	tp->snd_max = tp->write_seq;
	for (off = 0; off < sizeof(data); off += 1024) /* segments, one µs apart */
		tcp_stream_stamp(&tp->sndq, off, 1024, 100 + off / 1024);
	tcp_stream_stamp(&tp->sndq, 1024, 1, 900); /* the planted stamp: slot 4 */
	st->now = 5000 * NSEC_PER_USEC;
	tcp_rack_advance(st, tp, una, una + 4096);
	assert_int_equal(tp->rack_xmit_us, 103);	/* the last slot's */
	assert_int_equal(tp->rack_end_seq, una + 4096);
	assert_int_equal(tp->rack_rtt_us, 5000 - 103);
	/* retransmitted up to 2048: that part is scanned */
	tp->rack_rtt_us = 0;
	tp->cc.min_rtt_us = 0;
	tp->rxt_high = una + 2048;
	tcp_rack_advance(st, tp, una, una + 4096);
	assert_int_equal(tp->rack_xmit_us, 900);
	assert_int_equal(tp->rack_end_seq, una + 1280);
	tcp_stream_purge(&pool, &tp->sndq);
	tcp_chunk_pool_fini(&pool);
	free(tp);
	free(st);
}

/*
 * Freed connection objects are kept for reuse, at most TCP_CONN_CACHE of
 * them, and come back zeroed as calloc's would; a connection on a reused
 * object works; the accounting (n_conns) counts live objects only.
 */
static void freed_connections_are_reused_zeroed_and_the_cache_is_bounded(void **state)
{
	struct twostack *ts = *state;
	struct stack *st = twostack_stack(ts, TS_A);
	struct tcp_table *t = tcp_table(st);
	struct socket *so[TCP_CONN_CACHE + 8];
	uint32_t live = t->n_conns;
	struct pair p = {0};
	unsigned char *raw;
	size_t i;

	for (i = 0; i < sizeof(so) / sizeof(so[0]); i++)
		assert_int_equal(skiff_socket(st, SOCK_STREAM, &so[i]), 0);
	assert_int_equal(t->n_conns, live + sizeof(so) / sizeof(so[0]));
	for (i = 0; i < sizeof(so) / sizeof(so[0]); i++)
		assert_int_equal(skiff_close(so[i]), 0);
	assert_int_equal(t->n_conns, live);
	assert_int_equal(t->n_conn_free, TCP_CONN_CACHE);
	raw = tcp_conn_obj_get(st);
	assert_non_null(raw);
	assert_int_equal(t->n_conn_free, TCP_CONN_CACHE - 1);
	for (i = 0; i < sizeof(struct tcp_sock); i++)
		assert_int_equal(raw[i], 0);
	free(raw);
	/* a connection on reused objects carries data both ways */
	pair_open(ts, &p, PORT);
	transfer(ts, p.a, p.b, 100000, 30 * SEC);
	pair_close(&p);
}

/* Route lookups and reuses counted for skiffctl routes, all routes. */
static uint64_t route_uses_total(struct stack *st)
{
	struct route_info ri[ROUTE_MAX_ENTRIES];
	uint64_t n = 0;
	int i, k = ip_route_dump(st, ri, ROUTE_MAX_ENTRIES);

	for (i = 0; i < k; i++)
		n += ri[i].uses;
	return n;
}

/*
 * A connection keeps its IPv4 route for the next segment: the kept route
 * is the lookup's answer, segments use it (a planted slot is what they
 * count), every segment still counts one use of its route (skiffctl
 * routes), and a kept route for another destination is looked up again.
 */
static void a_connection_keeps_its_route_and_each_segment_counts_a_use(void **state)
{
	struct twostack *ts = *state;
	struct stack *st = twostack_stack(ts, TS_A);
	struct pair p = {0};
	struct tcp_sock *tp;
	struct rtable rt;
	uint64_t segs, uses;

	pair_open(ts, &p, PORT);
	tp = (struct tcp_sock *)conn_of(ts, TS_A, p.aport, PORT);
	assert_non_null(tp);
	assert_true(tp->rt_daddr != 0);
	assert_int_equal(ip_route_output(st, tp->rt_daddr, tp->sk.saddr6.w[3], &rt), 0);
	assert_int_equal(tp->rt_nexthop, rt.nexthop);
	assert_int_equal(tp->rt_slot, rt.slot);
	segs = st->stats->tcp_out_segs;
	uses = route_uses_total(st);
	transfer(ts, p.a, p.b, 200000, 30 * SEC);
	assert_true(st->stats->tcp_out_segs > segs + 100);
	assert_int_equal(route_uses_total(st) - uses, st->stats->tcp_out_segs - segs);
	/* the kept slot is the one counted: no lookup per segment */
	assert_true(rt.slot < ROUTE_SLOTS - 1);
	tp->rt_slot = ROUTE_SLOTS; /* counts nowhere */
	uses = route_uses_total(st);
	transfer(ts, p.a, p.b, 20000, 30 * SEC);
	assert_int_equal(route_uses_total(st), uses);
	/* kept for another destination: looked up again */
	tp->rt_daddr ^= htonl(1);
	tp->rt_nexthop = 0;
	transfer(ts, p.a, p.b, 10000, 30 * SEC);
	assert_int_equal(tp->rt_daddr, rt.daddr);
	assert_int_equal(tp->rt_nexthop, rt.nexthop);
	assert_int_equal(tp->rt_slot, rt.slot);
	pair_close(&p);
}

static void tail_loss_is_recovered_by_a_probe_in_about_two_rtts(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 10 * MS};
	const uint64_t rtt = 20 * MS;
	const struct skiff_ustats *u = twostack_stack(ts, TS_A)->stats;
	struct pair p = {0};
	struct trace *tr;
	uint64_t t[4], rtos, probes, first = UINT64_MAX, last = 0, last_ack = 0;
	struct tcp_conn_info info;
	size_t k;
	int i;

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	transfer(ts, p.a, p.b, 100000, 30 * SEC); /* SRTT known */
	twostack_run(ts, 100 * MS, NULL, NULL);
	info_of(ts, TS_A, p.aport, PORT, &info);
	rtos = u->tcp_rto;
	probes = u->tcp_tlp_probes;
	tr = trace_on(ts);
	for (i = 0; i < 3; i++)
		tr->drop_nth[TS_A][i] = 28 + (uint32_t)i; /* of 30 full segments */
	tr->n_drop_nth[TS_A] = 3;
	transfer(ts, p.a, p.b, 30 * 1448, 30 * SEC);
	assert_int_equal(tr->n_drop_seq, 3);
	assert_true(tr->drop_seq[2] + 1448 == tr->max_end[TS_A]); /* the tail */
	for (i = 0; i < 3; i++) {
		assert_int_equal(trace_times(tr, TS_A, tr->drop_seq[i], t, 4), 2);
		if (t[1] < first)
			first = t[1];
		if (t[1] > last)
			last = t[1];
	}
	/* the last ACK A got before the probe (sent by B one delay earlier) */
	for (k = 0; k < tr->n; k++)
		if (tr->r[k].from == TS_B && tr->r[k].t + 10 * MS <= first)
			last_ack = tr->r[k].t + 10 * MS;
	print_message("tail of 3 lost: probe %.1f ms after the last ACK (SRTT %.1f ms), all "
		      "resent %.1f ms after the tail left, %llu probe(s)\n",
		      (double)(first - last_ack) / 1e6, (double)info.srtt_us / 1e3,
		      (double)(last - tr->drop_t[0]) / 1e6,
		      (unsigned long long)(u->tcp_tlp_probes - probes));
	/* PTO = 2 SRTT (the SRTT holds some delayed ACKs: above 20 ms) */
	assert_true(first - last_ack <= 2 * (uint64_t)info.srtt_us * 1000 + 2 * MS);
	assert_true(first - last_ack <= 3 * rtt);
	assert_true(last - tr->drop_t[0] < TCP_RTO_MIN_NS);
	assert_int_equal(u->tcp_rto, rtos);
	assert_true(u->tcp_tlp_probes >= probes + 1);
	pair_close(&p);
	trace_free(tr);
}

/*
 * PRR (RFC 6937): sixteen segments in a row lost, so the data in flight
 * falls far below ssthresh once they are found lost.  RFC 6675 would send
 * the difference at once (cwnd = ssthresh); PRR's slow start reduction
 * bound lets each ACK send what it reported delivered plus one segment:
 * the instant recovery begins sends no more than that, the flight then at
 * most doubles from one round to the next, and when recovery ends it is
 * ssthresh within two segments, so leaving it (cwnd = ssthresh) sends no
 * burst either.
 */
#define PRR_INSTANTS 64

struct prr_instant {
	int64_t sent, delivered, acks; /* bytes sent, bytes delivered, ACKs got */
	uint32_t pipe;		       /* at its end */
};

struct prr_watch {
	struct xfer x;
	struct twostack *ts;
	uint16_t aport;
	bool in_rec, rec_in_instant;
	int recoveries, n;
	struct prr_instant in[PRR_INSTANTS]; /* the instants of the recovery, with ACKs */
	uint64_t t, sent, acks; /* the current instant; A's frames sent, ACKs got, when it began */
	int64_t delivered;	/* bytes delivered since it began */
	uint32_t mark;		/* SND.UNA + bytes SACKed, at the last look */
	uint32_t pipe, ssthresh, pipe_at_end, mss;
};

/* The ACKs the link delivers at t are processed, and what they allow
 * sent, in the loop turns at t. */
static bool cond_prr(void *arg)
{
	struct prr_watch *w = arg;
	const struct tcp_sock *tp = conn_of(w->ts, TS_A, w->aport, PORT);
	uint64_t sent = w->ts->dir[TS_A].c.sent, acks = w->ts->dir[TS_B].c.delivered;
	uint64_t now = clock_now();
	uint32_t mark;

	xfer_pump(&w->x);
	if (!tp)
		return xfer_finished(&w->x);
	if (now != w->t) {
		if (w->rec_in_instant && w->in_rec && acks != w->acks && w->n < PRR_INSTANTS) {
			struct prr_instant *i = &w->in[w->n++];

			i->sent = (int64_t)(sent - w->sent) * w->mss;
			i->delivered = w->delivered;
			i->acks = (int64_t)(acks - w->acks);
			i->pipe = w->pipe;
		}
		w->t = now;
		w->sent = sent;
		w->acks = acks;
		w->delivered = 0;
		w->rec_in_instant = w->in_rec;
	}
	mark = tp->snd_una + tcp_sacked_bytes(tp);
	if (w->mark)
		w->delivered += (int32_t)(mark - w->mark);
	w->mark = mark;
	if (tp->ca_state == TCP_CA_RECOVERY) {
		if (!w->in_rec) {
			w->in_rec = true;
			w->rec_in_instant = true;
			w->recoveries++;
		}
		w->pipe = tcp_in_flight(tp);
		w->ssthresh = tp->cc.ssthresh;
		w->mss = tcp_send_mss(tp);
	} else if (w->in_rec) {
		w->in_rec = false;
		w->pipe_at_end = w->pipe;
	}
	return xfer_finished(&w->x);
}

static void prr_brings_the_flight_down_to_ssthresh_without_bursts(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 10 * MS};
	struct prr_watch w = {.ts = ts};
	struct pair p = {0};
	struct trace *tr;
	int i;

	twostack_set_impair2(ts, &imp);
	pair_open(ts, &p, PORT);
	tr = trace_on(ts);
	for (i = 0; i < TR_MAX_DROPS; i++)
		tr->drop_nth[TS_A][i] = 60 + (uint32_t)i;
	tr->n_drop_nth[TS_A] = TR_MAX_DROPS;
	w.aport = p.aport;
	w.x = (struct xfer){.tx = p.a, .rx = p.b, .total = 1 << 20, .base = 5};
	assert_true(twostack_run(ts, 30 * SEC, cond_prr, &w));
	assert_int_equal(w.x.err, 0);
	for (i = 0; i < w.n; i++)
		print_message("PRR: %d: sent %lld delivered %lld by %lld ACKs, flight %u\n", i,
			      (long long)w.in[i].sent, (long long)w.in[i].delivered,
			      (long long)w.in[i].acks, w.in[i].pipe);
	print_message("PRR: flight %u when recovery ended, ssthresh %u\n", w.pipe_at_end,
		      w.ssthresh);
	assert_int_equal(w.recoveries, 1);
	assert_true(w.n >= 2);
	/* entering recovery: delivered + one segment per ACK, no burst */
	assert_true(w.in[0].sent <= w.in[0].delivered + w.in[0].acks * w.mss);
	assert_true(w.in[0].pipe + 4 * w.mss < w.ssthresh);
	/* then the flight at most doubles per round towards ssthresh */
	for (i = 1; i < w.n; i++)
		assert_true(w.in[i].pipe <= 2 * w.in[i - 1].pipe + w.mss);
	assert_true(w.pipe_at_end + 2 * w.mss >= w.ssthresh);
	assert_true(w.pipe_at_end <= w.ssthresh + 2 * w.mss);
	pair_close(&p);
	trace_free(tr);
}

/* ================================================================ ECN (RFC 3168) */

/*
 * A filter that watches the ECN bits both ways and marks three in a row of
 * every mark_every of A's ECN-capable data frames Congestion Experienced
 * (as a router's AQM would, RFC 3168 5), fixing the IP checksum.
 */
struct ecn_watch {
	uint32_t mark_every;
	int drop_syns;			 /* drop this many of A's SYNs */
	uint8_t syn_flags, synack_flags; /* the TCP flags of the handshake */
	uint32_t a_data, a_ect, a_acks_ect, marked;
	uint32_t a_cwr, b_ece;	 /* A's segments with CWR, B's with ECE */
	bool b_last_ece;	 /* the last of B's segments had ECE */
	uint64_t t_first_mark;
};

static uint16_t ecn_ip_csum(const uint8_t *iph, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)iph[i] << 8 | iph[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int ecn_filter(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	struct ecn_watch *w = arg;
	uint8_t *iph = frame + 14;
	struct ts_tcp t;
	uint16_t c;

	(void)ts;
	if (!ts_tcp_parse(frame, *len, &t))
		return TS_PASS;
	if ((t.flags & TCPF_SYN) && !(t.flags & TCPF_ACK)) {
		w->syn_flags = t.flags;
		if (w->drop_syns > 0) {
			w->drop_syns--;
			return TS_DROP;
		}
	}
	if ((t.flags & TCPF_SYN) && (t.flags & TCPF_ACK))
		w->synack_flags = t.flags;
	if (from == TS_B) {
		if (t.flags & TCPF_ECE)
			w->b_ece++;
		w->b_last_ece = (t.flags & TCPF_ECE) != 0;
		return TS_PASS;
	}
	if (t.flags & TCPF_CWR)
		w->a_cwr++;
	if (!t.len) {
		if ((iph[1] & TCP_IP_CE) && !(t.flags & TCPF_SYN))
			w->a_acks_ect++;
		return TS_PASS;
	}
	w->a_data++;
	if ((iph[1] & TCP_IP_CE) != TCP_IP_ECT0)
		return TS_PASS;
	w->a_ect++;
	if (w->mark_every && w->a_ect % w->mark_every < 3) {
		iph[1] |= TCP_IP_CE;
		iph[10] = iph[11] = 0;
		c = ecn_ip_csum(iph, (size_t)(iph[0] & 0xf) * 4);
		iph[10] = (uint8_t)(c >> 8);
		iph[11] = (uint8_t)c;
		if (!w->marked++)
			w->t_first_mark = clock_now();
	}
	return TS_PASS;
}

/*
 * A asks for ECN (SKIFF_TCP_ECN 1), B accepts (the default): the SYN has ECE
 * and CWR, the SYN-ACK ECE alone.  A's new data is ECT(0), its pure ACKs
 * are not.  Three frames in a row of every 150 marked CE on the way: B
 * echoes ECE until A's CWR, A reduces cwnd once for the three (once per
 * window) and retransmits nothing (a mark is no loss), and the transfer is
 * intact.
 */
static void ecn_marks_reduce_the_window_once_per_window_without_retransmitting(void **state)
{
	struct twostack *ts = *state;
	struct ts_impair imp = {.delay_ns = 10 * MS};
	struct ecn_watch w = {.mark_every = 150};
	const struct skiff_ustats *ua = twostack_stack(ts, TS_A)->stats;
	const struct skiff_ustats *ub = twostack_stack(ts, TS_B)->stats;
	const struct tcp_sock *ta, *tb;
	struct pair p = {0};
	int val = 0;

	twostack_set_impair2(ts, &imp);
	twostack_set_filter(ts, ecn_filter, &w);
	pair_listen(ts, &p, PORT, 16);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_ECN, 3), -EINVAL);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_ECN, 1), 0);
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_TCP_ECN, &val), 0);
	assert_int_equal(val, 1);
	pair_connect(ts, &p, 10 * SEC);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_ECN, 0), -EISCONN);
	assert_int_equal(w.syn_flags & (TCPF_ECE | TCPF_CWR), TCPF_ECE | TCPF_CWR);
	assert_int_equal(w.synack_flags & (TCPF_ECE | TCPF_CWR), TCPF_ECE);
	ta = conn_of(ts, TS_A, p.aport, PORT);
	tb = conn_of(ts, TS_B, PORT, p.aport);
	assert_true(ta && ta->ecn_ok && tb && tb->ecn_ok);

	transfer(ts, p.a, p.b, 4 << 20, 60 * SEC);
	twostack_run(ts, 100 * MS, NULL, NULL);
	print_message("ECN: %u data frames, %u ECT(0), %u marked CE; B echoed %u, A sent %u CWR, "
		      "%llu reductions, %llu retransmitted\n",
		      w.a_data, w.a_ect, w.marked, w.b_ece, w.a_cwr,
		      (unsigned long long)ua->tcp_ecn_reductions,
		      (unsigned long long)ua->tcp_retrans_segs);
	assert_int_equal(w.a_ect, w.a_data);	/* all new data, nothing resent */
	assert_int_equal(w.a_acks_ect, 0);
	assert_true(w.marked >= 30);
	assert_int_equal(ub->tcp_ecn_ce_rx, w.marked);
	assert_true(w.b_ece >= w.marked);
	assert_true(ua->tcp_ecn_reductions >= 5 && ua->tcp_ecn_reductions <= w.marked / 3 + 1);
	assert_true(w.a_cwr >= ua->tcp_ecn_reductions);
	assert_false(w.b_last_ece);	/* CWR ended the echo */
	assert_int_equal(ua->tcp_retrans_segs, 0);
	assert_int_equal(ua->tcp_sack_recovery + ua->tcp_rto, 0);
	twostack_set_filter(ts, NULL, NULL);
	pair_close(&p);
}

/* RFC 3168 6.1.1.1: the ECN-setup SYN lost (a middlebox may drop them),
 * the SYN sent again does not ask, and the connection goes without ECN. */
static void a_resent_syn_does_not_ask_for_ecn(void **state)
{
	struct twostack *ts = *state;
	struct ecn_watch w = {.drop_syns = 1};
	const struct tcp_sock *ta;
	struct pair p = {0};

	twostack_set_filter(ts, ecn_filter, &w);
	pair_listen(ts, &p, PORT, 16);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_ECN, 1), 0);
	pair_connect(ts, &p, 10 * SEC);
	assert_int_equal(w.syn_flags & (TCPF_ECE | TCPF_CWR), 0); /* the second SYN */
	assert_int_equal(w.synack_flags & (TCPF_ECE | TCPF_CWR), 0);
	ta = conn_of(ts, TS_A, p.aport, PORT);
	assert_true(ta && !ta->ecn_ok);
	transfer(ts, p.a, p.b, 100000, 10 * SEC);
	assert_int_equal(w.a_ect, 0);
	twostack_set_filter(ts, NULL, NULL);
	pair_close(&p);
}

/* Neither side asking (both at the default, accept only): no ECN-setup
 * SYN, nothing ECT, and a CE mark (a broken router's) changes nothing. */
static void ecn_is_off_unless_one_side_asks(void **state)
{
	struct twostack *ts = *state;
	struct ecn_watch w = {.mark_every = 0};
	const struct tcp_sock *ta;
	struct pair p = {0};

	twostack_set_filter(ts, ecn_filter, &w);
	pair_open(ts, &p, PORT);
	assert_int_equal(w.syn_flags & (TCPF_ECE | TCPF_CWR), 0);
	assert_int_equal(w.synack_flags & (TCPF_ECE | TCPF_CWR), 0);
	ta = conn_of(ts, TS_A, p.aport, PORT);
	assert_true(ta && !ta->ecn_ok);
	transfer(ts, p.a, p.b, 1 << 20, 60 * SEC);
	assert_true(w.a_data > 100);
	assert_int_equal(w.a_ect, 0);
	assert_int_equal(w.b_ece + w.a_cwr, 0);
	twostack_set_filter(ts, NULL, NULL);
	pair_close(&p);
}

/* ================================================================ D-SACK undo (RFC 3708) */

/*
 * A filter on A's frames: it can take the timestamps option out of A's SYN
 * (neither end then uses timestamps, RFC 7323 3.2), hold back A's
 * hold_idx-th data segment until A retransmits it (reordering: the original
 * reaches B just before the retransmission), lose the lose_idx-th for good,
 * and deliver the dup_idx-th twice.  Data segments are counted by their
 * first transmission (1-based; 0: none).  hold_end: hold back the segment
 * that ends hold_end bytes into the stream instead (the last one: no
 * duplicate ACKs follow it, only the RTO resends it).
 */
struct dsack_filter {
	bool strip_ts;
	uint32_t hold_idx, lose_idx, dup_idx, hold_end;
	uint32_t n_data, high; /* first transmissions seen, highest end sent */
	uint32_t first_seq;    /* of the first data byte */
	bool holding, released;
	uint32_t held_seq, held_len;
	uint8_t held[2048];
	/* A's congestion state when it retransmitted the held segment */
	uint32_t pre_cwnd, pre_ssthresh, cut_ssthresh;
};

/* One's complement sum of n (even) bytes, as 16-bit big-endian words. */
static uint32_t dsack_sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	return s;
}

/* Replace the timestamps option of a SYN by NOPs, checksum fixed (RFC 1624). */
static void dsack_strip_ts(struct ts_tcp *t)
{
	uint8_t *opt = t->tcph + 20, old[40];
	size_t olen = t->doff - 20u, i = 0;
	uint32_t sum;
	uint16_t csum;

	memcpy(old, opt, olen);
	while (i < olen && opt[i] != 0) {
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= olen || opt[i + 1] < 2)
			break;
		if (opt[i] == 8 && opt[i + 1] == 10)
			memset(opt + i, 1, 10);
		i += opt[i + 1];
	}
	csum = (uint16_t)(t->tcph[16] << 8 | t->tcph[17]);
	sum = (uint16_t)~csum + (0xffffu * (olen / 2) - dsack_sum16(old, olen)) +
	      dsack_sum16(opt, olen);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	t->tcph[16] = (uint8_t)(csum >> 8);
	t->tcph[17] = (uint8_t)csum;
}

static int dsack_filter_fn(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	struct dsack_filter *f = arg;
	struct ts_tcp t;

	if (from != TS_A || !ts_tcp_parse(frame, *len, &t))
		return TS_PASS;
	if ((t.flags & 0x02) && f->strip_ts)
		dsack_strip_ts(&t);
	if (!t.len)
		return TS_PASS;
	if (f->holding && t.seq == f->held_seq) {
		/* the retransmission: the original overtakes it */
		const struct tcp_sock *tp = conn_of(ts, TS_A, t.sport, t.dport);

		assert_non_null(tp);
		f->pre_cwnd = tp->rcvy->undo_cc.cwnd;
		f->pre_ssthresh = tp->rcvy->undo_cc.ssthresh;
		f->cut_ssthresh = tp->cc.ssthresh;
		assert_int_equal(twostack_inject(ts, TS_B, f->held, f->held_len), 0);
		f->holding = false;
		f->released = true;
		return TS_PASS;
	}
	if (f->n_data && !tcp_after(t.seq + t.len, f->high))
		return TS_PASS; /* a retransmission */
	f->high = t.seq + t.len;
	if (!f->n_data++)
		f->first_seq = t.seq;
	if (f->n_data == f->hold_idx || (f->hold_end && f->high - f->first_seq == f->hold_end)) {
		assert_true(*len <= sizeof(f->held));
		memcpy(f->held, frame, *len);
		f->held_len = *len;
		f->held_seq = t.seq;
		f->holding = true;
		return TS_DROP;
	}
	if (f->n_data == f->lose_idx) {
		const struct tcp_sock *tp = conn_of(ts, TS_A, t.sport, t.dport);

		assert_non_null(tp);
		f->pre_ssthresh = tp->cc.ssthresh;
		return TS_DROP;
	}
	if (f->n_data == f->dup_idx)
		assert_int_equal(twostack_inject(ts, TS_B, frame, *len), 0);
	return TS_PASS;
}

struct dsack_result {
	struct skiff_ustats a;		/* A's counters after the transfer */
	uint32_t cwnd, ssthresh;	/* A's congestion state after it */
	bool ts_ok, sack_ok;
};

/* 512 KiB A -> B over 5 ms each way through the filter f. */
static void dsack_transfer(struct dsack_filter *f, struct dsack_result *r)
{
	struct ts_impair imp = {.delay_ns = 5 * MS};
	struct twostack *ts = ts_new(11);
	const struct tcp_sock *tp;
	struct pair p = {0};
	struct xfer ab;

	twostack_set_impair2(ts, &imp);
	twostack_set_filter(ts, dsack_filter_fn, f);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	pair_connect(ts, &p, 10 * SEC);
	ab = (struct xfer){.tx = p.a, .rx = p.b, .total = 512 << 10, .base = 5, .shut = true};
	assert_true(twostack_run(ts, 60 * SEC, cond_xfer, &ab));
	assert_int_equal(ab.err, 0);
	assert_true(ab.rcvd == 512 << 10 && ab.eof);
	/* the last D-SACKs and ACKs settle */
	twostack_run(ts, 1 * SEC, NULL, NULL);
	tp = conn_of(ts, TS_A, p.aport, PORT);
	assert_non_null(tp);
	r->a = *twostack_stack(ts, TS_A)->stats;
	r->cwnd = tp->cc.cwnd;
	r->ssthresh = tp->cc.ssthresh;
	r->ts_ok = tp->ts_ok;
	r->sack_ok = tp->sack_ok;
	pair_close(&p);
	ts_free(ts);
}

/*
 * Timestamps off on both ends, so Eifel cannot tell: one segment overtaken
 * by three later ones makes A fast-retransmit it; B then gets it twice and
 * reports the second copy as a D-SACK (RFC 2883).  The episode's only
 * retransmission was a duplicate: A undoes the window reduction (RFC 3708)
 * and cwnd/ssthresh are back to what they were before it.
 */
static void spurious_fast_retransmit_without_timestamps_is_undone_by_dsack(void **state)
{
	struct dsack_filter f = {.strip_ts = true, .hold_idx = 40};
	struct dsack_result r;

	(void)state;
	dsack_transfer(&f, &r);
	assert_false(r.ts_ok);
	assert_true(r.sack_ok);
	assert_true(f.released);
	assert_int_equal(r.a.tcp_sack_recovery, 1);
	assert_int_equal(r.a.tcp_retrans_segs, 1);
	assert_true(f.cut_ssthresh < f.pre_cwnd); /* the episode did cut the window */
	assert_int_equal(r.a.tcp_dsack_undo, 1);
	assert_int_equal(r.a.tcp_undo, 1);
	assert_int_equal(r.a.tcp_spurious_rtx, 1);
	assert_int_equal(r.ssthresh, f.pre_ssthresh);
	assert_true(r.cwnd >= f.pre_cwnd);
}

/*
 * Timestamps off: a segment really lost, and a later one duplicated by the
 * network, which B reports with a D-SACK during the recovery.  That copy
 * was never retransmitted: it says nothing about the retransmission, and
 * the reduction stands.
 */
static void dsack_for_a_segment_never_retransmitted_does_not_undo_a_real_loss(void **state)
{
	struct dsack_filter f = {.strip_ts = true, .lose_idx = 40, .dup_idx = 46};
	struct dsack_result r;

	(void)state;
	dsack_transfer(&f, &r);
	assert_false(r.ts_ok);
	assert_int_equal(r.a.tcp_sack_recovery, 1);
	assert_int_equal(r.a.tcp_retrans_segs, 1);
	assert_int_equal(r.a.tcp_dsack_undo, 0);
	assert_int_equal(r.a.tcp_undo, 0);
	assert_int_equal(r.a.tcp_spurious_rtx, 0);
	assert_true(r.ssthresh < f.pre_ssthresh);
}

/*
 * Timestamps off: the last data segment is held back past the RTO, so A
 * times out and resends it; the original overtakes the retransmission,
 * which B reports as a D-SACK.  The RTO was spurious: undone (RFC 3708
 * with the RFC 4015 response).
 */
static void spurious_rto_without_timestamps_is_undone_by_dsack(void **state)
{
	struct dsack_filter f = {.strip_ts = true, .hold_end = 512 << 10};
	struct dsack_result r;

	(void)state;
	dsack_transfer(&f, &r);
	assert_false(r.ts_ok);
	assert_true(f.released);
	assert_int_equal(r.a.tcp_rto, 1);
	assert_int_equal(r.a.tcp_sack_recovery, 0);
	assert_int_equal(r.a.tcp_retrans_segs, 1);
	assert_int_equal(r.a.tcp_dsack_undo, 1);
	assert_int_equal(r.a.tcp_undo, 1);
	assert_int_equal(r.a.tcp_spurious_rtx, 1);
	assert_int_equal(r.ssthresh, f.pre_ssthresh);
	assert_true(r.cwnd >= f.pre_cwnd);
}

/*
 * Timestamps on: the same reordering is found spurious by Eifel on the ACK
 * of the original, and the D-SACK that follows must not undo again.
 */
static void spurious_fast_retransmit_with_timestamps_is_undone_once(void **state)
{
	struct dsack_filter f = {.hold_idx = 40};
	struct dsack_result r;

	(void)state;
	dsack_transfer(&f, &r);
	assert_true(r.ts_ok && r.sack_ok);
	assert_true(f.released);
	assert_int_equal(r.a.tcp_sack_recovery, 1);
	assert_int_equal(r.a.tcp_retrans_segs, 1);
	assert_int_equal(r.a.tcp_undo, 1);
	assert_int_equal(r.a.tcp_spurious_rtx, 1);
	assert_int_equal(r.a.tcp_dsack_undo, 0);
	assert_int_equal(r.ssthresh, f.pre_ssthresh);
}

static uint64_t seed1 = 1, seed2 = 2, seed3 = 3;

/* ================================================================ shared buffer pool */

/* Send from so until it refuses; bytes taken. */
static size_t send_until_refused(struct socket *so)
{
	static uint8_t junk[4096];
	size_t total = 0;
	ssize_t r;

	while ((r = skiff_send(so, junk, sizeof(junk))) > 0)
		total += (size_t)r;
	assert_int_equal(r, -EAGAIN);
	return total;
}

static bool cond_out(void *arg)
{
	return ((struct ev *)arg)->seen & SOCK_EV_OUT;
}

/*
 * B's chunk pool is shared by its connections: one connection whose reader
 * stopped can take all of it, and then a send on another one, with nothing
 * in flight of its own, is refused.  Readiness is edge-triggered, so that
 * connection must be woken when chunks are free again, though no ACK of its
 * own will ever come.
 */
static void send_refused_for_an_empty_pool_is_woken_when_chunks_free_up(void **state)
{
	struct twostack *ts = *state;
	struct stack *sb = twostack_stack(ts, TS_B);
	struct pair p1 = {0}, p2 = {0};
	uint8_t buf[4096];
	ssize_t r;

	pair_listen(ts, &p1, PORT, 8);
	pair_socket_a(ts, &p1);
	assert_int_equal(skiff_setsockopt(p1.a, SKIFF_SO_RCVBUF, 8192), 0);
	pair_connect(ts, &p1, 1 * SEC);
	pair_open(ts, &p2, PORT + 1);
	assert_int_equal(tcp_set_chunk_limit(sb, 8), 0); /* 16 KiB for all of B */

	/* p1: A stops reading, B fills its window and then the whole pool */
	assert_true(send_until_refused(p1.b) > 0);
	twostack_run(ts, 2 * SEC, NULL, NULL);
	send_until_refused(p1.b);
	twostack_run(ts, 2 * SEC, NULL, NULL);
	assert_int_equal(tcp_chunk_pool_in_use(tcp_chunks(sb)), 8);

	/* p2 has nothing in flight and is refused: no chunk for it */
	p2.eb.seen = 0;
	assert_int_equal(skiff_send(p2.b, "x", 1), -EAGAIN);
	assert_true(sb->stats->tcp_chunk_waits >= 1);
	assert_false(twostack_run(ts, 5 * SEC, cond_out, &p2.eb));

	/* A reads: p1's data is acknowledged, its chunks come back, p2 wakes */
	while ((r = skiff_recv(p1.a, buf, sizeof(buf))) > 0)
		;
	assert_true(twostack_run(ts, 5 * SEC, cond_out, &p2.eb));
	assert_int_equal(skiff_send(p2.b, "x", 1), 1);

	pair_close(&p1);
	pair_close(&p2);
}

/* ================================================================ send buffer autotuning */

enum sndbuf_how {
	SNDBUF_AUTO,	 /* the application never sets SKIFF_SO_SNDBUF */
	SNDBUF_SOCKET,	 /* set on the sending socket */
	SNDBUF_LISTENER, /* set on the listener, inherited by the accepted socket */
	SNDBUF_MIN,	 /* SKIFF_SO_SNDBUF_MIN on the sending socket */
};

struct sndbuf_watch {
	struct xfer x;
	uint32_t min, max; /* getsockopt(SKIFF_SO_SNDBUF) over the transfer */
};

static bool cond_sndbuf_watch(void *arg)
{
	struct sndbuf_watch *w = arg;
	int v = 0;

	xfer_pump(&w->x);
	assert_int_equal(skiff_getsockopt(w->x.tx, SKIFF_SO_SNDBUF, &v), 0);
	assert_true(v > 0);
	if ((uint32_t)v < w->min)
		w->min = (uint32_t)v;
	if ((uint32_t)v > w->max)
		w->max = (uint32_t)v;
	return xfer_finished(&w->x);
}

/*
 * B (the accepted socket) sends mib MiB to A over a 20 ms RTT link with no
 * bandwidth limit, A's receive buffer large enough (16 MiB) that only B's
 * send buffer and cwnd limit the flight.  chunk_limit: B's chunk pool
 * limit (0: the default).  Returns the simulated time of the transfer and
 * the smallest and largest send buffer B's socket reported during it.
 */
static uint64_t sndbuf_transfer(enum sndbuf_how how, int val, uint32_t mib, uint32_t chunk_limit,
				uint32_t *min, uint32_t *max)
{
	struct ts_impair imp = {.delay_ns = 10 * MS};
	struct twostack *ts = ts_new(7);
	struct sndbuf_watch w = {.min = UINT32_MAX};
	struct pair p = {0};
	uint64_t t0;
	int v = 0;

	twostack_set_impair2(ts, &imp);
	if (chunk_limit)
		assert_int_equal(tcp_set_chunk_limit(twostack_stack(ts, TS_B), chunk_limit), 0);
	pair_listen(ts, &p, PORT, 8);
	if (how == SNDBUF_LISTENER)
		assert_int_equal(skiff_setsockopt(p.lst, SKIFF_SO_SNDBUF, val), 0);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_RCVBUF, 16 << 20), 0);
	pair_connect(ts, &p, 10 * SEC);
	if (how == SNDBUF_SOCKET)
		assert_int_equal(skiff_setsockopt(p.b, SKIFF_SO_SNDBUF, val), 0);
	if (how == SNDBUF_MIN)
		assert_int_equal(skiff_setsockopt(p.b, SKIFF_SO_SNDBUF_MIN, val), 0);
	assert_int_equal(skiff_getsockopt(p.b, SKIFF_SO_SNDBUF, &v), 0);
	assert_int_equal(v, how == SNDBUF_AUTO ? (int)TCP_DEFAULT_SNDBUF : val);

	w.x = (struct xfer){.tx = p.b, .rx = p.a, .total = (uint64_t)mib << 20, .base = 5};
	t0 = clock_now();
	assert_true(twostack_run(ts, 600 * SEC, cond_sndbuf_watch, &w));
	assert_int_equal(w.x.err, 0);
	assert_true(w.x.rcvd == w.x.total);
	*min = w.min;
	*max = w.max;
	pair_close(&p);
	ts_free(ts);
	return w.x.t_done - t0;
}

/*
 * Without SKIFF_SO_SNDBUF the send buffer grows past the default when it,
 * not cwnd, limits the flight (as Linux's tcp_sndbuf_expand()), up to
 * TCP_SNDBUF_AUTO_MAX, and the transfer takes less simulated time than with
 * the default size set explicitly, which locks it.
 */
static void sndbuf_grows_without_so_sndbuf_and_the_transfer_is_faster(void **state)
{
	uint32_t amin, amax, lmin, lmax;
	uint64_t t_auto, t_locked;

	(void)state;
	t_auto = sndbuf_transfer(SNDBUF_AUTO, 0, 32, 0, &amin, &amax);
	t_locked = sndbuf_transfer(SNDBUF_SOCKET, (int)TCP_DEFAULT_SNDBUF, 32, 0, &lmin, &lmax);
	print_message("32 MiB at 20 ms RTT: autotuned %.3f s simulated (sndbuf up to %u), "
		      "SO_SNDBUF %u: %.3f s\n",
		      (double)t_auto / 1e9, amax, TCP_DEFAULT_SNDBUF, (double)t_locked / 1e9);
	assert_int_equal(amin, TCP_DEFAULT_SNDBUF);	/* never below the default */
	assert_true(amax > TCP_DEFAULT_SNDBUF);
	assert_true(amax <= TCP_SNDBUF_AUTO_MAX);
	assert_int_equal(lmin, TCP_DEFAULT_SNDBUF);
	assert_int_equal(lmax, TCP_DEFAULT_SNDBUF);
	assert_true(t_auto < t_locked);
}

/* SKIFF_SO_SNDBUF_MIN (what skiffd's HTTP server sets for a file body)
 * raises the send buffer and leaves autotuning on: it grows past the
 * floor as without it; a smaller floor later changes nothing. */
static void sndbuf_min_is_a_floor_autotuning_grows_past(void **state)
{
	const int floor = 512 * 1024;
	uint32_t min, max;
	struct twostack *ts;
	struct pair p = {0};
	int v = 0;

	(void)state;
	sndbuf_transfer(SNDBUF_MIN, floor, 32, 0, &min, &max);
	print_message("SKIFF_SO_SNDBUF_MIN %d: sndbuf %u..%u\n", floor, min, max);
	assert_int_equal(min, floor);
	assert_true(max > (uint32_t)floor && max <= TCP_SNDBUF_AUTO_MAX);

	ts = ts_new(7);
	pair_open(ts, &p, PORT);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_SNDBUF_MIN, floor), 0);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_SNDBUF_MIN, 4096), 0);
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_SO_SNDBUF_MIN, &v), 0);
	assert_int_equal(v, floor);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_SNDBUF_MIN, 0), -EINVAL);
	assert_false(conn_of(ts, TS_A, p.aport, PORT)->sndbuf_locked);
	pair_close(&p);
	ts_free(ts);
}

/* SKIFF_SO_SNDBUF on the socket, or on the listener before the accept,
 * locks the size for the whole transfer. */
static void sndbuf_set_by_the_application_never_changes(void **state)
{
	uint32_t min, max;

	(void)state;
	sndbuf_transfer(SNDBUF_SOCKET, 100000, 8, 0, &min, &max);
	assert_int_equal(min, 100000);
	assert_int_equal(max, 100000);
	sndbuf_transfer(SNDBUF_LISTENER, 300000, 8, 0, &min, &max);
	assert_int_equal(min, 300000);
	assert_int_equal(max, 300000);
}

/* A smaller chunk pool caps the growth at 1/TCP_SNDBUF_POOL_SHARE of its
 * limit: one connection never takes the pool its worker shares. */
static void sndbuf_growth_is_capped_by_a_share_of_the_chunk_pool(void **state)
{
	uint32_t limit = 4096; /* 8 MiB of chunks: a share of 512 KiB */
	uint32_t share = limit * TCP_CHUNK_DATA / TCP_SNDBUF_POOL_SHARE;
	uint32_t min, max;

	(void)state;
	sndbuf_transfer(SNDBUF_AUTO, 0, 16, limit, &min, &max);
	assert_int_equal(min, TCP_DEFAULT_SNDBUF);
	assert_true(max > TCP_DEFAULT_SNDBUF);
	assert_true(max <= share);
}

/* ================================================================ receive buffer autotuning */

struct rcvbuf_watch {
	struct xfer x;
	uint32_t min, max; /* getsockopt(SKIFF_SO_RCVBUF) of the receiver */
};

static bool cond_rcvbuf_watch(void *arg)
{
	struct rcvbuf_watch *w = arg;
	int v = 0;

	xfer_pump(&w->x);
	assert_int_equal(skiff_getsockopt(w->x.rx, SKIFF_SO_RCVBUF, &v), 0);
	if ((uint32_t)v < w->min)
		w->min = (uint32_t)v;
	if ((uint32_t)v > w->max)
		w->max = (uint32_t)v;
	return xfer_finished(&w->x);
}

/*
 * B sends mib MiB to A over a 20 ms RTT link; B's send buffer is 16 MiB,
 * so A's receive window is what limits the flight.  rcvbuf: A's
 * SKIFF_SO_RCVBUF (0: never set, autotuned).  Returns the simulated time.
 */
static uint64_t rcvbuf_transfer(int rcvbuf, uint32_t mib, uint32_t *min, uint32_t *max,
				uint64_t *grown)
{
	struct ts_impair imp = {.delay_ns = 10 * MS};
	struct twostack *ts = ts_new(7);
	struct rcvbuf_watch w = {.min = UINT32_MAX};
	struct pair p = {0};
	uint64_t t0;

	twostack_set_impair2(ts, &imp);
	pair_listen(ts, &p, PORT, 8);
	assert_int_equal(skiff_setsockopt(p.lst, SKIFF_SO_SNDBUF, 16 << 20), 0);
	pair_socket_a(ts, &p);
	if (rcvbuf)
		assert_int_equal(skiff_setsockopt(p.a, SKIFF_SO_RCVBUF, rcvbuf), 0);
	pair_connect(ts, &p, 10 * SEC);
	w.x = (struct xfer){.tx = p.b, .rx = p.a, .total = (uint64_t)mib << 20, .base = 3};
	t0 = clock_now();
	assert_true(twostack_run(ts, 600 * SEC, cond_rcvbuf_watch, &w));
	assert_int_equal(w.x.err, 0);
	assert_true(w.x.rcvd == w.x.total);
	*min = w.min;
	*max = w.max;
	*grown = twostack_stack(ts, TS_A)->stats->tcp_rcvbuf_grown;
	pair_close(&p);
	ts_free(ts);
	return w.x.t_done - t0;
}

/*
 * Without SKIFF_SO_RCVBUF the receive buffer, and so the window, grows with
 * what the reader takes per RTT (as Linux's tcp_rcv_space_adjust), up to
 * TCP_RCVBUF_AUTO_MAX; with the default size set explicitly it never
 * changes, and the same transfer takes longer.
 */
static void rcvbuf_grows_without_so_rcvbuf_and_the_transfer_is_faster(void **state)
{
	uint32_t amin, amax, lmin, lmax;
	uint64_t t_auto, t_locked, g_auto, g_locked;

	(void)state;
	t_auto = rcvbuf_transfer(0, 32, &amin, &amax, &g_auto);
	t_locked = rcvbuf_transfer((int)TCP_DEFAULT_RCVBUF, 32, &lmin, &lmax, &g_locked);
	print_message("32 MiB at 20 ms RTT: rcvbuf autotuned %.3f s simulated (up to %u, grown "
		      "%llu times), SO_RCVBUF %u: %.3f s\n",
		      (double)t_auto / 1e9, amax, (unsigned long long)g_auto, TCP_DEFAULT_RCVBUF,
		      (double)t_locked / 1e9);
	assert_int_equal(amin, TCP_DEFAULT_RCVBUF); /* never below the default */
	assert_true(amax > TCP_DEFAULT_RCVBUF);
	assert_true(amax <= TCP_RCVBUF_AUTO_MAX);
	assert_true(g_auto > 0);
	assert_int_equal(lmin, TCP_DEFAULT_RCVBUF);
	assert_int_equal(lmax, TCP_DEFAULT_RCVBUF);
	assert_int_equal(g_locked, 0);
	assert_true(t_auto < t_locked);
}

/* ================================================================ BBR (draft-ietf-ccwg-bbr) */

#define BN_RATE (20ULL * 1000 * 1000) /* the bottleneck: 20 Mbit/s ... */
#define BN_DELAY (10 * MS)	      /* ... 20 ms round trip ... */
#define BN_QUEUE (64 * 1024)	      /* ... behind a queue of about one BDP */

/* A bulk transfer A -> B through the bottleneck with congestion control
 * cc (SKIFF_TCP_CONGESTION) and loss_pct random loss on the data path. */
struct bn_run {
	uint32_t loss_pct, reorder_pct;
	int cc;
	uint64_t bytes;
	uint64_t delay_after_ns;	/* 0, or the one-way delay ... */
	uint64_t delay_change_at;	/* ... from this long after the start */
	/* results */
	double ratio;			/* goodput / bottleneck rate */
	uint64_t retrans;
	bool saw_probe_rtt;
	double min_rtt_ms;		/* BBR's at the end */
	double bw_mbit;			/* ... and its bandwidth estimate */
	uint64_t queue_drops;		/* the bottleneck's */
	char cc_state[96];
};

struct bn_watch {
	struct xfer x;
	struct twostack *ts;
	struct bn_run *r;
	uint16_t aport;
	uint64_t t0;
};

static bool cond_bn(void *arg)
{
	struct bn_watch *w = arg;
	const struct tcp_sock *tp = conn_of(w->ts, TS_A, w->aport, PORT);
	struct tcp_conn_info info;

	if (tp && !tcp_get_info(&tp->sk, &info) && strstr(info.cc_state, "probe_rtt"))
		w->r->saw_probe_rtt = true;
	if (w->r->delay_after_ns && clock_now() - w->t0 >= w->r->delay_change_at) {
		struct ts_impair imp = w->ts->dir[TS_A].imp;

		imp.delay_ns = w->r->delay_after_ns;
		twostack_set_impair(w->ts, TS_A, &imp);
		imp = w->ts->dir[TS_B].imp;
		imp.delay_ns = w->r->delay_after_ns;
		twostack_set_impair(w->ts, TS_B, &imp);
		w->r->delay_after_ns = 0;
	}
	return cond_xfer(&w->x);
}

static void bn_transfer(uint64_t seed, struct bn_run *r)
{
	struct ts_impair data = {.rate_bps = BN_RATE, .queue_bytes = BN_QUEUE, .delay_ns = BN_DELAY,
				 .loss_pct = r->loss_pct, .reorder_pct = r->reorder_pct};
	struct ts_impair acks = {.delay_ns = BN_DELAY};
	struct twostack *ts = ts_new(seed);
	struct bn_watch w = {.ts = ts, .r = r};
	struct pair p = {0};
	struct tcp_conn_info info;
	const char *m;
	int v;

	twostack_set_impair(ts, TS_A, &data);
	twostack_set_impair(ts, TS_B, &acks);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_CONGESTION, r->cc), 0);
	assert_int_equal(skiff_getsockopt(p.a, SKIFF_TCP_CONGESTION, &v), 0);
	assert_int_equal(v, r->cc);
	pair_connect(ts, &p, 10 * SEC);
	w.aport = p.aport;
	w.x = (struct xfer){.tx = p.a, .rx = p.b, .total = r->bytes, .base = seed};
	w.t0 = clock_now();
	assert_true(twostack_run(ts, 10 * 60 * SEC, cond_bn, &w));
	assert_int_equal(w.x.err, 0);
	assert_true(w.x.rcvd == r->bytes);
	r->ratio = (double)r->bytes * 8 * SEC / (double)(clock_now() - w.t0) / (double)BN_RATE;
	info_of(ts, TS_A, p.aport, PORT, &info);
	r->retrans = info.retrans;
	snprintf(r->cc_state, sizeof(r->cc_state), "%s", info.cc_state);
	m = strstr(info.cc_state, "min_rtt ");
	r->min_rtt_ms = m ? strtod(m + 8, NULL) : 0;
	m = strstr(info.cc_state, " bw ");
	r->bw_mbit = m ? strtod(m + 4, NULL) : 0;
	r->queue_drops = ts->dir[TS_A].c.queue_drops;
	print_message("%s, %u%% loss, %u%% reordering: %.0f%% of the bottleneck, %llu "
		      "retransmitted, queue drops %llu; %s\n",
		      info.cc, r->loss_pct, r->reorder_pct, r->ratio * 100,
		      (unsigned long long)r->retrans,
		      (unsigned long long)ts->dir[TS_A].c.queue_drops, info.cc_state);
	pair_close(&p);
	ts_free(ts);
}

static void bbr_keeps_the_bottleneck_rate_under_random_loss_where_cubic_collapses(void **state)
{
	static const uint32_t losses[] = {1, 3};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct bn_run bbr = {.loss_pct = losses[i], .cc = 2, .bytes = 8 << 20};
		struct bn_run cubic = {.loss_pct = losses[i], .cc = 0, .bytes = 8 << 20};

		bn_transfer(7, &bbr);
		bn_transfer(7, &cubic);
		assert_true(bbr.ratio >= 0.8);
		assert_true(cubic.ratio < 0.6 && cubic.ratio < bbr.ratio * 0.75);
	}
}

static void bbr_does_not_take_reordering_for_congestion(void **state)
{
	struct bn_run bbr = {.reorder_pct = 25, .cc = 2, .bytes = 8 << 20};

	(void)state;
	bn_transfer(11, &bbr);
	/* RACK's reordering window keeps the late segments from being resent
	 * (what is, is mostly what the queue dropped when Startup overshot)
	 * and BBR's model from shrinking: it ends at the bottleneck's rate of
	 * payload (1448 of every 1514 bytes, 19.1 Mbit/s) */
	assert_true(bbr.ratio >= 0.8);
	assert_true(bbr.retrans <= bbr.queue_drops + 32);
	assert_true(bbr.bw_mbit >= 18.0);
}

static void bbr_probes_the_rtt_and_its_min_rtt_follows_a_longer_path(void **state)
{
	struct bn_run bbr = {.cc = 2, .bytes = 24 << 20, .delay_after_ns = 3 * BN_DELAY,
			     .delay_change_at = 1 * SEC};

	(void)state;
	bn_transfer(13, &bbr);
	assert_true(bbr.saw_probe_rtt);
	/* 20 ms at first, 60 ms after the change: min_rtt was refreshed */
	assert_true(bbr.min_rtt_ms >= 55 && bbr.min_rtt_ms < 75);
}

/* The bandwidth BBR reports for A's connection (Mbit/s), -1 if none. */
static double bbr_bw_of(struct twostack *ts, uint16_t aport)
{
	const struct tcp_sock *tp = conn_of(ts, TS_A, aport, PORT);
	struct tcp_conn_info info;
	const char *m;

	if (!tp || tcp_get_info(&tp->sk, &info))
		return -1;
	m = strstr(info.cc_state, " bw ");
	return m ? strtod(m + 4, NULL) : -1;
}

struct trickle {
	struct socket *rx;
	uint64_t want, rcvd;
};

static bool cond_trickled(void *arg)
{
	struct trickle *t = arg;
	uint8_t buf[4096];
	ssize_t r;

	while ((r = skiff_recv(t->rx, buf, sizeof(buf))) > 0)
		t->rcvd += (uint64_t)r;
	return t->rcvd == t->want;
}

static void bbr_app_limited_samples_do_not_lower_the_bandwidth_estimate(void **state)
{
	struct ts_impair data = {.rate_bps = BN_RATE, .queue_bytes = BN_QUEUE, .delay_ns = BN_DELAY};
	struct ts_impair acks = {.delay_ns = BN_DELAY};
	struct twostack *ts = ts_new(17);
	struct pair p = {0};
	struct trickle t;
	double bw_bulk, bw_after;
	int i;

	(void)state;
	twostack_set_impair(ts, TS_A, &data);
	twostack_set_impair(ts, TS_B, &acks);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_CONGESTION, 2), 0);
	pair_connect(ts, &p, 10 * SEC);
	transfer(ts, p.a, p.b, 4 << 20, 60 * SEC);
	bw_bulk = bbr_bw_of(ts, p.aport);
	/* 10 s of 20 kB/s (1000 bytes every 50 ms): far below the 20 Mbit/s
	 * the path can do, and longer than the max-bw filter's two ProbeBW
	 * cycles */
	t = (struct trickle){.rx = p.b};
	for (i = 0; i < 200; i++) {
		assert_int_equal(skiff_send(p.a, pat_at(0, t.want), 1000), 1000);
		t.want += 1000;
		twostack_run(ts, 50 * MS, cond_trickled, &t);
		twostack_run(ts, 50 * MS - (clock_now() % (50 * MS)), NULL, NULL);
	}
	assert_true(twostack_run(ts, 10 * SEC, cond_trickled, &t));
	bw_after = bbr_bw_of(ts, p.aport);
	print_message("BBR bw estimate: %.1f Mbit/s after the bulk transfer, %.1f after 10 s "
		      "application-limited\n", bw_bulk, bw_after);
	assert_true(bw_bulk >= 0.8 * BN_RATE / 1e6);
	assert_true(bw_after >= 0.9 * bw_bulk);
	pair_close(&p);
	ts_free(ts);
}

/* Data frames A sent at each instant of the simulated clock. */
struct departures {
	uint64_t last_t;
	uint32_t run, max_run, frames;
	uint64_t first_t, end_t;
};

static int departures_filter(struct twostack *ts, int from, uint8_t *frame, uint32_t *len, void *arg)
{
	struct departures *d = arg;
	struct ts_tcp t;
	uint64_t now = clock_now();

	(void)ts;
	if (from != TS_A || !ts_tcp_parse(frame, *len, &t) || !t.len)
		return TS_PASS;
	if (!d->frames)
		d->first_t = now;
	d->end_t = now;
	d->frames++;
	d->run = now == d->last_t ? d->run + 1 : 1;
	d->last_t = now;
	/* from the second round trip on: the first flight leaves before
	 * an RTT is known */
	if (now - d->first_t > 2 * BN_DELAY * 2 && d->run > d->max_run)
		d->max_run = d->run;
	return TS_PASS;
}

static uint32_t max_burst(int cc)
{
	struct ts_impair data = {.rate_bps = BN_RATE, .queue_bytes = BN_QUEUE, .delay_ns = BN_DELAY};
	struct ts_impair acks = {.delay_ns = BN_DELAY};
	struct twostack *ts = ts_new(19);
	struct departures d = {0};
	struct pair p = {0};

	twostack_set_impair(ts, TS_A, &data);
	twostack_set_impair(ts, TS_B, &acks);
	pair_listen(ts, &p, PORT, 8);
	pair_socket_a(ts, &p);
	assert_int_equal(skiff_setsockopt(p.a, SKIFF_TCP_CONGESTION, cc), 0);
	pair_connect(ts, &p, 10 * SEC);
	twostack_set_filter(ts, departures_filter, &d);
	transfer(ts, p.a, p.b, 4 << 20, 60 * SEC);
	twostack_set_filter(ts, NULL, NULL);
	print_message("cc %d: %u data frames over %.3f s, at most %u at one instant\n", cc,
		      d.frames, (double)(d.end_t - d.first_t) / 1e9, d.max_run);
	pair_close(&p);
	ts_free(ts);
	return d.max_run;
}

static void bbr_paces_segments_where_cubic_sends_bursts(void **state)
{
	uint32_t bbr, cubic;

	(void)state;
	bbr = max_burst(2);
	cubic = max_burst(0);
	/* CUBIC sends a window's worth at once (its initial window alone is
	 * ten segments); BBR at most one timer tick's worth of its rate (in
	 * Startup 2.77 x 20 Mbit/s: 7 kB, five segments) */
	assert_true(cubic >= 10);
	assert_true(bbr <= 6);
}

#define E2E(fn) cmocka_unit_test_setup_teardown(fn, e2e_setup, e2e_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_loss_is_seeded_and_deterministic),
		cmocka_unit_test(link_delay_holds_frames_for_the_one_way_delay),
		cmocka_unit_test(link_corruption_is_caught_by_the_checksum),
		E2E(connect_is_einprogress_then_writable_and_accepted),
		E2E(one_byte_each_way_is_one_segment_each),
		E2E(close_behind_a_write_in_one_batch_puts_the_fin_on_the_data),
		E2E(a_burst_defers_a_push_and_an_ack_on_one_slot),
		E2E(shutdown_wr_with_nothing_queued_sends_the_fin_in_the_call),
		E2E(maxseg_is_the_payload_of_a_full_segment),
		E2E(one_mss_each_way_is_one_full_segment),
		E2E(one_mib_both_ways_at_once_arrives_intact),
		E2E(sendfile_queues_a_file_by_reference_and_it_arrives_intact),
		E2E(a_file_truncated_while_sent_resets_the_connection_without_sigbus),
		E2E(active_close_by_a_ends_in_time_wait_on_a),
		E2E(active_close_by_b_ends_in_time_wait_on_b),
		E2E(simultaneous_close_goes_through_closing_to_time_wait),
		E2E(half_close_lets_the_other_way_flow),
		E2E(close_with_unread_data_sends_rst),
		E2E(connect_to_a_closed_port_is_refused),
		E2E(linger_abort_close_resets_the_peer),
		E2E(lost_syns_are_resent_after_1s_then_2s_then_4s),
		E2E(lost_data_is_resent_after_the_rto_then_with_backoff),
		E2E(one_lost_segment_is_fast_retransmitted_before_the_rto),
		E2E(sack_recovers_several_losses_of_one_window_in_about_one_rtt),
		E2E(an_idle_connection_after_loss_recovery_holds_no_recovery_block),
		E2E(a_receiver_gives_its_block_back_with_the_ack_that_fills_the_hole),
		E2E(a_connection_refused_a_recovery_block_still_delivers_the_stream),
		E2E(zero_window_is_probed_until_the_reader_resumes),
		E2E(keepalive_detects_a_vanished_peer_after_idle_plus_count_intervals),
		E2E(time_wait_lasts_two_msl_then_the_connection_is_gone),
		E2E(syn_flood_falls_back_to_cookies_and_a_real_connect_succeeds),
		E2E(in_window_rst_and_syn_get_challenge_acks_and_the_connection_lives),
		E2E(send_refused_for_an_empty_pool_is_woken_when_chunks_free_up),
		cmocka_unit_test_prestate(long_transfer_through_an_impaired_link, &seed1),
		cmocka_unit_test_prestate(long_transfer_through_an_impaired_link, &seed2),
		cmocka_unit_test_prestate(long_transfer_through_an_impaired_link, &seed3),
		cmocka_unit_test(long_transfer_is_deterministic_for_a_seed),
		cmocka_unit_test(reordering_without_loss_does_not_keep_cutting_the_window),
		cmocka_unit_test(reordering_of_a_quarter_of_the_frames_sends_no_spurious_retransmission),
		cmocka_unit_test(dsacks_widen_the_reordering_window_until_late_segments_are_not_resent),
		cmocka_unit_test(rack_reads_one_slot_of_an_in_order_ack),
		E2E(a_connection_keeps_its_route_and_each_segment_counts_a_use),
		E2E(freed_connections_are_reused_zeroed_and_the_cache_is_bounded),
		E2E(tail_loss_is_recovered_by_a_probe_in_about_two_rtts),
		E2E(prr_brings_the_flight_down_to_ssthresh_without_bursts),
		E2E(ecn_marks_reduce_the_window_once_per_window_without_retransmitting),
		E2E(ecn_is_off_unless_one_side_asks),
		E2E(a_resent_syn_does_not_ask_for_ecn),
		cmocka_unit_test(spurious_fast_retransmit_without_timestamps_is_undone_by_dsack),
		cmocka_unit_test(dsack_for_a_segment_never_retransmitted_does_not_undo_a_real_loss),
		cmocka_unit_test(spurious_fast_retransmit_with_timestamps_is_undone_once),
		cmocka_unit_test(spurious_rto_without_timestamps_is_undone_by_dsack),
		cmocka_unit_test(sndbuf_grows_without_so_sndbuf_and_the_transfer_is_faster),
		cmocka_unit_test(sndbuf_set_by_the_application_never_changes),
		cmocka_unit_test(sndbuf_min_is_a_floor_autotuning_grows_past),
		cmocka_unit_test(sndbuf_growth_is_capped_by_a_share_of_the_chunk_pool),
		cmocka_unit_test(rcvbuf_grows_without_so_rcvbuf_and_the_transfer_is_faster),
		cmocka_unit_test(bbr_keeps_the_bottleneck_rate_under_random_loss_where_cubic_collapses),
		cmocka_unit_test(bbr_does_not_take_reordering_for_congestion),
		cmocka_unit_test(bbr_probes_the_rtt_and_its_min_rtt_follows_a_longer_path),
		cmocka_unit_test(bbr_app_limited_samples_do_not_lower_the_bandwidth_estimate),
		cmocka_unit_test(bbr_paces_segments_where_cubic_sends_bursts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
