/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ICMPv4 header (RFC 792), shared by the XDP program and the daemon.
 * <linux/icmp.h> has the same struct but, outside the kernel, pulls in
 * glibc's <sys/socket.h> through <linux/if.h>, which the BPF build must not
 * reach (docs/bpf-build.md).  Field names are Linux's struct icmphdr's.
 *
 * Packed with alignment 2: after a 14-byte Ethernet header and a 20-byte
 * IPv4 header the ICMP header starts at 2 mod 4 in an AF_XDP frame, so the
 * compiler must never assume an aligned 32-bit field.
 */
#ifndef SKIFF_PROTO_ICMP_H
#define SKIFF_PROTO_ICMP_H

#include <linux/types.h>

struct icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		__be32 gateway;
		struct {
			__be16 unused;
			__be16 mtu;
		} frag;
		__u8 pointer; /* parameter problem */
	} un;
} __attribute__((packed, aligned(2)));

_Static_assert(sizeof(struct icmp_hdr) == 8, "ICMP header is 8 bytes");

#endif
