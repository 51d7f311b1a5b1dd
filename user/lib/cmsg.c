// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control messages of skiff sockets, as Linux's (cmsg.h says which of its
 * functions each follows).  The caller's buffer may be unaligned: every
 * header is copied in and out with memcpy.
 */
#include "cmsg.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>

#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif
#ifndef SO_TIMESTAMPING_NEW
#define SO_TIMESTAMPING_NEW 65
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME 61
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#define SA_IPV6_2292PKTINFO 2
#define SA_IPV6_2292HOPOPTS 3
#define SA_IPV6_2292DSTOPTS 4
#define SA_IPV6_2292RTHDR 5
#define SA_IPV6_2292HOPLIMIT 8
#define SA_IPV6_FLOWINFO 11

unsigned int sa_rxopt_bit(int level, int name)
{
	static const struct {
		int level, name;
		unsigned int bit;
	} opts[] = {
		{IPPROTO_IP, IP_PKTINFO, SA_RX_PKTINFO},
		{IPPROTO_IP, IP_RECVTTL, SA_RX_TTL},
		{IPPROTO_IP, IP_RECVTOS, SA_RX_TOS},
		{IPPROTO_IPV6, IPV6_RECVPKTINFO, SA_RX6_PKTINFO},
		{IPPROTO_IPV6, IPV6_RECVHOPLIMIT, SA_RX6_HOPLIMIT},
		{IPPROTO_IPV6, IPV6_RECVTCLASS, SA_RX6_TCLASS},
	};
	size_t k;

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
		if (opts[k].level == level && opts[k].name == name)
			return opts[k].bit;
	return 0;
}

/* Linux's put_cmsg(): a message too long for what is left is cut (and
 * MSG_CTRUNC set); less than a header left writes nothing. */
static void put(struct msghdr *msg, uint8_t **p, size_t *left, int level, int type,
		const void *data, size_t len)
{
	struct cmsghdr h;
	size_t cmlen = CMSG_LEN(len);

	if (!*p || *left < sizeof(h)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (*left < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = *left;
	}
	memset(&h, 0, sizeof(h));
	h.cmsg_len = cmlen;
	h.cmsg_level = level;
	h.cmsg_type = type;
	memcpy(*p, &h, sizeof(h));
	memcpy(*p + sizeof(h), data, cmlen - sizeof(h));
	cmlen = CMSG_SPACE(len) < *left ? CMSG_SPACE(len) : *left;
	*p += cmlen;
	*left -= cmlen;
}

static bool is_mapped4(const uint8_t a[16])
{
	static const uint8_t pfx[12] = {[10] = 0xff, [11] = 0xff};

	return !memcmp(a, pfx, sizeof(pfx));
}

void sa_cmsg_build(struct msghdr *msg, int family, unsigned int rxopts, uint32_t ifindex,
		   const struct skiff_app_dgram *d)
{
	uint8_t *p = msg->msg_control;
	size_t left = msg->msg_control ? msg->msg_controllen : 0;
	/* an AF_INET6 socket's IPv4 datagrams come as ::ffff:a.b.c.d */
	bool v4 = family == AF_INET || is_mapped4(d->laddr);
	const uint8_t *a4 = family == AF_INET ? d->laddr : d->laddr + 12;
	int v;

	if (family == AF_INET6 && (rxopts & SA_RX6_PKTINFO)) {
		/* ip6_datagram_recv_common_ctl(): for both families */
		struct in6_pktinfo pi6;

		memcpy(&pi6.ipi6_addr, d->laddr, 16);
		pi6.ipi6_ifindex = ifindex;
		put(msg, &p, &left, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
	}
	if (v4) {
		/* ip_cmsg_recv_offset(): IP_PKTINFO, IP_TTL, IP_TOS in that order */
		if (rxopts & SA_RX_PKTINFO) {
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_ifindex = (int)ifindex;
			memcpy(&pi.ipi_spec_dst, d->spec_dst4, 4);
			memcpy(&pi.ipi_addr, a4, 4);
			put(msg, &p, &left, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
		if (rxopts & SA_RX_TTL) {
			v = d->ttl;
			put(msg, &p, &left, IPPROTO_IP, IP_TTL, &v, sizeof(v));
		}
		if (rxopts & SA_RX_TOS)
			put(msg, &p, &left, IPPROTO_IP, IP_TOS, &d->tos, 1);
	} else {
		/* ip6_datagram_recv_specific_ctl(): IPV6_HOPLIMIT, IPV6_TCLASS */
		if (rxopts & SA_RX6_HOPLIMIT) {
			v = d->ttl;
			put(msg, &p, &left, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, sizeof(v));
		}
		if (rxopts & SA_RX6_TCLASS) {
			v = d->tos;
			put(msg, &p, &left, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
		}
	}
	msg->msg_controllen = msg->msg_control ? (size_t)(p - (uint8_t *)msg->msg_control) : 0;
}

/* The walk of Linux's for_each_cmsghdr() with CMSG_OK(): the next header
 * at *off, false at the end; -EINVAL in *err for a bad length. */
static bool next(const struct msghdr *msg, size_t *off, struct cmsghdr *h, int *err)
{
	size_t len = msg->msg_controllen;

	if (*off + sizeof(*h) > len)
		return false;
	memcpy(h, (const uint8_t *)msg->msg_control + *off, sizeof(*h));
	if (h->cmsg_len < sizeof(*h) || h->cmsg_len > len - *off) {
		*err = -EINVAL;
		return false;
	}
	return true;
}

static void advance(const struct cmsghdr *h, size_t *off)
{
	*off += CMSG_ALIGN(h->cmsg_len);
}

static const uint8_t *data_of(const struct msghdr *msg, size_t off)
{
	return (const uint8_t *)msg->msg_control + off + CMSG_LEN(0);
}

static int int_of(const struct msghdr *msg, size_t off)
{
	int v;

	memcpy(&v, data_of(msg, off), sizeof(v));
	return v;
}

/* The int of a message that must hold exactly one: 0 and *v, or -EINVAL. */
static int int_msg(const struct msghdr *msg, size_t off, const struct cmsghdr *h, int *v)
{
	if (h->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EINVAL;
	*v = int_of(msg, off);
	return 0;
}

/* v as this datagram's TTL / hop limit (flag SKIFF_APP_DG_TTL) or TOS /
 * traffic class: lo..255, else EINVAL; -1 (when lo allows it): the
 * socket's. */
static int take(struct sa_txctl *o, uint8_t flag, int v, int lo)
{
	if (v < lo || v > 255)
		return -EINVAL;
	if (v < 0)
		return 0;
	if (flag == SKIFF_APP_DG_TTL)
		o->ttl = (uint8_t)v;
	else
		o->tos = (uint8_t)v;
	o->flags |= flag;
	return 0;
}

/* __sock_cmsg_send(): SOL_SOCKET messages. */
static int sol_socket(const struct cmsghdr *h)
{
	switch (h->cmsg_type) {
	case SCM_RIGHTS:
	case SCM_CREDENTIALS:
		return 0; /* Unix sockets' business: ignored, as Linux */
	case SO_MARK:
	case SO_TIMESTAMPING_OLD:
	case SO_TIMESTAMPING_NEW:
	case SCM_TXTIME:
	case SO_PRIORITY:
		return -EOPNOTSUPP; /* Linux has them; skiff does not */
	default:
		return -EINVAL;
	}
}

/* ip_cmsg_send(): an IPv4 destination (allow6: an AF_INET6 socket, whose
 * IPV6_PKTINFO with a mapped address is taken too). */
static int ip_msg(const struct msghdr *msg, size_t off, const struct cmsghdr *h, bool allow6,
		  struct sa_txctl *o)
{
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;
	int v;

	if (allow6 && h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_PKTINFO) {
		if (h->cmsg_len < CMSG_LEN(sizeof(pi6)))
			return -EINVAL;
		memcpy(&pi6, data_of(msg, off), sizeof(pi6));
		if (!is_mapped4(pi6.ipi6_addr.s6_addr))
			return -EINVAL;
		if (pi6.ipi6_ifindex)
			o->ifindex = pi6.ipi6_ifindex;
		memcpy(o->src4, pi6.ipi6_addr.s6_addr + 12, 4);
		o->flags |= SKIFF_APP_DG_SRC;
		return 0;
	}
	if (h->cmsg_level != IPPROTO_IP)
		return 0; /* another level: ignored, as Linux */
	switch (h->cmsg_type) {
	case IP_PKTINFO:
		if (h->cmsg_len != CMSG_LEN(sizeof(pi)))
			return -EINVAL;
		memcpy(&pi, data_of(msg, off), sizeof(pi));
		if (pi.ipi_ifindex)
			o->ifindex = (uint32_t)pi.ipi_ifindex;
		/* ipi_spec_dst is the source (0: routed); ipi_addr is ignored */
		memcpy(o->src4, &pi.ipi_spec_dst, 4);
		o->flags |= SKIFF_APP_DG_SRC;
		return 0;
	case IP_TTL:
		return int_msg(msg, off, h, &v) ? -EINVAL : take(o, SKIFF_APP_DG_TTL, v, 1);
	case IP_TOS:
		if (h->cmsg_len == CMSG_LEN(sizeof(int)))
			v = int_of(msg, off);
		else if (h->cmsg_len == CMSG_LEN(1))
			v = *data_of(msg, off);
		else
			return -EINVAL;
		return take(o, SKIFF_APP_DG_TOS, v, 0);
	case IP_PROTOCOL: /* checked; UDP ignores it, as Linux's */
		return int_msg(msg, off, h, &v) || v < 1 || v > 255 ? -EINVAL : 0;
	case IP_RETOPTS:
		return -EOPNOTSUPP; /* IP options: skiff sends none */
	default:
		return -EINVAL;
	}
}

/* ip6_datagram_send_ctl(): an IPv6 destination. */
static int ip6_msg(const struct msghdr *msg, size_t off, const struct cmsghdr *h,
		   uint32_t oif, struct sa_txctl *o)
{
	struct in6_pktinfo pi6;
	int v;

	if (h->cmsg_level != IPPROTO_IPV6)
		return 0; /* another level: ignored, as Linux */
	switch (h->cmsg_type) {
	case IPV6_PKTINFO:
	case SA_IPV6_2292PKTINFO:
		if (h->cmsg_len < CMSG_LEN(sizeof(pi6)))
			return -EINVAL;
		memcpy(&pi6, data_of(msg, off), sizeof(pi6));
		/* an interface other than the destination's scope */
		if (pi6.ipi6_ifindex && oif && pi6.ipi6_ifindex != oif)
			return -EINVAL;
		if (pi6.ipi6_ifindex)
			o->ifindex = pi6.ipi6_ifindex;
		/* a link-local source needs its link (its own or the destination's) */
		if (!o->ifindex && !oif && pi6.ipi6_addr.s6_addr[0] == 0xfe &&
		    (pi6.ipi6_addr.s6_addr[1] & 0xc0) == 0x80)
			return -EINVAL;
		if (!IN6_IS_ADDR_UNSPECIFIED(&pi6.ipi6_addr)) {
			memcpy(o->src6, &pi6.ipi6_addr, 16);
			o->flags |= SKIFF_APP_DG_SRC;
		}
		return 0;
	case IPV6_HOPLIMIT:
	case SA_IPV6_2292HOPLIMIT:
		return int_msg(msg, off, h, &v) ? -EINVAL : take(o, SKIFF_APP_DG_TTL, v, -1);
	case IPV6_TCLASS:
		return int_msg(msg, off, h, &v) ? -EINVAL : take(o, SKIFF_APP_DG_TOS, v, -1);
	case SA_IPV6_FLOWINFO:
	case IPV6_DONTFRAG:
	case IPV6_HOPOPTS:
	case IPV6_DSTOPTS:
	case IPV6_RTHDRDSTOPTS:
	case IPV6_RTHDR:
	case SA_IPV6_2292HOPOPTS:
	case SA_IPV6_2292DSTOPTS:
	case SA_IPV6_2292RTHDR:
		return -EOPNOTSUPP; /* flow labels, extension headers: not on skiff */
	default:
		return -EINVAL;
	}
}

int sa_cmsg_parse(const struct msghdr *msg, int family, bool stream, bool dst4, uint32_t oif,
		  struct sa_txctl *out)
{
	struct cmsghdr h;
	size_t off;
	int err = 0, pass;

	memset(out, 0, sizeof(*out));
	if (!msg->msg_controllen)
		return 0;
	if (msg->msg_controllen > INT_MAX)
		return -ENOBUFS;
	if (!msg->msg_control)
		return -EFAULT;
	/* UDP: udp_cmsg_send() looks at SOL_UDP first, then the IP layer */
	for (pass = stream ? 1 : 0; pass < 2; pass++) {
		for (off = 0; !err && next(msg, &off, &h, &err); advance(&h, &off)) {
			if (pass == 0) {
				if (h.cmsg_level == SOL_UDP)
					err = h.cmsg_type == UDP_SEGMENT &&
							      h.cmsg_len == CMSG_LEN(sizeof(uint16_t))
						      ? -EOPNOTSUPP /* GSO: not on skiff */
						      : -EINVAL;
				continue;
			}
			if (h.cmsg_level == SOL_SOCKET)
				err = sol_socket(&h);
			else if (stream || h.cmsg_level == SOL_UDP)
				continue; /* TCP reads SOL_SOCKET only */
			else if (dst4)
				err = ip_msg(msg, off, &h, family == AF_INET6, out);
			else
				err = ip6_msg(msg, off, &h, oif, out);
		}
		if (err)
			break;
	}
	/* tcp_sendmsg_locked(): any error of sock_cmsg_send() is EINVAL */
	if (err && stream && err != -EOPNOTSUPP)
		err = -EINVAL;
	return err;
}
