// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The composition root (Linux's inet_init in net/ipv4/af_inet.c): the one
 * place that knows every layer and brings them up over a core stack, bottom
 * to top: Ethernet, neighbours/ARP, IPv4, ICMP, the socket layer, then the
 * transports, which register with both the IP-protocol table and the socket
 * layer: UDP, then TCP.
 *
 * Teardown closes every socket first (sock_fini), while the transports they
 * belong to still exist, then takes the transports and the layers below
 * down in reverse order.
 */
#include "link/eth.h"
#include "link/neigh.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/ipv6.h"
#include "sock/inet.h"
#include "sock/socket.h"
#include "transport/tcp.h"
#include "transport/udp.h"

_Static_assert(SKIFF_SOMAXCONN == TCP_SOMAXCONN, "socket.h and tcp.h disagree on somaxconn");
_Static_assert(SKIFF_MAX_CONNS == TCP_MAX_CONNS, "socket.h and tcp.h disagree on the table size");

int inet_init(struct stack *st)
{
	int err;

	err = eth_init(st);
	if (err)
		return err;
	err = neigh_init(st);
	if (err)
		goto err_eth;
	err = ip_init(st);
	if (err)
		goto err_neigh;
	err = icmp_init(st);
	if (err)
		goto err_ip;
	err = ipv6_init(st);
	if (err)
		goto err_icmp;
	err = sock_init(st);
	if (err)
		goto err_ipv6;
	err = udp_init(st);
	if (err)
		goto err_sock;
	/* the socket layer learns of each transport here, so transports never
	 * include the layer above them */
	err = sock_register_proto(st, &udp_prot);
	if (err)
		goto err_udp;
	err = tcp_init(st);
	if (err)
		goto err_udp;
	err = sock_register_proto(st, &tcp_prot);
	if (err)
		goto err_tcp;
	return 0;

err_tcp:
	tcp_fini(st);
err_udp:
	udp_fini(st);

err_sock:
	sock_fini(st);
err_ipv6:
	ipv6_fini(st);
err_icmp:
	icmp_fini(st);
err_ip:
	ip_fini(st);
err_neigh:
	neigh_fini(st);
err_eth:
	/* eth_init() only set st->link_rcv and the ARP ethertype entry. */
	st->link_rcv = NULL;
	return err;
}

void inet_fini(struct stack *st)
{
	sock_fini(st);
	tcp_fini(st);
	udp_fini(st);
	ipv6_fini(st);
	icmp_fini(st);
	ip_fini(st);
	neigh_fini(st);
	st->link_rcv = NULL;
}
