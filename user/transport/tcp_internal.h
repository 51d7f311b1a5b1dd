/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What TCP's own files share and nobody else sees: the prototypes of the
 * functions one TCP file calls in another, and small inline helpers.
 * tcp_sock.h holds the connection structure (what the socket layer and the
 * tests read), tcp.h the stack-wide API (init, receive, walk, limits).
 *
 * Included by user/transport/tcp*.c only, and by the tests and the bench
 * that drive TCP's internals directly: tests/unit/test_tcp_{input,output,
 * e2e}.c, test_app_chan.c, test_apps_tcp.c (the chunk pool's count),
 * tests/fuzz/fuzz_stack.c and bench/bench_conns.c.
 *
 * The files and who may call whom (docs/architecture.md, "TCP's files";
 * scripts/check-tcp-layers.sh checks it on the objects), top to bottom; a
 * file calls only the files below it:
 *   tcp.c          socket operations (struct proto): bind, listen, accept,
 *                  connect, send, receive, shutdown, close, options
 *   tcp_input.c    segment arrival: parse, the RFC 9293 3.10.7 steps
 *   tcp_timer.c    timer expiry: RTO, delayed ACK, persist, keepalive,
 *                  TIME_WAIT
 *   tcp_conn.c     lookup, ports, the connection's life, ICMP errors
 *   tcp_ack.c      the ACK field: SND.UNA, RTT, SACK scoreboard, recovery
 *   tcp_rack.c     loss detection (RACK-TLP, PRR), fast recovery's sending
 *   tcp_output.c   building and sending segments, windows, Nagle, pacing
 *   tcp_recovery.c the recovery block and its pool, undo marks, the
 *                  congestion state a connection starts from
 *   tcp_rate.c, tcp_cong.c, tcp_bbr.c   delivery rate samples, congestion
 *                  control behind struct tcp_cong_ops
 *   tcp_buf.c, tcp_isn.c   the send/receive streams, ISNs and SYN cookies
 */
#ifndef SKIFF_TCP_INTERNAL_H
#define SKIFF_TCP_INTERNAL_H

#include "core/clock.h"
#include "core/inaddr.h"
#include "core/jhash.h"
#include "transport/tcp_sock.h"

/* ---- shared vocabulary: small helpers every TCP file uses ---- */
#define TCP_DUPTHRESH		3	/* RFC 5681 3.2, RFC 6675 2: the initial, lowest DupThresh */
#define TCPOLEN_TS_ALIGNED	12	/* NOP NOP TS(10) */

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* RFC 7323 5.4: our TSval, a 1 ms clock offset per connection (RFC 7323 7.1). */
static inline uint32_t tcp_tsval(const struct tcp_sock *tp, uint64_t now)
{
	return (uint32_t)(now / NSEC_PER_MSEC) + tp->ts_offset;
}

/* SACK blocks the next segment carries: a pending D-SACK (RFC 2883) and the
 * receiver's blocks, at most 3 beside a timestamp, else 4 (RFC 2018 3). */
static inline uint32_t tcp_sack_nblocks(const struct tcp_sock *tp)
{
	if (!tp->sack_ok)
		return 0;
	return min_u32(tp->n_rcv_sacks + (tp->dsack_pending ? 1u : 0u), tp->ts_ok ? 3 : 4);
}

static inline uint32_t tcp_data_optlen(const struct tcp_sock *tp)
{
	uint32_t n = tp->ts_ok ? TCPOLEN_TS_ALIGNED : 0, nblk = tcp_sack_nblocks(tp);

	if (nblk)
		n += 4 + 8 * nblk;
	return n;
}

/* Payload bytes per segment now: the MSS less the options we send (RFC 9293 3.7.1). */
static inline uint32_t tcp_send_mss(const struct tcp_sock *tp)
{
	uint32_t mss = tp->mss ? tp->mss : TCP_MSS_DEFAULT;
	uint32_t opt = tcp_data_optlen(tp);

	return mss > opt + 8 ? mss - opt : 8;
}

/* ---- tcp_conn.c: lookup, ports, the connection's life, ICMP errors ---- */
/* One local (address, port) in use; addr 0 = every address. */
struct tcp_port_ref {
	struct tcp_port_ref *next;
	union inet_addr addr;	/* IPv4 mapped (core/inaddr.h) */
	uint16_t port;		/* network order */
	bool v6only;		/* of the sockets holding it */
	uint32_t refs;		/* connections holding it */
	uint32_t n_listen;	/* of which listeners */
};
/* Insert / remove an established-or-connecting connection in the 4-tuple hash. */
int tcp_hash(struct stack *st, struct tcp_sock *tp);
struct tcp_secret;
/* Key the connection hash from the secret (tcp_init; tests fix the secret). */
void tcp_ehash_key_init(struct tcp_table *t, const struct tcp_secret *s);
void tcp_unhash(struct stack *st, struct tcp_sock *tp);
/* Lookup for input: a connection on the exact 4-tuple, else a listener on
 * (daddr or any, dport); NULL if none. */
struct tcp_sock *tcp_lookup(struct stack *st, const union inet_addr *saddr, uint16_t sport,
			    const union inet_addr *daddr, uint16_t dport);
/* On / off the list of every object of the stack (tcp_walk). */
void tcp_link_all(struct tcp_table *t, struct tcp_sock *tp);
void tcp_unlink_all(struct tcp_table *t, struct tcp_sock *tp);
/* Take a reference on the claim of (address, port) for tp, claiming it in
 * the ports map if nobody holds it (0 or -errno; the caller checked that
 * it is free for tp); give tp's reference back. */
int tcp_port_get(struct stack *st, struct tcp_sock *tp, const union inet_addr *addr,
		 uint16_t port);
void tcp_port_put(struct stack *st, struct tcp_sock *tp);
/* Is (addr, port) taken for a new socket (overlapping addresses, the
 * V6ONLY rules; reuse: SO_REUSEADDR, busy only while someone listens)? */
bool tcp_port_busy(struct tcp_table *t, const union inet_addr *addr, bool v6only,
		   uint16_t port, bool reuse);
/* Release a claim nobody holds any more (the BPF ports map too). */
void tcp_port_release(struct stack *st, const struct tcp_port_ref *r);
/* A send found the chunk pool empty: tp waits; after a burst, every waiter
 * is woken once chunks are free again. */
void tcp_chunk_wait(struct tcp_table *t, struct tcp_sock *tp);
void tcp_chunk_wake(struct stack *st);
/* Move to a new state; on CLOSED: stop timers, unhash, release the port,
 * free the buffers, and free the object if it is an orphan. */
void tcp_set_state(struct stack *st, struct tcp_sock *tp, int state);
/* Abort with err (negative errno) reported to the application. */
void tcp_reset_conn(struct stack *st, struct tcp_sock *tp, int err);
/* Free a connection object that is CLOSED (unhashed, no port, no buffers). */
void tcp_sock_free(struct stack *st, struct tcp_sock *tp);
/* A zeroed connection object (as calloc): from the stack's cache of freed
 * ones when it has one; NULL when out of memory.  tcp_conn_cache_drain()
 * frees the cache (tcp_fini). */
#define TCP_CONN_CACHE	64u	/* freed objects kept for reuse */
void *tcp_conn_obj_get(struct stack *st);
/* A connection's starting settings, on the list of every object. */
void tcp_sock_defaults(struct stack *st, struct tcp_sock *tp);
/* A new connection object with the socket operations prot (defaults; the
 * caller runs tcp_timers_init()), not hashed; NULL at the limit. */
struct tcp_sock *tcp_sock_alloc(struct stack *st, const struct proto *prot);
void tcp_conn_cache_drain(struct tcp_table *t);
/* Share the listener's port claim with a child (passive open). */
void tcp_port_share(struct tcp_sock *child, struct tcp_sock *listener);
/* Put an established child on its listener's accept queue and wake it. */
void tcp_accept_enqueue(struct stack *st, struct tcp_sock *child);
/* struct net_protocol err_lookup / err_handler for IPPROTO_TCP. */
bool tcp_err_lookup(struct stack *st, const struct pkb *pkb, int *owner);
void tcp_err(struct stack *st, struct pkb *pkb, int err, uint32_t info);
/* Wake the application (sk->data_ready) if it has a socket. */
static inline void tcp_wake(struct tcp_sock *tp)
{
	if (tp->sk.data_ready && tp->sk.socket)
		tp->sk.data_ready(&tp->sk);
}
/* ---- the burst's deferred work: one list, flushed after the burst (tcp.c) ---- */
/*
 * A connection's push (tcp.c, tcp_push_soon) and its ACK (tcp_output.c,
 * tcp_ack_defer) wait for the end of the burst on one list, at most once
 * each (struct tcp_sock.deferred).  The flush pushes first: the data
 * carries the ACK owed, and a bare ACK leaves only if nothing did.
 */
#define TCP_DEFER_MAX		(4 * STACK_RX_BURST)
#define TCP_DEFER_PUSH		0x1u	/* push its send queue */
#define TCP_DEFER_ACK		0x2u	/* send the ACK it owes, if it still owes one */
/* Send tp's ACK at the end of the current burst (once), not now. */
void tcp_ack_defer(struct stack *st, struct tcp_sock *tp);
/* An ACK owed now that what the application sends in this burst may carry
 * (tcp_output.c): at the end of the burst if nothing did. */
void tcp_ack_soon(struct stack *st, struct tcp_sock *tp);

/*
 * Send buffer autotuning (after Linux's tcp_sndbuf_expand()): while the
 * application has not set SKIFF_SO_SNDBUF, grow sndbuf towards 2 x cwnd
 * when the buffer, not cwnd, limits the flight.  Never shrinks it, never
 * past TCP_SNDBUF_AUTO_MAX (Linux's tcp_wmem[2]) nor 1/TCP_SNDBUF_POOL_SHARE
 * of the chunk pool's limit.  Called by tcp.c (send found the buffer full)
 * and tcp_ack.c (an ACK grew cwnd while it was full).
 */
#define TCP_SNDBUF_AUTO_MAX	(4u << 20)
/*
 * Receive buffer autotuning (after Linux's tcp_rcv_space_adjust): once per
 * receiver RTT, the buffer grows to twice what the application read in the
 * last RTT (plus 16 segments), unless SKIFF_SO_RCVBUF locked it; never
 * shrinks, never past TCP_RCVBUF_AUTO_MAX (Linux's tcp_rmem[2] is 6 MiB)
 * nor 1/TCP_SNDBUF_POOL_SHARE of the chunk pool, and not while more than
 * half of the pool is in use.  The window scale announced in the SYN is
 * chosen for TCP_RCVBUF_AUTO_MAX so that the window can follow.
 */
#define TCP_RCVBUF_AUTO_MAX	(4u << 20)
void tcp_rcv_space_adjust(struct stack *st, struct tcp_sock *tp);
/* Receiver RTT sample from an in-order data segment (tcp_input.c). */
void tcp_rcv_rtt_measure(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg);
/* The window shift to announce for a receive buffer (locked: as it is). */
uint8_t tcp_wscale_for(uint32_t rcvbuf, bool locked);
#define TCP_SNDBUF_POOL_SHARE	16u
void tcp_sndbuf_expand(struct stack *st, struct tcp_sock *tp);

/*
 * Pacing (tcp_output.c): the connections whose next segment waits for its
 * release time, and one timer per stack at the earliest of them (no timer
 * per connection).  The list lives in the stack's TCP table (tcp.c).
 */
struct tcp_pacer {
	struct tcp_sock **conns;
	uint32_t n, cap;
	struct timer timer;
};

/*
 * RFC 5961 7: the per-stack budget of challenge ACKs.  Each second it is
 * refilled to a value drawn in [limit/2, limit/2 + limit) (as Linux since
 * the CVE-2016-5696 fix: a fixed, global count was a side channel that let
 * an off-path attacker learn whether a guess was in the window).  limit 0:
 * unlimited.  Owned by tcp.c, spent by tcp_input.c.
 */
struct tcp_challenge_budget {
	uint64_t second;	/* st->now / 1 s of the current budget; UINT64_MAX: none yet */
	uint32_t left;		/* challenge ACKs still allowed this second */
	uint32_t limit;		/* mean per second; 0 = no limit */
};

#define TCP_EHASH_SLOTS		65536u	/* connection hash buckets */
#define TCP_LHASH_SLOTS		256u	/* listener buckets */
#define TCP_PHASH_SLOTS		65536u	/* port claim buckets: one per port, chains as long as the addresses using it */

/* Per-stack TCP state (st->tcp): connection hash, listeners, ports, the
 * chunk and recovery pools, the burst's deferred ACKs and pushes, pacing.
 * Owned by tcp.c; every TCP file reaches its part through the accessors
 * below. */
struct tcp_table {
	struct tcp_sock **ehash;	/* TCP_EHASH_SLOTS chains (hnext) */
	uint32_t ehash_key[3];		/* keys the connection hash (tcp_conn.c) */
	struct tcp_sock *lhash[TCP_LHASH_SLOTS];	/* listeners (hnext) */
	struct tcp_port_ref *phash[TCP_PHASH_SLOTS];
	struct tcp_sock *all;		/* every object (lnext/lpprev) */
	struct tcp_chunk_pool chunks;
	struct tcp_recovery_pool recovery;	/* SACK scoreboards, undo state (tcp_recovery.c) */
	struct tcp_sock *chunk_waiters;	/* send refused for lack of chunks (wnext) */
	/* connections with a push or an ACK deferred to the end of this
	 * burst (tcp_defer; NULL: freed since) */
	struct tcp_sock *defer[TCP_DEFER_MAX];
	uint32_t n_defer;
	uint32_t n_conns;		/* objects alive */
	/* freed connection objects kept for reuse, at most TCP_CONN_CACHE
	 * (tcp_conn.c: tcp_conn_obj_get/put; ASan-poisoned while here) */
	struct tcp_sock *conn_free;
	uint32_t n_conn_free;
	uint32_t max_conns;		/* TCP_MAX_CONNS unless tcp_set_conn_limit() */
	struct tcp_pacer pacer;		/* paced connections waiting (tcp_output.c) */
	uint16_t next_ephemeral;	/* host order */
	struct tcp_challenge_budget challenge;	/* RFC 5961 7 */
};

/*
 * The connection hash's bucket of a 4-tuple.  Keyed (tcp_ehash_key_init:
 * from the process secret, random at start-up), as Linux keys
 * inet_ehashfn with inet_ehash_secret: a peer chooses its addresses and
 * ports, and with a fixed function it could put all its connections in
 * one bucket and make each lookup walk them (hash flooding).  The whole
 * tuple goes in: an IPv6 address folded to 32 bits first would let a
 * peer pick colliding addresses whatever the key.  An IPv4 tuple takes
 * one round.
 */
static inline uint32_t tcp_ehashfn(const struct tcp_table *t, const union inet_addr *laddr,
				   uint16_t lport, const union inet_addr *faddr, uint16_t fport)
{
	uint32_t a = t->ehash_key[0], b = t->ehash_key[1], c = t->ehash_key[2];

	if (!inet_addr_is4(laddr) || !inet_addr_is4(faddr)) {
		a += laddr->w[0];
		b += laddr->w[1];
		c += laddr->w[2];
		jhash_mix(&a, &b, &c);
		a += faddr->w[0];
		b += faddr->w[1];
		c += faddr->w[2];
		jhash_mix(&a, &b, &c);
	}
	a += laddr->w[3];
	b += faddr->w[3];
	c += (uint32_t)lport << 16 | fport;
	return jhash_final(a, b, c) & (TCP_EHASH_SLOTS - 1);
}

static inline struct tcp_table *tcp_table(struct stack *st)
{
	return st->tcp;
}

static inline struct tcp_chunk_pool *tcp_chunks(struct stack *st)
{
	return &st->tcp->chunks;
}

/* NULL: no TCP */
static inline struct tcp_recovery_pool *tcp_recovery_pool(struct stack *st)
{
	return st->tcp ? &st->tcp->recovery : NULL;
}

static inline struct tcp_pacer *tcp_pacer(struct stack *st)
{
	return &st->tcp->pacer;
}

static inline struct tcp_challenge_budget *tcp_challenge_budget(struct stack *st)
{
	return &st->tcp->challenge;
}

/* ---- the burst's deferred list (TCP_DEFER_*, above) ---- */
/* Defer WHAT (TCP_DEFER_PUSH/ACK) for tp to the end of the burst; false when
 * outside a burst (nothing would flush) or the list is full: do it now. */
static inline bool tcp_defer(struct stack *st, struct tcp_sock *tp, uint8_t what)
{
	struct tcp_table *t = st->tcp;

	if (tp->deferred) {
		tp->deferred |= what;
		return true;
	}
	if (!st->in_poll || t->n_defer == TCP_DEFER_MAX)
		return false;
	t->defer[t->n_defer++] = tp;
	tp->deferred = what;	/* non-zero: on the list (tcp_sock_free takes it off) */
	return true;
}
/* Take a connection that goes away off the list. */
static inline void tcp_undefer(struct tcp_table *t, struct tcp_sock *tp)
{
	uint32_t i;

	for (i = 0; i < t->n_defer; i++)
		if (t->defer[i] == tp)
			t->defer[i] = NULL;
	tp->deferred = 0;
}
/* Whether a deferred ACK is still owed when the burst ends. */
static inline bool tcp_ack_owed(const struct tcp_sock *tp)
{
	return (tp->pending_acks || tp->ack_wnd) && tp->state != TCP_CLOSED &&
	       tp->state != TCP_LISTEN && tp->state != TCP_SYN_SENT;
}

/* ---- tcp_input.c ---- */
int tcp_parse_options(const uint8_t *opt, int len, struct tcp_seg *seg);

/* ---- tcp_output.c ---- */
/* A push's output part (tcp_push, below, is the whole).  Nothing
 * when a state sends no data or nothing is queued (the rate samples hear
 * the application ran out); else cwnd is set up and an idle restart (RFC
 * 5681 4.1) told to the algorithm; then, outside SACK recovery, new data
 * by tcp_push_one() and tcp_push_end(); returns the sequence space sent
 * (at most cwnd).  In SACK recovery it sends nothing and returns
 * TCP_PUSH_NEXTSEG: tcp_push_nextseg() (tcp_rack.c) sends. */
#define TCP_PUSH_NEXTSEG	(-1)
int tcp_push_new(struct stack *st, struct tcp_sock *tp);
/* A push's last step (idle: nothing was in flight before it): the RTO runs
 * while data is outstanding (RFC 6298 5.1), persist when a closed window
 * holds data back (RFC 9293 3.8.6.1), the rate samples hear of an
 * application limit. */
void tcp_push_end(struct stack *st, struct tcp_sock *tp, bool idle, uint32_t sent);
/* Send [seq, seq+len) again from sndq (len may include the FIN). */
int tcp_retransmit(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t len);
void tcp_send_ack(struct stack *st, struct tcp_sock *tp);
/* RFC 1122 4.2.3.2: ACK at once every second full segment, else arm the delayed ACK. */
void tcp_ack_schedule(struct stack *st, struct tcp_sock *tp, bool full_segment);
/* SYN (SYN_SENT) or SYN-ACK (SYN_RECEIVED); sets SND.UNA = ISS, SND.NXT =
 * SND.MAX = ISS + 1 and arms the RTO only when tp is hashed (a SYN-cookie
 * answer is a transient object). */
int tcp_send_syn(struct stack *st, struct tcp_sock *tp);
/* RST for a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_reset_for(struct stack *st, const struct tcp_seg *seg);
void tcp_send_active_reset(struct stack *st, struct tcp_sock *tp);
/* Window to advertise (receiver SWS avoidance, RFC 9293 3.8.6.2.2), scaled down by rcv_wscale. */
uint32_t tcp_select_window(struct tcp_sock *tp);
/* Zero-window probe / keepalive probe (one byte below snd_una / SEG.SEQ = SND.UNA-1). */
void tcp_send_probe(struct stack *st, struct tcp_sock *tp);

/* The SYN queue bound of st's listeners (stack_config.tcp_syn_backlog). */
static inline uint32_t tcp_max_syn_backlog(const struct stack *st)
{
	return st->cfg && st->cfg->tcp_syn_backlog ? st->cfg->tcp_syn_backlog : TCP_SYN_BACKLOG;
}
uint16_t tcp_mss_for_route(struct stack *st, const union inet_addr *daddr);
/* One segment at SND.NXT if window, cwnd, Nagle and SWS allow (force: the
 * persist timer's override); returns sequence space sent, 0 if none. */
uint32_t tcp_push_one(struct stack *st, struct tcp_sock *tp, bool force);

/* Pacing: take tp off the stack's pacing list (it closes). */
void tcp_pace_cancel(struct stack *st, struct tcp_sock *tp);
/* Have the pacing timer fire by when. */
static inline void tcp_pace_arm(struct stack *st, struct tcp_pacer *p, uint64_t when)
{
	if (!timer_pending(&p->timer) || p->timer.expires > when)
		timer_mod(st, &p->timer, when);
}
/* May a data segment leave now?  When not, tp waits on the pacing list. */
bool tcp_pace_ready(struct stack *st, struct tcp_sock *tp);

/* ---- tcp_rate.c: delivery rate samples (draft-ietf-ccwg-bbr) ---- */
static inline bool tcp_rate_on(const struct tcp_sock *tp)
{
	return tp->cc_ops && tp->cc_ops->cong_control;
}
/* The algorithm sets cwnd itself (cong_control, BBR): recovery leaves it. */
static inline bool tcp_cc_owns_cwnd(const struct tcp_sock *tp)
{
	return tcp_rate_on(tp);
}
/* What one ACK delivered: the most recent record among its bytes. */
struct tcp_rate_acc {
	struct tcp_rate_rec p;
	bool have;
	bool app_limited;
	uint32_t newly;		/* bytes newly ACKed or SACKed */
};
/* [off, off + len) of sndq leaves now (in_flight: before it). */
void tcp_rate_on_send(struct stack *st, struct tcp_sock *tp, uint32_t off, uint32_t len,
		      uint32_t in_flight);
/* [start, end) was newly delivered; before the stream lets the bytes go. */
void tcp_rate_delivered(struct tcp_sock *tp, struct tcp_rate_acc *acc, uint32_t start,
			uint32_t end);
/* The sample of this ACK (the caller fills the engine's fields). */
void tcp_rate_gen(struct stack *st, struct tcp_sock *tp, const struct tcp_rate_acc *acc,
		  struct tcp_rate_sample *rs);
/* The sender ran out of data with room in cwnd: application-limited. */
void tcp_rate_check_app_limited(struct tcp_sock *tp);

/* ---- tcp_ack.c ---- */
/* Process the ACK field of an acceptable segment in a synchronized state
 * (RFC 9293 3.10.7.4 "fifth, check the ACK field" after the RFC 5961 range
 * check done by input).  Returns bytes newly acknowledged (FIN excluded).
 * Old ACKs (below SND.UNA) and ACKs above SND.MAX change nothing.  Runs
 * loss recovery and ends with tcp_push() for what the window now allows. */
uint32_t tcp_ack(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg);
void tcp_cong_init(struct tcp_sock *tp, uint64_t now);
/* RFC 6675 5 (C): send by NextSeg() while cwnd - pipe >= 1 SMSS (in recovery). */
void tcp_sack_xmit(struct stack *st, struct tcp_sock *tp);
/* A loss episode starts (fast recovery or RTO from OPEN/DISORDER): remember
 * the congestion state and the TSval of the first retransmission, so a
 * spurious retransmission can be undone (RFC 3522 / RFC 4015). */
void tcp_undo_mark(struct stack *st, struct tcp_sock *tp);

/* The hole (unSACKed range) at or after seq below end: false if none. */
bool tcp_next_hole(const struct tcp_sock *tp, uint32_t seq, uint32_t end, uint32_t *hs,
		   uint32_t *he);
/* Enter fast recovery (ssthresh by the algorithm, undo marked). */
void tcp_enter_recovery(struct stack *st, struct tcp_sock *tp);

/* ---- tcp_rack.c: RACK-TLP (RFC 8985), PRR (RFC 6937) ---- */
/* RACK is the loss detector of every connection that negotiated SACK. */
static inline bool tcp_rack_on(const struct tcp_sock *tp)
{
	return tp->sack_ok;
}
static inline uint32_t tcp_rack_now_us(const struct stack *st)
{
	return (uint32_t)(st->now / NSEC_PER_USEC);
}

static inline bool tcp_us_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline void tcp_rack_init(struct tcp_sock *tp)
{
	tp->xmit_stamp_us = tp->st ? tcp_rack_now_us(tp->st) : 0;
	tp->rack_xmit_us = 0;
	tp->rack_end_seq = tp->snd_una;
	tp->rack_rtt_us = 0;
	tp->rack_dsack_on = false;
	tp->reo_wnd_mult = 1;
	tp->reo_wnd_persist = 0;
	tp->rxt_high = tp->snd_una;
	tp->tlp_on = false;
	tp->tlp_retrans = false;
	tp->dsack_dups = 0;
}
/* The transmit stamp of a segment leaving now: µs of the clock, but
 * strictly after the previous one, so the segments of one burst (one
 * clock reading) keep the order they left in. */
static inline uint32_t tcp_rack_stamp(struct stack *st, struct tcp_sock *tp)
{
	uint32_t now = tcp_rack_now_us(st);

	if (!tcp_us_after(now, tp->xmit_stamp_us))
		now = tp->xmit_stamp_us + 1;
	tp->xmit_stamp_us = now;
	return now;
}
/* [start, end) was newly delivered (cumulatively ACKed or SACKed): RACK's
 * most recently sent delivered segment and its RTT (RFC 8985 6.2 steps 1-2).
 * Before the bytes leave the send stream. */
void tcp_rack_advance(struct stack *st, struct tcp_sock *tp, uint32_t start, uint32_t end);
/* The ACK carries a D-SACK (RFC 2883 4.1): widen the reordering window
 * (RFC 8985 6.2 step 4); a D-SACK of the loss probe says it was not needed. */
void tcp_rack_dsack(struct stack *st, struct tcp_sock *tp, const struct tcp_sack_block *b);
/* Bytes RACK deems lost (unSACKed, sent before RACK.xmit_ts more than
 * RACK.rtt + reo_wnd ago, not retransmitted since): tp->rack_lost, counted
 * on each ACK and reordering timeout, less what was resent since. */
static inline uint32_t tcp_rack_lost_bytes(const struct tcp_sock *tp)
{
	return tcp_rack_on(tp) && tp->ca_state != TCP_CA_LOSS ? tp->rack_lost : 0;
}

/* Bytes the scoreboard holds (SACKed above SND.UNA). */
static inline uint32_t tcp_sacked_bytes(const struct tcp_sock *tp)
{
	uint32_t bytes = 0;
	uint8_t i;

	for (i = 0; i < tp->n_scoreboard; i++)
		bytes += tp->rcvy->scoreboard[i].end - tp->rcvy->scoreboard[i].start;
	return bytes;
}

/* Bytes in flight (RFC 6675 "pipe" when SACK is on). */
static inline uint32_t tcp_in_flight(const struct tcp_sock *tp)
{
	uint32_t flight, lt;

	/* After an RTO everything beyond SND.NXT is taken as lost (go-back-N). */
	if (tp->ca_state == TCP_CA_LOSS)
		return tcp_after(tp->snd_nxt, tp->snd_una) ? tp->snd_nxt - tp->snd_una : 0;
	flight = tp->snd_max - tp->snd_una;
	/* RFC 6675 pipe with RACK's losses: neither SACKed nor lost */
	if (tcp_rack_on(tp)) {
		lt = tcp_sacked_bytes(tp) + tcp_rack_lost_bytes(tp);
		return flight > lt ? flight - lt : 0;
	}
	/* RFC 3042 limited transmit: the first two duplicate ACKs each let
	 * one new segment go beyond cwnd */
	if (tp->ca_state == TCP_CA_DISORDER && !tp->sack_ok) {
		lt = min_u32(tp->dupacks, 2) * tcp_send_mss(tp);
		return flight > lt ? flight - lt : 0;
	}
	/* NewReno: what "left the network" is accounted by inflating cwnd (RFC 5681 3.2) */
	return flight;
}
/* The first lost range at or after seq, up to max bytes: false if none. */
bool tcp_rack_next_lost(const struct tcp_sock *tp, uint32_t seq, uint32_t max, uint32_t *ls,
			uint32_t *len);
/* After an ACK (delivered: bytes newly ACKed or SACKed by it): detect
 * losses, enter recovery, send by PRR in recovery (by the algorithm's cwnd
 * with cong_control), answer a loss probe, and arm the reordering, probe
 * or retransmission timer.  Returns the bytes newly found lost (also
 * added to tp->rate_lost). */
uint32_t tcp_rack_on_ack(struct stack *st, struct tcp_sock *tp, uint32_t delivered,
			 uint32_t prior_una);
/* New data went out (tcp_push): (re)arm the loss probe if it applies. */
void tcp_tlp_schedule(struct stack *st, struct tcp_sock *tp);
/* rtx_timer fired for the reordering window or the probe (tcp_timer.c). */
void tcp_rack_reo_timeout(struct stack *st, struct tcp_sock *tp);
void tcp_tlp_timeout(struct stack *st, struct tcp_sock *tp);

/* A push in SACK recovery (tcp_push): RFC 6675 NextSeg, then the timers. */
void tcp_push_nextseg(struct stack *st, struct tcp_sock *tp);

/*
 * Send what may go now (after a write, an ACK, a timer), for the files
 * from loss detection up: new data segment by segment (tcp_push_new:
 * windows, cwnd, Nagle, SWS, pacing, then the RTO or persist timer) and
 * after new data the loss probe (RFC 8985 7.2); in SACK recovery RFC 6675
 * NextSeg instead (RACK's losses first).  Inline: one call into output on
 * the common path, as when tcp_push was output's.
 */
static inline void tcp_push(struct stack *st, struct tcp_sock *tp)
{
	int sent = tcp_push_new(st, tp);

	if (sent > 0)
		tcp_tlp_schedule(st, tp);
	else if (sent == TCP_PUSH_NEXTSEG)
		tcp_push_nextseg(st, tp);
}
/* PRR on entering recovery: RecoverFS, counters at zero. */
void tcp_prr_init(struct tcp_sock *tp);
/* Fast or RTO recovery ended: one more recovery without a D-SACK. */
void tcp_rack_recovery_end(struct tcp_sock *tp);

/* ---- tcp_recovery.c: the recovery block (struct tcp_recovery) ---- */
void tcp_recovery_pool_init(struct tcp_recovery_pool *p, uint32_t max);
void tcp_recovery_pool_fini(struct tcp_recovery_pool *p);	/* every block must be back */
/* tp's block, taken from the pool if it has none; NULL (counted
 * tcp_recovery_nomem) when the pool is at its bound or memory is short. */
struct tcp_recovery *tcp_recovery_get(struct stack *st, struct tcp_sock *tp);
/* Give tp's block back: the scoreboard and the undo state are forgotten. */
void tcp_recovery_put(struct stack *st, struct tcp_sock *tp);
/* After an ACK: the block goes back once everything is acknowledged,
 * recovery is over and no D-SACK can still undo the episode (that wait is
 * bounded by one RTO: tcp_rearm_rto arms TCP_RTX_UNDO). */
void tcp_recovery_idle(struct stack *st, struct tcp_sock *tp);
/* A loss-recovery retransmission of [seq, end): remembered while D-SACKs
 * may still show the episode spurious (RFC 3708). */
void tcp_undo_rxt_add(struct tcp_sock *tp, uint32_t seq, uint32_t end);
/* tcp_retransmit() for loss recovery: the range is remembered (tcp_rack.c). */
int tcp_recovery_rtx(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t len);
/* The highest SACKed sequence (RFC 6675 "FACK"), or seq when none. */
static inline uint32_t tcp_sack_fack(const struct tcp_sock *tp, uint32_t seq)
{
	return tp->n_scoreboard ? tp->rcvy->scoreboard[tp->n_scoreboard - 1].end : seq;
}

/* ---- tcp_timer.c ---- */
void tcp_timers_init(struct tcp_sock *tp);
/* The pacing timer fired (tcp.c arms it with this). */
void tcp_pace_timer_fire(struct stack *st, struct timer *t);
/* Stop every timer of tp, and its wait for a pacing slot. */
static inline void tcp_clear_timers(struct stack *st, struct tcp_sock *tp)
{
	timer_del(st, &tp->rtx_timer);
	timer_del(st, &tp->delack_timer);
	timer_del(st, &tp->keepalive_timer);
	tcp_pace_cancel(st, tp);
}
/* RTO with the current backoff (RFC 6298 5.5), bounded by TCP_RTO_MAX_NS. */
static inline uint64_t tcp_rto_backed_off(const struct tcp_sock *tp)
{
	uint64_t rto = tp->rto_ns ? tp->rto_ns : TCP_RTO_INIT_NS;
	uint8_t i;

	for (i = 0; i < tp->backoff && rto < TCP_RTO_MAX_NS; i++)
		rto *= 2;
	return rto < TCP_RTO_MAX_NS ? rto : TCP_RTO_MAX_NS;
}
/* After new data was acknowledged or sent: the RTO for what is in flight
 * (RFC 6298 5.1-5.3), the undo wait, or nothing. */
static inline void tcp_rearm_rto(struct stack *st, struct tcp_sock *tp)
{
	tp->rtx_kind = TCP_RTX_RTO;
	if (tp->sndq.lost) {
		timer_mod(st, &tp->rtx_timer, st->now); /* the abort, tcp_rtx_fire */
		return;
	}
	if (tp->snd_una == tp->snd_max) {
		/* RFC 6298 5.2: everything acked, the timer stops; unless D-SACKs
		 * may still undo the episode: they get one RTO to come, then the
		 * recovery block goes back (tcp_recovery.c) */
		if (tp->rcvy && tp->dsack_undo_ok) {
			tp->rtx_kind = TCP_RTX_UNDO;
			timer_mod(st, &tp->rtx_timer, st->now + tcp_rto_backed_off(tp));
			return;
		}
		timer_del(st, &tp->rtx_timer);
		return;
	}
	/* RFC 6298 5.1 / 5.3 */
	timer_mod(st, &tp->rtx_timer, st->now + tcp_rto_backed_off(tp));
}
void tcp_enter_time_wait(struct stack *st, struct tcp_sock *tp);
/* Arm keepalive_timer for the state: keepalive (when enabled) in
 * ESTABLISHED/CLOSE_WAIT, the orphan timeout in FIN_WAIT_2. */
void tcp_reset_keepalive(struct stack *st, struct tcp_sock *tp);
/* Arm rtx_timer as the persist timer (zero window, nothing in flight). */
static inline void tcp_arm_persist(struct stack *st, struct tcp_sock *tp)
{
	tp->rtx_kind = TCP_RTX_RTO;
	timer_mod(st, &tp->rtx_timer, st->now + tcp_rto_backed_off(tp));
}

#endif /* SKIFF_TCP_INTERNAL_H */
