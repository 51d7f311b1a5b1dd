/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pluggable congestion control (Linux's tcp_congestion_ops, RFC 5681
 * vocabulary).  The engine owns loss detection and recovery (RFC 5681
 * fast retransmit, RFC 6582 NewReno, RFC 6675 SACK recovery) and asks the
 * algorithm only how the window grows and how far it falls.
 * Units: bytes.  Times: ns of the stack clock.
 *
 * An algorithm that models the path (BBR) sets cong_control instead of
 * cong_avoid/ssthresh: the engine then hands it a delivery rate sample on
 * every ACK (struct tcp_rate_sample, from the send stream's per-chunk
 * records, tcp_buf.h), leaves cwnd to it in recovery (no PRR, no
 * RFC 5681 inflation) and paces transmissions at its pacing_rate.
 */
#ifndef SKIFF_TCP_CONG_H
#define SKIFF_TCP_CONG_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_cong {
	uint32_t cwnd;		/* congestion window, bytes */
	uint32_t ssthresh;	/* slow start threshold, bytes */
	uint32_t mss;		/* sender MSS (SMSS), bytes */
	uint32_t min_rtt_us;	/* smallest RTT sample seen (0 = none yet) */
	uint64_t priv[10];	/* algorithm state */
};

enum tcp_cong_event {
	TCP_CA_EVENT_LOSS,		/* RTO fired: cwnd was set to 1 MSS */
	TCP_CA_EVENT_RECOVERY_START,	/* fast recovery entered */
	TCP_CA_EVENT_RECOVERY_END,	/* fast recovery left (cwnd = ssthresh) */
	TCP_CA_EVENT_IDLE_RESTART,	/* sending again after an idle period (RFC 5681 4.1) */
};

/*
 * A delivery rate sample (draft-ietf-ccwg-bbr "Delivery Rate Samples",
 * after Linux's tcp_rate.c): what the ACK just processed says about the
 * path.  Bytes and µs.  interval_us 0: no valid sample from this ACK.
 */
struct tcp_rate_sample {
	uint32_t delivered;	 /* bytes delivered over interval_us */
	uint32_t interval_us;	 /* max(send, ACK elapsed), >= min RTT; 0: invalid */
	uint32_t rtt_us;	 /* RTT of the most recently sent segment delivered (0: none) */
	uint32_t tx_in_flight;	 /* bytes in flight when that segment was sent */
	uint32_t lost;		 /* bytes found lost since that segment was sent */
	uint32_t prior_delivered; /* C.delivered when that segment was sent */
	uint32_t newly_acked;	 /* bytes newly ACKed or SACKed by this ACK */
	uint32_t newly_lost;	 /* bytes newly found lost by this ACK */
	uint32_t prior_in_flight; /* bytes in flight before this ACK */
	uint32_t in_flight;	 /* ... after it */
	uint32_t conn_delivered; /* the connection's delivered counter (bytes, mod 2^32) */
	bool is_app_limited;	 /* the sender ran out of data: a lower bound only */
	uint8_t recovery;	 /* the engine: 0 no loss episode, 1 fast recovery, 2 after an RTO */
};

struct tcp_cong_ops {
	const char *name;
	/* New connection: set cwnd (RFC 5681 3.1 IW / RFC 6928) and ssthresh. */
	void (*init)(struct tcp_cong *c, uint64_t now);
	/* New data acknowledged outside recovery: grow cwnd (slow start or
	 * congestion avoidance).  acked = bytes newly acked; in_flight before
	 * the ACK; is_cwnd_limited: the sender was using the whole window. */
	void (*cong_avoid)(struct tcp_cong *c, uint32_t acked, uint32_t in_flight,
			   int is_cwnd_limited, uint64_t now);
	/* Loss detected: the new ssthresh (RFC 5681 eq. 4 for NewReno). */
	uint32_t (*ssthresh)(struct tcp_cong *c, uint32_t in_flight, uint64_t now);
	/* An RTT sample (us) for newly acked data. */
	void (*rtt_sample)(struct tcp_cong *c, uint32_t rtt_us, uint64_t now);
	void (*event)(struct tcp_cong *c, enum tcp_cong_event ev, uint64_t now);
	/* Optional (BBR): the whole congestion response to one ACK, from its
	 * rate sample; sets cwnd.  With it, cong_avoid is not called and
	 * ssthresh only tells the algorithm of a loss episode. */
	void (*cong_control)(struct tcp_cong *c, const struct tcp_rate_sample *rs, uint64_t now);
	/* Optional: the rate to pace transmissions at, bytes/s (0: no pacing). */
	uint64_t (*pacing_rate)(const struct tcp_cong *c);
	/* Optional: a short description of the state for skiffctl (buf, len). */
	void (*describe)(const struct tcp_cong *c, char *buf, unsigned int len);
};

extern const struct tcp_cong_ops tcp_newreno;
extern const struct tcp_cong_ops tcp_cubic;	/* RFC 9438: the default, as in Linux */
extern const struct tcp_cong_ops tcp_bbr;	/* draft-ietf-ccwg-bbr (BBRv3), tcp_bbr.c */

/* SKIFF_TCP_CONGESTION / stack_config.tcp_cc numbers. */
enum { TCP_CC_CUBIC = 0, TCP_CC_NEWRENO = 1, TCP_CC_BBR = 2, TCP_CC_COUNT };

/* "cubic", "newreno" (or "reno") or "bbr"; NULL if unknown. */
const struct tcp_cong_ops *tcp_cong_find(const char *name);
/* By number (TCP_CC_*); NULL if out of range. */
const struct tcp_cong_ops *tcp_cong_by_id(unsigned int id);
/* The number of ops (TCP_CC_*); -1 if it is none of them. */
int tcp_cong_id(const struct tcp_cong_ops *ops);

#endif /* SKIFF_TCP_CONG_H */
