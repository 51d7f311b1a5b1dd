/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counting verdicts: every PASS counts its reason and to_kernel, every
 * DROP its reason.  The counters are one per-CPU struct skiff_xdp_stats
 * (no atomics needed); each is documented in docs/counters.md.
 */
#ifndef SKIFF_COUNTERS_BPF_H
#define SKIFF_COUNTERS_BPF_H

#include <linux/bpf.h>

#include <skiff/skiff.h>

#define skiff_inc(st, name) ((st)->name++)

/* XDP_PASS to the kernel, counted by reason. */
#define skiff_pass(st, reason) \
	({ \
		skiff_inc(st, reason); \
		skiff_inc(st, to_kernel); \
		XDP_PASS; \
	})

/* XDP_DROP, counted by reason. */
#define skiff_drop(st, reason) \
	({ \
		skiff_inc(st, reason); \
		XDP_DROP; \
	})

#endif /* SKIFF_COUNTERS_BPF_H */
