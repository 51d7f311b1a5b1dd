// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The smallest XDP program: pass every frame to the kernel.  Tests and the
 * demo attach it to the *peer* veth, because a veth delivers XDP_TX and
 * AF_XDP-transmitted frames to its peer only when the peer has an XDP
 * program (it then receives them in NAPI; without one, GRO on the peer
 * turns them into xdp_tx_errors after the first 256; docs/ has the facts).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
