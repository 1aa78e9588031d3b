// SPDX-License-Identifier: MIT
/* Whole-memory digest (see digest.h). */
#include "migrate/digest.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "migrate/checksum.h"
#include "vmm/memory.h"

#define CHUNK_PAGES 4096
#define MAX_THREADS 8

struct digest_job {
	const struct guest_mem *mem;
	unsigned int index;
	unsigned int nr_jobs;
	struct mem_digest result;
};

static void digest_chunk(const struct mem_region *r, uint64_t base,
			 uint64_t pages, struct mem_digest *d)
{
	unsigned char vec[CHUNK_PAGES];

	if (mincore(r->hva + base * GUEST_PAGE_BYTES,
		    pages * GUEST_PAGE_BYTES, vec) < 0)
		memset(vec, 1, pages);
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t page = base + i, term;

		if (!(vec[i] & 1))
			continue;
		term = page_digest_term(r->gpa + page * GUEST_PAGE_BYTES,
					page_hash(r->hva +
						  page * GUEST_PAGE_BYTES));
		d->digest += term;
		d->nonzero_pages += term != 0;
		d->read_pages++;
	}
}

/* Job i takes every nr_jobs-th chunk, so the threads share the work evenly
 * however the resident pages are spread. */
static void *digest_thread(void *arg)
{
	struct digest_job *job = arg;
	uint64_t chunk = 0;

	for (unsigned int r = 0; r < job->mem->nr_regions; r++) {
		const struct mem_region *region = &job->mem->regions[r];
		uint64_t pages = mem_region_pages(region);

		for (uint64_t base = 0; base < pages;
		     base += CHUNK_PAGES, chunk++) {
			if (chunk % job->nr_jobs != job->index)
				continue;
			digest_chunk(region, base,
				     pages - base < CHUNK_PAGES ? pages - base
								: CHUNK_PAGES,
				     &job->result);
		}
	}
	return NULL;
}

void mem_digest_compute(const struct guest_mem *mem, unsigned int threads,
			struct mem_digest *out)
{
	struct digest_job jobs[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	unsigned int started = 1;

	if (threads < 1)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	for (unsigned int i = 0; i < threads; i++)
		jobs[i] = (struct digest_job){ .mem = mem, .index = i,
					       .nr_jobs = threads };
	for (unsigned int i = 1; i < threads; i++, started++)
		if (pthread_create(&tids[i], NULL, digest_thread, &jobs[i]))
			break;
	/* Jobs whose thread did not start run here. */
	for (unsigned int i = started; i < threads; i++)
		digest_thread(&jobs[i]);
	digest_thread(&jobs[0]);
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < threads; i++) {
		if (i > 0 && i < started)
			pthread_join(tids[i], NULL);
		out->digest += jobs[i].result.digest;
		out->nonzero_pages += jobs[i].result.nonzero_pages;
		out->read_pages += jobs[i].result.read_pages;
	}
}
