// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fake driver of the unit tests: receive pops frames the test injected,
 * transmit appends to a queue the test reads back.  Like the AF_XDP driver
 * it sends only its own frames: a pkb from another pool (a heap buffer of
 * st->big_pool) is copied into a frame first.  Counters move as a real
 * driver's would, so tests can assert them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fakedev.h"

static int fakedev_rx_burst(struct netdev *dev, struct pkb **pkbs, int max)
{
	struct fakedev *fd = dev->priv;
	struct pkb *pkb;
	int n = 0;

	while (n < max && (pkb = pkb_dequeue(&fd->rxq))) {
		pkb->dev = dev;
		fd->stats.rx_packets++;
		fd->stats.rx_bytes += pkb_len(pkb);
		pkbs[n++] = pkb;
	}
	if (n)
		fd->stats.rx_bursts++;
	return n;
}

static int fakedev_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct fakedev *fd = dev->priv;

	if (fd->tx_limit && fd->txq.len >= fd->tx_limit) {
		pkb_free(pkb);
		fd->stats.tx_ring_full++;
		return -ENOBUFS;
	}
	if (pkb->pool != &fd->pool) {
		struct pkb *copy = pkb_copy(&fd->pool, pkb);

		pkb_free(pkb);
		if (!copy) {
			fd->stats.tx_ring_full++;
			return -ENOBUFS;
		}
		fd->stats.tx_copied++;
		pkb = copy;
	}
	pkb->dev = dev;
	fd->stats.tx_packets++;
	fd->stats.tx_bytes += pkb_len(pkb);
	pkb_queue_tail(&fd->txq, pkb);
	return 0;
}

static void fakedev_flush(struct netdev *dev)
{
	struct fakedev *fd = dev->priv;

	fd->stats.frames_free = fd->pool.n_free;
	fd->stats.frames_tx = fd->txq.len;
}

static int fakedev_poll_fd(struct netdev *dev)
{
	(void)dev;
	return -1;
}

static const struct netdev_ops fakedev_ops = {
	.rx_burst = fakedev_rx_burst,
	.xmit = fakedev_xmit,
	.flush = fakedev_flush,
	.poll_fd = fakedev_poll_fd,
};

int fakedev_init(struct fakedev *fd, const char *name, const uint8_t mac[6], uint32_t mtu,
		 uint32_t n_frames)
{
	int err;

	memset(fd, 0, sizeof(*fd));
	err = pkb_pool_init(&fd->pool, NULL, n_frames, FAKEDEV_FRAME_SIZE, NETDEV_TX_HEADROOM,
			    "fakedev");
	if (err)
		return err;
	pkb_queue_init(&fd->rxq);
	pkb_queue_init(&fd->txq);
	snprintf(fd->dev.name, sizeof(fd->dev.name), "%s", name ? name : "fake0");
	fd->dev.ifindex = 1;
	memcpy(fd->dev.mac, mac, 6);
	fd->dev.mtu = mtu;
	fd->dev.ops = &fakedev_ops;
	fd->dev.pool = &fd->pool;
	fd->dev.stats = &fd->stats;
	fd->dev.priv = fd;
	fd->stats.frames_total = n_frames;
	fd->stats.frames_free = n_frames;
	return 0;
}

void fakedev_fini(struct fakedev *fd)
{
	fakedev_purge(fd);
	pkb_pool_fini(&fd->pool);
}

struct pkb *fakedev_frame(struct fakedev *fd, const void *bytes, size_t len)
{
	struct pkb *pkb = pkb_pool_get(&fd->pool);

	if (!pkb)
		return NULL;
	pkb_reserve(pkb, NET_IP_ALIGN);	/* as the AF_XDP driver receives */
	if (len > pkb_tailroom(pkb)) {
		pkb_free(pkb);
		return NULL;
	}
	memcpy(__pkb_put(pkb, (uint32_t)len), bytes, len);
	pkb->dev = &fd->dev;
	return pkb;
}

int fakedev_inject(struct fakedev *fd, const void *bytes, size_t len)
{
	struct pkb *pkb;

	if (len > FAKEDEV_FRAME_SIZE - NETDEV_TX_HEADROOM - NET_IP_ALIGN)
		return -EMSGSIZE;
	pkb = fakedev_frame(fd, bytes, len);
	if (!pkb)
		return -ENOBUFS;
	pkb_queue_tail(&fd->rxq, pkb);
	return 0;
}

struct pkb *fakedev_pop_tx(struct fakedev *fd)
{
	return pkb_dequeue(&fd->txq);
}

void fakedev_purge(struct fakedev *fd)
{
	pkb_queue_purge(&fd->txq);
	pkb_queue_purge(&fd->rxq);
}

uint32_t fakedev_frames_in_use(const struct fakedev *fd)
{
	return fd->pool.n - fd->pool.n_free;
}
