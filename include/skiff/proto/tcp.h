/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TCP header (RFC 9293 3.1) and its options (RFC 9293 3.2, RFC 7323,
 * RFC 2018): the struct, tcp_hdr_parse() and tcp_opt_next(), the checked
 * parses the daemon and the tests use.  The XDP programs read only the
 * ports, behind their own data_end checks.
 */
#ifndef SKIFF_PROTO_TCP_H
#define SKIFF_PROTO_TCP_H

#include <stddef.h>

#include <linux/types.h>

#include <skiff/proto/parse.h>

#define TCP_HDR_LEN	20	/* without options */
#define TCP_MAX_HDR_LEN	60	/* data offset 15 */

/* flags (the byte after the data offset) */
#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_PSH	0x08
#define TCPF_ACK	0x10
#define TCPF_URG	0x20
#define TCPF_ECE	0x40
#define TCPF_CWR	0x80

/* option kinds */
#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WS	3
#define TCPOPT_SACK_OK	4
#define TCPOPT_SACK	5
#define TCPOPT_TS	8

struct tcp_hdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u8 res1 : 4, doff : 4;
#else
	__u8 doff : 4, res1 : 4;
#endif
	__u8 flags;	/* TCPF_* */
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct tcp_hdr) == TCP_HDR_LEN, "TCP header is 20 bytes");

/*
 * The TCP header at p (len bytes: the segment).  *hlen the data offset in
 * bytes, at least 20 and inside len, so the options (hlen - 20 bytes after
 * the header) and the text after them lie inside len.  PROTO_SHORT if the
 * fixed header is cut, PROTO_HLEN for a bad data offset.
 */
static inline enum proto_err tcp_hdr_parse(const void *p, size_t len, const struct tcp_hdr **th,
					   size_t *hlen)
{
	const struct tcp_hdr *h = p;
	size_t doff;

	if (len < TCP_HDR_LEN)
		return PROTO_SHORT;
	doff = h->doff * 4u;
	if (doff < TCP_HDR_LEN || doff > len)
		return PROTO_HLEN;
	*th = h;
	*hlen = doff;
	return PROTO_OK;
}

/* One option: its kind, its length (kind and length bytes included) and where it starts. */
struct tcp_opt {
	__u8 kind;
	__u8 len;
	const __u8 *p;
};

/*
 * The next option of the len option bytes at opt, from *off on: 1 with *o
 * filled and *off moved past it, 0 at the end.  RFC 9293 3.2: NOPs are
 * skipped; EOL, a length below 2 or one that runs past the options end the
 * list (what came before stays valid).
 */
static inline int tcp_opt_next(const __u8 *opt, size_t len, size_t *off, struct tcp_opt *o)
{
	size_t i = *off;

	while (i < len && opt[i] == TCPOPT_NOP)
		i++;
	if (i >= len || opt[i] == TCPOPT_EOL || i + 1 >= len || opt[i + 1] < 2 ||
	    opt[i + 1] > len - i) {
		*off = len;
		return 0;
	}
	o->kind = opt[i];
	o->len = opt[i + 1];
	o->p = opt + i;
	*off = i + o->len;
	return 1;
}

#endif /* SKIFF_PROTO_TCP_H */
