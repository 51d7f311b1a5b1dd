// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A whole stack for unit tests: the fake driver, the simulated clock, and
 * in-memory stand-ins for the BPF maps skiffd reaches through struct
 * stack_hooks (owned ports with reference counts, the shared neighbour map
 * and XDP's neighbour generation counter).  harness_fini() checks the rule
 * every test must keep: every frame and every big buffer back in its pool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/ipv4.h>

#include "core/clock.h"
#include "core/csum.h"
#include "harness.h"
#include "sock/inet.h"

#define H_FRAMES 512

const uint8_t H_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t H_PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static struct harness_port *h_port_find(struct harness *h, uint32_t addr, uint8_t proto,
					uint16_t port)
{
	int i;

	for (i = 0; i < H_MAX_PORTS; i++) {
		struct harness_port *p = &h->ports[i];

		if (p->refs && p->addr == addr && p->proto == proto && p->port == port)
			return p;
	}
	return NULL;
}

static int h_port_claim(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	struct harness *h = ctx;
	struct harness_port *p = h_port_find(h, addr, proto, port);
	int i;

	if (p) {
		p->refs++;
		return 0;
	}
	for (i = 0; i < H_MAX_PORTS; i++) {
		p = &h->ports[i];
		if (p->refs)
			continue;
		p->addr = addr;
		p->proto = proto;
		p->port = port;
		p->refs = 1;
		return 0;
	}
	return -ENOSPC;
}

static void h_port_release(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	struct harness_port *p = h_port_find(ctx, addr, proto, port);

	if (p)
		p->refs--;
}

/* An entry of the fake maps: IPv4 (ip6 NULL) or IPv6. */
static struct harness_neigh *h_neigh_find(struct harness *h, uint32_t ip, const uint8_t *ip6)
{
	int i;

	for (i = 0; i < H_MAX_NEIGH; i++) {
		struct harness_neigh *n = &h->neigh[i];

		if (n->used && n->v6 == !!ip6 && (ip6 ? !memcmp(n->ip6, ip6, 16) : n->ip == ip))
			return n;
	}
	return NULL;
}

static int h_neigh_get(struct harness *h, uint32_t ip, const uint8_t *ip6, uint8_t mac[6],
		       uint64_t *updated_ns)
{
	struct harness_neigh *n = h_neigh_find(h, ip, ip6);

	if (!n)
		return -ENOENT;
	memcpy(mac, n->mac, 6);
	if (updated_ns)
		*updated_ns = n->updated_ns;
	return 0;
}

/* Set ip (or ip6) -> mac; returns 1 if the MAC changed or the entry is new. */
static int h_neigh_set(struct harness *h, uint32_t ip, const uint8_t *ip6, const uint8_t mac[6],
		       uint64_t now)
{
	struct harness_neigh *n = h_neigh_find(h, ip, ip6);
	int i, changed;

	if (!n) {
		for (i = 0; i < H_MAX_NEIGH && !n; i++)
			if (!h->neigh[i].used)
				n = &h->neigh[i];
		if (!n)
			return -ENOSPC;
		n->used = 1;
		n->ip = ip;
		n->v6 = !!ip6;
		if (ip6)
			memcpy(n->ip6, ip6, 16);
		changed = 1;
	} else {
		changed = memcmp(n->mac, mac, 6) != 0;
	}
	memcpy(n->mac, mac, 6);
	n->updated_ns = now;
	return changed;
}

static int h_neigh_del(struct harness *h, uint32_t ip, const uint8_t *ip6)
{
	struct harness_neigh *n = h_neigh_find(h, ip, ip6);

	if (!n)
		return -ENOENT;
	memset(n, 0, sizeof(*n));
	return 0;
}

static int h_neigh_lookup(void *ctx, uint32_t ip, uint8_t mac[6], uint64_t *updated_ns)
{
	return h_neigh_get(ctx, ip, NULL, mac, updated_ns);
}

static int h_neigh_update(void *ctx, uint32_t ip, const uint8_t mac[6], uint64_t now)
{
	int ret = h_neigh_set(ctx, ip, NULL, mac, now);

	return ret < 0 ? ret : 0;
}

static int h_neigh_delete(void *ctx, uint32_t ip)
{
	return h_neigh_del(ctx, ip, NULL);
}

static void h_neigh_walk(void *ctx,
			 int (*fn)(void *arg, uint32_t ip, const uint8_t mac[6], uint64_t updated_ns),
			 void *arg)
{
	struct harness *h = ctx;
	int i;

	for (i = 0; i < H_MAX_NEIGH; i++) {
		struct harness_neigh n = h->neigh[i];	/* fn may delete it */

		if (n.used && !n.v6 && fn(arg, n.ip, n.mac, n.updated_ns))
			return;
	}
}

static int h_neigh6_lookup(void *ctx, const uint8_t ip6[16], uint8_t mac[6], uint64_t *updated_ns)
{
	return h_neigh_get(ctx, 0, ip6, mac, updated_ns);
}

static int h_neigh6_update(void *ctx, const uint8_t ip6[16], const uint8_t mac[6], uint64_t now)
{
	int ret = h_neigh_set(ctx, 0, ip6, mac, now);

	return ret < 0 ? ret : 0;
}

static int h_neigh6_delete(void *ctx, const uint8_t ip6[16])
{
	return h_neigh_del(ctx, 0, ip6);
}

static void h_neigh6_walk(void *ctx,
			  int (*fn)(void *arg, const uint8_t ip6[16], const uint8_t mac[6],
				    uint64_t updated_ns),
			  void *arg)
{
	struct harness *h = ctx;
	int i;

	for (i = 0; i < H_MAX_NEIGH; i++) {
		struct harness_neigh n = h->neigh[i];	/* fn may delete it */

		if (n.used && n.v6 && fn(arg, n.ip6, n.mac, n.updated_ns))
			return;
	}
}

int harness_init(struct harness *h, int with_inet)
{
	struct stack_hooks hooks = {
		.port_claim = h_port_claim,
		.port_release = h_port_release,
		.neigh_lookup = h_neigh_lookup,
		.neigh_update = h_neigh_update,
		.neigh_delete = h_neigh_delete,
		.neigh_walk = h_neigh_walk,
		.neigh6_lookup = h_neigh6_lookup,
		.neigh6_update = h_neigh6_update,
		.neigh6_delete = h_neigh6_delete,
		.neigh6_walk = h_neigh6_walk,
	};
	int err;

	memset(h, 0, sizeof(*h));
	clock_set_fake(1 * NSEC_PER_SEC);

	err = fakedev_init(&h->fd, "fake0", H_MAC, 1500, H_FRAMES);
	if (err)
		return err;

	h->cfg.addrs[0].addr = H_ADDR;
	h->cfg.addrs[0].prefix_len = 24;
	h->cfg.addrs[0].dedicated = true;
	h->cfg.n_addrs = 1;
	h->cfg.gateway = htonl(0x0a0000fe);	/* 10.0.0.254 */

	hooks.ctx = h;
	hooks.neigh_gen = &h->neigh_gen;
	err = stack_init(&h->st, &h->fd.dev, &h->cfg, &hooks);
	if (err)
		goto err_dev;

	if (with_inet) {
		err = inet_init(&h->st);
		if (err)
			goto err_stack;
		h->inet = 1;
	}
	return 0;

err_stack:
	stack_fini(&h->st);
err_dev:
	fakedev_fini(&h->fd);
	return err;
}

void harness_fini(struct harness *h)
{
	uint32_t big_free = 0, big_n = 0;

	if (h->inet)
		inet_fini(&h->st);
	h->inet = 0;
	if (h->st.big_pool) {
		big_free = h->st.big_pool->n_free;
		big_n = h->st.big_pool->n;
	}
	stack_fini(&h->st);
	fakedev_purge(&h->fd);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
	assert_int_equal(h->fd.pool.double_free, 0);
	assert_int_equal(big_free, big_n);
	fakedev_fini(&h->fd);
}

void harness_add_neigh(struct harness *h, uint32_t ip, const uint8_t mac[6])
{
	/* as XDP learning it: a changed MAC bumps the generation */
	if (h_neigh_set(h, ip, NULL, mac, clock_now()) > 0)
		h->neigh_gen++;
}

void harness_add_neigh6(struct harness *h, const uint8_t ip6[16], const uint8_t mac[6])
{
	if (h_neigh_set(h, 0, ip6, mac, clock_now()) > 0)
		h->neigh_gen++;
}

int harness_port_refs(struct harness *h, uint32_t addr, uint8_t proto, uint16_t port)
{
	struct harness_port *p = h_port_find(h, addr, proto, port);

	return p ? p->refs : 0;
}

void harness_rx(struct harness *h, const void *frame, size_t len)
{
	assert_int_equal(fakedev_inject(&h->fd, frame, len), 0);
	stack_poll(&h->st);
}

void harness_advance(struct harness *h, uint64_t ns)
{
	clock_advance(ns);
	stack_poll(&h->st);
}

void harness_ip_hdr(void *hdr, uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t id,
		    uint16_t frag_off_host, size_t plen)
{
	struct ip_hdr *ip = hdr;

	memset(ip, 0, IP_HLEN);
	ip->version = 4;
	ip->ihl = IP_HLEN / 4;
	put_be16(&ip->tot_len, (uint16_t)(IP_HLEN + plen));
	put_be16(&ip->id, id);
	put_be16(&ip->frag_off, frag_off_host);
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = ip_fast_csum(ip, 5);
}

size_t harness_ip_frame(uint8_t *buf, size_t cap, uint32_t saddr, uint32_t daddr, uint8_t proto,
			uint16_t id, uint16_t frag_off_host, const void *payload, size_t plen)
{
	size_t len = ETH_HLEN + IP_HLEN + plen;
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct ip_hdr *ip = (struct ip_hdr *)(eh + 1);

	if (len > cap || IP_HLEN + plen > 0xffff)
		return 0;
	/* Ethernet: peer -> us, IPv4 */
	memcpy(eh->h_dest, H_MAC, ETH_ALEN);
	memcpy(eh->h_source, H_PEER_MAC, ETH_ALEN);
	put_be16(&eh->h_proto, ETH_P_IP);

	harness_ip_hdr(ip, saddr, daddr, proto, id, frag_off_host, plen);
	if (plen)
		memcpy(ip + 1, payload, plen);
	return len;
}

int harness_setup_peer(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));

	if (!h || harness_init(h, 1)) {
		free(h);
		return -1;
	}
	harness_add_neigh(h, H_PEER, H_PEER_MAC);
	*state = h;
	return 0;
}

int harness_teardown(void **state)
{
	harness_fini(*state);
	free(*state);
	return 0;
}
