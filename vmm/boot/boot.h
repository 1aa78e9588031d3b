/* SPDX-License-Identifier: MIT */
/*
 * Booting a VM, in two steps with the device tree in between (the VM
 * builds it, and it needs the TSC rate and the devices): boot_load() puts
 * the image and the initrd in guest memory, boot_setup() writes the device
 * tree, the boot information and the MP table, and puts every vCPU at its
 * entry point. Errors go to err, naming the cause.
 */
#ifndef KVMTRACK_BOOT_H
#define KVMTRACK_BOOT_H

#include <stddef.h>

#include "vmm/boot/linux.h"
#include "vmm/boot/plan.h"
#include "vmm/mem/limits.h"

struct guest_mem;
struct kvm_vcpu;

/* What to boot, and the vCPUs that run it. */
struct boot_config {
	const char *image_path;
	const char *initrd_path; /* NULL: no initrd */
	const char *cmdline;
	struct kvm_vcpu *vcpus[VM_MAX_CPUS]; /* the BSP first */
	unsigned int nr_vcpus;
};

/* Where boot_load() put the images and how the kernel is entered. */
struct boot_image {
	struct boot_plan plan;
	struct initrd_place initrd;
};

int boot_load(struct guest_mem *mem, const struct boot_config *cfg,
	      struct boot_image *img, char *err, size_t err_len);
/* fdt: the packed device tree (at most BOOT_FDT_MAX_BYTES). */
int boot_setup(struct guest_mem *mem, const struct boot_config *cfg,
	       const struct boot_image *img, const void *fdt, char *err,
	       size_t err_len);

#endif
