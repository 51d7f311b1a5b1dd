// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in services, written against the socket API (sock/socket.h)
 * only, exactly as an application would be: echo (RFC 862) sends every
 * datagram back to its sender, discard (RFC 863) reads and forgets.
 *
 * Each service is one datagram socket bound to INADDR_ANY:port with an
 * edge-triggered handler that reads until -EAGAIN; echo answers from the
 * local address each datagram was sent to (skiff_recvmsg/skiff_sendmsg, the
 * IP_PKTINFO of skiff), so a client on any of our addresses sees the reply
 * come from where it sent.
 *
 * Over TCP (SOCK_STREAM) each service is a listening socket and one small
 * struct svc_conn per accepted connection.  Echo reads at most
 * SVC_STREAM_BUF bytes, writes them back, and reads again only once all of
 * them are sent: a peer that does not read its echo stops being read, so
 * the backlog stays in TCP's windows, never in unbounded memory here.  At
 * the peer's EOF echo shuts its write side once everything is echoed, then
 * closes; discard reads and drops until EOF.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "apps/services.h"
#include "sock/socket.h"

/* RFC 768 over IPv4: the largest UDP payload. */
#define SERVICE_MAX_DGRAM 65507
#define SVC_STREAM_BUF	16384	/* per TCP connection */
#define SVC_MAX_CONNS	4096	/* per service and worker; more are closed at once */

struct svc_conn;

struct service {
	struct socket *so;		/* the datagram socket, or the listener */
	bool echo;			/* echo, else discard */
	bool stream;
	struct svc_conn *conns;		/* TCP connections */
	uint32_t n_conns;
	uint8_t buf[SERVICE_MAX_DGRAM];	/* one datagram; allocated once, at start */
};

struct svc_conn {
	struct service *svc;
	struct socket *so;
	struct svc_conn *prev, *next;
	size_t off, len;		/* buf[off, len): read, not yet echoed */
	bool eof;			/* the peer shut its write side */
	uint8_t buf[SVC_STREAM_BUF];
};

static void service_event(struct socket *so, uint32_t events, void *arg)
{
	struct service *svc = arg;
	struct sockaddr_in from, local;
	ssize_t n;

	if (!(events & (SOCK_EV_IN | SOCK_EV_ERR)))
		return;
	for (;;) {
		n = skiff_recvmsg(so, svc->buf, sizeof(svc->buf), &from, &local);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			continue;	/* a pending error, reported once: nothing to do */
		/* RFC 862: "send it back as received", from the address it
		 * came to (the socket is bound to INADDR_ANY).  A reply that
		 * cannot be sent now is lost, as the datagram service allows. */
		if (svc->echo)
			(void)skiff_sendmsg(so, svc->buf, (size_t)n, &from, &local);
	}
}

static void svc_conn_free(struct svc_conn *c)
{
	struct service *svc = c->svc;

	skiff_close(c->so);
	if (c->prev)
		c->prev->next = c->next;
	else
		svc->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	svc->n_conns--;
	free(c);
}

/* Run a connection until the socket would block; false: done, free it. */
static bool svc_conn_run(struct svc_conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->off < c->len) {
			n = skiff_send(c->so, c->buf + c->off, c->len - c->off);
			if (n == -EAGAIN)
				return true;	/* wait for SOCK_EV_OUT; read nothing meanwhile */
			if (n < 0)
				return false;
			c->off += (size_t)n;
			continue;
		}
		c->off = c->len = 0;
		if (c->eof) {
			/* RFC 862: everything echoed; the half-close answered by ours */
			if (c->svc->echo)
				(void)skiff_shutdown(c->so, SHUT_WR);
			return false;
		}
		n = skiff_recv(c->so, c->buf, sizeof(c->buf));
		if (n == -EAGAIN)
			return true;
		if (n < 0)
			return false;	/* reset or error */
		if (!n)
			c->eof = true;
		else if (c->svc->echo)
			c->len = (size_t)n;
		/* discard (RFC 863): dropped */
	}
}

static void svc_conn_event(struct socket *so, uint32_t events, void *arg)
{
	struct svc_conn *c = arg;

	(void)so;
	(void)events;	/* errors and hang-ups show as recv/send results */
	if (!svc_conn_run(c))
		svc_conn_free(c);
}

static void svc_listen_event(struct socket *so, uint32_t events, void *arg)
{
	struct service *svc = arg;
	struct socket *nso;
	struct svc_conn *c;

	(void)events;
	while (!skiff_accept(so, &nso, NULL)) {
		c = svc->n_conns < SVC_MAX_CONNS ? malloc(sizeof(*c)) : NULL;
		if (!c) {
			skiff_close(nso);
			continue;
		}
		memset(c, 0, offsetof(struct svc_conn, buf));
		c->svc = svc;
		c->so = nso;
		c->next = svc->conns;
		if (c->next)
			c->next->prev = c;
		svc->conns = c;
		svc->n_conns++;
		skiff_set_handler(nso, svc_conn_event, c);
	}
}

static int service_start(struct stack *st, int type, uint16_t port, bool echo,
			 struct service **out)
{
	struct sockaddr_in addr;
	struct service *svc;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (type != SOCK_DGRAM && type != SOCK_STREAM)
		return -EINVAL;

	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->echo = echo;
	svc->stream = type == SOCK_STREAM;
	err = skiff_socket(st, type, &svc->so);
	if (err)
		goto err_free;
	if (svc->stream)
		(void)skiff_setsockopt(svc->so, SKIFF_SO_REUSEADDR, 1);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	addr.sin_port = htons(port);
	err = skiff_bind(svc->so, &addr);
	if (!err && svc->stream)
		err = skiff_listen(svc->so, 1024);
	if (err)
		goto err_close;
	skiff_set_handler(svc->so, svc->stream ? svc_listen_event : service_event, svc);
	*out = svc;
	return 0;

err_close:
	skiff_close(svc->so);
err_free:
	free(svc);
	return err;
}

int echo_service_start(struct stack *st, int type, uint16_t port, struct service **out)
{
	return service_start(st, type, port, true, out);
}

int discard_service_start(struct stack *st, int type, uint16_t port, struct service **out)
{
	return service_start(st, type, port, false, out);
}

void service_stop(struct service *svc)
{
	if (!svc)
		return;
	while (svc->conns)
		svc_conn_free(svc->conns);
	skiff_close(svc->so);
	free(svc);
}
