/* SPDX-License-Identifier: MIT */
/*
 * Pages that changed while they were sent (destination side). A live pass
 * sends whole pages straight from guest memory, hashed just before the
 * socket copies them: a page the guest writes in between lands with bytes
 * that do not match its hash. Such a page was written after its dirty bit
 * was cleared, so the source sends it again in the next pass, or with the
 * last pages once the guest is stopped. What must hold, and what this
 * checks: every torn page comes again by the end of the next pass, and
 * none is left at the digest. A page that does not was corrupted in
 * transit, not torn.
 */
#ifndef KVMTRACK_TORN_H
#define KVMTRACK_TORN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/mem/memory.h"

struct torn_pages {
	/* [0] and [1]: a bit per page, torn in this pass or the one before */
	uint64_t *bits[2][MEM_MAX_REGIONS];
	uint64_t count[2];
	unsigned int cur; /* which of the two is this pass's */
	unsigned int nr_regions;
	uint64_t words[MEM_MAX_REGIONS]; /* of each bitmap */
	uint64_t total; /* pages that landed torn, over the migration */
};

/* A bit per page of every region of mem; -ENOMEM. */
int torn_init(struct torn_pages *t, const struct guest_mem *mem);
void torn_free(struct torn_pages *t);
/* The page landed with bytes that do not match its hash. */
void torn_mark(struct torn_pages *t, unsigned int region, uint64_t page);
/* The page landed whole (its hash matched, or it came sparse). */
void torn_landed(struct torn_pages *t, unsigned int region, uint64_t page);
/*
 * A pass ended. False, with the first such page, when a page torn in the
 * pass before did not come again in this one; else this pass's torn pages
 * become the ones awaited in the next.
 */
bool torn_pass_end(struct torn_pages *t, unsigned int *region,
		   uint64_t *page);
/* Before the digest: false, with the first one, while any is awaited. */
bool torn_none_left(const struct torn_pages *t, unsigned int *region,
		    uint64_t *page);

#endif
