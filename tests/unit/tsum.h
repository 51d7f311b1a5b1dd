/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Internet checksum (RFC 1071) the slow obvious way, shared by the test
 * helpers (iptest.h, udptest.h) so that what they build and check does not
 * depend on core/csum.c.  Header-only (static functions).
 */
#ifndef SKIFF_TEST_TSUM_H
#define SKIFF_TEST_TSUM_H

#include <stddef.h>
#include <stdint.h>

/* Sum of big-endian 16-bit words over len bytes, added to sum, unfolded. */
static inline uint32_t t_sum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

/* The carries folded back in: the one's-complement sum (host order). */
static inline uint16_t t_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif /* SKIFF_TEST_TSUM_H */
