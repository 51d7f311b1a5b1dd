// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * UDP (user/transport/udp.c) through the whole stack over the fake device:
 * checksums and length checks on receive, demultiplexing, binding and the
 * owned-ports map, port unreachable, receive-buffer limits, and the exact
 * bytes of what sendto() puts on the wire.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "udptest.h"

#include "core/csum.h"
#include "sock/socket.h"
#include "transport/udp.h"

#define H_ADDR2 0x0300000aU	/* 10.0.0.3, a second local address */


static void add_addr(struct harness *h, uint32_t addr, bool dedicated)
{
	struct stack_addr *a = &h->cfg.addrs[h->cfg.n_addrs++];

	a->addr = addr;
	a->prefix_len = 24;
	a->dedicated = dedicated;
}

static struct socket *bound(struct harness *h, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = t_sin(addr, port);
	struct socket *so;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_bind(so, &sin), 0);
	return so;
}

/* Read one datagram; returns its length or the error. */
static ssize_t recv1(struct socket *so, void *buf, size_t len, struct sockaddr_in *from)
{
	return skiff_recvfrom(so, buf, len, from);
}

/* ---- checksums and lengths ---- */

static void udp_right_checksum_is_delivered(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	struct sockaddr_in from;
	char buf[64];

	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "hello", 5, T_CSUM_OK);
	assert_int_equal(recv1(so, buf, sizeof(buf), &from), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(h->st.stats->udp_rx, 1);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_close(so);
}

static void udp_wrong_checksum_is_dropped_and_counted(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	char buf[64];

	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "hello", 5, T_CSUM_BAD);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(h->st.stats->drop.udp_csum, 1);
	assert_int_equal(h->st.stats->udp_rx, 0);
	assert_null(fakedev_pop_tx(&h->fd));	/* no port unreachable for a bad one */
	skiff_close(so);
}

static void udp_zero_checksum_means_none_and_is_delivered(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	char buf[64];

	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "no checksum", 11, T_CSUM_ZERO);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 11);
	assert_memory_equal(buf, "no checksum", 11);
	assert_int_equal(h->st.stats->drop.udp_csum, 0);
	skiff_close(so);
}

/* Patch the UDP length of a frame built by t_udp_frame (checksum left alone). */
static void set_udp_len(uint8_t *frame, uint16_t len)
{
	struct udp_hdr *uh = (struct udp_hdr *)(frame + T_ETH_HLEN + IP_HLEN);

	uh->len = htons(len);
}

static void udp_length_beyond_ip_payload_is_dropped(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	uint8_t frame[256];
	size_t n;
	char buf[64];

	n = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, 7000, "abcd", 4,
			T_CSUM_ZERO);
	set_udp_len(frame, 8 + 5);
	harness_rx(h, frame, n);
	assert_int_equal(h->st.stats->drop.udp_len, 1);

	n = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, 7000, "abcd", 4,
			T_CSUM_ZERO);
	set_udp_len(frame, 7);	/* shorter than the header itself */
	harness_rx(h, frame, n);
	assert_int_equal(h->st.stats->drop.udp_len, 2);

	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_close(so);
}

static void udp_length_shorter_than_ip_payload_trims_the_rest(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	uint8_t seg[32], frame[256];
	size_t n;
	char buf[64];

	/* A 3-byte datagram with its checksum, then 5 bytes of trailing junk. */
	n = t_udp_seg(seg, H_PEER, H_ADDR, T_PEER_PORT, 7000, "abc", 3, T_CSUM_OK);
	memcpy(seg + n, "JUNK!", 5);
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_UDP, 1, 0, seg, n + 5);
	harness_rx(h, frame, n);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 3);
	assert_memory_equal(buf, "abc", 3);
	skiff_close(so);
}

static void udp_shorter_than_its_header_is_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t frame[128];
	size_t n;

	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_UDP, 1, 0,
			     "\x9c\x40\x1b\x58", 4);
	harness_rx(h, frame, n);
	assert_int_equal(h->st.stats->drop.udp_short, 1);
	assert_null(fakedev_pop_tx(&h->fd));
}

/* ---- demultiplexing ---- */

static void udp_bound_address_gets_only_its_own_datagrams(void **state)
{
	struct harness *h = *state;
	struct socket *so;
	char buf[64];
	struct t_tx t;

	add_addr(h, H_ADDR2, true);
	so = bound(h, H_ADDR, 7000);

	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "one", 3, T_CSUM_OK);
	t_rx_udp(h, H_ADDR2, T_PEER_PORT, 7000, "two", 3, T_CSUM_OK);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	/* 10.0.0.3:7000 has nobody: port unreachable from 10.0.0.3 */
	assert_int_equal(h->st.stats->udp_no_port, 1);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->protocol, IPPROTO_ICMP);
	assert_int_equal(t.iph->saddr, H_ADDR2);
	t_tx_free(&t);
	skiff_close(so);
}

static void udp_wildcard_gets_every_local_address(void **state)
{
	struct harness *h = *state;
	struct socket *so;
	struct sockaddr_in from;
	char buf[64];

	add_addr(h, H_ADDR2, true);
	so = bound(h, 0, 7000);
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "one", 3, T_CSUM_OK);
	t_rx_udp(h, H_ADDR2, T_PEER_PORT + 1, 7000, "two", 3, T_CSUM_OK);
	assert_int_equal(recv1(so, buf, sizeof(buf), &from), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(ntohs(from.sin_port), T_PEER_PORT);
	assert_int_equal(recv1(so, buf, sizeof(buf), &from), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(ntohs(from.sin_port), T_PEER_PORT + 1);
	assert_int_equal(h->st.stats->udp_no_port, 0);
	skiff_close(so);
}

static void udp_two_exact_binds_split_one_port_across_addresses(void **state)
{
	struct harness *h = *state;
	struct socket *a, *b;
	char buf[64];

	/* Without SO_REUSEADDR a wildcard and an exact bind of one port clash
	 * (as Linux); two exact binds on different addresses do not. */
	add_addr(h, H_ADDR2, true);
	a = bound(h, H_ADDR, 7000);
	b = bound(h, H_ADDR2, 7000);
	t_rx_udp(h, H_ADDR2, T_PEER_PORT, 7000, "to-b", 4, T_CSUM_OK);
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "to-a", 4, T_CSUM_OK);
	assert_int_equal(recv1(a, buf, sizeof(buf), NULL), 4);
	assert_memory_equal(buf, "to-a", 4);
	assert_int_equal(recv1(b, buf, sizeof(buf), NULL), 4);
	assert_memory_equal(buf, "to-b", 4);
	assert_int_equal(recv1(a, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv1(b, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_close(a);
	skiff_close(b);
}

static void udp_connected_socket_hears_only_its_peer(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	struct sockaddr_in peer = t_sin(H_PEER, T_PEER_PORT);
	char buf[64];
	struct t_tx t;

	assert_int_equal(skiff_connect(so, &peer), 0);
	t_rx_udp(h, H_ADDR, T_PEER_PORT + 1, 7000, "stranger", 8, T_CSUM_OK);
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "peer", 4, T_CSUM_OK);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 4);
	assert_memory_equal(buf, "peer", 4);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(h->st.stats->udp_no_port, 1);
	assert_int_equal(t_pop_ip(h, &t), 0);	/* the stranger got port unreachable */
	assert_int_equal(t.iph->protocol, IPPROTO_ICMP);
	t_tx_free(&t);
	skiff_close(so);
}

static void udp_two_sockets_on_two_ports_each_get_their_own(void **state)
{
	struct harness *h = *state;
	struct socket *a = bound(h, 0, 7000), *b = bound(h, 0, 7001);
	char buf[64];

	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7001, "B", 1, T_CSUM_OK);
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "A", 1, T_CSUM_OK);
	/* 7000 and 7000+1024 share a hash slot: they must still be told apart */
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000 + UDP_HASH_SLOTS, "C", 1, T_CSUM_OK);
	assert_int_equal(recv1(a, buf, sizeof(buf), NULL), 1);
	assert_int_equal(buf[0], 'A');
	assert_int_equal(recv1(b, buf, sizeof(buf), NULL), 1);
	assert_int_equal(buf[0], 'B');
	assert_int_equal(recv1(a, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv1(b, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(h->st.stats->udp_no_port, 1);
	fakedev_purge(&h->fd);
	skiff_close(a);
	skiff_close(b);
}

/* ---- binding ---- */

static void udp_conflicting_binds_fail_with_eaddrinuse(void **state)
{
	struct harness *h = *state;
	struct socket *a, *b;
	struct sockaddr_in sin;

	add_addr(h, H_ADDR2, false);
	a = bound(h, H_ADDR, 7000);
	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &b), 0);
	sin = t_sin(H_ADDR, 7000);
	assert_int_equal(skiff_bind(b, &sin), -EADDRINUSE);	/* same address and port */
	sin = t_sin(0, 7000);
	assert_int_equal(skiff_bind(b, &sin), -EADDRINUSE);	/* wildcard over an exact one */
	sin = t_sin(H_ADDR2, 7000);
	assert_int_equal(skiff_bind(b, &sin), 0);		/* other address: fine */
	skiff_close(b);
	skiff_close(a);

	a = bound(h, 0, 7000);
	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &b), 0);
	sin = t_sin(H_ADDR2, 7000);
	assert_int_equal(skiff_bind(b, &sin), -EADDRINUSE);	/* exact under a wildcard */
	skiff_close(a);
	assert_int_equal(skiff_bind(b, &sin), 0);		/* free again once closed */
	skiff_close(b);
}

static void udp_bind_checks_address_and_state(void **state)
{
	struct harness *h = *state;
	struct socket *so;
	struct sockaddr_in sin;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	sin = t_sin(0x0900000a /* 10.0.0.9, not ours */, 7000);
	assert_int_equal(skiff_bind(so, &sin), -EADDRNOTAVAIL);
	sin = t_sin(0x0900000a, 0);
	assert_int_equal(skiff_bind(so, &sin), -EADDRNOTAVAIL);
	sin = t_sin(H_ADDR, 7000);
	sin.sin_family = AF_INET6;
	assert_int_equal(skiff_bind(so, &sin), -EAFNOSUPPORT);
	sin.sin_family = AF_INET;
	assert_int_equal(skiff_bind(so, &sin), 0);
	assert_int_equal(skiff_bind(so, &sin), -EINVAL);	/* already bound */
	assert_int_equal(harness_port_refs(h, 0x0900000a, IPPROTO_UDP, htons(7000)), 0);
	skiff_close(so);
}

static void udp_port_zero_binds_distinct_ephemeral_ports(void **state)
{
	struct harness *h = *state;
	struct socket *a = bound(h, 0, 0), *b = bound(h, H_ADDR, 0);
	struct sockaddr_in na, nb;

	assert_int_equal(skiff_getsockname(a, &na), 0);
	assert_int_equal(skiff_getsockname(b, &nb), 0);
	assert_in_range(ntohs(na.sin_port), UDP_EPHEMERAL_LO, UDP_EPHEMERAL_HI);
	assert_in_range(ntohs(nb.sin_port), UDP_EPHEMERAL_LO, UDP_EPHEMERAL_HI);
	assert_int_not_equal(na.sin_port, nb.sin_port);
	assert_int_equal(na.sin_addr.s_addr, 0);
	assert_int_equal(nb.sin_addr.s_addr, H_ADDR);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, na.sin_port), 1);
	assert_int_equal(harness_port_refs(h, H_ADDR, IPPROTO_UDP, nb.sin_port), 1);
	skiff_close(a);
	skiff_close(b);
}

static void udp_bind_claims_the_port_and_close_releases_it(void **state)
{
	struct harness *h = *state;
	struct socket *a = bound(h, 0, 7000), *b = bound(h, H_ADDR, 7001), *c;
	struct sockaddr_in peer = t_sin(H_PEER, T_PEER_PORT), name;

	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(7000)), 1);
	assert_int_equal(harness_port_refs(h, H_ADDR, IPPROTO_UDP, htons(7001)), 1);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_TCP, htons(7000)), 0);

	/* sendto on an unbound socket binds (and claims) an ephemeral port */
	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &c), 0);
	assert_int_equal(skiff_sendto(c, "x", 1, &peer), 1);
	assert_int_equal(skiff_getsockname(c, &name), 0);
	assert_int_not_equal(name.sin_port, 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, name.sin_port), 1);
	fakedev_purge(&h->fd);

	skiff_close(a);
	skiff_close(b);
	skiff_close(c);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(7000)), 0);
	assert_int_equal(harness_port_refs(h, H_ADDR, IPPROTO_UDP, htons(7001)), 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, name.sin_port), 0);
}

/* ---- nobody bound ---- */

static void udp_no_socket_on_dedicated_address_sends_port_unreachable(void **state)
{
	struct harness *h = *state;
	uint8_t frame[256];
	const uint8_t *icmp, *sent_ip;
	size_t n;
	struct t_tx t;

	n = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, 9999, "knock", 5,
			T_CSUM_OK);
	harness_rx(h, frame, n);
	assert_int_equal(h->st.stats->udp_no_port, 1);
	assert_int_equal(h->st.stats->drop.udp_no_port, 1);

	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->protocol, IPPROTO_ICMP);
	assert_int_equal(t.iph->saddr, H_ADDR);
	assert_int_equal(t.iph->daddr, H_PEER);
	icmp = t.l4;
	sent_ip = frame + T_ETH_HLEN;
	/* RFC 792: type 3 code 3, unused word zero, then the IP header and
	 * at least the first 8 bytes of the datagram (here all of it). */
	assert_true(t.l4_len >= 8 + 20 + 8);
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 3);
	assert_int_equal(t_fold(t_sum(icmp, t.l4_len, 0)), 0xffff);
	assert_memory_equal(icmp + 4, "\0\0\0\0", 4);
	assert_memory_equal(icmp + 8, sent_ip, 20 + 8);
	t_tx_free(&t);
	assert_null(fakedev_pop_tx(&h->fd));
}

static void udp_no_socket_on_shared_address_is_silent(void **state)
{
	struct harness *h = *state;

	h->cfg.addrs[0].dedicated = false;
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 9999, "knock", 5, T_CSUM_OK);
	assert_int_equal(h->st.stats->udp_no_port, 1);
	assert_int_equal(h->st.stats->drop.udp_no_port, 1);
	assert_null(fakedev_pop_tx(&h->fd));
}

static void udp_no_socket_for_link_broadcast_is_silent(void **state)
{
	struct harness *h = *state;
	uint8_t frame[256];
	size_t n;

	/* RFC 1122 3.2.2: no ICMP error about a link-layer broadcast */
	n = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, 9999, "knock", 5,
			T_CSUM_OK);
	memset(frame, 0xff, 6);
	harness_rx(h, frame, n);
	assert_null(fakedev_pop_tx(&h->fd));
	assert_int_equal(h->st.stats->udp_no_port, 1);	/* it got this far */
	assert_int_equal(h->st.stats->drop.udp_no_port, 1);
}

/* ---- receive queue ---- */

static void udp_full_receive_buffer_drops_and_counts(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	char buf[64];
	int i;

	/* Each queued datagram is charged its whole frame (2048 bytes here):
	 * 4096 bytes hold two, whatever their size. */
	assert_int_equal(skiff_setsockopt_rcvbuf(so, 4096), 0);
	for (i = 0; i < 3; i++)
		t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "d", 1, T_CSUM_OK);
	assert_int_equal(h->st.stats->drop.sock_rcvbuf, 1);
	assert_int_equal(h->st.stats->udp_rx, 2);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 2);	/* kept until read */
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 1);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 1);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);

	/* room again once read */
	t_rx_udp(h, H_ADDR, T_PEER_PORT, 7000, "e", 1, T_CSUM_OK);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), 1);
	assert_int_equal(h->st.stats->drop.sock_rcvbuf, 1);
	skiff_close(so);
}

static void udp_recvfrom_truncates_and_reports_sender(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	struct sockaddr_in from;
	char buf[16];

	t_rx_udp(h, H_ADDR, 4321, 7000, "0123456789abcdef-tail", 21, T_CSUM_OK);
	t_rx_udp(h, H_ADDR, 4322, 7000, "next", 4, T_CSUM_OK);
	memset(buf, 0, sizeof(buf));
	/* like recvfrom(2): the bytes that fit, the rest of the datagram is lost */
	assert_int_equal(recv1(so, buf, 10, &from), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(buf[10], 0);
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(from.sin_addr.s_addr, H_PEER);
	assert_int_equal(ntohs(from.sin_port), 4321);
	assert_int_equal(recv1(so, buf, sizeof(buf), &from), 4);
	assert_memory_equal(buf, "next", 4);
	assert_int_equal(ntohs(from.sin_port), 4322);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
	skiff_close(so);
}

/* ---- sending ---- */

static void udp_sendto_puts_exact_datagram_on_the_wire(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, H_ADDR, 5000);
	struct sockaddr_in to = t_sin(H_PEER, T_PEER_PORT);
	uint8_t expect[8 + 5];
	struct t_tx t;

	assert_int_equal(skiff_sendto(so, "hello", 5, &to), 5);
	assert_int_equal(h->st.stats->udp_tx, 1);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->ihl, 5);
	assert_int_equal(t.iph->protocol, IPPROTO_UDP);
	assert_int_equal(t.iph->ttl, 64);
	assert_int_equal(t.iph->frag_off, 0);	/* DF clear */
	assert_int_equal(t.iph->saddr, H_ADDR);
	assert_int_equal(t.iph->daddr, H_PEER);
	assert_int_equal(ntohs(t.iph->tot_len), 20 + 8 + 5);
	assert_int_equal(t.l4_len, 8 + 5);
	t_udp_seg(expect, H_ADDR, H_PEER, 5000, T_PEER_PORT, "hello", 5, T_CSUM_OK);
	/* 13 88 9c 40 00 0d <checksum> 'hello' */
	assert_memory_equal(t.l4, "\x13\x88\x9c\x40\x00\x0d", 6);
	assert_memory_equal(t.l4, expect, sizeof(expect));
	assert_int_equal(t_udp_sum(H_ADDR, H_PEER, t.l4, t.l4_len), 0xffff);
	t_tx_free(&t);
	assert_null(fakedev_pop_tx(&h->fd));
	skiff_close(so);
}

static void udp_computed_zero_checksum_is_sent_as_ffff(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, H_ADDR, 5000);
	struct sockaddr_in to = t_sin(H_PEER, T_PEER_PORT);
	uint8_t seg[8 + 2];
	uint8_t payload[2] = { 0, 0 };
	uint16_t s, x;
	struct t_tx t;

	/* Choose the two payload bytes so that the sum is 0xffff, i.e. the
	 * computed checksum is 0. */
	t_udp_seg(seg, H_ADDR, H_PEER, 5000, T_PEER_PORT, payload, 2, T_CSUM_ZERO);
	s = t_udp_sum(H_ADDR, H_PEER, seg, sizeof(seg));
	x = (uint16_t)(0xffff - s);
	payload[0] = (uint8_t)(x >> 8);
	payload[1] = (uint8_t)x;
	t_udp_seg(seg, H_ADDR, H_PEER, 5000, T_PEER_PORT, payload, 2, T_CSUM_ZERO);
	assert_int_equal(t_udp_sum(H_ADDR, H_PEER, seg, sizeof(seg)), 0xffff);

	assert_int_equal(skiff_sendto(so, payload, 2, &to), 2);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_memory_equal(t.l4 + 6, "\xff\xff", 2);
	t_tx_free(&t);
	skiff_close(so);
}

static void udp_send_errors(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 5000);
	struct sockaddr_in to = t_sin(H_PEER, T_PEER_PORT);
	static uint8_t big[65508];

	assert_int_equal(skiff_sendto(so, big, sizeof(big), &to), -EMSGSIZE);
	assert_int_equal(skiff_sendto(so, "x", 1, NULL), -EDESTADDRREQ);
	to.sin_port = 0;
	assert_int_equal(skiff_sendto(so, "x", 1, &to), -EINVAL);
	to = t_sin(H_PEER, T_PEER_PORT);
	to.sin_family = AF_INET6;
	assert_int_equal(skiff_sendto(so, "x", 1, &to), -EAFNOSUPPORT);
	assert_null(fakedev_pop_tx(&h->fd));
	assert_int_equal(h->st.stats->udp_tx, 0);
	skiff_close(so);
}

static void udp_connected_send_goes_to_peer(void **state)
{
	struct harness *h = *state;
	struct socket *so;
	struct sockaddr_in peer = t_sin(H_PEER, T_PEER_PORT), name;
	struct t_tx t;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_connect(so, &peer), 0);	/* binds an ephemeral port */
	assert_int_equal(skiff_getsockname(so, &name), 0);
	assert_in_range(ntohs(name.sin_port), UDP_EPHEMERAL_LO, UDP_EPHEMERAL_HI);
	assert_int_equal(skiff_sendto(so, "abc", 3, NULL), 3);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->daddr, H_PEER);
	assert_int_equal(((const struct udp_hdr *)t.l4)->source, name.sin_port);
	assert_int_equal(ntohs(((const struct udp_hdr *)t.l4)->dest), T_PEER_PORT);
	t_tx_free(&t);
	skiff_close(so);
}

static void udp_recvmsg_reports_local_address_and_sendmsg_picks_source(void **state)
{
	struct harness *h = *state;
	struct socket *so, *fixed;
	struct sockaddr_in from, local, bad;
	char buf[16];
	struct t_tx t;

	add_addr(h, H_ADDR2, false);
	so = bound(h, 0, 7000);
	t_rx_udp(h, H_ADDR2, T_PEER_PORT, 7000, "q", 1, T_CSUM_OK);
	assert_int_equal(skiff_recvmsg(so, buf, sizeof(buf), &from, &local), 1);
	assert_int_equal(from.sin_addr.s_addr, H_PEER);
	assert_int_equal(local.sin_family, AF_INET);
	assert_int_equal(local.sin_addr.s_addr, H_ADDR2);
	assert_int_equal(ntohs(local.sin_port), 7000);

	/* answer from where it was asked */
	assert_int_equal(skiff_sendmsg(so, "r", 1, &from, &local), 1);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->saddr, H_ADDR2);
	assert_int_equal(t_udp_sum(H_ADDR2, H_PEER, t.l4, t.l4_len), 0xffff);
	t_tx_free(&t);
	/* without a local address: the route's source */
	assert_int_equal(skiff_sendmsg(so, "r", 1, &from, NULL), 1);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->saddr, H_ADDR);
	t_tx_free(&t);

	bad = t_sin(0x0900000a, 0);
	assert_int_equal(skiff_sendmsg(so, "r", 1, &from, &bad), -EADDRNOTAVAIL);
	fixed = bound(h, H_ADDR, 7001);
	assert_int_equal(skiff_sendmsg(fixed, "r", 1, &from, &local), -EINVAL);
	assert_null(fakedev_pop_tx(&h->fd));
	skiff_close(fixed);
	skiff_close(so);
}

/* A datagram from the peer to daddr with this TTL and TOS, received. */
static void rx_udp_ttl_tos(struct harness *h, uint32_t daddr, uint16_t dport, uint8_t ttl,
			   uint8_t tos)
{
	uint8_t frame[256];
	size_t n = t_udp_frame(frame, sizeof(frame), H_PEER, daddr, T_PEER_PORT, dport, "q", 1,
			       T_CSUM_OK);

	frame[14 + 1] = tos;
	frame[14 + 8] = ttl;
	frame[14 + 10] = frame[14 + 11] = 0;
	memcpy(frame + 14 + 10, &(uint16_t){ip_fast_csum(frame + 14, 5)}, 2);
	harness_rx(h, frame, n);
}

/* skiff_recvmsg_ip: the datagram's TTL, TOS, local address and the reply
 * source (a subnet broadcast: our address toward the sender, as Linux's
 * ipi_spec_dst); skiff_sendmsg_ip: one datagram's own TTL and TOS. */
static void udp_recvmsg_ip_reports_ttl_tos_and_reply_source(void **state)
{
	struct harness *h = *state;
	struct sockaddr_in from, local, spec;
	struct skiff_ipinfo ip = {.local.sin = &local, .spec_dst.sin = &spec};
	struct socket *so;
	char buf[16];
	struct t_tx t;

	so = bound(h, 0, 7000);
	rx_udp_ttl_tos(h, H_ADDR, 7000, 33, 0x20);
	assert_int_equal(skiff_recvmsg_ip(so, buf, sizeof(buf), &from, &ip), 1);
	assert_int_equal(ip.ttl, 33);
	assert_int_equal(ip.tos, 0x20);
	assert_int_equal(local.sin_addr.s_addr, H_ADDR);
	assert_int_equal(spec.sin_addr.s_addr, H_ADDR);
	rx_udp_ttl_tos(h, htonl(0x0a0000ff), 7000, 1, 0); /* 10.0.0.255: the subnet's broadcast */
	assert_int_equal(skiff_recvmsg_ip(so, buf, sizeof(buf), &from, &ip), 1);
	assert_int_equal(ip.ttl, 1);
	assert_int_equal(local.sin_addr.s_addr, htonl(0x0a0000ff));
	assert_int_equal(spec.sin_addr.s_addr, H_ADDR);

	assert_int_equal(skiff_sendmsg_ip(so, "r", 1, &from, NULL, 9, 0x48), 1);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->ttl, 9);
	assert_int_equal(t.iph->tos, 0x48);
	t_tx_free(&t);
	assert_int_equal(skiff_sendmsg_ip(so, "r", 1, &from, NULL, -1, -1), 1);
	assert_int_equal(t_pop_ip(h, &t), 0);
	assert_int_equal(t.iph->ttl, 64);
	assert_int_equal(t.iph->tos, 0);
	t_tx_free(&t);
	assert_int_equal(skiff_sendmsg_ip(so, "r", 1, &from, NULL, 256, -1), -EINVAL);
	/* an IPv4 TTL of zero is never sent (a hostile application's record) */
	assert_int_equal(skiff_sendmsg_ip(so, "r", 1, &from, NULL, 0, -1), -EINVAL);
	assert_null(fakedev_pop_tx(&h->fd));
	skiff_close(so);
}

static void udp_port_unreachable_from_peer_reaches_connected_socket_once(void **state)
{
	struct harness *h = *state;
	struct socket *so;
	struct sockaddr_in peer = t_sin(H_PEER, T_PEER_PORT);
	uint8_t icmp[8 + 20 + 8 + 3], frame[256];
	uint16_t c;
	size_t n;
	char buf[16];
	struct t_tx t;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_connect(so, &peer), 0);
	assert_int_equal(skiff_sendto(so, "abc", 3, NULL), 3);
	assert_int_equal(t_pop_ip(h, &t), 0);

	/* the peer answers with port unreachable quoting what we sent */
	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 3;
	icmp[1] = 3;
	memcpy(icmp + 8, t.iph, 20 + 8 + 3);
	c = (uint16_t)~t_fold(t_sum(icmp, sizeof(icmp), 0));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	t_tx_free(&t);
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, IPPROTO_ICMP, 9, 0, icmp,
			     sizeof(icmp));
	harness_rx(h, frame, n);

	assert_true(skiff_poll(so) & SOCK_EV_ERR);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -ECONNREFUSED);
	assert_int_equal(recv1(so, buf, sizeof(buf), NULL), -EAGAIN);
	assert_false(skiff_poll(so) & SOCK_EV_ERR);
	skiff_close(so);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_setup_peer, harness_teardown)
		T(udp_right_checksum_is_delivered),
		T(udp_wrong_checksum_is_dropped_and_counted),
		T(udp_zero_checksum_means_none_and_is_delivered),
		T(udp_length_beyond_ip_payload_is_dropped),
		T(udp_length_shorter_than_ip_payload_trims_the_rest),
		T(udp_shorter_than_its_header_is_dropped),
		T(udp_bound_address_gets_only_its_own_datagrams),
		T(udp_wildcard_gets_every_local_address),
		T(udp_two_exact_binds_split_one_port_across_addresses),
		T(udp_connected_socket_hears_only_its_peer),
		T(udp_two_sockets_on_two_ports_each_get_their_own),
		T(udp_conflicting_binds_fail_with_eaddrinuse),
		T(udp_bind_checks_address_and_state),
		T(udp_port_zero_binds_distinct_ephemeral_ports),
		T(udp_bind_claims_the_port_and_close_releases_it),
		T(udp_no_socket_on_dedicated_address_sends_port_unreachable),
		T(udp_no_socket_on_shared_address_is_silent),
		T(udp_no_socket_for_link_broadcast_is_silent),
		T(udp_recvmsg_ip_reports_ttl_tos_and_reply_source),
		T(udp_full_receive_buffer_drops_and_counts),
		T(udp_recvfrom_truncates_and_reports_sender),
		T(udp_sendto_puts_exact_datagram_on_the_wire),
		T(udp_computed_zero_checksum_is_sent_as_ffff),
		T(udp_send_errors),
		T(udp_connected_send_goes_to_peer),
		T(udp_recvmsg_reports_local_address_and_sendmsg_picks_source),
		T(udp_port_unreachable_from_peer_reaches_connected_socket_once),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
