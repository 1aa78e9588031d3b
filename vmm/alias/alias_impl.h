/* SPDX-License-Identifier: MIT */
/* The inside of the alias table, shared by alias.c, alias_out.c,
 * alias_trap.c, region_resize.c and share.c. */
#ifndef KVMTRACK_ALIAS_IMPL_H
#define KVMTRACK_ALIAS_IMPL_H

#include <pthread.h>

#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"

struct share_map;

/* One read-only window: its memslot is mem->slots[] with slot_id. */
struct alias_entry {
	uint32_t slot_id;
	uint64_t gpa;
	uint64_t size_bytes;
	uint64_t src_gpa; /* as asked; a shared file: its own gpa */
	int region; /* RAM region backing it, -1 for a file */
	int owner_slot; /* file: slot id of the share that maps it */
	uint8_t *hva;
	struct share_map *share; /* set on the share itself only */
	uint64_t writes_trapped;
};

struct alias_write_record {
	unsigned int vcpu;
	uint64_t gpa;
	uint64_t alias_gpa;
	uint32_t len;
	uint64_t value;
	char insn[96];
};

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

/* The window holding all of [gpa, gpa+len), or NULL. Locked. */
struct alias_entry *alias_entry_covering(struct alias_table *t, uint64_t gpa,
					 uint64_t len);
/* Removes the windows onto RAM (not the shared files themselves) that
 * match: region `region` if >= 0, the file in slot owner_slot if >= 0;
 * logs why, returns how many. Locked. */
int alias_revoke_where(struct guest_mem *m, int region, int owner_slot,
		       const char *why);

#endif
