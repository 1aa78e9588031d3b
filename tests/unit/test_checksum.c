// SPDX-License-Identifier: MIT
/* CRC32C and the page hash (migrate/page_hash.h), both of which the wire
 * carries: their values must not change between builds or CPUs. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "migrate/page_hash.h"

static uint64_t page[PAGE_HASH_WORDS];

static void fini(void)
{
	page_hash_use_simd(true);
}

Test(checksum, crc32c_check_value)
{
	/* The CRC-32C catalogue's check value. */
	cr_expect_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	/* Chained in pieces, the same. */
	cr_expect_eq(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

ParameterizedTestParameters(checksum, page_hash_is_fixed)
{
	static bool simd[] = { false, true };

	return cr_make_param_array(bool, simd, 2);
}

/* One value, recorded from the first implementation; the AVX-512 one (when
 * the CPU has it) must agree with it. */
ParameterizedTest(bool *simd, checksum, page_hash_is_fixed, .fini = fini)
{
	page_hash_use_simd(*simd);
	for (unsigned int i = 0; i < PAGE_HASH_WORDS; i++)
		page[i] = (uint64_t)i * 0x0123456789abcdefull ^ (uint64_t)i << 40;
	cr_expect_eq(page_hash(page), 0xe17d50c837a27bdfull);
	memset(page, 0, sizeof(page));
	cr_expect_eq(page_hash(page), 0, "the zero page hashes to 0");
}

Test(checksum, both_ways_agree, .fini = fini)
{
	srand(7);
	for (int round = 0; round < 200; round++) {
		uint64_t scalar, simd;
		unsigned int nonzero = (unsigned int)rand() % (PAGE_HASH_WORDS + 1);

		memset(page, 0, sizeof(page));
		for (unsigned int k = 0; k < nonzero; k++)
			page[rand() % PAGE_HASH_WORDS] =
				(uint64_t)rand() << 33 ^ (uint64_t)rand() ^
				(round & 1 ? ~0ull : 0);
		page_hash_use_simd(false);
		scalar = page_hash(page);
		page_hash_use_simd(true);
		simd = page_hash(page);
		cr_assert_eq(simd, scalar, "round %d", round);
	}
}

Test(checksum, hash_from_the_nonzero_words_alone)
{
	const uint64_t *keys = page_hash_keys();
	uint64_t sum = 0, before;

	memset(page, 0, sizeof(page));
	page[3] = 42;
	page[500] = ~0ull;
	sum = page_hash_word(keys, 3, 42) + page_hash_word(keys, 500, ~0ull);
	cr_expect_eq(page_hash(page), sum);
	/* Any one word changed changes it, and so does a word moved. */
	before = page_hash(page);
	page[3] ^= 1ull << 63;
	cr_expect_neq(page_hash(page), before);
	page[3] ^= 1ull << 63;
	page[4] = page[3];
	page[3] = 0;
	cr_expect_neq(page_hash(page), before);
}
