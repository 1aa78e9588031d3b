// SPDX-License-Identifier: MIT
/* Loading Linux: bzImage, initrd, zero page (see boot_linux.h). */
#include "vmm/boot/linux.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm/boot/bzimage.h"
#include "vmm/boot/e820.h"
#include "vmm/boot/image_file.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/plan.h"
#include "vmm/mem/limits.h"
#include "vmm/mem/memory.h"

bool bzimage_looks_like(const uint8_t *buf, size_t len)
{
	if (len < BZ_HEADER + 4)
		return false;
	return (buf[BZ_BOOT_FLAG] == 0x55 && buf[BZ_BOOT_FLAG + 1] == 0xaa) ||
	       memcmp(buf + BZ_HEADER, "HdrS", 4) == 0;
}

int bzimage_load(struct guest_mem *mem, const char *path, const uint8_t *buf,
		 size_t len, struct boot_plan *plan, char *err, size_t err_len)
{
	struct bzimage_info info;
	uint64_t load_gpa, end_gpa;
	char why[256];
	int ret;

	ret = bzimage_parse(buf, len, &info, why, sizeof(why));
	ret = ret ?: bzimage_place(&info, mem, &load_gpa, &end_gpa, why,
				   sizeof(why));
	if (ret < 0) {
		snprintf(err, err_len, "%s: %s", path, why);
		return ret;
	}
	ret = guest_mem_write(mem, load_gpa, buf + info.setup_bytes,
			      info.kernel_bytes);
	if (ret < 0) {
		snprintf(err, err_len, "%s: cannot write the kernel at 0x%llx",
			 path, (unsigned long long)load_gpa);
		return ret;
	}
	memset(plan, 0, sizeof(*plan));
	plan->kind = BOOT_ENTRY_BZIMAGE64;
	plan->entry = load_gpa + BZ_ENTRY64_OFFSET;
	plan->image_start_gpa = load_gpa;
	plan->image_end_gpa = end_gpa;
	plan->bz = info;
	return 0;
}

/* End of the low RAM region (the one that starts at 0). */
static uint64_t low_ram_end(const struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++)
		if (mem->regions[i].gpa == 0)
			return mem->regions[i].size_bytes;
	return 0;
}

static int initrd_size(const char *path, const struct guest_mem *mem,
		       uint64_t *bytes, char *err, size_t err_len)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, err_len, "initrd %s: %s", path, strerror(errno));
		return -errno;
	}
	if ((uint64_t)st.st_size > mem->ram_bytes) {
		snprintf(err, err_len,
			 "initrd %s (%lld bytes) is larger than guest RAM (%llu MiB)",
			 path, (long long)st.st_size,
			 (unsigned long long)(mem->ram_bytes >> 20));
		return -EFBIG;
	}
	*bytes = (uint64_t)st.st_size;
	return 0;
}

int initrd_load(struct guest_mem *mem, const char *path,
		const struct boot_plan *plan, uint64_t limit_gpa,
		struct initrd_place *out, char *err, size_t err_len)
{
	uint64_t bytes = 0, top = low_ram_end(mem), gpa;
	void *buf = NULL;
	size_t len;
	int ret = initrd_size(path, mem, &bytes, err, err_len);

	if (ret < 0)
		return ret;
	if (limit_gpa && limit_gpa < top)
		top = limit_gpa;
	gpa = bytes < top ? (top - bytes) & ~(GUEST_PAGE_BYTES - 1) : 0;
	if (bytes >= top || gpa < plan->image_end_gpa ||
	    gpa < BOOT_AREA_END_GPA) {
		snprintf(err, err_len,
			 "initrd %s (%llu bytes) does not fit in guest RAM between the kernel (ends at 0x%llx) and 0x%llx",
			 path, (unsigned long long)bytes,
			 (unsigned long long)plan->image_end_gpa,
			 (unsigned long long)top);
		return -EFBIG;
	}
	ret = image_file_read(path, "initrd", mem->ram_bytes, &buf, &len, err,
			       err_len);
	if (ret < 0)
		return ret;
	ret = guest_mem_write(mem, gpa, buf, len);
	free(buf);
	if (ret < 0) {
		snprintf(err, err_len, "initrd %s: cannot write it at 0x%llx",
			 path, (unsigned long long)gpa);
		return ret;
	}
	*out = (struct initrd_place){ .gpa = gpa, .size_bytes = len };
	return 0;
}

int bzimage_write_boot_params(struct guest_mem *mem,
			      const struct boot_plan *plan,
			      const char *cmdline,
			      const struct initrd_place *initrd,
			      uint64_t dtb_bytes, char *err, size_t err_len)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	uint8_t zp[ZP_BYTES], sd_hdr[BZ_SETUP_DATA_HDR_BYTES];
	size_t cmd_bytes = strlen(cmdline) + 1;
	struct bzimage_boot boot = {
		.load_gpa = plan->image_start_gpa,
		.cmdline_gpa = BOOT_CMDLINE_GPA,
		.initrd_gpa = initrd ? initrd->gpa : 0,
		.initrd_bytes = initrd ? initrd->size_bytes : 0,
		.setup_data_gpa = BZ_SETUP_DTB_GPA,
		.e820 = map,
	};
	int ret;

	/* cmdline_size excludes the terminating NUL. */
	if (cmd_bytes > VM_CMDLINE_MAX ||
	    (plan->bz.cmdline_size && cmd_bytes - 1 > plan->bz.cmdline_size)) {
		snprintf(err, err_len,
			 "command line (%zu bytes) is longer than the kernel accepts (%u)",
			 cmd_bytes - 1, plan->bz.cmdline_size);
		return -E2BIG;
	}
	boot.nr_e820 = e820_from_layout(mem, map, E820_MAX_ENTRIES);
	bzimage_build_zero_page(&plan->bz, &boot, zp);
	bzimage_put_setup_data_hdr(sd_hdr, BZ_SETUP_DTB, (uint32_t)dtb_bytes);
	ret = guest_mem_write(mem, BOOT_CMDLINE_GPA, cmdline, cmd_bytes);
	ret = ret ?: guest_mem_write(mem, BZ_SETUP_DTB_GPA, sd_hdr,
				     sizeof(sd_hdr));
	ret = ret ?: guest_mem_write(mem, BZ_ZERO_PAGE_GPA, zp, sizeof(zp));
	if (ret < 0)
		snprintf(err, err_len, "cannot write the zero page: %s",
			 strerror(-ret));
	return ret;
}
