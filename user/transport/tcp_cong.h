/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pluggable congestion control (Linux's tcp_congestion_ops, RFC 5681
 * vocabulary).  The engine owns loss detection and recovery (RFC 5681
 * fast retransmit, RFC 6582 NewReno, RFC 6675 SACK recovery) and asks the
 * algorithm only how the window grows and how far it falls.
 * Units: bytes.  Times: ns of the stack clock.
 */
#ifndef SKIFF_TCP_CONG_H
#define SKIFF_TCP_CONG_H

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
};

extern const struct tcp_cong_ops tcp_newreno;
extern const struct tcp_cong_ops tcp_cubic;	/* RFC 9438: the default, as in Linux */

/* "cubic" or "newreno"; NULL if unknown. */
const struct tcp_cong_ops *tcp_cong_find(const char *name);

#endif /* SKIFF_TCP_CONG_H */
