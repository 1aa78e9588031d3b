// SPDX-License-Identifier: MIT
/* bzImage parsing, placement and the zero page (see bzimage.h). */
#include "vmm/boot/bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot/e820.h"
#include "vmm/mem/memory.h"

#define SECTOR_BYTES 512u
/* Fields up to init_size exist in every protocol kvmtrack accepts (2.12+). */
#define BZ_MIN_HEADER_END (BZ_INIT_SIZE + 4)

static uint32_t get_le(const uint8_t *p, unsigned int bytes)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned int bytes, uint64_t v)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int check_magic(const uint8_t *image, size_t len, char *why,
		       size_t why_len)
{
	if (len < BZ_HEADER + 4) {
		snprintf(why, why_len,
			 "bzImage too short for a setup header (%zu bytes)",
			 len);
		return -EINVAL;
	}
	if (get_le(image + BZ_BOOT_FLAG, 2) != BZ_BOOT_FLAG_VALUE) {
		snprintf(why, why_len,
			 "bzImage: bad boot flag 0x%04x at 0x1fe (expected 0xaa55)",
			 get_le(image + BZ_BOOT_FLAG, 2));
		return -EINVAL;
	}
	if (get_le(image + BZ_HEADER, 4) != BZ_MAGIC) {
		snprintf(why, why_len,
			 "bzImage: bad setup header magic at 0x202 (expected \"HdrS\")");
		return -EINVAL;
	}
	return 0;
}

static int check_version(const uint8_t *image, size_t len,
			 struct bzimage_info *info, char *why, size_t why_len)
{
	uint32_t header_end = BZ_HEADER + image[BZ_JUMP + 1];

	/* The header's end first: the version lies inside the header, and
	 * an image may end before it. The jump at 0x200 is a short one,
	 * forward: its offset byte is signed, and one of 0x80 or more, a
	 * jump backwards, would have us copy past info->header. */
	if (header_end < BZ_MIN_HEADER_END || header_end > len ||
	    header_end > BZ_SETUP_SECTS + BZ_HEADER_MAX_BYTES) {
		snprintf(why, why_len,
			 "bzImage: setup header ends at 0x%x, outside [0x%x, 0x%x] or the image's 0x%zx bytes",
			 header_end, BZ_MIN_HEADER_END,
			 BZ_SETUP_SECTS + BZ_HEADER_MAX_BYTES, len);
		return -EINVAL;
	}
	info->version = (uint16_t)get_le(image + BZ_VERSION, 2);
	if (info->version < BZ_MIN_VERSION) {
		snprintf(why, why_len,
			 "bzImage: boot protocol %u.%02u is too old (the 64-bit entry needs %u.%02u or later)",
			 info->version >> 8, info->version & 0xff,
			 BZ_MIN_VERSION >> 8, BZ_MIN_VERSION & 0xff);
		return -ENOEXEC;
	}
	info->header_bytes = header_end - BZ_SETUP_SECTS;
	memcpy(info->header, image + BZ_SETUP_SECTS, info->header_bytes);
	return 0;
}

static int check_sizes(const uint8_t *image, size_t len,
		       struct bzimage_info *info, char *why, size_t why_len)
{
	uint64_t sys_bytes = (uint64_t)get_le(image + BZ_SYSSIZE, 4) * 16;

	info->setup_sects = image[BZ_SETUP_SECTS] ? image[BZ_SETUP_SECTS] : 4;
	info->setup_bytes = (uint64_t)(info->setup_sects + 1) * SECTOR_BYTES;
	if (info->setup_bytes >= len) {
		snprintf(why, why_len,
			 "bzImage truncated: %u setup sectors (%llu bytes with the boot sector) but the image has %zu bytes",
			 info->setup_sects,
			 (unsigned long long)info->setup_bytes, len);
		return -EINVAL;
	}
	info->kernel_bytes = len - info->setup_bytes;
	if (sys_bytes > info->kernel_bytes) {
		snprintf(why, why_len,
			 "bzImage truncated: syssize says %llu bytes of kernel, the image has %llu",
			 (unsigned long long)sys_bytes,
			 (unsigned long long)info->kernel_bytes);
		return -EINVAL;
	}
	return 0;
}

static int check_features(struct bzimage_info *info, char *why,
			  size_t why_len)
{
	if (!(info->loadflags & BZ_LOADED_HIGH)) {
		snprintf(why, why_len,
			 "bzImage: a zImage (loaded at 0x10000) is not supported");
		return -ENOEXEC;
	}
	if (!(info->xloadflags & BZ_XLF_KERNEL_64)) {
		snprintf(why, why_len,
			 "bzImage: no 64-bit entry point (XLF_KERNEL_64 clear)");
		return -ENOEXEC;
	}
	if (info->init_size == 0) {
		snprintf(why, why_len, "bzImage: init_size is 0");
		return -EINVAL;
	}
	return 0;
}

int bzimage_parse(const uint8_t *image, size_t len, struct bzimage_info *info,
		  char *why, size_t why_len)
{
	int ret;

	memset(info, 0, sizeof(*info));
	ret = check_magic(image, len, why, why_len);
	ret = ret ?: check_version(image, len, info, why, why_len);
	ret = ret ?: check_sizes(image, len, info, why, why_len);
	if (ret < 0)
		return ret;
	info->loadflags = image[BZ_LOADFLAGS];
	info->xloadflags = image[BZ_XLOADFLAGS];
	info->relocatable = image[BZ_RELOCATABLE_KERNEL] != 0;
	info->initrd_addr_max = get_le(image + BZ_INITRD_ADDR_MAX, 4);
	info->kernel_alignment = get_le(image + BZ_KERNEL_ALIGNMENT, 4);
	info->cmdline_size = get_le(image + BZ_CMDLINE_SIZE, 4);
	info->pref_address = get_le(image + BZ_PREF_ADDRESS, 4) |
			     (uint64_t)get_le(image + BZ_PREF_ADDRESS + 4, 4)
				     << 32;
	info->init_size = get_le(image + BZ_INIT_SIZE, 4);
	return check_features(info, why, why_len);
}

/* End of what the kernel occupies if loaded at load_gpa: a relocatable
 * kernel runs at load_gpa aligned up, but never below pref_address (its
 * LOAD_PHYSICAL_ADDR), and needs init_size bytes from there. */
static uint64_t kernel_end(const struct bzimage_info *info, uint64_t load_gpa)
{
	uint64_t align = info->kernel_alignment ? info->kernel_alignment : 1;
	uint64_t run = (load_gpa + align - 1) / align * align;

	if (!info->relocatable || run < info->pref_address)
		run = info->pref_address;
	return run + info->init_size;
}

static bool fits(const struct bzimage_info *info, const struct guest_mem *mem,
		 uint64_t load_gpa)
{
	uint64_t end = kernel_end(info, load_gpa);

	return guest_mem_is_ram(mem, load_gpa, end - load_gpa);
}

int bzimage_place(const struct bzimage_info *info, const struct guest_mem *mem,
		  uint64_t *load_gpa, uint64_t *end_gpa, char *why,
		  size_t why_len)
{
	uint64_t gpa = info->pref_address;

	if (gpa < BZ_DEFAULT_LOAD_GPA || !fits(info, mem, gpa))
		gpa = BZ_DEFAULT_LOAD_GPA;
	if (!info->relocatable && gpa != info->pref_address)
		gpa = info->pref_address; /* it moves itself there anyway */
	if (gpa < BZ_DEFAULT_LOAD_GPA || !fits(info, mem, gpa)) {
		snprintf(why, why_len,
			 "bzImage needs RAM up to 0x%llx (init_size %u bytes from 0x%llx) but guest RAM is %llu MiB",
			 (unsigned long long)kernel_end(info, gpa),
			 info->init_size,
			 (unsigned long long)(kernel_end(info, gpa) -
					      info->init_size),
			 (unsigned long long)(mem->ram_bytes >> 20));
		return -EFBIG;
	}
	*load_gpa = gpa;
	*end_gpa = kernel_end(info, gpa);
	return 0;
}

static void put_e820_table(uint8_t *zp, const struct e820_entry *map,
			   unsigned int n)
{
	if (n > ZP_E820_MAX)
		n = ZP_E820_MAX;
	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + 20 * i;

		put_le(e, 8, map[i].gpa);
		put_le(e + 8, 8, map[i].size_bytes);
		put_le(e + 16, 4, map[i].type);
	}
}

void bzimage_build_zero_page(const struct bzimage_info *info,
			     const struct bzimage_boot *boot, uint8_t *zp)
{
	memset(zp, 0, ZP_BYTES);
	memcpy(zp + BZ_SETUP_SECTS, info->header, info->header_bytes);
	/* The fields a boot loader must fill (boot protocol, "loader"). */
	put_le(zp + BZ_VID_MODE, 2, 0xffff); /* "normal" */
	zp[BZ_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
	zp[BZ_LOADFLAGS] = (uint8_t)(info->loadflags | BZ_CAN_USE_HEAP);
	put_le(zp + BZ_CODE32_START, 4, boot->load_gpa);
	put_le(zp + BZ_HEAP_END_PTR, 2, BZ_HEAP_END);
	put_le(zp + BZ_CMD_LINE_PTR, 4, boot->cmdline_gpa);
	put_le(zp + ZP_EXT_CMD_LINE_PTR, 4, boot->cmdline_gpa >> 32);
	put_le(zp + BZ_RAMDISK_IMAGE, 4, boot->initrd_gpa);
	put_le(zp + ZP_EXT_RAMDISK_IMAGE, 4, boot->initrd_gpa >> 32);
	put_le(zp + BZ_RAMDISK_SIZE, 4, boot->initrd_bytes);
	put_le(zp + ZP_EXT_RAMDISK_SIZE, 4, boot->initrd_bytes >> 32);
	put_le(zp + BZ_SETUP_DATA, 8, boot->setup_data_gpa);
	put_e820_table(zp, boot->e820, boot->nr_e820);
}

void bzimage_put_setup_data_hdr(uint8_t *out, uint32_t type, uint32_t len)
{
	put_le(out, 8, 0); /* next: the last entry */
	put_le(out + 8, 4, type);
	put_le(out + 12, 4, len);
}
