// SPDX-License-Identifier: MIT
/*
 * Shrinking or removing a RAM region (alias.h): the windows onto it are
 * revoked first, then its memslot is made again at the new size, and the
 * host gets the pages beyond it back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"

#define PAGE_MASK (GUEST_PAGE_BYTES - 1)

struct resize_op {
	struct guest_mem *m;
	struct mem_region *r;
	uint64_t new_bytes;
};

/* Under the table's and the dirty tracker's locks: KVM cannot resize a
 * slot, so the region's slot is deleted and made again at the new size. */
static int resize_apply(int vm_fd, void *arg)
{
	struct resize_op *op = arg;
	struct mem_slot *s = NULL;
	int ret;

	for (unsigned int i = 0; i < op->m->nr_slots; i++)
		if (op->m->slots[i].region == op->r &&
		    !(op->m->slots[i].flags & MEM_SLOT_READONLY))
			s = &op->m->slots[i];
	if (!s || s->region_offset != 0)
		return -EINVAL;
	ret = guest_mem_slot_delete(vm_fd, s);
	if (ret < 0)
		return ret;
	op->r->size_bytes = op->new_bytes;
	if (!op->new_bytes) {
		guest_mem_remove_slot(op->m, s->id);
		return 0;
	}
	s->size_bytes = op->new_bytes;
	return guest_mem_slot_commit(vm_fd, s, s->flags, NULL);
}

int alias_region_resize(struct guest_mem *m, unsigned int region,
			uint64_t new_bytes, char *err, size_t err_len)
{
	struct resize_op op = { .m = m, .new_bytes = new_bytes };
	uint64_t old_bytes;
	int ret;

	if (!m->aliases || region >= m->nr_regions) {
		snprintf(err, err_len, "no RAM region %u", region);
		return -ENOENT;
	}
	op.r = &m->regions[region];
	old_bytes = op.r->size_bytes;
	if (new_bytes & PAGE_MASK || new_bytes > old_bytes) {
		snprintf(err, err_len,
			 "region %s: 0x%llx bytes is not a page-aligned size up to 0x%llx",
			 op.r->name, (unsigned long long)new_bytes,
			 (unsigned long long)old_bytes);
		return -EINVAL;
	}
	/* Revocation first: no window may outlive what it maps. */
	alias_revoke_region(m, region);
	ret = alias_slots_change(m, resize_apply, &op);
	if (ret < 0) {
		snprintf(err, err_len, "region %s: KVM refused the new memslot: %s",
			 op.r->name, strerror(-ret));
		return ret;
	}
	/* Give the host its pages back; the mapping shrinks with the region. */
	if (op.r->hva && old_bytes > new_bytes)
		munmap(op.r->hva + new_bytes, old_bytes - new_bytes);
	if (!new_bytes)
		op.r->hva = NULL;
	return 0;
}
