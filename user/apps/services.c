// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in services, written against the socket API (sock/socket.h)
 * only, exactly as an application would be: echo (RFC 862) sends every
 * datagram back to its sender, discard (RFC 863) reads and forgets.
 *
 * Each service is one datagram socket bound to [::]:port (without V6ONLY:
 * IPv4 peers arrive IPv4-mapped, so one socket serves both families) with an
 * edge-triggered handler that reads until -EAGAIN; echo answers from the
 * local address each datagram was sent to (skiff_recvmsg/skiff_sendmsg, the
 * IP_PKTINFO of skiff), so a client on any of our addresses sees the reply
 * come from where it sent.
 *
 * Over TCP (SOCK_STREAM) each service is a listening socket and one small
 * struct svc_conn per accepted connection.  Echo reads at most
 * SVC_STREAM_BUF bytes into the service's buffer and writes them back; what
 * the socket does not take at once is kept in a buffer of the connection
 * (allocated only then, freed once sent), and nothing more is read until it
 * is sent: a peer that does not read its echo stops being read, so the
 * backlog stays in TCP's windows, never in unbounded memory here.  An idle
 * connection costs sizeof(struct svc_conn) here, beside TCP's own.  At the
 * peer's EOF echo shuts its write side once everything is echoed, then
 * closes; discard reads and drops until EOF.
 *
 * Connection limit: a service holds at most max_conns connections per
 * worker (service_set_max_conns(), default service_max_conns_for_memory()).
 * At the limit it stops accepting: new connections wait in the listener's
 * accept queue (listen backlog SVC_BACKLOG), then TCP drops their SYNs and
 * the peers retransmit, as with a Linux server that is slow to accept().
 * The first time the limit holds a connection back counts svc_conn_limited;
 * every close accepts the next waiting connection.
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
#define SVC_STREAM_BUF	16384	/* one TCP read */
#define SVC_BACKLOG	SKIFF_SOMAXCONN

struct svc_conn;

struct service {
	struct stack *st;
	struct socket *so;		/* the datagram socket, or the listener */
	bool echo;			/* echo, else discard */
	bool stream;
	bool limited;			/* accepting stopped at max_conns */
	struct svc_conn *conns;		/* TCP connections */
	uint32_t n_conns;
	uint32_t max_conns;
	uint8_t buf[SERVICE_MAX_DGRAM];	/* one datagram or TCP read; allocated once, at start */
};

struct svc_conn {
	struct service *svc;
	struct socket *so;
	struct svc_conn *prev, *next;
	uint8_t *pend;			/* echo not yet taken by the socket, or NULL */
	uint32_t off, len;		/* pend[off, len) is left to send */
	bool eof;			/* the peer shut its write side */
};

uint32_t service_max_conns_for_memory(uint64_t mem_bytes, uint32_t n_workers)
{
	uint64_t n;

	if (!n_workers)
		n_workers = 1;
	n = mem_bytes / 2 / SVC_CONN_MEM / n_workers;
	if (n < 1)
		return 1;
	return n > SKIFF_MAX_CONNS ? SKIFF_MAX_CONNS : (uint32_t)n;
}

static void service_event(struct socket *so, uint32_t events, void *arg)
{
	struct service *svc = arg;
	struct sockaddr_in6 from, local;	/* IPv4 peers IPv4-mapped */
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
		 * came to (the socket is bound to [::]).  A reply that
		 * cannot be sent now is lost, as the datagram service allows. */
		if (svc->echo)
			(void)skiff_sendmsg(so, svc->buf, (size_t)n, &from, &local);
	}
}

static void svc_accept(struct service *svc);

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
	free(c->pend);
	free(c);
	if (svc->limited) {
		svc->limited = false;
		svc_accept(svc);	/* room for one that waits */
	}
}

/* Keep buf[0, len) to send later; false: no memory for it. */
static bool svc_conn_keep(struct svc_conn *c, const uint8_t *buf, uint32_t len)
{
	c->pend = malloc(len);
	if (!c->pend)
		return false;
	memcpy(c->pend, buf, len);
	c->off = 0;
	c->len = len;
	return true;
}

/* Run a connection until the socket would block; false: done, free it. */
static bool svc_conn_run(struct svc_conn *c)
{
	uint8_t *buf = c->svc->buf;
	ssize_t n, sent;

	for (;;) {
		if (c->pend) {
			n = skiff_send(c->so, c->pend + c->off, c->len - c->off);
			if (n == -EAGAIN)
				return true;	/* wait for SOCK_EV_OUT; read nothing meanwhile */
			if (n < 0)
				return false;
			c->off += (uint32_t)n;
			if (c->off < c->len)
				continue;
			free(c->pend);
			c->pend = NULL;
			c->off = c->len = 0;
		}
		if (c->eof) {
			/* RFC 862: everything echoed; the half-close answered by ours */
			if (c->svc->echo)
				(void)skiff_shutdown(c->so, SHUT_WR);
			return false;
		}
		n = skiff_recv(c->so, buf, SVC_STREAM_BUF);
		if (n == -EAGAIN)
			return true;
		if (n < 0)
			return false;	/* reset or error */
		if (!n) {
			c->eof = true;
			continue;
		}
		if (!c->svc->echo)
			continue;	/* discard (RFC 863): dropped */
		sent = skiff_send(c->so, buf, (size_t)n);
		if (sent == -EAGAIN)
			sent = 0;
		else if (sent < 0)
			return false;
		if (sent < n && !svc_conn_keep(c, buf + sent, (uint32_t)(n - sent)))
			return false;
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

/* Accept while below the limit; at the limit with connections still
 * waiting in the listener's queue, stop (counted once per stop). */
static void svc_accept(struct service *svc)
{
	struct socket *nso;
	struct svc_conn *c;

	while (svc->n_conns < svc->max_conns) {
		if (skiff_accept(svc->so, &nso, NULL))
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			/* out of memory: refuse this one (RST) rather than lose track */
			(void)skiff_setsockopt(nso, SKIFF_SO_LINGER_ABORT, 1);
			skiff_close(nso);
			continue;
		}
		c->svc = svc;
		c->so = nso;
		c->next = svc->conns;
		if (c->next)
			c->next->prev = c;
		svc->conns = c;
		svc->n_conns++;
		skiff_set_handler(nso, svc_conn_event, c);
	}
	if (!svc->limited && svc->max_conns && (skiff_poll(svc->so) & SOCK_EV_IN)) {
		svc->limited = true;
		STACK_INC(svc->st, svc_conn_limited);
	}
}

static void svc_listen_event(struct socket *so, uint32_t events, void *arg)
{
	(void)so;
	(void)events;
	svc_accept(arg);
}

void service_set_max_conns(struct service *svc, uint32_t max)
{
	if (!svc || !svc->stream)
		return;
	svc->max_conns = max ? max : 1;
	if (svc->n_conns < svc->max_conns) {
		svc->limited = false;
		svc_accept(svc);
	}
}

static int service_start(struct stack *st, int type, uint16_t port, bool echo,
			 struct service **out)
{
	struct sockaddr_in6 addr;
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
	svc->st = st;
	svc->echo = echo;
	svc->stream = type == SOCK_STREAM;
	svc->max_conns = SVC_MAX_CONNS_DEFAULT;
	/* [::] without V6ONLY: one socket serves IPv4 and IPv6 */
	err = skiff_socket_af(st, AF_INET6, type, &svc->so);
	if (err)
		goto err_free;
	if (svc->stream)
		(void)skiff_setsockopt(svc->so, SKIFF_SO_REUSEADDR, 1);
	memset(&addr, 0, sizeof(addr));
	addr.sin6_family = AF_INET6;
	addr.sin6_addr = in6addr_any;
	addr.sin6_port = htons(port);
	err = skiff_bind(svc->so, &addr);
	if (!err && svc->stream)
		err = skiff_listen(svc->so, SVC_BACKLOG);
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
	svc->max_conns = 0;	/* closing a connection accepts no other */
	svc->limited = false;
	while (svc->conns)
		svc_conn_free(svc->conns);
	skiff_close(svc->so);
	free(svc);
}
