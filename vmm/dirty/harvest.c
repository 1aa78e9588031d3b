// SPDX-License-Identifier: MIT
/*
 * Harvesting dirty pages from KVM's three backends and from the VMM's own
 * write log, into every attached dirty_set (see dirty.h). Called with the
 * tracker's lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/dirty/dirty_impl.h"
#include "kvm/kvm.h"
#include "lib/log.h"

#define REAPER_PERIOD_MS 10

/* ORs one 64-page word of a region's dirty bits into every set. */
static void fan_out_word(struct dirty_tracker *t, unsigned int region,
			 uint64_t word, uint64_t bits)
{
	for (struct dirty_set *s = t->sets; s; s = s->next)
		s->bits[region][word] |= bits;
}

/*
 * ORs a slot's bitmap into the sets at the slot's place in its region.
 * Slots start at page multiples of 64 within their region in kvmtrack's
 * layout; a slot that does not is handled bit by bit.
 */
static void fan_out_slot(struct dirty_tracker *t, const struct mem_slot *s,
			 const uint64_t *bitmap)
{
	unsigned int region = (unsigned int)(s->region - t->mem->regions);
	uint64_t first = s->region_offset / GUEST_PAGE_BYTES;
	uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;

	for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
		uint64_t bits = bitmap[w];

		if (!bits)
			continue;
		if (first % 64 == 0) {
			fan_out_word(t, region, first / 64 + w, bits);
			continue;
		}
		for (; bits; bits &= bits - 1) {
			uint64_t pg = first + w * 64 +
				      (uint64_t)__builtin_ctzll(bits);

			fan_out_word(t, region, pg / 64, 1ull << (pg % 64));
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

/* The slot's GET_DIRTY_LOG buffer, made when its id is new or it grew. */
uint64_t *dirty_slot_scratch(struct dirty_tracker *t, const struct mem_slot *s)
{
	uint64_t words = (s->size_bytes / GUEST_PAGE_BYTES + 63) / 64;

	if (s->id >= MEM_MAX_SLOTS)
		return NULL;
	if (t->scratch[s->id] && t->scratch_words[s->id] >= words)
		return t->scratch[s->id];
	free(t->scratch[s->id]);
	t->scratch[s->id] = calloc(words ?: 1, sizeof(uint64_t));
	t->scratch_words[s->id] = t->scratch[s->id] ? words : 0;
	return t->scratch[s->id];
}

static int harvest_slot_log(struct dirty_tracker *t, unsigned int i,
			    bool defer_clear)
{
	const struct mem_slot *s = &t->mem->slots[i];
	uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;
	uint64_t *scratch = dirty_slot_scratch(t, s);
	int ret;

	if (!scratch)
		return -ENOMEM;
	ret = kvm_get_dirty_log(t->vm_fd, s->id, scratch);
	if (ret < 0)
		return ret;
	fan_out_slot(t, s, scratch);
	if (t->backend != DIRTY_BACKEND_MANUAL || defer_clear ||
	    !any_bits(scratch, (pages + 63) / 64))
		return 0;
	/* One CLEAR with the bitmap just read re-protects exactly the pages
	 * that were dirty: cheaper than one ioctl per 64-page chunk. */
	return kvm_clear_dirty_log(t->vm_fd, s->id, 0, (uint32_t)pages,
				   scratch);
}

/* Where a ring entry's slot lies in its region: looked up once per run of
 * entries of the same slot, since the ring holds them in bulk. */
struct gfn_slot {
	uint32_t slot_id; /* as in the entry; UINT32_MAX: none yet */
	bool found;
	unsigned int region;
	uint64_t first_page; /* the slot's first page in its region */
	uint64_t pages;
};

static void lookup_slot(const struct guest_mem *mem, uint32_t slot_id,
			struct gfn_slot *c)
{
	c->slot_id = slot_id;
	c->found = false;
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		const struct mem_slot *s = &mem->slots[i];

		if (s->id != (slot_id & 0xffff))
			continue;
		c->found = true;
		c->region = (unsigned int)(s->region - mem->regions);
		c->first_page = s->region_offset / GUEST_PAGE_BYTES;
		c->pages = s->size_bytes / GUEST_PAGE_BYTES;
		return;
	}
}

/* Collects a ring's dirty entries, marking each for KVM to reset. */
static uint64_t harvest_ring(struct dirty_tracker *t, unsigned int vcpu)
{
	struct kvm_dirty_ring *r = &t->rings[vcpu];
	struct gfn_slot c = { .slot_id = UINT32_MAX };
	uint64_t n = 0, marked = 0, offset;
	uint32_t slot;

	for (; kvm_dirty_ring_next(r, &slot, &offset); n++) {
		if (slot != c.slot_id)
			lookup_slot(t->mem, slot, &c);
		if (c.found && offset < c.pages) {
			uint64_t pg = c.first_page + offset;

			fan_out_word(t, c.region, pg / 64, 1ull << (pg % 64));
			marked++;
		}
	}
	for (struct dirty_set *set = t->sets; marked && set; set = set->next)
		set->vcpu_pages[vcpu] += marked;
	return n;
}

int dirty_harvest_rings_locked(struct dirty_tracker *t)
{
	uint64_t n = 0;
	int ret;

	for (unsigned int i = 0; i < t->nr_rings; i++)
		if (t->rings[i].gfns)
			n += harvest_ring(t, i);
	/* Re-protects the harvested pages so the next write is logged. The
	 * ioctl returns how many entries it reset: a short count is called
	 * again, as entries still marked stay unprotected until reset. */
	for (uint64_t done = 0; done < n; done += (uint64_t)ret) {
		ret = kvm_reset_dirty_rings(t->vm_fd);
		if (ret <= 0)
			return ret;
	}
	return 0;
}

/* The VMM's own writes: taken word by word so none is lost to a race. */
static void harvest_vmm_writes(struct dirty_tracker *t)
{
	for (unsigned int r = 0; r < t->mem->nr_regions; r++) {
		const struct mem_region *region = &t->mem->regions[r];
		uint64_t words = (mem_region_pages(region) + 63) / 64;

		for (uint64_t w = 0; w < words; w++) {
			uint64_t bits;

			if (!region->vmm_dirty[w])
				continue;
			bits = __atomic_exchange_n(&region->vmm_dirty[w], 0,
						   __ATOMIC_ACQ_REL);
			fan_out_word(t, r, w, bits);
			for (struct dirty_set *s = t->sets; s; s = s->next)
				s->vmm_pages +=
					(uint64_t)__builtin_popcountll(bits);
		}
	}
}

int dirty_harvest_locked(struct dirty_tracker *t, bool defer_clear)
{
	int ret = 0;

	if (t->backend == DIRTY_BACKEND_RING) {
		ret = dirty_harvest_rings_locked(t);
	} else {
		for (unsigned int i = 0; i < t->mem->nr_slots && !ret; i++)
			if (t->mem->slots[i].flags & MEM_SLOT_LOG_DIRTY)
				ret = harvest_slot_log(t, i, defer_clear);
	}
	harvest_vmm_writes(t);
	return ret;
}

int dirty_clear_bits(struct dirty_tracker *t, unsigned int region,
		     uint64_t first_page, uint64_t nr_pages,
		     const uint64_t *bits)
{
	const struct guest_mem *mem = t->mem;
	int ret = 0;

	if (t->backend != DIRTY_BACKEND_MANUAL || first_page % 64)
		return first_page % 64 ? -EINVAL : 0;
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

			ret = kvm_clear_dirty_log(t->vm_fd, s->id, pg - start,
						  (uint32_t)n,
						  (uint64_t *)bits +
							  (pg - first_page) / 64);
		}
	}
	return ret;
}

int dirty_clear_pages(struct dirty_tracker *t, unsigned int region,
		      uint64_t first_page, uint64_t nr_pages)
{
	int ret = 0;

	/* t->ones covers 65536 pages; walk bigger ranges in such steps. */
	for (uint64_t done = 0; done < nr_pages && !ret; done += 65536) {
		uint64_t n = nr_pages - done < 65536 ? nr_pages - done : 65536;

		ret = dirty_clear_bits(t, region, first_page + done, n,
				       t->ones);
	}
	return ret;
}

static void *reaper_thread(void *arg)
{
	struct dirty_tracker *t = arg;
	struct timespec deadline;

	pthread_mutex_lock(&t->lock);
	while (!t->reaper_stop) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += REAPER_PERIOD_MS * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->reaper_cond, &t->lock, &deadline);
		if (!t->reaper_stop && t->logging &&
		    dirty_harvest_rings_locked(t) < 0)
			log_err("dirty: ring reaper: harvest failed");
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* Called with the lock held, when the first set attaches. */
int dirty_reaper_start(struct dirty_tracker *t)
{
	int ret;

	if (t->reaper_running)
		return 0;
	t->reaper_stop = false;
	ret = pthread_create(&t->reaper, NULL, reaper_thread, t);
	if (ret)
		return -ret;
	t->reaper_running = true;
	return 0;
}

/* Called without the lock. */
void dirty_reaper_stop(struct dirty_tracker *t)
{
	pthread_mutex_lock(&t->lock);
	if (!t->reaper_running || t->logging) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	t->reaper_stop = true;
	pthread_cond_broadcast(&t->reaper_cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->reaper, NULL);
	t->reaper_running = false;
}
