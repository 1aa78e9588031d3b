/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page tracking: the one module through which migration, dirtyrate
 * and benchmarks learn which guest pages were written.
 *
 * KVM logs guest writes per memslot with one of three backends (bitmap:
 * KVM_GET_DIRTY_LOG clears as it reads; manual: KVM_CAP_MANUAL_DIRTY_LOG_
 * PROTECT2, GET then CLEAR in 64-page chunks; ring: KVM_CAP_DIRTY_LOG_RING,
 * one ring per vCPU). The VMM's own writes are logged by memory.c. A sync
 * harvests both and ORs them, per backing region (never per memslot, so an
 * alias is never counted twice), into every attached dirty_set: several
 * consumers can track at once and none steals the others' bits.
 *
 * Logging is on while at least one set is attached: a consumer that finds
 * it off turns it on for itself and off again when it detaches.
 */
#ifndef KVMTRACK_DIRTY_H
#define KVMTRACK_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/mem/limits.h"
#include "vmm/mem/memory.h"

struct vm;
struct kvm_vcpu;
struct kvm_sys;
struct dirty_tracker;
struct control;

enum dirty_backend {
	DIRTY_BACKEND_AUTO, /* the best the host supports (see tracker.c) */
	DIRTY_BACKEND_BITMAP,
	DIRTY_BACKEND_MANUAL,
	DIRTY_BACKEND_RING,
};

#define DIRTY_RING_DEFAULT_ENTRIES 4096u
#define DIRTY_RING_MIN_ENTRIES 256u /* one page of 16-byte entries */
#define DIRTY_RING_MAX_ENTRIES 65536u

struct dirty_config {
	enum dirty_backend backend;
	uint32_t ring_entries; /* ring only; a power of two */
};

/* What a consumer accumulates between its own clears. */
struct dirty_set {
	unsigned int nr_regions;
	uint64_t *bits[MEM_MAX_REGIONS]; /* one bit per 4 KiB page */
	uint64_t nr_pages[MEM_MAX_REGIONS];
	/* Ring backend: ring entries harvested per vCPU (pages each vCPU
	 * dirtied for the first time since the last reset). */
	uint64_t vcpu_pages[VM_MAX_CPUS];
	uint64_t vmm_pages; /* pages written by the VMM itself */
	/* Memslots (bit = slot id) this consumer needs logged; 0 = all. */
	uint32_t slot_mask;
	struct dirty_set *next; /* tracker's list of attached sets */
};

/* "bitmap", "manual", "ring" or "ring:ENTRIES". -EINVAL with err. */
int dirty_parse_backend(const char *text, struct dirty_config *cfg,
			char *err, size_t err_len);
const char *dirty_backend_name(enum dirty_backend backend);

/*
 * Creates the tracker for a VM whose memory is set up but whose vCPUs do
 * not exist yet (the ring must be enabled before KVM_CREATE_VCPU). Resolves
 * DIRTY_BACKEND_AUTO; refuses a backend the host lacks with a message.
 */
int dirty_tracker_create(const struct kvm_sys *sys, int vm_fd,
			 struct guest_mem *mem,
			 const struct dirty_config *cfg,
			 struct dirty_tracker **out);
/* Maps vCPU `index`'s ring (ring backend; no-op otherwise). */
int dirty_tracker_add_vcpu(struct dirty_tracker *t, unsigned int index,
			   struct kvm_vcpu *vcpu);
void dirty_tracker_destroy(struct dirty_tracker *t);
enum dirty_backend dirty_tracker_backend(const struct dirty_tracker *t);
/* The memory whose slots the tracker logs. */
struct guest_mem *dirty_tracker_mem(const struct dirty_tracker *t);
bool dirty_tracker_logging(const struct dirty_tracker *t);

int dirty_set_init(struct dirty_set *s, const struct guest_mem *mem);
void dirty_set_free(struct dirty_set *s);
void dirty_set_clear(struct dirty_set *s);
uint64_t dirty_set_count(const struct dirty_set *s);

/*
 * Moves words [word, word + n) of a region's bits out of an attached set
 * into out, clearing them in the set, under the tracker's lock: a harvest
 * running at the same time (the ring reaper, another consumer's sync)
 * ORs bits into every set, and one landing between a consumer's copy and
 * its clear would be lost. Returns false (and out all zero) if no bit was
 * set.
 */
bool dirty_set_take(struct dirty_tracker *t, struct dirty_set *s,
		    unsigned int region, uint64_t word, uint64_t n,
		    uint64_t *out);
static inline bool dirty_set_test(const struct dirty_set *s,
				  unsigned int region, uint64_t page)
{
	return s->bits[region][page / 64] & (1ull << (page % 64));
}

/*
 * Attaches s (which then records every page written from now on) and
 * turns logging on if it was off. Detach harvests once more into s, then
 * turns logging off if s was the last set.
 */
int dirty_attach(struct dirty_tracker *t, struct dirty_set *s);
int dirty_detach(struct dirty_tracker *t, struct dirty_set *s);

/*
 * Harvests everything dirtied since the last sync into every attached set.
 * defer_clear is the consumer's promise to call dirty_clear_bits() on each
 * chunk just before it reads those pages, so that a write racing with the
 * read is logged again. The backend decides what that means: manual leaves
 * KVM's bits set (and the pages writable) until then; bitmap and ring
 * clear as they harvest, and for them dirty_clear_bits() does nothing.
 */
int dirty_sync(struct dirty_tracker *t, bool defer_clear);
/*
 * Clears KVM's bits for the pages set in bits (one bit per page from
 * first_page, a multiple of 64) of a region: exactly the pages about to be
 * read, never others, since a bit KVM set after the last sync would be lost.
 */
int dirty_clear_bits(struct dirty_tracker *t, unsigned int region,
		     uint64_t first_page, uint64_t nr_pages,
		     const uint64_t *bits);
/* Clears every page of the range: only where no write can race with it
 * (vCPUs paused, or a benchmark whose guest waits between passes). */
int dirty_clear_pages(struct dirty_tracker *t, unsigned int region,
		      uint64_t first_page, uint64_t nr_pages);

/*
 * Logging asked for by the user (control socket) for the slots in
 * slot_mask, independently of any consumer: on while either wants it.
 */
int dirty_log_force(struct dirty_tracker *t, uint32_t slot_mask, bool on);
/*
 * Runs fn(arg), which changes the memslot table (read-only windows added
 * or removed, a region resized), under the tracker's lock, so that no
 * harvest walks the table meanwhile; attached sets get the pending bits
 * first, since a slot's log goes with the slot. A new slot id gets its
 * harvest buffer at its first harvest. t NULL: just fn(arg).
 */
int dirty_slots_change(struct dirty_tracker *t, int (*fn)(void *arg),
		       void *arg);
/* Bit i set when memslot i is logged now. */
uint32_t dirty_logged_slots(struct dirty_tracker *t);

/*
 * Adds "query-dirty-log" and "dirty-log" (vmm/dirty/commands.c) for the
 * tracker (a struct dirty_tracker *) to the control object c.
 */
int dirty_register_commands(struct control *c, void *tracker);

/* KVM_EXIT_DIRTY_RING_FULL on vCPU `index`: harvest so it can go on. */
int dirty_ring_full(struct dirty_tracker *t, unsigned int index);

#endif
