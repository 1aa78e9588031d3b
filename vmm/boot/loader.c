// SPDX-License-Identifier: MIT
/* Reads guest images and places them in guest RAM (see loader.h). */
#include "vmm/boot/loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot/elf.h"
#include "vmm/boot/image_file.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/linux.h"
#include "vmm/mem/memory.h"

static int check_segment_fits(const struct guest_mem *mem,
			      const struct elf_segment *s, unsigned int i,
			      const char *path, char *err, size_t err_len)
{
	if (s->paddr < BOOT_AREA_END_GPA &&
	    s->paddr + s->mem_bytes > BOOT_AREA_START_GPA) {
		snprintf(err, err_len,
			 "%s: segment %u [0x%llx, 0x%llx) overlaps kvmtrack's boot area [0x%llx, 0x%llx)",
			 path, i, (unsigned long long)s->paddr,
			 (unsigned long long)(s->paddr + s->mem_bytes),
			 BOOT_AREA_START_GPA, BOOT_AREA_END_GPA);
		return -EINVAL;
	}
	if (!guest_mem_is_ram(mem, s->paddr, s->mem_bytes)) {
		snprintf(err, err_len,
			 "%s: segment %u [0x%llx, 0x%llx) does not fit in guest RAM (%llu MiB)",
			 path, i, (unsigned long long)s->paddr,
			 (unsigned long long)(s->paddr + s->mem_bytes),
			 (unsigned long long)(mem->ram_bytes >> 20));
		return -EFBIG;
	}
	return 0;
}

static int load_elf(struct guest_mem *mem, const char *path,
		    const uint8_t *buf, size_t len, struct boot_plan *plan,
		    char *err, size_t err_len)
{
	struct elf_image img;
	char why[256];
	int ret = elf_parse(buf, len, &img, why, sizeof(why));

	if (ret < 0) {
		snprintf(err, err_len, "%s: %s", path, why);
		return ret;
	}
	for (unsigned int i = 0; i < img.nr_segs; i++) {
		ret = check_segment_fits(mem, &img.segs[i], i, path, err,
					 err_len);
		if (ret < 0)
			return ret;
	}
	for (unsigned int i = 0; i < img.nr_segs; i++) {
		const struct elf_segment *s = &img.segs[i];

		guest_mem_write(mem, s->paddr, buf + s->file_offset,
				s->file_bytes);
		guest_mem_fill(mem, s->paddr + s->file_bytes, 0,
			       s->mem_bytes - s->file_bytes);
	}
	*plan = (struct boot_plan){
		.kind = img.has_pvh_entry ? BOOT_ENTRY_PVH32
					  : BOOT_ENTRY_LONG64,
		.entry = img.has_pvh_entry ? img.pvh_entry : img.entry,
		.has_ap_entry = img.has_ap_entry,
		.ap_entry = img.ap_entry,
		.image_start_gpa = img.lowest_paddr,
		.image_end_gpa = img.highest_paddr_end,
	};
	return 0;
}

int loader_load(struct guest_mem *mem, const char *path,
		struct boot_plan *plan, char *err, size_t err_len)
{
	void *buf = NULL;
	size_t len = 0;
	int ret;

	ret = image_file_read(path, "image", mem->ram_bytes, &buf, &len, err,
			       err_len);
	if (ret < 0)
		return ret;
	if (len >= 4 && memcmp(buf, "\x7f" "ELF", 4) == 0) {
		ret = load_elf(mem, path, buf, len, plan, err, err_len);
	} else if (bzimage_looks_like(buf, len)) {
		ret = bzimage_load(mem, path, buf, len, plan, err, err_len);
	} else {
		snprintf(err, err_len,
			 "%s: not an ELF image (bad magic) nor a bzImage (no boot flag 0xaa55, no \"HdrS\")",
			 path);
		ret = -ENOEXEC;
	}
	free(buf);
	return ret;
}
