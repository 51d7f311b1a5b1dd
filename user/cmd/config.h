/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Configuration of skiffd from its command line and an optional config file
 * (the same keys, one "key value" per line), and the command line of
 * skiffctl.  Pure parsing: no privileges, no interface, no network, so the
 * unit tests drive every error case (tests/unit/test_config.c).  What needs
 * the system (does the interface exist, how many RX queues for
 * "--queues all") is resolved later by skiffd itself (cmd/netif.h).
 */
#ifndef SKIFF_CONFIG_H
#define SKIFF_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <skiff/skiff.h>

#include "cmd/seccomp.h"
#include "core/inaddr.h"
#include "dev/loader.h"

#ifndef SKIFF_VERSION
#define SKIFF_VERSION "0.1.0"
#endif

#define SKIFF_FRAG_TIMEOUT_MAX	300	/* --frag-timeout, seconds */
#define SKIFFD_MAX_SERVICES	16	/* per kind (echo, discard), each over UDP and TCP */
#define SKIFFD_EXIT_USAGE	2	/* exit status of every start-up error */
#define SKIFFD_FAILOVER_MS	500	/* --failover-ms default (the --help text says it too) */

struct skiffd_addr {
	uint32_t addr;		/* network order */
	uint8_t prefix_len;
};

/* --addr 2001:db8::5/64: an IPv6 address (XDP answers NDP and ping for it) */
struct skiffd_addr6 {
	struct in6_addr addr;
	uint8_t prefix_len;
	bool link_local;	/* fe80::/64 derived from the MAC by skiffd (addr6.c) */
};

/* --addr X:Y::Z/N given at most this often: the last slot is the link-local one. */
#define SKIFFD_MAX_ADDRS6_GIVEN	(SKIFF_MAX_ADDRS6 - 1)

/* --route DST/N via GW: a static route (network order). */
struct skiffd_route {
	uint32_t dst;		/* host bits zero */
	uint8_t prefix_len;	/* 1 to 32 */
	uint32_t gateway;
};

/* --route DST6/N via GW6: an IPv6 static route. */
struct skiffd_route6 {
	struct in6_addr dst;	/* host bits zero */
	uint8_t prefix_len;	/* 1 to 128 */
	struct in6_addr gateway;
};

struct skiffd_config {
	char iface[IFNAMSIZ];
	struct skiffd_addr addrs[SKIFF_MAX_ADDRS];
	int n_addrs;
	struct skiffd_addr6 addrs6[SKIFF_MAX_ADDRS6];
	int n_addrs6;
	uint32_t gateway;	/* network order, 0 = none */
	struct in6_addr gateway6;	/* --gateway6; unspecified (::) = none */
	struct skiffd_route routes[SKIFF_MAX_ROUTES];	/* --route, in the order given */
	int n_routes;
	struct skiffd_route6 routes6[SKIFF_MAX_ROUTES];	/* --route with IPv6 prefixes */
	int n_routes6;
	enum skiff_xdp_mode mode;
	uint32_t n_queues;	/* 0 with queues_all until resolved */
	bool queues_all;	/* --queues all: every RX queue of the interface */
	uint16_t echo_ports[SKIFFD_MAX_SERVICES];	/* host order */
	int n_echo;
	uint16_t discard_ports[SKIFFD_MAX_SERVICES];
	int n_discard;
	char pin_dir[PATH_MAX];	/* "" = SKIFF_PIN_ROOT/<iface> */
	int cpus[SKIFF_MAX_QUEUES];	/* worker i runs on cpus[i] */
	int n_cpus;
	uint16_t vlan_id;	/* 0 = untagged */
	char config_file[PATH_MAX];
	bool force_copy;
	bool fix_offloads;	/* --fix-offloads: rxvlan off while running */
	bool no_link_local;	/* --no-link-local: no fe80:: address of skiff's own */
	int verbose;
	/* --http PORT:DIR: the HTTP/1.1 file server, 0 = none */
	uint16_t http_port;	/* host order */
	char http_dir[PATH_MAX];
	/* the built-in client, run once after start-up on worker 0 */
	char fetch_url[1100];	/* --fetch URL, "" = none */
	union inet_addr send_addr; /* --send HOST:PORT:BYTES (IPv4 mapped) */
	uint16_t send_port;	/* host order, 0 = no --send */
	uint64_t send_bytes;
	bool exit_after_client;	/* stop once the client is done (status: its success) */
	/* capacity; 0 = skiffd derives it from memory at start-up */
	uint32_t max_conns;	/* --max-conns: TCP connections per service and worker */
	uint32_t syn_backlog;	/* --syn-backlog: SYN queue per listener */
	uint32_t frag_timeout;	/* --frag-timeout: reassembly timeout, s (0: 30) */
	uint32_t frames;	/* --frames: UMEM frames per queue */
	uint32_t failover_ms;	/* --failover-ms: heartbeat bound; 0 = never fail open */
	uint32_t busy_poll_us;	/* --busy-poll: spin this long after the last traffic; 0 = off */
	uint8_t tcp_cc;		/* --cc: TCP_CC_* (transport/tcp_cong.h), 0 = CUBIC */
	uint16_t take_ports[SKIFFD_MAX_SERVICES]; /* --take-port: host order */
	uint32_t http_idle_s;	/* --http-idle: keep-alive idle timeout */
	uint32_t http_per_source; /* --http-per-source: 0 = no cap */
	int n_take_ports;
	enum skiffd_seccomp seccomp;	/* --seccomp (cmd/seccomp.h) */
	bool seccomp_dump;	/* --seccomp-dump: print the filter and exit */
};

enum {
	SKIFFD_PARSE_OK = 0,
	SKIFFD_PARSE_HELP,	/* -h/--help: print skiffd_usage(), exit 0 */
	SKIFFD_PARSE_VERSION,	/* --version */
	SKIFFD_PARSE_SECCOMP_DUMP,	/* --seccomp-dump: no interface needed */
};

/* Defaults: no addresses, mode auto, one queue. */
void skiffd_config_defaults(struct skiffd_config *cfg);

/*
 * Parse argv (and the --config file it names; flags override its keys, a
 * repeatable flag given on the command line replaces the file's list).
 * Returns SKIFFD_PARSE_*, or -errno with a one-line reason in err (no
 * "skiffd: " prefix, no newline).
 */
int skiffd_config_parse(struct skiffd_config *cfg, int argc, char *const argv[], char *err,
			size_t errlen);

/* Parse one config file into cfg (keys as the long flags, without "--"). */
int skiffd_config_load(struct skiffd_config *cfg, const char *path, char *err, size_t errlen);

/* The checks that need the final queue count (after "--queues all" was
 * resolved): enough --cpus for the workers.  0 or -EINVAL with err. */
int skiffd_config_check_queues(const struct skiffd_config *cfg, char *err, size_t errlen);

/*
 * What skiffd's main() does with argv: returns -1 to go on, or the exit
 * status to leave with — 0 after printing help/version to out, 2 after
 * printing "skiffd: <reason>" to errf.
 */
int skiffd_cli(struct skiffd_config *cfg, int argc, char *const argv[], FILE *out, FILE *errf);

void skiffd_usage(FILE *f);

/* ---- skiffctl ---- */

struct skiffctl_args {
	char iface[IFNAMSIZ];	/* "" = find the only daemon */
	const char *command;	/* status, stats, neigh, sockets, routes */
	bool json;
};

/* SKIFFD_PARSE_OK / _HELP, or -EINVAL with err. */
int skiffctl_parse(struct skiffctl_args *a, int argc, char *const argv[], char *err,
		   size_t errlen);
void skiffctl_usage(FILE *f);

#endif /* SKIFF_CONFIG_H */
