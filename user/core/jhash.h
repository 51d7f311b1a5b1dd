/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Keyed hashing of a few 32-bit words for hash tables whose keys a peer
 * chooses (connection 4-tuples): Bob Jenkins' lookup3 mix and final rounds
 * (public domain, 2006), as Linux's jhash.  Keyed with a secret (the
 * initial values of a, b and c), a peer cannot pick keys that all land in
 * one bucket (hash flooding).  Not a MAC: where a guess must fail, use
 * SipHash (transport/tcp_isn.h).
 */
#ifndef SKIFF_JHASH_H
#define SKIFF_JHASH_H

#include <stdint.h>

static inline uint32_t jhash_rol32(uint32_t x, unsigned int k)
{
	return (x << k) | (x >> (32 - k));
}

/* Mix three words into the state, reversibly (lookup3's mix()). */
static inline void jhash_mix(uint32_t *a, uint32_t *b, uint32_t *c)
{
	*a -= *c; *a ^= jhash_rol32(*c, 4);  *c += *b;
	*b -= *a; *b ^= jhash_rol32(*a, 6);  *a += *c;
	*c -= *b; *c ^= jhash_rol32(*b, 8);  *b += *a;
	*a -= *c; *a ^= jhash_rol32(*c, 16); *c += *b;
	*b -= *a; *b ^= jhash_rol32(*a, 19); *a += *c;
	*c -= *b; *c ^= jhash_rol32(*b, 4);  *b += *a;
}

/* The last round: every input bit reaches every bit of c (lookup3's final()). */
static inline uint32_t jhash_final(uint32_t a, uint32_t b, uint32_t c)
{
	c ^= b; c -= jhash_rol32(b, 14);
	a ^= c; a -= jhash_rol32(c, 11);
	b ^= a; b -= jhash_rol32(a, 25);
	c ^= b; c -= jhash_rol32(b, 16);
	a ^= c; a -= jhash_rol32(c, 4);
	b ^= a; b -= jhash_rol32(a, 14);
	c ^= b; c -= jhash_rol32(b, 24);
	return c;
}

#endif /* SKIFF_JHASH_H */
