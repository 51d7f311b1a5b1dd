// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TCP engine's sending side on one stack over the fake device: the
 * bytes of a SYN, segment sizes, cwnd and window limits, Nagle, the RTO
 * and its backoff, RFC 6298 RTT arithmetic, fast retransmit, NewReno
 * partial ACKs, RFC 6675 SACK recovery, persist probes, keepalive, the
 * delayed ACK and TIME_WAIT.  Connections are built directly in a state;
 * ACKs are given to tcp_ack() as parsed segments.  After each test every
 * frame is back in its pool and every send-buffer chunk in the TCP pool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/ipv4.h>
#include <skiff/proto/tcp.h>

#include "core/clock.h"
#include "core/csum.h"
#include "harness.h"
#include "transport/tcp_internal.h"

#define ISS 1000u
#define IRS 5000u
#define MS NSEC_PER_MSEC

struct out_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint32_t len; /* payload */
	uint8_t opt[40];
	uint32_t optlen;
	uint8_t payload[2048];
	int csum_ok;
};

/* Pop the next transmitted TCP segment; 0 when none. */
static int pop_seg(struct harness *h, struct out_seg *s)
{
	struct pkb *pkb = fakedev_pop_tx(&h->fd);
	const struct ip_hdr *ip = NULL;
	const struct tcp_hdr *th = NULL;
	size_t ihl = 0, tlen, doff = 0;

	if (!pkb)
		return 0;
	assert_int_equal(ip_hdr_parse(pkb->data + ETH_HLEN, pkb_len(pkb) - ETH_HLEN, &ip, &ihl),
			 PROTO_OK);
	assert_int_equal(ip->protocol, IPPROTO_TCP);
	assert_true(get_be16(&ip->frag_off) & IP_DF);
	tlen = get_be16(&ip->tot_len) - ihl;
	assert_int_equal(tcp_hdr_parse((const uint8_t *)ip + ihl, tlen, &th, &doff), PROTO_OK);
	memset(s, 0, sizeof(*s));
	s->seq = get_be32(&th->seq);
	s->ack = get_be32(&th->ack_seq);
	s->flags = th->flags;
	s->wnd = get_be16(&th->window);
	s->optlen = (uint32_t)doff - TCP_HDR_LEN;
	memcpy(s->opt, th + 1, s->optlen);
	s->len = (uint32_t)(tlen - doff);
	memcpy(s->payload, (const uint8_t *)th + doff, s->len);
	s->csum_ok = csum_tcpudp_magic(ip->saddr, ip->daddr, (uint32_t)tlen, IPPROTO_TCP,
				       csum_partial(th, tlen, 0)) == 0;
	pkb_free(pkb);
	return 1;
}

static int count_segs(struct harness *h)
{
	struct out_seg s;
	int n = 0;

	while (pop_seg(h, &s))
		n++;
	return n;
}

static int setup(void **state)
{
	struct harness *h;

	if (harness_setup_peer(state))
		return -1;
	h = *state;
	if (!h->st.tcp && tcp_init(&h->st))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;

	assert_int_equal(tcp_chunk_pool_in_use(tcp_chunks(&h->st)), 0);
	return harness_teardown(state);
}

/* A new connection object, as a socket's (tcp_init_sock). */
static struct tcp_sock *new_conn(struct harness *h)
{
	struct tcp_sock *tp = tcp_sock_alloc(&h->st, &tcp_prot);

	assert_non_null(tp);
	tcp_timers_init(tp);
	return tp;
}

/* A connection in ESTABLISHED: ISS 1000, IRS 5000, NewReno, cwnd 10 MSS. */
static struct tcp_sock *est(struct harness *h, uint16_t mss, bool sack, bool ts)
{
	struct tcp_sock *tp = new_conn(h);

	inet_addr_set4(&tp->sk.saddr6, H_ADDR);
	inet_addr_set4(&tp->sk.daddr6, H_PEER);
	tp->sk.sport = htons(40000);
	tp->sk.dport = htons(80);
	tp->state = TCP_ESTABLISHED;
	tp->iss = ISS;
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->write_seq = ISS + 1;
	tp->irs = IRS;
	tp->rcv_nxt = tp->rcv_wup = IRS + 1;
	tp->snd_wl1 = IRS + 1;
	tp->snd_wl2 = ISS + 1;
	tp->snd_wnd = tp->max_snd_wnd = 65535;
	tp->mss = mss;
	tp->adv_mss = 1460;
	tp->sack_ok = sack;
	tp->ts_ok = ts;
	tp->cc_ops = &tcp_newreno;
	tcp_cong_init(tp, h->st.now);
	tp->cc.cwnd = 10u * mss;
	tp->last_rcv_ns = h->st.now;
	assert_int_equal(tcp_hash(&h->st, tp), 0);
	return tp;
}

static void put_data(struct harness *h, struct tcp_sock *tp, uint32_t len)
{
	uint8_t buf[4096];
	uint32_t i, n;

	while (len) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (uint8_t)(tp->write_seq + i);
		assert_int_equal(tcp_stream_append(tcp_chunks(&h->st), &tp->sndq, buf, n), n);
		tp->write_seq += n;
		len -= n;
	}
}

static void kill(struct harness *h, struct tcp_sock *tp)
{
	tp->orphan = true;
	tcp_set_state(&h->st, tp, TCP_CLOSED);
	fakedev_purge(&h->fd);
}

/* An ACK from the peer as tcp_input.c would parse it. */
static uint32_t ack_seg(struct harness *h, struct tcp_sock *tp, uint32_t ack, uint32_t wnd,
			const struct tcp_sack_block *sack, int n_sack)
{
	struct tcp_seg seg;

	memset(&seg, 0, sizeof(seg));
	seg.seq = tp->rcv_nxt;
	seg.end_seq = tp->rcv_nxt;
	seg.ack = ack;
	seg.wnd = wnd;
	seg.flags = TCPF_ACK;
	seg.wscale = -1;
	seg.n_sack = (uint8_t)n_sack;
	if (n_sack)
		memcpy(seg.sack, sack, (size_t)n_sack * sizeof(*sack));
	return tcp_ack(&h->st, tp, &seg);
}

static void syn_carries_mss_sack_timestamps_and_window_scale(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = new_conn(h);
	struct out_seg s;
	uint32_t tsval;

	inet_addr_set4(&tp->sk.saddr6, H_ADDR);
	inet_addr_set4(&tp->sk.daddr6, H_PEER);
	tp->sk.sport = htons(40000);
	tp->sk.dport = htons(80);
	tp->iss = ISS;
	tp->adv_mss = tcp_mss_for_route(&h->st, H_A4(H_PEER));
	assert_int_equal(tp->adv_mss, 1460);
	tp->state = TCP_SYN_SENT;
	tcp_hash(&h->st, tp);
	assert_int_equal(tcp_send_syn(&h->st, tp), 0);
	assert_true(pop_seg(h, &s));
	assert_true(s.csum_ok);
	assert_int_equal(s.flags, TCPF_SYN);
	assert_int_equal(s.seq, ISS);
	assert_int_equal(s.wnd, 65535); /* never scaled on a SYN */
	assert_int_equal(s.optlen, 20);
	{
		/* MSS 1460, SACK-permitted, TS, NOP, WS 3 (256 KiB >> 3 fits 16 bits) */
		const uint8_t want_head[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
		const uint8_t want_tail[] = {0, 0, 0, 0, 1, 3, 3, 3};

		assert_memory_equal(s.opt, want_head, sizeof(want_head));
		assert_memory_equal(s.opt + 12, want_tail, sizeof(want_tail));
	}
	tsval = get_be32(s.opt + 8);
	assert_int_equal(tsval, tcp_tsval(tp, h->st.now));
	assert_int_equal(tp->snd_nxt, ISS + 1);
	assert_true(timer_pending(&tp->rtx_timer));
	/* the SYN goes again after the initial RTO of 1 s (RFC 6298 2.1) */
	harness_advance(h, 999 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 2 * MS);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.flags, TCPF_SYN);
	assert_int_equal(s.seq, ISS);
	kill(h, tp);
}

static void syn_ack_offers_only_what_the_peer_offered(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = new_conn(h);
	struct out_seg s;
	const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};

	inet_addr_set4(&tp->sk.saddr6, H_ADDR);
	inet_addr_set4(&tp->sk.daddr6, H_PEER);
	tp->sk.sport = htons(80);
	tp->sk.dport = htons(40000);
	tp->iss = ISS;
	tp->rcv_nxt = IRS + 1;
	tp->adv_mss = 1460;
	tp->sack_ok = true; /* peer offered SACK only */
	tp->state = TCP_SYN_RECEIVED;
	assert_int_equal(tcp_send_syn(&h->st, tp), 0); /* not hashed: no timer */
	assert_false(timer_pending(&tp->rtx_timer));
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.flags, TCPF_SYN | TCPF_ACK);
	assert_int_equal(s.ack, IRS + 1);
	assert_int_equal(s.optlen, sizeof(want));
	assert_memory_equal(s.opt, want, sizeof(want));
	kill(h, tp);
}

static void data_leaves_in_mss_segments_up_to_cwnd(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;
	int i;

	put_data(h, tp, 15000);
	tcp_push(&h->st, tp);
	for (i = 0; i < 10; i++) {
		assert_true(pop_seg(h, &s));
		assert_true(s.csum_ok);
		assert_int_equal(s.seq, ISS + 1 + 1000u * i);
		assert_int_equal(s.len, 1000);
		assert_int_equal(s.ack, IRS + 1);
		assert_int_equal(s.payload[0], (uint8_t)s.seq);
		assert_int_equal(s.payload[999], (uint8_t)(s.seq + 999));
	}
	assert_false(pop_seg(h, &s)); /* cwnd (10 MSS) is full */
	assert_int_equal(tcp_in_flight(tp), 10000);
	assert_true(timer_pending(&tp->rtx_timer));

	/* an ACK of 2 segments frees room: the window now limits to 3000 */
	assert_int_equal(ack_seg(h, tp, ISS + 1 + 2000, 2000 + 8000 + 3000 - 2000, NULL, 0), 2000);
	assert_int_equal(tp->sndq.len, 13000);
	/* right edge = 2000 + 11000: three more MSS fit the window */
	assert_int_equal(count_segs(h), 3);
	assert_int_equal(tp->snd_nxt, ISS + 1 + 13000);
	kill(h, tp);
}

static void nagle_holds_a_small_segment_while_data_is_unacked(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;

	put_data(h, tp, 100);
	tcp_push(&h->st, tp);
	assert_true(pop_seg(h, &s)); /* nothing unacked: it goes */
	assert_int_equal(s.len, 100);
	assert_true(s.flags & TCPF_PSH);
	put_data(h, tp, 100);
	tcp_push(&h->st, tp);
	assert_false(pop_seg(h, &s)); /* held (RFC 1122 4.2.3.4) */
	ack_seg(h, tp, ISS + 101, 65535, NULL, 0);
	assert_true(pop_seg(h, &s)); /* the ACK releases it */
	assert_int_equal(s.seq, ISS + 101);
	assert_int_equal(s.len, 100);
	/* with nodelay a small segment goes at once */
	tp->nodelay = true;
	put_data(h, tp, 10);
	tcp_push(&h->st, tp);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.len, 10);
	/* a small last segment with the FIN is not held */
	tp->nodelay = false;
	put_data(h, tp, 10);
	tp->fin_queued = true;
	tcp_push(&h->st, tp);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.len, 10);
	assert_true(s.flags & TCPF_FIN);
	kill(h, tp);
}

static void rto_retransmits_the_first_segment_and_doubles(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	uint64_t rto0 = h->fd.stats.tcp_rto;
	struct out_seg s;

	put_data(h, tp, 3000);
	tcp_push(&h->st, tp);
	assert_int_equal(count_segs(h), 3);
	harness_advance(h, 999 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 2 * MS); /* 1 s: RFC 6298 2.1 */
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS + 1);
	assert_int_equal(s.len, 1000);
	assert_int_equal(s.payload[5], (uint8_t)(ISS + 1 + 5));
	assert_false(pop_seg(h, &s)); /* cwnd = 1 MSS (RFC 5681 eq. 5) */
	assert_int_equal(tp->ca_state, TCP_CA_LOSS);
	assert_int_equal(tp->cc.cwnd, 1000);
	assert_int_equal(h->fd.stats.tcp_rto, rto0 + 1);
	/* backed off: 2 s */
	harness_advance(h, 1990 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 20 * MS);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS + 1);
	/* then 4 s */
	harness_advance(h, 3990 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 20 * MS);
	assert_true(pop_seg(h, &s));
	/* go-back-N: the ACK of the first brings the next two in slow start */
	ack_seg(h, tp, ISS + 1001, 65535, NULL, 0);
	assert_int_equal(tp->backoff, 0);
	assert_int_equal(count_segs(h), 2);
	ack_seg(h, tp, ISS + 3001, 65535, NULL, 0);
	assert_int_equal(tp->ca_state, TCP_CA_OPEN);
	assert_false(timer_pending(&tp->rtx_timer));
	kill(h, tp);
}

static void rto_is_capped_and_gives_up_after_r2(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	int i;

	tp->orphan = true; /* freed by the abort */
	put_data(h, tp, 500);
	tcp_push(&h->st, tp);
	for (i = 0; i < 40 && !h->fd.stats.tcp_timeouts; i++) {
		/* RFC 6298 2.5: never more than the maximum */
		assert_true(tp->rtx_timer.expires - h->st.now <= TCP_RTO_MAX_NS);
		harness_advance(h, TCP_RTO_MAX_NS);
		fakedev_purge(&h->fd);
	}
	/* R2: 15 retransmissions, the 16th expiry aborts (RFC 1122 4.2.3.5) */
	assert_int_equal(h->fd.stats.tcp_timeouts, 1);
	assert_int_equal(h->fd.stats.tcp_rto, TCP_RETRIES2 + 1);
	assert_int_equal(h->fd.stats.tcp_retrans_segs, TCP_RETRIES2);
}

static void rtt_estimates_follow_rfc6298(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);

	put_data(h, tp, 100);
	tcp_push(&h->st, tp);
	clock_advance(100 * MS);
	h->st.now = clock_now();
	ack_seg(h, tp, ISS + 101, 65535, NULL, 0);
	/* first: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR */
	assert_int_equal(tp->srtt_us, 100000);
	assert_int_equal(tp->rttvar_us, 50000);
	assert_int_equal(tp->rto_ns, 300 * MS);
	put_data(h, tp, 100);
	tcp_push(&h->st, tp);
	clock_advance(200 * MS);
	h->st.now = clock_now();
	ack_seg(h, tp, ISS + 201, 65535, NULL, 0);
	/* RTTVAR = 3/4 * 50000 + 1/4 * |100000 - 200000|, SRTT = 7/8 * 100000 + 1/8 * 200000 */
	assert_int_equal(tp->rttvar_us, 62500);
	assert_int_equal(tp->srtt_us, 112500);
	assert_int_equal(tp->rto_ns, (112500 + 250000) * NSEC_PER_USEC);
	/* a tiny RTT still leaves the RTO at the minimum */
	put_data(h, tp, 100);
	tcp_push(&h->st, tp);
	ack_seg(h, tp, ISS + 301, 65535, NULL, 0);
	assert_true(tp->rto_ns >= TCP_RTO_MIN_NS);
	/* Karn: a retransmitted segment gives no sample */
	put_data(h, tp, 100);
	tcp_push(&h->st, tp);
	tcp_retransmit(&h->st, tp, ISS + 301, 100);
	assert_int_equal(tp->rtt_start, 0);
	kill(h, tp);
}

static void three_dupacks_fast_retransmit_then_newreno_partial_ack(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;
	int i;

	put_data(h, tp, 10000);
	tcp_push(&h->st, tp);
	assert_int_equal(count_segs(h), 10);
	/* segment 1 lost; segment 2 arrived */
	ack_seg(h, tp, ISS + 1, 65535, NULL, 0);
	ack_seg(h, tp, ISS + 1, 65535, NULL, 0);
	assert_false(pop_seg(h, &s));
	ack_seg(h, tp, ISS + 1, 65535, NULL, 0);
	assert_true(pop_seg(h, &s)); /* third dupack: fast retransmit */
	assert_int_equal(s.seq, ISS + 1);
	assert_int_equal(s.len, 1000);
	assert_int_equal(tp->ca_state, TCP_CA_RECOVERY);
	assert_int_equal(tp->cc.ssthresh, 5000); /* FlightSize / 2 */
	assert_int_equal(tp->cc.cwnd, 5000 + 3000);
	assert_int_equal(h->fd.stats.tcp_fast_retrans, 1);
	/* further dupacks inflate cwnd: new data goes once cwnd exceeds flight */
	for (i = 0; i < 3; i++)
		ack_seg(h, tp, ISS + 1, 65535, NULL, 0);
	assert_int_equal(tp->cc.cwnd, 11000);
	assert_int_equal(count_segs(h), 0); /* flight 10000 + nothing more queued */
	/* partial ACK up to segment 4 (also lost): it goes at once */
	ack_seg(h, tp, ISS + 1 + 4000, 65535, NULL, 0);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS + 1 + 4000);
	assert_int_equal(tp->ca_state, TCP_CA_RECOVERY);
	/* the full ACK ends recovery */
	ack_seg(h, tp, ISS + 1 + 10000, 65535, NULL, 0);
	assert_int_equal(tp->ca_state, TCP_CA_OPEN);
	assert_true(tp->cc.cwnd <= tp->cc.ssthresh);
	kill(h, tp);
}

static void sack_recovery_retransmits_the_holes_the_blocks_show(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, true, false);
	struct tcp_sack_block b[2];
	struct out_seg s;

	put_data(h, tp, 10000);
	tcp_push(&h->st, tp);
	assert_int_equal(count_segs(h), 10);
	/* the ACKs come one RTT later: RACK judges losses by time */
	harness_advance(h, 10 * MS);
	/* segments 1 and 4 lost: the peer SACKs 2-3 and 5-10 */
	b[0].start = ISS + 1 + 4000;
	b[0].end = ISS + 1 + 10000;
	b[1].start = ISS + 1 + 1000;
	b[1].end = ISS + 1 + 3000;
	ack_seg(h, tp, ISS + 1, 65535, &b[1], 1);
	assert_int_equal(tp->ca_state, TCP_CA_DISORDER);
	ack_seg(h, tp, ISS + 1, 65535, b, 2);
	/* segments sent after 1 and 4 were delivered, an RTT after they left:
	 * RACK (RFC 8985) deems both lost -> recovery, PRR sends both */
	assert_int_equal(tp->ca_state, TCP_CA_RECOVERY);
	assert_int_equal(h->fd.stats.tcp_sack_recovery, 1);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS + 1);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS + 1 + 3000); /* the second hole, also lost */
	assert_int_equal(tp->cc.cwnd, tp->cc.ssthresh);
	/* cumulative ACK of everything ends recovery */
	ack_seg(h, tp, ISS + 1 + 10000, 65535, NULL, 0);
	assert_int_equal(tp->ca_state, TCP_CA_OPEN);
	assert_int_equal(tp->n_scoreboard, 0);
	kill(h, tp);
}

static void zero_window_is_probed_with_backoff(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;

	tp->snd_wnd = 0;
	put_data(h, tp, 500);
	tcp_push(&h->st, tp);
	assert_false(pop_seg(h, &s));
	assert_true(timer_pending(&tp->rtx_timer));
	harness_advance(h, 1001 * MS);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS); /* SND.UNA - 1, no data */
	assert_int_equal(s.len, 0);
	assert_int_equal(h->fd.stats.tcp_zero_window_probes, 1);
	/* the peer answers, window still 0: the next probe after 2 s */
	ack_seg(h, tp, ISS + 1, 0, NULL, 0);
	harness_advance(h, 1990 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 20 * MS);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.len, 0);
	/* the window opens: the data goes */
	ack_seg(h, tp, ISS + 1, 65535, NULL, 0);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.len, 500);
	kill(h, tp);
}

/* RFC 9293 3.8.6.2.1: a peer whose largest window is 1 byte gets its byte
 * on each ACK (1 >= half of 1), not on the persist timer's ticks. */
static void a_one_byte_window_gets_a_byte_per_ack(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;
	uint32_t i;

	tp->snd_wnd = tp->max_snd_wnd = 1;
	tp->nodelay = true;
	put_data(h, tp, 5);
	tcp_push(&h->st, tp);
	for (i = 0; i < 5; i++) {
		assert_true(pop_seg(h, &s));
		assert_int_equal(s.seq, ISS + 1 + i);
		assert_int_equal(s.len, 1);
		assert_false(pop_seg(h, &s)); /* the window holds one */
		ack_seg(h, tp, ISS + 2 + i, 1, NULL, 0);
	}
	assert_false(pop_seg(h, &s));
	assert_int_equal(h->fd.stats.tcp_zero_window_probes, 0);
	kill(h, tp);

	/* a peer that once offered 64 KiB and now has 100 bytes left gets
	 * nothing yet: sender SWS avoidance, more is queued than fits */
	tp = est(h, 1000, false, false);
	tp->snd_wnd = 100;
	tp->nodelay = true;
	put_data(h, tp, 5000);
	tcp_push(&h->st, tp);
	assert_false(pop_seg(h, &s));
	kill(h, tp);
}

static void keepalive_probes_then_aborts(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;
	int i;

	tp->orphan = true; /* freed by the abort */
	tp->keepalive = true;
	tp->keepidle_s = 10;
	tp->keepintvl_s = 2;
	tp->keepcnt = 3;
	tcp_reset_keepalive(&h->st, tp);
	harness_advance(h, 9990 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 20 * MS);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.seq, ISS); /* SEG.SEQ = SND.UNA - 1 */
	assert_int_equal(s.len, 0);
	for (i = 0; i < 2; i++) {
		harness_advance(h, 2000 * MS);
		assert_true(pop_seg(h, &s));
	}
	assert_int_equal(h->fd.stats.tcp_keepalive_probes, 3);
	harness_advance(h, 2000 * MS); /* 3 unanswered: RST and abort */
	assert_true(pop_seg(h, &s));
	assert_true(s.flags & TCPF_RST);
	assert_int_equal(h->fd.stats.tcp_timeouts, 1);
}

static void delayed_ack_after_40ms_and_at_once_on_second_full_segment(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	struct out_seg s;

	tp->rcv_nxt += 1000;
	tcp_ack_schedule(&h->st, tp, true);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 39 * MS);
	assert_false(pop_seg(h, &s));
	harness_advance(h, 2 * MS);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.flags, TCPF_ACK);
	assert_int_equal(s.ack, IRS + 1 + 1000);
	assert_int_equal(h->fd.stats.tcp_delayed_acks, 1);
	/* two full segments: ACK at once, timer cancelled */
	tp->rcv_nxt += 1000;
	tcp_ack_schedule(&h->st, tp, true);
	assert_false(pop_seg(h, &s));
	tp->rcv_nxt += 1000;
	tcp_ack_schedule(&h->st, tp, true);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.ack, IRS + 1 + 3000);
	assert_false(timer_pending(&tp->delack_timer));
	kill(h, tp);
}

static void window_advertised_never_shrinks_and_avoids_sws(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);
	uint8_t junk[3000] = {0};
	uint32_t w;

	tp->rcvbuf = 8000;
	tp->rcv_wnd = 0;
	w = tcp_select_window(tp);
	assert_int_equal(w, 8000);
	/* 3000 bytes arrive and sit unread: the right edge stays */
	tcp_stream_append(tcp_chunks(&h->st), &tp->rcvq, junk, sizeof(junk));
	tp->rcv_nxt += 3000;
	assert_int_equal(tcp_select_window(tp), 5000);
	/* the reader takes 100 bytes: too small a step to advertise */
	tcp_stream_drop(tcp_chunks(&h->st), &tp->rcvq, 100);
	assert_int_equal(tcp_select_window(tp), 5000);
	/* 1500 more (1600 in all, above one MSS): the edge moves */
	tcp_stream_drop(tcp_chunks(&h->st), &tp->rcvq, 1500);
	assert_int_equal(tcp_select_window(tp), 6600);
	tcp_stream_purge(tcp_chunks(&h->st), &tp->rcvq);
	kill(h, tp);
}

static void reset_for_a_segment_without_connection(void **state)
{
	struct harness *h = *state;
	struct tcp_seg seg;
	struct out_seg s;

	memset(&seg, 0, sizeof(seg));
	inet_addr_set4(&seg.saddr, H_PEER);
	inet_addr_set4(&seg.daddr, H_ADDR);
	seg.sport = htons(1234);
	seg.dport = htons(99);
	seg.seq = 777;
	seg.flags = TCPF_SYN;
	tcp_send_reset_for(&h->st, &seg);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.flags, TCPF_RST | TCPF_ACK);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.ack, 778);
	seg.flags = TCPF_ACK;
	seg.ack = 4242;
	tcp_send_reset_for(&h->st, &seg);
	assert_true(pop_seg(h, &s));
	assert_int_equal(s.flags, TCPF_RST);
	assert_int_equal(s.seq, 4242);
	seg.flags = TCPF_RST;
	tcp_send_reset_for(&h->st, &seg);
	assert_false(pop_seg(h, &s));
}

static void time_wait_ends_after_60_seconds(void **state)
{
	struct harness *h = *state;
	struct tcp_sock *tp = est(h, 1000, false, false);

	tcp_enter_time_wait(&h->st, tp);
	assert_int_equal(tp->state, TCP_TIME_WAIT);
	harness_advance(h, 30ULL * NSEC_PER_SEC);
	tcp_enter_time_wait(&h->st, tp); /* restarted by a retransmitted FIN */
	harness_advance(h, 59ULL * NSEC_PER_SEC);
	assert_int_equal(tp->state, TCP_TIME_WAIT);
	harness_advance(h, 2ULL * NSEC_PER_SEC);
	assert_int_equal(tp->state, TCP_CLOSED);
	tcp_sock_free(&h->st, tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(syn_carries_mss_sack_timestamps_and_window_scale),
		T(syn_ack_offers_only_what_the_peer_offered),
		T(data_leaves_in_mss_segments_up_to_cwnd),
		T(nagle_holds_a_small_segment_while_data_is_unacked),
		T(rto_retransmits_the_first_segment_and_doubles),
		T(rto_is_capped_and_gives_up_after_r2),
		T(rtt_estimates_follow_rfc6298),
		T(three_dupacks_fast_retransmit_then_newreno_partial_ack),
		T(sack_recovery_retransmits_the_holes_the_blocks_show),
		T(zero_window_is_probed_with_backoff),
		T(keepalive_probes_then_aborts),
		T(delayed_ack_after_40ms_and_at_once_on_second_full_segment),
		T(window_advertised_never_shrinks_and_avoids_sws),
		T(a_one_byte_window_gets_a_byte_per_ack),
		T(reset_for_a_segment_without_connection),
		T(time_wait_ends_after_60_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
