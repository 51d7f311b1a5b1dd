// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in services, written against the socket API (sock/socket.h)
 * only, exactly as an application would be: echo (RFC 862) sends every
 * datagram back to its sender, discard (RFC 863) reads and forgets.
 *
 * Each service is one datagram socket bound to INADDR_ANY:port with an
 * edge-triggered handler that reads until -EAGAIN; echo answers from the
 * local address each datagram was sent to (skiff_recvmsg/skiff_sendmsg, the
 * IP_PKTINFO of skiff), so a client on any of our addresses sees the reply
 * come from where it sent.  TCP (SOCK_STREAM)
 * arrives with the TCP issue.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "apps/services.h"
#include "sock/socket.h"

/* RFC 768 over IPv4: the largest UDP payload. */
#define SERVICE_MAX_DGRAM 65507

struct service {
	struct socket *so;
	bool echo;			/* echo, else discard */
	uint8_t buf[SERVICE_MAX_DGRAM];	/* one datagram; allocated once, at start */
};

static void service_event(struct socket *so, uint32_t events, void *arg)
{
	struct service *svc = arg;
	struct sockaddr_in from, local;
	ssize_t n;

	if (!(events & (SOCK_EV_IN | SOCK_EV_ERR)))
		return;
	for (;;) {
		n = skiff_recvmsg(so, svc->buf, sizeof(svc->buf), &from, &local);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			continue;	/* a pending error, reported once: nothing to do */
		/* RFC 862: "send it back as received", from the address it
		 * came to (the socket is bound to INADDR_ANY).  A reply that
		 * cannot be sent now is lost, as the datagram service allows. */
		if (svc->echo)
			(void)skiff_sendmsg(so, svc->buf, (size_t)n, &from, &local);
	}
}

static int service_start(struct stack *st, int type, uint16_t port, bool echo,
			 struct service **out)
{
	struct sockaddr_in addr;
	struct service *svc;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (type == SOCK_STREAM)
		return -EPROTONOSUPPORT;	/* until TCP registers */
	if (type != SOCK_DGRAM)
		return -EINVAL;

	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->echo = echo;
	err = skiff_socket(st, SOCK_DGRAM, &svc->so);
	if (err)
		goto err_free;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	addr.sin_port = htons(port);
	err = skiff_bind(svc->so, &addr);
	if (err)
		goto err_close;
	skiff_set_handler(svc->so, service_event, svc);
	*out = svc;
	return 0;

err_close:
	skiff_close(svc->so);
err_free:
	free(svc);
	return err;
}

int echo_service_start(struct stack *st, int type, uint16_t port, struct service **out)
{
	return service_start(st, type, port, true, out);
}

int discard_service_start(struct stack *st, int type, uint16_t port, struct service **out)
{
	return service_start(st, type, port, false, out);
}

void service_stop(struct service *svc)
{
	if (!svc)
		return;
	skiff_close(svc->so);
	free(svc);
}
