// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp_pass plus counting: every frame is passed to the kernel and counted,
 * frames and bytes, in the per-CPU array `count` (one entry; sum the CPUs).
 * Benchmarks attach it to the peer veth to count the replies skiff sends
 * back without the cost of the peer's kernel stack deciding anything.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct xdp_count {
	__u64 frames;
	__u64 bytes; /* whole frame, fragments of a multi-buffer frame included */
};

/* count: frames and bytes seen, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_count);
} count SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xdp_count *c = bpf_map_lookup_elem(&count, &zero);

	/* Verifier: a lookup may return NULL, even at index 0 of an array. */
	if (c) {
		c->frames++;
		c->bytes += bpf_xdp_get_buff_len(ctx);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
