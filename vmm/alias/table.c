// SPDX-License-Identifier: MIT
/*
 * Read-only windows (see alias.h): the table of them and its lock, making
 * and removing their memslots, revocation, and the copies of its state
 * that the rest reads. The rules for a new window are in window.c, the
 * guest writes they trap in trap.c, region resizing in resize.c, output
 * (JSON, device tree) in report.c, parsing in spec.c, file mapping in
 * share.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vmm/alias/alias.h"
#include "vmm/alias/share.h"
#include "vmm/alias/window.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/memory.h"

#define PAGE_MASK (GUEST_PAGE_BYTES - 1)

struct alias_table {
	int vm_fd;
	struct dirty_tracker *dirty;
	const struct bus *bus;
	int policy; /* enum alias_write_policy */
	pthread_mutex_t lock; /* guards everything below */
	bool frozen; /* a migration carries the windows: no changes */
	struct alias_entry entries[MEM_MAX_SLOTS];
	unsigned int nr_entries;
	uint64_t writes_trapped; /* every window's, removed ones included */
	struct alias_write_record last[ALIAS_LOG_RECORDS];
	uint64_t nr_records; /* records ever made; last[n % RECORDS] */
};

static struct alias_entry *entry_at(struct alias_table *t, uint64_t gpa)
{
	for (unsigned int i = 0; i < t->nr_entries; i++)
		if (t->entries[i].gpa == gpa)
			return &t->entries[i];
	return NULL;
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
	ret = ret ?: alias_check_target(m, t->bus, t->entries, t->nr_entries,
					e.gpa, e.size_bytes, err, err_len);
	ret = ret ?: alias_resolve_source(m, t->entries, t->nr_entries,
					  e.src_gpa, e.size_bytes, &e, err,
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
	ret = ret ?: alias_check_target(m, t->bus, t->entries, t->nr_entries,
					e.gpa, e.size_bytes, err, err_len);
	ret = ret ?: insert_entry(m, &e, err, err_len);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0) {
		share_map_close(e.share);
		free(e.share);
	}
	return ret;
}

/*
 * Removes the windows onto RAM (not the shared files themselves) that
 * match: region `region` if >= 0, the file in slot owner_slot if >= 0;
 * logs why, returns how many. Locked. From the end, since remove_entry
 * moves the last entry into the hole.
 */
static int revoke_where(struct guest_mem *m, int region, int owner_slot,
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
		revoke_where(m, -1, (int)e->slot_id, why);
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
	n = revoke_where(m, (int)region, -1, why);
	pthread_mutex_unlock(&t->lock);
	return n;
}

struct ram_slot_op {
	int (*fn)(int vm_fd, void *arg);
	int vm_fd;
	void *arg;
};

static int ram_slot_op_apply(void *arg)
{
	struct ram_slot_op *op = arg;

	return op->fn(op->vm_fd, op->arg);
}

int alias_slots_change(struct guest_mem *m, int (*fn)(int vm_fd, void *arg),
		       void *arg)
{
	struct alias_table *t = m->aliases;
	struct ram_slot_op op = { .fn = fn, .arg = arg };
	int ret;

	if (!t)
		return -ENODEV;
	op.vm_fd = t->vm_fd;
	pthread_mutex_lock(&t->lock);
	ret = dirty_slots_change(t->dirty, ram_slot_op_apply, &op);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

bool alias_covers(const struct guest_mem *m, uint64_t gpa, uint32_t len,
		  int *policy)
{
	struct alias_table *t = m->aliases;
	bool hit;

	if (!t)
		return false;
	pthread_mutex_lock(&t->lock);
	hit = alias_entry_covering(t->entries, t->nr_entries, gpa, len) != NULL;
	*policy = t->policy;
	pthread_mutex_unlock(&t->lock);
	return hit;
}

static void info_of(const struct alias_entry *e, struct alias_info *out)
{
	memset(out, 0, sizeof(*out));
	out->file = e->share != NULL;
	out->gpa = e->gpa;
	out->size_bytes = e->size_bytes;
	out->src_gpa = e->src_gpa;
	out->slot_id = e->slot_id;
	out->writes_trapped = e->writes_trapped;
	if (e->share) {
		snprintf(out->name, sizeof(out->name), "%s", e->share->name);
		snprintf(out->path, sizeof(out->path), "%s", e->share->path);
		out->file_bytes = e->share->file_bytes;
		out->hva = e->share->hva;
	}
}

int alias_note_write(struct guest_mem *m, struct alias_write_record *rec,
		     struct alias_info *window, int *policy)
{
	struct alias_table *t = m->aliases;
	struct alias_entry *e;

	if (!t)
		return -ENOENT;
	pthread_mutex_lock(&t->lock);
	e = alias_entry_covering(t->entries, t->nr_entries, rec->gpa,
				 rec->len);
	if (e) {
		e->writes_trapped++;
		t->writes_trapped++;
		rec->alias_gpa = e->gpa;
		t->last[t->nr_records++ % ALIAS_LOG_RECORDS] = *rec;
		info_of(e, window);
		*policy = t->policy;
	}
	pthread_mutex_unlock(&t->lock);
	return e ? 0 : -ENOENT;
}

unsigned int alias_list(const struct guest_mem *m, struct alias_info *out,
			unsigned int max)
{
	struct alias_table *t = m->aliases;
	unsigned int n;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	n = t->nr_entries;
	for (unsigned int i = 0; i < n && i < max; i++)
		info_of(&t->entries[i], &out[i]);
	pthread_mutex_unlock(&t->lock);
	return n;
}

bool alias_stats(const struct guest_mem *m, struct alias_stats *out)
{
	struct alias_table *t = m->aliases;
	uint64_t first;

	if (!t)
		return false;
	pthread_mutex_lock(&t->lock);
	out->count = t->nr_entries;
	out->writes_trapped = t->writes_trapped;
	out->policy = t->policy;
	/* Oldest first, at most the last ALIAS_LOG_RECORDS. */
	first = t->nr_records > ALIAS_LOG_RECORDS
			? t->nr_records - ALIAS_LOG_RECORDS
			: 0;
	out->nr_last = 0;
	for (uint64_t i = first; i < t->nr_records; i++)
		out->last[out->nr_last++] = t->last[i % ALIAS_LOG_RECORDS];
	pthread_mutex_unlock(&t->lock);
	return true;
}
