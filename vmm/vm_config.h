/* SPDX-License-Identifier: MIT */
/* What `kvmtrack run` was asked for: filled by the command line, read by all. */
#ifndef KVMTRACK_CONFIG_H
#define KVMTRACK_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define VM_MAX_CPUS 16
#define VM_DEFAULT_MEM_BYTES (256ull << 20)
#define VM_MIN_MEM_BYTES (2ull << 20)
#define VM_CMDLINE_MAX 2048

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

/* Read-only windows asked for at start (vmm/alias/alias.h). */
#define VM_MAX_ALIAS_ARGS 8
#define VM_MAX_SHARE_ARGS 4

struct alias_spec { /* --alias GPA=SRC_GPA+SIZE */
	uint64_t gpa;
	uint64_t src_gpa;
	uint64_t size_bytes;
};

struct share_spec { /* --share NAME=FILE@GPA */
	char name[32];
	char path[256];
	uint64_t gpa;
};

struct serial_config {
	enum serial_kind kind;
	const char *path; /* SERIAL_FILE */
};

struct vm_config {
	const char *image_path;
	const char *initrd_path; /* NULL: no initrd */
	uint64_t mem_bytes;
	unsigned int nr_cpus;
	const char *cmdline; /* never NULL after parsing ("" by default) */
	struct serial_config serial;
	const char *control_path; /* NULL: no control socket */
	const char *incoming_uri; /* --incoming: receive a migration */
	bool mem_explicit; /* -m given: a migration must match it */
	bool cpus_explicit; /* -c given */
	bool trace_exits;
	struct alias_spec aliases[VM_MAX_ALIAS_ARGS];
	unsigned int nr_aliases;
	struct share_spec shares[VM_MAX_SHARE_ARGS];
	unsigned int nr_shares;
	int alias_write; /* enum alias_write_policy; 0 = log */
	struct {
		int backend; /* enum dirty_backend; 0 = auto */
		uint32_t ring_entries;
	} dirty;
};

#endif
