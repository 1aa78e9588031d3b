/* SPDX-License-Identifier: MIT */
/*
 * The machine's fixed sizes, which the layers of vmm/ size their tables by
 * (the dirty tracker's per-vCPU counters, the boot protocols' command line).
 * Here, at the bottom, so that none of them has to include vm_config.h.
 */
#ifndef KVMTRACK_LIMITS_H
#define KVMTRACK_LIMITS_H

#define VM_MAX_CPUS 16
#define VM_CMDLINE_MAX 2048

#endif
