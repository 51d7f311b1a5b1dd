/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SHA-256 (FIPS 180-4), incremental, for the built-in client's transfer
 * checksums: what was received or sent is hashed as it streams, so a 100 MiB
 * transfer is checked against sha256sum without being kept.
 */
#ifndef SKIFF_SHA256_H
#define SKIFF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32
#define SHA256_HEX_LEN		(2 * SHA256_DIGEST_LEN + 1)	/* with the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t block[64];
	size_t fill;		/* bytes waiting in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t digest[SHA256_DIGEST_LEN]);
/* Lower-case hex of a digest into hex (SHA256_HEX_LEN bytes). */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char *hex);

#endif /* SKIFF_SHA256_H */
