// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp's control messages (user/lib/cmsg.c) on crafted bytes:
 * recvmsg's messages in Linux's order and sizes, truncated as Linux's
 * put_cmsg() (MSG_CTRUNC), and sendmsg's parsing with Linux's errors for
 * malformed lengths, out-of-range values, unknown types and levels.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../user/lib/cmsg.h"

/* A received IPv4 datagram to 10.0.0.2 with TTL 63 and TOS 0x28. */
static struct skiff_app_dgram rec4(int family)
{
	struct skiff_app_dgram d = {.len = 5, .ttl = 63, .tos = 0x28};
	const uint8_t a[4] = {10, 0, 0, 2};

	if (family == AF_INET) {
		memcpy(d.laddr, a, 4);
	} else {
		d.laddr[10] = d.laddr[11] = 0xff;
		memcpy(d.laddr + 12, a, 4);
	}
	memcpy(d.spec_dst4, a, 4);
	return d;
}

static struct skiff_app_dgram rec6(void)
{
	struct skiff_app_dgram d = {.len = 5, .ttl = 7, .tos = 0xb8};

	inet_pton(AF_INET6, "fd00::2", d.laddr);
	return d;
}

/* A header's fields (struct cmsghdr itself has a flexible array member
 * on some libcs: not passed by value) */
struct hdr {
	size_t cmsg_len;
	int cmsg_level, cmsg_type;
};

static struct hdr hdr_at(const uint8_t *p)
{
	struct cmsghdr h;

	memcpy(&h, p, sizeof(h));
	return (struct hdr){h.cmsg_len, h.cmsg_level, h.cmsg_type};
}

static int int_at(const uint8_t *p)
{
	int v;

	memcpy(&v, p + CMSG_LEN(0), sizeof(v));
	return v;
}

static void recv_ipv4_gives_pktinfo_ttl_tos_in_linux_order(void **state)
{
	uint8_t buf[128];
	struct msghdr m = {.msg_control = buf, .msg_controllen = sizeof(buf)};
	struct skiff_app_dgram d = rec4(AF_INET);
	struct in_pktinfo pi;
	struct hdr h;

	(void)state;
	sa_cmsg_build(&m, AF_INET, SA_RX_PKTINFO | SA_RX_TTL | SA_RX_TOS, 4, &d);
	assert_int_equal(m.msg_flags, 0);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)) +
						   CMSG_SPACE(1));
	h = hdr_at(buf);
	assert_int_equal(h.cmsg_len, CMSG_LEN(sizeof(pi)));
	assert_int_equal(h.cmsg_level, IPPROTO_IP);
	assert_int_equal(h.cmsg_type, IP_PKTINFO);
	memcpy(&pi, buf + CMSG_LEN(0), sizeof(pi));
	assert_int_equal(pi.ipi_ifindex, 4);
	assert_int_equal(pi.ipi_addr.s_addr, htonl(0x0a000002));
	assert_int_equal(pi.ipi_spec_dst.s_addr, htonl(0x0a000002));
	h = hdr_at(buf + CMSG_SPACE(sizeof(pi)));
	assert_int_equal(h.cmsg_type, IP_TTL);
	assert_int_equal(h.cmsg_len, CMSG_LEN(sizeof(int)));
	assert_int_equal(int_at(buf + CMSG_SPACE(sizeof(pi))), 63);
	h = hdr_at(buf + CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)));
	assert_int_equal(h.cmsg_type, IP_TOS);
	assert_int_equal(h.cmsg_len, CMSG_LEN(1));
	assert_int_equal(buf[CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)) + CMSG_LEN(0)],
			 0x28);
}

static void recv_with_no_option_on_writes_nothing(void **state)
{
	uint8_t buf[64];
	struct msghdr m = {.msg_control = buf, .msg_controllen = sizeof(buf)};
	struct skiff_app_dgram d = rec4(AF_INET);

	(void)state;
	sa_cmsg_build(&m, AF_INET, 0, 4, &d);
	assert_int_equal(m.msg_controllen, 0);
	assert_int_equal(m.msg_flags, 0);
	/* the IPv6 options of an AF_INET socket cannot be on; if they were,
	 * an IPv4 datagram reports none of them */
	m.msg_controllen = sizeof(buf);
	sa_cmsg_build(&m, AF_INET, SA_RX6_HOPLIMIT | SA_RX6_TCLASS, 4, &d);
	assert_int_equal(m.msg_controllen, 0);
}

static void recv_truncates_as_linux_put_cmsg(void **state)
{
	uint8_t buf[64];
	struct msghdr m;
	struct skiff_app_dgram d = rec4(AF_INET);
	struct hdr h;

	(void)state;
	/* room for IP_PKTINFO and 8 bytes: IP_TTL does not start */
	m = (struct msghdr){.msg_control = buf, .msg_controllen = CMSG_SPACE(12) + 8};
	sa_cmsg_build(&m, AF_INET, SA_RX_PKTINFO | SA_RX_TTL, 4, &d);
	assert_true(m.msg_flags & MSG_CTRUNC);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(12));
	/* 20 bytes: IP_PKTINFO is cut, its cmsg_len says what is there */
	memset(buf, 0xee, sizeof(buf));
	m = (struct msghdr){.msg_control = buf, .msg_controllen = 20};
	sa_cmsg_build(&m, AF_INET, SA_RX_PKTINFO, 4, &d);
	assert_true(m.msg_flags & MSG_CTRUNC);
	assert_int_equal(m.msg_controllen, 20);
	h = hdr_at(buf);
	assert_int_equal(h.cmsg_len, 20);
	assert_int_equal(h.cmsg_type, IP_PKTINFO);
	assert_int_equal(buf[20], 0xee);
	/* exactly CMSG_LEN (no padding room): whole, no MSG_CTRUNC */
	m = (struct msghdr){.msg_control = buf, .msg_controllen = CMSG_LEN(sizeof(int))};
	sa_cmsg_build(&m, AF_INET, SA_RX_TTL, 4, &d);
	assert_int_equal(m.msg_flags, 0);
	assert_int_equal(m.msg_controllen, CMSG_LEN(sizeof(int)));
	/* no buffer at all */
	m = (struct msghdr){0};
	sa_cmsg_build(&m, AF_INET, SA_RX_TOS, 4, &d);
	assert_true(m.msg_flags & MSG_CTRUNC);
	assert_int_equal(m.msg_controllen, 0);
}

static void recv_ipv6_gives_pktinfo_hoplimit_tclass(void **state)
{
	uint8_t buf[128];
	struct msghdr m = {.msg_control = buf, .msg_controllen = sizeof(buf)};
	struct skiff_app_dgram d = rec6();
	struct in6_pktinfo pi6;
	struct hdr h;
	size_t o;

	(void)state;
	sa_cmsg_build(&m, AF_INET6,
		      SA_RX6_PKTINFO | SA_RX6_HOPLIMIT | SA_RX6_TCLASS | SA_RX_PKTINFO | SA_RX_TTL,
		      9, &d);
	assert_int_equal(m.msg_flags, 0);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(pi6)) + 2 * CMSG_SPACE(sizeof(int)));
	h = hdr_at(buf);
	assert_int_equal(h.cmsg_level, IPPROTO_IPV6);
	assert_int_equal(h.cmsg_type, IPV6_PKTINFO);
	memcpy(&pi6, buf + CMSG_LEN(0), sizeof(pi6));
	assert_memory_equal(&pi6.ipi6_addr, d.laddr, 16);
	assert_int_equal(pi6.ipi6_ifindex, 9);
	o = CMSG_SPACE(sizeof(pi6));
	assert_int_equal(hdr_at(buf + o).cmsg_type, IPV6_HOPLIMIT);
	assert_int_equal(int_at(buf + o), 7);
	o += CMSG_SPACE(sizeof(int));
	assert_int_equal(hdr_at(buf + o).cmsg_type, IPV6_TCLASS);
	assert_int_equal(int_at(buf + o), 0xb8);
}

static void recv_ipv4_on_a_dual_stack_socket_mixes_as_linux(void **state)
{
	uint8_t buf[128];
	struct msghdr m = {.msg_control = buf, .msg_controllen = sizeof(buf)};
	struct skiff_app_dgram d = rec4(AF_INET6);
	struct in6_pktinfo pi6;

	(void)state;
	/* IPV6_PKTINFO with the mapped address, then the IPv4 ones; no hop
	 * limit for an IPv4 datagram */
	sa_cmsg_build(&m, AF_INET6, SA_RX6_PKTINFO | SA_RX6_HOPLIMIT | SA_RX_TTL, 3, &d);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(pi6)) + CMSG_SPACE(sizeof(int)));
	assert_int_equal(hdr_at(buf).cmsg_type, IPV6_PKTINFO);
	memcpy(&pi6, buf + CMSG_LEN(0), sizeof(pi6));
	assert_true(IN6_IS_ADDR_V4MAPPED(&pi6.ipi6_addr));
	assert_int_equal(hdr_at(buf + CMSG_SPACE(sizeof(pi6))).cmsg_level, IPPROTO_IP);
	assert_int_equal(hdr_at(buf + CMSG_SPACE(sizeof(pi6))).cmsg_type, IP_TTL);
	assert_int_equal(int_at(buf + CMSG_SPACE(sizeof(pi6))), 63);
}

/* A control buffer being built, at an odd address (callers' buffers need
 * not be aligned). */
struct cb {
	uint8_t raw[300];
	size_t len;
};

static void add(struct cb *c, int level, int type, const void *data, size_t dlen, size_t cmlen)
{
	struct cmsghdr h = {.cmsg_len = cmlen, .cmsg_level = level, .cmsg_type = type};

	memcpy(c->raw + 1 + c->len, &h, sizeof(h));
	memcpy(c->raw + 1 + c->len + CMSG_LEN(0), data, dlen);
	c->len += CMSG_SPACE(dlen);
}

static void add_int(struct cb *c, int level, int type, int v)
{
	add(c, level, type, &v, sizeof(v), CMSG_LEN(sizeof(v)));
}

static int parse(struct cb *c, int family, bool stream, bool dst4, struct sa_txctl *o)
{
	struct msghdr m = {.msg_control = c->raw + 1, .msg_controllen = c->len};

	return sa_cmsg_parse(&m, family, stream, dst4, 0, o);
}

/* A control buffer of one int message, parsed. */
static int parse_int(int level, int type, int v, int family, bool stream, bool dst4)
{
	struct cb c = {0};
	struct sa_txctl o;

	add_int(&c, level, type, v);
	return parse(&c, family, stream, dst4, &o);
}

static void send_ipv4_pktinfo_ttl_tos(void **state)
{
	struct cb c = {0};
	struct in_pktinfo pi = {.ipi_ifindex = 0};
	struct sa_txctl o;
	uint8_t tos = 0x10;

	(void)state;
	pi.ipi_spec_dst.s_addr = htonl(0x0a000003);
	pi.ipi_addr.s_addr = htonl(0x01020304); /* ignored on send, as Linux */
	add(&c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi), CMSG_LEN(sizeof(pi)));
	add_int(&c, IPPROTO_IP, IP_TTL, 9);
	add(&c, IPPROTO_IP, IP_TOS, &tos, 1, CMSG_LEN(1));
	add_int(&c, 4242, 1, 0); /* another level: ignored */
	assert_int_equal(parse(&c, AF_INET, false, true, &o), 0);
	assert_int_equal(o.flags, SKIFF_APP_DG_SRC | SKIFF_APP_DG_TTL | SKIFF_APP_DG_TOS);
	assert_int_equal(o.ttl, 9);
	assert_int_equal(o.tos, 0x10);
	assert_memory_equal(o.src4, &pi.ipi_spec_dst, 4);
	assert_int_equal(o.ifindex, 0);
	/* trailing bytes shorter than a header are not a message */
	c.len += 8;
	assert_int_equal(parse(&c, AF_INET, false, true, &o), 0);
}

static void send_malformed_or_unknown_is_einval(void **state)
{
	struct cb c;
	struct sa_txctl o;
	struct in_pktinfo pi = {0};

	(void)state;
	assert_int_equal(parse_int(IPPROTO_IP, IP_TTL, 0, AF_INET, false, true), -EINVAL); /* 1..255 */
	assert_int_equal(parse_int(IPPROTO_IP, IP_TTL, 256, AF_INET, false, true), -EINVAL);
	assert_int_equal(parse_int(IPPROTO_IP, IP_TOS, 256, AF_INET, false, true), -EINVAL);
	c = (struct cb){0};
	add(&c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi), CMSG_LEN(sizeof(pi)) - 1);
	assert_int_equal(parse(&c, AF_INET, false, true, &o), -EINVAL);
	assert_int_equal(parse_int(IPPROTO_IP, 99, 1, AF_INET, false, true), -EINVAL); /* no such IP type */
	assert_int_equal(parse_int(SOL_SOCKET, 9999, 1, AF_INET, false, true), -EINVAL);
	/* cmsg_len below a header, or past the buffer */
	c = (struct cb){0};
	add(&c, IPPROTO_IP, IP_TTL, "", 0, 8);
	assert_int_equal(parse(&c, AF_INET, false, true, &o), -EINVAL);
	c = (struct cb){0};
	add(&c, IPPROTO_IP, IP_TTL, "\1\0\0\0", 4, 4096);
	assert_int_equal(parse(&c, AF_INET, false, true, &o), -EINVAL);
	/* a good one, then a bad one: the whole send fails */
	c = (struct cb){0};
	add_int(&c, IPPROTO_IP, IP_TTL, 5);
	add_int(&c, IPPROTO_IP, IP_TTL, -5);
	assert_int_equal(parse(&c, AF_INET, false, true, &o), -EINVAL);
}

static void send_what_skiff_cannot_honour_is_eopnotsupp(void **state)
{
	struct cb c;
	struct sa_txctl o;
	uint16_t seg = 1000;

	(void)state;
	assert_int_equal(parse_int(SOL_SOCKET, SO_MARK, 1, AF_INET, false, true), -EOPNOTSUPP);
	c = (struct cb){0};
	add(&c, IPPROTO_IP, IP_RETOPTS, "\1\1\1\0", 4, CMSG_LEN(4));
	assert_int_equal(parse(&c, AF_INET, false, true, &o), -EOPNOTSUPP);
	c = (struct cb){0};
	add(&c, 17 /* SOL_UDP */, 103 /* UDP_SEGMENT */, &seg, sizeof(seg), CMSG_LEN(sizeof(seg)));
	assert_int_equal(parse(&c, AF_INET, false, true, &o), -EOPNOTSUPP);
	assert_int_equal(parse_int(IPPROTO_IPV6, IPV6_DONTFRAG, 1, AF_INET6, false, false), -EOPNOTSUPP);
	/* SCM_RIGHTS on an IP socket: ignored, as Linux */
	assert_int_equal(parse_int(SOL_SOCKET, SCM_RIGHTS, 0, AF_INET, false, true), 0);
}

static void send_tcp_reads_sol_socket_only(void **state)
{
	struct cb c;
	struct sa_txctl o;

	(void)state;
	c = (struct cb){0};
	add_int(&c, IPPROTO_IP, IP_TTL, 0); /* out of range, but TCP does not look */
	add_int(&c, IPPROTO_IP, 99, 0);
	assert_int_equal(parse(&c, AF_INET, true, true, &o), 0);
	assert_int_equal(o.flags, 0);
	assert_int_equal(parse_int(SOL_SOCKET, 9999, 0, AF_INET, true, true), -EINVAL);
	c = (struct cb){0};
	add(&c, IPPROTO_IP, IP_TTL, "", 0, 4);
	assert_int_equal(parse(&c, AF_INET, true, true, &o), -EINVAL);
}

static void send_ipv6_pktinfo_hoplimit_tclass(void **state)
{
	struct cb c;
	struct in6_pktinfo pi6 = {.ipi6_ifindex = 0};
	struct sa_txctl o;

	(void)state;
	c = (struct cb){0};
	inet_pton(AF_INET6, "fd00::2", &pi6.ipi6_addr);
	add(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6), CMSG_LEN(sizeof(pi6)));
	add_int(&c, IPPROTO_IPV6, IPV6_HOPLIMIT, 0);
	add_int(&c, IPPROTO_IPV6, IPV6_TCLASS, -1); /* -1: the socket's */
	add_int(&c, IPPROTO_IP, IP_TTL, 0);	    /* SOL_IP to an IPv6 peer: ignored */
	assert_int_equal(parse(&c, AF_INET6, false, false, &o), 0);
	assert_int_equal(o.flags, SKIFF_APP_DG_SRC | SKIFF_APP_DG_TTL);
	assert_int_equal(o.ttl, 0);
	assert_memory_equal(o.src6, &pi6.ipi6_addr, 16);
	assert_int_equal(parse_int(IPPROTO_IPV6, IPV6_HOPLIMIT, 256, AF_INET6, false, false), -EINVAL);
	assert_int_equal(parse_int(IPPROTO_IPV6, IPV6_TCLASS, -2, AF_INET6, false, false), -EINVAL);
	/* a link-local source without its interface */
	c = (struct cb){0};
	inet_pton(AF_INET6, "fe80::1", &pi6.ipi6_addr);
	add(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6), CMSG_LEN(sizeof(pi6)));
	assert_int_equal(parse(&c, AF_INET6, false, false, &o), -EINVAL);
	/* ... given by the destination's scope id, as Linux's flowi6_oif */
	{
		struct msghdr m = {.msg_control = c.raw + 1, .msg_controllen = c.len};

		assert_int_equal(sa_cmsg_parse(&m, AF_INET6, false, false, 5, &o), 0);
		assert_int_equal(o.flags, SKIFF_APP_DG_SRC);
	}
	pi6.ipi6_ifindex = 5;
	c = (struct cb){0};
	add(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6), CMSG_LEN(sizeof(pi6)));
	assert_int_equal(parse(&c, AF_INET6, false, false, &o), 0);
	assert_int_equal(o.ifindex, 5);
	{ /* another interface than the destination's scope */
		struct msghdr m = {.msg_control = c.raw + 1, .msg_controllen = c.len};

		assert_int_equal(sa_cmsg_parse(&m, AF_INET6, false, false, 6, &o), -EINVAL);
	}
	/* to an IPv4 peer of a dual-stack socket: IPV6_PKTINFO must be mapped */
	assert_int_equal(parse(&c, AF_INET6, false, true, &o), -EINVAL);
	c = (struct cb){0};
	pi6 = (struct in6_pktinfo){.ipi6_ifindex = 0};
	inet_pton(AF_INET6, "::ffff:10.0.0.3", &pi6.ipi6_addr);
	add(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6), CMSG_LEN(sizeof(pi6)));
	add_int(&c, IPPROTO_IPV6, IPV6_HOPLIMIT, 999); /* ignored toward IPv4 */
	assert_int_equal(parse(&c, AF_INET6, false, true, &o), 0);
	assert_int_equal(o.flags, SKIFF_APP_DG_SRC);
	assert_memory_equal(o.src4, pi6.ipi6_addr.s6_addr + 12, 4);
}

static void send_control_length_limits(void **state)
{
	struct msghdr m = {0};
	struct sa_txctl o;
	uint8_t b[16] = {0};

	(void)state;
	assert_int_equal(sa_cmsg_parse(&m, AF_INET, false, true, 0, &o), 0);
	m.msg_controllen = 16;
	assert_int_equal(sa_cmsg_parse(&m, AF_INET, false, true, 0, &o), -EFAULT);
	m.msg_control = b;
	m.msg_controllen = (size_t)INT_MAX + 1;
	assert_int_equal(sa_cmsg_parse(&m, AF_INET, false, true, 0, &o), -ENOBUFS);
	/* fewer bytes than a header: no message */
	m.msg_controllen = 15;
	assert_int_equal(sa_cmsg_parse(&m, AF_INET, false, true, 0, &o), 0);
}

static void rx_option_bits(void **state)
{
	(void)state;
	assert_int_equal(sa_rxopt_bit(IPPROTO_IP, IP_PKTINFO), SA_RX_PKTINFO);
	assert_int_equal(sa_rxopt_bit(IPPROTO_IPV6, IPV6_RECVTCLASS), SA_RX6_TCLASS);
	assert_int_equal(sa_rxopt_bit(IPPROTO_IPV6, IPV6_PKTINFO), 0);
	assert_int_equal(sa_rxopt_bit(IPPROTO_IP, IP_TTL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recv_ipv4_gives_pktinfo_ttl_tos_in_linux_order),
		cmocka_unit_test(recv_with_no_option_on_writes_nothing),
		cmocka_unit_test(recv_truncates_as_linux_put_cmsg),
		cmocka_unit_test(recv_ipv6_gives_pktinfo_hoplimit_tclass),
		cmocka_unit_test(recv_ipv4_on_a_dual_stack_socket_mixes_as_linux),
		cmocka_unit_test(send_ipv4_pktinfo_ttl_tos),
		cmocka_unit_test(send_malformed_or_unknown_is_einval),
		cmocka_unit_test(send_what_skiff_cannot_honour_is_eopnotsupp),
		cmocka_unit_test(send_tcp_reads_sol_socket_only),
		cmocka_unit_test(send_ipv6_pktinfo_hoplimit_tclass),
		cmocka_unit_test(send_control_length_limits),
		cmocka_unit_test(rx_option_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
