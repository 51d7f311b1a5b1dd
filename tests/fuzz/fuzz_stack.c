// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness: one whole stack (tests/unit/harness.h: fake driver,
 * simulated clock, fake BPF maps, inet_init) with the UDP and TCP echo and
 * discard services, the HTTP server on a small directory, an application
 * listener on 8080, and three connections the harness establishes before
 * the input is read (to 8080, to the HTTP server, to TCP echo).  The input
 * is a sequence of records, each one frame or one event:
 *
 *   record = op:u8  len:u16 (big endian, modulo FZ_MAX_PAYLOAD + 1)  payload
 *   op & 0x07  kind (below); op & 0x08: no stack_poll() after this record
 *              (the next frames join the same burst);
 *   op >> 4    clock step before the record (fz_steps[]).
 *
 *   0 raw Ethernet frame, as is
 *   1 IPv4 packet from the peer: Ethernet header added, IP header checksum
 *     fixed (fragments, options, bad lengths are the fuzzer's)
 *   2 [proto][dst] L4 bytes: a valid IPv4 header added, TCP/UDP/ICMP
 *     checksum fixed; dst picks our address, the broadcast, another host
 *   3 a segment on a pre-established connection (fz_conn_seg()): sequence
 *     and acknowledgment numbers relative to the connection's RCV.NXT /
 *     SND.UNA, timestamps that pass PAWS, checksum fixed, so the fuzzer
 *     reaches deep into tcp_input / tcp_ack
 *   4 an application call on one of the sockets (fz_app())
 *   5 clock step only (payload: u16 milliseconds)
 *   6 an ICMP error quoting one of our connections (fz_icmp_err())
 *   7 as 3
 *
 * Every frame the stack transmits is checked (IPv4 header checksum and
 * length, TCP/UDP/ICMP checksum) and freed.  After each input every socket
 * is closed, the stack torn down, and every frame and big buffer must be
 * back in its pool; ASan/LeakSanitizer check the rest.  A failed check
 * aborts, which libFuzzer reports as a crash with the input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apps/http.h"
#include "apps/services.h"
#include "core/clock.h"
#include "core/csum.h"
#include "harness.h"
#include "tsum.h"
#include "sock/inet.h"
#include "sock/socket.h"
#include "transport/tcp_isn.h"
#include "transport/tcp_internal.h"

#define FZ_MAX_PAYLOAD	1600
#define FZ_MAX_RECORDS	256
#define FZ_NSOCKS	8
#define FZ_NCONNS	4
#define MS		(1000ULL * 1000)
#define SEC		(1000ULL * MS)

#define FZ_CHECK(cond)                                                                    \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_stack: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                      \
			abort();                                                          \
		}                                                                         \
	} while (0)

static const uint64_t fz_steps[16] = {
	0, 0, 0, 0, 0, 0, 1 * MS, 5 * MS, 40 * MS, 200 * MS, 1 * SEC, 3 * SEC, 10 * SEC,
	61 * SEC, 130 * SEC, 10 * 60 * SEC,
};

/* The peer's side of a connection the harness drives. */
struct fz_conn {
	uint16_t lport, pport;	/* host order */
	uint32_t peer_ts;	/* the peer's TSval clock */
	/* what the peer saw, for when no connection object answers (a SYN
	 * cookie, a connection reset): the end of our last segment, the end
	 * of the peer's last segment */
	uint32_t our_end, peer_end;
};

struct fz {
	struct harness h;
	struct service *svc[4];
	struct http_server *http;
	struct socket *ls;			/* application listener, 8080 */
	struct socket *so[FZ_NSOCKS];		/* 0: accepted on 8080, 1: client, 2..: accepted */
	struct fz_conn conn[FZ_NCONNS];		/* 0: 8080, 1: HTTP 80, 2: echo 7,
						 * 3: 8080 not connected / the client */
	uint16_t ip_id;
	struct pkb_queue held;			/* frames taken from the pool (kind 4, act 10) */
	uint8_t buf[FZ_MAX_PAYLOAD + 128];
	uint8_t frame[FZ_MAX_PAYLOAD + 256];
};

static struct fz fz;
static char fz_dir[64];
static const uint8_t fz_key[16] = { 'f', 'u', 'z', 'z', '-', 's', 't', 'a', 'c', 'k' };
static uint8_t fz_junk[65536];
static bool fz_verbose;		/* FUZZ_STACK_VERBOSE=1: one line per frame sent */

/* ---- checksums, computed here (tsum.h: independently of core/csum.c) ---- */

/* ~sum of the pseudo header (proto, len) and seg; 0 when seg is right. */
static uint16_t fz_l4_csum(uint32_t saddr, uint32_t daddr, uint8_t proto, const uint8_t *seg,
			   size_t len)
{
	uint32_t sum = 0;

	if (proto != IPPROTO_ICMP) {
		sum = t_sum(&saddr, 4, sum);
		sum = t_sum(&daddr, 4, sum);
		sum += proto;
		sum += (uint32_t)len;
	}
	return (uint16_t)~t_fold(t_sum(seg, len, sum));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Write the L4 checksum of seg in place (if it is long enough to hold one). */
static void fz_fix_l4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint8_t *seg, size_t len)
{
	size_t off;
	uint16_t c;

	switch (proto) {
	case IPPROTO_TCP:
		off = 16;
		break;
	case IPPROTO_UDP:
		off = 6;
		break;
	case IPPROTO_ICMP:
		off = 2;
		break;
	default:
		return;
	}
	if (len < off + 2)
		return;
	seg[off] = seg[off + 1] = 0;
	c = fz_l4_csum(saddr, daddr, proto, seg, len);
	if (proto == IPPROTO_UDP && !c)
		c = 0xffff;
	put16(seg + off, c);
}

/* ---- the stack's output: checked, then freed ---- */

/* Remember where our last segment on one of fz.conn[] ended. */
static void fz_saw_tcp(const uint8_t *th, size_t len)
{
	uint16_t sport = (uint16_t)(th[0] << 8 | th[1]), dport = (uint16_t)(th[2] << 8 | th[3]);
	size_t hl = (th[12] >> 4) * 4u;
	int i;

	if (hl < 20 || hl > len)
		return;
	for (i = 0; i < FZ_NCONNS; i++) {
		struct fz_conn *c = &fz.conn[i];

		if (c->lport == sport && c->pport == dport)
			c->our_end = get32(th + 4) + (uint32_t)(len - hl) + !!(th[13] & TCPF_SYN) +
				     !!(th[13] & TCPF_FIN);
	}
}

static void fz_check_tx(struct pkb *pkb)
{
	const uint8_t *d = pkb->data, *ip, *l4;
	size_t len = pkb_len(pkb), ihl, tot, off = 14;
	uint32_t saddr, daddr;
	uint16_t type, frag;

	FZ_CHECK(len >= 14);
	type = (uint16_t)(d[12] << 8 | d[13]);
	if (type == 0x8100) {
		FZ_CHECK(len >= 18);
		type = (uint16_t)(d[16] << 8 | d[17]);
		off = 18;
	}
	if (fz_verbose)
		fprintf(stderr, "tx %zu bytes, type %#x, proto %u, l4 %02x%02x%02x%02x %02x\n", len,
			type, len > off + 20 ? d[off + 9] : 0, len > off + 24 ? d[off + 20] : 0,
			len > off + 24 ? d[off + 21] : 0, len > off + 24 ? d[off + 22] : 0,
			len > off + 24 ? d[off + 23] : 0, len > off + 33 ? d[off + 33] : 0);
	if (type != 0x0800)
		return;
	ip = d + off;
	FZ_CHECK(len >= off + 20);
	FZ_CHECK(ip[0] >> 4 == 4);
	ihl = (ip[0] & 15u) * 4;
	FZ_CHECK(ihl >= 20 && off + ihl <= len);
	FZ_CHECK(t_fold(t_sum(ip, ihl, 0)) == 0xffff);
	tot = (size_t)(ip[2] << 8 | ip[3]);
	FZ_CHECK(tot >= ihl && off + tot <= len);
	frag = (uint16_t)((ip[6] << 8 | ip[7]) & 0x3fff);
	if (frag)
		return;		/* a fragment: its L4 checksum covers the whole datagram */
	l4 = ip + ihl;
	switch (ip[9]) {
	case IPPROTO_TCP:
		FZ_CHECK(tot - ihl >= 20);
		fz_saw_tcp(l4, tot - ihl);
		break;
	case IPPROTO_UDP:
		FZ_CHECK(tot - ihl >= 8);
		FZ_CHECK((size_t)(l4[4] << 8 | l4[5]) == tot - ihl);
		if (!l4[6] && !l4[7])
			return;
		break;
	case IPPROTO_ICMP:
		FZ_CHECK(tot - ihl >= 8);
		break;
	default:
		return;
	}
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	FZ_CHECK(fz_l4_csum(saddr, daddr, ip[9], l4, tot - ihl) == 0);
}

static void fz_drain(void)
{
	struct pkb *pkb;

	while ((pkb = fakedev_pop_tx(&fz.h.fd))) {
		fz_check_tx(pkb);
		pkb_free(pkb);
	}
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* What must hold for every connection between bursts, whatever came in. */
static void fz_check_conn(void *arg, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	uint32_t una;
	int i;

	(void)arg;
	FZ_CHECK(tp->state < TCP_STATE_MAX);
	FZ_CHECK(tp->n_scoreboard <= TCP_SCOREBOARD);
	FZ_CHECK(tp->n_rcv_sacks <= TCP_MAX_SACK_BLOCKS);
	if (tp->state < TCP_ESTABLISHED)
		return;
	FZ_CHECK(seq_le(tp->snd_una, tp->snd_nxt));
	FZ_CHECK(seq_le(tp->snd_nxt, tp->snd_max));
	/* the send queue holds exactly the bytes from SND.UNA (past our SYN,
	 * which a close in SYN_RECEIVED leaves unacknowledged) to the app's end */
	una = tp->snd_una == tp->iss ? tp->iss + 1 : tp->snd_una;
	if (seq_le(una, tp->write_seq))
		FZ_CHECK(tp->sndq.len == tp->write_seq - una);
	else
		FZ_CHECK(tp->fin_sent && una == tp->write_seq + 1 && !tp->sndq.len);
	/* the scoreboard and the SACK blocks we report live in the recovery
	 * block; none without one (tcp_sock.h) */
	if (!tp->rcvy) {
		FZ_CHECK(!tp->n_scoreboard && !tp->n_rcv_sacks);
		return;
	}
	for (i = 0; i < tp->n_scoreboard; i++) {
		FZ_CHECK(seq_le(tp->rcvy->scoreboard[i].start, tp->rcvy->scoreboard[i].end));
		FZ_CHECK(seq_le(tp->rcvy->scoreboard[i].end, tp->snd_max));
	}
}

static void fz_poll(void)
{
	stack_poll(&fz.h.st);
	fz_drain();
	tcp_walk(&fz.h.st, fz_check_conn, NULL);
}

static void fz_advance(uint64_t ns)
{
	clock_advance(ns);
	fz_poll();
}

/* Queue a frame for the next burst (dropped here if empty or no frame is free). */
static void fz_inject(const uint8_t *frame, size_t len)
{
	if (len)
		(void)fakedev_inject(&fz.h.fd, frame, len);
}

/* ---- crafting frames from the peer ---- */

/* Ethernet(peer -> us) + IPv4(saddr -> daddr, proto) + l4, checksums fixed. */
static size_t fz_ip_frame(uint32_t saddr, uint32_t daddr, uint8_t proto, uint8_t *l4, size_t len)
{
	fz_fix_l4(saddr, daddr, proto, l4, len);
	return harness_ip_frame(fz.frame, sizeof(fz.frame), saddr, daddr, proto, fz.ip_id++, 0, l4,
				len);
}

struct fz_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *opt;
	size_t optlen;		/* padded here to a multiple of 4 */
	int doff_raw;		/* the 13th byte as is (-1: the right data offset) */
	const uint8_t *data;
	size_t len;
};

static void fz_tcp_send(const struct fz_tcp *t)
{
	uint8_t *seg = fz.buf;
	size_t optlen = (t->optlen + 3) & ~(size_t)3, hl = 20 + optlen, n;

	if (hl + t->len > sizeof(fz.buf))
		return;
	memset(seg, 0, hl);
	put16(seg, t->sport);
	put16(seg + 2, t->dport);
	put32(seg + 4, t->seq);
	put32(seg + 8, t->ack);
	seg[12] = t->doff_raw >= 0 ? (uint8_t)t->doff_raw : (uint8_t)(hl / 4 << 4);
	seg[13] = t->flags;
	put16(seg + 14, t->wnd);
	if (t->optlen)
		memcpy(seg + 20, t->opt, t->optlen);
	if (t->len)
		memcpy(seg + hl, t->data, t->len);
	n = fz_ip_frame(H_PEER, H_ADDR, IPPROTO_TCP, seg, hl + t->len);
	fz_inject(fz.frame, n);
}

/* The connection c's object on our side (NULL if gone or only the listener). */
static struct tcp_sock *fz_conn_tp(const struct fz_conn *c)
{
	struct tcp_sock *tp;

	if (!c->lport)
		return NULL;
	tp = tcp_lookup(&fz.h.st, H_A4(H_PEER), htons(c->pport), H_A4(H_ADDR), htons(c->lport));
	if (!tp || tp->state == TCP_LISTEN)
		return NULL;
	return tp;
}

static size_t fz_ts_opt(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, tsval);
	put32(o + 8, tsecr);
	return 12;
}

/* Passive open of c from the peer: SYN with every option, our SYN-ACK, ACK. */
static void fz_establish(struct fz_conn *c, uint16_t lport, uint16_t pport)
{
	uint8_t opt[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10 };
	struct fz_tcp t = { .sport = pport, .dport = lport, .seq = 1000000, .flags = TCPF_SYN,
			    .wnd = 65535, .opt = opt, .optlen = 20, .doff_raw = -1 };
	struct tcp_sock *tp;
	uint8_t ts[12];

	c->lport = lport;
	c->pport = pport;
	c->peer_ts = 5000;
	put32(opt + 12, c->peer_ts);
	fz_tcp_send(&t);
	fz_poll();
	tp = fz_conn_tp(c);
	FZ_CHECK(tp && tp->state == TCP_SYN_RECEIVED);
	t.seq++;
	t.ack = tp->iss + 1;
	t.flags = TCPF_ACK;
	t.wnd = 4096;	/* << 7 */
	t.optlen = fz_ts_opt(ts, ++c->peer_ts, tcp_tsval(tp, fz.h.st.now));
	t.opt = ts;
	fz_tcp_send(&t);
	fz_poll();
	tp = fz_conn_tp(c);
	FZ_CHECK(tp && tp->state == TCP_ESTABLISHED);
}

/*
 * Kind 3: [ctl][seq:4][ack:4][flags][wnd:2][optlen][opt...][data...]
 *   ctl & 3     connection (fz.conn[])
 *   ctl & 0x04  seq absolute (else RCV.NXT + seq, as a signed delta)
 *   ctl & 0x08  ack absolute (else SND.UNA + ack)
 *   ctl & 0x10  add a timestamp option (TSval from the peer's clock, TSecr ours)
 *   ctl & 0x20  ... with a TSval 1000 behind (PAWS)
 *   ctl & 0x40  the data offset byte is optlen's byte as is
 *   ctl & 0x80  the option bytes are SACK blocks: pairs of u32 deltas from
 *               SND.UNA, written as a SACK option (at most 4 blocks)
 *   optlen      & 0x3f, at most 40 minus the timestamp option
 */
static void fz_conn_seg(const uint8_t *p, size_t n)
{
	struct fz_conn *c;
	struct tcp_sock *tp;
	uint8_t opt[44], ctl;
	size_t optlen, tl = 0;
	struct fz_tcp t = { .doff_raw = -1 };
	uint32_t rcv_nxt = 0, snd_una = 0, ours = 0;

	if (n < 13)
		return;
	ctl = p[0];
	c = &fz.conn[ctl & 3];
	if (!c->lport)
		return;
	tp = fz_conn_tp(c);
	if (tp) {
		rcv_nxt = tp->rcv_nxt;
		snd_una = tp->snd_una;
		ours = tcp_tsval(tp, fz.h.st.now);
	} else {
		rcv_nxt = c->peer_end;
		snd_una = c->our_end;
	}
	t.sport = c->pport;
	t.dport = c->lport;
	t.seq = get32(p + 1) + (ctl & 0x04 ? 0 : rcv_nxt);
	t.ack = get32(p + 5) + (ctl & 0x08 ? 0 : snd_una);
	t.flags = p[9];
	t.wnd = (uint16_t)(p[10] << 8 | p[11]);
	if (ctl & 0x10) {
		c->peer_ts++;
		tl = fz_ts_opt(opt, ctl & 0x20 ? c->peer_ts - 1000 : c->peer_ts, ours);
	}
	optlen = p[12] & 0x3f;
	if (optlen > 40 - tl)
		optlen = 40 - tl;
	if (ctl & 0x40)
		t.doff_raw = p[12];
	p += 13;
	n -= 13;
	if (optlen > n)
		optlen = n;
	if (ctl & 0x80) {
		size_t i, nb = optlen / 8;

		if (nb > (40 - tl - 2) / 8)
			nb = (40 - tl - 2) / 8;
		opt[tl] = 5;
		opt[tl + 1] = (uint8_t)(2 + 8 * nb);
		for (i = 0; i < nb; i++) {
			put32(opt + tl + 2 + 8 * i, snd_una + get32(p + 8 * i));
			put32(opt + tl + 6 + 8 * i, snd_una + get32(p + 8 * i + 4));
		}
		tl += nb ? 2 + 8 * nb : 0;
		p += optlen;
		n -= optlen;
		optlen = 0;
	}
	memcpy(opt + tl, p, optlen);
	t.opt = opt;
	t.optlen = tl + optlen;
	t.data = p + optlen;
	t.len = n - optlen;
	c->peer_end = t.seq + (uint32_t)t.len + !!(t.flags & TCPF_SYN) + !!(t.flags & TCPF_FIN);
	fz_tcp_send(&t);
}

/* Kind 2: [proto][dst] L4 bytes, in a valid IPv4 header, checksum fixed. */
static void fz_l4(const uint8_t *p, size_t n)
{
	static const uint32_t dsts[4] = { H_ADDR, 0xffffffffU, 0xff00000aU, 0x0900000aU };
	uint32_t daddr;
	size_t len;
	uint8_t proto;

	if (n < 2)
		return;
	proto = p[0];
	daddr = dsts[p[1] & 3];
	memcpy(fz.buf, p + 2, n - 2);
	len = fz_ip_frame(H_PEER, daddr, proto, fz.buf, n - 2);
	fz_inject(fz.frame, len);
}

/*
 * Kind 6: an ICMP error about one of our flows, from the peer:
 * [ctl][type][code][info:4][seq:4][more quoted bytes...]
 *   ctl & 3     connection (fz.conn[]); ctl & 4: about the UDP echo socket instead
 *   seq         SND.UNA + seq (the quoted TCP sequence number)
 * The quote is our IPv4 header (us -> peer) and the first transport bytes.
 */
static void fz_icmp_err(const uint8_t *p, size_t n)
{
	struct fz_conn *c;
	struct tcp_sock *tp;
	uint8_t *icmp = fz.buf, *q;
	size_t len, more;
	uint8_t ctl;

	if (n < 11)
		return;
	ctl = p[0];
	c = &fz.conn[ctl & 3];
	tp = fz_conn_tp(c);
	more = n - 11;
	if (more > 512)
		more = 512;
	memset(icmp, 0, 8 + 20 + 8);
	icmp[0] = p[1];
	icmp[1] = p[2];
	memcpy(icmp + 4, p + 3, 4);
	q = icmp + 8;		/* the quoted IPv4 header: what we sent */
	q[0] = 0x45;
	put16(q + 2, (uint16_t)(20 + 8 + more + 20));
	q[8] = 64;
	q[9] = ctl & 4 ? IPPROTO_UDP : IPPROTO_TCP;
	memcpy(q + 12, &(uint32_t){ H_ADDR }, 4);
	memcpy(q + 16, &(uint32_t){ H_PEER }, 4);
	put16(q + 10, (uint16_t)~t_fold(t_sum(q, 20, 0)));
	q += 20;
	if (ctl & 4) {
		put16(q, 7);
		put16(q + 2, 40000);
		put16(q + 4, (uint16_t)(8 + more));
	} else {
		put16(q, c->lport);
		put16(q + 2, c->pport);
		put32(q + 4, (tp ? tp->snd_una : 0) + get32(p + 7));
	}
	memcpy(q + 8, p + 11, more);
	len = fz_ip_frame(H_PEER, H_ADDR, IPPROTO_ICMP, icmp, 8 + 20 + 8 + more);
	fz_inject(fz.frame, len);
}

/* Kind 1: an IPv4 packet; Ethernet header added, header checksum fixed. */
static void fz_ip(const uint8_t *p, size_t n)
{
	uint8_t *f = fz.frame;
	size_t ihl;
	uint16_t c;

	memcpy(f, H_MAC, 6);
	memcpy(f + 6, H_PEER_MAC, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memcpy(f + 14, p, n);
	if (n >= 20) {
		ihl = (p[0] & 15u) * 4;
		if (ihl >= 20 && ihl <= n) {
			f[24] = f[25] = 0;
			c = (uint16_t)~t_fold(t_sum(f + 14, ihl, 0));
			put16(f + 24, c);
		}
	}
	fz_inject(f, 14 + n);
}

/* Take frames from the pool until only keep are free (or give them back). */
static void fz_hold_frames(uint32_t keep)
{
	struct pkb *pkb;

	while (fz.h.fd.pool.n_free < keep && (pkb = pkb_dequeue(&fz.held)))
		pkb_free(pkb);
	while (fz.h.fd.pool.n_free > keep && (pkb = pkb_pool_get(&fz.h.fd.pool)))
		pkb_queue_tail(&fz.held, pkb);
}

/* Kind 4: [act][arg:2]  on socket fz.so[act >> 5]. */
static void fz_app(const uint8_t *p, size_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct socket **sop, *so;
	uint32_t arg;
	uint8_t act;
	int i, v;

	if (n < 3)
		return;
	act = p[0];
	arg = (uint32_t)(p[1] << 8 | p[2]);
	sop = &fz.so[act >> 5];
	so = *sop;
	switch (act & 0x0f) {
	case 0:		/* send arg bytes */
		if (so)
			skiff_send(so, fz_junk, arg);
		break;
	case 1:		/* read up to arg bytes */
		if (so)
			skiff_recv(so, fz_junk, arg);
		break;
	case 2:
		if (so)
			skiff_shutdown(so, SHUT_WR);
		break;
	case 3:
		if (so)
			skiff_shutdown(so, SHUT_RD);
		break;
	case 4:		/* close (arg & 1: abortive) */
		if (so) {
			if (arg & 1)
				skiff_setsockopt(so, SKIFF_SO_LINGER_ABORT, 1);
			skiff_close(so);
			*sop = NULL;
		}
		break;
	case 5:		/* an option: arg >> 12 picks it, the rest is the value */
		if (so)
			skiff_setsockopt(so, (int)(arg >> 12) % SKIFF_TCP_MAXSEG + 1,
					 (int)(arg & 0xfff) * 64);
		break;
	case 6:		/* active open to the peer, port arg (conn 3 once connected) */
		if (fz.so[1])
			break;
		if (skiff_socket(&fz.h.st, SOCK_STREAM, &fz.so[1]))
			break;
		sin.sin_addr.s_addr = H_PEER;
		sin.sin_port = htons((uint16_t)arg);
		skiff_connect(fz.so[1], &sin);
		if (!skiff_getsockname(fz.so[1], &sin)) {
			fz.conn[3].lport = ntohs(sin.sin_port);
			fz.conn[3].pport = (uint16_t)arg;
			fz.conn[3].peer_ts = 7000;
		}
		break;
	case 7:		/* accept what is waiting on 8080 into a free slot */
		for (i = 2; i < FZ_NSOCKS && fz.ls; i++) {
			if (fz.so[i])
				continue;
			skiff_accept(fz.ls, &fz.so[i], NULL);
			break;
		}
		break;
	case 8:
		if (so) {
			skiff_getsockopt(so, SKIFF_SO_ERROR, &v);
			skiff_poll(so);
		}
		break;
	case 9:		/* the application listener closes */
		if (fz.ls) {
			skiff_close(fz.ls);
			fz.ls = NULL;
		}
		break;
	case 10:	/* the frame pool runs low: hold all but arg & 0x3f free frames */
		fz_hold_frames(arg & 0x3f);
		break;
	case 11:	/* the driver's TX ring: full at arg & 0xf frames (0: never) */
		fz.h.fd.tx_limit = arg & 0xf;
		break;
	default:
		break;
	}
}

static void fz_record(uint8_t op, const uint8_t *p, size_t n)
{
	switch (op & 7) {
	case 0:
		fz_inject(p, n);
		break;
	case 1:
		fz_ip(p, n);
		break;
	case 2:
		fz_l4(p, n);
		break;
	case 6:
		fz_icmp_err(p, n);
		break;
	case 3:
	case 7:
		fz_conn_seg(p, n);
		break;
	case 4:
		fz_app(p, n);
		break;
	case 5:
		if (n >= 2)
			clock_advance((uint64_t)(p[0] << 8 | p[1]) * MS);
		break;
	}
}

/* ---- one input ---- */

static void fz_setup(void)
{
	struct stack *st = &fz.h.st;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8080) };

	memset(fz.so, 0, sizeof(fz.so));
	memset(fz.conn, 0, sizeof(fz.conn));
	memset(fz.svc, 0, sizeof(fz.svc));
	fz.ls = NULL;
	fz.http = NULL;
	fz.ip_id = 1;
	FZ_CHECK(harness_init(&fz.h, 1) == 0);
	/* a dedicated IPv6 address, 2001:db8::1: IPv6 input is fuzzed too */
	fz.h.cfg.addrs6[0].addr[0] = 0x20;
	fz.h.cfg.addrs6[0].addr[1] = 0x01;
	fz.h.cfg.addrs6[0].addr[2] = 0x0d;
	fz.h.cfg.addrs6[0].addr[3] = 0xb8;
	fz.h.cfg.addrs6[0].addr[15] = 1;
	fz.h.cfg.addrs6[0].prefix_len = 64;
	fz.h.cfg.addrs6[0].dedicated = true;
	fz.h.cfg.n_addrs6 = 1;
	pkb_queue_init(&fz.held);
	harness_add_neigh(&fz.h, H_PEER, H_PEER_MAC);
	FZ_CHECK(echo_service_start(st, SOCK_DGRAM, 7, &fz.svc[0]) == 0);
	FZ_CHECK(echo_service_start(st, SOCK_STREAM, 7, &fz.svc[1]) == 0);
	FZ_CHECK(discard_service_start(st, SOCK_DGRAM, 9, &fz.svc[2]) == 0);
	FZ_CHECK(discard_service_start(st, SOCK_STREAM, 9, &fz.svc[3]) == 0);
	FZ_CHECK(http_server_start(st, 80, fz_dir, &fz.http) == 0);
	FZ_CHECK(skiff_socket(st, SOCK_STREAM, &fz.ls) == 0);
	FZ_CHECK(skiff_bind(fz.ls, &sin) == 0);
	/* backlog 1: one more established connection fills the accept queue,
	 * so the next SYN is answered with a cookie */
	FZ_CHECK(skiff_listen(fz.ls, 1) == 0);

	fz_establish(&fz.conn[0], 8080, 40000);
	FZ_CHECK(skiff_accept(fz.ls, &fz.so[0], NULL) == 0);
	fz_establish(&fz.conn[1], 80, 40001);
	fz_establish(&fz.conn[2], 7, 40002);
	/* conn 3: a free 4-tuple to 8080 until the application connects */
	fz.conn[3].lport = 8080;
	fz.conn[3].pport = 40003;
	fz.conn[3].peer_ts = 9000;
}

static void fz_teardown(void)
{
	struct stack *st = &fz.h.st;
	uint32_t big_free, big_n;
	int i;

	pkb_queue_purge(&fz.held);
	fz.h.fd.tx_limit = 0;
	for (i = 0; i < FZ_NSOCKS; i++)
		if (fz.so[i])
			skiff_close(fz.so[i]);
	if (fz.ls)
		skiff_close(fz.ls);
	for (i = 0; i < 4; i++)
		service_stop(fz.svc[i]);
	http_server_stop(fz.http);
	/* orphans send their FINs, timers run once more */
	fz_advance(1 * SEC);
	fz_advance(1 * SEC);

	inet_fini(st);
	fz.h.inet = 0;
	big_free = st->big_pool->n_free;
	big_n = st->big_pool->n;
	stack_fini(st);
	fakedev_purge(&fz.h.fd);
	FZ_CHECK(fakedev_frames_in_use(&fz.h.fd) == 0);
	FZ_CHECK(fz.h.fd.pool.double_free == 0);
	FZ_CHECK(big_free == big_n);
	fakedev_fini(&fz.h.fd);
}

static void fz_rm_dir(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/index.html", fz_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/big.bin", fz_dir);
	unlink(p);
	rmdir(fz_dir);
}

static void fz_write(const char *name, const void *data, size_t len)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", fz_dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	FZ_CHECK(fd >= 0);
	FZ_CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	tcp_secret_set(fz_key);
	fz_verbose = getenv("FUZZ_STACK_VERBOSE") != NULL;
	for (i = 0; i < sizeof(fz_junk); i++)
		fz_junk[i] = (uint8_t)(i * 2654435761u >> 13);
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/skiff-fuzz-XXXXXX");
	FZ_CHECK(mkdtemp(fz_dir));
	atexit(fz_rm_dir);
	fz_write("index.html", "<p>skiff</p>\n", 13);
	fz_write("big.bin", fz_junk, 40000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, n;
	int records = 0;
	uint8_t op;

	fz_setup();
	while (off + 3 <= size && records++ < FZ_MAX_RECORDS) {
		op = data[off];
		n = (size_t)(data[off + 1] << 8 | data[off + 2]) % (FZ_MAX_PAYLOAD + 1);
		off += 3;
		if (n > size - off)
			n = size - off;
		if (fz_steps[op >> 4])
			fz_advance(fz_steps[op >> 4]);
		fz_record(op, data + off, n);
		off += n;
		if (!(op & 0x08))
			fz_poll();
	}
	fz_poll();
	fz_teardown();
	return 0;
}
