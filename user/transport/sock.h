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
	/* Readiness mask SOCK_EV_* now. */
	uint32_t (*poll)(struct sock *sk);
	/* Unhash, release the port, free queued pkbs (not the object). */
	void (*close)(struct sock *sk);
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
	/* set by the socket layer: readiness may have changed */
	void (*data_ready)(struct sock *sk);
	void *socket;		/* the socket layer's handle */
};

#endif /* SKIFF_SOCK_H */
