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

#include "vmm/alias/alias_impl.h"
#include "vmm/dirty/dirty.h"

#define PAGE_MASK (GUEST_PAGE_BYTES - 1)

int alias_revoke_region(struct guest_mem *m, unsigned int region)
{
	struct alias_table *t = m->aliases;
	char why[96];
	int n;

	if (!t || region >= m->nr_regions)
		return 0;
	snprintf(why, sizeof(why), "its region %s is resized or removed",
		 m->regions[region].name);
	pthread_mutex_lock(&t->lock);
	n = alias_revoke_where(m, (int)region, -1, why);
	pthread_mutex_unlock(&t->lock);
	return n;
}

struct resize_op {
	struct alias_table *t;
	struct guest_mem *m;
	struct mem_region *r;
	uint64_t new_bytes;
};

/* Under the dirty tracker's lock: KVM cannot resize a slot, so the
 * region's slot is deleted and made again at the new size. */
static int resize_apply(void *arg)
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
	ret = guest_mem_slot_delete(op->t->vm_fd, s);
	if (ret < 0)
		return ret;
	op->r->size_bytes = op->new_bytes;
	if (!op->new_bytes) {
		guest_mem_remove_slot(op->m, s->id);
		return 0;
	}
	s->size_bytes = op->new_bytes;
	return guest_mem_slot_commit(op->t->vm_fd, s, s->flags, NULL);
}

int alias_region_resize(struct guest_mem *m, unsigned int region,
			uint64_t new_bytes, char *err, size_t err_len)
{
	struct alias_table *t = m->aliases;
	struct resize_op op = { .t = t, .m = m, .new_bytes = new_bytes };
	uint64_t old_bytes;
	int ret;

	if (!t || region >= m->nr_regions) {
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
	pthread_mutex_lock(&t->lock);
	ret = dirty_slots_change(t->dirty, resize_apply, &op);
	pthread_mutex_unlock(&t->lock);
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
