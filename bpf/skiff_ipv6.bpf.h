/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 in the XDP program: Neighbor Discovery (RFC 4861) and ICMPv6 echo
 * (RFC 4443) for skiff's dedicated IPv6 addresses, answered in place with
 * XDP_TX; everything else to a dedicated address goes to the daemon.  On
 * an IPv6 address shared with the kernel only what skiff owns is steered:
 * UDP/TCP to a port in ports6 (fragments follow their datagram's first
 * fragment, frags6) and ICMPv6 errors quoting such a flow; NDP, echo, MLD,
 * DHCPv6 and every port skiff does not own stay the kernel's.  Included by
 * skiff_xdp.bpf.c after the common steps (skiff_to_stack, the checksum
 * helpers).
 *
 * Only messages whose Next Header is ICMPv6 directly are answered here: a
 * Neighbor Solicitation never carries extension headers, and an echo
 * request with them goes to the daemon like any other packet.  The
 * steering of a shared address walks the extension headers (hop-by-hop,
 * routing, destination options, fragment; at most SKIFF_IP6_MAX_EXT) with
 * bpf_xdp_load_bytes(), so a header that lies past the linear part of the
 * frame is read like any other.
 */
#ifndef SKIFF_IPV6_BPF_H
#define SKIFF_IPV6_BPF_H


#include <skiff/proto/icmpv6.h>
#include <skiff/proto/ipv6.h>

#define SKIFF_IPV6_HLEN 40
/* extension headers walked on a shared address (the daemon's bound too) */
#define SKIFF_IP6_MAX_EXT 8
#define SKIFF_IP6_FRAG_OFFSET 0xfff8 /* host-order frag_off: offset << 3 */
#define SKIFF_IP6_FRAG_MORE 0x0001
/* An NA with one target link-layer address option: what XDP_TX sends. */
#define SKIFF_NA_LEN (sizeof(struct nd_msg) + sizeof(struct nd_opt_lladdr))

static __always_inline bool skiff_in6_multicast(const struct skiff_in6 *a)
{
	return (bpf_ntohl(a->a[0]) >> 24) == 0xff;
}

static __always_inline bool skiff_in6_unspecified(const struct skiff_in6 *a)
{
	return !(a->a[0] | a->a[1] | a->a[2] | a->a[3]);
}

/* a == b, 16 bytes each (a header's address: 2-byte aligned only) */
static __always_inline bool skiff_in6_equal(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* RFC 4291 2.7.1: is dst the solicited-node group of target (ff02::1:ffXX:XXXX)? */
static __always_inline bool skiff_in6_solicited_node(const struct skiff_in6 *dst,
						     const struct skiff_in6 *target)
{
	return dst->a[0] == bpf_htonl(0xff020000) && dst->a[1] == 0 &&
	       dst->a[2] == bpf_htonl(1) &&
	       dst->a[3] == (bpf_htonl(0xff000000) | (target->a[3] & bpf_htonl(0x00ffffff)));
}

/* Unfolded sum of the RFC 8200 8.1 pseudo-header for ICMPv6 of len bytes. */
static __always_inline __u64 skiff_ipv6_pseudo_sum(const struct ip6_hdr *ip6, __u32 len)
{
	const __u32 *w = (const __u32 *)&ip6->saddr;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++) /* source and destination addresses */
		sum += w[i];
	return sum + bpf_htonl(len) + bpf_htonl(SKIFF_IPPROTO_ICMPV6);
}

/* Is the ICMPv6 checksum of the len-byte message at l4_off right? */
static __always_inline bool skiff_icmp6_csum_ok(struct skiff_pkt *p, const struct ip6_hdr *ip6,
						__u32 l4_off, __u32 len)
{
	long sum = skiff_csum_frame(p->ctx, l4_off, len);

	return sum >= 0 && skiff_csum_fold((__u64)sum + skiff_ipv6_pseudo_sum(ip6, len)) == 0xffff;
}

/* RFC 4861 "merge" of an NS's source link-layer address: as for ARP; a
 * changed MAC bumps config.neigh_gen. */
static __always_inline void skiff_neigh6_learn(struct skiff_pkt *p, const struct skiff_in6 *ip,
					       const __u8 *mac)
{
	struct skiff_neigh *old = bpf_map_lookup_elem(&neigh6, ip);
	struct skiff_neigh n = {};
	bool changed = false;

	if (old) {
		if (old->state == SKIFF_NEIGH_STATIC)
			return;
		changed = !skiff_mac_equal(old->mac, mac);
	}
	__builtin_memcpy(n.mac, mac, ETH_ALEN);
	n.state = SKIFF_NEIGH_REACHABLE;
	n.updated_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&neigh6, ip, &n, BPF_ANY))
		return; /* full: the next NS retries */
	skiff_inc(p->st, nd_learn);
	/* the daemon's caches (ARP's and NDP's) re-read the maps, as for a
	 * changed IPv4 neighbour */
	if (changed)
		__sync_fetch_and_add(&p->cfg->neigh_gen, 1);
}

/*
 * An NS for a dedicated address (RFC 4861 7.1.1 validated here) becomes
 * the NA, in place (RFC 4861 7.2.4): to the solicitor, or to all-nodes
 * ff02::1 for a DAD probe (unspecified source); S set only for a unicast
 * reply, O set, our MAC as target link-layer address.  The frame is cut
 * or grown to exactly the NA.
 */
static __always_inline int skiff_nd_solicit(struct skiff_pkt *p, struct ip6_hdr *ip6,
					    __u32 plen, bool to_group)
{
	__u32 l3_off = p->l3_off, l4_off = l3_off + SKIFF_IPV6_HLEN, sum = 0, i;
	struct nd_msg *ns = (void *)(ip6 + 1);
	struct skiff_in6 src, target;
	struct nd_opt_lladdr *opt;
	__u8 dst_mac[ETH_ALEN];
	struct skiff_addr *addr;
	bool dad, have_slla = false;
	void *data, *data_end;
	struct eth_hdr *eth;
	__u16 *w;
	long delta;

	if ((void *)(ns + 1) > p->data_end)
		return skiff_drop(p->st, drop_nd_invalid);
	__builtin_memcpy(&target, ns->target, sizeof(target));
	__builtin_memcpy(&src, &ip6->saddr, sizeof(src));
	addr = bpf_map_lookup_elem(&addrs6, &target);
	if (!addr)
		return skiff_pass(p->st, pass_not_ours);
	if (!(addr->flags & SKIFF_ADDR_DEDICATED))
		return skiff_pass(p->st, pass_ip6_shared); /* the kernel answers */
	if (ip6->hop_limit != SKIFF_ND_HOP_LIMIT || ns->hdr.code != 0 || plen < sizeof(*ns) ||
	    skiff_in6_multicast(&target))
		return skiff_drop(p->st, drop_nd_invalid);
	dad = skiff_in6_unspecified(&src);
	/* RFC 4861 7.1.1: a DAD probe goes to the solicited-node group */
	if (dad && !(to_group && skiff_in6_solicited_node((void *)&ip6->daddr, &target)))
		return skiff_drop(p->st, drop_nd_invalid);
	if (!skiff_icmp6_csum_ok(p, ip6, l4_off, plen))
		return skiff_drop(p->st, drop_icmp6_csum);

	/* The first option, if it is the source link-layer address. */
	opt = (void *)(ns + 1);
	if (plen >= sizeof(*ns) + sizeof(*opt) && (void *)(opt + 1) <= p->data_end &&
	    opt->type == SKIFF_ND_OPT_SOURCE_LLADDR) {
		if (opt->len != 1 || dad)
			return skiff_drop(p->st, drop_nd_invalid); /* 7.1.1 */
		have_slla = true;
	}
	if (dad) {
		/* all-nodes: 33:33:00:00:00:01 (RFC 2464 7) */
		dst_mac[0] = 0x33;
		dst_mac[1] = 0x33;
		dst_mac[2] = 0;
		dst_mac[3] = 0;
		dst_mac[4] = 0;
		dst_mac[5] = 1;
	} else if (have_slla) {
		__builtin_memcpy(dst_mac, opt->mac, ETH_ALEN);
		if (!skiff_mac_multicast(opt->mac))
			skiff_neigh6_learn(p, &src, opt->mac);
	} else {
		__builtin_memcpy(dst_mac, p->eth->h_source, ETH_ALEN);
	}

	/* The reply is l4_off + SKIFF_NA_LEN bytes long. */
	delta = (long)(l4_off + SKIFF_NA_LEN) - (long)(p->data_end - p->data);
	if (delta && bpf_xdp_adjust_tail(p->ctx, (int)delta))
		return skiff_drop(p->st, drop_nd_invalid);
	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	/* Verifier: l3_off is 14 or 18 (skiff_parse_eth); say so again. */
	if (l3_off > ETH_HLEN + SKIFF_VLAN_HLEN)
		return XDP_DROP;
	if (data + l3_off + SKIFF_IPV6_HLEN + SKIFF_NA_LEN > data_end)
		return XDP_DROP;
	eth = data;
	/* Verifier: a bound through l3_off says nothing of data itself. */
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	ip6 = data + l3_off;
	ns = (void *)(ip6 + 1);
	opt = (void *)(ns + 1);

	__builtin_memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, p->cfg->mac, ETH_ALEN);
	/* version 6, traffic class and flow label 0 */
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->plen = bpf_htons(SKIFF_NA_LEN);
	ip6->nexthdr = SKIFF_IPPROTO_ICMPV6;
	ip6->hop_limit = SKIFF_ND_HOP_LIMIT;
	__builtin_memcpy(&ip6->saddr, &target, sizeof(target));
	if (dad) {
		__builtin_memset(&ip6->daddr, 0, sizeof(ip6->daddr));
		ip6->daddr[0] = 0xff;
		ip6->daddr[1] = 0x02;
		ip6->daddr[15] = 1;
	} else {
		__builtin_memcpy(&ip6->daddr, &src, sizeof(src));
	}
	ns->hdr.type = SKIFF_ND_NEIGHBOR_ADVERT;
	ns->hdr.code = 0;
	ns->hdr.checksum = 0;
	ns->hdr.data = bpf_htonl(SKIFF_ND_NA_OVERRIDE | (dad ? 0 : SKIFF_ND_NA_SOLICITED));
	/* ns->target stays: it is the NA's target too */
	opt->type = SKIFF_ND_OPT_TARGET_LLADDR;
	opt->len = 1;
	__builtin_memcpy(opt->mac, p->cfg->mac, ETH_ALEN);

	/* RFC 4443 2.3 over the pseudo-header and the 32-byte NA (constant size) */
	w = (__u16 *)ns;
#pragma unroll
	for (i = 0; i < SKIFF_NA_LEN / 2; i++)
		sum += w[i];
	ns->hdr.checksum = ~skiff_csum_fold(sum + skiff_ipv6_pseudo_sum(ip6, SKIFF_NA_LEN));
	skiff_inc(p->st, nd_na_reply);
	return XDP_TX;
}

/* An echo request to a dedicated address, answered in place (RFC 4443 4.2). */
static __always_inline int skiff_icmp6_echo(struct skiff_pkt *p, struct ip6_hdr *ip6, __u32 plen)
{
	struct icmp6_hdr *icmp = (void *)(ip6 + 1);
	__u32 l4_off = p->l3_off + SKIFF_IPV6_HLEN;
	struct skiff_in6 tmp;
	__u16 old;

	if ((void *)(icmp + 1) > p->data_end || plen < sizeof(*icmp))
		return SKIFF_CONTINUE; /* the daemon judges it */
	if (icmp->type != SKIFF_ICMPV6_ECHO_REQUEST || icmp->code != 0)
		return SKIFF_CONTINUE;
	__builtin_memcpy(&tmp, &ip6->saddr, sizeof(tmp));
	if (skiff_in6_multicast(&tmp) || skiff_in6_unspecified(&tmp))
		return SKIFF_CONTINUE; /* never answered: the daemon drops it */
	if (plen > SKIFF_CSUM_MAX_LEN)
		return SKIFF_CONTINUE;
	if (!skiff_icmp6_csum_ok(p, ip6, l4_off, plen))
		return skiff_drop(p->st, drop_icmp6_csum);

	__builtin_memcpy(p->eth->h_dest, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->cfg->mac, ETH_ALEN);
	__builtin_memcpy(&ip6->saddr, &ip6->daddr, sizeof(tmp));
	__builtin_memcpy(&ip6->daddr, &tmp, sizeof(tmp));
	ip6->hop_limit = SKIFF_ECHO_TTL;
	/* the pseudo-header's sum does not change when the addresses swap */
	old = *(__u16 *)icmp;
	icmp->type = SKIFF_ICMPV6_ECHO_REPLY;
	icmp->checksum = skiff_csum_replace2(icmp->checksum, old, *(__u16 *)icmp);
	skiff_inc(p->st, icmp6_echo_reply);
	return XDP_TX;
}

/* ---- shared IPv6 addresses: steer what skiff owns ---- */

/* Where the upper layer of an IPv6 packet starts, past its extension headers. */
struct skiff_ip6_chain {
	__u32 l4_off;	  /* from data */
	__u32 l4_len;	  /* payload bytes from there (by the payload length) */
	__u16 frag_off;	  /* host order: offset << 3 | M; 0 when not a fragment */
	__u8 nh;	  /* the upper-layer protocol */
	bool frag;	  /* a fragment header with an offset or M set */
	__be32 frag_id;
};

static __always_inline bool skiff_nh_is_ext(__u8 nh)
{
	return nh == SKIFF_NH_HOPOPTS || nh == SKIFF_NH_ROUTING || nh == SKIFF_NH_DSTOPTS ||
	       nh == SKIFF_NH_FRAGMENT;
}

/*
 * RFC 8200 4: walk the extension headers (each at least 8 bytes long).  A
 * chain longer than SKIFF_IP6_MAX_EXT is the kernel's (pass_ip6_ext); one
 * cut short by the frame, pass_truncated; one running past the payload
 * length, drop_ip6_malformed.  AH, ESP and unknown headers end the walk:
 * their next header is not UDP/TCP, so the packet is the kernel's.
 */
static __always_inline int skiff_ipv6_walk(struct skiff_pkt *p, const struct ip6_hdr *ip6,
					   __u32 plen, struct skiff_ip6_chain *c)
{
	__u32 start = p->l3_off + SKIFF_IPV6_HLEN, off = start;
	__u8 nh = ip6->nexthdr, h[8];
	int i;

	c->frag = false;
	c->frag_off = 0;
	c->frag_id = 0;
#pragma unroll
	for (i = 0; i < SKIFF_IP6_MAX_EXT; i++) {
		if (!skiff_nh_is_ext(nh))
			break;
		if (off + sizeof(h) - start > plen)
			return skiff_drop(p->st, drop_ip6_malformed);
		if (bpf_xdp_load_bytes(p->ctx, off, h, sizeof(h)))
			return skiff_pass(p->st, pass_truncated);
		if (nh == SKIFF_NH_FRAGMENT) {
			c->frag_off = (__u16)(h[2] << 8 | h[3]);
			/* RFC 6946: an atomic fragment is a whole packet */
			c->frag = c->frag_off & (SKIFF_IP6_FRAG_OFFSET | SKIFF_IP6_FRAG_MORE);
			__builtin_memcpy(&c->frag_id, h + 4, 4);
			off += sizeof(h);
		} else {
			off += (h[1] + 1u) * 8;
		}
		nh = h[0];
	}
	if (skiff_nh_is_ext(nh))
		return skiff_pass(p->st, pass_ip6_ext);
	if (off - start > plen)
		return skiff_drop(p->st, drop_ip6_malformed);
	c->l4_off = off;
	c->l4_len = plen - (off - start);
	c->nh = nh;
	return SKIFF_CONTINUE;
}

/* Is (addr, port, proto) in ports6, for addr itself or for every address? */
static __always_inline bool skiff_port6_lookup(const void *addr, __be16 port, __u8 proto)
{
	struct skiff_port6_key key = { .port = port, .proto = proto };

	__builtin_memcpy(&key.addr, addr, sizeof(key.addr));
	if (bpf_map_lookup_elem(&ports6, &key))
		return true;
	__builtin_memset(&key.addr, 0, sizeof(key.addr)); /* bound to every address */
	return bpf_map_lookup_elem(&ports6, &key) != NULL;
}

/*
 * An ICMPv6 error (RFC 4443 3: destination unreachable, packet too big,
 * time exceeded, parameter problem) to a shared address, not fragmented:
 * the quoted packet is one we sent, so its SOURCE address and port decide,
 * as skiff_icmp_error_shared() does for IPv4.  The quote is the IPv6
 * header, at most a first fragment's header, and 8 transport bytes;
 * anything else quoted (other extension headers) is left to the kernel.
 * SKIFF_CONTINUE: not an error message.
 */
static __always_inline int skiff_icmp6_error_shared(struct skiff_pkt *p,
						    const struct ip6_hdr *ip6,
						    const struct skiff_ip6_chain *c)
{
	__u32 qoff = c->l4_off + sizeof(struct icmp6_hdr), qlen;
	struct icmp6_hdr h;
	struct ip6_hdr q;
	__u8 qnh, l4[8];

	if (c->l4_len < sizeof(h) || bpf_xdp_load_bytes(p->ctx, c->l4_off, &h, sizeof(h)))
		return SKIFF_CONTINUE; /* the kernel judges it */
	if (h.type < SKIFF_ICMPV6_DEST_UNREACH || h.type > SKIFF_ICMPV6_PARAMPROB)
		return SKIFF_CONTINUE;
	qlen = c->l4_len - sizeof(h);
	if (qlen < sizeof(q) || bpf_xdp_load_bytes(p->ctx, qoff, &q, sizeof(q)) || ip6_version(&q) != 6)
		return skiff_pass(p->st, pass_icmp6_quote);
	qnh = q.nexthdr;
	qoff += sizeof(q);
	qlen -= sizeof(q);
	if (qnh == SKIFF_NH_FRAGMENT) {
		/* a fragment of ours: only the first one carries the ports */
		if (qlen < sizeof(l4) || bpf_xdp_load_bytes(p->ctx, qoff, l4, sizeof(l4)) ||
		    ((l4[2] << 8 | l4[3]) & SKIFF_IP6_FRAG_OFFSET))
			return skiff_pass(p->st, pass_icmp6_quote);
		qnh = l4[0];
		qoff += sizeof(l4);
		qlen -= sizeof(l4);
	}
	if (skiff_nh_is_ext(qnh))
		return skiff_pass(p->st, pass_icmp6_quote);
	if (qnh != IPPROTO_UDP && qnh != IPPROTO_TCP)
		return skiff_pass(p->st, pass_icmp6_err);
	/* an error goes to the offending packet's source (RFC 4443 2.2) */
	if (!skiff_in6_equal(q.saddr, ip6->daddr))
		return skiff_pass(p->st, pass_icmp6_err);
	/* RFC 4443 2.4 c: as much as fits, so at least both ports */
	if (qlen < sizeof(l4) || bpf_xdp_load_bytes(p->ctx, qoff, l4, sizeof(l4)))
		return skiff_pass(p->st, pass_icmp6_quote);
	if (!skiff_port6_lookup(&q.saddr, *(__be16 *)l4, qnh))
		return skiff_pass(p->st, pass_icmp6_err);
	if (skiff_to_stack(p) != XDP_REDIRECT)
		return XDP_PASS; /* counted no_xsk */
	skiff_inc(p->st, icmp6_err_to_stack);
	return XDP_REDIRECT;
}

/*
 * A shared IPv6 address: UDP/TCP to an owned port goes to the XSK, as for
 * IPv4 (skiff_ipv4_shared); a first fragment's verdict is kept in frags6
 * and followed by the datagram's later fragments.  The transport header
 * must be whole (RFC 1858 3's tiny fragments; RFC 7112 asks the first
 * fragment to hold it): drop_l4_truncated.
 */
static __always_inline int __skiff_ipv6_shared(struct skiff_pkt *p, struct ip6_hdr *ip6,
					       __u32 plen)
{
	struct skiff_frag6_key fkey = {};
	struct skiff_frag_val fval = {};
	struct skiff_ip6_chain c;
	struct skiff_frag_val *seen;
	__u8 l4[SKIFF_TCP_MIN_HLEN];
	__be16 dport;
	bool owned;
	void *l4p;
	int ret;

	ret = skiff_ipv6_walk(p, ip6, plen, &c);
	if (ret != SKIFF_CONTINUE)
		return ret;
	if (c.nh == SKIFF_IPPROTO_ICMPV6 && !c.frag) {
		ret = skiff_icmp6_error_shared(p, ip6, &c);
		if (ret != SKIFF_CONTINUE)
			return ret;
	}
	if (c.nh != IPPROTO_UDP && c.nh != IPPROTO_TCP)
		return skiff_pass(p->st, pass_ip6_shared);

	if (c.frag) {
		__builtin_memcpy(&fkey.saddr, &ip6->saddr, sizeof(fkey.saddr));
		__builtin_memcpy(&fkey.daddr, &ip6->daddr, sizeof(fkey.daddr));
		fkey.id = c.frag_id;
	}
	if (c.frag && (c.frag_off & SKIFF_IP6_FRAG_OFFSET)) {
		/* a later fragment carries no ports: follow the first one */
		seen = bpf_map_lookup_elem(&frags6, &fkey);
		if (!seen)
			return skiff_pass(p->st, pass_frag6_unknown);
		skiff_inc(p->st, frag6_follow);
		return seen->to_stack ? skiff_to_stack(p) : skiff_pass(p->st, pass_port6);
	}

	l4p = ip6 + 1;
	if (c.l4_len < (c.nh == IPPROTO_TCP ? SKIFF_TCP_MIN_HLEN : sizeof(struct udp_hdr)))
		return skiff_drop(p->st, drop_l4_truncated);
	if (c.l4_off == p->l3_off + SKIFF_IPV6_HLEN && l4p + SKIFF_TCP_MIN_HLEN <= p->data_end) {
		/* the common case, no extension header: read in place */
		dport = ((struct udp_hdr *)l4p)->dest; /* same place in TCP */
	} else {
		/* Verifier: the helper's size must be a constant, hence two calls. */
		if (c.nh == IPPROTO_TCP ? bpf_xdp_load_bytes(p->ctx, c.l4_off, l4,
							      SKIFF_TCP_MIN_HLEN)
					: bpf_xdp_load_bytes(p->ctx, c.l4_off, l4,
							      sizeof(struct udp_hdr)))
			return skiff_drop(p->st, drop_l4_truncated);
		dport = *(__be16 *)(l4 + 2);
	}
	owned = skiff_port6_lookup(&ip6->daddr, dport, c.nh);
	if (c.frag) {
		fval.to_stack = owned;
		/* LRU: never fails for lack of room, evicts the oldest datagram */
		bpf_map_update_elem(&frags6, &fkey, &fval, BPF_ANY);
		skiff_inc(p->st, frag6_first);
	}
	return owned ? skiff_to_stack(p) : skiff_pass(p->st, pass_port6);
}

/*
 * Verifier: a function of its own (a BPF-to-BPF call) with scalar and map
 * value arguments, so its keys and copied headers (~200 bytes) are not on
 * the main program's stack, which the checksum's global function
 * (skiff_csum_frame, 256-byte chunk) leaves little room to grow.  Passing
 * &p instead would pin struct skiff_pkt to the main stack too.
 */
static __noinline int skiff_ipv6_shared(struct xdp_md *ctx, struct skiff_config *cfg,
					struct skiff_xdp_stats *st, __u32 l3_off, __u32 plen)
{
	struct skiff_pkt p = {
		.ctx = ctx,
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.l3_off = l3_off,
		.cfg = cfg,
		.st = st,
	};
	struct ip6_hdr *ip6;

	/* Verifier: l3_off is 14 or 18 (skiff_parse_eth); say so again. */
	if (!cfg || !st || l3_off > ETH_HLEN + SKIFF_VLAN_HLEN)
		return XDP_PASS;
	ip6 = p.data + l3_off;
	if ((void *)(ip6 + 1) > p.data_end)
		return XDP_PASS;
	p.eth = p.data;
	p.l3 = ip6;
	return __skiff_ipv6_shared(&p, ip6, plen);
}

static __always_inline int skiff_handle_ipv6(struct skiff_pkt *p)
{
	struct ip6_hdr *ip6 = p->l3;
	struct skiff_addr *addr;
	struct nd_msg *ns;
	struct skiff_in6 dst;
	__u32 plen;
	int ret;

	if ((void *)(ip6 + 1) > p->data_end)
		return skiff_pass(p->st, pass_truncated);
	__builtin_memcpy(&dst, &ip6->daddr, sizeof(dst));
	plen = bpf_ntohs(ip6->plen);
	ns = (void *)(ip6 + 1);

	addr = bpf_map_lookup_elem(&addrs6, &dst);
	if (!addr) {
		/* An NS to the solicited-node group of one of our addresses. */
		if (ip6->nexthdr == SKIFF_IPPROTO_ICMPV6 && (void *)(ns + 1) <= p->data_end &&
		    ns->hdr.type == SKIFF_ND_NEIGHBOR_SOLICIT &&
		    skiff_in6_solicited_node(&dst, (void *)ns->target) && ip6_version(ip6) == 6 &&
		    plen + SKIFF_IPV6_HLEN <= p->l3_len)
			return skiff_nd_solicit(p, ip6, plen, true);
		return skiff_pass(p->st, pass_not_ours);
	}
	/* RFC 8200 3: version 6; the payload inside the frame (padding may follow) */
	if (ip6_version(ip6) != 6 || plen + SKIFF_IPV6_HLEN > p->l3_len)
		return skiff_drop(p->st, drop_ip6_malformed);
	if (!(addr->flags & SKIFF_ADDR_DEDICATED))
		return skiff_ipv6_shared(p->ctx, p->cfg, p->st, p->l3_off, plen);
	if (ip6->nexthdr == SKIFF_IPPROTO_ICMPV6) {
		if ((void *)(ns + 1) <= p->data_end && ns->hdr.type == SKIFF_ND_NEIGHBOR_SOLICIT)
			return skiff_nd_solicit(p, ip6, plen, false);
		ret = skiff_icmp6_echo(p, ip6, plen);
		if (ret != SKIFF_CONTINUE)
			return ret;
	}
	return skiff_to_stack(p);
}

#endif /* SKIFF_IPV6_BPF_H */
