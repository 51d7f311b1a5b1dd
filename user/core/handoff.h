/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one piece of per-packet state workers share: a handoff of received
 * frames between them.  Workers are shared-nothing (one struct stack each),
 * so a client connection lives on the worker that opened it; but RSS (or,
 * on veth, the peer's TX queue choice) may bring its replies to another
 * queue.  Ephemeral ports are therefore partitioned among the workers:
 * worker i of n allocates only ports p with p % n == i, so the owner of an
 * ephemeral local port is computable from the port alone
 * (stack_port_owner()).  A worker that receives a segment or datagram for
 * which it has no connection or socket, on an ephemeral port another
 * worker owns, copies the whole frame (from the MAC header on) into the
 * ring from it to the owner instead of answering RST / port unreachable;
 * the owner drains its incoming rings at the start of every stack_poll()
 * and runs each frame through stack_rx() as if it had received it.
 * ICMP errors follow the flow they quote the same way (net/icmp.c): to the
 * owner of the quoted ephemeral port, or a copy to every other worker when
 * the quoted port is a fixed one (a server connection lives where its SYN
 * arrived).  A frame that came through the handoff is marked
 * (PKB_F_HANDED_OVER) and never handed on: no loops, no storms.
 *
 * Rings: one single-producer/single-consumer ring per ordered worker pair,
 * lock-free (C11 acquire/release on a head and a tail index), of fixed
 * slots of frame copies, all allocated at start-up: no malloc per packet.
 * A full ring drops the frame (drop.handoff_drop).  The producer wakes the
 * owner (the wake hook, skiffd's worker eventfd) once per burst, not per
 * frame.  Counters: handoff_out (frames handed to another worker),
 * handoff_in (frames received from one), drop.handoff_drop.
 */
#ifndef SKIFF_HANDOFF_H
#define SKIFF_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkb.h"

struct stack;
struct handoff;

#define HANDOFF_MAX_WORKERS	64	/* SKIFF_MAX_QUEUES: one wake bit each */
#define HANDOFF_SLOT_SIZE	2048	/* default slot: a 1500-byte MTU frame + VLAN */
#define HANDOFF_SLOTS_MAX	256	/* per ring; fewer with many workers */
#define HANDOFF_SLOTS_MIN	32
/* the largest frame handed over: a reassembled datagram (IPv6's 40-byte
 * header and a 65535-byte payload) behind an Ethernet header and VLAN tag;
 * it takes a run of consecutive slots */
#define HANDOFF_FRAME_BIG	(18 + 40 + 65535)

/*
 * n_workers rings to every other worker.  slots: per ring, a power of two
 * (0: HANDOFF_SLOTS_MAX for up to 9 workers, then fewer, at least
 * HANDOFF_SLOTS_MIN, so 64 workers do not reserve gigabytes); frame_max: the
 * largest frame a slot holds (0: HANDOFF_SLOT_SIZE minus the slot header).
 * Slot memory is one anonymous mapping: pages of rings never used are never
 * touched.  0 or -errno.
 */
int handoff_create(struct handoff **hp, uint32_t n_workers, uint32_t slots, uint32_t frame_max);
void handoff_destroy(struct handoff *h);

/* Called (from the producer's thread, once per burst) when frames were
 * queued for worker; skiffd writes that worker's eventfd.  NULL: none. */
void handoff_set_wake(struct handoff *h, void (*wake)(void *ctx, uint32_t worker), void *ctx);

uint32_t handoff_n_workers(const struct handoff *h);
uint32_t handoff_ring_slots(const struct handoff *h);
uint32_t handoff_frame_max(const struct handoff *h);

/*
 * The ring from -> to.  Only the thread of worker `from` may push, only the
 * thread of worker `to` may peek and pop.
 * push: copy len bytes; 0, -ENOBUFS (ring full), -EMSGSIZE (len > handoff_frame_max())
 * or -EINVAL (bad worker numbers).
 * peek: the oldest frame (valid until pop), NULL when empty.
 */
int handoff_push(struct handoff *h, uint32_t from, uint32_t to, const void *frame, uint32_t len);
const void *handoff_peek(struct handoff *h, uint32_t from, uint32_t to, uint32_t *len);
void handoff_pop(struct handoff *h, uint32_t from, uint32_t to);
/* Slots in use in the ring from -> to (either side may ask; a snapshot):
 * one a frame, more for a frame larger than a slot. */
uint32_t handoff_pending(struct handoff *h, uint32_t from, uint32_t to);

/* ---- the stack side (st->worker, st->n_workers, st->handoff) ---- */

/*
 * Transport input found no connection or socket for pkb, whose local port
 * (host order) is in its protocol's ephemeral range.  If another worker owns
 * that port, hand the frame (mac header .. tail) to it and return true: pkb
 * is consumed (queued copy freed, or dropped and counted).  false: this
 * worker owns the port (or there is no handoff, or pkb was itself handed
 * over); pkb is untouched.
 */
bool handoff_rx(struct stack *st, struct pkb *pkb, uint16_t port);

/*
 * A copy of pkb's frame (mac header .. tail) for worker `to`, or for every
 * other worker when to < 0 (an ICMP error whose quoted flow may be on any
 * of them: net/icmp.c).  Does not own pkb.  Returns how many workers it was
 * queued for; 0 when there is nothing to do (no handoff, `to` is this
 * worker, or the frame was itself handed over: PKB_F_HANDED_OVER, never
 * handed on, so a frame moves at most once); -ENOBUFS when every copy
 * failed (ring full, frame too big, no MAC header), each counted in
 * drop.handoff_drop.
 */
int handoff_copy(struct stack *st, const struct pkb *pkb, int to);

/* stack_poll(): run every frame waiting for this worker through stack_rx
 * (at most budget per source ring), marked PKB_F_HANDED_OVER.  Returns
 * how many were received. */
int handoff_drain(struct stack *st, int budget);

/* stack_poll(): wake each worker that was handed frames since the last call. */
void handoff_kick(struct stack *st);

#endif /* SKIFF_HANDOFF_H */
