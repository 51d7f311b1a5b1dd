// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A worker serving one attached application (app_chan.h, docs/apps.md).
 *
 * Per slot the worker keeps, in private memory, the socket of its stack
 * and its own FIFO indices (rx_head: bytes put into the rx FIFO; tx_tail:
 * bytes taken from the tx FIFO); the shared copies are written, never read
 * back.  Bytes move when the socket says it is ready (its event handler,
 * run by the socket layer after a burst) and when the application says it
 * put or took bytes (OP_TX, OP_RXREAD).  Whatever changed for the
 * application is flushed at the end of app_worker_poll() with at most one
 * eventfd write, and only when the application sleeps.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apps/app_chan.h"
#include "core/clock.h"
#include "sock/socket.h"

#define FIFO_MASK (SKIFF_APP_FIFO - 1)
#define RING_MASK (SKIFF_APP_RING - 1)
#define APP_PER_RING 16 /* requests served from one ring per loop, at most */
/* The hold of a small send (docs/apps.md, "Closing: the FIN rides on the
 * last data segment"): a TX of at most APP_HOLD_BYTES pending, from a
 * thread that has not waited since its send, waits at most APP_HOLD_NS
 * for the thread's close() or its next wait. */
#define APP_HOLD_BYTES (16u * 1024u)
#define APP_HOLD_NS (200ull * 1000ull)

_Static_assert((SKIFF_APP_FIFO & FIFO_MASK) == 0, "FIFO size is a power of two");
_Static_assert((SKIFF_APP_RING & RING_MASK) == 0, "ring size is a power of two");
_Static_assert(sizeof(struct skiff_app_msg) == 64, "a request is 64 bytes");

enum ws_kind { WS_FREE, WS_LISTEN, WS_CONN, WS_UDP };

/* A datagram is read from a UDP socket only while this much of the part is
 * free (a header and a full frame's payload); below it they wait in the
 * socket's receive queue, bounded by its SO_RCVBUF as in Linux. */
#define DGRAM_ROOM_MIN (SKIFF_APP_DGRAM_REC(2048))

struct app_wsock {
	struct app_worker *aw;
	struct socket *so;
	uint16_t idx;
	uint8_t kind; /* enum ws_kind */
	bool connecting;
	bool closing; /* CLOSE received: close once the tx FIFO is sent */
	bool shut_wr; /* SHUT_WR received: shut down once it is sent */
	bool eof;     /* rx_eof published */
	bool tx_home; /* UDP: this worker sends what the tx FIFO holds */
	bool held;    /* a small send held for the close() behind it */
	bool hold_off; /* a hold ended without a close: hold no more (a dialogue) */
	uint8_t held_q;	  /* the ring (thread slot) of the held TX */
	uint32_t held_gen; /* its app_waits[held_q] at the send */
	uint64_t held_until;
	uint16_t family; /* AF_INET or AF_INET6, from the request that made it */
	uint32_t close_seq;
	uint32_t rx_head; /* private: bytes put into the rx FIFO (UDP: this worker's part) */
	uint32_t tx_tail; /* private: bytes taken from the tx FIFO */
};

struct app_worker {
	struct stack *st;
	struct skiff_app_hdr *hdr;    /* shared: only app_sleeping and app_news are touched */
	struct skiff_app_chan *chan;  /* shared: this worker's rings */
	struct skiff_app_slot *slots; /* shared */
	uint8_t *rx, *tx;	      /* shared FIFO data */
	uint32_t worker;
	uint32_t part; /* datagram rx part bytes (skiff_app_dgram_part()) */
	uint32_t cons[SKIFF_APP_QUEUES]; /* private copies of each ring's cons */
	uint32_t next_q;		 /* the ring served first next time */
	uint8_t *bounce; /* SKIFF_APP_DGRAM_MAX bytes: one datagram, allocated at the first UDP socket */
	int waiter_fd[SKIFF_APP_MAX_WAITERS]; /* [0] = app_efd; not owned */
	uint32_t n_waiters;
	bool dirty; /* something changed for the application */
	bool poisoned;
	uint32_t n_held; /* sockets with a held send */
	struct app_worker_stats stats;
	struct app_wsock ws[SKIFF_APP_MAX_SOCKS];
};

static inline uint32_t load_acq(const uint32_t *p)
{
	return atomic_load_explicit((_Atomic uint32_t *)p, memory_order_acquire);
}

static inline void store_rel(uint32_t *p, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)p, v, memory_order_release);
}

int app_worker_create(struct stack *st, void *shm, const struct skiff_app_hdr *layout,
		      uint32_t worker, int app_efd, struct app_worker **out)
{
	struct app_worker *aw;
	struct skiff_app_chan *chan;
	int i;

	*out = NULL;
	if (worker >= layout->n_workers || worker >= SKIFF_APP_MAX_WORKERS)
		return -EINVAL;
	aw = calloc(1, sizeof(*aw));
	if (!aw)
		return -ENOMEM;
	aw->st = st;
	aw->hdr = shm;
	chan = (struct skiff_app_chan *)((uint8_t *)shm + layout->chan_off);
	aw->chan = &chan[worker];
	aw->slots = (struct skiff_app_slot *)((uint8_t *)shm + layout->slot_off);
	aw->rx = (uint8_t *)shm + layout->rx_off;
	aw->tx = (uint8_t *)shm + layout->tx_off;
	aw->worker = worker;
	aw->part = skiff_app_dgram_part(layout->n_workers);
	aw->waiter_fd[0] = app_efd;
	aw->n_waiters = 1;
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		aw->ws[i].aw = aw;
		aw->ws[i].idx = (uint16_t)i;
	}
	*out = aw;
	return 0;
}

/* ---- addresses (app_shm.h: 16 bytes in the socket's family) ---- */

/* The sockaddr of a family and the 16 address bytes and port the
 * application wrote: -EAFNOSUPPORT for another family, -EINVAL for an
 * AF_INET address with bytes beyond its 4 (the library never writes
 * them). */
static int addr_in(int family, const uint8_t a[16], uint16_t port, struct sockaddr_storage *ss)
{
	static const uint8_t zero[12];
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		if (memcmp(a + 4, zero, sizeof(zero)))
			return -EINVAL;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = port;
		return 0;
	}
	if (family != AF_INET6)
		return -EAFNOSUPPORT;
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, a, 16);
	sin6->sin6_port = port;
	return 0;
}

/* The 16 address bytes and port of what the socket layer wrote in ss
 * (zero when it wrote nothing). */
static void addr_out(const struct sockaddr_storage *ss, uint8_t a[16], uint16_t *port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	memset(a, 0, 16);
	*port = 0;
	if (ss->ss_family == AF_INET) {
		memcpy(a, &sin->sin_addr, 4);
		*port = sin->sin_port;
	} else if (ss->ss_family == AF_INET6) {
		memcpy(a, &sin6->sin6_addr, 16);
		*port = sin6->sin6_port;
	}
}

/* Whether ss is an IPv4 address (AF_INET, or AF_INET6 mapped). */
static bool is_v4(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	return ss->ss_family == AF_INET ||
	       (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
}

/* The IPv4 address of ss (AF_INET, or AF_INET6 mapped) into a, else zero. */
static void spec_dst4(const struct sockaddr_storage *ss, uint8_t a[4])
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	memset(a, 0, 4);
	if (is_v4(ss))
		memcpy(a, ss->ss_family == AF_INET ? (const uint8_t *)&sin->sin_addr
						   : sin6->sin6_addr.s6_addr + 12, 4);
}

static bool addr_is_zero(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, sizeof(zero));
}

/* ---- replies and state ---- */

/* The reply to request seq on slot idx, with the name in ss (NULL: none). */
static void reply(struct app_worker *aw, uint16_t idx, uint32_t seq, int res,
		  const struct sockaddr_storage *ss)
{
	struct skiff_app_slot *s = &aw->slots[idx];
	struct sockaddr_storage none = {0};

	s->rep_res = res;
	addr_out(ss ? ss : &none, s->rep_addr, &s->rep_port);
	store_rel(&s->rep_seq, seq);
	aw->dirty = true;
}

static void set_state(struct app_wsock *ws, uint32_t state, int err)
{
	struct skiff_app_slot *s = &ws->aw->slots[ws->idx];

	if (err)
		s->err = err;
	store_rel(&s->state, state);
	ws->aw->dirty = true;
}

/* Close the socket and free the slot (the application learns it from
 * closed_seq when it asked, from state otherwise). */
static void ws_release(struct app_wsock *ws, bool abort)
{
	struct app_worker *aw = ws->aw;

	if (ws->so) {
		if (abort && ws->kind == WS_CONN) {
			skiff_setsockopt(ws->so, SKIFF_SO_LINGER_ABORT, 1);
			aw->stats.aborts++;
		}
		skiff_set_handler(ws->so, NULL, NULL);
		skiff_close(ws->so);
		aw->stats.socks--;
	}
	ws->so = NULL;
	ws->kind = WS_FREE;
	ws->connecting = ws->closing = ws->shut_wr = ws->eof = ws->tx_home = false;
	ws->hold_off = false;
	if (ws->held) {
		ws->held = false;
		aw->n_held--;
	}
}

/* A FIFO index out of range: reset the connection, tell the application. */
static void ws_hostile(struct app_wsock *ws)
{
	ws->aw->stats.bad_index++;
	if (ws->closing) {
		store_rel(&ws->aw->slots[ws->idx].closed_seq, ws->close_seq);
		ws_release(ws, true);
		ws->aw->dirty = true;
		return;
	}
	ws_release(ws, true);
	set_state(ws, SKIFF_APP_S_CLOSED, EPROTO);
}

/* ---- moving bytes ---- */

static void rx_fill(struct app_wsock *ws)
{
	struct app_worker *aw = ws->aw;
	struct skiff_app_slot *s = &aw->slots[ws->idx];
	uint8_t *base = aw->rx + (size_t)ws->idx * SKIFF_APP_FIFO;
	uint32_t tail, used, space, off, chunk;
	ssize_t n;

	while (ws->so && ws->kind == WS_CONN && !ws->eof) {
		tail = load_acq(&s->rx.tail);
		used = ws->rx_head - tail;
		if (used > SKIFF_APP_FIFO) {
			ws_hostile(ws);
			return;
		}
		space = SKIFF_APP_FIFO - used;
		if (!space) {
			/* ask for OP_RXREAD, then look again: the application may
			 * have read between our look and the flag */
			store_rel(&s->rx_blocked, 1);
			atomic_thread_fence(memory_order_seq_cst);
			if (load_acq(&s->rx.tail) != tail)
				continue;
			return;
		}
		off = ws->rx_head & FIFO_MASK;
		chunk = space < SKIFF_APP_FIFO - off ? space : SKIFF_APP_FIFO - off;
		n = skiff_recv(ws->so, base + off, chunk);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			ws->eof = true;
			store_rel(&s->rx_eof, 1);
			aw->dirty = true;
			return;
		}
		if (n < 0) {
			set_state(ws, SKIFF_APP_S_CLOSED, (int)-n);
			return;
		}
		ws->rx_head += (uint32_t)n;
		store_rel(&s->rx.head, ws->rx_head);
		aw->dirty = true;
		/* on, even after a short read: readiness is edge-triggered
		 * (sock/socket.h), and a FIN behind the bytes gives no new
		 * edge; only -EAGAIN, EOF or a full FIFO end this */
	}
}

/* What the application still has in the tx FIFO, or UINT32_MAX when its
 * index is out of range. */
static uint32_t tx_pending(struct app_wsock *ws)
{
	uint32_t avail = load_acq(&ws->aw->slots[ws->idx].tx.head) - ws->tx_tail;

	return avail > SKIFF_APP_FIFO ? UINT32_MAX : avail;
}

/* Bytes left the tx FIFO (its tail is published): kick the application
 * only if it asked (tx_wait), after a full fence against its setting the
 * flag and then re-reading the tail (app_shm.h). */
static void tx_taken(struct app_wsock *ws)
{
	uint32_t *want = &ws->aw->slots[ws->idx].tx_wait;

	atomic_thread_fence(memory_order_seq_cst);
	if (load_acq(want) && atomic_exchange((_Atomic uint32_t *)want, 0))
		ws->aw->dirty = true;
}

/* Send what the tx FIFO holds into the socket; then a pending shutdown or
 * close. */
static void tx_drain(struct app_wsock *ws)
{
	struct app_worker *aw = ws->aw;
	struct skiff_app_slot *s = &aw->slots[ws->idx];
	uint8_t *base = aw->tx + (size_t)ws->idx * SKIFF_APP_FIFO;
	uint32_t avail, off, chunk;
	bool took = false;
	ssize_t n;

	if (ws->held) {
		ws->held = false;
		aw->n_held--;
	}
	if (!ws->so || ws->kind != WS_CONN || ws->connecting)
		return;
	avail = tx_pending(ws);
	if (avail == UINT32_MAX) {
		ws_hostile(ws);
		return;
	}
	while (avail) {
		off = ws->tx_tail & FIFO_MASK;
		chunk = avail < SKIFF_APP_FIFO - off ? avail : SKIFF_APP_FIFO - off;
		n = skiff_send(ws->so, base + off, chunk);
		if (n == -EAGAIN || n == 0)
			break;
		if (n < 0) {
			set_state(ws, SKIFF_APP_S_CLOSED, (int)-n);
			break;
		}
		ws->tx_tail += (uint32_t)n;
		avail -= (uint32_t)n;
		took = true;
		/* until -EAGAIN: SOCK_EV_OUT is edge-triggered */
	}
	store_rel(&s->tx.tail, ws->tx_tail);
	if (took)
		tx_taken(ws);
	if (avail)
		return;
	if (ws->shut_wr) {
		ws->shut_wr = false;
		skiff_shutdown(ws->so, SHUT_WR);
	}
	if (ws->closing) {
		/* Linux at close(): unread data means RST (tcp_close does it) */
		store_rel(&s->closed_seq, ws->close_seq);
		ws_release(ws, false);
		aw->dirty = true;
	}
}

/* ---- datagrams (UDP): records in the FIFOs ---- */

/* Copy len bytes between buf and the ring of mask + 1 bytes at base, from
 * free-running position pos, wrapping at its end. */
static void ring_copy(uint8_t *base, uint32_t mask, uint32_t pos, void *buf, uint32_t len,
		      bool to_ring)
{
	uint32_t off = pos & mask, first = mask + 1 - off;

	if (first > len)
		first = len;
	if (to_ring) {
		memcpy(base + off, buf, first);
		memcpy(base, (uint8_t *)buf + first, len - first);
	} else {
		memcpy(buf, base + off, first);
		memcpy((uint8_t *)buf + first, base, len - first);
	}
}

/* An error for the application to read once (a datagram socket stays
 * usable: ICMP errors, a send that failed). */
static void udp_error(struct app_wsock *ws, int err)
{
	struct skiff_app_slot *s = &ws->aw->slots[ws->idx];

	s->err = err;
	atomic_fetch_add_explicit((_Atomic uint32_t *)&s->err_seq, 1, memory_order_release);
	ws->aw->dirty = true;
}

/* Move datagrams from the socket into this worker's part of the rx FIFO
 * while it has DGRAM_ROOM_MIN free; one that does not fit the free room is
 * dropped (counted), as a full receive buffer drops in Linux. */
static void udp_rx_fill(struct app_wsock *ws)
{
	struct app_worker *aw = ws->aw;
	struct skiff_app_slot *s = &aw->slots[ws->idx];
	uint8_t *base = aw->rx + (size_t)ws->idx * SKIFF_APP_FIFO + (size_t)aw->worker * aw->part;
	uint32_t tail, used, rec, bit = 1u << aw->worker;
	struct skiff_app_dgram d;
	struct sockaddr_storage from, local, spec;
	struct skiff_ipinfo ip = {.local.ss = &local, .spec_dst.ss = &spec};
	uint16_t port;
	ssize_t n;

	while (ws->so && ws->kind == WS_UDP) {
		tail = load_acq(&s->urx_tail[aw->worker]);
		used = ws->rx_head - tail;
		if (used > aw->part) {
			ws_hostile(ws);
			return;
		}
		if (aw->part - used < DGRAM_ROOM_MIN) {
			/* ask for OP_RXREAD, then look again (as rx_fill) */
			atomic_fetch_or_explicit((_Atomic uint32_t *)&s->urx_blocked, bit,
						 memory_order_seq_cst);
			if (load_acq(&s->urx_tail[aw->worker]) != tail)
				continue;
			return;
		}
		memset(&from, 0, sizeof(from));
		memset(&local, 0, sizeof(local));
		memset(&spec, 0, sizeof(spec));
		n = skiff_recvmsg_ip(ws->so, aw->bounce, SKIFF_APP_DGRAM_MAX, &from, &ip);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			udp_error(ws, (int)-n);
			continue;
		}
		rec = SKIFF_APP_DGRAM_REC(n);
		if (rec > aw->part - used) {
			aw->stats.dgram_drops++;
			continue;
		}
		d = (struct skiff_app_dgram){.len = (uint32_t)n,
					     .ttl = (uint8_t)ip.ttl,
					     .tos = (uint8_t)ip.tos};
		addr_out(&from, d.addr, &d.port);
		addr_out(&local, d.laddr, &port);
		spec_dst4(&spec, d.spec_dst4);
		ring_copy(base, aw->part - 1, ws->rx_head, &d, sizeof(d), true);
		ring_copy(base, aw->part - 1, ws->rx_head + (uint32_t)sizeof(d), aw->bounce,
			  (uint32_t)n, true);
		ws->rx_head += rec;
		store_rel(&s->urx_head[aw->worker], ws->rx_head);
		aw->dirty = true;
	}
}

/* Send the datagrams the tx FIFO holds.  A record whose length is out of
 * range, or bytes that are no whole record, are hostile: the socket is
 * closed (EPROTO).  A datagram the stack cannot send is dropped: no
 * frame (ENOBUFS) counted, other errors reported once through err. */
static void udp_tx_drain(struct app_wsock *ws)
{
	struct app_worker *aw = ws->aw;
	struct skiff_app_slot *s = &aw->slots[ws->idx];
	uint8_t *base = aw->tx + (size_t)ws->idx * SKIFF_APP_FIFO;
	struct sockaddr_storage to, from;
	struct skiff_app_dgram d;
	uint32_t avail, rec;
	bool peer, took = false;
	ssize_t n;

	if (!ws->so || ws->kind != WS_UDP || !ws->tx_home)
		return;
	avail = tx_pending(ws);
	if (avail == UINT32_MAX) {
		ws_hostile(ws);
		return;
	}
	while (avail) {
		if (avail < sizeof(d)) {
			ws_hostile(ws);
			return;
		}
		ring_copy(base, FIFO_MASK, ws->tx_tail, &d, sizeof(d), false);
		if (d.len > SKIFF_APP_DGRAM_MAX || SKIFF_APP_DGRAM_REC(d.len) > avail ||
		    (d.flags & ~SKIFF_APP_DG_ALL)) {
			ws_hostile(ws);
			return;
		}
		rec = SKIFF_APP_DGRAM_REC(d.len);
		ring_copy(base, FIFO_MASK, ws->tx_tail + (uint32_t)sizeof(d), aw->bounce, d.len,
			  false);
		peer = !addr_is_zero(d.addr) || d.port;
		n = peer ? addr_in(ws->family, d.addr, d.port, &to) : 0;
		if (!n && (d.flags & SKIFF_APP_DG_SRC))
			n = addr_in(ws->family, d.laddr, 0, &from);
		if (!n)
			n = skiff_sendmsg_ip(ws->so, aw->bounce, d.len, peer ? &to : NULL,
					     (d.flags & SKIFF_APP_DG_SRC) ? &from : NULL,
					     (d.flags & SKIFF_APP_DG_TTL) ? d.ttl : -1,
					     (d.flags & SKIFF_APP_DG_TOS) ? d.tos : -1);
		if (n == -EADDRNOTAVAIL && (d.flags & SKIFF_APP_DG_SRC))
			n = is_v4(&from) ? -ENETUNREACH : -EINVAL; /* a source not ours: Linux's */
		if (n == -ENOBUFS)
			aw->stats.dgram_drops++;
		else if (n < 0)
			udp_error(ws, (int)-n);
		ws->tx_tail += rec;
		avail -= rec;
		took = true;
	}
	store_rel(&s->tx.tail, ws->tx_tail);
	if (took)
		tx_taken(ws);
}

/* ---- the socket layer's readiness events ---- */

static void ws_event(struct socket *so, uint32_t events, void *arg)
{
	struct app_wsock *ws = arg;
	struct app_worker *aw = ws->aw;
	int err = 0;

	(void)so;
	if (ws->kind == WS_UDP) {
		if (events & (SOCK_EV_IN | SOCK_EV_ERR))
			udp_rx_fill(ws);
		return;
	}
	if (ws->kind == WS_LISTEN) {
		if (events & SOCK_EV_IN) {
			store_rel(&aw->slots[ws->idx].acceptq[aw->worker], 1);
			aw->dirty = true;
		}
		return;
	}
	if (ws->connecting && (events & (SOCK_EV_OUT | SOCK_EV_ERR | SOCK_EV_HUP))) {
		ws->connecting = false;
		if (events & SOCK_EV_ERR) {
			skiff_getsockopt(ws->so, SKIFF_SO_ERROR, &err);
			set_state(ws, SKIFF_APP_S_CLOSED, err ? err : ECONNREFUSED);
			return;
		}
		set_state(ws, SKIFF_APP_S_CONNECTED, 0);
	}
	if (events & (SOCK_EV_IN | SOCK_EV_HUP | SOCK_EV_ERR))
		rx_fill(ws);
	if (ws->so && (events & SOCK_EV_ERR)) {
		skiff_getsockopt(ws->so, SKIFF_SO_ERROR, &err);
		if (err)
			set_state(ws, SKIFF_APP_S_CLOSED, err);
	}
	if (ws->so && (events & SOCK_EV_OUT))
		tx_drain(ws);
}

/* ---- requests ---- */

/* The options a LISTEN/CONNECT carries: flags (with TCP_CONGESTION in
 * SKIFF_APP_F_CC_MASK), arg2 = SO_RCVBUF bytes, pad = SO_SNDBUF KiB (0:
 * the default), the IP header fields (ttl1, hops1, tos, tclass).  Values
 * the transport refuses are ignored, as the library already accepted
 * them (IPv6 ones on an AF_INET socket are refused). */
static void set_opts(struct socket *so, const struct skiff_app_msg *m)
{
	if (m->flags & SKIFF_APP_F_REUSEADDR)
		skiff_setsockopt(so, SKIFF_SO_REUSEADDR, 1);
	if (m->flags & SKIFF_APP_F_NODELAY)
		skiff_setsockopt(so, SKIFF_TCP_NODELAY, 1);
	if (m->flags & SKIFF_APP_F_KEEPALIVE)
		skiff_setsockopt(so, SKIFF_SO_KEEPALIVE, 1);
	if (m->flags & SKIFF_APP_F_V6ONLY)
		skiff_setsockopt(so, SKIFF_IPV6_V6ONLY, 1); /* AF_INET: refused, ignored */
	if (m->arg2 && m->arg2 <= (1u << 30))
		skiff_setsockopt(so, SKIFF_SO_RCVBUF, (int)m->arg2);
	if (m->pad)
		skiff_setsockopt(so, SKIFF_SO_SNDBUF, (int)m->pad * 1024);
	if (m->flags & SKIFF_APP_F_CC_MASK)
		skiff_setsockopt(so, SKIFF_TCP_CONGESTION,
				 (int)((m->flags & SKIFF_APP_F_CC_MASK) >> SKIFF_APP_F_CC_SHIFT) - 1);
	if (m->ttl1)
		skiff_setsockopt(so, SKIFF_IP_TTL, (int)m->ttl1 - 1);
	if (m->hops1)
		skiff_setsockopt(so, SKIFF_IPV6_UNICAST_HOPS, (int)m->hops1 - 1);
	if (m->tos)
		skiff_setsockopt(so, SKIFF_IP_TOS, m->tos);
	if (m->tclass)
		skiff_setsockopt(so, SKIFF_IPV6_TCLASS, m->tclass);
}

/* A fresh connection in ws: FIFOs empty, state published. */
static void ws_open(struct app_wsock *ws, struct socket *so, bool connecting)
{
	struct skiff_app_slot *s = &ws->aw->slots[ws->idx];

	ws->so = so;
	ws->kind = WS_CONN;
	ws->connecting = connecting;
	ws->closing = ws->shut_wr = ws->eof = false;
	ws->rx_head = ws->tx_tail = 0;
	s->rx.head = s->rx.tail = s->tx.head = s->tx.tail = 0;
	s->rx_eof = s->rx_blocked = s->tx_kick = s->tx_wait = 0;
	s->err = 0;
	store_rel(&s->state, connecting ? SKIFF_APP_S_CONNECTING : SKIFF_APP_S_CONNECTED);
	ws->aw->stats.socks++;
	/* the worker's reads only relay the bytes to the application: no
	 * lone window update for the first one (tcp_recvmsg) */
	(void)skiff_setsockopt(so, SKIFF_TCP_RELAY_READS, 1);
	skiff_set_handler(so, ws_event, ws);
}

/* The local name goes back in *local. */
/* A socket of the request's family and type, its options set, and the
 * address of addr/port in *sin. */
static int new_socket(struct app_worker *aw, struct app_wsock *ws, const struct skiff_app_msg *m,
		      int type, struct sockaddr_storage *sin, struct socket **out)
{
	int ret = addr_in(m->family, m->addr, m->port, sin);

	if (ret)
		return ret;
	ret = skiff_socket_af(aw->st, m->family, type, out);
	if (ret)
		return ret;
	ws->family = m->family;
	set_opts(*out, m);
	return 0;
}

static int do_listen(struct app_worker *aw, struct app_wsock *ws, const struct skiff_app_msg *m,
		     struct sockaddr_storage *local)
{
	struct sockaddr_storage sin;
	struct socket *so;
	int ret;

	if (!m->port)
		return -EINVAL; /* the application picks one port for every worker */
	ret = new_socket(aw, ws, m, SOCK_STREAM, &sin, &so);
	if (ret)
		return ret;
	ret = skiff_bind(so, &sin);
	if (!ret)
		ret = skiff_listen(so, m->arg);
	if (ret) {
		skiff_close(so);
		return ret;
	}
	skiff_getsockname(so, local);
	ws->so = so;
	ws->kind = WS_LISTEN;
	aw->stats.socks++;
	store_rel(&aw->slots[ws->idx].acceptq[aw->worker], 0);
	store_rel(&aw->slots[ws->idx].state, SKIFF_APP_S_LISTEN);
	skiff_set_handler(so, ws_event, ws);
	return 0;
}

static int do_connect(struct app_worker *aw, struct app_wsock *ws, const struct skiff_app_msg *m,
		      struct sockaddr_storage *local)
{
	struct sockaddr_storage sin, lsin;
	struct socket *so;
	int ret;

	ret = new_socket(aw, ws, m, SOCK_STREAM, &sin, &so);
	if (ret)
		return ret;
	if (!addr_is_zero(m->laddr) || m->lport) {
		ret = addr_in(m->family, m->laddr, m->lport, &lsin);
		if (!ret)
			ret = skiff_bind(so, &lsin);
		if (ret) {
			skiff_close(so);
			return ret;
		}
	}
	ret = skiff_connect(so, &sin);
	if (ret && ret != -EINPROGRESS) {
		skiff_close(so);
		return ret;
	}
	skiff_getsockname(so, local);
	ws_open(ws, so, true);
	return -EINPROGRESS;
}

static int do_accept(struct app_worker *aw, struct app_wsock *ws, const struct skiff_app_msg *m,
		     struct sockaddr_storage *peer)
{
	struct skiff_app_slot *s = &aw->slots[ws->idx];
	struct app_wsock *lws;
	struct sockaddr_storage local;
	struct socket *so;
	int ret;

	if (m->arg < 0 || m->arg >= SKIFF_APP_MAX_SOCKS || aw->ws[m->arg].kind != WS_LISTEN)
		return -EINVAL;
	lws = &aw->ws[m->arg];
	ret = skiff_accept(lws->so, &so, peer);
	store_rel(&aw->slots[lws->idx].acceptq[aw->worker],
		  (skiff_poll(lws->so) & SOCK_EV_IN) ? 1 : 0);
	if (ret)
		return ret;
	skiff_getsockname(so, &local);
	addr_out(&local, s->rep_laddr, &s->rep_lport);
	ws->family = lws->family;
	ws_open(ws, so, false);
	rx_fill(ws); /* it may have brought data (and a FIN) already */
	return 0;
}

static int do_udp_bind(struct app_worker *aw, struct app_wsock *ws,
		       const struct skiff_app_msg *m, struct sockaddr_storage *local)
{
	struct sockaddr_storage sin;
	struct skiff_app_slot *s = &aw->slots[ws->idx];
	struct socket *so;
	int ret;

	if (!aw->bounce) {
		aw->bounce = malloc(SKIFF_APP_DGRAM_MAX);
		if (!aw->bounce)
			return -ENOMEM;
	}
	ret = new_socket(aw, ws, m, SOCK_DGRAM, &sin, &so);
	if (ret)
		return ret;
	ret = skiff_bind(so, &sin);
	if (ret) {
		skiff_close(so);
		return ret;
	}
	skiff_getsockname(so, local);
	ws->so = so;
	ws->kind = WS_UDP;
	ws->closing = ws->shut_wr = ws->eof = ws->connecting = false;
	ws->rx_head = ws->tx_tail = 0;
	ws->tx_home = m->arg == 1;
	s->urx_head[aw->worker] = s->urx_tail[aw->worker] = 0;
	s->tx.head = s->tx.tail = 0;
	s->tx_kick = s->tx_wait = 0;
	s->err = 0;
	atomic_fetch_and_explicit((_Atomic uint32_t *)&s->urx_blocked, ~(1u << aw->worker),
				  memory_order_relaxed);
	store_rel(&s->state, SKIFF_APP_S_CONNECTED);
	aw->stats.socks++;
	skiff_set_handler(so, ws_event, ws);
	return 0;
}

static int do_udp_connect(struct app_wsock *ws, const struct skiff_app_msg *m)
{
	struct sockaddr_storage sin = {.ss_family = AF_UNSPEC};
	int ret;

	if (ws->kind != WS_UDP)
		return -ENOTCONN;
	if (addr_is_zero(m->addr) && !m->port)
		return skiff_connect(ws->so, &sin); /* forget the peer */
	ret = addr_in(ws->family, m->addr, m->port, &sin);
	return ret ? ret : skiff_connect(ws->so, &sin);
}

_Static_assert(SKIFF_APP_DEFAULT_TTL == SK_DEFAULT_TTL, "app_shm.h and sock.h disagree");

static int set_opt(struct app_wsock *ws, int opt, uint32_t val)
{
	static const int map[SKIFF_APP_OPT_MAX] = {
		[SKIFF_APP_OPT_REUSEADDR] = SKIFF_SO_REUSEADDR,
		[SKIFF_APP_OPT_NODELAY] = SKIFF_TCP_NODELAY,
		[SKIFF_APP_OPT_RCVBUF] = SKIFF_SO_RCVBUF,
		[SKIFF_APP_OPT_SNDBUF] = SKIFF_SO_SNDBUF,
		[SKIFF_APP_OPT_KEEPALIVE] = SKIFF_SO_KEEPALIVE,
		[SKIFF_APP_OPT_CONGESTION] = SKIFF_TCP_CONGESTION,
		[SKIFF_APP_OPT_TTL] = SKIFF_IP_TTL,
		[SKIFF_APP_OPT_HOPS] = SKIFF_IPV6_UNICAST_HOPS,
		[SKIFF_APP_OPT_TOS] = SKIFF_IP_TOS,
		[SKIFF_APP_OPT_TCLASS] = SKIFF_IPV6_TCLASS,
	};

	if (opt <= 0 || opt >= SKIFF_APP_OPT_MAX || val > (1u << 30))
		return -EINVAL;
	if (!ws->so)
		return -ENOTCONN;
	if (opt == SKIFF_APP_OPT_TTL || opt == SKIFF_APP_OPT_HOPS)
		return skiff_setsockopt(ws->so, map[opt], (int)val - 1); /* value + 1 */
	return skiff_setsockopt(ws->so, map[opt], (int)val);
}

/* One request, already copied out of the ring. */
static uint32_t app_waits(const struct app_worker *aw, uint32_t q)
{
	return load_acq(&aw->hdr->app_waits[q]);
}

/*
 * An OP_TX from ring q: hold it instead of sending, when it is small and
 * its thread has not entered a wait since the send (app_waits[q] still
 * says m->arg2): the thread is still running, and a close() right behind
 * the send then puts the FIN on the data segment, as Linux's autocork
 * holds a small write while the thread goes on (tcp_should_autocork()).
 * Released by the socket's next request (CLOSE, SHUTDOWN: tx_drain), by
 * the thread's next wait, by APP_HOLD_BYTES pending, or after APP_HOLD_NS
 * (release_held()).  A hold that ends without a close marks the socket a
 * dialogue (a keep-alive connection, a request/response protocol): its
 * sends go at once from then on, as Linux leaves quick-ACK mode for
 * pingpong once it sees the application answer; so only a connection's
 * first response can wait, and only until its thread waits.  The values
 * read from the region only decide when the bytes leave, within the
 * bound.
 */
static bool tx_hold(struct app_wsock *ws, uint32_t q, const struct skiff_app_msg *m)
{
	struct app_worker *aw = ws->aw;
	uint32_t avail;

	if (ws->kind != WS_CONN || !ws->so || ws->connecting || ws->closing || ws->shut_wr ||
	    ws->hold_off || q >= SKIFF_APP_MAX_WAITERS)
		return false;
	avail = tx_pending(ws);
	if (!avail || avail > APP_HOLD_BYTES)
		return false;
	if (ws->held)
		return true; /* more bytes behind the held ones: the same bound */
	if (app_waits(aw, q) != m->arg2)
		return false; /* it waits (or sleeps) already: nothing follows soon */
	ws->held = true;
	ws->held_q = (uint8_t)q;
	ws->held_gen = m->arg2;
	ws->held_until = clock_now() + APP_HOLD_NS;
	aw->n_held++;
	aw->stats.tx_holds++;
	return true;
}

/* Send the held sends whose thread has waited since, or whose bound is
 * over. */
static int release_held(struct app_worker *aw)
{
	uint64_t now = clock_now();
	struct app_wsock *ws;
	int i, done = 0;

	for (i = 0; i < SKIFF_APP_MAX_SOCKS && aw->n_held; i++) {
		ws = &aw->ws[i];
		if (!ws->held)
			continue;
		if (app_waits(aw, ws->held_q) == ws->held_gen && now < ws->held_until &&
		    tx_pending(ws) <= APP_HOLD_BYTES)
			continue;
		if (now >= ws->held_until)
			aw->stats.tx_hold_timeouts++;
		ws->hold_off = true;
		tx_drain(ws);
		done++;
	}
	return done;
}

static void serve(struct app_worker *aw, uint32_t q, const struct skiff_app_msg *m)
{
	struct sockaddr_storage sin = {0};
	struct app_wsock *ws;
	int ret;

	if (m->slot >= SKIFF_APP_MAX_SOCKS || !m->op || m->op >= SKIFF_APP_OP_MAX) {
		aw->stats.bad_msgs++;
		return;
	}
	ws = &aw->ws[m->slot];
	aw->stats.msgs++;
	switch (m->op) {
	case SKIFF_APP_OP_LISTEN:
	case SKIFF_APP_OP_CONNECT:
	case SKIFF_APP_OP_ACCEPT:
	case SKIFF_APP_OP_UDP_BIND:
		if (ws->kind != WS_FREE) {
			aw->stats.bad_msgs++;
			reply(aw, m->slot, m->seq, -EBUSY, NULL);
			return;
		}
		if (m->op == SKIFF_APP_OP_LISTEN)
			ret = do_listen(aw, ws, m, &sin);
		else if (m->op == SKIFF_APP_OP_CONNECT)
			ret = do_connect(aw, ws, m, &sin);
		else if (m->op == SKIFF_APP_OP_UDP_BIND)
			ret = do_udp_bind(aw, ws, m, &sin);
		else
			ret = do_accept(aw, ws, m, &sin);
		reply(aw, m->slot, m->seq, ret, &sin);
		return;
	case SKIFF_APP_OP_TX:
		/* clear first: bytes put after this are announced again */
		atomic_store_explicit((_Atomic uint32_t *)&aw->slots[m->slot].tx_kick, 0,
				      memory_order_seq_cst);
		if (ws->kind == WS_UDP)
			udp_tx_drain(ws);
		else if (!tx_hold(ws, q, m))
			tx_drain(ws);
		return;
	case SKIFF_APP_OP_RXREAD:
		if (ws->kind == WS_UDP) {
			atomic_fetch_and_explicit((_Atomic uint32_t *)&aw->slots[m->slot].urx_blocked,
						  ~(1u << aw->worker), memory_order_seq_cst);
			udp_rx_fill(ws);
			return;
		}
		atomic_store_explicit((_Atomic uint32_t *)&aw->slots[m->slot].rx_blocked, 0,
				      memory_order_seq_cst);
		rx_fill(ws);
		return;
	case SKIFF_APP_OP_UDP_CONNECT:
		reply(aw, m->slot, m->seq, do_udp_connect(ws, m), NULL);
		return;
	case SKIFF_APP_OP_SHUTDOWN:
		if (ws->kind != WS_CONN) {
			reply(aw, m->slot, m->seq, -ENOTCONN, NULL);
			return;
		}
		ret = 0;
		if (m->arg == SHUT_WR || m->arg == SHUT_RDWR)
			ws->shut_wr = true;
		if (m->arg == SHUT_RD || m->arg == SHUT_RDWR)
			ret = skiff_shutdown(ws->so, SHUT_RD);
		else if (m->arg != SHUT_WR)
			ret = -EINVAL;
		reply(aw, m->slot, m->seq, ret, NULL);
		tx_drain(ws);
		return;
	case SKIFF_APP_OP_CLOSE:
		if (ws->kind == WS_FREE) {
			store_rel(&aw->slots[m->slot].closed_seq, m->seq);
			aw->dirty = true;
			return;
		}
		ws->close_seq = m->seq;
		if (ws->kind == WS_UDP)
			udp_tx_drain(ws); /* what was sent before close() goes out */
		if (ws->kind == WS_LISTEN || ws->kind == WS_UDP || ws->connecting) {
			store_rel(&aw->slots[m->slot].closed_seq, m->seq);
			ws_release(ws, false);
			aw->dirty = true;
			return;
		}
		if (ws->rx_head != load_acq(&aw->slots[m->slot].rx.tail) ||
		    m->arg == SKIFF_APP_CLOSE_RST) {
			/* RFC 2525 2.17, as Linux: closed with bytes unread
			 * (here: in the rx FIFO) means RST, unsent bytes
			 * dropped; so does SO_LINGER with a zero timeout */
			store_rel(&aw->slots[m->slot].closed_seq, m->seq);
			ws_release(ws, true);
			aw->dirty = true;
			return;
		}
		ws->closing = true;
		tx_drain(ws); /* closes once the FIFO is sent */
		return;
	case SKIFF_APP_OP_SETOPT:
		reply(aw, m->slot, m->seq, set_opt(ws, m->arg, m->arg2), NULL);
		return;
	}
}

/* The ring cannot be trusted any more: reset what the application has here. */
static void poison(struct app_worker *aw)
{
	int i;

	aw->poisoned = true;
	aw->stats.poisoned++;
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++)
		if (aw->ws[i].kind != WS_FREE) {
			ws_release(&aw->ws[i], true);
			set_state(&aw->ws[i], SKIFF_APP_S_CLOSED, EPROTO);
		}
}

void app_worker_set_waiters(struct app_worker *aw, const int *fds, uint32_t n)
{
	uint32_t k;

	if (n > SKIFF_APP_MAX_WAITERS)
		n = SKIFF_APP_MAX_WAITERS;
	for (k = 0; k < n; k++)
		aw->waiter_fd[k] = fds[k];
	aw->n_waiters = n;
}

/* Wake every thread of the application that sleeps: each has its own
 * eventfd (a bit of app_sleeping, any value of which is harmless: bits
 * beyond the waiters are ignored). */
static void kick_app(struct app_worker *aw)
{
	uint64_t one = 1;
	uint32_t mask, k;

	aw->dirty = false;
	/* for a thread that spins instead of sleeping */
	atomic_fetch_add_explicit((_Atomic uint32_t *)&aw->hdr->app_news, 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit((_Atomic uint32_t *)&aw->hdr->app_sleeping, memory_order_relaxed))
		return;
	mask = atomic_exchange((_Atomic uint32_t *)&aw->hdr->app_sleeping, 0);
	for (k = 0; mask && k < aw->n_waiters; k++, mask >>= 1) {
		if (!(mask & 1) || aw->waiter_fd[k] < 0)
			continue;
		aw->stats.kicks++;
		if (write(aw->waiter_fd[k], &one, sizeof(one)) < 0) {
			/* saturated: that thread is awake anyway */
		}
	}
}

/* The rings the application says it uses (a hint: a hostile value only
 * makes this worker look at more of its own rings, at most all). */
static uint64_t rings_used(const struct app_worker *aw)
{
	uint64_t used = atomic_load_explicit((_Atomic uint64_t *)&aw->hdr->q_used,
					     memory_order_acquire);

	return used & ((1ull << SKIFF_APP_QUEUES) - 1);
}

/*
 * Serve the rings in turn from next_q on, at most per_ring requests from
 * each and budget in all, so that one busy thread cannot starve the others
 * of the application.  A producer index more than a ring ahead poisons
 * the application on this worker.
 */
static int serve_rings(struct app_worker *aw, int budget, int per_ring)
{
	uint64_t used = rings_used(aw);
	struct skiff_app_ring *r;
	struct skiff_app_msg m;
	uint32_t j, q, prod;
	int done = 0, n;

	for (j = 0; j < SKIFF_APP_QUEUES && done < budget; j++) {
		q = (aw->next_q + j) % SKIFF_APP_QUEUES;
		if (!(used & (1ull << q)))
			continue;
		r = &aw->chan->req[q];
		prod = load_acq(&r->prod);
		if (prod - aw->cons[q] > SKIFF_APP_RING) {
			poison(aw);
			return done;
		}
		for (n = 0; aw->cons[q] != prod && done < budget && n < per_ring; n++, done++) {
			memcpy(&m, &r->msg[aw->cons[q] & RING_MASK], sizeof(m));
			aw->cons[q]++;
			serve(aw, q, &m);
			if (aw->poisoned)
				return done;
		}
		if (n)
			store_rel(&r->cons, aw->cons[q]);
	}
	aw->next_q = (aw->next_q + 1) % SKIFF_APP_QUEUES;
	return done;
}

int app_worker_poll(struct app_worker *aw, int budget)
{
	bool batch;
	int done = 0;

	if (!aw->poisoned) {
		atomic_store_explicit((_Atomic uint32_t *)&aw->chan->sleeping, 0,
				      memory_order_relaxed);
		/* the requests of this call are one burst of the stack: bytes
		 * and a CLOSE behind them leave as one segment carrying the
		 * FIN, as Linux sends the last data with FIN when close()
		 * finds it still queued */
		batch = stack_batch_begin(aw->st);
		done = serve_rings(aw, budget, APP_PER_RING);
		if (aw->n_held)
			done += release_held(aw);
		done += stack_batch_end(aw->st, batch);
	}
	if (aw->dirty)
		kick_app(aw);
	return done;
}

bool app_worker_kicked_from(struct app_worker *aw, int cpu)
{
	/* any value the application wrote only decides a sched_yield() */
	uint32_t v = atomic_exchange((_Atomic uint32_t *)&aw->chan->kick_cpu, 0);

	return v && cpu >= 0 && v - 1 == (uint32_t)cpu;
}

bool app_worker_holding(const struct app_worker *aw)
{
	return aw->n_held > 0;
}

bool app_worker_may_sleep(struct app_worker *aw)
{
	uint64_t used;
	uint32_t q;

	if (aw->poisoned)
		return true;
	if (aw->n_held)
		return false; /* it leaves within APP_HOLD_NS: look again */
	atomic_store_explicit((_Atomic uint32_t *)&aw->chan->sleeping, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	used = rings_used(aw);
	for (q = 0; q < SKIFF_APP_QUEUES; q++)
		if ((used & (1ull << q)) && load_acq(&aw->chan->req[q].prod) != aw->cons[q])
			return false;
	return true;
}

/* What TCP's buffers take from the FIFOs of one application gone, on one
 * worker, beyond what they had room for (the chunk pool is shared: a
 * hostile application's many full FIFOs and a peer that never reads must
 * not hold it all); the rest is reset, as before. */
#define APP_EXIT_SEND_MAX	(1u << 20)

/* The application is gone with `unsent` bytes in the tx FIFO of ws: grow
 * the socket's send buffer by them and drain the FIFO into it. */
static void tx_take_all(struct app_wsock *ws, uint32_t unsent)
{
	int sb;

	if (!skiff_getsockopt(ws->so, SKIFF_SO_SNDBUF, &sb) && sb > 0 &&
	    (uint32_t)sb <= INT32_MAX - unsent)
		skiff_setsockopt(ws->so, SKIFF_SO_SNDBUF_MIN, sb + (int)unsent);
	tx_drain(ws);
}

void app_worker_destroy(struct app_worker *aw)
{
	uint32_t unsent, exit_budget = APP_EXIT_SEND_MAX;
	struct app_wsock *ws;
	int i;

	if (!aw)
		return;
	/* what it asked for before it died still counts (a close() with
	 * SO_LINGER 0 just before exit must reset, not FIN): serve the rings
	 * once more, validated as always */
	if (!aw->poisoned)
		serve_rings(aw, SKIFF_APP_QUEUES * SKIFF_APP_RING, SKIFF_APP_RING);
	if (aw->dirty)
		kick_app(aw);
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		ws = &aw->ws[i];
		if (ws->kind == WS_FREE)
			continue;
		if (ws->kind == WS_CONN && !ws->connecting && !aw->poisoned) {
			/* what the application sent before it died (or before
			 * its close(), which it need not wait for) goes out,
			 * then the FIN: with Linux those bytes are the
			 * kernel's from write() on.  Here they are still in
			 * the FIFO, unmapped once we return, so the socket's
			 * buffer takes them all (a FIFO's worth at most,
			 * APP_EXIT_SEND_MAX over them all; beyond: RST).
			 * Bytes it never read mean RST, as Linux at close()
			 * or exit */
			tx_drain(ws);
			if (ws->kind == WS_FREE)
				continue; /* the pending close finished */
			unsent = tx_pending(ws);
			if (unsent && unsent <= SKIFF_APP_FIFO && unsent <= exit_budget &&
			    ws->rx_head == load_acq(&aw->slots[i].rx.tail)) {
				exit_budget -= unsent;
				tx_take_all(ws, unsent);
				if (ws->kind == WS_FREE)
					continue;
				unsent = tx_pending(ws);
			}
			if (unsent || ws->rx_head != load_acq(&aw->slots[i].rx.tail)) {
				ws_release(ws, true);
				continue;
			}
		}
		ws_release(ws, false);
	}
	free(aw->bounce);
	free(aw);
}

void app_worker_get_stats(const struct app_worker *aw, struct app_worker_stats *out)
{
	*out = aw->stats;
}
