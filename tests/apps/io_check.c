// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp's vectored and message I/O, ioctl, poll, EPOLLET, signals and
 * SO_LINGER checked against POSIX behaviour on a live skiffd
 * (tests/integration/test_apps.py runs it in the DUT namespace):
 *
 *	io_check PEER_IP ECHO_PORT RST_PORT
 *
 * ECHO_PORT on the peer is a kernel echo server that closes after the
 * client's FIN; RST_PORT a kernel server that reads until EOF or a reset
 * and says which.  Prints "ok <check>" per check and exits 0, or
 * "FAIL <check>: ..." and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#include "check.h"

static volatile sig_atomic_t alarms, pipes;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_pipe(int sig)
{
	(void)sig;
	/* raised synchronously (raise()) after the library let go of its
	 * locks: a handler may call it */
	skiff_is_socket(SKIFF_FD_BASE);
	pipes++;
}

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* A blocking connection to sin. */
static int dial(const struct sockaddr_in *sin)
{
	int fd = skiff_socket(AF_INET, SOCK_STREAM, 0);

	EXPECT(fd >= 0, "socket");
	EXPECT(!skiff_connect(fd, (const struct sockaddr *)sin, sizeof(*sin)), "connect");
	return fd;
}

/* Wait until fd has n bytes to read (poll + FIONREAD). */
static void wait_bytes(int fd, int n)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	int v = 0, tries;

	for (tries = 0; tries < 100 && v < n; tries++) {
		EXPECT(skiff_poll(&pf, 1, 5000) == 1 && (pf.revents & POLLIN), "poll");
		EXPECT(!skiff_ioctl(fd, FIONREAD, &v), "FIONREAD");
		if (v < n)
			usleep(10000);
	}
	EXPECT(v == n, "FIONREAD %d, want %d", v, n);
}

/* SIGALRM in ms, once, without SA_RESTART. */
static void alarm_in(int ms)
{
	struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};

	EXPECT(!setitimer(ITIMER_REAL, &it, NULL), "setitimer");
}

int main(int argc, char **argv)
{
	struct sockaddr_in echo, rst;
	struct sigaction sa = {0};
	struct iovec iov[3];
	struct msghdr mh;
	struct pollfd pf[3];
	struct linger lg;
	char a[4], b[5], c[16], buf[64];
	socklen_t sl;
	int fd, p[2], v;
	ssize_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PEER_IP ECHO_PORT RST_PORT\n", argv[0]);
		return 2;
	}
	echo = addr(argv[1], atoi(argv[2]));
	rst = addr(argv[1], atoi(argv[3]));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_pipe;
	sigaction(SIGPIPE, &sa, NULL);

	check = "writev_and_readv_keep_the_bytes_in_order";
	fd = dial(&echo);
	iov[0] = (struct iovec){.iov_base = "abcd", .iov_len = 4};
	iov[1] = (struct iovec){.iov_base = "", .iov_len = 0};
	iov[2] = (struct iovec){.iov_base = "efghi", .iov_len = 5};
	EXPECT(skiff_writev(fd, iov, 3) == 9, "writev");
	wait_bytes(fd, 9);
	iov[0] = (struct iovec){.iov_base = a, .iov_len = sizeof(a)};
	iov[1] = (struct iovec){.iov_base = b, .iov_len = sizeof(b)};
	n = skiff_readv(fd, iov, 2);
	EXPECT(n == 9 && !memcmp(a, "abcd", 4) && !memcmp(b, "efghi", 5), "readv %zd", n);
	EXPECT(skiff_readv(fd, iov, -1) < 0 && errno == EINVAL, "negative iovcnt");
	EXPECT(skiff_writev(fd, iov, 0) == 0, "empty writev");
	ok();

	check = "sendmsg_and_recvmsg_gather_scatter_without_address_or_control";
	iov[0] = (struct iovec){.iov_base = "12", .iov_len = 2};
	iov[1] = (struct iovec){.iov_base = "345", .iov_len = 3};
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	EXPECT(skiff_sendmsg(fd, &mh, MSG_NOSIGNAL) == 5, "sendmsg");
	wait_bytes(fd, 5);
	{ /* TCP reads SOL_SOCKET control messages only, as Linux's: a
	   * malformed one is EINVAL, one skiff cannot honour EOPNOTSUPP */
		union {
			char b[32];
			struct cmsghdr h;
		} cbuf;
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf);
		EXPECT(skiff_sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && errno == EINVAL,
		       "sendmsg with a zero cmsg_len");
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SO_MARK;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		EXPECT(skiff_sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && errno == EOPNOTSUPP,
		       "sendmsg with SO_MARK");
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	{
		struct sockaddr_in from;
		char cbuf[64];

		memset(&mh, 0, sizeof(mh));
		iov[0] = (struct iovec){.iov_base = c, .iov_len = 2};
		iov[1] = (struct iovec){.iov_base = c + 2, .iov_len = 10};
		mh.msg_iov = iov;
		mh.msg_iovlen = 2;
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = skiff_recvmsg(fd, &mh, MSG_PEEK);
		EXPECT(n == 5 && !memcmp(c, "12345", 5), "peek %zd", n);
		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cbuf);
		n = skiff_recvmsg(fd, &mh, 0);
		EXPECT(n == 5 && !memcmp(c, "12345", 5), "recvmsg %zd", n);
		EXPECT(mh.msg_namelen == 0 && mh.msg_controllen == 0 && mh.msg_flags == 0,
		       "namelen %u controllen %zu flags %#x", mh.msg_namelen,
		       (size_t)mh.msg_controllen, mh.msg_flags);
	}
	ok();

	check = "fionread_counts_bytes_and_fionbio_sets_nonblocking";
	EXPECT(!skiff_ioctl(fd, FIONREAD, &v) && v == 0, "FIONREAD empty %d", v);
	v = 1;
	EXPECT(!skiff_ioctl(fd, FIONBIO, &v), "FIONBIO on");
	EXPECT(skiff_fcntl(fd, F_GETFL) & O_NONBLOCK, "nonblocking");
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) < 0 && errno == EAGAIN, "EAGAIN");
	v = 0;
	EXPECT(!skiff_ioctl(fd, FIONBIO, &v), "FIONBIO off");
	EXPECT(!(skiff_fcntl(fd, F_GETFL) & O_NONBLOCK), "blocking");
	EXPECT(skiff_ioctl(fd, TIOCGWINSZ, buf) < 0 && errno == ENOTTY, "other ioctl");
	EXPECT(skiff_ioctl(SKIFF_FD_BASE + 127, FIONREAD, &v) < 0 && errno == EBADF, "bad fd");
	ok();

	check = "poll_mixes_skiff_sockets_and_kernel_fds";
	EXPECT(!pipe2(p, O_CLOEXEC), "pipe");
	pf[0] = (struct pollfd){.fd = fd, .events = POLLIN | POLLOUT};
	pf[1] = (struct pollfd){.fd = p[0], .events = POLLIN};
	pf[2] = (struct pollfd){.fd = SKIFF_FD_BASE + 126, .events = POLLIN};
	EXPECT(skiff_poll(pf, 3, 0) == 2, "writable + POLLNVAL");
	EXPECT(pf[0].revents == POLLOUT && !pf[1].revents && pf[2].revents == POLLNVAL,
	       "revents %#x %#x %#x", pf[0].revents, pf[1].revents, pf[2].revents);
	pf[0].events = POLLIN;
	EXPECT(skiff_poll(pf, 2, 50) == 0, "nothing readable");
	EXPECT(write(p[1], "k", 1) == 1, "write pipe");
	EXPECT(skiff_poll(pf, 2, 5000) == 1 && pf[1].revents == POLLIN && !pf[0].revents,
	       "pipe");
	EXPECT(read(p[0], buf, 1) == 1, "read pipe");
	EXPECT(skiff_send(fd, "z", 1, 0) == 1, "send");
	EXPECT(skiff_poll(pf, 2, 5000) == 1 && (pf[0].revents & POLLIN) && !pf[1].revents,
	       "socket %#x %#x", pf[0].revents, pf[1].revents);
	EXPECT(skiff_recv(fd, buf, 1, 0) == 1, "recv");
	ok();

	check = "epollet_reports_new_bytes_on_a_socket_still_readable";
	{
		int ep = skiff_epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};

		EXPECT(ep >= 0 && !skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll");
		EXPECT(skiff_epoll_wait(ep, &ev, 1, 0) == 0, "nothing yet");
		EXPECT(skiff_send(fd, "x1", 2, 0) == 2, "send 1");
		EXPECT(skiff_epoll_wait(ep, &ev, 1, 5000) == 1 && (ev.events & EPOLLIN), "first");
		EXPECT(skiff_epoll_wait(ep, &ev, 1, 100) == 0, "no news, still readable");
		/* more bytes arrive while the first are unread: the kernel
		 * reports that edge too (nginx and friends count on it) */
		EXPECT(skiff_send(fd, "y2", 2, 0) == 2, "send 2");
		wait_bytes(fd, 4);
		EXPECT(skiff_epoll_wait(ep, &ev, 1, 5000) == 1 && (ev.events & EPOLLIN), "second");
		EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "x1y2", 4), "recv");
		EXPECT(skiff_epoll_wait(ep, &ev, 1, 100) == 0, "drained");
		EXPECT(!skiff_close(ep), "close epoll");
	}
	ok();

	check = "a_signal_interrupts_blocking_calls_with_eintr";
	alarms = 0;
	alarm_in(200);
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) < 0 && errno == EINTR, "recv");
	EXPECT(alarms == 1, "handler ran %d", (int)alarms);
	alarm_in(200);
	EXPECT(skiff_poll(pf, 1, 10000) < 0 && errno == EINTR, "poll");
	{
		int ep = skiff_epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN};

		EXPECT(ep >= 0 && !skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll");
		alarm_in(200);
		EXPECT(skiff_epoll_wait(ep, &ev, 1, 10000) < 0 && errno == EINTR, "epoll_wait");
		EXPECT(!skiff_close(ep), "close epoll");
	}
	EXPECT(alarms == 3, "handler ran %d", (int)alarms);
	ok();

	check = "send_after_shutdown_raises_sigpipe_unless_msg_nosignal";
	EXPECT(!skiff_shutdown(fd, SHUT_WR), "shutdown");
	pipes = 0;
	EXPECT(skiff_send(fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "nosignal");
	EXPECT(pipes == 0, "SIGPIPE with MSG_NOSIGNAL");
	EXPECT(skiff_send(fd, "x", 1, 0) < 0 && errno == EPIPE, "EPIPE");
	EXPECT(pipes == 1, "no SIGPIPE");
	EXPECT(skiff_recv(fd, buf, sizeof(buf), MSG_WAITALL) == 0, "EOF");
	EXPECT(!skiff_close(fd), "close");
	close(p[0]);
	close(p[1]);
	ok();

	check = "so_linger_zero_resets_at_close";
	fd = dial(&rst);
	lg = (struct linger){.l_onoff = 1, .l_linger = 0};
	EXPECT(!skiff_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), "set");
	memset(&lg, 0xff, sizeof(lg));
	sl = sizeof(lg);
	EXPECT(!skiff_getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &sl) && sl == sizeof(lg) &&
		       lg.l_onoff == 1 && lg.l_linger == 0,
	       "get");
	EXPECT(skiff_send(fd, "doomed", 6, 0) == 6, "send");
	EXPECT(!skiff_close(fd), "close");
	ok();

	printf("all ok\n");
	return 0;
}
