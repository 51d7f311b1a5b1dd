// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The packet-rate flood's reply counter (bench/flood.c attaches it, native
 * mode, to the peer veth in place of xdp_pass while a flood runs): ARP
 * replies, ICMP echo replies and UDP datagrams from the echo port are
 * counted by kind in the per-CPU array `replies` and dropped (XDP_DROP),
 * so the peer's kernel stack does not limit how many can be counted.
 * Everything else (the dut's own ARP requests, say) is counted as
 * FLOOD_OTHER and passed.  Being an XDP program it also gives the peer
 * veth NAPI, which the dut's XDP_TX replies need (docs/veth.md).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flood.h"

#define ARP_FIXED_LEN 8 /* htype, ptype, hlen, plen, op */
#define ARPOP_REPLY_N bpf_htons(2)
#define ICMP_ECHOREPLY_TYPE 0

const volatile __u16 echo_port = 7; /* host order */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOOD_NKINDS);
	__type(key, __u32);
	__type(value, __u64);
} replies SEC(".maps");

static __always_inline int count(__u32 kind, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&replies, &kind);

	if (n)
		*n += 1;
	return verdict;
}

static __always_inline int classify(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		__u16 *op = (void *)(eth + 1) + 6;

		if ((void *)(op + 1) > data_end)
			return -1;
		return *op == ARPOP_REPLY_N ? FLOOD_ARP_REPLY : -1;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return -1;
	l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_ICMP) {
		if (l4 + 1 > data_end)
			return -1;
		return *(__u8 *)l4 == ICMP_ECHOREPLY_TYPE ? FLOOD_ICMP_ECHOREPLY : -1;
	}
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		return uh->source == bpf_htons(echo_port) ? FLOOD_UDP_ECHO : -1;
	}
	return -1;
}

SEC("xdp")
int flood_count(struct xdp_md *ctx)
{
	int kind = classify((void *)(long)ctx->data, (void *)(long)ctx->data_end);

	if (kind < 0)
		return count(FLOOD_OTHER, XDP_PASS);
	return count((__u32)kind, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
