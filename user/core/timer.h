/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Timers on a hashed timing wheel (per stack, so per worker): O(1) to arm,
 * re-arm and cancel, and run only when due.  Callbacks run from
 * timers_run() inside the worker, never concurrently.
 */
#ifndef SKIFF_TIMER_H
#define SKIFF_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct stack;
struct timer;

typedef void (*timer_fn)(struct stack *st, struct timer *t);

struct timer {
	uint64_t expires;	/* ns, clock_now() base */
	timer_fn fn;
	struct timer *next;	/* wheel slot list */
	struct timer **pprev;	/* NULL when not pending */
};

struct timer_wheel;

void timer_init(struct timer *t, timer_fn fn);
/* Arm (or re-arm) t to fire at expires (ns). */
void timer_mod(struct stack *st, struct timer *t, uint64_t expires);
void timer_del(struct stack *st, struct timer *t);

static inline bool timer_pending(const struct timer *t)
{
	return t->pprev != 0;
}

/* Run every timer due at or before now. */
void timers_run(struct stack *st, uint64_t now);
/* A time no later than the earliest pending expiry, UINT64_MAX if none:
 * how long an idle worker may sleep. */
uint64_t timers_next(struct stack *st);

int timer_wheel_create(struct timer_wheel **out, uint64_t now);
void timer_wheel_destroy(struct timer_wheel *w);

#endif /* SKIFF_TIMER_H */
