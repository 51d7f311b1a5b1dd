/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The protocol-agnostic socket API of skiff, used by the built-in services
 * exactly as an application would use BSD sockets, and later by the client
 * library.  All calls are non-blocking and return 0 / a byte count, or a
 * negative errno.  Readiness is delivered as events: a socket's handler runs
 * after each burst in which its readiness may have changed (edge-triggered,
 * like EPOLLET: read until -EAGAIN).
 */
#ifndef SKIFF_SOCKET_H
#define SKIFF_SOCKET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/stack.h"
#include "transport/sock.h"

struct socket;

typedef void (*socket_event_fn)(struct socket *so, uint32_t events, void *arg);

/*
 * Addresses: struct sockaddr_in for an AF_INET socket, struct sockaddr_in6
 * for an AF_INET6 one (which also reaches IPv4 peers as ::ffff:a.b.c.d
 * unless SKIFF_IPV6_V6ONLY is set, as Linux with bindv6only=0).  The
 * arguments take a pointer to either (or to struct sockaddr /
 * sockaddr_storage) without a cast, as glibc's __SOCKADDR_ARG does; an
 * input's family is read from it, an output is written in the socket's
 * family, so an AF_INET6 socket needs room for a sockaddr_in6.
 */
typedef union {
	const struct sockaddr *sa;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_storage *ss;
} __attribute__((transparent_union)) skiff_const_sockaddr_arg;

typedef union {
	struct sockaddr *sa;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct sockaddr_storage *ss;
} __attribute__((transparent_union)) skiff_sockaddr_arg;

/* type: SOCK_DGRAM (UDP), SOCK_STREAM (TCP).  skiff_socket() makes an
 * AF_INET socket; skiff_socket_af() one of domain AF_INET or AF_INET6. */
int skiff_socket(struct stack *st, int type, struct socket **out);
int skiff_socket_af(struct stack *st, int domain, int type, struct socket **out);
int skiff_bind(struct socket *so, skiff_const_sockaddr_arg addr);
int skiff_connect(struct socket *so, skiff_const_sockaddr_arg addr);
ssize_t skiff_sendto(struct socket *so, const void *buf, size_t len, skiff_const_sockaddr_arg to);
ssize_t skiff_recvfrom(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from);
/*
 * recvfrom/sendto with the local address of the datagram, as IP_PKTINFO
 * (IPV6_PKTINFO) does for BSD sockets.  skiff_recvmsg() also fills local
 * (may be NULL) with the address and port the datagram was sent to;
 * skiff_sendmsg() sends from local's address (local NULL or a wildcard:
 * the routed source), which must be one of ours and match the bound
 * address, if any.  A server bound to a wildcard uses them to answer from
 * the address it was asked on.  -EOPNOTSUPP for a transport without them.
 */
ssize_t skiff_recvmsg(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from,
		      skiff_sockaddr_arg local);
ssize_t skiff_sendmsg(struct socket *so, const void *buf, size_t len, skiff_const_sockaddr_arg to,
		      skiff_const_sockaddr_arg local);
/*
 * The same with what the datagram's IP header says: skiff_recvmsg_ip()
 * fills ip->local (the address and port it was sent to, IP_PKTINFO's
 * ipi_addr), ip->spec_dst (the address a reply leaves from, ipi_spec_dst:
 * local, or for an IPv4 broadcast our address toward the sender), either
 * may be NULL, and ip->ttl / ip->tos (IPv4 TTL and TOS, IPv6 hop limit
 * and traffic class).  skiff_sendmsg_ip() sends with this message's TTL /
 * hop limit and TOS / traffic class (0..255; -1: the socket's).
 */
struct skiff_ipinfo {
	skiff_sockaddr_arg local, spec_dst;
	int ttl, tos;
};
ssize_t skiff_recvmsg_ip(struct socket *so, void *buf, size_t len, skiff_sockaddr_arg from,
			 struct skiff_ipinfo *ip);
ssize_t skiff_sendmsg_ip(struct socket *so, const void *buf, size_t len,
			 skiff_const_sockaddr_arg to, skiff_const_sockaddr_arg local, int ttl,
			 int tos);
int skiff_close(struct socket *so);
/* Current readiness, SOCK_EV_*. */
uint32_t skiff_poll(struct socket *so);
/* Call fn(so, events, arg) when readiness changes; NULL to stop. */
void skiff_set_handler(struct socket *so, socket_event_fn fn, void *arg);
int skiff_setsockopt_rcvbuf(struct socket *so, uint32_t bytes);

/* Stream sockets (SOCK_STREAM, TCP). */
/* The largest backlog skiff_listen() honours; a larger one is capped, as
 * listen(2) caps it at net.core.somaxconn (TCP_SOMAXCONN). */
#define SKIFF_SOMAXCONN		4096
/* Connections (and listeners) one stack holds at most (TCP_MAX_CONNS). */
#define SKIFF_MAX_CONNS		131072
int skiff_listen(struct socket *so, int backlog);
/* A new connected socket (handler unset) and its peer, or -EAGAIN. */
int skiff_accept(struct socket *so, struct socket **out, skiff_sockaddr_arg peer);
/* connect() on a stream socket returns -EINPROGRESS; completion is
 * SOCK_EV_OUT (success) or SOCK_EV_ERR (skiff_getsockopt SKIFF_SO_ERROR). */
ssize_t skiff_send(struct socket *so, const void *buf, size_t len);	/* -EAGAIN when full */
/*
 * sendfile() for a stream socket: queue [off, off + len) of a file mapped
 * with fmap_open() (core/fmap.h) without copying it; the bytes are read
 * when each segment is built, and the queue holds its own references to
 * the mapping.  Bytes queued, -EAGAIN when full, -EOPNOTSUPP for datagram
 * sockets.  A file truncated before its bytes are sent resets the
 * connection (SKIFF_SO_ERROR: EIO).
 */
struct fmap;
ssize_t skiff_sendfile(struct socket *so, struct fmap *fm, uint64_t off, size_t len);
ssize_t skiff_recv(struct socket *so, void *buf, size_t len);	/* 0 = EOF, -EAGAIN */
int skiff_shutdown(struct socket *so, int how);
int skiff_setsockopt(struct socket *so, int opt, int val);	/* SKIFF_SO_* */
/* SKIFF_IPV6_V6ONLY is the socket layer's own (AF_INET6, before bind or
 * connect; else -EINVAL).  SKIFF_SO_ERROR gives the pending error as a positive errno (0: none) and
 * clears it; SKIFF_SO_RCVBUF falls back to sk->rcvbuf for a transport
 * without options of its own (UDP). */
int skiff_getsockopt(struct socket *so, int opt, int *val);
int skiff_getpeername(struct socket *so, skiff_sockaddr_arg addr);
int skiff_getsockname(struct socket *so, skiff_sockaddr_arg addr);
/* The socket's domain, AF_INET or AF_INET6. */
int skiff_socket_family(const struct socket *so);

/* Register a transport for a socket type (done by udp_init, tcp_init). */
int sock_register_proto(struct stack *st, const struct proto *prot);

int sock_init(struct stack *st);	/* registers the event dispatch poll hook */
void sock_fini(struct stack *st);	/* closes every socket left */

/* For skiffctl: visit every open socket. */
void sock_walk(struct stack *st, void (*fn)(void *arg, const struct sock *sk), void *arg);

#endif /* SKIFF_SOCKET_H */
