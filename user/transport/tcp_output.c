// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP output (after Linux's net/ipv4/tcp_output.c): every segment skiff
 * sends is built here, in one transmit frame with the Ethernet, IPv4 and
 * TCP headers pushed into its headroom.  Payload is copied from the send
 * stream (tp->sndq holds the bytes from SND.UNA on), so a retransmission is
 * built exactly like a first transmission.  The copy starts where the last
 * one ended (the stream remembers the chunk, so building a segment does not
 * walk the send buffer from SND.UNA) and sums the payload for the checksum
 * as it goes (tcp_stream_copy_csum).
 *
 * tcp_push_one() decides whether the next segment may leave now: the
 * peer's window, the congestion window less what is in flight, the MSS,
 * Nagle (RFC 1122 4.2.3.4) and the sender's SWS avoidance (RFC 9293
 * 3.8.6.2.1); tcp_push_new() sends new data with it, outside SACK
 * recovery, for tcp_push() (tcp_internal.h: loss detection sends by RFC
 * 6675 NextSeg in recovery and arms the loss probe).  When the peer's
 * window is closed with data waiting, it leaves the persist timer
 * (tcp_timer.c) to probe.  The receive window we advertise is chosen by
 * tcp_select_window() (receiver SWS avoidance, RFC 9293 3.8.6.2.2, never
 * shrinking the right edge, RFC 9293 3.8.6).  An algorithm with a pacing rate (BBR) has its
 * data segments leave no faster than that rate: each one moves the
 * connection's release time on by its length over the rate; a segment
 * due later waits on the stack's pacing list, which one timer serves for
 * every connection (a late timer's catching up is bounded to one tick of
 * the wheel, 1 ms, as a burst).  Every segment is sent with DF set: path MTU
 * discovery (RFC 1191) lowers tp->mss when an ICMP "fragmentation needed"
 * comes back (tcp_input.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/csum.h"
#include "core/netdev.h"
#include "core/stack.h"
#include "net/ip.h"
#include "net/ipv6.h"
#include "transport/tcp_internal.h"

/* One segment to build, with or without a connection. */
struct tcp_out {
	union inet_addr saddr, daddr; /* IPv4 mapped; saddr a wildcard: the route's */
	uint16_t sport, dport; /* network order */
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t tos;  /* IP TOS byte: ECT(0) on new data with ECN (RFC 3168 6.1.1) */
	uint16_t wnd; /* window field, already scaled */
	const uint8_t *opt;
	uint32_t optlen;	      /* multiple of 4, <= 40 */
	struct tcp_stream *src; /* payload source, or NULL */
	uint32_t src_off;
	uint32_t len; /* payload bytes */
	struct tcp_sock *tp; /* the connection (its route kept), or NULL */
};

/*
 * The IPv4 route of o: a connection keeps its last one and uses it again
 * for the same destination (net/ip.h: ip_route_reuse), instead of a
 * lookup per segment.  Only with a source address: a connection's is
 * local (bound, chosen by connect's lookup, or a SYN's destination) and
 * the lookup would answer it unchanged.
 */
static int tcp_route(struct stack *st, const struct tcp_out *o, struct rtable *rt)
{
	struct tcp_sock *tp = o->tp;
	uint32_t daddr = o->daddr.w[3], saddr = o->saddr.w[3];
	int err;

	if (tp && saddr && daddr && tp->rt_daddr == daddr) {
		ip_route_reuse(st, daddr, saddr, tp->rt_nexthop, tp->rt_slot, rt);
		return 0;
	}
	err = ip_route_output(st, daddr, saddr, rt);
	if (tp) {
		tp->rt_daddr = err ? 0 : daddr;
		tp->rt_nexthop = err ? 0 : rt->nexthop;
		tp->rt_slot = err ? 0 : rt->slot;
	}
	return err;
}

/* Build and send one segment.  0 or -errno (nothing sent). */
static int tcp_xmit(struct stack *st, const struct tcp_out *o)
{
	uint32_t hlen = TCP_HDR_LEN + o->optlen, tlen = hlen + o->len;
	bool v4 = inet_addr_is4(&o->daddr);
	struct rtable rt;
	struct rt6 rt6;
	struct pkb *pkb;
	struct tcp_hdr *th;
	uint16_t check;
	uint32_t sum = 0;
	int err;

	if (v4)
		err = tcp_route(st, o, &rt);
	else
		err = ip6_route_output(st, o->daddr.b,
				       inet_addr_is_any(&o->saddr) ? NULL : o->saddr.b, &rt6);
	if (err)
		return err;
	pkb = netdev_alloc_pkb_len(st->dev, st->big_pool, tlen);
	if (!pkb) {
		st->stats->drop.no_frame++;
		return -ENOBUFS;
	}
	pkb_reset_transport_header(pkb);
	th = __pkb_put(pkb, tlen);
	memset(th, 0, TCP_HDR_LEN);	/* reserved bits, checksum, urgent pointer */
	th->source = o->sport;
	th->dest = o->dport;
	put_be32(&th->seq, o->seq);
	put_be32(&th->ack_seq, (o->flags & TCPF_ACK) ? o->ack : 0);
	th->doff = (uint8_t)(hlen / 4);
	th->flags = o->flags;
	put_be16(&th->window, o->wnd);
	if (o->optlen)
		memcpy(th + 1, o->opt, o->optlen);
	/* The payload's sum is taken as it is copied (hlen is a multiple of 4,
	 * so it adds to the header's as it is). */
	if (o->len && tcp_stream_copy_csum(o->src, o->src_off, (uint8_t *)th + hlen, o->len,
					   &sum) != o->len) {
		pkb_free(pkb);
		/* a file queued by reference shrank (lost), else the stream is
		 * shorter than the range: a bug */
		return o->src->lost ? -EIO : -EINVAL;
	}
	/* RFC 9293 3.1, RFC 8200 8.1: checksum over the pseudo-header,
	 * header and data. */
	if (v4)
		check = csum_tcpudp_magic(rt.saddr, o->daddr.w[3], tlen, IPPROTO_TCP,
					  csum_partial(th, hlen, sum));
	else
		check = csum_fold(csum_partial(th, hlen,
					       csum_add(sum, ipv6_pseudo_sum(rt6.saddr, o->daddr.b,
									     tlen, IPPROTO_TCP))));
	th->check = check;

	/* DF: path MTU discovery (RFC 1191), segments are never fragmented;
	 * over IPv6 the traffic class carries the ECN bits as TOS does.  A
	 * connection's own TTL / hop limit and TOS / traffic class (IP_TTL,
	 * IPV6_UNICAST_HOPS, IP_TOS, IPV6_TCLASS; their ECN bits are clear). */
	if (v4)
		err = ip_output(st, pkb, &rt, IPPROTO_TCP,
				o->tp ? (uint8_t)(o->tos | sk_tos(&o->tp->sk, true)) : o->tos,
				o->tp ? sk_ttl(&o->tp->sk, true) : IP_DEFAULT_TTL, true);
	else
		err = ip6_output(st, pkb, &rt6, IPPROTO_TCP,
				 o->tp ? (uint8_t)(o->tos | sk_tos(&o->tp->sk, false)) : o->tos,
				 o->tp ? sk_ttl(&o->tp->sk, false) : SK_DEFAULT_TTL, true);
	if (err)
		return err;
	STACK_INC(st, tcp_out_segs);
	if (o->flags & TCPF_RST)
		STACK_INC(st, tcp_out_rsts);
	return 0;
}

uint16_t tcp_mss_for_route(struct stack *st, const union inet_addr *daddr)
{
	struct rtable rt;
	struct rt6 rt6;

	/* RFC 9293 3.7.1: MSS = MTU - 20 (IPv4) - 20 (TCP) */
	if (inet_addr_is4(daddr)) {
		if (ip_route_output(st, daddr->w[3], 0, &rt) || rt.mtu <= 40 + 8)
			return TCP_MSS_DEFAULT;
		return (uint16_t)min_u32(rt.mtu - 40, 65535 - 40);
	}
	/* RFC 8200 8.3: MSS = MTU - 40 (IPv6) - 20 (TCP); the MTU is >= 1280 */
	if (ip6_route_output(st, daddr->b, NULL, &rt6))
		return TCP_MSS_DEFAULT6;
	return (uint16_t)min_u32(rt6.mtu - 60, 65535 - 60);
}

/* Options of a data or ACK segment: TS (RFC 7323 3.2), SACK blocks (RFC 2018 4). */
static uint32_t tcp_data_options(struct stack *st, const struct tcp_sock *tp, uint8_t *p)
{
	uint32_t n = 0, i, nblk;

	if (tp->ts_ok) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_NOP;
		p[2] = TCPOPT_TS;
		p[3] = 10;
		put_be32(p + 4, tcp_tsval(tp, st->now));
		put_be32(p + 8, tp->ts_recent);
		n = TCPOLEN_TS_ALIGNED;
	}
	nblk = tcp_sack_nblocks(tp);
	if (nblk) {
		p[n] = TCPOPT_NOP;
		p[n + 1] = TCPOPT_NOP;
		p[n + 2] = TCPOPT_SACK;
		p[n + 3] = (uint8_t)(2 + 8 * nblk);
		n += 4;
		if (tp->dsack_pending) {
			/* RFC 2883 4: the duplicate first, then the usual blocks */
			put_be32(p + n, tp->rcvy->dsack.start);
			put_be32(p + n + 4, tp->rcvy->dsack.end);
			n += 8;
			nblk--;
		}
		for (i = 0; i < nblk; i++) {
			put_be32(p + n, tp->rcvy->rcv_sacks[i].start);
			put_be32(p + n + 4, tp->rcvy->rcv_sacks[i].end);
			n += 8;
		}
	}
	return n;
}

uint32_t tcp_select_window(struct tcp_sock *tp)
{
	uint32_t used = tp->rcvq.len + tp->ooo.bytes;
	uint32_t free_space = used < tp->rcvbuf ? tp->rcvbuf - used : 0;
	uint32_t scale = tp->wscale_ok ? tp->rcv_wscale : 0;
	uint32_t right = tp->rcv_wup + tp->rcv_wnd; /* right edge advertised last */
	uint32_t cur = tcp_after(right, tp->rcv_nxt) ? right - tp->rcv_nxt : 0;
	uint32_t mss = tp->adv_mss ? tp->adv_mss : (tp->mss ? tp->mss : TCP_MSS_DEFAULT);
	uint32_t win = min_u32(free_space, 65535u << scale);
	uint32_t field;

	/* RFC 9293 3.8.6.2.2: move the right edge only by min(rcvbuf/2, MSS) or more. */
	if (win > cur && win - cur < min_u32(tp->rcvbuf / 2, mss))
		win = cur;
	/* RFC 9293 3.8.6: never shrink the window once offered. */
	if (win < cur)
		win = cur;
	field = win >> scale;
	if ((field << scale) < cur)
		field++; /* round up rather than shrink */
	if (field > 65535)
		field = 65535;
	tp->rcv_wnd = field << scale;
	tp->rcv_wup = tp->rcv_nxt;
	return field;
}

/* What every segment of a connection shares. */
static void tcp_out_init(struct tcp_out *o, struct tcp_sock *tp)
{
	memset(o, 0, sizeof(*o));
	o->tp = tp;
	o->saddr = tp->sk.saddr6;
	o->daddr = tp->sk.daddr6;
	o->sport = tp->sk.sport;
	o->dport = tp->sk.dport;
	o->ack = tp->rcv_nxt;
	/* RFC 3168 6.1.3: ECN-Echo on every segment until the peer's CWR
	 * (tcp_send_syn sets its flags itself) */
	if (tp->ecn_ece)
		o->flags = TCPF_ECE;
}

/* An ACK goes with this segment: nothing is owed any more. */
static void tcp_ack_sent(struct stack *st, struct tcp_sock *tp)
{
	tp->pending_acks = 0;
	tp->ack_now = false;
	tp->ack_wnd = false;
	tp->dsack_pending = false;	/* a D-SACK is reported once (RFC 2883 4) */
	if (timer_pending(&tp->delack_timer))
		timer_del(st, &tp->delack_timer);
	if (tp->rcvy && !tp->n_rcv_sacks)
		tcp_recovery_idle(st, tp); /* nothing more to report */
}

/* ---- pacing ---- */

#define TCP_PACE_BURST_NS	NSEC_PER_MSEC	/* the timer wheel's tick */

static uint64_t tcp_pacing_rate(const struct tcp_sock *tp)
{
	return tp->cc_ops && tp->cc_ops->pacing_rate ? tp->cc_ops->pacing_rate(&tp->cc) : 0;
}

/* len bytes left: the next may leave len / rate later. */
static void tcp_pace_sent(struct stack *st, struct tcp_sock *tp, uint32_t len)
{
	uint64_t rate = tcp_pacing_rate(tp), base = tp->pace_next_ns;

	if (!rate)
		return;
	/* behind by more than a tick (idle, or a late timer): at most one
	 * tick's worth goes at once */
	if (st->now > TCP_PACE_BURST_NS && base < st->now - TCP_PACE_BURST_NS)
		base = st->now - TCP_PACE_BURST_NS;
	tp->pace_next_ns = base + (uint64_t)len * NSEC_PER_SEC / rate;
}

bool tcp_pace_ready(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_pacer *p;

	if (tp->pace_next_ns <= st->now || !tcp_pacing_rate(tp))
		return true;
	if (tp->pace_wait)
		return false;
	p = tcp_pacer(st);
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? 2 * p->cap : 64;
		struct tcp_sock **v = realloc(p->conns, cap * sizeof(*v));

		if (!v)
			return true; /* no memory for the list: send unpaced */
		p->conns = v;
		p->cap = cap;
	}
	p->conns[p->n++] = tp;
	tp->pace_wait = true;
	tcp_pace_arm(st, p, tp->pace_next_ns);
	return false;
}

void tcp_pace_cancel(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_pacer *p;
	uint32_t i;

	if (!tp->pace_wait)
		return;
	tp->pace_wait = false;
	p = tcp_pacer(st);
	for (i = 0; i < p->n; i++) {
		if (p->conns[i] == tp) {
			p->conns[i] = p->conns[--p->n];
			return;
		}
	}
}

/*
 * Send [seq, seq + len) from sndq, with the FIN when fin.  Does not move
 * SND.NXT.  retrans: the range was sent before (counted; Karn's rule).
 */
static int tcp_send_range(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t len,
			  bool fin, bool retrans)
{
	uint8_t opt[TCP_MAX_OPT_LEN];
	uint32_t data_start = tp->write_seq - tp->sndq.len;
	struct tcp_out o;
	int err;

	tcp_out_init(&o, tp);
	o.seq = seq;
	o.flags |= TCPF_ACK | (fin ? TCPF_FIN : 0);
	/* RFC 3168 6.1.1 / 6.1.5: new data is ECN-capable, retransmissions
	 * are not; the first new data after a reduction carries CWR (6.1.2) */
	if (tp->ecn_ok && len && !retrans) {
		o.tos = TCP_IP_ECT0;
		if (tp->ecn_cwr)
			o.flags |= TCPF_CWR;
	}
	if (len && seq + len == tp->write_seq)
		o.flags |= TCPF_PSH;
	o.optlen = tcp_data_options(st, tp, opt);
	o.opt = opt;
	o.wnd = (uint16_t)tcp_select_window(tp);
	o.src = &tp->sndq;
	o.src_off = seq - data_start;
	o.len = len;
	/* RACK's transmit time of these bytes (RFC 8985 6.1), in the stream */
	if (len)
		tcp_stream_stamp(&tp->sndq, o.src_off, len, tcp_rack_stamp(st, tp));
	/* ... and the delivery rate record of their chunk (tcp_rate.c) */
	if (len && tcp_rate_on(tp))
		tcp_rate_on_send(st, tp, o.src_off, len, tcp_in_flight(tp));
	err = tcp_xmit(st, &o);
	if (err == -EIO) {
		/* The file being sent shrank: its bytes can no longer be sent
		 * as promised.  The connection is reset from the retransmission
		 * timer (tcp_rtx_fire), now, where it may go away safely. */
		timer_mod(st, &tp->rtx_timer, st->now);
		return err;
	}
	if (err)
		return err;
	tcp_ack_sent(st, tp);
	if (o.flags & TCPF_CWR)
		tp->ecn_cwr = false;
	if (len || fin)
		tp->last_send_ns = st->now;
	if (len)
		tcp_pace_sent(st, tp, len);
	if (retrans) {
		STACK_INC(st, tcp_retrans_segs);
		tp->retrans_total++;
		tp->rtt_start = 0; /* Karn: no sample from an ambiguous ACK */
		/* the restamped slots may reach one slot further (RACK's
		 * walk must not take them for originals) */
		if (tcp_after(seq + len + TCP_SLOT_MAX, tp->rxt_high))
			tp->rxt_high = seq + len + TCP_SLOT_MAX;
	}
	if (tp->ca_state == TCP_CA_RECOVERY)
		tp->prr_out += len + (fin ? 1 : 0); /* RFC 6937 prr_out */
	if (fin)
		tp->fin_sent = true;
	return 0;
}

int tcp_retransmit(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t len)
{
	uint32_t mss = tcp_send_mss(tp), end = seq + len, n;
	bool fin;
	int err;

	while (tcp_before(seq, end)) {
		/* the FIN is the sequence number after the last data byte */
		n = min_u32(end - seq, mss);
		fin = false;
		if (tp->fin_sent && tcp_after(seq + n, tp->write_seq)) {
			n = tp->write_seq - seq;
			fin = true;
		}
		if (!n && !fin)
			break;
		err = tcp_send_range(st, tp, seq, n, fin, true);
		if (err)
			return err;
		seq += n + (fin ? 1 : 0);
	}
	return 0;
}

static bool tcp_can_send_data(const struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* Unsent data or FIN at SND.NXT. */
static bool tcp_has_unsent(const struct tcp_sock *tp)
{
	if (tcp_after(tp->write_seq, tp->snd_nxt))
		return true;
	return tp->fin_queued && tp->snd_nxt == tp->write_seq;
}

/*
 * Send one segment at SND.NXT if the rules allow; returns the sequence
 * space it used (0: nothing sent).  force: the persist timer's SWS override
 * (RFC 9293 3.8.6.2.1 (d)) — ignore Nagle and the SWS rule.
 */
uint32_t tcp_push_one(struct stack *st, struct tcp_sock *tp, bool force)
{
	uint32_t seq = tp->snd_nxt, mss = tcp_send_mss(tp);
	uint32_t avail, wnd_end, wnd_room, in_flight, cwnd_room, len;
	bool retrans = tcp_before(seq, tp->snd_max), fin, half_wnd = false;

	if (!tcp_can_send_data(tp) || !tcp_has_unsent(tp))
		return 0;
	avail = tcp_after(tp->write_seq, seq) ? tp->write_seq - seq : 0;
	fin = tp->fin_queued;
	wnd_end = tp->snd_una + tp->snd_wnd;
	if (retrans && tcp_after(tp->snd_max, wnd_end))
		wnd_end = tp->snd_max; /* what was once in the window may go again */
	wnd_room = tcp_after(wnd_end, seq) ? wnd_end - seq : 0;
	in_flight = tcp_in_flight(tp);
	cwnd_room = tp->cc.cwnd > in_flight ? tp->cc.cwnd - in_flight : 0;

	len = min_u32(avail, mss);
	if (len > wnd_room) {
		/* RFC 9293 3.8.6.2.1: a window-limited piece only if it is at
		 * least half the largest window the peer offered. */
		if (force || (wnd_room && wnd_room >= tp->max_snd_wnd / 2)) {
			len = wnd_room;
			half_wnd = true;
		} else {
			return 0;
		}
	}
	if (len > cwnd_room && !(force && !in_flight))
		return 0; /* RFC 5681: never beyond cwnd */
	if (!len && (avail || !cwnd_room))
		return 0;
	fin = fin && seq + len == tp->write_seq;
	/* RFC 1122 4.2.3.4 (Nagle): a small segment only when nothing is
	 * unacknowledged, unless it ends the stream with the FIN. */
	if (!force && !retrans && len < mss && !fin && !tp->nodelay && tp->snd_una != tp->snd_max)
		return 0;
	/* sender SWS: more is queued than may go now; wait, unless the
	 * piece is at least half the peer's largest window (3.8.6.2.1's
	 * second rule: a peer whose window is that small gets it at once) */
	if (!force && !retrans && len < mss && len < avail && !half_wnd)
		return 0;
	if (len && !force && !tcp_pace_ready(st, tp))
		return 0; /* paced: the pacing timer sends it */

	if (tcp_send_range(st, tp, seq, len, fin, retrans))
		return 0;
	/* RFC 6298 / Karn: time one new segment when timestamps are off */
	if (!retrans && !tp->ts_ok && !tp->rtt_start && len) {
		tp->rtt_seq = seq + len;
		tp->rtt_start = st->now ? st->now : 1;
	}
	tp->snd_nxt = seq + len + (fin ? 1 : 0);
	if (tcp_after(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	return len + (fin ? 1 : 0);
}

static bool tcp_push_begin(struct stack *st, struct tcp_sock *tp, bool idle)
{
	if (!tcp_can_send_data(tp))
		return false;
	if (!tcp_has_unsent(tp)) {
		tcp_rate_check_app_limited(tp); /* out of data */
		return false;
	}
	if (!tp->cc.cwnd)
		tcp_cong_init(tp, st->now);
	tp->cc.mss = tcp_send_mss(tp);
	/* RFC 5681 4.1: restart from the initial window after an idle RTO. */
	if (idle && tp->last_send_ns && st->now - tp->last_send_ns > tp->rto_ns && tp->cc_ops &&
	    tp->cc_ops->event)
		tp->cc_ops->event(&tp->cc, TCP_CA_EVENT_IDLE_RESTART, st->now);
	return true;
}

static inline void __tcp_push_end(struct stack *st, struct tcp_sock *tp, bool idle,
				  uint32_t sent)
{
	if (tp->snd_una != tp->snd_max) {
		/* RFC 6298 5.1: the timer runs while data is outstanding */
		if (idle || !timer_pending(&tp->rtx_timer))
			tcp_rearm_rto(st, tp);
	} else if (!sent && tcp_has_unsent(tp) && !timer_pending(&tp->rtx_timer) &&
		   !tp->pace_wait) {
		/* RFC 9293 3.8.6.1: window closed (or too small) with data
		 * waiting and nothing in flight to bring an update: persist. */
		tcp_arm_persist(st, tp);
	}
	/* out of data with room in cwnd: the rate samples say so */
	if (!tp->pace_wait)
		tcp_rate_check_app_limited(tp);
}

int tcp_push_new(struct stack *st, struct tcp_sock *tp)
{
	bool idle = tp->snd_una == tp->snd_max;
	uint32_t sent = 0, n;

	if (!tcp_push_begin(st, tp, idle))
		return 0;
	if (tp->ca_state == TCP_CA_RECOVERY && tp->sack_ok)
		return TCP_PUSH_NEXTSEG; /* RFC 6675 NextSeg decides (tcp_rack.c) */
	while ((n = tcp_push_one(st, tp, false)) > 0)
		sent += n;
	__tcp_push_end(st, tp, idle, sent);
	return (int)sent;
}

void tcp_push_end(struct stack *st, struct tcp_sock *tp, bool idle, uint32_t sent)
{
	__tcp_push_end(st, tp, idle, sent);
}

void tcp_send_ack(struct stack *st, struct tcp_sock *tp)
{
	uint8_t opt[TCP_MAX_OPT_LEN];
	struct tcp_out o;

	tcp_out_init(&o, tp);
	/* RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	o.seq = tp->snd_max;
	o.flags |= TCPF_ACK;
	o.optlen = tcp_data_options(st, tp, opt);
	o.opt = opt;
	o.wnd = (uint16_t)tcp_select_window(tp);
	tcp_ack_sent(st, tp);
	tcp_xmit(st, &o);
}

void tcp_ack_schedule(struct stack *st, struct tcp_sock *tp, bool full_segment)
{
	if (full_segment)
		tp->pending_acks++;
	/*
	 * RFC 1122 4.2.3.2 / RFC 9293 3.8.6.3: ACK at least every second
	 * full-sized segment, here once at the end of the burst that brought
	 * them (tcp_ack_defer); RFC 5681 4.2: at once for an out-of-order
	 * segment (input sets ack_now, or data waits in the ooo queue).
	 * Otherwise delay, by less than 0.5 s.
	 */
	if (tp->ack_now || tp->ooo.nsegs) {
		tcp_send_ack(st, tp);
		return;
	}
	if (tp->pending_acks >= 2) {
		tcp_ack_defer(st, tp);
		return;
	}
	if (!timer_pending(&tp->delack_timer))
		timer_mod(st, &tp->delack_timer, st->now + TCP_DELACK_NS);
}

/* SYN / SYN-ACK options, RFC 9293 3.7.1, RFC 7323 2.2 / 3.2, RFC 2018 2. */
static uint32_t tcp_syn_options(struct stack *st, struct tcp_sock *tp, bool synack, uint8_t *p)
{
	bool ts = synack ? tp->ts_ok : true;
	bool sack = synack ? tp->sack_ok : true;
	bool ws = synack ? tp->wscale_ok : true;
	uint32_t n = 0;

	p[n++] = TCPOPT_MSS;
	p[n++] = 4;
	put_be16(p + n, tp->adv_mss ? tp->adv_mss : TCP_MSS_DEFAULT);
	n += 2;
	if (ts) {
		if (sack) {
			p[n++] = TCPOPT_SACK_OK;
			p[n++] = 2;
		} else {
			p[n++] = TCPOPT_NOP;
			p[n++] = TCPOPT_NOP;
		}
		p[n++] = TCPOPT_TS;
		p[n++] = 10;
		put_be32(p + n, tcp_tsval(tp, st->now));
		/* RFC 7323 3.2: TSecr is 0 on a SYN, TS.Recent on a SYN-ACK */
		put_be32(p + n + 4, synack ? tp->ts_recent : 0);
		n += 8;
	} else if (sack) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_SACK_OK;
		p[n++] = 2;
	}
	if (ws) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_WS;
		p[n++] = 3;
		p[n++] = tp->rcv_wscale;
	}
	return n;
}

/* RFC 7323 2.2: the smallest shift that lets the window cover rcvbuf. */
static uint8_t tcp_choose_wscale(uint32_t rcvbuf)
{
	uint8_t s = 0;

	while (s < TCP_MAX_WSCALE && (rcvbuf >> s) > 65535)
		s++;
	return s;
}

int tcp_send_syn(struct stack *st, struct tcp_sock *tp)
{
	bool synack = tp->state == TCP_SYN_RECEIVED;
	bool again = tp->snd_max == tp->iss + 1;
	uint8_t opt[TCP_MAX_OPT_LEN];
	struct tcp_out o;
	int err;

	if (tp->state != TCP_SYN_SENT && !synack)
		return -EINVAL;
	if (!synack || tp->wscale_ok)
		tp->rcv_wscale = tcp_choose_wscale(tp->rcvbuf);
	tcp_out_init(&o, tp);
	o.seq = tp->iss;
	o.flags = TCPF_SYN | (synack ? TCPF_ACK : 0);
	/* RFC 3168 6.1.1: an ECN-setup SYN (ECE and CWR) asks, an ECN-setup
	 * SYN-ACK (ECE alone) agrees.  A retransmitted SYN goes without
	 * (6.1.1.1: a middlebox may drop ECN-setup SYNs; Linux's fallback). */
	if (!synack) {
		tp->ecn_ok = tp->ecn_mode == 1 && !again; /* until the SYN-ACK says */
		if (tp->ecn_ok)
			o.flags |= TCPF_ECE | TCPF_CWR;
	} else if (tp->ecn_ok) {
		o.flags |= TCPF_ECE;
	}
	o.optlen = tcp_syn_options(st, tp, synack, opt);
	o.opt = opt;
	/* RFC 7323 2.2: the window of a SYN is never scaled */
	o.wnd = (uint16_t)min_u32(tp->rcvbuf, 65535);
	tp->rcv_wnd = o.wnd;
	tp->rcv_wup = tp->rcv_nxt;
	err = tcp_xmit(st, &o);
	if (synack)
		tcp_ack_sent(st, tp);
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss + 1;
	tp->snd_max = tp->iss + 1;
	if (!tp->sndq.len && !tp->fin_queued)
		tp->write_seq = tp->iss + 1;
	if (!err) {
		tp->last_send_ns = st->now;
		if (again) {
			STACK_INC(st, tcp_retrans_segs);
			tp->retrans_total++;
			tp->rtt_start = 0; /* Karn */
		} else {
			tp->rtt_seq = tp->iss + 1;
			tp->rtt_start = st->now ? st->now : 1;
		}
	}
	/* A SYN-cookie answer is a transient object, never hashed: no timer. */
	if (tp->in_hash && (!again || !timer_pending(&tp->rtx_timer)))
		tcp_rearm_rto(st, tp);
	return err;
}

static void tcp_send_rst(struct stack *st, const union inet_addr *saddr,
			 const union inet_addr *daddr, uint16_t sport, uint16_t dport, uint32_t seq,
			 uint32_t ack, uint8_t flags)
{
	struct tcp_out o;

	memset(&o, 0, sizeof(o));
	o.saddr = *saddr;
	o.daddr = *daddr;
	o.sport = sport;
	o.dport = dport;
	o.seq = seq;
	o.ack = ack;
	o.flags = flags;
	tcp_xmit(st, &o);
}

void tcp_send_reset_for(struct stack *st, const struct tcp_seg *seg)
{
	/* RFC 9293 3.10.7.1: never a RST in answer to a RST */
	if (seg->flags & TCPF_RST)
		return;
	if (seg->flags & TCPF_ACK)
		/* <SEQ=SEG.ACK><CTL=RST> */
		tcp_send_rst(st, &seg->daddr, &seg->saddr, seg->dport, seg->sport, seg->ack, 0,
			     TCPF_RST);
	else
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counted */
		tcp_send_rst(st, &seg->daddr, &seg->saddr, seg->dport, seg->sport, 0,
			     seg->seq + seg->len + ((seg->flags & TCPF_SYN) ? 1 : 0) +
				     ((seg->flags & TCPF_FIN) ? 1 : 0),
			     TCPF_RST | TCPF_ACK);
}

void tcp_send_active_reset(struct stack *st, struct tcp_sock *tp)
{
	/* RFC 9293 3.10.4 ABORT: <SEQ=SND.NXT><CTL=RST> (with the ACK, as Linux) */
	if (tp->state == TCP_SYN_SENT || tp->state == TCP_CLOSED || tp->state == TCP_LISTEN)
		return;
	tcp_send_rst(st, &tp->sk.saddr6, &tp->sk.daddr6, tp->sk.sport, tp->sk.dport, tp->snd_max,
		     tp->rcv_nxt, TCPF_RST | TCPF_ACK);
}

void tcp_send_probe(struct stack *st, struct tcp_sock *tp)
{
	uint8_t opt[TCP_MAX_OPT_LEN];
	struct tcp_out o;

	/* RFC 1122 4.2.3.6 / RFC 9293 3.8.6.1: an old sequence number
	 * (SND.UNA - 1), no data: the peer must answer with an ACK that
	 * carries its current window. */
	tcp_out_init(&o, tp);
	o.seq = tp->snd_una - 1;
	o.flags |= TCPF_ACK;
	o.optlen = tcp_data_options(st, tp, opt);
	o.opt = opt;
	o.wnd = (uint16_t)tcp_select_window(tp);
	tcp_xmit(st, &o);
}

/* ---- the burst's deferred ACKs (on tcp_defer's list; tcp.c flushes it after a burst) ---- */

/*
 * The ACK that in-order data owes (RFC 9293 3.8.6.3: at least one for every
 * second full-sized segment) leaves once per burst, after every segment of
 * the burst was taken in: the role of GRO in Linux, which hands TCP one
 * large segment per burst and so gets one ACK decision for it.  So does
 * the window update of an application's reads (tcp_recvmsg): the socket
 * events of the burst are dispatched before this flush, so one ACK carries
 * the data received and the window the reads opened, however many reads
 * there were (unless data the application sent carried it already).  A
 * burst is at most two STACK_RX_BURSTs (hand-off and device), the list is
 * TCP_DEFER_MAX long; should more connections owe one, the rest ACK at
 * once, as does anything outside stack_poll() (st->in_poll), where no
 * flush would follow.
 */
void tcp_ack_defer(struct stack *st, struct tcp_sock *tp)
{
	if (!tcp_defer(st, tp, TCP_DEFER_ACK))
		tcp_send_ack(st, tp); /* no burst to wait for, or no room */
}

/*
 * The ACK that completes our handshake, and the one a FIN asks for in
 * ESTABLISHED, are owed at once (RFC 9293 3.10.7.3, 3.10.7.4), but the
 * application is woken by the same segment and usually answers within the
 * burst: its request after connect(), its own close() after the peer's.
 * Sent at the end of the burst, the ACK rides on that segment instead of
 * going out alone just before it (a connect/request/close exchange: 7
 * segments instead of 9; Linux delays the first one too, in its "quick
 * ACK" / deferred-accept logic).  Outside a burst, at once.
 */
void tcp_ack_soon(struct stack *st, struct tcp_sock *tp)
{
	if (!tp->pending_acks)
		tp->pending_acks = 1;	/* what tcp_ack_owed() looks at */
	tcp_ack_defer(st, tp);
}

/*
 * Send buffer autotuning, after Linux's tcp_sndbuf_expand() and
 * tcp_should_expand_sndbuf().  The send queue holds everything from SND.UNA
 * on, so a buffer of one cwnd caps the flight at cwnd with nothing queued
 * behind it, and a smaller one caps it below what congestion control allows.
 * When the buffer is what stops the sender (flight below cwnd with the
 * buffer full), make room for 2 x cwnd, or the flight plus one cwnd if that
 * is more (recovery).  Not while the application owns the size
 * (SKIFF_SO_SNDBUF, Linux's SOCK_SNDBUF_LOCK), never below the current size,
 * never past TCP_SNDBUF_AUTO_MAX nor 1/TCP_SNDBUF_POOL_SHARE of the shared
 * chunk pool's limit, and not while more than half of that limit is in use
 * (Linux's memory pressure): one connection must not take the pool.
 */
void tcp_sndbuf_expand(struct stack *st, struct tcp_sock *tp)
{
	const struct tcp_chunk_pool *pool = &st->tcp->chunks;
	uint64_t want, cap;
	uint32_t flight, cwnd = tp->cc.cwnd;

	if (tp->sndbuf_locked || tp->sndbuf >= TCP_SNDBUF_AUTO_MAX)
		return;
	flight = tcp_in_flight(tp);
	if (flight >= cwnd)
		return; /* cwnd is the limit, not the buffer */
	if (tcp_chunk_pool_in_use(pool) > pool->max / 2)
		return;
	want = 2 * (uint64_t)cwnd;
	if ((uint64_t)flight + cwnd > want)
		want = (uint64_t)flight + cwnd;
	cap = (uint64_t)pool->max * TCP_CHUNK_DATA / TCP_SNDBUF_POOL_SHARE;
	if (cap > TCP_SNDBUF_AUTO_MAX)
		cap = TCP_SNDBUF_AUTO_MAX;
	if (want > cap)
		want = cap;
	if (want > tp->sndbuf)
		tp->sndbuf = (uint32_t)want;
}
