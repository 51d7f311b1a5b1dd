// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Buffer pools and packet descriptors.  A pool is N equal buffers in one
 * area plus one preallocated struct pkb per buffer and a LIFO stack of free
 * indices, so taking and returning a buffer is a few stores, never a malloc
 * (the per-packet path must not allocate).  LIFO keeps recently used, still
 * cache-hot buffers in circulation.
 *
 * Each buffer has an in-use byte: returning a buffer that is already free is
 * a bug elsewhere, but it must not corrupt the free stack (a duplicate index
 * there would hand the same buffer to two owners later), so it is counted in
 * pool->double_free and otherwise ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pkb.h"

int pkb_pool_init(struct pkb_pool *pool, void *area, uint32_t n, uint32_t buf_size,
		  uint32_t headroom, const char *name)
{
	uint32_t i;

	memset(pool, 0, sizeof(*pool));
	if (!n || !buf_size || headroom > buf_size || buf_size > UINT32_MAX / n)
		return -EINVAL;
	/* header offsets are 16-bit (struct pkb::mac_header ...) */
	if (headroom >= PKB_HDR_UNSET)
		return -EINVAL;

	pool->free_stack = calloc(n, sizeof(*pool->free_stack));
	pool->in_use = calloc(n, sizeof(*pool->in_use));
	pool->descs = calloc(n, sizeof(*pool->descs));
	if (!pool->free_stack || !pool->in_use || !pool->descs)
		goto err_nomem;

	if (!area) {
		long page = sysconf(_SC_PAGESIZE);

		if (posix_memalign(&area, page > 0 ? (size_t)page : 4096,
				   (size_t)n * buf_size))
			goto err_nomem;
		pool->own_area = true;
	}
	pool->area = area;
	pool->buf_size = buf_size;
	pool->headroom = headroom;
	pool->n = n;
	pool->name = name ? name : "pool";

	/* lowest index on top, so a fresh pool hands out 0, 1, 2 ... */
	for (i = 0; i < n; i++)
		pool->free_stack[i] = n - 1 - i;
	pool->n_free = n;
	return 0;

err_nomem:
	free(pool->free_stack);
	free(pool->in_use);
	free(pool->descs);
	memset(pool, 0, sizeof(*pool));
	return -ENOMEM;
}

void pkb_pool_fini(struct pkb_pool *pool)
{
	if (pool->own_area)
		free(pool->area);
	free(pool->free_stack);
	free(pool->in_use);
	free(pool->descs);
	memset(pool, 0, sizeof(*pool));
}

uint32_t pkb_pool_alloc_index(struct pkb_pool *pool)
{
	uint32_t index;

	if (!pool->n_free)
		return UINT32_MAX;
	index = pool->free_stack[--pool->n_free];
	pool->in_use[index] = 1;
	return index;
}

void pkb_pool_put(struct pkb_pool *pool, uint32_t index)
{
	if (index >= pool->n || !pool->in_use[index]) {
		pool->double_free++;
		return;
	}
	pool->in_use[index] = 0;
	pool->free_stack[pool->n_free++] = index;
}

struct pkb *pkb_pool_desc(struct pkb_pool *pool, uint32_t index, uint32_t offset)
{
	struct pkb *pkb = &pool->descs[index];
	uint8_t *head = pool->area + (size_t)index * pool->buf_size;

	pkb->head = head;
	pkb->data = head + offset;
	pkb->tail = head + offset;
	pkb->end = head + pool->buf_size;
	pkb->next = NULL;
	pkb->pool = pool;
	pkb->dev = NULL;
	pkb->index = index;
	pkb->mac_header = PKB_HDR_UNSET;
	pkb->network_header = PKB_HDR_UNSET;
	pkb->transport_header = PKB_HDR_UNSET;
	pkb->protocol = 0;
	pkb->pkt_type = PKB_HOST;
	pkb->flags = 0;
	pkb->vlan_tci = 0;
	memset(pkb->cb, 0, sizeof(pkb->cb));
	return pkb;
}

struct pkb *pkb_pool_get(struct pkb_pool *pool)
{
	uint32_t index = pkb_pool_alloc_index(pool);

	if (index == UINT32_MAX)
		return NULL;
	return pkb_pool_desc(pool, index, pool->headroom);
}

/* Offset of a header in the copy: shifted by delta, unset if it was not copied. */
static uint16_t copy_hdr_offset(uint16_t off, long delta)
{
	long v;

	if (off == PKB_HDR_UNSET)
		return PKB_HDR_UNSET;
	v = (long)off + delta;
	return v < 0 ? PKB_HDR_UNSET : (uint16_t)v;
}

/*
 * The copy keeps the original's headroom when it fits in the new buffer (so
 * header offsets stay the same), or as much of it as fits.  The headroom
 * bytes are copied too, so a header already pulled off (the Ethernet header
 * after eth_rcv) is still readable through its offset in the copy.
 */
struct pkb *pkb_copy(struct pkb_pool *pool, const struct pkb *pkb)
{
	uint32_t len = pkb_len(pkb), old_room = pkb_headroom(pkb), room;
	struct pkb *n;
	long delta;

	if (len > pool->buf_size)
		return NULL;
	room = pool->buf_size - len;
	if (room > old_room)
		room = old_room;
	if (room >= PKB_HDR_UNSET)
		return NULL;

	n = pkb_pool_get(pool);
	if (!n)
		return NULL;
	n->data = n->head + room;
	n->tail = n->data + len;
	memcpy(n->head, pkb->data - room, (size_t)room + len);

	delta = (long)room - (long)old_room;
	n->mac_header = copy_hdr_offset(pkb->mac_header, delta);
	n->network_header = copy_hdr_offset(pkb->network_header, delta);
	n->transport_header = copy_hdr_offset(pkb->transport_header, delta);
	n->dev = pkb->dev;
	n->protocol = pkb->protocol;
	n->pkt_type = pkb->pkt_type;
	n->flags = pkb->flags;
	n->vlan_tci = pkb->vlan_tci;
	memcpy(n->cb, pkb->cb, sizeof(n->cb));
	return n;
}
