/* SPDX-License-Identifier: MIT */
/*
 * The bitmap harvest (bitmap.c), for the bitmap and manual backends:
 * KVM_GET_DIRTY_LOG per logged memslot into a per-slot buffer, and
 * KVM_CLEAR_DIRTY_LOG (manual) of exactly the pages read. Its state (the
 * buffers, the all-ones mask) is its own; the tracker (tracker.c) calls it
 * with its lock held and passes the sink the pages go to (sink.h).
 */
#ifndef KVMTRACK_DIRTY_BITMAP_H
#define KVMTRACK_DIRTY_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

struct dirty_bitmaps;
struct dirty_sink;
struct guest_mem;
struct mem_slot;

/* Pages the all-ones mask covers (dirty_bitmaps_ones). */
#define DIRTY_BITMAPS_ONES_PAGES 65536u

/* For the VM on vm_fd; NULL when out of memory. */
struct dirty_bitmaps *dirty_bitmaps_create(int vm_fd);
/* Frees b and its buffers; NULL is a no-op. */
void dirty_bitmaps_destroy(struct dirty_bitmaps *b);

/* The slot's GET_DIRTY_LOG buffer, made when its id is new or it grew;
 * NULL when out of memory or the id is out of range. */
uint64_t *dirty_bitmaps_scratch(struct dirty_bitmaps *b,
				const struct mem_slot *s);
/*
 * Reads the log of every logged slot of mem into sink, at each slot's
 * place in its region. clear (manual backend, no deferred clear): then
 * re-protects the pages just read, so the next write is logged again.
 */
int dirty_bitmaps_harvest(struct dirty_bitmaps *b, const struct guest_mem *mem,
			  const struct dirty_sink *sink, bool clear);
/*
 * KVM_CLEAR_DIRTY_LOG for the pages set in bits (one bit per page from
 * first_page, a multiple of 64) of region, on every logged slot mapping
 * them. Manual backend only; -EINVAL for a slot not 64-page aligned.
 */
int dirty_bitmaps_clear(const struct dirty_bitmaps *b,
			const struct guest_mem *mem, unsigned int region,
			uint64_t first_page, uint64_t nr_pages,
			const uint64_t *bits);
/* DIRTY_BITMAPS_ONES_PAGES bits all set: clears a range whole. */
const uint64_t *dirty_bitmaps_ones(const struct dirty_bitmaps *b);

#endif
