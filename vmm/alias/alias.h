/* SPDX-License-Identifier: MIT */
/*
 * Read-only windows into guest memory, each a KVM memslot with
 * KVM_MEM_READONLY:
 *   - an alias maps [src_gpa, src_gpa + size) of a RAM region (or of
 *     another window, which resolves to the same backing) at a second
 *     guest-physical address;
 *   - a shared file (--share) maps a host file, opened read-only and
 *     mmap'ed PROT_READ MAP_SHARED, so that every kvmtrack mapping it
 *     shares the host's page cache.
 * Rights only go down: nothing here maps anything writable. A guest write
 * into a window is an MMIO exit; memory is never changed, and the write is
 * dropped, logged or stops the VM (--alias-write).
 *
 * Lifetime: removing a window removes that mapping only; resizing or
 * removing what a window maps (a RAM region, a shared file) revokes every
 * window of it first. A window's source is resolved when it is made, so an
 * alias of an alias outlives the alias it was made through.
 *
 * The table lives in guest_mem->aliases; one lock guards it (control
 * thread, vCPU exits); slot-table changes also take the dirty tracker's
 * lock (dirty_slots_change), so harvests never see a half-changed table.
 */
#ifndef KVMTRACK_ALIAS_H
#define KVMTRACK_ALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct dirty_tracker;
struct bus;
struct jw;
struct control;
struct alias_info;

enum alias_write_policy {
	ALIAS_WRITE_LOG = 0, /* default: drop, record and print */
	ALIAS_WRITE_IGNORE,
	ALIAS_WRITE_STOP, /* drop, record, print and pause the VM */
};

/* Read-only windows asked for at start (--alias, --share). */
#define VM_MAX_ALIAS_ARGS 8
#define VM_MAX_SHARE_ARGS 4

struct alias_spec { /* --alias GPA=SRC_GPA+SIZE */
	uint64_t gpa;
	uint64_t src_gpa;
	uint64_t size_bytes;
};

/* A shared file's name: 1-31 of [A-Za-z0-9_.-] and its NUL. */
#define SHARE_NAME_MAX 32

struct share_spec { /* --share NAME=FILE@GPA */
	char name[SHARE_NAME_MAX];
	char path[256];
	uint64_t gpa;
};

/* The windows to make at start, and what a guest write into one does. */
struct alias_config {
	struct alias_spec aliases[VM_MAX_ALIAS_ARGS];
	unsigned int nr_aliases;
	struct share_spec shares[VM_MAX_SHARE_ARGS];
	unsigned int nr_shares;
	int write_policy; /* enum alias_write_policy; 0 = log */
};

/* Guest writes remembered for stats (the last ones). */
#define ALIAS_LOG_RECORDS 16
/* Highest guest-physical address a window may reach (46 bits). */
#define ALIAS_MAX_GPA (1ull << 46)
/* In the 32-bit hole, the platform's own: IOAPIC, LAPIC, KVM's TSS. */
#define ALIAS_PLATFORM_START_GPA 0xfec00000ull
#define ALIAS_PLATFORM_END_GPA 0x100000000ull

/* "GPA=SRC_GPA+SIZE"; numbers in hex or decimal, K/M/G suffixes. */
int alias_parse_spec(const char *text, struct alias_spec *out, char *err,
		     size_t err_len);
/* "NAME=FILE@GPA"; NAME is 1-31 of [A-Za-z0-9_.-]. */
int share_parse_spec(const char *text, struct share_spec *out, char *err,
		     size_t err_len);
/* "ignore", "log" or "stop". */
int alias_parse_write_policy(const char *text, int *policy, char *err,
			     size_t err_len);
const char *alias_write_policy_name(int policy);

/*
 * Creates m's table (once its RAM slots are registered with KVM on
 * vm_fd) and maps cfg's --share files and --alias windows, in that order.
 * dirty and bus may be NULL. -errno with err naming the request.
 */
int alias_setup(struct guest_mem *m, int vm_fd, struct dirty_tracker *dirty,
		const struct bus *bus, const struct alias_config *cfg,
		char *err, size_t err_len);
/* Unmaps the shared files and frees the table; before guest_mem_destroy(),
 * since the windows map into its regions. */
void alias_table_destroy(struct guest_mem *m);

/*
 * Adds "alias-list", "alias-add" and "alias-remove" (vmm/alias/commands.c)
 * for the windows of mem (a struct guest_mem *) to the control object c.
 */
int alias_register_commands(struct control *c, void *mem);

/* Adds a window; refuses unaligned, overlapping or out-of-range requests
 * with -EINVAL (-ENOSPC: no memslot left) and a message in err. */
int alias_add(struct guest_mem *m, const struct alias_spec *spec, char *err,
	      size_t err_len);
int share_add(struct guest_mem *m, const struct share_spec *spec, char *err,
	      size_t err_len);
/* Removes the window starting at gpa (a shared file: its aliases first). */
int alias_remove(struct guest_mem *m, uint64_t gpa, char *err,
		 size_t err_len);

/*
 * Removes every window onto RAM region `region`. Returns how many.
 * Called before the region shrinks or goes away.
 */
int alias_revoke_region(struct guest_mem *m, unsigned int region);
/*
 * Shrinks RAM region `region` to new_bytes (0: removes it): revokes its
 * windows, re-registers its memslot at the new size and gives the host
 * pages beyond back. Growing is refused. For tests and tools: the guest
 * loses the memory at once.
 */
int alias_region_resize(struct guest_mem *m, unsigned int region,
			uint64_t new_bytes, char *err, size_t err_len);
/*
 * Runs fn(vm_fd, arg), a change to m's RAM memslots (resize.c), under the
 * table's lock and then the dirty tracker's (dirty_slots_change), as the
 * windows' own slot changes are made. -ENODEV when m has no alias table.
 */
int alias_slots_change(struct guest_mem *m, int (*fn)(int vm_fd, void *arg),
		       void *arg);

/* A guest write dropped on a window, as stats shows it. */
struct alias_write_record {
	unsigned int vcpu;
	uint64_t gpa;
	uint64_t alias_gpa; /* the window's */
	uint32_t len;
	uint64_t value;
	char insn[96];
};

/*
 * vCPU side. alias_covers: is [gpa, gpa+len) in a window, and under which
 * policy. alias_trap_write: accounts a dropped write (insn: the writing
 * instruction, may be ""), prints it unless ignored; -ENOENT when the
 * range is in no window (any more).
 */
bool alias_covers(const struct guest_mem *m, uint64_t gpa, uint32_t len,
		  int *policy);
int alias_trap_write(struct guest_mem *m, unsigned int vcpu, uint64_t gpa,
		     const uint8_t *data, uint32_t len, const char *insn);
/*
 * The table's part of alias_trap_write: finds the window holding
 * [rec->gpa, +rec->len), counts the write on it, sets rec->alias_gpa and
 * keeps rec among the last ALIAS_LOG_RECORDS; copies the window to
 * *window and the policy to *policy. -ENOENT when no window holds it.
 */
int alias_note_write(struct guest_mem *m, struct alias_write_record *rec,
		     struct alias_info *window, int *policy);

/* alias-list's reply: [{gpa, src_gpa, size, writes_trapped, ...}]. */
void alias_list_json(const struct guest_mem *m, struct jw *w);
/* The table's counts and its last writes, copied under its lock. */
struct alias_stats {
	unsigned int count; /* windows */
	uint64_t writes_trapped; /* every window's, removed ones included */
	int policy; /* enum alias_write_policy */
	struct alias_write_record last[ALIAS_LOG_RECORDS]; /* oldest first */
	unsigned int nr_last;
};

/* Fills out; false when m has no alias table. */
bool alias_stats(const struct guest_mem *m, struct alias_stats *out);

/* Members of `stats`: "aliases": {count, writes_trapped, policy, last}. */
void alias_stats_json(const struct guest_mem *m, struct jw *w);
/* Number of windows and total guest writes trapped (tests, bench). */
unsigned int alias_count(const struct guest_mem *m);
uint64_t alias_writes_trapped(const struct guest_mem *m);

/* /memory-aliases/alias@GPA and /shared-files/file@GPA nodes (fdt.c). */
int alias_fdt_nodes(const struct guest_mem *m, void *fdt);

/* While frozen, alias-add/remove and share_add are refused (-EBUSY): a
 * migration has described the windows to its destination. */
void alias_freeze(struct guest_mem *m, bool frozen);

/* One window as alias-list, the device tree and a migration describe it. */
struct alias_info {
	bool file; /* a --share file; else an alias of RAM or of a window */
	uint64_t gpa;
	uint64_t size_bytes;
	uint64_t src_gpa; /* as asked; a file: its own gpa */
	uint32_t slot_id; /* its memslot */
	uint64_t writes_trapped; /* guest writes dropped on it */
	char name[SHARE_NAME_MAX]; /* file only */
	char path[256]; /* file only */
	uint64_t file_bytes; /* file only */
	const uint8_t *hva; /* file only: its read-only mapping */
};

/* Copies out up to max windows in the table's order; returns how many
 * there are. */
unsigned int alias_list(const struct guest_mem *m, struct alias_info *out,
			unsigned int max);
/* Copies out up to max windows, shared files first (aliases may point
 * into them); returns how many it copied. */
unsigned int alias_snapshot(const struct guest_mem *m, struct alias_info *out,
			    unsigned int max);

#endif
