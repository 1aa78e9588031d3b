/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit page hash behind the whole-memory digest that both ends of a
 * migration compare (frames carry a CRC32C: lib/crc32c.h).
 */
#ifndef KVMTRACK_PAGE_HASH_H
#define KVMTRACK_PAGE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * 64-bit hash of one 4 KiB page: the sum of page_hash_word() over its
 * words, so 0 for the zero page, and computable from the nonzero words
 * alone. keys is page_hash_keys().
 */
#define PAGE_HASH_WORDS 512
#define PAGE_HASH_MUL 0xc2b2ae3d27d4eb4full
uint64_t page_hash(const void *page);
const uint64_t *page_hash_keys(void);
/* Tests: the AVX-512 hash where the CPU has it (the default), or not. */
void page_hash_use_simd(bool on);

static inline uint64_t page_hash_word(const uint64_t *keys, unsigned int i,
				      uint64_t word)
{
	uint64_t m = word * PAGE_HASH_MUL;

	return ((m << 31) | (m >> 33)) * keys[i];
}

/*
 * A page's contribution to a memory digest: 0 for a zero page, so that
 * pages never touched need not be read; otherwise mixed with the page's
 * guest-physical address, so that a page landing at the wrong address is
 * caught. The digest is the sum of contributions: order-free, so it can
 * be computed in any order and in parallel.
 */
uint64_t page_digest_term(uint64_t gpa, uint64_t hash);

#endif
