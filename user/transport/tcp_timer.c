// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP timers (after Linux's net/ipv4/tcp_timer.c), three per connection on
 * the stack's timing wheel, so an idle connection costs nothing per tick
 * and nothing ever scans the connection table:
 *   rtx_timer        retransmission (RFC 6298) while data is in flight, the
 *                    persist timer (RFC 9293 3.8.6.1) while the peer's
 *                    window is closed and nothing is in flight;
 *   delack_timer     the delayed ACK (RFC 1122 4.2.3.2);
 *   keepalive_timer  keepalive (RFC 1122 4.2.3.6) in ESTABLISHED and
 *                    CLOSE_WAIT, the orphan timeout in FIN_WAIT_2, and
 *                    2 MSL in TIME_WAIT (RFC 9293 3.6.1).
 * Each callback finds its connection with container_of and decides from
 * the state what the expiry means.  One more timer per stack releases the
 * paced connections (tcp_pace_timer_fire).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/clock.h"
#include "core/stack.h"
#include "core/timer.h"
#include "transport/tcp_internal.h"

#define tcp_from_timer(t, member) \
	((struct tcp_sock *)((char *)(t)-offsetof(struct tcp_sock, member)))

/* Give up (R2, SYN retries, probes).  The application hears the last ICMP
 * soft error if one came since the last ACK (RFC 1122 4.2.3.9 "make the
 * information available"; Linux's tcp_write_err), else ETIMEDOUT. */
static void tcp_abort_timeout(struct stack *st, struct tcp_sock *tp)
{
	STACK_INC(st, tcp_timeouts);
	tcp_reset_conn(st, tp, tp->soft_err ? tp->soft_err : -ETIMEDOUT);
}

static void tcp_bump_backoff(struct tcp_sock *tp)
{
	if (tp->backoff < 32 && tcp_rto_backed_off(tp) < TCP_RTO_MAX_NS)
		tp->backoff++;
}

/* Zero window probing (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17). */
static void tcp_persist_fire(struct stack *st, struct tcp_sock *tp)
{
	if (!tcp_after(tp->write_seq, tp->snd_max) && !(tp->fin_queued && !tp->fin_sent))
		return; /* nothing waits any more */
	/* The window opened a little: the SWS override (RFC 9293 3.8.6.2.1 (d)). */
	if (tp->snd_wnd && tcp_push_one(st, tp, true)) {
		tcp_rearm_rto(st, tp);
		return;
	}
	/* Unanswered probes give up like R2; answered ones (tcp_ack clears
	 * probes) continue for as long as the peer keeps its window shut. */
	if (tp->probes >= TCP_RETRIES2) {
		tcp_abort_timeout(st, tp);
		return;
	}
	tcp_send_probe(st, tp);
	STACK_INC(st, tcp_zero_window_probes);
	tp->probes++;
	tcp_bump_backoff(tp);
	tcp_arm_persist(st, tp);
}

/* The SYN or SYN-ACK went unanswered (RFC 9293 3.8.1, RFC 6298 5 with the
 * backoff; RFC 1122 4.2.3.5 R2 for a SYN: TCP_SYN_RETRIES, TCP_SYNACK_RETRIES). */
static void tcp_syn_timeout(struct stack *st, struct tcp_sock *tp)
{
	STACK_INC(st, tcp_rto);
	if (tp->retries >= (tp->state == TCP_SYN_SENT ? TCP_SYN_RETRIES : TCP_SYNACK_RETRIES)) {
		if (tp->state == TCP_SYN_RECEIVED && tp->parent) {
			/* an embryonic child nobody will accept: drop it
			 * (leaving SYN_RECEIVED takes it off the parent's
			 * SYN queue, tcp_set_state) */
			STACK_INC(st, tcp_timeouts);
			tp->orphan = true;
			tcp_set_state(st, tp, TCP_CLOSED);
			return;
		}
		tcp_abort_timeout(st, tp);
		return;
	}
	tp->retries++;
	tcp_bump_backoff(tp);
	tcp_send_syn(st, tp);
	tcp_rearm_rto(st, tp);
}

/* The loss episode of an RTO (RFC 5681 3.1 eqs. 4 and 5, RFC 2018 8):
 * ssthresh once per episode, cwnd one segment, the scoreboard forgotten,
 * go-back-N from SND.UNA. */
static void tcp_rto_enter_loss(struct stack *st, struct tcp_sock *tp)
{
	uint32_t flight;

	if (!tp->cc.cwnd)
		tcp_cong_init(tp, st->now);
	flight = tp->snd_max - tp->snd_una;
	/* RFC 5681 3.1 eq. 4: ssthresh falls once per loss episode, not on
	 * every backed-off retransmission of the same data */
	if (tp->ca_state == TCP_CA_OPEN || tp->ca_state == TCP_CA_DISORDER)
		tcp_undo_mark(st, tp); /* a spurious RTO can be undone (RFC 4015) */
	if (tp->ca_state == TCP_CA_OPEN || tp->ca_state == TCP_CA_DISORDER)
		tp->cc.ssthresh =
			tp->cc_ops && tp->cc_ops->ssthresh
				? tp->cc_ops->ssthresh(&tp->cc, flight, st->now)
				: (flight / 2 > 2 * tp->cc.mss ? flight / 2 : 2 * tp->cc.mss);
	/* eq. 5: LW = 1 SMSS */
	tp->cc.cwnd = tcp_send_mss(tp);
	tp->ca_state = TCP_CA_LOSS;
	tp->recover = tp->snd_max;
	tp->dupacks = 0;
	/* RFC 2018 8: after a timeout the receiver may have reneged */
	tp->n_scoreboard = 0;
	tp->high_rxt = tp->snd_una;
	tp->rtt_start = 0; /* Karn */
	if (tp->cc_ops && tp->cc_ops->event)
		tp->cc_ops->event(&tp->cc, TCP_CA_EVENT_LOSS, st->now);
	/* go-back-N: SND.NXT rewinds; tcp_push resends from SND.UNA in slow start */
	tp->snd_nxt = tp->snd_una;
}

/* The retransmission timeout with data in flight (RFC 6298 5.4-5.7). */
static void tcp_rto_timeout(struct stack *st, struct tcp_sock *tp)
{
	STACK_INC(st, tcp_rto);
	if (tp->retries >= TCP_RETRIES2) {
		tcp_abort_timeout(st, tp); /* RFC 1122 4.2.3.5 R2 */
		return;
	}
	tcp_rto_enter_loss(st, tp);
	tp->retries++;
	tcp_bump_backoff(tp);	    /* 5.5: RTO = RTO * 2, at most the maximum */
	tcp_push_one(st, tp, true); /* 5.4: the earliest unacked segment */
	tcp_rearm_rto(st, tp);	    /* 5.6 */
}

/* rtx_timer: the handshake's retransmission, zero-window probing, RACK's
 * reordering timer and loss probe (which share it, as Linux's
 * icsk_pending), else the RTO. */
static void tcp_rtx_fire(struct stack *st, struct timer *t)
{
	struct tcp_sock *tp = tcp_from_timer(t, rtx_timer);

	if (tp->sndq.lost) {
		/* a file queued by reference shrank under the sender: abort,
		 * as a server does after a short sendfile() (RFC 9293 3.10.4) */
		STACK_INC(st, tcp_sendfile_lost);
		tcp_send_active_reset(st, tp);
		tcp_reset_conn(st, tp, -EIO);
		return;
	}
	if (tp->rtx_kind == TCP_RTX_UNDO) {
		/* nothing in flight for an RTO: the episode's D-SACKs are not
		 * coming, the recovery block goes back; a persist timer that
		 * this one stood for (tcp_push arms it only when none runs)
		 * fires below */
		tcp_recovery_put(st, tp);
	}

	switch (tp->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		tcp_syn_timeout(st, tp);
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}

	if (tp->snd_una == tp->snd_max) {
		tcp_persist_fire(st, tp);
		return;
	}
	switch (tp->rtx_kind) {
	case TCP_RTX_REO:
		tcp_rack_reo_timeout(st, tp);
		return;
	case TCP_RTX_TLP:
		tcp_tlp_timeout(st, tp);
		return;
	default:
		tcp_rto_timeout(st, tp);
		return;
	}
}

static void tcp_delack_fire(struct stack *st, struct timer *t)
{
	struct tcp_sock *tp = tcp_from_timer(t, delack_timer);

	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT)
		return;
	STACK_INC(st, tcp_delayed_acks);
	tcp_send_ack(st, tp);
}

static uint64_t tcp_keepidle_ns(const struct tcp_sock *tp)
{
	return (uint64_t)(tp->keepidle_s ? tp->keepidle_s : TCP_KEEPIDLE_S) * NSEC_PER_SEC;
}

static uint64_t tcp_keepintvl_ns(const struct tcp_sock *tp)
{
	return (uint64_t)(tp->keepintvl_s ? tp->keepintvl_s : TCP_KEEPINTVL_S) * NSEC_PER_SEC;
}

/* RFC 1122 4.2.3.6: probes only after keepidle without anything received. */
static void tcp_keepalive(struct stack *st, struct tcp_sock *tp)
{
	uint64_t idle = st->now - tp->last_rcv_ns, keepidle = tcp_keepidle_ns(tp);
	uint32_t cnt = tp->keepcnt ? tp->keepcnt : TCP_KEEPCNT;

	if (!tp->keepalive)
		return;
	/* data in flight: the retransmission timer watches the peer */
	if (tp->snd_una != tp->snd_max || tp->sndq.len) {
		timer_mod(st, &tp->keepalive_timer, st->now + keepidle);
		return;
	}
	if (tp->last_rcv_ns && idle < keepidle) {
		tp->probes = 0;
		timer_mod(st, &tp->keepalive_timer, tp->last_rcv_ns + keepidle);
		return;
	}
	if (tp->probes >= cnt) {
		tcp_send_active_reset(st, tp);
		tcp_abort_timeout(st, tp);
		return;
	}
	tcp_send_probe(st, tp);
	STACK_INC(st, tcp_keepalive_probes);
	tp->probes++;
	timer_mod(st, &tp->keepalive_timer, st->now + tcp_keepintvl_ns(tp));
}

static void tcp_keepalive_fire(struct stack *st, struct timer *t)
{
	struct tcp_sock *tp = tcp_from_timer(t, keepalive_timer);

	switch (tp->state) {
	case TCP_TIME_WAIT:
		/* RFC 9293 3.10.8: 2 MSL are over */
		tcp_set_state(st, tp, TCP_CLOSED);
		return;
	case TCP_FIN_WAIT_2:
		if (tp->orphan) {
			/* nobody will ever read: do not wait for the peer's FIN forever */
			tcp_send_active_reset(st, tp);
			tcp_set_state(st, tp, TCP_CLOSED);
		} else if (tp->keepalive) {
			tcp_keepalive(st, tp);
		}
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		tcp_keepalive(st, tp);
		return;
	default:
		return;
	}
}

/* The pacing timer (one per stack, tcp.c arms it with this): every paced
 * connection whose release time has come sends what it may (tcp_push). */
void tcp_pace_timer_fire(struct stack *st, struct timer *t)
{
	struct tcp_pacer *p = tcp_pacer(st);
	uint64_t next = UINT64_MAX;
	uint32_t i = 0;

	(void)t;
	while (i < p->n) {
		struct tcp_sock *tp = p->conns[i];

		if (tp->pace_next_ns > st->now) {
			i++;
			continue;
		}
		p->conns[i] = p->conns[--p->n];
		tp->pace_wait = false;
		tcp_push(st, tp); /* may wait again, at the end of the list */
	}
	for (i = 0; i < p->n; i++)
		if (p->conns[i]->pace_next_ns < next)
			next = p->conns[i]->pace_next_ns;
	if (p->n)
		tcp_pace_arm(st, p, next);
}

void tcp_timers_init(struct tcp_sock *tp)
{
	timer_init(&tp->rtx_timer, tcp_rtx_fire);
	timer_init(&tp->delack_timer, tcp_delack_fire);
	timer_init(&tp->keepalive_timer, tcp_keepalive_fire);
	if (!tp->rto_ns)
		tp->rto_ns = TCP_RTO_INIT_NS; /* RFC 6298 2.1 */
}

void tcp_enter_time_wait(struct stack *st, struct tcp_sock *tp)
{
	tcp_set_state(st, tp, TCP_TIME_WAIT);
	tcp_recovery_put(st, tp); /* nothing more to send: no recovery, no undo */
	timer_del(st, &tp->rtx_timer);
	timer_del(st, &tp->delack_timer);
	/* RFC 9293 3.6.1: 2 MSL; restarted by a retransmitted FIN (3.10.7.4) */
	timer_mod(st, &tp->keepalive_timer, st->now + 2 * TCP_MSL_NS);
}

void tcp_reset_keepalive(struct stack *st, struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		tp->probes = 0;
		if (tp->keepalive)
			timer_mod(st, &tp->keepalive_timer, st->now + tcp_keepidle_ns(tp));
		else
			timer_del(st, &tp->keepalive_timer);
		return;
	case TCP_FIN_WAIT_2:
		if (tp->orphan)
			timer_mod(st, &tp->keepalive_timer, st->now + TCP_FIN_WAIT2_NS);
		else if (tp->keepalive)
			timer_mod(st, &tp->keepalive_timer, st->now + tcp_keepidle_ns(tp));
		return;
	default:
		return; /* TIME_WAIT keeps its 2 MSL; others have no keepalive */
	}
}
