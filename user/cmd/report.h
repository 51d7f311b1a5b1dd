/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The answers of skiffd's control commands (status, stats, neigh, sockets,
 * routes)
 * rendered from plain snapshots, as text for people or as JSON for
 * scripts.  skiffd takes the snapshots (under each worker's lock where the
 * data is the worker's); this file only formats, so it is tested without a
 * daemon.  Counter names come from the X-macro lists of skiff/skiff.h.
 */
#ifndef SKIFF_REPORT_H
#define SKIFF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <skiff/skiff.h>

#include "cmd/config.h"
#include "core/inaddr.h"
#include "cmd/control.h"
#include "cmd/ctl_server.h"
#include "dev/xsk.h"

struct report_queue_info {
	uint32_t queue;
	bool zerocopy;
	int cpu;		/* -1: not pinned */
};

struct report_addr {
	uint32_t addr;		/* network order */
	uint8_t prefix_len;
	bool dedicated;
};

struct report_addr6 {
	struct in6_addr addr;
	uint8_t prefix_len;
	bool dedicated;
	bool link_local;	/* skiffd's own, derived from the MAC */
};

struct report_status {
	int pid;
	uint64_t uptime_s;
	const char *version;
	const char *iface;
	int ifindex;
	uint32_t mtu;
	const char *mode;	/* native, generic */
	const char *attach;	/* dispatcher, single program */
	const char *pin_dir;
	const char *ctl_name;	/* "/run/skiff/<ifname>.<netns>.sock" */
	uint16_t vlan_id;
	int rx_vlan_offload;	/* with vlan_id: 1 on, 0 off, -1 unknown */
	uint32_t gateway;
	struct in6_addr gateway6;	/* :: = none */
	int n_queues;
	struct report_queue_info queues[SKIFF_MAX_QUEUES];
	int n_addrs;
	struct report_addr addrs[SKIFF_MAX_ADDRS];
	int n_addrs6;
	struct report_addr6 addrs6[SKIFF_MAX_ADDRS6];
	int n_echo, n_discard;
	const uint16_t *echo_ports;
	const uint16_t *discard_ports;
	bool tcp;		/* echo/discard also serve TCP */
	uint16_t http_port;	/* 0: no --http */
	const char *http_dir;
	/* limits in force (flags or what memory allowed) */
	uint32_t max_conns;	/* per TCP service and worker (echo/discard) */
	uint32_t http_max_conns;	/* per worker, for --http */
	uint32_t syn_backlog;	/* per listener */
	uint32_t frames;	/* UMEM frames per queue */
	uint32_t failover_ms;	/* 0: never fail open */
	uint32_t http_idle_s, http_per_source;
	const char *seccomp;	/* the system call filter: "enforce", "log", "off" */
	struct ctl_server_stats ctl;	/* the control loop's counters */
};

struct report_queue_stats {
	uint32_t queue;
	uint64_t rx_pps;	/* over the last second */
	uint64_t tx_pps;
	struct skiff_ustats st;	/* a copy of the queue's counters */
	int xsk_err;		/* 0: xsk holds the socket's kernel counters; else -errno */
	struct xsk_kernel_stats xsk;
};

#define REPORT_AGE_NEVER UINT64_MAX

struct report_neigh {
	uint32_t ip;		/* network order; 0 with v6 */
	uint8_t mac[6];
	uint64_t age_ns;	/* since the last confirmation, REPORT_AGE_NEVER: never */
	const char *state;	/* NULL: reachable/stale from age_ns; else e.g. "incomplete" */
	int worker;		/* whose cache holds a non-shared entry, -1: shared map */
	bool v6;		/* an IPv6 neighbour (neigh6, learned by XDP): ip6, not ip */
	uint8_t ip6[16];
};

struct report_sock {
	int worker;
	const char *proto;	/* struct proto name, static */
	union inet_addr saddr, daddr;	/* IPv4 mapped (core/inaddr.h) */
	uint16_t sport, dport;	/* network order */
	uint32_t rq_bytes;
	uint32_t rq_packets;
	/* TCP only (tcp true): as ss -tani shows them */
	bool tcp;
	const char *state;	/* tcp_state_name(), static */
	uint32_t sq_bytes;	/* Send-Q: not yet acknowledged (listener: backlog) */
	uint32_t cwnd;		/* bytes */
	uint32_t srtt_us, rttvar_us, rto_ms, mss;
	uint64_t retrans;
	const char *cc;		/* static */
	char cc_state[96];	/* the algorithm's state in words (BBR), "" otherwise */
	bool orphan;		/* closed by the application, still finishing */
};

enum report_route_kind {
	REPORT_ROUTE_LINK,	/* on-link prefix of an --addr: dev IF scope link */
	REPORT_ROUTE_STATIC,	/* --route DST/N via G */
	REPORT_ROUTE_DEFAULT,	/* --gateway G */
};

/* One route, in the order to show (net/route.h ip_route_dump()). */
struct report_route {
	enum report_route_kind kind;
	uint32_t dst;		/* network order; 0 for the default route */
	uint8_t prefix_len;
	uint32_t gateway;	/* 0: on-link */
	uint32_t src;		/* the source address the route gives */
	uint64_t uses;		/* lookups that chose it, summed over the workers */
	bool v6;		/* an IPv6 route: the *6 fields instead */
	struct in6_addr dst6, gateway6, src6;	/* gateway6 :: = on-link */
};

/* One named 64-bit counter of a struct, for walking the X-macro lists. */
struct report_counter {
	const char *name;
	size_t offset;
};

extern const struct report_counter report_xdp_counters[];
extern const size_t report_n_xdp_counters;
extern const struct report_counter report_ustats_counters[];	/* without the drops */
extern const size_t report_n_ustats_counters;
extern const struct report_counter report_drop_counters[];	/* offsets into skiff_ustats */
extern const size_t report_n_drop_counters;
extern const struct report_counter report_xsk_counters[];	/* struct xsk_kernel_stats */
extern const size_t report_n_xsk_counters;

static inline uint64_t report_get(const void *base, const struct report_counter *c)
{
	return *(const uint64_t *)((const char *)base + c->offset);
}

/* sum += add, every counter of struct skiff_ustats. */
void report_ustats_add(struct skiff_ustats *sum, const struct skiff_ustats *add);

void report_status(struct strbuf *sb, const struct report_status *s, bool json);
/* xdp may be NULL when the XDP counters could not be read.  Each queue's
 * XSK kernel counters: text shows the non-zero ones, JSON all of them ("xsk"
 * per queue: null when unreadable, a field null when the kernel is too old
 * to report it). */
void report_stats(struct strbuf *sb, const struct report_queue_stats *q, int n_queues,
		  const struct skiff_xdp_stats *xdp, bool json);
void report_neigh(struct strbuf *sb, const struct report_neigh *n, int count,
		  uint64_t stale_ns, bool json);
void report_sockets(struct strbuf *sb, const struct report_sock *s, int count, bool json);
/* As ip route shows them, dev being the interface; plus the use counts. */
void report_routes(struct strbuf *sb, const struct report_route *r, int count, const char *dev,
		   bool json);
/* One IPv6 path MTU cache entry of one worker. */
struct report_pmtu {
	struct in6_addr dst;
	uint32_t mtu;
	uint64_t expires_ns;
	int worker;
};

/* As ip -6 route show cache shows them, plus the worker holding each. */
void report_pmtu(struct strbuf *sb, const struct report_pmtu *p, int count, const char *dev,
		 bool json);
/* "error: msg" or {"error": "msg"}. */
void report_error(struct strbuf *sb, const char *msg, bool json);

#endif /* SKIFF_REPORT_H */
