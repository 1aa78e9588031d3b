// SPDX-License-Identifier: MIT
/*
 * Page stamps and their oracle. Every write stamps a working-set page with
 * (pfn, generation) in two words; a table in guest RAM, outside the
 * working set, holds the generation each page must carry. A page that
 * lost a write (stale), got another page's content (foreign) or was
 * zeroed fails the check, whenever it is run.
 *
 * Layout above the image, from the first 2 MiB boundary past its end:
 *   [metadata: generation table, per-writer interval bitmaps]  2 MiB aligned
 *   [working set]
 */
#include "guest.h"

extern char _end[];

uint64_t ws_base_gpa;
uint64_t ws_pages;
uint32_t *gen_table;

static uint64_t *bitmaps[MAX_CPUS];
static uint64_t bitmap_words[MAX_CPUS];

/* One bit per page of the largest slice, in whole cache lines. */
static uint64_t bitmap_bytes(uint64_t pages, uint32_t writers)
{
	return ALIGN_UP((pages / MAX(writers, 1u) + 64) / 8, 64);
}

/* Bytes of metadata for `pages` working-set pages and `writers` slices. */
static uint64_t meta_bytes(uint64_t pages, uint32_t writers)
{
	return ALIGN_UP(ALIGN_UP(pages * 4, 64) +
				writers * bitmap_bytes(pages, writers),
			SZ_2M);
}

/* The RAM range below 4 GiB holding gpa, clipped to 4 GiB; false if none. */
static bool ram_around(uint64_t gpa, uint64_t *end)
{
	uint32_t i;

	for (i = 0; i < machine.nr_ram; i++) {
		const struct ram_range *r = &machine.ram[i];

		if (gpa >= r->gpa && gpa < r->gpa + r->bytes) {
			*end = MIN(r->gpa + r->bytes, SZ_4G);
			return gpa < *end;
		}
	}
	return false;
}

/* Moves [*base, *end) past or before reserved ranges (boot modules). */
static void avoid_reserved(uint64_t *base, uint64_t *end)
{
	uint32_t i, pass;

	for (pass = 0; pass < MAX_RAM_RANGES; pass++) {
		bool moved = false;

		for (i = 0; i < machine.nr_reserved; i++) {
			const struct ram_range *r = &machine.reserved[i];
			uint64_t r_end = r->gpa + r->bytes;

			if (r_end <= *base || r->gpa >= *end)
				continue;
			if (r->gpa <= *base) {
				*base = ALIGN_UP(r_end, SZ_2M);
				moved = true;
			} else {
				*end = r->gpa;
			}
		}
		if (!moved || *base >= *end)
			return;
	}
}

uint64_t stamp_layout(uint32_t writers)
{
	uint64_t base = ALIGN_UP((uintptr_t)_end, SZ_2M), end = 0;
	uint64_t pages = config.wss_bytes / PAGE_SIZE, meta, per_writer;
	uint32_t w;

	if (!ram_around(base, &end))
		end = base;
	avoid_reserved(&base, &end);
	if (end < base)
		end = base;
	end = ALIGN_DOWN(end, PAGE_SIZE);
	meta = meta_bytes(pages, writers);
	if (base + meta + pages * PAGE_SIZE > end) {
		pages = end - base > meta ? (end - base - meta) / PAGE_SIZE : 0;
		printf("kvmtrack-guest: wss capped to %luK: RAM above the image ends at %#lx\n",
		       pages * PAGE_SIZE >> 10, end);
		config.wss_bytes = pages * PAGE_SIZE;
	}
	ws_pages = pages;
	if (!pages)
		return 0;

	gen_table = (uint32_t *)(uintptr_t)base;
	memset(gen_table, 0, pages * 4);
	per_writer = bitmap_bytes(pages, writers);
	for (w = 0; w < writers; w++) {
		bitmaps[w] = (uint64_t *)(uintptr_t)(base +
			ALIGN_UP(pages * 4, 64) + w * per_writer);
		bitmap_words[w] = per_writer / 8;
		memset(bitmaps[w], 0, per_writer);
	}
	ws_base_gpa = base + meta;
	printf("kvmtrack-guest: working set %#lx-%#lx (%lu pages), metadata at %#lx\n",
	       ws_base_gpa, ws_base_gpa + pages * PAGE_SIZE, pages, base);
	return ws_base_gpa;
}

uint64_t *stamp_bitmap(uint32_t writer, uint64_t *words)
{
	*words = bitmap_words[writer];
	return bitmaps[writer];
}

static bool stamp_ok(uint64_t idx, uint32_t gen)
{
	uint64_t gpa = ws_base_gpa + (idx << PAGE_SHIFT);
	uint64_t pfn = gpa >> PAGE_SHIFT;
	const volatile uint64_t *p = (const volatile uint64_t *)(uintptr_t)gpa;
	uint64_t w0 = ((uint64_t)gen << 32) | (uint32_t)pfn;

	return p[0] == w0 && p[1 + pfn % 511] == stamp_word2(w0);
}

void stamp_verify(struct verify_result *res)
{
	uint64_t idx;
	uint32_t gen;

	*res = (struct verify_result){ 0 };
	for (idx = 0; idx < ws_pages; idx++) {
		gen = gen_table[idx];
		if (!gen)
			continue;
		res->checked++;
		if (stamp_ok(idx, gen))
			continue;
		if (!res->bad++)
			res->first_bad_gpa = ws_base_gpa + (idx << PAGE_SHIFT);
		if (res->bad <= 4)
			printf("kvmtrack-guest: bad stamp at %#lx: want gen %u, have %#lx\n",
			       ws_base_gpa + (idx << PAGE_SHIFT), gen,
			       *(volatile uint64_t *)(uintptr_t)(ws_base_gpa +
							(idx << PAGE_SHIFT)));
	}
}

void stamp_corrupt(uint64_t n)
{
	uint64_t idx;
	volatile uint64_t *p;

	for (idx = 0; idx < ws_pages && n; idx++) {
		if (!gen_table[idx])
			continue;
		p = (volatile uint64_t *)(uintptr_t)(ws_base_gpa +
						     (idx << PAGE_SHIFT));
		p[0] ^= 1ull << 32; /* as if the page missed its last write */
		n--;
	}
}
