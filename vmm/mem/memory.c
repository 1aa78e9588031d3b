// SPDX-License-Identifier: MIT
/* Guest memory layout and its RAM regions (see memory.h). */
#include "vmm/mem/memory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lib/log.h"

/* Up to 1 TiB of guest RAM: far beyond this machine, a sanity bound. */
#define MEM_MAX_RAM_BYTES (1ull << 40)

static void plan_region(struct guest_mem *m, uint64_t gpa, uint64_t size,
			const char *name)
{
	struct mem_region *r = &m->regions[m->nr_regions++];
	struct mem_slot *s = &m->slots[m->nr_slots];

	*r = (struct mem_region){
		.gpa = gpa, .size_bytes = size, .name = name
	};
	*s = (struct mem_slot){
		.id = m->nr_slots, .gpa = gpa, .size_bytes = size, .region = r,
	};
	m->nr_slots++;
}

int guest_mem_plan(struct guest_mem *m, uint64_t ram_bytes)
{
	uint64_t low_bytes;

	memset(m, 0, sizeof(*m));
	if (ram_bytes == 0 || ram_bytes % GUEST_PAGE_BYTES ||
	    ram_bytes > MEM_MAX_RAM_BYTES)
		return -EINVAL;
	m->ram_bytes = ram_bytes;
	low_bytes = ram_bytes < MEM_HOLE_START_GPA ? ram_bytes
						   : MEM_HOLE_START_GPA;
	plan_region(m, 0, low_bytes, "ram-low");
	if (ram_bytes > low_bytes)
		plan_region(m, MEM_HOLE_END_GPA, ram_bytes - low_bytes,
			    "ram-high");
	return 0;
}

/*
 * Guest RAM is private anonymous memory, aligned to 2 MiB and marked for
 * transparent huge pages, as QEMU's default backend is: a destination
 * allocating 256 MiB as it receives spends ~47 ms of CPU in 2 MiB faults
 * against ~130 ms for 4 KiB shmem pages (memfd; Debian ships shmem THP
 * off), and faults cost more in nested guests (KVM-HERE.md). KVM maps
 * huge pages only where host address and guest address agree mod 2 MiB.
 */
#define HUGE_BYTES (2ull << 20)

static void *map_ram(uint64_t size)
{
	uint64_t span = size + HUGE_BYTES;
	uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *hva;
	uint64_t head;

	if (raw == MAP_FAILED)
		return NULL;
	hva = (uint8_t *)(((uintptr_t)raw + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1));
	head = (uint64_t)(hva - raw);
	if (head)
		munmap(raw, head);
	munmap(hva + size, span - head - size);
	/* Both advisory: without THP, RAM works in 4 KiB pages. Not
	 * inherited by a child: it would turn every guest write into a
	 * copy-on-write fault. */
	madvise(hva, size, MADV_HUGEPAGE);
	madvise(hva, size, MADV_DONTFORK);
	return hva;
}

static int region_map(struct mem_region *r)
{
	int err;

	r->vmm_dirty = calloc((mem_region_pages(r) + 63) / 64, sizeof(uint64_t));
	if (!r->vmm_dirty)
		return -ENOMEM;
	r->hva = map_ram(r->size_bytes);
	if (!r->hva) {
		err = errno;
		log_err("memory: mmap %s (%llu bytes): %s", r->name,
			(unsigned long long)r->size_bytes, strerror(err));
		return -err;
	}
	return 0;
}

int guest_mem_create(struct guest_mem *m, uint64_t ram_bytes)
{
	int ret = guest_mem_plan(m, ram_bytes);

	if (ret < 0) {
		log_err("memory: %llu bytes of RAM is not a usable size",
			(unsigned long long)ram_bytes);
		return ret;
	}
	for (unsigned int i = 0; i < m->nr_regions; i++) {
		ret = region_map(&m->regions[i]);
		if (ret < 0) {
			guest_mem_destroy(m);
			return ret;
		}
	}
	for (unsigned int i = 0; i < m->nr_slots; i++)
		m->slots[i].region_offset =
			m->slots[i].gpa - m->slots[i].region->gpa;
	return 0;
}

void guest_mem_destroy(struct guest_mem *m)
{
	for (unsigned int i = 0; i < m->nr_regions; i++) {
		struct mem_region *r = &m->regions[i];

		if (r->hva)
			munmap(r->hva, r->size_bytes);
		free(r->vmm_dirty);
		r->vmm_dirty = NULL;
		r->hva = NULL;
	}
}

static const struct mem_region *region_of(const struct guest_mem *m,
					  uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < m->nr_regions; i++) {
		const struct mem_region *r = &m->regions[i];

		/* Written to be overflow-proof for any gpa and len. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size_bytes &&
		    len <= r->size_bytes - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

bool guest_mem_is_ram(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return region_of(m, gpa, len) != NULL;
}

void *guest_mem_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct mem_region *r = region_of(m, gpa, len);

	if (!r || !r->hva)
		return NULL;
	return r->hva + (gpa - r->gpa);
}

int guest_mem_region_index(const struct guest_mem *m, uint64_t gpa)
{
	const struct mem_region *r = region_of(m, gpa, 1);

	return r ? (int)(r - m->regions) : -1;
}

void guest_mem_mark_dirty(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct mem_region *r = region_of(m, gpa, len);
	uint64_t first, last;

	if (!r || !r->vmm_dirty || len == 0)
		return;
	first = (gpa - r->gpa) / GUEST_PAGE_BYTES;
	last = (gpa - r->gpa + len - 1) / GUEST_PAGE_BYTES;
	for (uint64_t pg = first; pg <= last; pg++)
		__atomic_fetch_or(&r->vmm_dirty[pg / 64], 1ull << (pg % 64),
				  __ATOMIC_RELEASE);
}

int guest_mem_write(struct guest_mem *m, uint64_t gpa, const void *buf,
		    uint64_t len)
{
	void *hva = guest_mem_hva(m, gpa, len);

	if (!hva)
		return -EFAULT;
	memcpy(hva, buf, len);
	guest_mem_mark_dirty(m, gpa, len);
	return 0;
}

int guest_mem_fill(struct guest_mem *m, uint64_t gpa, int byte, uint64_t len)
{
	void *hva = guest_mem_hva(m, gpa, len);

	if (!hva)
		return -EFAULT;
	memset(hva, byte, len);
	guest_mem_mark_dirty(m, gpa, len);
	return 0;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf,
		   uint64_t len)
{
	const void *hva = guest_mem_hva(m, gpa, len);

	if (!hva)
		return -EFAULT;
	memcpy(buf, hva, len);
	return 0;
}

int guest_mem_free_slot_id(const struct guest_mem *m)
{
	uint32_t used = 0;

	for (unsigned int i = 0; i < m->nr_slots; i++)
		used |= 1u << m->slots[i].id;
	for (int id = 0; id < MEM_MAX_SLOTS; id++)
		if (!(used & (1u << id)))
			return id;
	return -ENOSPC;
}

struct mem_slot *guest_mem_slot_by_id(struct guest_mem *m, uint32_t id)
{
	for (unsigned int i = 0; i < m->nr_slots; i++)
		if (m->slots[i].id == id)
			return &m->slots[i];
	return NULL;
}

const struct mem_slot *guest_mem_slot_overlap(const struct guest_mem *m,
					      uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < m->nr_slots; i++) {
		const struct mem_slot *s = &m->slots[i];

		if (gpa < s->gpa + s->size_bytes && s->gpa < gpa + len)
			return s;
	}
	return NULL;
}

int guest_mem_add_slot(struct guest_mem *m, const struct mem_slot *s)
{
	if (m->nr_slots == MEM_MAX_SLOTS)
		return -ENOSPC;
	m->slots[m->nr_slots] = *s;
	/* Readers without the lock (stats) see a whole entry or none. */
	__atomic_store_n(&m->nr_slots, m->nr_slots + 1, __ATOMIC_RELEASE);
	return 0;
}

void guest_mem_remove_slot(struct guest_mem *m, uint32_t id)
{
	struct mem_slot *s = guest_mem_slot_by_id(m, id);
	unsigned int i;

	if (!s)
		return;
	i = (unsigned int)(s - m->slots);
	memmove(&m->slots[i], &m->slots[i + 1],
		(m->nr_slots - i - 1) * sizeof(m->slots[0]));
	m->nr_slots--;
}

/* KVM's flags are ABI; ours say the same, spelled for the rest of vmm/. */
static uint32_t kvm_slot_flags(uint32_t flags)
{
	return (flags & MEM_SLOT_LOG_DIRTY ? KVM_MEM_LOG_DIRTY_PAGES : 0) |
	       (flags & MEM_SLOT_READONLY ? KVM_MEM_READONLY : 0);
}

int guest_mem_slot_commit(int vm_fd, const struct mem_slot *s, uint32_t flags,
			  void *hva)
{
	if (!hva)
		hva = s->region->hva + s->region_offset;
	return kvm_set_memslot(vm_fd, s->id, kvm_slot_flags(flags), s->gpa,
			       s->size_bytes, hva);
}

int guest_mem_slot_delete(int vm_fd, const struct mem_slot *s)
{
	/* KVM deletes a slot when its size is 0. */
	return kvm_set_memslot(vm_fd, s->id, 0, s->gpa, 0, NULL);
}
