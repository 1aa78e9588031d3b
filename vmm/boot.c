// SPDX-License-Identifier: MIT
/*
 * Booting: loads the image, writes the device tree and the PVH start info,
 * and puts every vCPU at its entry point.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot_layout.h"
#include "vmm/log.h"
#include "vmm/pvh.h"
#include "vmm/vm_impl.h"
#include "vmm/x86_cpu.h"

static int write_fdt(struct vm *vm, uint64_t *fdt_bytes)
{
	static uint8_t buf[BOOT_FDT_MAX_BYTES]; /* boot runs once, unthreaded */
	struct machine_desc desc = {
		.cfg = &vm->cfg,
		.mem = &vm->mem,
		.tsc_khz = vm->tsc_khz,
		.devices = vm->devices,
		.nr_devices = vm->nr_devices,
	};
	int ret = fdt_build_machine(&desc, buf, sizeof(buf));

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
	} else {
		ret = x86_write_long_mode_tables(&vm->mem);
		ret = ret ?: x86_enter_long64(&bsp->kvm, vm->plan.entry,
					      BOOT_START_INFO_GPA);
	}
	for (unsigned int i = 1; i < vm->nr_vcpus && !ret; i++)
		ret = start_secondary(vm, &vm->vcpus[i]);
	return ret;
}

int vm_boot(struct vm *vm, char *err, size_t err_len)
{
	struct pvh_module dtb = { .gpa = BOOT_FDT_GPA, .cmdline = "dtb" };
	int ret;

	ret = loader_load(&vm->mem, vm->cfg.image_path, &vm->plan, err,
			  err_len);
	if (ret < 0)
		return ret;
	ret = kvm_get_tsc_khz(&vm->vcpus[0].kvm);
	if (ret < 0) {
		snprintf(err, err_len, "cannot read the TSC frequency: %s",
			 strerror(-ret));
		return ret;
	}
	vm->tsc_khz = (uint32_t)ret;
	ret = write_fdt(vm, &dtb.size_bytes);
	if (ret < 0) {
		snprintf(err, err_len, "cannot build the device tree: %s",
			 strerror(-ret));
		return ret;
	}
	ret = pvh_write_start_info(&vm->mem, vm->cfg.cmdline, &dtb, 1);
	if (ret < 0) {
		snprintf(err, err_len, "cannot write the boot information: %s",
			 strerror(-ret));
		return ret;
	}
	ret = set_entry_state(vm);
	if (ret < 0)
		snprintf(err, err_len, "cannot set the vCPUs' entry state: %s",
			 strerror(-ret));
	return ret;
}
