/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * State and helpers shared by the files of the network layer only
 * (ip_input.c, ip_output.c, ip_fragment.c, route.c, icmp.c): struct
 * ip_state, which hangs off struct stack::ip, the reassembly queues, the
 * ICMP rate limiter, and the address classification predicates.  Nothing
 * outside user/net/ includes this file; the contract is ip.h / icmp.h.
 */
#ifndef SKIFF_IP_INTERNAL_H
#define SKIFF_IP_INTERNAL_H

#include <arpa/inet.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <skiff/proto/icmp.h>
#include <skiff/proto/ipv4.h>
#include <skiff/proto/ipv6.h>

#include "core/clock.h"
#include "core/stack.h"
#include "core/timer.h"
#include "net/route.h"
#include "net/ip.h"
#include "net/ipv6.h"

#ifndef ETH_P_IP
#define ETH_P_IP	0x0800
#endif

#define IP_MAX_LEN	65535u		/* tot_len is 16 bits (RFC 791 3.1) */
#define IP_MIN_MTU	68		/* RFC 791 3.2: every module forwards 68 bytes */

/* Fragments remembered per datagram under reassembly: an MTU of ~300 bytes
 * still reassembles a full 64 KiB datagram; a peer that needs more is
 * hostile and its datagram is dropped (ip_frag_mem). */
#define IP_REASM_MAX_FRAGS	256

/* The part of a fragment before its payload that is kept for the
 * reassembled datagram: IPv4's header with options (60 bytes at most);
 * IPv6's header and the extension headers before the fragment header
 * (RFC 8200 4.5, "per-fragment headers"), bounded here: a longer chain in
 * front of a fragment header is dropped (ip6_ext_chain). */
#define IP_REASM_MAX_HDR	128

/* Payload of a reassembly buffer starts here (after room for the largest
 * header), so the first fragment's header, whenever it comes, fits in front. */
#define IP_REASM_PAYLOAD_OFF	IP_REASM_MAX_HDR

/* Destinations with their own ICMP error token bucket (Linux's inet_peer). */
#define ICMP_PEERS		32
#define ICMP_PEER_BURST		6		/* XRLIM_BURST_FACTOR */
#define ICMP_PEER_INTERVAL_NS	NSEC_PER_SEC	/* icmp_ratelimit = 1000 ms */

/* One fragment's payload range [start, end) in bytes. */
struct ipq_frag {
	uint16_t start;
	uint16_t end;
};

/*
 * Which datagram a fragment belongs to: RFC 791 (source, destination,
 * protocol, 16-bit identification) or RFC 8200 4.5 (source, destination,
 * 32-bit identification).  IPv4 addresses sit in the first 4 bytes.
 */
struct ipq_key {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* IPv4 protocol; IPv6: 0 (not part of the key) */
	uint32_t id;		/* network order */
	uint8_t saddr[16];
	uint8_t daddr[16];
};

/* One datagram under reassembly (Linux's struct ipq / frag_queue), of
 * either family: IPv4 and IPv6 share the table and its memory bound. */
struct ipq {
	bool used;
	bool first_seen;	/* fragment offset 0 received */
	bool last_seen;		/* fragment without MF received: len known */
	uint8_t pkt_type;
	uint8_t hlen;		/* bytes of hdr (the first fragment's), <= IP_REASM_MAX_HDR */
	uint8_t nh_off;		/* IPv6: where in hdr the fragment header was named */
	uint8_t nexthdr;	/* IPv6: the fragment header's next header */
	struct ipq_key key;
	uint32_t len;		/* payload length, once last_seen */
	uint32_t meat;		/* payload bytes received (no overlaps, so <= len) */
	uint32_t mem;		/* bytes charged to the reassembly limit */
	uint64_t created;	/* st->now at the first fragment: the oldest is evicted */
	struct pkb *buf;	/* big-pool buffer: payload at IP_REASM_PAYLOAD_OFF */
	struct timer timer;	/* reasm_timeout after the first fragment */
	uint16_t n_frags;
	struct ipq_frag frags[IP_REASM_MAX_FRAGS];	/* sorted by start */
	uint8_t eth[14];	/* the first fragment's Ethernet header (IPv6 replies) */
	uint8_t hdr[IP_REASM_MAX_HDR];	/* the first fragment's unfragmentable part */
};

/* One fragment as the family's input parsed it, for ipq_add(). */
struct ipq_frag_in {
	struct ipq_key key;
	uint32_t hlen;		/* unfragmentable part at pkb->data */
	uint32_t skip;		/* bytes from pkb->data to the payload (IPv6: + 8) */
	uint32_t start;		/* payload offset in the datagram, bytes */
	bool more;		/* MF / M flag */
	uint8_t nh_off;		/* IPv6 */
	uint8_t nexthdr;	/* IPv6 */
};

/* A token bucket counted in nanoseconds of credit (no division per packet). */
struct icmp_bucket {
	uint64_t credit;	/* ns of credit, at most burst * interval */
	uint64_t stamp;		/* when credit was last brought up to date */
};

struct icmp_peer {
	uint32_t daddr;		/* 0: unused */
	uint64_t last_used;
	struct icmp_bucket bucket;
};

struct ip_state {
	const struct net_protocol *protos[256];
	uint16_t ident;		/* next IP identification (host order) */

	/* reassembly */
	struct ipq reasm[IP_REASM_SLOTS];
	uint32_t reasm_mem;	/* bytes held by all datagrams */
	uint32_t reasm_count;	/* datagrams under reassembly */
	uint32_t reasm_limit;	/* cfg->reasm_max_bytes or IP_REASM_MAX_BYTES */
	uint64_t reasm_timeout;	/* ns: cfg->reasm_timeout_s or IP_REASM_TIMEOUT_NS */

	/* ICMP error rate limiting (icmp.c) */
	struct icmp_bucket icmp_global;
	struct icmp_peer icmp_peers[ICMP_PEERS];

	/* route.c: lookups that chose each route (ROUTE_SLOT_*, net/route.h) */
	uint64_t route_uses[ROUTE_SLOTS];
};

static inline struct ip_hdr *ip_hdr(const struct pkb *pkb)
{
	return (struct ip_hdr *)pkb_network_header(pkb);
}

/* Address classes, network order in, RFC 1122 3.2.1.3 / RFC 5735. */
static inline bool ipv4_is_multicast(uint32_t addr)
{
	return (ntohl(addr) & 0xf0000000u) == 0xe0000000u;
}

static inline bool ipv4_is_lbcast(uint32_t addr)
{
	return addr == 0xffffffffu;
}

static inline bool ipv4_is_loopback(uint32_t addr)
{
	return (ntohl(addr) & 0xff000000u) == 0x7f000000u;
}

static inline bool ipv4_is_zeronet(uint32_t addr)
{
	return (ntohl(addr) & 0xff000000u) == 0;
}

static inline bool ipv4_is_reserved_e(uint32_t addr)
{
	return (ntohl(addr) & 0xf0000000u) == 0xf0000000u;
}

static inline uint32_t inet_make_mask(unsigned int prefix_len)
{
	return prefix_len ? htonl(~0u << (32 - prefix_len)) : 0;
}

/* The directed (subnet) broadcast of one of our prefixes (prefix < 31). */
bool ip_is_subnet_bcast(const struct stack *st, uint32_t addr);

/* ip_input.c: deliver a complete datagram (data = network header, length
 * = tot_len) to its protocol handler.  Owns pkb. */
int ip_local_deliver(struct stack *st, struct pkb *pkb);

/* ip_fragment.c */
int ip_reasm_init(struct stack *st);
void ip_reasm_fini(struct stack *st);
/* Queue a validated fragment (data = network header).  Owns pkb.  Returns
 * the reassembled datagram (big-pool pkb, data = network header) when this
 * fragment completed it, else NULL. */
struct pkb *ip_defrag(struct stack *st, struct pkb *pkb);
/* The family-neutral part: queue f's payload (pkb: data = network header,
 * f->hlen + payload to its tail).  Owns pkb.  Returns the completed
 * datagram, data = the first fragment's unfragmentable part (copied from
 * it, its length fields not yet fixed) followed by the whole payload, with
 * *q_out the queue it came from (already freed but for its hdr/len/nh
 * fields, valid until the next ipq_add()); else NULL. */
struct pkb *ipq_add(struct stack *st, const struct ipq_frag_in *f, struct pkb *pkb,
		    const struct ipq **q_out);
/* IPv6 address classes (RFC 4291 2.4) */
static inline bool in6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool in6_is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

/* a and b agree on their first len bits. */
static inline bool in6_prefix_match(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int bytes = len / 8, bits = len % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !bits || !((a[bytes] ^ b[bytes]) & (uint8_t)(0xff00 >> bits));
}

static inline bool in6_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* One of our dedicated IPv6 addresses. */
static inline bool ipv6_is_local(const struct stack *st, const uint8_t *a)
{
	const struct stack_config *cfg = st->cfg;

	for (int i = 0; i < cfg->n_addrs6; i++)
		if (cfg->addrs6[i].dedicated && !memcmp(cfg->addrs6[i].addr, a, 16))
			return true;
	return false;
}

/* icmp.c: hand an ICMP or ICMPv6 error (pkb->data = the quoted IP header)
 * to the err_handler of proto on the worker that holds the quoted flow.
 * err a positive errno.  Owns pkb. */
void icmp_err_deliver(struct stack *st, uint8_t proto, struct pkb *pkb, int err, uint32_t info);

/* ipv6.c */
/* Send an upper-layer packet (data = its header) from src to dst, to the
 * link address dmac, with hop_limit.  Owns pkb. */
void ipv6_send_mac(struct stack *st, struct pkb *pkb, const uint8_t *src, const uint8_t *dst,
		   uint8_t nh, uint8_t hop_limit, const uint8_t *dmac);

/* ndisc.c: Neighbor Discovery (RFC 4861) */
int ndisc_init(struct stack *st);
void ndisc_fini(struct stack *st);
/* An NS or NA (ICMPv6 at pkb->data + off, checksum checked).  Owns pkb. */
void ndisc_rcv(struct stack *st, struct pkb *pkb, uint32_t off);
/* Send pkb (data = IPv6 header) to the on-link nexthop.  Owns pkb. */
int ndisc_output(struct stack *st, struct pkb *pkb, const uint8_t nexthop[16]);
struct neigh_info;
int ndisc_get(struct stack *st, const uint8_t ip6[16], struct neigh_info *ni);

/* ipv6.c: a datagram timed out with its first fragment (rebuilt at
 * buf->data: unfragmentable part + first payload): time exceeded, code 1
 * (RFC 8200 4.5).  Does not own buf. */
void ipv6_reasm_expired(struct stack *st, struct pkb *buf, const uint8_t *eth);

#endif /* SKIFF_IP_INTERNAL_H */
