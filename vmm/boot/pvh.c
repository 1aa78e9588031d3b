// SPDX-License-Identifier: MIT
/*
 * PVH start_info. The structures are assembled field by field with explicit
 * little-endian stores, never by writing C structs, so the layout is the
 * ABI's and not the compiler's.
 */
#include "vmm/boot/pvh.h"

#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "vmm/boot/layout.h"
#include "vmm/mem/limits.h"
#include "vmm/mem/memory.h"

#define MEMMAP_MAX_ENTRIES 8
#define MODCMD_MAX_BYTES 0x100

/* hvm_memmap_table_entry: addr, size, type, reserved (24 bytes). */
static void put_e820(uint8_t *out, unsigned int i, uint64_t gpa,
		     uint64_t size_bytes, uint32_t type)
{
	uint8_t *e = out + 24 * i;

	put_le64(e, gpa);
	put_le64(e + 8, size_bytes);
	put_le32(e + 16, type);
}

static unsigned int build_memmap(const struct guest_mem *mem, uint8_t *out)
{
	struct e820_entry map[MEMMAP_MAX_ENTRIES];
	unsigned int n = e820_from_layout(mem, map, MEMMAP_MAX_ENTRIES);

	for (unsigned int i = 0; i < n; i++)
		put_e820(out, i, map[i].gpa, map[i].size_bytes, map[i].type);
	return n;
}

/* hvm_modlist_entry: paddr, size, cmdline_paddr, reserved (32 bytes). */
static int write_modules(struct guest_mem *mem, const struct pvh_module *mods,
			 unsigned int nr_mods)
{
	uint8_t list[32 * PVH_MAX_MODULES];
	uint64_t cmd_gpa = BOOT_MODCMD_GPA;
	int ret = 0;

	memset(list, 0, sizeof(list));
	for (unsigned int i = 0; i < nr_mods; i++) {
		size_t len = mods[i].cmdline ? strlen(mods[i].cmdline) + 1 : 0;

		put_le64(list + 32 * i, mods[i].gpa);
		put_le64(list + 32 * i + 8, mods[i].size_bytes);
		if (len == 0)
			continue;
		if (cmd_gpa + len > BOOT_MODCMD_GPA + MODCMD_MAX_BYTES)
			return -E2BIG;
		ret = guest_mem_write(mem, cmd_gpa, mods[i].cmdline, len);
		if (ret < 0)
			return ret;
		put_le64(list + 32 * i + 16, cmd_gpa);
		cmd_gpa += len;
	}
	return guest_mem_write(mem, BOOT_MODLIST_GPA, list, 32 * nr_mods);
}

int pvh_write_start_info(struct guest_mem *mem, const char *cmdline,
			 const struct pvh_module *mods, unsigned int nr_mods)
{
	uint8_t info[56], memmap[24 * MEMMAP_MAX_ENTRIES];
	size_t cmd_len = strlen(cmdline) + 1;
	unsigned int nr_memmap;
	int ret;

	if (cmd_len > VM_CMDLINE_MAX || nr_mods > PVH_MAX_MODULES)
		return -E2BIG;
	memset(memmap, 0, sizeof(memmap));
	nr_memmap = build_memmap(mem, memmap);
	memset(info, 0, sizeof(info));
	put_le32(info + 0, PVH_START_MAGIC);
	put_le32(info + 4, 1); /* version 1: has the memory map */
	put_le32(info + 12, nr_mods);
	put_le64(info + 16, BOOT_MODLIST_GPA);
	put_le64(info + 24, BOOT_CMDLINE_GPA);
	put_le64(info + 32, 0); /* rsdp_paddr: no ACPI */
	put_le64(info + 40, BOOT_MEMMAP_GPA);
	put_le32(info + 48, nr_memmap);

	ret = guest_mem_write(mem, BOOT_CMDLINE_GPA, cmdline, cmd_len);
	ret = ret ?: guest_mem_write(mem, BOOT_MEMMAP_GPA, memmap,
				     24 * nr_memmap);
	ret = ret ?: write_modules(mem, mods, nr_mods);
	ret = ret ?: guest_mem_write(mem, BOOT_START_INFO_GPA, info,
				     sizeof(info));
	return ret;
}
