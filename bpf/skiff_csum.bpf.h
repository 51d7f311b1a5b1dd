/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internet checksum helpers (RFC 1071) for the XDP program: folding, the
 * 20-byte IPv4 header, a whole message of any length up to
 * SKIFF_CSUM_MAX_LEN, and the RFC 1624 incremental update.  Sums are kept
 * in memory byte order throughout, which RFC 1071 2(B) allows.
 */
#ifndef SKIFF_CSUM_BPF_H
#define SKIFF_CSUM_BPF_H

#include <linux/bpf.h>
#include <skiff/proto/ipv4.h>
#include <bpf/bpf_helpers.h>

#include "skiff_consts.bpf.h"

static __always_inline __u16 skiff_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Unfolded sum of an option-less IPv4 header (caller checked ip + 1 <= data_end). */
static __always_inline __u32 skiff_ipv4_sum20(const struct ip_hdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += w[i];
	return sum;
}

/*
 * Unfolded sum of len bytes at offset off of the frame, or -1 if
 * len > SKIFF_CSUM_MAX_LEN or a helper failed.  The bytes are copied to
 * the stack chunk by chunk (bpf_xdp_load_bytes) and summed by
 * bpf_csum_diff, so the verifier never has to prove a variable-length
 * packet range, and a frame split in fragments would be read whole too.
 *
 * Verifier: the one function that is NOT static __always_inline.  Inlined,
 * its 36-iteration loop was walked again for every distinct path into it
 * and the program hit the 1M-instruction limit; a global function is
 * verified once, on its own, with only ctx and two scalars as input.
 * Include this header from one .bpf.c only.
 */
__noinline long skiff_csum_frame(struct xdp_md *ctx, __u32 off, __u32 len)
{
	__u8 buf[SKIFF_CSUM_CHUNK];
	/*
	 * Verifier: 64-bit counters.  With 32-bit ones clang (no alu32)
	 * bounds-checks a zero-extended copy and passes the unchecked register
	 * to the helper ("R4 min value is negative").
	 */
	__u64 full = len / SKIFF_CSUM_CHUNK; /* whole chunks */
	__u64 rest = len % SKIFF_CSUM_CHUNK;
	__u64 words = rest & ~3ull; /* bpf_csum_diff sums whole 32-bit words */
	__u64 tail = rest & 3ull;
	__s64 sum = 0;
	__u64 i;

	if (len > SKIFF_CSUM_MAX_LEN)
		return -1;

	/*
	 * Verifier: whole chunks of constant size, so that the only state that
	 * changes between iterations is i; a clamped variable size per
	 * iteration doubled the states at each turn (1M-instruction limit).
	 */
	for (i = 0; i < SKIFF_CSUM_MAX_CHUNKS; i++) {
		if (i >= full)
			break;
		if (bpf_xdp_load_bytes(ctx, off + i * SKIFF_CSUM_CHUNK, buf, SKIFF_CSUM_CHUNK))
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)buf, SKIFF_CSUM_CHUNK, sum);
		if (sum < 0)
			return -1;
	}
	off += full * SKIFF_CSUM_CHUNK;

	/* Verifier: a helper size must be provably >= 1 and <= sizeof(buf). */
	if (words >= 4 && words < SKIFF_CSUM_CHUNK) {
		if (bpf_xdp_load_bytes(ctx, off, buf, words))
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)buf, words, sum);
		if (sum < 0)
			return -1;
		off += words;
	}

	if (tail) {
		/* RFC 1071 4.1: an odd byte is summed padded with zero. */
		__u32 last = 0;

		if (bpf_xdp_load_bytes(ctx, off, &last, tail))
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&last, sizeof(last), sum);
		if (sum < 0)
			return -1;
	}
	return sum & 0xffffffff;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') after one 16-bit word m became m'. */
static __always_inline __u16 skiff_csum_replace2(__u16 check, __u16 old, __u16 repl)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u32)repl;

	return ~skiff_csum_fold(sum);
}

#endif /* SKIFF_CSUM_BPF_H */
