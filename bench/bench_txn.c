// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Short transactions between two whole skiff stacks in one process
 * (tests/unit/twostack.h), on the simulated clock, 20 us one way: A runs
 * skiffd's own services (the TCP echo service on port 7 and the HTTP server
 * on port 80 with a 1 KiB file), B is the client, driven through the
 * socket API with FLOWS (16) transactions in flight.  Four phases of N
 * transactions each:
 *
 *   crr      connect, 64-byte request, its echo, close (the client closes
 *            first), then the next connection in that slot
 *   rr       64-byte request/response on 16 open connections
 *   http-ka  GET of the 1 KiB file on 16 keep-alive connections
 *   http-close  the same GET with "Connection: close", a connection each
 *
 *   build/bench/bench_txn [N] [PHASES]   (default 2000, crr,rr,http-ka,http-close)
 *
 * A phase ends 10 ms (simulated) after its last transaction, when the
 * last connections' FIN exchanges are over; the client's TIME_WAITs (60 s)
 * then run out outside the measurement, since their expiry costs the
 * timer wheel's walk over the simulated minute, not anything a
 * transaction does.  PHASES picks phases (valgrind 3.19 does not know
 * openat2, which the HTTP server opens files with: run "crr,rr" under it,
 * and profile the HTTP phases with perf).
 *
 * Prints per phase the real time per transaction (both stacks, the link's
 * frame copies and the event loop on one core) and the frames each
 * transaction put on the link.  Instruction counts, which do not depend on
 * the machine's load: under `valgrind --tool=callgrind` each phase is
 * dumped as its own profile (callgrind.out.PID.1, .2 ..., in the order
 * above); a profile's total divided by N is the instructions per
 * transaction of both ends.  See docs/performance.md, "Transactions:
 * where a connection's instructions go".  Not part of skiff.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "apps/http.h"
#include "apps/services.h"
#include "bench_callgrind.h"
#include "core/clock.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "twostack.h"

#define FLOWS 16
#define REQ 64
#define BODY 1024
#define RESP_MAX 4096

enum mode { M_CRR, M_RR, M_HTTP_KA, M_HTTP_CLOSE, M_N };

static const char *const mode_names[] = {"crr", "rr", "http-ka", "http-close"};
static const char get_ka[] = "GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\n";
static const char get_close[] = "GET /small.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

struct cl {
	struct socket *so;
	char buf[RESP_MAX]; /* the response so far */
	size_t len;
	bool up;   /* connected */
	bool done; /* crr/http-close: this connection's transaction is complete */
};

static struct twostack ts;
static struct cl cl[FLOWS];
static enum mode mode;
static long todo, started, completed, errors, port_claims;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, long v)
{
	fprintf(stderr, "bench_txn: %s (%ld)\n", what, v);
	exit(1);
}

/* The harness's fake ports map holds 64 entries: every claim succeeds here. */
static int claim(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	(void)ctx, (void)addr, (void)proto, (void)port;
	port_claims++;
	return 0;
}

static void release(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	(void)ctx, (void)addr, (void)proto, (void)port;
	port_claims--;
}

static void send_req(struct cl *c)
{
	static const uint8_t req[REQ] = {'r'};
	const void *p = req;
	size_t n = REQ;

	if (mode == M_HTTP_KA || mode == M_HTTP_CLOSE) {
		p = mode == M_HTTP_KA ? get_ka : get_close;
		n = mode == M_HTTP_KA ? sizeof(get_ka) - 1 : sizeof(get_close) - 1;
	}
	c->len = 0;
	if (skiff_send(c->so, p, n) != (ssize_t)n)
		errors++;
}

/* Is c->buf a whole response?  HTTP: status 200, headers, BODY bytes. */
static bool response_complete(struct cl *c)
{
	const char *end;

	if (mode == M_CRR || mode == M_RR)
		return c->len >= REQ;
	end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (!end)
		return false;
	if (c->len < 12 || memcmp(c->buf, "HTTP/1.1 200", 12)) {
		errors++;
		return true;
	}
	return c->len >= (size_t)(end + 4 - c->buf) + BODY;
}

static void on_client(struct socket *so, uint32_t events, void *arg)
{
	struct cl *c = arg;
	ssize_t r;

	if (events & SOCK_EV_ERR)
		errors++;
	if ((events & SOCK_EV_OUT) && !c->up) {
		c->up = true;
		send_req(c);
	}
	if (!(events & SOCK_EV_IN) || c->done)
		return;
	while ((r = skiff_recv(so, c->buf + c->len, sizeof(c->buf) - c->len)) > 0) {
		c->len += (size_t)r;
		if (!response_complete(c))
			continue;
		completed++;
		if (mode == M_CRR || mode == M_HTTP_CLOSE) {
			c->done = true; /* closed and replaced in cond_phase() */
			return;
		}
		if (started < todo) {
			started++;
			send_req(c);
		}
	}
	if (r == 0 || c->len == sizeof(c->buf))
		errors++; /* closed early, or a response larger than expected */
}

static void open_conn(struct cl *c, uint16_t port)
{
	struct sockaddr_in dst = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = TS_ADDR_A,
	};
	int err = skiff_socket(twostack_stack(&ts, TS_B), SOCK_STREAM, &c->so);

	if (err)
		die("skiff_socket", err);
	c->up = c->done = false;
	c->len = 0;
	skiff_set_handler(c->so, on_client, c);
	skiff_setsockopt(c->so, SKIFF_TCP_NODELAY, 1);
	err = skiff_connect(c->so, &dst);
	if (err != -EINPROGRESS)
		die("skiff_connect", err);
}

static uint16_t port_of(enum mode m)
{
	return m == M_CRR || m == M_RR ? 7 : 80;
}

/* Once per loop turn: replace the finished connections (crr, http-close). */
static bool cond_phase(void *arg)
{
	(void)arg;
	for (int i = 0; i < FLOWS; i++) {
		struct cl *c = &cl[i];

		if (!c->done)
			continue;
		skiff_close(c->so);
		c->so = NULL;
		c->done = false;
		if (started < todo) {
			started++;
			open_conn(c, port_of(mode));
		}
	}
	return completed >= todo || errors;
}

static void close_all(void)
{
	for (int i = 0; i < FLOWS; i++) {
		if (cl[i].so)
			skiff_close(cl[i].so);
		cl[i].so = NULL;
	}
}

static void phase(enum mode m, long n)
{
	uint64_t frames0 = ts.dir[TS_A].c.sent + ts.dir[TS_B].c.sent, frames;
	double t0, t;

	mode = m;
	todo = n;
	completed = errors = 0;
	started = FLOWS < n ? FLOWS : n;
	CALLGRIND_ZERO_STATS;
	t0 = now_s();
	for (long i = 0; i < started; i++)
		open_conn(&cl[i], port_of(m));
	if (!twostack_run(&ts, 600 * NSEC_PER_SEC, cond_phase, NULL) || errors)
		die(mode_names[m], errors ? errors : completed);
	close_all();
	twostack_run(&ts, 10 * NSEC_PER_MSEC, NULL, NULL); /* the last FINs */
	t = now_s() - t0;
	CALLGRIND_DUMP_STATS_AT(mode_names[m]);
	frames = ts.dir[TS_A].c.sent + ts.dir[TS_B].c.sent - frames0;
	twostack_run(&ts, 70 * NSEC_PER_SEC, NULL, NULL); /* TIME_WAITs end */
	printf("bench_txn %-10s: %ld transactions, %.2f us each (both stacks, one core), "
	       "%.1f frames each\n",
	       mode_names[m], n, t / (double)n * 1e6, (double)frames / (double)n);
}

/* Is name one of the comma-separated names in list? */
static bool phase_wanted(const char *list, const char *name)
{
	size_t l = strlen(name);

	for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strcspn(p, ",") == l && !strncmp(p, name, l))
			return true;
	}
	return false;
}

/* A temporary document root with small.bin (BODY bytes). */
static void make_docroot(char *dir)
{
	char path[128];
	uint8_t body[BODY];
	int fd;

	if (!mkdtemp(dir))
		die("mkdtemp", errno);
	snprintf(path, sizeof(path), "%s/small.bin", dir);
	memset(body, 'b', sizeof(body));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, body, sizeof(body)) != (ssize_t)sizeof(body))
		die("writing small.bin", errno);
	close(fd);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	const char *phases = argc > 2 ? argv[2] : "crr,rr,http-ka,http-close";
	struct ts_impair imp = {.delay_ns = 20 * NSEC_PER_USEC};
	char dir[] = "/tmp/bench_txn.XXXXXX", path[128];
	struct http_server *http;
	struct service *echo;

	/* crr: every connection's TIME_WAIT holds a port of 32768-49151 */
	if (n < FLOWS || n > 16000) {
		fprintf(stderr, "usage: bench_txn [N %d..16000]\n", FLOWS);
		return 2;
	}
	make_docroot(dir);
	if (twostack_init(&ts, 0x7a11))
		die("twostack_init", 0);
	for (int s = TS_A; s <= TS_B; s++) {
		ts.side[s].st.hooks.port_claim = claim;
		ts.side[s].st.hooks.port_release = release;
	}
	twostack_set_impair2(&ts, &imp);
	if (echo_service_start(twostack_stack(&ts, TS_A), SOCK_STREAM, 7, &echo) ||
	    http_server_start(twostack_stack(&ts, TS_A), 80, dir, &http))
		die("starting the services on A", 0);

	for (enum mode m = M_CRR; m < M_N; m++)
		if (phase_wanted(phases, mode_names[m]))
			phase(m, n);

	http_server_stop(http);
	service_stop(echo);
	twostack_run(&ts, 70 * NSEC_PER_SEC, NULL, NULL);
	twostack_fini(&ts);
	snprintf(path, sizeof(path), "%s/small.bin", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}
