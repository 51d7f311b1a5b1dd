// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ACK field (after Linux's tcp_ack() in net/ipv4/tcp_input.c): what a
 * segment tells the sender.  SND.UNA advances and the acknowledged bytes
 * leave the send stream; the send window follows the SND.WL1/SND.WL2 rule
 * (RFC 9293 3.10.7.4); RTT samples feed RFC 6298 (timestamps, RFC 7323 4.1,
 * or one timed segment under Karn's rule); the congestion control module
 * grows cwnd outside recovery, and a cwnd that grew while the send buffer
 * was full lets tcp.c's autotuning (tcp_sndbuf_expand()) grow the buffer.
 *
 * Loss recovery:
 *  - with SACK: a scoreboard of SACKed ranges above SND.UNA (RFC 6675 3);
 *    RACK-TLP (RFC 8985, tcp_rack.c) decides what is lost and when
 *    recovery starts, PRR (RFC 6937) sets cwnd in it, pipe is the flight
 *    less what is SACKed or lost (RFC 6675 4), and NextSeg() sends what
 *    RACK found lost, then new data (rules 1-2; the loss probe and the
 *    reordering timer take the place of rules 3-4, as in Linux);
 *  - without, RFC 5681 fast retransmit and RFC 6582 NewReno (partial ACKs
 *    retransmit the next hole, a full ACK ends recovery), with the cwnd
 *    inflation and deflation RFC 5681 3.2 / RFC 6582 3.2 describe;
 *  - after an RTO (TCP_CA_LOSS, tcp_timer.c), go-back-N from SND.UNA in
 *    slow start until everything sent before the timeout is acknowledged;
 *  - limited transmit (RFC 3042; with SACK, new data as the pipe allows,
 *    RFC 6675 / RFC 4653) on duplicate ACKs below the threshold.
 * Reordering (after Linux's tp->reordering): DupThresh (NewReno's) starts
 * at 3 and rises, up to TCP_MAX_REORDERING segments, when a hole below
 * SACKed data is filled by an original transmission (reordering, not
 * loss), bounded by 2/3 of the flight (RFC 4653); the same event tells
 * RACK the path reorders (its window is then min_RTT/4, tcp_rack.c).
 * A spurious fast retransmit or RTO is detected by timestamps (Eifel, RFC
 * 3522: the ACK echoes a TSval older than the first retransmission) and its
 * congestion response undone (RFC 4015: cwnd, ssthresh and the algorithm's
 * state as they were before the episode).  Without timestamps, D-SACKs
 * show it (RFC 3708, after Linux's undo_retrans): every retransmission of
 * the episode reported as a duplicate by the receiver (RFC 2883 4.1), the
 * same undo follows once recovery is over.
 * Byte-based throughout: "segments" are SMSS-sized ranges.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/clock.h"
#include "core/stack.h"
#include "transport/tcp_internal.h"

/* ---- SACK scoreboard (RFC 6675 3) ---- */

/* Forget what SND.UNA now covers. */
static void tcp_sack_trim(struct tcp_sock *tp)
{
	uint8_t i, n = 0;

	for (i = 0; i < tp->n_scoreboard; i++) {
		struct tcp_sack_block b = tp->rcvy->scoreboard[i];

		if (!tcp_after(b.end, tp->snd_una))
			continue;
		if (tcp_before(b.start, tp->snd_una))
			b.start = tp->snd_una;
		tp->rcvy->scoreboard[n++] = b;
	}
	tp->n_scoreboard = n;
}

/* Merge one block into the sorted, disjoint scoreboard (tp->rcvy is
 * there); true if it was new. */
static bool tcp_sack_add(struct tcp_sock *tp, uint32_t start, uint32_t end)
{
	struct tcp_sack_block *sb = tp->rcvy->scoreboard;
	uint8_t i, j, n = tp->n_scoreboard;

	/* covered entirely already? */
	for (i = 0; i < n; i++)
		if (!tcp_before(start, sb[i].start) && !tcp_after(end, sb[i].end))
			return false;
	/* first block that ends at or after start */
	for (i = 0; i < n && tcp_before(sb[i].end, start); i++)
		;
	/* absorb every block it overlaps or touches */
	j = i;
	while (j < n && !tcp_after(sb[j].start, end)) {
		if (tcp_before(sb[j].start, start))
			start = sb[j].start;
		if (tcp_after(sb[j].end, end))
			end = sb[j].end;
		j++;
	}
	if (j == i && n == TCP_SCOREBOARD) {
		/* full: keep the lowest ranges, they decide what is lost */
		if (i == n)
			return false;
		n--;
		if (j > n)
			j = n;
	}
	memmove(&sb[i + 1], &sb[j], (size_t)(n - j) * sizeof(*sb));
	sb[i].start = start;
	sb[i].end = end;
	tp->n_scoreboard = (uint8_t)(n - (j - i) + 1);
	return true;
}

/*
 * A full scoreboard keeps its lowest ranges: a block above all of them,
 * not touching the highest, has no room.  Its bytes are not counted
 * delivered: it would not be remembered, and the receiver repeats it in
 * every ACK until SND.UNA passes it, so counting it would count it again
 * on each (the delivery rate of a large flight with many holes grew tenfold
 * so).  They count when SND.UNA covers them, or once there is room.
 */
static bool tcp_sack_no_room(const struct tcp_sock *tp, uint32_t start)
{
	return tp->n_scoreboard == TCP_SCOREBOARD &&
	       tcp_before(tp->rcvy->scoreboard[TCP_SCOREBOARD - 1].end, start);
}

/*
 * RFC 2018 / RFC 6675 Update(): returns true when a block SACKed new data.
 * The bytes newly SACKed are added to *delivered and shown to RACK (RFC
 * 8985 6.2 step 1) before they join the scoreboard.  Without a recovery
 * block (the pool refused one) the blocks are ignored altogether, so that
 * what they report is not counted delivered on every ACK again.
 */
static bool tcp_sack_update(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
			    uint32_t *delivered, struct tcp_rate_acc *acc)
{
	uint32_t hs, he, seq;
	bool news = false;
	uint8_t i;

	if (!tp->sack_ok)
		return false;
	for (i = 0; i < seg->n_sack && i < TCP_MAX_SACK_BLOCKS; i++) {
		uint32_t s = seg->sack[i].start, e = seg->sack[i].end;

		/* below SND.UNA (RFC 2883 D-SACK) or beyond what we sent: ignore */
		if (!tcp_after(e, s) || !tcp_after(s, tp->snd_una) || tcp_after(e, tp->snd_max))
			continue;
		if (!tcp_recovery_get(st, tp))
			return news;
		if (tcp_sack_no_room(tp, s))
			continue;
		for (seq = s; tcp_next_hole(tp, seq, e, &hs, &he); seq = he) {
			*delivered += he - hs;
			tcp_rack_advance(st, tp, hs, he);
			tcp_rate_delivered(tp, acc, hs, he);
		}
		news |= tcp_sack_add(tp, s, e);
	}
	return news;
}

/* DupThresh now: tp->reordering (the reordering this path showed), but at
 * most 2/3 of the segments in flight (RFC 4653 4.1's bound, so enough
 * duplicates can still arrive) and never below 3 (RFC 5681). */
static uint32_t tcp_dupthresh(const struct tcp_sock *tp, uint32_t mss)
{
	uint32_t thresh = tp->reordering, lim;

	if (thresh <= TCP_DUPTHRESH)
		return TCP_DUPTHRESH;
	lim = (tp->snd_max - tp->snd_una) / mss * 2 / 3;
	if (thresh > lim)
		thresh = lim;
	return max_u32(thresh, TCP_DUPTHRESH);
}

/* ---- RTT (RFC 6298 2) ---- */

static void tcp_rtt_sample(struct stack *st, struct tcp_sock *tp, uint32_t r)
{
	uint64_t rto_us;
	uint32_t d;

	if (!r)
		r = 1;
	if (!tp->srtt_us) {
		/* 2.2: SRTT = R, RTTVAR = R/2 */
		tp->srtt_us = r;
		tp->rttvar_us = r / 2;
	} else {
		/* 2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R' */
		d = tp->srtt_us > r ? tp->srtt_us - r : r - tp->srtt_us;
		tp->rttvar_us = (uint32_t)(((uint64_t)tp->rttvar_us * 3 + d) / 4);
		tp->srtt_us = (uint32_t)(((uint64_t)tp->srtt_us * 7 + r) / 8);
		if (!tp->srtt_us)
			tp->srtt_us = 1;
	}
	/* RTO = SRTT + max(G, K*RTTVAR), G = 1 ms (the wheel's tick) */
	rto_us = (uint64_t)tp->srtt_us + max_u32(1000, 4 * tp->rttvar_us);
	tp->rto_ns = rto_us * NSEC_PER_USEC;
	/* 2.4 (Linux's lower bound) and 2.5 */
	if (tp->rto_ns < TCP_RTO_MIN_NS)
		tp->rto_ns = TCP_RTO_MIN_NS;
	if (tp->rto_ns > TCP_RTO_MAX_NS)
		tp->rto_ns = TCP_RTO_MAX_NS;
	if (tp->cc.min_rtt_us == 0 || r < tp->cc.min_rtt_us)
		tp->cc.min_rtt_us = r;
	if (tp->cc_ops && tp->cc_ops->rtt_sample)
		tp->cc_ops->rtt_sample(&tp->cc, r, st->now);
}

/* An RTT sample for an ACK of new data, if there is a trustworthy one. */
static void tcp_rtt_from_ack(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t ms;

	/* RFC 7323 4.1: TSecr of an ACK that advances SND.UNA */
	if (tp->ts_ok && seg->has_ts && seg->ts_ecr) {
		ms = tcp_tsval(tp, st->now) - seg->ts_ecr;
		if (ms < 3600u * 1000) /* sanity: not from the future, not ancient */
			tcp_rtt_sample(st, tp, ms * 1000);
		tp->rtt_start = 0;
		return;
	}
	/* the timed segment (Karn: cleared whenever anything is retransmitted) */
	if (tp->rtt_start && !tcp_before(seg->ack, tp->rtt_seq)) {
		tcp_rtt_sample(st, tp, (uint32_t)((st->now - tp->rtt_start) / NSEC_PER_USEC));
		tp->rtt_start = 0;
	}
}

/*
 * An algorithm with cong_control (BBR) answers every ACK from its rate
 * sample, once this ACK's losses are known (Linux's tcp_cong_control()).
 * The sample's RTT is the time since the first transmission of the most
 * recently sent bytes delivered (tcp_rate.c): never shorter than the path's,
 * where a timestamp echo after a spurious retransmission (RFC 7323 4.3 lets
 * the receiver take the duplicate's TSval) can be.
 */
static void tcp_cong_control(struct stack *st, struct tcp_sock *tp,
			     const struct tcp_rate_acc *acc, uint32_t newly_lost,
			     uint32_t prior_in_flight)
{
	struct tcp_rate_sample rs;

	if (!tcp_rate_on(tp))
		return;
	tcp_rate_gen(st, tp, acc, &rs);
	rs.newly_lost = newly_lost;
	rs.prior_in_flight = prior_in_flight;
	rs.in_flight = tcp_in_flight(tp);
	rs.recovery = tp->ca_state == TCP_CA_RECOVERY ? 1 : tp->ca_state == TCP_CA_LOSS ? 2 : 0;
	tp->cc_ops->cong_control(&tp->cc, &rs, st->now);
}

/* The algorithm sets cwnd itself in recovery: no RFC 5681 / PRR window. */

/* ---- recovery ---- */

/* ---- reordering and spurious retransmissions ---- */

/* The hole at prior_una was filled by an original transmission while
 * SACKed data lay up to fack: the path reordered by that many segments
 * (Linux's tcp_check_sack_reordering()).  Raise DupThresh past it. */
static void tcp_reordering_seen(struct tcp_sock *tp, uint32_t prior_una, uint32_t fack)
{
	uint32_t mss = tcp_send_mss(tp), degree;

	if (!tcp_after(fack, prior_una))
		return;
	degree = (fack - prior_una + mss - 1) / mss + 1;
	tp->rack_reord = true; /* RFC 8985 6.2 step 3 */
	if (degree > TCP_MAX_REORDERING)
		degree = TCP_MAX_REORDERING;
	if (degree > tp->reordering)
		tp->reordering = (uint8_t)degree;
}

/* RFC 3522 3.2: the ACK of a retransmitted segment echoes a TSval older
 * than the first retransmission: the original arrived, the retransmission
 * was spurious.  Valid on an ACK that advances SND.UNA (RFC 7323 4.3: the
 * receiver's TS.Recent comes from the segment that filled the hole). */
static bool tcp_eifel_spurious(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	return tp->undo_ok && tp->ts_ok && seg->has_ts && seg->ts_ecr &&
	       tcp_before(seg->ts_ecr, tp->rcvy->undo_tsval);
}

/* RFC 4015 3.2 (and Linux's tcp_undo_cwnd_reduction()): back to the
 * congestion state before the episode; resume with new data after an RTO.
 * Only with undo_ok or dsack_undo_ok, so with the recovery block. */
static void tcp_undo(struct stack *st, struct tcp_sock *tp)
{
	uint32_t cwnd = tp->cc.cwnd, ssthresh = tp->cc.ssthresh;
	uint32_t mss = tp->cc.mss, min_rtt = tp->cc.min_rtt_us;
	struct tcp_cong cur = tp->cc;

	STACK_INC(st, tcp_undo);
	tp->cc = tp->rcvy->undo_cc;
	/* a model of the path (BBR) keeps what it learnt since: only the
	 * window comes back */
	if (tcp_cc_owns_cwnd(tp))
		memcpy(tp->cc.priv, cur.priv, sizeof(cur.priv));
	tp->cc.cwnd = max_u32(tp->cc.cwnd, cwnd);
	tp->cc.ssthresh = max_u32(tp->cc.ssthresh, ssthresh);
	tp->cc.mss = mss;
	tp->cc.min_rtt_us = min_rtt;
	if (tp->ca_state == TCP_CA_LOSS && tcp_before(tp->snd_nxt, tp->snd_max))
		tp->snd_nxt = tp->snd_max; /* RFC 4015 3.2 step 3: no go-back-N */
	tp->ca_state = tp->n_scoreboard ? TCP_CA_DISORDER : TCP_CA_OPEN;
	tp->dupacks = 0;
	tp->undo_ok = false;
	tp->dsack_undo_ok = false; /* one undo per episode, by Eifel or by D-SACK */
	/* the reduction did not happen: a real loss may start one at once */
	tp->recover = tp->snd_una;
	tp->high_rxt = tp->snd_una;
}

/* An ACK advancing SND.UNA from prior_una in RECOVERY or LOSS: true when
 * it showed the episode spurious and the response was undone. */
static bool tcp_try_undo(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
			 uint32_t prior_una, uint32_t fack)
{
	if (!tcp_eifel_spurious(tp, seg))
		return false;
	if (!tp->spurious_seen) {
		tp->spurious_seen = true;
		STACK_INC(st, tcp_spurious_rtx);
		if (tp->ca_state == TCP_CA_RECOVERY)
			tcp_reordering_seen(tp, prior_una, fack);
	}
	/* Linux's tcp_try_undo_partial(): while other retransmissions are
	 * still unacknowledged, one of them may have repaired a real loss */
	if (tp->ca_state == TCP_CA_RECOVERY && tcp_after(tp->high_rxt, tp->snd_una))
		return false;
	tcp_undo(st, tp);
	return true;
}

/* RFC 3708: was [start, end) retransmitted in this episode?  By fast
 * recovery (the ranges kept), or by an RTO's go-back-N (contiguous from
 * SND.UNA at the timeout). */
static bool tcp_undo_was_rxt(const struct tcp_sock *tp, uint32_t start, uint32_t end)
{
	const struct tcp_recovery *r = tp->rcvy;
	uint8_t i;

	for (i = 0; i < tp->n_undo_rxt; i++)
		if (!tcp_before(start, r->undo_rxt[i].start) && !tcp_after(end, r->undo_rxt[i].end))
			return true;
	return tp->undo_in_loss && !tcp_before(start, r->undo_loss_start) &&
	       !tcp_after(end, r->undo_loss_high);
}

/* Note what an RTO's go-back-N has resent so far: from SND.UNA at the
 * timeout up to SND.NXT, never beyond what was sent before it (recover). */
static void tcp_undo_note_loss(struct tcp_sock *tp)
{
	uint32_t hi;

	if (tp->ca_state != TCP_CA_LOSS || !tp->dsack_undo_ok)
		return;
	if (!tp->undo_in_loss) {
		/* the first ACK since the timeout: SND.UNA is still where it was */
		tp->undo_in_loss = true;
		tp->rcvy->undo_loss_start = tp->snd_una;
		tp->rcvy->undo_loss_high = tp->snd_una;
	}
	hi = tcp_before(tp->recover, tp->snd_nxt) ? tp->recover : tp->snd_nxt;
	if (tcp_after(hi, tp->rcvy->undo_loss_high))
		tp->rcvy->undo_loss_high = hi;
}

/* RFC 2883 4.1: the first SACK block is a D-SACK when it lies below the
 * cumulative ACK, or inside the second block.  One that reports a segment
 * this episode retransmitted counts (RFC 3708 3); a duplicate of data
 * never retransmitted was made by the network and says nothing. */
static bool tcp_seg_dsack(const struct tcp_seg *seg)
{
	const struct tcp_sack_block *b = &seg->sack[0];

	if (!seg->n_sack || !tcp_after(b->end, b->start))
		return false;
	return tcp_before(b->start, seg->ack) ||
	       (seg->n_sack > 1 && !tcp_before(b->start, seg->sack[1].start) &&
		!tcp_after(b->end, seg->sack[1].end));
}

static void tcp_dsack_seen(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg)
{
	const struct tcp_sack_block *b = &seg->sack[0];

	if (!tp->sack_ok || !tcp_seg_dsack(seg))
		return;
	tcp_rack_dsack(st, tp, b); /* RFC 8985 6.2 step 4 */
	if (!tp->dsack_undo_ok)
		return;
	if (!tcp_undo_was_rxt(tp, b->start, b->end))
		return;
	/* the same report again (a duplicated ACK) is one duplicate */
	if (b->start == tp->rcvy->undo_last_dsack.start && b->end == tp->rcvy->undo_last_dsack.end)
		return;
	tp->rcvy->undo_last_dsack = *b;
	tp->rcvy->undo_dsacks++;
}

/* RFC 3708 3: once recovery is over, an episode whose every retransmission
 * was reported as a duplicate was spurious: undo its congestion response,
 * as Eifel would have (Linux's tcp_try_undo_dsack()). */
static void tcp_dsack_try_undo(struct stack *st, struct tcp_sock *tp)
{
	uint8_t ca_state = tp->ca_state, dupacks = tp->dupacks;
	uint64_t rtx;

	if (!tp->dsack_undo_ok)
		return;
	rtx = tp->retrans_total - tp->rcvy->undo_rtx_base;
	if (!rtx || tp->rcvy->undo_dsacks < rtx)
		return;
	if (ca_state == TCP_CA_RECOVERY || ca_state == TCP_CA_LOSS)
		return;
	if (!tp->spurious_seen) {
		tp->spurious_seen = true;
		STACK_INC(st, tcp_spurious_rtx);
	}
	STACK_INC(st, tcp_dsack_undo);
	tcp_undo(st, tp);
	/* outside recovery: keep counting duplicate ACKs as before */
	tp->ca_state = ca_state;
	tp->dupacks = dupacks;
}

static void tcp_exit_recovery(struct stack *st, struct tcp_sock *tp)
{
	uint32_t mss = tcp_send_mss(tp), flight = tp->snd_max - tp->snd_una;

	if (tcp_cc_owns_cwnd(tp))
		; /* the algorithm restores its window (cong_control) */
	else if (tp->sack_ok)
		tp->cc.cwnd = tp->cc.ssthresh; /* RFC 6675 */
	else /* RFC 6582 3.2 step 3, option (1): no burst on leaving */
		tp->cc.cwnd = min_u32(tp->cc.ssthresh, max_u32(flight, mss) + mss);
	tp->ca_state = TCP_CA_OPEN;
	tp->dupacks = 0;
	tp->undo_ok = false;
	tcp_rack_recovery_end(tp);
	if (tp->cc_ops && tp->cc_ops->event)
		tp->cc_ops->event(&tp->cc, TCP_CA_EVENT_RECOVERY_END, st->now);
}

/*
 * RFC 3168 6.1.2: an ECN-Echo.  cwnd is reduced as for a loss (the
 * algorithm's ssthresh), at most once per window of data, nothing is
 * retransmitted, and CWR on the next new data tells the receiver.  In
 * recovery the loss's reduction stands for it.
 */
static void tcp_ecn_echo(struct stack *st, struct tcp_sock *tp, uint32_t ack)
{
	uint32_t flight = tp->snd_max - tp->snd_una;

	/* the echo of a mark in data sent before the last reduction: that
	 * window was reduced already (the receiver echoes until it gets the
	 * CWR, which went with the first data after SND.MAX of then) */
	if (!tcp_after(ack, tp->ecn_high))
		return;
	tp->ecn_high = tp->snd_max;
	tp->ecn_cwr = true;
	if (tp->ca_state == TCP_CA_RECOVERY || tp->ca_state == TCP_CA_LOSS)
		return;
	tp->cc.ssthresh = tp->cc_ops && tp->cc_ops->ssthresh
				  ? tp->cc_ops->ssthresh(&tp->cc, flight, st->now)
				  : max_u32(flight / 2, 2 * tcp_send_mss(tp));
	if (tp->cc.cwnd > tp->cc.ssthresh)
		tp->cc.cwnd = tp->cc.ssthresh;
	tp->undo_ok = false; /* a mark is no spurious loss */
	tp->dsack_undo_ok = false;
	STACK_INC(st, tcp_ecn_reductions);
}

/* A duplicate ACK (RFC 5681 2) or, with SACK, an ACK with new SACK info. */
static void tcp_dupack(struct stack *st, struct tcp_sock *tp, bool is_dup)
{
	uint32_t mss = tcp_send_mss(tp);

	if (tp->ca_state == TCP_CA_LOSS)
		return; /* go-back-N is under way */
	if (tcp_rack_on(tp)) {
		/* RACK decides on losses and recovery (tcp_rack_on_ack) */
		if (is_dup && tp->dupacks < 255)
			tp->dupacks++;
		if (tp->ca_state == TCP_CA_OPEN)
			tp->ca_state = TCP_CA_DISORDER;
		return;
	}
	if (tp->ca_state == TCP_CA_RECOVERY) {
		if (is_dup) {
			if (!tcp_cc_owns_cwnd(tp))
				tp->cc.cwnd += mss; /* RFC 5681 3.2 step 4: inflate */
			tcp_push(st, tp);
		}
		return;
	}
	if (is_dup && tp->dupacks < 255)
		tp->dupacks++;
	tp->ca_state = TCP_CA_DISORDER;
	/* RFC 6582 3.2 step 2 / RFC 6675 5.1: not again until SND.UNA
	 * passes the previous RecoveryPoint (a late burst of duplicates). */
	if (tp->dupacks >= tcp_dupthresh(tp, mss) && !tcp_before(tp->snd_una, tp->recover)) {
		tcp_enter_recovery(st, tp);
		return;
	}
	/* RFC 3042 limited transmit (tcp_in_flight() counts the first two
	 * duplicates out); with SACK, RFC 6675's pipe lets new data replace
	 * what was SACKed (RFC 4653's extended limited transmit) */
	tcp_push(st, tp);
}

/* RFC 9293 3.10.7.4: update the send window when the segment is newer
 * (SND.WL1 < SEG.SEQ) or as new with a newer ACK (SND.WL2 =< SEG.ACK).
 * RFC 7323 2.2: a SYN's window is never scaled.  True when it changed. */
static bool tcp_ack_update_window(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t wnd = (seg->flags & TCPF_SYN) ? seg->wnd : seg->wnd << tp->snd_wscale;
	bool changed = false;

	if (!(seg->flags & TCPF_SYN) && !tcp_before(tp->snd_wl1, seg->seq) &&
	    (tp->snd_wl1 != seg->seq || tcp_before(seg->ack, tp->snd_wl2)))
		return false;
	if (wnd != tp->snd_wnd) {
		changed = true;
		if (!tp->snd_wnd)
			tp->backoff = 0; /* the window opened: persist is over */
	}
	tp->snd_wnd = wnd;
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = seg->ack;
	if (wnd > tp->max_snd_wnd)
		tp->max_snd_wnd = wnd;
	return changed;
}

/* RFC 9293 3.10.7.4 with SEG.ACK = SND.UNA: nothing new acknowledged, but
 * a duplicate ACK (RFC 5681 2) or new SACK information (RFC 6675 5) counts,
 * RACK looks for losses (RFC 8985 6.2) and data may go. */
static void tcp_ack_same(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
			 bool window_changed, uint32_t prior_flight)
{
	struct tcp_rate_acc acc = {0};
	uint32_t delivered = 0, lost;
	bool new_sack, dup;

	new_sack = tcp_sack_update(st, tp, seg, &delivered, &acc);
	/* RFC 5681 2: data outstanding, no data, no SYN/FIN, same ACK, same window */
	dup = tp->snd_una != tp->snd_max && !seg->len && !(seg->flags & (TCPF_SYN | TCPF_FIN)) &&
	      !window_changed;
	if (dup || new_sack)
		tcp_dupack(st, tp, dup);
	tcp_dsack_try_undo(st, tp);
	lost = tcp_rack_on_ack(st, tp, delivered, tp->snd_una);
	tcp_cong_control(st, tp, &acc, lost, prior_flight);
	/* with RACK, new data may replace what was SACKed or lost
	 * (RFC 6675 pipe; RFC 4653's extended limited transmit) */
	if (window_changed || (tcp_rack_on(tp) && (dup || new_sack)) || tcp_rate_on(tp))
		tcp_push(st, tp);
}

/*
 * RFC 9293 3.10.7.4 with SND.UNA < SEG.ACK =< SND.MAX: SND.UNA advances.
 * What this ACK delivers that no SACK had goes to RACK before the stream
 * lets it go (RFC 8985 6.2 step 1) and to PRR and the rate sample
 * (*delivered, acc); the stream drops the acknowledged bytes (the SYN is not
 * in it); the RTT sample (RFC 6298, RFC 7323); the backoff and the R2 count
 * end (RFC 6298 5.7-style); the scoreboard is trimmed and updated (RFC 6675
 * 4).  Returns the bytes acknowledged, FIN excluded (*fin_acked).
 */
static uint32_t tcp_ack_advance(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
				uint32_t *delivered, struct tcp_rate_acc *acc, bool *fin_acked)
{
	uint32_t ack = seg->ack, data_start = tp->write_seq - tp->sndq.len, acked = 0;
	uint32_t seq, hs, he;

	for (seq = tp->snd_una; tcp_next_hole(tp, seq, ack, &hs, &he); seq = he) {
		*delivered += he - hs;
		tcp_rack_advance(st, tp, hs, he);
		tcp_rate_delivered(tp, acc, hs, he);
	}
	if (tcp_after(ack, data_start)) {
		acked = min_u32(ack - data_start, tp->sndq.len);
		tcp_stream_drop(tcp_chunks(st), &tp->sndq, acked);
	}
	if (tp->fin_sent && tcp_after(ack, tp->write_seq))
		*fin_acked = true;
	tp->snd_una = ack;
	if (tcp_before(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	if (tcp_before(tp->high_rxt, ack))
		tp->high_rxt = ack;
	tcp_rtt_from_ack(st, tp, seg);
	tp->backoff = 0;
	tp->retries = 0;
	tcp_sack_trim(tp);
	tcp_sack_update(st, tp, seg, delivered, acc);
	return acked;
}

/* New data acknowledged after an RTO (go-back-N, RFC 5681 3.1): a spurious
 * timeout is undone (RFC 4015); RecoveryPoint reached ends the episode;
 * slow start from 1 SMSS. */
static void tcp_ack_in_loss(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
			    uint32_t prior_una, uint32_t fack, uint32_t acked, uint32_t prior_flight)
{
	if (tcp_try_undo(st, tp, seg, prior_una, fack))
		return; /* spurious RTO (RFC 4015) */
	if (!tcp_before(seg->ack, tp->recover)) {
		tp->ca_state = TCP_CA_OPEN;
		tp->dupacks = 0;
		tp->undo_ok = false;
		tcp_rack_recovery_end(tp);
	}
	if (tp->cc_ops && tp->cc_ops->cong_avoid)
		tp->cc_ops->cong_avoid(&tp->cc, acked, prior_flight, 1, st->now);
}

/* New data acknowledged in fast recovery: a spurious fast retransmit is
 * undone; a full ACK ends recovery (RFC 6582 3.2 step 3, RFC 6675); with
 * RACK, PRR and RACK send (tcp_rack_on_ack, after); else NewReno's partial
 * ACK (RFC 6582 3.2 step 3). */
static void tcp_ack_in_recovery(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg,
				uint32_t prior_una, uint32_t fack, uint32_t acked, uint32_t mss)
{
	if (tcp_try_undo(st, tp, seg, prior_una, fack))
		return; /* spurious fast retransmit */
	if (!tcp_before(seg->ack, tp->recover)) {
		tcp_exit_recovery(st, tp); /* full ACK */
		return;
	}
	if (tcp_rack_on(tp))
		return;
	/* partial ACK: the next hole goes now; deflate by what was acked,
	 * add one SMSS back when that was at least one SMSS */
	tcp_recovery_rtx(st, tp, tp->snd_una, min_u32(mss, tp->snd_max - tp->snd_una));
	if (tcp_cc_owns_cwnd(tp))
		return;
	tp->cc.cwnd = tp->cc.cwnd > acked ? tp->cc.cwnd - acked : mss;
	if (acked >= mss)
		tp->cc.cwnd += mss;
	if (tp->cc.cwnd < mss)
		tp->cc.cwnd = mss;
}

/* New data acknowledged in OPEN or DISORDER: a hole filled with nothing
 * retransmitted was reordering (RFC 8985 6.2 step 4's window); the
 * duplicate count restarts; slow start or congestion avoidance (RFC 5681
 * 3.1, the algorithm's cong_avoid). */
static void tcp_ack_open(struct stack *st, struct tcp_sock *tp, uint32_t prior_una, uint32_t fack,
			 uint32_t acked, uint32_t prior_flight, uint32_t mss)
{
	uint32_t ack = tp->snd_una;

	if (tp->ca_state == TCP_CA_DISORDER && !tcp_after(tp->high_rxt, prior_una))
		tcp_reordering_seen(tp, prior_una, fack);
	tp->dupacks = 0;
	/* keep RecoveryPoint behind SND.UNA but within sequence-space reach */
	if (tcp_before(tp->recover, ack - (1u << 30)))
		tp->recover = ack - (1u << 30);
	tp->ca_state = tp->n_scoreboard ? TCP_CA_DISORDER : TCP_CA_OPEN;
	if (tp->cc_ops && tp->cc_ops->cong_avoid)
		tp->cc_ops->cong_avoid(&tp->cc, acked, prior_flight, prior_flight + mss > tp->cc.cwnd,
				       st->now);
}

/* RFC 9293 3.10.7.4, "fifth, check the ACK field", in steps (tcp_ack). */
static uint32_t __tcp_ack(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t ack = seg->ack, acked, prior_flight, mss, prior_una, fack, prior_cwnd;
	uint32_t delivered = 0, lost;
	bool window_changed, fin_acked = false, sndq_full;
	struct tcp_rate_acc acc = {0};

	if (tcp_before(ack, tp->snd_una) || tcp_after(ack, tp->snd_max))
		return 0; /* RFC 9293 3.10.7.4: old duplicate, or not ours to judge */
	tp->probes = 0;	  /* the peer answers (persist, keepalive) */
	/* keep the ECN window mark behind SND.UNA, within reach */
	if (tcp_before(tp->ecn_high, ack - (1u << 30)))
		tp->ecn_high = ack - (1u << 30);
	if (tp->ecn_ok && (seg->flags & TCPF_ECE) && !(seg->flags & TCPF_SYN))
		tcp_ecn_echo(st, tp, ack);
	tcp_undo_note_loss(tp);
	tcp_dsack_seen(st, tp, seg);
	prior_flight = tcp_in_flight(tp);
	mss = tcp_send_mss(tp);
	window_changed = tcp_ack_update_window(tp, seg);
	if (ack == tp->snd_una) {
		tcp_ack_same(st, tp, seg, window_changed, prior_flight);
		return 0;
	}

	prior_una = tp->snd_una;
	prior_cwnd = tp->cc.cwnd;
	sndq_full = tp->sndq.len + mss >= tp->sndbuf; /* the buffer held the sender back */
	fack = tcp_sack_fack(tp, prior_una);
	acked = tcp_ack_advance(st, tp, seg, &delivered, &acc, &fin_acked);
	if (tp->ca_state == TCP_CA_LOSS)
		tcp_ack_in_loss(st, tp, seg, prior_una, fack, acked, prior_flight);
	else if (tp->ca_state == TCP_CA_RECOVERY)
		tcp_ack_in_recovery(st, tp, seg, prior_una, fack, acked, mss);
	else
		tcp_ack_open(st, tp, prior_una, fack, acked, prior_flight, mss);
	tcp_dsack_try_undo(st, tp);
	/* cwnd grew while the send buffer was full: autotuning (tcp_output.c) */
	if (sndq_full && tp->cc.cwnd > prior_cwnd)
		tcp_sndbuf_expand(st, tp);

	/* RFC 6298 5.2 / 5.3: stop the timer when all is acked, else restart it */
	tcp_rearm_rto(st, tp);
	/* RACK-TLP: losses, recovery by PRR, the reordering or probe timer */
	lost = tcp_rack_on_ack(st, tp, delivered, prior_una);
	tcp_cong_control(st, tp, &acc, lost, prior_flight);
	if (acked || fin_acked)
		tcp_wake(tp); /* send space freed */
	/* our FIN acked in FIN_WAIT_1: input moves to FIN_WAIT_2, where an
	 * orphan may wait only TCP_FIN_WAIT2_NS for the peer's FIN */
	if (fin_acked && tp->state == TCP_FIN_WAIT_1)
		timer_mod(st, &tp->keepalive_timer, st->now + TCP_FIN_WAIT2_NS);
	tcp_push(st, tp);
	return acked;
}

uint32_t tcp_ack(struct stack *st, struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t acked = __tcp_ack(st, tp, seg);

	if (tp->rcvy)
		tcp_recovery_idle(st, tp); /* everything acked: give the block back */
	return acked;
}
