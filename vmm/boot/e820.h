/* SPDX-License-Identifier: MIT */
/*
 * The E820 memory map a guest gets, derived from kvmtrack's memory layout.
 * Shared by the PVH start_info and the bzImage zero page, which encode the
 * same entries in two wire formats.
 */
#ifndef KVMTRACK_E820_H
#define KVMTRACK_E820_H

#include <stdint.h>

struct guest_mem;

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES 8

/* The PC's legacy VGA window and BIOS area, reserved below 1 MiB. */
#define E820_LEGACY_START_GPA 0xa0000ull
#define E820_LEGACY_END_GPA 0x100000ull

struct e820_entry {
	uint64_t gpa;
	uint64_t size_bytes;
	uint32_t type;
};

/*
 * Fills out[0..max) with the map for mem, in ascending address order: RAM
 * per memory region, with [0xa0000, 1 MiB) reserved as every x86 guest OS
 * expects (kvmtrack's MP table lives there). Returns the number of entries,
 * at most E820_MAX_ENTRIES.
 */
unsigned int e820_from_layout(const struct guest_mem *mem,
			      struct e820_entry *out, unsigned int max);

#endif
