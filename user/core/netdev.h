/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The device-agnostic layer (Linux's net_device / net_device_ops): what the
 * protocols see of a NIC queue.  The AF_XDP driver (user/dev/xsk.c) and the
 * fake driver of the unit tests (tests/unit/fakedev.c) implement it.  One
 * struct netdev is one RX/TX queue pair served by one worker.
 */
#ifndef SKIFF_NETDEV_H
#define SKIFF_NETDEV_H

#include <stdint.h>

#include "core/pkb.h"

struct netdev;
struct skiff_ustats;

/*
 * Received frames start NET_IP_ALIGN bytes past a 4-byte boundary so the
 * IPv4 header after the 14-byte Ethernet header is 4-byte aligned (Linux's
 * NET_IP_ALIGN).  The AF_XDP driver asks for it as UMEM frame headroom;
 * fake drivers must do the same.
 */
#define NET_IP_ALIGN		2

/* Headroom every transmit pkb gets: room for Ethernet + VLAN + IPv4 + TCP with options. */
#define NETDEV_TX_HEADROOM	192

struct netdev_ops {
	/* Take up to max received packets; returns how many (>= 0). */
	int (*rx_burst)(struct netdev *dev, struct pkb **pkbs, int max);
	/* Queue pkb (data = Ethernet header) for transmit; owns pkb.  Returns 0,
	 * or -ENOBUFS when the ring is full (pkb freed, counted). */
	int (*xmit)(struct netdev *dev, struct pkb *pkb);
	/* Hand queued frames to the wire (one kick per burst), reap completions,
	 * refill the receive side. */
	void (*flush)(struct netdev *dev);
	/* fd to poll() for readability when idle, or -1. */
	int (*poll_fd)(struct netdev *dev);
};

struct netdev {
	char name[16];
	int ifindex;
	uint32_t queue_id;
	uint8_t mac[6];
	uint16_t vlan_id;		/* 0 = untagged */
	uint32_t mtu;			/* IP MTU (1500 on Ethernet) */
	const struct netdev_ops *ops;
	struct pkb_pool *pool;		/* transmit buffers (the UMEM for AF_XDP) */
	struct skiff_ustats *stats;	/* this queue's counters */
	void *priv;			/* driver state */
};

/* A fresh pkb for transmit on dev with NETDEV_TX_HEADROOM reserved, or NULL. */
struct pkb *netdev_alloc_pkb(struct netdev *dev);

/* A transmit buffer with room for len bytes after the headroom: a frame of
 * dev if it fits, else a buffer of big (reassembly-sized heap pool, may be
 * NULL); NULL when neither has room.  The driver copies a big buffer into a
 * frame if it must go out whole. */
struct pkb *netdev_alloc_pkb_len(struct netdev *dev, struct pkb_pool *big, uint32_t len);

/* Send pkb (data = Ethernet header) on pkb->dev; owns pkb. 0 or -errno. */
int dev_queue_xmit(struct pkb *pkb);

#endif /* SKIFF_NETDEV_H */
