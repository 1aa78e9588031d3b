// SPDX-License-Identifier: MIT
/* The sparse page encoding and the page hash (migrate/page_codec.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "migrate/page_codec.h"
#include "migrate/page_hash.h"

static uint64_t page[PAGE_WORDS], back[PAGE_WORDS];
static uint8_t enc[8192];

/* Encodes page, decodes into back over garbage, and checks both ways. */
static size_t round_trip(void)
{
	const char *why = NULL;
	uint64_t hash, hash_back;
	size_t n;

	n = page_encode(page, enc, PAGE_SPARSE_MAX_BYTES, &hash);
	cr_assert_eq(hash, page_hash(page), "encoder's hash");
	/* A page sent whole goes from guest memory. */
	if (!n)
		return 0;
	cr_assert_eq(page_encoded_len(enc, n, &why), n, "%s", why);
	memset(back, 0xa5, sizeof(back));
	hash_back = page_decode(enc, back, false);
	cr_assert_eq(memcmp(page, back, sizeof(page)), 0, "page differs");
	cr_assert_eq(hash_back, hash, "decoder's hash");
	/* On memory known zero only the runs are written. */
	memset(back, 0, sizeof(back));
	cr_assert_eq(page_decode(enc, back, true), hash);
	cr_assert_eq(memcmp(page, back, sizeof(page)), 0);
	return n;
}

Test(page_codec, zero_page_is_two_bytes_and_hashes_to_zero)
{
	memset(page, 0, sizeof(page));
	cr_expect_eq(round_trip(), 2);
	cr_expect(page_encoded_zero(enc));
	cr_expect_eq(page_hash(page), 0);
}

Test(page_codec, stamped_page_takes_two_runs)
{
	memset(page, 0, sizeof(page));
	page[0] = 0x1234;
	page[300] = 0xdeadbeefcafef00dull;
	/* 2 + 2 runs of (4 + 8) */
	cr_expect_eq(round_trip(), 26);
	cr_expect(!page_encoded_zero(enc));
}

Test(page_codec, runs_at_both_edges_and_adjacent_words)
{
	memset(page, 0, sizeof(page));
	page[0] = page[1] = page[2] = 7;
	page[PAGE_WORDS - 2] = page[PAGE_WORDS - 1] = ~0ull;
	cr_expect_eq(round_trip(), 2 + (4 + 24) + (4 + 16));
}

Test(page_codec, dense_page_is_refused_with_its_hash)
{
	for (unsigned int i = 0; i < PAGE_WORDS; i++)
		page[i] = i * 0x9e3779b97f4a7c15ull + 1;
	cr_expect_eq(round_trip(), 0);
	/* Dense only in its second half: given up part way. */
	memset(page, 0, sizeof(page) / 2);
	cr_expect_eq(round_trip(), 0);
	/* Zero at the words the dense guess samples (7, 71, ...): the
	 * encoder runs, and gives up in the fifth run. */
	memset(page, 0, sizeof(page));
	for (unsigned int i = 8; i < 327; i++)
		page[i] = (i - 7) % 64 ? i : 0;
	cr_expect_eq(round_trip(), 0);
}

Test(page_codec, limit_is_exact)
{
	uint64_t hash;
	size_t n;

	memset(page, 0, sizeof(page));
	for (unsigned int i = 0; i < 10; i++)
		page[i * 2] = i + 1; /* 10 runs of one word: 2 + 10 * 12 */
	n = page_encode(page, enc, 122, &hash);
	cr_expect_eq(n, 122);
	cr_expect_eq(page_encode(page, enc, 121, &hash), 0);
	cr_expect_eq(hash, page_hash(page));
}

Test(page_codec, one_word_changes_the_hash)
{
	uint64_t h0;

	memset(page, 0, sizeof(page));
	page[5] = 1;
	h0 = page_hash(page);
	/* The same value at another index, and a high bit flipped. */
	page[5] = 0;
	page[6] = 1;
	cr_expect_neq(page_hash(page), h0);
	page[6] = 0;
	page[5] = 1ull | (1ull << 63);
	cr_expect_neq(page_hash(page), h0);
	/* Swapping two different words changes it too. */
	page[5] = 1;
	page[9] = 2;
	h0 = page_hash(page);
	page[5] = 2;
	page[9] = 1;
	cr_expect_neq(page_hash(page), h0);
}

static void expect_malformed(const uint8_t *in, size_t len, const char *want)
{
	const char *why = NULL;

	cr_expect_eq(page_encoded_len(in, len, &why), 0);
	cr_expect(why && strstr(why, want), "why: %s", why ? why : "(none)");
}

Test(page_codec, malformed_encodings_are_named)
{
	/* nruns=1, run 0+1 then only 4 of its 8 bytes */
	const uint8_t truncated[] = { 1, 0, 0, 0, 1, 0, 1, 2, 3, 4 };
	/* a run from word 510 of 3 words */
	const uint8_t outside[] = { 1, 0, 0xfe, 1, 3, 0 };
	/* runs 5+1 and 3+1: out of order */
	const uint8_t backwards[] = { 2, 0, 5, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0,
				      3, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	/* runs 0+1 and 1+1: touching */
	const uint8_t touching[] = { 2, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0,
				     1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	/* a run of no words */
	const uint8_t empty_run[] = { 1, 0, 4, 0, 0, 0 };

	expect_malformed(truncated, sizeof(truncated), "truncated");
	expect_malformed(truncated, 1, "truncated");
	expect_malformed(outside, sizeof(outside), "outside the page");
	expect_malformed(backwards, sizeof(backwards), "out of order");
	expect_malformed(touching, sizeof(touching), "out of order");
	expect_malformed(empty_run, sizeof(empty_run), "outside the page");
}
