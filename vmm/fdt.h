/* SPDX-License-Identifier: MIT */
/*
 * The machine description: a flattened device tree built with libfdt
 * (layout in docs/machine.md). The guest gets it at boot; the migration
 * stream carries it so a destination can check compatibility.
 */
#ifndef KVMTRACK_FDT_H
#define KVMTRACK_FDT_H

#include <stddef.h>
#include <stdint.h>

struct vm_config;
struct guest_mem;
struct device_ops;

struct fdt_device {
	const struct device_ops *ops;
	void *state;
};

struct machine_desc {
	const struct vm_config *cfg;
	const struct guest_mem *mem;
	uint32_t tsc_khz;
	const struct fdt_device *devices;
	unsigned int nr_devices;
};

/* Builds and packs the tree into buf[0..len). 0 or -errno (-ENOSPC). */
int fdt_build_machine(const struct machine_desc *desc, void *buf, size_t len);

#endif
