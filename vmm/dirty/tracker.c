// SPDX-License-Identifier: MIT
/*
 * Dirty tracking (see dirty.h): turning KVM's logging on and off per
 * memslot, harvesting the three backends and the VMM's own writes, and
 * fanning the result out to every attached set. The backends' harvests
 * are in bitmap.c (bitmap, manual) and ring.c (ring); each reports into
 * the tracker's sink (sink.h), under the tracker's lock.
 */
#include "vmm/dirty/dirty.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"
#include "lib/log.h"
#include "vmm/dirty/bitmap.h"
#include "vmm/dirty/ring.h"
#include "vmm/dirty/sink.h"

struct dirty_tracker {
	int vm_fd;
	struct guest_mem *mem;
	enum dirty_backend backend;
	uint32_t ring_entries;
	pthread_mutex_t lock; /* guards everything below */
	bool logging; /* some slot is logged */
	uint32_t forced_slots; /* dirty_log_force() */
	struct dirty_sink sink; /* the attached consumers */
	struct dirty_bitmaps *bitmaps; /* bitmap and manual backends */
	struct dirty_rings *rings; /* ring backend; its reaper */
};

const char *dirty_backend_name(enum dirty_backend backend)
{
	switch (backend) {
	case DIRTY_BACKEND_AUTO:
		return "auto";
	case DIRTY_BACKEND_BITMAP:
		return "bitmap";
	case DIRTY_BACKEND_MANUAL:
		return "manual";
	case DIRTY_BACKEND_RING:
		return "ring";
	}
	return "unknown";
}

int dirty_parse_backend(const char *text, struct dirty_config *cfg,
			char *err, size_t err_len)
{
	char *end;
	unsigned long n;

	cfg->ring_entries = DIRTY_RING_DEFAULT_ENTRIES;
	if (!strcmp(text, "bitmap")) {
		cfg->backend = DIRTY_BACKEND_BITMAP;
	} else if (!strcmp(text, "manual")) {
		cfg->backend = DIRTY_BACKEND_MANUAL;
	} else if (!strcmp(text, "ring")) {
		cfg->backend = DIRTY_BACKEND_RING;
	} else if (!strncmp(text, "ring:", 5)) {
		cfg->backend = DIRTY_BACKEND_RING;
		n = strtoul(text + 5, &end, 10);
		/* KVM wants a power of two, and a ring of at least a page.
		 * (Small rings once lost pages: kvm_reset_dirty_rings() in
		 * kvm.c says why and how that is avoided.) */
		if (*end || n < DIRTY_RING_MIN_ENTRIES ||
		    n > DIRTY_RING_MAX_ENTRIES ||
		    (n & (n - 1))) {
			snprintf(err, err_len,
				 "--dirty-log '%s': ring entries must be a power of two from %u to %u",
				 text, DIRTY_RING_MIN_ENTRIES,
				 DIRTY_RING_MAX_ENTRIES);
			return -EINVAL;
		}
		cfg->ring_entries = (uint32_t)n;
	} else {
		snprintf(err, err_len,
			 "--dirty-log '%s': expected bitmap, manual or ring[:ENTRIES]",
			 text);
		return -EINVAL;
	}
	return 0;
}

/*
 * AUTO picks manual protect when the host has it: harvesting a clean slot
 * costs ~10 us instead of a bitmap copy, only dirty chunks are cleared, and
 * a migration can clear each chunk just before sending it. The ring is
 * never picked by itself: it must be sized before the vCPUs exist and its
 * harvest costs more per page here (shared/KVM-HERE.md); ask for it when
 * per-vCPU attribution is wanted.
 */
static int resolve_backend(const struct kvm_sys *sys,
			   const struct dirty_config *cfg,
			   enum dirty_backend *out)
{
	int manual = kvm_check_extension(sys, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	int ring = kvm_check_extension(sys, KVM_CAP_DIRTY_LOG_RING_ACQ_REL);

	if (ring <= 0)
		ring = kvm_check_extension(sys, KVM_CAP_DIRTY_LOG_RING);
	switch (cfg->backend) {
	case DIRTY_BACKEND_AUTO:
		*out = manual > 0 ? DIRTY_BACKEND_MANUAL : DIRTY_BACKEND_BITMAP;
		return 0;
	case DIRTY_BACKEND_MANUAL:
		if (manual <= 0) {
			log_err("dirty: this host lacks KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2");
			return -ENOTSUP;
		}
		break;
	case DIRTY_BACKEND_RING:
		if (ring <= 0 ||
		    (uint64_t)ring < cfg->ring_entries * sizeof(struct kvm_dirty_gfn)) {
			log_err("dirty: this host has no dirty ring of %u entries (max %d bytes)",
				cfg->ring_entries, ring);
			return -ENOTSUP;
		}
		break;
	case DIRTY_BACKEND_BITMAP:
		break;
	}
	*out = cfg->backend;
	return 0;
}

static int enable_backend(struct dirty_tracker *t, const struct kvm_sys *sys)
{
	uint32_t cap = KVM_CAP_DIRTY_LOG_RING_ACQ_REL;

	if (t->backend == DIRTY_BACKEND_MANUAL)
		return kvm_enable_cap(t->vm_fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				      KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
	if (t->backend != DIRTY_BACKEND_RING)
		return 0;
	if (kvm_check_extension(sys, KVM_CAP_DIRTY_LOG_RING_ACQ_REL) <= 0)
		cap = KVM_CAP_DIRTY_LOG_RING;
	return kvm_enable_cap(t->vm_fd, cap,
			      t->ring_entries * sizeof(struct kvm_dirty_gfn));
}

int dirty_tracker_create(const struct kvm_sys *sys, int vm_fd,
			 struct guest_mem *mem,
			 const struct dirty_config *cfg,
			 struct dirty_tracker **out)
{
	struct dirty_tracker *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->vm_fd = vm_fd;
	t->mem = mem;
	t->ring_entries = cfg->ring_entries ?: DIRTY_RING_DEFAULT_ENTRIES;
	pthread_mutex_init(&t->lock, NULL);
	t->rings = dirty_rings_create(vm_fd, mem, &t->lock, &t->logging,
				      &t->sink);
	t->bitmaps = dirty_bitmaps_create(vm_fd);
	if (!t->rings || !t->bitmaps) {
		dirty_rings_destroy(t->rings);
		dirty_bitmaps_destroy(t->bitmaps);
		free(t);
		return -ENOMEM;
	}
	ret = resolve_backend(sys, cfg, &t->backend);
	ret = ret ?: enable_backend(t, sys);
	for (unsigned int i = 0; i < mem->nr_slots && !ret; i++)
		ret = dirty_bitmaps_scratch(t->bitmaps, &mem->slots[i])
			      ? 0
			      : -ENOMEM;
	if (ret < 0) {
		dirty_tracker_destroy(t);
		return ret;
	}
	*out = t;
	return 0;
}

int dirty_tracker_add_vcpu(struct dirty_tracker *t, unsigned int index,
			   struct kvm_vcpu *vcpu)
{
	if (t->backend != DIRTY_BACKEND_RING)
		return 0;
	return dirty_rings_add_vcpu(t->rings, index, vcpu, t->ring_entries);
}

void dirty_tracker_destroy(struct dirty_tracker *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->sink.sets = NULL; /* consumers are gone with the VM */
	t->forced_slots = 0;
	t->logging = false;
	pthread_mutex_unlock(&t->lock);
	dirty_rings_reaper_stop(t->rings);
	dirty_bitmaps_destroy(t->bitmaps);
	dirty_rings_destroy(t->rings);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

enum dirty_backend dirty_tracker_backend(const struct dirty_tracker *t)
{
	return t->backend;
}

struct guest_mem *dirty_tracker_mem(const struct dirty_tracker *t)
{
	return t->mem;
}

bool dirty_tracker_logging(const struct dirty_tracker *t)
{
	return __atomic_load_n(&t->logging, __ATOMIC_ACQUIRE);
}

/* Read-only slots (aliases) are never logged: they cannot be written. */
static bool slot_tracked(const struct mem_slot *s)
{
	return !(s->flags & MEM_SLOT_READONLY);
}

/* Slots someone wants logged: forced ones and every attached set's. */
static uint32_t wanted_slots(const struct dirty_tracker *t)
{
	uint32_t mask = t->forced_slots;

	for (const struct dirty_set *s = t->sink.sets; s; s = s->next)
		mask |= s->slot_mask ? s->slot_mask : ~0u;
	return mask;
}

/*
 * Flips KVM_MEM_LOG_DIRTY_PAGES on each writable slot to match what is
 * wanted. Caller locks and harvests first when turning a slot off, so the
 * bits KVM drops with the flag were already collected.
 */
static int apply_logging(struct dirty_tracker *t)
{
	struct guest_mem *mem = t->mem;
	uint32_t wanted = wanted_slots(t);
	bool any = false;

	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		struct mem_slot *s = &mem->slots[i];
		bool on = wanted & (1u << s->id);
		uint32_t flags = on ? s->flags | MEM_SLOT_LOG_DIRTY
				    : s->flags & ~MEM_SLOT_LOG_DIRTY;
		int ret;

		any |= on && slot_tracked(s);
		if (!slot_tracked(s) || flags == s->flags)
			continue;
		ret = guest_mem_slot_commit(t->vm_fd, s, flags, NULL);
		if (ret < 0)
			return ret;
		s->flags = flags;
	}
	__atomic_store_n(&t->logging, any, __ATOMIC_RELEASE);
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
			dirty_sink_word(&t->sink, r, w, bits);
			dirty_sink_vmm_pages(
				&t->sink, (uint64_t)__builtin_popcountll(bits));
		}
	}
}

/* Harvests the backend and the VMM's writes into the sink. Locked. */
static int harvest_locked(struct dirty_tracker *t, bool defer_clear)
{
	int ret;

	if (t->backend == DIRTY_BACKEND_RING)
		ret = dirty_rings_harvest(t->rings);
	else
		ret = dirty_bitmaps_harvest(t->bitmaps, t->mem, &t->sink,
					    t->backend == DIRTY_BACKEND_MANUAL &&
						    !defer_clear);
	harvest_vmm_writes(t);
	return ret;
}

int dirty_attach(struct dirty_tracker *t, struct dirty_set *s)
{
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	/* What is pending belongs to the sets already attached (or to no
	 * one, such as the VMM's writes made while nothing tracked). */
	ret = harvest_locked(t, false);
	if (!ret) {
		s->next = t->sink.sets;
		t->sink.sets = s;
		ret = apply_logging(t);
	}
	if (!ret && t->backend == DIRTY_BACKEND_RING)
		ret = dirty_rings_reaper_start(t->rings);
	if (ret < 0)
		t->sink.sets = s->next;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int dirty_detach(struct dirty_tracker *t, struct dirty_set *s)
{
	struct dirty_set **pp;
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = harvest_locked(t, false);
	for (pp = &t->sink.sets; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = s->next;
	s->next = NULL;
	if (!ret)
		ret = apply_logging(t);
	pthread_mutex_unlock(&t->lock);
	/* Only if nothing is logged any more. */
	dirty_rings_reaper_stop(t->rings);
	return ret;
}

int dirty_sync(struct dirty_tracker *t, bool defer_clear)
{
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = t->sink.sets ? harvest_locked(t, defer_clear) : 0;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Bitmap and ring clear as they harvest: only manual defers clearing. */
int dirty_clear_bits(struct dirty_tracker *t, unsigned int region,
		     uint64_t first_page, uint64_t nr_pages,
		     const uint64_t *bits)
{
	if (t->backend != DIRTY_BACKEND_MANUAL || first_page % 64)
		return first_page % 64 ? -EINVAL : 0;
	return dirty_bitmaps_clear(t->bitmaps, t->mem, region, first_page,
				   nr_pages, bits);
}

int dirty_clear_pages(struct dirty_tracker *t, unsigned int region,
		      uint64_t first_page, uint64_t nr_pages)
{
	const uint64_t *ones = dirty_bitmaps_ones(t->bitmaps);
	const uint64_t step = DIRTY_BITMAPS_ONES_PAGES;
	int ret = 0;

	/* The mask covers `step` pages; walk bigger ranges in such steps. */
	for (uint64_t done = 0; done < nr_pages && !ret; done += step) {
		uint64_t n = nr_pages - done < step ? nr_pages - done : step;

		ret = dirty_clear_bits(t, region, first_page + done, n, ones);
	}
	return ret;
}

int dirty_log_force(struct dirty_tracker *t, uint32_t slot_mask, bool on)
{
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (!on && t->logging)
		ret = harvest_locked(t, false);
	if (on)
		t->forced_slots |= slot_mask;
	else
		t->forced_slots &= ~slot_mask;
	ret = ret ?: apply_logging(t);
	if (!ret && on && t->backend == DIRTY_BACKEND_RING)
		ret = dirty_rings_reaper_start(t->rings);
	pthread_mutex_unlock(&t->lock);
	if (!on)
		dirty_rings_reaper_stop(t->rings);
	return ret;
}

int dirty_slots_change(struct dirty_tracker *t, int (*fn)(void *arg),
		       void *arg)
{
	int ret;

	if (!t)
		return fn(arg);
	pthread_mutex_lock(&t->lock);
	/* A slot about to go takes its bits with it: collect them first. */
	ret = t->sink.sets ? harvest_locked(t, false) : 0;
	ret = ret ?: fn(arg);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

uint32_t dirty_logged_slots(struct dirty_tracker *t)
{
	uint32_t mask = 0;

	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < t->mem->nr_slots; i++)
		if (t->mem->slots[i].flags & MEM_SLOT_LOG_DIRTY)
			mask |= 1u << t->mem->slots[i].id;
	pthread_mutex_unlock(&t->lock);
	return mask;
}

int dirty_ring_full(struct dirty_tracker *t, unsigned int index)
{
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = dirty_rings_harvest(t->rings);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int dirty_set_init(struct dirty_set *s, const struct guest_mem *mem)
{
	memset(s, 0, sizeof(*s));
	s->nr_regions = mem->nr_regions;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		s->nr_pages[i] = mem_region_pages(&mem->regions[i]);
		s->bits[i] = calloc((s->nr_pages[i] + 63) / 64, sizeof(uint64_t));
		if (!s->bits[i]) {
			dirty_set_free(s);
			return -ENOMEM;
		}
	}
	return 0;
}

void dirty_set_free(struct dirty_set *s)
{
	for (unsigned int i = 0; i < MEM_MAX_REGIONS; i++)
		free(s->bits[i]);
	memset(s, 0, sizeof(*s));
}

void dirty_set_clear(struct dirty_set *s)
{
	for (unsigned int i = 0; i < s->nr_regions; i++)
		memset(s->bits[i], 0, (s->nr_pages[i] + 63) / 64 * 8);
	memset(s->vcpu_pages, 0, sizeof(s->vcpu_pages));
	s->vmm_pages = 0;
}

bool dirty_set_take(struct dirty_tracker *t, struct dirty_set *s,
		    unsigned int region, uint64_t word, uint64_t n,
		    uint64_t *out)
{
	uint64_t *bits = s->bits[region] + word, any = 0;

	pthread_mutex_lock(&t->lock);
	for (uint64_t i = 0; i < n; i++) {
		out[i] = bits[i];
		any |= bits[i];
		bits[i] = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return any != 0;
}

uint64_t dirty_set_count(const struct dirty_set *s)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < s->nr_regions; i++)
		for (uint64_t w = 0; w < (s->nr_pages[i] + 63) / 64; w++)
			n += (uint64_t)__builtin_popcountll(s->bits[i][w]);
	return n;
}
