// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Handoff of received frames between workers (see core/handoff.h): one
 * lock-free single-producer/single-consumer ring of frame copies per ordered
 * worker pair, and the stack side that feeds them (handoff_rx: to a port's
 * owner; handoff_copy: to one or every other worker) and drains them.
 *
 * A ring is a power-of-two array of fixed slots and two free-running 32-bit
 * indices: tail, written only by the producer, and head, written only by
 * the consumer.  The producer fills slot tail & mask and then publishes it
 * with a release store of tail + 1; the consumer reads tail with acquire
 * (so the slot's bytes are visible), copies the frame out and gives the
 * slot back with a release store of head + 1, which the producer reads with
 * acquire before it reuses the slot.  tail - head is the fill level (the
 * indices wrap modulo 2^32; the slot count divides 2^32).  The indices sit
 * on their own cache lines so the two threads do not bounce one line.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/handoff.h"
#include "core/netdev.h"
#include "core/stack.h"

#define HANDOFF_CACHELINE	64
#define HANDOFF_SLOT_HDR	8	/* uint32_t len, padded */
#define HANDOFF_PAD		UINT32_MAX	/* len of a slot that skips to the ring's start */

struct handoff_ring {
	_Alignas(HANDOFF_CACHELINE) atomic_uint tail;	/* producer's */
	_Alignas(HANDOFF_CACHELINE) atomic_uint head;	/* consumer's */
	_Alignas(HANDOFF_CACHELINE) uint8_t *slots;	/* read-only after create */
};

struct handoff {
	uint32_t n;		/* workers */
	uint32_t n_slots;	/* per ring, a power of two */
	uint32_t stride;	/* bytes per slot */
	uint32_t frame_max;	/* the largest frame one slot holds */
	uint32_t big_max;	/* the largest frame a run of slots holds */
	struct handoff_ring *rings;	/* n * n, [from * n + to]; diagonal unused */
	uint8_t *area;		/* every ring's slots, one mapping */
	size_t area_len;
	void (*wake)(void *ctx, uint32_t worker);
	void *wake_ctx;
};

static uint32_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p <= v / 2)
		p *= 2;
	return p;
}

static uint32_t default_slots(uint32_t n)
{
	uint32_t s = pow2_floor(2048 / (n - 1));

	if (s > HANDOFF_SLOTS_MAX)
		s = HANDOFF_SLOTS_MAX;
	if (s < HANDOFF_SLOTS_MIN)
		s = HANDOFF_SLOTS_MIN;
	return s;
}

int handoff_create(struct handoff **hp, uint32_t n_workers, uint32_t slots, uint32_t frame_max)
{
	struct handoff *h;
	uint32_t from, to, k = 0;
	size_t ring_bytes;

	*hp = NULL;
	if (n_workers < 2 || n_workers > HANDOFF_MAX_WORKERS)
		return -EINVAL;
	if (!slots)
		slots = default_slots(n_workers);
	if (slots & (slots - 1) || slots > (1u << 20))
		return -EINVAL;
	if (!frame_max)
		frame_max = HANDOFF_SLOT_SIZE - HANDOFF_SLOT_HDR;
	if (frame_max > 65536)
		return -EINVAL;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->n = n_workers;
	h->n_slots = slots;
	h->frame_max = frame_max;
	h->stride = (frame_max + HANDOFF_SLOT_HDR + HANDOFF_CACHELINE - 1) &
		    ~(uint32_t)(HANDOFF_CACHELINE - 1);
	h->big_max = (uint32_t)((uint64_t)slots * h->stride - HANDOFF_SLOT_HDR > HANDOFF_FRAME_BIG
					? HANDOFF_FRAME_BIG
					: (uint64_t)slots * h->stride - HANDOFF_SLOT_HDR);
	if (h->big_max < frame_max)
		h->big_max = frame_max;
	h->rings = aligned_alloc(HANDOFF_CACHELINE,
				 (size_t)n_workers * n_workers * sizeof(*h->rings));
	if (!h->rings) {
		free(h);
		return -ENOMEM;
	}
	memset(h->rings, 0, (size_t)n_workers * n_workers * sizeof(*h->rings));
	ring_bytes = (size_t)slots * h->stride;
	h->area_len = ring_bytes * n_workers * (n_workers - 1);
	h->area = mmap(NULL, h->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->area == MAP_FAILED) {
		free(h->rings);
		free(h);
		return -ENOMEM;
	}
	for (from = 0; from < n_workers; from++) {
		for (to = 0; to < n_workers; to++) {
			struct handoff_ring *r = &h->rings[from * n_workers + to];

			atomic_init(&r->head, 0);
			atomic_init(&r->tail, 0);
			if (from != to)
				r->slots = h->area + ring_bytes * k++;
		}
	}
	*hp = h;
	return 0;
}

void handoff_destroy(struct handoff *h)
{
	if (!h)
		return;
	munmap(h->area, h->area_len);
	free(h->rings);
	free(h);
}

void handoff_set_wake(struct handoff *h, void (*wake)(void *ctx, uint32_t worker), void *ctx)
{
	h->wake = wake;
	h->wake_ctx = ctx;
}

uint32_t handoff_n_workers(const struct handoff *h)
{
	return h->n;
}

uint32_t handoff_ring_slots(const struct handoff *h)
{
	return h->n_slots;
}

uint32_t handoff_frame_max(const struct handoff *h)
{
	return h->big_max;
}

static struct handoff_ring *ring_of(struct handoff *h, uint32_t from, uint32_t to)
{
	if (from >= h->n || to >= h->n || from == to)
		return NULL;
	return &h->rings[from * h->n + to];
}

static uint8_t *slot_of(const struct handoff *h, const struct handoff_ring *r, uint32_t idx)
{
	return r->slots + (size_t)(idx & (h->n_slots - 1)) * h->stride;
}

/* Slots a frame of len bytes takes (its header in the first). */
static uint32_t slots_for(const struct handoff *h, uint32_t len)
{
	return (len + HANDOFF_SLOT_HDR + h->stride - 1) / h->stride;
}

int handoff_push(struct handoff *h, uint32_t from, uint32_t to, const void *frame, uint32_t len)
{
	struct handoff_ring *r = ring_of(h, from, to);
	uint32_t tail, head, k, idx, pad = 0, pad_len = HANDOFF_PAD;
	uint8_t *slot;

	if (!r)
		return -EINVAL;
	if (len > h->big_max)
		return -EMSGSIZE;
	/* a frame is contiguous: one that would wrap first fills the ring's
	 * end with a pad slot, which the consumer skips */
	k = slots_for(h, len);
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	idx = tail & (h->n_slots - 1);
	if (idx + k > h->n_slots)
		pad = h->n_slots - idx;
	if (tail - head + pad + k > h->n_slots)
		return -ENOBUFS;
	if (pad) {
		memcpy(slot_of(h, r, tail), &pad_len, sizeof(pad_len));
		tail += pad;
	}
	slot = slot_of(h, r, tail);
	memcpy(slot, &len, sizeof(len));
	memcpy(slot + HANDOFF_SLOT_HDR, frame, len);
	atomic_store_explicit(&r->tail, tail + k, memory_order_release);
	return 0;
}

/* The consumer's head past a pad slot; head == *tail when the ring is empty. */
static uint32_t ring_head(const struct handoff *h, struct handoff_ring *r, uint32_t *tail)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed), len;

	*tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head == *tail)
		return head;
	memcpy(&len, slot_of(h, r, head), sizeof(len));
	if (len == HANDOFF_PAD) {
		head += h->n_slots - (head & (h->n_slots - 1));
		atomic_store_explicit(&r->head, head, memory_order_release);
	}
	return head;
}

const void *handoff_peek(struct handoff *h, uint32_t from, uint32_t to, uint32_t *len)
{
	struct handoff_ring *r = ring_of(h, from, to);
	uint32_t head, tail;
	const uint8_t *slot;

	if (!r)
		return NULL;
	head = ring_head(h, r, &tail);
	if (head == tail)
		return NULL;
	slot = slot_of(h, r, head);
	memcpy(len, slot, sizeof(*len));
	return slot + HANDOFF_SLOT_HDR;
}

void handoff_pop(struct handoff *h, uint32_t from, uint32_t to)
{
	struct handoff_ring *r = ring_of(h, from, to);
	uint32_t head, tail, len;

	if (!r)
		return;
	head = ring_head(h, r, &tail);
	if (head == tail)
		return;
	memcpy(&len, slot_of(h, r, head), sizeof(len));
	atomic_store_explicit(&r->head, head + slots_for(h, len), memory_order_release);
}

uint32_t handoff_pending(struct handoff *h, uint32_t from, uint32_t to)
{
	struct handoff_ring *r = ring_of(h, from, to);

	if (!r)
		return 0;
	return atomic_load_explicit(&r->tail, memory_order_acquire) -
	       atomic_load_explicit(&r->head, memory_order_acquire);
}

/* ---- the stack side ---- */

/* Queue a copy of pkb's frame for worker `to`: 0 or -errno (not counted). */
static int handoff_push_pkb(struct stack *st, const struct pkb *pkb, uint32_t to)
{
	const uint8_t *mac;
	int err;

	/* the frame as received; a reassembled datagram carries its first
	 * fragment's Ethernet header (net/ip_fragment.c) and may take several
	 * slots */
	if (pkb->mac_header == PKB_HDR_UNSET || pkb_mac_header(pkb) >= pkb->tail)
		return -EINVAL;
	mac = pkb_mac_header(pkb);
	err = handoff_push(st->handoff, st->worker, to, mac, (uint32_t)(pkb->tail - mac));
	if (err)
		return err;
	STACK_INC(st, handoff_out);
	st->handoff_wake |= 1ull << to;
	return 0;
}

bool handoff_rx(struct stack *st, struct pkb *pkb, uint16_t port)
{
	uint32_t owner;

	if (!st->handoff || st->n_workers < 2 || (pkb->flags & PKB_F_HANDED_OVER))
		return false;
	owner = stack_port_owner(st, port);
	if (owner == st->worker)
		return false;
	if (handoff_push_pkb(st, pkb, owner)) {
		pkb_drop(st, pkb, SKIFF_DROP_handoff_drop);
		return true;
	}
	pkb_free(pkb);
	return true;
}

int handoff_copy(struct stack *st, const struct pkb *pkb, int to)
{
	uint32_t w, first, last;
	int queued = 0, failed = 0;

	if (!st->handoff || st->n_workers < 2 || (pkb->flags & PKB_F_HANDED_OVER))
		return 0;
	if (to >= (int)st->n_workers || to == (int)st->worker)
		return 0;
	first = to < 0 ? 0 : (uint32_t)to;
	last = to < 0 ? st->n_workers - 1 : (uint32_t)to;
	for (w = first; w <= last; w++) {
		if (w == st->worker)
			continue;
		if (handoff_push_pkb(st, pkb, w)) {
			STACK_INC(st, drop.handoff_drop);
			failed++;
		} else {
			queued++;
		}
	}
	return queued ? queued : (failed ? -ENOBUFS : 0);
}

int handoff_drain(struct stack *st, int budget)
{
	struct handoff *h = st->handoff;
	uint32_t from, len;
	int n = 0, k;

	if (!h || st->n_workers < 2)
		return 0;
	for (from = 0; from < h->n; from++) {
		if (from == st->worker)
			continue;
		for (k = 0; k < budget; k++) {
			const void *frame = handoff_peek(h, from, st->worker, &len);
			struct pkb *pkb;

			if (!frame)
				break;
			/* as a driver receives: NET_IP_ALIGN into the data area;
			 * a reassembled datagram into a big-pool buffer */
			pkb = netdev_alloc_pkb(st->dev);
			if (pkb)
				pkb_reserve(pkb, NET_IP_ALIGN);
			if (pkb && len > pkb_tailroom(pkb) && st->big_pool) {
				pkb_free(pkb);
				pkb = pkb_pool_get(st->big_pool);
				if (pkb) {
					pkb->dev = st->dev;
					pkb_reserve(pkb, NET_IP_ALIGN);
				}
			}
			if (!pkb || len > pkb_tailroom(pkb)) {
				pkb_free(pkb);
				st->stats->drop.handoff_drop++;
				handoff_pop(h, from, st->worker);
				continue;
			}
			memcpy(__pkb_put(pkb, len), frame, len);
			pkb->flags |= PKB_F_HANDED_OVER;
			handoff_pop(h, from, st->worker);
			STACK_INC(st, handoff_in);
			stack_rx(st, pkb);
			n++;
		}
	}
	return n;
}

void handoff_kick(struct stack *st)
{
	uint64_t pending = st->handoff_wake;
	struct handoff *h = st->handoff;

	st->handoff_wake = 0;
	if (!h || !h->wake)
		return;
	while (pending) {
		uint32_t w = (uint32_t)__builtin_ctzll(pending);

		pending &= pending - 1;
		h->wake(h->wake_ctx, w);
	}
}
