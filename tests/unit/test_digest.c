// SPDX-License-Identifier: MIT
/* The whole-memory digest and --verify sent's spot check (migrate/digest.c),
 * on real guest memory (no KVM needed). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/digest.h"
#include "migrate/page_hash.h"
#include "vmm/mem/memory.h"

#define PAGES 4096 /* 16 MiB */

static struct guest_mem mem;
static uint64_t *terms[MEM_MAX_REGIONS], *blocks[MEM_MAX_REGIONS];

static void setup(void)
{
	cr_assert_eq(guest_mem_create(&mem, PAGES * GUEST_PAGE_BYTES), 0);
	cr_assert_eq(mem.nr_regions, 1);
	terms[0] = calloc(PAGES, sizeof(uint64_t));
	blocks[0] = calloc(1, sizeof(uint64_t)); /* 4096 pages */
}

static void teardown(void)
{
	free(terms[0]);
	free(blocks[0]);
	guest_mem_destroy(&mem);
}

/* Writes every other page of the first half, as a sender would have sent
 * them: terms[] holds each one's term. Returns their digest. */
static uint64_t write_pages(void)
{
	const struct mem_region *r = &mem.regions[0];
	uint64_t sum = 0;

	for (uint64_t p = 0; p < PAGES / 2; p += 2) {
		uint64_t *w = (uint64_t *)(r->hva + p * GUEST_PAGE_BYTES);

		w[0] = p + 1;
		w[1 + p % 511] = ~p;
		terms[0][p] = page_digest_term(r->gpa + p * GUEST_PAGE_BYTES,
					       page_hash(w));
		sum += terms[0][p];
		blocks[0][0] |= 1ull << (p / 64);
	}
	return sum;
}

Test(digest, equals_the_sum_of_terms_and_reads_only_written_pages,
     .init = setup, .fini = teardown)
{
	uint64_t sum = write_pages();
	struct mem_digest d;

	mem_digest_compute(&mem, 2, &d);
	cr_expect_eq(d.digest, sum);
	cr_expect_eq(d.nonzero_pages, PAGES / 4);
	/* Never-written pages are not mapped: not read. */
	cr_expect_leq(d.read_pages, PAGES / 2);
}

Test(digest, a_page_at_another_address_changes_it, .init = setup,
     .fini = teardown)
{
	const struct mem_region *r = &mem.regions[0];
	uint64_t sum = write_pages();
	struct mem_digest d;

	/* Page 0's content moved to page 1: same bytes, wrong place. */
	memcpy(r->hva + GUEST_PAGE_BYTES, r->hva, GUEST_PAGE_BYTES);
	memset(r->hva, 0, GUEST_PAGE_BYTES);
	mem_digest_compute(&mem, 1, &d);
	cr_expect_neq(d.digest, sum);
}

Test(spot_check, passes_when_memory_is_as_sent, .init = setup,
     .fini = teardown)
{
	uint64_t gpa = 0;

	write_pages();
	/* Sampled (1024 written pages, 512 drawn) and exhaustive. */
	cr_expect_eq(mem_spot_check(&mem, terms, blocks, PAGES / 4, 512, 42, &gpa), 0);
	cr_expect_eq(mem_spot_check(&mem, terms, blocks, PAGES / 4, 2048, 42, &gpa), 0);
}

Test(spot_check, finds_writes_the_log_missed, .init = setup,
     .fini = teardown)
{
	const struct mem_region *r = &mem.regions[0];
	uint64_t gpa = ~0ull, bad;

	write_pages();
	/* A quarter of the sent pages changed behind the sender's back. */
	for (uint64_t p = 0; p < PAGES / 2; p += 8)
		((uint64_t *)(r->hva + p * GUEST_PAGE_BYTES))[0] ^= 1;
	bad = mem_spot_check(&mem, terms, blocks, PAGES / 4, 256, 42, &gpa);
	cr_expect_gt(bad, 0);
	/* Exhaustive: every one of the 256 changed pages. */
	cr_expect_eq(mem_spot_check(&mem, terms, blocks, PAGES / 4, 2048, 42, &gpa),
		     PAGES / 2 / 8);
	cr_expect_eq((gpa - r->gpa) / GUEST_PAGE_BYTES % 8, 0,
		     "reported gpa %#llx was not changed",
		     (unsigned long long)gpa);
}
