// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kport_find (user/cmd/kports.c) against real kernel sockets of the test
 * process: it finds TCP listeners and bound UDP sockets on the port, on the
 * exact address or a wildcard, IPv6 wildcards unless IPV6_V6ONLY, names
 * this process, and finds nothing once the socket is closed.  Needs no
 * privileges (sock_diag answers any user about its own namespace).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/kports.h"

/* A socket of type on addr (0: any) and a free port; returns fd, sets *port. */
static int bound4(int type, const char *addr, uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0), one = 1;

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (addr)
		assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	sin.sin_port = htons(*port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void tcp_listener_on_the_address_or_any_is_found_and_named(void **state)
{
	char who[64], want[64];
	uint16_t port = 0;
	int fd;

	(void)state;
	fd = bound4(SOCK_STREAM, "127.0.0.1", &port);
	assert_int_equal(kport_find(IPPROTO_TCP, ip("127.0.0.1"), port, who, sizeof(who)), 1);
	snprintf(want, sizeof(want), "(pid %d)", (int)getpid());
	if (!strstr(who, want))
		fail_msg("owner '%s' does not name this process %s", who, want);
	assert_int_equal(kport_find(IPPROTO_TCP, 0, port, who, sizeof(who)), 1);
	/* another address, another protocol: free */
	assert_int_equal(kport_find(IPPROTO_TCP, ip("127.0.0.2"), port, who, sizeof(who)), 0);
	assert_int_equal(kport_find(IPPROTO_UDP, ip("127.0.0.1"), port, who, sizeof(who)), 0);
	close(fd);
	assert_int_equal(kport_find(IPPROTO_TCP, ip("127.0.0.1"), port, who, sizeof(who)), 0);

	fd = bound4(SOCK_STREAM, NULL, &port); /* 0.0.0.0 holds every address */
	assert_int_equal(kport_find(IPPROTO_TCP, ip("10.1.2.3"), port, who, sizeof(who)), 1);
	close(fd);
}

static void bound_udp_socket_is_found(void **state)
{
	char who[64];
	uint16_t port = 0;
	int fd;

	(void)state;
	fd = bound4(SOCK_DGRAM, "127.0.0.1", &port);
	assert_int_equal(kport_find(IPPROTO_UDP, ip("127.0.0.1"), port, who, sizeof(who)), 1);
	assert_int_equal(kport_find(IPPROTO_TCP, ip("127.0.0.1"), port, who, sizeof(who)), 0);
	close(fd);
	assert_int_equal(kport_find(IPPROTO_UDP, ip("127.0.0.1"), port, who, sizeof(who)), 0);
}

static void ipv6_wildcard_counts_unless_v6only(void **state)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	socklen_t len = sizeof(sin6);
	char who[64];
	int fd, v6only;

	(void)state;
	for (v6only = 0; v6only <= 1; v6only++) {
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd < 0)
			skip(); /* no IPv6 in this kernel */
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
					    sizeof(v6only)), 0);
		sin6.sin6_port = 0;
		assert_int_equal(bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
		assert_int_equal(listen(fd, 1), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&sin6, &len), 0);
		assert_int_equal(kport_find(IPPROTO_TCP, ip("10.1.2.3"), ntohs(sin6.sin6_port),
					    who, sizeof(who)),
				 v6only ? 0 : 1);
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_listener_on_the_address_or_any_is_found_and_named),
		cmocka_unit_test(bound_udp_socket_is_found),
		cmocka_unit_test(ipv6_wildcard_counts_unless_v6only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
