// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The handoff between workers (core/handoff.h): two whole stacks in one
 * process as workers 0 and 1 of one interface (same address and MAC, each
 * over its own fake device), sharing one handoff.  A reply that lands on
 * the worker that does not own its ephemeral port is handed to the owner
 * and delivered there, not answered with a RST / port unreachable; a full
 * ring drops and counts; ephemeral ports are partitioned by p % n; and the
 * ring itself is checked under a real producer and consumer thread.
 * ICMP errors follow the flow they quote: a port unreachable / frag-needed
 * that lands on the wrong worker reaches the connection or socket on the
 * other one (to the port's owner for an ephemeral port, to every other
 * worker for a fixed one), and one that no worker claims is dropped and
 * counted where the handoff brought it, never handed on again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include <skiff/proto/icmp.h>
#include <skiff/proto/tcp.h>

#include "udptest.h"

#include "core/clock.h"
#include "core/handoff.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/udp.h"

#define F_SYN	0x02
#define F_RST	0x04
#define F_ACK	0x10

struct pair {
	struct harness w[2];	/* worker 0 (A) and worker 1 (B) */
	struct handoff *h;
};

static int pair_setup_slots(void **state, uint32_t slots)
{
	struct pair *p = calloc(1, sizeof(*p));
	int i;

	if (!p || handoff_create(&p->h, 2, slots, 0))
		goto err;
	for (i = 0; i < 2; i++) {
		if (harness_init(&p->w[i], 1))
			goto err;
		harness_add_neigh(&p->w[i], H_PEER, H_PEER_MAC);
		if (stack_set_worker(&p->w[i].st, (uint32_t)i, 2, p->h))
			goto err;
	}
	*state = p;
	return 0;
err:
	free(p);
	return -1;
}

static int pair_setup(void **state)
{
	return pair_setup_slots(state, 0);
}

static int pair_setup_small(void **state)
{
	return pair_setup_slots(state, 4);
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	harness_fini(&p->w[0]);
	harness_fini(&p->w[1]);
	handoff_destroy(p->h);
	free(p);
	return 0;
}

/* A UDP socket of worker w bound to an ephemeral port; returns the port (host). */
static struct socket *udp_ephemeral(struct harness *w, uint16_t *port)
{
	struct sockaddr_in sin = t_sin(0, 0);
	struct socket *so;

	assert_int_equal(skiff_socket(&w->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_bind(so, &sin), 0);
	assert_int_equal(skiff_getsockname(so, &sin), 0);
	*port = ntohs(sin.sin_port);
	assert_true(*port >= UDP_EPHEMERAL_LO && *port <= UDP_EPHEMERAL_HI);
	return so;
}

static void udp_reply_on_other_queue_is_handed_to_the_owner_and_delivered(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	struct sockaddr_in from;
	struct socket *so;
	char buf[64];
	uint16_t port;

	so = udp_ephemeral(a, &port);
	assert_int_equal(port % 2, 0);

	/* the reply arrives on worker 1's queue: no socket there */
	t_rx_udp(b, H_ADDR, 53, port, "answer", 6, T_CSUM_OK);
	assert_null(fakedev_pop_tx(&b->fd));	/* no ICMP port unreachable */
	assert_int_equal(b->fd.stats.handoff_out, 1);
	assert_int_equal(b->fd.stats.udp_no_port, 0);
	assert_int_equal(b->fd.stats.icmp_unreach_sent, 0);
	assert_int_equal(handoff_pending(p->h, 1, 0), 1);

	/* worker 0 picks it up at the start of its next poll */
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), &from), -EAGAIN);
	assert_int_equal(stack_poll(&a->st), 1);
	assert_int_equal(a->fd.stats.handoff_in, 1);
	assert_int_equal(handoff_pending(p->h, 1, 0), 0);
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), &from), 6);
	assert_memory_equal(buf, "answer", 6);
	assert_int_equal(ntohs(from.sin_port), 53);
	assert_int_equal(from.sin_addr.s_addr, H_PEER);
	skiff_close(so);
}

/*
 * An 8000-byte reply in six fragments lands on worker 1, which reassembles
 * it; the datagram's port is worker 0's.  Handed over whole (a run of
 * slots, from the first fragment's MAC header) and delivered there; the
 * reassembled datagram was once dropped here (it had no MAC header and did
 * not fit one slot: drop.handoff_drop), a fragmented reply lost whenever
 * the peer's queue choice put it on the other worker.
 */
static void reassembled_reply_on_other_queue_is_handed_over_whole(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	static uint8_t payload[8000], seg[8008], buf[9000];
	struct sockaddr_in from;
	uint8_t frame[2048];
	struct socket *so;
	uint32_t off, len, i;
	uint16_t port;
	size_t slen, n;

	so = udp_ephemeral(a, &port);
	assert_int_equal(port % 2, 0);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
	slen = t_udp_seg(seg, H_PEER, H_ADDR, 53, port, payload, sizeof(payload), T_CSUM_OK);
	for (off = 0; off < slen; off += len) {
		len = slen - off > 1480 ? 1480 : (uint32_t)(slen - off);
		n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_UDP, 4242,
				     (uint16_t)(off / 8 | (off + len < slen ? 0x2000 : 0)),
				     seg + off, len);
		assert_true(n > 0);
		harness_rx(b, frame, n);
	}
	assert_int_equal(b->fd.stats.ip_reasm_ok, 1);
	assert_int_equal(b->fd.stats.handoff_out, 1);
	assert_int_equal(b->fd.stats.drop.handoff_drop, 0);
	assert_int_equal(b->fd.stats.udp_no_port, 0);
	assert_null(fakedev_pop_tx(&b->fd));	/* no ICMP port unreachable */
	assert_true(handoff_pending(p->h, 1, 0) > 1);	/* a run of slots */

	assert_int_equal(stack_poll(&a->st), 1);
	assert_int_equal(a->fd.stats.handoff_in, 1);
	assert_int_equal(handoff_pending(p->h, 1, 0), 0);
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), &from), (int)sizeof(payload));
	assert_memory_equal(buf, payload, sizeof(payload));
	assert_int_equal(ntohs(from.sin_port), 53);
	/* and the ring goes on with one-slot frames after it */
	t_rx_udp(b, H_ADDR, 53, port, "next", 4, T_CSUM_OK);
	assert_int_equal(stack_poll(&a->st), 1);
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), &from), 4);
	skiff_close(so);
}

static void udp_to_own_ephemeral_port_without_socket_gets_port_unreachable(void **state)
{
	struct pair *p = *state;
	struct harness *b = &p->w[1];
	struct t_tx tx;
	uint16_t port = UDP_EPHEMERAL_LO + 1;	/* odd: worker 1's own */

	t_rx_udp(b, H_ADDR, 53, port, "x", 1, T_CSUM_OK);
	assert_int_equal(b->fd.stats.handoff_out, 0);
	assert_int_equal(b->fd.stats.udp_no_port, 1);
	assert_int_equal(t_pop_ip(b, &tx), 0);
	assert_int_equal(tx.iph->protocol, IPPROTO_ICMP);
	assert_int_equal(tx.l4[0], 3);	/* destination unreachable */
	t_tx_free(&tx);
	/* a fixed (non-ephemeral) port is never handed over either */
	t_rx_udp(b, H_ADDR, 53, 7000, "x", 1, T_CSUM_OK);
	assert_int_equal(b->fd.stats.handoff_out, 0);
	fakedev_purge(&b->fd);
}

static void ephemeral_ports_are_partitioned_by_port_modulo_workers(void **state)
{
	struct pair *p = *state;
	struct socket *so[2][40];
	uint16_t port;
	int w, i;

	for (w = 0; w < 2; w++) {
		for (i = 0; i < 40; i++) {
			so[w][i] = udp_ephemeral(&p->w[w], &port);
			assert_int_equal(port % 2, w);
			assert_int_equal(stack_port_owner(&p->w[w].st, port), (uint32_t)w);
		}
	}
	for (w = 0; w < 2; w++)
		for (i = 0; i < 40; i++)
			skiff_close(so[w][i]);
}

static void a_lone_stack_allocates_every_port_and_hands_nothing_over(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct socket *so[3];
	uint16_t port, prev = 0;
	int i, odd = 0, even = 0;

	(void)state;
	assert_non_null(h);
	assert_int_equal(harness_init(h, 1), 0);
	assert_int_equal(h->st.n_workers, 0);	/* the default: alone */
	for (i = 0; i < 3; i++) {
		so[i] = udp_ephemeral(h, &port);
		if (i)
			assert_int_equal(port, prev + 1);	/* consecutive, none skipped */
		prev = port;
		if (port % 2)
			odd++;
		else
			even++;
	}
	assert_true(odd && even);
	t_rx_udp(h, H_ADDR, 53, (uint16_t)(prev + 1), "x", 1, T_CSUM_OK);
	assert_int_equal(h->fd.stats.handoff_out, 0);
	assert_int_equal(h->fd.stats.udp_no_port, 1);
	for (i = 0; i < 3; i++)
		skiff_close(so[i]);
	harness_fini(h);
	free(h);
}

/* ---- TCP ---- */

/*
 * A TCP segment from the peer (10.0.0.2:sport) to us:dport into w, with
 * options opt (olen a multiple of 4, 0 for none).
 */
static void tcp_rx_opt(struct harness *w, uint16_t sport, uint16_t dport, uint32_t seq,
		       uint32_t ack, uint8_t flags, const uint8_t *opt, size_t olen)
{
	uint8_t seg[60], frame[160];
	uint32_t sum = 0, peer = H_PEER, us = H_ADDR;
	size_t hlen = 20 + olen, n;
	uint16_t c;

	memset(seg, 0, sizeof(seg));
	seg[0] = (uint8_t)(sport >> 8);
	seg[1] = (uint8_t)sport;
	seg[2] = (uint8_t)(dport >> 8);
	seg[3] = (uint8_t)dport;
	put_be32(seg + 4, seq);
	put_be32(seg + 8, ack);
	seg[12] = (uint8_t)((hlen / 4) << 4);
	seg[13] = flags;
	seg[14] = 0xff;
	seg[15] = 0xff;
	if (olen)
		memcpy(seg + 20, opt, olen);
	sum = t_sum(&peer, 4, sum);
	sum = t_sum(&us, 4, sum);
	sum += IPPROTO_TCP + (uint32_t)hlen;
	c = (uint16_t)~t_fold(t_sum(seg, hlen, sum));
	seg[16] = (uint8_t)(c >> 8);
	seg[17] = (uint8_t)c;
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_TCP, 1, 0, seg, hlen);
	harness_rx(w, frame, n);
}

/* A bare TCP segment from the peer (10.0.0.2:sport) to us:dport into w. */
static void tcp_rx(struct harness *w, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		   uint8_t flags)
{
	tcp_rx_opt(w, sport, dport, seq, ack, flags, NULL, 0);
}

/* Pop the next TCP segment w sent: flags, ports, seq. */
static void tcp_pop(struct harness *w, uint8_t *flags, uint16_t *sport, uint32_t *seq)
{
	const struct tcp_hdr *th = NULL;
	struct t_tx tx;
	size_t hl;

	assert_int_equal(t_pop_ip(w, &tx), 0);
	assert_int_equal(tx.iph->protocol, IPPROTO_TCP);
	assert_int_equal(tcp_hdr_parse(tx.l4, tx.l4_len, &th, &hl), PROTO_OK);
	*sport = get_be16(&th->source);
	*seq = get_be32(&th->seq);
	*flags = th->flags;
	t_tx_free(&tx);
}

static void tcp_syn_ack_on_other_queue_is_handed_over_not_reset(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	struct sockaddr_in dst = t_sin(H_PEER, 80);
	struct socket *so;
	uint16_t sport, port;
	uint32_t iss, seq;
	uint8_t flags;
	char buf[8];

	assert_int_equal(skiff_socket(&a->st, SOCK_STREAM, &so), 0);
	assert_int_equal(skiff_connect(so, &dst), -EINPROGRESS);
	stack_poll(&a->st);
	tcp_pop(a, &flags, &port, &iss);
	assert_int_equal(flags, F_SYN);
	assert_true(port >= TCP_EPHEMERAL_LO && port <= TCP_EPHEMERAL_HI);
	assert_int_equal(port % 2, 0);

	/* the SYN-ACK lands on worker 1: handed to worker 0, no RST */
	tcp_rx(b, 80, port, 5000, iss + 1, F_SYN | F_ACK);
	assert_null(fakedev_pop_tx(&b->fd));
	assert_int_equal(b->fd.stats.handoff_out, 1);
	assert_int_equal(b->fd.stats.tcp_rst_noconn, 0);
	assert_int_equal(b->fd.stats.tcp_out_rsts, 0);

	/* worker 0 completes the handshake with it */
	stack_poll(&a->st);
	assert_int_equal(a->fd.stats.handoff_in, 1);
	tcp_pop(a, &flags, &sport, &seq);
	assert_int_equal(flags, F_ACK);
	assert_int_equal(sport, port);
	assert_int_equal(seq, iss + 1);
	assert_int_equal(skiff_send(so, "hi", 2), 2);

	/* and a RST for it that lands on worker 1 reaches it too */
	tcp_rx(b, 80, port, 5001, 0, F_RST);
	assert_int_equal(b->fd.stats.handoff_out, 2);
	stack_poll(&a->st);
	assert_int_equal(a->fd.stats.handoff_in, 2);
	assert_int_equal(a->fd.stats.tcp_estab_resets, 1);
	assert_true(skiff_recv(so, buf, sizeof(buf)) < 0);
	skiff_close(so);
	fakedev_purge(&a->fd);
}

static void tcp_segment_for_own_port_without_connection_still_gets_rst(void **state)
{
	struct pair *p = *state;
	struct harness *b = &p->w[1];
	uint16_t sport;
	uint32_t seq;
	uint8_t flags;

	/* worker 1 owns odd ports: nobody else can have the connection */
	tcp_rx(b, 80, TCP_EPHEMERAL_LO + 1, 5000, 77, F_ACK);
	assert_int_equal(b->fd.stats.handoff_out, 0);
	assert_int_equal(b->fd.stats.tcp_rst_noconn, 1);
	tcp_pop(b, &flags, &sport, &seq);
	assert_true(flags & F_RST);
	assert_int_equal(seq, 77);
	/* and nothing was handed to worker 0 */
	assert_int_equal(handoff_pending(p->h, 1, 0), 0);
}

/* ---- ICMP errors about another worker's flow ---- */

/*
 * The peer's path answers what a worker sent (tx: a frame it transmitted)
 * with ICMP type/code, quoting its IP header and first 8 bytes (RFC 792);
 * rest: the 4 bytes after the checksum (the next-hop MTU in the low half
 * for fragmentation needed, RFC 1191).  Received by worker rx.
 */
static void icmp_about(struct harness *rx, const struct t_tx *tx, uint8_t type, uint8_t code,
		       uint32_t rest)
{
	uint8_t msg[sizeof(struct icmp_hdr) + IP_MAX_HLEN + 8], frame[160];
	struct icmp_hdr *icmph = (struct icmp_hdr *)msg;
	size_t ihl = tx->iph->ihl * 4u, len = sizeof(*icmph) + ihl + 8, n;

	memset(icmph, 0, sizeof(*icmph));
	icmph->type = type;
	icmph->code = code;
	put_be32(&icmph->un.gateway, rest);
	memcpy(icmph + 1, tx->iph, ihl + 8);
	put_be16(&icmph->checksum, (uint16_t)~t_fold(t_sum(msg, len, 0)));
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_ICMP, 9, 0, msg, len);
	harness_rx(rx, frame, n);
}

static int so_error(struct socket *so)
{
	int v = -1;

	assert_int_equal(skiff_getsockopt(so, SKIFF_SO_ERROR, &v), 0);
	return v;
}

static void tcp_port_unreachable_on_other_queue_refuses_the_connect(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	struct sockaddr_in dst = t_sin(H_PEER, 80);
	struct socket *so;
	struct t_tx syn;
	char buf[8];

	assert_int_equal(skiff_socket(&a->st, SOCK_STREAM, &so), 0);
	assert_int_equal(skiff_connect(so, &dst), -EINPROGRESS);
	stack_poll(&a->st);
	assert_int_equal(t_pop_ip(a, &syn), 0);
	assert_int_equal(syn.l4[13], F_SYN);

	/* the port unreachable lands on worker 1, which has no such connection:
	 * the quoted source port is worker 0's ephemeral one, so it goes there
	 * (and only there) */
	icmp_about(b, &syn, 3, 3, 0);
	t_tx_free(&syn);
	assert_int_equal(b->fd.stats.icmp_rx, 1);
	assert_int_equal(b->fd.stats.icmp_err_handoff, 1);
	assert_int_equal(b->fd.stats.handoff_out, 1);
	assert_int_equal(b->fd.stats.drop.icmp_err_no_flow, 0);
	assert_int_equal(b->fd.stats.tcp_conn_refused, 0);
	assert_int_equal(handoff_pending(p->h, 1, 0), 1);

	stack_poll(&a->st);
	assert_int_equal(a->fd.stats.handoff_in, 1);
	assert_int_equal(a->fd.stats.icmp_rx, 1);
	assert_int_equal(a->fd.stats.tcp_conn_refused, 1);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 0);	/* not handed back */
	assert_int_equal(handoff_pending(p->h, 0, 1), 0);
	assert_int_equal(so_error(so), ECONNREFUSED);
	assert_true(skiff_recv(so, buf, sizeof(buf)) < 0);
	skiff_close(so);
	fakedev_purge(&a->fd);
}

static struct socket *tcp_listener(struct harness *w, uint16_t port)
{
	struct sockaddr_in sin = t_sin(0, port);
	struct socket *so;

	assert_int_equal(skiff_socket(&w->st, SOCK_STREAM, &so), 0);
	assert_int_equal(skiff_bind(so, &sin), 0);
	assert_int_equal(skiff_listen(so, 8), 0);
	return so;
}

/*
 * A server connection lives on the worker its SYN reached (here 1); a
 * frag-needed about its data lands on worker 0, which listens on the same
 * (fixed) port but has no such connection: a copy goes to every other
 * worker, and worker 1 lowers the MSS and resends (RFC 1191).
 */
static void frag_needed_on_other_queue_lowers_the_server_connections_mss(void **state)
{
	static const uint8_t mss1460[4] = { 2, 4, 0x05, 0xb4 };
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	struct socket *la, *lb, *child;
	static char data[3000];
	struct t_tx seg;
	uint16_t sport;
	uint32_t iss;
	uint8_t flags;
	int mss;

	la = tcp_listener(a, 8080);
	lb = tcp_listener(b, 8080);
	tcp_rx_opt(b, 40000, 8080, 1000, 0, F_SYN, mss1460, sizeof(mss1460));
	tcp_pop(b, &flags, &sport, &iss);
	assert_int_equal(flags, F_SYN | F_ACK);
	tcp_rx(b, 40000, 8080, 1001, iss + 1, F_ACK);
	assert_int_equal(skiff_accept(lb, &child, NULL), 0);
	assert_int_equal(skiff_getsockopt(child, SKIFF_TCP_MAXSEG, &mss), 0);
	assert_int_equal(mss, 1460);

	memset(data, 'd', sizeof(data));
	assert_int_equal(skiff_send(child, data, 1000), 1000);
	stack_poll(&b->st);
	assert_int_equal(t_pop_ip(b, &seg), 0);
	assert_int_equal(seg.l4_len, 20 + 1000);

	/* the router before the peer has an MTU of 576 */
	icmp_about(a, &seg, 3, 4, 576);
	t_tx_free(&seg);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 1);
	assert_int_equal(a->fd.stats.handoff_out, 1);
	assert_int_equal(a->fd.stats.tcp_pmtu_updates, 0);
	assert_int_equal(a->fd.stats.drop.icmp_err_no_flow, 0);

	stack_poll(&b->st);
	assert_int_equal(b->fd.stats.handoff_in, 1);
	assert_int_equal(b->fd.stats.tcp_pmtu_updates, 1);
	assert_int_equal(skiff_getsockopt(child, SKIFF_TCP_MAXSEG, &mss), 0);
	assert_int_equal(mss, 536);
	/* what was dropped goes out again in segments that fit */
	assert_int_equal(t_pop_ip(b, &seg), 0);
	assert_int_equal(seg.l4_len, 20 + 536);
	assert_int_equal(get_be32(seg.l4 + 4), iss + 1);
	t_tx_free(&seg);

	skiff_close(child);
	skiff_close(la);
	skiff_close(lb);
	fakedev_purge(&a->fd);
	fakedev_purge(&b->fd);
}

static void udp_port_unreachable_on_other_queue_reaches_the_connected_socket(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	struct sockaddr_in dst = t_sin(H_PEER, 5353);
	struct socket *so;
	struct t_tx dg;
	char buf[8];

	assert_int_equal(skiff_socket(&b->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_connect(so, &dst), 0);
	assert_int_equal(skiff_send(so, "ping", 4), 4);
	stack_poll(&b->st);
	assert_int_equal(t_pop_ip(b, &dg), 0);
	assert_int_equal(dg.iph->protocol, IPPROTO_UDP);
	assert_int_equal((dg.l4[0] << 8 | dg.l4[1]) % 2, 1);	/* worker 1's port */

	icmp_about(a, &dg, 3, 3, 0);
	t_tx_free(&dg);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 1);
	assert_int_equal(handoff_pending(p->h, 0, 1), 1);
	stack_poll(&b->st);
	assert_int_equal(b->fd.stats.handoff_in, 1);
	assert_int_equal(skiff_recv(so, buf, sizeof(buf)), -ECONNREFUSED);
	skiff_close(so);
}

/*
 * An error no worker claims: quoting a fixed port, worker 0 asks worker 1
 * (the only other); worker 1 has nothing either and drops it, counted, and
 * never hands it on (back to 0).  Quoting worker 1's ephemeral port: handed
 * to it alone, dropped there the same way.
 */
static void handed_over_icmp_error_that_still_misses_is_dropped_not_handed_on(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	uint8_t q[28], qbuf[132] __attribute__((aligned(4)));
	uint8_t *qf = qbuf + 2;	/* the IP header 4-byte aligned */
	struct t_tx fake;
	struct socket *lb;
	size_t n;

	/* a segment "we sent": us:8080 -> peer:40000, never sent by anybody */
	memset(q, 0, sizeof(q));
	n = harness_ip_frame(qf, sizeof(qbuf) - 2, H_ADDR, H_PEER, IPPROTO_TCP, 5, 0, q, 8);
	qf[14 + 20] = 8080 >> 8;
	qf[14 + 21] = 8080 & 0xff;
	qf[14 + 22] = 40000 >> 8;
	qf[14 + 23] = 40000 & 0xff;
	memset(&fake, 0, sizeof(fake));
	fake.iph = (const struct ip_hdr *)(qf + 14);
	assert_true(n >= 14 + 28);

	lb = tcp_listener(b, 8080);	/* a listener is not the connection */
	icmp_about(a, &fake, 3, 4, 1000);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 1);
	assert_int_equal(a->fd.stats.handoff_out, 1);
	stack_poll(&b->st);
	assert_int_equal(b->fd.stats.handoff_in, 1);
	assert_int_equal(b->fd.stats.icmp_rx, 1);
	assert_int_equal(b->fd.stats.drop.icmp_err_no_flow, 1);
	assert_int_equal(b->fd.stats.icmp_err_handoff, 0);
	assert_int_equal(b->fd.stats.handoff_out, 0);
	assert_int_equal(handoff_pending(p->h, 1, 0), 0);
	assert_int_equal(b->fd.stats.tcp_pmtu_updates, 0);
	stack_poll(&a->st);
	assert_int_equal(a->fd.stats.handoff_in, 0);

	/* worker 1's ephemeral port: to worker 1 only, dropped there */
	qf[14 + 20] = (uint8_t)((TCP_EPHEMERAL_LO + 1) >> 8);
	qf[14 + 21] = (uint8_t)(TCP_EPHEMERAL_LO + 1);
	icmp_about(a, &fake, 3, 3, 0);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 2);
	stack_poll(&b->st);
	assert_int_equal(b->fd.stats.handoff_in, 2);
	assert_int_equal(b->fd.stats.drop.icmp_err_no_flow, 2);
	assert_int_equal(handoff_pending(p->h, 1, 0), 0);

	/* worker 0's own ephemeral port with no connection: nobody else can
	 * have it, dropped at once */
	qf[14 + 20] = (uint8_t)(TCP_EPHEMERAL_LO >> 8);
	qf[14 + 21] = (uint8_t)TCP_EPHEMERAL_LO;
	icmp_about(a, &fake, 3, 3, 0);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 2);
	assert_int_equal(a->fd.stats.drop.icmp_err_no_flow, 1);
	assert_int_equal(handoff_pending(p->h, 0, 1), 0);
	skiff_close(lb);
}

static void icmp_error_on_a_full_ring_is_dropped_and_counted(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0];
	uint8_t q[8], qbuf[132] __attribute__((aligned(4)));
	uint8_t *qf = qbuf + 2;	/* the IP header 4-byte aligned */
	struct t_tx fake;
	int i;

	memset(q, 0, sizeof(q));
	harness_ip_frame(qf, sizeof(qbuf) - 2, H_ADDR, H_PEER, IPPROTO_UDP, 5, 0, q, 8);
	qf[14 + 20] = 0x1f;	/* a fixed port (8000): may be any worker's */
	qf[14 + 21] = 0x40;
	memset(&fake, 0, sizeof(fake));
	fake.iph = (const struct ip_hdr *)(qf + 14);
	for (i = 0; i < 6; i++)
		icmp_about(a, &fake, 3, 3, 0);
	assert_int_equal(a->fd.stats.icmp_err_handoff, 4);
	assert_int_equal(a->fd.stats.drop.handoff_drop, 2);
	assert_int_equal(a->fd.stats.drop.icmp_err_no_flow, 0);
	stack_poll(&p->w[1].st);
	assert_int_equal(p->w[1].fd.stats.drop.icmp_err_no_flow, 4);
}

/* ---- a full ring ---- */

static void full_ring_drops_and_counts_then_delivers_the_rest(void **state)
{
	struct pair *p = *state;
	struct harness *a = &p->w[0], *b = &p->w[1];
	struct socket *so;
	char buf[16];
	uint16_t port;
	int i, got = 0;

	assert_int_equal(handoff_ring_slots(p->h), 4);
	so = udp_ephemeral(a, &port);
	for (i = 0; i < 6; i++)
		t_rx_udp(b, H_ADDR, 53, port, &i, sizeof(i), T_CSUM_OK);
	assert_int_equal(b->fd.stats.handoff_out, 4);
	assert_int_equal(b->fd.stats.drop.handoff_drop, 2);
	assert_int_equal(handoff_pending(p->h, 1, 0), 4);
	assert_int_equal(stack_poll(&a->st), 4);
	assert_int_equal(a->fd.stats.handoff_in, 4);
	for (i = 0; i < 4; i++) {
		int v;

		assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), NULL), (int)sizeof(v));
		memcpy(&v, buf, sizeof(v));
		assert_int_equal(v, i);	/* in order, the first four */
		got++;
	}
	assert_int_equal(got, 4);
	/* room again */
	t_rx_udp(b, H_ADDR, 53, port, "z", 1, T_CSUM_OK);
	assert_int_equal(b->fd.stats.handoff_out, 5);
	stack_poll(&a->st);
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), NULL), 1);
	skiff_close(so);
}

static void ring_rejects_bad_workers_and_oversized_frames(void **state)
{
	struct handoff *h;
	static uint8_t big[HANDOFF_FRAME_BIG + 1];
	uint32_t len;

	(void)state;
	assert_int_equal(handoff_create(&h, 1, 0, 0), -EINVAL);
	assert_int_equal(handoff_create(&h, 3, 6, 0), -EINVAL);	/* not a power of two */
	assert_int_equal(handoff_create(&h, 3, 0, 0), 0);
	assert_int_equal(handoff_ring_slots(h), HANDOFF_SLOTS_MAX);
	assert_int_equal(handoff_push(h, 0, 0, big, 10), -EINVAL);
	assert_int_equal(handoff_push(h, 0, 3, big, 10), -EINVAL);
	assert_int_equal(handoff_push(h, 2, 1, big, handoff_frame_max(h) + 1), -EMSGSIZE);
	assert_int_equal(handoff_push(h, 2, 1, big, handoff_frame_max(h)), 0);
	assert_non_null(handoff_peek(h, 2, 1, &len));
	assert_int_equal(len, handoff_frame_max(h));
	assert_null(handoff_peek(h, 1, 2, &len));	/* the other direction is its own ring */
	handoff_pop(h, 2, 1);
	assert_null(handoff_peek(h, 2, 1, &len));
	handoff_destroy(h);
	/* a run of slots never wraps: the ring's end is skipped, its order kept */
	assert_int_equal(handoff_create(&h, 2, 4, 0), 0);
	assert_int_equal(handoff_frame_max(h), 4 * 2048 - 8);
	memset(big, 'a', sizeof(big));
	assert_int_equal(handoff_push(h, 0, 1, big, 10), 0);		/* slot 0 */
	assert_int_equal(handoff_push(h, 0, 1, big, 3000), 0);		/* slots 1-2 */
	handoff_pop(h, 0, 1);
	assert_int_equal(handoff_pending(h, 0, 1), 2);
	assert_int_equal(handoff_push(h, 0, 1, big, 2100), -ENOBUFS);	/* slot 3 + wrap */
	handoff_pop(h, 0, 1);
	assert_int_equal(handoff_push(h, 0, 1, big, 2100), 0);		/* pad 3, slots 0-1 */
	assert_int_equal(handoff_push(h, 0, 1, big, 3000), -ENOBUFS);
	assert_int_equal(handoff_push(h, 0, 1, big, 2000), 0);		/* slot 2 */
	assert_non_null(handoff_peek(h, 0, 1, &len));
	assert_int_equal(len, 2100);
	handoff_pop(h, 0, 1);
	assert_non_null(handoff_peek(h, 0, 1, &len));
	assert_int_equal(len, 2000);
	handoff_pop(h, 0, 1);
	assert_null(handoff_peek(h, 0, 1, &len));
	assert_int_equal(handoff_pending(h, 0, 1), 0);
	handoff_destroy(h);
	/* many workers: fewer slots per ring, never fewer than the minimum */
	assert_int_equal(handoff_create(&h, 64, 0, 0), 0);
	assert_int_equal(handoff_ring_slots(h), HANDOFF_SLOTS_MIN);
	handoff_destroy(h);
}

/* ---- the ring under two threads ---- */

#define STRESS_FRAMES	2000000u

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct stress {
	struct handoff *h;
	atomic_bool fail;
	uint64_t full;		/* producer retries on a full ring */
};

/* Frame of sequence number s: its length and every byte derive from s. */
static uint32_t stress_len(uint32_t s)
{
	return 8 + s % 1500;
}

static void *stress_producer(void *arg)
{
	struct stress *x = arg;
	uint8_t frame[1600];
	uint32_t s, i, len;

	for (s = 0; s < STRESS_FRAMES && !atomic_load(&x->fail); s++) {
		len = stress_len(s);
		memcpy(frame, &s, 4);
		for (i = 4; i < len; i++)
			frame[i] = (uint8_t)(s + i);
		while (handoff_push(x->h, 1, 0, frame, len) == -ENOBUFS) {
			x->full++;
			if (atomic_load(&x->fail))
				return NULL;
			sched_yield();	/* the machine may have fewer free cores than threads */
		}
	}
	return NULL;
}

static void ring_keeps_order_and_bytes_under_concurrent_producer_and_consumer(void **state)
{
	struct stress x = { 0 };
	pthread_t th;
	uint32_t expect = 0, len, s, i;
	uint64_t t0 = mono_ns(), bad = 0;

	(void)state;
	assert_int_equal(handoff_create(&x.h, 2, 64, 0), 0);
	atomic_init(&x.fail, false);
	assert_int_equal(pthread_create(&th, NULL, stress_producer, &x), 0);
	while (expect < STRESS_FRAMES) {
		const uint8_t *f = handoff_peek(x.h, 1, 0, &len);

		if (!f) {
			/* no frame for 20 s: the producer is stuck (not slow: a
			 * loaded machine only stretches this).  Tell it to stop,
			 * or it would wait on the full ring for ever. */
			if (mono_ns() - t0 > 20 * NSEC_PER_SEC) {
				atomic_store(&x.fail, true);
				break;	/* fail below */
			}
			sched_yield();
			continue;
		}
		t0 = mono_ns();
		memcpy(&s, f, 4);
		if (s != expect || len != stress_len(s))
			bad++;
		for (i = 4; i < len && !bad; i++)
			if (f[i] != (uint8_t)(s + i))
				bad++;
		handoff_pop(x.h, 1, 0);
		if (bad) {
			atomic_store(&x.fail, true);
			break;
		}
		expect++;
	}
	pthread_join(th, NULL);
	assert_int_equal(bad, 0);
	assert_int_equal(expect, STRESS_FRAMES);
	assert_int_equal(handoff_pending(x.h, 1, 0), 0);
	print_message("%u frames through a 64-slot ring, producer found it full %llu times\n",
		      STRESS_FRAMES, (unsigned long long)x.full);
	handoff_destroy(x.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			udp_reply_on_other_queue_is_handed_to_the_owner_and_delivered, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(reassembled_reply_on_other_queue_is_handed_over_whole,
						pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(
			udp_to_own_ephemeral_port_without_socket_gets_port_unreachable, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(
			ephemeral_ports_are_partitioned_by_port_modulo_workers, pair_setup,
			pair_teardown),
		cmocka_unit_test(a_lone_stack_allocates_every_port_and_hands_nothing_over),
		cmocka_unit_test_setup_teardown(tcp_syn_ack_on_other_queue_is_handed_over_not_reset,
						pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(
			tcp_segment_for_own_port_without_connection_still_gets_rst, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(full_ring_drops_and_counts_then_delivers_the_rest,
						pair_setup_small, pair_teardown),
		cmocka_unit_test_setup_teardown(
			tcp_port_unreachable_on_other_queue_refuses_the_connect, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(
			frag_needed_on_other_queue_lowers_the_server_connections_mss, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(
			udp_port_unreachable_on_other_queue_reaches_the_connected_socket, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(
			handed_over_icmp_error_that_still_misses_is_dropped_not_handed_on, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(icmp_error_on_a_full_ring_is_dropped_and_counted,
						pair_setup_small, pair_teardown),
		cmocka_unit_test(ring_rejects_bad_workers_and_oversized_frames),
		cmocka_unit_test(ring_keeps_order_and_bytes_under_concurrent_producer_and_consumer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
