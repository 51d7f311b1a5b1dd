// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The socket layer (user/sock/socket.c): argument checking with errno-style
 * returns, readiness events (once per burst, edge-triggered), handlers that
 * close sockets, sock_walk and sock_fini, over the whole stack and the fake
 * device.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "udptest.h"

#include "sock/inet.h"
#include "sock/socket.h"


static struct socket *bound(struct harness *h, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = t_sin(addr, port);
	struct socket *so;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_bind(so, &sin), 0);
	return so;
}

/* Inject n datagrams to port and run them all in one burst. */
static void rx_burst(struct harness *h, uint16_t port, int n)
{
	uint8_t frame[256];
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		len = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, port, "x", 1,
				  T_CSUM_OK);
		assert_int_equal(fakedev_inject(&h->fd, frame, len), 0);
	}
	stack_poll(&h->st);
}

struct events {
	int calls;
	uint32_t last;
	struct socket *close_self;	/* close this from the handler */
	struct socket *close_other;
	bool drain;
};

static void record(struct socket *so, uint32_t events, void *arg)
{
	struct events *ev = arg;
	char buf[16];

	ev->calls++;
	ev->last = events;
	if (ev->drain)
		while (skiff_recvfrom(so, buf, sizeof(buf), NULL) != -EAGAIN)
			;
	if (ev->close_other) {
		skiff_close(ev->close_other);
		ev->close_other = NULL;
	}
	if (ev->close_self == so) {
		ev->close_self = NULL;
		skiff_close(so);
	}
}

/* ---- API misuse ---- */

static void socket_of_unregistered_type_is_eprotonosupport(void **state)
{
	struct harness *h = *state;
	struct socket *so = (struct socket *)1;

	/* (SOCK_STREAM is TCP's since inet_init registers it) */
	assert_int_equal(skiff_socket(&h->st, SOCK_RAW, &so), -EPROTONOSUPPORT);
	assert_null(so);
	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, NULL), -EINVAL);
	assert_int_equal(skiff_socket(NULL, SOCK_DGRAM, &so), -EINVAL);
	/* the Linux type flags are accepted: every skiff socket is non-blocking */
	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM | SOCK_NONBLOCK, &so), 0);
	skiff_close(so);
}

static void calls_on_no_socket_are_ebadf(void **state)
{
	struct sockaddr_in sin = t_sin(H_ADDR, 7);
	char buf[4];

	(void)state;
	assert_int_equal(skiff_bind(NULL, &sin), -EBADF);
	assert_int_equal(skiff_connect(NULL, &sin), -EBADF);
	assert_int_equal(skiff_sendto(NULL, "x", 1, &sin), -EBADF);
	assert_int_equal(skiff_recvfrom(NULL, buf, sizeof(buf), NULL), -EBADF);
	assert_int_equal(skiff_close(NULL), -EBADF);
	assert_int_equal(skiff_getsockname(NULL, &sin), -EBADF);
	assert_int_equal(skiff_setsockopt_rcvbuf(NULL, 1), -EBADF);
}

static void non_inet_addresses_are_eafnosupport(void **state)
{
	struct harness *h = *state;
	struct sockaddr_in sin = t_sin(H_PEER, 7);
	struct socket *so;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	sin.sin_family = AF_INET6;
	assert_int_equal(skiff_bind(so, &sin), -EAFNOSUPPORT);
	assert_int_equal(skiff_connect(so, &sin), -EAFNOSUPPORT);
	assert_int_equal(skiff_sendto(so, "x", 1, &sin), -EAFNOSUPPORT);
	assert_int_equal(skiff_bind(so, NULL), -EINVAL);
	assert_int_equal(skiff_connect(so, NULL), -EINVAL);
	sin = t_sin(0, 7);
	assert_int_equal(skiff_connect(so, &sin), -EINVAL);	/* nobody to connect to */
	assert_int_equal(skiff_setsockopt_rcvbuf(so, 0), -EINVAL);
	skiff_close(so);
}

static void bind_to_foreign_address_is_eaddrnotavail(void **state)
{
	struct harness *h = *state;
	struct sockaddr_in sin = t_sin(H_PEER, 7);
	struct socket *so;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &so), 0);
	assert_int_equal(skiff_bind(so, &sin), -EADDRNOTAVAIL);
	assert_int_equal(harness_port_refs(h, H_PEER, IPPROTO_UDP, htons(7)), 0);
	skiff_close(so);
}

static void connect_then_disconnect_with_af_unspec(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	struct sockaddr_in peer = t_sin(H_PEER, T_PEER_PORT), unspec;
	char buf[8];

	assert_int_equal(skiff_connect(so, &peer), 0);
	t_rx_udp(h, H_ADDR, T_PEER_PORT + 1, 7000, "a", 1, T_CSUM_OK);	/* not the peer */
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), NULL), -EAGAIN);
	memset(&unspec, 0, sizeof(unspec));
	unspec.sin_family = AF_UNSPEC;
	assert_int_equal(skiff_connect(so, &unspec), 0);
	t_rx_udp(h, H_ADDR, T_PEER_PORT + 1, 7000, "b", 1, T_CSUM_OK);
	assert_int_equal(skiff_recvfrom(so, buf, sizeof(buf), NULL), 1);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(skiff_sendto(so, "x", 1, NULL), -EDESTADDRREQ);
	fakedev_purge(&h->fd);
	skiff_close(so);
}

/* ---- readiness events ---- */

static void readable_event_is_delivered_once_per_burst(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	struct events ev = { 0 };

	skiff_set_handler(so, record, &ev);
	assert_int_equal(skiff_poll(so), SOCK_EV_OUT);
	rx_burst(h, 7000, 3);			/* three datagrams, one burst */
	assert_int_equal(ev.calls, 1);
	assert_int_equal(ev.last, SOCK_EV_IN | SOCK_EV_OUT);
	stack_poll(&h->st);			/* nothing new: no call */
	assert_int_equal(ev.calls, 1);
	rx_burst(h, 7000, 1);			/* edge: new data, new call */
	assert_int_equal(ev.calls, 2);

	ev.drain = true;
	rx_burst(h, 7000, 1);
	assert_int_equal(ev.calls, 3);
	assert_int_equal(skiff_poll(so), SOCK_EV_OUT);
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);

	skiff_set_handler(so, NULL, NULL);	/* no handler: no calls */
	rx_burst(h, 7000, 1);
	assert_int_equal(ev.calls, 3);
	skiff_close(so);
}

static void setting_a_handler_reports_data_already_queued(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);
	struct events ev = { 0 };

	rx_burst(h, 7000, 1);
	skiff_set_handler(so, record, &ev);
	assert_int_equal(ev.calls, 0);
	stack_poll(&h->st);
	assert_int_equal(ev.calls, 1);
	assert_true(ev.last & SOCK_EV_IN);
	skiff_close(so);	/* with a datagram still queued: its frame goes back */
	assert_int_equal(fakedev_frames_in_use(&h->fd), 0);
}

static void handler_may_close_its_own_socket(void **state)
{
	struct harness *h = *state;
	struct socket *a = bound(h, 0, 7000), *b = bound(h, 0, 7001);
	struct events ea = { 0 }, eb = { 0 };

	ea.close_self = a;
	skiff_set_handler(a, record, &ea);
	skiff_set_handler(b, record, &eb);
	rx_burst(h, 7000, 2);
	rx_burst(h, 7001, 1);
	assert_int_equal(ea.calls, 1);
	assert_null(ea.close_self);		/* a is gone, with its queue */
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(7000)), 0);
	assert_int_equal(eb.calls, 1);
	/* 7000 is nobody's now */
	rx_burst(h, 7000, 1);
	assert_int_equal(ea.calls, 1);
	assert_int_equal(h->st.stats->udp_no_port, 1);
	fakedev_purge(&h->fd);
	skiff_close(b);
}

static void handler_may_close_another_ready_socket(void **state)
{
	struct harness *h = *state;
	struct socket *a = bound(h, 0, 7000), *b = bound(h, 0, 7001);
	struct events ea = { 0 }, eb = { 0 };
	uint8_t frame[256];
	size_t len;

	/* both become ready in the same burst, a first: a's handler closes b
	 * before b's turn, so b's handler must not run */
	ea.close_other = b;
	skiff_set_handler(a, record, &ea);
	skiff_set_handler(b, record, &eb);
	len = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, 7000, "a", 1,
			  T_CSUM_OK);
	assert_int_equal(fakedev_inject(&h->fd, frame, len), 0);
	len = t_udp_frame(frame, sizeof(frame), H_PEER, H_ADDR, T_PEER_PORT, 7001, "b", 1,
			  T_CSUM_OK);
	assert_int_equal(fakedev_inject(&h->fd, frame, len), 0);
	stack_poll(&h->st);
	assert_int_equal(ea.calls, 1);
	assert_int_equal(eb.calls, 0);
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(7001)), 0);
	skiff_close(a);
}

/* ---- bookkeeping ---- */

static void count_sock(void *arg, const struct sock *sk)
{
	int *n = arg;

	(void)sk;
	(*n)++;
}

static void sock_walk_visits_every_open_socket(void **state)
{
	struct harness *h = *state;
	struct socket *a = bound(h, 0, 7000), *b = bound(h, 0, 7001), *c;
	int n = 0;

	assert_int_equal(skiff_socket(&h->st, SOCK_DGRAM, &c), 0);
	sock_walk(&h->st, count_sock, &n);
	assert_int_equal(n, 3);
	skiff_close(b);
	n = 0;
	sock_walk(&h->st, count_sock, &n);
	assert_int_equal(n, 2);
	skiff_close(a);
	skiff_close(c);
}

static void getsockname_reports_the_bound_address(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, H_ADDR, 7000);
	struct sockaddr_in name;

	assert_int_equal(skiff_getsockname(so, &name), 0);
	assert_int_equal(name.sin_family, AF_INET);
	assert_int_equal(name.sin_addr.s_addr, H_ADDR);
	assert_int_equal(ntohs(name.sin_port), 7000);
	skiff_close(so);
}

static void teardown_closes_sockets_left_open_and_releases_ports(void **state)
{
	struct harness *h = *state;
	struct socket *so = bound(h, 0, 7000);

	(void)so;
	rx_burst(h, 7000, 2);	/* queued frames must be freed too */
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(7000)), 1);
	harness_fini(h);	/* asserts every frame is back */
	assert_int_equal(harness_port_refs(h, 0, IPPROTO_UDP, htons(7000)), 0);
	/* the fixture's teardown runs harness_fini again: give it a stack */
	assert_int_equal(harness_init(h, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_setup_peer, harness_teardown)
		T(socket_of_unregistered_type_is_eprotonosupport),
		T(calls_on_no_socket_are_ebadf),
		T(non_inet_addresses_are_eafnosupport),
		T(bind_to_foreign_address_is_eaddrnotavail),
		T(connect_then_disconnect_with_af_unspec),
		T(readable_event_is_delivered_once_per_burst),
		T(setting_a_handler_reports_data_already_queued),
		T(handler_may_close_its_own_socket),
		T(handler_may_close_another_ready_socket),
		T(sock_walk_visits_every_open_socket),
		T(getsockname_reports_the_bound_address),
		T(teardown_closes_sockets_left_open_and_releases_ports),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
