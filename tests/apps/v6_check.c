// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp's AF_INET6 sockets checked against Linux behaviour on a live
 * skiffd with a dedicated IPv6 address (tests/integration/test_apps_v6.py
 * runs it in the DUT namespace):
 *
 *	v6_check PEER6 PEER4 TCP_PORT UDP_PORT
 *	v6_check serve PORT COUNT
 *	v6_check hops PEER6 TCP_PORT UDP_PORT
 *	v6_check scope OURS_LL IFNAME PEER_LL PORT
 *
 * On the peer, a kernel TCP echo server and a UDP echo server listen on
 * [::] (both families) at TCP_PORT and UDP_PORT.  Prints "ok <check>" per
 * check and exits 0, or "FAIL <check>: ..." and exits 1.  `serve` listens
 * on [::]:PORT without IPV6_V6ONLY, prints "listening", then accepts COUNT
 * connections and sends each the peer address accept() gave
 * ("[addr]:port\n") and closes it.  `hops` checks IPV6_UNICAST_HOPS,
 * IPV6_TCLASS and IP_TTL against Linux's errors and defaults, sends a UDP
 * datagram "hops" with hop limit 7 and traffic class 0xb9 (echoed) and
 * echoes 100 KB over TCP with hop limit 9 and traffic class 0x28, and
 * prints "tcp port N", its local port: the test sniffs the peer's side.
 * `scope` checks link-local names (RFC 4007 11) against Linux's errors:
 * no scope id or another interface's refused, skiff's interface (IFNAME)
 * served and given back by getsockname, getpeername and recvfrom, against
 * the peer's echo servers on PEER_LL, PORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#include "check.h"

static struct sockaddr_in6 addr6(const char *ip, int port)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};

	EXPECT(inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1, "%s", ip);
	return sin6;
}

/* ::ffff:a.b.c.d */
static struct sockaddr_in6 mapped(const char *ip4, int port)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "::ffff:%s", ip4);
	return addr6(buf, port);
}

static const char *str6(const struct sockaddr_in6 *sin6, char *buf, size_t size)
{
	return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)size);
}

/* Send n bytes through connected fd and read them back (an echo server). */
static void echo_tcp(int fd, size_t n)
{
	static char out[1 << 16], in[1 << 16];
	size_t got = 0, i;
	ssize_t r;

	for (i = 0; i < n; i++)
		out[i] = (char)(i * 7 + 3);
	EXPECT(skiff_send(fd, out, n, 0) == (ssize_t)n, "send");
	while (got < n) {
		r = skiff_recv(fd, in + got, n - got, 0);
		EXPECT(r > 0, "recv after %zu", got);
		got += (size_t)r;
	}
	EXPECT(!memcmp(in, out, n), "echo differs");
}

static int serve(int port, int count)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	struct sockaddr_in6 peer;
	socklen_t len;
	char a[INET6_ADDRSTRLEN], line[128];
	int l, c, v = 1, n;

	check = "serve";
	l = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT(l >= 0, "socket");
	EXPECT(!skiff_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), "reuseaddr");
	EXPECT(!skiff_bind(l, (struct sockaddr *)&any, sizeof(any)), "bind [::]");
	EXPECT(!skiff_listen(l, 16), "listen");
	printf("listening\n");
	fflush(stdout);
	while (count-- > 0) {
		len = sizeof(peer);
		c = skiff_accept(l, (struct sockaddr *)&peer, &len);
		EXPECT(c >= 0 && len == sizeof(peer) && peer.sin6_family == AF_INET6, "accept");
		n = snprintf(line, sizeof(line), "[%s]:%u\n", str6(&peer, a, sizeof(a)),
			     ntohs(peer.sin6_port));
		EXPECT(skiff_send(c, line, (size_t)n, 0) == n, "send");
		EXPECT(!skiff_close(c), "close");
	}
	skiff_close(l);
	return 0;
}

/* Send msg to `to` on UDP socket fd until an answer is readable (three
 * tries: the first may wait for neighbour discovery). */
static void udp_ping(int fd, const char *msg, const struct sockaddr_in6 *to)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	ssize_t n = (ssize_t)strlen(msg);

	for (int i = 0; i < 3; i++) {
		EXPECT(skiff_sendto(fd, msg, (size_t)n, 0, (const struct sockaddr *)to,
				    sizeof(*to)) == n,
		       "sendto");
		if (skiff_poll(&pf, 1, 2000) == 1)
			break;
	}
}

static int setopt_int(int fd, int level, int name, int v)
{
	return skiff_setsockopt(fd, level, name, &v, sizeof(v));
}

static int getopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1000;

	if (skiff_getsockopt(fd, level, name, &v, &len) || len != sizeof(int))
		return -1000;
	return v;
}

static int hops(const char *peer, int tport, int uport)
{
	struct sockaddr_in6 to = addr6(peer, uport), got;
	socklen_t len;
	char buf[64];
	int fd;

	check = "ip_header_options_fail_and_default_as_linux";
	fd = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT(setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 5) < 0 && errno == ENOPROTOOPT,
	       "hops on AF_INET");
	EXPECT(getopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS) == -1000 && errno == ENOPROTOOPT,
	       "tclass on AF_INET");
	EXPECT(getopt_int(fd, IPPROTO_IP, IP_TTL) == 64, "ttl default");
	EXPECT(setopt_int(fd, IPPROTO_IP, IP_TTL, 0) < 0 && errno == EINVAL, "ttl 0");
	{
		/* IP_TOS and IP_TTL as one byte, as Linux takes and gives them */
		unsigned char b = 0x10;
		socklen_t blen = 1;

		EXPECT(!skiff_setsockopt(fd, IPPROTO_IP, IP_TOS, &b, 1), "IP_TOS byte");
		EXPECT(getopt_int(fd, IPPROTO_IP, IP_TOS) == 0x10, "IP_TOS back");
		b = 0;
		EXPECT(!skiff_getsockopt(fd, IPPROTO_IP, IP_TOS, &b, &blen) && blen == 1 &&
			       b == 0x10,
		       "IP_TOS into a byte: %u, len %u", b, blen);
	}
	skiff_close(fd);
	fd = skiff_socket(AF_INET6, SOCK_DGRAM, 0);
	EXPECT(getopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 64, "hops default");
	EXPECT(getopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS) == 0, "tclass default");
	EXPECT(getopt_int(fd, IPPROTO_IP, IP_TTL) == 64, "IP_TTL on AF_INET6");
	EXPECT(setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256) < 0 && errno == EINVAL, "256");
	EXPECT(setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -2) < 0 && errno == EINVAL, "-2");
	EXPECT(setopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, 256) < 0 && errno == EINVAL, "tclass 256");
	EXPECT(setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1) < 0 && errno == ENOPROTOOPT,
	       "multicast hops");
	EXPECT(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, "x", 1) < 0 && errno == EINVAL,
	       "tclass as a byte (Linux wants an int)");
	ok();

	check = "udp_datagram_carries_hop_limit_and_traffic_class";
	EXPECT(!setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7), "hops 7");
	EXPECT(!setopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, 0xb9), "tclass 0xb9");
	EXPECT(getopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 7, "get hops");
	EXPECT(getopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS) == 0xb9, "get tclass");
	udp_ping(fd, "hops", &to);
	len = sizeof(got);
	EXPECT(skiff_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len) == 4,
	       "echo");
	skiff_close(fd);
	ok();

	check = "tcp_segments_carry_hop_limit_and_traffic_class";
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT(!setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9), "hops 9");
	EXPECT(!setopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, 0x2b), "tclass 0x2b");
	/* a stream socket's ECN bits are TCP's (Linux keeps them too) */
	EXPECT(getopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS) == 0x28, "get tclass");
	to = addr6(peer, tport);
	EXPECT(!skiff_connect(fd, (struct sockaddr *)&to, sizeof(to)), "connect");
	echo_tcp(fd, 50000);
	EXPECT(!setopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, 0x28), "tclass again");
	echo_tcp(fd, 50000);
	len = sizeof(got);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&got, &len), "name");
	printf("tcp port %u\n", ntohs(got.sin6_port));
	skiff_close(fd);
	ok();
	printf("all ok\n");
	return 0;
}

static struct sockaddr_in6 scoped(const char *ip, int port, uint32_t scope)
{
	struct sockaddr_in6 sin6 = addr6(ip, port);

	sin6.sin6_scope_id = scope;
	return sin6;
}

static int scope(const char *ours, const char *ifname, const char *peer, int port)
{
	uint32_t idx = if_nametoindex(ifname);
	struct sockaddr_in6 sin6, got;
	char buf[64], a[INET6_ADDRSTRLEN];
	socklen_t len;
	int fd;

	check = "link_local_names_without_skiffs_scope_fail_as_linux";
	EXPECT(idx > 1, "%s", ifname);
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	sin6 = scoped(peer, port, 0);
	EXPECT(skiff_connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == EINVAL,
	       "connect without a scope id");
	EXPECT(skiff_connect(fd, (struct sockaddr *)&sin6, 24) < 0 && errno == EINVAL,
	       "connect with RFC 2133's 24 bytes");
	sin6 = scoped(peer, port, 9999);
	EXPECT(skiff_connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 &&
		       errno == ENETUNREACH,
	       "connect through another interface");
	sin6 = scoped(ours, 0, 0);
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == EINVAL,
	       "bind without a scope id");
	sin6 = scoped(ours, 0, 9999);
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == ENODEV,
	       "bind on no interface");
	sin6 = scoped(ours, 0, 1); /* lo: skiff's address is not there */
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == EADDRNOTAVAIL,
	       "bind on lo");
	skiff_close(fd);
	ok();

	check = "link_local_names_carry_skiffs_interface";
	fd = skiff_socket(AF_INET6, SOCK_DGRAM, 0);
	sin6 = scoped(ours, 0, idx);
	EXPECT(!skiff_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), "bind %s%%%s", ours, ifname);
	len = sizeof(got);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&got, &len) && got.sin6_scope_id == idx &&
		       !memcmp(&got.sin6_addr, &sin6.sin6_addr, 16),
	       "name %s scope %u", str6(&got, a, sizeof(a)), got.sin6_scope_id);
	/* sendto without a scope id: fine, as Linux (one link to take) */
	sin6 = scoped(peer, port, 0);
	udp_ping(fd, "ll", &sin6);
	len = sizeof(got);
	EXPECT(skiff_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len) == 2 &&
		       got.sin6_scope_id == idx && !memcmp(&got.sin6_addr, &sin6.sin6_addr, 16),
	       "from %s scope %u", str6(&got, a, sizeof(a)), got.sin6_scope_id);
	skiff_close(fd);
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	sin6 = scoped(peer, port, idx);
	EXPECT(!skiff_connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), "connect %s%%%s", peer,
	       ifname);
	echo_tcp(fd, 10000);
	len = sizeof(got);
	EXPECT(!skiff_getpeername(fd, (struct sockaddr *)&got, &len) && got.sin6_scope_id == idx,
	       "peer scope %u", got.sin6_scope_id);
	len = sizeof(got);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&got, &len) && got.sin6_scope_id == idx &&
		       IN6_IS_ADDR_LINKLOCAL(&got.sin6_addr),
	       "local %s scope %u", str6(&got, a, sizeof(a)), got.sin6_scope_id);
	printf("local %s\n", str6(&got, a, sizeof(a)));
	skiff_close(fd);
	ok();
	printf("all ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 sin6, got, peer6;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char buf[2048], a[INET6_ADDRSTRLEN];
	socklen_t len;
	int fd, v, tport, uport;
	ssize_t r;

	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), atoi(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "scope"))
		return scope(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "hops"))
		return hops(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc != 5) {
		fprintf(stderr, "usage: v6_check PEER6 PEER4 TCP_PORT UDP_PORT | serve PORT N\n");
		return 2;
	}
	tport = atoi(argv[3]);
	uport = atoi(argv[4]);
	peer6 = addr6(argv[1], tport);

	check = "af_inet6_calls_fail_with_linux_errnos";
	EXPECT(skiff_socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, "unix");
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT(fd >= 0, "socket");
	len = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) && v == AF_INET6, "domain");
	EXPECT(!skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) && v == 0,
	       "v6only defaults to 0 (bindv6only=0)");
	len = sizeof(got);
	memset(&got, 0xff, sizeof(got));
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&got, &len) && len == sizeof(got) &&
		       got.sin6_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&got.sin6_addr) &&
		       !got.sin6_port,
	       "unbound name [::]:0");
	/* a sockaddr_in is too short for AF_INET6 (EINVAL); a long enough
	 * one of another family is EAFNOSUPPORT */
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EINVAL,
	       "bind sockaddr_in");
	sin6 = addr6("::", 0);
	sin6.sin6_family = AF_INET;
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == EAFNOSUPPORT,
	       "bind family AF_INET");
	EXPECT(skiff_connect(fd, (struct sockaddr *)&peer6, 23) < 0 && errno == EINVAL,
	       "connect short");
	skiff_close(fd);
	fd = skiff_socket(AF_INET, SOCK_STREAM, 0);
	v = 1;
	EXPECT(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) < 0 &&
		       errno == ENOPROTOOPT,
	       "v6only on AF_INET");
	EXPECT(skiff_bind(fd, (struct sockaddr *)&peer6, sizeof(peer6)) < 0 && errno == EAFNOSUPPORT,
	       "AF_INET socket, sockaddr_in6");
	skiff_close(fd);
	ok();

	check = "tcp_over_ipv6_echoes_and_names_both_ends";
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT(!skiff_connect(fd, (struct sockaddr *)&peer6, sizeof(peer6)), "connect [%s]:%d",
	       argv[1], tport);
	echo_tcp(fd, sizeof(buf) * 20);
	len = sizeof(got);
	EXPECT(!skiff_getpeername(fd, (struct sockaddr *)&got, &len) && len == sizeof(got) &&
		       !memcmp(&got.sin6_addr, &peer6.sin6_addr, 16) &&
		       got.sin6_port == peer6.sin6_port,
	       "peer %s", str6(&got, a, sizeof(a)));
	len = sizeof(got);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&got, &len) && len == sizeof(got) &&
		       got.sin6_family == AF_INET6 && !IN6_IS_ADDR_UNSPECIFIED(&got.sin6_addr) &&
		       !IN6_IS_ADDR_V4MAPPED(&got.sin6_addr) && got.sin6_port,
	       "local %s", str6(&got, a, sizeof(a)));
	printf("local [%s]:%u\n", str6(&got, a, sizeof(a)), ntohs(got.sin6_port));
	v = 1;
	EXPECT(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) < 0 && errno == EINVAL,
	       "v6only once connected");
	/* a short buffer: truncated, the full length told */
	len = 8;
	EXPECT(!skiff_getpeername(fd, (struct sockaddr *)&got, &len) && len == sizeof(got), "short");
	skiff_close(fd);
	ok();

	check = "a_dual_stack_socket_reaches_ipv4_as_mapped_and_v6only_refuses";
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	sin6 = mapped(argv[2], tport);
	EXPECT(!skiff_connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), "connect ::ffff:%s",
	       argv[2]);
	echo_tcp(fd, 1000);
	len = sizeof(got);
	EXPECT(!skiff_getsockname(fd, (struct sockaddr *)&got, &len) &&
		       IN6_IS_ADDR_V4MAPPED(&got.sin6_addr),
	       "local %s", str6(&got, a, sizeof(a)));
	skiff_close(fd);
	fd = skiff_socket(AF_INET6, SOCK_STREAM, 0);
	v = 1;
	EXPECT(!skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), "v6only");
	len = sizeof(v);
	EXPECT(!skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) && v == 1, "get");
	EXPECT(skiff_connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == ENETUNREACH,
	       "v6only connect to a mapped address");
	EXPECT(skiff_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 && errno == EINVAL,
	       "v6only bind to a mapped address");
	skiff_close(fd);
	fd = skiff_socket(AF_INET6, SOCK_DGRAM, 0);
	v = 1;
	EXPECT(!skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), "v6only");
	EXPECT(skiff_sendto(fd, "x", 1, 0, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 &&
		       errno == ENETUNREACH,
	       "v6only sendto a mapped address");
	skiff_close(fd);
	ok();

	check = "udp_over_ipv6_sendto_recvfrom_name_the_peer";
	fd = skiff_socket(AF_INET6, SOCK_DGRAM, 0);
	sin6 = addr6(argv[1], uport);
	udp_ping(fd, "ping6", &sin6);
	len = sizeof(got);
	r = skiff_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len);
	EXPECT(r == 5 && !memcmp(buf, "ping6", 5), "recvfrom %zd", r);
	EXPECT(len == sizeof(got) && got.sin6_family == AF_INET6 &&
		       !memcmp(&got.sin6_addr, &sin6.sin6_addr, 16) && got.sin6_port == htons(uport),
	       "from %s", str6(&got, a, sizeof(a)));
	/* to a mapped IPv4 address from the same dual-stack socket */
	sin6 = mapped(argv[2], uport);
	EXPECT(skiff_sendto(fd, "ping4", 5, 0, (struct sockaddr *)&sin6, sizeof(sin6)) == 5,
	       "sendto mapped");
	{
		struct pollfd pf = {.fd = fd, .events = POLLIN};

		EXPECT(skiff_poll(&pf, 1, 5000) == 1, "poll");
	}
	len = sizeof(got);
	r = skiff_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&got, &len);
	EXPECT(r == 5 && !memcmp(buf, "ping4", 5) && IN6_IS_ADDR_V4MAPPED(&got.sin6_addr) &&
		       !memcmp(&got.sin6_addr, &sin6.sin6_addr, 16),
	       "from %s", str6(&got, a, sizeof(a)));
	/* a datagram larger than IPv4 allows but within IPv6's */
	EXPECT(skiff_sendto(fd, buf, 65528, 0, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 &&
		       errno == EMSGSIZE,
	       "65528 bytes");
	skiff_close(fd);
	ok();
	printf("all ok\n");
	return 0;
}
