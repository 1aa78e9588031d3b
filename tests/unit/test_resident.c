// SPDX-License-Identifier: MIT
/* Which guest pages hold data (guest_mem_next_data, vmm/mem/resident.c), both
 * ways it asks: PAGEMAP_SCAN and /proc/self/pagemap. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/mem/memory.h"

#define PAGES 8192 /* 32 MiB: 16 huge pages */
#define HUGE_PAGES 512

static struct guest_mem mem;

static void teardown(void)
{
	guest_mem_destroy(&mem);
	guest_mem_resident_use_pagemap(false);
}

/* Marks in seen[] every page inside a run; returns the number of runs. */
static unsigned int collect(const struct mem_region *r, bool *seen)
{
	uint64_t first, end, from = 0;
	unsigned int runs = 0;

	while (guest_mem_next_data(r, from, &first, &end)) {
		cr_assert(first >= from && first < end && end <= PAGES,
			  "run [%llu, %llu) after %llu",
			  (unsigned long long)first, (unsigned long long)end,
			  (unsigned long long)from);
		for (uint64_t p = first; p < end; p++)
			seen[p] = true;
		from = end;
		runs++;
	}
	return runs;
}

ParameterizedTestParameters(resident, written_pages_are_found)
{
	static bool pagemap[] = { false, true };

	return cr_make_param_array(bool, pagemap, 2);
}

ParameterizedTest(bool *pagemap, resident, written_pages_are_found,
		  .fini = teardown)
{
	static const uint64_t written[] = { 0, 1, 700, 3000, 3001, 8191 };
	static bool seen[PAGES];
	const struct mem_region *r;

	guest_mem_resident_use_pagemap(*pagemap);
	cr_assert_eq(guest_mem_create(&mem, PAGES * GUEST_PAGE_BYTES), 0);
	r = &mem.regions[0];
	memset(seen, 0, sizeof(seen));
	cr_expect_eq(collect(r, seen), 0, "fresh RAM has no data");
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		r->hva[written[i] * GUEST_PAGE_BYTES + 5] = 1;
	cr_expect_gt(collect(r, seen), 0);
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		cr_expect(seen[written[i]], "written page %llu not found",
			  (unsigned long long)written[i]);
	/* Huge pages 2-4 (pages 1024-2559) were never written: skipped,
	 * whether RAM came in huge pages or small ones. */
	for (uint64_t p = 2 * HUGE_PAGES; p < 5 * HUGE_PAGES; p++)
		cr_assert(!seen[p], "unwritten page %llu reported",
			  (unsigned long long)p);
}

/* Anonymous memory this process has resident, from /proc/self/status. */
static long rss_anon_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	cr_assert(f, "cannot open /proc/self/status");
	while (kib < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kib) != 1)
			kib = -1;
	fclose(f);
	cr_assert(kib >= 0, "no RssAnon in /proc/self/status");
	return kib;
}

/*
 * Whether a read fault on fresh anonymous memory maps the shared zero page,
 * found without asking pagemap: the zero page is not counted in RSS, a
 * private zeroed page is. Some kernels take a private page (a PVM guest's,
 * booted with pvm_no_zero_page=1: shared/KVM-HERE.md).
 */
static bool read_fault_maps_zero_page(void)
{
	const size_t bytes = 1024 * GUEST_PAGE_BYTES;
	volatile const uint8_t *p;
	unsigned int sum = 0;
	long before;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(p != MAP_FAILED);
	madvise((void *)p, bytes, MADV_NOHUGEPAGE);
	before = rss_anon_kib();
	for (size_t i = 0; i < bytes; i += GUEST_PAGE_BYTES)
		sum += p[i];
	cr_assert_eq(sum, 0);
	/* 4 MiB read: private pages add all of it, the zero page none. */
	bool zero_page = rss_anon_kib() - before < 1024;
	munmap((void *)p, bytes);
	return zero_page;
}

/*
 * Reading maps the shared zero page: nothing was written. PAGEMAP_SCAN
 * says so; /proc/self/pagemap (kernels before 6.7) calls such pages
 * present, which only costs reading them, and so does every kernel whose
 * read faults take private zeroed pages. Small pages here: some kernels'
 * PAGEMAP_SCAN does not flag the huge zero page.
 */
Test(resident, pages_only_read_are_not_data, .fini = teardown)
{
	static bool seen[PAGES];
	volatile const uint8_t *p;
	unsigned int sum = 0, runs;
	uint64_t first, end;

	cr_assert_eq(guest_mem_create(&mem, PAGES * GUEST_PAGE_BYTES), 0);
	p = mem.regions[0].hva;
	madvise((void *)p, PAGES * GUEST_PAGE_BYTES, MADV_NOHUGEPAGE);
	for (uint64_t i = 0; i < PAGES; i++)
		sum += p[i * GUEST_PAGE_BYTES];
	cr_assert_eq(sum, 0);
	memset(seen, 0, sizeof(seen));
	guest_mem_next_data(&mem.regions[0], 0, &first, &end);
	runs = collect(&mem.regions[0], seen);
	if (guest_mem_resident_by_scan() && read_fault_maps_zero_page())
		cr_expect_eq(runs, 0);
	else
		cr_expect(seen[0] && seen[PAGES - 1],
			  "pagemap: pages read are counted, all of them");
}
