/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The AF_XDP driver: one struct netdev per RX queue over its own UMEM, with
 * fill/completion/RX/TX rings, frames accounted in a struct pkb_pool
 * (free + in the fill ring + in flight on TX + held by the stack = total),
 * batched RX and TX with one kick per burst, need_wakeup.
 */
#ifndef SKIFF_XSK_H
#define SKIFF_XSK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/netdev.h"

#define XSK_FRAME_SIZE		4096
/* Ring sizes (descriptors).  RX and fill are deep enough to hold a burst
 * from thousands of connections at once (their SYNs, or one small segment
 * each: 20,000 on a veth overflowed 8192 descriptors) while the worker is
 * busy; frames the kernel holds are in one or the other. */
#define XSK_RX_RING_SIZE	16384
#define XSK_FILL_RING_SIZE	16384
#define XSK_TX_RING_SIZE	2048
#define XSK_COMP_RING_SIZE	2048
/* Frames for the stack itself beyond the rings: a burst being processed,
 * replies being built, packets waiting for ARP, reassembly. */
#define XSK_STACK_FRAMES	1024
/* Default frames per queue: the fill and RX rings full, the TX ring full,
 * and the stack's share (35840 frames = 140 MiB of UMEM; skiffd takes fewer
 * when that is more than an eighth of memory). */
#define XSK_DEFAULT_FRAMES	(XSK_FILL_RING_SIZE + XSK_RX_RING_SIZE + XSK_TX_RING_SIZE + \
				 XSK_STACK_FRAMES)
#define XSK_MIN_FRAMES		256
#define XSK_MAX_FRAMES		(1u << 20)

struct xsk_netdev_opts {
	const char *ifname;
	int ifindex;
	uint32_t queue_id;
	uint32_t n_frames;		/* XSK_MIN_FRAMES..XSK_MAX_FRAMES; 0: XSK_DEFAULT_FRAMES */
	bool force_copy;		/* never try zero-copy */
	bool generic;			/* XDP attached in generic (SKB) mode */
	uint8_t mac[6];
	uint16_t vlan_id;
	uint32_t mtu;
	struct skiff_ustats *stats;
};

/* Create the UMEM and socket of one queue (zero-copy if the driver offers
 * it, copy otherwise).  -errno and a one-line reason in err on failure. */
int xsk_netdev_create(const struct xsk_netdev_opts *o, struct netdev **out, char *err,
		      size_t errlen);
void xsk_netdev_destroy(struct netdev *dev);

/* Frames kept in the kernel's hands (fill + RX rings) out of n_frames: up to
 * both rings' worth, leaving at least the TX ring and the stack's share
 * (or half the frames, if fewer) for transmit and processing. */
uint32_t xsk_fill_target(uint32_t n_frames);
int xsk_netdev_fd(struct netdev *dev);
bool xsk_netdev_zerocopy(const struct netdev *dev);
/*
 * Ask the kernel to busy-poll the socket's NAPI context for usecs when the
 * worker enters the kernel for it (poll, sendto), preferring that to
 * softirq processing (SO_PREFER_BUSY_POLL, SO_BUSY_POLL, and a budget of
 * one RX burst, SO_BUSY_POLL_BUDGET; kernel 5.11+).  Best effort: 0 when
 * all three took, else the -errno of the first refused.
 */
int xsk_netdev_set_busy_poll(struct netdev *dev, uint32_t usecs);

/* The socket's own counters as the kernel keeps them (struct
 * xdp_statistics of <linux/if_xdp.h>; docs/counters.md says what each
 * means).  Kernels before 5.9 report only the first three: n_fields says
 * how many leading fields the kernel filled, the others are 0. */
struct xsk_kernel_stats {
	uint64_t rx_dropped;		/* see docs/counters.md for all six */
	uint64_t rx_invalid_descs;
	uint64_t tx_invalid_descs;
	uint64_t rx_ring_full;
	uint64_t rx_fill_ring_empty_descs;
	uint64_t tx_ring_empty_descs;
	uint32_t n_fields;
};

#define XSK_KERNEL_STATS_FIELDS	6

/* Read dev's XSK counters (getsockopt XDP_STATISTICS): a syscall, for the
 * control path only, never per packet.  Touches nothing but the socket's
 * fd, so another thread may call it while the worker runs dev.  0 or
 * -errno. */
int xsk_netdev_kernel_stats(struct netdev *dev, struct xsk_kernel_stats *out);

#endif /* SKIFF_XSK_H */
