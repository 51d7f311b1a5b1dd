/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One TCP connection (struct tcp_sock) and what it is made of: the parsed
 * segment, the recovery block, a listener's queues, the protocol's
 * constants.  Read by TCP's files, by the socket layer's dump and by the
 * tests; what TCP's files share beyond the structure (their prototypes and
 * inline helpers) is in tcp_internal.h, the stack-wide API in tcp.h.
 * Sequence numbers are host order; addresses and ports in struct sock are
 * network order.  Every field group says which file writes it.
 */
#ifndef SKIFF_TCP_SOCK_H
#define SKIFF_TCP_SOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <skiff/proto/tcp.h>

#include "core/pkb.h"
#include "core/stack.h"
#include "core/timer.h"
#include "transport/sock.h"
#include "transport/tcp.h"
#include "transport/tcp_buf.h"
#include "transport/tcp_cong.h"

#define TCP_MAX_OPT_LEN		40
#define TCP_MSS_DEFAULT		536	/* RFC 9293 3.7.1: when the peer sends none */
#define TCP_MSS_DEFAULT6	1220	/* RFC 8200 8.3: the same over IPv6 (1280 - 60) */
/* The smallest MSS a peer may make us send with (Linux's tcp_min_snd_mss):
 * an MSS of 1 would cut every byte into a segment and a frame of its own. */
#define TCP_MIN_SND_MSS		48
#define TCP_MAX_WSCALE		14	/* RFC 7323 2.3 */
#define TCP_MAX_SACK_BLOCKS	4	/* on receive; we send at most 3 with TS, 4 without */
#define TCP_SCOREBOARD		128	/* sender's SACKed ranges remembered */
#define TCP_MAX_REORDERING	127	/* cap of the adaptive DupThresh (segments) */
#define TCP_UNDO_RXT		4	/* ranges a recovery episode retransmitted, for D-SACK undo */
#define TCP_ECN_DEFAULT		2	/* SKIFF_TCP_ECN: accept when asked (Linux's tcp_ecn = 2) */
#define TCP_IP_ECT0		0x02	/* RFC 3168 5: ECN-Capable Transport (0) */
#define TCP_IP_CE		0x03	/* RFC 3168 5: Congestion Experienced */

#define TCP_RTO_MIN_NS		(200ULL * 1000 * 1000)	/* Linux; RFC 6298 2.4 says 1 s, allows lower */
#define TCP_RTO_MAX_NS		(120ULL * 1000 * 1000 * 1000)	/* RFC 6298 2.5 */
#define TCP_RTO_INIT_NS		(1000ULL * 1000 * 1000)	/* RFC 6298 2.1 */
#define TCP_DELACK_NS		(40ULL * 1000 * 1000)	/* Linux min delayed ACK; RFC 9293: < 0.5 s */
#define TCP_MSL_NS		(30ULL * 1000 * 1000 * 1000)	/* TIME_WAIT = 2 MSL = 60 s, as Linux */
#define TCP_FIN_WAIT2_NS	(60ULL * 1000 * 1000 * 1000)	/* orphaned FIN_WAIT_2 timeout */
#define TCP_SYN_RETRIES		6
#define TCP_SYNACK_RETRIES	5
#define TCP_RETRIES2		15	/* RFC 1122 4.2.3.5 R2 */
#define TCP_KEEPIDLE_S		7200
#define TCP_KEEPINTVL_S		75
#define TCP_KEEPCNT		9
#define TCP_SYN_BACKLOG		256	/* per listener when stack_config says 0 */
#define TCP_CHALLENGE_ACK_LIMIT	1000	/* per stack and second, mean (Linux's tcp_challenge_ack_limit) */

/* A received segment, parsed once by tcp_input.c. */
struct tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t end_seq;	/* seq + len + SYN + FIN */
	uint32_t wnd;		/* raw window field (not yet scaled) */
	uint16_t len;		/* payload bytes */
	uint8_t flags;		/* TCPF_* */
	uint8_t doff;		/* header bytes */
	const uint8_t *payload;
	/* options */
	uint16_t mss;		/* 0: none */
	int8_t wscale;		/* -1: none */
	bool sack_ok;
	bool has_ts;
	uint32_t ts_val;
	uint32_t ts_ecr;
	uint8_t n_sack;
	bool ce;		/* the IP header said Congestion Experienced (RFC 3168) */
	struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
	/* addressing (network order; IPv4 mapped, core/inaddr.h) */
	union inet_addr saddr, daddr;
	uint16_t sport, dport;
};

/* Loss recovery state (tcp_ack.c). */
enum tcp_ca_state {
	TCP_CA_OPEN = 0,
	TCP_CA_DISORDER,	/* dupacks or SACKs seen, no recovery yet */
	TCP_CA_RECOVERY,	/* fast recovery (NewReno or RFC 6675) */
	TCP_CA_LOSS,		/* after an RTO, until everything sent before it is acked */
};

/* What rtx_timer waits for while data is in flight (tcp_timer.c, tcp_rack.c). */
enum tcp_rtx_kind {
	TCP_RTX_RTO = 0,	/* retransmission timeout (RFC 6298), or persist */
	TCP_RTX_REO,		/* RACK's reordering window ends (RFC 8985 6.2 step 5) */
	TCP_RTX_TLP,		/* the tail loss probe (RFC 8985 7.2) */
	TCP_RTX_UNDO,		/* nothing in flight: the episode's last D-SACKs may still
				 * come; at expiry the recovery block goes back */
};

/*
 * What only a connection in loss recovery, with SACK or undo history, or
 * with data out of order to report needs (tcp_ack.c and tcp_input.c write
 * it): taken from the stack's bounded pool on first use and given back
 * when the connection is idle again (everything acknowledged, recovery
 * over, the episode's D-SACK undo settled, nothing out of order to report)
 * or closes (tcp_recovery.c).  When the pool refuses one, the connection
 * goes on without it: received SACK blocks are ignored (recovery by RACK
 * on cumulative ACKs, the loss probe and the RTO), the episode cannot be
 * undone, and no SACK or D-SACK block is sent.
 * Invariant: tp->rcvy == NULL implies n_scoreboard == 0, !undo_ok,
 * !dsack_undo_ok, !undo_in_loss, n_undo_rxt == 0, n_rcv_sacks == 0 and
 * !dsack_pending.
 */
struct tcp_recovery {
	struct tcp_sack_block scoreboard[TCP_SCOREBOARD];	/* SACKed ranges above snd_una,
								 * sorted, disjoint */
	struct tcp_cong undo_cc;	/* congestion state before the episode (RFC 4015) */
	uint64_t undo_rtx_base;		/* retrans_total when the episode began */
	uint32_t undo_tsval;		/* our TSval of the episode's first retransmission */
	uint32_t undo_loss_start;	/* go-back-N resent [undo_loss_start, undo_loss_high) */
	uint32_t undo_loss_high;
	uint32_t undo_dsacks;		/* D-SACKs of this episode's retransmissions */
	struct tcp_sack_block undo_last_dsack;	/* last one counted: a repeat counts once */
	struct tcp_sack_block undo_rxt[TCP_UNDO_RXT];	/* retransmitted by fast recovery */
	/* the receiver's side (tcp_input.c): what it reports while data is out of order */
	struct tcp_sack_block rcv_sacks[TCP_MAX_SACK_BLOCKS];	/* most recent first */
	struct tcp_sack_block dsack;	/* duplicate received (cleared once sent) */
	struct tcp_recovery *next;	/* the pool's free list */
};

/* The pool of recovery blocks of one stack (in struct tcp_table). */
#define TCP_RECOVERY_MAX	16384u	/* blocks in use at most, per stack (about 20 MiB) */
#define TCP_RECOVERY_CACHE	64u	/* free blocks kept for reuse */
struct tcp_recovery_pool {
	struct tcp_recovery *free;
	uint32_t n_free;
	uint32_t in_use;
	uint32_t max;
};

/* What only a listener needs, allocated by listen() (tcp.c). */
struct tcp_listen_q {
	struct tcp_sock *accept_head;	/* established, waiting for accept() */
	struct tcp_sock *accept_tail;
	uint32_t syn_qlen;		/* connections in SYN_RECEIVED */
	uint32_t accept_qlen;
	uint32_t backlog;
};

struct tcp_sock {
	struct sock sk;			/* must be first */
	struct stack *st;

	/* ---- connection identity and state (tcp.c, tcp_conn.c, tcp_input.c) ---- */
	uint8_t state;			/* enum tcp_state */
	bool orphan;			/* the application closed it; freed when done */
	bool in_hash;
	bool synced;			/* reached a synchronized state once (tcp_conn.c) */
	/* The IPv4 route of the last segment, kept for the next (tcp_route,
	 * tcp_output.c), in three holes of the layout: the destination it is
	 * for (0: none), */
	uint32_t rt_daddr;
	struct tcp_sock *hnext;		/* connection hash chain (tcp_conn.c) */
	struct tcp_sock *lnext;		/* every connection of the stack (tcp_walk) */
	struct tcp_sock **lpprev;
	struct tcp_port_ref *pref;	/* local port claim this connection holds (tcp_conn.c) */

	/* ---- listener (tcp.c, tcp_input.c) ---- */
	struct tcp_sock *parent;	/* listener of an embryonic / unaccepted connection */
	struct tcp_sock *qnext;		/* link in the parent's SYN or accept queue */
	struct tcp_listen_q *lq;	/* a listener's queues (since listen(), tcp.c) */

	/* ---- send sequence space (RFC 9293 3.3.1) ---- */
	uint32_t iss;
	uint32_t snd_una;		/* tcp_ack.c */
	uint32_t snd_nxt;		/* tcp_output.c (rewound on RTO by tcp_timer.c) */
	uint32_t snd_max;		/* highest sequence sent + 1 */
	uint32_t snd_wnd;		/* scaled, tcp_ack.c */
	uint32_t max_snd_wnd;		/* largest window the peer offered (RFC 5961 5.2) */
	uint32_t snd_wl1, snd_wl2;	/* tcp_ack.c */
	uint32_t write_seq;		/* sequence of the next byte the app writes */
	bool fin_queued;		/* shutdown(SHUT_WR)/close: FIN after the data */
	bool fin_sent;

	/* ---- receive sequence space (tcp_input.c) ---- */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_wnd;		/* last advertised window (bytes) */
	uint32_t rcv_wup;		/* rcv_nxt when rcv_wnd was advertised */
	bool fin_rcvd;			/* peer's FIN consumed (EOF after the data) */
	bool rd_shutdown;
	bool ooo_fin;			/* a FIN beyond RCV.NXT waits with the out-of-order data */
	uint8_t rt_slot;		/* ... the route_uses slot that chose it (net/route.h) */
	uint32_t ooo_fin_seq;		/* its sequence number (consumed when RCV.NXT gets there) */

	/* ---- options negotiated (tcp_input.c on SYN / SYN-ACK) ---- */
	uint16_t mss;			/* effective send MSS (payload bytes) */
	uint16_t adv_mss;		/* MSS we announce: route MTU - 40 */
	uint16_t rcv_mss;		/* largest segment received, up to adv_mss: "full-sized"
					 * for delayed ACKs (Linux's icsk_ack.rcv_mss) */
	uint8_t snd_wscale;		/* peer's shift: scale its windows by it */
	uint8_t rcv_wscale;		/* our shift */
	bool wscale_ok, sack_ok, ts_ok;
	bool ecn_ok;			/* RFC 3168 negotiated (SYN: requested) */
	uint32_t ts_recent;		/* RFC 7323 TS.Recent */
	uint32_t ecn_high;		/* SND.MAX at the last ECN reduction: once per window */
	uint32_t rt_nexthop;		/* ... and its next hop */
	uint64_t ts_recent_stamp;	/* when ts_recent was set (ns), for PAWS aging */
	uint32_t ts_offset;		/* our TSval = now_ms + ts_offset */
	uint32_t rack_lost;		/* bytes RACK found lost and not resent since, as of the
					 * last ACK or reordering timer (tcp_rack.c; here: padding) */

	/* ---- buffers (tcp_input.c receive side; tcp.c/tcp_output.c send side) ---- */
	struct tcp_stream sndq;		/* bytes from snd_una on, unacked and unsent */
	struct tcp_stream rcvq;		/* in-order bytes not yet read */
	struct tcp_ooo ooo;		/* out of order, beyond rcv_nxt */
	uint32_t sndbuf;		/* limits, bytes */
	uint32_t rcvbuf;
	/* receive buffer autotuning (tcp_rcv_space_adjust, tcp.c), times in
	 * µs modulo 2^32 */
	uint32_t rcv_rtt_us;		/* receiver's RTT estimate, 0: none yet */
	uint32_t rcv_rtt_seq;		/* without timestamps: timing until rcv_nxt passes it */
	uint32_t rcv_rtt_t;		/* ... since then */
	uint32_t rcvq_space;		/* most bytes the application read in one RTT */
	uint32_t rcvq_seq;		/* sequence read up to when this RTT began */
	uint32_t rcvq_t;		/* when it began */
	/* SACK blocks to report (tcp_input.c): the blocks are in *rcvy */
	uint8_t n_rcv_sacks;		/* in rcvy->rcv_sacks */
	bool dsack_pending;		/* report rcvy->dsack first in the next segment (RFC 2883) */

	/* ---- RTT and retransmission (tcp_ack.c, tcp_timer.c) ---- */
	uint32_t srtt_us, rttvar_us;	/* 0 = no sample yet */
	uint32_t rack_rtt_us;		/* RACK.rtt; 0: nothing delivered yet */
	uint64_t rto_ns;
	uint8_t backoff;		/* RTO doublings */
	uint8_t retries;		/* consecutive RTOs (R2) */
	uint32_t rtt_seq;		/* timed segment (when no timestamps) */
	uint64_t rtt_start;		/* its send time, 0 = none timed (Karn) */
	uint64_t retrans_total;
	uint64_t last_send_ns;		/* for idle restart */
	uint64_t last_rcv_ns;		/* for keepalive */
	int soft_err;			/* last ICMP soft error (-errno), 0: none; replaces
					 * ETIMEDOUT on a timeout (Linux's sk_err_soft) */
	uint32_t xmit_stamp_us;		/* the last transmit stamp given (tcp_rack_stamp) */

	/* ---- congestion control and recovery (tcp_ack.c) ---- */
	const struct tcp_cong_ops *cc_ops;
	struct tcp_cong cc;
	uint8_t ca_state;		/* enum tcp_ca_state */
	uint8_t dupacks;
	uint8_t reo_wnd_mult;		/* RACK.reo_wnd_mult (tcp_rack.c) */
	uint8_t reo_wnd_persist;	/* RACK.reo_wnd_persist */
	bool rack_reord;		/* RACK.reordering_seen */
	bool rack_dsack_on;		/* rack_dsack_round is valid */
	bool tlp_on;			/* a loss probe is unanswered */
	bool tlp_retrans;		/* ... and it was a retransmission */
	uint8_t rtx_kind;		/* enum tcp_rtx_kind: what rtx_timer is armed for */
	uint8_t ecn_mode;		/* SKIFF_TCP_ECN: 0 off, 1 request, 2 accept only (tcp.c) */
	bool ecn_ece;			/* CE seen: ECN-Echo on our segments until a CWR */
	bool ecn_cwr;			/* reduced for an ECN-Echo: CWR on the next new data */
	uint32_t recover;		/* RFC 6582 "recover" / RFC 6675 RecoveryPoint */
	uint32_t high_rxt;		/* RFC 6675 HighRxt */
	uint32_t dsack_dups;		/* segments D-SACKed so far (Linux's dsack_dups, tcp_rack.c) */
	/* SACK scoreboard, undo state: the bulk is in *rcvy (below), the
	 * counts and flags here say when it is in use */
	struct tcp_recovery *rcvy;	/* NULL: none (tcp_recovery.c) */
	uint8_t n_scoreboard;		/* SACKed ranges in rcvy->scoreboard */
	/* reordering and undo (tcp_ack.c; tcp_timer.c starts an RTO episode) */
	uint8_t reordering;		/* DupThresh in segments: 3, raised by reordering seen */
	bool undo_ok;			/* this episode's cwnd cut may still be undone (Eifel) */
	bool spurious_seen;		/* counted tcp_spurious_rtx for this episode */
	/* D-SACK detection of a spurious episode (RFC 2883 4, RFC 3708; tcp_ack.c) */
	bool dsack_undo_ok;		/* D-SACKs may still show this episode spurious */
	bool undo_in_loss;		/* an RTO's go-back-N belongs to the episode */
	uint8_t n_undo_rxt;		/* ranges in rcvy->undo_rxt */

	/* ---- RACK-TLP (RFC 8985) and PRR (RFC 6937): tcp_rack.c; the
	 * per-segment transmit times live in the send stream's chunks ---- */
	uint32_t rack_xmit_us;		/* RACK.xmit_ts (µs, mod 2^32) */
	uint32_t rack_end_seq;		/* RACK.end_seq */
	uint32_t rack_dsack_round;	/* RACK.dsack_round (valid: rack_dsack_on) */
	uint32_t rxt_high;		/* above every retransmission and the slots it restamped
					 * (RACK walks stop past it at the first segment not lost) */
	uint32_t tlp_end_seq;		/* TLP.end_seq (valid: tlp_on) */
	uint32_t prr_delivered;		/* RFC 6937 prr_delivered */
	uint32_t prr_out;		/* RFC 6937 prr_out */
	uint32_t recover_fs;		/* RFC 6937 RecoverFS */
	/* (its flags sit with ca_state, where they fill padding) */

	/* ---- delivery rate samples (tcp_rate.c) and pacing (tcp_output.c),
	 * for an algorithm with cong_control (BBR) ---- */
	uint32_t rate_delivered;	/* C.delivered: bytes delivered, mod 2^32 */
	uint32_t rate_delivered_us;	/* C.delivered_time (µs, mod 2^32) */
	uint32_t rate_first_send_us;	/* C.first_send_time */
	uint32_t rate_lost;		/* C.lost: bytes RACK found lost, mod 2^32 */
	uint32_t rate_app_limited;	/* C.app_limited: delivered count that ends it, 0: none */
	bool pace_wait;			/* on the stack's pacing list (struct tcp_pacer) */
	uint64_t pace_next_ns;		/* paced: no data segment leaves before this */

	/* ---- timers (tcp_timer.c) ---- */
	struct timer rtx_timer;		/* RTO or persist (zero window probe) */
	struct timer delack_timer;
	struct timer keepalive_timer;	/* keepalive, SYN_RECEIVED/FIN_WAIT_2/TIME_WAIT expiry */
	uint8_t pending_acks;		/* full segments received since our last ACK */
	bool ack_now;			/* send an ACK at the end of this input */
	uint8_t deferred;		/* TCP_DEFER_* work at the end of the burst (tcp_internal.h) */
	bool ack_wnd;			/* ... a window update (the application read) */
	uint8_t probes;			/* persist / keepalive probes sent */

	/* ---- options set by the application (tcp.c) ---- */
	bool nodelay;
	bool keepalive;
	bool reuseaddr;
	bool linger_abort;
	bool sndbuf_locked;		/* SKIFF_SO_SNDBUF set: no autotuning (tcp.c) */
	bool rcvbuf_locked;		/* SKIFF_SO_RCVBUF set: no autotuning (tcp.c) */
	bool relay_reads;		/* SKIFF_TCP_RELAY_READS (tcp_recvmsg) */
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	struct tcp_sock *wnext, **wpprev;	/* chunk waiters list (tcp_conn.c); wpprev NULL: not on it */
};

static inline struct tcp_sock *tcp_sk(struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

#endif /* SKIFF_TCP_SOCK_H */
