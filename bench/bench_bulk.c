// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One TCP bulk transfer between two whole skiff stacks in one process
 * (tests/unit/twostack.h), on the simulated clock, driven only through the
 * socket API: A (10.0.0.1:80, the sender, like skiffd --http) writes MIB
 * MiB in PIECE-byte skiff_send() calls as fast as the socket takes them, B
 * reads and checks every byte.  The link is clean, 20 us one way, so the
 * transfer is limited by nothing but the two stacks' CPU: what this
 * measures is the cost of moving bytes through skiff's TCP (both ends,
 * plus the link's frame copies), not a rate on any real wire.
 *
 *   build/bench/bench_bulk [MIB] [PIECE] [cork|nodelay] [mem|pread|sendfile]
 *   (defaults 256 16384 cork mem)
 *
 * cork: as the HTTP server sends a file, Nagle on while the data is being
 * queued and TCP_NODELAY once the last byte is; nodelay: TCP_NODELAY all
 * along, so each send may push a partial segment (runts).
 *
 * Where the bytes come from: mem, a buffer in memory (only TCP's own
 * copies); pread, a file read PIECE bytes at a time into a buffer that is
 * then sent (the HTTP server's bodies before skiff_sendfile: three
 * copies); sendfile, the same file mapped and queued by reference with
 * skiff_sendfile() (one copy, into the frame).  The file is a temporary
 * one of MIB MiB, written before the transfer and read from the page cache.
 *
 * It prints the real time and MiB/s of the transfer on one core, segments
 * and ACKs per MiB, and the sender's cwnd, window and retransmissions.
 * Instruction counts, which do not depend on the machine's load: under
 * `valgrind --tool=callgrind` the transfer alone is dumped as its own
 * profile (callgrind.out.PID.1, "bulk transfer"); callgrind_annotate
 * --inclusive=yes gives the share of each function, e.g. tcp_push (the
 * sender's segments) and tcp_ack (the sender's ACK processing).
 * See docs/performance.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_callgrind.h"
#include "core/clock.h"
#include "core/fmap.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_buf.h"
#include "twostack.h"

#define PORT 80
#define PATTERN 65536 /* the byte at stream offset i is pat[i % PATTERN] */

static struct twostack ts;
static struct socket *lst, *tx, *rx;
static uint8_t pat[PATTERN + 65536];
static uint64_t total, sent, got, bad;
static size_t piece;
static bool cork = true;
static int err_seen;
static enum { SRC_MEM, SRC_PREAD, SRC_SENDFILE } src;
static int src_fd = -1;
static struct fmap *src_fm;
static uint8_t *rbuf;		/* pread: the buffer, rbuf[roff, rlen) not yet sent */
static size_t roff, rlen;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, long v)
{
	fprintf(stderr, "bench_bulk: %s (%ld)\n", what, v);
	exit(1);
}

/* A: write until the socket says -EAGAIN (as the HTTP server does). */
static void on_tx(struct socket *so, uint32_t events, void *arg)
{
	(void)arg;
	if (events & SOCK_EV_ERR)
		err_seen = 1;
	while (sent < total) {
		size_t n = piece;
		ssize_t r;

		if (n > total - sent)
			n = (size_t)(total - sent);
		if (src == SRC_SENDFILE) {
			r = skiff_sendfile(so, src_fm, sent, (size_t)(total - sent));
		} else if (src == SRC_PREAD) {
			if (roff == rlen) {
				ssize_t g = pread(src_fd, rbuf, n, (off_t)sent);

				if (g <= 0) {
					err_seen = 1;
					return;
				}
				roff = 0;
				rlen = (size_t)g;
			}
			r = skiff_send(so, rbuf + roff, rlen - roff);
			if (r > 0)
				roff += (size_t)r;
		} else {
			r = skiff_send(so, pat + sent % PATTERN, n);
		}
		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			err_seen = 1;
			return;
		}
		sent += (uint64_t)r;
	}
	if (cork) {
		cork = false;
		(void)skiff_setsockopt(so, SKIFF_TCP_NODELAY, 1); /* uncork the tail */
	}
}

/* B: read everything, compare with the pattern. */
static void on_rx(struct socket *so, uint32_t events, void *arg)
{
	static uint8_t buf[65536];
	ssize_t r;

	(void)arg;
	if (events & SOCK_EV_ERR)
		err_seen = 1;
	while ((r = skiff_recv(so, buf, sizeof(buf))) > 0) {
		size_t off = got % PATTERN;

		bad += memcmp(buf, pat + off, (size_t)r) != 0;
		got += (uint64_t)r;
	}
}

static bool cond_accepted(void *arg)
{
	struct sockaddr_in peer;

	(void)arg;
	if (!tx && skiff_accept(lst, &tx, &peer) == 0) {
		skiff_set_handler(tx, on_tx, NULL);
		(void)skiff_setsockopt(tx, SKIFF_TCP_NODELAY, !cork);
		on_tx(tx, SOCK_EV_OUT, NULL);
	}
	return tx != NULL || err_seen;
}

/* The sender's connection info: the one connection of A that is no listener. */
static void find_conn(void *arg, const struct sock *sk)
{
	struct tcp_conn_info i, *out = arg;

	if (!tcp_get_info(sk, &i) && i.cwnd)
		*out = i;
}

static bool cond_done(void *arg)
{
	(void)arg;
	return got >= total || err_seen;
}

/* The file the pread and sendfile modes send: total bytes of the pattern. */
static void open_source(void)
{
	char path[] = "/tmp/bench_bulk-XXXXXX";
	uint64_t off;

	src_fd = mkstemp(path);
	if (src_fd < 0)
		die("mkstemp", errno);
	unlink(path);
	for (off = 0; off < total; off += PATTERN)
		if (write(src_fd, pat, PATTERN) != PATTERN)
			die("write", errno);
	rbuf = malloc(piece);
	if (!rbuf)
		die("malloc", 0);
	if (src == SRC_SENDFILE) {
		src_fm = fmap_open(src_fd, (size_t)total);
		if (!src_fm)
			die("fmap_open", errno);
	}
}

int main(int argc, char **argv)
{
	const struct ts_impair imp = { .delay_ns = 20 * NSEC_PER_USEC };
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct sockaddr_in dst = {
		.sin_family = AF_INET,
		.sin_port = htons(PORT),
		.sin_addr.s_addr = TS_ADDR_A,
	};
	struct tcp_conn_info info;
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 256;
	uint64_t sim0, segs0, segs_a, segs_b;
	double t0, dt, sim;
	int err;

	piece = argc > 2 ? strtoul(argv[2], NULL, 0) : 16384;
	if (argc > 3)
		cork = strcmp(argv[3], "nodelay") != 0;
	if (argc > 4 && !strcmp(argv[4], "pread"))
		src = SRC_PREAD;
	else if (argc > 4 && !strcmp(argv[4], "sendfile"))
		src = SRC_SENDFILE;
	if (!mib || !piece || piece > 65536 || (argc > 3 && cork && strcmp(argv[3], "cork")) ||
	    (argc > 4 && src == SRC_MEM && strcmp(argv[4], "mem"))) {
		fprintf(stderr, "usage: bench_bulk [MIB] [PIECE <= 65536] [cork|nodelay] "
				"[mem|pread|sendfile]\n");
		return 2;
	}
	total = mib << 20;
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	if (src != SRC_MEM)
		open_source();

	if (twostack_init(&ts, 0xb01c))
		die("twostack_init", 0);
	twostack_set_impair2(&ts, &imp);
	err = skiff_socket(twostack_stack(&ts, TS_A), SOCK_STREAM, &lst);
	if (!err)
		err = skiff_bind(lst, &any);
	if (!err)
		err = skiff_listen(lst, 16);
	if (!err)
		err = skiff_socket(twostack_stack(&ts, TS_B), SOCK_STREAM, &rx);
	if (err)
		die("sockets", err);
	skiff_set_handler(rx, on_rx, NULL);
	err = skiff_connect(rx, &dst);
	if (err != -EINPROGRESS)
		die("skiff_connect", err);
	if (!twostack_run(&ts, 5 * NSEC_PER_SEC, cond_accepted, NULL) || err_seen)
		die("no connection", 0);

	segs0 = twostack_stack(&ts, TS_A)->stats->tcp_out_segs;
	segs_b = twostack_stack(&ts, TS_B)->stats->tcp_out_segs;
	sim0 = clock_now();
	CALLGRIND_ZERO_STATS;
	t0 = now_s();
	if (!twostack_run(&ts, 600 * NSEC_PER_SEC, cond_done, NULL) || err_seen)
		die("transfer did not complete; MiB received", (long)(got >> 20));
	dt = now_s() - t0;
	CALLGRIND_DUMP_STATS_AT("bulk transfer");
	sim = (double)(clock_now() - sim0) / 1e9;
	segs_a = twostack_stack(&ts, TS_A)->stats->tcp_out_segs - segs0;
	segs_b = twostack_stack(&ts, TS_B)->stats->tcp_out_segs - segs_b;

	memset(&info, 0, sizeof(info));
	tcp_walk(twostack_stack(&ts, TS_A), find_conn, &info);
	printf("bench_bulk: %llu MiB A->B in %zu-byte sends (%s, %s): %.3f s real, %.1f MiB/s on one "
	       "core (both stacks and the link); %.3f s simulated\n",
	       (unsigned long long)mib, piece, argc > 3 ? argv[3] : "cork", argc > 4 ? argv[4] : "mem",
	       dt, (double)mib / dt, sim);
	printf("bench_bulk: per MiB %.1f data segments, %.1f ACKs; sender cwnd %u B, peer window "
	       "%u B, mss %u, retransmissions %llu; bad bytes %llu: %s\n",
	       (double)segs_a / (double)mib, (double)segs_b / (double)mib, info.cwnd, info.snd_wnd,
	       info.mss, (unsigned long long)info.retrans, (unsigned long long)bad,
	       bad || got != total ? "FAIL" : "ok");

	skiff_close(tx);
	skiff_close(rx);
	skiff_close(lst);
	twostack_run(&ts, 200 * NSEC_PER_SEC, NULL, NULL);
	twostack_fini(&ts);
	fmap_put(src_fm);
	free(rbuf);
	if (src_fd >= 0)
		close(src_fd);
	return bad || got != total ? 1 : 0;
}
