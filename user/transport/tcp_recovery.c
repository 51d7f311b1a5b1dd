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
 * peer's sender does without, as with a receiver that never offered SACK).  The gauge tcp_recovery_blocks is the number
 * in use.
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
