// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The protocol-agnostic socket layer (Linux's net/socket.c + the
 * sk_data_ready/epoll part of net/core/sock.c): struct socket wraps the
 * transport's struct sock and gives applications a BSD-like, non-blocking,
 * errno-returning API.  Transports register a struct proto per socket type
 * (sock_register_proto), so TCP and an external client API plug in later
 * without touching this file.
 *
 * Readiness is edge-triggered, as EPOLLET: the transport calls
 * sk->data_ready() whenever readiness may have changed; that puts the
 * socket once on the stack's ready list, and the poll hook that runs after
 * every burst calls each ready socket's handler once with skiff_poll().
 * A handler may close its own socket or any other socket: a socket is taken
 * off the list before its handler runs, and closing a socket unlinks it
 * from whichever list it is on.
 *
 * Stream sockets (SOCK_STREAM) add listen/accept/send/recv/shutdown and
 * options.  skiff_accept() wraps the transport's new connection in a struct
 * socket of its own.  A transport with PROTO_F_OWNS_OBJECT (TCP) keeps its
 * object after skiff_close() (FIN_WAIT, TIME_WAIT, orphans): the socket layer
 * detaches from it before ->close() and never touches it again.
 *
 * Sockets are allocated with calloc() when created or accepted (not per
 * packet).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sock/socket.h"

#define SOCK_MAX_PROTOS 4

/* A circular doubly linked list node (Linux's list_head). */
struct sock_link {
	struct sock_link *prev;
	struct sock_link *next;
};

struct socket {
	struct sock *sk;	/* the transport's object (prot->obj_size bytes) */
	struct stack *st;
	socket_event_fn handler;
	void *arg;
	bool queued;		/* on the ready list (or the batch being dispatched) */
	struct sock_link ready;	/* in sock_table.ready while queued */
	struct sock_link all;	/* in sock_table.all while open */
};

struct sock_table {
	const struct proto *protos[SOCK_MAX_PROTOS];
	int n_protos;
	struct sock_link all;	/* every open socket */
	struct sock_link ready;	/* sockets whose readiness may have changed */
	uint32_t n_socks;
};

#define link_entry(ptr, member) \
	((struct socket *)((char *)(ptr) - offsetof(struct socket, member)))

static void link_init(struct sock_link *l)
{
	l->prev = l->next = l;
}

static bool link_empty(const struct sock_link *l)
{
	return l->next == l;
}

static void link_add_tail(struct sock_link *head, struct sock_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void link_del_init(struct sock_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

/* Move every node of from to the (empty) list to; from becomes empty. */
static void link_splice_init(struct sock_link *from, struct sock_link *to)
{
	link_init(to);
	if (link_empty(from))
		return;
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	link_init(from);
}

/* sk->data_ready of every socket: queue it once for the next dispatch. */
static void sock_def_readable(struct sock *sk)
{
	struct socket *so = sk->socket;
	struct sock_table *t;

	if (!so || so->queued || !so->st->socks)
		return;
	t = so->st->socks;
	so->queued = true;
	link_add_tail(&t->ready, &so->ready);
}

/*
 * The poll hook: after each burst (and its timers), call the handler of every
 * socket queued during it, once.  Sockets queued by the handlers themselves
 * wait for the next poll, so a handler cannot keep this loop spinning; the
 * poll then counts as busy (st->poll_again), so the worker polls again
 * before it may sleep and such a socket is not left waiting for traffic.
 */
static void sock_dispatch(struct stack *st)
{
	struct sock_table *t = st->socks;
	struct sock_link batch;

	if (!t)
		return;
	link_splice_init(&t->ready, &batch);
	while (!link_empty(&batch)) {
		struct socket *so = link_entry(batch.next, ready);

		link_del_init(&so->ready);
		so->queued = false;
		if (so->handler)
			so->handler(so, skiff_poll(so), so->arg);
		/* so may be freed now */
	}
	if (!link_empty(&t->ready))
		st->poll_again = true;	/* queued by the handlers: the next poll */
}

int sock_init(struct stack *st)
{
	struct sock_table *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	link_init(&t->all);
	link_init(&t->ready);
	err = stack_add_poll_hook(st, sock_dispatch);
	if (err) {
		free(t);
		return err;
	}
	st->socks = t;
	return 0;
}

void sock_fini(struct stack *st)
{
	struct sock_table *t = st->socks;

	if (!t)
		return;
	while (!link_empty(&t->all))
		skiff_close(link_entry(t->all.next, all));
	stack_remove_poll_hook(st, sock_dispatch);
	st->socks = NULL;
	free(t);
}

int sock_register_proto(struct stack *st, const struct proto *prot)
{
	struct sock_table *t = st->socks;
	int i;

	if (!t)
		return -ENODEV;
	if (!prot || prot->obj_size < sizeof(struct sock))
		return -EINVAL;
	for (i = 0; i < t->n_protos; i++)
		if (t->protos[i]->type == prot->type)
			return -EEXIST;
	if (t->n_protos == SOCK_MAX_PROTOS)
		return -ENOSPC;
	t->protos[t->n_protos++] = prot;
	return 0;
}

static const struct proto *sock_find_proto(const struct sock_table *t, int type)
{
	int i;

	for (i = 0; i < t->n_protos; i++)
		if (t->protos[i]->type == type)
			return t->protos[i];
	return NULL;
}

int skiff_socket_af(struct stack *st, int domain, int type, struct socket **out)
{
	const struct proto *prot;
	struct socket *so;
	struct sock *sk;
	int err;

	if (!st || !out)
		return -EINVAL;
	*out = NULL;
	if (!st->socks)
		return -ENODEV;
	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	/* Every skiff socket is non-blocking and has no fd to inherit. */
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	prot = sock_find_proto(st->socks, type);
	if (!prot)
		return -EPROTONOSUPPORT;

	so = calloc(1, sizeof(*so));
	sk = prot->obj_alloc ? prot->obj_alloc(st) : calloc(1, prot->obj_size);
	if (!so || !sk) {
		free(so);
		free(sk);
		return -ENOMEM;
	}
	sk->prot = prot;
	sk->stack = st;
	sk->family = (uint8_t)domain;
	sk_addr_reset(sk, &sk->saddr6);
	sk_addr_reset(sk, &sk->daddr6);
	sk->rcvbuf = SOCK_DEFAULT_RCVBUF;
	pkb_queue_init(&sk->rcvq);
	sk->data_ready = sock_def_readable;
	sk->socket = so;
	so->sk = sk;
	so->st = st;
	link_init(&so->ready);
	if (prot->init) {
		err = prot->init(sk);
		if (err) {
			free(sk);
			free(so);
			return err;
		}
	}
	link_add_tail(&st->socks->all, &so->all);
	st->socks->n_socks++;
	*out = so;
	return 0;
}

int skiff_socket(struct stack *st, int type, struct socket **out)
{
	return skiff_socket_af(st, AF_INET, type, out);
}

int skiff_socket_family(const struct socket *so)
{
	return so ? so->sk->family : -EBADF;
}

/*
 * A sockaddr of the socket's family as (address, port).  An AF_INET6
 * socket takes an IPv4-mapped address unless it is V6ONLY.
 */
static int sock_addr_from(const struct sock *sk, skiff_const_sockaddr_arg arg,
			  union inet_addr *a, uint16_t *port)
{
	if (arg.sa->sa_family != sk->family)
		return -EAFNOSUPPORT;
	if (sk->family == AF_INET) {
		inet_addr_set4(a, arg.sin->sin_addr.s_addr);
		*port = arg.sin->sin_port;
		return 0;
	}
	memcpy(a->b, &arg.sin6->sin6_addr, 16);
	*port = arg.sin6->sin6_port;
	/* RFC 3493 5.3: an IPV6_V6ONLY socket has nothing to do with IPv4 */
	if (sk->v6only && inet_addr_is4(a))
		return -EAFNOSUPPORT;
	return 0;
}

/*
 * A destination: a sockaddr as sock_addr_from(), neither a wildcard address
 * nor port 0.  Always inlined, as sendmsg_ip(): it is on every skiff_sendmsg.
 */
static inline __attribute__((always_inline)) int
sock_daddr_from(const struct sock *sk, skiff_const_sockaddr_arg arg, union inet_addr *a,
		uint16_t *port)
{
	int err = sock_addr_from(sk, arg, a, port);

	if (err)
		return err;
	return inet_addr_is_any(a) || *port == 0 ? -EINVAL : 0;
}

/* Write (a, port) as the socket's family's sockaddr. */
static void sock_addr_to(const struct sock *sk, skiff_sockaddr_arg arg, const union inet_addr *a,
			 uint16_t port)
{
	if (sk->family == AF_INET6) {
		memset(arg.sin6, 0, sizeof(*arg.sin6));
		arg.sin6->sin6_family = AF_INET6;
		arg.sin6->sin6_port = port;
		memcpy(&arg.sin6->sin6_addr, a->b, 16);
		return;
	}
	memset(arg.sin, 0, sizeof(*arg.sin));
	arg.sin->sin_family = AF_INET;
	arg.sin->sin_port = port;
	arg.sin->sin_addr.s_addr = a->w[3];
}

int skiff_bind(struct socket *so, skiff_const_sockaddr_arg addr)
{
	union inet_addr a;
	struct sock *sk;
	uint16_t port;
	int err;

	if (!so)
		return -EBADF;
	if (!addr.sa)
		return -EINVAL;
	sk = so->sk;
	err = sock_addr_from(sk, addr, &a, &port);
	if (err)
		return err;
	if (sk->sport)
		return -EINVAL;		/* already bound, as Linux */
	if (!inet_addr_is_any(&a) && !stack_is_local_addr(so->st, &a))
		return -EADDRNOTAVAIL;
	return sk->prot->bind(sk, &a, port);
}

int skiff_connect(struct socket *so, skiff_const_sockaddr_arg addr)
{
	union inet_addr a;
	struct sock *sk;
	uint16_t port;
	int err;

	if (!so)
		return -EBADF;
	if (!addr.sa)
		return -EINVAL;
	sk = so->sk;
	if (!sk->prot->connect)
		return -EOPNOTSUPP;
	/* AF_UNSPEC dissolves the association (connect(2), datagram sockets). */
	if (addr.sa->sa_family == AF_UNSPEC)
		return sk->prot->connect(sk, NULL, 0);
	err = sock_daddr_from(sk, addr, &a, &port);
	if (err)
		return err;
	return sk->prot->connect(sk, &a, port);
}

/* skiff_sendmsg_ip(), inlined into both entry points (the echo service's
 * skiff_sendmsg pays no extra call). */
static inline __attribute__((always_inline)) ssize_t
sendmsg_ip(struct socket *so, const void *buf, size_t len, skiff_const_sockaddr_arg to,
	   skiff_const_sockaddr_arg local, int ttl, int tos)
{
	union inet_addr daddr, saddr;
	struct sk_txinfo tx = {.ttl = ttl, .tos = tos};
	uint16_t dport = 0, lport;
	struct sock *sk;
	int err;

	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	sk = so->sk;
	if (to.sa) {
		err = sock_daddr_from(sk, to, &daddr, &dport);
		if (err)
			return err;
	} else if (!sk_has_peer(sk)) {
		return -EDESTADDRREQ;
	}
	if (local.sa) {
		err = sock_addr_from(sk, local, &saddr, &lport);
		if (err)
			return err;
	}
	if (ttl > 255 || tos > 255)
		return -EINVAL;
	if ((!local.sa || inet_addr_is_any(&saddr)) && ttl < 0 && tos < 0)
		return sk->prot->sendmsg(sk, buf, len, to.sa ? &daddr : NULL, dport);
	if (!sk->prot->sendmsg_from)
		return -EOPNOTSUPP;
	if (local.sa && !inet_addr_is_any(&saddr))
		tx.saddr = &saddr;
	return sk->prot->sendmsg_from(sk, buf, len, to.sa ? &daddr : NULL, dport, &tx);
}

ssize_t skiff_sendmsg(struct socket *so, const void *buf, size_t len, skiff_const_sockaddr_arg to,
		      skiff_const_sockaddr_arg local)
{
	return sendmsg_ip(so, buf, len, to, local, -1, -1);
}

ssize_t skiff_sendmsg_ip(struct socket *so, const void *buf, size_t len,
			 skiff_const_sockaddr_arg to, skiff_const_sockaddr_arg local, int ttl,
			 int tos)
{
	return sendmsg_ip(so, buf, len, to, local, ttl, tos);
}

ssize_t skiff_sendto(struct socket *so, const void *buf, size_t len, skiff_const_sockaddr_arg to)
{
	return skiff_sendmsg(so, buf, len, to, NULL);
}

/* skiff_recvmsg_ip(), inlined into both entry points. */
static inline __attribute__((always_inline)) ssize_t
recvmsg_ip(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from,
	   struct skiff_ipinfo *ip)
{
	union inet_addr saddr;
	struct sk_rxinfo ri;
	uint16_t sport = 0;
	struct sock *sk;
	ssize_t n;

	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	sk = so->sk;
	sk_addr_reset(sk, &saddr);
	if (ip) {
		if (!sk->prot->recvmsg_to)
			return -EOPNOTSUPP;
		n = sk->prot->recvmsg_to(sk, buf, len, &saddr, &sport, &ri);
	} else {
		n = sk->prot->recvmsg(sk, buf, len, &saddr, &sport);
	}
	if (n < 0)
		return n;
	if (from.sa)
		sock_addr_to(sk, from, &saddr, sport);
	if (ip) {
		if (ip->local.sa)
			sock_addr_to(sk, ip->local, &ri.daddr, sk->sport);
		if (ip->spec_dst.sa)
			sock_addr_to(sk, ip->spec_dst, &ri.spec_dst, sk->sport);
		ip->ttl = ri.ttl;
		ip->tos = ri.tos;
	}
	return n;
}

ssize_t skiff_recvmsg(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from,
		      skiff_sockaddr_arg local)
{
	struct skiff_ipinfo ip;

	if (!local.sa)
		return recvmsg_ip(so, buf, len, from, NULL);
	ip.local.ss = local.ss;
	ip.spec_dst.ss = NULL;
	return recvmsg_ip(so, buf, len, from, &ip);
}

ssize_t skiff_recvmsg_ip(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from,
			 struct skiff_ipinfo *ip)
{
	return recvmsg_ip(so, buf, len, from, ip);
}

ssize_t skiff_recvfrom(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from)
{
	return skiff_recvmsg(so, buf, len, from, NULL);
}

int skiff_close(struct socket *so)
{
	struct sock *sk;

	if (!so)
		return -EBADF;
	sk = so->sk;
	if (so->queued) {
		link_del_init(&so->ready);
		so->queued = false;
	}
	link_del_init(&so->all);
	if (so->st->socks)
		so->st->socks->n_socks--;
	if (sk->prot->flags & PROTO_F_OWNS_OBJECT) {
		/* The transport frees sk when the connection is done, perhaps
		 * inside ->close() itself: detach first, so nothing it does
		 * afterwards can reach this socket, and never touch sk again. */
		sk->socket = NULL;
		sk->data_ready = NULL;
		sk->prot->close(sk);
		free(so);
		return 0;
	}
	sk->prot->close(sk);
	sk->socket = NULL;
	free(sk);
	free(so);
	return 0;
}

uint32_t skiff_poll(struct socket *so)
{
	if (!so)
		return SOCK_EV_ERR;
	return so->sk->prot->poll(so->sk);
}

void skiff_set_handler(struct socket *so, socket_event_fn fn, void *arg)
{
	uint32_t ev;

	if (!so)
		return;
	so->handler = fn;
	so->arg = arg;
	/* As EPOLL_CTL_ADD: report what is already pending at the next dispatch
	 * (for a stream socket also that it is writable: a freshly accepted
	 * or connected socket gets its first event without waiting for data). */
	ev = SOCK_EV_IN | SOCK_EV_ERR | SOCK_EV_HUP;
	if (so->sk->prot->type == SOCK_STREAM)
		ev |= SOCK_EV_OUT;
	if (fn && (skiff_poll(so) & ev))
		sock_def_readable(so->sk);
}

int skiff_setsockopt_rcvbuf(struct socket *so, uint32_t bytes)
{
	if (!so)
		return -EBADF;
	if (!bytes)
		return -EINVAL;
	so->sk->rcvbuf = bytes;
	return 0;
}

int skiff_getsockname(struct socket *so, skiff_sockaddr_arg addr)
{
	if (!so)
		return -EBADF;
	if (!addr.sa)
		return -EINVAL;
	sock_addr_to(so->sk, addr, &so->sk->saddr6, so->sk->sport);
	return 0;
}

/* ---- stream sockets ---- */

int skiff_listen(struct socket *so, int backlog)
{
	struct sock *sk;

	if (!so)
		return -EBADF;
	sk = so->sk;
	if (!sk->prot->listen)
		return -EOPNOTSUPP;
	if (backlog < 1)
		backlog = 1;
	return sk->prot->listen(sk, backlog);
}

int skiff_accept(struct socket *so, struct socket **out, skiff_sockaddr_arg peer)
{
	struct sock *sk, *newsk = NULL;
	struct socket *nso;
	int err;

	if (!so)
		return -EBADF;
	if (!out)
		return -EINVAL;
	*out = NULL;
	sk = so->sk;
	if (!sk->prot->accept)
		return -EOPNOTSUPP;
	err = sk->prot->accept(sk, &newsk);
	if (err)
		return err;
	nso = calloc(1, sizeof(*nso));
	if (!nso) {
		/* no socket to give it: abort the connection as an orphan */
		newsk->socket = NULL;
		newsk->data_ready = NULL;
		newsk->prot->close(newsk);
		return -ENOMEM;
	}
	if (!newsk->prot)
		newsk->prot = sk->prot;
	if (!newsk->stack)
		newsk->stack = so->st;
	newsk->socket = nso;
	newsk->data_ready = sock_def_readable;
	nso->sk = newsk;
	nso->st = so->st;
	link_init(&nso->ready);
	link_add_tail(&so->st->socks->all, &nso->all);
	so->st->socks->n_socks++;
	if (peer.sa)
		sock_addr_to(newsk, peer, &newsk->daddr6, newsk->dport);
	*out = nso;
	return 0;
}

ssize_t skiff_send(struct socket *so, const void *buf, size_t len)
{
	struct sock *sk;

	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	sk = so->sk;
	if (sk->prot->type != SOCK_STREAM && !sk_has_peer(sk))
		return -EDESTADDRREQ;
	return sk->prot->sendmsg(sk, buf, len, NULL, 0);
}

ssize_t skiff_sendfile(struct socket *so, struct fmap *fm, uint64_t off, size_t len)
{
	if (!so)
		return -EBADF;
	if (!fm)
		return -EFAULT;
	if (!so->sk->prot->sendfile)
		return -EOPNOTSUPP;
	return so->sk->prot->sendfile(so->sk, fm, off, len);
}

ssize_t skiff_recv(struct socket *so, void *buf, size_t len)
{
	union inet_addr saddr;
	uint16_t sport;

	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	return so->sk->prot->recvmsg(so->sk, buf, len, &saddr, &sport);
}

int skiff_shutdown(struct socket *so, int how)
{
	struct sock *sk;

	if (!so)
		return -EBADF;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	sk = so->sk;
	if (!sk->prot->shutdown)
		return -EOPNOTSUPP;
	return sk->prot->shutdown(sk, how);
}

/*
 * IP_TTL, IP_TOS, IPV6_UNICAST_HOPS, IPV6_TCLASS: the socket layer's own,
 * with Linux's ranges (-1: the default) and errors; the IPv6 ones on an
 * AF_INET6 socket only (ENOPROTOOPT, as Linux).  On a stream socket the
 * ECN bits are TCP's (RFC 3168 6.1.1), as Linux keeps them.  1: not one of
 * them.
 */
static int sock_set_ip_opt(struct sock *sk, int opt, int val)
{
	uint8_t ecn = sk->prot->type == SOCK_STREAM ? 0x3 : 0;

	if ((opt == SKIFF_IPV6_UNICAST_HOPS || opt == SKIFF_IPV6_TCLASS) &&
	    sk->family != AF_INET6)
		return -ENOPROTOOPT;
	switch (opt) {
	case SKIFF_IP_TTL:
		if (val != -1 && (val < 1 || val > 255))
			return -EINVAL;
		sk->ttl = val < 0 ? 0 : (uint8_t)val;
		return 0;
	case SKIFF_IP_TOS:
		sk->tos = (uint8_t)val & (uint8_t)~ecn;
		return 0;
	case SKIFF_IPV6_UNICAST_HOPS:
		if (val < -1 || val > 255)
			return -EINVAL;
		sk->hops = (uint16_t)(val + 1);
		return 0;
	case SKIFF_IPV6_TCLASS:
		if (val < -1 || val > 255)
			return -EINVAL;
		sk->tclass = val < 0 ? 0 : (uint8_t)val & (uint8_t)~ecn;
		return 0;
	}
	return 1;
}

static int sock_get_ip_opt(const struct sock *sk, int opt, int *val)
{
	if ((opt == SKIFF_IPV6_UNICAST_HOPS || opt == SKIFF_IPV6_TCLASS) &&
	    sk->family != AF_INET6)
		return -ENOPROTOOPT;
	switch (opt) {
	case SKIFF_IP_TTL:
		*val = sk_ttl(sk, true);
		return 0;
	case SKIFF_IP_TOS:
		*val = sk->tos;
		return 0;
	case SKIFF_IPV6_UNICAST_HOPS:
		*val = sk_ttl(sk, false);
		return 0;
	case SKIFF_IPV6_TCLASS:
		*val = sk->tclass;
		return 0;
	}
	return 1;
}

int skiff_setsockopt(struct socket *so, int opt, int val)
{
	struct sock *sk;
	int err = -ENOPROTOOPT;

	if (!so)
		return -EBADF;
	sk = so->sk;
	if (opt == SKIFF_SO_ERROR)
		return -ENOPROTOOPT;	/* get only */
	/* RFC 3493 5.3: set before the socket is bound or connected */
	if (opt == SKIFF_IPV6_V6ONLY) {
		if (sk->family != AF_INET6)
			return -ENOPROTOOPT;
		if (sk->sport)
			return -EINVAL;
		sk->v6only = val != 0;
		return 0;
	}
	err = sock_set_ip_opt(sk, opt, val);
	if (err <= 0)
		return err;
	err = -ENOPROTOOPT;
	if (sk->prot->setsockopt)
		err = sk->prot->setsockopt(sk, opt, val);
	/* The socket layer's own receive limit serves a transport that has no
	 * option of its own (UDP: sk->rcvbuf is its only knob). */
	if (err == -ENOPROTOOPT && opt == SKIFF_SO_RCVBUF) {
		if (val <= 0)
			return -EINVAL;
		sk->rcvbuf = (uint32_t)val;
		return 0;
	}
	return err;
}

int skiff_getsockopt(struct socket *so, int opt, int *val)
{
	struct sock *sk;
	int err = -ENOPROTOOPT;

	if (!so)
		return -EBADF;
	if (!val)
		return -EINVAL;
	sk = so->sk;
	/* SO_ERROR: the pending error as a positive errno (0: none), cleared,
	 * as getsockopt(2) after a non-blocking connect. */
	if (opt == SKIFF_SO_ERROR) {
		*val = -sk->err;
		sk->err = 0;
		return 0;
	}
	if (opt == SKIFF_IPV6_V6ONLY) {
		if (sk->family != AF_INET6)
			return -ENOPROTOOPT;
		*val = sk->v6only;
		return 0;
	}
	err = sock_get_ip_opt(sk, opt, val);
	if (err <= 0)
		return err;
	err = -ENOPROTOOPT;
	if (sk->prot->getsockopt)
		err = sk->prot->getsockopt(sk, opt, val);
	if (err == -ENOPROTOOPT && opt == SKIFF_SO_RCVBUF) {
		*val = (int)sk->rcvbuf;
		return 0;
	}
	return err;
}

int skiff_getpeername(struct socket *so, skiff_sockaddr_arg addr)
{
	if (!so)
		return -EBADF;
	if (!addr.sa)
		return -EINVAL;
	if (!sk_has_peer(so->sk))
		return -ENOTCONN;
	sock_addr_to(so->sk, addr, &so->sk->daddr6, so->sk->dport);
	return 0;
}

void sock_walk(struct stack *st, void (*fn)(void *arg, const struct sock *sk), void *arg)
{
	struct sock_link *l, *next;

	if (!st->socks)
		return;
	for (l = st->socks->all.next; l != &st->socks->all; l = next) {
		next = l->next;
		fn(arg, link_entry(l, all)->sk);
	}
}
