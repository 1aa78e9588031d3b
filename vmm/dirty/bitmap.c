// SPDX-License-Identifier: MIT
/*
 * The bitmap harvest (bitmap.h): KVM_GET_DIRTY_LOG of each logged memslot
 * into its own buffer, ORed into the sink at the slot's place in its
 * region, and KVM_CLEAR_DIRTY_LOG for the manual backend. Called with the
 * tracker's lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"
#include "vmm/dirty/bitmap.h"
#include "vmm/dirty/sink.h"
#include "vmm/mem/memory.h"

struct dirty_bitmaps {
	int vm_fd;
	uint64_t *ones; /* all-ones mask for CLEAR of whole chunks */
	/* Per-slot GET_DIRTY_LOG buffer, by slot id; (re)made at the first
	 * harvest of a slot id that is new or grew (dirty_slots_change). */
	uint64_t *scratch[MEM_MAX_SLOTS];
	uint64_t scratch_words[MEM_MAX_SLOTS];
};

struct dirty_bitmaps *dirty_bitmaps_create(int vm_fd)
{
	struct dirty_bitmaps *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->vm_fd = vm_fd;
	b->ones = malloc(DIRTY_BITMAPS_ONES_PAGES / 8);
	if (!b->ones) {
		free(b);
		return NULL;
	}
	memset(b->ones, 0xff, DIRTY_BITMAPS_ONES_PAGES / 8);
	return b;
}

void dirty_bitmaps_destroy(struct dirty_bitmaps *b)
{
	if (!b)
		return;
	free(b->ones);
	for (unsigned int i = 0; i < MEM_MAX_SLOTS; i++)
		free(b->scratch[i]);
	free(b);
}

const uint64_t *dirty_bitmaps_ones(const struct dirty_bitmaps *b)
{
	return b->ones;
}

/*
 * ORs a slot's bitmap into the sets at the slot's place in its region.
 * Slots start at page multiples of 64 within their region in kvmtrack's
 * layout; a slot that does not is handled bit by bit.
 */
static void fan_out_slot(const struct dirty_sink *sink,
			 const struct guest_mem *mem, const struct mem_slot *s,
			 const uint64_t *bitmap)
{
	unsigned int region = (unsigned int)(s->region - mem->regions);
	uint64_t first = s->region_offset / GUEST_PAGE_BYTES;
	uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;

	for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
		uint64_t bits = bitmap[w];

		if (!bits)
			continue;
		if (first % 64 == 0) {
			dirty_sink_word(sink, region, first / 64 + w, bits);
			continue;
		}
		for (; bits; bits &= bits - 1) {
			uint64_t pg = first + w * 64 +
				      (uint64_t)__builtin_ctzll(bits);

			dirty_sink_word(sink, region, pg / 64,
					1ull << (pg % 64));
		}
	}
}

static bool any_bits(const uint64_t *bitmap, uint64_t words)
{
	for (uint64_t w = 0; w < words; w++)
		if (bitmap[w])
			return true;
	return false;
}

uint64_t *dirty_bitmaps_scratch(struct dirty_bitmaps *b,
				const struct mem_slot *s)
{
	uint64_t words = (s->size_bytes / GUEST_PAGE_BYTES + 63) / 64;

	if (s->id >= MEM_MAX_SLOTS)
		return NULL;
	if (b->scratch[s->id] && b->scratch_words[s->id] >= words)
		return b->scratch[s->id];
	free(b->scratch[s->id]);
	b->scratch[s->id] = calloc(words ?: 1, sizeof(uint64_t));
	b->scratch_words[s->id] = b->scratch[s->id] ? words : 0;
	return b->scratch[s->id];
}

static int harvest_slot_log(struct dirty_bitmaps *b,
			    const struct guest_mem *mem,
			    const struct dirty_sink *sink,
			    const struct mem_slot *s, bool clear)
{
	uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;
	uint64_t *scratch = dirty_bitmaps_scratch(b, s);
	int ret;

	if (!scratch)
		return -ENOMEM;
	ret = kvm_get_dirty_log(b->vm_fd, s->id, scratch);
	if (ret < 0)
		return ret;
	fan_out_slot(sink, mem, s, scratch);
	if (!clear || !any_bits(scratch, (pages + 63) / 64))
		return 0;
	/* One CLEAR with the bitmap just read re-protects exactly the pages
	 * that were dirty: cheaper than one ioctl per 64-page chunk. */
	return kvm_clear_dirty_log(b->vm_fd, s->id, 0, (uint32_t)pages,
				   scratch);
}

int dirty_bitmaps_harvest(struct dirty_bitmaps *b, const struct guest_mem *mem,
			  const struct dirty_sink *sink, bool clear)
{
	int ret = 0;

	for (unsigned int i = 0; i < mem->nr_slots && !ret; i++)
		if (mem->slots[i].flags & MEM_SLOT_LOG_DIRTY)
			ret = harvest_slot_log(b, mem, sink, &mem->slots[i],
					       clear);
	return ret;
}

int dirty_bitmaps_clear(const struct dirty_bitmaps *b,
			const struct guest_mem *mem, unsigned int region,
			uint64_t first_page, uint64_t nr_pages,
			const uint64_t *bits)
{
	int ret = 0;

	for (unsigned int i = 0; i < mem->nr_slots && !ret; i++) {
		const struct mem_slot *s = &mem->slots[i];
		uint64_t start = s->region_offset / GUEST_PAGE_BYTES;
		uint64_t end = start + s->size_bytes / GUEST_PAGE_BYTES;
		uint64_t lo = first_page > start ? first_page : start;
		uint64_t hi = first_page + nr_pages < end ? first_page + nr_pages
							  : end;

		if (s->region != &mem->regions[region] || lo >= hi ||
		    !(s->flags & MEM_SLOT_LOG_DIRTY))
			continue;
		/* KVM wants 64-aligned chunks relative to the slot; kvmtrack's
		 * slots start at multiples of 64 pages in their region. */
		if ((lo - start) % 64 || (lo - first_page) % 64)
			return -EINVAL;
		for (uint64_t pg = lo; pg < hi && !ret; pg += 65536) {
			uint64_t n = hi - pg < 65536 ? hi - pg : 65536;

			ret = kvm_clear_dirty_log(b->vm_fd, s->id, pg - start,
						  (uint32_t)n,
						  (uint64_t *)bits +
							  (pg - first_page) / 64);
		}
	}
	return ret;
}
