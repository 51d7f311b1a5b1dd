/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv4 header (RFC 791 3.1) and ip_hdr_parse(), the checked parse the
 * daemon (input, ICMP quotes) and the tests use.  Same field names as
 * Linux's struct iphdr.  Packed with alignment 2: after a 14-byte Ethernet
 * header the IPv4 header starts at 2 mod 4 (AF_XDP frames have no
 * NET_IP_ALIGN slack), so the compiler never assumes an aligned 32-bit
 * field.  The XDP program reads IPv4 through struct ip_hdr too, with its
 * own data_end checks: the verifier only accepts bounds proved against
 * data_end, which a length-checking helper cannot give it.
 */
#ifndef SKIFF_PROTO_IPV4_H
#define SKIFF_PROTO_IPV4_H

#include <stddef.h>

#include <linux/types.h>

#include <skiff/proto/parse.h>

#define IP_HLEN		20		/* header without options */
#define IP_MAX_HLEN	60		/* IHL 15 */

/* frag_off bits, host order */
#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

struct ip_hdr {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u8 ihl : 4, version : 4;
#else
	__u8 version : 4, ihl : 4;
#endif
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct ip_hdr) == IP_HLEN, "IPv4 header is 20 bytes");

/*
 * The IPv4 header at p (len bytes): version 4, an IHL of at least 5 and
 * the options it counts inside len; *hlen its length in bytes.  tot_len is
 * not checked against len: a quoted header (ICMP errors) describes a
 * datagram longer than the quote, so input checks it itself.
 */
static inline enum proto_err ip_hdr_parse(const void *p, size_t len, const struct ip_hdr **iph,
					  size_t *hlen)
{
	const struct ip_hdr *h = p;
	size_t ihl;

	if (len < IP_HLEN)
		return PROTO_SHORT;
	if (h->version != 4)
		return PROTO_VERSION;
	ihl = h->ihl * 4u;
	if (ihl < IP_HLEN || ihl > len)
		return PROTO_HLEN;
	*iph = h;
	*hlen = ihl;
	return PROTO_OK;
}

#endif /* SKIFF_PROTO_IPV4_H */
