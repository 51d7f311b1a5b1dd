// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP connections as objects of the stack, after Linux's
 * inet_hashtables.c, tcp_ipv4.c (lookup, ICMP errors) and tcp_done():
 *   - the connection hash on the 4-tuple and the listener hash, lookup for
 *     input and for ICMP errors, the list of every object (tcp_walk);
 *   - local port claims: the first user of an (address, port) claims it
 *     in the BPF ports map (st->hooks.port_claim), the last releases it;
 *   - the connection's life: state changes, the teardown on CLOSED, reset,
 *     the listener's accept queue, freeing;
 *   - connections waiting for the chunk pool;
 *   - ICMP and ICMPv6 errors about segments we sent (RFC 5927).
 * Below the segment arrival and timer files, above output (docs/
 * architecture.md, "TCP's files"): it calls no file that calls it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#if defined(__SANITIZE_ADDRESS__)
#define TCP_CONN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCP_CONN_ASAN 1
#endif
#endif
#ifdef TCP_CONN_ASAN
#include <sanitizer/asan_interface.h>
#define conn_poison(p)	 ASAN_POISON_MEMORY_REGION((p), sizeof(struct tcp_sock))
#define conn_unpoison(p) ASAN_UNPOISON_MEMORY_REGION((p), sizeof(struct tcp_sock))
#else
#define conn_poison(p)	 ((void)(p))
#define conn_unpoison(p) ((void)(p))
#endif
#include "net/icmp.h"
#include "transport/tcp_internal.h"
#include "transport/tcp_isn.h"

#define TCP_PMTU_MIN_MSS	536u	/* floor for a PMTU-lowered MSS */

/* ---- hashing ---- */

void tcp_ehash_key_init(struct tcp_table *t, const struct tcp_secret *s)
{
	static const char label[] = "skiff tcp ehash";
	uint64_t k0 = siphash24(s->key, label, sizeof(label) - 1);
	uint64_t k1 = siphash24(s->key, label, sizeof(label));

	t->ehash_key[0] = (uint32_t)k0;
	t->ehash_key[1] = (uint32_t)(k0 >> 32);
	t->ehash_key[2] = (uint32_t)k1;
}

static inline uint32_t tcp_porthashfn(uint16_t port)
{
	return ntohs(port);
}

int tcp_hash(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_table *t = st->tcp;
	struct tcp_sock **slot;

	if (tp->in_hash)
		return 0;
	if (tp->state == TCP_LISTEN)
		slot = &t->lhash[tcp_porthashfn(tp->sk.sport) & (TCP_LHASH_SLOTS - 1)];
	else
		slot = &t->ehash[tcp_ehashfn(t, &tp->sk.saddr6, tp->sk.sport, &tp->sk.daddr6,
					     tp->sk.dport)];
	tp->hnext = *slot;
	*slot = tp;
	tp->in_hash = true;
	return 0;
}

void tcp_unhash(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_table *t = st->tcp;
	struct tcp_sock **pp;
	int pass;

	if (!tp->in_hash)
		return;
	/* A listener's state may already have moved on: try both tables. */
	for (pass = 0; pass < 2; pass++) {
		pp = pass == 0 ? &t->ehash[tcp_ehashfn(t, &tp->sk.saddr6, tp->sk.sport,
						       &tp->sk.daddr6, tp->sk.dport)]
			       : &t->lhash[tcp_porthashfn(tp->sk.sport) & (TCP_LHASH_SLOTS - 1)];
		for (; *pp; pp = &(*pp)->hnext) {
			if (*pp == tp) {
				*pp = tp->hnext;
				tp->hnext = NULL;
				tp->in_hash = false;
				return;
			}
		}
	}
}

struct tcp_sock *tcp_lookup(struct stack *st, const union inet_addr *saddr, uint16_t sport,
			    const union inet_addr *daddr, uint16_t dport)
{
	struct tcp_table *t = st->tcp;
	struct tcp_sock *tp, *wild = NULL;

	if (!t)
		return NULL;
	for (tp = t->ehash[tcp_ehashfn(t, daddr, dport, saddr, sport)]; tp; tp = tp->hnext)
		if (tp->sk.sport == dport && tp->sk.dport == sport &&
		    inet_addr_eq(&tp->sk.daddr6, saddr) && inet_addr_eq(&tp->sk.saddr6, daddr))
			return tp;
	/* a listener bound to daddr, else one on a wildcard that takes
	 * daddr's family (:: takes IPv4 too unless V6ONLY) */
	for (tp = t->lhash[tcp_porthashfn(dport) & (TCP_LHASH_SLOTS - 1)]; tp; tp = tp->hnext) {
		int m;

		if (tp->sk.sport != dport)
			continue;
		m = inet_addr_local_match(&tp->sk.saddr6, tp->sk.v6only, daddr);
		if (m == 2)
			return tp;
		if (m && !wild)
			wild = tp;
	}
	return wild;
}

/* ---- the list of every object ---- */

void tcp_link_all(struct tcp_table *t, struct tcp_sock *tp)
{
	tp->lnext = t->all;
	if (t->all)
		t->all->lpprev = &tp->lnext;
	t->all = tp;
	tp->lpprev = &t->all;
	t->n_conns++;
}

void tcp_unlink_all(struct tcp_table *t, struct tcp_sock *tp)
{
	if (!tp->lpprev)
		return;
	*tp->lpprev = tp->lnext;
	if (tp->lnext)
		tp->lnext->lpprev = tp->lpprev;
	tp->lnext = NULL;
	tp->lpprev = NULL;
	t->n_conns--;
}

void tcp_walk(struct stack *st, void (*fn)(void *arg, const struct sock *sk), void *arg)
{
	struct tcp_sock *tp, *next;

	if (!st->tcp)
		return;
	for (tp = st->tcp->all; tp; tp = next) {
		next = tp->lnext;
		fn(arg, &tp->sk);
	}
}

/* ---- local ports ---- */

static struct tcp_port_ref *tcp_port_find(struct tcp_table *t, const union inet_addr *addr,
					  bool v6only, uint16_t port)
{
	struct tcp_port_ref *r;

	for (r = t->phash[tcp_porthashfn(port) & (TCP_PHASH_SLOTS - 1)]; r; r = r->next)
		if (r->port == port && inet_addr_eq(&r->addr, addr) && r->v6only == v6only)
			return r;
	return NULL;
}

/* Release a port's claim in the maps XDP steers by (sk_port_claim()). */
void tcp_port_release(struct stack *st, const struct tcp_port_ref *r)
{
	sk_port_release(st, &r->addr, r->v6only, IPPROTO_TCP, r->port);
}

/*
 * Would binding (addr, port) clash?  As Linux: any user of the port on an
 * address the new bind also covers clashes (the same address, a wildcard
 * on either side, :: without V6ONLY and any IPv4 bind), unless the new
 * socket has SO_REUSEADDR and nobody listens there (so a server restarts
 * while its old connections sit in TIME_WAIT or still run).
 */
bool tcp_port_busy(struct tcp_table *t, const union inet_addr *addr, bool v6only,
		   uint16_t port, bool reuse)
{
	struct tcp_port_ref *r;

	for (r = t->phash[tcp_porthashfn(port) & (TCP_PHASH_SLOTS - 1)]; r; r = r->next) {
		if (r->port != port || !r->refs)
			continue;
		if (!inet_addr_bind_overlap(&r->addr, r->v6only, addr, v6only))
			continue;
		if (!reuse || r->n_listen)
			return true;
	}
	return false;
}

/* Hold (addr, port) for tp; claims it in the ports map on first use. */
int tcp_port_get(struct stack *st, struct tcp_sock *tp, const union inet_addr *addr,
			uint16_t port)
{
	struct tcp_table *t = st->tcp;
	struct tcp_port_ref *r = tcp_port_find(t, addr, tp->sk.v6only, port);
	int err;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		err = sk_port_claim(st, addr, tp->sk.v6only, IPPROTO_TCP, port);
		if (err) {
			free(r);
			return err;
		}
		r->addr = *addr;
		r->v6only = tp->sk.v6only;
		r->port = port;
		r->next = t->phash[tcp_porthashfn(port) & (TCP_PHASH_SLOTS - 1)];
		t->phash[tcp_porthashfn(port) & (TCP_PHASH_SLOTS - 1)] = r;
	}
	r->refs++;
	tp->pref = r;
	return 0;
}

void tcp_port_put(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_table *t = st->tcp;
	struct tcp_port_ref *r = tp->pref, **pp;

	if (!r)
		return;
	tp->pref = NULL;
	if (tp->state == TCP_LISTEN && r->n_listen)
		r->n_listen--;
	if (--r->refs)
		return;
	for (pp = &t->phash[tcp_porthashfn(r->port) & (TCP_PHASH_SLOTS - 1)]; *pp;
	     pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	tcp_port_release(st, r);
	free(r);
}

void tcp_port_share(struct tcp_sock *child, struct tcp_sock *listener)
{
	if (listener->pref) {
		listener->pref->refs++;
		child->pref = listener->pref;
	}
}

/* ---- waiting for the chunk pool ---- */

/*
 * The chunk pool is shared by every connection of the stack, so a send can
 * find it empty with nothing of its own in flight: no ACK of its own would
 * ever make it writable again, and readiness is edge-triggered.  Such a
 * connection waits on the table's list, and the poll hook wakes every
 * waiter once chunks are free again (whoever freed them).
 */
void tcp_chunk_wait(struct tcp_table *t, struct tcp_sock *tp)
{
	if (tp->wpprev)
		return;	/* waiting already */
	tp->wnext = t->chunk_waiters;
	if (tp->wnext)
		tp->wnext->wpprev = &tp->wnext;
	tp->wpprev = &t->chunk_waiters;
	t->chunk_waiters = tp;
}

static void tcp_chunk_unwait(struct tcp_sock *tp)
{
	if (!tp->wpprev)
		return;
	*tp->wpprev = tp->wnext;
	if (tp->wnext)
		tp->wnext->wpprev = tp->wpprev;
	tp->wnext = NULL;
	tp->wpprev = NULL;
}

/* Poll hook (after every burst): chunks free again, wake every waiter. */
void tcp_chunk_wake(struct stack *st)
{
	struct tcp_table *t = st->tcp;
	struct tcp_chunk_pool *p;
	struct tcp_sock *tp;

	if (!t || !t->chunk_waiters)
		return;
	p = &t->chunks;
	if (!p->n_free && p->n_total >= p->max)
		return;
	while ((tp = t->chunk_waiters)) {
		tcp_chunk_unwait(tp);
		tcp_wake(tp);
	}
	st->poll_again = true;	/* dispatched by the next poll: do not sleep first */
}

/* ---- the connection's life ---- */

static void tcp_conn_obj_put(struct tcp_table *t, struct tcp_sock *tp);

void tcp_sock_free(struct stack *st, struct tcp_sock *tp)
{
	tcp_chunk_unwait(tp);
	tcp_clear_timers(st, tp);
	tcp_unhash(st, tp);
	tcp_port_put(st, tp);
	if (st->tcp) {
		if (tp->deferred)
			tcp_undefer(st->tcp, tp);
		tcp_stream_purge(&st->tcp->chunks, &tp->sndq);
		tcp_stream_purge(&st->tcp->chunks, &tp->rcvq);
		tcp_ooo_purge(&st->tcp->chunks, &tp->ooo);
		tcp_unlink_all(st->tcp, tp);
	}
	tcp_recovery_put(st, tp);
	free(tp->lq);
	tcp_conn_obj_put(st->tcp, tp);
}

/*
 * The cache of freed connection objects (a connect/request/close costs two
 * allocations and two frees otherwise).  A cached object is linked through
 * its first word and poisoned under ASan, so a use after tcp_sock_free()
 * is still reported; it is zeroed when taken, exactly as calloc would.
 */
static void tcp_conn_obj_put(struct tcp_table *t, struct tcp_sock *tp)
{
	if (!t || t->n_conn_free >= TCP_CONN_CACHE) {
		free(tp);
		return;
	}
	*(struct tcp_sock **)tp = t->conn_free;
	t->conn_free = tp;
	t->n_conn_free++;
	conn_poison(tp);
}

void *tcp_conn_obj_get(struct stack *st)
{
	struct tcp_table *t = st->tcp;
	struct tcp_sock *tp = t ? t->conn_free : NULL;

	if (!tp)
		return calloc(1, sizeof(*tp));
	conn_unpoison(tp);
	t->conn_free = *(struct tcp_sock **)tp;
	t->n_conn_free--;
	memset(tp, 0, sizeof(*tp));
	return tp;
}

/* The settings every connection starts from (socket or child), on the list
 * of every object; the timers are tcp_timer.c's (tcp_timers_init). */
void tcp_sock_defaults(struct stack *st, struct tcp_sock *tp)
{
	const struct tcp_cong_ops *cc =
		tcp_cong_by_id(st->cfg ? st->cfg->tcp_cc : TCP_CC_CUBIC);

	tp->st = st;
	tp->sk.stack = st;
	tp->state = TCP_CLOSED;
	tp->sndbuf = TCP_DEFAULT_SNDBUF;
	tp->rcvbuf = TCP_DEFAULT_RCVBUF;
	tp->sk.rcvbuf = tp->rcvbuf;
	tp->cc_ops = cc ? cc : tcp_cong_find("newreno");
	tp->mss = TCP_MSS_DEFAULT;
	tp->adv_mss = TCP_MSS_DEFAULT;
	tp->rcv_mss = TCP_MSS_DEFAULT;
	tp->rto_ns = TCP_RTO_INIT_NS;
	tp->keepidle_s = TCP_KEEPIDLE_S;
	tp->keepintvl_s = TCP_KEEPINTVL_S;
	tp->keepcnt = TCP_KEEPCNT;
	tp->ecn_mode = TCP_ECN_DEFAULT;
	tp->snd_wscale = 0;
	tp->rcv_wscale = 0;
	tcp_link_all(st->tcp, tp);
}

/* A new object with the socket operations prot (a child: its listener's,
 * as Linux's clone copies sk_prot); the caller initialises the timers. */
struct tcp_sock *tcp_sock_alloc(struct stack *st, const struct proto *prot)
{
	struct tcp_sock *tp;

	if (!st->tcp || st->tcp->n_conns >= st->tcp->max_conns)
		return NULL;
	tp = tcp_conn_obj_get(st);
	if (!tp)
		return NULL;
	tp->sk.prot = prot;
	pkb_queue_init(&tp->sk.rcvq);
	tcp_sock_defaults(st, tp);
	return tp;
}

void tcp_conn_cache_drain(struct tcp_table *t)
{
	struct tcp_sock *tp;

	while ((tp = t->conn_free)) {
		conn_unpoison(tp);
		t->conn_free = *(struct tcp_sock **)tp;
		free(tp);
	}
	t->n_conn_free = 0;
}

/* Take a child off its listener's queues. */
static void tcp_child_unlink(struct tcp_sock *tp)
{
	struct tcp_sock *parent = tp->parent, **pp;

	if (!parent)
		return;
	for (pp = &parent->lq->accept_head; *pp; pp = &(*pp)->qnext) {
		if (*pp != tp)
			continue;
		*pp = tp->qnext;
		if (parent->lq->accept_tail == tp) {
			struct tcp_sock *q;

			parent->lq->accept_tail = NULL;
			for (q = parent->lq->accept_head; q; q = q->qnext)
				parent->lq->accept_tail = q;
		}
		parent->lq->accept_qlen--;
		break;
	}
	tp->qnext = NULL;
	tp->parent = NULL;
}

void tcp_accept_enqueue(struct stack *st, struct tcp_sock *child)
{
	struct tcp_sock *parent = child->parent;
	struct tcp_listen_q *lq;

	(void)st;
	if (!parent)
		return;
	lq = parent->lq;
	child->qnext = NULL;
	if (lq->accept_tail)
		lq->accept_tail->qnext = child;
	else
		lq->accept_head = child;
	lq->accept_tail = child;
	lq->accept_qlen++;
	tcp_wake(parent);
}

void tcp_set_state(struct stack *st, struct tcp_sock *tp, int state)
{
	int old = tp->state;

	if (old == state)
		return;
	if (old == TCP_SYN_RECEIVED && tp->parent && tp->parent->lq->syn_qlen)
		tp->parent->lq->syn_qlen--;	/* leaves the listener's SYN queue */
	if (old == TCP_LISTEN && tp->pref && tp->pref->n_listen)
		tp->pref->n_listen--;
	tp->state = (uint8_t)state;
	if (state == TCP_LISTEN && tp->pref)
		tp->pref->n_listen++;
	if (state == TCP_ESTABLISHED || state == TCP_SYN_RECEIVED)
		tp->synced = tp->synced || state == TCP_ESTABLISHED;
	if (state != TCP_CLOSED)
		return;

	/* CLOSED: nothing of the connection remains but what the application
	 * may still read (pending error, EOF). */
	tcp_child_unlink(tp);
	tcp_clear_timers(st, tp);
	tcp_unhash(st, tp);
	tcp_port_put(st, tp);
	tcp_stream_purge(&st->tcp->chunks, &tp->sndq);
	tcp_ooo_purge(&st->tcp->chunks, &tp->ooo);
	tcp_recovery_put(st, tp);
	if (tp->orphan) {
		tcp_sock_free(st, tp);
		return;
	}
	tcp_wake(tp);
}

void tcp_reset_conn(struct stack *st, struct tcp_sock *tp, int err)
{
	tp->sk.err = err;
	/* RFC 9293 3.10.7.4: queued data is flushed, the user is told. */
	tcp_stream_purge(&st->tcp->chunks, &tp->rcvq);
	tcp_wake(tp);
	tcp_set_state(st, tp, TCP_CLOSED);
}

/* ---- ICMP errors ---- */

/*
 * struct net_protocol err_lookup: is the connection an ICMP error quotes
 * (pkb->data = the quoted IP header, our segment after it) on this worker?
 * The same lookup as tcp_err(); a listener or a closed socket is not the
 * connection.  If not here: the owner of the quoted ephemeral port, unless
 * a listener here has that port too (its connections are wherever their
 * SYNs arrived), else -1: any worker.
 */
bool tcp_err_lookup(struct stack *st, const struct pkb *pkb, int *owner)
{
	struct icmp_quote q;
	struct tcp_sock *tp;
	uint16_t port;

	if (!st->tcp || icmp_quote_parse(pkb->data, pkb_len(pkb), &q))
		return true;	/* tcp_err() decides */
	/* quoted as we sent it: we are its source */
	tp = tcp_lookup(st, &q.daddr, q.dport, &q.saddr, q.sport);
	if (tp && tp->state != TCP_LISTEN && tp->state != TCP_CLOSED)
		return true;
	port = ntohs(q.sport);
	if (!tp && port >= TCP_EPHEMERAL_LO && port <= TCP_EPHEMERAL_HI)
		*owner = (int)stack_port_owner(st, port);
	else
		*owner = -1;
	return false;
}

/*
 * An ICMP error about a segment we sent (RFC 1122 4.2.3.9, RFC 5927):
 * pkb->data is the quoted IP header and at least 8 bytes of our TCP header
 * (ports and sequence number).  The quoted sequence must lie in
 * [SND.UNA, SND.NXT) or the message is a forgery or stale (RFC 5927 4.1).
 */
void tcp_err(struct stack *st, struct pkb *pkb, int err, uint32_t info)
{
	uint32_t seq, mtu, hdrs, min_mtu;
	struct icmp_quote q;
	struct tcp_sock *tp;
	uint16_t mss;

	if (!st->tcp || icmp_quote_parse(pkb->data, pkb_len(pkb), &q))
		return;
	seq = q.seq;
	/* quoted as we sent it: we are its source */
	tp = tcp_lookup(st, &q.daddr, q.dport, &q.saddr, q.sport);
	if (!tp || tp->state == TCP_LISTEN || tp->state == TCP_CLOSED)
		return;
	if (tcp_before(seq, tp->snd_una) || !tcp_before(seq, tp->snd_max))
		return;

	if (err == -EMSGSIZE) {
		/* RFC 1191, RFC 8201 (packet too big): lower the MSS to the
		 * next hop's MTU less the IP and TCP headers (an old router
		 * sends 0: nothing to go by) and resend what was dropped. */
		if (tp->state == TCP_SYN_SENT || !info)
			return;
		hdrs = inet_addr_is4(&q.saddr) ? 40 : 60;
		min_mtu = inet_addr_is4(&q.saddr) ? 68 : 1280;
		mtu = info < min_mtu ? min_mtu : info;
		mss = (uint16_t)(mtu > hdrs + TCP_PMTU_MIN_MSS ? mtu - hdrs : TCP_PMTU_MIN_MSS);
		if (mss >= tp->mss)
			return;
		tp->mss = mss;
		tp->cc.mss = mss;
		STACK_INC(st, tcp_pmtu_updates);
		if (tcp_after(tp->snd_max, tp->snd_una)) {
			uint32_t n = tp->snd_max - tp->snd_una;

			tcp_retransmit(st, tp, tp->snd_una, n < mss ? n : mss);
		}
		return;
	}
	/* A connect() in progress is aborted by any of them, as Linux does
	 * (RFC 5461: not what RFC 1122 says for soft errors, but widely done,
	 * so a dead address fails fast). */
	if (tp->state == TCP_SYN_SENT) {
		if (err == -ECONNREFUSED)
			STACK_INC(st, tcp_conn_refused);
		tcp_reset_conn(st, tp, err);
		return;
	}
	/*
	 * RFC 1122 4.2.3.9: net/host unreachable (codes 0, 1, 5), time exceeded
	 * and parameter problem are soft errors: the connection MUST NOT be
	 * aborted, the information SHOULD reach the application.  Protocol and
	 * port unreachable (2, 3) are hard errors that RFC 1122 says SHOULD
	 * abort -- but for a synchronized connection RFC 5927 7 shows that this
	 * is a blind connection-reset attack (a forged ICMP needs only the
	 * 4-tuple and a sequence in flight) and recommends treating hard errors
	 * as soft ones; Linux's tcp_v4_err() does (sk_err_soft, "we will keep
	 * trying until we time out").  So every error is kept as the last soft
	 * error, and reported in place of ETIMEDOUT if the connection then
	 * times out (tcp_timer.c); an ACK that arrives clears it (tcp_ack).
	 */
	tp->soft_err = err;
	STACK_INC(st, tcp_icmp_soft_errors);
}
