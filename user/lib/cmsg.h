/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ancillary data (control messages) of skiff sockets, as Linux reads and
 * writes them (RFC 3542, man 3 cmsg, 7 ip, 7 ipv6): pure functions over
 * the caller's bytes, no library state, so tests/unit/test_cmsg.c runs
 * them on crafted buffers.
 *
 * Receive: sa_cmsg_build() writes what a datagram's record says for the
 * options the socket has on (SA_RX_*), in Linux's order, truncating as
 * Linux's put_cmsg() does (MSG_CTRUNC).  Send: sa_cmsg_parse() walks the
 * control buffer as Linux's ip_cmsg_send() (an IPv4 destination),
 * ip6_datagram_send_ctl() (IPv6) or sock_cmsg_send() (TCP) and says what
 * the message asks, or Linux's errno; what skiff cannot do (IP options,
 * IPv6 extension headers, SO_MARK...) is EOPNOTSUPP.
 */
#ifndef SKIFF_LIB_CMSG_H
#define SKIFF_LIB_CMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "skiff/app_shm.h"

/* Receive options of a socket (IP_PKTINFO... set to 1). */
#define SA_RX_PKTINFO 0x01u	/* IP_PKTINFO */
#define SA_RX_TTL 0x02u		/* IP_RECVTTL */
#define SA_RX_TOS 0x04u		/* IP_RECVTOS */
#define SA_RX6_PKTINFO 0x08u	/* IPV6_RECVPKTINFO */
#define SA_RX6_HOPLIMIT 0x10u	/* IPV6_RECVHOPLIMIT */
#define SA_RX6_TCLASS 0x20u	/* IPV6_RECVTCLASS */

/* The SA_RX_* bit of option (level, name), 0 when it is none of them. */
unsigned int sa_rxopt_bit(int level, int name);

/*
 * Write the control messages of datagram record d, received by a socket of
 * family with receive options rxopts on interface ifindex, into
 * msg->msg_control (msg_controllen bytes); msg_controllen becomes the
 * bytes written and MSG_CTRUNC is or-ed into msg_flags when they did not
 * all fit.
 */
void sa_cmsg_build(struct msghdr *msg, int family, unsigned int rxopts, uint32_t ifindex,
		   const struct skiff_app_dgram *d);

/* What a sendmsg's control messages ask. */
struct sa_txctl {
	uint8_t flags;	  /* SKIFF_APP_DG_*: which of the below to use */
	uint8_t ttl, tos;
	uint8_t src4[4];  /* SKIFF_APP_DG_SRC, IPv4 destination */
	uint8_t src6[16]; /* SKIFF_APP_DG_SRC, IPv6 destination */
	uint32_t ifindex; /* ipi_ifindex / ipi6_ifindex asked for (0: none) */
};

/*
 * Parse msg's control messages for a send on a socket of family (stream:
 * a TCP socket) to an IPv4 (dst4) or IPv6 destination, whose scope id (a
 * link-local one's interface, else 0) is oif.  0 and *out, or
 * -errno: EINVAL for a malformed message or one Linux refuses,
 * EOPNOTSUPP for one skiff cannot honour, ENOBUFS for a control length
 * over INT_MAX, EFAULT for a length without a buffer.  ifindex checks
 * (skiffd's interface) are left to the caller.
 */
int sa_cmsg_parse(const struct msghdr *msg, int family, bool stream, bool dst4, uint32_t oif,
		  struct sa_txctl *out);

#endif /* SKIFF_LIB_CMSG_H */
