// SPDX-License-Identifier: MIT
/*
 * Page stamps and their oracle. Every write stamps a working-set page with
 * (pfn, generation) in two words; a table in guest RAM, outside the
 * working set, holds the generation each page must carry. A page that
 * lost a write (stale), got another page's content (foreign) or was
 * zeroed fails the check, whenever it is run.
 *
 * With fill=page a write also fills every other word of the page with a
 * pseudo-random, non-zero value of (pfn, generation, word index), so that
 * written pages are neither zero-elided nor compressible on the way to
 * another host; the check then also looks at a few of those words.
 *
 * Layout above the image, from the first 2 MiB boundary past its end:
 *   [metadata: generation table, per-writer interval bitmaps]  2 MiB aligned
 *   [working set]
 */
#include "guest/stamp.h"

#include "guest/config.h"
#include "guest/lib/compiler.h"
#include "guest/lib/layout.h"
#include "guest/lib/machine.h"
#include "guest/lib/printf.h"
#include "guest/lib/sizes.h"
#include "guest/lib/string.h"

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

/*
 * Filler word i of the page whose stamp word is w0 (which holds the pfn
 * and the generation): splitmix64's finalizer over a per-page sequence,
 * two multiplies a word, the words independent of each other.
 */
static inline uint64_t fill_word(uint64_t w0, uint64_t i)
{
	uint64_t z = w0 * 0xd1b54a32d192ed03ull + i * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z + !z; /* never zero */
}

void stamp_fill(uint64_t gpa, uint64_t w0)
{
	uint64_t *p = (uint64_t *)(uintptr_t)gpa, i;

	/* The stamp's second word is among these: stamp_page writes it
	 * after, which is cheaper than skipping it here. */
	for (i = 1; i < PAGE_SIZE / 8; i++)
		p[i] = fill_word(w0, i);
}

/* Filler words the check looks at (fill=page); a stamp word is skipped. */
static const uint32_t fill_checked[] = { 1, 256, 511 };

/* The index of the first wrong word of page idx, -1 if it is right. */
static int bad_word(uint64_t idx, uint32_t gen)
{
	uint64_t gpa = ws_base_gpa + (idx << PAGE_SHIFT);
	uint64_t pfn = gpa >> PAGE_SHIFT;
	const volatile uint64_t *p = (const volatile uint64_t *)(uintptr_t)gpa;
	uint64_t w0 = ((uint64_t)gen << 32) | (uint32_t)pfn;
	uint32_t w2 = stamp_word2_index(pfn), i, w;

	if (p[0] != w0)
		return 0;
	if (p[w2] != stamp_word2(w0))
		return w2;
	for (i = 0; config.fill == FILL_PAGE && i < ARRAY_SIZE(fill_checked);
	     i++) {
		w = fill_checked[i];
		if (w != w2 && p[w] != fill_word(w0, w))
			return w;
	}
	return -1;
}

void stamp_verify(struct verify_result *res)
{
	uint64_t idx, gpa;
	uint32_t gen;
	int w;

	*res = (struct verify_result){ 0 };
	for (idx = 0; idx < ws_pages; idx++) {
		gen = gen_table[idx];
		if (!gen)
			continue;
		res->checked++;
		w = bad_word(idx, gen);
		if (w < 0)
			continue;
		gpa = ws_base_gpa + (idx << PAGE_SHIFT);
		if (!res->bad++)
			res->first_bad_gpa = gpa;
		if (res->bad <= 4)
			printf("kvmtrack-guest: bad page at %#lx: want gen %u, word %d is %#lx\n",
			       gpa, gen, w,
			       ((volatile uint64_t *)(uintptr_t)gpa)[w]);
	}
}

void stamp_corrupt(uint64_t n)
{
	uint64_t idx, gpa, w2, i;
	volatile uint64_t *p;

	for (idx = 0; idx < ws_pages && n; idx++) {
		if (!gen_table[idx])
			continue;
		gpa = ws_base_gpa + (idx << PAGE_SHIFT);
		p = (volatile uint64_t *)(uintptr_t)gpa;
		w2 = stamp_word2_index(gpa >> PAGE_SHIFT);
		if (config.fill == FILL_PAGE) {
			/* as if only the stamp words had arrived */
			for (i = 1; i < PAGE_SIZE / 8; i++)
				if (i != w2)
					p[i] = 0;
		} else {
			p[0] ^= 1ull << 32; /* as if it missed its last write */
		}
		n--;
	}
}
