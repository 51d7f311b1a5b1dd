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

#include <skiff/proto/icmp.h>

#include "core/clock.h"
#include "core/stack.h"
#include "core/timer.h"
#include "net/route.h"
#include "net/ip.h"

#ifndef ETH_P_IP
#define ETH_P_IP	0x0800
#endif

#define IP_HLEN		20		/* header without options */
#define IP_MAX_HLEN	60		/* IHL 15 */
#define IP_MAX_LEN	65535u		/* tot_len is 16 bits (RFC 791 3.1) */
#define IP_MIN_MTU	68		/* RFC 791 3.2: every module forwards 68 bytes */

#define IP_DF		0x4000		/* host order frag_off bits */
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

/* Fragments remembered per datagram under reassembly: an MTU of ~300 bytes
 * still reassembles a full 64 KiB datagram; a peer that needs more is
 * hostile and its datagram is dropped (ip_frag_mem). */
#define IP_REASM_MAX_FRAGS	256

/* Payload of a reassembly buffer starts here (after room for the largest
 * header), so the first fragment's header, whenever it comes, fits in front. */
#define IP_REASM_PAYLOAD_OFF	IP_MAX_HLEN

/* Destinations with their own ICMP error token bucket (Linux's inet_peer). */
#define ICMP_PEERS		32
#define ICMP_PEER_BURST		6		/* XRLIM_BURST_FACTOR */
#define ICMP_PEER_INTERVAL_NS	NSEC_PER_SEC	/* icmp_ratelimit = 1000 ms */

/* One fragment's payload range [start, end) in bytes. */
struct ipq_frag {
	uint16_t start;
	uint16_t end;
};

/* One datagram under reassembly (Linux's struct ipq). */
struct ipq {
	bool used;
	bool first_seen;	/* fragment offset 0 received */
	bool last_seen;		/* fragment without MF received: len known */
	uint8_t proto;
	uint8_t pkt_type;
	uint8_t ihl;		/* of the first fragment, bytes */
	uint16_t id;		/* network order */
	uint32_t saddr;
	uint32_t daddr;
	uint32_t len;		/* payload length, once last_seen */
	uint32_t meat;		/* payload bytes received (no overlaps, so <= len) */
	uint32_t mem;		/* bytes charged to the reassembly limit */
	uint64_t created;	/* st->now at the first fragment: the oldest is evicted */
	struct pkb *buf;	/* big-pool buffer: payload at IP_REASM_PAYLOAD_OFF */
	struct timer timer;	/* IP_REASM_TIMEOUT_NS after the first fragment */
	uint16_t n_frags;
	struct ipq_frag frags[IP_REASM_MAX_FRAGS];	/* sorted by start */
	uint8_t hdr[IP_MAX_HLEN];	/* the first fragment's header */
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

/*
 * Wire headers.  After a 14-byte Ethernet header the IPv4 header starts at 2
 * mod 4 (AF_XDP frames have no NET_IP_ALIGN slack), so these are packed with
 * alignment 2: the compiler then never assumes an aligned 32-bit field.
 * Same field names as Linux's struct iphdr; the ICMP header is
 * <skiff/proto/icmp.h>, shared with the XDP program.
 */
struct ip_hdr {				/* RFC 791 3.1 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint8_t ihl : 4, version : 4;
#else
	uint8_t version : 4, ihl : 4;
#endif
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
} __attribute__((packed, aligned(2)));


_Static_assert(sizeof(struct ip_hdr) == 20, "IPv4 header is 20 bytes");

struct ip_state {
	const struct net_protocol *protos[256];
	uint16_t ident;		/* next IP identification (host order) */

	/* reassembly */
	struct ipq reasm[IP_REASM_SLOTS];
	uint32_t reasm_mem;	/* bytes held by all datagrams */
	uint32_t reasm_count;	/* datagrams under reassembly */
	uint32_t reasm_limit;	/* cfg->reasm_max_bytes or IP_REASM_MAX_BYTES */

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

#endif /* SKIFF_IP_INTERNAL_H */
