// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Internet checksum.  RFC 1071 2(B): the one's-complement sum does not
 * depend on byte order, so words are summed as they sit in memory (native
 * loads) and the folded result is stored back the same way: it is then
 * right in network order on any host.  Loads go through memcpy so any buffer
 * alignment works (UMEM frames put IP headers at odd offsets after VLAN
 * tags), and 32-bit words are summed into a 64-bit accumulator: since
 * 2^16 == 1 (mod 2^16 - 1), folding a sum of 32-bit words gives the same
 * result as summing 16-bit words (RFC 1071 2(C), "parallel summation").
 */
#include <arpa/inet.h>
#include <string.h>

#include "core/csum.h"

static inline uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffULL) + (s >> 32);
	s = (s & 0xffffffffULL) + (s >> 32);
	return (uint32_t)s;
}

/* acc + w with the carry out of bit 63 added back (end-around carry). */
static inline uint64_t add_wrap64(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

/*
 * On x86-64, 8 bytes per add-with-carry in one chain over 64-byte blocks,
 * as Linux's csum_partial (about 4x fewer instructions than 4-byte adds);
 * elsewhere 32-bit words into the 64-bit accumulator.  Either way the sum
 * of native-order words with the carries wrapped around folds to the same
 * 16-bit result (RFC 1071 2(B), 2(C)); the 32-bit value returned is that
 * sum folded to 32 bits with end-around carry.
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum, w;
	uint32_t w32, hi, s32;
	uint16_t w16;

#if defined(__x86_64__)
	while (len >= 64) {
		__asm__("addq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq 16(%[p]), %[s]\n\t"
			"adcq 24(%[p]), %[s]\n\t"
			"adcq 32(%[p]), %[s]\n\t"
			"adcq 40(%[p]), %[s]\n\t"
			"adcq 48(%[p]), %[s]\n\t"
			"adcq 56(%[p]), %[s]\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(acc)
			: [p] "r"(p), "m"(*(const uint8_t(*)[64])p)
			: "cc");
		p += 64;
		len -= 64;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		acc = add_wrap64(acc, w);
		p += 8;
		len -= 8;
	}
#else
	while (len >= 16) {
		uint32_t a, b, c, d;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		acc = add_wrap64(acc, (uint64_t)a + b + c + d);
		p += 16;
		len -= 16;
	}
	(void)w;
#endif
	while (len >= 4) {
		memcpy(&w32, p, 4);
		acc = add_wrap64(acc, w32);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc = add_wrap64(acc, w16);
		p += 2;
		len -= 2;
	}
	if (len) {
		/* RFC 1071 4.1: an odd last byte is padded with a zero byte */
		uint8_t pad[2] = { *p, 0 };

		memcpy(&w16, pad, 2);
		acc = add_wrap64(acc, w16);
	}
	/* fold 64 -> 32 bits, end-around carry */
	hi = (uint32_t)(acc >> 32);
	s32 = (uint32_t)acc + hi;
	return s32 + (s32 < hi);
}

uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t ip_fast_csum(const void *iph, unsigned int ihl)
{
	const uint8_t *p = iph;
	uint32_t a, b, c, d, e;

	if (ihl != 5)
		return csum_fold(csum_partial(iph, (size_t)ihl * 4, 0));
	/* the header without options, every frame twice (checked on input,
	 * written on output): five words added in 64 bits, where no carry
	 * is lost, then folded (about a third of csum_partial's instructions
	 * for 20 bytes) */
	memcpy(&a, p, 4);
	memcpy(&b, p + 4, 4);
	memcpy(&c, p + 8, 4);
	memcpy(&d, p + 12, 4);
	memcpy(&e, p + 16, 4);
	return csum_fold(fold64((uint64_t)a + b + c + d + e));
}

/* RFC 768 / RFC 9293 3.1: source, destination, zero, protocol, length. */
uint32_t csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr, uint32_t len, uint8_t proto,
			    uint32_t sum)
{
	/* 32-bit words added whole: in 64 bits no carry is lost, and the
	 * fold gives the sum of their 16-bit halves */
	uint64_t acc = (uint64_t)sum + saddr + daddr;

	acc += htons(proto);
	acc += htons((uint16_t)len);
	acc += htons((uint16_t)(len >> 16));
	return fold64(acc);
}

uint16_t csum_tcpudp_magic(uint32_t saddr, uint32_t daddr, uint32_t len, uint8_t proto,
			   uint32_t sum)
{
	return csum_fold(csum_tcpudp_nofold(saddr, daddr, len, proto, sum));
}

/* RFC 1624 3, eqn. 3: HC' = ~(~HC + ~m + m'). */
uint16_t csum_replace2(uint16_t check, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old;
	sum += new_;
	return csum_fold(sum);
}
