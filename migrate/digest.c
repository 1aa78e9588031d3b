// SPDX-License-Identifier: MIT
/* Whole-memory digest (see digest.h). */
#include "migrate/digest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/page_hash.h"
#include "vmm/mem/memory.h"

#define MAX_THREADS 8
/* Below this many written pages a second thread costs more than it saves. */
#define PAGES_PER_THREAD 16384

struct page_range {
	const struct mem_region *region;
	uint64_t first, end;
};

struct digest_job {
	const struct page_range *ranges;
	size_t nr_ranges;
	uint64_t skip, take; /* this job's share, in pages over all ranges */
	struct mem_digest result;
};

/* The written ranges of every region (guest_mem_next_data): never-written
 * pages are zero and add nothing to the digest. */
static struct page_range *written_ranges(const struct guest_mem *mem,
					 size_t *nr, uint64_t *pages)
{
	struct page_range *ranges = NULL;
	size_t cap = 0;

	*nr = 0;
	*pages = 0;
	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		uint64_t first, end, from = 0;

		while (guest_mem_next_data(&mem->regions[r], from, &first,
					   &end)) {
			if (*nr == cap) {
				struct page_range *n;

				cap = cap ? cap * 2 : 64;
				n = realloc(ranges, cap * sizeof(*n));
				if (!n)
					break;
				ranges = n;
			}
			ranges[(*nr)++] = (struct page_range){
				&mem->regions[r], first, end
			};
			*pages += end - first;
			from = end;
		}
	}
	return ranges;
}

static void digest_pages(const struct mem_region *r, uint64_t first,
			 uint64_t end, struct mem_digest *d)
{
	for (uint64_t page = first; page < end; page++) {
		uint64_t term = page_digest_term(
			r->gpa + page * GUEST_PAGE_BYTES,
			page_hash(r->hva + page * GUEST_PAGE_BYTES));

		d->digest += term;
		d->nonzero_pages += term != 0;
		d->read_pages++;
	}
}

static void *digest_thread(void *arg)
{
	struct digest_job *job = arg;
	uint64_t skip = job->skip, take = job->take;

	for (size_t i = 0; i < job->nr_ranges && take; i++) {
		const struct page_range *r = &job->ranges[i];
		uint64_t len = r->end - r->first, n;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		n = len - skip < take ? len - skip : take;
		digest_pages(r->region, r->first + skip, r->first + skip + n,
			     &job->result);
		take -= n;
		skip = 0;
	}
	return NULL;
}

void mem_digest_compute(const struct guest_mem *mem, unsigned int threads,
			struct mem_digest *out)
{
	struct digest_job jobs[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	bool started[MAX_THREADS] = { false };
	uint64_t pages, share;
	size_t nr;
	struct page_range *ranges = written_ranges(mem, &nr, &pages);

	if (threads > pages / PAGES_PER_THREAD)
		threads = (unsigned int)(pages / PAGES_PER_THREAD);
	threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	share = (pages + threads - 1) / threads;
	for (unsigned int i = 0; i < threads; i++) {
		jobs[i] = (struct digest_job){ .ranges = ranges, .nr_ranges = nr,
					       .skip = share * i, .take = share };
		if (i > 0)
			started[i] = !pthread_create(&tids[i], NULL,
						     digest_thread, &jobs[i]);
	}
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < threads; i++) {
		if (i == 0 || !started[i])
			digest_thread(&jobs[i]);
		else
			pthread_join(tids[i], NULL);
		out->digest += jobs[i].result.digest;
		out->nonzero_pages += jobs[i].result.nonzero_pages;
		out->read_pages += jobs[i].result.read_pages;
	}
	free(ranges);
}

static uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One page read again against its term; counts and notes a difference. */
static void check_page(const struct mem_region *reg, const uint64_t *terms,
		       uint64_t page, uint64_t *bad, uint64_t *first_gpa)
{
	uint64_t gpa = reg->gpa + page * GUEST_PAGE_BYTES;
	uint64_t term = page_digest_term(gpa, page_hash(reg->hva + page *
						    GUEST_PAGE_BYTES));

	if (term != terms[page] && (*bad)++ == 0)
		*first_gpa = gpa;
}

/* Every page sent with data in region r: blocks has a bit per 64 pages,
 * set where any may be, so few written pages are found quickly. */
static void check_all_sent(const struct mem_region *reg,
			   const uint64_t *terms, const uint64_t *blocks,
			   uint64_t *bad, uint64_t *first_gpa)
{
	uint64_t pages = mem_region_pages(reg);

	for (uint64_t w = 0; w < (pages + 4095) / 4096; w++)
		for (uint64_t b = blocks[w]; b; b &= b - 1) {
			uint64_t p = w * 4096 + 64 * (uint64_t)__builtin_ctzll(b);
			uint64_t end = p + 64 < pages ? p + 64 : pages;

			for (; p < end; p++)
				if (terms[p])
					check_page(reg, terms, p, bad, first_gpa);
		}
}

uint64_t mem_spot_check(const struct guest_mem *mem, uint64_t *const *terms,
			uint64_t *const *blocks, uint64_t nonzero,
			unsigned int n, uint64_t seed, uint64_t *first_gpa)
{
	uint64_t total = 0, bad = 0, rng = seed | 1;
	unsigned int checked = 0;

	/* Few written pages (an idle guest): all of them, rather than
	 * thousands of random misses. */
	if (nonzero <= n) {
		for (unsigned int r = 0; r < mem->nr_regions; r++)
			check_all_sent(&mem->regions[r], terms[r], blocks[r],
				       &bad, first_gpa);
		return bad;
	}
	for (unsigned int r = 0; r < mem->nr_regions; r++)
		total += mem_region_pages(&mem->regions[r]);
	/* Pages sent as zero (and never-written ones, which are not even
	 * resident) are passed over: about total / nonzero tries a page. */
	for (uint64_t tries = 0; checked < n && tries < 16ull * n; tries++) {
		uint64_t pick = xorshift64(&rng) % total;
		unsigned int r = 0;

		while (pick >= mem_region_pages(&mem->regions[r]))
			pick -= mem_region_pages(&mem->regions[r++]);
		if (!terms[r][pick])
			continue;
		check_page(&mem->regions[r], terms[r], pick, &bad, first_gpa);
		checked++;
	}
	return bad;
}
