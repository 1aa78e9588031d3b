// SPDX-License-Identifier: MIT
/*
 * The ring harvest (ring.h): each vCPU's dirty ring, read with the inline
 * kvm_dirty_ring_next() and reported page by page into the sink, then
 * reset; and the reaper thread that does it every REAPER_PERIOD_MS while
 * logging is on. Runs under the tracker's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "kvm/dirty_ring.h"
#include "kvm/kvm.h"
#include "lib/log.h"
#include "vmm/dirty/ring.h"
#include "vmm/dirty/sink.h"

#define REAPER_PERIOD_MS 10

struct dirty_rings {
	int vm_fd;
	const struct guest_mem *mem;
	pthread_mutex_t *lock; /* the tracker's: guards everything below */
	const bool *logging; /* the tracker's: some slot is logged */
	const struct dirty_sink *sink; /* the tracker's attached sets */
	struct kvm_dirty_ring rings[VM_MAX_CPUS];
	unsigned int nr_rings;
	/* Ring reaper: empties the rings so that vCPUs rarely fill them. */
	pthread_t reaper;
	bool reaper_running;
	bool reaper_stop;
	pthread_cond_t reaper_cond;
};

struct dirty_rings *dirty_rings_create(int vm_fd, const struct guest_mem *mem,
				       pthread_mutex_t *lock,
				       const bool *logging,
				       const struct dirty_sink *sink)
{
	struct dirty_rings *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->vm_fd = vm_fd;
	r->mem = mem;
	r->lock = lock;
	r->logging = logging;
	r->sink = sink;
	pthread_cond_init(&r->reaper_cond, NULL);
	return r;
}

void dirty_rings_destroy(struct dirty_rings *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->nr_rings; i++)
		kvm_dirty_ring_unmap(&r->rings[i]);
	pthread_cond_destroy(&r->reaper_cond);
	free(r);
}

int dirty_rings_add_vcpu(struct dirty_rings *r, unsigned int index,
			 struct kvm_vcpu *vcpu, uint32_t entries)
{
	int ret = kvm_dirty_ring_map(vcpu, entries, &r->rings[index]);

	if (ret < 0)
		return ret;
	if (index >= r->nr_rings)
		r->nr_rings = index + 1;
	return 0;
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
static uint64_t harvest_ring(struct dirty_rings *rings, unsigned int vcpu)
{
	struct kvm_dirty_ring *r = &rings->rings[vcpu];
	struct gfn_slot c = { .slot_id = UINT32_MAX };
	uint64_t n = 0, marked = 0, offset;
	uint32_t slot;

	for (; kvm_dirty_ring_next(r, &slot, &offset); n++) {
		if (slot != c.slot_id)
			lookup_slot(rings->mem, slot, &c);
		if (c.found && offset < c.pages) {
			uint64_t pg = c.first_page + offset;

			dirty_sink_word(rings->sink, c.region, pg / 64,
					1ull << (pg % 64));
			marked++;
		}
	}
	dirty_sink_vcpu_pages(rings->sink, vcpu, marked);
	return n;
}

int dirty_rings_harvest(struct dirty_rings *r)
{
	uint64_t n = 0;
	int ret;

	for (unsigned int i = 0; i < r->nr_rings; i++)
		if (r->rings[i].gfns)
			n += harvest_ring(r, i);
	/* Re-protects the harvested pages so the next write is logged. The
	 * ioctl returns how many entries it reset: a short count is called
	 * again, as entries still marked stay unprotected until reset. */
	for (uint64_t done = 0; done < n; done += (uint64_t)ret) {
		ret = kvm_reset_dirty_rings(r->vm_fd);
		if (ret <= 0)
			return ret;
	}
	return 0;
}

static void *reaper_thread(void *arg)
{
	struct dirty_rings *r = arg;
	struct timespec deadline;

	pthread_mutex_lock(r->lock);
	while (!r->reaper_stop) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += REAPER_PERIOD_MS * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->reaper_cond, r->lock, &deadline);
		if (!r->reaper_stop && *r->logging &&
		    dirty_rings_harvest(r) < 0)
			log_err("dirty: ring reaper: harvest failed");
	}
	pthread_mutex_unlock(r->lock);
	return NULL;
}

/* Called with the lock held, when the first set attaches. */
int dirty_rings_reaper_start(struct dirty_rings *r)
{
	int ret;

	if (r->reaper_running)
		return 0;
	r->reaper_stop = false;
	ret = pthread_create(&r->reaper, NULL, reaper_thread, r);
	if (ret)
		return -ret;
	r->reaper_running = true;
	return 0;
}

/* Called without the lock. */
void dirty_rings_reaper_stop(struct dirty_rings *r)
{
	pthread_mutex_lock(r->lock);
	if (!r->reaper_running || *r->logging) {
		pthread_mutex_unlock(r->lock);
		return;
	}
	r->reaper_stop = true;
	pthread_cond_broadcast(&r->reaper_cond);
	pthread_mutex_unlock(r->lock);
	pthread_join(r->reaper, NULL);
	r->reaper_running = false;
}
