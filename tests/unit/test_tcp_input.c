// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP input (user/transport/tcp_input.c, tcp.c) on crafted segments: the
 * peer is the test, writing TCP headers byte by byte (checksums computed
 * here, independently of core/csum.c) and reading back what the stack
 * transmits.  RST for closed ports (RFC 9293 3.10.7.1), passive open and
 * its options, every case of the acceptability test, RFC 5961 challenge
 * ACKs, PAWS, out-of-order data with SACK blocks, FIN, hostile headers,
 * and SYN cookies under a SYN flood.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "udptest.h"

#include "core/clock.h"
#include "sock/socket.h"
#include "transport/tcp_internal.h"
#include "transport/tcp_isn.h"

#define T_PORT		8080
#define T_PPORT		40000
#define T_PEER_ISN	1000000u
#define T_SHARED	0x0300000aU	/* 10.0.0.3, shared with the kernel */

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* ---- crafting segments from the peer ---- */

static uint16_t t_tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *seg, size_t len)
{
	uint32_t sum = 0;

	sum = t_sum(&saddr, 4, sum);
	sum = t_sum(&daddr, 4, sum);
	sum += IPPROTO_TCP;
	sum += (uint32_t)len;
	return (uint16_t)~t_fold(t_sum(seg, len, sum));
}

struct t_out {
	uint32_t daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *opt;
	size_t optlen;		/* multiple of 4 */
	const void *data;
	size_t len;
	int doff_override;	/* header words instead of the right value (0: none) */
	bool bad_csum;
};

/* Set: t_send only queues its frame on the device; the next stack_poll()
 * takes every queued frame in one burst. */
static bool t_hold;

static void t_send(struct harness *h, const struct t_out *o)
{
	static uint8_t seg[4096], frame[4200];
	static uint16_t id = 1;
	struct tcp_hdr *th = (struct tcp_hdr *)seg;
	size_t hl = TCP_HDR_LEN + o->optlen, n;
	uint16_t c;

	memset(seg, 0, hl);
	put_be16(&th->source, o->sport);
	put_be16(&th->dest, o->dport);
	put_be32(&th->seq, o->seq);
	put_be32(&th->ack_seq, o->ack);
	th->doff = (uint8_t)(o->doff_override ? o->doff_override : (int)(hl / 4));
	th->flags = o->flags;
	put_be16(&th->window, o->wnd);
	if (o->optlen)
		memcpy(th + 1, o->opt, o->optlen);
	if (o->len)
		memcpy(seg + hl, o->data, o->len);
	c = t_tcp_csum(H_PEER, o->daddr, seg, hl + o->len);
	if (o->bad_csum)
		c = (uint16_t)(c + 1);
	put_be16(&th->check, c);
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, o->daddr, IPPROTO_TCP, id++, 0, seg,
			     hl + o->len);
	assert_true(n > 0);
	if (t_hold)
		assert_int_equal(fakedev_inject(&h->fd, frame, n), 0);
	else
		harness_rx(h, frame, n);
}

/* ---- reading what we sent ---- */

struct t_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss;
	int ws;			/* -1: none */
	bool sack_ok, has_ts;
	uint32_t tsval, tsecr;
	int nsack;
	uint32_t sack[4][2];
	size_t len;
	uint8_t data[2048];
};

/* Pop the next transmitted TCP segment; false if none. */
static bool t_pop(struct harness *h, struct t_seg *s)
{
	const struct tcp_hdr *th = NULL;
	struct t_tx tx;
	const uint8_t *o;
	size_t hl = 0, i;

	if (t_pop_ip(h, &tx))
		return false;
	assert_int_equal(tx.iph->protocol, IPPROTO_TCP);
	assert_int_equal(tcp_hdr_parse(tx.l4, tx.l4_len, &th, &hl), PROTO_OK);
	/* the checksum is right */
	assert_int_equal(t_tcp_csum(tx.iph->saddr, tx.iph->daddr, tx.l4, tx.l4_len), 0);
	memset(s, 0, sizeof(*s));
	s->sport = get_be16(&th->source);
	s->dport = get_be16(&th->dest);
	s->seq = get_be32(&th->seq);
	s->ack = get_be32(&th->ack_seq);
	s->flags = th->flags;
	s->wnd = get_be16(&th->window);
	s->ws = -1;
	/* the options are walked here, not with tcp_opt_next(): what we
	 * send must be well formed, so a bad length fails the test */
	o = (const uint8_t *)(th + 1);
	for (i = 0; i < hl - 20;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		assert_true(i + 1 < hl - 20 && o[i + 1] >= 2);
		switch (o[i]) {
		case 2:
			s->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
			break;
		case 3:
			s->ws = o[i + 2];
			break;
		case 4:
			s->sack_ok = true;
			break;
		case 5:
			for (s->nsack = 0; s->nsack < (o[i + 1] - 2) / 8 && s->nsack < 4; s->nsack++) {
				s->sack[s->nsack][0] = get_be32(o + i + 2 + 8 * s->nsack);
				s->sack[s->nsack][1] = get_be32(o + i + 6 + 8 * s->nsack);
			}
			break;
		case 8:
			s->has_ts = true;
			s->tsval = get_be32(o + i + 2);
			s->tsecr = get_be32(o + i + 6);
			break;
		}
		i += o[i + 1];
	}
	s->len = tx.l4_len - hl;
	assert_true(s->len <= sizeof(s->data));
	memcpy(s->data, (const uint8_t *)th + hl, s->len);
	t_tx_free(&tx);
	return true;
}

/* Pop segments until a TCP one with these flags set; false if none. */
static bool t_pop_flags(struct harness *h, struct t_seg *s, uint8_t flags)
{
	while (t_pop(h, s)) {
		if ((s->flags & flags) == flags)
			return true;
	}
	return false;
}

static void t_drain(struct harness *h)
{
	struct pkb *p;

	while ((p = fakedev_pop_tx(&h->fd)))
		pkb_free(p);
}

/* ---- a connection driven by the test ---- */

struct t_conn {
	struct socket *ls, *so;
	uint32_t iss;		/* ours */
	uint32_t snd;		/* peer's next sequence number */
	uint32_t rcv;		/* what the peer acknowledges of ours */
	uint16_t pport;
	bool ts;
	uint32_t tsval;		/* peer's clock */
	uint32_t our_ts;	/* last TSval we sent */
	int ws;			/* our shift as announced */
	uint8_t opt[40];
	size_t optlen;
};

static struct socket *t_listen(struct harness *h, uint16_t port, int backlog)
{
	struct sockaddr_in sin = t_sin(0, port);
	struct socket *so;

	assert_int_equal(skiff_socket(&h->st, SOCK_STREAM, &so), 0);
	assert_int_equal(skiff_bind(so, &sin), 0);
	assert_int_equal(skiff_listen(so, backlog), 0);
	return so;
}

/* Options of an ACK-bearing segment from the peer: timestamps if in use. */
static void t_conn_opts(struct t_conn *c)
{
	c->optlen = 0;
	if (c->ts) {
		uint8_t *o = c->opt;

		o[0] = 1;
		o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		put_be32(o + 4, c->tsval);
		put_be32(o + 8, c->our_ts);
		c->optlen = 12;
	}
}

/* A segment on the connection: flags, data at seq (ack = c->rcv). */
static void t_seg_at(struct harness *h, struct t_conn *c, uint32_t seq, uint8_t flags,
		     const void *data, size_t len)
{
	struct t_out o = {
		.daddr = H_ADDR, .sport = c->pport, .dport = T_PORT, .seq = seq, .ack = c->rcv,
		.flags = flags, .wnd = 65535, .data = data, .len = len,
	};

	t_conn_opts(c);
	o.opt = c->opt;
	o.optlen = c->optlen;
	t_send(h, &o);
}

/* The peer's SYN with MSS 1460, SACK-permitted, WS 7 and (ts) timestamps. */
static void t_syn(struct harness *h, uint16_t pport, uint32_t isn, bool ts, uint32_t tsval)
{
	uint8_t opt[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1 };
	struct t_out o = {
		.daddr = H_ADDR, .sport = pport, .dport = T_PORT, .seq = isn, .flags = F_SYN,
		.wnd = 65535, .opt = opt, .optlen = 12,
	};

	if (ts) {
		opt[10] = 8;
		opt[11] = 10;
		put_be32(opt + 12, tsval);
		put_be32(opt + 16, 0);
		o.optlen = 20;
	}
	t_send(h, &o);
}

/* Passive open on T_PORT: SYN, SYN-ACK checked, ACK, accept(). */
static void t_establish(struct harness *h, struct t_conn *c, bool ts)
{
	struct t_seg s;

	memset(c, 0, sizeof(*c));
	c->pport = T_PPORT;
	c->ts = ts;
	c->tsval = 5000;
	c->ls = t_listen(h, T_PORT, 8);
	t_syn(h, c->pport, T_PEER_ISN, ts, c->tsval);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(s.sport, T_PORT);
	assert_int_equal(s.dport, c->pport);
	assert_int_equal(s.ack, T_PEER_ISN + 1);
	c->iss = s.seq;
	c->snd = T_PEER_ISN + 1;
	c->rcv = s.seq + 1;
	c->ws = s.ws;
	c->our_ts = s.tsval;
	assert_null(fakedev_pop_tx(&h->fd));

	c->tsval++;
	t_seg_at(h, c, c->snd, F_ACK, NULL, 0);
	assert_int_equal(skiff_accept(c->ls, &c->so, NULL), 0);
	assert_non_null(c->so);
	t_drain(h);
}

/* The connection object for c (or the listener once it is gone). */
static struct tcp_sock *t_conn_lookup(struct harness *h, const struct t_conn *c)
{
	struct tcp_sock *tp = tcp_lookup(&h->st, H_A4(H_PEER), htons(c->pport), H_A4(H_ADDR), htons(T_PORT));

	assert_non_null(tp);
	return tp;
}

static void t_close_all(struct harness *h, struct t_conn *c)
{
	if (c->so) {
		skiff_setsockopt(c->so, SKIFF_SO_LINGER_ABORT, 1);
		skiff_close(c->so);
		c->so = NULL;
	}
	if (c->ls) {
		skiff_close(c->ls);
		c->ls = NULL;
	}
	t_drain(h);
	/* every buffer chunk is back */
	assert_int_equal(tcp_chunk_pool_in_use(tcp_chunks(&h->st)), 0);
}

/* ---- RFC 9293 3.10.7.1: no connection ---- */

static void tcp_closed_port_ack_gets_rst_with_seq_of_its_ack(void **state)
{
	struct harness *h = *state;
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = 9999, .seq = 1000,
			   .ack = 5000, .flags = F_ACK, .wnd = 1000, .data = "abc", .len = 3 };
	struct t_seg s;

	t_send(h, &o);
	assert_true(t_pop(h, &s));
	/* <SEQ=SEG.ACK><CTL=RST> */
	assert_int_equal(s.flags, F_RST);
	assert_int_equal(s.seq, 5000);
	assert_int_equal(s.sport, 9999);
	assert_int_equal(s.dport, T_PPORT);
	assert_int_equal(s.len, 0);
	assert_false(t_pop(h, &s));
	assert_int_equal(h->st.stats->drop.tcp_no_port, 1);
	assert_int_equal(h->st.stats->tcp_rst_noconn, 1);
}

static void tcp_closed_port_syn_gets_rst_ack_of_its_length(void **state)
{
	struct harness *h = *state;
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = 9999, .seq = 1000,
			   .flags = F_SYN, .wnd = 1000, .data = "abcd", .len = 4 };
	struct t_seg s;

	t_send(h, &o);
	assert_true(t_pop(h, &s));
	/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counted in the length */
	assert_int_equal(s.flags, F_RST | F_ACK);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.ack, 1000 + 4 + 1);
	assert_false(t_pop(h, &s));
}

static void tcp_closed_port_rst_is_not_answered(void **state)
{
	struct harness *h = *state;
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = 9999, .seq = 1000,
			   .flags = F_RST, .wnd = 0 };
	struct t_seg s;

	t_send(h, &o);
	assert_false(t_pop(h, &s));
	assert_int_equal(h->st.stats->drop.tcp_no_port, 1);
}

static void tcp_closed_port_on_shared_address_is_silent(void **state)
{
	struct harness *h = *state;
	struct t_out o = { .daddr = T_SHARED, .sport = T_PPORT, .dport = 9999, .seq = 1000,
			   .flags = F_SYN, .wnd = 1000 };
	struct stack_addr *a = &h->cfg.addrs[h->cfg.n_addrs++];
	struct t_seg s;

	a->addr = T_SHARED;
	a->prefix_len = 24;
	a->dedicated = false;
	t_send(h, &o);
	assert_false(t_pop(h, &s));
	assert_int_equal(h->st.stats->drop.tcp_no_port, 1);
	assert_int_equal(h->st.stats->tcp_rst_noconn, 0);
}

/* ---- passive open ---- */

static void tcp_syn_gets_syn_ack_with_our_options_and_ack_completes_accept(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 4), *so = NULL, *other = NULL;
	struct sockaddr_in peer;
	struct t_seg s;
	struct t_out ack = { .daddr = H_ADDR, .sport = T_PPORT, .dport = T_PORT,
			     .seq = T_PEER_ISN + 1, .flags = F_ACK, .wnd = 512 };
	uint8_t tsopt[12] = { 1, 1, 8, 10 };

	/* the listener holds its port in the steering map */
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(T_PORT)), 1);
	assert_int_equal(skiff_accept(ls, &other, NULL), -EAGAIN);
	assert_int_equal(skiff_poll(ls) & SOCK_EV_IN, 0);

	t_syn(h, T_PPORT, T_PEER_ISN, true, 777);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(s.ack, T_PEER_ISN + 1);
	assert_int_equal(s.mss, 1460);		/* MTU 1500 - 40 */
	assert_true(s.ws >= 0 && s.ws <= 14);	/* peer offered: we answer */
	assert_true(s.sack_ok);
	assert_true(s.has_ts);
	assert_int_equal(s.tsecr, 777);
	assert_int_equal(h->st.stats->tcp_passive_opens, 1);
	/* not yet acceptable */
	assert_int_equal(skiff_accept(ls, &other, NULL), -EAGAIN);

	ack.ack = s.seq + 1;
	put_be32(tsopt + 4, 778);
	put_be32(tsopt + 8, s.tsval);
	ack.opt = tsopt;
	ack.optlen = sizeof(tsopt);
	t_send(h, &ack);
	assert_true(skiff_poll(ls) & SOCK_EV_IN);
	assert_int_equal(skiff_accept(ls, &so, &peer), 0);
	assert_int_equal(peer.sin_addr.s_addr, H_PEER);
	assert_int_equal(ntohs(peer.sin_port), T_PPORT);
	assert_true(skiff_poll(so) & SOCK_EV_OUT);
	assert_int_equal(skiff_accept(ls, &other, NULL), -EAGAIN);

	skiff_close(so);	/* graceful: a FIN goes out (at the burst's flush) */
	stack_poll(&h->st);
	assert_true(t_pop_flags(h, &s, F_FIN | F_ACK));
	assert_int_equal(s.seq, ack.ack);
	skiff_close(ls);
	t_drain(h);
}

static void tcp_syn_without_options_gets_default_mss_and_no_scaling(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 4);
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = T_PORT, .seq = 5,
			   .flags = F_SYN, .wnd = 8192 };
	struct t_seg s;

	t_send(h, &o);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(s.ws, -1);	/* RFC 7323 2.2: both sides or neither */
	assert_false(s.sack_ok);
	assert_false(s.has_ts);
	skiff_close(ls);
	t_drain(h);
}

static void tcp_ack_to_listener_gets_rst(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 4);
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = T_PORT, .seq = 5,
			   .ack = 123456, .flags = F_ACK, .wnd = 8192 };
	struct t_seg s;

	t_send(h, &o);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_RST);
	assert_int_equal(s.seq, 123456);
	skiff_close(ls);
	t_drain(h);
}

/* ---- acceptability (RFC 9293 3.10.7.4) ---- */

static void tcp_in_order_data_is_delivered_and_acked(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char buf[64];

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_ACK | F_PSH, "hello", 5);
	assert_true(skiff_poll(c.so) & SOCK_EV_IN);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);
	/* the delayed ACK */
	harness_advance(h, 500ULL * 1000 * 1000);
	assert_true(t_pop_flags(h, &s, F_ACK));
	assert_int_equal(s.ack, c.snd + 5);
	t_close_all(h, &c);
}

/*
 * RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: an ACK for every second full-sized
 * segment.  With timestamps a full segment carries 1448 bytes, not the
 * 1460 of the MSS: "full-sized" is the largest segment seen, so the second
 * one is ACKed without waiting for the delayed-ACK timer.
 */
static void tcp_second_full_timestamped_segment_is_acked_at_once(void **state)
{
	struct harness *h = *state;
	static uint8_t data[1448];
	struct t_conn c;
	struct t_seg s;

	t_establish(h, &c, true);
	t_seg_at(h, &c, c.snd, F_ACK, data, sizeof(data));
	assert_false(t_pop(h, &s)); /* one segment: the ACK waits */
	c.snd += sizeof(data);
	c.tsval++;
	t_seg_at(h, &c, c.snd, F_ACK, data, sizeof(data));
	c.snd += sizeof(data);
	assert_true(t_pop_flags(h, &s, F_ACK));
	assert_int_equal(s.ack, c.snd);
	assert_false(t_pop(h, &s));
	assert_int_equal(h->fd.stats.tcp_delayed_acks, 0);
	t_close_all(h, &c);
}

/*
 * A burst of in-order full segments of one connection gets one ACK, at the
 * end of the burst, for all of them (as Linux's GRO makes one segment of
 * them), not one for every second segment.
 */
static void tcp_a_burst_of_full_segments_gets_one_ack_at_its_end(void **state)
{
	struct harness *h = *state;
	static uint8_t data[1448];
	struct t_conn c;
	struct t_seg s;
	int i;

	t_establish(h, &c, true);
	t_hold = true;
	for (i = 0; i < 16; i++) {
		t_seg_at(h, &c, c.snd, F_ACK, data, sizeof(data));
		c.snd += sizeof(data);
	}
	t_hold = false;
	assert_false(t_pop(h, &s)); /* nothing before the burst is taken in */
	stack_poll(&h->st);
	assert_true(t_pop_flags(h, &s, F_ACK));
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.len, 0);
	assert_false(t_pop(h, &s)); /* one ACK for the 16 segments */
	assert_int_equal(t_conn_lookup(h, &c)->rcvq.len, 16 * sizeof(data));
	t_close_all(h, &c);
}

/* A reader that takes 2 KiB per skiff_recv() until -EAGAIN. */
static void t_small_reads(struct socket *so, uint32_t events, void *arg)
{
	size_t *got = arg;
	char buf[2048];
	ssize_t r;

	(void)events;
	while ((r = skiff_recv(so, buf, sizeof(buf))) > 0)
		*got += (size_t)r;
}

/*
 * The application reads a burst's data in many small reads, each freeing
 * more than a segment of window: one window update for all of them, with
 * the ACK of the data, at the end of the burst (receiver SWS avoidance
 * says when a window may be announced, not that each read must be).
 */
static void tcp_reads_in_one_burst_get_one_window_update(void **state)
{
	struct harness *h = *state;
	static uint8_t data[1448];
	size_t got = 0;
	struct t_conn c;
	struct t_seg s;
	int i;

	t_establish(h, &c, true);
	skiff_set_handler(c.so, t_small_reads, &got);
	t_hold = true;
	for (i = 0; i < 16; i++) {
		t_seg_at(h, &c, c.snd, F_ACK, data, sizeof(data));
		c.snd += sizeof(data);
	}
	t_hold = false;
	stack_poll(&h->st);
	assert_int_equal(got, 16 * sizeof(data)); /* read in 12 pieces */
	assert_true(t_pop_flags(h, &s, F_ACK));
	assert_int_equal(s.ack, c.snd);
	assert_false(t_pop(h, &s));
	/* the window it announces is the whole buffer again */
	assert_int_equal((uint32_t)s.wnd << c.ws, TCP_DEFAULT_RCVBUF);
	t_close_all(h, &c);
}

static void tcp_old_duplicate_is_acked_and_not_delivered_again(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char buf[64];

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_ACK, "hello", 5);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 5);
	t_drain(h);
	t_seg_at(h, &c, c.snd, F_ACK, "hello", 5);	/* all old */
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST | F_SYN), F_ACK);
	assert_int_equal(s.ack, c.snd + 5);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(h->st.stats->drop.tcp_not_acceptable, 1);
	t_close_all(h, &c);
}

static void tcp_partially_new_segment_delivers_only_the_new_bytes(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	char buf[64];

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_ACK, "hello", 5);
	t_seg_at(h, &c, c.snd + 3, F_ACK, "lo world", 8);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "hello world", 11);
	t_close_all(h, &c);
}

static void tcp_segment_beyond_the_window_is_acked_and_dropped(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char buf[64];

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd + 10u * 1000 * 1000, F_ACK, "far", 3);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST), F_ACK);
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.nsack, 0);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(h->st.stats->drop.tcp_not_acceptable, 1);
	t_close_all(h, &c);
}

static void tcp_zero_window_probe_is_answered_and_its_byte_not_taken(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	static char big[4096];
	char buf[64];
	size_t off;

	memset(&c, 0, sizeof(c));
	c.pport = T_PPORT;
	/* smallest receive buffer, set on the listener before the SYN */
	c.ls = t_listen(h, T_PORT, 8);
	assert_int_equal(skiff_setsockopt(c.ls, SKIFF_SO_RCVBUF, 4096), 0);
	t_syn(h, c.pport, T_PEER_ISN, false, 0);
	assert_true(t_pop(h, &s));
	c.iss = s.seq;
	c.snd = T_PEER_ISN + 1;
	c.rcv = s.seq + 1;
	t_seg_at(h, &c, c.snd, F_ACK, NULL, 0);
	assert_int_equal(skiff_accept(c.ls, &c.so, NULL), 0);
	t_drain(h);

	/* fill the whole buffer in MSS-sized pieces */
	memset(big, 'z', sizeof(big));
	for (off = 0; off < sizeof(big); off += 1024)
		t_seg_at(h, &c, c.snd + (uint32_t)off, F_ACK, big + off, 1024);
	c.snd += sizeof(big);
	harness_advance(h, 500ULL * 1000 * 1000);	/* any delayed ACK goes out */
	t_drain(h);

	/* RFC 9293: len > 0 with a zero window is not acceptable: ACK */
	t_seg_at(h, &c, c.snd, F_ACK, "P", 1);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST), F_ACK);
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.wnd, 0);
	/* the buffer has the 4096 bytes and not the probe */
	for (off = 0; skiff_recv(c.so, buf, sizeof(buf)) > 0;)
		off++;
	assert_int_equal(off, 4096 / sizeof(buf));
	t_close_all(h, &c);
}

static void tcp_zero_length_ack_at_rcv_nxt_is_accepted(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_ACK, NULL, 0);
	assert_false(t_pop(h, &s));	/* nothing to say */
	assert_int_equal(h->st.stats->drop.tcp_not_acceptable, 0);
	t_close_all(h, &c);
}

/* ---- RST and SYN (RFC 5961) ---- */

static void tcp_rst_at_rcv_nxt_resets_the_connection(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char buf[8];

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_RST, NULL, 0);
	assert_false(t_pop(h, &s));
	assert_true(skiff_poll(c.so) & SOCK_EV_ERR);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -ECONNRESET);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 0);
	assert_int_equal(h->st.stats->tcp_estab_resets, 1);
	t_close_all(h, &c);
}

static void tcp_rst_in_window_gets_a_challenge_ack(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd + 100, F_RST, NULL, 0);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST), F_ACK);
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.seq, c.rcv);
	assert_true(skiff_poll(c.so) & SOCK_EV_OUT);
	assert_int_equal(skiff_poll(c.so) & SOCK_EV_ERR, 0);
	assert_int_equal(h->st.stats->tcp_challenge_acks, 1);
	assert_int_equal(h->st.stats->drop.tcp_rst_ignored, 1);
	t_close_all(h, &c);
}

static void tcp_rst_outside_window_is_ignored(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd - 100000, F_RST, NULL, 0);
	assert_false(t_pop(h, &s));
	assert_int_equal(skiff_poll(c.so) & SOCK_EV_ERR, 0);
	assert_int_equal(h->st.stats->drop.tcp_rst_ignored, 1);
	t_close_all(h, &c);
}

static void tcp_syn_in_established_gets_a_challenge_ack(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd + 5, F_SYN, NULL, 0);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST | F_SYN), F_ACK);
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(skiff_poll(c.so) & SOCK_EV_ERR, 0);
	assert_int_equal(h->st.stats->drop.tcp_syn_challenged, 1);
	assert_int_equal(h->st.stats->tcp_challenge_acks, 1);
	t_close_all(h, &c);
}

static void tcp_ack_of_unsent_data_gets_a_challenge_ack(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char buf[8];

	t_establish(h, &c, false);
	c.rcv += 5000;	/* acknowledges what we never sent */
	t_seg_at(h, &c, c.snd, F_ACK, "data", 4);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST), F_ACK);
	assert_int_equal(s.ack, c.snd);		/* the data was not taken */
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(h->st.stats->drop.tcp_ack_range, 1);
	t_close_all(h, &c);
}

/*
 * RFC 5961 7: challenge ACKs are throttled by a per-stack budget, refilled
 * every second to a random value in [limit/2, limit/2 + limit) (as Linux's
 * tcp_challenge_ack_limit).  What is over the budget is counted, not sent.
 */
static void tcp_challenge_acks_are_rate_limited_per_second(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	uint32_t i, sent = 0, n = 1600;

	t_establish(h, &c, false);
	assert_int_equal(tcp_challenge_budget(&h->st)->limit, TCP_CHALLENGE_ACK_LIMIT);
	for (i = 0; i < n; i++) {
		t_seg_at(h, &c, c.snd + 100 + i, F_RST, NULL, 0);
		while (t_pop(h, &s)) {
			assert_int_equal(s.flags & (F_ACK | F_RST), F_ACK);
			sent++;
		}
	}
	assert_true(sent >= TCP_CHALLENGE_ACK_LIMIT / 2);
	assert_true(sent < TCP_CHALLENGE_ACK_LIMIT / 2 + TCP_CHALLENGE_ACK_LIMIT);
	assert_int_equal(h->st.stats->tcp_challenge_acks, sent);
	assert_int_equal(h->st.stats->tcp_challenge_ack_limited, n - sent);
	assert_int_equal(h->st.stats->drop.tcp_rst_ignored, n);
	assert_int_equal(skiff_poll(c.so) & SOCK_EV_ERR, 0);

	/* the next second brings a new budget: a SYN is challenged again */
	harness_advance(h, NSEC_PER_SEC);
	t_drain(h);
	t_seg_at(h, &c, c.snd + 5, F_SYN, NULL, 0);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST | F_SYN), F_ACK);
	assert_int_equal(h->st.stats->tcp_challenge_acks, sent + 1);

	/* a small limit: the budget lies in [limit/2, limit/2 + limit) */
	tcp_challenge_budget(&h->st)->limit = 4;
	harness_advance(h, NSEC_PER_SEC);
	t_drain(h);
	sent = 0;
	for (i = 0; i < 20; i++) {
		t_seg_at(h, &c, c.snd + 100 + i, F_RST, NULL, 0);
		while (t_pop(h, &s))
			sent++;
	}
	assert_true(sent >= 2 && sent < 6);
	t_close_all(h, &c);
}

/* ---- PAWS (RFC 7323 5) ---- */

static void tcp_paws_drops_a_segment_with_an_old_timestamp(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char buf[16];

	t_establish(h, &c, true);
	c.tsval = 6000;
	t_seg_at(h, &c, c.snd, F_ACK, "new", 3);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 3);
	t_drain(h);
	c.tsval = 5500;		/* older than TS.Recent */
	t_seg_at(h, &c, c.snd + 3, F_ACK, "old", 3);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags & (F_ACK | F_RST), F_ACK);
	assert_int_equal(s.ack, c.snd + 3);
	assert_true(s.has_ts);
	assert_int_equal(s.tsecr, 6000);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(h->st.stats->drop.tcp_paws, 1);
	t_close_all(h, &c);
}

/* A pure ACK from the peer with timestamps and one SACK block. */
static void t_sack_ack(struct harness *h, struct t_conn *c, uint32_t tsval, uint32_t ack,
		       uint32_t sstart, uint32_t send)
{
	uint8_t opt[24] = {1, 1, 8, 10};
	struct t_out o = {
		.daddr = H_ADDR, .sport = c->pport, .dport = T_PORT, .seq = c->snd, .ack = ack,
		.flags = F_ACK, .wnd = 65535, .opt = opt, .optlen = 24,
	};

	put_be32(opt + 4, tsval);
	put_be32(opt + 8, c->our_ts);
	opt[12] = 1;
	opt[13] = 1;
	opt[14] = 5;
	opt[15] = 10;
	put_be32(opt + 16, sstart);
	put_be32(opt + 20, send);
	t_send(h, &o);
}

/*
 * RFC 7323 5.3 / Linux's tcp_disordered_ack(): a duplicate ACK overtaken by
 * a later one carries an older timestamp; it is no old duplicate, and its
 * SACK block counts.  Data with an old timestamp, and an ACK far older than
 * an RTO, are still dropped by PAWS.
 */
static void tcp_paws_lets_a_disordered_duplicate_ack_through_with_its_sack(void **state)
{
	struct harness *h = *state;
	static char out[3 * 1448];	/* 3 segments of MSS 1460 less TS */
	struct tcp_sock *tp;
	struct t_conn c;
	struct t_seg s;
	uint32_t seg_start[3], seg_len = 0, una;
	char buf[16];
	int i;

	t_establish(h, &c, true);
	tp = t_conn_lookup(h, &c);
	memset(out, 'x', sizeof(out));
	assert_int_equal(skiff_send(c.so, out, sizeof(out)), (int)sizeof(out));
	for (i = 0; i < 3; i++) {
		assert_true(t_pop(h, &s));
		assert_true(s.len > 0);
		seg_start[i] = s.seq;
		seg_len = (uint32_t)s.len;
		c.our_ts = s.tsval;
	}
	t_drain(h);
	una = c.rcv;
	assert_int_equal(seg_start[0], una);

	/* the later duplicate ACK arrives first: it SACKs the third segment */
	c.tsval = 6000;
	t_sack_ack(h, &c, c.tsval, una, seg_start[2], seg_start[2] + seg_len);
	assert_int_equal(tp->n_scoreboard, 1);
	t_drain(h);
	/* the earlier one, overtaken, with TSval 10 ms older: used, not dropped */
	t_sack_ack(h, &c, 5990, una, seg_start[1], seg_start[1] + seg_len);
	assert_int_equal(h->st.stats->drop.tcp_paws, 0);
	assert_int_equal(h->st.stats->tcp_disordered_acks, 1);
	assert_int_equal(tp->n_scoreboard, 1);	/* merged with the first block */
	assert_int_equal(tp->rcvy->scoreboard[0].start, seg_start[1]);
	assert_int_equal(tp->rcvy->scoreboard[0].end, seg_start[2] + seg_len);
	assert_int_equal(tp->ts_recent, 6000);	/* TS.Recent never goes back */
	t_drain(h);

	/* data at TS.Recent is taken; data with an older timestamp is still
	 * PAWS-dropped (and ACKed) */
	t_seg_at(h, &c, c.snd, F_ACK, "new", 3);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 3);
	c.snd += 3;
	t_drain(h);
	c.tsval = 5990;
	t_seg_at(h, &c, c.snd, F_ACK, "late", 4);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(h->st.stats->drop.tcp_paws, 1);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);
	t_drain(h);

	/* a duplicate ACK more than an RTO older than TS.Recent is dropped too */
	t_sack_ack(h, &c, 6000 - (uint32_t)(tp->rto_ns / NSEC_PER_MSEC) - 1, una, seg_start[0] + 1,
		   seg_start[0] + 2);
	assert_int_equal(h->st.stats->drop.tcp_paws, 2);
	assert_int_equal(h->st.stats->tcp_disordered_acks, 1);
	assert_int_equal(tp->rcvy->scoreboard[0].start, seg_start[1]);
	t_close_all(h, &c);
}

/*
 * More SACKed ranges than the sender's scoreboard holds (TCP_SCOREBOARD):
 * a block above a full scoreboard is not remembered, and the receiver
 * repeats it in every ACK; its bytes must not count as delivered on each
 * (BBR's delivery rate grew tenfold so through a lossy relay).  Every
 * other segment SACKed one ACK at a time, 8 ranges more than fit, the
 * highest block then repeated: only what the scoreboard keeps counts.
 */
static void tcp_sack_blocks_a_full_scoreboard_cannot_keep_are_not_counted_delivered(void **state)
{
	struct harness *h = *state;
	enum { NSEG = 2 * TCP_SCOREBOARD + 16 };
	static char out[NSEG * 1448];
	uint32_t start[NSEG], len = 0, una, n = 0, i, k;
	struct tcp_sock *tp;
	struct t_conn c;
	struct t_seg s;

	t_establish(h, &c, true);
	tp = t_conn_lookup(h, &c);
	assert_int_equal(skiff_setsockopt(c.so, SKIFF_TCP_CONGESTION, 2), 0);
	assert_int_equal(skiff_setsockopt(c.so, SKIFF_SO_SNDBUF, 2 * (int)sizeof(out)), 0);
	tp->cc.cwnd = sizeof(out);
	memset(out, 'x', sizeof(out));
	assert_int_equal(skiff_send(c.so, out, sizeof(out)), (int)sizeof(out));
	for (k = 0; n < NSEG && k < 1000; k++) { /* paced: the clock lets them go */
		while (n < NSEG && t_pop(h, &s)) {
			assert_true(s.len > 0);
			start[n++] = s.seq;
			len = (uint32_t)s.len;
			c.our_ts = s.tsval;
		}
		harness_advance(h, 100 * NSEC_PER_USEC);
	}
	assert_int_equal(n, NSEG);
	assert_int_equal(len, 1448);
	t_drain(h);
	una = c.rcv;
	assert_int_equal(start[0], una);
	assert_int_equal(tp->rate_delivered, 0);
	/* segments 1, 3, 5 ...: TCP_SCOREBOARD + 8 ranges, one ACK each */
	for (i = 1; i < NSEG; i += 2) {
		t_sack_ack(h, &c, ++c.tsval, una, start[i], start[i] + len);
		t_drain(h);
	}
	assert_int_equal(tp->n_scoreboard, TCP_SCOREBOARD);
	assert_int_equal(tp->rcvy->scoreboard[TCP_SCOREBOARD - 1].start, start[2 * TCP_SCOREBOARD - 1]);
	/* the highest block again, as a receiver repeats it */
	for (i = 0; i < 10; i++) {
		t_sack_ack(h, &c, ++c.tsval, una, start[NSEG - 1], start[NSEG - 1] + len);
		t_drain(h);
	}
	assert_int_equal(tp->rate_delivered, TCP_SCOREBOARD * len);
	t_close_all(h, &c);
}

/* ---- out of order and SACK (RFC 2018) ---- */

static void tcp_out_of_order_is_sacked_and_delivered_once_the_hole_fills(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char a[100], b[100], d[100], buf[512];

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(d, 'd', sizeof(d));
	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd + 100, F_ACK, b, 100);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.nsack, 1);
	assert_int_equal(s.sack[0][0], c.snd + 100);
	assert_int_equal(s.sack[0][1], c.snd + 200);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);

	t_seg_at(h, &c, c.snd + 300, F_ACK, d, 100);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.nsack, 2);
	/* RFC 2018 4: the block of the latest segment first */
	assert_int_equal(s.sack[0][0], c.snd + 300);
	assert_int_equal(s.sack[0][1], c.snd + 400);
	assert_int_equal(s.sack[1][0], c.snd + 100);
	assert_int_equal(s.sack[1][1], c.snd + 200);
	assert_int_equal(h->st.stats->tcp_ooo_segs, 2);

	/* the first hole fills: ACK at once, up to the second hole */
	t_seg_at(h, &c, c.snd, F_ACK, a, 100);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd + 200);
	assert_int_equal(s.nsack, 1);
	assert_int_equal(s.sack[0][0], c.snd + 300);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 200);
	assert_memory_equal(buf, a, 100);
	assert_memory_equal(buf + 100, b, 100);

	t_seg_at(h, &c, c.snd + 200, F_ACK, "c", 1);
	t_seg_at(h, &c, c.snd + 201, F_ACK, b, 99);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 200);
	assert_int_equal(buf[0], 'c');
	assert_memory_equal(buf + 100, d, 100);
	t_close_all(h, &c);
}

/*
 * RFC 2883: a duplicate is reported once, as the first SACK block of the
 * ACK it triggers: an old duplicate (4.1.1), the old part of a partly new
 * segment (4.1.2, ACKed at once), and data already held out of order (4.2,
 * then the block holding it).
 */
static void tcp_duplicates_are_reported_by_dsack(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct t_seg s;
	char b[100], buf[64];

	memset(b, 'b', sizeof(b));
	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_ACK, "hello", 5);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 5);
	harness_advance(h, 500ULL * 1000 * 1000);
	t_drain(h);

	/* all old: the ACK says which bytes came twice */
	t_seg_at(h, &c, c.snd, F_ACK, "hello", 5);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd + 5);
	assert_int_equal(s.nsack, 1);
	assert_int_equal(s.sack[0][0], c.snd);
	assert_int_equal(s.sack[0][1], c.snd + 5);
	assert_false(t_pop(h, &s));
	c.snd += 5;

	/* partly new: the old two bytes, in an immediate ACK; only once */
	t_seg_at(h, &c, c.snd - 2, F_ACK, "lo world", 8);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd + 6);
	assert_int_equal(s.nsack, 1);
	assert_int_equal(s.sack[0][0], c.snd - 2);
	assert_int_equal(s.sack[0][1], c.snd);
	c.snd += 6;
	t_seg_at(h, &c, c.snd, F_ACK, "!", 1);
	harness_advance(h, 500ULL * 1000 * 1000);
	assert_true(t_pop_flags(h, &s, F_ACK));
	assert_int_equal(s.ack, c.snd + 1);
	assert_int_equal(s.nsack, 0);
	c.snd += 1;
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 7);

	/* held out of order already: D-SACK, then the block holding it */
	t_seg_at(h, &c, c.snd + 100, F_ACK, b, 100);
	t_seg_at(h, &c, c.snd + 300, F_ACK, b, 100);
	t_drain(h);
	t_seg_at(h, &c, c.snd + 150, F_ACK, b, 50);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(s.nsack, 3);
	assert_int_equal(s.sack[0][0], c.snd + 150);
	assert_int_equal(s.sack[0][1], c.snd + 200);
	assert_int_equal(s.sack[1][0], c.snd + 100);
	assert_int_equal(s.sack[1][1], c.snd + 200);
	assert_int_equal(s.sack[2][0], c.snd + 300);
	assert_int_equal(h->st.stats->tcp_dsacks, 3);
	t_close_all(h, &c);
}

/* ---- FIN ---- */

static void tcp_fin_moves_to_close_wait_and_recv_returns_eof(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct tcp_conn_info info;
	struct tcp_sock *tp;
	struct t_seg s;
	char buf[16];

	t_establish(h, &c, false);
	t_seg_at(h, &c, c.snd, F_ACK | F_FIN, "bye", 3);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd + 4);	/* data and FIN */
	assert_true(skiff_poll(c.so) & SOCK_EV_IN);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 3);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 0);
	tp = t_conn_lookup(h, &c);
	assert_int_equal(tcp_get_info(&tp->sk, &info), 0);
	assert_int_equal(info.state, TCP_CLOSE_WAIT);
	/* our close sends the FIN: LAST-ACK, and its ACK closes */
	skiff_close(c.so);
	c.so = NULL;
	stack_poll(&h->st);
	assert_true(t_pop_flags(h, &s, F_FIN));
	c.snd += 4;
	c.rcv = s.seq + 1;
	assert_int_equal(t_conn_lookup(h, &c)->state, TCP_LAST_ACK);
	t_seg_at(h, &c, c.snd, F_ACK, NULL, 0);
	/* CLOSED and freed: only the listener answers the 4-tuple now */
	assert_int_equal(t_conn_lookup(h, &c)->state, TCP_LISTEN);
	t_close_all(h, &c);
}

/*
 * RFC 9293 3.10.7.4 eighth step: a FIN beyond a hole is not processed, but
 * it is kept with the out-of-order data and processed once the hole fills
 * (the peer need not send it again): one ACK covers the data and the FIN.
 */
static void tcp_fin_out_of_order_is_processed_when_the_hole_fills(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct tcp_sock *tp;
	struct t_seg s;
	char a[100], b[100], buf[512];

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	t_establish(h, &c, false);
	tp = t_conn_lookup(h, &c);
	t_seg_at(h, &c, c.snd + 100, F_ACK | F_FIN, b, 100);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd);		/* duplicate ACK, data SACKed */
	assert_int_equal(s.nsack, 1);
	assert_int_equal(s.sack[0][0], c.snd + 100);
	assert_int_equal(s.sack[0][1], c.snd + 200);
	assert_false(t_pop(h, &s));
	assert_int_equal(tp->state, TCP_ESTABLISHED);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -EAGAIN);

	/* the hole fills: data and the FIN are taken, one ACK for both */
	t_seg_at(h, &c, c.snd, F_ACK, a, 100);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd + 201);
	assert_int_equal(s.nsack, 0);
	assert_false(t_pop(h, &s));
	assert_int_equal(tp->state, TCP_CLOSE_WAIT);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 200);
	assert_memory_equal(buf, a, 100);
	assert_memory_equal(buf + 100, b, 100);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 0);	/* EOF */
	assert_int_equal(h->st.stats->tcp_ooo_fins, 1);

	/* the peer's retransmitted FIN is only ACKed again */
	t_seg_at(h, &c, c.snd + 100, F_ACK | F_FIN, b, 100);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd + 201);
	assert_int_equal(tp->state, TCP_CLOSE_WAIT);
	t_close_all(h, &c);
}

/* A bare FIN beyond a hole (the data before it lost): kept, processed when
 * all of the data has arrived. */
static void tcp_bare_fin_beyond_a_hole_waits_for_the_data(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct tcp_sock *tp;
	struct t_seg s;
	char a[50], buf[128];

	memset(a, 'a', sizeof(a));
	t_establish(h, &c, false);
	tp = t_conn_lookup(h, &c);
	t_seg_at(h, &c, c.snd + 50, F_ACK | F_FIN, NULL, 0);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.ack, c.snd);
	assert_int_equal(tp->state, TCP_ESTABLISHED);
	assert_true(tp->ooo_fin);

	/* part of the hole: no FIN yet */
	t_seg_at(h, &c, c.snd, F_ACK, a, 20);
	assert_int_equal(tp->state, TCP_ESTABLISHED);
	t_drain(h);
	t_seg_at(h, &c, c.snd + 20, F_ACK, a + 20, 30);
	assert_true(t_pop_flags(h, &s, F_ACK));
	assert_int_equal(s.ack, c.snd + 51);
	assert_int_equal(tp->state, TCP_CLOSE_WAIT);
	assert_false(tp->ooo_fin);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 50);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), 0);
	t_close_all(h, &c);
}

/* ---- hostile headers ---- */

static void tcp_bad_checksum_bad_offset_and_all_flags_are_dropped_and_counted(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 4);
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = T_PORT, .seq = 5,
			   .flags = F_SYN, .wnd = 8192 };
	struct t_seg s;

	o.bad_csum = true;
	t_send(h, &o);
	o.bad_csum = false;
	o.doff_override = 4;	/* < 5 */
	t_send(h, &o);
	o.doff_override = 15;	/* 60 bytes: past the segment */
	t_send(h, &o);
	o.doff_override = 0;
	o.flags = 0xff;		/* every flag: SYN+FIN+RST... */
	t_send(h, &o);
	assert_false(t_pop(h, &s));
	assert_int_equal(h->st.stats->drop.tcp_csum, 1);
	assert_int_equal(h->st.stats->drop.tcp_bad_doff, 2);
	assert_int_equal(h->st.stats->drop.tcp_flags, 1);
	assert_int_equal(h->st.stats->tcp_passive_opens, 0);
	skiff_close(ls);
}

static void tcp_short_segment_is_dropped_and_counted(void **state)
{
	struct harness *h = *state;
	uint8_t frame[128], seg[10] = { 0 };
	size_t n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_TCP, 9, 0, seg,
				    sizeof(seg));

	harness_rx(h, frame, n);
	assert_int_equal(h->st.stats->drop.tcp_short, 1);
	assert_null(fakedev_pop_tx(&h->fd));
}

/* ---- SYN cookies (RFC 4987) ---- */

static void tcp_syn_flood_gets_cookies_and_a_cookie_ack_connects(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 16), *so = NULL;
	struct t_seg s;
	uint8_t tsopt[12] = { 1, 1, 8, 10 };
	struct t_out ack = { .daddr = H_ADDR, .dport = T_PORT, .flags = F_ACK, .wnd = 1000 };
	char buf[8];
	int i;

	/* fill the SYN queue: every SYN gets a stateful SYN-ACK */
	for (i = 0; i < TCP_SYN_BACKLOG; i++) {
		t_syn(h, (uint16_t)(20000 + i), 1000u * (uint32_t)i, true, 100);
		t_drain(h);
	}
	assert_int_equal(h->st.stats->tcp_passive_opens, TCP_SYN_BACKLOG);
	assert_int_equal(h->st.stats->tcp_syncookies_sent, 0);

	/* the next one is answered with a cookie, and no state */
	t_syn(h, 30000, 424242, true, 900);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(s.ack, 424243);
	assert_int_equal(s.mss, 1460);
	assert_true(s.has_ts);
	assert_int_equal(s.tsecr, 900);
	assert_int_equal(h->st.stats->tcp_syncookies_sent, 1);
	assert_int_equal(h->st.stats->tcp_passive_opens, TCP_SYN_BACKLOG);

	/* a wrong cookie is refused with RST */
	ack.sport = 30000;
	ack.seq = 424243;
	ack.ack = s.seq + 2;
	put_be32(tsopt + 4, 901);
	put_be32(tsopt + 8, s.tsval);
	ack.opt = tsopt;
	ack.optlen = sizeof(tsopt);
	t_send(h, &ack);
	assert_true(t_pop(h, &s) || true);
	assert_int_equal(h->st.stats->drop.tcp_cookie_bad, 1);
	t_drain(h);

	/* the right one creates the connection, established, with its data */
	ack.ack -= 1;
	ack.data = "hi";
	ack.len = 2;
	t_send(h, &ack);
	assert_int_equal(h->st.stats->tcp_syncookies_ok, 1);
	assert_int_equal(skiff_accept(ls, &so, NULL), 0);
	assert_int_equal(skiff_recv(so, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	skiff_setsockopt(so, SKIFF_SO_LINGER_ABORT, 1);
	skiff_close(so);
	skiff_close(ls);	/* resets the 256 embryonic children */
	t_drain(h);
	assert_int_equal(tcp_chunk_pool_in_use(tcp_chunks(&h->st)), 0);
}

/* ---- listen backlog, accept queue, SYN queue ---- */

/* A SYN from pport and the ACK of our SYN-ACK: the handshake completes. */
static void t_handshake(struct harness *h, uint16_t pport, uint32_t isn)
{
	struct t_out ack = { .daddr = H_ADDR, .sport = pport, .dport = T_PORT, .seq = isn + 1,
			     .flags = F_ACK, .wnd = 65535 };
	struct t_seg s;

	t_syn(h, pport, isn, false, 0);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	ack.ack = s.seq + 1;
	t_send(h, &ack);
	t_drain(h);
}

static void listen_backlog_above_somaxconn_is_capped_at_4096(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 1000000);
	struct tcp_conn_info info;
	struct tcp_sock *lp = tcp_lookup(&h->st, H_A4(H_PEER), htons(40000), H_A4(H_ADDR), htons(T_PORT));

	assert_non_null(lp);
	assert_int_equal(tcp_get_info(&lp->sk, &info), 0);
	assert_int_equal(info.sndq, TCP_SOMAXCONN);	/* the listener's backlog */
	assert_int_equal(skiff_listen(ls, 7), 0);	/* listen again: a new backlog */
	assert_int_equal(tcp_get_info(&lp->sk, &info), 0);
	assert_int_equal(info.sndq, 7);
	skiff_close(ls);
}

static void syn_to_a_full_accept_queue_is_dropped_until_accept_makes_room(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 2), *so[3];
	struct t_seg s;
	int i;

	t_handshake(h, 20001, 1000);
	t_handshake(h, 20002, 2000);	/* the accept queue (2) is full */
	/* a third SYN: no SYN-ACK, no cookie, no RST; the peer will retransmit */
	t_syn(h, 20003, 3000, false, 0);
	assert_false(t_pop(h, &s));
	assert_int_equal(h->st.stats->drop.tcp_accept_full, 1);
	assert_int_equal(h->st.stats->tcp_syncookies_sent, 0);
	assert_int_equal(h->st.stats->tcp_out_rsts, 0);
	/* the application accepts one: the retransmitted SYN is answered */
	assert_int_equal(skiff_accept(ls, &so[0], NULL), 0);
	t_handshake(h, 20003, 3000);
	assert_int_equal(skiff_accept(ls, &so[1], NULL), 0);
	assert_int_equal(skiff_accept(ls, &so[2], NULL), 0);
	assert_int_equal(h->st.stats->tcp_passive_opens, 3);
	for (i = 0; i < 3; i++) {
		assert_true(skiff_poll(so[i]) & SOCK_EV_OUT);
		skiff_setsockopt(so[i], SKIFF_SO_LINGER_ABORT, 1);
		skiff_close(so[i]);
	}
	skiff_close(ls);
	t_drain(h);
}

static void handshake_ack_to_a_full_accept_queue_leaves_the_child_waiting(void **state)
{
	struct harness *h = *state;
	struct socket *ls = t_listen(h, T_PORT, 1), *so;
	struct t_out ack = { .daddr = H_ADDR, .sport = 20002, .dport = T_PORT, .seq = 2001,
			     .flags = F_ACK, .wnd = 65535 };
	struct t_seg s;

	/* two SYNs while the queue has room: both get a SYN-ACK */
	t_syn(h, 20001, 1000, false, 0);
	t_syn(h, 20002, 2000, false, 0);
	assert_true(t_pop(h, &s));
	assert_true(t_pop(h, &s));
	assert_int_equal(s.dport, 20002);
	ack.ack = s.seq + 1;
	t_handshake(h, 20001, 1000);	/* its SYN again: the SYN-ACK again, then the ACK */
	/* the second's ACK finds the accept queue full: dropped, still SYN-RECEIVED */
	t_send(h, &ack);
	assert_int_equal(h->st.stats->drop.tcp_accept_full, 1);
	assert_int_equal(tcp_lookup(&h->st, H_A4(H_PEER), htons(20002), H_A4(H_ADDR), htons(T_PORT))->state,
			 TCP_SYN_RECEIVED);
	assert_int_equal(skiff_accept(ls, &so, NULL), 0);
	skiff_setsockopt(so, SKIFF_SO_LINGER_ABORT, 1);
	skiff_close(so);
	/* the peer's retransmitted ACK now completes it */
	t_send(h, &ack);
	assert_int_equal(skiff_accept(ls, &so, NULL), 0);
	skiff_setsockopt(so, SKIFF_SO_LINGER_ABORT, 1);
	skiff_close(so);
	skiff_close(ls);
	t_drain(h);
}

static void syn_queue_size_comes_from_the_stack_config_then_cookies(void **state)
{
	struct harness *h = *state;
	struct socket *ls;
	struct t_seg s;
	int i;

	h->cfg.tcp_syn_backlog = 5;
	ls = t_listen(h, T_PORT, 100);
	for (i = 0; i < 5; i++)
		t_syn(h, (uint16_t)(20000 + i), 1000u * (uint32_t)i, false, 0);
	t_drain(h);
	assert_int_equal(h->st.stats->tcp_passive_opens, 5);
	assert_int_equal(h->st.stats->tcp_syncookies_sent, 0);
	t_syn(h, 30000, 77, false, 0);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(h->st.stats->tcp_syncookies_sent, 1);
	assert_int_equal(h->st.stats->tcp_passive_opens, 5);
	skiff_close(ls);
	t_drain(h);
	h->cfg.tcp_syn_backlog = 0;
}

static void syn_backlog_default_scales_with_memory(void **state)
{
	(void)state;
	assert_int_equal(tcp_syn_backlog_for_memory(0), TCP_SYN_BACKLOG_MIN);
	assert_int_equal(tcp_syn_backlog_for_memory(64ULL << 20), TCP_SYN_BACKLOG_MIN);
	assert_int_equal(tcp_syn_backlog_for_memory(4ULL << 30), 4096);
	assert_int_equal(tcp_syn_backlog_for_memory(24ULL << 30), 24576);
	assert_int_equal(tcp_syn_backlog_for_memory(1ULL << 40), TCP_SYN_BACKLOG_MAX);
}

/* ---- ICMP ---- */

/* The peer's router answers our segment at seq with ICMP type/code. */
static void t_icmp_about(struct harness *h, const struct t_conn *c, uint8_t type, uint8_t code,
			 uint32_t seq)
{
	uint8_t msg[8 + 20 + 8], frame[128];
	uint32_t saddr = H_ADDR, daddr = H_PEER;
	uint16_t ck;
	size_t n;

	memset(msg, 0, sizeof(msg));
	msg[0] = type;
	msg[1] = code;
	/* the quoted IPv4 header of our segment, then 8 bytes of its TCP header */
	msg[8] = 0x45;
	msg[8 + 3] = 60;
	msg[8 + 8] = 64;
	msg[8 + 9] = IPPROTO_TCP;
	memcpy(msg + 8 + 12, &saddr, 4);
	memcpy(msg + 8 + 16, &daddr, 4);
	msg[28] = (uint8_t)(T_PORT >> 8);
	msg[29] = (uint8_t)T_PORT;
	msg[30] = (uint8_t)(c->pport >> 8);
	msg[31] = (uint8_t)c->pport;
	put_be32(msg + 32, seq);
	ck = (uint16_t)~t_fold(t_sum(msg, sizeof(msg), 0));
	msg[2] = (uint8_t)(ck >> 8);
	msg[3] = (uint8_t)ck;
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_ICMP, 77, 0, msg,
			     sizeof(msg));
	assert_true(n > 0);
	harness_rx(h, frame, n);
}

/*
 * RFC 1122 4.2.3.9 / RFC 5927 7, as Linux: on an established connection an
 * ICMP unreachable (even port unreachable, a hard error) never aborts; the
 * last one is kept, an ACK clears it, and if the connection then times out
 * the application hears it instead of ETIMEDOUT.  One quoting a sequence
 * not in flight is ignored (RFC 5927 4.1).
 */
static void tcp_icmp_errors_on_established_are_soft_and_reported_on_timeout(void **state)
{
	struct harness *h = *state;
	struct t_conn c;
	struct tcp_sock *tp;
	struct t_seg s;
	char buf[16];
	int i;

	t_establish(h, &c, false);
	tp = t_conn_lookup(h, &c);
	assert_int_equal(skiff_send(c.so, "data", 4), 4);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.seq, c.rcv);

	t_icmp_about(h, &c, 3, 1, c.rcv + 4);	/* not in flight: ignored */
	assert_int_equal(tp->soft_err, 0);
	t_icmp_about(h, &c, 3, 1, c.rcv);	/* host unreachable */
	assert_int_equal(tp->state, TCP_ESTABLISHED);
	assert_int_equal(tp->soft_err, -EHOSTUNREACH);
	t_icmp_about(h, &c, 3, 3, c.rcv);	/* port unreachable: soft too */
	assert_int_equal(tp->state, TCP_ESTABLISHED);
	assert_int_equal(tp->soft_err, -ECONNREFUSED);
	assert_int_equal(h->st.stats->tcp_icmp_soft_errors, 2);
	assert_int_equal(skiff_poll(c.so) & SOCK_EV_ERR, 0);

	/* the peer ACKs: the error is forgotten */
	c.rcv += 4;
	t_seg_at(h, &c, c.snd, F_ACK, NULL, 0);
	assert_int_equal(tp->soft_err, 0);
	t_drain(h);

	/* the path dies: network unreachable, then the retransmissions time out */
	assert_int_equal(skiff_send(c.so, "more", 4), 4);
	assert_true(t_pop(h, &s));
	t_icmp_about(h, &c, 3, 0, c.rcv);
	assert_int_equal(tp->soft_err, -ENETUNREACH);
	for (i = 0; i < 3000 && skiff_poll(c.so) == SOCK_EV_OUT; i++) {
		/* the next hop stays resolved (else ARP's EHOSTUNREACH, also a
		 * soft error, would be the last one) */
		harness_add_neigh(h, H_PEER, H_PEER_MAC);
		harness_advance(h, NSEC_PER_SEC);
		t_drain(h);
	}
	assert_true(skiff_poll(c.so) & SOCK_EV_ERR);
	assert_int_equal(h->st.stats->tcp_timeouts, 1);
	assert_int_equal(skiff_recv(c.so, buf, sizeof(buf)), -ENETUNREACH);
	t_close_all(h, &c);
}

static void tcp_parse_options_survives_malformed_lengths(void **state)
{
	struct tcp_seg seg;
	/* MSS, then an option claiming 40 bytes in a 12-byte area */
	const uint8_t bad[12] = { 2, 4, 0x05, 0xb4, 30, 40, 0, 0, 0, 0, 0, 0 };
	/* zero length (would loop forever) */
	const uint8_t zero[4] = { 30, 0, 2, 4 };
	/* MSS of the wrong length is ignored, the rest parsed */
	const uint8_t wrong[8] = { 2, 3, 5, 4, 2, 1, 1, 0 };

	(void)state;
	memset(&seg, 0, sizeof(seg));
	seg.flags = TCPF_SYN;
	assert_int_equal(tcp_parse_options(bad, sizeof(bad), &seg), 0);
	assert_int_equal(seg.mss, 1460);
	assert_int_equal(tcp_parse_options(zero, sizeof(zero), &seg), 0);
	assert_int_equal(seg.mss, 0);
	assert_int_equal(tcp_parse_options(wrong, sizeof(wrong), &seg), 0);
	assert_int_equal(seg.mss, 0);
	assert_true(seg.sack_ok);
}

/* The aligned timestamp layout (NOP, NOP, TS) read by the fast path gives
 * what the general loop gives for the same option in other layouts; a
 * near miss of the layout (another kind, a wrong length, more options
 * behind) goes the general way. */
static void tcp_parse_options_aligned_timestamp_equals_the_general_parse(void **state)
{
	const uint8_t aligned[12] = { 1, 1, 8, 10, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe };
	const uint8_t trailing[12] = { 8, 10, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 1, 1 };
	const uint8_t badlen[12] = { 1, 1, 8, 9, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe };
	const uint8_t kind[12] = { 1, 1, 30, 10, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe };
	/* NOP NOP TS, then NOP NOP SACK with one block */
	const uint8_t sack[24] = { 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9,
				   1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0 };
	struct tcp_seg a, b;

	(void)state;
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	a.flags = b.flags = TCPF_ACK;
	assert_int_equal(tcp_parse_options(aligned, sizeof(aligned), &a), 0);
	assert_int_equal(tcp_parse_options(trailing, sizeof(trailing), &b), 0);
	assert_true(a.has_ts && b.has_ts);
	assert_int_equal(a.ts_val, 0x80000001u);
	assert_int_equal(a.ts_ecr, 0xfffffffeu);
	assert_int_equal(a.ts_val, b.ts_val);
	assert_int_equal(a.ts_ecr, b.ts_ecr);
	assert_int_equal(a.mss, 0);
	assert_int_equal(a.wscale, -1);
	assert_false(a.sack_ok);
	assert_int_equal(a.n_sack, 0);
	assert_int_equal(a.mss, b.mss);
	assert_int_equal(a.wscale, b.wscale);
	assert_int_equal(a.n_sack, b.n_sack);
	assert_int_equal(tcp_parse_options(badlen, sizeof(badlen), &a), 0);
	assert_false(a.has_ts);
	assert_int_equal(tcp_parse_options(kind, sizeof(kind), &a), 0);
	assert_false(a.has_ts);
	assert_int_equal(tcp_parse_options(sack, sizeof(sack), &a), 0);
	assert_true(a.has_ts);
	assert_int_equal(a.ts_val, 7);
	assert_int_equal(a.ts_ecr, 9);
	assert_int_equal(a.n_sack, 1);
	assert_int_equal(a.sack[0].start, 0x1000);
	assert_int_equal(a.sack[0].end, 0x2000);
}

/* Distinct buckets among the tuples (64 at most). */
static unsigned int ehash_buckets(const struct tcp_table *t, const union inet_addr *la,
				  const union inet_addr *fa, unsigned int n, bool vary_port)
{
	uint32_t seen[64];
	unsigned int i, j, distinct = 0;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		uint32_t b = tcp_ehashfn(t, la, htons(80), &fa[vary_port ? 0 : i],
					 htons((uint16_t)(vary_port ? 40000 + i : 40000)));

		for (j = 0; j < distinct && seen[j] != b; j++)
			;
		if (j == distinct)
			seen[distinct++] = b;
	}
	return distinct;
}

/*
 * The connection hash is keyed and takes the whole tuple: a peer cannot
 * put its connections in one bucket.  64 IPv6 sources whose 32-bit words
 * XOR to the same value (what an address folded before hashing would
 * collide on) spread over the buckets; the same tuples land elsewhere
 * under another secret.
 */
static void tcp_connection_hash_is_keyed_and_takes_the_whole_address(void **state)
{
	struct tcp_table t1 = {0}, t2 = {0};
	struct tcp_secret s1 = {{1}}, s2 = {{2}};
	union inet_addr la = {0}, fa[64];
	unsigned int i, same = 0;

	(void)state;
	tcp_ehash_key_init(&t1, &s1);
	tcp_ehash_key_init(&t2, &s2);
	la.w[0] = htonl(0x20010db8);
	la.w[3] = htonl(5);
	for (i = 0; i < 64; i++) {
		memset(&fa[i], 0, sizeof(fa[i]));
		fa[i].w[0] = htonl(0x20010db8);
		fa[i].w[2] = htonl(i);
		fa[i].w[3] = htonl(i);	/* w[2] ^ w[3] == 0: one fold for all */
	}
	assert_true(ehash_buckets(&t1, &la, fa, 64, false) >= 48);
	la = (union inet_addr)INET_ADDR_ANY4_INIT;
	la.w[3] = htonl(0x0a000005);
	fa[0] = (union inet_addr)INET_ADDR_ANY4_INIT;
	fa[0].w[3] = htonl(0x0a000001);
	assert_true(ehash_buckets(&t1, &la, fa, 64, true) >= 48);
	for (i = 0; i < 64; i++)
		same += tcp_ehashfn(&t1, &la, htons(80), &fa[0], htons((uint16_t)(40000 + i))) ==
			tcp_ehashfn(&t2, &la, htons(80), &fa[0], htons((uint16_t)(40000 + i)));
	assert_true(same < 8);
}

static void tcp_tiny_peer_mss_is_raised_to_the_floor(void **state)
{
	struct tcp_seg seg;
	const uint8_t one[4] = { 2, 4, 0, 1 };	/* MSS 1: a segment per byte */
	const uint8_t zero[4] = { 2, 4, 0, 0 };

	(void)state;
	memset(&seg, 0, sizeof(seg));
	seg.flags = TCPF_SYN;
	assert_int_equal(tcp_parse_options(one, sizeof(one), &seg), 0);
	assert_int_equal(seg.mss, TCP_MIN_SND_MSS);
	memset(&seg, 0, sizeof(seg));
	seg.flags = TCPF_SYN;
	assert_int_equal(tcp_parse_options(zero, sizeof(zero), &seg), 0);
	assert_int_equal(seg.mss, 0);	/* as if absent: 536 then */
}

static void tcp_peer_announcing_mss_1_gets_48_byte_segments(void **state)
{
	struct harness *h = *state;
	const uint8_t opt[4] = { 2, 4, 0, 1 };
	struct t_out o = { .daddr = H_ADDR, .sport = T_PPORT, .dport = T_PORT, .seq = T_PEER_ISN,
			   .flags = F_SYN, .wnd = 65535, .opt = opt, .optlen = 4 };
	struct socket *ls = t_listen(h, T_PORT, 4), *so;
	uint8_t data[200];
	struct t_seg s;
	size_t total = 0, biggest = 0;

	t_send(h, &o);
	assert_true(t_pop(h, &s));
	assert_int_equal(s.flags, F_SYN | F_ACK);
	o = (struct t_out){ .daddr = H_ADDR, .sport = T_PPORT, .dport = T_PORT,
			    .seq = T_PEER_ISN + 1, .ack = s.seq + 1, .flags = F_ACK, .wnd = 65535 };
	t_send(h, &o);
	assert_int_equal(skiff_accept(ls, &so, NULL), 0);
	memset(data, 'x', sizeof(data));
	assert_int_equal(skiff_send(so, data, sizeof(data)), (ssize_t)sizeof(data));
	stack_poll(&h->st);
	while (t_pop(h, &s)) {
		if (!s.len)
			continue;
		assert_true(s.len <= TCP_MIN_SND_MSS);
		biggest = s.len > biggest ? s.len : biggest;
		total += s.len;
	}
	assert_true(total > 0);
	assert_int_equal(biggest, TCP_MIN_SND_MSS);	/* not one byte a segment */
	skiff_setsockopt(so, SKIFF_SO_LINGER_ABORT, 1);
	skiff_close(so);
	skiff_close(ls);
	t_drain(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_setup_peer, harness_teardown)
		T(tcp_closed_port_ack_gets_rst_with_seq_of_its_ack),
		T(tcp_closed_port_syn_gets_rst_ack_of_its_length),
		T(tcp_closed_port_rst_is_not_answered),
		T(tcp_closed_port_on_shared_address_is_silent),
		T(tcp_syn_gets_syn_ack_with_our_options_and_ack_completes_accept),
		T(tcp_syn_without_options_gets_default_mss_and_no_scaling),
		T(tcp_ack_to_listener_gets_rst),
		T(tcp_in_order_data_is_delivered_and_acked),
		T(tcp_second_full_timestamped_segment_is_acked_at_once),
		T(tcp_a_burst_of_full_segments_gets_one_ack_at_its_end),
		T(tcp_reads_in_one_burst_get_one_window_update),
		T(tcp_old_duplicate_is_acked_and_not_delivered_again),
		T(tcp_partially_new_segment_delivers_only_the_new_bytes),
		T(tcp_segment_beyond_the_window_is_acked_and_dropped),
		T(tcp_zero_window_probe_is_answered_and_its_byte_not_taken),
		T(tcp_zero_length_ack_at_rcv_nxt_is_accepted),
		T(tcp_rst_at_rcv_nxt_resets_the_connection),
		T(tcp_rst_in_window_gets_a_challenge_ack),
		T(tcp_rst_outside_window_is_ignored),
		T(tcp_syn_in_established_gets_a_challenge_ack),
		T(tcp_ack_of_unsent_data_gets_a_challenge_ack),
		T(tcp_challenge_acks_are_rate_limited_per_second),
		T(tcp_paws_drops_a_segment_with_an_old_timestamp),
		T(tcp_paws_lets_a_disordered_duplicate_ack_through_with_its_sack),
		T(tcp_sack_blocks_a_full_scoreboard_cannot_keep_are_not_counted_delivered),
		T(tcp_out_of_order_is_sacked_and_delivered_once_the_hole_fills),
		T(tcp_duplicates_are_reported_by_dsack),
		T(tcp_fin_moves_to_close_wait_and_recv_returns_eof),
		T(tcp_fin_out_of_order_is_processed_when_the_hole_fills),
		T(tcp_bare_fin_beyond_a_hole_waits_for_the_data),
		T(tcp_bad_checksum_bad_offset_and_all_flags_are_dropped_and_counted),
		T(tcp_short_segment_is_dropped_and_counted),
		T(tcp_syn_flood_gets_cookies_and_a_cookie_ack_connects),
		T(listen_backlog_above_somaxconn_is_capped_at_4096),
		T(syn_to_a_full_accept_queue_is_dropped_until_accept_makes_room),
		T(handshake_ack_to_a_full_accept_queue_leaves_the_child_waiting),
		T(syn_queue_size_comes_from_the_stack_config_then_cookies),
		cmocka_unit_test(syn_backlog_default_scales_with_memory),
		T(tcp_icmp_errors_on_established_are_soft_and_reported_on_timeout),
		cmocka_unit_test(tcp_parse_options_survives_malformed_lengths),
		cmocka_unit_test(tcp_parse_options_aligned_timestamp_equals_the_general_parse),
		cmocka_unit_test(tcp_tiny_peer_mss_is_raised_to_the_floor),
		cmocka_unit_test(tcp_connection_hash_is_keyed_and_takes_the_whole_address),
		T(tcp_peer_announcing_mss_1_gets_48_byte_segments),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
