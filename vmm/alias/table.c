// SPDX-License-Identifier: MIT
/*
 * Read-only windows (see alias.h): checking requests, making and removing
 * their memslots, and revocation. The guest writes they trap are in
 * alias_trap.c, region resizing in region_resize.c, output (JSON, device
 * tree) and parsing in alias_out.c, file mapping in share.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/alias/alias_impl.h"
#include "vmm/alias/share.h"
#include "vmm/mem/bus.h"
#include "vmm/dirty/dirty.h"
#include "lib/log.h"

#define PAGE_MASK (GUEST_PAGE_BYTES - 1)

static struct alias_entry *entry_at(struct alias_table *t, uint64_t gpa)
{
	for (unsigned int i = 0; i < t->nr_entries; i++)
		if (t->entries[i].gpa == gpa)
			return &t->entries[i];
	return NULL;
}

struct alias_entry *alias_entry_covering(struct alias_table *t, uint64_t gpa,
					 uint64_t len)
{
	for (unsigned int i = 0; i < t->nr_entries; i++) {
		struct alias_entry *e = &t->entries[i];

		if (gpa >= e->gpa && gpa - e->gpa < e->size_bytes &&
		    len <= e->size_bytes - (gpa - e->gpa))
			return e;
	}
	return NULL;
}

static void describe_slot(struct guest_mem *m, const struct mem_slot *s,
			  char *out, size_t len)
{
	struct alias_entry *e = NULL;

	for (unsigned int i = 0; m->aliases && i < m->aliases->nr_entries; i++)
		if (m->aliases->entries[i].slot_id == s->id)
			e = &m->aliases->entries[i];
	if (!e)
		snprintf(out, len, "RAM region %s [0x%llx, 0x%llx)",
			 s->region ? s->region->name : "?",
			 (unsigned long long)s->gpa,
			 (unsigned long long)(s->gpa + s->size_bytes));
	else
		snprintf(out, len, "%s%s at [0x%llx, 0x%llx)",
			 e->share ? "shared file " : "alias",
			 e->share ? e->share->name : "",
			 (unsigned long long)e->gpa,
			 (unsigned long long)(e->gpa + e->size_bytes));
}

/* Where a window may go: aligned, in range, over nothing else. */
static int check_target(struct guest_mem *m, uint64_t gpa, uint64_t size,
			char *err, size_t err_len)
{
	struct alias_table *t = m->aliases;
	const struct mem_slot *s;
	const struct bus_region *dev = NULL;
	char what[96];

	if (!size || (gpa | size) & PAGE_MASK) {
		snprintf(err, err_len,
			 "gpa 0x%llx size 0x%llx: must be non-empty and 4 KiB page-aligned",
			 (unsigned long long)gpa, (unsigned long long)size);
		return -EINVAL;
	}
	if (gpa >= ALIAS_MAX_GPA || size > ALIAS_MAX_GPA - gpa) {
		snprintf(err, err_len,
			 "[0x%llx, +0x%llx) is out of range: the guest-physical space ends at 0x%llx",
			 (unsigned long long)gpa, (unsigned long long)size,
			 ALIAS_MAX_GPA);
		return -EINVAL;
	}
	s = guest_mem_slot_overlap(m, gpa, size);
	if (s) {
		describe_slot(m, s, what, sizeof(what));
		snprintf(err, err_len, "[0x%llx, 0x%llx) overlaps %s",
			 (unsigned long long)gpa,
			 (unsigned long long)(gpa + size), what);
		return -EINVAL;
	}
	if (gpa < ALIAS_PLATFORM_END_GPA &&
	    gpa + size > ALIAS_PLATFORM_START_GPA) {
		snprintf(err, err_len,
			 "[0x%llx, 0x%llx) overlaps the platform's IOAPIC, LAPIC and KVM TSS range [0x%llx, 0x%llx)",
			 (unsigned long long)gpa,
			 (unsigned long long)(gpa + size),
			 ALIAS_PLATFORM_START_GPA, ALIAS_PLATFORM_END_GPA);
		return -EINVAL;
	}
	for (unsigned int i = 0; t->bus && i < t->bus->nr_mmio && !dev; i++)
		if (gpa < t->bus->mmio[i].base + t->bus->mmio[i].len &&
		    t->bus->mmio[i].base < gpa + size)
			dev = &t->bus->mmio[i];
	if (dev) {
		snprintf(err, err_len,
			 "[0x%llx, 0x%llx) overlaps device %s at 0x%llx",
			 (unsigned long long)gpa,
			 (unsigned long long)(gpa + size), dev->name,
			 (unsigned long long)dev->base);
		return -EINVAL;
	}
	return 0;
}

/* What [src, src+size) is: RAM, or a window (whose backing it takes). */
static int resolve_source(struct guest_mem *m, uint64_t src, uint64_t size,
			  struct alias_entry *e, char *err, size_t err_len)
{
	int r = guest_mem_region_index(m, src);
	struct alias_entry *via;

	if (src & PAGE_MASK) {
		snprintf(err, err_len, "src_gpa 0x%llx is not 4 KiB page-aligned",
			 (unsigned long long)src);
		return -EINVAL;
	}
	if (r >= 0 && guest_mem_is_ram(m, src, size)) {
		e->region = r;
		e->owner_slot = -1;
		e->hva = m->regions[r].hva + (src - m->regions[r].gpa);
		return 0;
	}
	via = size ? alias_entry_covering(m->aliases, src, size) : NULL;
	if (via) {
		e->region = via->region;
		e->owner_slot = via->share ? (int)via->slot_id : via->owner_slot;
		e->hva = via->hva + (src - via->gpa);
		return 0;
	}
	snprintf(err, err_len,
		 "source [0x%llx, 0x%llx) is out of range: not inside one RAM region, alias or shared file",
		 (unsigned long long)src, (unsigned long long)(src + size));
	return -EINVAL;
}

struct slot_op {
	struct alias_table *t;
	struct guest_mem *m;
	struct mem_slot slot;
	uint8_t *hva; /* add: what the slot maps */
	bool add;
};

/* Under the dirty tracker's lock: KVM first, then the table. */
static int slot_op_apply(void *arg)
{
	struct slot_op *op = arg;
	int ret;

	if (op->add) {
		ret = guest_mem_slot_commit(op->t->vm_fd, &op->slot,
					    op->slot.flags, op->hva);
		return ret ?: guest_mem_add_slot(op->m, &op->slot);
	}
	ret = guest_mem_slot_delete(op->t->vm_fd, &op->slot);
	if (!ret)
		guest_mem_remove_slot(op->m, op->slot.id);
	return ret;
}

/* Makes e's memslot (gpa, size, backing set; the id is chosen here).
 * A file-backed window's slot has no region: only its mapping. Locked. */
static int insert_entry(struct guest_mem *m, struct alias_entry *e,
			char *err, size_t err_len)
{
	struct alias_table *t = m->aliases;
	int id = guest_mem_free_slot_id(m);
	struct mem_region *r = e->region >= 0 ? &m->regions[e->region] : NULL;
	struct slot_op op = { .t = t, .m = m, .hva = e->hva, .add = true };
	int ret;

	if (id < 0 || t->nr_entries == MEM_MAX_SLOTS) {
		snprintf(err, err_len, "no memslot left (at most %d)",
			 MEM_MAX_SLOTS);
		return -ENOSPC;
	}
	e->slot_id = (uint32_t)id;
	op.slot = (struct mem_slot){
		.id = e->slot_id,
		.flags = MEM_SLOT_READONLY,
		.gpa = e->gpa,
		.size_bytes = e->size_bytes,
		.region = r,
		.region_offset = r ? (uint64_t)(e->hva - r->hva) : 0,
	};
	ret = dirty_slots_change(t->dirty, slot_op_apply, &op);
	if (ret < 0) {
		snprintf(err, err_len, "KVM refused the read-only memslot: %s",
			 strerror(-ret));
		return ret;
	}
	t->entries[t->nr_entries++] = *e;
	return 0;
}

static int remove_entry(struct guest_mem *m, struct alias_entry *e)
{
	struct alias_table *t = m->aliases;
	struct slot_op op = { .t = t, .m = m, .add = false };
	int ret;

	op.slot.id = e->slot_id;
	op.slot.gpa = e->gpa;
	ret = dirty_slots_change(t->dirty, slot_op_apply, &op);
	if (ret < 0)
		return ret;
	if (e->share) {
		share_map_close(e->share);
		free(e->share);
	}
	*e = t->entries[--t->nr_entries];
	return 0;
}

/* Caller holds t->lock. */
static int check_frozen(const struct alias_table *t, char *err,
			size_t err_len)
{
	if (!t->frozen)
		return 0;
	snprintf(err, err_len,
		 "a migration is running: the read-only windows cannot change until it ends");
	return -EBUSY;
}

void alias_freeze(struct guest_mem *m, bool frozen)
{
	struct alias_table *t = m->aliases;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->frozen = frozen;
	pthread_mutex_unlock(&t->lock);
}

int alias_add(struct guest_mem *m, const struct alias_spec *spec, char *err,
	      size_t err_len)
{
	struct alias_table *t = m->aliases;
	struct alias_entry e = { .gpa = spec->gpa,
				 .size_bytes = spec->size_bytes,
				 .src_gpa = spec->src_gpa };
	int ret;

	if (!t) {
		snprintf(err, err_len, "this VM has no alias table");
		return -ENODEV;
	}
	pthread_mutex_lock(&t->lock);
	ret = check_frozen(t, err, err_len);
	ret = ret ?: check_target(m, e.gpa, e.size_bytes, err, err_len);
	ret = ret ?: resolve_source(m, e.src_gpa, e.size_bytes, &e, err,
				    err_len);
	ret = ret ?: insert_entry(m, &e, err, err_len);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int share_add(struct guest_mem *m, const struct share_spec *spec, char *err,
	      size_t err_len)
{
	struct alias_table *t = m->aliases;
	struct alias_entry e = { .gpa = spec->gpa, .src_gpa = spec->gpa,
				 .region = -1, .owner_slot = -1 };
	int ret;

	if (!t) {
		snprintf(err, err_len, "this VM has no alias table");
		return -ENODEV;
	}
	e.share = calloc(1, sizeof(*e.share));
	if (!e.share)
		return -ENOMEM;
	ret = share_map_open(spec->name, spec->path, e.share, err, err_len);
	if (ret < 0) {
		free(e.share);
		return ret;
	}
	e.hva = e.share->hva;
	e.size_bytes = e.share->map_bytes;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < t->nr_entries && !ret; i++) {
		if (t->entries[i].share &&
		    !strcmp(t->entries[i].share->name, e.share->name)) {
			snprintf(err, err_len, "shared file %s exists already",
				 e.share->name);
			ret = -EEXIST;
		}
	}
	ret = ret ?: check_target(m, e.gpa, e.size_bytes, err, err_len);
	ret = ret ?: insert_entry(m, &e, err, err_len);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0) {
		share_map_close(e.share);
		free(e.share);
	}
	return ret;
}

/* From the end, since remove_entry moves the last entry into the hole. */
int alias_revoke_where(struct guest_mem *m, int region, int owner_slot,
		       const char *why)
{
	struct alias_table *t = m->aliases;
	int n = 0;

	for (unsigned int i = t->nr_entries; i-- > 0;) {
		struct alias_entry *e = &t->entries[i];
		uint64_t gpa = e->gpa;

		if (e->share || (region >= 0 && e->region != region) ||
		    (owner_slot >= 0 && e->owner_slot != owner_slot))
			continue;
		if (remove_entry(m, e) == 0) {
			log_info("alias at 0x%llx revoked: %s",
				 (unsigned long long)gpa, why);
			n++;
		}
	}
	return n;
}

int alias_remove(struct guest_mem *m, uint64_t gpa, char *err,
		 size_t err_len)
{
	struct alias_table *t = m->aliases;
	struct alias_entry *e;
	char why[96];
	int ret;

	if (!t)
		return -ENODEV;
	pthread_mutex_lock(&t->lock);
	if (check_frozen(t, err, err_len)) {
		pthread_mutex_unlock(&t->lock);
		return -EBUSY;
	}
	e = entry_at(t, gpa);
	if (!e) {
		int r = guest_mem_region_index(m, gpa);

		if (r >= 0)
			snprintf(err, err_len,
				 "0x%llx is RAM region %s, not an alias: RAM is never removed here",
				 (unsigned long long)gpa, m->regions[r].name);
		else
			snprintf(err, err_len, "no alias starts at 0x%llx",
				 (unsigned long long)gpa);
		pthread_mutex_unlock(&t->lock);
		return -ENOENT;
	}
	if (e->share) {
		/* The file goes away with it: its aliases first. */
		snprintf(why, sizeof(why), "shared file %s removed",
			 e->share->name);
		alias_revoke_where(m, -1, (int)e->slot_id, why);
		e = entry_at(t, gpa);
	}
	ret = remove_entry(m, e);
	if (ret < 0)
		snprintf(err, err_len, "KVM refused to delete the memslot: %s",
			 strerror(-ret));
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int alias_setup(struct guest_mem *m, int vm_fd, struct dirty_tracker *dirty,
		const struct bus *bus, const struct alias_config *cfg, char *err,
		size_t err_len)
{
	struct alias_table *t = calloc(1, sizeof(*t));
	int ret = 0;

	if (!t)
		return -ENOMEM;
	t->vm_fd = vm_fd;
	t->dirty = dirty;
	t->bus = bus;
	t->policy = cfg->write_policy;
	pthread_mutex_init(&t->lock, NULL);
	m->aliases = t;
	/* Files first: an alias may name a shared file as its source. */
	for (unsigned int i = 0; i < cfg->nr_shares && !ret; i++) {
		ret = share_add(m, &cfg->shares[i], err, err_len);
		if (ret < 0)
			snprintf(err + strlen(err), err_len - strlen(err),
				 " (--share %s)", cfg->shares[i].name);
	}
	for (unsigned int i = 0; i < cfg->nr_aliases && !ret; i++) {
		ret = alias_add(m, &cfg->aliases[i], err, err_len);
		if (ret < 0)
			snprintf(err + strlen(err), err_len - strlen(err),
				 " (--alias 0x%llx=0x%llx+0x%llx)",
				 (unsigned long long)cfg->aliases[i].gpa,
				 (unsigned long long)cfg->aliases[i].src_gpa,
				 (unsigned long long)cfg->aliases[i].size_bytes);
	}
	return ret;
}

void alias_table_destroy(struct guest_mem *m)
{
	struct alias_table *t = m->aliases;

	if (!t)
		return;
	/* The VM goes too: KVM's slots die with its fd. */
	for (unsigned int i = 0; i < t->nr_entries; i++) {
		if (t->entries[i].share) {
			share_map_close(t->entries[i].share);
			free(t->entries[i].share);
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
	m->aliases = NULL;
}

unsigned int alias_count(const struct guest_mem *m)
{
	unsigned int n;

	if (!m->aliases)
		return 0;
	pthread_mutex_lock(&m->aliases->lock);
	n = m->aliases->nr_entries;
	pthread_mutex_unlock(&m->aliases->lock);
	return n;
}
