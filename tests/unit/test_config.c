// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiffd's command line and config file, skiffctl's command line, and the
 * control answers' formatting: every error a user can make gets its one
 * line and exit status 2, good configurations parse to what they say, and
 * the JSON answers are well-formed.  No root, no interface.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "cmd/addr6.h"
#include "cmd/config.h"
#include "cmd/control.h"
#include "cmd/netif.h"
#include "cmd/report.h"

#define MAX_ARGS 64

/* Run skiffd_cli on a whitespace-separated command line; capture stdout and
 * stderr; return the exit status (-1: would go on). */
struct cli_run {
	struct skiffd_config cfg;
	char out[8192];
	char err[1024];
	int status;
};

static void run_cli(struct cli_run *r, const char *cmdline)
{
	char buf[2048], *argv[MAX_ARGS], *save = NULL, *tok;
	FILE *out, *err;
	int argc = 0;

	memset(r, 0, sizeof(*r));
	snprintf(buf, sizeof(buf), "skiffd %s", cmdline);
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAX_ARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	out = fmemopen(r->out, sizeof(r->out) - 1, "w");
	err = fmemopen(r->err, sizeof(r->err) - 1, "w");
	assert_non_null(out);
	assert_non_null(err);
	r->status = skiffd_cli(&r->cfg, argc, argv, out, err);
	fclose(out);
	fclose(err);
}

/* The run failed with status 2 and exactly one stderr line "skiffd: <want>". */
static void assert_fails_with(const char *cmdline, const char *want)
{
	struct cli_run r;
	char line[1024];

	run_cli(&r, cmdline);
	if (r.status != SKIFFD_EXIT_USAGE)
		fail_msg("'%s': status %d, want 2 (stderr '%s')", cmdline, r.status, r.err);
	snprintf(line, sizeof(line), "skiffd: %s\n", want);
	if (strcmp(r.err, line))
		fail_msg("'%s':\n got  '%s'\n want '%s'", cmdline, r.err, line);
	assert_string_equal(r.out, "");
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* The same, as sockets keep it: IPv4 mapped (core/inaddr.h). */
static union inet_addr ip4m(const char *s)
{
	union inet_addr a;

	inet_addr_set4(&a, ip(s));
	return a;
}

static union inet_addr ip6a(const char *s)
{
	union inet_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, a.b), 1);
	return a;
}

static const char *write_tmp(const char *text, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/skiff-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* ---- skiffd: errors ---- */

static void test_unknown_flag_is_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --bogus",
			  "unknown option '--bogus' (see skiffd --help)");
	assert_fails_with("-x", "unknown option '-x' (see skiffd --help)");
	assert_fails_with("--bogus=3", "unknown option '--bogus' (see skiffd --help)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 extra",
			  "unexpected argument 'extra' (see skiffd --help)");
}

static void test_flag_without_value_is_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr", "option '--addr' needs a value");
	assert_fails_with("--copy=yes", "option '--copy' takes no value");
}

static void test_missing_iface_or_addr_is_refused(void **state)
{
	(void)state;
	assert_fails_with("", "missing --iface IF (the interface to serve)");
	assert_fails_with("--addr 10.0.0.1/24", "missing --iface IF (the interface to serve)");
	assert_fails_with("--iface eth0",
			  "missing --addr A.B.C.D/N or X:Y::Z/N (at least one address to serve)");
}

static void test_an_ipv6_only_configuration_is_accepted(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface veth1 --addr 2001:db8::2/64 --echo 7");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.n_addrs, 0);
	assert_int_equal(r.cfg.n_addrs6, 1);
	/* an IPv4 gateway has no IPv4 subnet to be on */
	assert_fails_with("--iface eth0 --addr 2001:db8::2/64 --gateway 10.0.0.1",
			  "--gateway 10.0.0.1 is not on the subnet of any --addr");
}

static void test_bad_address_is_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.300/24",
			  "bad --addr '10.0.0.300/24': expected A.B.C.D/N (N from 0 to 32)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1",
			  "bad --addr '10.0.0.1': expected A.B.C.D/N (N from 0 to 32)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/33",
			  "bad --addr '10.0.0.1/33': expected A.B.C.D/N (N from 0 to 32)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/-1",
			  "bad --addr '10.0.0.1/-1': expected A.B.C.D/N (N from 0 to 32)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/",
			  "bad --addr '10.0.0.1/': expected A.B.C.D/N (N from 0 to 32)");
	assert_fails_with("--iface eth0 --addr 224.0.0.1/4",
			  "bad --addr '224.0.0.1/4': not a unicast address");
	assert_fails_with("--iface eth0 --addr 127.0.0.1/8",
			  "bad --addr '127.0.0.1/8': not a unicast address");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 10.0.0.1/16",
			  "--addr 10.0.0.1 given twice");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --gateway 10.0.0",
			  "bad --gateway '10.0.0': expected a unicast A.B.C.D");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --gateway 10.1.0.1",
			  "--gateway 10.1.0.1 is not on the subnet of any --addr");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --gateway 10.0.0.1",
			  "--gateway 10.0.0.1 is one of our own --addr");
}

static void test_gateway6_must_be_a_neighbour_and_not_ours(void **state)
{
	struct cli_run r;

	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 --gateway6 ff02::1",
			  "bad --gateway6 'ff02::1': expected a unicast IPv6 address X:Y::Z");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 --gateway6 ::",
			  "bad --gateway6 '::': expected a unicast IPv6 address X:Y::Z");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 --gateway6 10.0.0.9",
			  "bad --gateway6 '10.0.0.9': expected a unicast IPv6 address X:Y::Z");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --gateway6 fe80::1",
			  "--gateway6 fe80::1 needs an IPv6 --addr to send from");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--gateway6 2001:db8:1::1",
			  "--gateway6 2001:db8:1::1: the gateway is neither link-local nor on the "
			  "prefix of an IPv6 --addr");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--gateway6 2001:db8::5",
			  "--gateway6 2001:db8::5: the gateway is one of our own --addr");
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 --gateway6 fe80::1");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.gateway6.s6_addr[0], 0xfe);
	assert_int_equal(r.cfg.gateway6.s6_addr[15], 1);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 --gateway6 2001:db8::1");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.gateway6.s6_addr[15], 1);
}

static void test_ipv6_routes_are_checked_like_ipv4_ones(void **state)
{
	struct cli_run r;

	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--route 2001:db8:1::1/48 via fe80::1",
			  "bad --route '2001:db8:1::1/48 via fe80::1': 2001:db8:1::1 has host bits "
			  "set for /48 (the network is 2001:db8:1::/48)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--route ::/0 via fe80::1",
			  "bad --route '::/0 via fe80::1': the default route is --gateway6 X:Y::Z");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--route ff00::/8 via fe80::1",
			  "bad --route 'ff00::/8 via fe80::1': ff00::/8 is not a routable unicast prefix");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--route 2001:db8:1::/48 via ff02::1",
			  "bad --route '2001:db8:1::/48 via ff02::1': expected a unicast IPv6 gateway "
			  "after 'via'");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--route 2001:db8:1::/48 via 2001:db8:2::1",
			  "--route 2001:db8:1::/48 via 2001:db8:2::1: the gateway is neither "
			  "link-local nor on the prefix of an IPv6 --addr");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
			  "--route 2001:db8::/64 via fe80::1",
			  "--route 2001:db8::/64 via fe80::1: 2001:db8::/64 is the prefix of an --addr, "
			  "on-link already");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 "
			  "--route 2001:db8:1::/48 via fe80::1",
			  "--route 2001:db8:1::/48 via fe80::1 needs an IPv6 --addr to send from");
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 "
		    "--route 2001:db8:1::/48 via fe80::1 --route 10.9.0.0/16 via 10.0.0.254");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.n_routes6, 1);
	assert_int_equal(r.cfg.n_routes, 1);
	assert_int_equal(r.cfg.routes6[0].prefix_len, 48);
	assert_int_equal(r.cfg.routes6[0].dst.s6_addr[5], 1);
	assert_int_equal(r.cfg.routes6[0].gateway.s6_addr[0], 0xfe);
}

static void test_too_many_addresses_are_refused(void **state)
{
	char cmd[2048];
	int i, n;

	(void)state;
	n = snprintf(cmd, sizeof(cmd), "--iface eth0");
	for (i = 0; i <= SKIFF_MAX_ADDRS; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " --addr 10.0.0.%d/24", i + 1);
	assert_fails_with(cmd, "too many --addr (at most 16)");
}

static void test_bad_interface_name_is_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface abcdefghijklmnop --addr 10.0.0.1/24",
			  "bad --iface 'abcdefghijklmnop': not an interface name (1 to 15 characters)");
	assert_fails_with("--iface= --addr 10.0.0.1/24",
			  "bad --iface '': not an interface name (1 to 15 characters)");
}

static void test_bad_port_is_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --echo 0",
			  "bad --echo '0': expected a port from 1 to 65535");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --echo 65536",
			  "bad --echo '65536': expected a port from 1 to 65535");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --discard x9",
			  "bad --discard 'x9': expected a port from 1 to 65535");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --echo 99999999999999999999999",
			  "bad --echo '99999999999999999999999': expected a port from 1 to 65535");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --echo 7 --echo 7",
			  "--echo 7 given twice");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --echo 7 --discard 7",
			  "port 7 is given to both --echo and --discard");
}

static void test_bad_mode_is_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --mode skb",
			  "bad --mode 'skb': expected auto, native or generic");
}

static void test_bad_queues_are_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --queues 0",
			  "bad --queues '0': expected a number from 1 to 64, or all");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --queues 65",
			  "bad --queues '65': expected a number from 1 to 64, or all");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --queues two",
			  "bad --queues 'two': expected a number from 1 to 64, or all");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --queues 2 --cpus 1",
			  "--cpus lists 1 CPU for 2 queues (one CPU per worker)");
}

static void test_failover_ms_defaults_to_500_and_is_bounded(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24");
	assert_int_equal(r.status, -1); /* -1: run the daemon */
	assert_int_equal(r.cfg.failover_ms, 500);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --failover-ms 0");
	assert_int_equal(r.status, -1); /* -1: run the daemon */
	assert_int_equal(r.cfg.failover_ms, 0);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --failover-ms 2000");
	assert_int_equal(r.cfg.failover_ms, 2000);
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --failover-ms 10",
			  "bad --failover-ms '10': expected 0 (never) or 50 to 60000 ms");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --failover-ms 1s",
			  "bad --failover-ms '1s': expected 0 (never) or 50 to 60000 ms");
}

static void test_busy_poll_is_off_by_default_and_takes_microseconds(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.busy_poll_us, 0);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --busy-poll 200");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.busy_poll_us, 200);
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --busy-poll 2000000",
			  "bad --busy-poll '2000000': expected microseconds from 0 to 1000000");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --busy-poll 5ms",
			  "bad --busy-poll '5ms': expected microseconds from 0 to 1000000");
}

static void test_cc_is_cubic_by_default_and_takes_a_known_name(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.tcp_cc, 0);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --cc bbr");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.tcp_cc, 2);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --cc reno");
	assert_int_equal(r.cfg.tcp_cc, 1);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --cc newreno");
	assert_int_equal(r.cfg.tcp_cc, 1);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --cc cubic");
	assert_int_equal(r.cfg.tcp_cc, 0);
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --cc vegas",
			  "bad --cc 'vegas': expected cubic, newreno, reno or bbr");
}

static void test_capacity_flags_parse_default_to_zero_and_are_bounded(void **state)
{
	char path[64], cmd[256];
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24");
	assert_int_equal(r.status, -1);
	/* 0: skiffd derives them from memory at start-up */
	assert_int_equal(r.cfg.max_conns, 0);
	assert_int_equal(r.cfg.syn_backlog, 0);
	assert_int_equal(r.cfg.frames, 0);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --max-conns 50000 --syn-backlog 1024 "
		    "--frames 8192");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.max_conns, 50000);
	assert_int_equal(r.cfg.syn_backlog, 1024);
	assert_int_equal(r.cfg.frames, 8192);
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --max-conns 0",
			  "bad --max-conns '0': expected a number from 1 to 131072");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --max-conns 131073",
			  "bad --max-conns '131073': expected a number from 1 to 131072");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --syn-backlog 65537",
			  "bad --syn-backlog '65537': expected a number from 1 to 65536");
	assert_int_equal(r.cfg.frag_timeout, 0);	/* none given: the stack's 30 s */
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --frag-timeout 300");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.frag_timeout, 300);
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --frag-timeout 0",
			  "bad --frag-timeout '0': expected a number of seconds from 1 to 300");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --frag-timeout 301",
			  "bad --frag-timeout '301': expected a number of seconds from 1 to 300");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --frames 255",
			  "bad --frames '255': expected a number from 256 to 1048576");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --frames 4k",
			  "bad --frames '4k': expected a number from 256 to 1048576");
	/* config-file keys, and the command line overrides them */
	write_tmp("iface eth0\naddr 10.0.0.1/24\nmax-conns 7\nsyn-backlog 9\nframes 300\n", path,
		  sizeof(path));
	snprintf(cmd, sizeof(cmd), "--config %s --frames 512", path);
	run_cli(&r, cmd);
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.max_conns, 7);
	assert_int_equal(r.cfg.syn_backlog, 9);
	assert_int_equal(r.cfg.frames, 512);
	unlink(path);
}

static void test_bad_cpus_vlan_pin_dir_are_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --cpus 3-1",
			  "bad --cpus '3-1': expected a CPU list such as 2 or 0,2 or 0-3 (CPUs below 1024)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --cpus 1,",
			  "bad --cpus '1,': expected a CPU list such as 2 or 0,2 or 0-3 (CPUs below 1024)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --cpus 5000",
			  "bad --cpus '5000': expected a CPU list such as 2 or 0,2 or 0-3 (CPUs below 1024)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --vlan 4095",
			  "bad --vlan '4095': expected a VLAN ID from 1 to 4094");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --pin-dir=",
			  "bad --pin-dir '': expected a directory path");
}

static void test_config_file_errors_name_file_and_line(void **state)
{
	char path[64], want[256];

	(void)state;
	write_tmp("iface eth0\n# comment\naddr 10.0.0.1/24\nfrobnicate 3\n", path, sizeof(path));
	snprintf(want, sizeof(want), "%s:4: unknown key 'frobnicate'", path);
	assert_fails_with(strcat(strcpy((char[128]){ 0 }, "--config "), path), want);
	unlink(path);

	write_tmp("iface eth0\naddr 10.0.0.1/99\n", path, sizeof(path));
	snprintf(want, sizeof(want), "%s:2: bad addr '10.0.0.1/99': expected A.B.C.D/N (N from 0 to 32)",
		 path);
	assert_fails_with(strcat(strcpy((char[128]){ 0 }, "--config "), path), want);
	unlink(path);

	write_tmp("iface eth0\naddr\n", path, sizeof(path));
	snprintf(want, sizeof(want), "%s:2: key 'addr' needs a value", path);
	assert_fails_with(strcat(strcpy((char[128]){ 0 }, "--config "), path), want);
	unlink(path);

	write_tmp("config /etc/other\n", path, sizeof(path));
	snprintf(want, sizeof(want), "%s:1: 'config' cannot be used inside a config file", path);
	assert_fails_with(strcat(strcpy((char[128]){ 0 }, "--config "), path), want);
	unlink(path);

	write_tmp("copy maybe\n", path, sizeof(path));
	snprintf(want, sizeof(want), "%s:1: bad copy 'maybe': expected yes or no", path);
	assert_fails_with(strcat(strcpy((char[128]){ 0 }, "--config "), path), want);
	unlink(path);

	assert_fails_with("--config /nonexistent/skiffd.conf",
			  "cannot read config file '/nonexistent/skiffd.conf': No such file or directory");
}

/* ---- skiffd: good configurations ---- */

static void test_minimal_config_gets_defaults(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24");
	assert_int_equal(r.status, -1);
	assert_string_equal(r.err, "");
	assert_string_equal(r.cfg.iface, "eth0");
	assert_int_equal(r.cfg.n_addrs, 1);
	assert_int_equal(r.cfg.addrs[0].addr, ip("10.0.0.1"));
	assert_int_equal(r.cfg.addrs[0].prefix_len, 24);
	assert_int_equal(r.cfg.mode, SKIFF_XDP_AUTO);
	assert_int_equal(r.cfg.n_queues, 1);
	assert_false(r.cfg.queues_all);
	assert_int_equal(r.cfg.n_echo + r.cfg.n_discard + r.cfg.n_cpus, 0);
	assert_string_equal(r.cfg.pin_dir, "");
	assert_int_equal(r.cfg.gateway, 0);
	assert_false(r.cfg.force_copy);
}

static void test_full_command_line_parses(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --addr=192.168.7.9/32 --gateway 10.0.0.1 "
		    "--mode native --queues 2 --echo 7 --echo 7007 --discard 9 --pin-dir /tmp/p "
		    "--cpus 1,3 --vlan 100 --copy --fix-offloads --foreground -v --verbose");
	assert_int_equal(r.status, -1);
	assert_string_equal(r.cfg.iface, "veth1");
	assert_int_equal(r.cfg.n_addrs, 2);
	assert_int_equal(r.cfg.addrs[1].addr, ip("192.168.7.9"));
	assert_int_equal(r.cfg.addrs[1].prefix_len, 32);
	assert_int_equal(r.cfg.gateway, ip("10.0.0.1"));
	assert_int_equal(r.cfg.mode, SKIFF_XDP_NATIVE);
	assert_int_equal(r.cfg.n_queues, 2);
	assert_int_equal(r.cfg.n_echo, 2);
	assert_int_equal(r.cfg.echo_ports[0], 7);
	assert_int_equal(r.cfg.echo_ports[1], 7007);
	assert_int_equal(r.cfg.n_discard, 1);
	assert_int_equal(r.cfg.discard_ports[0], 9);
	assert_string_equal(r.cfg.pin_dir, "/tmp/p");
	assert_int_equal(r.cfg.n_cpus, 2);
	assert_int_equal(r.cfg.cpus[0], 1);
	assert_int_equal(r.cfg.cpus[1], 3);
	assert_int_equal(r.cfg.vlan_id, 100);
	assert_true(r.cfg.force_copy);
	assert_true(r.cfg.fix_offloads);
	assert_int_equal(r.cfg.verbose, 2);
}

/* RFC 4862 5.3 / RFC 4291 appendix A: skiffd's link-local address, and the
 * way out of it; the ninth IPv6 slot is its, so --addr takes eight. */
static void test_link_local_address_and_its_opt_out(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct in6_addr a, want;
	struct cli_run r;

	(void)state;
	addr6_link_local(mac, &a);
	assert_int_equal(inet_pton(AF_INET6, "fe80::5054:ff:fe12:3456", &want), 1);
	assert_memory_equal(&a, &want, 16);
	addr6_link_local((const uint8_t[]){ 0x02, 0, 0, 0, 0, 1 }, &a); /* local bit flips to 0 */
	assert_int_equal(inet_pton(AF_INET6, "fe80::ff:fe00:1", &want), 1);
	assert_memory_equal(&a, &want, 16);

	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64");
	assert_false(r.cfg.no_link_local);
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::5/64 --no-link-local");
	assert_int_equal(r.status, -1);
	assert_true(r.cfg.no_link_local);
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --addr 2001:db8::1/64 --addr 2001:db8::2/64 "
			  "--addr 2001:db8::3/64 --addr 2001:db8::4/64 --addr 2001:db8::5/64 "
			  "--addr 2001:db8::6/64 --addr 2001:db8::7/64 --addr 2001:db8::8/64 "
			  "--addr 2001:db8::9/64",
			  "too many IPv6 --addr (at most 8)");
}

static void test_http_fetch_send_flags_parse(void **state)
{
	struct cli_run r;

	(void)state;
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --http 8080:/srv/www --echo 7 "
		    "--fetch http://10.0.0.1:8000/big.bin --exit-after-client");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.http_port, 8080);
	assert_string_equal(r.cfg.http_dir, "/srv/www");
	assert_string_equal(r.cfg.fetch_url, "http://10.0.0.1:8000/big.bin");
	assert_true(r.cfg.exit_after_client);
	assert_int_equal(r.cfg.send_port, 0);
	/* RFC 3986 3.2.2: an IPv6 literal in brackets */
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --addr 2001:db8::2/64 --fetch http://[2001:db8::1]:8000/x");
	assert_int_equal(r.status, -1);
	assert_string_equal(r.cfg.fetch_url, "http://[2001:db8::1]:8000/x");
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --addr 2001:db8::2/64 --fetch http://[2001:db8::1]");
	assert_int_equal(r.status, -1);
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --send 10.0.0.1:9:100M");
	assert_int_equal(r.status, -1);
	assert_true(inet_addr_is4(&r.cfg.send_addr));
	assert_int_equal(r.cfg.send_addr.w[3], ip("10.0.0.1"));
	assert_int_equal(r.cfg.send_port, 9);
	assert_int_equal(r.cfg.send_bytes, 100ULL << 20);
	assert_false(r.cfg.exit_after_client);
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --send=10.0.0.1:7:12345 --fetch http://10.0.0.9");
	assert_int_equal(r.status, SKIFFD_EXIT_USAGE);
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --send 10.0.0.1:7:4k");
	assert_int_equal(r.cfg.send_bytes, 4096);
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --send 10.0.0.1:7:0");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.send_bytes, 0);
	/* an IPv6 peer, bracketed as in a URL */
	run_cli(&r, "--iface veth1 --addr 10.0.0.2/24 --addr 2001:db8::2/64 --send [2001:db8::1]:9000:1M");
	assert_int_equal(r.status, -1);
	assert_false(inet_addr_is4(&r.cfg.send_addr));
	assert_int_equal(r.cfg.send_addr.b[0], 0x20);
	assert_int_equal(r.cfg.send_addr.b[15], 1);
	assert_int_equal(r.cfg.send_port, 9000);
	assert_int_equal(r.cfg.send_bytes, 1 << 20);
}

static void test_bad_http_fetch_send_flags_are_refused(void **state)
{
	(void)state;
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --http 80",
			  "bad --http '80': expected PORT:DIR");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --http 80:",
			  "bad --http '80:': expected PORT:DIR");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --http 0:/srv",
			  "bad --http '0:/srv': expected a port from 1 to 65535 before ':'");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --http 7:/srv --echo 7",
			  "TCP port 7 is given to both --http and --echo");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch ftp://10.0.0.2/",
			  "bad --fetch 'ftp://10.0.0.2/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch http://example.com/",
			  "bad --fetch 'http://example.com/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch http://10.0.0.2:0/",
			  "bad --fetch 'http://10.0.0.2:0/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch http://2001:db8::1/", /* no [] */
			  "bad --fetch 'http://2001:db8::1/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch http://[2001:db8::1/",
			  "bad --fetch 'http://[2001:db8::1/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch http://[2001:db8::1]x/",
			  "bad --fetch 'http://[2001:db8::1]x/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --fetch http://[ff02::1]/",
			  "bad --fetch 'http://[ff02::1]/': expected http://A.B.C.D[:PORT][/PATH] or http://[X:Y::Z][:PORT][/PATH]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send 10.0.0.2:9",
			  "bad --send '10.0.0.2:9': expected A.B.C.D:PORT:BYTES or [X:Y::Z]:PORT:BYTES");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send [2001:db8::2]9:5",
			  "bad --send '[2001:db8::2]9:5': expected A.B.C.D:PORT:BYTES or [X:Y::Z]:PORT:BYTES");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send 2001:db8::2:9:5",
			  "bad --send '2001:db8::2:9:5': expected a unicast A.B.C.D");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send [ff02::1]:9:5",
			  "bad --send '[ff02::1]:9:5': expected a unicast [X:Y::Z]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send [::ffff:10.0.0.2]:9:5",
			  "bad --send '[::ffff:10.0.0.2]:9:5': expected a unicast [X:Y::Z]");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send 10.0.0.2:0:5",
			  "bad --send '10.0.0.2:0:5': expected a port from 1 to 65535");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send 127.0.0.1:9:5",
			  "bad --send '127.0.0.1:9:5': expected a unicast A.B.C.D");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send 10.0.0.2:9:5X",
			  "bad --send '10.0.0.2:9:5X': expected BYTES as a number, optionally with K, M or G");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --send 10.0.0.2:9:5 --fetch http://10.0.0.2/",
			  "--fetch and --send cannot be used together (one client run)");
	assert_fails_with("--iface eth0 --addr 10.0.0.1/24 --exit-after-client",
			  "--exit-after-client needs --fetch or --send");
}

static void test_queues_all_is_left_for_start_up(void **state)
{
	struct cli_run r;
	char err[128];

	(void)state;
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --queues all --cpus 0-2");
	assert_int_equal(r.status, -1);
	assert_true(r.cfg.queues_all);
	assert_int_equal(r.cfg.n_cpus, 3);
	/* skiffd resolves "all" from the interface, then checks --cpus again */
	r.cfg.n_queues = 4;
	assert_int_equal(skiffd_config_check_queues(&r.cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--cpus lists 3 CPUs for 4 queues (one CPU per worker)");
	r.cfg.n_queues = 3;
	assert_int_equal(skiffd_config_check_queues(&r.cfg, err, sizeof(err)), 0);
	/* a later --queues N overrides all */
	run_cli(&r, "--iface eth0 --addr 10.0.0.1/24 --queues all --queues 3");
	assert_false(r.cfg.queues_all);
	assert_int_equal(r.cfg.n_queues, 3);
}

static void test_config_file_parses_and_flags_override_it(void **state)
{
	char path[64], cmd[256];
	struct cli_run r;

	(void)state;
	write_tmp("# skiffd test config\n"
		  "iface   eth0\n"
		  "addr 10.0.0.2/24   # the dedicated one\n"
		  "addr 10.0.0.3/24\n"
		  "\n"
		  "\tmode generic\n"
		  "queues 2\n"
		  "echo 7\n"
		  "discard 9\n"
		  "copy\n"
		  "verbose no\n"
		  "vlan 5\n",
		  path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "--config %s", path);
	run_cli(&r, cmd);
	assert_int_equal(r.status, -1);
	assert_string_equal(r.cfg.iface, "eth0");
	assert_int_equal(r.cfg.n_addrs, 2);
	assert_int_equal(r.cfg.addrs[0].addr, ip("10.0.0.2"));
	assert_int_equal(r.cfg.addrs[1].addr, ip("10.0.0.3"));
	assert_int_equal(r.cfg.mode, SKIFF_XDP_GENERIC);
	assert_int_equal(r.cfg.n_queues, 2);
	assert_int_equal(r.cfg.n_echo, 1);
	assert_int_equal(r.cfg.n_discard, 1);
	assert_true(r.cfg.force_copy);
	assert_int_equal(r.cfg.verbose, 0);
	assert_int_equal(r.cfg.vlan_id, 5);

	/* flags win, wherever --config appears; a list flag replaces the file's list */
	snprintf(cmd, sizeof(cmd), "--mode native --addr 10.9.9.9/16 --config %s --queues all "
		 "--echo 17 --echo 18", path);
	run_cli(&r, cmd);
	assert_int_equal(r.status, -1);
	assert_string_equal(r.cfg.iface, "eth0");
	assert_int_equal(r.cfg.mode, SKIFF_XDP_NATIVE);
	assert_int_equal(r.cfg.n_addrs, 1);
	assert_int_equal(r.cfg.addrs[0].addr, ip("10.9.9.9"));
	assert_int_equal(r.cfg.addrs[0].prefix_len, 16);
	assert_true(r.cfg.queues_all);
	assert_int_equal(r.cfg.n_echo, 2);
	assert_int_equal(r.cfg.echo_ports[0], 17);
	assert_int_equal(r.cfg.echo_ports[1], 18);
	assert_int_equal(r.cfg.n_discard, 1);	/* untouched by the flags: the file's */
	unlink(path);
}

static void test_help_and_version_exit_zero(void **state)
{
	struct cli_run r;
	static const char *const flags[] = {
		"--iface", "--addr", "--gateway", "--gateway6", "--route", "--mode", "--queues", "--cpus", "--echo",
		"--discard", "--vlan", "--fix-offloads", "--no-link-local", "--pin-dir", "--copy", "--config",
		"--foreground",
		"--verbose", "--help", "--version",
	};
	size_t i;

	(void)state;
	run_cli(&r, "--help");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strstr(r.out, flags[i]))
			fail_msg("--help does not document %s", flags[i]);
	run_cli(&r, "--iface eth0 -h");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: skiffd"));
	run_cli(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "skiffd " SKIFF_VERSION "\n");
}

/* ---- skiffd: --route ---- */

static void test_route_flag_parses_like_ip_route(void **state)
{
	char *argv1[] = { "skiffd", "--iface", "eth0", "--addr", "10.0.0.2/24",
			  "--route", "10.9.0.0/16 via 10.0.0.254", NULL };
	char *argv2[] = { "skiffd", "--iface", "eth0", "--addr", "10.0.0.2/24",
			  "--route=10.9.0.0/16", "via", "10.0.0.254", NULL };
	struct skiffd_config cfg;
	struct cli_run r;
	char err[256];

	(void)state;
	/* three words, as ip route add DST via GW */
	run_cli(&r, "--iface eth0 --addr 10.0.0.2/24 --addr 172.16.0.2/16 "
		    "--route 10.9.0.0/16 via 10.0.0.254 --gateway 10.0.0.1 "
		    "--route 192.168.5.7 via 172.16.9.9 --route 10.9.8.0/24 via 10.0.0.253 --echo 7");
	assert_int_equal(r.status, -1);
	assert_string_equal(r.err, "");
	assert_int_equal(r.cfg.n_routes, 3);
	assert_int_equal(r.cfg.routes[0].dst, ip("10.9.0.0"));
	assert_int_equal(r.cfg.routes[0].prefix_len, 16);
	assert_int_equal(r.cfg.routes[0].gateway, ip("10.0.0.254"));
	/* no /N: a host route, as ip route */
	assert_int_equal(r.cfg.routes[1].dst, ip("192.168.5.7"));
	assert_int_equal(r.cfg.routes[1].prefix_len, 32);
	assert_int_equal(r.cfg.routes[1].gateway, ip("172.16.9.9"));
	assert_int_equal(r.cfg.routes[2].dst, ip("10.9.8.0"));
	assert_int_equal(r.cfg.routes[2].prefix_len, 24);
	assert_int_equal(r.cfg.gateway, ip("10.0.0.1"));
	assert_int_equal(r.cfg.n_echo, 1);

	/* one argument with the words inside, and --route=DST via GW */
	assert_int_equal(skiffd_config_parse(&cfg, 7, argv1, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_routes, 1);
	assert_int_equal(cfg.routes[0].gateway, ip("10.0.0.254"));
	assert_int_equal(skiffd_config_parse(&cfg, 8, argv2, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_routes, 1);
	assert_int_equal(cfg.routes[0].dst, ip("10.9.0.0"));
	assert_int_equal(cfg.routes[0].gateway, ip("10.0.0.254"));

	/* a route to part of an on-link subnet (its gateway inside it) is fine */
	run_cli(&r, "--iface eth0 --addr 10.0.0.2/24 --route 10.0.0.128/25 via 10.0.0.200");
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.n_routes, 1);
	/* routes are optional */
	run_cli(&r, "--iface eth0 --addr 10.0.0.2/24");
	assert_int_equal(r.cfg.n_routes, 0);
}

static void test_route_in_config_file_and_flags_replace_it(void **state)
{
	char path[64], cmd[256];
	struct cli_run r;

	(void)state;
	write_tmp("iface eth0\naddr 10.0.0.2/24\n"
		  "route 10.9.0.0/16 via 10.0.0.254   # the lab\n"
		  "route\t10.8.0.0/16\tvia\t10.0.0.253\n",
		  path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "--config %s", path);
	run_cli(&r, cmd);
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.n_routes, 2);
	assert_int_equal(r.cfg.routes[1].dst, ip("10.8.0.0"));
	assert_int_equal(r.cfg.routes[1].gateway, ip("10.0.0.253"));
	/* a --route on the command line replaces the file's list */
	snprintf(cmd, sizeof(cmd), "--config %s --route 10.7.0.0/16 via 10.0.0.252", path);
	run_cli(&r, cmd);
	assert_int_equal(r.status, -1);
	assert_int_equal(r.cfg.n_routes, 1);
	assert_int_equal(r.cfg.routes[0].dst, ip("10.7.0.0"));
	unlink(path);

	write_tmp("iface eth0\naddr 10.0.0.2/24\nroute 10.9.0.0/16 10.0.0.254\n", path,
		  sizeof(path));
	snprintf(cmd, sizeof(cmd), "--config %s", path);
	run_cli(&r, cmd);
	assert_int_equal(r.status, SKIFFD_EXIT_USAGE);
	snprintf(cmd, sizeof(cmd),
		 "skiffd: %s:3: bad route '10.9.0.0/16 10.0.0.254': expected A.B.C.D/N via G.G.G.G\n",
		 path);
	assert_string_equal(r.err, cmd);
	unlink(path);
}

static void test_bad_route_is_refused(void **state)
{
	(void)state;
	/* syntax */
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16",
			  "bad --route '10.9.0.0/16': expected A.B.C.D/N via G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16 via",
			  "bad --route '10.9.0.0/16 via': expected A.B.C.D/N via G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16,via=10.0.0.254",
			  "bad --route '10.9.0.0/16,via=10.0.0.254': expected A.B.C.D/N via G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route",
			  "option '--route' needs a value");
	/* bad prefixes */
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/33 via 10.0.0.254",
			  "bad --route '10.9.0.0/33 via 10.0.0.254': expected A.B.C.D/N via G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/ via 10.0.0.254",
			  "bad --route '10.9.0.0/ via 10.0.0.254': expected A.B.C.D/N via G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0/16 via 10.0.0.254",
			  "bad --route '10.9.0/16 via 10.0.0.254': expected A.B.C.D/N via G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.1.0/16 via 10.0.0.254",
			  "bad --route '10.9.1.0/16 via 10.0.0.254': 10.9.1.0 has host bits set "
			  "for /16 (the network is 10.9.0.0/16)");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 0.0.0.0/0 via 10.0.0.254",
			  "bad --route '0.0.0.0/0 via 10.0.0.254': the default route is --gateway G.G.G.G");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 224.0.0.0/4 via 10.0.0.254",
			  "bad --route '224.0.0.0/4 via 10.0.0.254': 224.0.0.0/4 holds no unicast address");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 127.0.0.0/8 via 10.0.0.254",
			  "bad --route '127.0.0.0/8 via 10.0.0.254': 127.0.0.0/8 holds no unicast address");
	/* the gateway */
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16 via 224.0.0.1",
			  "bad --route '10.9.0.0/16 via 224.0.0.1': expected a unicast gateway "
			  "G.G.G.G after 'via'");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16 via 192.168.1.1",
			  "--route 10.9.0.0/16 via 192.168.1.1: the gateway is not on the subnet "
			  "of any --addr");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16 via 10.0.0.2",
			  "--route 10.9.0.0/16 via 10.0.0.2: the gateway is our own --addr");
	/* duplicates and overlaps with what is on-link */
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.9.0.0/16 via 10.0.0.254 "
			  "--route 10.9.0.0/16 via 10.0.0.253",
			  "--route 10.9.0.0/16 given twice (via 10.0.0.254 and via 10.0.0.253)");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --route 10.0.0.0/24 via 10.0.0.254",
			  "--route 10.0.0.0/24 via 10.0.0.254: 10.0.0.0/24 is the subnet of --addr "
			  "10.0.0.2/24, on-link already");
	assert_fails_with("--iface eth0 --addr 10.0.0.2/24 --addr 10.5.0.3/32 "
			  "--route 10.5.0.3 via 10.0.0.254",
			  "--route 10.5.0.3/32 via 10.0.0.254: 10.5.0.3/32 is the subnet of --addr "
			  "10.5.0.3/32, on-link already");
}

static void test_too_many_routes_are_refused(void **state)
{
	char *argv[5 + 4 * (SKIFF_MAX_ROUTES + 1) + 1];
	char dst[SKIFF_MAX_ROUTES + 1][24];
	struct skiffd_config cfg;
	char err[256];
	int argc = 0, i;

	(void)state;
	argv[argc++] = "skiffd";
	argv[argc++] = "--iface";
	argv[argc++] = "eth0";
	argv[argc++] = "--addr";
	argv[argc++] = "10.0.0.2/24";
	for (i = 0; i <= SKIFF_MAX_ROUTES; i++) {
		snprintf(dst[i], sizeof(dst[i]), "10.%d.0.0/16", 100 + i);
		argv[argc++] = "--route";
		argv[argc++] = dst[i];
		argv[argc++] = "via";
		argv[argc++] = "10.0.0.254";
	}
	argv[argc] = NULL;
	assert_int_equal(skiffd_config_parse(&cfg, argc, argv, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "too many --route (at most 32)");
	/* exactly the limit is fine */
	argv[argc - 4] = NULL;
	assert_int_equal(skiffd_config_parse(&cfg, argc - 4, argv, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_routes, SKIFF_MAX_ROUTES);
}

/* ---- skiffctl ---- */

static int ctl_parse(const char *cmdline, struct skiffctl_args *a, char *err, size_t errlen)
{
	char buf[256], *argv[MAX_ARGS], *save = NULL, *tok;
	int argc = 0;

	snprintf(buf, sizeof(buf), "skiffctl %s", cmdline);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return skiffctl_parse(a, argc, argv, err, errlen);
}

static void test_skiffctl_command_line(void **state)
{
	struct skiffctl_args a;
	char err[256];

	(void)state;
	assert_int_equal(ctl_parse("stats", &a, err, sizeof(err)), 0);
	assert_string_equal(a.command, "stats");
	assert_false(a.json);
	assert_string_equal(a.iface, "");
	assert_int_equal(ctl_parse("--iface veth0 --json neigh", &a, err, sizeof(err)), 0);
	assert_string_equal(a.iface, "veth0");
	assert_true(a.json);
	assert_string_equal(a.command, "neigh");
	assert_int_equal(ctl_parse("sockets --json --iface=veth1", &a, err, sizeof(err)), 0);
	assert_true(a.json);
	assert_string_equal(a.iface, "veth1");
	assert_int_equal(ctl_parse("--help", &a, err, sizeof(err)), SKIFFD_PARSE_HELP);

	assert_int_equal(ctl_parse("routes --json", &a, err, sizeof(err)), 0);
	assert_string_equal(a.command, "routes");
	assert_true(a.json);

	assert_int_equal(ctl_parse("", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "missing command: status, stats, neigh, sockets, routes or pmtu (see skiffctl --help)");
	assert_int_equal(ctl_parse("route", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown command 'route' (expected status, stats, neigh, sockets, routes or pmtu)");
	assert_int_equal(ctl_parse("stats neigh", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "one command at a time ('stats' and 'neigh')");
	assert_int_equal(ctl_parse("--xml stats", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown option '--xml' (see skiffctl --help)");
	assert_int_equal(ctl_parse("stats --iface", &a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "option '--iface' needs a value");
}

/* ---- control answers ---- */

/* A small recursive-descent JSON checker (RFC 8259 grammar, no extensions). */
static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_number(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return json_number(p);
}

static void assert_valid_json(const char *s)
{
	const char *end = json_value(s);

	if (!end || *json_ws(end))
		fail_msg("not valid JSON (at %ld):\n%s", end ? (long)(end - s) : -1L, s);
}

static void test_status_answers_are_valid_json_and_text(void **state)
{
	static const uint16_t echo[] = { 7 }, discard[] = { 9, 19 };
	struct report_status s = {
		.pid = 42, .uptime_s = 3725, .version = "0.1.0", .iface = "ve\"th0",
		.ifindex = 5, .mtu = 1500, .mode = "native", .attach = "single program",
		.pin_dir = "/sys/fs/bpf/skiff/veth0", .ctl_name = "/run/skiff/veth0.4026531840.sock",
		.n_queues = 2, .n_addrs = 2, .n_echo = 1, .n_discard = 2,
		.echo_ports = echo, .discard_ports = discard,
	};
	struct strbuf sb;

	(void)state;
	s.queues[0] = (struct report_queue_info){ 0, false, -1 };
	s.queues[1] = (struct report_queue_info){ 1, true, 3 };
	s.addrs[0] = (struct report_addr){ ip("10.0.0.2"), 24, true };
	s.addrs[1] = (struct report_addr){ ip("10.0.0.3"), 24, false };
	s.gateway = ip("10.0.0.1");
	sb_init(&sb);
	report_status(&sb, &s, true);
	assert_valid_json(sb_str(&sb));
	assert_non_null(strstr(sb_str(&sb), "\"iface\": \"ve\\\"th0\""));
	assert_non_null(strstr(sb_str(&sb), "\"mode\": \"dedicated\""));
	assert_non_null(strstr(sb_str(&sb), "\"mode\": \"shared\""));
	sb_reset(&sb);
	report_status(&sb, &s, false);
	assert_non_null(strstr(sb_str(&sb), "up 1h02m05s"));
	assert_non_null(strstr(sb_str(&sb), "10.0.0.2/24 dedicated"));
	assert_non_null(strstr(sb_str(&sb), "10.0.0.3/24 shared"));
	assert_non_null(strstr(sb_str(&sb), "queue 1   AF_XDP zero-copy, worker on cpu 3"));
	assert_non_null(strstr(sb_str(&sb), "udp echo 7, udp discard 9, udp discard 19"));
	/* with TCP and --http */
	s.tcp = true;
	s.http_port = 8080;
	s.http_dir = "/srv/\"www\"";
	sb_reset(&sb);
	report_status(&sb, &s, false);
	assert_non_null(strstr(sb_str(&sb), "udp discard 19, tcp echo 7, tcp discard 9, "
					    "tcp discard 19, http 8080 (/srv/\"www\")"));
	/* the limits in force, and IPv6 addresses */
	s.max_conns = 1000;
	s.syn_backlog = 256;
	s.frames = 4096;
	s.failover_ms = 500;
	s.http_max_conns = 300;
	s.http_per_source = 64;
	s.http_idle_s = 60;
	s.n_addrs6 = 1;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &s.addrs6[0].addr), 1);
	s.addrs6[0].prefix_len = 64;
	s.addrs6[0].dedicated = true;
	sb_reset(&sb);
	report_status(&sb, &s, false);
	assert_non_null(strstr(sb_str(&sb), "limits     1000 connections per service and worker, "
					    "SYN queue 256, 4096 frames per queue, fail open after "
					    "500 ms"));
	assert_non_null(strstr(sb_str(&sb), "http       300 connections per worker, 64 per "
					    "address, idle 60 s"));
	assert_non_null(strstr(sb_str(&sb), "2001:db8::5/64 dedicated"));
	assert_null(strstr(sb_str(&sb), "gateway6"));
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", &s.gateway6), 1);
	sb_reset(&sb);
	report_status(&sb, &s, false);
	assert_non_null(strstr(sb_str(&sb), "gateway6   fe80::1\n"));
	sb_reset(&sb);
	report_status(&sb, &s, true);
	assert_valid_json(sb_str(&sb));
	assert_non_null(strstr(sb_str(&sb), "\"failover_ms\": 500"));
	assert_non_null(strstr(sb_str(&sb), "\"addr\": \"2001:db8::5\""));
	assert_non_null(strstr(sb_str(&sb), "\"gateway6\": \"fe80::1\""));
	memset(&s.gateway6, 0, sizeof(s.gateway6));
	s.n_addrs6 = 0;
	sb_reset(&sb);
	report_status(&sb, &s, true);
	assert_valid_json(sb_str(&sb));
	assert_non_null(strstr(sb_str(&sb), "{\"name\": \"echo\", \"proto\": \"tcp\", \"port\": 7}"));
	assert_non_null(strstr(sb_str(&sb), "\"name\": \"http\", \"proto\": \"tcp\", \"port\": 8080"));
	sb_free(&sb);
}

static void test_stats_answers_show_only_nonzero_drops_in_text(void **state)
{
	struct report_queue_stats q[2];
	struct skiff_xdp_stats x;
	struct strbuf sb;
	size_t i;

	(void)state;
	memset(q, 0, sizeof(q));
	memset(&x, 0, sizeof(x));
	q[0].queue = 0;
	q[0].st.rx_packets = 10;
	q[0].st.drop.udp_csum = 2;
	q[1].queue = 1;
	q[1].st.rx_packets = 5;
	q[1].rx_pps = 123;
	x.icmp_echo_reply = 7;
	sb_init(&sb);
	report_stats(&sb, q, 2, &x, false);
	assert_non_null(strstr(sb_str(&sb), "udp_csum"));
	assert_null(strstr(sb_str(&sb), "ip_frag_mem"));	/* zero drop: left out */
	assert_non_null(strstr(sb_str(&sb), "icmp_echo_reply"));
	assert_non_null(strstr(sb_str(&sb), "to_kernel"));	/* zero, but not a drop */
	assert_null(strstr(sb_str(&sb), "drop_ip_csum"));
	sb_reset(&sb);
	report_stats(&sb, q, 2, &x, true);
	assert_valid_json(sb_str(&sb));
	/* JSON has every counter, the sums over the queues included */
	for (i = 0; i < report_n_drop_counters; i++)
		assert_non_null(strstr(sb_str(&sb), report_drop_counters[i].name));
	for (i = 0; i < report_n_xdp_counters; i++)
		assert_non_null(strstr(sb_str(&sb), report_xdp_counters[i].name));
	assert_non_null(strstr(sb_str(&sb), "\"daemon\": {\"rx_packets\": 15,"));
	assert_non_null(strstr(sb_str(&sb), "\"rx_pps\": 123"));
	sb_reset(&sb);
	report_stats(&sb, q, 0, NULL, true);
	assert_valid_json(sb_str(&sb));
	sb_free(&sb);
}

static void test_stats_answers_show_xsk_kernel_counters_per_queue(void **state)
{
	struct report_queue_stats q[3];
	struct strbuf sb;
	const char *out;

	(void)state;
	memset(q, 0, sizeof(q));
	q[0].queue = 0;
	q[0].xsk.n_fields = XSK_KERNEL_STATS_FIELDS;
	q[0].xsk.rx_dropped = 12;
	q[0].xsk.rx_fill_ring_empty_descs = 40;
	q[1].queue = 1;
	q[1].xsk.n_fields = 3;		/* a pre-5.9 kernel: the short struct */
	q[2].queue = 2;
	q[2].xsk_err = -EBADF;
	sb_init(&sb);
	report_stats(&sb, q, 3, NULL, false);
	out = strstr(sb_str(&sb), "AF_XDP sockets");
	assert_non_null(out);
	assert_non_null(strstr(out, "queue 0   rx_dropped 12, rx_fill_ring_empty_descs 40\n"));
	assert_null(strstr(out, "queue 1"));		/* all zero: left out */
	assert_null(strstr(out, "rx_ring_full"));
	assert_non_null(strstr(out, "queue 2   (could not read: "));
	sb_reset(&sb);
	q[2].xsk_err = 0;
	q[0].xsk.rx_dropped = q[0].xsk.rx_fill_ring_empty_descs = 0;
	report_stats(&sb, q, 3, NULL, false);
	out = strstr(sb_str(&sb), "AF_XDP sockets");
	assert_non_null(out);
	assert_non_null(strstr(out, "\n  none\n"));
	sb_reset(&sb);
	q[0].xsk.rx_dropped = 12;
	q[2].xsk_err = -EBADF;
	report_stats(&sb, q, 3, NULL, true);
	assert_valid_json(sb_str(&sb));
	out = sb_str(&sb);
	/* every field, zero or not; null where the kernel did not report it */
	assert_non_null(strstr(out, "\"xsk\": {\"rx_dropped\": 12,\"rx_invalid_descs\": 0,"
				    "\"tx_invalid_descs\": 0,\"rx_ring_full\": 0,"
				    "\"rx_fill_ring_empty_descs\": 0,\"tx_ring_empty_descs\": 0}"));
	assert_non_null(strstr(out, "\"tx_invalid_descs\": 0,\"rx_ring_full\": null,"));
	assert_non_null(strstr(out, "\"xsk\": null}"));
	sb_free(&sb);
}

static void test_neigh_and_sockets_answers_are_valid_json(void **state)
{
	struct report_neigh n[5] = {
		{ .ip = ip("10.0.0.1"), .mac = { 2, 0, 0, 0, 0, 1 }, .age_ns = 1500000000ULL,
		  .worker = -1 },
		{ .ip = ip("10.0.0.7"), .mac = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff },
		  .age_ns = 90000000000ULL, .worker = -1 },
		{ .ip = ip("10.0.0.8"), .age_ns = 2000000000ULL, .state = "incomplete", .worker = 1 },
		{ .ip = ip("10.0.0.9"), .age_ns = REPORT_AGE_NEVER, .state = "failed", .worker = 0 },
		{ .v6 = true, .ip6 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
		  .mac = { 2, 0, 0, 0, 0, 9 }, .age_ns = 1000000000ULL, .worker = -1 },
	};
	struct report_sock s[5] = {
		{ .worker = 0, .proto = "udp", .sport = htons(7) },
		{ .worker = 1, .proto = "udp", .saddr = ip4m("10.0.0.2"), .daddr = ip4m("10.0.0.1"),
		  .sport = htons(9), .dport = htons(5555), .rq_bytes = 1500, .rq_packets = 3 },
		{ .worker = 0, .proto = "tcp", .sport = htons(80), .tcp = true, .state = "LISTEN",
		  .rq_bytes = 0, .sq_bytes = 1024 },
		{ .worker = 0, .proto = "tcp", .saddr = ip4m("10.0.0.2"), .daddr = ip4m("10.0.0.1"),
		  .sport = htons(80), .dport = htons(40000), .tcp = true, .state = "ESTABLISHED",
		  .rq_bytes = 17, .sq_bytes = 65536, .cwnd = 14480, .srtt_us = 1250, .rttvar_us = 500,
		  .rto_ms = 201, .mss = 1448, .retrans = 3, .cc = "cubic" },
		{ .worker = 0, .proto = "tcp", .saddr = ip6a("2001:db8::5"),
		  .daddr = ip6a("2001:db8::1"), .sport = htons(80), .dport = htons(40001),
		  .tcp = true, .state = "ESTABLISHED", .cc = "cubic" },
	};
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	report_neigh(&sb, n, 5, 30000000000ULL, true);
	assert_valid_json(sb_str(&sb));
	assert_non_null(strstr(sb_str(&sb), "\"state\": \"incomplete\", \"age_s\": 2.000, \"worker\": 1"));
	assert_non_null(strstr(sb_str(&sb), "\"state\": \"failed\", \"age_s\": null, \"worker\": 0"));
	sb_reset(&sb);
	report_neigh(&sb, n, 5, 30000000000ULL, false);
	assert_non_null(strstr(sb_str(&sb), "02:00:00:00:00:01  reachable"));
	assert_non_null(strstr(sb_str(&sb), "aa:bb:cc:dd:ee:ff  stale"));
	assert_non_null(strstr(sb_str(&sb), "10.0.0.8"));
	assert_non_null(strstr(sb_str(&sb), "incomplete 2.0s (worker 1)"));
	assert_non_null(strstr(sb_str(&sb), "failed     - (worker 0)"));
	assert_non_null(strstr(sb_str(&sb), "2001:db8::2"));
	assert_non_null(strstr(sb_str(&sb), "02:00:00:00:00:09  reachable"));
	sb_reset(&sb);
	report_neigh(&sb, n, 5, 30000000000ULL, true);
	assert_non_null(strstr(sb_str(&sb), "{\"ip\": \"2001:db8::2\", \"mac\": \"02:00:00:00:00:09\""));
	sb_reset(&sb);
	report_neigh(&sb, n, 0, 1, true);
	assert_valid_json(sb_str(&sb));
	sb_reset(&sb);
	report_sockets(&sb, s, 5, true);
	assert_valid_json(sb_str(&sb));
	assert_non_null(strstr(sb_str(&sb), "\"local_addr\": \"2001:db8::5\", \"local_port\": 80, "
					    "\"peer_addr\": \"2001:db8::1\", \"peer_port\": 40001"));
	assert_non_null(strstr(sb_str(&sb), "\"state\": \"ESTABLISHED\", \"recv_q\": 17, "
					    "\"send_q\": 65536, \"cwnd\": 14480, \"srtt_us\": 1250"));
	sb_reset(&sb);
	report_sockets(&sb, s, 5, false);
	assert_non_null(strstr(sb_str(&sb), "[2001:db8::5]:80      [2001:db8::1]:40001"));
	assert_non_null(strstr(sb_str(&sb), "*:7"));
	assert_non_null(strstr(sb_str(&sb), "10.0.0.2:9"));
	assert_non_null(strstr(sb_str(&sb), "10.0.0.1:5555"));
	assert_non_null(strstr(sb_str(&sb), "LISTEN"));
	assert_non_null(strstr(sb_str(&sb), "*:80"));
	assert_non_null(strstr(sb_str(&sb), "ESTABLISHED       17    65536 10.0.0.2:80"));
	assert_non_null(strstr(sb_str(&sb), "1.250/0.500"));
	assert_non_null(strstr(sb_str(&sb), "cubic"));
	sb_reset(&sb);
	report_sockets(&sb, s + 2, 2, false);	/* TCP only: no UDP header */
	assert_null(strstr(sb_str(&sb), "recv-q pkts"));
	assert_non_null(strstr(sb_str(&sb), "ESTABLISHED"));
	sb_reset(&sb);
	report_error(&sb, "bad \"x\"\n", true);
	assert_valid_json(sb_str(&sb));
	sb_free(&sb);
}

static void test_routes_answer_reads_like_ip_route(void **state)
{
	struct report_route rt[5] = {
		{ .kind = REPORT_ROUTE_DEFAULT, .gateway = ip("10.0.0.1"), .src = ip("10.0.0.2"),
		  .uses = 4 },
		{ .kind = REPORT_ROUTE_LINK, .dst = ip("10.0.0.0"), .prefix_len = 24,
		  .src = ip("10.0.0.2"), .uses = 17 },
		{ .kind = REPORT_ROUTE_STATIC, .dst = ip("10.9.0.0"), .prefix_len = 16,
		  .gateway = ip("10.0.0.254"), .src = ip("10.0.0.2") },
		{ .kind = REPORT_ROUTE_DEFAULT, .uses = 2, .v6 = true },
		{ .kind = REPORT_ROUTE_LINK, .prefix_len = 64, .uses = 9, .v6 = true },
	};
	struct strbuf sb;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", &rt[3].gateway6), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &rt[3].src6), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::", &rt[4].dst6), 1);
	rt[4].src6 = rt[3].src6;
	sb_init(&sb);
	report_routes(&sb, rt, 5, "veth0", false);
	assert_string_equal(sb_str(&sb),
			    "default via 10.0.0.1 dev veth0 src 10.0.0.2 uses 4\n"
			    "10.0.0.0/24 dev veth0 scope link src 10.0.0.2 uses 17\n"
			    "10.9.0.0/16 via 10.0.0.254 dev veth0 src 10.0.0.2 uses 0\n"
			    "default via fe80::1 dev veth0 src 2001:db8::5 uses 2\n"
			    "2001:db8::/64 dev veth0 scope link src 2001:db8::5 uses 9\n");
	sb_reset(&sb);
	report_routes(&sb, rt, 5, "veth0", true);
	assert_valid_json(sb_str(&sb));
	assert_non_null(strstr(sb_str(&sb),
			       "{\"dst\": \"default\", \"prefix_len\": 0, \"gateway\": \"10.0.0.1\", "
			       "\"dev\": \"veth0\", \"scope\": \"global\", \"prefsrc\": \"10.0.0.2\", "
			       "\"family\": \"inet\", \"kind\": \"default\", \"uses\": 4}"));
	assert_non_null(strstr(sb_str(&sb),
			       "{\"dst\": \"10.0.0.0/24\", \"prefix_len\": 24, \"gateway\": null, "
			       "\"dev\": \"veth0\", \"scope\": \"link\", \"prefsrc\": \"10.0.0.2\", "
			       "\"family\": \"inet\", \"kind\": \"link\", \"uses\": 17}"));
	assert_non_null(strstr(sb_str(&sb),
			       "{\"dst\": \"2001:db8::/64\", \"prefix_len\": 64, \"gateway\": null, "
			       "\"dev\": \"veth0\", \"scope\": \"link\", \"prefsrc\": \"2001:db8::5\", "
			       "\"family\": \"inet6\", \"kind\": \"link\", \"uses\": 9}"));
	assert_non_null(strstr(sb_str(&sb), "\"gateway\": \"fe80::1\""));
	assert_non_null(strstr(sb_str(&sb), "\"dst\": \"10.9.0.0/16\", \"prefix_len\": 16, "
					    "\"gateway\": \"10.0.0.254\""));
	sb_reset(&sb);
	report_routes(&sb, rt, 0, "veth0", true);
	assert_valid_json(sb_str(&sb));
	assert_string_equal(sb_str(&sb), "{\"routes\": []}\n");
	sb_reset(&sb);
	report_routes(&sb, rt, 0, "veth0", false);
	assert_string_equal(sb_str(&sb), "(no routes)\n");
	sb_free(&sb);
}

/* ETH_SS_FEATURES entries are ETH_GSTRING_LEN (32) bytes, NUL-padded, and a
 * 32-byte name has no NUL at all. */
static void test_feature_lookup_finds_the_bit_of_a_whole_name(void **state)
{
	char set[4][32];

	(void)state;
	memset(set, 0, sizeof(set));
	strcpy(set[0], "rx-vlan-hw-parse-x");
	strcpy(set[1], "rx-vlan");
	strcpy(set[2], NETIF_FEAT_RX_VLAN);
	memset(set[3], 'a', sizeof(set[3]));
	assert_int_equal(netif_feature_index(&set[0][0], 4, "rx-vlan-hw-parse"), 2);
	assert_int_equal(netif_feature_index(&set[0][0], 4, "rx-vlan"), 1);
	assert_int_equal(netif_feature_index(&set[0][0], 2, "rx-vlan-hw-parse"), -ENOENT);
	assert_int_equal(netif_feature_index(&set[0][0], 4, "tx-vlan-hw-insert"), -ENOENT);
	assert_int_equal(netif_feature_index(&set[0][0], 4, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 3);
	assert_int_equal(netif_feature_index(&set[0][0], 4, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
			 -ENOENT);
	assert_int_equal(netif_feature_index(&set[0][0], 0, "rx-vlan"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_flag_is_refused),
		cmocka_unit_test(test_flag_without_value_is_refused),
		cmocka_unit_test(test_missing_iface_or_addr_is_refused),
		cmocka_unit_test(test_an_ipv6_only_configuration_is_accepted),
		cmocka_unit_test(test_bad_address_is_refused),
		cmocka_unit_test(test_gateway6_must_be_a_neighbour_and_not_ours),
		cmocka_unit_test(test_ipv6_routes_are_checked_like_ipv4_ones),
		cmocka_unit_test(test_too_many_addresses_are_refused),
		cmocka_unit_test(test_bad_interface_name_is_refused),
		cmocka_unit_test(test_bad_port_is_refused),
		cmocka_unit_test(test_bad_mode_is_refused),
		cmocka_unit_test(test_bad_queues_are_refused),
		cmocka_unit_test(test_bad_cpus_vlan_pin_dir_are_refused),
		cmocka_unit_test(test_failover_ms_defaults_to_500_and_is_bounded),
		cmocka_unit_test(test_busy_poll_is_off_by_default_and_takes_microseconds),
		cmocka_unit_test(test_cc_is_cubic_by_default_and_takes_a_known_name),
		cmocka_unit_test(test_capacity_flags_parse_default_to_zero_and_are_bounded),
		cmocka_unit_test(test_config_file_errors_name_file_and_line),
		cmocka_unit_test(test_minimal_config_gets_defaults),
		cmocka_unit_test(test_full_command_line_parses),
		cmocka_unit_test(test_link_local_address_and_its_opt_out),
		cmocka_unit_test(test_http_fetch_send_flags_parse),
		cmocka_unit_test(test_bad_http_fetch_send_flags_are_refused),
		cmocka_unit_test(test_route_flag_parses_like_ip_route),
		cmocka_unit_test(test_route_in_config_file_and_flags_replace_it),
		cmocka_unit_test(test_bad_route_is_refused),
		cmocka_unit_test(test_too_many_routes_are_refused),
		cmocka_unit_test(test_queues_all_is_left_for_start_up),
		cmocka_unit_test(test_config_file_parses_and_flags_override_it),
		cmocka_unit_test(test_help_and_version_exit_zero),
		cmocka_unit_test(test_skiffctl_command_line),
		cmocka_unit_test(test_status_answers_are_valid_json_and_text),
		cmocka_unit_test(test_stats_answers_show_only_nonzero_drops_in_text),
		cmocka_unit_test(test_stats_answers_show_xsk_kernel_counters_per_queue),
		cmocka_unit_test(test_neigh_and_sockets_answers_are_valid_json),
		cmocka_unit_test(test_routes_answer_reads_like_ip_route),
		cmocka_unit_test(test_feature_lookup_finds_the_bit_of_a_whole_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
