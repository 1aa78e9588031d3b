/* SPDX-License-Identifier: MIT */
/* What the guest runs on: CPUs, RAM, devices, found at boot. */
#ifndef KVMTRACK_GUEST_LIB_MACHINE_H
#define KVMTRACK_GUEST_LIB_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_RAM_RANGES 16

struct ram_range {
	uint64_t gpa;
	uint64_t bytes;
};

struct machine {
	bool have_dt;
	const char *cmdline;
	uint32_t nr_cpus; /* present, capped at MAX_CPUS */
	uint64_t tsc_khz; /* 0 until known */
	uint16_t serial_port;
	uint16_t debug_exit_port; /* 0: none */
	uint64_t testdev_gpa; /* 0: none */
	uint32_t nr_ram;
	struct ram_range ram[MAX_RAM_RANGES];
	uint32_t nr_reserved; /* ranges to keep out of (modules) */
	struct ram_range reserved[MAX_RAM_RANGES];
	const void *fdt; /* kvmtrack's device tree, NULL without one */
};

extern struct machine machine;
/* The GPA of the PVH start info, machine_discover's input: EBX at the
 * boot CPU's PVH entry, which entry.S stores here before any C runs. */
extern uint64_t boot_info_gpa;

/* Fills `machine` from the DT module, else from the PVH start info. */
void machine_discover(void);
/* Prints what machine_discover found. */
void machine_print(void);

#endif
