// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A small netcat on skiff (docs/apps.md), blocking calls only:
 *
 *	skiff_nc -l PORT          accept one connection
 *	skiff_nc HOST PORT        connect
 *
 * then copy stdin to the socket (shutting down our side at stdin's EOF)
 * and the socket to stdout until the peer's FIN.  Prints "connected" on
 * stderr once the connection is up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

static int sock = -1;

/* stdin -> socket, then SHUT_WR. */
static void *pump_in(void *arg)
{
	char buf[65536];
	ssize_t n, w, off;

	(void)arg;
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w) {
			w = skiff_send(sock, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0) {
				perror("skiff_send");
				exit(1);
			}
		}
	}
	skiff_shutdown(sock, SHUT_WR);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char buf[65536];
	pthread_t t;
	ssize_t n;
	int one = 1, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s -l PORT | %s HOST PORT\n", argv[0], argv[0]);
		return 2;
	}
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = skiff_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		fprintf(stderr, "skiff_socket: %s: %s\n", strerror(errno), skiff_last_error());
		return 1;
	}
	if (!strcmp(argv[1], "-l")) {
		skiff_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    skiff_listen(fd, 1) < 0) {
			fprintf(stderr, "listen: %s\n", strerror(errno));
			return 1;
		}
		fprintf(stderr, "listening\n");
		sock = skiff_accept(fd, NULL, NULL);
		if (sock < 0) {
			fprintf(stderr, "accept: %s\n", strerror(errno));
			return 1;
		}
		skiff_close(fd);
	} else {
		if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
			fprintf(stderr, "bad address %s\n", argv[1]);
			return 2;
		}
		if (skiff_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			fprintf(stderr, "connect: %s\n", strerror(errno));
			return 1;
		}
		sock = fd;
	}
	fprintf(stderr, "connected\n");
	if (pthread_create(&t, NULL, pump_in, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	while ((n = skiff_recv(sock, buf, sizeof(buf), 0)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 1;
	}
	if (n < 0) {
		fprintf(stderr, "skiff_recv: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	pthread_join(t, NULL);
	skiff_close(sock);
	return 0;
}
