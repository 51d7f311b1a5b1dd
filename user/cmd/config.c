// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Command-line and config-file parsing for skiffd, and the command line of
 * skiffctl.  One option table serves both sources: a config file line
 * "key value" is the flag "--key value".  Every error is one line that says
 * which flag (or file:line) and what was expected; nothing here touches the
 * system beyond reading the config file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/client.h"
#include "apps/http.h"
#include "cmd/config.h"
#include "core/inaddr.h"
#include "dev/xsk.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/tcp_cong.h"

enum opt_id {
	OPT_IFACE,
	OPT_ADDR,
	OPT_GATEWAY,
	OPT_GATEWAY6,
	OPT_ROUTE,
	OPT_MODE,
	OPT_QUEUES,
	OPT_ECHO,
	OPT_DISCARD,
	OPT_PIN_DIR,
	OPT_CPUS,
	OPT_VLAN,
	OPT_CONFIG,
	OPT_COPY,
	OPT_FIX_OFFLOADS,
	OPT_NO_LINK_LOCAL,
	OPT_FOREGROUND,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_VERSION,
	OPT_HTTP,
	OPT_FETCH,
	OPT_SEND,
	OPT_EXIT_AFTER_CLIENT,
	OPT_MAX_CONNS,
	OPT_SYN_BACKLOG,
	OPT_FRAG_TIMEOUT,
	OPT_FRAMES,
	OPT_FAILOVER_MS,
	OPT_TAKE_PORT,
	OPT_HTTP_IDLE,
	OPT_HTTP_PER_SOURCE,
	OPT_BUSY_POLL,
	OPT_SECCOMP,
	OPT_SECCOMP_DUMP,
	OPT_CC,
};

struct opt {
	const char *name;	/* long flag without "--"; the config file key */
	char shortc;		/* 0 = none */
	bool has_arg;
	bool in_file;		/* allowed as a config file key */
	enum opt_id id;
};

static const struct opt opts[] = {
	{ "iface", 0, true, true, OPT_IFACE },
	{ "addr", 0, true, true, OPT_ADDR },
	{ "gateway", 0, true, true, OPT_GATEWAY },
	{ "gateway6", 0, true, true, OPT_GATEWAY6 },
	{ "route", 0, true, true, OPT_ROUTE },
	{ "mode", 0, true, true, OPT_MODE },
	{ "queues", 0, true, true, OPT_QUEUES },
	{ "echo", 0, true, true, OPT_ECHO },
	{ "discard", 0, true, true, OPT_DISCARD },
	{ "pin-dir", 0, true, true, OPT_PIN_DIR },
	{ "cpus", 0, true, true, OPT_CPUS },
	{ "vlan", 0, true, true, OPT_VLAN },
	{ "config", 0, true, false, OPT_CONFIG },
	{ "copy", 0, false, true, OPT_COPY },
	{ "fix-offloads", 0, false, true, OPT_FIX_OFFLOADS },
	{ "no-link-local", 0, false, true, OPT_NO_LINK_LOCAL },
	{ "foreground", 0, false, true, OPT_FOREGROUND },
	{ "verbose", 'v', false, true, OPT_VERBOSE },
	{ "help", 'h', false, false, OPT_HELP },
	{ "version", 0, false, false, OPT_VERSION },
	{ "http", 0, true, true, OPT_HTTP },
	{ "fetch", 0, true, true, OPT_FETCH },
	{ "send", 0, true, true, OPT_SEND },
	{ "exit-after-client", 0, false, true, OPT_EXIT_AFTER_CLIENT },
	{ "max-conns", 0, true, true, OPT_MAX_CONNS },
	{ "syn-backlog", 0, true, true, OPT_SYN_BACKLOG },
	{ "frag-timeout", 0, true, true, OPT_FRAG_TIMEOUT },
	{ "frames", 0, true, true, OPT_FRAMES },
	{ "failover-ms", 0, true, true, OPT_FAILOVER_MS },
	{ "take-port", 0, true, true, OPT_TAKE_PORT },
	{ "http-idle", 0, true, true, OPT_HTTP_IDLE },
	{ "http-per-source", 0, true, true, OPT_HTTP_PER_SOURCE },
	{ "busy-poll", 0, true, true, OPT_BUSY_POLL },
	{ "seccomp", 0, true, true, OPT_SECCOMP },
	{ "seccomp-dump", 0, false, false, OPT_SECCOMP_DUMP },
	{ "cc", 0, true, true, OPT_CC },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void skiffd_usage(FILE *f)
{
	fputs("Usage: skiffd --iface IF --addr A.B.C.D/N [--addr ...] [options]\n"
	      "\n"
	      "Serve IPv4 and IPv6 addresses on IF with the skiff XDP/AF_XDP stack, side\n"
	      "by side with the kernel.  Runs in the foreground until SIGINT, SIGTERM or SIGHUP\n"
	      "(a stop, not a reload), then detaches XDP, removes its pinned maps and\n"
	      "control socket and exits 0.\n"
	      "\n"
	      "Options:\n"
	      "  --iface IF          interface to attach to (required)\n"
	      "  --addr A.B.C.D/N    address to serve (at least one of either family;\n"
	      "                      repeatable, at most 16);\n"
	      "                      shared with the kernel if IF already has it (skiff\n"
	      "                      takes only its own ports), dedicated otherwise (XDP\n"
	      "                      answers ARP and ping, skiff owns all of it)\n"
	      "  --addr X:Y::Z/N     an IPv6 address (repeatable, at most 8): dedicated,\n"
	      "                      XDP answers its Neighbor Solicitations and pings and\n"
	      "                      skiff owns all of it (services listen on [::]);\n"
	      "                      shared with the kernel, skiff takes its own ports;\n"
	      "                      with a dedicated one skiffd also takes fe80::/64\n"
	      "                      derived from IF's MAC (modified EUI-64); without\n"
	      "                      an IPv4 --addr skiffd is IPv6-only (the kernel\n"
	      "                      keeps every IPv4 frame)\n"
	      "  --no-link-local     no link-local IPv6 address of skiff's own (the MAC\n"
	      "                      shows in it: RFC 8064; or another host uses it)\n"
	      "  --gateway A.B.C.D   default gateway, on the subnet of an --addr\n"
	      "  --gateway6 X:Y::Z   IPv6 default router (link-local, or on the prefix\n"
	      "                      of an IPv6 --addr): replies to off-link IPv6 hosts\n"
	      "                      go through it\n"
	      "  --route A.B.C.D/N via G.G.G.G  (or X:Y::/N via G:G::G for IPv6)\n"
	      "                      static route, as ip route add: packets to A.B.C.D/N\n"
	      "                      go through gateway G.G.G.G, which must be on the\n"
	      "                      subnet of an --addr (repeatable, at most 32; the\n"
	      "                      longest matching prefix wins; /N omitted means /32;\n"
	      "                      also one argument \"A.B.C.D/N via G.G.G.G\", and the\n"
	      "                      config file line \"route A.B.C.D/N via G.G.G.G\")\n"
	      "  --mode MODE         XDP attach mode: auto (native if the driver has it,\n"
	      "                      else generic; the default), native or generic\n"
	      "  --queues N|all      RX queues to serve, one AF_XDP socket and worker\n"
	      "                      thread each (default 1; all = every RX queue of IF)\n"
	      "  --cpus LIST         pin worker i to the i-th CPU of LIST (e.g. 2,3 or 0-3)\n"
	      "  --echo PORT         echo service (RFC 862) on UDP and TCP PORT (repeatable)\n"
	      "  --discard PORT      discard service (RFC 863) on UDP and TCP PORT (repeatable)\n"
	      "  --http PORT:DIR     HTTP/1.1 server of the files under DIR on TCP PORT\n"
	      "                      (GET and HEAD, keep-alive; nothing outside DIR)\n"
	      "  --fetch URL         once started, GET http://A.B.C.D[:PORT]/PATH (or [X:Y::Z]) from worker 0\n"
	      "                      and print \"fetch: N bytes in S s, sha256 HEX\"\n"
	      "  --send A.B.C.D:PORT:BYTES or [X:Y::Z]:PORT:BYTES\n"
	      "                      once started, send BYTES (suffix K, M or G for KiB, MiB,\n"
	      "                      GiB) of the pattern \"byte i = i mod 251\" over TCP and\n"
	      "                      print \"send: N bytes in S s, sha256 HEX, ...\"\n"
	      "  --exit-after-client stop after --fetch/--send; exit status 0 if it succeeded,\n"
	      "                      1 if not\n"
	      "  --max-conns N       TCP connections each service (echo, discard, HTTP) holds\n"
	      "                      per worker, 1 to 131072; at the limit it stops accepting\n"
	      "                      and new ones wait in the listen backlog, then their SYNs\n"
	      "                      are dropped (counted svc_conn_limited/http_conn_limited).\n"
	      "                      Default: half the memory at 2 KiB a connection, split\n"
	      "                      over the services and workers, at most 131072\n"
	      "  --syn-backlog N     SYN queue of each TCP listener (connections in SYN-RECEIVED;\n"
	      "                      SYN cookies beyond it), 1 to 65536; default one per MiB of\n"
	      "                      memory, from 128 to 65536.  The accept queue is the listen\n"
	      "                      backlog, at most 4096 (as Linux's somaxconn)\n"
	      "  --frag-timeout SECS drop an IPv4 or IPv6 datagram whose fragments have not\n"
	      "                      all come this long after its first one (1 to 300,\n"
	      "                      default 30, Linux's ipfrag_time; ip_frag_timeout)\n"
	      "  --frames N          UMEM frames (4 KiB each) per queue, 256 to 1048576;\n"
	      "                      default 35840 (140 MiB): the fill, RX and TX rings full\n"
	      "                      plus 1024 for the stack, fewer if that is more than an\n"
	      "                      eighth of memory\n"
	      "  --http-idle SECS    close a keep-alive HTTP connection idle this long after\n"
	      "                      a response (1 to 86400, default 60); a request header\n"
	      "                      must arrive whole within 10 s of accept or of its first\n"
	      "                      byte (http_idle_timeouts, http_header_timeouts)\n"
	      "  --http-per-source N HTTP connections one peer address may hold per worker;\n"
	      "                      more are reset at accept (http_source_limited); 0 no\n"
	      "                      cap; default 1024\n"
	      "  --take-port PORT    serve PORT on a shared address even though a kernel\n"
	      "                      socket already listens on it (skiff then gets its\n"
	      "                      traffic; without the flag that is refused, naming\n"
	      "                      the process); repeatable\n"
	      "  --busy-poll USECS   adaptive busy polling: a worker keeps polling its rings\n"
	      "                      (AF_XDP, and the applications' requests: skiff-run -b\n"
	      "                      is the applications' side)\n"
	      "                      while traffic flows and for USECS after the last of it,\n"
	      "                      then sleeps as without the flag (lower latency for the\n"
	      "                      CPU it spins; idle costs nothing still); also asks the\n"
	      "                      kernel to busy-poll the AF_XDP socket (SO_BUSY_POLL,\n"
	      "                      SO_PREFER_BUSY_POLL) where it can.  0 (default) off;\n"
	      "                      up to 1000000\n"
	      "  --cc NAME           TCP congestion control of skiff's sockets: cubic\n"
	      "                      (default), newreno (or reno) or bbr; a program may\n"
	      "                      still choose its own (TCP_CONGESTION)\n"
	      "  --failover-ms MS    fail open: when a worker has not run for MS ms (killed,\n"
	      "                      hung, stopped), XDP passes what it would steer to that\n"
	      "                      worker to the kernel instead (counted pass_daemon_dead);\n"
	      "                      ARP and ping stay answered.  0 never; 50 to 60000;\n"
	      "                      default 500\n"
	      "  --seccomp MODE      system call filter once started (docs/security.md):\n"
	      "                      enforce (default; a call outside the list kills\n"
	      "                      skiffd), log (allowed, logged by the kernel's audit:\n"
	      "                      dmesg), off\n"
	      "  --seccomp-dump      print the filter of --seccomp MODE (libseccomp's\n"
	      "                      pseudo filter code) and exit\n"
	      "  --vlan ID           serve 802.1Q VLAN ID (1-4094) instead of untagged frames\n"
	      "  --fix-offloads      with --vlan, turn IF's rx VLAN offload (rxvlan) off while\n"
	      "                      skiffd runs (it hides the tag from XDP) and back on at\n"
	      "                      exit; without it skiffd only warns\n"
	      "  --pin-dir DIR       where to pin the BPF maps (default " SKIFF_PIN_ROOT "/IF):\n"
	      "                      on bpffs, owned by root and writable only by root;\n"
	      "                      skiffd removes only pins it can prove it made (its\n"
	      "                      skiffd_owner map) and refuses a directory holding others\n"
	      "  --copy              force AF_XDP copy mode (never try zero-copy)\n"
	      "  --config FILE       read options from FILE: one \"key value\" per line, keys\n"
	      "                      are the long options without \"--\" (flags without a\n"
	      "                      value take yes/no or nothing), '#' starts a comment;\n"
	      "                      command-line flags override the file, and a repeatable\n"
	      "                      flag on the command line replaces the file's list\n"
	      "  --foreground        stay in the foreground (the default; skiffd never\n"
	      "                      daemonizes)\n"
	      "  -v, --verbose       say more at start-up (repeat for more)\n"
	      "  -h, --help          show this help\n"
	      "  --version           show the version\n"
	      "\n"
	      "Every start-up error prints one line \"skiffd: ...\" and exits with status 2.\n"
	      "Query a running skiffd with skiffctl (status, stats, neigh, sockets, routes).\n",
	      f);
}

void skiffd_config_defaults(struct skiffd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = SKIFF_XDP_AUTO;
	cfg->n_queues = 1;
	cfg->failover_ms = SKIFFD_FAILOVER_MS;
	cfg->http_idle_s = HTTP_IDLE_TIMEOUT_S;
	cfg->http_per_source = HTTP_PER_SOURCE_DEFAULT;
}

/* A decimal number in [min, max]: digits only, no sign, no spaces. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A unicast IPv4 address a host can own (network order). */
static int parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr in;
	uint32_t h;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	h = ntohl(in.s_addr);
	/* 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved
	 * and broadcast (RFC 1122 3.2.1.3): not addresses an interface serves */
	if ((h >> 24) == 0 || (h >> 24) == 127 || h >= 0xe0000000u)
		return -EDOM;
	*out = in.s_addr;
	return 0;
}

static uint32_t prefix_mask(uint8_t len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

static int parse_cpus(const char *s, struct skiffd_config *cfg)
{
	char buf[512], *tok, *save = NULL, *dash;
	unsigned long a, b, c;
	int n = 0;

	if (!*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[strlen(buf) - 1] == ',')
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		if (parse_uint(tok, 0, CPU_SETSIZE - 1, &a))
			return -EINVAL;
		b = a;
		if (dash && (parse_uint(dash + 1, 0, CPU_SETSIZE - 1, &b) || b < a))
			return -EINVAL;
		/* more CPUs than queues can ever be used is fine: extras unused */
		for (c = a; c <= b && n < SKIFF_MAX_QUEUES; c++)
			cfg->cpus[n++] = (int)c;
	}
	if (!n)
		return -EINVAL;
	cfg->n_cpus = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || !*v || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int add_port(uint16_t *ports, int *n, unsigned long port, const char *pfx,
		    const char *label, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < *n; i++) {
		if (ports[i] == port) {
			seterr(err, errlen, "%s%s %lu given twice", pfx, label, port);
			return -EINVAL;
		}
	}
	if (*n >= SKIFFD_MAX_SERVICES) {
		seterr(err, errlen, "%stoo many %s (at most %d)", pfx, label, SKIFFD_MAX_SERVICES);
		return -EINVAL;
	}
	ports[(*n)++] = (uint16_t)port;
	return 0;
}

/* --addr X:Y::Z/N: a unicast IPv6 address, not link-local, loopback or
 * v4-mapped (those are not an interface's to give away). */
static int parse_addr6(struct skiffd_config *cfg, const char *val, const char *pfx,
		       const char *label, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	struct in6_addr a;
	unsigned long v;
	int i;

	snprintf(buf, sizeof(buf), "%s", val);
	slash = strchr(buf, '/');
	if (strlen(val) >= sizeof(buf) || !slash) {
		seterr(err, errlen, "%sbad %s '%s': expected X:Y::Z/N (N from 1 to 128)", pfx,
		       label, val);
		return -EINVAL;
	}
	*slash = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1 || parse_uint(slash + 1, 1, 128, &v)) {
		seterr(err, errlen, "%sbad %s '%s': expected X:Y::Z/N (N from 1 to 128)", pfx,
		       label, val);
		return -EINVAL;
	}
	if (IN6_IS_ADDR_MULTICAST(&a) || IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a) ||
	    IN6_IS_ADDR_V4MAPPED(&a) || IN6_IS_ADDR_LINKLOCAL(&a)) {
		seterr(err, errlen,
		       "%sbad %s '%s': not a global or unique-local unicast IPv6 address", pfx,
		       label, val);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_addrs6; i++) {
		if (!memcmp(&cfg->addrs6[i].addr, &a, sizeof(a))) {
			seterr(err, errlen, "%s%s %s given twice", pfx, label, buf);
			return -EINVAL;
		}
	}
	if (cfg->n_addrs6 >= SKIFFD_MAX_ADDRS6_GIVEN) {
		seterr(err, errlen, "%stoo many IPv6 %s (at most %d)", pfx, label,
		       SKIFFD_MAX_ADDRS6_GIVEN);
		return -EINVAL;
	}
	cfg->addrs6[cfg->n_addrs6].addr = a;
	cfg->addrs6[cfg->n_addrs6].prefix_len = (uint8_t)v;
	cfg->n_addrs6++;
	return 0;
}

/* http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH], the form
 * apps/client.c fetches (it parses the URL again at start-up; this is the
 * early, one-line refusal). */
static int check_url(const char *url)
{
	char path[CLIENT_MAX_PATH + 1];
	union inet_addr addr;
	uint16_t port;

	return client_parse_url(url, &addr, &port, path, sizeof(path));
}

/* --http PORT:DIR */
static int parse_http(struct skiffd_config *cfg, const char *val, const char *pfx,
		      const char *label, char *err, size_t errlen)
{
	const char *colon = strchr(val, ':');
	char port[8];
	unsigned long v;

	if (!colon || colon == val || (size_t)(colon - val) >= sizeof(port) || !colon[1]) {
		seterr(err, errlen, "%sbad %s '%s': expected PORT:DIR", pfx, label, val);
		return -EINVAL;
	}
	memcpy(port, val, (size_t)(colon - val));
	port[colon - val] = '\0';
	if (parse_uint(port, 1, 65535, &v)) {
		seterr(err, errlen, "%sbad %s '%s': expected a port from 1 to 65535 before ':'",
		       pfx, label, val);
		return -EINVAL;
	}
	if (strlen(colon + 1) >= sizeof(cfg->http_dir)) {
		seterr(err, errlen, "%sbad %s '%s': directory path too long", pfx, label, val);
		return -EINVAL;
	}
	cfg->http_port = (uint16_t)v;
	snprintf(cfg->http_dir, sizeof(cfg->http_dir), "%s", colon + 1);
	return 0;
}

/* in6 with the bits past plen cleared. */
static struct in6_addr in6_masked(const struct in6_addr *a, unsigned int plen)
{
	struct in6_addr m;

	in6_mask(m.s6_addr, a->s6_addr, plen);
	return m;
}

/* --route DST6/N via GW6 (the words split by parse_route()). */
static int parse_route6(struct skiffd_config *cfg, const char *val, const char *dst_w,
			const char *gw_w, const char *pfx, const char *label, char *err,
			size_t errlen)
{
	char dst_s[INET6_ADDRSTRLEN + 4], a[INET6_ADDRSTRLEN], *slash;
	struct in6_addr dst, gw, m;
	unsigned long plen = 128;
	int i;

	if (strlen(dst_w) >= sizeof(dst_s))
		goto syntax;
	snprintf(dst_s, sizeof(dst_s), "%s", dst_w);
	slash = strchr(dst_s, '/');
	if (slash) {
		*slash = '\0';
		if (parse_uint(slash + 1, 0, 128, &plen))
			goto syntax;
	}
	if (inet_pton(AF_INET6, dst_s, &dst) != 1)
		goto syntax;
	if (!plen) {
		seterr(err, errlen, "%sbad %s '%s': the default route is --gateway6 X:Y::Z", pfx,
		       label, val);
		return -EINVAL;
	}
	m = in6_masked(&dst, (unsigned int)plen);
	if (memcmp(&m, &dst, sizeof(m))) {
		seterr(err, errlen, "%sbad %s '%s': %s has host bits set for /%lu (the network is %s/%lu)",
		       pfx, label, val, dst_s, plen, inet_ntop(AF_INET6, &m, a, sizeof(a)), plen);
		return -EINVAL;
	}
	if (IN6_IS_ADDR_MULTICAST(&dst) || IN6_IS_ADDR_LOOPBACK(&dst) || IN6_IS_ADDR_LINKLOCAL(&dst)) {
		seterr(err, errlen, "%sbad %s '%s': %s/%lu is not a routable unicast prefix", pfx,
		       label, val, dst_s, plen);
		return -EINVAL;
	}
	if (inet_pton(AF_INET6, gw_w, &gw) != 1 || IN6_IS_ADDR_MULTICAST(&gw) ||
	    IN6_IS_ADDR_UNSPECIFIED(&gw) || IN6_IS_ADDR_LOOPBACK(&gw) || IN6_IS_ADDR_V4MAPPED(&gw)) {
		seterr(err, errlen, "%sbad %s '%s': expected a unicast IPv6 gateway after 'via'",
		       pfx, label, val);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_routes6; i++) {
		if (!memcmp(&cfg->routes6[i].dst, &dst, sizeof(dst)) &&
		    cfg->routes6[i].prefix_len == plen) {
			seterr(err, errlen, "%s%s %s/%lu given twice", pfx, label, dst_s, plen);
			return -EINVAL;
		}
	}
	if (cfg->n_routes6 >= SKIFF_MAX_ROUTES) {
		seterr(err, errlen, "%stoo many IPv6 %s (at most %d)", pfx, label, SKIFF_MAX_ROUTES);
		return -EINVAL;
	}
	cfg->routes6[cfg->n_routes6].dst = dst;
	cfg->routes6[cfg->n_routes6].prefix_len = (uint8_t)plen;
	cfg->routes6[cfg->n_routes6].gateway = gw;
	cfg->n_routes6++;
	return 0;
syntax:
	seterr(err, errlen, "%sbad %s '%s': expected X:Y::/N via G:G::G", pfx, label, val);
	return -EINVAL;
}

/*
 * --route "DST[/N] via GW" (the words of ip route add; the command line may
 * give them as three arguments, joined before they get here).  The checks
 * that need every --addr are config_check()'s.
 */
static int parse_route(struct skiffd_config *cfg, const char *val, const char *pfx,
		       const char *label, char *err, size_t errlen)
{
	char buf[128], dst_s[INET_ADDRSTRLEN + 4], *w[4], *save = NULL, *slash;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	unsigned long plen = 32;
	struct in_addr in;
	uint32_t dst, gw, mask, h;
	int n = 0, i;

	if (strlen(val) >= sizeof(buf))
		goto syntax;
	snprintf(buf, sizeof(buf), "%s", val);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 4)
			goto syntax;
		w[n++] = t;
	}
	if (n != 3 || strcmp(w[1], "via"))
		goto syntax;
	if (strchr(w[0], ':'))
		return parse_route6(cfg, val, w[0], w[2], pfx, label, err, errlen);
	if (strlen(w[0]) >= sizeof(dst_s))
		goto syntax;
	snprintf(dst_s, sizeof(dst_s), "%s", w[0]);
	slash = strchr(dst_s, '/');
	if (slash) {
		*slash = '\0';
		if (parse_uint(slash + 1, 0, 32, &plen))
			goto syntax;
	}
	if (inet_pton(AF_INET, dst_s, &in) != 1)
		goto syntax;
	dst = in.s_addr;
	if (!plen) {
		seterr(err, errlen, "%sbad %s '%s': the default route is --gateway G.G.G.G", pfx,
		       label, val);
		return -EINVAL;
	}
	mask = prefix_mask((uint8_t)plen);
	if (dst & ~mask) {
		in.s_addr = dst & mask;
		seterr(err, errlen, "%sbad %s '%s': %s has host bits set for /%lu (the network is %s/%lu)",
		       pfx, label, val, dst_s, plen, inet_ntop(AF_INET, &in, a, sizeof(a)), plen);
		return -EINVAL;
	}
	/* RFC 1122 3.2.1.3: 0/8, 127/8 and 224/3 hold no host to route to */
	h = ntohl(dst);
	if ((plen >= 8 && ((h >> 24) == 0 || (h >> 24) == 127)) || (plen >= 4 && h >= 0xe0000000u)) {
		seterr(err, errlen, "%sbad %s '%s': %s/%lu holds no unicast address", pfx, label, val,
		       dst_s, plen);
		return -EINVAL;
	}
	if (parse_ipv4(w[2], &gw)) {
		seterr(err, errlen, "%sbad %s '%s': expected a unicast gateway G.G.G.G after 'via'",
		       pfx, label, val);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_routes; i++) {
		if (cfg->routes[i].dst == dst && cfg->routes[i].prefix_len == plen) {
			in.s_addr = cfg->routes[i].gateway;
			seterr(err, errlen, "%s%s %s/%lu given twice (via %s and via %s)", pfx, label,
			       dst_s, plen, inet_ntop(AF_INET, &in, a, sizeof(a)),
			       inet_ntop(AF_INET, &gw, b, sizeof(b)));
			return -EINVAL;
		}
	}
	if (cfg->n_routes >= SKIFF_MAX_ROUTES) {
		seterr(err, errlen, "%stoo many %s (at most %d)", pfx, label, SKIFF_MAX_ROUTES);
		return -EINVAL;
	}
	cfg->routes[cfg->n_routes].dst = dst;
	cfg->routes[cfg->n_routes].prefix_len = (uint8_t)plen;
	cfg->routes[cfg->n_routes].gateway = gw;
	cfg->n_routes++;
	return 0;
syntax:
	seterr(err, errlen, "%sbad %s '%s': expected A.B.C.D/N via G.G.G.G", pfx, label, val);
	return -EINVAL;
}

/* BYTES with an optional binary suffix K, M, G. */
static int parse_size(const char *s, uint64_t *out)
{
	char num[24];
	size_t n = strlen(s);
	unsigned long v;
	int shift = 0;

	switch (n ? s[n - 1] : 0) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	}
	if (shift)
		n--;
	if (!n || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_uint(num, 0, 1UL << 40, &v))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return *out >> 50 ? -ERANGE : 0;
}

/* A unicast IPv6 address for a peer: no unspecified, loopback, IPv4-mapped
 * (write A.B.C.D) or multicast one. */
static int parse_ipv6_peer(const char *s, struct in6_addr *out)
{
	if (inet_pton(AF_INET6, s, out) != 1 || IN6_IS_ADDR_MULTICAST(out) ||
	    IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) ||
	    IN6_IS_ADDR_V4MAPPED(out))
		return -EINVAL;
	return 0;
}

/* --send A.B.C.D:PORT:BYTES or [X:Y::Z]:PORT:BYTES (RFC 3986 3.2.2) */
static int parse_send(struct skiffd_config *cfg, const char *val, const char *pfx,
		      const char *label, char *err, size_t errlen)
{
	static const char form[] = "expected A.B.C.D:PORT:BYTES or [X:Y::Z]:PORT:BYTES";
	char buf[80], *host = buf, *c1, *c2;
	unsigned long port;
	uint64_t bytes;
	uint32_t ip = 0;
	struct in6_addr a6;
	bool v6 = val[0] == '[';

	snprintf(buf, sizeof(buf), "%s", val);
	if (v6) {
		host = buf + 1;
		c1 = strchr(host, ']');
		if (c1 && c1[1] != ':')
			c1 = NULL;
		if (c1)
			*c1++ = '\0';
	} else {
		c1 = strchr(buf, ':');
	}
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (strlen(val) >= sizeof(buf) || !c2) {
		seterr(err, errlen, "%sbad %s '%s': %s", pfx, label, val, form);
		return -EINVAL;
	}
	*c1 = *c2 = '\0';
	if (v6 ? parse_ipv6_peer(host, &a6) : parse_ipv4(host, &ip)) {
		seterr(err, errlen, "%sbad %s '%s': expected a unicast %s", pfx, label, val,
		       v6 ? "[X:Y::Z]" : "A.B.C.D");
		return -EINVAL;
	}
	if (parse_uint(c1 + 1, 1, 65535, &port)) {
		seterr(err, errlen, "%sbad %s '%s': expected a port from 1 to 65535", pfx, label,
		       val);
		return -EINVAL;
	}
	if (parse_size(c2 + 1, &bytes)) {
		seterr(err, errlen, "%sbad %s '%s': expected BYTES as a number, optionally with K, M or G",
		       pfx, label, val);
		return -EINVAL;
	}
	if (v6)
		inet_addr_set6(&cfg->send_addr, a6.s6_addr);
	else
		inet_addr_set4(&cfg->send_addr, ip);
	cfg->send_port = (uint16_t)port;
	cfg->send_bytes = bytes;
	return 0;
}

/*
 * Apply one option to cfg.  pfx is "" for the command line or "FILE:LINE: "
 * for the config file; label is how the option is named to the user there
 * ("--addr" or "addr").
 */
static int apply_opt(struct skiffd_config *cfg, const struct opt *o, const char *val,
		     const char *pfx, const char *label, char *err, size_t errlen)
{
	char buf[64], *slash;
	unsigned long v;
	uint32_t ip;
	bool on;
	int i, rc;

	switch (o->id) {
	case OPT_IFACE:
		if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/') || strchr(val, ' ')) {
			seterr(err, errlen, "%sbad %s '%s': not an interface name (1 to %d characters)",
			       pfx, label, val, IFNAMSIZ - 1);
			return -EINVAL;
		}
		snprintf(cfg->iface, sizeof(cfg->iface), "%s", val);
		return 0;
	case OPT_ADDR:
		if (strchr(val, ':'))
			return parse_addr6(cfg, val, pfx, label, err, errlen);
		snprintf(buf, sizeof(buf), "%s", val);
		slash = strchr(buf, '/');
		if (strlen(val) >= sizeof(buf) || !slash) {
			seterr(err, errlen, "%sbad %s '%s': expected A.B.C.D/N (N from 0 to 32)", pfx,
			       label, val);
			return -EINVAL;
		}
		*slash = '\0';
		rc = parse_ipv4(buf, &ip);
		if (rc == -EDOM) {
			seterr(err, errlen, "%sbad %s '%s': not a unicast address", pfx, label, val);
			return -EINVAL;
		}
		if (rc || parse_uint(slash + 1, 0, 32, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected A.B.C.D/N (N from 0 to 32)", pfx,
			       label, val);
			return -EINVAL;
		}
		for (i = 0; i < cfg->n_addrs; i++) {
			if (cfg->addrs[i].addr == ip) {
				seterr(err, errlen, "%s%s %s given twice", pfx, label, buf);
				return -EINVAL;
			}
		}
		if (cfg->n_addrs >= SKIFF_MAX_ADDRS) {
			seterr(err, errlen, "%stoo many %s (at most %d)", pfx, label, SKIFF_MAX_ADDRS);
			return -EINVAL;
		}
		cfg->addrs[cfg->n_addrs].addr = ip;
		cfg->addrs[cfg->n_addrs].prefix_len = (uint8_t)v;
		cfg->n_addrs++;
		return 0;
	case OPT_GATEWAY:
		rc = parse_ipv4(val, &ip);
		if (rc) {
			seterr(err, errlen, "%sbad %s '%s': expected a unicast A.B.C.D", pfx, label,
			       val);
			return -EINVAL;
		}
		cfg->gateway = ip;
		return 0;
	case OPT_GATEWAY6: {
		struct in6_addr a;

		if (parse_ipv6_peer(val, &a)) {
			seterr(err, errlen, "%sbad %s '%s': expected a unicast IPv6 address X:Y::Z",
			       pfx, label, val);
			return -EINVAL;
		}
		cfg->gateway6 = a;
		return 0;
	}
	case OPT_ROUTE:
		return parse_route(cfg, val, pfx, label, err, errlen);
	case OPT_MODE:
		if (!strcmp(val, "auto")) {
			cfg->mode = SKIFF_XDP_AUTO;
		} else if (!strcmp(val, "native")) {
			cfg->mode = SKIFF_XDP_NATIVE;
		} else if (!strcmp(val, "generic")) {
			cfg->mode = SKIFF_XDP_GENERIC;
		} else {
			seterr(err, errlen, "%sbad %s '%s': expected auto, native or generic", pfx,
			       label, val);
			return -EINVAL;
		}
		return 0;
	case OPT_QUEUES:
		if (!strcmp(val, "all")) {
			cfg->queues_all = true;
			cfg->n_queues = 0;
			return 0;
		}
		if (parse_uint(val, 1, SKIFF_MAX_QUEUES, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a number from 1 to %d, or all",
			       pfx, label, val, SKIFF_MAX_QUEUES);
			return -EINVAL;
		}
		cfg->queues_all = false;
		cfg->n_queues = (uint32_t)v;
		return 0;
	case OPT_ECHO:
	case OPT_DISCARD:
		if (parse_uint(val, 1, 65535, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a port from 1 to 65535", pfx,
			       label, val);
			return -EINVAL;
		}
		if (o->id == OPT_ECHO)
			return add_port(cfg->echo_ports, &cfg->n_echo, v, pfx, label, err, errlen);
		return add_port(cfg->discard_ports, &cfg->n_discard, v, pfx, label, err, errlen);
	case OPT_PIN_DIR:
		if (!*val || strlen(val) >= sizeof(cfg->pin_dir) - IFNAMSIZ) {
			seterr(err, errlen, "%sbad %s '%s': expected a directory path", pfx, label,
			       val);
			return -EINVAL;
		}
		snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s", val);
		return 0;
	case OPT_CPUS:
		if (parse_cpus(val, cfg)) {
			seterr(err, errlen,
			       "%sbad %s '%s': expected a CPU list such as 2 or 0,2 or 0-3 (CPUs below %d)",
			       pfx, label, val, CPU_SETSIZE);
			return -EINVAL;
		}
		return 0;
	case OPT_VLAN:
		if (parse_uint(val, 1, 4094, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a VLAN ID from 1 to 4094", pfx,
			       label, val);
			return -EINVAL;
		}
		cfg->vlan_id = (uint16_t)v;
		return 0;
	case OPT_CONFIG:
		snprintf(cfg->config_file, sizeof(cfg->config_file), "%s", val);
		return 0;
	case OPT_COPY:
	case OPT_FIX_OFFLOADS:
	case OPT_NO_LINK_LOCAL:
	case OPT_FOREGROUND:
	case OPT_VERBOSE:
		if (parse_bool(val, &on)) {
			seterr(err, errlen, "%sbad %s '%s': expected yes or no", pfx, label, val);
			return -EINVAL;
		}
		if (o->id == OPT_COPY)
			cfg->force_copy = on;
		else if (o->id == OPT_FIX_OFFLOADS)
			cfg->fix_offloads = on;
		else if (o->id == OPT_NO_LINK_LOCAL)
			cfg->no_link_local = on;
		else if (o->id == OPT_VERBOSE)
			cfg->verbose = on ? cfg->verbose + 1 : 0;
		/* --foreground: always so; accepted for scripts that say it */
		return 0;
	case OPT_HTTP:
		return parse_http(cfg, val, pfx, label, err, errlen);
	case OPT_FETCH:
		if (strlen(val) >= sizeof(cfg->fetch_url) || check_url(val)) {
			seterr(err, errlen,
			       "%sbad %s '%s': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]", pfx, label,
			       val);
			return -EINVAL;
		}
		snprintf(cfg->fetch_url, sizeof(cfg->fetch_url), "%s", val);
		return 0;
	case OPT_SEND:
		return parse_send(cfg, val, pfx, label, err, errlen);
	case OPT_EXIT_AFTER_CLIENT:
		if (parse_bool(val, &on)) {
			seterr(err, errlen, "%sbad %s '%s': expected yes or no", pfx, label, val);
			return -EINVAL;
		}
		cfg->exit_after_client = on;
		return 0;
	case OPT_MAX_CONNS:
		if (parse_uint(val, 1, SKIFF_MAX_CONNS, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a number from 1 to %d", pfx,
			       label, val, SKIFF_MAX_CONNS);
			return -EINVAL;
		}
		cfg->max_conns = (uint32_t)v;
		return 0;
	case OPT_SYN_BACKLOG:
		if (parse_uint(val, 1, TCP_SYN_BACKLOG_MAX, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a number from 1 to %d", pfx,
			       label, val, TCP_SYN_BACKLOG_MAX);
			return -EINVAL;
		}
		cfg->syn_backlog = (uint32_t)v;
		return 0;
	case OPT_FRAG_TIMEOUT:
		if (parse_uint(val, 1, SKIFF_FRAG_TIMEOUT_MAX, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a number of seconds from 1 to %d",
			       pfx, label, val, SKIFF_FRAG_TIMEOUT_MAX);
			return -EINVAL;
		}
		cfg->frag_timeout = (uint32_t)v;
		return 0;
	case OPT_FRAMES:
		if (parse_uint(val, XSK_MIN_FRAMES, XSK_MAX_FRAMES, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a number from %u to %u", pfx,
			       label, val, XSK_MIN_FRAMES, XSK_MAX_FRAMES);
			return -EINVAL;
		}
		cfg->frames = (uint32_t)v;
		return 0;
	case OPT_HTTP_IDLE:
		if (parse_uint(val, 1, 86400, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected seconds from 1 to 86400", pfx,
			       label, val);
			return -EINVAL;
		}
		cfg->http_idle_s = (uint32_t)v;
		return 0;
	case OPT_HTTP_PER_SOURCE:
		if (parse_uint(val, 0, 1000000, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a number from 0 (no cap) to 1000000",
			       pfx, label, val);
			return -EINVAL;
		}
		cfg->http_per_source = (uint32_t)v;
		return 0;
	case OPT_TAKE_PORT:
		if (parse_uint(val, 1, 65535, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected a port from 1 to 65535", pfx,
			       label, val);
			return -EINVAL;
		}
		return add_port(cfg->take_ports, &cfg->n_take_ports, v, pfx, label, err, errlen);
	case OPT_BUSY_POLL:
		if (parse_uint(val, 0, 1000000, &v)) {
			seterr(err, errlen, "%sbad %s '%s': expected microseconds from 0 to 1000000",
			       pfx, label, val);
			return -EINVAL;
		}
		cfg->busy_poll_us = (uint32_t)v;
		return 0;
	case OPT_SECCOMP:
		if (skiffd_seccomp_parse(val, &cfg->seccomp)) {
			seterr(err, errlen, "%sbad %s '%s': expected enforce, log or off", pfx, label,
			       val);
			return -EINVAL;
		}
		return 0;
	case OPT_SECCOMP_DUMP:
		cfg->seccomp_dump = true;
		return 0;
	case OPT_CC: {
		int id = tcp_cong_id(tcp_cong_find(val));

		if (id < 0) {
			seterr(err, errlen, "%sbad %s '%s': expected cubic, newreno, reno or bbr", pfx,
			       label, val);
			return -EINVAL;
		}
		cfg->tcp_cc = (uint8_t)id;
		return 0;
	}
	case OPT_FAILOVER_MS:
		if (parse_uint(val, 0, 60000, &v) || (v && v < 50)) {
			seterr(err, errlen, "%sbad %s '%s': expected 0 (never) or 50 to 60000 ms",
			       pfx, label, val);
			return -EINVAL;
		}
		cfg->failover_ms = (uint32_t)v;
		return 0;
	case OPT_HELP:
	case OPT_VERSION:
		break;
	}
	return 0;
}

static const struct opt *find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(char c)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opts[i].shortc && opts[i].shortc == c)
			return &opts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int skiffd_config_load(struct skiffd_config *cfg, const char *path, char *err, size_t errlen)
{
	char line[1024], pfx[PATH_MAX + 32], *key, *val, *hash;
	const struct opt *o;
	int lineno = 0, rc = 0;
	size_t klen;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		seterr(err, errlen, "cannot read config file '%s': %s", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(pfx, sizeof(pfx), "%s:%d: ", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			seterr(err, errlen, "%sline too long", pfx);
			rc = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		key = trim(line);
		if (!*key)
			continue;
		klen = strcspn(key, " \t");
		val = trim(key + klen);
		key[klen] = '\0';
		o = find_long(key, klen);
		if (!o || !o->in_file) {
			if (o && o->id == OPT_CONFIG)
				seterr(err, errlen, "%s'config' cannot be used inside a config file",
				       pfx);
			else
				seterr(err, errlen, "%sunknown key '%s'", pfx, key);
			rc = -EINVAL;
			break;
		}
		if (o->has_arg && !*val) {
			seterr(err, errlen, "%skey '%s' needs a value", pfx, key);
			rc = -EINVAL;
			break;
		}
		rc = apply_opt(cfg, o, val, pfx, o->name, err, errlen);
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		seterr(err, errlen, "cannot read config file '%s': read error", path);
		rc = -EIO;
	}
	fclose(f);
	return rc;
}

/* RFC 4861 6.3.4 / 8.3: a router is a neighbour: an IPv6 gateway is
 * link-local (routers advertise themselves so) or on the prefix of an IPv6
 * --addr, and not one of ours.  what: "--gateway6 G" or "--route D/N via G". */
static int gateway6_usable(const struct skiffd_config *cfg, const struct in6_addr *gw,
			   const char *what, char *err, size_t errlen)
{
	bool onlink = IN6_IS_ADDR_LINKLOCAL(gw);
	int i;

	if (!cfg->n_addrs6) {
		seterr(err, errlen, "%s needs an IPv6 --addr to send from", what);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_addrs6; i++) {
		const struct skiffd_addr6 *ad = &cfg->addrs6[i];
		struct in6_addr x = in6_masked(&ad->addr, ad->prefix_len),
				g = in6_masked(gw, ad->prefix_len);

		if (!memcmp(&ad->addr, gw, sizeof(*gw))) {
			seterr(err, errlen, "%s: the gateway is one of our own --addr", what);
			return -EINVAL;
		}
		if (!memcmp(&x, &g, sizeof(x)))
			onlink = true;
	}
	if (!onlink) {
		seterr(err, errlen,
		       "%s: the gateway is neither link-local nor on the prefix of an IPv6 --addr",
		       what);
		return -EINVAL;
	}
	return 0;
}

static int gateway6_check(const struct skiffd_config *cfg, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], what[2 * INET6_ADDRSTRLEN + 32];
	int i, j;

	if (!IN6_IS_ADDR_UNSPECIFIED(&cfg->gateway6)) {
		snprintf(what, sizeof(what), "--gateway6 %s",
			 inet_ntop(AF_INET6, &cfg->gateway6, a, sizeof(a)));
		if (gateway6_usable(cfg, &cfg->gateway6, what, err, errlen))
			return -EINVAL;
	}
	for (i = 0; i < cfg->n_routes6; i++) {
		const struct skiffd_route6 *r = &cfg->routes6[i];

		snprintf(what, sizeof(what), "--route %s/%u via %s",
			 inet_ntop(AF_INET6, &r->dst, d, sizeof(d)), r->prefix_len,
			 inet_ntop(AF_INET6, &r->gateway, a, sizeof(a)));
		if (gateway6_usable(cfg, &r->gateway, what, err, errlen))
			return -EINVAL;
		for (j = 0; j < cfg->n_addrs6; j++) {
			struct in6_addr x = in6_masked(&cfg->addrs6[j].addr, r->prefix_len);

			if (cfg->addrs6[j].prefix_len == r->prefix_len &&
			    !memcmp(&x, &r->dst, sizeof(x))) {
				seterr(err, errlen, "%s: %s/%u is the prefix of an --addr, on-link "
				       "already", what, d, r->prefix_len);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* A --route against the --addr list: its gateway on-link and not ours, its
 * destination not an on-link subnet or one of our addresses. */
static int route_check(const struct skiffd_config *cfg, const struct skiffd_route *r, char *err,
		       size_t errlen)
{
	char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];
	bool onlink = false;
	int i;

	inet_ntop(AF_INET, &r->dst, d, sizeof(d));
	inet_ntop(AF_INET, &r->gateway, g, sizeof(g));
	for (i = 0; i < cfg->n_addrs; i++) {
		const struct skiffd_addr *ad = &cfg->addrs[i];
		uint32_t m = prefix_mask(ad->prefix_len);

		inet_ntop(AF_INET, &ad->addr, a, sizeof(a));
		if (ad->addr == r->gateway) {
			seterr(err, errlen, "--route %s/%u via %s: the gateway is our own --addr", d,
			       r->prefix_len, g);
			return -EINVAL;
		}
		if ((ad->addr & m) == (r->gateway & m))
			onlink = true;
		if (ad->prefix_len == r->prefix_len && (ad->addr & m) == r->dst) {
			seterr(err, errlen,
			       "--route %s/%u via %s: %s/%u is the subnet of --addr %s/%u, on-link already",
			       d, r->prefix_len, g, d, r->prefix_len, a, ad->prefix_len);
			return -EINVAL;
		}
		if (r->prefix_len == 32 && r->dst == ad->addr) {
			seterr(err, errlen, "--route %s/32 via %s: %s is our own --addr", d, g, d);
			return -EINVAL;
		}
	}
	if (!onlink) {
		seterr(err, errlen,
		       "--route %s/%u via %s: the gateway is not on the subnet of any --addr", d,
		       r->prefix_len, g);
		return -EINVAL;
	}
	return 0;
}

/* Checks over the whole configuration, once every source is applied. */
static int config_check(const struct skiffd_config *cfg, char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN];
	bool onlink = false;
	int i, j;

	if (!cfg->iface[0]) {
		seterr(err, errlen, "missing --iface IF (the interface to serve)");
		return -EINVAL;
	}
	/* An IPv6-only skiffd: no IPv4 address, so XDP passes every IPv4
	 * frame (pass_not_ours) and the daemon's IPv4 paths stay idle. */
	if (!cfg->n_addrs && !cfg->n_addrs6) {
		seterr(err, errlen, "missing --addr A.B.C.D/N or X:Y::Z/N (at least one address to serve)");
		return -EINVAL;
	}
	if (cfg->gateway) {
		for (i = 0; i < cfg->n_addrs; i++) {
			uint32_t m = prefix_mask(cfg->addrs[i].prefix_len);

			if ((cfg->addrs[i].addr & m) == (cfg->gateway & m))
				onlink = true;
			if (cfg->addrs[i].addr == cfg->gateway) {
				inet_ntop(AF_INET, &cfg->gateway, a, sizeof(a));
				seterr(err, errlen, "--gateway %s is one of our own --addr", a);
				return -EINVAL;
			}
		}
		if (!onlink) {
			inet_ntop(AF_INET, &cfg->gateway, a, sizeof(a));
			seterr(err, errlen, "--gateway %s is not on the subnet of any --addr", a);
			return -EINVAL;
		}
	}
	if (gateway6_check(cfg, err, errlen))
		return -EINVAL;
	for (i = 0; i < cfg->n_routes; i++) {
		if (route_check(cfg, &cfg->routes[i], err, errlen))
			return -EINVAL;
	}
	for (i = 0; i < cfg->n_echo; i++) {
		for (j = 0; j < cfg->n_discard; j++) {
			if (cfg->echo_ports[i] == cfg->discard_ports[j]) {
				seterr(err, errlen, "port %u is given to both --echo and --discard",
				       cfg->echo_ports[i]);
				return -EINVAL;
			}
		}
	}
	for (i = 0; cfg->http_port && i < cfg->n_echo + cfg->n_discard; i++) {
		bool echo = i < cfg->n_echo;
		uint16_t p = echo ? cfg->echo_ports[i] : cfg->discard_ports[i - cfg->n_echo];

		if (p == cfg->http_port) {
			seterr(err, errlen, "TCP port %u is given to both --http and --%s", p,
			       echo ? "echo" : "discard");
			return -EINVAL;
		}
	}
	if (cfg->fetch_url[0] && cfg->send_port) {
		seterr(err, errlen, "--fetch and --send cannot be used together (one client run)");
		return -EINVAL;
	}
	if (cfg->exit_after_client && !cfg->fetch_url[0] && !cfg->send_port) {
		seterr(err, errlen, "--exit-after-client needs --fetch or --send");
		return -EINVAL;
	}
	if (!cfg->queues_all)
		return skiffd_config_check_queues(cfg, err, errlen);
	return 0;
}

int skiffd_config_check_queues(const struct skiffd_config *cfg, char *err, size_t errlen)
{
	if (cfg->n_cpus && (uint32_t)cfg->n_cpus < cfg->n_queues) {
		seterr(err, errlen, "--cpus lists %d CPU%s for %u queues (one CPU per worker)",
		       cfg->n_cpus, cfg->n_cpus == 1 ? "" : "s", cfg->n_queues);
		return -EINVAL;
	}
	return 0;
}

struct cli_opt {
	const struct opt *o;
	const char *val;
	char label[40];
	char joined[128];	/* --route DST via GW given as three arguments */
};

int skiffd_config_parse(struct skiffd_config *cfg, int argc, char *const argv[], char *err,
			size_t errlen)
{
	struct cli_opt *list;
	bool reset_addr = false, reset_echo = false, reset_discard = false, reset_route = false;
	const char *arg, *eq;
	const struct opt *o;
	int i, n = 0, rc = 0;

	skiffd_config_defaults(cfg);
	if (err && errlen)
		err[0] = '\0';
	list = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*list));
	if (!list) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}

	/* Pass 1: split argv into (option, value) in order; help wins at once. */
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		eq = NULL;
		if (!strcmp(arg, "--")) {
			if (i + 1 < argc) {
				seterr(err, errlen, "unexpected argument '%s' (see skiffd --help)",
				       argv[i + 1]);
				rc = -EINVAL;
				goto out;
			}
			break;
		}
		if (!strncmp(arg, "--", 2) && arg[2]) {
			eq = strchr(arg + 2, '=');
			o = find_long(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
		} else if (arg[0] == '-' && arg[1] && !arg[2]) {
			o = find_short(arg[1]);
		} else if (arg[0] == '-' && arg[1]) {
			o = NULL;
		} else {
			seterr(err, errlen, "unexpected argument '%s' (see skiffd --help)", arg);
			rc = -EINVAL;
			goto out;
		}
		if (!o) {
			seterr(err, errlen, "unknown option '%.*s' (see skiffd --help)",
			       eq ? (int)(eq - arg) : (int)strlen(arg), arg);
			rc = -EINVAL;
			goto out;
		}
		if (o->id == OPT_HELP || o->id == OPT_VERSION) {
			rc = o->id == OPT_HELP ? SKIFFD_PARSE_HELP : SKIFFD_PARSE_VERSION;
			goto out;
		}
		snprintf(list[n].label, sizeof(list[n].label), "--%s", o->name);
		list[n].o = o;
		if (o->has_arg) {
			if (eq) {
				list[n].val = eq + 1;
			} else if (i + 1 < argc) {
				list[n].val = argv[++i];
			} else {
				seterr(err, errlen, "option '--%s' needs a value", o->name);
				rc = -EINVAL;
				goto out;
			}
			/* --route DST via GW: the words of ip route, as separate arguments */
			if (o->id == OPT_ROUTE && !strpbrk(list[n].val, " \t") && i + 2 < argc &&
			    !strcmp(argv[i + 1], "via")) {
				snprintf(list[n].joined, sizeof(list[n].joined), "%s via %s",
					 list[n].val, argv[i + 2]);
				list[n].val = list[n].joined;
				i += 2;
			} else if (o->id == OPT_ROUTE && i + 1 < argc && !strcmp(argv[i + 1], "via")) {
				seterr(err, errlen,
				       "bad --route '%s via': expected A.B.C.D/N via G.G.G.G",
				       list[n].val);
				rc = -EINVAL;
				goto out;
			}
		} else if (eq) {
			seterr(err, errlen, "option '--%s' takes no value", o->name);
			rc = -EINVAL;
			goto out;
		} else {
			list[n].val = "";
		}
		if (o->id == OPT_CONFIG)
			snprintf(cfg->config_file, sizeof(cfg->config_file), "%s", list[n].val);
		n++;
	}

	/* Pass 2: the config file first, then the flags over it. */
	if (cfg->config_file[0]) {
		rc = skiffd_config_load(cfg, cfg->config_file, err, errlen);
		if (rc)
			goto out;
	}
	for (i = 0; i < n; i++) {
		o = list[i].o;
		/* a list given on the command line replaces the file's */
		if (o->id == OPT_ADDR && !reset_addr) {
			reset_addr = true;
			cfg->n_addrs = 0;
			cfg->n_addrs6 = 0;
		} else if (o->id == OPT_ECHO && !reset_echo) {
			reset_echo = true;
			cfg->n_echo = 0;
		} else if (o->id == OPT_DISCARD && !reset_discard) {
			reset_discard = true;
			cfg->n_discard = 0;
		} else if (o->id == OPT_ROUTE && !reset_route) {
			reset_route = true;
			cfg->n_routes = 0;
		}
		rc = apply_opt(cfg, o, list[i].val, "", list[i].label, err, errlen);
		if (rc)
			goto out;
	}
	/* --seccomp-dump needs no interface or address */
	rc = cfg->seccomp_dump ? SKIFFD_PARSE_SECCOMP_DUMP : config_check(cfg, err, errlen);
out:
	free(list);
	return rc;
}

int skiffd_cli(struct skiffd_config *cfg, int argc, char *const argv[], FILE *out, FILE *errf)
{
	char err[PATH_MAX + 256];
	int rc;

	rc = skiffd_config_parse(cfg, argc, argv, err, sizeof(err));
	switch (rc) {
	case SKIFFD_PARSE_OK:
	case SKIFFD_PARSE_SECCOMP_DUMP:	/* cfg->seccomp_dump: skiffd's main() prints it */
		return -1;
	case SKIFFD_PARSE_HELP:
		skiffd_usage(out);
		return 0;
	case SKIFFD_PARSE_VERSION:
		fprintf(out, "skiffd %s\n", SKIFF_VERSION);
		return 0;
	default:
		fprintf(errf, "skiffd: %s\n", err[0] ? err : strerror(-rc));
		return SKIFFD_EXIT_USAGE;
	}
}

/* ---- skiffctl ---- */

static const char *const ctl_commands[] = { "status", "stats", "neigh", "sockets", "routes",
					    "pmtu" };

void skiffctl_usage(FILE *f)
{
	fputs("Usage: skiffctl [--iface IF] [--json] status|stats|neigh|sockets|routes|pmtu\n"
	      "\n"
	      "Ask the skiffd of this network namespace about itself, over its control\n"
	      "socket /run/skiff/IF.NETNS.sock.  Only root and, when the group exists,\n"
	      "the members of group skiff may (docs/security.md).\n"
	      "\n"
	      "Commands:\n"
	      "  status    interface, XDP mode, queues (zero-copy or copy), addresses\n"
	      "            (shared or dedicated), services, pin directory, uptime\n"
	      "  stats     per-queue packets and packets/s, frame pool, XDP counters,\n"
	      "            daemon counters and drop reasons (non-zero only, unless --json)\n"
	      "  neigh     the neighbour table shared by XDP and the daemon\n"
	      "  sockets   UDP sockets and TCP connections per worker, like ss -tani:\n"
	      "            state, queues, cwnd, rtt, rto, mss, retransmissions\n"
	      "  routes    the route table, like ip route: on-link prefixes (dev IF scope\n"
	      "            link), --route and --gateway (via G), source address, and how\n"
	      "            many lookups chose each route\n"
	      "  pmtu      the IPv6 path MTU cache, like ip -6 route show cache: each\n"
	      "            destination a Packet Too Big lowered, its MTU and expiry\n"
	      "\n"
	      "Options:\n"
	      "  --iface IF   the skiffd serving IF (default: the only one running)\n"
	      "  --json       answer in JSON (also accepted after the command)\n"
	      "  -h, --help   show this help\n",
	      f);
}

int skiffctl_parse(struct skiffctl_args *a, int argc, char *const argv[], char *err,
		   size_t errlen)
{
	const char *arg, *val;
	size_t c;
	int i;

	memset(a, 0, sizeof(*a));
	if (err && errlen)
		err[0] = '\0';
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return SKIFFD_PARSE_HELP;
		if (!strcmp(arg, "--json")) {
			a->json = true;
			continue;
		}
		if (!strcmp(arg, "--iface") || !strncmp(arg, "--iface=", 8)) {
			if (arg[7] == '=') {
				val = arg + 8;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				seterr(err, errlen, "option '--iface' needs a value");
				return -EINVAL;
			}
			if (!*val || strlen(val) >= IFNAMSIZ) {
				seterr(err, errlen, "bad --iface '%s': not an interface name", val);
				return -EINVAL;
			}
			snprintf(a->iface, sizeof(a->iface), "%s", val);
			continue;
		}
		if (arg[0] == '-') {
			seterr(err, errlen, "unknown option '%s' (see skiffctl --help)", arg);
			return -EINVAL;
		}
		if (a->command) {
			seterr(err, errlen, "one command at a time ('%s' and '%s')", a->command, arg);
			return -EINVAL;
		}
		for (c = 0; c < sizeof(ctl_commands) / sizeof(ctl_commands[0]); c++)
			if (!strcmp(arg, ctl_commands[c]))
				a->command = ctl_commands[c];
		if (!a->command) {
			seterr(err, errlen,
			       "unknown command '%s' (expected status, stats, neigh, sockets, routes or pmtu)",
			       arg);
			return -EINVAL;
		}
	}
	if (!a->command) {
		seterr(err, errlen, "missing command: status, stats, neigh, sockets, routes or pmtu (see skiffctl --help)");
		return -EINVAL;
	}
	return SKIFFD_PARSE_OK;
}
