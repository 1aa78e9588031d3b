// SPDX-License-Identifier: MIT
/*
 * Booting: loads the image, writes the device tree and the PVH start info,
 * and puts every vCPU at its entry point (see boot.h).
 */
#include "vmm/boot/boot.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "kvm/kvm.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/loader.h"
#include "vmm/boot/mptable.h"
#include "vmm/boot/pvh.h"
#include "vmm/boot/x86_cpu.h"
#include "vmm/mem/memory.h"

static int write_fdt(struct guest_mem *mem, const void *fdt,
		     uint64_t *fdt_bytes)
{
	*fdt_bytes = fdt_totalsize(fdt);
	return guest_mem_write(mem, BOOT_FDT_GPA, fdt, *fdt_bytes);
}

/* Secondary vCPUs: kvmtrack's AP entry if the image has one, else the
 * architectural wait-for-SIPI state they are created in. */
static int start_secondary(const struct boot_plan *plan, struct kvm_vcpu *vcpu,
			   unsigned int index)
{
	int ret;

	if (!plan->has_ap_entry)
		return 0;
	/* RUNNABLE first: setting the registers of a vCPU that KVM still
	 * holds in wait-for-SIPI would be overwritten by the SIPI logic. */
	ret = kvm_set_mp_state(vcpu, KVM_MP_STATE_RUNNABLE);
	return ret ?: x86_enter_protected32(vcpu, plan->ap_entry, 0, index);
}

static int set_entry_state(struct guest_mem *mem, const struct boot_config *cfg,
			   const struct boot_plan *plan)
{
	struct kvm_vcpu *bsp = cfg->vcpus[0];
	int ret;

	if (plan->kind == BOOT_ENTRY_PVH32) {
		ret = x86_enter_protected32(bsp, (uint32_t)plan->entry,
					    BOOT_START_INFO_GPA, 0);
	} else if (plan->kind == BOOT_ENTRY_BZIMAGE64) {
		ret = x86_write_long_mode_tables(mem);
		ret = ret ?: x86_write_linux_gdt(mem);
		ret = ret ?: x86_enter_linux64(bsp, plan->entry,
					       BZ_ZERO_PAGE_GPA);
	} else {
		ret = x86_write_long_mode_tables(mem);
		ret = ret ?: x86_enter_long64(bsp, plan->entry,
					      BOOT_START_INFO_GPA);
	}
	for (unsigned int i = 1; i < cfg->nr_vcpus && !ret; i++)
		ret = start_secondary(plan, cfg->vcpus[i], i);
	return ret;
}

static int load_initrd(struct guest_mem *mem, const char *path,
		       struct boot_image *img, char *err, size_t err_len)
{
	/* A bzImage says how high its initrd may go; PVH kernels take any
	 * address in low RAM. */
	uint64_t limit = img->plan.kind == BOOT_ENTRY_BZIMAGE64
				 ? (uint64_t)img->plan.bz.initrd_addr_max + 1
				 : 0;

	if (!path)
		return 0;
	return initrd_load(mem, path, &img->plan, limit, &img->initrd, err,
			   err_len);
}

/*
 * The zero page for a bzImage, else PVH start_info with the initrd as
 * module 0 and the device tree as module 1. Linux takes module 0 as its
 * initrd whatever it is, so without an initrd module 0 is empty (size 0),
 * which Linux reads as "no initrd".
 */
static int write_boot_info(struct guest_mem *mem, const char *cmdline,
			   const struct boot_image *img, uint64_t dtb_bytes,
			   char *err, size_t err_len)
{
	const struct initrd_place *initrd = &img->initrd;
	struct pvh_module mods[2];
	unsigned int nr_mods = 0;
	int ret;

	if (img->plan.kind == BOOT_ENTRY_BZIMAGE64)
		return bzimage_write_boot_params(mem, &img->plan, cmdline,
						 initrd, dtb_bytes, err,
						 err_len);
	mods[nr_mods++] = (struct pvh_module){
		.gpa = initrd->gpa, .size_bytes = initrd->size_bytes,
	};
	mods[nr_mods++] = (struct pvh_module){
		.gpa = BOOT_FDT_GPA, .size_bytes = dtb_bytes, .cmdline = "dtb",
	};
	ret = pvh_write_start_info(mem, cmdline, mods, nr_mods);
	if (ret < 0)
		snprintf(err, err_len, "cannot write the boot information: %s",
			 strerror(-ret));
	return ret;
}

int boot_load(struct guest_mem *mem, const struct boot_config *cfg,
	      struct boot_image *img, char *err, size_t err_len)
{
	int ret;

	memset(img, 0, sizeof(*img));
	ret = loader_load(mem, cfg->image_path, &img->plan, err, err_len);
	return ret ?: load_initrd(mem, cfg->initrd_path, img, err, err_len);
}

int boot_setup(struct guest_mem *mem, const struct boot_config *cfg,
	       const struct boot_image *img, const void *fdt, char *err,
	       size_t err_len)
{
	uint64_t dtb_bytes;
	int ret;

	ret = write_fdt(mem, fdt, &dtb_bytes);
	if (ret < 0) {
		snprintf(err, err_len, "cannot build the device tree: %s",
			 strerror(-ret));
		return ret;
	}
	ret = write_boot_info(mem, cfg->cmdline, img, dtb_bytes, err, err_len);
	if (ret < 0)
		return ret;
	ret = mptable_write(mem, cfg->nr_vcpus);
	if (ret < 0) {
		snprintf(err, err_len, "cannot write the MP table: %s",
			 strerror(-ret));
		return ret;
	}
	ret = set_entry_state(mem, cfg, &img->plan);
	if (ret < 0)
		snprintf(err, err_len, "cannot set the vCPUs' entry state: %s",
			 strerror(-ret));
	return ret;
}
