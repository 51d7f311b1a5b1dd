// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The AF_XDP driver: one struct netdev per RX queue, each with its own UMEM
 * (an mmapped area of n_frames frames of XSK_FRAME_SIZE bytes), fill,
 * completion, RX and TX rings, and a struct pkb_pool over the UMEM, so a
 * received frame is a pkb without a copy and a reply is built in place.
 *
 * Frame accounting: every frame is in exactly one place, and the ustats
 * gauges show where:
 *   frames_free  on the pool's free stack
 *   frames_fill  given to the kernel through the fill ring, not yet received
 *   frames_tx    on the TX ring (reserved or submitted), not yet completed
 *   the rest     held by the stack (received or being built)
 * A frame's index is its UMEM address / XSK_FRAME_SIZE, so RX, TX and
 * completion descriptors need nothing remembered beside them.
 *
 * The kernel is given up to xsk_fill_target() frames (the fill and RX
 * rings' worth by default), the rest stay for transmit and the stack, so
 * transmit always finds frames.  The fill ring is topped up as soon as a
 * burst is taken off the RX ring, before the stack processes it, so a burst
 * of small packets (SYNs) never finds it empty while the worker is busy.  Transmit reserves one TX descriptor per packet and publishes them
 * all in flush(), with one kick (sendto) only when the kernel asks for it
 * (need_wakeup); the kernel's copy-mode transmit takes at most a small batch
 * per kick and answers EAGAIN when more is left, so flush kicks again then.
 * No allocation, syscall (beyond the kicks) or logging per packet.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_xdp.h>

#include <xdp/xsk.h>

#include <skiff/skiff.h>

#include "dev/xsk.h"

/* copy-mode transmit handles this many descriptors per sendto (TX_BATCH_SIZE) */
#define XSK_KERNEL_TX_BATCH	32

struct xsk_dev {
	struct netdev dev;
	struct pkb_pool pool;		/* over the UMEM area */
	uint8_t *area;
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint32_t fill_max;		/* frames kept in the fill ring at most */
	uint32_t in_fill;		/* frames the kernel holds for RX */
	uint32_t in_tx;			/* frames on the TX ring, not completed */
	uint32_t tx_unsent;		/* reserved TX descriptors not yet submitted */
	bool zerocopy;
	struct skiff_ustats own_stats;	/* when the caller gives none */
};

static inline struct xsk_dev *to_xsk(struct netdev *dev)
{
	return dev->priv;
}

static void xsk_update_gauges(struct xsk_dev *x)
{
	struct skiff_ustats *s = x->dev.stats;

	s->frames_total = x->pool.n;
	s->frames_free = x->pool.n_free;
	s->frames_fill = x->in_fill;
	s->frames_tx = x->in_tx;
}

/* Top the fill ring up to fill_max from the free frames. */
static void xsk_refill(struct xsk_dev *x)
{
	uint32_t want, n, i, idx = 0;

	if (x->in_fill >= x->fill_max)
		return;
	want = x->fill_max - x->in_fill;
	if (want > x->pool.n_free) {
		if (!x->pool.n_free) {
			x->dev.stats->fill_empty++;
			return;
		}
		want = x->pool.n_free;
	}
	n = xsk_prod_nb_free(&x->fill, want);
	if (n > want)
		n = want;
	if (!n || xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		return;
	for (i = 0; i < n; i++) {
		uint32_t index = pkb_pool_alloc_index(&x->pool);

		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)index * XSK_FRAME_SIZE;
	}
	xsk_ring_prod__submit(&x->fill, n);
	x->in_fill += n;
}

/* Give transmitted frames back to the pool. */
static void xsk_reap(struct xsk_dev *x)
{
	uint32_t n, i, idx = 0;

	n = xsk_ring_cons__peek(&x->comp, XSK_COMP_RING_SIZE, &idx);
	if (!n)
		return;
	for (i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&x->comp, idx + i);

		pkb_pool_put(&x->pool, (uint32_t)(addr / XSK_FRAME_SIZE));
	}
	xsk_ring_cons__release(&x->comp, n);
	x->in_tx -= n;
}

uint32_t xsk_fill_target(uint32_t n_frames)
{
	uint32_t keep = XSK_TX_RING_SIZE + XSK_STACK_FRAMES, give;

	if (keep > n_frames / 2)
		keep = n_frames / 2;
	give = n_frames - keep;
	return give < XSK_FILL_RING_SIZE + XSK_RX_RING_SIZE ? give
							      : XSK_FILL_RING_SIZE + XSK_RX_RING_SIZE;
}

static int xsk_rx_burst(struct netdev *dev, struct pkb **pkbs, int max)
{
	struct xsk_dev *x = to_xsk(dev);
	uint32_t n, i, idx = 0;
	uint64_t bytes = 0;

	if (max <= 0)
		return 0;
	n = xsk_ring_cons__peek(&x->rx, (uint32_t)max, &idx);
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		struct pkb *pkb;

		pkb = pkb_pool_desc(&x->pool, (uint32_t)(d->addr / XSK_FRAME_SIZE),
				    (uint32_t)(d->addr % XSK_FRAME_SIZE));
		pkb->tail = pkb->data + d->len;
		pkb->dev = dev;
		pkbs[i] = pkb;
		bytes += d->len;
	}
	xsk_ring_cons__release(&x->rx, n);
	x->in_fill -= n;
	/* the kernel gets frames back before the burst is processed */
	xsk_refill(x);
	dev->stats->rx_packets += n;
	dev->stats->rx_bytes += bytes;
	dev->stats->rx_bursts++;
	return (int)n;
}

static int xsk_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct xsk_dev *x = to_xsk(dev);
	struct xdp_desc *d;
	uint32_t idx = 0, len;

	if (pkb->pool != &x->pool) {
		/* a heap buffer (reassembly, big pool): the wire needs a UMEM frame */
		struct pkb *copy;

		if (pkb_len(pkb) > XSK_FRAME_SIZE) {
			pkb_free(pkb);
			dev->stats->tx_invalid++;
			return -EMSGSIZE;
		}
		copy = pkb_copy(&x->pool, pkb);

		pkb_free(pkb);
		if (!copy) {
			dev->stats->tx_ring_full++;
			return -ENOBUFS;
		}
		dev->stats->tx_copied++;
		pkb = copy;
	}

	/* the kernel skips an invalid descriptor without completing it, which
	 * would lose the frame: never hand it one */
	len = pkb_len(pkb);
	if (len < 14 || pkb->data < pkb->head || pkb->tail > pkb->end) {
		pkb_free(pkb);
		dev->stats->tx_invalid++;
		return -EINVAL;
	}
	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		xsk_reap(x);
		if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
			pkb_free(pkb);
			dev->stats->tx_ring_full++;
			return -ENOBUFS;
		}
	}
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = (uint64_t)(pkb->data - x->area);
	d->len = len;
	d->options = 0;
	x->tx_unsent++;
	x->in_tx++;
	dev->stats->tx_packets++;
	dev->stats->tx_bytes += len;
	return 0;
}

/* Ask the kernel to transmit what is on the TX ring. */
static void xsk_kick_tx(struct xsk_dev *x)
{
	uint32_t tries = x->in_tx / XSK_KERNEL_TX_BATCH + 1;

	while (tries--) {
		x->dev.stats->tx_kicks++;
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		/* EAGAIN: the kernel stopped after one batch and more is left
		 * (or the completion ring is full: reap and go on) */
		if (errno != EAGAIN)
			return;	/* EBUSY, ENOBUFS, ENETDOWN: next flush retries */
		xsk_reap(x);
		if (!x->in_tx)
			return;
	}
}

static void xsk_flush(struct netdev *dev)
{
	struct xsk_dev *x = to_xsk(dev);

	if (x->tx_unsent) {
		xsk_ring_prod__submit(&x->tx, x->tx_unsent);
		x->tx_unsent = 0;
	}
	if (x->in_tx && xsk_ring_prod__needs_wakeup(&x->tx))
		xsk_kick_tx(x);
	xsk_reap(x);
	xsk_refill(x);
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	xsk_update_gauges(x);
}

static int xsk_poll_fd(struct netdev *dev)
{
	return xsk_socket__fd(to_xsk(dev)->xsk);
}

static const struct netdev_ops xsk_netdev_ops = {
	.rx_burst = xsk_rx_burst,
	.xmit = xsk_xmit,
	.flush = xsk_flush,
	.poll_fd = xsk_poll_fd,
};

static int xsk_umem_setup(struct xsk_dev *x)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = XSK_FILL_RING_SIZE,
		.comp_size = XSK_COMP_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = NET_IP_ALIGN,	/* IPv4 header 4-byte aligned */
		.flags = 0,
	};

	return xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &ucfg);
}

static int xsk_socket_setup(struct xsk_dev *x, const struct xsk_netdev_opts *o, uint16_t mode)
{
	const struct xsk_socket_config scfg = {
		.rx_size = XSK_RX_RING_SIZE,
		.tx_size = XSK_TX_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_USE_NEED_WAKEUP | mode,
	};

	return xsk_socket__create(&x->xsk, o->ifname, o->queue_id, x->umem, &x->rx, &x->tx, &scfg);
}

int xsk_netdev_create(const struct xsk_netdev_opts *o, struct netdev **out, char *err,
		      size_t errlen)
{
	uint32_t n = o->n_frames ? o->n_frames : XSK_DEFAULT_FRAMES;
	long page = sysconf(_SC_PAGESIZE);
	struct xsk_dev *x;
	int ret, zc_err = 0;

	*out = NULL;
	if (n < XSK_MIN_FRAMES || n > XSK_MAX_FRAMES) {
		snprintf(err, errlen, "queue %u: bad frame count %u (%u to %u)", o->queue_id, n,
			 XSK_MIN_FRAMES, XSK_MAX_FRAMES);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	x->area_len = (size_t)n * XSK_FRAME_SIZE;
	x->area_len = (x->area_len + (size_t)page - 1) & ~((size_t)page - 1);
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (x->area == MAP_FAILED) {
		ret = -errno;
		x->area = NULL;
		snprintf(err, errlen, "queue %u: cannot map a UMEM of %zu bytes: %s", o->queue_id,
			 x->area_len, strerror(-ret));
		goto err_free;
	}
	ret = pkb_pool_init(&x->pool, x->area, n, XSK_FRAME_SIZE, NETDEV_TX_HEADROOM, "umem");
	if (ret) {
		snprintf(err, errlen, "queue %u: frame pool: %s", o->queue_id, strerror(-ret));
		goto err_unmap;
	}

	ret = xsk_umem_setup(x);
	if (ret) {
		snprintf(err, errlen, "queue %u: cannot register the UMEM: %s", o->queue_id,
			 strerror(-ret));
		goto err_pool;
	}
	if (!o->force_copy && !o->generic) {
		ret = xsk_socket_setup(x, o, XDP_ZEROCOPY);
		if (!ret) {
			x->zerocopy = true;
		} else {
			/* a failed bind leaves rings on the UMEM socket: start over */
			zc_err = ret;
			x->xsk = NULL;
			xsk_umem__delete(x->umem);
			x->umem = NULL;
			ret = xsk_umem_setup(x);
			if (ret) {
				snprintf(err, errlen, "queue %u: cannot register the UMEM: %s",
					 o->queue_id, strerror(-ret));
				goto err_pool;
			}
		}
	}
	if (!x->xsk) {
		ret = xsk_socket_setup(x, o, XDP_COPY);
		if (ret) {
			x->xsk = NULL;
			if (zc_err)
				snprintf(err, errlen,
					 "queue %u: cannot bind an AF_XDP socket to %s "
					 "(zero-copy: %s, copy: %s)",
					 o->queue_id, o->ifname, strerror(-zc_err), strerror(-ret));
			else
				snprintf(err, errlen,
					 "queue %u: cannot bind an AF_XDP socket to %s: %s",
					 o->queue_id, o->ifname, strerror(-ret));
			goto err_umem;
		}
	}

	x->fill_max = xsk_fill_target(n);

	snprintf(x->dev.name, sizeof(x->dev.name), "%s", o->ifname);
	x->dev.ifindex = o->ifindex;
	x->dev.queue_id = o->queue_id;
	memcpy(x->dev.mac, o->mac, 6);
	x->dev.vlan_id = o->vlan_id;
	x->dev.mtu = o->mtu ? o->mtu : 1500;
	x->dev.ops = &xsk_netdev_ops;
	x->dev.pool = &x->pool;
	x->dev.stats = o->stats ? o->stats : &x->own_stats;
	x->dev.priv = x;

	xsk_refill(x);
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	xsk_update_gauges(x);
	*out = &x->dev;
	return 0;

err_umem:
	xsk_umem__delete(x->umem);
err_pool:
	pkb_pool_fini(&x->pool);
err_unmap:
	munmap(x->area, x->area_len);
err_free:
	free(x);
	return ret;
}

void xsk_netdev_destroy(struct netdev *dev)
{
	struct xsk_dev *x;

	if (!dev)
		return;
	x = to_xsk(dev);
	/* the socket and UMEM go first: then no frame is the kernel's */
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	pkb_pool_fini(&x->pool);
	munmap(x->area, x->area_len);
	free(x);
}

int xsk_netdev_fd(struct netdev *dev)
{
	return xsk_socket__fd(to_xsk(dev)->xsk);
}

/* Not in every libc's headers yet (Linux 5.11 uapi asm-generic/socket.h). */
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL	69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET	70
#endif

int xsk_netdev_set_busy_poll(struct netdev *dev, uint32_t usecs)
{
	int fd = xsk_netdev_fd(dev), one = 1, us = (int)usecs;
	int budget = 64; /* one RX burst of the stack (STACK_RX_BURST) */

	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))
		return -errno;
	return 0;
}

int xsk_netdev_kernel_stats(struct netdev *dev, struct xsk_kernel_stats *out)
{
	struct xdp_statistics ks;
	socklen_t len = sizeof(ks);

	memset(out, 0, sizeof(*out));
	memset(&ks, 0, sizeof(ks));
	/* x->xsk and its fd never change while dev exists: no lock needed */
	if (getsockopt(xsk_netdev_fd(dev), SOL_XDP, XDP_STATISTICS, &ks, &len))
		return -errno;
	/* an older kernel copies a shorter struct (rx_dropped..tx_invalid_descs)
	 * and says so in len; the rest of ks stays 0 */
	out->rx_dropped = ks.rx_dropped;
	out->rx_invalid_descs = ks.rx_invalid_descs;
	out->tx_invalid_descs = ks.tx_invalid_descs;
	out->rx_ring_full = ks.rx_ring_full;
	out->rx_fill_ring_empty_descs = ks.rx_fill_ring_empty_descs;
	out->tx_ring_empty_descs = ks.tx_ring_empty_descs;
	out->n_fields = len / sizeof(uint64_t);
	if (out->n_fields > XSK_KERNEL_STATS_FIELDS)
		out->n_fields = XSK_KERNEL_STATS_FIELDS;
	return 0;
}

bool xsk_netdev_zerocopy(const struct netdev *dev)
{
	return ((const struct xsk_dev *)dev->priv)->zerocopy;
}
