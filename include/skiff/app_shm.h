/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The shared memory between skiffd and an attached application (libskiff),
 * docs/apps.md.  skiffd creates one memfd per application at attach time,
 * lays it out as below and passes it with SCM_RIGHTS; both map it.
 *
 *	struct skiff_app_hdr                  what follows, app_sleeping, q_used
 *	struct skiff_app_chan  chan[workers]  per worker: its sleeping flag and
 *	                                      SKIFF_APP_QUEUES request rings
 *	struct skiff_app_slot  slot[SKIFF_APP_MAX_SOCKS]
 *	uint8_t lib[SKIFF_APP_LIB_SIZE]       the library's (its locks, socket table)
 *	uint8_t rx[SKIFF_APP_MAX_SOCKS][SKIFF_APP_FIFO]   worker -> app bytes
 *	uint8_t tx[SKIFF_APP_MAX_SOCKS][SKIFF_APP_FIFO]   app -> worker bytes
 *
 * Request rings.  Each thread of the application (of any of its
 * processes) that posts requests owns a thread slot k < SKIFF_APP_MAX_WAITERS
 * while it lives: ring k of every worker (it is the only producer, so it
 * takes no lock to post) and waiter k (the eventfd it sleeps on).  Ring
 * SKIFF_APP_Q_SHARED is for the threads beyond those, under a lock of the
 * library's.  The application sets bit k of q_used before it first posts
 * on ring k (never clears it): a worker reads the rings of q_used only,
 * in turn, a bounded number from each per loop.  q_owned (bit k: thread
 * slot k has a thread now) is only shown by `skiffctl apps`.
 *
 * Trust.  The application trusts skiffd.  skiffd trusts nothing it reads
 * here: it reads a message once into private memory and validates every
 * field, reads an index written by the application once and checks it
 * against its own private copy of the other index, and never reads back
 * anything it wrote (its own indices and the layout live in its private
 * memory).  A process that writes garbage gets its own sockets reset.
 *
 * Every index is a free-running uint32_t; a ring or FIFO holds
 * prod - cons entries/bytes (mod 2^32), at most its size.  Each index has
 * one writer.  Sleep/wake (both directions): the consumer stores
 * sleeping = 1, issues a full fence, re-checks its queues and only then
 * sleeps on its eventfd; the producer publishes, issues a full fence and
 * kicks the eventfd only if it swaps sleeping from 1 to 0.  A busy peer is
 * therefore never woken by a syscall.  A consumer may spin before it sleeps
 * (skiffd --busy-poll, the library's SKIFF_BUSY_POLL_US): it then watches
 * the queues (the worker) or app_news (a thread of the application) with
 * its sleeping flag down, so the producer makes no syscall for it either.
 * The application side has one
 * eventfd per sleeping thread (a "waiter", SKIFF_APP_MAX_WAITERS of them,
 * shared by the processes that inherit the attach through fork()):
 * app_sleeping is a mask of the waiters asleep, and a worker swaps it to 0
 * and writes the eventfd of each bit that was set.
 */
#ifndef SKIFF_APP_SHM_H
#define SKIFF_APP_SHM_H

#include <stdint.h>

#define SKIFF_APP_MAGIC 0x736b6170u /* "skap" */
#define SKIFF_APP_VERSION 11u /* 6: 16-byte addresses and a family (IPv6); 7: slot.tx_wait; 8: hdr.ifindex;
				      * 9: hdr.app_waits and TX's arg2 (the hold of a small send);
				      * 10: datagram records carry the local address, TTL and TOS;
				      * 11: hdr.addrs4/addrs6 */
#define SKIFF_APP_MAX_WORKERS 8	      /* skiffd queues an application can use */
#define SKIFF_APP_MAX_SOCKS 128	      /* sockets of one attached process */
#define SKIFF_APP_RING 1024	      /* messages per request ring (power of 2) */
#define SKIFF_APP_FIFO (128u * 1024u) /* bytes per FIFO (power of 2) */
#define SKIFF_APP_CACHELINE 64
#define SKIFF_APP_MAX_WAITERS 32      /* thread slots: a ring per worker and a waiter each */
#define SKIFF_APP_Q_SHARED SKIFF_APP_MAX_WAITERS /* the ring of threads without a slot */
#define SKIFF_APP_QUEUES (SKIFF_APP_MAX_WAITERS + 1) /* request rings per worker */
#define SKIFF_APP_LIB_SIZE (512u * 1024u) /* the library's own part: skiffd never reads it */
#define SKIFF_APP_MAX_ADDRS4 16 /* hdr.addrs4: skiffd's IPv4 addresses (SKIFF_MAX_ADDRS) */
#define SKIFF_APP_MAX_ADDRS6 9  /* hdr.addrs6: its IPv6 ones (SKIFF_MAX_ADDRS6) */

/* Request ops, application -> the worker a socket lives on. */
enum skiff_app_op {
	SKIFF_APP_OP_LISTEN = 1, /* socket+options+bind+listen(addr, port, arg=backlog) */
	SKIFF_APP_OP_CONNECT,	 /* socket+options+[bind laddr]+connect(addr, port) */
	SKIFF_APP_OP_ACCEPT,	 /* slot: the new socket's, arg: the listener's slot */
	SKIFF_APP_OP_TX,	 /* the tx FIFO of slot has bytes; arg2: the posting
				  * thread's app_waits[k] at the send */
	SKIFF_APP_OP_RXREAD,	 /* the app made room in the rx FIFO of slot */
	SKIFF_APP_OP_SHUTDOWN,	 /* arg: SHUT_RD/SHUT_WR/SHUT_RDWR */
	SKIFF_APP_OP_CLOSE,	 /* send what the tx FIFO holds, close, free the slot;
				  * arg SKIFF_APP_CLOSE_RST: reset instead */
	SKIFF_APP_OP_SETOPT,	 /* arg: SKIFF_APP_OPT_*, arg2: value */
	SKIFF_APP_OP_UDP_BIND,	 /* UDP socket+options+bind(addr, port; 0: ephemeral);
				  * arg 1: this worker sends the tx FIFO's datagrams */
	SKIFF_APP_OP_UDP_CONNECT, /* default peer (addr, port); 0, 0: none */
	SKIFF_APP_OP_MAX,
};

/* IP_TTL and IPV6_UNICAST_HOPS of a socket that set none (skiffd's
 * SK_DEFAULT_TTL, Linux's default) */
#define SKIFF_APP_DEFAULT_TTL 64

#define SKIFF_APP_CLOSE_RST 1 /* CLOSE's arg: SO_LINGER 0, abort with RST */

/* Options sent with LISTEN/CONNECT (opts bits) or alone (SETOPT). */
enum skiff_app_opt {
	SKIFF_APP_OPT_REUSEADDR = 1,
	SKIFF_APP_OPT_NODELAY,
	SKIFF_APP_OPT_RCVBUF,
	SKIFF_APP_OPT_SNDBUF,
	SKIFF_APP_OPT_KEEPALIVE,
	SKIFF_APP_OPT_CONGESTION, /* value: SKIFF_TCP_CONGESTION's (0 CUBIC, 1 NewReno, 2 BBR) */
	/* value + 1 (0: the default, the option's -1), as the message's
	 * ttl1 / hops1 */
	SKIFF_APP_OPT_TTL,	  /* IP_TTL */
	SKIFF_APP_OPT_HOPS,	  /* IPV6_UNICAST_HOPS */
	SKIFF_APP_OPT_TOS,	  /* IP_TOS, the byte */
	SKIFF_APP_OPT_TCLASS,	  /* IPV6_TCLASS, the byte */
	SKIFF_APP_OPT_MAX,
};
#define SKIFF_APP_F_REUSEADDR 0x1u
#define SKIFF_APP_F_NODELAY 0x2u
#define SKIFF_APP_F_KEEPALIVE 0x4u
#define SKIFF_APP_F_V6ONLY 0x8u /* AF_INET6: IPV6_V6ONLY (LISTEN/CONNECT/UDP_BIND) */
/* TCP_CONGESTION for LISTEN/CONNECT: the algorithm's number + 1 in these
 * bits (0: the daemon's default, --cc) */
#define SKIFF_APP_F_CC_SHIFT 8
#define SKIFF_APP_F_CC_MASK (0x3u << SKIFF_APP_F_CC_SHIFT)

/*
 * Addresses.  Every address field is 16 bytes in the socket's family: an
 * AF_INET address in its first 4 bytes and the other 12 zero, an AF_INET6
 * one whole (a dual-stack socket's IPv4 peers as ::ffff:a.b.c.d).  All
 * zero is the wildcard of either family.  The family is chosen once, by
 * the request that creates the socket on a worker (LISTEN, CONNECT,
 * UDP_BIND: AF_INET or AF_INET6, anything else -EAFNOSUPPORT); later
 * requests, replies and datagram records use the socket's.  Ports and
 * addresses in network order.
 */

/* One request: 64 bytes. */
struct skiff_app_msg {
	uint16_t op;
	uint16_t slot;
	uint32_t seq;  /* echoed in the slot's reply */
	uint16_t port; /* of addr */
	uint16_t flags; /* SKIFF_APP_F_* */
	int32_t arg;	/* LISTEN: backlog; ACCEPT: listener slot; SHUTDOWN: how; SETOPT: opt */
	uint32_t arg2;	/* LISTEN/CONNECT: SO_RCVBUF (0 = default); SETOPT: value */
	uint16_t lport; /* CONNECT: local port to bind, 0 = ephemeral */
	uint16_t pad;	/* LISTEN/CONNECT: SO_SNDBUF in KiB, 0 = default */
	uint16_t family; /* LISTEN/CONNECT/UDP_BIND: AF_INET or AF_INET6 */
	/* LISTEN/CONNECT/UDP_BIND: IP_TTL + 1 and IPV6_UNICAST_HOPS + 1 (0:
	 * the default), IP_TOS and IPV6_TCLASS */
	uint16_t hops1;
	uint16_t ttl1;
	uint8_t tos;
	uint8_t tclass;
	uint8_t addr[16];  /* LISTEN/UDP_BIND: local; CONNECT/UDP_CONNECT: remote */
	uint8_t laddr[16]; /* CONNECT: local address to bind, all zero = any */
};

/*
 * Datagram sockets (UDP).  The tx FIFO holds records: a struct
 * skiff_app_dgram, then len bytes, padded to 4 (SKIFF_APP_DGRAM_REC()),
 * possibly wrapping around the FIFO's end.  addr and port all zero: the
 * connected peer.  The rx FIFO is cut into one part per worker
 * (skiff_app_dgram_part() bytes each, part w at w * part): a socket bound
 * to a fixed port lives on every worker, since a datagram for it may
 * arrive on any queue, and each part keeps one producer.  Its indices are
 * urx_head[w]/urx_tail[w]; the records are the same, addr/port the
 * sender.
 */
struct skiff_app_dgram {
	uint32_t len;
	uint16_t port;
	uint8_t flags; /* tx: SKIFF_APP_DG_*: which of laddr, ttl, tos to use; rx: 0 */
	uint8_t pad;
	uint8_t ttl;   /* rx: the datagram's IPv4 TTL / IPv6 hop limit; tx: with SKIFF_APP_DG_TTL */
	uint8_t tos;   /* rx: its IPv4 TOS / IPv6 traffic class; tx: with SKIFF_APP_DG_TOS */
	uint8_t pad2[2];
	uint8_t addr[16];  /* rx: the sender; tx: the destination (see Addresses) */
	/* rx: the local address the datagram was sent to (IP_PKTINFO's
	 * ipi_addr); tx: with SKIFF_APP_DG_SRC, the source, one of skiffd's */
	uint8_t laddr[16];
	/* rx, a datagram that came over IPv4: the address a reply leaves
	 * from (ipi_spec_dst), laddr's IPv4 address or for a broadcast
	 * skiffd's address toward the sender; over IPv6 zero; tx: unused */
	uint8_t spec_dst4[4];
};
#define SKIFF_APP_DG_SRC 0x1u /* send from laddr */
#define SKIFF_APP_DG_TTL 0x2u /* with this TTL / hop limit */
#define SKIFF_APP_DG_TOS 0x4u /* with this TOS / traffic class */
#define SKIFF_APP_DG_ALL (SKIFF_APP_DG_SRC | SKIFF_APP_DG_TTL | SKIFF_APP_DG_TOS)
#define SKIFF_APP_DGRAM_MAX4 65507u /* UDP payload over IPv4 */
#define SKIFF_APP_DGRAM_MAX 65527u  /* over IPv6 (RFC 8200: 65535 - 8), the larger */
#define SKIFF_APP_DGRAM_REC(len) \
	((uint32_t)sizeof(struct skiff_app_dgram) + (((uint32_t)(len) + 3u) & ~3u))

/* A single-producer single-consumer ring of messages. */
struct skiff_app_ring {
	_Alignas(SKIFF_APP_CACHELINE) uint32_t prod; /* the application */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t cons; /* the worker */
	_Alignas(SKIFF_APP_CACHELINE) struct skiff_app_msg msg[SKIFF_APP_RING];
};

/* What the application shares with one worker. */
struct skiff_app_chan {
	_Alignas(SKIFF_APP_CACHELINE) uint32_t sleeping; /* the worker sleeps: kick it */
	/* the CPU + 1 of the thread whose kick woke the worker (0: none since
	 * the worker last looked): it yields to a thread on its own CPU */
	uint32_t kick_cpu;
	struct skiff_app_ring req[SKIFF_APP_QUEUES];	 /* [k]: thread slot k's */
};

/* A byte FIFO; its data lives in the rx/tx arrays after the slots. */
struct skiff_app_fifo {
	_Alignas(SKIFF_APP_CACHELINE) uint32_t head; /* producer: bytes put */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t tail; /* consumer: bytes taken */
};

/* Socket states as the worker reports them (slot.state). */
enum skiff_app_state {
	SKIFF_APP_S_FREE = 0,
	SKIFF_APP_S_LISTEN,
	SKIFF_APP_S_CONNECTING,
	SKIFF_APP_S_CONNECTED,
	SKIFF_APP_S_CLOSED, /* reset, refused or failed: err says why */
};

struct skiff_app_slot {
	/* written by the application */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t tx_kick; /* an OP_TX is queued */
	/* the application found too little room in the tx FIFO: kick it when
	 * bytes leave (the worker swaps it to 0); otherwise taking bytes
	 * wakes nobody, as Linux wakes a writer only after it ran out of
	 * space (SOCK_NOSPACE) */
	uint32_t tx_wait;
	/* written by the worker the socket lives on */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t rep_seq; /* last request answered */
	int32_t rep_res;				/* its result: >= 0 or -errno */
	uint16_t rep_port;
	uint16_t rep_lport; /* ACCEPT: local */
	uint8_t rep_addr[16];  /* LISTEN/CONNECT/UDP_BIND: local; ACCEPT: peer */
	uint8_t rep_laddr[16]; /* ACCEPT: local */
	uint32_t state;	     /* enum skiff_app_state */
	int32_t err;	     /* pending error (positive errno), 0: none */
	uint32_t rx_eof;     /* the peer's FIN is after the last rx byte */
	uint32_t rx_blocked; /* rx FIFO was full: post OP_RXREAD after reading */
	uint32_t closed_seq; /* = the CLOSE's seq once the slot may be reused */
	uint32_t acceptq[SKIFF_APP_MAX_WORKERS]; /* listener: worker k has connections */
	uint32_t urx_blocked; /* datagrams: bit w: part w was full, post OP_RXREAD to w */
	uint32_t err_seq;     /* datagrams: bumped with each new err */
	struct skiff_app_fifo rx; /* worker produces, application consumes */
	struct skiff_app_fifo tx; /* application produces, worker consumes */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t urx_head[SKIFF_APP_MAX_WORKERS]; /* worker w */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t urx_tail[SKIFF_APP_MAX_WORKERS]; /* the app */
};

struct skiff_app_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t size; /* of the whole region */
	uint32_t n_workers;
	uint32_t max_socks;
	uint32_t ring_size;
	uint32_t fifo_size;
	/* skiffd's interface: the sin6_scope_id of its link-local addresses
	 * and of the link-local peers it reaches (RFC 4007 11) */
	uint32_t ifindex;
	uint32_t pad0;
	uint64_t chan_off, slot_off, rx_off, tx_off;
	/* skiffd's addresses (network order; they do not change while it
	 * runs): the sources sendmsg's IP_PKTINFO / IPV6_PKTINFO may name,
	 * checked by the library as Linux checks them (skiffd checks again) */
	uint32_t n_addrs4, n_addrs6;
	uint8_t addrs4[SKIFF_APP_MAX_ADDRS4][4];
	uint8_t addrs6[SKIFF_APP_MAX_ADDRS6][16];
	uint64_t lib_off; /* SKIFF_APP_LIB_SIZE bytes of the library's */
	/* bit k: waiter k sleeps on its eventfd: kick it (worker swaps to 0) */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t app_sleeping;
	/* bit k: ring k of each worker may hold requests (set once, before
	 * the first post on it) */
	_Alignas(SKIFF_APP_CACHELINE) uint64_t q_used;
	uint64_t q_owned; /* bit k: thread slot k is taken now (shown, never trusted) */
	/* bumped by a worker each time it changes something the application
	 * reads (before it looks at app_sleeping): what a spinning thread
	 * watches instead of sleeping (SKIFF_BUSY_POLL_US) */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t app_news;
	/* [k]: bumped by thread slot k's thread each time it enters a wait
	 * (epoll_wait, poll, select, or a sleep of a blocking call): a
	 * worker holds a small send of a thread that has not waited since
	 * (TX's arg2 says the value at the send) for its close() or next
	 * wait, as Linux's TCP autocork holds a small write (docs/apps.md,
	 * "Closing: the FIN rides on the last data segment") */
	_Alignas(SKIFF_APP_CACHELINE) uint32_t app_waits[SKIFF_APP_MAX_WAITERS];
};

/* The bytes of each worker's part of a datagram socket's rx FIFO: the
 * largest power of two that lets n_workers parts fit. */
static inline uint32_t skiff_app_dgram_part(uint32_t n_workers)
{
	uint32_t part = SKIFF_APP_FIFO;

	while (n_workers > 1 && (uint64_t)part * n_workers > SKIFF_APP_FIFO)
		part >>= 1;
	return part;
}

/* Offsets of the parts of a region for n workers. */
static inline uint64_t skiff_app_align(uint64_t v)
{
	return (v + 4095) & ~(uint64_t)4095;
}

static inline void skiff_app_layout(uint32_t n_workers, struct skiff_app_hdr *h)
{
	h->magic = SKIFF_APP_MAGIC;
	h->version = SKIFF_APP_VERSION;
	h->n_workers = n_workers;
	h->max_socks = SKIFF_APP_MAX_SOCKS;
	h->ring_size = SKIFF_APP_RING;
	h->fifo_size = SKIFF_APP_FIFO;
	h->chan_off = skiff_app_align(sizeof(struct skiff_app_hdr));
	h->slot_off = skiff_app_align(h->chan_off + n_workers * sizeof(struct skiff_app_chan));
	h->lib_off =
		skiff_app_align(h->slot_off + SKIFF_APP_MAX_SOCKS * sizeof(struct skiff_app_slot));
	h->rx_off = skiff_app_align(h->lib_off + SKIFF_APP_LIB_SIZE);
	h->tx_off = h->rx_off + (uint64_t)SKIFF_APP_MAX_SOCKS * SKIFF_APP_FIFO;
	h->size = h->tx_off + (uint64_t)SKIFF_APP_MAX_SOCKS * SKIFF_APP_FIFO;
}

#endif /* SKIFF_APP_SHM_H */
