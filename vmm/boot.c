// SPDX-License-Identifier: MIT
/*
 * Booting: loads the image, writes the device tree and the PVH start info,
 * and puts every vCPU at its entry point.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot/layout.h"
#include "vmm/boot/linux.h"
#include "lib/log.h"
#include "vmm/boot/mptable.h"
#include "vmm/boot/pvh.h"
#include "vmm/vm_impl.h"
#include "vmm/boot/x86_cpu.h"

int vm_build_fdt(struct vm *vm, void *buf, size_t len)
{
	struct machine_desc desc = {
		.cfg = &vm->cfg,
		.mem = &vm->mem,
		.tsc_khz = vm->tsc_khz,
		.devices = vm->devices,
		.nr_devices = vm->nr_devices,
	};

	return fdt_build_machine(&desc, buf, len);
}

static int write_fdt(struct vm *vm, uint64_t *fdt_bytes)
{
	static uint8_t buf[BOOT_FDT_MAX_BYTES]; /* boot runs once, unthreaded */
	int ret = vm_build_fdt(vm, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	*fdt_bytes = fdt_totalsize(buf);
	return guest_mem_write(&vm->mem, BOOT_FDT_GPA, buf, *fdt_bytes);
}

/* Secondary vCPUs: kvmtrack's AP entry if the image has one, else the
 * architectural wait-for-SIPI state they are created in. */
static int start_secondary(struct vm *vm, struct vcpu *vcpu)
{
	int ret;

	if (!vm->plan.has_ap_entry)
		return 0;
	/* RUNNABLE first: setting the registers of a vCPU that KVM still
	 * holds in wait-for-SIPI would be overwritten by the SIPI logic. */
	ret = kvm_set_mp_state(&vcpu->kvm, KVM_MP_STATE_RUNNABLE);
	return ret ?: x86_enter_protected32(&vcpu->kvm, vm->plan.ap_entry, 0,
					    vcpu->index);
}

static int set_entry_state(struct vm *vm)
{
	struct vcpu *bsp = &vm->vcpus[0];
	int ret;

	if (vm->plan.kind == BOOT_ENTRY_PVH32) {
		ret = x86_enter_protected32(&bsp->kvm, (uint32_t)vm->plan.entry,
					    BOOT_START_INFO_GPA, 0);
	} else if (vm->plan.kind == BOOT_ENTRY_BZIMAGE64) {
		ret = x86_write_long_mode_tables(&vm->mem);
		ret = ret ?: x86_write_linux_gdt(&vm->mem);
		ret = ret ?: x86_enter_linux64(&bsp->kvm, vm->plan.entry,
					       BZ_ZERO_PAGE_GPA);
	} else {
		ret = x86_write_long_mode_tables(&vm->mem);
		ret = ret ?: x86_enter_long64(&bsp->kvm, vm->plan.entry,
					      BOOT_START_INFO_GPA);
	}
	for (unsigned int i = 1; i < vm->nr_vcpus && !ret; i++)
		ret = start_secondary(vm, &vm->vcpus[i]);
	return ret;
}

static int load_initrd(struct vm *vm, struct initrd_place *initrd,
		       char *err, size_t err_len)
{
	/* A bzImage says how high its initrd may go; PVH kernels take any
	 * address in low RAM. */
	uint64_t limit = vm->plan.kind == BOOT_ENTRY_BZIMAGE64
				 ? (uint64_t)vm->plan.bz.initrd_addr_max + 1
				 : 0;

	if (!vm->cfg.initrd_path)
		return 0;
	return initrd_load(&vm->mem, vm->cfg.initrd_path, &vm->plan, limit,
			   initrd, err, err_len);
}

/*
 * The zero page for a bzImage, else PVH start_info with the initrd as
 * module 0 and the device tree as module 1. Linux takes module 0 as its
 * initrd whatever it is, so without an initrd module 0 is empty (size 0),
 * which Linux reads as "no initrd".
 */
static int write_boot_info(struct vm *vm, const struct initrd_place *initrd,
			   uint64_t dtb_bytes, char *err, size_t err_len)
{
	struct pvh_module mods[2];
	unsigned int nr_mods = 0;
	int ret;

	if (vm->plan.kind == BOOT_ENTRY_BZIMAGE64)
		return bzimage_write_boot_params(&vm->mem, &vm->plan,
						 vm->cfg.cmdline, initrd,
						 dtb_bytes, err, err_len);
	mods[nr_mods++] = (struct pvh_module){
		.gpa = initrd->gpa, .size_bytes = initrd->size_bytes,
	};
	mods[nr_mods++] = (struct pvh_module){
		.gpa = BOOT_FDT_GPA, .size_bytes = dtb_bytes, .cmdline = "dtb",
	};
	ret = pvh_write_start_info(&vm->mem, vm->cfg.cmdline, mods, nr_mods);
	if (ret < 0)
		snprintf(err, err_len, "cannot write the boot information: %s",
			 strerror(-ret));
	return ret;
}

int vm_boot(struct vm *vm, char *err, size_t err_len)
{
	struct initrd_place initrd = { 0 };
	uint64_t dtb_bytes;
	int ret;

	ret = loader_load(&vm->mem, vm->cfg.image_path, &vm->plan, err,
			  err_len);
	ret = ret ?: load_initrd(vm, &initrd, err, err_len);
	if (ret < 0)
		return ret;
	ret = kvm_get_tsc_khz(&vm->vcpus[0].kvm);
	if (ret < 0) {
		snprintf(err, err_len, "cannot read the TSC frequency: %s",
			 strerror(-ret));
		return ret;
	}
	vm->tsc_khz = (uint32_t)ret;
	ret = write_fdt(vm, &dtb_bytes);
	if (ret < 0) {
		snprintf(err, err_len, "cannot build the device tree: %s",
			 strerror(-ret));
		return ret;
	}
	ret = write_boot_info(vm, &initrd, dtb_bytes, err, err_len);
	if (ret < 0)
		return ret;
	ret = mptable_write(&vm->mem, vm->nr_vcpus);
	if (ret < 0) {
		snprintf(err, err_len, "cannot write the MP table: %s",
			 strerror(-ret));
		return ret;
	}
	ret = set_entry_state(vm);
	if (ret < 0)
		snprintf(err, err_len, "cannot set the vCPUs' entry state: %s",
			 strerror(-ret));
	return ret;
}
