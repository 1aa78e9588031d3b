/* SPDX-License-Identifier: MIT */
/* The machine a checkpoint is of (struct ckpt_machine), read off a VM. */
#ifndef KVMTRACK_CKPT_MACHINE_H
#define KVMTRACK_CKPT_MACHINE_H

#include <stddef.h>

struct ckpt_machine;
struct vm;

/* RAM, vCPUs, command line, devices, device tree and windows of vm into
 * mc. 0 or -errno. */
int ckpt_machine_describe(struct vm *vm, struct ckpt_machine *mc);

/* The VM's devices with migration state, "name:version" each, in the
 * VM's order, as ckpt_machine.devices lists them. */
void ckpt_machine_devices(const struct vm *vm, char *buf, size_t len);

#endif
