// SPDX-License-Identifier: MIT
/* Pages that changed while they were sent (see torn.h). */
#include "migrate/torn.h"

#include <errno.h>
#include <stdlib.h>

int torn_init(struct torn_pages *t, const struct guest_mem *mem)
{
	*t = (struct torn_pages){ .nr_regions = mem->nr_regions };
	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		uint64_t words = (mem_region_pages(&mem->regions[r]) + 63) / 64;

		t->words[r] = words;
		for (int i = 0; i < 2; i++) {
			t->bits[i][r] = calloc(words ? words : 1, 8);
			if (!t->bits[i][r]) {
				torn_free(t);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

void torn_free(struct torn_pages *t)
{
	for (int i = 0; i < 2; i++)
		for (unsigned int r = 0; r < MEM_MAX_REGIONS; r++) {
			free(t->bits[i][r]);
			t->bits[i][r] = NULL;
		}
	t->count[0] = t->count[1] = 0;
}

/* Clears the page's bit in set i; true if it was set. */
static bool take(struct torn_pages *t, unsigned int i, unsigned int region,
		 uint64_t page)
{
	uint64_t *w = &t->bits[i][region][page / 64];
	uint64_t bit = 1ull << (page % 64);

	if (!(*w & bit))
		return false;
	*w &= ~bit;
	t->count[i]--;
	return true;
}

void torn_mark(struct torn_pages *t, unsigned int region, uint64_t page)
{
	uint64_t *w = &t->bits[t->cur][region][page / 64];
	uint64_t bit = 1ull << (page % 64);

	/* Torn in the pass before and again in this one: awaited from
	 * this pass on, once. */
	take(t, !t->cur, region, page);
	if (!(*w & bit)) {
		*w |= bit;
		t->count[t->cur]++;
	}
	t->total++;
}

void torn_landed(struct torn_pages *t, unsigned int region, uint64_t page)
{
	/* The usual case, every page of a migration: nothing awaited. */
	if (!(t->count[0] | t->count[1]))
		return;
	take(t, 0, region, page);
	take(t, 1, region, page);
}

/* The first page set in set i; false if none. */
static bool first(const struct torn_pages *t, unsigned int i,
		  unsigned int *region, uint64_t *page)
{
	if (!t->count[i])
		return false;
	for (unsigned int r = 0; r < t->nr_regions; r++)
		for (uint64_t w = 0; w < t->words[r]; w++) {
			uint64_t bits = t->bits[i][r][w];

			if (bits) {
				*region = r;
				*page = w * 64 + (uint64_t)__builtin_ctzll(bits);
				return true;
			}
		}
	return false;
}

bool torn_pass_end(struct torn_pages *t, unsigned int *region,
		   uint64_t *page)
{
	unsigned int before = !t->cur;

	if (first(t, before, region, page))
		return false;
	/* The set of the pass before is empty: it becomes the next one's. */
	t->cur = before;
	return true;
}

bool torn_none_left(const struct torn_pages *t, unsigned int *region,
		    uint64_t *page)
{
	return !first(t, 0, region, page) && !first(t, 1, region, page);
}
