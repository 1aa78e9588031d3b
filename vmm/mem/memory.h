/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: the one module that knows the machine's physical layout.
 * RAM is split around the 32-bit MMIO hole into backing regions, each
 * anonymous memory mapped into kvmtrack (memory.c says why); each region is registered with KVM as one or
 * more memslots. Later work (dirty logging, aliases) extends the slot table
 * here; everything else asks this module where memory is.
 *
 *   [0, min(mem, 3 GiB))            RAM region 0
 *   [3 GiB, 4 GiB)                  hole: test device, IOAPIC, LAPIC
 *   [4 GiB, 4 GiB + rest)           RAM region 1 (only when mem > 3 GiB)
 */
#ifndef KVMTRACK_MEMORY_H
#define KVMTRACK_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_BYTES 4096ull
#define MEM_HOLE_START_GPA 0xc0000000ull
#define MEM_HOLE_END_GPA 0x100000000ull
#define MEM_MAX_REGIONS 4
#define MEM_MAX_SLOTS 16

/* A backing region: contiguous guest RAM, one mapping. */
struct mem_region {
	uint64_t gpa;
	uint64_t size_bytes;
	uint8_t *hva;
	const char *name;
	/* Pages the VMM itself wrote (loaders, devices): one bit per page,
	 * set atomically by guest_mem_write/fill, taken by the dirty tracker,
	 * because KVM's log sees only writes made by the guest. */
	uint64_t *vmm_dirty;
};

/* struct mem_slot.flags */
#define MEM_SLOT_LOG_DIRTY (1u << 0) /* KVM logs the guest's writes */
#define MEM_SLOT_READONLY (1u << 1) /* a guest write exits, as MMIO */

/* A KVM memslot: a window of a region at a guest-physical address. */
struct mem_slot {
	uint32_t id;
	uint32_t flags; /* MEM_SLOT_* */
	uint64_t gpa;
	uint64_t size_bytes;
	struct mem_region *region;
	uint64_t region_offset;
};

struct alias_table;

struct guest_mem {
	uint64_t ram_bytes;
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int nr_regions;
	struct mem_slot slots[MEM_MAX_SLOTS];
	unsigned int nr_slots;
	/* Read-only windows (aliases, shared files): their slots are in
	 * slots[] with MEM_SLOT_READONLY; the rest is alias.c's (alias.h). */
	struct alias_table *aliases;
};

/*
 * Computes the layout for ram_bytes of RAM (page multiple) without
 * allocating anything: fills regions (hva NULL) and slots.
 * Unit-testable. Returns -EINVAL for sizes that do not fit.
 */
int guest_mem_plan(struct guest_mem *m, uint64_t ram_bytes);

/* Plans, then maps the regions. */
int guest_mem_create(struct guest_mem *m, uint64_t ram_bytes);
/* Unmaps the regions. Windows into them (vmm/alias/) must be gone first:
 * their owner, vm.c, removes them. */
void guest_mem_destroy(struct guest_mem *m);

/* Host address of [gpa, gpa+len) if it lies inside one region, else NULL. */
void *guest_mem_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* True if [gpa, gpa+len) is RAM inside one region. */
bool guest_mem_is_ram(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * Copies into / out of guest RAM on behalf of the VMM (loaders, devices).
 * Every VMM write goes through guest_mem_write so that dirty tracking can
 * see it. -EFAULT when the range is not RAM inside one region.
 */
int guest_mem_write(struct guest_mem *m, uint64_t gpa, const void *buf,
		    uint64_t len);
int guest_mem_fill(struct guest_mem *m, uint64_t gpa, int byte, uint64_t len);
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf,
		   uint64_t len);

/* Records a VMM write to [gpa, gpa+len) made through guest_mem_hva(). */
void guest_mem_mark_dirty(struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * The next range of pages at or after `from` that may hold data: resident
 * or swapped out; pages outside such ranges read as zero. Found from the
 * page tables (resident.c) without visiting each page. Returns false
 * when there is none.
 */
bool guest_mem_next_data(const struct mem_region *r, uint64_t from,
			 uint64_t *first, uint64_t *end);
/* Tests: read /proc/self/pagemap as kernels before 6.7 must (or not); and
 * whether PAGEMAP_SCAN answered the last call (then pages that only map
 * the zero page are not data; pagemap counts them). */
void guest_mem_resident_use_pagemap(bool on);
bool guest_mem_resident_by_scan(void);

/* Index of the region holding gpa, or -1. */
int guest_mem_region_index(const struct guest_mem *m, uint64_t gpa);

/*
 * The slot table's changes, for read-only windows (alias.c) and region
 * resizing. Callers hold the dirty tracker's slot lock
 * (dirty_slots_change) once the VM runs. Region slots keep their place at
 * the front; slot ids are the lowest free ones.
 */
int guest_mem_free_slot_id(const struct guest_mem *m);
struct mem_slot *guest_mem_slot_by_id(struct guest_mem *m, uint32_t id);
/* The first slot overlapping [gpa, gpa+len), or NULL. */
const struct mem_slot *guest_mem_slot_overlap(const struct guest_mem *m,
					      uint64_t gpa, uint64_t len);
int guest_mem_add_slot(struct guest_mem *m, const struct mem_slot *s);

/*
 * The one way a memslot reaches KVM (on vm_fd): slot s, with flags, maps
 * hva, or its region's memory at region_offset when hva is NULL (a shared
 * file's window has no region). KVM takes a changed slot whole, so this is
 * also how flags change. 0 or -errno, logged by the KVM layer.
 */
int guest_mem_slot_commit(int vm_fd, const struct mem_slot *s, uint32_t flags,
			  void *hva);
/* Takes slot s out of KVM; the table is the caller's to change. */
int guest_mem_slot_delete(int vm_fd, const struct mem_slot *s);
void guest_mem_remove_slot(struct guest_mem *m, uint32_t id);

static inline uint64_t mem_region_pages(const struct mem_region *r)
{
	return r->size_bytes / GUEST_PAGE_BYTES;
}

#endif
