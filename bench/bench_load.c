// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_load: the load side of the end-to-end comparisons in `make bench`
 * (scripts/bench.sh), run in the peer namespace against skiffd or against
 * the kernel (bench_kserver) on the same veth:
 *
 *   bench_load tcpsend ADDR PORT BYTES
 *       connect, send BYTES (suffix K/M/G) from one buffer, shut down the
 *       write side and wait for the server's FIN; prints
 *       "tcpsend: N bytes in S s, G Gbit/s" (time from connect to the FIN);
 *       BENCH_TCP_CC=ALG (environment) sets its congestion control
 *   bench_load udp ADDR PORT SECONDS INFLIGHT [SIZE]
 *       UDP request/response on one socket: keep INFLIGHT requests of SIZE
 *       bytes (default 64) outstanding, each stamped with its send time;
 *       a reply frees a slot.  Requests not answered within 20 ms count as
 *       lost and free theirs.  Prints replies/s and the latency percentiles
 *       of the replies.  INFLIGHT 1 is the latency test (blocking, the
 *       client sleeps in poll() between replies); a large INFLIGHT the rate
 *       test, where this one kernel-socket client may itself be the limit
 *       (see the baseline: a socket sender saturates its core near 1 Mpps).
 *   bench_load tcprr ADDR PORT SECONDS [SIZE]
 *       TCP request/response on one connection (TCP_NODELAY) to an echo
 *       server: send SIZE bytes (default 64), wait (blocking) until all SIZE
 *       come back, again, for SECONDS; prints the round trips per second
 *       and their latency percentiles, in the udp mode's format.  Fails if
 *       the connection fails or the server closes it.
 *
 * Not part of skiff.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define LOST_NS 20000000ULL /* 20 ms without a reply: lost */
#define FINE_NS 10	    /* histogram: 10 ns buckets ... */
#define FINE_N 100000	    /* ... up to 1 ms */
#define COARSE_NS 10000	    /* then 10 us buckets ... */
#define COARSE_N 100000	    /* ... up to 1 s */

static uint64_t hist[FINE_N + COARSE_N];
static uint64_t nsamples;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	switch (*end) {
	case 'G':
	case 'g':
		return v << 30;
	case 'M':
	case 'm':
		return v << 20;
	case 'K':
	case 'k':
		return v << 10;
	default:
		return v;
	}
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(port));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static int tcp_send(const struct sockaddr_in *sa, uint64_t bytes)
{
	static char buf[1 << 20];
	uint64_t left = bytes, t0, t1;
	char drain[4096];
	const char *cc;
	ssize_t n;
	int fd;

	memset(buf, 0xa5, sizeof(buf));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	cc = getenv("BENCH_TCP_CC");
	if (cc && *cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
		goto err;
	t0 = now_ns();
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		goto err;
	while (left) {
		n = send(fd, buf, left < sizeof(buf) ? left : sizeof(buf), MSG_NOSIGNAL);
		if (n < 0)
			goto err;
		left -= (uint64_t)n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		goto err;
	while ((n = recv(fd, drain, sizeof(drain), 0)) > 0)
		;
	if (n < 0)
		goto err;
	t1 = now_ns();
	close(fd);
	printf("tcpsend: %llu bytes in %.3f s, %.3f Gbit/s\n", (unsigned long long)bytes,
	       (double)(t1 - t0) / 1e9, (double)bytes * 8 / (double)(t1 - t0));
	return 0;
err:
	n = -errno;
	close(fd);
	return (int)n;
}

static void hist_add(uint64_t ns)
{
	size_t i;

	if (ns < (uint64_t)FINE_N * FINE_NS)
		i = ns / FINE_NS;
	else if (ns < (uint64_t)FINE_N * FINE_NS + (uint64_t)COARSE_N * COARSE_NS)
		i = FINE_N + (ns - (uint64_t)FINE_N * FINE_NS) / COARSE_NS;
	else
		i = FINE_N + COARSE_N - 1;
	hist[i]++;
	nsamples++;
}

static double hist_pct(double p)
{
	uint64_t want = (uint64_t)(p * (double)nsamples), seen = 0;
	size_t i;

	for (i = 0; i < FINE_N + COARSE_N; i++) {
		seen += hist[i];
		if (seen > want)
			break;
	}
	if (i < FINE_N)
		return (double)(i * FINE_NS) / 1000.0;
	return ((double)FINE_N * FINE_NS + (double)(i - FINE_N) * COARSE_NS) / 1000.0;
}

/* Outstanding requests: send time by slot; the slot number travels in the payload. */
struct slot {
	uint64_t sent; /* 0 = free */
	uint32_t gen;  /* a late reply to a slot reused since is ignored */
};

static int udp_rr(const struct sockaddr_in *sa, double secs, unsigned int inflight, size_t size)
{
	static char rbuf[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	char(*sbuf)[2048];
	struct slot *slots;
	unsigned int *freelist, nfree, i;
	uint64_t t0, end, now, sent = 0, replies = 0, lost = 0, last_check;
	struct pollfd pfd;
	int fd, n;

	if (size < 8 || size > 2048 || !inflight)
		return -EINVAL;
	slots = calloc(inflight, sizeof(*slots));
	freelist = calloc(inflight, sizeof(*freelist));
	sbuf = calloc(BATCH, sizeof(*sbuf));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!slots || !freelist || !sbuf || fd < 0 ||
	    connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return -errno;
	n = 8 << 20; /* FORCE: past rmem_max/wmem_max (root) */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof(n));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &n, sizeof(n));
	for (i = 0; i < inflight; i++)
		freelist[i] = inflight - 1 - i;
	nfree = inflight;
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	t0 = last_check = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (now = t0; now < end; now = now_ns()) {
		unsigned int k = 0;

		/* refill the window */
		while (nfree && k < BATCH) {
			unsigned int s = freelist[--nfree];
			uint32_t hdr[2] = {s, ++slots[s].gen};

			slots[s].sent = now;
			memcpy(sbuf[k], hdr, sizeof(hdr));
			iov[k] = (struct iovec){.iov_base = sbuf[k], .iov_len = size};
			msgs[k].msg_hdr = (struct msghdr){.msg_iov = &iov[k], .msg_iovlen = 1};
			k++;
		}
		if (k) {
			n = sendmmsg(fd, msgs, k, 0);
			if (n < 0)
				n = 0; /* ENOBUFS/ECONNREFUSED: those requests time out */
			sent += (uint64_t)n;
			/* slots of unsent requests are left to time out: rare */
		}
		if (poll(&pfd, 1, nfree ? 0 : 5) > 0) {
			for (i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){.iov_base = rbuf[i],
							.iov_len = sizeof(rbuf[i])};
				msgs[i].msg_hdr =
					(struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
			}
			n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
			now = now_ns();
			for (i = 0; n > 0 && i < (unsigned int)n; i++) {
				uint32_t hdr[2];

				if (msgs[i].msg_len < sizeof(hdr))
					continue;
				memcpy(hdr, rbuf[i], sizeof(hdr));
				if (hdr[0] >= inflight || slots[hdr[0]].gen != hdr[1] ||
				    !slots[hdr[0]].sent)
					continue; /* duplicate or too late */
				hist_add(now - slots[hdr[0]].sent);
				slots[hdr[0]].sent = 0;
				freelist[nfree++] = hdr[0];
				replies++;
			}
		}
		if (now - last_check > LOST_NS / 4) {
			last_check = now;
			for (i = 0; i < inflight; i++) {
				if (slots[i].sent && now - slots[i].sent > LOST_NS) {
					slots[i].sent = 0;
					freelist[nfree++] = i;
					lost++;
				}
			}
		}
	}
	now = now_ns();
	printf("udp: inflight %u size %zu: %llu sent, %llu replies, %llu lost in %.2f s: "
	       "%.0f replies/s, latency p50 %.1f us p99 %.1f us p99.9 %.1f us\n",
	       inflight, size, (unsigned long long)sent, (unsigned long long)replies,
	       (unsigned long long)lost, (double)(now - t0) / 1e9,
	       (double)replies * 1e9 / (double)(now - t0), hist_pct(0.5), hist_pct(0.99),
	       hist_pct(0.999));
	close(fd);
	free(slots);
	free(freelist);
	free(sbuf);
	return 0;
}

static int tcp_rr(const struct sockaddr_in *sa, double secs, size_t size)
{
	static char sbuf[65536], rbuf[65536];
	uint64_t t0, end, now, sent, rtts = 0;
	size_t got;
	ssize_t n;
	int fd, one = 1, err;

	if (size < 1 || size > sizeof(sbuf))
		return -EINVAL;
	memset(sbuf, 0x5a, size);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		goto err;
	t0 = now = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now < end) {
		sent = now_ns();
		for (got = 0; got < size; got += (size_t)n) {
			n = send(fd, sbuf + got, size - got, MSG_NOSIGNAL);
			if (n < 0)
				goto err;
		}
		for (got = 0; got < size; got += (size_t)n) {
			n = recv(fd, rbuf, size - got, 0);
			if (n < 0)
				goto err;
			if (n == 0) {
				errno = ECONNRESET; /* the server closed mid-exchange */
				goto err;
			}
		}
		now = now_ns();
		hist_add(now - sent);
		rtts++;
	}
	printf("tcprr: size %zu: %llu round trips in %.2f s: %.0f replies/s, "
	       "latency p50 %.1f us p99 %.1f us p99.9 %.1f us\n",
	       size, (unsigned long long)rtts, (double)(now - t0) / 1e9,
	       (double)rtts * 1e9 / (double)(now - t0), hist_pct(0.5), hist_pct(0.99),
	       hist_pct(0.999));
	close(fd);
	return 0;
err:
	err = -errno;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int err;

	if (argc >= 5 && !strcmp(argv[1], "tcpsend") && !parse_addr(argv[2], argv[3], &sa)) {
		err = tcp_send(&sa, parse_size(argv[4]));
	} else if (argc >= 6 && !strcmp(argv[1], "udp") && !parse_addr(argv[2], argv[3], &sa)) {
		err = udp_rr(&sa, atof(argv[4]), (unsigned int)atoi(argv[5]),
			     argc > 6 ? (size_t)atoi(argv[6]) : 64);
	} else if (argc >= 5 && !strcmp(argv[1], "tcprr") && !parse_addr(argv[2], argv[3], &sa)) {
		err = tcp_rr(&sa, atof(argv[4]), argc > 5 ? (size_t)atoi(argv[5]) : 64);
	} else {
		fprintf(stderr, "usage: bench_load tcpsend ADDR PORT BYTES |"
				" udp ADDR PORT SECONDS INFLIGHT [SIZE] |"
				" tcprr ADDR PORT SECONDS [SIZE]\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "bench_load: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
