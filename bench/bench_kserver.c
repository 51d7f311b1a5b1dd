// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_kserver: the Linux kernel's side of the end-to-end comparisons in
 * `make bench` (scripts/bench.sh).  Small servers on kernel sockets, each
 * one thread, so that skiffd (one worker) is compared with a kernel server
 * of the same shape on the same veth:
 *
 *   bench_kserver http ADDR PORT DIR   HTTP/1.1 GET/HEAD of the files under
 *                                      DIR: epoll, sendfile(), keep-alive
 *                                      (HTTP/1.1 default or "Connection:
 *                                      keep-alive"), pipelining
 *   bench_kserver discard ADDR PORT    TCP: read and drop, close at EOF
 *   bench_kserver echo ADDR PORT [N]   TCP echo: what is read is sent back
 *                                      (small messages: a partial send drops
 *                                      the rest), close at EOF; N > 1: N
 *                                      processes with SO_REUSEPORT listeners,
 *                                      for more connections than one
 *                                      process's RLIMIT_NOFILE (the
 *                                      connection-scale bench)
 *   bench_kserver udpecho ADDR PORT [N]
 *                                      UDP echo: recvmmsg/sendmmsg, 64 a call,
 *                                      blocking (sleeps when idle, as skiffd);
 *                                      N > 1 (at most 16): N SO_REUSEPORT
 *                                      sockets, one thread each, thread i
 *                                      pinned to CPU i, and a classic BPF
 *                                      reuseport program that gives each
 *                                      datagram to the socket of the CPU that
 *                                      received it (SKF_AD_CPU), the shape of
 *                                      skiffd --queues N --cpus 0,..,N-1
 *                                      (one worker per RX queue, on the CPU
 *                                      where that queue is received)
 *
 * Prints "ready" once listening; runs until SIGTERM or SIGINT.
 * BENCH_TCP_CC=ALG (environment) sets the TCP congestion control.  Not part of
 * skiff: a reference that is not slowed by an interpreter (python's
 * http.server is far below the kernel's TCP rate) and needs no package.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/filter.h>
#include <pthread.h>
#include <sched.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define REQ_MAX 8192
#define UDP_BATCH 64
#define UDP_MAX 2048
#define UDP_THREADS 16

static volatile sig_atomic_t stopping;
static bool echo;	/* tcp_serve() echoes instead of discarding */
static bool reuseport;	/* listeners with SO_REUSEPORT (echo N) */
static bool quiet;	/* a forked echo process: no "ready" */

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(port));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/*
 * BENCH_TCP_CC=ALG in the environment: the listening socket's congestion
 * control (accepted sockets inherit it).  Per socket, because a network
 * namespace may set its default only to an algorithm in
 * net.ipv4.tcp_allowed_congestion_control, while setsockopt() with
 * CAP_NET_ADMIN may pick any.
 */
static int set_cc(int fd)
{
	const char *cc = getenv("BENCH_TCP_CC");

	if (!cc || !*cc)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc));
}

/* A bound socket: a non-blocking listening one if stream, else UDP. */
static int open_socket(bool stream, const struct sockaddr_in *sa)
{
	int fd, one = 1;

	fd = socket(AF_INET, (stream ? SOCK_STREAM | SOCK_NONBLOCK : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (stream && reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (stream && set_cc(fd) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    (stream && listen(fd, 4096) < 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* ---- HTTP ---------------------------------------------------------- */

struct conn {
	int fd;
	int file;	/* being sent, or -1 */
	off_t off, end; /* file range left to send */
	bool keepalive; /* after this response */
	bool want_out;	/* registered for EPOLLOUT */
	size_t len;	/* bytes in req */
	char req[REQ_MAX];
};

static const char *docroot;

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->file >= 0)
		close(c->file);
	free(c);
}

static int send_all(int fd, const char *buf, size_t len, int flags)
{
	while (len) {
		ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);

		if (n < 0)
			return -errno; /* a small header into an empty buffer: never EAGAIN in practice */
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int reply_status(struct conn *c, int code, const char *text)
{
	char h[256];
	int n;

	n = snprintf(h, sizeof(h),
		     "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code,
		     text);
	c->keepalive = false;
	return send_all(c->fd, h, (size_t)n, 0);
}

/* Parse one complete request of hlen bytes at c->req; start its response. */
static int http_start(struct conn *c, size_t hlen)
{
	char method[8], path[1024], version[16], full[PATH_MAX], h[256];
	const char *p, *conn_hdr;
	bool head;
	struct stat st;
	int n, fd;

	c->req[hlen - 1] = '\0';
	if (sscanf(c->req, "%7s %1023s %15s", method, path, version) != 3)
		return reply_status(c, 400, "Bad Request");
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET"))
		return reply_status(c, 405, "Method Not Allowed");
	c->keepalive = !strcmp(version, "HTTP/1.1");
	for (p = strchr(c->req, '\n'); p; p = strchr(p + 1, '\n')) {
		if (strncasecmp(p + 1, "Connection:", 11))
			continue;
		conn_hdr = p + 12;
		while (*conn_hdr == ' ')
			conn_hdr++;
		if (!strncasecmp(conn_hdr, "close", 5))
			c->keepalive = false;
		else if (!strncasecmp(conn_hdr, "keep-alive", 10))
			c->keepalive = true;
	}
	if (path[0] != '/' || strstr(path, ".."))
		return reply_status(c, 404, "Not Found");
	snprintf(full, sizeof(full), "%s%s", docroot, path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return reply_status(c, 404, "Not Found");
	}
	n = snprintf(h, sizeof(h),
		     "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
		     "Content-Type: application/octet-stream\r\nConnection: %s\r\n\r\n",
		     (long long)st.st_size, c->keepalive ? "keep-alive" : "close");
	if (head || !st.st_size) {
		close(fd);
		return send_all(c->fd, h, (size_t)n, 0);
	}
	c->file = fd;
	c->off = 0;
	c->end = st.st_size;
	return send_all(c->fd, h, (size_t)n, MSG_MORE);
}

/* Push the file; 1 = done, 0 = socket full, <0 = error. */
static int http_push(struct conn *c)
{
	while (c->off < c->end) {
		ssize_t n = sendfile(c->fd, c->file, &c->off, (size_t)(c->end - c->off));

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (!n)
			return -EIO; /* file shrank */
	}
	close(c->file);
	c->file = -1;
	return 1;
}

static void set_out(int ep, struct conn *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};

	if (c->want_out != on) {
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = on;
	}
}

/* Serve whatever complete requests are buffered; 0 = keep, <0 = close. */
static int http_progress(int ep, struct conn *c)
{
	for (;;) {
		char *eoh;
		size_t hlen;
		int r;

		if (c->file >= 0) {
			r = http_push(c);
			if (r < 0)
				return r;
			if (!r) {
				set_out(ep, c, true);
				return 0;
			}
			if (!c->keepalive)
				return -ECONNRESET;
		}
		set_out(ep, c, false);
		eoh = memmem(c->req, c->len, "\r\n\r\n", 4);
		if (!eoh) {
			if (c->len == REQ_MAX)
				return -EMSGSIZE;
			return 0;
		}
		hlen = (size_t)(eoh - c->req) + 4;
		r = http_start(c, hlen);
		memmove(c->req, c->req + hlen, c->len - hlen);
		c->len -= hlen;
		if (r < 0)
			return r;
		if (c->file < 0 && !c->keepalive)
			return -ECONNRESET;
	}
}

static int http_readable(int ep, struct conn *c)
{
	ssize_t n;

	if (c->file >= 0)
		return http_progress(ep, c); /* finish the response before reading on */
	n = recv(c->fd, c->req + c->len, REQ_MAX - c->len, 0);
	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -ECONNRESET;
	c->len += (size_t)n;
	return http_progress(ep, c);
}

/* ---- the epoll loop (http and discard) ------------------------------ */

static int accept_all(int ep, int lfd, bool http)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN};
		struct conn *c;
		int fd, one = 1;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (http)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, http ? sizeof(*c) : offsetof(struct conn, req));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->file = -1;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static int echo_readable(struct conn *c)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n > 0) {
			(void)send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
			continue;
		}
		return n < 0 && errno == EAGAIN ? 0 : -ECONNRESET;
	}
}

static int discard_readable(struct conn *c)
{
	static char sink[1 << 18];

	for (;;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);

		if (n > 0)
			continue;
		return n < 0 && errno == EAGAIN ? 0 : -ECONNRESET;
	}
}

static int tcp_serve(const struct sockaddr_in *sa, bool http)
{
	struct epoll_event evs[256], lev = {.events = EPOLLIN, .data.ptr = NULL};
	int lfd, ep, i, n;

	lfd = open_socket(true, sa);
	if (lfd < 0)
		return lfd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0)
		return -errno;
	if (!quiet) {
		printf("ready\n");
		fflush(stdout);
	}
	while (!stopping) {
		n = epoll_wait(ep, evs, 256, 500);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int r;

			if (!c) {
				accept_all(ep, lfd, http);
				continue;
			}
			if (echo)
				r = echo_readable(c);
			else if (!http)
				r = discard_readable(c);
			else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				r = http_readable(ep, c);
			else
				r = http_progress(ep, c);
			if (r < 0)
				conn_close(ep, c);
		}
	}
	return 0;
}

/* ---- UDP echo -------------------------------------------------------- */

/* A bound UDP socket; SO_REUSEPORT first if reuse (the multi-socket mode). */
static int udp_socket(const struct sockaddr_in *sa, bool reuse)
{
	struct timeval tv = {.tv_usec = 500000};
	int fd, one = 1, bufsz = 8 << 20;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	/* wake up now and then to notice SIGTERM (SA_RESTART is not set, but be sure) */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* room for a burst: the default (~200 KiB of skb truesize) drops a few hundred */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		goto fail;
	return fd;
fail:
	one = -errno;
	close(fd);
	return one;
}

/*
 * The reuseport group's selector: A = the receiving CPU; return A.  The
 * kernel takes the socket of that index in the group (the order of bind()),
 * and falls back to its hash when the index is out of range.
 */
static int udp_steer_by_cpu(int fd)
{
	struct sock_filter code[] = {
		{BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU)},
		{BPF_RET | BPF_A, 0, 0, 0},
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

struct udp_worker {
	pthread_t tid;
	int fd;
	int cpu; /* -1: not pinned */
	int err;
};

static void *udp_echo_loop(void *arg)
{
	struct udp_worker *w = arg;
	static __thread char bufs[UDP_BATCH][UDP_MAX];
	struct sockaddr_in from[UDP_BATCH];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int fd = w->fd, i, n;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		w->err = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (w->err)
			return NULL;
	}
	while (!stopping) {
		for (i = 0; i < UDP_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = UDP_MAX};
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
			};
		}
		n = recvmmsg(fd, msgs, UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		/* replies the socket cannot take are dropped, as a full TX ring would */
		sendmmsg(fd, msgs, (unsigned int)n, MSG_DONTWAIT);
	}
	return NULL;
}

/* nthreads == 1: one socket, served in this thread, unpinned (taskset). */
static int udp_echo(const struct sockaddr_in *sa, int nthreads)
{
	static struct udp_worker w[UDP_THREADS];
	int i, err = 0, started;

	for (i = 0; i < nthreads; i++) {
		w[i].cpu = nthreads > 1 ? i : -1;
		w[i].fd = udp_socket(sa, nthreads > 1);
		if (w[i].fd < 0)
			return w[i].fd;
	}
	if (nthreads > 1) {
		err = udp_steer_by_cpu(w[0].fd);
		if (err)
			return err;
	}
	if (nthreads == 1) {
		printf("ready\n");
		fflush(stdout);
		udp_echo_loop(&w[0]);
		return w[0].err;
	}
	for (started = 0; started < nthreads; started++) {
		err = -pthread_create(&w[started].tid, NULL, udp_echo_loop, &w[started]);
		if (err) {
			stopping = 1;
			break;
		}
	}
	/* after the threads exist: the bench renices every thread once ready */
	if (!err) {
		printf("ready\n");
		fflush(stdout);
	}
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		if (!err)
			err = w[i].err;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct sockaddr_in addr;
	int err;

	if (argc < 4 || parse_addr(argv[2], argv[3], &addr)) {
		fprintf(stderr, "usage: bench_kserver http ADDR PORT DIR | discard ADDR PORT |"
				" echo ADDR PORT [PROCS] | udpecho ADDR PORT [THREADS]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "http") && argc == 5) {
		docroot = argv[4];
		err = tcp_serve(&addr, true);
	} else if (!strcmp(argv[1], "discard")) {
		err = tcp_serve(&addr, false);
	} else if (!strcmp(argv[1], "echo") && argc <= 5) {
		int n = argc == 5 ? atoi(argv[4]) : 1, i;
		pid_t kids[64];

		if (n < 1 || n > 64) {
			fprintf(stderr, "bench_kserver: echo processes 1..64\n");
			return 2;
		}
		echo = true;
		reuseport = n > 1;
		for (i = 1; i < n; i++) {
			pid_t pid = fork();

			if (pid < 0)
				return 1;
			if (!pid) {
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				quiet = true;
				return tcp_serve(&addr, false) ? 1 : 0;
			}
			kids[i] = pid;
		}
		err = tcp_serve(&addr, false);
		/* stopped by a signal to this process: the others stop with it */
		for (i = 1; i < n; i++)
			kill(kids[i], SIGTERM);
		while (wait(NULL) > 0)
			;
	} else if (!strcmp(argv[1], "udpecho") && argc <= 5) {
		int n = argc == 5 ? atoi(argv[4]) : 1;

		if (n < 1 || n > UDP_THREADS) {
			fprintf(stderr, "bench_kserver: udpecho threads 1..%d\n", UDP_THREADS);
			return 2;
		}
		err = udp_echo(&addr, n);
	} else {
		fprintf(stderr, "bench_kserver: unknown mode %s\n", argv[1]);
		return 2;
	}
	if (err) {
		fprintf(stderr, "bench_kserver: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
