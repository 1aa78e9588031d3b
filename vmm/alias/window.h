/* SPDX-License-Identifier: MIT */
/*
 * One read-only window (alias.h) and the rules for making one: where it
 * may go and what it maps. Pure functions over the windows that exist,
 * which the alias table (table.c) holds and locks.
 */
#ifndef KVMTRACK_ALIAS_WINDOW_H
#define KVMTRACK_ALIAS_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct bus;
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

/* The window of entries[0..nr) holding all of [gpa, gpa+len), or NULL. */
struct alias_entry *alias_entry_covering(struct alias_entry *entries,
					 unsigned int nr, uint64_t gpa,
					 uint64_t len);

/*
 * Where a window may go: non-empty, 4 KiB page-aligned, below
 * ALIAS_MAX_GPA, over no memslot (entries[0..nr) name the windows'), none
 * of the platform's range and no device on bus (may be NULL). -EINVAL
 * with err saying what it overlaps.
 */
int alias_check_target(const struct guest_mem *m, const struct bus *bus,
		       const struct alias_entry *entries, unsigned int nr,
		       uint64_t gpa, uint64_t size, char *err, size_t err_len);
/*
 * What [src, src+size) is: RAM, or a window of entries[0..nr), whose
 * backing it takes. Sets e's region, owner_slot and hva; -EINVAL with err.
 */
int alias_resolve_source(const struct guest_mem *m,
			 struct alias_entry *entries, unsigned int nr,
			 uint64_t src, uint64_t size, struct alias_entry *e,
			 char *err, size_t err_len);

#endif
