// SPDX-License-Identifier: MIT
/*
 * Sample mode (see dirtyrate.h): no dirty logging, so no write protection
 * and no cost to the guest. Pages drawn uniformly at random (with
 * replacement, so the changed count is exactly binomial) are hashed at the
 * start and at the end of the window; the changed fraction estimates the
 * fraction of RAM dirtied. A page rewritten with the same bytes looks
 * clean, and a page written in the window by a write that happened to
 * restore its old content too: sampling measures changed content, not
 * writes. Reading a never-touched page makes the host allocate it (once,
 * at most sample_pages pages per GiB).
 */
#include "dirtyrate/sample.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirtyrate/common.h"
#include "lib/clock.h"
#include "lib/json/json.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

struct sample_page {
	const uint64_t *hva;
	uint64_t gpa;
	unsigned int slot; /* index in guest_mem.slots */
	uint64_t hash;
};

struct sample_counts {
	uint64_t sampled, changed;
	uint64_t slot_sampled[MEM_MAX_SLOTS], slot_changed[MEM_MAX_SLOTS];
	uint64_t range_sampled, range_changed;
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Each step (xor a word, multiply by an odd constant, xor-shift) is a
 * bijection of h, so a page whose content differs in a single word always
 * hashes differently; more changes collide with probability ~2^-64. The
 * guest may be writing the page meanwhile: volatile reads keep the
 * compiler from assuming the words hold still.
 */
static uint64_t hash_page(const uint64_t *page)
{
	const volatile uint64_t *p = page;
	uint64_t h = 0x6a09e667f3bcc908ull;

	for (unsigned int i = 0; i < GUEST_PAGE_BYTES / 8; i++) {
		h ^= p[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

/* Page `index` of all RAM, counted through the writable slots in order. */
static void locate(const struct guest_mem *mem, uint64_t index,
		   struct sample_page *sp)
{
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		const struct mem_slot *s = &mem->slots[i];
		uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;

		if (!dirtyrate_slot_counted(s))
			continue;
		if (index < pages) {
			sp->slot = i;
			sp->gpa = s->gpa + index * GUEST_PAGE_BYTES;
			sp->hva = (const uint64_t *)(s->region->hva +
						     s->region_offset +
						     index * GUEST_PAGE_BYTES);
			return;
		}
		index -= pages;
	}
}

static uint64_t counted_pages(const struct guest_mem *mem)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < mem->nr_slots; i++)
		if (dirtyrate_slot_counted(&mem->slots[i]))
			n += mem->slots[i].size_bytes / GUEST_PAGE_BYTES;
	return n;
}

/* Pages of the request's range in writable slots. */
static uint64_t range_total(const struct guest_mem *mem,
			    const struct dirtyrate_request *req)
{
	uint64_t n = 0, first, pages;

	for (unsigned int i = 0; i < mem->nr_slots && req->range_bytes; i++)
		if (dirtyrate_slot_counted(&mem->slots[i]) &&
		    dirtyrate_range_in_slot(&mem->slots[i], req->range_gpa,
					    req->range_bytes, &first, &pages))
			n += pages;
	return n;
}

static bool in_range(const struct dirtyrate_request *req, uint64_t gpa)
{
	return req->range_bytes && gpa + GUEST_PAGE_BYTES > req->range_gpa &&
	       gpa < req->range_gpa + req->range_bytes;
}

/* Hashes every sample (first pass) or compares (second); returns when. */
static uint64_t hash_pass(struct sample_page *sp, uint64_t n, bool compare,
			  const struct dirtyrate_request *req,
			  struct sample_counts *c)
{
	uint64_t before = clock_now_ns();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t h = hash_page(sp[i].hva);
		bool changed = h != sp[i].hash;

		sp[i].hash = h;
		if (!compare)
			continue;
		c->sampled++;
		c->changed += changed;
		c->slot_sampled[sp[i].slot]++;
		c->slot_changed[sp[i].slot] += changed;
		if (in_range(req, sp[i].gpa)) {
			c->range_sampled++;
			c->range_changed += changed;
		}
	}
	return (before + clock_now_ns()) / 2;
}

static void write_sample(struct jw *w, const struct guest_mem *mem,
			 const struct sample_counts *c, uint64_t seed,
			 const struct dirtyrate_estimate *total, double secs)
{
	jw_object_begin(w, "sample");
	jw_u64(w, "seed", seed);
	jw_u64(w, "sampled_pages", c->sampled);
	jw_u64(w, "changed_pages", c->changed);
	jw_double(w, "stderr_pages", total->stderr_pages);
	jw_double(w, "ci95_low_pages", total->ci95_low_pages);
	jw_double(w, "ci95_high_pages", total->ci95_high_pages);
	jw_double(w, "ci95_low_mib_per_s",
		  dirtyrate_mib(total->ci95_low_pages) / secs);
	jw_double(w, "ci95_high_mib_per_s",
		  dirtyrate_mib(total->ci95_high_pages) / secs);
	jw_array_begin(w, "slots");
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		struct dirtyrate_estimate e;

		if (!dirtyrate_slot_counted(&mem->slots[i]))
			continue;
		dirtyrate_sample_estimate(
			c->slot_sampled[i], c->slot_changed[i],
			mem->slots[i].size_bytes / GUEST_PAGE_BYTES, &e);
		jw_object_begin(w, NULL);
		jw_u64(w, "slot", mem->slots[i].id);
		jw_u64(w, "sampled_pages", c->slot_sampled[i]);
		jw_u64(w, "changed_pages", c->slot_changed[i]);
		jw_double(w, "ci95_low_pages", e.ci95_low_pages);
		jw_double(w, "ci95_high_pages", e.ci95_high_pages);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_object_end(w);
}

static void estimate_result(const struct guest_mem *mem,
			    const struct dirtyrate_request *req,
			    const struct sample_counts *c,
			    struct dirtyrate_result *res,
			    struct dirtyrate_estimate *total)
{
	struct dirtyrate_estimate e;

	dirtyrate_sample_estimate(c->sampled, c->changed, counted_pages(mem),
				  total);
	res->dirty_pages = total->pages;
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		dirtyrate_sample_estimate(
			c->slot_sampled[i], c->slot_changed[i],
			mem->slots[i].size_bytes / GUEST_PAGE_BYTES, &e);
		res->slot_pages[i] = e.pages;
	}
	dirtyrate_sample_estimate(c->range_sampled, c->range_changed,
				  range_total(mem, req), &e);
	res->range_pages = e.pages;
}

int dirtyrate_measure_sample(struct vm *vm,
			     const struct dirtyrate_request *req, struct jw *w,
			     char *err, size_t err_len)
{
	const struct guest_mem *mem = vm_mem(vm);
	uint64_t total = counted_pages(mem), n, seed, t0, t1;
	struct dirtyrate_result res = { 0 };
	struct dirtyrate_estimate est;
	struct sample_counts c = { 0 };
	struct sample_page *sp;
	int ret;

	n = dirtyrate_sample_count(total * GUEST_PAGE_BYTES, req->sample_pages);
	seed = req->have_seed ? req->seed :
				clock_now_ns() ^ ((uint64_t)getpid() << 32);
	sp = calloc(n, sizeof(*sp));
	if (!sp) {
		snprintf(err, err_len, "out of memory for %llu samples",
			 (unsigned long long)n);
		return -ENOMEM;
	}
	for (uint64_t i = 0, s = seed; i < n; i++)
		locate(mem, (uint64_t)(((unsigned __int128)splitmix64(&s) *
					total) >> 64),
		       &sp[i]);
	res.logging_before = res.logging_after =
		dirty_tracker_logging(vm_dirty(vm));
	t0 = hash_pass(sp, n, false, req, &c);
	ret = dirtyrate_wait_until(vm, t0 + req->period_ms * 1000000);
	if (!ret) {
		t1 = hash_pass(sp, n, true, req, &c);
		res.elapsed_ns = t1 - t0;
		estimate_result(mem, req, &c, &res, &est);
		jw_object_begin(w, NULL);
		dirtyrate_write_common(w, vm, req, &res);
		write_sample(w, mem, &c, seed, &est,
			     (double)res.elapsed_ns / 1e9);
		jw_object_end(w);
	} else {
		dirtyrate_wait_error(ret, err, err_len);
	}
	free(sp);
	return ret;
}
