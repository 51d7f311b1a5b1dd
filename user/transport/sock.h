/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * struct sock and struct proto: the protocol-facing half of a socket, as in
 * Linux's include/net/sock.h.  A transport (UDP now, TCP later) provides a
 * struct proto and keeps its per-socket state in an object of
 * prot->obj_size bytes that starts with struct sock.  The socket layer
 * (user/sock/) owns the objects and the application-facing API; the
 * transport calls back up only through sk->data_ready / sk->state_change.
 */
#ifndef SKIFF_SOCK_H
#define SKIFF_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/pkb.h"

struct stack;
struct sock;

/* Readiness, as poll(2) bits mean it. */
#define SOCK_EV_IN	0x1u	/* readable */
#define SOCK_EV_OUT	0x4u	/* writable */
#define SOCK_EV_ERR	0x8u	/* error pending */
#define SOCK_EV_HUP	0x10u	/* hung up */

#define SOCK_DEFAULT_RCVBUF	(256u * 1024)

struct fmap;

struct proto {
	const char *name;
	int type;		/* SOCK_DGRAM, SOCK_STREAM */
	int protocol;		/* IPPROTO_UDP, IPPROTO_TCP */
	size_t obj_size;	/* >= sizeof(struct sock) */
	int (*init)(struct sock *sk);
	/* Bind to (addr, port) network order; port 0 picks an ephemeral one. */
	int (*bind)(struct sock *sk, uint32_t addr, uint16_t port);
	int (*connect)(struct sock *sk, uint32_t addr, uint16_t port);
	/* Send len bytes to (daddr, dport), or to the connected peer when
	 * daddr == 0.  Returns bytes queued or -errno. */
	ssize_t (*sendmsg)(struct sock *sk, const void *buf, size_t len, uint32_t daddr,
			   uint16_t dport);
	/* Copy out the next datagram / bytes; -EAGAIN when none. */
	ssize_t (*recvmsg)(struct sock *sk, void *buf, size_t len, uint32_t *saddr,
			   uint16_t *sport);
	/* Optional, IP_PKTINFO-style (added for wildcard-bound servers, so a
	 * reply leaves from the address the request came to):
	 * recvmsg that also gives the local address the datagram was sent to
	 * (*daddr), and sendmsg from the local address saddr (0: as routed). */
	ssize_t (*recvmsg_to)(struct sock *sk, void *buf, size_t len, uint32_t *saddr,
			      uint16_t *sport, uint32_t *daddr);
	ssize_t (*sendmsg_from)(struct sock *sk, const void *buf, size_t len, uint32_t daddr,
				uint16_t dport, uint32_t saddr);
	/* Optional (stream sockets): queue [off, off + len) of a mapped file
	 * by reference (core/fmap.h), as sendmsg otherwise. */
	ssize_t (*sendfile)(struct sock *sk, struct fmap *fm, uint64_t off, size_t len);
	/* Readiness mask SOCK_EV_* now. */
	uint32_t (*poll)(struct sock *sk);
	/* Unhash, release the port, free queued pkbs.  Frees the object only
	 * with PROTO_F_OWNS_OBJECT (else the socket layer frees it after). */
	void (*close)(struct sock *sk);

	/* Stream sockets (NULL where the protocol has no such operation). */
	int (*listen)(struct sock *sk, int backlog);
	/* Take one established connection off the accept queue: 0 and
	 * *newsk, or -EAGAIN.  newsk->data_ready is set by the caller. */
	int (*accept)(struct sock *sk, struct sock **newsk);
	/* how: SHUT_RD, SHUT_WR, SHUT_RDWR (<sys/socket.h>). */
	int (*shutdown)(struct sock *sk, int how);
	int (*setsockopt)(struct sock *sk, int opt, int val);	/* SKIFF_SO_* */
	int (*getsockopt)(struct sock *sk, int opt, int *val);
	uint32_t flags;		/* PROTO_F_* */
};

/*
 * The protocol frees the object itself: a TCP connection outlives
 * skiff_close() (FIN_WAIT, TIME_WAIT) as an orphan; after ->close() the
 * socket layer never touches sk again and sk->socket is NULL.
 */
#define PROTO_F_OWNS_OBJECT	0x1u

/* Socket options (skiff_setsockopt); values are ints. */
enum {
	SKIFF_SO_RCVBUF = 1,	/* receive buffer bytes */
	SKIFF_SO_SNDBUF,	/* send buffer bytes */
	SKIFF_SO_REUSEADDR,	/* bind while a connection on the port is in TIME_WAIT */
	SKIFF_SO_KEEPALIVE,	/* 0/1 */
	SKIFF_SO_LINGER_ABORT,	/* 1: close() sends RST and frees at once (SO_LINGER 0) */
	SKIFF_SO_ERROR,		/* get only: pending error, cleared */
	SKIFF_TCP_NODELAY,	/* 1: no Nagle */
	SKIFF_TCP_KEEPIDLE,	/* seconds idle before the first probe */
	SKIFF_TCP_KEEPINTVL,	/* seconds between probes */
	SKIFF_TCP_KEEPCNT,	/* probes before the connection is dropped */
	SKIFF_TCP_CONGESTION,	/* 0 = CUBIC (default), 1 = NewReno */
	SKIFF_TCP_MAXSEG,	/* get: effective send MSS */
	SKIFF_TCP_ECN,		/* RFC 3168: 0 off, 1 request and accept, 2 accept only (default) */
};

struct sock {
	const struct proto *prot;
	struct stack *stack;
	uint32_t saddr;		/* bound local address, 0 = any (network order) */
	uint32_t daddr;		/* connected peer, 0 = none */
	uint16_t sport;		/* bound local port, 0 = unbound (network order) */
	uint16_t dport;
	int err;		/* pending error (negative errno), reported once */
	uint32_t rcvbuf;	/* receive queue limit, bytes */
	struct pkb_queue rcvq;	/* received, not yet read */
	struct sock *hnext;	/* transport's hash chain */
	/* set by the socket layer: readiness may have changed (readable,
	 * writable again, error, hang-up, a connection to accept).  The
	 * transport calls it for every such change. */
	void (*data_ready)(struct sock *sk);
	void *socket;		/* the socket layer's handle */
};

#endif /* SKIFF_SOCK_H */
