// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP input (RFC 9293 3.10.7 "SEGMENT ARRIVES"), after Linux's tcp_ipv4.c
 * and tcp_input.c: header and checksum checks, option parsing, demux, and
 * the event processing of every state:
 *   - no connection: RST (3.10.7.1) on a dedicated address only;
 *   - LISTEN (3.10.7.2): children in SYN-RECEIVED on a bounded SYN queue,
 *     SYN cookies (RFC 4987) once it is full; a SYN (or the handshake's
 *     ACK) that finds the accept queue full is dropped, as in Linux;
 *   - SYN-SENT (3.10.7.3), including simultaneous open;
 *   - the synchronized states (3.10.7.4): PAWS (RFC 7323 5), the
 *     acceptability test, trimming to the window, RST and SYN with RFC 5961
 *     challenge ACKs, the RFC 5961 5.2 ACK range, then tcp_ack(), data in
 *     order into the receive stream and out of order into the bounded
 *     out-of-order queue with SACK blocks (RFC 2018), FIN and the closing
 *     states, TIME-WAIT reuse.
 * Data is copied out of the frame into chunk buffers, so every pkb is freed
 * here.  Replies go through tcp_output.c; timers through tcp_timer.c.
 * ICMP errors for our connections arrive in tcp_err().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <skiff/proto/ipv4.h>
#include <skiff/proto/ipv6.h>
#include <skiff/proto/tcp.h>

#include "core/clock.h"
#include "core/csum.h"
#include "core/handoff.h"
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ipv6.h"
#include "transport/tcp_isn.h"
#include "transport/tcp_internal.h"

#define TCP_PAWS_24DAYS_NS	(24ULL * 24 * 3600 * 1000000000ULL)	/* RFC 7323 5.5 */

/*
 * What a step of segment processing decided (RFC 9293 3.10.7): the
 * handler of a state runs its steps in order while they say CONTINUE, and
 * tcp_rcv() frees the segment or drops it counted by the context's reason.
 */
enum tcp_seg_verdict {
	TCP_SEG_CONTINUE = 0,	/* go on with the next step */
	TCP_SEG_CONSUMED,	/* the segment was used or answered: free it */
	TCP_SEG_CLOSED,		/* used, and the connection is gone: tp may be freed */
	TCP_SEG_DROP,		/* drop it, counted as ctx->reason */
};

/* One received segment on its way through the steps. */
struct tcp_rcv_ctx {
	struct tcp_seg *seg;
	const uint8_t *data;	/* the text still to take, from seq (after trimming) */
	uint32_t seq;
	uint32_t len;
	uint32_t wnd;		/* our receive window when it arrived */
	bool drop_text;		/* a zero-window probe: its ACK and RST count, not its text */
	bool fin_ok;		/* its FIN lies inside the window */
	bool fin_in_order;	/* a FIN (its own or one held out of order) is now in order */
	enum skiff_drop reason;	/* of TCP_SEG_DROP */
};

static inline enum tcp_seg_verdict tcp_seg_drop(struct tcp_rcv_ctx *c, enum skiff_drop reason)
{
	c->reason = reason;
	return TCP_SEG_DROP;
}

/*
 * Parse the options of a segment.  RFC 9293 3.2: an option of unknown kind
 * is skipped by its length; a length that is < 2 or runs past the header
 * ends parsing (what came before stays); a known option of the wrong length
 * is ignored.
 */
int tcp_parse_options(const uint8_t *opt, int len, struct tcp_seg *seg)
{
	struct tcp_opt o;
	size_t off = 0;

	seg->mss = 0;
	seg->wscale = -1;
	seg->sack_ok = false;
	seg->has_ts = false;
	seg->n_sack = 0;
	/* RFC 7323 Appendix A's layout, on nearly every segment of a
	 * timestamped connection: NOP, NOP, TS and nothing else (the general
	 * loop below reads it the same, in about five times the instructions) */
	if (len == 12 && get_be32(opt) == (TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_TS << 8 | 10)) {
		seg->has_ts = true;
		seg->ts_val = get_be32(opt + 4);
		seg->ts_ecr = get_be32(opt + 8);
		return 0;
	}
	while (len > 0 && tcp_opt_next(opt, (size_t)len, &off, &o)) {
		switch (o.kind) {
		case TCPOPT_MSS:
			if (o.len == 4 && (seg->flags & TCPF_SYN)) {
				uint16_t mss = get_be16(o.p + 2);

				/* 0: as if absent (the default applies) */
				if (mss)
					seg->mss = mss < TCP_MIN_SND_MSS ? TCP_MIN_SND_MSS : mss;
			}
			break;
		case TCPOPT_WS:
			if (o.len == 3 && (seg->flags & TCPF_SYN)) {
				/* RFC 7323 2.3: a shift above 14 is used as 14 */
				uint8_t ws = o.p[2];

				seg->wscale = (int8_t)(ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws);
			}
			break;
		case TCPOPT_SACK_OK:
			if (o.len == 2 && (seg->flags & TCPF_SYN))
				seg->sack_ok = true;
			break;
		case TCPOPT_SACK:
			if (o.len >= 10 && (o.len - 2) % 8 == 0) {
				for (int j = 2; j + 8 <= o.len && seg->n_sack < TCP_MAX_SACK_BLOCKS;
				     j += 8) {
					seg->sack[seg->n_sack].start = get_be32(o.p + j);
					seg->sack[seg->n_sack].end = get_be32(o.p + j + 4);
					seg->n_sack++;
				}
			}
			break;
		case TCPOPT_TS:
			if (o.len == 10) {
				seg->has_ts = true;
				seg->ts_val = get_be32(o.p + 2);
				seg->ts_ecr = get_be32(o.p + 6);
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

/* ---- helpers ---- */

/* Window we offered that is still open at RCV.NXT (RCV.WND). */
static uint32_t tcp_rcv_wnd_now(const struct tcp_sock *tp)
{
	int32_t w = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

	return w < 0 ? 0 : (uint32_t)w;
}

/* Our window shift for a buffer: the smallest that lets the buffer show,
 * as large as autotuning may make it unless the size is locked. */
uint8_t tcp_wscale_for(uint32_t rcvbuf, bool locked)
{
	uint8_t ws = 0;

	if (!locked && rcvbuf < TCP_RCVBUF_AUTO_MAX)
		rcvbuf = TCP_RCVBUF_AUTO_MAX;
	while (ws < TCP_MAX_WSCALE && (rcvbuf >> ws) > 65535)
		ws++;
	return ws;
}

/*
 * RFC 5961 7: "an implementation SHOULD include an ACK throttling
 * mechanism" so the challenge ACKs of sections 3-5 cannot be used to make
 * us flood.  As Linux's tcp_send_challenge_ack() (net.ipv4.
 * tcp_challenge_ack_limit, 1000): a per-stack budget refilled every second
 * to a random value in [limit/2, limit/2 + limit), drawn with the keyed
 * hash so an off-path attacker cannot count it down and read from the
 * remainder whether his guess was in the window (CVE-2016-5696, the reason
 * Linux randomised it).  What the budget refuses is counted, not sent.
 */
static bool tcp_challenge_ack_allowed(struct stack *st)
{
	struct tcp_challenge_budget *b = tcp_challenge_budget(st);
	uint64_t sec = st->now / NSEC_PER_SEC;

	if (!b->limit)
		return true;
	if (sec != b->second) {
		struct {
			uint64_t sec;
			uintptr_t st;
		} in = { sec, (uintptr_t)st };
		uint64_t r = siphash24(tcp_secret_global()->key, &in, sizeof(in));

		b->second = sec;
		b->left = (b->limit + 1) / 2 + (uint32_t)(r % b->limit);
	}
	if (!b->left)
		return false;
	b->left--;
	return true;
}

static void tcp_challenge_ack(struct stack *st, struct tcp_sock *tp)
{
	if (!tcp_challenge_ack_allowed(st)) {
		STACK_INC(st, tcp_challenge_ack_limited);
		return;
	}
	STACK_INC(st, tcp_challenge_acks);
	tcp_send_ack(st, tp);
}

/* TSval for our side that never goes below a TSecr the peer already saw. */
static void tcp_ts_offset_at_least(struct tcp_sock *tp, uint64_t now, uint32_t seen)
{
	uint32_t base;

	tp->ts_offset = 0;
	base = tcp_tsval(tp, now);
	if (tcp_after(seen, base))
		tp->ts_offset = seen - base;
}

/* Settle the options of a connection from the peer's SYN (RFC 9293 3.7.1,
 * RFC 7323 1.3/2.2, RFC 2018 2). */
static void tcp_syn_options(struct tcp_sock *tp, const struct tcp_seg *seg, uint64_t now)
{
	uint16_t peer_mss = seg->mss ? seg->mss : TCP_MSS_DEFAULT;

	tp->mss = peer_mss < tp->adv_mss ? peer_mss : tp->adv_mss;
	/* RFC 7323 2.2: scaling only when both sides sent the option. */
	if (tp->wscale_ok && seg->wscale >= 0) {
		tp->snd_wscale = (uint8_t)seg->wscale;
	} else {
		tp->wscale_ok = false;
		tp->snd_wscale = 0;
		tp->rcv_wscale = 0;
	}
	tp->sack_ok = tp->sack_ok && seg->sack_ok;
	tp->ts_ok = tp->ts_ok && seg->has_ts;
	/* RFC 3168 6.1.1: a SYN-ACK agrees to ECN with ECE alone; a SYN asks
	 * with ECE and CWR, and we agree unless SKIFF_TCP_ECN is off */
	if (seg->flags & TCPF_ACK)
		tp->ecn_ok = tp->ecn_ok && (seg->flags & (TCPF_ECE | TCPF_CWR)) == TCPF_ECE;
	else
		tp->ecn_ok = tp->ecn_mode &&
			     (seg->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR);
	if (tp->ts_ok) {
		tp->ts_recent = seg->ts_val;
		tp->ts_recent_stamp = now;
	}
}

/* A child of listener lp for seg, with the listener's settings, not hashed. */
static struct tcp_sock *tcp_child_new(struct stack *st, struct tcp_sock *lp,
				      const struct tcp_seg *seg)
{
	struct tcp_sock *c = tcp_sock_alloc(st, lp->sk.prot);

	if (!c)
		return NULL;
	tcp_timers_init(c);
	c->sk.saddr6 = seg->daddr;
	c->sk.sport = seg->dport;
	c->sk.daddr6 = seg->saddr;
	c->sk.dport = seg->sport;
	c->sk.family = lp->sk.family;	/* an IPv4 peer of a dual-stack listener: mapped */
	c->sk.v6only = lp->sk.v6only;
	sk_copy_ip_opts(&c->sk, &lp->sk);
	c->sk.rcvbuf = lp->rcvbuf;
	c->parent = lp;
	c->orphan = true;	/* no socket until accept() */
	c->sndbuf = lp->sndbuf;
	c->sndbuf_locked = lp->sndbuf_locked;
	c->rcvbuf = lp->rcvbuf;
	c->rcvbuf_locked = lp->rcvbuf_locked;
	c->nodelay = lp->nodelay;
	c->keepalive = lp->keepalive;
	c->linger_abort = lp->linger_abort;
	c->keepidle_s = lp->keepidle_s;
	c->keepintvl_s = lp->keepintvl_s;
	c->keepcnt = lp->keepcnt;
	c->ecn_mode = lp->ecn_mode;
	c->cc_ops = lp->cc_ops;
	c->adv_mss = tcp_mss_for_route(st, &seg->saddr);
	if (lp->adv_mss && lp->adv_mss < c->adv_mss && lp->adv_mss != TCP_MSS_DEFAULT)
		c->adv_mss = lp->adv_mss;	/* TCP_MAXSEG on the listener */
	c->rcv_wscale = tcp_wscale_for(c->rcvbuf, c->rcvbuf_locked);
	c->wscale_ok = true;
	c->sack_ok = true;
	c->ts_ok = true;
	tcp_port_share(c, lp);
	return c;
}

/* RFC 2018 4: the first SACK block holds the segment that arrived last, the
 * others the most recently reported ranges, as they now stand. */
static void tcp_update_sacks(struct tcp_sock *tp, uint32_t newest, bool have_newest)
{
	struct tcp_sack_block all[16], out[TCP_MAX_SACK_BLOCKS];
	int n_all, n_out = 0, i, j, k;

	n_all = tcp_ooo_blocks(&tp->ooo, all, 16);
	if (have_newest) {
		for (i = 0; i < n_all; i++) {
			if (!tcp_before(newest, all[i].start) && tcp_before(newest, all[i].end)) {
				out[n_out++] = all[i];
				break;
			}
		}
	}
	for (k = 0; k < tp->n_rcv_sacks && n_out < TCP_MAX_SACK_BLOCKS; k++) {
		uint32_t s = tp->rcvy->rcv_sacks[k].start;

		for (i = 0; i < n_all; i++) {
			if (tcp_before(s, all[i].start) || !tcp_before(s, all[i].end))
				continue;
			for (j = 0; j < n_out; j++)
				if (out[j].start == all[i].start)
					break;
			if (j == n_out)
				out[n_out++] = all[i];
			break;
		}
	}
	/* without a recovery block (the pool refused one) none is reported */
	if (n_out && !tcp_recovery_get(tp->st, tp))
		n_out = 0;
	if (n_out)
		memcpy(tp->rcvy->rcv_sacks, out, sizeof(out[0]) * (size_t)n_out);
	tp->n_rcv_sacks = (uint8_t)n_out;
}

/* ---- no connection (RFC 9293 3.10.7.1) ---- */

/*
 * No connection here for a segment to one of skiff's ephemeral ports that
 * another worker allocates: the connection is that worker's (RSS brought
 * the reply to our queue), so the frame goes to it (core/handoff.h) rather
 * than being answered with a RST that would kill the connection.  true:
 * pkb was taken.
 */
static bool tcp_handoff(struct stack *st, struct pkb *pkb, const struct tcp_seg *seg)
{
	uint16_t port = ntohs(seg->dport);

	if (port < TCP_EPHEMERAL_LO || port > TCP_EPHEMERAL_HI)
		return false;
	return handoff_rx(st, pkb, port);
}

static enum tcp_seg_verdict tcp_no_conn(struct stack *st, struct pkb *pkb, struct tcp_rcv_ctx *c)
{
	const struct tcp_seg *seg = c->seg;
	const struct stack_addr *local;

	if (seg->flags & TCPF_RST)
		return tcp_seg_drop(c, SKIFF_DROP_tcp_no_port);	/* "an incoming segment containing a RST is discarded" */
	/*
	 * On a shared address the kernel owns every port we do not: a segment
	 * reaches us only in a race with a close, so stay silent.  Never
	 * answer a broadcast or multicast (RFC 1122 4.2.3.10).
	 */
	if (!inet_addr_is4(&seg->daddr)) {
		const struct stack_addr6 *local6 = stack_find_addr6(st, seg->daddr.b);

		/* unicast only reaches us over IPv6 (net/ipv6.c) */
		if (local6 && local6->dedicated && pkb->pkt_type == PKB_HOST) {
			tcp_send_reset_for(st, seg);
			STACK_INC(st, tcp_rst_noconn);
			STACK_INC(st, tcp6_rst_sent);
		}
		return tcp_seg_drop(c, SKIFF_DROP_tcp_no_port);
	}
	local = stack_find_addr(st, seg->daddr.w[3]);
	if (local && local->dedicated && pkb->pkt_type == PKB_HOST) {
		tcp_send_reset_for(st, seg);
		STACK_INC(st, tcp_rst_noconn);
	}
	return tcp_seg_drop(c, SKIFF_DROP_tcp_no_port);
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ---- */

/* RFC 4987: answer a SYN with a cookie SYN-ACK and keep no state.  The
 * SYN-ACK is built by tcp_send_syn() from a transient object that is never
 * hashed, has no buffers and no timer left armed. */
static void tcp_send_cookie(struct stack *st, struct tcp_sock *lp, const struct tcp_seg *seg)
{
	struct tcp_cookie_opts o;
	struct tcp_sock tmp;
	uint16_t adv_mss = tcp_mss_for_route(st, &seg->saddr);
	uint16_t peer_mss = seg->mss ? seg->mss : TCP_MSS_DEFAULT;
	uint32_t cookie, base;

	memset(&o, 0, sizeof(o));
	o.mss = peer_mss < adv_mss ? peer_mss : adv_mss;
	o.wscale_ok = seg->wscale >= 0;
	o.wscale = o.wscale_ok ? (uint8_t)seg->wscale : 0;
	o.sack_ok = seg->sack_ok;
	o.ts_ok = seg->has_ts;
	cookie = tcp_cookie_make(tcp_secret_global(), &seg->daddr, &seg->saddr, seg->dport,
				 seg->sport, seg->seq, &o, st->now);

	memset(&tmp, 0, sizeof(tmp));
	tmp.sk.prot = lp->sk.prot;
	tmp.sk.stack = st;
	tmp.st = st;
	tmp.sk.saddr6 = seg->daddr;
	tmp.sk.sport = seg->dport;
	tmp.sk.daddr6 = seg->saddr;
	tmp.sk.dport = seg->sport;
	sk_copy_ip_opts(&tmp.sk, &lp->sk);
	tmp.state = TCP_SYN_RECEIVED;
	tmp.iss = cookie;
	tmp.snd_una = tmp.snd_nxt = tmp.snd_max = cookie;
	tmp.write_seq = cookie + 1;
	tmp.irs = seg->seq;
	tmp.rcv_nxt = seg->seq + 1;
	tmp.rcv_wup = tmp.rcv_nxt;
	tmp.rcvbuf = lp->rcvbuf;
	tmp.sndbuf = lp->sndbuf;
	tmp.rcv_wnd = lp->rcvbuf < 65535 ? lp->rcvbuf : 65535;
	tmp.adv_mss = adv_mss;
	tmp.mss = o.mss;
	tmp.cc_ops = lp->cc_ops;
	tmp.wscale_ok = o.wscale_ok;
	tmp.snd_wscale = o.wscale;
	tmp.rcv_wscale = o.wscale_ok ? tcp_wscale_for(lp->rcvbuf, lp->rcvbuf_locked) : 0;
	tmp.sack_ok = o.sack_ok;
	tmp.ts_ok = o.ts_ok;
	tmp.ts_recent = seg->ts_val;
	tmp.ts_recent_stamp = st->now;
	tmp.orphan = true;
	tcp_timers_init(&tmp);
	if (o.ts_ok) {
		/* the options travel in the low bits of our TSval */
		base = tcp_tsval(&tmp, st->now);
		tmp.ts_offset = tcp_cookie_tsval(base, &o) - base;
	}
	tcp_send_syn(st, &tmp);
	tcp_clear_timers(st, &tmp);
	STACK_INC(st, tcp_syncookies_sent);
}

/*
 * Our SYN is acknowledged (RFC 9293 3.10.7.3 / 3.10.7.4 SYN-RECEIVED):
 * take the peer's window (wnd already scaled as the state requires), set
 * SND.WL1/WL2, start congestion control and enter ESTABLISHED.
 */
static void tcp_established(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
			    uint32_t wnd)
{
	tp->snd_una = seg->ack;
	if (tcp_before(tp->snd_nxt, seg->ack))
		tp->snd_nxt = seg->ack;
	tp->snd_wnd = wnd;
	tp->max_snd_wnd = wnd;
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = seg->ack;
	tp->backoff = 0;
	tp->retries = 0;
	tcp_cong_init(tp, st->now);
	tcp_set_state(st, tp, TCP_ESTABLISHED);
}

/* The established child for the ACK of a cookie, or NULL (reason set). */
static struct tcp_sock *tcp_cookie_child(struct stack *st, struct tcp_sock *lp,
					 const struct tcp_seg *seg, enum skiff_drop *reason)
{
	struct tcp_cookie_opts o;
	struct tcp_sock *c;

	if (lp->lq->accept_qlen >= lp->lq->backlog) {
		*reason = SKIFF_DROP_tcp_accept_full;	/* the peer will retransmit */
		return NULL;
	}
	if (tcp_cookie_check(tcp_secret_global(), &seg->daddr, &seg->saddr, seg->dport, seg->sport,
			     seg->seq - 1, seg->ack - 1, seg->has_ts, seg->ts_ecr, &o, st->now)) {
		*reason = SKIFF_DROP_tcp_cookie_bad;
		return NULL;
	}
	c = tcp_child_new(st, lp, seg);
	if (!c) {
		*reason = SKIFF_DROP_tcp_listen_drop;
		return NULL;
	}
	c->irs = seg->seq - 1;
	c->rcv_nxt = seg->seq;
	c->rcv_wup = seg->seq;
	c->iss = seg->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = seg->ack;
	c->write_seq = seg->ack;
	c->mss = o.mss < c->adv_mss ? o.mss : c->adv_mss;
	c->wscale_ok = o.wscale_ok;
	c->snd_wscale = o.wscale_ok ? o.wscale : 0;
	c->rcv_wscale = o.wscale_ok ? tcp_wscale_for(c->rcvbuf, c->rcvbuf_locked) : 0;
	c->sack_ok = o.sack_ok;
	c->ts_ok = o.ts_ok && seg->has_ts;
	if (c->ts_ok) {
		c->ts_recent = seg->ts_val;
		c->ts_recent_stamp = st->now;
		tcp_ts_offset_at_least(c, st->now, seg->ts_ecr);
	}
	c->rcv_wnd = c->rcvbuf < (65535u << c->rcv_wscale) ? c->rcvbuf : 65535u << c->rcv_wscale;
	c->cc.mss = c->mss;
	tcp_established(st, c, seg, seg->wnd << c->snd_wscale);
	tcp_hash(st, c);
	tcp_accept_enqueue(st, c);
	STACK_INC(st, tcp_syncookies_ok);
	STACK_INC(st, tcp_passive_opens);
	return c;
}

static enum tcp_seg_verdict tcp_rcv_synchronized(struct stack *st, struct tcp_sock *tp,
						 struct tcp_rcv_ctx *c);

static enum tcp_seg_verdict tcp_listen_rcv(struct stack *st, struct tcp_sock *lp,
					   struct tcp_rcv_ctx *ctx)
{
	const struct tcp_seg *seg = ctx->seg;
	enum skiff_drop reason;
	struct tcp_sock *c;

	/* first, check for an RST: ignore it */
	if (seg->flags & TCPF_RST)
		return tcp_seg_drop(ctx, SKIFF_DROP_tcp_listen_drop);
	/* second, an ACK: bad in LISTEN, unless it returns one of our cookies */
	if (seg->flags & TCPF_ACK) {
		if (seg->flags & TCPF_SYN) {
			tcp_send_reset_for(st, seg);
			return tcp_seg_drop(ctx, SKIFF_DROP_tcp_listen_drop);
		}
		c = tcp_cookie_child(st, lp, seg, &reason);
		if (!c) {
			if (reason == SKIFF_DROP_tcp_cookie_bad) {
				tcp_send_reset_for(st, seg);
				STACK_INC(st, tcp_rst_noconn);
			}
			return tcp_seg_drop(ctx, reason);
		}
		/* data or FIN riding on the third segment: process as established */
		return tcp_rcv_synchronized(st, c, ctx);
	}
	/* third, a SYN */
	if (!(seg->flags & TCPF_SYN))
		return tcp_seg_drop(ctx, SKIFF_DROP_tcp_listen_drop);

	/* A full accept queue means the application is not accepting (or
	 * is at its own connection limit): the SYN is dropped and the peer
	 * retransmits it, as Linux does (tcp_conn_request, ListenOverflows).
	 * A cookie would tell the peer it is connected to a server that then
	 * ignores it, and the cookie expires while it waits. */
	if (lp->lq->accept_qlen >= lp->lq->backlog)
		return tcp_seg_drop(ctx, SKIFF_DROP_tcp_accept_full);
	/* RFC 4987: beyond the SYN queue a SYN is answered with a cookie, so a
	 * flood never keeps a legitimate peer out. */
	if (lp->lq->syn_qlen >= tcp_max_syn_backlog(st)) {
		tcp_send_cookie(st, lp, seg);
		return TCP_SEG_CONSUMED;
	}
	c = tcp_child_new(st, lp, seg);
	if (!c) {
		tcp_send_cookie(st, lp, seg);	/* out of memory: stateless still works */
		return TCP_SEG_CONSUMED;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_wup = c->rcv_nxt;
	tcp_syn_options(c, seg, st->now);
	c->iss = tcp_isn_ts(tcp_secret_global(), &seg->daddr, &seg->saddr, seg->dport, seg->sport,
			    st->now, &c->ts_offset);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->write_seq = c->iss + 1;
	/* RFC 7323 2.2: the window of a SYN is never scaled */
	c->snd_wnd = seg->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	c->rcv_wnd = c->rcvbuf < 65535 ? c->rcvbuf : 65535;
	c->cc.mss = c->mss;
	tcp_set_state(st, c, TCP_SYN_RECEIVED);
	lp->lq->syn_qlen++;
	tcp_hash(st, c);
	STACK_INC(st, tcp_passive_opens);
	tcp_send_syn(st, c);
	return TCP_SEG_CONSUMED;
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ---- */

static enum tcp_seg_verdict tcp_syn_sent_rcv(struct stack *st, struct tcp_sock *tp,
					     struct tcp_rcv_ctx *c)
{
	struct tcp_seg *seg = c->seg;
	bool ack_ok = false;

	/* first, the ACK bit: it must acknowledge our SYN */
	if (seg->flags & TCPF_ACK) {
		if (!tcp_after(seg->ack, tp->iss) || tcp_after(seg->ack, tp->snd_max)) {
			if (!(seg->flags & TCPF_RST))
				tcp_send_reset_for(st, seg);
			return tcp_seg_drop(c, SKIFF_DROP_tcp_ack_range);
		}
		ack_ok = true;
	}
	/* second, RST: with an acceptable ACK the connection is refused
	 * (RFC 5961 3.2: without one, ignored) */
	if (seg->flags & TCPF_RST) {
		if (!ack_ok)
			return tcp_seg_drop(c, SKIFF_DROP_tcp_rst_ignored);
		STACK_INC(st, tcp_conn_refused);
		tcp_reset_conn(st, tp, -ECONNREFUSED);
		return TCP_SEG_CLOSED;
	}
	/* fourth, SYN */
	if (!(seg->flags & TCPF_SYN))
		return tcp_seg_drop(c, SKIFF_DROP_tcp_closed_state);

	tp->irs = seg->seq;
	tp->rcv_nxt = seg->seq + 1;
	tp->rcv_wup = tp->rcv_nxt;
	tcp_syn_options(tp, seg, st->now);
	tp->cc.mss = tp->mss;
	if (ack_ok) {
		/* our SYN is acknowledged: ESTABLISHED */
		tcp_established(st, tp, seg, seg->wnd);	/* RFC 7323 2.2: not scaled in a SYN */
		tcp_rearm_rto(st, tp);
		tp->last_rcv_ns = st->now;
		if (tp->keepalive)
			tcp_reset_keepalive(st, tp);
		tcp_ack_soon(st, tp);	/* or with the first request */
		tcp_wake(tp);	/* connect() completed: writable */
		if (seg->len || (seg->flags & TCPF_FIN)) {
			/* "continue processing at the sixth step": text and FIN */
			seg->seq++;	/* past the SYN */
			seg->flags &= (uint8_t)~TCPF_SYN;
			return tcp_rcv_synchronized(st, tp, c);
		}
		return TCP_SEG_CONSUMED;
	}
	/* simultaneous open: SYN-RECEIVED, answer SYN-ACK (same ISS) */
	tp->snd_wnd = seg->wnd;
	tp->max_snd_wnd = tp->snd_wnd;
	tp->snd_wl1 = seg->seq;
	tcp_set_state(st, tp, TCP_SYN_RECEIVED);
	tp->snd_nxt = tp->iss;
	tcp_send_syn(st, tp);
	return TCP_SEG_CONSUMED;
}

/* ---- synchronized states (RFC 9293 3.10.7.4) ---- */

/*
 * A FIN that arrived beyond a hole (RFC 9293 3.10.7.4 eighth step: "If the
 * FIN bit is set [and] ... not in sequence, do not process it"): remember
 * where it is, as Linux keeps the FIN with its segment in the out-of-order
 * queue, and process it once RCV.NXT reaches it -- the peer does not have
 * to send it again.  tcp_buf.c's queue keeps bytes only, so the FIN's
 * place is kept here.  A later FIN at another place (a confused peer)
 * replaces it.
 */
static void tcp_ooo_fin_note(struct stack *st, struct tcp_sock *tp, uint32_t fin_seq)
{
	if (!tp->ooo_fin || tp->ooo_fin_seq != fin_seq)
		STACK_INC(st, tcp_ooo_fins);
	tp->ooo_fin = true;
	tp->ooo_fin_seq = fin_seq;
}

/* After RCV.NXT moved: true (and forgotten) when a remembered FIN is now
 * in order; one that RCV.NXT passed (data beyond it) is forgotten. */
static bool tcp_ooo_fin_ready(struct tcp_sock *tp)
{
	if (!tp->ooo_fin || tcp_before(tp->rcv_nxt, tp->ooo_fin_seq))
		return false;
	tp->ooo_fin = false;
	return tp->rcv_nxt == tp->ooo_fin_seq;
}

/*
 * RFC 2883: report a duplicate [start, end) as the first SACK block of the
 * next segment we send (tcp_output.c clears it once sent).  Only with SACK
 * (RFC 2883 4: a D-SACK is a SACK block).  It lets the sender see that a
 * retransmission was spurious, and Linux's sender uses it to detect
 * reordering (tcp_check_dsack) and undo its window reduction.
 */
static void tcp_dsack_set(struct stack *st, struct tcp_sock *tp, uint32_t start, uint32_t end)
{
	if (!tp->sack_ok || !tcp_before(start, end))
		return;
	if (!tcp_recovery_get(st, tp))
		return; /* counted tcp_recovery_nomem; not reported */
	tp->rcvy->dsack.start = start;
	tp->rcvy->dsack.end = end;
	tp->dsack_pending = true;
	STACK_INC(st, tcp_dsacks);
}

/* A segment with text below RCV.NXT that is dropped (old duplicate, PAWS):
 * its old part is the duplicate (as Linux's tcp_send_dupack). */
static void tcp_dsack_old(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t end = seg->seq + seg->len;

	if (!seg->len || !tcp_before(seg->seq, tp->rcv_nxt))
		return;
	tcp_dsack_set(st, tp, seg->seq, tcp_before(end, tp->rcv_nxt) ? end : tp->rcv_nxt);
}

/* RFC 2883 4.2: data beyond RCV.NXT that we already hold out of order is a
 * duplicate too; the block holding it then comes second (tcp_update_sacks
 * puts the block of the newest segment first among the normal blocks). */
static void tcp_dsack_ooo(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t len)
{
	struct tcp_sack_block held[16];
	uint32_t end = seq + len;
	int n, i;

	if (!tp->sack_ok || !tp->ooo.nsegs)
		return;
	n = tcp_ooo_blocks(&tp->ooo, held, 16);
	for (i = 0; i < n; i++) {
		uint32_t s = tcp_after(held[i].start, seq) ? held[i].start : seq;
		uint32_t e = tcp_before(held[i].end, end) ? held[i].end : end;

		if (tcp_before(s, e)) {
			tcp_dsack_set(st, tp, s, e);
			return;
		}
	}
}

/*
 * RFC 1122 4.2.3.2 "full-sized" segment: the largest received so far (up
 * to the MSS we announced), since the peer's options (timestamps: 12 bytes)
 * come out of each segment's MSS: Linux's tcp_measure_rcv_mss.
 */
static bool tcp_rcv_full_segment(struct tcp_sock *tp, uint32_t len)
{
	if (len > tp->rcv_mss)
		tp->rcv_mss = (uint16_t)(len < tp->adv_mss ? len : tp->adv_mss);
	return len >= tp->rcv_mss;
}

/* Text of an acceptable, trimmed segment: in order into rcvq, else the
 * out-of-order queue.  fin: the segment's FIN is inside the window.
 * Returns true when a FIN (this segment's, or one held out of order) is now
 * in order; the caller's tcp_fin() then sends the ACK. */
static bool tcp_data_queue(struct stack *st, struct tcp_sock *tp, uint32_t seq,
			   const uint8_t *data, uint32_t len, bool fin)
{
	struct tcp_chunk_pool *pool = tcp_chunks(st);
	uint32_t room, n, had_ooo;

	if (seq == tp->rcv_nxt) {
		room = tp->rcvq.len < tp->rcvbuf ? tp->rcvbuf - tp->rcvq.len : 0;
		n = len < room ? len : room;
		if (n)
			n = (uint32_t)tcp_stream_append(pool, &tp->rcvq, data, n);
		tp->rcv_nxt += n;
		if (n < len)
			STACK_INC(st, drop.tcp_rcvbuf);	/* beyond the buffer: the peer resends */
		had_ooo = tp->ooo.bytes;
		if (had_ooo) {
			tcp_ooo_drain(pool, &tp->ooo, &tp->rcv_nxt, &tp->rcvq);
			tcp_update_sacks(tp, 0, false);
		}
		if (n)
			tcp_wake(tp);
		if ((n == len && fin && tp->rcv_nxt == seq + len) || tcp_ooo_fin_ready(tp))
			return true;	/* tcp_fin() ACKs */
		/* RFC 5681 4.2: ACK at once when a hole is filled (or partly) */
		if (had_ooo || tp->n_rcv_sacks)
			tcp_send_ack(st, tp);
		else if (n)
			tcp_ack_schedule(st, tp, tcp_rcv_full_segment(tp, n));
		return false;
	}

	/* out of order: keep it (bounded by the free buffer), report it by
	 * SACK and ACK at once so the sender sees the hole (RFC 5681 4.2) */
	room = tp->rcvbuf > tp->rcvq.len ? tp->rcvbuf - tp->rcvq.len : 0;
	tcp_dsack_ooo(st, tp, seq, len);
	if (tcp_ooo_insert(pool, &tp->ooo, seq, data, len, room) < 0) {
		STACK_INC(st, drop.tcp_ooo_full);	/* its tail (and FIN) is resent */
	} else {
		STACK_INC(st, tcp_ooo_segs);
		if (fin)
			tcp_ooo_fin_note(st, tp, seq + len);
	}
	tcp_update_sacks(tp, seq, true);
	tcp_send_ack(st, tp);
	return false;
}

/* RFC 9293 3.10.7.4 "eighth, check the FIN bit" (FIN now in order). */
static void tcp_fin(struct stack *st, struct tcp_sock *tp)
{
	tp->rcv_nxt++;
	tp->fin_rcvd = true;
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(st, tp, TCP_CLOSE_WAIT);
		tcp_ack_soon(st, tp);	/* or with our FIN, if the application closes */
		tcp_wake(tp);
		return;
	case TCP_FIN_WAIT_1:
		/* our FIN not yet acked: simultaneous close */
		tcp_set_state(st, tp, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_send_ack(st, tp);
		tcp_set_state(st, tp, TCP_TIME_WAIT);
		tcp_enter_time_wait(st, tp);
		tcp_wake(tp);
		return;
	default:
		break;
	}
	tcp_send_ack(st, tp);
	tcp_wake(tp);
}

/* TIME-WAIT and a new SYN: RFC 6191 (timestamps) / RFC 1122 4.2.2.13
 * (sequence above the old one) allow reuse.  Returns the listener to hand
 * the SYN to, or NULL. */
static struct tcp_sock *tcp_tw_reuse(struct stack *st, struct tcp_sock *tp,
				     const struct tcp_seg *seg)
{
	bool newer;

	if (!tp->orphan)
		return NULL;
	if (tp->ts_ok && seg->has_ts)
		newer = tcp_after(seg->ts_val, tp->ts_recent);
	else
		newer = tcp_after(seg->seq, tp->rcv_nxt);
	if (!newer)
		return NULL;
	tcp_set_state(st, tp, TCP_CLOSED);	/* frees the orphan */
	STACK_INC(st, tcp_tw_reuse);
	tp = tcp_lookup(st, &seg->saddr, seg->sport, &seg->daddr, seg->dport);
	return tp && tp->state == TCP_LISTEN ? tp : NULL;
}

/*
 * RFC 7323 5.3 (and its note on ACKs overtaking each other), as Linux's
 * tcp_disordered_ack(): a pure ACK whose timestamp is older than TS.Recent
 * only because a later ACK overtook it on the path is no old duplicate
 * from a previous incarnation.  Dropping it would lose its SACK blocks (and
 * its duplicate-ACK count) when the path reorders.  Exempt from PAWS is a
 * segment that is all of:
 *   - a pure ACK (no text, SYN or FIN) at exactly RCV.NXT,
 *   - a duplicate ACK: SEG.ACK = SND.UNA,
 *   - the send window unchanged, SEG.SEQ not past SND.WL1 (no window
 *     update, RFC 9293 3.10.7.4),
 *   - at most one RTO older than TS.Recent (our TS clock ticks in ms).
 * Everything else with an old timestamp is still dropped.  The exempt ACK
 * never moves TS.Recent back (RFC 7323 4.3 needs SEG.TSval >= TS.Recent).
 */
static bool tcp_disordered_ack(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t wnd = seg->wnd << tp->snd_wscale;

	if (tp->state == TCP_SYN_RECEIVED || !(seg->flags & TCPF_ACK) ||
	    (seg->flags & (TCPF_SYN | TCPF_FIN)) || seg->len || seg->seq != tp->rcv_nxt ||
	    seg->ack != tp->snd_una)
		return false;
	/* the window it carries is the one in use (tcp_ack() would take an
	 * older, smaller one from SEG.SEQ = SND.WL1), and it is no newer */
	if (tcp_after(seg->seq, tp->snd_wl1) || wnd != tp->snd_wnd)
		return false;
	return (uint64_t)(tp->ts_recent - seg->ts_val) <= tp->rto_ns / NSEC_PER_MSEC;
}

/* SYN-RECEIVED and the peer's SYN again (our SYN-ACK was lost): the
 * SYN-ACK again. */
static enum tcp_seg_verdict tcp_seg_dup_syn(struct stack *st, struct tcp_sock *tp,
					    const struct tcp_rcv_ctx *c)
{
	const struct tcp_seg *seg = c->seg;

	if (tp->state != TCP_SYN_RECEIVED || !(seg->flags & TCPF_SYN) ||
	    (seg->flags & (TCPF_ACK | TCPF_RST)) || seg->seq != tp->irs)
		return TCP_SEG_CONTINUE;
	tp->snd_nxt = tp->iss;
	tcp_send_syn(st, tp);
	return TCP_SEG_CONSUMED;
}

/* RFC 7323 5.3 R1, PAWS: a timestamp older than TS.Recent (that is not 24
 * days stale, 5.5) marks an old duplicate: ACK and drop -- unless it is a
 * disordered duplicate ACK (tcp_disordered_ack). */
static enum tcp_seg_verdict tcp_seg_paws(struct stack *st, struct tcp_sock *tp,
					 struct tcp_rcv_ctx *c)
{
	const struct tcp_seg *seg = c->seg;

	if (!tp->ts_ok || !seg->has_ts || (seg->flags & TCPF_RST) ||
	    !tcp_before(seg->ts_val, tp->ts_recent) ||
	    st->now - tp->ts_recent_stamp >= TCP_PAWS_24DAYS_NS)
		return TCP_SEG_CONTINUE;
	if (tcp_disordered_ack(tp, seg)) {
		STACK_INC(st, tcp_disordered_acks);
		return TCP_SEG_CONTINUE;
	}
	tcp_dsack_old(st, tp, seg);
	tcp_send_ack(st, tp);
	return tcp_seg_drop(c, SKIFF_DROP_tcp_paws);
}

/*
 * RFC 9293 3.10.7.4 first, the acceptability test:
 *   len 0, wnd 0:   SEG.SEQ = RCV.NXT
 *   len 0, wnd >0:  RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   len >0, wnd 0:  not acceptable
 *   len >0, wnd >0: the first or the last byte inside the window
 * "If the RCV.WND is zero ... special allowance should be made to accept
 * valid ACKs, URGs, and RSTs": a segment at RCV.NXT with a zero window (a
 * window probe) has its ACK and RST used, its text dropped and answered
 * with an ACK (c->drop_text).
 */
static bool tcp_seg_acceptable(const struct tcp_sock *tp, struct tcp_rcv_ctx *c)
{
	uint32_t seq = c->seq, wnd = c->wnd, seg_len = c->seg->end_seq - c->seg->seq;

	if (seg_len == 0) {
		if (wnd == 0)
			return seq == tp->rcv_nxt;
		return !tcp_before(seq, tp->rcv_nxt) && tcp_before(seq, tp->rcv_nxt + wnd);
	}
	if (wnd == 0) {
		c->drop_text = seq == tp->rcv_nxt;
		return c->drop_text;
	}
	return (!tcp_before(seq, tp->rcv_nxt) && tcp_before(seq, tp->rcv_nxt + wnd)) ||
	       (!tcp_before(seq + seg_len - 1, tp->rcv_nxt) &&
		tcp_before(seq + seg_len - 1, tp->rcv_nxt + wnd));
}

/* RFC 9293 3.10.7.4 first, check the sequence number: an unacceptable
 * segment is answered with an ACK (a RST is dropped silently, RFC 5961
 * 3.2); an acceptable one updates TS.Recent (RFC 7323 4.3). */
static enum tcp_seg_verdict tcp_seg_check_seq(struct stack *st, struct tcp_sock *tp,
					      struct tcp_rcv_ctx *c)
{
	const struct tcp_seg *seg = c->seg;

	if (!tcp_seg_acceptable(tp, c)) {
		if (seg->flags & TCPF_RST)
			return tcp_seg_drop(c, SKIFF_DROP_tcp_rst_ignored);
		tcp_dsack_old(st, tp, seg);
		tcp_send_ack(st, tp);
		/* TIME-WAIT: the peer's FIN again restarts the 2 MSL timeout */
		if (tp->state == TCP_TIME_WAIT && (seg->flags & TCPF_FIN))
			tcp_enter_time_wait(st, tp);
		return tcp_seg_drop(c, SKIFF_DROP_tcp_not_acceptable);
	}
	/* RFC 7323 4.3: TS.Recent follows the segment covering Last.ACK.sent */
	if (tp->ts_ok && seg->has_ts && !tcp_before(seg->ts_val, tp->ts_recent) &&
	    !tcp_after(c->seq, tp->rcv_wup)) {
		tp->ts_recent = seg->ts_val;
		tp->ts_recent_stamp = st->now;
	}
	tp->last_rcv_ns = st->now;
	return TCP_SEG_CONTINUE;
}

/* RFC 9293 3.10.7.4 second, check the RST bit; RFC 5961 3.2: a RST is
 * acted on only at exactly RCV.NXT, in the window it earns a challenge ACK. */
static enum tcp_seg_verdict tcp_seg_check_rst(struct stack *st, struct tcp_sock *tp,
					      struct tcp_rcv_ctx *c)
{
	if (!(c->seg->flags & TCPF_RST))
		return TCP_SEG_CONTINUE;
	if (c->seq != tp->rcv_nxt) {
		tcp_challenge_ack(st, tp);
		return tcp_seg_drop(c, SKIFF_DROP_tcp_rst_ignored);
	}
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
		/* passive: back to LISTEN, i.e. the child goes; active: refused */
		if (!tp->parent)
			STACK_INC(st, tcp_conn_refused);
		tcp_reset_conn(st, tp, tp->parent ? -ECONNRESET : -ECONNREFUSED);
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		STACK_INC(st, tcp_estab_resets);
		tcp_reset_conn(st, tp, -ECONNRESET);
		break;
	default: /* CLOSING, LAST-ACK, TIME-WAIT */
		tcp_set_state(st, tp, TCP_CLOSED);
		break;
	}
	return TCP_SEG_CLOSED;
}

/* RFC 9293 3.10.7.4 fourth, check the SYN bit; RFC 5961 4.2: a SYN in a
 * synchronized state gets a challenge ACK. */
static enum tcp_seg_verdict tcp_seg_check_syn(struct stack *st, struct tcp_sock *tp,
					      struct tcp_rcv_ctx *c)
{
	if (!(c->seg->flags & TCPF_SYN))
		return TCP_SEG_CONTINUE;
	tcp_challenge_ack(st, tp);
	return tcp_seg_drop(c, SKIFF_DROP_tcp_syn_challenged);
}

/* RFC 9293 3.10.7.4 first (its end): trim the segment to the window, the
 * old duplicate part, then what lies beyond. */
static void tcp_seg_trim(struct stack *st, struct tcp_sock *tp, struct tcp_rcv_ctx *c)
{
	if (tcp_before(c->seq, tp->rcv_nxt)) {
		uint32_t dup = tp->rcv_nxt - c->seq;

		/* RFC 2883 4.1.1/4.1.2: the old part is a duplicate; ACK at once */
		if (c->len && !c->drop_text) {
			tcp_dsack_set(st, tp, c->seq, c->seq + (dup < c->len ? dup : c->len));
			tp->ack_now = true;
		}
		dup = dup < c->len ? dup : c->len;
		c->data += dup;
		c->len -= dup;
		c->seq = tp->rcv_nxt;
	}
	c->fin_ok = (c->seg->flags & TCPF_FIN) && !c->drop_text;
	if (c->drop_text) {
		c->len = 0;
	} else if (c->len && tcp_after(c->seq + c->len, tp->rcv_nxt + c->wnd)) {
		c->len = tp->rcv_nxt + c->wnd - c->seq;
		c->fin_ok = false; /* the FIN lies beyond the window too */
	}
}

/* RFC 3168 6.1.3: the sender's CWR ends our ECN-Echo; data marked CE
 * starts it (and is answered at once, as Linux does). */
static void tcp_seg_ecn(struct stack *st, struct tcp_sock *tp, const struct tcp_rcv_ctx *c)
{
	if (!tp->ecn_ok)
		return;
	if (c->seg->flags & TCPF_CWR)
		tp->ecn_ece = false;
	if (c->seg->ce && c->len) {
		tp->ecn_ece = true;
		tp->ack_now = true;
		STACK_INC(st, tcp_ecn_ce_rx);
	}
}

/* RFC 9293 3.10.7.4 fifth, SYN-RECEIVED: an ACK of our SYN establishes
 * the connection (a passive one goes to its listener's accept queue). */
static enum tcp_seg_verdict tcp_seg_ack_syn_recv(struct stack *st, struct tcp_sock *tp,
						 struct tcp_rcv_ctx *c)
{
	const struct tcp_seg *seg = c->seg;

	if (!tcp_after(seg->ack, tp->snd_una) || tcp_after(seg->ack, tp->snd_max)) {
		tcp_send_reset_for(st, seg);
		return tcp_seg_drop(c, SKIFF_DROP_tcp_ack_range);
	}
	if (tp->parent && tp->parent->lq->accept_qlen >= tp->parent->lq->backlog)
		return tcp_seg_drop(c, SKIFF_DROP_tcp_accept_full); /* stays embryonic; peer resends */
	tcp_established(st, tp, seg, seg->wnd << tp->snd_wscale);
	tcp_rearm_rto(st, tp);
	if (tp->keepalive)
		tcp_reset_keepalive(st, tp);
	if (tp->parent)
		tcp_accept_enqueue(st, tp);
	else
		tcp_wake(tp); /* simultaneous open completed */
	return TCP_SEG_CONTINUE;
}

/* RFC 9293 3.10.7.4 fifth, FIN-WAIT-1, CLOSING, LAST-ACK: the ACK of our
 * FIN moves the state on. */
static enum tcp_seg_verdict tcp_seg_fin_acked(struct stack *st, struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_FIN_WAIT_1:
		tcp_set_state(st, tp, TCP_FIN_WAIT_2);
		if (tp->orphan)
			tcp_reset_keepalive(st, tp); /* FIN-WAIT-2 timeout */
		tcp_wake(tp);
		return TCP_SEG_CONTINUE;
	case TCP_CLOSING:
		tcp_set_state(st, tp, TCP_TIME_WAIT);
		tcp_enter_time_wait(st, tp);
		tcp_wake(tp);
		return TCP_SEG_CONSUMED;
	case TCP_LAST_ACK:
		tcp_set_state(st, tp, TCP_CLOSED); /* may free tp */
		return TCP_SEG_CLOSED;
	default:
		return TCP_SEG_CONTINUE;
	}
}

/* RFC 9293 3.10.7.4 fifth, check the ACK field. */
static enum tcp_seg_verdict tcp_seg_check_ack(struct stack *st, struct tcp_sock *tp,
					      struct tcp_rcv_ctx *c)
{
	const struct tcp_seg *seg = c->seg;
	enum tcp_seg_verdict v;

	if (!(seg->flags & TCPF_ACK))
		return tcp_seg_drop(c, SKIFF_DROP_tcp_no_ack);
	if (tp->state == TCP_SYN_RECEIVED)
		return tcp_seg_ack_syn_recv(st, tp, c);
	/* RFC 5961 5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT */
	if (tcp_after(seg->ack, tp->snd_max) ||
	    tcp_before(seg->ack, tp->snd_una - tp->max_snd_wnd)) {
		tcp_challenge_ack(st, tp);
		return tcp_seg_drop(c, SKIFF_DROP_tcp_ack_range);
	}
	tp->soft_err = 0; /* something got through (as Linux's tcp_ack) */
	if (tcp_ack(st, tp, seg))
		tcp_wake(tp);
	if (tp->fin_sent && !tcp_before(seg->ack, tp->write_seq + 1)) {
		v = tcp_seg_fin_acked(st, tp);
		if (v != TCP_SEG_CONTINUE)
			return v;
	}
	if (tp->state == TCP_TIME_WAIT) {
		/* only the peer's FIN again: ACK it, restart the 2 MSL */
		if (seg->flags & TCPF_FIN) {
			tcp_send_ack(st, tp);
			tcp_enter_time_wait(st, tp);
		}
		return TCP_SEG_CONSUMED;
	}
	return TCP_SEG_CONTINUE;
}

/* RFC 9293 3.10.7.4 seventh, process the segment text. */
static enum tcp_seg_verdict tcp_seg_text(struct stack *st, struct tcp_sock *tp,
					 struct tcp_rcv_ctx *c)
{
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		if (!c->len)
			return TCP_SEG_CONTINUE;
		if ((tp->orphan && !tp->parent) || tp->rd_shutdown) {
			/* closed by the application, nobody will read it (RFC
			 * 9293 3.10.7.4 / Linux): reset.  (An unaccepted child
			 * is an orphan with a parent: its data waits.) */
			tcp_send_active_reset(st, tp);
			tcp_reset_conn(st, tp, -ECONNRESET);
			return TCP_SEG_CLOSED;
		}
		if (c->seq == tp->rcv_nxt)
			tcp_rcv_rtt_measure(st, tp, c->seg);
		c->fin_in_order = tcp_data_queue(st, tp, c->seq, c->data, c->len, c->fin_ok);
		return TCP_SEG_CONTINUE;
	default:
		c->len = 0; /* FIN already received: text ignored */
		return TCP_SEG_CONTINUE;
	}
}

/* RFC 9293 3.10.7.4 eighth, check the FIN bit: only once everything before
 * it is in (a FIN beyond a hole waits for it, tcp_ooo_fin_note). */
static enum tcp_seg_verdict tcp_seg_check_fin(struct stack *st, struct tcp_sock *tp,
					      struct tcp_rcv_ctx *c)
{
	uint32_t fin_seq = c->seg->end_seq - 1;

	if (c->fin_ok && c->len == 0 && !tp->fin_rcvd) {
		if (fin_seq == tp->rcv_nxt) {
			c->fin_in_order = true;
		} else if (tcp_after(fin_seq, tp->rcv_nxt)) {
			/* a bare FIN beyond a hole: keep it, duplicate ACK (RFC 5681 4.2) */
			tcp_ooo_fin_note(st, tp, fin_seq);
			tcp_send_ack(st, tp);
		}
	}
	if (c->fin_in_order) {
		tcp_fin(st, tp);
		return TCP_SEG_CONSUMED;
	}
	if (c->fin_ok && tp->fin_rcvd)
		tcp_send_ack(st, tp); /* retransmitted FIN: ACK again */
	if (c->drop_text && c->seg->len)
		tcp_send_ack(st, tp); /* zero window probe: tell the window */
	return TCP_SEG_CONTINUE;
}

/* After the steps: the ACK may have opened the window or cwnd. */
static enum tcp_seg_verdict tcp_seg_push(struct stack *st, struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_LAST_ACK:
		if (tp->sndq.len || (tp->fin_queued && !tp->fin_sent))
			tcp_push(st, tp);
		break;
	default:
		break;
	}
	return TCP_SEG_CONSUMED;
}

/*
 * A segment for a connection in a synchronized state or SYN-RECEIVED
 * (RFC 9293 3.10.7.4), step by step.  The third step, security, has
 * nothing to check (skiff keeps no IP security compartments); the sixth,
 * URG, nothing to do (no urgent mode, RFC 6093: urgent data is read
 * inline as ordinary text).
 */
static enum tcp_seg_verdict tcp_rcv_synchronized(struct stack *st, struct tcp_sock *tp,
						 struct tcp_rcv_ctx *c)
{
	enum tcp_seg_verdict v;

	c->data = c->seg->payload;
	c->seq = c->seg->seq;
	c->len = c->seg->len;
	c->wnd = tcp_rcv_wnd_now(tp);
	c->drop_text = c->fin_ok = c->fin_in_order = false;

	v = tcp_seg_dup_syn(st, tp, c);
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_paws(st, tp, c);
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_check_seq(st, tp, c);	/* first */
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_check_rst(st, tp, c);	/* second */
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_check_syn(st, tp, c);	/* fourth */
	if (v != TCP_SEG_CONTINUE)
		return v;
	tcp_seg_trim(st, tp, c);
	tcp_seg_ecn(st, tp, c);
	v = tcp_seg_check_ack(st, tp, c);		/* fifth */
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_text(st, tp, c);		/* seventh */
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_check_fin(st, tp, c);	/* eighth */
	if (v == TCP_SEG_CONTINUE)
		v = tcp_seg_push(st, tp);
	return v;
}

/* ---- receiver RTT, for receive buffer autotuning (tcp.c) ---- */

/* A receiver RTT sample: smoothed (timestamps), or the lowest so far when
 * it is a whole window's time, an upper bound (Linux's tcp_rcv_rtt_update). */
static void tcp_rcv_rtt_update(struct tcp_sock *tp, uint32_t sample, bool win_dep)
{
	uint32_t old = tp->rcv_rtt_us;

	if (!sample)
		sample = 1;
	if (!old)
		tp->rcv_rtt_us = sample;
	else if (win_dep)
		tp->rcv_rtt_us = sample < old ? sample : old;
	else
		tp->rcv_rtt_us = (uint32_t)(((uint64_t)old * 7 + sample) / 8);
	if (!tp->rcv_rtt_us)
		tp->rcv_rtt_us = 1;
}

void tcp_rcv_rtt_measure(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t now = (uint32_t)(st->now / 1000u);

	if (tp->rcvbuf_locked)
		return;
	if (tp->ts_ok && seg->has_ts && seg->ts_ecr) {
		/* RFC 7323 4.3: TSecr echoes our clock; one full segment's worth */
		uint32_t d = tcp_tsval(tp, st->now) - seg->ts_ecr;

		if (seg->len >= tp->rcv_mss && (int32_t)d >= 0 && d < 60000)
			tcp_rcv_rtt_update(tp, (d ? d : 1) * 1000u, false);
		return;
	}
	/* without timestamps: how long a window takes to arrive (Linux's
	 * tcp_rcv_rtt_measure), an upper bound on the RTT */
	if (tp->rcv_rtt_t && tcp_before(tp->rcv_nxt, tp->rcv_rtt_seq))
		return;
	if (tp->rcv_rtt_t)
		tcp_rcv_rtt_update(tp, now - tp->rcv_rtt_t, true);
	tp->rcv_rtt_seq = tp->rcv_nxt + (tp->rcv_wnd ? tp->rcv_wnd : tp->rcvbuf);
	tp->rcv_rtt_t = now ? now : 1;
}

/* ---- entry from IPv4 and IPv6 ---- */

/*
 * The segment's addresses and ECN codepoint from its IP header (either
 * version), and whether its checksum over the pseudo-header (RFC 9293 3.1,
 * RFC 8200 8.1), header and text is right.
 */
static bool tcp_seg_ip(const struct pkb *pkb, const uint8_t *th, uint32_t len,
		       struct tcp_seg *seg)
{
	const struct ip_hdr *iph = (const struct ip_hdr *)pkb_network_header(pkb);
	const struct ip6_hdr *ip6;

	if (iph->version == 6) {
		ip6 = (const struct ip6_hdr *)iph;
		inet_addr_set6(&seg->saddr, ip6->saddr);
		inet_addr_set6(&seg->daddr, ip6->daddr);
		/* the traffic class straddles bytes 0 and 1; ECN is its low 2 bits */
		seg->ce = ((get_be32(&ip6->vtc_flow) >> 20) & TCP_IP_CE) == TCP_IP_CE;
		return !csum_fold(csum_partial(th, len, ipv6_pseudo_sum(seg->saddr.b, seg->daddr.b,
									 len, IPPROTO_TCP)));
	}
	inet_addr_set4(&seg->saddr, iph->saddr);
	inet_addr_set4(&seg->daddr, iph->daddr);
	seg->ce = (iph->tos & TCP_IP_CE) == TCP_IP_CE;
	return !csum_tcpudp_magic(seg->saddr.w[3], seg->daddr.w[3], len, IPPROTO_TCP,
				  csum_partial(th, len, 0));
}

int tcp_rcv(struct stack *st, struct pkb *pkb)
{
	struct tcp_seg seg;
	struct tcp_sock *tp;
	const struct tcp_hdr *th;
	uint32_t len;
	size_t doff;
	struct tcp_rcv_ctx c = { .seg = &seg };
	enum tcp_seg_verdict v;

	pkb_reset_transport_header(pkb);
	len = pkb_len(pkb);
	switch (tcp_hdr_parse(pkb->data, len, &th, &doff)) {
	case PROTO_OK:
		break;
	case PROTO_SHORT:
		pkb_drop(st, pkb, SKIFF_DROP_tcp_short);
		return 0;
	default:
		pkb_drop(st, pkb, SKIFF_DROP_tcp_bad_doff);
		return 0;
	}
	memset(&seg, 0, sizeof(seg));
	if (!tcp_seg_ip(pkb, pkb->data, len, &seg)) {
		pkb_drop(st, pkb, SKIFF_DROP_tcp_csum);
		return 0;
	}
	seg.sport = th->source;
	seg.dport = th->dest;
	seg.seq = get_be32(&th->seq);
	seg.ack = get_be32(&th->ack_seq);
	seg.flags = th->flags;
	seg.wnd = get_be16(&th->window);
	seg.doff = (uint8_t)doff;
	seg.len = (uint16_t)(len - doff);
	seg.payload = pkb->data + doff;
	seg.end_seq = seg.seq + seg.len + ((seg.flags & TCPF_SYN) ? 1 : 0) +
		      ((seg.flags & TCPF_FIN) ? 1 : 0);
	tcp_parse_options((const uint8_t *)(th + 1), (int)(doff - TCP_HDR_LEN), &seg);

	/* Flag combinations no TCP sends (SYN+FIN, SYN+RST: "all flags set",
	 * the Christmas tree) are dropped without an answer, as Linux does. */
	if ((seg.flags & TCPF_SYN) && (seg.flags & (TCPF_FIN | TCPF_RST))) {
		pkb_drop(st, pkb, SKIFF_DROP_tcp_flags);
		return 0;
	}
	STACK_INC(st, tcp_rx);

	tp = tcp_lookup(st, &seg.saddr, seg.sport, &seg.daddr, seg.dport);
	if (tp && tp->state == TCP_TIME_WAIT && (seg.flags & TCPF_SYN) &&
	    !(seg.flags & (TCPF_ACK | TCPF_RST))) {
		struct tcp_sock *lp = tcp_tw_reuse(st, tp, &seg);

		if (lp)
			tp = lp;
	}
	if ((!tp || tp->state == TCP_CLOSED) && tcp_handoff(st, pkb, &seg))
		return 0;	/* another worker's connection: handed over */
	if (!tp || tp->state == TCP_CLOSED)
		v = tcp_no_conn(st, pkb, &c);
	else if (tp->state == TCP_LISTEN)
		v = tcp_listen_rcv(st, tp, &c);
	else if (tp->state == TCP_SYN_SENT)
		v = tcp_syn_sent_rcv(st, tp, &c);
	else
		v = tcp_rcv_synchronized(st, tp, &c);
	if (v == TCP_SEG_DROP)
		pkb_drop(st, pkb, c.reason);
	else
		pkb_free(pkb);
	return 0;
}
