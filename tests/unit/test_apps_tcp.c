// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in TCP applications end to end over two whole stacks on the
 * simulated link (twostack.h): the HTTP server on B fetched by the built-in
 * client on A (body and SHA-256 equal to the file, 404, pipelined requests
 * answered in order, also through a lossy, reordering link), and the
 * built-in sender against the TCP echo and discard services.  Every socket,
 * connection, TCP chunk and frame is back after each test.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "apps/client.h"
#include "apps/http.h"
#include "apps/services.h"
#include "apps/sha256.h"
#include "core/clock.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_isn.h"
#include "transport/tcp_internal.h"
#include "twostack.h"

#define MS	(1000ULL * 1000)
#define SEC	(1000ULL * MS)
#define BIG	(3u << 20)	/* 3 MiB: many windows, bounded test time */

static const uint8_t key[16] = { 's', 'k', 'i', 'f', 'f', '-', 'a', 'p', 'p', 's' };

struct fixture {
	struct twostack ts;
	bool own_tcp;
	char dir[64];
	char big_sha[SHA256_HEX_LEN];
};

struct done {
	bool done;
	struct client_result res;
};

static void on_done(const struct client_result *res, void *arg)
{
	struct done *d = arg;

	d->done = true;
	d->res = *res;
}

static bool cond_done(void *arg)
{
	return ((struct done *)arg)->done;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t d[SHA256_DIGEST_LEN], *big;
	struct sha256 c;
	size_t i;
	int s;

	assert_non_null(f);
	tcp_secret_set(key);
	assert_int_equal(twostack_init(&f->ts, 7), 0);
	for (s = 0; s < 2; s++) {
		struct stack *st = twostack_stack(&f->ts, s);

		if (st->tcp)
			continue;	/* inet_init brought TCP up */
		f->own_tcp = true;
		assert_int_equal(tcp_init(st), 0);
		assert_int_equal(sock_register_proto(st, &tcp_prot), 0);
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/skiff-apps-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	write_file(f->dir, "small.txt", "hello, skiff\n", 13);
	write_file(f->dir, "index.html", "<p>index</p>\n", 13);
	big = malloc(BIG);
	assert_non_null(big);
	for (i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 2654435761u >> 13);
	write_file(f->dir, "big.bin", big, BIG);
	sha256_init(&c);
	sha256_update(&c, big, BIG);
	sha256_final(&c, d);
	sha256_hex(d, f->big_sha);
	free(big);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	int s;

	twostack_set_filter(&f->ts, NULL, NULL);
	twostack_set_impair2(&f->ts, &(struct ts_impair){ 0 });
	/* let orphans finish (FIN retransmissions, TIME_WAIT) */
	twostack_run(&f->ts, 5 * 60 * SEC, NULL, NULL);
	for (s = 0; s < 2; s++)
		assert_int_equal(tcp_chunk_pool_in_use(tcp_chunks(twostack_stack(&f->ts, s))), 0);
	if (f->own_tcp) {
		tcp_fini(twostack_stack(&f->ts, TS_A));
		tcp_fini(twostack_stack(&f->ts, TS_B));
	}
	twostack_fini(&f->ts);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct stack *A(struct fixture *f)
{
	return twostack_stack(&f->ts, TS_A);
}

static struct stack *B(struct fixture *f)
{
	return twostack_stack(&f->ts, TS_B);
}

static void fetch(struct fixture *f, const char *url, struct done *d, uint64_t limit)
{
	struct client *c;

	memset(d, 0, sizeof(*d));
	assert_int_equal(client_fetch_start(A(f), url, on_done, d, &c), 0);
	if (!twostack_run(&f->ts, limit, cond_done, d))
		fail_msg("fetch of %s did not finish", url);
	if (d->res.err)
		print_message("fetch %s: err %d after %llu bytes, status %d\n", url, d->res.err,
			      (unsigned long long)d->res.bytes, d->res.http_status);
	client_free(c);
}

static void fetch_returns_the_file_with_its_sha256(void **state)
{
	struct fixture *f = *state;
	struct http_server *srv;
	struct done d;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	fetch(f, "http://10.0.0.2/big.bin", &d, 120 * SEC);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.http_status, 200);
	assert_int_equal(d.res.bytes, BIG);
	assert_string_equal(d.res.sha256, f->big_sha);
	fetch(f, "http://10.0.0.2/", &d, 10 * SEC);
	assert_int_equal(d.res.http_status, 200);
	assert_int_equal(d.res.bytes, 13);
	fetch(f, "http://10.0.0.2/no-such-file", &d, 10 * SEC);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.http_status, 404);
	fetch(f, "http://10.0.0.2/%2e%2e/etc/passwd", &d, 10 * SEC);
	assert_int_equal(d.res.http_status, 400);
	http_server_stop(srv);
}

struct seg_count {
	uint32_t data, runts;
	uint32_t high;	/* end of the newest data seen */
	bool any;
};

/* Count B's data segments with new data (retransmissions are not what this
 * counts: the link's receiving device drops when the window outgrows its
 * frames), and those shorter than a full one (1460 - 12). */
static int count_b_segments(struct twostack *ts, int from, uint8_t *frame, uint32_t *len,
			    void *arg)
{
	struct seg_count *c = arg;
	struct ts_tcp t;

	(void)ts;
	if (from == TS_B && ts_tcp_parse(frame, *len, &t) && t.len &&
	    (!c->any || (int32_t)(t.seq + t.len - c->high) > 0)) {
		c->any = true;
		c->high = t.seq + t.len;
		c->data++;
		if (t.len < 1448)
			c->runts++;
	}
	return TS_PASS;
}

/* The server corks a body: only its last segment may be short (with
 * TCP_NODELAY throughout, every 16 KiB send left a runt behind). */
static void a_file_body_leaves_as_full_segments(void **state)
{
	struct fixture *f = *state;
	struct seg_count c = { 0 };
	struct http_server *srv;
	struct done d;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	twostack_set_impair2(&f->ts, &(struct ts_impair){ .delay_ns = 50 * 1000 });
	twostack_set_filter(&f->ts, count_b_segments, &c);
	fetch(f, "http://10.0.0.2/big.bin", &d, 120 * SEC);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.bytes, BIG);
	assert_string_equal(d.res.sha256, f->big_sha);
	assert_true(c.runts <= 1);
	assert_true(c.data <= (BIG + 1447) / 1448 + 1);
	/* uncorked again: a small response leaves at once, whole */
	c = (struct seg_count){ 0 };
	fetch(f, "http://10.0.0.2/", &d, 10 * SEC);
	assert_int_equal(d.res.http_status, 200);
	assert_int_equal(c.data, 1);
	http_server_stop(srv);
}

static void fetch_through_a_lossy_reordering_link_is_intact(void **state)
{
	struct fixture *f = *state;
	struct ts_impair imp = { .loss_pct = 3, .reorder_pct = 25, .dup_pct = 1,
				 .corrupt_pct = 1, .delay_ns = 10 * MS };
	struct http_server *srv;
	struct done d;

	assert_int_equal(http_server_start(B(f), 8080, f->dir, &srv), 0);
	twostack_set_impair2(&f->ts, &imp);
	fetch(f, "http://10.0.0.2:8080/big.bin", &d, 600 * SEC);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.bytes, BIG);
	assert_string_equal(d.res.sha256, f->big_sha);
	http_server_stop(srv);
}

/* A raw client socket on A: connect, send req, read until EOF into out. */
struct raw {
	struct socket *so;
	const char *req;
	size_t sent;
	char out[4096];
	size_t len;
	bool eof;
};

static bool cond_raw(void *arg)
{
	struct raw *r = arg;
	ssize_t n;

	if (r->sent < strlen(r->req)) {
		n = skiff_send(r->so, r->req + r->sent, strlen(r->req) - r->sent);
		if (n > 0)
			r->sent += (size_t)n;
	}
	while ((n = skiff_recv(r->so, r->out + r->len, sizeof(r->out) - 1 - r->len)) > 0)
		r->len += (size_t)n;
	r->out[r->len] = '\0';
	if (!n)
		r->eof = true;
	return r->eof;
}

static void raw_exchange(struct fixture *f, uint16_t port, const char *req, struct raw *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = TS_ADDR_B };

	memset(r, 0, sizeof(*r));
	r->req = req;
	assert_int_equal(skiff_socket(A(f), SOCK_STREAM, &r->so), 0);
	assert_int_equal(skiff_connect(r->so, &sin), -EINPROGRESS);
	if (!twostack_run(&f->ts, 30 * SEC, cond_raw, r))
		fail_msg("no EOF; got '%s'", r->out);
	skiff_close(r->so);
}

static void pipelined_requests_are_answered_in_order(void **state)
{
	struct fixture *f = *state;
	struct http_server *srv;
	struct raw r;
	char *a, *b, *c;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	raw_exchange(f, 80,
		     "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
		     "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
		     "DELETE /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
		     "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		     "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n",	/* after close: ignored */
		     &r);
	a = strstr(r.out, "HTTP/1.1 200 OK\r\n");
	assert_non_null(a);
	assert_non_null(strstr(a, "Content-Length: 13\r\n"));
	assert_non_null(strstr(a, "\r\n\r\nhello, skiff\nHTTP/1.1 200 OK\r\n"));
	b = strstr(a + 1, "HTTP/1.1 405 Method Not Allowed\r\n");
	assert_non_null(b);
	assert_non_null(strstr(b, "Allow: GET, HEAD\r\n"));
	c = strstr(b, "HTTP/1.1 404 Not Found\r\n");
	assert_non_null(c);
	assert_non_null(strstr(c, "Connection: close\r\n"));
	assert_null(strstr(c + 1, "HTTP/1.1"));	/* nothing after the close */
	/* HEAD: the head of index.html, no body */
	assert_non_null(strstr(r.out, "Content-Type: text/html; charset=utf-8\r\nContent-Length: 13\r\n"
				      "\r\nHTTP/1.1 405"));
	/* HTTP/1.0 without keep-alive: one answer, then the server closes */
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "Connection: close\r\n"));
	assert_non_null(strstr(r.out, "\r\n\r\nhello, skiff\n"));
	raw_exchange(f, 80, "GET / HTTP/3.0\r\nHost: x\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "HTTP/1.1 505 "));
	http_server_stop(srv);
}

/*
 * A small file is kept in memory once served (http.c); each request checks
 * that the path still names that file, unchanged: rewritten, replaced,
 * swapped for a symlink out of DIR, made unreadable or removed, it is
 * answered as if never cached.
 */
static void a_cached_small_file_changed_or_replaced_is_served_anew(void **state)
{
	struct fixture *f = *state;
	char p[160], q[160], outside[] = "/tmp/skiff-outside-XXXXXX";
	struct http_server *srv;
	struct raw r;
	int fd;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	for (int i = 0; i < 2; i++) {	/* read, then from memory */
		raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
		assert_non_null(strstr(r.out, "Content-Length: 13\r\n"));
		assert_non_null(strstr(r.out, "\r\n\r\nhello, skiff\n"));
	}
	/* rewritten in place */
	write_file(f->dir, "small.txt", "hello again, skiff\n", 19);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "Content-Length: 19\r\n"));
	assert_non_null(strstr(r.out, "\r\n\r\nhello again, skiff\n"));
	/* another file of the same size renamed over it */
	write_file(f->dir, "new.txt", "HELLO AGAIN, SKIFF\n", 19);
	snprintf(p, sizeof(p), "%s/new.txt", f->dir);
	snprintf(q, sizeof(q), "%s/small.txt", f->dir);
	assert_int_equal(rename(p, q), 0);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "\r\n\r\nHELLO AGAIN, SKIFF\n"));
	/* a symlink to a world-readable file outside DIR swapped in: 404 */
	fd = mkstemp(outside);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret, skiff here\n", 19), 19);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	assert_int_equal(unlink(q), 0);
	assert_int_equal(symlink(outside, q), 0);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "HTTP/1.1 404 "));
	assert_null(strstr(r.out, "secret"));
	assert_int_equal(unlink(q), 0);
	assert_int_equal(unlink(outside), 0);
	/* back, served (and kept), then readable by its owner only: 403 */
	write_file(f->dir, "small.txt", "hello, skiff\n", 13);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "\r\n\r\nhello, skiff\n"));
	assert_int_equal(chmod(q, 0600), 0);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "HTTP/1.1 403 "));
	assert_null(strstr(r.out, "hello"));
	/* removed: 404 */
	assert_int_equal(chmod(q, 0644), 0);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "hello, skiff\n"));
	assert_int_equal(unlink(q), 0);
	raw_exchange(f, 80, "GET /small.txt HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "HTTP/1.1 404 "));
	http_server_stop(srv);
}

static void send_to_echo_comes_back_whole_and_to_discard_is_consumed(void **state)
{
	struct fixture *f = *state;
	struct service *echo, *discard;
	struct client *c;
	struct done d = { 0 };
	union inet_addr b4, b6;

	inet_addr_set4(&b4, TS_ADDR_B);
	inet_addr_set6(&b6, ts_addr6[TS_B]);

	assert_int_equal(echo_service_start(B(f), SOCK_STREAM, 7, &echo), 0);
	assert_int_equal(discard_service_start(B(f), SOCK_STREAM, 9, &discard), 0);
	assert_int_equal(client_send_start(A(f), &b4, 7, BIG, on_done, &d, &c), 0);
	assert_true(twostack_run(&f->ts, 120 * SEC, cond_done, &d));
	client_free(c);
	if (d.res.err)
		print_message("echo: err %d after %llu bytes sent, %llu back\n", d.res.err,
			      (unsigned long long)d.res.bytes, (unsigned long long)d.res.rx_bytes);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.bytes, BIG);
	assert_int_equal(d.res.rx_bytes, BIG);
	assert_string_equal(d.res.sha256, d.res.rx_sha256);

	memset(&d, 0, sizeof(d));
	assert_int_equal(client_send_start(A(f), &b4, 9, BIG, on_done, &d, &c), 0);
	assert_true(twostack_run(&f->ts, 120 * SEC, cond_done, &d));
	client_free(c);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.bytes, BIG);
	assert_int_equal(d.res.rx_bytes, 0);

	/* over IPv6 (the services listen on [::]) */
	memset(&d, 0, sizeof(d));
	assert_int_equal(client_send_start(A(f), &b6, 7, BIG, on_done, &d, &c), 0);
	assert_true(twostack_run(&f->ts, 120 * SEC, cond_done, &d));
	client_free(c);
	assert_int_equal(d.res.err, 0);
	assert_int_equal(d.res.bytes, BIG);
	assert_int_equal(d.res.rx_bytes, BIG);
	assert_string_equal(d.res.sha256, d.res.rx_sha256);
	/* no peer to send to */
	memset(&b6, 0, sizeof(b6));
	assert_int_equal(client_send_start(A(f), &b6, 7, 1, on_done, &d, &c), -EINVAL);
	service_stop(echo);
	service_stop(discard);
}

static void connect_to_a_closed_port_is_refused(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	struct done d = { 0 };
	union inet_addr b;

	inet_addr_set4(&b, TS_ADDR_B);
	assert_int_equal(client_send_start(A(f), &b, 4444, 10, on_done, &d, &c), 0);
	assert_true(twostack_run(&f->ts, 10 * SEC, cond_done, &d));
	client_free(c);
	assert_int_equal(d.res.err, -ECONNREFUSED);
}

struct pair {
	struct socket *l, *c, *s;
	struct sockaddr_in peer;
};

static bool cond_accepted(void *arg)
{
	struct pair *p = arg;

	return p->s || !skiff_accept(p->l, &p->s, &p->peer);
}

static void stream_socket_calls_report_peers_options_and_errors(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5000),
				   .sin_addr.s_addr = TS_ADDR_B };
	struct sockaddr_in got;
	struct pair p = { 0 };
	struct socket *u;
	int v;

	assert_int_equal(skiff_socket(B(f), SOCK_STREAM, &p.l), 0);
	assert_int_equal(skiff_bind(p.l, &(struct sockaddr_in){ .sin_family = AF_INET,
								 .sin_port = htons(5000) }), 0);
	assert_int_equal(skiff_listen(p.l, 0), 0);
	assert_int_equal(skiff_accept(p.l, &p.s, NULL), -EAGAIN);
	assert_int_equal(skiff_getpeername(p.l, &got), -ENOTCONN);
	assert_int_equal(skiff_socket(A(f), SOCK_STREAM, &p.c), 0);
	assert_int_equal(skiff_setsockopt(p.c, SKIFF_TCP_NODELAY, 1), 0);
	assert_int_equal(skiff_setsockopt(p.c, SKIFF_SO_SNDBUF, 64 * 1024), 0);
	assert_int_equal(skiff_getsockopt(p.c, SKIFF_SO_SNDBUF, &v), 0);
	assert_true(v >= 64 * 1024);
	assert_int_equal(skiff_setsockopt(p.c, SKIFF_SO_ERROR, 1), -ENOPROTOOPT);
	assert_int_equal(skiff_connect(p.c, &sin), -EINPROGRESS);
	assert_true(twostack_run(&f->ts, 5 * SEC, cond_accepted, &p));
	/* both ends agree on who is who */
	assert_int_equal(p.peer.sin_addr.s_addr, TS_ADDR_A);
	assert_int_equal(skiff_getpeername(p.c, &got), 0);
	assert_int_equal(got.sin_addr.s_addr, TS_ADDR_B);
	assert_int_equal(ntohs(got.sin_port), 5000);
	assert_int_equal(skiff_getsockname(p.c, &got), 0);
	assert_int_equal(got.sin_port, p.peer.sin_port);
	assert_int_equal(skiff_getsockopt(p.s, SKIFF_SO_ERROR, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(skiff_shutdown(p.s, 42), -EINVAL);
	assert_int_equal(skiff_send(p.c, "x", 1), 1);
	skiff_close(p.s);
	skiff_close(p.c);
	skiff_close(p.l);

	/* a refused connect: SOCK_EV_ERR, then SO_ERROR once */
	assert_int_equal(skiff_socket(A(f), SOCK_STREAM, &p.c), 0);
	assert_int_equal(skiff_connect(p.c, &sin), -EINPROGRESS);
	twostack_run(&f->ts, 1 * SEC, NULL, NULL);
	assert_true(skiff_poll(p.c) & SOCK_EV_ERR);
	assert_int_equal(skiff_getsockopt(p.c, SKIFF_SO_ERROR, &v), 0);
	assert_int_equal(v, ECONNREFUSED);
	assert_int_equal(skiff_getsockopt(p.c, SKIFF_SO_ERROR, &v), 0);
	assert_int_equal(v, 0);
	skiff_close(p.c);

	/* stream-only calls on a datagram socket */
	assert_int_equal(skiff_socket(A(f), SOCK_DGRAM, &u), 0);
	assert_int_equal(skiff_listen(u, 1), -EOPNOTSUPP);
	assert_int_equal(skiff_accept(u, &p.s, NULL), -EOPNOTSUPP);
	assert_int_equal(skiff_shutdown(u, SHUT_WR), -EOPNOTSUPP);
	assert_int_equal(skiff_setsockopt(u, SKIFF_SO_RCVBUF, 4096), 0);
	assert_int_equal(skiff_getsockopt(u, SKIFF_SO_RCVBUF, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(skiff_setsockopt(u, SKIFF_TCP_NODELAY, 1), -ENOPROTOOPT);
	skiff_close(u);
}

/* Connections from A to B:port, each sending one byte (its index). */
struct limit_clients {
	struct socket *so[6];
	int n;
	uint8_t got[6];
	int n_got[6];		/* bytes back */
	bool eof[6];		/* FIN or error seen */
};

static void limit_clients_poll(struct limit_clients *lc)
{
	uint8_t b[8];
	ssize_t r;
	int i;

	for (i = 0; i < lc->n; i++) {
		if (!lc->so[i] || lc->eof[i])
			continue;
		while ((r = skiff_recv(lc->so[i], b, sizeof(b))) > 0) {
			lc->got[i] = b[0];
			lc->n_got[i] += (int)r;
		}
		if (r != -EAGAIN)
			lc->eof[i] = true;
	}
}

static bool cond_never(void *arg)
{
	limit_clients_poll(arg);
	return false;
}

static void echo_at_its_connection_limit_holds_new_ones_back_without_closing(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7),
				   .sin_addr.s_addr = TS_ADDR_B };
	struct limit_clients lc = { .n = 4 };
	struct service *echo;
	uint8_t b;
	int i;

	assert_int_equal(echo_service_start(B(f), SOCK_STREAM, 7, &echo), 0);
	service_set_max_conns(echo, 2);
	for (i = 0; i < lc.n; i++) {
		assert_int_equal(skiff_socket(A(f), SOCK_STREAM, &lc.so[i]), 0);
		assert_int_equal(skiff_connect(lc.so[i], &sin), -EINPROGRESS);
		twostack_run(&f->ts, 10 * MS, NULL, NULL);	/* in this order */
	}
	twostack_run(&f->ts, 100 * MS, NULL, NULL);
	for (i = 0; i < lc.n; i++) {
		/* every handshake completed: the last two wait in the accept queue */
		assert_true(skiff_poll(lc.so[i]) & SOCK_EV_OUT);
		b = (uint8_t)(i + 1);
		assert_int_equal(skiff_send(lc.so[i], &b, 1), 1);
	}
	twostack_run(&f->ts, 2 * SEC, cond_never, &lc);
	for (i = 0; i < lc.n; i++)
		assert_false(lc.eof[i]);	/* nobody was closed or reset */
	assert_int_equal(lc.n_got[0], 1);
	assert_int_equal(lc.n_got[1], 1);
	assert_int_equal(lc.n_got[2], 0);	/* held back, not served */
	assert_int_equal(lc.n_got[3], 0);
	assert_int_equal(B(f)->stats->svc_conn_limited, 1);
	assert_int_equal(B(f)->stats->tcp_out_rsts, 0);

	/* one served connection ends: the next waiting one is accepted and echoed */
	skiff_close(lc.so[0]);
	lc.so[0] = NULL;
	twostack_run(&f->ts, 2 * SEC, cond_never, &lc);
	assert_int_equal(lc.n_got[2], 1);
	assert_int_equal(lc.got[2], 3);
	assert_int_equal(lc.n_got[3], 0);
	assert_false(lc.eof[3]);
	assert_int_equal(B(f)->stats->svc_conn_limited, 2);	/* stopped again, one waits */

	/* a higher limit lets the last one in at once */
	service_set_max_conns(echo, 10);
	twostack_run(&f->ts, 2 * SEC, cond_never, &lc);
	assert_int_equal(lc.n_got[3], 1);
	assert_int_equal(lc.got[3], 4);
	assert_int_equal(B(f)->stats->tcp_out_rsts, 0);
	for (i = 1; i < lc.n; i++)
		skiff_close(lc.so[i]);
	service_stop(echo);
}

/* Open n connections from A to B:port (one source address) in order. */
static void limit_clients_open(struct fixture *f, struct limit_clients *lc, uint16_t port, int n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = TS_ADDR_B };
	int i;

	memset(lc, 0, sizeof(*lc));
	lc->n = n;
	for (i = 0; i < n; i++) {
		assert_int_equal(skiff_socket(A(f), SOCK_STREAM, &lc->so[i]), 0);
		assert_int_equal(skiff_connect(lc->so[i], &sin), -EINPROGRESS);
		twostack_run(&f->ts, 10 * MS, NULL, NULL);
	}
}

static void limit_clients_close(struct limit_clients *lc)
{
	int i;

	for (i = 0; i < lc->n; i++)
		if (lc->so[i])
			skiff_close(lc->so[i]);
}

static void http_silent_and_slowloris_clients_are_closed_after_the_header_timeout(void **state)
{
	struct fixture *f = *state;
	const char *start = "GET /small.txt HTTP/1.1\r\n";
	struct limit_clients lc;
	struct http_server *srv;
	int t;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	limit_clients_open(f, &lc, 80, 2);
	/* 0: says nothing; 1: a request line, then one header byte a second */
	assert_int_equal(skiff_send(lc.so[1], start, strlen(start)), (ssize_t)strlen(start));
	for (t = 1; t <= 8; t++) {
		assert_int_equal(skiff_send(lc.so[1], "X", 1), 1);
		twostack_run(&f->ts, SEC, cond_never, &lc);
	}
	assert_false(lc.eof[0]);
	assert_false(lc.eof[1]);
	for (; t <= 14; t++) {
		if (!lc.eof[1])
			assert_int_equal(skiff_send(lc.so[1], "X", 1), 1);
		twostack_run(&f->ts, SEC, cond_never, &lc);
	}
	/* 10 s and at most one sweep (1 s) later, whatever still trickles in */
	assert_true(lc.eof[0]);
	assert_true(lc.eof[1]);
	assert_int_equal(lc.n_got[0] + lc.n_got[1], 0); /* no response for either */
	assert_int_equal(B(f)->stats->http_header_timeouts, 2);
	assert_int_equal(B(f)->stats->http_idle_timeouts, 0);
	limit_clients_close(&lc);
	http_server_stop(srv);
}

static void http_keep_alive_connection_idle_past_the_limit_is_closed(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	struct limit_clients lc;
	struct http_server *srv;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	http_server_set_limits(srv, 10, 30, 0);
	limit_clients_open(f, &lc, 80, 1);
	assert_int_equal(skiff_send(lc.so[0], req, strlen(req)), (ssize_t)strlen(req));
	twostack_run(&f->ts, SEC, cond_never, &lc);
	assert_true(lc.n_got[0] > 0); /* the response */
	assert_false(lc.eof[0]);
	twostack_run(&f->ts, 27 * SEC, cond_never, &lc); /* idle, but not for 30 s */
	assert_false(lc.eof[0]);
	twostack_run(&f->ts, 4 * SEC, cond_never, &lc);
	assert_true(lc.eof[0]);
	assert_int_equal(B(f)->stats->http_idle_timeouts, 1);
	assert_int_equal(B(f)->stats->http_header_timeouts, 0);
	limit_clients_close(&lc);
	http_server_stop(srv);
}

static void http_connections_beyond_the_per_source_cap_are_reset(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	struct limit_clients lc;
	struct http_server *srv;
	int i;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	http_server_set_limits(srv, 10, 60, 2);
	limit_clients_open(f, &lc, 80, 3);
	twostack_run(&f->ts, 100 * MS, cond_never, &lc);
	for (i = 0; i < 2; i++)
		assert_int_equal(skiff_send(lc.so[i], req, strlen(req)), (ssize_t)strlen(req));
	twostack_run(&f->ts, SEC, cond_never, &lc);
	assert_true(lc.n_got[0] > 0 && lc.n_got[1] > 0); /* the first two are served */
	assert_false(lc.eof[0] || lc.eof[1]);
	assert_true(lc.eof[2]); /* the third was reset */
	assert_int_equal(lc.n_got[2], 0);
	assert_int_equal(B(f)->stats->http_source_limited, 1);

	/* one closes: the address has room again */
	skiff_close(lc.so[0]);
	lc.so[0] = NULL;
	twostack_run(&f->ts, SEC, NULL, NULL);
	limit_clients_close(&lc);
	limit_clients_open(f, &lc, 80, 1);
	assert_int_equal(skiff_send(lc.so[0], req, strlen(req)), (ssize_t)strlen(req));
	twostack_run(&f->ts, SEC, cond_never, &lc);
	assert_true(lc.n_got[0] > 0);
	assert_int_equal(B(f)->stats->http_source_limited, 1);
	limit_clients_close(&lc);
	http_server_stop(srv);
}

static void http_at_its_connection_limit_holds_the_next_client_back(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80),
				   .sin_addr.s_addr = TS_ADDR_B };
	static const char req[] = "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_server *srv;
	struct socket *so[2];
	char buf[2048];
	ssize_t n;
	int i;

	assert_int_equal(http_server_start(B(f), 80, f->dir, &srv), 0);
	http_server_set_max_conns(srv, 1);
	for (i = 0; i < 2; i++) {
		assert_int_equal(skiff_socket(A(f), SOCK_STREAM, &so[i]), 0);
		assert_int_equal(skiff_connect(so[i], &sin), -EINPROGRESS);
		twostack_run(&f->ts, 10 * MS, NULL, NULL);
	}
	twostack_run(&f->ts, 100 * MS, NULL, NULL);
	for (i = 0; i < 2; i++) {
		assert_true(skiff_poll(so[i]) & SOCK_EV_OUT);	/* both handshakes done */
		assert_int_equal(skiff_send(so[i], req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	}
	twostack_run(&f->ts, 1 * SEC, NULL, NULL);
	n = skiff_recv(so[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	/* keep-alive: the first holds the only place; the second waits, not closed */
	assert_int_equal(skiff_recv(so[1], buf, sizeof(buf) - 1), -EAGAIN);
	assert_int_equal(B(f)->stats->http_conn_limited, 1);
	skiff_close(so[0]);
	twostack_run(&f->ts, 1 * SEC, NULL, NULL);
	n = skiff_recv(so[1], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_int_equal(B(f)->stats->tcp_out_rsts, 0);
	skiff_close(so[1]);
	http_server_stop(srv);
}

static void service_memory_default_limit(void **state)
{
	(void)state;
	/* half the memory at SVC_CONN_MEM a connection, per worker */
	assert_int_equal(service_max_conns_for_memory(64ULL << 20, 1), (32u << 20) / SVC_CONN_MEM);
	assert_int_equal(service_max_conns_for_memory(64ULL << 20, 4),
			 (32u << 20) / SVC_CONN_MEM / 4);
	assert_int_equal(service_max_conns_for_memory(1ULL << 40, 1), SKIFF_MAX_CONNS);
	assert_int_equal(service_max_conns_for_memory(0, 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fetch_returns_the_file_with_its_sha256, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_file_body_leaves_as_full_segments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(pipelined_requests_are_answered_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_cached_small_file_changed_or_replaced_is_served_anew, setup, teardown),
		cmocka_unit_test_setup_teardown(
			send_to_echo_comes_back_whole_and_to_discard_is_consumed, setup, teardown),
		cmocka_unit_test_setup_teardown(connect_to_a_closed_port_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stream_socket_calls_report_peers_options_and_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(fetch_through_a_lossy_reordering_link_is_intact,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			echo_at_its_connection_limit_holds_new_ones_back_without_closing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(http_silent_and_slowloris_clients_are_closed_after_the_header_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(http_keep_alive_connection_idle_past_the_limit_is_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(http_connections_beyond_the_per_source_cap_are_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(
			http_at_its_connection_limit_holds_the_next_client_back, setup, teardown),
		cmocka_unit_test(service_memory_default_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
