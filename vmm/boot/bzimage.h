/* SPDX-License-Identifier: MIT */
/*
 * Linux bzImage, 64-bit boot protocol (the kernel's x86 boot protocol
 * document). The setup header is read from the image at its documented
 * offsets and the zero page (struct boot_params) is assembled byte by byte
 * with explicit little-endian stores, never by laying a C struct over
 * guest memory.
 */
#ifndef KVMTRACK_BZIMAGE_H
#define KVMTRACK_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/boot/layout.h"

struct guest_mem;
struct e820_entry;

/* Setup header fields: offsets in the image's first sectors and, since the
 * header is copied there unchanged, in the zero page too. */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_VID_MODE 0x1fa
#define BZ_BOOT_FLAG 0x1fe
#define BZ_JUMP 0x200
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_CODE32_START 0x214
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE_KERNEL 0x234
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_SETUP_DATA 0x250
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_SYSSIZE 0x1f4

/* Zero-page fields outside the setup header. */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_SENTINEL 0x1ef
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_MAX 128
#define ZP_BYTES 4096

#define BZ_MAGIC 0x53726448u /* "HdrS" */
#define BZ_BOOT_FLAG_VALUE 0xaa55u
#define BZ_MIN_VERSION 0x020cu /* 2.12: xloadflags, 64-bit entry flagged */
#define BZ_LOADED_HIGH 0x01u
#define BZ_CAN_USE_HEAP 0x80u
#define BZ_XLF_KERNEL_64 0x01u
#define BZ_LOADER_UNDEFINED 0xffu /* kvmtrack has no assigned loader ID */
#define BZ_HEAP_END 0xde00u /* the usual 0xe000 - 0x200 */
#define BZ_SETUP_DTB 2u
#define BZ_SETUP_DATA_HDR_BYTES 16u
#define BZ_ENTRY64_OFFSET 0x200u /* startup_64 from the load address */
#define BZ_DEFAULT_LOAD_GPA 0x100000ull

/*
 * Where kvmtrack puts bzImage boot data (docs/machine.md): the zero page
 * takes the page PVH uses for start_info, the command line is the usual
 * one, and the SETUP_DTB header sits right before the device tree so the
 * tree needs no second copy. All of it is in the first MiB, which Linux
 * reserves for good early in boot.
 */
#define BZ_ZERO_PAGE_GPA BOOT_START_INFO_GPA
#define BZ_SETUP_DTB_GPA (BOOT_FDT_GPA - BZ_SETUP_DATA_HDR_BYTES)

/* Largest setup header: it ends at 0x202 + the jump's 8-bit offset. */
#define BZ_HEADER_MAX_BYTES (0x202 + 0x80 - BZ_SETUP_SECTS)

/* What kvmtrack needs from a bzImage's setup header. */
struct bzimage_info {
	uint16_t version;
	uint8_t loadflags;
	uint8_t xloadflags;
	bool relocatable;
	uint32_t setup_sects;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
	uint64_t setup_bytes; /* boot sector + setup sectors */
	uint64_t kernel_bytes; /* protected-mode kernel, after the setup */
	/* The setup header, image[0x1f1, 0x202 + jump), copied to the zero page. */
	uint8_t header[BZ_HEADER_MAX_BYTES];
	uint32_t header_bytes;
};

/*
 * Parses and checks the setup header of image[0..len). Returns 0, or
 * -EINVAL / -ENOEXEC with why naming the problem: bad magic, a protocol
 * too old for the 64-bit entry, truncated setup sectors or kernel.
 */
int bzimage_parse(const uint8_t *image, size_t len, struct bzimage_info *info,
		  char *why, size_t why_len);

/*
 * Chooses where the protected-mode kernel goes: pref_address when
 * [pref_address, + init_size) is RAM, else 1 MiB for a relocatable kernel.
 * Returns 0 and the load address and the end of the range the kernel will
 * occupy while it decompresses and runs, or -EFBIG with why.
 */
int bzimage_place(const struct bzimage_info *info, const struct guest_mem *mem,
		  uint64_t *load_gpa, uint64_t *end_gpa, char *why,
		  size_t why_len);

/* What the zero page points to, in guest-physical addresses. */
struct bzimage_boot {
	uint64_t load_gpa;
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa; /* 0 with initrd_bytes 0: no initrd */
	uint64_t initrd_bytes;
	uint64_t setup_data_gpa; /* first setup_data entry, 0 for none */
	const struct e820_entry *e820;
	unsigned int nr_e820;
};

/* Fills zp[0..ZP_BYTES) as the boot protocol says. Pure: unit-tested. */
void bzimage_build_zero_page(const struct bzimage_info *info,
			     const struct bzimage_boot *boot, uint8_t *zp);

/* Writes a setup_data header {next = 0, type, len} into out[0..16). */
void bzimage_put_setup_data_hdr(uint8_t *out, uint32_t type, uint32_t len);

#endif
