// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SHA-256 (user/apps/sha256.c) against the FIPS 180-4 example vectors
 * (NIST CSRC "SHA256.pdf", "SHA256ShortMsg"), fed whole and in odd pieces,
 * so the built-in client's checksums can be compared with sha256sum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps/sha256.h"

static void hash_pieces(const void *data, size_t len, size_t piece, char *hex)
{
	const uint8_t *p = data;
	uint8_t d[SHA256_DIGEST_LEN];
	struct sha256 c;
	size_t off, n;

	sha256_init(&c);
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		sha256_update(&c, p + off, n);
	}
	sha256_final(&c, d);
	sha256_hex(d, hex);
}

static void assert_sha256(const char *msg, const char *want)
{
	static const size_t pieces[] = { 1, 3, 55, 56, 63, 64, 65, 1000 };
	char hex[SHA256_HEX_LEN];
	size_t len = strlen(msg), i;

	hash_pieces(msg, len, len ? len : 1, hex);
	assert_string_equal(hex, want);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		hash_pieces(msg, len, pieces[i], hex);
		assert_string_equal(hex, want);
	}
}

static void empty_message_matches_fips_vector(void **state)
{
	(void)state;
	assert_sha256("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void abc_matches_fips_vector(void **state)
{
	(void)state;
	assert_sha256("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void two_block_448_bit_message_matches_fips_vector(void **state)
{
	(void)state;
	assert_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void the_896_bit_message_matches_fips_vector(void **state)
{
	(void)state;
	assert_sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void a_million_a_matches_fips_vector(void **state)
{
	char *m = malloc(1000000), hex[SHA256_HEX_LEN];

	(void)state;
	assert_non_null(m);
	memset(m, 'a', 1000000);
	hash_pieces(m, 1000000, 1000000, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	hash_pieces(m, 1000000, 4093, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_message_matches_fips_vector),
		cmocka_unit_test(abc_matches_fips_vector),
		cmocka_unit_test(two_block_448_bit_message_matches_fips_vector),
		cmocka_unit_test(the_896_bit_message_matches_fips_vector),
		cmocka_unit_test(a_million_a_matches_fips_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
