// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A hashed timing wheel (Varghese & Lauck, scheme 6): TIMER_SLOTS lists of
 * TIMER_TICK_NS each; a timer lives in slot (tick of its expiry) mod
 * TIMER_SLOTS, unsorted, so arming, re-arming and cancelling are O(1) list
 * operations and a timer needs no memory beyond its struct timer.  Timers
 * further out than one revolution stay in their slot and are skipped by
 * each pass until their revolution comes.
 *
 * w->clk is the first tick not yet fully run: every timer with an expiry
 * tick before clk has fired.  A timer armed for a tick before clk (already
 * due) is put into clk's slot so the next run fires it.
 *
 * timers_run(now) walks the ticks from clk to now's tick.  For each tick it
 * moves the due timers of that slot onto w->expired, sorts them by expiry
 * (a stable merge sort of the list: equal expiries fire in arm order) and
 * runs them one by one.  w->expired is an ordinary timer list, so callbacks
 * may re-arm or delete any timer, including ones still waiting on it.  A
 * timer a callback arms for a time already past fires in the next tick of
 * this run, or in the next run when the current tick is now's tick: one
 * that keeps re-arming itself for "now" cannot livelock the worker.
 *
 * After a long idle gap (TIMER_SLOTS ticks or more) walking tick by tick
 * would cost the gap, so instead one pass over the whole wheel collects
 * every timer due by now, sorts them and runs them: never more than one
 * pass over the wheel per run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/stack.h"
#include "core/timer.h"

#define TIMER_TICK_NS	NSEC_PER_MSEC
#define TIMER_SLOTS	8192U		/* 2^13 ticks: 8.192 s per revolution */
#define TIMER_MASK	(TIMER_SLOTS - 1)
/* timers_next_scan() looks at no more timers than this per scan (~0.1 ms) */
#define TIMER_SCAN_BUDGET	65536U

struct timer_wheel {
	uint64_t clk;			/* first tick not fully run */
	uint64_t pending;		/* timers in slots or on expired */
	uint64_t next;			/* cached timers_next() answer ... */
	bool next_valid;		/* ... while nothing made it stale */
	struct timer *expired;		/* due, sorted, being run */
	/* bit i set when slots[i] may hold timers: set on arm, cleared by
	 * the scan that finds the slot empty (a superset of the busy slots) */
	uint64_t busy[TIMER_SLOTS / 64];
	struct timer *slots[TIMER_SLOTS];
};

static inline uint64_t timer_tick(uint64_t ns)
{
	return ns / TIMER_TICK_NS;
}

static inline void timer_link(struct timer **head, struct timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static inline void timer_unlink(struct timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void timer_init(struct timer *t, timer_fn fn)
{
	t->expires = 0;
	t->fn = fn;
	t->next = NULL;
	t->pprev = NULL;
}

void timer_mod(struct stack *st, struct timer *t, uint64_t expires)
{
	struct timer_wheel *w = st->timers;
	uint64_t tick = timer_tick(expires);

	if (t->pprev) {
		/* the cached earliest may have been this timer, now later */
		if (w->next_valid && t->expires == w->next && expires > t->expires)
			w->next_valid = false;
		timer_unlink(t);
	} else {
		w->pending++;
	}
	t->expires = expires;
	if (w->next_valid && expires < w->next)
		w->next = expires;
	if (tick < w->clk)
		tick = w->clk;
	timer_link(&w->slots[tick & TIMER_MASK], t);
	w->busy[(tick & TIMER_MASK) / 64] |= 1ull << (tick & 63);
}

void timer_del(struct stack *st, struct timer *t)
{
	struct timer_wheel *w = st->timers;

	if (!t->pprev)
		return;
	if (w->next_valid && t->expires == w->next)
		w->next_valid = false;
	timer_unlink(t);
	w->pending--;
}

/* Stable merge sort of a NULL-terminated list by expires (pprev not kept). */
static struct timer *timer_sort(struct timer *list)
{
	struct timer *a, *b, *slow, *fast, *out = NULL, **tailp = &out;

	if (!list || !list->next)
		return list;
	slow = list;
	fast = list->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	b = slow->next;
	slow->next = NULL;
	a = timer_sort(list);
	b = timer_sort(b);
	while (a && b) {
		if (b->expires < a->expires) {
			*tailp = b;
			b = b->next;
		} else {
			*tailp = a;
			a = a->next;
		}
		tailp = &(*tailp)->next;
	}
	*tailp = a ? a : b;
	return out;
}

/*
 * Move the timers of slot that are due onto *list (in reverse slot order,
 * i.e. oldest armed first, since slots are pushed at the head).  Due means
 * an expiry tick <= tick, or, when by_ns, an expiry <= now.
 */
static void timer_collect(struct timer **slot, struct timer **list, uint64_t tick, uint64_t now,
			  bool by_ns)
{
	struct timer *t = *slot, *next;

	for (; t; t = next) {
		next = t->next;
		if (by_ns ? t->expires > now : timer_tick(t->expires) > tick)
			continue;
		timer_unlink(t);
		t->next = *list;
		*list = t;
	}
}

/* Sort list onto w->expired and run it; callbacks see a consistent wheel. */
static void timer_run_list(struct stack *st, struct timer_wheel *w, struct timer *list)
{
	struct timer *t, **pprev;

	if (!list)
		return;
	w->next_valid = false;	/* the earliest timers are about to go */
	w->expired = timer_sort(list);
	for (pprev = &w->expired, t = w->expired; t; pprev = &t->next, t = t->next)
		t->pprev = pprev;

	while ((t = w->expired)) {
		timer_unlink(t);
		w->pending--;
		t->fn(st, t);
	}
}

void timers_run(struct stack *st, uint64_t now)
{
	struct timer_wheel *w = st->timers;
	uint64_t now_tick = timer_tick(now), t;
	struct timer *list = NULL;
	uint32_t i;

	if (now_tick < w->clk)
		now_tick = w->clk;

	if (now_tick - w->clk >= TIMER_SLOTS) {
		/* long idle gap: one pass over the wheel */
		w->clk = now_tick;
		if (!w->pending)
			return;
		for (i = 0; i < TIMER_SLOTS; i++)
			timer_collect(&w->slots[i], &list, 0, now, true);
		timer_run_list(st, w, list);
		return;
	}

	for (t = w->clk; t < now_tick; t++) {
		if (!w->pending) {
			w->clk = now_tick;
			return;
		}
		list = NULL;
		timer_collect(&w->slots[t & TIMER_MASK], &list, t, now, false);
		w->clk = t + 1;
		timer_run_list(st, w, list);
	}
	/* now's own tick, partly elapsed: only what is due by now */
	list = NULL;
	timer_collect(&w->slots[now_tick & TIMER_MASK], &list, now_tick, now, true);
	timer_run_list(st, w, list);
}

/*
 * The answer is cached: a slot can hold very many timers (100k connections
 * arming keepalive in the same millisecond all land in one), and an idle
 * worker asks before every sleep.  timer_mod() lowers the cache, and
 * timer_del(), a later re-arm of the cached timer, or a run drop it.  A
 * cached lower bound that the clock has passed is recomputed too.
 */
static uint64_t timers_next_scan(struct timer_wheel *w);

uint64_t timers_next(struct stack *st)
{
	struct timer_wheel *w = st->timers;

	if (!w->pending)
		return UINT64_MAX;
	if (!w->next_valid || w->next < w->clk * TIMER_TICK_NS) {
		w->next = timers_next_scan(w);
		w->next_valid = !w->expired;
	}
	return w->next;
}

/*
 * The first k' >= k (k' < TIMER_SLOTS) whose slot, the one of tick clk + k',
 * has its busy bit set; TIMER_SLOTS if none.  Skips 64 empty slots a word.
 */
static uint32_t timer_busy_next(const struct timer_wheel *w, uint32_t k)
{
	uint32_t i;
	uint64_t bits;

	while (k < TIMER_SLOTS) {
		i = (uint32_t)((w->clk + k) & TIMER_MASK);
		bits = w->busy[i / 64] >> (i & 63);
		if (bits) {
			k += (uint32_t)__builtin_ctzll(bits);
			return k < TIMER_SLOTS ? k : TIMER_SLOTS;
		}
		k += 64 - (i & 63);
	}
	return TIMER_SLOTS;
}

static uint64_t timers_next_scan(struct timer_wheel *w)
{
	uint64_t tick, min, far = UINT64_MAX;
	uint32_t k, i, seen = 0;
	struct timer *t;

	for (k = timer_busy_next(w, 0); k < TIMER_SLOTS; k = timer_busy_next(w, k + 1)) {
		tick = w->clk + k;
		i = (uint32_t)(tick & TIMER_MASK);
		t = w->slots[i];
		if (!t) {
			w->busy[i / 64] &= ~(1ull << (i & 63));
			continue;
		}
		/*
		 * Slots before this one hold no timer of this revolution, so
		 * nothing expires before tick; past the budget, that is the
		 * answer (a lower bound).
		 */
		if (seen >= TIMER_SCAN_BUDGET)
			return tick * TIMER_TICK_NS;
		min = UINT64_MAX;
		for (; t; t = t->next, seen++)
			if (t->expires < min)
				min = t->expires;
		/*
		 * The slot's earliest timer is the wheel's earliest unless it
		 * belongs to a later revolution.  Then go on: stopping here
		 * would wake an idle worker at every tick whose slot holds
		 * only far timers (60 s TIME_WAITs, keepalives), each ms
		 * through whole seconds of every revolution.
		 */
		if (timer_tick(min) < w->clk + TIMER_SLOTS)
			return min;
		if (min < far)
			far = min;
	}
	/* every timer in the slots is a revolution or more away (or none is
	 * there); those on w->expired are due (called from a callback) */
	if (w->expired && w->expired->expires < far)
		far = w->expired->expires;
	return far;
}

int timer_wheel_create(struct timer_wheel **out, uint64_t now)
{
	struct timer_wheel *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->clk = timer_tick(now);
	*out = w;
	return 0;
}

void timer_wheel_destroy(struct timer_wheel *w)
{
	free(w);
}
