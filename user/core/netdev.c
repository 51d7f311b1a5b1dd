// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The device-agnostic transmit entry points (Linux's alloc_skb for a device
 * and dev_queue_xmit): protocols build frames in buffers of the device's
 * own pool (UMEM frames for AF_XDP, so sending needs no copy) and hand them
 * to the driver through its ops.
 */
#include <errno.h>

#include "core/netdev.h"

struct pkb *netdev_alloc_pkb(struct netdev *dev)
{
	struct pkb_pool *pool = dev->pool;
	struct pkb *pkb;
	uint32_t index;

	index = pkb_pool_alloc_index(pool);
	if (index == UINT32_MAX)
		return NULL;
	pkb = pkb_pool_desc(pool, index, NETDEV_TX_HEADROOM);
	pkb->dev = dev;
	return pkb;
}

int dev_queue_xmit(struct pkb *pkb)
{
	struct netdev *dev = pkb->dev;

	if (!dev) {
		pkb_free(pkb);
		return -ENODEV;
	}
	return dev->ops->xmit(dev, pkb);
}

struct pkb *netdev_alloc_pkb_len(struct netdev *dev, struct pkb_pool *big, uint32_t len)
{
	struct pkb *pkb = netdev_alloc_pkb(dev);

	if (pkb && pkb_tailroom(pkb) >= len)
		return pkb;
	pkb_free(pkb);
	pkb = big ? pkb_pool_get(big) : NULL;
	if (pkb && pkb_tailroom(pkb) < len) {
		pkb_free(pkb);
		return NULL;
	}
	if (pkb)
		pkb->dev = dev;
	return pkb;
}
