/* SPDX-License-Identifier: MIT */
/*
 * How a loaded image is entered: what each loader (ELF, PVH, bzImage)
 * hands to the vCPU set-up, in a header of its own so that the loaders
 * need not include loader.h, which dispatches to them.
 */
#ifndef KVMTRACK_BOOT_PLAN_H
#define KVMTRACK_BOOT_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/boot/bzimage.h"

enum boot_entry_kind {
	BOOT_ENTRY_PVH32, /* 32-bit protected mode, EBX = start_info */
	BOOT_ENTRY_LONG64, /* long mode on kvmtrack's identity map */
	BOOT_ENTRY_BZIMAGE64, /* Linux 64-bit boot protocol, RSI = zero page */
};

struct boot_plan {
	enum boot_entry_kind kind;
	uint64_t entry;
	bool has_ap_entry;
	uint32_t ap_entry;
	uint64_t image_start_gpa;
	uint64_t image_end_gpa;
	struct bzimage_info bz; /* BOOT_ENTRY_BZIMAGE64 only */
};

#endif
