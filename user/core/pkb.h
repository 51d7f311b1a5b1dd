/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * struct pkb: the packet descriptor every layer shares, after Linux's sk_buff.
 * A pkb describes one linear buffer: a UMEM frame (AF_XDP) or a buffer of a
 * heap pool (reassembled datagrams).  head <= data <= tail <= end; layers
 * push their headers into the headroom and pull them off on receive.
 *
 * Buffers come from a struct pkb_pool: N equal buffers in one area, with one
 * descriptor per buffer preallocated, so getting and freeing a pkb never
 * allocates.  pkb_free() hands the buffer back to its pool (lwIP's custom
 * free hook, here the pool itself).
 *
 * Ownership: a function that takes a struct pkb * owns it on every path —
 * it frees it, queues it or passes it on.
 */
#ifndef SKIFF_PKB_H
#define SKIFF_PKB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netdev;
struct pkb_pool;

#define PKB_HDR_UNSET	0xffff

/* pkb->pkt_type: how the frame was addressed (Linux's PACKET_*) */
enum {
	PKB_HOST = 0,
	PKB_BROADCAST,
	PKB_MULTICAST,
	PKB_OTHERHOST,
};

/* pkb->flags (reset to 0 when a descriptor is taken from its pool) */
#define PKB_F_HANDED_OVER	0x01	/* came from another worker through the handoff
					 * (handoff_drain): never handed on again */

struct pkb {
	uint8_t *head;		/* start of the buffer */
	uint8_t *data;		/* start of the bytes in use */
	uint8_t *tail;		/* end of the bytes in use */
	uint8_t *end;		/* end of the buffer */
	struct pkb *next;	/* link in a struct pkb_queue */
	struct pkb_pool *pool;	/* where pkb_free() returns it */
	struct netdev *dev;	/* device it arrived on / leaves by */
	uint32_t index;		/* buffer index in pool */
	uint16_t mac_header;	/* offsets from head, PKB_HDR_UNSET if unset */
	uint16_t network_header;
	uint16_t transport_header;
	uint16_t protocol;	/* ethertype, host order, set by eth_rcv */
	uint8_t pkt_type;	/* PKB_* */
	uint8_t flags;		/* PKB_F_* */
	uint16_t vlan_tci;
	uint64_t cb[6] __attribute__((aligned(8)));	/* per-layer scratch (48 bytes) */
};

struct pkb_queue {
	struct pkb *head;
	struct pkb *tail;
	uint32_t len;		/* packets */
	uint32_t bytes;		/* sum of pkb_len() */
};

/*
 * A pool of n buffers of buf_size bytes each, laid out back to back in area
 * (buffer i at area + i * buf_size).  For AF_XDP the area is the UMEM and
 * buf_size the frame size, so a frame's UMEM address is index * buf_size.
 */
struct pkb_pool {
	uint8_t *area;
	uint32_t buf_size;
	uint32_t headroom;	/* pkb_pool_get() reserves this much */
	uint32_t n;		/* buffers in all */
	uint32_t n_free;	/* buffers on the free stack */
	uint32_t *free_stack;
	uint8_t *in_use;	/* per buffer: 1 while out of the free stack */
	struct pkb *descs;	/* one descriptor per buffer */
	uint64_t double_free;	/* pkb_pool_put() of a free buffer (a bug; counted, ignored) */
	bool own_area;		/* area was allocated by pkb_pool_init */
	const char *name;
};

/* area == NULL: allocate it (page aligned).  Returns 0 or -errno. */
int pkb_pool_init(struct pkb_pool *pool, void *area, uint32_t n, uint32_t buf_size,
		  uint32_t headroom, const char *name);
void pkb_pool_fini(struct pkb_pool *pool);

/* Take a buffer off the free stack: its index, or UINT32_MAX when empty. */
uint32_t pkb_pool_alloc_index(struct pkb_pool *pool);
/* Return buffer index to the free stack. */
void pkb_pool_put(struct pkb_pool *pool, uint32_t index);
/* Descriptor of buffer index (already taken), reset: data = tail = head + offset. */
struct pkb *pkb_pool_desc(struct pkb_pool *pool, uint32_t index, uint32_t offset);
/* A fresh pkb with pool->headroom reserved, or NULL when the pool is empty. */
struct pkb *pkb_pool_get(struct pkb_pool *pool);

static inline void pkb_free(struct pkb *pkb)
{
	if (pkb)
		pkb_pool_put(pkb->pool, pkb->index);
}

/* Copy pkb (bytes and header offsets) into a fresh buffer of pool; NULL if
 * the pool is empty or the bytes do not fit.  The original is untouched. */
struct pkb *pkb_copy(struct pkb_pool *pool, const struct pkb *pkb);

static inline uint32_t pkb_len(const struct pkb *pkb)
{
	return (uint32_t)(pkb->tail - pkb->data);
}

static inline uint32_t pkb_headroom(const struct pkb *pkb)
{
	return (uint32_t)(pkb->data - pkb->head);
}

static inline uint32_t pkb_tailroom(const struct pkb *pkb)
{
	return (uint32_t)(pkb->end - pkb->tail);
}

/* Only on an empty pkb: move data and tail forward to make headroom. */
static inline void pkb_reserve(struct pkb *pkb, uint32_t len)
{
	pkb->data += len;
	pkb->tail += len;
}

/* Unchecked variants: the caller has checked the room. */
static inline void *__pkb_put(struct pkb *pkb, uint32_t len)
{
	uint8_t *old = pkb->tail;

	pkb->tail += len;
	return old;
}

static inline void *__pkb_push(struct pkb *pkb, uint32_t len)
{
	pkb->data -= len;
	return pkb->data;
}

static inline void *__pkb_pull(struct pkb *pkb, uint32_t len)
{
	pkb->data += len;
	return pkb->data;
}

/* Extend the tail by len; returns the start of the new room, NULL if no room. */
static inline void *pkb_put(struct pkb *pkb, uint32_t len)
{
	return len <= pkb_tailroom(pkb) ? __pkb_put(pkb, len) : NULL;
}

/* Prepend len bytes; returns the new data, NULL if the headroom is short. */
static inline void *pkb_push(struct pkb *pkb, uint32_t len)
{
	return len <= pkb_headroom(pkb) ? __pkb_push(pkb, len) : NULL;
}

/* Remove len bytes from the front; returns the new data, NULL if too short. */
static inline void *pkb_pull(struct pkb *pkb, uint32_t len)
{
	return len <= pkb_len(pkb) ? __pkb_pull(pkb, len) : NULL;
}

static inline bool pkb_may_pull(const struct pkb *pkb, uint32_t len)
{
	return len <= pkb_len(pkb);
}

/* Cut the bytes in use down to len (no-op if already shorter). */
static inline void pkb_trim(struct pkb *pkb, uint32_t len)
{
	if (len < pkb_len(pkb))
		pkb->tail = pkb->data + len;
}

static inline void pkb_reset_mac_header(struct pkb *pkb)
{
	pkb->mac_header = (uint16_t)(pkb->data - pkb->head);
}

static inline void pkb_reset_network_header(struct pkb *pkb)
{
	pkb->network_header = (uint16_t)(pkb->data - pkb->head);
}

static inline void pkb_reset_transport_header(struct pkb *pkb)
{
	pkb->transport_header = (uint16_t)(pkb->data - pkb->head);
}

static inline uint8_t *pkb_mac_header(const struct pkb *pkb)
{
	return pkb->head + pkb->mac_header;
}

static inline uint8_t *pkb_network_header(const struct pkb *pkb)
{
	return pkb->head + pkb->network_header;
}

static inline uint8_t *pkb_transport_header(const struct pkb *pkb)
{
	return pkb->head + pkb->transport_header;
}

static inline void pkb_queue_init(struct pkb_queue *q)
{
	q->head = q->tail = NULL;
	q->len = q->bytes = 0;
}

static inline bool pkb_queue_empty(const struct pkb_queue *q)
{
	return q->head == NULL;
}

static inline void pkb_queue_tail(struct pkb_queue *q, struct pkb *pkb)
{
	pkb->next = NULL;
	if (q->tail)
		q->tail->next = pkb;
	else
		q->head = pkb;
	q->tail = pkb;
	q->len++;
	q->bytes += pkb_len(pkb);
}

static inline struct pkb *pkb_dequeue(struct pkb_queue *q)
{
	struct pkb *pkb = q->head;

	if (!pkb)
		return NULL;
	q->head = pkb->next;
	if (!q->head)
		q->tail = NULL;
	pkb->next = NULL;
	q->len--;
	q->bytes -= pkb_len(pkb);
	return pkb;
}

/* Free every pkb on the queue. */
static inline void pkb_queue_purge(struct pkb_queue *q)
{
	struct pkb *pkb;

	while ((pkb = pkb_dequeue(q)))
		pkb_free(pkb);
}

#endif /* SKIFF_PKB_H */
