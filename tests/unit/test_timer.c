// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The timing wheel: timers fire when due and in expiry order, callbacks may
 * re-arm or delete timers (their own or others), timers far beyond one
 * revolution and long idle gaps work, timers_next() never overshoots, and
 * 100k timers arm, re-arm and cancel correctly.  Time is simulated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/stack.h"
#include "core/timer.h"

#define MS NSEC_PER_MSEC
#define T0 (1000 * NSEC_PER_SEC)	/* the wheel's start time */
#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct ev {
	struct timer t;
	int id;
	int fired;
	uint64_t fired_at;		/* st->now of the run that fired it */
	uint64_t period;		/* re-arm by this much (0: one shot) */
	int rearm_left;
	int rearm_now;			/* re-arm for st->now this many times */
	struct ev *victim;		/* deleted by this one's callback */
	struct ev *mover;		/* re-armed to +1 s by this one's callback */
};

#define MAX_LOG 200000
static int log_ids[MAX_LOG];
static uint64_t log_exp[MAX_LOG];
static int n_log;

static void ev_fn(struct stack *st, struct timer *t)
{
	struct ev *e = container_of(t, struct ev, t);

	assert_false(timer_pending(t));
	if (n_log < MAX_LOG) {
		log_ids[n_log] = e->id;
		log_exp[n_log] = t->expires;
	}
	n_log++;
	e->fired++;
	e->fired_at = st->now;
	if (e->victim)
		timer_del(st, &e->victim->t);
	if (e->mover)
		timer_mod(st, &e->mover->t, st->now + NSEC_PER_SEC);
	if (e->period && e->rearm_left) {
		e->rearm_left--;
		timer_mod(st, t, t->expires + e->period);
	}
	if (e->rearm_now) {
		e->rearm_now--;
		timer_mod(st, t, st->now);
	}
}

static int setup(void **state)
{
	static struct stack st;

	memset(&st, 0, sizeof(st));
	if (timer_wheel_create(&st.timers, T0))
		return -1;
	st.now = T0;
	n_log = 0;
	*state = &st;
	return 0;
}

static int teardown(void **state)
{
	struct stack *st = *state;

	timer_wheel_destroy(st->timers);
	return 0;
}

static void run(struct stack *st, uint64_t now)
{
	st->now = now;
	timers_run(st, now);
}

static void ev_init(struct ev *e, int id)
{
	memset(e, 0, sizeof(*e));
	e->id = id;
	timer_init(&e->t, ev_fn);
}

static void timer_fires_at_its_expiry_not_before(void **state)
{
	struct stack *st = *state;
	struct ev e;

	ev_init(&e, 1);
	assert_false(timer_pending(&e.t));
	timer_mod(st, &e.t, T0 + 5 * MS + 300);
	assert_true(timer_pending(&e.t));
	run(st, T0 + 5 * MS);
	assert_int_equal(e.fired, 0);
	run(st, T0 + 5 * MS + 299);
	assert_int_equal(e.fired, 0);
	run(st, T0 + 5 * MS + 300);	/* due at or before now */
	assert_int_equal(e.fired, 1);
	assert_false(timer_pending(&e.t));
	run(st, T0 + 50 * MS);
	assert_int_equal(e.fired, 1);
}

static void timers_fire_in_expiry_order_within_and_across_ticks(void **state)
{
	struct stack *st = *state;
	/* expiries (µs after T0), armed in this scrambled order */
	static const uint64_t us[] = { 3500, 1200, 3100, 1900, 1000, 3999, 1500, 2000, 3000, 1001 };
	struct ev e[10];
	int i;

	for (i = 0; i < 10; i++) {
		ev_init(&e[i], i);
		timer_mod(st, &e[i].t, T0 + us[i] * NSEC_PER_USEC);
	}
	run(st, T0 + 10 * MS);
	assert_int_equal(n_log, 10);
	for (i = 1; i < 10; i++)
		assert_true(log_exp[i - 1] < log_exp[i]);
	assert_int_equal(log_ids[0], 4);	/* 1000 µs */
	assert_int_equal(log_ids[9], 5);	/* 3999 µs */
}

static void equal_expiries_fire_in_arm_order(void **state)
{
	struct stack *st = *state;
	struct ev e[5];
	int i;

	for (i = 0; i < 5; i++) {
		ev_init(&e[i], i);
		timer_mod(st, &e[i].t, T0 + 2 * MS);
	}
	run(st, T0 + 2 * MS);
	assert_int_equal(n_log, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(log_ids[i], i);
}

static void rearm_moves_a_pending_timer(void **state)
{
	struct stack *st = *state;
	struct ev e;

	ev_init(&e, 1);
	timer_mod(st, &e.t, T0 + 5 * MS);
	timer_mod(st, &e.t, T0 + 20 * MS);
	run(st, T0 + 10 * MS);
	assert_int_equal(e.fired, 0);
	timer_mod(st, &e.t, T0 + 12 * MS);	/* earlier again */
	run(st, T0 + 12 * MS);
	assert_int_equal(e.fired, 1);
	run(st, T0 + 30 * MS);
	assert_int_equal(e.fired, 1);
}

static void deleted_timer_never_fires_and_delete_is_idempotent(void **state)
{
	struct stack *st = *state;
	struct ev e;

	ev_init(&e, 1);
	timer_del(st, &e.t);		/* never armed */
	timer_mod(st, &e.t, T0 + 5 * MS);
	timer_del(st, &e.t);
	timer_del(st, &e.t);
	assert_false(timer_pending(&e.t));
	assert_int_equal(timers_next(st), UINT64_MAX);
	run(st, T0 + 100 * MS);
	assert_int_equal(e.fired, 0);
}

static void periodic_rearm_from_callback_fires_once_per_period(void **state)
{
	struct stack *st = *state;
	struct ev e;
	uint64_t t;

	ev_init(&e, 1);
	e.period = 10 * MS;
	e.rearm_left = 1000;
	timer_mod(st, &e.t, T0 + 10 * MS);
	for (t = T0; t <= T0 + 100 * MS; t += MS / 4)
		run(st, t);
	assert_int_equal(e.fired, 10);

	/* one run over a 100 ms step still fires every period it covers */
	run(st, T0 + 200 * MS);
	assert_int_equal(e.fired, 20);
	for (int i = 1; i < n_log; i++)
		assert_int_equal(log_exp[i] - log_exp[i - 1], 10 * MS);
	timer_del(st, &e.t);
}

static void rearm_to_the_past_from_callback_fires_next_run_without_livelock(void **state)
{
	struct stack *st = *state;
	struct ev e;

	ev_init(&e, 1);
	timer_mod(st, &e.t, T0 + MS);
	/* a callback that re-arms itself for "now" every time */
	e.rearm_now = 5;
	run(st, T0 + MS);
	assert_int_equal(e.fired, 1);
	assert_true(timer_pending(&e.t));
	run(st, T0 + MS);
	assert_int_equal(e.fired, 2);
	run(st, T0 + MS + 1);
	assert_int_equal(e.fired, 3);
	timer_del(st, &e.t);
}

static void callback_deletes_another_due_timer(void **state)
{
	struct stack *st = *state;
	struct ev a, b, c;

	ev_init(&a, 1);
	ev_init(&b, 2);
	ev_init(&c, 3);
	timer_mod(st, &a.t, T0 + 3 * MS);
	timer_mod(st, &b.t, T0 + 3 * MS + 10);	/* same tick, after a */
	timer_mod(st, &c.t, T0 + 7 * MS);	/* later tick, same run */
	a.victim = &b;
	b.victim = &c;		/* never runs */
	run(st, T0 + 10 * MS);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
	assert_int_equal(c.fired, 1);
	assert_false(timer_pending(&b.t));
	assert_int_equal(timers_next(st), UINT64_MAX);

	/* deleting a timer due in a later tick of the same run */
	ev_init(&a, 1);
	ev_init(&c, 3);
	timer_mod(st, &a.t, T0 + 11 * MS);
	timer_mod(st, &c.t, T0 + 15 * MS);
	a.victim = &c;
	run(st, T0 + 20 * MS);
	assert_int_equal(a.fired, 1);
	assert_int_equal(c.fired, 0);
}

static void callback_rearms_another_due_timer_into_the_future(void **state)
{
	struct stack *st = *state;
	struct ev a, b;

	ev_init(&a, 1);
	ev_init(&b, 2);
	timer_mod(st, &a.t, T0 + 3 * MS);
	timer_mod(st, &b.t, T0 + 3 * MS + 1);
	a.mover = &b;
	run(st, T0 + 5 * MS);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
	assert_true(timer_pending(&b.t));
	assert_int_equal(b.t.expires, T0 + 5 * MS + NSEC_PER_SEC);
	run(st, T0 + 5 * MS + NSEC_PER_SEC);
	assert_int_equal(b.fired, 1);
}

static void callback_deleting_itself_is_harmless(void **state)
{
	struct stack *st = *state;
	struct ev a, b;

	ev_init(&a, 1);
	ev_init(&b, 2);
	a.victim = &a;
	timer_mod(st, &a.t, T0 + MS);
	timer_mod(st, &b.t, T0 + MS);
	run(st, T0 + 2 * MS);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(timers_next(st), UINT64_MAX);
}

static void far_future_timers_survive_wheel_wraps(void **state)
{
	struct stack *st = *state;
	struct ev e[4];
	/* several revolutions of an 8.192 s wheel, one sharing a slot with a near timer */
	static const uint64_t at[] = { 30 * NSEC_PER_SEC + 3 * MS, 3 * MS,
				       3 * MS + 8192 * MS, 100 * NSEC_PER_SEC + 7 };
	uint64_t t;
	int i;

	for (i = 0; i < 4; i++) {
		ev_init(&e[i], i);
		timer_mod(st, &e[i].t, T0 + at[i]);
	}
	for (t = T0; t <= T0 + 101 * NSEC_PER_SEC; t += 7 * MS) {
		run(st, t);
		for (i = 0; i < 4; i++) {
			if (t < T0 + at[i])
				assert_int_equal(e[i].fired, 0);
			else
				assert_int_equal(e[i].fired, 1);
		}
	}
	for (i = 0; i < 4; i++)
		assert_true(e[i].fired_at - (T0 + at[i]) < 7 * MS);
}

static void long_idle_gap_fires_everything_due_in_order(void **state)
{
	struct stack *st = *state;
	enum { N = 1000 };
	static struct ev e[N];
	struct ev late;
	int i;

	srand(42);
	for (i = 0; i < N; i++) {
		ev_init(&e[i], i);
		/* anywhere in the next hour */
		timer_mod(st, &e[i].t, T0 + (uint64_t)rand() % (3600 * NSEC_PER_SEC));
	}
	ev_init(&late, -1);
	timer_mod(st, &late.t, T0 + 3 * 3600 * NSEC_PER_SEC);

	run(st, T0 + 2 * 3600 * NSEC_PER_SEC);	/* one call after two idle hours */
	assert_int_equal(n_log, N);
	for (i = 1; i < N; i++)
		assert_true(log_exp[i - 1] <= log_exp[i]);
	assert_int_equal(late.fired, 0);
	assert_int_equal(timers_next(st) <= late.t.expires, 1);

	/* the wheel keeps working afterwards */
	ev_init(&e[0], 0);
	timer_mod(st, &e[0].t, st->now + 2 * MS);
	run(st, st->now + MS);
	assert_int_equal(e[0].fired, 0);
	run(st, st->now + MS);
	assert_int_equal(e[0].fired, 1);
	run(st, T0 + 3 * 3600 * NSEC_PER_SEC);
	assert_int_equal(late.fired, 1);
}

static void timer_armed_in_the_past_fires_on_next_run(void **state)
{
	struct stack *st = *state;
	struct ev e;

	run(st, T0 + 50 * MS);
	ev_init(&e, 1);
	timer_mod(st, &e.t, T0 + 10 * MS);
	assert_true(timers_next(st) <= T0 + 10 * MS);
	run(st, T0 + 50 * MS);
	assert_int_equal(e.fired, 1);
}

/* timers_next() is cached: every change that can move the earliest expiry
 * must show in the next answer. */
static void timers_next_follows_arm_rearm_delete_and_run(void **state)
{
	struct stack *st = *state;
	static struct ev e[3];

	ev_init(&e[0], 0);
	ev_init(&e[1], 1);
	ev_init(&e[2], 2);
	timer_mod(st, &e[0].t, T0 + 50 * MS);
	assert_int_equal(timers_next(st), T0 + 50 * MS);
	timer_mod(st, &e[1].t, T0 + 10 * MS);		/* earlier: lowers it */
	assert_int_equal(timers_next(st), T0 + 10 * MS);
	timer_mod(st, &e[1].t, T0 + 70 * MS);		/* the earliest moves later */
	assert_int_equal(timers_next(st), T0 + 50 * MS);
	timer_mod(st, &e[2].t, T0 + 60 * MS);		/* later than the earliest: no change */
	assert_int_equal(timers_next(st), T0 + 50 * MS);
	timer_del(st, &e[0].t);				/* the earliest goes */
	assert_int_equal(timers_next(st), T0 + 60 * MS);
	run(st, T0 + 60 * MS);				/* it fires */
	assert_int_equal(n_log, 1);
	assert_int_equal(timers_next(st), T0 + 70 * MS);
	timer_del(st, &e[1].t);
	assert_int_equal(timers_next(st), UINT64_MAX);
	n_log = 0;
}

static void timers_next_is_a_lower_bound_of_the_earliest_expiry(void **state)
{
	struct stack *st = *state;
	static struct ev e[500];
	uint64_t min, next;
	int i, round;

	assert_int_equal(timers_next(st), UINT64_MAX);

	ev_init(&e[0], 0);
	timer_mod(st, &e[0].t, T0 + 42 * MS + 17);
	assert_int_equal(timers_next(st), T0 + 42 * MS + 17);	/* exact within a revolution */

	timer_mod(st, &e[0].t, T0 + 1000 * NSEC_PER_SEC);	/* many revolutions out */
	next = timers_next(st);
	assert_true(next <= T0 + 1000 * NSEC_PER_SEC);
	assert_true(next >= T0);
	timer_del(st, &e[0].t);

	srand(7);
	for (round = 0; round < 50; round++) {
		min = UINT64_MAX;
		for (i = 0; i < 500; i++) {
			uint64_t at = st->now + (uint64_t)rand() % (60 * NSEC_PER_SEC);

			ev_init(&e[i], i);
			timer_mod(st, &e[i].t, at);
			if (at < min)
				min = at;
		}
		next = timers_next(st);
		assert_true(next <= min);
		assert_true(next >= st->now - st->now % MS);
		run(st, min);		/* the earliest fires exactly when the bound says */
		assert_true(n_log >= 1);
		for (i = 0; i < 500; i++)
			timer_del(st, &e[i].t);
		n_log = 0;
		run(st, st->now + 123 * MS);
	}
	assert_int_equal(timers_next(st), UINT64_MAX);
}

/*
 * Timers a revolution or more away (60 s TIME_WAITs) in the slots the wheel
 * passes first must not make timers_next() answer "the next tick": an idle
 * worker would wake every millisecond through them.  It answers a nearer
 * timer further round the wheel, or the earliest far one.
 */
static void far_timers_in_the_first_slots_do_not_cut_timers_next_short(void **state)
{
	struct stack *st = *state;
	static struct ev far[2000];
	struct ev near;
	uint64_t next;
	int i, wakes = 0;

	/* 60 s + i ms: 2,000 consecutive slots, 2.6 s round the wheel from clk */
	for (i = 0; i < 2000; i++) {
		ev_init(&far[i], i);
		timer_mod(st, &far[i].t, T0 + 60 * NSEC_PER_SEC + (uint64_t)i * MS + 5);
	}
	assert_int_equal(timers_next(st), T0 + 60 * NSEC_PER_SEC + 5);

	ev_init(&near, 9999);
	timer_mod(st, &near.t, T0 + 5 * NSEC_PER_SEC + 3);	/* beyond the far slots */
	assert_int_equal(timers_next(st), T0 + 5 * NSEC_PER_SEC + 3);
	timer_del(st, &near.t);
	assert_int_equal(timers_next(st), T0 + 60 * NSEC_PER_SEC + 5);

	/* an idle worker: sleep until timers_next(), run, repeat */
	while (!n_log) {
		next = timers_next(st);
		assert_true(next > st->now);
		run(st, next);
		wakes++;
	}
	assert_int_equal(wakes, 1);
	assert_int_equal(n_log, 1);
	assert_int_equal(log_ids[0], 0);
	for (i = 0; i < 2000; i++)
		timer_del(st, &far[i].t);
	n_log = 0;
}

static void many_timers_arm_rearm_cancel_and_fire_exactly_once(void **state)
{
	struct stack *st = *state;
	enum { N = 100000 };
	struct ev *e = calloc(N, sizeof(*e));
	uint64_t t, horizon = 300 * NSEC_PER_SEC;
	int i, expect = 0;

	assert_non_null(e);
	srand(1);
	for (i = 0; i < N; i++) {
		ev_init(&e[i], i);
		timer_mod(st, &e[i].t, T0 + (uint64_t)rand() % horizon);
	}
	for (i = 0; i < N; i++)		/* re-arm everything once */
		timer_mod(st, &e[i].t, T0 + MS + (uint64_t)rand() % horizon);
	for (i = 0; i < N; i += 2)	/* cancel half */
		timer_del(st, &e[i].t);
	for (i = 0; i < N; i++)
		if (timer_pending(&e[i].t))
			expect++;
	assert_int_equal(expect, N / 2);

	for (t = T0; t <= T0 + horizon + 2 * MS; t += 10 * MS)
		run(st, t);
	assert_int_equal(n_log, N / 2);
	for (i = 0; i < N; i++) {
		assert_int_equal(e[i].fired, i % 2);
		assert_false(timer_pending(&e[i].t));
	}
	for (i = 1; i < N / 2; i++)
		assert_true(log_exp[i - 1] <= log_exp[i]);
	assert_int_equal(timers_next(st), UINT64_MAX);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(timer_fires_at_its_expiry_not_before),
		T(timers_fire_in_expiry_order_within_and_across_ticks),
		T(equal_expiries_fire_in_arm_order),
		T(rearm_moves_a_pending_timer),
		T(deleted_timer_never_fires_and_delete_is_idempotent),
		T(periodic_rearm_from_callback_fires_once_per_period),
		T(rearm_to_the_past_from_callback_fires_next_run_without_livelock),
		T(callback_deletes_another_due_timer),
		T(callback_rearms_another_due_timer_into_the_future),
		T(callback_deleting_itself_is_harmless),
		T(far_future_timers_survive_wheel_wraps),
		T(long_idle_gap_fires_everything_due_in_order),
		T(timer_armed_in_the_past_fires_on_next_run),
		T(timers_next_is_a_lower_bound_of_the_earliest_expiry),
		T(far_timers_in_the_first_slots_do_not_cut_timers_next_short),
		T(timers_next_follows_arm_rearm_delete_and_run),
		T(many_timers_arm_rearm_cancel_and_fire_exactly_once),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
