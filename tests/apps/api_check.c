// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp's calls checked against POSIX behaviour on a live skiffd
 * (tests/integration/test_apps.py runs it in the DUT namespace):
 *
 *	api_check PEER_IP ECHO_PORT CLOSED_PORT LISTEN_PORT
 *
 * ECHO_PORT on the peer is a kernel echo server that closes after the
 * client's FIN; nothing listens on CLOSED_PORT.  Prints "ok <check>" per
 * check and exits 0, or "FAIL <check>: ..." and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#include "check.h"

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* Wait for one event on fd; the events, 0 on timeout. */
static uint32_t wait_one(int ep, int ms)
{
	struct epoll_event ev;
	int n = skiff_epoll_wait(ep, &ev, 1, ms);

	EXPECT(n >= 0, "epoll_wait %d", n);
	return n ? ev.events : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in echo, closed, lsin, sin;
	struct epoll_event ev = {0};
	socklen_t sl;
	int fd, fd2, ep, v, p[2];
	char buf[64];
	ssize_t n;

	if (argc != 5) {
		fprintf(stderr, "usage: %s PEER_IP ECHO_PORT CLOSED_PORT LISTEN_PORT\n", argv[0]);
		return 2;
	}
	echo = addr(argv[1], atoi(argv[2]));
	closed = addr(argv[1], atoi(argv[3]));
	lsin = addr("0.0.0.0", atoi(argv[4]));

	check = "bad_calls_fail_with_posix_errors";
	EXPECT(skiff_socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, "unix");
	EXPECT(skiff_socket(AF_INET, SOCK_SEQPACKET, 0) < 0 && errno == ESOCKTNOSUPPORT,
	       "seqpacket");
	EXPECT(skiff_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) < 0 && errno == EPROTONOSUPPORT,
	       "stream over udp");
	EXPECT(skiff_send(SKIFF_FD_BASE + 100, "x", 1, 0) < 0 && errno == EBADF, "bad fd");
	EXPECT(skiff_close(SKIFF_FD_BASE + 100) < 0 && errno == EBADF, "close bad fd");
	fd = skiff_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(fd >= SKIFF_FD_BASE && skiff_is_socket(fd), "socket %d", fd);
	EXPECT(skiff_recv(fd, buf, 1, 0) < 0 && errno == ENOTCONN, "recv unconnected");
	EXPECT(skiff_accept(fd, NULL, NULL) < 0 && errno == EINVAL, "accept non-listener");
	fd2 = skiff_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(!skiff_listen(fd2, 1), "listen unbound: an ephemeral port, as Linux");
	sl = sizeof(sin);
	EXPECT(!skiff_getsockname(fd2, (struct sockaddr *)&sin, &sl) && ntohs(sin.sin_port) >= 1024,
	       "ephemeral listener port %u", ntohs(sin.sin_port));
	EXPECT(!skiff_close(fd2), "close");
	v = 1;
	EXPECT(skiff_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)) < 0 &&
		       errno == ENOPROTOOPT,
	       "unknown option");
	sl = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &sl) && v == SOCK_STREAM, "type");
	sin = addr("0.0.0.0", 1);
	sin.sin_family = AF_INET6;
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EAFNOSUPPORT,
	       "bind v6 family");
	EXPECT(!skiff_close(fd), "close");
	ok();

	check = "nonblocking_listener_accepts_nothing_with_eagain";
	fd = skiff_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT(!skiff_bind(fd, (struct sockaddr *)&lsin, sizeof(lsin)), "bind");
	EXPECT(!skiff_listen(fd, 4), "listen");
	EXPECT(skiff_accept(fd, NULL, NULL) < 0 && errno == EAGAIN, "accept");
	sl = sizeof(sin);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&sin, &sl) &&
		       sin.sin_port == lsin.sin_port,
	       "name");
	EXPECT(!skiff_close(fd), "close");
	ok();

	check = "nonblocking_connect_completes_with_epollout";
	ep = skiff_epoll_create1(EPOLL_CLOEXEC);
	EXPECT(ep >= 0, "epoll");
	fd = skiff_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	v = 1;
	EXPECT(!skiff_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), "nodelay");
	v = 65536;
	EXPECT(!skiff_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), "rcvbuf");
	EXPECT(!skiff_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), "sndbuf");
	EXPECT(skiff_connect(fd, (struct sockaddr *)&echo, sizeof(echo)) < 0 &&
		       errno == EINPROGRESS,
	       "connect");
	ev.events = EPOLLOUT;
	ev.data.u32 = 1;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "ctl add");
	EXPECT(wait_one(ep, 5000) & EPOLLOUT, "no EPOLLOUT");
	sl = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &sl) && v == 0, "SO_ERROR %d", v);
	sl = sizeof(sin);
	EXPECT(!skiff_getpeername(fd, (struct sockaddr *)&sin, &sl) &&
		       sin.sin_addr.s_addr == echo.sin_addr.s_addr && sin.sin_port == echo.sin_port,
	       "peer");
	sl = sizeof(sin);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&sin, &sl) && sin.sin_port &&
		       sin.sin_addr.s_addr,
	       "name");
	sl = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &sl) && v == 1, "nodelay");
	ok();

	check = "recv_without_data_is_eagain_then_level_triggered_epollin";
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) < 0 && errno == EAGAIN, "recv");
	EXPECT(skiff_send(fd, "hello", 5, 0) == 5, "send");
	ev.events = EPOLLIN;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), "mod");
	EXPECT(wait_one(ep, 5000) & EPOLLIN, "no EPOLLIN");
	EXPECT(wait_one(ep, 0) & EPOLLIN, "level-triggered: again");
	n = skiff_recv(fd, buf, 2, MSG_PEEK);
	EXPECT(n == 2 && !memcmp(buf, "he", 2), "peek %zd", n);
	n = skiff_recv(fd, buf, sizeof(buf), 0);
	EXPECT(n == 5 && !memcmp(buf, "hello", 5), "recv %zd", n);
	EXPECT(wait_one(ep, 50) == 0, "nothing left");
	ok();

	check = "edge_triggered_reports_once_per_change";
	ev.events = EPOLLIN | EPOLLET;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), "mod");
	EXPECT(skiff_send(fd, "ab", 2, 0) == 2, "send");
	EXPECT(wait_one(ep, 5000) & EPOLLIN, "edge");
	EXPECT(wait_one(ep, 50) == 0, "no second report without a change");
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) == 2, "recv");
	ok();

	check = "oneshot_reports_once_until_rearmed";
	ev.events = EPOLLIN | EPOLLONESHOT;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), "mod");
	EXPECT(skiff_send(fd, "cd", 2, 0) == 2, "send");
	EXPECT(wait_one(ep, 5000) & EPOLLIN, "first");
	EXPECT(wait_one(ep, 50) == 0, "disarmed");
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), "rearm");
	EXPECT(wait_one(ep, 1000) & EPOLLIN, "rearmed");
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) == 2, "recv");
	ok();

	check = "kernel_fds_wait_in_the_same_set";
	EXPECT(!pipe2(p, O_NONBLOCK | O_CLOEXEC), "pipe");
	ev.events = EPOLLIN;
	ev.data.u32 = 2;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "add pipe");
	EXPECT(write(p[1], "k", 1) == 1, "write pipe");
	{
		struct epoll_event evs[4];
		int k, got = 0;

		n = skiff_epoll_wait(ep, evs, 4, 2000);
		for (k = 0; k < n; k++)
			got |= evs[k].data.u32 == 2;
		EXPECT(got, "pipe not reported (%zd events)", n);
	}
	EXPECT(skiff_read(p[0], buf, 1) == 1, "read pipe");
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), "del pipe");
	EXPECT(!skiff_close(p[0]) && !skiff_close(p[1]), "close pipe");
	ok();

	/* a set's kernel fds are looked at less often while skiff sockets
	 * keep returning events (poll.c, kernel_look_due()), never not at
	 * all: a readable skiff socket in every call does not hide a pipe */
	check = "kernel_fds_are_reported_while_a_skiff_socket_stays_ready";
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), "mod");
	EXPECT(skiff_send(fd, "zz", 2, 0) == 2, "send");
	EXPECT(wait_one(ep, 5000) & EPOLLIN, "echo");
	EXPECT(!pipe2(p, O_NONBLOCK | O_CLOEXEC), "pipe");
	ev.data.u32 = 2;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "add pipe");
	{
		struct epoll_event evs[4];
		struct timespec t0, t;
		int k, got = 0, calls = 0;

		/* the set was looked at just now: the next calls may skip it */
		EXPECT(skiff_epoll_wait(ep, evs, 4, 0) >= 1, "skiff socket ready");
		EXPECT(write(p[1], "k", 1) == 1, "write pipe");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			n = skiff_epoll_wait(ep, evs, 4, 1000);
			EXPECT(n >= 1, "the skiff socket stays ready (%zd)", n);
			for (k = 0; k < n; k++)
				got |= evs[k].data.u32 == 2;
			calls++;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (!got && t.tv_sec - t0.tv_sec < 5);
		EXPECT(got, "pipe not reported in %d calls over 5 s", calls);
	}
	EXPECT(skiff_read(p[0], buf, 1) == 1, "read pipe");
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) == 2, "recv");
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), "del pipe");
	EXPECT(!skiff_close(p[0]) && !skiff_close(p[1]), "close pipe");
	ok();

	check = "fcntl_toggles_o_nonblock";
	EXPECT(skiff_fcntl(fd, F_GETFL) & O_NONBLOCK, "getfl");
	EXPECT(!skiff_fcntl(fd, F_SETFL, 0L), "setfl");
	EXPECT(!(skiff_fcntl(fd, F_GETFL) & O_NONBLOCK), "cleared");
	ok();

	check = "shutdown_write_gets_the_echo_then_eof_and_rdhup";
	EXPECT(skiff_write(fd, "bye", 3) == 3, "write");
	EXPECT(!skiff_shutdown(fd, SHUT_WR), "shutdown");
	EXPECT(skiff_send(fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "send after SHUT_WR");
	n = skiff_recv(fd, buf, 3, MSG_WAITALL); /* blocking now */
	EXPECT(n == 3 && !memcmp(buf, "bye", 3), "echo %zd", n);
	EXPECT(skiff_read(fd, buf, sizeof(buf)) == 0, "eof");
	ev.events = EPOLLIN | EPOLLRDHUP;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), "mod");
	EXPECT(wait_one(ep, 1000) & EPOLLRDHUP, "rdhup");
	EXPECT(!skiff_close(fd), "close");
	EXPECT(skiff_epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0, "closed fd left the set");
	ok();

	check = "connect_to_a_closed_port_reports_econnrefused";
	fd = skiff_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT(skiff_connect(fd, (struct sockaddr *)&closed, sizeof(closed)) < 0 &&
		       errno == EINPROGRESS,
	       "connect");
	ev.events = EPOLLOUT;
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "add");
	EXPECT(wait_one(ep, 5000) & EPOLLERR, "no EPOLLERR");
	sl = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &sl) && v == ECONNREFUSED,
	       "SO_ERROR %d", v);
	EXPECT(!skiff_close(fd), "close");
	fd2 = skiff_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(skiff_connect(fd2, (struct sockaddr *)&closed, sizeof(closed)) < 0 &&
		       errno == ECONNREFUSED,
	       "blocking connect");
	EXPECT(!skiff_close(fd2), "close");
	ok();

	EXPECT(!skiff_close(ep), "close epoll");
	printf("all ok\n");
	return 0;
}
