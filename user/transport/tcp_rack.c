// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Loss detection by time: RACK-TLP (RFC 8985), and the sending rate in
 * recovery: Proportional Rate Reduction (RFC 6937).  As in Linux since
 * 4.18, RACK replaces DupThresh for every connection that negotiated SACK
 * (without SACK, NewReno's three duplicate ACKs still decide, tcp_ack.c).
 * Entering fast recovery (tcp_enter_recovery, for both) and sending in it
 * by RFC 6675 NextSeg with RACK's losses first (tcp_sack_xmit) are here too,
 * and what tcp_push() (tcp_internal.h) calls here: in SACK recovery
 * tcp_push_nextseg(), after new data the loss probe (tcp_tlp_schedule).
 *
 * RACK (RFC 8985 6): a segment is lost when a segment sent after it has
 * been delivered (cumulatively ACKed or SACKed) and RACK.rtt + reo_wnd
 * have passed since it was sent.  The transmit times are not a list of
 * segments: each chunk of the send stream keeps the time its bytes last
 * left in 8 slots (tcp_buf.h), so the detector walks the holes of the
 * SACK scoreboard slot by slot.  A slot shared by two segments holds the
 * later time, so a segment is never judged older than it is (a neighbour
 * of a retransmission may be found lost an RTT later, never too early).
 * Lost is a function of the time and of RACK's state, not a flag: a
 * retransmission restamps its bytes, which are then in flight again.  The
 * reordering window is min_RTT/4 once reordering was seen (else 0 in
 * recovery or with three segments SACKed), times a multiplier that each
 * round with a D-SACK raises and 16 recoveries without one reset; at most
 * SRTT.  A loss still waiting for its window arms the reordering timer.
 *
 * TLP (RFC 8985 7): in the open state with data in flight, 2 x SRTT after
 * the last transmission (plus the worst-case delayed ACK when one segment
 * is in flight, never later than the RTO) one probe goes out: new data if
 * the windows allow, else the last segment again.  Its ACK or SACK lets
 * RACK find a lost tail in about two RTTs, not an RTO.  A probe that
 * repaired a loss (the ACK passes it without a D-SACK for it) reduces the
 * window once, as Linux's tcp_process_tlp_ack().
 *
 * PRR (RFC 6937, with the slow start reduction bound): in recovery cwnd is
 * set on every ACK to pipe + sndcnt, sndcnt spreading the reduction to
 * ssthresh over the ACKs of one round (while pipe > ssthresh) or letting
 * the flight grow back to ssthresh by at most what was delivered plus one
 * segment (below it); the first ACK always lets the first retransmission go.
 *
 * Byte-based throughout; times in µs modulo 2^32 (RFC 8985's xmit_ts).
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/clock.h"
#include "core/stack.h"
#include "core/timer.h"
#include "transport/tcp_internal.h"

#define TCP_REO_PERSIST		16	/* RFC 8985 6.2 step 4: recoveries a widened window lasts */
#define TCP_TLP_WCDELACK_NS	(200ULL * 1000 * 1000)	/* RFC 8985 7.2 WCDelAckT */
#define TCP_TLP_MIN_NS		(2ULL * 1000 * 1000)	/* Linux's TCP_TIMEOUT_MIN */

/* RFC 8985 6.2 RACK_sent_after(): by time, ties by sequence. */
static bool rack_sent_after(uint32_t t1, uint32_t seq1, uint32_t t2, uint32_t seq2)
{
	return tcp_us_after(t1, t2) || (t1 == t2 && tcp_after(seq1, seq2));
}

/* Sequence number of the first byte the send stream holds. */
static inline uint32_t sndq_seq(const struct tcp_sock *tp)
{
	return tp->write_seq - tp->sndq.len;
}

/* µs since stamp ts (0 for a stamp still ahead of the clock: a burst
 * of more than one segment per µs runs ahead of it by a little). */
static uint32_t rack_elapsed(const struct stack *st, uint32_t ts)
{
	uint32_t now = tcp_rack_now_us(st);

	return tcp_us_after(ts, now) ? 0 : now - ts;
}

void tcp_rack_advance(struct stack *st, struct tcp_sock *tp, uint32_t start, uint32_t end)
{
	uint32_t ds = sndq_seq(tp), ts, best_ts = 0, best_end = 0, split, rtt, fack;
	size_t se;
	bool have, first;

	if (!tcp_rack_on(tp))
		return;
	if (tcp_before(start, ds))
		start = ds; /* the SYN */
	if (tcp_after(end, tp->write_seq))
		end = tp->write_seq; /* the FIN */
	if (!tcp_before(start, end))
		return;
	/* RFC 8985 6.2 step 1: of the segments delivered, the one sent last.
	 * At and beyond rxt_high every slot holds an original transmission,
	 * and originals leave in sequence order: there the last slot is the
	 * latest, so only the retransmitted part below is scanned (an
	 * in-order ACK costs one slot, however much it acknowledges). */
	split = tcp_before(start, tp->rxt_high) ? tp->rxt_high : start;
	if (tcp_after(split, end))
		split = end;
	have = split != start &&
	       tcp_stream_stamp_latest(&tp->sndq, start - ds, split - start, &best_ts, &se);
	if (have)
		best_end = ds + (uint32_t)se;
	if (split != end &&
	    tcp_stream_stamp_latest(&tp->sndq, end - 1 - ds, 1, &ts, &se) &&
	    (!have || rack_sent_after(ts, ds + (uint32_t)se, best_ts, best_end))) {
		best_ts = ts;
		best_end = ds + (uint32_t)se;
		have = true;
	}
	if (!have)
		return;
	/* step 3: delivered below what was SACKed before, and never
	 * retransmitted (at or above rxt_high): the path reorders */
	fack = tcp_sack_fack(tp, tp->snd_una);
	if (tcp_before(end, fack) && !tcp_before(start, tp->rxt_high))
		tp->rack_reord = true;
	first = !tp->rack_rtt_us;
	rtt = rack_elapsed(st, best_ts);
	/* step 1: shorter than any RTT seen, the ACK was for an earlier
	 * transmission than the one timed (ambiguous: no sample); the 1 ms
	 * grace covers min_RTT's millisecond timestamps */
	if (tp->cc.min_rtt_us && rtt + 1000 < tp->cc.min_rtt_us)
		return;
	tp->rack_rtt_us = rtt ? rtt : 1;
	/* min_RTT from RACK only while RFC 6298's samples gave none: these
	 * may be ambiguous and must not ratchet it down */
	if (!tp->cc.min_rtt_us)
		tp->cc.min_rtt_us = tp->rack_rtt_us;
	if (first || rack_sent_after(best_ts, best_end, tp->rack_xmit_us, tp->rack_end_seq)) {
		tp->rack_xmit_us = best_ts;
		tp->rack_end_seq = best_end;
	}
}

/* RFC 8985 6.2 step 4 (the window's adaptation is in tcp_rack_dsack). */
static uint32_t rack_reo_wnd(const struct tcp_sock *tp)
{
	uint64_t w;

	if (!tp->rack_reord) {
		if (tp->ca_state == TCP_CA_RECOVERY || tp->ca_state == TCP_CA_LOSS)
			return 0;
		if (tcp_sacked_bytes(tp) >= 3 * tcp_send_mss(tp))
			return 0; /* as DupThresh would (RACK.segs_sacked) */
	}
	w = (uint64_t)tp->cc.min_rtt_us * (tp->reo_wnd_mult ? tp->reo_wnd_mult : 1) / 4;
	if (tp->srtt_us && w > tp->srtt_us)
		w = tp->srtt_us;
	return (uint32_t)w;
}

/*
 * One walk of RFC 8985 6.2 step 5 over the unSACKed data, in sequence
 * order.  Beyond the highest retransmission (rxt_high) every segment is an
 * original, sent in sequence order: the first one there that was sent
 * after RACK's segment, or that is not lost yet, ends the walk (all after
 * it are later still).  So a walk costs the lost and the retransmitted
 * bytes, not the flight, whatever SACK blocks a receiver sends.
 */
struct rack_walk {
	uint32_t lost;		/* bytes deemed lost */
	uint32_t timeout_us;	/* longest wait of a segment not yet lost; 0: none */
	/* first lost range at or after from, up to max bytes (max 0: not wanted) */
	uint32_t from, max, first, first_len;
};

/* The last unSACKed byte below seq (seq - 1 itself unless SACKed). */
static uint32_t rack_last_hole_byte(const struct tcp_sock *tp, uint32_t seq)
{
	uint32_t x = seq - 1;
	int i;

	for (i = tp->n_scoreboard - 1; i >= 0; i--) {
		const struct tcp_sack_block *b = &tp->rcvy->scoreboard[i];

		if (!tcp_before(x, b->start) && tcp_before(x, b->end))
			x = b->start - 1;
	}
	return x;
}

/*
 * [pseq, pend) of the hole [hs, ...) is lost: count it and grow the first
 * lost range.  true ends the walk (the range is full, or a gap ends it).
 */
static bool rack_walk_lost(struct rack_walk *w, uint32_t pseq, uint32_t pend, uint32_t hs,
			   uint32_t head_end)
{
	w->lost += pend - pseq;
	/* the hole's first bytes, alone in a slot they share with a
	 * retransmission just before the hole, look sent with it: resend
	 * them with the rest of their segment, not on their own */
	if (!w->first_len && pseq == head_end && head_end != hs)
		pseq = hs;
	if (!w->max || !tcp_after(pend, w->from))
		return false;
	if (tcp_before(pseq, w->from))
		pseq = w->from;
	if (!w->first_len)
		w->first = pseq;
	if (w->first + w->first_len != pseq)
		return true; /* a gap ends the first range */
	w->first_len += pend - pseq;
	if (w->first_len < w->max)
		return false;
	w->first_len = w->max;
	return true;
}

/*
 * The slot at pseq (sent elapsed µs ago) is not lost yet: it waits
 * thresh - elapsed more.  true ends the walk: a first range is wanted and
 * found, or pseq is past every retransmission, so the rest were sent
 * later; then the last of them before RACK's segment waits longest.
 */
static bool rack_walk_waiting(const struct tcp_sock *tp, struct rack_walk *w,
			      struct tcp_stamp_iter *it, uint32_t pseq, uint32_t end,
			      uint32_t thresh, uint32_t elapsed)
{
	uint32_t ds = sndq_seq(tp), last, ts;
	size_t se;

	if (thresh - elapsed > w->timeout_us)
		w->timeout_us = thresh - elapsed;
	if (w->max && w->first_len)
		return true;
	if (tcp_before(pseq, tp->rxt_high))
		return false;
	last = rack_last_hole_byte(tp, tp->rack_end_seq);
	if (tcp_after(last, pseq) && tcp_before(last, end)) {
		ts = tcp_stamp_iter_get(it, last - ds, &se);
		elapsed = rack_elapsed(tp->st, ts);
		if (it->c && elapsed < thresh && thresh - elapsed > w->timeout_us)
			w->timeout_us = thresh - elapsed;
	}
	return true;
}

static void rack_walk(const struct tcp_sock *tp, struct rack_walk *w)
{
	uint32_t ds = sndq_seq(tp), seq, end, hs, he, ts, thresh;
	uint32_t elapsed, pseq, pend, head_end;
	struct tcp_stamp_iter it;
	size_t off, eoff, se;

	if (!tcp_rack_on(tp) || !tp->rack_rtt_us || tp->ca_state == TCP_CA_LOSS)
		return;
	thresh = tp->rack_rtt_us + rack_reo_wnd(tp);
	seq = tcp_before(tp->snd_una, ds) ? ds : tp->snd_una;
	end = tcp_before(tp->snd_max, tp->write_seq) ? tp->snd_max : tp->write_seq;
	if (!tcp_before(seq, end))
		return;
	tcp_stamp_iter_start(&tp->sndq, seq - ds, &it);
	while (tcp_next_hole(tp, seq, end, &hs, &he)) {
		off = hs - ds;
		eoff = he - ds;
		head_end = hs;
		while (off < eoff) {
			ts = tcp_stamp_iter_get(&it, off, &se);
			if (!it.c)
				return;
			pseq = ds + (uint32_t)off;
			pend = ds + (uint32_t)(se < eoff ? se : eoff);
			/* the hole's last bytes, in a slot they share with the
			 * SACKed data after the hole, look sent with it: they
			 * go with the lost rest of their segment */
			if (se > eoff && w->max && w->first_len && w->first + w->first_len == pseq) {
				w->first_len += pend - pseq;
				if (w->first_len > w->max)
					w->first_len = w->max;
				return;
			}
			if (se > eoff)
				se = eoff;
			if (rack_sent_after(ts, pend, tp->rack_xmit_us, tp->rack_end_seq)) {
				/* beyond every retransmission, the rest are
				 * originals sent later still */
				if (!tcp_before(pseq, tp->rxt_high))
					return;
			} else if ((elapsed = rack_elapsed(tp->st, ts)) >= thresh) {
				if (rack_walk_lost(w, pseq, pend, hs, head_end))
					return;
			} else if (rack_walk_waiting(tp, w, &it, pseq, end, thresh, elapsed)) {
				return;
			}
			/* a first piece of the hole, shorter than a slot and
			 * not lost: see above */
			if (off == hs - ds && se < eoff && se - off < TCP_SLOT_MAX && !w->first_len)
				head_end = pend;
			off = se;
		}
		if (w->max && w->first_len)
			return;
		seq = he;
	}
}

/*
 * A lost range widened to the whole segments it lies in, as far as its hole
 * goes: a slot shared with a neighbour sent later holds the neighbour's
 * time, so the detected range may miss a few bytes at either end of a lost
 * segment, which would then go later, alone.  Segments are taken as cut at
 * multiples of the MSS from the first data byte (as bulk data is).
 */
static void rack_widen(const struct tcp_sock *tp, uint32_t *first, uint32_t *len, uint32_t max)
{
	uint32_t mss = tcp_send_mss(tp), base = tp->iss + 1, hs, he, s, e;
	uint8_t i;

	if (!tcp_next_hole(tp, *first, tp->snd_max, &hs, &he))
		return;
	hs = tp->snd_una; /* the hole's start: after the last block below it */
	for (i = 0; i < tp->n_scoreboard; i++)
		if (!tcp_after(tp->rcvy->scoreboard[i].end, *first))
			hs = tp->rcvy->scoreboard[i].end;
	s = *first - (*first - base) % mss;
	e = *first + *len;
	e += (mss - (e - base) % mss) % mss;
	if (tcp_before(s, hs))
		s = hs;
	if (tcp_after(e, he))
		e = he;
	if (tcp_after(e, tp->write_seq))
		e = tp->write_seq;
	if (!tcp_before(s, e) || e - s > max)
		return;
	*first = s;
	*len = e - s;
}

bool tcp_rack_next_lost(const struct tcp_sock *tp, uint32_t seq, uint32_t max, uint32_t *ls,
			uint32_t *len)
{
	struct rack_walk w = {.from = seq, .max = max ? max : 1};

	rack_walk(tp, &w);
	if (w.first_len)
		rack_widen(tp, &w.first, &w.first_len, w.max);
	*ls = w.first;
	*len = w.first_len;
	return w.first_len != 0;
}

void tcp_rack_dsack(struct stack *st, struct tcp_sock *tp, const struct tcp_sack_block *b)
{
	uint32_t len = b->end - b->start, mss = tcp_send_mss(tp);
	bool probe = tp->tlp_on && tp->tlp_retrans &&
		     (b->end == tp->tlp_end_seq || b->end + 1 == tp->tlp_end_seq); /* +1: a FIN */

	STACK_INC(st, tcp_dsack_rx);
	/* RFC 8985 7.4.2: the probe's retransmission reported as a duplicate:
	 * the original had arrived, nothing was lost */
	if (probe)
		tp->tlp_on = false;
	/* a range larger than any window is no report of ours (Linux) */
	if (len > tp->max_snd_wnd)
		return;
	/* As Linux's tcp_dsack_seen(): more duplicates than we ever
	 * retransmitted were made by the network, not by a too short
	 * reordering window; nor does a probe's duplicate say anything
	 * about reordering. */
	tp->dsack_dups += len > mss ? (len + mss - 1) / mss : 1;
	if (tp->dsack_dups > tp->retrans_total || probe || !tp->rack_reord)
		return;
	/* RFC 8985 6.2 step 4: one widening per round trip with D-SACKs */
	if (tp->rack_dsack_on && !tcp_before(tp->snd_una, tp->rack_dsack_round))
		tp->rack_dsack_on = false;
	if (!tp->rack_dsack_on) {
		tp->rack_dsack_on = true;
		tp->rack_dsack_round = tp->snd_max;
		if (tp->reo_wnd_mult < UINT8_MAX)
			tp->reo_wnd_mult++;
		tp->reo_wnd_persist = TCP_REO_PERSIST;
	}
}

void tcp_rack_recovery_end(struct tcp_sock *tp)
{
	/* RFC 8985 6.2 step 4: 16 recoveries without a D-SACK reset the window */
	if (tp->reo_wnd_persist && !--tp->reo_wnd_persist)
		tp->reo_wnd_mult = 1;
}

void tcp_prr_init(struct tcp_sock *tp)
{
	tp->prr_delivered = 0;
	tp->prr_out = 0;
	tp->recover_fs = tp->snd_max - tp->snd_una;
	if (!tp->recover_fs)
		tp->recover_fs = 1;
}

/* RFC 6937 3: cwnd for this ACK, delivered bytes newly ACKed or SACKed. */
static void tcp_prr_update(struct tcp_sock *tp, uint32_t delivered)
{
	uint32_t pipe = tcp_in_flight(tp), mss = tcp_send_mss(tp), ssthresh = tp->cc.ssthresh;
	int64_t sndcnt, limit;

	tp->prr_delivered += delivered;
	if (pipe > ssthresh) {
		/* proportional: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out */
		sndcnt = (int64_t)(((uint64_t)tp->prr_delivered * ssthresh + tp->recover_fs - 1) /
				   tp->recover_fs) -
			 tp->prr_out;
	} else {
		/* slow start reduction bound (PRR-SSRB) */
		limit = (int64_t)tp->prr_delivered - tp->prr_out;
		if (limit < delivered)
			limit = delivered;
		limit += mss;
		sndcnt = (int64_t)ssthresh - pipe;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	/* the fast retransmit goes with the ACK that starts recovery */
	if (!tp->prr_out && sndcnt < mss)
		sndcnt = mss;
	tp->cc.cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 8985 7.4.2: what the ACK says about an outstanding loss probe. */
static void tcp_tlp_ack(struct stack *st, struct tcp_sock *tp)
{
	uint32_t flight;

	if (!tp->tlp_on || tcp_before(tp->snd_una, tp->tlp_end_seq))
		return;
	if (!tp->tlp_retrans) {
		tp->tlp_on = false; /* new data probed: RACK judges the rest */
		return;
	}
	if (!tcp_after(tp->snd_una, tp->tlp_end_seq))
		return; /* wait: a D-SACK for the probe may still come */
	/* acknowledged beyond the probe without a D-SACK for it: the probe
	 * repaired a loss, the window is reduced once (RFC 8985 7.4.2) */
	tp->tlp_on = false;
	STACK_INC(st, tcp_tlp_recovered);
	if (tp->ca_state != TCP_CA_OPEN && tp->ca_state != TCP_CA_DISORDER)
		return;
	flight = tp->cc.cwnd;
	tp->cc.ssthresh = tp->cc_ops && tp->cc_ops->ssthresh
				  ? tp->cc_ops->ssthresh(&tp->cc, flight, st->now)
				  : (flight / 2 > 2 * tp->cc.mss ? flight / 2 : 2 * tp->cc.mss);
	if (tp->cc.cwnd > tp->cc.ssthresh)
		tp->cc.cwnd = tp->cc.ssthresh;
	tp->undo_ok = false;
	tp->dsack_undo_ok = false;
}

void tcp_tlp_schedule(struct stack *st, struct tcp_sock *tp)
{
	uint64_t pto;

	if (!tcp_rack_on(tp) || tp->tlp_on || tp->ca_state != TCP_CA_OPEN ||
	    tp->snd_una == tp->snd_max || tp->rtx_kind == TCP_RTX_REO || tp->backoff)
		return;
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}
	/* RFC 8985 7.2: PTO = 2 SRTT (+ WCDelAckT with one segment in flight) */
	pto = tp->srtt_us ? 2ULL * tp->srtt_us * NSEC_PER_USEC : NSEC_PER_SEC;
	if (tp->snd_max - tp->snd_una <= tcp_send_mss(tp))
		pto += TCP_TLP_WCDELACK_NS;
	if (pto < TCP_TLP_MIN_NS)
		pto = TCP_TLP_MIN_NS;
	if (pto >= (tp->rto_ns ? tp->rto_ns : TCP_RTO_INIT_NS))
		return; /* the RTO comes first: it stays armed */
	tp->rtx_kind = TCP_RTX_TLP;
	timer_mod(st, &tp->rtx_timer, st->now + pto);
}

uint32_t tcp_rack_on_ack(struct stack *st, struct tcp_sock *tp, uint32_t delivered,
			 uint32_t prior_una)
{
	struct rack_walk w = {0};
	uint32_t prev_lost = tp->rack_lost, newly_lost = 0;

	(void)prior_una;
	if (!tcp_rack_on(tp))
		return 0;
	if (tcp_before(tp->rxt_high, tp->snd_una))
		tp->rxt_high = tp->snd_una;
	tcp_tlp_ack(st, tp);
	tp->rack_lost = 0;
	if (tp->ca_state == TCP_CA_LOSS || tp->snd_una == tp->snd_max)
		return 0;
	rack_walk(tp, &w);
	tp->rack_lost = w.lost;
	/* what was lost and not resent before is still in w.lost: the rest
	 * is new (the delivery rate samples' C.lost) */
	if (w.lost > prev_lost) {
		newly_lost = w.lost - prev_lost;
		tp->rate_lost += newly_lost;
	}
	/* RFC 8985 6.2 step 5 + RFC 6675 5: a loss starts recovery, once per
	 * window (not again before SND.UNA passes the last RecoveryPoint) */
	if (w.lost && (tp->ca_state == TCP_CA_OPEN || tp->ca_state == TCP_CA_DISORDER) &&
	    !tcp_before(tp->snd_una, tp->recover))
		tcp_enter_recovery(st, tp);
	if (tp->ca_state == TCP_CA_RECOVERY) {
		/* an algorithm with cong_control sets cwnd itself (after this
		 * ACK's losses are known, tcp_ack.c): no PRR */
		if (!tcp_rate_on(tp))
			tcp_prr_update(tp, delivered);
		tcp_sack_xmit(st, tp);
	}
	if (w.timeout_us) {
		/* a segment may still be merely reordered: look again then */
		tp->rtx_kind = TCP_RTX_REO;
		timer_mod(st, &tp->rtx_timer, st->now + (uint64_t)w.timeout_us * NSEC_PER_USEC);
	} else if (tp->rtx_kind == TCP_RTX_REO) {
		tcp_rearm_rto(st, tp);
	} else {
		tcp_tlp_schedule(st, tp);
	}
	return newly_lost;
}

void tcp_rack_reo_timeout(struct stack *st, struct tcp_sock *tp)
{
	tcp_rearm_rto(st, tp); /* rtx_kind back to the RTO */
	tcp_rack_on_ack(st, tp, 0, tp->snd_una);
	if (tp->ca_state != TCP_CA_RECOVERY)
		tcp_push(st, tp);
}

void tcp_tlp_timeout(struct stack *st, struct tcp_sock *tp)
{
	uint32_t mss = tcp_send_mss(tp), len, cwnd = tp->cc.cwnd, sent = 0;

	tcp_rearm_rto(st, tp);
	if (tp->tlp_on || tp->ca_state != TCP_CA_OPEN || tp->snd_una == tp->snd_max)
		return;
	STACK_INC(st, tcp_tlp_probes);
	/* RFC 8985 7.3: new data if the receiver's window allows (cwnd may
	 * be exceeded by this one segment), else the last segment again */
	if (tp->snd_nxt == tp->snd_max) {
		tp->cc.cwnd = tcp_in_flight(tp) + mss;
		sent = tcp_push_one(st, tp, false);
		tp->cc.cwnd = cwnd;
	}
	tp->tlp_retrans = !sent;
	if (!sent) {
		len = tp->snd_max - tp->snd_una;
		if (len > mss)
			len = mss;
		if (tcp_retransmit(st, tp, tp->snd_max - len, len))
			return;
	}
	tp->tlp_on = true;
	tp->tlp_end_seq = tp->snd_max;
	tcp_rearm_rto(st, tp);
}

/* ---- entering fast recovery, and sending in it (RFC 6675, with RACK's losses) ---- */

/* tcp_retransmit() for loss recovery: the range is remembered for RFC 3708. */
int tcp_recovery_rtx(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t len)
{
	int err = tcp_retransmit(st, tp, seq, len);

	if (!err && tp->dsack_undo_ok)
		tcp_undo_rxt_add(tp, seq, seq + len);
	return err;
}

void tcp_enter_recovery(struct stack *st, struct tcp_sock *tp)
{
	uint32_t flight = tp->snd_max - tp->snd_una, mss = tcp_send_mss(tp), len;

	tcp_undo_mark(st, tp);
	/* RFC 5681 eq. 4 / RFC 6675 (4.2), by the algorithm */
	tp->cc.ssthresh = tp->cc_ops && tp->cc_ops->ssthresh
				  ? tp->cc_ops->ssthresh(&tp->cc, flight, st->now)
				  : max_u32(flight / 2, 2 * mss);
	tp->recover = tp->snd_max; /* RecoveryPoint = HighData */
	tp->ca_state = TCP_CA_RECOVERY;
	if (tp->cc_ops && tp->cc_ops->event)
		tp->cc_ops->event(&tp->cc, TCP_CA_EVENT_RECOVERY_START, st->now);
	len = min_u32(mss, flight);
	if (tcp_rack_on(tp)) {
		/* RACK found the losses; PRR paces what goes (tcp_rack.c) */
		STACK_INC(st, tcp_sack_recovery);
		tcp_prr_init(tp);
	} else {
		/* RFC 6582 3.2 step 2 / RFC 5681 3.2 steps 2-3 */
		STACK_INC(st, tcp_fast_retrans);
		tcp_recovery_rtx(st, tp, tp->snd_una, len);
		if (!tcp_cc_owns_cwnd(tp))
			tp->cc.cwnd = tp->cc.ssthresh + 3 * mss;
	}
}

/*
 * In recovery (SACK): send while cwnd - pipe >= 1 SMSS (RFC 6675 5 (C),
 * cwnd set by PRR), the segments RACK found lost first, then new data
 * (RFC 6675 NextSeg() rules 1 and 2; RACK-TLP leaves the rest to the
 * reordering timer and the loss probe, as Linux).
 */
void tcp_sack_xmit(struct stack *st, struct tcp_sock *tp)
{
	uint32_t mss = tcp_send_mss(tp), pipe, seq, len, n;
	int guard;

	if (tcp_before(tp->high_rxt, tp->snd_una))
		tp->high_rxt = tp->snd_una;
	for (guard = 0; guard < 1024; guard++) {
		pipe = tcp_in_flight(tp);
		if (pipe >= tp->cc.cwnd || tp->cc.cwnd - pipe < mss)
			return;
		/* a whole run of lost bytes, segment after segment: a
		 * retransmission restamps the slot it shares with the next
		 * lost segment, which would then look in flight */
		if (tcp_rack_next_lost(tp, tp->snd_una, tp->cc.cwnd, &seq, &len)) {
			while (len) {
				if (!tcp_pace_ready(st, tp))
					return; /* paced (BBR): the pacing timer resumes */
				n = min_u32(len, mss);
				if (tcp_recovery_rtx(st, tp, seq, n))
					return;
				STACK_INC(st, tcp_rack_marked_lost);
				tp->rack_lost = tp->rack_lost > n ? tp->rack_lost - n : 0;
				if (tcp_after(seq + n, tp->high_rxt))
					tp->high_rxt = seq + n;
				seq += n;
				len -= n;
				pipe = tcp_in_flight(tp);
				if (len && (pipe >= tp->cc.cwnd || tp->cc.cwnd - pipe < mss))
					return;
			}
			continue;
		}
		if (tp->snd_nxt == tp->snd_max && tcp_push_one(st, tp, false))
			continue;
		return;
	}
}

void tcp_push_nextseg(struct stack *st, struct tcp_sock *tp)
{
	bool idle = tp->snd_una == tp->snd_max; /* nothing sent yet */

	tcp_sack_xmit(st, tp);
	tcp_push_end(st, tp, idle, 0);
}
