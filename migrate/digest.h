/* SPDX-License-Identifier: MIT */
/*
 * The whole-memory digest both sides of a migration compute while the
 * guest is stopped: the sum of page_digest_term() over every page. Pages
 * that are not resident are zero and add nothing, so they are not read.
 */
#ifndef KVMTRACK_DIGEST_H
#define KVMTRACK_DIGEST_H

#include <stdint.h>

struct guest_mem;

struct mem_digest {
	uint64_t digest;
	uint64_t nonzero_pages;
	uint64_t read_pages;
};

/* Computes it with up to `threads` threads (1 to 8). */
void mem_digest_compute(const struct guest_mem *mem, unsigned int threads,
			struct mem_digest *out);

/*
 * --verify sent's spot check, with the vCPUs stopped and every dirty page
 * sent: up to n pages drawn at random among those sent with data
 * (terms[region][page] != 0; nonzero of them; blocks has a bit per 64
 * pages, set where any may be) are read again, all of them when there
 * are no more than n, and their terms compared
 * with the ones sent. A difference is a write the dirty log missed; the
 * full re-read (--verify full) is the certain way to find every one.
 * Returns how many differ, and the first one's guest-physical address.
 */
#define SPOT_CHECK_PAGES 1024
uint64_t mem_spot_check(const struct guest_mem *mem, uint64_t *const *terms,
			uint64_t *const *blocks, uint64_t nonzero,
			unsigned int n, uint64_t seed, uint64_t *first_gpa);

#endif
