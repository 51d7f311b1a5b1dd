/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A whole stack over the fake driver, with in-memory fakes of the BPF maps
 * (neighbours, owned ports), on the simulated clock.  Used by the unit tests
 * of every layer above core.
 */
#ifndef SKIFF_TEST_HARNESS_H
#define SKIFF_TEST_HARNESS_H

#include <stdint.h>

#include "core/stack.h"
#include "fakedev.h"

#define H_MAX_NEIGH 64
#define H_MAX_PORTS 64

struct harness_neigh {
	uint32_t ip;		/* IPv4 entries (the neigh map) */
	uint8_t ip6[16];	/* IPv6 entries (the neigh6 map), when v6 */
	int v6;
	uint8_t mac[6];
	uint64_t updated_ns;
	int used;
};

struct harness_port {
	uint32_t addr;
	uint8_t proto;
	uint16_t port;
	int refs;
};

struct harness {
	struct fakedev fd;
	struct stack st;
	struct stack_config cfg;
	struct harness_neigh neigh[H_MAX_NEIGH];	/* the fake shared neighbour maps */
	struct harness_port ports[H_MAX_PORTS];	/* the fake owned-ports map */
	uint64_t neigh_gen;
	int inet;		/* inet_init() was run */
};

/* Our side: MAC 02:00:00:00:00:01, 10.0.0.1/24 dedicated, gateway 10.0.0.254, MTU 1500. */
extern const uint8_t H_MAC[6];
/* The peer: MAC 02:00:00:00:00:02, 10.0.0.2. */
extern const uint8_t H_PEER_MAC[6];
#define H_ADDR		0x0100000aU	/* 10.0.0.1 in network order on little endian */
#define H_PEER		0x0200000aU	/* 10.0.0.2 */
/* An IPv4 address as sockets and TCP keep it: mapped (core/inaddr.h). */
#define H_A4(x)		(&(const union inet_addr){ .w = { 0, 0, htonl(0xffff), (x) } })

/* Set up fake clock at 1 s, fakedev, stack core; with_inet: also inet_init(). */
int harness_init(struct harness *h, int with_inet);
/* inet_fini, stack_fini, then assert every frame is back in the pool. */
void harness_fini(struct harness *h);
/* cmocka fixtures: a heap harness with inet and the peer in the neighbour map. */
int harness_setup_peer(void **state);
int harness_teardown(void **state);
/* Put a neighbour into the fake shared map. */
void harness_add_neigh(struct harness *h, uint32_t ip, const uint8_t mac[6]);
/* The same for the IPv6 map (neigh6). */
void harness_add_neigh6(struct harness *h, const uint8_t ip6[16], const uint8_t mac[6]);
/* Refs of an owned port in the fake map (0 if absent). */
int harness_port_refs(struct harness *h, uint32_t addr, uint8_t proto, uint16_t port);
/* Inject bytes as a received frame and run one stack_poll(). */
void harness_rx(struct harness *h, const void *frame, size_t len);
/* Advance the fake clock and run one stack_poll() (timers). */
void harness_advance(struct harness *h, uint64_t ns);
/* Fill the 20-byte IPv4 header at ip (no options, TTL 64, checksum
 * computed) for plen bytes of payload; addresses network order. */
void harness_ip_hdr(void *ip, uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t id,
		    uint16_t frag_off_host, size_t plen);
/* Build Ethernet(peer -> us) + IPv4 + payload into buf; returns frame length. */
size_t harness_ip_frame(uint8_t *buf, size_t cap, uint32_t saddr, uint32_t daddr, uint8_t proto,
			uint16_t id, uint16_t frag_off_host, const void *payload, size_t plen);

#endif /* SKIFF_TEST_HARNESS_H */
