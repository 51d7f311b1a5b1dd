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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/inaddr.h"
#include "core/pkb.h"
#include "core/stack.h"

struct stack;
struct sock;

/* Readiness, as poll(2) bits mean it. */
#define SOCK_EV_IN	0x1u	/* readable */
#define SOCK_EV_OUT	0x4u	/* writable */
#define SOCK_EV_ERR	0x8u	/* error pending */
#define SOCK_EV_HUP	0x10u	/* hung up */

#define SOCK_DEFAULT_RCVBUF	(256u * 1024)

struct fmap;

/* What a received datagram's IP header said (IP_PKTINFO, IP_TTL, IP_TOS
 * and their IPv6 kin). */
struct sk_rxinfo {
	union inet_addr daddr;	  /* the local address it was sent to (ipi_addr) */
	/* the address a reply leaves from (ipi_spec_dst): daddr, or for an
	 * IPv4 broadcast the source of the route back to the sender */
	union inet_addr spec_dst;
	uint8_t ttl;		  /* IPv4 TTL, IPv6 hop limit */
	uint8_t tos;		  /* IPv4 TOS byte, IPv6 traffic class */
};

/* Per-message overrides of a send (sendmsg's IP_PKTINFO, IP_TTL, IP_TOS,
 * IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS). */
struct sk_txinfo {
	const union inet_addr *saddr; /* the source, one of ours (NULL: as routed) */
	int ttl;		      /* TTL / hop limit 0..255, -1: the socket's */
	int tos;		      /* TOS / traffic class 0..255, -1: the socket's */
};

struct proto {
	const char *name;
	int type;		/* SOCK_DGRAM, SOCK_STREAM */
	int protocol;		/* IPPROTO_UDP, IPPROTO_TCP */
	size_t obj_size;	/* >= sizeof(struct sock) */
	/* Optional: obj_size zeroed bytes (as calloc), NULL when out of
	 * memory; a transport with PROTO_F_OWNS_OBJECT may keep a cache of
	 * its freed objects.  Without it, calloc. */
	void *(*obj_alloc)(struct stack *st);
	int (*init)(struct sock *sk);
	/*
	 * Addresses are union inet_addr (core/inaddr.h: IPv4 mapped), ports
	 * network order.  The socket layer has checked the family against
	 * the socket's (sk->family, sk->v6only) before any of these.
	 */
	/* Bind to (addr, port); port 0 picks an ephemeral one. */
	int (*bind)(struct sock *sk, const union inet_addr *addr, uint16_t port);
	/* addr NULL: forget the peer (connect(2) with AF_UNSPEC). */
	int (*connect)(struct sock *sk, const union inet_addr *addr, uint16_t port);
	/* Send len bytes to (daddr, dport), or to the connected peer when
	 * daddr is NULL.  Returns bytes queued or -errno. */
	ssize_t (*sendmsg)(struct sock *sk, const void *buf, size_t len,
			   const union inet_addr *daddr, uint16_t dport);
	/* Copy out the next datagram / bytes; -EAGAIN when none. */
	ssize_t (*recvmsg)(struct sock *sk, void *buf, size_t len, union inet_addr *saddr,
			   uint16_t *sport);
	/* Optional, IP_PKTINFO / IPV6_PKTINFO-style (for wildcard-bound
	 * servers, so a reply leaves from the address the request came to):
	 * recvmsg that also tells what the datagram's IP header said (*ri:
	 * the local address it was sent to, TTL, TOS), and sendmsg with
	 * per-message overrides (*tx, NULL: none). */
	ssize_t (*recvmsg_to)(struct sock *sk, void *buf, size_t len, union inet_addr *saddr,
			      uint16_t *sport, struct sk_rxinfo *ri);
	ssize_t (*sendmsg_from)(struct sock *sk, const void *buf, size_t len,
				const union inet_addr *daddr, uint16_t dport,
				const struct sk_txinfo *tx);
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
	SKIFF_TCP_CONGESTION,	/* 0 = CUBIC (default), 1 = NewReno, 2 = BBR */
	SKIFF_TCP_MAXSEG,	/* get: effective send MSS */
	SKIFF_TCP_ECN,		/* RFC 3168: 0 off, 1 request and accept, 2 accept only (default) */
	SKIFF_IPV6_V6ONLY,	/* AF_INET6, before bind: 1 = IPv6 only, 0 = also IPv4 (default) */
	/* The IP header fields of the socket's packets (Linux's ranges and
	 * errors; -1 = the default): IPv4 TTL 1..255, TOS byte; IPv6 hop
	 * limit 0..255, traffic class 0..255 (AF_INET6 only).  A stream
	 * socket's ECN bits stay TCP's (RFC 3168). */
	SKIFF_IP_TTL,
	SKIFF_IP_TOS,
	SKIFF_IPV6_UNICAST_HOPS,
	SKIFF_IPV6_TCLASS,
	SKIFF_SO_SNDBUF_MIN,	/* TCP, set: the send buffer at least this many bytes, autotuning
				 * left on (it may grow it further); get: as SKIFF_SO_SNDBUF */
	SKIFF_TCP_RELAY_READS,	/* 1: the reader relays the bytes to an application
				 * (skiffd's worker, apps/app_chan.c): its first read
				 * after the handshake sends no window update of its own */
};

#define SK_DEFAULT_TTL	64	/* IPv4 TTL and IPv6 hop limit when not set (Linux's) */

struct sock {
	const struct proto *prot;
	struct stack *stack;
	/*
	 * Bound local address (a wildcard: :: or ::ffff:0.0.0.0) and connected
	 * peer (unconnected: the wildcard of the socket's family), IPv4
	 * mapped (core/inaddr.h).  saddr / daddr name the IPv4 address in the
	 * last word, which IPv4-only code reads and writes as before.
	 */
	union {
		union inet_addr saddr6;
		struct {
			uint32_t saddr_pfx_[3];
			uint32_t saddr;
		};
	};
	union {
		union inet_addr daddr6;
		struct {
			uint32_t daddr_pfx_[3];
			uint32_t daddr;
		};
	};
	uint16_t sport;		/* bound local port, 0 = unbound (network order) */
	uint16_t dport;		/* connected peer's port, 0 = none */
	uint8_t family;		/* AF_INET or AF_INET6: the sockaddr the API speaks */
	bool v6only;		/* AF_INET6 only: IPV6_V6ONLY, no IPv4 through :: */
	uint8_t ttl;		/* IP_TTL, 0 = SK_DEFAULT_TTL */
	uint8_t tos;		/* IP_TOS */
	uint8_t tclass;		/* IPV6_TCLASS */
	uint16_t hops;		/* IPV6_UNICAST_HOPS + 1, 0 = SK_DEFAULT_TTL */
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

/* The TTL / hop limit of sk's packets over IPv4 (v4) or IPv6. */
static inline uint8_t sk_ttl(const struct sock *sk, bool v4)
{
	if (v4)
		return sk->ttl ? sk->ttl : SK_DEFAULT_TTL;
	return sk->hops ? (uint8_t)(sk->hops - 1) : SK_DEFAULT_TTL;
}

/* The TOS / traffic class byte of sk's packets over IPv4 (v4) or IPv6. */
static inline uint8_t sk_tos(const struct sock *sk, bool v4)
{
	return v4 ? sk->tos : sk->tclass;
}

/* A child socket (an accepted connection) takes its listener's. */
static inline void sk_copy_ip_opts(struct sock *to, const struct sock *from)
{
	to->ttl = from->ttl;
	to->tos = from->tos;
	to->tclass = from->tclass;
	to->hops = from->hops;
}

/* Connected to a peer (a port is what every connected socket has). */
static inline bool sk_has_peer(const struct sock *sk)
{
	return sk->dport != 0;
}

/*
 * Claim (a, proto, port) in the maps XDP steers by (st->hooks): its IPv4
 * part (an IPv4 address, the IPv4 wildcard, or :: without V6ONLY as 0) in
 * ports, its IPv6 part (an IPv6 address, or :: for every one) in ports6.
 * 0 or -errno (nothing claimed).
 */
static inline int sk_port_claim(struct stack *st, const union inet_addr *a, bool v6only,
				uint8_t proto, uint16_t port)
{
	bool any6 = inet_addr_is_any6(a);
	int err;

	if (inet_addr_is4(a) || (any6 && !v6only)) {
		if (st->hooks.port_claim) {
			err = st->hooks.port_claim(st->hooks.ctx, any6 ? 0 : a->w[3], proto, port);
			if (err)
				return err;
		}
		if (!any6)
			return 0;
	}
	if (st->hooks.port6_claim) {
		err = st->hooks.port6_claim(st->hooks.ctx, a->b, proto, port);
		if (err && !v6only && st->hooks.port_release)
			st->hooks.port_release(st->hooks.ctx, 0, proto, port);
		return err;
	}
	return 0;
}

/* Undo sk_port_claim(). */
static inline void sk_port_release(struct stack *st, const union inet_addr *a, bool v6only,
				   uint8_t proto, uint16_t port)
{
	bool any6 = inet_addr_is_any6(a);

	if ((inet_addr_is4(a) || (any6 && !v6only)) && st->hooks.port_release)
		st->hooks.port_release(st->hooks.ctx, any6 ? 0 : a->w[3], proto, port);
	if (!inet_addr_is4(a) && st->hooks.port6_release)
		st->hooks.port6_release(st->hooks.ctx, a->b, proto, port);
}

/* The unconnected state of a socket of family (AF_INET: ::ffff:0.0.0.0). */
static inline void sk_addr_reset(const struct sock *sk, union inet_addr *a)
{
	static const union inet_addr any4 = INET_ADDR_ANY4_INIT;

	if (sk->family == AF_INET6)
		memset(a, 0, sizeof(*a));
	else
		*a = any4;
}

#endif /* SKIFF_SOCK_H */
