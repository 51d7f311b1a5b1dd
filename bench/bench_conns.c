// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * 100k (or 1M) mostly idle TCP connections: two whole skiff stacks back
 * to back in one process (tests/unit/twostack.h) on the simulated clock,
 * driven only through the socket API.  B (the client, 10.0.0.2 and six
 * more addresses, since the ephemeral range gives 16384 ports per address)
 * opens N connections to a listener on A (10.0.0.1:80) in batches; beyond
 * 7 x 16384 connections B binds explicit ports 1024-65535 on up to 16
 * addresses instead (1,032,192 at most) and both stacks' connection limit
 * is raised (tcp_set_conn_limit); then the bench reports
 *   - memory per connection: the growth of malloc'd bytes (mallinfo2) and
 *     of the process RSS, divided by 2N (both ends live in this process),
 *     next to tcp_conn_size(), and the recovery blocks held (0: idle);
 *   - the real time to set them up;
 *   - the cost of one idle pass (clock +1 ms, stack_poll() of both stacks,
 *     timers_next()) with 1k and with N connections, first with no timer
 *     armed (idle connections need none), then with keepalive armed on
 *     every connection (one wheel timer each): the pass must not grow with N;
 *   - ACTIVE connections exchanging 64-byte request/response for SIM
 *     simulated seconds over a link with 50 us one-way delay: transactions
 *     per simulated second and the real CPU time they took;
 * then it closes everything, lets TIME_WAIT run out and checks that every
 * connection, port claim, buffer chunk and frame is back.
 *
 *   build/bench/bench_conns [N] [ACTIVE] [SIM_SECONDS]   (make bench runs it)
 *
 * Instruction counts do not depend on the machine's load: under
 * `valgrind --tool=callgrind` the bench dumps one profile per phase
 * (callgrind.out.PID.1 setup, .2 idle passes at 1k, .3 at N, ...; see
 * docs/performance.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_callgrind.h"
#include "core/clock.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_buf.h"
#include "transport/tcp_internal.h"
#include "twostack.h"

#define PORT 80
#define N_ADDRS 7	     /* client addresses 10.0.0.2 .. 10.0.0.8 */
#define PORTS_PER_ADDR 16384 /* TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1 */
/* beyond N_ADDRS * PORTS_PER_ADDR: explicit ports on up to SKIFF_MAX_ADDRS */
#define BIG_PORT_LO 1024
#define BIG_PORTS (65536 - BIG_PORT_LO)
#define BIG_N_MAX ((long)SKIFF_MAX_ADDRS * BIG_PORTS)
#define BATCH 200	     /* connects per batch: below the SYN backlog and the frame pools */
#define CLOSE_BATCH 200
#define REQ 64
#define PASSES 20000
#define NEXT_PASSES 2000 /* with timers_next(): it costs microseconds */
#define SMALL_N 1000

struct conn {
	struct socket *so;
	uint32_t got; /* response bytes of the current transaction */
	uint8_t tag;  /* the byte this connection's requests are made of */
	bool up;      /* SOCK_EV_OUT seen */
	bool err;
	bool active;
};

static struct twostack ts;
static struct conn *cli;    /* B's sockets */
static struct socket **srv; /* A's accepted sockets */
static struct socket *lst;
static long n_up, n_err, n_accepted, n_target;
static uint64_t txns, bad_bytes;
static long port_claims[2];
static bool big; /* explicit client ports (N beyond the ephemeral ranges) */

static double now_s(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void die(const char *what, long v)
{
	fprintf(stderr, "bench_conns: %s (%ld)\n", what, v);
	exit(1);
}

/* The fake ports map of the harness holds 64 entries: count claims here. */
static int claim_a(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	(void)ctx, (void)addr, (void)proto, (void)port;
	port_claims[TS_A]++;
	return 0;
}

static void release_a(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	(void)ctx, (void)addr, (void)proto, (void)port;
	port_claims[TS_A]--;
}

static int claim_b(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	(void)ctx, (void)addr, (void)proto, (void)port;
	port_claims[TS_B]++;
	return 0;
}

static void release_b(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	(void)ctx, (void)addr, (void)proto, (void)port;
	port_claims[TS_B]--;
}

static uint32_t client_addr(int k)
{
	return htonl(0x0a000002u + (uint32_t)k); /* 10.0.0.2 + k */
}

static void send_req(struct conn *c)
{
	uint8_t buf[REQ];

	memset(buf, c->tag, sizeof(buf));
	if (skiff_send(c->so, buf, sizeof(buf)) != REQ)
		bad_bytes++;
}

static void on_client(struct socket *so, uint32_t events, void *arg)
{
	struct conn *c = arg;
	uint8_t buf[4096];
	ssize_t r;

	if ((events & SOCK_EV_ERR) && !c->err) {
		c->err = true;
		n_err++;
	}
	if ((events & SOCK_EV_OUT) && !c->up) {
		c->up = true;
		n_up++;
	}
	if (!(events & SOCK_EV_IN))
		return;
	while ((r = skiff_recv(so, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			bad_bytes += buf[i] != c->tag;
		c->got += (uint32_t)r;
		while (c->got >= REQ) {
			c->got -= REQ;
			txns++;
			if (c->active)
				send_req(c);
		}
	}
}

/* A's side: echo whatever arrives (only the active connections send). */
static void on_server(struct socket *so, uint32_t events, void *arg)
{
	uint8_t buf[4096];
	ssize_t r;

	(void)arg;
	if (!(events & SOCK_EV_IN))
		return;
	while ((r = skiff_recv(so, buf, sizeof(buf))) > 0)
		if (skiff_send(so, buf, (size_t)r) != r)
			bad_bytes++;
}

static void accept_all(void)
{
	struct socket *so;
	struct sockaddr_in peer;

	while (skiff_accept(lst, &so, &peer) == 0) {
		if (n_accepted >= n_target)
			die("more connections accepted than opened", n_accepted);
		srv[n_accepted++] = so;
		skiff_set_handler(so, on_server, NULL);
	}
}

static bool cond_batch(void *arg)
{
	(void)arg;
	accept_all();
	return (n_accepted == n_target && n_up == n_target) || n_err;
}

/* Open connections on B up to total. */
static void open_to(long total)
{
	struct sockaddr_in dst = {
		.sin_family = AF_INET,
		.sin_port = htons(PORT),
		.sin_addr.s_addr = TS_ADDR_A,
	};

	while (n_target < total) {
		long end = n_target + BATCH < total ? n_target + BATCH : total;

		for (long i = n_target; i < end; i++) {
			struct conn *c = &cli[i];
			struct sockaddr_in src = {
				.sin_family = AF_INET,
				.sin_addr.s_addr = client_addr((int)(big ? i / BIG_PORTS
									 : i / PORTS_PER_ADDR)),
				.sin_port = big ? htons((uint16_t)(BIG_PORT_LO + i % BIG_PORTS)) : 0,
			};
			int err = skiff_socket(twostack_stack(&ts, TS_B), SOCK_STREAM, &c->so);

			if (err)
				die("skiff_socket", err);
			c->tag = (uint8_t)(i * 7 + 1);
			skiff_set_handler(c->so, on_client, c);
			err = skiff_bind(c->so, &src);
			if (err)
				die("skiff_bind (client address, port)", err);
			err = skiff_connect(c->so, &dst);
			if (err != -EINPROGRESS)
				die("skiff_connect", err);
		}
		n_target = end;
		if (!twostack_run(&ts, 30 * NSEC_PER_SEC, cond_batch, NULL) || n_err)
			die("batch did not complete; connections up", n_up);
	}
}

static void set_keepalive(long n, int on)
{
	for (long i = 0; i < n; i++) {
		if (skiff_setsockopt(cli[i].so, SKIFF_SO_KEEPALIVE, on) ||
		    skiff_setsockopt(srv[i], SKIFF_SO_KEEPALIVE, on))
			die("SKIFF_SO_KEEPALIVE", i);
	}
}

struct pass {
	double poll_ns; /* clock +1 ms, stack_poll() of both stacks */
	double next_ns; /* timers_next() of both stacks */
};

/*
 * One idle pass, in two parts: PASSES turns of (clock +1 ms, stack_poll of
 * A and B), 20 s of simulated time, more than two revolutions of the wheel;
 * then NEXT_PASSES more with timers_next() of both added: the difference
 * is what timers_next() costs.
 */
static struct pass idle_pass(void)
{
	struct stack *a = twostack_stack(&ts, TS_A), *b = twostack_stack(&ts, TS_B);
	struct pass p;
	uint64_t sink = 0;
	double t0, t1;

	if (twostack_in_flight(&ts))
		die("frames in flight before the idle passes", twostack_in_flight(&ts));
	t0 = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < PASSES; i++) {
		clock_advance(NSEC_PER_MSEC);
		sink += (uint64_t)stack_poll(a) + (uint64_t)stack_poll(b);
	}
	t1 = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < NEXT_PASSES; i++) {
		clock_advance(NSEC_PER_MSEC);
		sink += (uint64_t)stack_poll(a) + (uint64_t)stack_poll(b);
		sink += timers_next(a) == 0 || timers_next(b) == 0;
	}
	if (sink)
		die("an idle pass did something", (long)sink);
	p.poll_ns = (t1 - t0) / PASSES * 1e9;
	p.next_ns = (now_s(CLOCK_MONOTONIC) - t1) / NEXT_PASSES * 1e9 - p.poll_ns;
	if (p.next_ns < 0)
		p.next_ns = 0;
	return p;
}

static void count_fn(void *arg, const struct sock *sk)
{
	(void)sk;
	(*(long *)arg)++;
}

static long conns_of(int side)
{
	long n = 0;

	tcp_walk(twostack_stack(&ts, side), count_fn, &n);
	return n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long active = argc > 2 ? atol(argv[2]) : 16;
	long sim_s = argc > 3 ? atol(argv[3]) : 10;
	struct ts_impair imp = {.delay_ns = 50 * NSEC_PER_USEC};
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	double t0, t_setup, cpu0, cpu_active, real_active, t_close;
	struct pass p_small = {0}, p_big, k_small = {0}, k_big;
	size_t heap0, heap1, heap2;
	long rss0, rss1, small = n < SMALL_N ? n : SMALL_N;
	uint32_t rcvy_idle;
	uint64_t sim0;
	int n_addrs, err;

	if (n < 1 || n > BIG_N_MAX || active < 0 || active > n || sim_s < 1) {
		fprintf(stderr, "usage: bench_conns [N 1..%ld] [active <= N] [simulated s >= 1]\n",
			BIG_N_MAX);
		return 2;
	}
	big = n > (long)N_ADDRS * PORTS_PER_ADDR;
	n_addrs = big ? (int)((n + BIG_PORTS - 1) / BIG_PORTS) : N_ADDRS;
	cli = calloc((size_t)n, sizeof(*cli));
	srv = calloc((size_t)n, sizeof(*srv));
	if (!cli || !srv)
		die("out of memory", n);

	if (twostack_init(&ts, 0x5eed))
		die("twostack_init", 0);
	/* B serves 10.0.0.2 .. 10.0.0.8 (or more); A knows each of them on B's MAC */
	for (int k = 1; k < n_addrs; k++) {
		struct stack_config *cfg = &ts.side[TS_B].cfg;

		cfg->addrs[k] = cfg->addrs[0];
		cfg->addrs[k].addr = client_addr(k);
		cfg->n_addrs = k + 1;
		harness_add_neigh(&ts.side[TS_A], client_addr(k), H_PEER_MAC);
	}
	ts.side[TS_A].st.hooks.port_claim = claim_a;
	ts.side[TS_A].st.hooks.port_release = release_a;
	ts.side[TS_B].st.hooks.port_claim = claim_b;
	ts.side[TS_B].st.hooks.port_release = release_b;
	twostack_set_impair2(&ts, &imp);
	if (big && (tcp_set_conn_limit(twostack_stack(&ts, TS_A), (uint32_t)n + 1) ||
		    tcp_set_conn_limit(twostack_stack(&ts, TS_B), (uint32_t)n)))
		die("tcp_set_conn_limit", n);

	err = skiff_socket(twostack_stack(&ts, TS_A), SOCK_STREAM, &lst);
	if (!err)
		err = skiff_bind(lst, &any);
	if (!err)
		err = skiff_listen(lst, 4096);
	if (err)
		die("listener", err);

	/* ---- open ---- */
	heap0 = heap_bytes();
	rss0 = rss_kib();
	CALLGRIND_ZERO_STATS;
	t0 = now_s(CLOCK_MONOTONIC);
	open_to(small);
	t_setup = now_s(CLOCK_MONOTONIC) - t0;
	CALLGRIND_DUMP_STATS_AT("setup of the first 1k connections");
	if (small < n) {
		p_small = idle_pass();
		CALLGRIND_DUMP_STATS_AT("idle passes, 1k connections");
		set_keepalive(small, 1);
		k_small = idle_pass();
		CALLGRIND_DUMP_STATS_AT("idle passes, 1k connections, keepalive");
		set_keepalive(small, 0);
		CALLGRIND_ZERO_STATS;
		t0 = now_s(CLOCK_MONOTONIC);
		open_to(n);
		t_setup += now_s(CLOCK_MONOTONIC) - t0;
		CALLGRIND_DUMP_STATS_AT("setup of the other connections");
	}
	heap1 = heap_bytes();
	rss1 = rss_kib();
	rcvy_idle = tcp_recovery_in_use(twostack_stack(&ts, TS_A)) +
		    tcp_recovery_in_use(twostack_stack(&ts, TS_B));
	p_big = idle_pass();
	CALLGRIND_DUMP_STATS_AT("idle passes, N connections");
	set_keepalive(n, 1);
	k_big = idle_pass();
	CALLGRIND_DUMP_STATS_AT("idle passes, N connections, keepalive");
	set_keepalive(n, 0);

	/* ---- a few active ones ---- */
	sim0 = clock_now();
	cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_s(CLOCK_MONOTONIC);
	for (long i = 0; i < active; i++) {
		cli[i].active = true;
		send_req(&cli[i]);
	}
	twostack_run(&ts, (uint64_t)sim_s * NSEC_PER_SEC, NULL, NULL);
	cpu_active = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	real_active = now_s(CLOCK_MONOTONIC) - t0;
	CALLGRIND_DUMP_STATS_AT("request/response");
	for (long i = 0; i < active; i++)
		cli[i].active = false;
	twostack_run(&ts, NSEC_PER_SEC, NULL, NULL); /* the last answers */
	(void)sim0;

	/* ---- close everything, let TIME_WAIT run out ---- */
	t0 = now_s(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i += CLOSE_BATCH) {
		for (long j = i; j < n && j < i + CLOSE_BATCH; j++) {
			if (skiff_close(cli[j].so) || skiff_close(srv[j]))
				die("skiff_close", j);
		}
		twostack_run(&ts, 20 * NSEC_PER_MSEC, NULL, NULL);
	}
	twostack_run(&ts, 3 * TCP_MSL_NS + 10 * NSEC_PER_SEC, NULL, NULL);
	t_close = now_s(CLOCK_MONOTONIC) - t0;
	CALLGRIND_DUMP_STATS_AT("close and TIME_WAIT");
	heap2 = heap_bytes();

	{
		long left_a = conns_of(TS_A), left_b = conns_of(TS_B);
		uint32_t ch_a = tcp_chunk_pool_in_use(tcp_chunks(twostack_stack(&ts, TS_A)));
		uint32_t ch_b = tcp_chunk_pool_in_use(tcp_chunks(twostack_stack(&ts, TS_B)));
		uint32_t fr = fakedev_frames_in_use(&ts.side[TS_A].fd) +
			      fakedev_frames_in_use(&ts.side[TS_B].fd);
		uint64_t rx_full = ts.dir[TS_A].c.rx_full + ts.dir[TS_B].c.rx_full;
		double per_heap = (double)(heap1 - heap0) / (2.0 * (double)n);
		double per_rss = (double)(rss1 - rss0) * 1024.0 / (2.0 * (double)n);
		bool ok = left_a == 1 && left_b == 0 && !ch_a && !ch_b && !fr && !bad_bytes &&
			  port_claims[TS_A] == 1 && port_claims[TS_B] == 0 && !n_err &&
			  !rcvy_idle;

		printf("bench_conns: %ld TCP connections, two skiff stacks on the simulated link\n"
		       "  memory per connection end: %.0f B malloc'd (mallinfo2), %.0f B RSS; "
		       "tcp_conn_size() = %zu B; RSS growth %.1f MiB for %ld connection ends; "
		       "recovery blocks held %u\n"
		       "  setup: %.2f s real for %ld connections (%.1f us each, handshake + "
		       "accept, "
		       "both ends)\n"
		       "  idle pass, no timer armed: stack_poll x2 %.0f ns + timers_next x2 %.0f "
		       "ns "
		       "at %ld conns; %.0f + %.0f ns at %ld conns\n"
		       "  idle pass, keepalive armed on every connection at one instant "
		       "(%ld / %ld timers): %.0f + %.0f ns at %ld; %.0f + %.0f ns at %ld\n"
		       "  %ld active of %ld, %d-byte request/response, 50 us one-way delay: "
		       "%.0f transactions per simulated s (%llu in %ld s), %.2f s CPU (%.2f s "
		       "real, "
		       "%.2f us CPU per transaction)\n"
		       "  close + TIME_WAIT: %.2f s real; heap after: %+.1f KiB vs before open\n"
		       "  left: %ld/%ld connections on A/B (listener), %u+%u chunks, %u frames, "
		       "port claims %ld/%ld, rx_full %llu, bad bytes %llu: %s\n",
		       n, per_heap, per_rss, tcp_conn_size(),
		       (double)(rss1 - rss0) / 1024.0, 2 * n, rcvy_idle, t_setup, n, t_setup / (double)n * 1e6,
		       p_small.poll_ns, p_small.next_ns, small, p_big.poll_ns, p_big.next_ns, n,
		       2 * small, 2 * n, k_small.poll_ns, k_small.next_ns, small, k_big.poll_ns,
		       k_big.next_ns, n, active, n, REQ, (double)txns / (double)sim_s,
		       (unsigned long long)txns, sim_s, cpu_active, real_active,
		       txns ? cpu_active / (double)txns * 1e6 : 0.0, t_close,
		       ((double)heap2 - (double)heap0) / 1024.0, left_a, left_b, ch_a, ch_b, fr,
		       port_claims[TS_A], port_claims[TS_B], (unsigned long long)rx_full,
		       (unsigned long long)bad_bytes, ok ? "all back" : "LEAK");
		if (!ok)
			return 1;
	}
	skiff_close(lst);
	twostack_fini(&ts);
	free(cli);
	free(srv);
	return 0;
}
