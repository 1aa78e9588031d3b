/* SPDX-License-Identifier: MIT */
/* The inside of the dirty tracker, shared by dirty.c and dirty_harvest.c. */
#ifndef KVMTRACK_DIRTY_IMPL_H
#define KVMTRACK_DIRTY_IMPL_H

#include <pthread.h>

#include "kvm/dirty_ring.h"
#include "vmm/dirty/dirty.h"


struct dirty_tracker {
	int vm_fd;
	struct guest_mem *mem;
	enum dirty_backend backend;
	uint32_t ring_entries;
	pthread_mutex_t lock; /* guards everything below */
	bool logging; /* some slot is logged */
	uint32_t forced_slots; /* dirty_log_force() */
	uint64_t *ones; /* all-ones mask for CLEAR of whole chunks */
	struct dirty_set *sets; /* attached consumers */
	/* Per-slot GET_DIRTY_LOG buffer, by slot id; (re)made at the first
	 * harvest of a slot id that is new or grew (dirty_slots_change). */
	uint64_t *scratch[MEM_MAX_SLOTS];
	uint64_t scratch_words[MEM_MAX_SLOTS];
	struct kvm_dirty_ring rings[VM_MAX_CPUS];
	unsigned int nr_rings;
	/* Ring reaper: empties the rings so that vCPUs rarely fill them. */
	pthread_t reaper;
	bool reaper_running;
	bool reaper_stop;
	pthread_cond_t reaper_cond;
};

uint64_t *dirty_slot_scratch(struct dirty_tracker *t, const struct mem_slot *s);
int dirty_harvest_locked(struct dirty_tracker *t, bool defer_clear);
int dirty_harvest_rings_locked(struct dirty_tracker *t);
int dirty_reaper_start(struct dirty_tracker *t);
void dirty_reaper_stop(struct dirty_tracker *t);

#endif
