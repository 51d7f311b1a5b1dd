// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The two-stack test bed: two harness stacks (A and B) on the one simulated
 * clock, a link between their fake devices with a seeded impairment, and
 * the event loop that drives them.  See twostack.h.
 *
 * The link keeps each frame as a copy in its own memory (struct ts_frame),
 * so a frame "on the wire" holds no pool frame of either device; delivery
 * injects a copy into the receiver's device.  Per direction, frames leave in
 * the order they were sent, each after the one-way delay; a reordered frame
 * is held back until k later frames of its direction were delivered (or its
 * deadline passes).  A bottleneck rate serializes the frames of a
 * direction behind a drop-tail queue, before the delay.  The random numbers come from one xorshift64 generator
 * drawn in a fixed order, so a seed replays the same run exactly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/ipv4.h>
#include <skiff/proto/tcp.h>

#include "core/clock.h"
#include "core/csum.h"
#include "sock/inet.h"
#include "twostack.h"

#define TS_REORDER_K_DEFAULT 3
#define TS_REORDER_MAX_DEFAULT (5 * NSEC_PER_MSEC)
/* Loop turns at one instant before the clock is pushed on regardless. */
#define TS_SPIN_LIMIT 100000

struct ts_frame {
	struct ts_frame *next;
	uint64_t due;	   /* delivery time */
	uint64_t deadline; /* held: delivered by then at the latest */
	uint32_t wait;	   /* held: deliveries still to let pass */
	uint32_t len;
	uint8_t data[FAKEDEV_FRAME_SIZE];
};

uint64_t twostack_rand(struct twostack *ts)
{
	uint64_t x = ts->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ts->rng = x;
	return x;
}

static bool ts_chance(struct twostack *ts, uint32_t pct)
{
	return pct && twostack_rand(ts) % 100 < pct;
}

static struct ts_frame *ts_frame_get(struct twostack *ts)
{
	struct ts_frame *f = ts->free;

	if (f)
		ts->free = f->next;
	else
		f = malloc(sizeof(*f));
	assert_non_null(f);
	f->next = NULL;
	f->wait = 0;
	return f;
}

static void ts_frame_put(struct twostack *ts, struct ts_frame *f)
{
	f->next = ts->free;
	ts->free = f;
}

static void ts_list_free(struct ts_frame *f)
{
	struct ts_frame *next;

	for (; f; f = next) {
		next = f->next;
		free(f);
	}
}

const uint8_t ts_addr6[2][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
};

/* The side's IPv6 address, dedicated, on 2001:db8::/64. */
static void ts_add_addr6(struct harness *h, int side)
{
	struct stack_addr6 *a = &h->cfg.addrs6[h->cfg.n_addrs6++];

	memcpy(a->addr, ts_addr6[side], 16);
	a->prefix_len = 64;
	a->dedicated = true;
}

int twostack_init(struct twostack *ts, uint64_t seed)
{
	struct harness *a = &ts->side[TS_A], *b = &ts->side[TS_B];
	int err;

	memset(ts, 0, sizeof(*ts));
	ts->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;

	err = harness_init(a, 0);
	if (err)
		return err;
	err = harness_init(b, 0);
	if (err)
		goto err_a;
	/* B is the harness's usual peer: 10.0.0.2, MAC ..:02 */
	b->cfg.addrs[0].addr = TS_ADDR_B;
	memcpy(b->fd.dev.mac, H_PEER_MAC, 6);
	memcpy(b->fd.dev.name, "fake1", 6);
	ts_add_addr6(a, TS_A);
	ts_add_addr6(b, TS_B);

	err = inet_init(&a->st);
	if (err)
		goto err_b;
	a->inet = 1;
	err = inet_init(&b->st);
	if (err)
		goto err_b;
	b->inet = 1;

	harness_add_neigh(a, TS_ADDR_B, H_PEER_MAC);
	harness_add_neigh(b, TS_ADDR_A, H_MAC);
	harness_add_neigh6(a, ts_addr6[TS_B], H_PEER_MAC);
	harness_add_neigh6(b, ts_addr6[TS_A], H_MAC);
	return 0;

err_b:
	harness_fini(b);
err_a:
	harness_fini(a);
	return err;
}

void twostack_fini(struct twostack *ts)
{
	int i;

	for (i = 0; i < 2; i++) {
		ts_list_free(ts->dir[i].head);
		ts_list_free(ts->dir[i].held);
		ts->dir[i].head = ts->dir[i].tail = ts->dir[i].held = NULL;
	}
	ts_list_free(ts->free);
	ts->free = NULL;
	harness_fini(&ts->side[TS_A]);
	harness_fini(&ts->side[TS_B]);
}

void twostack_set_impair(struct twostack *ts, int from, const struct ts_impair *imp)
{
	struct ts_impair *d = &ts->dir[from].imp;

	*d = *imp;
	if (!d->reorder_k)
		d->reorder_k = TS_REORDER_K_DEFAULT;
	if (!d->reorder_max_ns)
		d->reorder_max_ns = TS_REORDER_MAX_DEFAULT;
}

void twostack_set_impair2(struct twostack *ts, const struct ts_impair *imp)
{
	twostack_set_impair(ts, TS_A, imp);
	twostack_set_impair(ts, TS_B, imp);
}

void twostack_set_filter(struct twostack *ts, ts_filter_fn fn, void *arg)
{
	ts->filter = fn;
	ts->filter_arg = arg;
}

int twostack_inject(struct twostack *ts, int to, const void *frame, size_t len)
{
	return fakedev_inject(&ts->side[to].fd, frame, len);
}

uint32_t twostack_in_flight(const struct twostack *ts)
{
	const struct ts_frame *f;
	uint32_t n = 0;
	int i;

	for (i = 0; i < 2; i++) {
		for (f = ts->dir[i].head; f; f = f->next)
			n++;
		for (f = ts->dir[i].held; f; f = f->next)
			n++;
		n += ts->side[i].fd.rxq.len;
	}
	return n;
}

static void ts_enqueue(struct ts_dir *d, struct ts_frame *f)
{
	f->next = NULL;
	if (d->tail)
		d->tail->next = f;
	else
		d->head = f;
	d->tail = f;
}

/* Flip one bit somewhere after the IP header (the L4 checksum catches it). */
static void ts_corrupt(struct twostack *ts, struct ts_frame *f)
{
	uint32_t off = 14, pos;

	if (f->len > 14 && (f->data[14] >> 4) == 4)
		off = 14 + (f->data[14] & 0x0f) * 4u;
	if (f->len <= off)
		off = f->len > 14 ? 14 : 0;
	pos = off + (uint32_t)(twostack_rand(ts) % (f->len - off));
	f->data[pos] ^= (uint8_t)(1u << (twostack_rand(ts) % 8));
}

/* One frame leaves side `from`: filter, then the impairment, then the wire. */
static void ts_send(struct twostack *ts, int from, struct ts_frame *f, uint64_t now)
{
	struct ts_dir *d = &ts->dir[from];
	const struct ts_impair *imp = &d->imp;
	struct ts_frame *g;

	d->c.sent++;
	if (ts->filter && ts->filter(ts, from, f->data, &f->len, ts->filter_arg) == TS_DROP) {
		d->c.filtered++;
		ts_frame_put(ts, f);
		return;
	}
	assert_true(f->len <= FAKEDEV_FRAME_SIZE);
	if (ts_chance(ts, imp->loss_pct)) {
		d->c.lost++;
		ts_frame_put(ts, f);
		return;
	}
	if (ts_chance(ts, imp->corrupt_pct) && f->len) {
		ts_corrupt(ts, f);
		d->c.corrupted++;
	}
	f->due = now + imp->delay_ns;
	if (imp->rate_bps) {
		uint64_t start = d->link_free > now ? d->link_free : now;

		if (imp->queue_bytes &&
		    (start - now) * imp->rate_bps / (8 * NSEC_PER_SEC) > imp->queue_bytes) {
			d->c.queue_drops++;
			ts_frame_put(ts, f);
			return;
		}
		d->link_free = start + (uint64_t)f->len * 8 * NSEC_PER_SEC / imp->rate_bps;
		f->due = d->link_free + imp->delay_ns;
	}

	g = NULL;
	if (ts_chance(ts, imp->dup_pct)) {
		g = ts_frame_get(ts);
		g->due = f->due;
		g->len = f->len;
		memcpy(g->data, f->data, f->len);
		d->c.duplicated++;
	}
	if (ts_chance(ts, imp->reorder_pct)) {
		f->wait = imp->reorder_k;
		f->deadline = f->due + imp->reorder_max_ns;
		f->next = d->held;
		d->held = f;
		d->c.reordered++;
	} else {
		ts_enqueue(d, f);
	}
	if (g)
		ts_enqueue(d, g);
}

/* Take every frame side `from` transmitted onto the link; returns how many. */
static int ts_collect(struct twostack *ts, int from, uint64_t now)
{
	struct fakedev *fd = &ts->side[from].fd;
	struct pkb *pkb;
	int n = 0;

	while ((pkb = fakedev_pop_tx(fd))) {
		struct ts_frame *f = ts_frame_get(ts);

		f->len = pkb_len(pkb);
		assert_true(f->len <= sizeof(f->data));
		memcpy(f->data, pkb->data, f->len);
		pkb_free(pkb);
		ts_send(ts, from, f, now);
		n++;
	}
	return n;
}

static void ts_deliver_one(struct twostack *ts, int from, struct ts_frame *f)
{
	struct ts_dir *d = &ts->dir[from];

	if (twostack_inject(ts, !from, f->data, f->len))
		d->c.rx_full++;
	else
		d->c.delivered++;
	ts_frame_put(ts, f);
}

/* A frame of direction `from` was delivered: held frames count it. */
static int ts_release_held(struct twostack *ts, int from, uint64_t now, bool counted)
{
	struct ts_dir *d = &ts->dir[from];
	struct ts_frame **pp = &d->held, *f;
	int n = 0;

	while ((f = *pp)) {
		if (counted && f->wait)
			f->wait--;
		/* never before its own time: a frame sent after it may not
		 * bring it in faster than the link would have */
		if ((!f->wait && f->due <= now) || f->deadline <= now) {
			*pp = f->next;
			ts_deliver_one(ts, from, f);
			n++;
			continue;
		}
		pp = &f->next;
	}
	return n;
}

/* Deliver every frame due by now; returns how many. */
static int ts_deliver(struct twostack *ts, uint64_t now)
{
	int i, n = 0;

	for (i = 0; i < 2; i++) {
		struct ts_dir *d = &ts->dir[i];
		struct ts_frame *f;

		while ((f = d->head) && f->due <= now) {
			d->head = f->next;
			if (!d->head)
				d->tail = NULL;
			ts_deliver_one(ts, i, f);
			n++;
			n += ts_release_held(ts, i, now, true);
		}
		n += ts_release_held(ts, i, now, false);
	}
	return n;
}

static uint64_t ts_link_next(const struct twostack *ts)
{
	uint64_t next = UINT64_MAX;
	const struct ts_frame *f;
	int i;

	for (i = 0; i < 2; i++) {
		if (ts->dir[i].head && ts->dir[i].head->due < next)
			next = ts->dir[i].head->due;
		for (f = ts->dir[i].held; f; f = f->next)
			if (f->deadline < next)
				next = f->deadline;
	}
	return next;
}

bool twostack_run(struct twostack *ts, uint64_t ns, bool (*cond)(void *arg), void *arg)
{
	uint64_t end = clock_now() + ns, now, next, t;
	uint32_t idle = 0, spins = 0;
	int i;

	for (;;) {
		bool busy = false;

		now = clock_now();
		ts->iterations++;
		if (cond && cond(arg))
			return true;
		for (i = 0; i < 2; i++)
			if (stack_poll(twostack_stack(ts, i)) > 0)
				busy = true;
		for (i = 0; i < 2; i++)
			if (ts_collect(ts, i, now))
				busy = true;
		if (ts_deliver(ts, now))
			busy = true;
		if (busy || idle++ < 1) {
			/* something moved, or one more turn so that socket events
			 * queued by handlers during the last one are dispatched */
			if (busy)
				idle = 0;
			if (++spins < TS_SPIN_LIMIT)
				continue;
		}

		next = ts_link_next(ts);
		for (i = 0; i < 2; i++) {
			t = timers_next(twostack_stack(ts, i));
			if (t < next)
				next = t;
		}
		if (next <= now && spins < TS_SPIN_LIMIT && idle < 4)
			continue; /* a timer due now: let the stacks run it */
		if (next <= now)
			next = now + NSEC_PER_USEC;
		if (next > end) {
			if (now >= end)
				break;
			next = end;
		}
		clock_advance(next - now);
		idle = 0;
		spins = 0;
	}
	return cond ? cond(arg) : false;
}

bool ts_tcp_parse(uint8_t *frame, uint32_t len, struct ts_tcp *t)
{
	const struct eth_hdr *eh = (const struct eth_hdr *)frame;
	const struct ip_hdr *iph;
	const struct tcp_hdr *th;
	size_t ihl, doff, tot;

	if (len < ETH_HLEN || get_be16(&eh->h_proto) != ETH_P_IP ||
	    ip_hdr_parse(eh + 1, len - ETH_HLEN, &iph, &ihl) != PROTO_OK ||
	    iph->protocol != IPPROTO_TCP)
		return false;
	tot = get_be16(&iph->tot_len);
	if (tot > len - ETH_HLEN || tot < ihl ||
	    tcp_hdr_parse((const uint8_t *)iph + ihl, tot - ihl, &th, &doff) != PROTO_OK)
		return false;

	memset(t, 0, sizeof(*t));
	t->saddr = iph->saddr;
	t->daddr = iph->daddr;
	t->sport = get_be16(&th->source);
	t->dport = get_be16(&th->dest);
	t->seq = get_be32(&th->seq);
	t->ack = get_be32(&th->ack_seq);
	t->flags = th->flags;
	t->win = get_be16(&th->window);
	t->doff = (uint16_t)doff;
	t->len = (uint32_t)(tot - ihl - doff);
	t->tcph = (uint8_t *)th;
	t->opts = t->tcph + TCP_HDR_LEN;
	t->payload = t->tcph + doff;
	return true;
}

size_t ts_tcp_build(uint8_t *buf, size_t cap, int from, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opts,
		    size_t olen, const void *payload, size_t plen)
{
	uint32_t saddr = from == TS_A ? TS_ADDR_A : TS_ADDR_B;
	uint32_t daddr = from == TS_A ? TS_ADDR_B : TS_ADDR_A;
	size_t tlen = TCP_HDR_LEN + olen + plen, len = ETH_HLEN + IP_HLEN + tlen;
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct ip_hdr *ip = (struct ip_hdr *)(eh + 1);
	struct tcp_hdr *th = (struct tcp_hdr *)(ip + 1);

	if (len > cap || len > FAKEDEV_FRAME_SIZE || olen % 4 || olen > TCP_MAX_HDR_LEN - TCP_HDR_LEN)
		return 0;
	memcpy(eh->h_dest, from == TS_A ? H_PEER_MAC : H_MAC, ETH_ALEN);
	memcpy(eh->h_source, from == TS_A ? H_MAC : H_PEER_MAC, ETH_ALEN);
	put_be16(&eh->h_proto, ETH_P_IP);

	harness_ip_hdr(ip, saddr, daddr, IPPROTO_TCP, 0, IP_DF, tlen);

	memset(th, 0, TCP_HDR_LEN);
	put_be16(&th->source, sport);
	put_be16(&th->dest, dport);
	put_be32(&th->seq, seq);
	put_be32(&th->ack_seq, ack);
	th->doff = (uint8_t)((TCP_HDR_LEN + olen) / 4);
	th->flags = flags;
	put_be16(&th->window, win);
	if (olen)
		memcpy(th + 1, opts, olen);
	if (plen)
		memcpy((uint8_t *)(th + 1) + olen, payload, plen);
	th->check = csum_tcpudp_magic(saddr, daddr, (uint32_t)tlen, IPPROTO_TCP,
				      csum_partial(th, tlen, 0));
	return len;
}
