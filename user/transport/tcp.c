// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP (RFC 9293): the socket operations and the per-stack tables' life
 * (tcp_init, tcp_fini), after Linux's net/ipv4/tcp.c.  Lookup, ports and
 * the connection's life are in tcp_conn.c, segment arrival in
 * tcp_input.c, transmission in tcp_output.c (docs/architecture.md, "TCP's
 * files").
 *
 * struct tcp_table (tcp_internal.h) holds, per stack (so per worker, never
 * shared):
 *   - the connection hash on the 4-tuple, sized at start-up;
 *   - the listener hash on the local port;
 *   - the list of every connection object (tcp_walk, teardown);
 *   - the chunk pool that every send/receive buffer is built from;
 *   - the local port claims: one entry per (address, port) in use, with a
 *     count of the connections holding it.  The first user claims the port
 *     in the BPF ports map (st->hooks.port_claim), the last one releases
 *     it, so steering follows the port for as long as any connection uses
 *     it (a listener as long as it listens, its children until they close).
 *
 * Objects: a socket's tcp_sock is allocated by the socket layer; children of
 * a listener by tcp_sock_alloc() (tcp_conn.c).  With PROTO_F_OWNS_OBJECT this file frees
 * both: a connection the application closed lives on as an orphan (FIN
 * exchange, TIME_WAIT) and is freed when it reaches CLOSED.
 * Memory per connection is sizeof(struct tcp_sock) (tcp_conn_size()): idle
 * connections hold no buffer chunk and no recovery block (tcp_recovery.c).  Send buffers autotune (after Linux's
 * tcp_sndbuf_expand()) unless the application sets SKIFF_SO_SNDBUF, within
 * TCP_SNDBUF_AUTO_MAX and a share of the pool (tcp_sndbuf_expand()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fmap.h"
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ipv6.h"
#include "transport/tcp_isn.h"
#include "transport/tcp_internal.h"

#define TCP_CHUNKS_MAX		65536u	/* 64k chunks x 2 KiB = 128 MiB of buffers at most */
#define TCP_MIN_BUF		4096u
#define TCP_MAX_BUF		(64u << 20)

uint32_t tcp_syn_backlog_for_memory(uint64_t mem_bytes)
{
	uint64_t n = mem_bytes >> 20;

	if (n < TCP_SYN_BACKLOG_MIN)
		return TCP_SYN_BACKLOG_MIN;
	return n > TCP_SYN_BACKLOG_MAX ? TCP_SYN_BACKLOG_MAX : (uint32_t)n;
}

size_t tcp_conn_size(void)
{
	return sizeof(struct tcp_sock);
}

const char *tcp_state_name(int state)
{
	static const char *const names[TCP_STATE_MAX] = {
		[TCP_CLOSED] = "CLOSED",	   [TCP_LISTEN] = "LISTEN",
		[TCP_SYN_SENT] = "SYN-SENT",	   [TCP_SYN_RECEIVED] = "SYN-RECV",
		[TCP_ESTABLISHED] = "ESTAB",	   [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_CLOSING] = "CLOSING",	   [TCP_LAST_ACK] = "LAST-ACK",
		[TCP_TIME_WAIT] = "TIME-WAIT",
	};

	if (state < 0 || state >= TCP_STATE_MAX)
		return "?";
	return names[state];
}

/*
 * What the application queues while a burst's socket events are dispatched
 * (and timers run) leaves once, at the end of the burst, as Linux's
 * autocorking holds small writes while the device is busy: a response
 * written in pieces goes out in full segments, and a close() right after
 * the last write puts the FIN on that segment instead of one of its own
 * (an HTTP Connection: close response: 2 segments -> 1).  The flush
 * happens in the same stack_poll(), before the device's kick, so nothing
 * waits longer than the rest of the burst.  Outside a burst, or when the
 * list is full, at once.
 */
static void tcp_push_soon(struct stack *st, struct tcp_sock *tp)
{
	if (!tcp_defer(st, tp, TCP_DEFER_PUSH))
		tcp_push(st, tp);
}

/*
 * The burst's deferred work (tcp_defer), connection by connection: the
 * push first (its data carries the ACK owed), then the ACK if still owed.
 * A slot is NULL when its connection was freed meanwhile (tcp_undefer);
 * nothing a push or an ACK does frees one (output never calls up).
 */
static __attribute__((noinline)) void tcp_defer_flush(struct stack *st)
{
	struct tcp_table *t = st->tcp;
	uint32_t i;

	for (i = 0; i < t->n_defer; i++) {
		struct tcp_sock *tp = t->defer[i];
		uint8_t what;

		if (!tp)
			continue;
		what = tp->deferred;
		tp->deferred = 0;
		if (what != TCP_DEFER_ACK) {
			tcp_push(st, tp);
			if (what == TCP_DEFER_PUSH)
				continue;	/* the common case: a response */
		}
		if (tcp_ack_owed(tp))
			tcp_send_ack(st, tp);
	}
	t->n_defer = 0;
}

/* Poll hook, after every burst and its socket events. */
static void tcp_after_burst(struct stack *st)
{
	struct tcp_table *t = st->tcp;

	/* most polls owe nothing: no call into the other files then */
	if (!t)
		return;
	if (t->n_defer)
		tcp_defer_flush(st);
	if (t->chunk_waiters)
		tcp_chunk_wake(st);
}

int tcp_set_chunk_limit(struct stack *st, uint32_t max_chunks)
{
	if (!st->tcp || !max_chunks)
		return -EINVAL;
	if (max_chunks < st->tcp->chunks.n_total)
		return -EBUSY;	/* the pool never shrinks */
	st->tcp->chunks.max = max_chunks;
	return 0;
}

int tcp_set_conn_limit(struct stack *st, uint32_t max_conns)
{
	if (!st->tcp || !max_conns || max_conns > TCP_MAX_CONNS_LIMIT)
		return -EINVAL;
	st->tcp->max_conns = max_conns;
	return 0;
}

int tcp_get_info(const struct sock *sk, struct tcp_conn_info *info)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	if (!sk || !info || sk->prot != &tcp_prot)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->state = tp->state;
	if (tp->state == TCP_LISTEN) {
		info->rcvq = tp->lq->accept_qlen;
		info->sndq = tp->lq->backlog;
	} else {
		info->rcvq = tp->rcvq.len;
		info->sndq = tp->snd_max - tp->snd_una;
		if (tp->sndq.len > info->sndq)
			info->sndq = tp->sndq.len;
	}
	info->cwnd = tp->cc.cwnd;
	info->ssthresh = tp->cc.ssthresh;
	info->srtt_us = tp->srtt_us;
	info->rttvar_us = tp->rttvar_us;
	info->rto_ms = (uint32_t)(tp->rto_ns / 1000000u);
	info->mss = tp->mss;
	info->snd_wnd = tp->snd_wnd;
	info->rcv_wnd = tp->rcv_wnd;
	info->retrans = tp->retrans_total;
	info->cc = tp->cc_ops ? tp->cc_ops->name : "?";
	if (tp->cc_ops && tp->cc_ops->describe)
		tp->cc_ops->describe(&tp->cc, info->cc_state, sizeof(info->cc_state));
	if (tp->cc_ops && tp->cc_ops->pacing_rate)
		info->pacing_rate = tp->cc_ops->pacing_rate(&tp->cc);
	return 0;
}

/* ---- socket operations ---- */

static int tcp_init_sock(struct sock *sk)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);

	if (!st->tcp)
		return -ENODEV;
	if (st->tcp->n_conns >= st->tcp->max_conns)
		return -ENOBUFS;
	tcp_sock_defaults(st, tp);
	tcp_timers_init(tp);
	return 0;
}

static int tcp_bind(struct sock *sk, const union inet_addr *addr, uint16_t port)
{
	struct stack *st = sk->stack;
	struct tcp_table *t = st->tcp;
	struct tcp_sock *tp = tcp_sk(sk);
	int err;

	if (sk->sport || tp->state != TCP_CLOSED)
		return -EINVAL;
	if (!inet_addr_is_any(addr) && !stack_is_local_addr(st, addr))
		return -EADDRNOTAVAIL;
	if (!port) {
		const uint32_t range = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
		uint32_t i;

		for (i = 0; i < range; i++) {
			uint16_t p = t->next_ephemeral;

			t->next_ephemeral = p >= TCP_EPHEMERAL_HI ? TCP_EPHEMERAL_LO : p + 1;
			/* only ports this worker owns (p % n_workers == worker),
			 * so replies another queue receives can be handed here */
			if (!stack_owns_port(st, p))
				continue;
			if (!tcp_port_busy(t, addr, sk->v6only, htons(p), false)) {
				port = htons(p);
				break;
			}
		}
		if (!port)
			return -EADDRINUSE;
	} else if (tcp_port_busy(t, addr, sk->v6only, port, tp->reuseaddr)) {
		return -EADDRINUSE;
	}
	err = tcp_port_get(st, tp, addr, port);
	if (err)
		return err;
	sk->saddr6 = *addr;
	sk->sport = port;
	return 0;
}

static int tcp_listen(struct sock *sk, int backlog)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);
	int err;

	/* as Linux: the backlog is silently capped at somaxconn */
	if (backlog > TCP_SOMAXCONN)
		backlog = TCP_SOMAXCONN;
	if (tp->state == TCP_LISTEN) {
		tp->lq->backlog = backlog > 0 ? (uint32_t)backlog : 1;
		return 0;
	}
	if (tp->state != TCP_CLOSED || tp->synced)
		return -EINVAL;
	if (!tp->lq) {
		tp->lq = calloc(1, sizeof(*tp->lq));
		if (!tp->lq)
			return -ENOMEM;
	}
	if (!sk->sport) {
		union inet_addr any;

		sk_addr_reset(sk, &any);
		err = tcp_bind(sk, &any, 0);
		if (err)
			return err;
	} else if (tp->pref && tp->pref->n_listen) {
		return -EADDRINUSE;	/* another listener under SO_REUSEADDR */
	}
	tp->lq->backlog = backlog > 0 ? (uint32_t)backlog : 1;
	tcp_set_state(st, tp, TCP_LISTEN);
	return tcp_hash(st, tp);
}

static int tcp_accept(struct sock *sk, struct sock **newsk)
{
	struct tcp_sock *tp = tcp_sk(sk), *child;

	if (tp->state != TCP_LISTEN)
		return -EINVAL;
	child = tp->lq->accept_head;
	if (!child)
		return -EAGAIN;
	tp->lq->accept_head = child->qnext;
	if (!tp->lq->accept_head)
		tp->lq->accept_tail = NULL;
	tp->lq->accept_qlen--;
	child->qnext = NULL;
	child->parent = NULL;
	child->orphan = false;
	*newsk = &child->sk;
	return 0;
}

/* Route to daddr from sk's bound address: our source for it in *src. */
static int tcp_route_src(struct sock *sk, const union inet_addr *daddr, union inet_addr *src)
{
	bool bound = !inet_addr_is_any(&sk->saddr6);
	struct rtable rt;
	struct rt6 rt6;
	int err;

	if (bound && inet_addr_is4(&sk->saddr6) != inet_addr_is4(daddr))
		return -ENETUNREACH;	/* bound to an address of the other family */
	if (inet_addr_is4(daddr)) {
		err = ip_route_output(sk->stack, daddr->w[3], sk->saddr, &rt);
		if (!err)
			inet_addr_set4(src, rt.saddr);
		return err;
	}
	err = ip6_route_output(sk->stack, daddr->b, bound ? sk->saddr6.b : NULL, &rt6);
	if (!err)
		inet_addr_set6(src, rt6.saddr);
	return err;
}

static int tcp_connect(struct sock *sk, const union inet_addr *addr, uint16_t port)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk), *other;
	union inet_addr src;
	int err;

	switch (tp->state) {
	case TCP_CLOSED:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return -EALREADY;
	case TCP_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (tp->synced)
		return -EISCONN;
	if (!addr || !port)
		return -EINVAL;
	err = tcp_route_src(sk, addr, &src);
	if (err)
		return err;
	if (!sk->sport) {
		/* autobind on the routed source, in skiff's ephemeral range */
		err = tcp_bind(sk, &src, 0);
		if (err)
			return err;
	}
	sk->saddr6 = src;
	sk->daddr6 = *addr;
	sk->dport = port;
	other = tcp_lookup(st, addr, port, &src, sk->sport);
	if (other && other->state != TCP_LISTEN) {
		sk_addr_reset(sk, &sk->daddr6);
		sk->dport = 0;
		return -EADDRNOTAVAIL;	/* 4-tuple in use (TIME_WAIT of an old one) */
	}
	tp->iss = tcp_isn_ts(tcp_secret_global(), &sk->saddr6, &sk->daddr6, sk->sport, sk->dport,
			     st->now, &tp->ts_offset);
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss;
	tp->snd_max = tp->iss;
	tp->write_seq = tp->iss + 1;
	tp->adv_mss = tcp_mss_for_route(st, addr);
	tp->rcv_wscale = tcp_wscale_for(tp->rcvbuf, tp->rcvbuf_locked);
	tp->wscale_ok = true;	/* offered; tcp_input.c settles on the SYN-ACK */
	tp->sack_ok = true;
	tp->ts_ok = true;
	tp->rcv_wnd = tp->rcvbuf < 65535 ? tp->rcvbuf : 65535;
	tcp_set_state(st, tp, TCP_SYN_SENT);
	tcp_hash(st, tp);
	STACK_INC(st, tcp_active_opens);
	err = tcp_send_syn(st, tp);
	if (err && err != -EAGAIN && err != -ENOBUFS) {
		/* nothing sent and nothing to retry from: undo */
		tcp_set_state(st, tp, TCP_CLOSED);	/* unhashes, releases the port */
		sk_addr_reset(sk, &sk->daddr6);
		sk->dport = 0;
		sk->sport = 0;
		return err;
	}
	return -EINPROGRESS;
}

/* Queue len bytes, from buf or else from [foff, foff + len) of fm. */

/*
 * After the application read: once per receiver RTT, compare what it read
 * in that RTT with the most it read in one before; when it read more, grow
 * the buffer to twice that plus 16 segments (the sender's cwnd may double
 * in the next RTT; the window must not hold it back), within
 * TCP_RCVBUF_AUTO_MAX and the pool's share (Linux's tcp_rcv_space_adjust).
 */
void tcp_rcv_space_adjust(struct stack *st, struct tcp_sock *tp)
{
	const struct tcp_chunk_pool *pool = &st->tcp->chunks;
	uint32_t now = (uint32_t)(st->now / 1000u), copied_seq = tp->rcv_nxt - tp->rcvq.len;
	uint32_t copied;
	uint64_t want, cap;

	if (tp->rcvbuf_locked)
		return;
	if (!tp->rcvq_t) {
		tp->rcvq_space = 10u * tp->adv_mss;
		goto new_measure;
	}
	if (!tp->rcv_rtt_us || now - tp->rcvq_t < tp->rcv_rtt_us)
		return;
	copied = copied_seq - tp->rcvq_seq;
	if (copied > tp->rcvq_space) {
		tp->rcvq_space = copied;
		want = 2 * (uint64_t)copied + 16u * tp->adv_mss;
		cap = (uint64_t)pool->max * TCP_CHUNK_DATA / TCP_SNDBUF_POOL_SHARE;
		if (cap > TCP_RCVBUF_AUTO_MAX)
			cap = TCP_RCVBUF_AUTO_MAX;
		if (want > cap)
			want = cap;
		if (want > tp->rcvbuf && tcp_chunk_pool_in_use(pool) <= pool->max / 2) {
			tp->rcvbuf = (uint32_t)want;
			tp->sk.rcvbuf = tp->rcvbuf;
			STACK_INC(st, tcp_rcvbuf_grown);
		}
	}
new_measure:
	tp->rcvq_seq = copied_seq;
	tp->rcvq_t = now ? now : 1;
}

static ssize_t tcp_send_queue(struct sock *sk, const void *buf, struct fmap *fm, uint64_t foff,
			      size_t len)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);
	size_t room, n;
	int err;

	if (sk->err) {
		err = sk->err;
		sk->err = 0;
		return err;
	}
	if (tp->fin_queued)
		return -EPIPE;
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return -EAGAIN;
	case TCP_CLOSED:
	case TCP_LISTEN:
		return tp->synced ? -EPIPE : -ENOTCONN;
	default:
		return -EPIPE;
	}
	if (!len)
		return 0;
	room = tp->sndq.len < tp->sndbuf ? tp->sndbuf - tp->sndq.len : 0;
	if (room < len) {
		/* the buffer stops the application: autotuning may grow it */
		tcp_sndbuf_expand(st, tp);
		room = tp->sndq.len < tp->sndbuf ? tp->sndbuf - tp->sndq.len : 0;
	}
	if (!room)
		return -EAGAIN;
	n = len < room ? len : room;
	if (fm) {
		if (foff > fm->len || n > fm->len - foff)
			return -EINVAL;
		n = tcp_stream_append_file(&st->tcp->chunks, &tp->sndq, fm, foff, n);
	} else {
		n = tcp_stream_append(&st->tcp->chunks, &tp->sndq, buf, n);
	}
	if (!n) {
		/* chunk pool exhausted: woken when chunks are free again */
		STACK_INC(st, tcp_chunk_waits);
		tcp_chunk_wait(st->tcp, tp);
		return -EAGAIN;
	}
	tp->write_seq += (uint32_t)n;
	tcp_push_soon(st, tp);
	return (ssize_t)n;
}

static ssize_t tcp_sendmsg(struct sock *sk, const void *buf, size_t len,
			   const union inet_addr *daddr, uint16_t dport)
{
	(void)daddr;
	(void)dport;
	return tcp_send_queue(sk, buf, NULL, 0, len);
}

static ssize_t tcp_sendfile(struct sock *sk, struct fmap *fm, uint64_t off, size_t len)
{
	return tcp_send_queue(sk, NULL, fm, off, len);
}

/* Bytes of window we could offer now, if the reader keeps up. */
static uint32_t tcp_rcv_space(const struct tcp_sock *tp)
{
	uint32_t used = tp->rcvq.len + tp->ooo.bytes;

	return used < tp->rcvbuf ? tp->rcvbuf - used : 0;
}

static ssize_t tcp_recvmsg(struct sock *sk, void *buf, size_t len, union inet_addr *saddr,
			   uint16_t *sport)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t cur, space, thresh;
	size_t n;
	int err;

	if (saddr)
		*saddr = sk->daddr6;
	if (sport)
		*sport = sk->dport;
	if (tp->state == TCP_LISTEN)
		return -ENOTCONN;
	if (!tp->rcvq.len) {
		if (sk->err) {
			err = sk->err;
			sk->err = 0;
			return err;
		}
		if (tp->fin_rcvd || tp->rd_shutdown)
			return 0;
		if (tp->state == TCP_CLOSED)
			return tp->synced ? 0 : -ENOTCONN;
		return -EAGAIN;
	}
	if (!len)
		return 0;
	n = tcp_stream_read(&st->tcp->chunks, &tp->rcvq, buf, len);
	tcp_rcv_space_adjust(st, tp);

	/*
	 * RFC 9293 3.8.6.2.2 receiver SWS avoidance: tell the peer about the
	 * freed space only once the window can move right by at least
	 * min(buffer / 2, MSS).  A relaying reader's first read after the
	 * handshake (nothing ACKed since: RCV.WUP at IRS + 1), with more than
	 * half the SYN's window still open, announces nothing of its own:
	 * the bytes go on to an application whose answer comes a burst
	 * later and carries the window, where the update would leave alone
	 * just before it (65,535 offered unscaled, the whole buffer free;
	 * Linux sends none there either: its window grows from rcv_ssthresh).
	 */
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		if (tp->fin_rcvd)
			break;
		cur = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;
		if ((int32_t)cur < 0)
			cur = 0;
		space = tcp_rcv_space(tp);
		thresh = tp->rcvbuf / 2 < tp->adv_mss ? tp->rcvbuf / 2 : tp->adv_mss;
		if (space > cur && space - cur >= thresh &&
		    !(tp->relay_reads && tp->rcv_wup == tp->irs + 1 && cur > tp->rcv_wnd / 2)) {
			/* the window update: once per burst, however many reads
			 * the application makes in it (now when outside one) */
			tp->ack_wnd = true;
			tcp_ack_defer(st, tp);
		}
		break;
	default:
		break;
	}
	return (ssize_t)n;
}

static uint32_t tcp_poll(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t mask = 0;

	if (sk->err)
		mask |= SOCK_EV_ERR;
	if (tp->state == TCP_LISTEN)
		return mask | (tp->lq->accept_head ? SOCK_EV_IN : 0);
	if (tp->rcvq.len || tp->fin_rcvd || tp->rd_shutdown)
		mask |= SOCK_EV_IN;
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		if (!tp->fin_queued && tp->sndq.len < tp->sndbuf)
			mask |= SOCK_EV_OUT;
		break;
	case TCP_CLOSED:
		/* as Linux: a closed socket is hung up (and reads return) */
		mask |= SOCK_EV_HUP | SOCK_EV_IN;
		if (!tp->synced)
			mask |= SOCK_EV_OUT;
		break;
	default:
		break;
	}
	if (tp->fin_rcvd && tp->fin_queued)
		mask |= SOCK_EV_HUP;
	return mask;
}

/* RFC 9293 3.10.4 CLOSE / shutdown of the write side: queue a FIN after the data. */
static void tcp_shutdown_write(struct stack *st, struct tcp_sock *tp)
{
	if (tp->fin_queued)
		return;
	switch (tp->state) {
	case TCP_SYN_RECEIVED:	/* FIN once established (RFC 9293 3.10.4) */
	case TCP_ESTABLISHED:
		tp->fin_queued = true;
		tcp_set_state(st, tp, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		tp->fin_queued = true;
		tcp_set_state(st, tp, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	tcp_push(st, tp);
}

static int tcp_shutdown(struct sock *sk, int how)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);

	switch (tp->state) {
	case TCP_CLOSED:
	case TCP_LISTEN:
		return -ENOTCONN;
	case TCP_SYN_SENT:
		if (how != SHUT_RD) {
			tcp_set_state(st, tp, TCP_CLOSED);
			return 0;
		}
		break;
	default:
		break;
	}
	if (how == SHUT_RD || how == SHUT_RDWR) {
		tp->rd_shutdown = true;
		tcp_stream_purge(&st->tcp->chunks, &tp->rcvq);
	}
	if (how == SHUT_WR || how == SHUT_RDWR)
		tcp_shutdown_write(st, tp);
	tcp_wake(tp);
	return 0;
}

static void tcp_close_listener(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_sock *c, *next;

	/* Children not yet accepted (queued or embryonic) are reset. */
	for (c = st->tcp->all; c; c = next) {
		next = c->lnext;	/* only c is freed below */
		if (c->parent != tp)
			continue;
		tcp_send_active_reset(st, c);
		c->orphan = true;
		tcp_set_state(st, c, TCP_CLOSED);	/* frees c */
	}
	tp->orphan = true;
	tcp_set_state(st, tp, TCP_CLOSED);
}

static void tcp_close(struct sock *sk)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);

	sk->data_ready = NULL;
	sk->socket = NULL;
	tp->orphan = true;
	switch (tp->state) {
	case TCP_LISTEN:
		tcp_close_listener(st, tp);
		return;
	case TCP_CLOSED:
		tcp_sock_free(st, tp);	/* no transition: free it here */
		return;
	case TCP_SYN_SENT:
		tcp_set_state(st, tp, TCP_CLOSED);	/* frees the orphan */
		return;
	default:
		break;
	}
	/* RFC 9293 3.10.4 / RFC 2525 2.17: data the application never read, or
	 * SO_LINGER 0, aborts with RST rather than a graceful FIN. */
	if (tp->rcvq.len || tp->linger_abort) {
		tcp_send_active_reset(st, tp);
		tcp_set_state(st, tp, TCP_CLOSED);
		return;
	}
	tcp_shutdown_write(st, tp);
	if (tp->state == TCP_FIN_WAIT_2)
		tcp_reset_keepalive(st, tp);	/* orphan FIN_WAIT_2 timeout */
}

static int tcp_clamp_buf(int val, uint32_t *out)
{
	if (val <= 0)
		return -EINVAL;
	*out = (uint32_t)val < TCP_MIN_BUF ? TCP_MIN_BUF
					   : (uint32_t)val > TCP_MAX_BUF ? TCP_MAX_BUF : (uint32_t)val;
	return 0;
}

/* SO_RCVBUF, SO_SNDBUF (each locks autotuning) and SKIFF_SO_SNDBUF_MIN. */
static int tcp_set_buf(struct sock *sk, struct tcp_sock *tp, int opt, int val)
{
	uint32_t min;
	int err;

	switch (opt) {
	case SKIFF_SO_RCVBUF:
		err = tcp_clamp_buf(val, &tp->rcvbuf);
		sk->rcvbuf = tp->rcvbuf;
		if (!err)
			tp->rcvbuf_locked = true; /* no autotuning (Linux's SOCK_RCVBUF_LOCK) */
		return err;
	case SKIFF_SO_SNDBUF:
		err = tcp_clamp_buf(val, &tp->sndbuf);
		if (!err) {
			tp->sndbuf_locked = true; /* no autotuning (Linux's SOCK_SNDBUF_LOCK) */
			tcp_wake(tp);
		}
		return err;
	default: /* SKIFF_SO_SNDBUF_MIN */
		err = tcp_clamp_buf(val, &min);
		if (!err && min > tp->sndbuf) {
			tp->sndbuf = min; /* autotuning (if not locked) goes on from here */
			tcp_wake(tp);
		}
		return err;
	}
}

/* SO_KEEPALIVE and TCP_KEEPIDLE/KEEPINTVL/KEEPCNT: a live connection's
 * keepalive timer restarts with the new values. */
static int tcp_set_keepalive(struct stack *st, struct tcp_sock *tp, int opt, int val)
{
	if (opt == SKIFF_SO_KEEPALIVE) {
		tp->keepalive = val != 0;
	} else {
		if (val < 1 || val > 32767)
			return -EINVAL;
		if (opt == SKIFF_TCP_KEEPIDLE)
			tp->keepidle_s = (uint32_t)val;
		else if (opt == SKIFF_TCP_KEEPINTVL)
			tp->keepintvl_s = (uint32_t)val;
		else
			tp->keepcnt = (uint32_t)val;
		if (!tp->keepalive)
			return 0;
	}
	if (tp->state != TCP_CLOSED && tp->state != TCP_LISTEN)
		tcp_reset_keepalive(st, tp);
	return 0;
}

/* TCP_CONGESTION: a live connection keeps its window and restarts the new
 * algorithm's state. */
static int tcp_set_congestion(struct stack *st, struct tcp_sock *tp, int val)
{
	const struct tcp_cong_ops *cc = val < 0 ? NULL : tcp_cong_by_id((unsigned int)val);
	uint32_t cwnd, ssthresh;

	if (!cc)
		return -EINVAL;
	if (cc == tp->cc_ops)
		return 0;
	tp->cc_ops = cc;
	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN)
		return 0;
	cwnd = tp->cc.cwnd;
	ssthresh = tp->cc.ssthresh;
	memset(tp->cc.priv, 0, sizeof(tp->cc.priv));
	if (cc->init)
		cc->init(&tp->cc, st->now);
	tp->cc.cwnd = cwnd;
	tp->cc.ssthresh = ssthresh;
	return 0;
}

static int tcp_setsockopt(struct sock *sk, int opt, int val)
{
	struct stack *st = sk->stack;
	struct tcp_sock *tp = tcp_sk(sk);

	switch (opt) {
	case SKIFF_SO_RCVBUF:
	case SKIFF_SO_SNDBUF:
	case SKIFF_SO_SNDBUF_MIN:
		return tcp_set_buf(sk, tp, opt, val);
	case SKIFF_SO_KEEPALIVE:
	case SKIFF_TCP_KEEPIDLE:
	case SKIFF_TCP_KEEPINTVL:
	case SKIFF_TCP_KEEPCNT:
		return tcp_set_keepalive(st, tp, opt, val);
	case SKIFF_TCP_CONGESTION:
		return tcp_set_congestion(st, tp, val);
	case SKIFF_SO_REUSEADDR:
		tp->reuseaddr = val != 0;
		return 0;
	case SKIFF_SO_LINGER_ABORT:
		tp->linger_abort = val != 0;
		return 0;
	case SKIFF_TCP_RELAY_READS:
		tp->relay_reads = val != 0;
		return 0;
	case SKIFF_TCP_NODELAY:
		tp->nodelay = val != 0;
		if (tp->nodelay && (tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT))
			tcp_push(st, tp);
		return 0;
	case SKIFF_TCP_ECN:
		/* RFC 3168: decided by the handshake, so only before it */
		if (val < 0 || val > 2)
			return -EINVAL;
		if (tp->state != TCP_CLOSED && tp->state != TCP_LISTEN)
			return -EISCONN;
		tp->ecn_mode = (uint8_t)val;
		return 0;
	case SKIFF_TCP_MAXSEG:
		if (val < 88 || val > 65495)
			return -EINVAL;
		if (tp->state == TCP_CLOSED && (uint32_t)val < tp->adv_mss)
			tp->adv_mss = (uint16_t)val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int tcp_getsockopt(struct sock *sk, int opt, int *val)
{
	struct tcp_sock *tp = tcp_sk(sk);

	switch (opt) {
	case SKIFF_SO_RCVBUF:
		*val = (int)tp->rcvbuf;
		return 0;
	case SKIFF_SO_SNDBUF:
	case SKIFF_SO_SNDBUF_MIN:
		*val = (int)tp->sndbuf;
		return 0;
	case SKIFF_SO_REUSEADDR:
		*val = tp->reuseaddr;
		return 0;
	case SKIFF_SO_KEEPALIVE:
		*val = tp->keepalive;
		return 0;
	case SKIFF_SO_LINGER_ABORT:
		*val = tp->linger_abort;
		return 0;
	case SKIFF_TCP_RELAY_READS:
		*val = tp->relay_reads;
		return 0;
	case SKIFF_SO_ERROR:
		*val = -sk->err;
		sk->err = 0;
		return 0;
	case SKIFF_TCP_NODELAY:
		*val = tp->nodelay;
		return 0;
	case SKIFF_TCP_KEEPIDLE:
		*val = (int)tp->keepidle_s;
		return 0;
	case SKIFF_TCP_KEEPINTVL:
		*val = (int)tp->keepintvl_s;
		return 0;
	case SKIFF_TCP_KEEPCNT:
		*val = (int)tp->keepcnt;
		return 0;
	case SKIFF_TCP_CONGESTION:
		*val = tcp_cong_id(tp->cc_ops) > 0 ? tcp_cong_id(tp->cc_ops) : TCP_CC_CUBIC;
		return 0;
	case SKIFF_TCP_MAXSEG:
		/* connected: the payload of a full segment, the MSS less the
		 * timestamp option (RFC 9293 3.7.1; Linux's mss_cache: SACK
		 * blocks come and go, so they are not taken off) */
		if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN)
			*val = (int)tp->adv_mss;
		else
			*val = (int)(tp->mss - (tp->ts_ok && tp->mss > TCPOLEN_TS_ALIGNED + 8
							? TCPOLEN_TS_ALIGNED : 0));
		return 0;
	case SKIFF_TCP_ECN:
		*val = tp->ecn_mode;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

const struct proto tcp_prot = {
	.name = "tcp",
	.type = SOCK_STREAM,
	.protocol = IPPROTO_TCP,
	.obj_size = sizeof(struct tcp_sock),
	.obj_alloc = tcp_conn_obj_get,
	.init = tcp_init_sock,
	.bind = tcp_bind,
	.connect = tcp_connect,
	.sendmsg = tcp_sendmsg,
	.sendfile = tcp_sendfile,
	.recvmsg = tcp_recvmsg,
	.poll = tcp_poll,
	.close = tcp_close,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.shutdown = tcp_shutdown,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.flags = PROTO_F_OWNS_OBJECT,
};

static const struct net_protocol tcp_protocol = {
	.handler = tcp_rcv,
	.err_handler = tcp_err,
	.err_lookup = tcp_err_lookup,
};

int tcp_init(struct stack *st)
{
	struct tcp_table *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ehash = calloc(TCP_EHASH_SLOTS, sizeof(*t->ehash));
	if (!t->ehash) {
		err = -ENOMEM;
		goto err_free;
	}
	tcp_ehash_key_init(t, tcp_secret_global());
	err = tcp_chunk_pool_init(&t->chunks, TCP_CHUNKS_MAX);
	if (err)
		goto err_free;
	tcp_recovery_pool_init(&t->recovery, TCP_RECOVERY_MAX);
	t->max_conns = TCP_MAX_CONNS;
	/* Start the ephemeral cursor at a place that depends on the queue and
	 * the start time (RFC 6056 3.1: not predictable from one run to the
	 * next), so a restarted daemon does not reuse the last run's ports.
	 * Workers never collide: each takes only the ports it owns. */
	t->next_ephemeral = (uint16_t)(TCP_EPHEMERAL_LO +
				       (uint32_t)(st->now / 1000u +
						  (st->dev ? st->dev->queue_id * 1021u : 0u)) %
					       (TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1));
	t->challenge.second = UINT64_MAX;
	t->challenge.limit = TCP_CHALLENGE_ACK_LIMIT;
	timer_init(&t->pacer.timer, tcp_pace_timer_fire);
	st->tcp = t;
	err = stack_add_poll_hook(st, tcp_after_burst);
	if (err)
		goto err_pool;
	err = inet_add_protocol(st, IPPROTO_TCP, &tcp_protocol);
	if (err) {
		stack_remove_poll_hook(st, tcp_after_burst);
		goto err_pool;
	}
	return 0;

err_pool:
	st->tcp = NULL;
	tcp_recovery_pool_fini(&t->recovery);
	tcp_chunk_pool_fini(&t->chunks);

err_free:
	free(t->ehash);
	free(t);
	return err;
}

void tcp_fini(struct stack *st)
{
	struct tcp_table *t = st->tcp;
	struct tcp_sock *tp;
	uint32_t i;

	if (!t)
		return;
	/* Sockets were closed by sock_fini(); what is left are orphans
	 * (FIN_WAIT, TIME_WAIT) and unaccepted children: free them all. */
	while ((tp = t->all)) {
		tp->orphan = true;
		tcp_sock_free(st, tp);
	}
	for (i = 0; i < TCP_PHASH_SLOTS; i++) {
		struct tcp_port_ref *r, *next;

		for (r = t->phash[i]; r; r = next) {
			next = r->next;
			tcp_port_release(st, r);
			free(r);
		}
	}
	stack_remove_poll_hook(st, tcp_after_burst);
	tcp_conn_cache_drain(t);
	tcp_recovery_pool_fini(&t->recovery);
	timer_del(st, &t->pacer.timer);
	free(t->pacer.conns);
	tcp_chunk_pool_fini(&t->chunks);
	free(t->ehash);
	free(t);
	st->tcp = NULL;
}
