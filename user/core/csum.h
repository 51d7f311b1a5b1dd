/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 * Sums are 32-bit accumulators in network byte order semantics, folded to
 * 16 bits at the end, as Linux's csum_partial/csum_fold.
 */
#ifndef SKIFF_CSUM_H
#define SKIFF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of len bytes added to sum (unfolded). */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
/* Fold to 16 bits and complement: the value to store in a header. */
uint16_t csum_fold(uint32_t sum);
/* Checksum of an IPv4 header of ihl 32-bit words (0 when the stored one is right). */
uint16_t ip_fast_csum(const void *iph, unsigned int ihl);
/* Pseudo-header sum for UDP/TCP (addresses network order, len host order). */
uint32_t csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr, uint32_t len, uint8_t proto,
			    uint32_t sum);
uint16_t csum_tcpudp_magic(uint32_t saddr, uint32_t daddr, uint32_t len, uint8_t proto,
			   uint32_t sum);
/* Two unfolded sums added with end-around carry (RFC 1071 2(A)). */
static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < a);
}
/* RFC 1624 eqn 3: stored checksum after a 16-bit field changes from old to new. */
uint16_t csum_replace2(uint16_t check, uint16_t old, uint16_t new_);

#endif /* SKIFF_CSUM_H */
