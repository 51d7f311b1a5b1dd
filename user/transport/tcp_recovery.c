// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The recovery block (struct tcp_recovery, tcp_sock.h): the SACK scoreboard
 * (RFC 6675 3), the undo state of a loss episode (RFC 4015, RFC 3708) and
 * the receiver's SACK and D-SACK blocks to report (RFC 2018, RFC 2883),
 * about 460 bytes that an idle connection never needs.  A connection takes
 * one from its stack's pool when the first SACK block above SND.UNA
 * arrives, a loss episode starts, or data arrives out of order or twice,
 * and gives it back when it is idle again: everything acknowledged,
 * recovery over, no D-SACK able to undo the episode any more (after one
 * RTO of waiting for them, the TCP_RTX_UNDO kind of the retransmission
 * timer), nothing out of order and no D-SACK left to report (checked after
 * each ACK received and each ACK sent), or when it closes.
 *
 * The pool is bounded (TCP_RECOVERY_MAX blocks in use per stack, so a
 * flood of connections each holding SACK state cannot take the memory);
 * freed blocks are kept for reuse up to TCP_RECOVERY_CACHE, the rest go
 * back to malloc.  A refusal is counted (tcp_recovery_nomem) and the
 * connection goes on without: tcp_ack.c ignores SACK blocks (RACK sees
 * only cumulative ACKs; the loss probe and the RTO repair), the episode
 * cannot be undone, and tcp_input.c reports no SACK or D-SACK block (the
 * peer's sender does without, as with a receiver that never offered SACK).
 * The gauge tcp_recovery_blocks is the number in use.
 *
 * Also here, as what the block's users share below ACK processing and loss
 * detection: the scoreboard's holes (tcp_next_hole), the undo point of an
 * episode (tcp_undo_mark) and the retransmissions it remembers
 * (tcp_undo_rxt_add), and the congestion and recovery state a connection
 * starts from (tcp_cong_init).  It calls no other TCP file but the leaf
 * helpers and the congestion control table: output and loss detection
 * build on it.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "transport/tcp_internal.h"

void tcp_recovery_pool_init(struct tcp_recovery_pool *p, uint32_t max)
{
	p->free = NULL;
	p->n_free = 0;
	p->in_use = 0;
	p->max = max;
}

void tcp_recovery_pool_fini(struct tcp_recovery_pool *p)
{
	struct tcp_recovery *r;

	while ((r = p->free)) {
		p->free = r->next;
		free(r);
	}
	p->n_free = 0;
}

struct tcp_recovery *tcp_recovery_get(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_recovery_pool *p = tcp_recovery_pool(st);
	struct tcp_recovery *r;

	if (tp->rcvy)
		return tp->rcvy;
	if (!p || p->in_use >= p->max) {
		STACK_INC(st, tcp_recovery_nomem);
		return NULL;
	}
	r = p->free;
	if (r) {
		p->free = r->next;
		p->n_free--;
	} else {
		r = malloc(sizeof(*r));
		if (!r) {
			STACK_INC(st, tcp_recovery_nomem);
			return NULL;
		}
	}
	r->next = NULL;
	p->in_use++;
	st->stats->tcp_recovery_blocks = p->in_use;
	tp->rcvy = r;
	return r;
}

void tcp_recovery_put(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_recovery_pool *p = tcp_recovery_pool(st);
	struct tcp_recovery *r = tp->rcvy;

	/* the invariant of tcp_sock.h: nothing may point into it any more */
	tp->n_scoreboard = 0;
	tp->undo_ok = false;
	tp->dsack_undo_ok = false;
	tp->undo_in_loss = false;
	tp->n_undo_rxt = 0;
	tp->n_rcv_sacks = 0;
	tp->dsack_pending = false;
	if (tp->rtx_kind == TCP_RTX_UNDO)
		tp->rtx_kind = TCP_RTX_RTO;
	if (!r)
		return;
	tp->rcvy = NULL;
	if (!p) {
		free(r);
		return;
	}
	p->in_use--;
	st->stats->tcp_recovery_blocks = p->in_use;
	if (p->n_free >= TCP_RECOVERY_CACHE) {
		free(r);
		return;
	}
	r->next = p->free;
	p->free = r;
	p->n_free++;
}

void tcp_recovery_idle(struct stack *st, struct tcp_sock *tp)
{
	if (!tp->rcvy || tp->snd_una != tp->snd_max || tp->ca_state != TCP_CA_OPEN ||
	    tp->n_scoreboard || tp->dsack_undo_ok || tp->n_rcv_sacks || tp->dsack_pending)
		return;
	tcp_recovery_put(st, tp);
}

uint32_t tcp_recovery_in_use(struct stack *st)
{
	struct tcp_recovery_pool *p = tcp_recovery_pool(st);

	return p ? p->in_use : 0;
}

int tcp_set_recovery_limit(struct stack *st, uint32_t max_blocks)
{
	struct tcp_recovery_pool *p = tcp_recovery_pool(st);

	if (!p)
		return -EINVAL;
	p->max = max_blocks;
	return 0;
}

/* ---- the congestion and recovery state a connection starts from ---- */

void tcp_cong_init(struct tcp_sock *tp, uint64_t now)
{
	if (!tp->cc_ops)
		tp->cc_ops = &tcp_cubic;
	memset(&tp->cc, 0, sizeof(tp->cc));
	tp->cc.mss = tcp_send_mss(tp);
	/* a model of the path starts from the handshake's RTT */
	if (tcp_rate_on(tp))
		tp->cc.min_rtt_us = tp->srtt_us;
	if (tp->cc_ops->init)
		tp->cc_ops->init(&tp->cc, now);
	if (!tp->cc.cwnd) /* RFC 5681 3.1 / RFC 6928: IW */
		tp->cc.cwnd = 10 * tp->cc.mss;
	if (!tp->cc.ssthresh)
		tp->cc.ssthresh = UINT32_MAX;
	tp->ca_state = TCP_CA_OPEN;
	tp->dupacks = 0;
	tp->recover = tp->snd_una;
	tp->high_rxt = tp->snd_una;
	tp->n_scoreboard = 0;
	if (tp->reordering < TCP_DUPTHRESH)
		tp->reordering = TCP_DUPTHRESH;
	tp->undo_ok = false;
	tp->dsack_undo_ok = false;
	tp->ecn_high = tp->snd_una - 1;
	tcp_rack_init(tp);
}

/* ---- the scoreboard, and the undo state of an episode ---- */

/* The hole (unSACKed range) at or after seq below end: false if none. */
bool tcp_next_hole(const struct tcp_sock *tp, uint32_t seq, uint32_t end, uint32_t *hs,
		   uint32_t *he)
{
	uint8_t i;

	for (i = 0; i < tp->n_scoreboard; i++) {
		const struct tcp_sack_block *b = &tp->rcvy->scoreboard[i];

		if (!tcp_after(b->end, seq))
			continue;
		if (tcp_before(seq, b->start)) {
			*hs = seq;
			*he = tcp_before(b->start, end) ? b->start : end;
			return tcp_before(*hs, *he);
		}
		seq = b->end; /* inside a SACKed range: skip it */
	}
	*hs = seq;
	*he = end;
	return tcp_before(seq, end);
}

void tcp_undo_mark(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_recovery *r;

	tp->spurious_seen = false;
	tp->undo_in_loss = false;
	tp->n_undo_rxt = 0;
	tp->undo_ok = false;
	tp->dsack_undo_ok = false;
	/* Eifel (RFC 3522) needs timestamps, RFC 3708 D-SACKs, hence SACK;
	 * with neither, or without a recovery block, nothing is undone */
	if (!tp->ts_ok && !tp->sack_ok)
		return;
	r = tcp_recovery_get(st, tp);
	if (!r)
		return;
	tp->undo_ok = tp->ts_ok;
	tp->dsack_undo_ok = tp->sack_ok;
	r->undo_cc = tp->cc;
	r->undo_tsval = tcp_tsval(tp, st->now);
	r->undo_dsacks = 0;
	r->undo_rtx_base = tp->retrans_total;
	r->undo_last_dsack.start = r->undo_last_dsack.end = 0;
}

/* Remember [seq, end) as retransmitted by this episode, for D-SACK undo;
 * when the ranges are full, D-SACKs can no longer tell (no undo by them). */
void tcp_undo_rxt_add(struct tcp_sock *tp, uint32_t seq, uint32_t end)
{
	struct tcp_sack_block *r;
	uint8_t i;

	for (i = 0; i < tp->n_undo_rxt; i++) {
		r = &tp->rcvy->undo_rxt[i];
		if (tcp_after(seq, r->end) || tcp_before(end, r->start))
			continue;
		if (tcp_before(seq, r->start))
			r->start = seq;
		if (tcp_after(end, r->end))
			r->end = end;
		return;
	}
	if (tp->n_undo_rxt == TCP_UNDO_RXT) {
		tp->dsack_undo_ok = false;
		return;
	}
	tp->rcvy->undo_rxt[tp->n_undo_rxt].start = seq;
	tp->rcvy->undo_rxt[tp->n_undo_rxt].end = end;
	tp->n_undo_rxt++;
}
