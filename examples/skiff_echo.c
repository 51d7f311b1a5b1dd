// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An echo server on skiff (docs/apps.md): every byte a client sends comes
 * back; a client's FIN is answered with ours once its bytes are echoed.
 * One thread, non-blocking sockets, skiff_epoll level-triggered, and the
 * process's stdin in the same set (EOF or "q" on stdin stops it), to show
 * skiff and kernel fds waiting together.
 *
 *	skiff_echo PORT [ADDR]
 *
 * Build: cc skiff_echo.c $(pkg-config --cflags --libs skiff)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#define MAX_CONNS 64
#define BUF 65536

struct conn {
	int fd;
	size_t len, off; /* bytes in buf not yet echoed */
	int eof;
	char buf[BUF];
};

static struct conn conns[MAX_CONNS];

static void conn_close(int ep, struct conn *c)
{
	skiff_epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	skiff_close(c->fd);
	c->fd = -1;
}

/* Wait for input while buf has room, for output while it holds bytes. */
static void conn_want(int ep, struct conn *c)
{
	struct epoll_event ev = {.data.ptr = c};

	ev.events = c->len > c->off ? EPOLLOUT : (c->eof ? 0 : EPOLLIN);
	skiff_epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_run(int ep, struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->len > c->off) {
			n = skiff_send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0) {
				conn_close(ep, c);
				return;
			}
			c->off += (size_t)n;
			continue;
		}
		c->len = c->off = 0;
		if (c->eof) {
			skiff_shutdown(c->fd, SHUT_WR);
			conn_close(ep, c);
			return;
		}
		n = skiff_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			conn_close(ep, c);
			return;
		}
		if (n == 0)
			c->eof = 1;
		c->len = (size_t)n;
	}
	conn_want(ep, c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event ev, evs[32];
	int lfd, ep, one = 1, i, n, k;
	char line[64];

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [ADDR]\n", argv[0]);
		return 2;
	}
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	if (argc > 2 && inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[2]);
		return 2;
	}
	lfd = skiff_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0) {
		fprintf(stderr, "skiff_socket: %s: %s\n", strerror(errno), skiff_last_error());
		return 1;
	}
	skiff_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (skiff_bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    skiff_listen(lfd, 128) < 0) {
		fprintf(stderr, "listen on port %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ep = skiff_epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	skiff_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &lfd; /* stdin */
	skiff_epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	printf("listening on port %s\n", argv[1]);
	fflush(stdout);
	for (;;) {
		n = skiff_epoll_wait(ep, evs, 32, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("skiff_epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			if (evs[k].data.ptr == &lfd) {
				ssize_t r = read(0, line, sizeof(line));

				if (r <= 0 || line[0] == 'q')
					goto out;
				continue;
			}
			if (evs[k].data.ptr) {
				conn_run(ep, evs[k].data.ptr);
				continue;
			}
			for (;;) {
				int fd = skiff_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0)
					break;
				for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++)
					;
				if (i == MAX_CONNS) {
					skiff_close(fd);
					continue;
				}
				conns[i].fd = fd;
				conns[i].len = conns[i].off = 0;
				conns[i].eof = 0;
				skiff_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				ev.events = EPOLLIN;
				ev.data.ptr = &conns[i];
				skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
out:
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			skiff_close(conns[i].fd);
	skiff_close(lfd);
	skiff_close(ep);
	return 0;
}
