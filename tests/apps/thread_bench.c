// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * N threads, each on a connection of its own to ADDR:PORT, all started at
 * once and stopped after SECS; what they did, per thread and in total
 * (test_apps.py runs it against a kernel echo server; docs/apps.md has the
 * figures).  The modes:
 *
 *   poll  skiff_recv(MSG_DONTWAIT) on an idle connection, again and again:
 *         the library's own cost of a data call (locks, table lookups),
 *         skiffd not involved
 *   rr    64-byte request, wait for the 64-byte echo: round trips
 *   bulk  send 16 KiB, read back what has come, until SECS, then collect
 *         the rest: bytes echoed (checked: the echo is the bytes sent)
 *
 * Prints "thread K COUNT" for each thread and "total COUNT PER_SECOND".
 * Exit status 0 only if every thread got somewhere and every echo matched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skiff/skiff_socket.h>

#define MAX_THREADS 64
#define BULK_CHUNK 16384

enum mode { M_POLL, M_RR, M_BULK };

static struct {
	struct sockaddr_in peer;
	enum mode mode;
	int n;
	double secs;
	pthread_barrier_t go;
	atomic_bool stop;
	uint64_t count[MAX_THREADS];
	bool bad[MAX_THREADS];
} B;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The byte at stream position pos of thread k: what the echo must match. */
static uint8_t pattern(int k, uint64_t pos)
{
	return (uint8_t)(pos * 131 + (uint64_t)k * 7 + (pos >> 9));
}

static bool recv_exact(int c, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = skiff_recv(c, buf + got, len - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* Read what comes (waiting for it unless flags say MSG_DONTWAIT) and check
 * it against the pattern from *got on: 1 read, 0 nothing yet, -1 wrong
 * bytes or the connection gone. */
static int take_echo(int c, int k, uint64_t *got, int flags)
{
	static __thread uint8_t in[BULK_CHUNK];
	ssize_t r = skiff_recv(c, in, sizeof(in), flags);
	uint64_t i;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		return -1;
	for (i = 0; i < (uint64_t)r; i++)
		if (in[i] != pattern(k, *got + i))
			return -1;
	*got += (uint64_t)r;
	return 1;
}

static bool run_bulk(int k, int c)
{
	static __thread uint8_t out[BULK_CHUNK];
	uint64_t sent = 0, got = 0, i;
	int r;

	while (!atomic_load(&B.stop)) {
		for (i = 0; i < BULK_CHUNK; i++)
			out[i] = pattern(k, sent + i);
		if (skiff_send(c, out, BULK_CHUNK, MSG_NOSIGNAL) != BULK_CHUNK)
			return false;
		sent += BULK_CHUNK;
		/* read what is there, waiting when far behind so the peer's
		 * buffers never fill (the echo is blocking) */
		do {
			r = take_echo(c, k, &got, sent - got > 4 * BULK_CHUNK ? 0 : MSG_DONTWAIT);
			if (r < 0)
				return false;
		} while (r && sent - got > 4 * BULK_CHUNK);
	}
	while (got < sent)
		if (take_echo(c, k, &got, 0) < 0)
			return false;
	B.count[k] = got;
	return true;
}

/* poll: one recv() on an idle connection, which must say EAGAIN. */
static bool idle_recv(int c)
{
	uint8_t buf[64];

	return skiff_recv(c, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/* rr: 64 bytes of v out, the same 64 back. */
static bool round_trip(int c, uint8_t v)
{
	uint8_t buf[64], back[64];

	memset(buf, v, sizeof(buf));
	return skiff_send(c, buf, sizeof(buf), MSG_NOSIGNAL) == sizeof(buf) &&
	       recv_exact(c, back, sizeof(back)) && !memcmp(buf, back, sizeof(buf));
}

static void *thread_main(void *arg)
{
	int k = (int)(intptr_t)arg, c;
	uint64_t n = 0;

	c = skiff_socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || skiff_connect(c, (struct sockaddr *)&B.peer, sizeof(B.peer))) {
		fprintf(stderr, "thread %d: socket/connect: %s\n", k, strerror(errno));
		B.bad[k] = true;
		pthread_barrier_wait(&B.go);
		return NULL;
	}
	pthread_barrier_wait(&B.go);
	if (B.mode == M_BULK) {
		B.bad[k] = !run_bulk(k, c);
	} else {
		while (!atomic_load_explicit(&B.stop, memory_order_relaxed)) {
			if (!(B.mode == M_POLL ? idle_recv(c) : round_trip(c, (uint8_t)(n + (uint64_t)k)))) {
				B.bad[k] = true;
				break;
			}
			n++;
		}
		B.count[k] = n;
	}
	skiff_close(c);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	uint64_t total = 0;
	double t0, t1;
	int k, rc = 0;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &B.peer.sin_addr) != 1) {
		fprintf(stderr, "usage: %s ADDR PORT THREADS SECONDS poll|rr|bulk\n", argv[0]);
		return 2;
	}
	B.peer.sin_family = AF_INET;
	B.peer.sin_port = htons((uint16_t)atoi(argv[2]));
	B.n = atoi(argv[3]);
	B.secs = atof(argv[4]);
	B.mode = !strcmp(argv[5], "poll") ? M_POLL : !strcmp(argv[5], "rr") ? M_RR : M_BULK;
	if (B.n < 1 || B.n > MAX_THREADS || B.secs <= 0 ||
	    (B.mode == M_BULK && strcmp(argv[5], "bulk"))) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_barrier_init(&B.go, NULL, (unsigned int)B.n + 1);
	for (k = 0; k < B.n; k++)
		if (pthread_create(&th[k], NULL, thread_main, (void *)(intptr_t)k)) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	pthread_barrier_wait(&B.go);
	t0 = now();
	while (now() - t0 < B.secs) {
		struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	atomic_store(&B.stop, true);
	t1 = now();
	for (k = 0; k < B.n; k++) {
		pthread_join(th[k], NULL);
		printf("thread %d %llu%s\n", k, (unsigned long long)B.count[k],
		       B.bad[k] ? " FAILED" : "");
		if (B.bad[k] || !B.count[k])
			rc = 1;
		total += B.count[k];
	}
	printf("total %llu %.0f\n", (unsigned long long)total, (double)total / (t1 - t0));
	return rc;
}
