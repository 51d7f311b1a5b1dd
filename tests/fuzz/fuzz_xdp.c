// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for the XDP program itself (build-fuzz/bpf/skiff_xdp.bpf.o
 * through its skeleton, run by the kernel with bpf_prog_test_run_opts).
 *
 * Set-up: our MAC, untagged, 10.0.0.1 dedicated and 10.0.0.2 shared, owned
 * ports {10.0.0.2, 80, TCP} and {any, 53, UDP}; no AF_XDP socket, so a frame
 * the program gives to skiff shows as no_xsk (it would have been redirected).
 * Input: frames, each len:u16 (big endian, modulo 1515) then its bytes.
 * After each frame the harness checks, against its own reading of the frame:
 *   - a frame passed to the kernel is byte for byte the frame that came in;
 *   - a frame is given to skiff only when it is for skiff: anything to the
 *     dedicated address, ARP replies for it; on the shared address only
 *     UDP/TCP to an owned port, later fragments of such a datagram, and ICMP
 *     errors quoting a packet sent from an owned port;
 *   - XDP_TX only answers an ARP request or an ICMP echo request for the
 *     dedicated address, in place, from our MAC to the requester;
 *   - rx_frames moved by one.
 * Needs root (CAP_BPF); the fuzz suite runs as root.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <skiff/skiff.h>

#include "skiff_xdp.skel.h"

#define FZ_CHECK(cond)                                                                  \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_xdp: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                    \
			abort();                                                        \
		}                                                                       \
	} while (0)

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "DED and SHR below are written for a little-endian host"
#endif

#define FRAME_MAX 1514
#define DED 0x0100000a /* 10.0.0.1, network order on little endian */
#define SHR 0x0200000a /* 10.0.0.2 */
#define MAX_FRAGS 512 /* more than the frames of one input */

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 1 };

static struct {
	struct skiff_xdp *skel;
	int prog, stats, frags;
	int ncpus;
	struct skiff_xdp_stats *percpu;
} fx;

/* The oracle's memory of first fragments on the shared address. */
static struct {
	uint8_t key[10]; /* saddr, id, proto... as read from the frame */
	bool owned;
} frags[MAX_FRAGS];
static int n_frags;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void add_port(uint32_t addr, uint16_t port, uint8_t proto)
{
	struct skiff_port_key k = { .addr = addr, .port = htobe16(port), .proto = proto };
	struct skiff_port_val v = { .refs = 1 };

	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.ports), &k, &v, BPF_ANY));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct skiff_config c = { .flags = SKIFF_CFG_ENABLED };
	struct skiff_addr ded = { .flags = SKIFF_ADDR_DEDICATED, .prefix_len = 24 };
	struct skiff_addr shr = { .prefix_len = 24 };
	uint32_t zero = 0, a;

	(void)argc;
	(void)argv;
	fx.skel = skiff_xdp__open_and_load();
	if (!fx.skel) {
		fprintf(stderr, "fuzz_xdp: cannot load the XDP object: %s (needs root)\n",
			strerror(errno));
		exit(1);
	}
	fx.prog = bpf_program__fd(fx.skel->progs.skiff_xdp_prog);
	fx.stats = bpf_map__fd(fx.skel->maps.stats);
	fx.frags = bpf_map__fd(fx.skel->maps.frags);
	fx.ncpus = libbpf_num_possible_cpus();
	FZ_CHECK(fx.ncpus > 0);
	fx.percpu = calloc((size_t)fx.ncpus, sizeof(*fx.percpu));
	FZ_CHECK(fx.percpu);
	memcpy(c.mac, our_mac, 6);
	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.config), &zero, &c, BPF_ANY));
	a = DED;
	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.addrs), &a, &ded, BPF_ANY));
	a = SHR;
	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.addrs), &a, &shr, BPF_ANY));
	add_port(SHR, 80, 6);
	add_port(0, 53, 17);
	return 0;
}

static bool owned(uint16_t port, uint8_t proto)
{
	return (proto == 6 && port == 80) || (proto == 17 && port == 53);
}

static struct skiff_xdp_stats stats_sum(void)
{
	struct skiff_xdp_stats sum;
	uint64_t *s = (uint64_t *)&sum;
	uint32_t zero = 0;
	size_t i, k;

	memset(&sum, 0, sizeof(sum));
	FZ_CHECK(!bpf_map_lookup_elem(fx.stats, &zero, fx.percpu));
	for (i = 0; i < (size_t)fx.ncpus; i++)
		for (k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
			s[k] += ((uint64_t *)&fx.percpu[i])[k];
	return sum;
}

static int frag_find(const uint8_t *key)
{
	int i;

	for (i = 0; i < n_frags; i++)
		if (!memcmp(frags[i].key, key, sizeof(frags[i].key)))
			return i;
	return -1;
}

/* What the program may do with frame f, by the harness's own reading. */
struct verdicts {
	bool may_stack;	/* give it to skiff */
	bool may_tx;	/* answer it */
	size_t reply_to; /* offset of the MAC an XDP_TX reply goes to */
};

static void ipv4_verdicts(const uint8_t *f, size_t len, size_t l3, struct verdicts *v)
{
	uint32_t daddr, qsaddr;
	size_t ihl, l4, q, ql4;
	uint16_t frag, off;
	uint8_t proto, key[10];
	int i;

	if (len < l3 + 20)
		return;
	ihl = (size_t)(f[l3] & 0xf) * 4;
	daddr = raw32(f + l3 + 16);
	proto = f[l3 + 9];
	l4 = l3 + ihl;
	if (daddr == DED) {
		v->may_stack = true;
		v->may_tx = proto == 1 && len > l4 && f[l4] == 8;
		v->reply_to = 6;
		return;
	}
	if (daddr != SHR)
		return;
	frag = be16(f + l3 + 6);
	off = frag & 0x1fff;
	/* the key XDP uses: {saddr, daddr, id, proto} (daddr is SHR) */
	memcpy(key, f + l3 + 12, 4);
	memcpy(key + 4, f + l3 + 4, 2);
	key[6] = proto;
	memset(key + 7, 0, 3);
	if (off) {
		i = frag_find(key);
		v->may_stack = i >= 0 && frags[i].owned;
		return;
	}
	if ((proto == 6 || proto == 17) && len >= l4 + 4) {
		v->may_stack = owned(be16(f + l4 + 2), proto);
		if ((frag & 0x2000) && n_frags < MAX_FRAGS && frag_find(key) < 0) {
			memcpy(frags[n_frags].key, key, sizeof(key));
			frags[n_frags++].owned = v->may_stack;
		} else if ((frag & 0x2000) && (i = frag_find(key)) >= 0) {
			frags[i].owned = v->may_stack; /* the newest first fragment wins */
		}
		return;
	}
	/* an ICMP error quoting a packet we sent from an owned port */
	if (proto == 1 && len >= l4 + 8 + 20 && (f[l4] == 3 || f[l4] == 11 || f[l4] == 12)) {
		q = l4 + 8;
		qsaddr = raw32(f + q + 12);
		ql4 = q + (size_t)(f[q] & 0xf) * 4;
		if (qsaddr == SHR && len >= ql4 + 2)
			v->may_stack = owned(be16(f + ql4), f[q + 9]);
	}
}

static struct verdicts frame_verdicts(const uint8_t *f, size_t len)
{
	struct verdicts v = { 0 };
	uint16_t type = be16(f + 12);
	size_t l3 = 14;

	if (type == ETH_P_8021Q) {
		if (len < 18 || (be16(f + 14) & 0xfff) != 0)
			return v; /* another VLAN than ours (untagged = VID 0) */
		type = be16(f + 16);
		l3 = 18;
	}
	if (type == ETH_P_ARP) {
		/* request for the dedicated address: answered; reply: to skiff */
		if (len >= l3 + 28 && raw32(f + l3 + 24) == DED) {
			v.may_tx = be16(f + l3 + 6) == 1;
			v.may_stack = be16(f + l3 + 6) == 2;
			v.reply_to = l3 + 8; /* the requester's hardware address */
		}
	} else if (type == ETH_P_IP) {
		ipv4_verdicts(f, len, l3, &v);
	}
	return v;
}

static void run_one(const uint8_t *in, size_t len)
{
	uint8_t out[FRAME_MAX + 256];
	struct xdp_md ctx = { .data_end = (uint32_t)len };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	struct skiff_xdp_stats before, after;
	struct verdicts v;
	bool to_stack;

	v = frame_verdicts(in, len);
	before = stats_sum();
	FZ_CHECK(!bpf_prog_test_run_opts(fx.prog, &o));
	after = stats_sum();
	FZ_CHECK(after.rx_frames == before.rx_frames + 1);
	to_stack = after.no_xsk != before.no_xsk || after.to_stack != before.to_stack;
	if (to_stack && !v.may_stack) {
		fprintf(stderr, "fuzz_xdp: a frame not for skiff was given to it (%zu bytes)\n", len);
		abort();
	}
	switch (o.retval) {
	case XDP_PASS:
		FZ_CHECK(o.data_size_out == len && !memcmp(out, in, len));
		break;
	case XDP_TX:
		FZ_CHECK(v.may_tx);
		FZ_CHECK(o.data_size_out == len);
		FZ_CHECK(!memcmp(out, in + v.reply_to, 6)); /* back to the requester */
		FZ_CHECK(!memcmp(out + 6, our_mac, 6));
		break;
	case XDP_DROP:
		break;
	default:
		FZ_CHECK(0); /* no socket in xsks: nothing can be redirected */
	}
}

/* Forget the fragments of this input on both sides. */
static void frags_reset(void)
{
	struct skiff_frag_key k, next;

	while (!bpf_map_get_next_key(fx.frags, NULL, &next)) {
		k = next;
		FZ_CHECK(!bpf_map_delete_elem(fx.frags, &k));
	}
	n_frags = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t frame[FRAME_MAX];
	size_t off = 0, len;

	while (off + 2 <= size) {
		len = be16(data + off) % (FRAME_MAX + 1);
		off += 2;
		if (len > size - off)
			len = size - off;
		memcpy(frame, data + off, len);
		off += len;
		if (len < ETH_HLEN)
			continue; /* test runs need an Ethernet header */
		run_one(frame, len);
	}
	frags_reset();
	return 0;
}
