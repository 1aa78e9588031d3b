/* SPDX-License-Identifier: MIT */
/* The PVH boot ABI's start_info, written into guest RAM for the boot vCPU. */
#ifndef KVMTRACK_PVH_H
#define KVMTRACK_PVH_H

#include <stdint.h>

#include "vmm/boot/e820.h"

struct guest_mem;

#define PVH_START_MAGIC 0x336ec578u
#define PVH_MAX_MODULES 4

struct pvh_module {
	uint64_t gpa;
	uint64_t size_bytes;
	const char *cmdline; /* may be NULL */
};

/*
 * Writes hvm_start_info (version 1) at BOOT_START_INFO_GPA with the command
 * line, an E820 memory map derived from mem's layout and the modules.
 * Returns 0 or -E2BIG / -EFAULT.
 */
int pvh_write_start_info(struct guest_mem *mem, const char *cmdline,
			 const struct pvh_module *mods, unsigned int nr_mods);

#endif
