// SPDX-License-Identifier: MIT
/*
 * The bare harvest of `bench dirtylog --bare`: only KVM's dirty-log ioctls
 * (through kvm/kvm.h), on the same memslots and with the same dirty
 * pattern as a tracked run, with no dirty_set fan-out and no VMM write log.
 * What each timed call does:
 *   bitmap  get   KVM_GET_DIRTY_LOG per logged slot (KVM clears as it reads)
 *   manual  get   KVM_GET_DIRTY_LOG per logged slot
 *           clear KVM_CLEAR_DIRTY_LOG of every page, all-ones mask, in
 *                 65536-page calls (KVM re-protects only the dirty ones)
 *   ring    get   collect every vCPU's dirty entries + KVM_RESET_DIRTY_RINGS;
 *                 during the pass a reaper thread does the same every
 *                 10 ms, as the dirty module's reaper does
 * Turning the results into per-page bits for the correctness check is done
 * afterwards, outside the timing (bench_bare_collect()).
 *
 * The dirty module is never attached in a bare run, so its own ring
 * reaper never runs and its ring positions stay unused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/bench/dirtylog_bare.h"
#include "kvm/dirty_ring.h"
#include "kvm/kvm.h"
#include "lib/log.h"
#include "vmm/vm.h"

#define BARE_REAPER_PERIOD_MS 10
#define CLEAR_CHUNK_PAGES 65536u

struct bench_bare {
	struct vm *vm;
	int vm_fd;
	struct guest_mem *mem;
	enum dirty_backend backend;
	uint32_t ring_entries;
	uint64_t *bitmaps[MEM_MAX_SLOTS]; /* bitmap, manual: last GET */
	uint64_t *ones;
	struct kvm_dirty_ring rings[VM_MAX_CPUS];
	unsigned int nr_rings;
	/* Ring entries harvested since the last collect: (slot, offset). */
	uint64_t *gfns;
	uint64_t nr_gfns;
	uint64_t max_gfns;
	uint64_t lost_gfns; /* more than max_gfns: counted, not kept */
	pthread_mutex_t lock; /* ring harvest: reaper vs. final harvest */
	pthread_t reaper;
	bool reaper_running;
	bool reaper_stop;
	uint64_t reaper_ns;
	int reaper_err;
};

static bool slot_writable(const struct mem_slot *s)
{
	return !(s->flags & MEM_SLOT_READONLY);
}

static int alloc_buffers(struct bench_bare *b)
{
	b->ones = malloc(CLEAR_CHUNK_PAGES / 8);
	if (!b->ones)
		return -ENOMEM;
	memset(b->ones, 0xff, CLEAR_CHUNK_PAGES / 8);
	for (unsigned int i = 0; i < b->mem->nr_slots; i++) {
		uint64_t pages = b->mem->slots[i].size_bytes / GUEST_PAGE_BYTES;

		b->bitmaps[i] = calloc((pages + 63) / 64, sizeof(uint64_t));
		if (!b->bitmaps[i])
			return -ENOMEM;
		b->max_gfns += pages;
	}
	/* A pass dirties each page at most once per vCPU between resets. */
	b->max_gfns = b->max_gfns * 2 + 65536;
	if (b->backend == DIRTY_BACKEND_RING) {
		b->gfns = malloc(b->max_gfns * sizeof(uint64_t));
		if (!b->gfns)
			return -ENOMEM;
	}
	return 0;
}

static int map_rings(struct bench_bare *b)
{
	for (unsigned int i = 0; i < vm_nr_vcpus(b->vm); i++) {
		int ret = kvm_dirty_ring_map(vm_kvm_vcpu(b->vm, i),
					     b->ring_entries, &b->rings[i]);

		if (ret < 0)
			return ret;
		b->nr_rings = i + 1;
	}
	return 0;
}

int bench_bare_create(struct vm *vm, const struct dirty_config *cfg,
		      struct bench_bare **out)
{
	struct bench_bare *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	b->vm = vm;
	b->vm_fd = vm_kvm_fd(vm);
	b->mem = vm_mem(vm);
	b->backend = dirty_tracker_backend(vm_dirty(vm));
	b->ring_entries = cfg->ring_entries;
	pthread_mutex_init(&b->lock, NULL);
	ret = alloc_buffers(b);
	if (!ret && b->backend == DIRTY_BACKEND_RING)
		ret = map_rings(b);
	if (ret < 0) {
		bench_bare_destroy(b);
		return ret;
	}
	*out = b;
	return 0;
}

void bench_bare_destroy(struct bench_bare *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < b->nr_rings; i++)
		kvm_dirty_ring_unmap(&b->rings[i]);
	for (unsigned int i = 0; i < MEM_MAX_SLOTS; i++)
		free(b->bitmaps[i]);
	free(b->ones);
	free(b->gfns);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int bench_bare_logging(struct bench_bare *b, bool on)
{
	for (unsigned int i = 0; i < b->mem->nr_slots; i++) {
		const struct mem_slot *s = &b->mem->slots[i];
		uint32_t flags = on ? s->flags | MEM_SLOT_LOG_DIRTY
				    : s->flags & ~MEM_SLOT_LOG_DIRTY;
		int ret;

		if (!slot_writable(s))
			continue;
		ret = guest_mem_slot_commit(b->vm_fd, s, flags, NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Collects one ring's entries and marks them for KVM to reset. Locked. */
static void harvest_ring(struct bench_bare *b, struct kvm_dirty_ring *r)
{
	uint64_t offset;
	uint32_t slot;

	while (kvm_dirty_ring_next(r, &slot, &offset)) {
		if (b->nr_gfns < b->max_gfns)
			b->gfns[b->nr_gfns++] = (uint64_t)slot << 48 | offset;
		else
			b->lost_gfns++;
	}
}

static int harvest_rings(struct bench_bare *b)
{
	uint64_t before;
	int ret = 0;

	pthread_mutex_lock(&b->lock);
	before = b->nr_gfns + b->lost_gfns;
	for (unsigned int i = 0; i < b->nr_rings; i++)
		harvest_ring(b, &b->rings[i]);
	if (b->nr_gfns + b->lost_gfns != before)
		ret = kvm_reset_dirty_rings(b->vm_fd);
	pthread_mutex_unlock(&b->lock);
	return ret < 0 ? ret : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Its CPU time is measured whole, wake-ups included, as the dirty
 * module's reaper is measured in a tracked run (its schedstat).
 */
static void *reaper_thread(void *arg)
{
	struct bench_bare *b = arg;
	const struct timespec period = { 0, BARE_REAPER_PERIOD_MS * 1000000L };
	uint64_t t0 = thread_cpu_ns();

	while (!__atomic_load_n(&b->reaper_stop, __ATOMIC_ACQUIRE)) {
		nanosleep(&period, NULL);
		if (harvest_rings(b) < 0)
			b->reaper_err = -EIO;
	}
	b->reaper_ns = thread_cpu_ns() - t0;
	return NULL;
}

int bench_bare_pass_begin(struct bench_bare *b)
{
	int ret;

	if (b->backend != DIRTY_BACKEND_RING)
		return 0;
	b->reaper_stop = false;
	b->reaper_ns = 0;
	ret = pthread_create(&b->reaper, NULL, reaper_thread, b);
	if (ret)
		return -ret;
	b->reaper_running = true;
	return 0;
}

int bench_bare_pass_end(struct bench_bare *b, uint64_t *reaper_ns)
{
	*reaper_ns = 0;
	if (!b->reaper_running)
		return 0;
	__atomic_store_n(&b->reaper_stop, true, __ATOMIC_RELEASE);
	pthread_join(b->reaper, NULL);
	b->reaper_running = false;
	*reaper_ns = b->reaper_ns;
	return b->reaper_err;
}

int bench_bare_get(struct bench_bare *b)
{
	if (b->backend == DIRTY_BACKEND_RING)
		return harvest_rings(b);
	for (unsigned int i = 0; i < b->mem->nr_slots; i++) {
		int ret;

		if (!slot_writable(&b->mem->slots[i]))
			continue;
		ret = kvm_get_dirty_log(b->vm_fd, b->mem->slots[i].id,
					b->bitmaps[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int bench_bare_clear(struct bench_bare *b)
{
	if (b->backend != DIRTY_BACKEND_MANUAL)
		return 0;
	for (unsigned int i = 0; i < b->mem->nr_slots; i++) {
		const struct mem_slot *s = &b->mem->slots[i];
		uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;

		if (!slot_writable(s))
			continue;
		for (uint64_t pg = 0; pg < pages; pg += CLEAR_CHUNK_PAGES) {
			uint64_t n = pages - pg < CLEAR_CHUNK_PAGES
					     ? pages - pg
					     : CLEAR_CHUNK_PAGES;
			int ret = kvm_clear_dirty_log(b->vm_fd, s->id, pg,
						      (uint32_t)n, b->ones);

			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static void set_page(struct dirty_set *into, const struct guest_mem *mem,
		     const struct mem_slot *s, uint64_t offset)
{
	unsigned int region = (unsigned int)(s->region - mem->regions);
	uint64_t pg = s->region_offset / GUEST_PAGE_BYTES + offset;

	if (region < into->nr_regions && pg < into->nr_pages[region])
		into->bits[region][pg / 64] |= 1ull << (pg % 64);
}

static const struct mem_slot *slot_by_id(const struct guest_mem *mem,
					 uint32_t id)
{
	for (unsigned int i = 0; i < mem->nr_slots; i++)
		if (mem->slots[i].id == id)
			return &mem->slots[i];
	return NULL;
}

void bench_bare_collect(struct bench_bare *b, struct dirty_set *into)
{
	const struct guest_mem *mem = b->mem;

	if (b->backend == DIRTY_BACKEND_RING) {
		pthread_mutex_lock(&b->lock);
		for (uint64_t i = 0; i < b->nr_gfns; i++) {
			const struct mem_slot *s =
				slot_by_id(mem, (uint32_t)(b->gfns[i] >> 48) & 0xffff);

			if (s)
				set_page(into, mem, s,
					 b->gfns[i] & ((1ull << 48) - 1));
		}
		if (b->lost_gfns)
			log_err("bench: %llu ring entries beyond the buffer were not checked",
				(unsigned long long)b->lost_gfns);
		b->nr_gfns = 0;
		b->lost_gfns = 0;
		pthread_mutex_unlock(&b->lock);
		return;
	}
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		const struct mem_slot *s = &mem->slots[i];
		uint64_t pages = s->size_bytes / GUEST_PAGE_BYTES;

		if (!slot_writable(s))
			continue;
		for (uint64_t w = 0; w < (pages + 63) / 64; w++)
			for (uint64_t bits = b->bitmaps[i][w]; bits;
			     bits &= bits - 1)
				set_page(into, mem, s,
					 w * 64 + (uint64_t)__builtin_ctzll(bits));
	}
}
