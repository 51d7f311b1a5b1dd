// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BBR congestion control (draft-ietf-ccwg-bbr, "BBRv3"): a model of the
 * path, not a reaction to loss.  From the engine's delivery rate samples
 * (struct tcp_rate_sample, tcp_rate.c) it keeps
 *   - max_bw: the largest delivery rate of the last two ProbeBW cycles
 *     (samples the application limited count only when they raise it);
 *   - min_rtt: the smallest RTT, refreshed by ProbeRTT;
 *   - inflight_hi / bw_lo / inflight_lo: the upper and lower bounds that
 *     loss sets (a round whose loss rate passed 2% of what was in flight
 *     while probing caps the flight; loss while not probing lowers the
 *     short-term bounds by beta = 0.7, as the draft's "lower bounds").
 * and sets cwnd (a multiple of the estimated BDP, bounded by those) and
 * a pacing rate (a gain times the bandwidth).  The state machine is the
 * draft's: Startup (pacing gain 2.77 until three rounds fail to raise
 * max_bw by 25%, or a round with six losses and too high a loss rate),
 * Drain (0.35 until the queue Startup built is gone), ProbeBW with its
 * DOWN (0.9) / CRUISE (1.0) / REFILL (1.0) / UP (1.25) phases, probing
 * again after 2-3 s or as many rounds as a Reno flow would need
 * (whichever is first), and ProbeRTT (cwnd at half the BDP for 200 ms and
 * a round, when min_rtt has not been refreshed for 5 s).
 *
 * Where skiff differs from the draft, to fit the state in tcp_cong::priv
 * (80 bytes): one min-RTT filter (its window is ProbeRTTInterval, 5 s, as
 * Linux's BBRv1 with a 10 s one) instead of the draft's 10 s min_rtt plus
 * 5 s probe_rtt_min; no ACK-aggregation (extra_acked) term; the loss
 * round is the round; ECN marks are left to the engine (BBR's ssthresh
 * does not cut, as in Linux BBR without L4S).  In the engine's fast
 * recovery, cwnd follows packet conservation for one round and gets its
 * value from before back when recovery ends (the draft's 4.6.4.4).
 *
 * Rates are kept as bytes per ms scaled by 256 (BW_SCALE): 1/256 B/ms
 * resolution, up to 134 Gbit/s in 32 bits.  Gains are in 1/256 (BBR_UNIT).
 */
#include <stdio.h>
#include <string.h>

#include "transport/tcp_cong.h"

#define BBR_UNIT		256
#define BW_SCALE		256ULL	/* bw unit: bytes per ms * BW_SCALE */
#define NS_PER_MS		1000000ULL
#define BBR_INF			UINT32_MAX

#define STARTUP_PACING_GAIN	709	/* 4 ln 2 = 2.77 */
#define STARTUP_CWND_GAIN	512	/* 2 */
#define DRAIN_PACING_GAIN	89	/* 0.35 */
#define PROBE_DOWN_GAIN		230	/* 0.9 */
#define PROBE_UP_GAIN		320	/* 1.25 */
#define CWND_GAIN		512	/* 2 */
#define PROBE_UP_CWND_GAIN	576	/* 2.25 */
#define PROBE_RTT_CWND_GAIN	128	/* 0.5 */
#define BETA			179	/* 0.7 */
#define HEADROOM		38	/* 0.15 */
#define PACING_MARGIN_PCT	1
#define LOSS_THRESH_DIV		50	/* 2% */
#define FULL_BW_GROWTH		320	/* 1.25 */
#define FULL_BW_ROUNDS		3
#define FULL_LOSS_CNT		6
#define PROBE_RTT_INTERVAL_MS	5000
#define PROBE_RTT_DURATION_MS	200
#define PROBE_WAIT_BASE_MS	2000
#define PROBE_WAIT_RAND_MS	1000
#define MIN_PIPE_SEGS		4
#define INIT_RTT_US		1000	/* before any RTT sample (the draft's 1 ms) */

enum bbr_state {
	BBR_STARTUP = 0,
	BBR_DRAIN,
	BBR_PROBE_BW_DOWN,
	BBR_PROBE_BW_CRUISE,
	BBR_PROBE_BW_REFILL,
	BBR_PROBE_BW_UP,
	BBR_PROBE_RTT,
};

static const char *const bbr_state_names[] = {
	"startup", "drain", "probe_bw_down", "probe_bw_cruise", "probe_bw_refill", "probe_bw_up",
	"probe_rtt",
};

enum { ACKS_INIT = 0, ACKS_REFILLING, ACKS_PROBE_STARTING, ACKS_PROBE_FEEDBACK, ACKS_PROBE_STOPPING };

/* flags */
#define F_FILLED_PIPE		0x01
#define F_ROUND_START		0x02
#define F_IDLE_RESTART		0x04
#define F_CONSERVATION		0x08
#define F_PROBE_RTT_ROUND_DONE	0x10
#define F_BW_PROBE_SAMPLES	0x20
#define F_LOSS_IN_ROUND		0x40
#define F_FULL_BW_NOW		0x80

struct bbr {
	uint32_t bw_hi[2];		/* max-bw filter: the last cycle [0], this one [1] */
	uint32_t bw_lo;			/* short-term lower bound (BBR_INF: none) */
	uint32_t bw_latest;		/* largest delivery rate of this round */
	uint32_t full_bw;		/* bw at the last 25% growth (Startup, UP) */
	uint32_t pacing_bw;		/* the pacing rate, in bw units */
	uint32_t inflight_hi;		/* bytes, BBR_INF: none */
	uint32_t inflight_lo;
	uint32_t inflight_latest;	/* largest rs.delivered of this round */
	uint32_t min_rtt_us;		/* 0: none yet */
	uint32_t min_rtt_stamp_ms;
	uint32_t probe_rtt_done_ms;	/* 0: not yet at the ProbeRTT cwnd */
	uint32_t cycle_stamp_ms;	/* when this ProbeBW phase began */
	uint32_t next_round_delivered;
	uint32_t prior_cwnd;		/* cwnd before recovery or ProbeRTT */
	uint32_t probe_up_cnt;		/* bytes ACKed per MSS of inflight_hi growth (UP) */
	uint32_t probe_up_acks;
	uint16_t bw_probe_wait_ms;	/* DOWN/CRUISE time until the next probe */
	uint8_t state;			/* enum bbr_state */
	uint8_t ack_phase;
	uint8_t full_bw_cnt;
	uint8_t rounds_since_probe;
	uint8_t probe_up_rounds;
	uint8_t loss_events;		/* loss events this round (Startup's exit) */
	uint8_t prev_recovery;		/* the engine's recovery state at the last ACK */
	uint8_t flags;			/* F_* */
};

_Static_assert(sizeof(struct bbr) <= sizeof(((struct tcp_cong *)0)->priv),
	       "BBR state fits in tcp_cong::priv");

static void bbr_load(const struct tcp_cong *c, struct bbr *b)
{
	memcpy(b, c->priv, sizeof(*b));
}

static void bbr_store(struct tcp_cong *c, const struct bbr *b)
{
	memcpy(c->priv, b, sizeof(*b));
}

static inline uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static inline uint32_t clamp64(uint64_t v)
{
	return v > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)v;
}

static inline uint32_t now_ms(uint64_t now)
{
	return (uint32_t)(now / NS_PER_MS);
}

static inline bool has(const struct bbr *b, uint8_t f)
{
	return b->flags & f;
}

static inline void set(struct bbr *b, uint8_t f, bool on)
{
	b->flags = on ? (uint8_t)(b->flags | f) : (uint8_t)(b->flags & ~f);
}

static uint32_t bbr_max_bw(const struct bbr *b)
{
	return max32(b->bw_hi[0], b->bw_hi[1]);
}

/* The model's bandwidth: max_bw, bounded below by bw_lo (draft 4.5.9). */
static uint32_t bbr_bw(const struct bbr *b)
{
	return min32(bbr_max_bw(b), b->bw_lo);
}

static bool bbr_in_probe_bw(const struct bbr *b)
{
	return b->state >= BBR_PROBE_BW_DOWN && b->state <= BBR_PROBE_BW_UP;
}

/* Probing for bandwidth: losses then say the bound, not the noise. */
static bool bbr_is_probing_bw(const struct bbr *b)
{
	return b->state == BBR_STARTUP || b->state == BBR_PROBE_BW_REFILL ||
	       b->state == BBR_PROBE_BW_UP;
}

static uint32_t bbr_min_pipe(const struct tcp_cong *c)
{
	return MIN_PIPE_SEGS * c->mss;
}

/* BDP * gain in bytes for bw (draft's BBRBDPMultiple). */
static uint32_t bbr_bdp(const struct tcp_cong *c, const struct bbr *b, uint32_t bw, uint32_t gain)
{
	uint64_t bdp;

	if (!b->min_rtt_us)
		return 10 * c->mss; /* no RTT yet: the initial window */
	bdp = (uint64_t)bw * b->min_rtt_us / 1000 / BW_SCALE;
	return clamp64(bdp * gain / BBR_UNIT);
}

/* The bytes one pacing burst may carry (the draft's send_quantum: 1 ms
 * of the pacing rate, between 2 MSS and 64 KiB). */
static uint32_t bbr_send_quantum(const struct tcp_cong *c, const struct bbr *b)
{
	uint32_t q = clamp64((uint64_t)b->pacing_bw / BW_SCALE);

	return q < 2 * c->mss ? 2 * c->mss : (q > 65536 ? 65536 : q);
}

/* The draft's BBRInflight(): BDP * gain plus the quantization budget. */
static uint32_t bbr_inflight(const struct tcp_cong *c, const struct bbr *b, uint32_t bw,
			     uint32_t gain)
{
	uint64_t inflight = bbr_bdp(c, b, bw, gain);

	inflight += 3ULL * bbr_send_quantum(c, b);
	if (b->state == BBR_PROBE_BW_UP)
		inflight += 2ULL * c->mss;
	return max32(clamp64(inflight), bbr_min_pipe(c));
}

static uint32_t bbr_inflight_with_headroom(const struct tcp_cong *c, const struct bbr *b)
{
	uint32_t headroom;

	if (b->inflight_hi == BBR_INF)
		return BBR_INF;
	headroom = max32(c->mss, (uint32_t)((uint64_t)b->inflight_hi * HEADROOM / BBR_UNIT));
	return max32(b->inflight_hi > headroom ? b->inflight_hi - headroom : 0, bbr_min_pipe(c));
}

static uint32_t bbr_target_inflight(const struct tcp_cong *c, const struct bbr *b)
{
	return min32(bbr_bdp(c, b, bbr_bw(b), BBR_UNIT), c->cwnd);
}

/* A deterministic pseudo-random number from the clock (the probe's
 * timing only needs to differ between flows and cycles). */
static uint32_t bbr_rand(uint64_t now, uint32_t salt)
{
	uint64_t x = (now >> 10) ^ ((uint64_t)salt << 32) ^ 0x9e3779b97f4a7c15ULL;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

static void bbr_start_round(struct bbr *b, const struct tcp_rate_sample *rs)
{
	b->next_round_delivered = rs ? rs->conn_delivered : 0;
}

static void bbr_reset_lower_bounds(struct bbr *b)
{
	b->bw_lo = BBR_INF;
	b->inflight_lo = BBR_INF;
}

static void bbr_reset_congestion_signals(struct bbr *b)
{
	set(b, F_LOSS_IN_ROUND, false);
	b->loss_events = 0;
	b->bw_latest = 0;
	b->inflight_latest = 0;
}

static void bbr_reset_full_bw(struct bbr *b)
{
	b->full_bw = 0;
	b->full_bw_cnt = 0;
	set(b, F_FULL_BW_NOW, false);
}

static void bbr_set_pacing(struct bbr *b, uint32_t gain)
{
	uint64_t rate = (uint64_t)bbr_bw(b) * gain / BBR_UNIT * (100 - PACING_MARGIN_PCT) / 100;

	if (has(b, F_FILLED_PIPE) || rate > b->pacing_bw)
		b->pacing_bw = clamp64(rate);
}

/* draft 4.6.2 BBRInitPacingRate: cwnd over the RTT (1 ms before one is
 * known, then again with the first), times the Startup gain. */
static void bbr_init_pacing(const struct tcp_cong *c, struct bbr *b)
{
	b->pacing_bw = clamp64((uint64_t)c->cwnd * BW_SCALE * 1000 /
			       (b->min_rtt_us ? b->min_rtt_us : INIT_RTT_US) * STARTUP_PACING_GAIN /
			       BBR_UNIT);
}

static void bbr_init(struct tcp_cong *c, uint64_t now)
{
	struct bbr b;
	uint32_t iw = c->mss ? 10 * c->mss : 14600;

	memset(c->priv, 0, sizeof(c->priv));
	memset(&b, 0, sizeof(b));
	/* RFC 6928 (as the other algorithms): min(10*MSS, max(2*MSS, 14600)) */
	if (c->mss && iw > max32(2 * c->mss, 14600))
		iw = max32(2 * c->mss, 14600);
	c->cwnd = iw;
	c->ssthresh = 0x7fffffffU; /* BBR does not use it (no slow start threshold) */
	b.state = BBR_STARTUP;
	b.min_rtt_us = c->min_rtt_us;
	b.min_rtt_stamp_ms = now_ms(now);
	bbr_reset_lower_bounds(&b);
	b.inflight_hi = BBR_INF;
	b.probe_up_cnt = BBR_INF;
	bbr_init_pacing(c, &b);
	bbr_store(c, &b);
}

/* ---- ProbeBW phases (draft 4.3.3) ---- */

static void bbr_pick_probe_wait(struct bbr *b, uint64_t now)
{
	uint32_t r = bbr_rand(now, b->next_round_delivered);

	b->rounds_since_probe = (uint8_t)(r & 1);
	b->bw_probe_wait_ms = (uint16_t)(PROBE_WAIT_BASE_MS + (r >> 8) % PROBE_WAIT_RAND_MS);
}

/* A new cycle of the max-bw filter: the older one is forgotten. */
static void bbr_advance_max_bw_filter(struct bbr *b)
{
	if (!b->bw_hi[1])
		return;
	b->bw_hi[0] = b->bw_hi[1];
	b->bw_hi[1] = 0;
}

static void bbr_start_down(struct bbr *b, const struct tcp_rate_sample *rs, uint64_t now)
{
	bbr_reset_congestion_signals(b);
	b->probe_up_cnt = BBR_INF;
	bbr_pick_probe_wait(b, now);
	b->cycle_stamp_ms = now_ms(now);
	b->ack_phase = ACKS_PROBE_STOPPING;
	bbr_start_round(b, rs);
	b->state = BBR_PROBE_BW_DOWN;
}

static void bbr_start_cruise(struct bbr *b)
{
	b->state = BBR_PROBE_BW_CRUISE;
}

static void bbr_start_refill(struct bbr *b, const struct tcp_rate_sample *rs)
{
	bbr_reset_lower_bounds(b);
	b->probe_up_rounds = 0;
	b->probe_up_acks = 0;
	b->ack_phase = ACKS_REFILLING;
	bbr_start_round(b, rs);
	b->state = BBR_PROBE_BW_REFILL;
}

/* draft BBRRaiseInflightHiSlope: 1, 2, 4 ... MSS more per round in UP. */
static void bbr_raise_inflight_hi_slope(const struct tcp_cong *c, struct bbr *b)
{
	uint32_t growth = 1u << b->probe_up_rounds;

	if (b->probe_up_rounds < 30)
		b->probe_up_rounds++;
	b->probe_up_cnt = max32(c->cwnd / growth, c->mss);
}

static void bbr_start_up(const struct tcp_cong *c, struct bbr *b, const struct tcp_rate_sample *rs,
			 uint32_t sample_bw, uint64_t now)
{
	b->ack_phase = ACKS_PROBE_STARTING;
	bbr_start_round(b, rs);
	bbr_reset_full_bw(b);
	b->full_bw = sample_bw;
	b->cycle_stamp_ms = now_ms(now);
	b->state = BBR_PROBE_BW_UP;
	bbr_raise_inflight_hi_slope(c, b);
}

/*
 * Was this ACK's loss congestion?  Not when the segment it measures left
 * with no more in flight than the model's BDP (plus its pacing quanta) and
 * the RTT shows no queue (within a quarter of min_rtt, at least 1 ms):
 * the bottleneck's queue could not have been full, the link lost it.
 * skiff's addition to the draft, whose 2% threshold alone makes a link
 * with 3% random loss look congested every round and ratchets bw_lo down
 * (Linux's BBRv1, the kernel's default, ignores loss outside recovery).
 */
static bool bbr_loss_is_congestion(const struct tcp_cong *c, const struct bbr *b,
				   const struct tcp_rate_sample *rs)
{
	uint32_t slack;

	if (!b->min_rtt_us || !rs->tx_in_flight ||
	    rs->tx_in_flight > bbr_inflight(c, b, bbr_max_bw(b), BBR_UNIT))
		return true;
	slack = max32(b->min_rtt_us / 4, 1000);
	return rs->rtt_us > b->min_rtt_us + slack;
}

/* Loss too high for the flight (draft IsInflightTooHigh: over 2%). */
static bool bbr_inflight_too_high(const struct tcp_cong *c, const struct bbr *b,
				  const struct tcp_rate_sample *rs)
{
	return rs->lost && rs->tx_in_flight && rs->lost > rs->tx_in_flight / LOSS_THRESH_DIV &&
	       bbr_loss_is_congestion(c, b, rs);
}

static void bbr_handle_inflight_too_high(const struct tcp_cong *c, struct bbr *b,
					 const struct tcp_rate_sample *rs, uint64_t now)
{
	uint32_t floor = (uint32_t)((uint64_t)bbr_target_inflight(c, b) * BETA / BBR_UNIT);

	set(b, F_BW_PROBE_SAMPLES, false);
	if (!rs->is_app_limited)
		b->inflight_hi = max32(rs->tx_in_flight, floor);
	if (b->state == BBR_PROBE_BW_UP)
		bbr_start_down(b, rs, now);
}

static void bbr_probe_inflight_hi_upward(const struct tcp_cong *c, struct bbr *b,
					 const struct tcp_rate_sample *rs, bool cwnd_limited)
{
	uint32_t delta;

	if (!cwnd_limited || c->cwnd < b->inflight_hi)
		return;
	b->probe_up_acks += rs->newly_acked;
	if (b->probe_up_cnt && b->probe_up_acks >= b->probe_up_cnt) {
		delta = b->probe_up_acks / b->probe_up_cnt;
		b->probe_up_acks -= delta * b->probe_up_cnt;
		b->inflight_hi = clamp64((uint64_t)b->inflight_hi + (uint64_t)delta * c->mss);
	}
	if (has(b, F_ROUND_START))
		bbr_raise_inflight_hi_slope(c, b);
}

/* draft BBRAdaptUpperBounds */
static void bbr_adapt_upper_bounds(const struct tcp_cong *c, struct bbr *b,
				   const struct tcp_rate_sample *rs, bool cwnd_limited, uint64_t now)
{
	if (b->ack_phase == ACKS_PROBE_STARTING && has(b, F_ROUND_START))
		b->ack_phase = ACKS_PROBE_FEEDBACK; /* the probe's own ACKs come */
	if (b->ack_phase == ACKS_PROBE_STOPPING && has(b, F_ROUND_START)) {
		/* the probe's samples are in: the older cycle may go */
		set(b, F_BW_PROBE_SAMPLES, false);
		b->ack_phase = ACKS_INIT;
		if (bbr_in_probe_bw(b) && !rs->is_app_limited)
			bbr_advance_max_bw_filter(b);
	}
	if (bbr_inflight_too_high(c, b, rs)) {
		if (has(b, F_BW_PROBE_SAMPLES))
			bbr_handle_inflight_too_high(c, b, rs, now);
		return;
	}
	if (b->inflight_hi == BBR_INF)
		return;
	if (rs->tx_in_flight > b->inflight_hi)
		b->inflight_hi = rs->tx_in_flight;
	if (b->state == BBR_PROBE_BW_UP)
		bbr_probe_inflight_hi_upward(c, b, rs, cwnd_limited);
}

static bool bbr_elapsed_in_phase(const struct bbr *b, uint32_t ms, uint64_t now)
{
	return (int32_t)(now_ms(now) - (b->cycle_stamp_ms + ms)) > 0;
}

/* draft BBRIsTimeToProbeBW: after the wait, or as many rounds as Reno
 * would need to fill the pipe again (at most 63). */
static bool bbr_time_to_probe(const struct tcp_cong *c, struct bbr *b,
			      const struct tcp_rate_sample *rs, uint64_t now)
{
	uint32_t reno_rounds = c->mss ? bbr_target_inflight(c, b) / c->mss : 63;

	if (reno_rounds > 63)
		reno_rounds = 63;
	if (bbr_elapsed_in_phase(b, b->bw_probe_wait_ms, now) ||
	    b->rounds_since_probe >= reno_rounds) {
		bbr_start_refill(b, rs);
		return true;
	}
	return false;
}

static void bbr_update_probe_bw_phase(const struct tcp_cong *c, struct bbr *b,
				      const struct tcp_rate_sample *rs, uint32_t sample_bw,
				      bool cwnd_limited, uint64_t now)
{
	if (!has(b, F_FILLED_PIPE))
		return;
	bbr_adapt_upper_bounds(c, b, rs, cwnd_limited, now);
	if (!bbr_in_probe_bw(b))
		return;
	switch (b->state) {
	case BBR_PROBE_BW_DOWN:
		if (bbr_time_to_probe(c, b, rs, now))
			return;
		/* the queue is gone and there is headroom: cruise */
		if (rs->in_flight <= bbr_inflight_with_headroom(c, b) &&
		    rs->in_flight <= bbr_inflight(c, b, bbr_max_bw(b), BBR_UNIT))
			bbr_start_cruise(b);
		break;
	case BBR_PROBE_BW_CRUISE:
		bbr_time_to_probe(c, b, rs, now);
		break;
	case BBR_PROBE_BW_REFILL:
		/* a round at the refilled flight: now probe above it */
		if (has(b, F_ROUND_START)) {
			set(b, F_BW_PROBE_SAMPLES, true);
			bbr_start_up(c, b, rs, sample_bw, now);
		}
		break;
	case BBR_PROBE_BW_UP:
		if (cwnd_limited && c->cwnd >= b->inflight_hi) {
			bbr_reset_full_bw(b);
			b->full_bw = sample_bw;
		} else if (has(b, F_FULL_BW_NOW)) {
			bbr_start_down(b, rs, now);
		}
		break;
	default:
		break;
	}
}

/* ---- the model (draft 4.5) ---- */

static void bbr_update_round(struct bbr *b, const struct tcp_rate_sample *rs)
{
	/* a sample with a P (tx_in_flight counts P itself), valid or not:
	 * a round ends when P was sent after the round began */
	if (rs->tx_in_flight && (int32_t)(rs->prior_delivered - b->next_round_delivered) >= 0) {
		bbr_start_round(b, rs);
		if (b->rounds_since_probe < UINT8_MAX)
			b->rounds_since_probe++;
		set(b, F_ROUND_START, true);
	} else {
		set(b, F_ROUND_START, false);
	}
}

static void bbr_update_max_bw(struct bbr *b, const struct tcp_rate_sample *rs, uint32_t sample_bw)
{
	bbr_update_round(b, rs);
	/* an application-limited sample only when it raises the estimate */
	if (sample_bw && (sample_bw >= bbr_max_bw(b) || !rs->is_app_limited))
		b->bw_hi[1] = max32(b->bw_hi[1], sample_bw);
}

/* draft BBRAdaptLowerBoundsFromCongestion: a round with loss while not
 * probing lowers bw_lo and inflight_lo to what was delivered, by at most
 * 30% a round. */
static void bbr_adapt_lower_bounds(const struct tcp_cong *c, struct bbr *b)
{
	if (bbr_is_probing_bw(b) || !has(b, F_LOSS_IN_ROUND))
		return;
	if (b->bw_lo == BBR_INF)
		b->bw_lo = bbr_max_bw(b);
	if (b->inflight_lo == BBR_INF)
		b->inflight_lo = c->cwnd;
	b->bw_lo = max32(b->bw_latest, (uint32_t)((uint64_t)b->bw_lo * BETA / BBR_UNIT));
	b->inflight_lo =
		max32(b->inflight_latest, (uint32_t)((uint64_t)b->inflight_lo * BETA / BBR_UNIT));
}

static void bbr_update_congestion_signals(const struct tcp_cong *c, struct bbr *b,
					  const struct tcp_rate_sample *rs, uint32_t sample_bw)
{
	bbr_update_max_bw(b, rs, sample_bw);
	b->bw_latest = max32(b->bw_latest, sample_bw);
	b->inflight_latest = max32(b->inflight_latest, rs->delivered);
	if (rs->newly_lost && bbr_loss_is_congestion(c, b, rs)) {
		set(b, F_LOSS_IN_ROUND, true);
		if (b->loss_events < UINT8_MAX)
			b->loss_events++;
	}
	if (!has(b, F_ROUND_START))
		return;
	bbr_adapt_lower_bounds(c, b);
}

/* The round is over: its latest signals start again from this sample. */
static void bbr_advance_latest_signals(struct bbr *b, const struct tcp_rate_sample *rs,
				       uint32_t sample_bw)
{
	if (!has(b, F_ROUND_START))
		return;
	set(b, F_LOSS_IN_ROUND, false);
	b->loss_events = 0;
	b->bw_latest = sample_bw;
	b->inflight_latest = rs->delivered;
}

/* draft BBRCheckFullBWReached: three rounds without 25% more bandwidth. */
static void bbr_check_full_bw(struct bbr *b, const struct tcp_rate_sample *rs)
{
	if (has(b, F_FULL_BW_NOW) || !has(b, F_ROUND_START) || rs->is_app_limited)
		return;
	if ((uint64_t)bbr_max_bw(b) * BBR_UNIT >= (uint64_t)b->full_bw * FULL_BW_GROWTH) {
		b->full_bw = bbr_max_bw(b);
		b->full_bw_cnt = 0;
		return;
	}
	if (++b->full_bw_cnt >= FULL_BW_ROUNDS) {
		set(b, F_FULL_BW_NOW, true);
		set(b, F_FILLED_PIPE, true);
	}
}

static void bbr_enter_drain(struct bbr *b)
{
	b->state = BBR_DRAIN;
}

/* draft BBRCheckStartupDone, with BBRCheckStartupHighLoss: a round in
 * recovery with six loss events and a loss rate over 2% ends Startup. */
static void bbr_check_startup_done(const struct tcp_cong *c, struct bbr *b,
				   const struct tcp_rate_sample *rs)
{
	if (b->state != BBR_STARTUP)
		return;
	if (has(b, F_ROUND_START) && rs->recovery && b->loss_events >= FULL_LOSS_CNT &&
	    bbr_inflight_too_high(c, b, rs)) {
		set(b, F_FILLED_PIPE, true);
		b->inflight_hi = max32(bbr_bdp(c, b, bbr_bw(b), BBR_UNIT), b->inflight_latest);
	}
	if (has(b, F_FILLED_PIPE))
		bbr_enter_drain(b);
}

static void bbr_check_drain(const struct tcp_cong *c, struct bbr *b,
			    const struct tcp_rate_sample *rs, uint64_t now)
{
	if (b->state == BBR_DRAIN && rs->in_flight <= bbr_inflight(c, b, bbr_bw(b), BBR_UNIT))
		bbr_start_down(b, rs, now);
}

/* One min-RTT filter, its window ProbeRTTInterval (see the top). */
static bool bbr_update_min_rtt(struct bbr *b, const struct tcp_rate_sample *rs, uint64_t now)
{
	bool expired = (int32_t)(now_ms(now) - (b->min_rtt_stamp_ms + PROBE_RTT_INTERVAL_MS)) > 0;

	if (rs->rtt_us && (!b->min_rtt_us || rs->rtt_us <= b->min_rtt_us ||
			   (expired && b->state != BBR_PROBE_RTT))) {
		b->min_rtt_us = rs->rtt_us;
		b->min_rtt_stamp_ms = now_ms(now);
	}
	return expired;
}

static uint32_t bbr_probe_rtt_cwnd(const struct tcp_cong *c, const struct bbr *b)
{
	return max32(bbr_bdp(c, b, bbr_bw(b), PROBE_RTT_CWND_GAIN), bbr_min_pipe(c));
}

static void bbr_save_cwnd(const struct tcp_cong *c, struct bbr *b)
{
	if (!b->prev_recovery && b->state != BBR_PROBE_RTT)
		b->prior_cwnd = c->cwnd;
	else
		b->prior_cwnd = max32(b->prior_cwnd, c->cwnd);
}

static void bbr_restore_cwnd(struct tcp_cong *c, const struct bbr *b)
{
	c->cwnd = max32(c->cwnd, b->prior_cwnd);
}

static void bbr_exit_probe_rtt(struct tcp_cong *c, struct bbr *b, const struct tcp_rate_sample *rs,
			       uint64_t now)
{
	bbr_reset_lower_bounds(b);
	bbr_restore_cwnd(c, b);
	b->min_rtt_stamp_ms = now_ms(now); /* the next ProbeRTT in 5 s */
	if (has(b, F_FILLED_PIPE)) {
		bbr_start_down(b, rs, now);
		bbr_start_cruise(b);
	} else {
		b->state = BBR_STARTUP;
	}
}

/* draft BBRCheckProbeRTT / BBRHandleProbeRTT */
static void bbr_check_probe_rtt(struct tcp_cong *c, struct bbr *b, const struct tcp_rate_sample *rs,
				bool expired, uint64_t now)
{
	if (b->state != BBR_PROBE_RTT && expired && !has(b, F_IDLE_RESTART)) {
		bbr_save_cwnd(c, b);
		b->state = BBR_PROBE_RTT;
		b->probe_rtt_done_ms = 0;
		b->ack_phase = ACKS_PROBE_STOPPING;
		bbr_start_round(b, rs);
	}
	if (b->state == BBR_PROBE_RTT) {
		if (!b->probe_rtt_done_ms && rs->in_flight <= bbr_probe_rtt_cwnd(c, b)) {
			/* at the small flight: hold it 200 ms and a round */
			b->probe_rtt_done_ms = now_ms(now) + PROBE_RTT_DURATION_MS;
			if (!b->probe_rtt_done_ms)
				b->probe_rtt_done_ms = 1;
			set(b, F_PROBE_RTT_ROUND_DONE, false);
			bbr_start_round(b, rs);
		} else if (b->probe_rtt_done_ms) {
			if (has(b, F_ROUND_START))
				set(b, F_PROBE_RTT_ROUND_DONE, true);
			if (has(b, F_PROBE_RTT_ROUND_DONE) &&
			    (int32_t)(now_ms(now) - b->probe_rtt_done_ms) > 0)
				bbr_exit_probe_rtt(c, b, rs, now);
		}
	}
	if (rs->delivered)
		set(b, F_IDLE_RESTART, false);
}

/* ---- control (draft 4.6) ---- */

static uint32_t bbr_pacing_gain(const struct bbr *b)
{
	switch (b->state) {
	case BBR_STARTUP:
		return STARTUP_PACING_GAIN;
	case BBR_DRAIN:
		return DRAIN_PACING_GAIN;
	case BBR_PROBE_BW_DOWN:
		return PROBE_DOWN_GAIN;
	case BBR_PROBE_BW_UP:
		return PROBE_UP_GAIN;
	default:
		return BBR_UNIT;
	}
}

static uint32_t bbr_cwnd_gain(const struct bbr *b)
{
	switch (b->state) {
	case BBR_STARTUP:
	case BBR_DRAIN:
		return STARTUP_CWND_GAIN;
	case BBR_PROBE_BW_UP:
		return PROBE_UP_CWND_GAIN;
	default:
		return CWND_GAIN;
	}
}

/* The engine's fast recovery: packet conservation for a round, then the
 * model; the cwnd from before comes back when recovery ends. */
static void bbr_modulate_cwnd_for_recovery(struct tcp_cong *c, struct bbr *b,
					   const struct tcp_rate_sample *rs)
{
	if (rs->newly_lost)
		c->cwnd = max32(c->cwnd > rs->newly_lost ? c->cwnd - rs->newly_lost : 0, c->mss);
	if (rs->recovery == 1 && b->prev_recovery != 1) {
		set(b, F_CONSERVATION, true);
		bbr_start_round(b, rs);
		c->cwnd = rs->in_flight + max32(rs->newly_acked, c->mss);
	} else if (!rs->recovery && b->prev_recovery) {
		set(b, F_CONSERVATION, false);
		bbr_restore_cwnd(c, b);
	}
	b->prev_recovery = rs->recovery;
	if (has(b, F_CONSERVATION) && has(b, F_ROUND_START))
		set(b, F_CONSERVATION, false);
	if (has(b, F_CONSERVATION))
		c->cwnd = max32(c->cwnd, rs->in_flight + rs->newly_acked);
}

static void bbr_set_cwnd(struct tcp_cong *c, struct bbr *b, const struct tcp_rate_sample *rs)
{
	uint32_t max_inflight = bbr_inflight(c, b, bbr_bw(b), bbr_cwnd_gain(b)), cap;

	bbr_modulate_cwnd_for_recovery(c, b, rs);
	if (!has(b, F_CONSERVATION)) {
		if (has(b, F_FILLED_PIPE))
			c->cwnd = min32(clamp64((uint64_t)c->cwnd + rs->newly_acked), max_inflight);
		else if (c->cwnd < max_inflight || (int32_t)(rs->conn_delivered - 10 * c->mss) < 0)
			c->cwnd = clamp64((uint64_t)c->cwnd + rs->newly_acked);
		c->cwnd = max32(c->cwnd, bbr_min_pipe(c));
	}
	if (b->state == BBR_PROBE_RTT)
		c->cwnd = min32(c->cwnd, bbr_probe_rtt_cwnd(c, b));
	/* draft BBRBoundCwndForModel */
	cap = BBR_INF;
	if (bbr_in_probe_bw(b) && b->state != BBR_PROBE_BW_CRUISE)
		cap = b->inflight_hi;
	else if (b->state == BBR_PROBE_RTT || b->state == BBR_PROBE_BW_CRUISE)
		cap = bbr_inflight_with_headroom(c, b);
	cap = min32(cap, b->inflight_lo);
	cap = max32(cap, bbr_min_pipe(c));
	c->cwnd = min32(c->cwnd, cap);
}

static void bbr_cong_control(struct tcp_cong *c, const struct tcp_rate_sample *rs, uint64_t now)
{
	struct bbr b;
	uint32_t sample_bw = 0;
	bool expired, cwnd_limited = rs->prior_in_flight + c->mss > c->cwnd, had_rtt;

	if (!c->mss)
		return;
	bbr_load(c, &b);
	had_rtt = b.min_rtt_us != 0;
	if (rs->interval_us)
		sample_bw = clamp64((uint64_t)rs->delivered * BW_SCALE * 1000 / rs->interval_us);
	bbr_update_congestion_signals(c, &b, rs, sample_bw);
	bbr_check_full_bw(&b, rs);
	bbr_check_startup_done(c, &b, rs);
	bbr_check_drain(c, &b, rs, now);
	bbr_update_probe_bw_phase(c, &b, rs, sample_bw, cwnd_limited, now);
	expired = bbr_update_min_rtt(&b, rs, now);
	if (!had_rtt && b.min_rtt_us && b.state == BBR_STARTUP)
		bbr_init_pacing(c, &b);
	bbr_check_probe_rtt(c, &b, rs, expired, now);
	bbr_advance_latest_signals(&b, rs, sample_bw);
	bbr_set_pacing(&b, bbr_pacing_gain(&b));
	bbr_set_cwnd(c, &b, rs);
	bbr_store(c, &b);
}

/* A loss episode starts (fast recovery or RTO): remember cwnd; no
 * slow-start threshold (BBR has none). */
static uint32_t bbr_ssthresh(struct tcp_cong *c, uint32_t in_flight, uint64_t now)
{
	struct bbr b;

	(void)in_flight;
	(void)now;
	bbr_load(c, &b);
	bbr_save_cwnd(c, &b);
	bbr_store(c, &b);
	return c->ssthresh;
}

static void bbr_event(struct tcp_cong *c, enum tcp_cong_event ev, uint64_t now)
{
	struct bbr b;

	(void)now;
	bbr_load(c, &b);
	switch (ev) {
	case TCP_CA_EVENT_IDLE_RESTART:
		/* draft 4.4.3 (restarting from idle): pace at the estimate */
		set(&b, F_IDLE_RESTART, true);
		if (bbr_in_probe_bw(&b))
			bbr_set_pacing(&b, BBR_UNIT);
		break;
	case TCP_CA_EVENT_LOSS:
		b.prev_recovery = 2; /* the RTO's window of one segment grows back */
		set(&b, F_CONSERVATION, false);
		break;
	default:
		break;
	}
	bbr_store(c, &b);
}

static uint64_t bbr_pacing_rate(const struct tcp_cong *c)
{
	struct bbr b;

	bbr_load(c, &b);
	return (uint64_t)b.pacing_bw * 1000 / BW_SCALE;
}

static void bbr_describe(const struct tcp_cong *c, char *buf, unsigned int len)
{
	struct bbr b;

	bbr_load(c, &b);
	snprintf(buf, len, "%s bw %.1fMbit/s min_rtt %.2fms pacing %.1fMbit/s",
		 bbr_state_names[b.state < BBR_PROBE_RTT + 1 ? b.state : 0],
		 (double)bbr_bw(&b) * 8 * 1000 / BW_SCALE / 1e6, b.min_rtt_us / 1000.0,
		 (double)b.pacing_bw * 8 * 1000 / BW_SCALE / 1e6);
}

const struct tcp_cong_ops tcp_bbr = {
	.name = "bbr",
	.init = bbr_init,
	.ssthresh = bbr_ssthresh,
	.event = bbr_event,
	.cong_control = bbr_cong_control,
	.pacing_rate = bbr_pacing_rate,
	.describe = bbr_describe,
};
