// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for the XDP program itself (build-fuzz/bpf/skiff_xdp.bpf.o
 * through its skeleton, run by the kernel with bpf_prog_test_run_opts).
 *
 * Set-up: our MAC, untagged, 10.0.0.1 dedicated and 10.0.0.2 shared, owned
 * ports {10.0.0.2, 80, TCP} and {any, 53, UDP}; no AF_XDP socket, so a frame
 * the program gives to skiff shows as no_xsk (it would have been redirected).
 * Input: frames, each len:u16 (big endian; bit 15: fix the IPv4 header,
 * ICMP and ICMPv6 checksums first, so answers are reached; the rest modulo
 * 1515) then its bytes.
 * After each frame the harness checks, against its own reading of the frame:
 *   - a frame passed to the kernel is byte for byte the frame that came in;
 *   - a frame is given to skiff only when it is for skiff: anything to the
 *     dedicated address, ARP replies for it; on the shared address only
 *     UDP/TCP to an owned port, later fragments of such a datagram, and ICMP
 *     errors quoting a packet sent from an owned port;
 *   - XDP_TX only answers an ARP request or an ICMP echo request for the
 *     dedicated address, in place, from our MAC to the requester, or an
 *     IPv6 echo request or Neighbor Solicitation for the dedicated IPv6
 *     address 2001:db8::5 (the NA to the solicitor or all-nodes);
 *   - IPv6 goes to skiff only when it is for 2001:db8::5, or for the shared
 *     2001:db8::2 when it is UDP/TCP to an owned port ({::2, 80, TCP},
 *     {::, 53, UDP} in ports6) after at most 8 extension headers, a later
 *     fragment of such a datagram, or an ICMPv6 error quoting a packet sent
 *     from an owned port of ::2;
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
#include "tsum.h"

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
/* IPv6: the dedicated 2001:db8::5 (NDP, echo, all to skiff), the shared ::2 */
static const uint8_t ded6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
static const uint8_t shr6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };


static struct {
	struct skiff_xdp *skel;
	int prog, stats, frags, frags6;
	int ncpus;
	struct skiff_xdp_stats *percpu;
} fx;

/* The oracle's memory of first fragments on the shared address. */
static struct {
	uint8_t key[10]; /* saddr, id, proto... as read from the frame */
	bool owned;
} frags[MAX_FRAGS];
static int n_frags;
/* ... and of IPv6 ones: {source, identification} (the destination is ::2) */
static struct {
	uint8_t key[20];
	bool owned;
} frags6[MAX_FRAGS];
static int n_frags6;

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

static void add_port6(const uint8_t *addr, uint16_t port, uint8_t proto)
{
	struct skiff_port6_key k = { .port = htobe16(port), .proto = proto };
	struct skiff_port_val v = { .refs = 1 };

	if (addr)
		memcpy(&k.addr, addr, 16);
	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.ports6), &k, &v, BPF_ANY));
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
	fx.frags6 = bpf_map__fd(fx.skel->maps.frags6);
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
	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.addrs6), ded6, &ded, BPF_ANY));
	FZ_CHECK(!bpf_map_update_elem(bpf_map__fd(fx.skel->maps.addrs6), shr6, &shr, BPF_ANY));
	add_port6(shr6, 80, 6);
	add_port6(NULL, 53, 17);
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
	bool nd;	/* the answer is an NA: resized, to the solicitor or all-nodes */
	size_t slla;	/* offset of the NS's source link-layer address, 0: none */
};

static int frag6_find(const uint8_t *key)
{
	int i;

	for (i = 0; i < n_frags6; i++)
		if (!memcmp(frags6[i].key, key, sizeof(frags6[i].key)))
			return i;
	return -1;
}

static bool nh_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44;
}

/* The shared ::2, as skiff_ipv6_shared() reads it: what may go to skiff. */
static void ipv6_shared_verdicts(const uint8_t *f, size_t len, size_t l3, struct verdicts *v)
{
	size_t plen = be16(f + l3 + 4), off = l3 + 40, end = l3 + 40 + plen, need, q;
	uint16_t fo = 0;
	uint8_t nh = f[l3 + 6], key[20];
	bool frag = false;
	int i;

	if ((f[l3] >> 4) != 6 || end > len)
		return; /* dropped */
	for (i = 0; i < 8 && nh_is_ext(nh); i++) {
		if (off + 8 > end)
			return; /* dropped, or passed when the frame is shorter */
		if (nh == 44) {
			fo = be16(f + off + 2);
			frag = fo & 0xfff9;
			memcpy(key + 16, f + off + 4, 4);
			nh = f[off];
			off += 8;
		} else {
			nh = f[off];
			off += (f[off + 1] + 1u) * 8;
		}
	}
	if (nh_is_ext(nh) || off > end)
		return;
	memcpy(key, f + l3 + 8, 16);
	if (!frag)
		memset(key + 16, 0, 4);
	if (nh == 58 && !frag && end >= off + 8 + 40 && f[off] >= 1 && f[off] <= 4) {
		/* an error quoting a packet from ::2 (perhaps its first fragment) */
		q = off + 8;
		if (memcmp(f + q + 8, shr6, 16))
			return;
		if (len >= q + 42 && owned(be16(f + q + 40), f[q + 6]))
			v->may_stack = true;
		if (f[q + 6] == 44 && len >= q + 50 && owned(be16(f + q + 48), f[q + 40]))
			v->may_stack = true;
		return;
	}
	if (nh != 6 && nh != 17)
		return;
	if (frag && (fo & 0xfff8)) {
		i = frag6_find(key);
		v->may_stack = i >= 0 && frags6[i].owned;
		return;
	}
	need = nh == 6 ? 20 : 8;
	if (end < off + need || len < off + need)
		return; /* dropped */
	v->may_stack = owned(be16(f + off + 2), nh);
	if (!frag)
		return;
	i = frag6_find(key);
	if (i < 0 && n_frags6 < MAX_FRAGS) {
		memcpy(frags6[n_frags6].key, key, sizeof(key));
		frags6[n_frags6++].owned = v->may_stack;
	} else if (i >= 0) {
		frags6[i].owned = v->may_stack; /* the newest first fragment wins */
	}
}

static void ipv6_verdicts(const uint8_t *f, size_t len, size_t l3, struct verdicts *v)
{
	const uint8_t *dst = f + l3 + 24, *l4 = f + l3 + 40;
	static const uint8_t sn_prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	bool to_ded, to_group;

	if (len < l3 + 40)
		return;
	if (!memcmp(dst, shr6, 16)) {
		ipv6_shared_verdicts(f, len, l3, v);
		return;
	}
	to_ded = !memcmp(dst, ded6, 16);
	to_group = !memcmp(dst, sn_prefix, 13) && !memcmp(dst + 13, ded6 + 13, 3);
	v->may_stack = to_ded;
	if (f[l3 + 6] != 58 || len < l3 + 40 + 8)
		return;
	if (to_ded && l4[0] == 128) {
		v->may_tx = true;
		v->reply_to = 6;
	}
	if ((to_ded || to_group) && l4[0] == 135 && len >= l3 + 40 + 24 &&
	    !memcmp(l4 + 8, ded6, 16)) {
		v->may_tx = true;
		v->nd = true;
		v->reply_to = 6;
		if (len >= l3 + 40 + 32 && l4[24] == 1)
			v->slla = (size_t)(l4 + 26 - f);
	}
}

static void ipv4_verdicts(const uint8_t *f, size_t len, size_t l3, struct verdicts *v)
{
	uint32_t daddr, qsaddr;
	size_t ihl, l4, q, ql4, tot, need;
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
	/* what skiff_ipv4_hlen() accepts; anything else is dropped, not stored */
	tot = be16(f + l3 + 2);
	if ((f[l3] >> 4) != 4 || ihl < 20 || len < l4 || tot < ihl || tot > len - l3)
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
	/* skiff_port_owned(): the whole UDP header / minimal TCP header, or a drop */
	need = proto == 6 ? 20 : 8;
	if ((proto == 6 || proto == 17) && tot - ihl >= need && len >= l4 + need) {
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
	} else if (type == ETH_P_IPV6) {
		ipv6_verdicts(f, len, l3, &v);
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
		FZ_CHECK(!memcmp(out + 6, our_mac, 6));
		if (v.nd) {
			/* the NA: to the solicitor (its SLLA or frame source) or all-nodes */
			FZ_CHECK(!memcmp(out, in + 6, 6) || (v.slla && !memcmp(out, in + v.slla, 6)) ||
				 !memcmp(out, all_nodes_mac, 6));
			break;
		}
		FZ_CHECK(o.data_size_out == len);
		FZ_CHECK(!memcmp(out, in + v.reply_to, 6)); /* back to the requester */
		break;
	case XDP_DROP:
		break;
	default:
		FZ_CHECK(0); /* no socket in xsks: nothing can be redirected */
	}
}

/* Make the checksums the program checks right, where the frame has them. */
static void fix_checksums(uint8_t *f, size_t len)
{
	size_t l3 = 14, ihl, plen;
	uint16_t type = be16(f + 12), c;
	uint32_t s;

	if (type == ETH_P_8021Q && len >= 18) {
		type = be16(f + 16);
		l3 = 18;
	}
	if (type == ETH_P_IP && len >= l3 + 20) {
		ihl = (size_t)(f[l3] & 0xf) * 4;
		if (ihl < 20 || len < l3 + ihl)
			return;
		f[l3 + 10] = f[l3 + 11] = 0;
		c = t_fold(t_sum(f + l3, ihl, 0));
		f[l3 + 10] = (uint8_t)(c >> 8);
		f[l3 + 11] = (uint8_t)c;
		plen = be16(f + l3 + 2);
		if (f[l3 + 9] != 1 || plen < ihl + 4 || len < l3 + plen)
			return;
		f[l3 + ihl + 2] = f[l3 + ihl + 3] = 0;
		c = t_fold(t_sum(f + l3 + ihl, plen - ihl, 0));
		f[l3 + ihl + 2] = (uint8_t)(c >> 8);
		f[l3 + ihl + 3] = (uint8_t)c;
	} else if (type == ETH_P_IPV6 && len >= l3 + 40 + 4 && f[l3 + 6] == 58) {
		plen = be16(f + l3 + 4);
		if (plen < 4 || len < l3 + 40 + plen)
			return;
		f[l3 + 42] = f[l3 + 43] = 0;
		s = t_sum(f + l3 + 8, 32, 0) + (uint32_t)plen + 58;
		c = t_fold(t_sum(f + l3 + 40, plen, s));
		f[l3 + 42] = (uint8_t)(c >> 8);
		f[l3 + 43] = (uint8_t)c;
	}
}

/* Forget the fragments of this input on both sides. */
static void frags_reset(void)
{
	struct skiff_frag_key k, next;
	struct skiff_frag6_key k6, next6;

	while (!bpf_map_get_next_key(fx.frags, NULL, &next)) {
		k = next;
		FZ_CHECK(!bpf_map_delete_elem(fx.frags, &k));
	}
	while (!bpf_map_get_next_key(fx.frags6, NULL, &next6)) {
		k6 = next6;
		FZ_CHECK(!bpf_map_delete_elem(fx.frags6, &k6));
	}
	n_frags = 0;
	n_frags6 = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t frame[FRAME_MAX];
	size_t off = 0, len;

	bool fix;

	while (off + 2 <= size) {
		fix = data[off] & 0x80;
		len = (be16(data + off) & 0x7fff) % (FRAME_MAX + 1);
		off += 2;
		if (len > size - off)
			len = size - off;
		memcpy(frame, data + off, len);
		off += len;
		if (len < ETH_HLEN)
			continue; /* test runs need an Ethernet header */
		if (fix)
			fix_checksums(frame, len);
		run_one(frame, len);
	}
	frags_reset();
	return 0;
}
