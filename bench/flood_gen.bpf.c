// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The packet-rate flood's generator (bench/flood.c): run by BPF_PROG_RUN
 * with BPF_F_TEST_XDP_LIVE_FRAMES on a crafted frame, it sends every
 * repetition out of the peer veth (bpf_redirect to out_ifindex, which
 * calls the veth's ndo_xdp_xmit: the frame arrives on the dut end as if
 * from a wire), with no socket, skb or qdisc on the way.
 *
 * Every repetition first writes the whole frame from the template tmpl
 * (flood.c fills it before loading): live frames are recycled pages whose
 * data is not restored between runs, and a dut that answers in place
 * (skiff's XDP_TX turns the echo request into the reply in the same page)
 * hands the page back as a reply, which the next run would send again.
 *
 * For a UDP frame (sport_count > 0) it then rewrites the UDP source port,
 * cycling through sport_base .. sport_base + sport_count - 1, so that a
 * hash over the 4-tuple (RSS, a flow table) sees many flows.  The UDP
 * checksum stays 0 ("none", RFC 768; allowed in IPv4), so the frame is
 * valid after the rewrite; the IPv4 header is untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flood.h"

const volatile __u32 out_ifindex; /* the peer veth, in the caller's namespace */
const volatile __u16 sport_base;  /* host order */
const volatile __u16 sport_count; /* 0: send the frame as it is */

const volatile __u32 tmpl_len; /* bytes of tmpl: the frame's length */
const volatile __u8 tmpl[FLOOD_FRAME_MAX];

__u32 cursor; /* next source port offset; one CPU runs the generator */

SEC("xdp")
int flood_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end;
	__u32 n = tmpl_len;

	if (n < sizeof(struct ethhdr) || n > FLOOD_FRAME_MAX ||
	    bpf_xdp_store_bytes(ctx, 0, (void *)tmpl, n))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (sport_count) {
		/* flood.c crafts Ethernet + 20-byte IPv4 header + UDP */
		struct udphdr *uh = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
		__u32 c = cursor;

		if ((void *)(uh + 1) > data_end)
			return XDP_ABORTED;
		uh->source = bpf_htons((__u16)(sport_base + c));
		uh->check = 0;
		cursor = c + 1 >= sport_count ? 0 : c + 1;
	}
	return bpf_redirect(out_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
