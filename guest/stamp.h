/* SPDX-License-Identifier: MIT */
/* Page stamps and the expected-generation table (stamp.c tells how). */
#ifndef KVMTRACK_GUEST_STAMP_H
#define KVMTRACK_GUEST_STAMP_H

#include <stdint.h>

#include "guest/config.h"
#include "guest/lib/sizes.h"

struct verify_result {
	uint64_t checked;
	uint64_t bad;
	uint64_t first_bad_gpa;
};

/* Places the metadata and the working set in RAM above the image; may
 * shrink config.wss_bytes. Returns the working-set GPA (0: none). */
uint64_t stamp_layout(uint32_t writers);
extern uint64_t ws_base_gpa;
extern uint64_t ws_pages;
extern uint32_t *gen_table; /* expected generation per page, 0: unwritten */

/* Where the stamp's second word goes in page pfn: 1-511, pfn-dependent. */
static inline uint32_t stamp_word2_index(uint64_t pfn)
{
	return 1 + pfn % 511;
}

static inline uint64_t stamp_word2(uint64_t w0)
{
	return ~w0 ^ 0x6b766d747261636bull; /* "kvmtrack" */
}

/* fill=page: fills words 1-511 of the page at gpa for stamp word w0. */
void stamp_fill(uint64_t gpa, uint64_t w0);

/* Writes generation gen (non-zero) into page idx of the working set. */
static inline void stamp_page(uint64_t idx, uint32_t gen)
{
	uint64_t gpa = ws_base_gpa + (idx << PAGE_SHIFT);
	uint64_t pfn = gpa >> PAGE_SHIFT;
	uint64_t w0 = ((uint64_t)gen << 32) | (uint32_t)pfn;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)gpa;

	if (config.fill == FILL_PAGE)
		stamp_fill(gpa, w0);
	/* Word 0 is (generation, pfn); a second word at a pfn-dependent
	 * offset catches a page holding a mix of two pages' content. */
	p[0] = w0;
	p[stamp_word2_index(pfn)] = stamp_word2(w0);
	gen_table[idx] = gen;
}

/* Checks every written page against gen_table; res counts them, and the
 * first few bad ones are printed. */
void stamp_verify(struct verify_result *res);
/* Debug: spoils up to n written pages: their stamp, or with fill=page
 * their filler (every word but the two stamp words zeroed). */
void stamp_corrupt(uint64_t n);
/* The interval bitmap of writer w (one bit per page of its slice). */
uint64_t *stamp_bitmap(uint32_t writer, uint64_t *words);

#endif
