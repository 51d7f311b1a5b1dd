// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Congestion control on a simulated ACK clock: each round trip the whole
 * window is acknowledged one MSS (or two) at a time, spread over the RTT.
 * NewReno: RFC 6928 initial window, slow start doubling per RTT (also with
 * delayed ACKs, RFC 3465 L = 2), about one MSS per RTT in congestion
 * avoidance, ssthresh = max(FlightSize / 2, 2 MSS).  CUBIC (RFC 9438):
 * beta = 0.7 reduction, concave growth reaching W_max at t = K from the
 * RFC's formula, convex beyond, the Reno-friendly region at small windows
 * and short RTTs, fast convergence lowering W_max.  Neither grows when the
 * sender is not cwnd-limited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "transport/tcp_cong.h"

#define MSS	1460U
#define MS	1000000ULL
#define SEC	1000000000ULL

static void cong_new(const struct tcp_cong_ops *ops, struct tcp_cong *c, uint32_t mss)
{
	memset(c, 0, sizeof(*c));
	c->mss = mss;
	ops->init(c, SEC);
}

/*
 * One round trip: the window at its start is acknowledged in pieces of
 * per_ack bytes, evenly over rtt_ns, by a cwnd-limited sender.
 */
static void run_rtt(const struct tcp_cong_ops *ops, struct tcp_cong *c, uint64_t *now,
		    uint64_t rtt_ns, uint32_t per_ack)
{
	uint32_t win = c->cwnd, n = win / per_ack, i;

	if (!n)
		n = 1;
	for (i = 0; i < n; i++) {
		*now += rtt_ns / n;
		ops->cong_avoid(c, per_ack, win, 1, *now);
	}
}

/* Loss at the current window, recovery over, congestion avoidance at now. */
static void loss_and_recover(const struct tcp_cong_ops *ops, struct tcp_cong *c, uint64_t now)
{
	ops->event(c, TCP_CA_EVENT_RECOVERY_START, now);
	c->ssthresh = ops->ssthresh(c, c->cwnd, now);
	c->cwnd = c->ssthresh;
	ops->event(c, TCP_CA_EVENT_RECOVERY_END, now);
}

/* ---- shared ---- */

/* The loss-based algorithms, alike in slow start and the initial window. */
static const struct tcp_cong_ops *const loss_based[] = { &tcp_newreno, &tcp_cubic };
#define N_LOSS_BASED (sizeof(loss_based) / sizeof(loss_based[0]))

static void initial_window_follows_rfc6928(void **state)
{
	struct tcp_cong c;
	size_t i;

	(void)state;
	for (i = 0; i < N_LOSS_BASED; i++) {
		cong_new(loss_based[i], &c, 1460);
		assert_int_equal(c.cwnd, 14600);	/* 10 segments */
		assert_true(c.ssthresh >= 0x7fffffffU);
		cong_new(loss_based[i], &c, 536);
		assert_int_equal(c.cwnd, 5360);		/* min(10 * MSS, 14600) */
		cong_new(loss_based[i], &c, 8960);
		assert_int_equal(c.cwnd, 17920);	/* max(2 * MSS, 14600) */
		assert_int_equal(c.min_rtt_us, 0);
	}
}

static void slow_start_doubles_cwnd_per_rtt(void **state)
{
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < N_LOSS_BASED; i++) {
		struct tcp_cong c;
		uint64_t now = SEC;
		uint32_t w;

		cong_new(loss_based[i], &c, MSS);
		for (r = 0; r < 5; r++) {
			w = c.cwnd;
			run_rtt(loss_based[i], &c, &now, 50 * MS, MSS);
			assert_int_equal(c.cwnd, 2 * w);
		}
		/* Delayed ACKs (two segments each) double it too (L = 2). */
		for (r = 0; r < 3; r++) {
			w = c.cwnd;
			run_rtt(loss_based[i], &c, &now, 50 * MS, 2 * MSS);
			assert_int_equal(c.cwnd, 2 * w);
		}
	}
}

static void slow_start_counts_at_most_two_mss_per_ack(void **state)
{
	struct tcp_cong c;
	size_t i;

	(void)state;
	for (i = 0; i < N_LOSS_BASED; i++) {
		cong_new(loss_based[i], &c, MSS);
		loss_based[i]->cong_avoid(&c, 10 * MSS, c.cwnd, 1, 2 * SEC);
		assert_int_equal(c.cwnd, 12 * MSS);
	}
}

static void slow_start_stops_at_ssthresh(void **state)
{
	struct tcp_cong c;
	uint64_t now = SEC;
	int r;

	(void)state;
	cong_new(&tcp_newreno, &c, MSS);
	c.ssthresh = 15 * MSS;
	run_rtt(&tcp_newreno, &c, &now, 50 * MS, MSS);
	/* 10 -> 15 by slow start, then the rest of the round is avoidance. */
	assert_true(c.cwnd >= 15 * MSS && c.cwnd <= 16 * MSS);
	for (r = 0; r < 5; r++)
		run_rtt(&tcp_newreno, &c, &now, 50 * MS, MSS);
	assert_true(c.cwnd >= 20 * MSS && c.cwnd <= 21 * MSS);
}

static void no_growth_when_not_cwnd_limited(void **state)
{
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < N_LOSS_BASED; i++) {
		struct tcp_cong c;
		uint64_t now = SEC;
		uint32_t w;

		cong_new(loss_based[i], &c, MSS);
		for (k = 0; k < 100; k++)	/* slow start */
			loss_based[i]->cong_avoid(&c, MSS, MSS, 0, now += MS);
		assert_int_equal(c.cwnd, 10 * MSS);
		/* Congestion avoidance, after a loss. */
		c.cwnd = 40 * MSS;
		loss_and_recover(loss_based[i], &c, now);
		w = c.cwnd;
		for (k = 0; k < 10000; k++)
			loss_based[i]->cong_avoid(&c, MSS, 5 * MSS, 0, now += MS);
		assert_int_equal(c.cwnd, w);
	}
}

static void rtt_samples_keep_the_minimum(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_LOSS_BASED; i++) {
		struct tcp_cong c;

		cong_new(loss_based[i], &c, MSS);
		loss_based[i]->rtt_sample(&c, 30000, SEC);
		loss_based[i]->rtt_sample(&c, 20000, SEC);
		loss_based[i]->rtt_sample(&c, 25000, SEC);
		assert_int_equal(c.min_rtt_us, 20000);
	}
}

static void find_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(tcp_cong_find("cubic"), &tcp_cubic);
	assert_ptr_equal(tcp_cong_find("newreno"), &tcp_newreno);
	assert_ptr_equal(tcp_cong_find("reno"), &tcp_newreno);
	assert_ptr_equal(tcp_cong_find("bbr"), &tcp_bbr);
	assert_null(tcp_cong_find("bbr2"));
	assert_null(tcp_cong_find(""));
	assert_null(tcp_cong_find(NULL));
	assert_string_equal(tcp_cubic.name, "cubic");
	assert_string_equal(tcp_newreno.name, "newreno");
	assert_string_equal(tcp_bbr.name, "bbr");
	/* the SKIFF_TCP_CONGESTION / --cc numbers */
	assert_ptr_equal(tcp_cong_by_id(0), &tcp_cubic);
	assert_ptr_equal(tcp_cong_by_id(1), &tcp_newreno);
	assert_ptr_equal(tcp_cong_by_id(2), &tcp_bbr);
	assert_null(tcp_cong_by_id(3));
	assert_int_equal(tcp_cong_id(&tcp_bbr), 2);
	assert_int_equal(tcp_cong_id(NULL), -1);
}

/* ---- NewReno ---- */

static void newreno_avoidance_grows_one_mss_per_rtt(void **state)
{
	struct tcp_cong c;
	uint64_t now = SEC;
	uint32_t w;
	int r;

	(void)state;
	cong_new(&tcp_newreno, &c, MSS);
	c.cwnd = c.ssthresh = 20 * MSS;
	for (r = 0; r < 30; r++) {
		w = c.cwnd;
		run_rtt(&tcp_newreno, &c, &now, 50 * MS, MSS);
		assert_int_equal(c.cwnd, w + MSS);
	}
	/* Delayed ACKs: the same bytes acked, the same growth. */
	for (r = 0; r < 10; r++) {
		w = c.cwnd;
		run_rtt(&tcp_newreno, &c, &now, 50 * MS, 2 * MSS);
		assert_true(c.cwnd >= w && c.cwnd <= w + MSS);
	}
	assert_true(c.cwnd >= 58 * MSS && c.cwnd <= 60 * MSS);
}

static void newreno_ssthresh_is_half_the_flight_at_least_two_mss(void **state)
{
	struct tcp_cong c;

	(void)state;
	cong_new(&tcp_newreno, &c, MSS);
	assert_int_equal(tcp_newreno.ssthresh(&c, 100 * MSS, SEC), 50 * MSS);
	assert_int_equal(tcp_newreno.ssthresh(&c, 101 * MSS, SEC), 101 * MSS / 2);
	assert_int_equal(tcp_newreno.ssthresh(&c, 3 * MSS, SEC), 2 * MSS);
	assert_int_equal(tcp_newreno.ssthresh(&c, 0, SEC), 2 * MSS);
}

static void newreno_after_rto_slow_starts_to_ssthresh(void **state)
{
	struct tcp_cong c;
	uint64_t now = SEC;
	int r;

	(void)state;
	cong_new(&tcp_newreno, &c, MSS);
	c.cwnd = 64 * MSS;
	c.ssthresh = tcp_newreno.ssthresh(&c, 64 * MSS, now);
	c.cwnd = MSS;
	tcp_newreno.event(&c, TCP_CA_EVENT_LOSS, now);
	for (r = 0; r < 5; r++)	/* 1 2 4 8 16 32 */
		run_rtt(&tcp_newreno, &c, &now, 50 * MS, MSS);
	assert_int_equal(c.cwnd, 32 * MSS);
	run_rtt(&tcp_newreno, &c, &now, 50 * MS, MSS);
	assert_int_equal(c.cwnd, 33 * MSS);	/* avoidance from ssthresh on */
}

/* ---- CUBIC ---- */

#define BETA	0.7
#define C_CUBIC	0.4

/* No libm in the link: small helpers. */
static double fabs_(double x)
{
	return x < 0 ? -x : x;
}

static double cube(double x)
{
	return x * x * x;
}

/* Bisection: slow and obviously right, unlike the code under test. */
static double cbrt_(double x)
{
	double lo = 0, hi = x > 1 ? x : 1;
	int i;

	for (i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (cube(mid) < x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static double k_of(double w_max_segs, double cwnd_epoch_segs)
{
	return cbrt_((w_max_segs - cwnd_epoch_segs) / C_CUBIC);
}

static double segs(const struct tcp_cong *c)
{
	return (double)c->cwnd / c->mss;
}

/* CUBIC with a first RTT sample of rtt_us at now and a window of cwnd_segs segments. */
static void cubic_new(struct tcp_cong *c, uint64_t now, uint32_t rtt_us, uint32_t cwnd_segs)
{
	cong_new(&tcp_cubic, c, MSS);
	tcp_cubic.rtt_sample(c, rtt_us, now);
	c->cwnd = cwnd_segs * MSS;
}

/* 100 ms rounds for K, the time the curve takes from w_epoch back to w_max. */
static void run_for_k(struct tcp_cong *c, uint64_t *now, double w_max, double w_epoch)
{
	double k = k_of(w_max, w_epoch);
	uint64_t t0 = *now;

	while ((double)(*now - t0) / SEC < k)
		run_rtt(&tcp_cubic, c, now, 100 * MS, MSS);
}

static void cubic_loss_reduces_to_beta_times_wmax(void **state)
{
	struct tcp_cong c;

	(void)state;
	cong_new(&tcp_cubic, &c, MSS);
	c.cwnd = 100 * MSS;
	assert_int_equal(tcp_cubic.ssthresh(&c, 100 * MSS, SEC), 70 * MSS);
	c.cwnd = 2 * MSS;
	assert_int_equal(tcp_cubic.ssthresh(&c, 2 * MSS, SEC), 2 * MSS);	/* floor */
}

/*
 * After a loss at W_max = 100 segments (RTT 100 ms), cwnd climbs concave
 * from 70 to W_max, arriving at t = K = cbrt(W_max * (1 - beta) / C), then
 * grows convex beyond it (until, about 6 s in, the Reno-friendly
 * estimate passes the curve, RFC 9438 4.3).
 */
static void cubic_concave_to_wmax_at_k_then_convex(void **state)
{
	struct tcp_cong c;
	uint64_t now = 10 * SEC, t0;
	double k = k_of(100, 70), prev_w, prev_inc = 1e9, w_k = 0;
	int r, reached = 0;

	(void)state;
	cubic_new(&c, now, 100000, 100);
	loss_and_recover(&tcp_cubic, &c, now);
	assert_int_equal(c.cwnd, 70 * MSS);
	assert_true(fabs_(k - 4.2172) < 0.001);

	t0 = now;
	prev_w = segs(&c);
	for (r = 1; r <= 80; r++) {
		double t, inc, model;

		run_rtt(&tcp_cubic, &c, &now, 100 * MS, MSS);
		t = (double)(now - t0) / SEC;
		inc = segs(&c) - prev_w;
		/* W_cubic(t) = C (t - K)^3 + W_max: cwnd tracks it within ~2
		 * segments (it aims one RTT ahead, reaches it a round later). */
		model = C_CUBIC * cube(t - k) + 100;
		if (t < k + 1.0)
			assert_true(fabs_(segs(&c) - model) < 2.5);
		else	/* later the Reno-friendly estimate (now 1/RTT) may lead */
			assert_true(segs(&c) > model - 2.5);
		if (t < k - 0.5) {
			assert_true(segs(&c) < 100);
			assert_true(inc <= prev_inc + 0.05);	/* concave: slowing */
		}
		if (!reached && t >= k) {
			reached = 1;
			w_k = segs(&c);
		}
		if (t > k + 1.0) {
			assert_true(segs(&c) > 100);
			assert_true(inc >= prev_inc - 0.05);	/* convex: speeding up */
		}
		prev_inc = inc;
		prev_w = segs(&c);
	}
	assert_true(reached);
	assert_true(fabs_(w_k - 100) < 2.0);
	/* Eight seconds in, far above: C (8 - K)^3 + W_max ~ 121.6. */
	assert_true(segs(&c) > 115);
}

/*
 * Small window, 1 ms RTT: the cubic curve barely moves in 20 ms, but the
 * Reno-friendly estimate grows (alpha_cubic, then 1 MSS per RTT), and
 * cwnd follows it.
 */
static void cubic_reno_friendly_region_dominates_at_small_rtt(void **state)
{
	struct tcp_cong c;
	uint64_t now = 10 * SEC, t0;
	double k = k_of(10, 7), w_cubic;
	int r;

	(void)state;
	cubic_new(&c, now, 1000, 10);
	loss_and_recover(&tcp_cubic, &c, now);
	assert_int_equal(c.cwnd, 7 * MSS);
	t0 = now;
	for (r = 0; r < 20; r++)
		run_rtt(&tcp_cubic, &c, &now, 1 * MS, MSS);
	w_cubic = C_CUBIC * cube((double)(now - t0) / SEC - k) + 10;
	assert_true(w_cubic < 7.2);
	/* ~6 RTTs at alpha = 0.53 back to 10, then 1 per RTT: ~24. */
	assert_true(segs(&c) > 20 && segs(&c) < 28);
}

/*
 * A second loss below the last W_max: W_max = cwnd * (1 + beta) / 2.
 * Windows of hundreds of segments, so the cubic curve, not the
 * Reno-friendly estimate, sets the pace at RTT 100 ms.
 */
static void cubic_fast_convergence_lowers_wmax(void **state)
{
	struct tcp_cong c;
	uint64_t now = 10 * SEC;

	(void)state;
	cubic_new(&c, now, 100000, 1000);
	loss_and_recover(&tcp_cubic, &c, now);	/* W_max = 1000 */
	c.cwnd = 800 * MSS;
	loss_and_recover(&tcp_cubic, &c, now);	/* 800 < 1000: W_max = 680 */
	assert_int_equal(c.cwnd, 560 * MSS);
	run_for_k(&c, &now, 680, 560);
	/* The plateau is at 680, not 800. */
	assert_true(fabs_(segs(&c) - 680) < 3.0);
	/* Without fast convergence (loss at or above W_max) it is cwnd. */
	c.cwnd = 700 * MSS;
	loss_and_recover(&tcp_cubic, &c, now);	/* 700 >= 680: W_max = 700 */
	assert_int_equal(c.cwnd, 490 * MSS);
	run_for_k(&c, &now, 700, 490);
	assert_true(fabs_(segs(&c) - 700) < 3.0);
}

/* After an RTO: slow start to ssthresh, then a new epoch toward W_max. */
static void cubic_after_rto_slow_starts_then_climbs_to_wmax(void **state)
{
	struct tcp_cong c;
	uint64_t now = 10 * SEC;
	int r;

	(void)state;
	cubic_new(&c, now, 100000, 100);
	c.ssthresh = tcp_cubic.ssthresh(&c, 100 * MSS, now);
	c.cwnd = MSS;
	tcp_cubic.event(&c, TCP_CA_EVENT_LOSS, now);
	for (r = 0; r < 7 && c.cwnd < c.ssthresh; r++)
		run_rtt(&tcp_cubic, &c, &now, 100 * MS, MSS);
	assert_true(c.cwnd >= 70 * MSS && c.cwnd < 72 * MSS);
	for (r = 0; r < 45; r++)
		run_rtt(&tcp_cubic, &c, &now, 100 * MS, MSS);
	assert_true(fabs_(segs(&c) - 100) < 3.0);
}

/* The curve's clock restarts after idle instead of jumping ahead. */
static void cubic_idle_restart_does_not_jump(void **state)
{
	struct tcp_cong c;
	uint64_t now = 10 * SEC;
	uint32_t w;

	(void)state;
	cubic_new(&c, now, 100000, 100);
	loss_and_recover(&tcp_cubic, &c, now);
	run_rtt(&tcp_cubic, &c, &now, 100 * MS, MSS);
	now += 60 * SEC;	/* idle a minute */
	tcp_cubic.event(&c, TCP_CA_EVENT_IDLE_RESTART, now);
	w = c.cwnd;
	run_rtt(&tcp_cubic, &c, &now, 100 * MS, MSS);
	assert_true(c.cwnd < w + 2 * MSS);
}

/* ---- HyStart++ (RFC 9406), CUBIC's slow start ---- */

/* run_rtt() with an RTT sample of rtt_us before every ACK. */
static void run_rtt_sampled(struct tcp_cong *c, uint64_t *now, uint32_t rtt_us)
{
	uint32_t win = c->cwnd, n = win / MSS, i;

	for (i = 0; i < n; i++) {
		*now += (uint64_t)rtt_us * 1000 / n;
		tcp_cubic.rtt_sample(c, rtt_us, *now);
		tcp_cubic.cong_avoid(c, MSS, win, 1, *now);
	}
}

/*
 * Slow start doubles cwnd per round while the RTT stays at 10 ms.  When a
 * round's smallest RTT is 20 ms (more than RttThresh = max(4 ms, 10 ms / 8)
 * above the last round's), growth falls to a quarter (Conservative Slow
 * Start) from the round's 8th sample on, and 5 rounds later congestion
 * avoidance begins with ssthresh = cwnd: far below the window slow start
 * would have reached.
 */
static void hystart_ends_slow_start_when_the_rtt_rises(void **state)
{
	struct tcp_cong c;
	uint64_t now = SEC;
	uint32_t w, w_rise;
	int r;

	(void)state;
	cong_new(&tcp_cubic, &c, MSS);
	for (r = 0; r < 3; r++) {
		w = c.cwnd;
		run_rtt_sampled(&c, &now, 10000);
		assert_int_equal(c.cwnd, 2 * w);
	}
	w_rise = c.cwnd;
	run_rtt_sampled(&c, &now, 20000);
	/* 7 ACKs of slow start; from the 8th sample of the round on, a quarter */
	assert_int_equal(c.cwnd, w_rise + 7 * MSS + (w_rise / MSS - 7) * (MSS / 4));
	assert_true(c.ssthresh > c.cwnd);
	for (r = 0; r < 6 && c.ssthresh > c.cwnd; r++) {
		w = c.cwnd;
		run_rtt_sampled(&c, &now, 20000);
		assert_true(c.cwnd <= w + w / 4 + MSS);	/* CSS: about 1.25x per round */
	}
	/* congestion avoidance now: ssthresh is the window it began with */
	assert_true(r >= 4);
	assert_true(c.ssthresh <= c.cwnd && c.cwnd - c.ssthresh <= 4 * MSS);
	assert_true(c.cwnd < 4 * w_rise);
	w = c.cwnd;
	run_rtt_sampled(&c, &now, 20000);
	assert_true(c.cwnd < w + w / 4);
}

/* An RTT back below CSS's baseline was a false alarm: slow start again. */
static void hystart_resumes_slow_start_when_the_rtt_falls_back(void **state)
{
	struct tcp_cong c;
	uint64_t now = SEC;
	uint32_t w;
	int r;

	(void)state;
	cong_new(&tcp_cubic, &c, MSS);
	for (r = 0; r < 2; r++)
		run_rtt_sampled(&c, &now, 10000);
	w = c.cwnd;
	run_rtt_sampled(&c, &now, 20000); /* CSS */
	assert_true(c.cwnd < 2 * w);
	run_rtt_sampled(&c, &now, 10000); /* back: slow start after 8 samples */
	w = c.cwnd;
	run_rtt_sampled(&c, &now, 10000);
	assert_int_equal(c.cwnd, 2 * w);
	assert_true(c.ssthresh > c.cwnd);
}

/* A loss ends HyStart++: after it, slow start (to ssthresh) ignores RTTs. */
static void hystart_is_over_after_a_loss(void **state)
{
	struct tcp_cong c;
	uint64_t now = SEC;

	(void)state;
	cong_new(&tcp_cubic, &c, MSS);
	run_rtt_sampled(&c, &now, 10000);
	c.ssthresh = tcp_cubic.ssthresh(&c, c.cwnd, now);
	c.cwnd = MSS; /* as after an RTO */
	tcp_cubic.event(&c, TCP_CA_EVENT_LOSS, now);
	run_rtt_sampled(&c, &now, 10000);
	run_rtt_sampled(&c, &now, 40000);
	run_rtt_sampled(&c, &now, 40000);
	assert_int_equal(c.cwnd, 8 * MSS); /* doubled every round regardless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(initial_window_follows_rfc6928),
		cmocka_unit_test(slow_start_doubles_cwnd_per_rtt),
		cmocka_unit_test(slow_start_counts_at_most_two_mss_per_ack),
		cmocka_unit_test(slow_start_stops_at_ssthresh),
		cmocka_unit_test(no_growth_when_not_cwnd_limited),
		cmocka_unit_test(rtt_samples_keep_the_minimum),
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(newreno_avoidance_grows_one_mss_per_rtt),
		cmocka_unit_test(newreno_ssthresh_is_half_the_flight_at_least_two_mss),
		cmocka_unit_test(newreno_after_rto_slow_starts_to_ssthresh),
		cmocka_unit_test(cubic_loss_reduces_to_beta_times_wmax),
		cmocka_unit_test(cubic_concave_to_wmax_at_k_then_convex),
		cmocka_unit_test(cubic_reno_friendly_region_dominates_at_small_rtt),
		cmocka_unit_test(cubic_fast_convergence_lowers_wmax),
		cmocka_unit_test(cubic_after_rto_slow_starts_then_climbs_to_wmax),
		cmocka_unit_test(cubic_idle_restart_does_not_jump),
		cmocka_unit_test(hystart_ends_slow_start_when_the_rtt_rises),
		cmocka_unit_test(hystart_resumes_slow_start_when_the_rtt_falls_back),
		cmocka_unit_test(hystart_is_over_after_a_loss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
