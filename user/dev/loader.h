/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loading and attaching the XDP program (libxdp + the libbpf skeleton),
 * pinning its maps under the pin directory, and the map-backed
 * struct stack_hooks (owned ports with reference counts across workers,
 * the shared neighbour map).  Only user/dev/ touches libbpf/libxdp.
 */
#ifndef SKIFF_LOADER_H
#define SKIFF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <skiff/skiff.h>

#include "core/stack.h"

#define SKIFF_PIN_ROOT "/sys/fs/bpf/skiff"

enum skiff_xdp_mode {
	SKIFF_XDP_AUTO = 0,	/* native, else generic */
	SKIFF_XDP_NATIVE,
	SKIFF_XDP_GENERIC,
};

struct skiff_loader_opts {
	const char *ifname;
	const char *pin_dir;		/* NULL: SKIFF_PIN_ROOT/<ifname> */
	enum skiff_xdp_mode mode;
	uint16_t vlan_id;
	uint32_t n_queues;		/* rows of the ustats map in use */
	uint64_t failover_ns;		/* config.failover_ns: 0 = never fail open */
};

struct skiff_bpf;

/*
 * Open the skeleton, attach through libxdp (dispatcher where the kernel
 * allows it, a single program otherwise), pin every map, fill config with
 * the interface MAC.  On failure returns -errno and writes a one-line
 * reason to err (for a verifier rejection: the tail of the verifier log).
 */
int skiff_bpf_attach(const struct skiff_loader_opts *o, struct skiff_bpf **out, char *err,
		     size_t errlen);
/* Detach XDP, remove the pins (and the pin dir), close everything.  Call it
 * after the workers stopped: it unmaps the ustats rows they write. */
void skiff_bpf_detach(struct skiff_bpf *b);

int skiff_bpf_add_addr(struct skiff_bpf *b, uint32_t addr, uint8_t prefix_len, bool dedicated);

/* Every entry of the neigh6 map (XDP learns them from NDP) until fn returns nonzero. */
void skiff_bpf_neigh6_walk(struct skiff_bpf *b,
			   int (*fn)(void *arg, const uint8_t ip6[16], const uint8_t mac[6],
				     uint64_t updated_ns),
			   void *arg);

/* The same for an IPv6 address (addr: 16 bytes, network order). */
int skiff_bpf_add_addr6(struct skiff_bpf *b, const void *addr, uint8_t prefix_len, bool dedicated);
/* Put the AF_XDP socket fd of queue into the XSKMAP. */
int skiff_bpf_set_xsk(struct skiff_bpf *b, uint32_t queue, int xsk_fd);
/* Remove queue's socket from the XSKMAP (before closing it). */
int skiff_bpf_clear_xsk(struct skiff_bpf *b, uint32_t queue);
/* Start steering (SKIFF_CFG_ENABLED) once the sockets are in place. */
void skiff_bpf_enable(struct skiff_bpf *b);

/* This queue's row of the mmapped ustats map. */
struct skiff_ustats *skiff_bpf_ustats(struct skiff_bpf *b, uint32_t queue);

/*
 * The worker of queue is alive at now (clock_now()).  Called from its loop;
 * a plain store into the mmapped config, made only when the last one is
 * older than failover_ns / 8, so the line XDP reads is rarely dirtied.
 */
void skiff_bpf_beat(struct skiff_bpf *b, uint32_t queue, uint64_t now);

/* How long a worker may sleep between beats (ms); -1: no bound. */
int skiff_bpf_beat_interval_ms(const struct skiff_bpf *b);
/* Sum of the per-CPU XDP counters. */
int skiff_bpf_xdp_stats(struct skiff_bpf *b, struct skiff_xdp_stats *sum);
/* Map-backed hooks for a stack (thread-safe: port refcounts under a lock). */
void skiff_bpf_hooks(struct skiff_bpf *b, struct stack_hooks *hooks);

/* "native" or "generic"; "dispatcher" or "single program". */
const char *skiff_bpf_mode(const struct skiff_bpf *b);
const char *skiff_bpf_attach_kind(const struct skiff_bpf *b);
/* Why libxdp attached a single program instead of its dispatcher, when it
 * said so (e.g. "the kernel refused libxdp's dispatcher (freplace:
 * Operation not permitted)"), else "". */
const char *skiff_bpf_attach_note(const struct skiff_bpf *b);
const char *skiff_bpf_pin_dir(const struct skiff_bpf *b);
int skiff_bpf_ifindex(const struct skiff_bpf *b);
void skiff_bpf_mac(const struct skiff_bpf *b, uint8_t mac[6]);
/* The interface MTU (SIOCGIFMTU at attach time). */
uint32_t skiff_bpf_mtu(const struct skiff_bpf *b);
/* Attached in generic (SKB) mode: AF_XDP sockets cannot be zero-copy. */
bool skiff_bpf_generic(const struct skiff_bpf *b);
/* Kernel id of the attached program (what `xdp-loader status` lists). */
int skiff_bpf_prog_id(const struct skiff_bpf *b);

#endif /* SKIFF_LOADER_H */
