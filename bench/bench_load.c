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
 *   bench_load tcprrn ADDR PORT SECONDS FLOWS [SIZE]
 *       TCP request/response on FLOWS connections at once (TCP_NODELAY,
 *       connected before the clock starts), each with one SIZE-byte
 *       (default 64) request outstanding: when its whole reply is back the
 *       next request goes out.  One thread, epoll.  Prints
 *       "tcprrn: flows N size S: T transactions in X s: R trans/s".
 *   bench_load tcpcrr ADDR PORT SECONDS FLOWS [SIZE]
 *       connect/request/close on FLOWS slots at once: a non-blocking
 *       connect, one SIZE-byte request, its whole reply, close() (the
 *       client closes first and keeps the TIME_WAIT: the bench widens the
 *       peer's port range and sets tcp_tw_reuse), then the next connection
 *       in that slot.  Prints "tcpcrr: flows N size S: C connections in X
 *       s: R conn/s, E errors"; exits 1 if any connection failed (refused,
 *       reset, timed out, closed early).
 *
 * Not part of skiff.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

/* ---- many flows at once (tcprrn, tcpcrr) ------------------------------- */

#define FLOWS_MAX 4096
#define RR_SIZE_MAX 4096

struct flow {
	int fd;		    /* -1: none */
	size_t got;	    /* reply bytes so far */
	bool connecting;    /* tcpcrr: connect() in progress */
};

static char rr_req[RR_SIZE_MAX];

/* A socket to sa, TCP_NODELAY, connect() started (blocking: done).  Returns the fd or -errno. */
static int flow_connect(const struct sockaddr_in *sa, bool nonblock)
{
	int fd, one = 1, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Send the whole request (small: fits any fresh send buffer).  0 or -errno. */
static int flow_send(int fd, size_t size)
{
	ssize_t n = send(fd, rr_req, size, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	return (size_t)n == size ? 0 : -EAGAIN; /* a short send of a small request: give up */
}

/*
 * Read what is there of f's reply.  Returns 1 when all size bytes are in,
 * 0 if more is to come, -errno on an error or an early close.
 */
static int flow_recv(struct flow *f, size_t size)
{
	static char buf[RR_SIZE_MAX];
	ssize_t n;

	for (;;) {
		n = recv(f->fd, buf, size - f->got, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return -ECONNRESET; /* closed before the whole reply */
		f->got += (size_t)n;
		if (f->got >= size)
			return 1;
	}
}

static int flows_epoll_set(int ep, int op, struct flow *f, unsigned int i, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u32 = i};

	return epoll_ctl(ep, op, f->fd, &ev) < 0 ? -errno : 0;
}

/* tcprrn: FLOWS connections, one request outstanding on each. */
static int tcp_rrn(const struct sockaddr_in *sa, double secs, unsigned int nflows, size_t size)
{
	static struct epoll_event evs[256];
	struct flow *fl;
	uint64_t t0, end, now, trans = 0;
	unsigned int i;
	int ep, n, k, err = 0;

	if (!nflows || nflows > FLOWS_MAX || !size || size > RR_SIZE_MAX)
		return -EINVAL;
	fl = calloc(nflows, sizeof(*fl));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!fl || ep < 0)
		return -ENOMEM;
	memset(rr_req, 0x5a, size);
	for (i = 0; i < nflows; i++)
		fl[i].fd = -1;
	for (i = 0; i < nflows && !err; i++) {
		fl[i].fd = flow_connect(sa, false);
		if (fl[i].fd < 0) {
			err = fl[i].fd;
			fl[i].fd = -1;
		} else {
			err = flows_epoll_set(ep, EPOLL_CTL_ADD, &fl[i], i, EPOLLIN);
		}
	}
	t0 = now = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (i = 0; i < nflows && !err; i++)
		err = flow_send(fl[i].fd, size);
	while (!err && now < end) {
		n = epoll_wait(ep, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			err = -errno;
		for (k = 0; k < n && !err; k++) {
			struct flow *f = &fl[evs[k].data.u32];
			int r = flow_recv(f, size);

			if (r < 0)
				err = r;
			else if (r > 0) {
				trans++;
				f->got = 0;
				err = flow_send(f->fd, size);
			}
		}
		now = now_ns();
	}
	if (!err)
		printf("tcprrn: flows %u size %zu: %llu transactions in %.2f s: %.0f trans/s\n",
		       nflows, size, (unsigned long long)trans, (double)(now - t0) / 1e9,
		       (double)trans * 1e9 / (double)(now - t0));
	for (i = 0; i < nflows; i++)
		if (fl[i].fd >= 0)
			close(fl[i].fd);
	close(ep);
	free(fl);
	return err;
}

/* tcpcrr: start slot i's next connection.  0 or -errno. */
static int crr_start(int ep, const struct sockaddr_in *sa, struct flow *f, unsigned int i)
{
	f->fd = flow_connect(sa, true);
	if (f->fd < 0)
		return f->fd;
	f->got = 0;
	f->connecting = true;
	return flows_epoll_set(ep, EPOLL_CTL_ADD, f, i, EPOLLOUT);
}

/* tcpcrr: an event on slot f (index i).  1 when its transaction is done, 0, or -errno. */
static int crr_event(int ep, struct flow *f, unsigned int i, size_t size)
{
	int r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (f->connecting) {
		if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -errno;
		if (soerr)
			return -soerr;
		f->connecting = false;
		r = flow_send(f->fd, size);
		return r ? r : flows_epoll_set(ep, EPOLL_CTL_MOD, f, i, EPOLLIN);
	}
	r = flow_recv(f, size);
	if (r > 0) {
		close(f->fd); /* also leaves the epoll set */
		f->fd = -1;
	}
	return r;
}

static int tcp_crr(const struct sockaddr_in *sa, double secs, unsigned int nflows, size_t size)
{
	static struct epoll_event evs[256];
	struct flow *fl;
	uint64_t t0, end, now, conns = 0, errors = 0;
	unsigned int i;
	int ep, n, k, r, first = 0;

	if (!nflows || nflows > FLOWS_MAX || !size || size > RR_SIZE_MAX)
		return -EINVAL;
	fl = calloc(nflows, sizeof(*fl));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!fl || ep < 0)
		return -ENOMEM;
	memset(rr_req, 0x5a, size);
	t0 = now = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (i = 0; i < nflows; i++) {
		r = crr_start(ep, sa, &fl[i], i);
		if (r < 0) {
			fl[i].fd = -1;
			errors++;
			first = first ? first : r;
		}
	}
	while (now < end && errors < 1000) {
		n = epoll_wait(ep, evs, 256, 100);
		if (n < 0 && errno != EINTR) {
			first = first ? first : -errno;
			break;
		}
		now = now_ns();
		for (k = 0; k < n; k++) {
			i = evs[k].data.u32;
			r = crr_event(ep, &fl[i], i, size);
			if (r == 0)
				continue;
			if (r > 0) {
				conns++;
			} else {
				errors++;
				first = first ? first : r;
				close(fl[i].fd);
				fl[i].fd = -1;
			}
			if (now < end && (r = crr_start(ep, sa, &fl[i], i)) < 0) {
				fl[i].fd = -1;
				errors++;
				first = first ? first : r;
			}
		}
	}
	now = now_ns();
	printf("tcpcrr: flows %u size %zu: %llu connections in %.2f s: %.0f conn/s, %llu errors%s%s\n",
	       nflows, size, (unsigned long long)conns, (double)(now - t0) / 1e9,
	       (double)conns * 1e9 / (double)(now - t0), (unsigned long long)errors,
	       first ? ", first: " : "", first ? strerror(-first) : "");
	for (i = 0; i < nflows; i++)
		if (fl[i].fd >= 0)
			close(fl[i].fd);
	close(ep);
	free(fl);
	return errors ? -EIO : 0;
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
	} else if (argc >= 6 && !strcmp(argv[1], "tcprrn") && !parse_addr(argv[2], argv[3], &sa)) {
		err = tcp_rrn(&sa, atof(argv[4]), (unsigned int)atoi(argv[5]),
			      argc > 6 ? (size_t)atoi(argv[6]) : 64);
	} else if (argc >= 6 && !strcmp(argv[1], "tcpcrr") && !parse_addr(argv[2], argv[3], &sa)) {
		err = tcp_crr(&sa, atof(argv[4]), (unsigned int)atoi(argv[5]),
			      argc > 6 ? (size_t)atoi(argv[6]) : 64);
	} else {
		fprintf(stderr, "usage: bench_load tcpsend ADDR PORT BYTES |"
				" udp ADDR PORT SECONDS INFLIGHT [SIZE] |"
				" tcprr ADDR PORT SECONDS [SIZE] |"
				" tcprrn|tcpcrr ADDR PORT SECONDS FLOWS [SIZE]\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "bench_load: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
