// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815), after Linux's net/ipv4/ip_fragment.c.
 *
 * A datagram under reassembly is a struct ipq in a fixed table of
 * IP_REASM_SLOTS, keyed by (saddr, daddr, id, protocol).  Each fragment's
 * payload is copied at once into one big-pool buffer at its offset, and the
 * fragment's frame is freed: no UMEM frame is ever held while a datagram
 * waits, so fragments that never complete cannot starve the receive ring.
 * Received ranges are kept as a sorted list of the fragments' own
 * [start, end): since overlaps are refused, the datagram is complete when
 * the last fragment has been seen and the bytes received add up to its end.
 *
 * Policy, as Linux since 2018 (CVE-2018-5391, RFC 5722 applied to IPv4): an
 * exact duplicate of a fragment is dropped and the datagram kept; any other
 * overlap discards the whole datagram.  Memory is bounded per datagram (it
 * never exceeds IP_REASM_MAX_DGRAM) and in total (payload bytes held, at
 * most cfg->reasm_max_bytes); a datagram is dropped cfg->reasm_timeout_s
 * (skiffd --frag-timeout; default IP_REASM_TIMEOUT_NS) after its first
 * fragment arrived, with an ICMP time exceeded (RFC 792,
 * code 1) when its first fragment is among those received.
 *
 * Slots are shared fairly: one sender holds at most IP_REASM_PER_SOURCE
 * datagrams (its next one is refused, ip_frag_source_limit), so a host that
 * sends fragments it never completes blocks only itself; when every slot
 * (or every buffer) is busy the oldest datagram is evicted for the new one
 * (ip_frag_evicted), so a flood from many senders costs stale datagrams,
 * not the one that would complete in a millisecond.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "core/csum.h"
#include "core/pkb.h"
#include "core/stack.h"
#include "core/timer.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ip_internal.h"

#define ipq_of_timer(t) ((struct ipq *)((char *)(t) - offsetof(struct ipq, timer)))

static uint8_t *ipq_payload(const struct ipq *q)
{
	return q->buf->data + IP_REASM_PAYLOAD_OFF;
}

/* Forget q and free its buffer (if it still has one). */
static void ipq_kill(struct stack *st, struct ipq *q)
{
	struct ip_state *ip = st->ip;

	timer_del(st, &q->timer);
	ip->reasm_mem -= q->mem;
	ip->reasm_count--;
	pkb_free(q->buf);
	q->buf = NULL;
	q->used = false;
}

/* The first fragment's unfragmentable part back in front of the payload,
 * and its Ethernet header in front of that: the daemon's IPv6 replies go to
 * the frame's source MAC (net/ipv6.c), and a datagram for another worker's
 * ephemeral port is handed over whole, from the MAC header on
 * (core/handoff.h). */
static void ipq_put_hdr(struct ipq *q, struct pkb *buf, uint32_t len)
{
	uint8_t *payload = ipq_payload(q);

	buf->data = payload - q->hlen;
	memcpy(buf->data, q->hdr, q->hlen);
	buf->tail = payload + len;
	pkb_reset_network_header(buf);
	memcpy(buf->data - sizeof(q->eth), q->eth, sizeof(q->eth));
	buf->mac_header = (uint16_t)(buf->data - sizeof(q->eth) - buf->head);
	buf->pkt_type = q->pkt_type;
}

/*
 * Reassembly timed out (RFC 791 3.2; RFC 1122 3.3.2; RFC 8200 4.5).  If
 * fragment zero is available, send a time exceeded (fragment reassembly
 * time exceeded) quoting it.
 */
static void ip_reasm_expire(struct stack *st, struct timer *t)
{
	struct ipq *q = ipq_of_timer(t);
	struct pkb *buf = q->buf;

	if (q->first_seen) {
		/* Rebuild fragment zero as it arrived, its header in front of
		 * its payload (frags[0] is that fragment). */
		ipq_put_hdr(q, buf, q->frags[0].end);
		if (q->key.family == AF_INET6) {
			ipv6_reasm_expired(st, buf, q->eth);
		} else {
			buf->transport_header = (uint16_t)(ipq_payload(q) - buf->head);
			icmp_send(st, buf, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
		}
	}
	q->buf = NULL;
	ipq_kill(st, q);
	pkb_drop(st, buf, SKIFF_DROP_ip_frag_timeout);
}

static bool ipq_same_source(const struct ipq *q, const struct ipq_key *k)
{
	return q->key.family == k->family &&
	       !memcmp(q->key.saddr, k->saddr, k->family == AF_INET6 ? 16 : 4);
}

static struct ipq *ipq_find(struct ip_state *ip, const struct ipq_key *k)
{
	for (int i = 0; i < IP_REASM_SLOTS; i++) {
		struct ipq *q = &ip->reasm[i];

		if (q->used && q->key.id == k->id && q->key.proto == k->proto &&
		    ipq_same_source(q, k) &&
		    !memcmp(q->key.daddr, k->daddr, k->family == AF_INET6 ? 16 : 4))
			return q;
	}
	return NULL;
}

/* A slot for a new datagram from k's source, or NULL with *why set. */
static struct ipq *ipq_slot(struct stack *st, const struct ipq_key *k, enum skiff_drop *why)
{
	struct ip_state *ip = st->ip;
	struct ipq *free_q = NULL, *oldest = NULL;
	int from_src = 0;

	for (int i = 0; i < IP_REASM_SLOTS; i++) {
		struct ipq *q = &ip->reasm[i];

		if (!q->used) {
			free_q = free_q ? free_q : q;
			continue;
		}
		if (ipq_same_source(q, k))
			from_src++;
		if (!oldest || q->created < oldest->created)
			oldest = q;
	}
	if (from_src >= IP_REASM_PER_SOURCE) {
		*why = SKIFF_DROP_ip_frag_source_limit;
		return NULL;
	}
	if (free_q && st->big_pool->n_free)
		return free_q;
	if (!oldest)
		return NULL; /* no buffer and nothing to take one from */
	/* every slot or buffer busy: the oldest datagram gives way (it has had
	 * the longest to finish) */
	pkb_drop(st, oldest->buf, SKIFF_DROP_ip_frag_evicted);
	oldest->buf = NULL;
	ipq_kill(st, oldest);
	return oldest;
}

static struct ipq *ipq_create(struct stack *st, const struct ipq_key *k, enum skiff_drop *why)
{
	struct ip_state *ip = st->ip;
	struct ipq *q;

	*why = SKIFF_DROP_ip_frag_mem;
	if (!st->big_pool)
		return NULL;
	q = ipq_slot(st, k, why);
	if (!q)
		return NULL;
	q->buf = pkb_pool_get(st->big_pool);
	if (!q->buf)
		return NULL;
	q->used = true;
	q->first_seen = q->last_seen = false;
	q->key = *k;
	q->hlen = 0;
	q->len = q->meat = q->mem = 0;
	q->n_frags = 0;
	q->created = st->now;
	ip->reasm_count++;
	timer_mod(st, &q->timer, st->now + ip->reasm_timeout);
	return q;
}

/* Kill q (it can never complete) and drop the fragment that showed it. */
static struct pkb *ipq_discard(struct stack *st, struct ipq *q, struct pkb *pkb,
			       enum skiff_drop reason)
{
	ipq_kill(st, q);
	pkb_drop(st, pkb, reason);
	return NULL;
}

struct pkb *ipq_add(struct stack *st, const struct ipq_frag_in *f, struct pkb *pkb,
		    const struct ipq **q_out)
{
	struct ip_state *ip = st->ip;
	uint32_t plen = pkb_len(pkb) - f->skip;
	uint32_t start = f->start, end = start + plen;
	bool more = f->more;
	uint32_t charge, cap, i;
	struct pkb *buf;
	struct ipq *q;

	q = ipq_find(ip, &f->key);
	if (q) {
		/* The end of the datagram is known: nothing may go past it,
		 * and a second "last" fragment must agree (Linux discards). */
		if (q->last_seen && (end > q->len || (!more && end != q->len)))
			return ipq_discard(st, q, pkb, SKIFF_DROP_ip_frag_bad);
		if (!more && q->n_frags && q->frags[q->n_frags - 1].end > end)
			return ipq_discard(st, q, pkb, SKIFF_DROP_ip_frag_bad);
	} else {
		enum skiff_drop why;

		q = ipq_create(st, &f->key, &why);
		if (!q) {
			pkb_drop(st, pkb, why);
			return NULL;
		}
	}

	/* Where it goes among the received ranges (sorted by start). */
	for (i = 0; i < q->n_frags && q->frags[i].start < start; i++)
		;
	if (i < q->n_frags && q->frags[i].start == start && q->frags[i].end == end) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_frag_dup);
		return NULL;
	}
	/* RFC 5722 (IPv6), and Linux for IPv4 too: any overlap discards it */
	if ((i > 0 && q->frags[i - 1].end > start) || (i < q->n_frags && q->frags[i].start < end))
		return ipq_discard(st, q, pkb, SKIFF_DROP_ip_frag_overlap);

	/* Memory: the buffer must hold it, the datagram and all datagrams
	 * together stay under their bounds, the range list has room. */
	charge = plen + (start == 0 ? f->hlen : 0);
	cap = (uint32_t)(q->buf->end - q->buf->data);
	if (IP_REASM_PAYLOAD_OFF + end > cap || q->mem + charge > IP_REASM_MAX_DGRAM ||
	    q->n_frags == IP_REASM_MAX_FRAGS || f->hlen > IP_REASM_MAX_HDR)
		return ipq_discard(st, q, pkb, SKIFF_DROP_ip_frag_mem);
	if (ip->reasm_mem + charge > ip->reasm_limit) {
		/* As Linux: refuse the fragment, let the datagram live until
		 * it completes or times out; an empty one goes at once. */
		if (q->n_frags == 0)
			return ipq_discard(st, q, pkb, SKIFF_DROP_ip_frag_mem);
		pkb_drop(st, pkb, SKIFF_DROP_ip_frag_mem);
		return NULL;
	}

	memmove(&q->frags[i + 1], &q->frags[i], (q->n_frags - i) * sizeof(q->frags[0]));
	q->frags[i].start = (uint16_t)start;
	q->frags[i].end = (uint16_t)end;
	q->n_frags++;
	memcpy(ipq_payload(q) + start, pkb->data + f->skip, plen);
	q->meat += plen;
	q->mem += charge;
	ip->reasm_mem += charge;
	if (start == 0) {
		q->first_seen = true;
		q->hlen = (uint8_t)f->hlen;
		q->nh_off = f->nh_off;
		q->nexthdr = f->nexthdr;
		q->pkt_type = pkb->pkt_type;
		memcpy(q->hdr, pkb->data, f->hlen);
		if (pkb->mac_header != PKB_HDR_UNSET)
			memcpy(q->eth, pkb_mac_header(pkb), sizeof(q->eth));
		else
			memset(q->eth, 0, sizeof(q->eth));
	}
	if (!more) {
		q->last_seen = true;
		q->len = end;
	}
	pkb_free(pkb);

	if (!q->first_seen || !q->last_seen || q->meat != q->len)
		return NULL;
	/* The whole datagram, header included, fits in 65535 (RFC 791; for
	 * IPv6 the payload length, RFC 8200 4.5, checked by the caller with
	 * the header's size) */
	if (q->hlen + q->len > IP_MAX_LEN + (f->key.family == AF_INET6 ? IPV6_HDR_LEN : 0)) {
		STACK_INC(st, drop.ip_frag_bad);
		ipq_kill(st, q);
		return NULL;
	}
	buf = q->buf;
	ipq_put_hdr(q, buf, q->len);
	buf->transport_header = PKB_HDR_UNSET;
	buf->dev = st->dev;
	q->buf = NULL;
	ipq_kill(st, q);
	*q_out = q;
	return buf;
}

struct pkb *ip_defrag(struct stack *st, struct pkb *pkb)
{
	const struct ip_hdr *iph = (const struct ip_hdr *)pkb->data;
	uint32_t ihl = iph->ihl * 4u;
	uint16_t flags = ntohs(iph->frag_off);
	struct ipq_frag_in f = {
		.key = { .family = AF_INET, .proto = iph->protocol, .id = iph->id },
		.hlen = ihl,
		.skip = ihl,
		.start = (flags & IP_OFFSET) * 8u,
		.more = flags & IP_MF,
	};
	uint32_t plen = pkb_len(pkb) - ihl;
	const struct ipq *q;
	struct ip_hdr *out;
	struct pkb *buf;

	/* RFC 791 3.2: every fragment but the last carries a multiple of 8
	 * bytes; nothing may end past 65535; an empty fragment is useless. */
	if (plen == 0 || (f.more && (plen & 7)) || f.start + plen + ihl > IP_MAX_LEN) {
		pkb_drop(st, pkb, SKIFF_DROP_ip_frag_bad);
		return NULL;
	}
	memcpy(f.key.saddr, &iph->saddr, 4);
	memcpy(f.key.daddr, &iph->daddr, 4);

	buf = ipq_add(st, &f, pkb, &q);
	if (!buf)
		return NULL;
	/* tot_len and fragment fields fixed, checksum redone */
	out = (struct ip_hdr *)buf->data;
	out->tot_len = htons((uint16_t)(q->hlen + q->len));
	out->frag_off = 0;
	out->check = 0;
	out->check = ip_fast_csum(out, out->ihl);
	buf->protocol = ETH_P_IP;
	STACK_INC(st, ip_reasm_ok);
	return buf;
}

int ip_reasm_init(struct stack *st)
{
	struct ip_state *ip = st->ip;

	ip->reasm_limit = st->cfg && st->cfg->reasm_max_bytes ? st->cfg->reasm_max_bytes
							      : IP_REASM_MAX_BYTES;
	ip->reasm_timeout = st->cfg && st->cfg->reasm_timeout_s
				    ? st->cfg->reasm_timeout_s * NSEC_PER_SEC : IP_REASM_TIMEOUT_NS;
	for (int i = 0; i < IP_REASM_SLOTS; i++)
		timer_init(&ip->reasm[i].timer, ip_reasm_expire);
	return 0;
}

void ip_reasm_fini(struct stack *st)
{
	struct ip_state *ip = st->ip;

	for (int i = 0; i < IP_REASM_SLOTS; i++)
		if (ip->reasm[i].used)
			ipq_kill(st, &ip->reasm[i]);
}

uint32_t ip_reasm_mem(const struct stack *st)
{
	return st->ip ? st->ip->reasm_mem : 0;
}

uint32_t ip_reasm_count(const struct stack *st)
{
	return st->ip ? st->ip->reasm_count : 0;
}
