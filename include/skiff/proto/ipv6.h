/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 (RFC 8200) wire formats for the daemon and the tests: the fixed
 * header and ip6_hdr_parse(), the fragment header, the next-header values
 * skiff walks.  Packed
 * with alignment 2: after a 14-byte Ethernet header the IPv6 header starts
 * at 2 mod 4 (AF_XDP frames have no NET_IP_ALIGN slack).  The XDP program
 * uses struct ip6_hdr and ip6_version() too, with its own data_end checks
 * (the verifier cannot use a length-checking parse helper).
 */
#ifndef SKIFF_PROTO_IPV6_H
#define SKIFF_PROTO_IPV6_H

#include <stddef.h>

#include <linux/types.h>

#include <skiff/proto/parse.h>

#define IPV6_HDR_LEN		40
#define IPV6_FRAG_HDR_LEN	8

/* next header values (IANA "Assigned Internet Protocol Numbers") */
#define SKIFF_NH_HOPOPTS	0
#define SKIFF_NH_TCP		6
#define SKIFF_NH_UDP		17
#define SKIFF_NH_ROUTING	43
#define SKIFF_NH_FRAGMENT	44
#define SKIFF_NH_NONE		59
#define SKIFF_NH_DSTOPTS	60

/* RFC 8200 3 */
struct ip6_hdr {
	__be32 vtc_flow;	/* version 4 bits, traffic class, flow label */
	__be16 plen;	/* payload length: what follows this header */
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
} __attribute__((packed, aligned(2)));

/* RFC 8200 4.5 */
struct ip6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset in 8-byte units << 3, 2 reserved bits, M */
	__be32 id;
} __attribute__((packed, aligned(2)));

#define IP6_FRAG_OFFSET_MASK	0xfff8	/* host order frag_off: offset << 3 */
#define IP6_FRAG_MORE		0x0001

/* RFC 8200 4.3-4.6: how hop-by-hop, routing and destination options
 * headers start; their length counts 8-octet units after the first 8. */
struct ip6_ext_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

_Static_assert(sizeof(struct ip6_hdr) == IPV6_HDR_LEN, "IPv6 header is 40 bytes");
_Static_assert(sizeof(struct ip6_frag_hdr) == IPV6_FRAG_HDR_LEN, "fragment header is 8 bytes");
_Static_assert(sizeof(struct ip6_ext_hdr) == 2, "an extension header starts with 2 bytes");

/*
 * The IPv6 header at p (len bytes): the fixed 40 bytes, version 6.  The
 * payload length is not checked against len: a quoted header (ICMPv6
 * errors) describes a packet longer than the quote, so input checks it
 * itself.  PROTO_SHORT if cut, PROTO_VERSION for another version.
 */
/* The version field: the first byte's high 4 bits. */
static inline unsigned int ip6_version(const struct ip6_hdr *h)
{
	return *(const __u8 *)h >> 4;
}

static inline enum proto_err ip6_hdr_parse(const void *p, size_t len, const struct ip6_hdr **ip6)
{
	const struct ip6_hdr *h = p;

	if (len < IPV6_HDR_LEN)
		return PROTO_SHORT;
	if (ip6_version(h) != 6)
		return PROTO_VERSION;
	*ip6 = h;
	return PROTO_OK;
}

/*
 * The extension header of type *nh (hop-by-hop, routing, destination
 * options or fragment) at p + *off, p being len bytes in all: PROTO_OK
 * with *nh set to the header it names next and *off moved past it (a
 * fragment header is 8 bytes, the others say their length), PROTO_SHORT
 * if it runs past len.  Which headers may come where, and how many, is
 * the caller's policy.
 */
static inline enum proto_err ip6_ext_next(const void *p, size_t len, size_t *off, __u8 *nh)
{
	const struct ip6_ext_hdr *e = (const struct ip6_ext_hdr *)((const __u8 *)p + *off);
	size_t elen;

	if (*off > len || len - *off < sizeof(*e))
		return PROTO_SHORT;
	elen = *nh == SKIFF_NH_FRAGMENT ? IPV6_FRAG_HDR_LEN : (e->hdrlen + 1u) * 8;
	if (elen > len - *off)
		return PROTO_SHORT;
	*nh = e->nexthdr;
	*off += elen;
	return PROTO_OK;
}

#endif
