/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP (RFC 9293) — public face: initialisation, the struct proto the socket
 * layer uses, input from IPv4, and a snapshot of a connection for skiffctl
 * (like `ss -tani`).  The connection structure is in tcp_sock.h, what
 * TCP's files share in tcp_internal.h.
 */
#ifndef SKIFF_TCP_H
#define SKIFF_TCP_H

#include <stdint.h>

#include "core/stack.h"
#include "transport/sock.h"

/* RFC 9293 3.3.2 states (Linux numbering order is not relied upon). */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_STATE_MAX
};

/* Per-stack limits and defaults (struct stack_config may override later). */
#define TCP_EPHEMERAL_LO	32768	/* host order; UDP uses 49152.. */
#define TCP_EPHEMERAL_HI	49151
#define TCP_DEFAULT_SNDBUF	(256u * 1024)
#define TCP_DEFAULT_RCVBUF	(256u * 1024)
#define TCP_MAX_CONNS		131072	/* connection table entries per stack */
/* listen(): the backlog (accept queue) is honoured up to this, as Linux's
 * net.core.somaxconn (4096 since 5.4) */
#define TCP_SOMAXCONN		4096
/* The SYN queue of each listener (connections in SYN-RECEIVED; SYN cookies
 * only beyond it): stack_config.tcp_syn_backlog, or TCP_SYN_BACKLOG when 0.
 * skiffd derives it from memory with tcp_syn_backlog_for_memory(). */
#define TCP_SYN_BACKLOG_MIN	128
#define TCP_SYN_BACKLOG_MAX	65536

/* One SYN-queue entry per MiB of memory (a tcp_sock is ~1.2 KiB, so the
 * queue takes at most ~0.12% of it), within [TCP_SYN_BACKLOG_MIN,
 * TCP_SYN_BACKLOG_MAX]: the role of Linux's tcp_max_syn_backlog, which
 * also scales with memory. */
uint32_t tcp_syn_backlog_for_memory(uint64_t mem_bytes);

extern const struct proto tcp_prot;

int tcp_init(struct stack *st);		/* registers IPPROTO_TCP; inet_init registers tcp_prot */
void tcp_fini(struct stack *st);
int tcp_rcv(struct stack *st, struct pkb *pkb);

const char *tcp_state_name(int state);

/* What skiffctl sockets shows for a TCP socket. */
struct tcp_conn_info {
	int state;
	uint32_t rcvq;		/* bytes received, not read (listener: accept queue length) */
	uint32_t sndq;		/* bytes not yet acknowledged (listener: backlog) */
	uint32_t cwnd;		/* bytes */
	uint32_t ssthresh;
	uint32_t srtt_us;
	uint32_t rttvar_us;
	uint32_t rto_ms;
	uint32_t mss;
	uint32_t snd_wnd;
	uint32_t rcv_wnd;
	uint64_t retrans;	/* segments retransmitted */
	const char *cc;		/* "cubic", "newreno", "bbr" */
	char cc_state[96];	/* the algorithm's state in words ("" for CUBIC, NewReno) */
	uint64_t pacing_rate;	/* bytes/s, 0: not paced */
};
/* 0 and info for a TCP sock, -EINVAL for anything else. */
int tcp_get_info(const struct sock *sk, struct tcp_conn_info *info);
/* Visit every connection of the stack, orphans and TIME_WAIT included. */
void tcp_walk(struct stack *st, void (*fn)(void *arg, const struct sock *sk), void *arg);
/* Bytes of memory one connection costs (struct size, no buffered data). */
size_t tcp_conn_size(void);
/* Cap the stack's pool of buffer chunks (2 KiB each; default 65536), not
 * below what it has allocated already (-EBUSY).  Tests use it to run the
 * pool dry. 0 or -errno. */
int tcp_set_chunk_limit(struct stack *st, uint32_t max_chunks);
/* Recovery blocks (SACK scoreboard and undo state of connections in or
 * just after loss recovery) in use now; 0 when every connection is idle. */
uint32_t tcp_recovery_in_use(struct stack *st);
/* Cap the recovery blocks in use at once (default TCP_RECOVERY_MAX = 16384;
 * 0 refuses every one): connections refused one recover without SACK.
 * Tests use it to run the pool dry.  0 or -EINVAL. */
int tcp_set_recovery_limit(struct stack *st, uint32_t max_blocks);
/* Raise (or lower) the stack's connection objects limit from TCP_MAX_CONNS,
 * up to TCP_MAX_CONNS_LIMIT; the two-stack bench holds 1M connections with
 * it (the connection hash keeps its TCP_EHASH_SLOTS buckets).  0 or -EINVAL. */
#define TCP_MAX_CONNS_LIMIT	(1u << 22)
int tcp_set_conn_limit(struct stack *st, uint32_t max_conns);

#endif /* SKIFF_TCP_H */
