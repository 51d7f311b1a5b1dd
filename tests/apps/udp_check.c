// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp's UDP sockets checked against POSIX/Linux behaviour on a live
 * skiffd (tests/integration/test_apps.py runs it in the DUT namespace):
 *
 *	udp_check PEER_IP ECHO_PORT CLOSED_PORT
 *	udp_check serve PORT COUNT
 *
 * ECHO_PORT on the peer is a kernel UDP echo server; nothing listens on
 * CLOSED_PORT (UDP).  Prints "ok <check>" per check and exits 0, or
 * "FAIL <check>: ..." and exits 1.  `serve` binds PORT, prints "bound",
 * and echoes COUNT datagrams back to their senders.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#include "check.h"

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

static void wait_in(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	EXPECT(skiff_poll(&pf, 1, 5000) == 1 && (pf.revents & (POLLIN | POLLERR)), "poll %#x",
	       pf.revents);
}

static int serve(int port, int count)
{
	struct sockaddr_in sin = addr("0.0.0.0", port), from;
	char buf[65536];
	socklen_t fl;
	ssize_t n;
	int fd, k;

	check = "serve";
	fd = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT(fd >= 0, "socket");
	EXPECT(!skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind");
	printf("bound\n");
	fflush(stdout);
	for (k = 0; k < count; k++) {
		fl = sizeof(from);
		n = skiff_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		EXPECT(n >= 0 && fl == sizeof(from), "recvfrom %zd", n);
		EXPECT(skiff_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n,
		       "sendto");
	}
	EXPECT(!skiff_close(fd), "close");
	printf("served %d\n", count);
	return 0;
}

int main(int argc, char **argv)
{
	static char big[8000], bigin[9000];
	struct sockaddr_in echo, closed, sin, from;
	struct epoll_event ev = {.events = EPOLLIN};
	struct iovec iov[2];
	struct msghdr mh;
	char buf[2048], small[10];
	socklen_t sl;
	int fd, fd2, v, ep, k;
	ssize_t n;

	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), atoi(argv[3]));
	if (argc != 4) {
		fprintf(stderr, "usage: %s PEER_IP ECHO_PORT CLOSED_PORT | serve PORT COUNT\n",
			argv[0]);
		return 2;
	}
	echo = addr(argv[1], atoi(argv[2]));
	closed = addr(argv[1], atoi(argv[3]));

	check = "udp_misuse_fails_with_posix_errors";
	fd = skiff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	EXPECT(fd >= SKIFF_FD_BASE, "socket");
	EXPECT(skiff_socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP) < 0 && errno == EPROTONOSUPPORT,
	       "udp with tcp");
	sl = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &sl) && v == SOCK_DGRAM, "type");
	EXPECT(skiff_listen(fd, 1) < 0 && errno == EOPNOTSUPP, "listen");
	EXPECT(skiff_send(fd, "x", 1, 0) < 0 && errno == EDESTADDRREQ, "send unconnected");
	EXPECT(skiff_recv(fd, buf, 1, 0) < 0 && errno == EAGAIN, "recv unbound");
	sl = sizeof(sin);
	EXPECT(skiff_getpeername(fd, (struct sockaddr *)&sin, &sl) < 0 && errno == ENOTCONN,
	       "peername");
	memset(big, 'b', sizeof(big));
	EXPECT(skiff_sendto(fd, bigin, 70000, 0, (struct sockaddr *)&echo, sizeof(echo)) < 0 &&
		       errno == EMSGSIZE,
	       "too big");
	ok();

	check = "sendto_binds_an_ephemeral_port_and_the_echo_comes_back";
	EXPECT(skiff_sendto(fd, "hello", 5, 0, (struct sockaddr *)&echo, sizeof(echo)) == 5,
	       "sendto");
	sl = sizeof(sin);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&sin, &sl) && ntohs(sin.sin_port) >= 1024,
	       "name port %u", ntohs(sin.sin_port));
	wait_in(fd);
	sl = sizeof(from);
	n = skiff_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &sl);
	EXPECT(n == 5 && !memcmp(buf, "hello", 5), "recvfrom %zd", n);
	EXPECT(sl == sizeof(from) && from.sin_addr.s_addr == echo.sin_addr.s_addr &&
		       from.sin_port == echo.sin_port,
	       "from");
	ok();

	check = "datagram_boundaries_are_kept";
	for (k = 0; k < 4; k++) {
		memset(buf, 'a' + k, sizeof(buf));
		n = skiff_sendto(fd, buf, (size_t)(k * 450), 0, (struct sockaddr *)&echo,
				 sizeof(echo));
		EXPECT(n == k * 450, "sendto %d", k);
	}
	for (k = 0; k < 4; k++) {
		wait_in(fd);
		n = skiff_recv(fd, buf, sizeof(buf), 0);
		EXPECT(n == k * 450 && (k == 0 || (buf[0] == 'a' + k && buf[n - 1] == 'a' + k)),
		       "datagram %d: %zd bytes", k, n);
	}
	ok();

	check = "a_short_buffer_truncates_with_msg_trunc";
	memset(buf, 'q', 100);
	EXPECT(skiff_sendto(fd, buf, 100, 0, (struct sockaddr *)&echo, sizeof(echo)) == 100, "s");
	wait_in(fd);
	EXPECT(!skiff_ioctl(fd, FIONREAD, &v) && v == 100, "FIONREAD %d", v);
	EXPECT(skiff_recv(fd, small, sizeof(small), MSG_PEEK | MSG_TRUNC) == 100, "peek trunc");
	memset(&mh, 0, sizeof(mh));
	iov[0] = (struct iovec){.iov_base = small, .iov_len = 4};
	iov[1] = (struct iovec){.iov_base = small + 4, .iov_len = 6};
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	n = skiff_recvmsg(fd, &mh, 0);
	EXPECT(n == 10 && (mh.msg_flags & MSG_TRUNC) && mh.msg_namelen == sizeof(from) &&
		       from.sin_port == echo.sin_port,
	       "recvmsg %zd flags %#x", n, mh.msg_flags);
	EXPECT(skiff_recv(fd, buf, sizeof(buf), 0) < 0 && errno == EAGAIN, "the rest is gone");
	ok();

	check = "a_fragmented_8000_byte_datagram_arrives_whole";
	EXPECT(skiff_sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&echo, sizeof(echo)) ==
		       (ssize_t)sizeof(big),
	       "sendto");
	wait_in(fd);
	n = skiff_recv(fd, bigin, sizeof(bigin), 0);
	EXPECT(n == (ssize_t)sizeof(big) && !memcmp(big, bigin, sizeof(big)), "recv %zd", n);
	ok();

	check = "connected_udp_uses_send_recv_and_epoll";
	fd2 = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT(!skiff_connect(fd2, (struct sockaddr *)&echo, sizeof(echo)), "connect");
	sl = sizeof(sin);
	EXPECT(!skiff_getpeername(fd2, (struct sockaddr *)&sin, &sl) &&
		       sin.sin_port == echo.sin_port,
	       "peername");
	ep = skiff_epoll_create1(0);
	EXPECT(ep >= 0 && !skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &ev), "epoll");
	EXPECT(skiff_epoll_wait(ep, &ev, 1, 0) == 0, "nothing yet");
	iov[0] = (struct iovec){.iov_base = "ab", .iov_len = 2};
	iov[1] = (struct iovec){.iov_base = "cd", .iov_len = 2};
	EXPECT(skiff_writev(fd2, iov, 2) == 4, "writev");
	EXPECT(skiff_epoll_wait(ep, &ev, 1, 5000) == 1 && (ev.events & EPOLLIN), "EPOLLIN");
	n = skiff_read(fd2, buf, sizeof(buf));
	EXPECT(n == 4 && !memcmp(buf, "abcd", 4), "read %zd", n);
	EXPECT(!skiff_close(ep), "close epoll");
	ok();

	check = "a_connected_socket_learns_port_unreachable_as_econnrefused";
	EXPECT(!skiff_connect(fd2, (struct sockaddr *)&closed, sizeof(closed)), "reconnect");
	/* the peer's ICMP errors are rate-limited (per host, and by a budget
	 * other namespaces share): ask again until one comes */
	for (k = 0; k < 20; k++) {
		struct pollfd pf = {.fd = fd2, .events = POLLIN};

		EXPECT(skiff_send(fd2, "x", 1, 0) == 1, "send");
		if (skiff_poll(&pf, 1, 1000) == 1)
			break;
	}
	EXPECT(skiff_recv(fd2, buf, sizeof(buf), 0) < 0 && errno == ECONNREFUSED, "recv");
	sl = sizeof(v);
	EXPECT(!skiff_getsockopt(fd2, SOL_SOCKET, SO_ERROR, &v, &sl) && v == 0, "cleared %d", v);
	ok();

	check = "connect_af_unspec_forgets_the_peer";
	sin = (struct sockaddr_in){.sin_family = AF_UNSPEC};
	EXPECT(!skiff_connect(fd2, (struct sockaddr *)&sin, sizeof(sin)), "unspec");
	EXPECT(skiff_send(fd2, "x", 1, 0) < 0 && errno == EDESTADDRREQ, "send");
	EXPECT(!skiff_close(fd2), "close");
	EXPECT(!skiff_close(fd), "close");
	ok();

	check = "bind_twice_to_one_port_is_eaddrinuse";
	sin = addr("0.0.0.0", 7301);
	fd = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	fd2 = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT(!skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind");
	EXPECT(skiff_bind(fd2, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EADDRINUSE,
	       "second bind");
	EXPECT(!skiff_close(fd) && !skiff_close(fd2), "close");
	fd = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT(!skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind after close");
	EXPECT(!skiff_close(fd), "close");
	ok();

	printf("all ok\n");
	return 0;
}
