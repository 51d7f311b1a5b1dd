// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Congestion control algorithms behind struct tcp_cong_ops: NewReno
 * (RFC 5681 with RFC 3465 byte counting) and CUBIC (RFC 9438, the default
 * as in Linux).  The engine detects loss and runs recovery; these only say
 * how cwnd grows on new ACKs and what ssthresh becomes on a loss.
 *
 * Both share slow start: while cwnd < ssthresh, cwnd grows by the bytes
 * acked, at most L = 2*SMSS per ACK (RFC 3465 2.2 allows L = 2 so a
 * delayed ACK covering two segments still doubles cwnd per RTT); what is
 * left of an ACK that crosses ssthresh counts for congestion avoidance.
 * Neither grows cwnd when the sender was not using it (Linux's
 * is_cwnd_limited; RFC 7661's concern that an unused cwnd is not a
 * validated one).  CUBIC's slow start has HyStart++ (RFC 9406, below).
 *
 * CUBIC runs in floating point with windows in bytes and time in seconds;
 * its state is a struct copied in and out of tcp_cong::priv.  It computes
 * a cube root once per congestion epoch, by Newton's method (no libm).
 */
#include <stdbool.h>
#include <string.h>

#include "transport/tcp_cong.h"

#define CWND_MAX	(1U << 30)		/* 1 GiB: far above any buffer we allow */
#define SSTHRESH_INIT	0x7fffffffU		/* RFC 5681 3.1: "arbitrarily high" */
#define NS_PER_SEC	1e9

/* RFC 6928 2 (as Linux): IW = min(10*MSS, max(2*MSS, 14600)). */
static uint32_t tcp_init_cwnd(uint32_t mss)
{
	uint32_t iw = 2 * mss > 14600 ? 2 * mss : 14600;

	return iw < 10 * mss ? iw : 10 * mss;
}

/*
 * RFC 5681 3.1 slow start with RFC 3465 2.2 byte counting, L = 2*SMSS.
 * Returns the bytes acked left over once cwnd reached ssthresh (for
 * congestion avoidance), 0 when cwnd stays below it.
 */
static uint32_t tcp_slow_start(struct tcp_cong *c, uint32_t acked)
{
	uint32_t inc = acked < 2 * c->mss ? acked : 2 * c->mss;
	uint32_t room = c->ssthresh - c->cwnd;

	if (inc < room) {
		c->cwnd += inc;
		return 0;
	}
	c->cwnd = c->ssthresh;
	return acked - room;
}

static void tcp_cwnd_clamp(struct tcp_cong *c)
{
	if (c->cwnd > CWND_MAX)
		c->cwnd = CWND_MAX;
}

static void tcp_cong_rtt_min(struct tcp_cong *c, uint32_t rtt_us)
{
	if (rtt_us && (!c->min_rtt_us || rtt_us < c->min_rtt_us))
		c->min_rtt_us = rtt_us;
}

/* ---- NewReno (RFC 5681, RFC 3465) ---- */

/* priv[0]: bytes acked in congestion avoidance since cwnd last grew. */
#define RENO_BYTES_ACKED(c)	((c)->priv[0])

static void reno_init(struct tcp_cong *c, uint64_t now)
{
	(void)now;
	memset(c->priv, 0, sizeof(c->priv));
	c->cwnd = tcp_init_cwnd(c->mss);
	c->ssthresh = SSTHRESH_INIT;
}

static void reno_cong_avoid(struct tcp_cong *c, uint32_t acked, uint32_t in_flight,
			    int is_cwnd_limited, uint64_t now)
{
	(void)in_flight;
	(void)now;
	if (!is_cwnd_limited || !acked || !c->mss)
		return;
	if (c->cwnd < c->mss)	/* byte counting needs a window of a segment */
		c->cwnd = c->mss;
	if (c->cwnd < c->ssthresh) {
		acked = tcp_slow_start(c, acked);
		if (!acked)
			return;
	}
	/* RFC 3465 2.1: one SMSS per cwnd of bytes acked, ~1 SMSS per RTT
	 * (RFC 5681 3.1 eq. 3 without its rounding error). */
	RENO_BYTES_ACKED(c) += acked;
	while (RENO_BYTES_ACKED(c) >= c->cwnd) {
		RENO_BYTES_ACKED(c) -= c->cwnd;
		c->cwnd += c->mss;
	}
	tcp_cwnd_clamp(c);
}

static uint32_t reno_ssthresh(struct tcp_cong *c, uint32_t in_flight, uint64_t now)
{
	(void)now;
	RENO_BYTES_ACKED(c) = 0;
	/* RFC 5681 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
	return in_flight / 2 > 2 * c->mss ? in_flight / 2 : 2 * c->mss;
}

static void reno_rtt_sample(struct tcp_cong *c, uint32_t rtt_us, uint64_t now)
{
	(void)now;
	tcp_cong_rtt_min(c, rtt_us);
}

static void reno_event(struct tcp_cong *c, enum tcp_cong_event ev, uint64_t now)
{
	(void)now;
	if (ev == TCP_CA_EVENT_LOSS || ev == TCP_CA_EVENT_IDLE_RESTART)
		RENO_BYTES_ACKED(c) = 0;
}

const struct tcp_cong_ops tcp_newreno = {
	.name = "newreno",
	.init = reno_init,
	.cong_avoid = reno_cong_avoid,
	.ssthresh = reno_ssthresh,
	.rtt_sample = reno_rtt_sample,
	.event = reno_event,
};

/* ---- CUBIC (RFC 9438) ---- */

#define CUBIC_C		0.4	/* RFC 9438 5.1 (segments / s^3) */
#define CUBIC_BETA	0.7	/* RFC 9438 4.6 */
/* RFC 9438 4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta), Reno-friendly. */
#define CUBIC_ALPHA	(3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/*
 * HyStart++ (RFC 9406) ends CUBIC's slow start before the queue it fills
 * overflows: when a round's smallest RTT rises by RttThresh (1/8 of the
 * last round's, within [4, 16] ms) above the previous round's, slow start
 * turns into Conservative Slow Start (growth / CSS_GROWTH_DIVISOR); after
 * CSS_ROUNDS rounds of it, congestion avoidance (ssthresh = cwnd); an RTT
 * back below the baseline in CSS was a false alarm, slow start resumes.
 * A loss ends it (RFC 9406 4.3), and it is not used again after an RTO.
 * A round is the bytes of one window: it ends when as many bytes were
 * acknowledged as cwnd held when it began (the algorithm sees no sequence
 * numbers; RFC 9406's windowEnd = SND.NXT, in bytes).
 */
#define HYSTART_MIN_RTT_THRESH	4000	/* µs */
#define HYSTART_MAX_RTT_THRESH	16000	/* µs */
#define HYSTART_MIN_RTT_DIVISOR	8
#define HYSTART_N_RTT_SAMPLE	8
#define HYSTART_CSS_GROWTH_DIVISOR 4
#define HYSTART_CSS_ROUNDS	5

enum { HYSTART_SS = 0, HYSTART_CSS, HYSTART_DONE };

struct hystart {
	uint32_t round_acked;	/* bytes acknowledged in this round */
	uint32_t round_len;	/* ... at which it ends (cwnd when it began) */
	uint32_t cur_min;	/* µs, currentRoundMinRTT (0: no sample yet) */
	uint32_t last_min;	/* µs, lastRoundMinRTT (0: none) */
	uint32_t css_base;	/* µs, cssBaselineMinRtt */
	uint8_t samples;	/* rttSampleCount */
	uint8_t css_rounds;	/* rounds spent in CSS */
	uint8_t state;		/* HYSTART_* */
};

struct cubic {
	double w_max;		/* bytes: the window before the last reduction */
	double cwnd_prior;	/* bytes: cwnd when the last reduction began */
	double cwnd_epoch;	/* bytes: cwnd at the start of this epoch */
	double k;		/* s: when W_cubic reaches w_max again */
	double w_est;		/* bytes: the Reno-friendly estimate */
	double frac;		/* bytes of growth not yet whole */
	uint64_t epoch_start;	/* ns: start of this congestion avoidance epoch, 0 = none */
	struct hystart hs;
};

_Static_assert(sizeof(struct cubic) <= sizeof(((struct tcp_cong *)0)->priv),
	       "CUBIC state fits in tcp_cong::priv");

static void cubic_load(const struct tcp_cong *c, struct cubic *s)
{
	memcpy(s, c->priv, sizeof(*s));
}

static void cubic_store(struct tcp_cong *c, const struct cubic *s)
{
	memcpy(c->priv, s, sizeof(*s));
}

/* Cube root of x >= 0: a bit-level first guess, then Newton's method. */
static double cubic_cbrt(double x)
{
	union {
		double d;
		uint64_t u;
	} g = { .d = x };
	double y;
	int i;

	if (x <= 0.0)
		return 0.0;
	/* Divide the exponent by three: within a few percent. */
	g.u = (g.u - (1023ULL << 52)) / 3 + (1023ULL << 52);
	y = g.d;
	for (i = 0; i < 8; i++)
		y -= (y * y * y - x) / (3.0 * y * y);
	return y;
}

/* RFC 9438 4.2 eq. 1: W_cubic(t) = C * (t - K)^3 + W_max, in bytes. */
static double cubic_w(const struct cubic *s, double t, uint32_t mss)
{
	double d = t - s->k;

	return CUBIC_C * d * d * d * mss + s->w_max;
}

static void cubic_init(struct tcp_cong *c, uint64_t now)
{
	(void)now;
	memset(c->priv, 0, sizeof(c->priv));
	c->cwnd = tcp_init_cwnd(c->mss);
	c->ssthresh = SSTHRESH_INIT;
}

/* A new congestion avoidance epoch begins at this ACK (RFC 9438 4.2, 4.8). */
static void cubic_epoch_begin(struct tcp_cong *c, struct cubic *s, uint64_t now)
{
	s->epoch_start = now ? now : 1;
	s->cwnd_epoch = c->cwnd;
	s->w_est = c->cwnd;
	s->frac = 0;
	if (s->w_max <= s->cwnd_epoch) {
		/* Above the old maximum already (e.g. after slow start): the
		 * plateau is here; grow convex from now. */
		s->k = 0;
		s->w_max = s->cwnd_epoch;
	} else {
		/* RFC 9438 4.2 eq. 2: K = cubic_root((W_max - cwnd_epoch) / C). */
		s->k = cubic_cbrt((s->w_max - s->cwnd_epoch) / c->mss / CUBIC_C);
	}
}

/* The end of a HyStart++ round (RFC 9406 4.2): the next one is the
 * window now; a fifth round in CSS ends slow start. */
static void hystart_round(struct tcp_cong *c, struct hystart *h, uint32_t acked)
{
	if (h->state == HYSTART_DONE)
		return;
	h->round_acked += acked;
	if (h->round_acked < h->round_len)
		return;
	h->last_min = h->cur_min;
	h->cur_min = 0;
	h->samples = 0;
	h->round_acked = 0;
	h->round_len = c->cwnd;
	if (h->state == HYSTART_CSS && ++h->css_rounds >= HYSTART_CSS_ROUNDS) {
		h->state = HYSTART_DONE;
		c->ssthresh = c->cwnd; /* congestion avoidance from here */
	}
}

/* RFC 9406 4.2: one ACK of slow start with HyStart++; returns the bytes
 * acked beyond ssthresh (for congestion avoidance). */
static uint32_t cubic_slow_start(struct tcp_cong *c, struct cubic *s, uint32_t acked)
{
	struct hystart *h = &s->hs;
	uint32_t thresh, inc, left;

	if (!h->round_len)
		h->round_len = c->cwnd;
	if (h->state == HYSTART_SS && h->samples >= HYSTART_N_RTT_SAMPLE && h->cur_min &&
	    h->last_min) {
		thresh = h->last_min / HYSTART_MIN_RTT_DIVISOR;
		if (thresh < HYSTART_MIN_RTT_THRESH)
			thresh = HYSTART_MIN_RTT_THRESH;
		if (thresh > HYSTART_MAX_RTT_THRESH)
			thresh = HYSTART_MAX_RTT_THRESH;
		if (h->cur_min >= h->last_min + thresh) {
			h->state = HYSTART_CSS;
			h->css_base = h->cur_min;
			h->css_rounds = 0;
		}
	} else if (h->state == HYSTART_CSS && h->samples >= HYSTART_N_RTT_SAMPLE && h->cur_min &&
		   h->cur_min < h->css_base) {
		h->state = HYSTART_SS; /* the RTT rise was spurious */
	}
	if (h->state != HYSTART_CSS) {
		left = tcp_slow_start(c, acked);
	} else {
		/* Conservative Slow Start: a quarter of slow start's growth */
		inc = (acked < 2 * c->mss ? acked : 2 * c->mss) / HYSTART_CSS_GROWTH_DIVISOR;
		left = 0;
		if (c->cwnd + inc < c->ssthresh) {
			c->cwnd += inc;
		} else {
			c->cwnd = c->ssthresh;
			h->state = HYSTART_DONE;
		}
	}
	hystart_round(c, h, acked);
	return left;
}

static void cubic_cong_avoid(struct tcp_cong *c, uint32_t acked, uint32_t in_flight,
			     int is_cwnd_limited, uint64_t now)
{
	struct cubic s;
	double t, rtt, target, w_t, alpha, inc;

	(void)in_flight;
	if (!is_cwnd_limited || !acked || !c->mss)
		return;
	if (c->cwnd < c->mss)	/* never divide by a window below one segment */
		c->cwnd = c->mss;
	cubic_load(c, &s);
	if (c->cwnd < c->ssthresh) {
		/* RFC 9438 4.10: slow start as in RFC 5681, with HyStart++
		 * (RFC 9406) */
		acked = cubic_slow_start(c, &s, acked);
		if (!acked) {
			cubic_store(c, &s);
			return;
		}
	}
	if (!s.epoch_start || now < s.epoch_start)
		cubic_epoch_begin(c, &s, now);

	t = (double)(now - s.epoch_start) / NS_PER_SEC;
	rtt = c->min_rtt_us / 1e6;

	/* RFC 9438 4.2: aim at W_cubic one RTT ahead, bounded to
	 * [cwnd, 1.5 * cwnd]. */
	target = cubic_w(&s, t + rtt, c->mss);
	if (target < c->cwnd)
		target = c->cwnd;
	else if (target > 1.5 * c->cwnd)
		target = 1.5 * c->cwnd;

	/* RFC 9438 4.3: the Reno-friendly estimate grows alpha_cubic segments
	 * per RTT, 1 once it has passed the window of the last reduction. */
	alpha = s.w_est >= s.cwnd_prior ? 1.0 : CUBIC_ALPHA;
	s.w_est += alpha * (double)acked * c->mss / c->cwnd;

	w_t = cubic_w(&s, t, c->mss);
	if (w_t < s.w_est) {
		/* Reno-friendly region: cwnd follows W_est. */
		inc = s.w_est - c->cwnd;
	} else {
		/* Concave (below W_max) or convex region (RFC 9438 4.4, 4.5):
		 * (target - cwnd) / cwnd segments per segment acked. */
		inc = (target - c->cwnd) * acked / c->cwnd;
	}
	if (inc > 0) {
		s.frac += inc;
		if (s.frac >= 1.0) {
			double whole = s.frac > (double)CWND_MAX ? (double)CWND_MAX : s.frac;
			uint32_t add = (uint32_t)whole;

			c->cwnd = c->cwnd > CWND_MAX - add ? CWND_MAX : c->cwnd + add;
			s.frac -= add;
		}
	}
	cubic_store(c, &s);
}

static uint32_t cubic_ssthresh(struct tcp_cong *c, uint32_t in_flight, uint64_t now)
{
	struct cubic s;
	double cwnd = c->cwnd, ss;

	(void)in_flight;
	(void)now;
	cubic_load(c, &s);
	s.hs.state = HYSTART_DONE; /* RFC 9406 4.3: a loss ends HyStart++ */
	/* RFC 9438 4.7 fast convergence: a flow whose window peaked below its
	 * last maximum releases bandwidth to newer flows. */
	if (cwnd < s.w_max)
		s.w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
	else
		s.w_max = cwnd;
	s.cwnd_prior = cwnd;
	s.epoch_start = 0;
	cubic_store(c, &s);
	/* RFC 9438 4.6: ssthresh = cwnd * beta_cubic (the RFC allows cwnd in
	 * place of the flight size; Linux uses cwnd), at least 2 segments. */
	ss = cwnd * CUBIC_BETA;
	return ss > 2.0 * c->mss ? (uint32_t)ss : 2 * c->mss;
}

static void cubic_rtt_sample(struct tcp_cong *c, uint32_t rtt_us, uint64_t now)
{
	struct cubic s;

	(void)now;
	tcp_cong_rtt_min(c, rtt_us);
	if (!rtt_us || c->cwnd >= c->ssthresh)
		return;
	/* RFC 9406 4.2: the round's smallest RTT and its sample count */
	cubic_load(c, &s);
	if (s.hs.state != HYSTART_DONE) {
		if (!s.hs.cur_min || rtt_us < s.hs.cur_min)
			s.hs.cur_min = rtt_us;
		if (s.hs.samples < UINT8_MAX)
			s.hs.samples++;
		cubic_store(c, &s);
	}
}

static void cubic_event(struct tcp_cong *c, enum tcp_cong_event ev, uint64_t now)
{
	struct cubic s;

	(void)now;
	switch (ev) {
	case TCP_CA_EVENT_LOSS:		/* RFC 9438 4.8: a new epoch after the RTO */
	case TCP_CA_EVENT_RECOVERY_END:	/* the epoch starts with congestion avoidance */
	case TCP_CA_EVENT_IDLE_RESTART:	/* the curve's clock does not run while idle */
		cubic_load(c, &s);
		s.epoch_start = 0;
		cubic_store(c, &s);
		break;
	case TCP_CA_EVENT_RECOVERY_START:
		break;
	}
}

const struct tcp_cong_ops tcp_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.cong_avoid = cubic_cong_avoid,
	.ssthresh = cubic_ssthresh,
	.rtt_sample = cubic_rtt_sample,
	.event = cubic_event,
};

static const struct tcp_cong_ops *const tcp_cong_all[TCP_CC_COUNT] = {
	[TCP_CC_CUBIC] = &tcp_cubic,
	[TCP_CC_NEWRENO] = &tcp_newreno,
	[TCP_CC_BBR] = &tcp_bbr,
};

const struct tcp_cong_ops *tcp_cong_by_id(unsigned int id)
{
	return id < TCP_CC_COUNT ? tcp_cong_all[id] : NULL;
}

int tcp_cong_id(const struct tcp_cong_ops *ops)
{
	int i;

	for (i = 0; i < TCP_CC_COUNT; i++)
		if (tcp_cong_all[i] == ops)
			return i;
	return -1;
}

const struct tcp_cong_ops *tcp_cong_find(const char *name)
{
	int i;

	if (!name)
		return NULL;
	for (i = 0; i < TCP_CC_COUNT; i++)
		if (!strcmp(tcp_cong_all[i]->name, name))
			return tcp_cong_all[i];
	if (!strcmp(name, "reno"))	/* Linux's name for it */
		return &tcp_newreno;
	return NULL;
}
