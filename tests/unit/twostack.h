/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Two whole stacks in one process, back to back on the one simulated clock:
 * A (10.0.0.1 and 2001:db8::1, MAC 02:..:01) and B (10.0.0.2 and
 * 2001:db8::2, MAC 02:..:02), both addresses dedicated, each over its own
 * fake device and knowing the other in its fake neighbour maps (ARP and
 * IPv6).  A
 * simulated link carries the frames each device transmits to the other,
 * through a seeded, deterministic impairment (loss, duplication, reordering,
 * corruption, one-way delay) and an optional scripted filter that sees every
 * frame.  twostack_run() is the event loop: it polls both stacks, moves
 * frames and jumps the clock to the next timer or delivery, so a minute of
 * simulated time costs only the events in it.
 *
 * Nothing here knows TCP: the TCP tests check their own buffers.  Frames on
 * the link are copies in memory of the link, never pool frames, so each
 * fake device's pool is all back once both stacks are idle.
 */
#ifndef SKIFF_TEST_TWOSTACK_H
#define SKIFF_TEST_TWOSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

enum { TS_A = 0, TS_B = 1 };

#define TS_ADDR_A H_ADDR /* 10.0.0.1, network order */
#define TS_ADDR_B H_PEER /* 10.0.0.2 */
/* 2001:db8::1 (A) and 2001:db8::2 (B), on 2001:db8::/64 */
extern const uint8_t ts_addr6[2][16];

/* What the link does to the frames of one direction (percentages 0..100). */
struct ts_impair {
	uint32_t loss_pct;
	uint32_t dup_pct;	 /* the copy is delivered right after the original */
	uint32_t reorder_pct;	 /* held back ... */
	uint32_t reorder_k;	 /* ... until k later frames were delivered (0: 3) */
	uint64_t reorder_max_ns; /* ... or this long past its time (0: 5 ms) */
	uint32_t corrupt_pct;	 /* one bit flipped after the IP header */
	uint64_t delay_ns;	 /* one-way delay */
	uint64_t rate_bps;	 /* bottleneck: frames leave one after another at this
				  * rate (bits/s of frame bytes), 0: none */
	uint32_t queue_bytes;	 /* ... behind a drop-tail queue this deep (0: no limit) */
};

/* Per direction, frames sent by that side. */
struct ts_counters {
	uint64_t sent;	    /* taken from the sender's device */
	uint64_t delivered; /* put on the receiver's device */
	uint64_t lost;	    /* dropped by the impairment */
	uint64_t filtered;  /* dropped by the filter */
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t corrupted;
	uint64_t rx_full; /* receiver had no free frame */
	uint64_t queue_drops; /* the bottleneck's queue was full */
};

enum { TS_PASS = 0, TS_DROP = 1 };

struct twostack;
/*
 * Sees every frame `from` sends (Ethernet first), before the impairment,
 * at the simulated time of sending; may change the bytes and *len (up to
 * FAKEDEV_FRAME_SIZE).  TS_PASS or TS_DROP.
 */
typedef int (*ts_filter_fn)(struct twostack *ts, int from, uint8_t *frame, uint32_t *len,
			    void *arg);

struct ts_frame;

struct ts_dir {
	struct ts_impair imp;
	struct ts_frame *head, *tail; /* in flight, in delivery order */
	struct ts_frame *held;	      /* reordered, waiting */
	uint64_t link_free;	      /* the bottleneck is busy until then */
	struct ts_counters c;
};

struct twostack {
	struct harness side[2]; /* TS_A, TS_B */
	struct ts_dir dir[2];	/* dir[i]: frames sent by side i */
	struct ts_frame *free;	/* spare link frames */
	uint64_t rng;		/* xorshift64 state */
	ts_filter_fn filter;
	void *filter_arg;
	uint64_t iterations; /* loop turns of twostack_run, for the curious */
};

/* Both stacks with inet on the fake clock at 1 s; seed != 0. 0 or -errno. */
int twostack_init(struct twostack *ts, uint64_t seed);
/* Free the link, take both stacks down, assert every frame is back. */
void twostack_fini(struct twostack *ts);

static inline struct stack *twostack_stack(struct twostack *ts, int side)
{
	return &ts->side[side].st;
}

void twostack_set_impair(struct twostack *ts, int from, const struct ts_impair *imp);
/* The same impairment both ways. */
void twostack_set_impair2(struct twostack *ts, const struct ts_impair *imp);
void twostack_set_filter(struct twostack *ts, ts_filter_fn fn, void *arg);

/*
 * Run both stacks and the link for up to ns of simulated time, stopping as
 * soon as cond(arg) is true (cond may be NULL; it is called once per loop
 * turn at the current simulated time and may itself call the socket API,
 * e.g. to pump data).  Returns true if cond became true; without cond, runs
 * the whole time and returns false.
 */
bool twostack_run(struct twostack *ts, uint64_t ns, bool (*cond)(void *arg), void *arg);

/* Frames on the link or waiting on either device's receive queue. */
uint32_t twostack_in_flight(const struct twostack *ts);

/* Deterministic random number of the test bed (xorshift64). */
uint64_t twostack_rand(struct twostack *ts);

/* Put bytes straight onto side to's receive queue (no link). 0 or -errno. */
int twostack_inject(struct twostack *ts, int to, const void *frame, size_t len);

/* ---- TCP on the wire, for filters and crafted segments ---- */

struct ts_tcp {
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;     /* host order */
	uint8_t flags;	       /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint16_t win;	       /* raw window field */
	uint16_t doff;	       /* TCP header bytes */
	uint32_t len;	       /* payload bytes */
	uint8_t *tcph;	       /* the TCP header inside the frame */
	const uint8_t *opts;   /* options, doff - 20 bytes */
	const uint8_t *payload;
};

/* Parse an Ethernet + IPv4 + TCP frame; false if it is something else. */
bool ts_tcp_parse(uint8_t *frame, uint32_t len, struct ts_tcp *t);

/*
 * Build Ethernet (from's MAC -> the other's) + IPv4 + TCP with correct
 * checksums; addresses as sent by `from`, ports host order; olen (a
 * multiple of 4, <= 40) bytes of TCP options.  Returns the frame length (0
 * if cap is short or olen is not valid).
 */
size_t ts_tcp_build(uint8_t *buf, size_t cap, int from, uint16_t sport, uint16_t dport,
		    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opts,
		    size_t olen, const void *payload, size_t plen);

#endif /* SKIFF_TEST_TWOSTACK_H */
