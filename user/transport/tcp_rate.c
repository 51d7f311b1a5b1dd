// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Delivery rate samples (draft-ietf-ccwg-bbr, "Delivery Rate Samples";
 * Linux's net/ipv4/tcp_rate.c) for a congestion control with cong_control
 * (BBR).  When bytes leave, the send stream's chunk remembers the
 * connection's delivered count and times (tcp_buf.h: one record per chunk,
 * taken at its first transmission); when an ACK delivers bytes, the most
 * recent record among them (the draft's "P") gives the sample:
 *   delivered = C.delivered - P.delivered
 *   interval  = max(P.sent - P.first_send, C.delivered_time - P.delivered_time)
 * the larger of the send and the ACK interval, so that neither a burst
 * sent nor ACKs compressed on the way back make the rate look higher than
 * the path's.  A sample over less than min_RTT is not used.  While the
 * sender has no data to fill cwnd with (C.app_limited), its samples are
 * marked application-limited: they say the path can do at least that.
 * Connections whose algorithm has no cong_control keep no records.
 */
#include <stdbool.h>
#include <string.h>

#include "core/clock.h"
#include "core/stack.h"
#include "transport/tcp_internal.h"

static inline uint32_t rate_now_us(const struct stack *st)
{
	return (uint32_t)(st->now / NSEC_PER_USEC);
}

void tcp_rate_on_send(struct stack *st, struct tcp_sock *tp, uint32_t off, uint32_t len,
		      uint32_t in_flight)
{
	uint32_t now = rate_now_us(st);
	struct tcp_rate_rec r;

	if (!tcp_rate_on(tp) || !len)
		return;
	/* nothing in flight: the first segment of a new flight times both
	 * intervals from here (Linux's tcp_rate_skb_sent) */
	if (tp->snd_una == tp->snd_max) {
		tp->rate_first_send_us = now;
		tp->rate_delivered_us = now;
	}
	r.delivered = tp->rate_delivered;
	r.delivered_us = tp->rate_delivered_us;
	r.first_send_us = tp->rate_first_send_us;
	r.sent_us = now;
	r.tx_in_flight = in_flight + len;
	r.lost = tp->rate_lost;
	tcp_stream_rate_set(&tp->sndq, off, len, &r, tp->rate_app_limited != 0);
}

void tcp_rate_delivered(struct tcp_sock *tp, struct tcp_rate_acc *acc, uint32_t start, uint32_t end)
{
	uint32_t ds = tp->write_seq - tp->sndq.len, s = start, e = end;

	if (!tcp_rate_on(tp) || !tcp_before(start, end))
		return;
	tp->rate_delivered += end - start;
	acc->newly += end - start;
	if (tcp_before(s, ds))
		s = ds; /* the SYN */
	if (tcp_after(e, tp->write_seq))
		e = tp->write_seq; /* the FIN */
	if (tcp_before(s, e))
		tcp_stream_rate_get(&tp->sndq, s - ds, e - s, &acc->p, &acc->app_limited,
				    &acc->have);
}

void tcp_rate_gen(struct stack *st, struct tcp_sock *tp, const struct tcp_rate_acc *acc,
		  struct tcp_rate_sample *rs)
{
	uint32_t now = rate_now_us(st), send_elapsed, ack_elapsed, interval;
	const struct tcp_rate_rec *p = &acc->p;

	memset(rs, 0, sizeof(*rs));
	if (acc->newly)
		tp->rate_delivered_us = now;
	/* the application-limited stretch ends once its data is delivered */
	if (tp->rate_app_limited && (int32_t)(tp->rate_delivered - tp->rate_app_limited) > 0)
		tp->rate_app_limited = 0;
	rs->conn_delivered = tp->rate_delivered;
	rs->newly_acked = acc->newly;
	if (!acc->have)
		return;
	rs->prior_delivered = p->delivered;
	rs->is_app_limited = acc->app_limited;
	rs->tx_in_flight = p->tx_in_flight;
	rs->lost = tp->rate_lost - p->lost;
	/* since the first transmission of P's chunk: at least the RTT */
	if ((int32_t)(now - p->sent_us) > 0)
		rs->rtt_us = now - p->sent_us;
	/* the next flight's send interval starts at P's transmission */
	if ((int32_t)(p->sent_us - tp->rate_first_send_us) > 0)
		tp->rate_first_send_us = p->sent_us;
	send_elapsed = p->sent_us - p->first_send_us;
	ack_elapsed = tp->rate_delivered_us - p->delivered_us;
	interval = send_elapsed > ack_elapsed ? send_elapsed : ack_elapsed;
	rs->delivered = tp->rate_delivered - p->delivered;
	/* shorter than an RTT: the ACKs were compressed, not the path fast */
	if (!rs->delivered || !interval || (int32_t)interval < 0 || interval < tp->cc.min_rtt_us)
		return;
	rs->interval_us = interval;
}

void tcp_rate_check_app_limited(struct tcp_sock *tp)
{
	uint32_t in_flight, unsent;

	if (!tcp_rate_on(tp))
		return;
	in_flight = tcp_in_flight(tp);
	unsent = tcp_after(tp->write_seq, tp->snd_nxt) ? tp->write_seq - tp->snd_nxt : 0;
	/* draft "Detecting application-limited phases": less than a segment
	 * unsent, room in cwnd, no loss waiting to be resent */
	if (unsent < tcp_send_mss(tp) && in_flight < tp->cc.cwnd &&
	    !tcp_rack_lost_bytes(tp)) {
		tp->rate_app_limited = tp->rate_delivered + in_flight;
		if (!tp->rate_app_limited)
			tp->rate_app_limited = 1;
	}
}
