/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The UDP header (RFC 768) and udp_hdr_parse(), the checked parse the
 * daemon and the tests use.  Same field names as Linux's struct udphdr.
 * The XDP programs read only the ports, behind their own data_end checks.
 */
#ifndef SKIFF_PROTO_UDP_H
#define SKIFF_PROTO_UDP_H

#include <stddef.h>

#include <linux/types.h>

#include <skiff/proto/parse.h>

#define UDP_HLEN	8

struct udp_hdr {
	__be16 source;
	__be16 dest;
	__be16 len;	/* header and data */
	__sum16 check;	/* over IPv4, 0: none sent (RFC 768) */
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "UDP header is 8 bytes");

/*
 * The UDP header at p (len bytes: the IP payload).  *ulen the datagram's
 * length field, at least the header and at most len (bytes past it are
 * padding).  PROTO_SHORT if the header is cut, PROTO_LEN for a bad length.
 */
static inline enum proto_err udp_hdr_parse(const void *p, size_t len, const struct udp_hdr **uh,
					   size_t *ulen)
{
	const struct udp_hdr *h = p;
	size_t n;

	if (len < UDP_HLEN)
		return PROTO_SHORT;
	n = get_be16(&h->len);
	if (n < UDP_HLEN || n > len)
		return PROTO_LEN;
	*uh = h;
	*ulen = n;
	return PROTO_OK;
}

#endif /* SKIFF_PROTO_UDP_H */
